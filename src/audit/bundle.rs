//! Signed tree heads and audit bundles: export from a node's store, verification offline.
//!
//! The format and the verification procedure are specified in `docs/AUDIT.md`.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use prost::Message;
use serde::Serialize;

use sha2::{Digest, Sha256};

use super::merkle::{self, leaf_hash, Hash};
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
/// Bundle format version written: 2, streamed (`docs/AUDIT.md`).
pub const BUNDLE_VERSION: u32 = 2;
/// The earlier format, one signed message (still verified).
pub const BUNDLE_VERSION_1: u32 = 1;

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

/// What an export wrote.
#[derive(Debug, Clone, Copy)]
pub struct Exported {
    /// Entries (records) written.
    pub records: u64,
    /// Root of the tree head the bundle carries.
    pub root: Hash,
    /// Bytes written.
    pub bytes: u64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the bundle failed.
    #[error("writing the bundle: {0}")]
    Io(#[from] std::io::Error),
}

/// The first bytes of a version 2 (streamed) bundle file.
pub const STREAM_MAGIC: &[u8] = b"kdesk-audit-bundle v2\n";
/// Context of the trailer signature of a version 2 bundle file.
pub const STREAM_CONTEXT: &[u8] = b"kdesk/v1/audit-bundle-stream\x00";
/// Largest frame a verifier reads (a header with many keys and witnessed heads; a record is
/// far smaller).
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// Counts and hashes what passes through to the file.
struct HashingWriter<W: std::io::Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: std::io::Write> HashingWriter<W> {
    fn frame(&mut self, frame: pb::bundle_frame::Frame) -> std::io::Result<()> {
        let body = pb::BundleFrame { frame: Some(frame) }.encode_to_vec();
        let mut len = Vec::with_capacity(10);
        prost::encode_length_delimiter(body.len(), &mut len).map_err(std::io::Error::other)?;
        self.put(&len)?;
        self.put(&body)
    }

    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hasher.update(b);
        self.bytes += b.len() as u64;
        self.inner.write_all(b)
    }
}

