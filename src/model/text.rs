//! Bounded free text, and the check that no text kdesk stores or shows hides characters.

use std::fmt;

use serde::{Deserialize, Serialize};
// General category from `unicode-properties` (unicode-rs, the maintainers of
// unicode-normalization and unicode-width; tables generated from the Unicode Character
// Database, Unicode 18.0.0 in 0.1.5, no dependencies; only its `general-category` feature is
// built). A crate rather than a hand-written table so that format characters added by later
// Unicode versions are refused when the crate is updated, without anyone editing ranges here.
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::InvalidValue;

/// A character that must not appear in text: a control character (general category Cc:
/// line breaks, tabs, terminal escapes) or a format character (general category Cf: bidi
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners, the byte-order
/// mark, soft hyphens, tag characters, ...). Format characters are invisible or reorder the
/// text around them, so a value holding one does not read as what it is: an alert title
/// with U+202E shows its end reversed, a name with U+200B looks like another name.
pub fn is_hidden_char(c: char) -> bool {
    // ASCII (most text, and every identifier) has no format character: skip the table.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// Checks that `raw` holds no [hidden character](is_hidden_char). The error is the rule
/// broken, naming the first such character (code point, name when well known) and its
/// position (1-based, in characters of `raw`), for [`InvalidValue`] and bad-line messages.
///
/// # Errors
/// The first hidden character.
pub fn check_visible(raw: &str) -> Result<(), String> {
    match first_hidden(raw) {
        None => Ok(()),
        Some((i, c)) => Err(hidden_rule(i + 1, c)),
    }
}

/// The first hidden character of `s` and its 0-based position in characters.
fn first_hidden(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|&(_, c)| is_hidden_char(c))
}

/// The rule broken by hidden character `c` at 1-based character position `at`.
fn hidden_rule(at: usize, c: char) -> String {
    let name = match char_name(c) {
        Some(n) => format!("U+{:04X} {n}", c as u32),
        None => format!("U+{:04X}", c as u32),
    };
    if c.is_control() {
        format!("must not contain control characters (line breaks, tabs, escapes): {name} at character {at}")
    } else {
        format!(
            "must not contain invisible format characters (Unicode category Cf: bidi controls, \
             zero-width characters, ...): {name} at character {at}"
        )
    }
}

/// Names of the hidden characters most often met, for messages.
fn char_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\t' => "CHARACTER TABULATION",
        '\n' => "LINE FEED",
        '\r' => "CARRIAGE RETURN",
        '\u{1b}' => "ESCAPE",
        '\u{ad}' => "SOFT HYPHEN",
        '\u{61c}' => "ARABIC LETTER MARK",
        '\u{200b}' => "ZERO WIDTH SPACE",
        '\u{200c}' => "ZERO WIDTH NON-JOINER",
        '\u{200d}' => "ZERO WIDTH JOINER",
        '\u{200e}' => "LEFT-TO-RIGHT MARK",
        '\u{200f}' => "RIGHT-TO-LEFT MARK",
        '\u{202a}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202b}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202c}' => "POP DIRECTIONAL FORMATTING",
        '\u{202d}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202e}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{feff}' => "ZERO WIDTH NO-BREAK SPACE (byte-order mark)",
        _ => return None,
    })
}

