//! Billing staff (SPEC R-BIL-3, R-BIL-4): find a guarantor's accounts or open one, and an account
//! with its statements and delivery. The other staff pages are siblings: `statement_form_pages.rs`
//! (post a statement, totals computed and checked), `import_pages.rs` (import statements from a
//! CSV file) and `print_queue_pages.rs` (the print queue of paper statements: CSV and one combined
//! PDF, then marked printed). Plain HTML forms throughout.

use super::{AccountView, Delivery};
use crate::error::AppError;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::Loaded;
use crate::layout::PostForm;
#[cfg(feature = "ssr")]
use crate::{access::Permission, context::StaffCtx};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchData {
    pub found: Vec<GuarantorView>,
    pub queue: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuarantorView {
    pub patient_id: String,
    pub name: String,
    pub mrn: String,
    pub date_of_birth: String,
    pub accounts: Vec<super::AccountSummary>,
}

#[server(endpoint = "staff/billing/search")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_billing_search(q: String) -> Result<SearchData, AppError> {
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let found = super::server::search(&cx.state.db, &q).await?;
    Ok(SearchData {
        found: found
            .into_iter()
            .map(|g| GuarantorView { patient_id: g.patient_id, name: g.name, mrn: g.mrn, date_of_birth: g.date_of_birth, accounts: g.accounts })
            .collect(),
        queue: super::server::print_queue_len(&cx.state.db).await?,
    })
}

