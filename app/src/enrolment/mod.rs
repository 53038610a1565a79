//! Enrolment (SPEC R-ENR-1 … R-ENR-3, R-BIL-1): a person asks for access online; front-desk
//! staff match the request to a patient record and issue an activation code; the patient
//! enters the code with their birth date, chooses a user ID and a password, accepts the terms,
//! and is enrolled in paperless billing.
//!
//! Every form here is a plain HTML form that works without JavaScript. Nothing personal ever
//! travels in a URL: errors come back as short notice codes (`EnrolNotice`, `ActivateNotice`, …).

pub mod code;
mod pages;
mod queue;
#[cfg(feature = "ssr")]
pub mod server;

pub use pages::{ActivatePage, ChooseCredentialsPage, EnrolPage, EnrolSentPage, UserIdCheck};
pub use queue::{EnrolmentQueuePage, EnrolmentRequestPage};

use crate::patients::{PatientId, PatientSummary};
use crate::terms::TermsDocument;
use serde::{Deserialize, Serialize};

/// The cookie that carries a patient from "enter your code" to "choose your user ID".
pub const ACTIVATION_COOKIE: &str = "portal_activation";

/// What a person types into the request form.
#[derive(Clone, Debug, Default)]
pub struct EnrolmentForm {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub phone: String,
    pub mrn: String,
}

/// A request as the queue lists it (read straight from the queue's queries in `server.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RequestSummary {
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub email: String,
    pub phone: Option<String>,
    pub mrn: Option<String>,
    pub submitted_at: i64,
    pub state: String,
    pub decline_reason: Option<String>,
    pub patient_id: Option<PatientId>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
}

/// A request with the patient records it may belong to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestDetail {
    pub request: RequestSummary,
    pub candidates: Vec<PatientSummary>,
}

/// What the "choose your user ID and password" page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationStart {
    pub given_name: String,
    /// The address on the record, for the patient to confirm or correct.
    pub email: String,
    /// The terms to accept, when the patient has not accepted the version in force.
    pub terms: Option<TermsDocument>,
}

/// The answer to "is this user ID free?": the same shape whatever the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserIdAnswer {
    pub available: bool,
    pub message: String,
}

/// A rough check of an e-mail address: something@domain.tld, no spaces, not too long. The
/// real check is the mail that reaches it.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// How the address in a request compares with the address on a patient record. An activation
/// code is e-mailed only to the record's address (issue 14): whoever asks for access can type any
/// address, and a code sent to it would let anyone who knows a patient's name and birth date
/// into that patient's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressMatch {
    /// The same address, spaces around it and letter case aside.
    Same,
    /// The record has another address.
    Differs,
    /// The record has no address.
    RecordHasNone,
}

impl AddressMatch {
    pub fn of(request: &str, record: Option<&str>) -> AddressMatch {
        let normalise = |a: &str| a.trim().to_lowercase();
        match record.map(normalise).filter(|r| !r.is_empty()) {
            None => AddressMatch::RecordHasNone,
            Some(r) if r == normalise(request) => AddressMatch::Same,
            Some(_) => AddressMatch::Differs,
        }
    }
}

/// The reasons staff can give for declining a request.
pub const DECLINE_REASONS: &[(&str, &str)] = &[
    ("identity", "We could not confirm the person's identity"),
    ("duplicate", "Duplicate of another request"),
    ("has-account", "The patient already has a portal account"),
    ("not-a-patient", "Not a patient of this clinic"),
    ("other", "Other (see note)"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_roughly_checked() {
        assert!(plausible_email("dora.m@example.org"));
        assert!(!plausible_email("dora.m@example"));
        assert!(!plausible_email("dora m@example.org"));
        assert!(!plausible_email("@example.org"));
        assert!(!plausible_email("dora@@example.org"));
        assert!(!plausible_email("dora@.org"));
    }

    #[test]
    fn addresses_are_compared_as_people_type_them() {
        assert_eq!(AddressMatch::of(" Dora.Martinez@Example.org ", Some("dora.martinez@example.org")), AddressMatch::Same);
        assert_eq!(AddressMatch::of("dora.m@mailbox.test", Some("dora.martinez@example.org")), AddressMatch::Differs);
        assert_eq!(AddressMatch::of("dora.m@mailbox.test", Some("  ")), AddressMatch::RecordHasNone);
        assert_eq!(AddressMatch::of("dora.m@mailbox.test", None), AddressMatch::RecordHasNone);
        assert_eq!(AddressMatch::of("", None), AddressMatch::RecordHasNone, "no address matches no address");
    }
}
