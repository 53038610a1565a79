//! Activation: the code and the birth date (`verify`), then the user ID, password, e-mail and
//! terms that make the account (`complete`).

use super::addr_key;
use crate::account::user_id::{check_user_id, UserIdProblem};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::enrolment::code;
use crate::enrolment::ActivationStart;
use crate::outbox::{self, Notice};
use crate::password::new_password::{self, NewPasswordProblem};
use crate::patients::PatientId;
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, RateKind};
use crate::platform::tokens;
use crate::session::server as sessions;
use crate::state::AppState;
use crate::terms;
use crate::types::UserId;
use std::net::IpAddr;

/// How long the step "choose a user ID and password" stays open after the code matched.
const CLAIM_LIFETIME_MS: i64 = 30 * 60_000;

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
    if !crate::enrolment::plausible_email(&email) {
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
