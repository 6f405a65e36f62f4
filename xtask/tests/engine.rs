//! The pipeline against a real Docker engine (and real Helm): fixture contexts are built, a
//! second build skips, touching a file rebuilds only that image and its dependents, a budget
//! below the real size fails `verify-budgets` with its table, the values `up` generates
//! pass the real chart's schema, and an image holds exactly what its tag's hash covers (files
//! saved during a build, the ignore rules of either builder; a `docker` shim makes the edits).
//! Independent images build at the same time (each build step writes, inside its image, when it
//! ran), and a failing image stops its dependents but no other.
//!
//! They need a Docker engine and helm, so they are `#[ignore]`d in a plain `cargo test` (where
//! they show as ignored, never as passed) and run by `cargo xtask test --tier images`, which
//! only starts when `docker info` answers. Without an engine they fail rather than pass.
//!
//! Minikube can't be installed on this machine: `up --env minikube` is tested with recording
//! stand-ins for `minikube`, `kubectl` and `helm` on PATH (builds still go to the real engine)
//! that keep the cluster's state (namespace, its label, the release) in files. That checks what
//! `up` and `down` do to the cluster, what they load and that a second `up` does nothing, not a
//! real Minikube; how each tool's command line is spelled is left to the tool.

mod common;

use common::pairs;
use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

struct Fixture {
    dir: PathBuf,
    prefix: String,
}

