//! UN/EDIFACT CUSCAR: sea cargo manifests (customs cargo report).
//!
//! Read by segment group, tolerating every segment not used (national guides add their own):
//!
//! - message level, before the first consignment: the vessel and voyage (`TDT+20`: voyage in
//!   8028, IMO number in C222 8213, `IMO` prefix allowed), ports (`LOC+9` loading, else
//!   `LOC+5`; `LOC+11` discharge, else `LOC+60`/`LOC+8`), arrival date (`DTM+132`, else
//!   `DTM+178`); containers listed here (`EQD+CN`) are screened on a line of their own;
//! - each consignment, from one `CNI` to the next (or `CNT`/`UNT`): bill of lading (`CNI`
//!   C503, `RFF+BM`), house bill (`RFF+BH`), parties (`NAD+CZ` consignor, `NAD+CN`
//!   consignee: name C080, street C059, city, postcode, country), goods (`FTX+AAA`
//!   description; HS code from `PIA` with item type `HS` or qualifier 5, or `CST`), weights
//!   (`MEA` with purpose `WT` or `AAE` and `G`/`AAD` gross, unit `KGM`/`LBR`/`GRM`/`TNE`: the
//!   consignment's own, else the sum of its goods items'), containers (`EQD+CN`, and `SGP`
//!   placing goods in one), ports (`LOC` as above, overriding the message's). Seals (`SEL`)
//!   are read past: no alert field holds them.

use std::io::BufRead;

use super::edifact::{Envelope, Segment, Tokenizer};
use super::values::{self, DateFormat, ValueRules, WeightUnit};
use super::{Counting, Event, Records, SourceError};
use crate::model::{
    CargoRoute, ContainerNumber, Date, FlightOrVoyage, HsCode, ImoNumber, UnLocode,
};
use crate::screen::manifest::{CargoLine, Kind, Line, LineParty, Problem, Severity, Subject, Unit};

/// The vessel and voyage of the current message.
#[derive(Default, Clone)]
struct Voyage {
    voyage: Option<FlightOrVoyage>,
    imo: Option<ImoNumber>,
    loading: Option<UnLocode>,
    discharge: Option<UnLocode>,
    arrival: Option<Date>,
}

/// The consignment being read.
#[derive(Default)]
struct Consignment {
    at: u64,
    line: CargoLine,
    bl: Option<String>,
    house: Option<String>,
    /// Gross weight given for the consignment itself (before any GID).
    own_weight: Option<u64>,
    items_weight: u64,
    in_item: bool,
    descriptions: Vec<String>,
    loading: Option<UnLocode>,
    discharge: Option<UnLocode>,
}

/// Reads a CUSCAR interchange, one consignment at a time.
pub struct Reader<R> {
    tok: Tokenizer<Counting<R>>,
    env: Envelope,
    voyage: Voyage,
    cons: Option<Consignment>,
    queue: std::collections::VecDeque<Event>,
    last: u64,
    done: bool,
}

fn problem(at: u64, field: &str, e: impl std::fmt::Display, severity: Severity) -> Event {
    Event::Problem(Problem {
        line: at,
        unit: Unit::Segment,
        field: field.to_owned(),
        message: e.to_string(),
        severity,
    })
}

/// A date of EDIFACT format `code` (101, 102, 201, 203, 204; by length without one).
fn edi_date(v: &str, code: &str) -> Result<Date, crate::model::InvalidValue> {
    let v = v.trim();
    let (s, f) = match (code, v.len()) {
        ("101" | "201", _) | ("", 6 | 10) => (v.get(0..6).unwrap_or(v), DateFormat::Short),
        _ => (v.get(0..8).unwrap_or(v), DateFormat::Compact),
    };
    values::date(
        s,
        &ValueRules {
            date_formats: vec![f],
            ..ValueRules::kdesk()
        },
    )
}

/// A UN/LOCODE as EDIFACT writes it (C517 3225), spaces allowed (`KR PUS`).
fn locode(v: &str) -> Result<UnLocode, crate::model::InvalidValue> {
    UnLocode::parse(&v.replace(' ', ""))
}

impl<R: BufRead + Send> Reader<R> {
    /// A reader over an interchange.
    pub fn new(r: Counting<R>) -> Self {
        Self {
            tok: Tokenizer::new(r),
            env: Envelope::default(),
            voyage: Voyage::default(),
            cons: None,
            queue: Default::default(),
            last: 0,
            done: false,
        }
    }

