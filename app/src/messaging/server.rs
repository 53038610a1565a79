//! Messaging rules and storage. Every function that reads or writes a conversation takes the
//! person asking and checks that the conversation is theirs: a patient's own threads; for staff,
//! the minimum-necessary rule of [`staff_reads_thread_sql`] (what was sent their way, and for
//! clinicians of the patient's care team its clinical conversations). Nothing here updates what
//! a message says or deletes one.

use super::attachments::CheckedFile;
use super::business_days::BusinessCalendar;
use super::*;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::settings::PortalSettings;
use crate::platform::tokens;
use crate::types::UserId;
use std::net::IpAddr;

/// Why a message could not be sent. The texts are for logs; what people read for each is on
/// the page (`patient_pages.rs`, `SendNotice`).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no recipient on the care team")]
    NoRecipient,
    #[error("no topic")]
    NoTopic,
    #[error("subject missing or too long")]
    Subject,
    #[error("body missing or too long")]
    Body,
    #[error("not acknowledged")]
    NotAcknowledged,
    #[error("{0}")]
    Attachment(#[from] super::attachments::AttachmentError),
    #[error("not found")]
    NotFound,
    #[error("the day's messages are used up")]
    DailyLimit,
    #[error("the month's attachment bytes are used up")]
    MonthlyBytes,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

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

/// Where a message to `to` goes at `now`: to the provider, or, while they are out of office,
/// to their cover (followed when the cover is out too, a few steps at most, never in a
/// circle). Returns the destination and, when it differs, why.
pub async fn route(conn: &mut sqlx::AnyConnection, to: &Recipient, now: i64, zone: &jiff::tz::TimeZone) -> Result<(Recipient, Option<String>), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct AbsenceRow {
        ends_at: i64,
        cover_provider_id: Option<String>,
        cover_pool_id: Option<String>,
        display_name: String,
    }
    let mut current = to.clone();
    let mut reasons: Vec<String> = Vec::new();
    let mut seen = vec![current.clone()];
    for _ in 0..5 {
        let Recipient::Provider(provider) = &current else { break };
        let absence: Option<AbsenceRow> = sqlx::query_as(
            "SELECT a.ends_at, a.cover_provider_id, a.cover_pool_id, u.display_name FROM absences a JOIN users u ON u.id = a.provider_id \
             WHERE a.provider_id = $1 AND a.starts_at <= $2 AND a.ends_at > $2 AND a.cancelled_at IS NULL \
             ORDER BY a.starts_at DESC LIMIT 1",
        )
        .bind(provider)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(a) = absence else { break };
        let Some(cover) = recipient_from(a.cover_provider_id, a.cover_pool_id) else { break };
        if seen.contains(&cover) {
            break;
        }
        let until = jiff::Timestamp::from_millisecond(a.ends_at).map(|t| t.to_zoned(zone.clone()).strftime("%B %-d, %Y").to_string()).unwrap_or_default();
        let cover_name = name_of(conn, &cover).await?;
        reasons.push(format!("{} is out of office until {until}; covered by {cover_name}", a.display_name));
        seen.push(cover.clone());
        current = cover;
    }
    let reason = (!reasons.is_empty()).then(|| reasons.join(". "));
    Ok((current, reason))
}

/// A patient's message as the server function received it, before checks.
pub struct NewPatientMessage {
    /// A reply in an existing conversation; none starts a new one.
    pub thread: Option<ThreadId>,
    pub recipient: String,
    pub topic: String,
    pub subject: String,
    pub body: String,
    pub acknowledged: bool,
    pub files: Vec<CheckedFile>,
}

