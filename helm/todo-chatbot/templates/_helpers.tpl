{{/*
Names, labels and the values every template shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name (at most 63 characters, DNS label rules): fullnameOverride,
else the release name when it already contains the chart name, else "<release>-<chart>".
*/}}
{{- define "todo-chatbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource: Kubernetes' recommended name, instance, version and managed-by, plus the chart and part-of. */}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" . }}
{{ include "todo-chatbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "todo-chatbot.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the release's pods. */}}
{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component's resources. Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.componentLabels" -}}
{{ include "todo-chatbot.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector of one component's pods: (dict "ctx" $ "component" "backend"). */}}
{{- define "todo-chatbot.componentSelectorLabels" -}}
{{ include "todo-chatbot.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-chatbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "repository:tag" of a component's image, the tag defaulting to the chart's appVersion. */}}
{{- define "todo-chatbot.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag | toString) }}
{{- end }}

{{/* Name of the Secret holding DATABASE_URL, BETTER_AUTH_SECRET and OPENAI_API_KEY. */}}
{{- define "todo-chatbot.secretName" -}}
{{- default (printf "%s-secrets" (include "todo-chatbot.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* Names of the in-chart PostgreSQL's Service and password Secret. */}}
{{- define "todo-chatbot.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "todo-chatbot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The Secret holding the Ingress's certificate: ingress.tls.secretName, else (with a cert-manager
issuer, which creates it) "<fullname>-tls".
*/}}
{{- define "todo-chatbot.ingressTlsSecret" -}}
{{- default (printf "%s-tls" (include "todo-chatbot.fullname" .)) .Values.ingress.tls.secretName }}
{{- end }}

{{/* In-cluster URLs of the two services. */}}
{{- define "todo-chatbot.backendUrl" -}}
{{- printf "http://%s-backend:%v" (include "todo-chatbot.fullname" .) .Values.backend.service.port }}
{{- end }}
{{- define "todo-chatbot.frontendUrl" -}}
{{- printf "http://%s-frontend:%v" (include "todo-chatbot.fullname" .) .Values.frontend.service.port }}
{{- end }}

{{/* JWT issuer and audience: the same value on both sides, app.publicUrl unless set. */}}
{{- define "todo-chatbot.jwtIssuer" -}}
{{- default .Values.app.publicUrl .Values.app.jwt.issuer }}
{{- end }}
{{- define "todo-chatbot.jwtAudience" -}}
{{- default .Values.app.publicUrl .Values.app.jwt.audience }}
{{- end }}

{{/* A comma-separated origin list that always starts with app.publicUrl: (dict "ctx" $ "extra" list). */}}
{{- define "todo-chatbot.origins" -}}
{{- prepend .extra .ctx.Values.app.publicUrl | uniq | join "," }}
{{- end }}

{{/*
Environment variables that carry DATABASE_URL (and, with the in-chart PostgreSQL, the password it
is built from: Kubernetes expands $(POSTGRESQL_PASSWORD) because it is defined first).
*/}}
{{- define "todo-chatbot.databaseEnv" -}}
{{- if .Values.postgresql.enabled -}}
- name: POSTGRESQL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "todo-chatbot.postgresql.fullname" . }}
      key: password
- name: DATABASE_URL
  value: {{ printf "postgresql://%s:$(POSTGRESQL_PASSWORD)@%s:%v/%s" .Values.postgresql.auth.username (include "todo-chatbot.postgresql.fullname" .) .Values.postgresql.service.port .Values.postgresql.auth.database | quote }}
{{- else -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "todo-chatbot.secretName" . }}
      key: DATABASE_URL
{{- end }}
{{- end }}

{{/*
The ConfigMaps' data. Helpers, not files, so the Deployments hash exactly what their pods read.
*/}}
{{- define "todo-chatbot.backendConfig" -}}
ENVIRONMENT: {{ .Values.app.environment | quote }}
DEBUG: {{ .Values.app.debug | toString | quote }}
LOG_LEVEL: {{ .Values.app.logLevel | quote }}
CORS_ORIGINS: {{ include "todo-chatbot.origins" (dict "ctx" . "extra" .Values.app.corsOrigins) | quote }}
# The backend fetches the JWT signing keys from the frontend inside the cluster.
BETTER_AUTH_URL: {{ include "todo-chatbot.frontendUrl" . | quote }}
JWT_ISSUER: {{ include "todo-chatbot.jwtIssuer" . | quote }}
JWT_AUDIENCE: {{ include "todo-chatbot.jwtAudience" . | quote }}
{{- with .Values.app.openai.model }}
OPENAI_MODEL: {{ . | quote }}
{{- end }}
{{- with .Values.app.openai.baseUrl }}
OPENAI_BASE_URL: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "todo-chatbot.frontendConfig" -}}
ENVIRONMENT: {{ .Values.app.environment | quote }}
# Read at run time by the server-side proxy: one image serves every environment.
BACKEND_URL: {{ include "todo-chatbot.backendUrl" . | quote }}
# What the browser opens; Better Auth checks request origins against it.
BETTER_AUTH_URL: {{ .Values.app.publicUrl | quote }}
BETTER_AUTH_TRUSTED_ORIGINS: {{ include "todo-chatbot.origins" (dict "ctx" . "extra" .Values.app.trustedOrigins) | quote }}
{{- with .Values.app.trustedProxies }}
# Proxies whose X-Forwarded-For entries name the client the sign-in limit counts.
TRUSTED_PROXIES: {{ join "," . | quote }}
{{- end }}
JWT_ISSUER: {{ include "todo-chatbot.jwtIssuer" . | quote }}
JWT_AUDIENCE: {{ include "todo-chatbot.jwtAudience" . | quote }}
# Next.js binds to $HOSTNAME, which the kubelet sets to the pod name: listen on every address.
HOSTNAME: "0.0.0.0"
PORT: "3000"
{{- end }}

{{/*
What the pods' checksum/secret hashes: the secret values the user gave. Generated values never
change after the first install, and existingSecret is outside the chart's view.
*/}}
{{- define "todo-chatbot.secretChecksum" -}}
{{- toJson .Values.secrets | sha256sum }}
{{- end }}

{{/* Volumes and mounts for a writable /tmp on a read-only root filesystem. */}}
{{- define "todo-chatbot.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
{{- define "todo-chatbot.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
A component's affinity: its own `affinity` if set, else the podAntiAffinityPreset that keeps its
replicas on different nodes. Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.affinity" -}}
{{- $c := index .ctx.Values .component }}
{{- if $c.affinity }}
{{- toYaml $c.affinity }}
{{- else if eq $c.podAntiAffinityPreset "soft" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "todo-chatbot.componentSelectorLabels" . | nindent 12 }}
{{- else if eq $c.podAntiAffinityPreset "hard" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "todo-chatbot.componentSelectorLabels" . | nindent 10 }}
{{- end }}
{{- end }}

{{/*
The preStop pause before SIGTERM: (dict "ctx" $ "seconds" N). The native sleep action from
Kubernetes 1.30 on; before that an exec of the image's `sleep` (both images have coreutils),
chosen from the cluster's version (`helm template --kube-version` sets it offline).
*/}}
{{- define "todo-chatbot.preStop" -}}
lifecycle:
  preStop:
    {{- if semverCompare ">=1.30.0-0" .ctx.Capabilities.KubeVersion.Version }}
    sleep:
      seconds: {{ .seconds }}
    {{- else }}
    exec:
      command: ["sleep", {{ .seconds | quote }}]
    {{- end }}
{{- end }}

{{/*
Checks that fail the render naming every value to set, all at once (Bitnami's validateValues
pattern): each check adds its message to a list, and one `fail` prints them all. Every template
that renders pods includes this, so `helm template`, `helm install` and `helm lint` all stop.
*/}}
{{- define "todo-chatbot.validate" -}}
{{- /* A name from the original plan explains the problems it causes: it comes first. */}}
{{- $problems := include "todo-chatbot.seedNames" . | fromYamlArray }}
{{- $v := .Values }}
{{- $env := $v.app.environment }}
{{- $external := or $v.secrets.databaseUrl $v.existingSecret }}
{{- if eq $env "production" }}
{{- if not $external }}
{{- $problems = append $problems "secrets.databaseUrl is required in production (app.environment=production): pass --set secrets.databaseUrl='postgresql://USER:PASSWORD@HOST/DB?sslmode=require' (e.g. Neon's direct URL), or name a Secret holding DATABASE_URL in existingSecret" }}
{{- end }}
{{- if $v.postgresql.enabled }}
{{- $problems = append $problems "postgresql.enabled must be false in production (app.environment=production): the in-chart PostgreSQL is a single pod; set secrets.databaseUrl to a managed database" }}
{{- end }}
{{- else if not (or $external $v.postgresql.enabled) }}
{{- $problems = append $problems "no database: set secrets.databaseUrl (an external PostgreSQL), existingSecret (a Secret holding DATABASE_URL), or postgresql.enabled=true (the in-chart PostgreSQL, see values-dev.yaml)" }}
{{- end }}
{{- if and (ne $env "development") (not (or $v.secrets.betterAuthSecret $v.existingSecret)) }}
{{- $problems = append $problems (printf "secrets.betterAuthSecret is required in %s (app.environment=%s): pass --set secrets.betterAuthSecret=\"$(openssl rand -base64 32)\", or name a Secret holding BETTER_AUTH_SECRET in existingSecret" $env $env) }}
{{- end }}
{{- if not $v.app.publicUrl }}
{{- $problems = append $problems "app.publicUrl is required: the URL users open (e.g. https://todo.example.com); it is the tokens' issuer and audience and makes cookies Secure when https" }}
{{- end }}
{{- if and $v.ingress.enabled $v.app.publicUrl }}
{{- $url := urlParse $v.app.publicUrl }}
{{- if or (regexMatch "^[0-9.]+$" $url.hostname) (contains ":" $url.hostname) }}
{{- $problems = append $problems (printf "ingress.enabled needs a DNS name in app.publicUrl, not the IP address %s: an Ingress routes by host name. Point a name at the controller's address and set app.publicUrl to it, or reach the IP through the frontend Service (frontend.service.type=NodePort or LoadBalancer) with ingress.enabled=false" $url.hostname) }}
{{- end }}
{{- if and (eq $url.scheme "https") $v.ingress.tls.enabled (not (or $v.ingress.tls.secretName $v.ingress.tls.certManager.issuer)) }}
{{- $problems = append $problems (printf "ingress.tls.secretName or ingress.tls.certManager.issuer is required for %s: name a kubernetes.io/tls Secret holding the certificate for %s (kubectl create secret tls NAME --cert=… --key=…), or a cert-manager issuer that creates it; or set ingress.tls.enabled=false when TLS ends in front of the Ingress" $v.app.publicUrl $url.hostname) }}
{{- end }}
{{- end }}
{{- range $component := list "backend" "frontend" }}
{{- $c := index $v $component }}
{{- if le (int $c.terminationGracePeriodSeconds) (add $c.preStopSleepSeconds $c.drainSeconds | int) }}
{{- $problems = append $problems (printf "%s.terminationGracePeriodSeconds (%v) must exceed %s.preStopSleepSeconds + %s.drainSeconds (%v), else the kubelet kills requests still in flight" $component $c.terminationGracePeriodSeconds $component $component (add $c.preStopSleepSeconds $c.drainSeconds)) }}
{{- end }}
{{- if eq (toString $c.image.tag) "latest" }}
{{- $problems = append $problems (printf "%s.image.tag must not be latest: it makes Kubernetes pull on every start (ErrImagePull offline); use the tag `cargo xtask build` printed, or leave it empty for the chart's appVersion" $component) }}
{{- end }}
{{- if and $c.autoscaling.enabled (gt (int $c.autoscaling.minReplicas) (int $c.autoscaling.maxReplicas)) }}
{{- $problems = append $problems (printf "%s.autoscaling.minReplicas (%v) must not exceed %s.autoscaling.maxReplicas (%v)" $component $c.autoscaling.minReplicas $component $c.autoscaling.maxReplicas) }}
{{- end }}
{{- end }}
{{- $problems = concat $problems (include "todo-chatbot.connectionProblems" . | fromYamlArray) }}
{{- if $problems }}
{{- fail (printf "\n\nVALUES VALIDATION (%d problems):\n- %s" (len $problems) (join "\n- " $problems)) }}
{{- end }}
{{- end }}

{{/*
The names the project's original plan gave some values (`--set secrets.DATABASE_URL=…`,
backend.replicas, backend.hpa.enabled): values.schema.json lets them through so that this list
can name the chart's key for each, as a YAML list of messages.
*/}}
{{- define "todo-chatbot.seedNames" -}}
{{- $renamed := dict
  "secrets.DATABASE_URL" "secrets.databaseUrl"
  "secrets.BETTER_AUTH_SECRET" "secrets.betterAuthSecret"
  "secrets.OPENAI_API_KEY" "secrets.openaiApiKey"
  "backend.replicas" "backend.replicaCount"
  "backend.hpa" "backend.autoscaling (enabled, minReplicas, maxReplicas, targetCPUUtilizationPercentage)"
  "backend.env" "app.environment, app.debug, app.corsOrigins (ENVIRONMENT, DEBUG, CORS_ORIGINS), or backend.extraEnv for other variables"
  "frontend.replicas" "frontend.replicaCount"
  "frontend.hpa" "frontend.autoscaling (enabled, minReplicas, maxReplicas, targetCPUUtilizationPercentage)"
  "frontend.env" "frontend.extraEnv (the backend's URL is set by the chart, read at run time)"
}}
{{- $messages := list }}
{{- range $seed := keys $renamed | sortAlpha }}
{{- $parts := splitList "." $seed }}
{{- if hasKey (index $.Values (first $parts)) (last $parts) }}
{{- $messages = append $messages (printf "%s is not a value of this chart: use %s" $seed (index $renamed $seed)) }}
{{- end }}
{{- end }}
{{- toYaml $messages }}
{{- end }}

{{/*
Pods a component may run at once, with where the count comes from: its HPA's maxReplicas (else
replicaCount) plus the one surge pod of a rolling update (both Deployments have maxSurge 1).
(dict "ctx" $ "component" "backend") → {pods: 11, origin: "backend.autoscaling.maxReplicas 10 + 1 surge"}
*/}}
{{- define "todo-chatbot.peakPods" -}}
{{- $c := index .ctx.Values .component }}
{{- $key := ternary "autoscaling.maxReplicas" "replicaCount" $c.autoscaling.enabled }}
{{- $n := ternary $c.autoscaling.maxReplicas $c.replicaCount $c.autoscaling.enabled | int }}
{{- dict "pods" (add $n 1) "origin" (printf "%s.%s %d + 1 surge" .component $key $n) | toJson }}
{{- end }}

{{/*
DATABASE_POOL_SIZE of each backend pod: backend.databasePoolSize, else what database.maxConnections
leaves after the frontend's peak, shared by the backend's peak pods, at most 15 (what one busy
process keeps in use). The validation refuses less than 2.
*/}}
{{- define "todo-chatbot.backendPoolSize" -}}
{{- $v := .Values }}
{{- if $v.backend.databasePoolSize }}
{{- $v.backend.databasePoolSize | int }}
{{- else }}
{{- $backend := include "todo-chatbot.peakPods" (dict "ctx" . "component" "backend") | fromJson }}
{{- $frontend := include "todo-chatbot.peakPods" (dict "ctx" . "component" "frontend") | fromJson }}
{{- $left := sub (int $v.database.maxConnections) (mul (int $frontend.pods) (int $v.frontend.databasePoolSize)) }}
{{- max 0 (min 15 (div $left (int $backend.pods))) }}
{{- end }}
{{- end }}

{{/*
The connection budget's problems, as a YAML list: the release at its peak (every pod of both
Deployments, each pool full) must fit database.maxConnections, with at least 2 per backend pod.
*/}}
{{- define "todo-chatbot.connectionProblems" -}}
{{- $v := .Values }}
{{- $problems := list }}
{{- $budget := int $v.database.maxConnections }}
{{- $backend := include "todo-chatbot.peakPods" (dict "ctx" . "component" "backend") | fromJson }}
{{- $frontend := include "todo-chatbot.peakPods" (dict "ctx" . "component" "frontend") | fromJson }}
{{- $backendPods := int $backend.pods }}
{{- $frontendPool := int $v.frontend.databasePoolSize }}
{{- $frontendPeak := mul (int $frontend.pods) $frontendPool }}
{{- $pool := include "todo-chatbot.backendPoolSize" . | int }}
{{- $peak := add (mul $backendPods $pool) $frontendPeak }}
{{- $backendText := printf "%d backend pods (%s)" $backendPods $backend.origin }}
{{- $frontendText := printf "%d frontend pods (%s) × %d (frontend.databasePoolSize)" (int $frontend.pods) $frontend.origin $frontendPool }}
{{- /* The most backend pods the budget holds at 2 connections each, as an HPA maximum or a replica count. */}}
{{- $fitting := sub (div (sub $budget $frontendPeak) 2) 1 }}
{{- $lower := ternary "backend.autoscaling.maxReplicas" "backend.replicaCount" $v.backend.autoscaling.enabled }}
{{- if and (not $v.backend.databasePoolSize) (lt $pool 2) }}
{{- $ways := list (include "todo-chatbot.raiseBudget" (dict "ctx" . "to" (add (mul $backendPods 2) $frontendPeak))) }}
{{- if ge $fitting 1 }}
{{- $ways = append $ways (printf "lower %s to %d" $lower $fitting) }}
{{- end }}
{{- $frontendFits := div (sub $budget (mul $backendPods 2)) (int $frontend.pods) }}
{{- if ge $frontendFits 1 }}
{{- $ways = append $ways (printf "lower frontend.databasePoolSize to %d" $frontendFits) }}
{{- end }}
{{- $problems = append $problems (printf "database.maxConnections (%d) leaves %d per backend pod at the release's peak, and each needs at least 2 (its migration holds two): %s beside %s; %s" $budget $pool $backendText $frontendText (join ", or " $ways)) }}
{{- else if gt $peak $budget }}
{{- $left := div (sub $budget $frontendPeak) $backendPods }}
{{- $ways := list }}
{{- if ge $left 2 }}
{{- $ways = append $ways (printf "lower backend.databasePoolSize to %d (or leave it empty: it is then sized from database.maxConnections)" $left) }}
{{- else if ge (sub (div (sub $budget $frontendPeak) $pool) 1) 1 }}
{{- $ways = append $ways (printf "lower %s to %d" $lower (sub (div (sub $budget $frontendPeak) $pool) 1)) }}
{{- end }}
{{- $frontendFits := div (sub $budget (mul $backendPods $pool)) (int $frontend.pods) }}
{{- if and (ge $frontendFits 1) (lt $frontendFits $frontendPool) }}
{{- $ways = append $ways (printf "lower frontend.databasePoolSize to %d" $frontendFits) }}
{{- end }}
{{- if not $ways }}
{{- $ways = append $ways "lower backend.databasePoolSize and frontend.databasePoolSize" }}
{{- end }}
{{- $ways = append $ways (include "todo-chatbot.raiseBudget" (dict "ctx" . "to" $peak)) }}
{{- $problems = append $problems (printf "the release's peak of %d database connections exceeds database.maxConnections (%d): %s × %d (backend.databasePoolSize) + %s; %s" $peak $budget $backendText $pool $frontendText (join ", or " $ways)) }}
{{- end }}
{{- if and $v.postgresql.enabled (gt $budget (int $v.postgresql.maxConnections)) }}
{{- $problems = append $problems (printf "database.maxConnections (%d) exceeds what the in-chart PostgreSQL accepts (postgresql.maxConnections, %d): lower database.maxConnections to %d or raise postgresql.maxConnections to %d" $budget (int $v.postgresql.maxConnections) (int $v.postgresql.maxConnections) $budget) }}
{{- end }}
{{- toYaml $problems }}
{{- end }}

{{/*
"raise database.maxConnections to N", with the server's limit when it must rise too: the in-chart
PostgreSQL's postgresql.maxConnections when N exceeds it, an external server's max_connections.
(dict "ctx" $ "to" 88)
*/}}
{{- define "todo-chatbot.raiseBudget" -}}
{{- $v := .ctx.Values }}
{{- $to := int .to }}
{{- if not $v.postgresql.enabled }}
{{- printf "raise database.maxConnections to %d (and the server's max_connections with it)" $to }}
{{- else if gt $to (int $v.postgresql.maxConnections) }}
{{- printf "raise database.maxConnections and postgresql.maxConnections to %d" $to }}
{{- else }}
{{- printf "raise database.maxConnections to %d" $to }}
{{- end }}
{{- end }}
