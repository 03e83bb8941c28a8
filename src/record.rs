//! Signed records: what a desk says, exactly as it said it.
//!
//! A [`Record`] is the checked domain form; its protobuf encoding is the *body*. The body
//! bytes are signed once, by their origin, over a domain-separated message
//! ([`SIGNATURE_CONTEXT`] `|| body`), and shipped as an [`pb::Envelope`] alongside the signature
//! and the signer's [`KeyId`]. The [`RecordId`] is SHA-256 of the body. Verification checks the
//! bytes received with `verify_strict` before decoding them, then parses the decoded body into
//! a [`Record`] with every field checked. `docs/PROTOCOL.md` specifies all of this for auditors.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::model::{
    Alert, CountryCode, Date, Distribution, FieldError, InvalidValue, NodeName, Note,
    OutcomeResult, ShortText, Substance, Text,
};
use crate::pb;

/// Prefix of every signed message: domain separation from any other use of the key.
pub const SIGNATURE_CONTEXT: &[u8] = b"kdesk/v1/record-signature\x00";
/// The body schema version this code writes and accepts.
pub const BODY_VERSION: u32 = 1;
/// Largest body accepted (bytes). Alerts are a few hundred bytes to a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// SHA-256 of a record body.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(pub [u8; 32]);

impl RecordId {
    /// The id of a body.
    pub fn of_body(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }
    /// From 32 raw bytes.
    ///
    /// # Errors
    /// When the slice is not 32 bytes long.
    pub fn from_slice(b: &[u8], field: &str) -> Result<Self, FieldError> {
        <[u8; 32]>::try_from(b).map(Self).map_err(|_| {
            FieldError::new(
                field,
                format!("must be a 32-byte record id, got {} bytes", b.len()),
            )
        })
    }
    /// Parses 64 hex digits.
    ///
    /// # Errors
    /// Not 64 hex digits.
    pub fn parse_hex(s: &str) -> Result<Self, InvalidValue> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out)
            .map_err(|_| InvalidValue::new(s, "a record id", "must be 64 hex digits"))?;
        Ok(Self(out))
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// First 12 hex digits, for tables.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}
impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.short())
    }
}

/// SHA-256 of a 32-byte Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The id of a public key.
    pub fn of(key: &VerifyingKey) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", &self.to_hex()[..12])
    }
}

/// The node that created a record: country and node name, written `KR/seoul`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Origin {
    /// ISO 3166-1 country of the desk.
    pub country: CountryCode,
    /// Node name within the country.
    pub node: NodeName,
}

impl Origin {
    /// Parses `KR/seoul`.
    ///
    /// # Errors
    /// Missing slash, bad country or node name.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let (c, n) = s.split_once('/').ok_or_else(|| {
            InvalidValue::new(s, "an origin", "must be COUNTRY/node, e.g. KR/seoul")
        })?;
        Ok(Self {
            country: CountryCode::parse(c)?,
            node: NodeName::parse(n)?,
        })
    }
    /// Storage key prefix: country (2 bytes), node name length (1 byte), node name.
    pub fn key_prefix(&self) -> Vec<u8> {
        origin_key_prefix(self.country.as_str(), self.node.as_str())
    }
    /// Protobuf form.
    pub fn to_pb(&self) -> pb::Origin {
        pb::Origin {
            country: self.country.to_string(),
            node: self.node.to_string(),
        }
    }
    fn from_pb(o: Option<&pb::Origin>, field: &str) -> Result<Self, FieldError> {
        let o = o.ok_or_else(|| FieldError::new(field, "is required"))?;
        Ok(Self {
            country: CountryCode::parse(&o.country)
                .map_err(|e| e.at(format!("{field}.country")))?,
            node: NodeName::parse(&o.node).map_err(|e| e.at(format!("{field}.node")))?,
        })
    }
}
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.country, self.node)
    }
}

/// [`Origin::key_prefix`] from raw protobuf strings (for records already verified on store).
pub fn origin_key_prefix(country: &str, node: &str) -> Vec<u8> {
    let n = node.as_bytes();
    let mut k = Vec::with_capacity(country.len() + 1 + n.len());
    k.extend_from_slice(country.as_bytes());
    // Stored node names are at most 32 bytes (NodeName invariant); clamp defensively.
    k.push(n.len().min(255) as u8);
    k.extend_from_slice(n);
    k
}

/// A new full version of an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Amendment {
    /// The version it replaces.
    pub supersedes: RecordId,
    /// The new content.
    pub alert: Alert,
    /// Why it changed.
    pub reason: Note,
}

/// Withdrawal of an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Retraction {
    /// The current version of the alert.
    pub target: RecordId,
    /// Why.
    pub reason: Note,
    /// The withdrawn alert's distribution.
    pub distribution: Distribution,
}

/// Field-level evidence of a hit.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchedField {
    /// Alert field name.
    pub field: ShortText,
    /// Normalised value seen.
    pub value: Text<0, 256>,
    /// Why it matched.
    pub reason: ShortText,
}

impl MatchedField {
    /// Protobuf form.
    pub fn to_pb(&self) -> pb::MatchedField {
        pb::MatchedField {
            field: self.field.to_string(),
            value: self.value.to_string(),
            reason: self.reason.to_string(),
        }
    }
}

/// A screening hit on an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Alert version that matched.
    pub alert_id: RecordId,
    /// Its origin (the hit's recipient).
    pub alert_origin: Origin,
    /// 0-1000.
    pub score: u32,
    /// Evidence.
    pub matched: Vec<MatchedField>,
    /// Screened line or passenger reference.
    pub subject_reference: ShortText,
    /// Screening date.
    pub screened_on: Date,
}

/// What inspection found after a hit.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The hit.
    pub hit_id: RecordId,
    /// Origin of the alert (the outcome's recipient).
    pub alert_origin: Origin,
    /// Result.
    pub result: OutcomeResult,
    /// Substance found.
    pub substance: Option<Substance>,
    /// Grams seized.
    pub quantity_grams: u64,
    /// Free text.
    pub note: Option<Note>,
}

