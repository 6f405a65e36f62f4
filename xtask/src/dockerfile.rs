//! Just enough Dockerfile parsing to name the images a build starts from: `FROM` (after
//! substituting global `ARG`s and build args) and `COPY --from=`/`RUN --mount=from=` that name an
//! image rather than a stage. Their IDs go into the content hash: a new `python:3.13-slim` is a
//! reason to rebuild even when our files did not change.

use std::collections::BTreeMap;

/// External images the Dockerfile reads, in order of appearance, without duplicates.
pub fn base_images(text: &str, build_args: &BTreeMap<String, String>) -> Vec<String> {
    let mut globals: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut images: Vec<String> = Vec::new();
    let mut seen_from = false;
    let add = |image: String, stages: &[String], images: &mut Vec<String>| {
        let lower = image.to_ascii_lowercase();
        let is_stage = stages.contains(&lower) || image.parse::<usize>().is_ok();
        if !image.is_empty() && lower != "scratch" && !is_stage && !images.contains(&image) {
            images.push(image);
        }
    };
    for line in logical_lines(text) {
        let mut words = line.split_whitespace();
        let Some(instruction) = words.next() else { continue };
        let args: Vec<&str> = words.collect();
        match instruction.to_ascii_uppercase().as_str() {
            // Only ARGs before the first FROM can be used in FROM lines.
            "ARG" if !seen_from => {
                for arg in args {
                    let (name, default) = arg.split_once('=').unwrap_or((arg, ""));
                    let value = build_args.get(name).cloned().unwrap_or_else(|| unquote(default).to_owned());
                    globals.insert(name.to_owned(), value);
                }
            }
            "FROM" => {
                seen_from = true;
                let mut rest = args.iter().filter(|a| !a.starts_with("--"));
                if let Some(image) = rest.next() {
                    add(substitute(image, &globals), &stages, &mut images);
                }
                if let (Some(as_kw), Some(name)) = (rest.next(), rest.next()) {
                    if as_kw.eq_ignore_ascii_case("as") {
                        stages.push(name.to_ascii_lowercase());
                    }
                }
            }
            "COPY" | "ADD" | "RUN" => {
                for arg in args.iter().take_while(|a| a.starts_with("--")) {
                    if let Some(from) = arg.strip_prefix("--from=") {
                        add(substitute(from, &globals), &stages, &mut images);
                    }
                    if let Some(mount) = arg.strip_prefix("--mount=") {
                        for opt in mount.split(',') {
                            if let Some(from) = opt.strip_prefix("from=") {
                                add(substitute(from, &globals), &stages, &mut images);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    images
}

/// Lines with `\` continuations joined, comments and blank lines dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                if !current.trim().is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        lines.push(current);
    }
    lines
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alt}` from the global ARGs.
fn substitute(word: &str, vars: &BTreeMap<String, String>) -> String {
    let word = unquote(word);
    let mut out = String::new();
    let mut chars = word.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        if word[i + 1..].starts_with('{') {
            let Some(end) = word[i..].find('}') else {
                out.push_str(&word[i..]);
                break;
            };
            let inner = &word[i + 2..i + end];
            let value = if let Some((name, default)) = inner.split_once(":-") {
                vars.get(name).filter(|v| !v.is_empty()).cloned().unwrap_or_else(|| default.to_owned())
            } else if let Some((name, alt)) = inner.split_once(":+") {
                if vars.get(name).is_some_and(|v| !v.is_empty()) {
                    alt.to_owned()
                } else {
                    String::new()
                }
            } else {
                vars.get(inner).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                chars.next();
            }
        } else {
            let name: String = word[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push_str(&vars.get(&name).cloned().unwrap_or_default());
            for _ in 0..name.chars().count() {
                chars.next();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bases(text: &str, args: &[(&str, &str)]) -> Vec<String> {
        let args = args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        base_images(text, &args)
    }

    #[test]
    fn global_args_and_stages() {
        let text = "# syntax comment\nARG PYTHON_IMAGE=python:3.13-slim\n\nFROM ${PYTHON_IMAGE} AS builder\nRUN x\nFROM $PYTHON_IMAGE AS runtime\nCOPY --from=builder /a /a\n";
        assert_eq!(bases(text, &[]), ["python:3.13-slim"]);
        assert_eq!(bases(text, &[("PYTHON_IMAGE", "python:3.12")]), ["python:3.12"]);
    }

    #[test]
    fn platform_flags_continuations_external_copy_and_scratch() {
        let text = "FROM --platform=$BUILDPLATFORM node:24-slim \\\n  AS deps\nFROM scratch\nCOPY --from=deps /x /x\nCOPY --link --from=busybox:1.36 /bin/sh /sh\nRUN --mount=type=cache,from=alpine:3,target=/c true\nFROM deps\n";
        assert_eq!(bases(text, &[]), ["node:24-slim", "busybox:1.36", "alpine:3"]);
    }

    #[test]
    fn defaults_in_substitution() {
        let text = "ARG BASE\nFROM ${BASE:-debian:trixie}\n";
        assert_eq!(bases(text, &[]), ["debian:trixie"]);
        assert_eq!(bases(text, &[("BASE", "todo-base:abc")]), ["todo-base:abc"]);
    }
}
