//! Kubernetes objects compared field by field (what `diff` prints), and the fields of a live
//! object that someone other than Helm and the cluster's controllers has set (what `status`
//! reports as drift), read from its `managedFields`.

use std::fmt;

use serde_json::Value;

use crate::manifest::HIDDEN;

/// `Kind name` (and the namespace when there is one): how objects are named in the output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectId {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    pub fn of(object: &Value) -> ObjectId {
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        ObjectId {
            kind: text(&object["kind"]),
            namespace: text(&object["metadata"]["namespace"]),
            name: text(&object["metadata"]["name"]),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One field that differs. `None` on a side: the field is absent there.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Fields the API server maintains on every write: they differ without anyone changing the object.
const BOOKKEEPING: [&str; 5] = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"];

/// The fields that differ between two versions of an object, ignoring its status and the
/// server's bookkeeping.
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    let strip = |object: &Value| {
        let mut object = object.clone();
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            BOOKKEEPING.iter().for_each(|k| {
                meta.remove(*k);
            });
        }
        object
    };
    let mut out = Vec::new();
    compare("", Some(&strip(before)), Some(&strip(after)), &mut out);
    out
}

fn compare(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                compare(&field_path(path, key), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => match (names(a), names(b)) {
            (Some(na), Some(nb)) => {
                let mut all: Vec<&str> = na.clone();
                all.extend(nb.iter().filter(|n| !na.contains(n)));
                for name in all {
                    let at_a = na.iter().position(|n| *n == name).map(|i| &a[i]);
                    let at_b = nb.iter().position(|n| *n == name).map(|i| &b[i]);
                    compare(&format!("{path}[{name}]"), at_a, at_b, out);
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    compare(&format!("{path}[{i}]"), a.get(i), b.get(i), out);
                }
            }
        },
        (a, b) if a != b => out.push(Change { path: path.to_owned(), before: a.cloned(), after: b.cloned() }),
        _ => {}
    }
}

/// The `name` of every item, when every item has a distinct one (containers, env, ports,
/// volumes): items are then matched by name, so an insertion shows as one added item.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str()).collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

fn field_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", serde_json::to_string(key).unwrap()),
    }
}

/// Whether `path` (of an object of `kind`) holds a secret value.
pub fn is_secret_field(kind: &str, path: &str) -> bool {
    kind == "Secret" && (path.starts_with("data") || path.starts_with("stringData"))
}

/// A value as printed: compact JSON, long ones cut; a Secret's values never.
pub fn shown(kind: &str, path: &str, value: &Value) -> String {
    if is_secret_field(kind, path) {
        return HIDDEN.to_owned();
    }
    let text = value.to_string();
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text
    }
}

/// One line per change: `path: before → after`.
pub fn describe(kind: &str, change: &Change) -> String {
    let shown = |v: &Value| shown(kind, &change.path, v);
    match (&change.before, &change.after) {
        (Some(a), Some(b)) => format!("{}: {} → {}", change.path, shown(a), shown(b)),
        (None, Some(b)) => format!("{}: added {}", change.path, shown(b)),
        (Some(a), None) => format!("{}: removed (was {})", change.path, shown(a)),
        (None, None) => change.path.clone(),
    }
}

/// Field managers that are not a hand edit: Helm (Helm 3 writes as `helm` with Update, Helm 4
/// with Apply) and the control plane's own components.
const EXPECTED_MANAGERS: [&str; 5] = ["helm", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver"];

/// Fields someone else set on a live object: who, when, and which fields.
#[derive(Debug, Clone, PartialEq)]
pub struct HandEdit {
    pub manager: String,
    pub time: String,
    pub paths: Vec<String>,
}

/// The live object's fields owned by a manager other than Helm and the controllers (`kubectl
/// edit`, `kubectl scale`, `kubectl set image`, a dashboard), status excluded. A field edited
/// by hand moves to the editor's manager, so edits and additions are both found.
pub fn hand_edits(object: &Value) -> Vec<HandEdit> {
    let mut edits = Vec::new();
    for entry in object["metadata"]["managedFields"].as_array().into_iter().flatten() {
        let manager = entry["manager"].as_str().unwrap_or("");
        if EXPECTED_MANAGERS.contains(&manager) || entry["subresource"] == "status" {
            continue;
        }
        let mut paths = Vec::new();
        owned_paths("", &entry["fieldsV1"], &mut paths);
        if !paths.is_empty() {
            edits.push(HandEdit {
                manager: manager.to_owned(),
                time: entry["time"].as_str().unwrap_or("").to_owned(),
                paths,
            });
        }
    }
    edits
}

/// A field of a live object set by hand: who set it and when, its live value, and the value
/// helm applied (`None`: the chart does not set it, so an upgrade leaves it as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub object: ObjectId,
    pub path: String,
    pub manager: String,
    pub time: String,
    pub live: Option<Value>,
    pub applied: Option<Value>,
}

