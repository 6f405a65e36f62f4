//! What the integration tests share: the project of two images (`app` FROM `base`) they build,
//! the actions of a build report, and running xtask with what it printed kept in the test's log.

// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

use std::{
    path::Path,
    process::{Command, Output},
};

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Writes the contexts of `base` and `app` (FROM base) and a chart under `dir`; returns the
/// infra.toml tables declaring them as `{prefix}-base` and `{prefix}-app`, and a release running
/// `app`. A test adds its environments (and budgets, other images) after them.
pub fn two_images(dir: &Path, prefix: &str) -> String {
    write(&dir.join("base/Dockerfile"), "FROM scratch\nCOPY . /base/\n");
    write(&dir.join("base/lib.txt"), "lib v1\n");
    write(&dir.join("app/Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY . /app/\n");
    write(&dir.join("app/main.txt"), "app\n");
    write(&dir.join("chart/Chart.yaml"), "apiVersion: v2\nname: fixture\nversion: 0.1.0\n");
    format!(
        r#"
[images.base]
name = "{prefix}-base"
context = "base"

[images.app]
name = "{prefix}-app"
context = "app"
depends_on = ["base"]
build_args = {{ BASE = "{{images.base}}" }}

[release]
name = "fixture"
namespace = "fixture"
chart = "chart"
entrypoint = {{ service = "fixture-web", port = 3000 }}
[release.images]
app = "app.image"
"#
    )
}

/// `key → action` of the images of a build report, in build order.
pub fn actions(report: &serde_json::Value) -> Vec<(String, String)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().to_owned(), i["action"].as_str().unwrap().to_owned()))
        .collect()
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// Runs `cmd`, shown as `$ {shown}` above what it printed, so a failing test's log holds it.
pub fn output(cmd: &mut Command, shown: &str) -> Output {
    let out = cmd.output().unwrap();
    eprintln!("$ {shown}\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}
