//! Server-side sessions, kept in the database so that every app server sees the same ones.
//! The cookie holds a 256-bit secret; the table holds its SHA-256 (`id_hash`).

use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::{Db, Tx};
use crate::platform::tokens;
use crate::settings::SessionPolicy;
use crate::types::{AccountKind, StaffRole, UserId, Viewer};
use std::net::IpAddr;

use super::{PendingStep, SessionTimeLeft};

pub use crate::platform::request::ActiveSession;

/// Why a session ended; stored with it and written to the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    SignedOut,
    IdleTimeout,
    AbsoluteTimeout,
    /// Staff ended the account's access.
    AccessEnded,
    /// The user signed out their other sessions.
    EndedByUser,
    /// The password was changed or reset: every other session goes.
    PasswordChanged,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::SignedOut => "signed-out",
            EndReason::IdleTimeout => "idle-timeout",
            EndReason::AbsoluteTimeout => "absolute-timeout",
            EndReason::AccessEnded => "access-ended",
            EndReason::EndedByUser => "ended-by-user",
            EndReason::PasswordChanged => "password-changed",
        }
    }
}

/// What a session cookie turned out to be.
#[derive(Debug)]
pub enum Resolution {
    Active(ActiveSession),
    /// It was a real session that has now run out of time; the caller ends it.
    Expired {
        id_hash: String,
        user_id: UserId,
        reason: EndReason,
    },
    /// Unknown, already ended, or of an account whose access has ended.
    Invalid,
}

/// Only refresh `last_seen_at` when it is this old: every page view would otherwise be a
/// database write. The idle timeout is then exact to within this margin.
const TOUCH_GRANULARITY_MS: i64 = 15_000;

pub(crate) fn kind_from_row(kind: &str, role: Option<&str>) -> Option<AccountKind> {
    match (kind, role) {
        ("patient", _) => Some(AccountKind::Patient),
        ("staff", Some(role)) => StaffRole::parse(role).map(AccountKind::Staff),
        _ => None,
    }
}

/// Opens a session for `user_id`; returns the cookie secret and the session's public id.
pub async fn create(tx: &mut Tx, user_id: &UserId, client_addr: Option<IpAddr>, user_agent: Option<&str>, now: i64) -> Result<(String, String), sqlx::Error> {
    let secret = tokens::new_secret();
    let public_id = tokens::new_id();
    sqlx::query(
        "INSERT INTO sessions (id_hash, public_id, user_id, created_at, last_seen_at, client_addr, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(tokens::digest(&secret))
    .bind(&public_id)
    .bind(user_id.as_str())
    .bind(now)
    .bind(client_addr.map(|a| a.to_string()))
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .execute(&mut **tx)
    .await?;
    Ok((secret, public_id))
}

/// An open session with its account, as each request resolves it.
#[derive(sqlx::FromRow)]
struct ResolveRow {
    public_id: String,
    user_id: UserId,
    created_at: i64,
    last_seen_at: i64,
    pending_step: Option<String>,
    display_name: String,
    /// `patient` or `staff`.
    kind: String,
    staff_role: Option<String>,
    /// `active` or `terminated`.
    access: String,
    patient_id: Option<String>,
}

pub async fn resolve(db: &Db, secret: &str, policy: &SessionPolicy, now: i64) -> Result<Resolution, sqlx::Error> {
    let id_hash = tokens::digest(secret);
    let row: Option<ResolveRow> = sqlx::query_as(
        "SELECT s.public_id, s.user_id, s.created_at, s.last_seen_at, s.pending_step, \
                u.display_name, u.kind, u.staff_role, u.access, u.patient_id \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.ended_at IS NULL",
    )
    .bind(&id_hash)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(Resolution::Invalid) };
    let ResolveRow { public_id, user_id, created_at, last_seen_at, pending_step, display_name, kind, staff_role, access, patient_id } = row;
    if access != "active" {
        return Ok(Resolution::Invalid);
    }
    if let Some(reason) = expiry(policy, created_at, last_seen_at, now) {
        return Ok(Resolution::Expired { id_hash, user_id, reason });
    }
    let Some(kind) = kind_from_row(&kind, staff_role.as_deref()) else { return Ok(Resolution::Invalid) };
    Ok(Resolution::Active(ActiveSession {
        id_hash,
        public_id,
        viewer: Viewer { user_id, display_name, kind },
        created_at,
        last_seen_at,
        pending: pending_step.as_deref().and_then(PendingStep::parse),
        patient: patient_id.as_deref().and_then(crate::patients::PatientId::parse),
    }))
}

