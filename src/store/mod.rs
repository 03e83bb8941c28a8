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
mod flusher;

use std::path::Path;

pub use activity::{Activity, Running};
pub use flusher::{FlushError, Flusher};

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

/// Lifecycle of an alert version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Current version, not withdrawn.
    Active,
    /// Replaced by an amendment.
    Superseded,
    /// Withdrawn.
    Retracted,
}

impl Status {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Superseded => "superseded",
            Status::Retracted => "retracted",
        }
    }
}

/// Stored lifecycle state of an alert or amendment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertState {
    /// Status.
    pub status: Status,
    /// The amendment that replaced it.
    pub superseded_by: Option<RecordId>,
    /// The retraction that withdrew it.
    pub retracted_by: Option<RecordId>,
    /// The version this one replaced (for amendments).
    pub supersedes: Option<RecordId>,
}

const STATE_LEN: usize = 1 + 32 * 3;

impl AlertState {
    fn active(supersedes: Option<RecordId>) -> Self {
        Self {
            status: Status::Active,
            superseded_by: None,
            retracted_by: None,
            supersedes,
        }
    }

    fn encode(&self) -> [u8; STATE_LEN] {
        let mut b = [0u8; STATE_LEN];
        b[0] = match self.status {
            Status::Active => 1,
            Status::Superseded => 2,
            Status::Retracted => 3,
        };
        for (i, id) in [self.superseded_by, self.retracted_by, self.supersedes]
            .into_iter()
            .enumerate()
        {
            if let Some(id) = id {
                b[1 + 32 * i..33 + 32 * i].copy_from_slice(&id.0);
            }
        }
        b
    }

    fn decode(b: &[u8]) -> Result<Self, StoreError> {
        if b.len() != STATE_LEN {
            return Err(StoreError::Corrupt(format!(
                "state entry of {} bytes",
                b.len()
            )));
        }
        let status = match b[0] {
            1 => Status::Active,
            2 => Status::Superseded,
            3 => Status::Retracted,
            s => return Err(StoreError::Corrupt(format!("state status {s}"))),
        };
        let id = |i: usize| {
            let s = &b[1 + 32 * i..33 + 32 * i];
            // The slice is exactly 32 bytes by construction.
            let a = <[u8; 32]>::try_from(s).unwrap_or([0; 32]);
            (a != [0; 32]).then_some(RecordId(a))
        };
        Ok(Self {
            status,
            superseded_by: id(0),
            retracted_by: id(1),
            supersedes: id(2),
        })
    }
}

/// A stored record with what this node knows about it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Record id.
    pub id: RecordId,
    /// The envelope exactly as received or signed.
    pub envelope: pb::Envelope,
    /// When this node stored it.
    pub stored_at_ms: i64,
    /// Lifecycle state, for alerts and amendments.
    pub state: Option<AlertState>,
    /// Another body has been seen for the same (origin, seq).
    pub equivocation: bool,
}

impl StoredEntry {
    /// Decodes the body (already verified when stored).
    ///
    /// # Errors
    /// The stored body no longer decodes (damaged database).
    pub fn record(&self) -> Result<Record, StoreError> {
        decode_record(&self.envelope.body)
    }
}

