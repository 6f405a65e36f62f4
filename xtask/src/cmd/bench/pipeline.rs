//! The pipeline's figures: `plan` and no-op `build`/`up` wall time (our own binary, as the user
//! types it), the rebuild after one backend file changes, each beside what a user would run
//! instead (`docker build` of every context, with Docker's layer cache), hashing throughput of
//! the project's contexts against `sha256sum` over the very same files; and the image and
//! deployment figures `build` and `up` recorded, and the cluster tier's (report-cluster.json).

use std::{
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

use super::{median, Ctx, Results};
use crate::{
    builder, config,
    docker::Docker,
    hash,
    plan::{self, DockerStore, Planner},
    process,
    report::{self, ImageReport, Report},
    state::{self, State},
    time,
    tools::docker_answers,
};

/// A file the rebuild measurement adds to the backend's context, removed when it ends.
const TOUCHED: &str = "backend/src/_bench_touch.py";

pub fn measure(ctx: &Ctx, results: &mut Results) -> Result<()> {
    let env = environment(ctx)?;
    results.facts.insert("pipeline.environment".into(), env.clone());

    let mut plan = Vec::new();
    for _ in 0..ctx.budget.samples {
        plan.push(timed(&mut xtask(ctx, &["plan", "--env", &env]))?);
    }
    let plan = median(&mut plan);
    results.set("pipeline.plan_s", plan);
    eprintln!("    plan --env {env}: {plan:.2} s");

    // Images of the current sources first (a build, as a user would run it, recorded like any
    // other), then the no-op.
    let (build, _) = settled(ctx, "build", &env)?;
    results.set("pipeline.noop_build_s", build);
    eprintln!("    no-op build: {build:.2} s");
    // The same contexts through `docker build`: the first run may build (a directory context
    // is not the tar we send, so Docker's cache may not match it yet); the ones after are
    // Docker's own no-op.
    docker_build_all(ctx, &env)?;
    let mut docker = Vec::new();
    for _ in 0..ctx.budget.samples {
        docker.push(docker_build_all(ctx, &env)?);
    }
    let docker = median(&mut docker);
    results.set("pipeline.docker_noop_build_s", docker);
    eprintln!("    the same contexts through `docker build`, nothing changed: {docker:.2} s");

    match State::load(&ctx.root)?.deploys.get(&env) {
        // A cluster that can't be reached says nothing about the rebuild: go on without it.
        Some(_) => match settled(ctx, "up", &env) {
            Ok((seconds, what)) => {
                results.set("pipeline.noop_up_s", seconds);
                results.facts.insert("pipeline.noop_up".into(), what);
                eprintln!("    no-op up --env {env}: {seconds:.2} s");
            }
            Err(err) => {
                eprintln!("    no-op up not measured: {err:#}");
                results.unmeasured.insert("pipeline.noop_up_s".into(), format!("{err:#}"));
            }
        },
        None => {
            let why = format!("nothing deployed to `{env}` yet: run `cargo xtask up --env {env}` first");
            results.unmeasured.insert("pipeline.noop_up_s".into(), why);
        }
    }
    rebuild_one_file(ctx, &env, results)
}

/// Wall seconds of a `build` or `up` that found nothing to do, and what it skipped, from its
/// report. A run that had work (images of sources someone just edited, a chart edit, another
/// `helm upgrade` on the release, a pod not Ready) is repeated: the next one is the no-op.
fn settled(ctx: &Ctx, command: &str, env: &str) -> Result<(f64, String)> {
    for _ in 0..3 {
        let seconds = timed(&mut xtask(ctx, &[command, "--env", env]))?;
        let report = Report::load(&ctx.root, command)?.with_context(|| format!("{command} wrote no report"))?;
        let worked: Vec<String> = report
            .images
            .iter()
            .filter(|i| i.action == "built" || i.loaded == Some(true))
            .map(|i| format!("{} {}", i.key, if i.action == "built" { "built" } else { "loaded" }))
            .chain(report.release.iter().filter(|r| r.action != "unchanged").map(|r| format!("release {}", r.action)))
            .collect();
        if worked.is_empty() {
            let skipped = match &report.release {
                Some(release) => {
                    let revision = release.revision.map_or(String::new(), |r| format!(" at revision {r}"));
                    format!("nothing built or loaded, helm skipped: release unchanged{revision}")
                }
                None => "nothing built".to_owned(),
            };
            return Ok((seconds, skipped));
        }
        eprintln!("    {command} --env {env} had work ({}, {seconds:.1} s): once more", worked.join(", "));
    }
    bail!("three `{command} --env {env}` in a row all had work: the sources or the release keep changing")
}

/// Our snapshot (walk, .dockerignore, sha256 of every file) against `sha256sum` over the same
/// files. The contexts are small, so one pass takes milliseconds and a single sample is mostly
/// noise: rounds alternate ours and sha256sum (so both see the same load), and each side's
/// fastest round counts.
pub fn hashing(ctx: &Ctx, results: &mut Results) -> Result<()> {
    let config = config::load(&ctx.config_path)?;
    let rounds = ctx.budget.hash_rounds;
    let (mut ours, mut theirs) = (f64::INFINITY, f64::INFINITY);
    let (mut bytes, mut files) = (0u64, 0usize);
    for _ in 0..rounds {
        process::check_interrupted()?;
        let (mut round_ours, mut round_theirs) = (0.0, 0.0);
        (bytes, files) = (0, 0);
        for image in &config.images {
            let snapshot = hash::snapshot(&image.context, &image.dockerfile)?;
            round_ours += snapshot.elapsed.as_secs_f64();
            bytes += snapshot.bytes;
            files += snapshot.files;
            let paths: Vec<&String> =
                snapshot.entries.iter().filter(|(_, e)| e.kind == hash::Kind::File).map(|(p, _)| p).collect();
            round_theirs += sha256sum(&image.context, &paths)?;
        }
        ours = ours.min(round_ours);
        theirs = theirs.min(round_theirs);
    }
    let mb = bytes as f64 / 1e6;
    eprintln!(
        "    hashing {files} files, {mb:.2} MB, best of {rounds} rounds: ours {:.1} ms, sha256sum {:.1} ms ({:.0} %)",
        ours * 1e3,
        theirs * 1e3,
        theirs / ours * 100.0
    );
    results.set("hashing.files", files as f64);
    results.set("hashing.mb", mb);
    results.set("hashing.mb_s", mb / ours);
    results.set("hashing.sha256sum_mb_s", mb / theirs);
    results
        .facts
        .insert("hashing.project".into(), format!("{mb:.2} MB in {files} files, best of {rounds} alternating rounds"));
    Ok(())
}

/// Seconds `sha256sum` takes over these files (relative to `dir`), in as few processes as the
/// argument limit allows.
pub fn sha256sum(dir: &Utf8Path, paths: &[&String]) -> Result<f64> {
    let start = Instant::now();
    for chunk in paths.chunks(2000) {
        let mut cmd = Command::new("sha256sum");
        cmd.arg("--").args(chunk.iter().map(|p| p.as_str())).current_dir(dir).stdin(Stdio::null());
        process::echo(&cmd);
        let out = cmd.stdout(Stdio::null()).status().context("cannot run sha256sum")?;
        if !out.success() {
            bail!("sha256sum failed in {dir}");
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The environment to measure: the one deployed to last, else `local` (the local Docker engine),
/// else infra.toml's default.
fn environment(ctx: &Ctx) -> Result<String> {
    let config = config::load(&ctx.config_path)?;
    let state = State::load(&ctx.root)?;
    if let Some((env, _)) = state.deploys.iter().max_by(|a, b| a.1.deployed_at.cmp(&b.1.deployed_at)) {
        return Ok(env.clone());
    }
    docker_answers().map_err(anyhow::Error::msg)?;
    Ok(if config.environments.contains_key("local") { "local".into() } else { config.default_environment })
}

/// Adds one file to the backend's context, builds everything, and checks only the backend
/// rebuilt; then changes that file again and runs `docker build` of every context; then removes
/// the file and the images built from it.
fn rebuild_one_file(ctx: &Ctx, env: &str, results: &mut Results) -> Result<()> {
    let touched = Touched::create(&ctx.root.join(TOUCHED))?;
    let seconds = timed(&mut xtask(ctx, &["build", "--env", env]))?;
    // A change of its own through `docker build`, whose layer cache holds the unchanged
    // contexts (and, from our build, the one just built: the same bytes again would hit it).
    touched.write(&format!("# `docker build` after a one-file change ({}); removed after.\n", time::now_rfc3339()))?;
    let docker = docker_build_all(ctx, env)?;
    drop(touched);
    results.set("pipeline.docker_rebuild_one_file_s", docker);
    eprintln!("    the same change through `docker build` of every context: {docker:.1} s");
    let report = Report::load(&ctx.root, "build")?.context("build wrote no report")?;
    let (rebuilt, skipped): (Vec<_>, Vec<_>) = report.images.iter().partition(|i| i.action == "built");
    let names = |images: &[&ImageReport]| images.iter().map(|i| i.key.as_str()).collect::<Vec<_>>().join(", ");
    let what = format!("rebuilt: {}; skipped: {}", names(&rebuilt), names(&skipped));
    results.set("pipeline.rebuild_one_file_s", seconds);
    eprintln!("    rebuild after one backend file changed: {seconds:.1} s, {what}");
    results.facts.insert("pipeline.rebuilt".into(), what);
    // The image of a file that no longer exists is garbage, and so is its build record (the
    // image figures below must not show this build); the previous tag is current again.
    let mut state = State::load(&ctx.root)?;
    for image in &rebuilt {
        let mut rmi = Command::new("docker");
        rmi.args(["rmi", &image.reference]).stdin(Stdio::null());
        let _ = process::read(&mut rmi);
        state.builds.remove(&image.reference);
        state::forget_build(&image.reference)?;
    }
    state.save(&ctx.root)
}

/// Wall seconds of `docker build` of every image's context, one after the other, as a user
/// without us would type it (the directory, its Dockerfile, target and build args) into the same
/// engine. Tagged `<name>:bench-docker`; the tags are removed after each run, and with them
/// the images no other tag holds.
fn docker_build_all(ctx: &Ctx, env: &str) -> Result<f64> {
    let config = config::load(&ctx.config_path)?;
    let environment = config.environments.get(env).with_context(|| format!("no environment `{env}`"))?;
    let docker = Docker::for_environment(environment)?;
    let state = State::load(&ctx.root)?;
    let lookup = |name: &str| std::env::var(name).ok();
    let mut store = DockerStore::new(&docker);
    let mut planner = Planner::new(&state, &lookup);
    let mut commands = Vec::new();
    for image in plan::select(&config, &[])? {
        // Only for the evaluated build args (and `{images.KEY}` of a dependency).
        let planned = planner.plan(image, &mut store)?;
        planner.done.insert(image.key.clone(), planned.clone());
        let tag = format!("{}:bench-docker", image.name);
        let mut cmd = builder::build_command(&docker, image, &planned, image.dockerfile.as_str(), &tag);
        cmd.arg("--quiet").arg(image.context.as_str()).stdin(Stdio::null());
        commands.push((cmd, tag));
    }
    let start = Instant::now();
    for (cmd, _) in &mut commands {
        process::read(cmd)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    for (_, tag) in &commands {
        let _ = process::read(docker.command().args(["image", "rm", tag]));
    }
    Ok(seconds)
}

struct Touched(Utf8PathBuf);

impl Touched {
    fn create(path: &Utf8Path) -> Result<Touched> {
        let touched = Touched(path.to_owned());
        // Bytes of this run only: Docker's layer cache keeps what earlier runs built.
        touched.write(&format!("# A one-file rebuild ({}); removed after.\n", time::now_rfc3339()))?;
        Ok(touched)
    }

    fn write(&self, text: &str) -> Result<()> {
        std::fs::write(&self.0, text).with_context(|| format!("cannot write {}", self.0))
    }
}

impl Drop for Touched {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn xtask(ctx: &Ctx, args: &[&str]) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "cargo-xtask".into());
    let mut cmd = Command::new(exe);
    cmd.args(args).arg("--config").arg(&ctx.config_path).current_dir(&ctx.root).stdin(Stdio::null());
    cmd
}

/// Wall seconds of a command that must succeed; its output is kept for the error message.
fn timed(cmd: &mut Command) -> Result<f64> {
    let start = Instant::now();
    process::read(cmd)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Image sizes and build times, and the last deployment, from what `build` and `up` recorded.
pub fn deployment(root: &Utf8Path, config_path: &Utf8Path, results: &mut Results) {
    let (config, state) = match (config::load(config_path), State::load(root)) {
        (Ok(config), Ok(state)) => (config, state),
        (Err(err), _) | (_, Err(err)) => {
            for key in ["image.backend", "image.frontend", "deploy"] {
                results.unmeasured.insert(key.into(), format!("{err:#}"));
            }
            return;
        }
    };
    for image in &config.images {
        let prefix = format!("{}:", image.name);
        let last = state
            .builds
            .iter()
            .filter(|(reference, _)| reference.starts_with(&prefix))
            .max_by(|a, b| a.1.built_at.cmp(&b.1.built_at));
        match last {
            Some((reference, build)) => {
                results.set(&format!("image.{}.size_mb", image.key), build.size_bytes as f64 / 1e6);
                results.set(&format!("image.{}.build_s", image.key), build.seconds);
                results.facts.insert(format!("image.{}", image.key), format!("{reference}, built {}", build.built_at));
            }
            None => {
                results.unmeasured.insert(
                    format!("image.{}", image.key),
                    "no build recorded in target/xtask/state.json: run `cargo xtask build`".into(),
                );
            }
        }
    }
    match state.deploys.iter().max_by(|a, b| a.1.deployed_at.cmp(&b.1.deployed_at)) {
        Some((env, deploy)) => {
            results.set("deploy.seconds", deploy.deploy_seconds);
            results.set("deploy.revision", deploy.revision as f64);
            results.facts.insert(
                "deploy".into(),
                format!("environment `{env}`, revision {}, {}", deploy.revision, deploy.deployed_at),
            );
        }
        None => {
            results.unmeasured.insert(
                "deploy".into(),
                "no deployment recorded in target/xtask/state.json: run `cargo xtask up`".into(),
            );
        }
    }
}

/// What the cluster tier measured on its last run (the zero-downtime `helm upgrade` under load,
/// requests failed meanwhile, …): test/cluster/run writes `report-cluster.json` next to our
/// reports, `{"finished_at", "environment", "timings": {what: seconds or count}}`.
pub fn cluster_tier(root: &Utf8Path, results: &mut Results) {
    let path = report::dir(root).join("report-cluster.json");
    let parsed = match std::fs::read_to_string(&path) {
        Ok(text) => cluster_figures(&text).with_context(|| format!("{path} is not the cluster tier's report")),
        Err(_) => Err(anyhow::anyhow!("no {path}: the cluster tier writes it (`cargo xtask test --tier cluster`)")),
    };
    match parsed {
        Ok((run, figures)) => {
            results.facts.insert("cluster".into(), run);
            results.cluster = figures;
        }
        Err(err) => {
            results.unmeasured.insert("cluster".into(), format!("{err:#}"));
        }
    }
}

/// The run (environment, when) and each figure as the tier prints it: a float is seconds, an
/// integer a count.
fn cluster_figures(text: &str) -> Result<(String, Vec<(String, String)>)> {
    let report: serde_json::Value = serde_json::from_str(text)?;
    let field = |name: &str| report[name].as_str().unwrap_or("?").to_owned();
    let run = format!("environment `{}`, finished {}", field("environment"), field("finished_at"));
    let timings = report["timings"].as_object().context("no `timings` object")?;
    let shown = |v: &serde_json::Value| match (v.as_u64(), v.as_f64()) {
        (Some(count), _) => Some(count.to_string()),
        (None, Some(seconds)) => Some(format!("{seconds:.0} s")),
        _ => None,
    };
    Ok((run, timings.iter().filter_map(|(what, v)| Some((what.clone(), shown(v)?))).collect()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_figures_keep_seconds_and_counts_apart() {
        let text = r#"{"finished_at": "2026-11-24T20:30:00Z", "environment": "local",
            "timings": {"helm upgrade (3 backend replicas, new tag)": 44.4, "failed requests during the upgrade": 0}}"#;
        let (run, figures) = super::cluster_figures(text).unwrap();
        assert_eq!(run, "environment `local`, finished 2026-11-24T20:30:00Z");
        assert_eq!(
            figures,
            [
                ("failed requests during the upgrade".to_owned(), "0".to_owned()),
                ("helm upgrade (3 backend replicas, new tag)".to_owned(), "44 s".to_owned()),
            ]
        );
        assert!(super::cluster_figures("{}").is_err());
    }
}
