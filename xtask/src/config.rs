//! infra.toml: the deployment, declared (every key is documented in docs/infra.md).
//!
//! Loading checks everything that can be checked without running anything, and points at the
//! offending key with file, line and column: unknown keys, wrong types, missing contexts,
//! Dockerfiles, charts and values files, unknown or cyclic `depends_on`, bad tag schemes.

// A ConfigError carries the offending line to show; it is built once per run, at most.
#![allow(clippy::result_large_err)]

use std::{collections::BTreeMap, fmt, ops::Range};

use anyhow::Result;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use toml::Spanned;

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
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvironmentKind {
    /// Images are built straight into Minikube's Docker; its Service URL is the address.
    Minikube { profile: String },
    /// Images are built locally, then `kind load docker-image`.
    Kind { cluster: String },
    /// Any cluster: images built locally, then `load` runs; the address is a port-forward.
    Kube { load: Vec<String> },
}

#[derive(Clone, Copy, Debug)]
pub struct Capacity {
    pub memory_mb: f64,
    pub cpu: f64,
}

// ---- the file as written ----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_environment: Option<Spanned<String>>,
    images: Spanned<BTreeMap<Spanned<String>, Spanned<RawImage>>>,
    release: Spanned<RawRelease>,
    environments: Spanned<BTreeMap<Spanned<String>, Spanned<RawEnvironment>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: Spanned<String>,
    context: Spanned<String>,
    dockerfile: Option<Spanned<String>>,
    target: Option<String>,
    tag: Option<Spanned<String>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    build_args: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    budgets: RawImageBudgets,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawImageBudgets {
    size_mb: Option<Spanned<f64>>,
    build_seconds: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    name: Spanned<String>,
    namespace: Spanned<String>,
    chart: Spanned<String>,
    #[serde(default = "default_timeout")]
    timeout_seconds: u64,
    #[serde(default)]
    images: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    secrets: BTreeMap<String, Spanned<String>>,
    #[serde(default = "default_existing_secret_value")]
    existing_secret_value: String,
    #[serde(default)]
    extra_images: Vec<String>,
    entrypoint: RawServicePort,
    #[serde(default)]
    budgets: RawReleaseBudgets,
}

fn default_timeout() -> u64 {
    300
}

