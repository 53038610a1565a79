//! Questionnaire rules and storage. Every read takes the person asking: a patient reaches only
//! the assignments of their own record, by any id; staff reach what their role allows (the
//! caller checked the role; `may_assign` decides the kinds). Views of answers and submissions
//! are audited; audit entries and notices never carry a title, a question or an answer.

use super::answers::{self, Answers, Checked, Mode, RawAnswers};
use super::fhir::{self, ImportError, ResponseContext};
use super::form::{Form, FormKind, ItemType};
use super::*;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::dates::CalendarDate;
use crate::ids::is_id;
use crate::messaging::server::local_text;
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::settings::PortalSettings;
use crate::platform::tokens;
use crate::types::{StaffRole, UserId};
use std::net::IpAddr;

/// Why a questionnaire action was refused; the texts are for people.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireError {
    #[error("That form, patient or questionnaire was not found.")]
    NotFound,
    #[error("{0}")]
    Import(ImportError),
    #[error("This patient has chosen not to receive visit surveys, so no survey can be assigned to them.")]
    SurveysOff,
    #[error("Your role cannot assign this kind of form.")]
    NotAllowed,
    #[error("Enter the due date like 2026-03-31, today or later.")]
    DueDate,
    #[error("The note is limited to 500 characters.")]
    Note,
    #[error("These answers were already submitted and cannot be changed.")]
    Submitted,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn decode(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} could not be read").into())
}

// ---------------------------------------------------------------------------------------------
// Library

/// The library, by title, each form with its latest version and how many answers it has.
pub async fn library(db: &Db, settings: &PortalSettings) -> Result<Vec<FormSummary>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct LibraryRow {
        id: String,
        kind: String,
        title: String,
        version: i64,
        published_at: i64,
        submitted: i64,
    }
    let rows: Vec<LibraryRow> = sqlx::query_as(
        "SELECT f.id, f.kind, f.title, v.version, v.published_at, \
         (SELECT COUNT(*) FROM questionnaire_assignments a WHERE a.form_id = f.id AND a.state = 'submitted') AS submitted \
         FROM questionnaire_forms f JOIN questionnaire_versions v ON v.form_id = f.id \
         WHERE v.version = (SELECT MAX(v2.version) FROM questionnaire_versions v2 WHERE v2.form_id = f.id) ORDER BY f.title, f.id",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(FormSummary {
                id: r.id,
                kind: FormKind::parse(&r.kind).ok_or_else(|| decode("kind"))?,
                title: r.title,
                version: r.version,
                published_at: local_text(&settings.messaging.time_zone, r.published_at),
                submitted: r.submitted,
            })
        })
        .collect()
}

