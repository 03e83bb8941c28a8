//! Partners: registrations, replication cursors, quarantined records and remembered key
//! revocations.

use super::*;

/// A partner signing key revoked at some time (kept after its partner is removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedKey {
    /// The public key.
    pub key: [u8; 32],
    /// From when its records are untrusted (ms).
    pub from_ms: i64,
    /// Every record it signed is untrusted.
    pub compromised: bool,
    /// The partner it was registered for.
    pub country: CountryCode,
}

impl RevokedKey {
    pub(super) fn decode(key: &[u8; 32], v: &[u8]) -> Result<Self, StoreError> {
        let bad = || StoreError::Corrupt("revoked key entry".into());
        let from_ms = v
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
            .ok_or_else(bad)?;
        let compromised = *v.get(8).ok_or_else(bad)? != 0;
        let country = v
            .get(9..11)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| CountryCode::parse(s).ok())
            .ok_or_else(bad)?;
        Ok(Self {
            key: *key,
            from_ms,
            compromised,
            country,
        })
    }
}

/// `meta` key prefix of revoked signing keys (‖ public key, 32): why and from when.
pub(super) const REVOKED_KEY: &[u8] = b"revoked-key/";

/// Most records kept aside per partner (see [`Store::quarantine_put_all`]).
pub const MAX_QUARANTINE_PER_PEER: usize = 1000;

/// A record kept aside until the registry changes.
#[derive(Debug, Clone)]
pub struct Quarantined {
    /// The partner it came from.
    pub peer: CountryCode,
    /// Its id.
    pub id: RecordId,
    /// When it arrived (ms).
    pub received_at_ms: i64,
    /// Why it was refused.
    pub reason: String,
    /// The envelope as received.
    pub envelope: pb::Envelope,
}