impl Fixture {
    /// Three scratch images: `base`, `app` (FROM base), `other`, with budgets.
    fn new(name: &str, other_size_mb: &str) -> Fixture {
        let prefix = format!("xtask-it-{}-{name}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        let f = Fixture { dir, prefix };
        let images = common::two_images(&f.dir, &f.prefix);
        f.write("app/.dockerignore", "*.log\n");
        f.write("app/debug.log", "ignored\n");
        f.write("other/Dockerfile", "FROM scratch\nCOPY . /other/\n");
        f.write("other/data.txt", "other\n");
        f.write("values-dev.yaml", "{}\n");
        let p = &f.prefix;
        f.write(
            "infra.toml",
            &format!(
                r#"default_environment = "minikube"
{images}[release.budgets]
deploy_seconds = 180

[images.base.budgets]
size_mb = 100
build_seconds = 300

[images.other]
name = "{p}-other"
context = "other"
[images.other.budgets]
size_mb = {other_size_mb}

[environments.minikube]
type = "minikube"
values = ["values-dev.yaml"]
"#
            ),
        );
        f
    }

    fn write(&self, rel: &str, text: &str) {
        common::write(&self.dir.join(rel), text);
    }

    /// `cargo xtask --config <fixture> ARGS`, with its state under the fixture.
    fn xtask(&self, args: &[&str], path: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--config").arg(self.dir.join("infra.toml")).args(args);
        cmd.env("XTASK_DIR", self.dir.join("target/xtask")).env_remove("XTASK_ENV");
        // xtask's cache (tools searched before PATH, the machine's build log) is the fixture's:
        // stand-ins on PATH are what it runs, and fixture builds stay out of the real log. The
        // real tools stay reachable on PATH for tests without stand-ins.
        // The real cache as xtask finds it (tools::cache): $TODO_CHATBOT_CACHE, else ~/.cache/todo-chatbot.
        let real_cache = std::env::var("TODO_CHATBOT_CACHE")
            .ok()
            .filter(|dir| !dir.is_empty())
            .unwrap_or_else(|| format!("{}/.cache/todo-chatbot", std::env::var("HOME").unwrap_or_default()));
        let real_path =
            || format!("{real_cache}/bin:{}:{real_cache}/cluster/build/bin", std::env::var("PATH").unwrap());
        let path = path.map_or_else(real_path, str::to_owned);
        cmd.env("PATH", path).env("TODO_CHATBOT_CACHE", self.dir.join("cache"));
        common::output(&mut cmd, &format!("xtask {}", args.join(" ")))
    }

    fn report(&self, command: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.join(format!("target/xtask/report-{command}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// `key → action` of the last build.
    fn actions(&self) -> Vec<(String, String)> {
        common::actions(&self.report("build"))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Every tag of the fixture's images, then the directory.
        let out = Command::new("docker").args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).output();
        if let Ok(out) = out {
            let ours: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with(&self.prefix))
                .map(str::to_owned)
                .collect();
            if !ours.is_empty() {
                let _ = Command::new("docker").args(["image", "rm", "--force"]).args(&ours).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The recorded command lines of `tool` that carry each of `args`, in any order and place.
fn calls<'a>(log: &'a str, tool: &str, args: &[&str]) -> Vec<&'a str> {
    log.lines()
        .filter(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            words[0] == tool && args.iter().all(|a| words.contains(a))
        })
        .collect()
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn builds_skip_and_rebuild_only_what_changed() {
    let f = Fixture::new("rebuild", "100");
    assert!(f.xtask(&["build"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("base", "built"), ("app", "built"), ("other", "built")]));
    // The digests in state.json are keyed with this machine's key, private to its owner.
    let key = std::fs::metadata(f.dir.join("cache/digest.key")).expect("the digest key was made");
    assert_eq!(key.permissions().mode() & 0o777, 0o600);

    // Nothing changed: nothing is built.
    assert!(f.xtask(&["build"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("base", "skipped"), ("app", "skipped"), ("other", "skipped")]));

    // An ignored file: still nothing.
    f.write("app/debug.log", "more\n");
    assert!(f.xtask(&["build"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("base", "skipped"), ("app", "skipped"), ("other", "skipped")]));

    // A file of base: base and its dependent app, not other.
    f.write("base/lib.txt", "lib v2\n");
    assert!(f.xtask(&["build"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("base", "built"), ("app", "built"), ("other", "skipped")]));
    let report = f.report("build");
    let app = &report["images"][1];
    assert_eq!(app["reasons"][0], "depends on `base`, which is rebuilt");
    let base = &report["images"][0];
    assert_eq!(base["reasons"][0], "context changed: lib.txt (edited)");

    // The app image really is built on top of the new base: the file is in it.
    let reference = app["reference"].as_str().unwrap();
    let container = Command::new("docker").args(["create", reference, "x"]).output().unwrap();
    let id = String::from_utf8_lossy(&container.stdout).trim().to_owned();
    let copied = Command::new("docker").args(["cp", &format!("{id}:/base/lib.txt"), "-"]).output().unwrap();
    let _ = Command::new("docker").args(["rm", &id]).output();
    assert!(String::from_utf8_lossy(&copied.stdout).contains("lib v2"));

    // Building one image by name builds only it (and what it depends on).
    f.write("other/data.txt", "other v2\n");
    assert!(f.xtask(&["build", "other"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("other", "built")]));
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn a_budget_below_the_real_size_fails_verify_budgets_with_the_table() {
    // `other` is a few bytes; a budget of 1 byte (1e-6 MB) can't be met.
    let f = Fixture::new("budget", "0.000001");
    assert!(f.xtask(&["build"], None).status.success());
    let out = f.xtask(&["verify-budgets", "--only", "images"], None);
    assert!(!out.status.success(), "verify-budgets must fail");
    let table = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| {
        table.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no row {name}:\n{table}")).to_owned()
    };
    assert!(line("image size: other").contains('✗'), "{table}");
    assert!(line("image size: base").contains('✓'), "{table}");
    assert!(line("build time: base").contains('✓'), "{table}");
    assert!(table.contains("budgets: 1 of 3 missed"), "{table}");
    let report = f.report("verify-budgets");
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["budgets"].as_array().unwrap().len(), 3);
}

/// Recording stand-ins for `minikube`, `kubectl` and `helm` (one script): each command line is
/// appended to the returned log; answers are just enough for `up`, `status` and `down`.
/// Returns the PATH to use and the log.
fn standins(f: &Fixture) -> (String, PathBuf) {
    let bin = f.dir.join("standins");
    let log = f.dir.join("standins.log");
    std::fs::create_dir_all(&bin).unwrap();
    // One script answers for minikube, kubectl and helm, and records each command line.
    let script = format!(
        r#"#!/bin/sh
tool=$(basename "$0")
echo "$tool $*" >> '{log}'
state='{state}'
case "$tool $*" in
  "minikube -p minikube docker-env --shell none") echo "DOCKER_HOST=${{DOCKER_HOST:-unix:///var/run/docker.sock}}" ;;
  "minikube -p minikube service fixture-web -n fixture --url") echo "http://192.168.49.2:30300" ;;
  *" get --raw /readyz"*) echo ok ;;
  *"get namespace fixture -o json --ignore-not-found")
    if [ -f "$state.label" ]; then echo '{{"metadata":{{"labels":{{"app.kubernetes.io/managed-by":"cargo-xtask"}}}}}}'
    elif [ -f "$state.ns" ]; then echo '{{"metadata":{{"labels":{{}}}}}}'; fi ;;
  *"create namespace fixture") touch "$state.ns" ;;
  *"label namespace fixture app.kubernetes.io/managed-by=cargo-xtask"*) touch "$state.label" ;;
  *"delete namespace fixture"*) rm -f "$state.ns" "$state.label" ;;
  helm*" uninstall fixture "*) rm -f "$state.rev" ;;
  *"get deployments"*) echo deployment.apps/fixture-web ;;
  *"get nodes -o jsonpath"*) echo "" ;;
  *"get pods"*) echo '{{"items":[{{"status":{{"phase":"Running","conditions":[{{"type":"Ready","status":"True"}}]}}}}]}}' ;;
  "helm version "*) echo v3.22.0 ;;
  helm*" list "*) if [ -f "$state.rev" ]; then echo '[{{"revision":"1","status":"deployed"}}]'; else echo '[]'; fi ;;
  helm*" upgrade --install "*) touch "$state.rev" ;;
