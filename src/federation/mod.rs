//! Federation: partner desks exchange signed records over mutually authenticated gRPC.
//!
//! - [`registry`]: registered partners (CA, CRLs, signing keys, endpoint).
//! - [`tls`]: TLS 1.3 server and client configurations that identify a node by the
//!   `kdesk://CC/node` identity in its certificate, checked against that country's CA.
//! - [`rules`]: who may receive a record (sender filter and receiver checks).
//! - [`exchange`]: the `Exchange.Subscribe` service streaming this node's log to a partner.
//! - [`replicator`]: one long-lived subscription per partner, verify → check → store → flush
//!   → advance cursor, reconnecting with exponential backoff and jitter.
//!
//! Cursors are positions in the *sender's* log (its arrival order), not per-origin sequence
//! numbers: a relaying node may store one origin's records out of sequence order, and a
//! per-origin "highest seq seen" cursor would then skip records after a reconnect. A log
//! position is exact; idempotent storage makes re-delivery harmless.

mod context;
mod error;
pub mod exchange;
pub mod listener;
pub mod registry;
pub mod replicator;
pub mod rules;
pub mod tls;
pub mod witness;

pub use context::{Context, TrustEvents};
pub use error::{chain as error_chain, LinkError};

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use tokio::sync::Semaphore;
use tracing::{error, warn};

use crate::model::CountryCode;
use crate::store::Store;
use registry::{CompiledPeer, PeerEntry, Registry, SharedRegistry};

/// Most records in one exchange message.
pub const MAX_BATCH_ITEMS: usize = 1024;
/// A sender closes a batch once it holds this many bytes of envelopes.
pub const BATCH_SOFT_BYTES: usize = 4 << 20;
/// Largest message accepted on the exchange port (bytes): a full batch plus one maximal record.
pub const MAX_EXCHANGE_MESSAGE_BYTES: usize =
    BATCH_SOFT_BYTES + crate::record::MAX_BODY_BYTES + 64 * 1024;
/// Concurrent subscriptions one partner may hold.
pub const MAX_SUBSCRIPTIONS_PER_PEER: usize = 2;
/// Subscribe calls a partner may make: burst, then one per this many seconds.
pub const SUBSCRIBE_BURST: f64 = 10.0;
/// Refill interval of the subscribe rate limit, seconds.
pub const SUBSCRIBE_REFILL_SECONDS: f64 = 2.0;
/// Transparency-log calls a partner may make: burst, then this many per second.
pub const AUDIT_CALL_BURST: f64 = 120.0;
/// Refill rate of the transparency-log call limit.
pub const AUDIT_CALLS_PER_SECOND: f64 = 20.0;
/// Most cosignatures returned by one `GetCosignatures` call.
pub const MAX_COSIGNATURES_PER_CALL: usize = 64;
/// TLS handshake deadline on the exchange port.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// TLS handshakes in progress at once on the exchange port.
pub const MAX_PENDING_HANDSHAKES: usize = 64;

/// The state of this node's link to a partner (its subscription to the partner's log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LinkState {
    /// No replicator has run yet.
    #[default]
    Idle,
    /// Connecting and subscribing.
    Connecting,
    /// Subscribed and receiving.
    Connected,
    /// Down; the next attempt is at this time (the cause is in `last_error`).
    Retrying {
        /// When the next attempt starts.
        at: Instant,
    },
}

impl LinkState {
    /// For people, as of now: "connected", "connecting", "retrying in 2.4 s", "idle".
    pub fn describe(&self) -> String {
        match self {
            Self::Idle => "idle".into(),
            Self::Connecting => "connecting".into(),
            Self::Connected => "connected".into(),
            Self::Retrying { at } => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    "retrying now".into()
                } else {
                    format!("retrying in {:.1} s", left.as_secs_f64())
                }
            }
        }
    }
}

