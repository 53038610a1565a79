//! A made-up statement for the PDF's tests and the benchmark (`server bench-probe
//! statement-pdf`), so that both measure and check the same document. Nobody real is in it.

use super::StatementDocument;
use crate::billing::money::Money;
use crate::billing::statement::{Delivery, Line, LineKind, Totals};
use crate::dates::CalendarDate;

/// The description of the sample's second line: long enough to wrap over three lines.
pub const LONG_DESCRIPTION: &str = "Computed tomography of the chest with contrast, including three-dimensional reconstruction and the radiologist's report";

/// A statement of `lines` lines, charges, payments and adjustments in turn; the second line
/// has a description that wraps, the fifth one with parentheses and a backslash, every third
/// a department that wraps; names and the patient's name outside WinAnsi.
pub fn sample_statement(lines: usize) -> StatementDocument {
    let date = |s: &str| CalendarDate::parse(s).expect("a date");
    let kinds = [LineKind::Charge, LineKind::Payment, LineKind::Adjustment];
    let lines: Vec<Line> = (0..lines)
        .map(|i| {
            let kind = kinds[i % 3];
            let cents = 1_000 + i as i64 * 1_371;
            Line {
                kind,
                date: date(&format!("2026-10-{:02}", 1 + i % 28)),
                department: if i % 3 == 2 { "Diagnostic Imaging and Interventional Radiology".into() } else { "Family Medicine".into() },
                description: match i {
                    1 => LONG_DESCRIPTION.into(),
                    // What PDF strings must escape, left to pdf-writer's `Str`.
                    4 => r"Lipid panel (fasting) \ repeat ) (".into(),
                    _ => format!("Service item {i}"),
                },
                amount: Money(if kind == LineKind::Charge { cents } else { -cents / 3 }),
            }
        })
        .collect();
    let sum = |k: LineKind| Money(lines.iter().filter(|l| l.kind == k).map(|l| l.amount.cents()).sum());
    let mut totals = Totals {
        previous_balance: Money(2_000),
        charges: sum(LineKind::Charge),
        payments: sum(LineKind::Payment),
        adjustments: sum(LineKind::Adjustment),
        amount_due: Money::ZERO,
    };
    totals.amount_due = Money(totals.previous_balance.cents() + totals.charges.cents() + totals.payments.cents() + totals.adjustments.cents());
    StatementDocument {
        organisation: "Riverside Community Clinic".into(),
        organisation_address: vec!["100 Riverside Drive".into(), "Riverside, ST 00000".into()],
        organisation_phone: "(555) 010-0100".into(),
        account_number: "G123456789".into(),
        guarantor_name: "José Núñez".into(),
        guarantor_address: vec!["12 Elm Street".into(), "Riverside, ST 00000".into()],
        patient_name: "Zoë 王 Núñez".into(),
        mrn: "MRN100001".into(),
        statement_date: date("2026-11-01"),
        period_start: date("2026-10-01"),
        period_end: date("2026-10-31"),
        due_date: date("2026-11-25"),
        lines,
        totals,
        delivery: Delivery::Paperless,
    }
}
