//! Who may reach what, declared once.
//!
//! Every page (the route table in `app.rs`), every server function and every download
//! (`table.rs`) sits behind a [`Gate`]. The session middleware reads the gate of each request
//! before anything else runs (a path without a gate is not served); the navigation shows a link
//! only to those whose gate admits it; server functions check their gate again, with the same
//! [`Permission`]s, before they look at the record; downloads likewise. What each staff role
//! may do is one match: [`StaffRole::can`].
//!
//! A test walks every route and server function × {anonymous, another patient, a session
//! waiting for a step, each staff role} (`server/tests/api/access_table.rs`), so a page or
//! function added without a gate fails the build's tests, and one whose own check disagrees
//! with its gate fails them too.

pub mod table;

use crate::types::PendingStep;
use crate::types::{AccountKind, Portal, StaffRole};

/// What a member of staff may do. Each is the smallest piece of work a role needs (HIPAA's
/// minimum necessary): a role gets a permission only when its job needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Enrolment requests, patient records, activation codes, ending and restoring a patient's
    /// access, removing a patient's passkeys.
    ManagePatientAccess,
    /// The staff inbox: the conversations that the messaging rules let them read.
    WorkMessages,
    /// The clinic's holidays (they move message due dates), to read.
    SeeHolidays,
    /// Pools, care teams and holidays, to change.
    SetUpMessaging,
    /// Out of office: clinicians their own, administrators anyone's.
    SetOutOfOffice,
    /// Billing accounts, statements, imports and the print queue.
    WorkBilling,
    /// The questionnaire and lesson library: import, new versions, export.
    EditFormLibrary,
    /// Giving questionnaires, surveys and lessons to a patient.
    AssignForms,
    /// A patient's answers to questionnaires.
    ReadAnswers,
    /// Scheduling and cancelling video visits.
    ScheduleVisits,
    /// The security view and the audit trail.
    ReviewSecurity,
    /// Versions of the terms and conditions.
    PublishTerms,
    /// Maintenance windows.
    ScheduleMaintenance,
    /// Which roles must have a second sign-in step.
    SetSecondStepPolicy,
    /// The codes of results given in person (hidden from the patient's record, SPEC R-REC-3).
    HideResultCodes,
}

impl Permission {
    pub const ALL: [Permission; 15] = [
        Permission::ManagePatientAccess,
        Permission::WorkMessages,
        Permission::SeeHolidays,
        Permission::SetUpMessaging,
        Permission::SetOutOfOffice,
        Permission::WorkBilling,
        Permission::EditFormLibrary,
        Permission::AssignForms,
        Permission::ReadAnswers,
        Permission::ScheduleVisits,
        Permission::ReviewSecurity,
        Permission::PublishTerms,
        Permission::ScheduleMaintenance,
        Permission::SetSecondStepPolicy,
        Permission::HideResultCodes,
    ];
}

impl StaffRole {
    /// The one statement of what each role may do.
    pub const fn can(self, p: Permission) -> bool {
        use Permission::*;
        use StaffRole::*;
        match self {
            FrontDesk => matches!(p, ManagePatientAccess | WorkMessages | SeeHolidays | AssignForms | ScheduleVisits),
            Clinician => matches!(p, WorkMessages | SeeHolidays | SetOutOfOffice | EditFormLibrary | AssignForms | ReadAnswers | ScheduleVisits),
            Billing => matches!(p, WorkMessages | SeeHolidays | WorkBilling),
            Administrator => matches!(
                p,
                ManagePatientAccess
                    | SeeHolidays
                    | SetUpMessaging
                    | SetOutOfOffice
                    | EditFormLibrary
                    | ReviewSecurity
                    | PublishTerms
                    | ScheduleMaintenance
                    | SetSecondStepPolicy
                    | HideResultCodes
            ),
            Auditor => matches!(p, ReviewSecurity),
        }
    }
}

/// Who a gate lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// A patient.
    Patient,
    /// Any member of staff.
    Staff,
    /// A member of staff whose role has at least one of these permissions.
    StaffMay(&'static [Permission]),
    /// Anyone signed in, patient or staff.
    SignedIn,
    /// A patient, or a member of staff whose role has one of these permissions.
    PatientOrStaffMay(&'static [Permission]),
    /// Only a session waiting for this step (the second sign-in step's page and checks).
    Waiting(PendingStep),
}

/// The rule in front of a page, a server function or a download: who, and whether it stays
/// open while a step after sign-in is pending (by default nothing private does: until the
/// terms are accepted or the second step is passed, the session opens only that step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate {
    pub who: Who,
    pub also_during: &'static [PendingStep],
}

