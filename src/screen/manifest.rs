//! Manifest and passenger-list input: CSV (with a header row) and JSON Lines, read as a stream
//! of blocks so that a file larger than memory can be screened.
//!
//! The column names are the same in both formats and are listed in docs/SCREENING.md. The
//! kind of list is told by its columns: a header (CSV) or first object (JSON Lines) with
//! `family_name` is a passenger list, anything else a cargo manifest. An unknown column is
//! refused outright (a misspelt `container_number` would otherwise silently disable
//! container matching). Each bad line is reported with its line number, the field and the
//! rule it breaks.

use std::fmt;

use crate::model::{
    BirthDate, CargoRoute, ContainerNumber, CountryCode, Date, DocumentNumber, FlightOrVoyage,
    HsCode, ImoNumber, InvalidValue, PostalItemId, TrackingNumber, UnLocode, Weight,
};

/// Input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `csv` or `jsonl`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// Parses `csv` / `jsonl`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// Guesses from a file name: `.jsonl`/`.ndjson` is JSON Lines, anything else CSV.
    pub fn from_path(p: &std::path::Path) -> Self {
        match p.extension().and_then(|e| e.to_str()) {
            Some("jsonl") | Some("ndjson") | Some("json") => Self::Jsonl,
            _ => Self::Csv,
        }
    }
}

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

/// Columns of a cargo manifest.
pub const CARGO_COLUMNS: &[&str] = &[
    "reference",
    "route",
    "transport_document",
    "container_numbers",
    "postal_item_id",
    "tracking_number",
    "shipper_name",
    "shipper_address",
    "shipper_country",
    "consignee_name",
    "consignee_address",
    "consignee_country",
    "hs_code",
    "goods_description",
    "weight_kg",
    "loading_country",
    "loading_port",
    "discharge_port",
    "vessel_imo",
    "flight_or_voyage",
    "arrival_date",
];

/// Columns of a passenger list.
pub const PASSENGER_COLUMNS: &[&str] = &[
    "reference",
    "family_name",
    "given_names",
    "date_of_birth",
    "nationality",
    "document_number",
    "document_country",
    "flight_or_voyage",
    "departure_port",
    "arrival_port",
    "travel_date",
];

/// Longest line accepted (bytes). A longer one is a bad line, never a reason to buffer
/// without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number in the file.
    pub line: u64,
    /// Column (empty when the line as a whole is bad).
    pub field: String,
    /// The rule broken.
    pub message: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}: {}: {}", self.line, self.field, self.message)
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
    /// B/L or air waybill number, normalised (upper case, no spaces or dashes).
    pub transport_document: Option<String>,
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
    /// 1-based line number in the file.
    pub line: u64,
    /// The line's own reference (declaration, house B/L, booking, seat), or `line N`.
    pub reference: String,
    /// Content.
    pub subject: Subject,
}

/// The layout of a file, read from its header (CSV) or first object (JSON Lines).
#[derive(Clone, Debug)]
pub struct Schema {
    /// Format.
    pub format: Format,
    /// Kind of list.
    pub kind: Kind,
    /// For CSV: the column index in [`CARGO_COLUMNS`] / [`PASSENGER_COLUMNS`] of each field.
    columns: Vec<usize>,
}

fn columns_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Cargo => CARGO_COLUMNS,
        Kind::Passengers => PASSENGER_COLUMNS,
    }
}

