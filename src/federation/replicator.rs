//! One long-lived subscription per partner.
//!
//! For every batch of items received: verify (`verify_strict` with a key registered for the
//! record's origin, in parallel on the available cores), decode and check fields, check the
//! distribution and relay rules, store each record in its own transaction, flush once, and only
//! then advance the cursor. A refused record is logged with its reason, counted, and skipped;
//! the node keeps serving. On any error the link reconnects with exponential backoff and
//! jitter, resuming from the cursor: nothing lost, nothing stored twice.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};
use tracing::{info, warn};

use super::registry::CompiledPeer;
use super::{rules, tls, MAX_EXCHANGE_MESSAGE_BYTES};
use super::{Context, LinkError};
use crate::model::CountryCode;
use crate::pb;
use crate::record::now_ms;
use crate::record::{verify_envelope, KeyId, RecordId, SignedRecord, VerifyError};
use crate::store::{Ingest, Mode};

const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between attempts while the partner is down or unreachable: a link heals
/// within this of the network healing (attempts are cheap: one TCP connect).
const BACKOFF_MAX: Duration = Duration::from_secs(3);
/// Longest wait after the partner answered and refused (not registered there, records we
/// refuse): asking again soon would not change its answer.
const BACKOFF_MAX_REFUSED: Duration = Duration::from_secs(30);
/// HTTP/2 pings on every link, idle or not; a partner that does not answer one within
/// [`KEEPALIVE_TIMEOUT`] is down (a link that silently stops forwarding is noticed in
/// seconds, not when TCP gives up).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);
/// See [`KEEPALIVE_INTERVAL`].
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(4);
/// TCP connect deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A session that refuses this many records, most of what it receives, is dropped and
/// retried later: a misbehaving partner cannot keep the node busy verifying garbage.
const REJECTION_BUDGET: u64 = 10_000;

/// Starts (or restarts) the replicator and the witness of a partner.
pub fn spawn(cx: Arc<Context>, country: CountryCode) {
    let n = cx.clone();
    let handle = tokio::spawn(async move {
        tokio::join!(run(n.clone(), country), super::witness::run(n, country));
    });
    cx.fed.set_replicator(country, handle);
}

/// 50% to 150% of `d`, at random.
pub fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let r = if getrandom::getrandom(&mut b).is_ok() {
        f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    // 50% to 150% of the nominal delay.
    d.mul_f64(0.5 + r)
}

