//! Identifier types that cannot hold invalid values.
//!
//! Every type here is built only through its `parse` function, which first normalises the
//! input the way officers type it (case, spaces, dashes, dots) and then checks the rule of the
//! standard it comes from, including check digits. A value that exists is therefore valid;
//! code downstream never re-checks. Errors say what the value is not and which rule failed,
//! and [`crate::model::FieldError`] adds the field name.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// Upper-cases and removes spaces, dashes and dots: `"csqu 305438-3"` → `"CSQU3054383"`.
pub fn compact_upper(raw: &str) -> String {
    // Fast path (most values): ASCII with nothing to drop, upper-cased byte by byte.
    if raw.is_ascii() && !raw.bytes().any(|b| matches!(b, b' ' | b'-' | b'.' | b'\t')) {
        return raw.to_ascii_uppercase();
    }
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '\t'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Implements the traits shared by every string identifier: `Display`, `FromStr`, `AsRef`,
/// serde as a plain string (deserialising through `parse`), `TryFrom<String>`.
macro_rules! string_id {
    ($name:ident) => {
        impl $name {
            /// The normalised value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// ISO 3166-1 alpha-2

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted.
pub(crate) const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An officially assigned ISO 3166-1 alpha-2 country code ("KR", "TH", "NL").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code, accepting lower case and surrounding spaces.
    ///
    /// # Errors
    /// When the value is not two letters or not an assigned ISO 3166-1 code.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        // Fast path: exactly two ASCII letters, no allocation.
        if let [a, b] = *raw.as_bytes() {
            if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() {
                let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
                let s = std::str::from_utf8(&code).unwrap_or("");
                if ISO_3166_ALPHA2.binary_search(&s).is_ok() {
                    return Ok(Self(code));
                }
            }
        }
        let v = compact_upper(raw);
        let bad = |rule: &str| InvalidValue::new(raw, "an ISO 3166-1 alpha-2 country code", rule);
        if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("must be two letters"));
        }
        if ISO_3166_ALPHA2.binary_search(&v.as_str()).is_err() {
            return Err(bad("not an assigned ISO 3166-1 code"));
        }
        let b = v.as_bytes();
        Ok(Self([b[0], b[1]]))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        // Invariant: built only from two ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The two ASCII bytes, for storage keys.
    pub fn bytes(&self) -> [u8; 2] {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}
impl std::str::FromStr for CountryCode {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::parse(s)
    }
}
impl TryFrom<String> for CountryCode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<CountryCode> for String {
    fn from(v: CountryCode) -> String {
        v.as_str().to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// ISO 6346 container numbers

/// ISO 6346 letter values: A=10 and onwards, skipping multiples of 11 (11, 22, 33).
fn iso6346_letter_value(c: u8) -> u32 {
    let mut v = 10;
    let mut letter = b'A';
    loop {
        if v % 11 == 0 {
            v += 1;
            continue;
        }
        if letter == c {
            return v;
        }
        letter += 1;
        v += 1;
    }
}

/// An ISO 6346 freight container number: owner code (3 letters), category identifier
/// (U, J or Z), 6-digit serial number and check digit, e.g. `CSQU3054383`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerNumber(String);
string_id!(ContainerNumber);

impl ContainerNumber {
    /// Parses `"CSQU 305438-3"`, `"csqu3054383"` and the like.
    ///
    /// # Errors
    /// Wrong shape, unknown category identifier or wrong check digit.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "an ISO 6346 container number", rule);
        let b = v.as_bytes();
        if b.len() != 11 {
            return Err(bad(format!(
                "must be 4 letters, 6 digits and a check digit (11 characters), got {}",
                b.len()
            )));
        }
        if !b[..4].iter().all(u8::is_ascii_uppercase) || !b[4..].iter().all(u8::is_ascii_digit) {
            return Err(bad("must be 4 letters followed by 7 digits".into()));
        }
        if !matches!(b[3], b'U' | b'J' | b'Z') {
            return Err(bad(format!(
                "category identifier (4th letter) must be U, J or Z, got {}",
                b[3] as char
            )));
        }
        let sum: u32 = b[..10]
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let val = if c.is_ascii_digit() {
                    u32::from(c - b'0')
                } else {
                    iso6346_letter_value(c)
                };
                val << i
            })
            .sum();
        let check = (sum % 11) % 10;
        let given = u32::from(b[10] - b'0');
        if check != given {
            return Err(bad(format!("check digit is {given}, computed {check}")));
        }
        Ok(Self(v))
    }
}

