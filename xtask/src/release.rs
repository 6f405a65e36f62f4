//! The Helm release as `up`, `plan`, `down`, `status`, `render` and `diff` see it: the values
//! xtask generates, the secrets it passes, the fingerprint that tells an unchanged release, what
//! is deployed and what was edited by hand since.

use std::{io::Write, os::unix::fs::OpenOptionsExt};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{json, Map, Value};

use crate::{
    cluster::Cluster,
    config::{Config, Environment},
    digest_key::DigestKey,
    dotenv, hash,
    object_diff::{self, Drift, ObjectId},
    plan::ImagePlan,
    process, report,
};

/// The label on a namespace `up` created, so `down` deletes only namespaces that are ours.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "cargo-xtask");

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

/// The values `up` sets: image repositories and tags (`tag@sha256:…` from a registry, so
/// the cluster runs exactly what was checked), the pull secret, then the environment's `set`.
pub fn generated_values(config: &Config, env: &Environment, plans: &[ImagePlan]) -> Value {
    let mut values = json!({});
    for plan in plans {
        if let Some(prefix) = config.release.images.get(&plan.key) {
            insert_path(&mut values, &format!("{prefix}.repository"), json!(plan.repository()));
            insert_path(&mut values, &format!("{prefix}.tag"), json!(plan.deployed_tag()));
        }
    }
    if let Some(secret) = env.registry.as_ref().and_then(|r| r.pull_secret.as_ref()) {
        insert_path(&mut values, &config.release.pull_secrets_value, json!([{ "name": secret }]));
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
pub fn fingerprint(
    config: &Config,
    env: &Environment,
    values: &Value,
    secrets: &Value,
    key: &DigestKey,
) -> Result<String> {
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

/// Creates the release's namespace unless it exists, labelled as ours.
pub fn ensure_namespace(cluster: &Cluster<'_>) -> Result<()> {
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

/// Every pod of the release is ready, leaving out finished ones and those being deleted (the
/// pods of a replaced revision on their way out serve nothing).
pub fn all_ready(cluster: &Cluster<'_>) -> Result<bool> {
    let pods = cluster.pods()?;
    let current: Vec<&Value> = pods
        .iter()
        .filter(|p| p["status"]["phase"] != "Succeeded" && p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    Ok(!current.is_empty()
        && current.iter().all(|p| {
            p["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        }))
}

/// The values files helm gets, in order: the environment's, then the generated values
/// (`values-<env>.json`, kept for reading), then the secrets in a `0600` file removed on drop.
pub struct ValuesFiles {
    files: Vec<Utf8PathBuf>,
    _secrets: SecretFile,
}

impl ValuesFiles {
    pub fn write(config: &Config, env: &Environment, values: &Value, secrets: &Value) -> Result<ValuesFiles> {
        let dir = report::dir(&config.root);
        std::fs::create_dir_all(&dir)?;
        let generated = dir.join(format!("values-{}.json", env.name));
        std::fs::write(&generated, serde_json::to_string_pretty(values)?)?;
        // Unique per process and call: `diff` and `up` may run at once.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let secrets = SecretFile::write(&dir.join(format!("secrets-{}-{n}.json", std::process::id())), secrets)?;
        let mut files = env.values.clone();
        files.extend([generated, secrets.0.clone()]);
        Ok(ValuesFiles { files, _secrets: secrets })
    }

    /// `--values FILE` for each.
    pub fn args(&self) -> Vec<String> {
        self.files.iter().flat_map(|f| ["--values".to_owned(), f.to_string()]).collect()
    }
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

/// What `helm upgrade --install` would apply now, from helm's own server-side dry run (the
/// chart's `lookup` reads the live Secrets, as in a real upgrade): the manifest, hooks excluded.
pub fn dry_run_manifest(cluster: &Cluster<'_>, values: &ValuesFiles) -> Result<String> {
    let release = &cluster.config.release;
    let mut helm = cluster.helm();
    helm.args(["upgrade", "--install", &release.name, release.chart.as_str()]).args(values.args()).args([
        "--dry-run=server",
        "--output",
        "json",
    ]);
    let out = process::read(&mut helm)
        .context("helm's server-side dry run failed (it needs Helm 3.13+ or 4, and the cluster's API server)")?;
    let json: Value = serde_json::from_str(&out).context("unexpected `helm upgrade --dry-run --output json` output")?;
    Ok(json["manifest"].as_str().unwrap_or("").to_owned())
}

/// The manifest of the deployed revision (`helm get manifest`).
pub fn deployed_manifest(cluster: &Cluster<'_>) -> Result<String> {
    process::read(cluster.helm().args(["get", "manifest", &cluster.config.release.name]))
}

/// The live objects of the deployed revision, and every field of them set by hand since helm
/// applied them (edited, added or removed by someone other than helm and the controllers, and
/// no longer what the deployed manifest says).
pub fn drift(cluster: &Cluster<'_>) -> Result<(Vec<Value>, Vec<Drift>)> {
    let manifest = deployed_manifest(cluster)?;
    let live = cluster.live_objects(&manifest)?;
    let manifest_objects = cluster.manifest_objects(&manifest)?;
    let defaulted = cluster.applied_objects(&manifest)?;
    let find = |objects: &'_ [Value], id: &ObjectId| -> Option<Value> {
        objects.iter().find(|o| o["kind"] == id.kind.as_str() && o["metadata"]["name"] == id.name.as_str()).cloned()
    };
    let mut fields = Vec::new();
    for object in &live {
        let id = ObjectId::of(object);
        let (raw, stored) = (find(&manifest_objects, &id), find(&defaulted, &id));
        fields.extend(object_diff::drift(object, raw.as_ref(), stored.as_ref()));
    }
    Ok((live, fields))
}

pub fn deployed_values(cluster: &Cluster<'_>) -> Result<Value> {
    let out = process::read(cluster.helm().args(["get", "values", &cluster.config.release.name, "-o", "json"]))?;
    Ok(serde_json::from_str(&out)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{config, tools::project_root};

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
    fn from_a_registry_the_values_name_the_digest_and_the_pull_secret() {
        use crate::{config::Registry, docker::ImageInfo, plan::ImagePlan};
        let mut config = config::load(&project_root().join("infra.toml")).unwrap();
        let registry =
            Registry { host: "ghcr.io".into(), namespace: "acme".into(), pull_secret: Some("ghcr-pull".into()) };
        config.environments.get_mut("kube").unwrap().registry = Some(registry);
        let digest = format!("sha256:{}", "d".repeat(64));
        let plan = |key: &str, digest: Option<&str>| {
            let info = ImageInfo { id: "sha256:c".into(), size_bytes: None, digest: digest.map(str::to_owned) };
            ImagePlan {
                key: key.into(),
                tag: "0123456789ab".into(),
                reference: format!("ghcr.io/acme/todo-{key}:0123456789ab"),
                present: Some(info),
                ..ImagePlan::default()
            }
        };
        let values =
            generated_values(&config, config.environment(Some("kube")).unwrap(), &[plan("backend", Some(&digest))]);
        assert_eq!(values["backend"]["image"]["repository"], "ghcr.io/acme/todo-backend");
        assert_eq!(values["backend"]["image"]["tag"], format!("0123456789ab@{digest}"));
        assert_eq!(values["imagePullSecrets"], json!([{"name": "ghcr-pull"}]));
        // Without a registry: the tag alone, no pull secret.
        let values = generated_values(&config, config.environment(Some("minikube")).unwrap(), &[plan("backend", None)]);
        assert_eq!(values["backend"]["image"]["tag"], "0123456789ab");
        assert!(values.get("imagePullSecrets").is_none());
    }

    #[test]
    fn the_fingerprint_covers_the_secrets_under_the_machines_key() {
        use crate::{digest_key::DigestKey, testutil::TempDir};
        let config = config::load(&project_root().join("infra.toml")).unwrap();
        let env = config.environment(Some("minikube")).unwrap();
        let dir = TempDir::new();
        let (key, other) = (
            DigestKey::load_from(&dir.join("a/digest.key")).unwrap(),
            DigestKey::load_from(&dir.join("b/digest.key")).unwrap(),
        );
        let secrets = json!({"secrets": {"betterAuthSecret": "hunter2"}});
        let print = |key: &DigestKey, secrets: &Value| fingerprint(&config, env, &json!({}), secrets, key).unwrap();
        assert_eq!(print(&key, &secrets), print(&key, &secrets));
        assert_ne!(print(&key, &secrets), print(&key, &json!({"secrets": {"betterAuthSecret": "hunter3"}})));
        // Keyed: another machine's key gives another digest, so a guess cannot be checked offline.
        assert_ne!(print(&key, &secrets), print(&other, &secrets));
    }

    #[test]
    fn required_secrets_missing_are_named_with_the_fix() {
        let config = config::load(&project_root().join("infra.toml")).unwrap();
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
