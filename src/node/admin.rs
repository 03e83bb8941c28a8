//! The Admin gRPC service (see `proto/kdesk/v1/admin.proto`).

use std::pin::Pin;
use std::sync::Arc;

use sha2::Digest;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::{error, info, warn};

use super::Node;
use crate::federation::registry::{CompiledPeer, PeerEntry, PeerKey, Registry, Revocations};
use crate::keys;
use crate::model::{Alert, CountryCode, Date, FieldError, Note};
use crate::pb;
use crate::record::{
    AdminAction, AdminEvent, Amendment, KeyId, RecordId, RecordKind, Retraction, SignedRecord,
    KIND_NAMES,
};
use crate::store::{disk, display_status, StoreError, StoredEntry};

/// Serves the Admin API for one node.
pub struct AdminService {
    node: Arc<Node>,
    /// The store counters `status` read last (shown, marked stale, when the store is slow).
    counters: std::sync::Mutex<Option<StoreCounters>>,
}

impl AdminService {
    /// Wraps a node.
    pub fn new(node: Arc<Node>) -> Self {
        Self {
            node,
            counters: std::sync::Mutex::new(None),
        }
    }

    fn resolve(&self, text: &str, field: &str) -> Result<RecordId, Status> {
        match self.node.store.resolve(text).map_err(internal)? {
            Ok(id) => Ok(id),
            Err(msg) if msg.starts_with("no record") => Err(Status::not_found(msg)),
            Err(msg) => Err(Status::invalid_argument(format!("{field}: {msg}"))),
        }
    }

    /// Issues one record for a client request; `request` is the request message, whose
    /// `request_id` (if any) makes a retry return the original record.
    async fn issue<M: prost::Message + Clone>(
        &self,
        kind: RecordKind,
        method: &str,
        request: &M,
        request_id: &str,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let rid = request_key(method, request, request_id)?;
        let issued = self
            .node
            .issue_request(vec![kind], rid)
            .await
            .map_err(Status::from)?;
        let (id, _) = issued
            .refs
            .first()
            .ok_or_else(|| Status::internal("nothing issued"))?;
        let entry = self
            .node
            .store
            .get(id)
            .map_err(internal)?
            .ok_or_else(|| Status::internal("record vanished after store"))?;
        Ok(Response::new(pb::IssueResponse {
            record: Some(view(&entry, &self.revocations())?),
            replayed: issued.replayed,
        }))
    }

    /// Records a change of trust configuration in this node's own log (for auditors).
    async fn admin_event(
        &self,
        action: AdminAction,
        country: CountryCode,
        key_ids: Vec<KeyId>,
        ca_sha256: Option<[u8; 32]>,
        detail: String,
    ) -> Result<(), Status> {
        let detail: String = detail.chars().take(512).collect();
        let detail = Note::parse(&detail).map_err(|e| internal(e.at("detail")))?;
        self.node
            .record_trust_change(RecordKind::AdminEvent(AdminEvent {
                action,
                country,
                key_ids,
                ca_sha256,
                detail,
            }))
            .await
            .map_err(|e| {
                Status::internal(format!(
                    "the change was made, but recording it in the audit log failed: {e}"
                ))
            })?;
        Ok(())
    }

    /// Witnessing state of every registered partner.
    fn witness_infos(&self) -> Result<Vec<pb::WitnessInfo>, Status> {
        let s = &self.node.store;
        let evidence = s.evidence().map_err(internal)?;
        let mut out = vec![];
        for p in self.registry_read()?.peers() {
            let c = p.entry.country;
            let seen = s
                .seen_head(c)
                .map_err(internal)?
                .and_then(|h| crate::audit::witness::decode_head(&h.head).ok());
            let n_evidence = evidence
                .iter()
                .filter(|e| e.subject.as_ref().is_some_and(|o| o.country == c.as_str()))
                .count() as u64;
            let state = match (n_evidence, self.node.fed.witness_state(c)) {
                (n, Some(st)) if n > 0 && !st.starts_with("ALARM") => {
                    format!("ALARM: {n} piece(s) of evidence kept; now: {st}")
                }
                (n, None) if n > 0 => format!("ALARM: {n} piece(s) of evidence kept"),
                (_, Some(st)) => st,
                (_, None) => "not yet witnessed".into(),
            };
            out.push(pb::WitnessInfo {
                country: c.to_string(),
                seen_size: seen.as_ref().map_or(0, |h| h.size),
                seen_root_hex: seen
                    .as_ref()
                    .map(|h| hex::encode(h.root))
                    .unwrap_or_default(),
                seen_at_ms: seen.as_ref().map_or(0, |h| h.timestamp_ms),
                state,
                cosigned_size: s
                    .latest_cosigned(c, u64::MAX)
                    .map_err(internal)?
                    .unwrap_or(0),
                evidence: n_evidence,
            });
        }
        Ok(out)
    }

