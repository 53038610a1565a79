//! A statement's document for its PDF, read in one piece for the patient or billing staff.

use super::{stored_date, stored_delivery, stored_lines, Reader};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::billing::money::Money;
use crate::billing::pdf::StatementDocument;
use crate::billing::statement::{Line, LineKind, Totals};
use crate::billing::StatementId;
use crate::platform::db::Db;
use crate::settings::PortalSettings;
use std::net::IpAddr;

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
