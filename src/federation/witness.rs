//! Witnessing: every `witness_interval` this node fetches each partner's signed tree head,
//! checks it against the last head of that partner it verified (same root for the same size,
//! never smaller, a consistency proof for a larger one), cosigns it when it holds, and fetches
//! the cosignatures the partner made of this node's heads. A rollback or split view is logged,
//! kept as evidence (both signed heads) and shown in `kdesk status` for good: the partner's
//! later heads are no longer cosigned against anything but the last consistent one.

use std::sync::Arc;

use tonic::transport::Channel;
use tracing::{error, info, warn};

use super::registry::CompiledPeer;
use super::Context;
use crate::audit::witness::{self, Judgement};
use crate::model::CountryCode;
use crate::pb;
use crate::record::now_ms;

type Client = pb::exchange_client::ExchangeClient<Channel>;

/// Witnesses one partner until the node stops or the partner is removed.
pub async fn run(cx: Arc<Context>, country: CountryCode) {
    let Some(interval) = cx.exchange.as_ref().map(|e| e.witness_interval) else {
        return;
    };
    let Some(live) = cx.fed.identity.clone() else {
        return;
    };
    let mut stopping = cx.stopping_watch();
    let mut client: Option<Client> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(super::replicator::jitter(interval)) => {}
            _ = stopping.changed() => return,
        }
        if *stopping.borrow() {
            return;
        }
        let peer = cx.fed.registry.read().ok().and_then(|r| r.peer(country));
        let Some(peer) = peer else { return };
        let c = match client.as_mut() {
            Some(c) => c,
            None => match super::replicator::connect(&peer, &live.current()).await {
                Ok(ch) => client.insert(
                    Client::new(ch)
                        .max_decoding_message_size(1 << 20)
                        .max_encoding_message_size(4096),
                ),
                Err(e) => {
                    cx.fed
                        .set_witness_state(country, format!("partner unreachable: {e}"));
                    continue;
                }
            },
        };
        if let Err(e) = witness_once(&cx, &peer, c).await {
            warn!(peer = %country, cause = %e, "witnessing failed; retrying next round");
            cx.fed
                .set_witness_state(country, format!("last round failed: {e}"));
            client = None;
            continue;
        }
        if let Err(e) = fetch_crl(&cx, &peer, c).await {
            warn!(peer = %country, cause = %e, "partner CRL not applied");
        }
    }
}

/// Fetches the partner's published CRL and applies it when it is signed by the registered CA
/// and newer than every CRL registered for the partner.
///
/// # Errors
/// Transport failure, or a CRL that does not check (as text).
pub async fn fetch_crl(
    cx: &Arc<Context>,
    peer: &CompiledPeer,
    client: &mut Client,
) -> Result<(), String> {
    let country = peer.entry.country;
    let r = match client.get_crl(pb::CrlRequest {}).await {
        Ok(r) => r.into_inner(),
        // A partner running an older kdesk publishes none.
        Err(s) if s.code() == tonic::Code::Unimplemented => return Ok(()),
        Err(s) => return Err(format!("GetCrl: {}", s.message())),
    };
    if r.crl_pem.trim().is_empty() || r.crl_pem.len() > super::exchange::MAX_CRL_BYTES {
        return Ok(());
    }
    if peer
        .entry
        .crl_pems
        .iter()
        .any(|p| p.trim() == r.crl_pem.trim())
    {
        return Ok(());
    }
    // A restored node changes no registration until it has declared its restore: the CRL is
    // fetched again next round.
    if cx.is_recovering() {
        return Ok(());
    }
    // Applied under the registration lock, on the registration as it is then (an admin may
    // have changed it while the CRL was fetched), in a task of its own that runs to the end.
    let guard = cx.fed.changes.clone().lock_owned().await;
    let n = cx.clone();
    tokio::spawn(async move {
        let _one_change_at_a_time = guard;
        apply_crl(&n, country, r.crl_pem).await
    })
    .await
    .map_err(|e| format!("CRL task: {e}"))?
}

