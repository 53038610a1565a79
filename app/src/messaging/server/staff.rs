//! The staff side: inboxes, a patient's conversations, replying, starting a conversation,
//! marking a message handled, and the patients a member of staff may write to.

use super::*;
use crate::platform::paging;

/// A staff member's inbox: the patients' messages that wait for them or their pools, soonest due
/// first, one page of [`INBOX_PAGE_SIZE`] (a page past the last, as after messages were handled,
/// shows the first), with the counts of the whole inbox. (Each was sent their way, so the minimum-necessary rule lets them read
/// it.)
pub async fn staff_inbox(db: &Db, zone: &jiff::tz::TimeZone, staff: &UserId, filter: InboxFilter, page: u32, now: i64) -> Result<InboxPage, sqlx::Error> {
    // The page is chosen from the open messages alone, in the covering indexes of migration 0023
    // (OFFSET skips index entries, not joined rows); only its rows are then joined to their
    // conversation, patient and assignee and their routes counted. The counts of the whole inbox
    // come from the same indexes in the same statement: one round trip, and counts that agree
    // with the page. MATERIALIZED: PostgreSQL otherwise may count again for each row of the page.
    // The limit is written into the SQL, not bound: for a bound one, the generic plan PostgreSQL
    // may keep after five runs assumes a tenth of the rows and hashes all users.
    let sql = format!(
        "WITH c AS MATERIALIZED (SELECT COUNT(*) AS waiting, COUNT(CASE WHEN o.due_at < $2 THEN 1 END) AS overdue FROM ({}) o) \
         SELECT m.id, m.thread_id, m.sent_at, m.due_at, m.staff_opened_at, t.subject, t.topic, p.given_name, p.family_name, \
           COALESCE(su.display_name, sp.name) AS assigned_name, \
           (SELECT COUNT(*) FROM message_routes r WHERE r.message_id = m.id) AS routes, c.waiting, c.overdue \
         FROM ({} ORDER BY due_at, sent_at, id LIMIT {INBOX_PAGE_SIZE} OFFSET $3) m \
           CROSS JOIN c JOIN threads t ON t.id = m.thread_id JOIN patients p ON p.id = t.patient_id \
           LEFT JOIN users su ON su.id = m.assigned_provider_id LEFT JOIN care_pools sp ON sp.id = m.assigned_pool_id \
         ORDER BY m.due_at, m.sent_at, m.id",
        open_messages(filter, "m.due_at"),
        open_messages(filter, "m.id, m.thread_id, m.sent_at, m.due_at, m.staff_opened_at, m.assigned_provider_id, m.assigned_pool_id"),
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
        waiting: i64,
        overdue: i64,
    }
    let read = |page: u32| sqlx::query_as::<_, InboxRow>(&sql).bind(staff.as_str()).bind(now).bind(paging::offset(page, INBOX_PAGE_SIZE)).fetch_all(&db.pool);
    let (page, rows) = paging::read_page(page, read).await?;
    let (waiting, overdue) = rows.first().map_or((0, 0), |r| (r.waiting, r.overdue));
    let pages = paging::page_count(waiting, INBOX_PAGE_SIZE);
    let items = rows
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
        .collect();
    Ok(InboxPage { items, waiting, overdue, page, pages })
}

/// The open patients' messages of an inbox view as SQL (`$1` the member of staff, `$2` now), each
/// with `columns` of `messages m`. Messages of their own and of their pools are two branches of a
/// UNION ALL rather than one OR: each branch reads one of the indexes of migration 0023 in the
/// inbox's order, where an OR of the two made SQLite read every open message from the table.
fn open_messages(filter: InboxFilter, columns: &str) -> String {
    let open = format!("SELECT {columns} FROM messages m WHERE m.author_kind = 'patient' AND m.handled_at IS NULL");
    let mine = format!("{open} AND m.assigned_provider_id = $1");
    let pools = format!("{open} AND m.assigned_pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = $1)");
    // The portal assigns a message to a provider or to a pool, never both, but the schema does
    // not say so: one assigned to both is counted once, as theirs.
    let pools_not_mine = format!("{pools} AND (m.assigned_provider_id IS NULL OR m.assigned_provider_id <> $1)");
    let extra = match filter {
        InboxFilter::Overdue => " AND m.due_at < $2",
        InboxFilter::Unread => " AND m.staff_opened_at IS NULL",
        _ => "",
    };
    match filter {
        InboxFilter::Mine => format!("{mine}{extra}"),
        InboxFilter::Pools => format!("{pools}{extra}"),
        InboxFilter::All | InboxFilter::Overdue | InboxFilter::Unread => format!("{mine}{extra} UNION ALL {pools_not_mine}{extra}"),
    }
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
