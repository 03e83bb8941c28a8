//! `kdesk bench scale`: a node holding N records, met as an operator meets it. The records are
//! signed and stored in-process (set-up, not measured); then a real `kdesk serve` process is
//! started on the directory and driven with the real CLI: startup to ready, resident memory
//! at rest, a page of `alert list`, a full `audit export` (with the node's memory sampled
//! meanwhile), `audit verify` against a bare `verify_strict` loop, and screening a manifest of
//! a million lines.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use kdesk::model::Date;
use kdesk::node::Node;
use kdesk::pb;
use kdesk::screen::{gen, Format};

/// Figures at one size.
#[derive(Debug, Serialize)]
pub struct ScaleRow {
    /// Records the node holds.
    pub records: u64,
    /// Seconds to sign and store them (set-up, not a target).
    pub setup_seconds: f64,
    /// Database size, MiB.
    pub database_mib: f64,
    /// Seconds from `kdesk serve` starting to its Admin API answering.
    pub startup_seconds: f64,
    /// Resident memory a second after start, MiB.
    pub rss_rest_mib: f64,
    /// `alert list --json --limit 100`, whole command, median of 5, milliseconds.
    pub page_ms: f64,
    /// `audit export` of the whole log, seconds.
    pub export_seconds: f64,
    /// Bundle size, MiB.
    pub bundle_mib: f64,
    /// Largest growth of the node's resident memory during the export, MiB.
    pub export_rss_growth_mib: f64,
    /// `audit verify` of that bundle, records per second (the whole command).
    pub verify_per_second: f64,
    /// A bare single-threaded `verify_strict` loop over the same records, per second.
    pub bare_verify_per_second: f64,
    /// verify_per_second / bare_verify_per_second.
    pub verify_ratio: f64,
    /// Lines screened.
    pub screen_lines: u64,
    /// `kdesk screen` of them, seconds.
    pub screen_seconds: f64,
    /// The node's resident memory after screening, MiB.
    pub rss_after_screen_mib: f64,
    /// The node's peak resident memory over the whole run, MiB.
    pub peak_rss_mib: f64,
}

/// What `kdesk bench scale` measured.
#[derive(Debug, Serialize)]
pub struct ScaleReport {
    /// One row per size.
    pub rows: Vec<ScaleRow>,
    /// Cores available.
    pub cores: usize,
}

/// Runs the measures at each size in `sizes`, screening a manifest of `lines` lines.
///
/// # Errors
/// Any set-up or run failure, as text.
pub async fn scale(sizes: &[u64], lines: u64) -> Result<ScaleReport, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let work = tempfile::Builder::new()
        .prefix("kdesk-bench-scale-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    // KDESK_BENCH_KEEP=DIR keeps the nodes' directories there, to look into afterwards.
    let kept = std::env::var_os("KDESK_BENCH_KEEP").map(PathBuf::from);
    let work_dir = kept.clone().unwrap_or_else(|| work.path().to_owned());
    std::fs::create_dir_all(&work_dir).map_err(|e| e.to_string())?;
    let manifest = work_dir.join("manifest.csv");
    write_manifest(&manifest, lines)?;
    let mut rows = vec![];
    for &n in sizes {
        rows.push(one_size(&exe, &work_dir, &manifest, n, lines).await?);
    }
    Ok(ScaleReport {
        rows,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
    })
}

fn write_manifest(path: &Path, lines: u64) -> Result<(), String> {
    let spec = gen::Spec {
        alerts: 1000,
        lines: usize::try_from(lines).map_err(|e| e.to_string())?,
        seed: 7,
        true_identifiers: 100,
        true_names: 100,
        true_profiles: 50,
        date: Date::today_utc(),
    };
    let alerts = gen::alerts(&spec).map_err(|e| format!("generator: {e}"))?;
    let f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    gen::write_manifest(&spec, &alerts, &mut w, Format::Csv).map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut w).map_err(|e| e.to_string())
}

