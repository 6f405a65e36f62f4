//! The plan: for each image, its content hash, tag, and whether a build is needed and why.
//! Computing it has no side effects; `plan` prints it, `build` and `up` carry it out.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context, Result};

use crate::{
    config::{self, Config, Environment, Image, Registry},
    docker::{Docker, ImageInfo},
    dockerfile, hash, process,
    registry::{Client, RegistryStore},
    state::{Inputs, State, ABSENT},
};

/// Where images live, as far as planning is concerned: Docker, or a table in tests.
pub trait ImageStore {
    /// The ID of a base image reference, if present.
    fn resolve(&mut self, reference: &str) -> Result<Option<String>>;
    /// Our image under `reference`, which must be the content `hash` names to be used.
    fn inspect(&mut self, reference: &str, hash: &str) -> Result<Lookup>;
    /// Forget what was listed: after a build or a pull the engine has more.
    fn refresh(&mut self) {}
}

/// What a store holds under an image's reference.
pub enum Lookup {
    Absent,
    Present(ImageInfo),
    /// An image is there, but it is not this content: it is built again, for this reason.
    Untrusted(String),
}

impl From<Option<ImageInfo>> for Lookup {
    fn from(info: Option<ImageInfo>) -> Lookup {
        info.map_or(Lookup::Absent, Lookup::Present)
    }
}

/// Docker, with `image ls` fetched once per run.
pub struct DockerStore<'a> {
    pub docker: &'a Docker,
    ids: Option<HashMap<String, String>>,
}

impl<'a> DockerStore<'a> {
    pub fn new(docker: &'a Docker) -> Self {
        DockerStore { docker, ids: None }
    }
}

impl ImageStore for DockerStore<'_> {
    fn resolve(&mut self, reference: &str) -> Result<Option<String>> {
        if self.ids.is_none() {
            self.ids = Some(self.docker.image_ids()?);
        }
        self.docker.resolve(self.ids.as_ref().unwrap(), reference)
    }

    /// The engine's own images were built here under the tag their content hashes to.
    fn inspect(&mut self, reference: &str, _hash: &str) -> Result<Lookup> {
        Ok(self.docker.inspect(reference)?.into())
    }

    fn refresh(&mut self) {
        self.ids = None;
    }
}

/// The planner's view when no engine answers: nothing is present.
struct NoEngine;

impl ImageStore for NoEngine {
    fn resolve(&mut self, _reference: &str) -> Result<Option<String>> {
        Ok(None)
    }

    fn inspect(&mut self, _reference: &str, _hash: &str) -> Result<Lookup> {
        Ok(Lookup::Absent)
    }
}

/// The plans of `images`, building and pulling nothing, and the environment's engine they were
/// made against. Images are named for the environment's registry; `registry` is asked what it
/// holds (and so the digest `up` deploys), else only the engine is: without a client a
/// registry's image is as absent as the engine's copy says, and has no digest. When no engine
/// answers (no Minikube, Docker stopped) every image is still hashed, as if the engine held
/// nothing: the tags then count the base images as absent, and the engine's error says why.
pub fn plan_images(
    images: &[&Image],
    env: &Environment,
    state: &State,
    registry: Option<&Client>,
) -> Result<(Vec<ImagePlan>, Result<Docker>)> {
    let engine = Docker::for_environment(env).and_then(|docker| docker.check().map(|()| docker));
    let lookup = |name: &str| std::env::var(name).ok();
    let mut planner = Planner::new(state, &lookup);
    planner.registry = env.registry.as_ref();
    let (mut docker_store, mut registry_store, mut no_engine);
    let store: &mut dyn ImageStore = match (&engine, registry) {
        (Ok(docker), Some(client)) => {
            registry_store = RegistryStore { docker: DockerStore::new(docker), client, pull_bases: false };
            &mut registry_store
        }
        (Ok(docker), None) => {
            docker_store = DockerStore::new(docker);
            &mut docker_store
        }
        (Err(_), _) => {
            no_engine = NoEngine;
            &mut no_engine
        }
    };
    let plans = images.iter().map(|image| planner.plan(image, store)).collect::<Result<_>>()?;
    Ok((plans, engine))
}

#[derive(Debug, Clone, Default)]
pub struct ImagePlan {
    pub key: String,
    pub hash: String,
    pub tag: String,
    pub reference: String,
    pub inputs: Inputs,
    /// Evaluated build args, for `docker build`.
    pub build_args: BTreeMap<String, String>,
    pub files: usize,
    pub bytes: u64,
    pub hash_seconds: f64,
    pub ignore_file: Option<String>,
    pub present: Option<ImageInfo>,
    pub build: bool,
    pub reasons: Vec<String>,
}

impl ImagePlan {
    pub fn absent_bases(&self) -> Vec<&str> {
        self.inputs.base_images.iter().filter(|(_, id)| *id == ABSENT).map(|(r, _)| r.as_str()).collect()
    }

