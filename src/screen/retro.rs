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
use crate::store::{HeldLine, Store, StoreError};

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
}

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
                out.push(key(kind::ROUTE, r.as_str()));
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
        Subject::Profile(p) => {
            for r in &p.routes {
                out.push(key(kind::ROUTE, r.as_str()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
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

/// Name tokens found on more held lines than this are too common to search by, unless the
/// name has nothing rarer.
const COMMON_NAME_KEY: usize = 2_000;

/// The keys worth searching by: every identifier and route key, and of the name keys the two
/// rarest among the held lines (a true match shares nearly all its name's tokens, so the rare
/// ones find it; a common one such as "trading" would only add candidates), plus any other
/// name key that is rare too.
///
/// # Errors
/// Storage failure.
pub fn probe_keys(store: &Store, keys: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    let mut names = Vec::new();
    for k in keys {
        if k.first() == Some(&kind::NAME) {
            names.push((store.held_postings(k, COMMON_NAME_KEY + 1)?, k));
        } else {
            out.push(k.clone());
        }
    }
    names.sort();
    for (i, (n, k)) in names.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        if i < 2 || *n <= COMMON_NAME_KEY / 10 {
            out.push((*k).clone());
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
    let keys = probe_keys(store, &alert_keys(&alert.alert))?;
    let engine = Engine::build(vec![alert], today, Options { names: true });
    let mut hits = Vec::new();
    if engine.is_empty() || keys.is_empty() {
        return Ok((engine, hits));
    }
    let mut out = Vec::new();
    for (id, json) in store.held_candidates(&keys, MAX_CANDIDATES)? {
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
}
