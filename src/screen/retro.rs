//! Retro-screening: lines screened before an alert existed meet it when it arrives.
//!
//! A node keeps the screened lines of consignments and travelers that have not arrived yet
//! (the store's held lines). Each line is found again by *probe keys*: its identifiers, the
//! tokens of its names and its route. A new alert yields the same kinds of keys; the lines
//! sharing one are screened against that alert by the ordinary engine, so retro-screening
//! decides exactly as screening does. The keys only narrow the search.

use sha2::{Digest, Sha256};

use super::manifest::{Line, Subject as LineSubject};
use super::{Engine, LineHit, Options, ScreenAlert};
use crate::model::{fold, Alert, Date, Subject};
use crate::store::{HeldEntry, HeldLine, Store, StoreError, MAX_PROBES};

/// Most held lines screened against one new alert (its probe keys narrow the search; a
/// profile alert over a busy route may meet more, and then only this many are screened).
pub const MAX_CANDIDATES: usize = 200_000;

/// Identifier kinds of probe keys (as the engine's identifier index).
mod kind {
    pub const CONTAINER: u8 = b'C';
    pub const DOC: u8 = b'D';
    pub const POSTAL: u8 = b'P';
    pub const TRACKING: u8 = b'T';
    pub const IMO: u8 = b'I';
    pub const TRAVEL_DOC: u8 = b'V';
    pub const FLIGHT: u8 = b'F';
    pub const NAME: u8 = b'N';
    pub const ROUTE: u8 = b'R';
    /// Route and origin country.
    pub const ROUTE_ORIGIN: u8 = b'O';
    /// Route and HS chapter.
    pub const ROUTE_CHAPTER: u8 = b'S';
    /// Route, origin country and HS chapter.
    pub const ROUTE_ORIGIN_CHAPTER: u8 = b'Q';
}

/// Most keys a profile alert probes with; a profile combining more routes, countries and
/// chapters probes with the less specific keys.
const MAX_PROFILE_KEYS: usize = 32;

fn key(kind: u8, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + value.len());
    k.push(kind);
    k.extend_from_slice(value.as_bytes());
    k
}

/// Name tokens long enough to narrow the search (short ones such as "van" or "co" would
/// find everyone).
fn name_keys(name: &str, out: &mut Vec<Vec<u8>>) {
    for t in fold::name_tokens(name) {
        if t.len() >= 3 {
            out.push(key(kind::NAME, &t));
        }
    }
}

