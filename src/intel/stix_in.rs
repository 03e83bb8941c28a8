//! STIX 2.1 bundles into intelligence items (docs/STIX.md, "Import").
//!
//! Each current, unrevoked `indicator` becomes one item:
//!
//! - its `pattern` (`pattern_type: "stix"`) is parsed by [`parse_pattern`], which knows only
//!   the comparison subset `[path = 'value' AND|OR ...]` joined by `AND`/`OR`; any other
//!   construct (other operators, qualifiers, `FOLLOWEDBY`, `NOT`, parentheses, numbers) is
//!   reported as unsupported, naming the object and the pattern;
//! - the observables kdesk knows become selectors: `email-addr:value`,
//!   `phone-number:value`, `bank-account:iban` / `bank-account:account_number`,
//!   `cryptocurrency-wallet:value`; a pattern over any other path is reported;
//! - an indicator carrying kdesk's alert-subject extension (an export of another kdesk node)
//!   gets its subject and substances from it, so a kdesk bundle round-trips;
//! - grading: reliability from the source's default (else F, cannot be judged); credibility
//!   from `confidence` (STIX 2.1 appendix, Admiralty scale: 90+ → 1 ... below 20 → 5; none →
//!   6); handling from the TLP marking (clear, green → H1; amber → H3; amber+strict → H4;
//!   red → H5; none → H4), and at least H4 for a kdesk alert marked `no_onward_sharing`, so
//!   that it is never promoted and relayed;
//! - validity from `valid_from` / `valid_until` (a year when it has no end).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::import::{BadRow, Read};
use super::stix::{extension_id, tlp_marking_id};
use crate::model::intel::{IntelItem, Reliability};
use crate::model::{Date, Substance, Tlp};

/// One comparison of a pattern: `type:path = 'value'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Object type, e.g. `email-addr`.
    pub object: String,
    /// Property path, e.g. `value`, `document.number`, `container_numbers[*]`.
    pub path: String,
    /// The value compared with.
    pub value: String,
}

/// A pattern kdesk cannot read, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported pattern {pattern:?}: {reason}")]
pub struct Unsupported {
    /// The pattern.
    pub pattern: String,
    /// What in it is not supported.
    pub reason: String,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Str(String),
    Op(String),
}

impl Lexer<'_> {
    fn next(&mut self) -> Result<Option<Tok>, String> {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        let Some(&c) = self.s.get(self.i) else {
            return Ok(None);
        };
        match c {
            b'[' => {
                self.i += 1;
                Ok(Some(Tok::Open))
            }
            b']' => {
                self.i += 1;
                Ok(Some(Tok::Close))
            }
            b'\'' => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err("a string is not closed".into()),
                        Some(b'\\') => match self.s.get(self.i + 1) {
                            Some(&e @ (b'\\' | b'\'')) => {
                                out.push(e);
                                self.i += 2;
                            }
                            _ => return Err("a string has an escape other than \\\\ or \\'".into()),
                        },
                        Some(b'\'') => {
                            self.i += 1;
                            break;
                        }
                        Some(&b) => {
                            out.push(b);
                            self.i += 1;
                        }
                    }
                }
                String::from_utf8(out)
                    .map(|s| Some(Tok::Str(s)))
                    .map_err(|_| "a string is not UTF-8".into())
            }
            b'=' | b'!' | b'<' | b'>' => {
                let start = self.i;
                self.i += 1;
                if self.s.get(self.i) == Some(&b'=') {
                    self.i += 1;
                }
                Ok(Some(Tok::Op(
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                )))
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() {
                    let b = self.s[self.i];
                    if b.is_ascii_whitespace()
                        || matches!(b, b'[' | b']' | b'\'' | b'=' | b'!' | b'<' | b'>')
                    {
                        // `[*]` and `[0]` inside a path belong to the word.
                        if b == b'[' && self.i > start {
                            if let Some(end) = self.s[self.i..].iter().position(|&x| x == b']') {
                                let inner = &self.s[self.i + 1..self.i + end];
                                if inner == b"*"
                                    || (!inner.is_empty() && inner.iter().all(u8::is_ascii_digit))
                                {
                                    self.i += end + 1;
                                    continue;
                                }
                            }
                        }
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    return Err(format!("unexpected character {:?}", c as char));
                }
                Ok(Some(Tok::Word(
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                )))
            }
        }
    }
}

