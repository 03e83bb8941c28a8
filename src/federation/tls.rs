//! rustls configurations for the exchange service: TLS 1.3 only, client certificates
//! mandatory, each certificate checked against the CA registered for the country its
//! `kdesk://CC/node` identity claims (with that CA's CRLs).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, Error, ServerConfig, SignatureScheme,
};

use super::registry::SharedRegistry;
use crate::model::CountryCode;
use crate::pki;

/// The one crypto provider kdesk uses (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Marks handshake errors raised (and already counted) by this node's certificate checks.
pub const REFUSAL_MARK: &str = "kdesk refused the certificate:";

/// Verifies client certificates against the registry.
struct PeerClientVerifier {
    registry: SharedRegistry,
    provider: Arc<CryptoProvider>,
    refused: Arc<super::Refusals>,
}

impl std::fmt::Debug for PeerClientVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerClientVerifier").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for super::registry::Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl PeerClientVerifier {
    fn refuse(&self, reason: &'static str, detail: String) -> Error {
        // Counted here by reason; logged by the listener, summarised per source.
        self.refused.count(reason);
        Error::General(format!("{REFUSAL_MARK} {reason}: {detail}"))
    }
}

/// Checks a presented client certificate against the registry as it is now: an identity of
/// a registered country, the clientAuth EKU, a chain to that country's CA, not revoked.
/// Used at the handshake and again for live connections whenever the registry changes.
///
/// # Errors
/// (reason, detail) of the first check that fails.
pub fn check_client_chain(
    registry: &SharedRegistry,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<crate::record::Origin, (&'static str, String)> {
    let id = pki::node_identity(end_entity).map_err(|e| ("no kdesk identity", e.to_string()))?;
    pki::check_client_auth_eku(end_entity)
        .map_err(|e| ("not a client certificate", format!("{id}: {e}")))?;
    let reg = registry
        .read()
        .map_err(|_| ("registry unavailable", String::new()))?;
    let peer = reg.peer(id.country).ok_or_else(|| {
        (
            "partner not registered",
            format!("{id}: no partner CA registered for {}", id.country),
        )
    })?;
    peer.client_verifier
        .verify_client_cert(end_entity, intermediates, now)
        .map_err(|e| {
            let reason = if e.to_string().to_ascii_lowercase().contains("revoked") {
                "certificate revoked"
            } else {
                "does not chain to the partner's CA"
            };
            (reason, format!("{id}: {e}"))
        })?;
    Ok(id)
}

impl ClientCertVerifier for PeerClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        check_client_chain(&self.registry, end_entity, intermediates, now)
            .map(|_| ClientCertVerified::assertion())
            .map_err(|(reason, detail)| self.refuse(reason, detail))
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::General("TLS 1.2 is not accepted".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifies a partner node's server certificate: chain to that partner's CA (with CRLs), host
/// name, and a `kdesk://` identity of the expected country.
#[derive(Debug)]
struct PeerServerVerifier {
    inner: Arc<WebPkiServerVerifier>,
    expected: CountryCode,
}

impl ServerCertVerifier for PeerServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let v = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        let id = pki::node_identity(end_entity).map_err(|e| Error::General(e.to_string()))?;
        if id.country != self.expected {
            return Err(Error::General(format!(
                "server identifies as {id}, expected a {} node",
                self.expected
            )));
        }
        Ok(v)
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::General("TLS 1.2 is not accepted".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// This node's TLS identity: certificate chain and key.
#[derive(Clone)]
pub struct Identity {
    /// Node certificate (and any intermediates).
    pub chain: Vec<CertificateDer<'static>>,
    /// Private key.
    pub key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    /// Loads a certificate chain (PEM) and its private key (PEM, refused when readable by
    /// others), as a node does at start.
    ///
    /// # Errors
    /// An unreadable or malformed file, or a key readable by others.
    pub fn load(cert: &std::path::Path, key: &std::path::Path) -> Result<Self, pki::PkiError> {
        let pem = std::fs::read_to_string(cert)
            .map_err(|e| pki::PkiError::Identity(format!("{}: {e}", cert.display())))?;
        Ok(Self {
            chain: pki::certs(&pem, &cert.display().to_string())?,
            key: Arc::new(pki::load_private_key(key)?),
        })
    }
}

/// This node's TLS identity as it is now: replaced in place when the certificate is renewed
/// (`kdesk tls reload`, SIGHUP), so new connections, served and made, present the new one
/// while connections already open keep theirs.
pub struct LiveIdentity {
    current: std::sync::RwLock<(Identity, Arc<CertifiedKey>)>,
}

impl std::fmt::Debug for LiveIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveIdentity").finish_non_exhaustive()
    }
}

/// The certificate chain and signing key rustls presents for `identity`.
fn certified(identity: &Identity) -> Result<Arc<CertifiedKey>, Error> {
    let key = provider()
        .key_provider
        .load_private_key(identity.key.clone_key())?;
    let ck = CertifiedKey::new(identity.chain.clone(), key);
    // Refuses a key that does not belong to the certificate.
    ck.keys_match()?;
    Ok(Arc::new(ck))
}

impl LiveIdentity {
    /// Wraps a loaded identity.
    ///
    /// # Errors
    /// The key is not usable or does not match the certificate.
    pub fn new(identity: Identity) -> Result<Self, Error> {
        let ck = certified(&identity)?;
        Ok(Self {
            current: std::sync::RwLock::new((identity, ck)),
        })
    }

    /// The identity in force now (for a new outgoing connection).
    pub fn current(&self) -> Identity {
        match self.current.read() {
            Ok(c) => c.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// Puts `identity` in force for new connections.
    ///
    /// # Errors
    /// The key is not usable or does not match the certificate; the old identity stays.
    pub fn replace(&self, identity: Identity) -> Result<(), Error> {
        let ck = certified(&identity)?;
        match self.current.write() {
            Ok(mut c) => *c = (identity, ck),
            Err(poisoned) => *poisoned.into_inner() = (identity, ck),
        }
        Ok(())
    }

    fn certified_key(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(c) => c.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }
}

impl ResolvesServerCert for LiveIdentity {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified_key())
    }
}

/// Server configuration of the exchange port, presenting whatever `identity` holds at each
/// handshake.
///
/// # Errors
/// The provider refuses the settings.
pub fn server_config_live(
    registry: SharedRegistry,
    identity: Arc<LiveIdentity>,
    refused: Arc<super::Refusals>,
) -> Result<ServerConfig, Error> {
    let cfg = server_builder(registry, refused)?.with_cert_resolver(identity);
    Ok(harden(cfg))
}

/// Server configuration of the TAXII listener (docs/STIX.md): the exchange's certificate and
/// client-certificate checks, for HTTP/1.1.
///
/// # Errors
/// The provider refuses the settings.
pub fn taxii_server_config(
    registry: SharedRegistry,
    identity: Arc<LiveIdentity>,
    refused: Arc<super::Refusals>,
) -> Result<ServerConfig, Error> {
    let mut cfg = harden(server_builder(registry, refused)?.with_cert_resolver(identity));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// TLS 1.3 only, client certificates checked against the registry.
fn server_builder(
    registry: SharedRegistry,
    refused: Arc<super::Refusals>,
) -> Result<rustls::ConfigBuilder<ServerConfig, rustls::server::WantsServerCert>, Error> {
    let provider = provider();
    let verifier = Arc::new(PeerClientVerifier {
        registry,
        provider: provider.clone(),
        refused,
    });
    Ok(ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier))
}

/// Server configuration of the exchange port.
///
/// # Errors
/// The certificate and key do not match, or the provider refuses the settings.
pub fn server_config(
    registry: SharedRegistry,
    identity: &Identity,
    refused: Arc<super::Refusals>,
) -> Result<ServerConfig, Error> {
    let cfg = server_builder(registry, refused)?
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
    Ok(harden(cfg))
}

/// ALPN h2 and no session resumption, for every exchange server configuration.
fn harden(mut cfg: ServerConfig) -> ServerConfig {
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    // No session resumption: a resumed session skips the client certificate check, so a
    // partner removed or a certificate revoked since would get back in.
    cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    cfg.send_tls13_tickets = 0;
    cfg
}

/// Client configuration for connecting to one partner.
///
/// # Errors
/// The certificate and key do not match.
pub fn client_config(
    expected: CountryCode,
    server_verifier: Arc<WebPkiServerVerifier>,
    identity: &Identity,
) -> Result<ClientConfig, Error> {
    let mut cfg = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PeerServerVerifier {
            inner: server_verifier,
            expected,
        }))
        .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}
