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

/// Path → (entry type, bytes) of a tar.
fn tar_entries(bytes: &[u8]) -> BTreeMap<String, (tar::EntryType, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().trim_end_matches('/').to_owned();
        let kind = entry.header().entry_type();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(path, (kind, data));
    }
    out
}

#[test]
fn archive_holds_exactly_the_snapshot_and_hashes_the_same() {
    let dir = fixture();
    dir.write(".dockerignore", "README.md\n");
    std::os::unix::fs::symlink("src/main.py", dir.path.join("link")).unwrap();
    let mut tar = Vec::new();
    let archive = archive(&dir.path, &dir.path.join("Dockerfile"), &mut tar).unwrap();
    let snap = snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap();
    assert_eq!(archive.snapshot.digest, snap.digest);
    assert_eq!(archive.dockerfile_name, "Dockerfile");
    let entries = tar_entries(&tar);
    assert_eq!(entries.keys().collect::<Vec<_>>(), snap.entries.keys().collect::<Vec<_>>());
    assert_eq!(entries["src/main.py"].1, b"print('hi')\n");
    assert_eq!(entries["link"].0, tar::EntryType::Symlink);
    assert_eq!(entries["src"].0, tar::EntryType::Directory);
    // What was written stays what the digest says, whatever happens to the files after.
    dir.write("src/main.py", "print('later')\n");
    assert_ne!(snapshot(&dir.path, &dir.path.join("Dockerfile")).unwrap().digest, archive.snapshot.digest);
}

#[test]
fn an_excluded_dockerfile_travels_with_an_ignore_file_that_drops_it() {
    let dir = fixture();
    dir.write(".dockerignore", "Dockerfile\n.dockerignore\n");
    let mut tar = Vec::new();
    let archive = archive(&dir.path, &dir.path.join("Dockerfile"), &mut tar).unwrap();
    assert!(!archive.snapshot.entries.contains_key("Dockerfile"));
    assert_eq!(archive.dockerfile_text, "FROM scratch\nCOPY . /\n");
    let entries = tar_entries(&tar);
    assert_eq!(entries["Dockerfile"].1, b"FROM scratch\nCOPY . /\n");
    let rules = dockerignore::parse(std::str::from_utf8(&entries[".dockerignore"].1).unwrap()).unwrap();
    assert!(rules.excludes("Dockerfile") && rules.excludes(".dockerignore"));
    assert!(!rules.excludes("src/main.py"));
}

#[test]
fn an_ignore_file_docker_would_read_differently_is_refused() {
    // The Dockerfile-specific file keeps the Dockerfile; the engine would drop it by the
    // context's .dockerignore, which the tar must carry (the specific file keeps it).
    let dir = fixture();
    dir.write(".dockerignore", "Dockerfile\n");
    dir.write("Dockerfile.dockerignore", "README.md\n");
    let err = archive(&dir.path, &dir.path.join("Dockerfile"), Vec::new()).err().unwrap().to_string();
    assert!(err.contains("disagree"), "{err}");
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
        ["README.md (deleted)", "src/main.py (edited)", "src/new.py (added)", "src/util/helpers.py (mode 644 → 755)"]
    );
}
