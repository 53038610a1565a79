//! Video visits in the database, and who may reach which. A patient reaches only the visits
//! of their own record, by any id (anything else is "not found"); staff who may schedule visits (`Permission::ScheduleVisits`)
//! reach every visit (the caller checked the role). Each change is written in one transaction
//! with its audit entry and, for the patient, the notice that something new waits.

use super::*;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::layout::NoticeCode;
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db};
use crate::platform::tokens;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

/// Why a schedule, a cancellation or a begin was refused. Each refusal is shown by its
/// `VisitNotice` (the page's code and text); a database failure is not the visitor's to fix.
#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    #[error("{}", VisitNotice::NotFound.message())]
    NotFound,
    #[error("{}", VisitNotice::Patient.message())]
    Patient,
    #[error("{}", VisitNotice::Clinician.message())]
    Clinician,
    #[error("{}", VisitNotice::When.message())]
    When,
    #[error("{}", VisitNotice::Length.message())]
    Length,
    #[error("{}", VisitNotice::Link.message())]
    Link,
    #[error("{}", VisitNotice::LinkNamesPatient.message())]
    LinkNamesPatient,
    #[error("{}", VisitNotice::WasCancelled.message())]
    Cancelled,
    #[error("{}", VisitNotice::Ended.message())]
    Ended,
    #[error("{}", VisitNotice::NotOpen.message())]
    NotOpen,
    #[error("{}", VisitNotice::NotAcknowledged.message())]
    NotAcknowledged,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl VisitError {
    /// The notice the page shows this refusal by; a database failure stays an error.
    pub fn into_notice(self) -> Result<VisitNotice, sqlx::Error> {
        Ok(match self {
            VisitError::NotFound => VisitNotice::NotFound,
            VisitError::Patient => VisitNotice::Patient,
            VisitError::Clinician => VisitNotice::Clinician,
            VisitError::When => VisitNotice::When,
            VisitError::Length => VisitNotice::Length,
            VisitError::Link => VisitNotice::Link,
            VisitError::LinkNamesPatient => VisitNotice::LinkNamesPatient,
            VisitError::Cancelled => VisitNotice::WasCancelled,
            VisitError::Ended => VisitNotice::Ended,
            VisitError::NotOpen => VisitNotice::NotOpen,
            VisitError::NotAcknowledged => VisitNotice::NotAcknowledged,
            VisitError::Db(e) => return Err(e),
        })
    }
}

/// The organisation's join link as staff enter it: `https://` with a host, no credentials, at
/// most 500 characters (a video room's address; nothing longer is needed).
pub fn parse_join_link(text: &str) -> Result<url::Url, VisitError> {
    let text = text.trim();
    if text.len() > 500 {
        return Err(VisitError::Link);
    }
    let url = crate::external_links::server::parse_destination(text).map_err(|_| VisitError::Link)?;
    if url.scheme() != "https" {
        return Err(VisitError::Link);
    }
    Ok(url)
}

/// Whether the link spells the patient's given or family name (as typed, any case, also
/// percent-encoded). Short names (under 3 letters) would match too much to mean anything.
pub fn names_patient(link: &url::Url, given: &str, family: &str) -> bool {
    let decoded: String = url::form_urlencoded::parse(link.as_str().as_bytes()).map(|(k, v)| format!("{k}{v}")).collect::<Vec<_>>().join("&");
    let haystacks = [link.as_str().to_lowercase(), decoded.to_lowercase()];
    [given, family].iter().map(|n| n.trim().to_lowercase()).filter(|n| n.chars().count() >= 3).any(|name| {
        let squashed: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
        haystacks.iter().any(|h| h.contains(&name) || (squashed.len() >= 3 && h.contains(&squashed)))
    })
}

