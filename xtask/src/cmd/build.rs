//! `cargo xtask build [IMAGE…]`: hash each context, skip images whose hash is already in the
//! engine, build the others in dependency order, record duration and size.

use std::{process::ExitCode, time::Instant};

use anyhow::Result;
use camino::Utf8Path;

use crate::{builder::build_images, config, docker::Docker, flags::BuildArgs, report::Report, state::State};

pub fn run(config_path: &Utf8Path, args: &BuildArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let docker = match &args.env {
        Some(name) => Docker::for_environment(config.environment(Some(name))?)?,
        None => Docker::local(),
    };
    let mut report = Report::new("build", args.env.as_deref());
    let start = Instant::now();
    let result = State::load(&config.root)
        .and_then(|mut state| build_images(&config, &docker, &mut state, &args.images, args.force, &mut report));
    report.finish(&config.root, start, &result);
    result.map(|_| ExitCode::SUCCESS)
}
