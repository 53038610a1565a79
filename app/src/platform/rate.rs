//! Limits, counted in the database so that they hold across app servers.
//!
//! - Uses (`take`): forms anyone can submit without signing in (enrolment requests, activation
//!   codes, e-mailed links) and the e-mail links a signed-in account asks for: how many times a client address (or an account, by digest) may use
//!   one in a window. A use is counted whether or not it succeeded, so the limit says nothing
//!   about which attempts matched a real person.
//! - Guarded checks (`take_place`, `settle`): checks of something secret (a second-step code or
//!   passkey answer, a password typed again) where only failures count. A check takes its place
//!   before it is made and is marked after; until then it counts as a failure. Reading the count
//!   before the check and writing the failure after would let guesses sent all at once all be
//!   checked.

use super::db::Tx;
use std::net::IpAddr;
use std::time::Duration;

/// The "address" every per-address limit counts (sign-in failures, enrolment requests,
/// activation attempts, recovery forms, passkey sign-ins begun): an IPv4 address as it is, an
/// IPv6 address by its /64 network. One IPv6 subscriber is usually given a whole /64 (2^64
/// addresses); counting each address apart would let one person step round every limit.
/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) counts as that IPv4 address.
pub fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let network = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
    }
}

/// [`address_key`], or `unknown` when the server could not tell the address (all such requests
/// then share one budget).
pub fn address_subject(addr: Option<IpAddr>) -> String {
    addr.map(address_key).unwrap_or_else(|| "unknown".into())
}

/// Makes concurrent users of one subject (`kind` names the counter, never one of [`RateKind`]'s
/// strings unless it is that counter) wait for each other until the caller's transaction ends:
/// the upsert takes the subject's row lock on PostgreSQL; on SQLite the write transaction
/// already holds the database. For counters kept outside `rate_events` (sign-in attempts).
pub async fn lock_subject(tx: &mut Tx, kind: &str, subject: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rate_subjects (kind, subject, last_at) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, subject) DO UPDATE SET last_at = excluded.last_at",
    )
    .bind(kind)
    .bind(subject)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

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
    /// User-ID answers (available or taken) during one activation: the checks made as the patient
    /// types and the form itself, counted per activation code.
    UserIdCheck,
    /// E-mail confirmation links an account asks for (changes of address, the link sent again),
    /// so that a signed-in session cannot flood an address, or the account's own, with mail.
    EmailChange,
    /// Passkey sign-ins begun from one address: each stores a ceremony for five minutes, so an
    /// unlimited number would let anyone fill the database.
    PasskeySignIn,
    /// Passkey ceremonies begun by one account's sessions held for their second step (each
    /// stores a ceremony for five minutes).
    PasskeyStep,
}

impl RateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RateKind::EnrolmentRequest => "enrolment-request",
            RateKind::Activation => "activation",
            RateKind::RecoveryByAddress => "recovery-address",
            RateKind::RecoveryByAccount => "recovery-account",
            RateKind::UserIdCheck => "user-id-check",
            RateKind::EmailChange => "email-change",
            RateKind::PasskeySignIn => "passkey-sign-in",
            RateKind::PasskeyStep => "passkey-step",
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
            RateKind::EmailChange => RateLimit { max: 5, window: hour },
            // Generous: a clinic's or a household's devices may share one address.
            RateKind::PasskeySignIn => RateLimit { max: 120, window: hour },
            RateKind::PasskeyStep => RateLimit { max: 30, window: hour },
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
    // One subject's uses are counted one at a time, so simultaneous requests cannot all read
    // the same count and all pass.
    lock_subject(tx, kind.as_str(), subject, now).await?;
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM rate_events WHERE kind = $1 AND subject = $2 AND at > $3")
        .bind(kind.as_str())
        .bind(subject)
        .bind(since)
        .fetch_one(&mut **tx)
        .await?;
    if !limit.allows(used as u32) {
        return Ok(false);
    }
    sqlx::query("INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)").bind(kind.as_str()).bind(subject).bind(now).execute(&mut **tx).await?;
    Ok(true)
}

/// What a guarded check checks; each kind has its own count per subject (a user).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// A code or a passkey answer from a session waiting for its second sign-in step.
    SecondStep,
    /// The password typed again by someone signed in, before a change that needs it.
    PasswordAgain,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::SecondStep => "second-step",
            CheckKind::PasswordAgain => "password-again",
        }
    }
    /// Its lock in `rate_subjects`, apart from the uses of `RateKind`.
    fn lock_kind(self) -> &'static str {
        match self {
            CheckKind::SecondStep => "check:second-step",
            CheckKind::PasswordAgain => "check:password-again",
        }
    }
}

/// How many failed checks a subject may have.
#[derive(Clone, Copy, Debug)]
pub enum CheckLimit {
    /// At most `max` failures within `window`, successes or not; past that, nothing is checked
    /// until the oldest failure leaves the window.
    Cap { max: u32, window: Duration },
    /// As sign-in: free failures, then each further check waits twice as long as the one
    /// before, up to a cap (never a lock-out); a success starts the count again.
    Throttle(super::throttle::ThrottlePolicy),
}

