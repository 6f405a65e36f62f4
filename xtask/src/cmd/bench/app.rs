//! The app's figures: the tasks API under wrk against the ceiling, chat turns, cold starts.
//!
//! The stack is real: a throwaway PostgreSQL migrated by Alembic, an identity provider serving
//! a JWKS and minting Ed25519 JWTs (bench/identity.py), 10,000 seeded tasks (bench/seed.py),
//! the backend under uvicorn exactly as its image runs it.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

use super::{median, Ctx, LoadPoint, Results};
use crate::{
    config, http,
    postgres::Postgres,
    process::{self, free_port, GroupChild},
    state::State,
    tools::{self, docker_answers, npm_ci_if_stale, uv},
};

pub const USERS: usize = 100;
pub const TASKS: usize = 10_000;
pub const CLIENTS: [u32; 3] = [10, 50, 100];
pub const WORKERS: [u32; 2] = [1, 2];
/// Reads first, then writes; `create` last, since it grows the lists the others read.
pub const OPS: [&str; 4] = ["list", "update", "complete", "create"];
pub const CHAT_CONVERSATIONS: usize = 10;

pub struct Stack {
    pub python: Utf8PathBuf,
    root: Utf8PathBuf,
    work: Utf8PathBuf,
    users_json: Utf8PathBuf,
    users_lua: Utf8PathBuf,
    jwks_base_url: String,
    // Dropped in this order: the identity provider, then the database.
    _idp: GroupChild,
    pg: Postgres,
}

impl Stack {
    pub fn start(root: &Utf8Path, work: &Utf8Path) -> Result<Stack> {
        let backend = root.join("backend");
        eprintln!("    backend environment: uv sync --locked");
        process::read(uv()?.command_in(&backend).args(["sync", "--locked"]))?;
        let python = backend.join(".venv/bin/python");
        if !python.exists() {
            bail!("{python} does not exist after `uv sync`: is UV_PROJECT_ENVIRONMENT set elsewhere?");
        }
        eprintln!("    starting a throwaway PostgreSQL 15 cluster");
        let pg = Postgres::start()?;
        let mut migrate = self::python(&python);
        migrate
            .args(["-m", "alembic", "upgrade", "head"])
            .current_dir(&backend)
            .env("DATABASE_URL", &pg.url)
            .stdin(Stdio::null());
        process::read(&mut migrate).context("migrating the benchmark database")?;

        let users_json = work.join("users.json");
        let mut idp = self::python(&python);
        idp.arg(root.join("bench/identity.py"))
            .args(["--users", &USERS.to_string(), "--out", users_json.as_str()])
            .current_dir(root)
            .env("PYTHONPATH", &backend)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut idp = process::spawn_group(&mut idp)?;
        let mut line = String::new();
        BufReader::new(idp.child.stdout.take().unwrap()).read_line(&mut line)?;
        let Some(jwks_base_url) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
            bail!("bench/identity.py did not start (it printed {line:?}); run it by hand to see why");
        };
        eprintln!("    identity provider (JWKS, {USERS} users with Ed25519 JWTs) at {jwks_base_url}");
        Ok(Stack {
            python,
            root: root.to_owned(),
            work: work.to_owned(),
            users_lua: work.join("users.lua"),
            users_json,
            jwks_base_url,
            _idp: idp,
            pg,
        })
    }

    /// The backend's Python with its bytecode cached, as in the image (UV_COMPILE_BYTECODE=1):
    /// without it every start compiles every imported module again. The cache lives in the
    /// home folder, not in the tree.
    fn python(&self) -> Command {
        python(&self.python)
    }

    /// Replaces every task with the same 10,000 (so each server starts from the same data).
    pub fn seed(&self) -> Result<()> {
        let mut seed = self.python();
        seed.arg(self.root.join("bench/seed.py"))
            .args(["--database-url", &self.pg.url, "--users", self.users_json.as_str()])
            .args(["--tasks", &TASKS.to_string(), "--lua-out", self.users_lua.as_str()])
            .stdin(Stdio::null());
        let out = process::read(&mut seed)?;
        eprintln!("    {}", out.trim());
        Ok(())
    }

    /// uvicorn serving the backend (or the ceiling) as the image does, logs in the work dir.
    fn server(&self, app: App, workers: u32, purpose: &str) -> Result<Server> {
        let port = free_port()?;
        let log = self.work.join(format!("{purpose}-{}-{workers}w.log", app.name()));
        let mut cmd = self.python();
        cmd.args(["-m", "uvicorn", app.target()])
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--workers", &workers.to_string()])
            .current_dir(self.root.join("backend"))
            .env("DATABASE_URL", &self.pg.url)
            .env("BETTER_AUTH_URL", &self.jwks_base_url)
            .env("ENVIRONMENT", "production")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null());
        if app == App::Ceiling {
            cmd.args(["--app-dir", self.root.join("bench").as_str()]);
        }
        let file = std::fs::File::create(&log).with_context(|| format!("cannot create {log}"))?;
        cmd.stdout(file.try_clone()?).stderr(file);
        let started = Instant::now();
        let mut child = process::spawn_group(&mut cmd)?;
        wait_ready(port, "/ready", &mut child, &log)?;
        let ready_after = started.elapsed();
        let pgid = child.child.id() as i32;
        let cpu_at_ready = group_cpu_seconds(pgid);
        Ok(Server { _child: child, pgid, port, ready_after, cpu_at_ready, name: app.name() })
    }

    fn wrk(&self, server: &Server, op: &str, clients: u32, seconds: u32) -> Result<Wrk> {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t1", &format!("-c{clients}"), &format!("-d{seconds}s"), "--timeout", "10s"])
            .arg("-s")
            .arg(self.root.join("bench/load.lua"))
            .arg(format!("http://127.0.0.1:{}", server.port))
            .env("BENCH_USERS", &self.users_lua)
            .env("BENCH_OP", op)
            .stdin(Stdio::null());
        let out = process::read(&mut cmd)?;
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("BENCH "))
            .with_context(|| format!("wrk printed no BENCH line:\n{out}"))?;
        serde_json::from_str(line).with_context(|| format!("cannot parse wrk's summary {line}"))
    }
}

