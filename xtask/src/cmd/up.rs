//! `cargo xtask up [--env NAME]`: preflight, build, load, `helm upgrade --install --wait`, wait
//! for the rollout, print the URL. A second `up` with nothing changed builds nothing, loads
//! nothing, and skips helm (the release's fingerprint is unchanged and nothing the chart sets was
//! edited by hand), so it takes seconds.

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use camino::Utf8Path;
use serde_json::Value;

use crate::{
    builder::build_images,
    cluster::Cluster,
    config::{self, Config, Environment, EnvironmentKind},
    diagnose,
    docker::Docker,
    flags::EnvArgs,
    plan::ImagePlan,
    process,
    progress::spinner,
    registry::Client,
    release::{all_ready, drift, ensure_namespace, fingerprint, generated_values, secret_values, ValuesFiles},
    report::{ReleaseReport, Report},
    state::{DeployRecord, State},
    time,
};

pub fn run(config_path: &Utf8Path, args: &EnvArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.name.as_deref())?;
    let mut report = Report::new("up", Some(&env.name));
    let start = Instant::now();
    let result = State::load(&config.root).and_then(|mut state| up(&config, env, &mut state, &mut report));
    report.finish(&config.root, start, &result);
    result.map(|_| ExitCode::SUCCESS)
}

fn up(config: &Config, env: &Environment, state: &mut State, report: &mut Report) -> Result<()> {
    let cluster = Cluster::new(config, env);
    eprintln!("preflight for environment `{}`", env.name);
    cluster.preflight()?;
    let docker = Docker::for_environment(env)?;
    docker.check()?;
    let secrets = secret_values(config, env)?;

    let registry = env.registry.as_ref().map(Client::new).transpose()?;
    let plans = build_images(config, &docker, registry.as_ref(), state, &[], false, report)?;
    match &env.registry {
        Some(registry) => eprintln!("images: the cluster pulls them from {} by digest", registry.host),
        None => load_missing(&cluster, &docker, &plans, report)?,
    }

    let values = generated_values(config, env, &plans);
    let fingerprint = fingerprint(config, env, &values, &secrets, &state.key)?;
    let release = &config.release;
    let mut release_report =
        ReleaseReport { name: release.name.clone(), namespace: release.namespace.clone(), ..ReleaseReport::default() };
    let unchanged = match (state.deploys.get(&env.name), cluster.release_status()?) {
        (Some(record), Some((revision, status))) => {
            record.fingerprint == fingerprint
                && record.revision == revision
                && status == "deployed"
                && !edited_by_hand(&cluster, revision)?
                && all_ready(&cluster)?
        }
        _ => false,
    };
    if unchanged {
        let record = &state.deploys[&env.name];
        eprintln!(
            "release {}: unchanged since revision {} (chart, values, images and secrets), all pods ready",
            release.name, record.revision
        );
        release_report.action = "unchanged".into();
        release_report.revision = Some(record.revision);
    } else {
        ensure_namespace(&cluster)?;
        let seconds = deploy(config, &cluster, &values, &secrets)?;
        let (revision, _) =
            cluster.release_status()?.context("the release is missing right after helm installed it")?;
        eprintln!("release {}: revision {revision} ready in {seconds:.1}s", release.name);
        state.deploys.insert(
            env.name.clone(),
            DeployRecord {
                fingerprint,
                revision,
                deploy_seconds: seconds,
                deployed_at: time::now_rfc3339(),
                images: plans.iter().map(|p| (p.key.clone(), p.reference.clone())).collect(),
            },
        );
        state.save(&config.root)?;
        release_report.action = "upgraded".into();
        release_report.revision = Some(revision);
        release_report.deploy_seconds = Some(seconds);
    }
    let url = print_address(&cluster);
    release_report.url = url;
    report.release = Some(release_report);
    Ok(())
}

