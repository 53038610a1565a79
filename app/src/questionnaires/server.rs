//! Questionnaire rules and storage. Every read takes the person asking: a patient reaches only
//! the assignments of their own record, by any id; staff reach what their role allows (the
//! caller checked the role; `may_assign` decides the kinds). Views of answers and submissions
//! are audited; audit entries and notices never carry a title, a question or an answer.

use super::fhir::ImportError;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db};
use crate::platform::tokens;
use crate::types::UserId;
use std::net::IpAddr;

mod assignments;
mod library;
mod staff_views;

pub use assignments::*;
pub use library::*;
pub use staff_views::*;

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
