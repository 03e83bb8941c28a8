//! kdesk's own formats: CSV with a header row (RFC 4180 quoting) and JSON Lines, columns and
//! keys named as in [`Field`]. Lines are cut into blocks by [`Splitter`] and parsed by the
//! screening threads.
//!
//! An unknown column or key is reported once as a warning and ignored (a misspelt
//! `container_number` must not silently switch container matching off, so it is named); a
//! list without any identifier column, or with a document number but no issuing country, is
//! told so at its header.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use super::fields::{self, Checker, Field, Record, CARGO_IDENTIFIERS};
use super::values::ValueRules;
use super::{Event, LineParser};
use crate::screen::manifest::{Kind, Problem, Severity, MAX_LINE_BYTES};

/// The layout of a kdesk CSV file, read from its header row.
#[derive(Debug)]
pub struct CsvSchema {
    kind: Kind,
    /// The field of each column; `None` for a column ignored.
    columns: Vec<Option<Field>>,
    rules: ValueRules,
}

/// The warnings a header gives rise to: unknown columns (by name), and identifier columns a
/// list of its kind needs but lacks.
fn header_warnings(kind: Kind, known: &[Field], unknown: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    let all: Vec<&str> = Field::of(kind).iter().map(Field::name).collect();
    for u in unknown {
        out.push(Problem::new(
            1,
            u.as_str(),
            format!(
                "unknown column for a {} list, ignored (a misspelt name switches its matching \
                 off); known columns: {}",
                kind.as_str(),
                all.join(", ")
            ),
            Severity::Warning,
        ));
    }
    match kind {
        Kind::Cargo => {
            if !CARGO_IDENTIFIERS.iter().any(|f| known.contains(f)) {
                let ids: Vec<&str> = CARGO_IDENTIFIERS.iter().map(Field::name).collect();
                out.push(Problem::new(
                    1,
                    "",
                    format!(
                        "no identifier column ({}): lines match by names and profiles only",
                        ids.join(", ")
                    ),
                    Severity::Warning,
                ));
            }
        }
        Kind::Passengers => {
            if known.contains(&Field::DocumentNumber) && !known.contains(&Field::DocumentCountry) {
                out.push(Problem::new(
                    1,
                    "document_country",
                    "column missing: document numbers are screened only with their issuing \
                     country, so none will be",
                    Severity::Warning,
                ));
            }
        }
    }
    out
}

impl CsvSchema {
    /// Reads a CSV header line: the kind (a `family_name` column makes a passenger list) and
    /// the field of each column; returns the warnings to report (unknown columns, missing
    /// identifier columns).
    ///
    /// # Errors
    /// Not CSV, a column given twice, or no kdesk column at all.
    pub fn from_header(header: &[u8]) -> Result<(Self, Vec<Problem>), Problem> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(header);
        let mut rec = csv::StringRecord::new();
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Err(Problem::bad_line(1, "the header row is empty")),
            Err(e) => {
                return Err(Problem::bad_line(
                    1,
                    format!("the header row is not CSV: {e}"),
                ))
            }
        }
        let names: Vec<String> = rec.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        let kind = if names.iter().any(|n| n == "family_name") {
            Kind::Passengers
        } else {
            Kind::Cargo
        };
        let mut columns = Vec::with_capacity(names.len());
        let mut unknown = Vec::new();
        for n in &names {
            match Field::parse(kind, n) {
                Some(f) if columns.contains(&Some(f)) => {
                    return Err(Problem::new(
                        1,
                        n.as_str(),
                        "column given twice",
                        Severity::BadLine,
                    ))
                }
                Some(f) => columns.push(Some(f)),
                None => {
                    columns.push(None);
                    if !n.is_empty() {
                        unknown.push(n.clone());
                    }
                }
            }
        }
        let known: Vec<Field> = columns.iter().flatten().copied().collect();
        if known.is_empty() {
            // Not a kdesk list at all (a carrier's own headers, or not a list): screening it
            // would report "0 lines" and look like success.
            let shown: String = names.join(",").chars().take(120).collect();
            return Err(Problem::bad_line(
                1,
                format!(
                    "no column of the header is a kdesk column (header: {shown:?}); a carrier's \
                     own CSV needs --mapping FILE (docs/SCREENING.md), other formats are \
                     detected by content"
                ),
            ));
        }
        let warnings = header_warnings(kind, &known, &unknown);
        Ok((
            Self {
                kind,
                columns,
                rules: ValueRules::kdesk(),
            },
            warnings,
        ))
    }

    /// Kind of list.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// Reads CSV records from a block of whole lines, numbering each record by the line it