/// The UTC time of a local date (`YYYY-MM-DD`) and time (`HH:MM`) in the clinic's time zone.
pub fn local_start(zone: &jiff::tz::TimeZone, date: &str, time: &str) -> Option<i64> {
    let date = jiff::civil::Date::strptime("%Y-%m-%d", date.trim()).ok()?;
    let time = jiff::civil::Time::strptime("%H:%M", time.trim()).ok()?;
    let zoned = date.to_datetime(time).to_zoned(zone.clone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

fn local(zone: &jiff::tz::TimeZone, at: i64, format: &str) -> String {
    jiff::Timestamp::from_millisecond(at).map(|t| t.to_zoned(zone.clone()).strftime(format).to_string()).unwrap_or_default()
}

const VISIT_SELECT: &str = "SELECT v.id, v.patient_id, v.starts_at, v.ends_at, v.cancelled_at, v.join_url, c.display_name AS clinician, \
    p.given_name, p.family_name, p.mrn FROM video_visits v JOIN users c ON c.id = v.clinician_id JOIN patients p ON p.id = v.patient_id";

/// A row of `VISIT_SELECT`.
#[derive(sqlx::FromRow)]
struct VisitRow {
    id: VisitId,
    starts_at: i64,
    ends_at: i64,
    cancelled_at: Option<i64>,
    join_url: String,
    clinician: String,
    given_name: String,
    family_name: String,
    mrn: String,
}

fn summary(settings: &PortalSettings, row: &VisitRow, now: i64) -> VisitSummary {
    let zone = &settings.messaging.time_zone;
    let (starts_at, ends_at) = (row.starts_at, row.ends_at);
    VisitSummary {
        id: row.id.clone(),
        starts: local(zone, starts_at, "%A, %B %-d, %Y, %-I:%M %p"),
        ends: local(zone, ends_at, "%-I:%M %p"),
        opens: local(zone, starts_at - JOIN_OPENS_MINUTES_BEFORE * 60_000, "%-I:%M %p"),
        minutes: (ends_at - starts_at) / 60_000,
        clinician: row.clinician.clone(),
        state: VisitState::at(now, starts_at, ends_at, row.cancelled_at.is_some()),
    }
}

/// The patient's video visits: not yet ended ones soonest first, then ended or cancelled
/// ones, latest first (at most 50).
pub async fn patient_visits(db: &Db, settings: &PortalSettings, patient: &PatientId, now: i64) -> Result<PatientVisits, sqlx::Error> {
    let rows: Vec<VisitRow> =
        sqlx::query_as(&format!("{VISIT_SELECT} WHERE v.patient_id = $1 ORDER BY v.starts_at")).bind(patient.as_str()).fetch_all(&db.pool).await?;
    let mut upcoming = Vec::new();
    let mut past = Vec::new();
    for row in &rows {
        let visit = summary(settings, row, now);
        match visit.state {
            VisitState::Upcoming | VisitState::Open => upcoming.push(visit),
            VisitState::Ended | VisitState::Cancelled => past.push(visit),
        }
    }
    past.reverse();
    past.truncate(50);
    Ok(PatientVisits { upcoming, past })
}

/// One visit of the patient's own; `None` for any other id.
pub async fn patient_visit(db: &Db, settings: &PortalSettings, patient: &PatientId, id: &VisitId, now: i64) -> Result<Option<VisitSummary>, sqlx::Error> {
    let row: Option<VisitRow> = sqlx::query_as(&format!("{VISIT_SELECT} WHERE v.id = $1 AND v.patient_id = $2"))
        .bind(id.as_str())
        .bind(patient.as_str())
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| summary(settings, &r, now)))
}