fn bad(line: u64, field: &str, message: impl Into<String>) -> BadLine {
    BadLine {
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

impl Schema {
    /// Reads a CSV header line.
    ///
    /// # Errors
    /// Not UTF-8, an unknown or repeated column.
    pub fn from_csv_header(header: &[u8]) -> Result<Self, BadLine> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(header);
        let mut rec = csv::StringRecord::new();
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Err(bad(1, "", "the header row is empty")),
            Err(e) => return Err(bad(1, "", format!("the header row is not CSV: {e}"))),
        }
        let names: Vec<String> = rec.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        let kind = if names.iter().any(|n| n == "family_name") {
            Kind::Passengers
        } else {
            Kind::Cargo
        };
        let cols = columns_of(kind);
        let mut columns = Vec::with_capacity(names.len());
        for n in &names {
            let Some(i) = cols.iter().position(|c| c == n) else {
                return Err(bad(
                    1,
                    n,
                    format!(
                        "unknown column for a {} list; known columns: {}",
                        kind.as_str(),
                        cols.join(", ")
                    ),
                ));
            };
            if columns.contains(&i) {
                return Err(bad(1, n, "column given twice"));
            }
            columns.push(i);
        }
        Ok(Self {
            format: Format::Csv,
            kind,
            columns,
        })
    }

    /// Decides the kind of a JSON Lines file from its first object. (The first line is then
    /// read as a data line like any other, with every field checked.)
    ///
    /// # Errors
    /// The first line is not a JSON object.
    pub fn from_jsonl_first(line: &[u8]) -> Result<Self, BadLine> {
        let v = json_object(line).map_err(|e| bad(1, "", e))?;
        let kind = if v.iter().any(|(k, _)| k == "family_name") {
            Kind::Passengers
        } else {
            Kind::Cargo
        };
        Ok(Self {
            format: Format::Jsonl,
            kind,
            columns: vec![],
        })
    }

    /// Parses every line of a block of whole lines starting at line `first_line`, calling
    /// `each` with a line or the reason it is bad, in order.
    pub fn parse_block(
        &self,
        block: &[u8],
        first_line: u64,
        mut each: impl FnMut(Result<Line, BadLine>),
    ) {
        match self.format {
            Format::Csv => self.parse_csv(block, first_line, &mut each),
            Format::Jsonl => self.parse_jsonl(block, first_line, &mut each),
        }
    }

    fn parse_csv(
        &self,
        block: &[u8],
        first_line: u64,
        each: &mut impl FnMut(Result<Line, BadLine>),
    ) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(block);
        let mut rec = csv::ByteRecord::new();
        loop {
            let line = first_line + r.position().line().saturating_sub(1);
            match r.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    each(Err(bad(line, "", format!("not CSV: {e}"))));
                    // The reader resynchronises at the next record.
                    continue;
                }
            }
            let line = rec.position().map_or(line, |p| first_line + p.line() - 1);
            if rec.len() == 1 && rec.get(0).is_some_and(|f| f.is_empty()) {
                continue;
            }
            if rec.len() != self.columns.len() {
                each(Err(bad(
                    line,
                    "",
                    format!(
                        "has {} fields, the header has {}",
                        rec.len(),
                        self.columns.len()
                    ),
                )));
                continue;
            }
            let mut fields = [""; 24];
            let mut utf8_err = None;
            for (i, raw) in rec.iter().enumerate() {
                match std::str::from_utf8(raw) {
                    Ok(s) => fields[self.columns[i]] = s,
                    Err(_) => {
                        utf8_err = Some(columns_of(self.kind)[self.columns[i]]);
                        break;
                    }
                }
            }
            if let Some(col) = utf8_err {
                each(Err(bad(line, col, "is not valid UTF-8")));
                continue;
            }
            each(build(
                self.kind,
                &fields[..columns_of(self.kind).len()],
                line,
            ));
        }
    }

    fn parse_jsonl(
        &self,
        block: &[u8],
        first_line: u64,
        each: &mut impl FnMut(Result<Line, BadLine>),
    ) {
        let cols = columns_of(self.kind);
        for (i, raw) in block.split(|&b| b == b'\n').enumerate() {
            let line = first_line + i as u64;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let obj = match json_object(raw) {
                Ok(o) => o,
                Err(e) => {
                    each(Err(bad(line, "", e)));
                    continue;
                }
            };
            let mut owned: Vec<String> = vec![String::new(); cols.len()];
            let mut seen = 0u32;
            let mut err = None;
            for (k, v) in obj {
                let Some(ci) = cols.iter().position(|c| *c == k) else {
                    err = Some(bad(
                        line,
                        &k,
                        format!("unknown field for a {} list", self.kind.as_str()),
                    ));
                    break;
                };
                // A repeated key would leave one of its values unread (JSON parsers differ
                // on which one wins).
                if seen & (1 << ci) != 0 {
                    err = Some(bad(line, &k, "is given twice in the object"));
                    break;
                }
                seen |= 1 << ci;
                match json_field(&k, v) {
                    Ok(s) => owned[ci] = s,
                    Err(e) => {
                        err = Some(bad(line, &k, e));
                        break;
                    }
                }
            }
            if let Some(e) = err {
                each(Err(e));
                continue;
            }
            let fields: Vec<&str> = owned.iter().map(String::as_str).collect();
            each(build(self.kind, &fields, line));
        }
    }
}

