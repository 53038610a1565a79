//! The security view (SPEC R-SES-4): failed and refused sign-ins, accounts whose access was
//! ended, records opened from outside their care team, e-mail notices given up.

use crate::account::format_utc;
#[cfg(feature = "ssr")]
use crate::audit::AuditAction;
use crate::error::AppError;
use crate::layout::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::server;

/// How far back failed sign-ins are shown: the last 24 hours.
pub const FAILURE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// An account counts as throttled now when a sign-in was refused as throttled this recently.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Rows per section of the security view (the busiest first).
pub const SECTION_LIMIT: i64 = 100;

/// An account as staff recognise it: its user ID (login) and the name it goes by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountRef {
    pub login: String,
    pub display_name: String,
}

/// Failed sign-ins to one account in the window; `account` is none for the user IDs that
/// matched no account, counted together (`user_ids` is how many different ones were typed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedSignIns {
    pub account: Option<AccountRef>,
    pub failures: i64,
    pub user_ids: i64,
    pub last_at: i64,
}

/// Failed sign-ins from one client address in the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddressFailures {
    pub client_addr: Option<String>,
    pub failures: i64,
    /// Different user IDs tried from the address (known or not).
    pub user_ids: i64,
    pub last_at: i64,
}

/// An account (or the unknown user IDs) whose sign-ins are being refused as throttled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThrottledAccount {
    pub account: Option<AccountRef>,
    pub refusals: i64,
    pub user_ids: i64,
    pub last_at: i64,
}

/// An account whose access the clinic has ended (SPEC R-ENR-7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerminatedAccount {
    pub account: AccountRef,
    pub at: Option<i64>,
    pub by: Option<AccountRef>,
    pub reason: Option<String>,
}

/// A clinician who opened a patient's record from outside the care team with a reason
/// ("break the glass", questionnaire answers): who, which record, when, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassAccess {
    pub by: AccountRef,
    pub mrn: String,
    pub at: i64,
    pub reason: String,
}

/// How far back the break-the-glass accesses are listed: 30 days.
pub const BREAK_GLASS_WINDOW_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// A notice given up, as the security page lists it: the kind (never its content), where it was
/// going and whose account that address is, how often it was tried and why it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeGivenUp {
    pub kind: String,
    pub recipient: String,
    /// The account whose address it is, as staff recognise it (user ID, name), when one is.
    pub account: Option<(String, String)>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub failed_at: i64,
}

/// Everything the security view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityOverview {
    /// When it was read (ms, UTC).
    pub now: i64,
    pub failures_by_account: Vec<FailedSignIns>,
    pub failures_by_address: Vec<AddressFailures>,
    pub throttled: Vec<ThrottledAccount>,
    pub terminated: Vec<TerminatedAccount>,
    /// Newest first, the last 30 days.
    pub break_glass: Vec<BreakGlassAccess>,
    /// E-mail notices given up after their tries (issue 14, point 11), newest first, the last 30
    /// days: someone was not told of something (a reset link, a new message).
    pub notices_given_up: Vec<NoticeGivenUp>,
}

#[server(endpoint = "security/overview")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn security_view() -> Result<SecurityOverview, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_permission(crate::access::Permission::ReviewSecurity)?;
    let state = app_state()?;
    let now = state.clock.now_ms();
    let overview = server::overview(&state.db, now).await?;
    server::record_look(&state.db, AuditAction::SecurityViewed, &session.viewer.user_id, None, None, request::client_addr(), now).await?;
    Ok(overview)
}

fn account_label(account: &Option<AccountRef>, user_ids: i64) -> String {
    match account {
        Some(a) => format!("{} ({})", a.display_name, a.login),
        None if user_ids == 1 => "Unknown user IDs (1 different ID typed)".into(),
        None => format!("Unknown user IDs ({user_ids} different IDs typed)"),
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| security_view());
    view! {
        <Title text="Security | Staff"/>
            <h1>"Security"</h1>
            <p class="lead">"Unsuccessful and refused sign-ins, accounts whose access has been ended, and records opened from outside their care team. "
                "Times are UTC. To see every event of one account, "<a href="/staff/audit">"search the audit trail"</a>"."</p>
            <Loaded resource=overview view=move |o| view! { <SecuritySections overview=o/> }/>
    }
}

