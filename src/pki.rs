//! PKI for desks: national CAs, node certificates, CRLs, and node identity in certificates.
//!
//! Each country runs its own CA. A node certificate carries the node's identity as a URI
//! subject alternative name `kdesk://CC/node` (e.g. `kdesk://TH/bkk`) next to its DNS names
//! and IP addresses, and is valid for both TLS server and client authentication. A partner
//! accepts a certificate only when it chains to the CA registered for the country the URI
//! claims (see `federation::tls`). `certs/gen-dev-pki.sh` produces the same layout with
//! OpenSSL.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use crate::model::{CountryCode, NodeName};
use crate::record::Origin;

/// URI scheme of node identities in certificates.
pub const IDENTITY_SCHEME: &str = "kdesk://";

/// PKI failure.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PEM file did not hold what was expected.
    #[error("{what}: {reason}")]
    Pem {
        /// What was being read.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// The certificate carries no (or a malformed) kdesk identity.
    #[error("certificate identity: {0}")]
    Identity(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A key file is readable by others.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
}

/// A certificate and its private key, PEM-encoded.
pub struct Issued {
    /// Certificate (PEM).
    pub cert_pem: String,
    /// Private key (PKCS#8 PEM).
    pub key_pem: String,
}

fn serial() -> Result<SerialNumber, PkiError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| PkiError::Identity(format!("random: {e}")))?;
    b[0] &= 0x7f; // positive
    Ok(SerialNumber::from_slice(&b))
}

/// Makes a national CA for `country`: self-signed, may sign node certificates and CRLs only
/// (path length 0), valid ten years.
///
/// # Errors
/// Generation failure.
pub fn make_ca(country: CountryCode) -> Result<Issued, PkiError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, country.as_str());
    dn.push(DnType::OrganizationName, format!("kdesk desk {country}"));
    dn.push(DnType::CommonName, format!("kdesk {country} desk CA"));
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.serial_number = Some(serial()?);
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(3652);
    p.key_identifier_method = KeyIdMethod::Sha256;
    let key = KeyPair::generate()?;
    let cert = p.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Makes a node certificate signed by a national CA: URI SAN `kdesk://CC/node`, the given
/// host names and IP addresses, server and client authentication, valid two years.
///
/// # Errors
/// The CA files do not parse, the CA belongs to another country, or generation fails.
pub fn make_node_cert(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    country: CountryCode,
    node: &NodeName,
    hosts: &[String],
) -> Result<Issued, PkiError> {
    let ca_country = ca_country(ca_cert_pem)?;
    if ca_country != Some(country) {
        return Err(PkiError::Identity(format!(
            "the CA is for {}, not {country}: a national CA only certifies its own nodes",
            ca_country.map_or("an unknown country".to_owned(), |c| c.to_string())
        )));
    }
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, country.as_str());
    dn.push(DnType::OrganizationName, format!("kdesk desk {country}"));
    dn.push(DnType::CommonName, format!("{country}/{node}"));
    p.distinguished_name = dn;
    let mut sans = vec![SanType::URI(
        format!("{IDENTITY_SCHEME}{country}/{node}")
            .try_into()
            .map_err(|e: rcgen::Error| PkiError::Generate(e))?,
    )];
    for h in hosts {
        match h.parse::<IpAddr>() {
            Ok(ip) => sans.push(SanType::IpAddress(ip)),
            Err(_) => sans.push(SanType::DnsName(h.as_str().try_into()?)),
        }
    }
    p.subject_alt_names = sans;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    p.serial_number = Some(serial()?);
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(730);
    let key = KeyPair::generate()?;
    let cert = p.signed_by(&key, &issuer)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Makes a CRL from a CA revoking the given certificates (PEM), valid 30 days.
///
/// # Errors
/// Unparseable CA or certificate, or generation failure.
pub fn make_crl(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    revoked: &[String],
) -> Result<String, PkiError> {
    make_crl_for(ca_cert_pem, ca_key_pem, revoked, 30)
}

/// [`make_crl`] with its next update `days` from now.
///
/// # Errors
/// As [`make_crl`].
pub fn make_crl_for(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    revoked: &[String],
    days: i64,
) -> Result<String, PkiError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)?;
    let now = OffsetDateTime::now_utc();
    let mut revoked_certs = vec![];
    for pem in revoked {
        let der = first_cert(pem, "certificate to revoke")?;
        let (_, cert) =
            x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| PkiError::Pem {
                what: "certificate to revoke".into(),
                reason: e.to_string(),
            })?;
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(cert.raw_serial()),
            revocation_time: now,
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update: now + Duration::days(days),
        crl_number: SerialNumber::from_slice(&now.unix_timestamp().to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(&issuer)?.pem()?)
}

