//! `cargo xtask build [IMAGE…]`: hash each context, skip images whose hash is already in the
//! engine (or, for an environment with a registry, in the registry), build the others (each
//! after what it depends on, independent ones at the same time) and push them, record duration
//! and size.

use std::{process::ExitCode, time::Instant};

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    builder::build_images, config, docker::Docker, flags::BuildArgs, registry::Client, report::Report, state::State,
};

pub fn run(config_path: &Utf8Path, args: &BuildArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = args.env.as_deref().map(|name| config.environment(Some(name))).transpose()?;
    let docker = match env {
        Some(env) => Docker::for_environment(env)?,
        None => Docker::local(),
    };
    let registry = env.and_then(|env| env.registry.as_ref()).map(Client::new).transpose()?;
    let mut report = Report::new("build", args.env.as_deref());
    let start = Instant::now();
    let result = State::load(&config.root).and_then(|mut state| {
        build_images(&config, &docker, registry.as_ref(), &mut state, &args.images, args.force, &mut report)
    });
    report.finish(&config.root, start, &result);
    result.map(|_| ExitCode::SUCCESS)
}
