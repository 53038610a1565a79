//! Assignments: a form given to a patient, the patient's list, opening one, and saving or
//! submitting the answers.

use super::{decode, surveys_on, QuestionnaireError};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::ids::is_id;
use crate::messaging::server::local_text;
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db};
use crate::platform::tokens;
use crate::questionnaires::answers::{self, Answers, Checked, Mode, RawAnswers};
use crate::questionnaires::form::{Form, FormKind, ItemType};
use crate::questionnaires::*;
use crate::settings::PortalSettings;
use crate::types::{StaffRole, UserId};
use std::net::IpAddr;

/// Assigns a form's latest version to a patient and queues a notice (no health data). A visit
/// survey is refused while the patient has stopped surveys.
#[allow(clippy::too_many_arguments)]
pub async fn assign(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    role: StaffRole,
    patient: &PatientId,
    form_id: &str,
    due: Option<CalendarDate>,
    note: Option<&str>,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<String, QuestionnaireError> {
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(QuestionnaireError::Note);
    }
    if due.is_some_and(|d| d < CalendarDate::of_ms(now)) {
        return Err(QuestionnaireError::DueDate);
    }
    if !is_id(form_id) || !is_id(patient.as_str()) {
        return Err(QuestionnaireError::NotFound);
    }
    let mut tx = db.begin_write().await?;
    if !lock_row(&mut tx, "patients", patient.as_str()).await? {
        return Err(QuestionnaireError::NotFound);
    }
    let (kind, version_id): (String, String) = sqlx::query_as(
        "SELECT f.kind, v.id AS version_id FROM questionnaire_forms f JOIN questionnaire_versions v ON v.form_id = f.id \
         WHERE f.id = $1 ORDER BY v.version DESC LIMIT 1",
    )
    .bind(form_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(QuestionnaireError::NotFound)?;
    let kind = FormKind::parse(&kind).ok_or_else(|| decode("kind"))?;
    if !may_assign(role, kind) {
        return Err(QuestionnaireError::NotAllowed);
    }
    if kind == FormKind::Survey && !surveys_on(&mut tx, patient).await? {
        return Err(QuestionnaireError::SurveysOff);
    }
    let id = tokens::new_id();
    sqlx::query(
        "INSERT INTO questionnaire_assignments (id, patient_id, form_id, version_id, kind, due_date, note, assigned_at, assigned_by, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting')",
    )
    .bind(&id)
    .bind(patient.as_str())
    .bind(form_id)
    .bind(version_id)
    .bind(kind.as_str())
    .bind(due.map(|d| d.to_string()))
    .bind(note.map(str::trim).filter(|n| !n.is_empty()))
    .bind(now)
    .bind(staff.as_str())
    .execute(&mut *tx)
    .await?;
    outbox::notify_patient(&mut tx, settings, patient, &Notice::NewToComplete, now).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("questionnaire-assignment"),
            record_id: Some(&id),
            client_addr,
            detail: Some(kind.as_str()),
            ..AuditEvent::of(AuditAction::QuestionnaireAssigned)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.kind, a.state, a.due_date, a.note, a.assigned_at, a.saved_at, a.submitted_at, a.result, \
    a.draft, a.answers, a.patient_id, v.version, v.content, u.display_name AS assigned_by_name \
    FROM questionnaire_assignments a JOIN questionnaire_versions v ON v.id = a.version_id JOIN users u ON u.id = a.assigned_by";

/// A row of [`ASSIGNMENT_SELECT`].
#[derive(sqlx::FromRow)]
pub(super) struct AssignmentRow {
    id: String,
    kind: String,
    state: String,
    due_date: Option<String>,
    note: Option<String>,
    assigned_at: i64,
    saved_at: Option<i64>,
    submitted_at: Option<i64>,
    result: Option<String>,
    draft: Option<String>,
    answers: Option<String>,
    pub(super) patient_id: PatientId,
    version: i64,
    content: String,
    assigned_by_name: String,
}

pub(super) fn summary(settings: &PortalSettings, row: &AssignmentRow, now: i64) -> Result<(AssignmentSummary, Form), sqlx::Error> {
    let zone = &settings.messaging.time_zone;
    let form: Form = serde_json::from_str(&row.content).map_err(|_| decode("form"))?;
    let state = AssignmentState::parse(&row.state).ok_or_else(|| decode("state"))?;
    let due = row.due_date.as_deref().and_then(CalendarDate::parse);
    let result = row.result.as_ref().map(|r| match r.as_str() {
        "acknowledged" => "Read and acknowledged".to_string(),
        other => match other.split_once(" of ") {
            Some((right, of)) => format!("{right} of {of} check answers right"),
            None => other.to_string(),
        },
    });
    Ok((
        AssignmentSummary {
            id: row.id.clone(),
            title: form.title.clone(),
            kind: FormKind::parse(&row.kind).ok_or_else(|| decode("kind"))?,
            version: row.version,
            state,
            overdue: state != AssignmentState::Submitted && due.is_some_and(|d| d < CalendarDate::of_ms(now)),
            due_date: due.map(|d| d.long()),
            note: row.note.clone(),
            assigned_at: local_text(zone, row.assigned_at),
            assigned_by: row.assigned_by_name.clone(),
            saved_at: row.saved_at.map(|t| local_text(zone, t)),
            submitted_at: row.submitted_at.map(|t| local_text(zone, t)),
            result,
        },
        form,
    ))
}

/// A patient's assignments, newest first; `kinds` limits them (the front desk sees surveys).
pub async fn assignments_of(
    db: &Db,
    settings: &PortalSettings,
    patient: &PatientId,
    kinds: &[FormKind],
    now: i64,
) -> Result<Vec<AssignmentSummary>, sqlx::Error> {
    let rows: Vec<AssignmentRow> = sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE a.patient_id = $1 ORDER BY a.assigned_at DESC, a.id"))
        .bind(patient.as_str())
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (s, _) = summary(settings, r, now)?;
        if kinds.contains(&s.kind) {
            out.push(s);
        }
    }
    Ok(out)
}

/// How many of the patient's assignments are not submitted yet.
pub async fn open_count(db: &Db, patient: &PatientId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM questionnaire_assignments WHERE patient_id = $1 AND state <> 'submitted'")
        .bind(patient.as_str())
        .fetch_one(&db.pool)
        .await
}

/// The patient's Questionnaires page.
pub async fn my_questionnaires(db: &Db, settings: &PortalSettings, patient: &PatientId, now: i64) -> Result<MyQuestionnaires, sqlx::Error> {
    let assignments = assignments_of(db, settings, patient, &FormKind::ALL, now).await?;
    let mut conn = db.pool.acquire().await?;
    Ok(MyQuestionnaires { assignments, surveys_on: surveys_on(&mut conn, patient).await? })
}

fn raw_of(row: &AssignmentRow, form: &Form) -> Result<(RawAnswers, Option<Answers>), sqlx::Error> {
    let answers: Option<Answers> = match &row.answers {
        Some(a) => Some(serde_json::from_str(a).map_err(|_| decode("answers"))?),
        None => None,
    };
    let raw = match (&answers, &row.draft) {
        (Some(a), _) => answers::to_raw(a, form),
        (None, Some(d)) => serde_json::from_str(d).map_err(|_| decode("draft"))?,
        (None, None) => RawAnswers::new(),
    };
    Ok((raw, answers))
}

/// A patient opens one of their assignments: the form on its version with what they typed and
/// the messages of a check (`mode`: a draft's, or a refused submission's). Audited.
pub async fn open_for_patient(
    db: &Db,
    settings: &PortalSettings,
    user: &UserId,
    patient: &PatientId,
    id: &str,
    mode: Mode,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<FillView>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    let row: Option<AssignmentRow> =
        sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE a.id = $1 AND a.patient_id = $2")).bind(id).bind(patient.as_str()).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let view = fill_view(settings, &row, mode, now)?;
    audit::record_alone(
        db,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            record_type: Some("questionnaire-assignment"),
            record_id: Some(id),
            client_addr,
            ..AuditEvent::of(AuditAction::QuestionnaireOpened)
        },
        now,
    )
    .await?;
    Ok(Some(view))
}

