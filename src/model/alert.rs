//! Alerts about travelers and cargo, their enums, and the two parsers into them: JSON (the
//! format officers and national systems write, see `examples/alerts/`) and protobuf.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    path, Address, AirWaybill, ContainerNumber, CountryCode, Date, Description, DocumentNumber,
    DocumentReference, FieldError, FlightOrVoyage, GivenNames, HsCode, ImoNumber, InvalidValue,
    Name, Note, PostalItemId, ShortText, Title, TrackingNumber, UnLocode, Validity,
};
use crate::pb;

/// Defines a domain enum with its JSON names and its mapping to the protobuf enum.
macro_rules! proto_enum {
    ($(#[$m:meta])* $name:ident => $pb:ident { $($(#[$vm:meta])* $var:ident = $pbvar:ident, $s:literal;)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var,)+
        }
        impl $name {
            /// Every value, in protobuf order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The JSON / CLI name.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$var => $s,)+ }
            }
            /// The protobuf enum number.
            pub fn to_pb(self) -> i32 {
                match self { $($name::$var => pb::$pb::$pbvar as i32,)+ }
            }
            /// From the protobuf number; 0 (unspecified) and unknown numbers are errors.
            ///
            /// # Errors
            /// The number is not a defined value.
            pub fn from_pb(v: i32, field: &str) -> Result<Self, FieldError> {
                match pb::$pb::try_from(v) {
                    $(Ok(pb::$pb::$pbvar) => Ok($name::$var),)+
                    _ => Err(FieldError::new(field, format!(
                        "is required: one of {}", Self::names()))),
                }
            }
            /// Parses the JSON / CLI name.
            ///
            /// # Errors
            /// Not one of the names.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                let t = s.trim().to_ascii_lowercase().replace('_', "-");
                Self::ALL.iter().copied().find(|v| v.as_str() == t).ok_or_else(|| {
                    InvalidValue::new(s, concat!("a ", stringify!($name)),
                        format!("must be one of {}", Self::names()))
                })
            }
            /// The names, comma-separated, for messages and help.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

proto_enum! {
    /// Drug or chemical concerned.
    Substance => Substance {
        Cocaine = Cocaine, "cocaine";
        Methamphetamine = Methamphetamine, "methamphetamine";
        Ketamine = Ketamine, "ketamine";
        /// Narcotic pharmaceuticals (opioid analgesics, benzodiazepines, ...).
        NarcoticPharmaceuticals = NarcoticPharmaceuticals, "narcotic-pharmaceuticals";
        /// Precursor chemicals (ephedrine, pseudoephedrine, P2P, ...).
        PrecursorChemicals = PrecursorChemicals, "precursor-chemicals";
        Other = Other, "other";
    }
}

proto_enum! {
    /// How strongly the issuing desk rates the risk.
    RiskLevel => RiskLevel {
        Low = Low, "low";
        Medium = Medium, "medium";
        High = High, "high";
        Critical = Critical, "critical";
    }
}

proto_enum! {
    /// Smuggling route of a consignment.
    CargoRoute => CargoRoute {
        /// Express (special) shipments by courier.
        Express = Express, "express";
        /// International mail.
        Postal = Postal, "postal";
        /// General import cargo by air.
        AirCargo = AirCargo, "air-cargo";
        /// General import cargo in sea containers.
        SeaContainer = SeaContainer, "sea-container";
        /// Concealment in the ship itself.
        Ship = Ship, "ship";
        /// Goods carried by airport or port entrants (crew, workers, visitors).
        PortEntrant = PortEntrant, "port-entrant";
    }
}

proto_enum! {
    /// Kind of travel document.
    DocumentType => DocumentType {
        Passport = Passport, "passport";
        IdCard = IdCard, "id-card";
        SeafarerId = SeafarerId, "seafarer-id";
        Other = Other, "other";
    }
}

proto_enum! {
    /// Kind of transport document.
    TransportDocumentType => TransportDocumentType {
        BillOfLading = BillOfLading, "bill-of-lading";
        HouseBillOfLading = HouseBillOfLading, "house-bill-of-lading";
        /// IATA air waybill: the number is checked (mod 7).
        AirWaybill = AirWaybill, "air-waybill";
        HouseAirWaybill = HouseAirWaybill, "house-air-waybill";
    }
}

proto_enum! {
    /// FIRST Traffic Light Protocol 2.0 label.
    Tlp => Tlp {
        Clear = Clear, "clear";
        Green = Green, "green";
        Amber = Amber, "amber";
        AmberStrict = AmberStrict, "amber+strict";
        Red = Red, "red";
    }
}

proto_enum! {
    /// What inspection found after a hit.
    OutcomeResult => OutcomeResult {
        Seized = Seized, "seized";
        NothingFound = NothingFound, "nothing-found";
        Released = Released, "released";
        FalsePositive = FalsePositive, "false-positive";
    }
}

/// At most this many free-text indicators per alert.
pub const MAX_INDICATORS: usize = 32;
/// At most this many container numbers per cargo alert.
pub const MAX_CONTAINERS: usize = 64;
/// Heaviest declared weight accepted: 1,000,000 kg.
pub const MAX_WEIGHT_GRAMS: u64 = 1_000_000_000;

/// A high-risk traveler or consignment alert.
///
/// Built by [`Alert::from_json`] or `Alert::try_from(pb::Alert)`; both run
/// [`Alert::check`], which enforces the rules that span fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Short human title.
    pub title: Title,
    /// Who or what the alert is about.
    pub subject: Subject,
    /// Substances concerned (at least one, no repeats).
    pub substances: Vec<Substance>,
    /// Risk rating.
    pub risk: RiskLevel,
    /// Free-text indicators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<Note>,
    /// When the alert applies.
    pub validity: Validity,
    /// Who may receive it.
    pub distribution: Distribution,
    /// How recipients may handle it.
    pub handling: Handling,
    /// The issuing desk's own case reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<ShortText>,
    /// Set when the alert was promoted from a local intelligence item: an opaque reference
    /// (`intel-N`) that only the issuing desk can resolve; never the item's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel_reference: Option<ShortText>,
}

