//! Billing rules and storage. Every read takes the person asking: a patient sees the accounts
//! whose guarantor is their own record, and nothing else, by any id; billing staff see every
//! account. Statements are checked (`statement::check`) and stored with their totals in one
//! transaction with their notice or print-queue entry and their audit entry.

use super::csv_import::{self, RowError};
use super::money::Money;
use super::pdf::StatementDocument;
use super::statement::{self, Line, LineKind, NewStatement, StatementError, Totals};
use super::*;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::messaging::server::local_text;
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::settings::PortalSettings;
use crate::platform::tokens;
use crate::types::UserId;
use rand::Rng;
use std::net::IpAddr;

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

const ACCOUNT_SELECT: &str = "SELECT a.id, a.number, a.delivery, a.mailing_address, p.given_name, p.family_name, \
    (SELECT s.amount_due FROM statements s WHERE s.account_id = a.id ORDER BY s.statement_date DESC LIMIT 1) AS balance, \
    (SELECT MAX(s.statement_date) FROM statements s WHERE s.account_id = a.id) AS last_statement \
    FROM billing_accounts a JOIN patients p ON p.id = a.patient_id";

/// A row of `ACCOUNT_SELECT`.
#[derive(sqlx::FromRow)]
struct AccountRow {
    id: AccountId,
    number: String,
    delivery: String,
    mailing_address: String,
    given_name: String,
    family_name: String,
    balance: Option<i64>,
    last_statement: Option<String>,
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

async fn account_summary(conn: &mut sqlx::AnyConnection, row: &AccountRow) -> Result<AccountSummary, sqlx::Error> {
    let departments: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT l.department FROM statement_lines l JOIN statements s ON s.id = l.statement_id \
         WHERE s.account_id = $1 ORDER BY l.department",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(AccountSummary {
        id: row.id.clone(),
        number: row.number.clone(),
        guarantor: format!("{} {}", row.given_name, row.family_name),
        departments,
        balance: Money(row.balance.unwrap_or(0)),
        last_statement: row.last_statement.as_deref().and_then(CalendarDate::parse).map(|d| d.long()),
        delivery: stored_delivery(&row.delivery),
    })
}

/// The Billing Summary: the accounts whose guarantor is this patient.
pub async fn patient_accounts(db: &Db, patient: &PatientId) -> Result<Vec<AccountSummary>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let rows: Vec<AccountRow> =
        sqlx::query_as(&format!("{ACCOUNT_SELECT} WHERE a.patient_id = $1 ORDER BY a.number")).bind(patient.as_str()).fetch_all(&mut *conn).await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in &rows {
        accounts.push(account_summary(&mut conn, row).await?);
    }
    Ok(accounts)
}

/// The account if the reader may see it: its guarantor's own, or any for billing staff.
async fn visible_account(conn: &mut sqlx::AnyConnection, reader: Reader<'_>, id: &AccountId) -> Result<Option<AccountRow>, sqlx::Error> {
    match reader {
        Reader::Patient { patient, .. } => {
            sqlx::query_as(&format!("{ACCOUNT_SELECT} WHERE a.id = $1 AND a.patient_id = $2"))
                .bind(id.as_str())
                .bind(patient.as_str())
                .fetch_optional(&mut *conn)
                .await
        }
        Reader::Staff { .. } => sqlx::query_as(&format!("{ACCOUNT_SELECT} WHERE a.id = $1")).bind(id.as_str()).fetch_optional(&mut *conn).await,
    }
}

/// A statement as listed (View Account, the print queue).
#[derive(sqlx::FromRow)]
struct StatementRow {
    id: StatementId,
    statement_date: String,
    period_start: String,
    period_end: String,
    due_date: String,
    amount_due: i64,
    delivery: String,
    /// Only View Account selects it.
    #[sqlx(default)]
    printed_at: Option<i64>,
}

fn statement_summary(row: &StatementRow) -> Result<StatementSummary, sqlx::Error> {
    Ok(StatementSummary {
        id: row.id.clone(),
        statement_date: stored_date(&row.statement_date, "statement_date")?.long(),
        period: format!("{} – {}", stored_date(&row.period_start, "period_start")?.long(), stored_date(&row.period_end, "period_end")?.long()),
        amount_due: Money(row.amount_due),
        due_date: stored_date(&row.due_date, "due_date")?.long(),
        delivery: stored_delivery(&row.delivery),
        printed_at: None,
    })
}