/// Whether fields the chart sets were changed by hand since helm applied them (an upgrade sets
/// them back; fields the chart doesn't set it leaves, so they don't count).
fn edited_by_hand(cluster: &Cluster<'_>, revision: u64) -> Result<bool> {
    let (_, fields) = drift(cluster)?;
    let reset = fields.iter().filter(|field| field.applied.is_some()).count();
    if reset > 0 {
        eprintln!(
            "release {}: {reset} fields set by hand since revision {revision} (`cargo xtask status` lists them): \
             upgrading to set them back",
            cluster.config.release.name
        );
    }
    Ok(reset > 0)
}

/// Loads the images the cluster's node doesn't have yet — ours and the chart's `extra_images`
/// (pulled into the local engine first if it lacks them). Minikube builds in place and pulls
/// third-party images itself: nothing to do.
fn load_missing(cluster: &Cluster<'_>, docker: &Docker, plans: &[ImagePlan], report: &mut Report) -> Result<()> {
    if matches!(cluster.env.kind, EnvironmentKind::Minikube { .. }) {
        return Ok(());
    }
    let on_node = cluster.node_images()?;
    let ours = plans.iter().map(|p| p.reference.clone());
    let extra = cluster.config.release.extra_images.iter().cloned();
    let missing: Vec<String> = ours.chain(extra).filter(|r| !on_node.contains(r)).collect();
    for entry in &mut report.images {
        entry.loaded = Some(missing.contains(&entry.reference));
    }
    if missing.is_empty() {
        eprintln!("images: already on the cluster's node");
        return Ok(());
    }
    for image in cluster.config.release.extra_images.iter().filter(|i| missing.contains(i)) {
        if docker.inspect(image)?.is_none() {
            let bar = spinner(format!("docker pull {image}"));
            let result = process::read(docker.command().args(["pull", image]));
            bar.finish_and_clear();
            result
                .with_context(|| format!("the chart runs {image}, which is neither in {} nor pullable", docker.name))?;
        }
    }
    let bar = spinner(format!("loading {} into the cluster", missing.join(", ")));
    let result = cluster.load(&missing);
    bar.finish_and_clear();
    result.with_context(|| format!("cannot load the images into environment `{}`", cluster.env.name))?;
    eprintln!("images: loaded {}", missing.join(", "));
    Ok(())
}

/// `helm upgrade --install --wait`, then every Deployment's rollout, within the release's
/// timeout. Returns the seconds from helm's start to all pods ready. With the environment's
/// `rollback_on_failure`, a failed upgrade is rolled back and the error says what serves now.
fn deploy(config: &Config, cluster: &Cluster<'_>, values: &Value, secrets: &Value) -> Result<f64> {
    let serving = if cluster.env.rollback_on_failure { cluster.deployed_revision()? } else { None };
    let start = Instant::now();
    match upgrade(config, cluster, values, secrets, start) {
        Ok(()) => Ok(start.elapsed().as_secs_f64()),
        Err(err) if cluster.env.rollback_on_failure => Err(err.context(roll_back(cluster, serving))),
        Err(err) => Err(err),
    }
}

fn upgrade(config: &Config, cluster: &Cluster<'_>, values: &Value, secrets: &Value, start: Instant) -> Result<()> {
    let release = &config.release;
    let files = ValuesFiles::write(config, cluster.env, values, secrets)?;
    let mut helm = cluster.helm();
    helm.args(["upgrade", "--install", &release.name, release.chart.as_str()]).args(files.args()).args([
        "--wait",
        "--timeout",
        &format!("{}s", release.timeout_seconds),
    ]);
    let bar = spinner(format!("helm upgrade --install {} (waiting for the pods)", release.name));
    let result = diagnose::watch(cluster, &mut helm);
    bar.finish_and_clear();
    result.context("helm could not install the release")?;
    rollouts_finish(cluster, start + Duration::from_secs(release.timeout_seconds))
}

