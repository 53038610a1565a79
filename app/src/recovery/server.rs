//! Single-use links sent by e-mail (SPEC R-ENR-6): password reset, user ID reminder, and the
//! confirmation of a new e-mail address. Only the SHA-256 of a link's token is stored; a link
//! works once and expires (default 30 minutes).

use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::outbox::{self, Notice};
use crate::password::new_password::{self, NewPasswordProblem};
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, RateKind};
use crate::platform::state::AppState;
use crate::platform::tokens;
use crate::session::server::{end_all_of, EndReason};
use crate::types::UserId;
use sqlx::Row;
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
    sqlx::query(
        "INSERT INTO account_links (token_hash, user_id, purpose, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tokens::digest(&token))
    .bind(&user.0)
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
    let row = sqlx::query(
        "SELECT l.user_id FROM account_links l JOIN users u ON u.id = l.user_id \
         WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > $3 AND u.access = 'active'",
    )
        .bind(tokens::digest(token))
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| r.try_get("user_id").map(UserId)).transpose()
}

/// Uses a link (in the caller's transaction): its account and the new address it carries, or
/// none when it is unknown, used or expired.
async fn use_link(tx: &mut Tx, token: &str, purpose: Purpose, now: i64) -> Result<Option<(UserId, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE account_links SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
           AND user_id IN (SELECT id FROM users WHERE access = 'active') \
         RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(tokens::digest(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((UserId(r.try_get("user_id")?), r.try_get("new_email")?))).transpose()
}

/// Forgot password: user ID and the e-mail address on the account. When both match an active
/// patient account, a reset link goes to that address.
pub async fn request_password_reset(state: &AppState, login: &str, email: &str, addr: Option<IpAddr>, now: i64) -> Result<Requested, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::RecoveryByAddress, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(Requested::Throttled);
    }
    let row = sqlx::query(
        "SELECT id, email FROM users WHERE login = $1 AND kind = 'patient' AND access = 'active' AND LOWER(email) = $2",
    )
    .bind(crate::sign_in::server::normalise_login(login))
    .bind(email.trim().to_lowercase())
    .fetch_optional(&mut *tx)
    .await?;
    let mut sent = false;
    if let Some(row) = row {
        let user = UserId(row.try_get("id")?);
        let to: String = row.try_get("email")?;
        if rate::take(&mut tx, RateKind::RecoveryByAccount, &tokens::digest(&user.0), now).await? {
            let token = create_link(&mut tx, &user, Purpose::PasswordReset, None, state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
            outbox::enqueue(&mut tx, &to, &Notice::PasswordReset { token }, now).await?;
            audit::record(&mut tx, AuditEvent { subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::PasswordResetRequested) }, now).await?;
            sent = true;
        }
    }
    tx.commit().await?;
    if sent {
        state.outbox_wakeup.notify_one();
    }
    Ok(Requested::Sent)
}

