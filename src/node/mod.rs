//! The `kdesk serve` process.
//!
//! [`serve`] opens the store (sled's lock makes the process the directory's only owner), loads
//! the signing key (refusing one readable by others), binds the Admin API on a 0600 Unix
//! socket and serves until `shutdown` resolves; then it stops accepting, lets in-flight
//! requests finish, flushes the store and removes the socket.

mod access;
mod admin;
pub mod backup;
use crate::store::disk;
pub mod faults;
pub mod intel;
pub mod metrics;
mod reload;
pub mod retro;
pub mod rotation;
pub mod screening;
mod systemd;
pub mod taxii;

pub use reload::{ReloadError, TlsReloaded};

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio_stream::wrappers::UnixListenerStream;
use tracing::{error, info, warn};

use crate::config::{Config, ConfigError};
use crate::federation::{self, tls, Federation};
use crate::keys::{self, KeyError};
use crate::pb;
use crate::record::{Origin, Record, RecordKind, SignedRecord};
use crate::store::{Mode, RequestKey, Store, StoreError, StoreOptions};

pub use admin::{check_request_id, AdminService, MAX_ALERTS_PER_BATCH};

/// Certificates and CRLs expiring within this many days are warned about in `kdesk status`.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// Metadata key on a status that refuses a request definitely (nothing was done), so a
/// client tells it from a lost answer.
pub const REFUSAL_METADATA: &str = "kdesk-refusal";

/// Largest Admin API message accepted (bytes).
pub const MAX_ADMIN_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
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
    /// The database stopped taking writes for lack of space and space is free again: sled
    /// only recovers by opening the database again, so the node stopped for its caller to
    /// start it again (`kdesk serve` does so in place, keeping its process id).
    #[error(
        "the database stopped taking writes ({cause}) and space is free again: opening it again"
    )]
    Reopen {
        /// Why the database stopped taking writes.
        cause: String,
        /// The Admin API's listening socket, kept open so that requests wait in its backlog
        /// instead of failing while the node starts again: pass it on in [`ADMIN_FD_ENV`].
        admin: Option<std::os::fd::OwnedFd>,
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
    #[error("server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Exchange TLS identity problem.
    #[error("exchange certificate: {0}")]
    Tls(String),
    /// The final flush at shutdown failed or missed its deadline.
    #[error("final flush: {0}")]
    FinalFlush(String),
    /// The metrics listener could not be bound.
    #[error("metrics.listen {addr}: {source} (another process may listen there: stop it, or set another [metrics] listen in kdesk.toml)")]
    MetricsBind {
        /// Address.
        addr: std::net::SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The exchange port could not be bound.
    #[error(
        "exchange.listen {addr}: {source} (another process may listen there: stop it, or set \
         another [exchange] listen in kdesk.toml)"
    )]
    Bind {
        /// Address.
        addr: std::net::SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Loads the node's exchange certificate and key, refusing a key readable by others and a
/// certificate whose identity is not this node.
fn load_identity(
    ex: &crate::config::ExchangeConfig,
    origin: &Origin,
) -> Result<tls::Identity, ServeError> {
    let pem = std::fs::read_to_string(&ex.cert).map_err(|e| {
        ServeError::Tls(format!(
            "{}: {e} (issue one with: kdesk certs node --ca CA_DIR --country {} --node-name {} --host HOST --out-dir {})",
            ex.cert.display(),
            origin.country,
            origin.node,
            ex.cert.parent().map(|p| p.display().to_string()).unwrap_or_default()
        ))
    })?;
    let chain = crate::pki::certs(&pem, &ex.cert.display().to_string())
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let key = crate::pki::load_private_key(&ex.key).map_err(|e| match e {
        crate::pki::PkiError::Key(k) => ServeError::Key(k),
        e => ServeError::Tls(e.to_string()),
    })?;
    let id = crate::pki::node_identity(&chain[0]).map_err(|e| ServeError::Tls(e.to_string()))?;
    if id != *origin {
        return Err(ServeError::Tls(format!(
            "{} identifies {id}, but this node is {origin}",
            ex.cert.display()
        )));
    }
    Ok(tls::Identity {
        chain,
        key: Arc::new(key),
    })
}

pub use crate::record::now_ms;

/// Shared state of a running node.
pub struct Node {
    /// Configuration.
    pub config: Config,
    /// Database.
    pub store: Store,
    /// Partners, links, counters.
    pub fed: Arc<Federation>,
    /// What the federation's tasks work with (store, log, registry, stop signal).
    pub cx: Arc<crate::federation::Context>,
    key: crate::keys::LiveKey,
    /// Held by the blocking job that looks up a request id, numbers, signs and stores: one
    /// issuing job at a time, and held for the whole job even if its request is cancelled.
    issue_lock: Arc<tokio::sync::Mutex<()>>,
    /// One signing-key rotation at a time.
    rotation_lock: tokio::sync::Mutex<()>,
    started: Instant,
    /// The verifiable log: tree heads, proofs and the durable prefix.
    pub log: Arc<crate::audit::log::Log>,
    stopping: watch::Sender<bool>,
    /// The screening engine last built: (log length, date, names on) it reflects.
    screen_cache: std::sync::Mutex<Option<ScreenCache>>,
    /// The intelligence screening engine last built (items are only ever added, and their
    /// subjects never change, so the next item id says whether it is current).
    intel_cache: std::sync::Mutex<Option<IntelCache>>,
    /// Test faults to play (normally none).
    faults: faults::Faults,
    /// Issuing requests made durable since start (for the kill-after-issue fault).
    issued_requests: std::sync::atomic::AtomicU64,
    /// Issuing requests running now (a stopping node waits for them).
    issuing: Arc<std::sync::atomic::AtomicUsize>,
    /// The exchange port's grpc.health.v1 reporter, once the exchange runs.
    health: std::sync::OnceLock<tonic_health::server::HealthReporter>,
    /// What the store is stuck on, when the stall watchdog saw a stall.
    stall: std::sync::Mutex<Option<crate::store::Running>>,
    /// Address the metrics listener is bound to, once bound.
    pub metrics_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Address the TAXII listener is bound to, once bound.
    pub taxii_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Durations of the store's flushes.
    flush_latency: prometheus_client::metrics::histogram::Histogram,
    /// Set once the Admin API (and the exchange, if any) serve.
    serving: std::sync::atomic::AtomicBool,
}

/// [`Expiry::kind`] of a node certificate.
pub const EXPIRY_NODE_CERTIFICATE: &str = "node-certificate";
/// [`Expiry::kind`] of a CA certificate.
pub const EXPIRY_CA_CERTIFICATE: &str = "ca-certificate";
/// [`Expiry::kind`] of a CRL (its nextUpdate).
pub const EXPIRY_CRL: &str = "crl";

/// When a certificate or CRL the node relies on stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// [`EXPIRY_NODE_CERTIFICATE`], [`EXPIRY_CA_CERTIFICATE`] or [`EXPIRY_CRL`].
    pub kind: &'static str,
    /// This node's country or a partner's.
    pub country: crate::model::CountryCode,
    /// This node's own certificate, CA or published CRL.
    pub own: bool,
    /// notAfter or nextUpdate, seconds since the epoch.
    pub expires_at: i64,
}

