//! Every reader of `.env` in this project against the same files: xtask (dotenvy), the backend
//! (python-dotenv, through pydantic-settings), docker compose (the CLI's `config`, no engine
//! needed) and Next.js (`@next/env`). They agree on the constructs in [`AGREED`] and on
//! `.env.example` with every example value set; [`DISAGREED`] lists the constructs they read
//! differently, which `.env.example` tells users to avoid.
//!
//! Ignored in a plain `cargo test` (it needs the backend's environment, the frontend's
//! node_modules and the docker CLI, which it provisions as the tiers do); run by
//! `cargo xtask test --tier images`.

use std::{collections::BTreeMap, process::Command};

use camino::Utf8Path;

use crate::{
    process,
    testutil::TempDir,
    tools::{npm_ci_if_stale, project_root, uv},
};

type Values = BTreeMap<String, String>;

/// One file with the tricky constructs every reader reads alike, and the values they read.
const AGREED: &str = r#"# a comment line
XT_PLAIN=value
XT_QUOTED_NOTE="quoted value" # note
XT_SINGLE_NOTE='single value' # note
XT_UNQUOTED_NOTE=plain # note
XT_HASH_IN_QUOTES="a # b"
XT_NEWLINE_ESCAPE="one\ntwo"
XT_SINGLE_LITERAL='no\nescape'
XT_MULTI_LINE="first
second"
XT_EMPTY=
export XT_EXPORTED=yes
XT_SPACED =  padded
XT_URL=postgresql://user:p@ss@host:5432/db?sslmode=require&x=1
XT_BASE64=ab+/cd==
XT_EXPANDED=${XT_PLAIN}-x
XT_EXPANDED_QUOTED="${XT_PLAIN} y"
"#;

const AGREED_VALUES: &[(&str, &str)] = &[
    ("XT_PLAIN", "value"),
    ("XT_QUOTED_NOTE", "quoted value"),
    ("XT_SINGLE_NOTE", "single value"),
    ("XT_UNQUOTED_NOTE", "plain"),
    ("XT_HASH_IN_QUOTES", "a # b"),
    ("XT_NEWLINE_ESCAPE", "one\ntwo"),
    ("XT_SINGLE_LITERAL", "no\\nescape"),
    ("XT_MULTI_LINE", "first\nsecond"),
    ("XT_EMPTY", ""),
    ("XT_EXPORTED", "yes"),
    ("XT_SPACED", "padded"),
    ("XT_URL", "postgresql://user:p@ss@host:5432/db?sslmode=require&x=1"),
    ("XT_BASE64", "ab+/cd=="),
    ("XT_EXPANDED", "value-x"),
    ("XT_EXPANDED_QUOTED", "value y"),
];

