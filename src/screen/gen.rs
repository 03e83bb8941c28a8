//! Synthetic alerts and Korea-bound cargo manifests with ground truth, for measuring recall,
//! precision and speed (`kdesk gen`, `kdesk bench screen`).
//!
//! Deterministic for a seed. Alerts and background lines draw identifiers from disjoint
//! serial ranges, so a background line never carries an alert's identifier by chance; names
//! are built from syllables so that they are as varied as real ones, and background goods
//! descriptions never use the words profiles look for. Seeded lines copy an alert's
//! identifier, or its consignee under a variant (transliteration, swapped order, a typo, a
//! different legal form, another romanisation), or fit a profile; the truth lists them.

use std::io::Write;

use serde_json::json;

use super::formats::fields::{Field, CARGO_FIELDS};
use super::formats::Format;
use super::manifest::csv_field;
use crate::model::{Alert, CargoRoute, ContainerNumber, Date, ImoNumber, PostalItemId, Subject};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Alerts.
    pub alerts: usize,
    /// Manifest lines.
    pub lines: usize,
    /// Seed.
    pub seed: u64,
    /// Lines copying an alert identifier.
    pub true_identifiers: usize,
    /// Lines carrying a variant of an alert's consignee name.
    pub true_names: usize,
    /// Lines fitting a profile.
    pub true_profiles: usize,
    /// Screening date (alerts are valid around it, arrivals follow it).
    pub date: Date,
}

/// Kind of seeded match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TruthKind {
    /// An alert identifier on the line.
    Identifier,
    /// A variant of an alert's consignee name.
    NameVariant,
    /// A consignment that fits a profile.
    Profile,
}

/// One seeded match.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Truth {
    /// Line reference.
    pub reference: String,
    /// `case_reference` of the alert it must match.
    pub case_reference: String,
    /// Kind.
    pub kind: TruthKind,
    /// How the line was made (`container`, `typo`, `swapped-order`, ...).
    pub variant: &'static str,
}

/// A small, fast, seedable generator (SplitMix64).
#[derive(Clone)]
pub struct Rng {
    state: u64,
    /// When set, the next identifier drawn uses this index as its serial (alerts).
    unique: Option<u64>,
}

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x6a09_e667_f3bc_c908,
            unique: None,
        }
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "ri", "to", "na", "mi", "su", "ha", "le", "do", "van", "lin", "som", "chai", "pra",
    "wat", "tan", "hoa", "ngo", "bin", "dar", "mor", "vel", "sen", "kor", "ta", "ban", "pho",
    "rit", "sak", "gun", "jin", "min", "seo", "hyun", "dae", "tek", "lum", "zen", "qua", "rel",
    "fin", "gar", "hol", "ish", "jor", "kel", "mas", "nor", "ost", "pel", "quin", "ros", "sal",
    "tor", "ur", "vik", "wen", "yar", "zol", "bel", "ar", "bo", "cen", "di", "eng", "fa", "gil",
    "hu", "im", "ju", "kam", "lo", "mun", "ni", "ok", "pu", "ram", "si", "tu", "um", "ve", "wo",
    "xan", "yo", "zu", "bra", "cro", "dun", "fel", "gro", "han", "kin", "lor", "mak", "nel", "pan",
    "rus", "sto", "tri",
];
const VIET_WORDS: &[&str] = &[
    "Hoàng", "Phát", "Thịnh", "Đông", "Minh", "Long", "Việt", "Hưng", "Thành", "Phú", "Quang",
    "Đức", "Tâm", "An", "Bình", "Nguyễn", "Trần", "Phạm", "Lê", "Vũ",
];
const KOREAN_FAMILY: &[(&str, &str)] = &[
    ("Lee", "Yi"),
    ("Park", "Pak"),
    ("Choi", "Choe"),
    ("Jung", "Jeong"),
    ("Kim", "Gim"),
    ("Kang", "Gang"),
    ("Yoon", "Yun"),
    ("Shin", "Sin"),
];
const COMPANY_KINDS: &[&str] = &[
    "Trading",
    "Logistics",
    "Import Export",
    "Foods",
    "Chemicals",
    "Textiles",
    "Electronics",
    "Cosmetics",
    "Pharma",
    "Agro",
    "Marine",
    "Express",
];
const LEGAL_FORMS: &[(&str, &str)] = &[
    ("Co., Ltd.", "Company Limited"),
    ("Ltd", "Limited"),
    ("Sdn Bhd", "Sdn. Bhd."),
    ("Corp.", "Corporation"),
    ("B.V.", "BV"),
    ("Inc.", "Incorporated"),
];
const GOODS: &[&str] = &[
    "cotton t-shirts",
    "frozen shrimp",
    "rubber gloves",
    "ceramic tiles",
    "laptop batteries",
    "dried mango",
    "auto parts",
    "furniture",
    "rice noodles",
    "plastic toys",
    "steel pipes",
    "fresh bananas",
    "coffee beans",
    "canned tuna",
    "printer toner",
    "shoes",
    "handbags",
    "instant coffee",
    "garden tools",
    "cosmetics samples",
    "books",
    "phone cases",
];
/// Words only profiles and the lines seeded to fit them use.
const PROFILE_WORDS: &[&str] = &[
    "kratom",
    "slimming",
    "ephedra",
    "detox",
    "herbal",
    "anaesthetic",
    "sedative",
    "diet",
    "bathsalts",
    "nootropic",
    "painrelief",
    "energy",
];
const COUNTRIES: &[&str] = &[
    "TH", "VN", "MY", "US", "NL", "KH", "LA", "CA", "DE", "FR", "EC", "CN",
];
const PORTS: &[(&str, &str)] = &[
    ("TH", "THBKK"),
    ("VN", "VNSGN"),
    ("MY", "MYPKG"),
    ("US", "USLAX"),
    ("NL", "NLRTM"),
    ("KH", "KHPNH"),
    ("LA", "LAVTE"),
    ("CA", "CAVAN"),
    ("DE", "DEHAM"),
    ("FR", "FRLEH"),
    ("EC", "ECGYE"),
    ("CN", "CNSHA"),
];
const KR_PORTS: &[&str] = &["KRPUS", "KRINC", "KRKAN", "KRPTK"];
const HS: &[&str] = &[
    "6109", "0306", "4015", "6907", "8507", "0804", "8708", "9403", "1902", "9503", "3004", "2106",
    "1211", "3304",
];
const OWNERS: &[&str] = &[
    "CSQU", "MSKU", "MSCU", "HLXU", "TGHU", "OOLU", "CMAU", "EGHU",
];

