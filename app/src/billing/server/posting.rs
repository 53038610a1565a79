//! Posting statements: one from the staff form, a past one for the demo, or a CSV file's, all or
//! nothing; each checked, stored with its lines, and routed to a notice or the print queue.

use super::delivery::AccountDeliveryRow;
use super::{stored_delivery, BillingError};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::billing::csv_import::{self, RowError};
use crate::billing::money::Money;
use crate::billing::statement::{self, NewStatement};
use crate::billing::{AccountId, Delivery, StatementId};
use crate::dates::CalendarDate;
use crate::outbox::{self, Notice};
use crate::platform::db::{lock_row, Db, Tx};
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

/// Where a posted statement went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routed {
    /// Paperless: the patient was notified (if they have an active account with an address).
    Notified,
    /// Paper: it waits in the print queue.
    PrintQueue,
}

/// Posts one statement in the caller's transaction: the previous balance is the amount due of
/// the account's latest statement, which must be older; totals are checked; a paperless account's
/// patient is notified, a paper one's statement joins the print queue.
async fn post_in(
    tx: &mut Tx,
    settings: &PortalSettings,
    staff: &UserId,
    account: &AccountId,
    new: &NewStatement,
    announce: bool,
    now: i64,
) -> Result<(StatementId, Routed), BillingError> {
    if !lock_row(tx, "billing_accounts", account.as_str()).await? {
        return Err(BillingError::NotFound);
    }
    let row: AccountDeliveryRow =
        sqlx::query_as("SELECT patient_id, delivery FROM billing_accounts WHERE id = $1").bind(account.as_str()).fetch_one(&mut **tx).await?;
    let patient = row.patient_id;
    let delivery = stored_delivery(&row.delivery);
    let latest: Option<(String, i64)> =
        sqlx::query_as("SELECT statement_date, amount_due FROM statements WHERE account_id = $1 ORDER BY statement_date DESC LIMIT 1")
            .bind(account.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    let previous = match latest {
        Some((date, amount_due)) => {
            if date >= new.statement_date.to_string() {
                return Err(BillingError::OutOfOrder(CalendarDate::parse(&date).map(|d| d.long()).unwrap_or(date)));
            }
            Money(amount_due)
        }
        None => Money::ZERO,
    };
    let totals = statement::check(new, previous)?;
    let id = StatementId::new_random();
    sqlx::query(
        "INSERT INTO statements (id, account_id, statement_date, period_start, period_end, due_date, previous_balance, charges, \
         payments, adjustments, amount_due, delivery, posted_at, posted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(id.as_str())
    .bind(account.as_str())
    .bind(new.statement_date.to_string())
    .bind(new.period_start.to_string())
    .bind(new.period_end.to_string())
    .bind(new.due_date.to_string())
    .bind(totals.previous_balance.cents())
    .bind(totals.charges.cents())
    .bind(totals.payments.cents())
    .bind(totals.adjustments.cents())
    .bind(totals.amount_due.cents())
    .bind(delivery.as_str())
    .bind(now)
    .bind(staff.as_str())
    .execute(&mut **tx)
    .await?;
    for (position, line) in new.lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO statement_lines (statement_id, position, kind, line_date, department, description, amount) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(position as i64)
        .bind(line.kind.as_str())
        .bind(line.date.to_string())
        .bind(&line.department)
        .bind(&line.description)
        .bind(line.amount.cents())
        .execute(&mut **tx)
        .await?;
    }
    let routed = match delivery {
        Delivery::Paperless if !announce => Routed::Notified,
        Delivery::Paperless => {
            if outbox::notify_patient(tx, settings, &patient, &Notice::NewStatement, now).await? {
                Routed::Notified
            } else {
                // Nobody can be told (access ended, never enrolled, no e-mail address): the
                // statement is mailed instead, so that it reaches the guarantor all the same.
                sqlx::query("UPDATE statements SET delivery = 'paper' WHERE id = $1").bind(id.as_str()).execute(&mut **tx).await?;
                Routed::PrintQueue
            }
        }
        Delivery::Paper => Routed::PrintQueue,
    };
    Ok((id, routed))
}

/// Posts a statement from the staff form.
pub async fn post_statement(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    account: &AccountId,
    new: &NewStatement,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<(StatementId, Routed), BillingError> {
    let mut tx = db.begin_write().await?;
    let (id, routed) = post_in(&mut tx, settings, staff, account, new, true, now).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("statement"),
            record_id: Some(id.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::StatementPosted)
        },
        now,
    )
    .await?;
    take_queue_positions(&mut tx, std::slice::from_ref(&id)).await?;
    tx.commit().await?;
    Ok((id, routed))
}

