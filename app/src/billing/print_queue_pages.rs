//! The print queue (billing staff): paper statements to print and mail, oldest first, as one
//! combined PDF or a CSV list, then marked printed.

use super::staff_pages::status;
use crate::error::AppError;
use crate::layout::Loaded;
use crate::layout::PostForm;
#[cfg(feature = "ssr")]
use crate::{access::Permission, context::StaffCtx};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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
        <PostForm<MarkPrinted> class="form">
            <input type="hidden" name="until" value=until.to_string()/>
            <button type="submit" class="button button--primary">{format!("Mark these {count} statements printed")}</button>
        </PostForm<MarkPrinted>>
    }
    .into_any()
}