/// Kinds of change to a node's trust configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAction {
    /// A partner registered (or its registration replaced).
    PeerAdded,
    /// A partner removed.
    PeerRemoved,
    /// A partner signing key revoked.
    PeerKeyRevoked,
    /// Records purged under a retention rule (reserved: kdesk does not purge yet).
    RetentionPurge,
    /// A partner's registration changed in place.
    PeerUpdated,
    /// This node's exchange certificate (and published CRL) reloaded without a restart.
    TlsReloaded,
    /// This node's signing key rotated.
    KeyRotated,
    /// A partner announced a new signing key (pending until confirmed).
    PeerKeyAnnounced,
    /// A partner's announced key confirmed.
    PeerKeyConfirmed,
    /// A partner's declared restore accepted by this node's witness.
    PeerRestoreAccepted,
    /// A local intelligence source registered.
    IntelSourceAdded,
    /// Local intelligence items imported.
    IntelImported,
    /// Two local intelligence items linked.
    IntelLinked,
    /// A local intelligence item promoted to an alert.
    IntelPromoted,
}

impl AdminAction {
    /// `peer-added`, `peer-removed`, `peer-key-revoked`, `retention-purge`, `peer-updated`,
    /// `tls-reloaded`, `key-rotated`, `peer-key-announced`, `peer-key-confirmed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::KeyRotated => "key-rotated",
            Self::PeerKeyAnnounced => "peer-key-announced",
            Self::PeerKeyConfirmed => "peer-key-confirmed",
            Self::PeerRestoreAccepted => "peer-restore-accepted",
            Self::PeerAdded => "peer-added",
            Self::PeerRemoved => "peer-removed",
            Self::PeerKeyRevoked => "peer-key-revoked",
            Self::RetentionPurge => "retention-purge",
            Self::PeerUpdated => "peer-updated",
            Self::TlsReloaded => "tls-reloaded",
            Self::IntelSourceAdded => "intel-source-added",
            Self::IntelImported => "intel-imported",
            Self::IntelLinked => "intel-linked",
            Self::IntelPromoted => "intel-promoted",
        }
    }
    fn to_pb(self) -> i32 {
        (match self {
            Self::PeerAdded => pb::AdminAction::PeerAdded,
            Self::PeerRemoved => pb::AdminAction::PeerRemoved,
            Self::PeerKeyRevoked => pb::AdminAction::PeerKeyRevoked,
            Self::RetentionPurge => pb::AdminAction::RetentionPurge,
            Self::PeerUpdated => pb::AdminAction::PeerUpdated,
            Self::TlsReloaded => pb::AdminAction::TlsReloaded,
            Self::KeyRotated => pb::AdminAction::KeyRotated,
            Self::PeerKeyAnnounced => pb::AdminAction::PeerKeyAnnounced,
            Self::PeerKeyConfirmed => pb::AdminAction::PeerKeyConfirmed,
            Self::PeerRestoreAccepted => pb::AdminAction::PeerRestoreAccepted,
            Self::IntelSourceAdded => pb::AdminAction::IntelSourceAdded,
            Self::IntelImported => pb::AdminAction::IntelImported,
            Self::IntelLinked => pb::AdminAction::IntelLinked,
            Self::IntelPromoted => pb::AdminAction::IntelPromoted,
        }) as i32
    }
    fn from_pb(v: i32) -> Result<Self, FieldError> {
        match pb::AdminAction::try_from(v) {
            Ok(pb::AdminAction::PeerAdded) => Ok(Self::PeerAdded),
            Ok(pb::AdminAction::PeerRemoved) => Ok(Self::PeerRemoved),
            Ok(pb::AdminAction::PeerKeyRevoked) => Ok(Self::PeerKeyRevoked),
            Ok(pb::AdminAction::RetentionPurge) => Ok(Self::RetentionPurge),
            Ok(pb::AdminAction::PeerUpdated) => Ok(Self::PeerUpdated),
            Ok(pb::AdminAction::TlsReloaded) => Ok(Self::TlsReloaded),
            Ok(pb::AdminAction::KeyRotated) => Ok(Self::KeyRotated),
            Ok(pb::AdminAction::PeerKeyAnnounced) => Ok(Self::PeerKeyAnnounced),
            Ok(pb::AdminAction::PeerKeyConfirmed) => Ok(Self::PeerKeyConfirmed),
            Ok(pb::AdminAction::PeerRestoreAccepted) => Ok(Self::PeerRestoreAccepted),
            Ok(pb::AdminAction::IntelSourceAdded) => Ok(Self::IntelSourceAdded),
            Ok(pb::AdminAction::IntelImported) => Ok(Self::IntelImported),
            Ok(pb::AdminAction::IntelLinked) => Ok(Self::IntelLinked),
            Ok(pb::AdminAction::IntelPromoted) => Ok(Self::IntelPromoted),
            _ => Err(FieldError::new(
                "admin_event.action",
                format!("{v} is not a known admin action"),
            )),
        }
    }
}

/// Most key ids one admin event names.
pub const MAX_EVENT_KEYS: usize = 16;

/// A change to this node's trust configuration, recorded in its own log for auditors. Never
/// sent to partners.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminEvent {
    /// What changed.
    pub action: AdminAction,
    /// The partner concerned.
    pub country: CountryCode,
    /// Keys concerned (registered or revoked).
    pub key_ids: Vec<KeyId>,
    /// SHA-256 of the partner CA certificate (DER), when one was registered.
    pub ca_sha256: Option<[u8; 32]>,
    /// Endpoint, CRLs, reason.
    pub detail: Note,
}

/// What a record says.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordKind {
    /// A new alert.
    Alert(Alert),
    /// A new version of an alert.
    Amendment(Amendment),
    /// Withdrawal of an alert.
    Retraction(Retraction),
    /// A screening hit.
    Hit(Hit),
    /// An inspection outcome.
    Outcome(Outcome),
    /// A change to this node's trust configuration (never shared).
    AdminEvent(AdminEvent),
    /// The origin's next signing key, signed by its current one (key rotation).
    KeyAnnouncement(KeyAnnouncement),
    /// The origin was restored from a backup (see [`RestoreDeclaration`]).
    RestoreDeclaration(RestoreDeclaration),
}

