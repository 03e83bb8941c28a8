//! `kdesk init`, `kdesk serve`, `kdesk status`.

use std::path::Path;

use serde_json::json;

use super::{CliError, CliResult};
use kdesk::config::Config;
use kdesk::model::{CountryCode, NodeName};
use kdesk::record::KeyId;

pub(super) fn init(
    dir: &Path,
    country: CountryCode,
    name: NodeName,
    listen: Option<std::net::SocketAddr>,
    witness_interval: u64,
    metrics: Option<kdesk::config::MetricsConfig>,
    json: bool,
) -> CliResult {
    let (cfg, public) =
        Config::init_with_metrics(dir, country, name, listen, witness_interval, metrics)?;
    let pk = hex::encode(public.as_bytes());
    let key_id = KeyId::of(&public).to_hex();
    if json {
        println!(
            "{}",
            json!({
                "origin": cfg.origin.to_string(),
                "data_dir": cfg.data_dir.display().to_string(),
                "public_key": pk,
                "key_id": key_id,
                "signing_key_file": cfg.signing_key.display().to_string(),
            })
        );
    } else {
        println!(
            "initialised node {} in {}",
            cfg.origin,
            cfg.data_dir.display()
        );
        println!(
            "signing key:  {} (mode 0600, keep it secret)",
            cfg.signing_key.display()
        );
        println!("public key:   {pk}");
        println!("key id:       {key_id}");
        println!("Give the public key to partner desks.");
        if cfg.exchange.is_some() {
            println!("Next, issue this node's exchange certificate from your national CA:");
            println!(
                "  kdesk certs node --ca CA_DIR --country {} --node-name {} --host HOST --out-dir {}",
                cfg.origin.country,
                cfg.origin.node,
                cfg.data_dir.join("tls").display()
            );
            println!("then start the node with:");
        } else {
            println!("Start the node with:");
        }
        println!("  kdesk serve --data-dir {}", cfg.data_dir.display());
    }
    Ok(())
}

pub(super) async fn serve(dir: &Path) -> CliResult {
    let config = Config::load(dir)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    watch_signals(config.drain, stop_tx).map_err(|e| {
        CliError::new(
            super::exit::SOFTWARE,
            format!("cannot watch for SIGTERM/SIGINT: {e}"),
        )
    })?;
    kdesk::node::serve(config, async move {
        let _ = stop_rx.await;
    })
    .await
    .map_err(|e| match e {
        kdesk::node::ServeError::FinalFlush(_) => CliError::new(super::exit::IOERR, e.to_string()),
        kdesk::node::ServeError::Reopen { cause, admin } => start_again(&cause, admin),
        e => e.into(),
    })?;
    Ok(())
}

/// Starts this program again in place (same process id, arguments and environment, so a
/// service manager keeps following it): the only way to open a sled database again after it
/// refused writes. Returns only if that failed.
fn start_again(cause: &str, admin: Option<std::os::fd::OwnedFd>) -> CliError {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    tracing::warn!(%cause, "starting again in place to open the database again");
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new("/proc/self/exe");
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    if let Some(fd) = &admin {
        // The Admin API's listener stays open across the exec: requests wait in its backlog.
        // SAFETY: fcntl on a descriptor this process owns; clears close-on-exec only.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) } == 0 {
            cmd.env(kdesk::node::ADMIN_FD_ENV, fd.as_raw_fd().to_string());
        }
    }
    let e = cmd.args(args).exec();
    CliError::new(
        super::exit::SOFTWARE,
        format!("the database stopped taking writes ({cause}) and starting again in place failed: {e}; start the node again"),
    )
}

