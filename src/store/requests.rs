//! Issuing requests: each request id with the fingerprint of its content and the records it
//! produced, so a repeated request returns what the first one stored.

use super::*;

/// The idempotency key of an issuing request: its id (given by the client) and a
/// fingerprint of its content (so a reused id with other content is told apart).
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    /// The request id.
    pub id: &'a str,
    /// SHA-256 of the request's content.
    pub fingerprint: [u8; 32],
}

/// What a stored issuing request produced: `count` own records from `first_seq` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// SHA-256 of the request's content.
    pub fingerprint: [u8; 32],
    /// Sequence number of its first record.
    pub first_seq: u64,
    /// How many records it produced (consecutive sequence numbers).
    pub count: u64,
}

impl RequestRecord {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut v = self.fingerprint.to_vec();
        v.extend_from_slice(&self.first_seq.to_be_bytes());
        v.extend_from_slice(&self.count.to_be_bytes());
        v
    }

    pub(super) fn decode(v: &[u8]) -> Result<Self, StoreError> {
        let bad = || StoreError::Corrupt(format!("request entry of {} bytes", v.len()));
        if v.len() != 48 {
            return Err(bad());
        }
        let u = |r: std::ops::Range<usize>| {
            v.get(r)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(bad)
        };
        Ok(Self {
            fingerprint: v[..32].try_into().map_err(|_| bad())?,
            first_seq: u(32..40)?,
            count: u(40..48)?,
        })
    }
}

impl Store {
    /// [`Store::ingest_all`] for the records one issuing request produced, remembered under
    /// its request id in the same transaction: a retry of the request finds them
    /// ([`Store::request`]) instead of signing new ones. `recs` must be non-empty, with
    /// consecutive sequence numbers of one origin.
    ///
    /// # Errors
    /// As [`Store::ingest_all`].
    pub fn ingest_request(
        &self,
        recs: &[SignedRecord],
        now_ms: i64,
        request: &RequestKey<'_>,
    ) -> Result<(), StoreError> {
        self.write_batch(recs, now_ms, Mode::Own, true, Some(request))
            .map(|_| ())
    }

    /// What an earlier issuing request with this id produced, if one was stored.
    ///
    /// # Errors
    /// Storage failure or a damaged entry.
    pub fn request(&self, id: &str) -> Result<Option<RequestRecord>, StoreError> {
        self.requests
            .get(id.as_bytes())?
            .map(|v| RequestRecord::decode(&v))
            .transpose()
    }
}
