//! `cargo xtask down [--env NAME] [--images]`: uninstall the release, delete its namespace if
//! `up` created it, and with `--images` remove our images from the environment's Docker.

use std::process::ExitCode;

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    cluster::Cluster, config, docker::Docker, flags::DownArgs, process, progress::spinner, release::MANAGED_BY,
    state::State,
};

pub fn run(config_path: &Utf8Path, args: &DownArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.env.name.as_deref())?;
    let cluster = Cluster::new(&config, env);
    let release = &config.release;
    cluster.preflight()?;
    match cluster.release_status()? {
        Some((revision, _)) => {
            let bar = spinner(format!("helm uninstall {}", release.name));
            let result = process::read(cluster.helm().args(["uninstall", &release.name, "--wait", "--timeout", "5m"]));
            bar.finish_and_clear();
            result?;
            eprintln!("release {}: uninstalled (was revision {revision})", release.name);
        }
        None => eprintln!("release {}: not installed", release.name),
    }
    if let Some(ns) = cluster.namespace_exists()? {
        let ours = ns["metadata"]["labels"][MANAGED_BY.0] == MANAGED_BY.1;
        if ours {
            let bar = spinner(format!("deleting namespace {}", release.namespace));
            let result = process::read(cluster.kubectl().args([
                "delete",
                "namespace",
                &release.namespace,
                "--wait=true",
                "--timeout=5m",
            ]));
            bar.finish_and_clear();
            result?;
            eprintln!("namespace {}: deleted (created by `cargo xtask up`)", release.namespace);
        } else {
            eprintln!("namespace {}: kept (not created by `cargo xtask up`)", release.namespace);
        }
    }
    let mut state = State::load(&config.root)?;
    state.deploys.remove(&env.name);
    state.save(&config.root)?;
    if args.images {
        let docker = Docker::for_environment(env)?;
        docker.check()?;
        let names: Vec<&str> = config.images.iter().map(|i| i.name.as_str()).collect();
        let ours = docker.our_images(&names)?;
        if ours.is_empty() {
            eprintln!("images: none of ours in {}", docker.name);
        } else {
            process::read(docker.command().args(["image", "rm"]).args(&ours))?;
            eprintln!("images: removed {}", ours.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
