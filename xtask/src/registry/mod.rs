//! An OCI registry as the image cache machines share: is this tag there, and is it really the
//! content its hash names (the `dev.todo-chatbot.xtask.hash` label on the image's config, read
//! from the manifest and config blobs, each checked against its digest)?
//!
//! Spoken over ureq: the Distribution API's manifest HEAD and GETs, with Basic or Bearer-token
//! authentication as the registry's challenge asks. Loopback hosts (`localhost`, `127.x`,
//! `[::1]`) are reached over http, as Docker does; every other host over https.

mod auth;
mod push;
mod store;

use std::{collections::HashMap, sync::Mutex, time::Duration};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use ureq::{http::Response, Body};

pub use self::{
    auth::{Credentials, Source},
    store::RegistryStore,
};
use crate::{
    config::Registry,
    docker::{ImageInfo, LABEL_HASH},
    hash::sha256_hex,
    plan::{short_id, Lookup},
    process,
};

/// What a manifest HEAD accepts: single images (Docker's and OCI's) and multi-platform indexes.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

pub struct Client {
    pub registry: Registry,
    /// `https://ghcr.io`, `http://127.0.0.1:5000`.
    base: String,
    agent: ureq::Agent,
    credentials: Option<Credentials>,
    /// The `Authorization` header per repository, once the registry's challenge was answered.
    authorization: Mutex<HashMap<String, String>>,
}

impl Client {
    pub fn new(registry: &Registry) -> Result<Client> {
        let credentials = auth::find(&registry.host)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .user_agent("cargo-xtask")
            .build()
            .into();
        Ok(Client {
            base: base_url(&registry.host),
            registry: registry.clone(),
            agent,
            credentials,
            authorization: Mutex::default(),
        })
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// What the registry holds under `reference` (`host/namespace/name:tag`), trusted only if
    /// its config's hash label is `hash`.
    pub fn lookup(&self, reference: &str, hash: &str) -> Result<Lookup> {
        let (repository, tag) = self.split(reference)?;
        let head = self.send("HEAD", repository, &format!("manifests/{tag}"), MANIFEST_TYPES)?;
        match head.status().as_u16() {
            200 => {}
            404 => return Ok(Lookup::Absent),
            status => bail!(
                "the registry answered HTTP {status} to HEAD {}",
                self.url(repository, &format!("manifests/{tag}"))
            ),
        }
        let digest = match header(&head, "docker-content-digest") {
            Some(digest) => digest,
            // Not every registry sends it on HEAD: the manifest's own hash is its digest.
            None => format!(
                "sha256:{}",
                sha256_hex(&self.fetch(repository, &format!("manifests/{tag}"), MANIFEST_TYPES, None)?)
            ),
        };
        let mut manifest: Value = serde_json::from_slice(&self.fetch(
            repository,
            &format!("manifests/{digest}"),
            MANIFEST_TYPES,
            Some(&digest),
        )?)
        .with_context(|| format!("the manifest of {reference} is not JSON"))?;
        if let Some(entries) = manifest["manifests"].as_array() {
            let (os, arch) = ("linux", platform_arch());
            let Some(entry) =
                entries.iter().find(|m| m["platform"]["os"] == os && m["platform"]["architecture"] == arch)
            else {
                return Ok(Lookup::Untrusted(format!(
                    "{reference} in the registry has no {os}/{arch} image: building it"
                )));
            };
            let inner = entry["digest"].as_str().context("an index entry without a digest")?.to_owned();
            manifest = serde_json::from_slice(&self.fetch(
                repository,
                &format!("manifests/{inner}"),
                MANIFEST_TYPES,
                Some(&inner),
            )?)?;
        }
        let config_digest = manifest["config"]["digest"]
            .as_str()
            .with_context(|| format!("the manifest of {reference} names no config"))?
            .to_owned();
        let config: Value = serde_json::from_slice(&self.fetch(
            repository,
            &format!("blobs/{config_digest}"),
            "*/*",
            Some(&config_digest),
        )?)
        .with_context(|| format!("the config of {reference} is not JSON"))?;
        Ok(match config["config"]["Labels"][LABEL_HASH].as_str() {
            Some(label) if label == hash => {
                Lookup::Present(ImageInfo { id: config_digest, size_bytes: None, digest: Some(digest) })
            }
            Some(label) => Lookup::Untrusted(format!(
                "{reference} in the registry is other content (its {LABEL_HASH} label is {}…, these sources hash to {}…): not trusted, building it",
                short_id(label),
                short_id(hash)
            )),
            None => Lookup::Untrusted(format!(
                "{reference} in the registry has no {LABEL_HASH} label, so nothing says it is these sources: not trusted, building it"
            )),
        })
    }

    /// `host/namespace/name:tag` → (`namespace/name`, `tag`).
    fn split<'r>(&self, reference: &'r str) -> Result<(&'r str, &'r str)> {
        let rest = reference
            .strip_prefix(&self.registry.host)
            .and_then(|r| r.strip_prefix('/'))
            .with_context(|| format!("{reference} is not in the registry {}", self.registry.host))?;
        rest.rsplit_once(':').with_context(|| format!("{reference} has no tag"))
    }

