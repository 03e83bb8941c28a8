//! Reading intelligence files into checked items: JSON Lines (one item per line, the JSON form
//! of [`IntelItem`]) and CSV through a mapping file (TOML), after the carriers' CSV mapping of
//! `screen::formats::mapped_csv`: each source column names the item field it fills, as a path.
//!
//! ```toml
//! delimiter = ","              # one ASCII character, or "tab"
//! list_separator = "|"         # between values of a list cell ("substances[]")
//! ignore = ["Analyst"]         # columns read but not used
//!
//! [columns]                    # source column (case-insensitive) = item field path
//! "Surname" = "subject.traveler.family_name"
//! "Passport" = "subject.traveler.document.number"
//! "Mobile" = "selectors.phones[]"   # [] : the cell adds to a list
//! "Drugs" = "substances[]"
//! "Grade" = "grading"               # the short form "B2 H3"
//!
//! [defaults]                   # field path = value, where the row leaves the field out
//! "subject.traveler.document.doc_type" = "passport"
//! "validity.valid_from" = "today"   # today (UTC); "+180d": 180 days from today
//! "validity.valid_until" = "+180d"
//! ```
//!
//! Every row becomes a JSON object and is parsed by [`IntelItem::from_json`], so a CSV row is
//! checked exactly as a JSON item is. A bad row is reported (line, field with its column,
//! value and rule) and skipped; the others are read.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::model::intel::{Grading, IntelItem};
use crate::model::Date;

/// A row or line that was not read, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadRow {
    /// 1-based line in the file.
    pub line: u64,
    /// The item field (and, for CSV, the column it came from).
    pub field: String,
    /// The value and the rule it breaks.
    pub message: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

/// What a file gave: the items read (with their line) and the rows skipped.
#[derive(Debug, Default)]
pub struct Read {
    /// Items, in file order, with their 1-based line.
    pub items: Vec<(u64, IntelItem)>,
    /// Rows skipped.
    pub bad: Vec<BadRow>,
}

/// Reads JSON Lines: one item per non-blank line.
pub fn read_jsonl(text: &str) -> Read {
    let mut r = Read::default();
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match IntelItem::from_json(line) {
            Ok(item) => r.items.push((n, item)),
            Err(e) => r.bad.push(BadRow {
                line: n,
                field: e.field,
                message: e.message,
            }),
        }
    }
    r
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default)]
    list_separator: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

/// A checked mapping for intelligence CSV files.
#[derive(Clone, Debug)]
pub struct Mapping {
    delimiter: u8,
    list_separator: char,
    /// Folded column name → (column as written, field path).
    columns: HashMap<String, (String, String)>,
    ignore: Vec<String>,
    defaults: BTreeMap<String, String>,
}

/// Paths a column may fill: every leaf of the item's JSON form is reachable this way; the
/// first segments are checked here so that a typo in the mapping is refused at once.
const TOP: &[&str] = &[
    "reference",
    "title",
    "subject",
    "selectors",
    "substances",
    "grading",
    "validity",
    "note",
    "links",
];

