//! Consistent snapshots of the whole database (backups) and loading one into a new database
//! (restore).

use super::*;
use crate::model::CountryCode;

/// `meta` key of a restore not yet completed: the backup's header (JSON). While it is set the
/// node signs nothing (see the node's recovery).
pub const RESTORE_PENDING: &[u8] = b"restore_pending";

/// `meta` key of the lowest sequence number the node may sign next (set by a restore's
/// recovery: numbers below it may have been used before the backup was restored).
pub const SEQ_FLOOR: &[u8] = b"seq_floor";

impl Store {
    /// Calls `start()`, then `each(tree, key, value)` for every entry of every tree, while
    /// record writes wait (one consistent cut of records, log, state and registrations).
    /// Returns the entries.
    ///
    /// # Errors
    /// Storage failure, or what `each` returned.
    pub fn snapshot(
        &self,
        start: impl FnOnce() -> std::io::Result<()>,
        mut each: impl FnMut(&[u8], &[u8], &[u8]) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let _writes_wait = self
            .writer
            .lock()
            .map_err(|_| StoreError::Poisoned("writer"))?;
        // What describes the cut (log length, last numbers) is read under the same lock.
        start().map_err(|e| StoreError::Corrupt(format!("backup: {e}")))?;
        let mut n = 0u64;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            for kv in tree.iter() {
                let (k, v) = kv?;
                each(&name, &k, &v).map_err(|e| StoreError::Corrupt(format!("backup: {e}")))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Loads entries into tree `tree` of a new database (restore), in one batch.
    ///
    /// # Errors
    /// Storage failure.
    pub fn load_entries(
        &self,
        tree: &[u8],
        entries: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let t = self.db.open_tree(tree)?;
        let mut b = sled::Batch::default();
        for (k, v) in entries {
            b.insert(k.as_slice(), v.as_slice());
        }
        t.apply_batch(b)?;
        Ok(())
    }

    /// Whether any record, log entry or registration is stored (a restore wants an empty
    /// database).
    pub fn holds_anything(&self) -> bool {
        !self.records.is_empty() || !self.log.is_empty() || !self.peers.is_empty()
    }

    /// The pending restore's header, if the node was restored and has not recovered yet.
    ///
    /// # Errors
    /// Storage failure.
    pub fn restore_pending(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.meta.get(RESTORE_PENDING)?.map(|v| v.to_vec()))
    }

    /// Marks a restore pending (its header), or done (`None`).
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_restore_pending(&self, header: Option<&[u8]>) -> Result<(), StoreError> {
        match header {
            Some(h) => self.meta.insert(RESTORE_PENDING, h)?,
            None => self.meta.remove(RESTORE_PENDING)?,
        };
        Ok(())
    }

    /// Marks `peer` as having to read this node's log again from the start: its cursor
    /// points into the log a restore replaced, beyond `backup_log_size` where the two part.
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_resync(&self, peer: CountryCode, backup_log_size: u64) -> Result<(), StoreError> {
        self.set_peer_number(b"resync/", peer, backup_log_size)
    }

    /// Where this node's log parts from the one a restore replaced, if `peer` has not read it
    /// again since.
    ///
    /// # Errors
    /// Storage failure.
    pub fn resync(&self, peer: CountryCode) -> Result<Option<u64>, StoreError> {
        self.peer_number(b"resync/", peer)
    }

    /// `peer` reads this node's log again from before the restore's parting point.
    ///
    /// # Errors
    /// Storage failure.
    pub fn clear_resync(&self, peer: CountryCode) -> Result<(), StoreError> {
        self.meta.remove(Self::peer_key(b"resync/", peer))?;
        Ok(())
    }

    /// The lowest sequence number this node may sign next (0: no floor).
    ///
    /// # Errors
    /// Storage failure.
    pub fn seq_floor(&self) -> Result<u64, StoreError> {
        Ok(read_u64(&self.meta, SEQ_FLOOR)?.unwrap_or(0))
    }

    /// Sets [`Store::seq_floor`].
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_seq_floor(&self, floor: u64) -> Result<(), StoreError> {
        self.meta.insert(SEQ_FLOOR, &floor.to_be_bytes()[..])?;
        Ok(())
    }
}

/// A deferred record body and its key.
pub type Deferred = (Vec<u8>, Vec<u8>);

/// `meta` prefix of trust changes made while a restored node recovered, recorded after its
/// restore declaration.
const DEFERRED: &[u8] = b"deferred/";

impl Store {
    /// Keeps an encoded record body to be signed later (see [`DEFERRED`]).
    ///
    /// # Errors
    /// Storage failure.
    pub fn defer_record(&self, body: &[u8]) -> Result<(), StoreError> {
        let mut k = DEFERRED.to_vec();
        k.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.meta.insert(k, body)?;
        Ok(())
    }

    /// The deferred record bodies, oldest first, with their keys (to remove once signed).
    ///
    /// # Errors
    /// Storage failure.
    pub fn deferred_records(&self) -> Result<Vec<Deferred>, StoreError> {
        self.meta
            .scan_prefix(DEFERRED)
            .map(|kv| {
                kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    /// Forgets a deferred record (signed now).
    ///
    /// # Errors
    /// Storage failure.
    pub fn remove_deferred(&self, key: &[u8]) -> Result<(), StoreError> {
        self.meta.remove(key)?;
        Ok(())
    }
}

impl Store {
    /// Records that `peer`'s restore declaration at `seq` explained a restore (it explains no
    /// other).
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_restore_accepted(&self, peer: CountryCode, seq: u64) -> Result<(), StoreError> {
        self.set_peer_number(b"restore_accepted/", peer, seq)
    }

    /// The sequence number of `peer`'s last restore declaration accepted, if any.
    ///
    /// # Errors
    /// Storage failure.
    pub fn restore_accepted(&self, peer: CountryCode) -> Result<Option<u64>, StoreError> {
        self.peer_number(b"restore_accepted/", peer)
    }

    fn peer_key(prefix: &[u8], peer: CountryCode) -> Vec<u8> {
        let mut k = prefix.to_vec();
        k.extend_from_slice(peer.as_str().as_bytes());
        k
    }

    fn set_peer_number(&self, prefix: &[u8], peer: CountryCode, n: u64) -> Result<(), StoreError> {
        self.meta
            .insert(Self::peer_key(prefix, peer), &n.to_be_bytes()[..])?;
        Ok(())
    }

    fn peer_number(&self, prefix: &[u8], peer: CountryCode) -> Result<Option<u64>, StoreError> {
        read_u64(&self.meta, Self::peer_key(prefix, peer))
    }
}