/// The hand edits of a live object that differ from the object as helm applied it: `manifest`
/// is the object in the deployed manifest (`None`: not in it), which says whether the chart sets
/// a field; `defaulted` is that object as the API server stores it (defaults filled in), which
/// gives its value. A field set back to helm's value is not drift.
pub fn drift(live: &Value, manifest: Option<&Value>, defaulted: Option<&Value>) -> Vec<Drift> {
    let mut out = Vec::new();
    for edit in hand_edits(live) {
        for path in edit.paths {
            let now = value_at(live, &path).cloned();
            let helm = manifest
                .and_then(|m| value_at(m, &path))
                .map(|raw| defaulted.and_then(|d| value_at(d, &path)).unwrap_or(raw).clone());
            if now != helm {
                out.push(Drift {
                    object: ObjectId::of(live),
                    path,
                    manager: edit.manager.clone(),
                    time: edit.time.clone(),
                    live: now,
                    applied: helm,
                });
            }
        }
    }
    out
}

/// Paths of a `fieldsV1` tree (`f:` fields, `k:` keyed items, `v:` set values, `i:` indexes;
/// `.` marks an item or map owned whole, reported as one path).
fn owned_paths(path: &str, node: &Value, out: &mut Vec<String>) {
    let Some(map) = node.as_object() else { return };
    if map.is_empty() || map.contains_key(".") {
        if !path.is_empty() {
            out.push(path.to_owned());
        }
        return;
    }
    for (key, child) in map {
        let next = if let Some(field) = key.strip_prefix("f:") {
            field_path(path, field)
        } else if let Some(item) = key.strip_prefix("k:") {
            let item: Value = serde_json::from_str(item).unwrap_or(Value::Null);
            match item["name"].as_str() {
                Some(name) if item.as_object().is_some_and(|m| m.len() == 1) => format!("{path}[{name}]"),
                _ => format!("{path}[{item}]"),
            }
        } else if let Some(value) = key.strip_prefix("v:") {
            format!("{path}[={value}]")
        } else if let Some(index) = key.strip_prefix("i:") {
            format!("{path}[{index}]")
        } else {
            continue;
        };
        owned_paths(&next, child, out);
    }
}

