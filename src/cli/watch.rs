//! `kdesk screen --watch DIR`: automatic intake for national clearance and API systems.
//!
//! Files dropped into DIR are screened one at a time and moved on, so each is screened once
//! and none is lost across restarts:
//!
//! - a file is taken when its size and modification time have not changed between two polls
//!   (a file still being written is left alone); names starting with `.` or ending in `.part`
//!   or `.tmp` are never taken, so writers can write there and rename;
//! - it is moved to `DIR/processing/` (a rename: atomic), screened by `kdesk screen` as a
//!   child process, and its results written next to it (`NAME.result.jsonl`: hits, bad lines,
//!   summary);
//! - then moved with its results to `DIR/done/` (screened, exit 0) or `DIR/failed/` (refused:
//!   with `NAME.error.txt`); a file that could not be screened for now (node not running,
//!   disk in its reserve, node stopping) stays in `processing/` and is tried again;
//! - at start, files left in `processing/` by a watcher that stopped are screened again: the
//!   node holds a line once and shares a hit once, so repeating the work changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{exit, CliError, CliResult};

/// What the watcher passes on to each `kdesk screen`.
pub(super) struct WatchOptions<'a> {
    /// The node's data directory.
    pub data_dir: &'a Path,
    /// The watched directory.
    pub dir: &'a Path,
    /// Extra `kdesk screen` arguments (`--share`, `--no-names`, `--format F`).
    pub pass: Vec<String>,
    /// Print one JSON object per file.
    pub json: bool,
    /// Poll interval.
    pub poll: Duration,
}

fn mkdir(p: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(p)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", p.display())))
}

fn taken(name: &str) -> bool {
    !(name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp"))
}

/// A free name in `dir` for `name` (`name`, `name.1`, `name.2`, ...).
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|i| dir.join(format!("{name}.{i}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

fn rename(from: &Path, to: &Path) -> Result<(), CliError> {
    std::fs::rename(from, to).map_err(|e| {
        CliError::new(
            exit::IOERR,
            format!("moving {} to {}: {e}", from.display(), to.display()),
        )
    })
}

/// Files of `dir` ready to take: regular, not hidden or partial, unchanged since `seen`.
fn ready(
    dir: &Path,
    seen: &mut HashMap<PathBuf, (u64, SystemTime)>,
) -> Result<Vec<PathBuf>, CliError> {
    let mut now = HashMap::new();
    let rd = std::fs::read_dir(dir)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", dir.display())))?;
    for entry in rd.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if !meta.is_file() || !taken(&name) {
            continue;
        }
        let stamp = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        now.insert(entry.path(), stamp);
    }
    let mut out: Vec<PathBuf> = now
        .iter()
        .filter(|(p, s)| seen.get(*p) == Some(*s))
        .map(|(p, _)| p.clone())
        .collect();
    out.sort();
    *seen = now;
    Ok(out)
}

/// How one file went.
enum Outcome {
    Done,
    Failed(i32),
    /// Not screened for now (node not running, disk in reserve, stopping): try again.
    Later(i32),
}

/// Screens one file in `processing/` with a child `kdesk screen`.
async fn screen_one(o: &WatchOptions<'_>, file: &Path) -> Result<(Outcome, PathBuf), CliError> {
    let result = file.with_file_name(format!(
        "{}.result.jsonl",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("own executable: {e}")))?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("screen")
        .arg("--data-dir")
        .arg(o.data_dir)
        .arg("--input")
        .arg(file)
        .arg("--json")
        .args(&o.pass)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd
        .output()
        .await
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("kdesk screen: {e}")))?;
    std::fs::write(&result, &child.stdout)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", result.display())))?;
    let code = child.status.code().unwrap_or(-1);
    let outcome = match u8::try_from(code) {
        Ok(0) => Outcome::Done,
        Ok(exit::UNAVAILABLE | exit::TEMPFAIL) => Outcome::Later(code),
        _ => {
            let err = file.with_file_name(format!(
                "{}.error.txt",
                file.file_name().unwrap_or_default().to_string_lossy()
            ));
            std::fs::write(&err, &child.stderr)
                .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", err.display())))?;
            Outcome::Failed(code)
        }
    };
    Ok((outcome, result))
}

fn summary_of(result: &Path) -> serde_json::Value {
    std::fs::read_to_string(result)
        .ok()
        .and_then(|t| {
            t.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["type"] == "summary")
        })
        .unwrap_or(serde_json::Value::Null)
}

/// Moves a processed file and its companions into `to`; returns the file's new path.
fn settle(file: &Path, to: &Path) -> Result<PathBuf, CliError> {
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let dest = free_name(to, &name);
    let dest_name = dest
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for suffix in [".result.jsonl", ".error.txt"] {
        let c = file.with_file_name(format!("{name}{suffix}"));
        if c.exists() {
            rename(&c, &to.join(format!("{dest_name}{suffix}")))?;
        }
    }
    rename(file, &dest)?;
    Ok(dest)
}

/// Runs the watcher until SIGINT or SIGTERM (the file being screened is finished first).
pub(super) async fn run(o: WatchOptions<'_>) -> CliResult {
    let processing = o.dir.join("processing");
    let done = o.dir.join("done");
    let failed = o.dir.join("failed");
    for d in [o.dir, &processing, &done, &failed] {
        mkdir(d)?;
    }
    // The node must be there before anything is moved.
    drop(super::client::connect(o.data_dir).await?);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("SIGTERM: {e}")))?;
    let mut seen = HashMap::new();
    if !o.json {
        println!(
            "watching {} (screened files go to done/, refused ones to failed/); stop with Ctrl-C",
            o.dir.display()
        );
    }
    loop {
        // Left in processing/ by an earlier watcher, or waiting for the node: first.
        let mut work: Vec<PathBuf> = std::fs::read_dir(&processing)
            .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", processing.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                p.is_file() && !n.ends_with(".result.jsonl") && !n.ends_with(".error.txt")
            })
            .collect();
        work.sort();
        for f in ready(o.dir, &mut seen)? {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let to = free_name(&processing, &name);
            rename(&f, &to)?;
            work.push(to);
        }
        let mut waiting = false;
        for file in work {
            let (outcome, result) = screen_one(&o, &file).await?;
            let summary = summary_of(&result);
            let (status, dest, code) = match outcome {
                Outcome::Done => ("done", settle(&file, &done)?, 0),
                Outcome::Failed(c) => ("failed", settle(&file, &failed)?, c),
                Outcome::Later(c) => {
                    waiting = true;
                    ("waiting", file.clone(), c)
                }
            };
            if o.json {
                println!(
                    "{}",
                    json!({"file": dest.display().to_string(), "status": status, "exit": code,
                           "lines": summary["lines"], "hits": summary["hits"],
                           "bad_lines": summary["bad_lines"], "bad_fields": summary["bad_fields"],
                           "held_for_retro_screening": summary["held_for_retro_screening"]})
                );
            } else {
                println!(
                    "{status:<7} {}  {} lines, {} hits, {} bad lines, {} bad fields{}",
                    dest.display(),
                    summary["lines"],
                    summary["hits"],
                    summary["bad_lines"],
                    summary["bad_fields"],
                    if code != 0 {
                        format!(" (kdesk screen exit {code})")
                    } else {
                        String::new()
                    }
                );
            }
            if waiting {
                // The node cannot take work now: the rest waits too.
                break;
            }
        }
        let pause = if waiting { o.poll * 5 } else { o.poll };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = term.recv() => return Ok(()),
        }
    }
}
