//! The statement PDF. (Being written: see the billing issue.)

use super::statement::{Delivery, Line, Totals};
use crate::dates::CalendarDate;
use serde::{Deserialize, Serialize};

/// Everything a statement's PDF shows, read from the database in one piece.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementDocument {
    pub organisation: String,
    /// The organisation's mailing address (where payments are mailed), one line per entry.
    pub organisation_address: Vec<String>,
    pub organisation_phone: String,
    pub account_number: String,
    pub guarantor_name: String,
    /// The guarantor's mailing address, one line per entry.
    pub guarantor_address: Vec<String>,
    pub patient_name: String,
    pub mrn: String,
    pub statement_date: CalendarDate,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub due_date: CalendarDate,
    pub lines: Vec<Line>,
    pub totals: Totals,
    pub delivery: Delivery,
}

/// One PDF holding every document given, each starting on a new page.
pub fn render(documents: &[StatementDocument]) -> Vec<u8> {
    let _ = documents;
    Vec::new()
}
