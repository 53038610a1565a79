//! Single-use links sent by e-mail (SPEC R-ENR-6): password reset, user ID reminder, and the
//! confirmation of a new e-mail address. Only the SHA-256 of a link's token is stored; a link
//! works once and expires (default 30 minutes).

use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::outbox::{self, Notice, SessionsAfterChange};
use crate::password::new_password::{self, NewPasswordProblem};
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, RateKind};
use crate::platform::tokens;
use crate::session::server::{end_all_of, EndReason};
use crate::state::AppState;
use crate::types::UserId;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    UserIdReminder,
    EmailChange,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password-reset",
            Purpose::UserIdReminder => "user-id-reminder",
            Purpose::EmailChange => "email-change",
        }
    }
}

/// Answers to the anonymous forms: the same whether or not an account matched.
#[derive(Debug, PartialEq, Eq)]
pub enum Requested {
    Sent,
    Throttled,
}

/// The budget a client address draws on (an IPv6 /64 counts as one address).
fn addr_key(addr: Option<IpAddr>) -> String {
    crate::platform::rate::address_subject(addr)
}

/// Stores a new link; returns its token (which goes only into the e-mail).
pub async fn create_link(tx: &mut Tx, user: &UserId, purpose: Purpose, new_email: Option<&str>, lifetime_ms: i64, now: i64) -> Result<String, sqlx::Error> {
    let token = tokens::new_secret();
    sqlx::query("INSERT INTO account_links (token_hash, user_id, purpose, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tokens::digest(&token))
        .bind(user.as_str())
        .bind(purpose.as_str())
        .bind(new_email)
        .bind(now)
        .bind(now + lifetime_ms)
        .execute(&mut **tx)
        .await?;
    Ok(token)
}

/// The account a link belongs to, if the link is unused and in time.
pub async fn link_user(db: &Db, token: &str, purpose: Purpose, now: i64) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT l.user_id FROM account_links l JOIN users u ON u.id = l.user_id \
         WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > $3 AND u.access = 'active'",
    )
    .bind(tokens::digest(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(&db.pool)
    .await
}

/// Uses a link (in the caller's transaction): its account and the new address it carries, or
/// none when it is unknown, used or expired.
async fn use_link(tx: &mut Tx, token: &str, purpose: Purpose, now: i64) -> Result<Option<(UserId, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE account_links SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
           AND user_id IN (SELECT id FROM users WHERE access = 'active') \
         RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(tokens::digest(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await
}

/// An account that recovery mail may go to, with its addresses.
#[derive(sqlx::FromRow)]
struct RecoveryRow {
    id: UserId,
    email: Option<String>,
    email_confirmed_at: Option<i64>,
    record_email: Option<String>,
}

/// Where the recovery mail of an account goes (a link that opens the account), and what the
/// audit trail says about it. Nothing that grants access goes to an address that was never
/// confirmed: the account's own address once its owner opened the link sent to it; until then,
/// the address on the patient's record (the clinic's, the only one activation codes are e-mailed
/// to), if the record has one; otherwise nowhere (and the person is told the same as always).
fn recovery_address(row: &RecoveryRow) -> (Option<String>, &'static str) {
    let confirmed = row.email_confirmed_at.is_some();
    let own: Option<String> = row.email.clone().filter(|e| !e.trim().is_empty());
    let record: Option<String> = row.record_email.as_deref().map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    match (confirmed, own, record) {
        (true, Some(own), _) => (Some(own), "sent to the account's confirmed address"),
        (_, _, Some(record)) => (Some(record), "sent to the address on the record: the account's address is not confirmed"),
        _ => (None, "not sent: the account's address is not confirmed and the record has none"),
    }
}

/// Forgot password: user ID and the e-mail address on the account. When both match an active
/// patient account, a reset link goes to its recovery address (see `recovery_address`).
pub async fn request_password_reset(state: &AppState, login: &str, email: &str, addr: Option<IpAddr>, now: i64) -> Result<Requested, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::RecoveryByAddress, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(Requested::Throttled);
    }
    let row: Option<RecoveryRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.email_confirmed_at, p.email AS record_email FROM users u LEFT JOIN patients p ON p.id = u.patient_id \
         WHERE u.login = $1 AND u.kind = 'patient' AND u.access = 'active' AND LOWER(u.email) = $2",
    )
    .bind(crate::sign_in::server::normalise_login(login))
    .bind(email.trim().to_lowercase())
    .fetch_optional(&mut *tx)
    .await?;
    let mut sent = false;
    if let Some(row) = row {
        let user = &row.id;
        if rate::take(&mut tx, RateKind::RecoveryByAccount, &tokens::digest(user.as_str()), now).await? {
            let (to, detail) = recovery_address(&row);
            if let Some(to) = to {
                let token = create_link(&mut tx, user, Purpose::PasswordReset, None, state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
                outbox::enqueue(&mut tx, &to, &Notice::PasswordReset { token }, now).await?;
                sent = true;
            }
            audit::record(
                &mut tx,
                AuditEvent { subject: Some(user), client_addr: addr, detail: Some(detail), ..AuditEvent::of(AuditAction::PasswordResetRequested) },
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    if sent {
        state.outbox_wakeup.notify_one();
    }
    Ok(Requested::Sent)
}

/// Forgot user ID: the e-mail address and the birth date. Each matching active patient account
/// gets a link to a page that shows its user ID (the ID itself is never e-mailed), at its
/// recovery address (see `recovery_address`).
pub async fn request_user_id(
    state: &AppState,
    email: &str,
    date_of_birth: Option<CalendarDate>,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Requested, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::RecoveryByAddress, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(Requested::Throttled);
    }
    let mut sent = false;
    if let Some(dob) = date_of_birth {
        let rows: Vec<RecoveryRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.email_confirmed_at, p.email AS record_email FROM users u JOIN patients p ON p.id = u.patient_id \
             WHERE LOWER(u.email) = $1 AND p.date_of_birth = $2 AND u.access = 'active' LIMIT 5",
        )
        .bind(email.trim().to_lowercase())
        .bind(dob.to_string())
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let user = &row.id;
            if !rate::take(&mut tx, RateKind::RecoveryByAccount, &tokens::digest(user.as_str()), now).await? {
                continue;
            }
            let (to, detail) = recovery_address(&row);
            if let Some(to) = to {
                let token = create_link(&mut tx, user, Purpose::UserIdReminder, None, state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
                outbox::enqueue(&mut tx, &to, &Notice::UserIdReminder { token }, now).await?;
                sent = true;
            }
            audit::record(
                &mut tx,
                AuditEvent { subject: Some(user), client_addr: addr, detail: Some(detail), ..AuditEvent::of(AuditAction::UserIdReminderRequested) },
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    if sent {
        state.outbox_wakeup.notify_one();
    }
    Ok(Requested::Sent)
}

/// What a password is checked against: the account's names, user ID and birth date.
pub struct PersonalDetails {
    pub names: Vec<String>,
    pub login: String,
    pub date_of_birth: Option<String>,
    pub email: Option<String>,
}

pub async fn personal_details(db: &Db, user: &UserId) -> Result<PersonalDetails, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct DetailsRow {
        login: String,
        display_name: String,
        email: Option<String>,
        given_name: Option<String>,
        family_name: Option<String>,
        date_of_birth: Option<String>,
    }
    let row: DetailsRow = sqlx::query_as(
        "SELECT u.login, u.display_name, u.email, p.given_name, p.family_name, p.date_of_birth \
         FROM users u LEFT JOIN patients p ON p.id = u.patient_id WHERE u.id = $1",
    )
    .bind(user.as_str())
    .fetch_one(&db.pool)
    .await?;
    let mut names: Vec<String> = row.display_name.split_whitespace().map(str::to_owned).collect();
    names.extend(row.given_name);
    names.extend(row.family_name);
    Ok(PersonalDetails { names, login: row.login, date_of_birth: row.date_of_birth, email: row.email })
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResetProblem {
    /// Unknown, used or expired link.
    Link,
    Password(NewPasswordProblem),
}

/// Sets a new password through a reset link; every session of the account ends and the address
/// on file is told.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: String,
    again: String,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Result<(), ResetProblem>, sqlx::Error> {
    let Some(user) = link_user(&state.db, token, Purpose::PasswordReset, now).await? else { return Ok(Err(ResetProblem::Link)) };
    let details = personal_details(&state.db, &user).await?;
    let names: Vec<&str> = details.names.iter().map(String::as_str).collect();
    if let Err(p) = new_password::check(&password, &again, &names, &details.login, details.date_of_birth.as_deref()) {
        return Ok(Err(ResetProblem::Password(p)));
    }
    let hash = state.passwords.hash(password).await;
    let mut tx = state.db.begin_write().await?;
    let Some((user, _)) = use_link(&mut tx, token, Purpose::PasswordReset, now).await? else { return Ok(Err(ResetProblem::Link)) };
    // Any other reset link of the account stops working too.
    sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND purpose = 'password-reset' AND used_at IS NULL")
        .bind(now)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    set_password(&mut tx, &user, &hash, now).await?;
    end_all_of(&mut tx, &user, None, EndReason::PasswordChanged, addr, now).await?;
    audit::record(&mut tx, AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::PasswordReset) }, now)
        .await?;
    if let Some(email) = &details.email {
        outbox::enqueue(&mut tx, email, &Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded }, now).await?;
    }
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(Ok(()))
}

/// Stores a new password hash; the password's age starts again.
pub async fn set_password(tx: &mut Tx, user: &UserId, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, password_reminded_at = NULL WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(user.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Uses a user-ID link; returns the user ID to show.
pub async fn reveal_user_id(db: &Db, token: &str, addr: Option<IpAddr>, now: i64) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some((user, _)) = use_link(&mut tx, token, Purpose::UserIdReminder, now).await? else { return Ok(None) };
    let login = crate::users::login(&mut *tx, &user).await?;
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::UserIdReminderOpened) },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(login))
}

