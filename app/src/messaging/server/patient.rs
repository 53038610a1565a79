//! The patient's side: sending a message or a reply (checks, limits, routing, attachments,
//! due date), their list of conversations and unread count, drafts, and their choice of
//! e-mail notices.

use super::routing::insert_route;
use super::*;

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
    Attachment(#[from] crate::messaging::attachments::AttachmentError),
    #[error("not found")]
    NotFound,
    #[error("the day's messages are used up")]
    DailyLimit,
    #[error("the month's attachment bytes are used up")]
    MonthlyBytes,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
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
    let quota = crate::messaging::quota::status(&mut tx, &settings.messaging, patient, now).await?;
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
