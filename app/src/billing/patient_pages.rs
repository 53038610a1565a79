//! The patient's Billing tab (SPEC R-BIL-2, R-BIL-3), along the path patients are told about:
//! Billing Summary → View Account → Paperless Billing → Update. Statements download as PDF
//! from `/billing/statements/{id}.pdf` (served by the server crate: it is a file, not a page).
//! Every form is a plain HTML form.

use super::{AccountSummary, AccountView, Delivery};
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, org_info, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[server(endpoint = "billing/accounts")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_billing_summary() -> Result<Vec<AccountSummary>, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    Ok(super::server::patient_accounts(&state.db, patient).await?)
}

#[server(endpoint = "billing/account")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_account(id: String) -> Result<AccountView, AppError> {
    use super::server::{account_view, Reader};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let id = super::AccountId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let reader = Reader::Patient { user: &session.viewer.user_id, patient };
    account_view(&state.db, &state.settings, reader, &id, cx.addr, cx.now).await?.ok_or_else(|| request::refuse(AppError::NotFound))
}

notice_codes! {
    /// Paperless Billing's refusal (a change made is told on View Account by `?delivery=`).
    pub enum PaperlessNotice {
        Choose = Error "choose" => "Please choose paperless or paper statements.",
    }
}

/// Paperless Billing → Update: `delivery` is `paperless` or `paper`.
#[server(endpoint = "billing/delivery")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn update_delivery(account: String, delivery: String) -> Result<(), AppError> {
    use super::server::{change_delivery, BillingError, Reader};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let id = super::AccountId::parse(&account).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let Some(to) = Delivery::parse(&delivery) else {
        crate::layout::redirect_notice(&format!("/billing/accounts/{}/paperless", id.as_str()), PaperlessNotice::Choose);
        return Ok(());
    };
    let reader = Reader::Patient { user: &session.viewer.user_id, patient };
    match change_delivery(&state.db, reader, &id, to, cx.addr, cx.now).await {
        Ok(_) => crate::platform::request::redirect(&format!("/billing/accounts/{}?delivery={}#paperless", id.as_str(), to.as_str())),
        Err(BillingError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(BillingError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

#[component]
pub fn BillingSummaryPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| load_billing_summary());
    view! {
        <Title text="Billing Summary | Patient portal"/>
            <h1>"Billing Summary"</h1>
            <Loaded resource=accounts view=|accounts| view! { <AccountList accounts/> }/>
    }
}

#[component]
fn AccountList(accounts: Vec<AccountSummary>) -> impl IntoView {
    let org = org_info();
    if accounts.is_empty() {
        return view! {
            <div class="empty">
                <p>"You have no billing accounts with us in the portal. If you expected a bill, call us at "{org.phone.clone()}"."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <p>"Each billing account lists the visits it covers. Amounts are as of the latest statement."</p>
        <ul class="accounts">
            {accounts.into_iter().map(|a| {
                let href = format!("/billing/accounts/{}", a.id.as_str());
                let heading = format!("Account {}", a.number);
                let covers = if a.departments.is_empty() { "No visits billed yet".to_string() } else { a.departments.join(", ") };
                let balance = balance_text(a.balance);
                view! {
                    <li class="account">
                        <h2>{heading}</h2>
                        <dl class="details">
                            <dt>"Guarantor"</dt><dd>{a.guarantor}</dd>
                            <dt>"Covers"</dt><dd>{covers}</dd>
                            <dt>"Balance"</dt><dd class="amount">{balance}</dd>
                            <dt>"Last statement"</dt><dd>{a.last_statement.unwrap_or_else(|| "None yet".into())}</dd>
                            <dt>"Statements"</dt><dd>{a.delivery.label()}</dd>
                        </dl>
                        <p><a class="button" href=href>"View Account"<span class="visually-hidden">{format!(" {}", a.number)}</span></a></p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

fn balance_text(balance: super::money::Money) -> String {
    if balance.is_negative() {
        format!("{} credit", balance.abs())
    } else {
        balance.to_string()
    }
}

#[component]
pub fn ViewAccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let account = Resource::new(id, load_account);
    let query = use_query_map();
    let changed = move || {
        query.read().get("delivery").and_then(|d| Delivery::parse(&d)).map(|d| match d {
            Delivery::Paperless => "Paperless billing is on: your next statements will be in the portal, and we will e-mail you when one is ready.",
            Delivery::Paper => "Paperless billing is off: your next statements will be mailed to you.",
        })
    };
    view! {
        <Title text="View Account | Patient portal"/>
            <p><a href="/billing">"← Billing Summary"</a></p>
            {move || changed().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            <Loaded resource=account heading="View Account" view=move |a| view! { <AccountDetail a/> }/>
    }
}

#[component]
fn AccountDetail(a: AccountView) -> impl IntoView {
    let update = format!("/billing/accounts/{}/paperless", a.account.id.as_str());
    let delivery = a.account.delivery;
    view! {
        <h1>{format!("Account {}", a.account.number)}</h1>
        <dl class="details">
            <dt>"Guarantor"</dt><dd>{a.account.guarantor.clone()}</dd>
            <dt>"Balance"</dt><dd class="amount">{balance_text(a.account.balance)}</dd>
        </dl>
        <section aria-labelledby="statements">
            <h2 id="statements">"Statements"</h2>
            {if a.statements.is_empty() {
                view! { <div class="empty"><p>"No statements yet."</p></div> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table">
                        <caption class="visually-hidden">"Statements, newest first"</caption>
                        <thead><tr>
                            <th scope="col">"Date"</th><th scope="col">"Period"</th><th scope="col" class="amount">"Amount due"</th>
                            <th scope="col">"Due by"</th><th scope="col">"PDF"</th>
                        </tr></thead>
                        <tbody>
                            {a.statements.into_iter().map(|s| {
                                let href = format!("/billing/statements/{}.pdf", s.id.as_str());
                                let label = format!("Statement of {} (PDF)", s.statement_date);
                                view! {
                                    <tr>
                                        <th scope="row">{s.statement_date}</th>
                                        <td>{s.period}</td>
                                        <td class="amount">{balance_text(s.amount_due)}</td>
                                        <td>{s.due_date}</td>
                                        <td><a href=href download="" aria-label=label>"Download"</a></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="paperless" class="section">
            <h2 id="paperless">"Paperless Billing"</h2>
            <p>{match delivery {
                Delivery::Paperless => "Paperless billing is on: your statements are here in the portal, and we e-mail you when a new one is ready. Nothing is mailed.",
                Delivery::Paper => "Paperless billing is off: your statements are mailed to the address below. They are also here in the portal.",
            }}</p>
            <address class="address">{a.address.into_iter().map(|l| view! { <span>{l}</span><br/> }).collect_view()}</address>
            <p><a class="button" href=update>"Update"<span class="visually-hidden">" paperless billing"</span></a></p>
            <h3>"Changes"</h3>
            {if a.changes.is_empty() {
                view! { <p>"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="history">
                        {a.changes.into_iter().map(|c| {
                            let what = match c.from {
                                Some(from) => format!("{} → {}", short(from), short(c.to)),
                                None => short(c.to).to_string(),
                            };
                            view! { <li>{format!("{}: {} ({})", c.at, what, c.by)}</li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

fn short(d: Delivery) -> &'static str {
    match d {
        Delivery::Paperless => "paperless",
        Delivery::Paper => "paper",
    }
}

#[component]
pub fn PaperlessUpdatePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let account = Resource::new(id, load_account);
    view! {
        <Title text="Paperless Billing | Patient portal"/>
            {move || view! { <p><a href=format!("/billing/accounts/{}", id())>"← View Account"</a></p> }}
            <h1>"Paperless Billing"</h1>
            {notice::<PaperlessNotice>()}
            <Loaded resource=account view=move |a| view! { <UpdateForm a/> }/>
    }
}

#[component]
fn UpdateForm(a: AccountView) -> impl IntoView {
    let paperless = a.account.delivery == Delivery::Paperless;
    let address = a.address.join(", ");
    let (now, switch_to, button, consequence) = if paperless {
        (
            "Paperless billing is on for this account.",
            "paper",
            "Cancel paperless billing",
            format!(
                "From the next statement on, your statements will be mailed to {address}. Statements already here stay in the \
                 portal, and new ones will be here too. You can turn paperless billing on again at any time."
            ),
        )
    } else {
        (
            "Paperless billing is off for this account: statements are mailed.",
            "paperless",
            "Turn on paperless billing",
            "From the next statement on, your statements will no longer be mailed: they will be here in the portal, and we \
             will e-mail you when one is ready (the e-mail never says the amount). You can go back to paper at any time."
                .to_string(),
        )
    };
    view! {
        <p>{format!("Account {}. ", a.account.number)}{now}</p>
        <PostForm<UpdateDelivery> class="form">
            <input type="hidden" name="account" value=a.account.id.to_string()/>
            <input type="hidden" name="delivery" value=switch_to/>
            <p id="consequence">{consequence}</p>
            <button type="submit" class="button button--primary" aria-describedby="consequence">{button}</button>
        </PostForm<UpdateDelivery>>
    }
}
