//! Held lines: screened consignments and travelers that have not arrived yet, kept so that an
//! alert arriving later is screened against them at once (retro-screening), then purged.
//!
//! Lines are held in *segments*: the lines of one screened block that share a keep-until day,
//! up to [`SEGMENT_BYTES`] each. A segment is one sled value written once, beside a filter of
//! the probe keys its lines are found by (a Bloom filter, [`SegmentFilter`]). Holding a
//! million lines is then a few thousand sequential writes instead of ten random index writes
//! per line, and finding the lines an alert names reads the filters (about 2 bytes per probe
//! key) and only the segments they point to; each line's own keys are then compared exactly.
//!
//! | tree          | key                              | value                                    |
//! |---------------|----------------------------------|------------------------------------------|
//! | `held`        | segment id (8, BE)               | segment (see below)                      |
//! | `held_filter` | segment id (8, BE)               | hash count (1) ‖ filter bits             |
//! | `held_exp`    | keep-until day (4, BE) ‖ segment | lines (4, BE) ‖ fingerprint (16)         |
//! | `held_seen`   | fingerprint (16)                 | segment id (8, BE)                       |
//! | `retro`       | found ms (8, BE) ‖ alert id ‖ line id | retro hit (JSON)                    |
//!
//! A segment is: format (1, = 1) ‖ keep-until day (4) ‖ lines (4), then per line: id (16) ‖
//! key count (1) ‖ keys (length (1) ‖ bytes each) ‖ line length (4) ‖ line. Integers are
//! big-endian; days count from 1970-01-01. The fingerprint hashes the ids of a segment's
//! lines: a manifest screened twice is held once (a line that comes again in another block,
//! say an updated passenger list, is held again, and a search returns each line id once).
//! Held lines live days, so a store written in
//! an older layout simply drops them when opened (a warning says how many).

use sha2::{Digest, Sha256};

use super::*;

/// One line to hold.
#[derive(Debug, Clone)]
pub struct HeldLine {
    /// Content hash.
    pub id: [u8; 16],
    /// The last day it is kept (days since 1970-01-01).
    pub keep_until_day: u32,
    /// The line, serialized.
    pub line: Vec<u8>,
    /// Probe keys (identifiers, name keys, profile keys) it is found by.
    pub keys: Vec<Vec<u8>>,
}

/// A held line read back: its id and the serialized line.
pub type HeldEntry = ([u8; 16], Vec<u8>);

/// `meta` key of the number of held lines.
const HELD_COUNT: &[u8] = b"held_count";

/// `meta` key of the layout of the held trees (absent: the layout before segments).
const HELD_LAYOUT: &[u8] = b"held_layout";

/// The current layout of the held trees.
const LAYOUT_SEGMENTS: &[u8] = b"segments-1";

/// Most probe keys per line (more are ignored).
const MAX_KEYS: usize = 64;

/// A segment is closed once its encoded lines reach this many bytes (kept well below sled's
/// page size so that a segment is an ordinary value, not a separate blob file).
pub const SEGMENT_BYTES: usize = 96 * 1024;

/// Most probe keys a search may carry (the matching segments are reported as a bit mask).
pub const MAX_PROBES: usize = 64;

/// Filter bits per probe key, and hash functions: about one false segment in 2,000 per key.
const BITS_PER_KEY: usize = 16;
const HASHES: u8 = 11;

/// A Bloom filter over the probe keys of one segment. The layout is ours and stable (it is
/// stored): bit positions come from SHA-256 of the key by double hashing.
#[derive(Debug, Clone)]
pub struct SegmentFilter {
    hashes: u8,
    bits: Vec<u8>,
}

/// A probe key's two base hashes (double hashing derives the filter's bit positions).
#[derive(Debug, Clone, Copy)]
pub struct ProbeHash(u64, u64);

impl ProbeHash {
    /// The hashes of one probe key.
    #[must_use]
    pub fn of(key: &[u8]) -> Self {
        let d = Sha256::digest(key);
        let a = u64::from_be_bytes(d[..8].try_into().unwrap_or_default());
        let b = u64::from_be_bytes(d[8..16].try_into().unwrap_or_default()) | 1;
        Self(a, b)
    }

    fn bit(self, i: u8, nbits: u64) -> (usize, u8) {
        let pos = self.0.wrapping_add(u64::from(i).wrapping_mul(self.1)) % nbits;
        (usize::try_from(pos / 8).unwrap_or(0), 1 << (pos % 8))
    }
}