/// The subject of an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A person travelling to Korea.
    Traveler(Traveler),
    /// A consignment or conveyance (boxed: much larger than a traveler).
    Cargo(Box<Cargo>),
    /// A pattern of high-risk consignments (route, origin, HS codes, words, weight, dates).
    Profile(Box<Profile>),
}

/// At most this many entries in each list of a profile.
pub const MAX_PROFILE_LIST: usize = 32;

/// A risk profile: matches every consignment that fits all the criteria it gives. Lists mean
/// "any of"; an absent criterion means "any". Besides routes, at least two criteria.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Routes the pattern applies to (at least one).
    pub routes: Vec<CargoRoute>,
    /// Country of loading or of the shipper.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_countries: Vec<CountryCode>,
    /// HS code prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hs_prefixes: Vec<HsCode>,
    /// Whole words of the goods description.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<Keyword>,
    /// Lightest declared weight that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_weight_kg: Option<Weight>,
    /// Heaviest declared weight that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_weight_kg: Option<Weight>,
    /// First expected arrival date that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_from: Option<Date>,
    /// Last expected arrival date that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_until: Option<Date>,
    /// Ports of discharge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discharge_ports: Vec<UnLocode>,
}

/// A description keyword: one word of 2-32 letters or digits, folded to lower-case ASCII
/// (`"Vitamin"`, `"VITAMİN"` → `vitamin`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Keyword(String);

impl Keyword {
    /// # Errors
    /// A control or format character (folding would drop it, but a partner's signed body
    /// keeps the keyword as written), or not exactly one word of 2-32 letters or digits
    /// after folding.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        super::check_visible(raw).map_err(|rule| InvalidValue::new(raw, "a keyword", rule))?;
        let t = crate::model::fold::tokens(raw);
        match t.as_slice() {
            [w] if (2..=32).contains(&w.len()) => Ok(Self(w.clone())),
            _ => Err(InvalidValue::new(
                raw,
                "a keyword",
                "must be one word of 2-32 letters or digits (give several keywords for a phrase)",
            )),
        }
    }
    /// The folded word.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Keyword {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<Keyword> for String {
    fn from(k: Keyword) -> String {
        k.0
    }
}

impl Profile {
    fn check(&self) -> Result<(), FieldError> {
        let f = "subject.profile";
        if self.routes.is_empty() {
            return Err(FieldError::new(
                path(f, "routes"),
                "name at least one route",
            ));
        }
        fn unique<T: Ord>(v: &[T], field: String) -> Result<(), FieldError> {
            if v.len() > MAX_PROFILE_LIST {
                return Err(FieldError::new(
                    field,
                    format!("at most {MAX_PROFILE_LIST} entries"),
                ));
            }
            if v.iter().collect::<BTreeSet<_>>().len() != v.len() {
                return Err(FieldError::new(field, "an entry is listed twice"));
            }
            Ok(())
        }
        unique(&self.routes, path(f, "routes"))?;
        unique(&self.origin_countries, path(f, "origin_countries"))?;
        unique(&self.hs_prefixes, path(f, "hs_prefixes"))?;
        unique(&self.keywords, path(f, "keywords"))?;
        unique(&self.discharge_ports, path(f, "discharge_ports"))?;
        if let (Some(lo), Some(hi)) = (self.min_weight_kg, self.max_weight_kg) {
            if lo > hi {
                return Err(FieldError::new(
                    path(f, "max_weight_kg"),
                    "is below min_weight_kg",
                ));
            }
        }
        if let (Some(from), Some(until)) = (self.arrival_from, self.arrival_until) {
            if until < from {
                return Err(FieldError::new(
                    path(f, "arrival_until"),
                    format!("{until} is before arrival_from {from}"),
                ));
            }
        }
        if self.criteria() < 2 {
            return Err(FieldError::new(
                f,
                "besides routes, give at least two of origin_countries, hs_prefixes, keywords,                  a weight range, an arrival window, discharge_ports, so that the profile does                  not flag a whole route",
            ));
        }
        Ok(())
    }

    /// Number of criteria besides routes.
    pub fn criteria(&self) -> usize {
        [
            !self.origin_countries.is_empty(),
            !self.hs_prefixes.is_empty(),
            !self.keywords.is_empty(),
            self.min_weight_kg.is_some() || self.max_weight_kg.is_some(),
            self.arrival_from.is_some() || self.arrival_until.is_some(),
            !self.discharge_ports.is_empty(),
        ]
        .into_iter()
        .filter(|b| *b)
        .count()
    }

