//! kdesk's fields, by name, and the builders that turn a record of field values (from kdesk's
//! own CSV and JSON Lines, or from a carrier's CSV through a mapping) into a screened line,
//! reporting each bad value and leaving it out.

use std::borrow::Cow;

use super::values::{self, ValueRules};
use crate::model::{
    CargoRoute, ContainerNumber, CountryCode, Date, DocumentNumber, FlightOrVoyage, HsCode,
    ImoNumber, InvalidValue, PostalItemId, TrackingNumber, UnLocode,
};
use crate::screen::manifest::{
    CargoLine, Kind, Line, LineParty, PassengerLine, Problem, Severity, Subject,
};

macro_rules! fields {
    ($($(#[$doc:meta])* $v:ident = $name:literal),+ $(,)?) => {
        /// A kdesk field (a column of kdesk's own CSV, a key of its JSON Lines).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($(#[$doc])* $v),+ }

        impl Field {
            /// Every field.
            pub const ALL: &'static [Field] = &[$(Field::$v),+];

            /// The field's name, as a column or key.
            pub fn name(&self) -> &'static str {
                match self { $(Field::$v => $name),+ }
            }
        }
    };
}

fields! {
    /// The line's own reference (declaration, house B/L, seat...).
    Reference = "reference",
    /// Route.
    Route = "route",
    /// B/L number (or an air waybill on an air-cargo line).
    TransportDocument = "transport_document",
    /// Master air waybill.
    AirWaybill = "air_waybill",
    /// House B/L or house air waybill.
    HouseWaybill = "house_waybill",
    /// Containers.
    ContainerNumbers = "container_numbers",
    /// UPU S10 item id.
    PostalItemId = "postal_item_id",
    /// Express tracking number.
    TrackingNumber = "tracking_number",
    /// Shipper name.
    ShipperName = "shipper_name",
    /// Shipper address.
    ShipperAddress = "shipper_address",
    /// Shipper country.
    ShipperCountry = "shipper_country",
    /// Consignee name.
    ConsigneeName = "consignee_name",
    /// Consignee address.
    ConsigneeAddress = "consignee_address",
    /// Consignee country.
    ConsigneeCountry = "consignee_country",
    /// HS code.
    HsCode = "hs_code",
    /// Goods description.
    GoodsDescription = "goods_description",
    /// Gross weight (kilograms unless a unit is written).
    WeightKg = "weight_kg",
    /// Country of loading.
    LoadingCountry = "loading_country",
    /// Port of loading.
    LoadingPort = "loading_port",
    /// Port of discharge.
    DischargePort = "discharge_port",
    /// Vessel IMO number.
    VesselImo = "vessel_imo",
    /// Flight or voyage.
    FlightOrVoyage = "flight_or_voyage",
    /// Expected arrival.
    ArrivalDate = "arrival_date",
    /// Family name(s).
    FamilyName = "family_name",
    /// Given name(s).
    GivenNames = "given_names",
    /// Date of birth (may be partial).
    DateOfBirth = "date_of_birth",
    /// Nationality.
    Nationality = "nationality",
    /// Travel document number.
    DocumentNumber = "document_number",
    /// Issuing country of the document.
    DocumentCountry = "document_country",
    /// Departure port.
    DeparturePort = "departure_port",
    /// Arrival port.
    ArrivalPort = "arrival_port",
    /// Travel date.
    TravelDate = "travel_date",
}

/// Fields of a cargo manifest.
pub const CARGO_FIELDS: &[Field] = &[
    Field::Reference,
    Field::Route,
    Field::TransportDocument,
    Field::AirWaybill,
    Field::HouseWaybill,
    Field::ContainerNumbers,
    Field::PostalItemId,
    Field::TrackingNumber,
    Field::ShipperName,
    Field::ShipperAddress,
    Field::ShipperCountry,
    Field::ConsigneeName,
    Field::ConsigneeAddress,
    Field::ConsigneeCountry,
    Field::HsCode,
    Field::GoodsDescription,
    Field::WeightKg,
    Field::LoadingCountry,
    Field::LoadingPort,
    Field::DischargePort,
    Field::VesselImo,
    Field::FlightOrVoyage,
    Field::ArrivalDate,
];

/// Fields of a passenger list.
pub const PASSENGER_FIELDS: &[Field] = &[
    Field::Reference,
    Field::FamilyName,
    Field::GivenNames,
    Field::DateOfBirth,
    Field::Nationality,
    Field::DocumentNumber,
    Field::DocumentCountry,
    Field::FlightOrVoyage,
    Field::DeparturePort,
    Field::ArrivalPort,
    Field::TravelDate,
];

/// Identifier fields of a cargo manifest: a manifest with none of them matches by names and
/// profiles only, which is worth a warning.
pub const CARGO_IDENTIFIERS: &[Field] = &[
    Field::TransportDocument,
    Field::AirWaybill,
    Field::HouseWaybill,
    Field::ContainerNumbers,
    Field::PostalItemId,
    Field::TrackingNumber,
    Field::VesselImo,
];

impl Field {
    /// The fields of a kind of list.
    pub fn of(kind: Kind) -> &'static [Field] {
        match kind {
            Kind::Cargo => CARGO_FIELDS,
            Kind::Passengers => PASSENGER_FIELDS,
        }
    }

    /// The field of `kind` named `name` (case-insensitive; `weight` is `weight_kg`).
    pub fn parse(kind: Kind, name: &str) -> Option<Field> {
        let n = name.trim().to_ascii_lowercase();
        let n = match n.as_str() {
            "weight" => "weight_kg",
            other => other,
        };
        Self::of(kind).iter().copied().find(|f| f.name() == n)
    }
}

