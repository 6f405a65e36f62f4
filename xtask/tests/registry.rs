//! The registry environment against a real OCI registry: distribution v3 (the Go module
//! `github.com/distribution/distribution/v3`, built once into `~/.cache/todo-chatbot/registry`),
//! run on 127.0.0.1 with and without basic auth (htpasswd, bcrypt), and a real Docker engine.
//!
//! - a second machine (fresh state and cache, none of the images in its Docker) skips the build
//!   because the registry has the tag, with the hash label checked;
//! - a tag holding other content (another hash label) is not trusted: rebuilt, pushed, and said so;
//! - no credentials, or a wrong password, fail with a message naming the fix, and no password
//!   reaches the output (`--verbose` too) or the report.
//!
//! `#[ignore]`d in a plain `cargo test`; run by `cargo xtask test --tier registry`, which starts
//! only when `docker info` answers. Without an engine or Go they fail rather than pass.

mod common;

use common::{pairs, write};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

const DISTRIBUTION: &str = "github.com/distribution/distribution/v3";
const VERSION: &str = "v3.1.2";

/// The account of the registry with basic auth, and its htpasswd line: bcrypt (cost 4) of the
/// password, as `htpasswd -nbB -C 4 alice correct-horse-battery` prints it.
const USER: &str = "alice";
const PASSWORD: &str = "correct-horse-battery";
const HTPASSWD: &str = "alice:$2b$04$z55MJuRHesPtp91YPY2F8e5zDPiW1oV/QO77rPtLoaHU5eaE/IXxK";

fn cache() -> PathBuf {
    match std::env::var("TODO_CHATBOT_CACHE") {
        Ok(dir) if !dir.is_empty() => dir.into(),
        _ => Path::new(&std::env::var("HOME").unwrap()).join(".cache/todo-chatbot"),
    }
}

