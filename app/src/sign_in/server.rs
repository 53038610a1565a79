//! A sign-in attempt from start to end: throttling, password check, session, audit, and the
//! notice of a sign-in from a new device. Every attempt is recorded.

use super::throttle::RecentFailures;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::outbox::{self, Notice};
use crate::platform::state::AppState;
use crate::platform::tokens;
use crate::session::server as sessions;
use crate::session::server::kind_from_row;
use crate::session::PendingStep;
use crate::types::{Portal, UserId};
use sqlx::Row;
use std::net::IpAddr;
use std::time::Duration;

pub struct Attempt<'a> {
    pub portal: Portal,
    pub login: &'a str,
    pub password: String,
    /// The device cookie the browser sent, if any.
    pub device_secret: Option<String>,
    pub client_addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    SignedIn {
        session_secret: String,
        /// A new device cookie to set: this browser had not signed in to the account before.
        new_device_secret: Option<String>,
        /// What the user must do before anything else, if anything.
        next: Option<PendingStep>,
    },
    /// The password was right but the clinic has ended this account's access. Said only to
    /// someone who knows the password, so it reveals nothing to anyone else.
    AccessEnded,
    /// Wrong user ID, wrong password, or an account that may not sign in here: the person is
    /// told the same thing in every case.
    Refused,
    Throttled(Duration),
}

const UNKNOWN_DEVICE: &str = "unknown";

/// User IDs are matched without regard to case or surrounding space.
pub fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

pub async fn attempt(state: &AppState, a: Attempt<'_>, now: i64) -> Result<Outcome, sqlx::Error> {
    let db = &state.db;
    let login = normalise_login(a.login);
    // The typed user ID is kept only as a digest: people sometimes type their password into it.
    let login_key = tokens::digest(&login);

    let user = sqlx::query(
        "SELECT id, password_hash, kind, staff_role, access, email FROM users WHERE login = $1",
    )
    .bind(&login)
    .fetch_optional(&db.pool)
    .await?;
    let user_id = user.as_ref().map(|r| r.try_get::<String, _>("id")).transpose()?.map(UserId);

    let device_key = match (&a.device_secret, &user_id) {
        (Some(secret), Some(uid)) => {
            let digest = tokens::digest(secret);
            let known = sqlx::query("SELECT 1 AS known FROM known_devices WHERE token_hash = $1 AND user_id = $2")
                .bind(&digest)
                .bind(&uid.0)
                .fetch_optional(&db.pool)
                .await?
                .is_some();
            if known { digest } else { UNKNOWN_DEVICE.to_string() }
        }
        _ => UNKNOWN_DEVICE.to_string(),
    };

    let recent = recent_failures(state, &login_key, &device_key, a.client_addr, now).await?;
    if let Some(wait) = state.settings.throttle.wait(&recent, now) {
        record_refusal(state, &login_key, &device_key, a.client_addr, user_id.as_ref(), AuditAction::SignInThrottled, "throttled", now).await?;
        return Ok(Outcome::Throttled(wait));
    }

    let (hash, admitted, active, patient, email) = match &user {
        Some(row) => {
            let kind: String = row.try_get("kind")?;
            let role: Option<String> = row.try_get("staff_role")?;
            let access: String = row.try_get("access")?;
            let admitted = kind_from_row(&kind, role.as_deref()).is_some_and(|k| a.portal.admits(k));
            (
                row.try_get::<Option<String>, _>("password_hash")?,
                admitted,
                access == "active",
                kind == "patient",
                row.try_get::<Option<String>, _>("email")?,
            )
        }
        None => (None, false, false, false, None),
    };
    // The password is checked even when the account cannot sign in here, so that the answer
    // takes as long whatever the reason.
    let password_ok = state.passwords.verify(a.password, hash).await;

    if let (Some(uid), true, true, false) = (&user_id, password_ok, admitted, active) {
        record_refusal(state, &login_key, &device_key, a.client_addr, Some(uid), AuditAction::SignInFailed, "access ended", now).await?;
        return Ok(Outcome::AccessEnded);
    }
    let (Some(user_id), true, true) = (user_id.clone(), password_ok, admitted) else {
        let detail = match (&user_id, password_ok) {
            (None, _) => "unknown user id",
            (Some(_), false) => "wrong password",
            (Some(_), true) => "account may not sign in here",
        };
        record_refusal(state, &login_key, &device_key, a.client_addr, user_id.as_ref(), AuditAction::SignInFailed, detail, now).await?;
        return Ok(Outcome::Refused);
    };

    let opened = open_session(
        state,
        Opening {
            user: &user_id,
            patient,
            email: email.as_deref(),
            login_key: &login_key,
            device_key: &device_key,
            client_addr: a.client_addr,
            user_agent: a.user_agent.as_deref(),
            by_passkey: false,
        },
        now,
    )
    .await?;
    Ok(Outcome::SignedIn { session_secret: opened.0, new_device_secret: opened.1, next: opened.2 })
}