/// Forgot user ID: the e-mail address and the birth date. Each matching active patient account
/// gets a link to a page that shows its user ID (the ID itself is never e-mailed).
pub async fn request_user_id(state: &AppState, email: &str, date_of_birth: Option<CalendarDate>, addr: Option<IpAddr>, now: i64) -> Result<Requested, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if !rate::take(&mut tx, RateKind::RecoveryByAddress, &addr_key(addr), now).await? {
        tx.commit().await?;
        return Ok(Requested::Throttled);
    }
    let mut sent = false;
    if let Some(dob) = date_of_birth {
        let rows = sqlx::query(
            "SELECT u.id, u.email FROM users u JOIN patients p ON p.id = u.patient_id \
             WHERE LOWER(u.email) = $1 AND p.date_of_birth = $2 AND u.access = 'active' LIMIT 5",
        )
        .bind(email.trim().to_lowercase())
        .bind(dob.to_string())
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let user = UserId(row.try_get("id")?);
            let to: String = row.try_get("email")?;
            if !rate::take(&mut tx, RateKind::RecoveryByAccount, &tokens::digest(&user.0), now).await? {
                continue;
            }
            let token = create_link(&mut tx, &user, Purpose::UserIdReminder, None, state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
            outbox::enqueue(&mut tx, &to, &Notice::UserIdReminder { token }, now).await?;
            audit::record(&mut tx, AuditEvent { subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::UserIdReminderRequested) }, now).await?;
            sent = true;
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
    let row = sqlx::query(
        "SELECT u.login, u.display_name, u.email, p.given_name, p.family_name, p.date_of_birth \
         FROM users u LEFT JOIN patients p ON p.id = u.patient_id WHERE u.id = $1",
    )
    .bind(&user.0)
    .fetch_one(&db.pool)
    .await?;
    let mut names: Vec<String> = row.try_get::<String, _>("display_name")?.split_whitespace().map(str::to_owned).collect();
    for col in ["given_name", "family_name"] {
        if let Some(n) = row.try_get::<Option<String>, _>(col)? {
            names.push(n);
        }
    }
    Ok(PersonalDetails {
        names,
        login: row.try_get("login")?,
        date_of_birth: row.try_get("date_of_birth")?,
        email: row.try_get("email")?,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResetProblem {
    /// Unknown, used or expired link.
    Link,
    Password(NewPasswordProblem),
}

/// Sets a new password through a reset link; every session of the account ends and the address
/// on file is told.
pub async fn reset_password(state: &AppState, token: &str, password: String, again: String, addr: Option<IpAddr>, now: i64) -> Result<Result<(), ResetProblem>, sqlx::Error> {
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
        .bind(&user.0)
        .execute(&mut *tx)
        .await?;
    set_password(&mut tx, &user, &hash, now).await?;
    end_all_of(&mut tx, &user, None, EndReason::PasswordChanged, addr, now).await?;
    audit::record(&mut tx, AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::PasswordReset) }, now).await?;
    if let Some(email) = &details.email {
        outbox::enqueue(&mut tx, email, &Notice::PasswordChanged, now).await?;
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
        .bind(&user.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Uses a user-ID link; returns the user ID to show.
pub async fn reveal_user_id(db: &Db, token: &str, addr: Option<IpAddr>, now: i64) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some((user, _)) = use_link(&mut tx, token, Purpose::UserIdReminder, now).await? else { return Ok(None) };
    let login: String = sqlx::query("SELECT login FROM users WHERE id = $1").bind(&user.0).fetch_one(&mut *tx).await?.try_get("login")?;
    audit::record(&mut tx, AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::UserIdReminderOpened) }, now).await?;
    tx.commit().await?;
    Ok(Some(login))
}

/// Starts a change of e-mail address (the caller has checked the password): a confirmation link
/// goes to the new address, and a notice to the old one.
pub async fn request_email_change(state: &AppState, user: &UserId, new_email: &str, addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    let old: Option<String> = sqlx::query("SELECT email FROM users WHERE id = $1").bind(&user.0).fetch_one(&mut *tx).await?.try_get("email")?;
    sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND purpose = 'email-change' AND used_at IS NULL")
        .bind(now)
        .bind(&user.0)
        .execute(&mut *tx)
        .await?;
    let token = create_link(&mut tx, user, Purpose::EmailChange, Some(new_email), state.settings.accounts.link_lifetime.as_millis() as i64, now).await?;
    outbox::enqueue(&mut tx, new_email, &Notice::EmailChangeConfirm { token }, now).await?;
    if let Some(old) = old.filter(|o| !o.is_empty()) {
        outbox::enqueue(&mut tx, &old, &Notice::EmailChangeRequested, now).await?;
    }
    audit::record(&mut tx, AuditEvent { actor: Some(user), subject: Some(user), client_addr: addr, ..AuditEvent::of(AuditAction::EmailChangeRequested) }, now).await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(())
}

/// Confirms a new address through its link; the old address is told.
pub async fn confirm_email(state: &AppState, token: &str, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    let Some((user, Some(new_email))) = use_link(&mut tx, token, Purpose::EmailChange, now).await? else { return Ok(false) };
    let old: Option<String> = sqlx::query("SELECT email FROM users WHERE id = $1").bind(&user.0).fetch_one(&mut *tx).await?.try_get("email")?;
    sqlx::query("UPDATE users SET email = $1 WHERE id = $2").bind(&new_email).bind(&user.0).execute(&mut *tx).await?;
    if let Some(old) = old.filter(|o| !o.is_empty() && *o != new_email) {
        outbox::enqueue(&mut tx, &old, &Notice::EmailChanged, now).await?;
    }
    audit::record(&mut tx, AuditEvent { actor: Some(&user), subject: Some(&user), client_addr: addr, ..AuditEvent::of(AuditAction::EmailChanged) }, now).await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    Ok(true)
}
