//! Registry credentials, never from infra.toml and never printed: `XTASK_REGISTRY_USERNAME` and
//! `XTASK_REGISTRY_PASSWORD` when both are set, else Docker's config (`$DOCKER_CONFIG/config.json`,
//! else `~/.docker/config.json`) as `docker login` leaves it: a credential helper (`credHelpers`
//! for the host, else `credsStore`) or the base64 `user:password` of `auths`.

use std::{
    fmt,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
};

use anyhow::{bail, Context, Result};
use base64::{engine::general_purpose::STANDARD, Engine};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{json, Value};

use crate::process;

pub const USERNAME_VAR: &str = "XTASK_REGISTRY_USERNAME";
pub const PASSWORD_VAR: &str = "XTASK_REGISTRY_PASSWORD";

pub struct Credentials {
    pub username: String,
    password: String,
    /// Where they came from, for messages: the variables, or the config file.
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Environment,
    DockerConfig(Utf8PathBuf),
    Helper(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Environment => write!(f, "{USERNAME_VAR}/{PASSWORD_VAR}"),
            Source::DockerConfig(path) => write!(f, "{path}"),
            Source::Helper(name) => write!(f, "docker-credential-{name}"),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ username: {:?}, password: ***, source: {} }}", self.username, self.source)
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic …` header.
    pub fn basic(&self) -> String {
        format!("Basic {}", STANDARD.encode(format!("{}:{}", self.username, self.password)))
    }

    /// What to do when the registry refuses them.
    pub fn fix(&self, host: &str) -> String {
        match &self.source {
            Source::Environment => format!("set {PASSWORD_VAR} (and {USERNAME_VAR}) to a login {host} accepts"),
            _ => format!("run `docker login {host}` with the right password (it updates {}), or set {USERNAME_VAR} and {PASSWORD_VAR}", self.source),
        }
    }
}

/// The key Docker files a registry's credentials under.
fn server_url(host: &str) -> &str {
    if host == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        host
    }
}

/// The credentials for `host`, from the environment, else Docker's config; `None` when neither
/// has any (anonymous access).
pub fn find(host: &str) -> Result<Option<Credentials>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    from_sources(host, &env, docker_config_dir().map(|d| d.join("config.json")).as_deref(), &|name| {
        format!("docker-credential-{name}")
    })
}

fn docker_config_dir() -> Option<Utf8PathBuf> {
    match std::env::var("DOCKER_CONFIG") {
        Ok(dir) if !dir.is_empty() => Some(dir.into()),
        _ => std::env::var("HOME").ok().map(|home| Utf8PathBuf::from(home).join(".docker")),
    }
}

fn from_sources(
    host: &str,
    env: &dyn Fn(&str) -> Option<String>,
    config: Option<&Utf8Path>,
    helper_program: &dyn Fn(&str) -> String,
) -> Result<Option<Credentials>> {
    match (env(USERNAME_VAR), env(PASSWORD_VAR)) {
        (Some(username), Some(password)) => {
            return Ok(Some(Credentials { username, password, source: Source::Environment }))
        }
        (None, None) => {}
        _ => bail!("set both {USERNAME_VAR} and {PASSWORD_VAR}, or neither (then Docker's config is read)"),
    }
    let Some(path) = config else { return Ok(None) };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot read {path}")),
    };
    let json: Value = serde_json::from_str(&text)
        .with_context(|| format!("{path} is not valid JSON: fix it, or move it away and `docker login` again"))?;
    if let Some(helper) = json["credHelpers"][host].as_str() {
        return from_helper(&helper_program(helper), helper, host);
    }
    let entry = json["auths"].as_object().and_then(|auths| {
        auths.iter().find(|(key, _)| key_host(key) == key_host(server_url(host))).map(|(_, entry)| entry)
    });
    if let Some(entry) = entry {
        let source = Source::DockerConfig(path.to_owned());
        if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
            let decoded = STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .with_context(|| format!("the `auth` of {host} in {path} is not base64 of user:password: run `docker login {host}` again"))?;
            let Some((username, password)) = decoded.split_once(':') else {
                bail!("the `auth` of {host} in {path} is not base64 of user:password: run `docker login {host}` again");
            };
            return Ok(Some(Credentials { username: username.into(), password: password.into(), source }));
        }
        if let (Some(username), Some(password)) = (entry["username"].as_str(), entry["password"].as_str()) {
            return Ok(Some(Credentials { username: username.into(), password: password.into(), source }));
        }
    }
    if let Some(store) = json["credsStore"].as_str().filter(|s| !s.is_empty()) {
        return from_helper(&helper_program(store), store, host);
    }
    Ok(None)
}

/// `https://ghcr.io/v1/` and `ghcr.io` are the same key to Docker.
fn key_host(key: &str) -> &str {
    let key = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// The credential helper protocol: the server URL on stdin of `<program> get`, JSON with
/// `Username` and `Secret` on stdout; "not found" is no credentials.
fn from_helper(program: &str, name: &str, host: &str) -> Result<Option<Credentials>> {
    let mut cmd = Command::new(program);
    cmd.arg("get");
    let out = process::read_with_input(&mut cmd, server_url(host).as_bytes())
        .with_context(|| format!("Docker's config names the credential helper `{name}` for {host}: install {program}, or set {USERNAME_VAR} and {PASSWORD_VAR}"));
    let out = match out {
        Ok(out) => out,
        Err(err) if format!("{err:#}").contains("credentials not found") => return Ok(None),
        Err(err) => return Err(err),
    };
    let json: Value = serde_json::from_str(&out).with_context(|| format!("{program} get did not print JSON"))?;
    match (json["Username"].as_str(), json["Secret"].as_str()) {
        (Some(username), Some(secret)) => Ok(Some(Credentials {
            username: username.into(),
            password: secret.into(),
            source: Source::Helper(name.into()),
        })),
        _ => bail!("{program} get printed no Username and Secret for {host}"),
    }
}

/// A Docker config directory with only these credentials, for `docker push` when they came from
/// the environment (Docker reads only its config). Mode 0700/0600, removed when dropped.
pub struct PushConfig {
    pub dir: Utf8PathBuf,
}

impl PushConfig {
    pub fn write(credentials: &Credentials, host: &str) -> Result<PushConfig> {
        // One per push: images are pushed at the same time.
        static PUSHES: AtomicUsize = AtomicUsize::new(0);
        let push = PUSHES.fetch_add(1, Ordering::Relaxed);
        let base = Utf8PathBuf::from_path_buf(std::env::temp_dir()).unwrap_or_else(|_| "/tmp".into());
        let dir = base.join(format!("xtask-docker-config-{}-{push}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir).with_context(|| format!("cannot create {dir}"))?;
        let config = PushConfig { dir };
        let basic = credentials.basic();
        let auth = basic.trim_start_matches("Basic ");
        let text = json!({ "auths": { server_url(host): { "auth": auth } } }).to_string();
        let path = config.dir.join("config.json");
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        file.write_all(text.as_bytes())?;
        Ok(config)
    }
}

impl Drop for PushConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn program(name: &str) -> String {
        format!("docker-credential-{name}")
    }

    #[test]
    fn docker_configs_auths_entry_is_base64_user_colon_password() {
        let dir = TempDir::new();
        // `docker login` writes the host as the key; older Dockers wrote a URL.
        let auth = STANDARD.encode("alice:s3cr:et");
        dir.write("config.json", &format!(r#"{{"auths": {{"https://ghcr.io/v1/": {{"auth": "{auth}"}}}}}}"#));
        let found = from_sources("ghcr.io", &none, Some(&dir.join("config.json")), &program).unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("alice", "s3cr:et"));
        assert_eq!(found.source, Source::DockerConfig(dir.join("config.json")));
        assert!(!format!("{found:?}").contains("s3cr"), "{found:?}");
        // Another host has none: anonymous.
        assert!(from_sources("quay.io", &none, Some(&dir.join("config.json")), &program).unwrap().is_none());
        // No config at all: anonymous too.
        assert!(from_sources("ghcr.io", &none, Some(&dir.join("missing.json")), &program).unwrap().is_none());
    }

    #[test]
    fn the_environment_wins_and_half_of_it_is_an_error() {
        let dir = TempDir::new();
        dir.write("config.json", &format!(r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#, STANDARD.encode("a:b")));
        let env = |name: &str| match name {
            USERNAME_VAR => Some("ci".to_owned()),
            PASSWORD_VAR => Some("token".to_owned()),
            _ => None,
        };
        let found = from_sources("ghcr.io", &env, Some(&dir.join("config.json")), &program).unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.source.clone()), ("ci", Source::Environment));
        let half = |name: &str| (name == USERNAME_VAR).then(|| "ci".to_owned());
        let err = from_sources("ghcr.io", &half, None, &program).unwrap_err().to_string();
        assert!(err.contains("set both XTASK_REGISTRY_USERNAME and XTASK_REGISTRY_PASSWORD"), "{err}");
    }

    #[test]
    fn a_credential_helper_is_asked_with_the_server_url_on_stdin() {
        let dir = TempDir::new();
        // A helper as Docker's protocol defines it: reads the server URL, answers JSON.
        dir.write(
            "helper",
            "#!/bin/sh\nread url\n[ \"$1\" = get ] || exit 2\n\
             [ \"$url\" = ghcr.io ] && echo '{\"ServerURL\":\"ghcr.io\",\"Username\":\"bob\",\"Secret\":\"pat\"}' && exit 0\n\
             echo 'credentials not found in native keychain'; exit 1\n",
        );
        dir.chmod("helper", 0o755);
        dir.write("config.json", r#"{"auths": {"ghcr.io": {}}, "credsStore": "desktop"}"#);
        let helper = dir.join("helper").to_string();
        let via = |_: &str| helper.clone();
        let found = from_sources("ghcr.io", &none, Some(&dir.join("config.json")), &via).unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("bob", "pat"));
        assert_eq!(found.source, Source::Helper("desktop".into()));
        assert!(from_sources("quay.io", &none, Some(&dir.join("config.json")), &via).unwrap().is_none());
    }

    #[test]
    fn a_push_config_holds_only_these_credentials_privately_and_goes_away() {
        let credentials = Credentials { username: "ci".into(), password: "token".into(), source: Source::Environment };
        let config = PushConfig::write(&credentials, "127.0.0.1:5000").unwrap();
        let path = config.dir.join("config.json");
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["auths"]["127.0.0.1:5000"]["auth"], STANDARD.encode("ci:token"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let dir = config.dir.clone();
        drop(config);
        assert!(!dir.exists());
    }
}
