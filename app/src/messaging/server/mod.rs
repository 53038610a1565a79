//! Messaging rules and storage. Every function that reads or writes a conversation takes the
//! person asking and checks that the conversation is theirs: a patient's own threads; for staff,
//! the minimum-necessary rule of [`staff_reads_thread_sql`] (what was sent their way, and for
//! clinicians of the patient's care team its clinical conversations). Nothing here updates what
//! a message says or deletes one.
//!
//! - `access.rs`: the minimum-necessary rule (who among staff reads a conversation).
//! - `patient.rs`: sending, the patient's conversations, drafts, e-mail notice choice.
//! - `staff.rs`: inboxes, replying, starting a conversation, marking handled.
//! - `routing.rs`: out-of-office cover and forwarding.
//! - `threads.rs`: opening a conversation (either side) and downloading an attachment.
//! - here: what they share (recipients, names, times, the calendar, the thread row).

use super::attachments::CheckedFile;
use super::business_days::BusinessCalendar;
use super::*;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::tokens;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

mod access;
mod patient;
mod routing;
mod staff;
mod threads;

pub use access::{care_team_clinician_sql, clinician_of_care_team, staff_may_see, staff_may_write_to, staff_reads_thread_sql};
pub use patient::{
    discard_draft, draft, notice_mode, patient_threads, save_draft, send_from_patient, set_notice_mode, unread_count, NewPatientMessage, SendError,
};
pub use routing::{forward, forward_options, reroute_started_absences, route};
pub use staff::{mark_handled, reply_from_staff, staff_inbox, staff_patient_threads, staff_patients, start_from_staff, StaffActionError};
pub use threads::{attachment, open_thread};

/// A moment as the clinic's people read it: "Tue Nov 24, 2026, 10:02 AM".
pub fn local_text(zone: &jiff::tz::TimeZone, at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms).map(|t| t.to_zoned(zone.clone()).strftime("%a %b %-d, %Y, %-I:%M %p").to_string()).unwrap_or_default()
}

/// The patient record of a patient account.
pub async fn patient_of(db: &Db, user: &UserId) -> Result<Option<PatientId>, sqlx::Error> {
    crate::users::patient_of(&db.pool, user).await
}

/// The organisation's calendar as it stands now (holidays from the database).
pub async fn calendar(conn: &mut sqlx::AnyConnection, settings: &PortalSettings) -> Result<BusinessCalendar, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT day FROM holidays").fetch_all(&mut *conn).await?;
    let days = rows.iter().filter_map(|d| d.parse::<jiff::civil::Date>().ok());
    let m = &settings.messaging;
    Ok(BusinessCalendar::new(m.time_zone.clone(), m.business_day_closes, days))
}

/// The providers and pools a patient may write to, providers first.
pub async fn recipients(db: &Db, patient: &PatientId) -> Result<Vec<RecipientOption>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    recipients_in(&mut conn, patient).await
}

/// [`recipients`] on a connection already held (a transaction must not wait for a second
/// connection of the pool: with every connection held by transactions waiting for the same
/// lock, it would never get one).
async fn recipients_in(conn: &mut sqlx::AnyConnection, patient: &PatientId) -> Result<Vec<RecipientOption>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct OptionRow {
        kind: String,
        id: String,
        name: String,
    }
    let rows: Vec<OptionRow> = sqlx::query_as(
        "SELECT 'provider' AS kind, u.id AS id, u.display_name AS name, 0 AS ord FROM care_team t JOIN users u ON u.id = t.provider_id \
           WHERE t.patient_id = $1 AND u.access = 'active' \
         UNION ALL \
         SELECT 'pool' AS kind, p.id AS id, p.name AS name, 1 AS ord FROM care_team t JOIN care_pools p ON p.id = t.pool_id \
           WHERE t.patient_id = $1 \
         ORDER BY ord, name",
    )
    .bind(patient.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let recipient = if r.kind == "provider" { Recipient::Provider(r.id) } else { Recipient::Pool(r.id) };
            RecipientOption { recipient, name: r.name }
        })
        .collect())
}

/// The name of a provider or a pool.
async fn name_of(conn: &mut sqlx::AnyConnection, r: &Recipient) -> Result<String, sqlx::Error> {
    let name: Option<String> = match r {
        Recipient::Provider(id) => sqlx::query_scalar("SELECT display_name AS name FROM users WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?,
        Recipient::Pool(id) => sqlx::query_scalar("SELECT name FROM care_pools WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?,
    };
    Ok(name.unwrap_or_else(|| "(removed)".into()))
}

fn recipient_from(provider: Option<String>, pool: Option<String>) -> Option<Recipient> {
    match (provider, pool) {
        (Some(p), _) => Some(Recipient::Provider(p)),
        (None, Some(p)) => Some(Recipient::Pool(p)),
        (None, None) => None,
    }
}

fn columns(r: &Recipient) -> (Option<&str>, Option<&str>) {
    match r {
        Recipient::Provider(id) => (Some(id.as_str()), None),
        Recipient::Pool(id) => (None, Some(id.as_str())),
    }
}

/// A line of a thread list, for the patient (`unread`, `overdue`) or staff (`waiting`); the
/// counts the other side does not ask for are absent from its query.
#[derive(sqlx::FromRow)]
struct ThreadRow {
    id: ThreadId,
    subject: String,
    /// The stored value; a topic that no longer parses is shown as stored.
    topic: String,
    last_message_at: i64,
    #[sqlx(default)]
    unread: i64,
    #[sqlx(default)]
    overdue: i64,
    #[sqlx(default)]
    waiting: i64,
    /// Whom the patient first wrote to (a provider or a pool).
    to_name: Option<String>,
    /// The first staff member who wrote in the thread.
    staff_name: Option<String>,
}

/// A patient's name and record number, as staff see them beside a conversation.
#[derive(sqlx::FromRow)]
struct PatientNameRow {
    given_name: String,
    family_name: String,
    mrn: String,
}

impl PatientNameRow {
    fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

fn topic_label(s: &str) -> String {
    Topic::parse(s).map(|t| t.label().to_string()).unwrap_or_else(|| s.to_string())
}

/// Who is reading a thread.
pub enum Reader<'a> {
    Patient { user: &'a UserId, patient: &'a PatientId },
    Staff { user: &'a UserId },
}
