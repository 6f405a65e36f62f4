//! Why the release's pods are not Ready, and what fixes it: each failing pod's waiting or
//! terminated reason (image not on the node, crash loop with its last log lines, OOM kill,
//! unschedulable with the scheduler's reason), its init containers, and the namespace's recent
//! warning events. `up` prints this where helm alone says "context deadline exceeded", and
//! stops waiting as soon as a pod is in a state that waiting cannot fix.

mod findings;

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use self::findings::first_line;
pub use self::findings::{findings, Hints};
use crate::{cluster::Cluster, process};

/// Warning events shown, newest last.
const EVENTS_SHOWN: usize = 8;
/// Log lines shown of a crashed container.
const LOG_LINES: u32 = 12;

/// One thing that keeps a pod from becoming Ready.
#[derive(Debug, PartialEq)]
pub struct Finding {
    pub pod: String,
    /// `container backend`, `init container migrate`, or `pod` for scheduling.
    pub subject: String,
    /// The reason as Kubernetes names it (ErrImageNeverPull, CrashLoopBackOff, …) and its facts.
    pub reason: String,
    /// The command or value that fixes it.
    pub fix: String,
    /// Waiting cannot fix it: `up` stops at once. (A pod that only waits for a full node to
    /// free up is not: an old revision's pods may still leave.)
    pub fatal: bool,
    /// For a crashed container: whose logs to show.
    pub logs_of: Option<String>,
}

/// What the cluster says about the release, read once.
pub struct Snapshot {
    pub pods: Vec<Value>,
    /// The namespace's ReplicaSets: which pods belong to a Deployment's current revision.
    pub replica_sets: Vec<Value>,
    pub events: Vec<Value>,
    pub nodes: Vec<Value>,
}

impl Snapshot {
    pub fn read(cluster: &Cluster<'_>) -> Result<Snapshot> {
        let ns = &cluster.config.release.namespace;
        let items = |cmd: &mut Command| -> Result<Vec<Value>> {
            let json: Value = serde_json::from_str(&process::read(cmd)?)?;
            Ok(json["items"].as_array().cloned().unwrap_or_default())
        };
        Ok(Snapshot {
            pods: cluster.pods()?,
            replica_sets: items(cluster.kubectl().args(["get", "replicasets", "-n", ns, "-o", "json"]))?,
            events: items(cluster.kubectl().args(["get", "events", "-n", ns, "-o", "json"]))?,
            nodes: items(cluster.kubectl().args(["get", "nodes", "-o", "json"]))?,
        })
    }
}

/// The report: findings with their fixes and crashed containers' last log lines, then the
/// namespace's recent warning events.
pub fn render(cluster: &Cluster<'_>, snapshot: &Snapshot, findings: &[Finding]) -> String {
    let ns = &cluster.config.release.namespace;
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(out, "no pod of the release reports a failure yet (still starting?)");
    }
    for f in findings {
        let _ = writeln!(out, "  pod {}: {}: {}", f.pod, f.subject, f.reason);
        if let Some(container) = &f.logs_of {
            // The crashed run's log; a container that never restarted has only the current one.
            let tail = format!("--tail={LOG_LINES}");
            let read = |extra: &[&str]| {
                process::read(cluster.kubectl().args(["logs", "-n", ns, &f.pod, "-c", container, &tail]).args(extra))
            };
            let logs = read(&["--previous"]).or_else(|_| read(&[]));
            if let Ok(logs) = logs {
                let _ = writeln!(out, "      last log lines:");
                for line in logs.lines() {
                    let _ = writeln!(out, "        {line}");
                }
                let pod = snapshot.pods.iter().find(|p| p["metadata"]["name"] == f.pod.as_str());
                let key = pod.map_or_else(|| "<component>".to_owned(), Hints::values_key);
                for (name, value) in pod.map(|p| settings_named(p, container, &logs)).unwrap_or_default() {
                    let _ = writeln!(
                        out,
                        "      fix: the log names {name}, which the container's environment sets{}: correct it \
                         where the release sets it (`{key}.extraEnv`, or the chart value behind it, in infra.toml's \
                         `set` or a values file)",
                        value.map_or(String::new(), |v| format!(" to {v:?}"))
                    );
                }
            }
        }
        let _ = writeln!(out, "      fix: {}", f.fix);
    }
    let warnings = recent_warnings(&snapshot.events);
    if !warnings.is_empty() {
        let _ = writeln!(out, "  recent warning events in namespace {ns}:");
        for w in warnings {
            let _ = writeln!(out, "    {w}");
        }
    }
    out
}

