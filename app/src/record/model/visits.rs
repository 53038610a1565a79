//! Visits and documents.

use super::*;

/// A document of the record (a DocumentReference released to the patient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: ItemId,
    pub title: String,
    /// The kind of document ("After Visit Summary", "Laboratory report").
    pub kind: String,
    pub date: Option<When>,
    pub authors: Vec<String>,
    /// `application/pdf`, `text/plain`…
    pub content_type: String,
    /// Bytes, when the EHR said.
    pub size: Option<u64>,
    pub visit: Option<ItemId>,
    /// An after-visit summary (LOINC 34133-9 or so named).
    pub after_visit_summary: bool,
}

/// A document's content, to show or download.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentContent {
    pub content_type: String,
    /// A file name for the download: the document's title, made safe, with an extension.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitStatus {
    Planned,
    InProgress,
    Finished,
    Cancelled,
    Unknown,
}

impl VisitStatus {
    pub fn of_fhir(s: &str) -> Option<VisitStatus> {
        Some(match s {
            "planned" | "arrived" | "triaged" => VisitStatus::Planned,
            "in-progress" | "onleave" => VisitStatus::InProgress,
            "finished" => VisitStatus::Finished,
            "cancelled" => VisitStatus::Cancelled,
            "entered-in-error" => return None,
            _ => VisitStatus::Unknown,
        })
    }
}

/// A visit as the list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub id: ItemId,
    pub start: Option<When>,
    pub end: Option<When>,
    /// "Office visit, established patient".
    pub kind: String,
    /// ambulatory, emergency, inpatient, virtual…
    pub setting: Option<String>,
    pub status: VisitStatus,
    /// Where: the location, else the organisation.
    pub place: Option<String>,
    pub clinicians: Vec<String>,
    /// Why the patient came.
    pub reasons: Vec<String>,
}

/// One visit with everything the patient may read of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub summary: VisitSummary,
    pub diagnoses: Vec<String>,
    /// Vital signs taken at the visit.
    pub vitals: Vec<TestResult>,
    /// Lab panels and single results of the visit.
    pub results: TestResults,
    /// Its after-visit summary and the notes released to the patient.
    pub documents: Vec<Document>,
}
