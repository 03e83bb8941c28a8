//! `kdesk alert import`: many alerts from a JSON Lines file, checked line by line, issued in
//! idempotent batches.

use std::io::{BufRead, BufReader, IsTerminal, Seek, Write};
use std::path::Path;

use serde_json::json;

use super::{exit, CliError, CliResult};
use kdesk::model::Alert;
use kdesk::pb;

/// Bad lines listed when the file is refused (all are counted).
const SHOWN_BAD_LINES: usize = 20;
/// Upper bound on one batch's encoded size, below the Admin API's message limit.
const MAX_BATCH_BYTES: usize = 3 << 20;

/// A line that could not be read as an alert.
struct BadLine {
    line: u64,
    error: String,
}

/// The input, readable twice: a file as is, standard input spooled to a private temporary
/// file (so a file larger than memory works either way).
fn open_twice(file: &Path) -> Result<std::fs::File, CliError> {
    if file.as_os_str() == "-" {
        let mut tmp = tempfile::tempfile()
            .map_err(|e| CliError::new(exit::IOERR, format!("temporary file: {e}")))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp)
            .map_err(|e| CliError::new(exit::IOERR, format!("standard input: {e}")))?;
        return Ok(tmp);
    }
    std::fs::File::open(file).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit::NOINPUT
        } else {
            exit::IOERR
        };
        CliError::new(code, format!("{}: {e}", file.display()))
    })
}

/// A line's number and its alert, or why it is not one.
type Line = (u64, Result<Alert, String>);

/// The non-blank lines of the input, each with its number and the alert or why not.
struct Lines<'a> {
    r: BufReader<&'a mut std::fs::File>,
    name: &'a str,
    buf: Vec<u8>,
    n: u64,
}

impl<'a> Lines<'a> {
    fn new(file: &'a mut std::fs::File, name: &'a str) -> Result<Self, CliError> {
        file.rewind()
            .map_err(|e| CliError::new(exit::IOERR, format!("{name}: {e}")))?;
        Ok(Self {
            r: BufReader::new(file),
            name,
            buf: Vec::new(),
            n: 0,
        })
    }

