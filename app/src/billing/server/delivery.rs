//! Paper or paperless: the guarantor's choice per account, the staff's change on their request,
//! enrolment's switch to paperless, and the history of each change.

use super::{stored_delivery, BillingError, Reader};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::billing::{AccountId, Delivery};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::tokens;
use crate::types::UserId;
use std::net::IpAddr;

/// An account's delivery and guarantor.
#[derive(sqlx::FromRow)]
pub(super) struct AccountDeliveryRow {
    pub(super) delivery: String,
    pub(super) patient_id: PatientId,
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