    fn to_pb(&self) -> pb::Profile {
        pb::Profile {
            routes: self.routes.iter().map(|r| r.to_pb()).collect(),
            origin_countries: self
                .origin_countries
                .iter()
                .map(|c| c.to_string())
                .collect(),
            hs_prefixes: self.hs_prefixes.iter().map(|c| c.to_string()).collect(),
            keywords: self.keywords.iter().map(|c| c.to_string()).collect(),
            min_weight_grams: self.min_weight_kg.map_or(0, |w| w.grams()),
            max_weight_grams: self.max_weight_kg.map_or(0, |w| w.grams()),
            arrival_from: s(&self.arrival_from),
            arrival_until: s(&self.arrival_until),
            discharge_ports: self.discharge_ports.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// A high-risk traveler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traveler {
    /// Family name(s) as in the travel document.
    pub family_name: Name,
    /// Given name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<GivenNames>,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
    /// Nationality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<CountryCode>,
    /// Travel document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<TravelDocument>,
    /// Flight or voyage number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight_or_voyage: Option<FlightOrVoyage>,
    /// Port of departure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure_port: Option<UnLocode>,
    /// Port of arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_port: Option<UnLocode>,
    /// Date of travel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub travel_date: Option<Date>,
}

/// A travel document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TravelDocument {
    /// Passport, ID card, ...
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    /// Document number (ICAO 9303; check digit verified when given in MRZ form).
    pub number: DocumentNumber,
    /// Issuing country.
    pub issuing_country: CountryCode,
}

/// A consignment or conveyance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cargo {
    /// Smuggling route.
    pub route: CargoRoute,
    /// Bill of lading or air waybill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_document: Option<TransportDocument>,
    /// ISO 6346 container numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_numbers: Vec<ContainerNumber>,
    /// UPU S10 item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_item_id: Option<PostalItemId>,
    /// Express carrier tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub express_tracking_number: Option<TrackingNumber>,
    /// Shipper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipper: Option<Party>,
    /// Consignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<Party>,
    /// HS code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hs_code: Option<HsCode>,
    /// Description of the goods as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_description: Option<Description>,
    /// Declared gross weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<Weight>,
    /// Country of loading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loading_country: Option<CountryCode>,
    /// Port of loading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loading_port: Option<UnLocode>,
    /// Port of discharge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge_port: Option<UnLocode>,
    /// IMO number of the vessel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vessel_imo: Option<ImoNumber>,
    /// Name of the vessel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vessel_name: Option<ShortText>,
    /// Flight or voyage number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight_or_voyage: Option<FlightOrVoyage>,
    /// Expected arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_date: Option<Date>,
}

/// A shipper or consignee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Person or company name.
    pub name: Name,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
}

/// A transport document whose number is checked according to its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TransportDocumentInput", into = "TransportDocumentInput")]
pub struct TransportDocument {
    doc_type: TransportDocumentType,
    number: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransportDocumentInput {
    #[serde(rename = "type")]
    doc_type: TransportDocumentType,
    number: String,
}

impl TransportDocument {
    /// Checks the number by type: air waybills by the IATA mod-7 rule, the others by length
    /// and characters.
    ///
    /// # Errors
    /// The number breaks the rule of its type.
    pub fn new(doc_type: TransportDocumentType, number: &str) -> Result<Self, FieldError> {
        let number = match doc_type {
            TransportDocumentType::AirWaybill => AirWaybill::parse(number).map(String::from),
            _ => DocumentReference::parse(number).map(String::from),
        }
        .map_err(|e| e.at("number"))?;
        Ok(Self { doc_type, number })
    }
    /// Kind of document.
    pub fn doc_type(&self) -> TransportDocumentType {
        self.doc_type
    }
    /// Normalised number.
    pub fn number(&self) -> &str {
        &self.number
    }
}

impl TryFrom<TransportDocumentInput> for TransportDocument {
    type Error = FieldError;
    fn try_from(v: TransportDocumentInput) -> Result<Self, FieldError> {
        Self::new(v.doc_type, &v.number)
    }
}
impl From<TransportDocument> for TransportDocumentInput {
    fn from(v: TransportDocument) -> Self {
        Self {
            doc_type: v.doc_type,
            number: v.number,
        }
    }
}

/// A weight, held in grams; written in JSON as kilograms (`"weight_kg": 12.5`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Weight(u64);

impl Weight {
    /// # Errors
    /// Not a positive weight up to 1,000,000 kg.
    pub fn from_grams(g: u64) -> Result<Self, InvalidValue> {
        if g == 0 || g > MAX_WEIGHT_GRAMS {
            return Err(InvalidValue::new(
                &format!("{g} g"),
                "a weight",
                "must be more than 0 and at most 1,000,000 kg",
            ));
        }
        Ok(Self(g))
    }
    /// Grams.
    pub fn grams(&self) -> u64 {
        self.0
    }
}
impl TryFrom<f64> for Weight {
    type Error = InvalidValue;
    fn try_from(kg: f64) -> Result<Self, InvalidValue> {
        if !kg.is_finite() || kg <= 0.0 || kg > (MAX_WEIGHT_GRAMS / 1000) as f64 {
            return Err(InvalidValue::new(
                &kg.to_string(),
                "a weight in kg",
                "must be more than 0 and at most 1,000,000 kg",
            ));
        }
        // Bounded above, so the cast cannot overflow; rounds to the gram.
        Self::from_grams(((kg * 1000.0).round() as u64).max(1))
    }
}
impl From<Weight> for f64 {
    fn from(w: Weight) -> f64 {
        w.0 as f64 / 1000.0
    }
}

/// Who may receive a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DistributionInput", into = "DistributionInput")]
pub enum Distribution {
    /// Every registered partner.
    AllPartners,
    /// Only these countries (never empty).
    Countries(BTreeSet<CountryCode>),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistributionInput {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all_partners: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    countries: Vec<CountryCode>,
}

impl TryFrom<DistributionInput> for Distribution {
    type Error = FieldError;
    fn try_from(v: DistributionInput) -> Result<Self, FieldError> {
        Self::new(v.all_partners, v.countries)
    }
}
impl From<Distribution> for DistributionInput {
    fn from(d: Distribution) -> Self {
        match d {
            Distribution::AllPartners => Self {
                all_partners: true,
                countries: vec![],
            },
            Distribution::Countries(c) => Self {
                all_partners: false,
                countries: c.into_iter().collect(),
            },
        }
    }
}

impl Distribution {
    /// # Errors
    /// Both or neither of `all_partners` and `countries`, or a repeated country.
    pub fn new(all_partners: bool, countries: Vec<CountryCode>) -> Result<Self, FieldError> {
        match (all_partners, countries.is_empty()) {
            (true, true) => Ok(Self::AllPartners),
            (true, false) => Err(FieldError::new(
                "countries",
                "must be empty when all_partners is true",
            )),
            (false, true) => Err(FieldError::new(
                "countries",
                "name at least one country, or set all_partners to true",
            )),
            (false, false) => {
                let n = countries.len();
                let set: BTreeSet<_> = countries.into_iter().collect();
                if set.len() != n {
                    return Err(FieldError::new("countries", "a country is listed twice"));
                }
                Ok(Self::Countries(set))
            }
        }
    }