/// Applies a partner's CRL if it is signed by the registered CA and newer than every CRL
/// registered; records it when it revokes other certificates than before, and restarts the
/// partner's links under it. The caller holds the registration lock.
async fn apply_crl(cx: &Arc<Context>, country: CountryCode, crl_pem: String) -> Result<(), String> {
    let Some(peer) = cx.fed.registry.read().ok().and_then(|r| r.peer(country)) else {
        return Ok(()); // removed meanwhile
    };
    if peer
        .entry
        .crl_pems
        .iter()
        .any(|p| p.trim() == crl_pem.trim())
    {
        return Ok(());
    }
    let info = crate::pki::check_crl(&crl_pem, &peer.entry.ca_pem).map_err(|e| e.to_string())?;
    // Never go back to an older CRL (a replayed one would un-revoke certificates).
    let registered: Vec<crate::pki::CrlInfo> = peer
        .entry
        .crl_pems
        .iter()
        .filter_map(|p| crate::pki::check_crl(p, &peer.entry.ca_pem).ok())
        .collect();
    if registered.iter().any(|i| i.this_update >= info.this_update) {
        return Ok(());
    }
    let same_revocations = registered.iter().any(|old| old.serials == info.serials);
    let mut entry = peer.entry.clone();
    entry.crl_pems = vec![crl_pem];
    super::commit_registration(cx, &entry)
        .await
        .map_err(|e| e.to_string())?;
    info!(peer = %country, revoked = info.revoked, "partner CRL fetched and applied");
    if same_revocations {
        // A refreshed CRL revoking the same certificates: nothing for the audit log, and the
        // links stay as they are.
        return Ok(());
    }
    // Links to the partner reconnect under the new CRL (the witness task that fetched it ends
    // at its next wait; this task is not it).
    super::replicator::spawn(cx.clone(), country);
    let detail = crate::model::Note::parse(&format!(
        "CRL fetched from the partner and applied: {} certificate(s) revoked",
        info.revoked
    ))
    .map_err(|e| e.to_string())?;
    let ca_sha = crate::pki::cert_sha256(&entry.ca_pem, "ca").ok();
    cx.record_trust_change(crate::record::RecordKind::AdminEvent(
        crate::record::AdminEvent {
            action: crate::record::AdminAction::PeerUpdated,
            country,
            key_ids: vec![],
            ca_sha256: ca_sha,
            detail,
        },
    ))
    .await
    .map_err(|e| format!("the CRL was applied, but recording it failed: {e}"))?;
    Ok(())
}

/// Applies a partner's key announcement (stored and flushed; its signature verified with the
/// partner's registered key): the new key is registered as pending, or in force at once under
/// `[exchange] accept_announced_keys`, and the step is recorded as an admin event. Records the
/// new key signed meanwhile wait in quarantine and are judged again by the registration
/// change. Runs under the registration lock.
///
/// # Errors
/// The registration could not be stored, or the event recorded.
pub async fn apply_key_announcement(
    cx: &Arc<Context>,
    country: CountryCode,
    key: ed25519_dalek::VerifyingKey,
) -> Result<(), String> {
    // A restored node changes no registration until it has declared its restore; the
    // announcement is applied then (see `reapply_announcements`).
    if cx.is_recovering() {
        return Ok(());
    }
    let guard = cx.fed.changes.clone().lock_owned().await;
    let n = cx.clone();
    tokio::spawn(async move {
        let _one_change_at_a_time = guard;
        let (peer, owner) = match n.fed.registry.read() {
            Ok(r) => (r.peer(country), r.key_owner(&key)),
            Err(_) => return Err("registry lock poisoned".to_string()),
        };
        let Some(peer) = peer else {
            return Ok(()); // removed meanwhile
        };
        let id = crate::record::KeyId::of(&key);
        if let Some(other) = owner.filter(|c| *c != country) {
            warn!(peer = %country, key = %id.to_hex(), registered_for = %other, "announced key is registered for another partner; ignored");
            return Ok(());
        }
        let hexkey = hex::encode(key.as_bytes());
        if peer.entry.keys.iter().any(|k| k.public_key == hexkey) {
            return Ok(()); // announced again, or registered by hand already
        }
        let auto = n.exchange.as_ref().is_some_and(|e| e.accept_announced_keys);
        let mut entry = peer.entry.clone();
        // At most one key waits per partner: a newer announcement replaces an older one that
        // was never confirmed.
        entry.keys.retain(|k| !k.pending);
        entry.keys.push(super::registry::PeerKey {
            public_key: hexkey,
            added_at_ms: now_ms(),
            revoked_at_ms: None,
            compromised: false,
            pending: !auto,
        });
        super::commit_registration(&n, &entry)
            .await
            .map_err(|e| e.to_string())?;
        let (action, text) = if auto {
            (
                crate::record::AdminAction::PeerKeyConfirmed,
                "signing key announced by the partner and accepted ([exchange] accept_announced_keys)",
            )
        } else {
            (
                crate::record::AdminAction::PeerKeyAnnounced,
                "signing key announced by the partner; pending until `kdesk peer update --confirm-signing-key`",
            )
        };
        info!(peer = %country, key = %id.to_hex(), accepted = auto, "partner announced a new signing key");
        let detail = crate::model::Note::parse(text).map_err(|e| e.to_string())?;
        n.record_trust_change(crate::record::RecordKind::AdminEvent(
            crate::record::AdminEvent {
                action,
                country,
                key_ids: vec![id],
                ca_sha256: None,
                detail,
            },
        ))
        .await
        .map_err(|e| format!("the key was registered, but recording it failed: {e}"))
    })
    .await
    .map_err(|e| format!("key announcement task: {e}"))?
}