async fn run(cx: Arc<Context>, country: CountryCode) {
    let mut backoff = BACKOFF_MIN;
    let mut stopping = cx.stopping_watch();
    let arrival = cx.fed.conns.arrival(country);
    loop {
        if *stopping.borrow() {
            return;
        }
        let peer = cx.fed.registry.read().ok().and_then(|r| r.peer(country));
        let Some(peer) = peer else { return };
        cx.fed
            .link(country, |l| l.state = super::LinkState::Connecting);
        let stored_before = cx.fed.link_stats(country).stored;
        let began = std::time::Instant::now();
        let result = session(&cx, &peer).await;
        // A session that stored records or stayed up a while was healthy: reconnect soon. One
        // that failed at once (partner down or refusing, our disk in its reserve, a batch we
        // could not store) waits longer each time instead of reconnecting in a tight loop.
        if cx.fed.link_stats(country).stored > stored_before
            || began.elapsed() >= BACKOFF_MAX_REFUSED
        {
            backoff = BACKOFF_MIN;
        }
        let cap = match &result {
            Err(
                LinkError::Refused { .. } | LinkError::TooManyRefused(_) | LinkError::Malformed(_),
            ) => BACKOFF_MAX_REFUSED,
            _ => BACKOFF_MAX,
        };
        backoff = backoff.min(cap);
        let wait = jitter(backoff);
        match result {
            Ok(()) => return, // shutting down
            Err(e) => {
                warn!(peer = %country, cause = %e, hint = e.hint(), retry_in_ms = wait.as_millis() as u64, "link down");
                cx.fed.link(country, |l| {
                    l.state = super::LinkState::Retrying {
                        at: std::time::Instant::now() + wait,
                    };
                    l.last_error = Some(e);
                });
            }
        }
        // A partner that refused us is not asked again just because it connected to us.
        let reachable = async {
            if cap == BACKOFF_MAX {
                arrival.notified().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed() => return,
            // The partner just connected to us: it is reachable, try now.
            () = reachable => {
                backoff = BACKOFF_MIN;
                continue;
            }
        }
        backoff = (backoff * 2).min(cap);
    }
}

/// Opens an mTLS channel to a partner.
///
/// # Errors
/// TLS configuration, connection or handshake failure, as text.
pub async fn connect(peer: &CompiledPeer, identity: &tls::Identity) -> Result<Channel, LinkError> {
    let cfg = Arc::new(
        tls::client_config(peer.entry.country, peer.server_verifier.clone(), identity)
            .map_err(|e| LinkError::Registration(format!("TLS client configuration: {e}")))?,
    );
    let host = peer.endpoint.host.clone();
    let port = peer.endpoint.port;
    let server_name = ServerName::try_from(host.clone())
        .map_err(|e| LinkError::Registration(format!("endpoint host: {e}")))?;
    let uri_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    // The scheme only fills the :scheme header; TLS is done by the connector below.
    let endpoint = Endpoint::from_shared(format!("http://{uri_host}:{port}"))
        .map_err(|e| LinkError::Registration(format!("endpoint: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        // Let the partner keep a few batches in flight while this node verifies and stores.
        .initial_stream_window_size(Some(8 << 20))
        .initial_connection_window_size(Some(16 << 20))
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .tcp_nodelay(true);
    let connector = tower::service_fn(move |_| {
        let (cfg, host, server_name) = (cfg.clone(), host.clone(), server_name.clone());
        async move {
            let tcp =
                tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port)))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                    })??;
            tcp.set_nodelay(true)?;
            let tls = tokio::time::timeout(
                super::HANDSHAKE_TIMEOUT,
                TlsConnector::from(cfg).connect(server_name, tcp),
            )
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
            })??;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    endpoint
        .connect_with_connector(connector)
        .await
        .map_err(|e| LinkError::Connect(super::error_chain(&e)))
}

/// One subscription, until it fails (`Err`) or the node stops (`Ok`).
async fn session(cx: &Arc<Context>, peer: &CompiledPeer) -> Result<(), LinkError> {
    let country = peer.entry.country;
    // The identity in force now: a certificate reloaded since the last session is presented.
    let identity = cx
        .fed
        .identity
        .as_ref()
        .map(|l| l.current())
        .ok_or(LinkError::NoIdentity)?;
    let channel = connect(peer, &identity).await?;
    let mut client = pb::exchange_client::ExchangeClient::new(channel)
        .max_decoding_message_size(MAX_EXCHANGE_MESSAGE_BYTES)
        .max_encoding_message_size(4096);
    let from = cx
        .store
        .cursor(country)
        .map_err(|e| LinkError::Store(e.to_string()))?;
    let mut from = from;
    let mut answer = client
        .subscribe(pb::SubscribeRequest {
            from_position: from,
        })
        .await;
    if let Err(s) = &answer {
        if s.code() == tonic::Code::OutOfRange && from > 0 {
            // The partner was restored from a backup: this cursor points into the log it
            // replaced. Read the new one from the start at once (records held already are
            // skipped as duplicates; its restore declaration comes with it).
            warn!(peer = %country, from, message = s.message(), "partner restored from a backup; reading its log again from the start");
            cx.store
                .set_cursor(country, 0)
                .map_err(|e| LinkError::Store(format!("cursor: {e}")))?;
            from = 0;
            answer = client
                .subscribe(pb::SubscribeRequest { from_position: 0 })
                .await;
        }
    }
    let mut stream = answer
        .map_err(|s| {
            if s.code() == tonic::Code::Unavailable {
                // Stopping, or recovering from a restore: a passing state, not a refusal.
                LinkError::Stream {
                    code: format!("{:?}", s.code()),
                    message: s.message().to_owned(),
                }
            } else {
                LinkError::Refused {
                    code: format!("{:?}", s.code()),
                    message: s.message().to_owned(),
                }
            }
        })?
        .into_inner();
    info!(peer = %country, from, "subscribed");
    cx.fed
        .link(country, |l| l.state = super::LinkState::Connected);
    let mut stopping = cx.stopping_watch();
    // Pipeline: this loop receives and verifies batch N+1 while the store task stores and
    // flushes batch N; the cursor advances only in the store task, after the flush.
    let (to_store, mut store_rx) =
        tokio::sync::mpsc::channel::<(Vec<Verdict>, Option<u64>, u64)>(2);
    let store_node = cx.clone();
    let mut store_task = tokio::spawn(async move {
        let mut rejected = 0u64;
        while let Some((verdicts, last, generation)) = store_rx.recv().await {
            rejected += store_batch(&store_node, country, verdicts, last, generation).await?;
            if rejected > REJECTION_BUDGET {
                return Err(LinkError::TooManyRefused(rejected));
            }
        }
        Ok::<(), LinkError>(())
    });
    // The store task is not aborted with the session: a batch being stored is finished and
    // flushed (its records published to subscribers). A removed partner's batches are not
    // stored: `store_batch` checks the registration first.
    loop {
        let msg = tokio::select! {
            m = stream.message() => m.map_err(|s| LinkError::Stream {
                code: format!("{:?}", s.code()),
                message: s.message().to_owned(),
            })?,
            _ = stopping.changed() => return Ok(()),
            r = &mut store_task => return Err(store_task_ended(r)),
        };
        let Some(batch) = msg else {
            return Err(LinkError::Closed);
        };
        if batch.items.len() > super::MAX_BATCH_ITEMS
            || batch.items.iter().any(|i| i.position >= batch.scanned_to)
        {
            return Err(LinkError::Malformed(
                "too many items, or an item beyond the batch's scanned_to".into(),
            ));
        }
        // The registry generation the batch is judged against (see `store_batch`).
        let generation = cx.fed.registry_generation();
        let verdicts = verify_batch(cx, country, batch.items).await?;
        if to_store
            .send((verdicts, Some(batch.scanned_to), generation))
            .await
            .is_err()
        {
            return Err(store_task_ended(store_task.await));
        }
    }
}

