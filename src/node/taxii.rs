//! The read-only TAXII 2.1 listener (`[taxii] listen`, docs/STIX.md): HTTPS (TLS 1.3) with a
//! mandatory client certificate checked exactly as the exchange checks a partner's (the
//! node's certificate, the partner registry, CRLs). The client's country, from its
//! certificate, decides what it sees: the objects of the records the exchange would send that
//! partner (`federation::rules::may_send`), as STIX 2.1 (`intel::stix`).
//!
//! One API root, `/kdesk/`, with one collection, `alerts`. Endpoints: discovery `/taxii2/`,
//! the API root, collections, one collection, objects (`added_after`, `limit`, `next`,
//! `match[id]`, `match[type]`, `match[version]`), manifest, one object, its versions. Every
//! other method answers 405, POST and DELETE on the objects 403 (the collection is not
//! writable).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use super::Node;
use crate::intel::stix::{stix_id, timestamp, StixObject};
use crate::model::CountryCode;

/// The TAXII media type of every answer.
pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";
/// The STIX media type of the objects.
pub const STIX_MEDIA: &str = "application/stix+json;version=2.1";
/// The API root's path segment.
pub const API_ROOT: &str = "kdesk";
/// The most objects one page holds (and the default).
pub const MAX_PAGE: usize = 1000;

const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The alerts collection's id.
pub fn collection_id() -> String {
    stix_id("x-taxii-collection", "kdesk/taxii/alerts")
        .trim_start_matches("x-taxii-collection--")
        .to_owned()
}

/// What the listener keeps between requests: each client country's objects, rebuilt when the
/// log has grown.
#[derive(Default)]
pub struct Cache {
    by_country: Mutex<HashMap<CountryCode, Cached>>,
}

/// A country's objects, each also serialised once, and the log length they reflect.
type Cached = (u64, View);

/// The objects a client country sees, and each one's JSON text.
#[derive(Clone)]
struct View {
    objects: Arc<Vec<StixObject>>,
    texts: Arc<Vec<String>>,
    marks: Arc<Vec<(bool, bool)>>,
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: &Value) -> Answer {
    answer_text(status, body.to_string())
}

fn answer_text(status: StatusCode, body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(TAXII_MEDIA),
    );
    r
}

fn error(status: StatusCode, title: &str, description: String) -> Answer {
    answer(
        status,
        &json!({"title": title, "description": description, "http_status": status.as_u16().to_string()}),
    )
}

/// `added_after` and the other query parameters of a list endpoint.
#[derive(Debug, Default)]
struct Query {
    added_after: Option<i64>,
    limit: usize,
    next: usize,
    ids: Vec<String>,
    types: Vec<String>,
    version: Option<String>,
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses an RFC 3339 timestamp into ms since the epoch.
fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn parse_query(q: Option<&str>) -> Result<Query, String> {
    let mut out = Query {
        limit: MAX_PAGE,
        ..Query::default()
    };
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        match k.as_str() {
            "added_after" => {
                out.added_after =
                    Some(parse_time(&v).ok_or_else(|| {
                        format!("added_after: {v:?} is not an RFC 3339 timestamp")
                    })?)
            }
            "limit" => {
                out.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("limit: {v:?} is not a whole number of at least 1"))?
                    .min(MAX_PAGE)
            }
            "next" => {
                out.next = v
                    .parse()
                    .map_err(|_| format!("next: {v:?} is not a value this server gave"))?
            }
            "match[id]" => out.ids.extend(v.split(',').map(str::to_owned)),
            "match[type]" => out.types.extend(v.split(',').map(str::to_owned)),
            "match[version]" => {
                let ok = matches!(v.as_str(), "last" | "first" | "all") || parse_time(&v).is_some();
                if !ok {
                    return Err(format!(
                        "match[version]: {v:?} is not last, first, all or a timestamp"
                    ));
                }
                out.version = Some(v)
            }
            "match[spec_version]" if v.split(',').any(|s| s == "2.1") => {}
            "match[spec_version]" => {
                return Err(format!(
                    "match[spec_version]: {v:?}: this server holds 2.1 only"
                ))
            }
            other => return Err(format!("{other}: not a filter this server knows")),
        }
    }
    Ok(out)
}