/// starts on (counted from the bytes, so CRLF and quoted line breaks count right), and hands
/// each to `each` as byte fields.
pub fn csv_records(
    block: &[u8],
    first_line: u64,
    delimiter: u8,
    mut each: impl FnMut(u64, Result<&csv::ByteRecord, String>),
) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(block);
    let mut rec = csv::ByteRecord::new();
    // Line counting: newlines before byte `counted_to` are `counted`.
    let (mut counted_to, mut counted) = (0usize, 0u64);
    let mut line_at = |byte: usize| -> u64 {
        // A record's recorded start may sit on the line break that ended the previous one
        // (CRLF: the reader stops at CR and takes LF with the next record).
        let mut b = byte.min(block.len());
        while b < block.len() && matches!(block[b], b'\r' | b'\n') {
            b += 1;
        }
        if b >= counted_to {
            counted += block[counted_to..b].iter().filter(|&&c| c == b'\n').count() as u64;
            counted_to = b;
        }
        first_line + counted
    };
    loop {
        let start = r.position().byte() as usize;
        match r.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = line_at(start);
                each(line, Err(format!("not CSV: {e}")));
                // The reader resynchronises at the next record.
                continue;
            }
        }
        let line = line_at(rec.position().map_or(start, |p| p.byte() as usize));
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        each(line, Ok(&rec));
    }
}

impl LineParser for CsvSchema {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn parse_block(&self, block: &[u8], first_line: u64, each: &mut dyn FnMut(Event)) {
        let label = |f: Field| f.name().to_owned();
        csv_records(block, first_line, b',', |line, rec| {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => return each(Event::Problem(Problem::bad_line(line, e))),
            };
            if rec.len() != self.columns.len() {
                return each(Event::Problem(Problem::bad_line(
                    line,
                    format!(
                        "has {} fields, the header has {}",
                        rec.len(),
                        self.columns.len()
                    ),
                )));
            }
            let mut values = Record::new();
            let mut ck = Checker {
                line,
                label: &label,
                problems: Vec::new(),
            };
            for (col, raw) in self.columns.iter().zip(rec.iter()) {
                let Some(f) = col else { continue };
                match std::str::from_utf8(raw) {
                    Ok(s) => values.set(*f, s),
                    Err(_) => ck.bad(*f, "is not valid UTF-8"),
                }
            }
            emit(self.kind, &values, &self.rules, ck, each);
        });
    }
}

/// Builds the line of `kind` and hands its problems, then the line, to `each`.
pub fn emit(
    kind: Kind,
    values: &Record<'_>,
    rules: &ValueRules,
    mut ck: Checker<'_>,
    each: &mut dyn FnMut(Event),
) {
    let line = match kind {
        Kind::Cargo => Some(fields::cargo(values, rules, &mut ck)),
        Kind::Passengers => fields::passenger(values, rules, &mut ck),
    };
    for p in ck.problems {
        each(Event::Problem(p));
    }
    if let Some(l) = line {
        each(Event::Line(l));
    }
}

/// A JSON Lines file: the kind comes from its first object (a `family_name` key makes a
/// passenger list); unknown keys are reported once each, as warnings.
#[derive(Debug)]
pub struct JsonlSchema {
    kind: Kind,
    rules: ValueRules,
    warned: Mutex<HashSet<String>>,
}