    /// Whether a record with this distribution may go to `country`.
    pub fn includes(&self, country: CountryCode) -> bool {
        match self {
            Self::AllPartners => true,
            Self::Countries(c) => c.contains(&country),
        }
    }

    /// Whether every recipient of `other` is also a recipient of `self`.
    pub fn covers(&self, other: &Distribution) -> bool {
        match (self, other) {
            (Self::AllPartners, _) => true,
            (Self::Countries(_), Self::AllPartners) => false,
            (Self::Countries(a), Self::Countries(b)) => b.is_subset(a),
        }
    }

    /// Short text for tables: `all` or `KR,TH`.
    pub fn summary(&self) -> String {
        match self {
            Self::AllPartners => "all".into(),
            Self::Countries(c) => c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
        }
    }

    /// Protobuf form.
    pub fn to_pb(&self) -> pb::Distribution {
        match self {
            Self::AllPartners => pb::Distribution {
                all_partners: true,
                countries: vec![],
            },
            Self::Countries(c) => pb::Distribution {
                all_partners: false,
                countries: c.iter().map(|c| c.as_str().to_owned()).collect(),
            },
        }
    }

    /// From protobuf; `field` is the path for messages.
    ///
    /// # Errors
    /// As [`Distribution::new`], or an invalid country code.
    pub fn from_pb(d: Option<&pb::Distribution>, field: &str) -> Result<Self, FieldError> {
        let d = d.ok_or_else(|| FieldError::new(field, "is required"))?;
        let countries = d
            .countries
            .iter()
            .enumerate()
            .map(|(i, c)| {
                CountryCode::parse(c).map_err(|e| e.at(format!("{field}.countries[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(d.all_partners, countries).map_err(|e| e.within(field))
    }
}

/// Handling instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    /// TLP 2.0 label.
    pub tlp: Tlp,
    /// Recipients must not relay the record to third countries.
    #[serde(default)]
    pub no_onward_sharing: bool,
}

/// The rules of a subject that span fields (shared by alerts and intelligence items).
///
/// # Errors
/// The first rule broken, with the field it concerns (`subject....`).
pub fn check_subject(subject: &Subject) -> Result<(), FieldError> {
    match subject {
        Subject::Traveler(t) => {
            if t.document.is_none() && t.date_of_birth.is_none() {
                return Err(FieldError::new(
                    "subject.traveler",
                    "give a travel document or a date of birth besides the name, \
                     so that screening does not flag every namesake",
                ));
            }
        }
        Subject::Cargo(c) => c.check()?,
        Subject::Profile(p) => p.check()?,
    }
    Ok(())
}

impl Alert {
    /// Parses an alert from JSON, naming the failing field by its path. The text must hold
    /// exactly one JSON document: anything but whitespace after it (a second alert, three
    /// alerts piped in at once) is refused, never silently dropped.
    ///
    /// # Errors
    /// Malformed JSON, content after the document, unknown or missing fields, invalid
    /// values, or broken cross-field rules.
    pub fn from_json(json: &str) -> Result<Self, FieldError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let alert: Alert = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            let inner = e.into_inner();
            let msg = strip_serde_position(&inner.to_string());
            // A FieldError raised inside a nested `try_from` arrives as "inner: message";
            // join its field to the path.
            let (field, msg) = match split_inner_field(&msg) {
                Some((inner, rest)) => (super::path(&field, inner), rest.to_owned()),
                None => (field, msg),
            };
            FieldError::new(
                if field.is_empty() {
                    "(document)".into()
                } else {
                    field
                },
                msg,
            )
        })?;
        de.end().map_err(|e| {
            FieldError::new(
                "(document)",
                format!("{e}: exactly one alert is read, with nothing after it"),
            )
        })?;
        alert.check()?;
        Ok(alert)
    }

    /// Rules that span fields. Run by both parsers and again before signing.
    ///
    /// # Errors
    /// The first rule broken, with the field it concerns.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.substances.is_empty() {
            return Err(FieldError::new("substances", "name at least one substance"));
        }
        let set: BTreeSet<_> = self.substances.iter().collect();
        if set.len() != self.substances.len() {
            return Err(FieldError::new("substances", "a substance is listed twice"));
        }
        if self.indicators.len() > MAX_INDICATORS {
            return Err(FieldError::new(
                "indicators",
                format!(
                    "at most {MAX_INDICATORS} indicators, got {}",
                    self.indicators.len()
                ),
            ));
        }
        check_subject(&self.subject)
    }

    /// The route of the alert for filters and reports: `traveler` or the cargo route.
    pub fn route_name(&self) -> &'static str {
        match &self.subject {
            Subject::Traveler(_) => "traveler",
            Subject::Cargo(c) => c.route.as_str(),
            Subject::Profile(p) => p.routes.first().map_or("profile", |r| r.as_str()),
        }
    }

