//! `cargo xtask`: the project's automation, as a normal Rust binary (rust-analyzer's xtask style).
//!
//! One module per command; they share a few core types: [`config::Config`] (infra.toml),
//! [`plan::Plan`] (what a build would do and why) and [`report::Report`] (what a run did).

mod dev;
mod dotenv;
mod flags;
mod process;
mod postgres;
mod test;

use std::process::ExitCode;

use camino::Utf8PathBuf;

fn main() -> ExitCode {
    let flags = flags::parse();
    process::set_verbose(flags.verbose);
    process::install_signal_handler();
    let result = match flags.command {
        flags::Command::Dev(args) => dev::run(&args),
        flags::Command::Test(args) => test::run(&args),
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
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    Utf8PathBuf::from(dir).parent().expect("xtask lives one level below the root").to_owned()
}