fn python(python: &Utf8Path) -> Command {
    let mut cmd = Command::new(python);
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    cmd.env_remove("PYTHONDONTWRITEBYTECODE")
        .env("PYTHONPYCACHEPREFIX", format!("{home}/.cache/todo-chatbot/bench-pycache"));
    cmd
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum App {
    Backend,
    Ceiling,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::Backend => "backend",
            App::Ceiling => "ceiling",
        }
    }

    fn target(self) -> &'static str {
        match self {
            App::Backend => "src.main:app",
            App::Ceiling => "ceiling:app",
        }
    }
}

struct Server {
    _child: GroupChild,
    /// Its process group: the uvicorn supervisor and its workers.
    pgid: i32,
    port: u16,
    ready_after: Duration,
    /// CPU seconds its processes had used when it first answered ready.
    cpu_at_ready: f64,
    name: &'static str,
}

#[derive(serde::Deserialize)]
struct Wrk {
    requests: u64,
    duration_us: u64,
    p50_us: u64,
    p95_us: u64,
    p99_us: u64,
    non_2xx: u64,
    socket_errors: u64,
}

/// Every endpoint at every concurrency, backend and ceiling alternating point by point (so
/// drift in the machine's load hits both alike), with 1 and then 2 workers.
pub fn api(ctx: &mut Ctx, results: &mut Results) -> Result<()> {
    ensure_wrk()?;
    let seconds = ctx.budget.load_seconds;
    let stack = ctx.stack()?;
    for workers in WORKERS {
        stack.seed()?;
        let servers = [stack.server(App::Backend, workers, "api")?, stack.server(App::Ceiling, workers, "api")?];
        for op in OPS {
            for server in &servers {
                // Warm-up: imports, pool connections, statement caches. Not recorded.
                stack.wrk(server, op, CLIENTS[0], 1)?;
            }
            for clients in CLIENTS {
                for server in &servers {
                    process::check_interrupted()?;
                    let cpu_before = group_cpu_seconds(server.pgid);
                    let w = stack.wrk(server, op, clients, seconds)?;
                    let cpu = group_cpu_seconds(server.pgid) - cpu_before;
                    let point = LoadPoint {
                        server: server.name,
                        workers,
                        op,
                        clients,
                        requests: w.requests,
                        rps: w.requests as f64 / (w.duration_us as f64 / 1e6),
                        p50_ms: w.p50_us as f64 / 1000.0,
                        p95_ms: w.p95_us as f64 / 1000.0,
                        p99_ms: w.p99_us as f64 / 1000.0,
                        errors: w.non_2xx + w.socket_errors,
                        cpu_ms_per_request: cpu * 1000.0 / w.requests.max(1) as f64,
                    };
                    eprintln!(
                        "    {:<8} {workers}w {op:<8} c={clients:<3} {:>7.0} req/s  p50 {:>6.1}  p95 {:>6.1}  p99 {:>6.1} ms  {:>5.2} CPU ms/req{}",
                        server.name,
                        point.rps,
                        point.p50_ms,
                        point.p95_ms,
                        point.p99_ms,
                        point.cpu_ms_per_request,
                        if point.errors > 0 { format!("  {} errors", point.errors) } else { String::new() }
                    );
                    if point.errors * 100 > point.requests.max(1) {
                        bail!(
                            "{} answered {} of {} `{op}` requests with errors; see {}",
                            server.name,
                            point.errors,
                            point.requests,
                            stack.work.join(format!("api-{}-{workers}w.log", server.name))
                        );
                    }
                    results.load.push(point);
                }
            }
        }
    }
    Ok(())
}

