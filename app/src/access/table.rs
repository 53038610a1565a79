//! The gates of every server function (by endpoint, served at `/api/<endpoint>`) and of every
//! download. Pages have theirs in the route table (`crate::app`). A server function or download
//! missing here is not served: the session middleware answers 404 before it runs.

use super::{Gate, Permission::*};
use crate::types::PendingStep::*;

const PASSWORD_STEPS: &[crate::types::PendingStep] = &[PasswordReminder, PasswordRequired];

/// Every server function's gate.
pub const FUNCTIONS: &[(&str, Gate)] = &[
    // Signing in and out, and the forms anyone may send.
    ("sign-in", Gate::PUBLIC),
    ("sign-out", Gate::PUBLIC),
    ("passkeys/sign-in-start", Gate::PUBLIC),
    ("passkeys/sign-in-finish", Gate::PUBLIC),
    ("maintenance/dismiss", Gate::PUBLIC),
    ("terms/current", Gate::PUBLIC),
    ("enrolment/request", Gate::PUBLIC),
    // Activation is held together by its own short-lived cookie, not by a session.
    ("activation/verify", Gate::PUBLIC),
    ("activation/start", Gate::PUBLIC),
    ("activation/user-id", Gate::PUBLIC),
    ("activation/complete", Gate::PUBLIC),
    // Recovery links carry their own single-use secret.
    ("recovery/forgot-password", Gate::PUBLIC),
    ("recovery/forgot-user-id", Gate::PUBLIC),
    ("recovery/link-valid", Gate::PUBLIC),
    ("recovery/reset-password", Gate::PUBLIC),
    ("recovery/show-user-id", Gate::PUBLIC),
    ("recovery/revealed-user-id", Gate::PUBLIC),
    ("recovery/confirm-email", Gate::PUBLIC),
    // The page's countdown ends whatever session it had, if any.
    ("session/time-out", Gate::PUBLIC),
    ("session/status", Gate::ANY_SESSION),
    ("session/stay", Gate::ANY_SESSION),
    // The steps right after sign-in.
    ("second-step/code", Gate::waiting(SecondStep)),
    ("second-step/held", Gate::waiting(SecondStep)),
    ("second-step/passkey-start", Gate::waiting(SecondStep)),
    ("second-step/passkey", Gate::waiting(SecondStep)),
    ("terms/accept", Gate::PATIENT.during(&[Terms])),
    ("account/change-password", Gate::PATIENT.during(PASSWORD_STEPS)),
    ("account/remind-later", Gate::waiting(PasswordReminder)),
    // Sign-in methods: open to staff while they set up the second step their role requires.
    ("passkeys/view", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("passkeys/prepare", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("passkeys/finish-add", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("passkeys/remove", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("second-step/view", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("second-step/begin", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("second-step/confirm", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    ("second-step/off", Gate::SIGNED_IN.during(&[SecondStepSetup])),
    // The patient's own account and record.
    ("account/overview", Gate::PATIENT),
    ("account/change-email", Gate::PATIENT),
    ("account/resend-confirmation", Gate::PATIENT),
    ("account/end-other-sessions", Gate::PATIENT),
    ("account/activity", Gate::PATIENT),
    ("terms/mine", Gate::PATIENT),
    ("messages/overview", Gate::PATIENT),
    ("messages/unread", Gate::PATIENT),
    ("messages/compose", Gate::PATIENT),
    ("messages/thread", Gate::PATIENT),
    ("messages/send", Gate::PATIENT),
    ("messages/notices", Gate::PATIENT),
    ("billing/accounts", Gate::PATIENT),
    ("billing/account", Gate::PATIENT),
    ("billing/delivery", Gate::PATIENT),
    ("visits/list", Gate::PATIENT),
    ("visits/one", Gate::PATIENT),
    ("visits/begin", Gate::PATIENT),
    ("questionnaires/list", Gate::PATIENT),
    ("questionnaires/open-count", Gate::PATIENT),
    ("questionnaires/open", Gate::PATIENT),
    ("questionnaires/save", Gate::PATIENT),
    ("questionnaires/surveys", Gate::PATIENT),
    // My Medical Record: the patient's own, read from the EHR and audited (`crate::record::api`).
    ("record/results", Gate::PATIENT),
    ("record/trends", Gate::PATIENT),
    ("record/trend", Gate::PATIENT),
    ("record/medications", Gate::PATIENT),
    ("record/allergies", Gate::PATIENT),
    ("record/immunizations", Gate::PATIENT),
    ("record/health-issues", Gate::PATIENT),
    ("record/visits", Gate::PATIENT),
    ("record/visit", Gate::PATIENT),
    ("record/documents", Gate::PATIENT),
    ("record/summary", Gate::PATIENT),
    // The patient's own choice of when new results show (`crate::record::release`).
    ("record/release", Gate::PATIENT),
    ("record/release/choose", Gate::PATIENT),
    // Staff: patients' access.
    ("enrolment/queue", Gate::staff_may(&[ManagePatientAccess])),
    ("enrolment/detail", Gate::staff_may(&[ManagePatientAccess])),
    ("enrolment/approve", Gate::staff_may(&[ManagePatientAccess])),
    ("enrolment/decline", Gate::staff_may(&[ManagePatientAccess])),
    ("patients/search", Gate::staff_may(&[ManagePatientAccess])),
    ("patients/detail", Gate::staff_may(&[ManagePatientAccess])),
    ("patients/issue-code", Gate::staff_may(&[ManagePatientAccess])),
    ("patients/revoke-code", Gate::staff_may(&[ManagePatientAccess])),
    ("patients/new-code", Gate::staff_may(&[ManagePatientAccess])),
    ("access/terminate", Gate::staff_may(&[ManagePatientAccess])),
    ("access/restore", Gate::staff_may(&[ManagePatientAccess])),
    ("passkeys/remove-for-patient", Gate::staff_may(&[ManagePatientAccess])),
    // A patient's message limits, on the patient's page: lifted for a day.
    ("staff/messages/limits", Gate::staff_may(&[ManagePatientAccess])),
    ("staff/messages/lift-limits", Gate::staff_may(&[ManagePatientAccess])),
    // Which EHR patient a portal patient is (the link their medical record is read through).
    ("staff/record/link", Gate::staff_may(&[ManagePatientAccess])),
    ("staff/record/unlink", Gate::staff_may(&[ManagePatientAccess])),
    // Staff: messages.
    ("staff/messages/inbox", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/thread", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/patient-threads", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/reply", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/handled", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/forward", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/patients", Gate::staff_may(&[WorkMessages])),
    ("staff/messages/start", Gate::staff_may(&[WorkMessages])),
    ("staff/holidays/list", Gate::staff_may(&[SeeHolidays])),
    ("staff/holidays/change", Gate::staff_may(&[SetUpMessaging])),
    ("staff/pools/list", Gate::staff_may(&[SetUpMessaging])),
    ("staff/pools/create", Gate::staff_may(&[SetUpMessaging])),
    ("staff/pools/member", Gate::staff_may(&[SetUpMessaging])),
    ("staff/pools/clinical", Gate::staff_may(&[SetUpMessaging])),
    ("staff/care-teams/load", Gate::staff_may(&[SetUpMessaging])),
    ("staff/care-teams/search", Gate::staff_may(&[SetUpMessaging])),
    ("staff/care-teams/change", Gate::staff_may(&[SetUpMessaging])),
    ("staff/absences/list", Gate::staff_may(&[SetOutOfOffice])),
    ("staff/absences/schedule", Gate::staff_may(&[SetOutOfOffice])),
    ("staff/absences/cancel", Gate::staff_may(&[SetOutOfOffice])),
    // Staff: billing.
    ("staff/billing/search", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/open", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/account", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/delivery", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/statement-form", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/post", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/clear", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/import-result", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/import", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/print-queue", Gate::staff_may(&[WorkBilling])),
    ("staff/billing/printed", Gate::staff_may(&[WorkBilling])),
    // Staff: questionnaires and lessons.
    ("staff/questionnaires/library", Gate::staff_may(&[EditFormLibrary, AssignForms])),
    ("staff/questionnaires/import", Gate::staff_may(&[EditFormLibrary])),
    ("staff/questionnaires/clear", Gate::staff_may(&[EditFormLibrary])),
    ("staff/questionnaires/samples", Gate::staff_may(&[EditFormLibrary])),
    ("staff/questionnaires/patient", Gate::staff_may(&[AssignForms])),
    ("staff/questionnaires/assign", Gate::staff_may(&[AssignForms])),
    ("staff/questionnaires/form", Gate::staff_may(&[ReadAnswers])),
    ("staff/questionnaires/response", Gate::staff_may(&[ReadAnswers])),
    ("staff/questionnaires/reason", Gate::staff_may(&[ReadAnswers])),
    // Staff: video visits.
    ("staff/visits", Gate::staff_may(&[ScheduleVisits])),
    ("staff/visits/schedule", Gate::staff_may(&[ScheduleVisits])),
    ("staff/visits/cancel", Gate::staff_may(&[ScheduleVisits])),
    // Staff: administration and review.
    ("security/overview", Gate::staff_may(&[ReviewSecurity])),
    ("audit/search", Gate::staff_may(&[ReviewSecurity])),
    ("terms/versions", Gate::staff_may(&[PublishTerms])),
    ("terms/publish", Gate::staff_may(&[PublishTerms])),
    ("staff/maintenance/list", Gate::staff_may(&[ScheduleMaintenance])),
    ("staff/maintenance/schedule", Gate::staff_may(&[ScheduleMaintenance])),
    ("staff/maintenance/cancel", Gate::staff_may(&[ScheduleMaintenance])),
    ("second-step/policy", Gate::staff_may(&[SetSecondStepPolicy])),
    // Codes of results given in person, never shown in the portal (`crate::record::release`).
    ("staff/record/hidden-codes", Gate::staff_may(&[HideResultCodes])),
    ("staff/record/hidden-codes/add", Gate::staff_may(&[HideResultCodes])),
    ("staff/record/hidden-codes/remove", Gate::staff_may(&[HideResultCodes])),
];

/// Every download's gate (served by `server/src/downloads.rs`), by path pattern.
pub const DOWNLOADS: &[(&str, Gate)] = &[
    // A patient's own attachments, or a conversation the member of staff may read.
    ("/attachments/:id", Gate { who: super::Who::PatientOrStaffMay(&[WorkMessages]), also_during: &[] }),
    ("/billing/statements/:file.pdf", Gate::PATIENT),
    // The patient's own record: a document's file, and Download My Record (audited).
    ("/record/documents/:id", Gate::PATIENT),
    ("/record/download/fhir.json", Gate::PATIENT),
    ("/record/download/summary.pdf", Gate::PATIENT),
    ("/staff/billing/statements/:file.pdf", Gate::staff_may(&[WorkBilling])),
    ("/staff/billing/print-queue.pdf", Gate::staff_may(&[WorkBilling])),
    ("/staff/billing/print-queue.csv", Gate::staff_may(&[WorkBilling])),
    ("/staff/questionnaires/fhir/questionnaire/:file.json", Gate::staff_may(&[EditFormLibrary])),
    ("/staff/questionnaires/fhir/response/:file.json", Gate::staff_may(&[ReadAnswers])),
];

pub fn function_gate(endpoint: &str) -> Option<Gate> {
    FUNCTIONS.iter().find(|(e, _)| *e == endpoint).map(|(_, g)| *g)
}

pub fn download_gate(path: &str) -> Option<Gate> {
    DOWNLOADS.iter().find(|(pattern, _)| super::path_matches(pattern, path)).map(|(_, g)| *g)
}

/// Whether the download route `axum_path` (axum's `{name}` form) has a gate here: the server
/// registers no download route without one.
pub fn has_download_route(axum_path: &str) -> bool {
    DOWNLOADS.iter().any(|(pattern, _)| {
        let ours: Vec<&str> = pattern.split('/').map(|s| if s.starts_with(':') { s.split('.').next().unwrap_or(s) } else { s }).collect();
        let theirs: Vec<String> = axum_path
            .split('/')
            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => format!(":{name}"),
                None => s.to_string(),
            })
            .collect();
        ours.len() == theirs.len() && ours.iter().zip(&theirs).all(|(a, b)| a == b)
    })
}
