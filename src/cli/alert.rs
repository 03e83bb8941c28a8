//! `kdesk alert ...`: issue, list, show, amend, retract.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::import::import;
use super::view::{header, KnownKeys, Shown};
use super::{exit, CliError, CliResult, DataDir};
use kdesk::model::Alert;
use kdesk::pb;

#[derive(Subcommand, Debug)]
pub(super) enum AlertCommand {
    /// Sign, store and flush a new alert from a JSON file (see examples/alerts/). Succeeds
    /// only once the alert is durable. Invalid fields are refused with their path and rule;
    /// nothing is stored.
    Issue {
        #[command(flatten)]
        dir: DataDir,
        /// Alert JSON file, or - for standard input.
        #[arg(long = "input", alias = "file", value_name = "FILE")]
        file: PathBuf,
        /// Idempotency key (1-128 of A-Z a-z 0-9 . _ : -): a request repeated with the same
        /// id returns the record stored the first time instead of signing another. Default:
        /// a fresh random id; the command itself retries with it when the answer is lost.
        #[arg(long, value_name = "ID", value_parser = parse_request_id)]
        request_id: Option<String>,
        /// Print the stored record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issue many alerts from a JSON Lines file (one alert object per line, as in
    /// examples/alerts/ or the alerts.jsonl `kdesk gen` writes), for national systems that
    /// push in bulk. Every line is checked first, naming its line number and field; by
    /// default one bad line refuses the whole file and nothing is stored (--skip-bad
    /// imports the others and lists each skipped line). Alerts are signed and stored in
    /// batches (each all or nothing, one flush), with request ids derived from --request-id,
    /// so re-running an interrupted import with the same id stores nothing twice.
    Import {
        #[command(flatten)]
        dir: DataDir,
        /// JSON Lines file of alerts, or - for standard input.
        #[arg(long = "input", alias = "file", value_name = "FILE")]
        file: PathBuf,
        /// Import the valid lines and report each bad one, instead of refusing the file.
        #[arg(long)]
        skip_bad: bool,
        /// Alerts per batch (one transaction and one flush each).
        #[arg(long, value_name = "N", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..=5000))]
        batch: u64,
        /// Idempotency key of the import (at most 110 characters of A-Z a-z 0-9 . _ : -);
        /// batch i is sent as ID.i. Default: a fresh random id, printed on failure so the
        /// import can be resumed.
        #[arg(long, value_name = "ID", value_parser = parse_import_id)]
        request_id: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List stored records (own and received) in the order this node stored them, streamed
    /// as read. Page with --limit and --after (each record's `position`; the text form names
    /// the next page).
    List {
        #[command(flatten)]
        dir: DataDir,
        /// Only this origin: a country (TH) or COUNTRY/node (TH/bkk).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// Only this kind: alert, amendment, retraction, hit, outcome, admin-event (changes of
        /// partners and keys, kept in the log for auditors), key-announcement (a desk's next
        /// signing key), restore-declaration (a desk restored from a backup: what it recovered
        /// and the sequence numbers lost and never reused).
        #[arg(long)]
        kind: Option<String>,
        /// Only this route: traveler, express, postal, air-cargo, sea-container, ship,
        /// port-entrant.
        #[arg(long)]
        route: Option<String>,
        /// Only this status: active, superseded, retracted, expired, recorded, key-revoked (signed with a key revoked for its time).
        #[arg(long)]
        status: Option<String>,
        /// At most this many records (a page).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
        /// Only records after this log position (the `position` of the last record of the
        /// previous page).
        #[arg(long, value_name = "POSITION")]
        after: Option<u64>,
        /// Only records this node stored at or after this time (RFC 3339, or a date:
        /// midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = super::fed::parse_time_ms)]
        since: Option<i64>,
        /// One JSON object per line (id, origin, seq, kind, status, position, content, ...).
        #[arg(long)]
        json: bool,
    },
    /// Show one record in full, with its signature checked.
    Show {
        #[command(flatten)]
        dir: DataDir,
        /// Record id, or a unique prefix of at least 8 hex digits.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace one of this node's alerts with a new full version (the old one becomes
    /// superseded). The new distribution must include every recipient of the old one.
    Amend {
        #[command(flatten)]
        dir: DataDir,
        /// Id (or unique prefix) of the current version.
        id: String,
        /// New alert JSON file, or - for standard input.
        #[arg(long = "input", alias = "file", value_name = "FILE")]
        file: PathBuf,
        /// Why the alert changed.
        #[arg(long)]
        reason: String,
        /// Idempotency key (1-128 of A-Z a-z 0-9 . _ : -): a request repeated with the same
        /// id returns the record stored the first time instead of signing another. Default:
        /// a fresh random id; the command itself retries with it when the answer is lost.
        #[arg(long, value_name = "ID", value_parser = parse_request_id)]
        request_id: Option<String>,
        /// Print the stored amendment as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Withdraw one of this node's alerts (and all its versions) from every desk that
    /// received it.
    Retract {
        #[command(flatten)]
        dir: DataDir,
        /// Id (or unique prefix) of the current version.
        id: String,
        /// Why it is withdrawn.
        #[arg(long)]
        reason: String,
        /// Idempotency key (1-128 of A-Z a-z 0-9 . _ : -): a request repeated with the same
        /// id returns the record stored the first time instead of signing another. Default:
        /// a fresh random id; the command itself retries with it when the answer is lost.
        #[arg(long, value_name = "ID", value_parser = parse_request_id)]
        request_id: Option<String>,
        /// Print the stored retraction as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Reads and parses one alert from a JSON file (or standard input for `-`), naming the field
/// that is wrong. The file must be UTF-8 and hold exactly one alert: invalid UTF-8 (with the
/// offset of the first bad byte) and anything after the alert (several alerts piped in) are
/// refused with exit 65, before anything is sent to the node.
fn read_alert(file: &Path) -> Result<Alert, CliError> {
    let bytes = if file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| CliError::new(exit::IOERR, format!("standard input: {e}")))?;
        b
    } else {
        std::fs::read(file).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                exit::NOINPUT
            } else {
                exit::IOERR
            };
            CliError::new(code, format!("{}: {e}", file.display()))
        })?
    };
    let name = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        CliError::new(
            exit::DATAERR,
            format!(
                "{name}: invalid alert: not UTF-8: invalid byte 0x{:02x} at byte offset {} \
                 (counting from 0); nothing was stored",
                bytes.get(e.valid_up_to()).copied().unwrap_or_default(),
                e.valid_up_to()
            ),
        )
    })?;
    Alert::from_json(text).map_err(|e| {
        let hint = if e.message.contains("exactly one alert is read") {
            " (several alerts: one per line, with `kdesk alert import`)"
        } else {
            ""
        };
        CliError::new(
            exit::DATAERR,
            format!("{name}: invalid alert: {e}{hint}; nothing was stored"),
        )
    })
}

