//! Alerts as STIX 2.1 objects (docs/STIX.md).
//!
//! - each desk is an `identity`; each alert an `indicator` whose id is a UUIDv5 of its first
//!   version, so every amendment is a new version of the same object (same `id`, later
//!   `modified`) and a retraction is the last version with `revoked: true`;
//! - the subject (traveler, consignment, profile) travels whole in kdesk's property extension
//!   ([`extension_id`], defined by an `extension-definition` in every bundle), and as a STIX
//!   pattern over kdesk's two observable types (`x-kdesk-traveler`, `x-kdesk-consignment`)
//!   so that tools that know nothing of the extension still see the identifiers;
//! - the TLP 2.0 label is an `object_marking_refs` entry naming the official TLP 2.0
//!   `marking-definition`s (FIRST TLP 2.0 as published with the OASIS extension
//!   [`TLP2_EXTENSION_ID`]), included in the bundle;
//! - a hit is a `sighting` of the alert's indicator by the screening desk.
//!
//! Pure functions over records: the node decides which records a caller may see.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::model::{Alert, Subject, Tlp};
use crate::record::{Origin, Record, RecordId, RecordKind};

/// The OASIS TLP 2.0 property extension of marking definitions.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The official STIX ids of the TLP 2.0 marking definitions.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP 2.0 marking-definition object, as published (created 2022-10-01).
pub fn tlp_marking(tlp: Tlp) -> Value {
    let (name, value) = match tlp {
        Tlp::Clear => ("TLP:CLEAR", "clear"),
        Tlp::Green => ("TLP:GREEN", "green"),
        Tlp::Amber => ("TLP:AMBER", "amber"),
        Tlp::AmberStrict => ("TLP:AMBER+STRICT", "amber+strict"),
        Tlp::Red => ("TLP:RED", "red"),
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": value}
        }
    })
}

/// The namespace of kdesk's UUIDv5 ids (itself the UUIDv5 of "kdesk" in the URL namespace).
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://kdesk/stix")
}

/// `type--UUIDv5(name)`.
pub fn stix_id(ty: &str, name: &str) -> String {
    format!("{ty}--{}", Uuid::new_v5(&namespace(), name.as_bytes()))
}

/// kdesk's property extension for alert subjects.
pub fn extension_id() -> String {
    stix_id("extension-definition", "kdesk/extension/alert-subject/v1")
}

/// The identity of a desk.
pub fn identity_id(origin: &Origin) -> String {
    stix_id("identity", &format!("kdesk/desk/{origin}"))
}

/// The indicator of the alert whose first version is `root`.
pub fn indicator_id(root: &RecordId) -> String {
    stix_id("indicator", &format!("kdesk/alert/{}", root.to_hex()))
}