/// Sends a patient's message: checks it, works out where it goes and when a reply is due,
/// stores it with its attachments, drops the draft, and audits it, in one transaction.
pub async fn send_from_patient(
    db: &Db,
    settings: &PortalSettings,
    user: &UserId,
    patient: &PatientId,
    msg: NewPatientMessage,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<ThreadId, SendError> {
    let body = msg.body.trim();
    if body.is_empty() || body.chars().count() > BODY_MAX {
        return Err(SendError::Body);
    }
    if !msg.acknowledged {
        return Err(SendError::NotAcknowledged);
    }
    let mut tx = db.begin_write().await?;
    // The patient's limits, counted one send at a time: the patient's row stays locked (on
    // PostgreSQL; SQLite's write lock is already held) until this message is stored, so
    // messages sent at the same moment are counted one after the other.
    if !lock_row(&mut tx, "patients", patient.as_str()).await? {
        return Err(SendError::NotFound);
    }
    let quota = super::quota::status(&mut tx, &settings.messaging, patient, now).await?;
    if quota.day_reached() {
        return Err(SendError::DailyLimit);
    }
    let new_bytes: i64 = msg.files.iter().map(|f| f.content.len() as i64).sum();
    if new_bytes > 0 && quota.bytes_this_month + new_bytes > quota.bytes_per_month {
        return Err(SendError::MonthlyBytes);
    }
    let (thread_id, to) = match &msg.thread {
        Some(thread) => {
            // A reply goes to whom the conversation is with.
            let row = sqlx::query("SELECT id FROM threads WHERE id = $1 AND patient_id = $2")
                .bind(thread.as_str())
                .bind(patient.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_none() {
                return Err(SendError::NotFound);
            }
            let to = reply_recipient(&mut tx, thread, patient).await?.ok_or(SendError::NotFound)?;
            sqlx::query("UPDATE threads SET last_message_at = $1 WHERE id = $2").bind(now).bind(thread.as_str()).execute(&mut *tx).await?;
            (thread.clone(), to)
        }
        None => {
            let to = Recipient::parse(&msg.recipient).ok_or(SendError::NoRecipient)?;
            let on_team = recipients_in(&mut tx, patient).await?.into_iter().any(|o| o.recipient == to);
            if !on_team {
                return Err(SendError::NoRecipient);
            }
            let topic = Topic::parse(&msg.topic).ok_or(SendError::NoTopic)?;
            let subject = msg.subject.trim();
            if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
                return Err(SendError::Subject);
            }
            let id = ThreadId::new_random();
            sqlx::query("INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $5)")
                .bind(id.as_str())
                .bind(patient.as_str())
                .bind(topic.as_str())
                .bind(subject)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            (id, to)
        }
    };
    let (assigned, reason) = route(&mut tx, &to, now, &settings.messaging.time_zone).await?;
    let cal = calendar(&mut tx, settings).await?;
    let due = cal.due_at_ms(now, settings.messaging.reply_business_days);
    let message_id = MessageId::new_random();
    let (to_provider, to_pool) = columns(&to);
    let (as_provider, as_pool) = columns(&assigned);
    sqlx::query(
        "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, to_provider_id, to_pool_id, \
         assigned_provider_id, assigned_pool_id, due_at) VALUES ($1, $2, $3, 'patient', $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(message_id.as_str())
    .bind(thread_id.as_str())
    .bind(user.as_str())
    .bind(body)
    .bind(now)
    .bind(to_provider)
    .bind(to_pool)
    .bind(as_provider)
    .bind(as_pool)
    .bind(due)
    .execute(&mut *tx)
    .await?;
    for f in &msg.files {
        store_attachment(&mut tx, &message_id, f).await?;
    }
    if let Some(reason) = &reason {
        insert_route(&mut tx, &message_id, now, "absence", &to, &assigned, reason, None).await?;
    }
    delete_draft(&mut tx, user, msg.thread.as_ref()).await?;
    let mut event = AuditEvent::of(AuditAction::MessageSent);
    event.actor = Some(user);
    event.subject = Some(user);
    event.record_type = Some("message");
    event.record_id = Some(message_id.as_str());
    event.client_addr = client_addr;
    audit::record(&mut tx, event, now).await?;
    if reason.is_some() {
        let mut event = AuditEvent::of(AuditAction::MessageRouted);
        event.subject = Some(user);
        event.record_type = Some("message");
        event.record_id = Some(message_id.as_str());
        event.detail = Some("out of office");
        audit::record(&mut tx, event, now).await?;
    }
    tx.commit().await?;
    Ok(thread_id)
}

/// Whom a patient's reply in `thread` is for: whom their latest message there was for, or the
/// provider who wrote to them last when staff started the conversation.
async fn reply_recipient(tx: &mut Tx, thread: &ThreadId, patient: &PatientId) -> Result<Option<Recipient>, sqlx::Error> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT to_provider_id, to_pool_id FROM messages WHERE thread_id = $1 AND author_kind = 'patient' ORDER BY sent_at DESC LIMIT 1")
            .bind(thread.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((provider, pool)) = row {
        return Ok(recipient_from(provider, pool));
    }
    let author: Option<String> = sqlx::query_scalar(
        "SELECT m.author_id FROM messages m JOIN threads t ON t.id = m.thread_id \
         WHERE m.thread_id = $1 AND t.patient_id = $2 AND m.author_kind = 'staff' ORDER BY m.sent_at DESC LIMIT 1",
    )
    .bind(thread.as_str())
    .bind(patient.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(author.map(Recipient::Provider))
}

async fn store_attachment(tx: &mut Tx, message: &MessageId, f: &CheckedFile) -> Result<(), sqlx::Error> {
    use sha2::{Digest, Sha256};
    sqlx::query("INSERT INTO attachments (id, message_id, file_name, content_type, size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(tokens::new_id())
        .bind(message.as_str())
        .bind(&f.file_name)
        .bind(f.kind.content_type())
        .bind(f.content.len() as i64)
        .bind(hex::encode(Sha256::digest(&f.content)))
        .bind(&f.content)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_route(
    tx: &mut Tx,
    message: &MessageId,
    now: i64,
    kind: &str,
    from: &Recipient,
    to: &Recipient,
    reason: &str,
    by: Option<&UserId>,
) -> Result<(), sqlx::Error> {
    let (fp, fpool) = columns(from);
    let (tp, tpool) = columns(to);
    sqlx::query(
        "INSERT INTO message_routes (id, message_id, at, kind, from_provider_id, from_pool_id, to_provider_id, to_pool_id, reason, by_user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tokens::new_id())
    .bind(message.as_str())
    .bind(now)
    .bind(kind)
    .bind(fp)
    .bind(fpool)
    .bind(tp)
    .bind(tpool)
    .bind(reason)
    .bind(by.map(|u| u.as_str()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Re-routes the messages waiting for providers whose out-of-office period has begun, once per
/// period (the claim on the absence row makes it once across app servers too).
#[tracing::instrument(skip_all)]
pub async fn reroute_started_absences(db: &Db, settings: &PortalSettings, now: i64) -> Result<u64, sqlx::Error> {
    let due: Vec<String> =
        sqlx::query_scalar("SELECT id FROM absences WHERE starts_at <= $1 AND ends_at > $1 AND rerouted_at IS NULL AND cancelled_at IS NULL")
            .bind(now)
            .fetch_all(&db.pool)
            .await?;
    let mut moved = 0;
    for id in due {
        let mut tx = db.begin_write().await?;
        let claimed = sqlx::query("UPDATE absences SET rerouted_at = $1 WHERE id = $2 AND rerouted_at IS NULL AND cancelled_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !claimed {
            continue;
        }
        let provider: String = sqlx::query_scalar("SELECT provider_id FROM absences WHERE id = $1").bind(&id).fetch_one(&mut *tx).await?;
        let waiting: Vec<MessageId> =
            sqlx::query_scalar("SELECT id FROM messages WHERE assigned_provider_id = $1 AND handled_at IS NULL AND author_kind = 'patient'")
                .bind(&provider)
                .fetch_all(&mut *tx)
                .await?;
        let from = Recipient::Provider(provider);
        let (to, reason) = route(&mut tx, &from, now, &settings.messaging.time_zone).await?;
        if let Some(reason) = reason {
            for message in waiting {
                let (tp, tpool) = columns(&to);
                sqlx::query("UPDATE messages SET assigned_provider_id = $1, assigned_pool_id = $2 WHERE id = $3")
                    .bind(tp)
                    .bind(tpool)
                    .bind(message.as_str())
                    .execute(&mut *tx)
                    .await?;
                insert_route(&mut tx, &message, now, "absence", &from, &to, &reason, None).await?;
                let mut event = AuditEvent::of(AuditAction::MessageRouted);
                event.record_type = Some("message");
                event.record_id = Some(message.as_str());
                event.detail = Some("out of office (waiting message)");
                audit::record(&mut tx, event, now).await?;
                moved += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(moved)
}

/// A patient's threads, newest first.
pub async fn patient_threads(db: &Db, zone: &jiff::tz::TimeZone, patient: &PatientId, now: i64) -> Result<Vec<ThreadSummary>, sqlx::Error> {
    let rows: Vec<ThreadRow> = sqlx::query_as(
        "SELECT t.id, t.subject, t.topic, t.last_message_at, \
           (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.author_kind = 'staff' AND m.read_at IS NULL) AS unread, \
           (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.author_kind = 'patient' AND m.handled_at IS NULL AND m.due_at < $2) AS overdue, \
           (SELECT COALESCE(u.display_name, p.name) FROM messages m LEFT JOIN users u ON u.id = m.to_provider_id \
              LEFT JOIN care_pools p ON p.id = m.to_pool_id WHERE m.thread_id = t.id AND m.author_kind = 'patient' \
              ORDER BY m.sent_at LIMIT 1) AS to_name, \
           (SELECT u.display_name FROM messages m JOIN users u ON u.id = m.author_id \
              WHERE m.thread_id = t.id AND m.author_kind = 'staff' ORDER BY m.sent_at LIMIT 1) AS staff_name \
         FROM threads t WHERE t.patient_id = $1 ORDER BY t.last_message_at DESC",
    )
    .bind(patient.as_str())
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r: ThreadRow| ThreadSummary {
            topic: topic_label(&r.topic),
            with: r.to_name.or(r.staff_name).unwrap_or_else(|| "Your care team".into()),
            last_text: local_text(zone, r.last_message_at),
            last_message_at: r.last_message_at,
            overdue: r.overdue > 0,
            unread: r.unread,
            subject: r.subject,
            id: r.id,
        })
        .collect())
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

/// A message of a thread as it is read, with the names of its author and recipients.
#[derive(sqlx::FromRow)]
struct MessageRow {
    id: MessageId,
    /// `patient` or `staff`.
    author_kind: String,
    author: String,
    body: String,
    sent_at: i64,
    due_at: Option<i64>,
    handled_at: Option<i64>,
    read_at: Option<i64>,
    to_name: Option<String>,
    /// Shown to staff only.
    assigned_name: Option<String>,
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

/// How many staff messages the patient has not read yet (for the navigation's badge).
pub async fn unread_count(db: &Db, patient: &PatientId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM messages m JOIN threads t ON t.id = m.thread_id \
         WHERE t.patient_id = $1 AND m.author_kind = 'staff' AND m.read_at IS NULL",
    )
    .bind(patient.as_str())
    .fetch_one(&db.pool)
    .await
}

/// Who is reading a thread.
pub enum Reader<'a> {
    Patient { user: &'a UserId, patient: &'a PatientId },
    Staff { user: &'a UserId },
}

/// The minimum-necessary rule for staff and conversations, as one SQL condition on the thread
/// `{thread}` of patient `{patient}` for the member of staff `{staff}` (column names or
/// placeholders). A member of staff reads a conversation when:
///
/// - it reached them: they wrote in it, or one of its messages was addressed, routed or
///   forwarded to them or to a pool they work (whatever their role); or
/// - they are a clinician of the patient's care team (the care team's provider, or a clinician
///   who works a clinical pool on the care team) and the conversation is clinical: one of its
///   messages was addressed, routed or forwarded to a clinician or a clinical pool, or a
///   clinician wrote in it.
///
/// Billing and front-desk staff (and clinicians outside the care team) therefore read only what
/// was sent their way: a billing question, or a conversation someone forwarded to them (the
/// forward is recorded). Pool membership and roles are read as they are now: whoever leaves a
/// pool stops reading its conversations.
pub fn staff_reads_thread_sql(thread: &str, patient: &str, staff: &str) -> String {
    let my_pools = format!("(SELECT pool_id FROM pool_members WHERE user_id = {staff})");
    let clinician = "(SELECT id FROM users WHERE staff_role = 'clinician')";
    let clinical_pool = "(SELECT id FROM care_pools WHERE clinical = 'yes')";
    let care_team_clinician = care_team_clinician_sql(patient, staff);
    format!(
        "(EXISTS (SELECT 1 FROM messages rm WHERE rm.thread_id = {thread} AND (rm.author_id = {staff} \
              OR rm.to_provider_id = {staff} OR rm.assigned_provider_id = {staff} \
              OR rm.to_pool_id IN {my_pools} OR rm.assigned_pool_id IN {my_pools})) \
          OR EXISTS (SELECT 1 FROM messages rm JOIN message_routes rr ON rr.message_id = rm.id WHERE rm.thread_id = {thread} \
              AND (rr.to_provider_id = {staff} OR rr.to_pool_id IN {my_pools})) \
          OR ({care_team_clinician} \
              AND (EXISTS (SELECT 1 FROM messages cm WHERE cm.thread_id = {thread} AND ( \
                      cm.to_provider_id IN {clinician} OR cm.assigned_provider_id IN {clinician} \
                      OR (cm.author_kind = 'staff' AND cm.author_id IN {clinician}) \
                      OR cm.to_pool_id IN {clinical_pool} OR cm.assigned_pool_id IN {clinical_pool})) \
                   OR EXISTS (SELECT 1 FROM messages cm JOIN message_routes cr ON cr.message_id = cm.id WHERE cm.thread_id = {thread} \
                      AND (cr.to_provider_id IN {clinician} OR cr.to_pool_id IN {clinical_pool})))))"
    )
}

/// Whether a member of staff may see the thread (the rule of [`staff_reads_thread_sql`]).
pub async fn staff_may_see(conn: &mut sqlx::AnyConnection, staff: &UserId, thread: &ThreadId) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT 1 AS ok FROM threads t WHERE t.id = $1 AND {}", staff_reads_thread_sql("t.id", "t.patient_id", "$2"));
    let row = sqlx::query(&sql).bind(thread.as_str()).bind(staff.as_str()).fetch_optional(&mut *conn).await?;
    Ok(row.is_some())
}

/// The condition that `{staff}` is a clinician of the care team of `{patient}`: a clinician who
/// is the care team's provider or works a clinical pool on it.
pub fn care_team_clinician_sql(patient: &str, staff: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM users cu WHERE cu.id = {staff} AND cu.staff_role = 'clinician') \
          AND EXISTS (SELECT 1 FROM care_team ct WHERE ct.patient_id = {patient} AND (ct.provider_id = {staff} \
              OR ct.pool_id IN (SELECT pm.pool_id FROM pool_members pm JOIN care_pools cp ON cp.id = pm.pool_id \
                                WHERE pm.user_id = {staff} AND cp.clinical = 'yes'))))"
    )
}

/// Whether a member of staff is a clinician of the patient's care team: the care team's
/// provider, or a clinician who works a clinical pool on it. Questionnaire answers follow the
/// same line (`questionnaires::server`).
pub async fn clinician_of_care_team(conn: &mut sqlx::AnyConnection, staff: &UserId, patient: &PatientId) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT 1 AS ok WHERE {}", care_team_clinician_sql("$1", "$2"));
    Ok(sqlx::query(&sql).bind(patient.as_str()).bind(staff.as_str()).fetch_optional(&mut *conn).await?.is_some())
}

/// Opens a thread for `reader`, or none when it is not theirs. A patient opening it marks the
/// staff messages read; a member of staff opening it marks the patient's messages opened.
/// Every opening is in the audit trail.
pub async fn open_thread(
    db: &Db,
    zone: &jiff::tz::TimeZone,
    reader: Reader<'_>,
    thread: &ThreadId,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<ThreadView>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct OpenedRow {
        subject: String,
        topic: String,
        patient_id: PatientId,
        given_name: String,
        family_name: String,
        mrn: String,
    }
    let mut tx = db.begin_write().await?;
    let t: Option<OpenedRow> = sqlx::query_as(
        "SELECT t.id, t.subject, t.topic, t.patient_id, p.given_name, p.family_name, p.mrn FROM threads t JOIN patients p ON p.id = t.patient_id WHERE t.id = $1",
    )
    .bind(thread.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(t) = t else { return Ok(None) };
    let patient_id = t.patient_id.clone();
    let staff = match &reader {
        Reader::Patient { patient, .. } => {
            if patient.as_str() != patient_id.as_str() {
                return Ok(None);
            }
            false
        }
        Reader::Staff { user } => {
            if !staff_may_see(&mut tx, user, thread).await? {
                return Ok(None);
            }
            true
        }
    };
    let patient_user = crate::users::for_patient(&mut *tx, &patient_id).await?;
    // Read marks first, so the page shows the state it leaves behind.
    match &reader {
        Reader::Patient { user, .. } => {
            let unread: Vec<String> = sqlx::query_scalar("SELECT id FROM messages WHERE thread_id = $1 AND author_kind = 'staff' AND read_at IS NULL")
                .bind(thread.as_str())
                .fetch_all(&mut *tx)
                .await?;
            for id in unread {
                sqlx::query("UPDATE messages SET read_at = $1 WHERE id = $2 AND read_at IS NULL").bind(now).bind(&id).execute(&mut *tx).await?;
                let mut event = AuditEvent::of(AuditAction::MessageRead);
                event.actor = Some(user);
                event.subject = Some(user);
                event.record_type = Some("message");
                event.record_id = Some(&id);
                event.client_addr = client_addr;
                audit::record(&mut tx, event, now).await?;
            }
        }
        Reader::Staff { user } => {
            sqlx::query("UPDATE messages SET staff_opened_at = $1 WHERE thread_id = $2 AND author_kind = 'patient' AND staff_opened_at IS NULL")
                .bind(now)
                .bind(thread.as_str())
                .execute(&mut *tx)
                .await?;
            let mut event = AuditEvent::of(AuditAction::MessageOpenedByStaff);
            event.actor = Some(user);
            event.subject = patient_user.as_ref();
            event.record_type = Some("thread");
            event.record_id = Some(thread.as_str());
            event.client_addr = client_addr;
            audit::record(&mut tx, event, now).await?;
        }
    }
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.id, m.author_kind, m.body, m.sent_at, m.due_at, m.handled_at, m.read_at, au.display_name AS author, \
           COALESCE(tu.display_name, tp.name) AS to_name, COALESCE(su.display_name, sp.name) AS assigned_name \
         FROM messages m JOIN users au ON au.id = m.author_id \
           LEFT JOIN users tu ON tu.id = m.to_provider_id LEFT JOIN care_pools tp ON tp.id = m.to_pool_id \
           LEFT JOIN users su ON su.id = m.assigned_provider_id LEFT JOIN care_pools sp ON sp.id = m.assigned_pool_id \
         WHERE m.thread_id = $1 ORDER BY m.sent_at, m.id",
    )
    .bind(thread.as_str())
    .fetch_all(&mut *tx)
    .await?;
    // Attachments and routes of the whole thread in one query each, then shared out.
    let mut attachments = thread_attachments(&mut tx, thread).await?;
    let mut routes = if staff { thread_routes(&mut tx, zone, thread).await? } else { Vec::new() };
    let mut messages = Vec::with_capacity(rows.len());
    for r in rows {
        let attachments = take_of(&mut attachments, &r.id);
        let routes = take_of(&mut routes, &r.id);
        messages.push(MessageView {
            from_patient: r.author_kind == "patient",
            author: r.author,
            body: r.body,
            sent_text: local_text(zone, r.sent_at),
            sent_at: r.sent_at,
            to: r.to_name,
            assigned_to: if staff { r.assigned_name } else { None },
            due_at: r.due_at,
            due_text: r.due_at.map(|d| local_text(zone, d)),
            handled_at: r.handled_at,
            read_at: r.read_at,
            read_text: r.read_at.map(|d| local_text(zone, d)),
            id: r.id,
            attachments,
            routes,
        });
    }
    tx.commit().await?;
    let overdue = messages.iter().any(|m| m.from_patient && m.handled_at.is_none() && m.due_at.is_some_and(|d| d < now));
    let open_message = messages.iter().rev().find(|m| m.from_patient && m.handled_at.is_none()).map(|m| m.id.clone());
    Ok(Some(ThreadView {
        id: thread.clone(),
        topic: topic_label(&t.topic),
        patient_name: format!("{} {}", t.given_name, t.family_name),
        patient_mrn: if staff { Some(t.mrn) } else { None },
        subject: t.subject,
        patient_id: staff.then(|| patient_id.to_string()),
        messages,
        overdue,
        open_message,
    }))
}

/// The items of `all` that belong to `message`, in their order; the rest stay.
fn take_of<T>(all: &mut Vec<(MessageId, T)>, message: &MessageId) -> Vec<T> {
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(all).into_iter().partition(|(m, _)| m == message);
    *all = rest;
    mine.into_iter().map(|(_, item)| item).collect()
}

async fn thread_attachments(tx: &mut Tx, thread: &ThreadId) -> Result<Vec<(MessageId, AttachmentInfo)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct AttachmentRow {
        message_id: MessageId,
        id: AttachmentId,
        file_name: String,
        content_type: String,
        size: i64,
    }
    let rows: Vec<AttachmentRow> = sqlx::query_as(
        "SELECT a.message_id, a.id, a.file_name, a.content_type, a.size FROM attachments a JOIN messages m ON m.id = a.message_id \
         WHERE m.thread_id = $1 ORDER BY a.file_name, a.id",
    )
    .bind(thread.as_str())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|a| (a.message_id, AttachmentInfo { id: a.id, file_name: a.file_name, content_type: a.content_type, size: a.size })).collect())
}

async fn thread_routes(tx: &mut Tx, zone: &jiff::tz::TimeZone, thread: &ThreadId) -> Result<Vec<(MessageId, RouteInfo)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct RouteRow {
        message_id: MessageId,
        at: i64,
        kind: String,
        reason: String,
        from_name: Option<String>,
        to_name: Option<String>,
        by_name: Option<String>,
    }
    let rows: Vec<RouteRow> = sqlx::query_as(
        "SELECT r.message_id, r.at, r.kind, r.reason, COALESCE(fu.display_name, fp.name) AS from_name, \
           COALESCE(tu.display_name, tp.name) AS to_name, bu.display_name AS by_name \
         FROM message_routes r JOIN messages m ON m.id = r.message_id \
           LEFT JOIN users fu ON fu.id = r.from_provider_id LEFT JOIN care_pools fp ON fp.id = r.from_pool_id \
           LEFT JOIN users tu ON tu.id = r.to_provider_id LEFT JOIN care_pools tp ON tp.id = r.to_pool_id \
           LEFT JOIN users bu ON bu.id = r.by_user_id WHERE m.thread_id = $1 ORDER BY r.at, r.id",
    )
    .bind(thread.as_str())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let route = RouteInfo {
                at: r.at,
                at_text: local_text(zone, r.at),
                kind: r.kind,
                from: r.from_name.unwrap_or_default(),
                to: r.to_name.unwrap_or_default(),
                reason: r.reason,
                by: r.by_name,
            };
            (r.message_id, route)
        })
        .collect())
}

