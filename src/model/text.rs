//! Bounded free text.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// Free text of `MIN..=MAX` characters (Unicode scalar values), trimmed, with no control
/// characters at all (line breaks, tabs and terminal escapes included), so that a value
/// always prints on one line in reports and logs and cannot rewrite an officer's terminal.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// Trims, then checks length and characters.
    ///
    /// # Errors
    /// Too short, too long, or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = raw.trim();
        let n = v.chars().count();
        if n < MIN || n > MAX {
            return Err(InvalidValue::new(
                raw,
                "acceptable text",
                format!("must be {MIN}-{MAX} characters, got {n}"),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                raw,
                "acceptable text",
                "must not contain control characters (line breaks, tabs, ...)",
            ));
        }
        Ok(Self(v.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl<const MIN: usize, const MAX: usize> TryFrom<String> for Text<MIN, MAX> {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl<const MIN: usize, const MAX: usize> From<Text<MIN, MAX>> for String {
    fn from(t: Text<MIN, MAX>) -> String {
        t.0
    }
}

/// Alert titles.
pub type Title = Text<1, 160>;
/// Person and company names.
pub type Name = Text<1, 128>;
/// Given names (may be absent in a document, hence 0).
pub type GivenNames = Text<0, 128>;
/// Postal addresses.
pub type Address = Text<1, 256>;
/// Goods descriptions.
pub type Description = Text<1, 512>;
/// Risk indicators, reasons and notes.
pub type Note = Text<1, 512>;
/// Case references and vessel names.
pub type ShortText = Text<1, 64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_control_characters() {
        assert_eq!(
            Title::parse("  Meth in parcels ").unwrap().as_str(),
            "Meth in parcels"
        );
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(161)).is_err());
        Title::parse(&"가".repeat(160)).unwrap();
        assert!(Title::parse("a\nb").is_err());
        assert!(Title::parse("a\u{1b}[31mb").is_err(), "terminal escape");
        GivenNames::parse("").unwrap();
        Name::parse("Nguyễn Văn Hùng").unwrap();
    }
}
