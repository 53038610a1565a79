//! The audit-trail search (SPEC R-AUD-1): a GET form whose search lives in the URL (user IDs,
//! action codes and dates only), the results page by page, and the check of the hash chain.

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

#[cfg(feature = "ssr")]
use super::server;

/// Audit entries per page of the search.
pub const AUDIT_PAGE_SIZE: i64 = 100;
/// The longest user ID the search looks for (as at sign-in).
const MAX_USER_LEN: usize = crate::sign_in::MAX_LOGIN_LEN;

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
    use crate::platform::request;
    use crate::state::app_state;
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
    server::record_look(
        &state.db,
        AuditAction::AuditViewed,
        &session.viewer.user_id,
        account.as_ref(),
        Some(detail),
        request::client_addr(),
        state.clock.now_ms(),
    )
    .await?;
    Ok(results)
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