/// A node restored from a backup declares it before signing anything else: its partners'
/// witnesses accept its new log as an explained restart, and auditors see why its sequence
/// numbers jump.
#[derive(Clone, Debug, PartialEq)]
pub struct RestoreDeclaration {
    /// The backup's log length.
    pub backup_log_size: u64,
    /// The backup's highest own sequence number.
    pub backup_last_seq: u64,
    /// The newest signed tree head of the node a partner had seen (encoded), if any.
    pub previous_head: Vec<u8>,
    /// Its tree size (0: none).
    pub previous_size: u64,
    /// Own records handed back by partners.
    pub recovered: u64,
    /// Lowest sequence number signed after the restore.
    pub seq_floor: u64,
    /// What could not be recovered.
    pub detail: Option<Note>,
}

/// A desk's next signing key, announced in a record its current key signs. Partners hold the
/// key pending until their admin confirms it (or accept it at once where configured); the key
/// it replaces keeps verifying the records it signed.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyAnnouncement {
    /// The new key (canonical, not weak).
    pub public_key: VerifyingKey,
    /// Why.
    pub detail: Option<Note>,
    /// The new key's signature of [`KeyAnnouncement::proof_message`].
    pub proof: Signature,
}

impl KeyAnnouncement {
    /// What the new key signs to prove the announcing desk holds it.
    #[must_use]
    pub fn proof_message(origin: &Origin, key: &VerifyingKey) -> Vec<u8> {
        let mut m = b"kdesk key announcement v1\0".to_vec();
        m.extend_from_slice(origin.to_string().as_bytes());
        m.push(0);
        m.extend_from_slice(key.as_bytes());
        m
    }

    /// An announcement of `next` by `origin`, with its proof.
    #[must_use]
    pub fn new(origin: &Origin, next: &SigningKey, detail: Option<Note>) -> Self {
        let public_key = next.verifying_key();
        Self {
            public_key,
            detail,
            proof: next.sign(&Self::proof_message(origin, &public_key)),
        }
    }
}

impl RecordKind {
    /// `alert`, `amendment`, `retraction`, `hit`, `outcome`, `admin-event`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Alert(_) => "alert",
            Self::Amendment(_) => "amendment",
            Self::Retraction(_) => "retraction",
            Self::Hit(_) => "hit",
            Self::Outcome(_) => "outcome",
            Self::AdminEvent(_) => "admin-event",
            Self::KeyAnnouncement(_) => "key-announcement",
            Self::RestoreDeclaration(_) => "restore-declaration",
        }
    }
    /// The alert content carried, for alerts and amendments.
    pub fn alert(&self) -> Option<&Alert> {
        match self {
            Self::Alert(a) => Some(a),
            Self::Amendment(a) => Some(&a.alert),
            _ => None,
        }
    }
}

/// Record kind names accepted by filters.
pub const KIND_NAMES: [&str; 8] = [
    "alert",
    "amendment",
    "retraction",
    "hit",
    "outcome",
    "admin-event",
    "key-announcement",
    "restore-declaration",
];

/// A checked record body.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Who created it.
    pub origin: Origin,
    /// Per-origin sequence number, from 1.
    pub seq: u64,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Content.
    pub kind: RecordKind,
}

impl Record {
    /// Protobuf form (what is encoded and signed).
    pub fn to_pb(&self) -> pb::RecordBody {
        use pb::record_body::Kind;
        let kind = match &self.kind {
            RecordKind::Alert(a) => Kind::Alert(a.to_pb()),
            RecordKind::Amendment(a) => Kind::Amendment(pb::Amendment {
                supersedes: a.supersedes.0.to_vec(),
                alert: Some(a.alert.to_pb()),
                reason: a.reason.to_string(),
            }),
            RecordKind::Retraction(r) => Kind::Retraction(pb::Retraction {
                target: r.target.0.to_vec(),
                reason: r.reason.to_string(),
                distribution: Some(r.distribution.to_pb()),
            }),
            RecordKind::Hit(h) => Kind::Hit(pb::Hit {
                alert_id: h.alert_id.0.to_vec(),
                alert_origin: Some(h.alert_origin.to_pb()),
                score: h.score,
                matched: h.matched.iter().map(MatchedField::to_pb).collect(),
                subject_reference: h.subject_reference.to_string(),
                screened_on: h.screened_on.to_string(),
            }),
            RecordKind::Outcome(o) => Kind::Outcome(pb::Outcome {
                hit_id: o.hit_id.0.to_vec(),
                alert_origin: Some(o.alert_origin.to_pb()),
                result: o.result.to_pb(),
                substance: o.substance.map_or(0, |s| s.to_pb()),
                quantity_grams: o.quantity_grams,
                note: o.note.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            }),
            RecordKind::AdminEvent(e) => Kind::AdminEvent(pb::AdminEvent {
                action: e.action.to_pb(),
                country: e.country.to_string(),
                key_ids: e.key_ids.iter().map(|k| k.0.to_vec()).collect(),
                ca_sha256: e.ca_sha256.map(|h| h.to_vec()).unwrap_or_default(),
                detail: e.detail.to_string(),
            }),
            RecordKind::KeyAnnouncement(k) => Kind::KeyAnnouncement(pb::KeyAnnouncement {
                public_key: k.public_key.as_bytes().to_vec(),
                detail: k.detail.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                proof: k.proof.to_bytes().to_vec(),
            }),
            RecordKind::RestoreDeclaration(r) => Kind::RestoreDeclaration(pb::RestoreDeclaration {
                backup_log_size: r.backup_log_size,
                backup_last_seq: r.backup_last_seq,
                previous_head: r.previous_head.clone(),
                previous_size: r.previous_size,
                recovered: r.recovered,
                seq_floor: r.seq_floor,
                detail: r.detail.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            }),
        };
        pb::RecordBody {
            version: BODY_VERSION,
            origin: Some(self.origin.to_pb()),
            seq: self.seq,
            created_at_ms: self.created_at_ms,
            kind: Some(kind),
        }
    }