/// What became of a request for an e-mail confirmation link.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRequest {
    Sent,
    /// The account asked for `RateKind::EmailChange`'s number of links within the hour already.
    TooMany,
}

/// Takes the place of one e-mail confirmation link (a change of address, or the link sent again)
/// in the account's hourly budget, in the caller's write transaction: a burst of requests sent
/// at once is counted one at a time (see `rate::take`), so no more than the budget pass.
async fn take_link_place(tx: &mut Tx, user: &UserId, now: i64) -> Result<bool, sqlx::Error> {
    rate::take(tx, RateKind::EmailChange, &tokens::digest(user.as_str()), now).await
}

/// Starts a change of e-mail address (the caller has checked the password): a confirmation link
/// goes to the new address, and a notice to the old one. Limited per account and hour.
pub async fn request_email_change(state: &AppState, user: &UserId, new_email: &str, addr: Option<IpAddr>, now: i64) -> Result<LinkRequest, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !take_link_place(&mut tx, user, now).await? {
        tx.commit().await?;
        return Ok(LinkRequest::TooMany);
    }
    let old = crate::users::email(&mut *tx, user).await?;
    sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND purpose = 'email-change' AND used_at IS NULL")
        .bind(now)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    let token = create_link(&mut tx, user, Purpose::EmailChange, Some(new_email), state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
    outbox::enqueue(&mut tx, new_email, &Notice::EmailChangeConfirm { token }, now).await?;
    if let Some(old) = old.filter(|o| !o.is_empty()) {
        outbox::enqueue(&mut tx, &old, &Notice::EmailChangeRequested, now).await?;
    }
    audit::record(&mut tx, AuditEvent { actor: Some(user), subject: Some(user), client_addr: addr, ..AuditEvent::of(AuditAction::EmailChangeRequested) }, now)
        .await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(LinkRequest::Sent)
}