/// Loads a statement of the past (the demo clinic's history): stored like any other, but no
/// notice goes out and a paper one is marked printed at once.
pub async fn post_history(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    account: &AccountId,
    new: &NewStatement,
    now: i64,
) -> Result<StatementId, BillingError> {
    let mut tx = db.begin_write().await?;
    let (id, _) = post_in(&mut tx, settings, staff, account, new, false, now).await?;
    sqlx::query("UPDATE statements SET printed_at = $1, printed_by = $2 WHERE id = $3 AND delivery = 'paper'")
        .bind(now)
        .bind(staff.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    take_queue_positions(&mut tx, std::slice::from_ref(&id)).await?;
    tx.commit().await?;
    Ok(id)
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub statements: usize,
    pub lines: usize,
    pub notified: usize,
    pub print_queue: usize,
}

/// Imports a CSV file: every statement or none. The first problem (in the file, or an account
/// number that does not exist, or a statement that breaks the rules) refuses the whole file with
/// its row number.
pub async fn import(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    bytes: &[u8],
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<ImportReport, BillingError> {
    let statements = csv_import::parse(bytes).map_err(BillingError::Import)?;
    let mut tx = db.begin_write().await?;
    let mut report = ImportReport::default();
    let mut posted = Vec::with_capacity(statements.len());
    for imported in &statements {
        let refuse = |reason: String, row: usize| BillingError::Import(RowError { row, reason });
        let account: AccountId = sqlx::query_scalar("SELECT id FROM billing_accounts WHERE number = $1")
            .bind(&imported.account_number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| refuse(format!("there is no billing account {}", imported.account_number), imported.rows[0]))?;
        match post_in(&mut tx, settings, staff, &account, &imported.statement, true, now).await {
            Ok((id, routed)) => {
                posted.push(id);
                report.statements += 1;
                report.lines += imported.statement.lines.len();
                match routed {
                    Routed::Notified => report.notified += 1,
                    Routed::PrintQueue => report.print_queue += 1,
                }
            }
            Err(BillingError::Statement(e)) => return Err(refuse(lowercase_first(&e.reason()), csv_import::statement_error_row(imported, &e))),
            Err(BillingError::OutOfOrder(date)) => {
                return Err(refuse(format!("account {} already has a statement dated {date} or later", imported.account_number), imported.rows[0]))
            }
            Err(BillingError::NotFound) => return Err(refuse("the account was not found".into(), imported.rows[0])),
            Err(e) => return Err(e),
        }
    }
    let detail = format!("{} statements", report.statements);
    audit::record(&mut tx, AuditEvent { actor: Some(staff), client_addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::StatementsImported) }, now)
        .await?;
    take_queue_positions(&mut tx, &posted).await?;
    tx.commit().await?;
    Ok(report)
}

/// Gives the statements their places in the print queue. It must be the transaction's last
/// write: the counter row stays locked until commit, so places become visible in the order they
/// were given, and a print queue page that lists place n has seen every place before it (what
/// *Mark printed* relies on). Taking it last also keeps it out of every other lock's way.
async fn take_queue_positions(tx: &mut Tx, ids: &[StatementId]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let last: i64 =
        sqlx::query_scalar("UPDATE print_queue_counter SET last = last + $1 WHERE id = 1 RETURNING last").bind(ids.len() as i64).fetch_one(&mut **tx).await?;
    let first = last - ids.len() as i64 + 1;
    for (offset, id) in ids.iter().enumerate() {
        sqlx::query("UPDATE statements SET queue_position = $1 WHERE id = $2").bind(first + offset as i64).bind(id.as_str()).execute(&mut **tx).await?;
    }
    Ok(())
}

/// "The period must…" reads "Row 3: the period must…".
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
