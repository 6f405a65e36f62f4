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
        // With a registry there is no load command: the nodes pull.
        if let EnvironmentKind::Kube { load } = &self.env.kind {
            match load.first() {
                Some(program) if !program.contains('/') => tools.push(program.as_str()),
                Some(program) if !self.config.root.join(program).is_file() => {
                    bail!("the load command {program} of environment `{}` does not exist", self.env.name)
                }
                _ => {}
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

    /// The live objects of a manifest (those that exist), as the API server returns them.
    pub fn live_objects(&self, manifest: &str) -> Result<Vec<Value>> {
        // kubectl leaves managedFields out of its output unless asked; drift is read from them.
        self.objects(&["get", "--ignore-not-found", "--show-managed-fields"], manifest)
    }

    /// Each object of a manifest as a server-side apply would leave it (dry run: nothing is
    /// written), with the field manager Helm uses. Defaults and admission are applied, so a
    /// field differs from the live object only where applying the manifest would change it.
    pub fn applied_objects(&self, manifest: &str) -> Result<Vec<Value>> {
        self.objects(
            &["apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=helm"],
            manifest,
        )
    }

    /// The objects of a manifest as kubectl reads them, without writing (a release not yet
    /// installed, whose namespace may not exist).
    pub fn manifest_objects(&self, manifest: &str) -> Result<Vec<Value>> {
        self.objects(&["create", "--dry-run=client"], manifest)
    }

    fn objects(&self, verb: &[&str], manifest: &str) -> Result<Vec<Value>> {
        if manifest.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = self.kubectl();
        cmd.args(verb).args(["-n", &self.config.release.namespace, "-o", "json", "-f", "-"]);
        let out = process::read_with_input(&mut cmd, manifest.as_bytes())?;
        // kubectl prints nothing for none found, the object itself for one, a List for more.
        Ok(serde_json::Deserializer::from_str(&out)
            .into_iter::<Value>()
            .collect::<Result<Vec<_>, _>>()
            .context("unexpected kubectl output")?
            .into_iter()
            .flat_map(
                |v| if v["kind"] == "List" { v["items"].as_array().cloned().unwrap_or_default() } else { vec![v] },
            )
            .collect())
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

    /// The revision that serves: the last one helm recorded as `deployed` (a failed upgrade
    /// after it leaves it so), if the release exists.
    pub fn deployed_revision(&self) -> Result<Option<u64>> {
        if self.release_status()?.is_none() {
            return Ok(None);
        }
        let out = process::read(self.helm().args(["history", &self.config.release.name, "-o", "json"]))?;
        let history: Value = serde_json::from_str(&out).context("unexpected `helm history` output")?;
        Ok(last_deployed(&history))
    }

    /// The URL at which `target` answers from this machine without a tunnel, as a user opens
    /// it: what `minikube service --url` prints, or a NodePort on the node's InternalIP
    /// (kube-proxy forwards it to the Service). None for a ClusterIP Service, or a node this
    /// machine can't reach (kind on Docker Desktop).
    pub fn direct_url(&self, target: &ServicePort) -> Result<Option<String>> {
        let ns = &self.config.release.namespace;
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
            return Ok(out.ok().and_then(|o| o.lines().find(|l| l.starts_with("http")).map(|l| l.trim().to_owned())));
        }
        let service: Value = serde_json::from_str(&process::read(self.kubectl().args([
            "get",
            "service",
            &target.service,
            "-n",
            ns,
            "-o",
            "json",
        ]))?)?;
        let Some(node_port) = node_port(&service, target.port) else { return Ok(None) };
        let addresses = process::read(self.kubectl().args([
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[*].status.addresses[?(@.type==\"InternalIP\")].address}",
        ]))?;
        Ok(addresses.split_whitespace().find_map(|ip| {
            let addr: std::net::SocketAddr = format!("{ip}:{node_port}").parse().ok()?;
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
            Some(format!("http://{addr}"))
        }))
    }

    /// A URL where `target` answers from this machine, and what keeps it open (a port-forward
    /// when there is no [direct URL](Self::direct_url)).
    pub fn address(&self, target: &ServicePort) -> Result<(String, Option<GroupChild>)> {
        let ns = &self.config.release.namespace;
        if let Some(url) = self.direct_url(target)? {
            return Ok((url, None));
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

/// The node port a NodePort or LoadBalancer Service (kubectl's JSON) gives `port`.
fn node_port(service: &Value, port: u16) -> Option<u64> {
    if !matches!(service["spec"]["type"].as_str(), Some("NodePort" | "LoadBalancer")) {
        return None;
    }
    service["spec"]["ports"].as_array()?.iter().find(|p| p["port"] == port)?["nodePort"].as_u64()
}

/// The newest revision `helm history -o json` lists as `deployed`.
fn last_deployed(history: &Value) -> Option<u64> {
    history.as_array()?.iter().filter(|r| r["status"] == "deployed").filter_map(|r| r["revision"].as_u64()).max()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{last_deployed, node_port};

    #[test]
    fn the_serving_revision_is_the_last_deployed_one_not_a_failed_upgrade_after_it() {
        let history = json!([
            {"revision": 1, "status": "superseded"},
            {"revision": 2, "status": "deployed"},
            {"revision": 3, "status": "failed"},
            {"revision": 4, "status": "failed"},
        ]);
        assert_eq!(last_deployed(&history), Some(2));
        assert_eq!(last_deployed(&json!([{"revision": 1, "status": "failed"}])), None);
        assert_eq!(last_deployed(&json!([])), None);
    }

    #[test]
    fn a_node_port_is_read_off_nodeport_and_loadbalancer_services_only() {
        let ports = json!([{"port": 8080, "nodePort": 31000}, {"port": 3000, "nodePort": 30300}]);
        let service = |kind: &str| json!({"spec": {"type": kind, "ports": ports}});
        assert_eq!(node_port(&service("NodePort"), 3000), Some(30300));
        assert_eq!(node_port(&service("LoadBalancer"), 8080), Some(31000));
        assert_eq!(node_port(&service("NodePort"), 9999), None);
        assert_eq!(node_port(&service("ClusterIP"), 3000), None);
    }
}
