//! UN/EDIFACT PAXLST: passenger and crew lists (Advance Passenger Information under ICAO
//! Annex 9, after the WCO/IATA/ICAO API-PNR guidelines' PAXLST implementation guide).
//!
//! Read, per message (UNH…UNT): the flight (`TDT+20`, the flight number in element 8028), the
//! last departure and first arrival airports (`LOC+125`, `LOC+87`) with their dates
//! (`DTM+189`, `DTM+232`); then per traveler, from one `NAD` to the next: `NAD+FL` passenger
//! or `NAD+FM` crew member (also `DDU`/`DDT`, in transit), name as surname and given names
//! (C080), `ATT+2` sex (read, not screened), `DTM+329` date of birth, `NAT+2` nationality,
//! `DOC` document type and number (a visa, `V`, is not an identity document and is skipped),
//! `LOC+91` issuing state of that document, `RFF` booking reference and seat (for the line's
//! reference). `CNT+42` (total travelers) is checked. Every other segment is tolerated.
//!
//! Dates of birth `YYMMDD` take the latest century that does not put the birth after the
//! flight's departure date (`values::century`); `CCYYMMDD` is read as it is. Airports are IATA
//! codes, not UN/LOCODEs, and are not screened (no passenger rule uses them).

use std::io::BufRead;

use super::edifact::{Envelope, Segment, Tokenizer};
use super::values::{self, DateFormat, ValueRules};
use super::{Counting, Event, Records, SourceError};
use crate::model::{Date, DocumentNumber, FlightOrVoyage, InvalidValue};
use crate::screen::manifest::{Kind, Line, PassengerLine, Problem, Severity, Subject, Unit};

/// The reference of a traveler's line: flight, `crew`, seat, name and booking reference
/// (`VN416 23C NGUYEN VAN HUNG (K7QX2M)`), at most 64 characters.
pub fn reference(
    flight: Option<&str>,
    crew: bool,
    seat: Option<&str>,
    family: &str,
    given: Option<&str>,
    booking: Option<&str>,
) -> String {
    let mut r = String::new();
    for part in [flight, crew.then_some("crew"), seat, Some(family), given]
        .into_iter()
        .flatten()
    {
        if !r.is_empty() {
            r.push(' ');
        }
        r.push_str(part);
    }
    if let Some(b) = booking {
        r.push_str(&format!(" ({b})"));
    }
    r.trim().chars().take(64).collect()
}

/// The flight of the current message.
#[derive(Default, Clone)]
struct Flight {
    number: Option<FlightOrVoyage>,
    departure: Option<Date>,
    arrival: Option<Date>,
    /// Which of 189/232 the next DTM after a LOC belongs to.
    last_loc: String,
}

impl Flight {
    fn date(&self) -> Option<Date> {
        self.departure.or(self.arrival)
    }
}

/// The traveler being read.
struct Traveler {
    at: u64,
    crew: bool,
    family: Option<String>,
    given: Option<String>,
    dob_raw: Option<(u64, String)>,
    nationality: Option<crate::model::CountryCode>,
    doc: Option<DocumentNumber>,
    doc_country: Option<crate::model::CountryCode>,
    /// The document group being read is the one kept (not a visa, not a second document).
    in_kept_doc: bool,
    doc_seen: bool,
    booking: Option<String>,
    seat: Option<String>,
}

/// Reads a PAXLST interchange, one traveler at a time.
pub struct Reader<R> {
    tok: Tokenizer<Counting<R>>,
    env: Envelope,
    flight: Flight,
    traveler: Option<Traveler>,
    /// Travelers in the current message, for CNT+42.
    in_message: u64,
    queue: std::collections::VecDeque<Event>,
    last: u64,
    done: bool,
    rules: ValueRules,
}

fn bad(seg: &Segment, field: &str, e: impl std::fmt::Display) -> Event {
    Event::Problem(Problem {
        line: seg.number,
        unit: Unit::Segment,
        field: field.to_owned(),
        message: e.to_string(),
        severity: Severity::BadField,
    })
}

/// A date in EDIFACT format `code` (101 YYMMDD, 102 CCYYMMDD, 201 YYMMDDHHMM, 203
/// CCYYMMDDHHMM; without a code, by length).
fn edi_date(v: &str, code: &str) -> Result<Date, InvalidValue> {
    let v = v.trim();
    let d = match (code, v.len()) {
        ("101", _) | ("201", _) | ("", 6) | ("", 10) => v.get(0..6).map(|s| (s, DateFormat::Short)),
        ("102", _) | ("203", _) | ("", 8) | ("", 12) => {
            v.get(0..8).map(|s| (s, DateFormat::Compact))
        }
        _ => None,
    };
    let Some((s, f)) = d else {
        return Err(InvalidValue::new(
            v,
            "an EDIFACT date",
            format!(
                "format {code:?} with {} characters is not one of 101, 102, 201, 203",
                v.len()
            ),
        ));
    };
    let rules = ValueRules {
        date_formats: vec![f],
        ..ValueRules::kdesk()
    };
    values::date(s, &rules)
}

