//! The staff security view (SPEC R-SES-4: staff see suspicious activity) and the audit-trail
//! search (R-AUD-1: staff auditors can search it), for administrators and auditors only.
//!
//! Both pages are plain server-rendered HTML: the search is a GET form, so it works without
//! JavaScript and the search lives in the URL. Only user IDs, action codes and dates go in that
//! URL, never a name or a birth date. Every look is itself recorded in the audit trail.

#[cfg(feature = "ssr")]
pub mod server;

use crate::account::format_utc;
use crate::audit::AuditAction;
use crate::dates::CalendarDate;
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::{viewer, Loaded};
use crate::types::AccountKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// How far back failed sign-ins are shown: the last 24 hours.
pub const FAILURE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// An account counts as throttled now when a sign-in was refused as throttled this recently.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Rows per section of the security view (the busiest first).
pub const SECTION_LIMIT: i64 = 100;
/// Audit entries per page of the search.
pub const AUDIT_PAGE_SIZE: i64 = 100;
/// The longest user ID the search looks for (as at sign-in).
const MAX_USER_LEN: usize = crate::sign_in::MAX_LOGIN_LEN;

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

/// A search of the audit trail, checked: what the URL may carry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditSearch {
    /// A user ID (login), normalised; matches entries where that account acted or was acted on.
    pub user: Option<String>,
    /// An action code (`sign-in.failed`); codes this build does not know are searched as typed.
    pub action: Option<String>,
    pub from: Option<CalendarDate>,
    /// Inclusive: the whole of that UTC day.
    pub to: Option<CalendarDate>,
    /// Only entries older than this sequence number (the "Older entries" page).
    pub before: Option<i64>,
}

impl AuditSearch {
    /// Checks the fields as they come from the form or the URL; the error is a sentence for the
    /// person searching.
    pub fn parse(user: Option<&str>, action: Option<&str>, from: Option<&str>, to: Option<&str>, before: Option<&str>) -> Result<AuditSearch, String> {
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let user = present(user).map(str::to_lowercase);
        if user.as_ref().is_some_and(|u| u.len() > MAX_USER_LEN) {
            return Err("That user ID is too long.".into());
        }
        let action = present(action).filter(|a| *a != "any").map(str::to_owned);
        if let Some(a) = &action {
            let well_formed = a.len() <= 64 && a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
            if !well_formed {
                return Err("Choose an action from the list.".into());
            }
        }
        let date = |v: Option<&str>| match present(v) {
            None => Ok(None),
            Some(text) => CalendarDate::parse(text).map(Some).ok_or_else(|| "Write dates as year, month and day, for example 2026-11-24.".to_string()),
        };
        let (from, to) = (date(from)?, date(to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err("The “from” date is after the “to” date.".into());
            }
        }
        let before = match present(before) {
            None => None,
            Some(b) => Some(b.parse::<i64>().ok().filter(|b| *b > 0).ok_or_else(|| "That page does not exist.".to_string())?),
        };
        Ok(AuditSearch { user, action, from, to, before })
    }

    /// The URL of this search (from the first page when `before` is none), optionally with the
    /// chain check.
    pub fn href(&self, before: Option<i64>, verify: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(u) = &self.user {
            pairs.push(("user", u.clone()));
        }
        if let Some(a) = &self.action {
            pairs.push(("action", a.clone()));
        }
        if let Some(f) = self.from {
            pairs.push(("from", f.to_string()));
        }
        if let Some(t) = self.to {
            pairs.push(("to", t.to_string()));
        }
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        if verify {
            pairs.push(("verify", "1".into()));
        }
        let query: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={}", url_encode(&v))).collect();
        if query.is_empty() {
            "/staff/audit".into()
        } else {
            format!("/staff/audit?{}", query.join("&"))
        }
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One audit entry as the search shows it: accounts by their user ID.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: i64,
    /// The stored action code.
    pub action: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

impl AuditEntryView {
    /// How the action reads; codes written by a newer version still show, as codes.
    pub fn description(&self) -> &'static str {
        AuditAction::parse(&self.action).map(AuditAction::describe).unwrap_or("Unrecognised action")
    }
}

/// Whether the hash chain holds, when it was checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ChainStatus {
    /// `keyed_from`: the first entry linked under this server's key; none when the chain is not
    /// keyed at all.
    Intact {
        entries: i64,
        keyed_from: Option<i64>,
    },
    Broken {
        seq: i64,
        problem: String,
    },
}

