//! Building images: each is planned as soon as the images it depends on are done (a dependent
//! is hashed with its dependency's final hash), and independent images build at the same time,
//! each behind its own progress bar. Docker gets exactly the hashed context; duration and size go
//! into the state and the report. A failure stops only the images that depend on the one that
//! failed.

mod schedule;

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    sync::{Arc, Mutex, RwLock},
    time::Instant,
};

use anyhow::{anyhow, bail, Context, Result};
use camino::Utf8Path;

use self::schedule::Outcome;
use crate::{
    config::{Config, Image},
    docker::{Docker, LABEL_HASH, LABEL_IMAGE},
    hash,
    plan::{select, DockerStore, ImagePlan, ImageStore, Lookup, Planner},
    process,
    progress::{self, megabytes, spinner},
    registry::{Client, RegistryStore},
    report::{self, ImageReport, Report},
    state::{self, BuildRecord, State},
    time,
};

/// Builds (or skips) the images `keys` name and what they depend on. With a registry, an image
/// it holds (with the hash label) is not built, and a built one is pushed.
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
    let store: Box<dyn ImageStore + Send + '_> = match registry {
        Some(client) => Box::new(RegistryStore { docker: DockerStore::new(docker), client, pull_bases: true }),
        None => Box::new(DockerStore::new(docker)),
    };
    match registry {
        Some(client) => progress::println(format!("images → {}, pushed to {}", docker.name, client.registry.host)),
        None => progress::println(format!("images → {}", docker.name)),
    }
    let run = Run { config, docker, registry, force, state: RwLock::new(state), store: Mutex::new(store) };
    let outcomes = schedule::run(&images, &|image, done| run.image(image, done));
    finish(&images, outcomes, report)
}

/// What the jobs share: the state (read while planning, written once per build) and the store,
/// each locked only for as long as one step needs it.
struct Run<'a> {
    config: &'a Config,
    docker: &'a Docker,
    registry: Option<&'a Client>,
    force: bool,
    state: RwLock<&'a mut State>,
    store: Mutex<Box<dyn ImageStore + Send + 'a>>,
}

type Done = (ImagePlan, ImageReport);