impl SegmentFilter {
    fn with_keys(keys: usize) -> Self {
        let bytes = (keys.max(4) * BITS_PER_KEY).div_ceil(8);
        Self {
            hashes: HASHES,
            bits: vec![0; bytes],
        }
    }

    fn nbits(bits: &[u8]) -> u64 {
        (bits.len() as u64) * 8
    }

    fn insert(&mut self, h: ProbeHash) {
        let n = Self::nbits(&self.bits);
        for i in 0..self.hashes {
            let (byte, mask) = h.bit(i, n);
            if let Some(b) = self.bits.get_mut(byte) {
                *b |= mask;
            }
        }
    }

    /// Whether the stored filter (`hash count ‖ bits`) may hold the key (never false for a key
    /// it holds).
    fn may_contain(stored: &[u8], h: ProbeHash) -> bool {
        let Some((&hashes, bits)) = stored.split_first() else {
            return false;
        };
        if bits.is_empty() {
            return false;
        }
        let n = Self::nbits(bits);
        (0..hashes).all(|i| {
            let (byte, mask) = h.bit(i, n);
            bits.get(byte).is_some_and(|b| b & mask != 0)
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + self.bits.len());
        v.push(self.hashes);
        v.extend_from_slice(&self.bits);
        v
    }
}

/// The usable probe keys of a line (non-empty, at most 255 bytes, no NUL), at most
/// [`MAX_KEYS`].
fn usable_keys(keys: &[Vec<u8>]) -> impl Iterator<Item = &Vec<u8>> {
    keys.iter()
        .filter(|p| !p.is_empty() && p.len() <= 255)
        .take(MAX_KEYS)
}

/// A segment being built.
struct SegmentBuilder {
    day: u32,
    lines: u32,
    body: Vec<u8>,
    ids: Sha256,
    keys: Vec<ProbeHash>,
}

impl SegmentBuilder {
    fn new(day: u32) -> Self {
        Self {
            day,
            lines: 0,
            body: Vec::with_capacity(SEGMENT_BYTES + 4096),
            ids: Sha256::new(),
            keys: Vec::new(),
        }
    }

    fn push(&mut self, l: &HeldLine) {
        self.lines += 1;
        self.body.extend_from_slice(&l.id);
        self.ids.update(l.id);
        let keys: Vec<&Vec<u8>> = usable_keys(&l.keys).collect();
        self.body.push(u8::try_from(keys.len()).unwrap_or(0));
        for k in keys {
            self.body.push(u8::try_from(k.len()).unwrap_or(0));
            self.body.extend_from_slice(k);
            self.keys.push(ProbeHash::of(k));
        }
        let len = u32::try_from(l.line.len()).unwrap_or(u32::MAX);
        self.body.extend_from_slice(&len.to_be_bytes());
        self.body
            .extend_from_slice(&l.line[..usize::try_from(len).unwrap_or(0)]);
    }
}

/// One line of a stored segment, borrowed.
struct SegmentLine<'a> {
    id: [u8; 16],
    keys: Vec<&'a [u8]>,
    line: &'a [u8],
}

/// Reads a stored segment's lines (stops at the first malformed byte: the rest is skipped
/// with a warning by the caller's count).
fn segment_lines(v: &[u8]) -> Vec<SegmentLine<'_>> {
    let mut out = Vec::new();
    let Some(rest) = v.strip_prefix(&[1u8][..]) else {
        return out;
    };
    let Some(mut at) = rest.get(8..) else {
        return out;
    };
    while let Some((id, r)) = at.split_first_chunk::<16>() {
        let Some((&n, mut r)) = r.split_first() else {
            break;
        };
        let mut keys = Vec::with_capacity(usize::from(n));
        let mut ok = true;
        for _ in 0..n {
            let Some((&len, r2)) = r.split_first() else {
                ok = false;
                break;
            };
            let Some((k, r3)) = r2.split_at_checked(usize::from(len)) else {
                ok = false;
                break;
            };
            keys.push(k);
            r = r3;
        }
        if !ok {
            break;
        }
        let Some((len, r)) = r.split_first_chunk::<4>() else {
            break;
        };
        let Some((line, r)) = r.split_at_checked(u32::from_be_bytes(*len) as usize) else {
            break;
        };
        out.push(SegmentLine {
            id: *id,
            keys,
            line,
        });
        at = r;
    }
    out
}