    /// The next non-blank line, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<Line>, CliError> {
        loop {
            self.buf.clear();
            let got = self
                .r
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", self.name)))?;
            if got == 0 {
                return Ok(None);
            }
            self.n += 1;
            let line = match std::str::from_utf8(&self.buf) {
                Ok(s) => s.trim_end_matches(['\n', '\r']),
                Err(e) => {
                    return Ok(Some((
                        self.n,
                        Err(format!(
                            "not UTF-8 (invalid byte at column {})",
                            e.valid_up_to() + 1
                        )),
                    )))
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            return Ok(Some((
                self.n,
                Alert::from_json(line).map_err(|e| e.to_string()),
            )));
        }
    }
}

/// What an import did.
#[derive(Default)]
pub(crate) struct Summary {
    /// Alerts stored (by this run or, for a repeated request id, an earlier one).
    pub imported: u64,
    /// Of those, stored by an earlier run of the same request id.
    pub replayed: u64,
    /// Batches sent.
    pub batches: u64,
    /// Sequence number of the first alert.
    pub first_seq: u64,
    /// Sequence number of the last alert.
    pub last_seq: u64,
    /// Lines skipped (--skip-bad).
    bad: Vec<BadLine>,
}

pub(super) async fn import(
    data_dir: &Path,
    file: &Path,
    skip_bad: bool,
    batch: u64,
    request_id: &str,
    json: bool,
) -> CliResult {
    let name = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let progress = std::io::stderr().is_terminal() && !json;
    let sum = import_file(data_dir, file, skip_bad, batch, request_id, progress).await?;
    let bad = &sum.bad;
    if json {
        println!(
            "{}",
            json!({
                "imported": sum.imported,
                "already_stored": sum.replayed,
                "skipped": bad.len(),
                "skipped_lines": bad.iter().map(|b| json!({"line": b.line, "error": b.error})).collect::<Vec<_>>(),
                "batches": sum.batches,
                "first_seq": sum.first_seq,
                "last_seq": sum.last_seq,
                "request_id": request_id,
            })
        );
    } else {
        println!(
            "imported {} alert(s) from {name} in {} batch(es), seq {}-{}: stored and flushed{}{}",
            sum.imported,
            sum.batches,
            sum.first_seq,
            sum.last_seq,
            if sum.replayed > 0 {
                format!(
                    " ({} of them already stored by an earlier run of this request id)",
                    sum.replayed
                )
            } else {
                String::new()
            },
            if bad.is_empty() {
                String::new()
            } else {
                format!("; {} bad line(s) skipped", bad.len())
            }
        );
    }
    Ok(())
}

/// Checks every line of `file`, then issues the alerts in batches of `batch` through the
/// node of `data_dir` (see `kdesk alert import --help`).
///
/// # Errors
/// No node, unreadable input, bad lines (without `skip_bad`), or a batch the node refused.
pub(crate) async fn import_file(
    data_dir: &Path,
    file: &Path,
    skip_bad: bool,
    batch: u64,
    request_id: &str,
    progress: bool,
) -> Result<Summary, CliError> {
    let name = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    // The node must be running before anything is read or checked.
    drop(crate::cli::client::connect(data_dir).await?);
    let mut input = open_twice(file)?;
    // Pass 1: check every line.
    let mut bad = Vec::new();
    let mut good = 0u64;
    {
        let mut lines = Lines::new(&mut input, &name)?;
        while let Some((line, parsed)) = lines.next_line()? {
            match parsed {
                Ok(_) => good += 1,
                Err(error) => bad.push(BadLine { line, error }),
            }
        }
    }
    if !bad.is_empty() {
        let listed = if skip_bad { bad.len() } else { SHOWN_BAD_LINES };
        for b in bad.iter().take(listed) {
            eprintln!(
                "{}: {name}: line {}: {}",
                if skip_bad { "skipped" } else { "error" },
                b.line,
                b.error
            );
        }
        if !skip_bad {
            if bad.len() > listed {
                eprintln!("... and {} more bad line(s)", bad.len() - listed);
            }
            return Err(CliError::new(
                exit::DATAERR,
                format!(
                    "{name}: {} bad line(s) of {}; nothing was imported (fix them, or import the \
                     others with --skip-bad)",
                    bad.len(),
                    bad.len() as u64 + good
                ),
            ));
        }
    }
    // Pass 2: send the good lines in batches.
    let mut sum = Summary::default();
    let total = good;
    let mut send_error = None;
    let mut lines = Lines::new(&mut input, &name)?;
    // Batches are formed while reading and sent one at a time: memory holds one batch.
    for i in 0u64.. {
        let mut alerts: Vec<pb::Alert> = Vec::new();
        let mut bytes = 0usize;
        while (alerts.len() as u64) < batch && bytes < MAX_BATCH_BYTES {
            match lines.next_line()? {
                None => break,
                Some((_, Ok(a))) => {
                    let p = a.to_pb();
                    bytes += prost::Message::encoded_len(&p);
                    alerts.push(p);
                }
                Some((_, Err(_))) => {} // reported above (--skip-bad)
            }
        }
        if alerts.is_empty() {
            break;
        }
        let req = pb::IssueAlertsRequest {
            alerts,
            request_id: format!("{request_id}.{i}"),
        };
        let n = req.alerts.len() as u64;
        let r = super::retry::issuing(data_dir, "alert import", |mut c| {
            let req = req.clone();
            async move { c.issue_alerts(req).await.map(tonic::Response::into_inner) }
        })
        .await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                send_error = Some(CliError::new(
                    e.code,
                    format!(
                        "{}; batch {i} ({n} alerts) not imported. {} alert(s) of earlier batches \
                         are stored; re-run with --request-id {request_id} to import the rest \
                         without storing any twice",
                        e.message, sum.imported
                    ),
                ));
                break;
            }
        };
        if sum.first_seq == 0 {
            sum.first_seq = r.records.first().map_or(0, |x| x.seq);
        }
        sum.last_seq = r.records.last().map_or(sum.last_seq, |x| x.seq);
        sum.imported += r.records.len() as u64;
        sum.batches += 1;
        if r.replayed {
            sum.replayed += r.records.len() as u64;
        }
        if progress {
            eprint!("\rimported {}/{total}", sum.imported);
            let _ = std::io::stderr().flush();
        }
    }
    if progress {
        eprintln!();
    }
    if let Some(e) = send_error {
        return Err(e);
    }
    sum.bad = bad;
    Ok(sum)
}