esac
exit 0
"#,
        log = log.display(),
        state = f.dir.join("standin-state").display()
    );
    for tool in ["minikube", "kubectl", "helm"] {
        let path = bin.join(tool);
        std::fs::write(&path, &script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (path, log)
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn up_on_minikube_through_recording_standins_is_idempotent() {
    let f = Fixture::new("minikube", "100");
    let (path, log) = standins(&f);

    let out = f.xtask(&["up"], Some(&path));
    assert!(out.status.success());
    let first = std::fs::read_to_string(&log).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("todo-chatbot is up: http://192.168.49.2:30300"), "{stdout}");
    // Builds go into Minikube's Docker, and every cluster call to the profile's context.
    assert!(!calls(&first, "minikube", &["-p", "minikube", "docker-env"]).is_empty(), "{first}");
    let cluster_calls = first.lines().filter(|l| l.starts_with("kubectl ") || l.starts_with("helm "));
    for line in cluster_calls.filter(|l| !l.contains(" version")) {
        assert!(line.contains("context minikube"), "a call outside the profile's context: {line}");
    }
    // The cluster now has the namespace, labelled as `up`'s, and the release, installed from the
    // chart with the environment's values file, waited for, and every Deployment rolled out.
    let state = |what: &str| f.dir.join(format!("standin-state.{what}")).exists();
    assert!(state("ns") && state("label") && state("rev"), "{first}");
    let chart = f.dir.join("chart").display().to_string();
    let values = f.dir.join("values-dev.yaml").display().to_string();
    assert_eq!(
        calls(&first, "helm", &["upgrade", "--install", "fixture", &chart, &values, "--wait"]).len(),
        1,
        "{first}"
    );
    assert!(!calls(&first, "kubectl", &["rollout", "status", "deployment.apps/fixture-web"]).is_empty(), "{first}");
    assert!(!first.contains("kind load") && !first.contains("image load"), "minikube loads nothing: {first}");
    // The generated values carry the app image's content-hash tag.
    let generated: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.dir.join("target/xtask/values-minikube.json")).unwrap())
            .unwrap();
    let built = f.report("up");
    let app = built["images"].as_array().unwrap().iter().find(|i| i["key"] == "app").unwrap();
    assert_eq!(
        format!(
            "{}:{}",
            generated["app"]["image"]["repository"].as_str().unwrap(),
            generated["app"]["image"]["tag"].as_str().unwrap()
        ),
        app["reference"].as_str().unwrap()
    );
    // The secrets file helm read is gone.
    assert!(std::fs::read_dir(f.dir.join("target/xtask")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("secrets-")));

    // Second `up`, nothing changed: no build, no helm upgrade.
    std::fs::write(&log, "").unwrap();
    let out = f.xtask(&["up"], Some(&path));
    assert!(out.status.success());
    let second = std::fs::read_to_string(&log).unwrap();
    assert!(!second.contains("upgrade --install"), "{second}");
    let report = f.report("up");
    assert_eq!(report["release"]["action"], "unchanged");
    assert!(report["images"].as_array().unwrap().iter().all(|i| i["action"] == "skipped"), "{report}");

    // `status` compares the running images with the sources (the stand-in's pod runs none).
    let out = f.xtask(&["status"], Some(&path));
    assert!(out.status.success());
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("release fixture in fixture: revision 1, deployed"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.contains(&format!("{}-app:", f.prefix)) && l.contains("built") && l.contains("not running")),
        "{status}"
    );

    // `down --images`: uninstall, delete the namespace `up` created, remove this project's images
    // (and no one else's: the filter is by this infra.toml's repositories).
    std::fs::write(&log, "").unwrap();
    let out = f.xtask(&["down", "--images"], Some(&path));
    assert!(out.status.success());
    let down = std::fs::read_to_string(&log).unwrap();
    assert!(!state("rev"), "the release is uninstalled: {down}");
    assert!(!state("ns") && !state("label"), "the namespace `up` created is deleted: {down}");
    let left = Command::new("docker").args(["image", "ls", "--format", "{{.Repository}}"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&left.stdout).lines().any(|l| l.starts_with(&f.prefix)), "images left");
}