/// Sends again the link that confirms the account's current address (the one chosen at
/// activation, when its first link expired or was lost). Counted with the changes of address.
/// `None` when the address is confirmed already or there is none.
pub async fn resend_confirmation(state: &AppState, user: &UserId, addr: Option<IpAddr>, now: i64) -> Result<Option<LinkRequest>, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    let (email, confirmed_at): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT email, email_confirmed_at FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&mut *tx).await?;
    let Some(email) = email.filter(|e| !e.is_empty() && confirmed_at.is_none()) else {
        tx.rollback().await?;
        return Ok(None);
    };
    if !take_link_place(&mut tx, user, now).await? {
        tx.commit().await?;
        return Ok(Some(LinkRequest::TooMany));
    }
    // One confirmation link at a time: the new one replaces any earlier one (also a change of
    // address not yet confirmed).
    sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND purpose = 'email-change' AND used_at IS NULL")
        .bind(now)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    let token = create_link(&mut tx, user, Purpose::EmailChange, Some(&email), state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
    outbox::enqueue(&mut tx, &email, &Notice::EmailChangeConfirm { token }, now).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            client_addr: addr,
            detail: Some("confirmation link sent again"),
            ..AuditEvent::of(AuditAction::EmailChangeRequested)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(Some(LinkRequest::Sent))
}

/// Confirms an address through its link (a new address, or the one chosen at activation): from
/// now on recovery mail may go to it. The old address, if another, is told.
pub async fn confirm_email(state: &AppState, token: &str, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    let Some((user, Some(new_email))) = use_link(&mut tx, token, Purpose::EmailChange, now).await? else { return Ok(false) };
    let old = crate::users::email(&mut *tx, &user).await?;
    sqlx::query("UPDATE users SET email = $1, email_confirmed_at = $2 WHERE id = $3").bind(&new_email).bind(now).bind(user.as_str()).execute(&mut *tx).await?;
    let changed = old.as_deref().is_some_and(|o| !o.is_empty() && o != new_email);
    if changed {
        outbox::enqueue(&mut tx, old.as_deref().unwrap_or_default(), &Notice::EmailChanged, now).await?;
    }
    let detail = if changed { "new address confirmed" } else { "address confirmed" };
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, detail: Some(detail), ..AuditEvent::of(AuditAction::EmailChanged) },
        now,
    )
    .await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(true)
}
