//! Measured figures (`kdesk bench ...`), each printed with the raw primitive it is bounded by,
//! measured in the same run.
//!
//! `replicate`: N alerts signed and stored at a TH node are replicated to a KR node over the
//! real exchange path (TLS 1.3 with client certificates on loopback, `Subscribe`, verify_strict,
//! receiver checks, one sled transaction per record, flush before the cursor advances). The
//! rate is compared with a bare single-threaded `verify_strict` loop over the same envelopes.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, SigningKey};
use serde::Serialize;

use kdesk::config::Config;
use kdesk::model::{Alert, CountryCode, NodeName};
use kdesk::node::{self, Node};
use kdesk::pb;
use kdesk::record::{signing_message, Record, RecordKind};
use kdesk::store::Mode;

pub mod fanin;
pub mod formats;
pub mod retro;
pub mod scale;

/// Figures of one replication run.
#[derive(Debug, Serialize)]
pub struct ReplicateReport {
    /// Records replicated.
    pub records: u64,
    /// Seconds to prepare (sign and store at the sender; not part of the measure).
    pub prepare_seconds: f64,
    /// Seconds from partner registration until every record was durable at the receiver.
    pub replicate_seconds: f64,
    /// Records per second replicated.
    pub replicate_per_second: f64,
    /// Seconds of the bare single-threaded verify_strict loop over the same records.
    pub bare_verify_seconds: f64,
    /// Records per second of that loop.
    pub bare_verify_per_second: f64,
    /// replicate_per_second / bare_verify_per_second.
    pub ratio: f64,
    /// Process CPU time (user + system, both nodes) per replicated record, microseconds.
    pub cpu_us_per_record: f64,
    /// Cores available.
    pub cores: usize,
}

/// User + system CPU seconds used by this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; zeroed is a valid initial value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage struct.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn progress(label: &str, done: u64, total: u64) {
    if std::io::stderr().is_terminal() && (done % 5000 == 0 || done == total) {
        eprint!(
            "\r{label}: {done}/{total} ({:.0}%)   ",
            done as f64 * 100.0 / total.max(1) as f64
        );
        if done == total {
            eprintln!();
        }
    }
}

/// Makes a node directory with its own national CA and node certificate.
fn make_desk(root: &Path, cc: &str, name: &str) -> Result<(Config, String), String> {
    let country = CountryCode::parse(cc).map_err(|e| e.to_string())?;
    let node = NodeName::parse(name).map_err(|e| e.to_string())?;
    let ca = kdesk::pki::make_ca(country).map_err(|e| e.to_string())?;
    let dir = root.join(cc.to_ascii_lowercase());
    let listen = "127.0.0.1:0"
        .parse()
        .map_err(|e: std::net::AddrParseError| e.to_string())?;
    let (cfg, _) =
        Config::init(&dir, country, node.clone(), Some(listen), 3600).map_err(|e| e.to_string())?;
    let issued = kdesk::pki::make_node_cert(
        &ca.cert_pem,
        &ca.key_pem,
        country,
        &node,
        &["127.0.0.1".into()],
    )
    .map_err(|e| e.to_string())?;
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).map_err(|e| e.to_string())?;
    std::fs::write(tls.join("node.pem"), issued.cert_pem).map_err(|e| e.to_string())?;
    kdesk::keys::write_private_file(&tls.join("node.key"), issued.key_pem.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok((cfg, ca.cert_pem))
}