/// The values `up` generates (image tags, env `set`) must satisfy the real chart's schema.
#[test]
#[ignore = "needs helm: run by `cargo xtask test --tier images`"]
fn generated_values_render_with_the_real_chart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let home = std::env::var("HOME").unwrap();
    let helm = [format!("{home}/.cache/todo-chatbot/bin/helm"), "helm".into()]
        .into_iter()
        .find(|h| Command::new(h).arg("version").output().is_ok_and(|o| o.status.success()))
        .expect("helm not found (go install helm.sh/helm/v3/cmd/helm@v3.22.0 with GOBIN=~/.cache/todo-chatbot/bin)");
    let dir = std::env::temp_dir().join(format!("xtask-it-{}-helm", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let values = dir.join("values.json");
    // What `up` writes for the real infra.toml: repositories, content-hash tags, secrets.
    std::fs::write(
        &values,
        r#"{"backend":{"image":{"repository":"todo-backend","tag":"0123456789ab"}},
            "frontend":{"image":{"repository":"todo-frontend","tag":"ba9876543210"}},
            "secrets":{"betterAuthSecret":"x"}}"#,
    )
    .unwrap();
    let out = Command::new(&helm)
        .current_dir(root)
        .args(["template", "todo-chatbot", "helm/todo-chatbot", "--namespace", "todo-chatbot"])
        .args(["--values", "helm/todo-chatbot/values-dev.yaml", "--values"])
        .arg(&values)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let manifests = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        manifests.contains("image: \"todo-backend:0123456789ab\"")
            || manifests.contains("image: todo-backend:0123456789ab"),
        "{manifests}"
    );
    assert!(manifests.contains("todo-frontend:ba9876543210"));
    assert!(manifests.contains("name: todo-chatbot-frontend"), "the entrypoint Service of infra.toml exists");
    assert!(manifests.contains("name: todo-chatbot-backend"));
}

