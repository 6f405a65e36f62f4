//! `state.json` under `target/xtask/` (or `$XTASK_DIR`): what later runs build on — measurements
//! of each built image (build time and size, by reference), the inputs each image was last built
//! from (to explain a rebuild), and each environment's last deployment. A command loads it once
//! and passes it down.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::{
    digest_key::DigestKey,
    hash::{self, Entry},
    report::{dir, write_json},
};

/// Everything an image's hash covers. Kept in the state after a build, so the next plan can say
/// what changed. Build arg values are stored as digests keyed with the machine's key: they may
/// be tokens.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Inputs {
    pub context: String,
    pub files: BTreeMap<String, Entry>,
    pub dockerfile: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// Base image reference → its image ID in the target engine, or `absent`.
    pub base_images: BTreeMap<String, String>,
    /// Image key → its hash.
    pub depends_on: BTreeMap<String, String>,
}

pub const ABSENT: &str = "absent";

impl Inputs {
    pub fn hash(&self) -> String {
        let mut text = String::from("image v1\n");
        let mut line = |k: &str, v: &str| text.push_str(&format!("{k}\0{v}\n"));
        line("context", &self.context);
        line("dockerfile", &self.dockerfile);
        line("target", self.target.as_deref().unwrap_or(""));
        for (k, v) in &self.build_args {
            line(&format!("arg\0{k}"), v);
        }
        for (k, v) in &self.base_images {
            line(&format!("base\0{k}"), v);
        }
        for (k, v) in &self.depends_on {
            line(&format!("dep\0{k}"), v);
        }
        hash::sha256_hex(text.as_bytes())
    }
}

#[derive(Serialize, Deserialize, Default, Debug)]
pub struct State {
    /// How the digests of possibly secret values below were made; state from before keyed
    /// digests has them cleared on load.
    #[serde(default)]
    pub digests: String,
    /// The machine's key for those digests (never written into the state).
    #[serde(skip)]
    pub key: DigestKey,
    /// `repository:tag` → how its build went.
    #[serde(default)]
    pub builds: BTreeMap<String, BuildRecord>,
    /// Image key → the inputs of its last build here.
    #[serde(default)]
    pub inputs: BTreeMap<String, Inputs>,
    /// Environment → its last successful deployment.
    #[serde(default)]
    pub deploys: BTreeMap<String, DeployRecord>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BuildRecord {
    pub seconds: f64,
    pub size_bytes: u64,
    pub built_at: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct DeployRecord {
    /// Digest of everything the release was installed from (chart, values, tags, secrets).
    pub fingerprint: String,
    pub revision: u64,
    pub deploy_seconds: f64,
    pub deployed_at: String,
    /// Image key → the `repository:tag` this deployment runs (empty in records of older xtasks).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
}

/// The `digests` of a state whose digests are keyed with the machine's key.
const KEYED_DIGESTS: &str = "hmac-sha256";

impl State {
    pub fn load(root: &Utf8Path) -> Result<State> {
        let path = dir(root).join("state.json");
        let mut state: State = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|err| {
                // A state file from another version is only a cache: start over.
                eprintln!("warning: ignoring {path} ({err})");
                State::default()
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(err) => return Err(err).with_context(|| format!("cannot read {path}")),
        };
        state.key = DigestKey::load()?;
        state.forget_unkeyed_digests();
        Ok(state)
    }

    /// Plain sha256 digests of build args and fingerprints (older xtasks) are dropped: they
    /// would let a weak secret be guessed offline. The next build and deploy record keyed ones.
    fn forget_unkeyed_digests(&mut self) {
        if self.digests != KEYED_DIGESTS {
            for inputs in self.inputs.values_mut() {
                inputs.build_args.values_mut().for_each(String::clear);
            }
            self.deploys.values_mut().for_each(|deploy| deploy.fingerprint.clear());
            self.digests = KEYED_DIGESTS.to_owned();
        }
    }

    /// How `reference` was built: by this checkout, else by any other on this machine (the
    /// image is the engine's, so a fresh clone may find it built already).
    pub fn build(&self, reference: &str) -> Option<BuildRecord> {
        self.builds.get(reference).cloned().or_else(|| machine_builds().remove(reference))
    }

    pub fn save(&self, root: &Utf8Path) -> Result<()> {
        write_json(&dir(root).join("state.json"), self)
    }
}

/// Build records are also kept per machine (`<tools cache>/builds.json`, newest 200): images
/// live in the machine's Docker engine, so a fresh checkout that finds an image already built
/// here still knows how long its build took (the build-time budgets).
fn machine_builds_path() -> Option<Utf8PathBuf> {
    crate::tools::cache().map(|cache| cache.join("builds.json"))
}

fn machine_builds() -> BTreeMap<String, BuildRecord> {
    let text = machine_builds_path().and_then(|path| std::fs::read_to_string(path).ok());
    text.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

pub fn remember_build(reference: &str, record: &BuildRecord) -> Result<()> {
    update_machine_builds(reference, Some(record))
}

/// Drops `reference` from the machine's build log (its image was removed).
pub fn forget_build(reference: &str) -> Result<()> {
    update_machine_builds(reference, None)
}

fn update_machine_builds(reference: &str, record: Option<&BuildRecord>) -> Result<()> {
    let Some(path) = machine_builds_path() else { return Ok(()) };
    let mut records: Vec<(String, BuildRecord)> = machine_builds().into_iter().collect();
    records.retain(|(other, _)| other != reference);
    records.extend(record.map(|record| (reference.to_owned(), record.clone())));
    // RFC 3339 UTC timestamps sort by time.
    records.sort_by(|a, b| b.1.built_at.cmp(&a.1.built_at));
    records.truncate(200);
    write_json(&path, &records.into_iter().collect::<BTreeMap<_, _>>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_digests_of_an_older_state_are_forgotten_on_load() {
        let old = r#"{"inputs": {"app": {"context": "c", "files": {}, "dockerfile": "d", "target": null,
            "build_args": {"TOKEN": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            "base_images": {}, "depends_on": {}}},
            "deploys": {"dev": {"fingerprint": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "revision": 1, "deploy_seconds": 1.0, "deployed_at": "2026-01-01T00:00:00Z"}}}"#;
        let mut state: super::State = serde_json::from_str(old).unwrap();
        state.forget_unkeyed_digests();
        let kept = serde_json::to_string(&state).unwrap();
        assert!(!kept.contains("e3b0c442") && !kept.contains("9f86d081"), "{kept}");
        assert_eq!(state.inputs["app"].build_args["TOKEN"], "");
        // A keyed state keeps its digests.
        state.inputs.get_mut("app").unwrap().build_args.insert("TOKEN".into(), "keyed".into());
        state.forget_unkeyed_digests();
        assert_eq!(state.inputs["app"].build_args["TOKEN"], "keyed");
    }
}
