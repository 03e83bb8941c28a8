//! The matching engine: every active alert a node holds, indexed for screening lines.
//!
//! Built once from a snapshot of alerts (own and received, current version, not retracted,
//! valid on the screening date) and then shared read-only by the threads that screen. Three
//! kinds of evidence:
//!
//! - **identifiers**, exact after normalisation: containers, B/L and air waybills, postal
//!   items, express tracking numbers, vessel IMO numbers, travel documents with their issuing
//!   country; a flight or voyage with its date counts only together with a name that agrees;
//! - **names** of travelers, shippers and consignees, tolerant of transliteration and typing
//!   ([`super::names`]), and always corroborated: by date of birth or nationality for
//!   travelers, by address or country for parties;
//! - **profiles**, patterns that a consignment fits or not.
//!
//! Each match names the alert, a score 0-1000, and every field that matched with the reason.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::manifest::{CargoLine, Line, LineParty, PassengerLine, Subject as LineSubject};
use super::names::{blocking_keys, similarity, PreparedName};
use crate::model::fold;
use crate::model::{Alert, CargoRoute, CountryCode, Date, FieldError, Profile, Subject};
use crate::record::{Origin, RecordId};

/// Names scoring at least this much are candidates (before corroboration).
pub const NAME_THRESHOLD: f32 = 0.85;
/// A party alert with neither address nor country cannot corroborate: the name alone must be
/// this close.
pub const NAME_ALONE_THRESHOLD: f32 = 0.95;
/// A party name corroborated only by the country must be at least this close.
pub const COUNTRY_ONLY_THRESHOLD: f32 = 0.92;
/// A flight + date match needs at least this much name agreement.
pub const FLIGHT_NAME_THRESHOLD: f32 = 0.6;
/// Candidates of the two rarest units are united (not intersected) up to this many.
const SMALL_UNION: usize = 256;
/// Posting lists longer than this are too common to block on (unless nothing rarer exists).
const COMMON_KEY: usize = 2_000;

/// The points each kind of evidence gives a match (0-1000), in one place; docs/SCREENING.md
/// ("What matches") mirrors it. A match scores its strongest piece of evidence plus
/// [`Scoring::further_evidence`] for each further independent piece, at most 1000.
#[derive(Clone, Copy, Debug)]
pub struct Scoring {
    /// An exact identifier: container, B/L or air waybill, postal item, tracking number,
    /// travel document with its issuing country.
    pub identifier: u32,
    /// The same vessel (IMO number): many consignments share one.
    pub vessel_imo: u32,
    /// Each further independent piece of evidence.
    pub further_evidence: u32,
    /// A profile: base, per criterion met, and at most.
    pub profile_base: u32,
    /// See [`Scoring::profile_base`].
    pub profile_per_criterion: u32,
    /// See [`Scoring::profile_base`].
    pub profile_max: u32,
    /// A shipper or consignee: name similarity × this, plus [`Scoring::party_corroboration`]
    /// per address or country that agrees, at most [`Scoring::party_max`].
    pub party_name: f32,
    /// See [`Scoring::party_name`].
    pub party_corroboration: u32,
    /// See [`Scoring::party_name`].
    pub party_max: u32,
    /// A traveler with the alert's date of birth: name similarity × this, plus
    /// [`Scoring::traveler_same_dob`]; the same nationality adds
    /// [`Scoring::traveler_same_nationality`], another takes away
    /// [`Scoring::traveler_other_nationality`]; at most [`Scoring::traveler_max`].
    pub traveler_name: f32,
    /// See [`Scoring::traveler_name`].
    pub traveler_same_dob: u32,
    /// See [`Scoring::traveler_name`].
    pub traveler_same_nationality: u32,
    /// See [`Scoring::traveler_name`].
    pub traveler_other_nationality: u32,
    /// See [`Scoring::traveler_name`].
    pub traveler_max: u32,
    /// A traveler alert without a date of birth, same nationality: name similarity × this.
    pub traveler_name_no_dob: f32,
    /// The alert's flight and date: base plus name similarity × [`Scoring::flight_name`].
    pub flight_base: f32,
    /// See [`Scoring::flight_base`].
    pub flight_name: f32,
}

/// The scoring table the engine uses.
pub const SCORING: Scoring = Scoring {
    identifier: 1000,
    vessel_imo: 800,
    further_evidence: 50,
    profile_base: 500,
    profile_per_criterion: 60,
    profile_max: 900,
    party_name: 850.0,
    party_corroboration: 50,
    party_max: 950,
    traveler_name: 850.0,
    traveler_same_dob: 100,
    traveler_same_nationality: 50,
    traveler_other_nationality: 150,
    traveler_max: 980,
    traveler_name_no_dob: 800.0,
    flight_base: 500.0,
    flight_name: 400.0,
};

/// An alert the engine screens against.
#[derive(Clone, Debug)]
pub struct ScreenAlert {
    /// Record id of the alert version.
    pub id: RecordId,
    /// Its origin.
    pub origin: Origin,
    /// Content.
    pub alert: Alert,
}

/// Engine options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Match names (travelers, shippers, consignees). Identifiers and profiles always match.
    pub names: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { names: true }
    }
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// Alert field that matched.
    pub field: &'static str,
    /// Normalised value seen on the line.
    pub value: String,
    /// Why it matched.
    pub reason: String,
}

