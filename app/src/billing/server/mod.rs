//! Billing rules and storage. Every read takes the person asking: a patient sees the accounts
//! whose guarantor is their own record, and nothing else, by any id; billing staff see every
//! account. Statements are checked (`statement::check`) and stored with their totals in one
//! transaction with their notice or print-queue entry and their audit entry.
//!
//! - `accounts.rs`: the Billing Summary, View Account, the staff search, opening an account.
//! - `delivery.rs`: paper or paperless, and the history of its changes.
//! - `posting.rs`: posting a statement, from the staff form or a CSV import.
//! - `print_queue.rs`: paper statements waiting to be printed, and the CSV for a mailing house.
//! - `documents.rs`: the statements' documents for their PDF.

mod accounts;
mod delivery;
mod documents;
mod posting;
mod print_queue;

pub use accounts::{account_view, open_account, patient_accounts, search, GuarantorAccounts};
pub use delivery::{change_delivery, enrol_paperless, ChangeCause};
pub use documents::statement_documents;
pub use posting::{import, post_history, post_statement, ImportReport, Routed};
pub use print_queue::{audit_export, mark_printed, print_queue, print_queue_csv, print_queue_len, print_queue_page, spreadsheet_cell, PrintItem, QueuePage};

use super::csv_import::RowError;
use super::statement::{self, StatementError};
use super::Delivery;
use crate::dates::CalendarDate;
use crate::patients::PatientId;
use crate::platform::db::Db;
use crate::types::UserId;

/// Who is asking.
#[derive(Clone, Copy, Debug)]
pub enum Reader<'a> {
    Patient {
        user: &'a UserId,
        patient: &'a PatientId,
    },
    /// A member of billing staff (the caller checked the role).
    Staff {
        user: &'a UserId,
    },
}

impl Reader<'_> {
    fn user(&self) -> &UserId {
        match self {
            Reader::Patient { user, .. } | Reader::Staff { user } => user,
        }
    }
}

/// Why a billing change was refused; the texts are for people.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("That account or statement was not found.")]
    NotFound,
    #[error("{0}")]
    Statement(#[from] StatementError),
    #[error("This account already has a statement dated {0} or later: statements are posted in date order.")]
    OutOfOrder(String),
    #[error("Enter the mailing address for paper statements (at most 6 lines of 80 characters).")]
    Address,
    #[error("{0}")]
    Import(RowError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The guarantor's mailing address as entered: non-empty lines, at most 6 of 80 characters.
pub fn parse_address(text: &str) -> Result<Vec<String>, BillingError> {
    let lines: Vec<String> = text.lines().map(statement::clean_text).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() || lines.len() > 6 || lines.iter().any(|l| l.chars().count() > 80) {
        return Err(BillingError::Address);
    }
    Ok(lines)
}

/// A stored delivery (`paper` or `paperless`); anything else is read as paper.
fn stored_delivery(text: &str) -> Delivery {
    Delivery::parse(text).unwrap_or(Delivery::Paper)
}

/// A stored date (`YYYY-MM-DD`); a damaged one fails the read.
fn stored_date(text: &str, col: &str) -> Result<CalendarDate, sqlx::Error> {
    CalendarDate::parse(text).ok_or_else(|| sqlx::Error::Decode(format!("bad date in {col}").into()))
}

/// The address as stored: one line per line.
fn stored_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// Keeps what was typed into a refused form (JSON) and why it was refused.
pub async fn save_draft(db: &Db, user: &UserId, form: &str, fields: &str, message: Option<&str>, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM billing_drafts WHERE user_id = $1 AND form = $2").bind(user.as_str()).bind(form).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO billing_drafts (user_id, form, fields, message, updated_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user.as_str())
        .bind(form)
        .bind(fields)
        .bind(message)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The kept form and message, if any.
pub async fn draft(db: &Db, user: &UserId, form: &str) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT fields, message FROM billing_drafts WHERE user_id = $1 AND form = $2").bind(user.as_str()).bind(form).fetch_optional(&db.pool).await
}

pub async fn discard_draft(db: &Db, user: &UserId, form: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM billing_drafts WHERE user_id = $1 AND form = $2").bind(user.as_str()).bind(form).execute(&db.pool).await?;
    Ok(())
}
