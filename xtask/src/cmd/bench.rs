//! `cargo xtask bench`: the app and the pipeline measured against their ceilings and their
//! targets, written to `docs/benchmarks.md` (data: `target/xtask/report-bench.json`).
//!
//! Sections: `api` (wrk against the backend and the bare-ASGI ceiling of bench/ceiling.py on a
//! seeded PostgreSQL, 1 and 2 workers), `chat` (offline assistant turns), `startup` (process
//! cold start → ready), `hashing` (context hashing vs sha256sum: the project's contexts and a
//! generated one of 100,000 files, and that tree as an ignored node_modules) and `pipeline`
//! (plan, no-op build/up, one-file rebuild). Image and deployment figures are read from what `build` and `up` recorded, the
//! cluster tier's from its report-cluster.json. This machine is shared and noisy, so every
//! comparison is a ratio of figures from the same run, and nothing here is a timed test.

mod app;
mod doc;
mod large;
mod machine;
mod pipeline;

use std::{collections::BTreeMap, process::ExitCode};

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::{flags::BenchArgs, process, report, time, tools::project_root};

const SECTIONS: &[&str] = &["api", "chat", "startup", "hashing", "pipeline"];

/// How long and how often to measure.
pub struct Budget {
    /// wrk duration of each (endpoint, clients) point.
    pub load_seconds: u32,
    /// Cold starts and pipeline commands are measured this many times; the median is reported.
    pub samples: usize,
    /// Turns per chat conversation (after one warm-up turn).
    pub chat_turns: usize,
    /// Alternating rounds of our context hashing and `sha256sum`'s.
    pub hash_rounds: usize,
    /// The same over the generated 1 GB context (seconds per round).
    pub large_hash_rounds: usize,
}

impl Budget {
    fn new(quick: bool) -> Budget {
        if quick {
            Budget { load_seconds: 3, samples: 2, chat_turns: 3, hash_rounds: 10, large_hash_rounds: 2 }
        } else {
            Budget { load_seconds: 8, samples: 3, chat_turns: 10, hash_rounds: 30, large_hash_rounds: 3 }
        }
    }
}

/// One wrk run: a server, an endpoint, a number of concurrent clients.
#[derive(Serialize, Clone, Debug)]
pub struct LoadPoint {
    pub server: &'static str,
    pub workers: u32,
    pub op: &'static str,
    pub clients: u32,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx answers plus socket errors and timeouts.
    pub errors: u64,
    /// CPU time the server's processes spent per request.
    pub cpu_ms_per_request: f64,
}

#[derive(Serialize, Default)]
pub struct Results {
    pub date: String,
    pub quick: bool,
    pub machine: machine::Machine,
    pub versions: Vec<(String, String)>,
    pub load: Vec<LoadPoint>,
    /// Named scalar figures, e.g. `chat.p95_ms`, `startup.backend_s`, `image.backend.size_mb`.
    pub figures: BTreeMap<String, f64>,
    /// Named facts that go with figures (which environment, which images rebuilt).
    pub facts: BTreeMap<String, String>,
    /// What the cluster tier's last run measured, as it names and shows each figure.
    pub cluster: Vec<(String, String)>,
    /// Section or figure → why it was not measured in this run.
    pub unmeasured: BTreeMap<String, String>,
}

impl Results {
    pub fn figure(&self, key: &str) -> Option<f64> {
        self.figures.get(key).copied()
    }

    pub fn set(&mut self, key: &str, value: f64) {
        self.figures.insert(key.to_owned(), value);
    }

    pub fn point(&self, server: &str, workers: u32, op: &str, clients: u32) -> Option<&LoadPoint> {
        self.load.iter().find(|p| p.server == server && p.workers == workers && p.op == op && p.clients == clients)
    }
}

