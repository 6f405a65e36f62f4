use super::{error::ConfigError, *};
use crate::testutil::{TempDir, INFRA_TOML};

/// A project with two images and a chart; `extra` is appended to a valid infra.toml.
fn project(toml: &str) -> (TempDir, Result<Config, ConfigError>) {
    let dir = TempDir::new();
    dir.write("app/Dockerfile", "FROM scratch\n");
    dir.write("base/Dockerfile", "FROM scratch\n");
    dir.write("chart/Chart.yaml", "name: c\n");
    dir.write("values-dev.yaml", "{}\n");
    dir.write("infra.toml", toml);
    let text = std::fs::read_to_string(dir.join("infra.toml")).unwrap();
    let config = parse(&dir.join("infra.toml"), &text);
    (dir, config)
}

fn error(toml: &str) -> ConfigError {
    match project(toml).1 {
        Ok(_) => panic!("expected an error for:\n{toml}"),
        Err(err) => err,
    }
}

#[test]
fn a_valid_file_loads_with_images_in_build_order() {
    let (_dir, config) = project(INFRA_TOML);
    let config = config.unwrap();
    let keys: Vec<_> = config.images.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["base", "app"]);
    assert_eq!(config.images[1].tag, "{hash:12}");
    assert_eq!(config.default_environment, "dev");
    assert_eq!(config.release.budgets.latency_targets[0].service, "r-app");
}

#[test]
fn the_real_infra_toml_loads() {
    let path = crate::tools::project_root().join("infra.toml");
    let config = load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(config.default_environment, "minikube");
    for env in ["minikube", "kind", "local", "kube", "cloud"] {
        assert!(config.environments.contains_key(env), "{env}");
    }
    assert_eq!(
        config.environments["cloud"].registry.as_ref().unwrap().repository("todo-backend"),
        "ghcr.io/acme/todo-backend"
    );
    // A failed upgrade is rolled back where the environment is production-shaped.
    let rollback: Vec<&str> =
        config.environments.values().filter(|e| e.rollback_on_failure).map(|e| e.name.as_str()).collect();
    assert_eq!(rollback, ["cloud", "kube"]);
}

#[test]
fn unknown_key_is_refused_with_file_line_and_key() {
    let err = error(&INFRA_TOML.replace("context = \"app\"", "context = \"app\"\ncontxt = \"x\""));
    assert_eq!(err.line, 6);
    assert_eq!(err.key, "images.app.contxt");
    assert!(err.message.starts_with("unknown field `contxt`"), "{}", err.message);
    let text = err.to_string();
    assert!(text.contains("infra.toml:6:1: images.app.contxt: unknown field"), "{text}");
    assert!(text.contains("6 | contxt = \"x\""), "{text}");
}

#[test]
fn wrong_type_names_the_key() {
    let err = error(
        &INFRA_TOML.replace("context = \"base\"", "context = \"base\"\n[images.base.budgets]\nsize_mb = \"big\""),
    );
    assert_eq!(err.key, "images.base.budgets.size_mb");
    assert!(err.message.contains("invalid type"), "{}", err.message);
}

#[test]
fn missing_context_and_dockerfile_are_named() {
    let err = error(&INFRA_TOML.replace("context = \"base\"", "context = \"nowhere\""));
    assert_eq!((err.line, err.key.as_str()), (11, "images.base.context"));
    assert!(err.message.contains("nowhere does not exist"));
    let err = error(&INFRA_TOML.replace("context = \"base\"", "context = \"base\"\ndockerfile = \"Prod.Dockerfile\""));
    assert_eq!((err.line, err.key.as_str()), (12, "images.base.dockerfile"));
    assert!(err.message.contains("base/Prod.Dockerfile does not exist"), "{}", err.message);
}

#[test]
fn cycles_are_named() {
    let err = error(&INFRA_TOML.replace("context = \"base\"", "context = \"base\"\ndepends_on = [\"app\"]"));
    assert_eq!(err.key, "images.app.depends_on");
    assert_eq!(err.message, "dependency cycle: app → base → app");
    let err = error(&INFRA_TOML.replace("depends_on = [\"base\"]", "depends_on = [\"base\", \"app\"]"));
    assert_eq!(err.message, "dependency cycle: app → app");
}

#[test]
fn unknown_dependency_and_undeclared_image_reference() {
    let err = error(
        &INFRA_TOML
            .replace("depends_on = [\"base\"]\nbuild_args = { BASE = \"{images.base}\" }", "depends_on = [\"bsae\"]"),
    );
    assert_eq!((err.line, err.message.as_str()), (6, "no image `bsae`"));
    let err = error(&INFRA_TOML.replace("depends_on = [\"base\"]\n", ""));
    assert_eq!(err.key, "images.app.build_args.BASE");
    assert!(err.message.contains("not in depends_on"));
}

