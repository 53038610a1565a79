//! The administrators' list of codes of results given in person (page
//! `/staff/record/hidden-codes`): results with a code on it are never shown to patients in the
//! portal. The list is read where the release rules apply (`release::rules_of`); this module
//! keeps it (the page, its server functions, adding and removing codes, audited).

use crate::error::AppError;
use crate::layout::Loaded;
use crate::layout::PostForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A code on the administrators' list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HiddenCode {
    pub id: String,
    pub system: String,
    pub code: String,
    pub label: String,
    pub added: String,
    pub added_by: Option<String>,
}

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::audit::{self, AuditAction, AuditEvent};
    use crate::platform::db::Db;
    use crate::types::UserId;
    use std::net::IpAddr;

    pub async fn hidden_codes(db: &Db, tz: &jiff::tz::TimeZone) -> Result<Vec<HiddenCode>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct HiddenCodeRow {
            id: String,
            code_system: String,
            code: String,
            label: String,
            added_at: i64,
            /// Who added it, while their account exists.
            display_name: Option<String>,
        }
        let rows: Vec<HiddenCodeRow> = sqlx::query_as(
            "SELECT h.id, h.code_system, h.code, h.label, h.added_at, u.display_name FROM record_hidden_codes h \
             LEFT JOIN users u ON u.id = h.added_by ORDER BY h.code_system, h.code",
        )
        .fetch_all(&db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let added =
                    jiff::Timestamp::from_millisecond(r.added_at).map(|t| t.to_zoned(tz.clone()).strftime("%B %-d, %Y").to_string()).unwrap_or_default();
                HiddenCode { id: r.id, system: r.code_system, code: r.code, label: r.label, added, added_by: r.display_name }
            })
            .collect())
    }

    /// Why a code was not added.
    #[derive(Debug, PartialEq, Eq)]
    pub enum AddError {
        /// A system (a URI, no spaces, at most 200), a code (no spaces, at most 64) and a label
        /// (at most 100) are needed.
        Invalid,
        /// The code is on the list already.
        Exists,
    }

    /// Adds a code to the list; audited (the code is a test's code, not a patient's data).
    pub async fn add_code(
        db: &Db,
        admin: &UserId,
        system: &str,
        code: &str,
        label: &str,
        addr: Option<IpAddr>,
        now: i64,
    ) -> Result<Result<String, AddError>, sqlx::Error> {
        let (system, code, label) = (system.trim(), code.trim(), label.trim());
        let word = |s: &str, max: usize| !s.is_empty() && s.chars().count() <= max && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !word(system, 200) || !word(code, 64) || label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Ok(Err(AddError::Invalid));
        }
        let id = crate::platform::tokens::new_id();
        let mut tx = db.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO record_hidden_codes (id, code_system, code, label, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(system)
        .bind(code)
        .bind(label)
        .bind(now)
        .bind(admin.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(Err(AddError::Exists));
        }
        let detail = format!("{system}|{code}");
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(admin),
                record_type: Some("hidden-result-code"),
                record_id: Some(&id),
                client_addr: addr,
                detail: Some(&detail),
                ..AuditEvent::of(AuditAction::RecordHiddenCodeAdded)
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Removes a code from the list; audited. False when there was no such code.
    pub async fn remove_code(db: &Db, admin: &UserId, id: &str, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = db.begin_write().await?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT code_system, code FROM record_hidden_codes WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let Some((system, code)) = row else { return Ok(false) };
        let detail = format!("{system}|{code}");
        let gone = sqlx::query("DELETE FROM record_hidden_codes WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(admin),
                record_type: Some("hidden-result-code"),
                record_id: Some(id),
                client_addr: addr,
                detail: Some(&detail),
                ..AuditEvent::of(AuditAction::RecordHiddenCodeRemoved)
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[server(endpoint = "staff/record/hidden-codes")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_hidden_codes() -> Result<Vec<HiddenCode>, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::HideResultCodes)?;
    Ok(hidden_codes(&cx.state.db, &cx.state.settings.messaging.time_zone).await?)
}

crate::layout::notice_codes! {
    /// How the last form on the list of codes given in person went.
    pub enum HiddenCodeNotice {
        Added = Done "added" => "The code is added: results with it are no longer shown in the portal.",
        Removed = Done "removed" => "The code is removed: results with it show in the portal again.",
        Invalid = Error "invalid" => "Please give a code system (a URI such as http://loinc.org, no spaces), a code (no spaces) and a label of at most 100 characters.",
        Exists = Error "exists" => "That code is on the list already.",
        Unchanged = Error "unchanged" => "Nothing was changed: that code was not on the list.",
    }
}

#[server(endpoint = "staff/record/hidden-codes/add")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn add_hidden_code(system: String, code: String, label: String) -> Result<(), AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::HideResultCodes)?;
    let notice = match add_code(&cx.state.db, cx.user(), &system, &code, &label, cx.addr, cx.now).await? {
        Ok(_) => HiddenCodeNotice::Added,
        Err(AddError::Invalid) => HiddenCodeNotice::Invalid,
        Err(AddError::Exists) => HiddenCodeNotice::Exists,
    };
    crate::layout::redirect_notice("/staff/record/hidden-codes", notice);
    Ok(())
}

#[server(endpoint = "staff/record/hidden-codes/remove")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_hidden_code(id: String) -> Result<(), AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::HideResultCodes)?;
    let notice = if remove_code(&cx.state.db, cx.user(), &id, cx.addr, cx.now).await? { HiddenCodeNotice::Removed } else { HiddenCodeNotice::Unchanged };
    crate::layout::redirect_notice("/staff/record/hidden-codes", notice);
    Ok(())
}

