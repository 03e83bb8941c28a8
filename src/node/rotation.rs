//! Signing-key rotation without downtime.
//!
//! 1. A new key is written beside the current one (`signing.key.next`, 0600, synced).
//! 2. A key announcement naming it is signed by the current key, stored and flushed: from
//!    here on the rotation is decided.
//! 3. The current key file is linked into `retired/` under its key id, the new key takes its
//!    place (a rename), and the public key file is rewritten.
//! 4. The new key is put in force for every signature (records, tree heads, cosignatures), and
//!    the rotation is recorded as an admin event signed by the new key.
//!
//! A crash between steps is finished when the node next opens ([`recover`]): a next key the
//! log announced is installed; one it did not announce is deleted (the rotation never
//! happened). Partners hold the new key pending until their admin confirms it (or accept it at
//! once where configured); the replaced key keeps verifying the records it signed.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use tracing::{info, warn};

use super::{IssueError, Node, ServeError};
use crate::config::Config;
use crate::keys::{self, KeyError};
use crate::model::Note;
use crate::record::{AdminAction, AdminEvent, KeyAnnouncement, KeyId, RecordKind};
use crate::store::Store;

/// Where the next key waits while a rotation runs.
fn next_path(signing: &Path) -> PathBuf {
    let mut name = signing.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    signing.with_file_name(name)
}

/// Where replaced keys are kept (an admin may shred them once partners confirmed the new key).
fn retired_dir(signing: &Path) -> PathBuf {
    signing.with_file_name("retired")
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes the public key file (hex), atomically.
fn write_public(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let tmp = path.with_extension("pub.tmp");
    let _ = fs::remove_file(&tmp);
    fs::write(
        &tmp,
        format!("{}\n", hex::encode(key.verifying_key().as_bytes())),
    )
    .map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Step 3: the current key file is linked into `retired/`, the next one takes its place, the
/// public key file follows. Each step can be repeated after a crash.
fn install(config: &Config, next: &Path) -> Result<SigningKey, KeyError> {
    let new = keys::load_signing_key(next)?;
    let signing = &config.signing_key;
    if signing.exists() {
        let old = keys::load_signing_key(signing)?;
        let dir = retired_dir(signing);
        std::os::unix::fs::DirBuilderExt::mode(fs::DirBuilder::new().recursive(true), 0o700)
            .create(&dir)
            .map_err(io_err(&dir))?;
        let kept = dir.join(format!("{}.key", KeyId::of(&old.verifying_key()).to_hex()));
        match fs::hard_link(signing, &kept) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(&kept)(e)),
        }
        // The public half stays when an admin shreds the private one: audit bundles carry
        // it, so the records it signed keep verifying.
        write_public(&kept.with_extension("pub"), &old)?;
        sync_dir(&dir)?;
    }
    fs::rename(next, signing).map_err(io_err(signing))?;
    if let Some(dir) = signing.parent() {
        sync_dir(dir)?;
    }
    write_public(&config.public_key, &new)?;
    Ok(new)
}

