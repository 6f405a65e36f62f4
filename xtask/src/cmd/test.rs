//! `cargo xtask test`: every test tier this machine can run, in order, provisioning what they
//! need (a throwaway PostgreSQL, uv, node_modules, Chromium), then a summary of what ran, what
//! was skipped and why. A tier whose entry point doesn't exist is skipped, saying so.

use std::{
    fmt::Write as _,
    process::{Command, ExitCode, Stdio},
    time::{Instant, SystemTime},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::{
    flags::TestArgs,
    postgres::Postgres,
    process, report,
    tools::{self, docker_answers, npm_ci_if_stale, project_root, uv},
};

const CHROMIUM: &str = "/usr/bin/chromium";

#[derive(Clone, Copy)]
struct Tier {
    name: &'static str,
    run: fn(&mut Ctx) -> Result<Outcome>,
}

/// In the order they run: fast and self-contained first, the slow ones that need engines last.
const TIERS: &[Tier] = &[
    Tier { name: "rust", run: rust },
    Tier { name: "backend", run: backend },
    Tier { name: "frontend-unit", run: frontend_unit },
    Tier { name: "frontend-e2e", run: frontend_e2e },
    Tier { name: "chart", run: chart },
    Tier { name: "images", run: images },
    Tier { name: "registry", run: registry },
    Tier { name: "cluster", run: cluster },
];

enum Outcome {
    Passed,
    Skipped(String),
}

#[derive(Serialize)]
struct TierResult {
    tier: &'static str,
    result: &'static str,
    seconds: f64,
    reason: String,
}

struct Ctx {
    root: Utf8PathBuf,
    postgres: Option<Postgres>,
}

impl Ctx {
    /// Started on first use, so `--tier rust` costs no database.
    fn database_url(&mut self) -> Result<String> {
        if self.postgres.is_none() {
            eprintln!("==> starting a throwaway PostgreSQL 15 cluster");
            let pg = Postgres::start().context("cannot start the throwaway PostgreSQL")?;
            eprintln!("    {}", pg.url);
            self.postgres = Some(pg);
        }
        Ok(self.postgres.as_ref().unwrap().url.clone())
    }

    fn command(&self, dir: &str, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let dir = if dir == "." { self.root.clone() } else { self.root.join(dir) };
        cmd.current_dir(dir).stdin(Stdio::null());
        cmd
    }
}

pub fn run(args: &TestArgs) -> Result<ExitCode> {
    let selected = select(args)?;
    let mut ctx = Ctx { root: project_root(), postgres: None };
    let mut results = Vec::new();
    for tier in TIERS {
        let is_selected = selected.iter().any(|t| t.name == tier.name);
        let (result, reason, seconds) = match () {
            // The cluster tier is opt-in: say it wasn't asked for rather than hide it.
            _ if !is_selected && tier.name == "cluster" && args.tiers.is_empty() => {
                ("skipped", "not asked: pass --cluster".to_owned(), 0.0)
            }
            _ if !is_selected => continue,
            _ if process::interrupted() => ("skipped", "interrupted".to_owned(), 0.0),
            _ => {
                eprintln!("\n==> tier {}", tier.name);
                let start = Instant::now();
                let outcome = (tier.run)(&mut ctx);
                let seconds = start.elapsed().as_secs_f64();
                match outcome {
                    Ok(Outcome::Passed) => ("passed", String::new(), seconds),
                    Ok(Outcome::Skipped(reason)) => {
                        eprintln!("    skipped: {reason}");
                        if args.require_all {
                            ("failed", format!("skipped, and --require-all: {reason}"), seconds)
                        } else {
                            ("skipped", reason, seconds)
                        }
                    }
                    Err(err) => {
                        let reason = if process::interrupted() { "interrupted".to_owned() } else { format!("{err:#}") };
                        eprintln!("    failed: {reason}");
                        ("failed", reason, seconds)
                    }
                }
            }
        };
        results.push(TierResult { tier: tier.name, result, seconds, reason });
    }
    // Stop the database before the summary so its shutdown can't be mistaken for a tier's output.
    drop(ctx);

    let report = summary(&results);
    print!("{report}");
    write_report(&results)?;
    let failed = results.iter().any(|r| r.result == "failed") || process::interrupted();
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn select(args: &TestArgs) -> Result<Vec<Tier>> {
    if args.tiers.is_empty() {
        return Ok(TIERS.iter().copied().filter(|t| t.name != "cluster" || args.cluster).collect());
    }
    let mut selected = Vec::new();
    for name in &args.tiers {
        // `frontend` names both frontend tiers.
        let matching: Vec<Tier> = TIERS
            .iter()
            .copied()
            .filter(|t| t.name == name || t.name.strip_prefix(name.as_str()).is_some_and(|r| r.starts_with('-')))
            .collect();
        if matching.is_empty() {
            let names: Vec<_> = TIERS.iter().map(|t| t.name).collect();
            bail!("unknown tier `{name}`; tiers: {}, frontend", names.join(", "));
        }
        selected.extend(matching);
    }
    Ok(selected)
}

fn summary(results: &[TierResult]) -> String {
    let mut out = String::from("\n");
    let _ = writeln!(out, "{:<14} {:<8} {:>9}  reason", "tier", "result", "duration");
    for r in results {
        let duration = if r.seconds > 0.0 { format!("{:.1}s", r.seconds) } else { "-".into() };
        // One line per tier: a multi-line error keeps its first line here, the rest is above.
        let reason = r.reason.lines().next().unwrap_or("");
        let _ = writeln!(out, "{:<14} {:<8} {:>9}  {reason}", r.tier, r.result, duration);
    }
    let count = |what| results.iter().filter(|r| r.result == what).count();
    let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));
    let verdict = if failed > 0 || process::interrupted() { "FAILED" } else { "ok" };
    let _ = writeln!(out, "\ntest result: {verdict}. {passed} passed; {failed} failed; {skipped} skipped");
    out
}

