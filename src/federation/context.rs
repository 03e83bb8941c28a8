//! What the federation works with: narrow handles on the store, the log, the stop signal
//! and the partner registry, not the node that wires them together.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::watch;

use super::Federation;
use crate::audit::log::Log;
use crate::config::ExchangeConfig;
use crate::record::{Origin, RecordKind};
use crate::store::{disk, Store};

/// Records, as admin events in this node's own log, the trust changes the federation makes by
/// itself (a partner's newer CRL fetched and applied). The node's issuing pipeline implements
/// it: signing own records is the node's job, not the federation's.
pub trait TrustEvents: Send + Sync {
    /// Signs, stores and flushes one admin event; returns once it is durable.
    fn record(
        &self,
        kind: RecordKind,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// The federation's view of its node.
pub struct Context {
    /// The database (records, cursors, witness state, registrations).
    pub store: Store,
    /// This node's log: tree heads, proofs, the durable prefix.
    pub log: Arc<Log>,
    /// Partners, links, counters.
    pub fed: Arc<Federation>,
    /// The `[exchange]` settings (None when the node does not federate).
    pub exchange: Option<ExchangeConfig>,
    /// This node.
    pub origin: Origin,
    /// The database directory and the free space kept in reserve (bytes).
    reserve: (PathBuf, u64),
    stopping: watch::Receiver<bool>,
    events: OnceLock<Weak<dyn TrustEvents>>,
    /// Restored from a backup and not yet recovered from partners: the log is not served
    /// (its head would look like a rollback before the restore is declared).
    pub recovering: std::sync::atomic::AtomicBool,
}

impl Context {
    /// A context over the node's parts.
    #[must_use]
    pub fn new(
        store: Store,
        log: Arc<Log>,
        fed: Arc<Federation>,
        exchange: Option<ExchangeConfig>,
        origin: Origin,
        reserve: (PathBuf, u64),
        stopping: watch::Receiver<bool>,
    ) -> Self {
        Self {
            store,
            log,
            fed,
            exchange,
            origin,
            reserve,
            stopping,
            events: OnceLock::new(),
            recovering: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Sets who records trust changes (once, when the node runs).
    pub fn set_trust_events(&self, events: Weak<dyn TrustEvents>) {
        let _ = self.events.set(events);
    }

    /// This node's origin.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Watches the stop flag.
    #[must_use]
    pub fn stopping_watch(&self) -> watch::Receiver<bool> {
        self.stopping.clone()
    }

    /// Whether the node is stopping.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Refuses to store anything new when free space is at or below the reserve.
    ///
    /// # Errors
    /// [`disk::ReserveError`].
    pub fn check_disk_reserve(&self) -> Result<(), disk::ReserveError> {
        self.store.check_writable(&self.reserve.0, self.reserve.1)
    }

    /// Records a trust change the federation made by itself (see [`TrustEvents`]).
    ///
    /// # Errors
    /// The node is gone, or issuing failed (as text).
    pub async fn record_trust_change(&self, kind: RecordKind) -> Result<(), String> {
        let events = self
            .events
            .get()
            .and_then(Weak::upgrade)
            .ok_or("the node is stopping")?;
        events.record(kind).await
    }
}

impl Context {
    /// Whether the node is still recovering from a restore (see `recovering`).
    pub fn is_recovering(&self) -> bool {
        self.recovering.load(std::sync::atomic::Ordering::Acquire)
    }
}