impl JsonlSchema {
    /// Decides the kind from the first object. (The first line is then read as a data line
    /// like any other.)
    ///
    /// # Errors
    /// The first line is not a JSON object.
    pub fn from_first(line: &[u8], line_no: u64) -> Result<Self, Problem> {
        let v = json_object(line).map_err(|e| Problem::bad_line(line_no, e))?;
        let kind = if v.iter().any(|(k, _)| k == "family_name") {
            Kind::Passengers
        } else {
            Kind::Cargo
        };
        Ok(Self {
            kind,
            rules: ValueRules::kdesk(),
            warned: Mutex::new(HashSet::new()),
        })
    }

    fn first_time(&self, key: &str) -> bool {
        match self.warned.lock() {
            Ok(mut w) if w.len() < 1000 => w.insert(key.to_owned()),
            _ => false,
        }
    }
}

impl LineParser for JsonlSchema {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn parse_block(&self, block: &[u8], first_line: u64, each: &mut dyn FnMut(Event)) {
        let label = |f: Field| f.name().to_owned();
        for (i, raw) in block.split(|&b| b == b'\n').enumerate() {
            let line = first_line + i as u64;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let obj = match json_object(raw) {
                Ok(o) => o,
                Err(e) => {
                    each(Event::Problem(Problem::bad_line(line, e)));
                    continue;
                }
            };
            let mut values = Record::new();
            let mut ck = Checker {
                line,
                label: &label,
                problems: Vec::new(),
            };
            let mut seen: Vec<Field> = Vec::with_capacity(obj.len());
            for (k, v) in obj {
                let Some(f) = Field::parse(self.kind, &k) else {
                    if self.first_time(&k) {
                        let all: Vec<&str> = Field::of(self.kind).iter().map(Field::name).collect();
                        each(Event::Problem(Problem::new(
                            line,
                            k.as_str(),
                            format!(
                                "unknown field for a {} list, ignored wherever it appears; \
                                 known fields: {}",
                                self.kind.as_str(),
                                all.join(", ")
                            ),
                            Severity::Warning,
                        )));
                    }
                    continue;
                };
                // A repeated key would leave one of its values unread (JSON parsers differ
                // on which one wins): neither is used.
                if seen.contains(&f) {
                    ck.bad(f, "is given twice in the object: both values are left out");
                    values.set(f, "");
                    continue;
                }
                seen.push(f);
                match json_field(f, v) {
                    Ok(s) => values.set(f, s),
                    Err(e) => ck.bad(f, e),
                }
            }
            emit(self.kind, &values, &self.rules, ck, each);
        }
    }
}