fn valid_path(w: &str) -> Option<(String, String)> {
    let (ty, path) = w.split_once(':')?;
    let ty_ok = !ty.is_empty()
        && ty
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let path_ok = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.[]*-".contains(c));
    (ty_ok && path_ok).then(|| (ty.to_owned(), path.to_owned()))
}

/// Parses the supported subset of STIX patterns into its comparisons. `AND` and `OR` are
/// both accepted between comparisons and between observations: an item holds every value,
/// and screening matches any.
///
/// # Errors
/// Anything outside the subset, with the reason.
pub fn parse_pattern(pattern: &str) -> Result<Vec<Comparison>, Unsupported> {
    let bad = |reason: String| Unsupported {
        pattern: pattern.chars().take(400).collect(),
        reason,
    };
    let mut lx = Lexer {
        s: pattern.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    let mut expect_observation = true;
    loop {
        let t = lx.next().map_err(bad)?;
        match (expect_observation, t) {
            (true, Some(Tok::Open)) => {
                // comparison (AND|OR comparison)* ]
                loop {
                    let path = match lx.next().map_err(bad)? {
                        Some(Tok::Word(w)) => w,
                        Some(Tok::Open) => {
                            return Err(bad("nested brackets are not supported".into()))
                        }
                        other => {
                            return Err(bad(format!(
                                "expected an object path, found {}",
                                describe(&other)
                            )))
                        }
                    };
                    if path.eq_ignore_ascii_case("NOT") {
                        return Err(bad("NOT is not supported".into()));
                    }
                    let (object, path) = valid_path(&path).ok_or_else(|| {
                        bad(format!("{path:?} is not an object path (type:property)"))
                    })?;
                    match lx.next().map_err(bad)? {
                        Some(Tok::Op(o)) if o == "=" => {}
                        Some(Tok::Op(o)) => {
                            return Err(bad(format!("the operator {o} is not supported (only =)")))
                        }
                        Some(Tok::Word(w)) => {
                            return Err(bad(format!("the operator {w} is not supported (only =)")))
                        }
                        other => {
                            return Err(bad(format!("expected =, found {}", describe(&other))))
                        }
                    }
                    let value = match lx.next().map_err(bad)? {
                        Some(Tok::Str(s)) => s,
                        other => {
                            return Err(bad(format!(
                                "only quoted strings are supported as values, found {}",
                                describe(&other)
                            )))
                        }
                    };
                    out.push(Comparison {
                        object,
                        path,
                        value,
                    });
                    match lx.next().map_err(bad)? {
                        Some(Tok::Close) => break,
                        Some(Tok::Word(w)) if w == "AND" || w == "OR" => continue,
                        other => {
                            return Err(bad(format!(
                                "expected AND, OR or ], found {}",
                                describe(&other)
                            )))
                        }
                    }
                }
                expect_observation = false;
            }
            (true, other) => {
                return Err(bad(format!(
                    "expected [ to open an observation, found {}",
                    describe(&other)
                )))
            }
            (false, None) => break,
            (false, Some(Tok::Word(w))) if w == "AND" || w == "OR" => expect_observation = true,
            (false, Some(Tok::Word(w))) => {
                return Err(bad(format!(
                    "{w} is not supported (only AND and OR between observations; no qualifiers)"
                )))
            }
            (false, other) => {
                return Err(bad(format!(
                    "expected AND or OR, found {}",
                    describe(&other)
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(bad("the pattern is empty".into()));
    }
    Ok(out)
}

fn describe(t: &Option<Tok>) -> String {
    match t {
        None => "the end".into(),
        Some(Tok::Open) => "[".into(),
        Some(Tok::Close) => "]".into(),
        Some(Tok::Word(w)) => w.clone(),
        Some(Tok::Str(s)) => format!("'{s}'"),
        Some(Tok::Op(o)) => o.clone(),
    }
}

/// The TLP label of a marking-definition id: TLP 2.0, or the TLP 1.0 ids of the STIX 2.1
/// specification (white → clear).
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    for t in [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ] {
        if tlp_marking_id(t) == id {
            return Some(t);
        }
    }
    match id {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
        _ => None,
    }
}

/// Credibility (1-6) from a STIX confidence (0-100).
pub fn credibility_of_confidence(c: Option<u64>) -> &'static str {
    match c {
        None => "6",
        Some(c) if c >= 80 => "1",
        Some(c) if c >= 60 => "2",
        Some(c) if c >= 40 => "3",
        Some(c) if c >= 20 => "4",
        Some(_) => "5",
    }
}

fn handling_of(tlp: Option<Tlp>) -> &'static str {
    match tlp {
        Some(Tlp::Clear | Tlp::Green) => "H1",
        Some(Tlp::Amber) => "H3",
        Some(Tlp::AmberStrict) | None => "H4",
        Some(Tlp::Red) => "H5",
    }
}

fn date_of(ts: &str) -> Option<String> {
    let d = ts.get(..10)?;
    Date::parse(d).ok().map(|d| d.to_string())
}

/// Reads a STIX 2.1 bundle. Objects other than indicators are not imported (counted in
/// the result's `skipped`); revoked indicators and older versions are left out; every
/// indicator that cannot become an item is reported with its id and the reason.
///
/// # Errors
/// Not JSON, not a bundle, `objects` not an array.
pub fn read_bundle(text: &str, reliability: Option<Reliability>) -> Result<StixRead, String> {
    read_bundle_on(text, reliability, Date::today_utc())
}

/// What a bundle gave.
#[derive(Debug, Default)]
pub struct StixRead {
    /// Items and bad objects (`line` is the object's 1-based position in `objects`).
    pub read: Read,
    /// Objects not imported by type (identity, marking-definition, relationship, ...), and
    /// indicators left out as revoked or as older versions.
    pub skipped: std::collections::BTreeMap<String, u64>,
}

fn read_bundle_on(
    text: &str,
    reliability: Option<Reliability>,
    today: Date,
) -> Result<StixRead, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if v["type"] != "bundle" {
        return Err(format!(
            "type: {} is not \"bundle\": give a STIX 2.1 bundle",
            v["type"]
        ));
    }
    let objects = v["objects"]
        .as_array()
        .ok_or("objects: is not an array of STIX objects")?;
    let mut out = StixRead::default();
    // The newest version of each indicator.
    let mut newest: HashMap<&str, (usize, &str)> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        let ty = o["type"].as_str().unwrap_or("(no type)");
        if ty != "indicator" {
            *out.skipped.entry(ty.to_owned()).or_default() += 1;
            continue;
        }
        let id = o["id"].as_str().unwrap_or("");
        let modified = o["modified"].as_str().unwrap_or("");
        match newest.get(id) {
            Some((_, m)) if *m >= modified => {
                *out.skipped
                    .entry("indicator (older version)".into())
                    .or_default() += 1;
            }
            Some(_) => {
                *out.skipped
                    .entry("indicator (older version)".into())
                    .or_default() += 1;
                newest.insert(id, (i, modified));
            }
            None => {
                newest.insert(id, (i, modified));
            }
        }
    }
    let mut order: Vec<usize> = newest.values().map(|(i, _)| *i).collect();
    order.sort_unstable();
    for i in order {
        let o = &objects[i];
        let id = o["id"].as_str().unwrap_or("(no id)").to_owned();
        if o["revoked"] == true {
            *out.skipped.entry("indicator (revoked)".into()).or_default() += 1;
            continue;
        }
        match indicator_item(o, reliability, today) {
            Ok(item) => out.read.items.push((i as u64 + 1, item)),
            Err((field, message)) => out.read.bad.push(BadRow {
                line: i as u64 + 1,
                field: format!("objects[{i}] ({id}).{field}"),
                message,
            }),
        }
    }
    Ok(out)
}

fn indicator_item(
    o: &Value,
    reliability: Option<Reliability>,
    today: Date,
) -> Result<IntelItem, (String, String)> {
    let id = o["id"].as_str().unwrap_or("");
    let uuid_ok = id
        .strip_prefix("indicator--")
        .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
    if !uuid_ok {
        return Err(("id".into(), format!("{id:?} is not indicator--UUID")));
    }
    if o["spec_version"] != "2.1" {
        return Err((
            "spec_version".into(),
            format!(
                "{} is not \"2.1\": only STIX 2.1 is read",
                o["spec_version"]
            ),
        ));
    }
    match o["pattern_type"].as_str() {
        Some("stix") => {}
        other => {
            return Err((
                "pattern_type".into(),
                format!("{other:?} is not supported: only STIX patterns (\"stix\") are read"),
            ))
        }
    }
    let pattern = o["pattern"]
        .as_str()
        .ok_or(("pattern".to_owned(), "is required".to_owned()))?;
    let comparisons = parse_pattern(pattern).map_err(|e| ("pattern".to_owned(), e.to_string()))?;
    let ext = &o["extensions"][extension_id()];
    let mut item = Map::new();
    let mut selectors: Map<String, Value> = Map::new();
    let mut push = |k: &str, v: &str| {
        if let Some(a) = selectors
            .entry(k.to_owned())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(json!(v));
        }
    };
    for c in &comparisons {
        match (c.object.as_str(), c.path.as_str()) {
            ("email-addr", "value") => push("emails", &c.value),
            ("phone-number", "value") => push("phones", &c.value),
            ("bank-account", "iban" | "account_number") | ("cryptocurrency-wallet", "value") => {
                push("payment_accounts", &c.value)
            }
            ("x-kdesk-traveler" | "x-kdesk-consignment", _) if ext.is_object() => {}
            ("x-kdesk-traveler" | "x-kdesk-consignment", _) => {
                return Err((
                    "pattern".into(),
                    format!(
                        "unsupported pattern {pattern:?}: {}:{} is read from kdesk's \
                         alert-subject extension, which this indicator does not carry",
                        c.object, c.path
                    ),
                ))
            }
            (obj, path) => {
                return Err((
                    "pattern".into(),
                    format!(
                        "unsupported pattern {pattern:?}: {obj}:{path} is not an observable kdesk \
                         knows (email-addr:value, phone-number:value, bank-account:iban, \
                         bank-account:account_number, cryptocurrency-wallet:value, x-kdesk-*)"
                    ),
                ))
            }
        }
    }
    if !selectors.is_empty() {
        item.insert("selectors".into(), Value::Object(selectors));
    }
    if ext.is_object() {
        if !ext["subject"].is_null() {
            item.insert("subject".into(), ext["subject"].clone());
        }
        if let Some(s) = ext["substances"].as_array() {
            item.insert("substances".into(), Value::Array(s.clone()));
        }
    } else if let Some(labels) = o["labels"].as_array() {
        let subs: Vec<Value> = labels
            .iter()
            .filter_map(|l| l.as_str())
            .filter_map(|l| Substance::parse(l).ok())
            .map(|s| json!(s.as_str()))
            .collect();
        if !subs.is_empty() {
            item.insert("substances".into(), Value::Array(subs));
        }
    }
    let title: String = o["name"]
        .as_str()
        .unwrap_or("STIX indicator")
        .chars()
        .take(160)
        .collect();
    item.insert("title".into(), json!(title.trim()));
    item.insert("reference".into(), json!(id));
    let tlp = o["object_marking_refs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(tlp_of_marking))
        .max();
    let confidence = match &o["confidence"] {
        Value::Null => None,
        c => Some(c.as_u64().filter(|c| *c <= 100).ok_or((
            "confidence".to_owned(),
            format!("{c} is not an integer 0-100"),
        ))?),
    };
    item.insert(
        "grading".into(),
        json!({
            "reliability": reliability.unwrap_or(Reliability::F).as_str(),
            "credibility": credibility_of_confidence(confidence),
            // A kdesk alert its desk said must not be relayed stays within this agency.
            "handling": if ext["no_onward_sharing"] == true { "H4".max(handling_of(tlp)) } else { handling_of(tlp) },
        }),
    );
    let from = match o["valid_from"].as_str() {
        Some(t) => date_of(t).ok_or((
            "valid_from".to_owned(),
            format!("{t:?} is not an RFC 3339 timestamp"),
        ))?,
        None => today.to_string(),
    };
    let until = match o["valid_until"].as_str() {
        Some(t) => {
            // STIX valid_until is exclusive; kdesk's last day is inclusive.
            let d = date_of(t).ok_or((
                "valid_until".to_owned(),
                format!("{t:?} is not an RFC 3339 timestamp"),
            ))?;
            let d = Date::parse(&d).map_err(|e| ("valid_until".to_owned(), e.to_string()))?;
            let day_before = d.plus_days(-1).to_string();
            if day_before < from {
                from.clone()
            } else {
                day_before
            }
        }
        None => Date::parse(&from)
            .map(|d| d.plus_days(365).to_string())
            .unwrap_or_else(|_| from.clone()),
    };
    item.insert(
        "validity".into(),
        json!({"valid_from": from, "valid_until": until}),
    );
    if let Some(d) = o["description"].as_str() {
        // A note is one line: the description's lines are joined with "; ".
        let one_line = d
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let note: String = one_line
            .chars()
            .filter(|c| !c.is_control())
            .take(512)
            .collect();
        if !note.trim().is_empty() {
            item.insert("note".into(), json!(note.trim()));
        }
    }
    IntelItem::from_json(&Value::Object(item).to_string()).map_err(|e| (e.field, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comparison_subset_parses() {
        let c = parse_pattern("[email-addr:value = 'a@b.kr' OR phone-number:value = '+66810000000'] AND [x-kdesk-consignment:container_numbers[*] = 'MSCU1234565']").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].object, "email-addr");
        assert_eq!(c[2].path, "container_numbers[*]");
        let c = parse_pattern(r"[x-kdesk-traveler:family_name = 'O\'BRIEN \\ X']").unwrap();
        assert_eq!(c[0].value, "O'BRIEN \\ X");
    }

    #[test]
    fn everything_else_is_unsupported_and_named() {
        for (p, why) in [
            ("[ipv4-addr:value != '1.2.3.4']", "operator !="),
            ("[file:size > 10]", "operator >"),
            ("[domain-name:value LIKE 'x%']", "operator LIKE"),
            ("[email-addr:value = 'a@b.kr'] WITHIN 300 SECONDS", "WITHIN"),
            (
                "[email-addr:value = 'a@b.kr'] FOLLOWEDBY [email-addr:value = 'c@d.kr']",
                "FOLLOWEDBY",
            ),
            ("([email-addr:value = 'a@b.kr'])", "expected ["),
            ("[file:size = 10]", "quoted strings"),
            ("[email-addr:value = 'a@b.kr'", "expected AND, OR or ]"),
            ("[NOT email-addr:value = 'x']", "NOT"),
            ("", "expected ["),
            ("[email-addr:value = 'open]", "not closed"),
        ] {
            let e = parse_pattern(p).unwrap_err();
            assert!(e.reason.contains(why), "{p}: {e}");
            assert_eq!(e.pattern, p);
        }
    }

    fn bundle(objects: Value) -> String {
        json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects}).to_string()
    }

    #[test]
    fn indicators_become_graded_items_and_bad_ones_are_reported() {
        let good = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-21T08:00:00.000Z",
            "name": "Payment wallet of a ketamine vendor", "labels": ["ketamine"],
            "pattern": "[cryptocurrency-wallet:value = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh'] OR [email-addr:value = 'vendor@mail.example']",
            "pattern_type": "stix", "valid_from": "2026-11-20T00:00:00Z", "valid_until": "2027-05-20T00:00:00Z",
            "confidence": 70,
            "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]});
        let mut older = good.clone();
        older["modified"] = json!("2026-11-20T08:00:00.000Z");
        older["name"] = json!("old");
        let unsupported = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--0b9f3b7a-3c3e-4c55-9d0b-6b8b4b1f9f10", "name": "C2",
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
            "valid_from": "2026-11-20T00:00:00Z"});
        let sigma = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--1b9f3b7a-3c3e-4c55-9d0b-6b8b4b1f9f10", "name": "rule",
            "pattern": "title: x", "pattern_type": "sigma", "valid_from": "2026-11-20T00:00:00Z"});
        let text = bundle(json!([
            {"type": "identity", "spec_version": "2.1", "id": "identity--1b9f3b7a-3c3e-4c55-9d0b-6b8b4b1f9f11", "name": "x"},
            older, good, unsupported, sigma
        ]));
        let today = Date::parse("2026-12-01").unwrap();
        let r = read_bundle_on(&text, Some(Reliability::B), today).unwrap();
        assert_eq!(r.read.items.len(), 1, "{:?}", r.read.bad);
        let item = &r.read.items[0].1;
        assert_eq!(item.grading.to_string(), "B2 H3");
        assert_eq!(item.title.as_str(), "Payment wallet of a ketamine vendor");
        assert_eq!(item.selectors.payment_accounts.len(), 1);
        assert_eq!(item.selectors.emails.len(), 1);
        assert_eq!(item.substances, vec![Substance::Ketamine]);
        assert_eq!(item.validity.valid_until().to_string(), "2027-05-19");
        assert_eq!(r.read.bad.len(), 2);
        assert!(
            r.read.bad[0].field.contains("indicator--0b9f3b7a"),
            "{}",
            r.read.bad[0]
        );
        assert!(
            r.read.bad[0].message.contains("ipv4-addr:value"),
            "{}",
            r.read.bad[0]
        );
        assert!(r.read.bad[1].message.contains("sigma"), "{}", r.read.bad[1]);
        assert_eq!(r.skipped.get("identity"), Some(&1));
        assert_eq!(r.skipped.get("indicator (older version)"), Some(&1));
        assert!(read_bundle_on("[1]", None, today).is_err());
        assert!(read_bundle_on("{\"type\":\"bundle\"}", None, today).is_err());
    }

    #[test]
    fn confidence_and_markings_map_to_the_scales() {
        assert_eq!(credibility_of_confidence(Some(95)), "1");
        assert_eq!(credibility_of_confidence(Some(10)), "5");
        assert_eq!(credibility_of_confidence(None), "6");
        assert_eq!(
            tlp_of_marking("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        assert_eq!(handling_of(Some(Tlp::Red)), "H5");
        // A kdesk alert that may not be relayed is never promotable once imported.
        let alert = crate::model::Alert::from_json(include_str!(
            "../../examples/alerts/traveler-air-methamphetamine.json"
        ))
        .unwrap();
        assert!(alert.handling.no_onward_sharing);
        let kr = crate::record::Origin::parse("TH/bkk").unwrap();
        let record = crate::record::Record {
            origin: kr.clone(),
            seq: 1,
            created_at_ms: 1_764_547_200_000,
            kind: crate::record::RecordKind::Alert(alert),
        };
        let input = crate::intel::stix::Input {
            id: crate::record::RecordId([3; 32]),
            record,
            stored_at_ms: 1_764_547_200_000,
        };
        let objs = crate::intel::stix::objects(&[input], &kr, &|_| true);
        let text = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "objects": objs.iter().map(|o| o.json.clone()).collect::<Vec<_>>()})
        .to_string();
        let r = read_bundle_on(&text, None, Date::parse("2026-12-01").unwrap()).unwrap();
        assert_eq!(r.read.items.len(), 1, "{:?}", r.read.bad);
        assert_eq!(r.read.items[0].1.grading.handling.as_str(), "H4");
        assert!(r.read.items[0].1.subject.is_some());
    }
}
