//! Each failing pod's reason and the command or value that fixes it, read from one snapshot.

use serde_json::Value;

use super::{Finding, Snapshot};
use crate::{
    cluster::Cluster,
    config::{Config, EnvironmentKind},
};

/// A crash loop is reported as final after this many restarts: one crash can be a slow
/// dependency, a second one with the same code is the container's own.
const CRASH_RESTARTS: u64 = 2;

/// How to fix what is wrong, in the terms of this project's configuration.
pub struct Hints<'a> {
    pub config: &'a Config,
    pub kind: &'a EnvironmentKind,
    pub env_name: &'a str,
}

impl<'a> Hints<'a> {
    pub fn of(cluster: &Cluster<'a>) -> Hints<'a> {
        Hints { config: cluster.config, kind: &cluster.env.kind, env_name: &cluster.env.name }
    }

    fn namespace(&self) -> &str {
        &self.config.release.namespace
    }

    /// The values key of a pod's component (`backend`, `frontend`, `postgresql`).
    pub(super) fn values_key(pod: &Value) -> String {
        match pod["metadata"]["labels"]["app.kubernetes.io/component"].as_str() {
            Some("database") => "postgresql".into(),
            Some(component) => component.into(),
            None => "<component>".into(),
        }
    }

    fn load_command(&self, image: &str) -> String {
        match self.kind {
            EnvironmentKind::Minikube { profile } => format!("minikube -p {profile} image load {image}"),
            EnvironmentKind::Kind { cluster } => format!("kind load docker-image {image} --name {cluster}"),
            EnvironmentKind::Kube { load } => load
                .iter()
                .map(|a| {
                    if a == "{images}" || a.contains("{image}") {
                        a.replace("{images}", image).replace("{image}", image)
                    } else {
                        a.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    fn image_fix(&self, pod: &Value, image: &str) -> String {
        let (repository, tag) = image.rsplit_once(':').unwrap_or((image, ""));
        let repository = repository.strip_prefix("docker.io/library/").unwrap_or(repository);
        let ours = self.config.images.iter().find(|i| i.name == repository);
        match ours.and_then(|i| self.config.release.images.get(&i.key)) {
            Some(prefix) => format!(
                "`{prefix}.tag` is {tag}, which the node does not have: `cargo xtask up --env {}` sets it to the \
                 image it builds and loads, so remove the override of `{prefix}.tag` (infra.toml's `set` or a values \
                 file); an image built elsewhere goes in with `{}`",
                self.env_name,
                self.load_command(image)
            ),
            None => format!(
                "put {image} on the node (`{}`) or point `{}.image` at an image it can pull",
                self.load_command(image),
                Self::values_key(pod)
            ),
        }
    }
}

/// The Deployment revision (`deployment.kubernetes.io/revision`) of a ReplicaSet.
fn revision(replica_set: &Value) -> u64 {
    replica_set["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Whether `pod` belongs to an older revision of its Deployment: a rollout replaces it, so its
/// state says nothing about the release being installed (the broken pods of a failed `up`
/// stay until the fixed revision is Ready, and must not stop the `up` that fixes them).
fn superseded(pod: &Value, replica_sets: &[Value]) -> bool {
    let owner = |object: &Value, kind: &str| {
        object["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["kind"] == kind))
            .and_then(|r| r["name"].as_str().map(str::to_owned))
    };
    let Some(own_set) = owner(pod, "ReplicaSet") else { return false };
    let Some(set) = replica_sets.iter().find(|r| r["metadata"]["name"] == own_set.as_str()) else { return false };
    let Some(deployment) = owner(set, "Deployment") else { return false };
    let newest = replica_sets
        .iter()
        .filter(|r| owner(r, "Deployment").as_deref() == Some(deployment.as_str()))
        .map(revision)
        .max()
        .unwrap_or(0);
    revision(set) < newest
}

/// Every reason the pods in `snapshot` are not Ready, worst first. Pods of a Deployment's
/// older revisions are left out.
pub fn findings(snapshot: &Snapshot, hints: &Hints<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in &snapshot.pods {
        if pod["metadata"]["deletionTimestamp"].is_string()
            || pod["status"]["phase"] == "Succeeded"
            || superseded(pod, &snapshot.replica_sets)
        {
            continue;
        }
        let name = pod["metadata"]["name"].as_str().unwrap_or("?").to_owned();
        if let Some(finding) = unschedulable(pod, &name, snapshot, hints) {
            out.push(finding);
            continue;
        }
        let spec_of = |list: &str, c: &str| {
            pod["spec"][list].as_array().and_then(|l| l.iter().find(|s| s["name"] == c)).cloned().unwrap_or_default()
        };
        for (list, statuses, label) in [
            ("initContainers", "initContainerStatuses", "init container"),
            ("containers", "containerStatuses", "container"),
        ] {
            for status in pod["status"][statuses].as_array().into_iter().flatten() {
                let container = status["name"].as_str().unwrap_or("?");
                let spec = spec_of(list, container);
                if let Some(f) = container_finding(pod, &name, &format!("{label} {container}"), status, &spec, hints) {
                    out.push(f);
                }
            }
        }
    }
    out.sort_by_key(|f| !f.fatal);
    out
}

fn container_finding(
    pod: &Value,
    name: &str,
    subject: &str,
    status: &Value,
    spec: &Value,
    hints: &Hints<'_>,
) -> Option<Finding> {
    let container = status["name"].as_str().unwrap_or("?");
    let image = status["image"].as_str().or(spec["image"].as_str()).unwrap_or("?").to_owned();
    let restarts = status["restartCount"].as_u64().unwrap_or(0);
    let last = &status["lastState"]["terminated"];
    let finding = |reason: String, fix: String, fatal: bool, logs: bool| Finding {
        pod: name.to_owned(),
        subject: subject.to_owned(),
        reason,
        fix,
        fatal,
        logs_of: logs.then(|| container.to_owned()),
    };
    let key = Hints::values_key(pod);
    let ns = hints.namespace();
    if let Some(waiting) = status["state"]["waiting"].as_object() {
        let reason = waiting.get("reason").and_then(Value::as_str).unwrap_or("Waiting");
        let message = waiting.get("message").and_then(Value::as_str).unwrap_or("");
        return match reason {
            "ErrImageNeverPull" | "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => Some(finding(
                format!("{reason}: {image}{}", if message.is_empty() { String::new() } else { format!(" ({})", first_line(message)) }),
                hints.image_fix(pod, &image),
                // A failed pull is final: a retry asks the same registry for the same tag
                // (ImagePullBackOff, ten seconds on, says no more).
                true,
                false,
            )),
            "CrashLoopBackOff" => {
                let code = last["exitCode"].as_i64().map_or(String::new(), |c| format!(", exit code {c}"));
                let oom = last["reason"] == "OOMKilled";
                let fix = if oom {
                    format!(
                        "it ran out of memory: raise `{key}.resources.limits.memory` (now {}) and the request with it",
                        spec["resources"]["limits"]["memory"].as_str().unwrap_or("unset")
                    )
                } else {
                    format!(
                        "the container exits on its own: its last log lines are above (all of them: `kubectl -n {ns} logs {name} -c {container} --previous`)"
                    )
                };
                Some(finding(
                    format!(
                        "CrashLoopBackOff{}{code}, restarted {restarts} time{}",
                        if oom { " (OOMKilled)" } else { "" },
                        if restarts == 1 { "" } else { "s" }
                    ),
                    fix,
                    restarts >= CRASH_RESTARTS,
                    true,
                ))
            }
            "CreateContainerConfigError" | "CreateContainerError" => Some(finding(
                format!("{reason}: {}", first_line(message)),
                format!("a Secret or ConfigMap the pod reads is missing or lacks a key: `kubectl -n {ns} describe pod {name}`"),
                false,
                false,
            )),
            // ContainerCreating, PodInitializing: on its way.
            _ => None,
        };
    }
    if let Some(terminated) = status["state"]["terminated"].as_object() {
        let code = terminated.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
        if code == 0 {
            return None;
        }
        let reason = terminated.get("reason").and_then(Value::as_str).unwrap_or("Error");
        return Some(finding(
            format!("terminated: {reason}, exit code {code}"),
            format!("see its last log lines above (`kubectl -n {ns} logs {name} -c {container}`)"),
            false,
            true,
        ));
    }
    None
}

/// A pod the scheduler can't place: its reason, and whether any node could ever fit it.
fn unschedulable(pod: &Value, name: &str, snapshot: &Snapshot, hints: &Hints<'_>) -> Option<Finding> {
    let condition = pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "PodScheduled" && c["status"] == "False" && c["reason"] == "Unschedulable")?;
    let message = condition["message"].as_str().unwrap_or("the scheduler found no node").trim().to_owned();
    let key = Hints::values_key(pod);
    let mut fixes = Vec::new();
    let mut impossible = false;
    for (resource, unit) in [("cpu", "CPUs"), ("memory", "bytes")] {
        let requested: f64 = pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["resources"]["requests"][resource].as_str().and_then(quantity))
            .sum();
        let most = snapshot
            .nodes
            .iter()
            .filter_map(|n| n["status"]["allocatable"][resource].as_str().and_then(quantity))
            .fold(0.0, f64::max);
        if message.contains(&format!("Insufficient {resource}")) || (most > 0.0 && requested > most) {
            impossible |= most > 0.0 && requested > most;
            let shown = |v: f64| {
                if resource == "cpu" {
                    format!("{v} {unit}")
                } else {
                    format!("{} MiB", (v / 1048576.0).round())
                }
            };
            let mut fix = format!(
                "lower `{key}.resources.requests.{resource}` (the pod asks for {}; the largest node can allocate {})",
                shown(requested),
                shown(most)
            );
            if let EnvironmentKind::Minikube { profile } = hints.kind {
                fix.push_str(&format!(", or give Minikube more (`minikube delete -p {profile} && minikube start -p {profile} --cpus 4 --memory 8g`)"));
            }
            fixes.push(fix);
        }
    }
    if fixes.is_empty() {
        fixes.push(format!("see the scheduler's reason; `kubectl -n {} describe pod {name}`", hints.namespace()));
    }
    Some(Finding {
        pod: name.to_owned(),
        subject: "pod".into(),
        reason: format!("Pending, unschedulable: {message}"),
        fix: fixes.join("; "),
        fatal: impossible,
        logs_of: None,
    })
}

/// A Kubernetes quantity (`500m`, `2`, `512Mi`, `1G`) as a number of cores or bytes.
fn quantity(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1048576.0,
        "Gi" => 1073741824.0,
        "Ti" => 1099511627776.0,
        _ => return None,
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::config;

    fn pod(component: &str, status: Value, spec: Value) -> Value {
        json!({
            "metadata": {"name": format!("todo-chatbot-{component}-1"), "labels": {"app.kubernetes.io/component": component}},
            "spec": spec,
            "status": status,
        })
    }

    fn run(pods: Vec<Value>, nodes: Vec<Value>) -> Vec<Finding> {
        run_with(pods, vec![], nodes)
    }

    fn run_with(pods: Vec<Value>, replica_sets: Vec<Value>, nodes: Vec<Value>) -> Vec<Finding> {
        let config = config::load(&crate::tools::project_root().join("infra.toml")).unwrap();
        let env = config.environment(Some("kind")).unwrap();
        let hints = Hints { config: &config, kind: &env.kind, env_name: "kind" };
        let snapshot = Snapshot { pods, replica_sets, events: vec![], nodes };
        findings(&snapshot, &hints)
    }

    #[test]
    fn an_image_the_node_lacks_names_the_tag_value_and_how_to_load_it() {
        let status = json!({"containerStatuses": [{"name": "backend", "image": "todo-backend:nope", "restartCount": 0,
            "state": {"waiting": {"reason": "ErrImageNeverPull", "message": "Container image \"todo-backend:nope\" is not present with pull policy of Never"}}}]});
        let found = run(vec![pod("backend", status, json!({"containers": [{"name": "backend"}]}))], vec![]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].fatal);
        assert!(found[0].reason.starts_with("ErrImageNeverPull: todo-backend:nope"), "{}", found[0].reason);
        assert!(found[0].fix.contains("`backend.image.tag` is nope"), "{}", found[0].fix);
        assert!(
            found[0].fix.contains("`kind load docker-image todo-backend:nope --name todo-chatbot`"),
            "{}",
            found[0].fix
        );
    }

    #[test]
    fn a_crash_loop_is_final_on_its_second_restart_and_an_oom_kill_names_the_memory_limit() {
        let crash = |restarts: u64, reason: &str| {
            json!({"initContainerStatuses": [{"name": "migrate", "restartCount": restarts,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": reason}}}]})
        };
        let spec = json!({"initContainers": [{"name": "migrate", "resources": {"limits": {"memory": "256Mi"}}}]});
        let first = run(vec![pod("backend", crash(1, "Error"), spec.clone())], vec![]);
        assert!(!first[0].fatal, "one crash may be a slow dependency");
        assert_eq!(first[0].subject, "init container migrate");
        assert_eq!(first[0].logs_of.as_deref(), Some("migrate"));
        let oom = run(vec![pod("backend", crash(2, "OOMKilled"), spec)], vec![]);
        assert!(oom[0].fatal);
        assert!(oom[0].reason.contains("OOMKilled"), "{}", oom[0].reason);
        assert!(oom[0].fix.contains("`backend.resources.limits.memory` (now 256Mi)"), "{}", oom[0].fix);
    }

    #[test]
    fn a_request_no_node_can_fit_is_final_at_once_and_names_the_value() {
        let status = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available."}]});
        let spec = |cpu: &str| json!({"containers": [{"name": "frontend", "resources": {"requests": {"cpu": cpu}}}]});
        let nodes = vec![json!({"status": {"allocatable": {"cpu": "2", "memory": "8Gi"}}})];
        let found = run(vec![pod("frontend", status.clone(), spec("64"))], nodes.clone());
        assert!(found[0].fatal);
        assert!(found[0].reason.contains("Insufficient cpu"), "{}", found[0].reason);
        assert!(
            found[0].fix.contains(
                "`frontend.resources.requests.cpu` (the pod asks for 64 CPUs; the largest node can allocate 2 CPUs)"
            ),
            "{}",
            found[0].fix
        );
        // A full node may free up (the pods of an old revision leave): not final yet.
        let full = run(vec![pod("frontend", status, spec("500m"))], nodes);
        assert!(!full[0].fatal);
    }

    #[test]
    fn the_broken_pods_of_an_older_revision_do_not_stop_the_up_that_replaces_them() {
        let owned = |kind: &str, name: &str| json!([{"kind": kind, "name": name}]);
        let set = |name: &str, revision: &str| {
            json!({"metadata": {"name": name, "annotations": {"deployment.kubernetes.io/revision": revision},
                "ownerReferences": owned("Deployment", "todo-chatbot-backend")}})
        };
        let pulling = json!({"containerStatuses": [{"name": "backend", "image": "todo-backend:nope", "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]});
        let mut old = pod("backend", pulling.clone(), json!({"containers": [{"name": "backend"}]}));
        old["metadata"]["ownerReferences"] = owned("ReplicaSet", "todo-chatbot-backend-old");
        let mut new = old.clone();
        new["metadata"]["ownerReferences"] = owned("ReplicaSet", "todo-chatbot-backend-new");
        let sets = vec![set("todo-chatbot-backend-old", "3"), set("todo-chatbot-backend-new", "4")];
        assert!(run_with(vec![old.clone()], sets.clone(), vec![]).is_empty(), "revision 3 is being replaced");
        assert_eq!(run_with(vec![old, new], sets, vec![]).len(), 1, "revision 4's own failure still counts");
    }

    #[test]
    fn quantities_are_read_in_kubernetes_units() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("512Mi"), Some(536870912.0));
        assert_eq!(quantity("1G"), Some(1e9));
        assert_eq!(quantity("lots"), None);
    }
}
