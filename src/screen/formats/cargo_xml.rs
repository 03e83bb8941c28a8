//! IATA Cargo-XML: XFWB (master air waybill, root element `Waybill`) and XFZB (house waybill,
//! root element `HouseWaybill`), read as a stream of XML events with `quick-xml` (one element
//! path and one text value in memory at a time, whatever the file's size). Namespaces and
//! their prefixes vary between versions and senders: elements are matched by local name.
//!
//! Read per message: the waybill number (`BusinessHeaderDocument/ID`: the air waybill of an
//! XFWB, its mod-7 check digit verified; the house waybill of an XFZB, whose master air
//! waybill is `TransportContractDocument/ID`), shipper and consignee (`ConsignorParty`,
//! `ConsigneeParty`: `Name`, `PostalStructuredAddress` street, city, postcode, `CountryID`;
//! in an XFZB the house consignment's parties), flight (`SpecifiedLogisticsTransportMovement/ID`)
//! and arrival date (its `ArrivalEvent`), gross weight with its `unitCode`
//! (`IncludedTareGrossWeightMeasure`, else the items' `GrossWeightMeasure`), HS code
//! (the item's `TypeCode`), goods description (`NatureIdentificationTransportCargo/
//! Identification`). Airports are IATA codes and are not screened. Several messages may
//! follow each other in one file. A file that is not well-formed XML stops at the first
//! error, naming its line (what came before was screened).

use std::io::BufRead;

use quick_xml::events::Event as X;

use super::values::{self, ValueRules, WeightUnit};
use super::{Counting, Event, Format, Records, SourceError};
use crate::model::{CargoRoute, FlightOrVoyage, HsCode};
use crate::screen::manifest::{CargoLine, Kind, Line, LineParty, Problem, Severity, Subject, Unit};

/// Most bytes read without any markup (`<` or `>`): a longer text or tag is refused, so one
/// event never holds more than this in memory.
pub const MAX_UNMARKED_BYTES: usize = 1 << 20;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// The local name of the first element of an XML document (`Waybill` for `<rsm:Waybill>`).
pub fn root_name(head: &[u8]) -> Option<String> {
    let mut r = quick_xml::Reader::from_reader(head);
    let mut buf = Vec::new();
    for _ in 0..64 {
        match r.read_event_into(&mut buf) {
            Ok(X::Start(e)) | Ok(X::Empty(e)) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            Ok(X::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
        buf.clear();
    }
    None
}

/// A reader that counts lines as bytes are consumed and refuses long runs without markup.
struct Tracking<R> {
    inner: Counting<R>,
    line: u64,
    unmarked: usize,
}

impl<R: BufRead> std::io::Read for Tracking<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracking<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.unmarked > MAX_UNMARKED_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("more than {MAX_UNMARKED_BYTES} bytes without markup"),
            ));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            for &b in &buf[..amt.min(buf.len())] {
                match b {
                    b'\n' => {
                        self.line += 1;
                        self.unmarked += 1;
                    }
                    b'<' | b'>' => self.unmarked = 0,
                    _ => self.unmarked += 1,
                }
            }
        }
        self.inner.consume(amt);
    }
}

/// One waybill being read.
#[derive(Default)]
struct Doc {
    at: u64,
    number: Option<(u64, String)>,
    master: Option<(u64, String)>,
    shipper: Party,
    consignee: Party,
    flight: Option<(u64, String)>,
    arrival: Option<(u64, String)>,
    weight: Option<(u64, String, String)>,
    items_weight: Vec<(u64, String, String)>,
    hs: Option<(u64, String)>,
    descriptions: Vec<String>,
}

#[derive(Default)]
struct Party {
    /// Set from the house consignment (XFZB): not overwritten by the master's.
    house: bool,
    name: Option<String>,
    address: Vec<String>,
    country: Option<(u64, String)>,
}

/// Reads XFWB or XFZB messages.
pub struct Reader<R: BufRead> {
    xml: quick_xml::Reader<Tracking<R>>,
    format: Format,
    buf: Vec<u8>,
    path: Vec<String>,
    text: String,
    bad_entity: Option<String>,
    unit: String,
    doc: Option<Doc>,
    doc_depth: usize,
    queue: std::collections::VecDeque<Event>,
    done: bool,
    seen: bool,
}

