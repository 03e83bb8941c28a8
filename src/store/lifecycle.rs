//! Lifecycle rules: how each kind of record may change what is already stored (an
//! amendment supersedes, a retraction withdraws, hits and outcomes must name what they follow),
//! applied inside the one transaction that stores a batch. Every acceptance rule of the store
//! is here.

use super::*;
use crate::record::{Amendment, Hit, Outcome, Retraction};

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

pub(super) const STATE_LEN: usize = 1 + 32 * 3;

impl AlertState {
    pub(super) fn active(supersedes: Option<RecordId>) -> Self {
        Self {
            status: Status::Active,
            superseded_by: None,
            retracted_by: None,
            supersedes,
        }
    }

    pub(super) fn encode(&self) -> [u8; STATE_LEN] {
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

    pub(super) fn decode(b: &[u8]) -> Result<Self, StoreError> {
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

/// The transactional trees of one ingest.
pub(super) struct Tx<'a> {
    pub(super) records: &'a TransactionalTree,
    pub(super) seq: &'a TransactionalTree,
    pub(super) state: &'a TransactionalTree,
    pub(super) evidence: &'a TransactionalTree,
    pub(super) idx: &'a TransactionalTree,
    pub(super) log: &'a TransactionalTree,
    pub(super) meta: &'a TransactionalTree,
    pub(super) pending: Pending<'a>,
    /// Log position of the batch's first new record.
    pub(super) log_base: u64,
    /// Ids of the batch's new records, in log order (written as one log chunk).
    pub(super) log_ids: std::cell::RefCell<Vec<u8>>,
    /// The batch's new records by (origin, seq) key (written as runs at the end).
    pub(super) new_seq: std::cell::RefCell<std::collections::HashMap<Vec<u8>, RecordId>>,
    /// Change to the number of active plain alerts without a `state` entry.
    pub(super) derived_delta: std::cell::Cell<i64>,
}

/// The `pending` tree inside a transaction. Most databases hold nothing pending; when the tree
/// was empty as the batch began (checked under the store's writer lock) and nothing has been
/// added since, lookups are answered without touching sled.
pub(super) struct Pending<'a> {
    pub(super) tree: &'a TransactionalTree,
    pub(super) maybe_nonempty: std::cell::Cell<bool>,
}

impl Pending<'_> {
    pub(super) fn get(&self, k: &[u8]) -> Result<Option<sled::IVec>, Abort> {
        if !self.maybe_nonempty.get() {
            return Ok(None);
        }
        Ok(self.tree.get(k)?)
    }
    pub(super) fn insert(&self, k: Vec<u8>, v: &[u8]) -> Result<(), Abort> {
        self.maybe_nonempty.set(true);
        self.tree.insert(k, v)?;
        Ok(())
    }
    pub(super) fn remove(&self, k: Vec<u8>) -> Result<Option<sled::IVec>, Abort> {
        Ok(self.tree.remove(k)?)
    }
}

/// A record with its encoded value and keys, computed outside the transaction.
pub(super) struct Prepared<'a> {
    pub(super) rec: &'a SignedRecord,
    pub(super) value: Vec<u8>,
    pub(super) seq_key: Vec<u8>,
    pub(super) index: Vec<Vec<u8>>,
    /// The record stored under its (origin, seq) before this batch, if any.
    pub(super) stored: Option<RecordId>,
}