pub(super) fn fill_view(settings: &PortalSettings, row: &AssignmentRow, mode: Mode, now: i64) -> Result<FillView, sqlx::Error> {
    let (assignment, form) = summary(settings, row, now)?;
    let (raw, _) = raw_of(row, &form)?;
    let read_only = assignment.state == AssignmentState::Submitted;
    let checked: Checked = answers::check(&form, &raw, mode);
    let errors = if read_only || assignment.state == AssignmentState::Waiting { Vec::new() } else { checked.errors };
    Ok(FillView { assignment, form, raw, errors, enabled: checked.enabled, read_only })
}

pub use crate::questionnaires::answers::raw_from_fields;

/// What saving did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    Draft,
    Submitted,
    /// Submission refused: the answers are kept as a draft and the messages say why.
    Invalid,
}

/// Saves a draft, or submits (all checks, required items too). Answers are only ever set once:
/// a submitted assignment refuses both.
#[allow(clippy::too_many_arguments)]
pub async fn save(
    db: &Db,
    user: &UserId,
    patient: &PatientId,
    id: &str,
    fields: &[(String, String)],
    submit: bool,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Saved, QuestionnaireError> {
    if !is_id(id) {
        return Err(QuestionnaireError::NotFound);
    }
    let mut tx = db.begin_write().await?;
    if !lock_row(&mut tx, "questionnaire_assignments", id).await? {
        return Err(QuestionnaireError::NotFound);
    }
    let (state, content): (String, String) = sqlx::query_as(
        "SELECT a.state, v.content FROM questionnaire_assignments a JOIN questionnaire_versions v ON v.id = a.version_id WHERE a.id = $1 AND a.patient_id = $2",
    )
    .bind(id)
    .bind(patient.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(QuestionnaireError::NotFound)?;
    if state == AssignmentState::Submitted.as_str() {
        return Err(QuestionnaireError::Submitted);
    }
    let form: Form = serde_json::from_str(&content).map_err(|_| decode("form"))?;
    let raw = raw_from_fields(&form, fields);
    let draft = serde_json::to_string(&raw).map_err(|_| decode("draft"))?;
    let checked = answers::check(&form, &raw, if submit { Mode::Submit } else { Mode::Draft });
    let (outcome, action) = if submit && checked.is_valid() {
        let answers = serde_json::to_string(&checked.answers).map_err(|_| decode("answers"))?;
        let result = lesson_result(&form, &checked.answers);
        sqlx::query(
            "UPDATE questionnaire_assignments SET state = 'submitted', answers = $1, draft = NULL, result = $2, submitted_at = $3, saved_at = $3 \
             WHERE id = $4 AND state <> 'submitted'",
        )
        .bind(answers)
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        (Saved::Submitted, AuditAction::QuestionnaireSubmitted)
    } else {
        sqlx::query("UPDATE questionnaire_assignments SET state = 'in_progress', draft = $1, saved_at = $2 WHERE id = $3 AND state <> 'submitted'")
            .bind(draft)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        (if submit { Saved::Invalid } else { Saved::Draft }, AuditAction::QuestionnaireDraftSaved)
    };
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            record_type: Some("questionnaire-assignment"),
            record_id: Some(id),
            client_addr,
            ..AuditEvent::of(action)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A lesson's result: the check's score, or the acknowledgement; `None` for other forms.
fn lesson_result(form: &Form, answers: &Answers) -> Option<String> {
    match answers::score(form, answers) {
        Some((right, of)) => Some(format!("{right} of {of}")),
        None if form.all_items().iter().all(|i| !i.item_type.is_question() || i.item_type == ItemType::Boolean) => Some("acknowledged".into()),
        None => None,
    }
}
