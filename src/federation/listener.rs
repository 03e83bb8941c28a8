//! The exchange port's front door: TCP accept, TLS handshakes, and the table of live partner
//! connections.
//!
//! What it promises (docs/FEDERATION.md, "Limits"):
//! - A socket that sends nothing cannot hold a handshake slot: slots are capped per source
//!   address and in total, and when a cap is reached the *oldest* pending handshake is dropped
//!   for the newcomer, so idle sockets cannot lock a partner out; every handshake has a short
//!   deadline.
//! - Completed connections are capped in total and per partner node identity
//!   (`kdesk://CC/node` and certificate fingerprint); a node's newest connection replaces its
//!   oldest, so a restarted partner always gets back in.
//! - Every live connection is re-checked against the registry whenever it changes (and every
//!   minute, for expiry): a connection whose certificate is no longer acceptable — its
//!   partner removed, its CA or CRL changed — is closed at once, with every stream on it.
//! - Accept errors (out of file descriptors) back off instead of spinning; refusals are logged
//!   once per reason and source per interval, with counts.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

use super::registry::SharedRegistry;
use crate::record::Origin;

/// Limits of the exchange port.
#[derive(Debug, Clone)]
pub struct Limits {
    /// TLS handshakes in progress at once.
    pub max_pending: usize,
    /// TLS handshakes in progress at once from one source address.
    pub max_pending_per_source: usize,
    /// A handshake (first byte to finished) must complete within this.
    pub handshake_timeout: Duration,
    /// Completed connections at once.
    pub max_connections: usize,
    /// Completed connections of one partner node (identity and certificate) at once.
    pub max_connections_per_node: usize,
    /// Completed connections of one partner country at once (however many certificates its
    /// CA issues).
    pub max_connections_per_country: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending: 64,
            max_pending_per_source: 16,
            handshake_timeout: Duration::from_secs(5),
            max_connections: 256,
            max_connections_per_node: 4,
            max_connections_per_country: 32,
        }
    }
}

/// Interval over which repeated refusals are summarised in one log line.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Logs the first refusal of each (reason, source) per interval and counts the rest.
#[derive(Default)]
pub struct RefusalLog {
    seen: Mutex<HashMap<RefusalKey, (Instant, u64)>>,
}

/// A kind of refusal from one source.
type RefusalKey = (&'static str, IpAddr);

impl RefusalLog {
    /// Records a refusal; logs it if it is the first of its kind in the interval, with the
    /// number suppressed since the last line.
    pub fn refused(&self, reason: &'static str, source: IpAddr, detail: &str) {
        let Ok(mut m) = self.seen.lock() else { return };
        let now = Instant::now();
        // Bound the table itself: forget sources not seen for an interval.
        if m.len() > 4096 {
            m.retain(|_, (t, _)| now.duration_since(*t) < LOG_INTERVAL);
        }
        let e = m
            .entry((reason, source))
            .or_insert((now - LOG_INTERVAL * 2, 0));
        if now.duration_since(e.0) >= LOG_INTERVAL {
            let suppressed = e.1;
            *e = (now, 0);
            drop(m);
            warn!(%source, reason, suppressed_since_last = suppressed, detail, "connection refused");
        } else {
            e.1 += 1;
        }
    }
}

/// The kill switch of one connection.
#[derive(Default)]
pub struct Kill {
    killed: AtomicBool,
    read: AtomicWaker,
    write: AtomicWaker,
}

impl Kill {
    /// Closes the connection: its next read or write fails, and pending ones are woken.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.read.wake();
        self.write.wake();
    }

    /// Whether the connection was closed by [`Kill::kill`].
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// What the exchange services know of the connection a request came on.
#[derive(Clone)]
pub struct PeerConn {
    /// Connection number (unique in the process).
    pub id: u64,
    /// The node identity in its certificate.
    pub identity: Origin,
    /// SHA-256 of its leaf certificate.
    pub fingerprint: [u8; 32],
    /// The certificate chain it presented.
    pub chain: Arc<Vec<CertificateDer<'static>>>,
    /// Its kill switch.
    pub kill: Arc<Kill>,
    /// Source address.
    pub remote: SocketAddr,
}

impl PeerConn {
    /// The node key: identity and certificate fingerprint (slots, rate limits).
    pub fn node_key(&self) -> String {
        format!("{}#{}", self.identity, hex::encode(&self.fingerprint[..8]))
    }
}

/// A TLS stream with a kill switch, handed to the gRPC server.
pub struct Revocable {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    conn: PeerConn,
    table: Arc<Connections>,
}

impl Drop for Revocable {
    fn drop(&mut self) {
        self.table.remove(self.conn.id);
    }
}

fn killed() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection closed: its partner is no longer trusted",
    )
}

