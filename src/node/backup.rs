//! Backups taken while the node serves, and restores that never equivocate.
//!
//! A backup file is one consistent cut of the database (every tree, taken while record
//! writes wait) plus the files a node needs to be itself again (configuration, signing keys,
//! exchange certificate and key), signed by the node's signing key. It holds private keys:
//! it is written 0600 and must be kept like the keys themselves.
//!
//! Layout: the magic line `KDESK-BACKUP 1\n`, then sections `tag (1) ‖ length (4, BE) ‖
//! bytes`: a header (JSON, [`BackupHeader`]), files (`path length (2) ‖ path ‖ mode (4) ‖
//! content`), trees (name) each followed by its entries (`key length (4) ‖ key ‖ value`), and
//! last the signature (tag 0xFF): Ed25519 over `"kdesk backup file v1\0" ‖ SHA-256 of every
//! byte before the signature section`. A restore refuses a file whose signature does not
//! verify with the key the admin names (`--expect-key`).
//!
//! A restored node signs nothing until it has asked every registered partner for the newest
//! sequence number and tree head they saw from it and for its own records they hold (see
//! [`recover`]); it then declares the restore in a signed record.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Node;
use crate::config::Config;
use crate::keys;
use crate::record::{now_ms, KeyId};
use crate::store::{Store, StoreError};

/// First bytes of a backup file.
pub const MAGIC: &[u8] = b"KDESK-BACKUP 1\n";
const SIGN_CONTEXT: &[u8] = b"kdesk backup file v1\0";
const T_HEADER: u8 = 1;
const T_FILE: u8 = 2;
const T_TREE: u8 = 3;
const T_ENTRY: u8 = 4;
const T_SIGNATURE: u8 = 0xFF;
/// Fewest hex digits of the expected key id a restore accepts (64 bits: no key search
/// reaches them).
pub const MIN_EXPECT_HEX: usize = 16;

/// Largest section accepted when reading (a value or a file).
const MAX_SECTION: u32 = 256 << 20;

/// What a backup says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackupHeader {
    /// The node, `CC/name`.
    pub origin: String,
    /// When it was taken (ms since the epoch).
    pub created_at_ms: i64,
    /// The signing key in force then (hex), which signs the file.
    pub public_key: String,
    /// Its key id (hex).
    pub key_id: String,
    /// Length of the node's log at the cut.
    pub log_size: u64,
    /// The node's highest own sequence number at the cut.
    pub last_seq: u64,
}

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Keys.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The file is not a valid backup, or not the expected one.
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

struct Sections<W: Write> {
    out: W,
    hash: Sha256,
}

impl<W: Write> Sections<W> {
    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hash.update(b);
        self.out.write_all(b)
    }
    fn section(&mut self, tag: u8, parts: &[&[u8]]) -> std::io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len).map_err(|_| std::io::Error::other("a section over 4 GiB"))?;
        self.raw(&[tag])?;
        self.raw(&len.to_be_bytes())?;
        for p in parts {
            self.raw(p)?;
        }
        Ok(())
    }
}

/// The files of a node worth keeping, relative to its data directory.
fn node_files(config: &Config) -> Vec<PathBuf> {
    let mut out = vec![config.data_dir.join(crate::config::CONFIG_FILE)];
    out.push(config.signing_key.clone());
    out.push(config.public_key.clone());
    if let Some(dir) = config.signing_key.parent().map(|d| d.join("retired")) {
        if let Ok(rd) = fs::read_dir(&dir) {
            let mut v: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
            v.sort();
            out.extend(v);
        }
    }
    if let Some(ex) = &config.exchange {
        out.extend([
            ex.cert.clone(),
            ex.key.clone(),
            ex.ca.clone(),
            ex.crl.clone(),
        ]);
    }
    out.into_iter().filter(|p| p.is_file()).collect()
}