/// Chat turns with the offline assistant: 10 conversations at once against one worker.
pub fn chat(ctx: &mut Ctx, results: &mut Results) -> Result<()> {
    let turns = ctx.budget.chat_turns;
    let stack = ctx.stack()?;
    stack.seed()?;
    let server = stack.server(App::Backend, 1, "chat")?;
    let mut cmd = stack.python();
    cmd.arg(stack.root.join("bench/chat.py"))
        .args(["--url", &format!("http://127.0.0.1:{}", server.port)])
        .args(["--users", stack.users_json.as_str()])
        .args(["--conversations", &CHAT_CONVERSATIONS.to_string(), "--turns", &turns.to_string()])
        .stdin(Stdio::null());
    let out = process::read(&mut cmd)?;
    let line = out.lines().find_map(|l| l.strip_prefix("BENCH ")).context("bench/chat.py printed no BENCH line")?;
    let summary: serde_json::Value = serde_json::from_str(line)?;
    for key in ["p50_ms", "p95_ms", "mean_ms", "turns_per_second"] {
        let value = summary[key].as_f64().with_context(|| format!("no {key} in {line}"))?;
        results.set(&format!("chat.{key}"), value);
    }
    eprintln!(
        "    {} turns: p50 {:.1} ms, p95 {:.1} ms, {:.1} turns/s",
        summary["turns"],
        summary["p50_ms"].as_f64().unwrap_or(0.0),
        summary["p95_ms"].as_f64().unwrap_or(0.0),
        summary["turns_per_second"].as_f64().unwrap_or(0.0)
    );
    Ok(())
}

/// Process start → `/ready` answering 200, for the backend and the frontend's standalone server.
pub fn startup(ctx: &mut Ctx, results: &mut Results) -> Result<()> {
    let samples = ctx.budget.samples;
    let config_path = ctx.config_path.clone();
    let stack = ctx.stack()?;
    // One start first, not recorded: it fills the bytecode and page caches, as an image has them.
    drop(stack.server(App::Backend, 1, "startup")?);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let server = stack.server(App::Backend, 1, "startup")?;
        wall.push(server.ready_after.as_secs_f64());
        cpu.push(server.cpu_at_ready);
    }
    let (wall, cpu) = (median(&mut wall), median(&mut cpu));
    results.set("startup.backend_s", wall);
    results.set("startup.backend_cpu_s", cpu);
    eprintln!("    backend: {wall:.2} s to /ready, {cpu:.2} CPU s (median of {samples})");

    match container_startup(stack, &config_path, samples) {
        Ok((reference, wall)) => {
            results.set("startup.backend_container_s", wall);
            results.facts.insert("startup.backend_container".into(), reference.clone());
            eprintln!("    backend container ({reference}): {wall:.2} s to /ready (median of {samples})");
        }
        Err(err) => {
            eprintln!("    backend container not measured: {err:#}");
            results.unmeasured.insert("startup.backend_container_s".into(), format!("{err:#}"));
        }
    }

    let root = stack.root.clone();
    let work = stack.work.clone();
    match frontend_startup(&root, &work, samples) {
        Ok((wall, cpu)) => {
            results.set("startup.frontend_s", wall);
            results.set("startup.frontend_cpu_s", cpu);
            eprintln!("    frontend: {wall:.2} s to /api/ready, {cpu:.2} CPU s (median of {samples})");
        }
        Err(err) => {
            eprintln!("    frontend not measured: {err:#}");
            results.unmeasured.insert("startup.frontend_s".into(), format!("{err:#}"));
        }
    }
    Ok(())
}