/// The first certificate in a PEM text.
///
/// # Errors
/// No certificate in the text.
pub fn first_cert(pem: &str, what: &str) -> Result<CertificateDer<'static>, PkiError> {
    certs(pem, what)?
        .into_iter()
        .next()
        .ok_or_else(|| PkiError::Pem {
            what: what.into(),
            reason: "no CERTIFICATE block".into(),
        })
}

/// Every PEM block of type `T` in a text (at least one).
fn pem_items<T: PemObject>(pem: &str, what: &str, block: &str) -> Result<Vec<T>, PkiError> {
    let v = T::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem {
            what: what.into(),
            reason: e.to_string(),
        })?;
    if v.is_empty() {
        return Err(PkiError::Pem {
            what: what.into(),
            reason: format!("no {block} block"),
        });
    }
    Ok(v)
}

/// Every certificate in a PEM text (at least one).
///
/// # Errors
/// Malformed PEM or no certificate.
pub fn certs(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    pem_items(pem, what, "CERTIFICATE")
}

/// Every CRL in a PEM text (at least one).
///
/// # Errors
/// Malformed PEM or no CRL.
pub fn crls(pem: &str, what: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, PkiError> {
    pem_items(pem, what, "X509 CRL")
}

/// A private key file, refused when readable by group or others.
///
/// # Errors
/// Missing, loose permissions, or not a PEM private key.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    crate::keys::check_private_mode(path)?;
    let pem = std::fs::read(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| PkiError::Pem {
        what: path.display().to_string(),
        reason: format!("not a PEM private key: {e}"),
    })
}

/// The node identity (`kdesk://CC/node` URI SAN) of a certificate.
///
/// # Errors
/// Unparseable certificate, no kdesk URI, more than one, or a malformed one.
pub fn node_identity(cert: &CertificateDer<'_>) -> Result<Origin, PkiError> {
    let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| PkiError::Identity(format!("certificate does not parse: {e}")))?;
    let san = c
        .subject_alternative_name()
        .map_err(|e| PkiError::Identity(format!("bad subjectAltName: {e}")))?
        .ok_or_else(|| PkiError::Identity("no subjectAltName extension".into()))?;
    let mut found = None;
    for name in &san.value.general_names {
        if let x509_parser::extensions::GeneralName::URI(uri) = name {
            let Some(rest) = uri
                .get(..IDENTITY_SCHEME.len())
                .filter(|p| p.eq_ignore_ascii_case(IDENTITY_SCHEME))
                .map(|_| &uri[IDENTITY_SCHEME.len()..])
            else {
                continue;
            };
            if found.is_some() {
                return Err(PkiError::Identity("more than one kdesk:// identity".into()));
            }
            found =
                Some(Origin::parse(rest).map_err(|e| PkiError::Identity(format!("{uri}: {e}")))?);
        }
    }
    found.ok_or_else(|| PkiError::Identity("no kdesk://COUNTRY/node URI in subjectAltName".into()))
}

/// Requires the extended key usage extension with clientAuth (a node certificate made for
/// the exchange; see certs/README.md).
///
/// # Errors
/// Unparseable certificate, no EKU extension, or no clientAuth in it.
pub fn check_client_auth_eku(cert: &CertificateDer<'_>) -> Result<(), PkiError> {
    let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| PkiError::Identity(format!("certificate does not parse: {e}")))?;
    match c.extended_key_usage() {
        Ok(Some(eku)) if eku.value.client_auth => Ok(()),
        Ok(Some(_)) => Err(PkiError::Identity(
            "extendedKeyUsage does not include clientAuth".into(),
        )),
        Ok(None) => Err(PkiError::Identity(
            "no extendedKeyUsage extension (clientAuth is required)".into(),
        )),
        Err(e) => Err(PkiError::Identity(format!("bad extendedKeyUsage: {e}"))),
    }
}

/// SHA-256 of the first certificate of a PEM text.
///
/// # Errors
/// Unparseable PEM.
pub fn cert_sha256(pem: &str, what: &str) -> Result<[u8; 32], PkiError> {
    use sha2::Digest;
    Ok(sha2::Sha256::digest(first_cert(pem, what)?.as_ref()).into())
}

