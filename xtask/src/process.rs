//! Running external commands: echoed with `--verbose` (secrets masked), long-lived ones in their
//! own process group so that Ctrl-C (or SIGTERM) reaches the whole tree and nothing is left
//! behind. Why this rather than xshell or duct: docs/infra.md, "How xtask runs programs".

use std::{
    io::Write,
    net::TcpListener,
    os::unix::process::CommandExt,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

static VERBOSE: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Process groups we started and must signal when we are interrupted.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Long sequences call this between steps so that Ctrl-C ends them promptly.
pub fn check_interrupted() -> Result<()> {
    if interrupted() {
        bail!("interrupted");
    }
    Ok(())
}

/// Children run in their own process groups (so a terminal's Ctrl-C reaches only us): we
/// forward the interrupt to every live group and let the callers unwind, which is where
/// the cleanup (stopping databases, removing temp dirs) happens.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        // Not eprintln!: it panics when stderr is a closed pipe (`cargo xtask … | head`
        // interrupted), and a panic here would leave every later signal unhandled.
        let say = |text: &str| {
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
        };
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            say("\ninterrupted again: killing child processes\n");
            signal_all(libc::SIGKILL);
        } else {
            say("\ninterrupted: stopping child processes and cleaning up\n");
            signal_all(libc::SIGINT);
        }
    });
}

fn signal_all(signal: i32) {
    for &pgid in GROUPS.lock().unwrap().iter() {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
        unsafe { libc::kill(-pgid, signal) };
    }
}

/// Shows a command the way a user would type it.
pub fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            let key = key.to_string_lossy();
            // Secrets must not land in logs, even verbose ones.
            let shown =
                if is_secret_name(&key) { "***".to_owned() } else { hide_url_password(&value.to_string_lossy()) };
            parts.push(format!("{key}={}", shell_quote(&shown)));
        }
    }
    parts.push(shell_quote(&cmd.get_program().to_string_lossy()));
    parts.extend(cmd.get_args().map(|a| shell_quote(&hide_secret_arg(&a.to_string_lossy()))));
    let line = parts.join(" ");
    match cmd.get_current_dir() {
        Some(dir) => format!("(cd {} && {line})", shell_quote(&dir.to_string_lossy())),
        None => line,
    }
}

pub fn is_secret_name(key: &str) -> bool {
    ["SECRET", "PASSWORD", "API_KEY", "TOKEN"].iter().any(|s| key.contains(s))
}

