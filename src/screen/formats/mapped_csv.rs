//! A carrier's CSV read through a mapping file (TOML): which source column is which kdesk
//! field, the date formats, the decimal separator, the unit of weights written without one,
//! route words, and the columns to ignore. `examples/mappings/` has a documented example;
//! docs/SCREENING.md describes every key.
//!
//! ```toml
//! kind = "cargo"                       # or "passengers"
//! delimiter = ";"
//! decimal_separator = ","
//! date_formats = ["DD/MM/YYYY", "YYYY-MM-DD"]
//! weight_unit = "kg"
//! ignore = ["Remarks"]
//!
//! [columns]
//! "HAWB" = "house_waybill"
//! "Gross Wt" = "weight_kg"
//!
//! [codes.route]
//! TRUCK = "express"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::fields::{Checker, Field, Record, CARGO_IDENTIFIERS};
use super::own::{csv_records, emit};
use super::values::{DateFormat, ValueRules, WeightUnit};
use super::{Event, LineParser};
use crate::model::CargoRoute;
use crate::screen::manifest::{Kind, Problem, Severity};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default)]
    decimal_separator: Option<String>,
    #[serde(default)]
    date_formats: Vec<String>,
    #[serde(default)]
    weight_unit: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    codes: Codes,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Codes {
    #[serde(default)]
    route: BTreeMap<String, String>,
}

/// A checked mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// Kind of list.
    pub kind: Kind,
    /// Field delimiter.
    pub delimiter: u8,
    /// Value rules.
    pub rules: ValueRules,
    /// Source column (folded: trimmed, lower case) → field.
    pub columns: HashMap<String, (String, Field)>,
    /// Source columns ignored (folded).
    pub ignore: Vec<String>,
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Mapping {
    /// Parses and checks a mapping file.
    ///
    /// # Errors
    /// Not TOML, an unknown key, an unknown kdesk field, date format, separator, unit or
    /// route, or two columns mapped to one field; the message names the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: MappingFile = toml::from_str(text).map_err(|e| format!("mapping: {e}"))?;
        let kind = match f.kind.as_deref().map(str::trim) {
            None | Some("cargo") => Kind::Cargo,
            Some("passengers") => Kind::Passengers,
            Some(k) => {
                return Err(format!(
                    "mapping: kind: {k:?} is not \"cargo\" or \"passengers\""
                ))
            }
        };
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
        let decimal_separator = match f.decimal_separator.as_deref() {
            None | Some(".") => '.',
            Some(",") => ',',
            Some(d) => {
                return Err(format!(
                    "mapping: decimal_separator: {d:?} must be \".\" or \",\""
                ))
            }
        };
        let mut date_formats = Vec::new();
        for d in &f.date_formats {
            date_formats.push(DateFormat::parse(d).ok_or_else(|| {
                format!(
                    "mapping: date_formats: {d:?} is not one of YYYY-MM-DD, DD/MM/YYYY, \
                     MM/DD/YYYY, YYYYMMDD, YYMMDD"
                )
            })?);
        }
        if date_formats.is_empty() {
            date_formats.push(DateFormat::Iso);
        }
        if date_formats.contains(&DateFormat::DayMonthYear)
            && date_formats.contains(&DateFormat::MonthDayYear)
        {
            return Err(
                "mapping: date_formats: DD/MM/YYYY and MM/DD/YYYY together make 03/04/2026 \
                 ambiguous; declare the one the file uses"
                    .into(),
            );
        }
        let weight_unit = match f.weight_unit.as_deref() {
            None => WeightUnit::Kg,
            Some(u) => WeightUnit::parse(u)
                .ok_or_else(|| format!("mapping: weight_unit: {u:?} is not one of kg, lb, g, t"))?,
        };
        let mut routes = HashMap::new();
        for (word, r) in &f.codes.route {
            let route = CargoRoute::parse(r.trim()).map_err(|e| {
                format!(
                    "mapping: codes.route.{word}: {e} (one of {})",
                    CargoRoute::names()
                )
            })?;
            routes.insert(word.trim().to_uppercase(), route);
        }
        let mut columns = HashMap::new();
        let mut used: Vec<Field> = Vec::new();
        for (src, field) in &f.columns {
            let fld = Field::parse(kind, field).ok_or_else(|| {
                let all: Vec<&str> = Field::of(kind).iter().map(Field::name).collect();
                format!(
                    "mapping: columns.{src:?}: {field:?} is not a field of a {} list; one of {}",
                    kind.as_str(),
                    all.join(", ")
                )
            })?;
            if used.contains(&fld) {
                return Err(format!(
                    "mapping: columns.{src:?}: {} is already mapped from another column",
                    fld.name()
                ));
            }
            used.push(fld);
            columns.insert(fold(src), (src.clone(), fld));
        }
        if kind == Kind::Passengers && !used.contains(&Field::FamilyName) {
            return Err("mapping: columns: a passenger list maps a column to family_name".into());
        }
        Ok(Self {
            kind,
            delimiter,
            rules: ValueRules {
                date_formats,
                decimal_separator,
                weight_unit,
                routes,
            },
            columns,
            ignore: f.ignore.iter().map(|s| fold(s)).collect(),
        })
    }
}