/// A distinctive made-up word of 3 or 4 syllables (about 10^6 to 10^8 of them: company names
/// differ as much as real ones do, so background lines do not collide with alerts by chance).
fn word(rng: &mut Rng) -> String {
    let n = 3 + rng.below(2);
    let mut w = String::new();
    for _ in 0..n {
        let syl: &&str = rng.pick(SYLLABLES);
        w.push_str(syl);
    }
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => w,
    }
}

/// A serial number in the given half of `0..2*span` (0: alerts, 1: background). Alerts pass
/// their own index (`Some(i)`), so no two alerts share an identifier.
fn serial(rng: &mut Rng, half: u64, span: u64, unique: Option<u64>) -> u64 {
    half * span + unique.map_or_else(|| rng.next_u64() % span, |i| i % span)
}

/// A valid ISO 6346 container number.
fn container(rng: &mut Rng, half: u64) -> String {
    let unique = rng.unique.take();
    let owner = rng.pick(OWNERS);
    let serial = serial(rng, half, 500_000, unique);
    for d in 0..10 {
        if let Ok(c) = ContainerNumber::parse(&format!("{owner}{serial:06}{d}")) {
            return c.to_string();
        }
    }
    format!("{owner}{serial:06}0")
}

fn postal(rng: &mut Rng, half: u64) -> String {
    let unique = rng.unique.take();
    let serial = serial(rng, half, 50_000_000, unique);
    let cc = rng.pick(COUNTRIES);
    for d in 0..10 {
        if let Ok(p) = PostalItemId::parse(&format!("RR{serial:08}{d}{cc}")) {
            return p.to_string();
        }
    }
    format!("RR{serial:08}0{cc}")
}

fn awb(rng: &mut Rng, half: u64) -> String {
    let unique = rng.unique.take();
    let prefix = rng.pick(&["180", "988", "618", "297"]);
    let serial7 = serial(rng, half, 5_000_000, unique);
    format!("{prefix}{serial7:07}{}", serial7 % 7)
}

fn tracking(rng: &mut Rng, half: u64) -> String {
    let unique = rng.unique.take();
    format!("EX{:011}", serial(rng, half, 10_000_000_000, unique))
}

fn imo(rng: &mut Rng, half: u64) -> String {
    let base = 900_000 + half * 50_000 + rng.below(50_000) as u64;
    for d in 0..10 {
        if let Ok(i) = ImoNumber::parse(&format!("{base}{d}")) {
            return i.to_string();
        }
    }
    format!("{base}0")
}

/// A consignee: (name as the alert writes it, address, country).
fn consignee(rng: &mut Rng) -> (String, String, String) {
    let country = rng.pick(&["KR", "KR", "KR", "VN", "TH", "MY"]).to_string();
    let name = match rng.below(4) {
        0 => {
            let (f, _) = rng.pick(KOREAN_FAMILY);
            format!("{f} {} {}", word(rng), word(rng))
        }
        1 => format!(
            "{} {} {} {}",
            rng.pick(VIET_WORDS),
            word(rng),
            rng.pick(COMPANY_KINDS),
            rng.pick(LEGAL_FORMS).0
        ),
        _ => format!(
            "{} {} {} {}",
            word(rng),
            word(rng),
            rng.pick(COMPANY_KINDS),
            rng.pick(LEGAL_FORMS).0
        ),
    };
    let address = format!(
        "{} {}-ro, {}-gu, {}",
        1 + rng.below(300),
        word(rng),
        word(rng),
        rng.pick(&["Seoul", "Busan", "Incheon", "Daegu", "Gwangju"])
    );
    (name, address, country)
}

