//! Money in integer minor units (cents): no floating point anywhere in billing. Amounts are
//! parsed once, from forms and CSV files, and every sum is checked for overflow.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount one line or one total may hold: 100 million in major units. Far above any
/// real statement, far below where `i64` sums could overflow.
pub const MAX_CENTS: i64 = 10_000_000_000;

/// An amount in cents. Negative amounts lower a balance (payments, most adjustments).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Money(pub i64);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("is not an amount: write it like 125.00 or -25.50")]
    Invalid,
    #[error("is too large")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses `125`, `125.5`, `125.50`, `-25.00`, `1,250.00`, `$1,250.00` (a leading `$` and
    /// thousands separators in their places are accepted, as people and spreadsheets write
    /// them). At most two decimals: a third is refused rather than rounded away.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let mut s = text.trim();
        let negative = if let Some(rest) = s.strip_prefix('-') {
            s = rest;
            true
        } else {
            false
        };
        s = s.strip_prefix('$').unwrap_or(s);
        let (whole, fraction) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        if whole.is_empty() || fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Invalid);
        }
        if s.contains('.') && fraction.is_empty() {
            return Err(MoneyError::Invalid);
        }
        let digits = if whole.contains(',') {
            // Thousands separators only every three digits from the right: 1,250 and 12,500,000.
            let groups: Vec<&str> = whole.split(',').collect();
            let first_ok = (1..=3).contains(&groups[0].len());
            let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
            if !first_ok || !rest_ok {
                return Err(MoneyError::Invalid);
            }
            groups.concat()
        } else {
            whole.to_string()
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Invalid);
        }
        // More digits than any allowed amount has: too large, without risking i64 overflow.
        let significant = digits.trim_start_matches('0');
        if significant.len() > 12 {
            return Err(MoneyError::TooLarge);
        }
        let units: i64 = if significant.is_empty() { 0 } else { significant.parse().map_err(|_| MoneyError::Invalid)? };
        let cents: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| MoneyError::Invalid)? * 10,
            _ => fraction.parse::<i64>().map_err(|_| MoneyError::Invalid)?,
        };
        let total = units * 100 + cents;
        if total > MAX_CENTS {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(if negative { -total } else { total }))
    }

    /// The sum, or `None` when it leaves the allowed range.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        let sum = self.0.checked_add(other.0)?;
        (sum.abs() <= MAX_CENTS).then_some(Money(sum))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    /// The plain form written into CSV files and form fields: `-1250.00`.
    pub fn plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// For people: `$1,250.00`, `-$25.00`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0.unsigned_abs();
        let units = (a / 100).to_string();
        let mut grouped = String::with_capacity(units.len() + units.len() / 3);
        for (i, c) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}${grouped}.{:02}", a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_and_spreadsheets_write() {
        assert_eq!(Money::parse("125"), Ok(Money(12_500)));
        assert_eq!(Money::parse("125.5"), Ok(Money(12_550)));
        assert_eq!(Money::parse("125.50"), Ok(Money(12_550)));
        assert_eq!(Money::parse(" -25.00 "), Ok(Money(-2_500)));
        assert_eq!(Money::parse("1,250.00"), Ok(Money(125_000)));
        assert_eq!(Money::parse("$1,250.00"), Ok(Money(125_000)));
        assert_eq!(Money::parse("-$0.01"), Ok(Money(-1)));
        assert_eq!(Money::parse("0.07"), Ok(Money(7)));
        assert_eq!(Money::parse("12,500,000.99"), Ok(Money(1_250_000_099)));
        assert_eq!(Money::parse("000123.40"), Ok(Money(12_340)));
    }

    #[test]
    fn refuses_anything_else_rather_than_guess() {
        for bad in ["", "-", "$", ".5", "1.", "1.234", "1,25.00", "12,50", "1e3", "1.2.3", "--1", "+1", "1 000", "NaN", "١٢", "0x10", "1,2345"] {
            assert_eq!(Money::parse(bad), Err(MoneyError::Invalid), "{bad:?}");
        }
        assert_eq!(Money::parse("100000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("99999999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("100000000.00"), Ok(Money(MAX_CENTS)));
    }

    #[test]
    fn sums_are_exact_and_bounded() {
        // 0.10 + 0.20 is 0.30 exactly, as it would not be in binary floating point.
        let sum = Money::parse("0.10").unwrap().checked_add(Money::parse("0.20").unwrap());
        assert_eq!(sum, Some(Money(30)));
        assert_eq!(Money(MAX_CENTS).checked_add(Money(1)), None);
        assert_eq!(Money(-MAX_CENTS).checked_add(Money(-1)), None);
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(MAX_CENTS).checked_add(Money(-1)), Some(Money(MAX_CENTS - 1)));
    }

    #[test]
    fn reads_well_and_round_trips() {
        assert_eq!(Money(125_000).to_string(), "$1,250.00");
        assert_eq!(Money(-2_500).to_string(), "-$25.00");
        assert_eq!(Money(5).to_string(), "$0.05");
        assert_eq!(Money(100_000_000).to_string(), "$1,000,000.00");
        assert_eq!(Money(-1).plain(), "-0.01");
        for cents in [0, 1, -1, 99, 100, 123_456_789, -MAX_CENTS, MAX_CENTS] {
            assert_eq!(Money::parse(&Money(cents).plain()), Ok(Money(cents)));
            assert_eq!(Money::parse(&Money(cents).to_string()), Ok(Money(cents)));
        }
    }

    proptest::proptest! {
        /// Every amount in range survives being written and read back, both ways it is written.
        #[test]
        fn every_amount_round_trips(cents in -MAX_CENTS..=MAX_CENTS) {
            proptest::prop_assert_eq!(Money::parse(&Money(cents).plain()), Ok(Money(cents)));
            proptest::prop_assert_eq!(Money::parse(&Money(cents).to_string()), Ok(Money(cents)));
        }

        /// Sums are exact: the checked sum is the integer sum whenever it is in range.
        #[test]
        fn sums_match_integer_arithmetic(a in -MAX_CENTS..=MAX_CENTS, b in -MAX_CENTS..=MAX_CENTS) {
            let expected = a + b;
            let sum = Money(a).checked_add(Money(b));
            if expected.abs() <= MAX_CENTS {
                proptest::prop_assert_eq!(sum, Some(Money(expected)));
            } else {
                proptest::prop_assert_eq!(sum, None);
            }
        }

        /// Any text at all is either refused or read as an amount in range: never a panic.
        #[test]
        fn any_text_parses_or_is_refused(text in ".{0,40}") {
            if let Ok(m) = Money::parse(&text) {
                proptest::prop_assert!(m.cents().abs() <= MAX_CENTS);
            }
        }
    }
}