/// What a search of the segments' filters found.
#[derive(Debug, Default)]
pub struct SegmentMatches {
    /// Segments held now (all filters read).
    pub segments: usize,
    /// Segments whose filters may hold some of the probe keys: (segment id, bit mask of the
    /// probes it may hold, bit `i` for probe `i`).
    pub matches: Vec<(u64, u64)>,
}

impl Store {
    /// Drops held lines written in a layout before segments (they live days; a warning says
    /// how many were dropped) and marks the current layout.
    pub(super) fn upgrade_held(&self) -> Result<(), StoreError> {
        if self.meta.get(HELD_LAYOUT)?.as_deref() == Some(LAYOUT_SEGMENTS) {
            return Ok(());
        }
        let old = self.held.len();
        if old > 0
            || self
                .db
                .tree_names()
                .iter()
                .any(|n| n.as_ref() == b"held_idx")
        {
            tracing::warn!(
                dropped = old,
                "held lines in an older layout were dropped; they are held again when screened"
            );
        }
        self.held.clear()?;
        self.held_exp.clear()?;
        self.held_filter.clear()?;
        self.held_seen.clear()?;
        let _ = self.db.drop_tree("held_idx")?;
        self.meta.remove(HELD_COUNT)?;
        self.meta.insert(HELD_LAYOUT, LAYOUT_SEGMENTS)?;
        Ok(())
    }

    /// Holds lines (a screened block): they are grouped into segments by keep-until day, each
    /// written once with its filter. A segment held before (same lines) is not held twice.
    /// Returns how many lines were newly held. Not flushed: call [`Store::flush`] when the
    /// lines must be durable.
    ///
    /// # Errors
    /// Storage failure.
    pub fn hold_lines(&self, lines: &[HeldLine]) -> Result<usize, StoreError> {
        let mut by_day: std::collections::BTreeMap<u32, Vec<&HeldLine>> =
            std::collections::BTreeMap::new();
        for l in lines {
            by_day.entry(l.keep_until_day).or_default().push(l);
        }
        let mut new = 0usize;
        for (day, group) in by_day {
            let mut seg = SegmentBuilder::new(day);
            for l in group {
                seg.push(l);
                if seg.body.len() >= SEGMENT_BYTES {
                    new +=
                        self.write_segment(std::mem::replace(&mut seg, SegmentBuilder::new(day)))?;
                }
            }
            if seg.lines > 0 {
                new += self.write_segment(seg)?;
            }
        }
        self.add_held(i64::try_from(new).unwrap_or(i64::MAX))?;
        Ok(new)
    }

    fn write_segment(&self, seg: SegmentBuilder) -> Result<usize, StoreError> {
        let mut fp = [0u8; 16];
        fp.copy_from_slice(&seg.ids.finalize()[..16]);
        if self.held_seen.contains_key(fp)? {
            return Ok(0);
        }
        let id = self.db.generate_id()?.to_be_bytes();
        let mut filter = SegmentFilter::with_keys(seg.keys.len());
        for h in &seg.keys {
            filter.insert(*h);
        }
        let mut value = Vec::with_capacity(9 + seg.body.len());
        value.push(1);
        value.extend_from_slice(&seg.day.to_be_bytes());
        value.extend_from_slice(&seg.lines.to_be_bytes());
        value.extend_from_slice(&seg.body);
        let mut exp_key = seg.day.to_be_bytes().to_vec();
        exp_key.extend_from_slice(&id);
        let mut exp = seg.lines.to_be_bytes().to_vec();
        exp.extend_from_slice(&fp);
        // Expiry first: sled recovers a prefix of the writes, so a crash part-way leaves at
        // worst an expiry entry whose segment is missing, which the purge removes in its
        // time; never a segment the purge would not find.
        self.held_exp.insert(exp_key, exp)?;
        self.held.insert(id, value)?;
        self.held_filter.insert(id, filter.encode())?;
        self.held_seen.insert(fp, &id[..])?;
        Ok(usize::try_from(seg.lines).unwrap_or(0))
    }