/// Free text of `MIN..=MAX` characters (Unicode scalar values), trimmed, with no control
/// characters at all (line breaks, tabs and terminal escapes included) and no format
/// characters (bidi controls, zero-width characters, every character of Unicode category
/// Cf; see [`is_hidden_char`]), so that a value always prints on one line in reports and
/// logs, cannot rewrite an officer's terminal, and reads as what it holds. Every free-text
/// field of a record is a `Text` (both parsers, JSON and protobuf, build it with
/// [`Text::parse`]), so records from partners are held to the same rule.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// Trims, then checks characters and length.
    ///
    /// # Errors
    /// Containing control or format characters (after trimming: surrounding line breaks
    /// and spaces are trimmed, as ever), too short, or too long.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let v = raw.trim();
        if let Some((i, c)) = first_hidden(v) {
            // The position in the value as given (the message shows it), not the trimmed one.
            let lead = raw[..raw.len() - raw.trim_start().len()].chars().count();
            return Err(InvalidValue::new(
                raw,
                "acceptable text",
                hidden_rule(lead + i + 1, c),
            ));
        }
        let n = v.chars().count();
        if n < MIN || n > MAX {
            return Err(InvalidValue::new(
                raw,
                "acceptable text",
                format!("must be {MIN}-{MAX} characters, got {n}"),
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

    /// The characters the rule names, one by one: bidi controls and zero-width characters.
    const LISTED: &[char] = &[
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}', '\u{200b}', '\u{200c}',
        '\u{200d}', '\u{2060}', '\u{feff}',
    ];

    #[test]
    fn bidi_and_zero_width_characters_are_refused_naming_them() {
        for &c in LISTED {
            let raw = format!("Meth in {c}parcels");
            let e = Title::parse(&raw).unwrap_err();
            let code = format!("U+{:04X}", c as u32);
            assert!(e.rule.contains(&code), "{code}: {e}");
            assert!(e.rule.contains("at character 9"), "{code}: {e}");
            assert!(e.rule.contains("format characters"), "{code}: {e}");
            // The message shows the value escaped, never the raw character.
            let shown = e.to_string();
            assert!(
                shown.contains(&format!("\\u{{{:x}}}", c as u32)),
                "{code}: {shown}"
            );
            assert!(!shown.contains(c), "{code}: raw character in {shown:?}");
            // Every Text type and the bare check refuse it, at either end too.
            assert!(Name::parse(&format!("{c}Kim")).is_err(), "{code}");
            assert!(GivenNames::parse(&format!("Min{c}")).is_err(), "{code}");
            assert!(Note::parse(&format!("x{c}y")).is_err(), "{code}");
            assert!(check_visible(&format!("a{c}")).is_err(), "{code}");
        }
        let e = Title::parse("Cargo \u{202e}gnp.exe").unwrap_err();
        assert_eq!(e.value, "Cargo \u{202e}gnp.exe");
        assert_eq!(
            e.to_string(),
            "\"Cargo \\u{202e}gnp.exe\" is not acceptable text: must not contain invisible \
             format characters (Unicode category Cf: bidi controls, zero-width characters, ...): \
             U+202E RIGHT-TO-LEFT OVERRIDE at character 7"
        );
        // Positions count in the value as given, leading spaces included.
        let e = Name::parse("  Ki\u{200b}m").unwrap_err();
        assert!(
            e.rule.ends_with("U+200B ZERO WIDTH SPACE at character 5"),
            "{e}"
        );
    }

    #[test]
    fn every_format_character_is_refused() {
        // The Cf code points of Unicode 18.0 (DerivedGeneralCategory.txt: 170 in all, 163 of
        // them already in Unicode 14.0), written out so the test does not only restate the
        // crate's table.
        let ranges: &[(u32, u32)] = &[
            (0xAD, 0xAD),
            (0x600, 0x605),
            (0x61C, 0x61C),
            (0x6DD, 0x6DD),
            (0x70F, 0x70F),
            (0x890, 0x891),
            (0x8E2, 0x8E2),
            (0x180E, 0x180E),
            (0x200B, 0x200F),
            (0x202A, 0x202E),
            (0x2060, 0x2064),
            (0x2066, 0x206F),
            (0xFEFF, 0xFEFF),
            (0xFFF9, 0xFFFB),
            (0x110BD, 0x110BD),
            (0x110CD, 0x110CD),
            (0x13430, 0x1343F),
            (0x1BCA0, 0x1BCA3),
            (0x1D173, 0x1D17A),
            (0xE0001, 0xE0001),
            (0xE0020, 0xE007F),
        ];
        let mut n = 0;
        for &(lo, hi) in ranges {
            for c in (lo..=hi).filter_map(char::from_u32) {
                assert!(is_hidden_char(c), "U+{:04X}", c as u32);
                assert!(
                    Note::parse(&format!("a{c}b")).is_err(),
                    "U+{:04X}",
                    c as u32
                );
                n += 1;
            }
        }
        assert_eq!(n, 170);
        // And whatever the crate's (newer) table calls Cf; the message escapes each one.
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            if c.general_category() == GeneralCategory::Format {
                let e = Description::parse(&format!("ab{c}")).unwrap_err();
                assert!(!e.to_string().contains(c), "U+{:04X} unescaped", c as u32);
            }
        }
    }

    #[test]
    fn ordinary_text_of_every_desk_passes() {
        for ok in [
            "Nguyễn Văn Hùng",
            "이민호",
            "สมชาย ศรีสุข",
            "محمد عبد الله",
            "Hanbit Fresh Trading Co., Ltd.",
            "Müller & Söhne GmbH",
            "Kratom leaves — 20 kg",
            "Ketamine in tea 🍵 boxes",
        ] {
            Note::parse(ok).unwrap();
            check_visible(ok).unwrap();
        }
        assert!(check_visible("a\u{7f}").unwrap_err().contains("U+007F"));
    }
}