/// A change of delivery, with who made it when staff did.
#[derive(sqlx::FromRow)]
struct ChangeRow {
    changed_at: i64,
    cause: String,
    from_delivery: Option<String>,
    to_delivery: String,
    display_name: Option<String>,
}

/// View Account: the account, its statements newest first, and the history of its delivery.
/// Staff views are audited (a patient's own are not: it is their own record).
pub async fn account_view(
    db: &Db,
    settings: &PortalSettings,
    reader: Reader<'_>,
    id: &AccountId,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<AccountView>, sqlx::Error> {
    let zone = &settings.messaging.time_zone;
    let mut conn = db.pool.acquire().await?;
    let Some(row) = visible_account(&mut conn, reader, id).await? else { return Ok(None) };
    let account = account_summary(&mut conn, &row).await?;
    let address = stored_lines(&row.mailing_address);
    let statements = sqlx::query_as::<_, StatementRow>(
        "SELECT id, statement_date, period_start, period_end, due_date, amount_due, delivery, printed_at FROM statements \
         WHERE account_id = $1 ORDER BY statement_date DESC",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let mut s = statement_summary(r)?;
        s.printed_at = r.printed_at.map(|at| local_text(zone, at));
        Ok(s)
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let changes = sqlx::query_as::<_, ChangeRow>(
        "SELECT c.changed_at, c.cause, c.from_delivery, c.to_delivery, u.kind, u.display_name FROM delivery_changes c \
         LEFT JOIN users u ON u.id = c.changed_by WHERE c.account_id = $1 ORDER BY c.changed_at DESC, c.id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let by = match r.cause.as_str() {
            "opened" => "Account opened".to_string(),
            "enrolment" => "Portal sign-up".to_string(),
            "patient" => "You, in the portal".to_string(),
            _ => format!("Billing office{}", r.display_name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()),
        };
        DeliveryChange {
            at: local_text(zone, r.changed_at),
            by,
            from: r.from_delivery.as_deref().and_then(Delivery::parse),
            to: stored_delivery(&r.to_delivery),
        }
    })
    .collect();
    drop(conn);
    if let Reader::Staff { user } = reader {
        audit::record_alone(
            db,
            AuditEvent {
                actor: Some(user),
                record_type: Some("billing-account"),
                record_id: Some(id.as_str()),
                client_addr,
                ..AuditEvent::of(AuditAction::BillingAccountViewed)
            },
            now,
        )
        .await?;
    }
    Ok(Some(AccountView { account, address, statements, changes }))
}

/// An account's delivery and guarantor.
#[derive(sqlx::FromRow)]
struct AccountDeliveryRow {
    delivery: String,
    patient_id: PatientId,
}

/// Who changes a delivery, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeCause {
    Patient,
    Staff,
}

