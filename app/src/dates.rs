//! Calendar dates as people type them (birth dates, effective dates), checked once at the
//! boundary. Pure code, used by the server; kept free of a date library so the browser build
//! could use it too.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A valid calendar date. Its text form is `YYYY-MM-DD`, as `<input type="date">` sends it and
/// as the database stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CalendarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl CalendarDate {
    pub fn new(year: i32, month: u32, day: u32) -> Option<CalendarDate> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=9999).contains(&year) && (1..=days_in_month).contains(&day)).then_some(CalendarDate { year, month, day })
    }

    /// `YYYY-MM-DD`, or `MM/DD/YYYY` as typed where the browser shows a plain text box.
    pub fn parse(text: &str) -> Option<CalendarDate> {
        let t = text.trim();
        if let Some((y, rest)) = t.split_once('-') {
            let (m, d) = rest.split_once('-')?;
            if y.len() != 4 {
                return None;
            }
            return CalendarDate::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        }
        let mut parts = t.split('/');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 {
            return None;
        }
        CalendarDate::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    pub fn days_since_epoch(self) -> i64 {
        let y = if self.month <= 2 { self.year as i64 - 1 } else { self.year as i64 };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (self.month as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Midnight UTC at the start of the day, in milliseconds since the epoch.
    pub fn start_ms(self) -> i64 {
        self.days_since_epoch() * 86_400_000
    }

    /// The UTC date of a timestamp.
    pub fn of_ms(ms: i64) -> CalendarDate {
        let z = ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + if month <= 2 { 1 } else { 0 }) as i32;
        CalendarDate { year, month, day }
    }

    /// A birth date a living person can have: not in the future, not before 1900.
    pub fn plausible_birth_date(self, now_ms: i64) -> bool {
        self.year >= 1900 && self <= CalendarDate::of_ms(now_ms)
    }

    /// `March 12, 1948`: how the portal writes a date for people.
    pub fn long(self) -> String {
        const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
        format!("{} {}, {}", MONTHS[(self.month - 1) as usize], self.day, self.year)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_both_forms_and_only_when_real() {
        assert_eq!(CalendarDate::parse("1948-03-12"), CalendarDate::new(1948, 3, 12));
        assert_eq!(CalendarDate::parse(" 03/12/1948 "), CalendarDate::new(1948, 3, 12));
        assert_eq!(CalendarDate::parse("2000-02-29").map(|d| d.day), Some(29));
        assert_eq!(CalendarDate::parse("1900-02-29"), None);
        assert_eq!(CalendarDate::parse("1948-13-01"), None);
        assert_eq!(CalendarDate::parse("48-03-12"), None);
        assert_eq!(CalendarDate::parse("12.03.1948"), None);
        assert_eq!(CalendarDate::parse(""), None);
    }

    #[test]
    fn epoch_days_round_trip() {
        for (y, m, d) in [(1970, 1, 1), (1948, 3, 12), (2000, 2, 29), (2026, 11, 24), (1899, 12, 31)] {
            let date = CalendarDate::new(y, m, d).unwrap();
            assert_eq!(CalendarDate::of_ms(date.start_ms()), date);
            assert_eq!(CalendarDate::of_ms(date.start_ms() + 86_399_999), date);
        }
        assert_eq!(CalendarDate::new(1970, 1, 2).unwrap().start_ms(), 86_400_000);
    }

    #[test]
    fn birth_dates_must_be_plausible() {
        let now = CalendarDate::new(2026, 11, 24).unwrap().start_ms();
        assert!(CalendarDate::new(1948, 3, 12).unwrap().plausible_birth_date(now));
        assert!(CalendarDate::new(2026, 11, 24).unwrap().plausible_birth_date(now));
        assert!(!CalendarDate::new(2026, 11, 25).unwrap().plausible_birth_date(now));
        assert!(!CalendarDate::new(1899, 12, 31).unwrap().plausible_birth_date(now));
        assert_eq!(CalendarDate::new(1948, 3, 12).unwrap().long(), "March 12, 1948");
    }
}
