//! The local monitoring listener (`[metrics] listen`): Prometheus metrics on `/metrics`,
//! liveness on `/healthz` and readiness on `/readyz`, over plain HTTP/1.1.
//!
//! Every scrape reads the node as it is now: counts of what is stored come from the store
//! itself (its trees and the persistent `counters` tree), so they survive restarts; link
//! states, handshake refusals and the flush-latency histogram describe this process and start
//! again with it. The text is written by `prometheus-client` (OpenMetrics text format, which
//! Prometheus reads).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::Node;
use crate::model::CountryCode;

/// Content type of `/metrics` (OpenMetrics text, as written by `prometheus-client`).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a scrape waits for the store before it answers without the store's figures.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// A request's headers must arrive within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The flush-latency histogram, fed by the store's flusher thread.
pub fn flush_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

type Labels = Vec<(String, String)>;

/// What a scrape reads from the store (on the blocking pool, with a time limit).
#[derive(Default)]
struct StoreView {
    total: u64,
    own: u64,
    log_length: u64,
    equivocations: u64,
    alerts_active: u64,
    held_lines: u64,
    retro_hits: u64,
    screened_lines: u64,
    screening_hits: u64,
    refused: Vec<(String, String, u64)>,
    partners: Vec<PartnerView>,
}

#[derive(Default)]
struct PartnerView {
    country: Option<CountryCode>,
    received: u64,
    cursor: u64,
    seen_size: u64,
    newest_ms: Option<i64>,
    evidence: u64,
}

