//! `cargo xtask dev`: the app on this machine, no containers. The backend (uvicorn --reload) and
//! the frontend (next dev) run with embedded defaults: SQLite files instead of PostgreSQL, the
//! offline assistant unless OPENAI_API_KEY is set, and a development auth secret generated once.
//! Their output is interleaved line by line behind a name; Ctrl-C stops both.

use std::{
    io::{BufRead, BufReader, IsTerminal, Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::fs::OpenOptionsExt as _,
    process::{Command, ExitCode, Stdio},
    time::Duration,
};

use anyhow::{bail, Context, Result};
use camino::Utf8Path;

use crate::{
    dotenv,
    flags::DevArgs,
    process::{self, GroupChild},
    tools::{npm_ci_if_stale, project_root, uv},
};

pub fn run(args: &DevArgs) -> Result<ExitCode> {
    let root = project_root();
    for path in ["backend/pyproject.toml", "frontend/package.json"] {
        if !root.join(path).exists() {
            bail!("{path} does not exist: the app isn't checked out completely");
        }
    }
    for (port, flag) in [(args.port, "--port"), (args.backend_port, "--backend-port")] {
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            bail!("port {port} is already in use: stop what uses it or pick another with `{flag} N`");
        }
    }

    let app_url = format!("http://localhost:{}", args.port);
    let backend_url = format!("http://127.0.0.1:{}", args.backend_port);
    // The user's environment and .env win over the embedded defaults.
    let mut env = dotenv::load(&root.join(".env"))?;
    let mut default = |key: &str, value: String| {
        if std::env::var_os(key).is_none() && !env.iter().any(|(k, _)| k == key) {
            env.push((key.to_owned(), value));
        }
    };
    default("ENVIRONMENT", "development".into());
    default("BETTER_AUTH_URL", app_url.clone());
    default("BETTER_AUTH_TRUSTED_ORIGINS", format!("{app_url},http://127.0.0.1:{}", args.port));
    default("CORS_ORIGINS", format!("{app_url},http://127.0.0.1:{}", args.port));
    default("BACKEND_URL", backend_url.clone());
    default("BETTER_AUTH_SECRET", dev_secret(&root.join(".data/dev-better-auth-secret"))?);
    // `next dev` would otherwise announce telemetry and try to send it on every start.
    default("NEXT_TELEMETRY_DISABLED", "1".into());

    let uv = uv()?;
    let backend_cmd = |args: &[&str]| {
        let mut cmd = uv.command_in(&root.join("backend"));
        cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    };
    eprintln!("==> backend: uv sync");
    process::run(&mut backend_cmd(&["sync"]))?;
    eprintln!("==> frontend: dependencies");
    npm_ci_if_stale(&root.join("frontend"))?;

    let port = args.backend_port.to_string();
    // Migrations, then uvicorn: the same script compose and the e2e suite start the backend with.
    let mut backend = backend_cmd(&["run", "./serve.sh", "--reload"]);
    backend.args(["--host", "127.0.0.1", "--port", &port]).env("PYTHONUNBUFFERED", "1");
    let mut frontend = Command::new("npm");
    frontend
        .current_dir(root.join("frontend"))
        .args(["run", "dev", "--", "--port", &args.port.to_string()])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PORT", args.port.to_string());

    let mut children = vec![
        ("backend", spawn_prefixed("backend", 31, &mut backend)?),
        ("frontend", spawn_prefixed("frontend", 34, &mut frontend)?),
    ];
    let mut announced = false;
    let code = loop {
        if process::interrupted() {
            break ExitCode::SUCCESS;
        }
        if let Some((name, status)) =
            children.iter_mut().find_map(|(name, child)| child.try_wait().ok().flatten().map(|s| (*name, s)))
        {
            eprintln!("\n{name} exited ({status}); stopping the other one");
            break ExitCode::FAILURE;
        }
        if !announced && listening(args.port) && listening(args.backend_port) {
            announced = true;
            eprintln!("\n  todo-chatbot is running at {app_url}  (API {backend_url}, Ctrl-C stops both)\n");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for (_, child) in &mut children {
        // Both reloaders shut down cleanly on SIGINT, as they would after a Ctrl-C in a terminal.
        child.stop(libc::SIGINT, Duration::from_secs(10));
    }
    Ok(code)
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Starts a child whose stdout and stderr lines are printed behind `name |`.
fn spawn_prefixed(name: &'static str, color: u8, cmd: &mut Command) -> Result<GroupChild> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = process::spawn_group(cmd)?;
    let prefix = if std::io::stdout().is_terminal() {
        format!("\x1b[{color}m{name:>8} |\x1b[0m ")
    } else {
        format!("{name:>8} | ")
    };
    let stdout = child.child.stdout.take().unwrap();
    let stderr = child.child.stderr.take().unwrap();
    forward_lines(prefix.clone(), stdout);
    forward_lines(prefix, stderr);
    Ok(child)
}

fn forward_lines(prefix: String, pipe: impl Read + Send + 'static) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(prefix.as_bytes());
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
        }
    });
}

/// A development-only Better Auth secret, generated on first use and kept (gitignored) so
/// sessions survive restarts of `cargo xtask dev`.
fn dev_secret(path: &Utf8Path) -> Result<String> {
    if let Ok(secret) = std::fs::read_to_string(path) {
        if !secret.trim().is_empty() {
            return Ok(secret.trim().to_owned());
        }
    }
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(path.parent().unwrap())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {path}"))?;
    file.write_all(secret.as_bytes())?;
    eprintln!("    generated a development BETTER_AUTH_SECRET in {path} (gitignored)");
    Ok(secret)
}
