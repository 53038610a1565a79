//! Medications, allergies, immunizations and health issues.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MedicationStatus {
    Active,
    OnHold,
    Stopped,
    Completed,
    Cancelled,
    Draft,
    Unknown,
}

impl MedicationStatus {
    /// From a MedicationRequest status; `entered-in-error` has none (never shown).
    pub fn of_fhir(s: &str) -> Option<MedicationStatus> {
        Some(match s {
            "active" => MedicationStatus::Active,
            "on-hold" => MedicationStatus::OnHold,
            "stopped" => MedicationStatus::Stopped,
            "completed" => MedicationStatus::Completed,
            "cancelled" => MedicationStatus::Cancelled,
            "draft" => MedicationStatus::Draft,
            "entered-in-error" => return None,
            _ => MedicationStatus::Unknown,
        })
    }
    pub fn words(self) -> &'static str {
        match self {
            MedicationStatus::Active => "Active",
            MedicationStatus::OnHold => "On hold",
            MedicationStatus::Stopped => "Stopped",
            MedicationStatus::Completed => "Completed",
            MedicationStatus::Cancelled => "Cancelled",
            MedicationStatus::Draft => "Not yet ordered",
            MedicationStatus::Unknown => "Status not given",
        }
    }
    /// Taken now (or paused): on the "current medications" list.
    pub fn is_current(self) -> bool {
        matches!(self, MedicationStatus::Active | MedicationStatus::OnHold)
    }
}

/// A prescription (a MedicationRequest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Medication {
    pub id: ItemId,
    pub name: String,
    pub status: MedicationStatus,
    /// How to take it, in the prescriber's words.
    pub instructions: Option<String>,
    pub prescriber: Option<String>,
    pub prescribed: Option<When>,
    pub start: Option<When>,
    pub end: Option<When>,
    /// Why it was stopped or changed ("Dose increased to 1000 mg").
    pub status_reason: Option<String>,
    /// What it treats.
    pub reasons: Vec<String>,
}

/// Current (active or on hold) and past medications, each newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Medications {
    pub current: Vec<Medication>,
    pub past: Vec<Medication>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllergyKind {
    Allergy,
    Intolerance,
    Unspecified,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Criticality {
    Low,
    High,
    Unable,
}

impl Criticality {
    pub fn words(self) -> &'static str {
        match self {
            Criticality::Low => "Low risk",
            Criticality::High => "High risk",
            Criticality::Unable => "Risk not assessed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

impl Severity {
    pub fn words(self) -> &'static str {
        match self {
            Severity::Mild => "Mild",
            Severity::Moderate => "Moderate",
            Severity::Severe => "Severe",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// What happened ("Hives", "Cough").
    pub manifestations: Vec<String>,
    pub severity: Option<Severity>,
    pub description: Option<String>,
}

/// An allergy or intolerance. Refuted and entered-in-error ones are not shown; inactive and
/// resolved ones are, marked so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allergy {
    pub id: ItemId,
    pub substance: String,
    pub kind: AllergyKind,
    /// food, medication, environment, biologic.
    pub categories: Vec<String>,
    pub criticality: Option<Criticality>,
    pub reactions: Vec<Reaction>,
    /// Active (false: inactive or resolved).
    pub active: bool,
    pub onset: Option<When>,
    pub recorded: Option<When>,
    pub notes: Vec<String>,
}

/// The allergy list, active first. Empty when the EHR holds none for the patient: the page then
/// says "No known allergies on record", never an empty table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Allergies {
    pub items: Vec<Allergy>,
    /// The EHR's "no known allergies" statement (its words), when it recorded one and lists
    /// no active allergy: "No known allergies" is a finding; an empty list only says that
    /// none is on record.
    pub no_known: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImmunizationStatus {
    Given,
    NotGiven,
}

/// A vaccination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Immunization {
    pub id: ItemId,
    pub vaccine: String,
    pub status: ImmunizationStatus,
    /// Why not given, when not given.
    pub status_reason: Option<String>,
    pub date: Option<When>,
    pub dose: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub given_by: Vec<String>,
    pub location: Option<String>,
    pub lot_number: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IssueStatus {
    Active,
    Recurrence,
    Relapse,
    Inactive,
    Remission,
    Resolved,
    Unknown,
}

impl IssueStatus {
    pub fn of_fhir(s: &str) -> IssueStatus {
        match s {
            "active" => IssueStatus::Active,
            "recurrence" => IssueStatus::Recurrence,
            "relapse" => IssueStatus::Relapse,
            "inactive" => IssueStatus::Inactive,
            "remission" => IssueStatus::Remission,
            "resolved" => IssueStatus::Resolved,
            _ => IssueStatus::Unknown,
        }
    }
    pub fn words(self) -> &'static str {
        match self {
            IssueStatus::Active => "Active",
            IssueStatus::Recurrence => "Returned",
            IssueStatus::Relapse => "Relapse",
            IssueStatus::Inactive => "Inactive",
            IssueStatus::Remission => "In remission",
            IssueStatus::Resolved => "Resolved",
            IssueStatus::Unknown => "Status not given",
        }
    }
    /// On the "active" list (active, returned, relapse; an issue without status too: hiding
    /// it would be worse than listing it).
    pub fn is_active(self) -> bool {
        matches!(self, IssueStatus::Active | IssueStatus::Recurrence | IssueStatus::Relapse | IssueStatus::Unknown)
    }
}

/// A health issue (a Condition on the problem list, or a health concern).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthIssue {
    pub id: ItemId,
    pub name: String,
    pub status: IssueStatus,
    pub onset: Option<When>,
    pub resolved: Option<When>,
    pub recorded: Option<When>,
    pub notes: Vec<String>,
}

/// Health issues: active and resolved (or inactive, in remission), each newest onset first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthIssues {
    pub active: Vec<HealthIssue>,
    pub resolved: Vec<HealthIssue>,
}
