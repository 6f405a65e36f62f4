//! The machine's key for the digests xtask keeps of values that may be secret (build-arg
//! values, the release fingerprint that covers the chart's secrets): HMAC-SHA256 under a random
//! key that stays on this machine, so a copied `state.json` can't be used to guess a weak
//! secret offline. The key is `<tools cache>/digest.key` (`~/.cache/todo-chatbot`), 32 random
//! bytes, mode 0600, made on first use; outside the repository, never in a report.

use std::{
    fs,
    io::{Read, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
};

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{hash::hex, tools};

const LEN: usize = 32;

#[derive(Clone)]
pub struct DigestKey([u8; LEN]);

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey(…)")
    }
}

/// A key of this process only: its digests match nothing kept, so they never make a false
/// "unchanged" (a state without the machine's key rebuilds and redeploys).
impl Default for DigestKey {
    fn default() -> Self {
        DigestKey(random().expect("cannot read /dev/urandom"))
    }
}

impl DigestKey {
    /// The machine's key, made on first use.
    pub fn load() -> Result<DigestKey> {
        let Some(cache) = tools::cache() else {
            bail!("neither HOME nor TODO_CHATBOT_CACHE is set: xtask keeps its digest key under one of them");
        };
        Self::load_from(&cache.join("digest.key"))
    }

    pub fn load_from(path: &Utf8Path) -> Result<DigestKey> {
        if !path.exists() {
            create(path)?;
        }
        let mut bytes = Vec::new();
        fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {path}"))?;
        let Ok(key) = <[u8; LEN]>::try_from(bytes.as_slice()) else {
            bail!("{path} is not a key of {LEN} bytes: remove it (images with build args rebuild, the release redeploys once)");
        };
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        if mode != 0o600 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot chmod {path}"))?;
        }
        Ok(DigestKey(key))
    }

    /// HMAC-SHA256 of `bytes`, hex.
    pub fn digest(&self, bytes: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(bytes);
        hex(&mac.finalize().into_bytes())
    }
}

fn random() -> Result<[u8; LEN]> {
    let mut key = [0u8; LEN];
    fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)).context("cannot read /dev/urandom")?;
    Ok(key)
}

/// Writes a new key under a temporary name, then links it into place: of two xtasks starting
/// at once, one key wins and both read it.
fn create(path: &Utf8Path) -> Result<()> {
    let dir = path.parent().expect("the key lives in a directory");
    fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    let tmp = dir.join(format!(".digest.key.{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {tmp}"))?;
    file.write_all(&random()?)?;
    file.sync_all()?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err).with_context(|| format!("cannot create {path}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn the_key_is_made_once_private_and_keys_the_digest() {
        let dir = TempDir::new();
        let path = dir.join("cache/digest.key");
        let key = DigestKey::load_from(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read(&path).unwrap().len(), LEN);
        // The same key on the next run: its digests are stable.
        let again = DigestKey::load_from(&path).unwrap();
        assert_eq!(key.digest(b"hunter2"), again.digest(b"hunter2"));
        // Not the plain sha256 a guess could be checked against, and another machine's differs.
        assert_ne!(key.digest(b"hunter2"), crate::hash::sha256_hex(b"hunter2"));
        let other = DigestKey::load_from(&dir.join("other/digest.key")).unwrap();
        assert_ne!(key.digest(b"hunter2"), other.digest(b"hunter2"));
        // RFC 4231 test case 2: it is HMAC-SHA256.
        let mut jefe = [0u8; LEN];
        jefe[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            DigestKey(jefe).digest(b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_damaged_key_is_refused_with_what_to_do() {
        let dir = TempDir::new();
        dir.write("digest.key", "short");
        let err = DigestKey::load_from(&dir.join("digest.key")).unwrap_err().to_string();
        assert!(err.contains("remove it"), "{err}");
    }
}