    /// The same plan with its base images' IDs looked up again (after a build pulled one):
    /// every other input, the files above all, stays what was hashed and built.
    pub fn with_bases_resolved(&self, image: &Image, store: &mut dyn ImageStore) -> Result<ImagePlan> {
        let mut plan = self.clone();
        for (base, id) in plan.inputs.base_images.iter_mut() {
            *id = store.resolve(base)?.unwrap_or_else(|| ABSENT.to_owned());
        }
        plan.hash = plan.inputs.hash();
        plan.tag = config::render_tag(&image.tag, &plan.hash);
        let repository = self.repository().to_owned();
        plan.reference = format!("{repository}:{}", plan.tag);
        Ok(plan)
    }

    /// The reference without its tag: `todo-backend`, `ghcr.io/acme/todo-backend`.
    pub fn repository(&self) -> &str {
        self.reference.rsplit_once(':').map_or(&self.reference, |(repository, _)| repository)
    }

    /// What a cluster runs: `repository:tag@sha256:…` when the registry gave a digest.
    pub fn deployed_tag(&self) -> String {
        match self.present.as_ref().and_then(|p| p.digest.as_ref()) {
            Some(digest) => format!("{}@{digest}", self.tag),
            None => self.tag.clone(),
        }
    }
}

/// The images to consider for `keys` (all when empty): those and what they depend on, in build
/// order. Unknown keys are an error listing the known ones.
pub fn select<'a>(config: &'a Config, keys: &[String]) -> Result<Vec<&'a Image>> {
    if keys.is_empty() {
        return Ok(config.images.iter().collect());
    }
    let mut wanted: Vec<String> = Vec::new();
    for key in keys {
        let Some(image) = config.image(key) else {
            let known: Vec<_> = config.images.iter().map(|i| i.key.as_str()).collect();
            bail!("no image `{key}` in {}; images: {}", config.path, known.join(", "));
        };
        wanted.push(image.key.clone());
    }
    // Dependencies are built first, whether asked for or not.
    let mut i = 0;
    while i < wanted.len() {
        let deps = config.image(&wanted[i]).unwrap().depends_on.clone();
        for dep in deps {
            if !wanted.contains(&dep) {
                wanted.push(dep);
            }
        }
        i += 1;
    }
    Ok(config.images.iter().filter(|img| wanted.contains(&img.key)).collect())
}

pub struct Planner<'a> {
    pub state: &'a State,
    /// Environment lookup for `${VAR}` in build args.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Plans made so far in this run, by key: dependents read their hashes.
    pub done: BTreeMap<String, ImagePlan>,
    /// The registry the images are named for, if the environment has one.
    pub registry: Option<&'a Registry>,
}

impl<'a> Planner<'a> {
    pub fn new(state: &'a State, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Planner { state, env, done: BTreeMap::new(), registry: None }
    }

    /// Hashes the context as it is now and plans from it.
    pub fn plan(&mut self, image: &Image, store: &mut dyn ImageStore) -> Result<ImagePlan> {
        let snapshot = hash::snapshot(&image.context, &image.dockerfile)
            .with_context(|| format!("cannot hash the context of image `{}`", image.key))?;
        let dockerfile_text = std::fs::read_to_string(&image.dockerfile)
            .with_context(|| format!("cannot read {} (image `{}`)", image.dockerfile, image.key))?;
        self.plan_from(image, snapshot, &dockerfile_text, store)
    }

    /// Plans from a snapshot already taken (the one a build sends to Docker).
    pub fn plan_from(
        &mut self,
        image: &Image,
        snapshot: hash::Snapshot,
        dockerfile_text: &str,
        store: &mut dyn ImageStore,
    ) -> Result<ImagePlan> {
        let mut depends_on = BTreeMap::new();
        let mut dep_references = Vec::new();
        for dep in &image.depends_on {
            let Some(planned) = self.done.get(dep) else {
                bail!("image `{}` depends on `{dep}`, which was not planned first", image.key);
            };
            depends_on.insert(dep.clone(), planned.hash.clone());
            dep_references.push(planned.reference.clone());
        }
        let (hashed_args, build_args) = self.evaluate_args(image)?;
        let mut base_images = BTreeMap::new();
        for base in dockerfile::base_images(dockerfile_text, &build_args) {
            // Our own images are covered by their hash in depends_on.
            if dep_references.contains(&base) {
                continue;
            }
            let id = store.resolve(&base)?.unwrap_or_else(|| ABSENT.to_owned());
            base_images.insert(base, id);
        }
        let inputs = Inputs {
            context: snapshot.digest.clone(),
            files: snapshot.entries,
            dockerfile: hash::sha256_hex(dockerfile_text.as_bytes()),
            target: image.target.clone(),
            build_args: hashed_args,
            base_images,
            depends_on,
        };
        let hash = inputs.hash();
        let tag = config::render_tag(&image.tag, &hash);
        let repository = self.registry.map_or_else(|| image.name.clone(), |r| r.repository(&image.name));
        let reference = format!("{repository}:{tag}");
        let (present, reasons) = match store.inspect(&reference, &hash)? {
            Lookup::Present(info) => {
                let reason = match (&info.digest, self.registry) {
                    (Some(_), Some(registry)) => {
                        format!("in the registry {} with this hash ({})", registry.host, short_id(&info.id))
                    }
                    _ => format!("image with this hash present ({})", short_id(&info.id)),
                };
                (Some(info), vec![reason])
            }
            Lookup::Absent => (None, why_build(self.state.inputs.get(&image.key), &inputs, &self.done)),
            Lookup::Untrusted(why) => (None, vec![why]),
        };
        let build = present.is_none();
        let plan = ImagePlan {
            key: image.key.clone(),
            hash,
            tag,
            reference,
            inputs,
            build_args,
            files: snapshot.files,
            bytes: snapshot.bytes,
            hash_seconds: snapshot.elapsed.as_secs_f64(),
            ignore_file: snapshot.ignore_file.map(|p| p.to_string()),
            present,
            build,
            reasons,
        };
        self.done.insert(image.key.clone(), plan.clone());
        Ok(plan)
    }

