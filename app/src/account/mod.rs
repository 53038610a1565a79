//! The patient's account: e-mail address, password, open sessions, terms accepted (SPEC
//! R-ENR-2, R-ENR-4, R-SES-3), and the "Account activity" page (R-AUD-1: patients see the
//! sign-in history of their own account).

mod manage;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod steps;
pub mod user_id;

pub use manage::{password_changed_message, AccountPage, ChangeEmailPage, ChangePasswordPage};

use crate::error::AppError;
use crate::layout::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// One line of the activity page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// When, as milliseconds since the epoch (UTC); shown in the reader's words.
    pub at: i64,
    pub what: String,
    pub from: Option<String>,
}

#[server(endpoint = "account/activity")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn my_activity() -> Result<Vec<ActivityEntry>, AppError> {
    use crate::audit::{self, AuditAction};
    let session = crate::platform::request::require_patient()?;
    let state = crate::state::app_state()?;
    let entries = audit::sign_in_history(&state.db, &session.viewer.user_id, 50).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let action = AuditAction::parse(&e.action);
            let mut what = action.map(|a| a.describe()).unwrap_or("Account event").to_string();
            // Which part of the record: a fixed phrase the record's core wrote ("test
            // results", "whole record (FHIR)"), never what was in it.
            if matches!(action, Some(AuditAction::RecordViewed | AuditAction::RecordDownloaded)) {
                if let Some(part) = e.detail.as_deref().filter(|d| !d.is_empty()) {
                    what = format!("{what}: {part}");
                }
            }
            ActivityEntry { at: e.at, what, from: e.client_addr }
        })
        .collect())
}

/// `2026-11-24 14:05 UTC`: the audit trail keeps UTC, and says so.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm); kept here so the
/// browser build needs no date library.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[component]
pub fn AccountActivityPage() -> impl IntoView {
    let activity = Resource::new(|| (), |_| my_activity());
    view! {
        <Title text="Account activity | Patient portal"/>
            <h1>"Account activity"</h1>
            <p class="lead">"Recent sign-ins to your account, and each time your medical record was viewed or downloaded "
                "in the portal. If you see one that was not you, change your password and call the office."</p>
            <Loaded resource=activity view={move |data| match data {
                    entries if entries.is_empty() => view! { <p>"No activity yet."</p> }.into_any(),
                    entries => view! {
                        <table class="table">
                            <caption class="visually-hidden">"Account activity, newest first"</caption>
                            <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"From address"</th></tr></thead>
                            <tbody>
                                {entries.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{format_utc(e.at)}</td>
                                        <td>{e.what}</td>
                                        <td>{e.from.unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
            }}/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_timestamps_read_as_calendar_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_500_300_000), "2026-11-24 06:05 UTC");
    }
}