/// Extra time past `[shutdown] drain_seconds` before the last-resort exit.
const LAST_RESORT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Watches for SIGTERM/SIGINT on a thread and runtime of its own, so a stop signal is
/// always seen even when every worker of the node's runtime is busy. The first signal
/// starts the node's bounded shutdown; a second one, or the drain deadline passing with
/// the process still alive, ends the process at once with one log line.
fn watch_signals(
    drain: std::time::Duration,
    stop: tokio::sync::oneshot::Sender<()>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Handlers are registered on the thread's own runtime (whose driver polls them), before
    // the node starts, so no signal is missed.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("kdesk-signals".into())
        .spawn(move || {
            rt.block_on(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let signals = signal(SignalKind::terminate())
                    .and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
                let (mut term, mut int) = match signals {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                tracing::info!("{name} received");
                let _ = stop.send(());
                let forced = "second stop signal: exiting now without draining or a final flush";
                tokio::select! {
                    () = tokio::time::sleep(drain + LAST_RESORT_GRACE) => {
                        tracing::error!(
                            seconds = (drain + LAST_RESORT_GRACE).as_secs(),
                            "still running after the drain deadline; exiting now"
                        );
                    }
                    _ = term.recv() => tracing::error!("{forced}"),
                    _ = int.recv() => tracing::error!("{forced}"),
                };
                std::process::exit(i32::from(super::exit::IOERR));
            });
        })?;
    ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("signal thread ended"))?
}

