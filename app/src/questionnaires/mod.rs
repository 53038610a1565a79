//! Questionnaires, visit surveys and education lessons under My Medical Record, with the survey
//! preference, in FHIR formats (SPEC R-QST-1 … R-QST-4).
//!
//! - `form.rs`: a form as the portal holds it (the supported FHIR subset as types);
//!   `fhir.rs`: Questionnaire import (refusing what is outside the subset, naming the item and
//!   the feature) and export, QuestionnaireResponse export; `answers.rs`: answers checked against
//!   a form version, `enableWhen`, a lesson's check (on the server, and in the browser through
//!   the `checks.rs` island, so the rules are written once).
//! - `patient_pages.rs`: My Medical Record → Questionnaires (the list, the survey preference,
//!   filling a form); `staff_pages.rs`: the library, assigning, answers.
//! - `server.rs`: who may see what, and the database.
//!
//! A form has versions; importing a form again publishes its next version. An assignment is
//! pinned to the version current when it was assigned, and its answers keep that version.

pub mod answers;
mod checks;
#[cfg(feature = "ssr")]
pub mod fhir;
pub mod form;
mod patient_pages;
mod render;
#[cfg(feature = "ssr")]
pub mod server;
mod staff_library;
mod staff_pages;

pub use patient_pages::{open_questionnaires, FillPage, QuestionnairesPage};
pub use staff_library::LibraryPage;
pub use staff_pages::{FormResponsesPage, PatientQuestionnairesPage, ResponsePage};

use crate::types::StaffRole;
use answers::{ItemError, RawAnswers};
use form::{Form, FormKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How long a recorded reason opens a patient's answers to a clinician outside the care team.
pub const BREAK_GLASS_MINUTES: i64 = 60;
/// The shortest reason accepted (a few words, not "x").
pub const REASON_MIN_CHARS: usize = 20;
pub const REASON_MAX_CHARS: usize = 500;

/// How a member of staff may read a patient's questionnaire answers (health information, read
/// by the minimum-necessary rule): clinicians of the patient's care team read them; any other
/// clinician first gives a reason, which is recorded and audited ("break the glass"), and reads
/// them for [`BREAK_GLASS_MINUTES`]; no other role reads them at all (they never get this far).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerAccess {
    CareTeam,
    /// Under a recorded reason, until this moment (text in the clinic's time zone).
    Reason {
        until: String,
    },
    NeedsReason,
}

impl AnswerAccess {
    pub fn reads(&self) -> bool {
        !matches!(self, AnswerAccess::NeedsReason)
    }
}

/// Which kinds a role may assign.
pub fn may_assign(role: StaffRole, kind: FormKind) -> bool {
    match role {
        StaffRole::Clinician => true,
        StaffRole::FrontDesk => kind == FormKind::Survey,
        _ => false,
    }
}

/// The forms shipped with the portal, written for this project: (name, file, Questionnaire).
pub const SAMPLES: [(FormKind, &str, &str); 3] = [
    (FormKind::Questionnaire, "mood-check", include_str!("samples/mood-check.json")),
    (FormKind::Survey, "visit-experience", include_str!("samples/visit-experience.json")),
    (FormKind::Lesson, "portal-safety", include_str!("samples/portal-safety.json")),
];

/// Where an assignment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignmentState {
    Waiting,
    InProgress,
    Submitted,
}

impl AssignmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentState::Waiting => "waiting",
            AssignmentState::InProgress => "in_progress",
            AssignmentState::Submitted => "submitted",
        }
    }
    pub fn parse(s: &str) -> Option<AssignmentState> {
        [AssignmentState::Waiting, AssignmentState::InProgress, AssignmentState::Submitted].into_iter().find(|a| a.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            AssignmentState::Waiting => "Waiting",
            AssignmentState::InProgress => "In progress",
            AssignmentState::Submitted => "Done",
        }
    }
}

/// A line of an assignment list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentSummary {
    pub id: String,
    pub title: String,
    pub kind: FormKind,
    pub version: i64,
    pub state: AssignmentState,
    pub due_date: Option<String>,
    pub overdue: bool,
    pub note: Option<String>,
    pub assigned_at: String,
    pub assigned_by: String,
    pub saved_at: Option<String>,
    pub submitted_at: Option<String>,
    pub result: Option<String>,
}

/// The patient's Questionnaires page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyQuestionnaires {
    pub assignments: Vec<AssignmentSummary>,
    pub surveys_on: bool,
}

/// A form to fill (or read back): the version it is answered on, what was typed, and the
/// messages of the last check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FillView {
    pub assignment: AssignmentSummary,
    pub form: Form,
    pub raw: RawAnswers,
    pub errors: Vec<ItemError>,
    pub enabled: BTreeSet<String>,
    pub read_only: bool,
}

/// A library form with its latest version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormSummary {
    pub id: String,
    pub kind: FormKind,
    pub title: String,
    pub version: i64,
    pub published_at: String,
    pub submitted: i64,
}