/// A carrier's CSV file, laid out by its header and mapping.
pub struct MappedSchema {
    mapping: Arc<Mapping>,
    /// The field of each column and its source name.
    columns: Vec<Option<(String, Field)>>,
}

impl MappedSchema {
    /// Reads the header row through the mapping; returns the warnings to report (unknown
    /// columns, mapped columns missing, no identifier column).
    ///
    /// # Errors
    /// Not CSV, or the family name column of a passenger list is missing.
    pub fn from_header(
        mapping: Arc<Mapping>,
        header: &[u8],
    ) -> Result<(Self, Vec<Problem>), Problem> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(mapping.delimiter)
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
        let mut warnings = Vec::new();
        let mut columns = Vec::new();
        let mut seen = Vec::new();
        for name in rec.iter() {
            let f = fold(name.trim_start_matches('\u{feff}'));
            match mapping.columns.get(&f) {
                Some((src, field)) => {
                    seen.push(*field);
                    columns.push(Some((src.clone(), *field)));
                }
                None => {
                    columns.push(None);
                    if !f.is_empty() && !mapping.ignore.contains(&f) {
                        warnings.push(Problem::new(
                            1,
                            name.trim(),
                            "column neither mapped nor ignored by the mapping, ignored (a \
                             misspelt name in the mapping switches its matching off)",
                            Severity::Warning,
                        ));
                    }
                }
            }
        }
        let mut missing: Vec<(&String, Field)> = mapping
            .columns
            .values()
            .filter(|(_, f)| !seen.contains(f))
            .map(|(s, f)| (s, *f))
            .collect();
        missing.sort_by_key(|(_, f)| *f);
        for (src, f) in missing {
            if f == Field::FamilyName {
                return Err(Problem::new(
                    1,
                    src.as_str(),
                    "the mapped family name column is not in the file: travelers cannot be screened",
                    Severity::BadLine,
                ));
            }
            warnings.push(Problem::new(
                1,
                src.as_str(),
                format!("mapped to {} but not in the file", f.name()),
                Severity::Warning,
            ));
        }
        match mapping.kind {
            Kind::Cargo if !CARGO_IDENTIFIERS.iter().any(|f| seen.contains(f)) => {
                warnings.push(Problem::new(
                    1,
                    "",
                    "no column of the file is mapped to an identifier: lines match by names and \
                     profiles only",
                    Severity::Warning,
                ))
            }
            Kind::Passengers
                if seen.contains(&Field::DocumentNumber)
                    && !seen.contains(&Field::DocumentCountry) =>
            {
                warnings.push(Problem::new(
                    1,
                    "document_country",
                    "no column is mapped to it: document numbers are screened only with their \
                     issuing country, so none will be",
                    Severity::Warning,
                ))
            }
            _ => {}
        }
        Ok((Self { mapping, columns }, warnings))
    }
}

impl LineParser for MappedSchema {
    fn kind(&self) -> Kind {
        self.mapping.kind
    }

