//! Context hashing at the scale of a large repository: a generated context of 100,000 files
//! (~1 GB) hashed by us and by `sha256sum`, and the same tree as an ignored `node_modules` next
//! to a few files, against those few files alone. Generated once under
//! `~/.cache/todo-chatbot/bench-context` (never in the repository) and reused while its layout
//! is the same; delete the folder to get the space back.

use std::{
    fs,
    io::{BufWriter, Write},
};

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

use super::{pipeline::sha256sum, Ctx, Results};
use crate::{hash, process};

const FILES: usize = 100_000;
/// Files per directory, and directories per parent: `tree/p00/m0/f00.txt`, 100 × 10 × 100.
const PER_DIR: usize = 100;
/// Written into `.complete` once generated: another layout or size means generating anew.
const LAYOUT: &str = "v1: 100,000 files in tree/pNN/mN/fNN.txt; ignored/node_modules hard links to them\n";

/// The size of file `i`: nine in ten 2–9 KB, like sources; one in ten 30–70 KB, like bundles
/// and assets. ~1.0 GB in all.
fn size_of(i: usize) -> usize {
    if i % 10 == 0 {
        30_000 + (i * 7_919) % 40_000
    } else {
        2_000 + (i * 104_729) % 7_000
    }
}

fn relative(i: usize) -> String {
    let (leaf, dir) = (i % PER_DIR, i / PER_DIR);
    format!("p{:02}/m{}/f{leaf:02}.txt", dir / 10, dir % 10)
}

/// The generated contexts: `large` (a Dockerfile and `tree/`), `ignored` (a Dockerfile, a
/// `.dockerignore` naming `node_modules`, one source file and `node_modules/` holding the same
/// tree as hard links, so no second gigabyte) and `small` (`ignored` without `node_modules`).
struct Contexts {
    large: Utf8PathBuf,
    ignored: Utf8PathBuf,
    small: Utf8PathBuf,
}

fn generate(root: &Utf8Path) -> Result<Contexts> {
    let contexts = Contexts { large: root.join("large"), ignored: root.join("ignored"), small: root.join("small") };
    let marker = root.join(".complete");
    if fs::read_to_string(&marker).is_ok_and(|text| text == LAYOUT) {
        return Ok(contexts);
    }
    eprintln!("    generating {FILES} files (~1 GB) under {root} (once; reused by later runs)");
    if root.exists() {
        fs::remove_dir_all(root).with_context(|| format!("cannot remove the stale {root}"))?;
    }
    let tree = contexts.large.join("tree");
    let modules = contexts.ignored.join("node_modules");
    // A cheap generator (xorshift64): the bytes only have to differ between files.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes = Vec::new();
    for i in 0..FILES {
        let rel = relative(i);
        let path = tree.join(&rel);
        if i % PER_DIR == 0 {
            fs::create_dir_all(path.parent().unwrap())?;
            fs::create_dir_all(modules.join(&rel).parent().unwrap())?;
        }
        bytes.clear();
        while bytes.len() < size_of(i) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.extend_from_slice(&state.to_le_bytes());
        }
        bytes.truncate(size_of(i));
        let mut file = BufWriter::new(fs::File::create(&path).with_context(|| format!("cannot write {path}"))?);
        file.write_all(&bytes)?;
        file.flush()?;
        fs::hard_link(&path, modules.join(&rel)).with_context(|| format!("cannot link {path}"))?;
    }
    for dir in [&contexts.large, &contexts.ignored, &contexts.small] {
        fs::create_dir_all(dir)?;
        fs::write(dir.join("Dockerfile"), "FROM scratch\nCOPY . /\n")?;
    }
    for dir in [&contexts.ignored, &contexts.small] {
        fs::write(dir.join(".dockerignore"), "node_modules\n")?;
        fs::write(dir.join("index.js"), "console.log('hello');\n")?;
    }
    fs::write(&marker, LAYOUT)?;
    Ok(contexts)
}

pub fn measure(ctx: &Ctx, results: &mut Results) -> Result<()> {
    let home = std::env::var("HOME").context("HOME is not set")?;
    let contexts = generate(&Utf8PathBuf::from(home).join(".cache/todo-chatbot/bench-context"))?;

    // Each pass takes seconds: a few alternating rounds, the fastest of each side counts (the
    // first pass may find the tree out of the page cache).
    let rounds = ctx.budget.large_hash_rounds;
    let dockerfile = contexts.large.join("Dockerfile");
    let (mut ours, mut theirs) = (f64::INFINITY, f64::INFINITY);
    let (mut files, mut bytes) = (0, 0);
    for _ in 0..rounds {
        process::check_interrupted()?;
        let snapshot = hash::snapshot(&contexts.large, &dockerfile)?;
        ours = ours.min(snapshot.elapsed.as_secs_f64());
        (files, bytes) = (snapshot.files, snapshot.bytes);
        let paths: Vec<&String> =
            snapshot.entries.iter().filter(|(_, e)| e.kind == hash::Kind::File).map(|(p, _)| p).collect();
        theirs = theirs.min(sha256sum(&contexts.large, &paths)?);
    }
    let mb = bytes as f64 / 1e6;
    eprintln!(
        "    generated context, {files} files, {mb:.0} MB, best of {rounds}: ours {ours:.2} s, sha256sum {theirs:.2} s ({:.0} %)",
        theirs / ours * 100.0
    );
    results.set("hashing.large_files", files as f64);
    results.set("hashing.large_mb_s", mb / ours);
    results.set("hashing.large_sha256sum_mb_s", mb / theirs);
    results.facts.insert(
        "hashing.large".into(),
        format!("{files} files, {mb:.0} MB, generated under ~/.cache/todo-chatbot/bench-context; best of {rounds}"),
    );

    // The ignored tree against none at all: small passes, so many alternating rounds.
    let (mut with_tree, mut without) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ctx.budget.hash_rounds {
        process::check_interrupted()?;
        let seen = hash::snapshot(&contexts.ignored, &contexts.ignored.join("Dockerfile"))?;
        with_tree = with_tree.min(seen.elapsed.as_secs_f64());
        let alone = hash::snapshot(&contexts.small, &contexts.small.join("Dockerfile"))?;
        without = without.min(alone.elapsed.as_secs_f64());
        anyhow::ensure!(
            seen.digest == alone.digest,
            "the ignored node_modules reached the snapshot ({} files against {})",
            seen.files,
            alone.files
        );
    }
    eprintln!(
        "    the same tree as an ignored node_modules: {:.2} ms (the other files alone {:.2} ms)",
        with_tree * 1e3,
        without * 1e3
    );
    results.set("hashing.ignored_tree_ms", with_tree * 1e3);
    results.set("hashing.without_tree_ms", without * 1e3);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_tree_is_about_a_gigabyte_in_distinct_paths() {
        let total: usize = (0..super::FILES).map(super::size_of).sum();
        assert!((0.9e9..1.1e9).contains(&(total as f64)), "{total} bytes");
        let paths: std::collections::BTreeSet<String> = (0..super::FILES).map(super::relative).collect();
        assert_eq!(paths.len(), super::FILES);
    }
}
