//! `kdesk bench formats`: the readers of what desks receive, through the same
//! `screen_stream` the node uses, against 100,000 alerts.
//!
//! - a 400-passenger PAXLST flight against 100,000 traveler alerts (engine build timed apart);
//! - a 10,000-consignment CUSCAR against 100,000 cargo alerts;
//! - every format at 10,000 lines: speed, recall and precision against the generator's truth;
//! - peak memory (RSS) while streaming a small and a large CUSCAR file from disk: the reader
//!   holds one segment and one consignment, so the peak does not grow with the file.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use kdesk::model::{Alert, Date};
use kdesk::record::{Origin, RecordId};
use kdesk::screen::{self, gen, Engine, Format, Options, ReadOptions, ScreenAlert};

/// One format's figures.
#[derive(Debug, Serialize)]
pub struct FormatPass {
    /// Format.
    pub format: String,
    /// Lines (travelers or consignments) read and screened.
    pub lines: u64,
    /// Input bytes.
    pub bytes: u64,
    /// Seconds to read, parse and screen (median of the runs).
    pub seconds: f64,
    /// Fastest run.
    pub best_seconds: f64,
    /// Runs.
    pub runs: usize,
    /// Hits.
    pub hits: u64,
    /// Problems reported (must be 0 for generated input).
    pub problems: u64,
    /// Seeded lines found with their alert / seeded.
    pub recall: f64,
    /// Hits on identifiers or names that are seeded truths / all such hits.
    pub precision: f64,
}

/// Peak memory while streaming one file.
#[derive(Debug, Serialize)]
pub struct RssPass {
    /// Consignments in the file.
    pub lines: u64,
    /// File size.
    pub bytes: u64,
    /// Seconds to stream and screen it.
    pub seconds: f64,
    /// Resident memory before streaming (engine built), MiB.
    pub rss_before_mib: f64,
    /// Peak resident memory while streaming, MiB (the kernel's high-water mark, reset before).
    pub peak_mib: f64,
}

/// Figures of `kdesk bench formats`.
#[derive(Debug, Serialize)]
pub struct FormatsReport {
    /// Alerts in each engine.
    pub alerts: u64,
    /// Seconds to build the traveler engine (100,000 traveler alerts), not in the figures.
    pub build_travelers_seconds: f64,
    /// Seconds to build the cargo engine, not in the figures.
    pub build_cargo_seconds: f64,
    /// The 400-passenger flight.
    pub paxlst_flight: FormatPass,
    /// The 10,000-consignment CUSCAR.
    pub cuscar_manifest: FormatPass,
    /// Every format at `lines` lines.
    pub per_format: Vec<FormatPass>,
    /// Streaming a small and a large file.
    pub rss: Vec<RssPass>,
    /// Worker threads.
    pub threads: usize,
}

fn engine(alerts: Vec<Alert>, date: Date) -> Result<Engine, String> {
    let origin = Origin::parse("TH/bkk").map_err(|e| e.to_string())?;
    let screen_alerts: Vec<ScreenAlert> = alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            ScreenAlert {
                id: RecordId(id),
                origin: origin.clone(),
                alert,
            }
        })
        .collect();
    Ok(Engine::build(screen_alerts, date, Options { names: true }))
}

/// Screens `input` `runs` times; figures against `truth`.
fn measure(
    engine: &Engine,
    format: Format,
    input: &[u8],
    truth: &[gen::Truth],
    runs: usize,
    threads: usize,
) -> Result<FormatPass, String> {
    let truth_set: HashSet<(&str, &str)> = truth
        .iter()
        .map(|t| (t.reference.as_str(), t.case_reference.as_str()))
        .collect();
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        let (mut id_name_hits, mut id_name_true, mut problems) = (0u64, 0u64, 0u64);
        let chunks = input
            .chunks(256 * 1024)
            .map(|c| Ok::<Vec<u8>, String>(c.to_vec()));
        let t = Instant::now();
        let summary =
            screen::screen_stream(engine, &ReadOptions::default(), chunks, threads, |_, r| {
                problems += r.problems.len() as u64;
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
                        if truth_set.contains(&(h.reference.as_str(), case.as_str())) {
                            id_name_true += 1;
                        }
                    }
                    found.entry(h.reference).or_default().push(case);
                }
                true
            })
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64());
        if summary.format != Some(format) {
            return Err(format!(
                "{} detected as {:?}",
                format.as_str(),
                summary.format
            ));
        }
        last = Some((summary, found, id_name_hits, id_name_true, problems));
    }
    let Some((summary, found, id_name_hits, id_name_true, problems)) = last else {
        return Err("no run".into());
    };
    times.sort_by(f64::total_cmp);
    let hit = truth
        .iter()
        .filter(|t| {
            found
                .get(&t.reference)
                .is_some_and(|v| v.contains(&t.case_reference))
        })
        .count();
    Ok(FormatPass {
        format: format.as_str().to_owned(),
        lines: summary.lines,
        bytes: input.len() as u64,
        seconds: times[times.len() / 2],
        best_seconds: times[0],
        runs: times.len(),
        hits: summary.hits,
        problems,
        recall: if truth.is_empty() {
            1.0
        } else {
            hit as f64 / truth.len() as f64
        },
        precision: if id_name_hits == 0 {
            1.0
        } else {
            id_name_true as f64 / id_name_hits as f64
        },
    })
}