fn parse_request_id(s: &str) -> Result<String, String> {
    kdesk::node::check_request_id(s).map(|()| s.to_owned())
}

fn parse_import_id(s: &str) -> Result<String, String> {
    if s.len() > 110 {
        return Err(format!(
            "an import's request id has at most 110 characters (batch numbers are appended), got {}",
            s.len()
        ));
    }
    parse_request_id(s)
}

/// Prints the record an issuing request produced, saying so when it was stored earlier.
fn print_response(verb: &str, r: pb::IssueResponse, key: &KnownKeys, json: bool) -> CliResult {
    let rec = r
        .record
        .ok_or_else(|| CliError::new(exit::SOFTWARE, "empty answer"))?;
    if r.replayed && !json {
        eprintln!("note: this request id was already stored; showing the record it produced then");
    }
    print_issued(verb, rec, key, json)
}

fn show_record(r: pb::StoredRecord, key: &KnownKeys) -> Result<Shown, CliError> {
    Shown::new(r, key).map_err(|e| CliError::new(exit::SOFTWARE, e))
}

pub(super) fn print_issued(
    verb: &str,
    r: pb::StoredRecord,
    key: &KnownKeys,
    json: bool,
) -> CliResult {
    let s = show_record(r, key)?;
    if json {
        println!("{}", s.to_json());
    } else {
        println!(
            "{verb} {} {} seq {} ({}): stored and flushed; signature {}",
            s.signed.record.kind.name(),
            s.signed.id,
            s.signed.record.seq,
            s.signed.record.origin,
            s.check.text()
        );
    }
    Ok(())
}

