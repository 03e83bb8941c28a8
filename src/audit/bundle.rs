//! Signed tree heads and audit bundles: export from a node's store, verification offline.
//!
//! The format and the verification procedure are specified in `docs/AUDIT.md`.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use prost::Message;
use serde::Serialize;

use super::merkle::{self, leaf_hash, Hash, Tree};
use crate::model::{CountryCode, Date};
use crate::pb;
use crate::record::{verify_envelope, KeyId, Origin, RecordId};
use crate::store::{Store, StoreError};

/// Context of tree-head signatures.
pub const TREE_HEAD_CONTEXT: &[u8] = b"kdesk/v1/tree-head\x00";
/// Context of bundle signatures.
pub const BUNDLE_CONTEXT: &[u8] = b"kdesk/v1/audit-bundle\x00";
/// Leaf type byte of a record entry.
pub const LEAF_RECORD: u8 = 0x01;
/// Bundle format version.
pub const BUNDLE_VERSION: u32 = 1;

/// Leaf hash of the log entry of a record: `SHA-256(0x00 || 0x01 || record_id)`.
pub fn record_leaf(id: &RecordId) -> Hash {
    let mut data = [0u8; 33];
    data[0] = LEAF_RECORD;
    data[1..].copy_from_slice(&id.0);
    leaf_hash(&data)
}

fn signed(context: &[u8], bytes: &[u8], key: &SigningKey) -> Vec<u8> {
    let mut m = context.to_vec();
    m.extend_from_slice(bytes);
    key.sign(&m).to_bytes().to_vec()
}

fn check(context: &[u8], bytes: &[u8], sig: &[u8], key: &VerifyingKey) -> bool {
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    let mut m = context.to_vec();
    m.extend_from_slice(bytes);
    key.verify_strict(&m, &sig).is_ok()
}

/// Signs a tree head.
pub fn sign_tree_head(
    key: &SigningKey,
    origin: &Origin,
    size: u64,
    root: Hash,
    now_ms: i64,
) -> pb::SignedTreeHead {
    let head = pb::TreeHead {
        origin: Some(pb::Origin {
            country: origin.country.to_string(),
            node: origin.node.to_string(),
        }),
        size,
        root: root.to_vec(),
        timestamp_ms: now_ms,
    }
    .encode_to_vec();
    pb::SignedTreeHead {
        signature: signed(TREE_HEAD_CONTEXT, &head, key),
        key_id: KeyId::of(&key.verifying_key()).0.to_vec(),
        head,
    }
}

/// The Merkle tree of a store's log prefix `0..size`.
///
/// # Errors
/// Storage failure.
pub fn log_tree(store: &Store, size: u64) -> Result<(Tree, Vec<RecordId>), StoreError> {
    let mut ids = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for item in store.log_range(0, size) {
        ids.push(item?.1);
    }
    if ids.len() as u64 != size {
        return Err(StoreError::Corrupt(format!(
            "log has {} entries below {size}",
            ids.len()
        )));
    }
    let leaves = ids.iter().map(record_leaf).collect();
    Ok((Tree::new(leaves), ids))
}

/// What to export.
pub struct ExportRequest<'a> {
    /// The exporting node.
    pub exporter: &'a Origin,
    /// Its signing key.
    pub key: &'a SigningKey,
    /// Public keys to carry (own and partners'), with their sources.
    pub keys: Vec<pb::BundleKey>,
    /// Durable log length to cover.
    pub size: u64,
    /// Only this origin country.
    pub origin: Option<CountryCode>,
    /// Only records created on or after this date (UTC).
    pub since: Option<Date>,
    /// Export time.
    pub now_ms: i64,
}