/// RFC 3339 UTC with milliseconds, as STIX wants.
pub fn timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Quotes a string for a STIX pattern.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern of a subject.
pub fn pattern(subject: &Subject) -> String {
    let mut and: Vec<String> = Vec::new();
    let mut or: Vec<String> = Vec::new();
    match subject {
        Subject::Traveler(t) => {
            let p = "x-kdesk-traveler";
            and.push(format!(
                "{p}:family_name = {}",
                quote(t.family_name.as_str())
            ));
            if let Some(g) = &t.given_names {
                if !g.as_str().is_empty() {
                    and.push(format!("{p}:given_names = {}", quote(g.as_str())));
                }
            }
            if let Some(d) = &t.date_of_birth {
                and.push(format!("{p}:date_of_birth = {}", quote(&d.to_string())));
            }
            if let Some(d) = &t.document {
                and.push(format!(
                    "{p}:document.number = {}",
                    quote(d.number.as_str())
                ));
            }
            if let Some(n) = &t.nationality {
                and.push(format!("{p}:nationality = {}", quote(n.as_str())));
            }
        }
        Subject::Cargo(c) => {
            let p = "x-kdesk-consignment";
            if let Some(d) = &c.transport_document {
                or.push(format!(
                    "{p}:transport_document.number = {}",
                    quote(d.number())
                ));
            }
            for n in &c.container_numbers {
                or.push(format!("{p}:container_numbers[*] = {}", quote(n.as_str())));
            }
            if let Some(n) = &c.express_tracking_number {
                or.push(format!(
                    "{p}:express_tracking_number = {}",
                    quote(n.as_str())
                ));
            }
            if let Some(n) = &c.postal_item_id {
                or.push(format!("{p}:postal_item_id = {}", quote(n.as_str())));
            }
            if let Some(n) = &c.vessel_imo {
                or.push(format!("{p}:vessel_imo = {}", quote(n.as_str())));
            }
            if or.is_empty() {
                if let Some(party) = c.consignee.as_ref().or(c.shipper.as_ref()) {
                    let role = if c.consignee.is_some() {
                        "consignee"
                    } else {
                        "shipper"
                    };
                    or.push(format!("{p}:{role}.name = {}", quote(party.name.as_str())));
                }
            }
            if or.is_empty() {
                or.push(format!("{p}:route = {}", quote(c.route.as_str())));
            }
        }
        Subject::Profile(pr) => {
            let p = "x-kdesk-consignment";
            for r in &pr.routes {
                or.push(format!("{p}:route = {}", quote(r.as_str())));
            }
            if or.is_empty() {
                or.push(format!("{p}:route != ''"));
            }
        }
    }
    if and.is_empty() {
        format!("[{}]", or.join(" OR "))
    } else {
        format!("[{}]", and.join(" AND "))
    }
}

/// One STIX object with what TAXII needs to page over it.
#[derive(Clone, Debug)]
pub struct StixObject {
    /// The STIX id.
    pub id: String,
    /// Its version (`modified`, or `created` for objects without versions).
    pub version: String,
    /// When this node stored the record it came from (ms since the epoch); TAXII's
    /// `date_added`.
    pub added_ms: i64,
    /// The object.
    pub json: Value,
}

/// A stored record as the converter sees it.
#[derive(Clone, Debug)]
pub struct Input {
    /// Record id.
    pub id: RecordId,
    /// The record.
    pub record: Record,
    /// When this node stored it.
    pub stored_at_ms: i64,
}

struct Chain {
    root: RecordId,
    origin: Origin,
    created_ms: i64,
    last_modified_ms: i64,
    tlp: Tlp,
    last: Value,
}

fn alert_indicator(
    a: &Alert,
    rec: &Record,
    id: &RecordId,
    chain: &Chain,
    modified_ms: i64,
) -> Value {
    let description = a
        .indicators
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.insert(
        "subject".into(),
        serde_json::to_value(&a.subject).unwrap_or(Value::Null),
    );
    ext.insert(
        "substances".into(),
        json!(a.substances.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    );
    ext.insert("risk".into(), json!(a.risk.as_str()));
    ext.insert(
        "distribution".into(),
        serde_json::to_value(&a.distribution).unwrap_or(Value::Null),
    );
    ext.insert(
        "no_onward_sharing".into(),
        json!(a.handling.no_onward_sharing),
    );
    ext.insert("origin".into(), json!(rec.origin.to_string()));
    ext.insert("record_id".into(), json!(id.to_hex()));
    ext.insert("seq".into(), json!(rec.seq));
    if let Some(c) = &a.case_reference {
        ext.insert("case_reference".into(), json!(c.to_string()));
    }
    if let Some(c) = &a.intel_reference {
        ext.insert("intel_reference".into(), json!(c.to_string()));
    }
    let mut o = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(&chain.root),
        "created": timestamp(chain.created_ms),
        "modified": timestamp(modified_ms),
        "created_by_ref": identity_id(&chain.origin),
        "name": a.title.to_string(),
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(&a.subject),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": timestamp(a.validity.valid_from().midnight_utc().unix_timestamp() * 1000),
        "valid_until": timestamp(a.validity.valid_until().plus_days(1).midnight_utc().unix_timestamp() * 1000),
        "labels": a.substances.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "object_marking_refs": [tlp_marking_id(a.handling.tlp)],
        "extensions": { extension_id(): Value::Object(ext) },
    });
    if !description.is_empty() {
        o["description"] = json!(description);
    }
    o
}

