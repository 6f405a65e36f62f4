//! A throwaway PostgreSQL cluster for the test tiers, from the installed binaries: initdb into a
//! temporary directory, trust auth, a free port on 127.0.0.1, stopped and removed on drop (which
//! also runs on error and after Ctrl-C, since the signal handler only forwards the interrupt).

use std::{
    ffi::CString,
    net::TcpStream,
    os::unix::process::CommandExt,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

use crate::process::{self, free_port, GroupChild};

pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
const SUPERUSER: &str = "postgres";

pub struct Postgres {
    pub url: String,
    dir: Utf8PathBuf,
    server: Option<GroupChild>,
}

/// initdb and postgres refuse to run as root: as root we run them as the `postgres` system user.
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> Result<Option<RunAs>> {
    if !process::is_root() {
        return Ok(None);
    }
    let name = CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns a pointer into static storage, read at once, single-threaded here.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        bail!(
            "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` \
             user to run it as: install the server package (`apt-get install -y postgresql-15`) \
             or run the tests as a normal user"
        );
    }
    // SAFETY: non-null result of getpwnam.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some(RunAs { uid, gid }))
}

fn command(bin: &str, user: &Option<RunAs>) -> Command {
    let mut cmd = Command::new(Utf8Path::new(BIN_DIR).join(bin));
    if let Some(user) = user {
        cmd.uid(user.uid).gid(user.gid);
        // The postgres user can't read root's home; keep the child out of it.
        cmd.current_dir("/").env("HOME", "/tmp");
    }
    cmd
}

impl Postgres {
    pub fn start() -> Result<Postgres> {
        if !Utf8Path::new(BIN_DIR).join("initdb").exists() {
            bail!("PostgreSQL 15 binaries not found in {BIN_DIR}: `apt-get install -y postgresql-15`");
        }
        let user = run_as()?;
        let dir = temp_dir()?;
        // From here on `Drop` removes the directory, whatever fails next.
        let mut pg = Postgres { url: String::new(), dir, server: None };
        if let Some(user) = &user {
            let path = CString::new(pg.dir.as_str()).unwrap();
            // SAFETY: valid C string; chown has no other preconditions.
            if unsafe { libc::chown(path.as_ptr(), user.uid, user.gid) } != 0 {
                bail!("cannot hand {} to the postgres user: {}", pg.dir, std::io::Error::last_os_error());
            }
        }
        let data = pg.dir.join("data");
        let log = pg.dir.join("initdb.log");
        let mut initdb = command("initdb", &user);
        initdb
            .args(["-D", data.as_str(), "-U", SUPERUSER, "--auth=trust", "--no-sync"])
            .args(["--encoding=UTF8", "--locale=C.UTF-8"]);
        process::echo(&initdb);
        let out = initdb.output().context("cannot run initdb")?;
        if !out.status.success() {
            std::fs::write(&log, [out.stdout, out.stderr].concat()).ok();
            bail!("initdb failed ({}); its output is in {log}", out.status);
        }

        let port = free_port()?;
        let server_log = pg.dir.join("postgres.log");
        let log_file = std::fs::File::create(&server_log)?;
        let mut postgres = command("postgres", &user);
        postgres
            .args(["-D", data.as_str(), "-p", &port.to_string(), "-k", pg.dir.as_str()])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"])
            // Durability is worthless for a throwaway cluster; speed is not.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        pg.server = Some(process::spawn_group(&mut postgres)?);
        wait_ready(port, pg.server.as_mut().unwrap(), &server_log)?;
        pg.url = format!("postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres");
        Ok(pg)
    }
}

fn temp_dir() -> Result<Utf8PathBuf> {
    let base = Utf8PathBuf::from_path_buf(std::env::temp_dir())
        .map_err(|p| anyhow::anyhow!("temp dir {} is not UTF-8", p.display()))?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let dir = base.join(format!("xtask-postgres-{}-{stamp}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {dir}"))?;
    Ok(dir)
}

fn wait_ready(port: u16, server: &mut GroupChild, log: &Utf8Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        process::check_interrupted()?;
        if let Some(status) = server.try_wait()? {
            bail!("postgres exited ({status}) while starting; see {log}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let ready = Command::new(Utf8Path::new(BIN_DIR).join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", SUPERUSER])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("postgres did not accept connections within 30 s; see {log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, stop cleanly.
            server.stop(libc::SIGINT, Duration::from_secs(15));
        }
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("warning: could not remove {}: {err}", self.dir);
        }
    }
}