fn problem(line: u64, field: &str, e: impl std::fmt::Display, severity: Severity) -> Event {
    Event::Problem(Problem {
        line,
        unit: Unit::Line,
        field: field.to_owned(),
        message: e.to_string(),
        severity,
    })
}

impl<R: BufRead + Send> Reader<R> {
    /// A reader of `format` (XFWB or XFZB) over `r`.
    pub fn new(r: Counting<R>, format: Format) -> Self {
        let mut xml = quick_xml::Reader::from_reader(Tracking {
            inner: r,
            line: 1,
            unmarked: 0,
        });
        xml.config_mut().trim_text(false);
        Self {
            xml,
            format,
            buf: Vec::with_capacity(1024),
            path: Vec::with_capacity(16),
            text: String::new(),
            bad_entity: None,
            unit: String::new(),
            doc: None,
            doc_depth: 0,
            queue: Default::default(),
            done: false,
            seen: false,
        }
    }

    fn line(&self) -> u64 {
        self.xml.get_ref().line
    }

    fn root(&self) -> &'static str {
        if self.format == Format::Xfzb {
            "HouseWaybill"
        } else {
            "Waybill"
        }
    }

    fn has(&self, name: &str) -> bool {
        self.path.iter().any(|p| p == name)
    }

    /// A leaf element ended: the current path (ending with it) and its text.
    fn leaf(&mut self) {
        let line = self.line();
        let text = self.text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        let n = self.path.len();
        let name = self.path[n - 1].as_str();
        let parent = if n >= 2 {
            self.path[n - 2].as_str()
        } else {
            ""
        };
        let in_house = self.has("IncludedHouseConsignment");
        let in_item =
            self.has("IncludedMasterConsignmentItem") || self.has("IncludedHouseConsignmentItem");
        let party = if self.has("ConsignorParty") {
            Some(true)
        } else if self.has("ConsigneeParty") {
            Some(false)
        } else {
            None
        };
        let Some(doc) = self.doc.as_mut() else { return };
        if let Some(shipper) = party {
            // In an XFZB the house consignment's parties win over the master's.
            let p = if shipper {
                &mut doc.shipper
            } else {
                &mut doc.consignee
            };
            if p.house && !in_house {
                return;
            }
            if in_house && !p.house {
                *p = Party {
                    house: true,
                    ..Default::default()
                };
            }
            match name {
                "Name" if parent.ends_with("Party") => p.name = Some(text),
                "StreetName"
                | "CityName"
                | "PostcodeCode"
                | "CountrySubDivisionName"
                | "PostOfficeBox" => p.address.push(text),
                "CountryID" => p.country = Some((line, text)),
                _ => {}
            }
            return;
        }
        match (parent, name) {
            ("BusinessHeaderDocument", "ID") => doc.number = Some((line, text)),
            ("TransportContractDocument", "ID") => doc.master = Some((line, text)),
            ("SpecifiedLogisticsTransportMovement", "ID") => {
                doc.flight.get_or_insert((line, text));
            }
            ("ArrivalEvent", "ScheduledOccurrenceDateTime")
            | ("ArrivalEvent", "ArrivalDateTime") => doc.arrival = Some((line, text)),
            ("NatureIdentificationTransportCargo", "Identification") => doc.descriptions.push(text),
            (_, "TypeCode") if in_item => {
                doc.hs.get_or_insert((line, text));
            }
            // The house consignment's weight wins in an XFZB.
            (_, "IncludedTareGrossWeightMeasure")
                if !in_item && (in_house || doc.weight.is_none()) =>
            {
                doc.weight = Some((line, text, self.unit.clone()));
            }
            (_, "GrossWeightMeasure") if in_item => {
                doc.items_weight.push((line, text, self.unit.clone()));
            }
            _ => {}
        }
    }

    fn weight(&mut self, (line, v, unit): &(u64, String, String)) -> Option<u64> {
        let unit = match unit.trim() {
            "" => WeightUnit::Kg,
            u => match WeightUnit::parse(u) {
                Some(w) => w,
                None => {
                    self.queue.push_back(problem(
                        *line,
                        "GrossWeightMeasure@unitCode (weight unit)",
                        format!("{u:?} is not a weight unit: one of KGM, LBR, GRM, TNE"),
                        Severity::BadField,
                    ));
                    return None;
                }
            },
        };
        match values::weight_with(v, '.', unit) {
            Ok(g) => Some(g),
            Err(e) => {
                self.queue.push_back(problem(
                    *line,
                    "GrossWeightMeasure (weight)",
                    e,
                    Severity::BadField,
                ));
                None
            }
        }
    }

    fn party(&mut self, p: Party, role: &str) -> LineParty {
        let mut out = LineParty::default();
        if let Some(n) = p.name {
            match values::text(&n, 128) {
                Ok(t) if !t.is_empty() => out.name = Some(t),
                Ok(_) => {}
                Err(e) => self.queue.push_back(problem(
                    self.line(),
                    &format!("{role}/Name"),
                    e,
                    Severity::BadField,
                )),
            }
        }
        if !p.address.is_empty() {
            match values::text(&p.address.join(", "), 256) {
                Ok(t) => out.address = Some(t),
                Err(e) => self.queue.push_back(problem(
                    self.line(),
                    &format!("{role}/PostalStructuredAddress"),
                    e,
                    Severity::BadField,
                )),
            }
        }
        if let Some((line, c)) = p.country {
            match values::country(&c) {
                Ok(c) => out.country = Some(c),
                Err(e) => self.queue.push_back(problem(
                    line,
                    &format!("{role}/PostalStructuredAddress/CountryID"),
                    e,
                    Severity::BadField,
                )),
            }
        }
        out
    }

    /// A message ended: its line.
    fn close(&mut self) {
        let Some(mut d) = self.doc.take() else { return };
        let mut c = CargoLine {
            route: Some(CargoRoute::AirCargo),
            ..Default::default()
        };
        let xfzb = self.format == Format::Xfzb;
        let mut reference = None;
        if let Some((line, n)) = d.number.take() {
            if xfzb {
                match values::document_reference(&n) {
                    Ok(h) => {
                        reference = Some(h.clone());
                        c.house_waybill = Some(h);
                    }
                    Err(e) => self.queue.push_back(problem(
                        line,
                        "BusinessHeaderDocument/ID (house_waybill)",
                        e,
                        Severity::BadField,
                    )),
                }
            } else {
                match values::air_waybill(&n) {
                    Ok(a) => {
                        reference = Some(format!("AWB {}-{}", &a.as_str()[..3], &a.as_str()[3..]));
                        c.air_waybill = Some(a);
                    }
                    Err(e) => self.queue.push_back(problem(
                        line,
                        "BusinessHeaderDocument/ID (air_waybill)",
                        e,
                        Severity::BadField,
                    )),
                }
            }
        }
        if let Some((line, m)) = d.master.take() {
            match values::air_waybill(&m) {
                Ok(a) => c.air_waybill = Some(a),
                Err(e) => self.queue.push_back(problem(
                    line,
                    "TransportContractDocument/ID (air_waybill)",
                    e,
                    Severity::BadField,
                )),
            }
        }
        let shipper = std::mem::take(&mut d.shipper);
        c.shipper = self.party(shipper, "ConsignorParty");
        let consignee = std::mem::take(&mut d.consignee);
        c.consignee = self.party(consignee, "ConsigneeParty");
        if let Some((line, f)) = d.flight.take() {
            match FlightOrVoyage::parse(&f) {
                Ok(f) => c.flight_or_voyage = Some(f),
                Err(e) => self.queue.push_back(problem(
                    line,
                    "SpecifiedLogisticsTransportMovement/ID (flight_or_voyage)",
                    e,
                    Severity::BadField,
                )),
            }
        }
        if let Some((line, a)) = d.arrival.take() {
            let day = a.get(0..10).unwrap_or(&a);
            match values::date(day, &ValueRules::kdesk()) {
                Ok(x) => c.arrival_date = Some(x),
                Err(e) => self.queue.push_back(problem(
                    line,
                    "ArrivalEvent/ScheduledOccurrenceDateTime (arrival_date)",
                    e,
                    Severity::BadField,
                )),
            }
        }
        if let Some(w) = d.weight.take() {
            c.weight_grams = self.weight(&w);
        } else {
            let mut total = 0u64;
            for w in std::mem::take(&mut d.items_weight) {
                total = total.saturating_add(self.weight(&w).unwrap_or(0));
            }
            c.weight_grams = (total > 0).then_some(total);
        }
        if let Some((line, h)) = d.hs.take() {
            match HsCode::parse(&h) {
                Ok(h) => c.hs_code = Some(h),
                Err(e) => self.queue.push_back(problem(
                    line,
                    "ConsignmentItem/TypeCode (hs_code)",
                    e,
                    Severity::BadField,
                )),
            }
        }
        if !d.descriptions.is_empty() {
            match values::text(&d.descriptions.join("; "), 512) {
                Ok(t) => c.goods_description = Some(t),
                Err(e) => self.queue.push_back(problem(
                    d.at,
                    "NatureIdentificationTransportCargo/Identification (goods_description)",
                    e,
                    Severity::BadField,
                )),
            }
        }
        let reference = reference.unwrap_or_else(|| format!("{} at line {}", self.root(), d.at));
        self.queue.push_back(Event::Line(Line {
            line: d.at,
            reference,
            subject: Subject::Cargo(Box::new(c)),
        }));
    }

    fn step(&mut self) -> Result<(), SourceError> {
        self.buf.clear();
        let ev = match self.xml.read_event_into(&mut self.buf) {
            Ok(e) => e,
            Err(e) => {
                let line = self.xml.get_ref().line;
                return Err(SourceError::Input(Problem::bad_line(
                    line,
                    format!("not well-formed XML: {e}"),
                )));
            }
        };
        match ev {
            X::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if self.path.len() >= MAX_DEPTH {
                    return Err(SourceError::Input(Problem::bad_line(
                        self.line(),
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    )));
                }
                self.unit.clear();
                if name.ends_with("WeightMeasure") {
                    for a in e.attributes().flatten() {
                        if a.key.local_name().as_ref() == b"unitCode" {
                            self.unit = String::from_utf8_lossy(&a.value).into_owned();
                        }
                    }
                }
                if name == self.root() {
                    if self.doc.is_some() {
                        self.queue.push_back(problem(
                            self.line(),
                            name.as_str(),
                            "a waybill inside another one: the outer one ends here",
                            Severity::BadLine,
                        ));
                        self.close();
                    }
                    self.seen = true;
                    self.doc = Some(Doc {
                        at: self.line(),
                        ..Default::default()
                    });
                    self.doc_depth = self.path.len();
                }
                self.path.push(name);
                self.text.clear();
                self.bad_entity = None;
            }
            X::Empty(_) => {}
            X::End(_) => {
                if let Some(ent) = self.bad_entity.take() {
                    let field = self.path.last().cloned().unwrap_or_default();
                    self.queue.push_back(problem(
                        self.line(),
                        &field,
                        format!("unknown entity &{ent}; (only the five XML entities and character references are read)"),
                        Severity::BadField,
                    ));
                } else if !self.path.is_empty() {
                    self.leaf();
                }
                self.text.clear();
                self.path.pop();
                if self.doc.is_some() && self.path.len() == self.doc_depth {
                    self.close();
                }
            }
            X::Text(t) if self.text.len() < 4096 => match t.xml10_content() {
                Ok(s) => self.text.push_str(&s),
                Err(_) => self.text.push_str(&String::from_utf8_lossy(t.as_ref())),
            },
            X::CData(t) if self.text.len() < 4096 => {
                self.text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            X::GeneralRef(r) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => self.text.push(c),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => self.text.push_str(s),
                        None => self.bad_entity = Some(name),
                    },
                    Err(_) => self.bad_entity = Some(name),
                }
            }
            X::Eof => {
                if self.doc.is_some() {
                    self.queue.push_back(problem(
                        self.line(),
                        self.root(),
                        "the input ends inside a waybill: it is truncated",
                        Severity::BadLine,
                    ));
                    self.doc = None;
                }
                self.done = true;
                if !self.seen {
                    return Err(SourceError::Input(Problem::bad_line(
                        self.line(),
                        format!(
                            "no {} element in the input: it is not an IATA Cargo-XML {} message",
                            self.root(),
                            self.format.as_str().to_uppercase()
                        ),
                    )));
                }
            }
            _ => {}
        }
        Ok(())
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
            if let Err(e) = self.step() {
                self.done = true;
                return Err(e);
            }
        }
    }

    fn consumed(&self) -> u64 {
        self.xml.get_ref().inner.consumed
    }
}