/// Sets (or clears) the step the session must take next.
pub async fn set_pending(tx: &mut Tx, id_hash: &str, step: Option<PendingStep>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET pending_step = $1 WHERE id_hash = $2").bind(step.map(PendingStep::as_str)).bind(id_hash).execute(&mut **tx).await?;
    Ok(())
}

/// The rule of SPEC R-SES-2: idle too long, or open too long in all.
pub fn expiry(policy: &SessionPolicy, created_at: i64, last_seen_at: i64, now: i64) -> Option<EndReason> {
    if now - created_at >= policy.absolute_timeout.as_millis() as i64 {
        Some(EndReason::AbsoluteTimeout)
    } else if now - last_seen_at >= policy.idle_timeout.as_millis() as i64 {
        Some(EndReason::IdleTimeout)
    } else {
        None
    }
}

pub fn status(session: &ActiveSession, policy: &SessionPolicy, now: i64) -> SessionTimeLeft {
    let idle_end = session.last_seen_at + policy.idle_timeout.as_millis() as i64;
    let absolute_end = session.created_at + policy.absolute_timeout.as_millis() as i64;
    let left_ms = idle_end.min(absolute_end) - now;
    // Rounded up: the page must not count down to zero before the server does.
    SessionTimeLeft { remaining_secs: (left_ms.max(0) as u64).div_ceil(1000) }
}

/// Records activity; cheap when the session was touched a moment ago.
pub async fn touch_if_stale(db: &Db, session: &ActiveSession, now: i64) -> Result<(), sqlx::Error> {
    if now - session.last_seen_at >= TOUCH_GRANULARITY_MS {
        touch(db, &session.id_hash, now).await?;
    }
    Ok(())
}

pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND ended_at IS NULL").bind(now).bind(id_hash).execute(&db.pool).await?;
    Ok(())
}

/// Ends one session and audits it, unless something else ended it first.
pub async fn end(tx: &mut Tx, id_hash: &str, user_id: &UserId, reason: EndReason, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id_hash = $3 AND ended_at IS NULL")
        .bind(now)
        .bind(reason.as_str())
        .bind(id_hash)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    if ended {
        let action = match reason {
            EndReason::SignedOut => AuditAction::SignOut,
            EndReason::IdleTimeout | EndReason::AbsoluteTimeout => AuditAction::SessionTimeout,
            EndReason::AccessEnded | EndReason::EndedByUser | EndReason::PasswordChanged => AuditAction::SessionEnded,
        };
        audit::record(
            tx,
            AuditEvent { actor: Some(user_id), subject: Some(user_id), client_addr, detail: Some(reason.as_str()), ..AuditEvent::of(action) },
            now,
        )
        .await?;
    }
    Ok(ended)
}