impl Node {
    /// Writes a signed backup to `path` (created 0600; it must not exist). Record writes wait
    /// while the database is copied; reads go on.
    ///
    /// # Errors
    /// Files, storage.
    pub fn write_backup(&self, path: &Path) -> Result<BackupHeader, BackupError> {
        let key = self.key.current();
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io(path))?;
        let w = Sections {
            out: BufWriter::with_capacity(1 << 20, f),
            hash: Sha256::new(),
        };
        let origin = self.origin().clone();
        let w = std::cell::RefCell::new(w);
        let header = std::cell::RefCell::new(None);
        let mut current: Vec<u8> = Vec::new();
        let mut started = false;
        // The header and the files are written once record writes wait: the header describes
        // exactly the database that follows.
        let start = || -> std::io::Result<()> {
            let other = |e: StoreError| std::io::Error::other(e.to_string());
            let h = BackupHeader {
                origin: origin.to_string(),
                created_at_ms: now_ms(),
                public_key: hex::encode(key.verifying_key().as_bytes()),
                key_id: KeyId::of(&key.verifying_key()).to_hex(),
                log_size: self.store.log_len().map_err(other)?,
                last_seq: self.store.last_seq(&origin).map_err(other)?,
            };
            let json = serde_json::to_vec(&h).map_err(std::io::Error::other)?;
            let mut w = w.borrow_mut();
            w.raw(MAGIC)?;
            w.section(T_HEADER, &[&json])?;
            for file in node_files(&self.config) {
                let Ok(rel) = file.strip_prefix(&self.config.data_dir) else {
                    tracing::warn!(file = %file.display(), "outside the data directory: not in the backup");
                    continue;
                };
                let rel = rel.to_string_lossy().into_owned();
                let content = fs::read(&file)?;
                let mode = fs::metadata(&file)?.permissions().mode() & 0o777;
                let plen = u16::try_from(rel.len())
                    .map_err(|_| std::io::Error::other(format!("{rel}: path too long")))?;
                w.section(
                    T_FILE,
                    &[
                        &plen.to_be_bytes(),
                        rel.as_bytes(),
                        &mode.to_be_bytes(),
                        &content,
                    ],
                )?;
            }
            *header.borrow_mut() = Some(h);
            Ok(())
        };
        self.store.snapshot(start, |tree, k, v| {
            let mut w = w.borrow_mut();
            if !started || tree != current.as_slice() {
                w.section(T_TREE, &[tree])?;
                current = tree.to_vec();
                started = true;
            }
            let klen = u32::try_from(k.len()).map_err(std::io::Error::other)?;
            w.section(T_ENTRY, &[&klen.to_be_bytes(), k, v])
        })?;
        let header = header
            .into_inner()
            .ok_or_else(|| BackupError::Invalid("no header was written".into()))?;
        let w = w.into_inner();
        let digest = w.hash.clone().finalize();
        let mut msg = SIGN_CONTEXT.to_vec();
        msg.extend_from_slice(&digest);
        let sig = key.sign(&msg);
        let mut out = w.out;
        out.write_all(&[T_SIGNATURE]).map_err(io(path))?;
        out.write_all(&64u32.to_be_bytes()).map_err(io(path))?;
        out.write_all(&sig.to_bytes()).map_err(io(path))?;
        let f = out
            .into_inner()
            .map_err(|e| BackupError::Invalid(format!("{}: {e}", path.display())))?;
        f.sync_all().map_err(io(path))?;
        Ok(header)
    }
}

/// One section read back.
enum Section {
    Header(BackupHeader),
    File {
        path: String,
        mode: u32,
        content: Vec<u8>,
    },
    Tree(Vec<u8>),
    Entry(Vec<u8>, Vec<u8>),
}

struct Reader<R: Read> {
    r: R,
    hash: Sha256,
    at: u64,
}

impl<R: Read> Reader<R> {
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|e| format!("truncated at byte {}: {e}", self.at))?;
        self.at += n as u64;
        Ok(b)
    }

    /// The next section, or the signature (`Err(Ok(sig))` style kept simple: returns tag).
    fn next(&mut self) -> Result<(u8, Vec<u8>), String> {
        let tag = self.exact(1)?[0];
        let len = u32::from_be_bytes(self.exact(4)?.try_into().unwrap_or_default());
        if len > MAX_SECTION {
            return Err(format!(
                "section at byte {} is {len} bytes (at most {MAX_SECTION})",
                self.at - 5
            ));
        }
        let body = self.exact(len as usize)?;
        if tag != T_SIGNATURE {
            self.hash.update([tag]);
            self.hash.update(len.to_be_bytes());
            self.hash.update(&body);
        }
        Ok((tag, body))
    }
}

