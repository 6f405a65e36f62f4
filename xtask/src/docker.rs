//! The Docker engine an environment builds into: the local one, or Minikube's (through
//! `minikube docker-env`, so images land where the cluster runs them and nothing is loaded).

use std::{
    collections::HashMap,
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::{
    config::{Environment, EnvironmentKind},
    process, tools,
};

/// Labels on every image we build, so `down --images` and `status` find ours.
pub const LABEL_IMAGE: &str = "dev.todo-chatbot.xtask.image";
pub const LABEL_HASH: &str = "dev.todo-chatbot.xtask.hash";

pub struct Docker {
    /// Extra environment for every docker command (DOCKER_HOST and friends).
    env: Vec<(String, String)>,
    /// Where it is, for messages.
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct ImageInfo {
    pub id: String,
    /// As `docker image inspect` reports it; a registry holds compressed layers, not this.
    pub size_bytes: Option<u64>,
    /// The manifest digest, for an image found in (or pushed to) a registry.
    pub digest: Option<String>,
}

impl Docker {
    pub fn local() -> Docker {
        Docker { env: Vec::new(), name: "the local Docker engine".into() }
    }

    /// The engine `env` builds into. Minikube: its own Docker daemon.
    pub fn for_environment(env: &Environment) -> Result<Docker> {
        let EnvironmentKind::Minikube { profile } = &env.kind else { return Ok(Docker::local()) };
        tools::require("minikube")?;
        let out = process::read(Command::new("minikube").args(["-p", profile, "docker-env", "--shell", "none"]))
            .with_context(|| format!("Minikube profile `{profile}` does not answer: start it with `minikube start -p {profile} --cpus 2 --memory 4g`"))?;
        let env = out
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            .collect();
        Ok(Docker { env, name: format!("Minikube's Docker (profile {profile})") })
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null());
        cmd
    }

    /// Fails with what to do when the engine doesn't answer.
    pub fn check(&self) -> Result<()> {
        tools::require("docker")?;
        process::read(self.command().args(["version", "--format", "{{.Server.Version}}"])).with_context(|| {
            format!("{} does not answer: start it (`sudo systemctl start docker`, or Docker Desktop)", self.name)
        })?;
        Ok(())
    }

    /// `repository:tag` → image ID for every tagged image, in one call.
    pub fn image_ids(&self) -> Result<HashMap<String, String>> {
        let out = process::read(self.command().args([
            "image",
            "ls",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
        ]))?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(r, _)| !r.contains("<none>"))
            .map(|(r, id)| (r.to_owned(), id.to_owned()))
            .collect())
    }

    /// The ID of `reference` (as written in a Dockerfile), if the engine has it.
    pub fn resolve(&self, ids: &HashMap<String, String>, reference: &str) -> Result<Option<String>> {
        if let Some(id) = ids.get(&normalize(reference)) {
            return Ok(Some(id.clone()));
        }
        // Digests and other spellings: let docker resolve it.
        Ok(self.inspect(reference)?.map(|info| info.id))
    }

    pub fn inspect(&self, reference: &str) -> Result<Option<ImageInfo>> {
        let mut cmd = self.command();
        cmd.args(["image", "inspect", "--format", "{{.Id}} {{.Size}}", reference]);
        process::echo(&cmd);
        let out = cmd.output().context("cannot run docker")?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("No such image") || stderr.contains("not found") {
                return Ok(None);
            }
            bail!("`docker image inspect {reference}` failed: {}", stderr.trim());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let (id, size) = text.trim().split_once(' ').unwrap_or((text.trim(), "0"));
        Ok(Some(ImageInfo { id: id.to_owned(), size_bytes: size.parse().ok(), digest: None }))
    }

    /// Every tag of the images xtask built (by label) in the given repositories.
    pub fn our_images(&self, repositories: &[&str]) -> Result<Vec<String>> {
        let out = process::read(self.command().args([
            "image",
            "ls",
            "--filter",
            &format!("label={LABEL_IMAGE}"),
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ]))?;
        Ok(out
            .lines()
            .filter(|l| l.rsplit_once(':').is_some_and(|(repo, tag)| tag != "<none>" && repositories.contains(&repo)))
            .map(str::to_owned)
            .collect())
    }
}

/// `docker image ls` shows `python:3.13-slim`, never `docker.io/library/python:3.13-slim`;
/// a reference without a tag means `:latest`.
pub fn normalize(reference: &str) -> String {
    let r = reference.strip_prefix("docker.io/").unwrap_or(reference);
    let r = r.strip_prefix("library/").unwrap_or(r);
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') || r.contains('@') {
        r.to_owned()
    } else {
        format!("{r}:latest")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalize_matches_what_image_ls_prints() {
        use super::normalize;
        assert_eq!(normalize("python:3.13-slim"), "python:3.13-slim");
        assert_eq!(normalize("docker.io/library/node:24-slim"), "node:24-slim");
        assert_eq!(normalize("alpine"), "alpine:latest");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
    }
}