// ---------------------------------------------------------------------------------------------
// UPU S10 postal item identifiers

/// A UPU S10 item identifier: 2-letter service indicator, 8-digit serial number, check
/// digit and the ISO 3166-1 code of the issuing postal operator, e.g. `AA473124829GB`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalItemId(String);
string_id!(PostalItemId);

impl PostalItemId {
    /// Parses an S10 identifier, accepting spaces and lower case.
    ///
    /// # Errors
    /// Wrong shape, wrong check digit or unknown country code.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "a UPU S10 postal item id", rule);
        let b = v.as_bytes();
        if b.len() != 13
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..11].iter().all(u8::is_ascii_digit)
            || !b[11..].iter().all(u8::is_ascii_uppercase)
        {
            return Err(bad(
                "must be 2 letters, 8 digits, a check digit and a 2-letter country code".into(),
            ));
        }
        const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
        let sum: u32 = b[2..10]
            .iter()
            .zip(WEIGHTS)
            .map(|(&c, w)| u32::from(c - b'0') * w)
            .sum();
        let check = match 11 - sum % 11 {
            10 => 0,
            11 => 5,
            c => c,
        };
        let given = u32::from(b[10] - b'0');
        if check != given {
            return Err(bad(format!("check digit is {given}, computed {check}")));
        }
        CountryCode::parse(&v[11..])
            .map_err(|_| bad(format!("{} is not an ISO 3166-1 country code", &v[11..])))?;
        Ok(Self(v))
    }
}

// ---------------------------------------------------------------------------------------------
// IATA air waybill numbers

/// An IATA air waybill number: 3-digit airline prefix and 8-digit serial whose last digit is
/// the first seven digits modulo 7, e.g. `180-12345675` (stored as `18012345675`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AirWaybill(String);
string_id!(AirWaybill);

impl AirWaybill {
    /// Parses `"180-1234 5675"` and the like.
    ///
    /// # Errors
    /// Not 11 digits, or wrong mod-7 check digit.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "an IATA air waybill number", rule);
        if v.len() != 11 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "must be 11 digits: 3-digit airline prefix and 8-digit serial number".into(),
            ));
        }
        // Both slices are ASCII digits (checked above), so the parses cannot fail.
        let serial7: u64 = v[3..10].parse().map_err(|_| bad("not digits".into()))?;
        let given: u64 = v[10..].parse().map_err(|_| bad("not digits".into()))?;
        let check = serial7 % 7;
        if check != given {
            return Err(bad(format!(
                "check digit is {given}, computed {check} (serial {serial7} mod 7)"
            )));
        }
        Ok(Self(v))
    }
}

// ---------------------------------------------------------------------------------------------
// IMO ship identification numbers

/// An IMO ship identification number: seven digits, the last a check digit over the first
/// six weighted 7..2, e.g. `9074729` (written "IMO 9074729").
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImoNumber(String);
string_id!(ImoNumber);

impl ImoNumber {
    /// Parses `"IMO 9074729"` or `"9074729"`.
    ///
    /// # Errors
    /// Not seven digits, or wrong check digit.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let mut v = compact_upper(raw);
        if let Some(rest) = v.strip_prefix("IMO") {
            v = rest.to_owned();
        }
        let bad = |rule: String| InvalidValue::new(raw, "an IMO ship number", rule);
        let b = v.as_bytes();
        if b.len() != 7 || !b.iter().all(u8::is_ascii_digit) {
            return Err(bad("must be 7 digits (optionally prefixed by IMO)".into()));
        }
        let sum: u32 = b[..6]
            .iter()
            .zip([7u32, 6, 5, 4, 3, 2])
            .map(|(&c, w)| u32::from(c - b'0') * w)
            .sum();
        let check = sum % 10;
        let given = u32::from(b[6] - b'0');
        if check != given {
            return Err(bad(format!("check digit is {given}, computed {check}")));
        }
        Ok(Self(v))
    }
}

// ---------------------------------------------------------------------------------------------
// ICAO 9303 travel document numbers

/// ICAO 9303 check digit: weights 7, 3, 1 repeating; digits count as themselves, A-Z as
/// 10-35 and the filler `<` as 0.
pub fn icao9303_check_digit(field: &str) -> Option<u32> {
    let mut sum = 0u32;
    for (i, c) in field.bytes().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(sum % 10)
}