/// Paperless Billing → Update, by the patient (or by billing staff on the patient's request).
/// Returns the delivery after the change; changing to the current one changes nothing.
pub async fn change_delivery(
    db: &Db,
    reader: Reader<'_>,
    id: &AccountId,
    to: Delivery,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Delivery, BillingError> {
    let mut tx = db.begin_write().await?;
    if !lock_row(&mut tx, "billing_accounts", id.as_str()).await? {
        return Err(BillingError::NotFound);
    }
    let row: Option<AccountDeliveryRow> = match reader {
        Reader::Patient { patient, .. } => {
            sqlx::query_as("SELECT delivery, patient_id FROM billing_accounts WHERE id = $1 AND patient_id = $2")
                .bind(id.as_str())
                .bind(patient.as_str())
                .fetch_optional(&mut *tx)
                .await?
        }
        Reader::Staff { .. } => {
            sqlx::query_as("SELECT delivery, patient_id FROM billing_accounts WHERE id = $1").bind(id.as_str()).fetch_optional(&mut *tx).await?
        }
    };
    let Some(row) = row else { return Err(BillingError::NotFound) };
    let from = stored_delivery(&row.delivery);
    if from == to {
        return Ok(to);
    }
    let cause = match reader {
        Reader::Patient { .. } => "patient",
        Reader::Staff { .. } => "staff",
    };
    set_delivery(&mut tx, id, Some(from), to, cause, Some(reader.user()), now).await?;
    // The patient's latest choice is also how accounts opened for them later start.
    sqlx::query("UPDATE patients SET statement_delivery = $1 WHERE id = $2").bind(to.as_str()).bind(row.patient_id.as_str()).execute(&mut *tx).await?;
    let detail = match to {
        Delivery::Paperless => "paper to paperless",
        Delivery::Paper => "paperless to paper",
    };
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(reader.user()),
            record_type: Some("billing-account"),
            record_id: Some(id.as_str()),
            client_addr,
            detail: Some(detail),
            ..AuditEvent::of(AuditAction::PaperlessChanged)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

async fn set_delivery(
    tx: &mut Tx,
    id: &AccountId,
    from: Option<Delivery>,
    to: Delivery,
    cause: &str,
    by: Option<&UserId>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE billing_accounts SET delivery = $1 WHERE id = $2").bind(to.as_str()).bind(id.as_str()).execute(&mut **tx).await?;
    sqlx::query(
        "INSERT INTO delivery_changes (id, account_id, changed_at, changed_by, cause, from_delivery, to_delivery) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tokens::new_id())
    .bind(id.as_str())
    .bind(now)
    .bind(by.map(|u| u.as_str()))
    .bind(cause)
    .bind(from.map(|d| d.as_str()))
    .bind(to.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enrolment (SPEC R-BIL-1): the patient's record and every account they are guarantor of
/// become paperless, in the activation's transaction.
pub async fn enrol_paperless(tx: &mut Tx, patient: &PatientId, user: &UserId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE patients SET statement_delivery = 'paperless' WHERE id = $1").bind(patient.as_str()).execute(&mut **tx).await?;
    let paper: Vec<AccountId> =
        sqlx::query_scalar("SELECT id FROM billing_accounts WHERE patient_id = $1 AND delivery = 'paper'").bind(patient.as_str()).fetch_all(&mut **tx).await?;
    for id in paper {
        set_delivery(tx, &id, Some(Delivery::Paper), Delivery::Paperless, "enrolment", Some(user), now).await?;
    }
    Ok(())
}

/// A patient record and its accounts, as billing staff find them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GuarantorAccounts {
    pub patient_id: String,
    pub name: String,
    pub mrn: String,
    pub date_of_birth: String,
    pub accounts: Vec<AccountSummary>,
}

/// Billing staff search: an account number, or what the patient search takes (MRN, birth
/// date, part of a name). Not audited per se: opening an account is.
pub async fn search(db: &Db, query: &str) -> Result<Vec<GuarantorAccounts>, sqlx::Error> {
    let q = query.trim();
    let by_number: Option<PatientId> = sqlx::query_scalar("SELECT patient_id FROM billing_accounts WHERE number = $1").bind(q).fetch_optional(&db.pool).await?;
    let patients = match by_number {
        Some(patient) => crate::patients::server::find(db, &patient).await?.into_iter().collect(),
        None => crate::patients::server::search(db, q).await?,
    };
    let mut found = Vec::with_capacity(patients.len());
    for p in patients {
        found.push(GuarantorAccounts {
            name: p.full_name(),
            mrn: p.mrn.clone(),
            date_of_birth: p.date_of_birth.clone(),
            accounts: patient_accounts(db, &p.id).await?,
            patient_id: p.id.to_string(),
        });
    }
    Ok(found)
}

/// Opens an account for a guarantor: a new number, the mailing address, and the delivery the
/// patient chose last (paperless once they use the portal).
pub async fn open_account(
    db: &Db,
    staff: &UserId,
    patient: &PatientId,
    address: &[String],
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<AccountId, BillingError> {
    let mut tx = db.begin_write().await?;
    let delivery: String = sqlx::query_scalar("SELECT statement_delivery FROM patients WHERE id = $1")
        .bind(patient.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(BillingError::NotFound)?;
    let delivery = stored_delivery(&delivery);
    let number = loop {
        // "G" for guarantor, then nine digits.
        let candidate = format!("G{:09}", rand::rngs::OsRng.gen_range(0..1_000_000_000u32));
        let taken = sqlx::query("SELECT 1 AS taken FROM billing_accounts WHERE number = $1").bind(&candidate).fetch_optional(&mut *tx).await?;
        if taken.is_none() {
            break candidate;
        }
    };
    let id = AccountId::new_random();
    sqlx::query(
        "INSERT INTO billing_accounts (id, number, patient_id, mailing_address, delivery, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(&number)
    .bind(patient.as_str())
    .bind(address.join("\n"))
    .bind(delivery.as_str())
    .bind(now)
    .bind(staff.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO delivery_changes (id, account_id, changed_at, changed_by, cause, from_delivery, to_delivery) \
         VALUES ($1, $2, $3, $4, 'opened', NULL, $5)",
    )
    .bind(tokens::new_id())
    .bind(id.as_str())
    .bind(now)
    .bind(staff.as_str())
    .bind(delivery.as_str())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("billing-account"),
            record_id: Some(id.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::BillingAccountOpened)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

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
    rows.iter()
        .map(|r| {
            Ok(PrintItem {
                statement: statement_summary(&r.statement)?,
                account_id: r.account_id.clone(),
                account_number: r.number.clone(),
                guarantor: format!("{} {}", r.given_name, r.family_name),
                address: stored_lines(&r.mailing_address),
                posted_at: local_text(&settings.messaging.time_zone, r.posted_at),
                queue_position: r.queue_position,
            })
        })
        .collect()
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

/// A statement with its totals, account and guarantor, for its PDF.
#[derive(sqlx::FromRow)]
struct DocumentRow {
    statement_date: String,
    period_start: String,
    period_end: String,
    due_date: String,
    previous_balance: i64,
    charges: i64,
    payments: i64,
    adjustments: i64,
    amount_due: i64,
    delivery: String,
    number: String,
    mailing_address: String,
    patient_id: String,
    given_name: String,
    family_name: String,
    mrn: String,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    kind: String,
    line_date: String,
    department: String,
    description: String,
    amount: i64,
}

/// The statements' documents for their PDF, if the reader may see each; `None` when any is not
/// theirs or does not exist. Every download is audited, by statement.
pub async fn statement_documents(
    db: &Db,
    settings: &PortalSettings,
    reader: Reader<'_>,
    ids: &[StatementId],
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<Vec<StatementDocument>>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let mut documents = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query_as::<_, DocumentRow>(
            "SELECT s.*, a.number, a.mailing_address, a.patient_id, p.given_name, p.family_name, p.mrn \
             FROM statements s JOIN billing_accounts a ON a.id = s.account_id JOIN patients p ON p.id = a.patient_id WHERE s.id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if let Reader::Patient { patient, .. } = reader {
            if row.patient_id != patient.as_str() {
                return Ok(None);
            }
        }
        let lines = sqlx::query_as::<_, LineRow>(
            "SELECT kind, line_date, department, description, amount FROM statement_lines WHERE statement_id = $1 ORDER BY position",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|l| {
            Ok(Line {
                kind: LineKind::parse(&l.kind).unwrap_or(LineKind::Adjustment),
                date: stored_date(&l.line_date, "line_date")?,
                department: l.department.clone(),
                description: l.description.clone(),
                amount: Money(l.amount),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let name = format!("{} {}", row.given_name, row.family_name);
        documents.push(StatementDocument {
            organisation: settings.organisation.name.clone(),
            organisation_address: settings.organisation.address.clone(),
            organisation_phone: settings.organisation.phone.clone(),
            account_number: row.number,
            guarantor_name: name.clone(),
            guarantor_address: stored_lines(&row.mailing_address),
            patient_name: name,
            mrn: row.mrn,
            statement_date: stored_date(&row.statement_date, "statement_date")?,
            period_start: stored_date(&row.period_start, "period_start")?,
            period_end: stored_date(&row.period_end, "period_end")?,
            due_date: stored_date(&row.due_date, "due_date")?,
            lines,
            totals: Totals {
                previous_balance: Money(row.previous_balance),
                charges: Money(row.charges),
                payments: Money(row.payments),
                adjustments: Money(row.adjustments),
                amount_due: Money(row.amount_due),
            },
            delivery: stored_delivery(&row.delivery),
        });
    }
    drop(conn);
    let mut tx = db.begin_write().await?;
    for id in ids {
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(reader.user()),
                record_type: Some("statement"),
                record_id: Some(id.as_str()),
                client_addr,
                ..AuditEvent::of(AuditAction::StatementDownloaded)
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(documents))
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