pub(super) async fn status(dir: &Path, json: bool) -> CliResult {
    let mut client = crate::cli::client::connect(dir).await?;
    let s = client
        .status(kdesk::pb::StatusRequest {})
        .await
        .map_err(CliError::from)?
        .into_inner();
    let origin = s
        .origin
        .as_ref()
        .map(|o| format!("{}/{}", o.country, o.node))
        .unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({
                "origin": origin,
                "public_key": s.public_key_hex,
                "key_id": s.key_id_hex,
                "version": s.version,
                "uptime_seconds": s.uptime_seconds,
                "data_dir": s.data_dir,
                "records_total": s.records_total,
                "records_own": s.records_own,
                "records_received": s.records_received,
                "last_seq": s.last_seq,
                "alerts_active": s.alerts_active,
                "equivocations": s.equivocations,
                "size_on_disk_bytes": s.size_on_disk_bytes,
                "exchange_address": s.exchange_address,
                "log_length": s.log_length,
                "handshakes_refused": s.handshakes_refused,
                "handshake_refusals": s.handshake_refusals.iter().map(|c| (c.name.clone(), c.count)).collect::<std::collections::BTreeMap<_, _>>(),
                "refusals": s.rejections.iter().map(|c| (c.name.clone(), c.count)).collect::<std::collections::BTreeMap<_, _>>(),
                "peers": s.peers.iter().map(super::fed::peer_json).collect::<Vec<_>>(),
                "witness": s.witness.iter().map(witness_json).collect::<Vec<_>>(),
                "witness_evidence": s.witness_evidence,
                "disk_free_bytes": s.disk_free_bytes,
                "disk_total_bytes": s.disk_total_bytes,
                "disk_reserve_bytes": s.disk_reserve_bytes,
                "disk_low": disk_low(&s),
                "storage_error": (!s.storage_error.is_empty()).then_some(&s.storage_error),
                "stalled": s.stalled,
                "stall_what": s.stall_what,
                "stall_seconds": s.stall_seconds,
                "counters_stale": s.counters_stale,
                "flushes": s.flushes,
                "stopping": s.stopping,
                "warnings": s.warnings,
                "held_lines": s.held_lines,
                "retro_hits": s.retro_hits,
                "metrics_address": s.metrics_address,
                "taxii_address": s.taxii_address,
                "expiries": s.expiries.iter().map(expiry_json).collect::<Vec<_>>(),
            })
        );
        return Ok(());
    }
    println!("node          {origin} (kdesk {})", s.version);
    println!("data dir      {}", s.data_dir);
    println!("public key    {}", s.public_key_hex);
    println!("key id        {}", s.key_id_hex);
    println!("uptime        {} s", s.uptime_seconds);
    for w in &s.warnings {
        println!("WARNING       {w}");
    }
    if s.stopping {
        println!("STOPPING      draining requests after a stop signal; new records are refused");
    }
    if s.stalled {
        println!(
            "STALLED       the store has been busy with {} for {} s (limit [storage] stall_seconds); \
             partners see NOT_SERVING until it moves",
            s.stall_what, s.stall_seconds
        );
    } else {
        println!("store         moving ({} flushes since start)", s.flushes);
    }
    if s.counters_stale {
        println!(
            "              the store did not answer in time: the counters below are the last read"
        );
    }
    println!(
        "records       {} stored ({} own, last seq {}; {} received)",
        s.records_total, s.records_own, s.last_seq, s.records_received
    );
    println!("alerts        {} active versions", s.alerts_active);
    println!(
        "screening     {} lines held for retro-screening (not yet arrived); {} retro hits",
        s.held_lines, s.retro_hits
    );
    if s.equivocations > 0 {
        println!(
            "EQUIVOCATION  {} conflicting bodies for one (origin, seq) kept as evidence",
            s.equivocations
        );
    } else {
        println!("equivocation  none seen");
    }
    println!(
        "disk          database {}; {} free of {} (reserve {})",
        size(s.size_on_disk_bytes),
        size(s.disk_free_bytes),
        size(s.disk_total_bytes),
        if s.disk_reserve_bytes == 0 {
            "off".to_owned()
        } else {
            size(s.disk_reserve_bytes)
        }
    );
    if !s.storage_error.is_empty() {
        println!("DISK FULL     {}", s.storage_error);
    }
    if disk_low(&s) {
        println!(
            "DISK LOW      free space is within the reserve: new records (own and partners') are \
             refused until space is freed"
        );
    }
    if s.metrics_address.is_empty() {
        println!("metrics       off (no [metrics] section)");
    } else {
        println!(
            "metrics       http://{}/metrics (also /healthz, /readyz)",
            s.metrics_address
        );
    }
    if !s.taxii_address.is_empty() {
        println!(
            "taxii         https://{}/taxii2/ (TAXII 2.1, read-only, partner client certificates)",
            s.taxii_address
        );
    }
    for e in &s.expiries {
        println!("expiry        {}", expiry_line(e));
    }
    if s.exchange_address.is_empty() {
        println!("exchange      off (no [exchange] section)");
    } else {
        println!(
            "exchange      {} (TLS 1.3, client certificates required)",
            s.exchange_address
        );
        let why: Vec<String> = s
            .handshake_refusals
            .iter()
            .map(|c| format!("{} {}", c.count, c.name))
            .collect();
        println!(
            "handshakes    {} refused{}",
            s.handshakes_refused,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {}", why.join(", "))
            }
        );
        let total: u64 = s.rejections.iter().map(|c| c.count).sum();
        let detail: Vec<String> = s
            .rejections
            .iter()
            .map(|c| format!("{} {}", c.count, c.name))
            .collect();
        println!(
            "refused       {total} record(s) from partners{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {}", detail.join(", "))
            }
        );
        for p in &s.peers {
            println!(
                "partner       {} {} [{}] stored {} dup {} refused {} cursor {}{}",
                p.country,
                p.endpoint,
                p.link,
                p.stored,
                p.duplicates,
                p.rejected,
                p.cursor,
                if p.link != "connected" && !p.last_error.is_empty() {
                    format!("; last error: {}", p.last_error)
                } else {
                    String::new()
                }
            );
        }
        if s.witness_evidence > 0 {
            println!(
                "LOG ALARM     {} piece(s) of evidence of a partner's log rollback or split view kept (kdesk audit witness)",
                s.witness_evidence
            );
        }
        for w in &s.witness {
            println!("witness       {}", witness_line(w));
        }
    }
    Ok(())
}

/// Days from now until `at` (seconds since the epoch), rounded down; negative when past.
fn days_left(at: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    (at - now).div_euclid(86_400)
}