    /// Parses a decoded body, checking every field.
    ///
    /// # Errors
    /// Unsupported version, missing or invalid fields.
    pub fn from_pb(b: &pb::RecordBody) -> Result<Self, FieldError> {
        use pb::record_body::Kind;
        if b.version != BODY_VERSION {
            return Err(FieldError::new(
                "version",
                format!(
                    "body version {} is not supported (this node reads {BODY_VERSION})",
                    b.version
                ),
            ));
        }
        if b.seq == 0 {
            return Err(FieldError::new("seq", "must start at 1"));
        }
        if b.created_at_ms <= 0 {
            return Err(FieldError::new(
                "created_at_ms",
                "must be a time after 1970",
            ));
        }
        let origin = Origin::from_pb(b.origin.as_ref(), "origin")?;
        let kind = match &b.kind {
            None => return Err(FieldError::new("kind", "is required")),
            Some(Kind::Alert(a)) => {
                RecordKind::Alert(Alert::try_from(a).map_err(|e| e.within("alert"))?)
            }
            Some(Kind::Amendment(a)) => RecordKind::Amendment(Amendment {
                supersedes: RecordId::from_slice(&a.supersedes, "amendment.supersedes")?,
                alert: Alert::try_from(
                    a.alert
                        .as_ref()
                        .ok_or_else(|| FieldError::new("amendment.alert", "is required"))?,
                )
                .map_err(|e| e.within("amendment.alert"))?,
                reason: Note::parse(&a.reason).map_err(|e| e.at("amendment.reason"))?,
            }),
            Some(Kind::Retraction(r)) => RecordKind::Retraction(Retraction {
                target: RecordId::from_slice(&r.target, "retraction.target")?,
                reason: Note::parse(&r.reason).map_err(|e| e.at("retraction.reason"))?,
                distribution: Distribution::from_pb(
                    r.distribution.as_ref(),
                    "retraction.distribution",
                )?,
            }),
            Some(Kind::Hit(h)) => RecordKind::Hit(Hit {
                alert_id: RecordId::from_slice(&h.alert_id, "hit.alert_id")?,
                alert_origin: Origin::from_pb(h.alert_origin.as_ref(), "hit.alert_origin")?,
                score: if h.score <= 1000 {
                    h.score
                } else {
                    return Err(FieldError::new("hit.score", "must be 0-1000"));
                },
                matched: h
                    .matched
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let f = |n: &str| format!("hit.matched[{i}].{n}");
                        Ok(MatchedField {
                            field: ShortText::parse(&m.field).map_err(|e| e.at(f("field")))?,
                            value: Text::parse(&m.value).map_err(|e| e.at(f("value")))?,
                            reason: ShortText::parse(&m.reason).map_err(|e| e.at(f("reason")))?,
                        })
                    })
                    .collect::<Result<_, FieldError>>()?,
                subject_reference: ShortText::parse(&h.subject_reference)
                    .map_err(|e| e.at("hit.subject_reference"))?,
                screened_on: Date::parse(&h.screened_on).map_err(|e| e.at("hit.screened_on"))?,
            }),
            Some(Kind::Outcome(o)) => RecordKind::Outcome(Outcome {
                hit_id: RecordId::from_slice(&o.hit_id, "outcome.hit_id")?,
                alert_origin: Origin::from_pb(o.alert_origin.as_ref(), "outcome.alert_origin")?,
                result: OutcomeResult::from_pb(o.result, "outcome.result")?,
                substance: match o.substance {
                    0 => None,
                    s => Some(Substance::from_pb(s, "outcome.substance")?),
                },
                quantity_grams: o.quantity_grams,
                note: match o.note.as_str() {
                    "" => None,
                    n => Some(Note::parse(n).map_err(|e| e.at("outcome.note"))?),
                },
            }),
            Some(Kind::AdminEvent(e)) => RecordKind::AdminEvent(AdminEvent {
                action: AdminAction::from_pb(e.action)?,
                country: CountryCode::parse(&e.country).map_err(|x| x.at("admin_event.country"))?,
                key_ids: if e.key_ids.len() > MAX_EVENT_KEYS {
                    return Err(FieldError::new(
                        "admin_event.key_ids",
                        format!("at most {MAX_EVENT_KEYS}"),
                    ));
                } else {
                    e.key_ids
                        .iter()
                        .enumerate()
                        .map(|(i, k)| {
                            <[u8; 32]>::try_from(k.as_slice()).map(KeyId).map_err(|_| {
                                FieldError::new(
                                    format!("admin_event.key_ids[{i}]"),
                                    "must be a 32-byte key id",
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?
                },
                ca_sha256: match e.ca_sha256.len() {
                    0 => None,
                    _ => Some(<[u8; 32]>::try_from(e.ca_sha256.as_slice()).map_err(|_| {
                        FieldError::new("admin_event.ca_sha256", "must be 32 bytes (SHA-256)")
                    })?),
                },
                detail: Note::parse(&e.detail).map_err(|x| x.at("admin_event.detail"))?,
            }),
            Some(Kind::RestoreDeclaration(r)) => {
                if r.previous_head.len() > 4096 {
                    return Err(FieldError::new(
                        "restore_declaration.previous_head",
                        "at most 4096 bytes",
                    ));
                }
                if r.seq_floor != b.seq {
                    return Err(FieldError::new(
                        "restore_declaration.seq_floor",
                        format!(
                            "{} must be the declaration's own seq {} (it is the first record signed after the restore)",
                            r.seq_floor, b.seq
                        ),
                    ));
                }
                if r.seq_floor <= r.backup_last_seq {
                    return Err(FieldError::new(
                        "restore_declaration.seq_floor",
                        format!(
                            "{} must be above backup_last_seq {}",
                            r.seq_floor, r.backup_last_seq
                        ),
                    ));
                }
                RecordKind::RestoreDeclaration(RestoreDeclaration {
                    backup_log_size: r.backup_log_size,
                    backup_last_seq: r.backup_last_seq,
                    previous_head: r.previous_head.clone(),
                    previous_size: r.previous_size,
                    recovered: r.recovered,
                    seq_floor: r.seq_floor,
                    detail: match r.detail.as_str() {
                        "" => None,
                        d => Some(Note::parse(d).map_err(|x| x.at("restore_declaration.detail"))?),
                    },
                })
            }
            Some(Kind::KeyAnnouncement(k)) => {
                let public_key = crate::keys::parse_public_key(&hex::encode(&k.public_key))
                    .map_err(|e| {
                        FieldError::new(
                            "key_announcement.public_key",
                            format!("{} bytes: {e}", k.public_key.len()),
                        )
                    })?;
                let proof = Signature::from_slice(&k.proof).map_err(|_| {
                    FieldError::new("key_announcement.proof", "must be a 64-byte signature")
                })?;
                public_key
                    .verify_strict(
                        &KeyAnnouncement::proof_message(&origin, &public_key),
                        &proof,
                    )
                    .map_err(|_| {
                        FieldError::new(
                            "key_announcement.proof",
                            format!("is not the new key's signature for {origin}"),
                        )
                    })?;
                RecordKind::KeyAnnouncement(KeyAnnouncement {
                    public_key,
                    detail: match k.detail.as_str() {
                        "" => None,
                        d => Some(Note::parse(d).map_err(|x| x.at("key_announcement.detail"))?),
                    },
                    proof,
                })
            }
        };
        Ok(Self {
            origin,
            seq: b.seq,
            created_at_ms: b.created_at_ms,
            kind,
        })
    }

    /// Encodes, signs and wraps the record.
    pub fn sign(&self, key: &SigningKey) -> SignedRecord {
        let body = self.to_pb().encode_to_vec();
        let signature = key.sign(&signing_message(&body));
        let id = RecordId::of_body(&body);
        SignedRecord {
            id,
            envelope: pb::Envelope {
                body,
                signature: signature.to_bytes().to_vec(),
                key_id: KeyId::of(&key.verifying_key()).0.to_vec(),
            },
            record: self.clone(),
        }
    }
}

/// The exact bytes signed for a body: [`SIGNATURE_CONTEXT`] followed by the body.
pub fn signing_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + body.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(body);
    m
}

/// A record whose signature has been checked (or that this node just signed).
#[derive(Clone, Debug, PartialEq)]
pub struct SignedRecord {
    /// SHA-256 of the body.
    pub id: RecordId,
    /// What is stored and shipped.
    pub envelope: pb::Envelope,
    /// The checked content.
    pub record: Record,
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Body larger than [`MAX_BODY_BYTES`].
    #[error("body is {0} bytes; at most {MAX_BODY_BYTES} accepted")]
    BodyTooLarge(usize),
    /// The key id is not 32 bytes.
    #[error("key_id must be 32 bytes, got {0}")]
    KeyIdLength(usize),
    /// No key known for the key id.
    #[error("signing key {0} is not registered")]
    UnknownKey(String),
    /// The signature is not 64 bytes.
    #[error("signature must be 64 bytes, got {0}")]
    SignatureLength(usize),
    /// `verify_strict` refused the signature.
    #[error("signature does not verify with key {0}")]
    BadSignature(String),
    /// The signed bytes are not a protobuf RecordBody.
    #[error("body is not a valid RecordBody: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The body decodes but a field is invalid.
    #[error("body field {0}")]
    Invalid(#[from] FieldError),
    /// The body is valid but not in the one encoding kdesk writes for it (a value not
    /// normalised, such as untrimmed text or a spaced container number; fields repeated,
    /// reordered or unknown; lengths not minimal).
    #[error("body is not in canonical form: a value is not normalised (e.g. untrimmed text) or the encoding is not the one kdesk writes")]
    NotCanonical,
}

/// Verifies an envelope with a key chosen by its key id, then decodes and checks the body.
///
/// `lookup` returns the key registered under a key id, if any. The caller must still check
/// that the key is registered for the record's origin (see [`SignedRecord::record`]).
///
/// # Errors
/// Any [`VerifyError`]; the order of checks is size, key id, signature, decoding, fields.
pub fn verify_envelope(
    envelope: &pb::Envelope,
    lookup: impl FnOnce(&KeyId) -> Option<VerifyingKey>,
) -> Result<SignedRecord, VerifyError> {
    if envelope.body.len() > MAX_BODY_BYTES {
        return Err(VerifyError::BodyTooLarge(envelope.body.len()));
    }
    let key_id = KeyId(
        <[u8; 32]>::try_from(envelope.key_id.as_slice())
            .map_err(|_| VerifyError::KeyIdLength(envelope.key_id.len()))?,
    );
    let key = lookup(&key_id).ok_or_else(|| VerifyError::UnknownKey(key_id.to_hex()))?;
    if KeyId::of(&key) != key_id {
        return Err(VerifyError::UnknownKey(key_id.to_hex()));
    }
    let sig = Signature::from_slice(&envelope.signature)
        .map_err(|_| VerifyError::SignatureLength(envelope.signature.len()))?;
    key.verify_strict(&signing_message(&envelope.body), &sig)
        .map_err(|_| VerifyError::BadSignature(key_id.to_hex()))?;
    let body = pb::RecordBody::decode(envelope.body.as_slice())?;
    let record = Record::from_pb(&body)?;
    // One record, one body: what the signer signed must be exactly what kdesk writes for the
    // record it decodes to, so that a verifier and a partner read the same values and "any
    // changed byte fails" holds for every field.
    let canonical = record.to_pb();
    if canonical.encoded_len() != envelope.body.len() || canonical.encode_to_vec() != envelope.body
    {
        return Err(VerifyError::NotCanonical);
    }
    Ok(SignedRecord {
        id: RecordId::of_body(&envelope.body),
        envelope: envelope.clone(),
        record,
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A public key known to whoever checks records: the country it is registered for and
/// whether it has been revoked since.
#[derive(Clone, Copy, Debug)]
pub struct KnownKey {
    /// The country the key is registered for.
    pub country: CountryCode,
    /// The key.
    pub key: VerifyingKey,
    /// Revoked since (records it signed earlier may still be shown).
    pub revoked: bool,
}

/// The public keys a reader checks stored records with (its own and its partners').
#[derive(Clone, Debug, Default)]
pub struct Keyring(std::collections::HashMap<KeyId, KnownKey>);

/// How a record's signature checked against a [`Keyring`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureCheck {
    /// `verify_strict` passed with a key registered for the record's origin country.
    Verified {
        /// The key id's first 12 hex digits.
        key: String,
        /// Its country.
        country: CountryCode,
        /// Revoked since.
        revoked: bool,
    },
    /// The signer's key is not in the keyring.
    KeyUnknown(String),
    /// Verification failed, or the key belongs to another country than the record claims.
    Failed(String),
}

impl SignatureCheck {
    /// Short text for people.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Verified {
                key,
                country,
                revoked,
            } => format!(
                "verified (verify_strict, key {key}, registered for {country}{})",
                if *revoked { ", since revoked" } else { "" }
            ),
            Self::KeyUnknown(k) => {
                format!("not checked here: key {k} is not registered on this node")
            }
            Self::Failed(e) => format!("FAILED: {e}"),
        }
    }
}

impl Keyring {
    /// Adds a key.
    pub fn insert(&mut self, country: CountryCode, key: VerifyingKey, revoked: bool) {
        self.0.insert(
            KeyId::of(&key),
            KnownKey {
                country,
                key,
                revoked,
            },
        );
    }

    /// Checks a stored envelope: the record (verified, or only decoded when its key is not
    /// in the keyring or verification failed) and how its signature checked.
    ///
    /// # Errors
    /// The body does not decode at all.
    pub fn check(
        &self,
        envelope: &pb::Envelope,
    ) -> Result<(SignedRecord, SignatureCheck), VerifyError> {
        let key_hex = hex::encode(&envelope.key_id);
        let short = key_hex.get(..12).unwrap_or(&key_hex).to_owned();
        let mut owner = None;
        let check = match verify_envelope(envelope, |id| {
            self.0.get(id).map(|k| {
                owner = Some(*k);
                k.key
            })
        }) {
            Ok(signed) => {
                let check = match owner {
                    Some(k) if k.country != signed.record.origin.country => {
                        SignatureCheck::Failed(format!(
                            "key {short} is registered for {}, but the record claims {}",
                            k.country, signed.record.origin
                        ))
                    }
                    Some(k) => SignatureCheck::Verified {
                        key: short,
                        country: k.country,
                        revoked: k.revoked,
                    },
                    None => SignatureCheck::Failed("no key".into()),
                };
                return Ok((signed, check));
            }
            Err(VerifyError::UnknownKey(_)) => SignatureCheck::KeyUnknown(short),
            Err(e) => SignatureCheck::Failed(e.to_string()),
        };
        // Not verifiable here: decoded for display only.
        let body = pb::RecordBody::decode(envelope.body.as_slice())?;
        let record = Record::from_pb(&body)?;
        Ok((
            SignedRecord {
                id: RecordId::of_body(&envelope.body),
                envelope: envelope.clone(),
                record,
            },
            check,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_key_announcement_needs_the_new_keys_proof_for_its_own_origin() {
        let origin = Origin::parse("KR/seoul").unwrap();
        let next = SigningKey::from_bytes(&[9u8; 32]);
        let good = Record {
            origin: origin.clone(),
            seq: 3,
            created_at_ms: 1,
            kind: RecordKind::KeyAnnouncement(KeyAnnouncement::new(&origin, &next, None)),
        };
        assert_eq!(Record::from_pb(&good.to_pb()).unwrap(), good);
        // Another desk re-announcing KR's key as its own: the proof names KR/seoul.
        let mut stolen = good.to_pb();
        stolen.origin = Some(Origin::parse("TH/bkk").unwrap().to_pb());
        let e = Record::from_pb(&stolen).unwrap_err();
        assert!(e.to_string().contains("key_announcement.proof"), "{e}");
        // No proof at all.
        let mut bare = good.to_pb();
        if let Some(pb::record_body::Kind::KeyAnnouncement(k)) = &mut bare.kind {
            k.proof.clear();
        }
        assert!(Record::from_pb(&bare).is_err());
    }

    #[test]
    fn a_restore_declaration_is_the_first_record_after_its_floor() {
        let origin = Origin::parse("KR/seoul").unwrap();
        let decl = |seq: u64, floor: u64| Record {
            origin: origin.clone(),
            seq,
            created_at_ms: 1,
            kind: RecordKind::RestoreDeclaration(RestoreDeclaration {
                backup_log_size: 10,
                backup_last_seq: 5,
                previous_head: vec![],
                previous_size: 0,
                recovered: 0,
                seq_floor: floor,
                detail: None,
            }),
        };
        assert!(Record::from_pb(&decl(40, 40).to_pb()).is_ok());
        let e = Record::from_pb(&decl(41, 40).to_pb()).unwrap_err();
        assert!(e.to_string().contains("seq_floor"), "{e}");
        assert!(
            Record::from_pb(&decl(5, 5).to_pb()).is_err(),
            "floor above the backup"
        );
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn alert(title: &str, family: &str, doc: &str, day: u8) -> Alert {
        Alert::from_json(&format!(
            r#"{{"title": {title:?},
               "subject": {{"traveler": {{"family_name": {family:?}, "given_names": "Minh",
                  "document": {{"type": "passport", "number": {doc:?}, "issuing_country": "VN"}}}}}},
               "substances": ["ketamine"], "risk": "high",
               "validity": {{"valid_from": "2026-11-{day:02}", "valid_until": "2027-01-31"}},
               "distribution": {{"countries": ["KR", "VN"]}},
               "handling": {{"tlp": "amber+strict", "no_onward_sharing": true}}}}"#
        ))
        .unwrap()
    }

    fn record(a: Alert, seq: u64) -> Record {
        Record {
            origin: Origin::parse("VN/hcm").unwrap(),
            seq,
            created_at_ms: 1_790_000_000_000,
            kind: RecordKind::Alert(a),
        }
    }

    fn lookup(k: &VerifyingKey) -> impl FnOnce(&KeyId) -> Option<VerifyingKey> + '_ {
        move |id| (KeyId::of(k) == *id).then_some(*k)
    }

    #[test]
    fn sign_verify_round_trip() {
        let r = record(alert("Courier", "Tran", "C1234567", 1), 1);
        let s = r.sign(&key());
        let v = verify_envelope(&s.envelope, lookup(&key().verifying_key())).unwrap();
        assert_eq!(v.record, r);
        assert_eq!(v.id, s.id);
    }

    #[test]
    fn admin_events_round_trip_and_bad_fields_are_named() {
        let k = key().verifying_key();
        let r = Record {
            origin: Origin::parse("KR/seoul").unwrap(),
            seq: 3,
            created_at_ms: 1_700_000_000_000,
            kind: RecordKind::AdminEvent(AdminEvent {
                action: AdminAction::PeerKeyRevoked,
                country: CountryCode::parse("TH").unwrap(),
                key_ids: vec![KeyId::of(&k)],
                ca_sha256: Some([7; 32]),
                detail: Note::parse("records signed with this key are refused").unwrap(),
            }),
        };
        let s = r.sign(&key());
        assert_eq!(verify_envelope(&s.envelope, lookup(&k)).unwrap().record, r);
        let mut body = r.to_pb();
        if let Some(pb::record_body::Kind::AdminEvent(e)) = &mut body.kind {
            e.key_ids[0].pop();
        }
        let err = Record::from_pb(&body).unwrap_err().to_string();
        assert!(err.contains("admin_event.key_ids[0]"), "{err}");
        let mut body = r.to_pb();
        if let Some(pb::record_body::Kind::AdminEvent(e)) = &mut body.kind {
            e.action = 0;
        }
        let err = Record::from_pb(&body).unwrap_err().to_string();
        assert!(err.contains("admin_event.action"), "{err}");
    }

    #[test]
    fn wrong_key_and_bad_lengths_fail() {
        let s = record(alert("Courier", "Tran", "C1234567", 1), 1).sign(&key());
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(matches!(
            verify_envelope(&s.envelope, |_| Some(other)),
            Err(VerifyError::UnknownKey(_))
        ));
        let mut e = s.envelope.clone();
        e.signature.pop();
        assert!(matches!(
            verify_envelope(&e, lookup(&key().verifying_key())),
            Err(VerifyError::SignatureLength(63))
        ));
        let mut e = s.envelope.clone();
        e.body = vec![0; MAX_BODY_BYTES + 1];
        assert!(matches!(
            verify_envelope(&e, lookup(&key().verifying_key())),
            Err(VerifyError::BodyTooLarge(_))
        ));
    }

    #[test]
    fn signature_without_context_is_refused() {
        // A signature over the bare body (no domain separation) must not verify.
        let s = record(alert("Courier", "Tran", "C1234567", 1), 1).sign(&key());
        let mut e = s.envelope.clone();
        e.signature = key().sign(&e.body).to_bytes().to_vec();
        assert!(matches!(
            verify_envelope(&e, lookup(&key().verifying_key())),
            Err(VerifyError::BadSignature(_))
        ));
    }

    #[test]
    fn validly_signed_but_invalid_body_is_refused() {
        let mut body = record(alert("Courier", "Tran", "C1234567", 1), 1).to_pb();
        if let Some(pb::record_body::Kind::Alert(a)) = &mut body.kind {
            a.distribution = Some(pb::Distribution::default());
        }
        let bytes = body.encode_to_vec();
        let e = pb::Envelope {
            signature: key().sign(&signing_message(&bytes)).to_bytes().to_vec(),
            body: bytes,
            key_id: KeyId::of(&key().verifying_key()).0.to_vec(),
        };
        let err = verify_envelope(&e, lookup(&key().verifying_key())).unwrap_err();
        assert!(
            err.to_string().contains("alert.distribution.countries"),
            "{err}"
        );
    }

    /// A partner's validly signed record whose text hides characters (a bidi override, a
    /// zero-width space) is refused as a whole, naming the field: the same model checks run
    /// on what partners send as on what officers type.
    #[test]
    fn partner_records_with_format_characters_are_refused() {
        let k = key().verifying_key();
        let origin = Origin::parse("VN/hcm").unwrap();
        let base = alert("Courier", "Tran", "C1234567", 1);
        let hit = Record {
            origin: origin.clone(),
            seq: 2,
            created_at_ms: 1_790_000_000_000,
            kind: RecordKind::Hit(Hit {
                alert_id: RecordId([3; 32]),
                alert_origin: Origin::parse("KR/seoul").unwrap(),
                score: 900,
                matched: vec![MatchedField {
                    field: ShortText::parse("consignee_name").unwrap(),
                    value: Text::parse("golden star").unwrap(),
                    reason: ShortText::parse("similar name").unwrap(),
                }],
                subject_reference: ShortText::parse("D1").unwrap(),
                screened_on: Date::parse("2026-11-02").unwrap(),
            }),
        };
        let outcome = Record {
            origin: origin.clone(),
            seq: 3,
            created_at_ms: 1_790_000_000_000,
            kind: RecordKind::Outcome(Outcome {
                hit_id: RecordId([4; 32]),
                alert_origin: Origin::parse("KR/seoul").unwrap(),
                result: OutcomeResult::NothingFound,
                substance: None,
                quantity_grams: 0,
                note: Some(Note::parse("x").unwrap()),
            }),
        };
        let amendment = Record {
            origin: origin.clone(),
            seq: 4,
            created_at_ms: 1_790_000_000_000,
            kind: RecordKind::Amendment(Amendment {
                supersedes: RecordId([5; 32]),
                alert: base.clone(),
                reason: Note::parse("x").unwrap(),
            }),
        };
        type Edit = fn(&mut pb::record_body::Kind, String);
        use pb::record_body::Kind as K;
        let cases: Vec<(Record, &str, Edit)> = vec![
            (record(base.clone(), 1), "alert.title", |k, v| {
                if let K::Alert(a) = k {
                    a.title = v;
                }
            }),
            (
                record(base.clone(), 1),
                "alert.subject.traveler.family_name",
                |k, v| {
                    if let K::Alert(pb::Alert {
                        subject: Some(pb::alert::Subject::Traveler(t)),
                        ..
                    }) = k
                    {
                        t.family_name = v;
                    }
                },
            ),
            (amendment.clone(), "amendment.reason", |k, v| {
                if let K::Amendment(a) = k {
                    a.reason = v;
                }
            }),
            (amendment, "amendment.alert.title", |k, v| {
                if let K::Amendment(pb::Amendment { alert: Some(a), .. }) = k {
                    a.title = v;
                }
            }),
            (hit.clone(), "hit.matched[0].value", |k, v| {
                if let K::Hit(h) = k {
                    h.matched[0].value = v;
                }
            }),
            (hit, "hit.subject_reference", |k, v| {
                if let K::Hit(h) = k {
                    h.subject_reference = v;
                }
            }),
            (outcome, "outcome.note", |k, v| {
                if let K::Outcome(o) = k {
                    o.note = v;
                }
            }),
        ];
        for c in ['\u{202e}', '\u{200b}', '\u{2067}', '\u{ad}'] {
            for (r, field, edit) in &cases {
                // The record as it is verifies.
                let clean = signed_body(r.to_pb().encode_to_vec());
                verify_envelope(&clean, lookup(&k)).unwrap();
                let mut body = r.to_pb();
                edit(body.kind.as_mut().unwrap(), format!("Gold{c}en Star"));
                let e = signed_body(body.encode_to_vec());
                match verify_envelope(&e, lookup(&k)) {
                    Err(VerifyError::Invalid(fe)) => {
                        assert_eq!(fe.field, *field, "{fe}");
                        assert!(fe.message.contains(&format!("U+{:04X}", c as u32)), "{fe}");
                    }
                    other => panic!("{field} U+{:04X}: {other:?}", c as u32),
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// encode -> sign -> verify -> decode gives back the record, for varied content.
        #[test]
        fn round_trip(title in "[A-Za-z0-9 ]{1,60}", family in "[A-Z][a-z]{1,20}",
                      doc in "[A-Z][0-9]{7}", day in 1u8..28, seq in 1u64..u64::MAX) {
            let title = if title.trim().is_empty() { "x".to_owned() } else { title };
            let r = record(alert(&title, &family, &doc, day), seq);
            let s = r.sign(&key());
            let v = verify_envelope(&s.envelope, lookup(&key().verifying_key())).unwrap();
            prop_assert_eq!(v.record, r);
        }

        /// Changing any single byte of the body or the signature makes verification fail.
        #[test]
        fn any_changed_byte_fails(pos in any::<prop::sample::Index>(), flip in 1u8..=255,
                                  in_sig in any::<bool>()) {
            let s = record(alert("Courier", "Tran", "C1234567", 1), 9).sign(&key());
            let mut e = s.envelope.clone();
            let target = if in_sig { &mut e.signature } else { &mut e.body };
            let i = pos.index(target.len());
            target[i] ^= flip;
            prop_assert!(verify_envelope(&e, lookup(&key().verifying_key())).is_err());
        }

        /// A registered partner signing a mangled body (a byte changed, cut short, bytes
        /// spliced in) gets an error or a record that survives its own round trip; never a
        /// panic. The signature is valid, so this reaches decoding and every field check.
        #[test]
        fn mangled_bodies_signed_by_a_registered_key_never_panic(
            pos in any::<prop::sample::Index>(), flip in 1u8..=255, how in 0u8..3,
            splice in prop::collection::vec(any::<u8>(), 0..24), cargo in any::<bool>())
        {
            let r = if cargo { cargo_record() } else { record(alert("Courier", "Tran", "C1234567", 1), 9) };
            let mut body = r.sign(&key()).envelope.body;
            let i = pos.index(body.len());
            match how {
                0 => body[i] ^= flip,
                1 => body.truncate(i),
                _ => { body.splice(i..i, splice); }
            }
            let e = signed_body(body);
            if let Ok(v) = verify_envelope(&e, lookup(&key().verifying_key())) {
                // Accepted only as the exact bytes kdesk writes for that record.
                let again = v.record.sign(&key());
                prop_assert_eq!(&again.envelope.body, &e.body);
            }
        }

        /// Random bytes signed by a registered key: an error, never a panic.
        #[test]
        fn random_bodies_signed_by_a_registered_key_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..512))
        {
            let _ = verify_envelope(&signed_body(body), lookup(&key().verifying_key()));
        }
    }

    #[test]
    fn only_the_canonical_body_of_a_record_verifies() {
        let r = record(alert("Courier", "Tran", "C1234567", 1), 9);
        let good = r.sign(&key()).envelope.body;
        assert!(
            verify_envelope(&signed_body(good.clone()), lookup(&key().verifying_key())).is_ok()
        );
        // The same record with an untrimmed title: decodes, trims, but is not what kdesk signs.
        let mut body = pb::RecordBody::decode(good.as_slice()).unwrap();
        if let Some(pb::record_body::Kind::Alert(a)) = &mut body.kind {
            a.title = format!(" {} ", a.title);
        } else {
            panic!("an alert");
        }
        let e = signed_body(body.encode_to_vec());
        assert!(matches!(
            verify_envelope(&e, lookup(&key().verifying_key())),
            Err(VerifyError::NotCanonical)
        ));
        // A field repeated (the sequence number again, with the same value).
        let mut twice = good.clone();
        pb::RecordBody {
            seq: 9,
            ..Default::default()
        }
        .encode(&mut twice)
        .unwrap();
        assert!(matches!(
            verify_envelope(&signed_body(twice), lookup(&key().verifying_key())),
            Err(VerifyError::NotCanonical)
        ));
    }

    /// An envelope over arbitrary body bytes with a valid signature from [`key`].
    fn signed_body(body: Vec<u8>) -> pb::Envelope {
        let signature = key().sign(&signing_message(&body)).to_bytes().to_vec();
        pb::Envelope {
            body,
            signature,
            key_id: KeyId::of(&key().verifying_key()).0.to_vec(),
        }
    }

    /// A cargo alert with containers, parties, HS codes, weight and ports: many checked fields.
    fn cargo_record() -> Record {
        let a = Alert::from_json(include_str!(
            "../examples/alerts/cargo-sea-container-cocaine.json"
        ))
        .unwrap();
        record(a, 4)
    }
}
