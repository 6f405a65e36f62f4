//! infra.toml as written: what serde reads, with the spans errors point at.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub default_environment: Option<Spanned<String>>,
    pub images: Spanned<BTreeMap<Spanned<String>, Spanned<RawImage>>>,
    pub release: Spanned<RawRelease>,
    pub environments: Spanned<BTreeMap<Spanned<String>, Spanned<RawEnvironment>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub name: Spanned<String>,
    pub context: Spanned<String>,
    pub dockerfile: Option<Spanned<String>>,
    pub target: Option<String>,
    pub tag: Option<Spanned<String>>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    pub build_args: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub budgets: RawImageBudgets,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawImageBudgets {
    pub size_mb: Option<Spanned<f64>>,
    pub build_seconds: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub name: Spanned<String>,
    pub namespace: Spanned<String>,
    pub chart: Spanned<String>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    #[serde(default)]
    pub images: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub secrets: BTreeMap<String, Spanned<String>>,
    #[serde(default = "default_existing_secret_value")]
    pub existing_secret_value: String,
    #[serde(default = "default_pull_secrets_value")]
    pub pull_secrets_value: String,
    #[serde(default)]
    pub extra_images: Vec<String>,
    pub entrypoint: RawServicePort,
    #[serde(default)]
    pub budgets: RawReleaseBudgets,
}

pub fn default_timeout() -> u64 {
    300
}

pub fn default_existing_secret_value() -> String {
    "existingSecret".into()
}

pub fn default_pull_secrets_value() -> String {
    "imagePullSecrets".into()
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawServicePort {
    pub service: String,
    pub port: u16,
    #[serde(default = "root_path")]
    pub path: String,
}

pub fn root_path() -> String {
    "/".into()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawReleaseBudgets {
    pub deploy_seconds: Option<Spanned<f64>>,
    pub pod_ready_seconds: Option<Spanned<f64>>,
    pub p95_latency_ms: Option<Spanned<f64>>,
    pub latency_requests: Option<Spanned<u32>>,
    #[serde(default)]
    pub latency_targets: Vec<RawServicePort>,
    #[serde(default)]
    pub limits_fit_capacity: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub profile: Option<String>,
    pub cluster: Option<String>,
    pub load: Option<Spanned<Vec<String>>>,
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    #[serde(default)]
    pub values: Vec<Spanned<String>>,
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub required_secrets: Vec<Spanned<String>>,
    pub existing_secret: Option<String>,
    pub capacity: Option<RawCapacity>,
    pub registry: Option<Spanned<String>>,
    pub pull_secret: Option<Spanned<String>>,
    #[serde(default)]
    pub rollback_on_failure: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacity {
    pub memory_mb: Option<f64>,
    pub cpu: Option<f64>,
    pub database_connections: Option<u32>,
}
