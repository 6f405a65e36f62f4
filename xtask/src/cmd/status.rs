//! `cargo xtask status [--env NAME]`: the release, its pods, drift (fields of the release's objects
//! set by hand since helm applied them), and for each image whether the cluster runs what the
//! sources hash to now (current) or an older build (stale).

use std::process::ExitCode;

use anyhow::Result;
use camino::Utf8Path;
use serde_json::Value;

use crate::{
    cluster::Cluster,
    config::{self, Environment},
    docker::Docker,
    flags::EnvArgs,
    manifest::Redactor,
    object_diff::shown,
    plan::{DockerStore, ImageStore, Planner},
    registry::{Client, RegistryStore},
    release,
    state::State,
};

pub fn run(config_path: &Utf8Path, args: &EnvArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.name.as_deref())?;
    let cluster = Cluster::new(&config, env);
    let release = &config.release;
    cluster.preflight()?;
    let state = State::load(&config.root)?;
    let installed = cluster.release_status()?;
    match &installed {
        Some((revision, status)) => {
            println!("release {} in {}: revision {revision}, {status}", release.name, release.namespace)
        }
        None => println!("release {} in {}: not installed", release.name, release.namespace),
    }
    if let Some((revision, _)) = installed {
        drift(&cluster, env, &state, revision)?;
    }
    let pods = cluster.pods()?;
    let mut running: Vec<String> = Vec::new();
    if !pods.is_empty() {
        println!("\n  {:<46} {:<7} {:<10} {:>8}  images", "pod", "ready", "phase", "restarts");
    }
    for pod in &pods {
        let statuses = pod["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
        let ready = statuses.iter().filter(|s| s["ready"] == true).count();
        let restarts: u64 = statuses.iter().filter_map(|s| s["restartCount"].as_u64()).sum();
        let images: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .map(|c| c.iter().filter_map(|c| c["image"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        println!(
            "  {:<46} {:<7} {:<10} {:>8}  {}",
            pod["metadata"]["name"].as_str().unwrap_or("?"),
            format!("{ready}/{}", statuses.len()),
            pod["status"]["phase"].as_str().unwrap_or("?"),
            restarts,
            images.join(", ")
        );
        running.extend(images);
    }

    // The hashes the sources have now, against what runs.
    let docker = Docker::for_environment(env)?;
    println!();
    if let Err(err) = docker.check() {
        println!("images: cannot hash against {}: {err:#}", docker.name);
        return Ok(ExitCode::SUCCESS);
    }
    let lookup = |name: &str| std::env::var(name).ok();
    let mut planner = Planner::new(&state, &lookup);
    planner.registry = env.registry.as_ref();
    let registry = env.registry.as_ref().map(Client::new).transpose()?;
    let (mut docker_store, mut registry_store);
    let store: &mut dyn ImageStore = match &registry {
        Some(client) => {
            registry_store = RegistryStore { docker: DockerStore::new(&docker), client, pull_bases: false };
            &mut registry_store
        }
        None => {
            docker_store = DockerStore::new(&docker);
            &mut docker_store
        }
    };
    for image in &config.images {
        let plan = planner.plan(image, store)?;
        // `repository:tag`, or `repository:tag@sha256:…` as deployed from a registry.
        let tag_of = |r: &str| -> Option<(String, String)> {
            let r = r.split('@').next().unwrap_or(r);
            let r = r.strip_prefix("docker.io/library/").unwrap_or(r);
            r.rsplit_once(':').map(|(n, t)| (n.to_owned(), t.to_owned()))
        };
        let deployed: Vec<String> =
            running.iter().filter_map(|r| tag_of(r)).filter(|(n, _)| n == plan.repository()).map(|(_, t)| t).collect();
        let verdict = if deployed.is_empty() {
            "not running".to_owned()
        } else if deployed.iter().all(|t| *t == plan.tag) {
            "current".to_owned()
        } else {
            format!("stale: the sources now hash to {} (run `cargo xtask up --env {}`)", plan.tag, env.name)
        };
        let built = if plan.present.is_some() { "built" } else { "not built" };
        println!("  {:<10} {:<40} {built:<10} {verdict}", image.key, plan.reference);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the release's drift: a revision `up` did not deploy, and every field of a live object
/// of the deployed revision set by hand since helm applied it.
fn drift(cluster: &Cluster<'_>, env: &Environment, state: &State, revision: u64) -> Result<()> {
    if let Some(record) = state.deploys.get(&env.name).filter(|r| r.revision != revision) {
        println!(
            "  revision {revision} is not the one the last `cargo xtask up --env {}` here deployed ({}, at {})",
            env.name, record.revision, record.deployed_at
        );
    }
    let (live, fields) = release::drift(cluster)?;
    if fields.is_empty() {
        println!("  no drift: the {} objects of revision {revision} are as helm applied them", live.len());
        return Ok(());
    }
    let mut redactor = Redactor::default();
    live.iter().for_each(|object| redactor.add_secret_object(object));
    println!("  drift: {} fields set by hand since helm applied revision {revision}:", fields.len());
    for field in &fields {
        let id = &field.object;
        let show =
            |v: &Option<Value>| v.as_ref().map_or_else(|| "(removed)".to_owned(), |v| shown(&id.kind, &field.path, v));
        let helm = match &field.applied {
            Some(_) => format!("helm applied {}", show(&field.applied)),
            None => "not set by the chart".to_owned(),
        };
        let line = format!(
            "    {id}: {} = {}, {helm} (by {} at {})",
            field.path,
            show(&field.live),
            field.manager,
            field.time
        );
        println!("{}", redactor.scrub(&line));
    }
    println!(
        "  `cargo xtask diff --env {0}` shows them; the next `cargo xtask up --env {0}` sets the chart's fields back \
         (a field the chart does not set stays: `kubectl edit` removes it)",
        env.name
    );
    Ok(())
}
