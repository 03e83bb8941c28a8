//! Intelligence items: information a desk holds locally that is not (yet) an alert, with the
//! source it came from and its grading (docs/INTEL.md).
//!
//! - [`Grading`]: source reliability A-F and information credibility 1-6 (the Admiralty
//!   scales), and a handling code H1-H5 saying who may receive the information;
//! - [`Source`]: a registered source (an agency, a carrier, a platform, an informant
//!   reference) with its [`SourceId`];
//! - [`IntelItem`]: a subject (the alert subject types, so screening can match it), selectors
//!   that manifests do not carry (phones, e-mail addresses, payment accounts), substances,
//!   grading, validity and links to other items. Parsed from JSON by [`IntelItem::from_json`]
//!   with every field checked.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::alert::{check_subject, split_inner_field, strip_serde_position};
use super::{FieldError, InvalidValue, Note, ShortText, Subject, Substance, Title, Validity};

/// Defines a one-character graded scale with its meanings.
macro_rules! scale {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $var:ident = $s:literal, $meaning:literal;)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum $name {
            $($(#[$vm])* $var,)+
        }
        impl $name {
            /// Every grade, best first.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The code (`A`, `2`, `H3`).
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$var => $s,)+ }
            }
            /// The standard meaning of the grade.
            pub fn meaning(&self) -> &'static str {
                match self { $($name::$var => $meaning,)+ }
            }
            /// Parses the code (case-insensitive).
            ///
            /// # Errors
            /// Not one of the codes.
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                let t = raw.trim().to_ascii_uppercase();
                Self::ALL.iter().copied().find(|v| v.as_str() == t).ok_or_else(|| {
                    InvalidValue::new(raw, $what, format!("must be one of {}",
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")))
                })
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
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
                v.as_str().to_owned()
            }
        }
    };
}

scale! {
    /// How reliable the source has proved (Admiralty scale, A-F).
    Reliability, "a source reliability grade" {
        /// No doubt of authenticity, trustworthiness or competency; a history of complete
        /// reliability.
        A = "A", "completely reliable";
        /// Minor doubt; a history of valid information most of the time.
        B = "B", "usually reliable";
        /// Doubt; provided valid information in the past.
        C = "C", "fairly reliable";
        /// Significant doubt; provided valid information in the past.
        D = "D", "not usually reliable";
        /// Lacking authenticity, trustworthiness and competency; a history of invalid
        /// information.
        E = "E", "unreliable";
        /// Insufficient information to evaluate reliability.
        F = "F", "reliability cannot be judged";
    }
}

scale! {
    /// How credible this piece of information is (Admiralty scale, 1-6).
    Credibility, "an information credibility grade" {
        /// Confirmed by other independent sources; logical in itself; consistent with other
        /// information on the subject.
        Confirmed = "1", "confirmed by other sources";
        /// Not confirmed; logical in itself; consistent with other information.
        ProbablyTrue = "2", "probably true";
        /// Not confirmed; reasonably logical; agrees with some other information.
        PossiblyTrue = "3", "possibly true";
        /// Not confirmed; possible but not logical; no other information on the subject.
        DoubtfullyTrue = "4", "doubtful";
        /// Not confirmed; not logical in itself; contradicted by other information.
        Improbable = "5", "improbable";
        /// No basis exists for evaluating the validity of the information.
        CannotBeJudged = "6", "truth cannot be judged";
    }
}

scale! {
    /// Who may receive the information (handling code, after the 5x5x5 model).
    HandlingCode, "a handling code" {
        /// May be shared with law-enforcement and prosecuting agencies, national and foreign.
        H1 = "H1", "may be shared with law-enforcement agencies, national and foreign";
        /// May be shared with national non-prosecuting government bodies.
        H2 = "H2", "may be shared with national government bodies";
        /// May be shared with foreign law-enforcement agencies only under conditions the
        /// officer sets (a distribution and a TLP label).
        H3 = "H3", "may be shared abroad under the conditions the officer sets";
        /// Stays within the receiving agency.
        H4 = "H4", "stays within this agency";
        /// No further dissemination: refer to the originator.
        H5 = "H5", "no further dissemination: refer to the source";
    }
}

impl HandlingCode {
    /// Whether an item with this code may become an alert shared with partner desks.
    pub fn may_be_shared_abroad(&self) -> bool {
        matches!(self, Self::H1 | Self::H3)
    }
}

/// The grading of one item: source reliability, information credibility, handling code.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    /// Source reliability, A-F.
    pub reliability: Reliability,
    /// Information credibility, 1-6.
    pub credibility: Credibility,
    /// Handling code, H1-H5.
    pub handling: HandlingCode,
}

