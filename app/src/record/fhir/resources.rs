//! The resources the portal reads (each with only the elements it shows).

use super::*;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub id: Option<String>,
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    #[serde(default)]
    pub name: Vec<HumanName>,
    pub birth_date: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceRange {
    pub low: Option<Quantity>,
    pub high: Option<Quantity>,
    pub text: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservationComponent {
    pub code: Option<CodeableConcept>,
    pub value_quantity: Option<Quantity>,
    pub value_string: Option<String>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_integer: Option<i64>,
    pub value_boolean: Option<bool>,
    pub data_absent_reason: Option<CodeableConcept>,
    #[serde(default)]
    pub interpretation: Vec<CodeableConcept>,
    #[serde(default)]
    pub reference_range: Vec<ReferenceRange>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub id: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_instant: Option<String>,
    pub effective_period: Option<Period>,
    pub issued: Option<String>,
    #[serde(default)]
    pub performer: Vec<Reference>,
    pub value_quantity: Option<Quantity>,
    pub value_string: Option<String>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_integer: Option<i64>,
    pub value_boolean: Option<bool>,
    pub data_absent_reason: Option<CodeableConcept>,
    #[serde(default)]
    pub interpretation: Vec<CodeableConcept>,
    #[serde(default)]
    pub note: Vec<Annotation>,
    #[serde(default)]
    pub reference_range: Vec<ReferenceRange>,
    #[serde(default)]
    pub has_member: Vec<Reference>,
    #[serde(default)]
    pub component: Vec<ObservationComponent>,
    #[serde(default)]
    pub based_on: Vec<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticReport {
    pub id: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub issued: Option<String>,
    #[serde(default)]
    pub performer: Vec<Reference>,
    #[serde(default)]
    pub results_interpreter: Vec<Reference>,
    #[serde(default)]
    pub result: Vec<Reference>,
    pub conclusion: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingRepeat {
    pub bounds_period: Option<Period>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    pub repeat: Option<TimingRepeat>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dosage {
    pub text: Option<String>,
    pub patient_instruction: Option<String>,
    pub timing: Option<Timing>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationRequest {
    pub id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<CodeableConcept>,
    pub intent: Option<String>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    pub subject: Option<Reference>,
    pub authored_on: Option<String>,
    pub requester: Option<Reference>,
    #[serde(default)]
    pub reason_code: Vec<CodeableConcept>,
    #[serde(default)]
    pub reason_reference: Vec<Reference>,
    #[serde(default)]
    pub dosage_instruction: Vec<Dosage>,
    /// Contained resources: a `Medication` named by `medicationReference: "#id"`.
    #[serde(default)]
    pub contained: Vec<Box<RawValue>>,
}

/// A Medication, for the name of a `medicationReference`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication {
    pub id: Option<String>,
    pub code: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllergyReaction {
    #[serde(default)]
    pub manifestation: Vec<CodeableConcept>,
    pub description: Option<String>,
    pub severity: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllergyIntolerance {
    pub id: Option<String>,
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub category: Vec<String>,
    pub criticality: Option<String>,
    pub code: Option<CodeableConcept>,
    pub patient: Option<Reference>,
    pub onset_date_time: Option<String>,
    pub onset_string: Option<String>,
    pub recorded_date: Option<String>,
    #[serde(default)]
    pub reaction: Vec<AllergyReaction>,
    #[serde(default)]
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImmunizationPerformer {
    pub actor: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolApplied {
    pub series: Option<String>,
    pub dose_number_positive_int: Option<u32>,
    pub dose_number_string: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Immunization {
    pub id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<CodeableConcept>,
    pub vaccine_code: Option<CodeableConcept>,
    pub patient: Option<Reference>,
    pub occurrence_date_time: Option<String>,
    pub occurrence_string: Option<String>,
    pub location: Option<Reference>,
    pub lot_number: Option<String>,
    pub site: Option<CodeableConcept>,
    pub route: Option<CodeableConcept>,
    #[serde(default)]
    pub performer: Vec<ImmunizationPerformer>,
    #[serde(default)]
    pub note: Vec<Annotation>,
    #[serde(default)]
    pub protocol_applied: Vec<ProtocolApplied>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    pub id: Option<String>,
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub onset_date_time: Option<String>,
    pub onset_period: Option<Period>,
    pub onset_string: Option<String>,
    pub abatement_date_time: Option<String>,
    pub abatement_period: Option<Period>,
    pub abatement_string: Option<String>,
    pub recorded_date: Option<String>,
    #[serde(default)]
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterParticipant {
    pub individual: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterDiagnosis {
    pub condition: Option<Reference>,
    pub rank: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterLocation {
    pub location: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encounter {
    pub id: Option<String>,
    pub status: Option<String>,
    pub class: Option<Coding>,
    #[serde(rename = "type", default)]
    pub kind: Vec<CodeableConcept>,
    pub subject: Option<Reference>,
    #[serde(default)]
    pub participant: Vec<EncounterParticipant>,
    pub period: Option<Period>,
    #[serde(default)]
    pub reason_code: Vec<CodeableConcept>,
    #[serde(default)]
    pub reason_reference: Vec<Reference>,
    #[serde(default)]
    pub diagnosis: Vec<EncounterDiagnosis>,
    #[serde(default)]
    pub location: Vec<EncounterLocation>,
    pub service_provider: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContent {
    pub attachment: Option<Attachment>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContext {
    #[serde(default)]
    pub encounter: Vec<Reference>,
    pub period: Option<Period>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference {
    pub id: Option<String>,
    pub status: Option<String>,
    pub doc_status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    pub subject: Option<Reference>,
    pub date: Option<String>,
    #[serde(default)]
    pub author: Vec<Reference>,
    pub description: Option<String>,
    #[serde(default)]
    pub content: Vec<DocumentContent>,
    pub context: Option<DocumentContext>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Practitioner {
    pub id: Option<String>,
    #[serde(default)]
    pub name: Vec<HumanName>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Organization {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Location {
    pub id: Option<String>,
    pub name: Option<String>,
}
