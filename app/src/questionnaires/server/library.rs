//! The library: importing Questionnaires as forms and their versions, the shipped samples,
//! export, and the refused import kept for another try.

use super::{decode, QuestionnaireError};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::ids::is_id;
use crate::messaging::server::local_text;
use crate::platform::db::{lock_row, Db, Tx};
use crate::platform::tokens;
use crate::questionnaires::fhir;
use crate::questionnaires::form::{Form, FormKind};
use crate::questionnaires::*;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;

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
