//! The Kubernetes side of an environment: kubectl and helm pointed at its cluster, preflight
//! checks that say how to fix what is missing, loading images, the app's address, and the
//! release's pods.

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{
    config::{Config, Environment, EnvironmentKind, ServicePort},
    process::{self, free_port, GroupChild},
    tools,
};

/// `helm list` state filters that show a release being installed, upgraded or removed, or one
/// that failed: it is still ours to report. Spelled out because Helm 4 dropped `--all` (its
/// default is every state, Helm 3's is deployed and failed only).
const LIST_EVERY_STATE: [&str; 4] = ["--deployed", "--failed", "--pending", "--uninstalling"];

pub struct Cluster<'a> {
    pub config: &'a Config,
    pub env: &'a Environment,
}

impl<'a> Cluster<'a> {
    pub fn new(config: &'a Config, env: &'a Environment) -> Self {
        Cluster { config, env }
    }

    /// The kube context: the configured one, else what the environment type implies.
    fn context(&self) -> Option<String> {
        self.env.context.clone().or_else(|| match &self.env.kind {
            EnvironmentKind::Minikube { profile } => Some(profile.clone()),
            EnvironmentKind::Kind { cluster } => Some(format!("kind-{cluster}")),
            EnvironmentKind::Kube { .. } => None,
        })
    }

    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        if let Some(kubeconfig) = &self.env.kubeconfig {
            cmd.args(["--kubeconfig", kubeconfig.as_str()]);
        }
        if let Some(context) = self.context() {
            cmd.args(["--context", &context]);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn helm(&self) -> Command {
        let mut cmd = Command::new("helm");
        if let Some(kubeconfig) = &self.env.kubeconfig {
            cmd.args(["--kubeconfig", kubeconfig.as_str()]);
        }
        if let Some(context) = self.context() {
            cmd.args(["--kube-context", &context]);
        }
        cmd.args(["--namespace", &self.config.release.namespace]).stdin(Stdio::null());
        cmd
    }

    /// Tools found, cluster reachable. Each failure names what fixes it.
    pub fn preflight(&self) -> Result<()> {
        for tool in self.required_tools()? {
            if tool == "helm" {
                eprintln!("  {}", tools::require_helm()?);
            } else {
                tools::require(tool)?;
            }
        }
        self.reachable()
    }

    /// The programs `up` runs for this environment (a `kube` environment's load command too).
    pub fn required_tools(&self) -> Result<Vec<&str>> {
        let mut tools = vec!["helm", "kubectl"];
        match &self.env.kind {
            // The docker CLI builds into Minikube's engine.
            EnvironmentKind::Minikube { .. } => tools.extend(["minikube", "docker"]),
            EnvironmentKind::Kind { .. } => tools.extend(["kind", "docker"]),
            EnvironmentKind::Kube { .. } => tools.push("docker"),
        }
        if let EnvironmentKind::Kube { load } = &self.env.kind {
            if !load[0].contains('/') {
                tools.push(load[0].as_str());
            } else if !self.config.root.join(&load[0]).is_file() {
                bail!("the load command {} of environment `{}` does not exist", load[0], self.env.name);
            }
        }
        Ok(tools)
    }

    /// The kubeconfig exists and the API server answers.
    pub fn reachable(&self) -> Result<()> {
        if let Some(kubeconfig) = &self.env.kubeconfig {
            if !kubeconfig.is_file() {
                bail!("{kubeconfig} does not exist: {}", self.start_hint());
            }
        }
        process::read(self.kubectl().args(["get", "--raw", "/readyz", "--request-timeout=10s"])).with_context(
            || format!("the cluster of environment `{}` does not answer: {}", self.env.name, self.start_hint()),
        )?;
        Ok(())
    }

    pub fn start_hint(&self) -> String {
        match &self.env.kind {
            EnvironmentKind::Minikube { profile } => {
                format!("start it with `minikube start -p {profile} --cpus 2 --memory 4g`")
            }
            EnvironmentKind::Kind { cluster } => format!("create it with `kind create cluster --name {cluster}`"),
            EnvironmentKind::Kube { .. } if self.env.name == "local" => "start it with `test/cluster/up`".into(),
            EnvironmentKind::Kube { .. } => {
                "check `kubectl cluster-info` with this environment's kubeconfig/context".into()
            }
        }
    }

    /// Images the node already has (kubelet reports them in the node status), so a no-op `up`
    /// loads nothing.
    pub fn node_images(&self) -> Result<BTreeSet<String>> {
        let out = process::read(self.kubectl().args([
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[*].status.images[*].names[*]}",
        ]))?;
        Ok(out
            .split_whitespace()
            .flat_map(|name| {
                // containerd reports `docker.io/library/todo-backend:tag`; we compare short names.
                let short = name.strip_prefix("docker.io/library/").unwrap_or(name).to_owned();
                [name.to_owned(), short]
            })
            .collect())
    }

