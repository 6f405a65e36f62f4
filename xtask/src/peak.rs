//! The release at its peak: every Deployment at its HPA's maxReplicas (its replicas without one)
//! plus the surge pods of a rolling update, every StatefulSet at its replicas, and what each pod
//! reserves:
//! - CPU requests: what the scheduler must find on a node, else the pod stays Pending. CPU limits
//!   are not counted: CPU is shared by time, so limits above the capacity only throttle.
//! - memory limits (requests where a container has none): memory cannot be taken back, so pods
//!   that may grow past what the node holds get OOM-killed or evict others.
//! - database connections: each container's DATABASE_POOL_SIZE. A migration (two connections, in
//!   an init container) ends before its pod's pool opens, so a pod never holds more than its pool.
//!
//! The values named in advice are the chart's: a workload's `app.kubernetes.io/component` label
//! is its key in values.yaml (`backend.autoscaling.maxReplicas`, `backend.resources…`), but for
//! the in-chart PostgreSQL's.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// `Deployment/todo-chatbot-backend`.
    pub name: String,
    /// The `app.kubernetes.io/component` label: the workload's key in the chart's values.
    pub component: Option<String>,
    /// The HPA's maxReplicas, else spec.replicas.
    pub replicas: u32,
    /// The HPA's minReplicas when one scales it.
    pub autoscaled_from: Option<u32>,
    /// Extra pods a rolling update starts before stopping old ones (maxSurge).
    pub surge: u32,
    /// Per pod: CPU requests (cores), memory limits (bytes), database connections.
    pub cpu: f64,
    pub memory: f64,
    pub connections: u32,
}

