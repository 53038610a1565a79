//! The record's rules above the sources: whose record a request may read (the signed-in
//! patient's own, through the link to their FHIR Patient), linking, and the audit of every
//! view and download (SPEC R-REC-6). Pages call `open`, `document` and `download`; the
//! background work (new-result notices) calls `read`.

use super::convert::{ContentAt, PatientRecord};
use super::fhir::{self, ResourceType};
use super::model::{DocumentContent, ItemId, LinkHow, RecordLink};
use super::source::{Read, RecordError};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::error::AppError;
use crate::patients::PatientId;
use crate::platform::db::{lock_row, Db};
use crate::state::AppState;
use crate::types::UserId;
use std::net::IpAddr;

/// The part of the record a page shows: decides which resource types are read (so a page
/// asks the EHR only for what it shows) and what the audit trail says was viewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Test Results (panels and results, with links to their visits).
    TestResults,
    /// Trends of numeric results and vital signs.
    Trends,
    Medications,
    Allergies,
    Immunizations,
    HealthIssues,
    /// The list of visits.
    Visits,
    /// One visit with its diagnoses, vitals, results and documents.
    Visit,
    Documents,
    /// The home page's Health Summary.
    Summary,
    /// Everything (Download My Record).
    Everything,
}

impl Section {
    pub fn types(self) -> &'static [ResourceType] {
        use ResourceType::*;
        match self {
            Section::TestResults => &[Observation, DiagnosticReport, Encounter],
            Section::Trends => &[Observation, DiagnosticReport],
            Section::Medications => &[MedicationRequest],
            Section::Allergies => &[AllergyIntolerance],
            Section::Immunizations => &[Immunization],
            Section::HealthIssues => &[Condition],
            Section::Visits => &[Encounter],
            Section::Visit => &[Encounter, Condition, Observation, DiagnosticReport, DocumentReference],
            Section::Documents => &[DocumentReference, Encounter],
            Section::Summary => &[Condition, AllergyIntolerance, MedicationRequest, Observation, DiagnosticReport, Encounter],
            Section::Everything => {
                &[Observation, DiagnosticReport, MedicationRequest, AllergyIntolerance, Immunization, Condition, Encounter, DocumentReference]
            }
        }
    }

    /// The section's name in the audit trail (a fixed phrase: never what was in it).
    pub fn as_str(self) -> &'static str {
        match self {
            Section::TestResults => "test results",
            Section::Trends => "trends",
            Section::Medications => "medications",
            Section::Allergies => "allergies",
            Section::Immunizations => "immunizations",
            Section::HealthIssues => "health issues",
            Section::Visits => "visits",
            Section::Visit => "visit",
            Section::Documents => "documents",
            Section::Summary => "health summary",
            Section::Everything => "whole record",
        }
    }
}

/// Who is reading whose record: the signed-in patient, their own record, from where.
#[derive(Clone, Debug)]
pub struct Reader {
    pub user: UserId,
    pub patient: PatientId,
    pub client_addr: Option<IpAddr>,
}

impl Reader {
    /// The signed-in patient of the request being served (a server function's first line):
    /// refused unless the request's session is a patient's with nothing pending.
    pub async fn current(state: &AppState) -> Result<Reader, AppError> {
        use crate::platform::request;
        let session = request::require_patient()?;
        let patient = crate::messaging::server::patient_of(&state.db, &session.viewer.user_id).await?.ok_or_else(|| request::refuse(AppError::NotFound))?;
        Ok(Reader { user: session.viewer.user_id, patient, client_addr: request::client_addr() })
    }
}

// ---------------------------------------------------------------------------------------------
// Which FHIR Patient

