//! The clinic's patient records and, for front-desk staff, each patient's portal access: the
//! search, the patient page with activation codes (SPEC R-ENR-3) and ending or restoring access
//! (R-ENR-7). A record exists whether or not the patient uses the portal; an account links to
//! at most one record.

mod pages;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "ssr")]
pub use pages::show_code_once;
pub use pages::{HandOver, IssuedCodePage, PatientNotice, PatientPage, PatientsPage};

use serde::{Deserialize, Serialize};

pub use crate::ids::PatientId;

/// Whether the patient uses the portal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PortalAccess {
    NotEnrolled,
    Active { login: String },
    Terminated { login: String, reason: Option<String>, at: Option<i64> },
}

/// A record as staff see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub id: PatientId,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub paperless: bool,
    pub access: PortalAccess,
}

impl PatientSummary {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// An activation code as the patient page lists it (never the code itself: only its digest is
/// kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeSummary {
    pub id: String,
    pub issued_at: i64,
    pub issued_by: Option<String>,
    pub expires_at: i64,
    pub tries_left: i64,
    pub state: String,
}

/// What the patient page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientDetail {
    pub patient: PatientSummary,
    pub codes: Vec<CodeSummary>,
    /// Which patient of the EHR this is (the link the medical record is read through).
    pub record_link: Option<crate::record::RecordLink>,
}