/// Stores one record inside a transaction. Lifecycle refusals are returned before anything of
/// this record is written.
pub(super) fn apply_one(tx: &Tx<'_>, p: &Prepared<'_>, mode: Mode) -> Result<Ingest, Abort> {
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
        RecordKind::Alert(_) => alert(tx, p)?,
        RecordKind::Amendment(a) => amendment(tx, p, a, mode)?,
        RecordKind::Retraction(r) => retraction(tx, p, r, mode)?,
        RecordKind::Hit(h) => hit(tx, h)?,
        RecordKind::Outcome(o) => outcome(tx, origin, o)?,
        // Kept as it is: the registry, not the store, acts on it.
        RecordKind::KeyAnnouncement(_) | RecordKind::RestoreDeclaration(_) => {}
        RecordKind::AdminEvent(_) => {
            // A node's admin events are its own business: never taken from a partner.
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

/// A first version: active, unless an amendment or retraction of it arrived first.
fn alert(tx: &Tx<'_>, p: &Prepared<'_>) -> Result<(), Abort> {
    let st = take_pending(&tx.pending, &p.rec.id, AlertState::active(None))?;
    if st == AlertState::active(None) {
        // The common case: an active alert needs no `state` entry (see `load_state`).
        tx.derived_delta.set(tx.derived_delta.get() + 1);
    } else {
        tx.state.insert(&p.rec.id.0, &st.encode()[..])?;
    }
    Ok(())
}

/// An amendment supersedes the current version of the same origin and may only widen its
/// distribution. Issued here, it must name the current version; received, it may arrive
/// before its target (held pending) or after a retraction overtook it.
fn amendment(tx: &Tx<'_>, p: &Prepared<'_>, a: &Amendment, mode: Mode) -> Result<(), Abort> {
    let origin = &p.rec.record.origin;
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
    // Retracted on arrival (its retraction came first): withdraw the versions it replaced too.
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
    Ok(())
}

/// A retraction withdraws a version of the same origin and every version it replaced.
/// Issued here, it must name the current version; received, it may arrive first.
fn retraction(tx: &Tx<'_>, p: &Prepared<'_>, r: &Retraction, mode: Mode) -> Result<(), Abort> {
    match load_target(tx, &r.target, &p.rec.record.origin)? {
        None if mode == Mode::Own => Err(unknown_target(&r.target)),
        None => {
            tx.pending
                .insert(pending_key(&r.target, PENDING_RETRACTION), &p.rec.id.0)?;
            Ok(())
        }
        Some((l, _)) => {
            if mode == Mode::Own && l.st.status != Status::Active {
                return Err(not_current(&r.target, &l.st));
            }
            retract_chain(tx, r.target, l, p.rec.id)
        }
    }
}

/// A hit is on an alert version held here, of the origin it names.
fn hit(tx: &Tx<'_>, h: &Hit) -> Result<(), Abort> {
    match load_record(tx.records, &h.alert_id)? {
        Some(t) if t.kind.alert().is_some() && t.origin == h.alert_origin => Ok(()),
        Some(t) => Err(abort(StoreError::Rejected(Rejection::UnknownTarget(
            format!(
                "{} (a {} of {}, not an alert of {})",
                h.alert_id.to_hex(),
                t.kind.name(),
                t.origin,
                h.alert_origin
            ),
        )))),
        None => Err(unknown_target(&h.alert_id)),
    }
}

/// An outcome follows a hit of the same desk, on an alert of the origin it names.
fn outcome(tx: &Tx<'_>, origin: &Origin, o: &Outcome) -> Result<(), Abort> {
    match load_record(tx.records, &o.hit_id)? {
        Some(Record {
            origin: hit_origin,
            kind: RecordKind::Hit(h),
            ..
        }) if hit_origin == *origin && h.alert_origin == o.alert_origin => Ok(()),
        Some(t) => Err(abort(StoreError::Rejected(Rejection::UnknownTarget(
            format!(
                "{} (a {} of {}, not a hit of {} on an alert of {})",
                o.hit_id.to_hex(),
                t.kind.name(),
                t.origin,
                origin,
                o.alert_origin
            ),
        )))),
        None => Err(unknown_target(&o.hit_id)),
    }
}

pub(super) const PENDING_AMENDMENT: u8 = 2;
pub(super) const PENDING_RETRACTION: u8 = 3;

pub(super) fn pending_key(target: &RecordId, kind: u8) -> Vec<u8> {
    let mut k = target.0.to_vec();
    k.push(kind);
    k
}

pub(super) fn unknown_target(target: &RecordId) -> Abort {
    abort(StoreError::Rejected(Rejection::UnknownTarget(
        target.to_hex(),
    )))
}

pub(super) fn not_current(target: &RecordId, st: &AlertState) -> Abort {
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
pub(super) fn take_pending(
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
pub(super) fn retract_chain(
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
pub(super) struct Lifecycle {
    pub(super) st: AlertState,
    /// A plain alert, active, with no `state` entry: writing one takes it off the count of
    /// such alerts.
    pub(super) derived: bool,
}

/// Writes the `state` entry of an alert version.
pub(super) fn write_state(
    tx: &Tx<'_>,
    id: &RecordId,
    st: &AlertState,
    derived: bool,
) -> Result<(), Abort> {
    if derived {
        tx.derived_delta.set(tx.derived_delta.get() - 1);
    }
    tx.state.insert(&id.0, &st.encode()[..])?;
    Ok(())
}

/// The lifecycle state of a stored alert or amendment: its `state` entry, or active for a
/// plain alert that has none (stored active with nothing pending, never changed since).
/// `None` when no alert version is stored under `id`.
pub(super) fn load_state(tx: &Tx<'_>, id: &RecordId) -> Result<Option<Lifecycle>, Abort> {
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
pub(super) fn load_record(
    records: &TransactionalTree,
    id: &RecordId,
) -> Result<Option<Record>, Abort> {
    let Some(raw) = records.get(id.0)? else {
        return Ok(None);
    };
    let env = pb::Envelope::decode(raw.get(8..).unwrap_or_default())
        .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?;
    Ok(Some(decode_record(&env.body).map_err(abort)?))
}

/// Loads the target of an amendment or retraction, refusing one owned by another origin.
/// `None` when the target is not stored.
pub(super) fn load_target(
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