#[server(endpoint = "staff/billing/open")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn open_billing_account(patient: String, address: String) -> Result<(), AppError> {
    use super::server::{open_account, parse_address, BillingError};
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let patient = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let address = parse_address(&address).map_err(|e| AppError::Invalid(e.to_string()))?;
    match open_account(&cx.state.db, cx.user(), &patient, &address, cx.addr, cx.now).await {
        Ok(id) => crate::platform::request::redirect(&format!("/staff/billing/accounts/{}?opened=1", id.as_str())),
        Err(BillingError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(BillingError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

#[server(endpoint = "staff/billing/account")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_staff_account(id: String) -> Result<AccountView, AppError> {
    use super::server::{account_view, Reader};
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let id = super::AccountId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    account_view(&cx.state.db, &cx.state.settings, Reader::Staff { user: cx.user() }, &id, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))
}

/// A change of delivery made by billing staff at the patient's request (by phone, in person).
#[server(endpoint = "staff/billing/delivery")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn staff_update_delivery(account: String, delivery: String) -> Result<(), AppError> {
    use super::server::{change_delivery, BillingError, Reader};
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let id = super::AccountId::parse(&account).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let to = Delivery::parse(&delivery).ok_or_else(|| AppError::Invalid("Choose paperless or paper.".into()))?;
    match change_delivery(&cx.state.db, Reader::Staff { user: cx.user() }, &id, to, cx.addr, cx.now).await {
        Ok(_) => crate::platform::request::redirect(&format!("/staff/billing/accounts/{}?delivery={}", id.as_str(), to.as_str())),
        Err(BillingError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(BillingError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

/// A confirmation, shown atop a billing staff page.
pub(super) fn status(text: String) -> impl IntoView {
    view! { <p class="notice notice--status" role="status">{text}</p> }
}

/// The search is posted to the page (`layout::search`): no name, birth date or record number in
/// the address.
#[component]
pub fn BillingStaffPage() -> impl IntoView {
    let q = posted_search();
    let searched = !q.trim().is_empty();
    let term = q.clone();
    let data = Resource::new(move || term.clone(), load_billing_search);
    view! {
        <Title text="Billing | Staff portal"/>
            <h1>"Billing"</h1>
            <SearchForm action="/staff/billing" label="Account number, MRN, birth date or name" button="Find" value=q/>
            <Loaded resource=data view=move |d| view! { <SearchResults d searched/> }/>
    }
}

#[component]
fn SearchResults(d: SearchData, searched: bool) -> impl IntoView {
    let queue = match d.queue {
        0 => "No paper statements wait to be printed.".to_string(),
        1 => "1 paper statement waits to be printed.".to_string(),
        n => format!("{n} paper statements wait to be printed."),
    };
    view! {
        {searched.then(|| found(d.found.len(), "patient", "patients"))}
        <p><a href="/staff/billing/print-queue">{queue}</a></p>
        <ul class="accounts">
            {d.found.into_iter().map(|g| {
                let heading = format!("{} · MRN {} · born {}", g.name, g.mrn, g.date_of_birth);
                let address_id = format!("address-{}", g.patient_id);
                view! {
                    <li class="account">
                        <h2>{heading}</h2>
                        {if g.accounts.is_empty() {
                            view! { <p>"No billing account."</p> }.into_any()
                        } else {
                            view! {
                                <ul>
                                    {g.accounts.into_iter().map(|a| {
                                        let href = format!("/staff/billing/accounts/{}", a.id.as_str());
                                        let text = format!("Account {} · balance {} · {}", a.number, a.balance, a.delivery.label());
                                        view! { <li><a href=href>{text}</a></li> }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <details>
                            <summary>"Open a billing account"</summary>
                            <PostForm<OpenBillingAccount> class="form">
                                <input type="hidden" name="patient" value=g.patient_id.clone()/>
                                <div class="field">
                                    <label for=address_id.clone()>"Mailing address for paper statements"</label>
                                    <textarea id=address_id name="address" rows="4" required></textarea>
                                    <p class="hint">"One line per line of the envelope."</p>
                                </div>
                                <button type="submit" class="button">"Open account"</button>
                            </PostForm<OpenBillingAccount>>
                        </details>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn BillingAccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let account = Resource::new(id, load_staff_account);
    let query = use_query_map();
    let note = move || {
        let q = query.read();
        if q.get("opened").is_some() {
            Some("The account is open.".to_string())
        } else if let Some(p) = q.get("posted") {
            Some(if p == "notified" {
                "The statement is posted. The patient is notified by e-mail (paperless billing).".to_string()
            } else {
                "The statement is posted and waits in the print queue (paper statements).".to_string()
            })
        } else {
            q.get("delivery").and_then(|d| Delivery::parse(&d)).map(|d| format!("Statement delivery is now: {}.", d.label()))
        }
    };
    view! {
        <Title text="Billing account | Staff portal"/>
            {move || note().map(status)}
            <Loaded resource=account heading="Billing account" view=move |a| view! { <StaffAccount a/> }/>
    }
}

#[component]
fn StaffAccount(a: AccountView) -> impl IntoView {
    let id = a.account.id.to_string();
    let other = match a.account.delivery {
        Delivery::Paperless => Delivery::Paper,
        Delivery::Paper => Delivery::Paperless,
    };
    let switch_text = match other {
        Delivery::Paper => "Switch to paper statements (patient's request)",
        Delivery::Paperless => "Switch to paperless statements (patient's request)",
    };
    view! {
        <h1>{format!("Account {}", a.account.number)}</h1>
        <dl class="details">
            <dt>"Guarantor"</dt><dd>{a.account.guarantor.clone()}</dd>
            <dt>"Mailing address"</dt><dd>{a.address.join(", ")}</dd>
            <dt>"Balance"</dt><dd class="amount">{a.account.balance.to_string()}</dd>
            <dt>"Statements"</dt><dd>{a.account.delivery.label()}</dd>
        </dl>
        <p><a class="button button--primary" href=format!("/staff/billing/accounts/{id}/statement")>"Post a statement"</a></p>
        <section aria-labelledby="statements">
            <h2 id="statements">"Statements"</h2>
            {if a.statements.is_empty() {
                view! { <p>"None yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table">
                        <thead><tr>
                            <th scope="col">"Date"</th><th scope="col">"Period"</th><th scope="col" class="amount">"Amount due"</th>
                            <th scope="col">"Delivery"</th><th scope="col">"PDF"</th>
                        </tr></thead>
                        <tbody>
                            {a.statements.into_iter().map(|s| {
                                let delivery = match (s.delivery, s.printed_at) {
                                    (Delivery::Paperless, _) => "Paperless".to_string(),
                                    (Delivery::Paper, Some(at)) => format!("Paper, printed {at}"),
                                    (Delivery::Paper, None) => "Paper, in the print queue".to_string(),
                                };
                                let label = format!("Statement of {} (PDF)", s.statement_date);
                                view! {
                                    <tr>
                                        <th scope="row">{s.statement_date}</th>
                                        <td>{s.period}</td>
                                        <td class="amount">{s.amount_due.to_string()}</td>
                                        <td>{delivery}</td>
                                        <td><a href=format!("/staff/billing/statements/{}.pdf", s.id.as_str()) download="" aria-label=label>"Download"</a></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="delivery" class="section">
            <h2 id="delivery">"Paperless billing"</h2>
            <ul class="history">
                {a.changes.into_iter().map(|c| {
                    let what = match c.from {
                        Some(from) => format!("{} → {}", from.as_str(), c.to.as_str()),
                        None => c.to.as_str().to_string(),
                    };
                    view! { <li>{format!("{}: {} ({})", c.at, what, c.by.replace("You, in the portal", "The patient, in the portal"))}</li> }
                }).collect_view()}
            </ul>
            <PostForm<StaffUpdateDelivery> class="form">
                <input type="hidden" name="account" value=id.clone()/>
                <input type="hidden" name="delivery" value=other.as_str()/>
                <button type="submit" class="button">{switch_text}</button>
            </PostForm<StaffUpdateDelivery>>
        </section>
    }
}