impl crate::federation::TrustEvents for Node {
    fn record(
        &self,
        kind: RecordKind,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            self.record_trust_change(kind)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// An issuing request's idempotency key, owned.
#[derive(Debug, Clone)]
pub struct RequestId {
    /// The client's request id.
    pub id: String,
    /// SHA-256 of the request's content.
    pub fingerprint: [u8; 32],
}

/// What an issuing request produced.
#[derive(Debug)]
pub struct Issued {
    /// Ids and sequence numbers of the records, in order.
    pub refs: Vec<(crate::record::RecordId, u64)>,
    /// The request id was already stored: these are the records it produced then, and
    /// nothing new was signed.
    pub replayed: bool,
}

type ScreenCache = (u64, crate::model::Date, bool, Arc<crate::screen::Engine>);
/// The intelligence engine last built: (next item id, date, names on) it reflects.
type IntelCache = (u64, crate::model::Date, bool, Arc<intel::IntelEngine>);

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
    /// Free disk space is below the node's reserve (or unknown): nothing was signed.
    #[error(transparent)]
    DiskReserve(#[from] disk::ReserveError),
    /// The node is stopping (SIGTERM/SIGINT): nothing was signed; retry later.
    #[error("the node is stopping; nothing was signed; retry later")]
    Stopping,
    /// Restored from a backup and still recovering from partners: nothing was signed.
    #[error("this node was restored from a backup and is still recovering from its partners; nothing was signed; retry later")]
    Recovering,
    /// The request id was stored earlier for a request with other content.
    #[error("request_id {0:?} was already used for a different request; nothing was signed")]
    RequestReused(String),
}

impl From<IssueError> for tonic::Status {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Store(StoreError::Rejected(r)) => Self::failed_precondition(r.to_string()),
            IssueError::DiskReserve(r) => Self::resource_exhausted(r.to_string()),
            // The disk failed the write (full between two checks, or no reserve): nothing was
            // acknowledged, and the node heals by itself once space is free.
            IssueError::Store(
                e @ (StoreError::Flush(crate::store::FlushError::Failed(_))
                | StoreError::Sled(sled::Error::Io(_))),
            ) => Self::resource_exhausted(format!(
                "{e}; nothing was acknowledged: the disk holding the database may be full; free \
                 space, then retry (kdesk status shows when the node writes again)"
            )),
            e @ (IssueError::Stopping | IssueError::Recovering) => {
                let why = if matches!(e, IssueError::Stopping) {
                    "stopping"
                } else {
                    "recovering"
                };
                let mut s = Self::unavailable(e.to_string());
                // A definite refusal (nothing was stored), not a lost answer: clients should
                // not retry at once.
                s.metadata_mut().insert(
                    REFUSAL_METADATA,
                    tonic::metadata::MetadataValue::from_static(why),
                );
                s
            }
            e @ IssueError::RequestReused(_) => Self::failed_precondition(e.to_string()),
            e => Self::internal(e.to_string()),
        }
    }
}

