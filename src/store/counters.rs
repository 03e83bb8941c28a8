//! Counters of things refused from partners and running totals of screening, kept in the
//! `counters` tree so that they survive restarts (what was stored is counted from the data
//! itself; what was refused or screened left nothing else behind).

use super::{Store, StoreError};
use crate::model::CountryCode;

const REFUSED: &[u8] = b"refused/";
const TOTAL: &[u8] = b"total/";

/// Running total of lines screened (files, lists and streams).
pub const SCREENED_LINES: &str = "screened_lines";
/// Running total of hits found by screening (retro-screening hits are counted apart).
pub const SCREENING_HITS: &str = "screening_hits";

impl Store {
    /// Adds one to the count of things refused from `peer` for `reason`.
    ///
    /// # Errors
    /// Storage failure.
    pub fn count_refused(&self, peer: CountryCode, reason: &str) -> Result<(), StoreError> {
        let mut key = REFUSED.to_vec();
        key.extend_from_slice(peer.as_str().as_bytes());
        key.push(b'/');
        key.extend_from_slice(reason.as_bytes());
        super::add_u64(&self.counters, key, 1)
    }

    /// Everything refused from partners so far: (partner country, reason, count).
    ///
    /// # Errors
    /// Storage failure.
    pub fn refused_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.counters.scan_prefix(REFUSED) {
            let (k, v) = kv?;
            let rest = String::from_utf8_lossy(&k[REFUSED.len()..]).into_owned();
            let Some((country, reason)) = rest.split_once('/') else {
                continue;
            };
            let n = <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            out.push((country.to_owned(), reason.to_owned(), n));
        }
        Ok(out)
    }

    /// Adds `by` to the named running total (kept across restarts), e.g. lines screened.
    ///
    /// # Errors
    /// Storage failure.
    pub fn add_total(&self, name: &str, by: u64) -> Result<(), StoreError> {
        let mut key = TOTAL.to_vec();
        key.extend_from_slice(name.as_bytes());
        super::add_u64(&self.counters, key, i64::try_from(by).unwrap_or(i64::MAX))
    }

    /// The named running total (0 when never added to).
    pub fn total(&self, name: &str) -> u64 {
        let mut key = TOTAL.to_vec();
        key.extend_from_slice(name.as_bytes());
        super::read_u64(&self.counters, key)
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// Number of records stored whose origin is a node of `country`.
    pub fn count_country(&self, country: CountryCode) -> u64 {
        self.seq
            .scan_prefix(country.as_str().as_bytes())
            .values()
            .map(|v| v.map_or(0, |v| v.len() as u64 / 32))
            .sum()
    }
}

impl Store {
    /// Creation time (ms since the epoch) of the newest record stored from `country`: the
    /// highest sequence number of its node (of the last one, by name, if it has several).
    ///
    /// # Errors
    /// Storage failure or an unreadable record.
    pub fn newest_created_at_ms(&self, country: CountryCode) -> Result<Option<i64>, StoreError> {
        use prost::Message;
        let Some(kv) = self
            .seq
            .scan_prefix(country.as_str().as_bytes())
            .next_back()
        else {
            return Ok(None);
        };
        let (_, v) = kv?;
        let Some(last) = v.len().checked_sub(32).and_then(|i| v.get(i..)) else {
            return Ok(None);
        };
        let Ok(id) = <[u8; 32]>::try_from(last) else {
            return Ok(None);
        };
        let Some(entry) = self.get(&crate::record::RecordId(id))? else {
            return Ok(None);
        };
        let body = crate::pb::RecordBody::decode(entry.envelope.body.as_slice())
            .map_err(|e| StoreError::Corrupt(format!("record body: {e}")))?;
        Ok(Some(body.created_at_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_counts_add_up_per_partner_and_reason() {
        let s = Store::temporary().unwrap();
        let th = CountryCode::parse("TH").unwrap();
        let nl = CountryCode::parse("NL").unwrap();
        s.count_refused(th, "signature").unwrap();
        s.count_refused(th, "signature").unwrap();
        s.count_refused(nl, "lifecycle").unwrap();
        let mut got = s.refused_counts().unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("NL".into(), "lifecycle".into(), 1),
                ("TH".into(), "signature".into(), 2)
            ]
        );
    }
}
