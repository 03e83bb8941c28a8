//! Renewing the node's exchange certificate and the national CRL in place (`kdesk tls
//! reload`, SIGHUP): the files at the configured paths are read and checked, and only when
//! all of them pass is the new certificate put in force for new connections, served and
//! made. Connections already open keep the certificate they were made with.

use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::Node;
use crate::federation::tls;
use crate::model::Note;
use crate::record::{AdminAction, AdminEvent, RecordKind};

/// What a reload put in force.
#[derive(Debug, Clone)]
pub struct TlsReloaded {
    /// The node certificate's serial number (hex).
    pub serial_hex: String,
    /// Its end of validity (seconds since the epoch).
    pub not_after: i64,
    /// The published CRL's nextUpdate (seconds since the epoch), when a CRL is published.
    pub crl_next_update: Option<i64>,
}

/// Why a reload was refused (the certificate in force stays).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// No `[exchange]` section: the node has no certificate.
    #[error("this node does not federate (no [exchange] section in kdesk.toml): no certificate to reload")]
    NotFederating,
    /// A file failed its check.
    #[error("{path}: {reason}; the certificate in force is kept")]
    Refused {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The new certificate is in force, but the admin event could not be stored.
    #[error("the new certificate is in force, but recording the reload in the log failed: {0}")]
    Record(String),
}

fn refused(path: &Path, reason: impl Into<String>) -> ReloadError {
    ReloadError::Refused {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Tolerated clock difference for a certificate's notBefore (seconds).
const CLOCK_SKEW_SECONDS: i64 = 300;

impl Node {
    /// Reads the node certificate, its key and the published CRL from the configured paths,
    /// checks them (identity of this node, clientAuth, in its validity period, issued by the
    /// national CA when `[exchange] ca` exists, key matching the certificate, CRL signed by
    /// the national CA), puts the new certificate in force for new connections and records
    /// an admin event.
    ///
    /// # Errors
    /// [`ReloadError`]: nothing changes unless every check passes.
    pub async fn reload_tls(&self) -> Result<TlsReloaded, ReloadError> {
        let (Some(ex), Some(live)) = (&self.config.exchange, &self.fed.identity) else {
            return Err(ReloadError::NotFederating);
        };
        let now = super::now_ms() / 1000;
        let pem =
            std::fs::read_to_string(&ex.cert).map_err(|e| refused(&ex.cert, e.to_string()))?;
        let chain = crate::pki::certs(&pem, "node certificate")
            .map_err(|e| refused(&ex.cert, e.to_string()))?;
        let leaf = &chain[0];
        let id = crate::pki::node_identity(leaf).map_err(|e| refused(&ex.cert, e.to_string()))?;
        if id != *self.origin() {
            return Err(refused(
                &ex.cert,
                format!("identifies {id}, but this node is {}", self.origin()),
            ));
        }
        crate::pki::check_client_auth_eku(leaf).map_err(|e| refused(&ex.cert, e.to_string()))?;
        let info = crate::pki::cert_info(leaf).map_err(|e| refused(&ex.cert, e.to_string()))?;
        if info.not_after <= now {
            return Err(refused(
                &ex.cert,
                format!("expired at {} (notAfter)", rfc3339(info.not_after)),
            ));
        }
        if info.not_before > now + CLOCK_SKEW_SECONDS {
            return Err(refused(
                &ex.cert,
                format!("not valid before {} (notBefore)", rfc3339(info.not_before)),
            ));
        }
        let ca_pem = match std::fs::read_to_string(&ex.ca) {
            Ok(p) => Some(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(refused(&ex.ca, e.to_string())),
        };
        if let Some(ca) = &ca_pem {
            crate::pki::check_issued_by(leaf, ca).map_err(|e| {
                refused(
                    &ex.cert,
                    format!("{e} (national CA file {})", ex.ca.display()),
                )
            })?;
        }
        let key =
            crate::pki::load_private_key(&ex.key).map_err(|e| refused(&ex.key, e.to_string()))?;
        let crl_next_update = match std::fs::read_to_string(&ex.crl) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(refused(&ex.crl, e.to_string())),
            Ok(crl) => {
                let Some(ca) = &ca_pem else {
                    return Err(refused(
                        &ex.crl,
                        format!(
                            "cannot be checked: the national CA certificate {} is missing",
                            ex.ca.display()
                        ),
                    ));
                };
                let c = crate::pki::check_crl(&crl, ca).map_err(|e| {
                    refused(
                        &ex.crl,
                        format!("{e} (national CA file {})", ex.ca.display()),
                    )
                })?;
                c.next_update
            }
        };
        let identity = tls::Identity {
            chain,
            key: std::sync::Arc::new(key),
        };
        live.replace(identity).map_err(|e| {
            refused(
                &ex.key,
                format!("does not match the certificate {}: {e}", ex.cert.display()),
            )
        })?;
        info!(
            serial = %info.serial_hex,
            not_after = %rfc3339(info.not_after),
            crl_next_update = %crl_next_update.map(rfc3339).unwrap_or_else(|| "none".into()),
            "exchange certificate reloaded: new connections present it"
        );
        let detail = format!(
            "node certificate reloaded: serial {}, valid until {}{}",
            info.serial_hex,
            rfc3339(info.not_after),
            crl_next_update
                .map(|t| format!("; published CRL next update {}", rfc3339(t)))
                .unwrap_or_default()
        );
        let detail: String = detail.chars().take(512).collect();
        let event = Note::parse(&detail).map(|detail| AdminEvent {
            action: AdminAction::TlsReloaded,
            country: self.origin().country,
            key_ids: Vec::new(),
            ca_sha256: ca_pem
                .as_deref()
                .and_then(|p| crate::pki::cert_sha256(p, "CA certificate").ok()),
            detail,
        });
        match event {
            Ok(e) => {
                if let Err(e) = self.record_trust_change(RecordKind::AdminEvent(e)).await {
                    warn!(cause = %e, "certificate reloaded, but the admin event was not stored");
                    return Err(ReloadError::Record(e.to_string()));
                }
            }
            Err(e) => return Err(ReloadError::Record(e.to_string())),
        }
        Ok(TlsReloaded {
            serial_hex: info.serial_hex,
            not_after: info.not_after,
            crl_next_update,
        })
    }
}

/// Seconds since the epoch as RFC 3339 (UTC).
pub(crate) fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} s"))
}
