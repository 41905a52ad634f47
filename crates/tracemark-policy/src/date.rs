//! Calendar dates, as laws state their dates of application: `2026-08-02`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::{Month, format_description::BorrowedFormatItem, macros::format_description};
use tracemark_core::Timestamp;

const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A calendar date (`YYYY-MM-DD`), compared day by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// The date, if it exists (`2026-02-30` does not).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Self)
    }

    /// The UTC calendar day of an instant.
    pub fn of(t: Timestamp) -> Self {
        Self(t.as_offset_date_time().date())
    }

    /// Today, in UTC.
    pub fn today() -> Self {
        Self::of(Timestamp::now())
    }

    /// Written for a reader: `2 August 2026`.
    pub fn long(&self) -> String {
        format!(
            "{} {} {}",
            self.0.day(),
            month_name(self.0.month()),
            self.0.year()
        )
    }
}

fn month_name(m: Month) -> &'static str {
    match m {
        Month::January => "January",
        Month::February => "February",
        Month::March => "March",
        Month::April => "April",
        Month::May => "May",
        Month::June => "June",
        Month::July => "July",
        Month::August => "August",
        Month::September => "September",
        Month::October => "October",
        Month::November => "November",
        Month::December => "December",
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.pad(&s)
    }
}

/// A string that is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date; write it as YYYY-MM-DD (e.g. 2026-08-02)")]
pub struct ParseDateError(pub String);

impl tracemark_core::Diagnose for ParseDateError {
    fn fault(&self) -> tracemark_core::Fault {
        tracemark_core::Fault::Usage
    }
}

impl FromStr for Date {
    type Err = ParseDateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 10 {
            return Err(ParseDateError(s.to_owned()));
        }
        time::Date::parse(s, FORMAT)
            .map(Self)
            .map_err(|_| ParseDateError(s.to_owned()))
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_orders() {
        let d: Date = "2026-08-02".parse().unwrap();
        assert_eq!(d.to_string(), "2026-08-02");
        assert_eq!(d.long(), "2 August 2026");
        assert!(d < "2026-12-02".parse().unwrap());
        assert_eq!(Date::new(2026, 8, 2), Some(d));
        for bad in [
            "2026-02-30",
            "2026-8-2",
            "02-08-2026",
            "",
            "2026-08-02T00:00:00Z",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        let t: Timestamp = "2026-08-01T23:59:59Z".parse().unwrap();
        assert_eq!(Date::of(t).to_string(), "2026-08-01");
        assert_eq!(serde_json::to_value(d).unwrap(), "2026-08-02");
    }
}