/// `kubectl rollout status` of every Deployment of the release, by `deadline`: every pod of the
/// revision is updated and available, whichever way helm's own wait reads readiness.
fn rollouts_finish(cluster: &Cluster<'_>, deadline: Instant) -> Result<()> {
    let release = &cluster.config.release;
    let selector = format!("app.kubernetes.io/instance={}", release.name);
    let names = process::read(cluster.kubectl().args([
        "get",
        "deployments",
        "-n",
        &release.namespace,
        "-l",
        &selector,
        "-o",
        "name",
    ]))?;
    for name in names.lines() {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs().max(1);
        process::read(cluster.kubectl().args([
            "rollout",
            "status",
            name,
            "-n",
            &release.namespace,
            &format!("--timeout={left}s"),
        ]))
        .with_context(|| {
            format!("{name} did not finish rolling out before the deadline\n{}", diagnose::explain(cluster))
        })?;
    }
    Ok(())
}

/// After a failed upgrade with `rollback_on_failure`: `helm rollback` to the revision that
/// served before it, waiting for its pods and rollouts. xtask rolls back rather than helm's
/// `--atomic` (Helm 4: `--rollback-on-failure`) because it stops helm as soon as a pod cannot
/// become ready, and a stopped helm rolls nothing back. Returns what serves now, for the error.
fn roll_back(cluster: &Cluster<'_>, serving: Option<u64>) -> String {
    let release = &cluster.config.release;
    let history = format!("`helm history {} -n {}`", release.name, release.namespace);
    let Some(good) = serving else {
        return format!(
            "the release failed and no revision of it was deployed before, so there is nothing to roll back to \
             (rollback_on_failure); {history} lists it"
        );
    };
    let start = Instant::now();
    let bar = spinner(format!("helm rollback {} {good} (waiting for the pods)", release.name));
    let result = process::read(cluster.helm().args([
        "rollback",
        &release.name,
        &good.to_string(),
        "--wait",
        "--timeout",
        &format!("{}s", release.timeout_seconds),
    ]))
    .and_then(|_| rollouts_finish(cluster, start + Duration::from_secs(release.timeout_seconds)));
    bar.finish_and_clear();
    if let Err(err) = result {
        return format!("the upgrade failed and rolling back to revision {good} failed too ({err:#}); {history}");
    }
    match (cluster.release_status(), all_ready(cluster)) {
        (Ok(Some((now, status))), ready) if status == "deployed" => format!(
            "the upgrade failed and was rolled back (rollback_on_failure): revision {now} serves what revision {good} \
             did, pods {}; {history} keeps the failed revision",
            if ready.unwrap_or(false) { "ready" } else { "not all ready yet" },
        ),
        (Ok(Some((now, status))), _) => {
            format!("the upgrade failed and the rollback did not complete: revision {now} is {status}; {history}")
        }
        (Ok(None), _) => format!("the upgrade failed and the release is gone; {history}"),
        (Err(err), _) => format!("the upgrade failed and was rolled back to revision {good}, but {err:#}; {history}"),
    }
}

/// Prints where the app answers: the URL a user opens (Minikube's, or a NodePort on the
/// node's address), else how to open a port-forward to it. Returns that URL.
fn print_address(cluster: &Cluster<'_>) -> Option<String> {
    let entry = &cluster.config.release.entrypoint;
    let ns = &cluster.config.release.namespace;
    match cluster.direct_url(entry) {
        Ok(Some(url)) => {
            println!("\n  todo-chatbot is up: {url}");
            return Some(url);
        }
        Ok(None) => {}
        Err(err) => eprintln!("warning: cannot read the address of svc/{}: {err:#}", entry.service),
    }
    let url = format!("http://localhost:{}", entry.port);
    let kubeconfig = cluster.env.kubeconfig.as_ref().map(|k| format!("--kubeconfig {k} ")).unwrap_or_default();
    println!(
        "\n  todo-chatbot is up. Open it with:\n    kubectl {kubeconfig}-n {ns} port-forward svc/{} {}:{}\n  then {url}",
        entry.service, entry.port, entry.port
    );
    Some(url)
}