/// Per-partner link counters, shown by `kdesk peer list` and `kdesk status`.
#[derive(Debug, Clone, Default)]
pub struct LinkStats {
    /// Link state.
    pub state: LinkState,
    /// Records newly stored from this partner.
    pub stored: u64,
    /// Records already held.
    pub duplicates: u64,
    /// Records refused.
    pub rejected: u64,
    /// Why the link last went down (kept after it is up again, for the record).
    pub last_error: Option<LinkError>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Takes one token from a partner's bucket (`burst` tokens, refilled at `per_second`).
fn take_token(
    buckets: &Mutex<HashMap<String, Bucket>>,
    cx: &str,
    burst: f64,
    per_second: f64,
) -> bool {
    let Ok(mut m) = buckets.lock() else {
        return false;
    };
    let now = Instant::now();
    if m.len() > 1024 {
        // Forget buckets that have refilled (their nodes are gone or quiet).
        m.retain(|_, b| now.duration_since(b.last).as_secs_f64() * per_second < burst);
    }
    let b = m.entry(cx.to_owned()).or_insert(Bucket {
        tokens: burst,
        last: now,
    });
    let refill = now.duration_since(b.last).as_secs_f64() * per_second;
    b.tokens = (b.tokens + refill).min(burst);
    b.last = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}

/// Why a registration could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The registration does not compile (bad endpoint, CA, CRL or key), naming the field.
    #[error("{0}")]
    Refused(String),
    /// Storing it failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Stores a partner registration durably, puts it in force, closes live connections it no
/// longer accepts, and has quarantined records judged again.
///
/// # Errors
/// The registration is invalid, or storing it failed (then nothing changed).
pub async fn commit_registration(
    cx: &Arc<Context>,
    entry: &PeerEntry,
) -> Result<Arc<CompiledPeer>, CommitError> {
    let compiled = CompiledPeer::compile(entry.clone(), &tls::provider())
        .map_err(|e| CommitError::Refused(e.to_string()))?;
    let json = serde_json::to_vec(entry)
        .map_err(|e| CommitError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    // Run to the end even if the caller goes away: the stored and the active registration
    // must not differ.
    let n = cx.clone();
    let country = entry.country;
    tokio::spawn(async move {
        n.store.put_peer(country, &json)?;
        // Revoked keys are remembered for good, with the registration in one flush.
        let mut revoked = Vec::new();
        for k in &compiled.entry.keys {
            if let (Some(from), Ok(vk)) = (
                k.revoked_at_ms,
                crate::keys::parse_public_key(&k.public_key),
            ) {
                n.store
                    .put_revoked_key(vk.as_bytes(), from, k.compromised, country)?;
                revoked.push((
                    crate::record::KeyId::of(&vk),
                    registry::Revocation {
                        from_ms: from,
                        compromised: k.compromised,
                    },
                ));
            }
        }
        n.store.flush().await?;
        let compiled = Arc::new(compiled);
        match n.fed.registry.write() {
            Ok(mut r) => {
                r.insert_shared(compiled.clone());
                for (id, rev) in revoked {
                    r.remember_revocation(id, rev);
                }
                n.fed.registry_changed();
            }
            Err(_) => {
                return Err(CommitError::Store(crate::store::StoreError::Poisoned(
                    "registry",
                )))
            }
        }
        // A changed CA or CRL applies to connections already open too.
        let closed = n.fed.revalidate_connections();
        if closed > 0 {
            tracing::info!(peer = %country, connections_closed = closed, "registration changed");
        }
        // Records kept aside waiting for this change are judged again.
        let m = n.clone();
        tokio::spawn(async move {
            if let Err(e) = replicator::rejudge_quarantine(&m).await {
                error!(cause = %e, "judging quarantined records again failed");
            }
        });
        Ok(compiled)
    })
    .await
    .map_err(|e| {
        CommitError::Store(crate::store::StoreError::Corrupt(format!(
            "registration task: {e}"
        )))
    })?
}

/// Refused connections on the exchange port, by reason.
#[derive(Default)]
pub struct Refusals {
    total: AtomicU64,
    by_reason: Mutex<BTreeMap<&'static str, u64>>,
}

impl Refusals {
    /// Counts one refusal.
    pub fn count(&self, reason: &'static str) {
        self.total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut m) = self.by_reason.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }

    /// Refusals so far.
    pub fn total(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Refusals by reason.
    pub fn by_reason(&self) -> Vec<(String, u64)> {
        self.by_reason
            .lock()
            .map(|m| m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
            .unwrap_or_default()
    }
}

/// Federation state of a node.
pub struct Federation {
    /// Registered partners.
    pub registry: SharedRegistry,
    /// This node's TLS identity (None when the node does not federate), replaced in place
    /// when the certificate is reloaded.
    pub identity: Option<Arc<tls::LiveIdentity>>,
    /// Connections refused on the exchange port, by reason.
    pub handshakes_refused: Arc<Refusals>,
    /// Live partner connections on the exchange port.
    pub conns: Arc<listener::Connections>,
    /// Repeated refusals, summarised in the log.
    pub refusal_log: Arc<listener::RefusalLog>,
    /// Held by every change of a registration (admin commands, fetched CRLs) from reading the
    /// current registration to putting the new one in force, so no change is lost.
    pub changes: Arc<tokio::sync::Mutex<()>>,
    /// Stored registrations that no longer pass the checks and were left out at start
    /// (fail closed), with why: shown by `kdesk status` until fixed with `peer add/update`.
    pub refused_at_start: Vec<(CountryCode, String)>,
    /// Bumped each time a registration changes (see [`Federation::registry_generation`]).
    generation: AtomicU64,
    /// Address the exchange service listens on, once bound.
    pub exchange_addr: OnceLock<SocketAddr>,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    links: Mutex<HashMap<CountryCode, LinkStats>>,
    replicators: Mutex<HashMap<CountryCode, tokio::task::JoinHandle<()>>>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    audit_buckets: Mutex<HashMap<String, Bucket>>,
    witness: Mutex<HashMap<CountryCode, String>>,
    recovery: Mutex<Option<String>>,
    /// When each partner's head was first seen not to extend the one witnessed before (a
    /// grace period for its restore declaration to arrive).
    pub(crate) diverged_since: Mutex<HashMap<CountryCode, std::time::Instant>>,
}

impl Federation {
    /// Loads the stored registrations. A registration that no longer compiles (an expired CA,
    /// say) is logged and left out: fail closed.
    pub fn load(
        store: &Store,
        identity: Option<Arc<tls::LiveIdentity>>,
    ) -> Result<Self, crate::store::StoreError> {
        let provider = tls::provider();
        let mut reg = Registry::default();
        let mut refused = Vec::new();
        for (country, json) in store.peers()? {
            let entry: PeerEntry = match serde_json::from_slice(&json) {
                Ok(e) => e,
                Err(e) => {
                    error!(%country, cause = %e, "stored peer registration unreadable; ignored");
                    refused.push((country, format!("unreadable: {e}")));
                    continue;
                }
            };
            match CompiledPeer::compile(entry, &provider) {
                Ok(p) => reg.insert(p),
                Err(e) => {
                    error!(%country, cause = %e, "stored peer registration refused; ignored");
                    refused.push((country, e.to_string()));
                }
            }
        }
        for k in store.revoked_keys()? {
            if let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&k.key) {
                reg.remember_revocation(
                    crate::record::KeyId::of(&vk),
                    registry::Revocation {
                        from_ms: k.from_ms,
                        compromised: k.compromised,
                    },
                );
            }
        }
        Ok(Self {
            refused_at_start: refused,
            registry: Arc::new(RwLock::new(reg)),
            identity,
            handshakes_refused: Arc::default(),
            conns: Arc::default(),
            refusal_log: Arc::default(),
            changes: Arc::default(),
            generation: AtomicU64::new(0),
            exchange_addr: OnceLock::new(),
            recovery: Mutex::default(),
            diverged_since: Mutex::default(),
            rejections: Mutex::default(),
            links: Mutex::default(),
            replicators: Mutex::default(),
            slots: Mutex::default(),
            buckets: Mutex::default(),
            audit_buckets: Mutex::default(),
            witness: Mutex::default(),
        })
    }

    /// Counts a refused record (or tree head, or cosignature) from `peer`, in the store's
    /// persistent counters, so the count survives restarts.
    pub fn count_rejection(&self, store: &Store, peer: CountryCode, reason: &'static str) {
        if let Ok(mut m) = self.rejections.lock() {
            *m.entry(reason).or_default() += 1;
        }
        if let Err(e) = store.count_refused(peer, reason) {
            warn!(peer = %peer, reason, cause = %e, "refusal not counted in the store");
        }
    }

    /// Refusals counted since this process started, by reason (the store keeps the totals:
    /// [`Store::refused_counts`]).
    pub fn rejections_since_start(&self) -> Vec<(String, u64)> {
        self.rejections
            .lock()
            .map(|m| m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
            .unwrap_or_default()
    }

    /// Updates a partner's link counters.
    pub fn link(&self, country: CountryCode, f: impl FnOnce(&mut LinkStats)) {
        if let Ok(mut m) = self.links.lock() {
            f(m.entry(country).or_default());
        }
    }

    /// A partner's link counters.
    pub fn link_stats(&self, country: CountryCode) -> LinkStats {
        self.links
            .lock()
            .ok()
            .and_then(|m| m.get(&country).cloned())
            .unwrap_or_default()
    }

    /// Registers a running replicator, stopping any previous one for the partner.
    pub fn set_replicator(&self, country: CountryCode, handle: tokio::task::JoinHandle<()>) {
        if let Ok(mut m) = self.replicators.lock() {
            if let Some(old) = m.insert(country, handle) {
                old.abort();
            }
        }
    }

    /// Stops a partner's replicator.
    pub fn stop_replicator(&self, country: CountryCode) {
        if let Ok(mut m) = self.replicators.lock() {
            if let Some(h) = m.remove(&country) {
                h.abort();
            }
        }
        if let Ok(mut m) = self.links.lock() {
            m.remove(&country);
        }
    }

    /// Takes every replicator handle (for shutdown).
    pub fn take_replicators(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.replicators
            .lock()
            .map(|mut m| m.drain().map(|(_, h)| h).collect())
            .unwrap_or_default()
    }

    /// The subscription slots of a partner node (identity and certificate fingerprint: a
    /// second certificate of the same country cannot take the genuine node's slots).
    pub fn slots(&self, cx: &str) -> Arc<Semaphore> {
        let mut m = match self.slots.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        m.entry(cx.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_SUBSCRIPTIONS_PER_PEER)))
            .clone()
    }

    /// Token-bucket rate limit on a partner node's Subscribe calls.
    pub fn admit(&self, cx: &str) -> bool {
        take_token(
            &self.buckets,
            cx,
            SUBSCRIBE_BURST,
            1.0 / SUBSCRIBE_REFILL_SECONDS,
        )
    }

    /// Token-bucket rate limit on a partner's transparency-log calls (tree heads, proofs,
    /// cosignatures).
    pub fn admit_audit(&self, cx: &str) -> bool {
        take_token(
            &self.audit_buckets,
            cx,
            AUDIT_CALL_BURST,
            AUDIT_CALLS_PER_SECOND,
        )
    }

    /// A number that changes whenever a registration changes.
    pub fn registry_generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records that a registration changed.
    pub fn registry_changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Re-checks every live partner connection against the registry as it is now and closes
    /// those no longer acceptable (partner removed, CA or CRL changed, certificate expired).
    /// Returns how many were closed.
    pub fn revalidate_connections(&self) -> usize {
        let reg = self.registry.clone();
        self.conns.revalidate(|c| {
            let (leaf, rest) = c
                .chain
                .split_first()
                .ok_or_else(|| "no certificate".to_owned())?;
            tls::check_client_chain(&reg, leaf, rest, rustls::pki_types::UnixTime::now())
                .map(|_| ())
                .map_err(|(reason, detail)| format!("{reason}: {detail}"))
        })
    }

    /// Sets this node's witnessing state of a partner ("ok", "ALARM: …").
    pub fn set_witness_state(&self, country: CountryCode, state: impl Into<String>) {
        if let Ok(mut m) = self.witness.lock() {
            m.insert(country, state.into());
        }
    }

    /// This node's witnessing state of a partner.
    pub fn witness_state(&self, country: CountryCode) -> Option<String> {
        self.witness
            .lock()
            .ok()
            .and_then(|m| m.get(&country).cloned())
    }

    /// Sets the state of recovery after a restore (shown by `kdesk status`).
    pub fn set_recovery_state(&self, state: String) {
        if let Ok(mut r) = self.recovery.lock() {
            *r = Some(state);
        }
    }

    /// The state of recovery after a restore, if the node was restored in this run.
    pub fn recovery_state(&self) -> Option<String> {
        self.recovery.lock().ok().and_then(|r| r.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_registrations_that_fail_todays_checks_are_left_out_and_reported() {
        let store = Store::temporary().unwrap();
        let th = CountryCode::parse("TH").unwrap();
        let ca = crate::pki::make_ca(th).unwrap();
        let other = crate::pki::make_ca(th).unwrap();
        let key = crate::keys::generate().unwrap();
        let entry = |ca_pem: String| PeerEntry {
            country: th,
            endpoint: "https://127.0.0.1:7443".into(),
            ca_pem,
            crl_pems: vec![],
            keys: vec![registry::PeerKey {
                public_key: hex::encode(key.verifying_key().as_bytes()),
                added_at_ms: 0,
                revoked_at_ms: None,
                compromised: false,
                pending: false,
            }],
            added_at_ms: 0,
        };
        // Stored by an older version: two CA certificates in one registration.
        let bundled = entry(ca.cert_pem.clone() + &other.cert_pem);
        store
            .put_peer(th, &serde_json::to_vec(&bundled).unwrap())
            .unwrap();
        let fed = Federation::load(&store, None).unwrap();
        assert!(
            fed.registry.read().unwrap().peer(th).is_none(),
            "fail closed"
        );
        assert_eq!(fed.refused_at_start.len(), 1);
        assert!(fed.refused_at_start[0].1.contains("2 certificates"));
        // A valid one loads.
        store
            .put_peer(th, &serde_json::to_vec(&entry(ca.cert_pem)).unwrap())
            .unwrap();
        let fed = Federation::load(&store, None).unwrap();
        assert!(fed.registry.read().unwrap().peer(th).is_some());
        assert!(fed.refused_at_start.is_empty());
    }
}