/// The environment variables of `container` (set in the pod spec) that its log lines name,
/// each with its value unless the name suggests a secret.
fn settings_named(pod: &Value, container: &str, logs: &str) -> Vec<(String, Option<String>)> {
    let spec = ["containers", "initContainers"]
        .iter()
        .filter_map(|list| pod["spec"][list].as_array())
        .flatten()
        .find(|c| c["name"] == container);
    let secret = |name: &str| ["KEY", "SECRET", "PASSWORD", "TOKEN", "URL"].iter().any(|s| name.contains(s));
    spec.and_then(|c| c["env"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            logs.contains(name).then(|| {
                let value = e["value"].as_str().filter(|_| !secret(name)).map(str::to_owned);
                (name.to_owned(), value)
            })
        })
        .collect()
}

/// The newest warning events, one line each, duplicates folded (newest last).
fn recent_warnings(events: &[Value]) -> Vec<String> {
    let mut warnings: Vec<(&str, String)> = events
        .iter()
        .filter(|e| e["type"] == "Warning")
        .map(|e| {
            let when = e["lastTimestamp"].as_str().or(e["eventTime"].as_str()).unwrap_or("");
            let object = format!(
                "{}/{}",
                e["involvedObject"]["kind"].as_str().unwrap_or("?").to_ascii_lowercase(),
                e["involvedObject"]["name"].as_str().unwrap_or("?")
            );
            let count = e["count"].as_u64().filter(|c| *c > 1).map_or(String::new(), |c| format!(" (×{c})"));
            let text = format!(
                "{} {object} {}: {}{count}",
                when.get(11..19).unwrap_or(when),
                e["reason"].as_str().unwrap_or("?"),
                first_line(e["message"].as_str().unwrap_or(""))
            );
            (when, text)
        })
        .collect();
    warnings.sort();
    let skip = warnings.len().saturating_sub(EVENTS_SHOWN);
    warnings.into_iter().skip(skip).map(|(_, t)| t).collect()
}

/// How often `watch` looks at the pods while helm waits.
const POLL: Duration = Duration::from_secs(3);
/// Helm applies the release's manifests within seconds of starting. Until then the pods that
/// were already there show the release as it was (a failed `up`'s broken pods), not as this
/// `up` makes it; after it, a Deployment's new revision supersedes them.
const SETTLE: Duration = Duration::from_secs(10);

/// The finding that ends the wait: the worst final one, among pods this `up` created, or any
/// pod once helm has had `SETTLE` to apply its changes.
fn decisive<'f>(found: &'f [Finding], existing: &BTreeSet<String>, waited: Duration) -> Option<&'f Finding> {
    found.iter().find(|f| f.fatal && (waited >= SETTLE || !existing.contains(&f.pod)))
}