fn default_existing_secret_value() -> String {
    "existingSecret".into()
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawServicePort {
    service: String,
    port: u16,
    #[serde(default = "root_path")]
    path: String,
}

fn root_path() -> String {
    "/".into()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReleaseBudgets {
    deploy_seconds: Option<Spanned<f64>>,
    pod_ready_seconds: Option<Spanned<f64>>,
    p95_latency_ms: Option<Spanned<f64>>,
    latency_requests: Option<Spanned<u32>>,
    #[serde(default)]
    latency_targets: Vec<RawServicePort>,
    #[serde(default)]
    limits_fit_capacity: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    profile: Option<String>,
    cluster: Option<String>,
    load: Option<Spanned<Vec<String>>>,
    kubeconfig: Option<String>,
    context: Option<String>,
    #[serde(default)]
    values: Vec<Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    required_secrets: Vec<Spanned<String>>,
    existing_secret: Option<String>,
    capacity: Option<RawCapacity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    memory_mb: f64,
    cpu: f64,
}

// ---- errors that point into the file ----------------------------------------------------

/// A configuration error: file, line, column, the key, the line itself, and what to do.
#[derive(Debug)]
pub struct ConfigError {
    pub path: Utf8PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
    pub help: Option<String>,
    snippet: String,
    underline: Range<usize>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() { String::new() } else { format!("{}: ", self.key) };
        writeln!(f, "{}:{}:{}: {key}{}", self.path, self.line, self.column, self.message)?;
        let gutter = self.line.to_string().len();
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.snippet)?;
        let width = (self.underline.end - self.underline.start).max(1);
        write!(f, "{:gutter$} | {}{}", "", " ".repeat(self.underline.start), "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

struct Source<'a> {
    path: &'a Utf8Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..].find('\n').map_or(self.text.len(), |i| start + i);
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let snippet = self.text[line_start..line_end].trim_end().to_owned();
        let end = span.end.clamp(start, line_end);
        let underline = (column - 1)..(column - 1 + self.text[start..end].chars().count());
        // Relative to where the user is, as compilers print paths.
        let cwd = std::env::current_dir().ok().and_then(|d| Utf8PathBuf::from_path_buf(d).ok());
        let path = cwd
            .and_then(|cwd| self.path.strip_prefix(&cwd).ok().map(Utf8Path::to_owned))
            .unwrap_or_else(|| self.path.to_owned());
        ConfigError { path, line, column, key: key.to_owned(), message: message.into(), help: None, snippet, underline }
    }
}

trait Help {
    fn help(self, help: impl Into<String>) -> Self;
}

impl Help for ConfigError {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The dotted key whose key or value contains `offset`, for serde's errors (which only carry
/// a span). Table headers don't span their bodies, so every leaf is visited.
fn key_at(text: &str, offset: usize) -> String {
    fn walk(table: &toml::de::DeTable<'_>, offset: usize, prefix: &str, best: &mut Option<(usize, String)>) {
        for (key, value) in table {
            let path =
                if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
            for span in [key.span(), value.span()] {
                let width = span.end - span.start;
                if span.contains(&offset) && best.as_ref().is_none_or(|(w, _)| width <= *w) {
                    *best = Some((width, path.clone()));
                }
            }
            match value.get_ref() {
                toml::de::DeValue::Table(inner) => walk(inner, offset, &path, best),
                toml::de::DeValue::Array(items) => {
                    for item in items {
                        if let toml::de::DeValue::Table(inner) = item.get_ref() {
                            walk(inner, offset, &path, best);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let Ok(doc) = toml::de::DeTable::parse(text) else { return String::new() };
    let mut best = None;
    walk(doc.get_ref(), offset, "", &mut best);
    best.map(|(_, path)| path).unwrap_or_default()
}

// ---- loading ----------------------------------------------------------------------------

pub fn load(path: &Utf8Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        anyhow::anyhow!(
            "cannot read {path}: {err}\n  = help: run from the project (infra.toml is at its root) or pass --config PATH"
        )
    })?;
    Ok(parse(path, &text)?)
}

pub fn parse(path: &Utf8Path, text: &str) -> Result<Config, ConfigError> {
    let src = Source { path, text };
    let raw: RawConfig = toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let key = key_at(text, span.start);
        let message = err.message().trim().to_owned();
        let error = src.error(span, &key, message.clone());
        if message.starts_with("unknown field") {
            error.help("remove it, or fix its spelling (docs/infra.md lists every key)")
        } else {
            error
        }
    })?;
    let root = path.parent().map(Utf8Path::to_owned).unwrap_or_default();
    let root = if root.as_str().is_empty() { Utf8PathBuf::from(".") } else { root };

    let mut images = Vec::new();
    for (key, image) in raw.images.get_ref() {
        images.push(image_from_raw(&src, &root, key, image)?);
    }
    let images = build_order(&src, raw.images.get_ref(), images)?;

    let release = release_from_raw(&src, &root, raw.release, &images)?;

    let mut environments = BTreeMap::new();
    let environments_span = raw.environments.span();
    for (name, env) in raw.environments.into_inner() {
        let env = environment_from_raw(&src, &root, name.get_ref(), env, &release)?;
        environments.insert(name.into_inner(), env);
    }
    if environments.is_empty() {
        return Err(src
            .error(environments_span, "environments", "no environment is declared")
            .help("declare one, e.g. [environments.minikube] with type = \"minikube\""));
    }
    let default_environment = match raw.default_environment {
        Some(name) => {
            if !environments.contains_key(name.get_ref()) {
                return Err(src
                    .error(name.span(), "default_environment", format!("no environment `{}`", name.get_ref()))
                    .help(format!("declared: {}", environments.keys().cloned().collect::<Vec<_>>().join(", "))));
            }
            name.into_inner()
        }
        None => environments.keys().next().unwrap().clone(),
    };
    Ok(Config { path: path.to_owned(), root, default_environment, images, release, environments })
}

fn image_from_raw(
    src: &Source<'_>,
    root: &Utf8Path,
    key: &Spanned<String>,
    raw: &Spanned<RawImage>,
) -> Result<Image, ConfigError> {
    let k = key.get_ref();
    let image = raw.get_ref();
    if !valid_repository(image.name.get_ref()) {
        return Err(src
            .error(
                image.name.span(),
                &format!("images.{k}.name"),
                format!("`{}` is not a valid image name", image.name.get_ref()),
            )
            .help("lowercase letters, digits and `._-/` separators, e.g. \"todo-backend\""));
    }
    let context = root.join(image.context.get_ref());
    if !context.is_dir() {
        return Err(src
            .error(
                image.context.span(),
                &format!("images.{k}.context"),
                format!("directory {} does not exist", shown(root, &context)),
            )
            .help("`context` is the build context directory, relative to infra.toml"));
    }
    let (dockerfile, span) = match &image.dockerfile {
        Some(d) => (context.join(d.get_ref()), d.span()),
        None => (context.join("Dockerfile"), image.context.span()),
    };
    if !dockerfile.is_file() {
        return Err(src
            .error(span, &format!("images.{k}.dockerfile"), format!("{} does not exist", shown(root, &dockerfile)))
            .help(
                "`dockerfile` is relative to the context (default: Dockerfile); a missing Dockerfile is never skipped",
            ));
    }
    let tag = match &image.tag {
        Some(tag) => {
            check_tag_scheme(tag.get_ref()).map_err(|why| {
                src.error(tag.span(), &format!("images.{k}.tag"), why)
                    .help("a tag scheme is text with `{hash}` or `{hash:N}` (N = 8..64 hex digits), e.g. \"{hash:12}\"")
            })?;
            tag.get_ref().clone()
        }
        None => "{hash:12}".to_owned(),
    };
    let mut build_args = BTreeMap::new();
    for (name, value) in &image.build_args {
        for reference in image_references(value.get_ref()) {
            if !image.depends_on.iter().any(|d| *d.get_ref() == reference) {
                return Err(src
                    .error(
                        value.span(),
                        &format!("images.{k}.build_args.{name}"),
                        format!("uses {{images.{reference}}}, which is not in depends_on"),
                    )
                    .help(format!("add \"{reference}\" to images.{k}.depends_on")));
            }
        }
        build_args.insert(name.clone(), value.get_ref().clone());
    }
    let budget = |b: &Option<Spanned<f64>>, name: &str| -> Result<Option<f64>, ConfigError> {
        match b {
            Some(v) if *v.get_ref() <= 0.0 => {
                Err(src.error(v.span(), &format!("images.{k}.budgets.{name}"), "a budget must be positive"))
            }
            Some(v) => Ok(Some(*v.get_ref())),
            None => Ok(None),
        }
    };
    Ok(Image {
        key: k.clone(),
        name: image.name.get_ref().clone(),
        context,
        dockerfile,
        target: image.target.clone(),
        tag,
        depends_on: image.depends_on.iter().map(|d| d.get_ref().clone()).collect(),
        build_args,
        budgets: ImageBudgets {
            size_mb: budget(&image.budgets.size_mb, "size_mb")?,
            build_seconds: budget(&image.budgets.build_seconds, "build_seconds")?,
        },
    })
}

/// A path as the user wrote it: relative to infra.toml's directory.
fn shown<'p>(root: &Utf8Path, path: &'p Utf8Path) -> &'p Utf8Path {
    path.strip_prefix(root).unwrap_or(path)
}

fn valid_repository(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        })
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

/// Images sorted so that dependencies come first; unknown dependencies and cycles are errors
/// naming the chain. Among independent images the order is alphabetical, so it is stable.
fn build_order(
    src: &Source<'_>,
    raw: &BTreeMap<Spanned<String>, Spanned<RawImage>>,
    images: Vec<Image>,
) -> Result<Vec<Image>, ConfigError> {
    for (key, image) in raw {
        for dep in &image.get_ref().depends_on {
            if !raw.keys().any(|k| k.get_ref() == dep.get_ref()) {
                return Err(src
                    .error(
                        dep.span(),
                        &format!("images.{}.depends_on", key.get_ref()),
                        format!("no image `{}`", dep.get_ref()),
                    )
                    .help(format!(
                        "declared images: {}",
                        raw.keys().map(|k| k.get_ref().as_str()).collect::<Vec<_>>().join(", ")
                    )));
            }
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> =
        images.iter().map(|i| (i.key.as_str(), i.depends_on.iter().map(String::as_str).collect())).collect();
    let order: Vec<String> =
        topo_sort(&graph).map(|o| o.into_iter().map(str::to_owned).collect()).map_err(|cycle| {
            let first = cycle[0];
            let (key, image) = raw.iter().find(|(k, _)| k.get_ref() == first).unwrap();
            let next = cycle[1];
            let dep = image.get_ref().depends_on.iter().find(|d| d.get_ref() == next).unwrap();
            src.error(
                dep.span(),
                &format!("images.{}.depends_on", key.get_ref()),
                format!("dependency cycle: {}", cycle.join(" → ")),
            )
            .help("an image cannot depend on itself, directly or through others: remove one of these depends_on")
        })?;
    let mut images = images;
    let mut sorted = Vec::new();
    for key in order {
        let at = images.iter().position(|i| i.key == key).unwrap();
        sorted.push(images.remove(at));
    }
    Ok(sorted)
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

fn release_from_raw(
    src: &Source<'_>,
    root: &Utf8Path,
    raw: Spanned<RawRelease>,
    images: &[Image],
) -> Result<Release, ConfigError> {
    let raw = raw.into_inner();
    let chart = root.join(raw.chart.get_ref());
    if !chart.join("Chart.yaml").is_file() {
        return Err(src
            .error(raw.chart.span(), "release.chart", format!("{}/Chart.yaml does not exist", shown(root, &chart)))
            .help("`chart` is the chart directory, relative to infra.toml"));
    }
    let mut release_images = BTreeMap::new();
    for (key, prefix) in raw.images {
        if !images.iter().any(|i| &i.key == key.get_ref()) {
            return Err(src
                .error(
                    key.span(),
                    &format!("release.images.{}", key.get_ref()),
                    format!("no image `{}`", key.get_ref()),
                )
                .help("keys of release.images are keys of [images]"));
        }
        release_images.insert(key.into_inner(), prefix.into_inner());
    }
    let secrets = raw.secrets.into_iter().map(|(k, v)| (k, v.into_inner())).collect();
    let budget = |b: Option<Spanned<f64>>, name: &str| -> Result<Option<f64>, ConfigError> {
        match b {
            Some(v) if *v.get_ref() <= 0.0 => {
                Err(src.error(v.span(), &format!("release.budgets.{name}"), "a budget must be positive"))
            }
            Some(v) => Ok(Some(v.into_inner())),
            None => Ok(None),
        }
    };
    let b = raw.budgets;
    let entrypoint = service_port(raw.entrypoint);
    let latency_targets = if b.latency_targets.is_empty() {
        vec![entrypoint.clone()]
    } else {
        b.latency_targets.into_iter().map(service_port).collect()
    };
    Ok(Release {
        name: raw.name.into_inner(),
        namespace: raw.namespace.into_inner(),
        chart,
        timeout_seconds: raw.timeout_seconds,
        images: release_images,
        secrets,
        existing_secret_value: raw.existing_secret_value,
        extra_images: raw.extra_images,
        entrypoint,
        budgets: ReleaseBudgets {
            deploy_seconds: budget(b.deploy_seconds, "deploy_seconds")?,
            pod_ready_seconds: budget(b.pod_ready_seconds, "pod_ready_seconds")?,
            p95_latency_ms: budget(b.p95_latency_ms, "p95_latency_ms")?,
            latency_requests: b.latency_requests.map_or(100, |n| n.into_inner()).max(1),
            latency_targets,
            limits_fit_capacity: b.limits_fit_capacity,
        },
    })
}

fn service_port(raw: RawServicePort) -> ServicePort {
    ServicePort { service: raw.service, port: raw.port, path: raw.path }
}

fn environment_from_raw(
    src: &Source<'_>,
    root: &Utf8Path,
    name: &str,
    raw: Spanned<RawEnvironment>,
    release: &Release,
) -> Result<Environment, ConfigError> {
    let raw = raw.into_inner();
    let key = |k: &str| format!("environments.{name}.{k}");
    let kind = match raw.kind.get_ref().as_str() {
        "minikube" => EnvironmentKind::Minikube { profile: raw.profile.clone().unwrap_or_else(|| "minikube".into()) },
        "kind" => EnvironmentKind::Kind { cluster: raw.cluster.clone().unwrap_or_else(|| "kind".into()) },
        "kube" => match raw.load {
            Some(load) if !load.get_ref().is_empty() => {
                let argv = load.get_ref();
                if !argv.iter().any(|a| a.contains("{image}") || a == "{images}") {
                    return Err(src
                        .error(load.span(), &key("load"), "the load command names no image")
                        .help("use `{images}` (all images as arguments, one run) or `{image}` (one run per image)"));
                }
                EnvironmentKind::Kube { load: load.into_inner() }
            }
            _ => {
                return Err(src
                    .error(raw.kind.span(), &key("load"), "a `kube` environment needs a `load` command")
                    .help("e.g. load = [\"sh\", \"-c\", \"docker save {image} | ctr -n k8s.io images import -\"]"))
            }
        },
        other => {
            return Err(src
                .error(raw.kind.span(), &key("type"), format!("unknown environment type `{other}`"))
                .help("one of: minikube, kind, kube"))
        }
    };
    let mut values = Vec::new();
    for file in raw.values {
        let path = root.join(file.get_ref());
        if !path.is_file() {
            return Err(src
                .error(file.span(), &key("values"), format!("{} does not exist", shown(root, &path)))
                .help("values files are relative to infra.toml"));
        }
        values.push(path);
    }
    for secret in &raw.required_secrets {
        if !release.secrets.values().any(|v| v == secret.get_ref()) {
            return Err(src
                .error(
                    secret.span(),
                    &key("required_secrets"),
                    format!("`{}` is not one of release.secrets", secret.get_ref()),
                )
                .help("list it in [release.secrets] as \"helm.value.path\" = \"ENV_VAR\""));
        }
    }
    Ok(Environment {
        name: name.to_owned(),
        kind,
        kubeconfig: raw.kubeconfig.map(|p| root.join(expand_home(&p))),
        context: raw.context,
        values,
        set: raw
            .set
            .into_iter()
            .map(|(k, v)| (k, serde_json::to_value(v).expect("TOML values are JSON values")))
            .collect(),
        required_secrets: raw.required_secrets.into_iter().map(Spanned::into_inner).collect(),
        existing_secret: raw.existing_secret,
        capacity: raw.capacity.map(|c| Capacity { memory_mb: c.memory_mb, cpu: c.cpu }),
    })
}

fn expand_home(path: &str) -> Utf8PathBuf {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => Utf8PathBuf::from(home).join(rest),
        _ => Utf8PathBuf::from(path),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, INFRA_TOML};

    /// A project with two images and a chart; `extra` is appended to a valid infra.toml.
    fn project(toml: &str) -> (TempDir, Result<Config, ConfigError>) {
        let dir = TempDir::new();
        dir.write("app/Dockerfile", "FROM scratch\n");
        dir.write("base/Dockerfile", "FROM scratch\n");
        dir.write("chart/Chart.yaml", "name: c\n");
        dir.write("values-dev.yaml", "{}\n");
        dir.write("infra.toml", toml);
        let text = std::fs::read_to_string(dir.join("infra.toml")).unwrap();
        let config = parse(&dir.join("infra.toml"), &text);
        (dir, config)
    }

    fn error(toml: &str) -> ConfigError {
        match project(toml).1 {
            Ok(_) => panic!("expected an error for:\n{toml}"),
            Err(err) => err,
        }
    }

    #[test]
    fn a_valid_file_loads_with_images_in_build_order() {
        let (_dir, config) = project(INFRA_TOML);
        let config = config.unwrap();
        let keys: Vec<_> = config.images.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["base", "app"]);
        assert_eq!(config.images[1].tag, "{hash:12}");
        assert_eq!(config.default_environment, "dev");
        assert_eq!(config.release.budgets.latency_targets[0].service, "r-app");
    }

    #[test]
    fn the_real_infra_toml_loads() {
        let path = crate::project_root().join("infra.toml");
        let config = load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(config.default_environment, "minikube");
        for env in ["minikube", "kind", "local", "kube"] {
            assert!(config.environments.contains_key(env), "{env}");
        }
    }

    #[test]
    fn unknown_key_is_refused_with_file_line_and_key() {
        let err = error(&INFRA_TOML.replace("context = \"app\"", "context = \"app\"\ncontxt = \"x\""));
        assert_eq!(err.line, 6);
        assert_eq!(err.key, "images.app.contxt");
        assert!(err.message.starts_with("unknown field `contxt`"), "{}", err.message);
        let text = err.to_string();
        assert!(text.contains("infra.toml:6:1: images.app.contxt: unknown field"), "{text}");
        assert!(text.contains("6 | contxt = \"x\""), "{text}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = error(
            &INFRA_TOML.replace("context = \"base\"", "context = \"base\"\n[images.base.budgets]\nsize_mb = \"big\""),
        );
        assert_eq!(err.key, "images.base.budgets.size_mb");
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn missing_context_and_dockerfile_are_named() {
        let err = error(&INFRA_TOML.replace("context = \"base\"", "context = \"nowhere\""));
        assert_eq!((err.line, err.key.as_str()), (11, "images.base.context"));
        assert!(err.message.contains("nowhere does not exist"));
        let err =
            error(&INFRA_TOML.replace("context = \"base\"", "context = \"base\"\ndockerfile = \"Prod.Dockerfile\""));
        assert_eq!((err.line, err.key.as_str()), (12, "images.base.dockerfile"));
        assert!(err.message.contains("base/Prod.Dockerfile does not exist"), "{}", err.message);
    }

    #[test]
    fn cycles_are_named() {
        let err = error(&INFRA_TOML.replace("context = \"base\"", "context = \"base\"\ndepends_on = [\"app\"]"));
        assert_eq!(err.key, "images.app.depends_on");
        assert_eq!(err.message, "dependency cycle: app → base → app");
        let err = error(&INFRA_TOML.replace("depends_on = [\"base\"]", "depends_on = [\"base\", \"app\"]"));
        assert_eq!(err.message, "dependency cycle: app → app");
    }

    #[test]
    fn unknown_dependency_and_undeclared_image_reference() {
        let err =
            error(&INFRA_TOML.replace(
                "depends_on = [\"base\"]\nbuild_args = { BASE = \"{images.base}\" }",
                "depends_on = [\"bsae\"]",
            ));
        assert_eq!((err.line, err.message.as_str()), (6, "no image `bsae`"));
        let err = error(&INFRA_TOML.replace("depends_on = [\"base\"]\n", ""));
        assert_eq!(err.key, "images.app.build_args.BASE");
        assert!(err.message.contains("not in depends_on"));
    }

    #[test]
    fn tag_schemes_must_carry_the_hash() {
        let err = error(&INFRA_TOML.replace("context = \"app\"", "context = \"app\"\ntag = \"latest\""));
        assert_eq!(err.key, "images.app.tag");
        assert!(err.message.contains("does not contain the content hash"));
        assert!(check_tag_scheme("v-{hash:16}").is_ok());
        assert!(check_tag_scheme("{hash:4}").is_err());
        assert!(check_tag_scheme("{git}").is_err());
        assert_eq!(render_tag("v-{hash:4}", "abcdef12"), "v-abcd");
    }

    #[test]
    fn missing_chart_values_and_environment_are_named() {
        let err = error(&INFRA_TOML.replace("chart = \"chart\"", "chart = \"charts/x\""));
        assert_eq!(err.key, "release.chart");
        let err = error(&INFRA_TOML.replace("values = [\"values-dev.yaml\"]", "values = [\"values-dve.yaml\"]"));
        assert_eq!(err.key, "environments.dev.values");
        assert!(err.message.contains("values-dve.yaml does not exist"));
        let err = error(&INFRA_TOML.replace("default_environment = \"dev\"", "default_environment = \"prod\""));
        assert_eq!((err.line, err.key.as_str()), (1, "default_environment"));
        let err = error(&INFRA_TOML.replace("type = \"minikube\"", "type = \"k3s\""));
        assert!(err.help.unwrap().contains("minikube, kind, kube"));
        let err = error(&INFRA_TOML.replace("type = \"minikube\"", "type = \"kube\""));
        assert!(err.message.contains("needs a `load` command"));
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let err = error(&INFRA_TOML.replace("name = \"r\"", "name = r"));
        assert_eq!(err.line, 14);
        assert_eq!(err.key, "");
    }

    #[test]
    fn topological_order_is_stable_and_cycles_are_closed_chains() {
        let graph: BTreeMap<&str, Vec<&str>> =
            [("web", vec!["api", "base"]), ("api", vec!["base"]), ("base", vec![]), ("docs", vec![])]
                .into_iter()
                .collect();
        assert_eq!(topo_sort(&graph).unwrap(), ["base", "api", "docs", "web"]);
        let cyclic: BTreeMap<&str, Vec<&str>> =
            [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["b"]), ("d", vec![])].into_iter().collect();
        assert_eq!(topo_sort(&cyclic).unwrap_err(), ["a", "b", "c", "b"][1..].to_vec());
    }
}
