//! `kdesk alert ...`: issue, list, show, amend, retract.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::view::{header, KnownKeys, Shown};
use super::{exit, CliError, CliResult, DataDir};
use crate::model::Alert;
use crate::pb;

#[derive(Subcommand, Debug)]
pub(super) enum AlertCommand {
    /// Sign, store and flush a new alert from a JSON file (see examples/alerts/). Succeeds
    /// only once the alert is durable. Invalid fields are refused with their path and rule;
    /// nothing is stored.
    Issue {
        #[command(flatten)]
        dir: DataDir,
        /// Alert JSON file, or - for standard input.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Print the stored record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List stored records (own and received), in (origin, sequence) order.
    List {
        #[command(flatten)]
        dir: DataDir,
        /// Only this origin: a country (TH) or COUNTRY/node (TH/bkk).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// Only this kind: alert, amendment, retraction, hit, outcome, admin-event (changes of
        /// partners and keys, kept in the log for auditors).
        #[arg(long)]
        kind: Option<String>,
        /// Only this route: traveler, express, postal, air-cargo, sea-container, ship,
        /// port-entrant.
        #[arg(long)]
        route: Option<String>,
        /// Only this status: active, superseded, retracted, expired, recorded.
        #[arg(long)]
        status: Option<String>,
        /// One JSON object per line (id, origin, seq, kind, status, content, ...).
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
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Why the alert changed.
        #[arg(long)]
        reason: String,
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
        /// Print the stored retraction as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Reads and parses an alert file, naming the field that is wrong.
fn read_alert(file: &Path) -> Result<Alert, CliError> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::new(exit::IOERR, format!("standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                exit::NOINPUT
            } else {
                exit::IOERR
            };
            CliError::new(code, format!("{}: {e}", file.display()))
        })?
    };
    Alert::from_json(&text).map_err(|e| {
        CliError::new(
            exit::DATAERR,
            format!("{}: invalid alert: {e}; nothing was stored", file.display()),
        )
    })
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
        AlertCommand::Issue { dir, file, json } => {
            let alert = read_alert(&file)?;
            let mut c = crate::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let r = c
                .issue_alert(pb::IssueAlertRequest {
                    alert: Some(alert.to_pb()),
                })
                .await?
                .into_inner();
            let rec = r
                .record
                .ok_or_else(|| CliError::new(exit::SOFTWARE, "empty answer"))?;
            print_issued("issued", rec, &key, json)
        }
        AlertCommand::Amend {
            dir,
            id,
            file,
            reason,
            json,
        } => {
            let alert = read_alert(&file)?;
            let mut c = crate::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let r = c
                .amend_alert(pb::AmendAlertRequest {
                    target: id,
                    alert: Some(alert.to_pb()),
                    reason,
                })
                .await?
                .into_inner();
            let rec = r
                .record
                .ok_or_else(|| CliError::new(exit::SOFTWARE, "empty answer"))?;
            print_issued("issued", rec, &key, json)
        }
        AlertCommand::Retract {
            dir,
            id,
            reason,
            json,
        } => {
            let mut c = crate::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let r = c
                .retract_alert(pb::RetractAlertRequest { target: id, reason })
                .await?
                .into_inner();
            let rec = r
                .record
                .ok_or_else(|| CliError::new(exit::SOFTWARE, "empty answer"))?;
            print_issued("issued", rec, &key, json)
        }
        AlertCommand::List {
            dir,
            origin,
            kind,
            route,
            status,
            json,
        } => {
            let mut c = crate::client::connect(&dir.data_dir).await?;
            let key = KnownKeys::load(&dir.data_dir, &mut c).await?;
            let mut stream = c
                .list_records(pb::ListRecordsRequest {
                    origin: origin.unwrap_or_default(),
                    kind: kind.unwrap_or_default(),
                    route: route.unwrap_or_default(),
                    status: status.unwrap_or_default(),
                })
                .await?
                .into_inner();
            let mut n = 0usize;
            if !json {
                println!("{}", header());
            }
            while let Some(r) = stream.message().await? {
                let s = show_record(r, &key)?;
                if json {
                    println!("{}", s.to_json());
                } else {
                    println!("{}", s.row());
                }
                n += 1;
            }
            if !json {
                println!("({n} record{})", if n == 1 { "" } else { "s" });
            }
            Ok(())
        }
        AlertCommand::Show { dir, id, json } => {
            let mut c = crate::client::connect(&dir.data_dir).await?;
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
            if matches!(s.check, super::view::SignatureCheck::Failed(_)) {
                return Err(CliError::new(exit::FAILED, "signature check failed"));
            }
            Ok(())
        }
    }
}