fn parse(tag: u8, b: Vec<u8>) -> Result<Section, String> {
    match tag {
        T_HEADER => serde_json::from_slice(&b)
            .map(Section::Header)
            .map_err(|e| format!("header: {e}")),
        T_FILE => {
            let plen = usize::from(u16::from_be_bytes(
                b.get(..2)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("file: truncated")?,
            ));
            let path = b.get(2..2 + plen).ok_or("file: truncated path")?;
            let path = String::from_utf8(path.to_vec()).map_err(|_| "file: path not UTF-8")?;
            let mode = u32::from_be_bytes(
                b.get(2 + plen..6 + plen)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("file: truncated mode")?,
            );
            let safe = !path.is_empty()
                && Path::new(&path)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe {
                return Err(format!("file path {path:?} leaves the data directory"));
            }
            Ok(Section::File {
                path,
                mode,
                content: b[6 + plen..].to_vec(),
            })
        }
        T_TREE => Ok(Section::Tree(b)),
        T_ENTRY => {
            let klen = u32::from_be_bytes(
                b.get(..4)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("entry: truncated")?,
            ) as usize;
            let k = b.get(4..4 + klen).ok_or("entry: truncated key")?.to_vec();
            Ok(Section::Entry(k, b[4 + klen..].to_vec()))
        }
        t => Err(format!("unknown section tag {t}")),
    }
}

fn open_reader(path: &Path) -> Result<Reader<BufReader<fs::File>>, BackupError> {
    let f = fs::File::open(path).map_err(io(path))?;
    let mut r = Reader {
        r: BufReader::with_capacity(1 << 20, f),
        hash: Sha256::new(),
        at: 0,
    };
    let magic = r
        .exact(MAGIC.len())
        .map_err(|e| BackupError::Invalid(format!("{}: {e}", path.display())))?;
    if magic != MAGIC {
        return Err(BackupError::Invalid(format!(
            "{} is not a kdesk backup (it does not start with {:?})",
            path.display(),
            String::from_utf8_lossy(MAGIC).trim()
        )));
    }
    r.hash.update(MAGIC);
    Ok(r)
}

/// Reads a backup through, checking its structure and its signature against the key it
/// names, which must be the one the admin expects (`expect_key`: a hex prefix of the key id
/// or public key, at least 8 digits). Returns its header.
///
/// # Errors
/// Unreadable, malformed, altered, or signed by another key.
pub fn verify_backup(path: &Path, expect_key: &str) -> Result<BackupHeader, BackupError> {
    read_backup(path, expect_key, |_| Ok(()))
}

fn read_backup(
    path: &Path,
    expect_key: &str,
    mut each: impl FnMut(Section) -> Result<(), BackupError>,
) -> Result<BackupHeader, BackupError> {
    let bad = |m: String| BackupError::Invalid(format!("{}: {m}", path.display()));
    let want = expect_key.trim().to_ascii_lowercase();
    if want.len() < MIN_EXPECT_HEX || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BackupError::Invalid(format!(
            "--expect-key {expect_key:?}: give at least {MIN_EXPECT_HEX} hex digits of the node's key id (64 for the whole id; fewer would let a forger search for a matching key)"
        )));
    }
    let mut r = open_reader(path)?;
    let mut header: Option<BackupHeader> = None;
    loop {
        let (tag, body) = r.next().map_err(&bad)?;
        if tag == T_SIGNATURE {
            let h = header.ok_or_else(|| bad("no header".into()))?;
            let key = keys::parse_public_key(&h.public_key)
                .map_err(|e| bad(format!("header public_key: {e}")))?;
            let id = KeyId::of(&key).to_hex();
            if !id.starts_with(&want) {
                return Err(bad(format!(
                    "signed by key {id}, not the expected {want}: refused"
                )));
            }
            let sig = Signature::from_slice(&body)
                .map_err(|_| bad("the signature is not 64 bytes".into()))?;
            let mut msg = SIGN_CONTEXT.to_vec();
            msg.extend_from_slice(&r.hash.clone().finalize());
            key.verify_strict(&msg, &sig)
                .map_err(|_| bad("the signature does not verify: the file was altered".into()))?;
            let mut rest = [0u8; 1];
            if r.r.read(&mut rest).map_err(io(path))? != 0 {
                return Err(bad("bytes after the signature".into()));
            }
            return Ok(h);
        }
        let s = parse(tag, body).map_err(&bad)?;
        if let Section::Header(h) = &s {
            if header.is_some() {
                return Err(bad("two headers".into()));
            }
            header = Some(h.clone());
        } else if header.is_none() {
            return Err(bad("the header must come first".into()));
        }
        each(s)?;
    }
}

