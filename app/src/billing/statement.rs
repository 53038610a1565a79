//! The rules of a statement: its dates, its lines and its totals. A statement is checked here
//! once, whether it came from the staff form or a CSV file, and stored only as checked.
//!
//! Amounts are written as they move the balance: a charge is positive, a payment negative, an
//! adjustment either (most lower the balance: insurance write-offs, discounts). The amount due is
//! the previous statement's amount due plus every line; the poster states the amount due they
//! expect, and a statement whose lines do not add up to it is refused (a wrong line is caught
//! before a patient sees it).

use super::money::Money;
use crate::dates::CalendarDate;
use serde::{Deserialize, Serialize};

/// How an account's statements reach the guarantor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Delivery {
    /// In the portal, with an e-mail notice.
    Paperless,
    /// Printed and mailed.
    Paper,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Paperless => "paperless",
            Delivery::Paper => "paper",
        }
    }

    pub fn parse(s: &str) -> Option<Delivery> {
        match s {
            "paperless" => Some(Delivery::Paperless),
            "paper" => Some(Delivery::Paper),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Delivery::Paperless => "Paperless: in the portal",
            Delivery::Paper => "Paper: mailed",
        }
    }
}

pub const LINES_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 120;
pub const DEPARTMENT_MAX: usize = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineKind {
    Charge,
    Payment,
    Adjustment,
}

impl LineKind {
    pub const ALL: [LineKind; 3] = [LineKind::Charge, LineKind::Payment, LineKind::Adjustment];

    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Charge => "charge",
            LineKind::Payment => "payment",
            LineKind::Adjustment => "adjustment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LineKind::Charge => "Charge",
            LineKind::Payment => "Payment",
            LineKind::Adjustment => "Adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<LineKind> {
        LineKind::ALL.into_iter().find(|k| k.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// One line of a statement, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: LineKind,
    pub date: CalendarDate,
    pub department: String,
    pub description: String,
    pub amount: Money,
}

/// A statement as posted, before its totals are known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStatement {
    pub statement_date: CalendarDate,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub due_date: CalendarDate,
    pub lines: Vec<Line>,
    /// What the poster expects the amount due to be.
    pub expected_amount_due: Money,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub previous_balance: Money,
    pub charges: Money,
    pub payments: Money,
    pub adjustments: Money,
    pub amount_due: Money,
}

/// Why a statement or one of its lines is refused; each says what to correct.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("The period must end on or after the day it starts.")]
    PeriodBackwards,
    #[error("The statement date must be on or after the end of the period.")]
    DatedBeforePeriodEnd,
    #[error("The due date must be on or after the statement date.")]
    DueBeforeStatement,
    #[error("A statement needs at least one line.")]
    NoLines,
    #[error("A statement can have at most {LINES_MAX} lines.")]
    TooManyLines,
    #[error("Line {0}: the date must be within the statement's period.")]
    LineOutsidePeriod(usize),
    #[error("Line {0}: a description is needed (at most {DESCRIPTION_MAX} characters).")]
    Description(usize),
    #[error("Line {0}: a department is needed (at most {DEPARTMENT_MAX} characters).")]
    Department(usize),
    #[error("Line {0}: a charge is a positive amount.")]
    ChargeNotPositive(usize),
    #[error("Line {0}: a payment is written as a negative amount, e.g. -25.00.")]
    PaymentNotNegative(usize),
    #[error("Line {0}: an adjustment cannot be zero.")]
    AdjustmentZero(usize),
    #[error("The totals are too large.")]
    TooLarge,
    #[error("The lines add up to an amount due of {computed}, not {expected}: check the lines and the previous balance of {previous}.")]
    TotalMismatch { computed: Money, expected: Money, previous: Money },
}

impl StatementError {
    /// The line (1-based, in the statement's order) the error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            StatementError::LineOutsidePeriod(n)
            | StatementError::Description(n)
            | StatementError::Department(n)
            | StatementError::ChargeNotPositive(n)
            | StatementError::PaymentNotNegative(n)
            | StatementError::AdjustmentZero(n) => Some(*n),
            _ => None,
        }
    }

    /// The message without its "Line n: " prefix, for callers that name the line their own way
    /// (a form row, a file row).
    pub fn reason(&self) -> String {
        let text = self.to_string();
        match (self.line(), text.split_once(": ")) {
            (Some(_), Some((_, rest))) => rest.to_string(),
            _ => text,
        }
    }
}