/// Replicates `n` alerts from one node to another and measures it.
///
/// # Errors
/// Any set-up or run failure, as text.
pub async fn replicate(n: u64) -> Result<ReplicateReport, String> {
    let tmp = tempfile::Builder::new()
        .prefix("kdesk-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let (th_cfg, th_ca) = make_desk(tmp.path(), "TH", "bangkok")?;
    let (kr_cfg, kr_ca) = make_desk(tmp.path(), "KR", "seoul")?;
    let th = Arc::new(Node::open(th_cfg.clone()).map_err(|e| e.to_string())?);
    let kr = Arc::new(Node::open(kr_cfg.clone()).map_err(|e| e.to_string())?);

    // Prepare: N distinct, realistic alerts addressed to KR, signed and stored at TH.
    let prep = Instant::now();
    let th_key = kdesk::keys::load_signing_key(&th_cfg.signing_key).map_err(|e| e.to_string())?;
    let template = Alert::from_json(include_str!(
        "../../examples/alerts/cargo-express-methamphetamine.json"
    ))
    .map_err(|e| e.to_string())?;
    let origin = th.origin().clone();
    let mut envelopes = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for seq in 1..=n {
        let mut a = template.clone();
        a.title = kdesk::model::Title::parse(&format!("Express parcel alert {seq}"))
            .map_err(|e| e.to_string())?;
        let rec = Record {
            origin: origin.clone(),
            seq,
            created_at_ms: node::now_ms(),
            kind: RecordKind::Alert(a),
        };
        let signed = rec.sign(&th_key);
        th.store
            .ingest(&signed, node::now_ms(), Mode::Own)
            .map_err(|e| e.to_string())?;
        envelopes.push(signed.envelope);
        progress("signing and storing at TH", seq, n);
    }
    th.log
        .flush_and_publish()
        .await
        .map_err(|e| e.to_string())?;
    let prepare_seconds = prep.elapsed().as_secs_f64();

    // The primitive: a bare verify_strict loop over the same envelopes, one thread.
    let bare_verify_seconds = bare_verify(&th_key, &envelopes)?;

    // Run both nodes; register them with each other through their Admin APIs.
    let (stop_th, th_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_kr, kr_stopped) = tokio::sync::oneshot::channel::<()>();
    let th_task = tokio::spawn(node::run(th.clone(), async move {
        let _ = th_stopped.await;
    }));
    let kr_task = tokio::spawn(node::run(kr.clone(), async move {
        let _ = kr_stopped.await;
    }));
    let th_addr = wait_addr(&th).await?;
    let kr_addr = wait_addr(&kr).await?;
    let th_pub = hex::encode(th_key.verifying_key().as_bytes());
    let kr_pub = std::fs::read_to_string(&kr_cfg.public_key).map_err(|e| e.to_string())?;
    let mut th_admin = crate::cli::client::connect(&th_cfg.data_dir)
        .await
        .map_err(|e| e.to_string())?;
    th_admin
        .add_peer(pb::AddPeerRequest {
            country: "KR".into(),
            endpoint: format!("https://{kr_addr}"),
            ca_pem: kr_ca,
            crl_pem: vec![],
            signing_key: kr_pub,
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut kr_admin = crate::cli::client::connect(&kr_cfg.data_dir)
        .await
        .map_err(|e| e.to_string())?;
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    kr_admin
        .add_peer(pb::AddPeerRequest {
            country: "TH".into(),
            endpoint: format!("https://{th_addr}"),
            ca_pem: th_ca,
            crl_pem: vec![],
            signing_key: th_pub,
        })
        .await
        .map_err(|e| e.to_string())?;
    // Done when KR's durable log holds every record (after KR's own admin event recording
    // TH's registration).
    loop {
        let durable = kr.log.durable_len().saturating_sub(1);
        progress("replicating TH -> KR", durable, n);
        if durable >= n {
            break;
        }
        if start.elapsed() > Duration::from_secs(600) {
            return Err(format!("replication stalled at {durable}/{n}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let replicate_seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let refused: u64 = kr.fed.rejections_since_start().iter().map(|(_, c)| c).sum();
    let from_th = kr.store.count_origin(&origin) as u64;
    if refused > 0 || from_th != n {
        return Err(format!(
            "receiver refused {refused} records and holds {from_th} of TH's"
        ));
    }
    let _ = stop_kr.send(());
    let _ = stop_th.send(());
    let _ = kr_task.await;
    let _ = th_task.await;

    let nf = n as f64;
    Ok(ReplicateReport {
        records: n,
        prepare_seconds,
        replicate_seconds,
        replicate_per_second: nf / replicate_seconds,
        bare_verify_seconds,
        bare_verify_per_second: nf / bare_verify_seconds,
        ratio: bare_verify_seconds / replicate_seconds,
        cpu_us_per_record: cpu * 1e6 / nf,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
    })
}

fn bare_verify(key: &SigningKey, envelopes: &[pb::Envelope]) -> Result<f64, String> {
    let vk = key.verifying_key();
    let start = Instant::now();
    for e in envelopes {
        let sig = Signature::from_slice(&e.signature).map_err(|e| e.to_string())?;
        vk.verify_strict(&signing_message(&e.body), &sig)
            .map_err(|e| e.to_string())?;
    }
    Ok(start.elapsed().as_secs_f64())
}

async fn wait_addr(node: &Node) -> Result<std::net::SocketAddr, String> {
    for _ in 0..400 {
        if let Some(a) = node.fed.exchange_addr.get() {
            if node.config.admin_socket.exists() {
                return Ok(*a);
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("node did not start".into())
}

/// Figures of one audit-verification run.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    /// Records in the bundle.
    pub records: u64,
    /// Bundle size in bytes.
    pub bundle_bytes: u64,
    /// Seconds to verify the bundle (signatures, proofs, order, completeness).
    pub verify_seconds: f64,
    /// Records per second verified.
    pub verify_per_second: f64,
    /// Seconds of the bare single-threaded verify_strict loop over the same records.
    pub bare_verify_seconds: f64,
    /// Records per second of that loop.
    pub bare_verify_per_second: f64,
    /// verify_per_second / bare_verify_per_second.
    pub ratio: f64,
    /// Cores available (the verifier uses all of them).
    pub cores: usize,
    /// Witness answers of the exporting node at this size (tree heads and proofs partners ask
    /// for), from its incremental log tree.
    pub witness: WitnessCost,
}

/// What a node's answers to its witnesses cost at one log size.
#[derive(Debug, Serialize)]
pub struct WitnessCost {
    /// Seconds to hash the whole log into the node's tree (once per process start).
    pub tree_build_seconds: f64,
    /// Microseconds per root of a size not asked before.
    pub root_us: f64,
    /// Microseconds per consistency proof (random first size to the full size).
    pub consistency_us: f64,
    /// Microseconds per inclusion proof (random leaf, full size).
    pub inclusion_us: f64,
    /// Microseconds for one consistency proof computed from all the leaves (the primitive the
    /// tree avoids).
    pub consistency_from_leaves_us: f64,
}

/// Exports a complete bundle of `n` records from a node and verifies it offline.
///
/// # Errors
/// Set-up, export or verification failure, as text.
pub async fn audit(n: u64) -> Result<AuditReport, String> {
    let tmp = tempfile::Builder::new()
        .prefix("kdesk-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let (cfg, _) = make_desk(tmp.path(), "KR", "seoul")?;
    let node = Node::open(cfg.clone()).map_err(|e| e.to_string())?;
    let key = kdesk::keys::load_signing_key(&cfg.signing_key).map_err(|e| e.to_string())?;
    let template = Alert::from_json(include_str!(
        "../../examples/alerts/cargo-sea-container-cocaine.json"
    ))
    .map_err(|e| e.to_string())?;
    let mut envelopes = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let alerts = (1..=n).map(|seq| {
        let mut a = template.clone();
        a.title = kdesk::model::Title::parse(&format!("Container alert {seq}"))
            .map_err(|e| e.to_string())?;
        Ok(a)
    });
    sign_and_store(&node, &key, alerts, n, "signing and storing", |e| {
        envelopes.push(e.clone());
    })?;
    node.log
        .flush_and_publish()
        .await
        .map_err(|e| e.to_string())?;
    let path = tmp.path().join("bundle.kdesk");
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let (exported, _) = node
        .export_audit_to(None, None, &mut out)
        .map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
    drop(out);
    if exported.records != n {
        return Err(format!("exported {} of {n}", exported.records));
    }
    let bare_verify_seconds = bare_verify(&key, &envelopes)?;
    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
    let report = kdesk::audit::bundle::verify_reader(
        std::io::BufReader::with_capacity(1 << 20, file),
        None,
        &|d, t| {
            if tty && (d % 5000 == 0 || d == t) {
                eprint!("\rverifying bundle: {d}/{t}   ");
            }
        },
    )
    .map_err(|e| e.to_string())?;
    let verify_seconds = start.elapsed().as_secs_f64();
    if tty {
        eprintln!();
    }
    if report.records != n || !report.complete {
        return Err("bundle verified incompletely".into());
    }
    let witness = witness_cost(&node, n, &report.root)?;
    let nf = n as f64;
    Ok(AuditReport {
        records: n,
        bundle_bytes: exported.bytes,
        verify_seconds,
        verify_per_second: nf / verify_seconds,
        bare_verify_seconds,
        bare_verify_per_second: nf / bare_verify_seconds,
        ratio: bare_verify_seconds / verify_seconds,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
        witness,
    })
}

/// Measures the node's witness answers at log size `n` (`n` ≥ 1), checking them against the
/// root the offline verifier computed and against proofs built from all the leaves.
fn witness_cost(node: &Node, n: u64, bundle_root_hex: &str) -> Result<WitnessCost, String> {
    use kdesk::audit::merkle;
    let size = usize::try_from(n).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let root = node
        .log
        .with_tree(n, |t, s| t.root(s))
        .map_err(|e| e.to_string())?
        .ok_or("no root")?;
    let tree_build_seconds = start.elapsed().as_secs_f64();
    if hex::encode(root) != bundle_root_hex {
        return Err("the node's tree and the bundle disagree on the root".into());
    }
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut pick = move |below: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        1 + (rng % below as u64) as usize
    };
    let calls = 2000;
    let per_call = |f: &mut dyn FnMut(&merkle::Incremental, usize) -> Option<()>| {
        node.log
            .with_tree(n, |t, s| {
                let start = Instant::now();
                for _ in 0..calls {
                    f(t, s).ok_or("no answer")?;
                }
                Ok::<f64, String>(start.elapsed().as_secs_f64() * 1e6 / f64::from(calls))
            })
            .map_err(|e| e.to_string())?
    };
    let root_us = per_call(&mut |t, s| t.root(pick(s)).map(|_| ()))?;
    let consistency_us = per_call(&mut |t, s| t.consistency_proof(pick(s), s).map(|_| ()))?;
    let inclusion_us = per_call(&mut |t, s| t.inclusion_proof(pick(s) - 1, s).map(|_| ()))?;
    // The primitive: one proof from all the leaves, and the same answer from the tree.
    let leaves: Vec<merkle::Hash> = node
        .store
        .log_range(0, n)
        .map(|i| i.map(|(_, id)| kdesk::audit::bundle::record_leaf(&id)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let m = size / 2 + 1;
    let start = Instant::now();
    let reference = merkle::consistency_proof(m, &leaves);
    let consistency_from_leaves_us = start.elapsed().as_secs_f64() * 1e6;
    let from_tree = node
        .log
        .with_tree(n, |t, s| t.consistency_proof(m, s))
        .map_err(|e| e.to_string())?;
    if reference != from_tree {
        return Err("the tree's consistency proof differs from the reference".into());
    }
    Ok(WitnessCost {
        tree_build_seconds,
        root_us,
        consistency_us,
        inclusion_us,
        consistency_from_leaves_us,
    })
}

/// Figures of one screening pass.
#[derive(Debug, Serialize)]
pub struct ScreenPass {
    /// Name matching on.
    pub names: bool,
    /// Seconds to build the engine's indexes.
    pub build_seconds: f64,
    /// Seconds to read, parse and screen the whole file.
    pub screen_seconds: f64,
    /// Lines per second.
    pub lines_per_second: f64,
    /// Hits.
    pub hits: u64,
    /// Seeded identifier lines found / seeded.
    pub recall_identifiers: f64,
    /// Seeded name-variant lines found / seeded (0 when names are off).
    pub recall_names: f64,
    /// Seeded profile lines found / seeded.
    pub recall_profiles: f64,
    /// Hits resting on identifiers or names that are seeded truths / all such hits.
    pub precision: f64,
    /// Name-variant recall by variant kind: (variant, found, seeded).
    pub names_by_variant: Vec<(String, u64, u64)>,
}

/// Figures of `kdesk bench screen`.
#[derive(Debug, Serialize)]
pub struct ScreenReport {
    /// Manifest lines.
    pub lines: u64,
    /// Alerts screened against.
    pub alerts: u64,
    /// Input bytes.
    pub bytes: u64,
    /// Seconds to generate alerts and the manifest (not measured).
    pub generate_seconds: f64,
    /// Worker threads.
    pub threads: usize,
    /// Identifiers and profiles only; then with names.
    pub passes: Vec<ScreenPass>,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: f64,
}

/// Peak resident set size of this process (Linux `VmHWM`), MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("self", "VmHWM:")
}

/// A memory line of `/proc/WHO/status` (`VmRSS:`, `VmHWM:`; WHO `self` or a pid), MiB; 0
/// when unreadable.
pub fn status_mib(who: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{who}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Signs `alerts` as `node`'s records numbered from 1 and stores them in batches (the
/// benchmarks' set-up), handing each envelope to `keep`.
///
/// # Errors
/// A store failure, as text.
fn sign_and_store(
    node: &Node,
    key: &SigningKey,
    alerts: impl Iterator<Item = Result<Alert, String>>,
    n: u64,
    label: &str,
    mut keep: impl FnMut(&pb::Envelope),
) -> Result<(), String> {
    let origin = node.origin().clone();
    let mut batch = Vec::with_capacity(1024);
    for (seq, alert) in (1..=n).zip(alerts) {
        let signed = Record {
            origin: origin.clone(),
            seq,
            created_at_ms: node::now_ms(),
            kind: RecordKind::Alert(alert?),
        }
        .sign(key);
        keep(&signed.envelope);
        batch.push(signed);
        if batch.len() == 1024 || seq == n {
            node.store
                .ingest_batch(&batch, node::now_ms(), Mode::Own)
                .map_err(|e| e.to_string())?;
            batch.clear();
        }
        progress(label, seq, n);
    }
    Ok(())
}

/// Generates `alerts` alerts and a CSV manifest of `lines` lines with seeded matches, then
/// screens the file twice (identifiers and profiles; then with names), measuring speed,
/// recall and precision against the truth.
///
/// # Errors
/// Temporary files cannot be written or read.
pub fn screen(lines: u64, alerts: u64, seed: u64) -> Result<ScreenReport, String> {
    use kdesk::screen::{self, gen, Engine, Format, Options, ReadOptions, ScreenAlert};
    use std::collections::{HashMap, HashSet};
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let date = kdesk::model::Date::today_utc();
    let t0 = Instant::now();
    let spec = gen::Spec {
        alerts: alerts as usize,
        lines: lines as usize,
        seed,
        true_identifiers: (lines as usize / 1000).clamp(1, 1000),
        true_names: (lines as usize / 1000).clamp(1, 1000),
        true_profiles: (lines as usize / 2000).clamp(1, 500),
        date,
    };
    let generated = gen::alerts(&spec).map_err(|e| format!("generator: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("manifest.csv");
    let truth = {
        let f = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let t = gen::write_manifest(&spec, &generated, &mut w, Format::Csv)
            .map_err(|e| e.to_string())?;
        std::io::Write::flush(&mut w).map_err(|e| e.to_string())?;
        t
    };
    let bytes = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    let generate_seconds = t0.elapsed().as_secs_f64();
    let origin = kdesk::record::Origin::parse("TH/bkk").map_err(|e| e.to_string())?;
    let screen_alerts: Vec<ScreenAlert> = generated
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            ScreenAlert {
                id: kdesk::record::RecordId(id),
                origin: origin.clone(),
                alert,
            }
        })
        .collect();
    let truth_set: HashSet<(String, String)> = truth
        .iter()
        .map(|t| (t.reference.clone(), t.case_reference.clone()))
        .collect();
    let mut passes = Vec::new();
    for names in [false, true] {
        let t = Instant::now();
        let engine = Engine::build(screen_alerts.clone(), date, Options { names });
        let build_seconds = t.elapsed().as_secs_f64();
        let f = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        let (mut id_name_hits, mut id_name_true) = (0u64, 0u64);
        let t = Instant::now();
        let summary = screen::screen_stream(
            &engine,
            &ReadOptions {
                format: Some(Format::Csv),
                mapping: None,
            },
            screen::file_chunks(f, 1 << 20),
            threads,
            |_, r| {
                for h in r.hits {
                    let Ok(a) = engine.alert(h.hit.alert) else {
                        continue;
                    };
                    let case = a
                        .alert
                        .case_reference
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    if h.hit
                        .matched
                        .iter()
                        .any(|e| !e.field.starts_with("profile."))
                    {
                        id_name_hits += 1;
                        if truth_set.contains(&(h.reference.clone(), case.clone())) {
                            id_name_true += 1;
                        }
                    }
                    found.entry(h.reference).or_default().push(case);
                }
                true
            },
        )
        .map_err(|e| e.to_string())?;
        let screen_seconds = t.elapsed().as_secs_f64();
        let recall = |kind: gen::TruthKind| {
            let all: Vec<_> = truth.iter().filter(|t| t.kind == kind).collect();
            let hit = all
                .iter()
                .filter(|t| {
                    found
                        .get(&t.reference)
                        .is_some_and(|v| v.contains(&t.case_reference))
                })
                .count();
            if all.is_empty() {
                1.0
            } else {
                hit as f64 / all.len() as f64
            }
        };
        let mut by_variant: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for t in truth
            .iter()
            .filter(|t| t.kind == gen::TruthKind::NameVariant)
        {
            let e = by_variant.entry(t.variant).or_default();
            e.1 += 1;
            if found
                .get(&t.reference)
                .is_some_and(|v| v.contains(&t.case_reference))
            {
                e.0 += 1;
            }
        }
        passes.push(ScreenPass {
            names,
            build_seconds,
            screen_seconds,
            lines_per_second: summary.lines as f64 / screen_seconds,
            hits: summary.hits,
            recall_identifiers: recall(gen::TruthKind::Identifier),
            recall_names: if names {
                recall(gen::TruthKind::NameVariant)
            } else {
                0.0
            },
            recall_profiles: recall(gen::TruthKind::Profile),
            precision: if id_name_hits == 0 {
                1.0
            } else {
                id_name_true as f64 / id_name_hits as f64
            },
            names_by_variant: by_variant
                .into_iter()
                .map(|(k, (f, n))| (k.to_owned(), f, n))
                .collect(),
        });
    }
    Ok(ScreenReport {
        lines,
        alerts,
        bytes,
        generate_seconds,
        threads,
        passes,
        peak_rss_mib: peak_rss_mib(),
    })
}