/// A staff member's inbox: the patients' messages that wait for them or their pools, soonest due
/// first. (Each was sent their way, so the minimum-necessary rule lets them read it.)
pub async fn staff_inbox(db: &Db, zone: &jiff::tz::TimeZone, staff: &UserId, filter: InboxFilter, now: i64) -> Result<Vec<InboxItem>, sqlx::Error> {
    let mine = "m.assigned_provider_id = $1";
    let pools = "m.assigned_pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = $1)";
    let condition = match filter {
        InboxFilter::Mine => mine.to_string(),
        InboxFilter::Pools => pools.to_string(),
        InboxFilter::All | InboxFilter::Overdue | InboxFilter::Unread => format!("({mine} OR {pools})"),
    };
    let extra = match filter {
        InboxFilter::Overdue => " AND m.due_at < $2",
        InboxFilter::Unread => " AND m.staff_opened_at IS NULL AND $2 = $2",
        _ => " AND $2 = $2",
    };
    let sql = format!(
        "SELECT m.id, m.thread_id, m.sent_at, m.due_at, m.staff_opened_at, t.subject, t.topic, p.given_name, p.family_name, \
           COALESCE(su.display_name, sp.name) AS assigned_name, \
           (SELECT COUNT(*) FROM message_routes r WHERE r.message_id = m.id) AS routes \
         FROM messages m JOIN threads t ON t.id = m.thread_id JOIN patients p ON p.id = t.patient_id \
           LEFT JOIN users su ON su.id = m.assigned_provider_id LEFT JOIN care_pools sp ON sp.id = m.assigned_pool_id \
         WHERE m.author_kind = 'patient' AND m.handled_at IS NULL AND {condition}{extra} \
         ORDER BY m.due_at, m.sent_at LIMIT 500"
    );
    #[derive(sqlx::FromRow)]
    struct InboxRow {
        id: MessageId,
        thread_id: ThreadId,
        sent_at: i64,
        due_at: i64,
        staff_opened_at: Option<i64>,
        subject: String,
        topic: String,
        given_name: String,
        family_name: String,
        assigned_name: Option<String>,
        routes: i64,
    }
    let rows: Vec<InboxRow> = sqlx::query_as(&sql).bind(staff.as_str()).bind(now).fetch_all(&db.pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| InboxItem {
            message_id: r.id,
            thread_id: r.thread_id,
            patient_name: format!("{} {}", r.given_name, r.family_name),
            subject: r.subject,
            topic: topic_label(&r.topic),
            sent_at: r.sent_at,
            sent_text: local_text(zone, r.sent_at),
            due_at: r.due_at,
            due_text: local_text(zone, r.due_at),
            overdue: r.due_at < now,
            opened: r.staff_opened_at.is_some(),
            assigned_to: r.assigned_name.unwrap_or_default(),
            routed: r.routes > 0,
        })
        .collect())
}

