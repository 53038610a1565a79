//! Enrolment in the database: requests and the staff queue, activation codes, and activation.

use super::code;
use super::{ActivationStart, AddressMatch, EnrolmentForm, RequestDetail, RequestSummary};
use crate::account::user_id::{check_user_id, UserIdProblem};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::outbox::{self, Notice};
use crate::password::new_password::{self, NewPasswordProblem};
use crate::patients::server as patients;
use crate::patients::PatientId;
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, RateKind};
use crate::platform::state::AppState;
use crate::platform::tokens;
use crate::session::server as sessions;
use crate::terms;
use crate::types::UserId;
use std::net::IpAddr;

/// How long the step "choose a user ID and password" stays open after the code matched.
const CLAIM_LIFETIME_MS: i64 = 30 * 60_000;

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

const REQUEST_COLUMNS: &str = "r.id, r.given_name, r.family_name, r.date_of_birth, r.email, r.phone, r.mrn, \
    r.submitted_at, r.state, r.decline_reason, r.patient_id, r.decided_at, u.display_name AS decided_by";

/// The queue: pending requests, oldest first, then the latest decided ones.
pub async fn queue(db: &Db) -> Result<(Vec<RequestSummary>, Vec<RequestSummary>), sqlx::Error> {
    let pending: Vec<RequestSummary> = sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by \
         WHERE r.state = 'pending' ORDER BY r.submitted_at LIMIT 200"
    ))
    .fetch_all(&db.pool)
    .await?;
    let decided: Vec<RequestSummary> = sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by \
         WHERE r.state <> 'pending' ORDER BY r.decided_at DESC LIMIT 20"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok((pending, decided))
}

pub async fn detail(db: &Db, id: &str) -> Result<Option<RequestDetail>, sqlx::Error> {
    let request: Option<RequestSummary> =
        sqlx::query_as(&format!("SELECT {REQUEST_COLUMNS} FROM enrolment_requests r LEFT JOIN users u ON u.id = r.decided_by WHERE r.id = $1"))
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

// ---- Activation --------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// Code and birth date match: the secret of the cookie that opens the next step.
    Matched {
        claim_secret: String,
    },
    /// Unknown, used, revoked or exhausted code, or a wrong birth date: one answer for all.
    NoMatch,
    /// The right code and birth date, but the code has expired.
    Expired,
    Throttled,
}

pub async fn verify(
    state: &AppState,
    typed_code: &str,
    date_of_birth: Option<CalendarDate>,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<VerifyOutcome, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::Activation, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(VerifyOutcome::Throttled);
    }
    let Some(canonical) = code::normalise(typed_code) else { return failed(tx, "not a code", None, addr, now).await };
    #[derive(sqlx::FromRow)]
    struct CodeRow {
        id: String,
        patient_id: String,
        expires_at: i64,
        date_of_birth: String,
    }
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT c.id, c.patient_id, c.expires_at, c.tries_left, p.date_of_birth FROM activation_codes c \
         JOIN patients p ON p.id = c.patient_id WHERE c.code_hash = $1 AND c.state = 'active'",
    )
    .bind(code::digest(&canonical))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return failed(tx, "unknown or ended code", None, addr, now).await };
    let CodeRow { id: code_id, patient_id, expires_at, date_of_birth: on_record } = row;
    if date_of_birth.map(|d| d.to_string()) != Some(on_record) {
        // Decremented in the database, not from the value read: simultaneous wrong guesses each
        // use up a try.
        let tries_left: i64 = sqlx::query_scalar(
            "UPDATE activation_codes SET tries_left = tries_left - 1, \
                 state = CASE WHEN tries_left - 1 <= 0 THEN 'exhausted' ELSE state END, \
                 ended_at = CASE WHEN tries_left - 1 <= 0 THEN $1 ELSE ended_at END \
             WHERE id = $2 RETURNING tries_left",
        )
        .bind(now)
        .bind(&code_id)
        .fetch_one(&mut *tx)
        .await?;
        let detail = if tries_left <= 0 { "wrong birth date; code no longer works" } else { "wrong birth date" };
        return failed(tx, detail, Some(&patient_id), addr, now).await;
    }
    if expires_at <= now {
        tx.commit().await?;
        return Ok(VerifyOutcome::Expired);
    }
    let still_active = sqlx::query("SELECT 1 AS x FROM activation_codes WHERE id = $1 AND state = 'active'").bind(&code_id).fetch_optional(&mut *tx).await?;
    if still_active.is_none() {
        return failed(tx, "code used up meanwhile", Some(&patient_id), addr, now).await;
    }
    let claim_secret = tokens::new_secret();
    sqlx::query("UPDATE activation_codes SET claim_hash = $1, claim_expires_at = $2 WHERE id = $3")
        .bind(tokens::digest(&claim_secret))
        .bind(now + CLAIM_LIFETIME_MS)
        .bind(&code_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(VerifyOutcome::Matched { claim_secret })
}

