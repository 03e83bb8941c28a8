//! `kdesk intel ...`: sources, import, list, show, link, promote, hits and outcomes of local
//! intelligence (docs/INTEL.md); `kdesk export stix`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{json, Value};

use super::view::KnownKeys;
use super::{exit, CliError, CliResult, DataDir};
use kdesk::intel::import::{self, BadRow};
use kdesk::model::intel::{Reliability, Source, SourceId, SourceKind};
use kdesk::model::{CountryCode, Distribution, ShortText, Tlp};
use kdesk::pb;

/// The workflow, shown by `kdesk intel --help`.
pub(super) const INTEL_HELP: &str = "A day's work (docs/INTEL.md):
  kdesk intel source add --id police-kr --kind agency --name \"Korean National Police Agency\"
  kdesk intel import --source police-kr --input police-kr.jsonl       bad rows reported, skipped
  kdesk intel list                                                   id, grading, source, subject
  kdesk intel show 1                                                 grading explained, links, hits
  kdesk intel link 1 4
  kdesk screen --input manifest.csv                                  intel hits stay on this node
  kdesk intel hits
  kdesk intel outcome 1 --result seized --substance methamphetamine --quantity-kg 1.2
  kdesk intel source list                                            each source's precision
  kdesk intel promote 1 --distribution TH --tlp amber --risk high    an alert, without the source

Nothing under `kdesk intel` is ever sent to a partner except the alert `promote` signs.";

const SOURCE_HELP: &str = "Examples:
  kdesk intel source add --id police-kr --kind agency --name \"Korean National Police Agency\" \\
        --default-reliability B
  kdesk intel source add --id carrier-dhl --kind carrier --name \"DHL Express Korea\"
  kdesk intel source add --id hs-117 --kind informant --name \"HS-117\" --reference \"handler Lee, file 2026/31\"
  kdesk intel source list
  kdesk intel source show carrier-dhl --json";

const IMPORT_HELP: &str = "Formats:
  jsonl  one item per line, the JSON form in docs/INTEL.md (examples/intel/police-kr.jsonl)
  csv    a CSV with a header row, read through a mapping file (--mapping) that names the item
         field each column fills (examples/intel/carrier-dhl.csv, carrier-dhl.toml)
  stix   a STIX 2.1 bundle (MISP, OpenCTI): indicators over observables kdesk knows; every
         unsupported pattern is reported by the object's id (docs/STIX.md)

Every row is checked first; a bad row is reported (line, field, value, rule) and skipped, the
others are imported. Items are stored in batches of at most 5,000, each all or nothing and
durable before the next; the import is recorded as an admin event in the node's own log.

Examples:
  kdesk intel import --source police-kr --input examples/intel/police-kr.jsonl
  kdesk intel import --source carrier-dhl --input examples/intel/carrier-dhl.csv \\
        --mapping examples/intel/carrier-dhl.toml
  kdesk intel import --source misp-feed --input examples/intel/misp-bundle.json --format stix";

const PROMOTE_HELP: &str =
    "The alert is signed by this node and shared under the distribution given; it
carries an opaque reference (intel-ID) to the item, never the source or the grading. Items
with handling code H2, H4 or H5 are not promoted (they may not leave the country or the
agency).

Example:
  kdesk intel promote 12 --distribution TH,VN --tlp amber --risk high \\
        --indicator \"Same consignee as three seizures in 2026\"";

