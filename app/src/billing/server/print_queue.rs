//! The print queue: paper statements waiting to be printed and mailed, marking them printed, and
//! the list as CSV for a mailing house.

use super::accounts::{statement_summary, StatementRow};
use super::stored_lines;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::billing::print_queue_pages::PRINT_QUEUE_PAGE_SIZE;
use crate::billing::AccountId;
use crate::billing::StatementSummary;
use crate::messaging::server::local_text;
use crate::platform::db::Db;
use crate::platform::paging;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

/// A paper statement waiting to be printed and mailed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintItem {
    pub statement: StatementSummary,
    pub account_id: AccountId,
    pub account_number: String,
    pub guarantor: String,
    pub address: Vec<String>,
    pub posted_at: String,
    /// The statement's place in the print queue (see `take_queue_positions`).
    pub queue_position: i64,
}

/// A statement in the print queue, with its account and guarantor.
#[derive(sqlx::FromRow)]
struct PrintRow {
    #[sqlx(flatten)]
    statement: StatementRow,
    posted_at: i64,
    queue_position: i64,
    account_id: AccountId,
    number: String,
    mailing_address: String,
    given_name: String,
    family_name: String,
}

/// The print queue, oldest first; with `until`, only the places up to that one (what a page
/// listed).
pub async fn print_queue(db: &Db, settings: &PortalSettings, until: Option<i64>) -> Result<Vec<PrintItem>, sqlx::Error> {
    let rows = sqlx::query_as::<_, PrintRow>(
        "SELECT s.id, s.statement_date, s.period_start, s.period_end, s.due_date, s.amount_due, s.delivery, s.posted_at, s.queue_position, \
         a.id AS account_id, a.number, a.mailing_address, p.given_name, p.family_name \
         FROM statements s JOIN billing_accounts a ON a.id = s.account_id JOIN patients p ON p.id = a.patient_id \
         WHERE s.delivery = 'paper' AND s.printed_at IS NULL AND s.queue_position <= $1 ORDER BY s.queue_position",
    )
    .bind(until.unwrap_or(i64::MAX))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| print_item(settings, r)).collect()
}

/// One page of the print queue as the billing office's page lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueuePage {
    pub items: Vec<PrintItem>,
    /// Every statement waiting when the page was listed, on all pages.
    pub waiting: i64,
    /// The last place in the queue when the page was listed (0 when it was empty): what the
    /// page's downloads and *Mark printed* cover, on every page alike.
    pub until: i64,
    /// This page's number, from 1.
    pub page: u32,
    pub pages: u32,
}

/// Page `page` of the print queue, [`PRINT_QUEUE_PAGE_SIZE`] statements a page, oldest first (a page past the
/// last, as after a batch was marked printed, shows the first), with the length of the whole
/// queue. Listing the whole queue made every view of the page read and render all of it: 300
/// statements and a 112 kB page in the benchmark's hospital-scale data set (issue 16).
pub async fn print_queue_page(db: &Db, settings: &PortalSettings, page: u32) -> Result<QueuePage, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct PageRow {
        #[sqlx(flatten)]
        item: PrintRow,
        waiting: i64,
        until: i64,
    }
    // The page's statements are chosen in the partial index statements_print_queue before
    // anything is joined, so the places skipped to reach a later page cost an index step each,
    // not three lookups. The queue's length and last place come from the same index in the same
    // statement, so they agree with the page; MATERIALIZED, as in the staff inbox, so that
    // PostgreSQL counts once, and the limit written into the SQL, not bound, so that its generic
    // plan does not assume a tenth of the queue.
    let sql = "WITH c AS MATERIALIZED (SELECT COUNT(*) AS waiting, MAX(queue_position) AS until FROM statements \
                                 WHERE delivery = 'paper' AND printed_at IS NULL) \
         SELECT s.id, s.statement_date, s.period_start, s.period_end, s.due_date, s.amount_due, s.delivery, s.posted_at, s.queue_position, \
           a.id AS account_id, a.number, a.mailing_address, p.given_name, p.family_name, c.waiting, c.until \
         FROM (SELECT s.id, s.account_id, s.statement_date, s.period_start, s.period_end, s.due_date, s.amount_due, s.delivery, s.posted_at, \
                 s.queue_position FROM statements s WHERE s.delivery = 'paper' AND s.printed_at IS NULL \
               ORDER BY s.queue_position LIMIT 50 OFFSET $1) s \
           CROSS JOIN c JOIN billing_accounts a ON a.id = s.account_id JOIN patients p ON p.id = a.patient_id \
         ORDER BY s.queue_position";
    let read = |page: u32| sqlx::query_as::<_, PageRow>(sql).bind(paging::offset(page, PRINT_QUEUE_PAGE_SIZE)).fetch_all(&db.pool);
    let (page, rows) = paging::read_page(page, read).await?;
    let (waiting, until) = rows.first().map_or((0, 0), |r| (r.waiting, r.until));
    let pages = paging::page_count(waiting, PRINT_QUEUE_PAGE_SIZE);
    let items = rows.iter().map(|r| print_item(settings, &r.item)).collect::<Result<Vec<_>, _>>()?;
    Ok(QueuePage { items, waiting, until, page, pages })
}