    fn bad(&mut self, seg: &Segment, field: &str, e: impl std::fmt::Display) {
        self.queue
            .push_back(problem(seg.number, field, e, Severity::BadField));
    }

    /// The shared fields of a line of this voyage.
    fn voyage_line(&self) -> CargoLine {
        CargoLine {
            route: Some(CargoRoute::SeaContainer),
            vessel_imo: self.voyage.imo.clone(),
            flight_or_voyage: self.voyage.voyage.clone(),
            arrival_date: self.voyage.arrival,
            loading_port: self.voyage.loading.clone(),
            loading_country: self.voyage.loading.as_ref().map(UnLocode::country),
            discharge_port: self.voyage.discharge.clone(),
            ..Default::default()
        }
    }

    fn close(&mut self) {
        let Some(mut c) = self.cons.take() else {
            return;
        };
        let mut l = std::mem::take(&mut c.line);
        let v = self.voyage_line();
        l.route = v.route;
        l.vessel_imo = v.vessel_imo;
        l.flight_or_voyage = v.flight_or_voyage;
        l.arrival_date = v.arrival_date;
        if let Some(p) = c.loading.or(v.loading_port) {
            l.loading_country = Some(p.country());
            l.loading_port = Some(p);
        }
        l.discharge_port = c.discharge.or(v.discharge_port);
        l.transport_document = c.bl.clone();
        l.house_waybill = c.house.clone();
        l.weight_grams = c
            .own_weight
            .or((c.items_weight > 0).then_some(c.items_weight));
        if !c.descriptions.is_empty() {
            let d: String = c.descriptions.join("; ").chars().take(512).collect();
            l.goods_description = Some(d);
        }
        let reference = c
            .house
            .clone()
            .or(c.bl.clone())
            .unwrap_or_else(|| format!("consignment at segment {}", c.at));
        self.queue.push_back(Event::Line(Line {
            line: c.at,
            reference,
            subject: Subject::Cargo(Box::new(l)),
        }));
    }

    fn party(&mut self, seg: &Segment) -> LineParty {
        let name: Vec<&str> = seg
            .element(3)
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let mut addr: Vec<String> = seg
            .element(4)
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        for e in [5, 6, 7] {
            let v = seg.get(e, 0).trim();
            if !v.is_empty() {
                addr.push(v.to_owned());
            }
        }
        let q = seg.get(0, 0).trim();
        let role = if q == "CZ" { "consignor" } else { "consignee" };
        let mut p = LineParty::default();
        if !name.is_empty() {
            match values::text(&name.join(" "), 128) {
                Ok(t) => p.name = Some(t),
                Err(e) => self.bad(seg, &format!("NAD+{q} C080 ({role} name)"), e),
            }
        }
        if !addr.is_empty() {
            match values::text(&addr.join(", "), 256) {
                Ok(t) => p.address = Some(t),
                Err(e) => self.bad(seg, &format!("NAD+{q} C059 ({role} address)"), e),
            }
        }
        let cc = seg.get(8, 0).trim().to_owned();
        if !cc.is_empty() {
            match values::country(&cc) {
                Ok(c) => p.country = Some(c),
                Err(e) => self.bad(seg, &format!("NAD+{q} 3207 ({role} country)"), e),
            }
        }
        p
    }

    fn container(&mut self, seg: &Segment, field: &str, raw: &str) -> Option<ContainerNumber> {
        match ContainerNumber::parse(raw) {
            Ok(c) => Some(c),
            Err(e) => {
                self.bad(seg, field, e);
                None
            }
        }
    }

    fn weight(&mut self, seg: &Segment) -> Option<u64> {
        let purpose = seg.get(0, 0).trim();
        let what = seg.get(1, 0).trim();
        if !matches!(purpose, "WT" | "AAE") || !matches!(what, "G" | "AAD" | "") {
            return None;
        }
        let unit_s = seg.get(2, 0).trim().to_owned();
        let value = seg.get(2, 1).trim().to_owned();
        if value.is_empty() {
            return None;
        }
        let unit = match WeightUnit::parse(&unit_s) {
            Some(u) => u,
            None if unit_s.is_empty() => WeightUnit::Kg,
            None => {
                self.bad(
                    seg,
                    "MEA C174 6411 (weight unit)",
                    format!("{unit_s:?} is not a weight unit: one of KGM, LBR, GRM, TNE"),
                );
                return None;
            }
        };
        let decimal = self.tok.separators().decimal as char;
        let value = if decimal == ',' {
            value
        } else {
            value.replace(',', ".")
        };
        match values::weight_with(&value, decimal, unit) {
            Ok(g) => Some(g),
            Err(e) => {
                self.bad(seg, "MEA C174 6314 (weight)", e);
                None
            }
        }
    }