/// Constructs the readers read differently, each as a whole file setting `XT_V`.
const DISAGREED: &[(&str, &str)] = &[
    ("a backslash escape other than \\n in double quotes", r#"XT_V="tab\tx""#),
    ("an escaped double quote", r#"XT_V="say \"hi\"""#),
    ("an escaped backslash", r#"XT_V="back\\slash""#),
    ("an escaped dollar", r#"XT_V="\$x""#),
    ("`#` right after an unquoted value", "XT_V=a#b"),
    ("a backslash in an unquoted value", r"XT_V=a\nb"),
    ("`$VAR` without braces", "XT_A=1\nXT_V=$XT_A"),
    ("`${VAR}` in single quotes", "XT_A=1\nXT_V='${XT_A}'"),
    ("`${VAR:-default}`", "XT_V=${XT_UNSET_ANYWHERE:-fallback}"),
    ("text after the closing quote", r#"XT_V="x"y"#),
];

/// What each reader reads from each file, in the readers' order: xtask, python-dotenv, docker
/// compose, Next.js.
fn read_all(files: &[&Utf8Path], keys: &[Vec<String>]) -> Vec<[Values; 4]> {
    let python = python_dotenv(files);
    let next = next_env(files);
    files
        .iter()
        .zip(keys)
        .zip(python.into_iter().zip(next))
        .map(|((file, keys), (python, next))| {
            let text = std::fs::read_to_string(file).unwrap();
            // A file xtask refuses reads as nothing, like python-dotenv's unparsable lines.
            let xtask = super::parse(&text).map(|e| e.into_iter().collect()).unwrap_or_default();
            [xtask, python, compose(file, keys), next]
        })
        .collect()
}

fn python_dotenv(files: &[&Utf8Path]) -> Vec<Values> {
    let script = "import json, sys\nfrom dotenv import dotenv_values\n\
                  print(json.dumps([{k: v for k, v in dotenv_values(f).items() if v is not None} for f in sys.argv[1:]]))";
    let mut cmd = uv().unwrap().command_in(&project_root().join("backend"));
    cmd.args(["run", "--locked", "python", "-c", script]).args(files.iter().map(|f| f.as_str()));
    serde_json::from_str(&process::read(&mut cmd).unwrap()).unwrap()
}

/// `@next/env` loads a directory's `.env` files: each file is copied alone into one.
fn next_env(files: &[&Utf8Path]) -> Vec<Values> {
    let frontend = project_root().join("frontend");
    npm_ci_if_stale(&frontend).unwrap();
    let dirs = TempDir::new();
    let mut args = Vec::new();
    for (n, file) in files.iter().enumerate() {
        dirs.write(&format!("{n}/.env"), &std::fs::read_to_string(file).unwrap());
        args.push(dirs.path.join(n.to_string()).to_string());
    }
    let script = "const { loadEnvConfig } = require('@next/env');\n\
                  const quiet = { info() {}, error() {} };\n\
                  console.log(JSON.stringify(process.argv.slice(1).map(d => loadEnvConfig(d, false, quiet, true).parsedEnv)));";
    let mut cmd = Command::new("node");
    cmd.current_dir(&frontend).args(["-e", script]).args(&args);
    serde_json::from_str(&process::read(&mut cmd).unwrap()).unwrap()
}

/// docker compose reads `.env` to interpolate the compose file: a service whose environment
/// names every key shows the values (`$` printed as `$$`), an unset key as the marker.
fn compose(file: &Utf8Path, keys: &[String]) -> Values {
    const UNSET: &str = "XT_NOT_SET";
    let dir = TempDir::new();
    let mut yaml = String::from("services:\n  probe:\n    image: scratch\n    environment:\n");
    for key in keys {
        yaml.push_str(&format!("      {key}: ${{{key}-{UNSET}}}\n"));
    }
    dir.write("compose.yml", &yaml);
    let mut cmd = Command::new("docker");
    cmd.args(["compose", "-f", dir.path.join("compose.yml").as_str(), "--env-file", file.as_str()])
        .args(["config", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&process::read(&mut cmd).unwrap()).unwrap();
    let environment = json["services"]["probe"]["environment"].as_object().unwrap();
    environment
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.replace("$$", "$"))))
        .filter(|(_, v)| v != UNSET)
        .collect()
}

/// `.env.example` with every `# KEY=value` example line set.
fn example_with_values_set() -> String {
    let text = std::fs::read_to_string(project_root().join(".env.example")).unwrap();
    let set = |line: &str| {
        let example = line.strip_prefix("# ")?;
        let (key, _) = example.split_once('=')?;
        key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_').then(|| example.to_owned())
    };
    text.lines().map(|line| set(line).unwrap_or_else(|| line.to_owned()) + "\n").collect()
}

#[test]
#[ignore = "needs the backend's environment, the frontend's node_modules and docker compose: run by `cargo xtask test --tier images`"]
fn every_reader_of_dotenv_reads_the_same_values_and_the_example_avoids_what_they_dont() {
    const READERS: [&str; 4] = ["xtask", "python-dotenv", "docker compose", "Next.js"];
    let dir = TempDir::new();
    dir.write("agreed.env", AGREED);
    let example = example_with_values_set();
    dir.write("example.env", &example);
    for (n, (_, text)) in DISAGREED.iter().enumerate() {
        dir.write(&format!("disagreed-{n}.env"), &format!("{text}\n"));
    }
    let mut files = vec![dir.path.join("agreed.env"), dir.path.join("example.env")];
    files.extend((0..DISAGREED.len()).map(|n| dir.path.join(format!("disagreed-{n}.env"))));
    let example_keys: Vec<String> = super::parse(&example).unwrap().into_iter().map(|(k, _)| k).collect();
    let mut keys = vec![AGREED_VALUES.iter().map(|(k, _)| k.to_string()).collect(), example_keys.clone()];
    keys.extend(DISAGREED.iter().map(|_| vec!["XT_A".to_owned(), "XT_V".to_owned()]));
    let files: Vec<&Utf8Path> = files.iter().map(|f| f.as_path()).collect();
    let read = read_all(&files, &keys);

    let agreed: Values = AGREED_VALUES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (reader, values) in READERS.iter().zip(&read[0]) {
        assert_eq!(values, &agreed, "{reader} reads the agreed constructs differently");
    }
    assert!(example_keys.len() >= 20, "only {} example values in .env.example", example_keys.len());
    for (reader, values) in READERS.iter().zip(&read[1]) {
        assert_eq!(values, &read[1][0], "{reader} reads .env.example differently from xtask");
    }
    for ((what, text), values) in DISAGREED.iter().zip(&read[2..]) {
        let readings: Vec<String> =
            READERS.iter().zip(values).map(|(reader, v)| format!("{reader}: {:?}", v.get("XT_V"))).collect();
        assert!(
            values.iter().any(|v| v != &values[0]),
            "the readers now agree on {what} ({text:?}: {readings:?}): move it to AGREED and drop it from .env.example's warning"
        );
    }
}