impl AsyncRead for Revocable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.conn.kill.read.register(cx.waker());
        if self.conn.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Revocable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.conn.kill.write.register(cx.waker());
        if self.conn.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.conn.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for Revocable {
    type ConnectInfo = PeerConn;
    fn connect_info(&self) -> PeerConn {
        self.conn.clone()
    }
}

/// Live partner connections.
#[derive(Default)]
pub struct Connections {
    live: Mutex<BTreeMap<u64, PeerConn>>,
    /// Woken when a partner connects to us: it is reachable, so our link to it is retried
    /// at once instead of at the end of its backoff.
    arrivals: Mutex<std::collections::HashMap<crate::model::CountryCode, Arc<tokio::sync::Notify>>>,
}

impl Connections {
    /// What a partner's connecting to us wakes (see [`Connections`]).
    pub fn arrival(&self, country: crate::model::CountryCode) -> Arc<tokio::sync::Notify> {
        self.arrivals
            .lock()
            .map(|mut m| m.entry(country).or_default().clone())
            .unwrap_or_default()
    }

    fn remove(&self, id: u64) {
        if let Ok(mut m) = self.live.lock() {
            m.remove(&id);
        }
    }

    /// Live connections now.
    pub fn list(&self) -> Vec<PeerConn> {
        self.live
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Live connections of one partner country.
    pub fn count_country(&self, country: crate::model::CountryCode) -> usize {
        self.live
            .lock()
            .map(|m| m.values().filter(|c| c.identity.country == country).count())
            .unwrap_or(0)
    }

    /// Closes every connection `still_ok` no longer accepts; returns how many.
    pub fn revalidate(&self, mut still_ok: impl FnMut(&PeerConn) -> Result<(), String>) -> usize {
        let conns = self.list();
        let mut closed = 0;
        for c in conns {
            if let Err(why) = still_ok(&c) {
                warn!(peer = %c.identity, remote = %c.remote, reason = %why, "closing a live connection: no longer trusted");
                c.kill.kill();
                self.remove(c.id);
                closed += 1;
            }
        }
        closed
    }

    /// Admits a new connection: refuses it when the total cap is reached; closes the oldest
    /// connections of the same node beyond its cap.
    fn admit(&self, conn: &PeerConn, limits: &Limits) -> Result<(), &'static str> {
        let Ok(mut m) = self.live.lock() else {
            return Err("connection table unavailable");
        };
        let key = conn.node_key();
        let same: Vec<u64> = m
            .values()
            .filter(|c| c.node_key() == key)
            .map(|c| c.id)
            .collect();
        let country: Vec<u64> = m
            .values()
            .filter(|c| c.identity.country == conn.identity.country)
            .map(|c| c.id)
            .collect();
        if same.len() >= limits.max_connections_per_node {
            // Newest wins: a restarted node's new connection replaces its stale ones.
            let drop_n = same.len() + 1 - limits.max_connections_per_node;
            for id in same.into_iter().take(drop_n) {
                if let Some(old) = m.remove(&id) {
                    old.kill.kill();
                }
            }
        } else if country.len() >= limits.max_connections_per_country {
            // One country (however many certificates its CA issues) cannot take every slot:
            // its oldest connection makes room.
            if let Some(old) = country.first().and_then(|id| m.remove(id)) {
                old.kill.kill();
            }
        } else if m.len() >= limits.max_connections {
            return Err("too many connections");
        }
        m.insert(conn.id, conn.clone());
        Ok(())
    }
}

