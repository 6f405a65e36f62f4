//! The command line. Each subcommand's arguments are a plain struct its module receives.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, deploy, check and test todo-chatbot (see docs/infra.md)"
)]
pub struct Flags {
    /// Print every external command before running it.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the app locally without containers: backend on :8000, frontend on :3000.
    Dev(DevArgs),
    /// Run every test tier this machine can run and say which ran, which were skipped and why.
    Test(TestArgs),
}

#[derive(Args, Debug)]
pub struct DevArgs {
    /// Port of the frontend (the URL you open).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Port of the backend API.
    #[arg(long, default_value_t = 8000)]
    pub backend_port: u16,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Run only these tiers (repeatable): rust, backend, frontend (= frontend-unit and
    /// frontend-e2e), frontend-unit, frontend-e2e, chart, images, cluster.
    #[arg(long = "tier", value_name = "NAME")]
    pub tiers: Vec<String>,
    /// Also run the real-cluster tier (test/cluster): slow, builds and starts Kubernetes.
    #[arg(long)]
    pub cluster: bool,
    /// Count a tier that had to be skipped as a failure (CI uses this).
    #[arg(long)]
    pub require_all: bool,
}

pub fn parse() -> Flags {
    Flags::parse()
}
