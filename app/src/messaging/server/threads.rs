//! Reading a conversation (either side): its messages with their attachments and, for staff,
//! their routes; the read and opened marks; an attachment's content for download.

use super::*;

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