/// The conversations with one patient that a member of staff may read (the rule of
/// [`staff_reads_thread_sql`]), newest first, with the patient's name and record number; none when
/// the patient is not theirs at all (not on the patient's care team and no conversation of the
/// patient reached them). Audited as a look at the patient's record.
pub async fn staff_patient_threads(
    db: &Db,
    zone: &jiff::tz::TimeZone,
    staff: &UserId,
    patient: &PatientId,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<PatientConversations>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let Some(p): Option<PatientNameRow> =
        sqlx::query_as("SELECT given_name, family_name, mrn FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut *conn).await?
    else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT t.id, t.subject, t.topic, t.last_message_at, \
           (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.author_kind = 'patient' AND m.handled_at IS NULL) AS waiting, \
           (SELECT COALESCE(u.display_name, cp.name) FROM messages m LEFT JOIN users u ON u.id = m.to_provider_id \
              LEFT JOIN care_pools cp ON cp.id = m.to_pool_id WHERE m.thread_id = t.id AND m.author_kind = 'patient' \
              ORDER BY m.sent_at LIMIT 1) AS to_name, \
           (SELECT u.display_name FROM messages m JOIN users u ON u.id = m.author_id \
              WHERE m.thread_id = t.id AND m.author_kind = 'staff' ORDER BY m.sent_at LIMIT 1) AS staff_name \
         FROM threads t WHERE t.patient_id = $1 AND {} ORDER BY t.last_message_at DESC LIMIT 500",
        staff_reads_thread_sql("t.id", "t.patient_id", "$2")
    );
    let rows: Vec<ThreadRow> = sqlx::query_as(&sql).bind(patient.as_str()).bind(staff.as_str()).fetch_all(&mut *conn).await?;
    if rows.is_empty() && !staff_may_write_to(&mut conn, staff, patient).await? {
        return Ok(None);
    }
    drop(conn);
    let threads: Vec<StaffThreadLine> = rows
        .into_iter()
        .map(|r| StaffThreadLine {
            topic: topic_label(&r.topic),
            with: r.to_name.or(r.staff_name).unwrap_or_default(),
            last_text: local_text(zone, r.last_message_at),
            waiting: r.waiting > 0,
            subject: r.subject,
            id: r.id,
        })
        .collect();
    let mut event = AuditEvent::of(AuditAction::PatientRecordViewed);
    event.actor = Some(staff);
    event.record_type = Some("patient");
    event.record_id = Some(patient.as_str());
    event.client_addr = client_addr;
    event.detail = Some("conversations listed");
    audit::record_alone(db, event, now).await?;
    Ok(Some(PatientConversations { patient: patient.to_string(), name: p.full_name(), mrn: p.mrn, threads }))
}

