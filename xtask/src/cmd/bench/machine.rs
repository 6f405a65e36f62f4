//! The machine a benchmark ran on and the versions of what it ran, for docs/benchmarks.md.

use std::process::Command;

use camino::Utf8Path;
use serde::Serialize;

use crate::postgres::BIN_DIR;

#[derive(Serialize, Default)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub ram_gib: f64,
    pub kernel: String,
    pub load_average: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    Machine {
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ram_gib: ram_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned(),
        load_average: load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    }
}

/// What ran: each tool's own version line (first line of `--version`).
pub fn versions(root: &Utf8Path, python: Option<&Utf8Path>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(python) = python {
        out.push(("Python".into(), version_line(root, python.as_str(), &["--version"])));
        let packages = "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in \
                        ('fastapi', 'uvicorn', 'sqlalchemy', 'asyncpg', 'pydantic', 'openai-agents', 'mcp')))";
        out.push(("backend packages".into(), version_line(root, python.as_str(), &["-c", packages])));
    }
    let postgres = format!("{BIN_DIR}/postgres");
    for (name, program, args) in [
        ("PostgreSQL", postgres.as_str(), &["--version"][..]),
        ("wrk", "wrk", &["-v"][..]),
        ("Node.js", "node", &["--version"][..]),
        ("rustc", "rustc", &["--version"][..]),
        ("Docker", "docker", &["version", "--format", "{{.Server.Version}}"][..]),
    ] {
        out.push((name.into(), version_line(root, program, args)));
    }
    out
}

/// The first line a tool prints about itself. wrk prints its version with its usage and exits
/// 1, so the exit status is not checked; a tool that can't start is "not found".
fn version_line(root: &Utf8Path, program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).current_dir(root).output() {
        Ok(o) => {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or("").trim().to_owned()
        }
        Err(_) => "not found".into(),
    }
}
