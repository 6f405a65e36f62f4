//! infra.toml: the deployment, declared (every key is documented in docs/infra.md).
//!
//! Loading checks everything that can be checked without running anything, and points at the
//! offending key with file, line and column: unknown keys, wrong types, missing contexts,
//! Dockerfiles, charts and values files, unknown or cyclic `depends_on`, bad tag schemes.
//!
//! This module is the model xtask works with; `raw` is the file as written (serde, with spans),
//! `parse` turns one into the other, checking as it goes, and `error` points into the file.

// A ConfigError carries the offending line to show; it is built once per run, at most.
#![allow(clippy::result_large_err)]

mod error;
mod parse;
mod raw;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use anyhow::Result;
use camino::{Utf8Path, Utf8PathBuf};

use self::parse::parse;

pub struct Config {
    pub path: Utf8PathBuf,
    /// infra.toml's directory: every path in it is relative to this one.
    pub root: Utf8PathBuf,
    pub default_environment: String,
    /// In build order: every image after the images it depends on.
    pub images: Vec<Image>,
    pub release: Release,
    pub environments: BTreeMap<String, Environment>,
}

#[derive(Default)]
pub struct Image {
    /// The key under `[images]`; what `cargo xtask build KEY` takes.
    pub key: String,
    /// The repository part of the reference, e.g. `todo-backend`.
    pub name: String,
    pub context: Utf8PathBuf,
    pub dockerfile: Utf8PathBuf,
    pub target: Option<String>,
    pub tag: String,
    pub depends_on: Vec<String>,
    /// Unevaluated: `${VAR}`, `${VAR:-default}` and `{images.KEY}` are expanded per run.
    pub build_args: BTreeMap<String, String>,
    pub budgets: ImageBudgets,
}

#[derive(Default, Clone, Copy)]
pub struct ImageBudgets {
    pub size_mb: Option<f64>,
    pub build_seconds: Option<f64>,
}

pub struct Release {
    pub name: String,
    pub namespace: String,
    pub chart: Utf8PathBuf,
    pub timeout_seconds: u64,
    /// Image key → the values prefix that gets `.repository` and `.tag`.
    pub images: BTreeMap<String, String>,
    /// Helm value path → environment variable it comes from.
    pub secrets: BTreeMap<String, String>,
    pub existing_secret_value: String,
    /// The chart value that takes `[{name: …}]`, set when an environment has a `pull_secret`.
    pub pull_secrets_value: String,
    /// Images the chart runs that we don't build (e.g. `postgres:17`): loaded like ours into
    /// clusters that can't pull them.
    pub extra_images: Vec<String>,
    pub entrypoint: ServicePort,
    pub budgets: ReleaseBudgets,
}

#[derive(Clone, Debug)]
pub struct ServicePort {
    pub service: String,
    pub port: u16,
    pub path: String,
}

pub struct ReleaseBudgets {
    pub deploy_seconds: Option<f64>,
    pub pod_ready_seconds: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub latency_requests: u32,
    pub latency_targets: Vec<ServicePort>,
    pub limits_fit_capacity: bool,
}

pub struct Environment {
    pub name: String,
    pub kind: EnvironmentKind,
    pub kubeconfig: Option<Utf8PathBuf>,
    pub context: Option<String>,
    pub values: Vec<Utf8PathBuf>,
    /// Helm values set by this environment, typed as in TOML.
    pub set: BTreeMap<String, serde_json::Value>,
    pub required_secrets: Vec<String>,
    pub existing_secret: Option<String>,
    pub capacity: Option<Capacity>,
    /// Where images are pushed and the cluster pulls them from.
    pub registry: Option<Registry>,
    /// `up` rolls a failed upgrade back (`helm rollback`), so the revision before it keeps serving.
    pub rollback_on_failure: bool,
}

/// A registry the images go through: `build` asks it before building and pushes what it lacks;
/// `up` deploys by digest from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    /// `host[:port]`, e.g. `ghcr.io`, `127.0.0.1:5000`.
    pub host: String,
    /// What image names go under (`acme` in `ghcr.io/acme`), possibly empty.
    pub namespace: String,
    /// The Kubernetes Secret (type docker-registry) the pods pull with.
    pub pull_secret: Option<String>,
}