/// The key-value pairs of one JSON object, in order, repeated keys included (a map type
/// would keep one value of a repeated key and silently drop the other).
fn json_object(raw: &[u8]) -> Result<Vec<(String, serde_json::Value)>, String> {
    struct Pairs(Vec<(String, serde_json::Value)>);
    impl<'de> serde::Deserialize<'de> for Pairs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Pairs;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Pairs, A::Error> {
                    let mut v = Vec::with_capacity(m.size_hint().unwrap_or(12));
                    while let Some(kv) = m.next_entry::<String, serde_json::Value>()? {
                        v.push(kv);
                    }
                    Ok(Pairs(v))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Pairs>(raw)
        .map(|p| p.0)
        .map_err(|e| format!("not a JSON object: {e}"))
}

/// The text of one JSON Lines field, refusing a value of the wrong JSON type instead of
/// coercing it: every column is a string (null = absent), except `weight_kg` (a number, or a
/// string holding one, as in CSV) and `container_numbers` (a string or an array of strings).
/// A number where a name or an identifier belongs is refused (it may have lost leading
/// zeros or digits on its way through a JSON number), as are booleans, objects and arrays.
fn json_field(key: &str, v: serde_json::Value) -> Result<String, String> {
    use serde_json::Value;
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    match (key, v) {
        (_, Value::Null) => Ok(String::new()),
        (_, Value::String(s)) => Ok(s),
        ("weight_kg", Value::Number(n)) => Ok(n.to_string()),
        ("weight_kg", v) => Err(format!(
            "must be a number (or a string holding one), got {}",
            kind(&v)
        )),
        ("container_numbers", Value::Array(a)) => {
            let mut parts = Vec::with_capacity(a.len());
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::String(s) => parts.push(s.as_str()),
                    x => {
                        return Err(format!(
                            "must be a string or an array of strings, got {} at [{i}]",
                            kind(x)
                        ))
                    }
                }
            }
            Ok(parts.join(" "))
        }
        ("container_numbers", v) => Err(format!(
            "must be a string or an array of strings, got {}",
            kind(&v)
        )),
        (_, v @ Value::Number(_)) => Err(format!(
            "must be a string, got a number ({v}); write it in quotes as it is printed"
        )),
        (_, v) => Err(format!("must be a string, got {}", kind(&v))),
    }
}

/// Builds a typed line from its fields, in column order.
fn build(kind: Kind, f: &[&str], line: u64) -> Result<Line, BadLine> {
    let cols = columns_of(kind);
    let get = |i: usize| f[i].trim();
    let reference = match get(0) {
        "" => format!("line {line}"),
        r => text(r, 64, cols[0], line)?,
    };
    let subject = match kind {
        Kind::Cargo => Subject::Cargo(Box::new(cargo(f, line)?)),
        Kind::Passengers => Subject::Passenger(Box::new(passenger(f, line)?)),
    };
    Ok(Line {
        line,
        reference,
        subject,
    })
}