impl Store {
    /// The next log position to ask a peer for.
    ///
    /// # Errors
    /// Storage failure.
    pub fn cursor(&self, peer: CountryCode) -> Result<u64, StoreError> {
        Ok(match self.cursors.get(peer.bytes())? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])),
            None => 0,
        })
    }

    /// Records the next log position to ask a peer for. Call only after the records before it
    /// are flushed; the cursor itself becomes durable with the next flush (losing it only
    /// causes harmless re-delivery).
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_cursor(&self, peer: CountryCode, next: u64) -> Result<(), StoreError> {
        self.cursors.insert(peer.bytes(), &next.to_be_bytes())?;
        Ok(())
    }

    /// Keeps aside records from `peer` refused for a reason an operator can fix (their key is
    /// not registered yet), to be judged again when the registry changes: (envelope, why,
    /// id) each. At most [`MAX_QUARANTINE_PER_PEER`] per partner; returns how many did not
    /// fit. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn quarantine_put_all(
        &self,
        peer: CountryCode,
        items: &[(Box<pb::Envelope>, String, RecordId)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if items.is_empty() {
            return Ok(0);
        }
        let mut held = self.quarantine.scan_prefix(peer.bytes()).keys().count();
        let mut dropped = 0;
        for (envelope, reason, id) in items {
            let mut key = peer.bytes().to_vec();
            key.extend_from_slice(&id.0);
            if self.quarantine.contains_key(&key)? {
                continue;
            }
            if held >= MAX_QUARANTINE_PER_PEER {
                dropped += 1;
                continue;
            }
            let reason = reason.as_bytes();
            let reason = &reason[..reason.len().min(255)];
            let mut v = now_ms.to_be_bytes().to_vec();
            v.push(reason.len() as u8);
            v.extend_from_slice(reason);
            envelope
                .encode(&mut v)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.quarantine.insert(key, v)?;
            held += 1;
        }
        Ok(dropped)
    }

    /// Records kept aside: (partner, id, received at ms, reason, envelope), of one partner or
    /// all.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn quarantined(&self, peer: Option<CountryCode>) -> Result<Vec<Quarantined>, StoreError> {
        let prefix: Vec<u8> = peer.map(|c| c.bytes().to_vec()).unwrap_or_default();
        self.quarantine
            .scan_prefix(prefix)
            .map(|kv| {
                let (k, v) = kv?;
                let bad = || StoreError::Corrupt("quarantine entry".into());
                let country = std::str::from_utf8(k.get(..2).ok_or_else(bad)?)
                    .ok()
                    .and_then(|s| CountryCode::parse(s).ok())
                    .ok_or_else(bad)?;
                let id = RecordId::from_slice(k.get(2..).ok_or_else(bad)?, "quarantine")
                    .map_err(|_| bad())?;
                let at = v
                    .get(..8)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(i64::from_be_bytes)
                    .ok_or_else(bad)?;
                let n = usize::from(*v.get(8).ok_or_else(bad)?);
                let reason = String::from_utf8_lossy(v.get(9..9 + n).ok_or_else(bad)?).into_owned();
                let envelope = pb::Envelope::decode(v.get(9 + n..).ok_or_else(bad)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Quarantined {
                    peer: country,
                    id,
                    received_at_ms: at,
                    reason,
                    envelope,
                })
            })
            .collect()
    }

    /// Forgets a quarantined record. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn quarantine_remove(&self, peer: CountryCode, id: &RecordId) -> Result<(), StoreError> {
        let mut key = peer.bytes().to_vec();
        key.extend_from_slice(&id.0);
        self.quarantine.remove(key)?;
        Ok(())
    }

    /// Remembers that a partner signing key was revoked, for good: a registration removed and
    /// added again cannot bring the key back, and records it signed stay marked. Keeps the
    /// tightest revocation seen. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_revoked_key(
        &self,
        key: &[u8; 32],
        from_ms: i64,
        compromised: bool,
        country: CountryCode,
    ) -> Result<(), StoreError> {
        let (from_ms, compromised) = match self.revoked_key(key)? {
            Some(old) => (old.from_ms.min(from_ms), old.compromised || compromised),
            None => (from_ms, compromised),
        };
        let mut k = REVOKED_KEY.to_vec();
        k.extend_from_slice(key);
        let mut v = from_ms.to_be_bytes().to_vec();
        v.push(u8::from(compromised));
        v.extend_from_slice(&country.bytes());
        self.meta.insert(k, v)?;
        Ok(())
    }

    /// A revoked signing key's revocation, if it was ever revoked.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn revoked_key(&self, key: &[u8; 32]) -> Result<Option<RevokedKey>, StoreError> {
        let mut k = REVOKED_KEY.to_vec();
        k.extend_from_slice(key);
        self.meta
            .get(k)?
            .map(|v| RevokedKey::decode(key, &v))
            .transpose()
    }

    /// Every signing key ever revoked.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn revoked_keys(&self) -> Result<Vec<RevokedKey>, StoreError> {
        self.meta
            .scan_prefix(REVOKED_KEY)
            .map(|kv| {
                let (k, v) = kv?;
                let key: [u8; 32] = k
                    .get(REVOKED_KEY.len()..)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("revoked key entry".into()))?;
                RevokedKey::decode(&key, &v)
            })
            .collect()
    }

    /// Stored peer registrations (JSON values by country).
    ///
    /// # Errors
    /// Storage failure.
    pub fn peers(&self) -> Result<Vec<(CountryCode, Vec<u8>)>, StoreError> {
        self.peers
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let c = std::str::from_utf8(&k)
                    .ok()
                    .and_then(|c| CountryCode::parse(c).ok())
                    .ok_or_else(|| StoreError::Corrupt("peer key".into()))?;
                Ok((c, v.to_vec()))
            })
            .collect()
    }

    /// Stores (replaces) a peer registration. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_peer(&self, country: CountryCode, json: &[u8]) -> Result<(), StoreError> {
        self.peers.insert(country.bytes(), json)?;
        Ok(())
    }

    /// Removes a peer registration and its cursor. Does not flush.
    ///
    /// # Errors
    /// Storage failure.
    pub fn remove_peer(&self, country: CountryCode) -> Result<bool, StoreError> {
        self.cursors.remove(country.bytes())?;
        // Records kept aside for the partner go with it.
        for k in self.quarantine.scan_prefix(country.bytes()).keys() {
            self.quarantine.remove(k?)?;
        }
        Ok(self.peers.remove(country.bytes())?.is_some())
    }
}