fn write_report(results: &[TierResult]) -> Result<()> {
    let dir = project_root().join("target/xtask");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("test.json");
    std::fs::write(&path, serde_json::to_string_pretty(results)?).with_context(|| format!("cannot write {path}"))
}

fn missing(ctx: &Ctx, path: &str) -> Option<Outcome> {
    (!ctx.root.join(path).exists()).then(|| Outcome::Skipped(format!("{path} does not exist yet")))
}

fn rust(ctx: &mut Ctx) -> Result<Outcome> {
    process::run(&mut cargo(ctx, &["test", "--workspace"]))?;
    Ok(Outcome::Passed)
}

fn backend(ctx: &mut Ctx) -> Result<Outcome> {
    if let Some(skip) = missing(ctx, "backend/pyproject.toml") {
        return Ok(skip);
    }
    let uv = uv()?;
    let url = ctx.database_url()?;
    process::run(uv.command_in(&ctx.root.join("backend")).args(["sync", "--locked"]))?;
    process::run(uv.command_in(&ctx.root.join("backend")).args(["run", "pytest"]).env("TEST_DATABASE_URL", url))?;
    Ok(Outcome::Passed)
}

fn frontend_unit(ctx: &mut Ctx) -> Result<Outcome> {
    if let Some(skip) = missing(ctx, "frontend/package.json") {
        return Ok(skip);
    }
    npm_ci_if_stale(&ctx.root.join("frontend"))?;
    process::run(ctx.command("frontend", "npm").arg("test"))?;
    Ok(Outcome::Passed)
}

fn frontend_e2e(ctx: &mut Ctx) -> Result<Outcome> {
    if let Some(skip) = missing(ctx, "frontend/package.json") {
        return Ok(skip);
    }
    if !has_npm_script(&ctx.root.join("frontend/package.json"), "test:e2e")? {
        return Ok(Outcome::Skipped("frontend/package.json has no `test:e2e` script yet".into()));
    }
    if let Some(skip) = chromium()? {
        return Ok(skip);
    }
    npm_ci_if_stale(&ctx.root.join("frontend"))?;
    let url = ctx.database_url()?;
    process::run(
        ctx.command("frontend", "npm")
            .args(["run", "test:e2e"])
            .env("TEST_DATABASE_URL", url)
            .env("CHROMIUM_PATH", CHROMIUM),
    )?;
    Ok(Outcome::Passed)
}

fn chart(ctx: &mut Ctx) -> Result<Outcome> {
    if let Some(skip) = missing(ctx, "test/chart/run") {
        return Ok(skip);
    }
    process::run(&mut ctx.command(".", "test/chart/run"))?;
    Ok(Outcome::Passed)
}

/// The images, built by the pipeline (`cargo xtask build`), then the containers' tests, and the
/// pipeline's own tests against the engine (xtask/tests/engine.rs) and the test that every
/// `.env` reader agrees (it runs docker compose): both ignored by a plain `cargo test`.
fn images(ctx: &mut Ctx) -> Result<Outcome> {
    if let Err(reason) = docker_answers() {
        return Ok(Outcome::Skipped(reason));
    }
    if let Some(skip) = missing(ctx, "test/containers/run") {
        return Ok(skip);
    }
    process::run(&mut xtask(ctx, &["build"]))?;
    process::run(&mut ctx.command(".", "test/containers/run"))?;
    process::run(&mut cargo(ctx, &["test", "-p", "xtask", "--bin", "xtask", "--test", "engine", "--", "--ignored"]))?;
    Ok(Outcome::Passed)
}

