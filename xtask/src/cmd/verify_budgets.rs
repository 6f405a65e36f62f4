//! `cargo xtask verify-budgets [--env NAME]`: every budget of infra.toml against what the last
//! build/deploy measured and what the live cluster shows, as a table; non-zero exit on any miss.
//! A budget that could not be measured is a miss too, with what to run to measure it.

use std::{
    collections::BTreeMap,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Result;
use camino::Utf8Path;
use serde_json::Value;

use crate::{
    cluster::Cluster,
    config::{self, Config, Environment},
    flags::VerifyArgs,
    http,
    peak::{self, parse_bytes, parse_cpu, Resource},
    report::{BudgetRow, ImageReport, Report},
    state::State,
    time,
};

pub fn run(config_path: &Utf8Path, args: &VerifyArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.env.name.as_deref())?;
    let mut report = Report::new("verify-budgets", Some(&env.name));
    let start = Instant::now();
    let state = State::load(&config.root)?;
    let mut rows = Vec::new();
    if args.only.as_deref() != Some("release") {
        // `--only images` judges the last build, whatever is deployed.
        let deployed = state.deploys.get(&env.name).filter(|_| args.only.is_none()).map(|d| &d.images);
        rows.extend(image_rows(&config, &state, deployed)?);
    }
    if args.only.as_deref() != Some("images") {
        rows.extend(release_rows(&config, env, &state));
    }
    print!("{}", table(&rows));
    let failed = rows.iter().filter(|r| !r.ok).count();
    report.budgets = rows;
    let result = if failed == 0 {
        println!("\nbudgets: all {} within limits", report.budgets.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nbudgets: {failed} of {} missed", report.budgets.len());
        Err(anyhow::anyhow!("{failed} budget(s) missed"))
    };
    report.finish(&config.root, start, &result);
    result.or(Ok(ExitCode::FAILURE))
}

pub fn row(
    budget: impl Into<String>,
    measured: Option<f64>,
    limit: f64,
    unit: &str,
    note: impl Into<String>,
) -> BudgetRow {
    let mut note = note.into();
    let ok = measured.is_some_and(|m| m <= limit);
    if measured.is_none() && note.is_empty() {
        note = "not measured".into();
    }
    BudgetRow { budget: budget.into(), measured, limit, unit: unit.to_owned(), ok, note }
}

pub fn table(rows: &[BudgetRow]) -> String {
    let width = rows.iter().map(|r| r.budget.chars().count()).max().unwrap_or(6).max(6);
    let mut out = format!("  {:<width$}  {:>12}  {:>12}     \n", "budget", "measured", "limit");
    for r in rows {
        let fmt = |v: f64| {
            if v >= 100.0 || v.fract() == 0.0 {
                format!("{v:.0} {}", r.unit)
            } else {
                format!("{v:.2} {}", r.unit)
            }
        };
        let measured = r.measured.map_or("–".to_owned(), fmt);
        let mark = if r.ok { "✓" } else { "✗" };
        let note = if r.note.is_empty() { String::new() } else { format!("  {}", r.note) };
        out.push_str(&format!("  {:<width$}  {:>12}  {:>12}  {mark}{note}\n", r.budget, measured, fmt(r.limit)));
    }
    out
}

/// The measurements of the images to judge. With a deployment of the environment recorded (and
/// not `--only images`), those of the images it runs, whichever report measured them: in a shared
/// working tree the newest build may be someone else's, of other tags. Otherwise the newest
/// report of `build` or `up` that has images: what the last build measured.
fn latest_images(
    config: &Config,
    state: &State,
    deployed: Option<&BTreeMap<String, String>>,
) -> Result<Vec<ImageReport>> {
    let mut reports = Vec::new();
    for command in ["build", "up"] {
        reports.extend(Report::load(&config.root, command)?);
    }
    Ok(images_of(reports, state, deployed))
}

fn images_of(mut reports: Vec<Report>, state: &State, deployed: Option<&BTreeMap<String, String>>) -> Vec<ImageReport> {
    reports.retain(|r| !r.images.is_empty());
    reports.sort_by(|a, b| b.started_at.cmp(&a.started_at));
    let Some(deployed) = deployed.filter(|d| !d.is_empty()) else {
        return reports.into_iter().next().map(|r| r.images).unwrap_or_default();
    };
    let measured = reports.iter().flat_map(|r| &r.images);
    deployed
        .iter()
        .map(|(key, reference)| match measured.clone().find(|i| &i.reference == reference) {
            Some(image) => image.clone(),
            // No report left of its build: the state still has its size.
            None => ImageReport {
                key: key.clone(),
                reference: reference.clone(),
                action: "deployed".into(),
                size_bytes: state.build(reference).map(|b| b.size_bytes),
                ..ImageReport::default()
            },
        })
        .collect()
}

fn image_rows(config: &Config, state: &State, deployed: Option<&BTreeMap<String, String>>) -> Result<Vec<BudgetRow>> {
    let images = latest_images(config, state, deployed)?;
    let mut rows = Vec::new();
    for image in &config.images {
        let measured = images.iter().find(|i| i.key == image.key);
        let hint = format!("no build of `{}` recorded: run `cargo xtask build {}`", image.key, image.key);
        if let Some(limit) = image.budgets.size_mb {
            let size = measured.and_then(|m| m.size_bytes).map(|b| b as f64 / 1e6);
            let note = match measured {
                Some(m) => m.reference.clone(),
                None => hint.clone(),
            };
            rows.push(row(format!("image size: {}", image.key), size, limit, "MB", note));
        }
        if let Some(limit) = image.budgets.build_seconds {
            let seconds =
                measured.and_then(|m| m.build_seconds.or_else(|| state.build(&m.reference).map(|b| b.seconds)));
            let note = match (measured, seconds) {
                (None, _) => hint.clone(),
                (Some(_), None) => format!("built elsewhere: `cargo xtask build --force {}` measures it", image.key),
                (Some(m), Some(_)) if m.action == "skipped" => "measured when this hash was built".into(),
                _ => String::new(),
            };
            rows.push(row(format!("build time: {}", image.key), seconds, limit, "s", note));
        }
    }
    Ok(rows)
}

fn release_rows(config: &Config, env: &Environment, state: &State) -> Vec<BudgetRow> {
    let budgets = &config.release.budgets;
    let cluster = Cluster::new(config, env);
    let mut rows = Vec::new();
    if let Some(limit) = budgets.deploy_seconds {
        let record = state.deploys.get(&env.name);
        let note = match record {
            Some(r) => format!("revision {} at {}", r.revision, r.deployed_at),
            None => format!("no deployment recorded: run `cargo xtask up --env {}`", env.name),
        };
        rows.push(row("helm install → all pods ready", record.map(|r| r.deploy_seconds), limit, "s", note));
    }
    let live = budgets.pod_ready_seconds.is_some() || budgets.p95_latency_ms.is_some() || budgets.limits_fit_capacity;
    if !live {
        return rows;
    }
    if let Err(err) = cluster.preflight() {
        let note = format!("cluster unreachable: {}", format!("{err:#}").lines().next().unwrap_or(""));
        for (name, limit, unit) in
            [("pod ready", budgets.pod_ready_seconds, "s"), ("p95 latency", budgets.p95_latency_ms, "ms")]
        {
            if let Some(limit) = limit {
                rows.push(row(name, None, limit, unit, note.clone()));
            }
        }
        if budgets.limits_fit_capacity {
            rows.push(row("peak fits the cluster", None, 100.0, "%", note));
        }
        return rows;
    }
    let pods = cluster.pods().unwrap_or_default();
    if let Some(limit) = budgets.pod_ready_seconds {
        if pods.is_empty() {
            rows.push(row("pod ready", None, limit, "s", "no pods: is the release installed?"));
        }
        for pod in &pods {
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            let seconds = pod_ready_seconds(pod);
            rows.push(row(
                format!("pod ready: {name}"),
                seconds,
                limit,
                "s",
                if seconds.is_none() { "not ready" } else { "" },
            ));
        }
    }
    if let Some(limit) = budgets.p95_latency_ms {
        for target in &budgets.latency_targets {
            let name = format!("p95 latency: {} {}", target.service, target.path);
            match measure_latency(&cluster, target, budgets.latency_requests) {
                Ok((p95, 0, total)) => rows.push(row(name, Some(p95), limit, "ms", format!("{total} requests"))),
                Ok((p95, errors, total)) => {
                    let mut r = row(name, Some(p95), limit, "ms", format!("{errors} of {total} requests failed"));
                    r.ok = false;
                    rows.push(r);
                }
                Err(err) => {
                    rows.push(row(name, None, limit, "ms", format!("{err:#}").lines().next().unwrap_or("").to_owned()))
                }
            }
        }
    }
    if budgets.limits_fit_capacity {
        rows.extend(peak_rows(&cluster, env));
    }
    rows
}

/// Seconds from the pod's start to its Ready condition.
pub fn pod_ready_seconds(pod: &Value) -> Option<f64> {
    let started = pod["status"]["startTime"].as_str().or(pod["metadata"]["creationTimestamp"].as_str())?;
    let ready =
        pod["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == "Ready" && c["status"] == "True")?
            ["lastTransitionTime"]
            .as_str()?;
    Some(time::parse_time(ready)?.duration_since(time::parse_time(started)?).as_secs_f64())
}

/// p95 of `requests` sequential GETs through the Service (after 5 unmeasured warm-up requests).
fn measure_latency(cluster: &Cluster<'_>, target: &config::ServicePort, requests: u32) -> Result<(f64, usize, usize)> {
    let (base, _forward) = cluster.address(target)?;
    let url = format!("{}{}", base.trim_end_matches('/'), target.path);
    let timeout = Duration::from_secs(5);
    for _ in 0..5 {
        let _ = http::get_status(&url, timeout);
    }
    let mut samples = Vec::new();
    let mut errors = 0;
    for _ in 0..requests {
        let start = Instant::now();
        let ok = matches!(http::get_status(&url, timeout), Ok(code) if code < 400);
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        errors += usize::from(!ok);
    }
    Ok((percentile(&mut samples, 95.0), errors, requests as usize))
}

/// Nearest-rank percentile.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// The release at its peak ([`peak`]) against what the environment offers less what other pods
/// reserve: one row per resource, naming the value to lower when it does not fit.
fn peak_rows(cluster: &Cluster<'_>, env: &Environment) -> Vec<BudgetRow> {
    let miss = |note: String| vec![row("peak fits the cluster", None, 100.0, "%", note)];
    let first_line = |err: anyhow::Error| format!("{err:#}").lines().next().unwrap_or("").to_owned();
    let workloads = match release_workloads(cluster) {
        Ok(w) if w.is_empty() => return miss("no Deployments or StatefulSets: is the release installed?".into()),
        Ok(w) => w,
        Err(err) => return miss(first_line(err)),
    };
    let others = match all_pods(cluster) {
        Ok(pods) => {
            let release = &cluster.config.release;
            peak::reserved_by_others(&pods, &release.namespace, &release.name)
        }
        Err(err) => return miss(format!("pods of the cluster: {}", first_line(err))),
    };
    let declared = env.capacity.unwrap_or_default();
    let nodes = if declared.cpu.is_none() || declared.memory_mb.is_none() {
        match node_allocatable(cluster) {
            Ok(nodes) => Some(nodes),
            Err(err) => return miss(format!("node allocatable: {}", first_line(err))),
        }
    } else {
        None
    };
    let source = |declared: bool| if declared { "declared capacity" } else { "node allocatable" };
    let cpu = (declared.cpu.or(nodes.map(|n| n.0)).unwrap_or(0.0), source(declared.cpu.is_some()));
    let memory = (declared.memory_mb.or(nodes.map(|n| n.1)).unwrap_or(0.0), source(declared.memory_mb.is_some()));
    let mut rows = vec![
        peak_row(&workloads, Resource::Cpu, "peak CPU requests", cpu, others.0, 1.0, "CPU"),
        peak_row(&workloads, Resource::Memory, "peak memory limits", memory, others.1, 1e6, "MB"),
    ];
    if peak::total(&workloads, Resource::Connections) > 0.0 {
        let budget = match declared.database_connections {
            Some(n) => Ok((f64::from(n), "declared capacity")),
            None => chart_connection_budget(cluster).map(|n| (n, "the chart's database.maxConnections")),
        };
        let name = "peak database connections";
        rows.push(match budget {
            Ok(limit) => peak_row(&workloads, Resource::Connections, name, limit, 0.0, 1.0, "conn"),
            Err(err) => row(name, None, 0.0, "conn", first_line(err)),
        });
    }
    rows
}

/// One resource's row: the release's peak plus `others` (what other pods hold of it) against
/// the capacity, with where the total comes from and, when over, what to lower.
fn peak_row(
    workloads: &[peak::Workload],
    resource: Resource,
    name: &str,
    (capacity, source): (f64, &str),
    others: f64,
    scale: f64,
    unit: &str,
) -> BudgetRow {
    let measured = (peak::total(workloads, resource) + others) / scale;
    let mut breakdown = peak::breakdown(workloads, resource);
    if others > 0.0 {
        breakdown.push_str(&format!(", other pods {}", resource.show(others)));
    }
    let note = match peak::advice(workloads, resource, capacity * scale - others) {
        advice if advice.is_empty() => breakdown,
        advice => format!("{advice} ({breakdown})"),
    };
    row(format!("{name} ({source})"), Some(measured), capacity, unit, note)
}

/// Every pod of the cluster, in all namespaces.
fn all_pods(cluster: &Cluster<'_>) -> Result<Vec<Value>> {
    let out = crate::process::read(cluster.kubectl().args(["get", "pods", "--all-namespaces", "-o", "json"]))?;
    let list: Value = serde_json::from_str(&out)?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// The release's Deployments and StatefulSets, with the HPAs that scale them.
fn release_workloads(cluster: &Cluster<'_>) -> Result<Vec<peak::Workload>> {
    let release = &cluster.config.release;
    let selector = format!("app.kubernetes.io/instance={}", release.name);
    let out = crate::process::read(cluster.kubectl().args([
        "get",
        "deployments,statefulsets,horizontalpodautoscalers",
        "-n",
        &release.namespace,
        "-l",
        &selector,
        "-o",
        "json",
    ]))?;
    let list: Value = serde_json::from_str(&out)?;
    Ok(peak::workloads(list["items"].as_array().map_or(&[][..], Vec::as_slice)))
}

/// The connection budget the release was installed with (its values, defaults included).
fn chart_connection_budget(cluster: &Cluster<'_>) -> Result<f64> {
    let out = crate::process::read(cluster.helm().args([
        "get",
        "values",
        &cluster.config.release.name,
        "--all",
        "-o",
        "json",
    ]))?;
    let values: Value = serde_json::from_str(&out)?;
    values["database"]["maxConnections"].as_f64().ok_or_else(|| {
        anyhow::anyhow!("no database.maxConnections in the release's values: declare capacity.database_connections")
    })
}

/// The nodes' allocatable CPU (cores) and memory (MB).
fn node_allocatable(cluster: &Cluster<'_>) -> Result<(f64, f64)> {
    let out = crate::process::read(cluster.kubectl().args(["get", "nodes", "-o", "json"]))?;
    let nodes: Value = serde_json::from_str(&out)?;
    let (mut cpu, mut memory) = (0.0, 0.0);
    for node in nodes["items"].as_array().into_iter().flatten() {
        cpu += node["status"]["allocatable"]["cpu"].as_str().and_then(parse_cpu).unwrap_or(0.0);
        memory += node["status"]["allocatable"]["memory"].as_str().and_then(parse_bytes).unwrap_or(0.0);
    }
    Ok((cpu, memory / 1e6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::BuildRecord;
    use serde_json::json;

    #[test]
    fn a_budget_passes_at_its_limit_and_fails_above_or_unmeasured() {
        assert!(row("size", Some(200.0), 200.0, "MB", "").ok);
        assert!(!row("size", Some(200.1), 200.0, "MB", "").ok);
        let unmeasured = row("size", None, 200.0, "MB", "");
        assert!(!unmeasured.ok);
        assert_eq!(unmeasured.note, "not measured");
    }

    #[test]
    fn table_shows_measured_limit_and_mark() {
        let text = table(&[
            row("image size: backend", Some(512.3), 200.0, "MB", "todo-backend:abc"),
            row("build time: backend", Some(42.5), 300.0, "s", ""),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("512 MB") && lines[1].contains("200 MB") && lines[1].contains('✗'), "{text}");
        assert!(lines[2].contains("42.50 s") && lines[2].contains('✓'), "{text}");
    }

    #[test]
    fn image_rows_measure_the_deployed_tags_not_a_newer_build() {
        let image = |key: &str, tag: &str, size: u64| ImageReport {
            key: key.into(),
            reference: format!("todo-{key}:{tag}"),
            size_bytes: Some(size),
            ..ImageReport::default()
        };
        let report = |command: &str, started_at: &str, images| Report {
            command: command.into(),
            started_at: started_at.into(),
            images,
            ..Report::default()
        };
        // `up` deployed backend:a and frontend:f; a later build elsewhere in the tree made backend:b.
        let reports = || {
            vec![
                report("up", "2026-11-24T20:00:00Z", vec![image("backend", "a", 1), image("frontend", "f", 2)]),
                report("build", "2026-11-24T20:30:00Z", vec![image("backend", "b", 3)]),
            ]
        };
        let mut state = State::default();
        state.builds.insert(
            "todo-worker:w".into(),
            BuildRecord { seconds: 9.0, size_bytes: 4, built_at: "2026-11-24T19:00:00Z".into() },
        );
        let deployed: BTreeMap<String, String> = [("backend", "a"), ("frontend", "f"), ("worker", "w")]
            .map(|(k, t)| (k.to_owned(), format!("todo-{k}:{t}")))
            .into();
        let measured = images_of(reports(), &state, Some(&deployed));
        let sizes: Vec<_> = measured.iter().map(|i| (i.reference.as_str(), i.size_bytes)).collect();
        assert_eq!(sizes, [("todo-backend:a", Some(1)), ("todo-frontend:f", Some(2)), ("todo-worker:w", Some(4))]);

        // Nothing deployed: the newest build, as it measured the current tree.
        let newest = images_of(reports(), &state, None);
        assert_eq!(newest.iter().map(|i| i.reference.as_str()).collect::<Vec<_>>(), ["todo-backend:b"]);
        assert_eq!(images_of(reports(), &state, Some(&BTreeMap::new())).len(), 1);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let mut samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut samples, 95.0), 95.0);
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 95.0), 3.0);
        assert_eq!(percentile(&mut [7.0], 50.0), 7.0);
    }

    #[test]
    fn the_peak_fails_on_minikube_when_its_control_plane_leaves_too_little_and_names_the_value() {
        let deployment = |component: &str, replicas, autoscaled_from, cpu, memory_mi: f64| peak::Workload {
            name: format!("Deployment/todo-chatbot-{component}"),
            component: Some(component.into()),
            replicas,
            autoscaled_from,
            surge: 1,
            cpu,
            memory: memory_mi * 1048576.0,
            connections: 0,
        };
        // values-dev.yaml with the backend's default HPA maximum of 5.
        let release = [deployment("backend", 5, Some(2), 0.2, 512.0), deployment("frontend", 1, None, 0.1, 256.0)];
        // Minikube's API server, controller manager, scheduler, etcd and CoreDNS.
        let minikube = (2.0, "declared capacity");
        let over = peak_row(&release, Resource::Cpu, "peak CPU requests", minikube, 0.75, 1.0, "CPU");
        assert!(!over.ok);
        assert!((over.measured.unwrap() - 2.15).abs() < 1e-9, "{:?}", over.measured);
        assert_eq!(
            over.note,
            "lower backend.autoscaling.maxReplicas to 4 or backend.resources.requests.cpu to 175m \
             (backend 6×200m (HPA max 5 + 1 surge), frontend 2×100m (1 + 1 surge), other pods 750m)"
        );
        let fits = peak_row(&release, Resource::Memory, "peak memory limits", (4096.0, "declared"), 0.0, 1e6, "MB");
        assert!(fits.ok, "{fits:?}");
        assert_eq!(fits.note, "backend 6×512Mi (HPA max 5 + 1 surge), frontend 2×256Mi (1 + 1 surge)");
    }

    #[test]
    fn peak_connections_past_the_budget_name_the_pool_or_the_hpa_maximum() {
        let deployment = |component: &str, replicas, autoscaled_from, connections| peak::Workload {
            name: format!("Deployment/todo-chatbot-{component}"),
            component: Some(component.into()),
            replicas,
            autoscaled_from,
            surge: 1,
            cpu: 0.0,
            memory: 0.0,
            connections,
        };
        // values-prod.yaml's HPAs with a pool of 6 per backend pod set by hand: 11 × 6 + 7 × 3.
        let release = [deployment("backend", 10, Some(3), 6), deployment("frontend", 6, Some(2), 3)];
        let budget = (80.0, "the chart's database.maxConnections");
        let over = peak_row(&release, Resource::Connections, "peak database connections", budget, 0.0, 1.0, "conn");
        assert!(!over.ok);
        assert_eq!(over.measured, Some(87.0));
        assert_eq!(
            over.note,
            "lower backend.autoscaling.maxReplicas to 8 or backend.databasePoolSize to 5 \
             (backend 11×6 (HPA max 10 + 1 surge), frontend 7×3 (HPA max 6 + 1 surge))"
        );
        let sized = [deployment("backend", 10, Some(3), 5), deployment("frontend", 6, Some(2), 3)];
        let fits = peak_row(&sized, Resource::Connections, "peak database connections", budget, 0.0, 1.0, "conn");
        assert!(fits.ok && fits.measured == Some(76.0), "{fits:?}");
    }

    #[test]
    fn pod_ready_seconds_from_start_to_ready_condition() {
        let pod = json!({"status": {"startTime": "2026-11-24T15:59:50Z", "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-24T15:59:51Z"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-24T16:00:12Z"}]}});
        assert_eq!(pod_ready_seconds(&pod), Some(22.0));
        let not_ready = json!({"status": {"startTime": "2026-11-24T15:59:50Z", "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-11-24T16:00:12Z"}]}});
        assert_eq!(pod_ready_seconds(&not_ready), None);
    }
}