/// Ends every open session of `user_id` except the one whose digest is `except`; returns how
/// many ended.
pub async fn end_all_of(
    tx: &mut Tx,
    user_id: &UserId,
    except: Option<&str>,
    reason: EndReason,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let id_hashes: Vec<String> =
        sqlx::query_scalar("SELECT id_hash FROM sessions WHERE user_id = $1 AND ended_at IS NULL").bind(user_id.as_str()).fetch_all(&mut **tx).await?;
    let mut ended = 0;
    for id_hash in id_hashes {
        if Some(id_hash.as_str()) == except {
            continue;
        }
        if end(tx, &id_hash, user_id, reason, client_addr, now).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// An open session, as its owner sees it in the list of their sessions.
#[derive(sqlx::FromRow)]
pub struct OpenSession {
    pub public_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn open_sessions_of(db: &Db, user_id: &UserId, policy: &SessionPolicy, now: i64) -> Result<Vec<OpenSession>, sqlx::Error> {
    let sessions: Vec<OpenSession> = sqlx::query_as(
        "SELECT public_id, created_at, last_seen_at, client_addr, user_agent FROM sessions \
         WHERE user_id = $1 AND ended_at IS NULL ORDER BY last_seen_at DESC",
    )
    .bind(user_id.as_str())
    .fetch_all(&db.pool)
    .await?;
    Ok(sessions.into_iter().filter(|s| expiry(policy, s.created_at, s.last_seen_at, now).is_none()).collect())
}

/// Ends every session that has run out of time (the background worker calls this), so that a
/// session left open in a closed tab is ended and audited on time, not when it is next seen.
#[tracing::instrument(skip_all)]
pub async fn end_expired(db: &Db, policy: &SessionPolicy, now: i64) -> Result<usize, sqlx::Error> {
    let idle_cutoff = now - policy.idle_timeout.as_millis() as i64;
    let absolute_cutoff = now - policy.absolute_timeout.as_millis() as i64;
    #[derive(sqlx::FromRow)]
    struct ExpiringRow {
        id_hash: String,
        user_id: UserId,
        created_at: i64,
        last_seen_at: i64,
    }
    let rows: Vec<ExpiringRow> = sqlx::query_as(
        "SELECT id_hash, user_id, created_at, last_seen_at FROM sessions \
         WHERE ended_at IS NULL AND (last_seen_at <= $1 OR created_at <= $2) LIMIT 500",
    )
    .bind(idle_cutoff)
    .bind(absolute_cutoff)
    .fetch_all(&db.pool)
    .await?;
    let mut ended = 0;
    for row in rows {
        let reason = expiry(policy, row.created_at, row.last_seen_at, now).unwrap_or(EndReason::IdleTimeout);
        let mut tx = db.begin_write().await?;
        if end(&mut tx, &row.id_hash, &row.user_id, reason, None, now).await? {
            ended += 1;
        }
        tx.commit().await?;
    }
    Ok(ended)
}

/// The `Set-Cookie` value for the session: the secret, or a removal when `None`.
pub fn session_cookie(settings: &crate::settings::PortalSettings, secret: Option<&str>) -> http::HeaderValue {
    let name = settings.session_cookie_name();
    let secure = if settings.secure_cookies { "; Secure" } else { "" };
    let cookie = match secret {
        // No Max-Age: the cookie goes when the browser closes; the server ends it sooner.
        Some(secret) => format!("{name}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    http::HeaderValue::from_str(&cookie).expect("cookie of URL-safe characters")
}

/// The `Set-Cookie` value that marks this browser as one that has signed in to the account
/// before (see `sign_in::throttle`). It carries no personal data.
pub fn device_cookie(settings: &crate::settings::PortalSettings, secret: &str) -> http::HeaderValue {
    let name = settings.device_cookie_name();
    let secure = if settings.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{name}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}");
    http::HeaderValue::from_str(&cookie).expect("cookie of URL-safe characters")
}

/// The `Set-Cookie` value of a short-lived cookie that carries one step of a form to the next
/// (e.g. from "enter your code" to "choose your user ID"); a removal when `value` is `None`.
pub fn step_cookie(settings: &crate::settings::PortalSettings, base: &str, value: Option<&str>, max_age_secs: u64) -> http::HeaderValue {
    let name = settings.cookie_name(base);
    let secure = if settings.secure_cookies { "; Secure" } else { "" };
    let cookie = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    http::HeaderValue::from_str(&cookie).expect("cookie of URL-safe characters")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy() -> SessionPolicy {
        SessionPolicy { idle_timeout: Duration::from_secs(15 * 60), idle_warning: Duration::from_secs(60), absolute_timeout: Duration::from_secs(12 * 3600) }
    }

    #[test]
    fn a_session_ends_after_fifteen_idle_minutes() {
        let min = 60_000;
        assert_eq!(expiry(&policy(), 0, 0, 15 * min - 1), None);
        assert_eq!(expiry(&policy(), 0, 0, 15 * min), Some(EndReason::IdleTimeout));
    }

    #[test]
    fn activity_does_not_extend_a_session_past_twelve_hours() {
        let hour = 3_600_000;
        let now = 12 * hour;
        assert_eq!(expiry(&policy(), 0, now - 1000, now), Some(EndReason::AbsoluteTimeout));
        assert_eq!(expiry(&policy(), 0, now - 1000, now - 1), None);
    }
}