/// Why the store task ended: its error, or a join failure.
fn store_task_ended(r: Result<Result<(), LinkError>, tokio::task::JoinError>) -> LinkError {
    match r {
        Ok(Err(e)) => e,
        Ok(Ok(())) => LinkError::Internal("the store task ended early".into()),
        Err(e) => LinkError::Internal(format!("store task: {e}")),
    }
}

/// What happened to one received item.
enum Verdict {
    Skip,
    Duplicate,
    Refused(&'static str, String, Option<RecordId>),
    /// Refused for a reason an operator can fix (its key is not registered yet): kept aside
    /// and judged again when the registry changes.
    Quarantine(Box<pb::Envelope>, String, RecordId),
    Accepted(Box<SignedRecord>),
}

fn verify_reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::BodyTooLarge(_) => "too-large",
        VerifyError::KeyIdLength(_) | VerifyError::UnknownKey(_) => "unknown-key",
        VerifyError::SignatureLength(_) | VerifyError::BadSignature(_) => "bad-signature",
        VerifyError::Decode(_) => "undecodable",
        VerifyError::Invalid(_) => "invalid-field",
        VerifyError::NotCanonical => "not-canonical",
    }
}

fn judge(cx: &Context, country: CountryCode, item: &pb::ExchangeItem) -> Verdict {
    let Some(env) = &item.envelope else {
        return Verdict::Skip;
    };
    let id = RecordId::of_body(&env.body);
    // Skip verifying what is already stored (relayed copies, re-deliveries); the lookup is
    // only made when the origin's sequence number says the record may be here.
    if cx.store.may_hold(&env.body) && matches!(cx.store.contains(&id), Ok(true)) {
        return Verdict::Duplicate;
    }
    let own = cx.log.public_key();
    let own_id = KeyId::of(&own);
    let mut key_country = None;
    let mut revocation = None;
    let verified = {
        let reg = match cx.fed.registry.read() {
            Ok(r) => r,
            Err(_) => return Verdict::Refused("internal", "registry unavailable".into(), Some(id)),
        };
        verify_envelope(env, |kid| {
            if *kid == own_id {
                key_country = Some(cx.origin().country);
                return Some(own);
            }
            reg.key(kid).map(|(c, k)| {
                key_country = Some(c);
                revocation = reg.revocation(kid);
                k
            })
        })
    };
    let signed = match verified {
        Ok(s) => s,
        // Only a well-formed envelope (a 32-byte key id, a 64-byte signature) claiming to come
        // from a registered partner is kept aside: its key may simply not be registered yet.
        // Records of origins this desk has no registration for are refused.
        Err(e @ VerifyError::UnknownKey(_))
            if env.signature.len() == 64
                && env.key_id.len() == 32
                && claims_registered_origin(cx, &env.body) =>
        {
            return Verdict::Quarantine(Box::new(env.clone()), e.to_string(), id)
        }
        Err(e) => return Verdict::Refused(verify_reason(&e), e.to_string(), Some(id)),
    };
    let Some(kc) = key_country else {
        return Verdict::Refused("unknown-key", "no key".into(), Some(id));
    };
    if let Some(r) = revocation.filter(|r| r.covers(signed.record.created_at_ms)) {
        return Verdict::Refused(
            "key-revoked",
            if r.compromised {
                "signed with a key revoked as compromised".to_owned()
            } else {
                format!(
                    "signed at {} ms with a key revoked from {} ms",
                    signed.record.created_at_ms, r.from_ms
                )
            },
            Some(id),
        );
    }
    if let Err(r) = rules::check_received(&signed.record, kc, country, cx.origin()) {
        return Verdict::Refused(r.reason(), r.to_string(), Some(id));
    }
    Verdict::Accepted(Box::new(signed))
}