fn spec(alerts: u64, lines: usize, seed: u64, date: Date) -> gen::Spec {
    gen::Spec {
        alerts: alerts as usize,
        lines,
        seed,
        true_identifiers: (lines / 100).clamp(2, 200),
        true_names: (lines / 100).clamp(2, 200),
        true_profiles: (lines / 200).clamp(1, 100),
        date,
    }
}

fn generate(
    spec: &gen::Spec,
    alerts: &[Alert],
    format: Format,
) -> Result<(Vec<u8>, Vec<gen::Truth>), String> {
    let mut buf = Vec::new();
    let truth = gen::write_manifest(spec, alerts, &mut buf, format).map_err(|e| e.to_string())?;
    Ok((buf, truth))
}

/// Current resident memory (Linux `VmRSS`), MiB.
fn rss_mib(key: &str) -> f64 {
    super::status_mib("self", key)
}

/// Streams a CUSCAR of `lines` consignments from a temporary file and measures the peak
/// resident memory while doing so (the high-water mark is reset first: `clear_refs` 5).
fn stream_from_disk(
    engine: &Engine,
    cargo: &[Alert],
    lines: usize,
    date: Date,
    threads: usize,
) -> Result<RssPass, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("manifest.cuscar.edi");
    {
        let f = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        gen::write_manifest(
            &spec(cargo.len() as u64, lines, 9, date),
            cargo,
            &mut w,
            Format::Cuscar,
        )
        .map_err(|e| e.to_string())?;
        std::io::Write::flush(&mut w).map_err(|e| e.to_string())?;
    }
    let bytes = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before_mib = rss_mib("VmRSS:");
    let f = std::fs::File::open(&path).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let summary = screen::screen_stream(
        engine,
        &ReadOptions::default(),
        screen::file_chunks(f, 256 * 1024),
        threads,
        |_, _| true,
    )
    .map_err(|e| e.to_string())?;
    Ok(RssPass {
        lines: summary.lines,
        bytes,
        seconds: t.elapsed().as_secs_f64(),
        rss_before_mib,
        peak_mib: rss_mib("VmHWM:"),
    })
}

/// Runs the benchmark: engines of `alerts` alerts, every format at `lines` lines, a large
/// CUSCAR of `large` consignments streamed from disk.
///
/// # Errors
/// Generation or a temporary file failed, or a format was not detected.
pub fn formats(alerts: u64, lines: usize, large: usize) -> Result<FormatsReport, String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let date = Date::today_utc();
    let base = spec(alerts, lines, 1, date);
    let travelers = gen::traveler_alerts(&base).map_err(|e| format!("generator: {e}"))?;
    let cargo = gen::alerts(&base).map_err(|e| format!("generator: {e}"))?;
    let t = Instant::now();
    let traveler_engine = engine(travelers.clone(), date)?;
    let build_travelers_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cargo_engine = engine(cargo.clone(), date)?;
    let build_cargo_seconds = t.elapsed().as_secs_f64();

    let flight_spec = gen::Spec {
        lines: 400,
        true_identifiers: 4,
        true_names: 4,
        ..spec(alerts, 400, 2, date)
    };
    let (flight, truth) = generate(&flight_spec, &travelers, Format::Paxlst)?;
    let paxlst_flight = measure(
        &traveler_engine,
        Format::Paxlst,
        &flight,
        &truth,
        21,
        threads,
    )?;
    let (manifest, truth) = generate(&spec(alerts, 10_000, 3, date), &cargo, Format::Cuscar)?;
    let cuscar_manifest = measure(&cargo_engine, Format::Cuscar, &manifest, &truth, 5, threads)?;

    let mut per_format = Vec::new();
    for &format in Format::ALL {
        let (engine, al) = if format == Format::Paxlst {
            (&traveler_engine, &travelers)
        } else {
            (&cargo_engine, &cargo)
        };
        let (input, truth) = generate(&base, al, format)?;
        per_format.push(measure(engine, format, &input, &truth, 3, threads)?);
    }
    let mut rss = Vec::new();
    for n in [large / 20, large] {
        rss.push(stream_from_disk(
            &cargo_engine,
            &cargo,
            n.max(1),
            date,
            threads,
        )?);
    }
    Ok(FormatsReport {
        alerts,
        build_travelers_seconds,
        build_cargo_seconds,
        paxlst_flight,
        cuscar_manifest,
        per_format,
        rss,
        threads,
    })
}