fn read_store(node: &Node) -> Result<StoreView, crate::store::StoreError> {
    let s = &node.store;
    let peers: Vec<CountryCode> = node
        .fed
        .registry
        .read()
        .map(|r| r.peers().iter().map(|p| p.entry.country).collect())
        .unwrap_or_default();
    let evidence = s.evidence()?;
    let mut partners = Vec::new();
    for c in peers {
        partners.push(PartnerView {
            country: Some(c),
            received: s.count_country(c),
            cursor: s.cursor(c)?,
            seen_size: s
                .seen_head(c)?
                .and_then(|h| crate::audit::witness::decode_head(&h.head).ok())
                .map_or(0, |h| h.size),
            newest_ms: s.newest_created_at_ms(c)?,
            evidence: evidence
                .iter()
                .filter(|e| e.subject.as_ref().is_some_and(|o| o.country == c.as_str()))
                .count() as u64,
        });
    }
    Ok(StoreView {
        total: s.len() as u64,
        own: s.count_origin(node.origin()) as u64,
        log_length: s.log_len()?,
        equivocations: s.equivocations() as u64,
        alerts_active: s.active_alerts() as u64,
        held_lines: s.held_count(),
        retro_hits: s.retro_hit_count(),
        screened_lines: s.total(crate::store::counters::SCREENED_LINES),
        screening_hits: s.total(crate::store::counters::SCREENING_HITS),
        refused: s.refused_counts()?,
        partners,
    })
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

fn gauge(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The metrics text of `node` now.
pub async fn render(node: &Arc<Node>) -> String {
    let n = node.clone();
    let view = tokio::time::timeout(
        STORE_WAIT,
        tokio::task::spawn_blocking(move || read_store(&n)),
    )
    .await;
    let (view, store_answered) = match view {
        Ok(Ok(Ok(v))) => (v, true),
        Ok(Ok(Err(e))) => {
            warn!(cause = %e, "metrics: the store could not be read");
            (StoreView::default(), false)
        }
        _ => (StoreView::default(), false),
    };
    let mut r = Registry::default();
    let now_s = super::now_ms() / 1000;

    r.register("kdesk_up", "1 while the node process runs", gauge(1));
    r.register(
        "kdesk_ready",
        "1 when the node is serving, the store answers and is not stalled, and the disk reserve is met",
        gauge(i64::from(readiness(node).is_ok())),
    );
    r.register(
        "kdesk_store_answered",
        "1 when the store answered this scrape in time (else the store's figures are left out)",
        gauge(i64::from(store_answered)),
    );
    if store_answered {
        r.register(
            "kdesk_records_stored",
            "Records held in the store, own and received (counted from the store)",
            counter(view.total),
        );
        r.register(
            "kdesk_records_own",
            "Records this node signed (counted from the store)",
            counter(view.own),
        );
        r.register(
            "kdesk_log_length",
            "Length of this node's verifiable log",
            gauge(i64::try_from(view.log_length).unwrap_or(i64::MAX)),
        );
        r.register(
            "kdesk_equivocations",
            "Conflicting bodies for one (origin, seq) kept as evidence",
            counter(view.equivocations),
        );
        r.register(
            "kdesk_alerts_active",
            "Alert versions current and not withdrawn",
            gauge(i64::try_from(view.alerts_active).unwrap_or(i64::MAX)),
        );
        r.register(
            "kdesk_screening_held_lines",
            "Screened consignment and traveler lines held for retro-screening",
            gauge(i64::try_from(view.held_lines).unwrap_or(i64::MAX)),
        );
        r.register(
            "kdesk_screening_retro_hits",
            "Hits found by retro-screening (counted from the store)",
            counter(view.retro_hits),
        );
        r.register(
            "kdesk_screening_lines",
            "Lines screened (passenger lists and manifests), kept across restarts",
            counter(view.screened_lines),
        );
        r.register(
            "kdesk_screening_hits",
            "Hits found when screening (retro-screening hits apart), kept across restarts",
            counter(view.screening_hits),
        );
        let refused = Family::<Labels, Counter>::default();
        for (country, reason, n) in &view.refused {
            refused
                .get_or_create(&labels(&[("partner", country), ("reason", reason)]))
                .inc_by(*n);
        }
        r.register(
            "kdesk_records_refused",
            "Records, tree heads and cosignatures refused from a partner, by reason (kept in the store across restarts)",
            refused,
        );
        let received = Family::<Labels, Counter>::default();
        let lag_records = Family::<Labels, Gauge>::default();
        let lag_seconds = Family::<Labels, Gauge>::default();
        let witness_alarm = Family::<Labels, Gauge>::default();
        let evidence = Family::<Labels, Gauge>::default();
        for p in &view.partners {
            let Some(c) = p.country else { continue };
            let l = labels(&[("partner", c.as_str())]);
            received.get_or_create(&l).inc_by(p.received);
            lag_records
                .get_or_create(&l)
                .set(i64::try_from(p.seen_size.saturating_sub(p.cursor)).unwrap_or(i64::MAX));
            if let Some(ms) = p.newest_ms {
                lag_seconds
                    .get_or_create(&l)
                    .set((now_s - ms / 1000).max(0));
            }
            let state = node.fed.witness_state(c).unwrap_or_default();
            witness_alarm
                .get_or_create(&l)
                .set(i64::from(p.evidence > 0 || state.starts_with("ALARM")));
            evidence
                .get_or_create(&l)
                .set(i64::try_from(p.evidence).unwrap_or(i64::MAX));
        }
        r.register(
            "kdesk_records_received",
            "Records stored from a partner's nodes (counted from the store)",
            received,
        );
        r.register(
            "kdesk_partner_lag_records",
            "Records in the partner's log (as last witnessed) not yet received here",
            lag_records,
        );
        r.register(
            "kdesk_partner_newest_record_age_seconds",
            "Seconds since the creation of the newest record held from the partner",
            lag_seconds,
        );
        r.register(
            "kdesk_witness_alarm",
            "1 when this node holds evidence of the partner's log misbehaving (rollback, split view) or the last witness round raised an alarm",
            witness_alarm,
        );
        r.register(
            "kdesk_witness_evidence",
            "Pieces of evidence of the partner's log misbehaving kept by this node",
            evidence,
        );
    }

    let link_up = Family::<Labels, Gauge>::default();
    let peers: Vec<CountryCode> = node
        .fed
        .registry
        .read()
        .map(|r| r.peers().iter().map(|p| p.entry.country).collect())
        .unwrap_or_default();
    for c in peers {
        let up = matches!(
            node.fed.link_stats(c).state,
            crate::federation::LinkState::Connected
        );
        link_up
            .get_or_create(&labels(&[("partner", c.as_str())]))
            .set(i64::from(up));
    }
    r.register(
        "kdesk_link_up",
        "1 while this node is subscribed to the partner and receiving, 0 otherwise",
        link_up,
    );
    let handshakes = Family::<Labels, Counter>::default();
    for (reason, n) in node.fed.handshakes_refused.by_reason() {
        handshakes
            .get_or_create(&labels(&[("reason", &reason)]))
            .inc_by(n);
    }
    r.register(
        "kdesk_handshakes_refused",
        "Connections refused on the exchange port since the process started, by reason",
        handshakes,
    );
    r.register(
        "kdesk_flush_duration_seconds",
        "Duration of the store's flushes (the durability point) since the process started",
        node.flush_latency.clone(),
    );
    r.register(
        "kdesk_flushes",
        "Flushes run since the process started",
        counter(node.store.flushes()),
    );
    let disk = crate::store::disk::space(&node.config.database).ok();
    r.register(
        "kdesk_disk_free_bytes",
        "Free bytes on the disk holding the database",
        gauge(disk.map_or(0, |d| i64::try_from(d.free).unwrap_or(i64::MAX))),
    );
    r.register(
        "kdesk_disk_reserve_bytes",
        "Free bytes kept in reserve: at or below it nothing new is signed or stored",
        gauge(i64::try_from(node.config.min_free_bytes).unwrap_or(i64::MAX)),
    );
    r.register(
        "kdesk_store_write_failed",
        "1 while the database takes no writes since one failed to reach the disk (e.g. the disk filled)",
        gauge(i64::from(node.store.write_failure().is_some())),
    );
    let stall = node.stalled();
    r.register(
        "kdesk_store_stalled",
        "1 while a flush or store transaction runs longer than [storage] stall_seconds",
        gauge(i64::from(stall.is_some())),
    );
    r.register(
        "kdesk_store_stall_seconds",
        "How long the stalled flush or transaction has run (0: none)",
        gauge(stall.map_or(0, |s| i64::try_from(s.for_.as_secs()).unwrap_or(i64::MAX))),
    );
    r.register(
        "kdesk_uptime_seconds",
        "Seconds since the node started",
        gauge(i64::try_from(node.uptime_seconds()).unwrap_or(i64::MAX)),
    );
    let cert = Family::<Labels, Gauge>::default();
    let crl = Family::<Labels, Gauge>::default();
    for e in node.expiries() {
        let own = if e.own { "true" } else { "false" };
        let l = labels(&[
            ("kind", e.kind),
            ("country", e.country.as_str()),
            ("own", own),
        ]);
        let left = e.expires_at - now_s;
        if e.kind == super::EXPIRY_CRL {
            crl.get_or_create(&l).set(left);
        } else {
            cert.get_or_create(&l).set(left);
        }
    }
    r.register(
        "kdesk_certificate_expiry_seconds",
        "Seconds until a certificate's notAfter (negative: expired): this node's certificate and CA, partners' CAs",
        cert,
    );
    r.register(
        "kdesk_crl_expiry_seconds",
        "Seconds until a CRL's nextUpdate (negative: overdue): the CRL this node publishes, partners' CRLs",
        crl,
    );
    let mut out = String::new();
    if let Err(e) = encode(&mut out, &r) {
        warn!(cause = %e, "metrics could not be encoded");
    }
    out
}

/// Whether the node is ready: serving, store open and moving, disk reserve met.
///
/// # Errors
/// The reasons it is not, one per line.
pub fn readiness(node: &Node) -> Result<(), String> {
    let mut why = Vec::new();
    if !node.is_serving() {
        why.push("not serving yet".to_owned());
    }
    if node.is_stopping() {
        why.push("stopping".to_owned());
    }
    if node.store.flusher_stopped() {
        why.push("store closed: its flusher stopped".to_owned());
    }
    if let Some(s) = node.stalled() {
        why.push(format!(
            "store stalled: {} running for {} s",
            s.what,
            s.for_.as_secs()
        ));
    }
    if let Err(e) = node.check_disk_reserve() {
        why.push(format!("disk reserve: {e}"));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("\n"))
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(node: Arc<Node>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
    }
    match req.uri().path() {
        "/metrics" => {
            let mut r = Response::new(Full::new(Bytes::from(render(&node).await)));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(CONTENT_TYPE),
            );
            r
        }
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => match readiness(&node) {
            Ok(()) => text(StatusCode::OK, "ready\n".into()),
            Err(why) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            ),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz or /readyz\n".into(),
        ),
    }
}

/// Serves the monitoring endpoints on `listener` until the task is aborted.
pub async fn serve(node: std::sync::Weak<Node>, listener: TcpListener) {
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                warn!(cause = %e, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(node) = node.upgrade() else { return };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let node = node.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(node, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = conn.await {
                debug!(%remote, cause = %e, "metrics connection ended with an error");
            }
        });
    }
}