impl Grading {
    /// Parses the short form `B2 H3` (or `B2/H3`, `b2,h3`).
    ///
    /// # Errors
    /// Not a letter A-F, a digit 1-6 and a handling code H1-H5.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '/' | ',' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = || {
            InvalidValue::new(
                raw,
                "a grading",
                "write source reliability A-F, credibility 1-6 and handling H1-H5, e.g. B2 H3",
            )
        };
        if t.len() != 4 || !t.is_ascii() {
            return Err(bad());
        }
        Ok(Self {
            reliability: Reliability::parse(&t[0..1]).map_err(|_| bad())?,
            credibility: Credibility::parse(&t[1..2]).map_err(|_| bad())?,
            handling: HandlingCode::parse(&t[2..4]).map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for Grading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{} {}",
            self.reliability, self.credibility, self.handling
        )
    }
}

/// A source's identifier: 1-64 of a-z, 0-9, `-`, `_`, `.`, starting with a letter or digit
/// (`police-kr`, `carrier-dhl`). Never shown to partners.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceId(String);

impl SourceId {
    /// # Errors
    /// Empty, too long, upper case or another character.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(
                raw,
                "a source id",
                "1-64 of a-z, 0-9, '-', '_', '.', starting with a letter or digit",
            ))
        }
    }
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for SourceId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<SourceId> for String {
    fn from(v: SourceId) -> String {
        v.0
    }
}

/// What kind of body a source is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A domestic enforcement agency (police, prosecutors, coast guard, food and drug
    /// authority).
    Agency,
    /// An airline, express carrier or postal operator.
    Carrier,
    /// A chemical distributor reporting precursor orders.
    Distributor,
    /// An online platform or marketplace.
    Platform,
    /// A human source, known only by its handler's reference.
    Informant,
    /// An external threat-intelligence platform (MISP, OpenCTI) feeding STIX bundles.
    Feed,
    /// Anything else.
    Other,
}

impl SourceKind {
    /// Every kind.
    pub const ALL: &'static [SourceKind] = &[
        Self::Agency,
        Self::Carrier,
        Self::Distributor,
        Self::Platform,
        Self::Informant,
        Self::Feed,
        Self::Other,
    ];
    /// The name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Carrier => "carrier",
            Self::Distributor => "distributor",
            Self::Platform => "platform",
            Self::Informant => "informant",
            Self::Feed => "feed",
            Self::Other => "other",
        }
    }
    /// Parses the name.
    ///
    /// # Errors
    /// Not one of the kinds.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t = raw.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                InvalidValue::new(
                    raw,
                    "a source kind",
                    format!(
                        "must be one of {}",
                        Self::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }
}

/// A registered source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Its id.
    pub id: SourceId,
    /// What it is.
    pub kind: SourceKind,
    /// Its name (an agency, a company; for an informant, a cover name).
    pub name: ShortText,
    /// The handler's reference (informants) or the agreement under which it reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
    /// The reliability its items get when they do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_reliability: Option<Reliability>,
}

/// At most this many selectors of each kind per item.
pub const MAX_SELECTORS: usize = 16;
/// At most this many links per item.
pub const MAX_LINKS: usize = 32;

/// A telephone number: `+`, then 7-15 digits (E.164); spaces, dashes, dots and brackets are
/// dropped.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// # Errors
    /// Not `+` and 7-15 digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = t.strip_prefix('+').unwrap_or("");
        if (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(t))
        } else {
            Err(InvalidValue::new(
                raw,
                "a telephone number",
                "write it in E.164 form: '+', the country code and the number, 7-15 digits",
            ))
        }
    }
    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: `local@domain`, the domain with a dot; kept in lower case.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// # Errors
    /// Not `local@domain.tld`, spaces, or longer than 254 characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t = raw.trim().to_lowercase();
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            && t.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty()
                    && !d.contains('@')
                    && d.contains('.')
                    && !d.starts_with('.')
                    && !d.ends_with('.')
            });
        if ok {
            Ok(Self(t))
        } else {
            Err(InvalidValue::new(
                raw,
                "an e-mail address",
                "local@domain.tld, at most 254 characters, no spaces",
            ))
        }
    }
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A payment account: an IBAN, a card-free account number or a wallet address; 4-64 of A-Z,
/// 0-9 (spaces and dashes dropped, letters upper-cased).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentAccount(String);

