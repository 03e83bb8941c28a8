//! Records and the log: the write path (one transaction per batch), lookups, indexes and
//! counts.

use super::*;

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

pub(super) fn decode_record(body: &[u8]) -> Result<Record, StoreError> {
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
    /// Key announcements of a country's desks: the country code.
    KeyAnnouncementOf = 11,
    /// Restore declarations of a country's desks: the country code.
    RestoreDeclarationOf = 12,
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
        RecordKind::KeyAnnouncement(_) => vec![(
            IndexKind::KeyAnnouncementOf,
            record.origin.country.to_string(),
        )],
        RecordKind::RestoreDeclaration(_) => vec![(
            IndexKind::RestoreDeclarationOf,
            record.origin.country.to_string(),
        )],
        _ => vec![],
    }
}

pub(super) fn index_key(kind: IndexKind, value: &str, id: &RecordId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + value.len() + 1 + 32);
    k.push(kind as u8);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k.extend_from_slice(&id.0);
    k
}

pub(super) fn seq_key(origin: &Origin, seq: u64) -> Vec<u8> {
    let mut k = origin.key_prefix();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The origin an undecoded (unverified) body claims, read without checking anything else.
pub fn claimed_origin(body: &[u8]) -> Option<pb::Origin> {
    BodyHead::decode(body).ok().and_then(|h| h.origin)
}

/// The origin and sequence number of an undecoded body, read without checking anything else.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct BodyHead {
    #[prost(message, optional, tag = "2")]
    pub(super) origin: Option<pb::Origin>,
    #[prost(uint64, tag = "3")]
    pub(super) seq: u64,
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

pub(super) const LOG_LEN: &[u8] = b"log_len";

/// Number of active plain alerts stored without a `state` entry (see `load_state`).
pub(super) const DERIVED_ACTIVE: &[u8] = b"derived_active";

/// Longest run of ids written as one `seq` entry.
pub(super) const MAX_SEQ_RUN: usize = 4096;

/// A big-endian counter in `meta` read inside a transaction (0 when absent).
pub(super) fn meta_u64(meta: &TransactionalTree, key: &[u8]) -> Result<u64, Abort> {
    match meta.get(key)? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| abort(StoreError::Corrupt(format!("meta entry {key:?}")))),
    }
}