/// Every step a session can wait for.
pub const ALL_STEPS: &[PendingStep] =
    &[PendingStep::Terms, PendingStep::PasswordReminder, PendingStep::PasswordRequired, PendingStep::SecondStep, PendingStep::SecondStepSetup];

impl Gate {
    pub const PUBLIC: Gate = Gate { who: Who::Anyone, also_during: &[] };
    pub const PATIENT: Gate = Gate { who: Who::Patient, also_during: &[] };
    pub const STAFF: Gate = Gate { who: Who::Staff, also_during: &[] };
    pub const SIGNED_IN: Gate = Gate { who: Who::SignedIn, also_during: &[] };
    /// Any session, whatever it waits for: keeping it alive, ending it.
    pub const ANY_SESSION: Gate = Gate { who: Who::SignedIn, also_during: ALL_STEPS };

    pub const fn staff_may(permissions: &'static [Permission]) -> Gate {
        Gate { who: Who::StaffMay(permissions), also_during: &[] }
    }
    pub const fn waiting(step: PendingStep) -> Gate {
        Gate { who: Who::Waiting(step), also_during: &[] }
    }
    /// The same gate, open also while one of `steps` is pending.
    pub const fn during(self, steps: &'static [PendingStep]) -> Gate {
        Gate { who: self.who, also_during: steps }
    }

    /// The portal whose sign-in page leads here.
    pub fn portal(&self) -> Portal {
        match self.who {
            Who::Staff | Who::StaffMay(_) => Portal::Staff,
            _ => Portal::Patient,
        }
    }

    /// Whether a member of staff in `role`, with nothing pending, is let through.
    pub fn admits_role(&self, role: StaffRole) -> bool {
        self.verdict(Some(Visitor { kind: AccountKind::Staff(role), pending: None })) == Verdict::Open
    }

    /// What happens to `visitor` (`None`: not signed in) at this gate.
    pub fn verdict(&self, visitor: Option<Visitor>) -> Verdict {
        if self.who == Who::Anyone {
            return Verdict::Open;
        }
        let Some(v) = visitor else { return Verdict::SignIn(self.portal()) };
        if let Who::Waiting(step) = self.who {
            return if v.pending == Some(step) { Verdict::Open } else { Verdict::Forbidden };
        }
        let right_kind = matches!(
            (self.who, v.kind),
            (Who::Patient | Who::PatientOrStaffMay(_), AccountKind::Patient)
                | (Who::SignedIn, _)
                | (Who::Staff | Who::StaffMay(_) | Who::PatientOrStaffMay(_), AccountKind::Staff(_))
        );
        if !right_kind {
            return Verdict::OtherPortal(self.portal());
        }
        if let Some(step) = v.pending {
            if !self.also_during.contains(&step) {
                return Verdict::TakeStep(step);
            }
        }
        match (self.who, v.kind) {
            (Who::StaffMay(permissions) | Who::PatientOrStaffMay(permissions), AccountKind::Staff(role)) if !permissions.iter().any(|p| role.can(*p)) => {
                Verdict::Forbidden
            }
            _ => Verdict::Open,
        }
    }
}

/// The signed-in person as a gate sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visitor {
    pub kind: AccountKind,
    pub pending: Option<PendingStep>,
}

/// A gate's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Open,
    /// Not signed in: sign in on this portal first.
    SignIn(Portal),
    /// Signed in on the other portal (a patient at a staff page, or the reverse).
    OtherPortal(Portal),
    /// A step after sign-in comes first.
    TakeStep(PendingStep),
    /// Signed in, and this is not theirs to reach.
    Forbidden,
}

/// A page of the route table: its path (with `:name` segments) and its gate.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub path: &'static str,
    pub gate: Gate,
}

