//! Types shared by the server and the browser: who is signed in and in what role.

use serde::{Deserialize, Serialize};

pub use crate::ids::UserId;

/// The staff roles of SPEC "Who uses it". Each staff account has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StaffRole {
    FrontDesk,
    Clinician,
    Billing,
    Administrator,
    Auditor,
}

impl StaffRole {
    pub const ALL: [StaffRole; 5] = [StaffRole::FrontDesk, StaffRole::Clinician, StaffRole::Billing, StaffRole::Administrator, StaffRole::Auditor];

    /// The value stored in the database and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::FrontDesk => "front-desk",
            StaffRole::Clinician => "clinician",
            StaffRole::Billing => "billing",
            StaffRole::Administrator => "administrator",
            StaffRole::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::FrontDesk => "Front desk",
            StaffRole::Clinician => "Clinician",
            StaffRole::Billing => "Billing",
            StaffRole::Administrator => "Administrator",
            StaffRole::Auditor => "Auditor",
        }
    }
}

/// Whether an account belongs to a patient or to a member of staff (and which role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountKind {
    Patient,
    Staff(StaffRole),
}

impl AccountKind {
    pub fn is_patient(self) -> bool {
        matches!(self, AccountKind::Patient)
    }
}

/// Which sign-in page a request came from. Patients and staff sign in on separate pages so
/// that each page can be opened or closed on its own (e.g. during maintenance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Portal {
    Patient,
    Staff,
}

impl Portal {
    pub fn sign_in_path(self) -> &'static str {
        match self {
            Portal::Patient => "/sign-in",
            Portal::Staff => "/staff/sign-in",
        }
    }
    pub fn home_path(self) -> &'static str {
        match self {
            Portal::Patient => "/home",
            Portal::Staff => "/staff",
        }
    }
    pub fn admits(self, kind: AccountKind) -> bool {
        matches!((self, kind), (Portal::Patient, AccountKind::Patient) | (Portal::Staff, AccountKind::Staff(_)))
    }
}

impl std::str::FromStr for Portal {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "patient" => Ok(Portal::Patient),
            "staff" => Ok(Portal::Staff),
            _ => Err(()),
        }
    }
}

/// The signed-in person as pages and server functions see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: UserId,
    pub display_name: String,
    pub kind: AccountKind,
}

/// A step the user must take, right after signing in, before anything else opens: the second
/// sign-in step, accept the terms in force (SPEC R-ENR-2), change an aged password (R-ENR-5),
/// or (staff) set up a second step their role requires. Kept on the session, so
/// the server enforces it on every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingStep {
    Terms,
    /// The password is past its age; the patient may put the change off this once.
    PasswordReminder,
    /// The password is past its age and must be changed now.
    PasswordRequired,
    /// The password was right; one of the user's second steps comes next: a code from the
    /// authenticator app (or a recovery code), or their own passkey.
    SecondStep,
    /// A member of staff whose role requires a second step has none: they set one up first.
    SecondStepSetup,
}

impl PendingStep {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingStep::Terms => "terms",
            PendingStep::PasswordReminder => "password-reminder",
            PendingStep::PasswordRequired => "password-required",
            PendingStep::SecondStep => "second-step",
            PendingStep::SecondStepSetup => "second-step-setup",
        }
    }
    pub fn parse(s: &str) -> Option<PendingStep> {
        [PendingStep::Terms, PendingStep::PasswordReminder, PendingStep::PasswordRequired, PendingStep::SecondStep, PendingStep::SecondStepSetup]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
    /// The page where the step is taken.
    pub fn path(self) -> &'static str {
        match self {
            PendingStep::Terms => "/account/terms",
            PendingStep::PasswordReminder | PendingStep::PasswordRequired => "/account/password",
            PendingStep::SecondStep => "/sign-in/code",
            PendingStep::SecondStepSetup => "/staff/second-step",
        }
    }
}