/// Groups new (origin ‖ seq → id) entries into `seq` runs: key = origin ‖ first seq, value =
/// the ids of consecutive sequence numbers, 32 bytes each.
pub(super) fn seq_runs(
    new: std::collections::HashMap<Vec<u8>, RecordId>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
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
pub(super) fn split_seq_key(key: &[u8]) -> Option<(usize, u64)> {
    let plen = key.len().checked_sub(8)?;
    let tail = <[u8; 8]>::try_from(key.get(plen..)?).ok()?;
    Some((plen, u64::from_be_bytes(tail)))
}

/// The first seq and the ids of a `seq` run entry.
pub(super) fn seq_run(prefix_len: usize, k: &[u8], v: &[u8]) -> Result<(u64, usize), StoreError> {
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

impl Store {
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

    /// The id of the record stored under (origin, seq), if any.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn id_at(&self, origin: &Origin, seq: u64) -> Result<Option<RecordId>, StoreError> {
        self.seq_at(&origin.key_prefix(), seq)
    }

    pub(super) fn write_batch(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        mode: Mode,
        all_or_nothing: bool,
        request: Option<&RequestKey<'_>>,
    ) -> Result<Vec<Result<Ingest, Rejection>>, StoreError> {
        let r = self.write_batch_inner(recs, now_ms, mode, all_or_nothing, request);
        if let Err(StoreError::Sled(e @ sled::Error::Io(_))) = &r {
            // sled refuses every write from now on: say so at once, not at the next flush.
            self.flusher.note_failure(e);
        }
        r
    }

    fn write_batch_inner(
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
            .map_err(|_| StoreError::Poisoned("store writer"))?;
        let pending_nonempty = !self.pending.is_empty();
        let mut high = self
            .high_seq
            .lock()
            .map_err(|_| StoreError::Poisoned("sequence cache"))?
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
    pub(super) fn last_seq_of(&self, prefix: &[u8]) -> Result<u64, StoreError> {
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
    pub(super) fn seq_at(&self, prefix: &[u8], seq: u64) -> Result<Option<RecordId>, StoreError> {
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

    /// The records of `origin` with sequence numbers above `after`, in order, at most `max`
    /// (a range scan: gaps in the numbers cost nothing).
    ///
    /// # Errors
    /// Storage failure.
    pub fn ids_after(
        &self,
        origin: &Origin,
        after: u64,
        max: usize,
    ) -> Result<Vec<(u64, RecordId)>, StoreError> {
        let mut out = Vec::new();
        let Some(next) = after.checked_add(1) else {
            return Ok(out);
        };
        let prefix = origin.key_prefix();
        let mut start = prefix.clone();
        start.extend_from_slice(&next.to_be_bytes());
        // The run holding `next`, if one starts before it.
        let from = match self.seq.range(prefix.clone()..=start.clone()).next_back() {
            Some(kv) => kv?.0.to_vec(),
            None => start,
        };
        for kv in self.seq.range(from..) {
            let (k, v) = kv?;
            if !k.starts_with(&prefix) {
                break;
            }
            let (first, n) = seq_run(prefix.len(), &k, &v)?;
            for i in 0..n {
                let seq = first.saturating_add(i as u64);
                if seq <= after {
                    continue;
                }
                let id = RecordId::from_slice(&v[32 * i..32 * i + 32], "seq")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                out.push((seq, id));
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Raises the known highest sequence numbers after a commit (never lowers them: a value
    /// too high only costs a lookup, one too low would let a duplicate in).
    pub(super) fn raise_high(&self, seen: std::collections::HashMap<Vec<u8>, u64>) {
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

    pub(super) fn entry(&self, id: RecordId, v: &[u8]) -> Result<StoredEntry, StoreError> {
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

    /// Number of stored records: every stored record has one log position, so this is the
    /// log's length (read in O(1); counting the records tree would read all of it).
    pub fn len(&self) -> usize {
        self.log_len()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
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

    /// Every record indexed under `kind`, whatever the value (e.g. every hit), in index order.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn indexed_ids(&self, kind: IndexKind) -> Result<Vec<RecordId>, StoreError> {
        self.idx
            .scan_prefix([kind as u8])
            .keys()
            .map(|k| {
                let k = k?;
                let at = k.len().saturating_sub(32);
                RecordId::from_slice(&k[at..], "idx")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// The records indexed under (`kind`, `value`), decoded, in sequence order.
    ///
    /// # Errors
    /// Storage failure or a damaged record.
    pub fn indexed_records(&self, kind: IndexKind, value: &str) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for id in self.lookup(kind, value)? {
            if let Some(e) = self.get(&id)? {
                out.push(e.record()?);
            }
        }
        out.sort_by_key(|r| r.seq);
        Ok(out)
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
        let mut out = Vec::new();
        self.for_each_active_alert_version(keep, |id, origin, alert| {
            out.push((id, origin, alert));
        })?;
        Ok(out)
    }

    /// [`Store::active_alert_versions_where`], handing each version to `f` as it is read
    /// instead of collecting them (a million alerts are never all decoded at once).
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn for_each_active_alert_version(
        &self,
        keep: impl Fn(&pb::Envelope, &Record) -> bool,
        mut f: impl FnMut(RecordId, Origin, crate::model::Alert),
    ) -> Result<(), StoreError> {
        // Plain alerts stored active and never changed have no `state` entry: walk the
        // records (id order) and the state entries (id order) together.
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
                RecordKind::Alert(a) => f(id, rec.origin, a),
                // An amendment always has a `state` entry.
                RecordKind::Amendment(m) if st.is_some() => f(id, rec.origin, m.alert),
                _ => {}
            }
        }
        Ok(())
    }

    /// Size of the database files.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}