    fn registry_read(&self) -> Result<std::sync::RwLockReadGuard<'_, Registry>, Status> {
        self.node
            .fed
            .registry
            .read()
            .map_err(|_| Status::internal("registry unavailable"))
    }

    /// A CA certificate (by SHA-256) may be registered for one partner country only.
    fn check_ca_serves_one_country(
        &self,
        sha: &[u8; 32],
        country: CountryCode,
    ) -> Result<(), Status> {
        match self.registry_read()?.ca_owner(sha) {
            Some(owner) if owner != country => Err(Status::invalid_argument(format!(
                "ca: this CA certificate is already registered for {owner}; a CA serves one \
                 country, so its certificates could be taken for either"
            ))),
            _ => Ok(()),
        }
    }

    /// A signing key may be registered for one partner only, and never this node's own.
    fn check_new_key(
        &self,
        key: &ed25519_dalek::VerifyingKey,
        country: CountryCode,
    ) -> Result<(), Status> {
        if *key == self.node.public_key() {
            return Err(Status::invalid_argument(
                "signing-key: this is this node's own signing key, not a partner's",
            ));
        }
        if let Some(r) = self
            .node
            .store
            .revoked_key(key.as_bytes())
            .map_err(internal)?
        {
            let why = if r.compromised {
                format!("for {}, as compromised", r.country)
            } else {
                format!("for {}, from {}", r.country, rfc3339_ms(r.from_ms))
            };
            return Err(Status::invalid_argument(format!(
                "signing-key: this key was revoked ({why}); a revoked key is never trusted \
                 again: ask the partner for a new one"
            )));
        }
        match self.registry_read()?.key_owner(key) {
            Some(owner) if owner != country => Err(Status::invalid_argument(format!(
                "signing-key: already registered for {owner}; a key belongs to one partner \
                 (remove it there first if it really moved)"
            ))),
            _ => Ok(()),
        }
    }

    fn registry_write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Registry>, Status> {
        self.node
            .fed
            .registry
            .write()
            .map_err(|_| Status::internal("registry unavailable"))
    }

    fn peer_infos(&self) -> Result<Vec<pb::PeerInfo>, Status> {
        let peers = self.registry_read()?.peers();
        peers.iter().map(|p| self.peer_info(p)).collect()
    }

    fn peer_info(&self, p: &CompiledPeer) -> Result<pb::PeerInfo, Status> {
        let c = p.entry.country;
        let link = self.node.fed.link_stats(c);
        Ok(pb::PeerInfo {
            country: c.to_string(),
            endpoint: p.entry.endpoint.clone(),
            ca_subject: p.ca_subject.clone(),
            keys: p
                .entry
                .keys
                .iter()
                .map(|k| pb::PeerKeyInfo {
                    key_id_hex: keys::parse_public_key(&k.public_key)
                        .map(|vk| KeyId::of(&vk).to_hex())
                        .unwrap_or_default(),
                    public_key_hex: k.public_key.clone(),
                    added_at_ms: k.added_at_ms,
                    revoked_at_ms: k.revoked_at_ms.unwrap_or(0),
                    compromised: k.compromised,
                    pending: k.pending,
                })
                .collect(),
            crl_count: p.entry.crl_pems.len() as u32,
            added_at_ms: p.entry.added_at_ms,
            link: link.state.describe(),
            cursor: self.node.store.cursor(c).map_err(internal)?,
            stored: link.stored,
            duplicates: link.duplicates,
            rejected: link.rejected,
            last_error: link.last_error.map(|e| e.describe()).unwrap_or_default(),
            inbound_connections: u32::try_from(self.node.fed.conns.count_country(c))
                .unwrap_or(u32::MAX),
        })
    }

    fn require_federation(&self) -> Result<(), Status> {
        if self.node.fed.identity.is_none() {
            return Err(Status::failed_precondition(
                "this node does not federate: add an [exchange] section to kdesk.toml \
                 (or init with --listen) and a node certificate in tls/",
            ));
        }
        Ok(())
    }

    /// Checks a registration, stores and flushes it, then makes it live. `refuse` maps a
    /// registration that does not compile to a status.
    async fn commit_peer(
        &self,
        entry: &PeerEntry,
        refuse: fn(String) -> Status,
    ) -> Result<pb::PeerInfo, Status> {
        let compiled = crate::federation::commit_registration(&self.node.cx, entry)
            .await
            .map_err(|e| match e {
                crate::federation::CommitError::Refused(m) => refuse(m),
                crate::federation::CommitError::Store(e) => internal(e),
            })?;
        self.peer_info(&compiled)
    }

    fn view_signed(&self, s: &SignedRecord) -> Result<pb::StoredRecord, Status> {
        let entry = self
            .node
            .store
            .get(&s.id)
            .map_err(internal)?
            .ok_or_else(|| Status::internal("record vanished after store"))?;
        view(&entry, &self.revocations())
    }

    /// The registry's revoked keys now.
    fn revocations(&self) -> Revocations {
        self.node
            .fed
            .registry
            .read()
            .map(|r| r.revocations())
            .unwrap_or_default()
    }
}

/// Registration changes (`peer add/update/revoke-key/remove`), each run whole.
impl AdminService {
    /// A second handle on the same node, for work that outlives the request.
    fn detached(&self) -> Self {
        Self::new(self.node.clone())
    }