/// `kdesk intel source ...`.
#[derive(Subcommand, Debug)]
pub(super) enum SourceCommand {
    /// Register a source of intelligence: an agency, a carrier, a distributor, a platform,
    /// an informant (by reference), a feed. Never shown to partners.
    #[command(after_long_help = SOURCE_HELP)]
    Add {
        #[command(flatten)]
        dir: DataDir,
        /// Source id: 1-64 of a-z, 0-9, '-', '_', '.' (e.g. police-kr, carrier-dhl).
        #[arg(long, value_name = "ID", value_parser = parse_source_id)]
        id: SourceId,
        /// agency, carrier, distributor, platform, informant, feed or other.
        #[arg(long, value_parser = parse_kind)]
        kind: SourceKind,
        /// Name (1-64 characters; a cover name for an informant).
        #[arg(long)]
        name: String,
        /// Handler's reference or reporting agreement (1-64 characters).
        #[arg(long)]
        reference: Option<String>,
        /// Reliability (A-F) given to its items that do not carry one.
        #[arg(long, value_name = "A-F", value_parser = parse_reliability)]
        default_reliability: Option<Reliability>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every source with its track record: items, hits, outcomes, precision.
    #[command(after_long_help = SOURCE_HELP)]
    List {
        #[command(flatten)]
        dir: DataDir,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One source and its track record.
    Show {
        #[command(flatten)]
        dir: DataDir,
        /// Source id.
        #[arg(value_parser = parse_source_id)]
        id: SourceId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Import formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IntelFormat {
    /// CSV with a header row, through --mapping.
    Csv,
    /// JSON Lines, one item per line.
    Jsonl,
    /// A STIX 2.1 bundle.
    Stix,
}

/// `kdesk intel ...`.
#[derive(Subcommand, Debug)]
pub(super) enum IntelCommand {
    /// Registered sources and their track records.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Import intelligence items from a registered source (JSON Lines, CSV with a mapping,
    /// or a STIX 2.1 bundle).
    #[command(after_long_help = IMPORT_HELP)]
    Import {
        #[command(flatten)]
        dir: DataDir,
        /// The registered source the items come from.
        #[arg(long, value_name = "ID", value_parser = parse_source_id)]
        source: SourceId,
        /// The file, or - for standard input.
        #[arg(long = "input", alias = "file", value_name = "FILE")]
        file: PathBuf,
        /// Format; by default: stix for a .json file holding a bundle, csv with --mapping,
        /// else jsonl.
        #[arg(long, value_enum)]
        format: Option<IntelFormat>,
        /// Mapping file (TOML) for CSV: which column fills which item field.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Print the summary as JSON (bad rows included).
        #[arg(long)]
        json: bool,
    },
    /// List items in id order, a page at a time (--after the last id of the previous page).
    List {
        #[command(flatten)]
        dir: DataDir,
        /// At most this many items.
        #[arg(long, value_name = "N", default_value_t = 100,
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Only items with an id above this.
        #[arg(long, value_name = "ID", default_value_t = 0)]
        after: u64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one item: subject, selectors, grading explained, source, links, hits, alerts it
    /// became.
    Show {
        #[command(flatten)]
        dir: DataDir,
        /// Item id.
        id: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Link two items (both ways), e.g. a traveler and the consignment addressed to them.
    Link {
        #[command(flatten)]
        dir: DataDir,
        /// One item id.
        a: u64,
        /// The other item id.
        b: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn an item into an alert of this desk, with the distribution and handling you
    /// choose.
    #[command(after_long_help = PROMOTE_HELP)]
    Promote {
        #[command(flatten)]
        dir: DataDir,
        /// Item id.
        id: u64,
        /// Who receives the alert: "all" (every partner) or countries, e.g. TH,VN.
        #[arg(long, value_name = "all|CC,CC", value_parser = parse_distribution)]
        distribution: Distribution,
        /// TLP 2.0 label: clear, green, amber, amber+strict, red.
        #[arg(long, value_parser = parse_tlp)]
        tlp: Tlp,
        /// Recipients must not relay the alert to third countries.
        #[arg(long)]
        no_onward_sharing: bool,
        /// low, medium, high or critical.
        #[arg(long)]
        risk: String,
        /// A risk indicator for partners (repeat; 1-512 characters each).
        #[arg(long = "indicator", value_name = "TEXT")]
        indicators: Vec<String>,
        /// This desk's case reference.
        #[arg(long, value_name = "REF")]
        case_reference: Option<String>,
        /// Idempotency key (1-128 of A-Z a-z 0-9 . _ : -): a request repeated with the same
        /// id returns the alert signed the first time. Default: a fresh random id; the command
        /// itself retries with it when the answer is lost.
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
        /// Print the alert as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Hits screening found on intelligence items (kept on this node), newest first.
    Hits {
        #[command(flatten)]
        dir: DataDir,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Record what inspection found after an intelligence hit (counted in the source's track
    /// record; never sent anywhere).
    Outcome {
        #[command(flatten)]
        dir: DataDir,
        /// The intelligence hit id (`kdesk intel hits`).
        hit: u64,
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

fn parse_source_id(s: &str) -> Result<SourceId, String> {
    SourceId::parse(s).map_err(|e| e.to_string())
}
fn parse_kind(s: &str) -> Result<SourceKind, String> {
    SourceKind::parse(s).map_err(|e| e.to_string())
}
fn parse_reliability(s: &str) -> Result<Reliability, String> {
    Reliability::parse(s).map_err(|e| e.to_string())
}
fn parse_tlp(s: &str) -> Result<Tlp, String> {
    Tlp::parse(s).map_err(|e| e.to_string())
}
fn parse_distribution(s: &str) -> Result<Distribution, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Distribution::AllPartners);
    }
    let countries = s
        .split(',')
        .map(|c| CountryCode::parse(c.trim()).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Distribution::new(false, countries).map_err(|e| e.to_string())
}

fn field_err(field: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(exit::DATAERR, format!("{field}: {e}"))
}

fn read_text(path: &Path) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut s = String::new();
        return std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map(|_| s)
            .map_err(|e| CliError::new(exit::IOERR, format!("standard input: {e}")));
    }
    std::fs::read_to_string(path).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit::NOINPUT
        } else {
            exit::IOERR
        };
        CliError::new(code, format!("{}: {e}", path.display()))
    })
}

fn parse_json(s: &str) -> Result<Value, CliError> {
    serde_json::from_str(s)
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("the node's answer: {e}")))
}

fn print_track(v: &Value) {
    let s = &v["source"];
    println!(
        "{:<20} {:<12} {:<32} items {:>6}  hits {:>5}  with outcome {:>4}  seizures {:>4}  false positives {:>4}  precision {}",
        s["id"].as_str().unwrap_or(""),
        s["kind"].as_str().unwrap_or(""),
        s["name"].as_str().unwrap_or(""),
        v["items"].as_u64().unwrap_or(0),
        v["hits"].as_u64().unwrap_or(0),
        v["with_outcome"].as_u64().unwrap_or(0),
        v["seizures"].as_u64().unwrap_or(0),
        v["false_positives"].as_u64().unwrap_or(0),
        v["precision_text"].as_str().unwrap_or("")
    );
}

async fn source(cmd: SourceCommand) -> CliResult {
    match cmd {
        SourceCommand::Add {
            dir,
            id,
            kind,
            name,
            reference,
            default_reliability,
            json,
        } => {
            let source = Source {
                id,
                kind,
                name: ShortText::parse(&name).map_err(|e| field_err("--name", e))?,
                reference: reference
                    .map(|r| ShortText::parse(&r).map_err(|e| field_err("--reference", e)))
                    .transpose()?,
                default_reliability,
            };
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .add_intel_source(pb::AddIntelSourceRequest {
                    source_json: serde_json::to_string(&source)
                        .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?,
                })
                .await?
                .into_inner();
            if json {
                println!("{}", r.json);
            } else {
                println!(
                    "source {} registered (stored, flushed, recorded as an admin event)",
                    source.id
                );
            }
            Ok(())
        }
        SourceCommand::List { dir, json } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .list_intel_sources(pb::ListIntelSourcesRequest {})
                .await?
                .into_inner();
            if json {
                for j in &r.json {
                    println!("{j}");
                }
            } else if r.json.is_empty() {
                println!("no sources (kdesk intel source add)");
            } else {
                for j in &r.json {
                    print_track(&parse_json(j)?);
                }
            }
            Ok(())
        }
        SourceCommand::Show { dir, id, json } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .list_intel_sources(pb::ListIntelSourcesRequest {})
                .await?
                .into_inner();
            for j in &r.json {
                let v = parse_json(j)?;
                if v["source"]["id"].as_str() == Some(id.as_str()) {
                    if json {
                        println!("{v}");
                    } else {
                        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    }
                    return Ok(());
                }
            }
            Err(CliError::new(
                exit::NOINPUT,
                format!("no source {id} (kdesk intel source list)"),
            ))
        }
    }
}

/// Items per `ImportIntel` request.
const IMPORT_BATCH: usize = 5_000;
/// JSON bytes per `ImportIntel` request.
const IMPORT_BATCH_BYTES: usize = 3 << 20;

/// What an import read from a file, before anything is sent.
struct FileRead {
    items: Vec<(u64, String)>,
    bad: Vec<BadRow>,
    format: &'static str,
    /// STIX objects not imported, by type.
    skipped: std::collections::BTreeMap<String, u64>,
}

fn read_file(
    file: &Path,
    format: Option<IntelFormat>,
    mapping: Option<&Path>,
    reliability: Option<Reliability>,
) -> Result<FileRead, CliError> {
    let text = read_text(file)?;
    let format = match format {
        Some(f) => f,
        None if mapping.is_some() => IntelFormat::Csv,
        None if text.trim_start().starts_with('{') && text.contains("\"bundle\"") => {
            IntelFormat::Stix
        }
        None => IntelFormat::Jsonl,
    };
    let mut skipped = std::collections::BTreeMap::new();
    if mapping.is_some() && format != IntelFormat::Csv {
        return Err(CliError::new(
            exit::USAGE,
            "--mapping applies to CSV files only",
        ));
    }
    let (read, name) = match format {
        IntelFormat::Jsonl => (import::read_jsonl(&text), "jsonl"),
        IntelFormat::Csv => {
            let m = mapping.ok_or_else(|| {
                CliError::new(
                    exit::USAGE,
                    "a CSV import needs --mapping FILE (which column fills which item field; \
                     examples/intel/carrier-dhl.toml)",
                )
            })?;
            let mut m = import::Mapping::parse(&read_text(m)?)
                .map_err(|e| CliError::new(exit::DATAERR, format!("{}: {e}", m.display())))?;
            // A row without a reliability gets the source's default.
            if let Some(r) = reliability {
                m.default_unless_set("grading.reliability", r.as_str());
            }
            (
                import::read_csv(&text, &m).map_err(|e| {
                    CliError::new(exit::DATAERR, format!("{}: {e}", file.display()))
                })?,
                "csv",
            )
        }
        IntelFormat::Stix => {
            let r = kdesk::intel::stix_in::read_bundle(&text, reliability)
                .map_err(|e| CliError::new(exit::DATAERR, format!("{}: {e}", file.display())))?;
            skipped = r.skipped;
            (r.read, "stix")
        }
    };
    let items = read
        .items
        .into_iter()
        .map(|(l, i)| {
            serde_json::to_string(&i)
                .map(|j| (l, j))
                .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FileRead {
        items,
        bad: read.bad,
        format: name,
        skipped,
    })
}

async fn import_file(
    dir: &Path,
    source: &SourceId,
    file: &Path,
    format: Option<IntelFormat>,
    mapping: Option<&Path>,
    json: bool,
) -> CliResult {
    let mut client = super::client::connect(dir).await?;
    // The source must be registered; its default reliability grades STIX indicators.
    let sources = client
        .list_intel_sources(pb::ListIntelSourcesRequest {})
        .await?
        .into_inner();
    let mut reliability = None;
    let mut registered = false;
    for j in &sources.json {
        let v = parse_json(j)?;
        if v["source"]["id"].as_str() == Some(source.as_str()) {
            registered = true;
            reliability = v["source"]["default_reliability"]
                .as_str()
                .and_then(|r| Reliability::parse(r).ok());
        }
    }
    if !registered {
        return Err(CliError::new(
            exit::DATAERR,
            format!("--source: {source} is not a registered source (kdesk intel source add)"),
        ));
    }
    let read = read_file(file, format, mapping, reliability)?;
    let label = format!(
        "{} ({})",
        file.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        read.format
    );
    let mut ids = Vec::new();
    // Batches of at most IMPORT_BATCH items and IMPORT_BATCH_BYTES of JSON (the Admin API
    // takes messages of up to 4 MiB).
    let mut batches: Vec<&[(u64, String)]> = Vec::new();
    let (mut start, mut bytes) = (0usize, 0usize);
    for (i, (_, j)) in read.items.iter().enumerate() {
        if i > start && (i - start == IMPORT_BATCH || bytes + j.len() > IMPORT_BATCH_BYTES) {
            batches.push(&read.items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += j.len() + 8;
    }
    if start < read.items.len() {
        batches.push(&read.items[start..]);
    }
    for chunk in batches {
        let r = client
            .import_intel(pb::ImportIntelRequest {
                source: source.to_string(),
                items: chunk.iter().map(|(_, j)| j.clone()).collect(),
                import: label.clone(),
            })
            .await
            .map_err(|s| {
                let mut e = CliError::from(s);
                if !ids.is_empty() {
                    e.message.push_str(&format!(
                        " ({} items of this file were imported before the failure: ids {}-{})",
                        ids.len(),
                        ids.first().copied().unwrap_or(0),
                        ids.last().copied().unwrap_or(0)
                    ));
                }
                e
            })?
            .into_inner();
        ids.extend(r.ids);
    }
    if json {
        println!(
            "{}",
            json!({"source": source.as_str(), "format": read.format, "imported": ids.len(),
                   "first_id": ids.first(), "last_id": ids.last(), "bad_rows": read.bad,
                   "skipped_objects": read.skipped})
        );
    } else {
        for b in &read.bad {
            if read.format == "stix" {
                eprintln!("not imported: {}: {}", b.field, b.message);
            } else {
                eprintln!("bad row, {b} (skipped)");
            }
        }
        if !read.skipped.is_empty() {
            let s: Vec<String> = read
                .skipped
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            println!("STIX objects not imported as items: {}", s.join(", "));
        }
        match (ids.first(), ids.last()) {
            (Some(f), Some(l)) => println!(
                "imported {} items from source {source} as {f}-{l} ({} bad rows skipped)",
                ids.len(),
                read.bad.len()
            ),
            _ => println!(
                "imported nothing from source {source} ({} bad rows skipped)",
                read.bad.len()
            ),
        }
    }
    if ids.is_empty() && !read.bad.is_empty() {
        return Err(CliError::new(
            exit::DATAERR,
            "no row of the file could be imported (see above)",
        ));
    }
    Ok(())
}

fn item_line(v: &Value) -> String {
    let item = &v["item"];
    let g = &item["grading"];
    let subject = serde_json::from_value::<kdesk::model::intel::IntelItem>(item.clone())
        .map(|i| i.subject_summary())
        .unwrap_or_default();
    format!(
        "{:>6}  {}{} {:<3} {:<16} until {:<10}  {:<40} {}",
        v["id"].as_u64().unwrap_or(0),
        g["reliability"].as_str().unwrap_or(""),
        g["credibility"].as_str().unwrap_or(""),
        g["handling"].as_str().unwrap_or(""),
        v["source"].as_str().unwrap_or(""),
        item["validity"]["valid_until"].as_str().unwrap_or(""),
        subject,
        item["title"].as_str().unwrap_or("")
    )
}

/// Runs `kdesk intel ...`.
pub(super) async fn run(cmd: IntelCommand) -> CliResult {
    match cmd {
        IntelCommand::Source(c) => source(c).await,
        IntelCommand::Import {
            dir,
            source,
            file,
            format,
            mapping,
            json,
        } => {
            import_file(
                &dir.data_dir,
                &source,
                &file,
                format,
                mapping.as_deref(),
                json,
            )
            .await
        }
        IntelCommand::List {
            dir,
            limit,
            after,
            json,
        } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .list_intel(pb::ListIntelRequest { after, limit })
                .await?
                .into_inner();
            if json {
                for j in &r.json {
                    println!("{j}");
                }
                return Ok(());
            }
            if r.json.is_empty() {
                println!("no intelligence items after {after}");
                return Ok(());
            }
            println!(
                "{:>6}  GRADING SOURCE           VALID            SUBJECT                                  TITLE",
                "ID"
            );
            let mut last = 0;
            for j in &r.json {
                let v = parse_json(j)?;
                last = v["id"].as_u64().unwrap_or(0);
                println!("{}", item_line(&v));
            }
            if r.more {
                println!("next page: --after {last}");
            }
            Ok(())
        }
        IntelCommand::Show { dir, id, json } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .get_intel(pb::GetIntelRequest { id })
                .await?
                .into_inner();
            let v = parse_json(&r.json)?;
            if json {
                println!("{v}");
            } else {
                println!("{}", item_line(&v["item"]));
                println!("grading: {}", v["explanation"].as_str().unwrap_or(""));
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v["item"]["item"]).unwrap_or_default()
                );
                for l in v["linked"].as_array().into_iter().flatten() {
                    println!(
                        "linked: item {} \"{}\"",
                        l["id"],
                        l["title"].as_str().unwrap_or("")
                    );
                }
                for a in v["item"]["promoted_to"].as_array().into_iter().flatten() {
                    println!("promoted to alert {}", a.as_str().unwrap_or(""));
                }
                for h in v["hits"].as_array().into_iter().flatten() {
                    println!(
                        "hit {} on {} (score {}), {} outcome(s)",
                        h["id"],
                        h["reference"].as_str().unwrap_or(""),
                        h["score"],
                        h["outcomes"].as_array().map_or(0, Vec::len)
                    );
                }
            }
            Ok(())
        }
        IntelCommand::Link { dir, a, b, json } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .link_intel(pb::LinkIntelRequest { a, b })
                .await?
                .into_inner();
            if json {
                println!("{}", r.json);
            } else {
                println!("items {a} and {b} linked");
            }
            Ok(())
        }
        IntelCommand::Promote {
            dir,
            id,
            distribution,
            tlp,
            no_onward_sharing,
            risk,
            indicators,
            case_reference,
            request_id,
            json,
        } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let keys = KnownKeys::load(&dir.data_dir, &mut client).await?;
            let request_id = match request_id {
                Some(r) => {
                    kdesk::node::check_request_id(&r).map_err(|e| CliError::new(exit::USAGE, e))?;
                    r
                }
                None => super::retry::new_request_id()?,
            };
            let req = pb::PromoteIntelRequest {
                id,
                distribution: Some(distribution.to_pb()),
                handling: Some(pb::Handling {
                    tlp: tlp.to_pb(),
                    no_onward_sharing,
                }),
                risk,
                indicators,
                case_reference: case_reference.unwrap_or_default(),
                request_id,
            };
            // A lost answer is asked again with the same request id: never two alerts.
            let r = super::retry::issuing(&dir.data_dir, "intel promote", |mut c| {
                let req = req.clone();
                async move { c.promote_intel(req).await.map(tonic::Response::into_inner) }
            })
            .await?;
            let rec = r
                .record
                .ok_or_else(|| CliError::new(exit::SOFTWARE, "the node returned no record"))?;
            super::alert::print_issued(&format!("item {id} promoted:"), rec, &keys, json)
        }
        IntelCommand::Hits { dir, json } => {
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .list_intel_hits(pb::ListIntelHitsRequest {})
                .await?
                .into_inner();
            if json {
                for j in &r.json {
                    println!("{j}");
                }
                return Ok(());
            }
            if r.json.is_empty() {
                println!("no intelligence hits");
            }
            if r.more {
                eprintln!("(the newest hits only: older ones did not fit in one answer; --json lists the same)");
            }
            for j in &r.json {
                let h = parse_json(j)?;
                let last = h["outcomes"]
                    .as_array()
                    .and_then(|o| o.last())
                    .and_then(|o| o["result"].as_str())
                    .unwrap_or("no outcome yet");
                println!(
                    "hit {:>5}  item {:>6}  {}{} {:<3} source {:<16} [{}] score {} on {}: {}",
                    h["id"].as_u64().unwrap_or(0),
                    h["item"].as_u64().unwrap_or(0),
                    h["grading"]["reliability"].as_str().unwrap_or(""),
                    h["grading"]["credibility"].as_str().unwrap_or(""),
                    h["grading"]["handling"].as_str().unwrap_or(""),
                    h["source"].as_str().unwrap_or(""),
                    h["reference"].as_str().unwrap_or(""),
                    h["score"],
                    h["screened_on"].as_str().unwrap_or(""),
                    last
                );
            }
            Ok(())
        }
        IntelCommand::Outcome {
            dir,
            hit,
            result,
            substance,
            quantity_kg,
            note,
            json,
        } => {
            let grams = super::screen::grams_of(quantity_kg)?;
            let mut client = super::client::connect(&dir.data_dir).await?;
            let r = client
                .record_intel_outcome(pb::RecordIntelOutcomeRequest {
                    hit,
                    result,
                    substance: substance.unwrap_or_default(),
                    quantity_grams: grams,
                    note: note.unwrap_or_default(),
                })
                .await?
                .into_inner();
            if json {
                println!("{}", r.json);
            } else {
                println!("outcome of intelligence hit {hit} recorded (stored and flushed; kept on this node)");
            }
            Ok(())
        }
    }
}