/// Applies every stored key announcement of every registered partner again (each is applied
/// once; known keys are left alone): at start, and after a restored node has declared its
/// restore, so an announcement stored just before a crash, or while recovering, is not lost.
pub async fn reapply_announcements(cx: &Arc<Context>) {
    let peers = match cx.fed.registry.read() {
        Ok(r) => r.peers(),
        Err(_) => return,
    };
    for p in peers {
        let country = p.entry.country;
        let store = cx.store.clone();
        let found = tokio::task::spawn_blocking(move || -> Result<Vec<_>, String> {
            let records = store
                .indexed_records(crate::store::IndexKind::KeyAnnouncementOf, country.as_str())
                .map_err(|e| e.to_string())?;
            Ok(records
                .into_iter()
                .filter_map(|r| match r.kind {
                    crate::record::RecordKind::KeyAnnouncement(a) => Some((r.seq, a.public_key)),
                    _ => None,
                })
                .collect::<Vec<_>>())
        })
        .await;
        let keys = match found {
            Ok(Ok(k)) => k,
            Ok(Err(e)) => {
                warn!(peer = %country, cause = %e, "stored key announcements unreadable");
                continue;
            }
            Err(_) => continue,
        };
        for (_, key) in keys {
            if let Err(e) = apply_key_announcement(cx, country, key).await {
                warn!(peer = %country, cause = %e, "applying a key announcement failed");
            }
        }
    }
}