/// A line matched one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Index of the alert in [`Engine::alert`].
    pub alert: u32,
    /// 0-1000.
    pub score: u32,
    /// Evidence, strongest first.
    pub matched: Vec<Evidence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    Traveler,
    Shipper,
    Consignee,
}

struct PreparedParty {
    name: PreparedName,
    /// Hashes of the address's distinctive words (compared for equality only).
    address: Box<[u64]>,
    country: Option<CountryCode>,
}

struct Entry {
    alert: Kept,
    traveler: Option<PreparedParty>,
    dob: Option<Date>,
    shipper: Option<PreparedParty>,
    consignee: Option<PreparedParty>,
}

/// An alert as the engine keeps it: a profile whole (its criteria are read while screening),
/// any other encoded as in its record (read only to explain a hit), which takes about half
/// the memory of the decoded alert.
enum Kept {
    Whole(Box<ScreenAlert>),
    Packed {
        id: RecordId,
        origin: Origin,
        alert: Box<[u8]>,
    },
    /// Only the id: read back through the engine's [`AlertSource`].
    Stored(RecordId),
}

/// Reads an alert version back by its record id (from the node's store), for an engine that
/// keeps only the ids of the alerts it does not read while screening.
pub type AlertSource =
    std::sync::Arc<dyn Fn(&RecordId) -> Result<ScreenAlert, String> + Send + Sync>;

impl Kept {
    fn new(sa: ScreenAlert, stored: bool) -> Self {
        if matches!(sa.alert.subject, Subject::Profile(_)) {
            return Kept::Whole(Box::new(sa));
        }
        if stored {
            return Kept::Stored(sa.id);
        }
        Kept::Packed {
            alert: prost::Message::encode_to_vec(&sa.alert.to_pb()).into_boxed_slice(),
            id: sa.id,
            origin: sa.origin,
        }
    }

    fn profile(&self) -> Option<&Profile> {
        match self {
            Kept::Whole(sa) => match &sa.alert.subject {
                Subject::Profile(p) => Some(p),
                _ => None,
            },
            Kept::Packed { .. } | Kept::Stored(_) => None,
        }
    }
}

/// Compact name index: blocking-key hash → postings (alert index, role), as sorted arrays
/// under a directory of hash prefixes: 8 bytes per (key, posting) pair, where a hash table
/// of spans took about 37. A name yields a few dozen keys (its tokens' deletion
/// neighbourhoods), so this is most of the engine's memory at a million alerts.
#[derive(Default)]
struct NameIndex {
    /// Bits of the hash that pick a bucket.
    bits: u32,
    /// `dir[b]..dir[b + 1]`: the pairs of bucket `b`.
    dir: Vec<u32>,
    /// Low 32 bits of each pair's hash, ascending within its bucket.
    keys: Vec<u32>,
    /// Each pair's posting: alert index × 4 + role.
    postings: Vec<u32>,
}

impl NameIndex {
    fn build(mut pairs: Vec<(u64, u32, Role)>) -> Self {
        // About eight pairs a bucket; a collision of the low bits only adds candidates,
        // which are then scored.
        let bits = (usize::BITS - (pairs.len() / 8).max(1).leading_zeros()).clamp(4, 24);
        let bucket = |h: u64| (h >> (64 - bits)) as usize;
        pairs.sort_unstable_by_key(|p| (bucket(p.0), p.0 as u32, p.1, p.2 as u8));
        pairs.dedup_by_key(|p| (bucket(p.0), p.0 as u32, p.1, p.2 as u8));
        let mut dir = vec![0u32; (1usize << bits) + 1];
        let mut keys = Vec::with_capacity(pairs.len());
        let mut postings = Vec::with_capacity(pairs.len());
        for (h, i, role) in pairs {
            // Alert indices are below 2^30 (a billion alerts): the role takes the low bits.
            debug_assert!(i < 1 << 30);
            dir[bucket(h) + 1] += 1;
            keys.push(h as u32);
            postings.push(i << 2 | role as u32);
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        Self {
            bits,
            dir,
            keys,
            postings,
        }
    }

    /// The postings of hash `h` (see [`NameIndex::alert`], [`NameIndex::role`]).
    fn get(&self, h: u64) -> &[u32] {
        if self.dir.is_empty() {
            return &[];
        }
        let b = (h >> (64 - self.bits)) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        let k = h as u32;
        let bucket = &self.keys[lo..hi];
        let first = bucket.partition_point(|&x| x < k);
        let end = first + bucket[first..].partition_point(|&x| x == k);
        &self.postings[lo + first..lo + end]
    }

    fn alert(posting: u32) -> u32 {
        posting >> 2
    }

    fn role(posting: u32) -> Role {
        match posting & 3 {
            0 => Role::Traveler,
            1 => Role::Shipper,
            _ => Role::Consignee,
        }
    }
}

/// Hasher of the engine's tables: a `u64` key (the name index's keys are already hashes) is
/// passed through; bytes (identifiers, tokens) are hashed with FNV-1a, which is much cheaper
/// than the default SipHash for these short keys. Keys come from alerts, which partners sign.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// The engine.
pub struct Engine {
    entries: Vec<Entry>,
    ids: HashMap<String, Vec<u32>, BuildHasherDefault<PreHashed>>,
    dob: HashMap<Date, Vec<u32>>,
    names: NameIndex,
    profiles: HashMap<(CargoRoute, Option<CountryCode>), Vec<u32>>,
    /// Names each token appears in, over every name the alerts give.
    df: HashMap<String, u32, BuildHasherDefault<PreHashed>>,
    names_total: u32,
    options: Options,
    date: Date,
    skipped_not_valid: usize,
    /// Where alerts kept by id only are read back.
    source: Option<AlertSource>,
}

/// Builds an [`Engine`] one alert at a time, so that a caller streaming alerts from storage
/// never holds them all decoded.
pub struct EngineBuilder {
    e: Engine,
    name_pairs: Vec<(u64, u32, Role)>,
    keys: Vec<u64>,
}

impl EngineBuilder {
    /// An engine that keeps only the ids of the alerts it does not read while screening
    /// (all but profiles) and reads them back through `source` to explain a hit: the
    /// smallest engine, for a node holding its alerts in its store.
    pub fn with_source(date: Date, options: Options, source: AlertSource) -> Self {
        let mut b = Self::new(date, options);
        b.e.source = Some(source);
        b
    }