impl PaymentAccount {
    /// # Errors
    /// Shorter than 4 or longer than 64 characters, or another character.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .flat_map(char::to_uppercase)
            .collect();
        if (4..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Self(t))
        } else {
            Err(InvalidValue::new(
                raw,
                "a payment account",
                "4-64 letters and digits (spaces and dashes are ignored)",
            ))
        }
    }
    /// The account.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! plain_string_serde {
    ($($t:ident),+) => {$(
        impl TryFrom<String> for $t {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}
plain_string_serde!(Phone, Email, PaymentAccount);

/// What manifests do not carry but analysts link on: phones, e-mail addresses, payment
/// accounts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    /// Telephone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// E-mail addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Payment accounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_accounts: Vec<PaymentAccount>,
}

impl Selectors {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.phones.is_empty() && self.emails.is_empty() && self.payment_accounts.is_empty()
    }
}

/// An intelligence item as imported (without its source, id and import time, which the node
/// records beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelItem {
    /// The source's own reference for the information (a case or report number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
    /// Short human title.
    pub title: Title,
    /// What the information is about: a traveler, a consignment (shipment identifiers,
    /// shipper and consignee as companies with addresses, a vessel) or a pattern of
    /// consignments; the alert subject types, so screening matches items as it matches
    /// alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Phones, e-mail addresses, payment accounts.
    #[serde(default, skip_serializing_if = "Selectors::is_empty")]
    pub selectors: Selectors,
    /// Substances concerned (may be empty; promoting needs at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substances: Vec<Substance>,
    /// Source reliability, information credibility and handling code (required; the CLI
    /// fills the reliability from the source's default for STIX bundles and CSV mappings
    /// that give none).
    pub grading: Grading,
    /// When the information holds.
    pub validity: Validity,
    /// Free-text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
    /// Ids of related items (stored items of this node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<u64>,
}

/// Parses one JSON document into `T`, naming the failing field by its path.
pub(crate) fn from_json_doc<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &str,
) -> Result<T, FieldError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let v: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        let msg = strip_serde_position(&e.into_inner().to_string());
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
            format!("{e}: exactly one {what} is read, with nothing after it"),
        )
    })?;
    Ok(v)
}

impl IntelItem {
    /// Parses an item from JSON and checks it.
    ///
    /// # Errors
    /// Malformed JSON, unknown or missing fields, invalid values, broken cross-field rules.
    pub fn from_json(json: &str) -> Result<Self, FieldError> {
        let item: IntelItem = from_json_doc(json, "intelligence item")?;
        item.check()?;
        Ok(item)
    }

    /// Rules that span fields.
    ///
    /// # Errors
    /// The first rule broken, with its field.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.subject.is_none() && self.selectors.is_empty() {
            return Err(FieldError::new(
                "subject",
                "give a subject (traveler, cargo or profile) or at least one selector \
                 (phones, emails, payment_accounts)",
            ));
        }
        if let Some(s) = &self.subject {
            check_subject(s)?;
        }
        for (name, n) in [
            ("selectors.phones", self.selectors.phones.len()),
            ("selectors.emails", self.selectors.emails.len()),
            (
                "selectors.payment_accounts",
                self.selectors.payment_accounts.len(),
            ),
        ] {
            if n > MAX_SELECTORS {
                return Err(FieldError::new(
                    name,
                    format!("at most {MAX_SELECTORS}, got {n}"),
                ));
            }
        }
        let set: std::collections::BTreeSet<_> = self.substances.iter().collect();
        if set.len() != self.substances.len() {
            return Err(FieldError::new("substances", "a substance is listed twice"));
        }
        if self.links.len() > MAX_LINKS {
            return Err(FieldError::new(
                "links",
                format!("at most {MAX_LINKS} links, got {}", self.links.len()),
            ));
        }
        Ok(())
    }

    /// A short description of the subject for lists: the traveler's name, the consignment's
    /// first identifier, or the first selector.
    pub fn subject_summary(&self) -> String {
        use super::Subject as S;
        match &self.subject {
            Some(S::Traveler(t)) => format!(
                "traveler {}{}",
                t.family_name,
                t.given_names
                    .as_ref()
                    .map(|g| format!(", {g}"))
                    .unwrap_or_default()
            ),
            Some(S::Cargo(c)) => {
                let id = c
                    .transport_document
                    .as_ref()
                    .map(|d| d.number().to_owned())
                    .or_else(|| c.express_tracking_number.as_ref().map(|t| t.to_string()))
                    .or_else(|| c.postal_item_id.as_ref().map(|t| t.to_string()))
                    .or_else(|| c.container_numbers.first().map(|t| t.to_string()))
                    .or_else(|| c.vessel_imo.as_ref().map(|t| format!("IMO {t}")))
                    .or_else(|| c.consignee.as_ref().map(|p| p.name.to_string()))
                    .or_else(|| c.shipper.as_ref().map(|p| p.name.to_string()))
                    .unwrap_or_default();
                format!("{} {id}", c.route)
            }
            Some(S::Profile(_)) => "profile".into(),
            None => {
                let s = &self.selectors;
                s.phones
                    .first()
                    .map(|p| format!("phone {p}"))
                    .or_else(|| s.emails.first().map(|e| format!("email {e}")))
                    .or_else(|| s.payment_accounts.first().map(|a| format!("account {a}")))
                    .unwrap_or_default()
            }
        }
    }
}