fn print_item(settings: &PortalSettings, r: &PrintRow) -> Result<PrintItem, sqlx::Error> {
    Ok(PrintItem {
        statement: statement_summary(&r.statement)?,
        account_id: r.account_id.clone(),
        account_number: r.number.clone(),
        guarantor: format!("{} {}", r.given_name, r.family_name),
        address: stored_lines(&r.mailing_address),
        posted_at: local_text(&settings.messaging.time_zone, r.posted_at),
        queue_position: r.queue_position,
    })
}

/// Marks the queue's statements up to place `until` printed (those already marked are left as
/// they are); returns how many were marked.
pub async fn mark_printed(db: &Db, staff: &UserId, until: i64, client_addr: Option<IpAddr>, now: i64) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let marked = sqlx::query("UPDATE statements SET printed_at = $1, printed_by = $2 WHERE delivery = 'paper' AND printed_at IS NULL AND queue_position <= $3")
        .bind(now)
        .bind(staff.as_str())
        .bind(until)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    if marked > 0 {
        let detail = format!("{marked} statements");
        audit::record(&mut tx, AuditEvent { actor: Some(staff), client_addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::StatementsPrinted) }, now)
            .await?;
    }
    tx.commit().await?;
    Ok(marked)
}

/// Records that the print queue was exported (CSV or PDF) by this person.
pub async fn audit_export(db: &Db, staff: &UserId, what: &str, client_addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
    audit::record_alone(db, AuditEvent { actor: Some(staff), client_addr, detail: Some(what), ..AuditEvent::of(AuditAction::PrintQueueExported) }, now).await
}

/// The print queue as CSV for a mailing house: one row per statement. Every cell goes through
/// `spreadsheet_cell`: names and addresses come from people, and the file is opened in
/// spreadsheets.
pub fn print_queue_csv(items: &[PrintItem]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["account_number", "guarantor", "address", "statement_date", "amount_due", "due_date", "statement_id"]);
    for i in items {
        let cells = [
            i.account_number.clone(),
            i.guarantor.clone(),
            i.address.join(", "),
            i.statement.statement_date.clone(),
            i.statement.amount_due.plain(),
            i.statement.due_date.clone(),
            i.statement.id.to_string(),
        ];
        let _ = out.write_record(cells.iter().map(|c| spreadsheet_cell(c).into_owned()));
    }
    out.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet will not run as a formula (CSV injection): one that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, which spreadsheets show
/// as text. A plain number (an amount due of `-12.50`, a credit) is left as it is: it is data,
/// and the mailing house's software reads it as a number.
pub fn spreadsheet_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let plain_number = {
        let digits = cell.strip_prefix('-').unwrap_or(cell);
        digits.chars().any(|c| c.is_ascii_digit())
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.chars().filter(|&c| c == '.').count() <= 1
    };
    if risky && !plain_number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// How many paper statements wait to be printed.
pub async fn print_queue_len(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").fetch_one(&db.pool).await
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_cell;

    /// Issue 14, point 9: a cell that a spreadsheet would run as a formula is shown as text.
    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        for risky in ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\r=1", "-", "=1"] {
            assert_eq!(spreadsheet_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["Carol Nguyen", "7 Birch Lane, Riverside", "190.00", "-12.50", "0", "G000000001", "O'Brien", ""] {
            assert_eq!(spreadsheet_cell(safe), safe, "{safe:?}");
        }
    }
}