    /// Makes images built in the local engine available to the cluster's nodes. Minikube builds
    /// into its own engine: nothing to do.
    pub fn load(&self, references: &[String]) -> Result<()> {
        if references.is_empty() {
            return Ok(());
        }
        match &self.env.kind {
            EnvironmentKind::Minikube { .. } => Ok(()),
            EnvironmentKind::Kind { cluster } => {
                let mut cmd = Command::new("kind");
                cmd.args(["load", "docker-image", "--name", cluster]).args(references).stdin(Stdio::null());
                process::run(&mut cmd)
            }
            EnvironmentKind::Kube { load } => {
                let program =
                    if load[0].contains('/') { self.config.root.join(&load[0]).into_string() } else { load[0].clone() };
                let per_image = load.iter().any(|a| a.contains("{image}"));
                let runs: Vec<Vec<String>> = if per_image {
                    references.iter().map(|r| load[1..].iter().map(|a| a.replace("{image}", r)).collect()).collect()
                } else {
                    vec![load[1..]
                        .iter()
                        .flat_map(|a| if a == "{images}" { references.to_vec() } else { vec![a.clone()] })
                        .collect()]
                };
                for args in runs {
                    let mut cmd = Command::new(&program);
                    cmd.args(args).current_dir(&self.config.root).stdin(Stdio::null());
                    if let Some(kubeconfig) = &self.env.kubeconfig {
                        cmd.env("KUBECONFIG", kubeconfig);
                    }
                    process::run(&mut cmd)?;
                }
                Ok(())
            }
        }
    }

    /// The release's pods, as kubectl returns them.
    pub fn pods(&self) -> Result<Vec<Value>> {
        let selector = format!("app.kubernetes.io/instance={}", self.config.release.name);
        let out = process::read(self.kubectl().args([
            "get",
            "pods",
            "-n",
            &self.config.release.namespace,
            "-l",
            &selector,
            "-o",
            "json",
        ]))?;
        let json: Value = serde_json::from_str(&out)?;
        Ok(json["items"].as_array().cloned().unwrap_or_default())
    }

