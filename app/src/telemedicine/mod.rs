//! Video visits (SPEC R-GEN-5). Clinicians and front desk schedule a video visit for a patient
//! (when, in the clinic's time zone; with which clinician; the join link of the organisation's
//! video service) and can cancel it; the patient is told by e-mail that something new waits in
//! the portal (never what). The patient sees their video visits under *Video visits*
//! (`/visits`), upcoming apart from past ones. *Begin visit* shows the limitations of a visit
//! by video; only after the patient ticks and confirms that they understand (recorded with the
//! time, the address and the wording, and audited) does the portal hand out the join link, and
//! then only through the leaving page for links to other sites (`crate::external_links`).
//!
//! - `patient_pages.rs`: `/visits` and `/visits/{id}` with the acknowledgement.
//! - `staff_pages.rs`: `/staff/visits`, schedule and cancel.
//! - `server.rs`: who may see which visit, and the database.
//!
//! The join link is the organisation's (one room per visit or per clinician), not the
//! patient's: it must not carry the patient's name or anything about their health, because it
//! travels in the leaving page's address. Scheduling refuses a link containing the patient's
//! name.

mod patient_pages;
#[cfg(feature = "ssr")]
pub mod server;
mod staff_pages;

pub use patient_pages::{VisitPage, VisitsPage};
pub use staff_pages::StaffVisitsPage;

use serde::{Deserialize, Serialize};

/// The patient can begin a visit from this long before its start until its end: time to
/// read the limitations and to let the video service check the camera.
pub const JOIN_OPENS_MINUTES_BEFORE: i64 = 15;

/// Lengths staff can choose, in minutes.
pub const DURATIONS: &[i64] = &[15, 20, 30, 45, 60];

/// The limitations the patient acknowledges, in the words shown; `LIMITATIONS_VERSION` is stored
/// with each acknowledgement, so a later change of wording does not rewrite what was agreed to.
pub const LIMITATIONS_VERSION: &str = "limitations-v1";

pub use crate::ids::VisitId;

crate::layout::notice_codes! {
    /// How a form of the video visit pages went. The refusals are `server::VisitError`'s
    /// (`VisitError::into_notice`); the short codes travel in the redirect's query, never what was typed.
    pub enum VisitNotice {
        Scheduled = Done "scheduled" => "Video visit scheduled. The patient is e-mailed that something new waits in the portal.",
        Cancelled = Done "cancelled" => "Video visit cancelled. The patient is told in the portal.",
        NotFound = Error "not-found" => "That visit was not found.",
        Patient = Error "patient" => "No patient has that record number.",
        Clinician = Error "clinician" => "Choose a clinician.",
        When = Error "when" => "Enter a date and time in the future, within a year.",
        Length = Error "length" => "Choose how long the visit lasts.",
        Link = Error "link" => "Enter the video service's join link: an https:// address of at most 500 characters.",
        LinkNamesPatient = Error "link-name" => "The join link contains the patient's name: use a link without it (the link passes through web addresses).",
        WasCancelled = Error "cancelled" => "This visit was cancelled.",
        Ended = Error "ended" => "This visit has ended.",
        NotOpen = Error "not-open" => "You can begin this visit from 15 minutes before its start.",
        NotAcknowledged = Error "acknowledge" => "Please tick the box to confirm that you understand the limitations of a video visit.",
    }
}

/// Where a visit stands at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitState {
    /// Later: *Begin visit* opens `JOIN_OPENS_MINUTES_BEFORE` its start.
    Upcoming,
    /// From shortly before the start to the end: the patient may begin.
    Open,
    Ended,
    Cancelled,
}

impl VisitState {
    /// The state at `now` of a visit from `starts_at` to `ends_at` (UTC milliseconds).
    pub fn at(now: i64, starts_at: i64, ends_at: i64, cancelled: bool) -> VisitState {
        if cancelled {
            VisitState::Cancelled
        } else if now >= ends_at {
            VisitState::Ended
        } else if now >= starts_at - JOIN_OPENS_MINUTES_BEFORE * 60_000 {
            VisitState::Open
        } else {
            VisitState::Upcoming
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VisitState::Upcoming => "Scheduled",
            VisitState::Open => "You can begin now",
            VisitState::Ended => "Ended",
            VisitState::Cancelled => "Cancelled",
        }
    }
}

/// A video visit as the patient sees it. Times are in the clinic's time zone, as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub id: VisitId,
    pub starts: String,
    pub ends: String,
    /// When *Begin visit* opens.
    pub opens: String,
    pub minutes: i64,
    pub clinician: String,
    pub state: VisitState,
}

/// The patient's Video visits page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientVisits {
    /// Not yet ended and not cancelled, soonest first.
    pub upcoming: Vec<VisitSummary>,
    /// Ended or cancelled, latest first.
    pub past: Vec<VisitSummary>,
}

/// A visit on the staff list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVisit {
    pub visit: VisitSummary,
    pub patient: String,
    pub mrn: String,
    /// The join link's host (the whole link is on the record; staff have it in their service).
    pub host: String,
}

/// The staff page: upcoming visits and the clinicians one can be scheduled with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffVisits {
    pub visits: Vec<StaffVisit>,
    /// (user id, name) of active clinicians.
    pub clinicians: Vec<(String, String)>,
    pub time_zone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_opens_fifteen_minutes_before_and_closes_at_the_end() {
        let start = 10 * 3_600_000;
        let end = start + 30 * 60_000;
        assert_eq!(VisitState::at(start - 15 * 60_000 - 1, start, end, false), VisitState::Upcoming);
        assert_eq!(VisitState::at(start - 15 * 60_000, start, end, false), VisitState::Open);
        assert_eq!(VisitState::at(end - 1, start, end, false), VisitState::Open);
        assert_eq!(VisitState::at(end, start, end, false), VisitState::Ended);
        assert_eq!(VisitState::at(start, start, end, true), VisitState::Cancelled);
    }

    #[test]
    fn visit_ids_are_our_own_shape() {
        assert!(VisitId::parse(&"a".repeat(32)).is_some());
        for bad in ["", "A".repeat(32).as_str(), "../etc", &"a".repeat(33)] {
            assert!(VisitId::parse(bad).is_none(), "{bad}");
        }
    }
}