/// The identity object of a desk.
pub fn identity(origin: &Origin, created_ms: i64) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(origin),
        "created": timestamp(created_ms),
        "modified": timestamp(created_ms),
        "name": format!("kdesk {origin}"),
        "description": format!("The {} customs desk node {} (kdesk)", origin.country, origin.node),
        "identity_class": "organization",
        "sectors": ["government-national"],
    })
}

/// The extension-definition of kdesk's subject extension, created by the exporting desk.
pub fn extension_definition(exporter: &Origin) -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id(),
        "created": "2026-12-01T00:00:00.000Z",
        "modified": "2026-12-01T00:00:00.000Z",
        "created_by_ref": identity_id(exporter),
        "name": "kdesk alert subject",
        "description": "The subject of a kdesk alert (traveler, consignment or profile) with its substances, risk, distribution and handling, exactly as the issuing desk signed it.",
        "schema": "docs/STIX.md of kdesk, section \"The kdesk alert-subject extension\"",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    })
}

/// The STIX objects of `records` (in the order the node stored them): an identity per desk
/// seen, the extension definition and the TLP markings used, then one indicator version per
/// alert version, a revoked version per retraction and a sighting per hit. Records whose
/// alert is not among `records` (a hit on an alert not visible) are left out.
pub fn objects(
    records: &[Input],
    exporter: &Origin,
    visible: &dyn Fn(&Record) -> bool,
) -> Vec<StixObject> {
    use std::collections::{BTreeMap, HashMap};
    let mut chains: HashMap<RecordId, usize> = HashMap::new();
    let mut list: Vec<Chain> = Vec::new();
    let mut identities: BTreeMap<String, (Origin, i64, i64)> = BTreeMap::new();
    let mut tlps: BTreeMap<Tlp, i64> = BTreeMap::new();
    let mut first_body_added = i64::MAX;
    let mut body = Vec::new();
    let mut first_ms = i64::MAX;
    // Each identity and marking is dated (for TAXII) by the first visible record that needs
    // it, so the list only ever grows at its end as records are stored.
    let see = |o: &Origin, ms: i64, added: i64, ids: &mut BTreeMap<String, (Origin, i64, i64)>| {
        ids.entry(o.to_string())
            .and_modify(|e| {
                e.1 = e.1.min(ms);
                e.2 = e.2.min(added);
            })
            .or_insert((o.clone(), ms, added));
    };
    let mark = |t: Tlp, added: i64, tlps: &mut BTreeMap<Tlp, i64>| {
        let e = tlps.entry(t).or_insert(added);
        *e = (*e).min(added);
    };
    for inp in records {
        let r = &inp.record;
        first_ms = first_ms.min(r.created_at_ms);
        match &r.kind {
            RecordKind::Alert(a) => {
                let mut chain = Chain {
                    root: inp.id,
                    origin: r.origin.clone(),
                    created_ms: r.created_at_ms,
                    last_modified_ms: r.created_at_ms,
                    tlp: a.handling.tlp,
                    last: Value::Null,
                };
                let o = alert_indicator(a, r, &inp.id, &chain, r.created_at_ms);
                chain.last = o.clone();
                chains.insert(inp.id, list.len());
                list.push(chain);
                if !visible(r) {
                    continue;
                }
                see(
                    &r.origin,
                    r.created_at_ms,
                    inp.stored_at_ms,
                    &mut identities,
                );
                mark(a.handling.tlp, inp.stored_at_ms, &mut tlps);
                body.push(StixObject {
                    id: o["id"].as_str().unwrap_or_default().to_owned(),
                    version: o["modified"].as_str().unwrap_or_default().to_owned(),
                    added_ms: inp.stored_at_ms,
                    json: o,
                });
            }
            RecordKind::Amendment(m) => {
                let Some(&ci) = chains.get(&m.supersedes) else {
                    continue;
                };
                let c = &mut list[ci];
                let modified = r.created_at_ms.max(c.last_modified_ms + 1);
                c.last_modified_ms = modified;
                c.tlp = m.alert.handling.tlp;
                let o = alert_indicator(&m.alert, r, &inp.id, c, modified);
                c.last = o.clone();
                let origin = c.origin.clone();
                chains.insert(inp.id, ci);
                if !visible(r) {
                    continue;
                }
                see(&origin, c.created_ms, inp.stored_at_ms, &mut identities);
                mark(m.alert.handling.tlp, inp.stored_at_ms, &mut tlps);
                body.push(StixObject {
                    id: o["id"].as_str().unwrap_or_default().to_owned(),
                    version: o["modified"].as_str().unwrap_or_default().to_owned(),
                    added_ms: inp.stored_at_ms,
                    json: o,
                });
            }
            RecordKind::Retraction(t) => {
                let Some(&ci) = chains.get(&t.target) else {
                    continue;
                };
                // The last version, revoked.
                let c = &mut list[ci];
                let modified = r.created_at_ms.max(c.last_modified_ms + 1);
                c.last_modified_ms = modified;
                let mut o = c.last.clone();
                if !visible(r) || o.is_null() {
                    continue;
                }
                see(&c.origin, c.created_ms, inp.stored_at_ms, &mut identities);
                mark(c.tlp, inp.stored_at_ms, &mut tlps);
                o["modified"] = json!(timestamp(modified));
                o["revoked"] = json!(true);
                if let Some(ext) = o["extensions"][extension_id()].as_object_mut() {
                    ext.insert("record_id".into(), json!(inp.id.to_hex()));
                    ext.insert("retraction_reason".into(), json!(t.reason.to_string()));
                }
                body.push(StixObject {
                    id: o["id"].as_str().unwrap_or_default().to_owned(),
                    version: timestamp(modified),
                    added_ms: inp.stored_at_ms,
                    json: o,
                });
            }
            RecordKind::Hit(h) => {
                let Some(&ci) = chains.get(&h.alert_id) else {
                    continue;
                };
                if !visible(r) {
                    continue;
                }
                see(
                    &list[ci].origin.clone(),
                    list[ci].created_ms,
                    inp.stored_at_ms,
                    &mut identities,
                );
                mark(list[ci].tlp, inp.stored_at_ms, &mut tlps);
                see(
                    &r.origin,
                    r.created_at_ms,
                    inp.stored_at_ms,
                    &mut identities,
                );
                let c = &list[ci];
                let seen = timestamp(h.screened_on.midnight_utc().unix_timestamp() * 1000);
                let o = json!({
                    "type": "sighting",
                    "spec_version": "2.1",
                    "id": stix_id("sighting", &format!("kdesk/hit/{}", inp.id.to_hex())),
                    "created": timestamp(r.created_at_ms),
                    "modified": timestamp(r.created_at_ms),
                    "created_by_ref": identity_id(&r.origin),
                    "sighting_of_ref": indicator_id(&c.root),
                    "where_sighted_refs": [identity_id(&r.origin)],
                    "first_seen": seen,
                    "last_seen": seen,
                    "count": 1,
                    "description": format!(
                        "screening hit, score {}, on {}: {}",
                        h.score,
                        h.subject_reference,
                        h.matched.iter().map(|m| format!("{} ({})", m.field, m.reason)).collect::<Vec<_>>().join(", ")
                    ),
                    "object_marking_refs": [tlp_marking_id(c.tlp)],
                });
                body.push(StixObject {
                    id: o["id"].as_str().unwrap_or_default().to_owned(),
                    version: o["modified"].as_str().unwrap_or_default().to_owned(),
                    added_ms: inp.stored_at_ms,
                    json: o,
                });
            }
            _ => {}
        }
    }
    for o in &body {
        first_body_added = first_body_added.min(o.added_ms);
    }
    if first_body_added == i64::MAX {
        first_body_added = records.iter().map(|r| r.stored_at_ms).min().unwrap_or(0);
    }
    if first_ms == i64::MAX {
        first_ms = 0;
    }
    see(exporter, first_ms, first_body_added, &mut identities);
    let mut out = Vec::new();
    for (origin, ms, added) in identities.values() {
        let o = identity(origin, *ms);
        out.push(StixObject {
            id: o["id"].as_str().unwrap_or_default().to_owned(),
            version: o["modified"].as_str().unwrap_or_default().to_owned(),
            added_ms: *added,
            json: o,
        });
    }
    let ext = extension_definition(exporter);
    out.push(StixObject {
        id: extension_id(),
        version: ext["modified"].as_str().unwrap_or_default().to_owned(),
        added_ms: first_body_added,
        json: ext,
    });
    for (t, added) in tlps {
        out.push(StixObject {
            id: tlp_marking_id(t).to_owned(),
            version: "2022-10-01T00:00:00.000Z".into(),
            added_ms: added,
            json: tlp_marking(t),
        });
    }
    out.extend(body);
    // Stable: an object's identity and marking come just before it.
    out.sort_by_key(|o| o.added_ms);
    out
}