/// Who is being signed in, once the password (or a passkey) has been checked.
struct Opening<'a> {
    user: &'a UserId,
    patient: bool,
    email: Option<&'a str>,
    login_key: &'a str,
    device_key: &'a str,
    client_addr: Option<IpAddr>,
    user_agent: Option<&'a str>,
    /// A passkey with user verification is both steps in one: no code is asked.
    by_passkey: bool,
}

/// Opens the session: the attempt recorded, the first step to take, the device remembered (a
/// notice when it is new), the audit entry. Returns the session secret, a new device cookie if
/// any, and the step.
async fn open_session(state: &AppState, o: Opening<'_>, now: i64) -> Result<(String, Option<String>, Option<PendingStep>), sqlx::Error> {
    let user_id = o.user;
    let mut tx = state.db.begin_write().await?;
    insert_attempt(&mut tx, o.login_key, o.device_key, o.client_addr, Some(user_id), "succeeded", now).await?;
    let (session_secret, _) = sessions::create(&mut tx, user_id, o.client_addr, o.user_agent, now).await?;
    let id_hash = tokens::digest(&session_secret);
    let next = if o.by_passkey {
        crate::account::steps::after_second_step(&mut tx, &state.settings, user_id, &id_hash, o.patient, now).await?
    } else {
        crate::account::steps::after_sign_in(&mut tx, &state.settings, user_id, &id_hash, o.patient, now).await?
    };
    let new_device_secret = if o.device_key == UNKNOWN_DEVICE {
        let secret = tokens::new_secret();
        sqlx::query("INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)")
            .bind(tokens::digest(&secret))
            .bind(&user_id.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if let Some(email) = o.email {
            outbox::enqueue(&mut tx, email, &Notice::NewDeviceSignIn, now).await?;
        }
        Some(secret)
    } else {
        sqlx::query("UPDATE known_devices SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(o.device_key)
            .execute(&mut *tx)
            .await?;
        None
    };
    let detail = match (o.by_passkey, new_device_secret.is_some()) {
        (true, true) => "passkey, new device",
        (true, false) => "passkey, known device",
        (false, true) => "new device",
        (false, false) => "known device",
    };
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(user_id), subject: Some(user_id), client_addr: o.client_addr, detail: Some(detail), ..AuditEvent::of(AuditAction::SignInSucceeded) },
        now,
    )
    .await?;
    tx.commit().await?;
    if new_device_secret.is_some() && o.email.is_some() {
        state.outbox_wakeup.notify_one();
    }
    Ok((session_secret, new_device_secret, next))
}

