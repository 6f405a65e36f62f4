//! Building images: plan image by image in dependency order, send Docker exactly the hashed
//! context, record duration and size in the state and the report.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::{bail, Context, Result};
use camino::Utf8Path;

use crate::{
    config::{Config, Image},
    docker::{Docker, LABEL_HASH, LABEL_IMAGE},
    hash,
    plan::{select, DockerStore, ImagePlan, ImageStore, Planner},
    process,
    progress::{megabytes, spinner},
    registry::{Client, RegistryStore},
    report::{self, ImageReport, Report},
    state::{self, BuildRecord, State},
    time,
};

/// Plans and builds image by image, so a dependent is hashed with its dependency's final hash.
/// With a registry, an image it holds (with the hash label) is not built, and a built one is
/// pushed.
pub fn build_images(
    config: &Config,
    docker: &Docker,
    registry: Option<&Client>,
    state: &mut State,
    keys: &[String],
    force: bool,
    report: &mut Report,
) -> Result<Vec<ImagePlan>> {
    docker.check()?;
    let images = select(config, keys)?;
    let env = |name: &str| std::env::var(name).ok();
    let (mut docker_store, mut registry_store);
    let store: &mut dyn ImageStore = match registry {
        Some(client) => {
            registry_store = RegistryStore { docker: DockerStore::new(docker), client, pull_bases: true };
            &mut registry_store
        }
        None => {
            docker_store = DockerStore::new(docker);
            &mut docker_store
        }
    };
    let mut plans = Vec::new();
    match registry {
        Some(client) => eprintln!("images → {}, pushed to {}", docker.name, client.registry.host),
        None => eprintln!("images → {}", docker.name),
    }
    for image in images {
        process::check_interrupted()?;
        let mut planner = Planner::new(state, &env);
        planner.registry = registry.map(|c| &c.registry);
        planner.done = plans.iter().map(|p: &ImagePlan| (p.key.clone(), p.clone())).collect();
        let bar = spinner(format!("hashing {}", image.key));
        let mut plan = planner.plan(image, store)?;
        bar.finish_and_clear();
        let mut entry = ImageReport {
            key: plan.key.clone(),
            reference: plan.reference.clone(),
            hash: plan.hash.clone(),
            files: plan.files,
            bytes: plan.bytes,
            hash_seconds: plan.hash_seconds,
            ..ImageReport::default()
        };
        if !plan.build && !force {
            eprintln!("  skip   {:<10} {}  ({})", plan.key, plan.reference, plan.reasons.join("; "));
            entry.action = "skipped".into();
            entry.reasons = plan.reasons.clone();
            let record = state.build(&plan.reference);
            entry.size_bytes =
                plan.present.as_ref().and_then(|p| p.size_bytes).or(record.as_ref().map(|b| b.size_bytes));
            entry.build_seconds = record.map(|b| b.seconds);
            entry.digest = plan.present.as_ref().and_then(|p| p.digest.clone());
        } else {
            if !plan.build {
                plan.reasons = vec!["--force".into()];
            }
            // The context Docker builds from, hashed from the bytes written: the tag describes
            // what is built even if files are saved from here on (or were since `plan` hashed).
            let context_tar = report::dir(&config.root).join(format!("context-{}.tar", image.key));
            let sent = send_context(image, &context_tar).and_then(|archive| {
                let mut planner = Planner::new(state, &env);
                planner.registry = registry.map(|c| &c.registry);
                planner.done = plans.iter().map(|p: &ImagePlan| (p.key.clone(), p.clone())).collect();
                Ok((
                    planner.plan_from(image, archive.snapshot, &archive.dockerfile_text, store)?,
                    archive.dockerfile_name,
                ))
            });
            let (sent, dockerfile_name) = match sent {
                Ok(sent) => sent,
                Err(err) => {
                    let _ = std::fs::remove_file(&context_tar);
                    return Err(err);
                }
            };
            if sent.hash != plan.hash {
                plan = sent;
            }
            eprintln!("  build  {:<10} {}  ({})", plan.key, plan.reference, plan.reasons.join("; "));
            let built = docker_build(config, docker, image, &plan, &context_tar, &dockerfile_name);
            let _ = std::fs::remove_file(&context_tar);
            let seconds = built?;
            store.refresh();
            // A base image the build pulled now has an ID: only that is looked up again, so the
            // tag still says which files were built.
            if !plan.absent_bases().is_empty() {
                let resolved = plan.with_bases_resolved(image, store)?;
                if resolved.reference != plan.reference {
                    process::run(docker.command().args(["tag", &plan.reference, &resolved.reference]))?;
                    process::read(docker.command().args(["image", "rm", &plan.reference]))?;
                    plan = resolved;
                }
            }
            let mut info = docker
                .inspect(&plan.reference)?
                .with_context(|| format!("{} is missing right after its build", plan.reference))?;
            let size_bytes = info.size_bytes.unwrap_or(0);
            eprintln!("         {:<10} built in {seconds:.1}s, {}", "", megabytes(size_bytes));
            let record = BuildRecord { seconds, size_bytes, built_at: time::now_rfc3339() };
            if let Err(err) = state::remember_build(&plan.reference, &record) {
                eprintln!("warning: this machine's build log was not updated: {err:#}");
            }
            state.builds.insert(plan.reference.clone(), record);
            state.inputs.insert(plan.key.clone(), plan.inputs.clone());
            // Saved at once: an interrupted run still knows what it built.
            state.save(&config.root)?;
            entry.action = "built".into();
            entry.reasons = plan.reasons.clone();
            entry.reference = plan.reference.clone();
            entry.hash = plan.hash.clone();
            (entry.files, entry.bytes) = (plan.files, plan.bytes);
            entry.build_seconds = Some(seconds);
            entry.size_bytes = Some(size_bytes);
            if let Some(client) = registry {
                let digest = client.push(docker, &plan.reference, &plan.hash)?;
                eprintln!("         {:<10} pushed, {digest}", "");
                entry.pushed = Some(true);
                entry.digest = Some(digest.clone());
                info.digest = Some(digest);
            }
            plan.present = Some(info);
        }
        report.images.push(entry);
        plans.push(plan);
    }
    Ok(plans)
}