    pub fn namespace_exists(&self) -> Result<Option<Value>> {
        let mut cmd = self.kubectl();
        cmd.args(["get", "namespace", &self.config.release.namespace, "-o", "json", "--ignore-not-found"]);
        let out = process::read(&mut cmd)?;
        if out.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(serde_json::from_str(&out)?))
    }

    /// The deployed revision and status (`deployed`, `failed`, …), if the release exists.
    pub fn release_status(&self) -> Result<Option<(u64, String)>> {
        let mut cmd = self.helm();
        cmd.args(["list"]).args(LIST_EVERY_STATE).args([
            "--filter",
            &format!("^{}$", self.config.release.name),
            "-o",
            "json",
        ]);
        let out = process::read(&mut cmd)?;
        let list: Value = serde_json::from_str(&out).context("unexpected `helm list` output")?;
        Ok(list.as_array().and_then(|l| l.first()).map(|r| {
            let revision = r["revision"].as_str().and_then(|s| s.parse().ok()).or(r["revision"].as_u64()).unwrap_or(0);
            (revision, r["status"].as_str().unwrap_or("").to_owned())
        }))
    }

    /// A URL where `target` answers from this machine, and what keeps it open (a port-forward).
    pub fn address(&self, target: &ServicePort) -> Result<(String, Option<GroupChild>)> {
        let ns = &self.config.release.namespace;
        // Minikube reaches a NodePort Service through the node, i.e. through kube-proxy;
        // anything else (a ClusterIP Service, another cluster) through a port-forward.
        if let EnvironmentKind::Minikube { profile } = &self.env.kind {
            let out = process::read(Command::new("minikube").args([
                "-p",
                profile,
                "service",
                &target.service,
                "-n",
                ns,
                "--url",
            ]));
            if let Some(url) =
                out.ok().and_then(|o| o.lines().find(|l| l.starts_with("http")).map(|l| l.trim().to_owned()))
            {
                return Ok((url, None));
            }
        }
        let port = free_port()?;
        let mut cmd = self.kubectl();
        cmd.args(["port-forward", "-n", ns, &format!("svc/{}", target.service), &format!("{port}:{}", target.port)])
            .args(["--address", "127.0.0.1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process::spawn_group(&mut cmd)?;
        let stderr = child.child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>().join("\n")
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok((format!("http://127.0.0.1:{port}"), Some(child)));
            }
            if let Some(status) = child.try_wait()? {
                let text = errors.join().unwrap_or_default();
                bail!("`kubectl port-forward svc/{}` exited ({status}): {text}", target.service);
            }
            if Instant::now() > deadline {
                bail!("`kubectl port-forward svc/{}` did not open port {port} within 20 s", target.service);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// GET `url` (plain http), returning the status code. No client library: one request line.
pub fn http_get(url: &str, timeout: Duration) -> Result<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").with_context(|| format!("{url}: only http:// URLs"))?;
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(
        &(if host.contains(':') { host.to_owned() } else { format!("{host}:80") }),
    )?
    .next()
    .with_context(|| format!("cannot resolve {host}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: cargo-xtask\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    // Read the response as far as it goes, not to EOF: a tunnel (kubectl port-forward) may
    // hold the connection open well after the server closed its end, which would be measured.
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            anyhow::bail!("{url}: the connection closed before the response headers ended");
        }
        response.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&response[..head_end]).to_ascii_lowercase();
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    let code = code.with_context(|| format!("{url}: not an HTTP response"))?;
    let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()));
    let complete = |body: &[u8]| match (header("content-length:"), header("transfer-encoding:")) {
        (Some(len), _) => body.len() >= len.parse().unwrap_or(0),
        (None, Some(te)) if te.contains("chunked") => body.ends_with(b"0\r\n\r\n"),
        _ => false,
    };
    while !complete(&response[head_end..]) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Read, Write},
        net::TcpListener,
        time::Duration,
    };

    use super::http_get;

    #[test]
    fn http_get_returns_the_status_of_a_real_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut held = Vec::new();
            for code in ["200 OK", "503 Service Unavailable"] {
                let (mut stream, _) = listener.accept().unwrap();
                // The whole request head, as a server reads it.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    stream.read_exact(&mut byte).unwrap();
                    head.push(byte[0]);
                }
                seen.push(String::from_utf8_lossy(&head).lines().next().unwrap().to_owned());
                write!(stream, "HTTP/1.1 {code}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}").unwrap();
                // Like a port-forward tunnel: the connection stays open after the response.
                held.push(stream);
            }
            std::thread::sleep(Duration::from_secs(3));
            seen
        });
        let url = format!("http://127.0.0.1:{port}/ready");
        let start = std::time::Instant::now();
        assert_eq!(http_get(&url, Duration::from_secs(5)).unwrap(), 200);
        assert_eq!(http_get(&url, Duration::from_secs(5)).unwrap(), 503);
        // Done when the body is complete, not when the peer closes.
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert_eq!(server.join().unwrap(), ["GET /ready HTTP/1.1", "GET /ready HTTP/1.1"]);
        assert!(http_get("https://example.com/", Duration::from_secs(1)).is_err());
    }
}
