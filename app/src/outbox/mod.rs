//! The e-mail outbox (infrastructure for SPEC R-MSG-6). A notice is written to the `outbox`
//! table in the same transaction as its cause; the server's background worker delivers it.
//! Every notice says only that something is waiting in the portal: no health information, no
//! subject line of a message, no amount, one recipient per e-mail.
//!
//! - `notice.rs`: the kinds of notice and their texts.
//! - here: the queue (enqueue, the daily notice, claims with leases, retries, giving up).

mod notice;

pub use notice::{Notice, RenderedMail, SessionsAfterChange};

use crate::patients::PatientId;
use crate::platform::db::{Db, Tx};
use crate::platform::tokens;
use crate::settings::PortalSettings;

/// A notice claimed for delivery.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub notice: Option<Notice>,
    pub attempts: i64,
}

/// Queues the notice that something new waits in the portal for a patient (a message, a
/// statement, …): `notice` at once, or the next daily notice when the patient chose that (one
/// per day however many things are new). Nothing when the patient has no active account with an
/// e-mail address; the answer says whether the patient will be told.
pub async fn notify_patient(tx: &mut Tx, settings: &PortalSettings, patient: &PatientId, notice: &Notice, now: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(Option<String>, String)> = sqlx::query_as("SELECT u.email, u.notices FROM users u WHERE u.patient_id = $1 AND u.access = 'active'")
        .bind(patient.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let Some((email, notices)) = row else { return Ok(false) };
    let Some(email) = email.filter(|e| !e.is_empty()) else { return Ok(false) };
    use crate::messaging::NoticeMode;
    match NoticeMode::parse(&notices).unwrap_or(NoticeMode::Immediate) {
        NoticeMode::Immediate => enqueue(tx, &email, notice, now).await.map(|_| true),
        NoticeMode::Daily => {
            let waiting: Option<String> =
                sqlx::query_scalar("SELECT id FROM outbox WHERE recipient = $1 AND notice = $2 AND sent_at IS NULL AND failed_at IS NULL")
                    .bind(&email)
                    .bind(Notice::DailySummary.kind())
                    .fetch_optional(&mut **tx)
                    .await?;
            if waiting.is_some() {
                return Ok(true);
            }
            let at = next_daily_notice(settings, now);
            enqueue_at(tx, &email, &Notice::DailySummary, now, at).await.map(|_| true)
        }
    }
}

/// The next daily notice time after `now`, in the clinic's time zone.
pub fn next_daily_notice(settings: &PortalSettings, now: i64) -> i64 {
    let zone = settings.messaging.time_zone.clone();
    let local = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
    let mut day = local.date();
    if local.time() >= settings.messaging.daily_notice_at {
        day = day.tomorrow().unwrap_or(day);
    }
    day.to_datetime(settings.messaging.daily_notice_at).to_zoned(zone).map(|z| z.timestamp().as_millisecond()).unwrap_or(now)
}

pub async fn enqueue(tx: &mut Tx, recipient: &str, notice: &Notice, now: i64) -> Result<(), sqlx::Error> {
    enqueue_at(tx, recipient, notice, now, now).await
}

/// Queues a notice to be sent no earlier than `send_at` (e.g. the daily notice).
pub async fn enqueue_at(tx: &mut Tx, recipient: &str, notice: &Notice, now: i64, send_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (id, recipient, notice, payload, created_at, next_attempt_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, 0)")
        .bind(tokens::new_id())
        .bind(recipient)
        .bind(notice.kind())
        .bind(notice.payload())
        .bind(now)
        .bind(send_at.max(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    recipient: String,
    notice: String,
    payload: Option<String>,
    attempts: i64,
}

/// Claims up to `limit` due notices for `worker` until `lease_until`. Safe with several workers
/// on several app servers: a row is claimed only while unclaimed (or its lease has run out), and
/// the condition is checked again on the row itself, so two workers never hold the same row.
pub async fn claim(db: &Db, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ClaimedRow>(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
                      AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_attempt_at LIMIT $4) \
           AND sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
         RETURNING id, recipient, notice, payload, attempts",
    )
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| Claimed { notice: Notice::from_parts(&r.notice, r.payload), id: r.id, recipient: r.recipient, attempts: r.attempts }).collect())
}