impl Run<'_> {
    /// Plans `image` after its dependencies (`done`), then skips or builds it (and pushes it).
    fn image(&self, image: &Image, done: &BTreeMap<String, Done>) -> Result<Done> {
        process::check_interrupted()?;
        let mut store = Shared(&self.store);
        let env = |name: &str| std::env::var(name).ok();
        let plan_with = |state: &State, store: &mut Shared, snapshot: Option<hash::Archive>| {
            let mut planner = Planner::new(state, &env);
            planner.registry = self.registry.map(|c| &c.registry);
            planner.done = done.iter().map(|(key, (plan, _))| (key.clone(), plan.clone())).collect();
            match snapshot {
                Some(archive) => planner.plan_from(image, archive.snapshot, &archive.dockerfile_text, store),
                None => planner.plan(image, store),
            }
        };
        let bar = spinner(format!("hashing {}", image.key));
        let plan = plan_with(&self.state.read().unwrap(), &mut store, None);
        bar.finish_and_clear();
        let mut plan = plan?;
        let mut entry = ImageReport {
            key: plan.key.clone(),
            reference: plan.reference.clone(),
            hash: plan.hash.clone(),
            files: plan.files,
            bytes: plan.bytes,
            hash_seconds: plan.hash_seconds,
            ..ImageReport::default()
        };
        if !plan.build && !self.force {
            progress::println(format!("  skip   {:<10} {}  ({})", plan.key, plan.reference, plan.reasons.join("; ")));
            entry.action = "skipped".into();
            entry.reasons = plan.reasons.clone();
            let record = self.state.read().unwrap().build(&plan.reference);
            entry.size_bytes =
                plan.present.as_ref().and_then(|p| p.size_bytes).or(record.as_ref().map(|b| b.size_bytes));
            entry.build_seconds = record.map(|b| b.seconds);
            entry.digest = plan.present.as_ref().and_then(|p| p.digest.clone());
            return Ok((plan, entry));
        }
        if !plan.build {
            plan.reasons = vec!["--force".into()];
        }
        // The context Docker builds from, hashed from the bytes written: the tag describes
        // what is built even if files are saved from here on (or were since `plan` hashed).
        let context_tar = report::dir(&self.config.root).join(format!("context-{}.tar", image.key));
        let sent = send_context(image, &context_tar).and_then(|archive| {
            let dockerfile_name = archive.dockerfile_name.clone();
            Ok((plan_with(&self.state.read().unwrap(), &mut store, Some(archive))?, dockerfile_name))
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
        progress::println(format!("  build  {:<10} {}  ({})", plan.key, plan.reference, plan.reasons.join("; ")));
        let built = docker_build(self.config, self.docker, image, &plan, &context_tar, &dockerfile_name);
        let _ = std::fs::remove_file(&context_tar);
        let seconds = built?;
        store.refresh();
        // A base image the build pulled now has an ID: only that is looked up again, so the
        // tag still says which files were built.
        if !plan.absent_bases().is_empty() {
            let resolved = plan.with_bases_resolved(image, &mut store)?;
            if resolved.reference != plan.reference {
                process::run(self.docker.command().args(["tag", &plan.reference, &resolved.reference]))?;
                process::read(self.docker.command().args(["image", "rm", &plan.reference]))?;
                plan = resolved;
            }
        }
        let mut info = self
            .docker
            .inspect(&plan.reference)?
            .with_context(|| format!("{} is missing right after its build", plan.reference))?;
        let size_bytes = info.size_bytes.unwrap_or(0);
        progress::println(format!("         {:<10} built in {seconds:.1}s, {}", plan.key, megabytes(size_bytes)));
        let record = BuildRecord { seconds, size_bytes, built_at: time::now_rfc3339() };
        {
            let mut state = self.state.write().unwrap();
            if let Err(err) = state::remember_build(&plan.reference, &record) {
                progress::println(format!("warning: this machine's build log was not updated: {err:#}"));
            }
            state.builds.insert(plan.reference.clone(), record);
            state.inputs.insert(plan.key.clone(), plan.inputs.clone());
            // Saved at once: an interrupted run still knows what it built.
            state.save(&self.config.root)?;
        }
        entry.action = "built".into();
        entry.reasons = plan.reasons.clone();
        entry.reference = plan.reference.clone();
        entry.hash = plan.hash.clone();
        (entry.files, entry.bytes) = (plan.files, plan.bytes);
        entry.build_seconds = Some(seconds);
        entry.size_bytes = Some(size_bytes);
        if let Some(client) = self.registry {
            let digest = client.push(self.docker, &plan.reference, &plan.hash)?;
            progress::println(format!("         {:<10} pushed, {digest}", plan.key));
            entry.pushed = Some(true);
            entry.digest = Some(digest.clone());
            info.digest = Some(digest);
        }
        plan.present = Some(info);
        Ok((plan, entry))
    }
}

/// The run's store as one job sees it: locked for each question only, so jobs hash at once.
struct Shared<'s, 'a>(&'s Mutex<Box<dyn ImageStore + Send + 'a>>);

impl ImageStore for Shared<'_, '_> {
    fn resolve(&mut self, reference: &str) -> Result<Option<String>> {
        self.0.lock().unwrap().resolve(reference)
    }

    fn inspect(&mut self, reference: &str, hash: &str) -> Result<Lookup> {
        self.0.lock().unwrap().inspect(reference, hash)
    }

    fn refresh(&mut self) {
        self.0.lock().unwrap().refresh();
    }
}

/// The report in build order, and the plans when every image is done. Otherwise the failures,
/// each naming its image, and what was not built because of them.
fn finish(
    images: &[&Image],
    mut outcomes: BTreeMap<String, Outcome<Done>>,
    report: &mut Report,
) -> Result<Vec<ImagePlan>> {
    let mut plans = Vec::new();
    let mut failures = Vec::new();
    let mut blocked = Vec::new();
    for image in images {
        let key = image.key.clone();
        let (action, reason) = match outcomes.remove(&image.key).expect("every image has an outcome") {
            Outcome::Done((plan, entry)) => {
                report.images.push(entry);
                plans.push(plan);
                continue;
            }
            Outcome::Failed(err) => {
                let first_line = err.to_string().lines().next().unwrap_or_default().to_owned();
                failures.push((key.clone(), err));
                ("failed", first_line)
            }
            Outcome::Blocked { failed } => {
                blocked.push(format!("`{key}` (it depends on `{failed}`)"));
                ("not built", format!("depends on `{failed}`, which failed"))
            }
            Outcome::Interrupted => ("not built", "interrupted".to_owned()),
        };
        report.images.push(ImageReport { key, action: action.into(), reasons: vec![reason], ..ImageReport::default() });
    }
    process::check_interrupted()?;
    if failures.len() == 1 && blocked.is_empty() {
        return Err(failures.pop().unwrap().1);
    }
    if failures.is_empty() {
        return Ok(plans);
    }
    let mut message = failures
        .iter()
        .map(|(key, err)| {
            let said = format!("{err:#}");
            if said.contains(&format!("`{key}`")) {
                said
            } else {
                format!("image `{key}`: {said}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    if !blocked.is_empty() {
        message.push_str(&format!("\n\nnot built, because an image they depend on failed: {}", blocked.join(", ")));
    }
    Err(anyhow!(message))
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

/// `docker build --file DOCKERFILE --tag TAG` with the image's target and evaluated build args:
/// what every build of `image` passes, whatever its context.
pub fn build_command(docker: &Docker, image: &Image, plan: &ImagePlan, dockerfile: &str, tag: &str) -> Command {
    let mut cmd = docker.command();
    cmd.args(["build", "--file", dockerfile, "--tag", tag]);
    if let Some(target) = &image.target {
        cmd.args(["--target", target]);
    }
    for (name, value) in &plan.build_args {
        cmd.args(["--build-arg", &format!("{name}={value}")]);
    }
    cmd
}

/// `docker build` of the context tar, output into `target/xtask/logs/build-<image>.log` behind a spinner (or straight
/// to the terminal with --verbose). Returns the build's wall time.
fn docker_build(
    config: &Config,
    docker: &Docker,
    image: &Image,
    plan: &ImagePlan,
    context_tar: &Utf8Path,
    dockerfile_name: &str,
) -> Result<f64> {
    let mut cmd = build_command(docker, image, plan, dockerfile_name, &plan.reference);
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