/// What a restore wrote.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The backup's header.
    pub header: BackupHeader,
    /// Files written.
    pub files: usize,
    /// Database entries loaded.
    pub entries: u64,
}

/// Restores a backup into `data_dir` (which must not exist, or be empty), verifying it first
/// (see [`verify_backup`]). The node it makes signs nothing until it has recovered from its
/// partners when it next serves.
///
/// # Errors
/// The backup is refused, or the directory is not empty, or writing failed.
pub fn restore(
    path: &Path,
    data_dir: &Path,
    expect_key: &str,
) -> Result<RestoreReport, BackupError> {
    if data_dir.exists()
        && fs::read_dir(data_dir)
            .map_err(io(data_dir))?
            .next()
            .is_some()
    {
        return Err(BackupError::Invalid(format!(
            "{} is not empty: restore into a new directory",
            data_dir.display()
        )));
    }
    std::os::unix::fs::DirBuilderExt::mode(fs::DirBuilder::new().recursive(true), 0o700)
        .create(data_dir)
        .map_err(io(data_dir))?;
    // A private copy is checked and restored from: the file cannot change between the check
    // and the use.
    let copy = data_dir.join(".restoring.kbk");
    {
        let mut from = fs::File::open(path).map_err(io(path))?;
        let mut to = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&copy)
            .map_err(io(&copy))?;
        std::io::copy(&mut from, &mut to).map_err(io(&copy))?;
        to.sync_all().map_err(io(&copy))?;
    }
    let result = restore_from(&copy, data_dir, expect_key);
    let _ = fs::remove_file(&copy);
    result.map_err(|e| match e {
        BackupError::Invalid(m) => BackupError::Invalid(
            m.replace(&copy.display().to_string(), &path.display().to_string()),
        ),
        e => e,
    })
}