/// Judges every quarantined record again against the registry as it is now: records that
/// now verify are stored (and flushed), those still waiting for their key stay, the rest
/// are dropped as refused. Returns how many were stored.
///
/// # Errors
/// Storage failure.
pub fn rejudge_quarantine(
    cx: &Arc<Context>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<usize, String>> + Send + '_>> {
    // Boxed with its Send bound stated: judging the quarantine may apply a key announcement,
    // whose registration change judges the quarantine again.
    Box::pin(rejudge(cx))
}

async fn rejudge(cx: &Arc<Context>) -> Result<usize, String> {
    let n = cx.clone();
    type Announced = Vec<(CountryCode, ed25519_dalek::VerifyingKey)>;
    let (stored, announced) = tokio::task::spawn_blocking(move || -> Result<(usize, Announced), String> {
        let items = n.store.quarantined(None).map_err(|e| e.to_string())?;
        let mut by_peer: std::collections::BTreeMap<CountryCode, Vec<(RecordId, SignedRecord)>> =
            std::collections::BTreeMap::new();
        for q in items {
            let item = pb::ExchangeItem {
                position: 0,
                envelope: Some(q.envelope.clone()),
            };
            match judge(&n, q.peer, &item) {
                Verdict::Quarantine(..) => {}
                Verdict::Accepted(s) => by_peer.entry(q.peer).or_default().push((q.id, *s)),
                Verdict::Duplicate | Verdict::Skip => {
                    n.store.quarantine_remove(q.peer, &q.id).map_err(|e| e.to_string())?;
                }
                Verdict::Refused(reason, why, _) => {
                    n.fed.count_rejection(&n.store, q.peer, reason);
                    warn!(peer = %q.peer, id = %q.id, reason, detail = %why, "quarantined record refused on second judgement");
                    n.store.quarantine_remove(q.peer, &q.id).map_err(|e| e.to_string())?;
                }
            }
        }
        let mut stored = 0;
        let mut announced = Vec::new();
        for (peer, recs) in by_peer {
            let (ids, signed): (Vec<RecordId>, Vec<SignedRecord>) = recs.into_iter().unzip();
            let outcomes = n
                .store
                .ingest_batch(&signed, now_ms(), Mode::Received)
                .map_err(|e| e.to_string())?;
            let mut here = 0u64;
            for ((id, o), rec) in ids.iter().zip(outcomes).zip(&signed) {
                match o {
                    Ok(Ingest::Stored) => {
                        here += 1;
                        // An announcement signed by a key just confirmed (keys rotated twice).
                        if let crate::record::RecordKind::KeyAnnouncement(a) = &rec.record.kind {
                            announced.push((peer, a.public_key));
                        }
                    }
                    Ok(_) => {}
                    Err(r) => {
                        n.fed.count_rejection(&n.store, peer, "lifecycle");
                        warn!(peer = %peer, id = %id, reason = %r, "quarantined record refused");
                    }
                }
                n.store.quarantine_remove(peer, id).map_err(|e| e.to_string())?;
            }
            n.fed.link(peer, |l| l.stored += here);
            stored += usize::try_from(here).unwrap_or(usize::MAX);
        }
        Ok((stored, announced))
    })
    .await
    .map_err(|e| format!("quarantine task: {e}"))??;
    cx.log
        .flush_and_publish()
        .await
        .map_err(|e| format!("flush: {e}"))?;
    for (peer, key) in announced {
        let n = cx.clone();
        // Its own task: applying it changes the registry, which judges the quarantine again
        // (boxed: that cycle of tasks has no finite future type otherwise).
        let task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
            Box::pin(async move {
                if let Err(e) = super::witness::apply_key_announcement(&n, peer, key).await {
                    warn!(peer = %peer, cause = %e, "applying a key announcement failed");
                }
            });
        tokio::spawn(task);
    }
    if stored > 0 {
        info!(
            records = stored,
            "quarantined records stored after a registry change"
        );
    }
    Ok(stored)
}

