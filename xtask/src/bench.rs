//! `cargo xtask bench`: the app and the pipeline measured against their ceilings and targets.

use std::process::ExitCode;

use anyhow::{bail, Result};
use camino::Utf8Path;

use crate::flags::BenchArgs;

pub fn run(_config: &Utf8Path, _args: &BenchArgs) -> Result<ExitCode> {
    bail!("`cargo xtask bench` is being written (issue 9)")
}
