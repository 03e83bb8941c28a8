//! Tolerant value rules shared by every reader: countries as alpha-2 or alpha-3 codes, dates
//! in declared formats, weights with units and separators, route words, free text, transport
//! documents (an air waybill's check digit verified). Tolerant where real data varies, strict
//! where identity depends on it: an ambiguous value is refused with the reason, never guessed.

use std::collections::HashMap;

use crate::model::{
    AirWaybill, BirthDate, CargoRoute, CountryCode, Date, DocumentReference, InvalidValue, Weight,
};

/// A date layout a file may declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD` (ISO 8601).
    Iso,
    /// `DD/MM/YYYY` (also with `.` or `-` between the parts).
    DayMonthYear,
    /// `MM/DD/YYYY` (also with `.` or `-`), as United States systems write dates.
    MonthDayYear,
    /// `YYYYMMDD` (EDIFACT format 102).
    Compact,
    /// `YYMMDD` (EDIFACT format 101): see [`century`] for the century.
    Short,
}

impl DateFormat {
    /// Parses a format's name as a mapping file writes it: `YYYY-MM-DD`, `DD/MM/YYYY`,
    /// `MM/DD/YYYY`, `YYYYMMDD`, `YYMMDD`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "YYYY-MM-DD" => Some(Self::Iso),
            "DD/MM/YYYY" | "DD.MM.YYYY" | "DD-MM-YYYY" => Some(Self::DayMonthYear),
            "MM/DD/YYYY" | "MM.DD.YYYY" | "MM-DD-YYYY" => Some(Self::MonthDayYear),
            "YYYYMMDD" | "CCYYMMDD" => Some(Self::Compact),
            "YYMMDD" => Some(Self::Short),
            _ => None,
        }
    }

    /// The format's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Iso => "YYYY-MM-DD",
            Self::DayMonthYear => "DD/MM/YYYY",
            Self::MonthDayYear => "MM/DD/YYYY",
            Self::Compact => "YYYYMMDD",
            Self::Short => "YYMMDD",
        }
    }
}

/// A unit of weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightUnit {
    /// Kilograms (`kg`, `kgs`, `KGM`).
    Kg,
    /// Pounds (`lb`, `lbs`, `LBR`): 0.45359237 kg.
    Lb,
    /// Grams (`g`, `GRM`).
    G,
    /// Metric tonnes (`t`, `TNE`).
    Tonne,
}

impl WeightUnit {
    /// Parses a unit as manifests write it (case-insensitive), including the UN/ECE
    /// Recommendation 20 codes EDIFACT and Cargo-XML use (`KGM`, `LBR`, `GRM`, `TNE`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "KG" | "KGS" | "KGM" | "K" | "KILO" | "KILOS" | "KILOGRAM" | "KILOGRAMS" => {
                Some(Self::Kg)
            }
            "LB" | "LBS" | "LBR" | "L" | "POUND" | "POUNDS" => Some(Self::Lb),
            "G" | "GR" | "GRM" | "GRAM" | "GRAMS" => Some(Self::G),
            "T" | "TNE" | "MT" | "TONNE" | "TONNES" => Some(Self::Tonne),
            _ => None,
        }
    }

    /// Grams in one unit.
    fn grams(&self) -> f64 {
        match self {
            Self::Kg => 1000.0,
            Self::Lb => 453.592_37,
            Self::G => 1.0,
            Self::Tonne => 1_000_000.0,
        }
    }
}

/// Route words carriers use, and the route each means (a mapping file may add more).
pub const ROUTE_WORDS: &[(&str, CargoRoute)] = &[
    ("SEA", CargoRoute::SeaContainer),
    ("FCL", CargoRoute::SeaContainer),
    ("LCL", CargoRoute::SeaContainer),
    ("OCEAN", CargoRoute::SeaContainer),
    ("CONTAINER", CargoRoute::SeaContainer),
    ("AIR", CargoRoute::AirCargo),
    ("AIRFREIGHT", CargoRoute::AirCargo),
    ("EXP", CargoRoute::Express),
    ("EXPRESS", CargoRoute::Express),
    ("COURIER", CargoRoute::Express),
    ("POST", CargoRoute::Postal),
    ("POSTAL", CargoRoute::Postal),
    ("EMS", CargoRoute::Postal),
    ("MAIL", CargoRoute::Postal),
    ("VESSEL", CargoRoute::Ship),
    ("SHIP", CargoRoute::Ship),
];