/// Whether the partner has an announced key waiting for an admin's confirmation.
fn awaits_key_confirmation(cx: &Context, country: CountryCode) -> bool {
    cx.fed
        .registry
        .read()
        .ok()
        .and_then(|r| r.peer(country))
        .is_some_and(|p| p.entry.keys.iter().any(|k| k.pending))
}

/// Whether an (unverified) body claims an origin country this node has registered.
fn claims_registered_origin(cx: &Context, body: &[u8]) -> bool {
    let Some(country) =
        crate::store::claimed_origin(body).and_then(|o| CountryCode::parse(&o.country).ok())
    else {
        return false;
    };
    cx.fed
        .registry
        .read()
        .map(|r| r.peer(country).is_some())
        .unwrap_or(false)
}

/// Verifies a batch on all cores (pooled blocking threads).
async fn verify_batch(
    cx: &Arc<Context>,
    country: CountryCode,
    batch: Vec<pb::ExchangeItem>,
) -> Result<Vec<Verdict>, LinkError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(4);
    let chunk = batch.len().div_ceil(threads).max(1);
    let mut parts = vec![];
    let mut rest = batch;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let n = cx.clone();
            tokio::task::spawn_blocking(move || {
                part.iter()
                    .map(|i| judge(&n, country, i))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut out = vec![];
    for t in tasks {
        out.extend(
            t.await
                .map_err(|e| LinkError::Internal(format!("verification task: {e}")))?,
        );
    }
    Ok(out)
}

/// Stores the accepted records of a verified batch in one transaction, flushes, then advances
/// the cursor to `scanned_to`. Returns how many items were refused.
async fn store_batch(
    cx: &Arc<Context>,
    country: CountryCode,
    verdicts: Vec<Verdict>,
    scanned_to: Option<u64>,
    generation: u64,
) -> Result<u64, LinkError> {
    // Disk in its reserve: store nothing and drop the link without advancing the cursor; the
    // partner sends the batch again after the backoff, once there is room.
    // A partner removed since this batch was verified gets nothing more stored.
    if cx
        .fed
        .registry
        .read()
        .map(|r| r.peer(country).is_none())
        .unwrap_or(true)
    {
        return Err(LinkError::Unregistered(country));
    }
    let to_store = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Accepted(_) | Verdict::Quarantine(..)))
        .count();
    if to_store > 0 {
        cx.check_disk_reserve()
            .map_err(|e| LinkError::DiskReserve {
                records: to_store,
                cause: e.to_string(),
            })?;
    }
    let (mut stored, mut dup, mut refused) = (0u64, 0u64, 0u64);
    let mut accepted = vec![];
    let mut aside = vec![];
    let mut quarantined = 0u64;
    for v in verdicts {
        match v {
            Verdict::Skip => {}
            Verdict::Duplicate => dup += 1,
            Verdict::Quarantine(env, why, id) => {
                refused += 1;
                quarantined += 1;
                cx.fed.count_rejection(&cx.store, country, "quarantined");
                aside.push((env, why, id));
            }
            Verdict::Refused(reason, why, id) => {
                refused += 1;
                cx.fed.count_rejection(&cx.store, country, reason);
                warn!(peer = %country, reason, id = %id.map(|i| i.to_hex()).unwrap_or_default(), detail = %why, "record refused");
            }
            Verdict::Accepted(signed) => accepted.push(*signed),
        }
    }
    // One transaction for the batch: stored whole or not at all.
    // sled work is blocking: keep it off the async workers that run TLS and HTTP/2.
    let store = cx.store.clone();
    let (accepted, outcomes, full) = tokio::task::spawn_blocking(move || {
        let full = match store.quarantine_put_all(country, &aside, now_ms()) {
            Ok(n) => n,
            Err(e) => return (Vec::new(), Err(e), 0),
        };
        let outcomes = store.ingest_batch(&accepted, now_ms(), Mode::Received);
        (accepted, outcomes, full)
    })
    .await
    .map_err(|e| LinkError::Internal(format!("store task: {e}")))?;
    if full > 0 && !awaits_key_confirmation(cx, country) {
        warn!(peer = %country, dropped = full, "quarantine full: records with an unregistered key dropped (the cursor still moves on)");
    }
    // The registry changed while this batch was judged: what was just kept aside may verify
    // now, and the judging that change started may have missed it.
    if quarantined > 0 && cx.fed.registry_generation() != generation {
        let n = cx.clone();
        tokio::spawn(async move {
            if let Err(e) = rejudge_quarantine(&n).await {
                warn!(cause = %e, "judging quarantined records again failed");
            }
        });
    }
    let outcomes = outcomes.map_err(|e| LinkError::Store(e.to_string()))?;
    let mut announced = Vec::new();
    for (signed, outcome) in accepted.iter().zip(outcomes) {
        match outcome {
            Ok(Ingest::Stored) => {
                stored += 1;
                if let crate::record::RecordKind::KeyAnnouncement(a) = &signed.record.kind {
                    announced.push(a.public_key);
                }
            }
            Ok(Ingest::Duplicate) => dup += 1,
            Ok(Ingest::Equivocation { existing }) => {
                refused += 1;
                cx.fed.count_rejection(&cx.store, country, "equivocation");
                warn!(peer = %country, origin = %signed.record.origin, seq = signed.record.seq,
                      kept = %existing, evidence = %signed.id, "EQUIVOCATION: two bodies for one (origin, seq); kept as evidence");
            }
            Err(r) => {
                refused += 1;
                cx.fed.count_rejection(&cx.store, country, "lifecycle");
                warn!(peer = %country, id = %signed.id, reason = %r, "record refused");
            }
        }
    }
    // Whatever was written (duplicates of an interrupted earlier batch too) is flushed and
    // published, so nothing stored waits unpublished for an unrelated write.
    if !accepted.is_empty() {
        cx.log
            .flush_and_publish()
            .await
            .map_err(|e| LinkError::Store(format!("flush: {e}")))?;
    }
    // A partner's next key, now that its announcement is durable.
    for key in announced {
        if let Err(e) = super::witness::apply_key_announcement(cx, country, key).await {
            warn!(peer = %country, cause = %e, "applying a key announcement failed");
        }
    }
    // Records signed by the partner's announced key wait for its confirmation in the
    // quarantine. When it is full they are not dropped: the cursor stays, and the link reads
    // them again once the key is confirmed (the quarantine is then judged and emptied).
    if full > 0 && awaits_key_confirmation(cx, country) {
        return Err(LinkError::Store(format!(
            "quarantine full of records signed by {country}'s announced signing key: confirm it (kdesk peer update --country {country} --confirm-signing-key ID); the link resumes from here"
        )));
    }
    if let Some(next) = scanned_to {
        // Everything below `next` is durable (stored and flushed) or deliberately skipped.
        cx.store
            .set_cursor(country, next)
            .map_err(|e| LinkError::Store(format!("cursor: {e}")))?;
    }
    cx.fed.link(country, |l| {
        l.stored += stored;
        l.duplicates += dup;
        l.rejected += refused;
    });
    Ok(refused)
}