impl<R: BufRead + Send> Reader<R> {
    /// A reader over an interchange.
    pub fn new(r: Counting<R>) -> Self {
        Self {
            tok: Tokenizer::new(r),
            env: Envelope::default(),
            flight: Flight::default(),
            traveler: None,
            in_message: 0,
            queue: Default::default(),
            last: 0,
            done: false,
            rules: ValueRules {
                date_formats: vec![DateFormat::Short, DateFormat::Compact],
                ..ValueRules::kdesk()
            },
        }
    }

    /// Ends the traveler being read, queueing its line (or why it has none).
    fn close_traveler(&mut self) {
        let Some(t) = self.traveler.take() else {
            return;
        };
        let Some(family) = t.family else {
            self.queue.push_back(Event::Problem(Problem {
                line: t.at,
                unit: Unit::Segment,
                field: "NAD C080".into(),
                message: "the traveler has no surname: not screened".into(),
                severity: Severity::BadLine,
            }));
            return;
        };
        let reference_day = self.flight.date().unwrap_or_else(Date::today_utc);
        let mut date_of_birth = None;
        if let Some((at, raw)) = &t.dob_raw {
            let raw = raw.as_str();
            let rules = if raw.len() == 8 {
                ValueRules {
                    date_formats: vec![DateFormat::Compact],
                    ..ValueRules::kdesk()
                }
            } else {
                self.rules.clone()
            };
            match values::birth_date(raw, &rules, reference_day) {
                Ok(b) => date_of_birth = Some(b),
                Err(e) => self.queue.push_back(bad(
                    &Segment {
                        number: *at,
                        ..Default::default()
                    },
                    "DTM+329 C507 (date_of_birth)",
                    e,
                )),
            }
        }
        let mut doc = t.doc;
        if doc.is_some() && t.doc_country.is_none() {
            self.queue.push_back(Event::Problem(Problem {
                line: t.at,
                unit: Unit::Segment,
                field: "LOC+91 (document_country)".into(),
                message: "the document has no issuing state (LOC+91): a number is unique only \
                          within its issuing country, so the document number is not screened"
                    .into(),
                severity: Severity::BadField,
            }));
            doc = None;
        }
        let flight = self.flight.number.clone();
        let reference = reference(
            flight.as_ref().map(|f| f.as_str()),
            t.crew,
            t.seat.as_deref(),
            &family,
            t.given.as_deref(),
            t.booking.as_deref(),
        );
        self.queue.push_back(Event::Line(Line {
            line: t.at,
            reference,
            subject: Subject::Passenger(Box::new(PassengerLine {
                family_name: family,
                given_names: t.given,
                date_of_birth,
                nationality: t.nationality,
                document_number: doc,
                document_country: t.doc_country,
                flight_or_voyage: flight,
                departure_port: None,
                arrival_port: None,
                travel_date: self.flight.date(),
                crew: t.crew,
            })),
        }));
    }

    fn text(&mut self, seg: &Segment, field: &str, v: &str) -> Option<String> {
        match values::text(v, 128) {
            Ok(t) if t.is_empty() => None,
            Ok(t) => Some(t),
            Err(e) => {
                self.queue.push_back(bad(seg, field, e));
                None
            }
        }
    }