/// A page of search results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditResults {
    /// The search as the server understood it (normalised), for the paging links.
    pub search: AuditSearch,
    /// The user ID searched for names no account.
    pub unknown_user: bool,
    /// Newest first; at most [`AUDIT_PAGE_SIZE`].
    pub entries: Vec<AuditEntryView>,
    /// When there are older entries: the `before` of the next page.
    pub older: Option<i64>,
    /// Only when the check was asked for (it walks the whole trail).
    pub chain: Option<ChainStatus>,
}

#[server(endpoint = "security/overview")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn security_view() -> Result<SecurityOverview, AppError> {
    use crate::platform::{now_ms, request, state::app_state};
    let session = request::require_permission(crate::access::Permission::ReviewSecurity)?;
    let state = app_state()?;
    let now = now_ms();
    let overview = server::overview(&state.db, now).await?;
    server::record_look(&state.db, AuditAction::SecurityViewed, &session.viewer.user_id, None, None, request::client_addr(), now).await?;
    Ok(overview)
}

/// Searches the audit trail. The fields are the page's query string, as typed; `verify` (any
/// value) also walks the whole chain.
#[server(endpoint = "audit/search")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn search_audit(
    user: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    verify: Option<String>,
) -> Result<AuditResults, AppError> {
    use crate::platform::{now_ms, request, state::app_state};
    let session = request::require_permission(crate::access::Permission::ReviewSecurity)?;
    let state = app_state()?;
    let search = AuditSearch::parse(user.as_deref(), action.as_deref(), from.as_deref(), to.as_deref(), before.as_deref())
        .map_err(|message| request::refuse(AppError::Invalid(message)))?;
    let verify = verify.is_some_and(|v| !v.is_empty());
    let account = match &search.user {
        Some(login) => crate::users::id_by_login(&state.db.pool, login).await?,
        None => None,
    };
    let mut results = if search.user.is_some() && account.is_none() {
        AuditResults { search: search.clone(), unknown_user: true, entries: Vec::new(), older: None, chain: None }
    } else {
        server::search(&state.db, &search, account.as_ref()).await?
    };
    if verify {
        results.chain = Some(server::verify_chain(&state.db, &crate::audit::ChainKey::from_secrets(&state.sealing)).await?);
    }
    let detail = if verify { "search and chain check" } else { "search" };
    server::record_look(&state.db, AuditAction::AuditViewed, &session.viewer.user_id, account.as_ref(), Some(detail), request::client_addr(), now_ms()).await?;
    Ok(results)
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

type SearchParams = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

/// The search's fields in the page's query string, as typed.
fn search_params(q: &leptos_router::params::ParamsMap) -> SearchParams {
    (q.get("user"), q.get("action"), q.get("from"), q.get("to"), q.get("before"), q.get("verify"))
}

#[component]
pub fn AuditSearchPage() -> impl IntoView {
    let query = use_query_map();
    let results =
        Resource::new(move || query.with(search_params), |(user, action, from, to, before, verify)| search_audit(user, action, from, to, before, verify));
    // The form shows the search as typed (the page is rendered on the server, once per URL).
    let (user, action, from, to, _, _) = query.with_untracked(search_params);
    let action = action.unwrap_or_default();
    let unknown_action = (!action.is_empty() && action != "any" && AuditAction::parse(&action).is_none()).then(|| action.clone());
    // Anyone else is refused by the search itself; the form is not offered to them either.
    let may_search = matches!(viewer().map(|v| v.kind), Some(AccountKind::Staff(role)) if role.can(crate::access::Permission::ReviewSecurity));
    let form = may_search.then(|| {
        view! {
            <form method="get" action="/staff/audit" class="form" role="search" aria-label="Search the audit trail">
                <div class="field">
                    <label for="audit-user">"User ID"</label>
                    <input id="audit-user" name="user" type="text" value=user.unwrap_or_default() maxlength="200"
                        autocomplete="off" spellcheck="false" aria-describedby="audit-user-hint"/>
                    <p class="hint" id="audit-user-hint">"Entries where this account acted or was acted on."</p>
                </div>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action">
                        <option value="any" selected=action.is_empty() || action == "any">"Any action"</option>
                        {AuditAction::ALL.into_iter().map(|a| view! {
                            <option value=a.as_str() selected=action == a.as_str()>{format!("{} [{}]", a.describe(), a.as_str())}</option>
                        }).collect_view()}
                        {unknown_action.map(|a| view! { <option value=a.clone() selected=true>{a.clone()}</option> })}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-from">"From (UTC)"</label>
                    <input id="audit-from" name="from" type="date" value=from.unwrap_or_default() aria-describedby="audit-date-hint"/>
                </div>
                <div class="field">
                    <label for="audit-to">"To (UTC, inclusive)"</label>
                    <input id="audit-to" name="to" type="date" value=to.unwrap_or_default() aria-describedby="audit-date-hint"/>
                    <p class="hint" id="audit-date-hint">"Year, month and day, for example 2026-11-24."</p>
                </div>
                <button type="submit" class="button button--primary">"Search"</button>
            </form>
        }
    });
    view! {
        <Title text="Audit trail | Staff"/>
            <h1>"Audit trail"</h1>
            <p class="lead">"Every sign-in, sign-out and time-out, and every view or change of records. "
                "Times are UTC. Entries cannot be changed or removed."</p>
            {form}
            <Loaded resource=results loading="Searching…" view=move |r| view! { <AuditResultsView results=r/> }/>
    }
}

#[component]
fn ChainLine(chain: Option<ChainStatus>, search: AuditSearch) -> impl IntoView {
    match chain {
        Some(ChainStatus::Intact { entries, keyed_from: Some(from) }) => {
            let keyed = if from <= 1 {
                "Every entry is linked under this server's key, which is kept apart from the database: \
                 not even someone able to write to the database could have rewritten them unnoticed."
                    .to_string()
            } else {
                format!(
                    "Entries from {from} on are linked under this server's key, which is kept apart from the database. \
                     Entries 1 to {} were written before keying began: they are checked by their hash links, \
                     and the start of the keyed chain seals the last of them.",
                    from - 1
                )
            };
            view! {
                <p class="notice notice--status" role="status">{format!("The chain verifies: all {entries} entries are intact. {keyed}")}</p>
            }
            .into_any()
        }
        Some(ChainStatus::Intact { entries, keyed_from: None }) => alert(format!(
            "The hash links of all {entries} entries hold, but the chain is not keyed under this server's key: \
             someone able to write to the database could have rewritten it consistently."
        ))
        .into_any(),
        Some(ChainStatus::Broken { seq, problem }) => {
            alert(format!("The chain does not verify: entry {seq} {problem}. The trail may have been tampered with.")).into_any()
        }
        None => {
            let hidden = [
                ("user", search.user.clone()),
                ("action", search.action.clone()),
                ("from", search.from.map(|d| d.to_string())),
                ("to", search.to.map(|d| d.to_string())),
                ("before", search.before.map(|b| b.to_string())),
            ];
            view! {
                <form method="get" action="/staff/audit" class="form">
                    <p>"The hash chain that makes tampering detectable has not been checked on this page. "
                        "Checking reads the whole trail."</p>
                    {hidden.into_iter().filter_map(|(name, value)| value.map(|v| view! { <input type="hidden" name=name value=v/> })).collect_view()}
                    <input type="hidden" name="verify" value="1"/>
                    <button type="submit" class="button">"Verify the chain"</button>
                </form>
            }
            .into_any()
        }
    }
}

#[component]
fn AuditResultsView(results: AuditResults) -> impl IntoView {
    let AuditResults { search, unknown_user, entries, older, chain } = results;
    let paging = {
        let newest = search.before.map(|_| search.href(None, false));
        let older = older.map(|seq| search.href(Some(seq), false));
        (newest.is_some() || older.is_some()).then(|| {
            view! {
                <nav aria-label="Pages of entries">
                    <ul class="footer-links">
                        {newest.map(|href| view! { <li><a href=href>"Newest entries"</a></li> })}
                        {older.map(|href| view! { <li><a href=href>"Older entries"</a></li> })}
                    </ul>
                </nav>
            }
        })
    };
    let list = if unknown_user {
        view! { <p>{format!("No account has the user ID “{}”.", search.user.clone().unwrap_or_default())}</p> }.into_any()
    } else if entries.is_empty() {
        view! { <p>"No entries match this search."</p> }.into_any()
    } else {
        let caption = if search.before.is_some() { "Matching entries, older page, newest first" } else { "Matching entries, newest first" };
        view! {
            <table class="table">
                <caption>{caption}</caption>
                <thead><tr>
                    <th scope="col">"Entry"</th><th scope="col">"When (UTC)"</th><th scope="col">"Action"</th>
                    <th scope="col">"By"</th><th scope="col">"Concerning"</th><th scope="col">"Record"</th>
                    <th scope="col">"From address"</th><th scope="col">"Detail"</th>
                </tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let record = match (&e.record_type, &e.record_id) {
                            (Some(t), Some(id)) => format!("{t} {id}"),
                            (Some(t), None) => t.clone(),
                            (None, Some(id)) => id.clone(),
                            (None, None) => "—".into(),
                        };
                        view! {
                            <tr>
                                <th scope="row">{e.seq}</th>
                                <td>{format_utc(e.at)}</td>
                                <td>{e.description()}" "<code>{e.action.clone()}</code></td>
                                <td>{e.actor.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{e.subject.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{record}</td>
                                <td>{e.client_addr.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{e.detail.clone().unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="audit-results">
            <h2 id="audit-results">"Entries"</h2>
            <ChainLine chain=chain search=search.clone()/>
            {list}
            {paging}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_checked_and_normalised() {
        let s = AuditSearch::parse(Some(" Alice "), Some("any"), Some("2026-11-01"), Some(""), None).unwrap();
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.action, None);
        assert_eq!(s.from, CalendarDate::new(2026, 11, 1));
        assert_eq!(s.to, None);
        assert!(AuditSearch::parse(None, Some("drop table"), None, None, None).is_err());
        assert!(AuditSearch::parse(None, None, Some("2026-13-01"), None, None).is_err());
        assert!(AuditSearch::parse(None, None, Some("2026-11-02"), Some("2026-11-01"), None).is_err());
        assert!(AuditSearch::parse(None, None, None, None, Some("x")).is_err());
        // A code this build does not know (written by a newer version) is still searchable.
        assert_eq!(AuditSearch::parse(None, Some("future.thing"), None, None, Some("42")).unwrap().before, Some(42));
    }

    #[test]
    fn search_links_carry_only_the_search() {
        let s = AuditSearch::parse(Some("alice"), Some("sign-in.failed"), Some("2026-11-01"), None, None).unwrap();
        assert_eq!(s.href(Some(7), false), "/staff/audit?user=alice&action=sign-in.failed&from=2026-11-01&before=7");
        assert_eq!(AuditSearch::default().href(None, true), "/staff/audit?verify=1");
        let odd = AuditSearch { user: Some("a b&c".into()), ..AuditSearch::default() };
        assert_eq!(odd.href(None, false), "/staff/audit?user=a%20b%26c");
    }

    #[test]
    fn unknown_actions_read_as_such() {
        let e = AuditEntryView {
            seq: 1,
            at: 0,
            action: "something.new".into(),
            actor: None,
            subject: None,
            record_type: None,
            record_id: None,
            client_addr: None,
            detail: None,
        };
        assert_eq!(e.description(), "Unrecognised action");
    }
}
