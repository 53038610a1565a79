//! The medical record as the pages show it: plain domain types, not FHIR-shaped, shared by the
//! server and the browser build (nothing here needs the server). The server builds them from
//! FHIR resources (`convert.rs`); the rules that decide what a patient reads (flags, ranges,
//! statuses, which medications are active) are here, with their tests.

use crate::dates::CalendarDate;
use serde::{Deserialize, Serialize};

// The parts of the record, each in its own file; all are re-exported here, so
// `record::model::X` names any of them.
mod health;
mod results;
mod values;
mod visits;

pub use health::*;
pub use results::*;
pub use values::*;
pub use visits::*;

// ---------------------------------------------------------------------------------------------
// Ids and times

pub use crate::ids::ItemId;

/// How much of a moment the EHR gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Precision {
    Year,
    Month,
    Day,
    /// A date and a time of day.
    Time,
}

/// A moment or a date of the record, as the EHR gave it (a year, a month, a day, or an instant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    /// For sorting and comparing: milliseconds since the epoch (a date: its first moment, UTC).
    pub ms: i64,
    /// The calendar day in the clinic's time zone (a year or month: its first day), for date
    /// filters.
    pub day: CalendarDate,
    pub precision: Precision,
    /// How it reads, in the clinic's time zone: `Nov 23, 2026, 9:35 AM`, `Nov 23, 2026`,
    /// `November 2026`, `1975`.
    pub text: String,
}

impl PartialOrd for When {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for When {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ms.cmp(&other.ms).then(self.precision.cmp(&other.precision))
    }
}

// ---------------------------------------------------------------------------------------------
// When the record cannot be shown, and the link to the EHR's patient

/// Why a page cannot show the record: what the server tells the page (the cause stays in the
/// server's log, by kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordProblem {
    /// The EHR did not answer in time, refused the portal, or answered with something that
    /// cannot be read.
    Unavailable,
    /// The portal does not know which patient of the EHR this is (staff link them).
    NotLinked,
}

impl RecordProblem {
    /// The words the page shows.
    pub fn message(self) -> &'static str {
        match self {
            RecordProblem::Unavailable => "Your record cannot be shown right now. Please try again later.",
            RecordProblem::NotLinked => "Your medical record is not available in the portal yet. Please call the office and ask them to connect it.",
        }
    }
}

/// How a portal patient was linked to their FHIR Patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkHow {
    /// Set by a member of staff on the patient's page.
    Staff,
    /// Found once by the record number (an identifier search) and remembered.
    RecordNumber,
}

impl LinkHow {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkHow::Staff => "staff",
            LinkHow::RecordNumber => "record-number",
        }
    }
    pub fn parse(s: &str) -> Option<LinkHow> {
        [LinkHow::Staff, LinkHow::RecordNumber].into_iter().find(|h| h.as_str() == s)
    }
}

/// The link of a portal patient to the EHR, as the staff patient page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLink {
    /// The FHIR Patient id in the EHR.
    pub fhir_patient_id: String,
    pub how: LinkHow,
    pub linked_at: i64,
    /// The member of staff who set it (their name); none when matched by record number.
    pub linked_by: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The whole record

/// The Health Summary of the home page: active problems, allergies, current medications, and
/// the newest results (the page decides what is "new" from what the patient has seen).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    pub active_issues: Vec<HealthIssue>,
    pub allergies: Vec<Allergy>,
    pub current_medications: Vec<Medication>,
    /// The results released in the last 30 days, newest first.
    pub recent_results: Vec<TestResult>,
}

#[cfg(test)]
mod tests;