/// A travel document number as in ICAO 9303 machine-readable zones: 1-9 of `[A-Z0-9]`.
///
/// Accepted either bare (`"L898902C3"`) or in MRZ form: the 9-character field padded with `<`
/// followed by its check digit (`"L898902C36"`), in which case the check digit is verified and
/// the fillers removed.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentNumber(String);
string_id!(DocumentNumber);

impl DocumentNumber {
    /// Parses a document number, verifying the ICAO 9303 check digit when given.
    ///
    /// # Errors
    /// Characters outside `[A-Z0-9<]`, more than 9 characters, or a wrong check digit.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "an ICAO 9303 document number", rule);
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'<') {
            return Err(bad("must be 1-9 of A-Z, 0-9 (MRZ filler < allowed)".into()));
        }
        let number = match v.len() {
            1..=9 => v,
            10 => {
                let (field, check) = v.split_at(9);
                let given = check
                    .parse::<u32>()
                    .map_err(|_| bad("10th character must be the check digit".into()))?;
                let computed = icao9303_check_digit(field)
                    .ok_or_else(|| bad("invalid character in MRZ field".into()))?;
                if computed != given {
                    return Err(bad(format!(
                        "ICAO 9303 check digit is {given}, computed {computed}"
                    )));
                }
                field.to_owned()
            }
            n => {
                return Err(bad(format!(
                    "must be at most 9 characters, or 10 in MRZ form with check digit; got {n}"
                )))
            }
        };
        let number = number.trim_end_matches('<').to_owned();
        if number.is_empty() || number.contains('<') {
            return Err(bad("filler < may only pad the end of the number".into()));
        }
        Ok(Self(number))
    }
}

// ---------------------------------------------------------------------------------------------
// Harmonized System codes

/// A Harmonized System code of 2 to 10 digits (even length): chapter, heading, subheading and
/// national subdivisions, e.g. `293971` (methamphetamine and its salts, HS 2939.71).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HsCode(String);
string_id!(HsCode);

impl HsCode {
    /// Parses `"2939.71"`, `"2939 71"`, `"293971"`.
    ///
    /// # Errors
    /// Not 2, 4, 6, 8 or 10 digits, or not an HS chapter (01-97, 77 reserved).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "an HS code", rule);
        if !(2..=10).contains(&v.len())
            || v.len() % 2 != 0
            || !v.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("must be 2, 4, 6, 8 or 10 digits".into()));
        }
        let chapter: u32 = v[..2].parse().map_err(|_| bad("not digits".into()))?;
        if !(1..=97).contains(&chapter) || chapter == 77 {
            return Err(bad(format!(
                "chapter {chapter:02} does not exist (01-97, 77 is reserved)"
            )));
        }
        Ok(Self(v))
    }

    /// The HS chapter (first two digits).
    pub fn chapter(&self) -> &str {
        &self.0[..2]
    }
}

// ---------------------------------------------------------------------------------------------
// UN/LOCODE

/// A UN/LOCODE location: ISO 3166-1 country and a 3-character location code of `[A-Z2-9]`,
/// e.g. `KRPUS` (Busan), `THBKK` (Bangkok). Written with or without the space.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnLocode(String);
string_id!(UnLocode);

impl UnLocode {
    /// Parses `"KR PUS"` or `"krpus"`.
    ///
    /// # Errors
    /// Wrong length, characters outside `[A-Z2-9]`, or an unknown country.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = compact_upper(raw);
        let bad = |rule: String| InvalidValue::new(raw, "a UN/LOCODE", rule);
        if v.len() != 5 || !v.is_ascii() {
            return Err(bad(
                "must be a 2-letter country code and a 3-character location code".into(),
            ));
        }
        CountryCode::parse(&v[..2])
            .map_err(|_| bad(format!("{} is not an ISO 3166-1 country code", &v[..2])))?;
        if !v[2..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'9').contains(&b))
        {
            return Err(bad("location code must be 3 of A-Z and 2-9".into()));
        }
        Ok(Self(v))
    }

    /// The country the location is in.
    pub fn country(&self) -> CountryCode {
        // Invariant: checked in `parse`.
        CountryCode::parse(&self.0[..2]).unwrap_or(CountryCode(*b"ZZ"))
    }
}

// ---------------------------------------------------------------------------------------------
// Other transport identifiers

fn alnum_id(raw: &str, what: &'static str, min: usize, max: usize) -> Result<String, InvalidValue> {
    let v = compact_upper(raw);
    if !(min..=max).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(InvalidValue::new(
            raw,
            what,
            format!("must be {min}-{max} of A-Z, 0-9 (spaces and dashes are ignored)"),
        ));
    }
    Ok(v)
}