/// An optional value parsed by `parse`; the error names the column.
fn opt<T>(
    v: &str,
    col: &str,
    line: u64,
    parse: fn(&str) -> Result<T, InvalidValue>,
) -> Result<Option<T>, BadLine> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    parse(v)
        .map(Some)
        .map_err(|e| bad(line, col, e.to_string()))
}

/// Free text: at most `max` characters; line breaks and tabs (legal inside quoted CSV fields)
/// become spaces; any other control character, and every format character (bidi controls,
/// zero-width characters, Unicode category Cf), is refused with the value shown escaped:
/// the rule of record text ([`crate::model::check_visible`]), so what is screened is what
/// an officer reads, and a hit on the line can be signed.
fn text(v: &str, max: usize, col: &str, line: u64) -> Result<String, BadLine> {
    let owned;
    let v = if v.contains(['\n', '\r', '\t']) {
        owned = v.replace(['\n', '\r', '\t'], " ");
        owned.trim()
    } else {
        v.trim()
    };
    if v.chars().count() > max {
        return Err(bad(line, col, format!("longer than {max} characters")));
    }
    if let Err(rule) = crate::model::check_visible(v) {
        return Err(bad(
            line,
            col,
            InvalidValue::new(v, "acceptable text", rule).to_string(),
        ));
    }
    Ok(v.to_owned())
}

fn opt_text(v: &str, max: usize, col: &str, line: u64) -> Result<Option<String>, BadLine> {
    let t = text(v, max, col, line)?;
    Ok((!t.is_empty()).then_some(t))
}

fn cargo(f: &[&str], line: u64) -> Result<CargoLine, BadLine> {
    let c = CARGO_COLUMNS;
    let mut containers = Vec::new();
    // Lists are separated by ';', ',' or '|'; within a part, spaces and dashes are how
    // officers write one number ("CSQU 305438-3"), and a run of 11-character numbers
    // separated by spaces ("CSQU3054383 MSKU9070323") is split after compacting.
    for part in f[3].split([';', ',', '|']) {
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
            if containers.len() == crate::model::MAX_CONTAINERS {
                return Err(bad(line, c[3], "more than 64 containers"));
            }
            containers
                .push(ContainerNumber::parse(piece).map_err(|e| bad(line, c[3], e.to_string()))?);
        }
    }
    let route = opt(f[1], c[1], line, CargoRoute::parse)?;
    let transport_document = match f[2].trim() {
        "" => None,
        d => {
            let n = crate::model::compact_upper(d);
            if n.len() > 35 || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad(
                    line,
                    c[2],
                    "must be at most 35 letters and digits (spaces and dashes are ignored)",
                ));
            }
            Some(n)
        }
    };
    let weight_grams = match f[14].trim() {
        "" => None,
        w => {
            let kg: f64 = w
                .parse()
                .map_err(|_| bad(line, c[14], format!("{w:?} is not a number of kilograms")))?;
            Some(
                Weight::try_from(kg)
                    .map_err(|e| bad(line, c[14], e.to_string()))?
                    .grams(),
            )
        }
    };
    let loading_country = opt(f[15], c[15], line, CountryCode::parse)?;
    let loading_port = opt(f[16], c[16], line, UnLocode::parse)?;
    if let (Some(cc), Some(p)) = (loading_country, &loading_port) {
        if p.country() != cc {
            return Err(bad(
                line,
                c[16],
                format!("{p} is not in loading_country {cc}"),
            ));
        }
    }
    Ok(CargoLine {
        route,
        transport_document,
        container_numbers: containers,
        postal_item_id: opt(f[4], c[4], line, PostalItemId::parse)?,
        tracking_number: opt(f[5], c[5], line, TrackingNumber::parse)?,
        shipper: LineParty {
            name: opt_text(f[6], 128, c[6], line)?,
            address: opt_text(f[7], 256, c[7], line)?,
            country: opt(f[8], c[8], line, CountryCode::parse)?,
        },
        consignee: LineParty {
            name: opt_text(f[9], 128, c[9], line)?,
            address: opt_text(f[10], 256, c[10], line)?,
            country: opt(f[11], c[11], line, CountryCode::parse)?,
        },
        hs_code: opt(f[12], c[12], line, HsCode::parse)?,
        goods_description: opt_text(f[13], 512, c[13], line)?,
        weight_grams,
        loading_country,
        loading_port,
        discharge_port: opt(f[17], c[17], line, UnLocode::parse)?,
        vessel_imo: opt(f[18], c[18], line, ImoNumber::parse)?,
        flight_or_voyage: opt(f[19], c[19], line, FlightOrVoyage::parse)?,
        arrival_date: opt(f[20], c[20], line, Date::parse)?,
    })
}