/// The key-value pairs of one JSON object, in order, repeated keys included (a map type
/// would keep one value of a repeated key and silently drop the other).
pub fn json_object(raw: &[u8]) -> Result<Vec<(String, serde_json::Value)>, String> {
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
                    let mut v = Vec::with_capacity(m.size_hint().unwrap_or(12).min(64));
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
/// coercing it: every field is a string (null = absent), except `weight_kg` (a number, or a
/// string holding one, as in CSV) and `container_numbers` (a string or an array of strings).
/// A number where a name or an identifier belongs is refused (it may have lost leading
/// zeros or digits on its way through a JSON number), as are booleans, objects and arrays.
fn json_field(f: Field, v: serde_json::Value) -> Result<String, String> {
    use serde_json::Value;
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    match (f, v) {
        (_, Value::Null) => Ok(String::new()),
        (_, Value::String(s)) => Ok(s),
        (Field::WeightKg, Value::Number(n)) => Ok(n.to_string()),
        (Field::WeightKg, v) => Err(format!(
            "must be a number (or a string holding one), got {}",
            kind(&v)
        )),
        (Field::ContainerNumbers, Value::Array(a)) => {
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
            Ok(parts.join(";"))
        }
        (Field::ContainerNumbers, v) => Err(format!(
            "must be a string or an array of strings, got {}",
            kind(&v)
        )),
        (_, v @ Value::Number(_)) => Err(format!(
            "must be a string, got a number ({v}); write it in quotes as it is printed"
        )),
        (_, v) => Err(format!("must be a string, got {}", kind(&v))),
    }
}

/// Cuts a byte stream into blocks of whole lines, whatever the chunk boundaries; in CSV mode
/// a line break inside a quoted field does not end a line.
pub struct Splitter {
    csv: bool,
    carry: Vec<u8>,
    /// Line number of the first byte of `carry`.
    line: u64,
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
    /// A splitter whose first byte is on line `line`; `csv` makes it quote-aware.
    pub fn new(csv: bool, line: u64) -> Self {
        Self {
            csv,
            carry: Vec::new(),
            line,
            scanned: 0,
            in_quotes: false,
            last_safe: None,
        }
    }

    /// Adds input; returns a block of the whole lines completed (if any) once at least
    /// `min` bytes are waiting.
    ///
    /// # Errors
    /// A line longer than [`MAX_LINE_BYTES`].
    pub fn push(&mut self, data: &[u8], min: usize) -> Result<Option<Block>, Problem> {
        self.carry.extend_from_slice(data);
        self.scan();
        let Some(end) = self.last_safe else {
            if self.carry.len() > MAX_LINE_BYTES {
                return Err(Problem::bad_line(
                    self.line,
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            return Ok(None);
        };
        if end + 1 < min {
            return Ok(None);
        }
        Ok(Some(self.cut(end + 1)))
    }

    /// Ends the input; returns the last block (a final line without a line break).
    pub fn finish(&mut self) -> Option<Block> {
        if self.carry.is_empty() {
            return None;
        }
        let n = self.carry.len();
        Some(self.cut(n))
    }

    /// Scans new bytes for line breaks outside quoted CSV fields.
    fn scan(&mut self) {
        for i in self.scanned..self.carry.len() {
            match self.carry[i] {
                b'"' if self.csv => self.in_quotes = !self.in_quotes,
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
}

#[cfg(test)]
mod tests {
    use crate::screen::formats::{read_all, ReadOptions};
    use crate::screen::manifest::{Line, Problem, Severity, Subject};

    fn read_all_chunked(input: &[u8], chunk: usize) -> (Vec<Line>, Vec<Problem>) {
        let chunks: Vec<Result<Vec<u8>, String>> =
            input.chunks(chunk.max(1)).map(|c| Ok(c.to_vec())).collect();
        let r = crate::screen::formats::ChunkReader::new(chunks.into_iter());
        let mut src = crate::screen::formats::open(r, &ReadOptions::default()).unwrap();
        let (mut lines, mut problems) = (vec![], vec![]);
        while let Some(b) = src.next_batch().unwrap() {
            let mut each = |e: crate::screen::formats::Event| match e {
                crate::screen::formats::Event::Line(l) => lines.push(l),
                crate::screen::formats::Event::Problem(p) => problems.push(p),
            };
            match b {
                crate::screen::formats::Batch::Lines { parser, block } => {
                    parser.parse_block(&block.bytes, block.first_line, &mut each)
                }
                crate::screen::formats::Batch::Parsed { events, .. } => {
                    events.into_iter().for_each(&mut each)
                }
            }
        }
        (lines, problems)
    }

    fn got(p: &[Problem]) -> Vec<(u64, &str, Severity)> {
        p.iter()
            .map(|b| (b.line, b.field.as_str(), b.severity))
            .collect()
    }

    const CSV: &str = "reference,route,container_numbers,consignee_name,consignee_address,weight_kg,arrival_date\n\
        D1,sea-container,CSQU3054383,\"Golden Star Trading Co., Ltd.\",\"12 Nguyen Trai, HCMC\",1200.5,2026-12-01\n\
        D2,sea-container,CSQU3054384,Someone,,10,2026-12-01\n\
        D3,express,,\"Multi\nline\",,2,\n\
        D4,postal,,X,,abc,\n";

    #[test]
    fn csv_lines_and_bad_fields_any_chunking() {
        for chunk in [1, 2, 7, 64, 10_000] {
            let (lines, bad) = read_all_chunked(CSV.as_bytes(), chunk);
            // A bad value leaves the rest of its line to be screened.
            assert_eq!(lines.len(), 4, "chunk {chunk}");
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
            let Subject::Cargo(c) = &lines[1].subject else {
                panic!()
            };
            assert!(c.container_numbers.is_empty());
            assert_eq!(c.consignee.name.as_deref(), Some("Someone"));
            assert_eq!(lines[2].line, 4, "quoted line break spans lines 4-5");
            assert_eq!(lines[3].line, 6);
            assert_eq!(
                got(&bad),
                [
                    (3, "container_numbers", Severity::BadField),
                    (6, "weight_kg", Severity::BadField)
                ]
            );
            assert!(bad[0].message.contains("check digit"), "{bad:?}");
        }
    }

    #[test]
    fn crlf_line_numbers() {
        let input = b"reference,container_numbers,weight_kg\r\nA,CSQU3054383,1\r\nB,CSQU3054384,2\r\n\r\nC,x,\"3\r\n\"\r\nD,,abc\r\n";
        for chunk in [1, 3, 1000] {
            let (lines, bad) = read_all_chunked(input, chunk);
            let at: Vec<(u64, &str)> = lines
                .iter()
                .map(|l| (l.line, l.reference.as_str()))
                .collect();
            assert_eq!(
                at,
                [(2, "A"), (3, "B"), (5, "C"), (7, "D")],
                "chunk {chunk}"
            );
            let bad: Vec<u64> = bad.iter().map(|b| b.line).collect();
            assert_eq!(bad, [3, 5, 7], "chunk {chunk}");
        }
    }

    #[test]
    fn unknown_columns_warn_once_and_missing_identifiers_are_told() {
        let (lines, p) = read_all_chunked(
            b"reference,container_number,seat\nx,CSQU3054383,1A\ny,CSQU3054383,1B\n",
            5,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(
            got(&p),
            [
                (1, "container_number", Severity::Warning),
                (1, "seat", Severity::Warning),
                (1, "", Severity::Warning)
            ]
        );
        assert!(p[2].message.contains("no identifier column"), "{p:?}");
        let (_, p) = read_all_chunked(b"family_name,document_number\nKim,M1234567\n", 100);
        assert_eq!(got(&p)[0], (1, "document_country", Severity::Warning));
        assert_eq!(got(&p)[1], (2, "document_country", Severity::BadField));
        // A column given twice is still refused: which one would count?
        assert!(read_all(b"reference,reference\nA,B\n", &ReadOptions::default()).is_err());
    }

    #[test]
    fn tolerant_values_in_kdesk_csv() {
        let input = "reference,route,transport_document,consignee_country,weight_kg,arrival_date\n\
            A,SEA,MEDU 1234567,KOR,\"21,500\",20/12/2026\n\
            B,AIR,180-8341 0224,THA,21500 KG,20261220\n\
            C,FCL,,VNM,\"1,5\",12/20/2026\n\
            D,air-cargo,180-83410225,KR,47.6 lb,\n";
        let (lines, p) = read_all_chunked(input.as_bytes(), 9);
        assert_eq!(lines.len(), 4);
        let c = |i: usize| match &lines[i].subject {
            Subject::Cargo(c) => c.clone(),
            Subject::Passenger(_) => panic!(),
        };
        assert_eq!(c(0).weight_grams, Some(21_500_000));
        assert_eq!(c(0).consignee.country.unwrap().as_str(), "KR");
        assert_eq!(c(0).arrival_date.unwrap().to_string(), "2026-12-20");
        assert_eq!(c(1).air_waybill.as_ref().unwrap().as_str(), "18083410224");
        assert_eq!(c(1).transport_document, None);
        assert_eq!(c(1).weight_grams, Some(21_500_000));
        assert_eq!(c(2).route, Some(crate::model::CargoRoute::SeaContainer));
        assert_eq!(c(3).air_waybill, None);
        assert_eq!(c(3).weight_grams, Some(21_591));
        assert_eq!(
            got(&p),
            [
                (4, "weight_kg", Severity::BadField),
                (4, "arrival_date", Severity::BadField),
                (5, "transport_document", Severity::BadField)
            ]
        );
        assert!(p[2].message.contains("mod 7"), "{p:?}");
    }

    #[test]
    fn jsonl_passengers() {
        let input = b"{\"reference\":\"P1\",\"family_name\":\"Nguy\xe1\xbb\x85n\",\"date_of_birth\":\"1990-01-02\",\"document_number\":\"C1234567\",\"document_country\":\"VNM\"}\n\
            {\"family_name\":\"X\",\"seat\":\"1A\"}\n\
            \n\
            {\"family_name\":\"Y\",\"date_of_birth\":\"1990-02-30\",\"seat\":\"2B\"}\n\
            {\"given_names\":\"Z\"}\n";
        for chunk in [3, 1000] {
            let (lines, bad) = read_all_chunked(input, chunk);
            assert_eq!(lines.len(), 3);
            assert!(
                matches!(&lines[0].subject, Subject::Passenger(p) if p.family_name == "Nguyễn" && p.document_country.is_some())
            );
            assert_eq!(
                got(&bad),
                [
                    (2, "seat", Severity::Warning),
                    (4, "date_of_birth", Severity::BadField),
                    (5, "family_name", Severity::BadLine)
                ]
            );
        }
    }

    #[test]
    fn jsonl_values_of_the_wrong_type_are_bad_fields() {
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
[1,2]
"#;
        for chunk in [5, 10_000] {
            let (lines, bad) = read_all_chunked(input, chunk);
            assert_eq!(lines.len(), 12, "chunk {chunk}: every object is screened");
            let Subject::Cargo(c) = &lines[0].subject else {
                panic!()
            };
            assert_eq!(c.weight_grams, Some(12_500));
            let Subject::Cargo(c) = &lines[2].subject else {
                panic!()
            };
            assert_eq!(c.weight_grams, Some(7_500));
            assert_eq!(c.container_numbers.len(), 2);
            assert_eq!(lines[4].reference, "line 5");
            let fields: Vec<(u64, &str)> = bad.iter().map(|b| (b.line, b.field.as_str())).collect();
            assert_eq!(
                fields,
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
                    (13, ""),
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
            assert_eq!(bad[9].severity, Severity::BadLine);
        }
        assert!(read_all(
            b"[1,2]\n",
            &ReadOptions {
                format: Some(crate::screen::Format::Jsonl),
                mapping: None
            }
        )
        .is_err());
    }

    #[test]
    fn format_characters_in_text_are_bad_fields() {
        let csv = "reference,consignee_name,goods_description\n\
            D1,Golden Star,toys\n\
            D2,Golden\u{202e}ratS,toys\n\
            D3,Golden Star,to\u{200b}ys\n\
            D\u{2066}4,Golden Star,toys\n";
        let jsonl = "{\"reference\":\"D1\",\"consignee_name\":\"Golden Star\"}\n\
            {\"reference\":\"D2\",\"consignee_name\":\"Golden\\u202eratS\"}\n\
            {\"reference\":\"D3\",\"goods_description\":\"to\u{200b}ys\"}\n\
            {\"reference\":\"D\u{2066}4\"}\n";
        for (input, first) in [(csv, 3), (jsonl, 2)] {
            let (lines, mut bad) = read_all_chunked(input.as_bytes(), 7);
            assert_eq!(lines.len(), 4, "{bad:?}");
            bad.retain(|b| b.severity != Severity::Warning);
            let fields: Vec<(u64, &str)> = bad.iter().map(|b| (b.line, b.field.as_str())).collect();
            assert_eq!(
                fields,
                [
                    (first, "consignee_name"),
                    (first + 1, "goods_description"),
                    (first + 2, "reference"),
                ]
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
    fn bom_and_long_lines() {
        let (lines, bad) = read_all_chunked(
            b"\xEF\xBB\xBFreference,postal_item_id\r\nP,RR473124829GB\r\n",
            2,
        );
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(lines.len(), 1);
        let mut long = b"reference,postal_item_id\n".to_vec();
        long.extend(std::iter::repeat_n(
            b'a',
            crate::screen::manifest::MAX_LINE_BYTES + 10,
        ));
        assert!(read_all(&long, &ReadOptions::default()).is_err());
    }
}
