//! Patient records in the database.

use super::{CodeSummary, PatientDetail, PatientId, PatientSummary, PortalAccess};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::{Db, Tx};
use crate::types::UserId;
use rand::Rng;
use std::net::IpAddr;

/// What a new record needs.
pub struct NewPatient<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub date_of_birth: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// When none, the portal gives the record a new number.
    pub mrn: Option<&'a str>,
}

const SELECT: &str = "SELECT p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth, p.email, p.phone, \
    p.statement_delivery, u.login, u.access, u.access_reason, u.access_changed_at \
    FROM patients p LEFT JOIN users u ON u.patient_id = p.id";

/// A record as [`SELECT`] reads it, with its portal account when there is one.
#[derive(sqlx::FromRow)]
struct PatientRow {
    id: PatientId,
    mrn: String,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    email: Option<String>,
    phone: Option<String>,
    /// `paper` or `paperless`.
    statement_delivery: String,
    login: Option<String>,
    /// `active` or `terminated`.
    access: Option<String>,
    access_reason: Option<String>,
    access_changed_at: Option<i64>,
}

impl From<PatientRow> for PatientSummary {
    fn from(row: PatientRow) -> PatientSummary {
        let access = match (row.login, row.access.as_deref()) {
            (Some(login), Some("terminated")) => PortalAccess::Terminated { login, reason: row.access_reason, at: row.access_changed_at },
            (Some(login), _) => PortalAccess::Active { login },
            (None, _) => PortalAccess::NotEnrolled,
        };
        PatientSummary {
            id: row.id,
            mrn: row.mrn,
            given_name: row.given_name,
            family_name: row.family_name,
            date_of_birth: row.date_of_birth,
            email: row.email,
            phone: row.phone,
            paperless: row.statement_delivery == "paperless",
            access,
        }
    }
}

/// Creates a record and audits it; returns its id.
pub async fn create(tx: &mut Tx, new: NewPatient<'_>, actor: Option<&UserId>, client_addr: Option<IpAddr>, now: i64) -> Result<PatientId, sqlx::Error> {
    let id = PatientId::new_random();
    let mrn = match new.mrn {
        Some(mrn) => mrn.to_string(),
        None => loop {
            // Eight digits after a prefix that marks numbers the portal gave out.
            let candidate = format!("P{:08}", rand::rngs::OsRng.gen_range(0..100_000_000u32));
            let taken = sqlx::query("SELECT 1 AS taken FROM patients WHERE mrn = $1").bind(&candidate).fetch_optional(&mut **tx).await?;
            if taken.is_none() {
                break candidate;
            }
        },
    };
    sqlx::query(
        "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, email, phone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.as_str())
    .bind(&mrn)
    .bind(new.given_name.trim())
    .bind(new.family_name.trim())
    .bind(new.date_of_birth)
    .bind(new.email)
    .bind(new.phone)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        AuditEvent { actor, record_type: Some("patient"), record_id: Some(id.as_str()), client_addr, ..AuditEvent::of(AuditAction::PatientRecordCreated) },
        now,
    )
    .await?;
    Ok(id)
}

pub async fn find(db: &Db, id: &PatientId) -> Result<Option<PatientSummary>, sqlx::Error> {
    let row: Option<PatientRow> = sqlx::query_as(&format!("{SELECT} WHERE p.id = $1")).bind(id.as_str()).fetch_optional(&db.pool).await?;
    Ok(row.map(PatientSummary::from))
}

pub async fn find_by_mrn(db: &Db, mrn: &str) -> Result<Option<PatientId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1").bind(mrn).fetch_optional(&db.pool).await
}

/// Staff search: an exact record number, a birth date (YYYY-MM-DD), or part of a name.
pub async fn search(db: &Db, query: &str) -> Result<Vec<PatientSummary>, sqlx::Error> {
    let q = query.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PatientRow> = if let Some(date) = crate::dates::CalendarDate::parse(q) {
        sqlx::query_as(&format!("{SELECT} WHERE p.date_of_birth = $1 ORDER BY p.family_name, p.given_name LIMIT 50"))
            .bind(date.to_string())
            .fetch_all(&db.pool)
            .await?
    } else {
        let like = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        sqlx::query_as(&format!(
            "{SELECT} WHERE p.mrn = $1 OR LOWER(p.family_name) LIKE $2 OR LOWER(p.given_name) LIKE $2 \
             OR LOWER(p.given_name || ' ' || p.family_name) LIKE $2 ORDER BY p.family_name, p.given_name LIMIT 50"
        ))
        .bind(q.to_uppercase())
        .bind(like)
        .fetch_all(&db.pool)
        .await?
    };
    Ok(rows.into_iter().map(PatientSummary::from).collect())
}

