//! Rendered manifests as `render` and `diff` show them: Secret values hidden, and any value known
//! to be secret scrubbed wherever else it appears, so neither command can print one.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::Value;

/// What a hidden value prints as.
pub const HIDDEN: &str = "<redacted>";

/// Values that must never be printed, and how to find them in text.
#[derive(Default)]
pub struct Redactor {
    needles: Vec<String>,
}

/// A value this short is not searched for outside Secrets: it would blank ordinary words (a
/// user name `todo`, a port). Secrets' own values are hidden by position, whatever their length.
const MIN_SCRUBBED: usize = 8;

impl Redactor {
    /// Every string leaf of `secrets` (the helm values xtask passes from the environment).
    pub fn for_values(secrets: &Value) -> Redactor {
        let mut redactor = Redactor::default();
        visit_strings(secrets, &mut |s| redactor.add(s));
        redactor
    }

    /// A secret value, and its base64 form (as a Secret's `data` holds it).
    pub fn add(&mut self, value: &str) {
        if value.len() < MIN_SCRUBBED {
            return;
        }
        for needle in [value.to_owned(), STANDARD.encode(value)] {
            if !self.needles.contains(&needle) {
                self.needles.push(needle);
            }
        }
        // Longest first, so a value is never half-replaced by a shorter one it contains.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// The values of a Secret object (`data` base64, `stringData` plain), so that a copy of one
    /// elsewhere (a ConfigMap, an annotation) is scrubbed too.
    pub fn add_secret_object(&mut self, object: &Value) {
        if object["kind"] != "Secret" {
            return;
        }
        for (field, encoded) in [("data", true), ("stringData", false)] {
            for value in object[field].as_object().into_iter().flat_map(|m| m.values()) {
                let Some(text) = value.as_str() else { continue };
                let plain = if encoded {
                    STANDARD.decode(text).ok().and_then(|b| String::from_utf8(b).ok())
                } else {
                    Some(text.to_owned())
                };
                if let Some(plain) = plain {
                    self.add(&plain);
                }
            }
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), HIDDEN);
            }
        }
        out
    }
}

fn visit_strings(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, f)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

/// The documents of a multi-document YAML stream (helm's output), without empty ones.
pub fn documents(stream: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in stream.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(&stream[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&stream[start..]);
    docs.into_iter().filter(|d| d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))).collect()
}

/// A YAML document with a Secret's values replaced by [`HIDDEN`]: every entry under the
/// top-level `data` and `stringData` keeps its key, loses its value (block scalars included).
/// Also returns the values hidden, decoded (for a [`Redactor`], so a copy of one elsewhere —
/// the chart's generated password in another object — is hidden too). Other documents are
/// returned as they are.
pub fn redact_secret_yaml(document: &str) -> (String, Vec<String>) {
    if !document.lines().any(|l| l.trim_end() == "kind: Secret") {
        return (document.to_owned(), Vec::new());
    }
    let mut out = String::new();
    let mut found = Vec::new();
    // Inside `data:` (base64) or `stringData:`: whether encoded, and the entries' indentation.
    let mut inside: Option<(bool, Option<usize>)> = None;
    // The lines of a block scalar being read.
    let mut block: Option<Vec<&str>> = None;
    for line in document.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let content = line.trim();
        if let Some((encoded, entries)) = &mut inside {
            if content.is_empty() {
                continue;
            }
            if indent > 0 {
                let entry_indent = *entries.get_or_insert(indent);
                if indent > entry_indent {
                    // A block scalar's line: dropped with its value.
                    block.get_or_insert_with(Vec::new).push(content);
                    continue;
                }
                if let Some(lines) = block.take() {
                    found.extend(block_values(&lines, *encoded));
                }
                if indent == entry_indent && !content.starts_with('#') {
                    let (key, value) = content.split_once(':').unwrap_or((content, ""));
                    let value = value.trim();
                    if value.starts_with(['|', '>']) {
                        block = Some(Vec::new());
                    } else {
                        found.extend(decoded(unquoted(value), *encoded));
                    }
                    out.push_str(&format!("{}{key}: {HIDDEN}\n", " ".repeat(indent)));
                }
                continue;
            }
            if let Some(lines) = block.take() {
                found.extend(block_values(&lines, *encoded));
            }
            inside = None;
        }
        match content.split_once(':') {
            Some((key @ ("data" | "stringData"), rest)) if indent == 0 => {
                if rest.trim().is_empty() {
                    inside = Some((key == "data", None));
                    out.push_str(line);
                } else {
                    // A flow mapping on one line: nothing of it is shown.
                    out.push_str(&format!("{key}: {HIDDEN}\n"));
                }
            }
            _ => out.push_str(line),
        }
    }
    if let (Some(lines), Some((encoded, _))) = (block, inside) {
        found.extend(block_values(&lines, encoded));
    }
    found.retain(|v| !v.is_empty());
    (out, found)
}