/// Handshakes in progress: per source and in total, oldest first.
#[derive(Default)]
struct Pending {
    by_id: BTreeMap<u64, (IpAddr, tokio::task::AbortHandle)>,
}

impl Pending {
    /// Makes room for one more from `ip`, dropping the oldest pending handshakes beyond the
    /// caps (they have had longest to finish and have not). Returns how many were dropped.
    fn make_room(&mut self, ip: IpAddr, limits: &Limits) -> usize {
        let mut dropped = 0;
        while self.count(ip) >= limits.max_pending_per_source.max(1) {
            let oldest = self
                .by_id
                .iter()
                .find(|(_, (a, _))| *a == ip)
                .map(|(id, _)| *id);
            match oldest.and_then(|id| self.by_id.remove(&id)) {
                Some((_, h)) => {
                    h.abort();
                    dropped += 1;
                }
                None => break,
            }
        }
        // Full in total: the oldest handshake of the source with the most pending goes, so
        // one flooding source cannot push out everyone else's handshakes.
        while self.by_id.len() >= limits.max_pending.max(1) {
            // Per source: how many pending, and its oldest (ties go to the older one).
            let mut counts: HashMap<IpAddr, (usize, u64)> = HashMap::new();
            for (id, (a, _)) in &self.by_id {
                let e = counts.entry(*a).or_insert((0, *id));
                e.0 += 1;
            }
            let oldest = counts
                .values()
                .max_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)))
                .map(|(_, id)| *id);
            match oldest.and_then(|id| self.by_id.remove(&id)) {
                Some((_, h)) => {
                    h.abort();
                    dropped += 1;
                }
                None => break,
            }
        }
        dropped
    }

    fn count(&self, ip: IpAddr) -> usize {
        self.by_id.values().filter(|(a, _)| *a == ip).count()
    }
}

/// Everything the accept loop needs.
pub struct Listener {
    /// Bound socket.
    pub tcp: TcpListener,
    /// TLS configuration (client certificates verified against the registry).
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Limits.
    pub limits: Limits,
    /// Live connections.
    pub conns: Arc<Connections>,
    /// Handshakes refused, by reason.
    pub refused: Arc<super::Refusals>,
    /// Repeated-refusal log.
    pub log: Arc<RefusalLog>,
    /// Registry, to admit only registered identities.
    pub registry: SharedRegistry,
}

