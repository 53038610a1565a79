//! Billing staff (SPEC R-BIL-3, R-BIL-4): find a guarantor's accounts or open one, an account
//! with its statements and delivery, post a statement (totals computed and checked), import
//! statements from a CSV file, and the print queue of paper statements (CSV and one combined
//! PDF, then marked printed). Plain HTML forms throughout; a refused statement form keeps what
//! was typed in the database (not in the URL) and shows it again with the reason.

use super::{AccountView, Delivery};
use crate::error::AppError;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::{alert, Loaded};
#[cfg(feature = "ssr")]
use crate::{access::Permission, platform::context::StaffCtx};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// Blank line rows the statement form offers (more on request).
#[cfg(feature = "ssr")]
pub const FORM_ROWS: usize = 8;

/// The statement form as typed: every field text, parsed only when posted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementForm {
    pub statement_date: String,
    pub period_start: String,
    pub period_end: String,
    pub due_date: String,
    pub amount_due: String,
    pub lines: Vec<LineForm>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LineForm {
    pub date: String,
    pub kind: String,
    pub department: String,
    pub description: String,
    pub amount: String,
}

impl LineForm {
    fn is_blank(&self) -> bool {
        [&self.date, &self.department, &self.description, &self.amount].iter().all(|f| f.trim().is_empty())
    }
}

impl StatementForm {
    /// Parses the form once; the error names the field or the form's row.
    pub fn parse(&self) -> Result<super::statement::NewStatement, String> {
        use super::money::Money;
        use super::statement::{clean_text, Line, LineKind, NewStatement};
        use crate::dates::CalendarDate;
        let date = |label: &str, text: &str| CalendarDate::parse(text).ok_or_else(|| format!("{label}: enter a date like 2026-11-01."));
        let mut lines = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            if l.is_blank() {
                continue;
            }
            let row = i + 1;
            let kind = LineKind::parse(&l.kind).ok_or_else(|| format!("Line {row}: choose charge, payment or adjustment."))?;
            let amount = Money::parse(&l.amount).map_err(|e| format!("Line {row}: the amount {e}."))?;
            lines.push(Line {
                kind,
                date: date(&format!("Line {row}"), &l.date)?,
                department: clean_text(&l.department),
                description: clean_text(&l.description),
                amount,
            });
        }
        Ok(NewStatement {
            statement_date: date("Statement date", &self.statement_date)?,
            period_start: date("Period from", &self.period_start)?,
            period_end: date("Period to", &self.period_end)?,
            due_date: date("Due date", &self.due_date)?,
            expected_amount_due: Money::parse(&self.amount_due).map_err(|e| format!("Amount due: the amount {e}."))?,
            lines,
        })
    }

    /// The form row of the n-th non-blank line (what people see numbered on the form).
    pub fn row_of_line(&self, n: usize) -> usize {
        self.lines.iter().enumerate().filter(|(_, l)| !l.is_blank()).nth(n.saturating_sub(1)).map(|(i, _)| i + 1).unwrap_or(n)
    }

    #[cfg(feature = "ssr")]
    fn with_rows(mut self, rows: usize) -> Self {
        while self.lines.len() < rows {
            self.lines.push(LineForm { kind: "charge".into(), ..LineForm::default() });
        }
        self
    }
}

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementFormData {
    pub account: super::AccountSummary,
    pub form: StatementForm,
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrintItemView {
    pub statement_id: String,
    pub account_id: String,
    pub account_number: String,
    pub guarantor: String,
    pub address: String,
    pub statement_date: String,
    pub amount_due: String,
    pub posted_at: String,
    /// Its place in the print queue: what the page's downloads and *Mark printed* cover.
    pub queue_position: i64,
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

#[server(endpoint = "staff/billing/statement-form")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_statement_form(account: String) -> Result<StatementFormData, AppError> {
    use super::server::{account_view, draft, Reader};
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let id = super::AccountId::parse(&account).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let user = cx.user();
    let view = account_view(&cx.state.db, &cx.state.settings, Reader::Staff { user }, &id, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))?;
    let (form, message) = match draft(&cx.state.db, user, &format!("statement:{}", id.as_str())).await? {
        Some((fields, message)) => (serde_json::from_str(&fields).unwrap_or_default(), message),
        None => (StatementForm::default(), None),
    };
    Ok(StatementFormData { account: view.account, form: form.with_rows(FORM_ROWS), message })
}