    /// Protobuf form (what is signed).
    pub fn to_pb(&self) -> pb::Alert {
        pb::Alert {
            title: self.title.to_string(),
            subject: Some(match &self.subject {
                Subject::Traveler(t) => pb::alert::Subject::Traveler(t.to_pb()),
                Subject::Cargo(c) => pb::alert::Subject::Cargo(c.to_pb()),
                Subject::Profile(p) => pb::alert::Subject::Profile(p.to_pb()),
            }),
            substances: self.substances.iter().map(|s| s.to_pb()).collect(),
            risk: self.risk.to_pb(),
            indicators: self.indicators.iter().map(|i| i.to_string()).collect(),
            validity: Some(pb::Validity {
                valid_from: self.validity.valid_from().to_string(),
                valid_until: self.validity.valid_until().to_string(),
            }),
            distribution: Some(self.distribution.to_pb()),
            handling: Some(pb::Handling {
                tlp: self.handling.tlp.to_pb(),
                no_onward_sharing: self.handling.no_onward_sharing,
            }),
            case_reference: s(&self.case_reference),
            intel_reference: s(&self.intel_reference),
        }
    }
}

impl Cargo {
    fn check(&self) -> Result<(), FieldError> {
        let f = "subject.cargo";
        if self.container_numbers.len() > MAX_CONTAINERS {
            return Err(FieldError::new(
                path(f, "container_numbers"),
                format!("at most {MAX_CONTAINERS} containers"),
            ));
        }
        let identified = self.transport_document.is_some()
            || !self.container_numbers.is_empty()
            || self.postal_item_id.is_some()
            || self.express_tracking_number.is_some()
            || self.shipper.is_some()
            || self.consignee.is_some()
            || self.vessel_imo.is_some();
        if !identified {
            return Err(FieldError::new(
                f,
                "give at least one of transport_document, container_numbers, postal_item_id, \
                 express_tracking_number, shipper, consignee, vessel_imo",
            ));
        }
        if let (Some(c), Some(p)) = (&self.loading_country, &self.loading_port) {
            if p.country() != *c {
                return Err(FieldError::new(
                    path(f, "loading_port"),
                    format!("{p} is not in loading_country {c}"),
                ));
            }
        }
        Ok(())
    }

    fn to_pb(&self) -> pb::Cargo {
        pb::Cargo {
            route: self.route.to_pb(),
            transport_document: self
                .transport_document
                .as_ref()
                .map(|d| pb::TransportDocument {
                    r#type: d.doc_type.to_pb(),
                    number: d.number.clone(),
                }),
            container_numbers: self
                .container_numbers
                .iter()
                .map(|c| c.to_string())
                .collect(),
            postal_item_id: s(&self.postal_item_id),
            express_tracking_number: s(&self.express_tracking_number),
            shipper: self.shipper.as_ref().map(Party::to_pb),
            consignee: self.consignee.as_ref().map(Party::to_pb),
            hs_code: s(&self.hs_code),
            goods_description: s(&self.goods_description),
            weight_grams: self.weight_kg.map_or(0, |w| w.grams()),
            loading_country: s(&self.loading_country),
            loading_port: s(&self.loading_port),
            discharge_port: s(&self.discharge_port),
            vessel_imo: s(&self.vessel_imo),
            vessel_name: s(&self.vessel_name),
            flight_or_voyage: s(&self.flight_or_voyage),
            arrival_date: s(&self.arrival_date),
        }
    }
}

impl Traveler {
    fn to_pb(&self) -> pb::Traveler {
        pb::Traveler {
            family_name: self.family_name.to_string(),
            given_names: s(&self.given_names),
            date_of_birth: s(&self.date_of_birth),
            nationality: s(&self.nationality),
            document: self.document.as_ref().map(|d| pb::TravelDocument {
                r#type: d.doc_type.to_pb(),
                number: d.number.to_string(),
                issuing_country: d.issuing_country.to_string(),
            }),
            flight_or_voyage: s(&self.flight_or_voyage),
            departure_port: s(&self.departure_port),
            arrival_port: s(&self.arrival_port),
            travel_date: s(&self.travel_date),
        }
    }
}

impl Party {
    fn to_pb(&self) -> pb::Party {
        pb::Party {
            name: self.name.to_string(),
            address: s(&self.address),
            country: s(&self.country),
        }
    }
}

fn s<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// Splits "field.path: message" where the prefix is a field path (serde's own messages, such
/// as "unknown field `x`" or "invalid type: ...", never start with one).
pub(crate) fn split_inner_field(msg: &str) -> Option<(&str, &str)> {
    let (head, rest) = msg.split_once(": ")?;
    let is_path = !head.is_empty()
        && head.starts_with(|c: char| c.is_ascii_lowercase())
        && head
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c));
    is_path.then_some((head, rest))
}

/// serde_json appends " at line L column C"; the path already says where.
pub(crate) fn strip_serde_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Protobuf -> domain

/// A required string field.
fn req<T>(
    v: &str,
    field: String,
    parse: fn(&str) -> Result<T, InvalidValue>,
) -> Result<T, FieldError> {
    if v.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    parse(v).map_err(|e| e.at(field))
}

/// An optional string field: empty means absent.
fn opt<T>(
    v: &str,
    field: String,
    parse: fn(&str) -> Result<T, InvalidValue>,
) -> Result<Option<T>, FieldError> {
    if v.is_empty() {
        return Ok(None);
    }
    parse(v).map(Some).map_err(|e| e.at(field))
}

impl TryFrom<&pb::Alert> for Alert {
    type Error = FieldError;

