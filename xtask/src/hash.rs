//! Content hashing of a build context: every file the build can see after `.dockerignore`
//! (relative path, type, permission bits, bytes; symlinks as their link text; directories with
//! their mode), independent of modification times and of the order the walk finds files in.
//! [`archive`] writes the same entries as the tar stream Docker builds from, hashing the bytes
//! it writes, so an image's tag describes exactly the context it was built from.

use std::{
    collections::BTreeMap,
    fs,
    io::{Read, Write},
    os::unix::fs::{MetadataExt, PermissionsExt},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dockerignore::{self, Hits, Matcher};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (`mode & 0o7777`); Docker copies them into the image.
    pub mode: u32,
    /// sha256 of the bytes (file) or of the link text (symlink); empty for a directory.
    pub digest: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// What the build of one context can see, hashed.
#[derive(Debug)]
pub struct Snapshot {
    /// Relative `/`-separated path → entry.
    pub entries: BTreeMap<String, Entry>,
    pub digest: String,
    pub files: usize,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Which ignore file applied, relative to the context's parent, for messages.
    pub ignore_file: Option<Utf8PathBuf>,
}

/// `<Dockerfile>.dockerignore` next to the Dockerfile wins over `<context>/.dockerignore`, as
/// in BuildKit.
pub fn ignore_file(context: &Utf8Path, dockerfile: &Utf8Path) -> Option<Utf8PathBuf> {
    let specific = Utf8PathBuf::from(format!("{dockerfile}.dockerignore"));
    if specific.is_file() {
        return Some(specific);
    }
    let general = context.join(".dockerignore");
    general.is_file().then_some(general)
}

/// What the build can see: the walk of `context` after its ignore file.
struct Listing {
    found: Vec<Found>,
    ignore_file: Option<Utf8PathBuf>,
}

fn list(context: &Utf8Path, dockerfile: &Utf8Path) -> Result<Listing> {
    if !context.is_dir() {
        bail!("build context {context} does not exist or is not a directory");
    }
    let ignore_file = ignore_file(context, dockerfile);
    let matcher = match &ignore_file {
        Some(path) => {
            let text = fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
            dockerignore::parse(&text).with_context(|| format!("in {path}"))?
        }
        None => Matcher::default(),
    };
    let mut found = Vec::new();
    walk(context, "", &matcher, &Hits::default(), &mut found)?;
    Ok(Listing { found, ignore_file })
}

/// Collects entries and their totals into a snapshot.
fn collect(listing: Listing, digests: Vec<String>, start: Instant) -> Snapshot {
    let mut entries = BTreeMap::new();
    let (mut files, mut bytes) = (0, 0);
    for (item, digest) in listing.found.into_iter().zip(digests) {
        if item.kind == Kind::File {
            files += 1;
            bytes += item.size;
        }
        entries.insert(item.path, Entry { kind: item.kind, mode: item.mode, digest });
    }
    let digest = combine(&entries);
    Snapshot { entries, digest, files, bytes, elapsed: start.elapsed(), ignore_file: listing.ignore_file }
}

pub fn snapshot(context: &Utf8Path, dockerfile: &Utf8Path) -> Result<Snapshot> {
    let start = Instant::now();
    let listing = list(context, dockerfile)?;
    let digests = hash_files(context, &listing.found)?;
    Ok(collect(listing, digests, start))
}

/// A build context written as a tar stream, and what it holds.
pub struct Archive {
    /// The entries written, hashed from the bytes written.
    pub snapshot: Snapshot,
    /// The Dockerfile as written into the tar (the bytes its hash covers).
    pub dockerfile_text: String,
    /// Its path inside the tar, for `docker build --file`.
    pub dockerfile_name: String,
}

/// The name of the Dockerfile inside the tar when it lies outside the context.
const OUTSIDE_DOCKERFILE: &str = ".dockerfile.xtask";

/// Writes the build context of `context` to `out` as the tar Docker receives on stdin: exactly
/// the snapshot's entries, every file read once and hashed from the bytes written (a file saved
/// meanwhile can't be built under another content's hash). Owners are 0:0 as `docker build`
/// sends them; modification times are the files'; extended attributes are not sent.
///
/// Docker reads the Dockerfile from the context and then drops it, and `.dockerignore`, if the
/// tar's `.dockerignore` excludes them. A Dockerfile that the snapshot excludes is therefore
/// added together with a `.dockerignore` naming just it and itself (when the snapshot has no
/// `.dockerignore` of its own); the engine applies no other pattern to a tar context.
pub fn archive(context: &Utf8Path, dockerfile: &Utf8Path, out: impl Write) -> Result<Archive> {
    let start = Instant::now();
    let listing = list(context, dockerfile)?;
    let dockerfile_name = match dockerfile.strip_prefix(context) {
        Ok(rel) if rel.components().all(|c| matches!(c, camino::Utf8Component::Normal(_))) => rel.as_str().to_owned(),
        _ => OUTSIDE_DOCKERFILE.to_owned(),
    };
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    let mut digests = Vec::with_capacity(listing.found.len());
    let (mut dockerfile_bytes, mut ignore_bytes) = (None, None);
    for item in &listing.found {
        let path = context.join(&item.path);
        let mut header = tar::Header::new_gnu();
        header.set_mode(item.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(item.mtime);
        let digest = match item.kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                tar.append_data(&mut header, format!("{}/", item.path), std::io::empty())?;
                String::new()
            }
            Kind::Symlink => {
                let target = fs::read_link(&path).with_context(|| format!("cannot read link {path}"))?;
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                tar.append_link(&mut header, &item.path, &target)?;
                hex(&Sha256::digest(target.as_os_str().as_encoded_bytes()))
            }
            Kind::File => {
                let bytes = fs::read(&path).with_context(|| format!("cannot read {path}"))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, &item.path, bytes.as_slice())?;
                let digest = hex(&Sha256::digest(&bytes));
                if item.path == dockerfile_name {
                    dockerfile_bytes = Some(bytes);
                } else if item.path == ".dockerignore" {
                    ignore_bytes = Some(bytes);
                }
                digest
            }
        };
        digests.push(digest);
    }
    let in_snapshot = dockerfile_bytes.is_some();
    let dockerfile_bytes = match dockerfile_bytes {
        Some(bytes) => bytes,
        None => {
            let bytes = fs::read(dockerfile).with_context(|| format!("cannot read {dockerfile}"))?;
            append_file(&mut tar, &dockerfile_name, &bytes)?;
            bytes
        }
    };
    match &ignore_bytes {
        // What the engine will drop must be exactly what the snapshot left out.
        Some(bytes) => {
            let matcher = dockerignore::parse(&String::from_utf8_lossy(bytes))
                .with_context(|| format!("in {context}/.dockerignore"))?;
            let dropped = [".dockerignore", dockerfile_name.as_str()].map(|p| matcher.excludes(p));
            if dropped[0] || dropped[1] == in_snapshot {
                bail!(
                    "{context}/.dockerignore and {} disagree on whether {dockerfile_name} and .dockerignore are part \
                     of the context; Docker drops them by {context}/.dockerignore: make both files say the same for them",
                    listing.ignore_file.as_ref().map_or("the ignore file".to_owned(), |p| p.to_string())
                );
            }
        }
        None if !in_snapshot => {
            let rules = format!("/.dockerignore\n/{}\n", escape_pattern(&dockerfile_name));
            append_file(&mut tar, ".dockerignore", rules.as_bytes())?;
        }
        None => {}
    }
    tar.into_inner()?.flush()?;
    let dockerfile_text = String::from_utf8(dockerfile_bytes).with_context(|| format!("{dockerfile} is not UTF-8"))?;
    Ok(Archive { snapshot: collect(listing, digests, start), dockerfile_text, dockerfile_name })
}

