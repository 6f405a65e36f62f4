//! `cargo xtask plan`: what `up` would do and why, without doing it. With `--timings`, a
//! diagnosis of hashing: files, bytes, time and throughput per image.

use std::{process::ExitCode, time::Instant};

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    cluster::Cluster,
    config::{self, Config, Environment},
    flags::PlanArgs,
    plan::{plan_images, select, ImagePlan},
    progress::megabytes,
    registry::Client,
    release,
    report::{ImageReport, Report},
    state::State,
    tools,
};

pub fn run(config_path: &Utf8Path, args: &PlanArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.env.name.as_deref())?;
    let mut report = Report::new("plan", Some(&env.name));
    let start = Instant::now();
    let result = State::load(&config.root).and_then(|state| plan(&config, env, &state, args, &mut report));
    report.finish(&config.root, start, &result);
    result.map(|_| ExitCode::SUCCESS)
}

fn plan(config: &Config, env: &Environment, state: &State, args: &PlanArgs, report: &mut Report) -> Result<()> {
    let registry = env.registry.as_ref().map(Client::new).transpose()?;
    let (plans, engine) = plan_images(&select(config, &args.images)?, env, state, registry.as_ref())?;
    let cluster = Cluster::new(config, env);
    let missing = missing_tools(&cluster)?;
    match &engine {
        Ok(docker) => println!("plan for environment `{}` (images in {})\n", env.name, docker.name),
        Err(_) if !missing.is_empty() => {
            println!("plan for environment `{}` (no Docker engine to ask: see what `up` needs below)\n", env.name)
        }
        Err(err) => println!("plan for environment `{}` (no Docker engine to ask: {})\n", env.name, first_line(err)),
    }
    for p in &plans {
        let action = match (&engine, p.build) {
            (Err(_), _) => "build?",
            (Ok(_), true) => "build ",
            (Ok(_), false) => "skip  ",
        };
        println!("  {action} {:<10} {}", p.key, p.reference);
        // The planner's reasons are about what the engine holds, unknown here.
        let unknown = ["built unless the engine has it; the tag counts its base images as absent there".to_owned()];
        for reason in if engine.is_ok() { &p.reasons[..] } else { &unknown[..] } {
            println!("         {reason}");
        }
        report.images.push(image_report(p));
    }
    if args.timings {
        print_timings(&config.root, &plans);
    }
    println!();
    if missing.is_empty() {
        println!("  release {}", release_change(config, &cluster, &plans));
    } else {
        println!(
            "  release {} (namespace {}): unknown until `up` has what it needs",
            config.release.name, config.release.namespace
        );
        println!("\n  `up --env {}` would need:", env.name);
        for (tool, hint) in &missing {
            println!("    {tool:<9} not found: {hint}");
        }
    }
    Ok(())
}

/// The tools `up` runs for this environment that are not installed, each with how to get it.
fn missing_tools(cluster: &Cluster<'_>) -> Result<Vec<(String, String)>> {
    Ok(cluster
        .required_tools()?
        .into_iter()
        .filter(|tool| tools::require(tool).is_err())
        .map(|tool| (tool.to_owned(), tools::install_hint(tool).to_owned()))
        .collect())
}

fn image_report(p: &ImagePlan) -> ImageReport {
    ImageReport {
        key: p.key.clone(),
        reference: p.reference.clone(),
        hash: p.hash.clone(),
        action: if p.build { "would build" } else { "would skip" }.into(),
        reasons: p.reasons.clone(),
        files: p.files,
        bytes: p.bytes,
        hash_seconds: p.hash_seconds,
        build_seconds: None,
        size_bytes: p.present.as_ref().and_then(|i| i.size_bytes),
        loaded: None,
        pushed: None,
        digest: p.present.as_ref().and_then(|i| i.digest.clone()),
    }
}

fn print_timings(root: &camino::Utf8Path, plans: &[ImagePlan]) {
    println!("\n  {:<10} {:>7} {:>10} {:>9} {:>10}  ignore file", "image", "files", "bytes", "hashing", "MB/s");
    for p in plans {
        let rate = if p.hash_seconds > 0.0 { p.bytes as f64 / 1e6 / p.hash_seconds } else { 0.0 };
        println!(
            "  {:<10} {:>7} {:>10} {:>8.3}s {:>10.0}  {}",
            p.key,
            p.files,
            megabytes(p.bytes),
            p.hash_seconds,
            rate,
            p.ignore_file.as_deref().map_or("(none)", |f| f.strip_prefix(&format!("{root}/")).unwrap_or(f))
        );
    }
}

/// The release change in brief: install, upgrade with the image tags that change, or nothing.
/// Read-only: `helm get values`.
fn release_change(config: &Config, cluster: &Cluster<'_>, plans: &[ImagePlan]) -> String {
    let release = &config.release;
    let name = format!("{} (namespace {})", release.name, release.namespace);
    if let Err(err) = cluster.reachable() {
        return format!("{name}: unknown; {}; `up` would stop at preflight", first_line(&err));
    }
    let status = match cluster.release_status() {
        Ok(status) => status,
        Err(err) => return format!("{name}: unknown; {}", first_line(&err)),
    };
    let Some((revision, status)) = status else { return format!("{name}: install (not installed yet)") };
    let deployed = match release::deployed_values(cluster) {
        Ok(values) => values,
        Err(err) => {
            return format!("{name}: revision {revision} ({status}); cannot read its values: {}", first_line(&err))
        }
    };
    let mut changes = Vec::new();
    for p in plans {
        if let Some(prefix) = release.images.get(&p.key) {
            let path = format!("{prefix}.tag");
            let now = release::lookup(&deployed, &path).and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            if now != p.tag {
                changes.push(format!("{path} {} → {}", if now.is_empty() { "(unset)" } else { &now }, p.tag));
            }
        }
    }
    if changes.is_empty() {
        format!("{name}: revision {revision} ({status}); image tags unchanged (`up` skips helm if chart and values are unchanged too)")
    } else {
        format!("{name}: upgrade from revision {revision} ({status}): {}", changes.join(", "))
    }
}

fn first_line(err: &anyhow::Error) -> String {
    format!("{err:#}").lines().next().unwrap_or("").to_owned()
}