/// The alerts, each with a unique `case_reference` `GEN-nnnnnn`.
///
/// # Errors
/// A generated document breaks an alert rule (a bug in the generator).
pub fn alerts(spec: &Spec) -> Result<Vec<Alert>, crate::model::FieldError> {
    let mut rng = Rng::new(spec.seed);
    let from = spec.date.plus_days(-30).to_string();
    let until = spec.date.plus_days(300).to_string();
    let mut out = Vec::with_capacity(spec.alerts);
    for i in 0..spec.alerts {
        let case = format!("GEN-{i:06}");
        let (cc, port) = *rng.pick(PORTS);
        let subject = if i % 100 == 7 {
            // About 1 in 100: a profile.
            let route = rng.pick(&["express", "postal", "air-cargo"]).to_string();
            json!({"profile": {
                "routes": [route],
                "origin_countries": [cc],
                "hs_prefixes": [rng.pick(HS)],
                "keywords": [rng.pick(PROFILE_WORDS)],
                "max_weight_kg": 5 + rng.below(30),
            }})
        } else {
            let (name, address, country) = consignee(&mut rng);
            let with_party = rng.chance(0.35);
            let party = json!({"name": name, "address": address, "country": country});
            rng.unique = Some(i as u64);
            let mut cargo = match rng.below(5) {
                0 | 1 => json!({"route": "sea-container",
                    "container_numbers": [container(&mut rng, 0)],
                    "transport_document": {"type": "bill-of-lading", "number": format!("BL{:010}", rng.next_u64() % 5_000_000_000)},
                    "vessel_imo": if rng.chance(0.05) { imo(&mut rng, 0) } else { String::new() }}),
                2 => json!({"route": "air-cargo",
                    "transport_document": {"type": "air-waybill", "number": awb(&mut rng, 0)}}),
                3 => json!({"route": "express", "express_tracking_number": tracking(&mut rng, 0)}),
                _ => json!({"route": "postal", "postal_item_id": postal(&mut rng, 0)}),
            };
            if let Some(o) = cargo.as_object_mut() {
                if o.get("vessel_imo").and_then(|v| v.as_str()) == Some("") {
                    o.remove("vessel_imo");
                }
                if with_party {
                    o.insert("consignee".into(), party);
                }
                o.insert("loading_country".into(), json!(cc));
                o.insert("loading_port".into(), json!(port));
            }
            json!({ "cargo": cargo })
        };
        let doc = json!({
            "title": format!("Synthetic alert {case}"),
            "subject": subject,
            "substances": [rng.pick(&["cocaine", "methamphetamine", "ketamine", "narcotic-pharmaceuticals", "precursor-chemicals"])],
            "risk": rng.pick(&["medium", "high", "critical"]),
            "validity": {"valid_from": from, "valid_until": until},
            "distribution": {"all_partners": true},
            "handling": {"tlp": "amber"},
            "case_reference": case,
        });
        out.push(Alert::from_json(&doc.to_string()).map_err(|e| e.within(&case))?);
    }
    Ok(out)
}

/// One manifest line: values by column name.
#[derive(Default)]
struct Row(Vec<(&'static str, String)>);

impl Row {
    fn set(&mut self, k: &'static str, v: impl Into<String>) {
        let v = v.into();
        match self.0.iter_mut().find(|(c, _)| *c == k) {
            Some(slot) => slot.1 = v,
            None => self.0.push((k, v)),
        }
    }
    fn write(&self, w: &mut impl Write, format: Format) -> std::io::Result<()> {
        match format {
            Format::Csv => {
                let mut first = true;
                for c in CARGO_FIELDS.iter().map(Field::name) {
                    if !first {
                        w.write_all(b",")?;
                    }
                    first = false;
                    if let Some((_, v)) = self.0.iter().find(|(k, _)| *k == c) {
                        w.write_all(csv_field(v).as_bytes())?;
                    }
                }
                w.write_all(b"\n")
            }
            _ => {
                let mut m = serde_json::Map::new();
                for (k, v) in &self.0 {
                    if !v.is_empty() {
                        m.insert((*k).to_owned(), json!(v));
                    }
                }
                writeln!(w, "{}", serde_json::Value::Object(m))
            }
        }
    }
}

fn background(rng: &mut Rng, spec: &Spec, reference: String, family: Family) -> Row {
    let mut r = Row::default();
    r.set("reference", reference);
    let (cc, port) = *rng.pick(PORTS);
    let pick = match family {
        Family::Any => rng.below(5),
        Family::Sea => 0,
        Family::Air => 2,
    };
    let route = match pick {
        0 | 1 => {
            r.set("container_numbers", container(rng, 1));
            r.set(
                "transport_document",
                format!("BL{:010}", 5_000_000_000 + rng.next_u64() % 5_000_000_000),
            );
            if rng.chance(0.2) {
                r.set("vessel_imo", imo(rng, 1));
            }
            "sea-container"
        }
        2 => {
            r.set("transport_document", awb(rng, 1));
            "air-cargo"
        }
        3 => {
            r.set("tracking_number", tracking(rng, 1));
            "express"
        }
        _ => {
            r.set("postal_item_id", postal(rng, 1));
            "postal"
        }
    };
    r.set("route", route);
    let (name, address, country) = consignee(rng);
    r.set(
        "shipper_name",
        format!(
            "{} {} {}",
            word(rng),
            rng.pick(COMPANY_KINDS),
            rng.pick(LEGAL_FORMS).0
        ),
    );
    r.set("shipper_country", cc);
    r.set("consignee_name", name);
    r.set("consignee_address", address);
    r.set("consignee_country", country);
    r.set("hs_code", *rng.pick(HS));
    r.set("goods_description", *rng.pick(GOODS));
    r.set("weight_kg", format!("{}", 1 + rng.below(20_000)));
    r.set("loading_country", cc);
    r.set("loading_port", port);
    r.set("discharge_port", *rng.pick(KR_PORTS));
    r.set(
        "arrival_date",
        spec.date.plus_days(rng.below(20) as i64).to_string(),
    );
    r
}

/// A variant of a name as another desk or a manifest clerk would type it.
fn name_variant(rng: &mut Rng, name: &str) -> (String, &'static str) {
    let tokens: Vec<&str> = name.split_whitespace().collect();
    for _ in 0..8 {
        match rng.below(5) {
            0 if !name.is_ascii() => {
                return (deunicode::deunicode(name).to_uppercase(), "transliteration")
            }
            1 if tokens.len() >= 2 => {
                let mut t = tokens.clone();
                t.rotate_left(1);
                return (t.join(" "), "swapped-order");
            }
            2 => {
                // One typing error in the longest token.
                let (i, longest) = tokens
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, t)| t.chars().count())
                    .map(|(i, t)| (i, t.to_string()))
                    .unwrap_or((0, name.to_owned()));
                let mut chars: Vec<char> = longest.chars().collect();
                if chars.len() >= 5 {
                    let p = 1 + rng.below(chars.len() - 2);
                    match rng.below(3) {
                        0 => chars.swap(p, p + 1),
                        1 => {
                            chars.remove(p);
                        }
                        _ => chars[p] = if chars[p] == 'e' { 'a' } else { 'e' },
                    }
                    let mut t: Vec<String> = tokens.iter().map(|s| s.to_string()).collect();
                    t[i] = chars.into_iter().collect();
                    return (t.join(" "), "typo");
                }
            }
            3 => {
                for (short, long) in LEGAL_FORMS {
                    if let Some(stem) = name.strip_suffix(short) {
                        return (format!("{stem}{long}"), "legal-form");
                    }
                }
            }
            4 => {
                for (a, b) in KOREAN_FAMILY {
                    if let Some(rest) = name.strip_prefix(a) {
                        return (format!("{b}{rest}"), "romanisation");
                    }
                }
            }
            _ => {}
        }
    }
    (name.to_uppercase(), "case")
}