fn check_path(p: &str, key: &str) -> Result<(), String> {
    let ok_chars = !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c));
    let top = p.split(['.', '[']).next().unwrap_or("");
    let brackets_ok = !p.contains('[') || p.ends_with("[]") && p.matches('[').count() == 1;
    if ok_chars && TOP.contains(&top) && brackets_ok && !p.contains("..") {
        Ok(())
    } else {
        Err(format!(
            "mapping: {key}: {p:?} is not an item field path (it starts with one of {} and may \
             end in [] for a list, e.g. \"subject.traveler.family_name\", \"selectors.phones[]\")",
            TOP.join(", ")
        ))
    }
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Mapping {
    /// Parses and checks a mapping file.
    ///
    /// # Errors
    /// Not TOML, an unknown key, a path that is not an item field, a bad delimiter, two
    /// columns filling one field; the message names the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: MappingFile = toml::from_str(text).map_err(|e| format!("mapping: {e}"))?;
        let delimiter = match f.delimiter.as_deref() {
            None => b',',
            Some("\\t") | Some("\t") | Some("tab") => b'\t',
            Some(d) if d.len() == 1 && d.is_ascii() && d != "\"" => d.as_bytes()[0],
            Some(d) => {
                return Err(format!(
                    "mapping: delimiter: {d:?} must be one ASCII character other than '\"' (or \"tab\")"
                ))
            }
        };
        let list_separator = match f.list_separator.as_deref() {
            None => '|',
            Some(s) if s.chars().count() == 1 => s.chars().next().unwrap_or('|'),
            Some(s) => {
                return Err(format!(
                    "mapping: list_separator: {s:?} must be one character"
                ))
            }
        };
        if f.columns.is_empty() {
            return Err("mapping: columns: map at least one column".into());
        }
        let mut columns = HashMap::new();
        let mut filled: HashMap<&str, &str> = HashMap::new();
        for (col, path) in &f.columns {
            check_path(path, &format!("columns.{col:?}"))?;
            if !path.ends_with("[]") {
                if let Some(other) = filled.insert(path.as_str(), col.as_str()) {
                    return Err(format!(
                        "mapping: columns: {other:?} and {col:?} both fill {path}"
                    ));
                }
            }
            if columns
                .insert(fold(col), (col.clone(), path.clone()))
                .is_some()
            {
                return Err(format!("mapping: columns: {col:?} is mapped twice"));
            }
        }
        for (path, v) in &f.defaults {
            check_path(path, &format!("defaults.{path:?}"))?;
            if path.ends_with("[]") {
                return Err(format!(
                    "mapping: defaults.{path:?}: a default fills one field, not a list"
                ));
            }
            if v.starts_with('+') || v == "today" {
                relative_date(v, Date::today_utc())
                    .map_err(|e| format!("mapping: defaults.{path:?}: {e}"))?;
            }
        }
        Ok(Self {
            delimiter,
            list_separator,
            columns,
            ignore: f.ignore.iter().map(|c| fold(c)).collect(),
            defaults: f.defaults,
        })
    }
}

impl Mapping {
    /// Adds a default for `path` unless the mapping has one (the source's default
    /// reliability, for `grading.reliability`).
    pub fn default_unless_set(&mut self, path: &str, value: &str) {
        self.defaults
            .entry(path.to_owned())
            .or_insert_with(|| value.to_owned());
    }
}

/// `today` or `+Nd` from `today`.
fn relative_date(v: &str, today: Date) -> Result<String, String> {
    if v == "today" {
        return Ok(today.to_string());
    }
    let n = v
        .strip_prefix('+')
        .and_then(|d| d.strip_suffix('d'))
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| (0..=crate::model::MAX_VALIDITY_DAYS).contains(d))
        .ok_or_else(|| {
            format!(
                "{v:?} is not a date, \"today\" or \"+Nd\" (N days from today, 0-{})",
                crate::model::MAX_VALIDITY_DAYS
            )
        })?;
    Ok(today.plus_days(n).to_string())
}