impl Node {
    /// Opens the node's store and key.
    ///
    /// # Errors
    /// Key refused, key/public mismatch, database locked or unreadable.
    pub fn open(config: Config) -> Result<Self, ServeError> {
        // Whoever can write these directories can replace the keys or the database.
        keys::check_private_dir(&config.data_dir)?;
        for dir in [
            config.signing_key.parent(),
            config.exchange.as_ref().and_then(|e| e.key.parent()),
        ]
        .into_iter()
        .flatten()
        {
            if dir.exists() {
                keys::check_private_dir(dir)?;
            }
        }
        // Readable and private; loaded once the store is open (an interrupted key rotation
        // is finished from the log first).
        keys::load_signing_key(&config.signing_key)?;
        // A backup cut short by a stop leaves its partial file (it holds keys): removed.
        if let Ok(dir) = std::fs::read_dir(&config.data_dir) {
            for e in dir.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("backup-") && name.ends_with(".partial") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let identity = match &config.exchange {
            None => None,
            Some(ex) => Some(Arc::new(
                tls::LiveIdentity::new(load_identity(ex, &config.origin)?).map_err(|e| {
                    ServeError::Tls(format!(
                        "{} and {}: {e}",
                        ex.cert.display(),
                        ex.key.display()
                    ))
                })?,
            )),
        };
        let faults = faults::Faults::from_env();
        let flush_latency = metrics::flush_histogram();
        let observed = flush_latency.clone();
        let opts = StoreOptions {
            cache_bytes: config.cache_bytes,
            flush_delay: faults.flush_delay,
            on_flush: Some(Arc::new(move |d: std::time::Duration| {
                observed.observe(d.as_secs_f64());
            })),
        };
        let store = Store::open_with(&config.database, &opts).map_err(|e| match e {
            StoreError::Sled(sled::Error::Io(ref io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                ServeError::AlreadyRunning(config.data_dir.clone())
            }
            e => ServeError::Store(e),
        })?;
        if faults.no_working_room {
            store.set_working_room(0);
        }
        let fed = Arc::new(Federation::load(&store, identity)?);
        let key = crate::keys::LiveKey::new(rotation::recover(&config, &store)?);
        let log = Arc::new(crate::audit::log::Log::open(
            store.clone(),
            key.clone(),
            config.origin.clone(),
            config.stall.min(std::time::Duration::from_secs(10)),
        )?);
        let (stopping, _) = watch::channel(false);
        let cx = Arc::new(crate::federation::Context::new(
            store.clone(),
            log.clone(),
            fed.clone(),
            config.exchange.clone(),
            config.origin.clone(),
            (config.database.clone(), config.min_free_bytes),
            stopping.subscribe(),
        ));
        if store.restore_pending()?.is_some() {
            cx.recovering
                .store(true, std::sync::atomic::Ordering::Release);
        }
        Ok(Self {
            config,
            store,
            fed,
            cx,
            key,
            issue_lock: Arc::default(),
            rotation_lock: tokio::sync::Mutex::default(),
            started: Instant::now(),
            log,
            stopping,
            screen_cache: std::sync::Mutex::new(None),
            intel_cache: std::sync::Mutex::new(None),
            faults,
            issued_requests: std::sync::atomic::AtomicU64::new(0),
            issuing: Arc::default(),
            health: std::sync::OnceLock::new(),
            stall: std::sync::Mutex::new(None),
            metrics_addr: std::sync::OnceLock::new(),
            taxii_addr: std::sync::OnceLock::new(),
            flush_latency,
            serving: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the node serves (the Admin API and, if configured, the exchange are up and it
    /// is not stopping).
    pub fn is_serving(&self) -> bool {
        self.serving.load(std::sync::atomic::Ordering::SeqCst) && !self.is_stopping()
    }

    /// Expiry of this node's certificate (the one in force), its national CA and the CRL it
    /// publishes, and of each partner's CA certificate and CRLs (the latest nextUpdate).
    pub fn expiries(&self) -> Vec<Expiry> {
        let own = self.origin().country;
        let mut out = Vec::new();
        if let Some(live) = &self.fed.identity {
            if let Some(info) = live
                .current()
                .chain
                .first()
                .and_then(|c| crate::pki::cert_info(c).ok())
            {
                out.push(Expiry {
                    kind: EXPIRY_NODE_CERTIFICATE,
                    country: own,
                    own: true,
                    expires_at: info.not_after,
                });
            }
        }
        if let Some(ex) = &self.config.exchange {
            let ca = std::fs::read_to_string(&ex.ca).ok();
            if let Some(at) = ca
                .as_deref()
                .and_then(|p| crate::pki::cert_not_after(p, "CA certificate").ok())
            {
                out.push(Expiry {
                    kind: EXPIRY_CA_CERTIFICATE,
                    country: own,
                    own: true,
                    expires_at: at,
                });
            }
            if let (Some(ca), Ok(crl)) = (&ca, std::fs::read_to_string(&ex.crl)) {
                if let Some(at) = crate::pki::check_crl(&crl, ca)
                    .ok()
                    .and_then(|i| i.next_update)
                {
                    out.push(Expiry {
                        kind: EXPIRY_CRL,
                        country: own,
                        own: true,
                        expires_at: at,
                    });
                }
            }
        }
        if let Ok(reg) = self.fed.registry.read() {
            for p in reg.peers() {
                let c = p.entry.country;
                if let Ok(at) = crate::pki::cert_not_after(&p.entry.ca_pem, "ca") {
                    out.push(Expiry {
                        kind: EXPIRY_CA_CERTIFICATE,
                        country: c,
                        own: false,
                        expires_at: at,
                    });
                }
                if let Some(at) = p
                    .entry
                    .crl_pems
                    .iter()
                    .filter_map(|pem| crate::pki::check_crl(pem, &p.entry.ca_pem).ok())
                    .filter_map(|i| i.next_update)
                    .max()
                {
                    out.push(Expiry {
                        kind: EXPIRY_CRL,
                        country: c,
                        own: false,
                        expires_at: at,
                    });
                }
            }
        }
        out
    }

    /// Certificates and CRLs that have expired or expire within [`EXPIRY_WARNING_DAYS`]:
    /// this node's exchange certificate, each partner's CA certificate and CRLs.
    pub fn trust_warnings(&self) -> Vec<String> {
        let now = now_ms() / 1000;
        let mut out = Vec::new();
        let registered: Vec<_> = self
            .fed
            .registry
            .read()
            .map(|r| r.peers().iter().map(|p| p.entry.country).collect())
            .unwrap_or_default();
        for (c, why) in &self.fed.refused_at_start {
            if !registered.contains(c) {
                out.push(format!(
                    "{c}'s stored registration fails today's checks and is NOT in force ({why}); \
                     register it again with kdesk peer remove/add"
                ));
            }
        }
        let mut check = |what: String, at: Option<i64>, fix: &str| {
            let Some(at) = at else { return };
            let days = (at - now).div_euclid(86_400);
            if at <= now {
                out.push(format!("{what} EXPIRED {} day(s) ago; {fix}", -days));
            } else if days < EXPIRY_WARNING_DAYS {
                out.push(format!("{what} expires in {days} day(s); {fix}"));
            }
        };
        if let Some(ex) = &self.config.exchange {
            // The certificate in force (a renewed file not yet reloaded does not count).
            let at = self.fed.identity.as_ref().and_then(|l| {
                l.current()
                    .chain
                    .first()
                    .and_then(|c| crate::pki::cert_info(c).ok())
                    .map(|i| i.not_after)
            });
            check(
                format!("this node's exchange certificate {}", ex.cert.display()),
                at,
                "issue a new one with kdesk certs node, then run kdesk tls reload",
            );
            if let (Ok(ca), Ok(crl)) = (
                std::fs::read_to_string(&ex.ca),
                std::fs::read_to_string(&ex.crl),
            ) {
                check(
                    format!("the CRL this node publishes ({})", ex.crl.display()),
                    crate::pki::check_crl(&crl, &ca)
                        .ok()
                        .and_then(|i| i.next_update),
                    "issue a new one with kdesk certs crl into that file",
                );
            }
        }
        if let Ok(reg) = self.fed.registry.read() {
            for p in reg.peers() {
                let c = p.entry.country;
                check(
                    format!("{c}'s CA certificate"),
                    crate::pki::cert_not_after(&p.entry.ca_pem, "ca").ok(),
                    &format!("get the new one from {c} and run kdesk peer update --country {c} --ca FILE"),
                );
                let next = p
                    .entry
                    .crl_pems
                    .iter()
                    .filter_map(|pem| crate::pki::check_crl(pem, &p.entry.ca_pem).ok())
                    .filter_map(|i| i.next_update)
                    .max();
                check(
                    format!("{c}'s CRL"),
                    next,
                    &format!("{c} publishes new CRLs on the exchange (fetched each witness round), or run kdesk peer update --country {c} --crl FILE"),
                );
            }
        }
        out
    }

    /// Whether the node is stopping (SIGTERM/SIGINT received).
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// The stall the watchdog last saw and has not seen clear, if any. Never waits on the
    /// store.
    pub fn stalled(&self) -> Option<crate::store::Running> {
        self.stall.lock().ok().and_then(|s| s.clone())
    }

    /// Streams a signed audit bundle of the durable log to `out` (blocking; memory does not
    /// grow with the log). Returns what was written and the tree size covered.
    ///
    /// # Errors
    /// Storage or write failure.
    pub fn export_audit_to(
        &self,
        origin: Option<crate::model::CountryCode>,
        since: Option<crate::model::Date>,
        out: impl std::io::Write,
    ) -> Result<(crate::audit::bundle::Exported, u64), crate::audit::bundle::ExportError> {
        let own = self.public_key();
        let mut keys = vec![pb::BundleKey {
            country: self.origin().country.to_string(),
            public_key: own.as_bytes().to_vec(),
            source: "exporting node's own key".into(),
            revoked_at_ms: 0,
            compromised: false,
        }];
        for old in rotation::retired_public_keys(&self.config.signing_key) {
            if old != own {
                keys.push(pb::BundleKey {
                    country: self.origin().country.to_string(),
                    public_key: old.as_bytes().to_vec(),
                    source: "exporting node's own key before a rotation".into(),
                    revoked_at_ms: 0,
                    compromised: false,
                });
            }
        }
        if let Ok(reg) = self.fed.registry.read() {
            for p in reg.peers() {
                // A pending key has signed nothing this node stored.
                for k in p.entry.keys.iter().filter(|k| !k.pending) {
                    if let Ok(vk) = crate::keys::parse_public_key(&k.public_key) {
                        keys.push(pb::BundleKey {
                            country: p.entry.country.to_string(),
                            public_key: vk.as_bytes().to_vec(),
                            source: format!(
                                "registered partner key, added at {} ms",
                                k.added_at_ms
                            ),
                            revoked_at_ms: k.revoked_at_ms.unwrap_or(0),
                            compromised: k.compromised,
                        });
                    }
                }
            }
        }
        let size = self.log.durable_len();
        let exported = crate::audit::bundle::export_to(
            &self.store,
            &self.log,
            crate::audit::bundle::ExportRequest {
                exporter: self.origin(),
                key: &self.key.current(),
                keys,
                size,
                origin,
                since,
                now_ms: now_ms(),
            },
            out,
        )?;
        Ok((exported, size))
    }

    /// Watches the stop flag.
    pub fn stopping_watch(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Asks every long-running task (subscriptions, replicators, servers) to stop.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// This node's origin.
    pub fn origin(&self) -> &Origin {
        &self.config.origin
    }

    /// This node's public key.
    pub fn public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.current().verifying_key()
    }

    /// Seconds since the node started.
    pub fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Refuses new writes (own records, records from partners) when free space on the
    /// database's disk is at or below the configured reserve.
    ///
    /// # Errors
    /// [`disk::ReserveError`].
    pub fn check_disk_reserve(&self) -> Result<(), disk::ReserveError> {
        self.store
            .check_writable(&self.config.database, self.config.min_free_bytes)
    }

    /// Assigns the next sequence number, signs, stores and flushes a record of this node.
    /// Returns only once the record is durable.
    ///
    /// # Errors
    /// Free disk space below the reserve, a lifecycle rule (nothing stored, sequence number
    /// not consumed), the node stopping, or a storage failure.
    pub async fn issue(&self, kind: RecordKind) -> Result<SignedRecord, IssueError> {
        // One record is a batch of one: same sequence assignment, checks and durability point.
        only(self.issue_all(vec![kind]).await?)
    }

    /// Records a change of trust configuration (an admin event): signed now, or, while a
    /// restored node recovers (it may sign nothing yet), kept and signed right after its
    /// restore declaration, so no change goes unrecorded.
    ///
    /// # Errors
    /// As [`Node::issue_trust_change`]; storage when keeping it.
    pub async fn record_trust_change(&self, kind: RecordKind) -> Result<(), IssueError> {
        if self.cx.is_recovering() {
            let body = crate::record::Record {
                origin: self.origin().clone(),
                seq: 1,
                created_at_ms: now_ms(),
                kind,
            }
            .to_pb();
            let body = prost::Message::encode_to_vec(&body);
            self.store.defer_record(&body)?;
            self.store.flush().await?;
            return Ok(());
        }
        self.issue_trust_change(kind).await.map(|_| ())
    }

    /// After a restore is declared: the trust changes kept meanwhile are signed, and the
    /// partners' key announcements stored meanwhile are applied.
    pub async fn after_recovery(&self) {
        match self.store.deferred_records() {
            Ok(items) => {
                for (key, body) in items {
                    let kind = <pb::RecordBody as prost::Message>::decode(body.as_slice())
                        .map_err(|e| e.to_string())
                        .and_then(|b| {
                            crate::record::Record::from_pb(&b).map_err(|e| e.to_string())
                        });
                    match kind {
                        Ok(r) => {
                            if let Err(e) = self.issue_trust_change(r.kind).await {
                                warn!(error = %e, "a trust change kept during recovery could not be recorded");
                                continue;
                            }
                        }
                        Err(e) => {
                            warn!(error = %e, "a trust change kept during recovery does not decode")
                        }
                    }
                    let _ = self.store.remove_deferred(&key);
                }
            }
            Err(e) => warn!(error = %e, "trust changes kept during recovery unreadable"),
        }
        crate::federation::witness::reapply_announcements(&self.cx).await;
    }

    /// [`Node::issue`] for a change of this node's trust configuration (a partner removed, a
    /// key revoked): recorded even when free space is below the reserve, which exists so that
    /// such small, urgent records still fit.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn issue_trust_change(&self, kind: RecordKind) -> Result<SignedRecord, IssueError> {
        only(self.sign_store_flush(vec![kind], None).await?.0)
    }

    /// Signs and stores several records with consecutive sequence numbers in one transaction,
    /// all or none, then flushes once: for many records at a time (the hits of a screening
    /// run), where one flush per record would dominate.
    ///
    /// # Errors
    /// Free disk space below the reserve ([`IssueError::DiskReserve`]), a lifecycle rule, a
    /// sequence number already taken ([`IssueError::SeqConflict`]), the node stopping or a
    /// storage failure; on any error nothing of the batch is stored and no sequence number is
    /// consumed.
    pub async fn issue_all(&self, kinds: Vec<RecordKind>) -> Result<Vec<SignedRecord>, IssueError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        self.refuse_new_work()?;
        Ok(self.sign_store_flush(kinds, None).await?.0)
    }

    /// [`Node::issue_all`] for a client's request with an idempotency key: a retry of a
    /// request the node already stored returns the records it produced then (and waits until
    /// they are durable) instead of signing new ones.
    ///
    /// # Errors
    /// As [`Node::issue_all`], and [`IssueError::RequestReused`] when the id was stored for a
    /// request with other content.
    pub async fn issue_request(
        &self,
        kinds: Vec<RecordKind>,
        request: Option<RequestId>,
    ) -> Result<Issued, IssueError> {
        if kinds.is_empty() {
            return Ok(Issued {
                refs: Vec::new(),
                replayed: false,
            });
        }
        // Refusals ("stopping", disk reserve) come after the request id lookup, so a retry of
        // a request already stored gets its records, not "nothing was signed".
        let (signed, replayed) = self.sign_store_flush_checked(kinds, request).await?;
        let issued = Issued {
            refs: match replayed {
                Some(refs) => refs,
                None => signed.iter().map(|s| (s.id, s.record.seq)).collect(),
            },
            replayed: signed.is_empty(),
        };
        self.after_issue_request();
        Ok(issued)
    }

    /// New records are refused while stopping or with the disk in its reserve.
    fn refuse_new_work(&self) -> Result<(), IssueError> {
        if self.is_stopping() {
            return Err(IssueError::Stopping);
        }
        self.check_disk_reserve()?;
        Ok(())
    }

    /// The kill-after-issue test fault: the request is durable, its answer not yet sent.
    fn after_issue_request(&self) {
        let n = self
            .issued_requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if self.faults.kill_after_issue == Some(n) {
            error!(
                request = n,
                "test fault: killing the node between store and answer"
            );
            // SAFETY: signalling our own process; SIGKILL cannot be caught.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
    }

    /// Numbers, signs and stores `kinds` (non-empty) all or none, then flushes. With a
    /// request id already stored, signs nothing and returns the earlier records' refs.
    async fn sign_store_flush(
        &self,
        kinds: Vec<RecordKind>,
        request: Option<RequestId>,
    ) -> Result<
        (
            Vec<SignedRecord>,
            Option<Vec<(crate::record::RecordId, u64)>>,
        ),
        IssueError,
    > {
        self.sign_store_flush_with(kinds, request, None).await
    }

    /// [`Node::sign_store_flush`] that refuses new work (stopping, disk reserve) after the
    /// request id lookup.
    async fn sign_store_flush_checked(
        &self,
        kinds: Vec<RecordKind>,
        request: Option<RequestId>,
    ) -> Result<
        (
            Vec<SignedRecord>,
            Option<Vec<(crate::record::RecordId, u64)>>,
        ),
        IssueError,
    > {
        let check = NewWork {
            stopping: self.stopping.subscribe(),
            database: self.config.database.clone(),
            min_free: self.config.min_free_bytes,
            store: self.store.clone(),
        };
        self.sign_store_flush_with(kinds, request, Some(check))
            .await
    }

    async fn sign_store_flush_with(
        &self,
        kinds: Vec<RecordKind>,
        request: Option<RequestId>,
        check: Option<NewWork>,
    ) -> Result<
        (
            Vec<SignedRecord>,
            Option<Vec<(crate::record::RecordId, u64)>>,
        ),
        IssueError,
    > {
        // A node restored from a backup signs nothing before it has recovered from its
        // partners and declared the restore (the declaration itself is the one exception).
        let declaration = matches!(kinds.as_slice(), [RecordKind::RestoreDeclaration(_)]);
        if self.cx.is_recovering() && !declaration {
            return Err(IssueError::Recovering);
        }
        // Counted while the request runs (its flush wait included: a stopping node keeps its
        // Admin API up until then), and by the job itself while the job runs.
        let _request = InFlight::new(&self.issuing);
        let store = self.store.clone();
        let origin = self.origin().clone();
        let key = self.key.current();
        // Waited for here (no blocking thread held while queueing), then owned by the job.
        let lock = self.issue_lock.clone().lock_owned().await;
        let issuing = self.issuing.clone();
        // The whole job (lookup, numbering, signing, storing) runs on the blocking pool and
        // holds the issue lock and the in-flight count itself: a cancelled request cannot
        // release them while its job still runs, so no second job sees a half-done one. A
        // slow disk never stalls the async workers (Admin API, exchange, signals).
        let job = move || -> Result<Result<Vec<SignedRecord>, Vec<_>>, IssueError> {
            let _in_flight = InFlight::new(&issuing);
            let _one_at_a_time = lock;
            if let Some(r) = &request {
                if let Some(done) = store.request(&r.id)? {
                    if done.fingerprint != r.fingerprint {
                        return Err(IssueError::RequestReused(r.id.clone()));
                    }
                    let mut refs = Vec::new();
                    for seq in done.first_seq..done.first_seq + done.count {
                        let id = store.id_at(&origin, seq)?.ok_or_else(|| {
                            StoreError::Corrupt(format!("request {:?}: seq {seq} missing", r.id))
                        })?;
                        refs.push((id, seq));
                    }
                    return Ok(Err(refs));
                }
            }
            if let Some(c) = &check {
                c.refuse()?;
            }
            // After a restore, numbers below the floor may have been used before: never
            // again.
            let first = (store.last_seq(&origin)? + 1).max(store.seq_floor()?);
            let now = now_ms();
            let signed: Vec<SignedRecord> = kinds
                .into_iter()
                .zip(first..)
                .map(|(kind, seq)| {
                    Record {
                        origin: origin.clone(),
                        seq,
                        created_at_ms: now,
                        kind,
                    }
                    .sign(&key)
                })
                .collect();
            let stored = match &request {
                Some(r) => store.ingest_request(
                    &signed,
                    now,
                    &RequestKey {
                        id: &r.id,
                        fingerprint: r.fingerprint,
                    },
                ),
                None => store.ingest_all(&signed, now, Mode::Own),
            };
            match stored {
                Ok(()) => Ok(Ok(signed)),
                Err(StoreError::SeqTaken(seq)) => Err(IssueError::SeqConflict(seq)),
                Err(e) => Err(e.into()),
            }
        };
        let signed = tokio::task::spawn_blocking(job).await.map_err(|e| {
            IssueError::Store(StoreError::Corrupt(format!("issuing task failed: {e}")))
        })??;
        // Durability point (a replayed request too: its records may not be flushed yet). A
        // later flush by another request also covers these records.
        self.log.flush_and_publish().await?;
        match signed {
            Ok(signed) => {
                for s in &signed {
                    info!(id = %s.id, seq = s.record.seq, kind = s.record.kind.name(), "issued");
                }
                Ok((signed, None))
            }
            Err(refs) => {
                info!(
                    records = refs.len(),
                    "request replayed: its records were already stored"
                );
                Ok((Vec::new(), Some(refs)))
            }
        }
    }
}

/// The checks that refuse new records, made inside the issuing job.
struct NewWork {
    stopping: watch::Receiver<bool>,
    database: PathBuf,
    min_free: u64,
    store: Store,
}

impl NewWork {
    fn refuse(&self) -> Result<(), IssueError> {
        if *self.stopping.borrow() {
            return Err(IssueError::Stopping);
        }
        self.store.check_writable(&self.database, self.min_free)?;
        Ok(())
    }
}

/// Counts a request as running until dropped.
struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl InFlight {
    fn new(n: &Arc<std::sync::atomic::AtomicUsize>) -> Self {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(n.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The one record of a batch of one.
fn only(mut signed: Vec<SignedRecord>) -> Result<SignedRecord, IssueError> {
    signed
        .pop()
        .ok_or_else(|| IssueError::Store(StoreError::Corrupt("nothing issued".into())))
}

/// Runs the node until `shutdown` resolves.
///
/// # Errors
/// Start-up failures ([`ServeError`]) or a server failure.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    run(Arc::new(Node::open(config)?), shutdown).await
}

/// Runs an opened node until `shutdown` resolves: Admin API, exchange service, replicators.
///
/// # Errors
/// Socket or bind failures, or a server failure.
pub async fn run(
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Trust changes the federation makes by itself are recorded by this node's issuing.
    let weak = Arc::downgrade(&node);
    let events: std::sync::Weak<dyn crate::federation::TrustEvents> = weak;
    node.cx.set_trust_events(events);
    let socket = node.config.admin_socket.clone();
    let inherited = inherited_admin_listener(&socket);
    if inherited.is_none() {
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
    }
    let access = access::AdminAccess::new(node.config.admin_group.as_deref()).map_err(|e| {
        ServeError::Config(crate::config::ConfigError::Invalid {
            path: node.config.data_dir.join(crate::config::CONFIG_FILE),
            message: e,
        })
    })?;
    let listener = match inherited {
        Some(l) => l,
        None => bind_private(&socket, access.group_id())?,
    };
    // A second handle on the listening socket: if the database has to be opened again, the
    // process starts again in place with this socket, and callers wait instead of failing.
    let admin_keep = {
        use std::os::fd::AsFd;
        listener.as_fd().try_clone_to_owned().ok()
    };
    let exchange = match (&node.config.exchange, &node.fed.identity) {
        (Some(ex), Some(identity)) => {
            match start_exchange(node.clone(), ex.listen, identity).await {
                Ok(h) => Some(h),
                Err(e) => {
                    // Nothing is served: leave no socket behind that looks like a node.
                    let _ = std::fs::remove_file(&socket);
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    let metrics_server = match node.config.metrics {
        None => None,
        Some(m) => match TcpListener::bind(m.listen).await {
            Ok(l) => {
                if let Ok(a) = l.local_addr() {
                    let _ = node.metrics_addr.set(a);
                    info!(address = %a, "metrics listening (plain HTTP: /metrics, /healthz, /readyz)");
                }
                Some(tokio::spawn(metrics::serve(Arc::downgrade(&node), l)))
            }
            Err(source) => {
                let _ = std::fs::remove_file(&socket);
                node.stop();
                return Err(ServeError::MetricsBind {
                    addr: m.listen,
                    source,
                });
            }
        },
    };
    let taxii_server = match (node.config.taxii, &node.fed.identity) {
        (Some(listen), Some(identity)) => {
            let cfg = tls::taxii_server_config(
                node.fed.registry.clone(),
                identity.clone(),
                node.fed.handshakes_refused.clone(),
            )
            .map_err(|e| ServeError::Tls(e.to_string()))?;
            match TcpListener::bind(listen).await {
                Ok(l) => {
                    if let Ok(a) = l.local_addr() {
                        let _ = node.taxii_addr.set(a);
                        info!(address = %a, "TAXII 2.1 listening (HTTPS, partner client certificates)");
                    }
                    Some(tokio::spawn(taxii::serve(
                        Arc::downgrade(&node),
                        l,
                        tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
                        node.stopping_watch(),
                    )))
                }
                Err(source) => {
                    let _ = std::fs::remove_file(&socket);
                    node.stop();
                    return Err(ServeError::Bind {
                        addr: listen,
                        source,
                    });
                }
            }
        }
        (Some(_), None) => {
            warn!("[taxii] listen is set but the node has no exchange identity: TAXII is off");
            None
        }
        _ => None,
    };
    let peers: Vec<_> = node
        .fed
        .registry
        .read()
        .map(|r| r.peers().iter().map(|p| p.entry.country).collect())
        .unwrap_or_default();
    if node.fed.identity.is_some() {
        for c in peers {
            federation::replicator::spawn(node.cx.clone(), c);
        }
    }
    info!(
        origin = %node.origin(),
        key_id = %crate::record::KeyId::of(&node.public_key()),
        records = node.store.len(),
        socket = %socket.display(),
        exchange = %node.fed.exchange_addr.get().map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        metrics = %node.metrics_addr.get().map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        taxii = %node.taxii_addr.get().map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        "kdesk node serving"
    );
    if let Err(e) = node.check_disk_reserve() {
        warn!(cause = %e, "disk in its reserve: new records are refused until space is freed");
    }
    spawn_stall_watchdog(&node);
    let mut reopen = spawn_storage_healer(&node);
    spawn_reload_on_sighup(&node);
    // Alerts arriving later meet the lines screened before them.
    tokio::spawn(retro::run(node.clone()));
    if node.cx.is_recovering() {
        warn!("this node was restored from a backup: it signs nothing until its partners have handed back what it signed since");
        tokio::spawn(backup::recover(node.clone()));
    } else {
        // An announcement stored just before a stop is applied now (applying is idempotent).
        let cx = node.cx.clone();
        tokio::spawn(async move { federation::witness::reapply_announcements(&cx).await });
    }
    // Every request is checked against the caller's uid (SO_PEERCRED).
    let guard = access.clone();
    let admin = tonic::service::interceptor::InterceptedService::new(
        pb::admin_server::AdminServer::new(AdminService::new(node.clone()))
            .max_decoding_message_size(MAX_ADMIN_MESSAGE_BYTES),
        move |req: tonic::Request<()>| {
            let cred = req
                .extensions()
                .get::<tonic::transport::server::UdsConnectInfo>()
                .and_then(|i| i.peer_cred);
            match cred {
                Some(c) if guard.allows(c.uid(), c.gid()) => Ok(req),
                Some(c) => {
                    warn!(
                        uid = c.uid(),
                        "admin request refused: not the owner or the officers' group"
                    );
                    Err(tonic::Status::permission_denied(guard.refusal(c.uid())))
                }
                None => Err(tonic::Status::permission_denied(
                    "permission denied: the caller's credentials are unknown",
                )),
            }
        },
    );
    // The Admin API keeps answering while the node drains (status, reads; new records are
    // refused with "retry later"); it closes once the work in flight is done.
    let (admin_stop, mut admin_stopped) = watch::channel(false);
    let mut admin_server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(admin)
            .serve_with_incoming_shutdown(UnixListenerStream::new(listener), async move {
                let _ = admin_stopped.wait_for(|s| *s).await;
            }),
    );
    node.serving
        .store(true, std::sync::atomic::Ordering::SeqCst);
    systemd::ready(&format!("serving {}", node.origin()));
    systemd::spawn_watchdog(Arc::downgrade(&node));
    let mut admin_result = None;
    let mut reopen_cause = None;
    tokio::select! {
        () = shutdown => {}
        r = &mut admin_server => admin_result = Some(r),
        Ok(()) = reopen.changed() => reopen_cause = reopen.borrow().clone(),
    }
    // Bounded shutdown: requests in flight may finish until shortly before the deadline; the
    // rest of it is the final flush's.
    let drain = node.config.drain;
    let deadline = tokio::time::Instant::now() + drain;
    let flush_reserve = (drain / 2).min(std::time::Duration::from_secs(2));
    info!(
        drain_seconds = drain.as_secs(),
        "shutdown requested: refusing new requests, draining those in flight"
    );
    node.stop();
    if reopen_cause.is_some() {
        systemd::reopening();
    } else {
        systemd::stopping();
    }
    if let Some(h) = node.health.get() {
        h.set_not_serving::<pb::exchange_server::ExchangeServer<federation::exchange::ExchangeService>>()
            .await;
    }
    let drained = tokio::time::timeout_at(deadline - flush_reserve, async {
        if let Some(h) = exchange {
            match h.await {
                Ok(Err(e)) => error!(cause = %e, "exchange server failed"),
                Err(e) => error!(cause = %e, "exchange server task failed"),
                Ok(Ok(())) => {}
            }
        }
        // Links and witness rounds stop at the stop flag; one stuck in a slow partner's
        // answer is given a second, then dropped (it acknowledges nothing to anyone).
        for h in node.fed.take_replicators() {
            let abort = h.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(1), h)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        while node.issuing.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        admin_stop.send_replace(true);
        match admin_result {
            Some(r) => r,
            None => admin_server.await,
        }
    })
    .await;
    let result = match drained {
        Ok(Ok(r)) => r.map_err(ServeError::from),
        Ok(Err(e)) => Err(ServeError::Tls(format!("admin server task failed: {e}"))),
        Err(_) => {
            warn!(
                after_seconds = (drain - flush_reserve).as_secs_f64(),
                "requests still running at the drain deadline; stopping without them (they were not acknowledged)"
            );
            Ok(())
        }
    };
    if let Some(cause) = reopen_cause {
        // No final flush: the database refuses every write until it is opened again, and
        // nothing unflushed was acknowledged to anyone. The socket file stays: its listener
        // goes on to the process that starts in place.
        if let Some(m) = metrics_server {
            m.abort();
        }
        return Err(ServeError::Reopen {
            cause,
            admin: admin_keep,
        });
    }
    let left = deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .max(std::time::Duration::from_millis(100));
    info!("flushing store");
    let store = node.store.clone();
    let flushed = tokio::time::timeout(
        left + std::time::Duration::from_millis(200),
        tokio::task::spawn_blocking(move || store.flush_within(left)),
    )
    .await;
    let _ = std::fs::remove_file(&socket);
    if let Some(m) = metrics_server {
        m.abort();
    }
    if let Some(t) = taxii_server {
        t.abort();
    }
    if let Err(e) = &result {
        error!(cause = %e, "admin server failed");
    }
    result?;
    match flushed {
        Ok(Ok(Ok(()))) => {
            info!("stopped cleanly");
            Ok(())
        }
        Ok(Ok(Err(e))) => {
            error!(cause = %e, "final flush failed; records acknowledged earlier were flushed before their answers");
            Err(ServeError::FinalFlush(e.to_string()))
        }
        _ => {
            error!(
                drain_seconds = drain.as_secs(),
                "final flush did not finish within the drain deadline; records acknowledged earlier were flushed before their answers"
            );
            Err(ServeError::FinalFlush(format!(
                "did not finish within shutdown.drain_seconds ({} s)",
                drain.as_secs()
            )))
        }
    }
}

/// Watches the store from a thread of its own (so it still runs when every async worker is
/// stuck in the store): a flush or transaction running longer than `[storage] stall_seconds`
/// is logged with what it is and since when, shown in `kdesk status`, and the exchange's
/// grpc.health.v1 status is set to NOT_SERVING until the store moves again.
/// Watches for a database that stopped taking writes (see [`crate::store::WriteFailure`]) on
/// a thread of its own, so it runs even when the runtime's workers are stuck. While the
/// failure lasts, writes are refused with "retry later" (the issuing checks) and reads are
/// served. Once the failure was a lack of space and more than [`disk::heal_free`] bytes are
/// free, it asks the node to stop so that the database is opened again: the returned channel
/// then carries the cause.
fn spawn_storage_healer(node: &Arc<Node>) -> watch::Receiver<Option<String>> {
    let (tx, rx) = watch::channel(None);
    let weak = Arc::downgrade(node);
    let spawned = std::thread::Builder::new()
        .name("kdesk-healer".into())
        .spawn(move || {
            let mut seen: Option<crate::store::WriteFailure> = None;
            loop {
                std::thread::sleep(HEAL_TICK);
                let Some(node) = weak.upgrade() else { return };
                if node.is_stopping() {
                    return;
                }
                let Some(failure) = node.store.write_failure() else {
                    seen = None;
                    continue;
                };
                let need = disk::heal_free(node.config.min_free_bytes);
                let free = disk::space(&node.config.database).map(|s| s.free);
                if seen.as_ref() != Some(&failure) {
                    error!(
                        cause = %failure.cause,
                        no_space = failure.no_space,
                        free_bytes = free.as_ref().ok().copied(),
                        reopen_above_bytes = need,
                        "the database takes no writes: new records are refused (retry later), reads are served"
                    );
                    seen = Some(failure.clone());
                }
                // Any other failure (an I/O error of the disk) needs the admin.
                match free {
                    Ok(f) if f > need && failure.no_space => {
                        warn!(
                            free_bytes = f,
                            "space is free again: stopping to open the database again"
                        );
                        let _ = tx.send(Some(failure.cause));
                        return;
                    }
                    _ => {}
                }
            }
        });
    if let Err(e) = spawned {
        error!(cause = %e, "cannot start the storage healer thread: a full disk needs a restart to heal");
    }
    rx
}

/// How often the storage healer looks.
const HEAL_TICK: std::time::Duration = std::time::Duration::from_millis(250);

fn spawn_stall_watchdog(node: &Arc<Node>) {
    let weak = Arc::downgrade(node);
    let handle = tokio::runtime::Handle::current();
    let stall = node.config.stall;
    let tick = (stall / 4).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(1),
    );
    let spawned = std::thread::Builder::new()
        .name("kdesk-watchdog".into())
        .spawn(move || {
            let mut last_log: Option<Instant> = None;
            loop {
                std::thread::sleep(tick);
                let Some(node) = weak.upgrade() else { return };
                let stuck = node.store.activity().oldest().filter(|r| r.for_ >= stall);
                let was = node.stalled().is_some();
                if let Ok(mut s) = node.stall.lock() {
                    s.clone_from(&stuck);
                }
                type Ex =
                    pb::exchange_server::ExchangeServer<federation::exchange::ExchangeService>;
                match (&stuck, was) {
                    (Some(r), _) => {
                        if last_log.is_none_or(|t| t.elapsed() >= stall) {
                            error!(
                                waiting = %r.what,
                                since_seconds = r.for_.as_secs(),
                                limit_seconds = stall.as_secs(),
                                "store stalled: health set to NOT_SERVING until it moves again"
                            );
                            last_log = Some(Instant::now());
                        }
                        if !was {
                            if let Some(h) = node.health.get() {
                                handle.block_on(h.set_not_serving::<Ex>());
                            }
                        }
                    }
                    (None, true) => {
                        info!("store moving again: stall cleared");
                        last_log = None;
                        if !node.is_stopping() {
                            if let Some(h) = node.health.get() {
                                handle.block_on(h.set_serving::<Ex>());
                            }
                        }
                    }
                    (None, false) => {}
                }
            }
        });
    if let Err(e) = spawned {
        error!(cause = %e, "cannot start the stall watchdog");
    }
}

/// Reloads the exchange certificate and the published CRL on SIGHUP (as `kdesk tls reload`
/// does). A refused reload is logged and the certificate in force stays.
/// Installed on every node, federating or not: SIGHUP's default action would end the process
/// (`systemctl reload`).
fn spawn_reload_on_sighup(node: &Arc<Node>) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            warn!(cause = %e, "cannot watch for SIGHUP: reload certificates with kdesk tls reload");
            return;
        }
    };
    let weak = Arc::downgrade(node);
    let mut stopping = node.stopping_watch();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = hup.recv() => if r.is_none() { return },
                _ = stopping.changed() => return,
            }
            let Some(node) = weak.upgrade() else { return };
            info!("SIGHUP received: reloading the exchange certificate and CRL");
            match node.reload_tls().await {
                Ok(_) => {}
                Err(e @ ReloadError::NotFederating) => warn!(cause = %e, "SIGHUP ignored"),
                Err(e) => error!(cause = %e, "certificate reload refused"),
            }
        }
    });
}

/// Binds the exchange port and serves Exchange, grpc.health.v1 and reflection on it, over
/// TLS 1.3 with mandatory, registry-checked client certificates.
async fn start_exchange(
    node: Arc<Node>,
    addr: std::net::SocketAddr,
    identity: &Arc<tls::LiveIdentity>,
) -> Result<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>, ServeError> {
    let cfg = tls::server_config_live(
        node.fed.registry.clone(),
        identity.clone(),
        node.fed.handshakes_refused.clone(),
    )
    .map_err(|e| ServeError::Tls(e.to_string()))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = tcp
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let _ = node.fed.exchange_addr.set(local);
    let (tx, rx) = tokio::sync::mpsc::channel(MAX_PENDING);
    let listener = federation::listener::Listener {
        tcp,
        acceptor,
        limits: federation::listener::Limits::default(),
        conns: node.fed.conns.clone(),
        refused: node.fed.handshakes_refused.clone(),
        log: node.fed.refusal_log.clone(),
        registry: node.fed.registry.clone(),
    };
    tokio::spawn(listener.run(tx, node.stopping_watch()));
    // Certificates and CRLs expire: re-check live connections every minute too.
    let n = node.clone();
    tokio::spawn(async move {
        let mut stopping = n.stopping_watch();
        loop {
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                _ = stopping.changed() => return,
            }
            n.fed.revalidate_connections();
        }
    });
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::exchange_server::ExchangeServer<federation::exchange::ExchangeService>>()
        .await;
    let _ = node.health.set(health);
    // Reflection lists only what this port serves (not the local Admin API).
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("kdesk.v1.Exchange")
        .with_service_name("grpc.health.v1.Health")
        .with_service_name("grpc.reflection.v1.ServerReflection")
        .build_v1()
        .map_err(|e| ServeError::Tls(format!("reflection: {e}")))?;
    let exchange = pb::exchange_server::ExchangeServer::new(
        federation::exchange::ExchangeService::new(node.cx.clone()),
    )
    .max_decoding_message_size(4096)
    .max_encoding_message_size(federation::MAX_EXCHANGE_MESSAGE_BYTES);
    let mut stopping = node.stopping_watch();
    let server = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(16)
        .max_concurrent_streams(Some(16))
        .http2_keepalive_interval(Some(federation::replicator::KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(federation::replicator::KEEPALIVE_TIMEOUT))
        .tcp_nodelay(true)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(exchange)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            async move {
                let _ = stopping.wait_for(|s| *s).await;
            },
        );
    info!(address = %local, "exchange service listening (TLS 1.3, client certificates required)");
    Ok(tokio::spawn(server))
}

/// Connections handed from the TLS acceptor to the gRPC server at once.
const MAX_PENDING: usize = 64;

/// Binds a Unix socket that only the owner can use (0600), or the owner and `group` (0660).
/// The environment variable naming the file descriptor of an Admin API listener handed on by
/// a node that started again in place ([`ServeError::Reopen`]).
pub const ADMIN_FD_ENV: &str = "KDESK_ADMIN_FD";

/// The Admin API listener handed on in [`ADMIN_FD_ENV`], if it is a Unix socket listening on
/// `path`; anything else is ignored (and the socket bound afresh).
fn inherited_admin_listener(path: &std::path::Path) -> Option<UnixListener> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    let fd: i32 = std::env::var(ADMIN_FD_ENV).ok()?.parse().ok()?;
    // SAFETY: fstat only reads the descriptor's metadata into a properly sized buffer; an
    // invalid descriptor makes it fail, and it is then not used.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if fd < 3
        || unsafe { libc::fstat(fd, &mut st) } != 0
        || st.st_mode & libc::S_IFMT != libc::S_IFSOCK
    {
        warn!(fd, "{ADMIN_FD_ENV} does not name a socket: ignored");
        return None;
    }
    // SAFETY: the descriptor is open and a socket (checked above), handed to this process by
    // the one it replaced, and nothing else in this process owns it.
    let std_listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    let same = std_listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(|p| p == path))
        .unwrap_or(false);
    if !same {
        warn!(fd, "{ADMIN_FD_ENV} names another socket: ignored");
        // Not ours to close: give the number back untouched.
        let _ = std_listener.into_raw_fd();
        return None;
    }
    // SAFETY: fcntl on a descriptor this process owns; sets close-on-exec again.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    if std_listener.set_nonblocking(true).is_err() {
        return None;
    }
    match UnixListener::from_std(std_listener) {
        Ok(l) => {
            info!(path = %path.display(), "admin socket handed on by the previous process: requests waiting in it are answered now");
            Some(l)
        }
        Err(_) => None,
    }
}

fn bind_private(path: &std::path::Path, group: Option<u32>) -> Result<UnixListener, ServeError> {
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
    if let Some(gid) = group {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    } else {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(listener)
}
