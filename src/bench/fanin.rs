//! `kdesk bench fanin`: ten partner desks replicating into one hub at once (the Korean Desk's
//! star), and `kdesk bench issue`: bulk import and concurrent issuing into one node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{bare_verify, cpu_seconds, make_desk, progress, wait_addr};
use kdesk::model::Alert;
use kdesk::node::{self, Node};
use kdesk::pb;
use kdesk::record::{Record, RecordId, RecordKind};
use kdesk::store::Mode;

/// The partner desks of the Korean Desk, in the order they are added.
pub const PARTNERS: [&str; 10] = ["TH", "VN", "MY", "US", "NL", "KH", "LA", "CA", "DE", "FR"];

/// Figures of one fan-in run.
#[derive(Debug, Serialize)]
pub struct FaninReport {
    /// Partner desks sending at once.
    pub partners: usize,
    /// Records prepared at each partner before the hub registers them.
    pub records_per_partner: u64,
    /// Records that reached the hub (prepared ones plus latency probes).
    pub records_received: u64,
    /// Seconds from the first registration at the hub until everything was durable there.
    pub fanin_seconds: f64,
    /// Records per second durable at the hub.
    pub fanin_per_second: f64,
    /// Records per second of a bare single-threaded verify_strict loop, same run.
    pub bare_verify_per_second: f64,
    /// fanin_per_second / bare_verify_per_second.
    pub ratio: f64,
    /// Latency probes: alerts issued at partners while the fan-in ran.
    pub probes: usize,
    /// Median time from a probe's issue at its partner to durable at the hub (ms).
    pub latency_p50_ms: f64,
    /// 99th percentile of the same (ms).
    pub latency_p99_ms: f64,
    /// Probes issued for 3 s after the fan-in, with the hub caught up.
    pub idle_probes: usize,
    /// Their median issue-to-durable-at-the-hub time (ms).
    pub idle_latency_p50_ms: f64,
    /// Their 99th percentile (ms).
    pub idle_latency_p99_ms: f64,
    /// Flushes the hub ran per record received (group commit: well below 1).
    pub hub_flushes_per_record: f64,
    /// Process CPU (all eleven nodes share this process) per record received, microseconds.
    pub cpu_us_per_record: f64,
    /// Cores available.
    pub cores: usize,
}

fn template() -> Result<Alert, String> {
    Alert::from_json(include_str!(
        "../../examples/alerts/cargo-express-methamphetamine.json"
    ))
    .map_err(|e| e.to_string())
}

fn titled(t: &Alert, title: &str) -> Result<Alert, String> {
    let mut a = t.clone();
    a.title = kdesk::model::Title::parse(title).map_err(|e| e.to_string())?;
    Ok(a)
}

