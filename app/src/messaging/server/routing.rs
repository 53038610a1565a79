//! Where a message goes: to its provider or pool, to the cover while a provider is out of
//! office (also for the messages already waiting when the period begins), and onwards when
//! staff forward it. Every move is recorded in `message_routes`.

use super::*;

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

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_route(
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
