//! Registered partner desks: endpoint, national CA with CRLs, signing keys.
//!
//! Registrations are stored in the `peers` tree as JSON ([`PeerEntry`]) and compiled into a
//! [`Registry`] held in memory behind a lock, read on every TLS handshake and every record
//! received, so that `kdesk peer add/remove/revoke-key` take effect at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use rustls::client::WebPkiServerVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::model::{CountryCode, FieldError};
use crate::pki;
use crate::record::KeyId;

/// A partner registration as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// Partner country.
    pub country: CountryCode,
    /// `https://HOST:PORT` of its exchange service.
    pub endpoint: String,
    /// Its national CA certificate (PEM).
    pub ca_pem: String,
    /// CRLs issued by that CA (PEM).
    #[serde(default)]
    pub crl_pems: Vec<String>,
    /// Its signing keys.
    pub keys: Vec<PeerKey>,
    /// Registration time (ms).
    pub added_at_ms: i64,
}

/// A partner signing key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerKey {
    /// 64 hex digits.
    pub public_key: String,
    /// When registered (ms).
    pub added_at_ms: i64,
    /// From when the key is untrusted (ms): records it signed from then on are refused, and
    /// stored ones are marked `key-revoked`.
    #[serde(default)]
    pub revoked_at_ms: Option<i64>,
    /// The key was compromised: every record it ever signed is untrusted, whatever time the
    /// record claims.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compromised: bool,
    /// Announced by the partner under its current key and not yet confirmed by an admin:
    /// records it signs are kept aside (quarantined) until then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// A key's revocation: records it signed at or after `from_ms` (all of them when
/// `compromised`) are untrusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// From when (ms).
    pub from_ms: i64,
    /// Every record, whatever its time.
    pub compromised: bool,
}

impl Revocation {
    /// Whether a record created at `created_at_ms` and signed with the key is untrusted.
    pub fn covers(&self, created_at_ms: i64) -> bool {
        self.compromised || created_at_ms >= self.from_ms
    }
}

/// Revoked keys by key id (a snapshot of the registry's).
pub type Revocations = HashMap<KeyId, Revocation>;

/// Whether the key that signed `envelope` is revoked for a record created at `created_at_ms`.
pub fn revoked_for(revs: &Revocations, envelope: &crate::pb::Envelope, created_at_ms: i64) -> bool {
    <[u8; 32]>::try_from(envelope.key_id.as_slice())
        .ok()
        .and_then(|k| revs.get(&KeyId(k)))
        .is_some_and(|r| r.covers(created_at_ms))
}