fn whose(e: &kdesk::pb::Expiry) -> String {
    let what = match e.kind.as_str() {
        kdesk::node::EXPIRY_NODE_CERTIFICATE => "node certificate",
        kdesk::node::EXPIRY_CA_CERTIFICATE => "CA certificate",
        kdesk::node::EXPIRY_CRL => "CRL (next update)",
        other => other,
    };
    if e.own {
        format!("own {what}")
    } else {
        format!("{}'s {what}", e.country)
    }
}

/// "own node certificate until 2027-03-01T00:00:00Z (90 days)", with WARNING within 14 days.
fn expiry_line(e: &kdesk::pb::Expiry) -> String {
    let days = days_left(e.expires_at);
    let when = time::OffsetDateTime::from_unix_timestamp(e.expires_at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| e.expires_at.to_string());
    let flag = if days < 0 {
        " EXPIRED"
    } else if days < kdesk::node::EXPIRY_WARNING_DAYS {
        " WARNING: within 14 days"
    } else {
        ""
    };
    format!("{} until {when} ({days} days){flag}", whose(e))
}

fn expiry_json(e: &kdesk::pb::Expiry) -> serde_json::Value {
    let days = days_left(e.expires_at);
    json!({
        "kind": e.kind,
        "country": e.country,
        "own": e.own,
        "expires_at": e.expires_at,
        "days_left": days,
        "warning": days < kdesk::node::EXPIRY_WARNING_DAYS,
    })
}

/// `kdesk tls reload`: the node re-reads its certificate, key and published CRL.
/// `kdesk backup`.
pub(super) async fn backup(dir: &Path, out: &Path, json: bool) -> CliResult {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| {
            CliError::new(
                super::exit::CANTCREAT,
                format!("--out {}: {e}", out.display()),
            )
        })?;
    let written = async {
        let mut client = crate::cli::client::connect(dir).await?;
        let mut stream = client
            .backup(kdesk::pb::BackupRequest {})
            .await
            .map_err(CliError::from)?
            .into_inner();
        let mut header = String::new();
        let mut bytes = 0u64;
        while let Some(chunk) = stream.message().await.map_err(CliError::from)? {
            if header.is_empty() {
                header = chunk.header_json;
            }
            f.write_all(&chunk.data).map_err(|e| {
                CliError::new(super::exit::IOERR, format!("{}: {e}", out.display()))
            })?;
            bytes += chunk.data.len() as u64;
        }
        f.sync_all()
            .map_err(|e| CliError::new(super::exit::IOERR, format!("{}: {e}", out.display())))?;
        Ok::<_, CliError>((header, bytes))
    }
    .await;
    let (header, bytes) = match written {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
    };
    let h: kdesk::node::backup::BackupHeader = serde_json::from_str(&header)
        .map_err(|e| CliError::new(super::exit::SOFTWARE, format!("backup header: {e}")))?;
    // Read back and checked, against the node's own public key file, before it counts.
    let own = Config::load(dir)
        .and_then(|c| c.public_key())
        .map(|k| KeyId::of(&k).to_hex())
        .map_err(|e| CliError::new(super::exit::CONFIG, e.to_string()))?;
    if let Err(e) = kdesk::node::backup::verify_backup(out, &own) {
        let _ = std::fs::remove_file(out);
        return Err(CliError::new(
            super::exit::IOERR,
            format!("the backup written does not check: {e}"),
        ));
    }
    if json {
        println!("{}", json!({"file": out, "bytes": bytes, "header": h}));
    } else {
        println!(
            "backup of {} written to {} ({bytes} bytes, log {} records, own seq {}); signed by key {}",
            h.origin,
            out.display(),
            h.log_size,
            h.last_seq,
            &h.key_id[..16]
        );
        println!("it holds private keys: keep it like them. Restore with `kdesk restore --input {} --data-dir NEWDIR --expect-key {}`", out.display(), &h.key_id[..16]);
    }
    Ok(())
}

