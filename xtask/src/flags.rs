//! The command line. Each subcommand's arguments are a plain struct its module receives.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

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
    /// The deployment declaration to use [default: infra.toml at the project root].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<camino::Utf8PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show what `up` would do and why (hashes, tags, build or skip, the release change). No side effects.
    Plan(PlanArgs),
    /// Build the images whose content changed, in dependency order (all, or the ones named).
    Build(BuildArgs),
    /// Preflight, build, load into the cluster, helm upgrade --install, wait, print the URL.
    Up(EnvArgs),
    /// Uninstall the release (and its namespace if xtask created it).
    Down(DownArgs),
    /// The release, its pods, drift (objects edited by hand), and whether the images match the sources.
    Status(EnvArgs),
    /// Print the manifests `up` would have helm apply, with the values it generates (Secret values hidden).
    Render(EnvArgs),
    /// Compare what `up` would apply with the live objects, per object and field (nothing is applied).
    Diff(DiffArgs),
    /// Check every budget of infra.toml against the last build/deploy and the live cluster.
    VerifyBudgets(VerifyArgs),
    /// Run the app locally without containers: backend on :8000, frontend on :3000.
    Dev(DevArgs),
    /// Run every test tier this machine can run and say which ran, which were skipped and why.
    Test(TestArgs),
    /// Measure the app under load against its ceiling, chat, start-up and the pipeline; write docs/benchmarks.md.
    Bench(BenchArgs),
    /// Write k8s/base (plain kustomize manifests) from the chart's default render.
    GenK8sBase(GenK8sBaseArgs),
}

#[derive(Args, Debug, Clone)]
pub struct EnvArgs {
    /// The environment of infra.toml to work on (default: its default_environment).
    #[arg(long = "env", env = "XTASK_ENV", value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Diagnose hashing: per image, files hashed, bytes, time, throughput, ignore file.
    #[arg(long)]
    pub timings: bool,
    /// Only these images (and what they depend on).
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Build into this environment's Docker (Minikube's, for `minikube`). Default: the local engine.
    #[arg(long = "env", env = "XTASK_ENV", value_name = "NAME")]
    pub env: Option<String>,
    /// Build even when an image with the same hash exists (e.g. to measure build time).
    #[arg(long)]
    pub force: bool,
    /// Only these images (and what they depend on), by key or name.
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Also remove our images (every tag) from the environment's Docker.
    #[arg(long)]
    pub images: bool,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Exit with status 2 when something would change (1 is kept for errors).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Check only these budgets: `images` (size, build time) or `release` (deploy, pods, latency, fit).
    /// `images` judges the last build; without it, the images deployed to the environment.
    #[arg(long, value_parser = ["images", "release"])]
    pub only: Option<String>,
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
    /// frontend-e2e), frontend-unit, frontend-e2e, chart, images, registry, cluster.
    #[arg(long = "tier", value_name = "NAME")]
    pub tiers: Vec<String>,
    /// Also run the real-cluster tier (test/cluster): slow, builds and starts Kubernetes.
    #[arg(long)]
    pub cluster: bool,
    /// Count a tier that had to be skipped as a failure (CI uses this).
    #[arg(long)]
    pub require_all: bool,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Short load runs and fewer samples: the whole benchmark in a few minutes.
    #[arg(long)]
    pub quick: bool,
    /// Measure only these sections (repeatable): api, chat, startup, hashing, pipeline.
    /// Deployment figures are always read from the last build/up reports.
    #[arg(long = "only", value_name = "SECTION", value_parser = ["api", "chat", "startup", "hashing", "pipeline"])]
    pub only: Vec<String>,
}

#[derive(Args, Debug)]
pub struct GenK8sBaseArgs {
    /// Write nothing; fail, naming the files, when k8s/base differs from the chart's render.
    #[arg(long)]
    pub check: bool,
}

/// The commands that take `--env`: their help ends with the environments infra.toml declares.
const ENV_COMMANDS: [&str; 8] = ["plan", "build", "up", "down", "status", "render", "diff", "verify-budgets"];

pub fn parse() -> Flags {
    let mut command = Flags::command();
    if let Some(declared) = declared_environments(std::env::args().collect()) {
        for name in ENV_COMMANDS {
            command = command.mut_subcommand(name, |sub| sub.after_help(declared.clone()));
        }
    }
    Flags::from_arg_matches(&command.get_matches()).unwrap_or_else(|err| err.exit())
}

/// "Environments in PATH: a, b (default), c", read from `--config` or the project's infra.toml;
/// None when that file can't be read (the command then reports it).
fn declared_environments(args: Vec<String>) -> Option<String> {
    let given = args.iter().enumerate().find_map(|(i, arg)| match arg.strip_prefix("--config") {
        Some("") => args.get(i + 1).cloned(),
        Some(value) => value.strip_prefix('=').map(str::to_owned),
        None => None,
    });
    let path = given.map_or_else(|| crate::tools::project_root().join("infra.toml"), camino::Utf8PathBuf::from);
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let default = table.get("default_environment").and_then(|v| v.as_str());
    let names: Vec<String> = table
        .get("environments")?
        .as_table()?
        .keys()
        .map(|name| if Some(name.as_str()) == default { format!("{name} (default)") } else { name.clone() })
        .collect();
    Some(format!("Environments in {path}: {}", names.join(", ")))
}
