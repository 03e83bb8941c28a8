//! `kdesk audit ...`: export a bundle from a running node, verify one offline.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::{exit, CliError, CliResult, DataDir};
use kdesk::audit::bundle;
use kdesk::pb;

#[derive(Subcommand, Debug)]
pub(super) enum AuditCommand {
    /// Write a self-contained audit bundle: every record with its signature, the public keys
    /// with where they came from, the node's signed tree head, and an inclusion proof per
    /// record. Without filters the bundle covers the whole log and is "complete".
    Export {
        #[command(flatten)]
        dir: DataDir,
        /// Bundle file to create (never overwritten; mode 0600: it may hold TLP:RED records).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only records of this origin country.
        #[arg(long, value_name = "CC")]
        origin: Option<String>,
        /// Only records created on or after this date (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a bundle offline (no node needed): every signature (verify_strict), every
    /// inclusion proof, the tree head, order and completeness. Exit 0 only if all hold; the
    /// failure names the entry and the check.
    Verify {
        /// The bundle file.
        bundle: PathBuf,
        /// File of trusted public keys: per line an optional country code in capitals (the key
        /// is then trusted for that desk only) and 64 hex digits; # starts a comment. Without
        /// it, keys are taken from the bundle and the report says so.
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        /// Fail unless at least N partners cosigned a head of this log that the bundle's tree
        /// extends. Without witnesses a bundle proves only what its exporter signed: an exporter
        /// that drops its newest records and signs a shorter tree is caught only by witnesses.
        #[arg(long, value_name = "N", default_value_t = 0)]
        require_witness: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show witnessing: each partner's log as this node last verified and cosigned it, how far
    /// each partner has cosigned ours, and any evidence of a partner's log rollback or split
    /// view (two signed heads that cannot both be true). Exit 1 when evidence is held.
    Witness {
        #[command(flatten)]
        dir: DataDir,
        /// Print JSON (evidence with both signed heads, hex).
        #[arg(long)]
        json: bool,
    },
    /// Show the node's current signed tree head.
    TreeHead {
        #[command(flatten)]
        dir: DataDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn read_trust(path: &Path) -> Result<bundle::TrustedKeys, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", path.display())))?;
    bundle::parse_trust(&text)
        .map_err(|e| CliError::new(exit::DATAERR, format!("{}: {e}", path.display())))
}

pub(super) async fn run(cmd: AuditCommand) -> CliResult {
    match cmd {
        AuditCommand::Export {
            dir,
            out,
            origin,
            since,
            json,
        } => {
            let abs = if out.is_absolute() {
                out
            } else {
                std::env::current_dir()
                    .map_err(|e| CliError::new(exit::IOERR, e.to_string()))?
                    .join(out)
            };
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            // The node writes the bundle (mode 0600, created new: never overwritten, never
            // left half-written); it answers FAILED_PRECONDITION, naming the path, only when
            // the file could not be created or written: an I/O error (exit 74).
            let r = c
                .export_audit(pb::ExportAuditRequest {
                    path: abs.display().to_string(),
                    origin: origin.unwrap_or_default(),
                    since: since.unwrap_or_default(),
                })
                .await
                .map_err(|s| match s.code() {
                    tonic::Code::FailedPrecondition => CliError::new(
                        exit::IOERR,
                        format!("cannot write the bundle: {}", s.message()),
                    ),
                    _ => s.into(),
                })?
                .into_inner();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "records": r.records,
                        "tree_size": r.tree_size,
                        "complete": r.complete,
                        "root": r.root_hex,
                        "bytes": r.bytes,
                        "file": abs.display().to_string(),
                    })
                );
            } else {
                println!(
                    "exported {} record(s) of a log of {} ({}), root {}, {} bytes, to {}",
                    r.records,
                    r.tree_size,
                    if r.complete { "complete" } else { "filtered" },
                    r.root_hex,
                    r.bytes,
                    abs.display()
                );
            }
            Ok(())
        }
        AuditCommand::Verify {
            bundle: path,
            trust,
            require_witness,
            json,
        } => {
            // Streamed: a bundle of any size is verified in bounded memory.
            let file = std::fs::File::open(&path).map_err(|e| {
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    exit::NOINPUT
                } else {
                    exit::IOERR
                };
                CliError::new(code, format!("{}: {e}", path.display()))
            })?;
            let trust = trust.as_deref().map(read_trust).transpose()?;
            let tty = std::io::stderr().is_terminal() && !json;
            let progress = move |done: u64, total: u64| {
                if tty {
                    if total == 0 {
                        eprint!("\rverifying: {done} records   ");
                    } else {
                        eprint!(
                            "\rverifying {done}/{total} records ({:.0}%)   ",
                            done as f64 * 100.0 / total as f64
                        );
                        if done == total {
                            eprintln!();
                        }
                    }
                }
            };
            let result = tokio::task::spawn_blocking(move || {
                let r = bundle::verify_reader(
                    std::io::BufReader::with_capacity(1 << 20, file),
                    trust.as_ref(),
                    &progress,
                );
                if tty {
                    eprintln!();
                }
                r
            })
            .await
            .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
            let result = result.and_then(|r| {
                if r.witnessed_by.len() < require_witness {
                    Err(bundle::AuditFailure {
                        entry: None,
                        message: format!(
                            "{} partner(s) cosigned this log ({}); --require-witness asks for {require_witness}",
                            r.witnessed_by.len(),
                            if r.witnessed_by.is_empty() {
                                "none".to_owned()
                            } else {
                                r.witnessed_by.keys().cloned().collect::<Vec<_>>().join(", ")
                            }
                        ),
                    })
                } else {
                    Ok(r)
                }
            });
            match result {
                Ok(r) => {
                    if json {
                        println!("{}", json!({"ok": true, "report": r}));
                    } else {
                        println!(
                            "VERIFIED: bundle of {} (tree size {}, root {})",
                            r.exporter, r.tree_size, r.root
                        );
                        println!(
                            "  {} record(s): signatures (verify_strict) and inclusion proofs hold; {}",
                            r.records,
                            if r.complete { "every log position present, in order" } else { "filtered export" }
                        );
                        for (o, n) in &r.by_origin {
                            println!("  {o}: {n}");
                        }
                        if r.witnessed_by.is_empty() {
                            println!("  witnesses: none (no partner cosignature in the bundle)");
                        }
                        for (w, size) in &r.witnessed_by {
                            println!(
                                "  witnessed by {w}: cosigned this log at size {size}; consistent with the tree head"
                            );
                        }
                        println!(
                            "  keys: {}",
                            if r.keys_trusted {
                                "all in the trust file"
                            } else {
                                "taken from the bundle (not independently trusted)"
                            }
                        );
                        for n in &r.notes {
                            println!("  note: {n}");
                        }
                    }
                    Ok(())
                }
                Err(f) => {
                    if json {
                        println!("{}", json!({"ok": false, "failure": f}));
                    }
                    Err(CliError::new(exit::FAILED, format!("audit FAILED: {f}")))
                }
            }
        }
        AuditCommand::Witness { dir, json } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let w = c.witness(pb::WitnessRequest {}).await?.into_inner();
            let sth_json = |s: &Option<pb::SignedTreeHead>| {
                s.as_ref().map(|s| {
                    let h = kdesk::audit::witness::decode_head(&s.head).ok();
                    json!({"size": h.as_ref().map(|h| h.size), "root": h.as_ref().map(|h| hex::encode(h.root)),
                           "timestamp_ms": h.as_ref().map(|h| h.timestamp_ms),
                           "head": hex::encode(&s.head), "signature": hex::encode(&s.signature),
                           "key_id": hex::encode(&s.key_id)})
                })
            };
            if json {
                println!(
                    "{}",
                    json!({
                        "partners": w.partners.iter().map(super::node::witness_json).collect::<Vec<_>>(),
                        "evidence": w.evidence.iter().map(|e| json!({
                            "subject": e.subject.as_ref().map(|o| format!("{}/{}", o.country, o.node)),
                            "kind": e.kind, "detail": e.detail, "detected_at_ms": e.detected_at_ms,
                            "earlier": sth_json(&e.earlier), "presented": sth_json(&e.presented),
                            "consistency_proof": e.consistency_proof.iter().map(hex::encode).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                );
            } else {
                if w.partners.is_empty() {
                    println!("no partners registered");
                }
                for p in &w.partners {
                    println!("{}", super::node::witness_line(p));
                }
                for e in &w.evidence {
                    println!(
                        "EVIDENCE {} of {} at {}: {}",
                        e.kind,
                        e.subject
                            .as_ref()
                            .map(|o| format!("{}/{}", o.country, o.node))
                            .unwrap_or_default(),
                        super::view::rfc3339(e.detected_at_ms),
                        e.detail
                    );
                }
            }
            if w.evidence.is_empty() {
                Ok(())
            } else {
                Err(CliError::new(
                    exit::FAILED,
                    format!(
                        "{} piece(s) of evidence of partner log misbehaviour held",
                        w.evidence.len()
                    ),
                ))
            }
        }
        AuditCommand::TreeHead { dir, json } => {
            use prost::Message;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let sth = c
                .get_tree_head(pb::GetTreeHeadRequest {})
                .await?
                .into_inner();
            let head = pb::TreeHead::decode(sth.head.as_slice())
                .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
            let origin = head
                .origin
                .map(|o| format!("{}/{}", o.country, o.node))
                .unwrap_or_default();
            if json {
                println!(
                    "{}",
                    json!({"origin": origin, "size": head.size, "root": hex::encode(&head.root),
                           "timestamp_ms": head.timestamp_ms, "signature": hex::encode(&sth.signature),
                           "key_id": hex::encode(&sth.key_id)})
                );
            } else {
                println!(
                    "{origin} log: size {}, root {}",
                    head.size,
                    hex::encode(&head.root)
                );
                println!(
                    "signed by key {} at {}",
                    hex::encode(&sth.key_id),
                    super::view::rfc3339(head.timestamp_ms)
                );
            }
            Ok(())
        }
    }
}