pub async fn mark_sent(db: &Db, id: &str, worker: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL, payload = NULL WHERE id = $2 AND claimed_by = $3")
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How long a claim holds a notice. A worker renews it (`renew`) just before it sends each
/// notice of its batch, and a send is given up after `SEND_TIME_LIMIT`, so the lease always
/// outlives the send it covers: another app server cannot claim the notice and send it again
/// while this one is still talking to the relay, however slow the batch before it was.
pub const LEASE_MS: i64 = 2 * 60_000;
/// The longest a worker waits for the relay to take one message.
pub const SEND_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Tries after which a notice is given up, whatever the failure: with the back-off below, about
/// five hours of a relay refusing it.
pub const MAX_ATTEMPTS: i64 = 10;
/// Tries after which a notice the relay refused for good (a 5xx answer, an address that is not
/// one) is given up: the same answer again is not worth an hour's wait.
pub const MAX_ATTEMPTS_REFUSED_FOR_GOOD: i64 = 3;

/// Why a notice was not delivered: a short description of the failure's kind (never the
/// message), and whether the same try could succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relay was busy or unreachable, the send took too long: worth trying again.
    ForNow(&'static str),
    /// The relay refused the message for good, or it cannot be built (an address that is not
    /// one, a notice whose secret is gone).
    ForGood(&'static str),
}

impl Failure {
    pub fn describe(&self) -> &'static str {
        match self {
            Failure::ForNow(what) | Failure::ForGood(what) => what,
        }
    }

    /// Whether a notice that has now been tried `attempts` times is given up.
    pub fn gives_up_after(&self, attempts: i64) -> bool {
        match self {
            Failure::ForNow(_) => attempts >= MAX_ATTEMPTS,
            Failure::ForGood(_) => attempts >= MAX_ATTEMPTS_REFUSED_FOR_GOOD,
        }
    }
}

/// What became of a notice that was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Put back for a later try.
    Retried,
    /// Given up: its secret (a link's token, a code) wiped, shown on the security page.
    GaveUp,
}

/// Holds this worker's claim on a notice until `until`, just before sending it. False when the
/// claim is no longer this worker's (its lease ran out and another worker may have it, or it was
/// sent or given up meanwhile): the notice is then left alone.
pub async fn renew(db: &Db, id: &str, worker: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 AND claimed_until >= $4 \
         AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(until)
    .bind(id)
    .bind(worker)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed try of a notice tried `attempts` times: put back for a later try with
/// back-off, or, past the tries its failure allows, given up for good with its secret wiped.
pub async fn mark_failed(db: &Db, id: &str, worker: &str, attempts: i64, failure: Failure, now: i64) -> Result<AfterFailure, sqlx::Error> {
    if failure.gives_up_after(attempts) {
        sqlx::query("UPDATE outbox SET claimed_until = NULL, failed_at = $1, payload = NULL, last_error = $2 WHERE id = $3 AND claimed_by = $4")
            .bind(now)
            .bind(failure.describe())
            .bind(id)
            .bind(worker)
            .execute(&db.pool)
            .await?;
        return Ok(AfterFailure::GaveUp);
    }
    sqlx::query("UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4")
        .bind(now + retry_delay_ms(attempts))
        .bind(failure.describe())
        .bind(id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(AfterFailure::Retried)
}

#[derive(sqlx::FromRow)]
struct GivenUpRow {
    notice: String,
    recipient: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    failed_at: i64,
    login: Option<String>,
    display_name: Option<String>,
}

/// Notices given up since `since`, latest first.
pub async fn given_up(db: &Db, since: i64, limit: i64) -> Result<Vec<crate::security::NoticeGivenUp>, sqlx::Error> {
    let rows = sqlx::query_as::<_, GivenUpRow>(
        "SELECT o.notice, o.recipient, o.attempts, o.last_error, o.created_at, o.failed_at, \
                (SELECT u.login FROM users u WHERE u.email = o.recipient ORDER BY u.login LIMIT 1) AS login, \
                (SELECT u.display_name FROM users u WHERE u.email = o.recipient ORDER BY u.login LIMIT 1) AS display_name \
         FROM outbox o WHERE o.failed_at IS NOT NULL AND o.failed_at > $1 ORDER BY o.failed_at DESC, o.id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| crate::security::NoticeGivenUp {
            kind: r.notice,
            recipient: r.recipient,
            account: r.login.zip(r.display_name),
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            failed_at: r.failed_at,
        })
        .collect())
}

/// Releases this worker's claims (at shutdown), so another worker can send them at once.
pub async fn release(db: &Db, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET claimed_until = NULL WHERE claimed_by = $1 AND sent_at IS NULL").bind(worker).execute(&db.pool).await?;
    Ok(())
}

/// The wait before the next try after `attempts` failed ones: 1, 2, 4 … minutes, at most an
/// hour (until the notice is given up: `MAX_ATTEMPTS`).
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let minutes = 1i64 << attempts.clamp(1, 7).saturating_sub(1);
    minutes.min(60) * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, point 11: a claim outlives the send it covers, and a notice is given up after
    /// a bounded number of tries (fewer when refused for good).
    #[test]
    fn a_lease_outlives_a_send_and_tries_are_bounded() {
        assert!(LEASE_MS > SEND_TIME_LIMIT.as_millis() as i64 + 30_000, "room for the database writes around a send");
        let for_now = Failure::ForNow("relay refused for now");
        let for_good = Failure::ForGood("relay refused permanently");
        assert!(!for_now.gives_up_after(MAX_ATTEMPTS - 1) && for_now.gives_up_after(MAX_ATTEMPTS));
        assert!(!for_good.gives_up_after(2) && for_good.gives_up_after(3));
        let waited: i64 = (1..MAX_ATTEMPTS).map(retry_delay_ms).sum();
        assert!(waited > 3 * 3_600_000 && waited < 8 * 3_600_000, "a relay down for a few hours does not lose notices: {waited}");
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_ms(1), 60_000);
        assert_eq!(retry_delay_ms(2), 120_000);
        assert_eq!(retry_delay_ms(4), 480_000);
        assert_eq!(retry_delay_ms(100), 3_600_000);
    }
}