/// The statement form's text: 10 KB a field, 200 KB in all.
#[cfg(feature = "ssr")]
const STATEMENT_FORM: crate::platform::multipart::Limits = crate::platform::multipart::Limits::text(10_000, 200_000);

/// Posts the statement form, or (button `action=more`) keeps it with more blank rows.
#[server(input = MultipartFormData, endpoint = "staff/billing/post")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn post_statement_form(data: MultipartData) -> Result<(), AppError> {
    use super::server::{discard_draft, post_statement, save_draft, BillingError, Routed};
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    // Names repeat for the statement's lines: the fields are kept in order.
    let fields = crate::platform::multipart::read(data, STATEMENT_FORM).await?.fields;
    let mut account = String::new();
    let mut action = String::new();
    let mut form = StatementForm::default();
    for (name, value) in fields {
        let line = |form: &mut StatementForm| -> usize {
            // A line's fields arrive in order: date first starts a new line.
            if name == "line_date" || form.lines.is_empty() {
                form.lines.push(LineForm::default());
            }
            form.lines.len() - 1
        };
        match name.as_str() {
            "account" => account = value,
            "action" => action = value,
            "statement_date" => form.statement_date = value,
            "period_start" => form.period_start = value,
            "period_end" => form.period_end = value,
            "due_date" => form.due_date = value,
            "amount_due" => form.amount_due = value,
            "line_date" => {
                let i = line(&mut form);
                form.lines[i].date = value;
            }
            "line_kind" => {
                let i = line(&mut form);
                form.lines[i].kind = value;
            }
            "line_department" => {
                let i = line(&mut form);
                form.lines[i].department = value;
            }
            "line_description" => {
                let i = line(&mut form);
                form.lines[i].description = value;
            }
            "line_amount" => {
                let i = line(&mut form);
                form.lines[i].amount = value;
            }
            _ => {}
        }
    }
    if form.lines.len() > super::statement::LINES_MAX + FORM_ROWS {
        return Err(request::refuse(AppError::Request));
    }
    let id = super::AccountId::parse(&account).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let user = cx.user();
    let key = format!("statement:{}", id.as_str());
    let page = format!("/staff/billing/accounts/{}/statement", id.as_str());
    let now = cx.now;
    let keep = |form: &StatementForm, message: Option<String>| {
        let fields = serde_json::to_string(form).unwrap_or_default();
        (fields, message)
    };
    if action == "more" {
        let rows = form.lines.len() + 5;
        let (fields, _) = keep(&form.clone().with_rows(rows), None);
        save_draft(&cx.state.db, user, &key, &fields, None, now).await?;
        crate::platform::request::redirect(&format!("{page}#lines"));
        return Ok(());
    }
    let refused = |message: String| {
        let (fields, message) = keep(&form, Some(message));
        (fields, message)
    };
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => {
            let (fields, message) = refused(message);
            save_draft(&cx.state.db, user, &key, &fields, message.as_deref(), now).await?;
            crate::platform::request::redirect(&format!("{page}?refused=1"));
            return Ok(());
        }
    };
    match post_statement(&cx.state.db, &cx.state.settings, user, &id, &new, cx.addr, now).await {
        Ok((_, routed)) => {
            discard_draft(&cx.state.db, user, &key).await?;
            let to = match routed {
                Routed::Notified => "notified",
                Routed::PrintQueue => "print-queue",
            };
            crate::platform::request::redirect(&format!("/staff/billing/accounts/{}?posted={to}", id.as_str()));
        }
        Err(BillingError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(BillingError::Db(e)) => return Err(e.into()),
        Err(e) => {
            let message = match &e {
                BillingError::Statement(s) => match s.line() {
                    Some(n) => format!("Line {}: {}", form.row_of_line(n), s.reason()),
                    None => s.to_string(),
                },
                other => other.to_string(),
            };
            let (fields, message) = refused(message);
            save_draft(&cx.state.db, user, &key, &fields, message.as_deref(), now).await?;
            crate::platform::request::redirect(&format!("{page}?refused=1"));
        }
    }
    Ok(())
}

