//! `kdesk screen`, `kdesk outcome record`, `kdesk hits list`, `kdesk report`, `kdesk gen`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::{exit, CliError, CliResult, DataDir};
use kdesk::pb;
use kdesk::screen::{gen, Format};

/// Size of the chunks sent to the node.
const CHUNK: usize = 256 * 1024;

/// Options of `kdesk screen`.
#[derive(clap::Args, Debug)]
pub(super) struct ScreenArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Manifest or passenger list: kdesk's CSV or JSON Lines, a carrier's CSV (with
    /// --mapping), UN/EDIFACT PAXLST or CUSCAR, IATA Cargo-XML XFWB or XFZB (docs/SCREENING.md).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "watch",
        conflicts_with = "watch"
    )]
    input: Option<PathBuf>,
    /// Watch a directory instead: screen each file dropped into it, then move it to
    /// DIR/done/ (with its results) or DIR/failed/; a file is screened once and never lost
    /// across restarts. Runs until SIGINT or SIGTERM.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["date", "on_bad_line"])]
    watch: Option<PathBuf>,
    /// Input format; by default detected from the content (EDIFACT by its UNH message type,
    /// Cargo-XML by its root element, JSON Lines by a leading '{', else CSV).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// A mapping file (TOML) for a carrier's CSV: which column is which field, date formats,
    /// decimal separator, units, route words (examples/mappings/).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Sign each hit as a Hit record and deliver it to the alert's origin (only there).
    #[arg(long)]
    share: bool,
    /// What to do with a bad line: report it and go on (skip), or stop there (fail, exit 65).
    #[arg(long, value_enum, default_value_t = OnBadLine::Skip)]
    on_bad_line: OnBadLine,
    /// Identifiers and profiles only; no name matching.
    #[arg(long)]
    no_names: bool,
    /// Screen against the alerts valid on this day instead of today (UTC): e.g. the arrival
    /// date of a manifest received in advance. Within two years of today.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    date: Option<kdesk::model::Date>,
    /// One JSON object per line: hits, bad lines, then the summary.
    #[arg(long)]
    json: bool,
}

/// Bad-line policy.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OnBadLine {
    /// Report and continue.
    Skip,
    /// Report and stop.
    Fail,
}

