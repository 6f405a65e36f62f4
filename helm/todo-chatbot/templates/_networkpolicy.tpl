{{/* Egress rules the NetworkPolicies share. */}}

{{/* DNS, wherever the cluster runs it. */}}
{{- define "todo-chatbot.networkPolicy.dns" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* The database: the in-chart PostgreSQL pod, or the external one by CIDR. */}}
{{- define "todo-chatbot.networkPolicy.database" -}}
{{- if .Values.postgresql.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "todo-chatbot.componentSelectorLabels" (dict "ctx" . "component" "database") | nindent 10 }}
  ports:
    - port: 5432
      protocol: TCP
{{- else }}
- to:
    {{- range .Values.networkPolicy.externalDatabase.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: {{ .Values.networkPolicy.externalDatabase.port }}
      protocol: TCP
{{- end }}
{{- end }}