/// The FHIR Patient id of a portal patient: the link, or (the first time) the one Patient of
/// the source with the patient's record number under the configured identifier system, then
/// remembered. `NotLinked` when there is no link and not exactly one match, or when the match
/// is already linked to another portal patient.
pub async fn fhir_patient_of(state: &AppState, patient: &PatientId, now: i64) -> Result<String, RecordError> {
    if let Some(link) = link_of(&state.db, patient).await? {
        return Ok(link.fhir_patient_id);
    }
    let mrn: Option<String> = sqlx::query_scalar("SELECT mrn FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&state.db.pool).await?;
    let Some(mrn) = mrn else { return Err(RecordError::NotLinked) };
    let found = state.record.patients_with_identifier(&state.db, &state.settings.record.mrn_system, &mrn).await?;
    let [fhir_id] = found.as_slice() else {
        if found.len() > 1 {
            // Two of the EHR's patients with one record number: staff must choose.
            tracing::warn!(matches = found.len(), "a record number matches several patients of the record source; not linked");
        }
        return Err(RecordError::NotLinked);
    };
    let mut tx = state.db.begin_write().await?;
    // Another request may have linked them meanwhile, or the EHR's patient may already be
    // another portal patient's: either way nothing is changed here.
    let inserted =
        sqlx::query("INSERT INTO record_links (patient_id, fhir_patient_id, how, linked_at, linked_by) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT DO NOTHING")
            .bind(patient.as_str())
            .bind(fhir_id)
            .bind(LinkHow::RecordNumber.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if inserted == 1 {
        let user = crate::users::for_patient(&mut *tx, patient).await?;
        audit::record(
            &mut tx,
            AuditEvent {
                subject: user.as_ref(),
                record_type: Some("patient"),
                record_id: Some(patient.as_str()),
                detail: Some("matched by record number"),
                ..AuditEvent::of(AuditAction::RecordLinked)
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    match link_of(&state.db, patient).await? {
        Some(link) => Ok(link.fhir_patient_id),
        None => {
            tracing::warn!("the record number's patient in the record source is linked to another portal patient; not linked");
            Err(RecordError::NotLinked)
        }
    }
}

/// The link of a portal patient, if any.
pub async fn link_of(db: &Db, patient: &PatientId) -> Result<Option<RecordLink>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct LinkRow {
        fhir_patient_id: String,
        /// `LinkHow`'s stored value.
        how: String,
        linked_at: i64,
        /// Who linked them; none when the record number matched.
        display_name: Option<String>,
    }
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT l.fhir_patient_id, l.how, l.linked_at, u.display_name FROM record_links l \
         LEFT JOIN users u ON u.id = l.linked_by WHERE l.patient_id = $1",
    )
    .bind(patient.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(RecordLink {
            fhir_patient_id: r.fhir_patient_id,
            how: LinkHow::parse(&r.how).ok_or_else(|| sqlx::Error::Decode("stored link kind could not be read".into()))?,
            linked_at: r.linked_at,
            linked_by: r.display_name,
        })
    })
    .transpose()
}

/// Why staff could not link a patient.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("A FHIR Patient id is 1 to 64 letters, digits, dashes and dots.")]
    BadId,
    #[error("The EHR has no patient with that id.")]
    NotInEhr,
    #[error("That EHR patient is already linked to another portal patient.")]
    Taken,
    #[error("That patient record was not found.")]
    NoPatient,
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl From<sqlx::Error> for LinkError {
    fn from(e: sqlx::Error) -> Self {
        LinkError::Record(RecordError::Db(e))
    }
}

/// Links a portal patient to a FHIR Patient of the source (staff on the patient's page): the
/// Patient must exist there and belong to no other portal patient. Replaces a link made before
/// (by staff or by record number). Audited.
pub async fn link(state: &AppState, staff: &UserId, patient: &PatientId, fhir_id: &str, client_addr: Option<IpAddr>, now: i64) -> Result<(), LinkError> {
    let fhir_id = fhir_id.trim();
    if !fhir::is_resource_id(fhir_id) {
        return Err(LinkError::BadId);
    }
    if !state.record.has_patient(&state.db, fhir_id).await? {
        return Err(LinkError::NotInEhr);
    }
    let mut tx = state.db.begin_write().await?;
    if !lock_row(&mut tx, "patients", patient.as_str()).await? {
        return Err(LinkError::NoPatient);
    }
    let other = sqlx::query("SELECT patient_id FROM record_links WHERE fhir_patient_id = $1 AND patient_id <> $2")
        .bind(fhir_id)
        .bind(patient.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if other.is_some() {
        return Err(LinkError::Taken);
    }
    let done = sqlx::query(
        "INSERT INTO record_links (patient_id, fhir_patient_id, how, linked_at, linked_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (patient_id) DO UPDATE SET fhir_patient_id = excluded.fhir_patient_id, how = excluded.how, \
         linked_at = excluded.linked_at, linked_by = excluded.linked_by",
    )
    .bind(patient.as_str())
    .bind(fhir_id)
    .bind(LinkHow::Staff.as_str())
    .bind(now)
    .bind(staff.as_str())
    .execute(&mut *tx)
    .await;
    match done {
        Ok(_) => {}
        // Linked to someone else between the check and the write (the other record's link
        // took the FHIR id first).
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(LinkError::Taken),
        Err(e) => return Err(e.into()),
    }
    let user = crate::users::for_patient(&mut *tx, patient).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: user.as_ref(),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr,
            detail: Some("set by staff"),
            ..AuditEvent::of(AuditAction::RecordLinked)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a portal patient's link (the next look matches by record number again, if it can).
/// False when there was none. Audited.
pub async fn unlink(db: &Db, staff: &UserId, patient: &PatientId, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let gone = sqlx::query("DELETE FROM record_links WHERE patient_id = $1").bind(patient.as_str()).execute(&mut *tx).await?.rows_affected();
    if gone == 0 {
        return Ok(false);
    }
    let user = crate::users::for_patient(&mut *tx, patient).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(staff),
            subject: user.as_ref(),
            record_type: Some("patient"),
            record_id: Some(patient.as_str()),
            client_addr,
            ..AuditEvent::of(AuditAction::RecordUnlinked)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A portal patient's record, the part a section shows, without an audit entry: for work the
/// patient did not ask for (a new-result notice). Pages use [`open`].
pub async fn read(state: &AppState, patient: &PatientId, section: Section) -> Result<PatientRecord, RecordError> {
    let now = state.clock.now_ms();
    let fhir_patient = fhir_patient_of(state, patient, now).await?;
    let mut record = state
        .record
        .read(&state.db, Read { fhir_patient: &fhir_patient, types: section.types(), tz: &state.settings.messaging.time_zone, now_ms: now })
        .await?;
    // The release rules, here and only here: what they withhold is in no page, count,
    // download or notice made from this record.
    let rules = super::release::rules_of(&state.db, patient).await?;
    super::release::apply(&mut record, &rules, now);
    Ok(record)
}

async fn audit_view(state: &AppState, reader: &Reader, action: AuditAction, what: &str) -> Result<(), sqlx::Error> {
    audit::record_alone(
        &state.db,
        AuditEvent {
            actor: Some(&reader.user),
            subject: Some(&reader.user),
            record_type: Some("medical-record"),
            record_id: Some(reader.patient.as_str()),
            client_addr: reader.client_addr,
            detail: Some(what),
            ..AuditEvent::of(action)
        },
        state.clock.now_ms(),
    )
    .await
}

/// The reader's own record, the part `section` shows, for a page; the view is audited
/// ("medical record viewed", with the section's name).
pub async fn open(state: &AppState, reader: &Reader, section: Section) -> Result<PatientRecord, RecordError> {
    let record = read(state, &reader.patient, section).await?;
    audit_view(state, reader, AuditAction::RecordViewed, section.as_str()).await?;
    Ok(record)
}

/// One of the reader's documents, to show or download: none when `id` is no released
/// document of their own record. Audited.
pub async fn document(state: &AppState, reader: &Reader, id: &ItemId) -> Result<Option<DocumentContent>, RecordError> {
    let record = read(state, &reader.patient, Section::Documents).await?;
    let content = match record.document_content(id) {
        None => return Ok(None),
        Some(ContentAt::Inline(c)) => c,
        Some(ContentAt::Url { url, content_type, file_name }) => match state.record.document_at(&url, &content_type).await? {
            Some(bytes) => DocumentContent { content_type, file_name, bytes },
            None => return Ok(None),
        },
    };
    audit_view(state, reader, AuditAction::RecordDownloaded, "document").await?;
    Ok(Some(content))
}

/// The reader's whole record for a file made from it (the printable Health Summary), audited
/// as a download with `what` (a fixed phrase).
pub async fn open_for_download(state: &AppState, reader: &Reader, what: &'static str) -> Result<PatientRecord, RecordError> {
    let record = read(state, &reader.patient, Section::Everything).await?;
    audit_view(state, reader, AuditAction::RecordDownloaded, what).await?;
    Ok(record)
}

/// Download My Record: the reader's record as a FHIR R4 Bundle (JSON text) holding the items
/// `keep` accepts (the page passes what the release rules let the patient see). Audited.
pub async fn download(state: &AppState, reader: &Reader, keep: impl Fn(&PatientRecord, &ItemId) -> bool) -> Result<String, RecordError> {
    let record = read(state, &reader.patient, Section::Everything).await?;
    let bundle = record.fhir_bundle(|id| keep(&record, id));
    audit_view(state, reader, AuditAction::RecordDownloaded, "whole record (FHIR)").await?;
    Ok(bundle)
}
