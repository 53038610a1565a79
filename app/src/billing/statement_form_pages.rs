//! Post a statement (billing staff): the statement form, its totals computed and checked when
//! posted. A refused form keeps what was typed in the database (not in the URL) and shows it
//! again with the reason.

use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{alert, Loaded};
#[cfg(feature = "ssr")]
use crate::{access::Permission, context::StaffCtx};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
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
pub struct StatementFormData {
    pub account: super::AccountSummary,
    pub form: StatementForm,
    pub message: Option<String>,
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
pub(super) const STATEMENT_FORM: crate::platform::multipart::Limits = crate::platform::multipart::Limits::text(10_000, 200_000);

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
        <PostForm<PostStatementForm> multipart=true class="form" clone:account_id>
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
        </PostForm<PostStatementForm>>
        <PostForm<ClearStatementForm> class="form">
            <input type="hidden" name="account" value=account_id/>
            <button type="submit" class="button button--quiet">"Clear the form"</button>
        </PostForm<ClearStatementForm>>
    }
}