    fn try_from(a: &pb::Alert) -> Result<Self, FieldError> {
        let subject = match &a.subject {
            Some(pb::alert::Subject::Traveler(t)) => Subject::Traveler(traveler_from_pb(t)?),
            Some(pb::alert::Subject::Cargo(c)) => Subject::Cargo(Box::new(cargo_from_pb(c)?)),
            Some(pb::alert::Subject::Profile(p)) => Subject::Profile(Box::new(profile_from_pb(p)?)),
            None => {
                return Err(FieldError::new(
                    "subject",
                    "is required: traveler, cargo or profile",
                ))
            }
        };
        let validity = a
            .validity
            .as_ref()
            .ok_or_else(|| FieldError::new("validity", "is required"))?;
        let validity = Validity::new(
            req(
                &validity.valid_from,
                "validity.valid_from".into(),
                Date::parse,
            )?,
            req(
                &validity.valid_until,
                "validity.valid_until".into(),
                Date::parse,
            )?,
        )
        .map_err(|e| e.within("validity"))?;
        let handling = a
            .handling
            .as_ref()
            .ok_or_else(|| FieldError::new("handling", "is required"))?;
        let alert = Alert {
            title: req(&a.title, "title".into(), Title::parse)?,
            subject,
            substances: a
                .substances
                .iter()
                .enumerate()
                .map(|(i, &v)| Substance::from_pb(v, &format!("substances[{i}]")))
                .collect::<Result<_, _>>()?,
            risk: RiskLevel::from_pb(a.risk, "risk")?,
            indicators: a
                .indicators
                .iter()
                .enumerate()
                .map(|(i, v)| Note::parse(v).map_err(|e| e.at(format!("indicators[{i}]"))))
                .collect::<Result<_, _>>()?,
            validity,
            distribution: Distribution::from_pb(a.distribution.as_ref(), "distribution")?,
            handling: Handling {
                tlp: Tlp::from_pb(handling.tlp, "handling.tlp")?,
                no_onward_sharing: handling.no_onward_sharing,
            },
            case_reference: opt(&a.case_reference, "case_reference".into(), ShortText::parse)?,
            intel_reference: opt(
                &a.intel_reference,
                "intel_reference".into(),
                ShortText::parse,
            )?,
        };
        alert.check()?;
        Ok(alert)
    }
}

