//! The programs xtask drives (helm, kubectl, kind, minikube, docker): looked up first where the
//! project's own scripts install them, then on PATH, with an error that says how to get one.
//!
//! test/chart/run and .ci/run `go install` helm and friends into `~/.cache/todo-chatbot/bin`
//! (`$TODO_CHATBOT_CACHE/bin`), and test/cluster/up builds a kubectl of the cluster's version
//! into `~/.cache/todo-chatbot/cluster/build/bin`. Neither is on a user's PATH, so xtask puts
//! them there for itself and every child it starts (a load script, a test tier).

use std::path::PathBuf;

use anyhow::{bail, Result};
use camino::Utf8PathBuf;

use crate::process;

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

#[cfg(test)]
mod tests {
    use super::*;

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