/// Writes the build context of `image` to `path` as the tar `docker build` reads on stdin.
fn send_context(image: &Image, path: &Utf8Path) -> Result<hash::Archive> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    }
    let file = File::create(path).with_context(|| format!("cannot create {path}"))?;
    hash::archive(&image.context, &image.dockerfile, std::io::BufWriter::new(file))
        .with_context(|| format!("cannot write the build context of image `{}`", image.key))
}

/// `docker build` of the context tar, output into `target/xtask/logs/<image>.log` behind a spinner (or straight
/// to the terminal with --verbose). Returns the build's wall time.
fn docker_build(
    config: &Config,
    docker: &Docker,
    image: &Image,
    plan: &ImagePlan,
    context_tar: &Utf8Path,
    dockerfile_name: &str,
) -> Result<f64> {
    let mut cmd = docker.command();
    cmd.args(["build", "--file", dockerfile_name, "--tag", &plan.reference]);
    if let Some(target) = &image.target {
        cmd.args(["--target", target]);
    }
    for (name, value) in &plan.build_args {
        cmd.args(["--build-arg", &format!("{name}={value}")]);
    }
    cmd.args(["--label", &format!("{LABEL_IMAGE}={}", image.key)])
        .args(["--label", &format!("{LABEL_HASH}={}", plan.hash)])
        .arg("-")
        .stdin(File::open(context_tar).with_context(|| format!("cannot read {context_tar}"))?);
    let start = Instant::now();
    if process::verbose() {
        process::run(&mut cmd)?;
        return Ok(start.elapsed().as_secs_f64());
    }
    let log_dir = report::dir(&config.root).join("logs");
    std::fs::create_dir_all(&log_dir)?;
    let log_path = log_dir.join(format!("build-{}.log", image.key));
    let log = Arc::new(Mutex::new(File::create(&log_path).with_context(|| format!("cannot create {log_path}"))?));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let bar = spinner(format!("building {}", image.key));
    let mut child = process::spawn_group(&mut cmd)?;
    let pipes: Vec<Box<dyn Read + Send>> =
        vec![Box::new(child.child.stdout.take().unwrap()), Box::new(child.child.stderr.take().unwrap())];
    let readers: Vec<_> = pipes
        .into_iter()
        .map(|pipe| {
            let (log, bar) = (Arc::clone(&log), bar.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = writeln!(log.lock().unwrap(), "{line}");
                    bar.set_message(line.chars().take(100).collect::<String>());
                }
            })
        })
        .collect();
    let status = child.wait()?;
    for reader in readers {
        let _ = reader.join();
    }
    bar.finish_and_clear();
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        process::check_interrupted()?;
        bail!("building image `{}` failed ({status}); the end of its log:\n{tail}\n\nfull log: {log_path}", image.key);
    }
    Ok(start.elapsed().as_secs_f64())
}