    /// The held segments whose filters may hold some of `probes` (at most [`MAX_PROBES`]; the
    /// rest are ignored), with which ones. Reads every filter (about 2 bytes per probe key
    /// held), no segment.
    ///
    /// # Errors
    /// Storage failure.
    pub fn held_segments_matching(&self, probes: &[Vec<u8>]) -> Result<SegmentMatches, StoreError> {
        let hashes: Vec<ProbeHash> = probes
            .iter()
            .take(MAX_PROBES)
            .map(|p| ProbeHash::of(p))
            .collect();
        let mut out = SegmentMatches::default();
        if hashes.is_empty() {
            return Ok(out);
        }
        for kv in self.held_filter.iter() {
            let (k, f) = kv?;
            out.segments += 1;
            let Some(id) = <[u8; 8]>::try_from(k.as_ref()).ok().map(u64::from_be_bytes) else {
                continue;
            };
            let mut mask = 0u64;
            for (i, h) in hashes.iter().enumerate() {
                if SegmentFilter::may_contain(&f, *h) {
                    mask |= 1 << i;
                }
            }
            if mask != 0 {
                out.matches.push((id, mask));
            }
        }
        Ok(out)
    }

    /// The lines of held segment `segment` whose probe keys `wanted` accepts, at most `cap`:
    /// (line id, serialized line).
    ///
    /// # Errors
    /// Storage failure.
    pub fn held_lines_where(
        &self,
        segment: u64,
        cap: usize,
        mut wanted: impl FnMut(&[&[u8]]) -> bool,
    ) -> Result<Vec<HeldEntry>, StoreError> {
        let mut out = Vec::new();
        let Some(v) = self.held.get(segment.to_be_bytes())? else {
            return Ok(out);
        };
        for l in segment_lines(&v) {
            if out.len() >= cap {
                break;
            }
            if wanted(&l.keys) {
                out.push((l.id, l.line.to_vec()));
            }
        }
        Ok(out)
    }

    /// Removes the segments whose keep-until day is before `today_day`. Returns how many lines
    /// they held.
    ///
    /// # Errors
    /// Storage failure.
    pub fn purge_held(&self, today_day: u32) -> Result<usize, StoreError> {
        let mut n = 0u64;
        let end = today_day.to_be_bytes();
        let expired: Vec<(sled::IVec, sled::IVec)> =
            self.held_exp.range(..&end[..]).collect::<Result<_, _>>()?;
        for (k, v) in expired {
            let Some(id) = k.get(4..12) else {
                continue;
            };
            if let Some(lines) = v.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
                n += u64::from(u32::from_be_bytes(lines));
            }
            if let Some(fp) = v.get(4..20) {
                self.held_seen.remove(fp)?;
            }
            self.held_filter.remove(id)?;
            self.held.remove(id)?;
            self.held_exp.remove(k)?;
        }
        self.add_held(-i64::try_from(n).unwrap_or(0))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Held segments now (each is one filter a search reads).
    pub fn held_segment_count(&self) -> u64 {
        self.held_filter.len() as u64
    }

    /// Lines held now (a counter kept beside the lines: counting them would read every
    /// segment).
    pub fn held_count(&self) -> u64 {
        read_u64(&self.meta, HELD_COUNT).ok().flatten().unwrap_or(0)
    }

    fn add_held(&self, delta: i64) -> Result<(), StoreError> {
        add_u64(&self.meta, HELD_COUNT, delta)
    }