fn passenger(f: &[&str], line: u64) -> Result<PassengerLine, BadLine> {
    let c = PASSENGER_COLUMNS;
    let family_name = text(f[1], 128, c[1], line)?;
    if family_name.is_empty() {
        return Err(bad(line, c[1], "is required"));
    }
    let document_number = opt(f[5], c[5], line, DocumentNumber::parse)?;
    let document_country = opt(f[6], c[6], line, CountryCode::parse)?;
    if document_number.is_some() && document_country.is_none() {
        return Err(bad(
            line,
            c[6],
            "is required with document_number (a number is unique only within its issuing country)",
        ));
    }
    Ok(PassengerLine {
        family_name,
        given_names: opt_text(f[2], 128, c[2], line)?,
        date_of_birth: opt(f[3], c[3], line, BirthDate::parse)?,
        nationality: opt(f[4], c[4], line, CountryCode::parse)?,
        document_number,
        document_country,
        flight_or_voyage: opt(f[7], c[7], line, FlightOrVoyage::parse)?,
        departure_port: opt(f[8], c[8], line, UnLocode::parse)?,
        arrival_port: opt(f[9], c[9], line, UnLocode::parse)?,
        travel_date: opt(f[10], c[10], line, Date::parse)?,
    })
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Cuts a byte stream into blocks of whole lines, whatever the chunk boundaries, and reads
/// the header (CSV) or first object (JSON Lines) to learn the schema.
pub struct Splitter {
    format: Format,
    carry: Vec<u8>,
    /// Line number of the first byte of `carry`.
    line: u64,
    schema: Option<Schema>,
    at_start: bool,
    /// Inside a quoted CSV field at the end of `carry`'s scanned part.
    scanned: usize,
    in_quotes: bool,
    last_safe: Option<usize>,
}

/// A block of whole lines.
#[derive(Debug)]
pub struct Block {
    /// Line number of the block's first line.
    pub first_line: u64,
    /// The bytes, ending with a line break (or at end of input).
    pub bytes: Vec<u8>,
}

impl Splitter {
    /// A splitter for `format`.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            carry: Vec::new(),
            line: 1,
            schema: None,
            at_start: true,
            scanned: 0,
            in_quotes: false,
            last_safe: None,
        }
    }

    /// The schema, once the header or first object has been read.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// Adds input; returns a block of the whole lines completed (if any).
    ///
    /// # Errors
    /// A bad header (fatal: nothing can be read without it) or a line longer than
    /// [`MAX_LINE_BYTES`].
    pub fn push(&mut self, data: &[u8]) -> Result<Option<Block>, BadLine> {
        self.carry.extend_from_slice(data);
        if self.at_start {
            if self.carry.len() < BOM.len() && BOM.starts_with(&self.carry) {
                return Ok(None);
            }
            if self.carry.starts_with(BOM) {
                self.carry.drain(..BOM.len());
            }
            self.at_start = false;
        }
        self.scan();
        if self.schema.is_none() {
            self.take_header(false)?;
            if self.schema.is_none() {
                return Ok(None);
            }
        }
        let Some(end) = self.last_safe else {
            if self.carry.len() > MAX_LINE_BYTES {
                return Err(bad(
                    self.line,
                    "",
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            return Ok(None);
        };
        Ok(Some(self.cut(end + 1)))
    }

    /// Ends the input; returns the last block (a final line without a line break).
    ///
    /// # Errors
    /// The input had no header line.
    pub fn finish(&mut self) -> Result<Option<Block>, BadLine> {
        if self.at_start && BOM.starts_with(&self.carry) {
            self.carry.clear();
        }
        if self.schema.is_none() {
            self.take_header(true)?;
        }
        if self.schema.is_none() {
            return Err(bad(1, "", "the input is empty"));
        }
        if self.carry.is_empty() {
            return Ok(None);
        }
        let n = self.carry.len();
        Ok(Some(self.cut(n)))
    }

    /// Scans new bytes for line breaks outside quoted CSV fields.
    fn scan(&mut self) {
        let csv = self.format == Format::Csv;
        for i in self.scanned..self.carry.len() {
            match self.carry[i] {
                b'"' if csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.last_safe = Some(i),
                _ => {}
            }
        }
        self.scanned = self.carry.len();
    }

    fn cut(&mut self, n: usize) -> Block {
        let rest = self.carry.split_off(n);
        let bytes = std::mem::replace(&mut self.carry, rest);
        let first_line = self.line;
        self.line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        // Cuts are at line breaks outside quotes: rescan the rest from there.
        self.scanned = 0;
        self.in_quotes = false;
        self.last_safe = None;
        self.scan();
        Block { first_line, bytes }
    }

    fn take_header(&mut self, eof: bool) -> Result<(), BadLine> {
        // The first line (JSON Lines: first non-blank line).
        let end = match self.carry.iter().position(|&b| b == b'\n') {
            Some(e) => e,
            None if eof => self.carry.len(),
            None => {
                if self.carry.len() > MAX_LINE_BYTES {
                    return Err(bad(1, "", "first line is too long"));
                }
                return Ok(());
            }
        };
        if self.carry[..end].iter().all(u8::is_ascii_whitespace) && end < self.carry.len() {
            if self.format == Format::Jsonl {
                // Leading blank lines: skip them.
                self.cut(end + 1);
                return self.take_header(eof);
            }
            return Err(bad(1, "", "the header row is empty"));
        }
        let first = self.carry[..end]
            .strip_suffix(b"\r")
            .unwrap_or(&self.carry[..end]);
        match self.format {
            Format::Csv => {
                self.schema = Some(Schema::from_csv_header(first)?);
                // The header is not a data line.
                let n = (end + 1).min(self.carry.len());
                self.cut(n);
            }
            Format::Jsonl => {
                if first.iter().all(u8::is_ascii_whitespace) {
                    return Ok(());
                }
                self.schema = Some(Schema::from_jsonl_first(first).map_err(|mut e| {
                    e.line = self.line;
                    e
                })?);
            }
        }
        Ok(())
    }
}

/// The bytes of a UTF-8 CSV field quoted as RFC 4180 requires, for writers of manifests.
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(format: Format, input: &[u8], chunk: usize) -> (Vec<Line>, Vec<BadLine>) {
        let mut s = Splitter::new(format);
        let mut lines = vec![];
        let mut bad = vec![];
        let mut blocks = vec![];
        for c in input.chunks(chunk.max(1)) {
            if let Some(b) = s.push(c).unwrap() {
                blocks.push(b);
            }
        }
        if let Some(b) = s.finish().unwrap() {
            blocks.push(b);
        }
        let schema = s.schema().unwrap().clone();
        for b in blocks {
            schema.parse_block(&b.bytes, b.first_line, |r| match r {
                Ok(l) => lines.push(l),
                Err(e) => bad.push(e),
            });
        }
        (lines, bad)
    }

    const CSV: &str = "reference,route,container_numbers,consignee_name,consignee_address,weight_kg,arrival_date\n\
        D1,sea-container,CSQU3054383,\"Golden Star Trading Co., Ltd.\",\"12 Nguyen Trai, HCMC\",1200.5,2026-12-01\n\
        D2,sea-container,CSQU3054384,Someone,,10,2026-12-01\n\
        D3,express,,\"Multi\nline\",,2,\n\
        D4,postal,,X,,abc,\n";

    #[test]
    fn csv_lines_and_errors_any_chunking() {
        for chunk in [1, 2, 7, 64, 10_000] {
            let (lines, bad) = read_all(Format::Csv, CSV.as_bytes(), chunk);
            assert_eq!(lines.len(), 2, "chunk {chunk}");
            assert_eq!(lines[0].reference, "D1");
            assert_eq!(lines[0].line, 2);
            let Subject::Cargo(c) = &lines[0].subject else {
                panic!()
            };
            assert_eq!(c.weight_grams, Some(1_200_500));
            assert_eq!(
                c.consignee.name.as_deref(),
                Some("Golden Star Trading Co., Ltd.")
            );
            assert_eq!(lines[1].line, 4, "quoted line break spans lines 4-5");
            let msgs: Vec<String> = bad.iter().map(|b| b.to_string()).collect();
            assert_eq!(bad.len(), 2, "{msgs:?}");
            assert_eq!(bad[0].line, 3);
            assert_eq!(bad[0].field, "container_numbers");
            assert!(msgs[0].contains("check digit"), "{msgs:?}");
            assert_eq!(bad[1].line, 6);
            assert_eq!(bad[1].field, "weight_kg");
        }
    }

    #[test]
    fn unknown_column_is_fatal() {
        let mut s = Splitter::new(Format::Csv);
        let e = s.push(b"reference,container_number\nx,y\n").unwrap_err();
        assert_eq!(e.field, "container_number");
        assert!(e.message.contains("unknown column"));
    }

    #[test]
    fn jsonl_passengers() {
        let input = b"{\"reference\":\"P1\",\"family_name\":\"Nguy\xe1\xbb\x85n\",\"date_of_birth\":\"1990-01-02\",\"document_number\":\"C1234567\",\"document_country\":\"VN\"}\n\
            {\"family_name\":\"X\",\"seat\":\"1A\"}\n\
            \n\
            {\"family_name\":\"Y\",\"date_of_birth\":\"1990-02-30\"}\n";
        for chunk in [3, 1000] {
            let (lines, bad) = read_all(Format::Jsonl, input, chunk);
            assert_eq!(lines.len(), 1);
            assert!(
                matches!(&lines[0].subject, Subject::Passenger(p) if p.family_name == "Nguyễn")
            );
            assert_eq!(bad.len(), 2);
            assert_eq!((bad[0].line, bad[0].field.as_str()), (2, "seat"));
            assert_eq!((bad[1].line, bad[1].field.as_str()), (4, "date_of_birth"));
        }
    }

    #[test]
    fn jsonl_values_of_the_wrong_type_are_bad_lines() {
        let input = br#"{"reference":"R1","consignee_name":"Golden Star","weight_kg":12.5}
{"reference":"R2","consignee_name":12345}
{"reference":"R3","weight_kg":"7.5","container_numbers":["CSQU3054383","MSKU9070323"]}
{"reference":"R4","weight_kg":true}
{"reference":7}
{"reference":"R6","hs_code":847130}
{"reference":"R7","container_numbers":["CSQU3054383",5]}
{"reference":"R8","consignee_name":"Kim Trading","consignee_name":"Lee Trading"}
{"reference":"R9","shipper_name":["Kim"]}
{"reference":"R10","weight_kg":{"kg":1}}
{"reference":"R11","consignee_country":null,"route":"express"}
{"reference":"R12","route":false}
"#;
        for chunk in [5, 10_000] {
            let (lines, bad) = read_all(Format::Jsonl, input, chunk);
            let refs: Vec<&str> = lines.iter().map(|l| l.reference.as_str()).collect();
            assert_eq!(refs, ["R1", "R3", "R11"], "chunk {chunk}: {bad:?}");
            let Subject::Cargo(c) = &lines[0].subject else {
                panic!()
            };
            assert_eq!(c.weight_grams, Some(12_500));
            let Subject::Cargo(c) = &lines[1].subject else {
                panic!()
            };
            assert_eq!(c.weight_grams, Some(7_500));
            assert_eq!(c.container_numbers.len(), 2);
            let got: Vec<(u64, &str)> = bad.iter().map(|b| (b.line, b.field.as_str())).collect();
            assert_eq!(
                got,
                [
                    (2, "consignee_name"),
                    (4, "weight_kg"),
                    (5, "reference"),
                    (6, "hs_code"),
                    (7, "container_numbers"),
                    (8, "consignee_name"),
                    (9, "shipper_name"),
                    (10, "weight_kg"),
                    (12, "route"),
                ],
                "chunk {chunk}"
            );
            let msg = |i: usize| bad[i].to_string();
            assert_eq!(
                msg(0),
                "line 2: consignee_name: must be a string, got a number (12345); write it in quotes as it is printed"
            );
            assert!(msg(1).contains("must be a number"), "{}", msg(1));
            assert!(msg(4).contains("got a number at [1]"), "{}", msg(4));
            assert!(msg(5).contains("given twice"), "{}", msg(5));
            assert!(msg(6).contains("got an array"), "{}", msg(6));
            assert!(msg(8).contains("got a boolean"), "{}", msg(8));
        }
        // The first object decides the kind; its own fields are checked like any line's.
        let (lines, bad) = read_all(
            Format::Jsonl,
            b"{\"family_name\":5}\n{\"family_name\":\"Kim\",\"date_of_birth\":\"1990-01-02\"}\n",
            1000,
        );
        assert_eq!(lines.len(), 1);
        assert!(matches!(&lines[0].subject, Subject::Passenger(_)));
        assert_eq!((bad[0].line, bad[0].field.as_str()), (1, "family_name"));
        assert!(Schema::from_jsonl_first(b"[1,2]").is_err());
    }

    #[test]
    fn format_characters_in_text_are_bad_lines() {
        let csv = "reference,consignee_name,goods_description\n\
            D1,Golden Star,toys\n\
            D2,Golden\u{202e}ratS,toys\n\
            D3,Golden Star,to\u{200b}ys\n\
            D\u{2066}4,Golden Star,toys\n";
        let jsonl = "{\"reference\":\"D1\",\"consignee_name\":\"Golden Star\"}\n\
            {\"reference\":\"D2\",\"consignee_name\":\"Golden\\u202eratS\"}\n\
            {\"reference\":\"D3\",\"goods_description\":\"to\u{200b}ys\"}\n\
            {\"reference\":\"D\u{2066}4\"}\n";
        for (format, input) in [(Format::Csv, csv), (Format::Jsonl, jsonl)] {
            let (lines, bad) = read_all(format, input.as_bytes(), 7);
            assert_eq!(lines.len(), 1, "{format:?}: {bad:?}");
            let got: Vec<(u64, &str)> = bad.iter().map(|b| (b.line, b.field.as_str())).collect();
            let first = if format == Format::Csv { 3 } else { 2 };
            assert_eq!(
                got,
                [
                    (first, "consignee_name"),
                    (first + 1, "goods_description"),
                    (first + 2, "reference"),
                ],
                "{format:?}"
            );
            let m = bad[0].to_string();
            assert!(m.contains("\"Golden\\u{202e}ratS\""), "{m}");
            assert!(
                m.contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 7"),
                "{m}"
            );
            assert!(!m.contains('\u{202e}'), "{m}");
            assert!(bad[1].message.contains("U+200B"), "{:?}", bad[1]);
            assert!(bad[2].message.contains("U+2066"), "{:?}", bad[2]);
        }
    }

    #[test]
    fn bom_and_crlf() {
        let input = b"\xEF\xBB\xBFreference,postal_item_id\r\nP,RR473124829GB\r\n";
        let (lines, bad) = read_all(Format::Csv, input, 2);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(lines.len(), 1);
    }
}
