//! `cargo xtask up [--env NAME]`: preflight, build, load, `helm upgrade --install --wait`, wait
//! for the rollout, print the URL. A second `up` with nothing changed builds nothing, loads
//! nothing, and skips helm (the release's fingerprint is unchanged), so it takes seconds.

use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{json, Map, Value};

use crate::{
    cluster::Cluster,
    cmd::build::{build_images, finish},
    config::{self, Config, Environment, EnvironmentKind},
    digest_key::DigestKey,
    docker::Docker,
    dotenv,
    flags::EnvArgs,
    hash,
    plan::ImagePlan,
    process,
    progress::spinner,
    report::{self, DeployRecord, ReleaseReport, Report, State},
};

/// The label on a namespace `up` created, so `down` deletes only namespaces that are ours.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "cargo-xtask");

pub fn run(config_path: &Utf8Path, args: &EnvArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.name.as_deref())?;
    let mut report = Report::new("up", Some(&env.name));
    let start = Instant::now();
    let result = up(&config, env, &mut report);
    finish(&config, &mut report, start, &result);
    result.map(|_| ExitCode::SUCCESS)
}

fn up(config: &Config, env: &Environment, report: &mut Report) -> Result<()> {
    let cluster = Cluster::new(config, env);
    eprintln!("preflight for environment `{}`", env.name);
    cluster.preflight()?;
    let docker = Docker::for_environment(env)?;
    docker.check()?;
    let secrets = secret_values(config, env)?;

    let plans = build_images(config, &docker, &[], false, report)?;
    load_missing(&cluster, &docker, &plans, report)?;

    let values = generated_values(config, env, &plans);
    let mut state = State::load(&config.root)?;
    let fingerprint = fingerprint(config, env, &values, &secrets, &state.key)?;
    let release = &config.release;
    let mut release_report =
        ReleaseReport { name: release.name.clone(), namespace: release.namespace.clone(), ..ReleaseReport::default() };
    let unchanged = match (state.deploys.get(&env.name), cluster.release_status()?) {
        (Some(record), Some((revision, status))) => {
            record.fingerprint == fingerprint
                && record.revision == revision
                && status == "deployed"
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
        state = State::load(&config.root)?;
        state.deploys.insert(
            env.name.clone(),
            DeployRecord {
                fingerprint,
                revision,
                deploy_seconds: seconds,
                deployed_at: report::now_rfc3339(),
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

/// Helm values from the environment / .env for `release.secrets`, or `existingSecret`.
pub fn secret_values(config: &Config, env: &Environment) -> Result<Value> {
    let dotenv = dotenv::load(&config.root.join(".env"))?;
    let lookup =
        |var: &str| std::env::var(var).ok().or_else(|| dotenv.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone()));
    secrets_from(config, env, &lookup)
}

fn secrets_from(config: &Config, env: &Environment, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Value> {
    let mut values = json!({});
    if let Some(name) = &env.existing_secret {
        insert_path(&mut values, &config.release.existing_secret_value, json!(name));
        return Ok(values);
    }
    let mut missing = Vec::new();
    for (path, var) in &config.release.secrets {
        match lookup(var).filter(|v| !v.is_empty()) {
            Some(value) => insert_path(&mut values, path, json!(value)),
            None if env.required_secrets.contains(var) => missing.push(var.as_str()),
            None => {}
        }
    }
    if !missing.is_empty() {
        bail!(
            "environment `{}` needs {}: export {} (or put them in {}/.env){}",
            env.name,
            missing.join(", "),
            missing.iter().map(|v| format!("{v}=…")).collect::<Vec<_>>().join(" "),
            config.root,
            if missing.contains(&"BETTER_AUTH_SECRET") { "; a secret: `openssl rand -base64 32`" } else { "" }
        );
    }
    Ok(values)
}

/// The values `up` sets: image repositories and tags, then the environment's `set`.
pub fn generated_values(config: &Config, env: &Environment, plans: &[ImagePlan]) -> Value {
    let mut values = json!({});
    for plan in plans {
        if let Some(prefix) = config.release.images.get(&plan.key) {
            let name = plan.reference.rsplit_once(':').map_or(plan.reference.as_str(), |(n, _)| n);
            insert_path(&mut values, &format!("{prefix}.repository"), json!(name));
            insert_path(&mut values, &format!("{prefix}.tag"), json!(plan.tag));
        }
    }
    for (path, value) in &env.set {
        insert_path(&mut values, path, value.clone());
    }
    values
}

pub fn insert_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().unwrap();
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        node = map.entry(part.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    }
}

pub fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(root, |node, part| node.get(part))
}

/// Everything the release is installed from. Secrets enter only through this digest, keyed
/// with the machine's key.
fn fingerprint(config: &Config, env: &Environment, values: &Value, secrets: &Value, key: &DigestKey) -> Result<String> {
    let chart = hash::snapshot(&config.release.chart, &config.release.chart.join("Chart.yaml"))?;
    let mut text = format!("release v1\n{}\n{}\n{}\n", config.release.name, config.release.namespace, chart.digest);
    for file in &env.values {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
        text.push_str(&format!("{file}\0{}\n", hash::sha256_hex(&bytes)));
    }
    text.push_str(&values.to_string());
    text.push('\n');
    text.push_str(&secrets.to_string());
    Ok(key.digest(text.as_bytes()))
}

fn ensure_namespace(cluster: &Cluster<'_>) -> Result<()> {
    if cluster.namespace_exists()?.is_some() {
        return Ok(());
    }
    let ns = &cluster.config.release.namespace;
    process::read(cluster.kubectl().args(["create", "namespace", ns]))?;
    // Ours: `down` may delete it. The restricted Pod Security Standard is enforced in it,
    // so a pod that isn't non-root and locked down is refused, not silently run.
    process::read(cluster.kubectl().args([
        "label",
        "namespace",
        ns,
        &format!("{}={}", MANAGED_BY.0, MANAGED_BY.1),
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    ]))?;
    eprintln!("namespace {ns}: created (restricted Pod Security Standard)");
    Ok(())
}

/// `helm upgrade --install --wait`, then every Deployment's rollout, within the release's
/// timeout. Returns the seconds from helm's start to all pods ready.
fn deploy(config: &Config, cluster: &Cluster<'_>, values: &Value, secrets: &Value) -> Result<f64> {
    let release = &config.release;
    let dir = report::dir(&config.root);
    std::fs::create_dir_all(&dir)?;
    let values_file = dir.join(format!("values-{}.json", cluster.env.name));
    std::fs::write(&values_file, serde_json::to_string_pretty(values)?)?;
    let secrets_file = SecretFile::write(&dir.join(format!("secrets-{}.json", std::process::id())), secrets)?;

    let start = Instant::now();
    let deadline = start + Duration::from_secs(release.timeout_seconds);
    let mut helm = cluster.helm();
    helm.args(["upgrade", "--install", &release.name, release.chart.as_str()]);
    for file in &cluster.env.values {
        helm.args(["--values", file.as_str()]);
    }
    helm.args(["--values", values_file.as_str(), "--values", secrets_file.0.as_str()]).args([
        "--wait",
        "--timeout",
        &format!("{}s", release.timeout_seconds),
    ]);
    let bar = spinner(format!("helm upgrade --install {} (waiting for the pods)", release.name));
    let result = process::read(&mut helm);
    bar.finish_and_clear();
    result.with_context(|| {
        format!(
            "helm could not install the release within {}s; look at `kubectl -n {} get pods` and `kubectl -n {} describe pod`, or `cargo xtask status --env {}`",
            release.timeout_seconds, release.namespace, release.namespace, cluster.env.name
        )
    })?;
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
        .with_context(|| format!("{name} did not finish rolling out before the deadline"))?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// A 0600 file that is removed when dropped: secrets reach helm without a command line.
struct SecretFile(Utf8PathBuf);

impl SecretFile {
    fn write(path: &Utf8Path, value: &Value) -> Result<SecretFile> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        file.write_all(serde_json::to_string(value)?.as_bytes())?;
        Ok(SecretFile(path.to_owned()))
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn all_ready(cluster: &Cluster<'_>) -> Result<bool> {
    let pods = cluster.pods()?;
    Ok(!pods.is_empty()
        && pods.iter().filter(|p| p["status"]["phase"] != "Succeeded").all(|p| {
            p["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        }))
}

pub fn deployed_values(cluster: &Cluster<'_>) -> Result<Value> {
    let out = process::read(cluster.helm().args(["get", "values", &cluster.config.release.name, "-o", "json"]))?;
    Ok(serde_json::from_str(&out)?)
}

fn print_address(cluster: &Cluster<'_>) -> Option<String> {
    let entry = &cluster.config.release.entrypoint;
    let ns = &cluster.config.release.namespace;
    match &cluster.env.kind {
        EnvironmentKind::Minikube { .. } => match cluster.address(entry) {
            Ok((url, _)) => {
                println!("\n  todo-chatbot is up: {url}");
                Some(url)
            }
            Err(err) => {
                eprintln!("warning: no URL: {err:#}");
                None
            }
        },
        _ => {
            let url = format!("http://localhost:{}", entry.port);
            let kubeconfig = cluster.env.kubeconfig.as_ref().map(|k| format!("--kubeconfig {k} ")).unwrap_or_default();
            println!(
                "\n  todo-chatbot is up. Open it with:\n    kubectl {kubeconfig}-n {ns} port-forward svc/{} {}:{}\n  then {url}",
                entry.service, entry.port, entry.port
            );
            Some(url)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dotted_paths_become_nested_values() {
        let mut values = json!({});
        insert_path(&mut values, "backend.image.repository", json!("todo-backend"));
        insert_path(&mut values, "backend.image.tag", json!("abc"));
        insert_path(&mut values, "postgresql.enabled", json!(true));
        assert_eq!(
            values,
            json!({"backend": {"image": {"repository": "todo-backend", "tag": "abc"}}, "postgresql": {"enabled": true}})
        );
        assert_eq!(lookup(&values, "backend.image.tag"), Some(&json!("abc")));
        assert_eq!(lookup(&values, "frontend.image.tag"), None);
    }

    #[test]
    fn required_secrets_missing_are_named_with_the_fix() {
        let config = config::load(&crate::project_root().join("infra.toml")).unwrap();
        let kube = config.environment(Some("kube")).unwrap();
        let none = |_: &str| None;
        let err = secrets_from(&config, kube, &none).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "environment `kube` needs BETTER_AUTH_SECRET, DATABASE_URL: export BETTER_AUTH_SECRET=… DATABASE_URL=…"
            ),
            "{err}"
        );
        assert!(err.contains("openssl rand -base64 32"), "{err}");
        let set = |var: &str| (var != "OPENAI_API_KEY").then(|| format!("value-of-{var}"));
        assert_eq!(
            secrets_from(&config, kube, &set).unwrap(),
            json!({"secrets": {"betterAuthSecret": "value-of-BETTER_AUTH_SECRET", "databaseUrl": "value-of-DATABASE_URL"}})
        );
        // The development environment needs none.
        let minikube = config.environment(Some("minikube")).unwrap();
        assert_eq!(secrets_from(&config, minikube, &none).unwrap(), json!({}));
    }
}