/// The JSON value of a cell: numbers for the numeric fields, strings otherwise.
fn cell_value(path: &str, raw: &str) -> Value {
    let numeric = path.ends_with("weight_kg") || path.starts_with("links");
    if numeric {
        if let Ok(n) = raw.parse::<u64>() {
            return Value::from(n);
        }
        if let Ok(f) = raw.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(raw.to_owned())
}

/// Sets `path` (dotted, optionally ending in `[]` to push) in `obj`. Returns false when a
/// segment is already a non-object.
fn set(obj: &mut Map<String, Value>, path: &str, v: Value) -> bool {
    let (path, push) = match path.strip_suffix("[]") {
        Some(p) => (p, true),
        None => (path, false),
    };
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut cur = obj;
    for p in parts {
        let e = cur
            .entry(p.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match e {
            Value::Object(m) => cur = m,
            _ => return false,
        }
    }
    if push {
        let e = cur
            .entry(last.to_owned())
            .or_insert_with(|| Value::Array(vec![]));
        match e {
            Value::Array(a) => a.push(v),
            _ => return false,
        }
    } else {
        cur.insert(last.to_owned(), v);
    }
    true
}

fn has(obj: &Map<String, Value>, path: &str) -> bool {
    let mut cur = obj;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        match cur.get(*p) {
            None => return false,
            Some(Value::Object(m)) => cur = m,
            Some(_) => return i + 1 == parts.len(),
        }
    }
    true
}

/// Reads a CSV file with a header row through a mapping. A header naming a column neither
/// mapped nor ignored is refused (nothing is read): a column silently dropped could be the
/// one that mattered.
///
/// # Errors
/// The header row is missing or names an unknown column; the file is not CSV at all.
pub fn read_csv(text: &str, mapping: &Mapping) -> Result<Read, String> {
    read_csv_on(text, mapping, Date::today_utc())
}

fn read_csv_on(text: &str, mapping: &Mapping, today: Date) -> Result<Read, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| format!("line 1: the header row: {e}"))?
        .clone();
    let mut cols: Vec<Option<(String, String)>> = Vec::new();
    for h in headers.iter() {
        let f = fold(h);
        match mapping.columns.get(&f) {
            Some(c) => cols.push(Some(c.clone())),
            None if mapping.ignore.contains(&f) || f.is_empty() => cols.push(None),
            None => {
                return Err(format!(
                    "line 1: column {h:?} is neither in the mapping's [columns] nor in ignore"
                ))
            }
        }
    }
    let mut defaults = Vec::new();
    for (path, v) in &mapping.defaults {
        let v = if v == "today" || v.starts_with('+') {
            relative_date(v, today)?
        } else {
            v.clone()
        };
        defaults.push((path.clone(), v));
    }
    let mut out = Read::default();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.bad.push(BadRow {
                    line,
                    field: "(row)".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match row_item(&rec, &cols, &defaults, mapping.list_separator) {
            Ok(item) => out.items.push((line, item)),
            Err((field, message)) => out.bad.push(BadRow {
                line,
                field,
                message,
            }),
        }
    }
    Ok(out)
}