    fn url(&self, repository: &str, path: &str) -> String {
        format!("{}/v2/{repository}/{path}", self.base)
    }

    /// GET of a manifest or blob; with `digest`, the bytes must hash to it.
    fn fetch(&self, repository: &str, path: &str, accept: &str, digest: Option<&str>) -> Result<Vec<u8>> {
        let mut response = self.send("GET", repository, path, accept)?;
        let url = self.url(repository, path);
        if response.status() != 200 {
            bail!("the registry answered HTTP {} to GET {url}", response.status().as_u16());
        }
        let bytes =
            response.body_mut().with_config().limit(16 << 20).read_to_vec().with_context(|| format!("GET {url}"))?;
        if let Some(digest) = digest {
            let Some(expected) = digest.strip_prefix("sha256:") else { bail!("{url}: digest {digest} is not sha256") };
            if sha256_hex(&bytes) != expected {
                bail!("{url} does not hash to its digest {digest}: the registry (or something between) altered it");
            }
        }
        Ok(bytes)
    }

    /// One request, answering an authentication challenge once per repository.
    fn send(&self, method: &str, repository: &str, path: &str, accept: &str) -> Result<Response<Body>> {
        let url = self.url(repository, path);
        let known = self.authorization.lock().unwrap().get(repository).cloned();
        let response = self.request(method, &url, accept, known.as_deref())?;
        if response.status() != 401 {
            return Ok(response);
        }
        let challenge = header(&response, "www-authenticate").unwrap_or_default();
        let authorization = self.answer(&challenge, repository)?;
        let response = self.request(method, &url, accept, Some(&authorization))?;
        if matches!(response.status().as_u16(), 401 | 403) {
            return Err(self.refused(response.status().as_u16()));
        }
        self.authorization.lock().unwrap().insert(repository.to_owned(), authorization);
        Ok(response)
    }

    fn request(&self, method: &str, url: &str, accept: &str, authorization: Option<&str>) -> Result<Response<Body>> {
        if process::verbose() {
            eprintln!("$ {method} {url}");
        }
        let result = match (method, authorization) {
            ("HEAD", None) => self.agent.head(url).header("Accept", accept).call(),
            ("HEAD", Some(auth)) => self.agent.head(url).header("Accept", accept).header("Authorization", auth).call(),
            (_, None) => self.agent.get(url).header("Accept", accept).call(),
            (_, Some(auth)) => self.agent.get(url).header("Accept", accept).header("Authorization", auth).call(),
        };
        result.with_context(|| {
            format!(
                "cannot reach the registry {} ({url}): is it up, and is `registry` in infra.toml right?",
                self.registry.host
            )
        })
    }