/// The registry environment against a real OCI registry (distribution v3, built from the Go
/// module proxy into the project's cache on first use) on 127.0.0.1, with and without basic
/// auth: xtask/tests/registry.rs, ignored by a plain `cargo test`.
fn registry(ctx: &mut Ctx) -> Result<Outcome> {
    if let Err(reason) = docker_answers() {
        return Ok(Outcome::Skipped(reason));
    }
    process::run(&mut cargo(ctx, &["test", "-p", "xtask", "--test", "registry", "--", "--ignored"]))?;
    Ok(Outcome::Passed)
}

/// Chromium for the tiers that drive a browser, installed when missing and this is root;
/// otherwise the tier is skipped with the command that installs it.
fn chromium() -> Result<Option<Outcome>> {
    if Utf8Path::new(CHROMIUM).exists() {
        return Ok(None);
    }
    Ok(tools::apt_install("chromium", CHROMIUM)?.map(Outcome::Skipped))
}

/// test/cluster/run starts the cluster (test/cluster/up), deploys with `cargo xtask up --env
/// local`, checks `cargo xtask verify-budgets --env local`, then proves the deployment; its
/// browser check runs the frontend's Playwright in Chromium at the URL `up` printed.
/// On failure, the reason is the checks its report lists.
fn cluster(ctx: &mut Ctx) -> Result<Outcome> {
    if let Some(skip) = missing(ctx, "test/cluster/run") {
        return Ok(skip);
    }
    if let Some(skip) = chromium()? {
        return Ok(skip);
    }
    npm_ci_if_stale(&ctx.root.join("frontend"))?;
    let started = SystemTime::now();
    if let Err(err) = process::run(ctx.command(".", "test/cluster/run").env("CHROMIUM_PATH", CHROMIUM)) {
        // The checks that failed say more than the exit status; a report older than this run
        // (the run died before writing one) says nothing about it.
        let report = report::dir(&ctx.root).join("report-cluster.json");
        return match failed_checks(&report, started) {
            Some(failed) => {
                let checks = if failed.len() == 1 { "check" } else { "checks" };
                bail!("test/cluster/run: {} {checks} failed: {}", failed.len(), failed.join("; "))
            }
            None => Err(err),
        };
    }
    Ok(Outcome::Passed)
}

/// The `failed` list of test/cluster/run's report, each check's first line, when the report was
/// written at `since` or later and lists any.
fn failed_checks(report: &Utf8Path, since: SystemTime) -> Option<Vec<String>> {
    let fresh = std::fs::metadata(report).and_then(|m| m.modified()).is_ok_and(|written| written >= since);
    if !fresh {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).ok()?).ok()?;
    let failed: Vec<String> = json["failed"]
        .as_array()?
        .iter()
        .filter_map(|f| Some(f.as_str()?.lines().next().unwrap_or("").to_owned()))
        .collect();
    (!failed.is_empty()).then_some(failed)
}

/// `cargo ARGS` as the user's shell runs it.
fn cargo(ctx: &Ctx, args: &[&str]) -> Command {
    let mut cmd = ctx.command(".", &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args);
    cmd
}

/// Our own binary for a pipeline step, so each step is exactly the user's command.
fn xtask(ctx: &Ctx, args: &[&str]) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "cargo-xtask".into());
    let mut cmd = Command::new(exe);
    cmd.current_dir(&ctx.root).stdin(Stdio::null()).args(args);
    if process::verbose() {
        cmd.arg("--verbose");
    }
    cmd
}

fn has_npm_script(package_json: &Utf8Path, script: &str) -> Result<bool> {
    let text = std::fs::read_to_string(package_json)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{package_json} is not valid JSON"))?;
    Ok(json.get("scripts").and_then(|s| s.get(script)).is_some())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::failed_checks;
    use crate::testutil::TempDir;

    #[test]
    fn the_cluster_tier_fails_with_the_checks_its_fresh_report_lists() {
        let dir = TempDir::new();
        let report = dir.path.join("report-cluster.json");
        let minute = Duration::from_secs(60);
        assert_eq!(failed_checks(&report, SystemTime::now() - minute), None, "no report");

        dir.write(
            "report-cluster.json",
            r#"{"finished_at": "2026-11-24T21:00:00Z", "environment": "local", "passed": 19,
                "failed": ["helm test: exit 1\npod logs follow", "p95 latency: 812 ms"], "timings": {}}"#,
        );
        let before_the_run = SystemTime::now() - minute;
        assert_eq!(
            failed_checks(&report, before_the_run),
            Some(vec!["helm test: exit 1".to_owned(), "p95 latency: 812 ms".to_owned()])
        );
        // Written before this run started: another run's.
        assert_eq!(failed_checks(&report, SystemTime::now() + minute), None, "stale report");

        dir.write("report-cluster.json", r#"{"passed": 21, "failed": []}"#);
        assert_eq!(failed_checks(&report, before_the_run), None, "nothing listed");
    }
}
