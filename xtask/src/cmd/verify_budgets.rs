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
    config::{self, Capacity, Config, Environment},
    flags::VerifyArgs,
    http,
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
            rows.push(row("limits fit the cluster", None, 100.0, "%", note));
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
        let (cpu, memory) = total_limits(&pods);
        match capacity(&cluster, env) {
            // Nothing running fits anything: that measures nothing.
            _ if pods.is_empty() => {
                rows.push(row("limits fit the cluster", None, 100.0, "%", "no pods: is the release installed?"))
            }
            Ok((cap, source)) => {
                rows.push(row(format!("CPU limits ({source})"), Some(cpu), cap.cpu, "CPU", ""));
                rows.push(row(format!("memory limits ({source})"), Some(memory / 1e6), cap.memory_mb, "MB", ""));
            }
            Err(err) => rows.push(row("limits fit the cluster", None, 100.0, "%", format!("{err:#}"))),
        }
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

/// Total CPU (cores) and memory (bytes) limits of the release's running pods. Init containers
/// run one at a time before the others, so a pod needs the larger of the two.
pub fn total_limits(pods: &[Value]) -> (f64, f64) {
    let sum = |containers: &Value, key: &str, parse: fn(&str) -> Option<f64>, max: bool| -> f64 {
        let values = containers
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["resources"]["limits"][key].as_str().and_then(parse));
        if max {
            values.fold(0.0, f64::max)
        } else {
            values.sum()
        }
    };
    let mut cpu = 0.0;
    let mut memory = 0.0;
    for pod in pods.iter().filter(|p| p["status"]["phase"] != "Succeeded" && p["status"]["phase"] != "Failed") {
        let spec = &pod["spec"];
        cpu +=
            sum(&spec["containers"], "cpu", parse_cpu, false).max(sum(&spec["initContainers"], "cpu", parse_cpu, true));
        memory += sum(&spec["containers"], "memory", parse_bytes, false).max(sum(
            &spec["initContainers"],
            "memory",
            parse_bytes,
            true,
        ));
    }
    (cpu, memory)
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

/// The environment's declared capacity, else the nodes' allocatable resources.
fn capacity(cluster: &Cluster<'_>, env: &Environment) -> Result<(Capacity, &'static str)> {
    if let Some(cap) = env.capacity {
        return Ok((cap, "declared capacity"));
    }
    let out = crate::process::read(cluster.kubectl().args(["get", "nodes", "-o", "json"]))?;
    let nodes: Value = serde_json::from_str(&out)?;
    let (mut cpu, mut memory) = (0.0, 0.0);
    for node in nodes["items"].as_array().into_iter().flatten() {
        cpu += node["status"]["allocatable"]["cpu"].as_str().and_then(parse_cpu).unwrap_or(0.0);
        memory += node["status"]["allocatable"]["memory"].as_str().and_then(parse_bytes).unwrap_or(0.0);
    }
    Ok((Capacity { cpu, memory_mb: memory / 1e6 }, "node allocatable"))
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
    fn quantities() {
        assert_eq!(parse_cpu("500m"), Some(0.5));
        assert_eq!(parse_cpu("2"), Some(2.0));
        assert_eq!(parse_bytes("512Mi"), Some(536_870_912.0));
        assert_eq!(parse_bytes("1G"), Some(1e9));
        assert_eq!(parse_bytes("4096"), Some(4096.0));
    }

    #[test]
    fn limits_add_up_over_pods_with_init_containers_taking_the_max() {
        let pod = |cpu: &str, mem: &str, init_cpu: &str| {
            json!({"status": {"phase": "Running"}, "spec": {
                "containers": [{"resources": {"limits": {"cpu": cpu, "memory": mem}}}],
                "initContainers": [{"resources": {"limits": {"cpu": init_cpu, "memory": "64Mi"}}}]}})
        };
        let done = json!({"status": {"phase": "Succeeded"}, "spec": {"containers": [{"resources": {"limits": {"cpu": "8"}}}]}});
        let (cpu, memory) = total_limits(&[pod("500m", "512Mi", "100m"), pod("250m", "256Mi", "1"), done]);
        assert!((cpu - 1.5).abs() < 1e-9, "{cpu}");
        assert_eq!(memory, 768.0 * 1048576.0);
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