/// Number of fields.
const FIELDS: usize = 32;
const _: () = assert!(Field::ALL.len() == FIELDS);

/// The values of one line, by field.
#[derive(Debug)]
pub struct Record<'a> {
    values: [Cow<'a, str>; FIELDS],
}

impl Default for Record<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Record<'a> {
    /// An empty record.
    pub fn new() -> Self {
        Self {
            values: std::array::from_fn(|_| Cow::Borrowed("")),
        }
    }

    /// Sets a field (a repeated field keeps the last value).
    pub fn set(&mut self, f: Field, v: impl Into<Cow<'a, str>>) {
        // The discriminant is the field's place in `Field::ALL`, below FIELDS (asserted).
        self.values[f as usize] = v.into();
    }

    /// A field's value, trimmed; empty when absent.
    pub fn get(&self, f: Field) -> &str {
        self.values[f as usize].trim()
    }

    /// Whether a field has a value.
    pub fn has(&self, f: Field) -> bool {
        !self.get(f).is_empty()
    }
}

/// Collects the problems of one line, naming each field with `label`.
pub struct Checker<'l> {
    /// Position of the line.
    pub line: u64,
    /// Names a field as the file names it (kdesk's column name, or a carrier's column).
    pub label: &'l dyn Fn(Field) -> String,
    /// Problems found, in field order.
    pub problems: Vec<Problem>,
}

impl Checker<'_> {
    /// Records a bad field.
    pub fn bad(&mut self, f: Field, message: impl Into<String>) {
        self.problems.push(Problem::new(
            self.line,
            (self.label)(f),
            message,
            Severity::BadField,
        ));
    }

    /// The value of a field parsed by `parse`, or `None` (absent, or bad and reported).
    pub fn opt<T>(
        &mut self,
        rec: &Record<'_>,
        f: Field,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        let v = rec.get(f);
        if v.is_empty() {
            return None;
        }
        match parse(v) {
            Ok(x) => Some(x),
            Err(e) => {
                self.bad(f, e.to_string());
                None
            }
        }
    }

    /// Free text of at most `max` characters, or `None`.
    pub fn text(&mut self, rec: &Record<'_>, f: Field, max: usize) -> Option<String> {
        self.opt(rec, f, |v| values::text(v, max))
            .filter(|t| !t.is_empty())
    }
}

