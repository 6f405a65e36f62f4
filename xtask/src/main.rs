//! `cargo xtask`: the project's automation, as a normal Rust binary (rust-analyzer's xtask style).
//!
//! One module per command under `cmd/`, each a leaf: commands share the layers below them, never
//! each other. The core types: [`config::Config`] (infra.toml), [`plan::ImagePlan`] (what a build
//! would do and why), [`state::State`] (what later runs build on, loaded once per command) and
//! [`report::Report`] (what a run did).

mod builder;
mod cluster;
mod cmd;
mod config;
mod diagnose;
mod digest_key;
mod docker;
mod dockerfile;
mod dockerignore;
mod dotenv;
mod flags;
mod hash;
mod http;
mod manifest;
mod object_diff;
mod peak;
mod plan;
mod postgres;
mod process;
mod progress;
mod registry;
mod release;
mod report;
mod state;
#[cfg(test)]
mod testutil;
mod time;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = flags::parse();
    process::set_verbose(flags.verbose);
    tools::forget_package_variables();
    tools::put_on_path();
    process::install_signal_handler();
    // The project's declaration wherever xtask is run from; a given path is taken as typed.
    let config_path = || flags.config.clone().unwrap_or_else(|| tools::project_root().join("infra.toml"));
    let result = match &flags.command {
        flags::Command::Plan(args) => cmd::plan::run(&config_path(), args),
        flags::Command::Build(args) => cmd::build::run(&config_path(), args),
        flags::Command::Up(args) => cmd::up::run(&config_path(), args),
        flags::Command::Down(args) => cmd::down::run(&config_path(), args),
        flags::Command::Status(args) => cmd::status::run(&config_path(), args),
        flags::Command::Render(args) => cmd::render::run(&config_path(), args),
        flags::Command::Diff(args) => cmd::diff::run(&config_path(), args),
        flags::Command::VerifyBudgets(args) => cmd::verify_budgets::run(&config_path(), args),
        flags::Command::Dev(args) => cmd::dev::run(args),
        flags::Command::Test(args) => cmd::test::run(args),
        flags::Command::Bench(args) => cmd::bench::run(&config_path(), args),
        flags::Command::GenK8sBase(args) => cmd::gen_k8s_base::run(&config_path(), args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
