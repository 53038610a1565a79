//! The setup of messaging: pools and care teams (administrators), out-of-office periods
//! (clinicians their own, administrators anyone's) and the holiday list (administrators; staff
//! who answer messages may read it). Plain HTML forms; every change is audited. One file per
//! page, with its server functions; the types they show are in `messaging::admin`.

mod absences;
mod care_teams;
mod holidays;
mod pools;

pub use absences::AbsencesPage;
pub use care_teams::CareTeamsPage;
pub use holidays::HolidaysPage;
pub use pools::PoolsPage;

#[cfg(feature = "ssr")]
use crate::error::AppError;

/// What every setup page says when a change found nothing to change (the page was out of date).
const UNCHANGED: &str = "Nothing was changed: the page was out of date. Here is how things stand now.";

#[cfg(feature = "ssr")]
fn admin() -> Result<(crate::session::server::ActiveSession, crate::state::AppState), AppError> {
    let session = crate::platform::request::require_permission(crate::access::Permission::SetUpMessaging)?;
    Ok((session, crate::state::app_state()?))
}
