//! The programs xtask drives (helm, kubectl, kind, minikube, docker): looked up first where the
//! project's own scripts install them, then on PATH, with an error that says how to get one.
//!
//! test/chart/run and .ci/run `go install` helm and friends into `~/.cache/todo-chatbot/bin`
//! (`$TODO_CHATBOT_CACHE/bin`), and test/cluster/up builds a kubectl of the cluster's version
//! into `~/.cache/todo-chatbot/cluster/build/bin`. Neither is on a user's PATH, so xtask puts
//! them there for itself and every child it starts (a load script, a test tier).

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

use crate::process;

/// The repository root: xtask always works from there, wherever it was started.
pub fn project_root() -> Utf8PathBuf {
    Utf8Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").to_owned()
}

/// Drops the package variables `cargo xtask` (cargo run) gives xtask (CARGO_MANIFEST_DIR,
/// CARGO_PKG_NAME, …) from this process, so no child inherits them. A child that runs cargo with
/// them set (a test script's `cargo xtask …`) makes the build scripts that watch them (ring's)
/// run again, which rebuilds and replaces the xtask binary that is running, and again on the
/// user's next `cargo xtask`. Called once at start, before any thread exists.
pub fn forget_package_variables() {
    let names: Vec<_> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let name = name.to_string_lossy();
            name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || matches!(&*name, "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE")
        })
        .collect();
    for name in names {
        std::env::remove_var(name);
    }
}

/// The project's cache (`$TODO_CHATBOT_CACHE`, else `~/.cache/todo-chatbot`), as the scripts
/// spell it.
pub fn cache() -> Option<Utf8PathBuf> {
    match std::env::var("TODO_CHATBOT_CACHE") {
        Ok(dir) if !dir.is_empty() => Some(dir.into()),
        _ => std::env::var("HOME").ok().map(|home| Utf8PathBuf::from(home).join(".cache/todo-chatbot")),
    }
}

/// PATH with the scripts' tools directory first (it holds the pinned versions) and the
/// cluster's own kubectl last (a kubectl the user installed wins).
fn search_path(path: &str) -> String {
    let Some(cache) = cache() else { return path.to_owned() };
    let (first, last) = (cache.join("bin"), cache.join("cluster/build/bin"));
    let mut dirs: Vec<&str> = vec![first.as_str()];
    dirs.extend(path.split(':').filter(|d| !d.is_empty() && *d != first.as_str() && *d != last.as_str()));
    dirs.push(last.as_str());
    dirs.join(":")
}

/// Makes PATH the search path above for this process and its children. Called once at start,
/// before any thread exists.
pub fn put_on_path() {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", search_path(&path));
}

/// How to get a tool xtask needs.
pub fn install_hint(tool: &str) -> &'static str {
    match tool {
        "helm" => "install Helm 3.12+ or 4 (https://helm.sh/docs/intro/install/), or `GOBIN=~/.cache/todo-chatbot/bin go install helm.sh/helm/v3/cmd/helm@v3.22.0` (test/chart/run does this on first use)",
        "kubectl" => "install kubectl (https://kubernetes.io/docs/tasks/tools/); `test/cluster/up` also builds one into ~/.cache/todo-chatbot/cluster/build/bin",
        "minikube" => "install Minikube (https://minikube.sigs.k8s.io/docs/start/), or pick another environment with --env",
        "kind" => "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or `GOBIN=~/.cache/todo-chatbot/bin go install sigs.k8s.io/kind@v0.33.0`",
        "docker" => "install Docker Engine (https://docs.docker.com/engine/install/)",
        _ => "install it, or fix `load` in infra.toml",
    }
}

/// Where `tool` is; with `--verbose`, says so. Fails with how to install it.
pub fn require(tool: &str) -> Result<PathBuf> {
    match which::which(tool) {
        Ok(found) => {
            if process::verbose() {
                eprintln!("  {tool}: {}", found.display());
            }
            Ok(found)
        }
        Err(_) => {
            let cache = cache().map_or_else(String::new, |c| format!("{} or ", c.join("bin")));
            bail!("`{tool}` not found in {cache}on PATH: {}", install_hint(tool))
        }
    }
}

/// Which Helm `helm version --template '{{.Version}}'` printed (`v3.22.0`, `v4.3.2`), if it is
/// one xtask drives: 3.12+ or 4.x. Every flag xtask passes means the same in both.
pub fn supported_helm(version: &str) -> Result<&'static str> {
    let numbers: Vec<u64> =
        version.trim().trim_start_matches('v').split(['.', '-', '+']).take(2).filter_map(|n| n.parse().ok()).collect();
    match numbers[..] {
        [3, minor] if minor >= 12 => Ok("Helm 3"),
        [4, _] => Ok("Helm 4"),
        _ => {
            bail!("helm {} is not supported: xtask needs Helm 3.12+ or 4.x ({})", version.trim(), install_hint("helm"))
        }
    }
}

/// The helm on PATH, checked by [`supported_helm`]; returns e.g. "helm v4.3.2 (Helm 4)".
pub fn require_helm() -> Result<String> {
    require("helm")?;
    let version = process::read(std::process::Command::new("helm").args(["version", "--template", "{{.Version}}"]))?;
    let major = supported_helm(&version)?;
    Ok(format!("helm {} ({major})", version.trim()))
}