/// This node's replaced signing keys (`retired/*.pub`), oldest file name first: they keep
/// verifying the records they signed, so audit bundles carry them.
#[must_use]
pub fn retired_public_keys(signing: &Path) -> Vec<ed25519_dalek::VerifyingKey> {
    let Ok(dir) = fs::read_dir(retired_dir(signing)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pub"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .filter_map(|t| keys::parse_public_key(&t).ok())
        .collect()
}

/// Whether this node's log holds an announcement of `key` (found through the index of key
/// announcements, whatever was signed after it).
fn announced(store: &Store, config: &Config, key: &SigningKey) -> Result<bool, ServeError> {
    let announcements = store.indexed_records(
        crate::store::IndexKind::KeyAnnouncementOf,
        config.origin.country.as_str(),
    )?;
    Ok(announcements.into_iter().any(|r| {
        r.origin == config.origin
            && matches!(r.kind, RecordKind::KeyAnnouncement(a) if a.public_key == key.verifying_key())
    }))
}

/// Finishes a rotation a crash interrupted, then loads the signing key in force and checks it
/// against the public key file (rewritten if a crash came between the two).
///
/// # Errors
/// Key files unreadable, or a key that matches neither its public key file nor an
/// announcement in the log.
pub(super) fn recover(config: &Config, store: &Store) -> Result<SigningKey, ServeError> {
    let next = next_path(&config.signing_key);
    if next.exists() {
        let key = keys::load_signing_key(&next)?;
        if announced(store, config, &key)? {
            install(config, &next)?;
            info!(
                key_id = %KeyId::of(&key.verifying_key()).to_hex(),
                "an interrupted key rotation was completed"
            );
        } else {
            fs::remove_file(&next).map_err(|e| KeyError::Io {
                path: next.clone(),
                source: e,
            })?;
            warn!("a key rotation interrupted before its announcement was abandoned; the current key stays in force");
        }
    }
    let key = keys::load_signing_key(&config.signing_key)?;
    if config.public_key()? != key.verifying_key() {
        if announced(store, config, &key)? {
            write_public(&config.public_key, &key)?;
        } else {
            return Err(ServeError::KeyMismatch {
                key: config.signing_key.clone(),
                public: config.public_key.clone(),
            });
        }
    }
    Ok(key)
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The key replaced.
    pub old: KeyId,
    /// The key in force now.
    pub new: KeyId,
    /// The new public key.
    pub public_key: ed25519_dalek::VerifyingKey,
    /// Sequence number of the announcement.
    pub announcement_seq: u64,
}

/// Why a rotation failed.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// Key files.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signing or storing the announcement.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A rotation is already running.
    #[error("a key rotation is already running")]
    Busy,
}

impl Node {
    /// Rotates the signing key (see the module documentation). Returns once the new key is
    /// in force and its announcement is durable.
    ///
    /// # Errors
    /// Key files, or the announcement could not be stored (then the current key stays in
    /// force and the next key file is removed).
    pub async fn rotate_signing_key(
        &self,
        reason: Option<Note>,
    ) -> Result<Rotation, RotationError> {
        let Ok(_one) = self.rotation_lock.try_lock() else {
            return Err(RotationError::Busy);
        };
        let old = self.key.current();
        let next = next_path(&self.config.signing_key);
        // A leftover of a failed attempt that was never announced (recover() removes it at
        // start; a failed announcement removes it below).
        if next.exists() {
            fs::remove_file(&next).map_err(io_err(&next))?;
        }
        let new = keys::generate()?;
        keys::write_signing_key(&next, &new)?;
        let announcement =
            RecordKind::KeyAnnouncement(KeyAnnouncement::new(self.origin(), &new, reason));
        let signed = match self.issue(announcement).await {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_file(&next);
                return Err(e.into());
            }
        };
        let installed = install(&self.config, &next)?;
        self.key.replace(installed);
        let (old_id, new_id) = (
            KeyId::of(&old.verifying_key()),
            KeyId::of(&new.verifying_key()),
        );
        info!(old = %old_id.to_hex(), new = %new_id.to_hex(), seq = signed.record.seq, "signing key rotated");
        let detail = Note::parse(&format!(
            "signing key rotated: announcement seq {}; the replaced key is kept in {}",
            signed.record.seq,
            retired_dir(&self.config.signing_key).display()
        ))
        .or_else(|_| Note::parse("signing key rotated"));
        let Ok(detail) = detail else {
            return Ok(Rotation {
                old: KeyId::of(&old.verifying_key()),
                new: KeyId::of(&new.verifying_key()),
                public_key: new.verifying_key(),
                announcement_seq: signed.record.seq,
            });
        };
        if let Err(e) = self
            .record_trust_change(RecordKind::AdminEvent(AdminEvent {
                action: AdminAction::KeyRotated,
                country: self.config.origin.country,
                key_ids: vec![old_id, new_id],
                ca_sha256: None,
                detail,
            }))
            .await
        {
            warn!(error = %e, "the key rotated, but recording the admin event failed");
        }
        Ok(Rotation {
            old: old_id,
            new: new_id,
            public_key: new.verifying_key(),
            announcement_seq: signed.record.seq,
        })
    }
}