/// Runs `helm` (an `upgrade --install --wait`) while watching the release's pods. When a pod
/// reaches a state waiting cannot fix, helm is stopped (it records the release as failed) and
/// the error says why; when helm fails on its own, the error carries the same diagnosis.
pub fn watch(cluster: &Cluster<'_>, helm: &mut Command) -> Result<()> {
    // helm's stdout is its NOTES (up prints the address itself); its stderr is the error.
    helm.stdout(Stdio::null()).stderr(Stdio::piped());
    let existing: BTreeSet<String> = cluster
        .pods()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    let started = Instant::now();
    let mut child = process::spawn_group(helm)?;
    let mut pipe = child.child.stderr.take().context("helm's stderr")?;
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    let hints = Hints::of(cluster);
    let mut next_look = Instant::now() + POLL;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        process::check_interrupted()?;
        if Instant::now() >= next_look {
            next_look = Instant::now() + POLL;
            // A failed look (the API server busy) is no reason to stop helm: look again later.
            if let Ok(snapshot) = Snapshot::read(cluster) {
                let found = findings(&snapshot, &hints);
                if let Some(worst) = decisive(&found, &existing, started.elapsed()) {
                    child.stop(libc::SIGTERM, Duration::from_secs(15));
                    bail!(
                        "stopped waiting for the release: pod {} cannot become ready ({}: {})\n{}",
                        worst.pod,
                        worst.subject,
                        worst.reason,
                        render(cluster, &snapshot, &found)
                    );
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let why = Snapshot::read(cluster).map_or_else(
        |err| format!("  (the pods could not be read: {err:#})\n"),
        |snapshot| render(cluster, &snapshot, &findings(&snapshot, &hints)),
    );
    bail!("`{}` failed ({status}): {}\n{why}", process::display(helm), stderr.trim())
}

/// The diagnosis of the release as it is now, for a failure found after helm returned (a
/// rollout that did not finish).
pub fn explain(cluster: &Cluster<'_>) -> String {
    match Snapshot::read(cluster) {
        Ok(snapshot) => render(cluster, &snapshot, &findings(&snapshot, &Hints::of(cluster))),
        Err(err) => format!("  (the pods could not be read: {err:#})\n"),
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn a_pod_from_before_up_stops_it_only_once_helm_had_time_to_replace_it() {
        let broken = |pod: &str| Finding {
            pod: pod.into(),
            subject: "container backend".into(),
            reason: "ImagePullBackOff: todo-backend:nope".into(),
            fix: String::new(),
            fatal: true,
            logs_of: None,
        };
        let existing: BTreeSet<String> = ["old".to_owned()].into();
        let soon = Duration::from_secs(3);
        assert_eq!(decisive(&[broken("old")], &existing, soon), None);
        assert_eq!(decisive(&[broken("old"), broken("new")], &existing, soon).map(|f| f.pod.as_str()), Some("new"));
        assert_eq!(decisive(&[broken("old")], &existing, SETTLE).map(|f| f.pod.as_str()), Some("old"));
        let waiting = Finding { fatal: false, ..broken("new") };
        assert_eq!(decisive(&[waiting], &existing, SETTLE), None);
    }

    #[test]
    fn a_crash_log_that_names_a_setting_points_at_it_and_keeps_secrets_out() {
        let pod = json!({"spec": {"containers": [{"name": "backend", "env": [
            {"name": "LOG_LEVEL", "value": "LOUD"},
            {"name": "OPENAI_API_KEY", "value": "sk-live"},
            {"name": "PORT", "value": "8000"}]}]}});
        let logs = "configuration error: LOG_LEVEL: Input should be 'DEBUG'\nOPENAI_API_KEY rejected";
        assert_eq!(
            settings_named(&pod, "backend", logs),
            [("LOG_LEVEL".to_owned(), Some("LOUD".to_owned())), ("OPENAI_API_KEY".to_owned(), None)]
        );
        assert!(settings_named(&pod, "migrate", logs).is_empty());
    }

    #[test]
    fn warning_events_are_folded_to_the_newest() {
        let event = |t: &str, reason: &str| {
            json!({"type": "Warning", "lastTimestamp": t, "reason": reason, "message": "m", "count": 3,
                "involvedObject": {"kind": "Pod", "name": "p"}})
        };
        let mut events: Vec<Value> = (0..12).map(|i| event(&format!("2026-12-07T02:00:{i:02}Z"), "BackOff")).collect();
        events.push(json!({"type": "Normal", "reason": "Pulled"}));
        let shown = recent_warnings(&events);
        assert_eq!(shown.len(), EVENTS_SHOWN);
        assert_eq!(shown.last().unwrap(), "02:00:11 pod/p BackOff: m (×3)");
    }
}