/// Builds a signed bundle file. Returns the file bytes, records exported, and the root.
///
/// # Errors
/// Storage failure.
pub fn export(store: &Store, req: ExportRequest<'_>) -> Result<(Vec<u8>, u64, Hash), StoreError> {
    let (tree, ids) = log_tree(store, req.size)?;
    let root = tree.root();
    let since_ms = req.since.map(|d| {
        let days = Date::parse("1970-01-01")
            .map(|e| e.days_until(&d))
            .unwrap_or(0);
        days * 86_400_000
    });
    let mut entries = vec![];
    for (pos, id) in ids.iter().enumerate() {
        let env = store
            .get_envelope(id)?
            .ok_or_else(|| StoreError::Corrupt(format!("log points to missing record {id}")))?;
        if req.origin.is_some() || since_ms.is_some() {
            let body = pb::RecordBody::decode(env.body.as_slice())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if let Some(o) = req.origin {
                if body.origin.as_ref().map(|x| x.country.as_str()) != Some(o.as_str()) {
                    continue;
                }
            }
            if let Some(s) = since_ms {
                if body.created_at_ms < s {
                    continue;
                }
            }
        }
        entries.push(pb::BundleEntry {
            position: pos as u64,
            envelope: Some(env),
            inclusion_proof: tree
                .inclusion(pos)
                .unwrap_or_default()
                .iter()
                .map(|h| h.to_vec())
                .collect(),
        });
    }
    let n = entries.len() as u64;
    let witnessed_heads = witnessed_heads(store, &ids, req.size)?;
    let bundle = pb::AuditBundle {
        version: BUNDLE_VERSION,
        exporter: Some(pb::Origin {
            country: req.exporter.country.to_string(),
            node: req.exporter.node.to_string(),
        }),
        exported_at_ms: req.now_ms,
        filter_origin: req.origin.map(|c| c.to_string()).unwrap_or_default(),
        filter_since: req.since.map(|d| d.to_string()).unwrap_or_default(),
        complete: req.origin.is_none() && req.since.is_none(),
        keys: req.keys,
        tree_head: Some(sign_tree_head(
            req.key,
            req.exporter,
            req.size,
            root,
            req.now_ms,
        )),
        entries,
        witnessed_heads,
    }
    .encode_to_vec();
    let file = pb::AuditBundleFile {
        signature: signed(BUNDLE_CONTEXT, &bundle, req.key),
        key_id: KeyId::of(&req.key.verifying_key()).0.to_vec(),
        bundle,
    };
    Ok((file.encode_to_vec(), n, root))
}

/// The exporter's heads that partners cosigned, up to `size`: for each witness its largest
/// cosigned size, with every cosignature of that head and a consistency proof to `size`.
fn witnessed_heads(
    store: &Store,
    ids: &[RecordId],
    size: u64,
) -> Result<Vec<pb::WitnessedHead>, StoreError> {
    let witnesses = store.cosigning_witnesses()?;
    let mut sizes = vec![];
    for w in &witnesses {
        if let Some(s) = store.latest_cosigned(*w, size)?.filter(|s| *s >= 1) {
            sizes.push(s);
        }
    }
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        return Ok(vec![]);
    }
    let leaves: Vec<Hash> = ids.iter().map(record_leaf).collect();
    let mut out = vec![];
    for s in sizes {
        let Some(head) = store.own_head(s)? else {
            continue;
        };
        let proof = merkle::consistency_proof(usize::try_from(s).unwrap_or(usize::MAX), &leaves)
            .unwrap_or_default();
        let mut cosignatures = vec![];
        for w in &witnesses {
            cosignatures.extend(store.cosignature_received(*w, s)?);
        }
        out.push(pb::WitnessedHead {
            tree_head: Some(head),
            cosignatures,
            consistency_proof: proof.iter().map(|h| h.to_vec()).collect(),
        });
    }
    Ok(out)
}

/// A verification failure: which entry (if any) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{}{message}", entry.as_ref().map(|e| format!("{e}: ")).unwrap_or_default())]
pub struct AuditFailure {
    /// The entry concerned: "entry N (log position P, record ID)".
    pub entry: Option<String>,
    /// What failed.
    pub message: String,
}