/// A bill of lading (master or house) or house air waybill number: 4-35 of `[A-Z0-9]`, the
/// UN/EDIFACT document number length; usually a carrier SCAC prefix and a serial.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentReference(String);
string_id!(DocumentReference);

impl DocumentReference {
    /// # Errors
    /// Length or characters out of range.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        alnum_id(raw, "a transport document number", 4, 35).map(Self)
    }
}

/// An express carrier tracking number: 6-40 of `[A-Z0-9]` (carrier formats differ).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber(String);
string_id!(TrackingNumber);

impl TrackingNumber {
    /// # Errors
    /// Length or characters out of range.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        alnum_id(raw, "an express tracking number", 6, 40).map(Self)
    }
}

/// A flight number (IATA airline designator and 1-4 digits, optional suffix, e.g. `KE652`)
/// or a voyage number (2-17 of `[A-Z0-9]`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FlightOrVoyage(String);
string_id!(FlightOrVoyage);

impl FlightOrVoyage {
    /// # Errors
    /// Length or characters out of range.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        alnum_id(raw, "a flight or voyage number", 2, 17).map(Self)
    }
}

// ---------------------------------------------------------------------------------------------
// Node names

/// The name of a node within its country: 1-32 of `[a-z0-9-]`, starting with a letter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeName(String);
string_id!(NodeName);

