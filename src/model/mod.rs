//! Domain model: checked types for everything a desk puts in a record.
//!
//! Input arrives as JSON (officers, national systems) or protobuf (peers, the Admin API). Both
//! are parsed into the types here, which cannot hold an invalid value; the protobuf form sent
//! and signed is produced from them. Every failure is a [`FieldError`] naming the field (as a
//! path such as `subject.cargo.container_numbers[1]`), the value and the rule.

mod alert;
mod birth;
mod country_alpha3;
pub mod fold;
mod ids;
pub mod intel;
mod text;

pub use alert::*;
pub use birth::BirthDate;
pub use country_alpha3::ISO_3166_ALPHA3;
pub use ids::*;
pub use text::*;

use std::fmt;

/// A value that breaks the rule of its type. Carries no field name; see [`FieldError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {expected}: {rule}")]
pub struct InvalidValue {
    /// The value as given (truncated to 80 characters).
    pub value: String,
    /// What the value should have been ("an ISO 6346 container number").
    pub expected: &'static str,
    /// The rule that failed ("check digit is 4, computed 3").
    pub rule: String,
}

impl InvalidValue {
    /// Builds an error, truncating very long values so messages stay readable.
    pub fn new(value: &str, expected: &'static str, rule: impl Into<String>) -> Self {
        let value = if value.chars().count() > 80 {
            let mut v: String = value.chars().take(77).collect();
            v.push_str("...");
            v
        } else {
            value.to_owned()
        };
        Self {
            value,
            expected,
            rule: rule.into(),
        }
    }

    /// Attaches the field name.
    pub fn at(self, field: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: self.to_string(),
        }
    }
}

/// A rejected input field: its path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Path of the field, e.g. `subject.cargo.container_numbers[1]`.
    pub field: String,
    /// The value and the rule it breaks.
    pub message: String,
}

impl FieldError {
    /// An error about a field that is not a single parsed value (missing, inconsistent, ...).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the path with an outer field name.
    pub fn within(mut self, outer: &str) -> Self {
        self.field = if self.field.is_empty() {
            outer.to_owned()
        } else if self.field.starts_with('[') {
            format!("{outer}{}", self.field)
        } else {
            format!("{outer}.{}", self.field)
        };
        self
    }
}

/// Joins a path for messages.
pub(crate) fn path(outer: &str, inner: &str) -> String {
    if outer.is_empty() {
        inner.to_owned()
    } else {
        format!("{outer}.{inner}")
    }
}

/// A calendar date `YYYY-MM-DD` between 1900-01-01 and 2100-12-31.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Date(time::Date);

impl Date {
    /// Parses an ISO 8601 calendar date.
    ///
    /// # Errors
    /// Wrong format, impossible date (2025-02-30) or outside 1900-2100.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let d = time::Date::parse(raw.trim(), &fmt).map_err(|e| {
            InvalidValue::new(
                raw,
                "a date",
                format!("must be a real date as YYYY-MM-DD ({e})"),
            )
        })?;
        if !(1900..=2100).contains(&d.year()) {
            return Err(InvalidValue::new(raw, "a date", "year must be 1900-2100"));
        }
        Ok(Self(d))
    }

    /// The date `days` later (earlier when negative).
    pub fn plus_days(&self, days: i64) -> Self {
        Self(self.0.saturating_add(time::Duration::days(days)))
    }

    /// The start of this day, UTC.
    pub fn midnight_utc(&self) -> time::OffsetDateTime {
        self.0.midnight().assume_utc()
    }

    /// Today (UTC).
    pub fn today_utc() -> Self {
        Self(time::OffsetDateTime::now_utc().date())
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(&self, other: &Date) -> i64 {
        (other.0 - self.0).whole_days()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}
impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}
impl TryFrom<String> for Date {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// Longest validity window an alert may have: two years. Longer-lived intelligence must be
/// reviewed and re-issued.
pub const MAX_VALIDITY_DAYS: i64 = 731;

/// An inclusive validity window, `valid_from <= valid_until`, at most two years long.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ValidityInput")]
pub struct Validity {
    valid_from: Date,
    valid_until: Date,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidityInput {
    valid_from: Date,
    valid_until: Date,
}

impl TryFrom<ValidityInput> for Validity {
    type Error = FieldError;
    fn try_from(v: ValidityInput) -> Result<Self, FieldError> {
        Self::new(v.valid_from, v.valid_until)
    }
}

impl Validity {
    /// # Errors
    /// `valid_until` before `valid_from`, or a window longer than two years.
    pub fn new(valid_from: Date, valid_until: Date) -> Result<Self, FieldError> {
        let span = valid_from.days_until(&valid_until);
        if span < 0 {
            return Err(FieldError::new(
                "valid_until",
                format!("{valid_until} is before valid_from {valid_from}"),
            ));
        }
        if span > MAX_VALIDITY_DAYS {
            return Err(FieldError::new(
                "valid_until",
                format!(
                    "window {valid_from}..{valid_until} is {span} days; at most {MAX_VALIDITY_DAYS} allowed"
                ),
            ));
        }
        Ok(Self {
            valid_from,
            valid_until,
        })
    }
    /// First day the alert applies.
    pub fn valid_from(&self) -> Date {
        self.valid_from
    }
    /// Last day the alert applies.
    pub fn valid_until(&self) -> Date {
        self.valid_until
    }
    /// Whether `day` falls inside the window.
    pub fn contains(&self, day: Date) -> bool {
        self.valid_from <= day && day <= self.valid_until
    }
}
