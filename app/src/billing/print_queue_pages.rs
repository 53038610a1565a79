//! The print queue (billing staff): paper statements to print and mail, oldest first, a page at
//! a time, as one combined PDF or a CSV list of the whole queue, then marked printed.

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

/// Statements on one page of the print queue (a hospital's queue holds hundreds). Written into
/// `server::print_queue_page`'s SQL as well (`LIMIT 50`: a literal, so that the queries test
/// prepares it, and not bound, so that PostgreSQL's generic plan does not assume a tenth of the
/// queue).
pub const PRINT_QUEUE_PAGE_SIZE: u32 = 50;

/// One page of the print queue, with the length of the whole queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuePageView {
    pub items: Vec<PrintItemView>,
    /// Every statement waiting when the page was listed, on all pages.
    pub waiting: i64,
    /// The last place in the queue when the page was listed: what the downloads and *Mark
    /// printed* cover, whichever page is shown.
    pub until: i64,
    /// This page's number, from 1.
    pub page: u32,
    pub pages: u32,
}

#[server(endpoint = "staff/billing/print-queue")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_print_queue(page: Option<u32>) -> Result<QueuePageView, AppError> {
    let cx = StaffCtx::get(Permission::WorkBilling)?;
    let q = super::server::print_queue_page(&cx.state.db, &cx.state.settings, page.unwrap_or(1)).await?;
    Ok(QueuePageView {
        items: q
            .items
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
            .collect(),
        waiting: q.waiting,
        until: q.until,
        page: q.page,
        pages: q.pages,
    })
}

/// Marks printed the queue the page was listed from: up to place `until` (the queue's last place
/// then), so a statement posted while the batch was printing stays in the queue.
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
    let query = use_query_map();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1);
    let queue = Resource::new(page, |page| load_print_queue(Some(page)));
    let printed = move || query.read().get("printed").map(|n| format!("{n} statements marked printed."));
    view! {
        <Title text="Print queue | Staff portal"/>
            <h1>"Print queue"</h1>
            {move || printed().map(status)}
            <p>"Statements of accounts on paper billing, to be printed and mailed, oldest first."</p>
            <Loaded resource=queue view=move |data| view! { <QueueList data/> }/>
    }
}

#[component]
fn QueueList(data: QueuePageView) -> impl IntoView {
    let QueuePageView { items, waiting, until, page, pages } = data;
    if items.is_empty() {
        return view! { <div class="empty"><p>"Nothing to print."</p></div> }.into_any();
    }
    let href = |page: u32| format!("/staff/billing/print-queue?page={page}");
    let first = (page - 1) * PRINT_QUEUE_PAGE_SIZE + 1;
    let shown = (pages > 1).then(|| format!(" Showing {first} to {} (page {page} of {pages}).", first + items.len() as u32 - 1));
    // The downloads and the mark cover the whole queue as listed (up to its last place then),
    // whichever page is shown: a statement posted since stays in the queue.
    view! {
        <p>{format!("{waiting} statements to print.")}{shown}</p>
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
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Print queue pages">
                {(page > 1).then(|| view! { <a href=href(page - 1)>"← Earlier in the queue"</a> })}
                {(page < pages).then(|| view! { <a href=href(page + 1)>"Later in the queue →"</a> })}
            </nav>
        })}
        <PostForm<MarkPrinted> class="form">
            <input type="hidden" name="until" value=until.to_string()/>
            <button type="submit" class="button button--primary">{format!("Mark all {waiting} statements printed")}</button>
        </PostForm<MarkPrinted>>
    }
    .into_any()
}