/// What the sections share: paths, the budget, and the app stack (started on first use).
pub struct Ctx {
    pub root: Utf8PathBuf,
    pub config_path: Utf8PathBuf,
    pub budget: Budget,
    /// Logs and generated inputs of this run (gitignored).
    pub work: Utf8PathBuf,
    stack: Option<app::Stack>,
}

impl Ctx {
    pub fn stack(&mut self) -> Result<&app::Stack> {
        if self.stack.is_none() {
            self.stack = Some(app::Stack::start(&self.root, &self.work)?);
        }
        Ok(self.stack.as_ref().unwrap())
    }
}

pub fn run(config_path: &Utf8Path, args: &BenchArgs) -> Result<ExitCode> {
    let root = project_root();
    let work = report::dir(&root).join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {work}"))?;
    let _lock = RunLock::take(&work.join("lock"))?;
    let mut results =
        Results { date: time::now_rfc3339(), quick: args.quick, machine: machine::machine(), ..Results::default() };
    let mut ctx = Ctx {
        root: root.clone(),
        config_path: config_path.to_owned(),
        budget: Budget::new(args.quick),
        work,
        stack: None,
    };
    eprintln!(
        "==> cargo xtask bench ({}): {} × {} cores, load average {}",
        if args.quick { "quick" } else { "full" },
        results.machine.cpu_model,
        results.machine.cores,
        results.machine.load_average
    );

    let mut failed = false;
    for &section in SECTIONS {
        if !args.only.is_empty() && !args.only.iter().any(|s| s == section) {
            results.unmeasured.insert(section.into(), "not selected (--only)".into());
            continue;
        }
        eprintln!("\n==> {section}");
        let outcome = match section {
            "api" => app::api(&mut ctx, &mut results),
            "chat" => app::chat(&mut ctx, &mut results),
            "startup" => app::startup(&mut ctx, &mut results),
            "hashing" => pipeline::hashing(&ctx, &mut results).and_then(|()| large::measure(&ctx, &mut results)),
            _ => pipeline::measure(&ctx, &mut results),
        };
        if let Err(err) = outcome {
            let reason = if process::interrupted() { "interrupted".to_owned() } else { format!("{err:#}") };
            eprintln!("    {section} failed: {reason}");
            results.unmeasured.insert(section.into(), reason);
            failed = true;
        }
        if process::interrupted() {
            break;
        }
    }
    // Versions need the stack's Python; read them before it stops.
    results.versions = machine::versions(&root, ctx.stack.as_ref().map(|s| s.python.as_path()));
    // Stop the servers and the database before writing, so their shutdown noise ends first.
    drop(ctx.stack.take());
    pipeline::deployment(&root, config_path, &mut results);
    pipeline::cluster_tier(&root, &mut results);

    let json = report::dir(&root).join("report-bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(&results)?).with_context(|| format!("cannot write {json}"))?;
    if process::interrupted() {
        eprintln!("interrupted: docs/benchmarks.md left as it was; partial figures in {json}");
        return Ok(ExitCode::FAILURE);
    }
    let markdown = doc::render(&root, &results);
    let path = root.join("docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, &markdown).with_context(|| format!("cannot write {path}"))?;
    print!("{}", doc::targets_table(&results));
    eprintln!("\nwrote {path} (figures in {json})");
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// One benchmark at a time per checkout: two runs would overwrite each other's users, tokens and
/// logs (and compete for the same cores). Removed when the run ends; a lock whose process is
/// gone is taken over.
struct RunLock(Utf8PathBuf);

impl RunLock {
    fn take(path: &Utf8Path) -> Result<RunLock> {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                if Utf8Path::new(&format!("/proc/{pid}")).exists() && pid != std::process::id() {
                    anyhow::bail!("another `cargo xtask bench` (pid {pid}) is running here; wait for it or stop it");
                }
            }
        }
        std::fs::write(path, std::process::id().to_string()).with_context(|| format!("cannot write {path}"))?;
        Ok(RunLock(path.to_owned()))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The median of samples (the middle one, or the mean of the two middle ones).
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