impl NodeName {
    /// # Errors
    /// Empty, too long, or characters outside `[a-z0-9-]`, or not starting with a letter.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = raw.trim();
        let ok = (1..=32).contains(&v.len())
            && v.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(InvalidValue::new(
                raw,
                "a node name",
                "must be 1-32 of a-z, 0-9 and '-', starting with a letter",
            ));
        }
        Ok(Self(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes() {
        assert_eq!(ISO_3166_ALPHA2.len(), 249);
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]), "sorted");
        for ok in [
            "KR", "th", " vn ", "MY", "US", "NL", "KH", "LA", "CA", "DE", "FR",
        ] {
            CountryCode::parse(ok).unwrap();
        }
        for bad in ["", "K", "KOR", "UK", "EU", "XK", "ZZ", "K1", "한국"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(CountryCode::parse("kr").unwrap().as_str(), "KR");
    }

    #[test]
    fn iso6346_examples_from_the_standard() {
        // ISO 6346 Annex A worked example, and widely published real numbers.
        for ok in [
            "CSQU3054383",
            "csqu 305438 3",
            "CSQU-305438-3",
            "MSKU9070323",
            "TGHU8967709",
        ] {
            assert!(ContainerNumber::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            ContainerNumber::parse("csqu 305438-3").unwrap().as_str(),
            "CSQU3054383"
        );
        // Off by one in the check digit, and one serial digit changed.
        let e = ContainerNumber::parse("CSQU3054384").unwrap_err();
        assert!(e.rule.contains("check digit is 4, computed 3"), "{e}");
        assert!(ContainerNumber::parse("CSQU3054393").is_err());
        assert!(ContainerNumber::parse("CSQX3054383").is_err(), "category X");
        assert!(ContainerNumber::parse("CSQU305438").is_err(), "too short");
        assert!(ContainerNumber::parse("CSQU30543833").is_err(), "too long");
    }

    #[test]
    fn iso6346_letter_values_skip_multiples_of_eleven() {
        assert_eq!(iso6346_letter_value(b'A'), 10);
        assert_eq!(iso6346_letter_value(b'B'), 12);
        assert_eq!(iso6346_letter_value(b'K'), 21);
        assert_eq!(iso6346_letter_value(b'L'), 23);
        assert_eq!(iso6346_letter_value(b'U'), 32);
        assert_eq!(iso6346_letter_value(b'V'), 34);
        assert_eq!(iso6346_letter_value(b'Z'), 38);
    }

    #[test]
    fn upu_s10_examples() {
        // UPU S10 standard example.
        assert_eq!(
            PostalItemId::parse("aa 473 124 829 gb").unwrap().as_str(),
            "AA473124829GB"
        );
        PostalItemId::parse("RR123456785TH").unwrap();
        let e = PostalItemId::parse("AA473124828GB").unwrap_err();
        assert!(e.rule.contains("computed 9"), "{e}");
        assert!(
            PostalItemId::parse("AA473124829ZZ").is_err(),
            "unknown country"
        );
        assert!(PostalItemId::parse("AA47312482GB").is_err(), "short");
    }

    #[test]
    fn upu_s10_special_remainders() {
        // Serial 00000001: sum = 1*7 = 7, 11 - 7 = 4.
        assert!(PostalItemId::parse("EE000000014KR").is_ok());
        // Serial 00000000: sum = 0, 11 - 0 = 11 -> 5.
        assert!(PostalItemId::parse("EE000000005KR").is_ok());
        assert!(PostalItemId::parse("EE000000000KR").is_err());
        // Serial 00300000: sum = 3*4 = 12, remainder 1, 11 - 1 = 10 -> 0.
        assert!(PostalItemId::parse("EE003000000KR").is_ok());
        // Serial 10000000: sum = 1*8 = 8, 11 - 8 = 3.
        assert!(PostalItemId::parse("EE100000003KR").is_ok());
    }

    #[test]
    fn iata_awb_mod7() {
        assert_eq!(
            AirWaybill::parse("180-1234 5675").unwrap().as_str(),
            "18012345675"
        );
        let e = AirWaybill::parse("180-12345676").unwrap_err();
        assert!(e.rule.contains("computed 5"), "{e}");
        assert!(AirWaybill::parse("180-1234567").is_err(), "short");
        assert!(AirWaybill::parse("18O-12345675").is_err(), "letter O");
        // 7-digit serial divisible by 7 gives check digit 0.
        AirWaybill::parse("020-70000000").unwrap();
    }

    #[test]
    fn imo_numbers() {
        // IMO Resolution A.1078(28) example: IMO 9074729.
        assert_eq!(ImoNumber::parse("IMO 9074729").unwrap().as_str(), "9074729");
        ImoNumber::parse("9074729").unwrap();
        let e = ImoNumber::parse("IMO 9074728").unwrap_err();
        assert!(e.rule.contains("computed 9"), "{e}");
        assert!(ImoNumber::parse("907472").is_err());
    }

    #[test]
    fn icao9303_document_numbers() {
        // ICAO Doc 9303 Part 4 specimen (Utopia passport): L898902C3, check digit 6.
        assert_eq!(icao9303_check_digit("L898902C3"), Some(6));
        assert_eq!(
            DocumentNumber::parse("L898902C3").unwrap().as_str(),
            "L898902C3"
        );
        assert_eq!(
            DocumentNumber::parse("L898902C36").unwrap().as_str(),
            "L898902C3"
        );
        let e = DocumentNumber::parse("L898902C37").unwrap_err();
        assert!(e.rule.contains("computed 6"), "{e}");
        // Part 5 TD1 specimen: D23145890, check digit 7; shorter numbers are padded with '<'.
        assert_eq!(icao9303_check_digit("D23145890"), Some(7));
        let padded = format!("AB12345<<{}", icao9303_check_digit("AB12345<<").unwrap());
        assert_eq!(DocumentNumber::parse(&padded).unwrap().as_str(), "AB12345");
        assert!(DocumentNumber::parse("AB<12345").is_err(), "inner filler");
        assert!(DocumentNumber::parse("L898902C3XYZ").is_err(), "too long");
        assert!(DocumentNumber::parse("L8989/02").is_err(), "bad char");
    }

    #[test]
    fn hs_codes() {
        assert_eq!(HsCode::parse("2939.71").unwrap().as_str(), "293971");
        HsCode::parse("12").unwrap();
        HsCode::parse("3004.90.1000").unwrap();
        assert!(HsCode::parse("2939.7").is_err(), "odd length");
        assert!(HsCode::parse("7701").is_err(), "chapter 77 reserved");
        assert!(HsCode::parse("9801").is_err(), "chapter 98 is national");
        assert!(HsCode::parse("00").is_err());
    }

    #[test]
    fn unlocodes() {
        assert_eq!(UnLocode::parse("KR PUS").unwrap().as_str(), "KRPUS");
        assert_eq!(UnLocode::parse("thbkk").unwrap().country().as_str(), "TH");
        assert!(UnLocode::parse("ZZPUS").is_err());
        assert!(
            UnLocode::parse("KRPU1").is_err(),
            "digits 0 and 1 are not used"
        );
        assert!(UnLocode::parse("KRPUSX").is_err());
    }

    #[test]
    fn node_names() {
        NodeName::parse("seoul").unwrap();
        NodeName::parse("icn-cargo-2").unwrap();
        assert!(NodeName::parse("Seoul").is_err());
        assert!(NodeName::parse("2seoul").is_err());
        assert!(NodeName::parse("").is_err());
        assert!(NodeName::parse(&"a".repeat(33)).is_err());
    }
}