    /// Runs one registration change to its end, alone: it holds the node's registration lock
    /// (no other change, admin or fetched CRL, runs meanwhile) in a task of its own, so a
    /// client that goes away cannot leave a change half made or let another start on the
    /// registration as it was.
    async fn exclusively<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = Result<T, Status>> + Send + 'static,
    ) -> Result<T, Status> {
        let guard = self.node.fed.changes.clone().lock_owned().await;
        tokio::spawn(async move {
            let _one_change_at_a_time = guard;
            work.await
        })
        .await
        .map_err(internal)?
    }

    async fn add_peer_now(
        &self,
        req: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        self.require_federation()?;
        let r = req.into_inner();
        let country = CountryCode::parse(&r.country).map_err(|e| invalid(e.at("country")))?;
        if country == self.node.origin().country {
            return Err(Status::invalid_argument(format!(
                "country: {country} is this node's own country; partners are other desks"
            )));
        }
        if self.registry_read()?.peer(country).is_some() {
            return Err(Status::already_exists(format!(
                "{country} is already registered; remove it first to change its registration"
            )));
        }
        // A new partner brings records to store: not while the disk is in its reserve.
        self.node
            .check_disk_reserve()
            .map_err(|e| Status::resource_exhausted(e.to_string()))?;
        let now = super::now_ms();
        let key = keys::parse_public_key(&r.signing_key)
            .map_err(|e| Status::invalid_argument(format!("signing-key: {e}")))?;
        self.check_new_key(&key, country)?;
        if let Ok(sha) = crate::pki::cert_sha256(&r.ca_pem, "ca") {
            self.check_ca_serves_one_country(&sha, country)?;
        }
        let entry = PeerEntry {
            country,
            endpoint: r.endpoint.trim().to_owned(),
            ca_pem: r.ca_pem,
            crl_pems: r.crl_pem,
            keys: vec![PeerKey {
                public_key: hex::encode(key.as_bytes()),
                added_at_ms: now,
                revoked_at_ms: None,
                compromised: false,
                pending: false,
            }],
            added_at_ms: now,
        };
        let info = self.commit_peer(&entry, Status::invalid_argument).await?;
        info!(peer = %country, endpoint = %entry.endpoint, "partner registered");
        crate::federation::replicator::spawn(self.node.cx.clone(), country);
        let ca_sha256 = crate::pki::certs(&entry.ca_pem, "ca")
            .ok()
            .and_then(|c| c.first().map(|c| sha2::Sha256::digest(c.as_ref()).into()));
        self.admin_event(
            AdminAction::PeerAdded,
            country,
            vec![KeyId::of(&key)],
            ca_sha256,
            format!(
                "endpoint {}, {} CRL(s)",
                entry.endpoint,
                entry.crl_pems.len()
            ),
        )
        .await?;
        Ok(Response::new(info))
    }

    async fn update_peer_now(
        &self,
        req: Request<pb::UpdatePeerRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        self.require_federation()?;
        let r = req.into_inner();
        let country = CountryCode::parse(&r.country).map_err(|e| invalid(e.at("country")))?;
        let peer = self
            .registry_read()?
            .peer(country)
            .ok_or_else(|| Status::not_found(format!("{country} is not a registered partner")))?;
        let mut entry = peer.entry.clone();
        let mut changes = Vec::new();
        let now = super::now_ms();
        if !r.endpoint.trim().is_empty() && r.endpoint.trim() != entry.endpoint {
            entry.endpoint = r.endpoint.trim().to_owned();
            changes.push(format!("endpoint {}", entry.endpoint));
        }
        let mut ca_sha = None;
        if !r.ca_pem.trim().is_empty() {
            let sha = crate::pki::cert_sha256(&r.ca_pem, "ca")
                .map_err(|e| Status::invalid_argument(format!("ca: {e}")))?;
            self.check_ca_serves_one_country(&sha, country)?;
            entry.ca_pem = r.ca_pem.clone();
            ca_sha = Some(sha);
            changes.push(format!("CA {}", hex::encode(&sha[..8])));
        }
        if r.replace_crls {
            entry.crl_pems = r.crl_pem.clone();
            changes.push(format!("{} CRL(s)", entry.crl_pems.len()));
        }
        let mut key_ids = Vec::new();
        for (i, k) in r.add_keys.iter().enumerate() {
            let key = keys::parse_public_key(k)
                .map_err(|e| Status::invalid_argument(format!("add-key[{i}]: {e}")))?;
            self.check_new_key(&key, country)?;
            let hexkey = hex::encode(key.as_bytes());
            if entry.keys.iter().any(|k| k.public_key == hexkey) {
                return Err(Status::invalid_argument(format!(
                    "add-key[{i}]: already registered for {country}"
                )));
            }
            entry.keys.push(PeerKey {
                public_key: hexkey,
                added_at_ms: now,
                revoked_at_ms: None,
                compromised: false,
                pending: false,
            });
            key_ids.push(KeyId::of(&key));
            changes.push(format!("key {} added", KeyId::of(&key).to_hex()));
        }
        for (i, want) in r.retire_keys.iter().enumerate() {
            let k = find_key(&entry, want, &format!("retire-key[{i}]"))?;
            if entry.keys[k].revoked_at_ms.is_none() {
                entry.keys[k].revoked_at_ms = Some(now);
                if let Ok(vk) = keys::parse_public_key(&entry.keys[k].public_key) {
                    key_ids.push(KeyId::of(&vk));
                    changes.push(format!("key {} retired", KeyId::of(&vk).to_hex()));
                }
            }
        }
        let mut confirmed = 0usize;
        for (i, want) in r.confirm_keys.iter().enumerate() {
            let k = find_key(&entry, want, &format!("confirm-key[{i}]"))?;
            if !entry.keys[k].pending {
                return Err(Status::invalid_argument(format!(
                    "confirm-key[{i}]: {want} is not an announced key waiting for confirmation"
                )));
            }
            entry.keys[k].pending = false;
            confirmed += 1;
            if let Ok(vk) = keys::parse_public_key(&entry.keys[k].public_key) {
                key_ids.push(KeyId::of(&vk));
                changes.push(format!(
                    "announced key {} confirmed",
                    KeyId::of(&vk).to_hex()
                ));
            }
        }
        if entry
            .keys
            .iter()
            .all(|k| k.revoked_at_ms.is_some() || k.pending)
        {
            return Err(Status::invalid_argument(
                "retire-key: the partner would have no usable signing key left; add one first",
            ));
        }
        if changes.is_empty() {
            return Err(Status::invalid_argument(
                "nothing to change: give --endpoint, --ca, --crl/--no-crl, --add-signing-key, --retire-signing-key or --confirm-signing-key",
            ));
        }
        let info = self.commit_peer(&entry, Status::invalid_argument).await?;
        info!(peer = %country, changes = %changes.join("; "), "partner registration updated");
        // A new endpoint or CA: reconnect with the new registration.
        // A confirmed key: reconnect at once, so records the link held back are read now.
        if !r.endpoint.trim().is_empty() || ca_sha.is_some() || r.replace_crls || confirmed > 0 {
            crate::federation::replicator::spawn(self.node.cx.clone(), country);
        }
        let action = if confirmed == changes.len() {
            AdminAction::PeerKeyConfirmed
        } else {
            AdminAction::PeerUpdated
        };
        self.admin_event(
            action,
            country,
            key_ids
                .into_iter()
                .take(crate::record::MAX_EVENT_KEYS)
                .collect(),
            ca_sha,
            format!("registration updated: {}", changes.join("; ")),
        )
        .await?;
        Ok(Response::new(info))
    }

    async fn revoke_peer_key_now(
        &self,
        req: Request<pb::RevokePeerKeyRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        let r = req.into_inner();
        let country = CountryCode::parse(&r.country).map_err(|e| invalid(e.at("country")))?;
        let peer = self
            .registry_read()?
            .peer(country)
            .ok_or_else(|| Status::not_found(format!("{country} is not a registered partner")))?;
        let mut entry = peer.entry.clone();
        let i = find_key(&entry, &r.key, "key")?;
        let now = super::now_ms();
        let from = if r.from_ms == 0 { now } else { r.from_ms };
        if from > now {
            return Err(Status::invalid_argument(format!(
                "from: {from} ms is in the future; a key is revoked from now or an earlier time"
            )));
        }
        // Revocations only ever tighten: an earlier time, or compromised.
        let k = &mut entry.keys[i];
        let before = (k.revoked_at_ms, k.compromised);
        k.revoked_at_ms = Some(k.revoked_at_ms.map_or(from, |t| t.min(from)));
        k.compromised |= r.compromised;
        let changed = before != (k.revoked_at_ms, k.compromised);
        let (from, compromised) = (k.revoked_at_ms.unwrap_or(from), k.compromised);
        if !entry.keys.iter().any(|k| k.revoked_at_ms.is_none()) {
            warn!(peer = %country, "the partner has no usable signing key left");
        }
        // The revocation itself takes effect first and whatever else happens: remembered in
        // the store (flushed) and in force at once, even if the registration as a whole can
        // no longer be re-checked (an expired CA, say).
        if let Ok(vk) = keys::parse_public_key(&entry.keys[i].public_key) {
            self.node
                .store
                .put_revoked_key(vk.as_bytes(), from, compromised, country)
                .map_err(internal)?;
            self.node.store.flush().await.map_err(internal)?;
            if let Ok(mut reg) = self.node.fed.registry.write() {
                reg.remember_revocation(
                    KeyId::of(&vk),
                    crate::federation::registry::Revocation {
                        from_ms: from,
                        compromised,
                    },
                );
            }
            self.node.fed.registry_changed();
        }
        let info = match self.commit_peer(&entry, Status::failed_precondition).await {
            Ok(info) => info,
            Err(s) if s.code() == tonic::Code::FailedPrecondition => {
                warn!(peer = %country, cause = %s.message(), "the key is revoked, but the registration could not be re-checked; update it (peer update)");
                self.peer_info(&peer)?
            }
            Err(s) => return Err(s),
        };
        warn!(peer = %country, key = %entry.keys[i].public_key, from_ms = from, compromised, "partner signing key revoked");
        if changed {
            let kid = keys::parse_public_key(&entry.keys[i].public_key)
                .map(|k| vec![KeyId::of(&k)])
                .unwrap_or_default();
            self.admin_event(
                AdminAction::PeerKeyRevoked,
                country,
                kid,
                None,
                if compromised {
                    "compromised: every record signed with this key is refused and marked key-revoked".into()
                } else {
                    format!(
                        "records signed with this key from {} on are refused and marked key-revoked",
                        rfc3339_ms(from)
                    )
                },
            )
            .await?;
        }
        Ok(Response::new(info))
    }

    async fn remove_peer_now(
        &self,
        req: Request<pb::RemovePeerRequest>,
    ) -> Result<Response<pb::RemovePeerResponse>, Status> {
        let country =
            CountryCode::parse(&req.get_ref().country).map_err(|e| invalid(e.at("country")))?;
        let removed = self.registry_write()?.remove(country);
        self.node.fed.registry_changed();
        // Live connections of the removed partner close now, with their streams.
        let closed = self.node.fed.revalidate_connections();
        self.node.fed.stop_replicator(country);
        let stored = self.node.store.remove_peer(country).map_err(internal)?;
        self.node.store.flush().await.map_err(internal)?;
        if !removed && !stored {
            return Err(Status::not_found(format!(
                "{country} is not a registered partner"
            )));
        }
        info!(peer = %country, connections_closed = closed, "partner removed");
        self.admin_event(
            AdminAction::PeerRemoved,
            country,
            vec![],
            None,
            "registration, keys and CA removed".into(),
        )
        .await?;
        Ok(Response::new(pb::RemovePeerResponse {}))
    }
}

