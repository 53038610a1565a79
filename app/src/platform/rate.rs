//! Limits on forms anyone can submit without signing in (enrolment requests, activation codes,
//! e-mailed links): how many times a client address (or an account, by digest) may use one in a
//! window. A use is counted whether or not it succeeded, so the limit says nothing about which
//! attempts matched a real person.

use super::db::Tx;
use sqlx::Row;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

/// The anonymous uses the portal limits, each with its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateKind {
    /// Enrolment requests from one address.
    EnrolmentRequest,
    /// Activation attempts (code and birth date) from one address.
    Activation,
    /// Forgot-password / forgot-user-ID forms from one address.
    RecoveryByAddress,
    /// Recovery e-mails to one account, so that nobody can flood a patient's inbox.
    RecoveryByAccount,
    /// User-ID availability checks during one activation.
    UserIdCheck,
    /// Passkey sign-ins begun from one address: each stores a ceremony for five minutes, so an
    /// unlimited number would let anyone fill the database.
    PasskeySignIn,
}

impl RateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RateKind::EnrolmentRequest => "enrolment-request",
            RateKind::Activation => "activation",
            RateKind::RecoveryByAddress => "recovery-address",
            RateKind::RecoveryByAccount => "recovery-account",
            RateKind::UserIdCheck => "user-id-check",
            RateKind::PasskeySignIn => "passkey-sign-in",
        }
    }

    pub fn limit(self) -> RateLimit {
        let hour = Duration::from_secs(3600);
        match self {
            RateKind::EnrolmentRequest => RateLimit { max: 10, window: hour },
            RateKind::Activation => RateLimit { max: 20, window: hour },
            RateKind::RecoveryByAddress => RateLimit { max: 20, window: hour },
            RateKind::RecoveryByAccount => RateLimit { max: 3, window: hour },
            RateKind::UserIdCheck => RateLimit { max: 60, window: hour },
            // Generous: a clinic's or a household's devices may share one address.
            RateKind::PasskeySignIn => RateLimit { max: 120, window: hour },
        }
    }
}

impl RateLimit {
    /// Whether one more use is allowed when `used` uses fall in the window.
    pub fn allows(self, used: u32) -> bool {
        used < self.max
    }
}

/// Counts one use of `kind` by `subject` and says whether it was within the limit. Runs in the
/// caller's write transaction, so concurrent uses are counted one after another.
pub async fn take(tx: &mut Tx, kind: RateKind, subject: &str, now: i64) -> Result<bool, sqlx::Error> {
    let limit = kind.limit();
    let since = now - limit.window.as_millis() as i64;
    // One subject's uses are counted one at a time: the upsert locks its row (PostgreSQL), so
    // simultaneous requests cannot all read the same count and all pass.
    sqlx::query(
        "INSERT INTO rate_subjects (kind, subject, last_at) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, subject) DO UPDATE SET last_at = excluded.last_at",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let used: i64 = sqlx::query("SELECT COUNT(*) AS n FROM rate_events WHERE kind = $1 AND subject = $2 AND at > $3")
        .bind(kind.as_str())
        .bind(subject)
        .bind(since)
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
    if !limit.allows(used as u32) {
        return Ok(false);
    }
    sqlx::query("INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)")
        .bind(kind.as_str())
        .bind(subject)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// Drops counts older than any window (run by the server's sweeper).
pub async fn forget_old(db: &super::db::Db, now: i64) -> Result<u64, sqlx::Error> {
    let oldest_window = 24 * 3600 * 1000;
    let events = sqlx::query("DELETE FROM rate_events WHERE at < $1").bind(now - oldest_window).execute(&db.pool).await?.rows_affected();
    sqlx::query("DELETE FROM rate_subjects WHERE last_at < $1").bind(now - oldest_window).execute(&db.pool).await?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_allows_exactly_max_uses() {
        let l = RateLimit { max: 3, window: Duration::from_secs(60) };
        assert!(l.allows(0));
        assert!(l.allows(2));
        assert!(!l.allows(3));
    }

    #[test]
    fn recovery_mail_to_one_account_is_limited_hardest() {
        assert!(RateKind::RecoveryByAccount.limit().max < RateKind::RecoveryByAddress.limit().max);
    }
}
