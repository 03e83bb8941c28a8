//! Durable storage in sled 0.34.7.
//!
//! One sled `Tree` per keyspace, big-endian numeric keys so that iteration order is sequence
//! order:
//!
//! | tree       | key                                   | value                               |
//! |------------|---------------------------------------|-------------------------------------|
//! | `records`  | record id (32)                        | stored-at ms (8, BE) ‖ Envelope     |
//! | `seq`      | origin prefix ‖ first seq (8, BE)     | record ids (32 each) of consecutive seqs (a run) |
//! | `state`    | alert/amendment record id             | status (1) ‖ superseded_by ‖ retracted_by ‖ supersedes; none for an active plain alert never changed |
//! | `evidence` | origin prefix ‖ seq ‖ record id       | conflicting Envelope (equivocation) |
//! | `idx`      | index kind (1) ‖ value ‖ 0x00 ‖ id    | empty (hit and outcome links)       |
//! | `log`      | first position (8, BE)                | record ids (32 each) of one stored batch |
//! | `meta`     | `log_len`, `derived_active`; `revoked-key/` ‖ public key | log length; active plain alerts without a `state` entry (8, BE); why and from when a partner key was revoked (kept after the partner is removed) |
//! | `pending`  | target id ‖ kind (1)                  | amendment/retraction that arrived before its target |
//! | `peers`, `cursors` | partner country               | registration JSON / next log position |
//! | `witness`  | tag (1) ‖ …                           | own tree heads, partners' heads seen, cosignatures, evidence |
//! | `requests` | request id (UTF-8)                    | SHA-256 of the request (32) ‖ first seq (8) ‖ record count (8): idempotent issuing |
//! | `counters` | `refused/` ‖ country ‖ `/` ‖ reason | records, tree heads and cosignatures refused from a partner, by reason (8, BE): kept across restarts |
//! | `held`, `held_filter`, `held_exp`, `held_seen`, `retro` | see [`held`] | screened lines not yet arrived (in segments), their filters, expiry and fingerprints; hits found by retro-screening |
//! | `intel_sources`, `intel_items`, `intel_hits` | see [`intel`] | local intelligence: never signed, logged or replicated |
//! | `quarantine` | partner country (2) ‖ record id     | received ms (8) ‖ reason length (1) ‖ reason ‖ Envelope: refused for a fixable reason, judged again when the registry changes |
//!
//! The origin prefix is country (2) ‖ node-name length (1) ‖ node name, so no origin's prefix is
//! a prefix of another's. Every batch of records is written by one multi-tree transaction,
//! one writer at a time: it is stored whole or not at all. Nothing is acknowledged until [`Store::flush`] has returned.
//!
//! Flushing has one owner, the flusher thread (group commit, [`Flusher`]): sled 0.34.7
//! deadlocks when its asynchronous flush runs concurrently (sled issue #1308), so kdesk never
//! uses it.

mod activity;
pub mod backup;
pub mod counters;
pub mod disk;
mod flusher;
mod held;
pub mod intel;
mod lifecycle;
mod peers;
mod records;
mod requests;
#[cfg(test)]
mod tests;
mod witness;

use std::path::Path;

pub use activity::{Activity, Running};
pub use flusher::{FlushError, Flusher, WriteFailure};
pub use held::{HeldEntry, HeldLine, SegmentMatches, MAX_PROBES, SEGMENT_BYTES};
pub use intel::{IntelHit, IntelOutcome, StoredItem, StoredSource};
pub use lifecycle::{display_status, AlertState, Status};
pub use peers::{Quarantined, RevokedKey, MAX_QUARANTINE_PER_PEER};
pub use records::{claimed_origin, index_entries, IndexKind, Mode, StoredEntry};
pub use requests::{RequestKey, RequestRecord};
#[allow(clippy::wildcard_imports)]
use {lifecycle::*, records::*};

use prost::Message;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::model::{CountryCode, Date};
use crate::pb;
use crate::record::{origin_key_prefix, Origin, Record, RecordId, RecordKind, SignedRecord};