/// Streams a signed bundle file (version 2, `docs/AUDIT.md`) of `log`'s first `req.size`
/// entries to `out`, one record at a time: memory does not grow with the log. A complete
/// bundle carries no inclusion proofs (the auditor rebuilds the tree from the entries); a
/// filtered one carries one per entry.
///
/// # Errors
/// Storage or write failure. The caller removes what was written.
pub fn export_to(
    store: &Store,
    log: &super::log::Log,
    req: ExportRequest<'_>,
    out: impl std::io::Write,
) -> Result<Exported, ExportError> {
    let size = req.size;
    let usize_of = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let root = log
        .with_tree(size, |t, _| t.root(usize_of(size)))?
        .unwrap_or_else(merkle::empty_root);
    let since_ms = req.since.map(|d| {
        let days = Date::parse("1970-01-01")
            .map(|e| e.days_until(&d))
            .unwrap_or(0);
        days * 86_400_000
    });
    let complete = req.origin.is_none() && req.since.is_none();
    let header = pb::AuditBundle {
        version: BUNDLE_VERSION,
        exporter: Some(pb::Origin {
            country: req.exporter.country.to_string(),
            node: req.exporter.node.to_string(),
        }),
        exported_at_ms: req.now_ms,
        filter_origin: req.origin.map(|c| c.to_string()).unwrap_or_default(),
        filter_since: req.since.map(|d| d.to_string()).unwrap_or_default(),
        complete,
        keys: req.keys,
        tree_head: Some(sign_tree_head(
            req.key,
            req.exporter,
            size,
            root,
            req.now_ms,
        )),
        entries: vec![],
        witnessed_heads: witnessed_heads(store, log, size)?,
    };
    let mut w = HashingWriter {
        inner: out,
        hasher: Sha256::new(),
        bytes: 0,
    };
    w.put(STREAM_MAGIC)?;
    w.frame(pb::bundle_frame::Frame::Header(header))?;
    let mut n = 0u64;
    for item in store.log_range(0, size) {
        let (pos, id) = item?;
        let env = store
            .get_envelope(&id)?
            .ok_or_else(|| StoreError::Corrupt(format!("log points to missing record {id}")))?;
        if !complete {
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
        let inclusion_proof = if complete {
            vec![]
        } else {
            log.with_tree(size, |t, _| {
                t.inclusion_proof(usize_of(pos), usize_of(size))
                    .unwrap_or_default()
            })?
            .iter()
            .map(|h| h.to_vec())
            .collect()
        };
        w.frame(pb::bundle_frame::Frame::Entry(pb::BundleEntry {
            position: pos,
            envelope: Some(env),
            inclusion_proof,
        }))?;
        n += 1;
        if n % TRIM_EVERY == 0 {
            // Reading every record leaves the database's freed pages with the allocator.
            crate::store::release_freed_memory();
        }
    }
    if n == 0 && complete && size > 0 {
        return Err(StoreError::Corrupt(format!("log of {size} entries yielded none")).into());
    }
    let digest: [u8; 32] = w.hasher.clone().finalize().into();
    w.frame(pb::bundle_frame::Frame::Trailer(pb::BundleTrailer {
        entries: n,
        digest: digest.to_vec(),
        signature: signed(STREAM_CONTEXT, &digest, req.key),
        key_id: KeyId::of(&req.key.verifying_key()).0.to_vec(),
    }))?;
    w.inner.flush()?;
    Ok(Exported {
        records: n,
        root,
        bytes: w.bytes,
    })
}

/// Writes `b` (a bundle with its entries, as [`read_unverified`] returns it) as a version 2
/// file signed with `key`: for tools and tests that rewrite a bundle. Exports stream with
/// [`export_to`] instead.
pub fn encode_signed(b: &pb::AuditBundle, key: &SigningKey) -> Vec<u8> {
    let mut header = b.clone();
    let entries = std::mem::take(&mut header.entries);
    let mut w = HashingWriter {
        inner: Vec::new(),
        hasher: Sha256::new(),
        bytes: 0,
    };
    // Writing to memory cannot fail.
    let _ = w.put(STREAM_MAGIC);
    let _ = w.frame(pb::bundle_frame::Frame::Header(header));
    let n = entries.len() as u64;
    for e in entries {
        let _ = w.frame(pb::bundle_frame::Frame::Entry(e));
    }
    let digest: [u8; 32] = w.hasher.clone().finalize().into();
    let _ = w.frame(pb::bundle_frame::Frame::Trailer(pb::BundleTrailer {
        entries: n,
        digest: digest.to_vec(),
        signature: signed(STREAM_CONTEXT, &digest, key),
        key_id: KeyId::of(&key.verifying_key()).0.to_vec(),
    }));
    w.inner
}

/// Reads a version 2 bundle file into one message holding its header and entries, checking
/// its framing only (no signature, proof or order): to inspect a bundle. Verify it before
/// relying on anything it says.
///
/// # Errors
/// Not a version 2 bundle file, or its framing is broken.
pub fn read_unverified(file: &[u8]) -> Result<pb::AuditBundle, AuditFailure> {
    let rest = file
        .strip_prefix(STREAM_MAGIC)
        .ok_or_else(|| fail("not a version 2 kdesk audit bundle (its first line differs)"))?;
    let mut frames = FrameReader {
        r: rest,
        hasher: Sha256::new(),
        index: 0,
        buf: Vec::new(),
    };
    let mut bundle = None;
    while let Some((f, _)) = frames.next()? {
        match (f, bundle.as_mut()) {
            (pb::bundle_frame::Frame::Header(h), None) => bundle = Some(h),
            (pb::bundle_frame::Frame::Entry(e), Some(b)) => b.entries.push(e),
            (pb::bundle_frame::Frame::Trailer(_), Some(_)) => {}
            _ => return Err(fail("frames out of order: header, entries, trailer")),
        }
    }
    bundle.ok_or_else(|| fail("no header"))
}

/// Records exported between two returns of freed memory to the system.
const TRIM_EVERY: u64 = 16_384;

/// The exporter's heads that partners cosigned, up to `size`: for each witness its largest
/// cosigned size, with every cosignature of that head and a consistency proof to `size`.
fn witnessed_heads(
    store: &Store,
    log: &super::log::Log,
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
    let mut out = vec![];
    for s in sizes {
        let Some(head) = store.own_head(s)? else {
            continue;
        };
        let proof = log
            .with_tree(size, |t, _| {
                t.consistency_proof(
                    usize::try_from(s).unwrap_or(usize::MAX),
                    usize::try_from(size).unwrap_or(usize::MAX),
                )
            })?
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

/// Verifies a bundle file held in memory (either version); see [`verify_reader`].
///
/// # Errors
/// The first failure found, naming the entry.
pub fn verify(
    file: &[u8],
    trust: Option<&TrustedKeys>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AuditReport, AuditFailure> {
    verify_reader(file, trust, progress)
}

/// Verifies a bundle file offline, read as a stream: a version 2 file in memory that does not
/// grow with the log (entries are checked a chunk at a time, on every core), a version 1 file
/// whole. `trust`: public keys the auditor trusts; when given, every key the bundle uses must
/// be among them, for the country the trust file names. `progress` is called with (done,
/// total) while entries are checked (total 0 when not known in advance).
///
/// # Errors
/// The first failure found, naming the entry.
pub fn verify_reader(
    mut r: impl std::io::Read,
    trust: Option<&TrustedKeys>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AuditReport, AuditFailure> {
    let read_err = |e: std::io::Error| fail(format!("reading the bundle: {e}"));
    let mut start = vec![0u8; STREAM_MAGIC.len()];
    let mut got = 0;
    while got < start.len() {
        match r.read(&mut start[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    }
    start.truncate(got);
    if start != STREAM_MAGIC {
        let mut file = start;
        r.read_to_end(&mut file).map_err(read_err)?;
        return verify_v1(&file, trust, progress);
    }
    let mut frames = FrameReader {
        r,
        hasher: Sha256::new(),
        index: 0,
        buf: Vec::new(),
    };
    frames.hasher.update(STREAM_MAGIC);
    let b = match frames.next()? {
        Some((pb::bundle_frame::Frame::Header(h), _)) => h,
        Some(_) => return Err(fail("frame 0: the first frame must be the header")),
        None => return Err(fail("the file ends after its first line: no header")),
    };
    if b.version != BUNDLE_VERSION {
        return Err(fail(format!(
            "bundle version {} in a version {BUNDLE_VERSION} file",
            b.version
        )));
    }
    if !b.entries.is_empty() {
        return Err(fail(
            "the header carries entries: a version 2 file carries them in frames of their own",
        ));
    }
    let h = check_header(&b, trust)?;
    let total = if h.complete { h.size } else { 0 };
    let mut entries = Entries::new(!h.complete);
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let Some((frame, digest)) = frames.next()? else {
            return Err(fail(
                "the file ends before its trailer: it was cut short (truncated or still being written)",
            ));
        };
        match frame {
            pb::bundle_frame::Frame::Entry(e) => {
                chunk.push(e);
                if chunk.len() == CHUNK {
                    entries.check(&h, &chunk, progress, total)?;
                    chunk.clear();
                }
            }
            pb::bundle_frame::Frame::Header(_) => {
                return Err(fail(format!("frame {}: a second header", frames.index - 1)))
            }
            pb::bundle_frame::Frame::Trailer(t) => {
                entries.check(&h, &chunk, progress, total)?;
                if t.entries != entries.count {
                    return Err(fail(format!(
                        "the trailer counts {} entries, the file holds {}",
                        t.entries, entries.count
                    )));
                }
                if t.digest != digest {
                    return Err(fail(
                        "the trailer's digest is not the file's: the file was altered after export",
                    ));
                }
                let k = h.exporter_key(&t.key_id, "bundle signature")?;
                if !check(STREAM_CONTEXT, &digest, &t.signature, &k) {
                    return Err(fail(
                        "bundle signature does not verify: the file was altered after export",
                    ));
                }
                if frames.at_end()? {
                    break;
                }
                return Err(fail("bytes follow the trailer: something was appended"));
            }
        }
    }
    entries.finish(h)
}

/// Entries checked at a time (on every core) while streaming.
const CHUNK: usize = 8192;

/// Reads the length-prefixed frames of a version 2 file, hashing every byte.
struct FrameReader<R: std::io::Read> {
    r: R,
    hasher: Sha256,
    index: u64,
    buf: Vec<u8>,
}

impl<R: std::io::Read> FrameReader<R> {
    /// The next frame and the digest of every byte before it; `None` at the end of the file.
    fn next(&mut self) -> Result<Option<(pb::bundle_frame::Frame, Vec<u8>)>, AuditFailure> {
        let i = self.index;
        let at = |m: String| fail(format!("frame {i}: {m}"));
        let digest = self.hasher.clone().finalize().to_vec();
        // The length: a minimal varint of at most 10 bytes.
        let mut len_bytes = Vec::with_capacity(10);
        loop {
            let mut b = [0u8; 1];
            match self.r.read(&mut b) {
                Ok(0) if len_bytes.is_empty() => return Ok(None),
                Ok(0) => return Err(at("the file ends inside a frame length".into())),
                Ok(_) => {
                    len_bytes.push(b[0]);
                    if b[0] & 0x80 == 0 {
                        break;
                    }
                    if len_bytes.len() == 10 {
                        return Err(at("frame length is not a varint".into()));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(at(format!("reading: {e}"))),
            }
        }
        let len = prost::decode_length_delimiter(len_bytes.as_slice())
            .map_err(|e| at(format!("frame length: {e}")))?;
        if prost::length_delimiter_len(len) != len_bytes.len() {
            return Err(at("frame length is not minimally encoded".into()));
        }
        if len > MAX_FRAME_BYTES {
            return Err(at(format!(
                "frame of {len} bytes is larger than the {MAX_FRAME_BYTES} a bundle may hold"
            )));
        }
        self.buf.resize(len, 0);
        self.r.read_exact(&mut self.buf).map_err(|e| {
            at(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "the file ends inside the frame: it was cut short".into()
            } else {
                format!("reading: {e}")
            })
        })?;
        self.hasher.update(&len_bytes);
        self.hasher.update(&self.buf);
        let f: pb::BundleFrame = super::decode_canonical(&self.buf, "the frame").map_err(at)?;
        self.index += 1;
        let frame = f.frame.ok_or_else(|| at("empty frame".into()))?;
        Ok(Some((frame, digest)))
    }

    /// Whether the file has ended.
    fn at_end(&mut self) -> Result<bool, AuditFailure> {
        let mut b = [0u8; 1];
        loop {
            match self.r.read(&mut b) {
                Ok(0) => return Ok(true),
                Ok(_) => return Ok(false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(format!("reading the bundle: {e}"))),
            }
        }
    }
}

/// A version 1 file: one signed `AuditBundle` holding every entry.
fn verify_v1(
    file: &[u8],
    trust: Option<&TrustedKeys>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AuditReport, AuditFailure> {
    let f: pb::AuditBundleFile = super::decode_canonical(file, "the bundle file")
        .map_err(|e| fail(format!("not a kdesk audit bundle: {e}")))?;
    let b: pb::AuditBundle =
        super::decode_canonical(&f.bundle, "the signed bundle").map_err(fail)?;
    if b.version != BUNDLE_VERSION_1 {
        return Err(fail(format!(
            "bundle version {} is not supported",
            b.version
        )));
    }
    let h = check_header(&b, trust)?;
    let fk = h.exporter_key(&f.key_id, "bundle signature")?;
    if !check(BUNDLE_CONTEXT, &f.bundle, &f.signature, &fk) {
        return Err(fail(
            "bundle signature does not verify: the file was altered after export",
        ));
    }
    if b.complete && (b.entries.len() as u64 != h.size) {
        return Err(fail(format!(
            "bundle claims to be complete but holds {} entries for a log of {}: records were dropped or added",
            b.entries.len(),
            h.size
        )));
    }
    // Version 1 entries carry inclusion proofs, complete bundles too.
    let mut entries = Entries::new(true);
    entries.check(&h, &b.entries, progress, b.entries.len() as u64)?;
    entries.finish(h)
}

/// What the header established: the exporter, the keys, the tree head and its witnesses.
struct Header {
    exporter: Origin,
    keys: HashMap<KeyId, (CountryCode, VerifyingKey)>,
    /// Keys revoked for records from a time (or compromised: any time).
    revoked: HashMap<KeyId, (i64, bool)>,
    size: u64,
    root: Hash,
    complete: bool,
    filter_origin: String,
    filter_since: String,
    keys_trusted: bool,
    witnessed_by: std::collections::BTreeMap<String, u64>,
    notes: Vec<String>,
}

impl Header {
    /// The exporter's key named by `key_id`, naming `what` in the failure.
    fn exporter_key(&self, key_id: &[u8], what: &str) -> Result<VerifyingKey, AuditFailure> {
        exporter_key(&self.keys, &self.exporter, key_id, what)
    }
}

fn exporter_key(
    keys: &HashMap<KeyId, (CountryCode, VerifyingKey)>,
    exporter: &Origin,
    key_id: &[u8],
    what: &str,
) -> Result<VerifyingKey, AuditFailure> {
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
}

/// Steps 2, 3, 5 and 5a of the procedure: exporter, keys, tree head, witnessed heads.
fn check_header(b: &pb::AuditBundle, trust: Option<&TrustedKeys>) -> Result<Header, AuditFailure> {
    let exporter = b
        .exporter
        .as_ref()
        .ok_or_else(|| fail("bundle names no exporter"))?;
    let exporter = Origin::parse(&format!("{}/{}", exporter.country, exporter.node))
        .map_err(|e| fail(format!("exporter: {e}")))?;
    // Keys.
    let mut keys: HashMap<KeyId, (CountryCode, VerifyingKey)> = HashMap::new();
    let mut revoked = HashMap::new();
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
        if k.revoked_at_ms > 0 || k.compromised {
            revoked.insert(KeyId::of(&vk), (k.revoked_at_ms, k.compromised));
        }
        if keys.insert(KeyId::of(&vk), (country, vk)).is_some() {
            return Err(fail(format!("keys[{i}] is listed twice")));
        }
    }
    if trust.is_none() {
        notes.push("no trust file: keys were taken from the bundle itself".into());
    }
    let lookup = |key_id: &[u8], what: &str| exporter_key(&keys, &exporter, key_id, what);
    // Tree head.
    let sth = b
        .tree_head
        .as_ref()
        .ok_or_else(|| fail("bundle carries no tree head"))?;
    let hk = lookup(&sth.key_id, "tree head")?;
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
    let witnessed_by = check_witnessed(b, &exporter, &keys, head.size, &root, &lookup)?;
    if witnessed_by.is_empty() {
        notes.push(
            "no partner cosignature: that this log was never rewritten rests on the exporter's word"
                .into(),
        );
    }
    Ok(Header {
        exporter,
        keys,
        revoked,
        size: head.size,
        root,
        complete: b.complete,
        filter_origin: b.filter_origin.clone(),
        filter_since: b.filter_since.clone(),
        keys_trusted: all_trusted && trust.is_some(),
        witnessed_by,
        notes,
    })
}

/// Steps 6 to 9 over the entries, fed a chunk at a time in file order.
struct Entries {
    /// Entries carry inclusion proofs (else: none, and the root is rebuilt from them).
    proofs: bool,
    count: u64,
    last: Option<u64>,
    rebuilt: merkle::RootBuilder,
    by_origin: std::collections::BTreeMap<String, u64>,
    origins: HashMap<Origin, u32>,
    seen: HashSet<(u32, u64)>,
    own_seqs: Vec<u64>,
    /// Sequence numbers a restore declaration says were used before the restore and are not
    /// reused: (declaration seq, after, floor) skips every number after `after` below `floor`.
    declared_skips: Vec<(u64, u64, u64)>,
    /// Records signed with a key the exporter revoked for their time.
    revoked_covered: u64,
}

impl Entries {
    fn new(proofs: bool) -> Self {
        Self {
            proofs,
            count: 0,
            last: None,
            rebuilt: merkle::RootBuilder::new(),
            by_origin: std::collections::BTreeMap::new(),
            origins: HashMap::new(),
            seen: HashSet::new(),
            own_seqs: Vec::new(),
            declared_skips: Vec::new(),
            revoked_covered: 0,
        }
    }

    fn check(
        &mut self,
        h: &Header,
        chunk: &[pb::BundleEntry],
        progress: &(dyn Fn(u64, u64) + Sync),
        total: u64,
    ) -> Result<(), AuditFailure> {
        let base = self.count;
        // Order first (cheap), then signatures and proofs on every core.
        for (j, e) in chunk.iter().enumerate() {
            let i = usize::try_from(base)
                .unwrap_or(usize::MAX)
                .saturating_add(j);
            if e.position >= h.size {
                return Err(entry_fail(
                    i,
                    e,
                    format!("position is beyond the tree size {}", h.size),
                ));
            }
            if self.last.is_some_and(|l| e.position <= l) {
                return Err(entry_fail(
                    i,
                    e,
                    "entries are not in strictly increasing log order (reordered or duplicated)",
                ));
            }
            if h.complete && e.position != i as u64 {
                return Err(entry_fail(
                    i,
                    e,
                    format!(
                        "position {} where {i} was expected: a record is missing, or entries \
                         are reordered or duplicated",
                        e.position
                    ),
                ));
            }
            if !self.proofs && !e.inclusion_proof.is_empty() {
                return Err(entry_fail(
                    i,
                    e,
                    "an entry of a complete version 2 bundle carries an inclusion proof (the tree is rebuilt from the entries)",
                ));
            }
            self.last = Some(e.position);
        }
        let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
        let part = chunk.len().div_ceil(threads).max(1);
        let done = std::sync::atomic::AtomicU64::new(base);
        let results: Vec<Result<Vec<Verified>, AuditFailure>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .chunks(part)
                .enumerate()
                .map(|(pi, entries)| {
                    let done = &done;
                    let proofs = self.proofs;
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(entries.len());
                        for (j, e) in entries.iter().enumerate() {
                            let i = usize::try_from(base).unwrap_or(usize::MAX) + pi * part + j;
                            out.push(check_entry(i, e, h, proofs)?);
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
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(fail("verification thread panicked")))
                })
                .collect()
        });
        for r in results {
            for v in r? {
                if !self.proofs {
                    self.rebuilt.push(v.leaf);
                }
                if v.revoked {
                    self.revoked_covered += 1;
                }
                let next = u32::try_from(self.origins.len()).unwrap_or(u32::MAX);
                let o = *self.origins.entry(v.origin.clone()).or_insert(next);
                if !self.seen.insert((o, v.seq)) {
                    return Err(fail(format!(
                        "two entries carry {} seq {}",
                        v.origin, v.seq
                    )));
                }
                if v.origin == h.exporter {
                    self.own_seqs.push(v.seq);
                    if let Some((after, floor)) = v.restore {
                        self.declared_skips.push((v.seq, after, floor));
                    }
                }
                *self.by_origin.entry(v.origin.to_string()).or_insert(0) += 1;
            }
        }
        self.count += chunk.len() as u64;
        Ok(())
    }

    fn finish(mut self, h: Header) -> Result<AuditReport, AuditFailure> {
        let mut notes = h.notes;
        if h.complete && self.count != h.size {
            return Err(fail(format!(
                "bundle claims to be complete but holds {} entries for a log of {}: records were dropped or added",
                self.count, h.size
            )));
        }
        if !self.proofs && self.rebuilt.root() != h.root {
            return Err(fail(format!(
                "the tree rebuilt from the entries has root {}, the tree head says {}: the entries are not the log the exporter signed",
                hex::encode(self.rebuilt.root()),
                hex::encode(h.root)
            )));
        }
        if self.revoked_covered > 0 {
            notes.push(format!(
                "{} record(s) are signed with a key the exporter revoked for their time \
                 (key-revoked): their signatures verify, but they are not to be relied on",
                self.revoked_covered
            ));
        }
        // The exporter's own records are all in its own log: in a complete bundle they must
        // run 1..n; in a filtered one they must at least be contiguous.
        self.own_seqs.sort_unstable();
        let first = if h.complete {
            1
        } else {
            self.own_seqs.first().copied().unwrap_or(1)
        };
        let mut expected = first;
        for s in &self.own_seqs {
            if *s != expected {
                // A gap is explained only by a restore declaration of the exporter that names
                // it: those numbers were used before the restore and could not be recovered.
                let explained = self
                    .declared_skips
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
        for (decl, after, floor) in &self.declared_skips {
            notes.push(format!(
                "the exporter declared a restore from a backup at seq {decl} (backup's last seq {after}; numbers from {floor} on signed after it)"
            ));
        }
        if !h.complete {
            notes.push(format!(
                "filtered export (origin {:?}, since {:?}): only the included records are proven",
                h.filter_origin, h.filter_since
            ));
        }
        Ok(AuditReport {
            exporter: h.exporter.to_string(),
            tree_size: h.size,
            root: hex::encode(h.root),
            complete: h.complete,
            records: self.count,
            by_origin: self.by_origin,
            keys_trusted: h.keys_trusted,
            witnessed_by: h.witnessed_by,
            notes,
        })
    }
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
    h: &Header,
    proofs: bool,
) -> Result<Verified, AuditFailure> {
    let env = e
        .envelope
        .as_ref()
        .ok_or_else(|| entry_fail(i, e, "entry has no record"))?;
    let mut key_country = None;
    let signed = verify_envelope(env, |kid| {
        h.keys.get(kid).map(|(c, k)| {
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
    let leaf = record_leaf(&signed.id);
    if proofs {
        merkle::verify_inclusion(e.position, h.size, &leaf, &e.inclusion_proof, &h.root)
            .map_err(|err| entry_fail(i, e, format!("inclusion proof: {err}")))?;
    }
    let restore = match &signed.record.kind {
        crate::record::RecordKind::RestoreDeclaration(d) => Some((d.backup_last_seq, d.seq_floor)),
        _ => None,
    };
    let revoked = <[u8; 32]>::try_from(env.key_id.as_slice())
        .ok()
        .and_then(|k| h.revoked.get(&KeyId(k)))
        .is_some_and(|(from, compromised)| *compromised || signed.record.created_at_ms >= *from);
    Ok(Verified {
        origin: signed.record.origin,
        seq: signed.record.seq,
        restore,
        leaf,
        revoked,
    })
}

/// A verified entry.
struct Verified {
    origin: Origin,
    seq: u64,
    /// For a restore declaration: the sequence numbers it declares skipped (backup's last
    /// seq, floor).
    restore: Option<(u64, u64)>,
    leaf: Hash,
    /// Signed with a key the exporter revoked for the record's time.
    revoked: bool,
}