/// Converts a stored entry to its API view.
fn view(entry: &StoredEntry, revs: &Revocations) -> Result<pb::StoredRecord, Status> {
    let record = entry.record().map_err(internal)?;
    Ok(pb::StoredRecord {
        envelope: Some(entry.envelope.clone()),
        status: status_of(entry, &record, Date::today_utc(), revs).to_owned(),
        superseded_by: entry
            .state
            .and_then(|s| s.superseded_by)
            .map(|i| i.to_hex())
            .unwrap_or_default(),
        retracted_by: entry
            .state
            .and_then(|s| s.retracted_by)
            .map(|i| i.to_hex())
            .unwrap_or_default(),
        stored_at_ms: entry.stored_at_ms,
        equivocation: entry.equivocation,
        // Set by listings, which walk the log.
        position: 0,
    })
}

/// A record's status as shown: `key-revoked` when its signing key was revoked for its time,
/// else its lifecycle status.
fn status_of(
    entry: &StoredEntry,
    record: &crate::record::Record,
    today: Date,
    revs: &Revocations,
) -> &'static str {
    if key_revoked(entry, record, revs) {
        "key-revoked"
    } else {
        display_status(entry, record, today)
    }
}

/// Whether the key that signed a stored record has been revoked for the record's time.
pub fn key_revoked(
    entry: &StoredEntry,
    record: &crate::record::Record,
    revs: &Revocations,
) -> bool {
    crate::federation::registry::revoked_for(revs, &entry.envelope, record.created_at_ms)
}

/// The index of the one key of `entry` whose public key or key id starts with `want`.
fn find_key(entry: &PeerEntry, want: &str, field: &str) -> Result<usize, Status> {
    let want = want.trim().to_ascii_lowercase();
    if want.len() < 8 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Status::invalid_argument(format!(
            "{field}: give the public key or key id in hex (at least 8 digits), got {want:?}"
        )));
    }
    let matches: Vec<usize> = entry
        .keys
        .iter()
        .enumerate()
        .filter(|(_, k)| {
            let kid = keys::parse_public_key(&k.public_key)
                .map(|vk| KeyId::of(&vk).to_hex())
                .unwrap_or_default();
            k.public_key.starts_with(&want) || kid.starts_with(&want)
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(Status::not_found(format!(
            "{field}: {} has no key matching {want}",
            entry.country
        ))),
        _ => Err(Status::invalid_argument(format!(
            "{field}: {want} matches several keys; give more digits"
        ))),
    }
}

/// A time in ms since the epoch as RFC 3339 (UTC).
fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// How long `status` waits for the store's counters before showing the last ones read.
const STATUS_STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The counters `status` reads from the store.
#[derive(Debug, Clone, Default)]
struct StoreCounters {
    total: u64,
    own: u64,
    last_seq: u64,
    equivocations: u64,
    alerts_active: u64,
    size_on_disk: u64,
    log_length: u64,
    witness_evidence: u64,
    /// Refused from partners (stored counters): (country, reason, count).
    refused: Vec<(String, String, u64)>,
}

fn store_counters(n: &Node) -> Result<StoreCounters, StoreError> {
    let s = &n.store;
    Ok(StoreCounters {
        total: s.len() as u64,
        own: s.count_origin(n.origin()) as u64,
        last_seq: s.last_seq(n.origin())?,
        equivocations: s.equivocations() as u64,
        alerts_active: s.active_alerts() as u64,
        size_on_disk: s.size_on_disk(),
        log_length: s.log_len()?,
        witness_evidence: s.evidence()?.len() as u64,
        refused: s.refused_counts()?,
    })
}

/// Most alerts one `IssueAlerts` request may carry (one transaction, one flush).
pub const MAX_ALERTS_PER_BATCH: usize = 5_000;

/// The idempotency key of a request: its `request_id` (checked) and a fingerprint of the
/// request without it. `None` when the client gave no id.
fn request_key<M: prost::Message + Clone>(
    method: &str,
    request: &M,
    request_id: &str,
) -> Result<Option<super::RequestId>, Status> {
    if request_id.is_empty() {
        return Ok(None);
    }
    check_request_id(request_id).map_err(Status::invalid_argument)?;
    // The request is hashed as sent, id included: the same id with other content differs.
    let mut h = sha2::Sha256::new();
    h.update(b"kdesk/v1/request\0");
    h.update(method.as_bytes());
    h.update([0]);
    h.update(request.encode_to_vec());
    Ok(Some(super::RequestId {
        id: request_id.to_owned(),
        fingerprint: h.finalize().into(),
    }))
}

/// A request id: 1-128 characters of A-Z a-z 0-9 . _ : -.
pub fn check_request_id(id: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "request_id {id:?} must be 1-128 characters of A-Z a-z 0-9 . _ : -"
        ))
    }
}

/// A log position at or before the first record in `from..end` stored at or after `since_ms`:
/// a binary search over store times, which follow log order except for batches written
/// concurrently (whose times may interleave by up to [`SINCE_SLACK_MS`]).
fn first_stored_near(store: &crate::store::Store, since_ms: i64, from: u64, end: u64) -> u64 {
    let target = since_ms.saturating_sub(SINCE_SLACK_MS);
    let stored_at = |p: u64| -> Option<i64> {
        let (_, id) = store.log_range(p, p + 1).next()?.ok()?;
        Some(store.get(&id).ok()??.stored_at_ms)
    };
    let (mut lo, mut hi) = (from, end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match stored_at(mid) {
            Some(t) if t < target => lo = mid + 1,
            Some(_) => hi = mid,
            // Unreadable: fall back to reading from the start of the range.
            None => return from,
        }
    }
    lo
}

/// How far apart in time records stored at about the same moment may be out of log order.
const SINCE_SLACK_MS: i64 = 60_000;

fn internal(e: impl std::fmt::Display) -> Status {
    error!(cause = %e, "admin request failed");
    Status::internal(e.to_string())
}

