//! Import statements from a CSV file (billing staff): the whole file or, at the first problem,
//! nothing; the page then names the row and the reason.

use super::staff_pages::status;
#[cfg(feature = "ssr")]
use super::statement_form_pages::STATEMENT_FORM;
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::{Loaded, PostForm};
#[cfg(feature = "ssr")]
use crate::{access::Permission, context::StaffCtx};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
async fn refuse_import(state: &crate::state::AppState, user: &crate::types::UserId, message: String, now: i64) -> Result<(), AppError> {
    super::server::save_draft(&state.db, user, "import", "{}", Some(&message), now).await?;
    crate::platform::request::redirect("/staff/billing/import?refused=1");
    Ok(())
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
            <Loaded resource=result quiet=true view=move |message| message.filter(|_| refused()).map(alert)/>
            <p>"A CSV file with one row per statement line. Rows with the same account number and statement date make one statement. "
               "The whole file is imported or, at the first problem, nothing: the page then names the row and the reason."</p>
            <PostForm<ImportStatements> multipart=true class="form">
                <div class="field">
                    <label for="file">"CSV file"</label>
                    <input id="file" name="file" type="file" accept=".csv,text/csv" required aria-describedby="format"/>
                </div>
                <button type="submit" class="button button--primary">"Import"</button>
            </PostForm<ImportStatements>>
            <section aria-labelledby="format-title" class="section">
                <h2 id="format-title">"The format"</h2>
                <p id="format">"Columns (a header row first, in any order): "<code>{FORMAT_HEADER}</code>
                   ". Dates as 2026-11-01; amounts as 125.00, payments negative. amount_due is the statement's amount due: the lines "
                   "must add up to it from the previous statement's."</p>
            </section>
    }
}

const FORMAT_HEADER: &str = "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount";