/// Container numbers as officers write them: a list separated by `;`, `,`, `|`; within a part,
/// spaces and dashes are how one number is written (`CSQU 305438-3`), and a run of
/// 11-character numbers separated by spaces (`CSQU3054383 MSKU9070323`) is split after
/// compacting. Each bad number is reported and left out; the good ones are kept.
pub fn containers(raw: &str, mut bad: impl FnMut(String)) -> Vec<ContainerNumber> {
    let mut out = Vec::new();
    for part in raw.split([';', ',', '|']) {
        let compact = crate::model::compact_upper(part);
        if compact.is_empty() {
            continue;
        }
        let pieces: Vec<&str> = if compact.is_ascii() && compact.len() % 11 == 0 {
            (0..compact.len() / 11)
                .map(|i| &compact[i * 11..i * 11 + 11])
                .collect()
        } else {
            vec![compact.as_str()]
        };
        for piece in pieces {
            if out.len() == crate::model::MAX_CONTAINERS {
                bad(format!(
                    "more than {} containers: the rest are left out",
                    crate::model::MAX_CONTAINERS
                ));
                return out;
            }
            match ContainerNumber::parse(piece) {
                Ok(c) => out.push(c),
                Err(e) => bad(e.to_string()),
            }
        }
    }
    out
}

/// The reference of a line, or `line N`.
fn reference(rec: &Record<'_>, ck: &mut Checker<'_>) -> String {
    ck.text(rec, Field::Reference, 64)
        .unwrap_or_else(|| format!("line {}", ck.line))
}

/// Builds a cargo line; every bad value is reported in `ck` and left out.
pub fn cargo(rec: &Record<'_>, rules: &ValueRules, ck: &mut Checker<'_>) -> Line {
    let reference = reference(rec, ck);
    let route = ck.opt(rec, Field::Route, |v| values::route(v, rules));
    let mut c = CargoLine {
        route,
        ..Default::default()
    };
    // A transport document of an air-cargo line that is written as an air waybill (11 digits)
    // is one, and its check digit is verified.
    let doc = rec.get(Field::TransportDocument);
    if !doc.is_empty() {
        if route == Some(CargoRoute::AirCargo) && values::looks_like_air_waybill(doc) {
            c.air_waybill = ck.opt(rec, Field::TransportDocument, values::air_waybill);
        } else {
            c.transport_document =
                ck.opt(rec, Field::TransportDocument, values::document_reference);
        }
    }
    if let Some(a) = ck.opt(rec, Field::AirWaybill, values::air_waybill) {
        c.air_waybill = Some(a);
    }
    c.house_waybill = ck.opt(rec, Field::HouseWaybill, values::document_reference);
    let raw = rec.get(Field::ContainerNumbers);
    let mut errs = Vec::new();
    c.container_numbers = containers(raw, |e| errs.push(e));
    for e in errs {
        ck.bad(Field::ContainerNumbers, e);
    }
    c.postal_item_id = ck.opt(rec, Field::PostalItemId, PostalItemId::parse);
    c.tracking_number = ck.opt(rec, Field::TrackingNumber, TrackingNumber::parse);
    c.shipper = LineParty {
        name: ck.text(rec, Field::ShipperName, 128),
        address: ck.text(rec, Field::ShipperAddress, 256),
        country: ck.opt(rec, Field::ShipperCountry, values::country),
    };
    c.consignee = LineParty {
        name: ck.text(rec, Field::ConsigneeName, 128),
        address: ck.text(rec, Field::ConsigneeAddress, 256),
        country: ck.opt(rec, Field::ConsigneeCountry, values::country),
    };
    c.hs_code = ck.opt(rec, Field::HsCode, HsCode::parse);
    c.goods_description = ck.text(rec, Field::GoodsDescription, 512);
    c.weight_grams = ck.opt(rec, Field::WeightKg, |v| values::weight_grams(v, rules));
    c.loading_country = ck.opt(rec, Field::LoadingCountry, values::country);
    c.loading_port = ck.opt(rec, Field::LoadingPort, UnLocode::parse);
    port_in_country(
        &mut c.loading_port,
        c.loading_country,
        Field::LoadingPort,
        ck,
    );
    c.discharge_port = ck.opt(rec, Field::DischargePort, UnLocode::parse);
    c.vessel_imo = ck.opt(rec, Field::VesselImo, ImoNumber::parse);
    c.flight_or_voyage = ck.opt(rec, Field::FlightOrVoyage, FlightOrVoyage::parse);
    c.arrival_date = ck.opt(rec, Field::ArrivalDate, |v| values::date(v, rules));
    Line {
        line: ck.line,
        reference,
        subject: Subject::Cargo(Box::new(c)),
    }
}