/// Imports a Questionnaire: a new form of `kind`, or (with `form_id`) the next version of an
/// existing one (its kind stays). Nothing is stored unless the whole Questionnaire imports.
pub async fn import_version(
    db: &Db,
    staff: &UserId,
    kind: FormKind,
    form_id: Option<&str>,
    source: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<(String, i64), QuestionnaireError> {
    let form = fhir::import(source).map_err(QuestionnaireError::Import)?;
    let mut tx = db.begin_write().await?;
    let (id, version) = publish(&mut tx, Some(staff), kind, form_id, &form, source, None, now).await?;
    let detail = format!("version {version}");
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("questionnaire-form"),
            record_id: Some(&id),
            client_addr,
            detail: Some(&detail),
            ..AuditEvent::of(AuditAction::QuestionnaireImported)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((id, version))
}

#[allow(clippy::too_many_arguments)]
async fn publish(
    tx: &mut Tx,
    staff: Option<&UserId>,
    kind: FormKind,
    form_id: Option<&str>,
    form: &Form,
    source: &str,
    sample: Option<&str>,
    now: i64,
) -> Result<(String, i64), QuestionnaireError> {
    let content = serde_json::to_string(form).map_err(|_| QuestionnaireError::NotFound)?;
    let (id, version) = match form_id {
        Some(id) => {
            if !is_id(id) || !lock_row(tx, "questionnaire_forms", id).await? {
                return Err(QuestionnaireError::NotFound);
            }
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) AS v FROM questionnaire_versions WHERE form_id = $1").bind(id).fetch_one(&mut **tx).await?;
            sqlx::query("UPDATE questionnaire_forms SET title = $1 WHERE id = $2").bind(&form.title).bind(id).execute(&mut **tx).await?;
            (id.to_string(), latest.unwrap_or(0) + 1)
        }
        None => {
            let id = tokens::new_id();
            sqlx::query("INSERT INTO questionnaire_forms (id, kind, title, sample, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&id)
                .bind(kind.as_str())
                .bind(&form.title)
                .bind(sample)
                .bind(now)
                .bind(staff.map(|s| s.as_str()))
                .execute(&mut **tx)
                .await?;
            (id, 1)
        }
    };
    sqlx::query("INSERT INTO questionnaire_versions (id, form_id, version, content, source, published_at, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(tokens::new_id())
        .bind(&id)
        .bind(version)
        .bind(content)
        .bind(source)
        .bind(now)
        .bind(staff.map(|s| s.as_str()))
        .execute(&mut **tx)
        .await?;
    Ok((id, version))
}

/// Loads the shipped sample forms that are not in the library yet; returns how many.
pub async fn load_samples(db: &Db, staff: Option<&UserId>, now: i64) -> Result<usize, QuestionnaireError> {
    let mut loaded = 0;
    for (kind, name, text) in SAMPLES {
        if sqlx::query("SELECT id FROM questionnaire_forms WHERE sample = $1").bind(name).fetch_optional(&db.pool).await?.is_some() {
            continue;
        }
        let form = fhir::import(text).map_err(QuestionnaireError::Import)?;
        let mut tx = db.begin_write().await?;
        publish(&mut tx, staff, kind, None, &form, text, Some(name), now).await?;
        tx.commit().await?;
        loaded += 1;
    }
    Ok(loaded)
}

/// A form's latest version, as a FHIR Questionnaire (for export), with its title.
pub async fn export_form(db: &Db, form_id: &str) -> Result<Option<(String, serde_json::Value)>, sqlx::Error> {
    if !is_id(form_id) {
        return Ok(None);
    }
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT v.version, v.content FROM questionnaire_versions v WHERE v.form_id = $1 ORDER BY v.version DESC LIMIT 1")
            .bind(form_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((version, content)) = row else { return Ok(None) };
    let form: Form = serde_json::from_str(&content).map_err(|_| decode("form"))?;
    Ok(Some((form.title.clone(), fhir::export(&form, form_id, version, "active"))))
}

/// What an import form held when it was refused, and why.
pub async fn save_import_draft(db: &Db, user: &UserId, kind: &str, form_id: Option<&str>, source: &str, message: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM questionnaire_import_drafts WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO questionnaire_import_drafts (user_id, kind, form_id, source, message, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user.as_str())
        .bind(kind)
        .bind(form_id)
        .bind(source)
        .bind(message)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The refused import (kind, form id, JSON, message), if any.
pub async fn import_draft(db: &Db, user: &UserId) -> Result<Option<(String, Option<String>, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT kind, form_id, source, message FROM questionnaire_import_drafts WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_optional(&db.pool)
        .await
}

pub async fn discard_import_draft(db: &Db, user: &UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM questionnaire_import_drafts WHERE user_id = $1").bind(user.as_str()).execute(&db.pool).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The survey preference

/// Whether the patient receives visit surveys (on unless they stopped them).
pub async fn surveys_on(conn: &mut sqlx::AnyConnection, patient: &PatientId) -> Result<bool, sqlx::Error> {
    let surveys: Option<String> =
        sqlx::query_scalar("SELECT surveys FROM survey_preferences WHERE patient_id = $1").bind(patient.as_str()).fetch_optional(conn).await?;
    Ok(surveys.is_none_or(|s| s == "on"))
}

/// Sets "Send me visit surveys"; records and audits a change (the same value again changes
/// nothing). Returns whether it changed.
pub async fn set_surveys(db: &Db, user: &UserId, patient: &PatientId, on: bool, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    lock_row(&mut tx, "patients", patient.as_str()).await?;
    if surveys_on(&mut tx, patient).await? == on {
        return Ok(false);
    }
    let value = if on { "on" } else { "off" };
    sqlx::query("DELETE FROM survey_preferences WHERE patient_id = $1").bind(patient.as_str()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO survey_preferences (patient_id, surveys, changed_at) VALUES ($1, $2, $3)")
        .bind(patient.as_str())
        .bind(value)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO survey_preference_changes (id, patient_id, changed_at, changed_by, surveys) VALUES ($1, $2, $3, $4, $5)")
        .bind(tokens::new_id())
        .bind(patient.as_str())
        .bind(now)
        .bind(user.as_str())
        .bind(value)
        .execute(&mut *tx)
        .await?;
    let detail = if on { "surveys on" } else { "surveys off" };
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(user), subject: Some(user), client_addr, detail: Some(detail), ..AuditEvent::of(AuditAction::SurveyPreferenceChanged) },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Assignments

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

const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.kind, a.state, a.due_date, a.note, a.assigned_at, a.saved_at, a.submitted_at, a.result, \
    a.draft, a.answers, a.patient_id, v.version, v.content, u.display_name AS assigned_by_name \
    FROM questionnaire_assignments a JOIN questionnaire_versions v ON v.id = a.version_id JOIN users u ON u.id = a.assigned_by";

/// A row of [`ASSIGNMENT_SELECT`].
#[derive(sqlx::FromRow)]
struct AssignmentRow {
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
    patient_id: PatientId,
    version: i64,
    content: String,
    assigned_by_name: String,
}

fn summary(settings: &PortalSettings, row: &AssignmentRow, now: i64) -> Result<(AssignmentSummary, Form), sqlx::Error> {
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

fn fill_view(settings: &PortalSettings, row: &AssignmentRow, mode: Mode, now: i64) -> Result<FillView, sqlx::Error> {
    let (assignment, form) = summary(settings, row, now)?;
    let (raw, _) = raw_of(row, &form)?;
    let read_only = assignment.state == AssignmentState::Submitted;
    let checked: Checked = answers::check(&form, &raw, mode);
    let errors = if read_only || assignment.state == AssignmentState::Waiting { Vec::new() } else { checked.errors };
    Ok(FillView { assignment, form, raw, errors, enabled: checked.enabled, read_only })
}

pub use super::answers::raw_from_fields;

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

// ---------------------------------------------------------------------------------------------
// Staff views of answers

/// A patient as the questionnaire pages name them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PatientLine {
    pub id: String,
    pub name: String,
    pub mrn: String,
    pub date_of_birth: String,
}

pub async fn patient_line(db: &Db, patient: &PatientId) -> Result<Option<PatientLine>, sqlx::Error> {
    if !is_id(patient.as_str()) {
        return Ok(None);
    }
    Ok(crate::patients::server::find(db, patient).await?.map(|p| PatientLine {
        name: p.full_name(),
        mrn: p.mrn.clone(),
        date_of_birth: p.date_of_birth.clone(),
        id: p.id.to_string(),
    }))
}

/// Records that staff listed a patient's questionnaires (or a form's answers).
pub async fn audit_listed(db: &Db, staff: &UserId, record_type: &str, record_id: &str, client_addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
    audit::record_alone(
        db,
        AuditEvent {
            actor: Some(staff),
            record_type: Some(record_type),
            record_id: Some(record_id),
            client_addr,
            ..AuditEvent::of(AuditAction::QuestionnairesListed)
        },
        now,
    )
    .await
}

/// How `staff` (a clinician: the caller checked the role) may read the answers of `patient` at
/// `now` (see [`AnswerAccess`]).
pub async fn answer_access(db: &Db, settings: &PortalSettings, staff: &UserId, patient: &PatientId, now: i64) -> Result<AnswerAccess, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    if crate::messaging::server::clinician_of_care_team(&mut conn, staff, patient).await? {
        return Ok(AnswerAccess::CareTeam);
    }
    let until: Option<i64> =
        sqlx::query_scalar("SELECT MAX(expires_at) AS until FROM break_glass_accesses WHERE user_id = $1 AND patient_id = $2 AND expires_at > $3")
            .bind(staff.as_str())
            .bind(patient.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
    Ok(match until {
        Some(until) => AnswerAccess::Reason { until: local_text(&settings.messaging.time_zone, until) },
        None => AnswerAccess::NeedsReason,
    })
}

/// Why a reason was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReasonError {
    #[error("Please say why you need these answers, in at least {REASON_MIN_CHARS} characters.")]
    TooShort,
    #[error("You are on this patient's care team: no reason is needed.")]
    NotNeeded,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Records a clinician's reason to read the answers of the patient of `assignment` from outside
/// the care team ("break the glass"): kept with who, whose record and when (the security page
/// lists them), audited under its own action, and good for [`BREAK_GLASS_MINUTES`]. Returns the
/// patient.
pub async fn break_the_glass(db: &Db, staff: &UserId, assignment: &str, reason: &str, client_addr: Option<IpAddr>, now: i64) -> Result<PatientId, ReasonError> {
    if !is_id(assignment) {
        return Err(ReasonError::NotFound);
    }
    let reason: String = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.chars().count() < REASON_MIN_CHARS {
        return Err(ReasonError::TooShort);
    }
    let reason: String = reason.chars().take(REASON_MAX_CHARS).collect();
    let mut tx = db.begin_write().await?;
    let Some(patient): Option<PatientId> =
        sqlx::query_scalar("SELECT patient_id FROM questionnaire_assignments WHERE id = $1").bind(assignment).fetch_optional(&mut *tx).await?
    else {
        return Err(ReasonError::NotFound);
    };
    if crate::messaging::server::clinician_of_care_team(&mut tx, staff, &patient).await? {
        return Err(ReasonError::NotNeeded);
    }
    sqlx::query("INSERT INTO break_glass_accesses (id, user_id, patient_id, reason, at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tokens::new_id())
        .bind(staff.as_str())
        .bind(patient.as_str())
        .bind(&reason)
        .bind(now)
        .bind(now + BREAK_GLASS_MINUTES * 60_000)
        .execute(&mut *tx)
        .await?;
    let subject = crate::users::for_patient(&mut *tx, &patient).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: subject.as_ref(),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr,
            // The reason itself is free text: it lives in break_glass_accesses, not in the trail.
            detail: Some("questionnaire answers"),
            ..AuditEvent::of(AuditAction::BreakTheGlass)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(patient)
}

/// The patient of an assignment (for the access decision before anything of it is read).
pub async fn assignment_patient(db: &Db, id: &str) -> Result<Option<PatientId>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT patient_id FROM questionnaire_assignments WHERE id = $1").bind(id).fetch_optional(&db.pool).await
}

/// One submitted response as a list line.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResponseLine {
    pub id: String,
    pub patient: String,
    pub mrn: String,
    pub version: i64,
    pub submitted_at: String,
    pub result: Option<String>,
}

/// The condition that `{staff}` reads the answers of `{patient}` at `{now}`: a clinician of the
/// care team, or one with a recorded reason that has not run out (see [`AnswerAccess`]).
fn reads_answers_sql(patient: &str, staff: &str, now: &str) -> String {
    format!(
        "({} OR EXISTS (SELECT 1 FROM break_glass_accesses bg WHERE bg.user_id = {staff} AND bg.patient_id = {patient} AND bg.expires_at > {now}))",
        crate::messaging::server::care_team_clinician_sql(patient, staff)
    )
}

/// The submitted responses to a form (every version), newest first, with the form's title: the
/// responses of the patients whose answers `staff` reads (a clinician of their care team, or
/// under a recorded reason), and how many others there are (not named: the reason is given on
/// a response of the patient's).
pub async fn form_responses(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    form_id: &str,
    now: i64,
) -> Result<Option<(String, Vec<ResponseLine>, i64)>, sqlx::Error> {
    if !is_id(form_id) {
        return Ok(None);
    }
    let Some(title): Option<String> = sqlx::query_scalar("SELECT title FROM questionnaire_forms WHERE id = $1").bind(form_id).fetch_optional(&db.pool).await?
    else {
        return Ok(None);
    };
    #[derive(sqlx::FromRow)]
    struct ResponseRow {
        id: String,
        submitted_at: i64,
        result: Option<String>,
        version: i64,
        given_name: String,
        family_name: String,
        mrn: String,
    }
    let readable = reads_answers_sql("a.patient_id", "$2", "$3");
    let rows: Vec<ResponseRow> = sqlx::query_as(&format!(
        "SELECT a.id, a.submitted_at, a.result, v.version, p.given_name, p.family_name, p.mrn FROM questionnaire_assignments a \
         JOIN questionnaire_versions v ON v.id = a.version_id JOIN patients p ON p.id = a.patient_id \
         WHERE a.form_id = $1 AND a.state = 'submitted' AND {readable} ORDER BY a.submitted_at DESC, a.id"
    ))
    .bind(form_id)
    .bind(staff.as_str())
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let others: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) AS n FROM questionnaire_assignments a WHERE a.form_id = $1 AND a.state = 'submitted' AND NOT {readable}"))
            .bind(form_id)
            .bind(staff.as_str())
            .bind(now)
            .fetch_one(&db.pool)
            .await?;
    let lines = rows
        .into_iter()
        .map(|r| ResponseLine {
            id: r.id,
            patient: format!("{} {}", r.given_name, r.family_name),
            mrn: r.mrn,
            version: r.version,
            submitted_at: local_text(&settings.messaging.time_zone, r.submitted_at),
            result: r.result,
        })
        .collect();
    Ok(Some((title, lines, others)))
}

/// One assignment as staff see it, with its patient: with its answers when `access` reads them
/// (audited), else its title and state only (the page then asks for a reason).
pub async fn response_view(
    db: &Db,
    settings: &PortalSettings,
    staff: &UserId,
    id: &str,
    access: &AnswerAccess,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<(AssignmentSummary, Option<FillView>, PatientLine)>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    let row: Option<AssignmentRow> = sqlx::query_as(&format!("{ASSIGNMENT_SELECT} WHERE a.id = $1")).bind(id).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let Some(patient) = patient_line(db, &row.patient_id).await? else { return Ok(None) };
    if !access.reads() {
        let (mut assignment, _) = summary(settings, &row, now)?;
        // A lesson's check result is an answer too.
        assignment.result = None;
        return Ok(Some((assignment, None, patient)));
    }
    let mut view = fill_view(settings, &row, Mode::Draft, now)?;
    view.read_only = true;
    view.errors.clear();
    if view.assignment.state != AssignmentState::Submitted {
        // A draft is the patient's own working copy: staff see answers once submitted.
        view.raw.clear();
    }
    audit::record_alone(
        db,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("questionnaire-assignment"),
            record_id: Some(id),
            client_addr,
            ..AuditEvent::of(AuditAction::QuestionnaireResponseViewed)
        },
        now,
    )
    .await?;
    Ok(Some((view.assignment.clone(), Some(view), patient)))
}

/// A submitted response as a FHIR QuestionnaireResponse (file name, JSON), for a clinician who
/// reads the patient's answers (of the care team, or under a recorded reason; none otherwise).
/// Audited.
pub async fn response_json(
    db: &Db,
    staff: &UserId,
    id: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<(String, serde_json::Value)>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct ExportRow {
        form_id: String,
        answers: Option<String>,
        submitted_at: i64,
        version: i64,
        content: String,
        given_name: String,
        family_name: String,
        mrn: String,
    }
    let row: Option<ExportRow> = sqlx::query_as(&format!(
        "SELECT a.form_id, a.answers, a.submitted_at, v.version, v.content, p.given_name, p.family_name, p.mrn FROM questionnaire_assignments a \
         JOIN questionnaire_versions v ON v.id = a.version_id JOIN patients p ON p.id = a.patient_id \
         WHERE a.id = $1 AND a.state = 'submitted' AND {}",
        reads_answers_sql("a.patient_id", "$2", "$3")
    ))
    .bind(id)
    .bind(staff.as_str())
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let form: Form = serde_json::from_str(&row.content).map_err(|_| decode("form"))?;
    let answers: Answers = serde_json::from_str(&row.answers.unwrap_or_default()).map_err(|_| decode("answers"))?;
    let (form_id, version) = (row.form_id, row.version);
    let canonical = form.url.clone().unwrap_or_else(|| format!("urn:patient-portal:questionnaire:{form_id}"));
    let authored = jiff::Timestamp::from_millisecond(row.submitted_at).map(|t| t.to_string()).unwrap_or_default();
    let name = format!("{} {}", row.given_name, row.family_name);
    let mrn = row.mrn;
    let json = fhir::response(
        &form,
        &answers,
        &ResponseContext { response_id: id, questionnaire: format!("{canonical}|{version}"), status: "completed", authored, patient_name: &name, mrn: &mrn },
    );
    audit::record_alone(
        db,
        AuditEvent {
            actor: Some(staff),
            record_type: Some("questionnaire-assignment"),
            record_id: Some(id),
            client_addr,
            ..AuditEvent::of(AuditAction::QuestionnaireResponseExported)
        },
        now,
    )
    .await?;
    Ok(Some((format!("questionnaire-response-{id}.json"), json)))
}
