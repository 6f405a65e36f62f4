use std::collections::{HashMap, HashSet};

use super::*;
use crate::testutil::{TempDir, INFRA_TOML};

/// What a Docker engine holds, for planning: base image IDs and our built references.
#[derive(Default)]
struct Engine {
    bases: HashMap<String, String>,
    built: HashSet<String>,
}

impl ImageStore for Engine {
    fn resolve(&mut self, reference: &str) -> Result<Option<String>> {
        Ok(self.bases.get(reference).cloned())
    }
    fn inspect(&mut self, reference: &str, _hash: &str) -> Result<Lookup> {
        let info = ImageInfo { id: format!("sha256:{reference}"), size_bytes: Some(1), digest: None };
        Ok(self.built.contains(reference).then_some(info).into())
    }
}

/// The shared test project plus an image with a build argument and a base of its own.
const OTHER: &str = r#"
[images.other]
name = "other"
context = "other"
build_args = { VERSION = "${OTHER_VERSION:-1}" }
"#;

struct Project {
    dir: TempDir,
    engine: Engine,
    state: State,
    env: HashMap<String, String>,
}

impl Project {
    fn new() -> Project {
        let dir = TempDir::new();
        dir.write("infra.toml", &format!("{INFRA_TOML}{OTHER}"));
        dir.write("chart/Chart.yaml", "name: r\n");
        dir.write("values-dev.yaml", "{}\n");
        dir.write("base/Dockerfile", "FROM debian:trixie\nCOPY . /base\n");
        dir.write("base/lib.txt", "lib\n");
        dir.write("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /app\n");
        dir.write("app/.dockerignore", "*.log\n.dockerignore\n");
        dir.write("app/main.py", "print('app')\n");
        dir.write("app/debug.log", "noise\n");
        dir.write("other/Dockerfile", "FROM python:3.13-slim\nARG VERSION\nCOPY . /o\n");
        dir.write("other/run.sh", "#!/bin/sh\n");
        let mut engine = Engine::default();
        engine.bases.insert("debian:trixie".into(), "sha256:debian1".into());
        engine.bases.insert("python:3.13-slim".into(), "sha256:python1".into());
        Project { dir, engine, state: State::default(), env: HashMap::new() }
    }

    /// Plans every image and "builds" those that need it; returns their keys and plans.
    fn up(&mut self) -> (Vec<String>, Vec<ImagePlan>) {
        let config = config::load(&self.dir.join("infra.toml")).unwrap();
        let env = self.env.clone();
        let lookup = move |k: &str| env.get(k).cloned();
        let mut planner = Planner::new(&self.state, &lookup);
        let mut plans = Vec::new();
        for image in &config.images {
            plans.push(planner.plan(image, &mut self.engine).unwrap());
        }
        let mut built = Vec::new();
        for plan in &plans {
            if plan.build {
                built.push(plan.key.clone());
                self.engine.built.insert(plan.reference.clone());
                self.state.inputs.insert(plan.key.clone(), plan.inputs.clone());
            }
        }
        (built, plans)
    }
}

type Mutation = fn(&mut Project);

/// Each change, from a fully built project, and the images that must be rebuilt.
const MUTATIONS: &[(&str, Mutation, &[&str])] = &[
    ("nothing changed", |_| {}, &[]),
    ("mtime changed, bytes not", |p| p.dir.touch("app/main.py"), &[]),
    ("file edited in app", |p| p.dir.write("app/main.py", "print('v2')\n"), &["app"]),
    ("file added to base (app depends on it)", |p| p.dir.write("base/new.txt", "n\n"), &["base", "app"]),
    ("file deleted from other", |p| std::fs::remove_file(p.dir.join("other/run.sh")).unwrap(), &["other"]),
    ("file chmod'ed in other", |p| p.dir.chmod("other/run.sh", 0o755), &["other"]),
    ("ignored file edited in app", |p| p.dir.write("app/debug.log", "more noise\n"), &[]),
    ("ignored file added to app", |p| p.dir.write("app/trace.log", "x\n"), &[]),
    (
        ".dockerignore edited: now ignores main.py",
        |p| p.dir.write("app/.dockerignore", "*.log\n.dockerignore\nmain.py\n"),
        &["app"],
    ),
    (
        ".dockerignore edited: a comment only (it ignores itself)",
        |p| p.dir.write("app/.dockerignore", "# logs\n*.log\n.dockerignore\n"),
        &[],
    ),
    (".dockerignore edited: stops ignoring *.log", |p| p.dir.write("app/.dockerignore", ".dockerignore\n"), &["app"]),
    (
        "Dockerfile edited in other",
        |p| p.dir.write("other/Dockerfile", "FROM python:3.13-slim\nARG VERSION\nCOPY . /opt\n"),
        &["other"],
    ),
    (
        "build arg changed (OTHER_VERSION=2)",
        |p| {
            p.env.insert("OTHER_VERSION".into(), "2".into());
        },
        &["other"],
    ),
    (
        "build arg set to its default value",
        |p| {
            p.env.insert("OTHER_VERSION".into(), "1".into());
        },
        &[],
    ),
    (
        "base image debian:trixie changed",
        |p| {
            p.engine.bases.insert("debian:trixie".into(), "sha256:debian2".into());
        },
        &["base", "app"],
    ),
    (
        "base image python:3.13-slim changed",
        |p| {
            p.engine.bases.insert("python:3.13-slim".into(), "sha256:python2".into());
        },
        &["other"],
    ),
    ("our image removed from the engine", |p| p.engine.built.retain(|r| !r.starts_with("app:")), &["app"]),
];

