//! Held lines: screened consignments and travelers that have not arrived yet, kept so that an
//! alert arriving later is screened against them at once (retro-screening), then purged.
//!
//! | tree        | key                                   | value                          |
//! |-------------|---------------------------------------|--------------------------------|
//! | `held`      | line id (16)                          | keep-until day (4, BE) ‖ line (JSON) |
//! | `held_idx`  | probe key ‖ 0x00 ‖ line id            | empty                          |
//! | `held_exp`  | keep-until day (4, BE) ‖ line id      | probe keys (length-prefixed)   |
//! | `retro`     | found ms (8, BE) ‖ alert id ‖ line id | retro hit (JSON)               |
//!
//! Days count from 1970-01-01. Holding a line is idempotent: the id is a hash of the line's
//! content, so a manifest screened twice is held once.

use super::*;

/// One line to hold.
#[derive(Debug, Clone)]
pub struct HeldLine {
    /// Content hash.
    pub id: [u8; 16],
    /// The last day it is kept (days since 1970-01-01).
    pub keep_until_day: u32,
    /// The line, serialized.
    pub line: Vec<u8>,
    /// Probe keys (identifiers, name keys, profile keys) it is found by.
    pub keys: Vec<Vec<u8>>,
}

/// A held line read back: its id and the serialized line.
pub type HeldEntry = ([u8; 16], Vec<u8>);

/// `meta` key of the number of held lines.
const HELD_COUNT: &[u8] = b"held_count";

/// Most probe keys per line (more are ignored).
const MAX_KEYS: usize = 64;

fn idx_key(probe: &[u8], id: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(probe.len() + 17);
    k.extend_from_slice(probe);
    k.push(0);
    k.extend_from_slice(id);
    k
}

impl Store {
    /// Holds lines (a batch, one write). Not flushed: call [`Store::flush`] when the batch
    /// must be durable.
    ///
    /// # Errors
    /// Storage failure.
    pub fn hold_lines(&self, lines: &[HeldLine]) -> Result<usize, StoreError> {
        let mut held = sled::Batch::default();
        let mut idx = sled::Batch::default();
        let mut exp = sled::Batch::default();
        let mut new = 0;
        for l in lines {
            if self.held.contains_key(l.id)? {
                continue;
            }
            new += 1;
            let mut v = Vec::with_capacity(4 + l.line.len());
            v.extend_from_slice(&l.keep_until_day.to_be_bytes());
            v.extend_from_slice(&l.line);
            held.insert(&l.id[..], v);
            let mut keys = Vec::new();
            for p in l.keys.iter().take(MAX_KEYS) {
                if p.is_empty() || p.len() > 255 || p.contains(&0) {
                    continue;
                }
                idx.insert(idx_key(p, &l.id), &[][..]);
                keys.push(u8::try_from(p.len()).unwrap_or(0));
                keys.extend_from_slice(p);
            }
            let mut e = l.keep_until_day.to_be_bytes().to_vec();
            e.extend_from_slice(&l.id);
            exp.insert(e, keys);
        }
        self.held.apply_batch(held)?;
        self.held_idx.apply_batch(idx)?;
        self.held_exp.apply_batch(exp)?;
        self.add_held(i64::try_from(new).unwrap_or(0))?;
        Ok(new)
    }