    /// The `Authorization` header a `WWW-Authenticate` challenge asks for.
    fn answer(&self, challenge: &str, repository: &str) -> Result<String> {
        let (scheme, params) = parse_challenge(challenge);
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Ok(self.credentials.as_ref().ok_or_else(|| self.needs_credentials())?.basic()),
            "bearer" => {
                let realm = params.get("realm").context("a Bearer challenge without a realm")?;
                let scope = params.get("scope").cloned().unwrap_or_else(|| format!("repository:{repository}:pull"));
                let mut url = format!("{realm}?scope={}", query_escape(&scope));
                if let Some(service) = params.get("service") {
                    url.push_str(&format!("&service={}", query_escape(service)));
                }
                let basic = self.credentials.as_ref().map(Credentials::basic);
                let mut response = self.request("GET", &url, "application/json", basic.as_deref())?;
                match response.status().as_u16() {
                    200 => {}
                    401 | 403 if self.credentials.is_none() => return Err(self.needs_credentials()),
                    status @ (401 | 403) => return Err(self.refused(status)),
                    status => bail!("the registry's token service answered HTTP {status} ({realm})"),
                }
                let json: Value =
                    response.body_mut().read_json().context("the registry's token service sent no JSON")?;
                let token = json["token"]
                    .as_str()
                    .or(json["access_token"].as_str())
                    .context("the registry's token service sent no token")?;
                Ok(format!("Bearer {token}"))
            }
            _ => bail!(
                "the registry {} asks for `{scheme}` authentication, which xtask does not speak (Basic and Bearer)",
                self.registry.host
            ),
        }
    }

    fn needs_credentials(&self) -> anyhow::Error {
        let host = &self.registry.host;
        anyhow::anyhow!(
            "the registry {host} asks for credentials and none were found: run `docker login {host}`, or set {} and {}",
            auth::USERNAME_VAR,
            auth::PASSWORD_VAR
        )
    }

    fn refused(&self, status: u16) -> anyhow::Error {
        let host = &self.registry.host;
        let credentials = self.credentials.as_ref().expect("refused only after credentials were sent");
        anyhow::anyhow!(
            "the registry {host} refused the credentials of `{}` from {} (HTTP {status}): {}",
            credentials.username,
            credentials.source,
            credentials.fix(host)
        )
    }
}

fn base_url(host: &str) -> String {
    let name =
        host.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(host, |(n, _)| n);
    let loopback = name == "localhost" || name == "[::1]" || name.starts_with("127.");
    match host {
        // Docker Hub's API lives on its own host.
        "docker.io" => "https://registry-1.docker.io".into(),
        _ if loopback => format!("http://{host}"),
        _ => format!("https://{host}"),
    }
}

fn platform_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `Bearer realm="https://…",service="ghcr.io",scope="repository:a/b:pull"` → scheme and params.
fn parse_challenge(challenge: &str) -> (String, HashMap<String, String>) {
    let (scheme, rest) = challenge.trim().split_once(' ').unwrap_or((challenge.trim(), ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        let key: String =
            chars.by_ref().skip_while(|c| *c == ',' || c.is_whitespace()).take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    (scheme.to_owned(), params)
}

fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_plain_http_and_others_https() {
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(base_url("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(base_url("ghcr.io"), "https://ghcr.io");
        assert_eq!(base_url("registry.example.com:8443"), "https://registry.example.com:8443");
        assert_eq!(base_url("docker.io"), "https://registry-1.docker.io");
    }

    #[test]
    fn challenges_are_read_with_quoted_commas() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(params["realm"], "https://ghcr.io/token");
        assert_eq!(params["service"], "ghcr.io");
        assert_eq!(params["scope"], "repository:a/b:pull,push");
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((scheme.as_str(), params["realm"].as_str()), ("Basic", "Registry Realm"));
        assert_eq!(query_escape("repository:a/b:pull,push"), "repository:a/b:pull%2Cpush");
    }
}