/// Runs `partners` partner nodes and one hub (KR) in this process, each with its own CA and
/// mTLS exchange on loopback; every partner holds `n` alerts for KR before KR registers them
/// all at once, and issues a latency probe every 100 ms while the fan-in runs.
///
/// # Errors
/// Any set-up or run failure, as text.
pub async fn fanin(partners: usize, n: u64) -> Result<FaninReport, String> {
    if partners == 0 || partners > PARTNERS.len() {
        return Err(format!("partners must be 1-{}", PARTNERS.len()));
    }
    let tmp = tempfile::Builder::new()
        .prefix("kdesk-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let (kr_cfg, kr_ca) = make_desk(tmp.path(), "KR", "seoul")?;
    let kr = Arc::new(Node::open(kr_cfg.clone()).map_err(|e| e.to_string())?);
    let template = template()?;
    let mut desks = Vec::new();
    let mut sample = Vec::new();
    for (i, cc) in PARTNERS.iter().take(partners).enumerate() {
        let (cfg, ca) = make_desk(tmp.path(), cc, &format!("desk-{}", cc.to_ascii_lowercase()))?;
        let node = Arc::new(Node::open(cfg.clone()).map_err(|e| e.to_string())?);
        let key = kdesk::keys::load_signing_key(&cfg.signing_key).map_err(|e| e.to_string())?;
        let origin = node.origin().clone();
        let mut batch = Vec::with_capacity(1024);
        for seq in 1..=n {
            let signed = Record {
                origin: origin.clone(),
                seq,
                created_at_ms: node::now_ms(),
                kind: RecordKind::Alert(titled(&template, &format!("{cc} express alert {seq}"))?),
            }
            .sign(&key);
            if i == 0 && sample.len() < 20_000 {
                sample.push(signed.envelope.clone());
            }
            batch.push(signed);
            if batch.len() == 1024 || seq == n {
                node.store
                    .ingest_all(&batch, node::now_ms(), Mode::Own)
                    .map_err(|e| e.to_string())?;
                batch.clear();
            }
            progress(&format!("signing and storing at {cc}"), seq, n);
        }
        node.log
            .flush_and_publish()
            .await
            .map_err(|e| e.to_string())?;
        let public = hex::encode(key.verifying_key().as_bytes());
        desks.push((cc.to_string(), cfg, ca, node, public, key));
    }
    let bare = bare_verify(&desks[0].5, &sample)?;
    let bare_per_second = sample.len() as f64 / bare;

    // Run every node.
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for n in std::iter::once(&kr).chain(desks.iter().map(|d| &d.3)) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(tx);
        tasks.push(tokio::spawn(node::run(n.clone(), async move {
            let _ = rx.await;
        })));
    }
    let kr_addr = wait_addr(&kr).await?;
    let kr_pub = std::fs::read_to_string(&kr_cfg.public_key).map_err(|e| e.to_string())?;
    let mut addrs = Vec::new();
    for d in &desks {
        addrs.push(wait_addr(&d.3).await?);
        let mut admin = crate::cli::client::connect(&d.1.data_dir)
            .await
            .map_err(|e| e.to_string())?;
        admin
            .add_peer(pb::AddPeerRequest {
                country: "KR".into(),
                endpoint: format!("https://{kr_addr}"),
                ca_pem: kr_ca.clone(),
                crl_pem: vec![],
                signing_key: kr_pub.clone(),
            })
            .await
            .map_err(|e| e.to_string())?;
    }

    // Arrivals at the hub: every record id newly durable there, with the time it became so.
    let arrived: Arc<Mutex<HashMap<RecordId, Instant>>> = Arc::default();
    let watcher = {
        let (kr, arrived) = (kr.clone(), arrived.clone());
        tokio::spawn(async move {
            let mut durable = kr.log.durable_watch();
            let mut seen = *durable.borrow();
            while durable.changed().await.is_ok() {
                let now = Instant::now();
                let len = *durable.borrow();
                let ids: Vec<RecordId> = kr
                    .store
                    .log_range(seen, len)
                    .filter_map(|r| r.ok().map(|(_, id)| id))
                    .collect();
                seen = len;
                if let Ok(mut a) = arrived.lock() {
                    for id in ids {
                        a.insert(id, now);
                    }
                }
            }
        })
    };

    let cpu_start = cpu_seconds();
    let flushes_start = kr.store.flushes();
    let start = Instant::now();
    let mut admin = crate::cli::client::connect(&kr_cfg.data_dir)
        .await
        .map_err(|e| e.to_string())?;
    for (d, addr) in desks.iter().zip(&addrs) {
        admin
            .add_peer(pb::AddPeerRequest {
                country: d.0.clone(),
                endpoint: format!("https://{addr}"),
                ca_pem: d.2.clone(),
                crl_pem: vec![],
                signing_key: d.4.clone(),
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    let kr_own = kr.store.last_seq(kr.origin()).map_err(|e| e.to_string())?;

    // Latency probes: each partner issues an alert every 100 ms until the fan-in is done.
    let done = Arc::new(AtomicBool::new(false));
    let probes_issued = Arc::new(AtomicU64::new(0));
    let issued: Arc<Mutex<Vec<(RecordId, Instant)>>> = Arc::default();
    let nodes: Vec<(String, Arc<Node>)> =
        desks.iter().map(|d| (d.0.clone(), d.3.clone())).collect();
    let mut probers = probe(&nodes, &template, &done, &probes_issued, &issued, "load");
    let total_prepared = n * partners as u64;
    let mut stopped_probes = false;
    loop {
        let got = kr.log.durable_len().saturating_sub(kr_own);
        if !stopped_probes && got >= total_prepared {
            done.store(true, Ordering::SeqCst);
            for p in probers.drain(..) {
                let _ = p.await;
            }
            stopped_probes = true;
        }
        let want = total_prepared + probes_issued.load(Ordering::SeqCst);
        progress("fan-in at KR", got.min(want), want);
        if stopped_probes && got >= want {
            break;
        }
        if start.elapsed() > Duration::from_secs(900) {
            return Err(format!("fan-in stalled at {got}/{want}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fanin_seconds = start.elapsed().as_secs_f64();
    let received = kr.log.durable_len().saturating_sub(kr_own);
    let cpu = cpu_seconds() - cpu_start;
    let flushes = kr.store.flushes() - flushes_start;
    // Then the same probes for 3 s with the hub caught up: the latency a desk sees when no
    // backlog is queued ahead of its alert.
    let under_load: Vec<(RecordId, Instant)> = issued
        .lock()
        .map_err(|_| "probes poisoned")?
        .drain(..)
        .collect();
    let idle_done = Arc::new(AtomicBool::new(false));
    let idle_count = Arc::new(AtomicU64::new(0));
    let probers = probe(&nodes, &template, &idle_done, &idle_count, &issued, "idle");
    tokio::time::sleep(Duration::from_secs(3)).await;
    idle_done.store(true, Ordering::SeqCst);
    for p in probers {
        let _ = p.await;
    }
    let want = received + idle_count.load(Ordering::SeqCst);
    let wait = Instant::now();
    while kr.log.durable_len().saturating_sub(kr_own) < want {
        if wait.elapsed() > Duration::from_secs(60) {
            return Err("idle probes did not arrive".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let idle: Vec<(RecordId, Instant)> = issued
        .lock()
        .map_err(|_| "probes poisoned")?
        .drain(..)
        .collect();
    let refused: u64 = kr.fed.rejections_since_start().iter().map(|(_, c)| c).sum();
    if refused > 0 {
        return Err(format!("the hub refused {refused} records"));
    }
    // Let the watcher see the last change, then match probes with their arrivals.
    tokio::time::sleep(Duration::from_millis(50)).await;
    watcher.abort();
    let (lat, lat_idle) = {
        let arrived = arrived.lock().map_err(|_| "arrivals poisoned")?;
        (latencies(&under_load, &arrived), latencies(&idle, &arrived))
    };
    for s in stops {
        let _ = s.send(());
    }
    for t in tasks {
        let _ = t.await;
    }
    let per_second = received as f64 / fanin_seconds;
    Ok(FaninReport {
        partners,
        records_per_partner: n,
        records_received: received,
        fanin_seconds,
        fanin_per_second: per_second,
        bare_verify_per_second: bare_per_second,
        ratio: per_second / bare_per_second,
        probes: lat.len(),
        latency_p50_ms: pct(&lat, 0.5),
        latency_p99_ms: pct(&lat, 0.99),
        idle_probes: lat_idle.len(),
        idle_latency_p50_ms: pct(&lat_idle, 0.5),
        idle_latency_p99_ms: pct(&lat_idle, 0.99),
        hub_flushes_per_record: flushes as f64 / received.max(1) as f64,
        cpu_us_per_record: cpu * 1e6 / received.max(1) as f64,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
    })
}

/// Each partner issues an alert every 100 ms until `done`; issued ids and start times go to
/// `issued`.
fn probe(
    nodes: &[(String, Arc<Node>)],
    template: &Alert,
    done: &Arc<AtomicBool>,
    count: &Arc<AtomicU64>,
    issued: &Arc<Mutex<Vec<(RecordId, Instant)>>>,
    phase: &'static str,
) -> Vec<tokio::task::JoinHandle<()>> {
    nodes
        .iter()
        .map(|(cc, node)| {
            let (cc, node, done, count, issued, t) = (
                cc.clone(),
                node.clone(),
                done.clone(),
                count.clone(),
                issued.clone(),
                template.clone(),
            );
            tokio::spawn(async move {
                let mut i = 0u64;
                while !done.load(Ordering::SeqCst) {
                    i += 1;
                    let Ok(a) = titled(&t, &format!("{cc} {phase} latency probe {i}")) else {
                        return;
                    };
                    let t0 = Instant::now();
                    if let Ok(s) = node.issue(RecordKind::Alert(a)).await {
                        count.fetch_add(1, Ordering::SeqCst);
                        if let Ok(mut v) = issued.lock() {
                            v.push((s.id, t0));
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect()
}

/// Milliseconds from issue to arrival of each probe that arrived, sorted.
fn latencies(issued: &[(RecordId, Instant)], arrived: &HashMap<RecordId, Instant>) -> Vec<f64> {
    let mut v: Vec<f64> = issued
        .iter()
        .filter_map(|(id, t0)| {
            arrived
                .get(id)
                .map(|t| t.saturating_duration_since(*t0).as_secs_f64() * 1e3)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The `p` quantile of sorted values (0 when empty).
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Figures of one issuing run.
#[derive(Debug, Serialize)]
pub struct IssueReport {
    /// Alerts imported with `kdesk alert import` (JSON Lines from `kdesk gen`).
    pub import_alerts: u64,
    /// Seconds for the import (every line checked, signed, stored, flushed).
    pub import_seconds: f64,
    /// Alerts per second imported.
    pub import_per_second: f64,
    /// Concurrent issuers (Admin API clients each issuing one alert at a time).
    pub issuers: usize,
    /// Alerts they issued in all.
    pub issue_alerts: u64,
    /// Alerts per second issued.
    pub issue_per_second: f64,
    /// Flushes per alert issued (below 1: concurrent requests share flushes).
    pub flushes_per_alert: f64,
    /// Cores available.
    pub cores: usize,
}

/// Imports `alerts` generated alerts into a fresh node through `kdesk alert import`'s code,
/// then lets `issuers` concurrent Admin API clients issue `per_issuer` alerts each.
///
/// # Errors
/// Any set-up or run failure, as text.
pub async fn issue(alerts: u64, issuers: usize, per_issuer: u64) -> Result<IssueReport, String> {
    let tmp = tempfile::Builder::new()
        .prefix("kdesk-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let (cfg, _) = make_desk(tmp.path(), "KR", "seoul")?;
    let node = Arc::new(Node::open(cfg.clone()).map_err(|e| e.to_string())?);
    let spec = kdesk::screen::gen::Spec {
        alerts: usize::try_from(alerts).map_err(|e| e.to_string())?,
        lines: 0,
        seed: 7,
        true_identifiers: 0,
        true_names: 0,
        true_profiles: 0,
        date: kdesk::model::Date::today_utc(),
    };
    let file = tmp.path().join("alerts.jsonl");
    {
        use std::io::Write;
        let mut w =
            std::io::BufWriter::new(std::fs::File::create(&file).map_err(|e| e.to_string())?);
        for a in kdesk::screen::gen::alerts(&spec).map_err(|e| e.to_string())? {
            let line = serde_json::to_string(&a).map_err(|e| e.to_string())?;
            writeln!(w, "{line}").map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node::run(node.clone(), async move {
        let _ = stopped.await;
    }));
    wait_addr(&node).await?;
    let start = Instant::now();
    let sum =
        crate::cli::import::import_file(&cfg.data_dir, &file, false, 1000, "bench-import", false)
            .await
            .map_err(|e| e.message)?;
    let import_seconds = start.elapsed().as_secs_f64();
    if sum.imported != alerts {
        return Err(format!("imported {} of {alerts}", sum.imported));
    }

    let template = template()?;
    let flushes_start = node.store.flushes();
    let start = Instant::now();
    let mut clients = Vec::new();
    for w in 0..issuers {
        let (dir, t) = (cfg.data_dir.clone(), template.clone());
        clients.push(tokio::spawn(async move {
            let mut c = crate::cli::client::connect(&dir)
                .await
                .map_err(|e| e.to_string())?;
            for i in 0..per_issuer {
                let a = titled(&t, &format!("Issuer {w} alert {i}"))?;
                c.issue_alert(pb::IssueAlertRequest {
                    alert: Some(a.to_pb()),
                    request_id: format!("bench-{w}-{i}"),
                })
                .await
                .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
    }
    for c in clients {
        c.await.map_err(|e| e.to_string())??;
    }
    let issue_seconds = start.elapsed().as_secs_f64();
    let flushes = node.store.flushes() - flushes_start;
    let issued = issuers as u64 * per_issuer;
    let _ = stop.send(());
    let _ = task.await;
    Ok(IssueReport {
        import_alerts: alerts,
        import_seconds,
        import_per_second: alerts as f64 / import_seconds,
        issuers,
        issue_alerts: issued,
        issue_per_second: issued as f64 / issue_seconds,
        flushes_per_alert: flushes as f64 / issued.max(1) as f64,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
    })
}