fn traveler_from_pb(t: &pb::Traveler) -> Result<Traveler, FieldError> {
    let f = |n: &str| format!("subject.traveler.{n}");
    Ok(Traveler {
        family_name: req(&t.family_name, f("family_name"), Name::parse)?,
        given_names: opt(&t.given_names, f("given_names"), GivenNames::parse)?,
        date_of_birth: opt(&t.date_of_birth, f("date_of_birth"), Date::parse)?,
        nationality: opt(&t.nationality, f("nationality"), CountryCode::parse)?,
        document: match &t.document {
            None => None,
            Some(d) => Some(TravelDocument {
                doc_type: DocumentType::from_pb(d.r#type, &f("document.type"))?,
                number: req(&d.number, f("document.number"), DocumentNumber::parse)?,
                issuing_country: req(
                    &d.issuing_country,
                    f("document.issuing_country"),
                    CountryCode::parse,
                )?,
            }),
        },
        flight_or_voyage: opt(
            &t.flight_or_voyage,
            f("flight_or_voyage"),
            FlightOrVoyage::parse,
        )?,
        departure_port: opt(&t.departure_port, f("departure_port"), UnLocode::parse)?,
        arrival_port: opt(&t.arrival_port, f("arrival_port"), UnLocode::parse)?,
        travel_date: opt(&t.travel_date, f("travel_date"), Date::parse)?,
    })
}

fn party_from_pb(p: Option<&pb::Party>, field: &str) -> Result<Option<Party>, FieldError> {
    let Some(p) = p else { return Ok(None) };
    Ok(Some(Party {
        name: req(&p.name, path(field, "name"), Name::parse)?,
        address: opt(&p.address, path(field, "address"), Address::parse)?,
        country: opt(&p.country, path(field, "country"), CountryCode::parse)?,
    }))
}

fn profile_from_pb(p: &pb::Profile) -> Result<Profile, FieldError> {
    let f = |n: &str| format!("subject.profile.{n}");
    fn list<T>(
        v: &[String],
        field: &str,
        parse: fn(&str) -> Result<T, InvalidValue>,
    ) -> Result<Vec<T>, FieldError> {
        v.iter()
            .enumerate()
            .map(|(i, x)| parse(x).map_err(|e| e.at(format!("{field}[{i}]"))))
            .collect()
    }
    let weight = |g: u64, n: &str| match g {
        0 => Ok(None),
        g => Weight::from_grams(g).map(Some).map_err(|e| e.at(f(n))),
    };
    Ok(Profile {
        routes: p
            .routes
            .iter()
            .enumerate()
            .map(|(i, &r)| CargoRoute::from_pb(r, &f(&format!("routes[{i}]"))))
            .collect::<Result<_, _>>()?,
        origin_countries: list(
            &p.origin_countries,
            &f("origin_countries"),
            CountryCode::parse,
        )?,
        hs_prefixes: list(&p.hs_prefixes, &f("hs_prefixes"), HsCode::parse)?,
        keywords: list(&p.keywords, &f("keywords"), Keyword::parse)?,
        min_weight_kg: weight(p.min_weight_grams, "min_weight_grams")?,
        max_weight_kg: weight(p.max_weight_grams, "max_weight_grams")?,
        arrival_from: opt(&p.arrival_from, f("arrival_from"), Date::parse)?,
        arrival_until: opt(&p.arrival_until, f("arrival_until"), Date::parse)?,
        discharge_ports: list(&p.discharge_ports, &f("discharge_ports"), UnLocode::parse)?,
    })
}

fn cargo_from_pb(c: &pb::Cargo) -> Result<Cargo, FieldError> {
    let f = |n: &str| format!("subject.cargo.{n}");
    Ok(Cargo {
        route: CargoRoute::from_pb(c.route, &f("route"))?,
        transport_document: match &c.transport_document {
            None => None,
            Some(d) => Some(
                TransportDocument::new(
                    TransportDocumentType::from_pb(d.r#type, &f("transport_document.type"))?,
                    &d.number,
                )
                .map_err(|e| e.within(&f("transport_document")))?,
            ),
        },
        container_numbers: c
            .container_numbers
            .iter()
            .enumerate()
            .map(|(i, v)| {
                ContainerNumber::parse(v).map_err(|e| e.at(f(&format!("container_numbers[{i}]"))))
            })
            .collect::<Result<_, _>>()?,
        postal_item_id: opt(&c.postal_item_id, f("postal_item_id"), PostalItemId::parse)?,
        express_tracking_number: opt(
            &c.express_tracking_number,
            f("express_tracking_number"),
            TrackingNumber::parse,
        )?,
        shipper: party_from_pb(c.shipper.as_ref(), &f("shipper"))?,
        consignee: party_from_pb(c.consignee.as_ref(), &f("consignee"))?,
        hs_code: opt(&c.hs_code, f("hs_code"), HsCode::parse)?,
        goods_description: opt(
            &c.goods_description,
            f("goods_description"),
            Description::parse,
        )?,
        weight_kg: match c.weight_grams {
            0 => None,
            g => Some(Weight::from_grams(g).map_err(|e| e.at(f("weight_grams")))?),
        },
        loading_country: opt(&c.loading_country, f("loading_country"), CountryCode::parse)?,
        loading_port: opt(&c.loading_port, f("loading_port"), UnLocode::parse)?,
        discharge_port: opt(&c.discharge_port, f("discharge_port"), UnLocode::parse)?,
        vessel_imo: opt(&c.vessel_imo, f("vessel_imo"), ImoNumber::parse)?,
        vessel_name: opt(&c.vessel_name, f("vessel_name"), ShortText::parse)?,
        flight_or_voyage: opt(
            &c.flight_or_voyage,
            f("flight_or_voyage"),
            FlightOrVoyage::parse,
        )?,
        arrival_date: opt(&c.arrival_date, f("arrival_date"), Date::parse)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO: &str = r#"{
      "title": "Cocaine in reefer containers, Guayaquil to Busan",
      "subject": {"cargo": {
        "route": "sea-container",
        "transport_document": {"type": "bill-of-lading", "number": "MEDU 1234 5678"},
        "container_numbers": ["CSQU 305438-3", "MSKU9070323"],
        "consignee": {"name": "Hanbit Fresh Trading", "country": "KR"},
        "hs_code": "0803.90", "weight_kg": 21500.5,
        "loading_country": "EC", "loading_port": "ECGYE", "discharge_port": "KRPUS",
        "vessel_imo": "IMO 9074729"
      }},
      "substances": ["cocaine"], "risk": "critical",
      "validity": {"valid_from": "2026-11-01", "valid_until": "2027-01-31"},
      "distribution": {"all_partners": true},
      "handling": {"tlp": "amber", "no_onward_sharing": false}
    }"#;

    #[test]
    fn json_parses_and_normalises() {
        let a = Alert::from_json(CARGO).unwrap();
        let Subject::Cargo(c) = &a.subject else {
            panic!()
        };
        assert_eq!(c.container_numbers[0].as_str(), "CSQU3054383");
        assert_eq!(
            c.transport_document.as_ref().unwrap().number(),
            "MEDU12345678"
        );
        assert_eq!(c.weight_kg.unwrap().grams(), 21_500_500);
        assert_eq!(a.route_name(), "sea-container");
    }

    #[test]
    fn json_errors_name_the_field_and_rule() {
        let bad = CARGO.replace("MSKU9070323", "MSKU9070324");
        let e = Alert::from_json(&bad).unwrap_err();
        assert_eq!(e.field, "subject.cargo.container_numbers[1]");
        assert!(e.message.contains("check digit is 4, computed 3"), "{e}");

        let bad = CARGO.replace("\"risk\": \"critical\"", "\"risk\": \"severe\"");
        let e = Alert::from_json(&bad).unwrap_err();
        assert_eq!(e.field, "risk");
        assert!(e.message.contains("severe"), "{e}");

        let bad = CARGO.replace("\"hs_code\"", "\"hs_kode\"");
        let e = Alert::from_json(&bad).unwrap_err();
        assert!(e.message.contains("hs_kode"), "{e}");

        let bad = CARGO.replace("\"ECGYE\"", "\"PECLL\"");
        let e = Alert::from_json(&bad).unwrap_err();
        assert_eq!(e.field, "subject.cargo.loading_port");

        let bad = CARGO.replace("2027-01-31", "2026-10-31");
        let e = Alert::from_json(&bad).unwrap_err();
        assert!(e.field.starts_with("validity"), "{e}");
    }

    #[test]
    fn pb_round_trip_is_identity() {
        let a = Alert::from_json(CARGO).unwrap();
        let back = Alert::try_from(&a.to_pb()).unwrap();
        assert_eq!(a, back);
    }

    #[test]
    fn pb_errors_name_the_field() {
        let a = Alert::from_json(CARGO).unwrap();
        let mut p = a.to_pb();
        if let Some(pb::alert::Subject::Cargo(c)) = &mut p.subject {
            c.vessel_imo = "9074728".into();
        }
        let e = Alert::try_from(&p).unwrap_err();
        assert_eq!(e.field, "subject.cargo.vessel_imo");
        let mut p = a.to_pb();
        p.risk = 99;
        assert_eq!(Alert::try_from(&p).unwrap_err().field, "risk");
    }

    #[test]
    fn json_with_anything_after_the_alert_is_refused() {
        // Whitespace after the document is fine.
        Alert::from_json(&format!("\n{CARGO}\n\n  \n")).unwrap();
        for (what, tail) in [
            ("three alerts piped in", format!("\n{CARGO}\n{CARGO}")),
            ("a second alert on the same line", CARGO.to_owned()),
            ("a stray character", "x".to_owned()),
            ("a comma", ",".to_owned()),
            ("a closing brace", "}".to_owned()),
        ] {
            let e = Alert::from_json(&format!("{CARGO}{tail}")).unwrap_err();
            assert_eq!(e.field, "(document)", "{what}: {e}");
            assert!(e.message.contains("trailing characters"), "{what}: {e}");
            assert!(
                e.message.contains("exactly one alert is read"),
                "{what}: {e}"
            );
        }
    }

    /// Every free-text field of an alert, through both parsers (officers' JSON and the
    /// protobuf partners and national systems send), refuses bidi controls and zero-width
    /// characters, naming the field, the value escaped, and the character.
    #[test]
    fn format_characters_are_refused_in_every_text_field() {
        let traveler = include_str!("../../examples/alerts/traveler-air-ketamine.json");
        let profile = include_str!("../../examples/alerts/profile-express-kratom.json");
        // (base document, JSON pointer, field path in errors)
        let cases: &[(&str, &str, &str)] = &[
            (CARGO, "/title", "title"),
            (CARGO, "/case_reference", "case_reference"),
            (traveler, "/indicators/1", "indicators[1]"),
            (
                CARGO,
                "/subject/cargo/consignee/name",
                "subject.cargo.consignee.name",
            ),
            (
                CARGO,
                "/subject/cargo/consignee/address",
                "subject.cargo.consignee.address",
            ),
            (
                CARGO,
                "/subject/cargo/goods_description",
                "subject.cargo.goods_description",
            ),
            (
                CARGO,
                "/subject/cargo/vessel_name",
                "subject.cargo.vessel_name",
            ),
            (
                traveler,
                "/subject/traveler/family_name",
                "subject.traveler.family_name",
            ),
            (
                traveler,
                "/subject/traveler/given_names",
                "subject.traveler.given_names",
            ),
            (
                profile,
                "/subject/profile/keywords/0",
                "subject.profile.keywords[0]",
            ),
        ];
        for c in [
            '\u{202e}',
            '\u{2066}',
            '\u{200f}',
            '\u{200b}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            let code = format!("U+{:04X}", c as u32);
            let escaped = format!("\\u{{{:x}}}", c as u32);
            for &(base, ptr, field) in cases {
                let mut v: serde_json::Value = serde_json::from_str(base).unwrap();
                let (parent, key) = ptr.rsplit_once('/').unwrap();
                let value = format!("kratom{c}evil");
                match v.pointer_mut(parent).unwrap() {
                    serde_json::Value::Object(o) => {
                        o.insert(key.to_owned(), value.into());
                    }
                    serde_json::Value::Array(a) => a[key.parse::<usize>().unwrap()] = value.into(),
                    _ => unreachable!(),
                }
                let e = Alert::from_json(&v.to_string()).unwrap_err();
                assert_eq!(e.field, field, "JSON {ptr} {code}: {e}");
                assert!(e.message.contains(&code), "JSON {ptr}: {e}");
                assert!(e.message.contains(&escaped), "JSON {ptr}: {e}");
                assert!(
                    !e.to_string().contains(c),
                    "JSON {ptr}: raw character in {e}"
                );
            }
            // The protobuf path (Admin API, partners' records).
            let put = |a: &mut pb::Alert, field: &str| {
                let bad = format!("kratom{c}evil");
                match (field, &mut a.subject) {
                    ("title", _) => a.title = bad,
                    ("case_reference", _) => a.case_reference = bad,
                    ("indicators[1]", _) => a.indicators[1] = bad,
                    (f, Some(pb::alert::Subject::Cargo(g))) => {
                        let party = g.consignee.as_mut().unwrap();
                        match f {
                            "subject.cargo.consignee.name" => party.name = bad,
                            "subject.cargo.consignee.address" => party.address = bad,
                            "subject.cargo.goods_description" => g.goods_description = bad,
                            "subject.cargo.vessel_name" => g.vessel_name = bad,
                            _ => unreachable!("{f}"),
                        }
                    }
                    ("subject.traveler.family_name", Some(pb::alert::Subject::Traveler(t))) => {
                        t.family_name = bad
                    }
                    ("subject.traveler.given_names", Some(pb::alert::Subject::Traveler(t))) => {
                        t.given_names = bad
                    }
                    ("subject.profile.keywords[0]", Some(pb::alert::Subject::Profile(p))) => {
                        p.keywords[0] = bad
                    }
                    (f, _) => unreachable!("{f}"),
                }
            };
            for &(base, _, field) in cases {
                let mut a = Alert::from_json(base).unwrap().to_pb();
                put(&mut a, field);
                let e = Alert::try_from(&a).unwrap_err();
                assert_eq!(e.field, field, "protobuf {code}: {e}");
                assert!(e.message.contains(&code), "protobuf {field}: {e}");
                assert!(e.message.contains(&escaped), "protobuf {field}: {e}");
            }
        }
    }

    #[test]
    fn distribution_rules() {
        let kr = CountryCode::parse("KR").unwrap();
        let th = CountryCode::parse("TH").unwrap();
        assert!(Distribution::new(false, vec![]).is_err());
        assert!(Distribution::new(true, vec![kr]).is_err());
        assert!(Distribution::new(false, vec![kr, kr]).is_err());
        let d = Distribution::new(false, vec![th, kr]).unwrap();
        assert!(d.includes(kr) && !d.includes(CountryCode::parse("NL").unwrap()));
        assert_eq!(d.summary(), "KR,TH");
        assert!(Distribution::AllPartners.covers(&d));
        assert!(!d.covers(&Distribution::AllPartners));
    }
}
