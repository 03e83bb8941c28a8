//! Ed25519 key files.
//!
//! The node's signing key is a PKCS#8 PEM file written with mode 0600 (readable by `openssl
//! pkey`). Loading refuses a key file that group or others can read. Public keys are exchanged
//! as 64 hex digits (or SPKI PEM) and are refused when malformed, non-canonical or weak
//! (small-order points, under which forged signatures verify).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The private key file is readable or writable by group or others.
    #[error(
        "{path}: signing key has mode {mode:04o}, readable by others; refusing to use it \
         (fix with: chmod 600 {path})"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A private file or directory owned by another user.
    #[error(
        "{path} is owned by uid {owner}, not by this user (uid {me}); refusing to use it \
         (fix with: chown {me} {path})"
    )]
    Owner {
        /// The file or directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's user.
        me: u32,
    },
    /// A data or key directory others may write to (they could replace keys or the database).
    #[error(
        "{path} is writable by group or others (mode {mode:04o}); refusing to use it \
         (fix with: chmod go-w {path})"
    )]
    DirPermissions {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a PKCS#8 Ed25519 key.
    #[error("{path}: not a PKCS#8 PEM Ed25519 private key ({reason})")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// Public key refused.
    #[error("public key {0}")]
    Public(String),
    /// The system random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
}

/// Generates a fresh signing key from the operating system's CSPRNG.
///
/// # Errors
/// When the OS random source fails.
pub fn generate() -> Result<SigningKey, KeyError> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::getrandom(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes a new key file with mode 0600. Refuses to overwrite an existing file.
///
/// # Errors
/// The file exists or cannot be written.
pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    write_private_file(path, pem.as_bytes())
}

/// Writes a secret (private key) file with mode 0600, refusing to overwrite, and syncs it.
///
/// # Errors
/// The file exists or cannot be written.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

/// Refuses a private key file that group or others may read or write.
///
/// # Errors
/// Missing file or loose permissions.
pub fn check_private_mode(path: &Path) -> Result<(), KeyError> {
    let meta = fs::metadata(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    check_owner(path, &meta)
}

fn check_owner(path: &Path, meta: &fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(KeyError::Owner {
            path: path.to_owned(),
            owner: meta.uid(),
            me,
        });
    }
    Ok(())
}

/// Refuses a data or key directory that group or others may write to, or that another user
/// owns.
///
/// # Errors
/// Missing directory, loose permissions or another owner.
pub fn check_private_dir(path: &Path) -> Result<(), KeyError> {
    let meta = fs::metadata(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(KeyError::DirPermissions {
            path: path.to_owned(),
            mode,
        });
    }
    check_owner(path, &meta)
}

/// Loads the node's signing key, refusing a file readable by group or others.
///
/// # Errors
/// Missing file, loose permissions, or not a PKCS#8 Ed25519 key.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    check_private_mode(path)?;
    let pem = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io)?);
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Parses a public signing key given as 64 hex digits or SPKI PEM, refusing weak and
/// non-canonical keys.
///
/// # Errors
/// Malformed, not on the curve, non-canonical encoding, or a small-order (weak) point.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let t = text.trim();
    let key = if t.starts_with("-----BEGIN") {
        VerifyingKey::from_public_key_pem(t)
            .map_err(|e| KeyError::Public(format!("is not an Ed25519 SPKI PEM key: {e}")))?
    } else {
        let mut b = [0u8; 32];
        hex::decode_to_slice(t, &mut b).map_err(|_| {
            KeyError::Public("must be 64 hex digits (32 bytes) or a PEM key".into())
        })?;
        VerifyingKey::from_bytes(&b)
            .map_err(|_| KeyError::Public("is not a point on Ed25519".into()))?
    };
    // `from_bytes` keeps the bytes it was given: re-encode the point to see whether they
    // were its one canonical encoding (a y coordinate at or above p is not; RFC 8032
    // section 5.1.3 requires decoding to fail).
    if key.to_edwards().compress().as_bytes() != key.as_bytes() {
        return Err(KeyError::Public(
            "is not canonically encoded (its y coordinate is not reduced modulo p)".into(),
        ));
    }
    if key.is_weak() {
        return Err(KeyError::Public(
            "is a small-order (weak) point: signatures under it can be forged".into(),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y = p + i for small i: the same points as y = i, encoded non-canonically.
        let p: [u8; 32] = {
            let mut b = [0xffu8; 32];
            b[0] = 0xed;
            b[31] = 0x7f;
            b
        };
        let mut refused_on_curve = 0;
        for i in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut b = p;
                b[0] = b[0].wrapping_add(i);
                b[31] |= sign;
                let text = hex::encode(b);
                if VerifyingKey::from_bytes(&b).is_ok() {
                    let e = parse_public_key(&text).unwrap_err().to_string();
                    assert!(
                        e.contains("canonically") || e.contains("small-order"),
                        "{text}: {e}"
                    );
                    if e.contains("canonically") {
                        refused_on_curve += 1;
                    }
                }
            }
        }
        assert!(refused_on_curve > 0, "no non-canonical point was tried");
    }

    #[test]
    fn key_file_round_trip_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("signing.key");
        let k = generate().unwrap();
        write_signing_key(&p, &k).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_signing_key(&p).unwrap().to_bytes(), k.to_bytes());
        assert!(write_signing_key(&p, &k).is_err(), "no overwrite");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_signing_key(&p),
            Err(KeyError::Permissions { mode: 0o644, .. })
        ));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_signing_key(&p).is_err());
    }

    #[test]
    fn weak_and_malformed_public_keys_are_refused() {
        let k = generate().unwrap().verifying_key();
        assert_eq!(parse_public_key(&hex::encode(k.as_bytes())).unwrap(), k);
        // Identity point (small order).
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(parse_public_key(&hex::encode(id)).is_err());
        // All zeros: a point of order 4.
        assert!(parse_public_key(&"00".repeat(32)).is_err());
        assert!(parse_public_key("abcd").is_err());
        assert!(parse_public_key(&"zz".repeat(32)).is_err());
    }
}

/// The node's signing key as it is now: shared by everything that signs, and replaced in place
/// when the key rotates (the next signature uses the new key).
#[derive(Clone)]
pub struct LiveKey(std::sync::Arc<std::sync::RwLock<std::sync::Arc<SigningKey>>>);

impl LiveKey {
    /// Holds `key`.
    #[must_use]
    pub fn new(key: SigningKey) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(
            std::sync::Arc::new(key),
        )))
    }

    /// The key in force.
    #[must_use]
    pub fn current(&self) -> std::sync::Arc<SigningKey> {
        match self.0.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `key` in force.
    pub fn replace(&self, key: SigningKey) {
        let new = std::sync::Arc::new(key);
        match self.0.write() {
            Ok(mut k) => *k = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}