impl Listener {
    /// Accepts connections until `stop` turns true, handing each authenticated connection to
    /// `out`.
    pub async fn run(
        self,
        out: tokio::sync::mpsc::Sender<Result<Revocable, std::io::Error>>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let pending = Arc::new(Mutex::new(Pending::default()));
        let next = AtomicU64::new(0);
        let mut backoff = Duration::from_millis(10);
        loop {
            let accepted = tokio::select! {
                a = self.tcp.accept() => a,
                _ = stop.changed() => return,
            };
            let (stream, remote) = match accepted {
                Ok(x) => {
                    backoff = Duration::from_millis(10);
                    x
                }
                Err(e) => {
                    // Typically EMFILE/ENFILE: wait for descriptors to be freed, longer each
                    // time, and say so once per interval.
                    self.log
                        .refused("accept failed", IpAddr::from([0, 0, 0, 0]), &e.to_string());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let id = next.fetch_add(1, Ordering::Relaxed);
            let ip = remote.ip();
            {
                let mut p = pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let dropped = p.make_room(ip, &self.limits);
                for _ in 0..dropped {
                    self.refused.count("handshake dropped for a newer one");
                }
            }
            let (acceptor, out, refused, log, conns, limits, registry, pend) = (
                self.acceptor.clone(),
                out.clone(),
                self.refused.clone(),
                self.log.clone(),
                self.conns.clone(),
                self.limits.clone(),
                self.registry.clone(),
                pending.clone(),
            );
            let task = tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let shake =
                    tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await;
                if let Ok(mut p) = pend.lock() {
                    p.by_id.remove(&id);
                }
                let tls = match shake {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        // Certificate refusals are counted by the verifier, by reason.
                        let msg = e.to_string();
                        if msg.contains(super::tls::REFUSAL_MARK) {
                            // Counted by the verifier, by reason; logged here, summarised.
                            log.refused("client certificate refused", ip, &msg);
                        } else {
                            let reason = if msg.contains("no certificates") {
                                "no client certificate"
                            } else {
                                "TLS handshake failed"
                            };
                            refused.count(reason);
                            log.refused(reason, ip, &msg);
                        }
                        return;
                    }
                    Err(_) => {
                        refused.count("TLS handshake timed out");
                        log.refused("TLS handshake timed out", ip, "");
                        return;
                    }
                };
                let Some(conn) = peer_conn(&tls, id, remote) else {
                    refused.count("no usable client certificate");
                    log.refused("no usable client certificate", ip, "");
                    return;
                };
                // Admitted first, then checked against the registry as it is now: a registry
                // change that lands in between either is seen by this check or re-checks
                // this connection itself.
                if let Err(why) = conns.admit(&conn, &limits) {
                    refused.count(why);
                    log.refused(why, ip, &conn.identity.to_string());
                    return;
                }
                let checked = match conn.chain.split_first() {
                    Some((leaf, rest)) => super::tls::check_client_chain(
                        &registry,
                        leaf,
                        rest,
                        rustls::pki_types::UnixTime::now(),
                    )
                    .map(|_| ()),
                    None => Err(("no client certificate", String::new())),
                };
                if let Err((reason, detail)) = checked {
                    conns.remove(conn.id);
                    refused.count(reason);
                    log.refused(reason, ip, &detail);
                    return;
                }
                info!(peer = %conn.identity, %remote, "partner connection open");
                conns.arrival(conn.identity.country).notify_one();
                let _ = out
                    .send(Ok(Revocable {
                        inner: tls,
                        conn,
                        table: conns,
                    }))
                    .await;
            });
            if let Ok(mut p) = pending.lock() {
                if !task.is_finished() {
                    p.by_id.insert(id, (ip, task.abort_handle()));
                }
            }
        }
    }
}

/// The identity of an authenticated TLS connection.
fn peer_conn(
    tls: &tokio_rustls::server::TlsStream<TcpStream>,
    id: u64,
    remote: SocketAddr,
) -> Option<PeerConn> {
    let certs = tls.get_ref().1.peer_certificates()?;
    let leaf = certs.first()?;
    let identity = crate::pki::node_identity(leaf).ok()?;
    use sha2::Digest;
    Some(PeerConn {
        id,
        identity,
        fingerprint: sha2::Sha256::digest(leaf.as_ref()).into(),
        chain: Arc::new(certs.iter().map(|c| c.clone().into_owned()).collect()),
        kill: Arc::new(Kill::default()),
        remote,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pending_handshakes_make_room_by_dropping_the_oldest() {
        let limits = Limits {
            max_pending: 4,
            max_pending_per_source: 3,
            ..Limits::default()
        };
        let mut p = Pending::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let c: IpAddr = [10, 0, 0, 3].into();
        let idle = || tokio::spawn(std::future::pending::<()>()).abort_handle();
        for id in 0..3 {
            assert_eq!(p.make_room(a, &limits), 0);
            p.by_id.insert(id, (a, idle()));
        }
        // A fourth from the same source drops that source's oldest.
        assert_eq!(p.make_room(a, &limits), 1);
        assert!(!p.by_id.contains_key(&0));
        p.by_id.insert(3, (a, idle()));
        assert_eq!(p.make_room(b, &limits), 0);
        p.by_id.insert(4, (b, idle()));
        // Full in total: the busiest source (a) loses its oldest, not b.
        assert_eq!(p.by_id.len(), 4);
        assert_eq!(p.make_room(c, &limits), 1);
        assert!(!p.by_id.contains_key(&1), "a's oldest went");
        assert!(p.by_id.contains_key(&4), "b's only handshake stays");
    }
}