fn append_file<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_size(bytes.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, bytes)?;
    Ok(())
}

/// A path as a `.dockerignore` pattern that matches only it.
fn escape_pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One digest over the sorted entries: the walk order can't change it.
pub fn combine(entries: &BTreeMap<String, Entry>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"context v1\n");
    for (path, entry) in entries {
        let kind = match entry.kind {
            Kind::File => "f",
            Kind::Dir => "d",
            Kind::Symlink => "l",
        };
        // NUL can't occur in a path, so the fields can't run into each other.
        hasher.update(format!("{kind}\0{path}\0{:o}\0{}\n", entry.mode, entry.digest));
    }
    hex(&hasher.finalize())
}

struct Found {
    path: String,
    kind: Kind,
    mode: u32,
    size: u64,
    /// Seconds since the epoch; not hashed, only carried into the tar.
    mtime: u64,
}

/// Collects what the build sees below `rel` (whose .dockerignore matches are `hits`). Returns
/// whether anything below `rel` was included, so that an excluded directory with re-included
/// contents is still recorded (Docker creates it).
fn walk(root: &Utf8Path, rel: &str, matcher: &Matcher, hits: &Hits, out: &mut Vec<Found>) -> Result<bool> {
    let dir = if rel.is_empty() { root.to_owned() } else { root.join(rel) };
    let mut included_any = false;
    for item in fs::read_dir(&dir).with_context(|| format!("cannot read directory {dir}"))? {
        let item = item?;
        let name = item.file_name();
        let Some(name) = name.to_str() else {
            bail!("{dir} contains a file name that is not UTF-8 ({name:?}): rename it or add it to .dockerignore");
        };
        let path = if rel.is_empty() { name.to_owned() } else { format!("{rel}/{name}") };
        let meta = item.metadata().with_context(|| format!("cannot stat {dir}/{name}"))?;
        let item_hits = matcher.hits(&path, hits);
        let excluded = matcher.excluded_by(&item_hits);
        let mode = meta.permissions().mode() & 0o7777;
        let mtime = meta.mtime().max(0) as u64;
        let kind = if meta.is_dir() {
            Kind::Dir
        } else if meta.is_symlink() {
            Kind::Symlink
        } else if meta.is_file() {
            Kind::File
        } else {
            continue; // sockets, fifos, devices: nothing a build can COPY
        };
        if kind == Kind::Dir {
            // An excluded directory is not even read unless an exception could reach inside.
            if excluded && !matcher.may_reinclude_below(&path) {
                continue;
            }
            let at = out.len();
            let below = walk(root, &path, matcher, &item_hits, out)?;
            if !excluded || below {
                out.insert(at, Found { path, kind, mode, size: 0, mtime });
                included_any = true;
            }
        } else if !excluded {
            let mode = if kind == Kind::Symlink { 0 } else { mode };
            out.push(Found { path, kind, mode, size: meta.len(), mtime });
            included_any = true;
        }
    }
    Ok(included_any)
}

