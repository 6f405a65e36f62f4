//! `cargo xtask render [--env NAME]`: the manifests `up` would have helm apply, rendered with the
//! values it would generate (image tags from the sources' hashes, the environment's values and
//! `set`, its secrets), Secret values hidden. Offline: `helm template`, no cluster needed, nothing
//! built.

use std::process::{Command, ExitCode};

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    config,
    flags::EnvArgs,
    manifest::{documents, redact_secret_yaml, Redactor},
    plan::plan_images,
    process,
    release::{generated_values, secret_values, ValuesFiles},
    state::State,
    tools,
};

pub fn run(config_path: &Utf8Path, args: &EnvArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.name.as_deref())?;
    tools::require_helm()?;
    let state = State::load(&config.root)?;
    let secrets = secret_values(&config, env)?;
    // The registry is never asked: rendering needs no credentials and no network.
    let (plans, engine) = plan_images(&config.images.iter().collect::<Vec<_>>(), env, &state, None)?;
    if let Err(err) = &engine {
        let why = format!("{err:#}");
        eprintln!(
            "note: no Docker engine of environment `{}` to ask ({}): the tags count the base images as absent",
            env.name,
            why.lines().next().unwrap_or("")
        );
    }
    if let Some(registry) = &env.registry {
        eprintln!(
            "note: images are shown by tag; `up` deploys each as <tag>@sha256:<digest>, the digest {} gives for \
             the tag once it holds that content, which only the registry knows",
            registry.host
        );
        let absent: Vec<&str> = plans.iter().flat_map(|p| p.absent_bases()).collect();
        if engine.is_ok() && !absent.is_empty() {
            eprintln!(
                "note: base image(s) {} not in the engine: `up` pulls them first, and their IDs change the tags",
                absent.join(", ")
            );
        }
    }
    let values = generated_values(&config, env, &plans);
    let files = ValuesFiles::write(&config, env, &values, &secrets)?;
    let release = &config.release;
    let mut helm = Command::new("helm");
    helm.args(["template", &release.name, release.chart.as_str(), "--namespace", &release.namespace, "--skip-tests"])
        .args(files.args());
    let stream = process::read(&mut helm)?;
    // Secrets hidden by position first, collecting their values (the ones the chart generates
    // included), then every value known to be secret scrubbed from every document.
    let mut redactor = Redactor::for_values(&secrets);
    let documents: Vec<String> = documents(&stream)
        .into_iter()
        .map(|document| {
            let (text, values) = redact_secret_yaml(document);
            values.iter().for_each(|v| redactor.add(v));
            text
        })
        .collect();
    for document in &documents {
        println!("---\n{}", redactor.scrub(document).trim_end());
    }
    eprintln!(
        "rendered offline (helm template): values the chart generates on a first install or reads back with \
         `lookup` (the auth secret, the database password) are hidden; `cargo xtask diff --env {}` compares \
         with the live objects",
        env.name
    );
    Ok(ExitCode::SUCCESS)
}
