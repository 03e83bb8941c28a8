//! This node's verifiable log: the Merkle tree over its records in log order, the signed tree
//! heads (one per size, kept), consistency and inclusion proofs, cosignatures, and the
//! durable prefix, the only part ever shown to partners or auditors.
//!
//! The federation serves tree heads and proofs from here and the node's Admin API answers
//! auditors from here; neither needs the node itself.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

use super::merkle::Incremental;
use crate::pb;
use crate::record::Origin;
use crate::store::{Store, StoreError};

/// The node's log as auditors and partners see it.
pub struct Log {
    store: Store,
    key: crate::keys::LiveKey,
    origin: Origin,
    /// Merkle tree of the log prefix hashed so far (the log only grows): roots and proofs
    /// of any size in O(log n).
    tree: Mutex<Incremental>,
    /// One tree head is signed per size, one at a time.
    head_lock: Mutex<()>,
    /// Length of the log prefix that is flushed: only this much is ever served to partners.
    durable: watch::Sender<u64>,
    /// How long a tree head may wait for its flush before it is not handed out.
    flush_bound: Duration,
}

impl Log {
    /// The log of `store`, signed by `key` for `origin`; everything stored so far counts as
    /// durable (it was flushed before the node last stopped, or is flushed by the next write).
    ///
    /// # Errors
    /// Storage failure.
    pub fn open(
        store: Store,
        key: crate::keys::LiveKey,
        origin: Origin,
        flush_bound: Duration,
    ) -> Result<Self, StoreError> {
        let (durable, _) = watch::channel(store.log_len()?);
        Ok(Self {
            store,
            key,
            origin,
            tree: Mutex::new(Incremental::new()),
            head_lock: Mutex::new(()),
            durable,
            flush_bound,
        })
    }

    /// This node's public key (the one its tree heads and cosignatures verify with).
    #[must_use]
    pub fn public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.current().verifying_key()
    }

    /// Runs `f` over the Merkle tree of the log, grown to at least `size` leaves (blocking:
    /// hashes only what was appended since).
    ///
    /// # Errors
    /// Storage failure, or a log shorter than `size`.
    pub fn with_tree<T>(
        &self,
        size: u64,
        f: impl FnOnce(&Incremental, usize) -> T,
    ) -> Result<T, StoreError> {
        let mut tree = self
            .tree
            .lock()
            .map_err(|_| StoreError::Poisoned("log tree"))?;
        let have = tree.len() as u64;
        if have < size {
            for item in self.store.log_range(have, size) {
                tree.push(super::bundle::record_leaf(&item?.1));
            }
        }
        match usize::try_from(size) {
            Ok(n) if n <= tree.len() => Ok(f(&tree, n)),
            _ => Err(StoreError::Corrupt(format!(
                "log has fewer than {size} entries"
            ))),
        }
    }

    /// This node's signed head of its durable log (blocking). One head is signed per tree
    /// size and kept, so every partner asking at that size gets the same head.
    ///
    /// # Errors
    /// Storage failure.
    pub fn tree_head(&self) -> Result<pb::SignedTreeHead, StoreError> {
        self.tree_head_with(true)
    }

    /// [`Log::tree_head`] for partners: while another head is being signed it answers
    /// [`StoreError::Busy`] at once (partners ask up to 20 times a second, and must not pile
    /// up blocking threads behind a slow disk).
    ///
    /// # Errors
    /// Busy, or a storage failure.
    pub fn tree_head_for_partner(&self) -> Result<pb::SignedTreeHead, StoreError> {
        self.tree_head_with(false)
    }

    fn tree_head_with(&self, wait: bool) -> Result<pb::SignedTreeHead, StoreError> {
        let locked = if wait {
            self.head_lock.lock().map_err(|_| ())
        } else {
            match self.head_lock.try_lock() {
                Ok(g) => Ok(g),
                Err(std::sync::TryLockError::WouldBlock) => return Err(StoreError::Busy),
                Err(std::sync::TryLockError::Poisoned(_)) => Err(()),
            }
        };
        let _one_at_a_time = locked.map_err(|()| StoreError::Poisoned("tree head"))?;
        let size = self.durable_len();
        if let Some(sth) = self.store.own_head(size)? {
            // It may have been stored by a call whose flush timed out: flushed before it is
            // handed out (a flush with nothing new to write is quick).
            self.store.flush_within(self.flush_bound)?;
            return Ok(sth);
        }
        let root = self
            .with_tree(size, |t, n| t.root(n))?
            .ok_or_else(|| StoreError::Corrupt(format!("no tree of size {size}")))?;
        let sth = super::bundle::sign_tree_head(
            &self.key.current(),
            &self.origin,
            size,
            root,
            crate::record::now_ms(),
        );
        self.store.put_own_head(size, &sth)?;
        // Bounded: a head that cannot be made durable soon is not handed out.
        self.store.flush_within(self.flush_bound)?;
        Ok(sth)
    }

    /// A tree size a partner or auditor asked for (`field`) that the durable log has reached.
    fn within_durable(&self, field: &str, size: u64) -> Result<(), String> {
        let durable = self.durable_len();
        if size > durable {
            return Err(format!(
                "{field} {size} is beyond the durable log ({durable})"
            ));
        }
        Ok(())
    }

    /// RFC 9162 consistency proof between two sizes of the durable log (blocking). The inner
    /// error names a request that cannot be served.
    ///
    /// # Errors
    /// Storage failure.
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Result<Vec<Vec<u8>>, String>, StoreError> {
        if let Err(why) = self.within_durable("second_size", second) {
            return Ok(Err(why));
        }
        if first == 0 || first > second {
            return Ok(Err(format!(
                "first_size must be 1..=second_size ({second}), got {first}"
            )));
        }
        let first = usize::try_from(first).unwrap_or(usize::MAX);
        self.with_tree(second, |t, n| {
            t.consistency_proof(first, n)
                .map(|p| p.iter().map(|h| h.to_vec()).collect())
                .ok_or_else(|| "no such proof".to_string())
        })
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` (blocking).
    ///
    /// # Errors
    /// Storage failure.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Result<Vec<Vec<u8>>, String>, StoreError> {
        if let Err(why) = self.within_durable("tree_size", size) {
            return Ok(Err(why));
        }
        if index >= size {
            return Ok(Err(format!(
                "index must be below tree_size ({size}), got {index}"
            )));
        }
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        self.with_tree(size, |t, n| {
            t.inclusion_proof(index, n)
                .map(|p| p.iter().map(|h| h.to_vec()).collect())
                .ok_or_else(|| "no such proof".to_string())
        })
    }

    /// Signs with this node's key (cosignatures).
    pub fn cosign(&self, head: &[u8]) -> pb::Cosignature {
        super::witness::cosign(
            &self.key.current(),
            &self.origin,
            head,
            crate::record::now_ms(),
        )
    }

    /// Watches the durable log length.
    pub fn durable_watch(&self) -> watch::Receiver<u64> {
        self.durable.subscribe()
    }

    /// Durable log length now.
    pub fn durable_len(&self) -> u64 {
        *self.durable.borrow()
    }

    /// Flushes the store and publishes the new durable log length to subscriptions.
    ///
    /// # Errors
    /// The flush failed: nothing new is published.
    pub async fn flush_and_publish(&self) -> Result<(), StoreError> {
        // Everything below `len` is committed; once the flush returns it is durable.
        let len = self.store.log_len()?;
        self.store.flush().await?;
        self.durable.send_if_modified(|d| {
            if len > *d {
                *d = len;
                true
            } else {
                false
            }
        });
        Ok(())
    }
}