#[test]
fn tag_schemes_must_carry_the_hash() {
    let err = error(&INFRA_TOML.replace("context = \"app\"", "context = \"app\"\ntag = \"latest\""));
    assert_eq!(err.key, "images.app.tag");
    assert!(err.message.contains("does not contain the content hash"));
    assert!(check_tag_scheme("v-{hash:16}").is_ok());
    assert!(check_tag_scheme("{hash:4}").is_err());
    assert!(check_tag_scheme("{git}").is_err());
    assert_eq!(render_tag("v-{hash:4}", "abcdef12"), "v-abcd");
}

#[test]
fn missing_chart_values_and_environment_are_named() {
    let err = error(&INFRA_TOML.replace("chart = \"chart\"", "chart = \"charts/x\""));
    assert_eq!(err.key, "release.chart");
    let err = error(&INFRA_TOML.replace("values = [\"values-dev.yaml\"]", "values = [\"values-dve.yaml\"]"));
    assert_eq!(err.key, "environments.dev.values");
    assert!(err.message.contains("values-dve.yaml does not exist"));
    let err = error(&INFRA_TOML.replace("default_environment = \"dev\"", "default_environment = \"prod\""));
    assert_eq!((err.line, err.key.as_str()), (1, "default_environment"));
    let err = error(&INFRA_TOML.replace("type = \"minikube\"", "type = \"k3s\""));
    assert!(err.help.unwrap().contains("minikube, kind, kube"));
    let err = error(&INFRA_TOML.replace("type = \"minikube\"", "type = \"kube\""));
    assert!(err.message.contains("needs a `load` command"));
}

#[test]
fn syntax_errors_point_at_the_line() {
    let err = error(&INFRA_TOML.replace("name = \"r\"", "name = r"));
    assert_eq!(err.line, 14);
    assert_eq!(err.key, "");
}

#[test]
fn topological_order_is_stable_and_cycles_are_closed_chains() {
    let graph: BTreeMap<&str, Vec<&str>> =
        [("web", vec!["api", "base"]), ("api", vec!["base"]), ("base", vec![]), ("docs", vec![])].into_iter().collect();
    assert_eq!(topo_sort(&graph).unwrap(), ["base", "api", "docs", "web"]);
    let cyclic: BTreeMap<&str, Vec<&str>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["b"]), ("d", vec![])].into_iter().collect();
    assert_eq!(topo_sort(&cyclic).unwrap_err(), ["a", "b", "c", "b"][1..].to_vec());
}

#[test]
fn a_registry_is_a_host_with_an_optional_namespace_and_replaces_load() {
    let kube = |extra: &str| INFRA_TOML.replace("type = \"minikube\"", &format!("type = \"kube\"\n{extra}"));
    let (_dir, config) = project(&kube("registry = \"ghcr.io/acme\"\npull_secret = \"ghcr-pull\""));
    let config = config.unwrap();
    let registry = config.environments["dev"].registry.clone().unwrap();
    assert_eq!((registry.host.as_str(), registry.namespace.as_str()), ("ghcr.io", "acme"));
    assert_eq!(registry.pull_secret.as_deref(), Some("ghcr-pull"));
    assert_eq!(registry.repository("todo-backend"), "ghcr.io/acme/todo-backend");
    let (_dir, config) = project(&kube("registry = \"127.0.0.1:5000\""));
    assert_eq!(config.unwrap().environments["dev"].registry.as_ref().unwrap().repository("app"), "127.0.0.1:5000/app");

    let err = error(&kube("registry = \"https://ghcr.io/acme\""));
    assert_eq!(err.key, "environments.dev.registry");
    assert!(err.message.contains("has a scheme"), "{}", err.message);
    let err = error(&kube("registry = \"acme\""));
    assert!(err.message.contains("`acme` is not a registry host"), "{}", err.message);
    assert!(err.help.unwrap().contains("docker.io/acme"));
    let err = error(&kube("registry = \"ghcr.io/acme:latest\""));
    assert!(err.message.contains("is not a repository path"), "{}", err.message);
    let err = error(&kube("registry = \"ghcr.io/acme\"\nload = [\"kind\", \"load\", \"{images}\"]"));
    assert_eq!(err.key, "environments.dev.load");
    assert!(err.message.contains("nodes pull the images"), "{}", err.message);
    let err = error(&kube("pull_secret = \"ghcr-pull\"\nload = [\"x\", \"{images}\"]"));
    assert_eq!(err.key, "environments.dev.pull_secret");
    let err = error(&kube("registry = \"ghcr.io/acme\"\npull_secret = \"Ghcr_Pull\""));
    assert!(err.message.contains("not a Kubernetes Secret name"), "{}", err.message);
}