/// Writes the manifest (header first for CSV) and returns the truth.
///
/// # Errors
/// Writing failed.
pub fn write_manifest(
    spec: &Spec,
    alerts: &[Alert],
    w: &mut impl Write,
    format: Format,
) -> std::io::Result<Vec<Truth>> {
    if format == Format::Paxlst {
        return write_passengers(spec, alerts, w);
    }
    let family = Family::of(format);
    let mut out = Out::new(format, spec);
    let mut rng = Rng::new(spec.seed.wrapping_add(1));
    out.begin(w)?;
    // Which alerts can seed what: identifiers the format carries, profiles of its route.
    let mut with_id = vec![];
    let mut with_name = vec![];
    let mut profiles = vec![];
    for (i, a) in alerts.iter().enumerate() {
        match &a.subject {
            Subject::Cargo(c) => {
                if family.carries(c.route) {
                    with_id.push(i);
                }
                if c.consignee.is_some() {
                    with_name.push(i);
                }
            }
            Subject::Profile(p) if family.route_of(&p.routes).is_some() => profiles.push(i),
            Subject::Profile(_) | Subject::Traveler(_) => {}
        }
    }
    // Seeded lines go to distinct random positions.
    let mut seeded: Vec<(usize, TruthKind)> = Vec::new();
    let mut push = |n: usize, k: TruthKind, ok: bool| {
        if ok {
            for _ in 0..n {
                seeded.push((0, k));
            }
        }
    };
    push(
        spec.true_identifiers,
        TruthKind::Identifier,
        !with_id.is_empty(),
    );
    push(
        spec.true_names,
        TruthKind::NameVariant,
        !with_name.is_empty(),
    );
    push(spec.true_profiles, TruthKind::Profile, !profiles.is_empty());
    let stride = (spec.lines / seeded.len().max(1)).max(1);
    for (j, s) in seeded.iter_mut().enumerate() {
        s.0 = j * stride + rng.below(stride);
    }
    seeded.sort_by_key(|s| s.0);
    let mut truth = Vec::with_capacity(seeded.len());
    let mut next = 0;
    for n in 0..spec.lines {
        let reference = format!("L{n:07}");
        let mut row = background(&mut rng, spec, reference.clone(), family);
        while next < seeded.len() && seeded[next].0 < n {
            next += 1;
        }
        if next < seeded.len() && seeded[next].0 == n {
            let kind = seeded[next].1;
            next += 1;
            let (alert, variant) = match kind {
                TruthKind::Identifier => {
                    let a = &alerts[*rng.pick(&with_id)];
                    let Subject::Cargo(c) = &a.subject else {
                        continue;
                    };
                    // Clear the background identifiers: the line carries the alert's.
                    for k in [
                        "container_numbers",
                        "transport_document",
                        "tracking_number",
                        "postal_item_id",
                        "vessel_imo",
                    ] {
                        row.set(k, "");
                    }
                    row.set("route", c.route.as_str());
                    let v = if let Some(x) = c.container_numbers.first() {
                        // Officers type container numbers with spaces and dashes.
                        let s = x.as_str();
                        row.set(
                            "container_numbers",
                            format!("{} {}-{}", &s[..4], &s[4..10], &s[10..]).to_lowercase(),
                        );
                        "container"
                    } else if let Some(d) = &c.transport_document {
                        row.set("transport_document", d.number());
                        "transport-document"
                    } else if let Some(t) = &c.express_tracking_number {
                        row.set("tracking_number", t.as_str());
                        "tracking-number"
                    } else if let Some(p) = &c.postal_item_id {
                        row.set("postal_item_id", p.as_str().to_lowercase());
                        "postal-item"
                    } else {
                        continue;
                    };
                    (a, v)
                }
                TruthKind::NameVariant => {
                    let a = &alerts[*rng.pick(&with_name)];
                    let Subject::Cargo(c) = &a.subject else {
                        continue;
                    };
                    let Some(p) = &c.consignee else { continue };
                    let (name, v) = name_variant(&mut rng, p.name.as_str());
                    row.set("consignee_name", name);
                    row.set(
                        "consignee_address",
                        p.address
                            .as_ref()
                            .map(|a| a.to_string())
                            .unwrap_or_default(),
                    );
                    row.set(
                        "consignee_country",
                        p.country.map(|c| c.to_string()).unwrap_or_default(),
                    );
                    (a, v)
                }
                TruthKind::Profile => {
                    let a = &alerts[*rng.pick(&profiles)];
                    let Subject::Profile(p) = &a.subject else {
                        continue;
                    };
                    let Some(route) = family.route_of(&p.routes) else {
                        continue;
                    };
                    row.set("route", route.as_str());
                    for k in [
                        "container_numbers",
                        "transport_document",
                        "tracking_number",
                        "postal_item_id",
                        "vessel_imo",
                    ] {
                        row.set(k, "");
                    }
                    match route {
                        CargoRoute::Express => row.set("tracking_number", tracking(&mut rng, 1)),
                        CargoRoute::Postal => row.set("postal_item_id", postal(&mut rng, 1)),
                        _ => row.set("transport_document", awb(&mut rng, 1)),
                    }
                    if let Some(cc) = p.origin_countries.first() {
                        let port = PORTS
                            .iter()
                            .find(|(c, _)| *c == cc.as_str())
                            .map_or("", |p| p.1);
                        row.set("loading_country", cc.as_str());
                        row.set("loading_port", port);
                        row.set("shipper_country", cc.as_str());
                    }
                    if let Some(h) = p.hs_prefixes.first() {
                        row.set(
                            "hs_code",
                            format!("{}{:02}", h.as_str(), rng.below(90) + 10),
                        );
                    }
                    if let Some(k) = p.keywords.first() {
                        row.set(
                            "goods_description",
                            format!("{} capsules, {}", k, rng.pick(GOODS)),
                        );
                    }
                    let max = p.max_weight_kg.map_or(5_000, |w| w.grams());
                    row.set(
                        "weight_kg",
                        format!("{:.3}", (1 + rng.below(max as usize)) as f64 / 1000.0),
                    );
                    (a, "profile")
                }
            };
            truth.push(Truth {
                reference: out.reference(&row),
                case_reference: alert
                    .case_reference
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                kind,
                variant,
            });
        }
        out.row(w, &row)?;
    }
    out.end(w)?;
    Ok(truth)
}