#[component]
pub fn HiddenCodesPage() -> impl IntoView {
    let codes = Resource::new(|| (), |_| load_hidden_codes());
    let status = crate::layout::notice::<HiddenCodeNotice>();
    view! {
        <Title text="Results given in person | Staff"/>
            <h1>"Results given in person"</h1>
            {status}
            <p class="lead">"Results whose code is on this list (for example tests that state law requires to be given in person) are never shown to patients in the portal: not in Test Results, Trends, visits, the Health Summary or their downloads, and no notice is sent for them. "
               "Patients who have such a result read that some results are given to them in person by their care team. Every other result shows as soon as the EHR has it."</p>
            <Loaded resource=codes view=move |list| view! { <HiddenCodeTable list/> }/>
            <section class="section" aria-labelledby="add-code">
                <h2 id="add-code">"Add a code"</h2>
                <PostForm<AddHiddenCode> class="form">
                    <div class="field">
                        <label for="code-system">"Code system"</label>
                        <p class="hint" id="code-system-hint">"The system's URI, e.g. http://loinc.org"</p>
                        <input type="text" id="code-system" name="system" required maxlength="200" value="http://loinc.org" aria-describedby="code-system-hint"/>
                    </div>
                    <div class="field">
                        <label for="code-code">"Code"</label>
                        <input type="text" id="code-code" name="code" required maxlength="64"/>
                    </div>
                    <div class="field">
                        <label for="code-label">"Label"</label>
                        <p class="hint" id="code-label-hint">"What the test is, for staff reading this list."</p>
                        <input type="text" id="code-label" name="label" required maxlength="100" aria-describedby="code-label-hint"/>
                    </div>
                    <button type="submit" class="button button--primary">"Add"</button>
                </PostForm<AddHiddenCode>>
            </section>
    }
}

#[component]
fn HiddenCodeTable(list: Vec<HiddenCode>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>"No codes: every result shows in the portal."</p> }.into_any();
    }
    view! {
        <table class="table">
            <caption>"Codes of results given in person"</caption>
            <thead><tr>
                <th scope="col">"Label"</th><th scope="col">"System"</th><th scope="col">"Code"</th>
                <th scope="col">"Added"</th><th scope="col"><span class="visually-hidden">"Action"</span></th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|c| {
                    let label = format!("Remove {} ({})", c.label, c.code);
                    let added = match &c.added_by { Some(by) => format!("{} by {by}", c.added), None => c.added.clone() };
                    view! {
                        <tr>
                            <th scope="row">{c.label.clone()}</th>
                            <td>{c.system.clone()}</td>
                            <td>{c.code.clone()}</td>
                            <td>{added}</td>
                            <td>
                                <PostForm<RemoveHiddenCode> class="inline-form">
                                    <input type="hidden" name="id" value=c.id.clone()/>
                                    <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                </PostForm<RemoveHiddenCode>>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