async fn one_size(
    exe: &Path,
    work: &Path,
    manifest: &Path,
    n: u64,
    lines: u64,
) -> Result<ScaleRow, String> {
    let root = work.join(format!("n{n}"));
    let (cfg, _) = super::make_desk(&root, "KR", "seoul")?;
    let dir = cfg.data_dir.clone();
    let started = Instant::now();
    let sample = fill(&cfg, n).await?;
    let setup_seconds = started.elapsed().as_secs_f64();
    let database_mib = dir_bytes(&dir.join("db")) as f64 / 1_048_576.0;

    // The node, as a real process.
    let log = std::fs::File::create(root.join("node.log")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(["serve", "--data-dir"])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting kdesk serve: {e}"))?;
    let pid = child.id();
    let node = Running(&mut child);
    loop {
        if crate::cli::client::connect(&dir).await.is_ok() {
            let mut c = crate::cli::client::connect(&dir)
                .await
                .map_err(|e| e.to_string())?;
            if c.status(pb::StatusRequest {}).await.is_ok() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the node did not answer within 300 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let startup_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_rest_mib = rss_mib(pid, "VmRSS:");

    // A page of the list, as an officer asks for it.
    let mut pages = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let out = cli(
            exe,
            &[
                "alert",
                "list",
                "--data-dir",
                s(&dir)?,
                "--json",
                "--limit",
                "100",
            ],
        )?;
        pages.push(t.elapsed().as_secs_f64() * 1e3);
        let got = out.lines().count();
        if got != 100.min(usize::try_from(n).unwrap_or(usize::MAX)) {
            return Err(format!("alert list --limit 100 printed {got} lines"));
        }
    }
    pages.sort_by(f64::total_cmp);
    let page_ms = pages[pages.len() / 2];

    // The full export, with the node's memory sampled meanwhile.
    let bundle = root.join("all.bundle");
    let before = rss_mib(pid, "VmRSS:");
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let kib = (rss_mib(pid, "VmRSS:") * 1024.0) as u64;
                peak.fetch_max(kib, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let t = Instant::now();
    let exported = cli(
        exe,
        &[
            "audit",
            "export",
            "--data-dir",
            s(&dir)?,
            "--out",
            s(&bundle)?,
        ],
    );
    let export_seconds = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    exported?;
    let export_rss_growth_mib = (peak.load(Ordering::Relaxed) as f64 / 1024.0 - before).max(0.0);
    let bundle_mib = std::fs::metadata(&bundle).map_or(0, |m| m.len()) as f64 / 1_048_576.0;

    // The auditor's check, against the primitive.
    let t = Instant::now();
    let out = cli(exe, &["audit", "verify", s(&bundle)?, "--json"])?;
    let verify_seconds = t.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    let verified = v["report"]["records"].as_u64().unwrap_or(0);
    if v["ok"] != true || verified < n {
        return Err(format!("audit verify: {out}"));
    }
    let verify_per_second = verified as f64 / verify_seconds;
    let bare_verify_per_second = sample.1.len() as f64 / super::bare_verify(&sample.0, &sample.1)?;
    let _ = std::fs::remove_file(&bundle);

    // A million manifest lines screened through the node.
    let t = Instant::now();
    cli(
        exe,
        &[
            "screen",
            "--data-dir",
            s(&dir)?,
            "--input",
            s(manifest)?,
            "--json",
        ],
    )?;
    let screen_seconds = t.elapsed().as_secs_f64();
    let rss_after_screen_mib = rss_mib(pid, "VmRSS:");
    let peak_rss_mib = rss_mib(pid, "VmHWM:");
    drop(node);
    Ok(ScaleRow {
        records: n,
        setup_seconds,
        database_mib,
        startup_seconds,
        rss_rest_mib,
        page_ms,
        export_seconds,
        bundle_mib,
        export_rss_growth_mib,
        verify_per_second,
        bare_verify_per_second,
        verify_ratio: verify_per_second / bare_verify_per_second,
        screen_lines: lines,
        screen_seconds,
        rss_after_screen_mib,
        peak_rss_mib,
    })
}

/// Signs and stores `n` generated alerts (varied subjects, as desks write them) in the
/// desk's database; returns the key and a sample of envelopes for the bare loop.
async fn fill(
    cfg: &kdesk::config::Config,
    n: u64,
) -> Result<(ed25519_dalek::SigningKey, Vec<pb::Envelope>), String> {
    let node = Node::open(cfg.clone()).map_err(|e| e.to_string())?;
    let key = kdesk::keys::load_signing_key(&cfg.signing_key).map_err(|e| e.to_string())?;
    let today = Date::today_utc();
    let mut sample = vec![];
    // Generated ten thousand at a time (a seed each), so memory stays flat.
    let alerts = (0..n.div_ceil(10_000)).flat_map(|chunk| {
        let spec = gen::Spec {
            alerts: usize::try_from((n - chunk * 10_000).min(10_000)).unwrap_or(10_000),
            lines: 0,
            seed: 1000 + chunk,
            true_identifiers: 0,
            true_names: 0,
            true_profiles: 0,
            date: today,
        };
        match gen::alerts(&spec) {
            Ok(v) => v.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(format!("generator: {e}"))],
        }
    });
    let label = format!("{n} records: signing and storing");
    super::sign_and_store(&node, &key, alerts, n, &label, |e| {
        if sample.len() < 20_000 {
            sample.push(e.clone());
        }
    })?;
    node.log
        .flush_and_publish()
        .await
        .map_err(|e| e.to_string())?;
    drop(node);
    Ok((key, sample))
}

/// Stops the node (SIGTERM, then SIGKILL) when dropped.
struct Running<'a>(&'a mut Child);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs this program with `args`; its standard output, or the failure.
fn cli(exe: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "kdesk {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn s(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{}: not UTF-8", p.display()))
}

/// A memory line of `/proc/PID/status`, MiB.
fn rss_mib(pid: u32, field: &str) -> f64 {
    super::status_mib(&pid.to_string(), field)
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path: PathBuf = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&path),
                Ok(m) => m.len(),
                Err(_) => 0,
            }
        })
        .sum()
}