/// `Err(reason)` when no Docker engine answers, with what to do about it.
pub fn docker_answers() -> Result<(), String> {
    if which::which("docker").is_err() {
        return Err(format!("no `docker` command: {}", install_hint("docker")));
    }
    let mut cmd = Command::new("docker");
    cmd.args(["info", "--format", "{{.ServerVersion}}"]).stdin(Stdio::null());
    process::echo(&cmd);
    let answered = run_with_timeout(&mut cmd, Duration::from_secs(20));
    if answered {
        Ok(())
    } else {
        Err("no Docker engine answers `docker info`: start it (`sudo systemctl start docker`, or Docker Desktop)"
            .into())
    }
}

fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> bool {
    let Ok(mut child) = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn() else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// How to run uv: the `uv` on PATH, or installed with pip when missing.
pub struct Uv(Vec<String>);

impl Uv {
    pub fn command_in(&self, dir: &Utf8Path) -> Command {
        let mut cmd = Command::new(&self.0[0]);
        cmd.args(&self.0[1..]).current_dir(dir).stdin(Stdio::null());
        cmd
    }
}

pub fn uv() -> Result<Uv> {
    if which::which("uv").is_ok() {
        return Ok(Uv(vec!["uv".into()]));
    }
    eprintln!("    uv not found on PATH: installing it with `python3 -m pip install uv`");
    process::run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "uv"]))
        .context("cannot install uv; install it yourself: https://docs.astral.sh/uv/")?;
    if which::which("uv").is_ok() {
        Ok(Uv(vec!["uv".into()]))
    } else {
        // pip put it in a scripts dir that isn't on PATH; the module form always works.
        Ok(Uv(vec!["python3".into(), "-m".into(), "uv".into()]))
    }
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
pub fn npm_ci_if_stale(dir: &Utf8Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    // npm writes this file on every install: its age is node_modules' age.
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Utf8Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let stale = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if stale {
        eprintln!("    node_modules missing or older than package-lock.json: npm ci");
        let mut cmd = Command::new("npm");
        cmd.arg("ci").current_dir(dir).stdin(Stdio::null());
        process::run(&mut cmd)?;
    }
    Ok(())
}

/// `apt-get install -y PACKAGE` when running as root (CI, a container); otherwise the reason
/// it can't be installed here, with the command to run.
pub fn apt_install(package: &str, missing: &str) -> Result<Option<String>> {
    if !process::is_root() {
        return Ok(Some(format!("{missing} not found: `sudo apt-get install -y {package}`")));
    }
    eprintln!("    {missing} not found: installing it with `apt-get install -y {package}`");
    process::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null()),
    )?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_inherits_none_of_cargos_package_variables() {
        // `cargo test` gives this process CARGO_PKG_NAME and CARGO_MANIFEST_DIR, as `cargo xtask` does.
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some(), "cargo sets the package variables");
        forget_package_variables();
        let env = String::from_utf8(std::process::Command::new("env").output().unwrap().stdout).unwrap();
        let leaked: Vec<&str> =
            env.lines().filter(|l| l.starts_with("CARGO_PKG_") || l.starts_with("CARGO_MANIFEST_")).collect();
        assert!(leaked.is_empty(), "a child sees {leaked:?}");
        assert_eq!(project_root().join("xtask"), Utf8Path::new(env!("CARGO_MANIFEST_DIR")));
    }

    #[test]
    fn the_scripts_tools_come_first_and_the_clusters_kubectl_last() {
        let cache = cache().unwrap();
        let path = search_path(&format!("/usr/bin:{cache}/bin:/bin"));
        let dirs: Vec<&str> = path.split(':').collect();
        let (first, last) = (cache.join("bin"), cache.join("cluster/build/bin"));
        assert_eq!(dirs, [first.as_str(), "/usr/bin", "/bin", last.as_str()]);
        // Idempotent: a child xtask (the benchmark runs our binary) doesn't grow PATH.
        assert_eq!(search_path(&path), path);
    }

    #[test]
    fn a_missing_tool_says_where_it_was_looked_for_and_how_to_install_it() {
        let err = require("helm-that-does-not-exist").unwrap_err().to_string();
        assert!(err.contains("todo-chatbot/bin or on PATH"), "{err}");
        assert!(err.contains("fix `load` in infra.toml"), "{err}");
        assert!(install_hint("helm").contains("go install helm.sh/helm/v3/cmd/helm@v3.22.0"));
    }

    #[test]
    fn helm_3_12_and_newer_and_helm_4_are_accepted_and_named() {
        assert_eq!(supported_helm("v3.12.0").unwrap(), "Helm 3");
        assert_eq!(supported_helm("v3.22.0\n").unwrap(), "Helm 3");
        assert_eq!(supported_helm("v4.3.2").unwrap(), "Helm 4");
        assert_eq!(supported_helm("v4.0.0-rc.1").unwrap(), "Helm 4");
        for old in ["v3.11.3", "v2.17.0", "v5.0.0", "garbage"] {
            let err = supported_helm(old).unwrap_err().to_string();
            assert!(err.contains("needs Helm 3.12+ or 4.x"), "{old}: {err}");
        }
    }
}