/// What a checked CRL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// When it was issued (seconds since the epoch).
    pub this_update: i64,
    /// When the next one is due (seconds), if it says.
    pub next_update: Option<i64>,
    /// Certificates it revokes.
    pub revoked: usize,
    /// Their serial numbers, sorted.
    pub serials: Vec<Vec<u8>>,
}

/// Checks a CRL (PEM) against a CA certificate (PEM): issued by that CA (issuer name and
/// signature), already in force.
///
/// # Errors
/// Unparseable, another issuer, a bad signature, or issued in the future.
pub fn check_crl(crl_pem: &str, ca_pem: &str) -> Result<CrlInfo, PkiError> {
    let mut all = crls(crl_pem, "CRL")?;
    if all.len() != 1 {
        return Err(PkiError::Identity(format!(
            "the CRL file holds {} CRLs; one is expected",
            all.len()
        )));
    }
    let der = all.remove(0);
    let (_, crl) = x509_parser::parse_x509_crl(der.as_ref()).map_err(|e| PkiError::Pem {
        what: "CRL".into(),
        reason: e.to_string(),
    })?;
    with_ca(ca_pem, |ca| {
        if crl.issuer() != ca.subject() {
            return Err(PkiError::Identity(format!(
                "the CRL is issued by {}, not by the registered CA {}",
                crl.issuer(),
                ca.subject()
            )));
        }
        crl.verify_signature(ca.public_key()).map_err(|e| {
            PkiError::Identity(format!(
                "the CRL's signature does not verify with the CA's key: {e}"
            ))
        })
    })?;
    let this_update = crl.last_update().timestamp();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if this_update > now + 300 {
        return Err(PkiError::Identity(
            "the CRL is issued in the future (thisUpdate)".into(),
        ));
    }
    let mut serials: Vec<Vec<u8>> = crl
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    serials.sort();
    Ok(CrlInfo {
        this_update,
        next_update: crl.next_update().map(|t| t.timestamp()),
        revoked: serials.len(),
        serials,
    })
}

/// The end of a certificate's validity (seconds since the epoch).
///
/// # Errors
/// Unparseable PEM or certificate.
pub fn cert_not_after(pem: &str, what: &str) -> Result<i64, PkiError> {
    let der = first_cert(pem, what)?;
    let (_, c) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| PkiError::Pem {
        what: what.into(),
        reason: e.to_string(),
    })?;
    Ok(c.validity().not_after.timestamp())
}

/// The country (C=) of a certificate's subject, if any.
///
/// # Errors
/// Unparseable PEM or certificate.
pub fn ca_country(pem: &str) -> Result<Option<CountryCode>, PkiError> {
    let der = first_cert(pem, "CA certificate")?;
    let (_, c) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| PkiError::Pem {
        what: "CA certificate".into(),
        reason: e.to_string(),
    })?;
    let country = c
        .subject()
        .iter_country()
        .next()
        .and_then(|a| a.as_str().ok())
        .and_then(|s| CountryCode::parse(s).ok());
    Ok(country)
}