/// `docker run` of the last backend image built here → `/ready` answering 200 (median), on the
/// host network so it reaches the benchmark's database; with the image's reference.
fn container_startup(stack: &Stack, config_path: &Utf8Path, samples: usize) -> Result<(String, f64)> {
    docker_answers().map_err(anyhow::Error::msg)?;
    let config = config::load(config_path)?;
    let image = config.image("backend").context("infra.toml declares no `backend` image")?;
    let prefix = format!("{}:", image.name);
    let state = State::load(&stack.root)?;
    let (reference, _) = state
        .builds
        .iter()
        .filter(|(reference, _)| reference.starts_with(&prefix))
        .max_by(|a, b| a.1.built_at.cmp(&b.1.built_at))
        .context("no backend image built here yet: run `cargo xtask build backend`")?;
    let mut seconds = Vec::new();
    // The first start is not recorded: it pages the image's layers in.
    for sample in 0..=samples {
        let port = free_port()?;
        let name = format!("todo-bench-backend-{}-{port}", std::process::id());
        let log = stack.work.join("startup-backend-container.log");
        let file = std::fs::File::create(&log)?;
        let mut cmd = Command::new("docker");
        cmd.args(["run", "--rm", "--name", &name, "--network", "host"])
            .args(["-e", &format!("DATABASE_URL={}", stack.pg.url)])
            .args(["-e", &format!("BETTER_AUTH_URL={}", stack.jwks_base_url)])
            .args(["-e", "ENVIRONMENT=production", "-e", "UVICORN_HOST=127.0.0.1"])
            .args(["-e", &format!("UVICORN_PORT={port}"), reference.as_str()])
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let started = Instant::now();
        let mut child = process::spawn_group(&mut cmd)?;
        let ready = wait_ready(port, "/ready", &mut child, &log);
        let elapsed = started.elapsed().as_secs_f64();
        // The docker client's exit does not always stop the container: remove it by name.
        let _ = Command::new("docker").args(["rm", "-f", &name]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        ready?;
        if sample > 0 {
            seconds.push(elapsed);
        }
    }
    Ok((reference.clone(), median(&mut seconds)))
}

/// (wall seconds, CPU seconds) from start to /api/ready, medians.
fn frontend_startup(root: &Utf8Path, work: &Utf8Path, samples: usize) -> Result<(f64, f64)> {
    let frontend = root.join("frontend");
    if !frontend.join("package.json").exists() {
        bail!("frontend/package.json does not exist");
    }
    if !frontend.join(".next/standalone/server.js").exists() {
        eprintln!("    no production build of the frontend: npm run build (not timed)");
        npm_ci_if_stale(&frontend)?;
        let mut build = Command::new("nice");
        build.args(["-n", "10", "npm", "run", "build"]).current_dir(&frontend).stdin(Stdio::null());
        process::read(&mut build).context("`npm run build` failed")?;
    }
    let data = work.join("frontend-data");
    std::fs::create_dir_all(&data)?;
    let (mut seconds, mut cpu) = (Vec::new(), Vec::new());
    // The first start is not recorded: it fills the page cache (and migrates the embedded DB).
    for sample in 0..=samples {
        let port = free_port()?;
        let origin = format!("http://127.0.0.1:{port}");
        let log = work.join("frontend.log");
        let file = std::fs::File::create(&log)?;
        // `npm start` runs this script; node directly, as the image does, without npm's own start-up.
        let mut cmd = Command::new("node");
        cmd.arg("scripts/start.mjs")
            .current_dir(&frontend)
            .env("NODE_ENV", "production")
            .env("PORT", port.to_string())
            .env("HOSTNAME", "127.0.0.1")
            .env("DATA_DIR", &data)
            .env("BETTER_AUTH_URL", &origin)
            .env("BETTER_AUTH_TRUSTED_ORIGINS", &origin)
            // Not a secret: a throwaway embedded database that lives for this run only.
            .env("BETTER_AUTH_SECRET", "benchmark-only-auth-secret-0123456789abcdef")
            .env("BACKEND_URL", "http://127.0.0.1:9")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let started = Instant::now();
        let mut child = process::spawn_group(&mut cmd)?;
        wait_ready(port, "/api/ready", &mut child, &log)?;
        if sample > 0 {
            seconds.push(started.elapsed().as_secs_f64());
            cpu.push(group_cpu_seconds(child.child.id() as i32));
        }
    }
    Ok((median(&mut seconds), median(&mut cpu)))
}

/// CPU seconds (user + system) used so far by the live processes of a process group: what a
/// request costs the server, which a busy shared machine distorts far less than wall time.
fn group_cpu_seconds(pgid: i32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid pgrp … utime stime …`; comm may hold spaces, so split after it.
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 12 && fields[2].parse() == Ok(pgid) {
            total += fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        }
    }
    total as f64 / ticks
}

fn ensure_wrk() -> Result<()> {
    if which::which("wrk").is_ok() {
        return Ok(());
    }
    match tools::apt_install("wrk", "the load tool wrk")? {
        Some(reason) => bail!("{reason}"),
        None => Ok(()),
    }
}

/// Polls `path` until it answers 200; fails if the process exits or three minutes pass (the
/// slowest start seen on a shared, overloaded machine was about a minute).
fn wait_ready(port: u16, path: &str, child: &mut GroupChild, log: &Utf8Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        process::check_interrupted()?;
        if let Some(status) = child.try_wait()? {
            bail!("the server exited ({status}) before {path} answered; see {log}");
        }
        if http_status(port, path) == Some(200) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{path} did not answer 200 within 180 s; see {log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The status code of `GET path` on 127.0.0.1:port, or None when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    http::get_status(&format!("http://127.0.0.1:{port}{path}"), Duration::from_secs(5)).ok()
}