async fn failed(mut tx: Tx, detail: &str, patient: Option<&str>, addr: Option<IpAddr>, now: i64) -> Result<VerifyOutcome, sqlx::Error> {
    audit::record(
        &mut tx,
        AuditEvent {
            record_type: patient.map(|_| "patient"),
            record_id: patient,
            client_addr: addr,
            detail: Some(detail),
            ..AuditEvent::of(AuditAction::ActivationFailed)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(VerifyOutcome::NoMatch)
}

/// The open activation behind a claim cookie.
#[derive(sqlx::FromRow)]
struct Claim {
    #[sqlx(rename = "id")]
    code_id: String,
    patient_id: PatientId,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    email: Option<String>,
    #[sqlx(rename = "enrolment_request_id")]
    request_id: Option<String>,
}

async fn claim(tx: &mut Tx, claim_secret: &str, now: i64) -> Result<Option<Claim>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.patient_id, c.enrolment_request_id, p.given_name, p.family_name, p.date_of_birth, p.email \
         FROM activation_codes c JOIN patients p ON p.id = c.patient_id \
         WHERE c.claim_hash = $1 AND c.state = 'active' AND c.claim_expires_at > $2 AND c.expires_at > $2",
    )
    .bind(tokens::digest(claim_secret))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}

/// Whether the request behind the code already accepted `terms_id` (and when, from where).
async fn accepted_at_request(tx: &mut Tx, request_id: Option<&str>, terms_id: &str) -> Result<Option<(i64, Option<String>)>, sqlx::Error> {
    let Some(request_id) = request_id else { return Ok(None) };
    sqlx::query_as("SELECT submitted_at, client_addr FROM enrolment_requests WHERE id = $1 AND terms_version_id = $2")
        .bind(request_id)
        .bind(terms_id)
        .fetch_optional(&mut **tx)
        .await
}

/// What the "choose your user ID and password" page shows.
pub async fn start(db: &Db, claim_secret: &str, now: i64) -> Result<Option<ActivationStart>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let Some(c) = claim(&mut tx, claim_secret, now).await? else { return Ok(None) };
    // On the transaction's connection: waiting for a second one while holding the first
    // deadlocks once every connection is held by a request doing the same.
    let terms = terms::server::in_force_on(&mut tx, now).await?;
    let terms_accepted = match &terms {
        Some(t) => accepted_at_request(&mut tx, c.request_id.as_deref(), &t.id).await?.is_some(),
        None => true,
    };
    tx.rollback().await?;
    Ok(Some(ActivationStart { given_name: c.given_name, email: c.email.unwrap_or_default(), terms: if terms_accepted { None } else { terms } }))
}

/// Whether a user ID can be chosen: the rules, then whether it is taken.
pub async fn user_id_available(db: &Db, typed: &str) -> Result<Result<String, UserIdProblem>, sqlx::Error> {
    let id = match check_user_id(typed) {
        Ok(id) => id,
        Err(p) => return Ok(Err(p)),
    };
    let taken = crate::users::login_taken(&db.pool, &id).await?;
    Ok(if taken { Err(UserIdProblem::Taken) } else { Ok(id) })
}