/// `NAME=value` (a `--build-arg`, a `-e` of docker run) with a secret name → `NAME=***`; a URL's
/// password → `***`.
fn hide_secret_arg(arg: &str) -> String {
    match arg.split_once('=') {
        Some((name, _)) if is_secret_name(name) => format!("{name}=***"),
        _ => hide_url_password(arg),
    }
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
pub fn hide_url_password(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else { return value.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return value.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => value.to_owned(),
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn echo(cmd: &Command) {
    if verbose() {
        eprintln!("$ {}", display(cmd));
    }
}

/// A child leader of its own process group; dropping it stops the whole group.
pub struct GroupChild {
    pub child: Child,
    pgid: i32,
    finished: bool,
}

pub fn spawn_group(cmd: &mut Command) -> Result<GroupChild> {
    check_interrupted()?;
    echo(cmd);
    cmd.process_group(0);
    let child = cmd.spawn().with_context(|| format!("cannot start `{}`", display(cmd)))?;
    let pgid = child.id() as i32;
    GROUPS.lock().unwrap().push(pgid);
    Ok(GroupChild { child, pgid, finished: false })
}

impl GroupChild {
    /// Waits for the child. After an interrupt it gets a grace period to stop on its own (the
    /// forwarded SIGINT), then its group is killed: some programs (the docker CLI with the
    /// legacy builder) ignore a single SIGINT.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let mut interrupted_at: Option<Instant> = None;
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.finished = true;
                return Ok(status);
            }
            if interrupted() {
                let since = *interrupted_at.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(10) {
                    self.signal(libc::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        let status = self.child.try_wait()?;
        self.finished |= status.is_some();
        Ok(status)
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: see signal_all.
        unsafe { libc::kill(-self.pgid, signal) };
    }

    /// Asks the group to stop (`signal`), then kills it after `grace`.
    pub fn stop(&mut self, signal: i32, grace: Duration) {
        if !self.finished {
            self.signal(signal);
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    self.finished = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // Grandchildren may outlive the leader (a reloader's workers): kill what is left.
        self.signal(libc::SIGKILL);
        if !self.finished {
            let _ = self.child.wait();
            self.finished = true;
        }
        GROUPS.lock().unwrap().retain(|&p| p != self.pgid);
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.stop(libc::SIGTERM, Duration::from_secs(10));
    }
}

/// Runs a command to completion in its own group, output inherited; Ctrl-C stops it.
pub fn run_status(cmd: &mut Command) -> Result<ExitStatus> {
    let mut child = spawn_group(cmd)?;
    let status = child.wait()?;
    child.stop(libc::SIGTERM, Duration::from_secs(5));
    Ok(status)
}

/// Runs a command and fails with its command line when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = run_status(cmd)?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(cmd));
    }
    Ok(())
}

/// Runs a command and returns its stdout; stderr is shown on failure.
pub fn read(cmd: &mut Command) -> Result<String> {
    check_interrupted()?;
    echo(cmd);
    let out = cmd.output().with_context(|| format!("cannot start `{}`", display(cmd)))?;
    stdout_of(cmd, out)
}

fn stdout_of(cmd: &Command, out: std::process::Output) -> Result<String> {
    if !out.status.success() {
        bail!("`{}` failed ({}): {}", display(cmd), out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Like [`read`], with `input` written to the command's stdin: manifests for kubectl (never a
/// temporary file, since they may hold Secrets), a credential helper's question. A failure
/// shows stderr, else stdout.
pub fn read_with_input(cmd: &mut Command, input: &[u8]) -> Result<String> {
    check_interrupted()?;
    echo(cmd);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("cannot start `{}`", display(cmd)))?;
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    // Written from a thread, so a child that answers before reading all of its input cannot
    // deadlock us on a full pipe; stdin is dropped after writing, so the child sees its end.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    let written = writer.join().unwrap_or(Ok(()));
    if !out.status.success() {
        let said = if out.stderr.is_empty() { &out.stdout } else { &out.stderr };
        bail!("`{}` failed ({}): {}", display(cmd), out.status, String::from_utf8_lossy(said).trim());
    }
    written.with_context(|| format!("cannot write to `{}`", display(cmd)))?;
    Ok(String::from_utf8(out.stdout)?)
}

/// A port on 127.0.0.1 that nothing listens on (for a server this run starts).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::display;

    #[test]
    fn the_echoed_command_line_masks_secrets_in_the_environment_and_the_arguments() {
        let mut cmd = Command::new("docker");
        cmd.env("API_TOKEN", "t0ps3cret")
            .env("DATABASE_URL", "postgresql://todo:hunter2@db/todo")
            .env("LOG_LEVEL", "INFO")
            .args(["build", "--build-arg", "NPM_TOKEN=t0ps3cret", "--build-arg", "VERSION=1.2"])
            .args(["-e", "DATABASE_URL=postgresql://todo:hunter2@db/todo", "two words"])
            .current_dir("/srv");
        let line = display(&cmd);
        assert!(!line.contains("t0ps3cret") && !line.contains("hunter2"), "{line}");
        assert_eq!(
            line,
            "(cd /srv && API_TOKEN='***' DATABASE_URL='postgresql://todo:***@db/todo' LOG_LEVEL=INFO docker build \
             --build-arg 'NPM_TOKEN=***' --build-arg VERSION=1.2 -e 'DATABASE_URL=postgresql://todo:***@db/todo' 'two words')"
        );
    }
}
