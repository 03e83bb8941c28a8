//! Dates of birth as travel documents and passenger data carry them: sometimes only the year,
//! or the year and month (ICAO Doc 9303 allows an unknown day or month, written `00` or `XX`;
//! PAXLST data often carries `1985-00-00`).

use std::fmt;

use super::{Date, InvalidValue};

/// A date of birth, possibly partial: the year is always known; the month and day may not be.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct BirthDate {
    year: u16,
    month: Option<u8>,
    day: Option<u8>,
}

impl BirthDate {
    /// Parses `YYYY-MM-DD`, where an unknown month or day is `00` or `XX` (`1985-00-00`,
    /// `1985-07-XX`), or `YYYY-MM`, or `YYYY`. A known day needs a known month, and a full date
    /// must exist (no 30 February).
    ///
    /// # Errors
    /// Wrong format, impossible date, or a year outside 1900-2100.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let t = raw.trim();
        let bad = |rule: &str| InvalidValue::new(raw, "a date of birth", rule.to_owned());
        let rule = "must be YYYY-MM-DD, YYYY-MM or YYYY (an unknown day or month as 00 or XX)";
        let parts: Vec<&str> = t.split('-').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(bad(rule));
        }
        let year: u16 = match parts[0] {
            y if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => {
                y.parse().map_err(|_| bad(rule))?
            }
            _ => return Err(bad(rule)),
        };
        if !(1900..=2100).contains(&year) {
            return Err(bad("year must be 1900-2100"));
        }
        let part = |i: usize, max: u8| -> Result<Option<u8>, InvalidValue> {
            match parts.get(i) {
                None => Ok(None),
                Some(p) if p.len() == 2 && (*p == "00" || p.eq_ignore_ascii_case("xx")) => Ok(None),
                Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                    let v: u8 = p.parse().map_err(|_| bad(rule))?;
                    if v == 0 || v > max {
                        return Err(bad(rule));
                    }
                    Ok(Some(v))
                }
                Some(_) => Err(bad(rule)),
            }
        };
        let month = part(1, 12)?;
        let day = part(2, 31)?;
        if let (Some(m), Some(d)) = (month, day) {
            Date::parse(&format!("{year:04}-{m:02}-{d:02}"))?;
        } else if month.is_none() && day.is_some() {
            return Err(bad("a known day needs a known month"));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    #[must_use]
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month (1-12), when known.
    #[must_use]
    pub fn month(&self) -> Option<u8> {
        self.month
    }

    /// The day (1-31), when known.
    #[must_use]
    pub fn day(&self) -> Option<u8> {
        self.day
    }

    /// The full date, when day and month are known.
    #[must_use]
    pub fn full(&self) -> Option<Date> {
        match (self.month, self.day) {
            (Some(m), Some(d)) => Date::parse(&format!("{:04}-{m:02}-{d:02}", self.year)).ok(),
            _ => None,
        }
    }
}

impl From<Date> for BirthDate {
    fn from(d: Date) -> Self {
        let s = d.to_string();
        // A Date always prints as YYYY-MM-DD.
        let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u16>().ok());
        let small = |r| num(r).and_then(|v| u8::try_from(v).ok());
        Self {
            year: num(0..4).unwrap_or(1900),
            month: small(5..7),
            day: small(8..10),
        }
    }
}

impl fmt::Display for BirthDate {
    /// `YYYY-MM-DD` with `00` for what is unknown (the form PAXLST and kdesk's own lists use).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year,
            self.month.unwrap_or(0),
            self.day.unwrap_or(0)
        )
    }
}

impl TryFrom<String> for BirthDate {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<BirthDate> for String {
    fn from(b: BirthDate) -> String {
        b.to_string()
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BirthDate({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_partial_and_refused() {
        let b = BirthDate::parse("1985-07-14").unwrap();
        assert_eq!((b.year(), b.month(), b.day()), (1985, Some(7), Some(14)));
        assert_eq!(b.full().unwrap().to_string(), "1985-07-14");
        let y = BirthDate::parse("1985-00-00").unwrap();
        assert_eq!((y.year(), y.month(), y.day()), (1985, None, None));
        assert_eq!(y.to_string(), "1985-00-00");
        assert_eq!(BirthDate::parse("1985").unwrap(), y);
        assert_eq!(BirthDate::parse("1985-XX-XX").unwrap(), y);
        let m = BirthDate::parse("1985-07-00").unwrap();
        assert_eq!((m.month(), m.day(), m.full()), (Some(7), None, None));
        assert_eq!(BirthDate::parse("1985-07").unwrap(), m);
        for bad in [
            "1985-02-30",
            "1985-13-01",
            "1985-00-14",
            "85-07-14",
            "1899-01-01",
            "1985/07/14",
            "",
        ] {
            assert!(BirthDate::parse(bad).is_err(), "{bad}");
        }
        let d = Date::parse("2001-02-03").unwrap();
        assert_eq!(BirthDate::from(d).to_string(), "2001-02-03");
    }
}