    /// Build args with `${VAR}` expanded: first as hashed (image references left as written,
    /// since depends_on covers them), then as passed to `docker build`.
    fn evaluate_args(&self, image: &Image) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
        let mut hashed = BTreeMap::new();
        let mut full = BTreeMap::new();
        for (name, raw) in &image.build_args {
            let value = expand_env(raw, self.env).with_context(|| format!("images.{}.build_args.{name}", image.key))?;
            let mut resolved = value.clone();
            for dep in config::image_references(raw) {
                resolved = resolved.replace(&format!("{{images.{dep}}}"), &self.done[&dep].reference);
            }
            // A registry's tags are shared by every machine, so the value enters the hash the
            // same way everywhere. Docker keeps build args in the image's history anyway: a
            // secret must not be one.
            let digest = match self.registry {
                Some(registry) if process::is_secret_name(&name.to_ascii_uppercase()) => bail!(
                    "images.{}.build_args.{name} looks like a secret: pushed to {}, it would be readable in the image's history and guessable from its tag; pass it at run time instead",
                    image.key,
                    registry.host
                ),
                Some(_) => hash::sha256_hex(value.as_bytes()),
                None => self.state.key.digest(value.as_bytes()),
            };
            hashed.insert(name.clone(), digest);
            full.insert(name.clone(), resolved);
        }
        Ok((hashed, full))
    }
}

/// `${VAR}` (required) and `${VAR:-default}` from the environment.
pub fn expand_env(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else { bail!("unclosed `${{` in `{raw}`") };
        let inner = &rest[start + 2..start + end];
        let value = match inner.split_once(":-") {
            Some((name, default)) => env(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned()),
            None => env(inner).ok_or_else(|| {
                anyhow::anyhow!("`${{{inner}}}` is not set: export {inner}=… (or write `${{{inner}:-default}}`)")
            })?,
        };
        out.push_str(&value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Why an image must be built, comparing with the inputs of its last build here.
fn why_build(previous: Option<&Inputs>, now: &Inputs, done: &BTreeMap<String, ImagePlan>) -> Vec<String> {
    let pulls: Vec<String> = now
        .base_images
        .iter()
        .filter(|(_, id)| *id == ABSENT)
        .map(|(base, _)| format!("base image {base} is not in the engine: the build will pull it"))
        .collect();
    let Some(prev) = previous else {
        let mut reasons = vec!["no image with this hash (not built here before)".to_owned()];
        reasons.extend(pulls);
        return reasons;
    };
    let mut reasons = Vec::new();
    if prev.context != now.context {
        let changes = hash::diff(&prev.files, &now.files);
        let shown: Vec<_> = changes.iter().take(5).cloned().collect();
        let more = changes.len().saturating_sub(shown.len());
        let mut text = format!("context changed: {}", shown.join(", "));
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        reasons.push(text);
    }
    if prev.dockerfile != now.dockerfile {
        reasons.push("Dockerfile changed".into());
    }
    if prev.target != now.target {
        reasons.push("build target changed".into());
    }
    let arg_names: Vec<&String> = prev.build_args.keys().chain(now.build_args.keys()).collect();
    let mut changed_args: Vec<&str> = arg_names
        .into_iter()
        .filter(|k| prev.build_args.get(*k) != now.build_args.get(*k))
        .map(String::as_str)
        .collect();
    changed_args.dedup();
    if !changed_args.is_empty() {
        reasons.push(format!("build args changed: {}", changed_args.join(", ")));
    }
    for (base, id) in &now.base_images {
        match prev.base_images.get(base) {
            Some(old) if old == id => {}
            Some(old) => reasons.push(format!("base image {base} changed ({} → {})", short_id(old), short_id(id))),
            None => reasons.push(format!("new base image {base}")),
        }
    }
    for (dep, hash) in &now.depends_on {
        if prev.depends_on.get(dep) != Some(hash) {
            let rebuilt = done.get(dep).is_some_and(|p| p.build);
            reasons.push(format!("depends on `{dep}`, which {}", if rebuilt { "is rebuilt" } else { "changed" }));
        }
    }
    reasons.extend(pulls);
    if reasons.is_empty() {
        reasons.push("same inputs as the last build here, but the image is gone from the engine".into());
    }
    reasons
}

pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests;