/// Whether `path` matches `pattern`, whose segments are literal, `:name` (any one segment), or
/// `:name.ext` (any one segment ending in `.ext`).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut pattern = pattern.split('/');
    let mut path = path.split('/');
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) => {
                let ok = match p.strip_prefix(':') {
                    Some(param) => match param.split_once('.') {
                        Some((_, ext)) => s.len() > ext.len() + 1 && s.ends_with(&format!(".{ext}")),
                        None => !s.is_empty(),
                    },
                    None => p == s,
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The gate of a page path, if the route table (`crate::app::PAGES`) has the page. Literal
/// routes win over routes with parameters (`/messages/new` over `/messages/:id`).
pub fn page_gate(pages: &[Page], path: &str) -> Option<Gate> {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    pages.iter().find(|p| p.path == path).or_else(|| pages.iter().find(|p| path_matches(p.path, path))).map(|p| p.gate)
}

/// The gate of anything the server answers at `path`: a page, a server function (`/api/…`) or a
/// download. `None` when nothing there has a gate: the server does not serve it.
pub fn gate_of(pages: &[Page], path: &str) -> Option<Gate> {
    if let Some(endpoint) = path.strip_prefix("/api/") {
        return table::function_gate(endpoint);
    }
    table::download_gate(path).or_else(|| page_gate(pages, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(kind: AccountKind) -> Option<Visitor> {
        Some(Visitor { kind, pending: None })
    }

    #[test]
    fn each_permission_belongs_to_the_roles_whose_work_needs_it() {
        use Permission::*;
        use StaffRole::*;
        let holders = |p: Permission| StaffRole::ALL.into_iter().filter(|r| r.can(p)).collect::<Vec<_>>();
        assert_eq!(holders(WorkBilling), [Billing]);
        assert_eq!(holders(ReadAnswers), [Clinician]);
        assert_eq!(holders(ReviewSecurity), [Administrator, Auditor]);
        assert_eq!(holders(ManagePatientAccess), [FrontDesk, Administrator]);
        assert_eq!(holders(WorkMessages), [FrontDesk, Clinician, Billing]);
        assert_eq!(holders(HideResultCodes), [Administrator]);
        // An auditor reviews; nothing else.
        assert_eq!(Permission::ALL.into_iter().filter(|p| Auditor.can(*p)).collect::<Vec<_>>(), [ReviewSecurity]);
        // Billing staff work accounts and their own inbox: no clinical permission.
        for p in [ReadAnswers, AssignForms, EditFormLibrary, ScheduleVisits, ManagePatientAccess] {
            assert!(!Billing.can(p), "{p:?}");
        }
    }

    #[test]
    fn a_patient_page_sends_others_to_sign_in_and_steps_first() {
        let g = Gate::PATIENT;
        assert_eq!(g.verdict(None), Verdict::SignIn(Portal::Patient));
        assert_eq!(g.verdict(visitor(AccountKind::Patient)), Verdict::Open);
        assert_eq!(g.verdict(visitor(AccountKind::Staff(StaffRole::Clinician))), Verdict::OtherPortal(Portal::Patient));
        let waiting = Some(Visitor { kind: AccountKind::Patient, pending: Some(PendingStep::SecondStep) });
        assert_eq!(g.verdict(waiting), Verdict::TakeStep(PendingStep::SecondStep));
        let terms = Some(Visitor { kind: AccountKind::Patient, pending: Some(PendingStep::Terms) });
        assert_eq!(g.during(&[PendingStep::Terms]).verdict(terms), Verdict::Open);
    }

    #[test]
    fn a_staff_gate_needs_the_permission_and_nothing_pending() {
        let g = Gate::staff_may(&[Permission::WorkBilling]);
        assert_eq!(g.verdict(visitor(AccountKind::Staff(StaffRole::Billing))), Verdict::Open);
        assert_eq!(g.verdict(visitor(AccountKind::Staff(StaffRole::Clinician))), Verdict::Forbidden);
        assert_eq!(g.verdict(visitor(AccountKind::Patient)), Verdict::OtherPortal(Portal::Staff));
        assert_eq!(g.verdict(None), Verdict::SignIn(Portal::Staff));
        let setup = Some(Visitor { kind: AccountKind::Staff(StaffRole::Billing), pending: Some(PendingStep::SecondStepSetup) });
        assert_eq!(g.verdict(setup), Verdict::TakeStep(PendingStep::SecondStepSetup));
    }

    #[test]
    fn the_second_step_page_opens_only_to_a_session_waiting_for_it() {
        let g = Gate::waiting(PendingStep::SecondStep);
        assert_eq!(g.verdict(visitor(AccountKind::Patient)), Verdict::Forbidden);
        assert_eq!(g.verdict(Some(Visitor { kind: AccountKind::Patient, pending: Some(PendingStep::SecondStep) })), Verdict::Open);
        assert_eq!(g.verdict(Some(Visitor { kind: AccountKind::Patient, pending: Some(PendingStep::Terms) })), Verdict::Forbidden);
    }

    #[test]
    fn paths_match_their_patterns() {
        assert!(path_matches("/messages/:id", "/messages/abc"));
        assert!(!path_matches("/messages/:id", "/messages/"));
        assert!(!path_matches("/messages/:id", "/messages/abc/def"));
        assert!(path_matches("/billing/statements/:file.pdf", "/billing/statements/abc.pdf"));
        assert!(!path_matches("/billing/statements/:file.pdf", "/billing/statements/.pdf"));
        assert!(!path_matches("/billing/statements/:file.pdf", "/billing/statements/abc.csv"));
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/home", "/homework"));
    }
}