impl Row {
    fn get(&self, k: &str) -> &str {
        self.0
            .iter()
            .find(|(c, _)| *c == k)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Which consignments a format carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// kdesk's CSV and JSON Lines: every route.
    Any,
    /// CUSCAR: sea containers.
    Sea,
    /// XFWB, XFZB: air cargo.
    Air,
}

impl Family {
    fn of(format: Format) -> Self {
        match format {
            Format::Cuscar => Family::Sea,
            Format::Xfwb | Format::Xfzb => Family::Air,
            _ => Family::Any,
        }
    }

    fn carries(&self, route: CargoRoute) -> bool {
        match self {
            Family::Any => true,
            Family::Sea => route == CargoRoute::SeaContainer,
            Family::Air => route == CargoRoute::AirCargo,
        }
    }

    fn route_of(&self, routes: &[CargoRoute]) -> Option<CargoRoute> {
        routes.iter().copied().find(|r| self.carries(*r))
    }
}

/// Consignments per CUSCAR message, travelers per PAXLST message (one flight).
const PER_MESSAGE: usize = 500;
const PER_FLIGHT: usize = 400;

/// EDIFACT text with the release character before the service characters.
fn edi(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\'' | '+' | ':' | '?') {
            o.push('?');
        }
        o.push(c);
    }
    o
}