#[component]
fn SecuritySections(overview: SecurityOverview) -> impl IntoView {
    let SecurityOverview { failures_by_account, failures_by_address, throttled, terminated, break_glass, notices_given_up, .. } = overview;
    let notices_given_up = if notices_given_up.is_empty() {
        view! { <p>"Every e-mail notice of the last 30 days was delivered or is still being tried."</p> }.into_any()
    } else {
        view! {
            <p>"The relay refused these notices (or could not be reached) every time they were tried, so the portal stopped \
                trying and wiped any link or code they carried. Check the address with the person, or call them."</p>
            <table class="table">
                <caption>"E-mail notices given up, last 30 days, latest first"</caption>
                <thead><tr><th scope="col">"To"</th><th scope="col">"Notice"</th><th scope="col">"Tries"</th>
                    <th scope="col">"Last failure"</th><th scope="col">"Queued"</th><th scope="col">"Given up"</th></tr></thead>
                <tbody>
                    {notices_given_up.into_iter().map(|n| view! {
                        <tr>
                            <th scope="row">{match n.account {
                                Some((login, name)) => format!("{} ({name}, {login})", n.recipient),
                                None => n.recipient,
                            }}</th>
                            <td>{n.kind}</td>
                            <td>{n.attempts}</td>
                            <td>{n.last_error.unwrap_or_else(|| "Not recorded".into())}</td>
                            <td>{format_utc(n.created_at)}</td>
                            <td>{format_utc(n.failed_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let break_glass = if break_glass.is_empty() {
        view! { <p>"No record was opened from outside its care team in the last 30 days."</p> }.into_any()
    } else {
        view! {
            <table class="table">
                <caption>"Patients' records opened from outside the care team with a reason, last 30 days, latest first"</caption>
                <thead><tr><th scope="col">"Who"</th><th scope="col">"Patient record"</th><th scope="col">"When"</th>
                    <th scope="col">"Reason given"</th></tr></thead>
                <tbody>
                    {break_glass.into_iter().map(|b| view! {
                        <tr>
                            <th scope="row">{format!("{} ({})", b.by.display_name, b.by.login)}</th>
                            <td>{b.mrn}</td>
                            <td>{format_utc(b.at)}</td>
                            <td>{b.reason}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let by_account = if failures_by_account.is_empty() {
        view! { <p>"No failed sign-ins in the last 24 hours."</p> }.into_any()
    } else {
        view! {
            <table class="table">
                <caption>"Failed sign-ins by account, last 24 hours, most first"</caption>
                <thead><tr><th scope="col">"Account"</th><th scope="col">"Failed sign-ins"</th><th scope="col">"Latest"</th></tr></thead>
                <tbody>
                    {failures_by_account.into_iter().map(|f| view! {
                        <tr>
                            <th scope="row">{account_label(&f.account, f.user_ids)}</th>
                            <td>{f.failures}</td>
                            <td>{format_utc(f.last_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let by_address = if failures_by_address.is_empty() {
        view! { <p>"No failed sign-ins from any address in the last 24 hours."</p> }.into_any()
    } else {
        view! {
            <table class="table">
                <caption>"Failed sign-ins by client address, last 24 hours, most first"</caption>
                <thead><tr><th scope="col">"Client address"</th><th scope="col">"Failed sign-ins"</th>
                    <th scope="col">"Different user IDs tried"</th><th scope="col">"Latest"</th></tr></thead>
                <tbody>
                    {failures_by_address.into_iter().map(|f| view! {
                        <tr>
                            <th scope="row">{f.client_addr.unwrap_or_else(|| "Not known".into())}</th>
                            <td>{f.failures}</td>
                            <td>{f.user_ids}</td>
                            <td>{format_utc(f.last_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let throttled = if throttled.is_empty() {
        view! { <p>"No account is throttled now."</p> }.into_any()
    } else {
        view! {
            <table class="table">
                <caption>"Accounts with sign-ins refused as too many in the last 15 minutes"</caption>
                <thead><tr><th scope="col">"Account"</th><th scope="col">"Refused sign-ins (counted per hour)"</th><th scope="col">"Latest"</th></tr></thead>
                <tbody>
                    {throttled.into_iter().map(|t| view! {
                        <tr>
                            <th scope="row">{account_label(&t.account, t.user_ids)}</th>
                            <td>{t.refusals}</td>
                            <td>{format_utc(t.last_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let terminated = if terminated.is_empty() {
        view! { <p>"No account's access has been ended."</p> }.into_any()
    } else {
        view! {
            <table class="table">
                <caption>"Accounts whose access has been ended, latest first"</caption>
                <thead><tr><th scope="col">"Account"</th><th scope="col">"Ended"</th><th scope="col">"By"</th>
                    <th scope="col">"Reason given"</th></tr></thead>
                <tbody>
                    {terminated.into_iter().map(|t| view! {
                        <tr>
                            <th scope="row">{format!("{} ({})", t.account.display_name, t.account.login)}</th>
                            <td>{t.at.map(format_utc).unwrap_or_else(|| "Not recorded".into())}</td>
                            <td>{t.by.map(|b| format!("{} ({})", b.display_name, b.login)).unwrap_or_else(|| "Not recorded".into())}</td>
                            <td>{t.reason.unwrap_or_else(|| "Not recorded".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="failed-by-account">
            <h2 id="failed-by-account">"Failed sign-ins by account"</h2>
            {by_account}
        </section>
        <section aria-labelledby="failed-by-address">
            <h2 id="failed-by-address">"Failed sign-ins by address"</h2>
            {by_address}
        </section>
        <section aria-labelledby="throttled">
            <h2 id="throttled">"Throttled now"</h2>
            {throttled}
        </section>
        <section aria-labelledby="terminated">
            <h2 id="terminated">"Access ended"</h2>
            {terminated}
        </section>
        <section aria-labelledby="break-glass">
            <h2 id="break-glass">"Records opened from outside the care team"</h2>
            {break_glass}
        </section>
        <section aria-labelledby="notices-given-up">
            <h2 id="notices-given-up">"E-mail notices not delivered"</h2>
            {notices_given_up}
        </section>
    }
}