/// The objects (by index into `all`) a list request selects, from `q.next` on, and the index
/// to resume from when there are more.
/// For each object: whether it is the first version of its id, and whether the last.
fn version_marks(all: &[StixObject]) -> Vec<(bool, bool)> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, o) in all.iter().enumerate() {
        first.entry(o.id.as_str()).or_insert(i);
        last.insert(o.id.as_str(), i);
    }
    (0..all.len())
        .map(|i| {
            let id = all[i].id.as_str();
            (first.get(id) == Some(&i), last.get(id) == Some(&i))
        })
        .collect()
}

fn select(all: &[StixObject], marks: &[(bool, bool)], q: &Query) -> (Vec<usize>, Option<usize>) {
    let version = q.version.as_deref().unwrap_or("last");
    let mut out = Vec::new();
    let mut i = q.next;
    while i < all.len() {
        let o = &all[i];
        i += 1;
        if q.added_after.is_some_and(|t| o.added_ms <= t) {
            continue;
        }
        if !q.ids.is_empty() && !q.ids.contains(&o.id) {
            continue;
        }
        let ty = o.id.split("--").next().unwrap_or("");
        if !q.types.is_empty() && !q.types.iter().any(|t| t == ty) {
            continue;
        }
        let keep = match version {
            "all" => true,
            "first" => marks.get(i - 1).is_some_and(|m| m.0),
            "last" => marks.get(i - 1).is_some_and(|m| m.1),
            v => v
                .split(',')
                .any(|v| parse_time(v) == parse_time(&o.version)),
        };
        if !keep {
            continue;
        }
        if out.len() == q.limit {
            return (out, Some(i - 1));
        }
        out.push(i - 1);
    }
    (out, None)
}

/// An envelope of already serialised objects.
fn envelope(texts: &[String], sel: &[usize], more: Option<usize>) -> String {
    let mut s = String::with_capacity(64 + sel.iter().map(|i| texts[*i].len() + 1).sum::<usize>());
    s.push_str("{\"more\":");
    s.push_str(if more.is_some() { "true" } else { "false" });
    if let Some(n) = more {
        s.push_str(&format!(",\"next\":\"{n}\""));
    }
    if !sel.is_empty() {
        s.push_str(",\"objects\":[");
        for (k, i) in sel.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            s.push_str(&texts[*i]);
        }
        s.push(']');
    }
    s.push('}');
    s
}

fn page_headers(r: &mut Answer, all: &[StixObject], sel: &[usize]) {
    if let (Some(f), Some(l)) = (sel.first(), sel.last()) {
        for (name, i) in [
            ("x-taxii-date-added-first", f),
            ("x-taxii-date-added-last", l),
        ] {
            if let Ok(v) = hyper::header::HeaderValue::from_str(&timestamp(all[*i].added_ms)) {
                r.headers_mut().insert(name, v);
            }
        }
    }
}

impl Node {
    /// The STIX objects a TAXII client of `country` may see, cached until the log grows.
    async fn taxii_objects(&self, cache: &Cache, country: CountryCode) -> Result<View, String> {
        let len = self.log.durable_len();
        if let Ok(c) = cache.by_country.lock() {
            if let Some((l, o)) = c.get(&country) {
                if *l == len {
                    return Ok(o.clone());
                }
            }
        }
        let objects = self
            .stix_objects(Some(country))
            .await
            .map_err(|e| e.message().to_owned())?;
        let texts = objects.iter().map(|o| o.json.to_string()).collect();
        let view = View {
            marks: Arc::new(version_marks(&objects)),
            objects: Arc::new(objects),
            texts: Arc::new(texts),
        };
        if let Ok(mut c) = cache.by_country.lock() {
            c.insert(country, (len, view.clone()));
        }
        Ok(view)
    }
}