    fn parse_block(&self, block: &[u8], first_line: u64, each: &mut dyn FnMut(Event)) {
        let names: HashMap<Field, &str> = self
            .columns
            .iter()
            .flatten()
            .map(|(s, f)| (*f, s.as_str()))
            .collect();
        let label = |f: Field| match names.get(&f) {
            Some(src) => format!("{src} ({})", f.name()),
            None => f.name().to_owned(),
        };
        csv_records(block, first_line, self.mapping.delimiter, |line, rec| {
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
                let Some((_, f)) = col else { continue };
                match std::str::from_utf8(raw) {
                    Ok(s) => values.set(*f, s),
                    Err(_) => ck.bad(*f, "is not valid UTF-8"),
                }
            }
            emit(self.mapping.kind, &values, &self.mapping.rules, ck, each);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::formats::{read_all, ReadOptions};
    use crate::screen::manifest::Subject;

    fn example(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap()
    }

    #[test]
    fn carrier_sample_through_its_mapping() {
        let m = Mapping::parse(&example("examples/mappings/siam-express.toml")).unwrap();
        let opts = ReadOptions {
            format: None,
            mapping: Some(Arc::new(m)),
        };
        let (_, kind, lines, problems) = read_all(
            example("examples/manifests/carrier-siam-express-20261201.csv").as_bytes(),
            &opts,
        )
        .unwrap();
        assert_eq!(kind, Kind::Cargo);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(lines.len(), 4);
        let c = |i: usize| match &lines[i].subject {
            Subject::Cargo(c) => c.clone(),
            Subject::Passenger(_) => panic!(),
        };
        assert_eq!(
            c(0).tracking_number.as_ref().unwrap().as_str(),
            "1Z999AA10123456784"
        );
        assert_eq!(c(0).weight_grams, Some(2_400));
        assert_eq!(c(0).shipper.country.unwrap().as_str(), "TH");
        assert_eq!(c(1).route, Some(CargoRoute::Express), "COURIER");
        assert_eq!(c(1).weight_grams, Some(3_200), "no unit: the mapping's kg");
        assert_eq!(c(2).route, Some(CargoRoute::Postal), "EMS");
        assert_eq!(c(3).weight_grams, Some(800));
    }

    #[test]
    fn bad_values_name_the_source_column_and_warnings() {
        let m = Mapping::parse(
            r#"
            delimiter = "tab"
            decimal_separator = ","
            date_formats = ["MM/DD/YYYY"]
            weight_unit = "lb"
            ignore = ["Note"]
            [columns]
            "B/L" = "transport_document"
            "Wt" = "weight_kg"
            "ETA" = "arrival_date"
            "Mode" = "route"
            "Cntr" = "container_numbers"
            [codes.route]
            TRUCK = "express"
            "#,
        )
        .unwrap();
        let input = "B/L\tWt\tETA\tMode\tNote\tExtra\nMEDU1\t1.000,5\t12/20/2026\tTRUCK\tx\ty\nMEDU2\t1,5,5\t20/12/2026\tBARGE\t\t\n";
        let (_, _, lines, p) = read_all(
            input.as_bytes(),
            &ReadOptions {
                format: None,
                mapping: Some(Arc::new(m)),
            },
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        let Subject::Cargo(c) = &lines[0].subject else {
            panic!()
        };
        assert_eq!(c.weight_grams, Some(453_819), "1000.5 lb");
        assert_eq!(c.arrival_date.unwrap().to_string(), "2026-12-20");
        assert_eq!(c.route, Some(CargoRoute::Express));
        let got: Vec<(u64, &str, Severity)> = p
            .iter()
            .map(|x| (x.line, x.field.as_str(), x.severity))
            .collect();
        assert_eq!(
            got,
            [
                (1, "Extra", Severity::Warning),
                (1, "Cntr", Severity::Warning),
                (3, "Mode (route)", Severity::BadField),
                (3, "Wt (weight_kg)", Severity::BadField),
                (3, "ETA (arrival_date)", Severity::BadField),
            ]
        );
    }

    #[test]
    fn mapping_errors_name_the_key() {
        for (text, want) in [
            ("[columns]\nA = \"container_number\"\n", "columns.\"A\""),
            ("kind = \"trucks\"\n[columns]\n", "kind"),
            (
                "decimal_separator = \";\"\n[columns]\n",
                "decimal_separator",
            ),
            ("date_formats = [\"DD/MM/YY\"]\n[columns]\n", "date_formats"),
            (
                "date_formats = [\"DD/MM/YYYY\", \"MM/DD/YYYY\"]\n[columns]\n",
                "ambiguous",
            ),
            ("weight_unit = \"stone\"\n[columns]\n", "weight_unit"),
            ("[columns]\n[codes.route]\nX = \"boat\"\n", "codes.route.X"),
            ("colums = 1\n", "colums"),
            (
                "kind = \"passengers\"\n[columns]\nA = \"given_names\"\n",
                "family_name",
            ),
            (
                "[columns]\nA = \"hs_code\"\nB = \"hs_code\"\n",
                "already mapped",
            ),
        ] {
            let e = Mapping::parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