/// Checks a registered partner CA: a parseable CA certificate for the expected country.
///
/// # Errors
/// Not a CA, expired, or its subject names another country.
pub fn check_partner_ca(pem: &str, country: CountryCode) -> Result<String, PkiError> {
    let all = certs(pem, "CA certificate")?;
    if all.len() != 1 {
        return Err(PkiError::Identity(format!(
            "the CA file holds {} certificates; give exactly the partner's national CA \
             certificate (every certificate in it would be trusted as that country's CA)",
            all.len()
        )));
    }
    let der = first_cert(pem, "CA certificate")?;
    let (_, c) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| PkiError::Pem {
        what: "CA certificate".into(),
        reason: e.to_string(),
    })?;
    if !c.is_ca() {
        return Err(PkiError::Identity(
            "the CA certificate is not a CA (basicConstraints CA:TRUE is required)".into(),
        ));
    }
    match c.key_usage() {
        Ok(Some(ku)) if ku.value.key_cert_sign() => {}
        Ok(Some(_)) => {
            return Err(PkiError::Identity(
                "the CA certificate's keyUsage does not include keyCertSign".into(),
            ))
        }
        Ok(None) => {
            return Err(PkiError::Identity(
                "the CA certificate has no keyUsage extension (keyCertSign is required)".into(),
            ))
        }
        Err(e) => return Err(PkiError::Identity(format!("bad keyUsage: {e}"))),
    }
    if !c.validity().is_valid() {
        return Err(PkiError::Identity(
            "the CA certificate is expired or not yet valid".into(),
        ));
    }
    match ca_country(pem)? {
        Some(cc) if cc != country => Err(PkiError::Identity(format!(
            "the CA certificate is for {cc}, not {country}"
        ))),
        Some(_) => Ok(c.subject().to_string()),
        None => Err(PkiError::Identity(format!(
            "the CA certificate's subject names no country (C={country} is required, so its \
             certificates cannot be taken for another country's)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_cert_carries_identity_and_checks_ca_country() {
        let th = CountryCode::parse("TH").unwrap();
        let ca = make_ca(th).unwrap();
        assert_eq!(ca_country(&ca.cert_pem).unwrap(), Some(th));
        let node = NodeName::parse("bkk").unwrap();
        let n = make_node_cert(
            &ca.cert_pem,
            &ca.key_pem,
            th,
            &node,
            &["localhost".into(), "127.0.0.1".into()],
        )
        .unwrap();
        let id = node_identity(&first_cert(&n.cert_pem, "node").unwrap()).unwrap();
        assert_eq!(id.to_string(), "TH/bkk");
        let kr = CountryCode::parse("KR").unwrap();
        assert!(make_node_cert(&ca.cert_pem, &ca.key_pem, kr, &node, &[]).is_err());
        assert!(check_partner_ca(&ca.cert_pem, th).is_ok());
        assert!(check_partner_ca(&ca.cert_pem, kr).is_err());
        assert!(
            check_partner_ca(&n.cert_pem, th).is_err(),
            "node cert is not a CA"
        );
        let crl = make_crl(&ca.cert_pem, &ca.key_pem, std::slice::from_ref(&n.cert_pem)).unwrap();
        assert_eq!(crls(&crl, "crl").unwrap().len(), 1);
        let info = check_crl(&crl, &ca.cert_pem).unwrap();
        assert_eq!(info.revoked, 1);
        assert!(info.next_update.is_some_and(|n| n > info.this_update));
        // Another CA of the same country cannot sign it.
        let other = make_ca(th).unwrap();
        assert!(check_crl(&crl, &other.cert_pem).is_err());
        let forged = make_crl(&other.cert_pem, &other.key_pem, &[]).unwrap();
        assert!(check_crl(&forged, &ca.cert_pem).is_err());
        // A CA certificate has no kdesk identity.
        assert!(node_identity(&first_cert(&ca.cert_pem, "ca").unwrap()).is_err());
    }
}

/// Serial number and validity of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Serial number, hex.
    pub serial_hex: String,
    /// Start of validity (seconds since the epoch).
    pub not_before: i64,
    /// End of validity (seconds since the epoch).
    pub not_after: i64,
}

/// Serial number and validity of a certificate.
///
/// # Errors
/// The certificate does not parse.
pub fn cert_info(cert: &CertificateDer<'_>) -> Result<CertInfo, PkiError> {
    let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| PkiError::Identity(format!("certificate does not parse: {e}")))?;
    Ok(CertInfo {
        serial_hex: hex::encode(c.raw_serial()),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
    })
}

/// Checks that `cert` was issued by the CA certificate `ca_pem` (issuer name and signature).
///
/// # Errors
/// Unparseable certificates, another issuer, or a signature that does not verify.
pub fn check_issued_by(cert: &CertificateDer<'_>, ca_pem: &str) -> Result<(), PkiError> {
    let (_, c) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| PkiError::Identity(format!("certificate does not parse: {e}")))?;
    with_ca(ca_pem, |ca| {
        if c.issuer() != ca.subject() {
            return Err(PkiError::Identity(format!(
                "issued by {}, not by the national CA {}",
                c.issuer(),
                ca.subject()
            )));
        }
        c.verify_signature(Some(ca.public_key())).map_err(|e| {
            PkiError::Identity(format!(
                "its signature does not verify with the national CA's key: {e}"
            ))
        })
    })
}

/// Parses the (first) CA certificate of `ca_pem` and hands it to `f`.
fn with_ca<T>(
    ca_pem: &str,
    f: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> Result<T, PkiError>,
) -> Result<T, PkiError> {
    let ca_der = first_cert(ca_pem, "CA certificate")?;
    let (_, ca) =
        x509_parser::parse_x509_certificate(ca_der.as_ref()).map_err(|e| PkiError::Pem {
            what: "CA certificate".into(),
            reason: e.to_string(),
        })?;
    f(&ca)
}