fn fail(message: impl Into<String>) -> AuditFailure {
    AuditFailure {
        entry: None,
        message: message.into(),
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The exporting node.
    pub exporter: String,
    /// Tree size and root of its signed tree head.
    pub tree_size: u64,
    /// Root, hex.
    pub root: String,
    /// Whether the bundle covers every log position.
    pub complete: bool,
    /// Records whose signature and inclusion were verified.
    pub records: u64,
    /// Records by origin.
    pub by_origin: std::collections::BTreeMap<String, u64>,
    /// Whether every key was found in the auditor's trust file.
    pub keys_trusted: bool,
    /// Partners that cosigned a head of this log the bundle's tree extends: country → the
    /// largest cosigned tree size.
    pub witnessed_by: std::collections::BTreeMap<String, u64>,
    /// Things an auditor should know that are not failures.
    pub notes: Vec<String>,
}

/// The keys an auditor trusts, each with the country it is trusted for (None: any).
pub type TrustedKeys = HashMap<[u8; 32], Option<CountryCode>>;

/// Parses a trust file: one key per line, `[CC] HEX` (an optional ISO 3166-1 alpha-2 country
/// in capitals, then 64 hex digits), `#` starts a comment. A country binds the key to that
/// desk: a bundle that lists the key for another country fails. A key listed twice must name
/// the same country both times.
///
/// # Errors
/// The line number and what is wrong with it.
pub fn parse_trust(text: &str) -> Result<TrustedKeys, String> {
    let mut out = TrustedKeys::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |m: String| format!("line {}: {m}", n + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        let (country, key) = match words.as_slice() {
            [key] => (None, *key),
            [cc, key] => {
                if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(at(format!(
                        "country {cc:?} must be an ISO 3166-1 alpha-2 code in capitals (e.g. KR)"
                    )));
                }
                let c = CountryCode::parse(cc).map_err(|e| at(e.to_string()))?;
                (Some(c), *key)
            }
            _ => {
                return Err(at(
                    "must be an optional country code then one key (64 hex digits)".into(),
                ))
            }
        };
        let vk = crate::keys::parse_public_key(key).map_err(|e| at(e.to_string()))?;
        match out.insert(*vk.as_bytes(), country) {
            Some(prev) if prev != country => {
                return Err(at("the same key is listed for two countries".into()));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Verifies a bundle file offline. `trust`: public keys the auditor trusts; when given, every
/// key the bundle uses must be among them, for the country the trust file names. `progress`
/// is called with (done, total) while entries are checked.
///
/// # Errors
/// The first failure found, naming the entry.
pub fn verify(
    file: &[u8],
    trust: Option<&TrustedKeys>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AuditReport, AuditFailure> {
    let f: pb::AuditBundleFile = super::decode_canonical(file, "the bundle file")
        .map_err(|e| fail(format!("not a kdesk audit bundle: {e}")))?;
    let b: pb::AuditBundle =
        super::decode_canonical(&f.bundle, "the signed bundle").map_err(fail)?;
    if b.version != BUNDLE_VERSION {
        return Err(fail(format!(
            "bundle version {} is not supported",
            b.version
        )));
    }
    let exporter = b
        .exporter
        .as_ref()
        .ok_or_else(|| fail("bundle names no exporter"))?;
    let exporter = Origin::parse(&format!("{}/{}", exporter.country, exporter.node))
        .map_err(|e| fail(format!("exporter: {e}")))?;
    // Keys.
    let mut keys: HashMap<KeyId, (CountryCode, VerifyingKey)> = HashMap::new();
    let mut notes = vec![];
    let mut all_trusted = true;
    for (i, k) in b.keys.iter().enumerate() {
        let country =
            CountryCode::parse(&k.country).map_err(|e| fail(format!("keys[{i}].country: {e}")))?;
        let vk = crate::keys::parse_public_key(&hex::encode(&k.public_key))
            .map_err(|e| fail(format!("keys[{i}] ({country}): {e}")))?;
        if let Some(t) = trust {
            match t.get(vk.as_bytes()) {
                None => {
                    return Err(fail(format!(
                        "keys[{i}] ({country}, {}) is not in the trust file",
                        hex::encode(vk.as_bytes())
                    )))
                }
                Some(Some(trusted)) if *trusted != country => {
                    return Err(fail(format!(
                        "keys[{i}] ({}) is listed for {country}, but the trust file trusts it for {trusted}",
                        hex::encode(vk.as_bytes())
                    )))
                }
                Some(_) => {}
            }
        } else {
            all_trusted = false;
        }
        if k.revoked_at_ms > 0 {
            notes.push(format!(
                "{country} key {} was revoked by the exporter",
                &hex::encode(vk.as_bytes())[..16]
            ));
        }
        if keys.insert(KeyId::of(&vk), (country, vk)).is_some() {
            return Err(fail(format!("keys[{i}] is listed twice")));
        }
    }
    if trust.is_none() {
        notes.push("no trust file: keys were taken from the bundle itself".into());
    }
    let exporter_key = |key_id: &[u8], what: &str| -> Result<VerifyingKey, AuditFailure> {
        let kid = KeyId(
            <[u8; 32]>::try_from(key_id)
                .map_err(|_| fail(format!("{what}: key id is not 32 bytes")))?,
        );
        match keys.get(&kid) {
            Some((c, k)) if *c == exporter.country => Ok(*k),
            Some((c, _)) => Err(fail(format!(
                "{what}: signed with a {c} key, not the exporter's ({})",
                exporter.country
            ))),
            None => Err(fail(format!(
                "{what}: signed with a key the bundle does not carry"
            ))),
        }
    };
    let fk = exporter_key(&f.key_id, "bundle signature")?;
    if !check(BUNDLE_CONTEXT, &f.bundle, &f.signature, &fk) {
        return Err(fail(
            "bundle signature does not verify: the file was altered after export",
        ));
    }
    // Tree head.
    let sth = b
        .tree_head
        .as_ref()
        .ok_or_else(|| fail("bundle carries no tree head"))?;
    let hk = exporter_key(&sth.key_id, "tree head")?;
    if !check(TREE_HEAD_CONTEXT, &sth.head, &sth.signature, &hk) {
        return Err(fail("tree head signature does not verify"));
    }
    let head: pb::TreeHead = super::decode_canonical(&sth.head, "the tree head").map_err(fail)?;
    let ho = head
        .origin
        .as_ref()
        .map(|o| format!("{}/{}", o.country, o.node))
        .unwrap_or_default();
    if ho != exporter.to_string() {
        return Err(fail(format!(
            "tree head is {ho}'s, not the exporter's ({exporter})"
        )));
    }
    let root: Hash = head
        .root
        .as_slice()
        .try_into()
        .map_err(|_| fail("tree head root is not 32 bytes"))?;
    let witnessed_by = check_witnessed(&b, &exporter, &keys, head.size, &root, &exporter_key)?;
    if witnessed_by.is_empty() {
        notes.push(
            "no partner cosignature: that this log was never rewritten rests on the exporter's word"
                .into(),
        );
    }
    if b.complete && (b.entries.len() as u64 != head.size) {
        return Err(fail(format!(
            "bundle claims to be complete but holds {} entries for a log of {}: records were dropped or added",
            b.entries.len(),
            head.size
        )));
    }
    // Entries: order first (cheap), then signatures and proofs in parallel.
    let mut last: Option<u64> = None;
    for (i, e) in b.entries.iter().enumerate() {
        if e.position >= head.size {
            return Err(entry_fail(
                i,
                e,
                format!("position is beyond the tree size {}", head.size),
            ));
        }
        if last.is_some_and(|l| e.position <= l) {
            return Err(entry_fail(
                i,
                e,
                "entries are not in strictly increasing log order (reordered or duplicated)",
            ));
        }
        last = Some(e.position);
    }
    // Records signed with a key the exporter revoked for their time: valid signatures, but
    // not to be relied on (shown as key-revoked by the node).
    let revoked: HashMap<KeyId, (i64, bool)> = b
        .keys
        .iter()
        .filter(|k| k.revoked_at_ms > 0 || k.compromised)
        .filter_map(|k| {
            let id = <[u8; 32]>::try_from(k.public_key.as_slice())
                .ok()
                .and_then(|b| VerifyingKey::from_bytes(&b).ok())
                .map(|vk| KeyId::of(&vk))?;
            Some((id, (k.revoked_at_ms, k.compromised)))
        })
        .collect();
    if !revoked.is_empty() {
        let covered = b
            .entries
            .iter()
            .filter_map(|e| e.envelope.as_ref())
            .filter(|env| {
                <[u8; 32]>::try_from(env.key_id.as_slice())
                    .ok()
                    .and_then(|k| revoked.get(&KeyId(k)))
                    .is_some_and(|(from, compromised)| {
                        *compromised
                            || pb::RecordBody::decode(env.body.as_slice())
                                .is_ok_and(|body| body.created_at_ms >= *from)
                    })
            })
            .count();
        if covered > 0 {
            notes.push(format!(
                "{covered} record(s) are signed with a key the exporter revoked for their time \
                 (key-revoked): their signatures verify, but they are not to be relied on"
            ));
        }
    }
    if b.complete {
        for (i, e) in b.entries.iter().enumerate() {
            if e.position != i as u64 {
                return Err(entry_fail(
                    i,
                    e,
                    format!(
                        "position {} where {i} was expected: a record is missing",
                        e.position
                    ),
                ));
            }
        }
    }
    let total = b.entries.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let chunk = b.entries.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Verified>, AuditFailure>> = std::thread::scope(|s| {
        let handles: Vec<_> = b
            .entries
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                let (keys, done) = (&keys, &done);
                s.spawn(move || {
                    let mut out = vec![];
                    for (j, e) in part.iter().enumerate() {
                        let i = ci * chunk + j;
                        out.push(check_entry(i, e, keys, head.size, &root)?);
                        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if d % 1000 == 0 || d == total {
                            progress(d, total);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(fail("verification thread panicked")))
            })
            .collect()
    });
    let mut by_origin = std::collections::BTreeMap::new();
    let mut seen_ids = HashSet::new();
    let mut own_seqs = vec![];
    // Sequence numbers a restore declaration says were used before the restore and are not
    // reused: (after, floor) skips every number after `after` below `floor`.
    let mut declared_skips: Vec<(u64, u64, u64)> = vec![];
    for r in results {
        for (origin, seq, restore) in r? {
            *by_origin.entry(origin.to_string()).or_insert(0) += 1;
            if origin == exporter {
                own_seqs.push(seq);
                if let Some((after, floor)) = restore {
                    declared_skips.push((seq, after, floor));
                }
            }
            if !seen_ids.insert((origin.to_string(), seq)) {
                return Err(fail(format!("two entries carry {origin} seq {seq}")));
            }
        }
    }
    // The exporter's own records are all in its own log: in a complete bundle they must run
    // 1..n; in a filtered one they must at least be contiguous.
    own_seqs.sort_unstable();
    let first = if b.complete {
        1
    } else {
        own_seqs.first().copied().unwrap_or(1)
    };
    let mut expected = first;
    for s in &own_seqs {
        if *s != expected {
            // A gap is explained only by a restore declaration of the exporter that names it:
            // those numbers were used before the restore and could not be recovered.
            let explained = declared_skips
                .iter()
                .find(|(_, after, floor)| *after < expected && *s <= *floor);
            match explained {
                Some((decl, after, floor)) if *s > expected => {
                    notes.push(format!(
                        "restored from a backup (declaration seq {decl}): seq {expected}-{} are absent: signed before the restore and not recovered from partners, or skipped to be safe; the declaration covers {}-{} and its detail lists which",
                        s - 1,
                        after + 1,
                        floor - 1
                    ));
                }
                _ => {
                    return Err(fail(format!(
                        "the exporter's own records skip from seq {} to {s}: a record it signed is missing",
                        expected - 1
                    )))
                }
            }
        }
        expected = s.saturating_add(1);
    }
    for (decl, after, floor) in &declared_skips {
        notes.push(format!(
            "the exporter declared a restore from a backup at seq {decl} (backup's last seq {after}; numbers from {floor} on signed after it)"
        ));
    }
    if !b.complete {
        notes.push(format!(
            "filtered export (origin {:?}, since {:?}): only the included records are proven",
            b.filter_origin, b.filter_since
        ));
    }
    Ok(AuditReport {
        exporter: exporter.to_string(),
        tree_size: head.size,
        root: hex::encode(root),
        complete: b.complete,
        records: total,
        by_origin,
        keys_trusted: all_trusted && trust.is_some(),
        witnessed_by,
        notes,
    })
}

/// Finds the exporter's key by key id, naming `what` in the failure.
type KeyLookup<'a> = dyn Fn(&[u8], &str) -> Result<VerifyingKey, AuditFailure> + 'a;

/// Checks every witnessed head: the exporter's signature, a consistency proof to the bundle's
/// tree head, and each partner cosignature (`verify_strict` with the witness's key from the
/// bundle).
fn check_witnessed(
    b: &pb::AuditBundle,
    exporter: &Origin,
    keys: &HashMap<KeyId, (CountryCode, VerifyingKey)>,
    size: u64,
    root: &Hash,
    exporter_key: &KeyLookup<'_>,
) -> Result<std::collections::BTreeMap<String, u64>, AuditFailure> {
    let mut by = std::collections::BTreeMap::new();
    for (i, w) in b.witnessed_heads.iter().enumerate() {
        let what = format!("witnessed_heads[{i}]");
        let sth = w
            .tree_head
            .as_ref()
            .ok_or_else(|| fail(format!("{what}: carries no tree head")))?;
        let k = exporter_key(&sth.key_id, &what)?;
        if !check(TREE_HEAD_CONTEXT, &sth.head, &sth.signature, &k) {
            return Err(fail(format!("{what}: tree head signature does not verify")));
        }
        let h = super::witness::decode_head(&sth.head).map_err(|e| fail(format!("{what}: {e}")))?;
        if h.origin != *exporter {
            return Err(fail(format!(
                "{what}: tree head is {}'s, not the exporter's",
                h.origin
            )));
        }
        merkle::verify_consistency(h.size, size, &h.root, root, &w.consistency_proof).map_err(
            |e| {
                fail(format!(
                    "{what} (size {}): consistency proof to the bundle's tree head (size {size}): \
                     {e}: the log partners saw is not a prefix of this one",
                    h.size
                ))
            },
        )?;
        if w.cosignatures.is_empty() {
            return Err(fail(format!("{what}: carries no cosignature")));
        }
        for (j, c) in w.cosignatures.iter().enumerate() {
            let cw = format!("{what}.cosignatures[{j}]");
            let (country, vk) = super::witness::cosignature_key(c)
                .and_then(|kid| keys.get(&kid))
                .ok_or_else(|| {
                    fail(format!("{cw}: signed with a key the bundle does not carry"))
                })?;
            let co = super::witness::open_cosignature(c, vk)
                .map_err(|e| fail(format!("{cw} ({country}): {e}")))?;
            if co.witness.country != *country {
                return Err(fail(format!(
                    "{cw}: names witness {} but is signed with a {country} key",
                    co.witness
                )));
            }
            if co.witness.country == exporter.country {
                return Err(fail(format!(
                    "{cw}: the exporter cannot witness its own log"
                )));
            }
            if co.tree_head != sth.head {
                return Err(fail(format!("{cw}: cosigns another tree head")));
            }
            let e = by.entry(country.to_string()).or_insert(h.size);
            *e = (*e).max(h.size);
        }
    }
    Ok(by)
}

fn entry_fail(i: usize, e: &pb::BundleEntry, message: impl Into<String>) -> AuditFailure {
    let id = e
        .envelope
        .as_ref()
        .map(|env| RecordId::of_body(&env.body).to_hex())
        .unwrap_or_else(|| "(no envelope)".into());
    AuditFailure {
        entry: Some(format!(
            "entry {i} (log position {}, record {id})",
            e.position
        )),
        message: message.into(),
    }
}

fn check_entry(
    i: usize,
    e: &pb::BundleEntry,
    keys: &HashMap<KeyId, (CountryCode, VerifyingKey)>,
    size: u64,
    root: &Hash,
) -> Result<Verified, AuditFailure> {
    let env = e
        .envelope
        .as_ref()
        .ok_or_else(|| entry_fail(i, e, "entry has no record"))?;
    let mut key_country = None;
    let signed = verify_envelope(env, |kid| {
        keys.get(kid).map(|(c, k)| {
            key_country = Some(*c);
            *k
        })
    })
    .map_err(|err| entry_fail(i, e, format!("record signature: {err}")))?;
    if key_country != Some(signed.record.origin.country) {
        return Err(entry_fail(
            i,
            e,
            format!(
                "record claims origin {} but is signed with another country's key",
                signed.record.origin
            ),
        ));
    }
    merkle::verify_inclusion(
        e.position,
        size,
        &record_leaf(&signed.id),
        &e.inclusion_proof,
        root,
    )
    .map_err(|err| entry_fail(i, e, format!("inclusion proof: {err}")))?;
    let restore = match &signed.record.kind {
        crate::record::RecordKind::RestoreDeclaration(d) => Some((d.backup_last_seq, d.seq_floor)),
        _ => None,
    };
    Ok((signed.record.origin, signed.record.seq, restore))
}

/// A verified entry: origin, seq, and for a restore declaration the sequence numbers it
/// declares skipped (backup's last seq, floor).
type Verified = (Origin, u64, Option<(u64, u64)>);
