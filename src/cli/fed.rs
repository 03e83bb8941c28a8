//! `kdesk certs ...` (offline PKI) and `kdesk peer ...` (partner registry of a running node).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::{exit, CliError, CliResult, DataDir};
use kdesk::keys;
use kdesk::model::{CountryCode, NodeName};
use kdesk::pb;
use kdesk::pki;

#[derive(Subcommand, Debug)]
pub(super) enum CertsCommand {
    /// Create a national CA for a desk: DIR/ca.pem (give it to partners) and DIR/ca.key
    /// (0600; keep it offline).
    Ca {
        /// ISO 3166-1 alpha-2 country of the CA.
        #[arg(long, value_name = "CC", value_parser = super::parse_country)]
        country: CountryCode,
        /// Output directory (created; existing files are never overwritten).
        #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
        out: PathBuf,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issue a node certificate from a national CA: DIR/node.pem, DIR/node.key (0600) and a
    /// copy of the CA certificate DIR/ca.pem. The certificate carries kdesk://CC/NODE and the
    /// given host names for TLS server and client authentication.
    Node {
        /// Directory of the CA (ca.pem, ca.key).
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// Country of the node (must be the CA's).
        #[arg(long, value_name = "CC", value_parser = super::parse_country)]
        country: CountryCode,
        /// Node name (as in `kdesk init --node-name`).
        #[arg(long, value_name = "NAME", value_parser = super::parse_node_name)]
        node_name: NodeName,
        /// Host name or IP address partners use to reach the node (repeatable).
        #[arg(long = "host", value_name = "HOST", required = true)]
        hosts: Vec<String>,
        /// Output directory, usually the node's DATA_DIR/tls.
        #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
        out: PathBuf,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a CRL from a national CA revoking the given node certificates.
    Crl {
        /// Directory of the CA (ca.pem, ca.key).
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// Certificate to revoke (PEM; repeatable; none gives an empty CRL).
        #[arg(long, value_name = "CERT")]
        revoke: Vec<PathBuf>,
        /// Days until the next CRL is due (partners warn as that day nears).
        #[arg(long, value_name = "DAYS", default_value_t = 30,
              value_parser = clap::value_parser!(i64).range(1..=366))]
        days: i64,
        /// Output file (to publish it to partners: the node's DATA_DIR/tls/ca.crl).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(super) enum PeerCommand {
    /// Register a partner desk. Its node must present a certificate from this CA carrying
    /// kdesk://COUNTRY/...; its records must verify with this signing key.
    Add {
        #[command(flatten)]
        dir: DataDir,
        /// Partner country.
        #[arg(long, value_name = "CC")]
        country: String,
        /// Partner node's exchange endpoint, https://HOST:PORT.
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// Partner's national CA certificate (PEM file).
        #[arg(long, value_name = "FILE")]
        ca: PathBuf,
        /// Partner's public signing key: 64 hex digits, or a file holding them (or SPKI PEM).
        #[arg(long, value_name = "KEY")]
        signing_key: String,
        /// CRL issued by the partner's CA (PEM file; repeatable).
        #[arg(long, value_name = "FILE")]
        crl: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List registered partners with link state, cursor and counters.
    List {
        #[command(flatten)]
        dir: DataDir,
        /// One JSON object per partner.
        #[arg(long)]
        json: bool,
    },
    /// Change a partner's registration in place (recorded in the audit log): endpoint, CA,
    /// CRLs, signing keys. Connections no longer acceptable under the new CA or CRLs are closed
    /// at once; a retired key's records are refused from now on.
    Update {
        #[command(flatten)]
        dir: DataDir,
        /// Partner country.
        #[arg(long, value_name = "CC")]
        country: String,
        /// New exchange endpoint, https://HOST:PORT.
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// New national CA certificate (PEM file).
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// The partner's CRLs from now on (PEM file; repeatable; replaces the registered ones).
        #[arg(long, value_name = "FILE", conflicts_with = "no_crl")]
        crl: Vec<PathBuf>,
        /// Drop every registered CRL.
        #[arg(long)]
        no_crl: bool,
        /// Register another signing key (64 hex digits, or a file holding them; repeatable).
        #[arg(long = "add-signing-key", alias = "add-key", value_name = "KEY")]
        add_key: Vec<String>,
        /// Retire a signing key from now (public key or key id, hex prefix; repeatable).
        #[arg(long = "retire-signing-key", alias = "retire-key", value_name = "HEX")]
        retire_key: Vec<String>,
        /// Confirm a signing key the partner announced (public key or key id, hex prefix;
        /// repeatable): its records are accepted from now on. `peer list` shows pending keys.
        #[arg(long = "confirm-signing-key", value_name = "HEX")]
        confirm_key: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Records from a partner kept aside because they could not be verified yet (signed with
    /// a key not registered); they are judged again, and stored if they verify, whenever the
    /// partner's registration changes (e.g. `peer update --add-signing-key`).
    Quarantine {
        #[command(flatten)]
        dir: DataDir,
        /// Partner country (default: all).
        #[arg(long, value_name = "CC")]
        country: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Forget a partner: its connections are closed and refused from now on; records
    /// received stay, and its revoked keys stay revoked.
    Remove {
        #[command(flatten)]
        dir: DataDir,
        /// Partner country.
        #[arg(long, value_name = "CC")]
        country: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Untrust one of a partner's signing keys from a time on (default now): records it
    /// signed from then are refused, and those already stored are marked key-revoked, left
    /// out of screening and flagged in audit bundles. --compromised untrusts every record the
    /// key ever signed (a thief can put any time in a record).
    RevokeKey {
        #[command(flatten)]
        dir: DataDir,
        /// Partner country.
        #[arg(long, value_name = "CC")]
        country: String,
        /// The partner's signing key to revoke: public key or key id, hex (a unique prefix of
        /// at least 8 digits).
        #[arg(long = "signing-key", alias = "key", value_name = "HEX")]
        key: String,
        /// Untrusted from this time: RFC 3339 (2026-11-30T09:00:00Z) or a date (midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time_ms, conflicts_with = "compromised")]
        from: Option<i64>,
        /// The key was compromised: untrust every record it signed.
        #[arg(long)]
        compromised: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A time as ms since the epoch: RFC 3339, or a date (midnight UTC).
pub(super) fn parse_time_ms(s: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    let t = match time::OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => t,
        Err(_) => kdesk::model::Date::parse(s)
            .map_err(|_| {
                format!(
                    "{s:?} is not an RFC 3339 time (2026-11-30T09:00:00Z) or a date (2026-11-30)"
                )
            })?
            .midnight_utc(),
    };
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|e| e.to_string())
}

fn read(path: &Path, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit::NOINPUT
        } else {
            exit::IOERR
        };
        CliError::new(code, format!("{what} {}: {e}", path.display()))
    })
}

fn pki_err(e: pki::PkiError) -> CliError {
    let code = match e {
        pki::PkiError::Io { .. } => exit::IOERR,
        pki::PkiError::Key(ref k) => return k.into(),
        _ => exit::DATAERR,
    };
    CliError::new(code, e.to_string())
}

fn create_dir(dir: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", dir.display())))
}

fn write_public(path: &Path, text: &str) -> Result<(), CliError> {
    if path.exists() {
        return Err(CliError::new(
            exit::CANTCREAT,
            format!("{} exists; refusing to overwrite", path.display()),
        ));
    }
    std::fs::write(path, text)
        .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", path.display())))
}

fn write_secret(path: &Path, text: &str) -> Result<(), CliError> {
    keys::write_private_file(path, text.as_bytes()).map_err(|e| {
        let code = match &e {
            keys::KeyError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                exit::CANTCREAT
            }
            _ => exit::IOERR,
        };
        CliError::new(code, e.to_string())
    })
}

pub(super) fn certs(cmd: CertsCommand) -> CliResult {
    match cmd {
        CertsCommand::Ca { country, out, json } => {
            let (cert, key) = (out.join("ca.pem"), out.join("ca.key"));
            for p in [&cert, &key] {
                if p.exists() {
                    return Err(CliError::new(
                        exit::CANTCREAT,
                        format!("{} exists; refusing to overwrite", p.display()),
                    ));
                }
            }
            let ca = pki::make_ca(country).map_err(pki_err)?;
            create_dir(&out)?;
            write_secret(&key, &ca.key_pem)?;
            write_public(&cert, &ca.cert_pem)?;
            if json {
                println!(
                    "{}",
                    json!({
                        "country": country.to_string(),
                        "ca_cert": cert.display().to_string(),
                        "ca_key": key.display().to_string(),
                        "ca_sha256": pki::cert_sha256(&ca.cert_pem, "ca").map(hex::encode).unwrap_or_default(),
                    })
                );
            } else {
                println!(
                    "national CA for {country}: {} (give to partners), {} (0600, keep offline)",
                    cert.display(),
                    key.display()
                );
            }
            Ok(())
        }
        CertsCommand::Node {
            ca,
            country,
            node_name,
            hosts,
            out,
            json,
        } => {
            let ca_pem = read(&ca.join("ca.pem"), "CA certificate")?;
            let ca_key_path = ca.join("ca.key");
            keys::check_private_mode(&ca_key_path).map_err(CliError::from)?;
            let ca_key = read(&ca_key_path, "CA key")?;
            let issued = pki::make_node_cert(&ca_pem, &ca_key, country, &node_name, &hosts)
                .map_err(pki_err)?;
            create_dir(&out)?;
            write_secret(&out.join("node.key"), &issued.key_pem)?;
            write_public(&out.join("node.pem"), &issued.cert_pem)?;
            if !out.join("ca.pem").exists() {
                write_public(&out.join("ca.pem"), &ca_pem)?;
            }
            if json {
                println!(
                    "{}",
                    json!({
                        "identity": format!("kdesk://{country}/{node_name}"),
                        "hosts": hosts,
                        "cert": out.join("node.pem").display().to_string(),
                        "key": out.join("node.key").display().to_string(),
                        "ca_cert": out.join("ca.pem").display().to_string(),
                    })
                );
            } else {
                println!(
                    "node certificate for kdesk://{country}/{node_name} ({}) in {}",
                    hosts.join(", "),
                    out.display()
                );
            }
            Ok(())
        }
        CertsCommand::Crl {
            ca,
            revoke,
            days,
            out,
            json,
        } => {
            let ca_pem = read(&ca.join("ca.pem"), "CA certificate")?;
            let ca_key_path = ca.join("ca.key");
            keys::check_private_mode(&ca_key_path).map_err(CliError::from)?;
            let ca_key = read(&ca_key_path, "CA key")?;
            let certs = revoke
                .iter()
                .map(|p| read(p, "certificate"))
                .collect::<Result<Vec<_>, _>>()?;
            let crl = pki::make_crl_for(&ca_pem, &ca_key, &certs, days).map_err(pki_err)?;
            std::fs::write(&out, crl)
                .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", out.display())))?;
            if json {
                println!(
                    "{}",
                    json!({
                        "crl": out.display().to_string(),
                        "revoked": certs.len(),
                        "next_update_days": days,
                    })
                );
            } else {
                println!(
                    "CRL revoking {} certificate(s) written to {}",
                    certs.len(),
                    out.display()
                );
            }
            Ok(())
        }
    }
}

/// Formats a partner for the terminal.
fn peer_line(p: &pb::PeerInfo) -> String {
    let keys: Vec<String> = p
        .keys
        .iter()
        .map(|k| {
            let id = k.key_id_hex.get(..12).unwrap_or(&k.key_id_hex);
            if k.revoked_at_ms > 0 {
                format!("{id} (revoked)")
            } else if k.pending {
                format!("{id} (announced, pending confirmation)")
            } else {
                id.to_owned()
            }
        })
        .collect();
    format!(
        "{:<3} {:<28} {:<12} cursor {:<7} stored {:<6} dup {:<5} refused {:<5} keys {}  CRLs {}",
        p.country,
        p.endpoint,
        p.link,
        p.cursor,
        p.stored,
        p.duplicates,
        p.rejected,
        keys.join(","),
        p.crl_count
    )
}

/// A partner as JSON.
pub(super) fn peer_json(p: &pb::PeerInfo) -> serde_json::Value {
    json!({
        "country": p.country,
        "endpoint": p.endpoint,
        "ca_subject": p.ca_subject,
        "link": p.link,
        "cursor": p.cursor,
        "stored": p.stored,
        "duplicates": p.duplicates,
        "refused": p.rejected,
        "last_error": if p.last_error.is_empty() { serde_json::Value::Null } else { json!(p.last_error) },
        "inbound_connections": p.inbound_connections,
        "crls": p.crl_count,
        "keys": p.keys.iter().map(|k| json!({
            "public_key": k.public_key_hex,
            "key_id": k.key_id_hex,
            "revoked": k.revoked_at_ms > 0,
            "revoked_from_ms": k.revoked_at_ms,
            "compromised": k.compromised,
            "pending": k.pending,
        })).collect::<Vec<_>>(),
    })
}

pub(super) async fn peer(cmd: PeerCommand) -> CliResult {
    match cmd {
        PeerCommand::Add {
            dir,
            country,
            endpoint,
            ca,
            signing_key,
            crl,
            json,
        } => {
            let ca_pem = read(&ca, "CA certificate")?;
            let crl_pem = crl
                .iter()
                .map(|p| read(p, "CRL"))
                .collect::<Result<Vec<_>, _>>()?;
            // The key may be given inline or as a file.
            let key_text = if Path::new(&signing_key).is_file() {
                read(Path::new(&signing_key), "signing key")?
            } else {
                signing_key
            };
            keys::parse_public_key(&key_text)
                .map_err(|e| CliError::new(exit::DATAERR, format!("--signing-key: {e}")))?;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let p = c
                .add_peer(pb::AddPeerRequest {
                    country,
                    endpoint,
                    ca_pem,
                    crl_pem,
                    signing_key: key_text,
                })
                .await?
                .into_inner();
            if json {
                println!("{}", peer_json(&p));
            } else {
                println!(
                    "registered partner {} at {} (CA: {})",
                    p.country, p.endpoint, p.ca_subject
                );
            }
            Ok(())
        }
        PeerCommand::List { dir, json } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let peers = c
                .list_peers(pb::ListPeersRequest {})
                .await?
                .into_inner()
                .peers;
            for p in &peers {
                if json {
                    println!("{}", peer_json(p));
                } else {
                    println!("{}", peer_line(p));
                }
            }
            if !json {
                println!(
                    "({} partner{})",
                    peers.len(),
                    if peers.len() == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
        PeerCommand::Update {
            dir,
            country,
            endpoint,
            ca,
            crl,
            no_crl,
            add_key,
            retire_key,
            confirm_key,
            json,
        } => {
            let ca_pem = match &ca {
                Some(p) => read(p, "CA certificate")?,
                None => String::new(),
            };
            let crl_pem = crl
                .iter()
                .map(|p| read(p, "CRL"))
                .collect::<Result<Vec<_>, _>>()?;
            let add_keys = add_key
                .into_iter()
                .map(|k| {
                    if Path::new(&k).is_file() {
                        read(Path::new(&k), "signing key")
                    } else {
                        Ok(k)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let p = c
                .update_peer(pb::UpdatePeerRequest {
                    country,
                    endpoint: endpoint.unwrap_or_default(),
                    ca_pem,
                    replace_crls: no_crl || !crl_pem.is_empty(),
                    crl_pem,
                    add_keys,
                    retire_keys: retire_key,
                    confirm_keys: confirm_key,
                })
                .await?
                .into_inner();
            if json {
                println!("{}", peer_json(&p));
            } else {
                println!("{}", peer_line(&p));
            }
            Ok(())
        }
        PeerCommand::Quarantine { dir, country, json } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let r = c
                .list_quarantine(pb::ListQuarantineRequest {
                    country: country.unwrap_or_default(),
                })
                .await?
                .into_inner();
            for q in &r.records {
                let origin = q
                    .origin
                    .as_ref()
                    .map(|o| format!("{}/{}", o.country, o.node))
                    .unwrap_or_default();
                if json {
                    println!(
                        "{}",
                        json!({
                            "country": q.country,
                            "id": hex::encode(&q.id),
                            "origin": origin,
                            "seq": q.seq,
                            "received_at_ms": q.received_at_ms,
                            "reason": q.reason,
                            "key_id": hex::encode(&q.key_id),
                        })
                    );
                } else {
                    println!(
                        "{} {} from {} (claims {origin} seq {}): {}",
                        q.country,
                        &hex::encode(&q.id)[..16.min(q.id.len() * 2)],
                        q.country,
                        q.seq,
                        q.reason
                    );
                }
            }
            if !json {
                println!("({} record(s) kept aside)", r.records.len());
            }
            Ok(())
        }
        PeerCommand::Remove { dir, country, json } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            c.remove_peer(pb::RemovePeerRequest {
                country: country.clone(),
            })
            .await?;
            if json {
                println!("{}", json!({ "removed": country.to_ascii_uppercase() }));
            } else {
                println!("removed partner {country}");
            }
            Ok(())
        }
        PeerCommand::RevokeKey {
            dir,
            country,
            key,
            from,
            compromised,
            json,
        } => {
            let mut c = crate::cli::client::connect(&dir.data_dir).await?;
            let p = c
                .revoke_peer_key(pb::RevokePeerKeyRequest {
                    country,
                    key,
                    from_ms: from.unwrap_or(0),
                    compromised,
                })
                .await?
                .into_inner();
            if json {
                println!("{}", peer_json(&p));
            } else {
                println!("{}", peer_line(&p));
            }
            Ok(())
        }
    }
}