/// Storage failure or refusal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption, or another process holds the directory).
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    /// Stored bytes did not decode: the database is damaged.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The record breaks a lifecycle rule; nothing was stored.
    #[error("{0}")]
    Rejected(Rejection),
    /// An all-or-nothing batch met a record whose (origin, seq) is already stored; nothing
    /// was stored.
    #[error("sequence {0} is already taken in the store")]
    SeqTaken(u64),
    /// The flush that should have made the writes durable did not.
    #[error("storage: {0}")]
    Flush(#[from] FlushError),
    /// The same work is already running; ask again shortly.
    #[error("busy: the same work is already running; retry shortly")]
    Busy,
    /// A lock was poisoned by a panic in this process: the stored data is fine, the process
    /// is not.
    #[error("internal: the {0} lock was poisoned by an earlier failure; restart the node (stored data is not affected)")]
    Poisoned(&'static str),
}

/// Lifecycle rules an amendment or retraction can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The target record is not stored here.
    #[error("target {0} is not a stored alert")]
    UnknownTarget(String),
    /// Only the origin of an alert may amend or retract it.
    #[error("target {target} belongs to {owner}, not to {origin}")]
    NotOwner {
        /// The target id.
        target: String,
        /// Its origin.
        owner: String,
        /// The record's origin.
        origin: String,
    },
    /// The target is not the current version.
    #[error("target {target} is {status}{by}")]
    NotCurrent {
        /// The target id.
        target: String,
        /// Its status.
        status: &'static str,
        /// ", superseded by X" or ", retracted by X".
        by: String,
    },
    /// Admin events are only ever stored by the node they describe.
    #[error("another node's admin event is never stored")]
    NotOwnEvent,
    /// An amendment may not drop recipients of the version it replaces.
    #[error(
        "distribution {new} drops recipients of the current version ({old}); \
         retract and issue a new alert instead"
    )]
    NarrowedDistribution {
        /// New distribution summary.
        new: String,
        /// Old distribution summary.
        old: String,
    },
}

/// What happened to a record handed to [`Store::ingest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingest {
    /// Newly stored.
    Stored,
    /// Already stored (same id): nothing changed.
    Duplicate,
    /// Another body is stored for the same (origin, seq): this one was kept as evidence and
    /// the stored one left untouched.
    Equivocation {
        /// The record already stored under that (origin, seq).
        existing: RecordId,
    },
}

type Abort = ConflictableTransactionError<StoreError>;

fn abort(e: StoreError) -> Abort {
    ConflictableTransactionError::Abort(e)
}

/// The node's database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    seq: sled::Tree,
    state: sled::Tree,
    evidence: sled::Tree,
    idx: sled::Tree,
    log: sled::Tree,
    meta: sled::Tree,
    pending: sled::Tree,
    peers: sled::Tree,
    cursors: sled::Tree,
    witness: sled::Tree,
    requests: sled::Tree,
    quarantine: sled::Tree,
    held: sled::Tree,
    held_filter: sled::Tree,
    held_exp: sled::Tree,
    held_seen: sled::Tree,
    retro: sled::Tree,
    counters: sled::Tree,
    writer: std::sync::Arc<std::sync::Mutex<()>>,
    /// The one thread that flushes (group commit).
    flusher: Flusher,
    /// Flushes and transactions running now (the stall watchdog's view).
    activity: Activity,
    /// Highest sequence number stored per origin (key prefix), learnt lazily: lets the
    /// receiver skip the duplicate lookup for records beyond it.
    high_seq: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, u64>>>,
    /// Free space below which nothing is written whatever the reserve
    /// ([`disk::WORKING_ROOM`]; 0 only as a test fault).
    working_room: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

fn decode_pb<M: Message + Default>(v: &[u8], what: &str) -> Result<M, StoreError> {
    M::decode(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The big-endian number stored at `key` of `tree`, if there is one of 8 bytes.
fn read_u64(tree: &sled::Tree, key: impl AsRef<[u8]>) -> Result<Option<u64>, StoreError> {
    Ok(tree
        .get(key)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes))
}

/// Adds `delta` to the big-endian counter at `key` of `tree` (absent counts as 0; it never
/// goes below 0), atomically.
fn add_u64(tree: &sled::Tree, key: impl AsRef<[u8]>, delta: i64) -> Result<(), StoreError> {
    if delta == 0 {
        return Ok(());
    }
    tree.update_and_fetch(key, |old| {
        let n = old
            .and_then(|v| <[u8; 8]>::try_from(v).ok())
            .map_or(0, u64::from_be_bytes);
        Some(n.saturating_add_signed(delta).to_be_bytes().to_vec())
    })?;
    Ok(())
}

fn size_of_key(k: &[u8], at: usize) -> u64 {
    k.get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Called with the duration of every flush the flusher thread runs (the node's flush-latency
/// histogram).
pub type FlushObserver = std::sync::Arc<dyn Fn(std::time::Duration) + Send + Sync>;

/// How the store is opened.
#[derive(Clone)]
pub struct StoreOptions {
    /// sled's page cache (bytes). sled's own default is 1 GiB.
    pub cache_bytes: u64,
    /// A test fault: hold every flush this long before it starts (plays a stalling disk).
    pub flush_delay: Option<std::time::Duration>,
    /// Told how long each flush took.
    pub on_flush: Option<FlushObserver>,
}

/// Returns memory the allocator holds freed to the system (glibc keeps freed memory for
/// reuse, so long work that reads much, like a full export or a large screening, would
/// otherwise leave the process as large as its peak).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Default page cache: enough for the working set of a busy desk, far below sled's 1 GiB.
pub const DEFAULT_CACHE_BYTES: u64 = 128 << 20;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            flush_delay: None,
            on_flush: None,
        }
    }
}