/// Counts a user-ID check against the open activation (so the check cannot be used to list
/// user IDs); false when the activation is unknown or has checked too often.
pub async fn take_user_id_check(db: &Db, claim_secret: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some(c) = claim(&mut tx, claim_secret, now).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let ok = take_user_id_place(&mut tx, &c.code_id, now).await?;
    tx.commit().await?;
    Ok(ok)
}

/// Takes the place of one user-ID answer (available or taken) in the budget of an activation
/// code, before the answer is looked up: `rate::take` counts one code's uses one at a time
/// (the row lock of its subject on PostgreSQL, the write lock on SQLite), so a burst of checks
/// sent at once gets no more answers than the budget. Counted per code, not per claim: entering
/// the code again opens a new claim but no new budget.
async fn take_user_id_place(tx: &mut Tx, code_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    rate::take(tx, RateKind::UserIdCheck, &format!("activation-code:{code_id}"), now).await
}

pub struct Choice<'a> {
    pub user_id: &'a str,
    pub password: String,
    pub password_again: String,
    pub email: &'a str,
    pub agree_terms: bool,
    /// The version of the terms the page showed (when it showed any).
    pub terms_id: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ActivationProblem {
    /// The activation is unknown or has run out of time: start again with the code.
    Expired,
    UserId(UserIdProblem),
    /// The activation has asked whether user IDs are free too often (see `take_user_id_place`),
    /// and the form was not right: what was wrong is not said.
    TooManyUserIdChecks,
    Password(NewPasswordProblem),
    Email,
    Terms,
    /// A new version took effect while the page was open: the patient must read it.
    TermsChanged,
}

/// What a completed activation hands back: the new session, and the cookie that marks this
/// browser as one the patient uses (so their next sign-in here sends no "new device" notice).
pub struct Activated {
    pub session_secret: String,
    pub device_secret: String,
}

/// Creates the account: user ID, password, e-mail, the terms, paperless billing; returns the
/// new session's cookie secret.
pub async fn complete(
    state: &AppState,
    claim_secret: &str,
    choice: Choice<'_>,
    addr: Option<IpAddr>,
    user_agent: Option<&str>,
    now: i64,
) -> Result<Result<Activated, ActivationProblem>, sqlx::Error> {
    let db = &state.db;
    // Checked before the write transaction: hashing takes a moment and must not hold the lock.
    let c = {
        let mut tx = db.pool.begin().await?;
        let c = claim(&mut tx, claim_secret, now).await?;
        tx.rollback().await?;
        match c {
            Some(c) => c,
            None => return Ok(Err(ActivationProblem::Expired)),
        }
    };
    // The answer to the form says whether the user ID is taken: it is a user-ID check, counted
    // like the ones made as the patient types. Once the activation's budget is spent, the form
    // still makes the account when everything in it is right (which ends the activation: one
    // answer more, at most), but a refusal no longer says what was wrong, so that it cannot tell
    // a taken user ID from a free one.
    let counted = {
        let mut tx = db.begin_write().await?;
        let counted = take_user_id_place(&mut tx, &c.code_id, now).await?;
        tx.commit().await?;
        counted
    };
    match create_account(state, claim_secret, c, choice, addr, user_agent, now).await? {
        Err(p) if !counted && p != ActivationProblem::Expired => Ok(Err(ActivationProblem::TooManyUserIdChecks)),
        answer => Ok(answer),
    }
}