/// One round: check and cosign the partner's head, then collect cosignatures of ours.
///
/// # Errors
/// Transport failures and refused answers, as text (evidence of misbehaviour is not an
/// error: it is kept and reported).
pub async fn witness_once(
    cx: &Arc<Context>,
    peer: &CompiledPeer,
    client: &mut Client,
) -> Result<(), String> {
    let country = peer.entry.country;
    let keys = peer.active_keys();
    let sth = client
        .get_tree_head(pb::TreeHeadRequest {})
        .await
        .map_err(|s| format!("GetTreeHead: {}", s.message()))?
        .into_inner();
    let new = witness::open_head(&sth, &keys).map_err(|e| {
        cx.fed.count_rejection(&cx.store, country, "tree-head");
        format!("tree head refused: {e}")
    })?;
    if new.origin.country != country {
        cx.fed.count_rejection(&cx.store, country, "tree-head");
        return Err(format!("{country} served a tree head of {}", new.origin));
    }
    if new.timestamp_ms > now_ms() + witness::MAX_CLOCK_SKEW_MS {
        cx.fed.count_rejection(&cx.store, country, "tree-head");
        return Err("tree head is dated in the future".into());
    }
    let seen_sth = cx.store.seen_head(country).map_err(|e| e.to_string())?;
    let seen = seen_sth
        .as_ref()
        .map(|s| witness::decode_head(&s.head))
        .transpose()
        .map_err(|e| format!("stored head of {country}: {e}"))?;
    let earlier = |k: &str| (k.to_owned(), seen_sth.clone().unwrap_or_default());
    let alarm = match (witness::judge(seen.as_ref(), &new), seen.as_ref()) {
        (Judgement::Same, _) => {
            if let Ok(mut d) = cx.fed.diverged_since.lock() {
                d.remove(&country);
            }
            None
        }
        (Judgement::First, _) => {
            accept(cx, country, &sth, new.size).await?;
            None
        }
        (Judgement::NeedsProof { from }, Some(s)) => {
            let proof = client
                .get_consistency_proof(pb::ConsistencyProofRequest {
                    first_size: from,
                    second_size: new.size,
                })
                .await
                .map_err(|st| format!("GetConsistencyProof: {}", st.message()))?
                .into_inner()
                .hashes;
            match witness::check_extends(s, &new, &proof) {
                Ok(()) => {
                    accept(cx, country, &sth, new.size).await?;
                    if let Ok(mut d) = cx.fed.diverged_since.lock() {
                        d.remove(&country);
                    }
                    None
                }
                Err(why) => Some((earlier("inconsistent"), proof, why)),
            }
        }
        (Judgement::NeedsProof { .. }, None) => None,
        (Judgement::Rollback, Some(s)) => Some((
            earlier("rollback"),
            vec![],
            format!(
                "tree shrank from {} to {}: the log was rolled back",
                s.size, new.size
            ),
        )),
        (Judgement::SplitView, Some(s)) => Some((
            earlier("split-view"),
            vec![],
            format!(
                "two roots for size {}: {} seen before, {} now",
                new.size,
                &hex::encode(s.root)[..16],
                &hex::encode(new.root)[..16]
            ),
        )),
        (Judgement::Rollback | Judgement::SplitView, None) => None,
    };
    let alarm = match (alarm, seen.as_ref()) {
        (Some(a), Some(s)) => {
            match declared_restore(cx, &new.origin, s, &keys).map_err(|e| e.to_string())? {
                Some(seq) => {
                    accept(cx, country, &sth, new.size).await?;
                    // One declaration explains one restore.
                    cx.store
                        .set_restore_accepted(country, seq)
                        .map_err(|e| e.to_string())?;
                    if let Ok(mut d) = cx.fed.diverged_since.lock() {
                        d.remove(&country);
                    }
                    info!(peer = %country, previous = s.size, size = new.size, declaration = seq, "partner restored from a backup and declared it; its new log is witnessed from here");
                    cx.fed.set_witness_state(
                        country,
                        format!(
                            "ok (size {}; restored from a backup, declared at seq {seq}, replacing a log of {})",
                            new.size, s.size
                        ),
                    );
                    let detail = crate::model::Note::parse(&format!(
                        "partner restored from a backup (declaration seq {seq}): log of {} replaced by one of {}",
                        s.size, new.size
                    ))
                    .map_err(|e| e.to_string())?;
                    cx.record_trust_change(crate::record::RecordKind::AdminEvent(
                        crate::record::AdminEvent {
                            action: crate::record::AdminAction::PeerRestoreAccepted,
                            country,
                            key_ids: vec![],
                            ca_sha256: None,
                            detail,
                        },
                    ))
                    .await
                    .map_err(|e| format!("recording the accepted restore failed: {e}"))?;
                    return collect_cosignatures(cx, peer, client).await;
                }
                None => {
                    // A restored partner's declaration may still be on its way (its log is
                    // read again from the start): judge again for a while before alarming.
                    let since = cx
                        .fed
                        .diverged_since
                        .lock()
                        .map(|mut d| *d.entry(country).or_insert_with(std::time::Instant::now))
                        .unwrap_or_else(|_| std::time::Instant::now());
                    if since.elapsed() < RESTORE_GRACE {
                        return Err(format!(
                            "the head of size {} does not extend the one witnessed ({}); waiting up to {} s for a restore declaration before raising an alarm",
                            new.size,
                            s.size,
                            RESTORE_GRACE.as_secs()
                        ));
                    }
                    Some(a)
                }
            }
        }
        (a, _) => a,
    };
    if let Some(((kind, earlier), proof, detail)) = alarm {
        let evidence = pb::WitnessEvidence {
            subject: Some(new.origin.to_pb()),
            kind: kind.clone(),
            earlier: Some(earlier.clone()),
            presented: Some(sth.clone()),
            consistency_proof: proof,
            detected_at_ms: now_ms(),
            detail: detail.clone(),
        };
        // The state is shown first, so that no reader ever sees the evidence counted while
        // the state still describes the grace period before it.
        cx.fed
            .set_witness_state(country, format!("ALARM: {kind}: {detail}"));
        let mut dedupe = kind.as_bytes().to_vec();
        dedupe.extend_from_slice(&earlier.head);
        let fresh = cx
            .store
            .put_evidence(country, &dedupe, &evidence)
            .map_err(|e| e.to_string())?;
        cx.store.flush().await.map_err(|e| e.to_string())?;
        if fresh {
            error!(peer = %country, %kind, %detail, "partner log misbehaviour detected; evidence kept");
        }
    } else if cx
        .fed
        .witness_state(country)
        .is_none_or(|s| !s.starts_with("ALARM"))
    {
        cx.fed
            .set_witness_state(country, format!("ok (size {})", new.size));
    }
    collect_cosignatures(cx, peer, client).await
}