/// A bundle of objects, with a fresh random id.
pub fn bundle(objects: impl IntoIterator<Item = Value>) -> Value {
    let mut b = [0u8; 16];
    let _ = getrandom::getrandom(&mut b);
    let id = uuid::Builder::from_random_bytes(b).into_uuid();
    json!({
        "type": "bundle",
        "id": format!("bundle--{id}"),
        "objects": objects.into_iter().collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Alert;
    use crate::record::{Amendment, Hit, MatchedField, Retraction};

    fn alert() -> Alert {
        Alert::from_json(include_str!(
            "../../examples/alerts/cargo-air-cargo-precursor.json"
        ))
        .unwrap()
    }

    fn rec(origin: &Origin, seq: u64, ms: i64, kind: RecordKind) -> Input {
        let record = Record {
            origin: origin.clone(),
            seq,
            created_at_ms: ms,
            kind,
        };
        let id = RecordId::of_body(&prost::Message::encode_to_vec(&record.to_pb()));
        Input {
            id,
            record,
            stored_at_ms: ms + 5,
        }
    }

    #[test]
    fn tlp_markings_carry_the_official_tlp2_ids_and_extension() {
        assert_eq!(
            tlp_marking_id(Tlp::AmberStrict),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        );
        let m = tlp_marking(Tlp::Red);
        assert_eq!(m["name"], "TLP:RED");
        assert_eq!(m["extensions"][TLP2_EXTENSION_ID]["tlp_2_0"], "red");
        assert_eq!(
            m["id"],
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
        );
    }

    #[test]
    fn versions_share_an_id_and_a_retraction_revokes_the_last_one() {
        let kr = Origin::parse("KR/seoul").unwrap();
        let th = Origin::parse("TH/bkk").unwrap();
        let a = rec(&kr, 1, 1_764_547_200_000, RecordKind::Alert(alert()));
        let mut changed = alert();
        changed.title = crate::model::Title::parse("Amended title").unwrap();
        changed.handling.tlp = Tlp::Green;
        let m = rec(
            &kr,
            2,
            1_764_547_260_000,
            RecordKind::Amendment(Amendment {
                supersedes: a.id,
                alert: changed.clone(),
                reason: crate::model::Note::parse("new facts").unwrap(),
            }),
        );
        let h = rec(
            &th,
            1,
            1_764_547_270_000,
            RecordKind::Hit(Hit {
                alert_id: m.id,
                alert_origin: kr.clone(),
                score: 900,
                matched: vec![MatchedField {
                    field: crate::model::ShortText::parse("transport_document").unwrap(),
                    value: crate::model::Text::parse("18083410224").unwrap(),
                    reason: crate::model::ShortText::parse("exact").unwrap(),
                }],
                subject_reference: crate::model::ShortText::parse("line-7").unwrap(),
                screened_on: crate::model::Date::parse("2026-12-01").unwrap(),
            }),
        );
        let t = rec(
            &kr,
            3,
            1_764_547_260_000, // same ms as the amendment: modified must still grow
            RecordKind::Retraction(Retraction {
                target: m.id,
                reason: crate::model::Note::parse("withdrawn").unwrap(),
                distribution: changed.distribution.clone(),
            }),
        );
        let objs = objects(&[a, m, h, t], &kr, &|_| true);
        let kinds: Vec<&str> = objs
            .iter()
            .map(|o| o.json["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "identity",
                "extension-definition",
                "marking-definition",
                "indicator",
                "marking-definition",
                "indicator",
                "indicator",
                "identity",
                "sighting"
            ]
        );
        let ind: Vec<&StixObject> = objs
            .iter()
            .filter(|o| o.json["type"] == "indicator")
            .collect();
        assert!(ind.iter().all(|o| o.id == ind[0].id));
        assert!(ind[0].id.starts_with("indicator--"));
        assert_eq!(ind[0].json["spec_version"], "2.1");
        assert_eq!(ind[0].json["created"], "2025-12-01T00:00:00.000Z");
        assert_eq!(ind[1].json["modified"], "2025-12-01T00:01:00.000Z");
        assert_eq!(ind[2].json["modified"], "2025-12-01T00:01:00.001Z");
        assert_eq!(ind[2].json["revoked"], true);
        assert_eq!(ind[1].json["name"], "Amended title");
        assert_eq!(
            ind[1].json["object_marking_refs"][0],
            tlp_marking_id(Tlp::Green)
        );
        assert_eq!(
            ind[0].json["pattern"],
            "[x-kdesk-consignment:transport_document.number = '18083410224']"
        );
        assert_eq!(
            ind[0].json["created_by_ref"],
            identity_id(&Origin::parse("KR/seoul").unwrap())
        );
        let ext = &ind[0].json["extensions"][extension_id()];
        assert_eq!(ext["extension_type"], "property-extension");
        assert_eq!(ext["subject"]["cargo"]["route"], "air-cargo");
        let s = objs.iter().find(|o| o.json["type"] == "sighting").unwrap();
        assert_eq!(s.json["sighting_of_ref"], ind[0].id.as_str());
        assert_eq!(s.json["where_sighted_refs"][0], identity_id(&th));
        // Ids are stable: the same records give the same ids.
        assert_eq!(
            indicator_id(&RecordId([7; 32])),
            indicator_id(&RecordId([7; 32]))
        );
        assert_ne!(
            indicator_id(&RecordId([7; 32])),
            indicator_id(&RecordId([8; 32]))
        );
    }

    #[test]
    fn ids_are_the_documented_uuidv5_ids() {
        // docs/STIX.md names these; other tools compute the same.
        assert_eq!(
            namespace().to_string(),
            "f85e9638-f039-5302-9ba4-ae528d2b4cf4"
        );
        assert_eq!(
            extension_id(),
            "extension-definition--7b7df4ce-4573-5e1d-a93b-27dfe57d69d3"
        );
        assert_eq!(timestamp(1_764_547_200_123), "2025-12-01T00:00:00.123Z");
    }

    #[test]
    fn patterns_quote_values() {
        assert_eq!(quote("O'Brien \\ x"), "'O\\'Brien \\\\ x'");
    }
}
