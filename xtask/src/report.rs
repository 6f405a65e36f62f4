//! What runs leave behind under `target/xtask/` (or `$XTASK_DIR`, which CI can cache):
//! `report-<command>.json`, the last run of each command — hashes, timings, sizes, outcomes.
//! What later runs build on is the state (`state.json`, see [`crate::state`]), kept there too.

use std::time::Instant;

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::{process, time};

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
    /// `built`, `skipped`, `failed`, `not built` (an image it depends on failed), or
    /// `would build` / `would skip` (plan).
    pub action: String,
    pub reasons: Vec<String>,
    pub files: usize,
    pub bytes: u64,
    pub hash_seconds: f64,
    pub build_seconds: Option<f64>,
    pub size_bytes: Option<u64>,
    pub loaded: Option<bool>,
    /// Pushed to the environment's registry by this run.
    #[serde(default)]
    pub pushed: Option<bool>,
    /// The manifest digest in the environment's registry.
    #[serde(default)]
    pub digest: Option<String>,
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

pub fn dir(root: &Utf8Path) -> Utf8PathBuf {
    match std::env::var("XTASK_DIR") {
        Ok(dir) if !dir.is_empty() => Utf8PathBuf::from(dir),
        _ => root.join("target/xtask"),
    }
}

impl Report {
    pub fn new(command: &str, environment: Option<&str>) -> Report {
        Report {
            command: command.to_owned(),
            environment: environment.map(str::to_owned),
            started_at: time::now_rfc3339(),
            outcome: "ok".into(),
            ..Report::default()
        }
    }

    /// Records how the command ended and writes the report, whatever happened.
    pub fn finish<T>(&mut self, root: &Utf8Path, start: Instant, result: &Result<T>) {
        self.seconds = start.elapsed().as_secs_f64();
        if let Err(err) = result {
            self.outcome = if process::interrupted() { "interrupted".into() } else { "failed".into() };
            self.error = Some(format!("{err:#}"));
        }
        match self.save(root) {
            Ok(path) if process::verbose() => eprintln!("report: {path}"),
            Ok(_) => {}
            Err(err) => eprintln!("warning: could not write the report: {err:#}"),
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
pub fn write_json(path: &Utf8Path, value: &impl Serialize) -> Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(value)?).with_context(|| format!("cannot write {tmp}"))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {path}"))?;
    Ok(())
}