fn invalid(e: FieldError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// An alert arriving through the Admin API: parsed, and refused if already expired.
fn parse_new_alert(a: Option<&pb::Alert>, field: &str) -> Result<Alert, Status> {
    let a = a.ok_or_else(|| Status::invalid_argument(format!("{field}: is required")))?;
    let alert = Alert::try_from(a).map_err(|e| invalid(e.within(field)))?;
    let today = Date::today_utc();
    if alert.validity.valid_until() < today {
        return Err(invalid(FieldError::new(
            format!("{field}.validity.valid_until"),
            format!(
                "{} is in the past (today is {today}); an alert must still be valid when issued",
                alert.validity.valid_until()
            ),
        )));
    }
    Ok(alert)
}

fn parse_reason(text: &str) -> Result<Note, Status> {
    Note::parse(text).map_err(|e| invalid(e.at("reason")))
}

/// Record filter of `ListRecords`.
struct Filter {
    origin: String,
    kind: String,
    route: String,
    status: String,
}

impl Filter {
    fn parse(r: pb::ListRecordsRequest) -> Result<Self, Status> {
        let origin = r.origin.trim().to_owned();
        if !origin.is_empty() {
            let ok = if origin.contains('/') {
                crate::record::Origin::parse(&origin).is_ok()
            } else {
                crate::model::CountryCode::parse(&origin).is_ok()
            };
            if !ok {
                return Err(Status::invalid_argument(format!(
                    "origin: {origin:?} must be a country code (KR) or COUNTRY/node (KR/seoul)"
                )));
            }
        }
        let kind = r.kind.trim().to_ascii_lowercase();
        if !kind.is_empty() && !KIND_NAMES.contains(&kind.as_str()) {
            return Err(Status::invalid_argument(format!(
                "kind: {kind:?} must be one of {}",
                KIND_NAMES.join(", ")
            )));
        }
        let route = r.route.trim().to_ascii_lowercase();
        if !route.is_empty()
            && route != "traveler"
            && crate::model::CargoRoute::parse(&route).is_err()
        {
            return Err(Status::invalid_argument(format!(
                "route: {route:?} must be traveler or one of {}",
                crate::model::CargoRoute::names()
            )));
        }
        let status = r.status.trim().to_ascii_lowercase();
        const STATUSES: [&str; 6] = [
            "active",
            "superseded",
            "retracted",
            "expired",
            "recorded",
            "key-revoked",
        ];
        if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
            return Err(Status::invalid_argument(format!(
                "status: {status:?} must be one of {}",
                STATUSES.join(", ")
            )));
        }
        Ok(Self {
            origin: origin.to_ascii_uppercase(),
            kind,
            route,
            status,
        })
    }

    fn matches(
        &self,
        entry: &StoredEntry,
        today: Date,
        revs: &Revocations,
    ) -> Result<bool, StoreError> {
        let rec = entry.record()?;
        if !self.origin.is_empty() {
            let o = rec.origin.to_string().to_ascii_uppercase();
            let c = rec.origin.country.as_str();
            if o != self.origin && c != self.origin {
                return Ok(false);
            }
        }
        if !self.kind.is_empty() && rec.kind.name() != self.kind {
            return Ok(false);
        }
        if !self.route.is_empty()
            && rec.kind.alert().map(|a| a.route_name()) != Some(self.route.as_str())
        {
            return Ok(false);
        }
        if !self.status.is_empty() && status_of(entry, &rec, today, revs) != self.status {
            return Ok(false);
        }
        Ok(true)
    }
}

type RecordStream = Pin<Box<dyn Stream<Item = Result<pb::StoredRecord, Status>> + Send>>;

