//! How records are shown: JSON objects (`--json`) and terminal tables.

use serde_json::{json, Value};

use kdesk::model::CountryCode;
use kdesk::pb;
use kdesk::record::{Keyring, RecordKind, SignatureCheck, SignedRecord};

/// Public keys the CLI checks records with: the node's own and its partners'.
#[derive(Default)]
pub struct KnownKeys(pub Keyring);

impl KnownKeys {
    /// The node's own key (from its data directory) and its partners' keys (from the node).
    ///
    /// # Errors
    /// Configuration unreadable, or the node did not answer.
    pub async fn load(
        dir: &std::path::Path,
        client: &mut pb::admin_client::AdminClient<tonic::transport::Channel>,
    ) -> Result<Self, super::CliError> {
        let cfg = kdesk::config::Config::load(dir)?;
        let mut ring = Keyring::default();
        ring.insert(cfg.origin.country, cfg.public_key()?, false);
        let peers = client
            .list_peers(pb::ListPeersRequest {})
            .await?
            .into_inner()
            .peers;
        for p in peers {
            let Ok(c) = CountryCode::parse(&p.country) else {
                continue;
            };
            for k in p.keys {
                if let Ok(vk) = kdesk::keys::parse_public_key(&k.public_key_hex) {
                    ring.insert(c, vk, k.revoked_at_ms > 0);
                }
            }
        }
        Ok(Self(ring))
    }
}

/// A record as the CLI shows it: the checked body plus the node's view of it.
pub struct Shown {
    /// Decoded and checked record.
    pub signed: SignedRecord,
    /// The node's view.
    pub stored: pb::StoredRecord,
    /// Signature check done by the CLI itself (not trusting the node's word).
    pub check: SignatureCheck,
}

impl Shown {
    /// Decodes a stored record and checks its signature with the keys this node knows.
    ///
    /// # Errors
    /// The envelope is missing or does not decode.
    pub fn new(stored: pb::StoredRecord, keys: &KnownKeys) -> Result<Self, String> {
        let env = stored
            .envelope
            .as_ref()
            .ok_or("node returned a record without envelope")?;
        let (signed, check) = keys.0.check(env).map_err(|e| e.to_string())?;
        Ok(Self {
            signed,
            stored,
            check,
        })
    }

    /// The JSON object printed by `--json`.
    pub fn to_json(&self) -> Value {
        let r = &self.signed.record;
        let alert = r.kind.alert();
        let none_if_empty = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
        json!({
            "id": self.signed.id.to_hex(),
            "origin": r.origin.to_string(),
            "seq": r.seq,
            "kind": r.kind.name(),
            "status": self.stored.status,
            "created_at": rfc3339(r.created_at_ms),
            "stored_at": rfc3339(self.stored.stored_at_ms),
            "route": alert.map(|a| a.route_name()),
            "title": alert.map(|a| a.title.to_string()),
            "superseded_by": none_if_empty(&self.stored.superseded_by),
            "retracted_by": none_if_empty(&self.stored.retracted_by),
            "equivocation": self.stored.equivocation,
            "key_id": hex::encode(&self.signed.envelope.key_id),
            "signature": hex::encode(&self.signed.envelope.signature),
            "signature_check": self.check.text(),
            "content": content_json(&r.kind),
        })
    }