/// A port of loading outside the country of loading is reported and left out (one of the two
/// is wrong, and the country is the one profiles use).
pub fn port_in_country(
    port: &mut Option<UnLocode>,
    country: Option<CountryCode>,
    f: Field,
    ck: &mut Checker<'_>,
) {
    if let (Some(cc), Some(p)) = (country, port.as_ref()) {
        if p.country() != cc {
            ck.bad(f, format!("{p} is not in loading_country {cc}"));
            *port = None;
        }
    }
}

/// Builds a passenger line; every bad value is reported in `ck` and left out. `None` when
/// the family name is missing or bad (the line is then bad as a whole; reported in `ck`).
pub fn passenger(rec: &Record<'_>, rules: &ValueRules, ck: &mut Checker<'_>) -> Option<Line> {
    let reference = reference(rec, ck);
    let family_name = ck.text(rec, Field::FamilyName, 128);
    let Some(family_name) = family_name else {
        if !rec.has(Field::FamilyName) {
            let label = (ck.label)(Field::FamilyName);
            ck.problems.push(Problem::new(
                ck.line,
                label,
                "is required: a traveler is screened by name",
                Severity::BadLine,
            ));
        } else if let Some(p) = ck.problems.last_mut() {
            p.severity = Severity::BadLine;
        }
        return None;
    };
    let travel_date = ck.opt(rec, Field::TravelDate, |v| values::date(v, rules));
    let reference_day = travel_date.unwrap_or_else(Date::today_utc);
    let mut p = PassengerLine {
        family_name,
        given_names: ck.text(rec, Field::GivenNames, 128),
        date_of_birth: ck.opt(rec, Field::DateOfBirth, |v| {
            values::birth_date(v, rules, reference_day)
        }),
        nationality: ck.opt(rec, Field::Nationality, values::country),
        document_number: ck.opt(rec, Field::DocumentNumber, DocumentNumber::parse),
        document_country: ck.opt(rec, Field::DocumentCountry, values::country),
        flight_or_voyage: ck.opt(rec, Field::FlightOrVoyage, FlightOrVoyage::parse),
        departure_port: ck.opt(rec, Field::DeparturePort, UnLocode::parse),
        arrival_port: ck.opt(rec, Field::ArrivalPort, UnLocode::parse),
        travel_date,
        crew: false,
    };
    if p.document_number.is_some()
        && p.document_country.is_none()
        && !rec.has(Field::DocumentCountry)
    {
        ck.bad(
            Field::DocumentCountry,
            "is required with document_number (a number is unique only within its issuing \
             country), so the document number is not screened",
        );
        p.document_number = None;
    }
    Some(Line {
        line: ck.line,
        reference,
        subject: Subject::Passenger(Box::new(p)),
    })
}