    fn segment(&mut self, seg: Segment) {
        let q = seg.get(0, 0).trim().to_ascii_uppercase();
        match seg.tag.as_str() {
            "TDT" => {
                self.close_traveler();
                let n = seg.get(1, 0).trim();
                if !n.is_empty() {
                    match FlightOrVoyage::parse(n) {
                        Ok(f) => self.flight.number = Some(f),
                        Err(e) => self
                            .queue
                            .push_back(bad(&seg, "TDT 8028 (flight_or_voyage)", e)),
                    }
                }
            }
            "LOC" if self.traveler.is_none() => {
                self.flight.last_loc = q;
            }
            "DTM" if self.traveler.is_none() => {
                let code = seg.get(0, 0).trim();
                let which = match code {
                    "189" => Some(true),
                    "232" => Some(false),
                    _ => None,
                };
                if let Some(dep) = which {
                    match edi_date(seg.get(0, 1), seg.get(0, 2).trim()) {
                        Ok(d) if dep => self.flight.departure = Some(d),
                        Ok(d) => self.flight.arrival = Some(d),
                        Err(e) => self.queue.push_back(bad(
                            &seg,
                            &format!("DTM+{code} C507 (travel_date)"),
                            e,
                        )),
                    }
                }
            }
            "NAD" => {
                self.close_traveler();
                let (traveler, crew) = match q.as_str() {
                    "FL" | "DDU" => (true, false),
                    "FM" | "DDT" | "COT" => (true, true),
                    _ => (false, false),
                };
                if !traveler {
                    return;
                }
                self.in_message += 1;
                let mut t = Traveler {
                    at: seg.number,
                    crew,
                    family: None,
                    given: None,
                    dob_raw: None,
                    nationality: None,
                    doc: None,
                    doc_country: None,
                    in_kept_doc: false,
                    doc_seen: false,
                    booking: None,
                    seat: None,
                };
                let name = seg.element(3).to_vec();
                t.family = name
                    .first()
                    .and_then(|s| self.text(&seg, "NAD C080 3036 (family_name)", s));
                let given: Vec<&str> = name
                    .iter()
                    .skip(1)
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect();
                if !given.is_empty() {
                    t.given = self.text(&seg, "NAD C080 3036 (given_names)", &given.join(" "));
                }
                self.traveler = Some(t);
            }
            "DTM" if seg.get(0, 0).trim() == "329" => {
                if let Some(t) = self.traveler.as_mut() {
                    t.dob_raw = Some((seg.number, seg.get(0, 1).trim().to_owned()));
                }
            }
            "NAT" => {
                let v = seg.get(1, 0).to_owned();
                if self.traveler.is_some() && !v.trim().is_empty() {
                    match values::country(&v) {
                        Ok(c) => {
                            if let Some(t) = self.traveler.as_mut() {
                                t.nationality = Some(c);
                            }
                        }
                        Err(e) => self.queue.push_back(bad(&seg, "NAT C042 (nationality)", e)),
                    }
                }
            }
            "DOC" => {
                let Some(t) = self.traveler.as_mut() else {
                    return;
                };
                let kind = seg.get(0, 0).trim().to_ascii_uppercase();
                let keep = !t.doc_seen && kind != "V";
                t.in_kept_doc = keep;
                if !keep {
                    return;
                }
                t.doc_seen = true;
                let n = seg.get(1, 0).to_owned();
                if n.trim().is_empty() {
                    return;
                }
                match DocumentNumber::parse(&n) {
                    Ok(d) => {
                        if let Some(t) = self.traveler.as_mut() {
                            t.doc = Some(d);
                        }
                    }
                    Err(e) => self
                        .queue
                        .push_back(bad(&seg, "DOC C503 1004 (document_number)", e)),
                }
            }
            "LOC" => {
                let Some(t) = self.traveler.as_ref() else {
                    return;
                };
                if q != "91" || !t.in_kept_doc {
                    return;
                }
                let v = seg.get(1, 0).to_owned();
                match values::country(&v) {
                    Ok(c) => {
                        if let Some(t) = self.traveler.as_mut() {
                            t.doc_country = Some(c);
                        }
                    }
                    Err(e) => self
                        .queue
                        .push_back(bad(&seg, "LOC+91 C517 (document_country)", e)),
                }
            }
            "RFF" => {
                let v = seg.get(0, 1).trim().to_owned();
                if v.is_empty() || v.len() > 20 || !v.is_ascii() {
                    return;
                }
                let Some(t) = self.traveler.as_mut() else {
                    return;
                };
                match q.as_str() {
                    "AVF" => t.booking = Some(v),
                    "SEA" => t.seat = Some(v),
                    _ => {}
                }
            }
            "CNT" => {
                self.close_traveler();
                if seg.get(0, 0).trim() == "42" {
                    let said = seg.get(0, 1).trim();
                    if said.parse::<u64>().ok() != Some(self.in_message) {
                        self.queue.push_back(Event::Problem(Problem {
                            line: seg.number,
                            unit: Unit::Segment,
                            field: "CNT+42".into(),
                            message: format!(
                                "says the message lists {said:?} travelers; {} were read",
                                self.in_message
                            ),
                            severity: Severity::Warning,
                        }));
                    }
                }
            }
            _ => {}
        }
    }
}

impl<R: BufRead + Send> Records for Reader<R> {
    fn kind(&self) -> Kind {
        Kind::Passengers
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
                self.close_traveler();
                let mut out = Vec::new();
                let end = self.env.finish(self.last, &mut out, "a PAXLST interchange");
                self.queue.extend(out);
                self.done = true;
                end?;
                continue;
            };
            self.last = seg.number;
            if seg.tag == "UNT" {
                self.close_traveler();
            }
            let mut out = Vec::new();
            let service = self.env.observe(&seg, &mut out);
            if seg.tag == "UNH" {
                self.close_traveler();
                self.flight = Flight::default();
                self.in_message = 0;
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