/// `kdesk export ...`.
#[derive(Subcommand, Debug)]
pub(super) enum ExportCommand {
    /// Write every alert this node holds (own and received, every version) as a STIX 2.1
    /// bundle: an identity per desk, indicators with the kdesk subject extension, TLP 2.0
    /// markings, sightings for hits, amendments as new versions, retractions revoked
    /// (docs/STIX.md). The file is created with mode 0600 and must not exist.
    Stix {
        #[command(flatten)]
        dir: DataDir,
        /// The bundle file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `kdesk export ...`.
pub(super) async fn export(cmd: ExportCommand) -> CliResult {
    let ExportCommand::Stix { dir, out, json } = cmd;
    let mut client = super::client::connect(&dir.data_dir).await?;
    let mut stream = client
        .export_stix(pb::ExportStixRequest {})
        .await?
        .into_inner();
    let mut bundle = Vec::new();
    let mut objects = None;
    while let Some(c) = stream.message().await? {
        bundle.extend_from_slice(&c.data);
        if c.last {
            objects = Some(c.objects);
            break;
        }
    }
    let objects = objects.ok_or_else(|| {
        CliError::new(
            exit::IOERR,
            "the node's bundle ended early; nothing written (try again)",
        )
    })?;
    write_new(&out, &bundle)?;
    if json {
        println!(
            "{}",
            json!({"out": out.display().to_string(), "objects": objects, "bytes": bundle.len()})
        );
    } else {
        println!(
            "wrote a STIX 2.1 bundle of {objects} objects ({} bytes) to {}",
            bundle.len(),
            out.display()
        );
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8]) -> CliResult {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
                exit::CANTCREAT
            } else {
                exit::IOERR
            };
            CliError::new(code, format!("{}: {e}", path.display()))
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", path.display())))
}