/// Records that could be the person of an enrolment request: same birth date and same family
/// name or e-mail, or the record number they gave.
pub async fn candidates(db: &Db, family_name: &str, date_of_birth: &str, email: &str, mrn: Option<&str>) -> Result<Vec<PatientSummary>, sqlx::Error> {
    let rows: Vec<PatientRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE (p.date_of_birth = $1 AND (LOWER(p.family_name) = LOWER($2) OR LOWER(p.email) = LOWER($3))) \
         OR p.mrn = $4 ORDER BY p.family_name LIMIT 20"
    ))
    .bind(date_of_birth)
    .bind(family_name.trim())
    .bind(email.trim())
    .bind(mrn.map(|m| m.trim().to_uppercase()).unwrap_or_default())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(PatientSummary::from).collect())
}

/// The patient page's data; the view is audited.
pub async fn detail(db: &Db, id: &PatientId, viewer: &UserId, client_addr: Option<IpAddr>, now: i64) -> Result<Option<PatientDetail>, sqlx::Error> {
    let Some(patient) = find(db, id).await? else { return Ok(None) };
    #[derive(sqlx::FromRow)]
    struct CodeRow {
        id: String,
        issued_at: i64,
        issued_by: Option<String>,
        expires_at: i64,
        tries_left: i64,
        state: String,
    }
    let rows: Vec<CodeRow> = sqlx::query_as(
        "SELECT c.id, c.issued_at, u.display_name AS issued_by, c.expires_at, c.tries_left, c.state \
         FROM activation_codes c LEFT JOIN users u ON u.id = c.issued_by WHERE c.patient_id = $1 ORDER BY c.issued_at DESC",
    )
    .bind(id.as_str())
    .fetch_all(&db.pool)
    .await?;
    // A code past its time is shown as expired, whatever its stored state.
    let codes = rows
        .into_iter()
        .map(|c| CodeSummary {
            id: c.id,
            issued_at: c.issued_at,
            issued_by: c.issued_by,
            expires_at: c.expires_at,
            tries_left: c.tries_left,
            state: if c.state == "active" && c.expires_at <= now { "expired".into() } else { c.state },
        })
        .collect();
    audit::record_alone(
        db,
        AuditEvent {
            actor: Some(viewer),
            record_type: Some("patient"),
            record_id: Some(id.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::PatientRecordViewed)
        },
        now,
    )
    .await?;
    let record_link = crate::record::server::link_of(db, id).await?;
    Ok(Some(PatientDetail { patient, codes, record_link }))
}

/// Ends the portal access of the patient's account: every session ends at once and sign-in is
/// refused until access is restored (SPEC R-ENR-7). False when there is no active account.
pub async fn terminate_access(db: &Db, patient: &PatientId, reason: &str, staff: &UserId, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    use crate::session::server::{end_all_of, EndReason};
    let mut tx = db.begin_write().await?;
    let user: Option<UserId> =
        sqlx::query_scalar("SELECT id FROM users WHERE patient_id = $1 AND access = 'active'").bind(patient.as_str()).fetch_optional(&mut *tx).await?;
    let Some(user) = user else { return Ok(false) };
    sqlx::query("UPDATE users SET access = 'terminated', access_reason = $1, access_changed_at = $2, access_changed_by = $3 WHERE id = $4")
        .bind(reason)
        .bind(now)
        .bind(staff.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    end_all_of(&mut tx, &user, None, EndReason::AccessEnded, addr, now).await?;
    // Passkeys on the patient's devices would open the account again once access is restored.
    crate::passkeys::server::remove_all_in(&mut tx, staff, &user, addr, now).await?;
    // Links already e-mailed (password reset, user ID, new address) stop working too: whoever
    // holds one must not get back in when access is restored.
    sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL").bind(now).bind(user.as_str()).execute(&mut *tx).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: Some(&user),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr: addr,
            ..AuditEvent::of(AuditAction::AccessTerminated)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Gives a terminated account its access back.
pub async fn restore_access(db: &Db, patient: &PatientId, reason: &str, staff: &UserId, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let user: Option<UserId> =
        sqlx::query_scalar("SELECT id FROM users WHERE patient_id = $1 AND access = 'terminated'").bind(patient.as_str()).fetch_optional(&mut *tx).await?;
    let Some(user) = user else { return Ok(false) };
    sqlx::query("UPDATE users SET access = 'active', access_reason = $1, access_changed_at = $2, access_changed_by = $3 WHERE id = $4")
        .bind(reason)
        .bind(now)
        .bind(staff.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: Some(&user),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr: addr,
            ..AuditEvent::of(AuditAction::AccessRestored)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