/// The opaque reference a promoted alert carries for item `id`: `intel-ID`.
pub fn intel_reference(id: u64) -> String {
    format!("intel-{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradings_parse_on_the_admiralty_scales_and_nothing_else() {
        let g = Grading::parse("b2 h3").unwrap();
        assert_eq!(g.reliability, Reliability::B);
        assert_eq!(g.credibility, Credibility::ProbablyTrue);
        assert_eq!(g.handling, HandlingCode::H3);
        assert_eq!(g.to_string(), "B2 H3");
        assert_eq!(Grading::parse("A1/H1").unwrap().to_string(), "A1 H1");
        for bad in [
            "G2 H3", "B7 H3", "B0 H1", "B2 H6", "B2", "", "B2 H3 X", "Б2 H3",
        ] {
            let e = Grading::parse(bad).unwrap_err();
            assert!(e.rule.contains("A-F"), "{bad}: {e}");
        }
        assert_eq!(Reliability::F.meaning(), "reliability cannot be judged");
        assert_eq!(
            Credibility::parse("6").unwrap(),
            Credibility::CannotBeJudged
        );
        assert!(Credibility::parse("7").is_err());
        assert!(HandlingCode::H3.may_be_shared_abroad());
        assert!(!HandlingCode::H4.may_be_shared_abroad());
        assert!(!HandlingCode::H5.may_be_shared_abroad());
    }

    #[test]
    fn selectors_are_normalised_or_refused() {
        assert_eq!(
            Phone::parse("+82 10-1234-5678").unwrap().as_str(),
            "+821012345678"
        );
        assert!(Phone::parse("010-1234-5678").is_err());
        assert!(Phone::parse("+12").is_err());
        assert_eq!(
            Email::parse(" A.B@Example.KR ").unwrap().as_str(),
            "a.b@example.kr"
        );
        for bad in ["a@b", "@x.kr", "a b@x.kr", "a@@x.kr", "a@x.kr."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PaymentAccount::parse("kr12 3456-7890").unwrap().as_str(),
            "KR1234567890"
        );
        assert!(PaymentAccount::parse("12").is_err());
        assert!(PaymentAccount::parse("12$45").is_err());
        assert!(SourceId::parse("police-kr").is_ok());
        assert!(SourceId::parse("Police").is_err());
        assert!(SourceId::parse("-x").is_err());
    }

    #[test]
    fn items_are_checked_with_field_paths() {
        let ok = r#"{"title":"Courier for a meth ring","grading":{"reliability":"B","credibility":"2","handling":"H3"},
            "subject":{"traveler":{"family_name":"KIM","given_names":"MINJUN","date_of_birth":"1990-01-02"}},
            "selectors":{"phones":["+82 10 1234 5678"]},
            "validity":{"valid_from":"2026-11-01","valid_until":"2027-05-01"}}"#;
        let item = IntelItem::from_json(ok).unwrap();
        assert_eq!(item.subject_summary(), "traveler KIM, MINJUN");
        let bad_grade = ok.replace("\"B\"", "\"G\"");
        let e = IntelItem::from_json(&bad_grade).unwrap_err();
        assert_eq!(e.field, "grading.reliability", "{e}");
        assert!(e.message.contains("\"G\""), "{e}");
        let no_dob = ok.replace(",\"date_of_birth\":\"1990-01-02\"", "");
        let e = IntelItem::from_json(&no_dob).unwrap_err();
        assert_eq!(e.field, "subject.traveler", "{e}");
        let nothing = r#"{"title":"x","grading":{"reliability":"B","credibility":"2","handling":"H3"},
            "validity":{"valid_from":"2026-11-01","valid_until":"2027-05-01"}}"#;
        assert_eq!(IntelItem::from_json(nothing).unwrap_err().field, "subject");
        let bad_phone = ok.replace("+82 10 1234 5678", "12");
        let e = IntelItem::from_json(&bad_phone).unwrap_err();
        assert_eq!(e.field, "selectors.phones[0]", "{e}");
        let unknown = ok.replace("\"title\"", "\"colour\":1,\"title\"");
        assert!(IntelItem::from_json(&unknown).is_err());
    }
}