fn decode_record(body: &[u8]) -> Result<Record, StoreError> {
    let b = pb::RecordBody::decode(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Record::from_pb(&b).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Kinds of entry in the `idx` tree: links between hits, outcomes and alerts. (Alert
/// identifiers are not indexed here: the screening engine indexes active alerts in memory, and
/// a stored index would cost every replicated alert a write for no reader. Values 1-7 were
/// identifier kinds in early databases and are never read.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum IndexKind {
    /// Hits on an alert version: its id in hex.
    HitOnAlert = 8,
    /// This node's hit on an alert for one screened subject: alert id hex ‖ `/` ‖ reference.
    HitReference = 9,
    /// Outcomes of a hit: its id in hex.
    OutcomeOfHit = 10,
}

/// Index entries of a record: (kind, value).
pub fn index_entries(record: &Record) -> Vec<(IndexKind, String)> {
    match &record.kind {
        RecordKind::Hit(h) => vec![
            (IndexKind::HitOnAlert, h.alert_id.to_hex()),
            (
                IndexKind::HitReference,
                format!("{}/{}", h.alert_id.to_hex(), h.subject_reference),
            ),
        ],
        RecordKind::Outcome(o) => vec![(IndexKind::OutcomeOfHit, o.hit_id.to_hex())],
        _ => vec![],
    }
}

fn index_key(kind: IndexKind, value: &str, id: &RecordId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + value.len() + 1 + 32);
    k.push(kind as u8);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k.extend_from_slice(&id.0);
    k
}

fn seq_key(origin: &Origin, seq: u64) -> Vec<u8> {
    let mut k = origin.key_prefix();
    k.extend_from_slice(&seq.to_be_bytes());
    k
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
    writer: std::sync::Arc<std::sync::Mutex<()>>,
    /// The one thread that flushes (group commit).
    flusher: Flusher,
    /// Flushes and transactions running now (the stall watchdog's view).
    activity: Activity,
    /// Highest sequence number stored per origin (key prefix), learnt lazily: lets the
    /// receiver skip the duplicate lookup for records beyond it.
    high_seq: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, u64>>>,
}

/// The origin an undecoded (unverified) body claims, read without checking anything else.
pub fn claimed_origin(body: &[u8]) -> Option<pb::Origin> {
    BodyHead::decode(body).ok().and_then(|h| h.origin)
}

/// The origin and sequence number of an undecoded body, read without checking anything else.
#[derive(Clone, PartialEq, prost::Message)]
struct BodyHead {
    #[prost(message, optional, tag = "2")]
    origin: Option<pb::Origin>,
    #[prost(uint64, tag = "3")]
    seq: u64,
}

// Keys of the `witness` tree (transparency log witnessing, docs/AUDIT.md).
const W_OWN_HEAD: u8 = 1; // 1 ‖ size (8) → this node's SignedTreeHead for that size
const W_SEEN: u8 = 2; // 2 ‖ country (2) → a partner's last verified, consistent SignedTreeHead
const W_MADE: u8 = 3; // 3 ‖ country ‖ size → Cosignature this node made of a partner's head
                      // (4 held an earlier layout of received cosignatures and is not read.)
const W_GOT: u8 = 6; // 6 ‖ country ‖ size → Cosignature a partner made of this node's head
const W_EVIDENCE: u8 = 5; // 5 ‖ country ‖ SHA-256(presented head) → WitnessEvidence

fn wkey(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

fn decode_pb<M: Message + Default>(v: &[u8], what: &str) -> Result<M, StoreError> {
    M::decode(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn size_of_key(k: &[u8], at: usize) -> u64 {
    k.get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Who produced a record handed to [`Store::ingest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// This node's own record: amendment and retraction targets must be stored and current.
    Own,
    /// A record received from a peer: records of one origin may arrive out of order (through
    /// relays), so a target not yet held is remembered and applied when it arrives.
    Received,
}

const LOG_LEN: &[u8] = b"log_len";
/// Number of active plain alerts stored without a `state` entry (see `load_state`).
const DERIVED_ACTIVE: &[u8] = b"derived_active";
/// Longest run of ids written as one `seq` entry.
const MAX_SEQ_RUN: usize = 4096;

/// A big-endian counter in `meta` read inside a transaction (0 when absent).
fn meta_u64(meta: &TransactionalTree, key: &[u8]) -> Result<u64, Abort> {
    match meta.get(key)? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| abort(StoreError::Corrupt(format!("meta entry {key:?}")))),
    }
}

/// Groups new (origin ‖ seq → id) entries into `seq` runs: key = origin ‖ first seq, value =
/// the ids of consecutive sequence numbers, 32 bytes each.
fn seq_runs(new: std::collections::HashMap<Vec<u8>, RecordId>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut entries: Vec<(Vec<u8>, RecordId)> = new.into_iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut runs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut last: Option<(usize, u64)> = None; // (prefix length, seq) of the run's last entry
    for (key, id) in entries {
        let Some((plen, seq)) = split_seq_key(&key) else {
            continue;
        };
        let extends = match (last, runs.last()) {
            (Some((lp, ls)), Some((rk, rv))) => {
                lp == plen
                    && rk[..lp] == key[..plen]
                    && ls.checked_add(1) == Some(seq)
                    && rv.len() < 32 * MAX_SEQ_RUN
            }
            _ => false,
        };
        match runs.last_mut() {
            Some((_, rv)) if extends => rv.extend_from_slice(&id.0),
            _ => runs.push((key, id.0.to_vec())),
        }
        last = Some((plen, seq));
    }
    runs
}

/// (origin prefix length, seq) of a `seq` key.
fn split_seq_key(key: &[u8]) -> Option<(usize, u64)> {
    let plen = key.len().checked_sub(8)?;
    let tail = <[u8; 8]>::try_from(key.get(plen..)?).ok()?;
    Some((plen, u64::from_be_bytes(tail)))
}

/// The first seq and the ids of a `seq` run entry.
fn seq_run(prefix_len: usize, k: &[u8], v: &[u8]) -> Result<(u64, usize), StoreError> {
    let first = k
        .get(prefix_len..)
        .and_then(|t| <[u8; 8]>::try_from(t).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt("seq key length".into()))?;
    if v.is_empty() || v.len() % 32 != 0 {
        return Err(StoreError::Corrupt(format!("seq run of {} bytes", v.len())));
    }
    Ok((first, v.len() / 32))
}

/// The idempotency key of an issuing request: its id (given by the client) and a
/// fingerprint of its content (so a reused id with other content is told apart).
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    /// The request id.
    pub id: &'a str,
    /// SHA-256 of the request's content.
    pub fingerprint: [u8; 32],
}

/// What a stored issuing request produced: `count` own records from `first_seq` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// SHA-256 of the request's content.
    pub fingerprint: [u8; 32],
    /// Sequence number of its first record.
    pub first_seq: u64,
    /// How many records it produced (consecutive sequence numbers).
    pub count: u64,
}

impl RequestRecord {
    fn encode(&self) -> Vec<u8> {
        let mut v = self.fingerprint.to_vec();
        v.extend_from_slice(&self.first_seq.to_be_bytes());
        v.extend_from_slice(&self.count.to_be_bytes());
        v
    }

    fn decode(v: &[u8]) -> Result<Self, StoreError> {
        let bad = || StoreError::Corrupt(format!("request entry of {} bytes", v.len()));
        if v.len() != 48 {
            return Err(bad());
        }
        let u = |r: std::ops::Range<usize>| {
            v.get(r)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(bad)
        };
        Ok(Self {
            fingerprint: v[..32].try_into().map_err(|_| bad())?,
            first_seq: u(32..40)?,
            count: u(40..48)?,
        })
    }
}

/// A partner signing key revoked at some time (kept after its partner is removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedKey {
    /// The public key.
    pub key: [u8; 32],
    /// From when its records are untrusted (ms).
    pub from_ms: i64,
    /// Every record it signed is untrusted.
    pub compromised: bool,
    /// The partner it was registered for.
    pub country: CountryCode,
}

impl RevokedKey {
    fn decode(key: &[u8; 32], v: &[u8]) -> Result<Self, StoreError> {
        let bad = || StoreError::Corrupt("revoked key entry".into());
        let from_ms = v
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
            .ok_or_else(bad)?;
        let compromised = *v.get(8).ok_or_else(bad)? != 0;
        let country = v
            .get(9..11)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| CountryCode::parse(s).ok())
            .ok_or_else(bad)?;
        Ok(Self {
            key: *key,
            from_ms,
            compromised,
            country,
        })
    }
}

/// `meta` key prefix of revoked signing keys (‖ public key, 32): why and from when.
const REVOKED_KEY: &[u8] = b"revoked-key/";

/// Most records kept aside per partner (see [`Store::quarantine_put_all`]).
pub const MAX_QUARANTINE_PER_PEER: usize = 1000;

/// A record kept aside until the registry changes.
#[derive(Debug, Clone)]
pub struct Quarantined {
    /// The partner it came from.
    pub peer: CountryCode,
    /// Its id.
    pub id: RecordId,
    /// When it arrived (ms).
    pub received_at_ms: i64,
    /// Why it was refused.
    pub reason: String,
    /// The envelope as received.
    pub envelope: pb::Envelope,
}

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache (bytes). sled's own default is 1 GiB.
    pub cache_bytes: u64,
    /// A test fault: hold every flush this long before it starts (plays a stalling disk).
    pub flush_delay: Option<std::time::Duration>,
}

/// Default page cache: enough for the working set of a busy desk, far below sled's 1 GiB.
pub const DEFAULT_CACHE_BYTES: u64 = 128 << 20;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            flush_delay: None,
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
        let flusher = Flusher::start(db.clone(), activity.clone(), opts.flush_delay)
            .map_err(|e| StoreError::Corrupt(format!("cannot start the flusher thread: {e}")))?;
        Ok(Self {
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
            writer: std::sync::Arc::default(),
            high_seq: std::sync::Arc::default(),
            flusher,
            activity,
            db,
        })
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

    /// Whether the flusher thread has stopped (it only does when the store closes, or if it
    /// panicked): nothing can be made durable any more.
    pub fn flusher_stopped(&self) -> bool {
        self.flusher.is_stopped()
    }

    /// Flushes and transactions running now.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// This node's signed tree head for a log size, if one was signed.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn own_head(&self, size: u64) -> Result<Option<pb::SignedTreeHead>, StoreError> {
        self.witness
            .get(wkey(W_OWN_HEAD, &[&size.to_be_bytes()]))?
            .map(|v| decode_pb(&v, "own tree head"))
            .transpose()
    }

    /// Keeps this node's signed tree head for its size (the one head of that size).
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_own_head(&self, size: u64, sth: &pb::SignedTreeHead) -> Result<(), StoreError> {
        self.witness.insert(
            wkey(W_OWN_HEAD, &[&size.to_be_bytes()]),
            sth.encode_to_vec(),
        )?;
        Ok(())
    }

    /// The last head of a partner this node verified as consistent.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn seen_head(&self, peer: CountryCode) -> Result<Option<pb::SignedTreeHead>, StoreError> {
        self.witness
            .get(wkey(W_SEEN, &[&peer.bytes()]))?
            .map(|v| decode_pb(&v, "partner tree head"))
            .transpose()
    }

    /// Records a partner head as verified and consistent, with this node's cosignature of it,
    /// in one step.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_witnessed(
        &self,
        peer: CountryCode,
        size: u64,
        sth: &pb::SignedTreeHead,
        cosignature: &pb::Cosignature,
    ) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        b.insert(wkey(W_SEEN, &[&peer.bytes()]), sth.encode_to_vec());
        b.insert(
            wkey(W_MADE, &[&peer.bytes(), &size.to_be_bytes()]),
            cosignature.encode_to_vec(),
        );
        self.witness.apply_batch(b)?;
        Ok(())
    }

    /// Cosignatures this node made of a partner's heads of at least `min_size`, newest first.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosignatures_made(
        &self,
        peer: CountryCode,
        min_size: u64,
        limit: usize,
    ) -> Result<Vec<pb::Cosignature>, StoreError> {
        let from = wkey(W_MADE, &[&peer.bytes(), &min_size.to_be_bytes()]);
        let to = wkey(W_MADE, &[&peer.bytes(), &u64::MAX.to_be_bytes()]);
        let mut out = vec![];
        for kv in self.witness.range(from..=to).rev().take(limit) {
            out.push(decode_pb(&kv?.1, "cosignature")?);
        }
        Ok(out)
    }

    /// Keeps a partner's cosignature of this node's head of `size`.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_cosignature_received(
        &self,
        size: u64,
        witness: CountryCode,
        c: &pb::Cosignature,
    ) -> Result<(), StoreError> {
        self.witness.insert(
            wkey(W_GOT, &[&witness.bytes(), &size.to_be_bytes()]),
            c.encode_to_vec(),
        )?;
        Ok(())
    }

    /// The largest size (at most `max_size`) of this node's heads that `witness` cosigned.
    ///
    /// # Errors
    /// Storage failure.
    pub fn latest_cosigned(
        &self,
        witness: CountryCode,
        max_size: u64,
    ) -> Result<Option<u64>, StoreError> {
        let from = wkey(W_GOT, &[&witness.bytes(), &0u64.to_be_bytes()]);
        let to = wkey(W_GOT, &[&witness.bytes(), &max_size.to_be_bytes()]);
        match self.witness.range(from..=to).next_back() {
            None => Ok(None),
            Some(kv) => Ok(Some(size_of_key(&kv?.0, 3))),
        }
    }

    /// The cosignature `witness` made of this node's head of `size`, if any.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosignature_received(
        &self,
        witness: CountryCode,
        size: u64,
    ) -> Result<Option<pb::Cosignature>, StoreError> {
        self.witness
            .get(wkey(W_GOT, &[&witness.bytes(), &size.to_be_bytes()]))?
            .map(|v| decode_pb(&v, "cosignature"))
            .transpose()
    }

    /// The partners that cosigned any of this node's heads, in country order (one seek each).
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosigning_witnesses(&self) -> Result<Vec<CountryCode>, StoreError> {
        let mut out = vec![];
        let mut from = vec![W_GOT];
        while let Some(kv) = self.witness.range(from.clone()..).next() {
            let (k, _) = kv?;
            if k.first() != Some(&W_GOT) {
                break;
            }
            let cc = k
                .get(1..3)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|c| CountryCode::parse(c).ok())
                .ok_or_else(|| StoreError::Corrupt("cosignature key".into()))?;
            out.push(cc);
            // Just past this country's last possible key.
            from = wkey(W_GOT, &[&cc.bytes(), &u64::MAX.to_be_bytes(), &[0]]);
        }
        Ok(out)
    }

    /// Keeps evidence of a partner's log misbehaviour, once per `dedupe` key (the kind and the
    /// head it contradicts: the first proof of a fork is enough). Returns whether it is new.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_evidence(
        &self,
        peer: CountryCode,
        dedupe: &[u8],
        e: &pb::WitnessEvidence,
    ) -> Result<bool, StoreError> {
        use sha2::Digest;
        let h: [u8; 32] = sha2::Sha256::digest(dedupe).into();
        let k = wkey(W_EVIDENCE, &[&peer.bytes(), &h]);
        let new = self
            .witness
            .compare_and_swap(k, None as Option<&[u8]>, Some(e.encode_to_vec()))?
            .is_ok();
        Ok(new)
    }

    /// All kept evidence of partners' log misbehaviour.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn evidence(&self) -> Result<Vec<pb::WitnessEvidence>, StoreError> {
        self.witness
            .scan_prefix([W_EVIDENCE])
            .map(|kv| decode_pb(&kv?.1, "witness evidence"))
            .collect()
    }

    /// Stores a verified record atomically with its sequence entry, lifecycle state and index
    /// entries. Does not flush.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] when an amendment or retraction breaks a lifecycle rule
    /// (nothing stored), or a storage error.
    pub fn ingest(
        &self,
        rec: &SignedRecord,
        now_ms: i64,
        mode: Mode,
    ) -> Result<Ingest, StoreError> {
        let mut out = self.ingest_batch(std::slice::from_ref(rec), now_ms, mode)?;
        match out.pop() {
            Some(Ok(i)) => Ok(i),
            Some(Err(r)) => Err(StoreError::Rejected(r)),
            None => Err(StoreError::Corrupt("empty batch result".into())),
        }
    }

    /// Stores a batch of verified records in one transaction (all or nothing), each record
    /// checked as by [`Store::ingest`]: a record that breaks a lifecycle rule is refused on its
    /// own (its outcome is `Err`) without affecting the others. Does not flush.
    ///
    /// # Errors
    /// A storage failure: nothing of the batch was stored.
    pub fn ingest_batch(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        mode: Mode,
    ) -> Result<Vec<Result<Ingest, Rejection>>, StoreError> {
        self.write_batch(recs, now_ms, mode, false, None)
    }

    /// Stores every record of a batch in one transaction, or none: the first record that
    /// breaks a lifecycle rule ([`StoreError::Rejected`]) or whose (origin, seq) is taken
    /// ([`StoreError::SeqTaken`]) aborts it. For a node's own records, whose sequence numbers
    /// must have no gaps. Does not flush.
    ///
    /// # Errors
    /// As said, or a storage failure: nothing of the batch was stored.
    pub fn ingest_all(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        mode: Mode,
    ) -> Result<(), StoreError> {
        self.write_batch(recs, now_ms, mode, true, None).map(|_| ())
    }

    /// [`Store::ingest_all`] for the records one issuing request produced, remembered under
    /// its request id in the same transaction: a retry of the request finds them
    /// ([`Store::request`]) instead of signing new ones. `recs` must be non-empty, with
    /// consecutive sequence numbers of one origin.
    ///
    /// # Errors
    /// As [`Store::ingest_all`].
    pub fn ingest_request(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        request: &RequestKey<'_>,
    ) -> Result<(), StoreError> {
        self.write_batch(recs, now_ms, Mode::Own, true, Some(request))
            .map(|_| ())
    }

    /// What an earlier issuing request with this id produced, if one was stored.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn request(&self, id: &str) -> Result<Option<RequestRecord>, StoreError> {
        self.requests
            .get(id.as_bytes())?
            .map(|v| RequestRecord::decode(&v))
            .transpose()
    }

    /// The id of the record stored under (origin, seq), if any.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn id_at(&self, origin: &Origin, seq: u64) -> Result<Option<RecordId>, StoreError> {
        self.seq_at(&origin.key_prefix(), seq)
    }

    fn write_batch(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        mode: Mode,
        all_or_nothing: bool,
        request: Option<&RequestKey<'_>>,
    ) -> Result<Vec<Result<Ingest, Rejection>>, StoreError> {
        // One writer at a time: lifecycle checks read what earlier batches wrote, and the
        // pending shortcut below relies on no other batch adding to `pending` meanwhile.
        let _busy = self
            .activity
            .begin(format!("store transaction of {} record(s)", recs.len()));
        let _writer = self
            .writer
            .lock()
            .map_err(|_| StoreError::Corrupt("store writer lock poisoned".into()))?;
        let pending_nonempty = !self.pending.is_empty();
        let mut high = self
            .high_seq
            .lock()
            .map_err(|_| StoreError::Corrupt("sequence cache poisoned".into()))?
            .clone();
        let mut prepared = Vec::with_capacity(recs.len());
        for rec in recs {
            let mut value = now_ms.to_be_bytes().to_vec();
            rec.envelope
                .encode(&mut value)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // Beyond the highest sequence number held (and seen earlier in this batch): no
            // record can be stored under this (origin, seq) yet, so no need to look.
            let prefix = rec.record.origin.key_prefix();
            let h = match high.get(&prefix) {
                Some(h) => *h,
                None => self.last_seq_of(&prefix)?,
            };
            let stored = if rec.record.seq > h {
                None
            } else {
                // Read outside the transaction (sled transactions cannot seek); no other
                // writer can change `seq` while this one holds the writer lock.
                self.seq_at(&prefix, rec.record.seq)?
            };
            high.insert(prefix, h.max(rec.record.seq));
            prepared.push(Prepared {
                rec,
                value,
                seq_key: seq_key(&rec.record.origin, rec.record.seq),
                index: index_entries(&rec.record)
                    .into_iter()
                    .map(|(k, v)| index_key(k, &v, &rec.id))
                    .collect(),
                stored,
            });
        }
        let trees = (
            &self.records,
            &self.seq,
            &self.state,
            &self.evidence,
            &self.idx,
            &self.log,
            &self.meta,
            &self.pending,
            &self.requests,
        );
        let request_value = request.and_then(|r| {
            let first = recs.first()?.record.seq;
            Some(
                RequestRecord {
                    fingerprint: r.fingerprint,
                    first_seq: first,
                    count: recs.len() as u64,
                }
                .encode(),
            )
        });
        let result =
            trees.transaction(
                |(records, seq, state, evidence, idx, log, meta, pending, requests)| {
                    let log_base = meta_u64(meta, LOG_LEN)?;
                    let tx = Tx {
                        records,
                        seq,
                        state,
                        evidence,
                        idx,
                        log,
                        meta,
                        pending: Pending {
                            tree: pending,
                            maybe_nonempty: std::cell::Cell::new(pending_nonempty),
                        },
                        log_base,
                        log_ids: std::cell::RefCell::new(Vec::new()),
                        new_seq: std::cell::RefCell::new(std::collections::HashMap::new()),
                        derived_delta: std::cell::Cell::new(0),
                    };
                    let mut out = Vec::with_capacity(prepared.len());
                    for p in &prepared {
                        // Every lifecycle refusal happens before the record writes anything.
                        match apply_one(&tx, p, mode) {
                            Ok(Ingest::Stored) => out.push(Ok(Ingest::Stored)),
                            Ok(_) if all_or_nothing => {
                                return Err(abort(StoreError::SeqTaken(p.rec.record.seq)))
                            }
                            Ok(i) => out.push(Ok(i)),
                            Err(
                                e @ ConflictableTransactionError::Abort(StoreError::Rejected(_)),
                            ) if all_or_nothing => return Err(e),
                            Err(ConflictableTransactionError::Abort(StoreError::Rejected(r))) => {
                                out.push(Err(r))
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    // The batch's new records as one log chunk: key = first position.
                    let ids = tx.log_ids.take();
                    if !ids.is_empty() {
                        let n = (ids.len() / 32) as u64;
                        tx.log.insert(&tx.log_base.to_be_bytes(), ids)?;
                        tx.meta.insert(LOG_LEN, &(tx.log_base + n).to_be_bytes())?;
                    }
                    // Their (origin, seq) entries as runs of consecutive sequence numbers.
                    for (key, run) in seq_runs(tx.new_seq.take()) {
                        tx.seq.insert(key, run)?;
                    }
                    let delta = tx.derived_delta.get();
                    if delta != 0 {
                        let n = meta_u64(tx.meta, DERIVED_ACTIVE)?.saturating_add_signed(delta);
                        tx.meta.insert(DERIVED_ACTIVE, &n.to_be_bytes())?;
                    }
                    if let (Some(r), Some(v)) = (request, &request_value) {
                        requests.insert(r.id.as_bytes(), v.as_slice())?;
                    }
                    Ok(out)
                },
            );
        let outcomes = result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })?;
        self.raise_high(high);
        Ok(outcomes)
    }

    /// Whether a record is stored.
    ///
    /// # Errors
    /// Storage failure.
    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.records.contains_key(id.0)?)
    }

    /// Whether the record with this (unverified) body may already be stored. `false` is
    /// certain: its origin's sequence number is beyond the highest this store holds, so the
    /// lookup by id can be skipped (the common case for new records, and a lookup that would
    /// contend with the writer). `true` means: look it up.
    pub fn may_hold(&self, body: &[u8]) -> bool {
        let Ok(head) = BodyHead::decode(body) else {
            return true;
        };
        let Some(o) = head.origin else { return true };
        let prefix = origin_key_prefix(&o.country, &o.node);
        let Ok(mut m) = self.high_seq.lock() else {
            return true;
        };
        let high = match m.get(&prefix) {
            Some(h) => *h,
            // Learnt under the map's lock: a commit finishing meanwhile raises it after.
            None => match self.last_seq_of(&prefix) {
                Ok(h) => {
                    m.insert(prefix, h);
                    h
                }
                Err(_) => return true,
            },
        };
        head.seq <= high
    }

    /// Highest sequence number stored under an origin key prefix (0 when none).
    fn last_seq_of(&self, prefix: &[u8]) -> Result<u64, StoreError> {
        match self.seq.scan_prefix(prefix).next_back() {
            None => Ok(0),
            Some(kv) => {
                // Runs never overlap: the last one holds the highest sequence number.
                let (k, v) = kv?;
                let (first, n) = seq_run(prefix.len(), &k, &v)?;
                Ok(first + n as u64 - 1)
            }
        }
    }

    /// The record stored under (origin key prefix, seq), if any.
    fn seq_at(&self, prefix: &[u8], seq: u64) -> Result<Option<RecordId>, StoreError> {
        let mut key = prefix.to_vec();
        key.extend_from_slice(&seq.to_be_bytes());
        // The run starting at or before `seq`; keys in this range all start with the prefix
        // (no origin's prefix is a prefix of another's).
        let Some(kv) = self.seq.range(prefix.to_vec()..=key).next_back() else {
            return Ok(None);
        };
        let (k, v) = kv?;
        let (first, n) = seq_run(prefix.len(), &k, &v)?;
        let i = (seq - first) as usize;
        if i >= n {
            return Ok(None);
        }
        RecordId::from_slice(&v[32 * i..32 * i + 32], "seq")
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Raises the known highest sequence numbers after a commit (never lowers them: a value
    /// too high only costs a lookup, one too low would let a duplicate in).
    fn raise_high(&self, seen: std::collections::HashMap<Vec<u8>, u64>) {
        if let Ok(mut m) = self.high_seq.lock() {
            for (prefix, h) in seen {
                let e = m.entry(prefix).or_insert(h);
                *e = (*e).max(h);
            }
        }
    }

    /// A stored envelope alone (no lifecycle or equivocation lookups).
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn get_envelope(&self, id: &RecordId) -> Result<Option<pb::Envelope>, StoreError> {
        let Some(v) = self.records.get(id.0)? else {
            return Ok(None);
        };
        let env = pb::Envelope::decode(v.get(8..).unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(env))
    }

    /// Number of records in the log (arrival order; positions `0..len`).
    ///
    /// # Errors
    /// Storage failure or damaged counter.
    pub fn log_len(&self) -> Result<u64, StoreError> {
        match self.meta.get(LOG_LEN)? {
            None => Ok(0),
            Some(v) => Ok(u64::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("log length".into()))?,
            )),
        }
    }

    /// Log entries `from..to` as (position, record id).
    pub fn log_range(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<(u64, RecordId), StoreError>> + '_ {
        // The log is stored in chunks (key: first position, value: the ids, 32 bytes each),
        // one per stored batch: start at the chunk holding `from`.
        let first = match self.log.range(..=from.to_be_bytes()).next_back() {
            Some(Ok((k, _))) => k.to_vec(),
            _ => from.to_be_bytes().to_vec(),
        };
        self.log
            .range(first..to.to_be_bytes().to_vec())
            .flat_map(move |kv| {
                let chunk = kv.map_err(StoreError::from).and_then(|(k, v)| {
                    let start = u64::from_be_bytes(
                        k.as_ref()
                            .try_into()
                            .map_err(|_| StoreError::Corrupt("log key".into()))?,
                    );
                    if v.len() % 32 != 0 || v.is_empty() {
                        return Err(StoreError::Corrupt(format!(
                            "log chunk at {start} of {} bytes",
                            v.len()
                        )));
                    }
                    Ok((start, v))
                });
                let items: Vec<Result<(u64, RecordId), StoreError>> = match chunk {
                    Err(e) => vec![Err(e)],
                    Ok((start, v)) => v
                        .chunks_exact(32)
                        .enumerate()
                        .map(|(i, id)| (start + i as u64, id))
                        .filter(|(pos, _)| *pos >= from && *pos < to)
                        .map(|(pos, id)| {
                            RecordId::from_slice(id, "log")
                                .map(|id| (pos, id))
                                .map_err(|e| StoreError::Corrupt(e.to_string()))
                        })
                        .collect(),
                };
                items
            })
    }

    /// The next log position to ask a peer for.
    ///
    /// # Errors
    /// Storage failure.
    pub fn cursor(&self, peer: CountryCode) -> Result<u64, StoreError> {
        Ok(match self.cursors.get(peer.bytes())? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])),
            None => 0,
        })
    }

    /// Records the next log position to ask a peer for. Call only after the records before it
    /// are flushed; the cursor itself becomes durable with the next flush (losing it only
    /// causes harmless re-delivery).
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_cursor(&self, peer: CountryCode, next: u64) -> Result<(), StoreError> {
        self.cursors.insert(peer.bytes(), &next.to_be_bytes())?;
        Ok(())
    }

    /// Keeps aside records from `peer` refused for a reason an operator can fix (their key is
    /// not registered yet), to be judged again when the registry changes: (envelope, why,
    /// id) each. At most [`MAX_QUARANTINE_PER_PEER`] per partner; returns how many did not
    /// fit. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn quarantine_put_all(
        &self,
        peer: CountryCode,
        items: &[(Box<pb::Envelope>, String, RecordId)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if items.is_empty() {
            return Ok(0);
        }
        let mut held = self.quarantine.scan_prefix(peer.bytes()).keys().count();
        let mut dropped = 0;
        for (envelope, reason, id) in items {
            let mut key = peer.bytes().to_vec();
            key.extend_from_slice(&id.0);
            if self.quarantine.contains_key(&key)? {
                continue;
            }
            if held >= MAX_QUARANTINE_PER_PEER {
                dropped += 1;
                continue;
            }
            let reason = reason.as_bytes();
            let reason = &reason[..reason.len().min(255)];
            let mut v = now_ms.to_be_bytes().to_vec();
            v.push(reason.len() as u8);
            v.extend_from_slice(reason);
            envelope
                .encode(&mut v)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.quarantine.insert(key, v)?;
            held += 1;
        }
        Ok(dropped)
    }

    /// Records kept aside: (partner, id, received at ms, reason, envelope), of one partner or
    /// all.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn quarantined(&self, peer: Option<CountryCode>) -> Result<Vec<Quarantined>, StoreError> {
        let prefix: Vec<u8> = peer.map(|c| c.bytes().to_vec()).unwrap_or_default();
        self.quarantine
            .scan_prefix(prefix)
            .map(|kv| {
                let (k, v) = kv?;
                let bad = || StoreError::Corrupt("quarantine entry".into());
                let country = std::str::from_utf8(k.get(..2).ok_or_else(bad)?)
                    .ok()
                    .and_then(|s| CountryCode::parse(s).ok())
                    .ok_or_else(bad)?;
                let id = RecordId::from_slice(k.get(2..).ok_or_else(bad)?, "quarantine")
                    .map_err(|_| bad())?;
                let at = v
                    .get(..8)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(i64::from_be_bytes)
                    .ok_or_else(bad)?;
                let n = usize::from(*v.get(8).ok_or_else(bad)?);
                let reason = String::from_utf8_lossy(v.get(9..9 + n).ok_or_else(bad)?).into_owned();
                let envelope = pb::Envelope::decode(v.get(9 + n..).ok_or_else(bad)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Quarantined {
                    peer: country,
                    id,
                    received_at_ms: at,
                    reason,
                    envelope,
                })
            })
            .collect()
    }

    /// Forgets a quarantined record. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn quarantine_remove(&self, peer: CountryCode, id: &RecordId) -> Result<(), StoreError> {
        let mut key = peer.bytes().to_vec();
        key.extend_from_slice(&id.0);
        self.quarantine.remove(key)?;
        Ok(())
    }

    /// Remembers that a partner signing key was revoked, for good: a registration removed and
    /// added again cannot bring the key back, and records it signed stay marked. Keeps the
    /// tightest revocation seen. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_revoked_key(
        &self,
        key: &[u8; 32],
        from_ms: i64,
        compromised: bool,
        country: CountryCode,
    ) -> Result<(), StoreError> {
        let (from_ms, compromised) = match self.revoked_key(key)? {
            Some(old) => (old.from_ms.min(from_ms), old.compromised || compromised),
            None => (from_ms, compromised),
        };
        let mut k = REVOKED_KEY.to_vec();
        k.extend_from_slice(key);
        let mut v = from_ms.to_be_bytes().to_vec();
        v.push(u8::from(compromised));
        v.extend_from_slice(&country.bytes());
        self.meta.insert(k, v)?;
        Ok(())
    }

    /// A revoked signing key's revocation, if it was ever revoked.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn revoked_key(&self, key: &[u8; 32]) -> Result<Option<RevokedKey>, StoreError> {
        let mut k = REVOKED_KEY.to_vec();
        k.extend_from_slice(key);
        self.meta
            .get(k)?
            .map(|v| RevokedKey::decode(key, &v))
            .transpose()
    }

    /// Every signing key ever revoked.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn revoked_keys(&self) -> Result<Vec<RevokedKey>, StoreError> {
        self.meta
            .scan_prefix(REVOKED_KEY)
            .map(|kv| {
                let (k, v) = kv?;
                let key: [u8; 32] = k
                    .get(REVOKED_KEY.len()..)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("revoked key entry".into()))?;
                RevokedKey::decode(&key, &v)
            })
            .collect()
    }

    /// Stored peer registrations (JSON values by country).
    ///
    /// # Errors
    /// Storage failure.
    pub fn peers(&self) -> Result<Vec<(CountryCode, Vec<u8>)>, StoreError> {
        self.peers
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let c = std::str::from_utf8(&k)
                    .ok()
                    .and_then(|c| CountryCode::parse(c).ok())
                    .ok_or_else(|| StoreError::Corrupt("peer key".into()))?;
                Ok((c, v.to_vec()))
            })
            .collect()
    }

    /// Stores (replaces) a peer registration. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_peer(&self, country: CountryCode, json: &[u8]) -> Result<(), StoreError> {
        self.peers.insert(country.bytes(), json)?;
        Ok(())
    }

    /// Removes a peer registration and its cursor. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn remove_peer(&self, country: CountryCode) -> Result<bool, StoreError> {
        self.cursors.remove(country.bytes())?;
        // Records kept aside for the partner go with it.
        for k in self.quarantine.scan_prefix(country.bytes()).keys() {
            self.quarantine.remove(k?)?;
        }
        Ok(self.peers.remove(country.bytes())?.is_some())
    }

    /// A stored record by id.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredEntry>, StoreError> {
        let Some(v) = self.records.get(id.0)? else {
            return Ok(None);
        };
        self.entry(*id, &v).map(Some)
    }

    /// Resolves a full hex id or a unique prefix of at least 8 hex digits.
    ///
    /// # Errors
    /// `Ok(Err(msg))` when the prefix is malformed, unknown or ambiguous.
    pub fn resolve(&self, text: &str) -> Result<Result<RecordId, String>, StoreError> {
        let t = text.trim().to_ascii_lowercase();
        if t.len() < 8 || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Err(format!(
                "record id {text:?} must be 8 to 64 hex digits (a unique prefix of the id)"
            )));
        }
        let even = &t[..t.len() & !1];
        let prefix = hex::decode(even).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut found = None;
        for kv in self.records.scan_prefix(&prefix) {
            let (k, _) = kv?;
            let id = RecordId::from_slice(&k, "records")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if !id.to_hex().starts_with(&t) {
                continue;
            }
            if found.is_some() {
                return Ok(Err(format!(
                    "record id prefix {t} is ambiguous; give more digits"
                )));
            }
            found = Some(id);
        }
        Ok(found.ok_or_else(|| format!("no record with id {t}")))
    }

    fn entry(&self, id: RecordId, v: &[u8]) -> Result<StoredEntry, StoreError> {
        if v.len() < 8 {
            return Err(StoreError::Corrupt(format!("record {id} entry too short")));
        }
        let (ts, env) = v.split_at(8);
        let stored_at_ms = i64::from_be_bytes(ts.try_into().unwrap_or([0; 8]));
        let envelope = pb::Envelope::decode(env).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let body = pb::RecordBody::decode(envelope.body.as_slice());
        let state = match self.state.get(id.0)? {
            Some(s) => Some(AlertState::decode(&s)?),
            // A plain alert stored active and never changed has no entry.
            None => match &body {
                Ok(pb::RecordBody {
                    kind: Some(pb::record_body::Kind::Alert(_)),
                    ..
                }) => Some(AlertState::active(None)),
                _ => None,
            },
        };
        let equivocation = match body {
            Ok(b) => match b.origin {
                Some(o) => {
                    let mut k = origin_key_prefix(&o.country, &o.node);
                    k.extend_from_slice(&b.seq.to_be_bytes());
                    self.evidence.scan_prefix(k).next().is_some()
                }
                None => false,
            },
            Err(_) => false,
        };
        Ok(StoredEntry {
            id,
            envelope,
            stored_at_ms,
            state,
            equivocation,
        })
    }

    /// All records in (origin, seq) order.
    pub fn iter(&self) -> impl Iterator<Item = Result<StoredEntry, StoreError>> + '_ {
        self.seq
            .iter()
            .flat_map(|kv| {
                let ids: Vec<Result<RecordId, StoreError>> = match kv {
                    Err(e) => vec![Err(e.into())],
                    Ok((_, v)) if v.is_empty() || v.len() % 32 != 0 => vec![Err(
                        StoreError::Corrupt(format!("seq run of {} bytes", v.len())),
                    )],
                    Ok((_, v)) => v
                        .chunks_exact(32)
                        .map(|id| {
                            RecordId::from_slice(id, "seq")
                                .map_err(|e| StoreError::Corrupt(e.to_string()))
                        })
                        .collect(),
                };
                ids
            })
            .map(move |id| {
                let id = id?;
                let v = self.records.get(id.0)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("seq points to missing record {id}"))
                })?;
                self.entry(id, &v)
            })
    }

    /// Highest sequence number stored for an origin (0 when none).
    ///
    /// # Errors
    /// Storage failure.
    pub fn last_seq(&self, origin: &Origin) -> Result<u64, StoreError> {
        self.last_seq_of(&origin.key_prefix())
    }

    /// Number of records from an origin.
    pub fn count_origin(&self, origin: &Origin) -> usize {
        self.seq
            .scan_prefix(origin.key_prefix())
            .values()
            .map(|v| v.map_or(0, |v| v.len() / 32))
            .sum()
    }

    /// Number of stored records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Number of conflicting bodies kept as evidence.
    pub fn equivocations(&self) -> usize {
        self.evidence.len()
    }

    /// Number of alert versions that are current and not withdrawn (expiry not considered).
    pub fn active_alerts(&self) -> usize {
        let with_entry = self
            .state
            .iter()
            .values()
            .filter(|v| v.as_ref().is_ok_and(|v| v.first() == Some(&1)))
            .count();
        let derived = match self.meta.get(DERIVED_ACTIVE) {
            Ok(Some(v)) => <[u8; 8]>::try_from(v.as_ref()).map_or(0, u64::from_be_bytes),
            _ => 0,
        };
        with_entry + derived as usize
    }

    /// Record ids indexed under an identifier.
    ///
    /// # Errors
    /// Storage failure.
    pub fn lookup(&self, kind: IndexKind, value: &str) -> Result<Vec<RecordId>, StoreError> {
        let mut prefix = vec![kind as u8];
        prefix.extend_from_slice(value.as_bytes());
        prefix.push(0);
        self.idx
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                RecordId::from_slice(&k[prefix.len()..], "idx")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// Alert versions that are current, not retracted (whatever their validity dates).
    ///
    /// # Errors
    /// Storage failure.
    pub fn active_alert_versions(
        &self,
    ) -> Result<Vec<(RecordId, Origin, crate::model::Alert)>, StoreError> {
        self.active_alert_versions_where(|_, _| true)
    }

    /// [`Store::active_alert_versions`] that `keep` accepts (given the envelope and record),
    /// e.g. leaving out those signed with a revoked key.
    ///
    /// # Errors
    /// Storage failure.
    pub fn active_alert_versions_where(
        &self,
        keep: impl Fn(&pb::Envelope, &Record) -> bool,
    ) -> Result<Vec<(RecordId, Origin, crate::model::Alert)>, StoreError> {
        // Plain alerts stored active and never changed have no `state` entry: walk the
        // records (id order) and the state entries (id order) together.
        let mut out = Vec::new();
        let mut states = self.state.iter().peekable();
        for kv in self.records.iter() {
            let (k, v) = kv?;
            let id = RecordId::from_slice(&k, "records")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut st = None;
            while let Some(Ok((sk, _))) = states.peek() {
                match sk.as_ref().cmp(&k[..]) {
                    std::cmp::Ordering::Less => {
                        states.next();
                    }
                    std::cmp::Ordering::Equal => {
                        if let Some(Ok((_, sv))) = states.next() {
                            st = Some(AlertState::decode(&sv)?);
                        }
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            if let Some(Err(_)) = states.peek() {
                if let Some(Err(e)) = states.next() {
                    return Err(e.into());
                }
            }
            if st.is_some_and(|s| s.status != Status::Active) {
                continue;
            }
            let env = pb::Envelope::decode(v.get(8..).unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let rec = decode_record(&env.body)?;
            if !keep(&env, &rec) {
                continue;
            }
            match rec.kind {
                RecordKind::Alert(a) => out.push((id, rec.origin, a)),
                // An amendment always has a `state` entry.
                RecordKind::Amendment(m) if st.is_some() => out.push((id, rec.origin, m.alert)),
                _ => {}
            }
        }
        Ok(out)
    }

    /// Size of the database files.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

/// The transactional trees of one ingest.
struct Tx<'a> {
    records: &'a TransactionalTree,
    seq: &'a TransactionalTree,
    state: &'a TransactionalTree,
    evidence: &'a TransactionalTree,
    idx: &'a TransactionalTree,
    log: &'a TransactionalTree,
    meta: &'a TransactionalTree,
    pending: Pending<'a>,
    /// Log position of the batch's first new record.
    log_base: u64,
    /// Ids of the batch's new records, in log order (written as one log chunk).
    log_ids: std::cell::RefCell<Vec<u8>>,
    /// The batch's new records by (origin, seq) key (written as runs at the end).
    new_seq: std::cell::RefCell<std::collections::HashMap<Vec<u8>, RecordId>>,
    /// Change to the number of active plain alerts without a `state` entry.
    derived_delta: std::cell::Cell<i64>,
}

/// The `pending` tree inside a transaction. Most databases hold nothing pending; when the tree
/// was empty as the batch began (checked under the store's writer lock) and nothing has been
/// added since, lookups are answered without touching sled.
struct Pending<'a> {
    tree: &'a TransactionalTree,
    maybe_nonempty: std::cell::Cell<bool>,
}

impl Pending<'_> {
    fn get(&self, k: &[u8]) -> Result<Option<sled::IVec>, Abort> {
        if !self.maybe_nonempty.get() {
            return Ok(None);
        }
        Ok(self.tree.get(k)?)
    }
    fn insert(&self, k: Vec<u8>, v: &[u8]) -> Result<(), Abort> {
        self.maybe_nonempty.set(true);
        self.tree.insert(k, v)?;
        Ok(())
    }
    fn remove(&self, k: Vec<u8>) -> Result<Option<sled::IVec>, Abort> {
        Ok(self.tree.remove(k)?)
    }
}

/// A record with its encoded value and keys, computed outside the transaction.
struct Prepared<'a> {
    rec: &'a SignedRecord,
    value: Vec<u8>,
    seq_key: Vec<u8>,
    index: Vec<Vec<u8>>,
    /// The record stored under its (origin, seq) before this batch, if any.
    stored: Option<RecordId>,
}

/// Stores one record inside a transaction. Lifecycle refusals are returned before anything of
/// this record is written.
fn apply_one(tx: &Tx<'_>, p: &Prepared<'_>, mode: Mode) -> Result<Ingest, Abort> {
    // The id is the hash of a body that names its origin and seq, so one lookup of
    // (origin, seq) tells a duplicate (same id) from an equivocation (another id).
    let existing = match tx.new_seq.borrow().get(&p.seq_key) {
        Some(id) => Some(*id),
        None => p.stored,
    };
    if let Some(existing) = existing {
        if existing == p.rec.id {
            return Ok(Ingest::Duplicate);
        }
        let mut k = p.seq_key.clone();
        k.extend_from_slice(&p.rec.id.0);
        tx.evidence.insert(k, p.rec.envelope.encode_to_vec())?;
        return Ok(Ingest::Equivocation { existing });
    }
    let origin = &p.rec.record.origin;
    match &p.rec.record.kind {
        RecordKind::Alert(_) => {
            let st = take_pending(&tx.pending, &p.rec.id, AlertState::active(None))?;
            if st == AlertState::active(None) {
                // The common case: an active alert needs no `state` entry (see `load_state`).
                tx.derived_delta.set(tx.derived_delta.get() + 1);
            } else {
                tx.state.insert(&p.rec.id.0, &st.encode()[..])?;
            }
        }
        RecordKind::Amendment(a) => {
            let mut mine = AlertState::active(Some(a.supersedes));
            match load_target(tx, &a.supersedes, origin)? {
                None if mode == Mode::Own => return Err(unknown_target(&a.supersedes)),
                None => {
                    // The version it replaces has not arrived yet.
                    tx.pending
                        .insert(pending_key(&a.supersedes, PENDING_AMENDMENT), &p.rec.id.0)?;
                }
                Some((Lifecycle { mut st, derived }, target)) => {
                    if let Some(old) = target.kind.alert().map(|t| &t.distribution) {
                        if !a.alert.distribution.covers(old) {
                            return Err(abort(StoreError::Rejected(
                                Rejection::NarrowedDistribution {
                                    new: a.alert.distribution.summary(),
                                    old: old.summary(),
                                },
                            )));
                        }
                    }
                    match (st.status, mode) {
                        (Status::Active, _) => {
                            st.status = Status::Superseded;
                            st.superseded_by = Some(p.rec.id);
                            write_state(tx, &a.supersedes, &st, derived)?;
                        }
                        (_, Mode::Own) => return Err(not_current(&a.supersedes, &st)),
                        (Status::Retracted, Mode::Received) => {
                            // The retraction overtook this amendment.
                            mine.status = Status::Retracted;
                            mine.retracted_by = st.retracted_by;
                        }
                        (Status::Superseded, Mode::Received) => {}
                    }
                }
            }
            let mine = take_pending(&tx.pending, &p.rec.id, mine)?;
            tx.state.insert(&p.rec.id.0, &mine.encode()[..])?;
            // Retracted on arrival (its retraction came first): withdraw the
            // versions it replaced too.
            if let (Status::Retracted, Some(by)) = (mine.status, mine.retracted_by) {
                match load_state(tx, &a.supersedes)? {
                    Some(prev) => {
                        if prev.st.status != Status::Retracted {
                            retract_chain(tx, a.supersedes, prev, by)?;
                        }
                    }
                    None => {
                        tx.pending
                            .insert(pending_key(&a.supersedes, PENDING_RETRACTION), &by.0)?;
                    }
                }
            }
        }
        RecordKind::Retraction(r) => match load_target(tx, &r.target, origin)? {
            None if mode == Mode::Own => return Err(unknown_target(&r.target)),
            None => {
                tx.pending
                    .insert(pending_key(&r.target, PENDING_RETRACTION), &p.rec.id.0)?;
            }
            Some((l, _)) => {
                if mode == Mode::Own && l.st.status != Status::Active {
                    return Err(not_current(&r.target, &l.st));
                }
                retract_chain(tx, r.target, l, p.rec.id)?;
            }
        },
        RecordKind::Hit(h) => {
            // A hit is on an alert version held here, of the origin it names.
            let target = load_record(tx.records, &h.alert_id)?;
            match target {
                Some(t) if t.kind.alert().is_some() && t.origin == h.alert_origin => {}
                Some(t) => {
                    return Err(abort(StoreError::Rejected(Rejection::UnknownTarget(
                        format!(
                            "{} (a {} of {}, not an alert of {})",
                            h.alert_id.to_hex(),
                            t.kind.name(),
                            t.origin,
                            h.alert_origin
                        ),
                    ))))
                }
                None => return Err(unknown_target(&h.alert_id)),
            }
        }
        RecordKind::Outcome(o) => {
            // An outcome follows a hit of the same desk, on an alert of the origin it names.
            match load_record(tx.records, &o.hit_id)? {
                Some(Record {
                    origin: hit_origin,
                    kind: RecordKind::Hit(h),
                    ..
                }) if hit_origin == *origin && h.alert_origin == o.alert_origin => {}
                Some(t) => {
                    return Err(abort(StoreError::Rejected(Rejection::UnknownTarget(
                        format!(
                            "{} (a {} of {}, not a hit of {} on an alert of {})",
                            o.hit_id.to_hex(),
                            t.kind.name(),
                            t.origin,
                            origin,
                            o.alert_origin
                        ),
                    ))))
                }
                None => return Err(unknown_target(&o.hit_id)),
            }
        }
        RecordKind::AdminEvent(_) => {
            if mode != Mode::Own {
                return Err(abort(StoreError::Rejected(Rejection::NotOwnEvent)));
            }
        }
    }
    tx.log_ids.borrow_mut().extend_from_slice(&p.rec.id.0);
    tx.records.insert(&p.rec.id.0, p.value.as_slice())?;
    tx.new_seq.borrow_mut().insert(p.seq_key.clone(), p.rec.id);
    for k in &p.index {
        tx.idx.insert(k.as_slice(), &[])?;
    }
    Ok(Ingest::Stored)
}

const PENDING_AMENDMENT: u8 = 2;
const PENDING_RETRACTION: u8 = 3;

fn pending_key(target: &RecordId, kind: u8) -> Vec<u8> {
    let mut k = target.0.to_vec();
    k.push(kind);
    k
}

fn unknown_target(target: &RecordId) -> Abort {
    abort(StoreError::Rejected(Rejection::UnknownTarget(
        target.to_hex(),
    )))
}

fn not_current(target: &RecordId, st: &AlertState) -> Abort {
    let by = match (st.superseded_by, st.retracted_by) {
        (_, Some(r)) => format!(" (by retraction {r})"),
        (Some(s), None) => format!(" (by {s}; amend or retract that version)"),
        _ => String::new(),
    };
    abort(StoreError::Rejected(Rejection::NotCurrent {
        target: target.to_hex(),
        status: st.status.as_str(),
        by,
    }))
}

/// Applies an amendment or retraction that arrived before the record `id`, if any.
fn take_pending(
    pending: &Pending<'_>,
    id: &RecordId,
    mut st: AlertState,
) -> Result<AlertState, Abort> {
    // Look before removing: most records have nothing pending, and a read is cheaper than a
    // write in a transaction.
    let amend_key = pending_key(id, PENDING_AMENDMENT);
    let retract_key = pending_key(id, PENDING_RETRACTION);
    if let Some(by) = match pending.get(&amend_key)? {
        Some(_) => pending.remove(amend_key)?,
        None => None,
    } {
        st.status = Status::Superseded;
        st.superseded_by = Some(
            RecordId::from_slice(&by, "pending")
                .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?,
        );
    }
    if let Some(by) = match pending.get(&retract_key)? {
        Some(_) => pending.remove(retract_key)?,
        None => None,
    } {
        st.status = Status::Retracted;
        st.retracted_by = Some(
            RecordId::from_slice(&by, "pending")
                .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?,
        );
    }
    Ok(st)
}

/// Marks every version of an alert retracted: back through `supersedes` and forward through
/// `superseded_by`. A predecessor not yet received gets a pending retraction.
fn retract_chain(
    tx: &Tx<'_>,
    start: RecordId,
    start_state: Lifecycle,
    by: RecordId,
) -> Result<(), Abort> {
    let mark = |id: RecordId, l: Lifecycle| -> Result<AlertState, Abort> {
        let mut st = l.st;
        st.status = Status::Retracted;
        st.retracted_by = Some(by);
        write_state(tx, &id, &st, l.derived)?;
        Ok(st)
    };
    let first = mark(start, start_state)?;
    // Backwards.
    let mut prev = first.supersedes;
    let mut guard = 0;
    while let Some(id) = prev {
        guard += 1;
        if guard > 100_000 {
            return Err(abort(StoreError::Corrupt("amendment chain loops".into())));
        }
        match load_state(tx, &id)? {
            Some(l) => prev = mark(id, l)?.supersedes,
            None => {
                tx.pending
                    .insert(pending_key(&id, PENDING_RETRACTION), &by.0)?;
                break;
            }
        }
    }
    // Forwards (a retraction of an older version that overtook newer ones).
    let mut next = first.superseded_by;
    while let Some(id) = next {
        guard += 1;
        if guard > 100_000 {
            return Err(abort(StoreError::Corrupt("amendment chain loops".into())));
        }
        match load_state(tx, &id)? {
            Some(l) => next = mark(id, l)?.superseded_by,
            None => break,
        }
    }
    Ok(())
}

/// The lifecycle state of an alert version inside a transaction.
#[derive(Debug, Clone, Copy)]
struct Lifecycle {
    st: AlertState,
    /// A plain alert, active, with no `state` entry: writing one takes it off the count of
    /// such alerts.
    derived: bool,
}

/// Writes the `state` entry of an alert version.
fn write_state(tx: &Tx<'_>, id: &RecordId, st: &AlertState, derived: bool) -> Result<(), Abort> {
    if derived {
        tx.derived_delta.set(tx.derived_delta.get() - 1);
    }
    tx.state.insert(&id.0, &st.encode()[..])?;
    Ok(())
}

/// The lifecycle state of a stored alert or amendment: its `state` entry, or active for a
/// plain alert that has none (stored active with nothing pending, never changed since).
/// `None` when no alert version is stored under `id`.
fn load_state(tx: &Tx<'_>, id: &RecordId) -> Result<Option<Lifecycle>, Abort> {
    if let Some(raw) = tx.state.get(id.0)? {
        let st = AlertState::decode(&raw).map_err(abort)?;
        return Ok(Some(Lifecycle { st, derived: false }));
    }
    match load_record(tx.records, id)? {
        Some(r) if matches!(r.kind, RecordKind::Alert(_)) => Ok(Some(Lifecycle {
            st: AlertState::active(None),
            derived: true,
        })),
        // A signed chain can name a record without a lifecycle (an amendment whose
        // `supersedes` is a hit, say): treated as not held, as it always was, never as an
        // error that would abort every batch carrying the chain.
        Some(_) | None => Ok(None),
    }
}

/// Loads a stored record inside a transaction.
fn load_record(records: &TransactionalTree, id: &RecordId) -> Result<Option<Record>, Abort> {
    let Some(raw) = records.get(id.0)? else {
        return Ok(None);
    };
    let env = pb::Envelope::decode(raw.get(8..).unwrap_or_default())
        .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?;
    Ok(Some(decode_record(&env.body).map_err(abort)?))
}

/// Loads the target of an amendment or retraction, refusing one owned by another origin.
/// `None` when the target is not stored.
fn load_target(
    tx: &Tx<'_>,
    target: &RecordId,
    origin: &Origin,
) -> Result<Option<(Lifecycle, Record)>, Abort> {
    let Some(rec) = load_record(tx.records, target)? else {
        return Ok(None);
    };
    if rec.origin != *origin {
        return Err(abort(StoreError::Rejected(Rejection::NotOwner {
            target: target.to_hex(),
            owner: rec.origin.to_string(),
            origin: origin.to_string(),
        })));
    }
    let l = match tx.state.get(target.0)? {
        Some(raw) => Lifecycle {
            st: AlertState::decode(&raw).map_err(abort)?,
            derived: false,
        },
        None if matches!(rec.kind, RecordKind::Alert(_)) => Lifecycle {
            st: AlertState::active(None),
            derived: true,
        },
        None => {
            return Err(abort(StoreError::Rejected(Rejection::UnknownTarget(
                format!("{} (a {}, not an alert)", target.to_hex(), rec.kind.name()),
            ))))
        }
    };
    Ok(Some((l, rec)))
}

/// Status shown for a stored entry: lifecycle, with `expired` for active alerts whose
/// validity ended before `today`, and `recorded` for kinds without a lifecycle.
pub fn display_status(entry: &StoredEntry, record: &Record, today: Date) -> &'static str {
    match (&entry.state, record.kind.alert()) {
        (Some(st), Some(a)) => {
            if st.status == Status::Active && a.validity.valid_until() < today {
                "expired"
            } else {
                st.status.as_str()
            }
        }
        (Some(st), None) => st.status.as_str(),
        (None, _) => "recorded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Alert;
    use crate::record::{Amendment, Retraction};
    use ed25519_dalek::SigningKey;

    fn alert(dist: &str) -> Alert {
        Alert::from_json(&format!(
            r#"{{"title": "Meth in express parcels",
               "subject": {{"cargo": {{"route": "express", "express_tracking_number": "1Z999AA10123456784",
                  "container_numbers": ["CSQU3054383"]}}}},
               "substances": ["methamphetamine"], "risk": "high",
               "validity": {{"valid_from": "2026-11-01", "valid_until": "2027-01-31"}},
               "distribution": {dist},
               "handling": {{"tlp": "amber"}}}}"#
        ))
        .unwrap()
    }

    fn signed(origin: &str, seq: u64, kind: RecordKind) -> SignedRecord {
        Record {
            origin: Origin::parse(origin).unwrap(),
            seq,
            created_at_ms: 1_790_000_000_000 + seq as i64,
            kind,
        }
        .sign(&SigningKey::from_bytes(&[3; 32]))
    }

    /// An alert of TH/bkk to KR with its own title (distinct bodies, distinct ids).
    fn titled_alert(title: &str) -> RecordKind {
        let mut a = alert(r#"{"countries":["KR"]}"#);
        a.title = crate::model::Title::parse(title).unwrap();
        RecordKind::Alert(a)
    }

    /// [`titled_alert`] signed by TH/bkk at `seq`.
    fn th_alert(seq: u64, title: &str) -> SignedRecord {
        signed("TH/bkk", seq, titled_alert(title))
    }

    /// A retraction of `target` (reason "x", to all partners).
    fn retraction(target: RecordId) -> RecordKind {
        RecordKind::Retraction(Retraction {
            target,
            reason: crate::model::Note::parse("x").unwrap(),
            distribution: crate::model::Distribution::AllPartners,
        })
    }

    /// Cost of the receiver's store path alone, per record (not a test: a measurement, see
    /// docs/PERFORMANCE.md). `cargo test --release --lib store_write_cost -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn store_write_cost() {
        let d = tempfile::tempdir().unwrap();
        let st = Store::open(d.path()).unwrap();
        let recs: Vec<SignedRecord> = (1..=30_720u64)
            .map(|i| th_alert(i, &format!("t {i}")))
            .collect();
        let (mut ti, mut tf) = (0.0, 0.0);
        for c in recs.chunks(1024) {
            let t = std::time::Instant::now();
            st.ingest_batch(c, 1, Mode::Received).unwrap();
            ti += t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            st.flush_blocking().unwrap();
            tf += t.elapsed().as_secs_f64();
        }
        let n = recs.len() as f64 / 1e6;
        eprintln!(
            "store path: {:.1} us/record in batches of 1,024, flush {:.1} us/record",
            ti / n,
            tf / n
        );
    }

    #[test]
    fn store_is_idempotent_and_keeps_equivocation_evidence() {
        let s = Store::temporary().unwrap();
        let a = signed(
            "TH/bkk",
            1,
            RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
        );
        assert_eq!(s.ingest(&a, 1, Mode::Own).unwrap(), Ingest::Stored);
        assert_eq!(s.ingest(&a, 2, Mode::Own).unwrap(), Ingest::Duplicate);
        let other = signed(
            "TH/bkk",
            1,
            RecordKind::Alert(alert(r#"{"all_partners":true}"#)),
        );
        assert_eq!(
            s.ingest(&other, 3, Mode::Own).unwrap(),
            Ingest::Equivocation { existing: a.id }
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s.equivocations(), 1);
        let e = s.get(&a.id).unwrap().unwrap();
        assert!(e.equivocation);
        assert_eq!(e.envelope, a.envelope, "original untouched");
        assert_eq!(e.stored_at_ms, 1);
        assert_eq!(s.last_seq(&Origin::parse("TH/bkk").unwrap()).unwrap(), 1);
        assert_eq!(s.last_seq(&Origin::parse("TH/bk").unwrap()).unwrap(), 0);
        assert_eq!(
            s.log_range(0, 10).collect::<Result<Vec<_>, _>>().unwrap(),
            vec![(0, a.id)],
            "the duplicate and the equivocation took no log position"
        );
    }

    #[test]
    fn duplicates_and_equivocations_within_a_batch_and_after_reopening() {
        let d = tempfile::tempdir().unwrap();
        let mk = th_alert;
        let (a1, a1b, a2, a3) = (
            mk(1, "one"),
            mk(1, "other one"),
            mk(2, "two"),
            mk(3, "three"),
        );
        {
            let s = Store::open(d.path()).unwrap();
            let got = s
                .ingest_batch(
                    &[a1.clone(), a1.clone(), a1b.clone(), a3.clone()],
                    1,
                    Mode::Received,
                )
                .unwrap();
            assert_eq!(
                got,
                vec![
                    Ok(Ingest::Stored),
                    Ok(Ingest::Duplicate),
                    Ok(Ingest::Equivocation { existing: a1.id }),
                    Ok(Ingest::Stored)
                ]
            );
            assert!(s.may_hold(&a1.envelope.body) && s.may_hold(&a2.envelope.body));
            s.flush_blocking().unwrap();
        }
        // Reopened: nothing is known in memory; a gap filler and replays are still told apart.
        let s = Store::open(d.path()).unwrap();
        assert!(s.may_hold(&a3.envelope.body));
        assert!(!s.may_hold(&mk(4, "four").envelope.body));
        let got = s
            .ingest_batch(
                &[a3.clone(), a2.clone(), a1b.clone(), a2.clone()],
                1,
                Mode::Received,
            )
            .unwrap();
        assert_eq!(
            got,
            vec![
                Ok(Ingest::Duplicate),
                Ok(Ingest::Stored),
                Ok(Ingest::Equivocation { existing: a1.id }),
                Ok(Ingest::Duplicate)
            ]
        );
        assert_eq!(s.log_len().unwrap(), 3);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn received_cosignatures_by_witness_and_size() {
        let s = Store::temporary().unwrap();
        let cc = |c: &str| CountryCode::parse(c).unwrap();
        let cos = |b: u8| pb::Cosignature {
            body: vec![b],
            ..Default::default()
        };
        assert!(s.cosigning_witnesses().unwrap().is_empty());
        for (w, size) in [("TH", 3), ("NL", 5), ("TH", 9), ("NL", 0), ("TH", 256)] {
            s.put_cosignature_received(size, cc(w), &cos(size as u8))
                .unwrap();
        }
        assert_eq!(s.cosigning_witnesses().unwrap(), vec![cc("NL"), cc("TH")]);
        assert_eq!(s.latest_cosigned(cc("TH"), u64::MAX).unwrap(), Some(256));
        assert_eq!(s.latest_cosigned(cc("TH"), 255).unwrap(), Some(9));
        assert_eq!(s.latest_cosigned(cc("NL"), 4).unwrap(), Some(0));
        assert_eq!(s.latest_cosigned(cc("MY"), u64::MAX).unwrap(), None);
        assert_eq!(s.cosignature_received(cc("NL"), 5).unwrap(), Some(cos(5)));
        assert_eq!(s.cosignature_received(cc("NL"), 3).unwrap(), None);
    }

    #[test]
    fn log_chunks_read_back_as_positions() {
        let s = Store::temporary().unwrap();
        let recs: Vec<SignedRecord> = (1..=7u64).map(|i| th_alert(i, &format!("t {i}"))).collect();
        // Chunks of 3, 1 and 3 records.
        s.ingest_batch(&recs[..3], 1, Mode::Received).unwrap();
        s.ingest_batch(&recs[3..4], 1, Mode::Received).unwrap();
        s.ingest_batch(&recs[4..], 1, Mode::Received).unwrap();
        assert_eq!(s.log_len().unwrap(), 7);
        let ids: Vec<RecordId> = recs.iter().map(|r| r.id).collect();
        for from in 0..=7u64 {
            for to in from..=9u64 {
                let got: Vec<(u64, RecordId)> =
                    s.log_range(from, to).collect::<Result<_, _>>().unwrap();
                let want: Vec<(u64, RecordId)> =
                    (from..to.min(7)).map(|p| (p, ids[p as usize])).collect();
                assert_eq!(got, want, "{from}..{to}");
            }
        }
    }

    #[test]
    fn amend_and_retract_lifecycle() {
        let s = Store::temporary().unwrap();
        let a = signed(
            "TH/bkk",
            1,
            RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
        );
        s.ingest(&a, 1, Mode::Own).unwrap();
        // Narrowing is refused; widening accepted.
        let amend = |seq, target, dist: &str| {
            signed(
                "TH/bkk",
                seq,
                RecordKind::Amendment(Amendment {
                    supersedes: target,
                    alert: alert(dist),
                    reason: crate::model::Note::parse("more parcels").unwrap(),
                }),
            )
        };
        let m = amend(2, a.id, r#"{"countries":["KR","NL"]}"#);
        assert_eq!(s.ingest(&m, 2, Mode::Own).unwrap(), Ingest::Stored);
        assert_eq!(
            s.get(&a.id).unwrap().unwrap().state.unwrap().status,
            Status::Superseded
        );
        assert_eq!(check_active(&s), vec![m.id]);
        let narrow = amend(3, m.id, r#"{"countries":["KR"]}"#);
        assert!(matches!(
            s.ingest(&narrow, 3, Mode::Own),
            Err(StoreError::Rejected(Rejection::NarrowedDistribution { .. }))
        ));
        // Amending a superseded version is refused; nothing stored.
        let stale = amend(3, a.id, r#"{"all_partners":true}"#);
        assert!(matches!(
            s.ingest(&stale, 3, Mode::Own),
            Err(StoreError::Rejected(Rejection::NotCurrent { .. }))
        ));
        assert_eq!(s.len(), 2);
        // Another origin cannot retract it.
        let foreign = signed("NL/rtm", 1, retraction(m.id));
        assert!(matches!(
            s.ingest(&foreign, 4, Mode::Own),
            Err(StoreError::Rejected(Rejection::NotOwner { .. }))
        ));
        let r = signed(
            "TH/bkk",
            3,
            RecordKind::Retraction(Retraction {
                target: m.id,
                reason: crate::model::Note::parse("consignee cleared").unwrap(),
                distribution: crate::model::Distribution::AllPartners,
            }),
        );
        assert_eq!(s.ingest(&r, 5, Mode::Own).unwrap(), Ingest::Stored);
        for id in [a.id, m.id] {
            let st = s.get(&id).unwrap().unwrap().state.unwrap();
            assert_eq!(st.status, Status::Retracted);
            assert_eq!(st.retracted_by, Some(r.id));
        }
        assert!(check_active(&s).is_empty());
    }

    #[test]
    fn received_out_of_order_versions_settle_correctly() {
        let note = |t: &str| crate::model::Note::parse(t).unwrap();
        let a = signed(
            "TH/bkk",
            1,
            RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
        );
        let m = signed(
            "TH/bkk",
            2,
            RecordKind::Amendment(Amendment {
                supersedes: a.id,
                alert: alert(r#"{"countries":["KR"]}"#),
                reason: note("update"),
            }),
        );
        let r = signed(
            "TH/bkk",
            3,
            RecordKind::Retraction(Retraction {
                target: m.id,
                reason: note("withdrawn"),
                distribution: crate::model::Distribution::AllPartners,
            }),
        );
        // Own records must arrive in order.
        let own = Store::temporary().unwrap();
        assert!(matches!(
            own.ingest(&m, 1, Mode::Own),
            Err(StoreError::Rejected(Rejection::UnknownTarget(_)))
        ));
        // Received: every arrival order ends in the same state.
        let orders: [[&SignedRecord; 3]; 6] = [
            [&a, &m, &r],
            [&a, &r, &m],
            [&m, &a, &r],
            [&m, &r, &a],
            [&r, &a, &m],
            [&r, &m, &a],
        ];
        for order in orders {
            let s = Store::temporary().unwrap();
            for rec in order {
                assert_eq!(s.ingest(rec, 1, Mode::Received).unwrap(), Ingest::Stored);
            }
            for id in [a.id, m.id] {
                let st = s.get(&id).unwrap().unwrap().state.unwrap();
                assert_eq!(
                    st.status,
                    Status::Retracted,
                    "{id:?} in order {:?}",
                    order.map(|x| x.record.seq)
                );
                assert_eq!(st.retracted_by, Some(r.id));
            }
            assert!(check_active(&s).is_empty());
            assert_eq!(s.log_len().unwrap(), 3);
        }
        // Amendment before its alert, no retraction: the alert ends superseded.
        let s = Store::temporary().unwrap();
        s.ingest(&m, 1, Mode::Received).unwrap();
        s.ingest(&a, 2, Mode::Received).unwrap();
        let st = s.get(&a.id).unwrap().unwrap().state.unwrap();
        assert_eq!(
            (st.status, st.superseded_by),
            (Status::Superseded, Some(m.id))
        );
        assert_eq!(
            s.get(&m.id).unwrap().unwrap().state.unwrap().status,
            Status::Active
        );
    }

    /// Active alert versions by walking every stored entry (derived states included); the
    /// count and list the store answers from its counter and `state` entries must agree.
    fn check_active(s: &Store) -> Vec<RecordId> {
        let mut walked = vec![];
        for e in s.iter() {
            let e = e.unwrap();
            let rec = e.record().unwrap();
            let lifecycle = matches!(rec.kind, RecordKind::Alert(_) | RecordKind::Amendment(_));
            assert_eq!(e.state.is_some(), lifecycle, "{:?}", rec.kind.name());
            if e.state.is_some_and(|st| st.status == Status::Active) {
                walked.push(e.id);
            }
        }
        walked.sort();
        let mut listed: Vec<RecordId> = s
            .active_alert_versions()
            .unwrap()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        listed.sort();
        assert_eq!(listed, walked);
        assert_eq!(s.active_alerts(), walked.len());
        walked
    }

    #[test]
    fn lifecycle_settles_whatever_the_order_and_batching() {
        let note = |t: &str| crate::model::Note::parse(t).unwrap();
        let mut seq = 0;
        let mut next = |kind| {
            seq += 1;
            signed("TH/bkk", seq, kind)
        };
        let al = titled_alert;
        let amend = |target| {
            RecordKind::Amendment(Amendment {
                supersedes: target,
                alert: alert(r#"{"countries":["KR"]}"#),
                reason: note("update"),
            })
        };
        let retract = |target| {
            RecordKind::Retraction(Retraction {
                target,
                reason: note("withdrawn"),
                distribution: crate::model::Distribution::AllPartners,
            })
        };
        // A1 → M1 → M2, then M2 retracted; A2 retracted; A3 → M3; A4 untouched.
        let a1 = next(al("one"));
        let m1 = next(amend(a1.id));
        let m2 = next(amend(m1.id));
        let r1 = next(retract(m2.id));
        let a2 = next(al("two"));
        let r2 = next(retract(a2.id));
        let a3 = next(al("three"));
        let m3 = next(amend(a3.id));
        let a4 = next(al("four"));
        let all = [&a1, &m1, &m2, &r1, &a2, &r2, &a3, &m3, &a4];
        let mut want_active = vec![m3.id, a4.id];
        want_active.sort();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        for round in 0..150 {
            let mut order: Vec<SignedRecord> = all.iter().map(|r| (*r).clone()).collect();
            if round > 0 {
                for i in (1..order.len()).rev() {
                    order.swap(i, rand(i + 1));
                }
            }
            // Some records delivered twice.
            let dup = order[rand(order.len())].clone();
            order.insert(rand(order.len() + 1), dup);
            let s = Store::temporary().unwrap();
            let mut rest = &order[..];
            while !rest.is_empty() {
                let n = 1 + rand(rest.len());
                let (batch, tail) = rest.split_at(n);
                for r in s.ingest_batch(batch, 1, Mode::Received).unwrap() {
                    assert!(r.is_ok(), "round {round}: {r:?}");
                }
                check_active(&s);
                rest = tail;
            }
            let order_seqs: Vec<u64> = order.iter().map(|r| r.record.seq).collect();
            assert_eq!(check_active(&s), want_active, "order {order_seqs:?}");
            for (id, status) in [
                (a1.id, Status::Retracted),
                (m1.id, Status::Retracted),
                (m2.id, Status::Retracted),
                (a2.id, Status::Retracted),
                (a3.id, Status::Superseded),
                (m3.id, Status::Active),
                (a4.id, Status::Active),
            ] {
                let st = s.get(&id).unwrap().unwrap().state.unwrap();
                assert_eq!(st.status, status, "order {order_seqs:?}");
            }
            assert_eq!(s.log_len().unwrap(), 9);
            assert_eq!(s.count_origin(&a1.record.origin), 9);
            assert_eq!(s.last_seq(&a1.record.origin).unwrap(), 9);
            // Iteration is in sequence order whatever the arrival order.
            let seqs: Vec<u64> = s.iter().map(|e| e.unwrap().record().unwrap().seq).collect();
            assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
            assert!(s.pending.is_empty(), "order {order_seqs:?}");
        }
    }

    #[test]
    fn a_chain_naming_a_record_without_lifecycle_is_stored_not_an_error() {
        // TH signs an amendment "superseding" its own hit, then retracts the amendment; the
        // hit arrives in between. Nothing here may abort the batch (a partner could otherwise
        // wedge replication with it).
        let s = Store::temporary().unwrap();
        let a = th_alert(1, "one");
        let hit = signed(
            "TH/bkk",
            2,
            RecordKind::Hit(crate::record::Hit {
                alert_id: a.id,
                alert_origin: a.record.origin.clone(),
                score: 900,
                matched: vec![],
                subject_reference: crate::model::ShortText::parse("EXP-1").unwrap(),
                screened_on: crate::model::Date::parse("2026-11-24").unwrap(),
            }),
        );
        let m = signed(
            "TH/bkk",
            3,
            RecordKind::Amendment(Amendment {
                supersedes: hit.id,
                alert: alert(r#"{"countries":["KR"]}"#),
                reason: crate::model::Note::parse("odd").unwrap(),
            }),
        );
        let r = signed("TH/bkk", 4, retraction(m.id));
        let got = s
            .ingest_batch(&[a, m.clone(), hit, r], 1, Mode::Received)
            .unwrap();
        assert!(got.iter().all(|g| g == &Ok(Ingest::Stored)), "{got:?}");
        assert_eq!(
            s.get(&m.id).unwrap().unwrap().state.unwrap().status,
            Status::Retracted
        );
        check_active(&s);
    }

    #[test]
    fn databases_written_before_runs_and_derived_states_still_read() {
        // Earlier layouts: one `seq` entry per record, a `state` entry for every alert.
        let s = Store::temporary().unwrap();
        let mk = th_alert;
        let (a1, a2) = (mk(1, "one"), mk(2, "two"));
        for a in [&a1, &a2] {
            let mut v = 7i64.to_be_bytes().to_vec();
            a.envelope.encode(&mut v).unwrap();
            s.records.insert(a.id.0, v).unwrap();
            s.seq
                .insert(seq_key(&a.record.origin, a.record.seq), &a.id.0)
                .unwrap();
            s.state
                .insert(a.id.0, &AlertState::active(None).encode()[..])
                .unwrap();
        }
        assert_eq!(check_active(&s).len(), 2);
        // A replay and an equivocation of the old entries are recognised; new records join.
        let a1b = mk(1, "other one");
        let a3 = mk(3, "three");
        let retract = signed("TH/bkk", 4, retraction(a1.id));
        let got = s
            .ingest_batch(&[a2.clone(), a1b, a3.clone(), retract], 1, Mode::Received)
            .unwrap();
        assert_eq!(
            got,
            vec![
                Ok(Ingest::Duplicate),
                Ok(Ingest::Equivocation { existing: a1.id }),
                Ok(Ingest::Stored),
                Ok(Ingest::Stored)
            ]
        );
        let mut want = vec![a2.id, a3.id];
        want.sort();
        assert_eq!(check_active(&s), want);
        assert_eq!(s.count_origin(&a1.record.origin), 4);
        assert_eq!(s.last_seq(&a1.record.origin).unwrap(), 4);
    }

    #[test]
    fn all_or_nothing_batches_store_nothing_on_a_refusal() {
        let s = Store::temporary().unwrap();
        let mk = th_alert;
        let orphan = signed("TH/bkk", 3, retraction(RecordId([9; 32])));
        let (a1, a2) = (mk(1, "one"), mk(2, "two"));
        assert!(matches!(
            s.ingest_all(&[a1.clone(), a2.clone(), orphan], 1, Mode::Own),
            Err(StoreError::Rejected(Rejection::UnknownTarget(_)))
        ));
        assert_eq!(
            (s.len(), s.log_len().unwrap(), s.active_alerts()),
            (0, 0, 0)
        );
        s.ingest_all(std::slice::from_ref(&a1), 1, Mode::Own)
            .unwrap();
        // A batch reusing a taken sequence number stores nothing either.
        assert!(matches!(
            s.ingest_all(&[a2.clone(), mk(1, "again")], 1, Mode::Own),
            Err(StoreError::SeqTaken(1))
        ));
        assert_eq!(
            (s.len(), s.log_len().unwrap(), s.active_alerts()),
            (1, 1, 1)
        );
        s.ingest_all(&[a2], 1, Mode::Own).unwrap();
        assert_eq!(check_active(&s).len(), 2);
    }

    #[test]
    fn seq_runs_group_consecutive_numbers_of_one_origin() {
        let id = |b: u8| RecordId([b; 32]);
        let mut new = std::collections::HashMap::new();
        let th = Origin::parse("TH/bkk").unwrap();
        let nl = Origin::parse("NL/rtm").unwrap();
        for (o, sq, b) in [
            (&th, 3, 3),
            (&th, 1, 1),
            (&th, 2, 2),
            (&th, 5, 5),
            (&nl, 6, 6),
        ] {
            new.insert(seq_key(o, sq), id(b));
        }
        let runs = seq_runs(new);
        let ids = |v: &[u8]| v.chunks(32).map(|c| c[0]).collect::<Vec<_>>();
        let got: Vec<(Vec<u8>, Vec<u8>)> = runs.iter().map(|(k, v)| (k.clone(), ids(v))).collect();
        let mut want = vec![
            (seq_key(&th, 1), vec![1, 2, 3]),
            (seq_key(&th, 5), vec![5]),
            (seq_key(&nl, 6), vec![6]),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn resolve_prefixes() {
        let s = Store::temporary().unwrap();
        let a = signed(
            "TH/bkk",
            1,
            RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
        );
        s.ingest(&a, 1, Mode::Own).unwrap();
        assert_eq!(s.resolve(&a.id.to_hex()[..9]).unwrap(), Ok(a.id));
        assert!(s.resolve("abc").unwrap().is_err());
        assert!(s.resolve("zzzzzzzz").unwrap().is_err());
        assert!(s.resolve(&"0".repeat(10)).unwrap().is_err());
    }

    #[test]
    fn state_encoding_round_trips() {
        let st = AlertState {
            status: Status::Retracted,
            superseded_by: None,
            retracted_by: Some(RecordId([9; 32])),
            supersedes: Some(RecordId([4; 32])),
        };
        assert_eq!(AlertState::decode(&st.encode()).unwrap(), st);
        assert!(AlertState::decode(&[1, 2]).is_err());
    }
}
