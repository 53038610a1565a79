//! Enrolment in the database: requests and the staff queue, activation codes, and activation.

use super::code;
use super::{AddressMatch, EnrolmentForm, RequestDetail, RequestSummary};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::outbox::{self, Notice};
use crate::patients::server as patients;
use crate::patients::PatientId;
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, RateKind};
use crate::platform::tokens;
use crate::state::AppState;
use crate::types::UserId;
use std::net::IpAddr;

mod activation;

pub use activation::*;

/// The budget a client address draws on (an IPv6 /64 counts as one address).
fn addr_key(addr: Option<IpAddr>) -> String {
    crate::platform::rate::address_subject(addr)
}

// ---- Requests ----------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Taken (or quietly merged into an identical pending one): the same answer either way.
    Received,
    Throttled,
}

/// Files a request. The answer never says whether the person is a patient already, or asked
/// before: a duplicate of a pending request is not stored again, but gets the same answer.
pub async fn submit(
    db: &Db,
    form: &EnrolmentForm,
    date_of_birth: CalendarDate,
    terms_id: &str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<RequestOutcome, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::EnrolmentRequest, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(RequestOutcome::Throttled);
    }
    let email = form.email.trim().to_lowercase();
    let duplicate = sqlx::query("SELECT id FROM enrolment_requests WHERE email = $1 AND date_of_birth = $2 AND state = 'pending'")
        .bind(&email)
        .bind(date_of_birth.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    if duplicate.is_none() {
        let id = tokens::new_id();
        sqlx::query(
            "INSERT INTO enrolment_requests (id, given_name, family_name, date_of_birth, email, phone, mrn, terms_version_id, submitted_at, client_addr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(form.given_name.trim())
        .bind(form.family_name.trim())
        .bind(date_of_birth.to_string())
        .bind(&email)
        .bind(Some(form.phone.trim()).filter(|p| !p.is_empty()))
        .bind(Some(form.mrn.trim().to_uppercase()).filter(|m| !m.is_empty()))
        .bind(terms_id)
        .bind(now)
        .bind(addr.map(|a| a.to_string()))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            AuditEvent { record_type: Some("enrolment-request"), record_id: Some(&id), client_addr: addr, ..AuditEvent::of(AuditAction::EnrolmentRequested) },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(RequestOutcome::Received)
}

/// The queue: pending requests, oldest first, then the latest decided ones.
pub async fn queue(db: &Db) -> Result<(Vec<RequestSummary>, Vec<RequestSummary>), sqlx::Error> {
    let pending: Vec<RequestSummary> = sqlx::query_as(
        "SELECT r.id, r.given_name, r.family_name, r.date_of_birth, r.email, r.phone, r.mrn, r.submitted_at, r.state, r.decline_reason, \
         r.patient_id, r.decided_at, u.display_name AS decided_by FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by \
         WHERE r.state = 'pending' ORDER BY r.submitted_at LIMIT 200",
    )
    .fetch_all(&db.pool)
    .await?;
    let decided: Vec<RequestSummary> = sqlx::query_as(
        "SELECT r.id, r.given_name, r.family_name, r.date_of_birth, r.email, r.phone, r.mrn, r.submitted_at, r.state, r.decline_reason, \
         r.patient_id, r.decided_at, u.display_name AS decided_by FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by \
         WHERE r.state <> 'pending' ORDER BY r.decided_at DESC LIMIT 20",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok((pending, decided))
}

pub async fn detail(db: &Db, id: &str) -> Result<Option<RequestDetail>, sqlx::Error> {
    let request: Option<RequestSummary> = sqlx::query_as(
        "SELECT r.id, r.given_name, r.family_name, r.date_of_birth, r.email, r.phone, r.mrn, r.submitted_at, r.state, r.decline_reason, \
         r.patient_id, r.decided_at, u.display_name AS decided_by FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(request) = request else { return Ok(None) };
    let candidates = patients::candidates(db, &request.family_name, &request.date_of_birth, &request.email, request.mrn.as_deref()).await?;
    Ok(Some(RequestDetail { request, candidates }))
}

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("this request was already decided")]
    AlreadyDecided,
    #[error("that patient already has a portal account")]
    HasAccount,
    #[error("no such request or patient")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A code issued: its record, the code in display form (never shown again), and whether it was
/// e-mailed to the address on the record.
#[derive(Debug)]
pub struct Issued {
    pub patient: PatientId,
    pub code: String,
    pub emailed: bool,
}

/// Approves a request: links it to `link_to`, or creates a record from it, and issues an
/// activation code. With `email_code`, the code is also e-mailed to the address on the record,
/// read from the record here: for a record created from the request that is the request's
/// address; for an existing record it is the record's own, and never the address typed in the
/// request (whoever asked may not be the patient: the code would open the patient's account).
/// An existing record keeps its details: an empty address is not filled from the request.
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    state: &AppState,
    request_id: &str,
    link_to: Option<PatientId>,
    email_code: bool,
    staff: &UserId,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Issued, DecisionError> {
    let mut tx = state.db.begin_write().await?;
    /// What the approval needs of the request.
    #[derive(sqlx::FromRow)]
    struct Approved {
        given_name: String,
        family_name: String,
        date_of_birth: String,
        email: String,
        phone: Option<String>,
    }
    // Decided first, atomically: of two approvals at once (a double click, two colleagues) one
    // changes the row and the other finds it decided.
    let row: Option<Approved> = sqlx::query_as(
        "UPDATE enrolment_requests SET state = 'approved', decided_at = $1, decided_by = $2 WHERE id = $3 AND state = 'pending' \
         RETURNING given_name, family_name, date_of_birth, email, phone",
    )
    .bind(now)
    .bind(staff.as_str())
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        let exists = sqlx::query("SELECT 1 AS x FROM enrolment_requests WHERE id = $1").bind(request_id).fetch_optional(&mut *tx).await?;
        return Err(if exists.is_some() { DecisionError::AlreadyDecided } else { DecisionError::NotFound });
    };
    let email = &row.email;
    let (patient_id, how) = match link_to {
        Some(id) => {
            let record: Option<Option<String>> =
                sqlx::query_scalar("SELECT email FROM patients WHERE id = $1").bind(id.as_str()).fetch_optional(&mut *tx).await?;
            let Some(record_email) = record else { return Err(DecisionError::NotFound) };
            let how = match AddressMatch::of(email, record_email.as_deref()) {
                AddressMatch::Same => "linked; same address as the request",
                AddressMatch::Differs => "linked; the request's address differs from the record's",
                AddressMatch::RecordHasNone => "linked; the record has no address",
            };
            (id, how)
        }
        None => {
            // A record made from the request: its address is the request's.
            let id = patients::create(
                &mut tx,
                patients::NewPatient {
                    given_name: &row.given_name,
                    family_name: &row.family_name,
                    date_of_birth: &row.date_of_birth,
                    email: Some(email),
                    phone: row.phone.as_deref(),
                    mrn: None,
                },
                Some(staff),
                addr,
                now,
            )
            .await?;
            (id, "new record")
        }
    };
    if crate::users::for_patient(&mut *tx, &patient_id).await?.is_some() {
        return Err(DecisionError::HasAccount);
    }
    sqlx::query("UPDATE enrolment_requests SET patient_id = $1 WHERE id = $2").bind(patient_id.as_str()).bind(request_id).execute(&mut *tx).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("enrolment-request"),
            record_id: Some(request_id),
            client_addr: addr,
            detail: Some(how),
            ..AuditEvent::of(AuditAction::EnrolmentApproved)
        },
        now,
    )
    .await?;
    let (code, emailed) = issue_code_in(&mut tx, state, &patient_id, Some(request_id), email_code, staff, addr, now).await?;
    tx.commit().await?;
    if emailed {
        state.outbox_wakeup.notify_one();
    }
    Ok(Issued { patient: patient_id, code, emailed })
}