/// Text fields of a line: one line, no control characters, trimmed.
pub fn clean_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect()
}

/// Checks a statement against the rules and computes its totals from the previous balance.
pub fn check(statement: &NewStatement, previous_balance: Money) -> Result<Totals, StatementError> {
    let s = statement;
    if s.period_end < s.period_start {
        return Err(StatementError::PeriodBackwards);
    }
    if s.statement_date < s.period_end {
        return Err(StatementError::DatedBeforePeriodEnd);
    }
    if s.due_date < s.statement_date {
        return Err(StatementError::DueBeforeStatement);
    }
    if s.lines.is_empty() {
        return Err(StatementError::NoLines);
    }
    if s.lines.len() > LINES_MAX {
        return Err(StatementError::TooManyLines);
    }
    let mut totals = Totals { previous_balance, ..Totals::default() };
    for (i, line) in s.lines.iter().enumerate() {
        let n = i + 1;
        if line.date < s.period_start || line.date > s.period_end {
            return Err(StatementError::LineOutsidePeriod(n));
        }
        if line.description.is_empty() || line.description.chars().count() > DESCRIPTION_MAX {
            return Err(StatementError::Description(n));
        }
        if line.department.is_empty() || line.department.chars().count() > DEPARTMENT_MAX {
            return Err(StatementError::Department(n));
        }
        let total = match line.kind {
            LineKind::Charge if line.amount.cents() <= 0 => return Err(StatementError::ChargeNotPositive(n)),
            LineKind::Payment if line.amount.cents() >= 0 => return Err(StatementError::PaymentNotNegative(n)),
            LineKind::Adjustment if line.amount.cents() == 0 => return Err(StatementError::AdjustmentZero(n)),
            LineKind::Charge => &mut totals.charges,
            LineKind::Payment => &mut totals.payments,
            LineKind::Adjustment => &mut totals.adjustments,
        };
        *total = total.checked_add(line.amount).ok_or(StatementError::TooLarge)?;
    }
    totals.amount_due = [totals.charges, totals.payments, totals.adjustments]
        .into_iter()
        .try_fold(previous_balance, |sum, m| sum.checked_add(m))
        .ok_or(StatementError::TooLarge)?;
    if totals.amount_due != s.expected_amount_due {
        return Err(StatementError::TotalMismatch { computed: totals.amount_due, expected: s.expected_amount_due, previous: previous_balance });
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> CalendarDate {
        CalendarDate::parse(s).unwrap()
    }

    fn line(kind: LineKind, day: &str, amount: &str) -> Line {
        Line { kind, date: date(day), department: "Family Medicine".into(), description: "Office visit".into(), amount: Money::parse(amount).unwrap() }
    }

    fn statement(lines: Vec<Line>, expected: &str) -> NewStatement {
        NewStatement {
            statement_date: date("2026-11-01"),
            period_start: date("2026-10-01"),
            period_end: date("2026-10-31"),
            due_date: date("2026-11-25"),
            lines,
            expected_amount_due: Money::parse(expected).unwrap(),
        }
    }

    #[test]
    fn totals_add_up_from_the_previous_balance() {
        let s = statement(
            vec![
                line(LineKind::Charge, "2026-10-03", "180.00"),
                line(LineKind::Charge, "2026-10-03", "45.10"),
                line(LineKind::Adjustment, "2026-10-20", "-95.05"),
                line(LineKind::Payment, "2026-10-28", "-30.00"),
                line(LineKind::Adjustment, "2026-10-29", "0.01"),
            ],
            "120.06",
        );
        let totals = check(&s, Money(2_000)).unwrap();
        assert_eq!(totals.previous_balance, Money(2_000));
        assert_eq!(totals.charges, Money(22_510));
        assert_eq!(totals.payments, Money(-3_000));
        assert_eq!(totals.adjustments, Money(-9_504));
        assert_eq!(totals.amount_due, Money(12_006));
    }

    #[test]
    fn a_statement_that_does_not_add_up_says_what_it_adds_up_to() {
        let s = statement(vec![line(LineKind::Charge, "2026-10-03", "180.00")], "170.00");
        let err = check(&s, Money::ZERO).unwrap_err();
        assert_eq!(err, StatementError::TotalMismatch { computed: Money(18_000), expected: Money(17_000), previous: Money::ZERO });
        assert!(err.to_string().contains("$180.00"), "{err}");
    }

    #[test]
    fn a_credit_balance_is_allowed() {
        let s = statement(vec![line(LineKind::Payment, "2026-10-28", "-50.00")], "-20.00");
        assert_eq!(check(&s, Money(3_000)).unwrap().amount_due, Money(-2_000));
    }

    #[test]
    fn signs_follow_the_kind_of_line() {
        let cases = [
            (line(LineKind::Charge, "2026-10-03", "-1.00"), StatementError::ChargeNotPositive(1)),
            (line(LineKind::Charge, "2026-10-03", "0"), StatementError::ChargeNotPositive(1)),
            (line(LineKind::Payment, "2026-10-03", "25.00"), StatementError::PaymentNotNegative(1)),
            (line(LineKind::Adjustment, "2026-10-03", "0.00"), StatementError::AdjustmentZero(1)),
        ];
        for (l, want) in cases {
            assert_eq!(check(&statement(vec![l], "0"), Money::ZERO), Err(want));
        }
    }

    #[test]
    fn dates_must_be_in_order_and_lines_within_the_period() {
        let mut s = statement(vec![line(LineKind::Charge, "2026-10-03", "1.00")], "1.00");
        s.period_end = date("2026-09-30");
        assert_eq!(check(&s, Money::ZERO), Err(StatementError::PeriodBackwards));
        let mut s = statement(vec![line(LineKind::Charge, "2026-10-03", "1.00")], "1.00");
        s.statement_date = date("2026-10-30");
        assert_eq!(check(&s, Money::ZERO), Err(StatementError::DatedBeforePeriodEnd));
        let mut s = statement(vec![line(LineKind::Charge, "2026-10-03", "1.00")], "1.00");
        s.due_date = date("2026-10-31");
        assert_eq!(check(&s, Money::ZERO), Err(StatementError::DueBeforeStatement));
        let s = statement(vec![line(LineKind::Charge, "2026-10-03", "1.00"), line(LineKind::Charge, "2026-11-01", "1.00")], "2.00");
        assert_eq!(check(&s, Money::ZERO), Err(StatementError::LineOutsidePeriod(2)));
        assert_eq!(check(&statement(vec![], "0"), Money::ZERO), Err(StatementError::NoLines));
        let many = vec![line(LineKind::Charge, "2026-10-03", "1.00"); LINES_MAX + 1];
        assert_eq!(check(&statement(many, "201.00"), Money::ZERO), Err(StatementError::TooManyLines));
    }

    #[test]
    fn texts_are_needed_and_bounded() {
        let mut l = line(LineKind::Charge, "2026-10-03", "1.00");
        l.description = String::new();
        assert_eq!(check(&statement(vec![l.clone()], "1.00"), Money::ZERO), Err(StatementError::Description(1)));
        l.description = "x".repeat(DESCRIPTION_MAX + 1);
        assert_eq!(check(&statement(vec![l.clone()], "1.00"), Money::ZERO), Err(StatementError::Description(1)));
        l.description = "ok".into();
        l.department = String::new();
        assert_eq!(check(&statement(vec![l], "1.00"), Money::ZERO), Err(StatementError::Department(1)));
        assert_eq!(clean_text("  Office\tvisit \n level 3\u{7} "), "Office visit level 3");
    }

    #[test]
    fn totals_never_overflow() {
        let big = || line(LineKind::Charge, "2026-10-03", "100000000.00");
        let s = statement(vec![big(), big()], "0");
        assert_eq!(check(&s, Money::ZERO), Err(StatementError::TooLarge));
        let s = statement(vec![big()], "0");
        assert_eq!(check(&s, Money(1)), Err(StatementError::TooLarge));
    }
}