/// The value at a path this module printed, for showing what a hand edit set.
pub fn value_at<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    let mut node = object;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(inner) = rest.strip_prefix('[') {
            let close = if inner.starts_with('{') {
                // An item keyed by several fields (ports: containerPort and protocol).
                let end = inner.find("}]")?;
                let key: Value = serde_json::from_str(&inner[..=end]).ok()?;
                let fields = key.as_object()?;
                node = node.as_array()?.iter().find(|i| fields.iter().all(|(k, v)| &i[k] == v))?;
                end + 2
            } else if inner.starts_with('"') {
                // A quoted key: up to its closing quote.
                let end = inner.strip_prefix('"')?.find("\"]").map(|i| i + 1)?;
                let key: String = serde_json::from_str(&inner[..=end]).ok()?;
                node = node.get(key.as_str())?;
                end + 2
            } else {
                let end = inner.find(']')?;
                let item = &inner[..end];
                node = match item.parse::<usize>() {
                    Ok(i) if node.is_array() => node.get(i)?,
                    _ => node.as_array()?.iter().find(|i| i["name"] == item)?,
                };
                end + 1
            };
            rest = &inner[close..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            node = node.get(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(image: &str, env: Value) -> Value {
        json!({"kind": "Deployment", "metadata": {"name": "api", "namespace": "ns", "resourceVersion": "7",
                 "annotations": {"checksum/config": "abc"}},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "init", "image": "busybox"},
                   {"name": "api", "image": image, "env": env}]}}},
               "status": {"readyReplicas": 2}})
    }

    #[test]
    fn changes_name_the_field_and_match_list_items_by_name() {
        let before = deployment("api:1", json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
        let mut after = deployment("api:2", json!([{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]));
        after["metadata"]["resourceVersion"] = json!("8");
        after["metadata"]["annotations"]["checksum/config"] = json!("def");
        after["status"]["readyReplicas"] = json!(0);
        let lines: Vec<String> = changes(&before, &after).iter().map(|c| describe("Deployment", c)).collect();
        assert_eq!(
            lines,
            [
                r#"metadata.annotations["checksum/config"]: "abc" → "def""#,
                r#"spec.template.spec.containers[api].env[A]: removed (was {"name":"A","value":"1"})"#,
                r#"spec.template.spec.containers[api].env[B].value: "2" → "3""#,
                r#"spec.template.spec.containers[api].env[C]: added {"name":"C","value":"4"}"#,
                r#"spec.template.spec.containers[api].image: "api:1" → "api:2""#,
            ]
        );
        assert!(changes(&before, &before).is_empty());
        assert_eq!(value_at(&after, "spec.template.spec.containers[api].env[C].value"), Some(&json!("4")));
        assert_eq!(value_at(&after, r#"metadata.annotations["checksum/config"]"#), Some(&json!("def")));
    }

    #[test]
    fn a_secrets_values_are_never_described() {
        let change = Change { path: "data.TOKEN".into(), before: Some(json!("b2xk")), after: Some(json!("bmV3")) };
        assert_eq!(describe("Secret", &change), "data.TOKEN: <redacted> → <redacted>");
        assert_eq!(describe("ConfigMap", &change), r#"data.TOKEN: "b2xk" → "bmV3""#);
    }

    #[test]
    fn hand_edits_are_the_fields_of_other_managers() {
        let object = json!({"metadata": {"managedFields": [
            {"manager": "helm", "operation": "Update", "time": "t0",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "t1",
             "fieldsV1": {"f:status": {"f:replicas": {}}}},
            {"manager": "kubectl-edit", "operation": "Update", "time": "t2",
             "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                 "k:{\"name\":\"api\"}": {"f:env": {"k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}},
                                          "f:image": {}}}}}},
                          "f:metadata": {"f:annotations": {"f:example.com/owner": {}}}}}
        ]}});
        assert_eq!(
            hand_edits(&object),
            [HandEdit {
                manager: "kubectl-edit".into(),
                time: "t2".into(),
                paths: vec![
                    r#"metadata.annotations["example.com/owner"]"#.into(),
                    "spec.template.spec.containers[api].env[DEBUG]".into(),
                    "spec.template.spec.containers[api].image".into(),
                ],
            }]
        );
    }

    #[test]
    fn drift_is_a_hand_edit_that_differs_from_what_helm_applied() {
        let applied = json!({"kind": "Deployment", "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "web", "image": "web:1", "ports": [{"containerPort": 3000, "protocol": "TCP"}]}]}}}});
        let mut live = applied.clone();
        live["spec"]["replicas"] = json!(3);
        live["spec"]["template"]["metadata"] = json!({"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}});
        live["metadata"] = json!({"managedFields": [
            {"manager": "kubectl", "operation": "Update", "subresource": "scale", "time": "t1",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kubectl-rollout", "operation": "Update", "time": "t2",
             "fieldsV1": {"f:spec": {"f:template": {"f:metadata": {"f:annotations": {
                 "f:kubectl.kubernetes.io/restartedAt": {}}}}}}},
            // Set by hand to the value helm applied: no drift.
            {"manager": "kubectl-edit", "operation": "Update", "time": "t3",
             "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                 "f:image": {}, "f:ports": {"k:{\"containerPort\":3000,\"protocol\":\"TCP\"}": {".": {}}}}}}}}}}
        ]});
        let id = ObjectId::of(&live);
        assert_eq!(
            drift(&live, Some(&applied), None),
            [
                Drift {
                    object: id.clone(),
                    path: "spec.replicas".into(),
                    manager: "kubectl".into(),
                    time: "t1".into(),
                    live: Some(json!(3)),
                    applied: Some(json!(1))
                },
                Drift {
                    object: id.clone(),
                    path: r#"spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]"#.into(),
                    manager: "kubectl-rollout".into(),
                    time: "t2".into(),
                    live: Some(json!("now")),
                    applied: None
                },
            ]
        );
        let port = r#"spec.template.spec.containers[web].ports[{"containerPort":3000,"protocol":"TCP"}]"#;
        assert_eq!(value_at(&live, port), Some(&json!({"containerPort": 3000, "protocol": "TCP"})));
        // An object not in the deployed manifest: everything set by hand is drift.
        assert_eq!(drift(&live, None, None).len(), 4);
        // A list set by hand equals helm's once the server's defaults are filled in.
        let mut recreated = json!({"kind": "NetworkPolicy", "spec": {"ingress": [{"ports": [{"port": 8000}]}]}});
        let defaulted = json!({"spec": {"ingress": [{"ports": [{"port": 8000, "protocol": "TCP"}]}]}});
        let manifest = recreated.clone();
        recreated["spec"] = defaulted["spec"].clone();
        recreated["metadata"] = json!({"managedFields": [{"manager": "kubectl-create", "operation": "Update",
            "time": "t4", "fieldsV1": {"f:spec": {"f:ingress": {}}}}]});
        assert_eq!(drift(&recreated, Some(&manifest), None).len(), 1);
        assert!(drift(&recreated, Some(&manifest), Some(&defaulted)).is_empty());
    }
}
