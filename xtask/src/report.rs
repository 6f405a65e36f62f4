//! What runs leave behind under `target/xtask/` (or `$XTASK_DIR`, which CI can cache):
//! - `report-<command>.json`: the last run of each command — hashes, timings, sizes, outcomes;
//! - `state.json`: what later runs build on — measurements of each built image (build time and
//!   size, by reference), the inputs each image was last built from (to explain a rebuild), and
//!   each environment's last deployment.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::{digest_key::DigestKey, plan::Inputs};

#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Report {
    pub command: String,
    pub environment: Option<String>,
    pub started_at: String,
    pub seconds: f64,
    pub outcome: String,
    pub error: Option<String>,
    pub images: Vec<ImageReport>,
    pub release: Option<ReleaseReport>,
    pub budgets: Vec<BudgetRow>,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub struct ImageReport {
    pub key: String,
    pub reference: String,
    pub hash: String,
    /// `built`, `skipped` or `would build` / `would skip` (plan).
    pub action: String,
    pub reasons: Vec<String>,
    pub files: usize,
    pub bytes: u64,
    pub hash_seconds: f64,
    pub build_seconds: Option<f64>,
    pub size_bytes: Option<u64>,
    pub loaded: Option<bool>,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub struct ReleaseReport {
    pub name: String,
    pub namespace: String,
    pub action: String,
    pub revision: Option<u64>,
    pub deploy_seconds: Option<f64>,
    pub url: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BudgetRow {
    pub budget: String,
    pub measured: Option<f64>,
    pub limit: f64,
    pub unit: String,
    pub ok: bool,
    pub note: String,
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

pub fn dir(root: &Utf8Path) -> Utf8PathBuf {
    match std::env::var("XTASK_DIR") {
        Ok(dir) if !dir.is_empty() => Utf8PathBuf::from(dir),
        _ => root.join("target/xtask"),
    }
}

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

impl Report {
    pub fn new(command: &str, environment: Option<&str>) -> Report {
        Report {
            command: command.to_owned(),
            environment: environment.map(str::to_owned),
            started_at: now_rfc3339(),
            outcome: "ok".into(),
            ..Report::default()
        }
    }

    pub fn save(&self, root: &Utf8Path) -> Result<Utf8PathBuf> {
        let path = dir(root).join(format!("report-{}.json", self.command));
        write_json(&path, self)?;
        Ok(path)
    }

    pub fn load(root: &Utf8Path, command: &str) -> Result<Option<Report>> {
        let path = dir(root).join(format!("report-{command}.json"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| format!("cannot parse {path}"))?)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("cannot read {path}")),
        }
    }
}

/// Written to a temporary file, then renamed: an interrupted run never leaves half a file.
fn write_json(path: &Utf8Path, value: &impl Serialize) -> Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(value)?).with_context(|| format!("cannot write {tmp}"))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {path}"))?;
    Ok(())
}

pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
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

    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_535_486), "2026-11-24T15:51:26Z");
    }
}