/// A check's place, taken before the check: counted as a failure until `settle` marks it.
#[derive(Debug)]
#[must_use = "a place is counted as a failure until it is settled"]
pub struct Place {
    id: String,
}

/// Takes the place of one check of `kind` for `subject`, in the caller's write transaction (the
/// place is visible once it commits); `Err(wait)` when the limit is reached: nothing may be
/// checked for `wait`. Whatever the number of requests at once and of servers, at most the
/// limit's number of places are taken.
pub async fn take_place(tx: &mut Tx, kind: CheckKind, subject: &str, limit: CheckLimit, now: i64) -> Result<Result<Place, Duration>, sqlx::Error> {
    lock_subject(tx, kind.lock_kind(), subject, now).await?;
    /// The failed checks since a time: how many, the oldest and the latest.
    #[derive(sqlx::FromRow)]
    struct FailuresRow {
        n: i64,
        oldest: Option<i64>,
        latest: Option<i64>,
    }
    let failures_since = |since: i64| {
        sqlx::query_as::<_, FailuresRow>(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest, MAX(at) AS latest FROM guarded_checks \
             WHERE kind = $1 AND subject = $2 AND outcome <> 'succeeded' AND at > $3",
        )
        .bind(kind.as_str())
        .bind(subject)
        .bind(since)
    };
    let wait = match limit {
        CheckLimit::Cap { max, window } => {
            let failures = failures_since(now - window.as_millis() as i64).fetch_one(&mut **tx).await?;
            (failures.n >= max as i64).then(|| failures.oldest.unwrap_or(now) + window.as_millis() as i64 - now)
        }
        CheckLimit::Throttle(policy) => {
            let window_start = now - policy.window.as_millis() as i64;
            let last_success: Option<i64> =
                sqlx::query_scalar("SELECT MAX(at) AS at FROM guarded_checks WHERE kind = $1 AND subject = $2 AND outcome = 'succeeded'")
                    .bind(kind.as_str())
                    .bind(subject)
                    .fetch_one(&mut **tx)
                    .await?;
            let failures = failures_since(window_start.max(last_success.unwrap_or(i64::MIN))).fetch_one(&mut **tx).await?;
            let recent = super::throttle::RecentFailures { account_device: failures.n as u32, last_account_device_at: failures.latest, ..Default::default() };
            policy.wait(&recent, now).map(|d| d.as_millis() as i64)
        }
    };
    if let Some(wait_ms) = wait {
        return Ok(Err(Duration::from_millis(wait_ms.max(1) as u64)));
    }
    let id = super::tokens::new_id();
    sqlx::query("INSERT INTO guarded_checks (id, kind, subject, at, outcome) VALUES ($1, $2, $3, $4, 'pending')")
        .bind(&id)
        .bind(kind.as_str())
        .bind(subject)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(Ok(Place { id }))
}

/// Marks a check made: passed, or failed (it goes on counting).
pub async fn settle(tx: &mut Tx, place: Place, passed: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE guarded_checks SET outcome = $1 WHERE id = $2")
        .bind(if passed { "succeeded" } else { "failed" })
        .bind(&place.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Drops counts older than any window (run by the server's sweeper).
#[tracing::instrument(skip_all)]
pub async fn forget_old(db: &super::db::Db, now: i64) -> Result<u64, sqlx::Error> {
    let oldest_window = 24 * 3600 * 1000;
    let events = sqlx::query("DELETE FROM rate_events WHERE at < $1").bind(now - oldest_window).execute(&db.pool).await?.rows_affected();
    sqlx::query("DELETE FROM rate_subjects WHERE last_at < $1").bind(now - oldest_window).execute(&db.pool).await?;
    sqlx::query("DELETE FROM guarded_checks WHERE at < $1").bind(now - oldest_window).execute(&db.pool).await?;
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

    /// Point 6 of issue 14: per-address limits count an IPv6 /64 as one address.
    #[test]
    fn per_address_limits_count_an_ipv6_64_as_one_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), "2001:db8:1:2::/64");
        assert_eq!(address_key(a), address_key(b), "one /64, one budget");
        assert_ne!(address_key(a), address_key(other), "the next /64 is another address");
        assert_eq!(address_key("203.0.113.7".parse().unwrap()), "203.0.113.7");
        assert_ne!(address_key("203.0.113.7".parse().unwrap()), address_key("203.0.113.8".parse().unwrap()), "IPv4 counts each address");
        assert_eq!(address_key("::ffff:203.0.113.7".parse().unwrap()), "203.0.113.7", "IPv4 written as IPv6");
        assert_eq!(address_key("::1".parse().unwrap()), "::/64");
        assert_eq!(address_subject(None), "unknown");
        assert_eq!(address_subject(Some(b)), "2001:db8:1:2::/64");
    }

    #[test]
    fn recovery_mail_to_one_account_is_limited_hardest() {
        assert!(RateKind::RecoveryByAccount.limit().max < RateKind::RecoveryByAddress.limit().max);
    }
}