/// Why a staff action was refused.
#[derive(Debug, thiserror::Error)]
pub enum StaffActionError {
    #[error("not found")]
    NotFound,
    #[error("Please write your message (at most {BODY_MAX} characters).")]
    Body,
    #[error("Please give your message a subject (at most {SUBJECT_MAX} characters).")]
    Subject,
    #[error("Please choose someone on the patient's care team.")]
    Recipient,
    #[error("Nothing was changed: the message was already handled.")]
    Unchanged,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn thread_patient(tx: &mut Tx, thread: &ThreadId) -> Result<Option<PatientId>, sqlx::Error> {
    sqlx::query_scalar("SELECT patient_id FROM threads WHERE id = $1").bind(thread.as_str()).fetch_optional(&mut **tx).await
}

/// A staff reply in a thread: stored, the open patient messages of the thread marked handled,
/// and the patient's notice queued, in one transaction.
pub async fn reply_from_staff(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    thread: &ThreadId,
    body: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<MessageId, StaffActionError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > BODY_MAX {
        return Err(StaffActionError::Body);
    }
    let mut tx = db.begin_write().await?;
    if !staff_may_see(&mut tx, staff, thread).await? {
        return Err(StaffActionError::NotFound);
    }
    let patient = thread_patient(&mut tx, thread).await?.ok_or(StaffActionError::NotFound)?;
    let id = insert_staff_message(&mut tx, staff, thread, body, client_addr, now).await?;
    sqlx::query("UPDATE messages SET handled_at = $1, handled_by = $2 WHERE thread_id = $3 AND author_kind = 'patient' AND handled_at IS NULL")
        .bind(now)
        .bind(staff.as_str())
        .bind(thread.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE threads SET last_message_at = $1 WHERE id = $2").bind(now).bind(thread.as_str()).execute(&mut *tx).await?;
    outbox::notify_patient(&mut tx, settings, &patient, &Notice::NewInPortal, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_staff_message(
    tx: &mut Tx,
    staff: &UserId,
    thread: &ThreadId,
    body: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<MessageId, sqlx::Error> {
    let id = MessageId::new_random();
    sqlx::query("INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at) VALUES ($1, $2, $3, 'staff', $4, $5)")
        .bind(id.as_str())
        .bind(thread.as_str())
        .bind(staff.as_str())
        .bind(body)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let patient_user: Option<UserId> = sqlx::query_scalar("SELECT u.id FROM users u JOIN threads t ON t.patient_id = u.patient_id WHERE t.id = $1")
        .bind(thread.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let mut event = AuditEvent::of(AuditAction::MessageSent);
    event.actor = Some(staff);
    event.subject = patient_user.as_ref();
    event.record_type = Some("message");
    event.record_id = Some(id.as_str());
    event.client_addr = client_addr;
    audit::record(tx, event, now).await?;
    Ok(id)
}

/// The patients a member of staff may start a conversation with: those whose care team they
/// are on, directly or through a pool.
pub async fn staff_may_write_to(conn: &mut sqlx::AnyConnection, staff: &UserId, patient: &PatientId) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 AS ok FROM care_team c WHERE c.patient_id = $1 AND (c.provider_id = $2 \
           OR c.pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = $2))",
    )
    .bind(patient.as_str())
    .bind(staff.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// A new conversation started by staff.
#[allow(clippy::too_many_arguments)]
pub async fn start_from_staff(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    patient: &PatientId,
    subject: &str,
    body: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<ThreadId, StaffActionError> {
    let subject = subject.trim();
    let body = body.trim();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
        return Err(StaffActionError::Subject);
    }
    if body.is_empty() || body.chars().count() > BODY_MAX {
        return Err(StaffActionError::Body);
    }
    let mut tx = db.begin_write().await?;
    if !staff_may_write_to(&mut tx, staff, patient).await? {
        return Err(StaffActionError::NotFound);
    }
    let thread = ThreadId::new_random();
    sqlx::query("INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, 'general', $3, $4, $4)")
        .bind(thread.as_str())
        .bind(patient.as_str())
        .bind(subject)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    insert_staff_message(&mut tx, staff, &thread, body, client_addr, now).await?;
    outbox::notify_patient(&mut tx, settings, patient, &Notice::NewInPortal, now).await?;
    tx.commit().await?;
    Ok(thread)
}

/// Marks a patient's message handled without a reply (e.g. the patient was called back).
pub async fn mark_handled(db: &Db, staff: &UserId, message: &MessageId, client_addr: Option<IpAddr>, now: i64) -> Result<ThreadId, StaffActionError> {
    let mut tx = db.begin_write().await?;
    let thread: ThreadId = sqlx::query_scalar("SELECT thread_id, handled_at FROM messages WHERE id = $1 AND author_kind = 'patient'")
        .bind(message.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StaffActionError::NotFound)?;
    if !staff_may_see(&mut tx, staff, &thread).await? {
        return Err(StaffActionError::NotFound);
    }
    let done = sqlx::query("UPDATE messages SET handled_at = $1, handled_by = $2 WHERE id = $3 AND handled_at IS NULL")
        .bind(now)
        .bind(staff.as_str())
        .bind(message.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(StaffActionError::Unchanged);
    }
    let mut event = AuditEvent::of(AuditAction::MessageHandled);
    event.actor = Some(staff);
    event.record_type = Some("message");
    event.record_id = Some(message.as_str());
    event.client_addr = client_addr;
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(thread)
}

/// The providers and pools a message may be forwarded to: the patient's care team.
pub async fn forward_options(db: &Db, staff: &UserId, thread: &ThreadId) -> Result<Option<Vec<RecipientOption>>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    if !staff_may_see(&mut conn, staff, thread).await? {
        return Ok(None);
    }
    let patient: Option<PatientId> =
        sqlx::query_scalar("SELECT patient_id FROM threads WHERE id = $1").bind(thread.as_str()).fetch_optional(&mut *conn).await?;
    drop(conn);
    match patient {
        Some(p) => Ok(Some(recipients(db, &p).await?)),
        None => Ok(None),
    }
}

/// Forwards a waiting patient message to someone else on the patient's care team, with a note
/// of why that the next reader sees.
pub async fn forward(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    message: &MessageId,
    to: &Recipient,
    note: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<ThreadId, StaffActionError> {
    #[derive(sqlx::FromRow)]
    struct WaitingRow {
        thread_id: ThreadId,
        assigned_provider_id: Option<String>,
        assigned_pool_id: Option<String>,
        patient_id: PatientId,
    }
    let note: String = note.trim().chars().take(300).collect();
    let mut tx = db.begin_write().await?;
    let row: WaitingRow = sqlx::query_as(
        "SELECT m.thread_id, m.assigned_provider_id, m.assigned_pool_id, t.patient_id FROM messages m JOIN threads t ON t.id = m.thread_id \
         WHERE m.id = $1 AND m.author_kind = 'patient' AND m.handled_at IS NULL",
    )
    .bind(message.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StaffActionError::NotFound)?;
    let thread = row.thread_id;
    if !staff_may_see(&mut tx, staff, &thread).await? {
        return Err(StaffActionError::NotFound);
    }
    let patient = row.patient_id;
    let from = recipient_from(row.assigned_provider_id, row.assigned_pool_id).ok_or(StaffActionError::NotFound)?;
    let team: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT provider_id, pool_id FROM care_team WHERE patient_id = $1").bind(patient.as_str()).fetch_all(&mut *tx).await?;
    let on_team = team.into_iter().any(|(provider, pool)| recipient_from(provider, pool).as_ref() == Some(to));
    if !on_team || *to == from {
        return Err(StaffActionError::Recipient);
    }
    // A forward to someone who is away goes on to their cover, as a new message would.
    let (dest, away) = route(&mut tx, to, now, &settings.messaging.time_zone).await?;
    let by_name = crate::users::display_name(&mut *tx, staff).await?;
    let mut reason = format!("Forwarded by {by_name}");
    if !note.is_empty() {
        reason.push_str(": ");
        reason.push_str(&note);
    }
    insert_route(&mut tx, message, now, "forward", &from, to, &reason, Some(staff)).await?;
    if let Some(away) = away {
        insert_route(&mut tx, message, now, "absence", to, &dest, &away, None).await?;
    }
    let (tp, tpool) = columns(&dest);
    sqlx::query("UPDATE messages SET assigned_provider_id = $1, assigned_pool_id = $2 WHERE id = $3")
        .bind(tp)
        .bind(tpool)
        .bind(message.as_str())
        .execute(&mut *tx)
        .await?;
    let mut event = AuditEvent::of(AuditAction::MessageForwarded);
    event.actor = Some(staff);
    event.record_type = Some("message");
    event.record_id = Some(message.as_str());
    event.client_addr = client_addr;
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(thread)
}

/// An attachment's content for someone allowed to see its thread (audited), or none.
pub async fn attachment(
    db: &Db,
    reader: Reader<'_>,
    id: &AttachmentId,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<(String, String, Vec<u8>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct ContentRow {
        file_name: String,
        content_type: String,
        content: Vec<u8>,
        thread_id: ThreadId,
        patient_id: PatientId,
    }
    let mut tx = db.begin_write().await?;
    let row: Option<ContentRow> = sqlx::query_as(
        "SELECT a.file_name, a.content_type, a.content, m.thread_id, t.patient_id FROM attachments a \
         JOIN messages m ON m.id = a.message_id JOIN threads t ON t.id = m.thread_id WHERE a.id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let actor = match &reader {
        Reader::Patient { user, patient } => {
            if row.patient_id.as_str() != patient.as_str() {
                return Ok(None);
            }
            *user
        }
        Reader::Staff { user } => {
            if !staff_may_see(&mut tx, user, &row.thread_id).await? {
                return Ok(None);
            }
            *user
        }
    };
    let mut event = AuditEvent::of(AuditAction::AttachmentDownloaded);
    event.actor = Some(actor);
    event.record_type = Some("attachment");
    event.record_id = Some(id.as_str());
    event.client_addr = client_addr;
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(Some((row.file_name, row.content_type, row.content)))
}

/// The patient's draft of a new message (`thread` none) or of a reply.
pub async fn draft(db: &Db, user: &UserId, thread: Option<&ThreadId>) -> Result<Option<Draft>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct DraftRow {
        recipient: String,
        topic: String,
        subject: String,
        body: String,
        updated_at: i64,
    }
    let row: Option<DraftRow> = match thread {
        None => {
            sqlx::query_as("SELECT recipient, topic, subject, body, updated_at FROM message_drafts WHERE user_id = $1 AND thread_id IS NULL")
                .bind(user.as_str())
                .fetch_optional(&db.pool)
                .await?
        }
        Some(t) => {
            sqlx::query_as("SELECT recipient, topic, subject, body, updated_at FROM message_drafts WHERE user_id = $1 AND thread_id = $2")
                .bind(user.as_str())
                .bind(t.as_str())
                .fetch_optional(&db.pool)
                .await?
        }
    };
    Ok(row.map(|r| Draft { recipient: r.recipient, topic: r.topic, subject: r.subject, body: r.body, updated_at: Some(r.updated_at) }))
}

/// Saves (replaces) a draft. A reply's draft is kept only in the patient's own thread.
pub async fn save_draft(db: &Db, user: &UserId, patient: &PatientId, thread: Option<&ThreadId>, d: &Draft, now: i64) -> Result<bool, sqlx::Error> {
    let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let mut tx = db.begin_write().await?;
    if let Some(t) = thread {
        let ours = sqlx::query("SELECT 1 AS ok FROM threads WHERE id = $1 AND patient_id = $2")
            .bind(t.as_str())
            .bind(patient.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if ours.is_none() {
            return Ok(false);
        }
    }
    // One save at a time per account (two tabs, a double click): the delete and the insert of
    // one save are not interleaved with another's.
    lock_row(&mut tx, "users", user.as_str()).await?;
    delete_draft(&mut tx, user, thread).await?;
    sqlx::query("INSERT INTO message_drafts (id, user_id, thread_id, recipient, topic, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(tokens::new_id())
        .bind(user.as_str())
        .bind(thread.map(|t| t.as_str()))
        .bind(clip(&d.recipient, 80))
        .bind(clip(&d.topic, 40))
        .bind(clip(&d.subject, SUBJECT_MAX))
        .bind(clip(&d.body, BODY_MAX))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn discard_draft(db: &Db, user: &UserId, thread: Option<&ThreadId>) -> Result<(), sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    delete_draft(&mut conn, user, thread).await
}

/// Removes the user's draft of a new message (`thread` none) or of a reply in `thread`.
async fn delete_draft(conn: &mut sqlx::AnyConnection, user: &UserId, thread: Option<&ThreadId>) -> Result<(), sqlx::Error> {
    match thread {
        None => sqlx::query("DELETE FROM message_drafts WHERE user_id = $1 AND thread_id IS NULL").bind(user.as_str()).execute(&mut *conn).await?,
        Some(t) => {
            sqlx::query("DELETE FROM message_drafts WHERE user_id = $1 AND thread_id = $2").bind(user.as_str()).bind(t.as_str()).execute(&mut *conn).await?
        }
    };
    Ok(())
}

/// The patient's choice of immediate or daily notices.
pub async fn notice_mode(db: &Db, user: &UserId) -> Result<NoticeMode, sqlx::Error> {
    let notices: String = sqlx::query_scalar("SELECT notices FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&db.pool).await?;
    Ok(NoticeMode::parse(&notices).unwrap_or(NoticeMode::Immediate))
}

pub async fn set_notice_mode(db: &Db, user: &UserId, mode: NoticeMode, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query("UPDATE users SET notices = $1 WHERE id = $2 AND notices <> $1")
        .bind(mode.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if changed {
        let mut event = AuditEvent::of(AuditAction::NoticePreferenceChanged);
        event.actor = Some(user);
        event.subject = Some(user);
        event.client_addr = client_addr;
        event.detail = Some(match mode {
            NoticeMode::Immediate => "immediate",
            NoticeMode::Daily => "daily",
        });
        audit::record(&mut tx, event, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Patients a member of staff may write to, for the "new message" form: search by name or MRN
/// among the patients whose care team they are on.
pub async fn staff_patients(db: &Db, staff: &UserId) -> Result<Vec<(PatientId, String, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct ChoiceRow {
        id: PatientId,
        #[sqlx(flatten)]
        name: PatientNameRow,
    }
    let rows: Vec<ChoiceRow> = sqlx::query_as(
        "SELECT DISTINCT p.id, p.given_name, p.family_name, p.mrn FROM patients p JOIN care_team c ON c.patient_id = p.id \
         WHERE c.provider_id = $1 OR c.pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = $1) \
         ORDER BY p.family_name, p.given_name LIMIT 1000",
    )
    .bind(staff.as_str())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name.full_name(), r.name.mrn)).collect())
}