/// Host and port of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP literal.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Endpoint {
    /// Parses `https://HOST:PORT`.
    ///
    /// # Errors
    /// Another scheme, no port, or a path.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let bad = |why: &str| {
            FieldError::new(
                "endpoint",
                format!("{s:?} {why}; expected https://HOST:PORT"),
            )
        };
        let rest = s
            .strip_prefix("https://")
            .ok_or_else(|| bad("is not https"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('@') || rest.contains('?') {
            return Err(bad("has a path or credentials"));
        }
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        let port: u16 = port.parse().map_err(|_| bad("has an invalid port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || port == 0 {
            return Err(bad("has no host or port 0"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// A registration checked and ready for use.
pub struct CompiledPeer {
    /// The stored registration.
    pub entry: PeerEntry,
    /// Parsed endpoint.
    pub endpoint: Endpoint,
    /// Subject of the CA certificate.
    pub ca_subject: String,
    /// Verifies client certificates presented by this partner's nodes.
    pub client_verifier: Arc<dyn ClientCertVerifier>,
    /// Verifies the server certificate of this partner's node.
    pub server_verifier: Arc<WebPkiServerVerifier>,
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// A field is invalid.
    #[error("{0}")]
    Field(#[from] FieldError),
}

fn field(name: &str, e: impl std::fmt::Display) -> PeerError {
    PeerError::Field(FieldError::new(name, e.to_string()))
}

impl CompiledPeer {
    /// Checks every part of a registration: endpoint, CA (a CA, valid, of that country),
    /// CRLs, and signing keys (well-formed, canonical, not weak).
    ///
    /// # Errors
    /// The first invalid part, named as the CLI flag that carries it.
    pub fn compile(
        entry: PeerEntry,
        provider: &Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, PeerError> {
        let endpoint = Endpoint::parse(&entry.endpoint)?;
        let ca_subject =
            pki::check_partner_ca(&entry.ca_pem, entry.country).map_err(|e| field("ca", e))?;
        let mut roots = RootCertStore::empty();
        for c in pki::certs(&entry.ca_pem, "ca").map_err(|e| field("ca", e))? {
            roots.add(c).map_err(|e| field("ca", e))?;
        }
        let roots = Arc::new(roots);
        let mut crls = vec![];
        for (i, pem) in entry.crl_pems.iter().enumerate() {
            // Signed by this CA (a CRL of another issuer would be ignored, or fail every
            // handshake).
            pki::check_crl(pem, &entry.ca_pem).map_err(|e| field(&format!("crl[{i}]"), e))?;
            crls.extend(pki::crls(pem, "crl").map_err(|e| field(&format!("crl[{i}]"), e))?);
        }
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .with_crls(crls.clone())
                .only_check_end_entity_revocation()
                .allow_unknown_revocation_status()
                .build()
                .map_err(|e| field("crl", e))?;
        let server_verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .with_crls(crls)
            .only_check_end_entity_revocation()
            .allow_unknown_revocation_status()
            .build()
            .map_err(|e| field("crl", e))?;
        if entry.keys.is_empty() {
            return Err(field("signing-key", "at least one signing key is required"));
        }
        for (i, k) in entry.keys.iter().enumerate() {
            keys::parse_public_key(&k.public_key)
                .map_err(|e| field(&format!("signing-key[{i}]"), e))?;
        }
        Ok(Self {
            entry,
            endpoint,
            ca_subject,
            client_verifier,
            server_verifier,
        })
    }
}

/// Every registered partner, compiled.
#[derive(Default)]
pub struct Registry {
    peers: BTreeMap<CountryCode, Arc<CompiledPeer>>,
    keys: HashMap<KeyId, (CountryCode, VerifyingKey)>,
    revoked: Revocations,
    /// Keys revoked at some time, kept after their partner is removed.
    remembered: Revocations,
}

impl CompiledPeer {
    /// The partner's signing keys that are not revoked.
    pub fn active_keys(&self) -> Vec<VerifyingKey> {
        self.entry
            .keys
            .iter()
            .filter(|k| k.revoked_at_ms.is_none() && !k.pending)
            .filter_map(|k| keys::parse_public_key(&k.public_key).ok())
            .collect()
    }
}

/// The registry shared by the TLS verifiers, the exchange service and the replicators.
pub type SharedRegistry = Arc<RwLock<Registry>>;

impl Registry {
    /// Adds or replaces a partner.
    pub fn insert(&mut self, peer: CompiledPeer) {
        self.insert_shared(Arc::new(peer));
    }

    /// [`Registry::insert`] of a shared registration.
    pub fn insert_shared(&mut self, peer: Arc<CompiledPeer>) {
        let country = peer.entry.country;
        self.peers.insert(country, peer);
        self.rebuild_keys();
    }

    /// Removes a partner.
    pub fn remove(&mut self, country: CountryCode) -> bool {
        let removed = self.peers.remove(&country).is_some();
        self.rebuild_keys();
        removed
    }

    fn rebuild_keys(&mut self) {
        self.keys.clear();
        self.revoked.clear();
        for (c, p) in &self.peers {
            // A pending key verifies nothing until it is confirmed.
            for k in p.entry.keys.iter().filter(|k| !k.pending) {
                // Checked at compile time; a key that no longer parses is simply not usable.
                if let Ok(vk) = keys::parse_public_key(&k.public_key) {
                    let id = KeyId::of(&vk);
                    self.keys.insert(id, (*c, vk));
                    if let Some(from_ms) = k.revoked_at_ms {
                        self.revoked.insert(
                            id,
                            Revocation {
                                from_ms,
                                compromised: k.compromised,
                            },
                        );
                    }
                }
            }
        }
    }

    /// The revocation of a key, if it is revoked (by its registration or remembered; the
    /// tighter of the two).
    pub fn revocation(&self, id: &KeyId) -> Option<Revocation> {
        match (self.revoked.get(id), self.remembered.get(id)) {
            (Some(a), Some(b)) => Some(Revocation {
                from_ms: a.from_ms.min(b.from_ms),
                compromised: a.compromised || b.compromised,
            }),
            (a, b) => a.or(b).copied(),
        }
    }

    /// Every revoked key: those of registered partners and those remembered after their
    /// partner was removed (the tighter revocation where both exist).
    pub fn revocations(&self) -> Revocations {
        let mut all = self.remembered.clone();
        for (id, r) in &self.revoked {
            all.entry(*id)
                .and_modify(|m| {
                    m.from_ms = m.from_ms.min(r.from_ms);
                    m.compromised |= r.compromised;
                })
                .or_insert(*r);
        }
        all
    }

    /// Remembers a revoked key (see [`crate::store::Store::revoked_keys`]).
    pub fn remember_revocation(&mut self, id: KeyId, r: Revocation) {
        self.remembered.insert(id, r);
    }

    /// A partner.
    pub fn peer(&self, country: CountryCode) -> Option<Arc<CompiledPeer>> {
        self.peers.get(&country).cloned()
    }

    /// Every partner.
    pub fn peers(&self) -> Vec<Arc<CompiledPeer>> {
        self.peers.values().cloned().collect()
    }

    /// The partner a signing key is registered for (revoked keys included: a key is never
    /// moved from one partner to another).
    pub fn key_owner(&self, key: &VerifyingKey) -> Option<CountryCode> {
        self.peers.values().find_map(|p| {
            p.entry
                .keys
                .iter()
                .filter_map(|k| keys::parse_public_key(&k.public_key).ok())
                .any(|k| k == *key)
                .then_some(p.entry.country)
        })
    }

    /// The partner whose CA certificate has this SHA-256 (a CA serves one country).
    pub fn ca_owner(&self, sha256: &[u8; 32]) -> Option<CountryCode> {
        self.peers.values().find_map(|p| {
            (pki::cert_sha256(&p.entry.ca_pem, "ca").ok().as_ref() == Some(sha256))
                .then_some(p.entry.country)
        })
    }

    /// A registered signing key (revoked ones too: check [`Registry::revocation`] against the
    /// record's time) and the country it is registered for.
    pub fn key(&self, id: &KeyId) -> Option<(CountryCode, VerifyingKey)> {
        self.keys.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("https://127.0.0.1:7443").unwrap(),
            Endpoint {
                host: "127.0.0.1".into(),
                port: 7443
            }
        );
        assert_eq!(Endpoint::parse("https://[::1]:7443/").unwrap().host, "::1");
        for bad in [
            "http://a:1",
            "https://a",
            "https://a:0",
            "https://a:1/x",
            "https://:1",
            "https://a:99999",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