    fn loc(&mut self, seg: &Segment) -> Option<(String, UnLocode)> {
        let q = seg.get(0, 0).trim().to_owned();
        if !matches!(q.as_str(), "5" | "9" | "11" | "60" | "8") {
            return None;
        }
        let v = seg.get(1, 0).trim().to_owned();
        if v.is_empty() {
            return None;
        }
        match locode(&v) {
            Ok(p) => Some((q, p)),
            Err(e) => {
                self.bad(seg, &format!("LOC+{q} C517 3225 (port)"), e);
                None
            }
        }
    }

    fn hs(&mut self, seg: &Segment) {
        let Some(c) = self.cons.as_ref() else { return };
        if c.line.hs_code.is_some() {
            return;
        }
        let mut code = None;
        match seg.tag.as_str() {
            "PIA" => {
                let q = seg.get(0, 0).trim();
                for e in 1..seg.elements.len() {
                    let v = seg.get(e, 0).trim();
                    let t = seg.get(e, 1).trim().to_ascii_uppercase();
                    if !v.is_empty() && (t == "HS" || (t.is_empty() && q == "5")) {
                        code = Some(v.to_owned());
                        break;
                    }
                }
            }
            _ => {
                // CST: customs identity codes C246, the HS code first.
                for e in 1..seg.elements.len() {
                    let v = seg.get(e, 0).trim();
                    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                        code = Some(v.to_owned());
                        break;
                    }
                }
            }
        }
        let Some(code) = code else { return };
        match HsCode::parse(&code) {
            Ok(h) => {
                if let Some(c) = self.cons.as_mut() {
                    c.line.hs_code = Some(h);
                }
            }
            Err(e) => self.bad(seg, &format!("{} 7140 (hs_code)", seg.tag), e),
        }
    }

    fn segment(&mut self, seg: Segment) {
        let q = seg.get(0, 0).trim().to_ascii_uppercase();
        if self.cons.is_none() {
            // Message level.
            match seg.tag.as_str() {
                "TDT" => {
                    let v = seg.get(1, 0).trim().to_owned();
                    if !v.is_empty() {
                        match FlightOrVoyage::parse(&v) {
                            Ok(f) => self.voyage.voyage = Some(f),
                            Err(e) => self.bad(&seg, "TDT 8028 (voyage)", e),
                        }
                    }
                    let imo = seg.get(7, 0).trim().to_owned();
                    if !imo.is_empty() {
                        match ImoNumber::parse(&imo) {
                            Ok(i) => self.voyage.imo = Some(i),
                            Err(e) => self.bad(&seg, "TDT C222 8213 (vessel_imo)", e),
                        }
                    }
                    return;
                }
                "LOC" => {
                    if let Some((q, p)) = self.loc(&seg) {
                        match q.as_str() {
                            "9" => self.voyage.loading = Some(p),
                            "5" => {
                                self.voyage.loading.get_or_insert(p);
                            }
                            "11" => self.voyage.discharge = Some(p),
                            _ => {
                                self.voyage.discharge.get_or_insert(p);
                            }
                        }
                    }
                    return;
                }
                "DTM" => {
                    if matches!(q.as_str(), "132" | "178") {
                        match edi_date(seg.get(0, 1), seg.get(0, 2).trim()) {
                            Ok(d) => {
                                if q == "132" || self.voyage.arrival.is_none() {
                                    self.voyage.arrival = Some(d);
                                }
                            }
                            Err(e) => self.bad(&seg, &format!("DTM+{q} C507 (arrival_date)"), e),
                        }
                    }
                    return;
                }
                "EQD" => {
                    // An equipment list at message level: each container screened on a line
                    // of its own.
                    if q == "CN" {
                        let raw = seg.get(1, 0).trim().to_owned();
                        if let Some(c) = self.container(&seg, "EQD C237 8260 (container)", &raw) {
                            let mut l = self.voyage_line();
                            let reference = format!("container {c}");
                            l.container_numbers.push(c);
                            self.queue.push_back(Event::Line(Line {
                                line: seg.number,
                                reference,
                                subject: Subject::Cargo(Box::new(l)),
                            }));
                        }
                    }
                    return;
                }
                "CNI" => {}
                _ => return,
            }
        }
        match seg.tag.as_str() {
            "CNI" => {
                self.close();
                let mut c = Consignment {
                    at: seg.number,
                    ..Default::default()
                };
                let doc = seg.get(1, 0).trim().to_owned();
                if !doc.is_empty() {
                    match values::document_reference(&doc) {
                        Ok(d) => c.bl = Some(d),
                        Err(e) => self.bad(&seg, "CNI C503 1004 (transport_document)", e),
                    }
                }
                self.cons = Some(c);
            }
            "CNT" => self.close(),
            "RFF" => {
                let v = seg.get(0, 1).trim().to_owned();
                if v.is_empty() || !matches!(q.as_str(), "BM" | "BH") {
                    return;
                }
                match values::document_reference(&v) {
                    Ok(d) => {
                        if let Some(c) = self.cons.as_mut() {
                            if q == "BM" {
                                c.bl = Some(d);
                            } else {
                                c.house = Some(d);
                            }
                        }
                    }
                    Err(e) => self.bad(
                        &seg,
                        &format!(
                            "RFF+{q} C506 1154 ({})",
                            if q == "BM" {
                                "transport_document"
                            } else {
                                "house_waybill"
                            }
                        ),
                        e,
                    ),
                }
            }
            "NAD" => {
                if !matches!(q.as_str(), "CZ" | "CN") {
                    return;
                }
                let p = self.party(&seg);
                if let Some(c) = self.cons.as_mut() {
                    if q == "CZ" {
                        c.line.shipper = p;
                    } else {
                        c.line.consignee = p;
                    }
                }
            }
            "GID" => {
                if let Some(c) = self.cons.as_mut() {
                    c.in_item = true;
                }
            }
            "FTX" => {
                if q != "AAA" {
                    return;
                }
                let d: Vec<&str> = seg
                    .element(3)
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect();
                if d.is_empty() {
                    return;
                }
                match values::text(&d.join(" "), 512) {
                    Ok(t) => {
                        if let Some(c) = self.cons.as_mut() {
                            c.descriptions.push(t);
                        }
                    }
                    Err(e) => self.bad(&seg, "FTX+AAA C108 (goods_description)", e),
                }
            }
            "PIA" | "CST" => self.hs(&seg),
            "MEA" => {
                if let Some(g) = self.weight(&seg) {
                    if let Some(c) = self.cons.as_mut() {
                        if c.in_item {
                            c.items_weight = c.items_weight.saturating_add(g);
                        } else {
                            c.own_weight.get_or_insert(g);
                        }
                    }
                }
            }
            "EQD" | "SGP" => {
                let raw = if seg.tag == "EQD" {
                    if q != "CN" {
                        return;
                    }
                    seg.get(1, 0).trim().to_owned()
                } else {
                    seg.get(0, 0).trim().to_owned()
                };
                if raw.is_empty() {
                    return;
                }
                let field = if seg.tag == "EQD" {
                    "EQD C237 8260 (container_numbers)"
                } else {
                    "SGP C237 8260 (container_numbers)"
                };
                if let Some(n) = self.container(&seg, field, &raw) {
                    if let Some(c) = self.cons.as_mut() {
                        if !c.line.container_numbers.contains(&n)
                            && c.line.container_numbers.len() < crate::model::MAX_CONTAINERS
                        {
                            c.line.container_numbers.push(n);
                        }
                    }
                }
            }
            "LOC" => {
                if let Some((q, p)) = self.loc(&seg) {
                    if let Some(c) = self.cons.as_mut() {
                        match q.as_str() {
                            "9" | "5" => c.loading = Some(p),
                            _ => c.discharge = Some(p),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

impl<R: BufRead + Send> Records for Reader<R> {
    fn kind(&self) -> Kind {
        Kind::Cargo
    }

    fn next_event(&mut self) -> Result<Option<Event>, SourceError> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if self.done {
                return Ok(None);
            }
            let Some(seg) = self.tok.next_segment()? else {
                self.close();
                let mut out = Vec::new();
                let end = self.env.finish(self.last, &mut out, "a CUSCAR interchange");
                self.queue.extend(out);
                self.done = true;
                end?;
                continue;
            };
            self.last = seg.number;
            if seg.tag == "UNT" || seg.tag == "UNH" {
                self.close();
            }
            let mut out = Vec::new();
            let service = self.env.observe(&seg, &mut out);
            if seg.tag == "UNH" {
                self.voyage = Voyage::default();
            }
            self.queue.extend(out);
            if !service {
                self.segment(seg);
            }
        }
    }

    fn consumed(&self) -> u64 {
        self.tok.get_ref().consumed
    }
}