/// XML text with the five special characters escaped.
fn xml(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `YYMMDD` of a date.
fn yymmdd(d: &Date) -> String {
    let s = d.to_string();
    format!("{}{}{}", &s[2..4], &s[5..7], &s[8..10])
}

/// Writes rows in one format.
struct Out {
    format: Format,
    date: Date,
    /// Segments of the open CUSCAR message, and consignments in it.
    segments: usize,
    in_message: usize,
    messages: usize,
    imo: String,
}

impl Out {
    fn new(format: Format, spec: &Spec) -> Self {
        let mut rng = Rng::new(spec.seed.wrapping_add(7));
        Self {
            format,
            date: spec.date,
            segments: 0,
            in_message: 0,
            messages: 0,
            imo: imo(&mut rng, 1),
        }
    }

    /// The reference the format's reader gives the line.
    fn reference(&self, row: &Row) -> String {
        match self.format {
            Format::Xfwb => {
                let a = crate::model::compact_upper(row.get("transport_document"));
                match a.len() {
                    11 => format!("AWB {}-{}", &a[..3], &a[3..]),
                    _ => a,
                }
            }
            _ => row.get("reference").to_owned(),
        }
    }

    fn seg(&mut self, w: &mut impl Write, s: &str) -> std::io::Result<()> {
        self.segments += 1;
        writeln!(w, "{s}'")
    }

    fn begin(&mut self, w: &mut impl Write) -> std::io::Result<()> {
        match self.format {
            Format::Csv => {
                let names: Vec<&str> = CARGO_FIELDS.iter().map(Field::name).collect();
                writeln!(w, "{}", names.join(","))
            }
            Format::Cuscar => {
                writeln!(w, "UNA:+.? '")?;
                writeln!(
                    w,
                    "UNB+UNOW:4+KDESKGEN:ZZ+KRCUSCAR:ZZ+{}:0800+GEN1'",
                    yymmdd(&self.date)
                )
            }
            _ => Ok(()),
        }
    }

    fn close_message(&mut self, w: &mut impl Write) -> std::io::Result<()> {
        if self.in_message > 0 {
            let n = self.segments + 1;
            writeln!(w, "UNT+{n}+{}'", self.messages)?;
            self.in_message = 0;
        }
        Ok(())
    }

    fn row(&mut self, w: &mut impl Write, r: &Row) -> std::io::Result<()> {
        match self.format {
            Format::Csv | Format::Jsonl | Format::Paxlst => r.write(w, self.format),
            Format::Cuscar => {
                if self.in_message == PER_MESSAGE {
                    self.close_message(w)?;
                }
                if self.in_message == 0 {
                    self.messages += 1;
                    self.segments = 0;
                    let m = self.messages;
                    self.seg(w, &format!("UNH+{m}+CUSCAR:D:95B:UN"))?;
                    self.seg(w, &format!("BGM+85+GENMAN{m}+9"))?;
                    self.seg(
                        w,
                        &format!(
                            "TDT+20+GEN{m:04}+1++GEN:172:20+++{}:146:11:GEN VESSEL",
                            self.imo
                        ),
                    )?;
                    self.seg(
                        w,
                        &format!("DTM+132:{}:102", self.date.to_string().replace('-', "")),
                    )?;
                }
                self.in_message += 1;
                self.seg(
                    w,
                    &format!(
                        "CNI+{}+{}",
                        self.in_message,
                        edi(r.get("transport_document"))
                    ),
                )?;
                self.seg(w, &format!("RFF+BH:{}", edi(r.get("reference"))))?;
                for (q, who) in [("CZ", "shipper"), ("CN", "consignee")] {
                    let name = r.get(&format!("{who}_name")).to_owned();
                    if name.is_empty() {
                        continue;
                    }
                    let addr = r.get(&format!("{who}_address")).to_owned();
                    let cc = r.get(&format!("{who}_country")).to_owned();
                    self.seg(
                        w,
                        &format!("NAD+{q}+++{}+{}+++++{}", edi(&name), edi(&addr), edi(&cc)),
                    )?;
                }
                for (q, k) in [("9", "loading_port"), ("11", "discharge_port")] {
                    let v = r.get(k).to_owned();
                    if !v.is_empty() {
                        self.seg(w, &format!("LOC+{q}+{}", edi(&v)))?;
                    }
                }
                self.seg(w, "GID+1+10:CT")?;
                let d = r.get("goods_description").to_owned();
                if !d.is_empty() {
                    self.seg(w, &format!("FTX+AAA+++{}", edi(&d)))?;
                }
                let h = r.get("hs_code").to_owned();
                if !h.is_empty() {
                    self.seg(w, &format!("PIA+5+{h}:HS"))?;
                }
                let kg = r.get("weight_kg").to_owned();
                if !kg.is_empty() {
                    self.seg(w, &format!("MEA+AAE+G+KGM:{kg}"))?;
                }
                for c in r.get("container_numbers").split([';', ',']).map(str::trim) {
                    if !c.is_empty() {
                        self.seg(w, &format!("EQD+CN+{}+22G1:102:5+2+5", edi(c)))?;
                    }
                }
                Ok(())
            }
            Format::Xfwb | Format::Xfzb => {
                let house = self.format == Format::Xfzb;
                let (root, ns) = if house {
                    ("HouseWaybill", "iata:housewaybill:1")
                } else {
                    ("Waybill", "iata:waybill:1")
                };
                writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
                writeln!(
                    w,
                    "<rsm:{root} xmlns:rsm=\"{ns}\" xmlns:ram=\"iata:datamodel:3\">"
                )?;
                let number = if house {
                    r.get("reference").to_owned()
                } else {
                    r.get("transport_document").to_owned()
                };
                writeln!(
                    w,
                    "<rsm:BusinessHeaderDocument><ram:ID>{}</ram:ID></rsm:BusinessHeaderDocument>",
                    xml(&number)
                )?;
                writeln!(w, "<rsm:MasterConsignment>")?;
                if house {
                    writeln!(
                        w,
                        "<ram:TransportContractDocument><ram:ID>{}</ram:ID></ram:TransportContractDocument>",
                        xml(r.get("transport_document"))
                    )?;
                    writeln!(w, "<ram:IncludedHouseConsignment>")?;
                }
                let kg = r.get("weight_kg");
                if !kg.is_empty() {
                    writeln!(
                        w,
                        "<ram:IncludedTareGrossWeightMeasure unitCode=\"KGM\">{kg}</ram:IncludedTareGrossWeightMeasure>"
                    )?;
                }
                for (el, who) in [
                    ("ConsignorParty", "shipper"),
                    ("ConsigneeParty", "consignee"),
                ] {
                    let name = r.get(&format!("{who}_name"));
                    if name.is_empty() {
                        continue;
                    }
                    write!(
                        w,
                        "<ram:{el}><ram:Name>{}</ram:Name><ram:PostalStructuredAddress>",
                        xml(name)
                    )?;
                    let addr = r.get(&format!("{who}_address"));
                    if !addr.is_empty() {
                        write!(w, "<ram:StreetName>{}</ram:StreetName>", xml(addr))?;
                    }
                    let cc = r.get(&format!("{who}_country"));
                    if !cc.is_empty() {
                        write!(w, "<ram:CountryID>{}</ram:CountryID>", xml(cc))?;
                    }
                    writeln!(w, "</ram:PostalStructuredAddress></ram:{el}>")?;
                }
                let origin = r.get("loading_port");
                if origin.len() == 5 {
                    writeln!(
                        w,
                        "<ram:OriginLocation><ram:ID>{}</ram:ID></ram:OriginLocation>",
                        &origin[2..]
                    )?;
                }
                if let Some(d) = r.get("arrival_date").get(0..10) {
                    writeln!(
                        w,
                        "<ram:SpecifiedLogisticsTransportMovement><ram:ID>KE672</ram:ID><ram:ArrivalEvent><ram:ScheduledOccurrenceDateTime>{d}T06:00:00</ram:ScheduledOccurrenceDateTime></ram:ArrivalEvent></ram:SpecifiedLogisticsTransportMovement>"
                    )?;
                }
                let item = if house {
                    "IncludedHouseConsignmentItem"
                } else {
                    "IncludedMasterConsignmentItem"
                };
                write!(w, "<ram:{item}>")?;
                let h = r.get("hs_code");
                if !h.is_empty() {
                    write!(w, "<ram:TypeCode>{}</ram:TypeCode>", xml(h))?;
                }
                let d = r.get("goods_description");
                if !d.is_empty() {
                    write!(
                        w,
                        "<ram:NatureIdentificationTransportCargo><ram:Identification>{}</ram:Identification></ram:NatureIdentificationTransportCargo>",
                        xml(d)
                    )?;
                }
                writeln!(w, "</ram:{item}>")?;
                if house {
                    writeln!(w, "</ram:IncludedHouseConsignment>")?;
                }
                writeln!(w, "</rsm:MasterConsignment>")?;
                writeln!(w, "</rsm:{root}>")
            }
        }
    }

    fn end(&mut self, w: &mut impl Write) -> std::io::Result<()> {
        if self.format == Format::Cuscar {
            self.close_message(w)?;
            writeln!(w, "UNZ+{}+GEN1'", self.messages)?;
        }
        Ok(())
    }
}

/// Traveler alerts, each with a unique `case_reference` `GEN-Tnnnnnn`: name, date of birth,
/// nationality and passport (a third without the passport: found by name and date of birth).
///
/// # Errors
/// A generated document breaks an alert rule (a bug in the generator).
pub fn traveler_alerts(spec: &Spec) -> Result<Vec<Alert>, crate::model::FieldError> {
    let mut rng = Rng::new(spec.seed ^ 0x7472_6176);
    let from = spec.date.plus_days(-30).to_string();
    let until = spec.date.plus_days(300).to_string();
    let mut out = Vec::with_capacity(spec.alerts);
    for i in 0..spec.alerts {
        let case = format!("GEN-T{i:06}");
        let t = traveler(&mut rng, 0, Some(i as u64));
        let mut traveler = json!({
            "family_name": t.family,
            "given_names": t.given,
            "date_of_birth": t.dob.to_string(),
            "nationality": t.nationality,
        });
        if i % 3 != 0 {
            traveler["document"] =
                json!({"type": "passport", "number": t.document, "issuing_country": t.nationality});
        }
        let doc = json!({
            "title": format!("Synthetic traveler alert {case}"),
            "subject": {"traveler": traveler},
            "substances": [rng.pick(&["cocaine", "methamphetamine", "ketamine"])],
            "risk": rng.pick(&["medium", "high", "critical"]),
            "validity": {"valid_from": from, "valid_until": until},
            "distribution": {"all_partners": true},
            "handling": {"tlp": "amber"},
            "case_reference": case,
        });
        out.push(Alert::from_json(&doc.to_string()).map_err(|e| e.within(&case))?);
    }
    Ok(out)
}

/// A made-up traveler.
struct Person {
    family: String,
    given: String,
    dob: Date,
    nationality: String,
    document: String,
}

fn traveler(rng: &mut Rng, half: u64, unique: Option<u64>) -> Person {
    let nationality = rng
        .pick(&["TH", "VN", "MY", "US", "NL", "KH", "LA", "KR", "CN", "DE"])
        .to_string();
    let family = match rng.below(3) {
        0 => rng.pick(KOREAN_FAMILY).0.to_owned(),
        1 => rng.pick(VIET_WORDS).to_string(),
        _ => word(rng),
    };
    let given = format!("{} {}", word(rng), word(rng));
    let dob = Date::parse("1950-01-01")
        .map(|d| d.plus_days(rng.below(20_000) as i64))
        .unwrap_or_else(|_| Date::today_utc());
    let serial = serial(rng, half, 5_000_000, unique);
    let letters = [b'A' + (serial % 26) as u8, b'A' + (serial / 26 % 26) as u8];
    let document = format!(
        "{}{:07}",
        String::from_utf8_lossy(&letters),
        serial % 10_000_000
    );
    Person {
        family,
        given,
        dob,
        nationality,
        document,
    }
}

/// Writes a PAXLST interchange: one message (a flight of up to 400 travelers, crew among
/// them) after another; travelers seeded with an alert's passport or a variant of its name
/// with its date of birth; returns the truth.
///
/// # Errors
/// Writing failed.
pub fn write_passengers(
    spec: &Spec,
    alerts: &[Alert],
    w: &mut impl Write,
) -> std::io::Result<Vec<Truth>> {
    let mut rng = Rng::new(spec.seed.wrapping_add(3));
    let travelers: Vec<&Alert> = alerts
        .iter()
        .filter(|a| matches!(a.subject, Subject::Traveler(_)))
        .collect();
    let with_doc: Vec<&Alert> = travelers
        .iter()
        .copied()
        .filter(|a| matches!(&a.subject, Subject::Traveler(t) if t.document.is_some()))
        .collect();
    let mut seeded: Vec<(usize, TruthKind)> = Vec::new();
    if !with_doc.is_empty() {
        seeded.extend((0..spec.true_identifiers).map(|_| (0, TruthKind::Identifier)));
    }
    if !travelers.is_empty() {
        seeded.extend((0..spec.true_names).map(|_| (0, TruthKind::NameVariant)));
    }
    let stride = (spec.lines / seeded.len().max(1)).max(1);
    for (j, s) in seeded.iter_mut().enumerate() {
        s.0 = (j * stride + rng.below(stride)).min(spec.lines.saturating_sub(1));
    }
    seeded.sort_by_key(|s| s.0);
    writeln!(w, "UNA:+.? '")?;
    writeln!(
        w,
        "UNB+UNOW:4+KDESKGEN:ZZ+KRCUSAPI:ZZ+{}:0800+GENPAX'",
        yymmdd(&spec.date)
    )?;
    let mut truth = Vec::new();
    let mut next = 0;
    let mut segments = 0usize;
    let mut messages = 0usize;
    let mut in_flight = 0usize;
    let seg = |w: &mut dyn Write, s: String, segments: &mut usize| -> std::io::Result<()> {
        *segments += 1;
        writeln!(w, "{s}'")
    };
    let mut flight = String::new();
    for n in 0..spec.lines {
        if in_flight == PER_FLIGHT {
            seg(w, format!("CNT+42:{in_flight}"), &mut segments)?;
            writeln!(w, "UNT+{}+{messages}'", segments + 1)?;
            in_flight = 0;
        }
        if in_flight == 0 {
            messages += 1;
            segments = 0;
            flight = format!("GE{}", 100 + messages % 9000);
            seg(
                w,
                format!("UNH+{messages}+PAXLST:D:05B:UN:IATA"),
                &mut segments,
            )?;
            seg(w, "BGM+745".into(), &mut segments)?;
            seg(w, format!("TDT+20+{flight}"), &mut segments)?;
            seg(w, "LOC+125+BKK".into(), &mut segments)?;
            seg(
                w,
                format!("DTM+189:{}0900:201", yymmdd(&spec.date)),
                &mut segments,
            )?;
            seg(w, "LOC+87+ICN".into(), &mut segments)?;
        }
        in_flight += 1;
        let booking = format!("L{n:07}");
        let mut p = traveler(&mut rng, 1, None);
        while next < seeded.len() && seeded[next].0 < n {
            next += 1;
        }
        let mut seeded_as = None;
        if next < seeded.len() && seeded[next].0 == n {
            let kind = seeded[next].1;
            next += 1;
            let pool = if kind == TruthKind::Identifier {
                &with_doc
            } else {
                &travelers
            };
            let a = *rng.pick(pool);
            if let Subject::Traveler(t) = &a.subject {
                p.dob = t.date_of_birth.unwrap_or(p.dob);
                if let Some(c) = t.nationality {
                    p.nationality = c.to_string();
                }
                let full = match &t.given_names {
                    Some(g) => format!("{} {}", t.family_name, g),
                    None => t.family_name.to_string(),
                };
                let (name, variant) = match kind {
                    TruthKind::Identifier => {
                        if let Some(d) = &t.document {
                            p.document = d.number.to_string();
                            p.nationality = d.issuing_country.to_string();
                        }
                        (full.to_uppercase(), "passport")
                    }
                    _ => name_variant(&mut rng, &full),
                };
                let mut parts = name.splitn(2, ' ');
                p.family = parts.next().unwrap_or_default().to_owned();
                p.given = parts.next().unwrap_or_default().to_owned();
                seeded_as = Some((a, kind, variant));
            }
        }
        let crew = n % 50 == 49;
        let reference = crate::screen::formats::paxlst::reference(
            Some(&flight),
            crew,
            None,
            &p.family,
            Some(&p.given).filter(|g| !g.is_empty()).map(|g| g.as_str()),
            Some(&booking),
        );
        if let Some((a, kind, variant)) = seeded_as {
            truth.push(Truth {
                reference: reference.clone(),
                case_reference: a
                    .case_reference
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                kind,
                variant,
            });
        }
        let alpha3 = crate::model::CountryCode::parse(&p.nationality)
            .map(|c| c.alpha3())
            .unwrap_or("XXX");
        seg(
            w,
            format!(
                "NAD+{}+++{}:{}",
                if crew { "FM" } else { "FL" },
                edi(&p.family),
                edi(&p.given)
            ),
            &mut segments,
        )?;
        seg(w, "ATT+2++M".into(), &mut segments)?;
        seg(w, format!("DTM+329:{}", yymmdd(&p.dob)), &mut segments)?;
        seg(w, format!("NAT+2+{alpha3}"), &mut segments)?;
        seg(w, format!("RFF+AVF:{booking}"), &mut segments)?;
        seg(w, format!("DOC+P:110:111+{}", p.document), &mut segments)?;
        seg(w, format!("LOC+91+{alpha3}"), &mut segments)?;
    }
    if in_flight > 0 {
        seg(w, format!("CNT+42:{in_flight}"), &mut segments)?;
        writeln!(w, "UNT+{}+{messages}'", segments + 1)?;
    }
    writeln!(w, "UNZ+{messages}+GENPAX'")?;
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::formats::{read_all, ReadOptions};

    /// Every format round-trips: what the generator writes, the reader reads, with no bad
    /// line, bad field or warning, and every seeded line is there by its reference.
    #[test]
    fn gen_round_trips_through_every_reader() {
        let spec = Spec {
            alerts: 300,
            lines: 1200,
            seed: 5,
            true_identifiers: 12,
            true_names: 12,
            true_profiles: 6,
            date: Date::parse("2026-12-01").unwrap(),
        };
        let cargo = alerts(&spec).unwrap();
        let travelers = traveler_alerts(&spec).unwrap();
        for &format in Format::ALL {
            let al = if format == Format::Paxlst {
                &travelers
            } else {
                &cargo
            };
            let mut buf = Vec::new();
            let truth = write_manifest(&spec, al, &mut buf, format).unwrap();
            let (f, _, lines, problems) = read_all(&buf, &ReadOptions::default()).unwrap();
            assert_eq!(f, format, "detected");
            assert!(
                problems.is_empty(),
                "{format:?}: {:?}",
                &problems[..problems.len().min(5)]
            );
            assert!(
                lines.len() >= spec.lines - 3 * 30,
                "{format:?}: {} lines",
                lines.len()
            );
            assert!(truth.len() >= 20, "{format:?}: {} seeded", truth.len());
            let refs: std::collections::HashSet<&str> =
                lines.iter().map(|l| l.reference.as_str()).collect();
            for t in &truth {
                assert!(refs.contains(t.reference.as_str()), "{format:?}: {t:?}");
            }
        }
    }
}