/// The registry binary, built from the Go module proxy on first use (by one test at a time).
fn registry_binary() -> PathBuf {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = cache().join(format!("registry/{VERSION}"));
    let binary = dir.join("registry");
    if !binary.exists() {
        eprintln!("building {DISTRIBUTION}/cmd/registry@{VERSION} into {}", dir.display());
        let status = Command::new("go")
            .args(["install", &format!("{DISTRIBUTION}/cmd/registry@{VERSION}")])
            .env("GOBIN", &dir)
            .status()
            .expect("`go` is needed to build the registry");
        assert!(status.success(), "go install of the registry failed");
    }
    binary
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-reg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// distribution's `registry serve` on a free loopback port, storage in a scratch directory.
struct Registry {
    child: Child,
    host: String,
    dir: PathBuf,
}

impl Registry {
    /// With `htpasswd`, only its accounts may pull and push.
    fn start(name: &str, htpasswd: Option<&str>) -> Registry {
        let binary = registry_binary();
        let dir = scratch(&format!("registry-{name}"));
        let port = free_port();
        let auth = match htpasswd {
            Some(line) => {
                write(&dir.join("htpasswd"), &format!("{line}\n"));
                format!("auth:\n  htpasswd:\n    realm: xtask-test\n    path: {}\n", dir.join("htpasswd").display())
            }
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: xtask-test\n{auth}",
            dir.join("data").display()
        );
        write(&dir.join("config.yml"), &config);
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new(binary)
            .args(["serve", dir.join("config.yml").to_str().unwrap()])
            // Tracing stays off: nothing is exported anywhere.
            .env("OTEL_TRACES_EXPORTER", "none")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let registry = Registry { child, host: format!("127.0.0.1:{port}"), dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&registry.host).is_err() {
            assert!(Instant::now() < deadline, "the registry did not listen: {}", registry.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A project of two images (`app` FROM `base`) whose environment `reg` names the registry. Each
/// "machine" has its own state, cache and Docker config.
struct Project {
    dir: PathBuf,
    prefix: String,
}

impl Project {
    fn new(name: &str, registry: &str) -> Project {
        let dir = scratch(name);
        let prefix = format!("xtask-reg-{}-{name}", std::process::id());
        let p = Project { dir, prefix };
        let images = common::two_images(&p.dir, &p.prefix);
        write(
            &p.dir.join("infra.toml"),
            &format!(
                r#"default_environment = "reg"
{images}
[environments.reg]
type = "kube"
registry = "{registry}/it"
pull_secret = "it-pull"
"#
            ),
        );
        p
    }

    /// `cargo xtask --config <project> ARGS` as machine `machine`, with `env` set.
    fn xtask(&self, machine: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let home = self.dir.join(format!("machine-{machine}"));
        std::fs::create_dir_all(home.join("docker")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--config").arg(self.dir.join("infra.toml")).args(args);
        cmd.env("XTASK_DIR", home.join("xtask"))
            .env("TODO_CHATBOT_CACHE", home.join("cache"))
            .env("DOCKER_CONFIG", home.join("docker"))
            .env_remove("XTASK_ENV")
            .env_remove("XTASK_REGISTRY_USERNAME")
            .env_remove("XTASK_REGISTRY_PASSWORD")
            .envs(env.iter().copied());
        common::output(&mut cmd, &format!("[{machine}] xtask {}", args.join(" ")))
    }

    /// `docker login` as the user would have done it on `machine`: `auths` in its config.
    fn login(&self, machine: &str, host: &str, user: &str, password: &str) {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let config = self.dir.join(format!("machine-{machine}/docker/config.json"));
        write(&config, &format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#));
    }

    fn report(&self, machine: &str) -> serde_json::Value {
        let path = self.dir.join(format!("machine-{machine}/xtask/report-build.json"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// `key → action` of `machine`'s last build.
    fn actions(&self, machine: &str) -> Vec<(String, String)> {
        common::actions(&self.report(machine))
    }

    fn image(&self, machine: &str, key: &str) -> serde_json::Value {
        let report = self.report(machine);
        report["images"].as_array().unwrap().iter().find(|i| i["key"] == key).unwrap().clone()
    }

    /// Every tag of ours in the Docker engine.
    fn local_images(&self) -> Vec<String> {
        let out =
            Command::new("docker").args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains(&self.prefix)).map(str::to_owned).collect()
    }

    /// What a second machine's Docker holds of ours: nothing.
    fn remove_local_images(&self) {
        let ours = self.local_images();
        if !ours.is_empty() {
            let out = Command::new("docker").args(["image", "rm", "--force"]).args(&ours).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(self.local_images().is_empty());
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        self.remove_local_images();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
#[ignore = "needs a Docker engine and Go: run by `cargo xtask test --tier registry`"]
fn a_second_machine_skips_what_the_registry_has_and_distrusts_other_content() {
    let registry = Registry::start("open", None);
    let p = Project::new("open", &registry.host);

    // Machine A builds both images and pushes them.
    assert!(p.xtask("a", &["build", "--env", "reg"], &[]).status.success(), "{}", registry.log());
    assert_eq!(p.actions("a"), pairs(&[("base", "built"), ("app", "built")]));
    let app = p.image("a", "app");
    let reference = app["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with(&format!("{}/it/{}-app:", registry.host, p.prefix)), "{reference}");
    assert_eq!(app["pushed"], true);
    // The digest `up` deploys by is the one the registry gave Docker for the push.
    let repo_digests = Command::new("docker")
        .args(["image", "inspect", "--format", "{{json .RepoDigests}}", &reference])
        .output()
        .unwrap();
    let digest = app["digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:") && String::from_utf8_lossy(&repo_digests.stdout).contains(digest));

    // Machine B: its own state and cache, none of the images in Docker. Nothing is built.
    p.remove_local_images();
    let out = p.xtask("b", &["build", "--env", "reg"], &[]);
    assert!(out.status.success());
    assert_eq!(p.actions("b"), pairs(&[("base", "skipped"), ("app", "skipped")]));
    let reasons = p.image("b", "app")["reasons"].to_string();
    assert!(reasons.contains(&format!("in the registry {} with this hash", registry.host)), "{reasons}");
    assert_eq!(p.image("b", "app")["digest"], digest);
    assert!(p.local_images().is_empty(), "nothing was built or pulled: {:?}", p.local_images());
    let plan = p.xtask("b", &["plan", "--env", "reg"], &[]);
    assert!(text(&plan).contains("skip   app"), "plan agrees");

    // Someone pushes other content under the app's tag (here: a label of another hash).
    let other = p.dir.join("other");
    write(&other.join("Dockerfile"), "FROM scratch\nCOPY . /other/\n");
    write(&other.join("data.txt"), "not the app\n");
    let forged = format!("dev.todo-chatbot.xtask.hash={}", "f".repeat(64));
    let built = Command::new("docker")
        .args(["build", "-q", "--label", &forged, "-t", &reference])
        .arg(&other)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let pushed = Command::new("docker").args(["push", &reference]).output().unwrap();
    assert!(pushed.status.success(), "{}", String::from_utf8_lossy(&pushed.stderr));
    p.remove_local_images();

    let out = p.xtask("b", &["build", "--env", "reg"], &[]);
    assert!(out.status.success());
    assert_eq!(p.actions("b"), pairs(&[("base", "skipped"), ("app", "built")]));
    let reasons = p.image("b", "app")["reasons"].to_string();
    assert!(reasons.contains("is other content") && reasons.contains("not trusted"), "{reasons}");
    assert!(text(&out).contains("not trusted"), "the build says why");
    assert_eq!(p.image("b", "app")["reference"], reference.as_str(), "the same tag, now the right content");

    // The tag is the app again: a third machine trusts and skips it.
    p.remove_local_images();
    assert!(p.xtask("c", &["build", "--env", "reg"], &[]).status.success());
    assert_eq!(p.actions("c"), pairs(&[("base", "skipped"), ("app", "skipped")]));
}

#[test]
#[ignore = "needs a Docker engine and Go: run by `cargo xtask test --tier registry`"]
fn with_basic_auth_credentials_come_from_docker_or_the_environment_and_a_wrong_one_names_the_fix() {
    let (user, password) = (USER, PASSWORD);
    let registry = Registry::start("auth", Some(HTPASSWD));
    let host = registry.host.clone();
    let p = Project::new("auth", &host);

    // No credentials anywhere.
    let out = p.xtask("a", &["build", "--env", "reg"], &[]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains(&format!("the registry {host} asks for credentials")), "{said}");
    assert!(said.contains(&format!("run `docker login {host}`")) && said.contains("XTASK_REGISTRY_PASSWORD"), "{said}");

    // A wrong password in Docker's config: refused, with the fix; the password is never shown.
    p.login("a", &host, user, "wrong-password-123");
    let out = p.xtask("a", &["--verbose", "build", "--env", "reg"], &[]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains(&format!("the registry {host} refused the credentials of `{user}`")), "{said}");
    assert!(said.contains(&format!("run `docker login {host}` with the right password")), "{said}");
    let report = std::fs::read_to_string(p.dir.join("machine-a/xtask/report-build.json")).unwrap();
    for secret in ["wrong-password-123", password] {
        assert!(!said.contains(secret) && !report.contains(secret), "a password was shown");
    }

    // The right one from the environment (machine A has no Docker login): built and pushed,
    // docker push given them through its own private config.
    std::fs::remove_file(p.dir.join("machine-a/docker/config.json")).unwrap();
    let creds = [("XTASK_REGISTRY_USERNAME", user), ("XTASK_REGISTRY_PASSWORD", password)];
    let out = p.xtask("a", &["--verbose", "build", "--env", "reg"], &creds);
    assert!(out.status.success(), "{}", registry.log());
    assert_eq!(p.actions("a"), pairs(&[("base", "built"), ("app", "built")]));
    assert!(!text(&out).contains(password), "--verbose shows no password");
    assert!(!std::fs::read_to_string(p.dir.join("machine-a/xtask/report-build.json")).unwrap().contains(password));

    // Machine B logged in with Docker: it skips both.
    p.remove_local_images();
    p.login("b", &host, user, password);
    assert!(p.xtask("b", &["build", "--env", "reg"], &[]).status.success());
    assert_eq!(p.actions("b"), pairs(&[("base", "skipped"), ("app", "skipped")]));
    assert!(p.local_images().is_empty());
}
