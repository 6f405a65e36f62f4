//! `docker push` of a built image, then the registry asked for what it now holds: the digest
//! `up` deploys by, and proof that the pushed config carries the hash label.

use anyhow::{bail, Context, Result};

use super::{auth::PushConfig, Client, Source};
use crate::{docker::Docker, plan::Lookup, process, progress::spinner};

impl Client {
    /// Pushes `reference` from `docker` and returns its manifest digest.
    pub fn push(&self, docker: &Docker, reference: &str, hash: &str) -> Result<String> {
        let host = &self.registry.host;
        // Docker reads credentials only from its config: given in the environment, they reach
        // this one push through a private config directory.
        let config = match self.credentials() {
            Some(credentials) if credentials.source == Source::Environment => {
                Some(PushConfig::write(credentials, host)?)
            }
            _ => None,
        };
        let mut cmd = docker.command();
        if let Some(config) = &config {
            cmd.args(["--config", config.dir.as_str()]);
        }
        cmd.args(["push", reference]);
        let bar = spinner(format!("pushing {reference}"));
        let pushed = process::read(&mut cmd);
        bar.finish_and_clear();
        pushed.with_context(|| {
            format!("cannot push {reference} to {host}: `docker login {host}` with an account that may push there")
        })?;
        match self.lookup(reference, hash)? {
            Lookup::Present(info) => info.digest.context("the registry gave no digest"),
            Lookup::Absent => bail!("{reference} was pushed, but the registry does not have it"),
            Lookup::Untrusted(why) => bail!("{reference} was pushed, but the registry gives back other content: {why}"),
        }
    }
}
