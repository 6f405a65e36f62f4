//! The planner's view of an environment with a registry: base images from its Docker engine,
//! our images from the registry.

use anyhow::{Context, Result};

use super::Client;
use crate::{
    plan::{DockerStore, ImageStore, Lookup},
    process,
    progress::spinner,
};

pub struct RegistryStore<'a> {
    pub docker: DockerStore<'a>,
    pub client: &'a Client,
    /// Pull a base image the engine lacks before hashing (`build`, `up`; `plan` only reads). A
    /// registry's tags name the same content on every machine, so the hash needs the base's real
    /// ID, not "absent".
    pub pull_bases: bool,
}

impl ImageStore for RegistryStore<'_> {
    fn resolve(&mut self, reference: &str) -> Result<Option<String>> {
        if let Some(id) = self.docker.resolve(reference)? {
            return Ok(Some(id));
        }
        if !self.pull_bases {
            return Ok(None);
        }
        let docker = self.docker.docker;
        let bar = spinner(format!("docker pull {reference} (a base image: its ID is part of the hash)"));
        let pulled = process::read(docker.command().args(["pull", reference]));
        bar.finish_and_clear();
        pulled.with_context(|| {
            format!("base image {reference} is neither in {} nor pullable: the hash of an image in a registry needs its base's ID", docker.name)
        })?;
        self.docker.refresh();
        self.docker.resolve(reference)
    }

    fn inspect(&mut self, reference: &str, hash: &str) -> Result<Lookup> {
        self.client.lookup(reference, hash)
    }

    fn refresh(&mut self) {
        self.docker.refresh();
    }
}