/// Clears the statement form.
#[server(endpoint = "staff/billing/clear")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn clear_statement_form(account: String) -> Result<(), AppError> {
    use crate::platform::request;
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let id = super::AccountId::parse(&account).ok_or_else(|| request::refuse(AppError::NotFound))?;
    super::server::discard_draft(&cx.state.db, cx.user(), &format!("statement:{}", id.as_str())).await?;
    crate::platform::request::redirect(&format!("/staff/billing/accounts/{}/statement", id.as_str()));
    Ok(())
}

#[server(endpoint = "staff/billing/import-result")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_import_result() -> Result<Option<String>, AppError> {
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    Ok(super::server::draft(&cx.state.db, cx.user(), "import").await?.and_then(|(_, message)| message))
}

/// Imports a CSV file of statements: all or nothing.
#[server(input = MultipartFormData, endpoint = "staff/billing/import")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn import_statements(data: MultipartData) -> Result<(), AppError> {
    use super::csv_import::BYTES_MAX;
    use super::server::{discard_draft, import, BillingError};

    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let user = cx.user();
    let now = cx.now;
    let limits = crate::platform::multipart::Limits { file_fields: &["file"], file: BYTES_MAX, ..STATEMENT_FORM };
    let form = crate::platform::multipart::read(data, limits).await?;
    if form.too_large.is_some() {
        return refuse_import(&cx.state, user, format!("The file is larger than {} MB.", BYTES_MAX / (1024 * 1024)), now).await;
    }
    let bytes = match form.uploads.into_iter().next() {
        Some(upload) if !upload.bytes.is_empty() => upload.bytes,
        _ => return refuse_import(&cx.state, user, "Choose a CSV file to import.".into(), now).await,
    };
    match import(&cx.state.db, &cx.state.settings, user, &bytes, cx.addr, now).await {
        Ok(r) => {
            discard_draft(&cx.state.db, user, "import").await?;
            crate::platform::request::redirect(&format!(
                "/staff/billing/import?statements={}&lines={}&notified={}&paper={}",
                r.statements, r.lines, r.notified, r.print_queue
            ));
            Ok(())
        }
        Err(BillingError::Db(e)) => Err(e.into()),
        Err(e) => refuse_import(&cx.state, user, format!("Nothing was imported. {e}"), now).await,
    }
}

/// Keeps why an import was refused (it may quote the file) and shows it on the import page.
#[cfg(feature = "ssr")]
async fn refuse_import(state: &crate::platform::state::AppState, user: &crate::types::UserId, message: String, now: i64) -> Result<(), AppError> {
    super::server::save_draft(&state.db, user, "import", "{}", Some(&message), now).await?;
    crate::platform::request::redirect("/staff/billing/import?refused=1");
    Ok(())
}

#[server(endpoint = "staff/billing/print-queue")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_print_queue() -> Result<Vec<PrintItemView>, AppError> {
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    Ok(super::server::print_queue(&cx.state.db, &cx.state.settings, None)
        .await?
        .into_iter()
        .map(|i| PrintItemView {
            statement_id: i.statement.id.to_string(),
            account_id: i.account_id.to_string(),
            account_number: i.account_number,
            guarantor: i.guarantor,
            address: i.address.join(", "),
            statement_date: i.statement.statement_date,
            amount_due: i.statement.amount_due.to_string(),
            posted_at: i.posted_at,
            queue_position: i.queue_position,
        })
        .collect())
}

/// Marks printed the statements the page listed: the queue up to place `until` (the last the page
/// showed), so a statement posted while the batch was printing stays in the queue.
#[server(endpoint = "staff/billing/printed")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn mark_printed(until: i64) -> Result<(), AppError> {
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let marked = super::server::mark_printed(&cx.state.db, cx.user(), until, cx.addr, cx.now).await?;
    crate::platform::request::redirect(&format!("/staff/billing/print-queue?printed={marked}"));
    Ok(())
}

