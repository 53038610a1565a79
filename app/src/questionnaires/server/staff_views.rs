//! Staff views of answers: who may read them (the care team, or a recorded reason), the
//! responses to a form, one response, and its FHIR export.

use super::assignments::{fill_view, summary, AssignmentRow, ASSIGNMENT_SELECT};
use super::decode;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::ids::is_id;
use crate::messaging::server::local_text;
use crate::patients::PatientId;
use crate::platform::db::Db;
use crate::platform::tokens;
use crate::questionnaires::answers::{Answers, Mode};
use crate::questionnaires::fhir::{self, ResponseContext};
use crate::questionnaires::form::Form;
use crate::questionnaires::*;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

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