#[derive(Subcommand, Debug)]
pub(super) enum OutcomeCommand {
    /// Record what inspection found after one of this desk's hits: signed, stored, flushed,
    /// and delivered to the desk that raised the alert.
    Record {
        #[command(flatten)]
        dir: DataDir,
        /// The hit (id or unique prefix of at least 8 hex digits; see `kdesk hits list`).
        #[arg(value_name = "HIT", required_unless_present = "hit_flag")]
        hit: Option<String>,
        /// The hit, as a flag (older spelling of the HIT argument).
        #[arg(long = "hit", value_name = "ID", hide = true, conflicts_with = "hit")]
        hit_flag: Option<String>,
        /// seized, nothing-found, released, false-positive.
        #[arg(long)]
        result: String,
        /// Substance found (required with --result seized).
        #[arg(long)]
        substance: Option<String>,
        /// Kilograms seized (required with --result seized).
        #[arg(long, value_name = "KG")]
        quantity_kg: Option<f64>,
        /// Free text (1-512 characters).
        #[arg(long)]
        note: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(super) enum HitsCommand {
    /// Hits on this desk's alerts (raised by partners) and hits this desk raised, newest
    /// first, with their outcomes.
    List {
        #[command(flatten)]
        dir: DataDir,
        /// At most this many hits (a page; and at most this many retro-screening hits).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
        /// Continue after this hit (the `id` of the last hit of the previous page).
        #[arg(long, value_name = "HIT")]
        after: Option<String>,
        /// Only hits created at or after this time (RFC 3339, or a date: midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = super::fed::parse_time_ms)]
        since: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `kdesk report`.
#[derive(clap::Args, Debug)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Count records created on or after this day (YYYY-MM-DD, UTC). Default: from the
    /// first record.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    since: Option<kdesk::model::Date>,
    /// Count records created on or before this day (YYYY-MM-DD, UTC), not before --since.
    /// Default: to the last record.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    until: Option<kdesk::model::Date>,
    /// Also write the briefing chart (one A4 landscape page) to this file; the extension
    /// chooses the format: .svg, .png (2246x1588, for slides) or .pdf. Created with mode 0600.
    #[arg(long, value_name = "FILE", alias = "svg")]
    chart: Option<PathBuf>,
    /// Print JSON (the same numbers, kilograms as `seized_kg`).
    #[arg(long)]
    json: bool,
}

/// Options of `kdesk gen`.
#[derive(clap::Args, Debug)]
pub(super) struct GenArgs {
    /// Directory to write alerts.jsonl, the manifest (manifest.csv, .jsonl, .paxlst.edi,
    /// .cuscar.edi, .xfwb.xml or .xfzb.xml) and truth.csv into.
    #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
    out: PathBuf,
    /// Number of synthetic alerts to write (traveler, cargo and profile alerts of every
    /// partner desk).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    alerts: usize,
    /// Number of manifest lines to write.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    lines: usize,
    /// Random seed: the same seed writes the same files.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Lines seeded with an alert identifier.
    #[arg(long, value_name = "N", default_value_t = 20)]
    true_identifiers: usize,
    /// Lines seeded with a variant of an alert's consignee name.
    #[arg(long, value_name = "N", default_value_t = 20)]
    true_names: usize,
    /// Lines seeded to fit a profile.
    #[arg(long, value_name = "N", default_value_t = 10)]
    true_profiles: usize,
    /// Manifest format: csv or jsonl (kdesk's own, every route), cuscar (sea containers),
    /// xfwb or xfzb (air cargo), paxlst (travelers: traveler alerts are written instead of
    /// cargo alerts). The truth lists the seeded lines by the reference the reader gives them.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

fn progress(done: u64, total: u64, lines: u64, hits: u64) {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    eprint!("\rscreening: {pct:>3}%  {lines} lines, {hits} hits   ");
    let _ = std::io::stderr().flush();
}

/// `--date`: a real calendar date (the node checks the range against its own clock).
fn parse_date(raw: &str) -> Result<kdesk::model::Date, String> {
    kdesk::model::Date::parse(raw).map_err(|e| e.to_string())
}

pub(super) async fn screen(a: ScreenArgs) -> CliResult {
    if let Some(dir) = &a.watch {
        let mut pass = Vec::new();
        if a.share {
            pass.push("--share".to_owned());
        }
        if a.no_names {
            pass.push("--no-names".to_owned());
        }
        if let Some(f) = a.format {
            pass.push("--format".to_owned());
            pass.push(f.as_str().to_owned());
        }
        if let Some(m) = &a.mapping {
            // The children run from the same directory: an absolute path to be sure.
            let m = std::fs::canonicalize(m)
                .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", m.display())))?;
            pass.push("--mapping".to_owned());
            pass.push(m.display().to_string());
        }
        return super::watch::run(super::watch::WatchOptions {
            data_dir: &a.dir.data_dir,
            dir,
            pass,
            json: a.json,
            poll: std::time::Duration::from_secs(1),
        })
        .await;
    }
    let Some(input) = a.input.clone() else {
        return Err(CliError::new(
            exit::USAGE,
            "--input FILE or --watch DIR is required",
        ));
    };
    let file = std::fs::File::open(&input)
        .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", input.display())))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mapping = match &a.mapping {
        None => String::new(),
        Some(p) => {
            let text = std::fs::read(p)
                .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", p.display())))?;
            if text.len() > 1 << 20 {
                return Err(CliError::new(
                    exit::DATAERR,
                    format!("{}: a mapping is at most 1 MiB", p.display()),
                ));
            }
            String::from_utf8(text).map_err(|e| {
                CliError::new(
                    exit::DATAERR,
                    format!(
                        "{}: not UTF-8 (byte {})",
                        p.display(),
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?
        }
    };
    let mut client = crate::cli::client::connect(&a.dir.data_dir).await?;
    let opts = pb::ScreenRequest {
        item: Some(pb::screen_request::Item::Options(pb::ScreenOptions {
            format: a.format.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            mapping,
            share: a.share,
            stop_on_bad_line: a.on_bad_line == OnBadLine::Fail,
            no_names: a.no_names,
            date: a.date.map(|d| d.to_string()).unwrap_or_default(),
        })),
    };
    // Stream the file from a blocking reader.
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::ScreenRequest>(4);
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if tx.blocking_send(opts).is_err() {
            return Ok(());
        }
        for chunk in kdesk::screen::file_chunks(file, CHUNK) {
            let req = pb::ScreenRequest {
                item: Some(pb::screen_request::Item::Chunk(chunk?)),
            };
            if tx.blocking_send(req).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut stream = client
        .screen(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let tty = std::io::stderr().is_terminal() && !a.json;
    let mut bad_lines = 0u64;
    let mut summary = None;
    let mut shown_header = false;
    while let Some(msg) = stream.message().await? {
        match msg.item {
            Some(pb::screen_response::Item::Hit(h)) => {
                if tty {
                    eprint!("\r\x1b[K");
                }
                if a.json {
                    println!("{}", hit_json(&h));
                } else {
                    if !shown_header {
                        println!("HITS");
                        shown_header = true;
                    }
                    print_hit(&h);
                }
            }
            Some(pb::screen_response::Item::BadLine(b)) => {
                if b.severity != "warning" {
                    bad_lines += 1;
                }
                let unit = if b.unit.is_empty() {
                    "line"
                } else {
                    b.unit.as_str()
                };
                if a.json {
                    let kind = if b.severity.is_empty() {
                        "bad_line"
                    } else {
                        b.severity.as_str()
                    };
                    println!(
                        "{}",
                        json!({"type": kind, "line": b.line, "unit": unit, "field": b.field, "message": b.message})
                    );
                } else {
                    if tty {
                        eprint!("\r\x1b[K");
                    }
                    let field = if b.field.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", b.field)
                    };
                    match b.severity.as_str() {
                        "warning" => eprintln!("warning: {unit} {}: {field}{}", b.line, b.message),
                        "bad_field" => eprintln!(
                            "bad field, {unit} {}: {field}{} (left out; the rest was screened)",
                            b.line, b.message
                        ),
                        _ => eprintln!("bad {unit} {}: {field}{}", b.line, b.message),
                    }
                }
            }
            Some(pb::screen_response::Item::IntelHit(h)) => {
                if tty {
                    eprint!("\r\x1b[K");
                }
                if a.json {
                    println!("{}", intel_hit_json(&h));
                } else {
                    println!(
                        "  {} {} [{}] score {} on LOCAL intelligence item {} \"{}\": {} (intel hit {}, kept on this node)",
                        if h.unit.is_empty() { "line" } else { h.unit.as_str() },
                        h.line,
                        h.reference,
                        h.score,
                        h.item_id,
                        h.item_title,
                        h.explanation,
                        h.hit_id
                    );
                    for m in &h.matched {
                        println!("      {}: {} ({})", m.field, m.value, m.reason);
                    }
                }
            }
            Some(pb::screen_response::Item::Progress(p)) if tty => {
                progress(p.bytes, total, p.lines, p.hits);
            }
            Some(pb::screen_response::Item::Progress(_)) => {}
            Some(pb::screen_response::Item::Summary(s)) => summary = Some(s),
            None => {}
        }
    }
    if tty {
        eprint!("\r\x1b[K");
    }
    reader
        .await
        .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", input.display())))?;
    let s = summary.ok_or_else(|| CliError::new(exit::SOFTWARE, "the node sent no summary"))?;
    if a.json {
        println!(
            "{}",
            json!({"type": "summary", "format": s.format, "kind": s.kind, "lines": s.lines,
                   "bad_lines": s.bad_lines, "bad_fields": s.bad_fields, "warnings": s.warnings,
                   "hits": s.hits, "shared": s.shared, "alerts": s.alerts,
                   "alerts_not_valid_on_date": s.alerts_not_valid, "date": s.date,
                   "names": s.names, "stopped": s.stopped, "bytes": s.bytes,
                   "held_for_retro_screening": s.held,
                   "intel_hits": s.intel_hits, "intel_items": s.intel_items})
        );
    } else {
        println!(
            "screened {} {} {} lines against {} active alerts valid on {} (names {}): {} hits{}, {} bad lines, {} bad fields, {} warnings{}",
            s.lines,
            s.format,
            s.kind,
            s.alerts,
            s.date,
            if s.names { "on" } else { "off" },
            s.hits,
            if a.share {
                format!(" ({} newly shared with the alerts' desks)", s.shared)
            } else {
                String::new()
            },
            s.bad_lines,
            s.bad_fields,
            s.warnings,
            if s.stopped { "; stopped at the first bad line or field" } else { "" }
        );
        if s.intel_items > 0 {
            println!(
                "local intelligence: {} hits on {} items (kept on this node, never shared)",
                s.intel_hits, s.intel_items
            );
        }
        if s.held > 0 {
            println!(
                "held {} lines not yet arrived: alerts arriving before then are screened against them",
                s.held
            );
        }
    }
    if s.stopped || (a.on_bad_line == OnBadLine::Fail && bad_lines > 0) {
        return Err(CliError::new(
            exit::DATAERR,
            "stopped at a bad line or field (see above); lines after it were not screened",
        ));
    }
    Ok(())
}

/// One intelligence hit as a JSON line.
pub(super) fn intel_hit_json(h: &pb::IntelHitInfo) -> serde_json::Value {
    json!({"type": "intel_hit", "line": h.line, "unit": if h.unit.is_empty() { "line" } else { h.unit.as_str() },
           "reference": h.reference, "intel_hit": h.hit_id, "item": h.item_id,
           "item_title": h.item_title, "source": h.source, "grading": h.grading,
           "explanation": h.explanation, "score": h.score,
           "matched": h.matched.iter().map(|m| json!({"field": m.field, "value": m.value, "reason": m.reason})).collect::<Vec<_>>(),
           "shared": false})
}

fn origin_str(o: &Option<pb::Origin>) -> String {
    o.as_ref()
        .map(|o| format!("{}/{}", o.country, o.node))
        .unwrap_or_default()
}

fn print_hit(h: &pb::ScreenHit) {
    println!(
        "  {} {} [{}] score {} on {} alert {} \"{}\" ({}){}",
        if h.unit.is_empty() {
            "line"
        } else {
            h.unit.as_str()
        },
        h.line,
        h.reference,
        h.score,
        origin_str(&h.alert_origin),
        &h.alert_id_hex[..h.alert_id_hex.len().min(12)],
        h.alert_title,
        h.route,
        if h.hit_id_hex.is_empty() {
            String::new()
        } else if h.already_shared {
            format!(", already shared as hit {}", &h.hit_id_hex[..12])
        } else {
            format!(", shared as hit {}", &h.hit_id_hex[..12])
        }
    );
    for m in &h.matched {
        println!("      {} = {}  ({})", m.field, m.value, m.reason);
    }
}

fn matched_json(m: &[pb::MatchedField]) -> serde_json::Value {
    json!(m
        .iter()
        .map(|m| json!({"field": m.field, "value": m.value, "reason": m.reason}))
        .collect::<Vec<_>>())
}

fn hit_json(h: &pb::ScreenHit) -> serde_json::Value {
    json!({"type": "hit", "line": h.line, "unit": if h.unit.is_empty() { "line" } else { h.unit.as_str() },
           "reference": h.reference, "score": h.score,
           "alert_id": h.alert_id_hex, "alert_origin": origin_str(&h.alert_origin),
           "alert_title": h.alert_title, "route": h.route, "matched": matched_json(&h.matched),
           "hit_id": h.hit_id_hex, "already_shared": h.already_shared})
}

/// `--quantity-kg` of an outcome in grams (0 when not given).
///
/// # Errors
/// Not more than 0 and at most 1,000,000 kg (exit 65).
pub(super) fn grams_of(quantity_kg: Option<f64>) -> Result<u64, CliError> {
    match quantity_kg {
        None => Ok(0),
        Some(q) if q.is_finite() && q > 0.0 && q <= 1_000_000.0 => Ok((q * 1000.0).round() as u64),
        Some(q) => Err(CliError::new(
            exit::DATAERR,
            format!("--quantity-kg: {q} must be more than 0 and at most 1,000,000"),
        )),
    }
}

pub(super) async fn outcome(cmd: OutcomeCommand) -> CliResult {
    let OutcomeCommand::Record {
        dir,
        hit,
        hit_flag,
        result,
        substance,
        quantity_kg,
        note,
        json,
    } = cmd;
    let hit = hit.or(hit_flag).unwrap_or_default();
    let grams = grams_of(quantity_kg)?;
    let mut client = crate::cli::client::connect(&dir.data_dir).await?;
    let keys = super::view::KnownKeys::load(&dir.data_dir, &mut client).await?;
    let r = client
        .record_outcome(pb::RecordOutcomeRequest {
            hit,
            result,
            substance: substance.unwrap_or_default(),
            quantity_grams: grams,
            note: note.unwrap_or_default(),
        })
        .await?
        .into_inner();
    let rec = r
        .record
        .ok_or_else(|| CliError::new(exit::SOFTWARE, "the node returned no record"))?;
    super::alert::print_issued("outcome recorded", rec, &keys, json)
}

pub(super) async fn hits(cmd: HitsCommand) -> CliResult {
    let HitsCommand::List {
        dir,
        limit,
        after,
        since,
        json,
    } = cmd;
    let mut client = crate::cli::client::connect(&dir.data_dir).await?;
    let r = client
        .list_hits(pb::ListHitsRequest {
            limit: limit.unwrap_or(0),
            since_ms: since.unwrap_or(0),
            after_id: after.unwrap_or_default(),
        })
        .await?
        .into_inner();
    let status = client.status(pb::StatusRequest {}).await?.into_inner();
    let me = origin_str(&status.origin);
    if json {
        let v: Vec<_> = r
            .hits
            .iter()
            .map(|h| {
                json!({"id": h.id_hex, "screened_by": origin_str(&h.screened_by),
                   "alert_id": h.alert_id_hex, "alert_origin": origin_str(&h.alert_origin),
                   "alert_title": h.alert_title, "score": h.score, "reference": h.subject_reference,
                   "screened_on": h.screened_on, "created_at_ms": h.created_at_ms,
                   "matched": matched_json(&h.matched),
                   "outcomes": h.outcomes.iter().map(|o| json!({"id": o.id_hex, "result": o.result,
                        "substance": o.substance, "quantity_kg": o.quantity_grams as f64 / 1000.0, "note": o.note,
                        "created_at_ms": o.created_at_ms})).collect::<Vec<_>>()})
            })
            .collect();
        for h in v {
            println!("{h}");
        }
        for h in &r.retro {
            println!("{}", retro_json(h));
        }
        return Ok(());
    }
    if r.hits.is_empty() && r.retro.is_empty() {
        println!("no hits yet");
        return Ok(());
    }
    for h in &r.retro {
        println!(
            "retro-screening  {}  score {}  [{}] line {}  on {}'s alert{}",
            super::view::rfc3339(h.found_at_ms),
            h.score,
            h.reference,
            h.line,
            origin_str(&h.alert_origin),
            if h.hit_id_hex.is_empty() {
                " (kept here, not shared)".to_owned()
            } else {
                format!(
                    ", shared as hit {}",
                    &h.hit_id_hex[..16.min(h.hit_id_hex.len())]
                )
            }
        );
        println!(
            "    alert {} \"{}\"",
            &h.alert_id_hex[..16.min(h.alert_id_hex.len())],
            h.alert_title
        );
        for m in &h.matched {
            println!("    {} = {}  ({})", m.field, m.value, m.reason);
        }
    }
    for h in &r.hits {
        let by = origin_str(&h.screened_by);
        let dir = if by == me {
            format!("raised by us on {}'s alert", origin_str(&h.alert_origin))
        } else {
            format!("raised by {by} on our alert")
        };
        println!(
            "{}  {}  score {}  [{}]  {}",
            &h.id_hex[..16],
            h.screened_on,
            h.score,
            h.subject_reference,
            dir
        );
        println!("    alert {} \"{}\"", &h.alert_id_hex[..16], h.alert_title);
        for m in &h.matched {
            println!("    {} = {}  ({})", m.field, m.value, m.reason);
        }
        if h.outcomes.is_empty() {
            println!("    outcome: none recorded yet");
        }
        for o in &h.outcomes {
            let q = if o.quantity_grams > 0 {
                format!(" {:.3} kg", o.quantity_grams as f64 / 1000.0)
            } else {
                String::new()
            };
            println!(
                "    outcome: {}{}{}{}",
                o.result,
                if o.substance.is_empty() {
                    String::new()
                } else {
                    format!(" {}", o.substance)
                },
                q,
                if o.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", o.note)
                }
            );
        }
    }
    Ok(())
}

pub(super) async fn report(a: ReportArgs) -> CliResult {
    use kdesk::screen::chart;
    let period = kdesk::screen::report::Period::new(a.since, a.until)
        .map_err(|e| CliError::new(exit::USAGE, e))?;
    // The format is known before the node is asked: a wrong extension costs nothing.
    let format = a
        .chart
        .as_deref()
        .map(chart::ChartFormat::from_path)
        .transpose()
        .map_err(|e| CliError::new(exit::USAGE, e.to_string()))?;
    let mut client = crate::cli::client::connect(&a.dir.data_dir).await?;
    let r = client
        .report(pb::ReportRequest {
            since: period.since.map(|d| d.to_string()).unwrap_or_default(),
            until: period.until.map(|d| d.to_string()).unwrap_or_default(),
        })
        .await?
        .into_inner();
    let rep = kdesk::screen::report::from_pb(&r);
    if let (Some(path), Some(format)) = (&a.chart, format) {
        let bytes = chart::render(&rep, format)
            .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
        write_private(path, |w| w.write_all(&bytes))?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&rep)
                .map_err(|e| CliError::new(exit::SOFTWARE, format!("report JSON: {e}")))?
        );
    } else {
        print!("{}", kdesk::screen::report::to_table(&rep));
        if let Some(path) = &a.chart {
            println!("\nchart written to {}", path.display());
        }
    }
    Ok(())
}

pub(super) fn generate(a: GenArgs) -> CliResult {
    std::fs::create_dir_all(&a.out)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", a.out.display())))?;
    let spec = gen::Spec {
        alerts: a.alerts,
        lines: a.lines,
        seed: a.seed,
        true_identifiers: a.true_identifiers,
        true_names: a.true_names,
        true_profiles: a.true_profiles,
        date: kdesk::model::Date::today_utc(),
    };
    let alerts = if a.format == Format::Paxlst {
        gen::traveler_alerts(&spec)
    } else {
        gen::alerts(&spec)
    }
    .map_err(|e| CliError::new(exit::SOFTWARE, format!("generator: {e}")))?;
    let ap = a.out.join("alerts.jsonl");
    write_private(&ap, |w| {
        for al in &alerts {
            serde_json::to_writer(&mut *w, al)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    let ext = match a.format {
        Format::Csv | Format::Jsonl => a.format.as_str().to_owned(),
        Format::Paxlst | Format::Cuscar => format!("{}.edi", a.format.as_str()),
        Format::Xfwb | Format::Xfzb => format!("{}.xml", a.format.as_str()),
    };
    let mp = a.out.join(format!("manifest.{ext}"));
    let truth = write_private(&mp, |w| gen::write_manifest(&spec, &alerts, w, a.format))?;
    let tp = a.out.join("truth.csv");
    write_private(&tp, |w| {
        writeln!(w, "reference,case_reference,kind,variant")?;
        for t in &truth {
            let kind = serde_json::to_value(t.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            writeln!(
                w,
                "{},{},{},{}",
                kdesk::screen::manifest::csv_field(&t.reference),
                t.case_reference,
                kind,
                t.variant
            )?;
        }
        Ok(())
    })?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "alerts": alerts.len(),
                "alerts_file": ap.display().to_string(),
                "manifest_lines": a.lines,
                "manifest_file": mp.display().to_string(),
                "seeded_matches": truth.len(),
                "truth_file": tp.display().to_string(),
            })
        );
    } else {
        println!(
            "wrote {} alerts to {}, {} manifest lines to {}, {} seeded matches to {}",
            alerts.len(),
            ap.display(),
            a.lines,
            mp.display(),
            truth.len(),
            tp.display()
        );
    }
    Ok(())
}

/// Writes a file kdesk produces (a report chart, generated alerts and manifests) readable by
/// its owner only from the moment it exists: the content goes to a new file created with
/// mode 0600 in the same directory, which then replaces `path` in one rename, so a failed
/// write never leaves half a file (nor a file of another mode) at `path`. Errors (exit 74)
/// name `path`.
fn write_private<R>(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<R>,
) -> Result<R, CliError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| CliError::new(exit::IOERR, format!("{}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".kdesk-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(io)?;
    let mut w = std::io::BufWriter::new(tmp.as_file());
    let out = fill(&mut w).map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(out)
}

/// A retro-screening hit as one JSON object (`hits list --json`).
fn retro_json(h: &pb::RetroHitInfo) -> serde_json::Value {
    json!({"type": "retro", "found_at_ms": h.found_at_ms, "alert_id": h.alert_id_hex,
           "alert_origin": origin_str(&h.alert_origin), "alert_title": h.alert_title,
           "reference": h.reference, "line": h.line, "score": h.score,
           "matched": matched_json(&h.matched),
           "hit_id": if h.hit_id_hex.is_empty() { serde_json::Value::Null } else { json!(h.hit_id_hex) }})
}