    /// Records a hit found by retro-screening (JSON), keyed by when it was found.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_retro_hit(
        &self,
        found_ms: i64,
        alert: &RecordId,
        line: &[u8; 16],
        json: &[u8],
    ) -> Result<bool, StoreError> {
        let mut k = Vec::with_capacity(8 + 32 + 16);
        k.extend_from_slice(&found_ms.to_be_bytes());
        k.extend_from_slice(&alert.0);
        k.extend_from_slice(line);
        // One retro hit per (alert, line): the pair is also indexed without the time.
        let mut pair = b"retro/".to_vec();
        pair.extend_from_slice(&alert.0);
        pair.extend_from_slice(line);
        if self.meta.contains_key(&pair)? {
            return Ok(false);
        }
        self.meta.insert(pair, &found_ms.to_be_bytes()[..])?;
        self.retro.insert(k, json)?;
        Ok(true)
    }

    /// Retro hits, oldest first (JSON each).
    ///
    /// # Errors
    /// Storage failure.
    pub fn retro_hits(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.retro
            .iter()
            .values()
            .map(|v| v.map(|v| v.to_vec()).map_err(StoreError::from))
            .collect()
    }

    /// Retro hits recorded.
    pub fn retro_hit_count(&self) -> u64 {
        self.retro.len() as u64
    }

    /// The log position retro-screening has reached (persisted, so a restart does not screen
    /// the whole log again).
    ///
    /// # Errors
    /// Storage failure.
    pub fn retro_position(&self) -> Result<Option<u64>, StoreError> {
        read_u64(&self.meta, b"retro_pos")
    }

    /// Sets [`Store::retro_position`].
    ///
    /// # Errors
    /// Storage failure.
    pub fn set_retro_position(&self, pos: u64) -> Result<(), StoreError> {
        self.meta.insert(b"retro_pos", &pos.to_be_bytes()[..])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u32, day: u32, keys: &[&str]) -> HeldLine {
        let json = format!("{{\"line\":{n}}}").into_bytes();
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&n.to_be_bytes());
        HeldLine {
            id,
            keep_until_day: day,
            line: json,
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
        }
    }

    fn found(store: &Store, probe: &str) -> Vec<Vec<u8>> {
        let m = store
            .held_segments_matching(&[probe.as_bytes().to_vec()])
            .unwrap();
        let mut out = Vec::new();
        for (seg, _) in m.matches {
            for (_, l) in store
                .held_lines_where(seg, usize::MAX, |k| k.contains(&probe.as_bytes()))
                .unwrap()
            {
                out.push(l);
            }
        }
        out.sort();
        out
    }

    #[test]
    fn held_lines_are_found_by_their_keys_held_once_and_purged_after_their_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // Enough lines for several segments per day.
        let lines: Vec<HeldLine> = (0..3000)
            .map(|n| {
                let c = format!("CCONT{n:07}");
                let day = 100 + n % 2;
                line(
                    n,
                    day,
                    &[&c, "Rexpress", if n % 3 == 0 { "Nthree" } else { "Nother" }],
                )
            })
            .collect();
        assert_eq!(store.hold_lines(&lines).unwrap(), 3000);
        assert_eq!(
            store.hold_lines(&lines).unwrap(),
            0,
            "the same block is held once"
        );
        assert_eq!(store.held_count(), 3000);
        assert!(
            store.held_segment_count() >= 2,
            "one segment per day at least"
        );
        // No false negatives: every line is found by each of its keys.
        for n in [0u32, 1, 1499, 2999] {
            let got = found(&store, &format!("CCONT{n:07}"));
            assert_eq!(got, vec![format!("{{\"line\":{n}}}").into_bytes()]);
        }
        assert_eq!(found(&store, "Nthree").len(), 1000);
        assert_eq!(found(&store, "Rexpress").len(), 3000);
        assert!(found(&store, "CCONT9999999").is_empty());
        // Day 100 ends: its lines go, day 101's stay.
        assert_eq!(store.purge_held(101).unwrap(), 1500);
        assert_eq!(store.held_count(), 1500);
        assert!(found(&store, "CCONT0000000").is_empty());
        assert_eq!(found(&store, "CCONT0000001").len(), 1);
        // A purged block can be held again (its fingerprint went with it); a line held before
        // in another block is held again too (the search returns each line id once).
        assert_eq!(store.hold_lines(&lines[..2]).unwrap(), 2);
        assert_eq!(found(&store, "CCONT0000001").len(), 2);
        drop(store);
        // Reopened: the layout is current, nothing is dropped.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.held_count(), 1502);
        assert_eq!(found(&store, "CCONT0000000").len(), 1);
    }

    #[test]
    fn held_lines_of_the_older_layout_are_dropped_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("held")
                .unwrap()
                .insert([7u8; 16], &b"\0\0\0\x01{}"[..])
                .unwrap();
            db.open_tree("held_idx")
                .unwrap()
                .insert(b"Cx\0", &b""[..])
                .unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert(HELD_COUNT, &1u64.to_be_bytes()[..])
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.held_count(), 0);
        assert_eq!(store.held.len(), 0);
        assert!(!store
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"held_idx"));
    }

    #[test]
    fn a_truncated_segment_yields_its_whole_lines_only() {
        let mut seg = SegmentBuilder::new(5);
        seg.push(&line(1, 5, &["Ca"]));
        seg.push(&line(2, 5, &["Cb"]));
        let mut v = vec![1u8];
        v.extend_from_slice(&5u32.to_be_bytes());
        v.extend_from_slice(&2u32.to_be_bytes());
        v.extend_from_slice(&seg.body);
        assert_eq!(segment_lines(&v).len(), 2);
        v.truncate(v.len() - 3);
        let got = segment_lines(&v);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].keys, vec![&b"Ca"[..]]);
        assert!(segment_lines(&[9, 0, 0]).is_empty(), "unknown format");
    }
}