pub(super) async fn run(cmd: AlertCommand) -> CliResult {
    match cmd {
        AlertCommand::Issue {
            dir,
            file,
            request_id,
            json,
        } => {
            let alert = read_alert(&file)?;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let req = pb::IssueAlertRequest {
                alert: Some(alert.to_pb()),
                request_id: request_id.map_or_else(super::retry::new_request_id, Ok)?,
            };
            let r = super::retry::issuing(&dir.data_dir, "alert issue", |mut c| {
                let req = req.clone();
                async move { c.issue_alert(req).await.map(tonic::Response::into_inner) }
            })
            .await?;
            print_response("issued", r, &key, json)
        }
        AlertCommand::Import {
            dir,
            file,
            skip_bad,
            batch,
            request_id,
            json,
        } => {
            let request_id = request_id.map_or_else(super::retry::new_request_id, Ok)?;
            import(&dir.data_dir, &file, skip_bad, batch, &request_id, json).await
        }
        AlertCommand::Amend {
            dir,
            id,
            file,
            reason,
            request_id,
            json,
        } => {
            let alert = read_alert(&file)?;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let req = pb::AmendAlertRequest {
                target: id,
                alert: Some(alert.to_pb()),
                reason,
                request_id: request_id.map_or_else(super::retry::new_request_id, Ok)?,
            };
            let r = super::retry::issuing(&dir.data_dir, "alert amend", |mut c| {
                let req = req.clone();
                async move { c.amend_alert(req).await.map(tonic::Response::into_inner) }
            })
            .await?;
            print_response("issued", r, &key, json)
        }
        AlertCommand::Retract {
            dir,
            id,
            reason,
            request_id,
            json,
        } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let req = pb::RetractAlertRequest {
                target: id,
                reason,
                request_id: request_id.map_or_else(super::retry::new_request_id, Ok)?,
            };
            let r = super::retry::issuing(&dir.data_dir, "alert retract", |mut c| {
                let req = req.clone();
                async move { c.retract_alert(req).await.map(tonic::Response::into_inner) }
            })
            .await?;
            print_response("issued", r, &key, json)
        }
        AlertCommand::List {
            dir,
            origin,
            kind,
            route,
            status,
            limit,
            after,
            since,
            json,
        } => {
            use std::io::Write;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let mut stream = c
                .list_records(pb::ListRecordsRequest {
                    origin: origin.unwrap_or_default(),
                    kind: kind.unwrap_or_default(),
                    route: route.unwrap_or_default(),
                    status: status.unwrap_or_default(),
                    paged: after.is_some(),
                    after_position: after.unwrap_or(0),
                    limit: limit.unwrap_or(0),
                    since_ms: since.unwrap_or(0),
                })
                .await?
                .into_inner();
            let mut n = 0usize;
            let mut last = None;
            // Streamed: each record is written as it arrives (a large listing starts at once
            // and never sits in memory).
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let io = |e: std::io::Error| {
                super::CliError::new(super::exit::IOERR, format!("stdout: {e}"))
            };
            if !json {
                writeln!(out, "{}", header()).map_err(io)?;
            }
            while let Some(r) = stream.message().await? {
                let position = r.position;
                let s = show_record(r, &key)?;
                if json {
                    let mut v = s.to_json();
                    v["position"] = position.into();
                    writeln!(out, "{v}").map_err(io)?;
                } else {
                    writeln!(out, "{}", s.row()).map_err(io)?;
                }
                n += 1;
                last = Some(position);
                if n % 64 == 0 {
                    out.flush().map_err(io)?;
                }
            }
            if !json {
                let more = match (limit, last) {
                    (Some(l), Some(p)) if n == l as usize => {
                        format!("; next page: --after {p}")
                    }
                    _ => String::new(),
                };
                writeln!(out, "({n} record{}{more})", if n == 1 { "" } else { "s" }).map_err(io)?;
            }
            out.flush().map_err(io)?;
            Ok(())
        }
        AlertCommand::Show { dir, id, json } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let r = c
                .get_record(pb::GetRecordRequest { id })
                .await?
                .into_inner();
            let s = show_record(r, &key)?;
            let v = s.to_json();
            if json {
                println!("{v}");
            } else {
                let pretty = serde_json::to_string_pretty(&v)
                    .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
                println!("{pretty}");
            }
            if matches!(s.check, kdesk::record::SignatureCheck::Failed(_)) {
                return Err(CliError::new(exit::FAILED, "signature check failed"));
            }
            Ok(())
        }
    }
}