impl Store {
    /// Opens (or creates) the database in `dir`. Fails if another process has it open.
    ///
    /// # Errors
    /// sled could not open the directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, &StoreOptions::default())
    }

    /// [`Store::open`] with options.
    ///
    /// # Errors
    /// sled could not open the directory.
    pub fn open_with(dir: &Path, opts: &StoreOptions) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(opts.cache_bytes)
            // The flusher thread is the only one that flushes (see `flusher`).
            .flush_every_ms(None)
            .open()?;
        Self::from_db(db, opts)
    }

    /// A throw-away database for tests.
    ///
    /// # Errors
    /// sled could not create it.
    pub fn temporary() -> Result<Self, StoreError> {
        let opts = StoreOptions::default();
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(opts.cache_bytes)
            .flush_every_ms(None)
            .open()?;
        Self::from_db(db, &opts)
    }

    fn from_db(db: sled::Db, opts: &StoreOptions) -> Result<Self, StoreError> {
        let activity = Activity::default();
        let flusher = Flusher::start(
            db.clone(),
            activity.clone(),
            opts.flush_delay,
            opts.on_flush.clone(),
        )
        .map_err(|e| StoreError::Corrupt(format!("cannot start the flusher thread: {e}")))?;
        let store = Self {
            records: db.open_tree("records")?,
            seq: db.open_tree("seq")?,
            state: db.open_tree("state")?,
            evidence: db.open_tree("evidence")?,
            idx: db.open_tree("idx")?,
            log: db.open_tree("log")?,
            meta: db.open_tree("meta")?,
            pending: db.open_tree("pending")?,
            peers: db.open_tree("peers")?,
            cursors: db.open_tree("cursors")?,
            witness: db.open_tree("witness")?,
            requests: db.open_tree("requests")?,
            quarantine: db.open_tree("quarantine")?,
            held: db.open_tree("held")?,
            held_filter: db.open_tree("held_filter")?,
            held_exp: db.open_tree("held_exp")?,
            held_seen: db.open_tree("held_seen")?,
            retro: db.open_tree("retro")?,
            counters: db.open_tree("counters")?,
            writer: std::sync::Arc::default(),
            high_seq: std::sync::Arc::default(),
            working_room: std::sync::Arc::new(disk::WORKING_ROOM.into()),
            flusher,
            activity,
            db,
        };
        store.upgrade_held()?;
        Ok(store)
    }

    /// Makes everything written so far durable: the durability point, acknowledge nothing
    /// before this returns. Concurrent callers share flushes (group commit); this never
    /// uses sled's asynchronous flush (see `flusher`).
    ///
    /// # Errors
    /// The flush failed; treat the pending writes as not durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        Ok(self.flusher.flush().await?)
    }

    /// Blocking [`Store::flush`], for code outside the async runtime.
    ///
    /// # Errors
    /// The flush failed.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.flush_within(std::time::Duration::from_secs(3600))
    }

    /// Blocking flush that gives up after `deadline` (shutdown).
    ///
    /// # Errors
    /// The flush failed or did not finish in time.
    pub fn flush_within(&self, deadline: std::time::Duration) -> Result<(), StoreError> {
        let t = self.flusher.request();
        Ok(self.flusher.wait_blocking(t, deadline)?)
    }

    /// Flushes run so far.
    pub fn flushes(&self) -> u64 {
        self.flusher.flushes()
    }

    /// Why the database takes no writes, if its flushes fail: sled refuses every write after
    /// one failed to reach the disk, until the database is opened again.
    pub fn write_failure(&self) -> Option<WriteFailure> {
        self.flusher.write_failure()
    }

    /// Refuses new writes when the database takes none ([`Store::write_failure`]) or free
    /// space on its disk (`path`) is at or below `reserve` bytes.
    ///
    /// # Errors
    /// [`disk::ReserveError`].
    pub fn check_writable(
        &self,
        path: &std::path::Path,
        reserve: u64,
    ) -> Result<(), disk::ReserveError> {
        if let Some(f) = self.write_failure() {
            return Err(disk::ReserveError::WriteFailed {
                path: path.display().to_string(),
                cause: f.cause,
                no_space: f.no_space,
                heal_free: disk::heal_free(reserve),
            });
        }
        let room = self.working_room.load(std::sync::atomic::Ordering::Relaxed);
        disk::check_reserve(path, reserve.max(room)).map_err(|e| match e {
            disk::ReserveError::Low { path, free, .. } if reserve < room => {
                disk::ReserveError::NoRoom { path, free, room }
            }
            e => e,
        })
    }

    /// Sets the working room ([`disk::WORKING_ROOM`]); 0 lets writes run into a full disk
    /// (a test fault, to exercise recovery from a failed write).
    pub fn set_working_room(&self, bytes: u64) {
        self.working_room
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the flusher thread has stopped (it only does when the store closes, or if it
    /// panicked): nothing can be made durable any more.
    pub fn flusher_stopped(&self) -> bool {
        self.flusher.is_stopped()
    }

    /// Flushes and transactions running now.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }
}
