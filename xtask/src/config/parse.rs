//! From the file as written to the model, checking everything that can be checked without
//! running anything.

// A ConfigError carries the offending line to show; it is built once per run, at most.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use toml::Spanned;

use super::{
    check_tag_scheme,
    error::{key_at, ConfigError, Help, Source},
    image_references,
    raw::*,
    topo_sort, Capacity, Config, Environment, EnvironmentKind, Image, ImageBudgets, Registry, Release, ReleaseBudgets,
    ServicePort,
};

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
        pull_secrets_value: raw.pull_secrets_value,
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
    let registry = registry_from_raw(src, name, &raw)?;
    let kind = match raw.kind.get_ref().as_str() {
        "minikube" => EnvironmentKind::Minikube { profile: raw.profile.clone().unwrap_or_else(|| "minikube".into()) },
        "kind" => EnvironmentKind::Kind { cluster: raw.cluster.clone().unwrap_or_else(|| "kind".into()) },
        "kube" => match raw.load {
            Some(load) if registry.is_some() => {
                return Err(src
                    .error(load.span(), &key("load"), "with a `registry` the nodes pull the images: nothing to load")
                    .help("remove `load`, or remove `registry` to load images yourself"))
            }
            None if registry.is_some() => EnvironmentKind::Kube { load: Vec::new() },
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
                    .error(raw.kind.span(), &key("load"), "a `kube` environment needs a `load` command or a `registry`")
                    .help("e.g. registry = \"ghcr.io/acme\", or load = [\"sh\", \"-c\", \"docker save {image} | ctr -n k8s.io images import -\"]"))
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
        capacity: raw.capacity.map(|c| Capacity {
            memory_mb: c.memory_mb,
            cpu: c.cpu,
            database_connections: c.database_connections,
        }),
        registry,
        rollback_on_failure: raw.rollback_on_failure,
    })
}

/// `registry = "host[:port][/namespace]"` and `pull_secret`: a host as Docker reads one (it has
/// a `.` or a `:`, or is `localhost`), no scheme, no tag; a Secret name Kubernetes accepts.
fn registry_from_raw(src: &Source<'_>, env: &str, raw: &RawEnvironment) -> Result<Option<Registry>, ConfigError> {
    let key = |k: &str| format!("environments.{env}.{k}");
    let pull_secret = match &raw.pull_secret {
        Some(secret) if raw.registry.is_none() => {
            return Err(src
                .error(secret.span(), &key("pull_secret"), "a pull secret without a `registry`")
                .help("add registry = \"host/namespace\" (the images' registry), or remove pull_secret"))
        }
        Some(secret) => {
            let name = secret.get_ref();
            let valid = !name.is_empty()
                && name.len() <= 253
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                && name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.ends_with(|c: char| c.is_ascii_alphanumeric());
            if !valid {
                return Err(src
                    .error(secret.span(), &key("pull_secret"), format!("`{name}` is not a Kubernetes Secret name"))
                    .help("lowercase letters, digits, `-` and `.`, e.g. \"ghcr-pull\""));
            }
            Some(name.clone())
        }
        None => None,
    };
    let Some(registry) = &raw.registry else { return Ok(None) };
    let text = registry.get_ref().trim_end_matches('/');
    let fail = |message: String, help: &str| Err(src.error(registry.span(), &key("registry"), message).help(help));
    if text.contains("://") {
        return fail(format!("`{text}` has a scheme"), "write the host without it, e.g. \"ghcr.io/acme\" (loopback hosts are reached over http, others over https)");
    }
    let (host, namespace) = text.split_once('/').unwrap_or((text, ""));
    let host_ok = !host.is_empty()
        && (host.contains('.') || host.contains(':') || host == "localhost")
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if !host_ok {
        return fail(
            format!("`{host}` is not a registry host"),
            "start with the registry's host (a name with a dot, host:port or localhost), e.g. \"ghcr.io/acme\" or \"docker.io/acme\"",
        );
    }
    if !namespace.is_empty() && !valid_repository(namespace) {
        return fail(
            format!("`{namespace}` is not a repository path (or has a tag)"),
            "after the host: lowercase path parts separated by `/`, no tag, e.g. \"ghcr.io/acme\"",
        );
    }
    Ok(Some(Registry { host: host.to_owned(), namespace: namespace.to_owned(), pull_secret }))
}

fn expand_home(path: &str) -> Utf8PathBuf {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => Utf8PathBuf::from(home).join(rest),
        _ => Utf8PathBuf::from(path),
    }
}
