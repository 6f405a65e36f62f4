//! `cargo xtask`: the project's automation, as a normal Rust binary (rust-analyzer's xtask style).
//!
//! One module per command; they share a few core types: [`config::Config`] (infra.toml),
//! [`plan::ImagePlan`] (what a build would do and why) and [`report::Report`] (what a run did).

mod bench;
mod cluster;
mod cmd;
mod config;
mod digest_key;
mod docker;
mod dockerfile;
mod dockerignore;
mod dotenv;
mod flags;
mod hash;
mod plan;
mod postgres;
mod process;
mod progress;
mod report;
#[cfg(test)]
mod testutil;
mod tools;

use std::process::ExitCode;

use camino::Utf8PathBuf;

fn main() -> ExitCode {
    let flags = flags::parse();
    process::set_verbose(flags.verbose);
    tools::put_on_path();
    process::install_signal_handler();
    // The project's declaration wherever xtask is run from; a given path is taken as typed.
    let config_path = || flags.config.clone().unwrap_or_else(|| project_root().join("infra.toml"));
    let result = match &flags.command {
        flags::Command::Plan(args) => cmd::plan::run(&config_path(), args),
        flags::Command::Build(args) => cmd::build::run(&config_path(), args),
        flags::Command::Up(args) => cmd::up::run(&config_path(), args),
        flags::Command::Down(args) => cmd::down::run(&config_path(), args),
        flags::Command::Status(args) => cmd::status::run(&config_path(), args),
        flags::Command::VerifyBudgets(args) => cmd::verify_budgets::run(&config_path(), args),
        flags::Command::Dev(args) => cmd::dev::run(args),
        flags::Command::Test(args) => cmd::test::run(args),
        flags::Command::Bench(args) => bench::run(&config_path(), args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: xtask always works from there, wherever it was started.
pub fn project_root() -> Utf8PathBuf {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    Utf8PathBuf::from(dir).parent().expect("xtask lives one level below the root").to_owned()
}
