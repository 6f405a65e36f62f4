//! The project's own infra.toml on a machine with none of the cluster tools: PATH holds no
//! minikube, kind, helm, kubectl or docker. `plan` still shows the image plan, then what `up`
//! would need and how to get it; `--help` and a wrong `--env` list the declared environments.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

struct Bare {
    dir: PathBuf,
}

impl Bare {
    fn new(name: &str) -> Bare {
        let dir = std::env::temp_dir().join(format!("xtask-bare-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        Bare { dir }
    }

    /// `cargo xtask ARGS` with the project's infra.toml, an empty PATH and cache, and its
    /// reports kept out of the project's target/.
    fn xtask(&self, args: &[&str]) -> Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut xtask = Command::new(env!("CARGO_BIN_EXE_xtask"));
        xtask
            .arg("--config")
            .arg(root.join("infra.toml"))
            .args(args)
            .env_clear()
            .env("HOME", &self.dir)
            .env("PATH", self.dir.join("bin"))
            .env("TODO_CHATBOT_CACHE", self.dir.join("cache"))
            .env("XTASK_DIR", self.dir.join("xtask"));
        common::output(&mut xtask, &format!("xtask {}", args.join(" ")))
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn plan_shows_the_images_then_what_up_would_need() {
    let bare = Bare::new("plan");
    for (env, tools) in
        [("minikube", &["minikube", "docker", "helm", "kubectl"][..]), ("kind", &["kind", "docker"][..])]
    {
        let out = bare.xtask(&["plan", "--env", env]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "plan --env {env} failed without the cluster tools");
        for image in ["backend", "frontend"] {
            assert!(stdout.contains(&format!("build? {image}")), "no plan for {image}:\n{stdout}");
        }
        assert!(stdout.contains(&format!("`up --env {env}` would need:")), "{stdout}");
        for tool in tools {
            let line = stdout.lines().find(|l| l.trim_start().starts_with(&format!("{tool} "))).unwrap_or_default();
            assert!(line.contains("not found: install"), "no hint for {tool}:\n{stdout}");
        }
        // Every hint is a command one can paste: no placeholder versions.
        assert!(!stdout.contains("@VERSION"), "{stdout}");
    }
}

#[test]
fn help_and_a_wrong_env_name_list_the_declared_environments() {
    let bare = Bare::new("help");
    let help = bare.xtask(&["up", "--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("cloud, kind, kube, local, minikube (default)"), "{text}");

    let wrong = bare.xtask(&["plan", "--env", "minikub"]);
    assert!(!wrong.status.success());
    let text = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        text.contains("no environment `minikub`") && text.contains("declared: cloud, kind, kube, local, minikube"),
        "{text}"
    );
}