/// `render` of the production-shaped environment prints the real chart's manifests with the
/// generated tags, and no secret it was given, in any form, in any place; of the development
/// one, the secrets the chart generates hidden.
#[test]
#[ignore = "needs helm: run by `cargo xtask test --tier images`"]
fn render_prints_the_manifests_and_never_a_secret() {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("xtask-it-{}-render", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secrets = [
        ("BETTER_AUTH_SECRET", "render-auth-secret-7f3a9c1e"),
        ("DATABASE_URL", "postgresql://todo:pw-5d2b8e4f61@db.example.com/todo"),
        ("OPENAI_API_KEY", "sk-render-test-0a1b2c3d4e"),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--config")
        .arg(root.join("infra.toml"))
        .args(["render", "--env", "kube"])
        .envs(secrets)
        .env("XTASK_DIR", &dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for (_, value) in secrets {
        for form in [value.to_owned(), STANDARD.encode(value), "pw-5d2b8e4f61".to_owned()] {
            assert!(!stdout.contains(&form) && !stderr.contains(&form), "{form} printed:\n{stdout}");
        }
    }
    for key in ["BETTER_AUTH_SECRET", "DATABASE_URL", "OPENAI_API_KEY"] {
        assert!(stdout.contains(&format!("  {key}: <redacted>")), "{key} not shown redacted:\n{stdout}");
    }
    // The manifests themselves: the Deployments run the images at their content-hash tags.
    assert!(stdout.contains("kind: Deployment") && stdout.contains("name: todo-chatbot-backend"), "{stdout}");
    let tag =
        |line: &str| line.trim().trim_start_matches("image: ").trim_matches('"').rsplit_once(':').map(|(_, t)| t.len());
    let images: Vec<&str> = stdout.lines().filter(|l| l.trim().starts_with("image:") && l.contains("todo-")).collect();
    assert!(!images.is_empty() && images.iter().all(|l| tag(l) == Some(12)), "{images:?}");

    // A registry environment: the images named for the registry, by tag, with the pull secret;
    // no credentials anywhere and the registry never asked, and the missing digest said.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--config")
        .arg(root.join("infra.toml"))
        .args(["render", "--env", "cloud"])
        .envs(secrets)
        .env("XTASK_DIR", &dir)
        .env("DOCKER_CONFIG", &dir)
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let images: Vec<&str> = stdout.lines().filter(|l| l.trim().starts_with("image:") && l.contains("todo-")).collect();
    assert!(
        !images.is_empty() && images.iter().all(|l| l.contains("ghcr.io/acme/todo-") && tag(l) == Some(12)),
        "{images:?}"
    );
    assert!(stdout.contains("- name: ghcr-pull"), "{stdout}");
    assert!(stderr.contains("`up` deploys each as <tag>@sha256:<digest>"), "{stderr}");

    // The dev values: the chart generates the database password and the auth secret.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--config")
        .arg(root.join("infra.toml"))
        .args(["render", "--env", "local"])
        .env("XTASK_DIR", &dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for line in ["  password: <redacted>", "  BETTER_AUTH_SECRET: <redacted>"] {
        assert!(stdout.contains(line), "{line} not in:\n{stdout}");
    }
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn up_on_a_kube_environment_loads_what_the_node_lacks_with_the_load_command() {
    let f = Fixture::new("kube", "100");
    let (path, log) = standins(&f);
    // A load command that records its arguments, and an extra image the chart runs.
    f.write("load.sh", &format!("#!/bin/sh\necho \"load $*\" >> '{}'\n", log.display()));
    std::fs::set_permissions(f.dir.join("load.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let infra = std::fs::read_to_string(f.dir.join("infra.toml")).unwrap();
    let extra = format!("{}-app:extra", f.prefix);
    let infra = infra
        .replace("[release.images]", &format!("extra_images = [\"{extra}\"]\n[release.images]"))
        .replace("default_environment = \"minikube\"", "default_environment = \"cluster\"")
        + "\n[environments.cluster]\ntype = \"kube\"\nload = [\"./load.sh\", \"{images}\"]\nkubeconfig = \"kubeconfig\"\n";
    f.write("infra.toml", &infra);
    f.write("kubeconfig", "");
    // The extra image exists in the engine (a tag of a fixture image, built first).
    assert!(f.xtask(&["build"], None).status.success());
    let app = f.report("build")["images"][1]["reference"].as_str().unwrap().to_owned();
    assert!(Command::new("docker").args(["tag", &app, &extra]).status().unwrap().success());

    let out = f.xtask(&["up"], Some(&path));
    assert!(out.status.success());
    let recorded = std::fs::read_to_string(&log).unwrap();
    let kubeconfig = f.dir.join("kubeconfig");
    // What the node has is asked of the environment's cluster.
    assert!(
        !calls(&recorded, "kubectl", &["--kubeconfig", kubeconfig.to_str().unwrap(), "get", "nodes"]).is_empty(),
        "{recorded}"
    );
    let load = recorded.lines().find(|l| l.starts_with("load ")).expect("the load command ran");
    let report = f.report("up");
    let refs: Vec<&str> =
        report["images"].as_array().unwrap().iter().map(|i| i["reference"].as_str().unwrap()).collect();
    assert_eq!(load, format!("load {} {extra}", refs.join(" ")), "all images, ours then the extra ones, in one run");
    assert!(report["images"].as_array().unwrap().iter().all(|i| i["loaded"] == true));
    // Port-forward is how this environment is reached.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "kubectl --kubeconfig {} -n fixture port-forward svc/fixture-web 3000:3000",
            kubeconfig.display()
        )),
        "{stdout}"
    );
}

/// The files of an image, as `docker export` lists them.
fn image_files(reference: &str) -> Vec<String> {
    let container = Command::new("docker").args(["create", reference, "x"]).output().unwrap();
    assert!(container.status.success(), "{}", String::from_utf8_lossy(&container.stderr));
    let id = String::from_utf8_lossy(&container.stdout).trim().to_owned();
    let export = Command::new("sh").arg("-c").arg(format!("docker export {id} | tar -t")).output().unwrap();
    let _ = Command::new("docker").args(["rm", &id]).output();
    String::from_utf8_lossy(&export.stdout).lines().map(|l| l.trim_end_matches('/').to_owned()).collect()
}

/// One file of an image.
fn image_file(reference: &str, path: &str) -> String {
    let container = Command::new("docker").args(["create", reference, "x"]).output().unwrap();
    let id = String::from_utf8_lossy(&container.stdout).trim().to_owned();
    let copied = Command::new("sh").arg("-c").arg(format!("docker cp {id}:{path} - | tar -xO")).output().unwrap();
    let _ = Command::new("docker").args(["rm", &id]).output();
    String::from_utf8_lossy(&copied.stdout).into_owned()
}

/// A `docker` first on PATH that runs the real one; for `docker build` it runs the shell
/// commands `before` first and `after` once the real build is done. Returns the PATH.
fn docker_shim(f: &Fixture, before: &str, after: &str) -> String {
    let real = Command::new("sh").args(["-c", "command -v docker"]).output().unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_owned();
    let bin = f.dir.join("shim");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\nreal='{real}'\nif [ \"$1\" = build ]; then\n{before}\n\"$real\" \"$@\"; rc=$?\n{after}\nexit $rc\nfi\nexec \"$real\" \"$@\"\n"
    );
    let path = bin.join("docker");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

/// The reference the last build of `key` reported.
fn built_reference(f: &Fixture, key: &str) -> String {
    let report = f.report("build");
    let image = report["images"].as_array().unwrap().iter().find(|i| i["key"] == key).unwrap();
    image["reference"].as_str().unwrap().to_owned()
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn a_file_saved_during_a_build_that_pulled_its_base_is_rebuilt_next_time() {
    let f = Fixture::new("pulled", "100");
    assert!(f.xtask(&["build", "other"], None).status.success());
    let other = built_reference(&f, "other");
    let p = f.prefix.clone();
    let infra = std::fs::read_to_string(f.dir.join("infra.toml")).unwrap();
    f.write("infra.toml", &format!("{infra}\n[images.solo]\nname = \"{p}-solo\"\ncontext = \"solo\"\n"));
    f.write("solo/Dockerfile", &format!("FROM {p}-pulled:1\nCOPY . /solo/\n"));
    f.write("solo/main.txt", "v1\n");
    f.write("edit-once", "");
    // The base is absent until the build "pulls" it; after the build (once) a file is saved.
    let dir = f.dir.display();
    let path = docker_shim(
        &f,
        &format!("\"$real\" image inspect {p}-pulled:1 >/dev/null 2>&1 || \"$real\" tag {other} {p}-pulled:1"),
        &format!("if [ -f '{dir}/edit-once' ]; then echo v2 >> '{dir}/solo/main.txt'; rm '{dir}/edit-once'; fi"),
    );
    assert!(f.xtask(&["build", "solo"], Some(&path)).status.success());
    assert_eq!(f.actions(), pairs(&[("solo", "built")]));
    let first = built_reference(&f, "solo");
    assert_eq!(image_file(&first, "/solo/main.txt"), "v1\n", "the first build read the file before the edit");

    // The edit came after Docker read the context: the next build must build it.
    assert!(f.xtask(&["build", "solo"], Some(&path)).status.success());
    assert_eq!(f.actions(), pairs(&[("solo", "built")]), "the saved file must not be taken as built");
    let second = built_reference(&f, "solo");
    assert_ne!(second, first);
    assert_eq!(image_file(&second, "/solo/main.txt"), "v1\nv2\n");

    // The tag carries the pulled base's real ID: with nothing changed, nothing is built.
    assert!(f.xtask(&["build", "solo"], Some(&path)).status.success());
    assert_eq!(f.actions(), pairs(&[("solo", "skipped")]));
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn a_file_saved_after_hashing_is_not_built_under_the_old_hash() {
    let f = Fixture::new("window", "100");
    f.write("edit-once", "");
    // Saved between xtask's hashing and Docker reading the context.
    let dir = f.dir.display();
    let before =
        format!("if [ -f '{dir}/edit-once' ]; then echo edited > '{dir}/other/data.txt'; rm '{dir}/edit-once'; fi");
    let path = docker_shim(&f, &before, "");
    assert!(f.xtask(&["build", "other"], Some(&path)).status.success());
    let hashed = built_reference(&f, "other");
    assert_eq!(image_file(&hashed, "/other/data.txt"), "other\n", "the image holds what its tag's hash covers");

    // The edit is seen and built; reverting it finds the first image, which holds the old text.
    assert!(f.xtask(&["build", "other"], Some(&path)).status.success());
    assert_eq!(f.actions(), pairs(&[("other", "built")]));
    assert_eq!(image_file(&built_reference(&f, "other"), "/other/data.txt"), "edited\n");
    f.write("other/data.txt", "other\n");
    assert!(f.xtask(&["build", "other"], Some(&path)).status.success());
    assert_eq!(f.actions(), pairs(&[("other", "skipped")]));
    assert_eq!(image_file(&built_reference(&f, "other"), "/other/data.txt"), "other\n");
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn the_image_holds_exactly_what_the_ignore_rules_keep_with_any_builder() {
    let f = Fixture::new("ignore", "100");
    // The Dockerfile's own ignore file wins over the context's (BuildKit's rule; the legacy
    // builder alone would read only .dockerignore).
    f.write("other/.dockerignore", "a.txt\n");
    f.write("other/Dockerfile.dockerignore", "b.txt\n");
    f.write("other/a.txt", "a\n");
    f.write("other/b.txt", "b\n");
    // An ignore file that excludes the Dockerfile and itself: neither reaches the image.
    f.write("base/.dockerignore", "Dockerfile\n.dockerignore\n*.log\n");
    f.write("base/x.log", "log\n");
    assert!(f.xtask(&["build"], None).status.success());
    let other = image_files(&built_reference(&f, "other"));
    for kept in ["other/a.txt", "other/data.txt", "other/.dockerignore", "other/Dockerfile"] {
        assert!(other.iter().any(|p| p == kept), "{kept} missing: {other:?}");
    }
    assert!(!other.iter().any(|p| p == "other/b.txt"), "b.txt is ignored: {other:?}");
    let base = image_files(&built_reference(&f, "base"));
    let base: Vec<&String> = base.iter().filter(|p| p.starts_with("base/")).collect();
    assert_eq!(base, ["base/lib.txt"], "only lib.txt is kept");
}

/// A fixture of `images` (key, Dockerfile, depends_on) and nothing else: no release, one
/// environment.
fn images_fixture(name: &str, images: &[(&str, &str, &[&str])]) -> Fixture {
    let prefix = format!("xtask-it-{}-{name}", std::process::id());
    let dir = std::env::temp_dir().join(&prefix);
    let _ = std::fs::remove_dir_all(&dir);
    let f = Fixture { dir, prefix };
    let mut toml = String::from("default_environment = \"minikube\"\n");
    for (key, dockerfile, depends_on) in images {
        f.write(&format!("{key}/Dockerfile"), dockerfile);
        f.write(&format!("{key}/{key}.txt"), &format!("{} {:?}", f.prefix, std::time::SystemTime::now()));
        let deps: Vec<String> = depends_on.iter().map(|d| format!("\"{d}\"")).collect();
        toml.push_str(&format!(
            "[images.{key}]\nname = \"{}-{key}\"\ncontext = \"{key}\"\ndepends_on = [{}]\n",
            f.prefix,
            deps.join(", ")
        ));
        if let Some(dep) = depends_on.first() {
            toml.push_str(&format!("build_args = {{ BASE = \"{{images.{dep}}}\" }}\n"));
        }
    }
    toml.push_str(
        "[release]\nname = \"fixture\"\nnamespace = \"fixture\"\nchart = \"chart\"\n\
         entrypoint = { service = \"fixture-web\", port = 3000 }\n\
         [environments.minikube]\ntype = \"minikube\"\n",
    );
    f.write("chart/Chart.yaml", "apiVersion: v2\nname: fixture\nversion: 0.1.0\n");
    f.write("infra.toml", &toml);
    f
}

/// Build steps that take seconds and say, inside the image, when they ran. The context (unique
/// to the run) comes first, so Docker's layer cache can't answer for them.
const SLOW_STEPS: &str = "COPY . /context/\nRUN date +%s.%N > /started && sleep 5 && date +%s.%N > /finished\n";

fn slow() -> String {
    format!("FROM python:3.13-slim\n{SLOW_STEPS}")
}

fn ran(f: &Fixture, key: &str) -> (f64, f64) {
    let reference = built_reference(f, key);
    let at = |path: &str| image_file(&reference, path).trim().parse::<f64>().unwrap();
    (at("/started"), at("/finished"))
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn independent_images_build_at_the_same_time_and_a_dependent_after_its_base() {
    let f = images_fixture(
        "parallel",
        &[
            ("one", &slow(), &[]),
            ("two", &slow(), &[]),
            ("three", &format!("ARG BASE\nFROM ${{BASE}}\n{SLOW_STEPS}"), &["one"]),
        ],
    );
    assert!(f.xtask(&["build"], None).status.success());
    let mut actions = f.actions();
    actions.sort();
    assert_eq!(actions, pairs(&[("one", "built"), ("three", "built"), ("two", "built")]));
    let (one, two, three) = (ran(&f, "one"), ran(&f, "two"), ran(&f, "three"));
    assert!(one.0 < two.1 && two.0 < one.1, "one {one:?} and two {two:?} did not overlap");
    assert!(three.0 > one.1, "three {three:?} started before its base one {one:?} was built");
}

#[test]
#[ignore = "needs a Docker engine: run by `cargo xtask test --tier images`"]
fn a_failing_image_stops_its_dependents_and_no_other() {
    let f = images_fixture(
        "failing",
        &[
            ("broken", "FROM scratch\nCOPY missing.txt /\n", &[]),
            ("needs-broken", "ARG BASE\nFROM ${BASE}\nCOPY . /\n", &["broken"]),
            ("slow", &slow(), &[]),
        ],
    );
    let out = f.xtask(&["build"], None);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("building image `broken` failed"), "{said}");
    assert!(
        said.contains("not built, because an image they depend on failed: `needs-broken` (it depends on `broken`)"),
        "{said}"
    );
    assert_eq!(f.actions(), pairs(&[("broken", "failed"), ("needs-broken", "not built"), ("slow", "built")]));
    let local = Command::new("docker").args(["image", "ls", "--format", "{{.Repository}}"]).output().unwrap();
    let local = String::from_utf8_lossy(&local.stdout);
    assert!(local.lines().any(|l| l == format!("{}-slow", f.prefix)), "{local}");
    assert!(!local.lines().any(|l| l.contains("needs-broken")), "{local}");
    // The next build skips what was built and tries the rest again.
    f.write("broken/missing.txt", "here now\n");
    assert!(f.xtask(&["build"], None).status.success());
    assert_eq!(f.actions(), pairs(&[("broken", "built"), ("needs-broken", "built"), ("slow", "skipped")]));
}
