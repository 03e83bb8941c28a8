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

use futures_util::FutureExt;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};
use tracing::{info, warn};

use super::registry::CompiledPeer;
use super::{rules, tls, MAX_EXCHANGE_MESSAGE_BYTES};
use crate::model::CountryCode;
use crate::node::{now_ms, Node};
use crate::pb;
use crate::record::{verify_envelope, KeyId, RecordId, SignedRecord, VerifyError};
use crate::store::{Ingest, Mode, StoreError};

/// Items processed per batch (one flush per batch).
pub const BATCH: usize = 1024;
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A session that refuses this many records, most of what it receives, is dropped and
/// retried later: a misbehaving partner cannot keep the node busy verifying garbage.
const REJECTION_BUDGET: u64 = 10_000;

/// Starts (or restarts) the replicator of a partner.
pub fn spawn(node: Arc<Node>, country: CountryCode) {
    let n = node.clone();
    let handle = tokio::spawn(async move { run(n, country).await });
    node.fed.set_replicator(country, handle);
}

fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let r = if getrandom::getrandom(&mut b).is_ok() {
        f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    // 50% to 150% of the nominal delay.
    d.mul_f64(0.5 + r)
}

async fn run(node: Arc<Node>, country: CountryCode) {
    let mut backoff = BACKOFF_MIN;
    let mut stopping = node.stopping_watch();
    loop {
        if *stopping.borrow() {
            return;
        }
        let peer = node.fed.registry.read().ok().and_then(|r| r.peer(country));
        let Some(peer) = peer else { return };
        node.fed.link(country, |l| l.state = "connecting".into());
        let result = session(&node, &peer, &mut backoff).await;
        let wait = jitter(backoff);
        match result {
            Ok(()) => return, // shutting down
            Err(e) => {
                warn!(peer = %country, cause = %e, retry_in_ms = wait.as_millis() as u64, "link down");
                node.fed.link(country, |l| {
                    l.state = format!("retrying in {:.1}s: {e}", wait.as_secs_f64());
                    l.last_error = e;
                });
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Opens an mTLS channel to a partner.
///
/// # Errors
/// TLS configuration, connection or handshake failure, as text.
pub async fn connect(peer: &CompiledPeer, identity: &tls::Identity) -> Result<Channel, String> {
    let cfg = Arc::new(
        tls::client_config(peer.entry.country, peer.server_verifier.clone(), identity)
            .map_err(|e| format!("TLS client configuration: {e}"))?,
    );
    let host = peer.endpoint.host.clone();
    let port = peer.endpoint.port;
    let server_name =
        ServerName::try_from(host.clone()).map_err(|e| format!("endpoint host: {e}"))?;
    let uri_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    // The scheme only fills the :scheme header; TLS is done by the connector below.
    let endpoint = Endpoint::from_shared(format!("http://{uri_host}:{port}"))
        .map_err(|e| format!("endpoint: {e}"))?
        .connect_timeout(Duration::from_secs(10))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20))
        .tcp_nodelay(true);
    let connector = tower::service_fn(move |_| {
        let (cfg, host, server_name) = (cfg.clone(), host.clone(), server_name.clone());
        async move {
            let tcp = tokio::time::timeout(
                Duration::from_secs(10),
                TcpStream::connect((host.as_str(), port)),
            )
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
        .map_err(|e| {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        })
}

/// One subscription, until it fails (`Err`) or the node stops (`Ok`).
async fn session(
    node: &Arc<Node>,
    peer: &CompiledPeer,
    backoff: &mut Duration,
) -> Result<(), String> {
    let country = peer.entry.country;
    let identity = node
        .fed
        .identity
        .clone()
        .ok_or("this node has no exchange certificate")?;
    let channel = connect(peer, &identity).await?;
    let mut client = pb::exchange_client::ExchangeClient::new(channel)
        .max_decoding_message_size(MAX_EXCHANGE_MESSAGE_BYTES)
        .max_encoding_message_size(4096);
    let from = node.store.cursor(country).map_err(|e| e.to_string())?;
    let mut stream = client
        .subscribe(pb::SubscribeRequest {
            from_position: from,
        })
        .await
        .map_err(|s| format!("subscribe refused: {}", s.message()))?
        .into_inner();
    info!(peer = %country, from, "subscribed");
    node.fed.link(country, |l| l.state = "connected".into());
    *backoff = BACKOFF_MIN;
    let mut stopping = node.stopping_watch();
    let mut rejected_here = 0u64;
    loop {
        let first = tokio::select! {
            m = stream.message() => m.map_err(|s| format!("stream: {}", s.message()))?,
            _ = stopping.changed() => return Ok(()),
        };
        let Some(first) = first else {
            return Err("partner closed the stream".into());
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match stream.message().now_or_never() {
                Some(Ok(Some(m))) => batch.push(m),
                _ => break,
            }
        }
        rejected_here += process_batch(node, country, batch).await?;
        if rejected_here > REJECTION_BUDGET {
            return Err(format!(
                "partner sent {rejected_here} refused records; dropping the link"
            ));
        }
    }
}

/// What happened to one received item.
enum Verdict {
    Skip,
    Duplicate,
    Refused(&'static str, String, Option<RecordId>),
    Accepted(Box<SignedRecord>),
}

fn verify_reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::BodyTooLarge(_) => "too-large",
        VerifyError::KeyIdLength(_) | VerifyError::UnknownKey(_) => "unknown-key",
        VerifyError::SignatureLength(_) | VerifyError::BadSignature(_) => "bad-signature",
        VerifyError::Decode(_) => "undecodable",
        VerifyError::Invalid(_) => "invalid-field",
    }
}

fn judge(node: &Node, country: CountryCode, item: &pb::ExchangeItem) -> Verdict {
    let Some(env) = &item.envelope else {
        return Verdict::Skip;
    };
    let id = RecordId::of_body(&env.body);
    if matches!(node.store.get(&id), Ok(Some(_))) {
        return Verdict::Duplicate;
    }
    let own = node.public_key();
    let own_id = KeyId::of(&own);
    let mut key_country = None;
    let verified = {
        let reg = match node.fed.registry.read() {
            Ok(r) => r,
            Err(_) => return Verdict::Refused("internal", "registry unavailable".into(), Some(id)),
        };
        verify_envelope(env, |kid| {
            if *kid == own_id {
                key_country = Some(node.origin().country);
                return Some(own);
            }
            reg.key(kid).map(|(c, k)| {
                key_country = Some(c);
                k
            })
        })
    };
    let signed = match verified {
        Ok(s) => s,
        Err(e) => return Verdict::Refused(verify_reason(&e), e.to_string(), Some(id)),
    };
    let Some(kc) = key_country else {
        return Verdict::Refused("unknown-key", "no key".into(), Some(id));
    };
    if let Err(r) = rules::check_received(&signed.record, kc, country, node.origin()) {
        return Verdict::Refused(r.reason(), r.to_string(), Some(id));
    }
    Verdict::Accepted(Box::new(signed))
}

/// Verifies a batch on all cores, then stores in order, flushes, and advances the cursor.
/// Returns how many items were refused.
async fn process_batch(
    node: &Arc<Node>,
    country: CountryCode,
    batch: Vec<pb::ExchangeItem>,
) -> Result<u64, String> {
    let last_position = batch.last().map(|i| i.position);
    let n = node.clone();
    let verdicts = tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .min(4);
        let chunk = batch.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .chunks(chunk)
                .map(|part| {
                    let n = &n;
                    s.spawn(move || {
                        part.iter()
                            .map(|i| judge(n, country, i))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect::<Vec<_>>()
        })
    })
    .await
    .map_err(|e| format!("verification task: {e}"))?;

    let (mut stored, mut dup, mut refused) = (0u64, 0u64, 0u64);
    for v in verdicts {
        match v {
            Verdict::Skip => {}
            Verdict::Duplicate => dup += 1,
            Verdict::Refused(reason, why, id) => {
                refused += 1;
                node.fed.count_rejection(reason);
                warn!(peer = %country, reason, id = %id.map(|i| i.to_hex()).unwrap_or_default(), detail = %why, "record refused");
            }
            Verdict::Accepted(signed) => match node.store.ingest(&signed, now_ms(), Mode::Received)
            {
                Ok(Ingest::Stored) => stored += 1,
                Ok(Ingest::Duplicate) => dup += 1,
                Ok(Ingest::Equivocation { existing }) => {
                    refused += 1;
                    node.fed.count_rejection("equivocation");
                    warn!(peer = %country, origin = %signed.record.origin, seq = signed.record.seq,
                          kept = %existing, evidence = %signed.id, "EQUIVOCATION: two bodies for one (origin, seq); kept as evidence");
                }
                Err(StoreError::Rejected(r)) => {
                    refused += 1;
                    node.fed.count_rejection("lifecycle");
                    warn!(peer = %country, id = %signed.id, reason = %r, "record refused");
                }
                Err(e) => return Err(format!("store: {e}")),
            },
        }
    }
    if stored > 0 {
        node.flush_and_publish()
            .await
            .map_err(|e| format!("flush: {e}"))?;
    }
    if let Some(p) = last_position {
        // Everything up to p is durable (stored and flushed) or deliberately skipped.
        node.store
            .set_cursor(country, p + 1)
            .map_err(|e| format!("cursor: {e}"))?;
    }
    node.fed.link(country, |l| {
        l.stored += stored;
        l.duplicates += dup;
        l.rejected += refused;
    });
    Ok(refused)
}