/// A block scalar's value, and each of its lines (a key's lines are secret on their own).
fn block_values(lines: &[&str], encoded: bool) -> Vec<String> {
    if encoded {
        return decoded(&lines.concat(), true).into_iter().collect();
    }
    std::iter::once(lines.join("\n")).chain(lines.iter().map(|l| (*l).to_owned())).collect()
}

fn unquoted(value: &str) -> &str {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

fn decoded(value: &str, encoded: bool) -> Option<String> {
    if encoded {
        STANDARD.decode(value).ok().and_then(|b| String::from_utf8(b).ok())
    } else {
        Some(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const STREAM: &str = "---\n# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  annotations:\n    note: keep\ntype: Opaque\ndata:\n  TOKEN: \"czNjcjN0LXZhbHVlLTEyMw==\"\n\n  # a comment\n  EMPTY: \"\"\nstringData:\n  KEY: |\n    -----BEGIN KEY-----\n    abc\n  URL: postgresql://u:hunter2hunter2@db/x\n---\n# Source: chart/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  LEVEL: INFO\n  COPY: s3cr3t-value-123\n---\n";

    #[test]
    fn secrets_in_a_rendered_stream_are_hidden_and_nothing_else_changes() {
        let docs = documents(STREAM);
        assert_eq!(docs.len(), 2);
        let (secret, found) = redact_secret_yaml(docs[0]);
        assert_eq!(
            secret,
            "# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  annotations:\n    note: keep\ntype: Opaque\ndata:\n  TOKEN: <redacted>\n  EMPTY: <redacted>\nstringData:\n  KEY: <redacted>\n  URL: <redacted>\n"
        );
        // The values hidden, decoded: base64 data, plain stringData, a block scalar whole and by line.
        assert_eq!(
            found,
            [
                "s3cr3t-value-123",
                "-----BEGIN KEY-----\nabc",
                "-----BEGIN KEY-----",
                "abc",
                "postgresql://u:hunter2hunter2@db/x"
            ]
        );
        // A ConfigMap is printed as rendered, except a Secret's value copied into it.
        assert_eq!(redact_secret_yaml(docs[1]), (docs[1].to_owned(), Vec::new()));
        let mut redactor = Redactor::default();
        found.iter().for_each(|v| redactor.add(v));
        let scrubbed = redactor.scrub(docs[1]);
        assert!(scrubbed.contains("COPY: <redacted>") && scrubbed.contains("LEVEL: INFO"), "{scrubbed}");
        // Its base64 form too, as a Secret's data holds it.
        assert_eq!(redactor.scrub("czNjcjN0LXZhbHVlLTEyMw=="), HIDDEN);
    }

    #[test]
    fn a_flow_mapping_is_hidden_whole() {
        let doc = "kind: Secret\nmetadata:\n  name: a\ndata: {A: YWFhYWFhYWFh}\n";
        assert_eq!(redact_secret_yaml(doc).0, "kind: Secret\nmetadata:\n  name: a\ndata: <redacted>\n");
    }

    #[test]
    fn the_values_of_secret_objects_are_known_to_the_redactor() {
        let secret = json!({"kind": "Secret", "data": {"P": STANDARD.encode("generated-password-1")},
                            "stringData": {"Q": "another-secret-2"}});
        let mut redactor = Redactor::for_values(&json!({"secrets": {"openaiApiKey": "sk-test-abcdef"}}));
        redactor.add_secret_object(&secret);
        let text = "a generated-password-1 b another-secret-2 c sk-test-abcdef d c2stdGVzdC1hYmNkZWY=";
        assert_eq!(redactor.scrub(text), "a <redacted> b <redacted> c <redacted> d <redacted>");
        // Short values are not searched for outside Secrets.
        redactor.add("todo");
        assert_eq!(redactor.scrub("todo-chatbot"), "todo-chatbot");
    }
}
