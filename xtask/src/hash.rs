//! Content hashing of a build context: every file the build can see after `.dockerignore`
//! (relative path, type, permission bits, bytes; symlinks as their link text; directories with
//! their mode), independent of modification times and of the order the walk finds files in.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    os::unix::fs::PermissionsExt,
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

pub fn snapshot(context: &Utf8Path, dockerfile: &Utf8Path) -> Result<Snapshot> {
    let start = Instant::now();
    if !context.is_dir() {
        bail!("build context {context} does not exist or is not a directory");
    }
    let ignore_path = ignore_file(context, dockerfile);
    let matcher = match &ignore_path {
        Some(path) => {
            let text = fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
            dockerignore::parse(&text).with_context(|| format!("in {path}"))?
        }
        None => Matcher::default(),
    };
    let mut found = Vec::new();
    walk(context, "", &matcher, &Hits::default(), &mut found)?;
    let digests = hash_files(context, &found)?;
    let mut entries = BTreeMap::new();
    let (mut files, mut bytes) = (0, 0);
    for (item, digest) in found.into_iter().zip(digests) {
        if item.kind == Kind::File {
            files += 1;
            bytes += item.size;
        }
        entries.insert(item.path, Entry { kind: item.kind, mode: item.mode, digest });
    }
    let digest = combine(&entries);
    Ok(Snapshot { entries, digest, files, bytes, elapsed: start.elapsed(), ignore_file: ignore_path })
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
                out.insert(at, Found { path, kind, mode, size: 0 });
                included_any = true;
            }
        } else if !excluded {
            out.push(Found { path, kind, mode: if kind == Kind::Symlink { 0 } else { mode }, size: meta.len() });
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
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn fixture() -> TempDir {
        let dir = TempDir::new();
        dir.write("Dockerfile", "FROM scratch\nCOPY . /\n");
        dir.write("src/main.py", "print('hi')\n");
        dir.write("src/util/helpers.py", "X = 1\n");
        dir.write("README.md", "# readme\n");
        dir
    }

    #[test]
    fn same_content_same_hash_regardless_of_mtime_and_creation_order() {
        let a = fixture();
        // The same files written in the opposite order, later, with other mtimes.
        let b = TempDir::new();
        std::thread::sleep(Duration::from_millis(20));
        b.write("README.md", "# readme\n");
        b.write("src/util/helpers.py", "X = 1\n");
        b.write("src/main.py", "print('hi')\n");
        b.write("Dockerfile", "FROM scratch\nCOPY . /\n");
        let ha = snapshot(&a.path, &a.path.join("Dockerfile")).unwrap();
        let hb = snapshot(&b.path, &b.path.join("Dockerfile")).unwrap();
        assert_eq!(ha.digest, hb.digest);
        // Touching a file (new mtime, same bytes) changes nothing either.
        a.touch("src/main.py");
        assert_eq!(snapshot(&a.path, &a.path.join("Dockerfile")).unwrap().digest, ha.digest);
        assert_eq!(ha.files, 4);
        assert_eq!(ha.bytes, 22 + 12 + 6 + 9);
    }

    #[test]
    fn symlinks_are_hashed_as_link_text_not_followed() {
        let dir = fixture();
        std::os::unix::fs::symlink("src/main.py", dir.path.join("link")).unwrap();
        let before = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert_eq!(before.entries["link"].kind, Kind::Symlink);
        // Editing the target changes the target's entry, not the link's.
        dir.write("src/main.py", "print('bye')\n");
        let after = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert_eq!(before.entries["link"], after.entries["link"]);
        std::fs::remove_file(dir.path.join("link")).unwrap();
        std::os::unix::fs::symlink("README.md", dir.path.join("link")).unwrap();
        let retargeted = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert_ne!(retargeted.entries["link"], after.entries["link"]);
    }

    #[test]
    fn ignored_directories_are_not_read() {
        let dir = fixture();
        dir.write(".dockerignore", "node_modules\n");
        dir.write("node_modules/a/index.js", "x");
        // A name the walk refuses (not UTF-8) proves the directory was never read.
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"node_modules/\xff\xfe");
        std::fs::write(dir.path.as_std_path().join(bad), "x").unwrap();
        let snap = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert!(!snap.entries.keys().any(|p| p.starts_with("node_modules")), "{:?}", snap.entries.keys());
    }

    #[test]
    fn excluded_directory_with_an_exception_keeps_the_exception_and_its_parent() {
        let dir = fixture();
        dir.write(".dockerignore", "docs\n!docs/keep.md\n");
        dir.write("docs/keep.md", "k");
        dir.write("docs/drop.md", "d");
        let snap = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert!(snap.entries.contains_key("docs/keep.md"));
        assert!(snap.entries.contains_key("docs"));
        assert!(!snap.entries.contains_key("docs/drop.md"));
    }

    #[test]
    fn dockerfile_specific_ignore_file_wins() {
        let dir = fixture();
        dir.write(".dockerignore", "README.md\n");
        dir.write("Dockerfile.dockerignore", "src\n");
        let snap = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        assert!(snap.entries.contains_key("README.md"));
        assert!(!snap.entries.contains_key("src/main.py"));
        assert_eq!(snap.ignore_file.unwrap(), dir.path.join("Dockerfile.dockerignore"));
    }

    #[test]
    fn diff_names_each_change() {
        let dir = fixture();
        let before = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        dir.write("src/main.py", "print('changed')\n");
        dir.write("src/new.py", "");
        std::fs::remove_file(dir.path.join("README.md")).unwrap();
        dir.chmod("src/util/helpers.py", 0o755);
        let after = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
        let mut changes = diff(&before.entries, &after.entries);
        changes.sort();
        assert_eq!(
            changes,
            [
                "README.md (deleted)",
                "src/main.py (edited)",
                "src/new.py (added)",
                "src/util/helpers.py (mode 644 → 755)"
            ]
        );
    }
}
