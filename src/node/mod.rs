//! The `kdesk serve` process.
//!
//! [`serve`] opens the store (sled's lock makes the process the directory's only owner), loads
//! the signing key (refusing one readable by others), binds the Admin API on a 0600 Unix
//! socket and serves until `shutdown` resolves; then it stops accepting, lets in-flight
//! requests finish, flushes the store and removes the socket.

mod admin;

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tracing::{error, info};

use crate::config::{Config, ConfigError};
use crate::keys::{self, KeyError};
use crate::pb;
use crate::record::{Origin, Record, RecordKind, SignedRecord};
use crate::store::{Ingest, Store, StoreError};

pub use admin::AdminService;

/// Largest Admin API message accepted (bytes).
pub const MAX_ADMIN_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Signing key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key file and the public key file disagree.
    #[error("signing key {key} does not match public key file {public}")]
    KeyMismatch {
        /// Key file.
        key: PathBuf,
        /// Public key file.
        public: PathBuf,
    },
    /// Another process owns the database.
    #[error("another kdesk node is already running on {0} (its database is locked)")]
    AlreadyRunning(PathBuf),
    /// Store problem.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Socket problem.
    #[error("admin socket {path}: {source}")]
    Socket {
        /// Socket path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("admin server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Shared state of a running node.
pub struct Node {
    /// Configuration.
    pub config: Config,
    /// Database.
    pub store: Store,
    key: SigningKey,
    issue_lock: tokio::sync::Mutex<()>,
    started: Instant,
}

/// Why a record could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Storage failure or lifecycle rule.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store already held the (origin, seq) just assigned: the database and the key are
    /// out of step (e.g. a restored backup). Nothing was acknowledged.
    #[error("sequence {0} is already taken in the store; refusing to sign a conflicting record")]
    SeqConflict(u64),
}

impl Node {
    /// Opens the node's store and key.
    ///
    /// # Errors
    /// Key refused, key/public mismatch, database locked or unreadable.
    pub fn open(config: Config) -> Result<Self, ServeError> {
        let key = keys::load_signing_key(&config.signing_key)?;
        if config.public_key()? != key.verifying_key() {
            return Err(ServeError::KeyMismatch {
                key: config.signing_key.clone(),
                public: config.public_key.clone(),
            });
        }
        let store = Store::open(&config.database).map_err(|e| match e {
            StoreError::Sled(sled::Error::Io(ref io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                ServeError::AlreadyRunning(config.data_dir.clone())
            }
            e => ServeError::Store(e),
        })?;
        Ok(Self {
            config,
            store,
            key,
            issue_lock: tokio::sync::Mutex::new(()),
            started: Instant::now(),
        })
    }

    /// This node's origin.
    pub fn origin(&self) -> &Origin {
        &self.config.origin
    }

    /// This node's public key.
    pub fn public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    /// Seconds since the node started.
    pub fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Assigns the next sequence number, signs, stores and flushes a record of this node.
    /// Returns only once the record is durable.
    ///
    /// # Errors
    /// A lifecycle rule (nothing stored, sequence number not consumed) or a storage failure.
    pub async fn issue(&self, kind: RecordKind) -> Result<SignedRecord, IssueError> {
        let signed = {
            let _one_at_a_time = self.issue_lock.lock().await;
            let seq = self.store.last_seq(self.origin())? + 1;
            let record = Record {
                origin: self.origin().clone(),
                seq,
                created_at_ms: now_ms(),
                kind,
            };
            let signed = record.sign(&self.key);
            match self.store.ingest(&signed, now_ms())? {
                Ingest::Stored => {}
                Ingest::Duplicate | Ingest::Equivocation { .. } => {
                    return Err(IssueError::SeqConflict(seq))
                }
            }
            signed
        };
        // Durability point. A later flush by another request also covers this record, so
        // holding the lock through the flush is not needed for correctness.
        self.store.flush().await?;
        info!(id = %signed.id, seq = signed.record.seq, kind = signed.record.kind.name(), "issued");
        Ok(signed)
    }
}

/// Runs the node until `shutdown` resolves.
///
/// # Errors
/// Start-up failures ([`ServeError`]) or a server failure.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let socket = config.admin_socket.clone();
    let node = Arc::new(Node::open(config)?);
    // We hold the database lock, so a socket file left here belongs to a node that died.
    match std::fs::remove_file(&socket) {
        Ok(()) => info!(path = %socket.display(), "removed stale admin socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ServeError::Socket {
                path: socket,
                source,
            })
        }
    }
    let listener = bind_private(&socket)?;
    info!(
        origin = %node.origin(),
        key_id = %crate::record::KeyId::of(&node.public_key()),
        records = node.store.len(),
        socket = %socket.display(),
        "kdesk node serving"
    );
    let admin = pb::admin_server::AdminServer::new(AdminService::new(node.clone()))
        .max_decoding_message_size(MAX_ADMIN_MESSAGE_BYTES);
    let result = tonic::transport::Server::builder()
        .add_service(admin)
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await;
    info!("shutting down: requests drained, flushing store");
    let flushed = node.store.flush().await;
    let _ = std::fs::remove_file(&socket);
    if let Err(e) = &result {
        error!(cause = %e, "admin server failed");
    }
    result?;
    flushed?;
    info!("stopped cleanly");
    Ok(())
}

/// Binds a Unix socket that only the owner can use (0600).
fn bind_private(path: &std::path::Path) -> Result<UnixListener, ServeError> {
    let err = |source| ServeError::Socket {
        path: path.to_owned(),
        source,
    };
    // Create the socket with no group/other bits from the start (no window where it is
    // reachable by others), then make the mode explicit.
    // SAFETY: umask only swaps the process file-mode mask; it has no memory effects.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(old) };
    let listener = bound.map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(listener)
}