/// *Begin visit*: the patient confirmed that they understand the limitations. Records the
/// acknowledgement (time, address, wording) with its audit entry and answers the join link,
/// only for the patient's own visit, not cancelled, between its opening and its end.
pub async fn acknowledge(
    db: &Db,
    settings: &PortalSettings,
    user: &UserId,
    patient: &PatientId,
    id: &VisitId,
    understood: bool,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<String, VisitError> {
    let mut tx = db.begin_write().await?;
    let row: VisitRow = sqlx::query_as(&format!("{VISIT_SELECT} WHERE v.id = $1 AND v.patient_id = $2"))
        .bind(id.as_str())
        .bind(patient.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(VisitError::NotFound)?;
    match summary(settings, &row, now).state {
        VisitState::Cancelled => return Err(VisitError::Cancelled),
        VisitState::Ended => return Err(VisitError::Ended),
        VisitState::Upcoming => return Err(VisitError::NotOpen),
        VisitState::Open => {}
    }
    if !understood {
        return Err(VisitError::NotAcknowledged);
    }
    sqlx::query("INSERT INTO video_visit_acknowledgements (id, visit_id, user_id, acknowledged_at, client_addr, wording) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tokens::new_id())
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(now)
        .bind(client_addr.map(|a| a.to_string()))
        .bind(LIMITATIONS_VERSION)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            record_type: Some("video-visit"),
            record_id: Some(id.as_str()),
            client_addr,
            detail: Some(LIMITATIONS_VERSION),
            ..AuditEvent::of(AuditAction::VideoVisitLimitationsAcknowledged)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row.join_url)
}

/// The staff list: visits not yet ended (cancelled ones of that period too), soonest first, at
/// most 200; and the clinicians to schedule with. The look is audited (it names patients).
pub async fn staff_visits(db: &Db, settings: &PortalSettings, user: &UserId, client_addr: Option<IpAddr>, now: i64) -> Result<StaffVisits, sqlx::Error> {
    let rows: Vec<VisitRow> =
        sqlx::query_as(&format!("{VISIT_SELECT} WHERE v.ends_at > $1 ORDER BY v.starts_at LIMIT 200")).bind(now).fetch_all(&db.pool).await?;
    let visits = rows
        .iter()
        .map(|row| StaffVisit {
            visit: summary(settings, row, now),
            patient: format!("{} {}", row.given_name, row.family_name),
            mrn: row.mrn.clone(),
            host: url::Url::parse(&row.join_url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default(),
        })
        .collect();
    let clinicians: Vec<(String, String)> =
        sqlx::query_as("SELECT id, display_name FROM users WHERE kind = 'staff' AND staff_role = 'clinician' AND access = 'active' ORDER BY display_name")
            .fetch_all(&db.pool)
            .await?;
    audit::record_alone(db, AuditEvent { actor: Some(user), client_addr, ..AuditEvent::of(AuditAction::VideoVisitsViewed) }, now).await?;
    Ok(StaffVisits { visits, clinicians, time_zone: settings.messaging.time_zone.iana_name().unwrap_or("UTC").to_string() })
}

/// A visit as staff enter it.
pub struct NewVisit<'a> {
    pub mrn: &'a str,
    pub clinician: &'a str,
    pub date: &'a str,
    pub time: &'a str,
    pub minutes: &'a str,
    pub join_link: &'a str,
}

/// Schedules a visit; the patient is told (the notice says only that something new waits).
pub async fn schedule(
    db: &Db,
    settings: &PortalSettings,
    new: NewVisit<'_>,
    staff: &UserId,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<VisitId, VisitError> {
    let minutes: i64 = new.minutes.trim().parse().ok().filter(|m| DURATIONS.contains(m)).ok_or(VisitError::Length)?;
    let starts_at = local_start(&settings.messaging.time_zone, new.date, new.time).ok_or(VisitError::When)?;
    if starts_at <= now || starts_at > now + 366 * 86_400_000 {
        return Err(VisitError::When);
    }
    let link = parse_join_link(new.join_link)?;
    let mut tx = db.begin_write().await?;
    let (patient_id, given_name, family_name): (PatientId, String, String) = sqlx::query_as("SELECT id, given_name, family_name FROM patients WHERE mrn = $1")
        .bind(new.mrn.trim().to_uppercase())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(VisitError::Patient)?;
    if names_patient(&link, &given_name, &family_name) {
        return Err(VisitError::LinkNamesPatient);
    }
    let clinician: String = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND kind = 'staff' AND staff_role = 'clinician' AND access = 'active'")
        .bind(new.clinician.trim())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(VisitError::Clinician)?;
    let id = VisitId::new_random();
    sqlx::query(
        "INSERT INTO video_visits (id, patient_id, clinician_id, starts_at, ends_at, join_url, scheduled_by, scheduled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.as_str())
    .bind(patient_id.as_str())
    .bind(&clinician)
    .bind(starts_at)
    .bind(starts_at + minutes * 60_000)
    .bind(link.as_str())
    .bind(staff.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let subject = crate::users::for_patient(&mut *tx, &patient_id).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: subject.as_ref(),
            record_type: Some("video-visit"),
            record_id: Some(id.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::VideoVisitScheduled)
        },
        now,
    )
    .await?;
    outbox::notify_patient(&mut tx, settings, &patient_id, &Notice::VisitsChanged, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Cancels a visit that has not ended; the patient is told something changed in the portal.
pub async fn cancel(db: &Db, settings: &PortalSettings, id: &VisitId, staff: &UserId, client_addr: Option<IpAddr>, now: i64) -> Result<(), VisitError> {
    let mut tx = db.begin_write().await?;
    // Two staff members cancelling at once: the second waits, then finds it cancelled.
    if !lock_row(&mut tx, "video_visits", id.as_str()).await? {
        return Err(VisitError::NotFound);
    }
    let (patient, ends_at, cancelled_at): (PatientId, i64, Option<i64>) =
        sqlx::query_as("SELECT patient_id, ends_at, cancelled_at FROM video_visits WHERE id = $1").bind(id.as_str()).fetch_one(&mut *tx).await?;
    if cancelled_at.is_some() {
        return Err(VisitError::Cancelled);
    }
    if ends_at <= now {
        return Err(VisitError::Ended);
    }
    sqlx::query("UPDATE video_visits SET cancelled_at = $1, cancelled_by = $2 WHERE id = $3")
        .bind(now)
        .bind(staff.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    let subject = crate::users::for_patient(&mut *tx, &patient).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: subject.as_ref(),
            record_type: Some("video-visit"),
            record_id: Some(id.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::VideoVisitCancelled)
        },
        now,
    )
    .await?;
    outbox::notify_patient(&mut tx, settings, &patient, &Notice::VisitsChanged, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_links_are_https_addresses() {
        assert!(parse_join_link("https://video.example.org/room/7f3a").is_ok());
        for bad in ["http://video.example.org/room", "javascript:alert(1)", "data:text/html,x", "video.example.org/room", "https://a:b@video.example.org/"] {
            assert!(parse_join_link(bad).is_err(), "{bad}");
        }
        assert!(parse_join_link(&format!("https://video.example.org/{}", "r".repeat(500))).is_err());
    }

    #[test]
    fn a_link_with_the_patients_name_is_noticed() {
        let link = |s: &str| url::Url::parse(s).unwrap();
        assert!(names_patient(&link("https://v.example.org/room?name=Alice%20Johnson"), "Alice", "Johnson"));
        assert!(names_patient(&link("https://v.example.org/johnson-a"), "Alice", "Johnson"));
        assert!(names_patient(&link("https://v.example.org/r?who=Mary+Ann"), "Mary Ann", "Lee"));
        assert!(!names_patient(&link("https://v.example.org/room/7f3a"), "Alice", "Johnson"));
        assert!(!names_patient(&link("https://v.example.org/room/ed"), "Ed", "Li"), "two letters match too much");
    }

    #[test]
    fn local_times_are_in_the_clinic_zone() {
        let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
        // 2090-07-03 10:00 EDT is 14:00 UTC.
        let at = local_start(&zone, "2090-07-03", "10:00").unwrap();
        assert_eq!(jiff::Timestamp::from_millisecond(at).unwrap().to_string(), "2090-07-03T14:00:00Z");
        assert!(local_start(&zone, "2090-13-03", "10:00").is_none());
        assert!(local_start(&zone, "2090-07-03", "25:00").is_none());
    }
}