fn status(text: String) -> impl IntoView {
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
                            <form method="post" action={<OpenBillingAccount as leptos::server_fn::ServerFn>::PATH} class="form">
                                <input type="hidden" name="patient" value=g.patient_id.clone()/>
                                <div class="field">
                                    <label for=address_id.clone()>"Mailing address for paper statements"</label>
                                    <textarea id=address_id name="address" rows="4" required></textarea>
                                    <p class="hint">"One line per line of the envelope."</p>
                                </div>
                                <button type="submit" class="button">"Open account"</button>
                            </form>
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
            <form method="post" action={<StaffUpdateDelivery as leptos::server_fn::ServerFn>::PATH} class="form">
                <input type="hidden" name="account" value=id.clone()/>
                <input type="hidden" name="delivery" value=other.as_str()/>
                <button type="submit" class="button">{switch_text}</button>
            </form>
        </section>
    }
}

#[component]
pub fn PostStatementPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_statement_form);
    view! {
        <Title text="Post a statement | Staff portal"/>
            <h1>"Post a statement"</h1>
            <Loaded resource=data view=move |d| view! { <StatementFormView d/> }/>
    }
}

#[component]
fn StatementFormView(d: StatementFormData) -> impl IntoView {
    use super::statement::LineKind;
    let account_id = d.account.id.to_string();
    let f = d.form;
    let field = |id: &'static str, label: &'static str, value: String, kind: &'static str, hint: Option<&'static str>| {
        let hint_id = format!("{id}-hint");
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=id type=kind value=value required aria-describedby=hint.map(|_| hint_id.clone())/>
                {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            </div>
        }
    };
    view! {
        <p>{format!("Account {} · {} · previous balance {} · ", d.account.number, d.account.guarantor, d.account.balance)}{d.account.delivery.label()}</p>
        {d.message.map(alert)}
        <form method="post" enctype="multipart/form-data" action={<PostStatementForm as leptos::server_fn::ServerFn>::PATH} class="form">
            <input type="hidden" name="account" value=account_id.clone()/>
            <fieldset>
                <legend>"Statement"</legend>
                {field("statement_date", "Statement date", f.statement_date, "date", None)}
                {field("period_start", "Period from", f.period_start, "date", None)}
                {field("period_end", "Period to", f.period_end, "date", None)}
                {field("due_date", "Due date", f.due_date, "date", None)}
            </fieldset>
            <fieldset id="lines">
                <legend>"Lines"</legend>
                <p class="hint" id="lines-hint">"Charges are positive; payments are negative (e.g. -25.00); adjustments either. Empty rows are left out."</p>
                <div class="table-wrap">
                <table class="table table--form">
                    <thead><tr>
                        <th scope="col">"#"</th><th scope="col">"Date"</th><th scope="col">"Kind"</th><th scope="col">"Department"</th>
                        <th scope="col">"Description"</th><th scope="col">"Amount"</th>
                    </tr></thead>
                    <tbody>
                        {f.lines.into_iter().enumerate().map(|(i, l)| {
                            let n = i + 1;
                            let kind = l.kind.clone();
                            view! {
                                <tr>
                                    <th scope="row">{n}</th>
                                    <td><input type="date" name="line_date" value=l.date aria-label=format!("Line {n} date")/></td>
                                    <td>
                                        <select name="line_kind" aria-label=format!("Line {n} kind")>
                                            {LineKind::ALL.into_iter().map(|k| view! {
                                                <option value=k.as_str() selected=kind == k.as_str()>{k.label()}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                    <td><input type="text" name="line_department" value=l.department maxlength="60" aria-label=format!("Line {n} department")/></td>
                                    <td><input type="text" name="line_description" value=l.description maxlength="120" aria-label=format!("Line {n} description")/></td>
                                    <td><input type="text" inputmode="decimal" name="line_amount" value=l.amount aria-label=format!("Line {n} amount") aria-describedby="lines-hint"/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
                <button type="submit" name="action" value="more" class="button button--quiet" formnovalidate>"More lines"</button>
            </fieldset>
            {field("amount_due", "Amount due on this statement", f.amount_due, "text",
                Some("As your billing system computed it: previous balance plus every line. The portal checks that the lines add up to it."))}
            <button type="submit" name="action" value="post" class="button button--primary">"Post statement"</button>
        </form>
        <form method="post" action={<ClearStatementForm as leptos::server_fn::ServerFn>::PATH} class="form">
            <input type="hidden" name="account" value=account_id/>
            <button type="submit" class="button button--quiet">"Clear the form"</button>
        </form>
    }
}

#[component]
pub fn BillingImportPage() -> impl IntoView {
    let query = use_query_map();
    let result = Resource::new(|| (), |_| load_import_result());
    let imported = move || {
        let q = query.read();
        let n = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok());
        n("statements").map(|s| {
            format!(
                "Imported {s} statements with {} lines: {} patients notified (paperless), {} statements in the print queue (paper).",
                n("lines").unwrap_or(0),
                n("notified").unwrap_or(0),
                n("paper").unwrap_or(0)
            )
        })
    };
    let refused = move || query.read().get("refused").is_some();
    view! {
        <Title text="Import statements | Staff portal"/>
            <h1>"Import statements"</h1>
            {move || imported().map(status)}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match result.await {
                        Ok(Some(message)) if refused() => Some(alert(message).into_any()),
                        Ok(_) => None,
                        Err(e) => Some(alert(e.to_string()).into_any()),
                    }
                })}
            </Suspense>
            <p>"A CSV file with one row per statement line. Rows with the same account number and statement date make one statement. "
               "The whole file is imported or, at the first problem, nothing: the page then names the row and the reason."</p>
            <form method="post" enctype="multipart/form-data" action={<ImportStatements as leptos::server_fn::ServerFn>::PATH} class="form">
                <div class="field">
                    <label for="file">"CSV file"</label>
                    <input id="file" name="file" type="file" accept=".csv,text/csv" required aria-describedby="format"/>
                </div>
                <button type="submit" class="button button--primary">"Import"</button>
            </form>
            <section aria-labelledby="format-title" class="section">
                <h2 id="format-title">"The format"</h2>
                <p id="format">"Columns (a header row first, in any order): "<code>{FORMAT_HEADER}</code>
                   ". Dates as 2026-11-01; amounts as 125.00, payments negative. amount_due is the statement's amount due: the lines "
                   "must add up to it from the previous statement's."</p>
            </section>
    }
}

const FORMAT_HEADER: &str = "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount";

#[component]
pub fn PrintQueuePage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| load_print_queue());
    let query = use_query_map();
    let printed = move || query.read().get("printed").map(|n| format!("{n} statements marked printed."));
    view! {
        <Title text="Print queue | Staff portal"/>
            <h1>"Print queue"</h1>
            {move || printed().map(status)}
            <p>"Statements of accounts on paper billing, to be printed and mailed, oldest first."</p>
            <Loaded resource=queue view=move |items| view! { <QueueList items/> }/>
    }
}

#[component]
fn QueueList(items: Vec<PrintItemView>) -> impl IntoView {
    if items.is_empty() {
        return view! { <div class="empty"><p>"Nothing to print."</p></div> }.into_any();
    }
    // The downloads and the mark cover what this page lists: the queue up to the last place shown.
    let until = items.iter().map(|i| i.queue_position).max().unwrap_or(0);
    let count = items.len();
    view! {
        <p class="actions">
            <a class="button" href=format!("/staff/billing/print-queue.pdf?until={until}") download="">"Download all as one PDF"</a>
            " "<a class="button" href=format!("/staff/billing/print-queue.csv?until={until}") download="">"Download the list (CSV)"</a>
        </p>
        <div class="table-wrap">
        <table class="table">
            <thead><tr>
                <th scope="col">"Account"</th><th scope="col">"Guarantor"</th><th scope="col">"Address"</th>
                <th scope="col">"Statement"</th><th scope="col" class="amount">"Amount due"</th><th scope="col">"Posted"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| view! {
                    <tr>
                        <th scope="row"><a href=format!("/staff/billing/accounts/{}", i.account_id)>{i.account_number}</a></th>
                        <td>{i.guarantor}</td>
                        <td>{i.address}</td>
                        <td><a href=format!("/staff/billing/statements/{}.pdf", i.statement_id) download="">{i.statement_date}</a></td>
                        <td class="amount">{i.amount_due}</td>
                        <td>{i.posted_at}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
        <form method="post" action={<MarkPrinted as leptos::server_fn::ServerFn>::PATH} class="form">
            <input type="hidden" name="until" value=until.to_string()/>
            <button type="submit" class="button button--primary">{format!("Mark these {count} statements printed")}</button>
        </form>
    }
    .into_any()
}
