//! The audit trail (SPEC R-AUD-1): an append-only, hash-chained record of sign-ins, sign-outs,
//! time-outs and every view or change of personal records.

#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
pub use server::*;

use serde::{Deserialize, Serialize};

/// What happened. The string forms are stored and never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    SignOut,
    SessionTimeout,
    SessionEnded,
    AccountCreated,
    EnrolmentRequested,
    EnrolmentApproved,
    EnrolmentDeclined,
    PatientRecordCreated,
    PatientRecordViewed,
    ActivationCodeIssued,
    ActivationCodeRevoked,
    ActivationFailed,
    AccountActivated,
    TermsPublished,
    TermsAccepted,
    PaperlessEnrolled,
    PasswordChanged,
    PasswordReminderDeferred,
    PasswordResetRequested,
    PasswordReset,
    UserIdReminderRequested,
    UserIdReminderOpened,
    EmailChangeRequested,
    EmailChanged,
    OtherSessionsEnded,
    AccessTerminated,
    AccessRestored,
    SecurityViewed,
    AuditViewed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 32] = [
        AuditAction::SignInSucceeded,
        AuditAction::SignInFailed,
        AuditAction::SignInThrottled,
        AuditAction::SignOut,
        AuditAction::SessionTimeout,
        AuditAction::SessionEnded,
        AuditAction::AccountCreated,
        AuditAction::EnrolmentRequested,
        AuditAction::EnrolmentApproved,
        AuditAction::EnrolmentDeclined,
        AuditAction::PatientRecordCreated,
        AuditAction::PatientRecordViewed,
        AuditAction::ActivationCodeIssued,
        AuditAction::ActivationCodeRevoked,
        AuditAction::ActivationFailed,
        AuditAction::AccountActivated,
        AuditAction::TermsPublished,
        AuditAction::TermsAccepted,
        AuditAction::PaperlessEnrolled,
        AuditAction::PasswordChanged,
        AuditAction::PasswordReminderDeferred,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordReset,
        AuditAction::UserIdReminderRequested,
        AuditAction::UserIdReminderOpened,
        AuditAction::EmailChangeRequested,
        AuditAction::EmailChanged,
        AuditAction::OtherSessionsEnded,
        AuditAction::AccessTerminated,
        AuditAction::AccessRestored,
        AuditAction::SecurityViewed,
        AuditAction::AuditViewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "sign-in.succeeded",
            AuditAction::SignInFailed => "sign-in.failed",
            AuditAction::SignInThrottled => "sign-in.throttled",
            AuditAction::SignOut => "sign-out",
            AuditAction::SessionTimeout => "session.timeout",
            AuditAction::SessionEnded => "session.ended",
            AuditAction::AccountCreated => "account.created",
            AuditAction::EnrolmentRequested => "enrolment.requested",
            AuditAction::EnrolmentApproved => "enrolment.approved",
            AuditAction::EnrolmentDeclined => "enrolment.declined",
            AuditAction::PatientRecordCreated => "patient.created",
            AuditAction::PatientRecordViewed => "patient.viewed",
            AuditAction::ActivationCodeIssued => "activation-code.issued",
            AuditAction::ActivationCodeRevoked => "activation-code.revoked",
            AuditAction::ActivationFailed => "activation.failed",
            AuditAction::AccountActivated => "account.activated",
            AuditAction::TermsPublished => "terms.published",
            AuditAction::TermsAccepted => "terms.accepted",
            AuditAction::PaperlessEnrolled => "billing.paperless-on",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::PasswordReminderDeferred => "password.reminder-deferred",
            AuditAction::PasswordResetRequested => "password.reset-requested",
            AuditAction::PasswordReset => "password.reset",
            AuditAction::UserIdReminderRequested => "user-id.reminder-requested",
            AuditAction::UserIdReminderOpened => "user-id.reminder-opened",
            AuditAction::EmailChangeRequested => "email.change-requested",
            AuditAction::EmailChanged => "email.changed",
            AuditAction::OtherSessionsEnded => "session.others-ended",
            AuditAction::AccessTerminated => "access.terminated",
            AuditAction::AccessRestored => "access.restored",
            AuditAction::SecurityViewed => "security.viewed",
            AuditAction::AuditViewed => "audit.viewed",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// How a patient (or an auditor) reads it.
    pub fn describe(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "Signed in",
            AuditAction::SignInFailed => "Sign-in failed (wrong password)",
            AuditAction::SignInThrottled => "Sign-in refused (too many attempts)",
            AuditAction::SignOut => "Signed out",
            AuditAction::SessionTimeout => "Signed out after inactivity",
            AuditAction::SessionEnded => "Session ended",
            AuditAction::AccountCreated => "Account created",
            AuditAction::EnrolmentRequested => "Enrolment requested",
            AuditAction::EnrolmentApproved => "Enrolment request approved",
            AuditAction::EnrolmentDeclined => "Enrolment request declined",
            AuditAction::PatientRecordCreated => "Patient record created",
            AuditAction::PatientRecordViewed => "Patient record viewed by staff",
            AuditAction::ActivationCodeIssued => "Activation code issued",
            AuditAction::ActivationCodeRevoked => "Activation code revoked",
            AuditAction::ActivationFailed => "Activation attempt failed",
            AuditAction::AccountActivated => "Account set up with activation code",
            AuditAction::TermsPublished => "Terms version published",
            AuditAction::TermsAccepted => "Terms and conditions accepted",
            AuditAction::PaperlessEnrolled => "Enrolled in paperless billing",
            AuditAction::PasswordChanged => "Password changed",
            AuditAction::PasswordReminderDeferred => "Password change put off",
            AuditAction::PasswordResetRequested => "Password reset e-mail requested",
            AuditAction::PasswordReset => "Password reset by e-mail link",
            AuditAction::UserIdReminderRequested => "User ID reminder e-mail requested",
            AuditAction::UserIdReminderOpened => "User ID reminder link opened",
            AuditAction::EmailChangeRequested => "E-mail address change requested",
            AuditAction::EmailChanged => "E-mail address changed",
            AuditAction::OtherSessionsEnded => "Other sessions signed out",
            AuditAction::AccessTerminated => "Portal access ended by the clinic",
            AuditAction::AccessRestored => "Portal access restored by the clinic",
            AuditAction::SecurityViewed => "Security view opened",
            AuditAction::AuditViewed => "Audit trail searched",
        }
    }
}