/// How a file writes its values.
#[derive(Clone, Debug)]
pub struct ValueRules {
    /// Date layouts tried in order; the first that reads the value wins.
    pub date_formats: Vec<DateFormat>,
    /// `.` or `,`; the other one (and spaces) may separate thousands.
    pub decimal_separator: char,
    /// Unit of a weight written without one.
    pub weight_unit: WeightUnit,
    /// Route words of this file (upper case), tried before [`ROUTE_WORDS`].
    pub routes: HashMap<String, CargoRoute>,
}

impl ValueRules {
    /// kdesk's own CSV and JSON Lines: dates `YYYY-MM-DD`, `YYYYMMDD` or `DD/MM/YYYY` (day
    /// first), `.` as decimal separator, kilograms.
    pub fn kdesk() -> Self {
        Self {
            date_formats: vec![
                DateFormat::Iso,
                DateFormat::Compact,
                DateFormat::DayMonthYear,
            ],
            decimal_separator: '.',
            weight_unit: WeightUnit::Kg,
            routes: HashMap::new(),
        }
    }
}

impl Default for ValueRules {
    fn default() -> Self {
        Self::kdesk()
    }
}

/// The year of a two-digit year `yy` on day `month`/`day`: for a date of birth, the latest
/// year ending in `yy` that does not put the birth after `reference` (the travel date, or
/// the screening date); for any other date, 2000 + `yy` (a manifest describes trips of this
/// century).
pub fn century(yy: u16, month: u8, day: u8, birth: Option<Date>) -> u16 {
    let Some(reference) = birth else {
        return 2000 + yy;
    };
    let r = reference.to_string();
    let ry: u16 = r.get(0..4).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rmd: u16 = r
        .get(5..7)
        .zip(r.get(8..10))
        .and_then(|(m, d)| Some(m.parse::<u16>().ok()? * 100 + d.parse::<u16>().ok()?))
        .unwrap_or(1231);
    let mut year = (ry / 100) * 100 + yy;
    // An unknown month or day (00) counts as its earliest possible value.
    let md = u16::from(month) * 100 + u16::from(day);
    if year > ry || (year == ry && md > rmd) {
        year -= 100;
    }
    year
}

/// Date parts: year and, for dates of birth, possibly unknown month and day (`00`, `XX`).
struct Parts {
    year: u16,
    month: Option<u8>,
    day: Option<u8>,
}