#[tonic::async_trait]
impl pb::admin_server::Admin for AdminService {
    async fn status(
        &self,
        _: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let n = &self.node;
        // Counters read from the store, with a time limit: a stalled store must not make
        // status hang. Past the limit, the last counters read are shown, marked stale.
        let node = n.clone();
        let read = tokio::time::timeout(
            STATUS_STORE_WAIT,
            tokio::task::spawn_blocking(move || store_counters(&node)),
        )
        .await;
        let (counters, stale) = match read {
            Ok(Ok(Ok(c))) => {
                if let Ok(mut cache) = self.counters.lock() {
                    *cache = Some(c.clone());
                }
                (c, false)
            }
            Ok(Ok(Err(e))) => return Err(internal(e)),
            Ok(Err(e)) => return Err(internal(e)),
            Err(_) => (
                self.counters
                    .lock()
                    .ok()
                    .and_then(|c| c.clone())
                    .unwrap_or_default(),
                true,
            ),
        };
        let disk = crate::store::disk::space(&n.config.database)
            .unwrap_or(crate::store::disk::DiskSpace { free: 0, total: 0 });
        let stall = n.stalled();
        Ok(Response::new(pb::StatusResponse {
            origin: Some(pb::Origin {
                country: n.origin().country.to_string(),
                node: n.origin().node.to_string(),
            }),
            public_key_hex: hex::encode(n.public_key().as_bytes()),
            key_id_hex: crate::record::KeyId::of(&n.public_key()).to_hex(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_seconds: n.uptime_seconds(),
            data_dir: n.config.data_dir.display().to_string(),
            records_total: counters.total,
            records_own: counters.own,
            records_received: counters.total.saturating_sub(counters.own),
            last_seq: counters.last_seq,
            equivocations: counters.equivocations,
            alerts_active: counters.alerts_active,
            size_on_disk_bytes: counters.size_on_disk,
            exchange_address: n
                .fed
                .exchange_addr
                .get()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            // Totals kept in the store, so they survive restarts.
            rejections: {
                let mut by_reason = std::collections::BTreeMap::<String, u64>::new();
                for (_, reason, count) in &counters.refused {
                    *by_reason.entry(reason.clone()).or_default() += count;
                }
                by_reason
                    .into_iter()
                    .map(|(name, count)| pb::Counter { name, count })
                    .collect()
            },
            peers: if stale {
                Vec::new()
            } else {
                self.peer_infos()?
            },
            log_length: counters.log_length,
            handshakes_refused: n.fed.handshakes_refused.total(),
            handshake_refusals: n
                .fed
                .handshakes_refused
                .by_reason()
                .into_iter()
                .map(|(name, count)| pb::Counter { name, count })
                .collect(),
            witness: if stale {
                Vec::new()
            } else {
                self.witness_infos()?
            },
            witness_evidence: counters.witness_evidence,
            disk_free_bytes: disk.free,
            disk_total_bytes: disk.total,
            disk_reserve_bytes: n.config.min_free_bytes,
            stalled: stall.is_some(),
            stall_what: stall.as_ref().map(|s| s.what.clone()).unwrap_or_default(),
            stall_seconds: stall.as_ref().map_or(0, |s| s.for_.as_secs()),
            counters_stale: stale,
            flushes: n.store.flushes(),
            stopping: n.is_stopping(),
            storage_error: match n.check_disk_reserve() {
                Err(
                    e
                    @ (disk::ReserveError::WriteFailed { .. } | disk::ReserveError::NoRoom { .. }),
                ) => e.to_string(),
                _ => String::new(),
            },
            warnings: {
                let mut w = n.trust_warnings();
                if n.cx.is_recovering() {
                    w.push(format!(
                        "restored from a backup: signing nothing until partners hand back what this node signed since ({})",
                        n.fed.recovery_state().unwrap_or_else(|| "starting".into())
                    ));
                }
                w
            },
            held_lines: n.store.held_count(),
            retro_hits: n.store.retro_hit_count(),
            metrics_address: n
                .metrics_addr
                .get()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            taxii_address: n
                .taxii_addr
                .get()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            expiries: n
                .expiries()
                .into_iter()
                .map(|e| pb::Expiry {
                    kind: e.kind.into(),
                    country: e.country.to_string(),
                    own: e.own,
                    expires_at: e.expires_at,
                })
                .collect(),
        }))
    }

    async fn reload_tls(
        &self,
        _: Request<pb::ReloadTlsRequest>,
    ) -> Result<Response<pb::ReloadTlsResponse>, Status> {
        match self.node.reload_tls().await {
            Ok(r) => Ok(Response::new(pb::ReloadTlsResponse {
                serial_hex: r.serial_hex,
                not_after: r.not_after,
                crl_next_update: r.crl_next_update.unwrap_or(0),
            })),
            Err(e @ super::reload::ReloadError::NotFederating) => {
                Err(Status::failed_precondition(e.to_string()))
            }
            Err(e @ super::reload::ReloadError::Refused { .. }) => {
                Err(Status::invalid_argument(e.to_string()))
            }
            Err(e) => Err(Status::internal(e.to_string())),
        }
    }

    type BackupStream =
        Pin<Box<dyn Stream<Item = Result<pb::BackupChunk, Status>> + Send + 'static>>;

    async fn backup(
        &self,
        _: Request<pb::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let node = self.node.clone();
        let path = node
            .config
            .data_dir
            .join(format!("backup-{}.partial", crate::record::now_ms()));
        let p = path.clone();
        // No key rotation meanwhile: the keys and the database of a backup belong together.
        let rotation = self.node.rotation_lock.lock().await;
        let header = tokio::task::spawn_blocking(move || node.write_backup(&p))
            .await
            .map_err(|e| Status::internal(format!("backup task: {e}")))?;
        drop(rotation);
        let header = match header {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(Status::internal(format!("backup: {e}")));
            }
        };
        let header_json = serde_json::to_string(&header).unwrap_or_default();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut first = Some(header_json);
            let sent = async {
                let mut f = tokio::fs::File::open(&path).await?;
                loop {
                    let mut buf = vec![0u8; 1 << 20];
                    let n = f.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<(), std::io::Error>(());
                    }
                    buf.truncate(n);
                    let chunk = pb::BackupChunk {
                        header_json: first.take().unwrap_or_default(),
                        data: buf,
                    };
                    if tx.send(Ok(chunk)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            .await;
            if let Err(e) = sent {
                let _ = tx.send(Err(Status::internal(format!("backup: {e}")))).await;
            }
            let _ = tokio::fs::remove_file(&path).await;
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn rotate_signing_key(
        &self,
        req: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let reason = match req.get_ref().reason.trim() {
            "" => None,
            r => Some(
                crate::model::Note::parse(r)
                    .map_err(|e| Status::invalid_argument(format!("reason: {e}")))?,
            ),
        };
        use super::rotation::RotationError;
        match self.node.rotate_signing_key(reason).await {
            Ok(r) => Ok(Response::new(pb::RotateSigningKeyResponse {
                old_key_id: r.old.to_hex(),
                new_key_id: r.new.to_hex(),
                new_public_key: hex::encode(r.public_key.as_bytes()),
                announcement_seq: r.announcement_seq,
            })),
            Err(e @ RotationError::Busy) => Err(Status::failed_precondition(e.to_string())),
            Err(RotationError::Issue(e)) => Err(e.into()),
            Err(e) => Err(Status::internal(e.to_string())),
        }
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::ConsistencyProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        let (a, b) = (req.get_ref().first_size, req.get_ref().second_size);
        let node = self.node.clone();
        crate::federation::exchange::proof_response(
            tokio::task::spawn_blocking(move || node.log.consistency_proof(a, b)).await,
        )
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::InclusionProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        let (i, n) = (req.get_ref().index, req.get_ref().tree_size);
        let node = self.node.clone();
        crate::federation::exchange::proof_response(
            tokio::task::spawn_blocking(move || node.log.inclusion_proof(i, n)).await,
        )
    }

    async fn witness(
        &self,
        _: Request<pb::WitnessRequest>,
    ) -> Result<Response<pb::WitnessResponse>, Status> {
        Ok(Response::new(pb::WitnessResponse {
            partners: self.witness_infos()?,
            evidence: self.node.store.evidence().map_err(internal)?,
        }))
    }

    async fn issue_alert(
        &self,
        req: Request<pb::IssueAlertRequest>,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let r = req.into_inner();
        let alert = parse_new_alert(r.alert.as_ref(), "alert").inspect_err(|e| {
            warn!(reason = %e.message(), "alert refused");
        })?;
        self.issue(RecordKind::Alert(alert), "IssueAlert", &r, &r.request_id)
            .await
    }

    async fn issue_alerts(
        &self,
        req: Request<pb::IssueAlertsRequest>,
    ) -> Result<Response<pb::IssueAlertsResponse>, Status> {
        let r = req.into_inner();
        if r.alerts.len() > MAX_ALERTS_PER_BATCH {
            return Err(Status::invalid_argument(format!(
                "alerts: {} alerts in one batch; at most {MAX_ALERTS_PER_BATCH}",
                r.alerts.len()
            )));
        }
        let kinds = r
            .alerts
            .iter()
            .enumerate()
            .map(|(i, a)| parse_new_alert(Some(a), &format!("alerts[{i}]")).map(RecordKind::Alert))
            .collect::<Result<Vec<_>, _>>()?;
        let rid = request_key("IssueAlerts", &r, &r.request_id)?;
        let issued = self
            .node
            .issue_request(kinds, rid)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(pb::IssueAlertsResponse {
            records: issued
                .refs
                .iter()
                .map(|(id, seq)| pb::IssuedRef {
                    id: id.0.to_vec(),
                    seq: *seq,
                })
                .collect(),
            replayed: issued.replayed,
        }))
    }

    async fn amend_alert(
        &self,
        req: Request<pb::AmendAlertRequest>,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let r = req.into_inner();
        let target = self.resolve(&r.target, "target")?;
        let alert = parse_new_alert(r.alert.as_ref(), "alert")?;
        let reason = parse_reason(&r.reason)?;
        self.issue(
            RecordKind::Amendment(Amendment {
                supersedes: target,
                alert,
                reason,
            }),
            "AmendAlert",
            &r,
            &r.request_id,
        )
        .await
    }

    async fn retract_alert(
        &self,
        req: Request<pb::RetractAlertRequest>,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let r = req.into_inner();
        let target = self.resolve(&r.target, "target")?;
        let reason = parse_reason(&r.reason)?;
        let entry = self
            .node
            .store
            .get(&target)
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no record with id {target}")))?;
        let rec = entry.record().map_err(internal)?;
        let distribution = rec
            .kind
            .alert()
            .map(|a| a.distribution.clone())
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "target {target} is a {}, not an alert",
                    rec.kind.name()
                ))
            })?;
        self.issue(
            RecordKind::Retraction(Retraction {
                target,
                reason,
                distribution,
            }),
            "RetractAlert",
            &r,
            &r.request_id,
        )
        .await
    }

    type ListRecordsStream = RecordStream;

    async fn list_records(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<Self::ListRecordsStream>, Status> {
        let req = req.into_inner();
        let from = if req.paged {
            req.after_position.saturating_add(1)
        } else {
            0
        };
        let limit = match req.limit {
            0 => usize::MAX,
            n => n as usize,
        };
        let since = req.since_ms;
        let filter = Filter::parse(req)?;
        let store = self.node.store.clone();
        let revs = self.revocations();
        let end = self.node.log.durable_len();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        // sled iteration is blocking: walk the log on a blocking thread and stream each
        // record as it is read (the first line reaches the client at once, memory stays flat).
        tokio::task::spawn_blocking(move || {
            let today = Date::today_utc();
            let mut sent = 0usize;
            // With --since, start near the first record stored then (found by halving, not
            // by reading the log from its start); the filter below stays exact.
            let from = if since > 0 {
                from.max(first_stored_near(&store, since, from, end))
            } else {
                from
            };
            for at in store.log_range(from, end) {
                let item = at.map_err(internal).and_then(|(position, id)| {
                    let Some(e) = store.get(&id).map_err(internal)? else {
                        return Ok(None);
                    };
                    if e.stored_at_ms < since {
                        return Ok(None);
                    }
                    match filter.matches(&e, today, &revs) {
                        Ok(true) => view(&e, &revs).map(|mut v| {
                            v.position = position;
                            Some(v)
                        }),
                        Ok(false) => Ok(None),
                        Err(err) => Err(internal(err)),
                    }
                });
                let stop = item.is_err();
                match item {
                    Ok(None) => continue,
                    Ok(Some(v)) => {
                        if tx.blocking_send(Ok(v)).is_err() {
                            return; // client went away
                        }
                        sent += 1;
                        if sent >= limit {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                    }
                }
                if stop {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn add_peer(
        &self,
        req: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        let svc = self.detached();
        self.exclusively(async move { svc.add_peer_now(req).await })
            .await
    }

    async fn list_peers(
        &self,
        _: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        Ok(Response::new(pb::ListPeersResponse {
            peers: self.peer_infos()?,
        }))
    }

    async fn remove_peer(
        &self,
        req: Request<pb::RemovePeerRequest>,
    ) -> Result<Response<pb::RemovePeerResponse>, Status> {
        let svc = self.detached();
        self.exclusively(async move { svc.remove_peer_now(req).await })
            .await
    }

    async fn update_peer(
        &self,
        req: Request<pb::UpdatePeerRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        let svc = self.detached();
        self.exclusively(async move { svc.update_peer_now(req).await })
            .await
    }

    async fn list_quarantine(
        &self,
        req: Request<pb::ListQuarantineRequest>,
    ) -> Result<Response<pb::ListQuarantineResponse>, Status> {
        let c = &req.get_ref().country;
        let country = if c.is_empty() {
            None
        } else {
            Some(CountryCode::parse(c).map_err(|e| invalid(e.at("country")))?)
        };
        let store = self.node.store.clone();
        let items = tokio::task::spawn_blocking(move || store.quarantined(country))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let records = items
            .into_iter()
            .map(|q| {
                use prost::Message;
                let body = pb::RecordBody::decode(q.envelope.body.as_slice()).ok();
                pb::QuarantinedRecord {
                    country: q.peer.to_string(),
                    id: q.id.0.to_vec(),
                    origin: body.as_ref().and_then(|b| b.origin.clone()),
                    seq: body.as_ref().map_or(0, |b| b.seq),
                    received_at_ms: q.received_at_ms,
                    reason: q.reason,
                    key_id: q.envelope.key_id.clone(),
                }
            })
            .collect();
        Ok(Response::new(pb::ListQuarantineResponse { records }))
    }

    async fn revoke_peer_key(
        &self,
        req: Request<pb::RevokePeerKeyRequest>,
    ) -> Result<Response<pb::PeerInfo>, Status> {
        let svc = self.detached();
        self.exclusively(async move { svc.revoke_peer_key_now(req).await })
            .await
    }

    async fn get_tree_head(
        &self,
        _: Request<pb::GetTreeHeadRequest>,
    ) -> Result<Response<pb::SignedTreeHead>, Status> {
        let node = self.node.clone();
        let sth = tokio::task::spawn_blocking(move || node.log.tree_head())
            .await
            .map_err(internal)?
            .map_err(internal)?;
        Ok(Response::new(sth))
    }

    type ScreenStream =
        Pin<Box<dyn Stream<Item = Result<pb::ScreenResponse, Status>> + Send + 'static>>;

    async fn screen(
        &self,
        req: Request<tonic::Streaming<pb::ScreenRequest>>,
    ) -> Result<Response<Self::ScreenStream>, Status> {
        let mut input = req.into_inner();
        let first = input
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("options: send the options first"))?;
        let Some(pb::screen_request::Item::Options(opts)) = first.item else {
            return Err(Status::invalid_argument(
                "options: the first message must carry the options",
            ));
        };
        let format = match opts.format.as_str() {
            "" => None,
            f => Some(crate::screen::Format::parse(f).ok_or_else(|| {
                Status::invalid_argument(format!(
                    "options.format: {f:?} is not csv, jsonl, paxlst, cuscar, xfwb or xfzb"
                ))
            })?),
        };
        let mapping = match opts.mapping.as_str() {
            "" => None,
            m => Some(std::sync::Arc::new(
                crate::screen::formats::mapped_csv::Mapping::parse(m)
                    .map_err(|e| Status::invalid_argument(format!("options.{e}")))?,
            )),
        };
        if mapping.is_some() && format.is_some_and(|f| f != crate::screen::Format::Csv) {
            return Err(Status::invalid_argument(
                "options.mapping: a mapping applies to CSV files only",
            ));
        }
        let read = crate::screen::ReadOptions { format, mapping };
        let date = super::screening::screening_date(&opts.date, Date::today_utc())
            .map_err(Status::invalid_argument)?;
        let engine = self
            .node
            .screen_engine(!opts.no_names, date)
            .await
            .map_err(internal)?;
        let intel = self.node.intel_engine(!opts.no_names, date).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(super::screening::run(
            self.node.clone(),
            engine,
            intel,
            read,
            opts,
            input,
            tx,
        ));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn record_outcome(
        &self,
        req: Request<pb::RecordOutcomeRequest>,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let r = req.into_inner();
        let hit = self.resolve(&r.hit, "hit")?;
        let signed = super::screening::record_outcome(&self.node, hit, &r).await?;
        Ok(Response::new(pb::IssueResponse {
            record: Some(self.view_signed(&signed)?),
            replayed: false,
        }))
    }

    async fn list_hits(
        &self,
        req: Request<pb::ListHitsRequest>,
    ) -> Result<Response<pb::ListHitsResponse>, Status> {
        let r = req.into_inner();
        let after = match r.after_id.trim() {
            "" => None,
            h => Some(crate::record::RecordId::parse_hex(h).map_err(|e| {
                Status::invalid_argument(format!(
                    "after: {h:?} is not a hit id (64 hex digits, the `id` of the last hit printed): {e}"
                ))
            })?),
        };
        let page = super::screening::HitPage {
            limit: if r.limit == 0 {
                usize::MAX
            } else {
                r.limit as usize
            },
            since_ms: r.since_ms,
            after,
        };
        let node = self.node.clone();
        let (hits, retro) = tokio::task::spawn_blocking(move || {
            Ok::<_, crate::store::StoreError>((
                super::screening::list_hits(&node, &page)?,
                super::retro::list(&node)?
                    .into_iter()
                    .filter(|h| h.found_at_ms >= page.since_ms)
                    .take(page.limit)
                    .collect(),
            ))
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        Ok(Response::new(pb::ListHitsResponse { hits, retro }))
    }

    async fn report(
        &self,
        req: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        let r = req.into_inner();
        let day = |v: &str, field: &str| match v.trim() {
            "" => Ok(None),
            d => Date::parse(d).map(Some).map_err(|e| invalid(e.at(field))),
        };
        let period =
            crate::screen::report::Period::new(day(&r.since, "since")?, day(&r.until, "until")?)
                .map_err(Status::invalid_argument)?;
        let node = self.node.clone();
        let report = tokio::task::spawn_blocking(move || super::screening::report(&node, period))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        Ok(Response::new(report))
    }

    async fn export_audit(
        &self,
        req: Request<pb::ExportAuditRequest>,
    ) -> Result<Response<pb::ExportAuditResponse>, Status> {
        let r = req.into_inner();
        let path = std::path::PathBuf::from(&r.path);
        if !path.is_absolute() {
            return Err(Status::invalid_argument("path: must be absolute"));
        }
        let origin = match r.origin.trim() {
            "" => None,
            o => Some(CountryCode::parse(o).map_err(|e| invalid(e.at("origin")))?),
        };
        let since = match r.since.trim() {
            "" => None,
            d => Some(Date::parse(d).map_err(|e| invalid(e.at("since")))?),
        };
        let node = self.node.clone();
        // Streamed to the file one record at a time: the node's memory does not grow with
        // the log.
        let write = tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::OpenOptionsExt;
            // A bundle may hold TLP:RED records: readable by its owner only from the moment
            // it exists (mode at creation, not a chmod after).
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(crate::audit::bundle::ExportError::Io)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            let written = node.export_audit_to(origin, since, &mut out).and_then(|r| {
                let f = out.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                Ok(r)
            });
            if written.is_err() {
                // Never leave half a bundle behind (we created the file, so it is ours).
                let _ = std::fs::remove_file(&path);
            }
            written
        })
        .await
        .map_err(internal)?;
        let (exported, size) = match write {
            Ok(w) => w,
            Err(crate::audit::bundle::ExportError::Store(e)) => return Err(internal(e)),
            // The CLI reads FAILED_PRECONDITION from this call as a write failure (exit 74).
            Err(crate::audit::bundle::ExportError::Io(e)) => {
                return Err(match e.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        Status::already_exists(format!("{}: exists; not overwritten", r.path))
                    }
                    _ => Status::failed_precondition(format!("{}: {e}", r.path)),
                });
            }
        };
        let (records, root, len) = (exported.records, exported.root, exported.bytes);
        info!(path = %r.path, records, tree_size = size, "audit bundle exported");
        Ok(Response::new(pb::ExportAuditResponse {
            records,
            tree_size: size,
            root_hex: hex::encode(root),
            bytes: len,
            complete: origin.is_none() && since.is_none(),
        }))
    }

    async fn get_record(
        &self,
        req: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::StoredRecord>, Status> {
        let id = self.resolve(&req.get_ref().id, "id")?;
        let entry = self
            .node
            .store
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no record with id {id}")))?;
        Ok(Response::new(view(&entry, &self.revocations())?))
    }

    async fn add_intel_source(
        &self,
        req: Request<pb::AddIntelSourceRequest>,
    ) -> Result<Response<pb::IntelJson>, Status> {
        let v = self
            .node
            .intel_add_source(&req.get_ref().source_json)
            .await?;
        Ok(Response::new(pb::IntelJson {
            json: v.to_string(),
        }))
    }

    async fn list_intel_sources(
        &self,
        _req: Request<pb::ListIntelSourcesRequest>,
    ) -> Result<Response<pb::IntelJsonList>, Status> {
        let v = self.node.intel_sources().await?;
        Ok(Response::new(pb::IntelJsonList {
            json: v.iter().map(|v| v.to_string()).collect(),
            more: false,
        }))
    }

    async fn import_intel(
        &self,
        req: Request<pb::ImportIntelRequest>,
    ) -> Result<Response<pb::ImportIntelResponse>, Status> {
        let r = req.into_inner();
        let ids = self
            .node
            .intel_import(&r.source, &r.items, &r.import)
            .await?;
        Ok(Response::new(pb::ImportIntelResponse { ids }))
    }

    async fn list_intel(
        &self,
        req: Request<pb::ListIntelRequest>,
    ) -> Result<Response<pb::IntelJsonList>, Status> {
        let r = req.into_inner();
        let (json, more) = self.node.intel_list(r.after, r.limit).await?;
        Ok(Response::new(pb::IntelJsonList { json, more }))
    }

    async fn get_intel(
        &self,
        req: Request<pb::GetIntelRequest>,
    ) -> Result<Response<pb::IntelJson>, Status> {
        let v = self.node.intel_show(req.get_ref().id).await?;
        Ok(Response::new(pb::IntelJson {
            json: v.to_string(),
        }))
    }

    async fn link_intel(
        &self,
        req: Request<pb::LinkIntelRequest>,
    ) -> Result<Response<pb::IntelJson>, Status> {
        let r = req.get_ref();
        let v = self.node.intel_link(r.a, r.b).await?;
        Ok(Response::new(pb::IntelJson {
            json: v.to_string(),
        }))
    }

    async fn promote_intel(
        &self,
        req: Request<pb::PromoteIntelRequest>,
    ) -> Result<Response<pb::IssueResponse>, Status> {
        let r = req.into_inner();
        let alert = self.node.intel_alert(&r).await.inspect_err(|e| {
            warn!(reason = %e.message(), item = r.id, "promotion refused");
        })?;
        let resp = self
            .issue(RecordKind::Alert(alert), "PromoteIntel", &r, &r.request_id)
            .await?;
        let id = resp
            .get_ref()
            .record
            .as_ref()
            .and_then(|v| v.envelope.as_ref())
            .map(|e| RecordId::of_body(&e.body))
            .ok_or_else(|| Status::internal("the promoted alert has no id"))?;
        self.node.intel_promoted(r.id, id).await?;
        Ok(resp)
    }

    async fn list_intel_hits(
        &self,
        _req: Request<pb::ListIntelHitsRequest>,
    ) -> Result<Response<pb::IntelJsonList>, Status> {
        let (json, more) = self.node.intel_hits().await?;
        Ok(Response::new(pb::IntelJsonList { json, more }))
    }

    async fn record_intel_outcome(
        &self,
        req: Request<pb::RecordIntelOutcomeRequest>,
    ) -> Result<Response<pb::IntelJson>, Status> {
        let v = self.node.intel_record_outcome(req.get_ref()).await?;
        Ok(Response::new(pb::IntelJson {
            json: v.to_string(),
        }))
    }

    type ExportStixStream =
        Pin<Box<dyn Stream<Item = Result<pb::ExportStixChunk, Status>> + Send + 'static>>;

    async fn export_stix(
        &self,
        _req: Request<pb::ExportStixRequest>,
    ) -> Result<Response<Self::ExportStixStream>, Status> {
        let objects = self.node.stix_objects(None).await?;
        let n = objects.len() as u64;
        let bundle = crate::intel::stix::bundle(objects.into_iter().map(|o| o.json));
        let text = serde_json::to_vec_pretty(&bundle).map_err(internal)?;
        info!(objects = n, bytes = text.len(), "STIX bundle exported");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut chunks = text.chunks(1 << 20).peekable();
            if chunks.peek().is_none() {
                let _ = tx
                    .send(Ok(pb::ExportStixChunk {
                        data: vec![],
                        objects: n,
                        last: true,
                    }))
                    .await;
            }
            while let Some(c) = chunks.next() {
                let last = chunks.peek().is_none();
                let chunk = pb::ExportStixChunk {
                    data: c.to_vec(),
                    objects: if last { n } else { 0 },
                    last,
                };
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