async fn handle(
    node: Arc<Node>,
    cache: Arc<Cache>,
    country: CountryCode,
    req: Request<Incoming>,
) -> Answer {
    let path = req.uri().path().to_owned();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let objects_path =
        segs.len() >= 4 && segs[0] == API_ROOT && segs[1] == "collections" && segs[3] == "objects";
    match *req.method() {
        Method::GET | Method::HEAD => {}
        Method::POST | Method::DELETE if objects_path => {
            return error(
                StatusCode::FORBIDDEN,
                "collection is read-only",
                "this kdesk collection cannot be written: objects come from signed records only"
                    .into(),
            )
        }
        _ => {
            let mut r = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                format!(
                    "{} is not allowed: this TAXII server is read-only (GET)",
                    req.method()
                ),
            );
            r.headers_mut().insert(
                hyper::header::ALLOW,
                hyper::header::HeaderValue::from_static("GET, HEAD"),
            );
            return r;
        }
    }
    if let Some(accept) = req.headers().get(hyper::header::ACCEPT) {
        let a = accept.to_str().unwrap_or("").to_ascii_lowercase();
        let ok = a.is_empty()
            || a.contains("application/taxii+json")
            || a.contains("*/*")
            || a.contains("application/*");
        if !ok {
            return error(
                StatusCode::NOT_ACCEPTABLE,
                "not acceptable",
                format!("Accept: {a:?}: this server answers {TAXII_MEDIA}"),
            );
        }
    }
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let coll = collection_id();
    let collection = json!({
        "id": coll,
        "title": "kdesk alerts",
        "description": "Alerts, their versions, retractions and hits this desk may share with you, as STIX 2.1",
        "can_read": true,
        "can_write": false,
        "media_types": [STIX_MEDIA],
    });
    match segs.as_slice() {
        ["taxii2"] => answer(
            StatusCode::OK,
            &json!({
                "title": format!("kdesk {}", node.origin()),
                "description": "Read-only TAXII 2.1 view of a kdesk node's alerts (docs/STIX.md)",
                "default": format!("https://{host}/{API_ROOT}/"),
                "api_roots": [format!("https://{host}/{API_ROOT}/")],
            }),
        ),
        [API_ROOT] => answer(
            StatusCode::OK,
            &json!({
                "title": format!("kdesk {}", node.origin()),
                "versions": [TAXII_MEDIA],
                "max_content_length": 0,
            }),
        ),
        [API_ROOT, "collections"] => {
            answer(StatusCode::OK, &json!({ "collections": [collection] }))
        }
        [API_ROOT, "collections", id] if *id == coll => answer(StatusCode::OK, &collection),
        [API_ROOT, "collections", id, rest @ ..] if *id == coll => {
            let q = match parse_query(req.uri().query()) {
                Ok(q) => q,
                Err(e) => return error(StatusCode::BAD_REQUEST, "bad query", e),
            };
            let view = match node.taxii_objects(&cache, country).await {
                Ok(a) => a,
                Err(e) => {
                    warn!(cause = %e, "TAXII: objects not read");
                    return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e);
                }
            };
            let all: &[StixObject] = &view.objects;
            match rest {
                ["objects"] | ["manifest"] => {
                    let (sel, more) = select(all, &view.marks, &q);
                    let mut r = if rest == ["objects"] {
                        answer_text(StatusCode::OK, envelope(&view.texts, &sel, more))
                    } else {
                        let mut body = json!({"more": more.is_some()});
                        if !sel.is_empty() {
                            body["objects"] = json!(sel
                                .iter()
                                .map(|i| json!({
                                "id": all[*i].id, "date_added": timestamp(all[*i].added_ms),
                                "version": all[*i].version, "media_type": STIX_MEDIA}))
                                .collect::<Vec<_>>());
                        }
                        if let Some(n) = more {
                            body["next"] = json!(n.to_string());
                        }
                        answer(StatusCode::OK, &body)
                    };
                    page_headers(&mut r, all, &sel);
                    r
                }
                ["objects", oid] | ["objects", oid, "versions"] => {
                    let mut q = q;
                    q.ids = vec![(*oid).to_owned()];
                    let versions = rest.len() == 3;
                    if versions {
                        q.version = Some("all".into());
                    }
                    let (sel, more) = select(all, &view.marks, &q);
                    if sel.is_empty() && q.next == 0 && q.added_after.is_none() {
                        return error(
                            StatusCode::NOT_FOUND,
                            "not found",
                            format!("no object {oid} in this collection for you"),
                        );
                    }
                    let mut body = if versions {
                        json!({"versions": sel.iter().map(|i| all[*i].version.clone()).collect::<Vec<_>>()})
                    } else {
                        json!({"objects": sel.iter().map(|i| all[*i].json.clone()).collect::<Vec<_>>()})
                    };
                    body["more"] = json!(more.is_some());
                    if let Some(n) = more {
                        body["next"] = json!(n.to_string());
                    }
                    let mut r = answer(StatusCode::OK, &body);
                    page_headers(&mut r, all, &sel);
                    r
                }
                _ => error(
                    StatusCode::NOT_FOUND,
                    "not found",
                    format!("{path}: no such endpoint"),
                ),
            }
        }
        [API_ROOT, "collections", id, ..] => error(
            StatusCode::NOT_FOUND,
            "not found",
            format!("no collection {id}; GET /{API_ROOT}/collections/ lists them"),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            "not found",
            format!("{path}: no such endpoint; start at /taxii2/"),
        ),
    }
}