/// `kdesk restore`.
pub(super) fn restore(input: &Path, data_dir: &Path, expect_key: &str, json: bool) -> CliResult {
    let r = kdesk::node::backup::restore(input, data_dir, expect_key).map_err(|e| match e {
        kdesk::node::backup::BackupError::Invalid(m) => CliError::new(super::exit::DATAERR, m),
        e => CliError::new(super::exit::IOERR, e.to_string()),
    })?;
    if json {
        println!("{}", json!(r));
    } else {
        println!(
            "restored {} into {} ({} files, {} database entries; backup of {} records, own seq {})",
            r.header.origin,
            data_dir.display(),
            r.files,
            r.entries,
            r.header.log_size,
            r.header.last_seq
        );
        println!("start it with `kdesk serve --data-dir {}`: it signs nothing until its partners have handed back what it signed after the backup, then declares the restore", data_dir.display());
    }
    Ok(())
}

/// `kdesk keys rotate`.
pub(super) async fn keys_rotate(dir: &Path, reason: Option<String>, json: bool) -> CliResult {
    let mut client = crate::cli::client::connect(dir).await?;
    let r = client
        .rotate_signing_key(kdesk::pb::RotateSigningKeyRequest {
            reason: reason.unwrap_or_default(),
        })
        .await
        .map_err(CliError::from)?
        .into_inner();
    if json {
        println!(
            "{}",
            json!({
                "old_key_id": r.old_key_id,
                "new_key_id": r.new_key_id,
                "new_public_key": r.new_public_key,
                "announcement_seq": r.announcement_seq,
            })
        );
    } else {
        println!(
            "signing key rotated: {} replaces {} (announced in record {})",
            r.new_key_id, r.old_key_id, r.announcement_seq
        );
        println!("new public key: {}", r.new_public_key);
        println!(
            "partners confirm it with `kdesk peer update --country CC --confirm-signing-key {}`",
            &r.new_key_id[..16.min(r.new_key_id.len())]
        );
    }
    Ok(())
}

pub(super) async fn tls_reload(dir: &Path, json: bool) -> CliResult {
    let mut client = crate::cli::client::connect(dir).await?;
    let r = client
        .reload_tls(kdesk::pb::ReloadTlsRequest {})
        .await
        .map_err(CliError::from)?
        .into_inner();
    let until = time::OffsetDateTime::from_unix_timestamp(r.not_after)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({
                "serial": r.serial_hex,
                "not_after": r.not_after,
                "crl_next_update": (r.crl_next_update != 0).then_some(r.crl_next_update),
            })
        );
    } else {
        println!(
            "reloaded: node certificate serial {} valid until {until}; new connections present it",
            r.serial_hex
        );
        if r.crl_next_update != 0 {
            println!(
                "published CRL checked: next update in {} days",
                days_left(r.crl_next_update)
            );
        }
    }
    Ok(())
}

/// Free space at or below the node's reserve (new records refused).
fn disk_low(s: &kdesk::pb::StatusResponse) -> bool {
    s.disk_reserve_bytes > 0 && s.disk_free_bytes <= s.disk_reserve_bytes
}

/// Bytes for people: "812 B", "3.4 MiB", "77.0 GiB".
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// One partner's witnessing state, as JSON.
pub(super) fn witness_json(w: &kdesk::pb::WitnessInfo) -> serde_json::Value {
    json!({
        "country": w.country,
        "state": w.state,
        "seen_size": w.seen_size,
        "seen_root": w.seen_root_hex,
        "seen_at_ms": w.seen_at_ms,
        "cosigned_size": w.cosigned_size,
        "evidence": w.evidence,
    })
}

/// One partner's witnessing state, on one line.
pub(super) fn witness_line(w: &kdesk::pb::WitnessInfo) -> String {
    format!(
        "{}: {}; their log seen at size {}{}; they cosigned ours up to size {}",
        w.country,
        w.state,
        w.seen_size,
        if w.seen_root_hex.len() >= 16 {
            format!(" (root {}…)", &w.seen_root_hex[..16])
        } else {
            String::new()
        },
        w.cosigned_size
    )
}