impl Registry {
    /// `<host>/<namespace>/<name>`, the repository an image is pushed to.
    pub fn repository(&self, name: &str) -> String {
        if self.namespace.is_empty() {
            format!("{}/{name}", self.host)
        } else {
            format!("{}/{}/{name}", self.host, self.namespace)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvironmentKind {
    /// Images are built straight into Minikube's Docker; its Service URL is the address.
    Minikube { profile: String },
    /// Images are built locally, then `kind load docker-image`.
    Kind { cluster: String },
    /// Any cluster: images built locally, then `load` runs (none with a registry: the nodes
    /// pull); the address is a port-forward.
    Kube { load: Vec<String> },
}

/// What the environment offers the release; a size left out is read from the cluster (the nodes'
/// allocatable CPU and memory) or, for connections, from the chart's database.maxConnections.
#[derive(Clone, Copy, Debug, Default)]
pub struct Capacity {
    pub memory_mb: Option<f64>,
    pub cpu: Option<f64>,
    /// Connections the database accepts from the release (its max_connections less the others').
    pub database_connections: Option<u32>,
}

pub fn load(path: &Utf8Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        anyhow::anyhow!(
            "cannot read {path}: {err}\n  = help: run from the project (infra.toml is at its root) or pass --config PATH"
        )
    })?;
    Ok(parse(path, &text)?)
}

impl Config {
    pub fn environment(&self, name: Option<&str>) -> Result<&Environment> {
        let name = name.unwrap_or(&self.default_environment);
        self.environments.get(name).ok_or_else(|| {
            anyhow::anyhow!(
                "no environment `{name}` in {}; declared: {}",
                self.path,
                self.environments.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn image(&self, key: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.key == key || i.name == key)
    }
}

/// The tag must be derived from the content hash: anything else (`latest`, a date) would make
/// the cache lie.
pub fn check_tag_scheme(scheme: &str) -> Result<(), String> {
    let mut has_hash = false;
    let mut rest = scheme;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("unclosed `{{` in `{scheme}`"));
        };
        let var = &rest[open + 1..open + close];
        match var.split_once(':') {
            None if var == "hash" => {}
            Some(("hash", n)) => match n.parse::<usize>() {
                Ok(8..=64) => {}
                _ => return Err(format!("`{{{var}}}`: the length must be a number from 8 to 64")),
            },
            _ => return Err(format!("unknown variable `{{{var}}}` (only {{hash}} and {{hash:N}})")),
        }
        has_hash = true;
        rest = &rest[open + close + 1..];
    }
    if !has_hash {
        return Err(format!("`{scheme}` does not contain the content hash"));
    }
    let sample = render_tag(scheme, &"0".repeat(64));
    if sample.len() > 128
        || !sample.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        || !sample.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(format!("`{scheme}` does not give a valid Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})"));
    }
    Ok(())
}

pub fn render_tag(scheme: &str, hash: &str) -> String {
    let mut out = String::new();
    let mut rest = scheme;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("checked at load");
        let var = &rest[open + 1..close];
        let n = var.split_once(':').map_or(hash.len(), |(_, n)| n.parse().expect("checked at load"));
        out.push_str(&hash[..n.min(hash.len())]);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The image keys a build arg refers to as `{images.KEY}`.
pub fn image_references(value: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("{images.") {
        let after = &rest[start + "{images.".len()..];
        match after.find('}') {
            Some(end) => {
                refs.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    refs
}

/// Kahn's algorithm over `node → dependencies`. `Err` holds a cycle as a closed chain
/// (`a → b → a`).
pub fn topo_sort<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Result<Vec<&'a str>, Vec<&'a str>> {
    let mut done: Vec<&str> = Vec::new();
    while done.len() < graph.len() {
        let ready = graph.iter().find(|(node, deps)| !done.contains(node) && deps.iter().all(|d| done.contains(d)));
        match ready {
            Some((node, _)) => done.push(node),
            None => {
                // Every remaining node waits on another remaining one: follow the edges until
                // a node repeats, which closes the cycle.
                let mut chain: Vec<&str> = vec![graph.keys().find(|n| !done.contains(n)).unwrap()];
                loop {
                    let last = chain.last().unwrap();
                    let next = graph[last].iter().find(|d| !done.contains(d)).unwrap();
                    if let Some(at) = chain.iter().position(|n| n == next) {
                        let mut cycle = chain[at..].to_vec();
                        cycle.push(next);
                        return Err(cycle);
                    }
                    chain.push(next);
                }
            }
        }
    }
    Ok(done)
}
