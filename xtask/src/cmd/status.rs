//! `cargo xtask status [--env NAME]`: the release, its pods, and for each image whether the
//! cluster runs what the sources hash to now (current) or an older build (stale).

use std::process::ExitCode;

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    cluster::Cluster,
    config,
    docker::Docker,
    flags::EnvArgs,
    plan::{DockerStore, ImageStore, Planner},
    registry::{Client, RegistryStore},
    state::State,
};

pub fn run(config_path: &Utf8Path, args: &EnvArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.name.as_deref())?;
    let cluster = Cluster::new(&config, env);
    let release = &config.release;
    cluster.preflight()?;
    match cluster.release_status()? {
        Some((revision, status)) => {
            println!("release {} in {}: revision {revision}, {status}", release.name, release.namespace)
        }
        None => println!("release {} in {}: not installed", release.name, release.namespace),
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
    let state = State::load(&config.root)?;
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