/// sha256 of every file (and link text), on as many threads as there are cores (at most 4).
fn hash_files(root: &Utf8Path, found: &[Found]) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let next = AtomicUsize::new(0);
    let mut digests = vec![String::new(); found.len()];
    let results: Vec<Result<Vec<(usize, String)>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = found.get(i) else { break };
                        let path = root.join(&item.path);
                        let digest = match item.kind {
                            Kind::Dir => String::new(),
                            Kind::Symlink => {
                                let target =
                                    fs::read_link(&path).with_context(|| format!("cannot read link {path}"))?;
                                hex(&Sha256::digest(target.as_os_str().as_encoded_bytes()))
                            }
                            Kind::File => hash_file(&path, &mut buf)?,
                        };
                        done.push((i, digest));
                    }
                    Ok(done)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("hashing thread panicked")).collect()
    });
    for result in results {
        for (i, digest) in result? {
            digests[i] = digest;
        }
    }
    Ok(digests)
}

fn hash_file(path: &Utf8Path, buf: &mut [u8]) -> Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("cannot read {path}"))?;
    let mut hasher = Sha256::new();
    loop {
        let n = file.read(buf).with_context(|| format!("cannot read {path}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What changed between two snapshots' entries, as `path (edited|added|deleted|mode changed)`.
pub fn diff(old: &BTreeMap<String, Entry>, new: &BTreeMap<String, Entry>) -> Vec<String> {
    let mut changes = Vec::new();
    for (path, entry) in new {
        match old.get(path) {
            None => changes.push(format!("{path} (added)")),
            Some(prev) if prev.kind != entry.kind => changes.push(format!("{path} (type changed)")),
            Some(prev) if prev.digest != entry.digest => changes.push(format!("{path} (edited)")),
            Some(prev) if prev.mode != entry.mode => {
                changes.push(format!("{path} (mode {:o} → {:o})", prev.mode, entry.mode))
            }
            Some(_) => {}
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        changes.push(format!("{path} (deleted)"));
    }
    changes
}

#[cfg(test)]
mod tests;