    /// Held lines found by any of `probes`, at most `cap` (the most recent first is not
    /// promised): (line id, serialized line).
    ///
    /// # Errors
    /// Storage failure.
    pub fn held_candidates(
        &self,
        probes: &[Vec<u8>],
        cap: usize,
    ) -> Result<Vec<HeldEntry>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        'probes: for p in probes {
            if p.is_empty() || p.contains(&0) {
                continue;
            }
            let mut prefix = p.clone();
            prefix.push(0);
            for kv in self.held_idx.scan_prefix(&prefix) {
                let (k, _) = kv?;
                if let Some(id) = k
                    .get(prefix.len()..)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                {
                    ids.insert(id);
                    if ids.len() >= cap {
                        break 'probes;
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = self.held.get(id)? {
                if let Some(line) = v.get(4..) {
                    out.push((id, line.to_vec()));
                }
            }
        }
        Ok(out)
    }

    /// Removes the lines whose keep-until day is before `today_day`. Returns how many.
    ///
    /// # Errors
    /// Storage failure.
    pub fn purge_held(&self, today_day: u32) -> Result<usize, StoreError> {
        let mut n = 0;
        let end = today_day.to_be_bytes();
        let expired: Vec<(sled::IVec, sled::IVec)> =
            self.held_exp.range(..&end[..]).collect::<Result<_, _>>()?;
        for (k, keys) in expired {
            let Some(id) = k.get(4..).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
                continue;
            };
            let mut idx = sled::Batch::default();
            let mut at = 0;
            while let Some(&len) = keys.get(at) {
                let len = usize::from(len);
                if let Some(p) = keys.get(at + 1..at + 1 + len) {
                    idx.remove(idx_key(p, &id));
                }
                at += 1 + len;
            }
            self.held_idx.apply_batch(idx)?;
            self.held.remove(id)?;
            self.held_exp.remove(k)?;
            n += 1;
        }
        self.add_held(-i64::try_from(n).unwrap_or(0))?;
        Ok(n)
    }

    /// How many held lines `probe` finds, counting at most `limit` (cheap for rare keys).
    ///
    /// # Errors
    /// Storage failure.
    pub fn held_postings(&self, probe: &[u8], limit: usize) -> Result<usize, StoreError> {
        if probe.is_empty() || probe.contains(&0) {
            return Ok(0);
        }
        let mut prefix = probe.to_vec();
        prefix.push(0);
        let mut n = 0;
        for kv in self.held_idx.scan_prefix(&prefix).take(limit) {
            kv?;
            n += 1;
        }
        Ok(n)
    }

    /// Lines held now (a counter kept beside the lines: counting the tree would read all of
    /// it).
    pub fn held_count(&self) -> u64 {
        self.meta
            .get(HELD_COUNT)
            .ok()
            .flatten()
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes)
    }

    fn add_held(&self, delta: i64) -> Result<(), StoreError> {
        if delta == 0 {
            return Ok(());
        }
        self.meta.update_and_fetch(HELD_COUNT, |old| {
            let n = old
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .map_or(0, u64::from_be_bytes);
            Some(n.saturating_add_signed(delta).to_be_bytes().to_vec())
        })?;
        Ok(())
    }

    /// Records a hit found by retro-screening (JSON), keyed by when it was found.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_retro_hit(
        &self,
        found_ms: i64,
        alert: &RecordId,
        line: &[u8; 16],
        json: &[u8],
    ) -> Result<bool, StoreError> {
        let mut k = Vec::with_capacity(8 + 32 + 16);
        k.extend_from_slice(&found_ms.to_be_bytes());
        k.extend_from_slice(&alert.0);
        k.extend_from_slice(line);
        // One retro hit per (alert, line): the pair is also indexed without the time.
        let mut pair = b"retro/".to_vec();
        pair.extend_from_slice(&alert.0);
        pair.extend_from_slice(line);
        if self.meta.contains_key(&pair)? {
            return Ok(false);
        }
        self.meta.insert(pair, &found_ms.to_be_bytes()[..])?;
        self.retro.insert(k, json)?;
        Ok(true)
    }

    /// Retro hits, oldest first (JSON each).
    ///
    /// # Errors
    /// Storage failure.
    pub fn retro_hits(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.retro
            .iter()
            .values()
            .map(|v| v.map(|v| v.to_vec()).map_err(StoreError::from))
            .collect()
    }

    /// Retro hits recorded.
    pub fn retro_hit_count(&self) -> u64 {
        self.retro.len() as u64
    }

    /// The log position retro-screening has reached (persisted, so a restart does not screen
    /// the whole log again).
    ///
    /// # Errors
    /// Storage failure.
    pub fn retro_position(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .meta
            .get(b"retro_pos")?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes))
    }

    /// Sets [`Store::retro_position`].
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_retro_position(&self, pos: u64) -> Result<(), StoreError> {
        self.meta.insert(b"retro_pos", &pos.to_be_bytes()[..])?;
        Ok(())
    }
}