/// `complete` once the user-ID answer is counted.
#[allow(clippy::too_many_arguments)]
async fn create_account(
    state: &AppState,
    claim_secret: &str,
    c: Claim,
    choice: Choice<'_>,
    addr: Option<IpAddr>,
    user_agent: Option<&str>,
    now: i64,
) -> Result<Result<Activated, ActivationProblem>, sqlx::Error> {
    let db = &state.db;
    let login = match user_id_available(db, choice.user_id).await? {
        Ok(login) => login,
        Err(p) => return Ok(Err(ActivationProblem::UserId(p))),
    };
    let names = [c.given_name.as_str(), c.family_name.as_str()];
    if let Err(p) = new_password::check(&choice.password, &choice.password_again, &names, &login, Some(&c.date_of_birth)) {
        return Ok(Err(ActivationProblem::Password(p)));
    }
    let email = choice.email.trim().to_lowercase();
    if !super::plausible_email(&email) {
        return Ok(Err(ActivationProblem::Email));
    }
    let terms = terms::server::in_force(db, now).await?;
    let hash = state.passwords.hash(choice.password).await;

    let mut tx = db.begin_write().await?;
    // Again inside the transaction: the code may have been used or revoked meanwhile.
    let Some(c) = claim(&mut tx, claim_secret, now).await? else { return Ok(Err(ActivationProblem::Expired)) };
    let request_acceptance = match &terms {
        Some(t) => accepted_at_request(&mut tx, c.request_id.as_deref(), &t.id).await?,
        None => None,
    };
    if let (Some(t), None) = (&terms, &request_acceptance) {
        if choice.terms_id != Some(t.id.as_str()) {
            return Ok(Err(ActivationProblem::TermsChanged));
        }
        if !choice.agree_terms {
            return Ok(Err(ActivationProblem::Terms));
        }
    }
    if crate::users::login_taken(&mut *tx, &login).await? {
        return Ok(Err(ActivationProblem::UserId(UserIdProblem::Taken)));
    }
    let user = UserId::new_random();
    sqlx::query(
        "INSERT INTO users (id, login, display_name, kind, email, password_hash, password_changed_at, created_at, patient_id) \
         VALUES ($1, $2, $3, 'patient', $4, $5, $6, $6, $7)",
    )
    .bind(user.as_str())
    .bind(&login)
    .bind(format!("{} {}", c.given_name, c.family_name))
    .bind(&email)
    .bind(&hash)
    .bind(now)
    .bind(c.patient_id.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE activation_codes SET state = 'used', ended_at = $1, claim_hash = NULL WHERE id = $2")
        .bind(now)
        .bind(&c.code_id)
        .execute(&mut *tx)
        .await?;
    let event = |action| AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(action) };
    audit::record(&mut tx, AuditEvent { record_type: Some("patient"), record_id: Some(c.patient_id.as_str()), ..event(AuditAction::AccountActivated) }, now)
        .await?;
    if let Some(t) = &terms {
        match request_acceptance {
            // They agreed to this very version when they asked for access.
            Some((at, request_addr)) => {
                let request_addr = request_addr.and_then(|a| a.parse().ok());
                terms::server::accept(&mut tx, &user, t, request_addr, at).await?;
            }
            None => terms::server::accept(&mut tx, &user, t, addr, now).await?,
        }
    }
    // SPEC R-BIL-1: signing up enrols the patient, and every account they are guarantor of, in
    // paperless billing.
    crate::billing::server::enrol_paperless(&mut tx, &c.patient_id, &user, now).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            record_type: Some("patient"),
            record_id: Some(c.patient_id.as_str()),
            detail: Some("at enrolment"),
            ..event(AuditAction::PaperlessEnrolled)
        },
        now,
    )
    .await?;
    // The address the patient typed is not confirmed yet (`users.email_confirmed_at` stays
    // empty): a typing mistake would otherwise send password-reset links to a stranger. The
    // welcome mail carries the link that confirms it (the e-mail-change link of `recovery`).
    let confirm = crate::recovery::server::create_link(
        &mut tx,
        &user,
        crate::recovery::server::Purpose::EmailChange,
        Some(&email),
        state.settings.accounts.link_lifetime.as_millis() as i64,
        now,
    )
    .await?;
    outbox::enqueue(&mut tx, &email, &Notice::AccountReady { token: confirm }, now).await?;
    let (session_secret, _) = sessions::create(&mut tx, &user, addr, user_agent, now).await?;
    let device_secret = tokens::new_secret();
    sqlx::query("INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)")
        .bind(tokens::digest(&device_secret))
        .bind(user.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(Ok(Activated { session_secret, device_secret }))
}
