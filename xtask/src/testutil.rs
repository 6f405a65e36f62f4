//! Scratch directories for tests, removed on drop.

use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

pub struct TempDir {
    pub path: Utf8PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = Utf8PathBuf::from_path_buf(std::env::temp_dir()).unwrap();
        let path = base.join(format!("xtask-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// Writes a file (mode 644, whatever the umask), creating its directories.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        self.chmod(rel, 0o644);
    }

    pub fn chmod(&self, rel: &str, mode: u32) {
        std::fs::set_permissions(self.path.join(rel), std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Sets the modification time to now without changing the bytes.
    pub fn touch(&self, rel: &str) {
        let file = std::fs::File::options().append(true).open(self.path.join(rel)).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    }

    pub fn join(&self, rel: &str) -> Utf8PathBuf {
        self.path.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl AsRef<Utf8Path> for TempDir {
    fn as_ref(&self) -> &Utf8Path {
        &self.path
    }
}

/// A valid infra.toml for tests: `app` is built FROM `base` and listed first (so loading has to
/// order them), a chart at `chart/` and one Minikube environment with `values-dev.yaml`.
pub const INFRA_TOML: &str = r#"default_environment = "dev"

[images.app]
name = "app"
context = "app"
depends_on = ["base"]
build_args = { BASE = "{images.base}" }

[images.base]
name = "base"
context = "base"

[release]
name = "r"
namespace = "ns"
chart = "chart"
entrypoint = { service = "r-app", port = 80 }

[environments.dev]
type = "minikube"
values = ["values-dev.yaml"]
"#;