fn restore_from(
    copy: &Path,
    data_dir: &Path,
    expect_key: &str,
) -> Result<RestoreReport, BackupError> {
    let header = verify_backup(copy, expect_key)?;
    // Files first: the configuration says where the database goes.
    let mut files = 0;
    read_backup(copy, expect_key, |s| {
        if let Section::File {
            path: rel,
            mode,
            content,
        } = s
        {
            let target = data_dir.join(&rel);
            if let Some(parent) = target.parent() {
                std::os::unix::fs::DirBuilderExt::mode(
                    fs::DirBuilder::new().recursive(true),
                    0o700,
                )
                .create(parent)
                .map_err(io(parent))?;
            }
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode & 0o700)
                .open(&target)
                .map_err(io(&target))?;
            f.write_all(&content).map_err(io(&target))?;
            f.sync_all().map_err(io(&target))?;
            files += 1;
        }
        Ok(())
    })?;
    let config = Config::load(data_dir).map_err(|e| BackupError::Invalid(e.to_string()))?;
    // The node the files describe must be the one that signed the backup.
    if config.origin.to_string() != header.origin {
        return Err(BackupError::Invalid(format!(
            "the backup's configuration is for {}, but its header names {}",
            config.origin, header.origin
        )));
    }
    let key = keys::load_signing_key(&config.signing_key)?;
    if hex::encode(key.verifying_key().as_bytes()) != header.public_key {
        return Err(BackupError::Invalid(
            "the signing key in the backup is not the key that signed it".into(),
        ));
    }
    let store = Store::open(&config.database)?;
    if store.holds_anything() {
        return Err(BackupError::Invalid(format!(
            "{} already holds a database",
            config.database.display()
        )));
    }
    // Marked before anything is loaded: a restore cut short leaves a node that still
    // recovers before it signs, never one that signs from the backup's numbers.
    let json = serde_json::to_vec(&header).map_err(|e| BackupError::Invalid(e.to_string()))?;
    store.set_restore_pending(Some(&json))?;
    store.flush_blocking()?;
    let mut tree: Vec<u8> = Vec::new();
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut entries = 0u64;
    read_backup(copy, expect_key, |s| {
        match s {
            Section::Tree(name) => {
                if !batch.is_empty() {
                    store.load_entries(&tree, &batch)?;
                    batch.clear();
                }
                tree = name;
            }
            Section::Entry(k, v) => {
                batch.push((k, v));
                entries += 1;
                if batch.len() >= 10_000 {
                    store.load_entries(&tree, &batch)?;
                    batch.clear();
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        store.load_entries(&tree, &batch)?;
    }
    // Again: the backup's own meta entries were loaded over the mark.
    store.set_restore_pending(Some(&json))?;
    store.flush_blocking()?;
    Ok(RestoreReport {
        header,
        files,
        entries,
    })
}

/// The public keys this node has signed with (current and retired), for checking its own
/// records that partners hand back.
#[must_use]
pub fn own_keys(config: &Config, current: VerifyingKey) -> Vec<VerifyingKey> {
    let mut v = vec![current];
    v.extend(super::rotation::retired_public_keys(&config.signing_key));
    v
}

/// How a restored node learns what it signed after the backup, before it signs anything:
/// every registered partner is asked (`RecoverOwn`) for its own records they hold and the
/// newest tree head of it they saw; records are checked with this node's keys (current and
/// retired) and stored again; the lowest sequence number it may sign next is set above every
/// number that could have been used; then the restore is declared in a signed record. Runs
/// until every partner answered (partners that are down are asked again every few seconds;
/// removing a partner lets recovery finish without it).
pub async fn recover(node: std::sync::Arc<Node>) {
    let mut stopping = node.stopping_watch();
    // Partners that answered keep their answers across rounds.
    let mut answered: std::collections::BTreeMap<crate::model::CountryCode, Handed> =
        std::collections::BTreeMap::new();
    loop {
        match recover_round(&node, &mut answered).await {
            Ok(None) => return,
            Ok(Some(waiting)) => {
                node.cx
                    .fed
                    .set_recovery_state(format!("waiting for {waiting}"));
                tracing::info!(waiting = %waiting, "restored node: waiting for partners to hand back its records");
            }
            Err(e) => {
                node.cx
                    .fed
                    .set_recovery_state(format!("failed, retrying: {e}"));
                tracing::warn!(error = %e, "restored node: recovery round failed; retrying");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = stopping.changed() => return,
        }
    }
}

/// Most own records one partner may hand back (a partner claiming more is refused).
const MAX_HANDED_BACK: usize = 10_000_000;

/// Numbers skipped beyond every number that can be shown to have been used: records signed
/// after the newest head a partner witnessed and never sent to a partner (admin events,
/// alerts for countries that are not partners) took numbers no one can report.
pub const SAFETY_GAP: u64 = 1 << 20;

/// The log may have grown by at most this much since the backup for a witnessed head to be
/// believed (a larger claim is refused as implausible).
const MAX_GROWTH: u64 = 1 << 40;

/// What one partner handed back (every record and the head verified with this node's keys).
struct Handed {
    records: Vec<crate::record::SignedRecord>,
    head: Option<(u64, crate::pb::SignedTreeHead)>,
}

async fn ask(
    node: &Node,
    peer: &crate::federation::registry::CompiledPeer,
    after: u64,
    keys: &mut Vec<VerifyingKey>,
) -> Result<Handed, String> {
    let identity = node
        .cx
        .fed
        .identity
        .as_ref()
        .map(|l| l.current())
        .ok_or("this node does not federate")?;
    let channel = crate::federation::replicator::connect(peer, &identity)
        .await
        .map_err(|e| e.to_string())?;
    let mut client = crate::pb::exchange_client::ExchangeClient::new(channel)
        .max_decoding_message_size(crate::federation::MAX_EXCHANGE_MESSAGE_BYTES);
    let me = node.origin().clone();
    let mut out = Handed {
        records: Vec::new(),
        head: None,
    };
    let mut after = after;
    loop {
        let r = client
            .recover_own(crate::pb::RecoverOwnRequest { after_seq: after })
            .await
            .map_err(|s| format!("RecoverOwn: {}", s.message()))?
            .into_inner();
        if let Some(h) = r.seen_head {
            // Only a head this node signed counts.
            let head = crate::audit::witness::open_head(&h, keys)
                .map_err(|e| format!("the tree head handed back does not verify: {e}"))?;
            if head.origin != me {
                return Err(format!("handed back a tree head of {}", head.origin));
            }
            if out.head.as_ref().is_none_or(|(s, _)| head.size > *s) {
                out.head = Some((head.size, h));
            }
        }
        if r.envelopes.is_empty() {
            return Ok(out);
        }
        for env in &r.envelopes {
            let signed = crate::record::verify_envelope(env, |kid| {
                keys.iter().find(|k| KeyId::of(k) == *kid).copied()
            })
            .map_err(|e| {
                format!("a record handed back does not verify with this node's keys: {e}")
            })?;
            if signed.record.origin != me {
                return Err(format!(
                    "handed back a record of {}, not of this node",
                    signed.record.origin
                ));
            }
            if signed.record.seq <= after {
                return Err("handed back records out of order".into());
            }
            after = signed.record.seq;
            // A key announced after the backup signs the records after it.
            if let crate::record::RecordKind::KeyAnnouncement(a) = &signed.record.kind {
                if !keys.contains(&a.public_key) {
                    keys.push(a.public_key);
                }
            }
            out.records.push(signed);
        }
        if out.records.len() > MAX_HANDED_BACK {
            return Err(format!("handed back more than {MAX_HANDED_BACK} records"));
        }
        if after >= r.last_seq {
            return Ok(out);
        }
    }
}

/// One round; `Some(countries)` while partners have not answered.
async fn recover_round(
    node: &std::sync::Arc<Node>,
    answered: &mut std::collections::BTreeMap<crate::model::CountryCode, Handed>,
) -> Result<Option<String>, String> {
    let Some(header) = node.store.restore_pending().map_err(|e| e.to_string())? else {
        node.cx
            .recovering
            .store(false, std::sync::atomic::Ordering::Release);
        return Ok(None);
    };
    let header: BackupHeader =
        serde_json::from_slice(&header).map_err(|e| format!("restore header: {e}"))?;
    let mut keys = own_keys(&node.config, node.public_key());
    let peers = node
        .cx
        .fed
        .registry
        .read()
        .map(|r| r.peers())
        .map_err(|_| "registry lock poisoned".to_string())?;
    let mut waiting = Vec::new();
    for p in &peers {
        let country = p.entry.country;
        if answered.contains_key(&country) {
            continue;
        }
        match ask(node, p, header.last_seq, &mut keys).await {
            Ok(h) => {
                answered.insert(country, h);
            }
            Err(e) => {
                tracing::info!(peer = %country, error = %e, "restored node: partner has not answered");
                waiting.push(country.to_string());
            }
        }
    }
    // Partners removed meanwhile no longer count.
    answered.retain(|c, _| peers.iter().any(|p| p.entry.country == *c));
    if !waiting.is_empty() {
        return Ok(Some(waiting.join(", ")));
    }
    // Everything is known: store the records handed back, then fix the floor.
    let mut records: Vec<crate::record::SignedRecord> = Vec::new();
    let mut previous: Option<(u64, crate::pb::SignedTreeHead)> = None;
    for h in answered.values() {
        if let Some((size, head)) = &h.head {
            if previous.as_ref().is_none_or(|(s, _)| size > s) {
                previous = Some((*size, head.clone()));
            }
        }
        records.extend(h.records.iter().cloned());
    }
    records.sort_by_key(|r| r.record.seq);
    // Two partners handing back different bodies for one number: this node equivocated
    // before the restore. Keep the first; the store keeps the other as evidence.
    let store = node.store.clone();
    let batch = records.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        store.ingest_batch(&batch, now_ms(), crate::store::Mode::Received)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let recovered = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(crate::store::Ingest::Stored)))
        .count() as u64;
    let previous_size = previous.as_ref().map_or(0, |(s, _)| *s);
    let growth = previous_size.saturating_sub(header.log_size);
    if growth > MAX_GROWTH {
        return Err(format!(
            "a partner's witnessed head says the log grew by {growth} records since the backup: implausible"
        ));
    }
    let held: std::collections::BTreeSet<u64> = records.iter().map(|r| r.record.seq).collect();
    let newest_held = held
        .last()
        .copied()
        .unwrap_or(header.last_seq)
        .max(header.last_seq);
    // Every own record signed after the backup took a log position below the newest head a
    // partner witnessed; then a margin for records no partner could see.
    let bound = header
        .last_seq
        .checked_add(growth)
        .and_then(|b| b.max(newest_held).checked_add(SAFETY_GAP + 1))
        .ok_or("sequence numbers would overflow")?;
    let floor = bound.max(
        node.store
            .last_seq(node.origin())
            .map_err(|e| e.to_string())?
            .saturating_add(1),
    );
    node.store.set_seq_floor(floor).map_err(|e| e.to_string())?;
    node.store.flush().await.map_err(|e| e.to_string())?;
    // Below the newest number a partner holds, every number was used: those not handed back
    // are lost. Above it, numbers are skipped to be safe.
    let mut lost: Vec<(u64, u64)> = Vec::new();
    let mut prev = header.last_seq;
    for s in held.iter().copied().filter(|s| *s > header.last_seq) {
        if s > prev + 1 {
            lost.push((prev + 1, s - 1));
        }
        prev = s;
    }
    let lost_count: u64 = lost.iter().map(|(a, b)| b - a + 1).sum();
    let mut detail = if lost.is_empty() {
        "every number used up to the newest record partners hold was recovered".to_owned()
    } else {
        format!(
            "{lost_count} number(s) used after the backup by records no partner holds (lost, never reused): {}",
            ranges(&lost)
        )
    };
    detail.push_str(&format!(
        "; numbers {}-{} skipped to be safe (records no partner saw may have used some)",
        newest_held + 1,
        floor - 1
    ));
    let detail: String = detail.chars().take(1000).collect();
    let declaration =
        crate::record::RecordKind::RestoreDeclaration(crate::record::RestoreDeclaration {
            backup_log_size: header.log_size,
            backup_last_seq: header.last_seq,
            previous_head: previous
                .as_ref()
                .map(|(_, h)| prost::Message::encode_to_vec(h))
                .unwrap_or_default(),
            previous_size,
            recovered,
            seq_floor: floor,
            detail: crate::model::Note::parse(&detail).ok(),
        });
    // Every partner reads the new log again from where it parts from the old one.
    for p in &peers {
        node.store
            .set_resync(p.entry.country, header.log_size)
            .map_err(|e| e.to_string())?;
    }
    let signed = node
        .issue_trust_change(declaration)
        .await
        .map_err(|e| format!("declaring the restore: {e}"))?;
    node.store
        .set_restore_pending(None)
        .map_err(|e| e.to_string())?;
    node.store.flush().await.map_err(|e| e.to_string())?;
    node.cx
        .recovering
        .store(false, std::sync::atomic::Ordering::Release);
    node.cx.fed.set_recovery_state(format!(
        "recovered: {recovered} record(s) handed back; restore declared at seq {}",
        signed.record.seq
    ));
    tracing::info!(
        recovered,
        seq_floor = floor,
        declaration = signed.record.seq,
        lost = lost_count,
        "restored node recovered from its partners and declared the restore; signing again"
    );
    node.after_recovery().await;
    Ok(None)
}

/// `1-3, 7, 9-12`.
fn ranges(v: &[(u64, u64)]) -> String {
    v.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
