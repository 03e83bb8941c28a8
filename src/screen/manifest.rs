//! What screening reads: lines (a consignment or a traveler each) and the problems found
//! reading them, whatever the input format (`super::formats` has the readers).
//!
//! A problem names where it is (a line of a text file, or a segment of an EDIFACT
//! interchange), the field, the value and the rule. Most problems are a **bad field**: the
//! value is left out and the rest of the line, every identifier that checks included, is still
//! screened. A **bad line** could not be read at all (not CSV, not a JSON object, no family
//! name). A **warning** leaves nothing out (an unknown column, ignored).

use std::fmt;

use crate::model::{
    AirWaybill, BirthDate, CargoRoute, ContainerNumber, CountryCode, Date, DocumentNumber,
    FlightOrVoyage, HsCode, ImoNumber, PostalItemId, TrackingNumber, UnLocode,
};

/// What the list describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Consignments.
    Cargo,
    /// Travelers.
    Passengers,
}

impl Kind {
    /// `cargo` or `passengers`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Cargo => "cargo",
            Kind::Passengers => "passengers",
        }
    }
}

/// What a position counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Lines of a text file (CSV, JSON Lines, XML), 1-based, as an editor numbers them.
    #[default]
    Line,
    /// Segments of an EDIFACT interchange, 1-based, counted from its first segment (`UNA` or
    /// `UNB`).
    Segment,
}

impl Unit {
    /// `line` or `segment`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unit::Line => "line",
            Unit::Segment => "segment",
        }
    }
}

/// How much a problem leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Nothing left out (an unknown column, ignored; a count that does not add up).
    Warning,
    /// One value left out; the rest of the line was screened.
    BadField,
    /// The line could not be read and was not screened.
    BadLine,
}

impl Severity {
    /// `warning`, `bad_field` or `bad_line` (the `type` of the JSON event).
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::BadField => "bad_field",
            Severity::BadLine => "bad_line",
        }
    }
}

/// Something wrong in the input: where, which field, and the rule with the value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// 1-based position (see `unit`).
    pub line: u64,
    /// What `line` counts.
    pub unit: Unit,
    /// The field (a column, or an EDIFACT segment and element such as `DOC C503`; empty when
    /// the line as a whole is bad).
    pub field: String,
    /// The value and the rule broken.
    pub message: String,
    /// What was left out.
    pub severity: Severity,
}

/// The name kept for the problem type of earlier versions.
pub type BadLine = Problem;

impl Problem {
    /// A problem at line `line`.
    pub fn new(
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
        severity: Severity,
    ) -> Self {
        Self {
            line,
            unit: Unit::Line,
            field: field.into(),
            message: message.into(),
            severity,
        }
    }

    /// A bad line (nothing of it screened).
    pub fn bad_line(line: u64, message: impl Into<String>) -> Self {
        Self::new(line, "", message, Severity::BadLine)
    }

    /// The same problem counted in `unit`.
    #[must_use]
    pub fn in_unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{} {}: {}", self.unit.as_str(), self.line, self.message)
        } else {
            write!(
                f,
                "{} {}: {}: {}",
                self.unit.as_str(),
                self.line,
                self.field,
                self.message
            )
        }
    }
}

/// A party on a manifest line.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LineParty {
    /// Name as written.
    pub name: Option<String>,
    /// Address as written.
    pub address: Option<String>,
    /// Country.
    pub country: Option<CountryCode>,
}

/// One consignment of a cargo manifest.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CargoLine {
    /// Route.
    pub route: Option<CargoRoute>,
    /// B/L number (or another transport document), normalised (upper case, no spaces or
    /// dashes).
    pub transport_document: Option<String>,
    /// Master air waybill, check digit verified.
    pub air_waybill: Option<AirWaybill>,
    /// House bill of lading or house air waybill, normalised.
    pub house_waybill: Option<String>,
    /// Containers.
    pub container_numbers: Vec<ContainerNumber>,
    /// UPU S10 item id.
    pub postal_item_id: Option<PostalItemId>,
    /// Express tracking number.
    pub tracking_number: Option<TrackingNumber>,
    /// Shipper.
    pub shipper: LineParty,
    /// Consignee.
    pub consignee: LineParty,
    /// HS code.
    pub hs_code: Option<HsCode>,
    /// Goods description as written.
    pub goods_description: Option<String>,
    /// Declared gross weight in grams.
    pub weight_grams: Option<u64>,
    /// Country of loading.
    pub loading_country: Option<CountryCode>,
    /// Port of loading.
    pub loading_port: Option<UnLocode>,
    /// Port of discharge.
    pub discharge_port: Option<UnLocode>,
    /// Vessel IMO number.
    pub vessel_imo: Option<ImoNumber>,
    /// Flight or voyage.
    pub flight_or_voyage: Option<FlightOrVoyage>,
    /// Expected arrival.
    pub arrival_date: Option<Date>,
}

/// One traveler of a passenger list.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PassengerLine {
    /// Family name(s).
    pub family_name: String,
    /// Given name(s).
    pub given_names: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<BirthDate>,
    /// Nationality.
    pub nationality: Option<CountryCode>,
    /// Travel document number (normalised).
    pub document_number: Option<DocumentNumber>,
    /// Issuing country of the document.
    pub document_country: Option<CountryCode>,
    /// Flight or voyage.
    pub flight_or_voyage: Option<FlightOrVoyage>,
    /// Departure port.
    pub departure_port: Option<UnLocode>,
    /// Arrival port.
    pub arrival_port: Option<UnLocode>,
    /// Travel date.
    pub travel_date: Option<Date>,
    /// A member of the crew (PAXLST `NAD+FM`), not a passenger.
    pub crew: bool,
}

/// What a line describes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Subject {
    /// A consignment.
    Cargo(Box<CargoLine>),
    /// A traveler.
    Passenger(Box<PassengerLine>),
}

/// A parsed line.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// 1-based position in the input: the line, or for EDIFACT the segment where the
    /// consignment (`CNI`) or traveler (`NAD`) starts.
    pub line: u64,
    /// The line's own reference (declaration, house B/L, air waybill, traveler), or `line N`.
    pub reference: String,
    /// Content.
    pub subject: Subject,
}

/// Longest line accepted (bytes). A longer one is a bad line, never a reason to buffer
/// without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The bytes of a UTF-8 CSV field quoted as RFC 4180 requires, for writers of manifests.
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}