impl Workload {
    pub fn pods(&self) -> u32 {
        self.replicas + self.surge
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resource {
    Cpu,
    Memory,
    Connections,
}

impl Resource {
    fn per_pod(self, w: &Workload) -> f64 {
        match self {
            Resource::Cpu => w.cpu,
            Resource::Memory => w.memory,
            Resource::Connections => f64::from(w.connections),
        }
    }

    /// The chart value that sets the per-pod amount of a component.
    fn value(self, component: &str) -> String {
        match self {
            Resource::Cpu => format!("{component}.resources.requests.cpu"),
            Resource::Memory => format!("{component}.resources.limits.memory"),
            Resource::Connections => format!("{component}.databasePoolSize"),
        }
    }

    /// An amount the way the chart's values write it.
    pub fn show(self, amount: f64) -> String {
        match self {
            Resource::Cpu => format!("{}m", (amount * 1000.0).round()),
            Resource::Memory => format!("{}Mi", (amount / 1048576.0).round()),
            Resource::Connections => format!("{amount}"),
        }
    }
}

/// The workloads in `items` (Deployments, StatefulSets and the HPAs that scale them, as
/// `kubectl get -o json` lists them).
pub fn workloads(items: &[Value]) -> Vec<Workload> {
    let hpa_of = |kind: &str, name: &str| {
        items.iter().find(|i| {
            i["kind"] == "HorizontalPodAutoscaler"
                && i["spec"]["scaleTargetRef"]["kind"] == kind
                && i["spec"]["scaleTargetRef"]["name"] == name
        })
    };
    let mut found = Vec::new();
    for item in items {
        let kind = item["kind"].as_str().unwrap_or("");
        if kind != "Deployment" && kind != "StatefulSet" {
            continue;
        }
        let name = item["metadata"]["name"].as_str().unwrap_or("?");
        let spec = &item["spec"];
        let hpa = hpa_of(kind, name);
        let replicas = match hpa {
            Some(hpa) => count(&hpa["spec"]["maxReplicas"]),
            None => spec["replicas"].as_u64().map_or(1, |n| n as u32),
        };
        let pod = &spec["template"]["spec"];
        found.push(Workload {
            name: format!("{kind}/{name}"),
            component: item["metadata"]["labels"]["app.kubernetes.io/component"].as_str().map(values_key),
            replicas,
            autoscaled_from: hpa.map(|h| h["spec"]["minReplicas"].as_u64().map_or(1, |n| n as u32)),
            surge: if kind == "Deployment" { surge(&spec["strategy"], replicas) } else { 0 },
            cpu: per_pod(pod, Resource::Cpu),
            memory: per_pod(pod, Resource::Memory),
            connections: per_pod(pod, Resource::Connections) as u32,
        });
    }
    found
}

/// The values.yaml key of a component label: the chart's in-chart PostgreSQL is the `database`
/// component, configured under `postgresql`.
fn values_key(component: &str) -> String {
    match component {
        "database" => "postgresql".to_owned(),
        other => other.to_owned(),
    }
}

fn count(value: &Value) -> u32 {
    value.as_u64().map_or(1, |n| n as u32)
}

/// maxSurge of a Deployment's strategy: a count, or a percentage of the replicas rounded up;
/// Kubernetes' default is 25 %, and a Recreate strategy starts no extra pod.
fn surge(strategy: &Value, replicas: u32) -> u32 {
    if strategy["type"] == "Recreate" {
        return 0;
    }
    match &strategy["rollingUpdate"]["maxSurge"] {
        Value::Number(n) => n.as_u64().unwrap_or(0) as u32,
        Value::String(s) => match s.strip_suffix('%') {
            Some(pct) => (f64::from(replicas) * pct.parse::<f64>().unwrap_or(25.0) / 100.0).ceil() as u32,
            None => s.parse().unwrap_or(0),
        },
        _ => (f64::from(replicas) * 0.25).ceil() as u32,
    }
}

fn containers(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

fn env_value<'v>(container: &'v Value, name: &str) -> Option<&'v str> {
    containers(&container["env"]).find(|e| e["name"] == name).map(|e| e["value"].as_str().unwrap_or(""))
}

/// What one pod reserves: its containers together, or its largest init container if that is
/// more (init containers run one at a time, before the others).
fn per_pod(pod: &Value, resource: Resource) -> f64 {
    let amount = |c: &Value| match resource {
        Resource::Cpu => c["resources"]["requests"]["cpu"].as_str().and_then(parse_cpu),
        Resource::Memory => c["resources"]["limits"]["memory"]
            .as_str()
            .or(c["resources"]["requests"]["memory"].as_str())
            .and_then(parse_bytes),
        Resource::Connections => env_value(c, "DATABASE_POOL_SIZE")?.parse().ok(),
    };
    let main: f64 = containers(&pod["containers"]).filter_map(amount).sum();
    containers(&pod["initContainers"]).filter_map(amount).fold(main, f64::max)
}

/// CPU requests (cores) and memory (bytes) of the pods on a node that are not the release's
/// (`app.kubernetes.io/instance` label in its namespace): the scheduler has given those away.
/// A Pending pod holds nothing yet, a finished one nothing any more.
pub fn reserved_by_others(pods: &[Value], namespace: &str, release: &str) -> (f64, f64) {
    let others = pods.iter().filter(|p| {
        let phase = &p["status"]["phase"];
        let ours =
            p["metadata"]["namespace"] == namespace && p["metadata"]["labels"]["app.kubernetes.io/instance"] == release;
        let scheduled = p["spec"]["nodeName"].as_str().is_some_and(|n| !n.is_empty());
        !ours && scheduled && phase != "Succeeded" && phase != "Failed"
    });
    others.fold((0.0, 0.0), |(cpu, memory), p| {
        (cpu + per_pod(&p["spec"], Resource::Cpu), memory + per_pod(&p["spec"], Resource::Memory))
    })
}

/// The release's total of a resource at its peak.
pub fn total(workloads: &[Workload], resource: Resource) -> f64 {
    workloads.iter().map(|w| f64::from(w.pods()) * resource.per_pod(w)).sum()
}

/// "backend 6×200m (HPA max 5 + 1 surge), frontend 2×100m (1 + 1 surge)": where the total comes from.
pub fn breakdown(workloads: &[Workload], resource: Resource) -> String {
    workloads
        .iter()
        .filter(|w| resource.per_pod(w) > 0.0)
        .map(|w| {
            let name = w.component.as_deref().unwrap_or(&w.name);
            let max = if w.autoscaled_from.is_some() { "HPA max " } else { "" };
            let origin =
                if w.surge > 0 { format!(" ({max}{} + {} surge)", w.replicas, w.surge) } else { String::new() };
            format!("{name} {}×{}{origin}", w.pods(), resource.show(resource.per_pod(w)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to lower so that the total fits `limit`: the workload that takes the most, its pod count
/// (down to what fits, if its minimum allows) or its per-pod amount.
pub fn advice(workloads: &[Workload], resource: Resource, limit: f64) -> String {
    let over = total(workloads, resource) - limit;
    let biggest = workloads.iter().filter(|w| resource.per_pod(w) > 0.0).max_by(|a, b| {
        (f64::from(a.pods()) * resource.per_pod(a)).total_cmp(&(f64::from(b.pods()) * resource.per_pod(b)))
    });
    let Some(w) = biggest.filter(|_| over > 0.0) else { return String::new() };
    let per_pod = resource.per_pod(w);
    let Some(component) = &w.component else {
        return format!("lower the replicas or the per-pod amount of {}", w.name);
    };
    let mut ways = Vec::new();
    let fewer = (over / per_pod).ceil() as u32;
    let floor = w.autoscaled_from.unwrap_or(1).max(1);
    let replicas_value = match w.autoscaled_from {
        Some(_) => Some(format!("{component}.autoscaling.maxReplicas")),
        None if w.name.starts_with("Deployment/") => Some(format!("{component}.replicaCount")),
        None => None,
    };
    if let Some(value) = replicas_value.filter(|_| w.replicas >= floor + fewer) {
        ways.push(format!("{value} to {}", w.replicas - fewer));
    }
    // Rounded down to the unit the values use, so that the amount named does fit.
    let unit = match resource {
        Resource::Cpu => 0.001,
        Resource::Memory => 1048576.0,
        Resource::Connections => 1.0,
    };
    // (The epsilon keeps an exact fit, 175m, from flooring to 174m through float error.)
    let fitting = ((per_pod - over / f64::from(w.pods())) / unit + 1e-9).floor() * unit;
    if fitting > 0.0 {
        ways.push(format!("{} to {}", resource.value(component), resource.show(fitting)));
    } else {
        ways.push(resource.value(component));
    }
    format!("lower {}", ways.join(" or "))
}

pub fn parse_cpu(q: &str) -> Option<f64> {
    match q.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => q.parse().ok(),
    }
}

pub fn parse_bytes(q: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
        ("Pi", 1125899906842624.0),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in UNITS {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    q.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A Deployment as the chart renders it: requests/limits per container, DATABASE_POOL_SIZE
    /// in the env, a migrating init container.
    fn deployment(component: &str, cpu: &str, memory: &str, pool: Option<&str>, replicas: Option<u32>) -> Value {
        let mut env = vec![json!({"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})];
        if let Some(pool) = pool {
            env.push(json!({"name": "DATABASE_POOL_SIZE", "value": pool}));
        }
        json!({"kind": "Deployment", "metadata": {"name": format!("todo-chatbot-{component}"),
            "labels": {"app.kubernetes.io/component": component}},
            "spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {"spec": {
                    "initContainers": [{"name": "migrate", "env": [{"name": "DATABASE_URL", "value": "x"}],
                        "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "128Mi"}}}],
                    "containers": [{"name": component, "env": env,
                        "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": "1", "memory": memory}}}]}}}})
    }

    fn hpa(component: &str, min: u32, max: u32) -> Value {
        json!({"kind": "HorizontalPodAutoscaler", "spec": {"minReplicas": min, "maxReplicas": max,
            "scaleTargetRef": {"kind": "Deployment", "name": format!("todo-chatbot-{component}")}}})
    }

    fn postgres() -> Value {
        json!({"kind": "StatefulSet", "metadata": {"name": "todo-chatbot-postgresql", "labels": {"app.kubernetes.io/component": "database"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "postgresql",
                "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}}}]}}}})
    }

    /// values-dev.yaml's release: backend 2–5 (HPA), one frontend, the in-chart PostgreSQL.
    fn dev() -> Vec<Workload> {
        workloads(&[
            deployment("backend", "200m", "512Mi", Some("13"), None),
            hpa("backend", 2, 5),
            deployment("frontend", "100m", "256Mi", Some("5"), Some(1)),
            postgres(),
        ])
    }

    #[test]
    fn the_peak_counts_hpa_max_and_surge_pods_not_the_running_ones() {
        let w = dev();
        assert_eq!(
            w.iter().map(|w| (w.name.as_str(), w.pods())).collect::<Vec<_>>(),
            [
                ("Deployment/todo-chatbot-backend", 6),
                ("Deployment/todo-chatbot-frontend", 2),
                ("StatefulSet/todo-chatbot-postgresql", 1),
            ]
        );
        assert!((total(&w, Resource::Cpu) - (6.0 * 0.2 + 2.0 * 0.1 + 0.1)).abs() < 1e-9);
        assert_eq!(total(&w, Resource::Memory), (6.0 * 512.0 + 2.0 * 256.0 + 256.0) * 1048576.0);
        // 6 backends × 13 + 2 frontends × 5; the migration (init container) ends before the pool opens.
        assert_eq!(total(&w, Resource::Connections), 88.0);
        assert_eq!(
            breakdown(&w, Resource::Cpu),
            "backend 6×200m (HPA max 5 + 1 surge), frontend 2×100m (1 + 1 surge), postgresql 1×100m"
        );
        assert_eq!(
            breakdown(&w, Resource::Connections),
            "backend 6×13 (HPA max 5 + 1 surge), frontend 2×5 (1 + 1 surge)"
        );
    }

    #[test]
    fn an_init_container_larger_than_the_app_sets_the_pod_amount() {
        let w = workloads(&[deployment("backend", "50m", "64Mi", None, Some(1))]);
        assert_eq!(w[0].cpu, 0.1);
        assert_eq!(w[0].memory, 128.0 * 1048576.0);
        assert_eq!(w[0].connections, 0);
    }

    #[test]
    fn other_pods_reserve_their_requests_and_the_release_and_finished_pods_nothing() {
        let pod = |namespace: &str, instance: &str, phase: &str, resources: Value| {
            let node = if phase == "Pending" { "" } else { "node-1" };
            json!({"metadata": {"namespace": namespace, "labels": {"app.kubernetes.io/instance": instance}},
                "status": {"phase": phase}, "spec": {"nodeName": node, "containers": [{"resources": resources}]}})
        };
        let pods = [
            // Minikube's API server: a request, no limit.
            pod("kube-system", "", "Running", json!({"requests": {"cpu": "250m", "memory": "100Mi"}})),
            pod(
                "kube-system",
                "",
                "Running",
                json!({"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}}),
            ),
            pod("todo-chatbot", "todo-chatbot", "Running", json!({"requests": {"cpu": "4"}})),
            pod("other", "todo-chatbot", "Running", json!({"requests": {"cpu": "1"}})),
            pod("kube-system", "", "Succeeded", json!({"requests": {"cpu": "8"}})),
            // Unschedulable: on no node, so it takes nothing from the release.
            pod("default", "", "Pending", json!({"requests": {"cpu": "64"}})),
        ];
        let (cpu, memory) = reserved_by_others(&pods, "todo-chatbot", "todo-chatbot");
        assert!((cpu - 1.35).abs() < 1e-9, "{cpu}");
        assert_eq!(memory, 270.0 * 1048576.0);
    }

    #[test]
    fn surge_follows_the_strategy() {
        assert_eq!(surge(&json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}}), 5), 2);
        assert_eq!(surge(&json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}), 5), 2);
        assert_eq!(surge(&json!({"type": "RollingUpdate"}), 10), 3);
        assert_eq!(surge(&json!({"type": "Recreate"}), 10), 0);
    }

    #[test]
    fn advice_names_the_value_to_lower_and_to_what() {
        let w = dev();
        // 1.5 CPU of requests at the peak against 1 CPU: the backend's 1.2 is the most.
        assert_eq!(
            advice(&w, Resource::Cpu, 1.0),
            "lower backend.autoscaling.maxReplicas to 2 or backend.resources.requests.cpu to 116m"
        );
        // 3,840 Mi of limits against 2,048 Mi: four fewer backend pods would go below the HPA's
        // minimum, so only the per-pod value is named.
        assert_eq!(advice(&w, Resource::Memory, 2048.0 * 1048576.0), "lower backend.resources.limits.memory to 213Mi");
        assert_eq!(advice(&w, Resource::Connections, 40.0), "lower backend.databasePoolSize to 5");
        assert_eq!(advice(&w, Resource::Memory, 1e12), "", "nothing to lower when it fits");
        let fixed = workloads(&[deployment("frontend", "500m", "256Mi", None, Some(4))]);
        assert_eq!(
            advice(&fixed, Resource::Cpu, 1.0),
            "lower frontend.replicaCount to 1 or frontend.resources.requests.cpu to 200m"
        );
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_cpu("500m"), Some(0.5));
        assert_eq!(parse_cpu("2"), Some(2.0));
        assert_eq!(parse_bytes("512Mi"), Some(536_870_912.0));
        assert_eq!(parse_bytes("1G"), Some(1e9));
        assert_eq!(parse_bytes("4096"), Some(4096.0));
    }
}
