//! The accounts as their guarantor and billing staff see them, the staff search, and opening an
//! account.

use super::{stored_date, stored_delivery, stored_lines, BillingError, Reader};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::billing::money::Money;
use crate::billing::{AccountId, AccountSummary, AccountView, Delivery, DeliveryChange, StatementId, StatementSummary};
use crate::dates::CalendarDate;
use crate::messaging::server::local_text;
use crate::patients::PatientId;
use crate::platform::db::Db;
use crate::platform::tokens;
use crate::settings::PortalSettings;
use crate::types::UserId;
use rand::Rng;
use std::net::IpAddr;

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
pub(super) struct StatementRow {
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

pub(super) fn statement_summary(row: &StatementRow) -> Result<StatementSummary, sqlx::Error> {
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