    /// One table row.
    pub fn row(&self) -> String {
        let r = &self.signed.record;
        let (route, substances, risk, title) = match r.kind.alert() {
            Some(a) => (
                a.route_name().to_owned(),
                a.substances
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                a.risk.as_str().to_owned(),
                a.title.to_string(),
            ),
            None => (
                "-".into(),
                "-".into(),
                "-".into(),
                match &r.kind {
                    RecordKind::Retraction(x) => format!("retracts {}", x.target.short()),
                    RecordKind::Hit(h) => format!("hit on {}", h.alert_id.short()),
                    RecordKind::Outcome(o) => format!("outcome of hit {}", o.hit_id.short()),
                    RecordKind::AdminEvent(e) => format!("{} {}", e.action.as_str(), e.country),
                    RecordKind::RestoreDeclaration(r) => format!(
                        "restored from a backup; seq {}-{} not reused",
                        r.backup_last_seq + 1,
                        r.seq_floor - 1
                    ),
                    RecordKind::KeyAnnouncement(k) => format!(
                        "next signing key {}",
                        &kdesk::record::KeyId::of(&k.public_key).to_hex()[..16]
                    ),
                    _ => String::new(),
                },
            ),
        };
        let mut title = title;
        if title.chars().count() > 48 {
            title = title.chars().take(47).collect::<String>() + "…";
        }
        format!(
            "{:<12}  {:<12} {:>5}  {:<10}  {:<10}  {:<13}  {:<24}  {:<8}  {}",
            self.signed.id.short(),
            r.origin.to_string(),
            r.seq,
            r.kind.name(),
            self.stored.status,
            route,
            substances,
            risk,
            title
        )
    }
}

/// Header matching [`Shown::row`].
pub fn header() -> String {
    format!(
        "{:<12}  {:<12} {:>5}  {:<10}  {:<10}  {:<13}  {:<24}  {:<8}  {}",
        "ID", "ORIGIN", "SEQ", "KIND", "STATUS", "ROUTE", "SUBSTANCES", "RISK", "TITLE"
    )
}

fn content_json(kind: &RecordKind) -> Value {
    let to = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    match kind {
        RecordKind::Alert(a) => to(serde_json::to_value(a)),
        RecordKind::Amendment(a) => json!({
            "supersedes": a.supersedes.to_hex(),
            "reason": a.reason.to_string(),
            "alert": to(serde_json::to_value(&a.alert)),
        }),
        RecordKind::Retraction(r) => json!({
            "target": r.target.to_hex(),
            "reason": r.reason.to_string(),
            "distribution": to(serde_json::to_value(&r.distribution)),
        }),
        RecordKind::Hit(h) => json!({
            "alert_id": h.alert_id.to_hex(),
            "alert_origin": h.alert_origin.to_string(),
            "score": h.score,
            "subject_reference": h.subject_reference.to_string(),
            "screened_on": h.screened_on.to_string(),
            "matched": h.matched.iter().map(|m| json!({
                "field": m.field.to_string(), "value": m.value.to_string(),
                "reason": m.reason.to_string()})).collect::<Vec<_>>(),
        }),
        RecordKind::Outcome(o) => json!({
            "hit_id": o.hit_id.to_hex(),
            "alert_origin": o.alert_origin.to_string(),
            "result": o.result.as_str(),
            "substance": o.substance.map(|s| s.as_str()),
            "quantity_kg": o.quantity_grams as f64 / 1000.0,
            "note": o.note.as_ref().map(|n| n.to_string()),
        }),
        RecordKind::AdminEvent(e) => json!({
            "action": e.action.as_str(),
            "country": e.country.to_string(),
            "key_ids": e.key_ids.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
            "ca_sha256": e.ca_sha256.map(hex::encode),
            "detail": e.detail.to_string(),
        }),
        RecordKind::RestoreDeclaration(r) => json!({
            "backup_log_size": r.backup_log_size,
            "backup_last_seq": r.backup_last_seq,
            "previous_size": r.previous_size,
            "recovered": r.recovered,
            "seq_floor": r.seq_floor,
            "detail": r.detail.as_ref().map(|n| n.to_string()),
        }),
        RecordKind::KeyAnnouncement(k) => json!({
            "public_key": hex::encode_upper(k.public_key.as_bytes()),
            "key_id": kdesk::record::KeyId::of(&k.public_key).to_hex(),
            "detail": k.detail.as_ref().map(|n| n.to_string()),
        }),
    }
}

/// RFC 3339 UTC time of a millisecond timestamp.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