/// Probe keys of a screened line.
#[must_use]
pub fn line_keys(line: &Line) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match &line.subject {
        LineSubject::Cargo(c) => {
            for n in &c.container_numbers {
                out.push(key(kind::CONTAINER, n.as_str()));
            }
            if let Some(d) = &c.transport_document {
                out.push(key(kind::DOC, d));
            }
            if let Some(p) = &c.postal_item_id {
                out.push(key(kind::POSTAL, p.as_str()));
            }
            if let Some(t) = &c.tracking_number {
                out.push(key(kind::TRACKING, t.as_str()));
            }
            if let Some(m) = &c.vessel_imo {
                out.push(key(kind::IMO, m.as_str()));
            }
            for p in [&c.shipper, &c.consignee] {
                if let Some(n) = &p.name {
                    name_keys(n, &mut out);
                }
            }
            if let Some(r) = c.route {
                // Profiles name a route and often origins and HS chapters: lines are also
                // found by the combinations, so a profile screens only the lines that can fit
                // it, not every line on its route.
                let r = r.as_str();
                out.push(key(kind::ROUTE, r));
                let chapter = c.hs_code.as_ref().map(|h| h.chapter());
                if let Some(ch) = chapter {
                    out.push(key(kind::ROUTE_CHAPTER, &format!("{r}/{ch}")));
                }
                for cc in [c.loading_country, c.shipper.country].into_iter().flatten() {
                    out.push(key(kind::ROUTE_ORIGIN, &format!("{r}/{cc}")));
                    if let Some(ch) = chapter {
                        out.push(key(kind::ROUTE_ORIGIN_CHAPTER, &format!("{r}/{cc}/{ch}")));
                    }
                }
            }
        }
        LineSubject::Passenger(p) => {
            if let (Some(n), Some(c)) = (&p.document_number, p.document_country) {
                out.push(key(kind::TRAVEL_DOC, &format!("{c}{}", n.as_str())));
            }
            if let (Some(f), Some(d)) = (&p.flight_or_voyage, p.travel_date) {
                out.push(key(kind::FLIGHT, &format!("{f}/{d}")));
            }
            name_keys(&p.family_name, &mut out);
            if let Some(g) = &p.given_names {
                name_keys(g, &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Probe keys of an alert: the lines sharing one of them are screened against it.
#[must_use]
pub fn alert_keys(alert: &Alert) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match &alert.subject {
        Subject::Traveler(t) => {
            if let Some(d) = &t.document {
                out.push(key(
                    kind::TRAVEL_DOC,
                    &format!("{}{}", d.issuing_country, d.number.as_str()),
                ));
            }
            if let (Some(f), Some(d)) = (&t.flight_or_voyage, &t.travel_date) {
                out.push(key(kind::FLIGHT, &format!("{f}/{d}")));
            }
            name_keys(t.family_name.as_str(), &mut out);
            if let Some(g) = &t.given_names {
                name_keys(g.as_str(), &mut out);
            }
        }
        Subject::Cargo(c) => {
            for n in &c.container_numbers {
                out.push(key(kind::CONTAINER, n.as_str()));
            }
            if let Some(d) = &c.transport_document {
                out.push(key(kind::DOC, d.number()));
            }
            if let Some(p) = &c.postal_item_id {
                out.push(key(kind::POSTAL, p.as_str()));
            }
            if let Some(t) = &c.express_tracking_number {
                out.push(key(kind::TRACKING, t.as_str()));
            }
            if let Some(m) = &c.vessel_imo {
                out.push(key(kind::IMO, m.as_str()));
            }
            for p in [&c.shipper, &c.consignee].into_iter().flatten() {
                name_keys(p.name.as_str(), &mut out);
            }
        }
        Subject::Profile(p) => profile_keys(p, &mut out),
    }
    out.sort();
    out.dedup();
    out
}

/// Probe keys of a profile: the most specific combination of its routes, origin countries and
/// HS chapters that it requires (a consignment fits a profile only if it meets every
/// criterion the profile sets).
fn profile_keys(p: &crate::model::Profile, out: &mut Vec<Vec<u8>>) {
    let mut chapters: Vec<&str> = p.hs_prefixes.iter().map(|h| h.chapter()).collect();
    chapters.sort_unstable();
    chapters.dedup();
    let (routes, countries) = (p.routes.len(), p.origin_countries.len());
    let fits = |n: usize| n > 0 && n <= MAX_PROFILE_KEYS;
    for r in &p.routes {
        let r = r.as_str();
        if fits(routes * countries * chapters.len()) {
            for cc in &p.origin_countries {
                for ch in &chapters {
                    out.push(key(kind::ROUTE_ORIGIN_CHAPTER, &format!("{r}/{cc}/{ch}")));
                }
            }
        } else if fits(routes * countries) {
            for cc in &p.origin_countries {
                out.push(key(kind::ROUTE_ORIGIN, &format!("{r}/{cc}")));
            }
        } else if fits(routes * chapters.len()) {
            for ch in &chapters {
                out.push(key(kind::ROUTE_CHAPTER, &format!("{r}/{ch}")));
            }
        } else {
            out.push(key(kind::ROUTE, r));
        }
    }
}

/// Days since 1970-01-01 of a date.
#[must_use]
pub fn day_number(d: Date) -> u32 {
    let epoch = Date::parse("1970-01-01").unwrap_or(d);
    u32::try_from(epoch.days_until(&d).max(0)).unwrap_or(0)
}

/// The last day a line screened on `screened_on` is kept: its arrival (a consignment's
/// arrival date, a traveler's travel date, else the screening day) plus `keep_days`. `None`
/// when that day has already passed: the line has arrived and is not held.
#[must_use]
pub fn keep_until(line: &Line, screened_on: Date, keep_days: u32) -> Option<u32> {
    let arrival = match &line.subject {
        LineSubject::Cargo(c) => c.arrival_date,
        LineSubject::Passenger(p) => p.travel_date,
    }
    .unwrap_or(screened_on);
    let until = day_number(arrival).saturating_add(keep_days);
    (until >= day_number(screened_on)).then_some(until)
}

/// A line's id: a hash of its content (a manifest screened twice is held once).
#[must_use]
pub fn line_id(serialized: &[u8]) -> [u8; 16] {
    let d = Sha256::digest(serialized);
    let mut id = [0u8; 16];
    id.copy_from_slice(&d[..16]);
    id
}

/// Holds the lines of one screened block that have not arrived yet. Returns how many were
/// new (a line held before is not held twice).
///
/// # Errors
/// Storage failure.
pub fn hold_block(
    store: &Store,
    keep_days: u32,
    lines: &[Line],
    screened_on: Date,
) -> Result<usize, StoreError> {
    let keep = keep_days;
    if keep == 0 || lines.is_empty() {
        return Ok(0);
    }
    let mut held = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(until) = keep_until(l, screened_on, keep) else {
            continue;
        };
        let Ok(json) = serde_json::to_vec(l) else {
            continue;
        };
        held.push(HeldLine {
            id: line_id(&json),
            keep_until_day: until,
            line: json,
            keys: line_keys(l),
        });
    }
    store.hold_lines(&held)
}

/// A name token the filters place in at most this many held segments is rare enough to
/// find a line by on its own.
const RARE_NAME_SEGMENTS: usize = 4;

/// A name token in more than this share of the held segments (and more than
/// [`COMMON_NAME_FLOOR`] of them) is too common to search by at all.
const COMMON_NAME_SHARE: usize = 16;

/// A name token in at most this many segments never counts as too common (reading that many
/// segments takes about a millisecond).
const COMMON_NAME_FLOOR: usize = 16;

/// The held lines worth screening against an alert with probe `keys`, at most `cap`.
///
/// A line is a candidate when it shares with the alert an identifier or route key, or its
/// rarest name token, or any name token that is rare among the held lines, or at least two
/// of its name tokens that are not common. A true match shares nearly all its name's tokens,
/// so this finds it even with one token misspelt, while common tokens such as "trading" or
/// "nguyen" (in more than one segment in [`COMMON_NAME_SHARE`]) never make a line a
/// candidate unless it shares the rarest one too. How rare a token is comes from the
/// segments' filters (in how many segments it may appear), read once; within a segment each
/// line's own keys are compared exactly.
///
/// # Errors
/// Storage failure.
pub fn candidates(
    store: &Store,
    keys: &[Vec<u8>],
    cap: usize,
) -> Result<Vec<HeldEntry>, StoreError> {
    let keys: Vec<Vec<u8>> = keys.iter().take(MAX_PROBES).cloned().collect();
    let found = store.held_segments_matching(&keys)?;
    let common = (found.segments / COMMON_NAME_SHARE).max(COMMON_NAME_FLOOR);
    let matches = found.matches;
    let mut segments = vec![0usize; keys.len()];
    for (_, mask) in &matches {
        for (i, n) in segments.iter_mut().enumerate() {
            if mask >> i & 1 == 1 {
                *n += 1;
            }
        }
    }
    // `strong`: one shared key makes a candidate; `names`: two shared make one.
    let mut strong = 0u64;
    let mut names = 0u64;
    let mut by_rarity = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if k.first() == Some(&kind::NAME) {
            if segments[i] > 0 {
                by_rarity.push((segments[i], i));
            }
            if segments[i] <= common {
                names |= 1 << i;
            }
        } else if segments[i] > 0 {
            strong |= 1 << i;
        }
    }
    by_rarity.sort_unstable();
    for (rank, (n, i)) in by_rarity.into_iter().enumerate() {
        if rank == 0 || n <= RARE_NAME_SEGMENTS {
            strong |= 1 << i;
        }
    }
    let wanted = |mask: u64| mask & strong != 0 || (mask & names).count_ones() >= 2;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (segment, mask) in matches {
        if !wanted(mask) {
            continue;
        }
        let lines = store.held_lines_where(segment, cap - out.len(), |line_keys| {
            let mut m = 0u64;
            for (i, k) in keys.iter().enumerate() {
                if line_keys.contains(&k.as_slice()) {
                    m |= 1 << i;
                }
            }
            wanted(m)
        })?;
        for e in lines {
            if seen.insert(e.0) {
                out.push(e);
            }
        }
        if out.len() >= cap {
            break;
        }
    }
    Ok(out)
}

/// A hit on a held line: the hit and the line's id.
pub type HeldHit = (LineHit, [u8; 16]);

/// Screens the lines held now against one alert version (blocking). Returns the hits.
///
/// # Errors
/// Storage failure.
pub fn screen_held(
    store: &Store,
    alert: ScreenAlert,
    today: Date,
) -> Result<(Engine, Vec<HeldHit>), StoreError> {
    let keys = alert_keys(&alert.alert);
    let engine = Engine::build(vec![alert], today, Options { names: true });
    let mut hits = Vec::new();
    if engine.is_empty() || keys.is_empty() {
        return Ok((engine, hits));
    }
    let mut out = Vec::new();
    let found = candidates(store, &keys, MAX_CANDIDATES)?;
    if found.len() >= MAX_CANDIDATES {
        tracing::warn!(
            alert = %engine.alert(0).map(|a| a.id.to_hex()).unwrap_or_default(),
            screened = found.len(),
            "retro-screening stopped at the most lines screened against one alert; \
             lines beyond them were not screened (a broad profile: narrow its routes, \
             origins or HS chapters)"
        );
    }
    for (id, json) in found {
        let Ok(line) = serde_json::from_slice::<Line>(&json) else {
            tracing::warn!("a held line does not decode; skipped");
            continue;
        };
        out.clear();
        engine.screen(&line, &mut out);
        for m in out.drain(..) {
            hits.push((
                LineHit {
                    line: line.line,
                    reference: line.reference.clone(),
                    hit: m,
                },
                id,
            ));
        }
    }
    Ok((engine, hits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::manifest::{CargoLine, PassengerLine};

    fn cargo(container: &str, arrival: Option<&str>) -> Line {
        Line {
            line: 2,
            reference: "B/L 1".into(),
            subject: LineSubject::Cargo(Box::new(CargoLine {
                container_numbers: vec![crate::model::ContainerNumber::parse(container).unwrap()],
                arrival_date: arrival.map(|a| Date::parse(a).unwrap()),
                consignee: crate::screen::manifest::LineParty {
                    name: Some("Hanbit Fresh Trading Co., Ltd.".into()),
                    ..Default::default()
                },
                ..Default::default()
            })),
        }
    }

    #[test]
    fn lines_and_alerts_meet_on_identifiers_and_names() {
        let line = cargo("CSQU3054383", Some("2026-12-20"));
        let keys = line_keys(&line);
        assert!(keys.contains(&b"CCSQU3054383".to_vec()), "{keys:?}");
        assert!(keys.contains(&b"Nhanbit".to_vec()), "{keys:?}");
        assert!(
            !keys.iter().any(|k| k == b"Nco" || k == b"Nltd"),
            "legal forms are noise"
        );
        let alert = Alert::from_json(
            r#"{"title": "Cocaine in bananas",
               "subject": {"cargo": {"route": "sea-container", "container_numbers": ["CSQU3054383"]}},
               "substances": ["cocaine"], "risk": "high",
               "validity": {"valid_from": "2026-11-01", "valid_until": "2027-01-31"},
               "distribution": {"all_partners": true}, "handling": {"tlp": "amber"}}"#,
        )
        .unwrap();
        let ak = alert_keys(&alert);
        assert!(ak.iter().any(|k| keys.contains(k)));
        let p = Line {
            line: 3,
            reference: "12A".into(),
            subject: LineSubject::Passenger(Box::new(PassengerLine {
                family_name: "Nguyễn".into(),
                given_names: Some("Văn Hùng".into()),
                ..Default::default()
            })),
        };
        assert!(line_keys(&p).contains(&b"Nnguyen".to_vec()));
    }

    #[test]
    fn lines_are_kept_until_arrival_plus_the_grace_days() {
        let today = Date::parse("2026-12-01").unwrap();
        let l = cargo("CSQU3054383", Some("2026-12-20"));
        assert_eq!(
            keep_until(&l, today, 3),
            Some(day_number(Date::parse("2026-12-23").unwrap()))
        );
        let arrived = cargo("CSQU3054383", Some("2026-11-20"));
        assert_eq!(keep_until(&arrived, today, 3), None);
        let undated = cargo("CSQU3054383", None);
        assert_eq!(keep_until(&undated, today, 3), Some(day_number(today) + 3));
        assert_eq!(day_number(Date::parse("1970-01-02").unwrap()), 1);
    }

    #[test]
    fn candidates_share_an_identifier_the_rarest_name_token_or_two_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let today = Date::parse("2026-12-01").unwrap();
        let named = |n: usize, name: &str| {
            let mut l = cargo("CSQU3054383", None);
            l.line = n as u64;
            if let LineSubject::Cargo(c) = &mut l.subject {
                c.container_numbers.clear();
                c.consignee.name = Some(name.into());
            }
            l
        };
        // Many lines in many screened blocks share the common words; one is the company, one
        // has its rare word misspelt, one shares only common words.
        for block in 0..40 {
            let lines: Vec<Line> = (0..50)
                .map(|n| named(5000 + block * 50 + n, &format!("Thanh Textiles Group {n}")))
                .collect();
            hold_block(&store, 3, &lines, today).unwrap();
        }
        let lines = vec![
            named(1000, "Thanh Kamritrosmak Textiles Inc."),
            named(1001, "Kamritrosmac Wathanvepel Textiles"),
            named(1002, "Thanh Textiles Inc."),
        ];
        hold_block(&store, 3, &lines, today).unwrap();
        let alert = Alert::from_json(
            r#"{"title": "Front company",
               "subject": {"cargo": {"route": "express",
                  "consignee": {"name": "Kamritrosmak Wathanvepel Textiles Co., Ltd."}}},
               "substances": ["ketamine"], "risk": "high",
               "validity": {"valid_from": "2026-11-01", "valid_until": "2027-01-31"},
               "distribution": {"all_partners": true}, "handling": {"tlp": "amber"}}"#,
        )
        .unwrap();
        let got: Vec<u64> = candidates(&store, &alert_keys(&alert), MAX_CANDIDATES)
            .unwrap()
            .iter()
            .map(|(_, json)| serde_json::from_slice::<Line>(json).unwrap().line)
            .collect();
        assert!(got.contains(&1000), "shares the rarest token: {got:?}");
        assert!(got.contains(&1001), "shares two tokens: {got:?}");
        assert!(!got.contains(&1002), "shares common tokens only: {got:?}");
        assert!(got.len() <= 3, "{got:?}");
    }

    #[test]
    fn profiles_probe_the_combinations_they_require() {
        let alert = Alert::from_json(
            r#"{"title": "Pharmaceuticals by express from Thailand",
               "subject": {"profile": {"routes": ["express"], "origin_countries": ["TH", "VN"],
                  "hs_prefixes": ["3004", "300490"]}},
               "substances": ["ketamine"], "risk": "medium",
               "validity": {"valid_from": "2026-11-01", "valid_until": "2027-01-31"},
               "distribution": {"all_partners": true}, "handling": {"tlp": "amber"}}"#,
        )
        .unwrap();
        let keys = alert_keys(&alert);
        assert_eq!(
            keys,
            vec![b"Qexpress/TH/30".to_vec(), b"Qexpress/VN/30".to_vec()]
        );
        let mut l = cargo("CSQU3054383", None);
        if let LineSubject::Cargo(c) = &mut l.subject {
            c.route = Some(crate::model::CargoRoute::Express);
            c.loading_country = Some(crate::model::CountryCode::parse("VN").unwrap());
            c.hs_code = Some(crate::model::HsCode::parse("300490").unwrap());
        }
        assert!(line_keys(&l).contains(&b"Qexpress/VN/30".to_vec()));
    }
}