/// Signs in the user a passkey identified (checked by the caller), if the account may sign in
/// on this portal and its access is active. `None` otherwise: the person is told only that the
/// passkey did not work.
pub async fn passkey_sign_in(
    state: &AppState,
    user: &UserId,
    portal: Portal,
    device_secret: Option<String>,
    client_addr: Option<IpAddr>,
    user_agent: Option<&str>,
    now: i64,
) -> Result<Option<(String, Option<String>, Option<PendingStep>)>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT login, kind, staff_role, access, email FROM users WHERE id = $1").bind(&user.0).fetch_optional(&state.db.pool).await? else {
        return Ok(None);
    };
    let kind: String = row.try_get("kind")?;
    let role: Option<String> = row.try_get("staff_role")?;
    let admitted = kind_from_row(&kind, role.as_deref()).is_some_and(|k| portal.admits(k));
    if !admitted || row.try_get::<String, _>("access")? != "active" {
        return Ok(None);
    }
    let login_key = tokens::digest(&normalise_login(&row.try_get::<String, _>("login")?));
    let device_key = match device_secret {
        Some(secret) => {
            let digest = tokens::digest(&secret);
            let known = sqlx::query("SELECT 1 AS known FROM known_devices WHERE token_hash = $1 AND user_id = $2")
                .bind(&digest)
                .bind(&user.0)
                .fetch_optional(&state.db.pool)
                .await?
                .is_some();
            if known { digest } else { UNKNOWN_DEVICE.to_string() }
        }
        None => UNKNOWN_DEVICE.to_string(),
    };
    let email: Option<String> = row.try_get("email")?;
    let opening = Opening {
        user,
        patient: kind == "patient",
        email: email.as_deref(),
        login_key: &login_key,
        device_key: &device_key,
        client_addr,
        user_agent,
        by_passkey: true,
    };
    Ok(Some(open_session(state, opening, now).await?))
}

async fn recent_failures(
    state: &AppState,
    login_key: &str,
    device_key: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<RecentFailures, sqlx::Error> {
    let db = &state.db;
    let window_start = now - state.settings.throttle.window.as_millis() as i64;
    let last_success: Option<i64> = sqlx::query(
        "SELECT MAX(at) AS at FROM sign_in_attempts WHERE login_key = $1 AND device_key = $2 AND outcome = 'succeeded'",
    )
    .bind(login_key)
    .bind(device_key)
    .fetch_one(&db.pool)
    .await?
    .try_get("at")?;
    let since = window_start.max(last_success.unwrap_or(i64::MIN));
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MAX(at) AS last_at FROM sign_in_attempts \
         WHERE login_key = $1 AND device_key = $2 AND outcome = 'failed' AND at > $3",
    )
    .bind(login_key)
    .bind(device_key)
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    let mut recent = RecentFailures {
        account_device: row.try_get::<i64, _>("n")? as u32,
        last_account_device_at: row.try_get("last_at")?,
        ..RecentFailures::default()
    };
    if let Some(addr) = client_addr {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM sign_in_attempts \
             WHERE client_addr = $1 AND outcome = 'failed' AND at > $2",
        )
        .bind(addr.to_string())
        .bind(window_start)
        .fetch_one(&db.pool)
        .await?;
        recent.address = row.try_get::<i64, _>("n")? as u32;
        recent.oldest_address_at = row.try_get("oldest")?;
    }
    Ok(recent)
}

#[allow(clippy::too_many_arguments)]
/// Sign-ins refused since this server started (wrong credentials and the like, and throttled
/// ones), for the metrics endpoint. Counted per server; the metrics system adds them up.
pub static REFUSED_FAILED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static REFUSED_THROTTLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn record_refusal(
    state: &AppState,
    login_key: &str,
    device_key: &str,
    client_addr: Option<IpAddr>,
    user_id: Option<&UserId>,
    action: AuditAction,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let outcome = if action == AuditAction::SignInThrottled { "throttled" } else { "failed" };
    let counter = if action == AuditAction::SignInThrottled { &REFUSED_THROTTLED } else { &REFUSED_FAILED };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tx = state.db.begin_write().await?;
    insert_attempt(&mut tx, login_key, device_key, client_addr, user_id, outcome, now).await?;
    audit::record(
        &mut tx,
        AuditEvent { subject: user_id, client_addr, detail: Some(detail), ..AuditEvent::of(action) },
        now,
    )
    .await?;
    tx.commit().await
}

async fn insert_attempt(
    tx: &mut crate::platform::db::Tx,
    login_key: &str,
    device_key: &str,
    client_addr: Option<IpAddr>,
    user_id: Option<&UserId>,
    outcome: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_in_attempts (at, login_key, device_key, client_addr, user_id, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now)
    .bind(login_key)
    .bind(device_key)
    .bind(client_addr.map(|a| a.to_string()))
    .bind(user_id.map(|u| u.0.clone()))
    .bind(outcome)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