/// The e-mail address on a patient record, if it has one: the only address an activation code
/// is ever e-mailed to.
async fn record_address(tx: &mut Tx, patient: &PatientId) -> Result<Option<String>, sqlx::Error> {
    let email: Option<Option<String>> = sqlx::query_scalar("SELECT email FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut **tx).await?;
    Ok(email.flatten().map(|e| e.trim().to_string()).filter(|e| !e.is_empty()))
}

/// Declines a request; the person is asked by e-mail to call (the reason stays with staff).
pub async fn decline(db: &Db, request_id: &str, reason: &str, staff: &UserId, addr: Option<IpAddr>, now: i64) -> Result<(), DecisionError> {
    let mut tx = db.begin_write().await?;
    let email: Option<String> = sqlx::query_scalar(
        "UPDATE enrolment_requests SET state = 'declined', decided_at = $1, decided_by = $2, decline_reason = $3 \
         WHERE id = $4 AND state = 'pending' RETURNING email",
    )
    .bind(now)
    .bind(staff.as_str())
    .bind(reason)
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(email) = email else { return Err(DecisionError::AlreadyDecided) };
    outbox::enqueue(&mut tx, &email, &Notice::EnrolmentDeclined, now).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("enrolment-request"),
            record_id: Some(request_id),
            client_addr: addr,
            ..AuditEvent::of(AuditAction::EnrolmentDeclined)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- Activation codes --------------------------------------------------------------------

/// Issues a code for a patient without an account; any earlier active code is replaced. With
/// `email_to_record`, the code is also e-mailed to the address on the record, if it has one (and
/// to no other address).
pub async fn issue_code(
    state: &AppState,
    patient: &PatientId,
    email_to_record: bool,
    staff: &UserId,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Issued, DecisionError> {
    let mut tx = state.db.begin_write().await?;
    let exists = sqlx::query("SELECT 1 AS x FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut *tx).await?;
    if exists.is_none() {
        return Err(DecisionError::NotFound);
    }
    if crate::users::for_patient(&mut *tx, patient).await?.is_some() {
        return Err(DecisionError::HasAccount);
    }
    let (code, emailed) = issue_code_in(&mut tx, state, patient, None, email_to_record, staff, addr, now).await?;
    tx.commit().await?;
    if emailed {
        state.outbox_wakeup.notify_one();
    }
    Ok(Issued { patient: patient.clone(), code, emailed })
}

/// Issues the code in the caller's transaction; with `email_to_record`, e-mails it to the
/// address on the record (the one address a code may go to: there is no way to give another).
/// Returns the code and whether it was e-mailed.
#[allow(clippy::too_many_arguments)]
async fn issue_code_in(
    tx: &mut Tx,
    state: &AppState,
    patient: &PatientId,
    request_id: Option<&str>,
    email_to_record: bool,
    staff: &UserId,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<(String, bool), sqlx::Error> {
    // One patient's codes are issued one at a time, so that only one is ever active.
    crate::platform::db::lock_row(tx, "patients", patient.as_str()).await?;
    let email_to = if email_to_record { record_address(tx, patient).await? } else { None };
    sqlx::query("UPDATE activation_codes SET state = 'replaced', ended_at = $1 WHERE patient_id = $2 AND state = 'active'")
        .bind(now)
        .bind(patient.as_str())
        .execute(&mut **tx)
        .await?;
    let display = code::generate();
    let canonical = code::normalise(&display).expect("a generated code parses");
    let id = tokens::new_id();
    let policy = &state.settings.accounts;
    sqlx::query(
        "INSERT INTO activation_codes (id, patient_id, code_hash, enrolment_request_id, issued_at, issued_by, expires_at, tries_left, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active')",
    )
    .bind(&id)
    .bind(patient.as_str())
    .bind(code::digest(&canonical))
    .bind(request_id)
    .bind(now)
    .bind(staff.as_str())
    .bind(now + policy.activation_code_lifetime.as_millis() as i64)
    .bind(policy.activation_code_tries as i64)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr: addr,
            detail: Some(if email_to.is_some() { "e-mailed to the address on the record" } else { "handed over" }),
            ..AuditEvent::of(AuditAction::ActivationCodeIssued)
        },
        now,
    )
    .await?;
    if let Some(to) = &email_to {
        outbox::enqueue(tx, to, &Notice::ActivationCode { code: display.clone() }, now).await?;
    }
    Ok((display, email_to.is_some()))
}

pub async fn revoke_code(db: &Db, patient: &PatientId, code_id: &str, staff: &UserId, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query("UPDATE activation_codes SET state = 'revoked', ended_at = $1 WHERE id = $2 AND patient_id = $3 AND state = 'active'")
        .bind(now)
        .bind(code_id)
        .bind(patient.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if done {
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(staff),
                record_type: Some("patient"),
                record_id: Some(patient.as_str()),
                client_addr: addr,
                ..AuditEvent::of(AuditAction::ActivationCodeRevoked)
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}