#[test]
fn mutation_table() {
    for (what, mutate, expected) in MUTATIONS {
        let mut project = Project::new();
        let (first, _) = project.up();
        assert_eq!(first, ["base", "app", "other"], "first build");
        mutate(&mut project);
        let (rebuilt, _) = project.up();
        assert_eq!(rebuilt, *expected, "{what}");
        // And after that build, nothing is left to do.
        assert!(project.up().0.is_empty(), "{what}: second build after the change");
    }
}

#[test]
fn reasons_name_what_changed() {
    let reasons = |mutate: Mutation| {
        let mut project = Project::new();
        project.up();
        mutate(&mut project);
        let (_, plans) = project.up();
        plans.into_iter().filter(|p| p.build).map(|p| (p.key, p.reasons.join("; "))).collect::<Vec<_>>()
    };
    assert_eq!(
        reasons(|p| p.dir.write("app/main.py", "v2")),
        [("app".into(), "context changed: main.py (edited)".to_owned())]
    );
    assert_eq!(
        reasons(|p| {
            p.engine.bases.insert("debian:trixie".into(), "sha256:debian2".into());
        }),
        [
            ("base".into(), "base image debian:trixie changed (debian1 → debian2)".to_owned()),
            ("app".into(), "depends on `base`, which is rebuilt".to_owned())
        ]
    );
    assert_eq!(
        reasons(|p| {
            p.env.insert("OTHER_VERSION".into(), "2".into());
        }),
        [("other".into(), "build args changed: VERSION".to_owned())]
    );
    let mut project = Project::new();
    project.engine.bases.remove("python:3.13-slim");
    let (_, plans) = project.up();
    let other = plans.iter().find(|p| p.key == "other").unwrap();
    assert!(
        other.reasons.iter().any(|r| r == "base image python:3.13-slim is not in the engine: the build will pull it"),
        "{:?}",
        other.reasons
    );
}

#[test]
fn dependents_receive_the_dependency_reference_as_build_arg() {
    let mut project = Project::new();
    let (_, plans) = project.up();
    let base = plans.iter().find(|p| p.key == "base").unwrap();
    let app = plans.iter().find(|p| p.key == "app").unwrap();
    assert_eq!(app.build_args["BASE"], base.reference);
    assert_eq!(app.inputs.depends_on["base"], base.hash);
    // The dependency's own image is covered by its hash, not looked up as a base image.
    assert!(app.inputs.base_images.is_empty());
    assert_eq!(base.reference, format!("base:{}", &base.hash[..12]));
}

#[test]
fn build_arg_values_are_kept_only_as_digests_keyed_with_the_machine_key() {
    let mut project = Project::new();
    project.env.insert("OTHER_VERSION".into(), "hunter2".into());
    project.up();
    let kept = serde_json::to_string(&project.state).unwrap();
    assert!(!kept.contains("hunter2"));
    // No plain sha256 to check guesses against; the keyed digest is what is kept.
    assert!(!kept.contains(&hash::sha256_hex(b"hunter2")), "{kept}");
    assert_eq!(project.state.inputs["other"].build_args["VERSION"], project.state.key.digest(b"hunter2"));
    assert!(!kept.contains("key"), "the key itself is never written: {kept}");
}

#[test]
fn a_required_env_var_in_build_args_must_be_set() {
    let lookup = |_: &str| None;
    assert_eq!(expand_env("a-${X:-dflt}-b", &lookup).unwrap(), "a-dflt-b");
    let err = expand_env("${TOKEN}", &lookup).unwrap_err().to_string();
    assert!(err.contains("`${TOKEN}` is not set"), "{err}");
}

#[test]
fn with_a_registry_every_machine_hashes_to_the_same_tags_and_secret_build_args_are_refused() {
    let registry = Registry { host: "ghcr.io".into(), namespace: "acme".into(), pull_secret: None };
    let project = Project::new();
    let config = config::load(&project.dir.join("infra.toml")).unwrap();
    let lookup = |_: &str| None;
    // Two machines: two digest keys.
    let plans = |state: &State, registry: Option<&Registry>, engine: &mut Engine| -> Vec<ImagePlan> {
        let mut planner = Planner::new(state, &lookup);
        planner.registry = registry;
        config.images.iter().map(|image| planner.plan(image, engine).unwrap()).collect()
    };
    let (a, b) = (State::default(), State::default());
    let mut engine = Engine { bases: project.engine.bases.clone(), ..Engine::default() };
    let on_a = plans(&a, Some(&registry), &mut engine);
    let on_b = plans(&b, Some(&registry), &mut engine);
    let hashes = |plans: &[ImagePlan]| plans.iter().map(|p| p.hash.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&on_a), hashes(&on_b), "the registry's tags are shared");
    assert_eq!(on_a[0].reference, format!("ghcr.io/acme/base:{}", &on_a[0].hash[..12]));
    // Without a registry, images with build args are this machine's.
    assert_ne!(hashes(&plans(&a, None, &mut engine)), hashes(&plans(&b, None, &mut engine)));

    let dir = TempDir::new();
    dir.write(
        "infra.toml",
        &INFRA_TOML.replace("BASE = \"{images.base}\"", "BASE = \"{images.base}\", NPM_TOKEN = \"t\""),
    );
    dir.write("chart/Chart.yaml", "name: r\n");
    dir.write("values-dev.yaml", "{}\n");
    dir.write("base/Dockerfile", "FROM scratch\n");
    dir.write("app/Dockerfile", "ARG BASE\nFROM ${BASE}\n");
    let config = config::load(&dir.join("infra.toml")).unwrap();
    let mut planner = Planner::new(&a, &lookup);
    planner.registry = Some(&registry);
    planner.plan(&config.images[0], &mut engine).unwrap();
    let err = planner.plan(&config.images[1], &mut engine).unwrap_err().to_string();
    assert!(err.contains("images.app.build_args.NPM_TOKEN looks like a secret"), "{err}");
}