/// One row into an item; the error names the field (with its column) and the rule.
fn row_item(
    rec: &csv::StringRecord,
    cols: &[Option<(String, String)>],
    defaults: &[(String, String)],
    sep: char,
) -> Result<IntelItem, (String, String)> {
    let mut obj = Map::new();
    let mut column_of: HashMap<String, String> = HashMap::new();
    for (i, cell) in rec.iter().enumerate() {
        let Some(Some((col, path))) = cols.get(i) else {
            continue;
        };
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let base = path.trim_end_matches("[]");
        column_of.insert(base.to_owned(), col.clone());
        if path == "grading" {
            let g = Grading::parse(cell)
                .map_err(|e| (format!("grading (column {col:?})"), e.to_string()))?;
            set(
                &mut obj,
                "grading.reliability",
                Value::from(g.reliability.as_str()),
            );
            set(
                &mut obj,
                "grading.credibility",
                Value::from(g.credibility.as_str()),
            );
            set(
                &mut obj,
                "grading.handling",
                Value::from(g.handling.as_str()),
            );
            continue;
        }
        let values: Vec<&str> = if path.ends_with("[]") {
            cell.split(sep)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect()
        } else {
            vec![cell]
        };
        for v in values {
            if !set(&mut obj, path, cell_value(path, v)) {
                return Err((
                    format!("{base} (column {col:?})"),
                    "conflicts with another column's field".into(),
                ));
            }
        }
    }
    for (path, v) in defaults {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let shallow = path.matches('.').count() <= 1;
        if !has(&obj, path) && (shallow || has(&obj, parent)) {
            set(&mut obj, path, cell_value(path, v));
        }
    }
    let json = Value::Object(obj).to_string();
    IntelItem::from_json(&json).map_err(|e| {
        // Name the column the failing field came from, when one did.
        let col = column_of
            .iter()
            .filter(|(p, _)| e.field.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, c)| c.clone());
        match col {
            Some(c) => (format!("{} (column {c:?})", e.field), e.message),
            None => (e.field, e.message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"
delimiter = ";"
ignore = ["Analyst"]
[columns]
"Surname" = "subject.traveler.family_name"
"Given" = "subject.traveler.given_names"
"Born" = "subject.traveler.date_of_birth"
"Mobile" = "selectors.phones[]"
"Drugs" = "substances[]"
"Grade" = "grading"
"Title" = "title"
[defaults]
"validity.valid_from" = "today"
"validity.valid_until" = "+90d"
"#;

    #[test]
    fn csv_rows_become_checked_items_and_bad_rows_name_line_column_value_and_rule() {
        let m = Mapping::parse(MAPPING).unwrap();
        let csv = "Title;Surname;Given;Born;Mobile;Drugs;Grade;Analyst\n\
                   Courier;KIM;MINJUN;1990-01-02;+82 10 1111 2222|+66 81 000 0000;methamphetamine;B2 H3;lee\n\
                   Bad grade;PARK;JI;1985-05-05;;ketamine;G2 H3;lee\n\
                   Bad date;CHOI;YU;1985-13-05;;;A1 H1;lee\n";
        let today = Date::parse("2026-12-01").unwrap();
        let r = read_csv_on(csv, &m, today).unwrap();
        assert_eq!(r.items.len(), 1, "{:?}", r.bad);
        let (line, item) = &r.items[0];
        assert_eq!(*line, 2);
        assert_eq!(item.selectors.phones.len(), 2);
        assert_eq!(item.grading.to_string(), "B2 H3");
        assert_eq!(item.validity.valid_until().to_string(), "2027-03-01");
        assert_eq!(r.bad.len(), 2);
        assert_eq!(r.bad[0].line, 3);
        assert_eq!(r.bad[0].field, "grading (column \"Grade\")");
        assert!(r.bad[0].message.contains("\"G2 H3\""), "{}", r.bad[0]);
        assert_eq!(r.bad[1].line, 4);
        assert!(
            r.bad[1]
                .field
                .starts_with("subject.traveler.date_of_birth (column \"Born\")"),
            "{}",
            r.bad[1]
        );
    }

    #[test]
    fn mappings_and_headers_are_checked() {
        assert!(Mapping::parse("[columns]\n\"A\" = \"colour\"\n")
            .unwrap_err()
            .contains("\"colour\""));
        assert!(
            Mapping::parse("[columns]\n\"A\" = \"title\"\n\"B\" = \"title\"\n")
                .unwrap_err()
                .contains("both fill title")
        );
        assert!(Mapping::parse("delimiter = \"ab\"\n[columns]\n\"A\" = \"title\"\n").is_err());
        let m = Mapping::parse(MAPPING).unwrap();
        let e = read_csv("Title;Surname;Secret\nx;y;z\n", &m).unwrap_err();
        assert!(e.contains("\"Secret\""), "{e}");
    }

    #[test]
    fn the_examples_read_as_documented() {
        let r = read_jsonl(include_str!("../../examples/intel/police-kr.jsonl"));
        assert_eq!(r.items.len(), 3, "{:?}", r.bad);
        assert_eq!(r.bad.len(), 1);
        assert_eq!(
            (r.bad[0].line, r.bad[0].field.as_str()),
            (4, "grading.reliability")
        );
        let m = Mapping::parse(include_str!("../../examples/intel/carrier-dhl.toml")).unwrap();
        let today = Date::parse("2026-12-01").unwrap();
        let r = read_csv_on(
            include_str!("../../examples/intel/carrier-dhl.csv"),
            &m,
            today,
        )
        .unwrap();
        assert_eq!(r.items.len(), 2, "{:?}", r.bad);
        assert_eq!(r.bad.len(), 1);
        assert_eq!(r.bad[0].line, 4);
        assert!(r.bad[0].field.contains("Receiver Phone"), "{}", r.bad[0]);
        let kim = &r.items[0].1;
        assert_eq!(
            kim.title.as_str(),
            "Express consignment flagged by the carrier's hub security"
        );
        assert_eq!(kim.substances.len(), 1);
        let r = crate::intel::stix_in::read_bundle(
            include_str!("../../examples/intel/misp-bundle.json"),
            None,
        )
        .unwrap();
        assert_eq!(r.read.items.len(), 2, "{:?}", r.read.bad);
        assert_eq!(r.read.bad.len(), 1);
    }

    #[test]
    fn jsonl_reports_bad_lines_and_reads_the_rest() {
        let good = r#"{"title":"t","selectors":{"emails":["a@b.kr"]},"grading":{"reliability":"C","credibility":"3","handling":"H4"},"validity":{"valid_from":"2026-11-01","valid_until":"2027-01-01"}}"#;
        let text = format!("{good}\n\n{{\"title\": 1}}\n{good}\n");
        let r = read_jsonl(&text);
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[1].0, 4);
        assert_eq!(r.bad.len(), 1);
        assert_eq!(r.bad[0].line, 3);
        assert_eq!(r.bad[0].field, "title");
    }
}