    /// An engine for screening on `date`.
    pub fn new(date: Date, options: Options) -> Self {
        Self {
            e: Engine {
                entries: Vec::new(),
                ids: HashMap::default(),
                dob: HashMap::new(),
                names: NameIndex::default(),
                profiles: HashMap::new(),
                df: HashMap::default(),
                names_total: 0,
                options,
                date,
                skipped_not_valid: 0,
                source: None,
            },
            name_pairs: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Adds one alert (left out when not valid on the date).
    pub fn add(&mut self, sa: ScreenAlert) {
        let date = self.e.date;
        let e = &mut self.e;
        let name_pairs = &mut self.name_pairs;
        let keys = &mut self.keys;
        if !sa.alert.validity.contains(date) {
            e.skipped_not_valid += 1;
            return;
        }
        let i = e.entries.len() as u32;
        let mut entry = Entry {
            traveler: None,
            dob: None,
            shipper: None,
            consignee: None,
            // Set once the subject is indexed (below).
            alert: Kept::Packed {
                id: sa.id,
                origin: sa.origin.clone(),
                alert: Box::default(),
            },
        };
        let mut add_id = |kind: char, v: &str| {
            e.ids.entry(id_key(kind, v)).or_default().push(i);
        };
        let mut add_name = |p: &PreparedName, role: Role| {
            for s in blocking_units(p) {
                keys.clear();
                blocking_keys(&s.0, keys);
                for &h in keys.iter() {
                    name_pairs.push((h, i, role));
                }
            }
        };
        match &sa.alert.subject {
            Subject::Traveler(t) => {
                if let Some(d) = &t.document {
                    add_id(
                        idk::TRAVEL_DOC,
                        &format!("{}{}", d.issuing_country, d.number),
                    );
                }
                if let (Some(f), Some(d)) = (&t.flight_or_voyage, &t.travel_date) {
                    add_id(idk::FLIGHT, &format!("{f}/{d}"));
                }
                let full = match &t.given_names {
                    Some(g) => format!("{} {}", t.family_name, g),
                    None => t.family_name.to_string(),
                };
                let name = PreparedName::new(&full);
                match t.date_of_birth {
                    Some(d) => e.dob.entry(d).or_default().push(i),
                    // No date of birth: found by name, corroborated by nationality.
                    None => add_name(&name, Role::Traveler),
                }
                entry.dob = t.date_of_birth;
                entry.traveler = Some(PreparedParty {
                    name,
                    address: Box::default(),
                    country: t.nationality,
                });
            }
            Subject::Cargo(c) => {
                for n in &c.container_numbers {
                    add_id(idk::CONTAINER, n.as_str());
                }
                if let Some(d) = &c.transport_document {
                    add_id(idk::DOC, d.number());
                }
                if let Some(p) = &c.postal_item_id {
                    add_id(idk::POSTAL, p.as_str());
                }
                if let Some(t) = &c.express_tracking_number {
                    add_id(idk::TRACKING, t.as_str());
                }
                if let Some(m) = &c.vessel_imo {
                    add_id(idk::IMO, m.as_str());
                }
                for (party, role) in [(&c.shipper, Role::Shipper), (&c.consignee, Role::Consignee)]
                {
                    let Some(p) = party else { continue };
                    let prepared = PreparedParty {
                        name: PreparedName::new(p.name.as_str()),
                        address: p
                            .address
                            .as_ref()
                            .map(|a| {
                                address_tokens(a.as_str())
                                    .iter()
                                    .map(|t| word_hash(t))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        country: p.country,
                    };
                    if prepared.name.is_empty() {
                        continue;
                    }
                    add_name(&prepared.name, role);
                    match role {
                        Role::Shipper => entry.shipper = Some(prepared),
                        _ => entry.consignee = Some(prepared),
                    }
                }
            }
            Subject::Profile(p) => {
                for r in &p.routes {
                    if p.origin_countries.is_empty() {
                        e.profiles.entry((*r, None)).or_default().push(i);
                    }
                    for c in &p.origin_countries {
                        e.profiles.entry((*r, Some(*c))).or_default().push(i);
                    }
                }
            }
        }
        entry.alert = Kept::new(sa, e.source.is_some());
        e.entries.push(entry);
    }

    /// The engine.
    pub fn finish(self) -> Engine {
        let EngineBuilder {
            mut e, name_pairs, ..
        } = self;
        let options = e.options;
        if options.names {
            e.names = NameIndex::build(name_pairs);
            // Token rarity over all alert names, then weigh every alert name by it.
            let mut df: HashMap<String, u32, BuildHasherDefault<PreHashed>> = HashMap::default();
            let mut total = 0u32;
            for en in &e.entries {
                for p in [&en.traveler, &en.shipper, &en.consignee]
                    .into_iter()
                    .flatten()
                {
                    total += 1;
                    let mut seen: Vec<&String> = p.name.tokens.iter().collect();
                    seen.sort();
                    seen.dedup();
                    for t in seen {
                        *df.entry(t.clone()).or_default() += 1;
                    }
                }
            }
            e.df = df;
            e.names_total = total;
            let mut entries = std::mem::take(&mut e.entries);
            for en in &mut entries {
                for p in [&mut en.traveler, &mut en.shipper, &mut en.consignee]
                    .into_iter()
                    .flatten()
                {
                    p.name.reweigh(|t| e.rarity(t));
                }
            }
            e.entries = entries;
        }
        e
    }
}

/// Identifier key kinds (first byte of the key).
mod idk {
    pub const CONTAINER: char = 'C';
    pub const DOC: char = 'D';
    pub const POSTAL: char = 'P';
    pub const TRACKING: char = 'T';
    pub const IMO: char = 'I';
    pub const TRAVEL_DOC: char = 'V';
    pub const FLIGHT: char = 'F';
}

fn id_key(kind: char, value: &str) -> String {
    let mut k = String::with_capacity(1 + value.len());
    k.push(kind);
    k.push_str(value);
    k
}

impl Engine {
    /// Indexes `alerts` for screening on `date`; alerts not valid on that date are left out.
    pub fn build(
        alerts: impl IntoIterator<Item = ScreenAlert>,
        date: Date,
        options: Options,
    ) -> Self {
        let mut b = EngineBuilder::new(date, options);
        for sa in alerts {
            b.add(sa);
        }
        b.finish()
    }

    /// Inverse document frequency of a name token among alert names, 1 for unseen tokens'
    /// floor: `ln((N + 1) / (df + 1)) + 1`.
    fn rarity(&self, token: &str) -> f32 {
        let df = self.df.get(token).copied().unwrap_or(0);
        (((self.names_total + 1) as f32) / ((df + 1) as f32)).ln() + 1.0
    }

    fn prepare(&self, text: &str) -> PreparedName {
        PreparedName::weighted(text, |t| self.rarity(t))
    }

    /// Number of alerts screened against.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No alert to screen against.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Alerts left out because they are not valid on the screening date.
    pub fn skipped_not_valid(&self) -> usize {
        self.skipped_not_valid
    }

    /// The screening date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// Whether names are matched.
    pub fn names_enabled(&self) -> bool {
        self.options.names
    }

    /// The record id of the alert behind a match (read without decoding the alert).
    pub fn alert_id(&self, i: u32) -> RecordId {
        match &self.entries[i as usize].alert {
            Kept::Whole(sa) => sa.id,
            Kept::Packed { id, .. } | Kept::Stored(id) => *id,
        }
    }

    /// The alert behind a match (decoded again when kept encoded).
    ///
    /// # Errors
    /// The kept encoding does not decode: cannot happen for an alert that was encoded from
    /// a valid one, but reported rather than assumed.
    pub fn alert(&self, i: u32) -> Result<std::borrow::Cow<'_, ScreenAlert>, FieldError> {
        match &self.entries[i as usize].alert {
            Kept::Whole(sa) => Ok(std::borrow::Cow::Borrowed(sa)),
            Kept::Packed { id, origin, alert } => {
                let pb = <crate::pb::Alert as prost::Message>::decode(&alert[..])
                    .map_err(|e| FieldError::new("alert", format!("kept alert: {e}")))?;
                Ok(std::borrow::Cow::Owned(ScreenAlert {
                    id: *id,
                    origin: origin.clone(),
                    alert: Alert::try_from(&pb)?,
                }))
            }
            Kept::Stored(id) => match &self.source {
                Some(read) => read(id)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|e| FieldError::new("alert", format!("alert {id}: {e}"))),
                None => Err(FieldError::new(
                    "alert",
                    "kept by id with nowhere to read it",
                )),
            },
        }
    }

    /// Screens one line; matches are appended to `out`, highest score first.
    pub fn screen(&self, line: &Line, out: &mut Vec<Match>) {
        let start = out.len();
        let mut acc = Acc::default();
        match &line.subject {
            LineSubject::Cargo(c) => self.screen_cargo(c, &mut acc),
            LineSubject::Passenger(p) => self.screen_passenger(p, &mut acc),
        }
        for (alert, mut ev) in acc.0 {
            // The strongest evidence, plus a little for each further independent piece.
            let best = ev.iter().map(|(s, _)| *s).max().unwrap_or(0);
            let pieces = ev.iter().filter(|(s, _)| *s > 0).count() as u32;
            let score = (best + SCORING.further_evidence * pieces.saturating_sub(1)).min(1000);
            ev.sort_by_key(|e| std::cmp::Reverse(e.0));
            out.push(Match {
                alert,
                score,
                matched: ev.into_iter().map(|(_, e)| e).collect(),
            });
        }
        out[start..].sort_by(|a, b| b.score.cmp(&a.score).then(a.alert.cmp(&b.alert)));
    }

    fn lookup(&self, kind: char, value: &str) -> &[u32] {
        // Build the key on the stack for short values.
        let mut buf = [0u8; 64];
        let key_len = 1 + value.len();
        if key_len <= buf.len() {
            buf[0] = kind as u8;
            buf[1..key_len].copy_from_slice(value.as_bytes());
            if let Ok(k) = std::str::from_utf8(&buf[..key_len]) {
                return self.ids.get(k).map_or(&[], Vec::as_slice);
            }
        }
        self.ids
            .get(&id_key(kind, value))
            .map_or(&[], Vec::as_slice)
    }

    fn screen_cargo(&self, c: &CargoLine, acc: &mut Acc) {
        let exact = |acc: &mut Acc, kind: char, field: &'static str, v: &str, score: u32| {
            for &i in self.lookup(kind, v) {
                acc.add(i, score, field, v, "exact identifier".into());
            }
        };
        for n in &c.container_numbers {
            exact(
                acc,
                idk::CONTAINER,
                "container_numbers",
                n.as_str(),
                SCORING.identifier,
            );
        }
        if let Some(d) = &c.transport_document {
            exact(acc, idk::DOC, "transport_document", d, SCORING.identifier);
        }
        // Air waybills and house bills are transport documents of alerts too; one number
        // given twice on a line counts once.
        for d in [
            c.air_waybill.as_ref().map(|a| a.as_str()),
            c.house_waybill.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if c.transport_document.as_deref() != Some(d) {
                exact(acc, idk::DOC, "transport_document", d, SCORING.identifier);
            }
        }
        if let Some(p) = &c.postal_item_id {
            exact(
                acc,
                idk::POSTAL,
                "postal_item_id",
                p.as_str(),
                SCORING.identifier,
            );
        }
        if let Some(t) = &c.tracking_number {
            exact(
                acc,
                idk::TRACKING,
                "express_tracking_number",
                t.as_str(),
                SCORING.identifier,
            );
        }
        if let Some(m) = &c.vessel_imo {
            exact(acc, idk::IMO, "vessel_imo", m.as_str(), SCORING.vessel_imo);
        }
        if let Some(route) = c.route {
            self.screen_profiles(route, c, acc);
        }
        if self.options.names {
            self.screen_party(&c.shipper, Role::Shipper, acc);
            self.screen_party(&c.consignee, Role::Consignee, acc);
        }
    }

    fn screen_profiles(&self, route: CargoRoute, c: &CargoLine, acc: &mut Acc) {
        let mut desc_tokens: Option<Vec<String>> = None;
        let shipper_country = c.shipper.country.filter(|s| Some(*s) != c.loading_country);
        for cc in [
            Some(None),
            c.loading_country.map(Some),
            shipper_country.map(Some),
        ]
        .into_iter()
        .flatten()
        {
            let Some(list) = self.profiles.get(&(route, cc)) else {
                continue;
            };
            for &i in list {
                let Some(p) = self.entries[i as usize].alert.profile() else {
                    continue;
                };
                if let Some(ev) = profile_fits(p, route, c, &mut desc_tokens) {
                    let n = ev.len() as u32;
                    for (k, (field, value, reason)) in ev.into_iter().enumerate() {
                        // One profile counts once: the first item carries the score.
                        let score = if k == 0 {
                            (SCORING.profile_base + SCORING.profile_per_criterion * n)
                                .min(SCORING.profile_max)
                        } else {
                            0
                        };
                        acc.add(i, score, field, &value, reason);
                    }
                }
            }
        }
    }

    /// Candidate alerts for a name: those found under each of its (up to) two rarest tokens,
    /// each token looked up by its blocking keys (so one typing error still finds it). A name
    /// whose tokens found carry too little of its weight cannot reach the threshold and gets
    /// no candidates at all.
    fn name_candidates(&self, name: &PreparedName, role: Role, out: &mut Vec<u32>) {
        out.clear();
        let units = blocking_units(name);
        let mut per_unit: Vec<(usize, Vec<u64>, u32)> = Vec::with_capacity(units.len());
        let mut keys = Vec::new();
        let mut covered = 0u32;
        for (s, cover) in units {
            keys.clear();
            blocking_keys(&s, &mut keys);
            let hashes: Vec<u64> = keys.clone();
            let n: usize = hashes.iter().map(|&h| self.names.get(h).len()).sum();
            if n > 0 {
                covered |= cover;
                per_unit.push((n, hashes, cover));
            }
        }
        // Upper bound of the score when the tokens not found pair with nothing.
        let total: f32 = name.weights.iter().sum();
        let found: f32 = name
            .weights
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 32 && covered & (1 << i) != 0)
            .map(|(_, w)| w)
            .sum();
        if total <= 0.0 || 0.6 + 0.4 * (found / total) < NAME_THRESHOLD {
            return;
        }
        per_unit.sort_by_key(|t| t.0);
        // The rarest unit always; a second one that does not overlap it, unless too common.
        let second = per_unit
            .iter()
            .skip(1)
            .find(|u| u.2 & per_unit[0].2 == 0 && u.0 <= COMMON_KEY.max(per_unit[0].0));
        let collect = |u: &(usize, Vec<u64>, u32)| -> Vec<u32> {
            let mut v: Vec<u32> =
                u.1.iter()
                    .flat_map(|&h| self.names.get(h).iter().copied())
                    .filter(|&p| NameIndex::role(p) == role)
                    .map(NameIndex::alert)
                    .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let Some(first) = per_unit.first() else {
            return;
        };
        let small = first.0 + second.map_or(0, |u| u.0) <= SMALL_UNION;
        let mut first = collect(first);
        match second {
            None => out.append(&mut first),
            Some(u) if small => {
                // Both rare: either may be the one with a typing error.
                out.append(&mut first);
                out.append(&mut collect(u));
                out.sort_unstable();
                out.dedup();
            }
            Some(u) => {
                // Keep only the candidates found under both.
                let these = collect(u);
                out.extend(these.into_iter().filter(|i| first.binary_search(i).is_ok()));
            }
        }
    }

    fn screen_party(&self, party: &LineParty, role: Role, acc: &mut Acc) {
        let Some(name) = &party.name else { return };
        let seen = self.prepare(name);
        if seen.is_empty() {
            return;
        }
        let mut cands = Vec::new();
        self.name_candidates(&seen, role, &mut cands);
        if cands.is_empty() {
            return;
        }
        let mut address: Option<(Vec<String>, Vec<u64>)> = None;
        let field = match role {
            Role::Shipper => ("shipper.name", "shipper.address", "shipper.country"),
            _ => ("consignee.name", "consignee.address", "consignee.country"),
        };
        for i in cands {
            let e = &self.entries[i as usize];
            let Some(p) = (match role {
                Role::Shipper => &e.shipper,
                _ => &e.consignee,
            }) else {
                continue;
            };
            let sim = similarity(&p.name, &seen);
            if sim < NAME_THRESHOLD {
                continue;
            }
            let mut corroborated = Vec::new();
            if !p.address.is_empty() {
                let (words, hashes) = address.get_or_insert_with(|| {
                    let words = party
                        .address
                        .as_deref()
                        .map(address_tokens)
                        .unwrap_or_default();
                    let hashes = words.iter().map(|t| word_hash(t)).collect();
                    (words, hashes)
                });
                let overlap = token_overlap(&p.address, hashes);
                if overlap >= 0.5 {
                    corroborated.push((
                        field.1,
                        words.join(" "),
                        format!("address overlap {overlap:.2}"),
                    ));
                }
            }
            // A country alone corroborates little (most consignees of Korea-bound cargo are
            // in Korea): it needs a closer name than an address does.
            if let (Some(x), Some(y)) = (p.country, party.country) {
                if x == y && (sim >= COUNTRY_ONLY_THRESHOLD || !corroborated.is_empty()) {
                    corroborated.push((field.2, y.to_string(), "same country".into()));
                }
            }
            let alone = p.address.is_empty() && p.country.is_none();
            if corroborated.is_empty() && !(alone && sim >= NAME_ALONE_THRESHOLD) {
                continue;
            }
            let score = (sim * SCORING.party_name).round() as u32
                + SCORING.party_corroboration * corroborated.len() as u32;
            let reason = if alone {
                format!("name similarity {sim:.2} (the alert gives no address or country)")
            } else {
                format!("name similarity {sim:.2}")
            };
            acc.add(
                i,
                score.min(SCORING.party_max),
                field.0,
                &seen.folded(),
                reason,
            );
            for (f, v, r) in corroborated {
                acc.add(i, 0, f, &v, r);
            }
        }
    }

    fn screen_passenger(&self, p: &PassengerLine, acc: &mut Acc) {
        if let (Some(n), Some(c)) = (&p.document_number, p.document_country) {
            let v = format!("{c}{}", n.as_str());
            for &i in self.lookup(idk::TRAVEL_DOC, &v) {
                acc.add(
                    i,
                    SCORING.identifier,
                    "document",
                    &v,
                    "exact document number and issuing country".into(),
                );
            }
        }
        let full = match &p.given_names {
            Some(g) => format!("{} {}", p.family_name, g),
            None => p.family_name.clone(),
        };
        let seen = self.prepare(&full);
        if let (Some(f), Some(d)) = (&p.flight_or_voyage, p.travel_date) {
            let v = format!("{f}/{d}");
            for &i in self.lookup(idk::FLIGHT, &v) {
                let Some(t) = &self.entries[i as usize].traveler else {
                    continue;
                };
                let sim = similarity(&t.name, &seen);
                if sim >= FLIGHT_NAME_THRESHOLD {
                    acc.add(
                        i,
                        (SCORING.flight_base + SCORING.flight_name * sim).round() as u32,
                        "flight_or_voyage",
                        &v,
                        format!("same flight and date, name similarity {sim:.2}"),
                    );
                }
            }
        }
        if !self.options.names || seen.is_empty() {
            return;
        }
        // Same date of birth: compare names.
        if let Some(dob) = p.date_of_birth.and_then(|b| b.full()) {
            for &i in self.dob.get(&dob).map_or(&[][..], Vec::as_slice) {
                let Some(t) = &self.entries[i as usize].traveler else {
                    continue;
                };
                let sim = similarity(&t.name, &seen);
                if sim < NAME_THRESHOLD {
                    continue;
                }
                let mut score =
                    (sim * SCORING.traveler_name).round() as u32 + SCORING.traveler_same_dob;
                let mut nat = None;
                if let (Some(a), Some(b)) = (t.country, p.nationality) {
                    if a == b {
                        score += SCORING.traveler_same_nationality;
                        nat = Some(b);
                    } else {
                        score = score.saturating_sub(SCORING.traveler_other_nationality);
                    }
                }
                acc.add(
                    i,
                    score.min(SCORING.traveler_max),
                    "name",
                    &seen.folded(),
                    format!("name similarity {sim:.2}"),
                );
                acc.add(
                    i,
                    0,
                    "date_of_birth",
                    &dob.to_string(),
                    "same date of birth".into(),
                );
                if let Some(n) = nat {
                    acc.add(i, 0, "nationality", n.as_str(), "same nationality".into());
                }
            }
        }
        // Alerts without a date of birth: by name, corroborated by nationality.
        let Some(nat) = p.nationality else { return };
        let mut cands = Vec::new();
        self.name_candidates(&seen, Role::Traveler, &mut cands);
        for i in cands {
            let e = &self.entries[i as usize];
            let Some(t) = &e.traveler else { continue };
            if e.dob.is_some() || t.country != Some(nat) {
                continue;
            }
            let sim = similarity(&t.name, &seen);
            if sim < NAME_THRESHOLD {
                continue;
            }
            acc.add(
                i,
                (sim * SCORING.traveler_name_no_dob).round() as u32,
                "name",
                &seen.folded(),
                format!("name similarity {sim:.2} (the alert gives no date of birth)"),
            );
            acc.add(i, 0, "nationality", nat.as_str(), "same nationality".into());
        }
    }
}

/// The units a name is blocked on: each token's skeleton, and each pair of adjacent tokens
/// joined ("min" + "ho" = "minho"), with the bit set of the tokens each covers.
fn blocking_units(name: &PreparedName) -> Vec<(String, u32)> {
    let n = name.skeletons.len().min(16);
    let mut v = Vec::with_capacity(2 * n);
    for i in 0..n {
        v.push((name.skeletons[i].clone(), 1u32 << i));
        if name.tokens[i] != name.skeletons[i] {
            // The spelling too: a typing error can change the skeleton more than the word.
            v.push((name.tokens[i].clone(), 1u32 << i));
        }
        if i + 1 < n && n <= 6 {
            let joined = format!("{}{}", name.tokens[i], name.tokens[i + 1]);
            v.push((fold::skeleton(&joined), (1u32 << i) | (1 << (i + 1))));
        }
    }
    v
}

/// Address words that say nothing about which address it is.
const ADDRESS_NOISE: &[&str] = &[
    "ro", "gil", "gu", "dong", "si", "gun", "eup", "myeon", "street", "st", "road", "rd", "avenue",
    "ave", "district", "dist", "ward", "phuong", "quan", "city", "province", "no", "floor", "fl",
    "building", "bldg", "room", "unit", "soi", "thanon", "moo", "jalan", "jl", "korea", "republic",
    "of", "the", "seoul", "busan", "incheon", "daegu", "gwangju",
];

/// The distinctive words of an address: no numbers, no generic words.
fn address_tokens(text: &str) -> Vec<String> {
    fold::tokens(text)
        .into_iter()
        .filter(|t| t.len() >= 3 && !t.bytes().all(|b| b.is_ascii_digit()))
        .filter(|t| !ADDRESS_NOISE.contains(&t.as_str()))
        .collect()
}

/// A word as 64 bits (FNV-1a): alerts keep their address words so, compared for equality.
fn word_hash(t: &str) -> u64 {
    t.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Share of the alert's distinctive address words found on the line.
fn token_overlap(alert: &[u64], seen: &[u64]) -> f32 {
    if alert.is_empty() {
        return 0.0;
    }
    let found = alert.iter().filter(|t| seen.contains(t)).count();
    found as f32 / alert.len() as f32
}

/// Whether a consignment fits a profile; the evidence for each criterion when it does.
fn profile_fits(
    p: &Profile,
    route: CargoRoute,
    c: &CargoLine,
    desc: &mut Option<Vec<String>>,
) -> Option<Vec<(&'static str, String, String)>> {
    // Decide first, without allocating: most profiles looked at do not fit.
    if !p.routes.contains(&route) {
        return None;
    }
    let origin = match p.origin_countries.is_empty() {
        true => None,
        false => Some(
            [c.loading_country, c.shipper.country]
                .into_iter()
                .flatten()
                .find(|cc| p.origin_countries.contains(cc))?,
        ),
    };
    let hs = match p.hs_prefixes.is_empty() {
        true => None,
        false => {
            let hs = c.hs_code.as_ref()?;
            let pre = p
                .hs_prefixes
                .iter()
                .find(|x| hs.as_str().starts_with(x.as_str()))?;
            Some((hs, pre))
        }
    };
    let port = match p.discharge_ports.is_empty() {
        true => None,
        false => Some(
            c.discharge_port
                .as_ref()
                .filter(|d| p.discharge_ports.contains(d))?,
        ),
    };
    let weight = match p.min_weight_kg.is_some() || p.max_weight_kg.is_some() {
        false => None,
        true => {
            let w = c.weight_grams?;
            if p.min_weight_kg.is_some_and(|m| w < m.grams())
                || p.max_weight_kg.is_some_and(|m| w > m.grams())
            {
                return None;
            }
            Some(w)
        }
    };
    let arrival = match p.arrival_from.is_some() || p.arrival_until.is_some() {
        false => None,
        true => {
            let d = c.arrival_date?;
            if p.arrival_from.is_some_and(|f| d < f) || p.arrival_until.is_some_and(|u| d > u) {
                return None;
            }
            Some(d)
        }
    };
    let keyword = match p.keywords.is_empty() {
        true => None,
        false => {
            let text = c.goods_description.as_deref()?;
            let tokens = desc.get_or_insert_with(|| fold::tokens(text));
            Some(
                p.keywords
                    .iter()
                    .find(|k| fold::contains_token(tokens, k.as_str()))?,
            )
        }
    };
    // It fits: the evidence, criterion by criterion.
    let mut ev = Vec::with_capacity(7);
    ev.push((
        "profile.routes",
        route.as_str().to_owned(),
        "route in profile".to_owned(),
    ));
    if let Some(hit) = origin {
        ev.push((
            "profile.origin_countries",
            hit.to_string(),
            "origin country in profile".into(),
        ));
    }
    if let Some((hs, pre)) = hs {
        ev.push((
            "profile.hs_prefixes",
            hs.to_string(),
            format!("HS code under {pre}"),
        ));
    }
    if let Some(port) = port {
        ev.push((
            "profile.discharge_ports",
            port.to_string(),
            "discharge port in profile".into(),
        ));
    }
    if let Some(w) = weight {
        ev.push((
            "profile.weight",
            format!("{} kg", w as f64 / 1000.0),
            "weight in range".into(),
        ));
    }
    if let Some(d) = arrival {
        ev.push(("profile.arrival", d.to_string(), "arrival in window".into()));
    }
    if let Some(k) = keyword {
        ev.push((
            "profile.keywords",
            k.to_string(),
            "keyword in goods description".into(),
        ));
    }
    Some(ev)
}

/// Evidence gathered per alert for one line.
#[derive(Default)]
struct Acc(Vec<(u32, Vec<(u32, Evidence)>)>);

impl Acc {
    fn add(&mut self, alert: u32, score: u32, field: &'static str, value: &str, reason: String) {
        let ev = Evidence {
            field,
            value: value.to_owned(),
            reason,
        };
        match self.0.iter_mut().find(|(a, _)| *a == alert) {
            Some((_, v)) => {
                if !v
                    .iter()
                    .any(|(_, e)| e.field == field && e.value == ev.value)
                {
                    v.push((score, ev));
                }
            }
            None => self.0.push((alert, vec![(score, ev)])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::formats::{read_all, ReadOptions};

    fn alert() -> ScreenAlert {
        let a = Alert::from_json(
            r#"{"title": "t", "subject": {"cargo": {"route": "postal", "postal_item_id": "RR123456785NL"}},
               "substances": ["ketamine"], "risk": "high",
               "validity": {"valid_from": "2026-11-01", "valid_until": "2026-12-31"},
               "distribution": {"all_partners": true}, "handling": {"tlp": "amber"}}"#,
        )
        .unwrap();
        ScreenAlert {
            id: RecordId([7; 32]),
            origin: Origin::parse("NL/rtm").unwrap(),
            alert: a,
        }
    }

    fn screen_on(date: &str) -> (usize, usize, usize) {
        let engine = Engine::build(
            vec![alert()],
            Date::parse(date).unwrap(),
            Options::default(),
        );
        let (_, _, lines, _) = read_all(
            b"reference,route,postal_item_id\nP1,postal,rr 123 456 785 nl\n",
            &ReadOptions::default(),
        )
        .unwrap();
        let mut hits = Vec::new();
        for l in &lines {
            engine.screen(l, &mut hits);
        }
        (engine.len(), engine.skipped_not_valid(), hits.len())
    }

    #[test]
    fn an_alert_is_kept_encoded_or_by_id_and_read_back_whole() {
        let date = Date::parse("2026-11-24").unwrap();
        let (_, _, lines, _) = read_all(
            b"reference,route,postal_item_id\nP1,postal,rr 123 456 785 nl\n",
            &ReadOptions::default(),
        )
        .unwrap();
        let packed = Engine::build(vec![alert()], date, Options::default());
        let source: AlertSource = std::sync::Arc::new(|id: &RecordId| {
            if *id == RecordId([7; 32]) {
                Ok(alert())
            } else {
                Err("not stored".into())
            }
        });
        let mut b = EngineBuilder::with_source(date, Options::default(), source);
        b.add(alert());
        let by_id = b.finish();
        for engine in [&packed, &by_id] {
            let mut hits = Vec::new();
            engine.screen(&lines[0], &mut hits);
            assert_eq!(hits.len(), 1);
            let a = engine.alert(hits[0].alert).unwrap();
            assert_eq!(a.id, RecordId([7; 32]));
            assert_eq!(a.alert, alert().alert);
            assert_eq!(a.origin.to_string(), "NL/rtm");
        }
        // A source that cannot read the alert back is reported, not assumed.
        let failing: AlertSource = std::sync::Arc::new(|_: &RecordId| Err("gone".into()));
        let mut b = EngineBuilder::with_source(date, Options::default(), failing);
        b.add(alert());
        let e = b.finish().alert(0).unwrap_err();
        assert!(e.to_string().contains("gone"), "{e}");
    }

    #[test]
    fn validity_window_decides() {
        assert_eq!(screen_on("2026-11-24"), (1, 0, 1), "valid: matches");
        assert_eq!(screen_on("2027-01-01"), (0, 1, 0), "expired: never matches");
        assert_eq!(
            screen_on("2026-10-31"),
            (0, 1, 0),
            "not yet valid: never matches"
        );
    }
}