fn two(s: &str) -> Option<Option<u8>> {
    if s.len() != 2 {
        return None;
    }
    if s == "00" || s.eq_ignore_ascii_case("xx") {
        return Some(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().map(Some)
}

fn four(s: &str) -> Option<u16> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parts(raw: &str, f: DateFormat, birth: Option<Date>) -> Option<Parts> {
    let t = raw.trim();
    let split3 = |t: &str| -> Option<(String, String, String)> {
        let sep = t.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
        let v: Vec<&str> = t.split(sep).collect();
        (v.len() == 3).then(|| (v[0].to_owned(), v[1].to_owned(), v[2].to_owned()))
    };
    match f {
        DateFormat::Iso => {
            let v: Vec<&str> = t.split('-').collect();
            if v.len() != 3 {
                return None;
            }
            Some(Parts {
                year: four(v[0])?,
                month: two(v[1])?,
                day: two(v[2])?,
            })
        }
        DateFormat::DayMonthYear => {
            let (d, m, y) = split3(t)?;
            Some(Parts {
                year: four(&y)?,
                month: two(&m)?,
                day: two(&d)?,
            })
        }
        DateFormat::MonthDayYear => {
            let (m, d, y) = split3(t)?;
            Some(Parts {
                year: four(&y)?,
                month: two(&m)?,
                day: two(&d)?,
            })
        }
        DateFormat::Compact => {
            if t.len() != 8 || !t.is_ascii() {
                return None;
            }
            Some(Parts {
                year: four(&t[0..4])?,
                month: two(&t[4..6])?,
                day: two(&t[6..8])?,
            })
        }
        DateFormat::Short => {
            if t.len() != 6 || !t.is_ascii() {
                return None;
            }
            let yy: u16 = t[0..2].parse().ok()?;
            if !t[0..2].bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let month = two(&t[2..4])?;
            let day = two(&t[4..6])?;
            Some(Parts {
                year: century(yy, month.unwrap_or(0), day.unwrap_or(0), birth),
                month,
                day,
            })
        }
    }
}

fn formats_list(formats: &[DateFormat]) -> String {
    formats
        .iter()
        .map(DateFormat::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A calendar date in one of `rules.date_formats`.
///
/// # Errors
/// No format reads it, or the date does not exist.
pub fn date(raw: &str, rules: &ValueRules) -> Result<Date, InvalidValue> {
    for f in &rules.date_formats {
        if let Some(p) = parts(raw, *f, None) {
            let (Some(m), Some(d)) = (p.month, p.day) else {
                break;
            };
            return Date::parse(&format!("{:04}-{m:02}-{d:02}", p.year)).map_err(|e| {
                InvalidValue::new(raw, "a date", format!("read as {}: {}", f.name(), e.rule))
            });
        }
    }
    Err(InvalidValue::new(
        raw,
        "a date",
        format!("must be written {}", formats_list(&rules.date_formats)),
    ))
}

/// A date of birth in one of `rules.date_formats`, possibly partial (an unknown month or day
/// written `00` or `XX`, or `YYYY` alone); two-digit years are placed by [`century`] relative
/// to `reference`.
///
/// # Errors
/// No format reads it, or the date does not exist.
pub fn birth_date(
    raw: &str,
    rules: &ValueRules,
    reference: Date,
) -> Result<BirthDate, InvalidValue> {
    let t = raw.trim();
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        return BirthDate::parse(t);
    }
    for f in &rules.date_formats {
        if let Some(p) = parts(t, *f, Some(reference)) {
            if p.month.is_some_and(|m| m == 0 || m > 12) || p.day.is_some_and(|d| d == 0 || d > 31)
            {
                return Err(InvalidValue::new(
                    raw,
                    "a date of birth",
                    format!(
                        "read as {}: month {} day {} does not exist",
                        f.name(),
                        p.month.unwrap_or(0),
                        p.day.unwrap_or(0)
                    ),
                ));
            }
            let s = format!(
                "{:04}-{:02}-{:02}",
                p.year,
                p.month.unwrap_or(0),
                p.day.unwrap_or(0)
            );
            return BirthDate::parse(&s).map_err(|e| {
                InvalidValue::new(
                    raw,
                    "a date of birth",
                    format!("read as {}: {}", f.name(), e.rule),
                )
            });
        }
    }
    Err(InvalidValue::new(
        raw,
        "a date of birth",
        format!(
            "must be written {} (an unknown day or month as 00 or XX)",
            formats_list(&rules.date_formats)
        ),
    ))
}

/// A weight in grams: a number with an optional unit (`21500`, `21,500 kg`, `47,6 lb`,
/// `1.2 t`), the decimal separator being `rules.decimal_separator`; the other separator and
/// spaces may group thousands, three digits to a group. A weight without a unit is in
/// `rules.weight_unit`.
///
/// # Errors
/// Not a number, an unknown unit, a separator that does not fit (`1,5` where `.` is the
/// decimal separator: the value is ambiguous and is not guessed), zero, negative or above
/// 1,000,000 kg.
pub fn weight_grams(raw: &str, rules: &ValueRules) -> Result<u64, InvalidValue> {
    weight_with(raw, rules.decimal_separator, rules.weight_unit)
}

/// [`weight_grams`] with an explicit decimal separator and default unit.
///
/// # Errors
/// As [`weight_grams`].
pub fn weight_with(raw: &str, decimal: char, unit: WeightUnit) -> Result<u64, InvalidValue> {
    let t = raw.trim();
    let bad = |rule: String| InvalidValue::new(raw, "a weight", rule);
    let split = t.find(|c: char| c.is_alphabetic()).unwrap_or(t.len());
    let (num, unit_s) = t.split_at(split);
    let unit = match unit_s.trim() {
        "" => unit,
        u => WeightUnit::parse(u).ok_or_else(|| {
            bad(format!(
                "unknown unit {u:?}; one of kg (KGM), lb (LBR), g (GRM), t (TNE)"
            ))
        })?,
    };
    let num = num.trim();
    if num.is_empty() {
        return Err(bad("must be a number, with an optional unit".into()));
    }
    let thousands = if decimal == ',' { '.' } else { ',' };
    let (int_part, frac_part) = match num.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    if frac_part.is_some_and(|f| f.contains(decimal) || f.contains(thousands)) {
        return Err(bad(format!(
            "{decimal:?} is the decimal separator here and may appear once, after any {thousands:?}"
        )));
    }
    let groups: Vec<&str> = int_part
        .split([thousands, ' ', '\u{a0}', '\u{202f}', '\''])
        .collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return Err(bad(format!(
            "{thousands:?} separates thousands here (the decimal separator is {decimal:?}) and \
             must be followed by groups of three digits; a file that writes decimals with \
             {thousands:?} declares it in its mapping (decimal_separator)"
        )));
    }
    let digits: String = groups.concat();
    let frac = frac_part.unwrap_or("");
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || digits.len() > 12
        || frac.len() > 9
    {
        return Err(bad("must be a number, with an optional unit".into()));
    }
    let value: f64 = format!("{digits}.{}", if frac.is_empty() { "0" } else { frac })
        .parse()
        .map_err(|_| bad("must be a number".into()))?;
    let grams = value * unit.grams();
    if !grams.is_finite() || grams < 0.5 {
        return Err(bad("must be more than 0".into()));
    }
    Weight::from_grams(grams.round() as u64)
        .map(|w| w.grams())
        .map_err(|e| bad(e.rule))
}

/// A route: kdesk's names (`sea-container`, `air-cargo`, `express`, `postal`, `ship`,
/// `port-entrant`), the file's own words (`rules.routes`), or the common carrier words
/// ([`ROUTE_WORDS`]: `SEA`, `FCL`, `AIR`, `COURIER`, `EMS`, ...).
///
/// # Errors
/// None of those.
pub fn route(raw: &str, rules: &ValueRules) -> Result<CargoRoute, InvalidValue> {
    if let Ok(r) = CargoRoute::parse(raw.trim()) {
        return Ok(r);
    }
    let up = raw.trim().to_uppercase();
    if let Some(r) = rules.routes.get(&up) {
        return Ok(*r);
    }
    if let Some((_, r)) = ROUTE_WORDS.iter().find(|(w, _)| *w == up) {
        return Ok(*r);
    }
    Err(InvalidValue::new(
        raw,
        "a route",
        "one of sea-container, air-cargo, express, postal, ship, port-entrant, or a carrier \
         word (SEA, FCL, LCL, AIR, EXP, COURIER, POST, EMS, ...; a mapping may add more)",
    ))
}

/// A country as an ISO 3166-1 alpha-2 or alpha-3 code.
///
/// # Errors
/// Not an assigned code.
pub fn country(raw: &str) -> Result<CountryCode, InvalidValue> {
    CountryCode::parse_alpha2_or_3(raw)
}

/// A B/L or other transport document number: 4-35 letters and digits after spaces and dashes
/// are dropped.
///
/// # Errors
/// Length or characters out of range.
pub fn document_reference(raw: &str) -> Result<String, InvalidValue> {
    DocumentReference::parse(raw).map(String::from)
}

/// Whether a transport document number looks like an air waybill: 11 digits once spaces and
/// dashes are dropped (3-digit airline prefix and 8-digit serial).
pub fn looks_like_air_waybill(raw: &str) -> bool {
    let v = crate::model::compact_upper(raw);
    v.len() == 11 && v.bytes().all(|b| b.is_ascii_digit())
}

/// An air waybill number, its mod-7 check digit verified.
///
/// # Errors
/// Not 11 digits, or a wrong check digit.
pub fn air_waybill(raw: &str) -> Result<AirWaybill, InvalidValue> {
    AirWaybill::parse(raw)
}

/// Free text: at most `max` characters; line breaks and tabs become spaces; any other control
/// character, and every invisible format character (bidi controls, zero-width characters,
/// Unicode category Cf), is refused with the value shown escaped: the rule of record text
/// ([`crate::model::check_visible`]), so what is screened is what an officer reads.
///
/// # Errors
/// Too long, or a hidden character.
pub fn text(raw: &str, max: usize) -> Result<String, InvalidValue> {
    let owned;
    let v = if raw.contains(['\n', '\r', '\t']) {
        owned = raw.replace(['\n', '\r', '\t'], " ");
        owned.trim()
    } else {
        raw.trim()
    };
    if v.chars().count() > max {
        return Err(InvalidValue::new(
            v,
            "acceptable text",
            format!("longer than {max} characters"),
        ));
    }
    crate::model::check_visible(v).map_err(|rule| InvalidValue::new(v, "acceptable text", rule))?;
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn dates_in_declared_formats() {
        let r = ValueRules::kdesk();
        for (raw, want) in [
            ("2026-12-20", "2026-12-20"),
            ("20261220", "2026-12-20"),
            ("20/12/2026", "2026-12-20"),
            ("20.12.2026", "2026-12-20"),
            (" 02/01/2026 ", "2026-01-02"),
        ] {
            assert_eq!(date(raw, &r).unwrap().to_string(), want, "{raw}");
        }
        for bad in [
            "12/20/2026",
            "2026-02-30",
            "20-12-26",
            "yesterday",
            "2026/12/20",
        ] {
            assert!(date(bad, &r).is_err(), "{bad}");
        }
        let e = date("12/20/2026", &r).unwrap_err().to_string();
        assert!(e.contains("DD/MM/YYYY"), "{e}");
        let us = ValueRules {
            date_formats: vec![DateFormat::MonthDayYear],
            ..ValueRules::kdesk()
        };
        assert_eq!(date("12/20/2026", &us).unwrap().to_string(), "2026-12-20");
        let short = ValueRules {
            date_formats: vec![DateFormat::Short],
            ..ValueRules::kdesk()
        };
        assert_eq!(date("261220", &short).unwrap().to_string(), "2026-12-20");
    }

    #[test]
    fn two_digit_years_of_birth_are_never_in_the_future() {
        let flight = d("2026-12-02");
        assert_eq!(century(64, 2, 17, Some(flight)), 1964);
        assert_eq!(century(25, 1, 1, Some(flight)), 2025);
        assert_eq!(century(26, 12, 1, Some(flight)), 2026);
        assert_eq!(century(26, 12, 3, Some(flight)), 1926);
        assert_eq!(century(27, 1, 1, Some(flight)), 1927);
        assert_eq!(century(30, 6, 1, None), 2030, "other dates: 20YY");
        let short = ValueRules {
            date_formats: vec![DateFormat::Short],
            ..ValueRules::kdesk()
        };
        let b = birth_date("880000", &short, flight).unwrap();
        assert_eq!(b.to_string(), "1988-00-00");
        assert_eq!(
            birth_date("1985", &ValueRules::kdesk(), flight)
                .unwrap()
                .to_string(),
            "1985-00-00"
        );
        assert_eq!(
            birth_date("00/07/1985", &ValueRules::kdesk(), flight)
                .unwrap()
                .to_string(),
            "1985-07-00"
        );
        assert!(birth_date("31/02/1985", &ValueRules::kdesk(), flight).is_err());
    }

    #[test]
    fn weights_with_units_and_separators() {
        let dot = ValueRules::kdesk();
        let comma = ValueRules {
            decimal_separator: ',',
            ..ValueRules::kdesk()
        };
        for (raw, rules, grams) in [
            ("21500", &dot, 21_500_000),
            ("21,500", &dot, 21_500_000),
            ("21,500", &comma, 21_500),
            ("1,5", &comma, 1_500),
            ("21500 KG", &dot, 21_500_000),
            ("21500KGM", &dot, 21_500_000),
            ("47,6 lb", &comma, 21_591),
            ("47.6 LBS", &dot, 21_591),
            ("1.234.567,5 g", &comma, 1_234_568),
            ("2.4", &dot, 2_400),
            ("1 250,5 kg", &comma, 1_250_500),
            ("1.2 t", &dot, 1_200_000),
        ] {
            assert_eq!(weight_grams(raw, rules).unwrap(), grams, "{raw}");
        }
        for (raw, rules) in [
            ("1,5", &dot),
            ("21,50", &dot),
            ("1.5.2", &dot),
            ("abc", &dot),
            ("12 stone", &dot),
            ("0", &dot),
            ("-5", &dot),
            ("2000000 t", &dot),
            ("kg", &dot),
        ] {
            assert!(weight_grams(raw, rules).is_err(), "{raw}");
        }
        let e = weight_grams("1,5", &dot).unwrap_err().to_string();
        assert!(e.contains("decimal_separator"), "{e}");
    }

    #[test]
    fn routes_and_countries() {
        let r = ValueRules::kdesk();
        for (w, want) in [
            ("SEA", CargoRoute::SeaContainer),
            ("fcl", CargoRoute::SeaContainer),
            ("AIR", CargoRoute::AirCargo),
            ("Courier", CargoRoute::Express),
            ("EMS", CargoRoute::Postal),
            ("express", CargoRoute::Express),
        ] {
            assert_eq!(route(w, &r).unwrap(), want, "{w}");
        }
        assert!(route("TRUCK", &r).is_err());
        let mut own = ValueRules::kdesk();
        own.routes.insert("TRUCK".into(), CargoRoute::Express);
        assert_eq!(route("truck", &own).unwrap(), CargoRoute::Express);
        assert_eq!(country("KOR").unwrap().as_str(), "KR");
        assert_eq!(country("th").unwrap().as_str(), "TH");
        assert!(looks_like_air_waybill("180-8341 0224"));
        assert!(!looks_like_air_waybill("MEDUEC12345678"));
        assert!(air_waybill("180-83410225").is_err());
    }
}
