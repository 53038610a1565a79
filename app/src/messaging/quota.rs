//! A patient's message limits (issue 14, point 5): messages per day and attachment bytes per
//! month, in the clinic's calendar (a day from midnight, a month from the 1st), so that one
//! account cannot fill the care team's inboxes or the database. The front desk and
//! administrators can lift them for a day, with a reason (recorded and audited): from then on,
//! for 24 hours, only what the patient sends after the lift counts, so the patient gets a fresh
//! allowance rather than none at all.
//!
//! The check runs inside the sending transaction, after the patient's row is locked (PostgreSQL)
//! or with the database's write lock held (SQLite): messages sent at the same moment are counted
//! one after the other, so concurrent sends cannot pass the limit together.

use super::QuotaStatus;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::patients::PatientId;
use crate::platform::db::Db;
use crate::platform::tokens;
use crate::settings::MessagingPolicy;
use crate::types::UserId;
use std::net::IpAddr;

/// How long a lift lasts.
pub const LIFT_MS: i64 = 24 * 60 * 60 * 1000;

/// The clinic's day and month around `now`: (day start, next day start, month start, next month
/// start), in milliseconds.
pub fn windows(zone: &jiff::tz::TimeZone, now: i64) -> (i64, i64, i64, i64) {
    let start = |d: jiff::civil::Date| d.to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond());
    let today = jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(zone.clone()).date()).unwrap_or_default();
    let day = start(today).unwrap_or(now);
    let next_day = today.tomorrow().ok().and_then(|d| start(d).ok()).unwrap_or(now + LIFT_MS);
    let month = start(today.first_of_month()).unwrap_or(day);
    let next_month = today.last_of_month().tomorrow().ok().and_then(|d| start(d).ok()).unwrap_or(next_day);
    (day, next_day, month, next_month)
}

/// Where the patient stands at `now`: messages sent today, attachment bytes sent this month
/// (both since an active lift, when there is one), the limits and when they reset.
pub async fn status(conn: &mut sqlx::AnyConnection, policy: &MessagingPolicy, patient: &PatientId, now: i64) -> Result<QuotaStatus, sqlx::Error> {
    let zone = &policy.time_zone;
    #[derive(sqlx::FromRow)]
    struct LiftRow {
        lifted_at: i64,
        ends_at: i64,
        reason: String,
        display_name: String,
    }
    #[derive(sqlx::FromRow)]
    struct UsedRow {
        messages: i64,
        bytes: i64,
    }
    let (day, next_day, month, next_month) = windows(zone, now);
    let lift: Option<LiftRow> = sqlx::query_as(
        "SELECT l.lifted_at, l.ends_at, l.reason, u.display_name FROM message_quota_lifts l JOIN users u ON u.id = l.lifted_by \
         WHERE l.patient_id = $1 AND l.lifted_at <= $2 AND l.ends_at > $2 ORDER BY l.lifted_at DESC, l.id LIMIT 1",
    )
    .bind(patient.as_str())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let lifted_at = lift.as_ref().map(|l| l.lifted_at);
    let since_day = lifted_at.map_or(day, |l| l.max(day));
    let since_month = lifted_at.map_or(month, |l| l.max(month));
    let used: UsedRow = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM messages m WHERE m.author_kind = 'patient' AND m.sent_at >= $2 \
                   AND m.author_id IN (SELECT id FROM users WHERE patient_id = $1)) AS messages, \
                (SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) FROM attachments a JOIN messages m ON m.id = a.message_id \
                   WHERE m.author_kind = 'patient' AND m.sent_at >= $3 AND m.author_id IN (SELECT id FROM users WHERE patient_id = $1)) AS bytes",
    )
    .bind(patient.as_str())
    .bind(since_day)
    .bind(since_month)
    // (SUM of a BIGINT is NUMERIC on PostgreSQL: cast back to read it as a whole number.)
    .fetch_one(&mut *conn)
    .await?;
    let text = |at: i64| super::server::local_text(zone, at);
    Ok(QuotaStatus {
        messages_per_day: policy.messages_per_day,
        messages_today: used.messages,
        bytes_per_month: policy.attachment_bytes_per_month as i64,
        bytes_this_month: used.bytes,
        day_resets: text(next_day),
        month_resets: text(next_month),
        lifted: lift.map(|l| (text(l.ends_at), l.display_name, l.reason)),
    })
}

/// Why a lift was refused.
#[derive(Debug, thiserror::Error)]
pub enum LiftError {
    #[error("Please give a reason (at most 300 characters).")]
    Reason,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Lifts the patient's limits for a day (see the module): recorded with who, when and why, and
/// audited under its own action.
pub async fn lift(db: &Db, staff: &UserId, patient: &PatientId, reason: &str, client_addr: Option<IpAddr>, now: i64) -> Result<(), LiftError> {
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(LiftError::Reason);
    }
    let mut tx = db.begin_write().await?;
    if sqlx::query("SELECT id FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut *tx).await?.is_none() {
        return Err(LiftError::NotFound);
    }
    sqlx::query("INSERT INTO message_quota_lifts (id, patient_id, lifted_by, lifted_at, ends_at, reason) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tokens::new_id())
        .bind(patient.as_str())
        .bind(staff.as_str())
        .bind(now)
        .bind(now + LIFT_MS)
        .bind(&reason)
        .execute(&mut *tx)
        .await?;
    let subject = crate::users::for_patient(&mut *tx, patient).await?;
    let mut event = AuditEvent::of(AuditAction::MessageQuotaLifted);
    event.actor = Some(staff);
    event.subject = subject.as_ref();
    event.record_type = Some("patient");
    event.record_id = Some(patient.as_str());
    event.client_addr = client_addr;
    event.detail = Some("for a day");
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Zoned>().unwrap().timestamp().as_millisecond()
    }

    #[test]
    fn days_and_months_are_the_clinics() {
        let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
        // 23:30 in New York on Jan 31 is already Feb 1 in UTC: still January's day and month.
        let (day, next_day, month, next_month) = windows(&zone, ms("2026-01-31T23:30[America/New_York]"));
        assert_eq!(day, ms("2026-01-31T00:00[America/New_York]"));
        assert_eq!(next_day, ms("2026-02-01T00:00[America/New_York]"));
        assert_eq!(month, ms("2026-01-01T00:00[America/New_York]"));
        assert_eq!(next_month, ms("2026-02-01T00:00[America/New_York]"));
        // December rolls into the next year; a day of the clocks changing is still one day.
        let (_, _, _, next_month) = windows(&zone, ms("2026-12-15T12:00[America/New_York]"));
        assert_eq!(next_month, ms("2027-01-01T00:00[America/New_York]"));
        let (day, next_day, ..) = windows(&zone, ms("2026-03-08T12:00[America/New_York]"));
        assert_eq!(next_day - day, 23 * 3_600_000);
    }
}