/// How long a partner's head may fail to extend the one witnessed before, with no restore
/// declaration from it, before an alarm is raised.
pub const RESTORE_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// The sequence number of a restore declaration from `origin` that explains why its log no
/// longer extends the head `seen` this witness accepted (found through the index): not used
/// before to explain a restore, naming as the log it replaces a head the partner signed (with
/// one of `keys`) for itself, at least as large as `seen`, and the same as `seen` when of the
/// same size. A partner cannot excuse a rollback with a declaration that does not commit it to
/// the log it replaced, nor excuse two with one.
fn declared_restore(
    cx: &Context,
    origin: &crate::record::Origin,
    seen: &witness::Head,
    keys: &[ed25519_dalek::VerifyingKey],
) -> Result<Option<u64>, crate::store::StoreError> {
    let used = cx.store.restore_accepted(origin.country)?.unwrap_or(0);
    let declarations = cx.store.indexed_records(
        crate::store::IndexKind::RestoreDeclarationOf,
        origin.country.as_str(),
    )?;
    // Newest first.
    for r in declarations.into_iter().rev() {
        if r.origin != *origin || r.seq <= used {
            continue;
        }
        let crate::record::RecordKind::RestoreDeclaration(d) = r.kind else {
            continue;
        };
        let named = <pb::SignedTreeHead as prost::Message>::decode(d.previous_head.as_slice())
            .ok()
            .and_then(|sth| witness::open_head(&sth, keys).ok());
        let covers = named.is_some_and(|h| {
            h.origin == *origin
                && h.size == d.previous_size
                && h.size >= seen.size
                && (h.size != seen.size || h.root == seen.root)
        });
        if covers {
            return Ok(Some(r.seq));
        }
    }
    Ok(None)
}

/// Cosigns a partner head and keeps it as the last one seen, durably.
async fn accept(
    cx: &Arc<Context>,
    country: CountryCode,
    sth: &pb::SignedTreeHead,
    size: u64,
) -> Result<(), String> {
    let cosignature = cx.log.cosign(&sth.head);
    cx.store
        .put_witnessed(country, size, sth, &cosignature)
        .map_err(|e| e.to_string())?;
    cx.store.flush().await.map_err(|e| e.to_string())?;
    info!(peer = %country, size, "partner tree head consistent; cosigned");
    Ok(())
}

/// Fetches the partner's cosignatures of this node's heads, keeping those that check.
async fn collect_cosignatures(
    cx: &Arc<Context>,
    peer: &CompiledPeer,
    client: &mut Client,
) -> Result<(), String> {
    let country = peer.entry.country;
    let have = cx
        .store
        .latest_cosigned(country, u64::MAX)
        .map_err(|e| e.to_string())?;
    let got = client
        .get_cosignatures(pb::CosignaturesRequest {
            min_size: have.map_or(0, |s| s + 1),
        })
        .await
        .map_err(|s| format!("GetCosignatures: {}", s.message()))?
        .into_inner()
        .cosignatures;
    let keys = peer.active_keys();
    for c in got.iter().take(super::MAX_COSIGNATURES_PER_CALL) {
        let key = witness::cosignature_key(c)
            .and_then(|kid| keys.iter().find(|k| crate::record::KeyId::of(k) == kid));
        let checked = key
            .ok_or_else(|| "signed with a key not registered for the partner".to_string())
            .and_then(|k| witness::open_cosignature(c, k))
            .and_then(|co| {
                if co.witness.country != country {
                    return Err(format!("names witness {}", co.witness));
                }
                let head = witness::decode_head(&co.tree_head)?;
                match cx.store.own_head(head.size).map_err(|e| e.to_string())? {
                    Some(own) if own.head == co.tree_head => Ok(head.size),
                    Some(_) => Err(format!(
                        "cosigns a head of size {} that differs from the one this node signed",
                        head.size
                    )),
                    None => Err(format!(
                        "cosigns a head of size {} this node never signed",
                        head.size
                    )),
                }
            });
        match checked {
            Ok(size) => cx
                .store
                .put_cosignature_received(size, country, c)
                .map_err(|e| e.to_string())?,
            Err(why) => {
                cx.fed.count_rejection(&cx.store, country, "cosignature");
                warn!(peer = %country, %why, "cosignature refused");
            }
        }
    }
    if !got.is_empty() {
        cx.store.flush().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