/// Serves TAXII on `listener` with `acceptor` until the node stops.
pub async fn serve(
    node: std::sync::Weak<Node>,
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let cache = Arc::new(Cache::default());
    loop {
        let (tcp, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    warn!(cause = %e, "TAXII listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopping.changed() => return,
        };
        // Answers are written as a few TLS records: without this, Nagle's algorithm holds
        // the last one until the client's delayed acknowledgement (tens of ms per page).
        let _ = tcp.set_nodelay(true);
        let Some(node) = node.upgrade() else { return };
        let acceptor = acceptor.clone();
        let cache = cache.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    info!(%remote, cause = %e, "TAXII client refused at the handshake");
                    return;
                }
                Err(_) => {
                    debug!(%remote, "TAXII handshake timed out");
                    return;
                }
            };
            // The verifier accepted a registered partner's certificate; its identity says
            // which country's view this client gets.
            let id = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| crate::pki::node_identity(c).ok());
            let Some(id) = id else {
                warn!(%remote, "TAXII client without a kdesk identity after the handshake");
                return;
            };
            debug!(%remote, client = %id, "TAXII client connected");
            let country = id.country;
            let service = hyper::service::service_fn(move |req| {
                let (node, cache) = (node.clone(), cache.clone());
                async move { Ok::<_, std::convert::Infallible>(handle(node, cache, country, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service);
            if let Err(e) = conn.await {
                debug!(%remote, cause = %e, "TAXII connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(id: &str, version: &str, added: i64) -> StixObject {
        StixObject {
            id: id.into(),
            version: version.into(),
            added_ms: added,
            json: json!({"id": id}),
        }
    }

    #[test]
    fn pages_follow_added_after_limit_next_and_versions() {
        let all = vec![
            obj("identity--1", "2026-12-01T00:00:00.000Z", 10),
            obj("indicator--a", "2026-12-01T00:00:00.000Z", 10),
            obj("indicator--b", "2026-12-01T00:00:01.000Z", 20),
            obj("indicator--a", "2026-12-01T00:00:02.000Z", 30),
            obj("sighting--s", "2026-12-01T00:00:03.000Z", 40),
        ];
        let marks = version_marks(&all);
        let select = |all: &[StixObject], q: &Query| select(all, &marks, q);
        let q = parse_query(Some("limit=2")).unwrap();
        let (sel, more) = select(&all, &q);
        // The first version of indicator--a is not the last: left out by default.
        assert_eq!(sel, vec![0, 2]);
        assert_eq!(more, Some(3));
        let q = parse_query(Some("limit=2&next=3")).unwrap();
        assert_eq!(select(&all, &q), (vec![3, 4], None));
        let t = timestamp(20);
        let q = parse_query(Some(&format!("added_after={}", t))).unwrap();
        assert_eq!(select(&all, &q).0, vec![3, 4]);
        let q = parse_query(Some("match[version]=all&match[type]=indicator")).unwrap();
        assert_eq!(select(&all, &q).0, vec![1, 2, 3]);
        let q = parse_query(Some("match[id]=indicator--a&match[version]=first")).unwrap();
        assert_eq!(select(&all, &q).0, vec![1]);
        for bad in [
            "limit=0",
            "limit=x",
            "added_after=yesterday",
            "match[version]=newest",
            "colour=red",
            "next=x",
        ] {
            assert!(parse_query(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(decode("2026-12-01T00%3A00%3A00Z"), "2026-12-01T00:00:00Z");
        assert_eq!(collection_id(), "70f7e168-c1f2-5888-979c-c29514fe6cca");
    }
}
