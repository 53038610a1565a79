//! One interface, two sources (SPEC R-REC-2): the portal's own database (embedded) or the
//! EHR's FHIR API (remote). Both give the same thing: the JSON of one FHIR patient's resources
//! of the types asked for, and find Patients by identifier. Everything above (`server.rs`,
//! `convert.rs`) does not know which source answered.

use super::cache::RecordCache;
use super::convert::{ItemKey, PatientRecord, Resources};
use super::embedded;
use super::fhir::ResourceType;
use super::model::RecordProblem;
use super::remote::Remote;
use super::settings::{RecordSettings, SourceSettings};
use crate::platform::db::Db;
use std::sync::Arc;

/// Why the record source could not answer. Logged by kind only; the EHR's words are never
/// kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Nothing came back in time.
    TimedOut,
    /// The EHR could not be reached (connection refused, TLS, DNS, a broken connection).
    Unreachable,
    /// The token endpoint refused the portal's assertion (its HTTP status).
    TokenRefused(u16),
    /// The FHIR API refused the token (401 after a fresh token, or 403).
    Refused(u16),
    /// The FHIR API answered with another error status.
    ServerError(u16),
    /// An answer the portal cannot read (not JSON, not a Bundle, a link off the EHR's server…).
    Garbage,
    /// An answer larger than the portal reads.
    TooLarge,
    /// The portal's own settings do not work (a key that cannot sign).
    Misconfigured,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The source did not answer in time, refused the portal, or answered with something that
    /// cannot be read: pages say "Your record cannot be shown right now. Please try again
    /// later."
    #[error("the record source is unavailable ({0:?})")]
    Unavailable(Unavailable),
    /// No FHIR Patient is linked to this portal patient, and none matched by record number.
    #[error("no record is linked to this patient")]
    NotLinked,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<Unavailable> for RecordError {
    fn from(u: Unavailable) -> Self {
        // The cause, by kind; never what the EHR said.
        tracing::warn!(cause = ?u, "the record source could not answer");
        RecordError::Unavailable(u)
    }
}

impl RecordError {
    /// What the page tells the patient; none for a database failure (an internal error).
    pub fn problem(&self) -> Option<RecordProblem> {
        match self {
            RecordError::Unavailable(_) => Some(RecordProblem::Unavailable),
            RecordError::NotLinked => Some(RecordProblem::NotLinked),
            RecordError::Db(_) => None,
        }
    }
}

impl From<RecordError> for crate::error::AppError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Db(db) => db.into(),
            other => crate::error::AppError::Invalid(other.problem().map(|p| p.message()).unwrap_or_default().to_string()),
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Embedded,
    Remote(Arc<Remote>),
}

/// The record source this server reads from, with the key of its item ids. Cheap to clone
/// (the remote source's client and token are shared).
#[derive(Clone, Debug)]
pub struct RecordSource {
    kind: Kind,
    key: ItemKey,
    /// How long a read may take in all (remote only).
    deadline: std::time::Duration,
    /// The embedded source's parsed records between page views (empty for the remote source).
    cache: Arc<RecordCache>,
}

/// What a read asks for.
pub struct Read<'a> {
    pub fhir_patient: &'a str,
    pub types: &'a [ResourceType],
    pub tz: &'a jiff::tz::TimeZone,
    pub now_ms: i64,
}

impl RecordSource {
    /// The source the settings name. `key` is the secret the item ids are made with.
    pub fn new(settings: &RecordSettings, key: [u8; 32]) -> Result<RecordSource, String> {
        let (kind, deadline, cache_bytes) = match &settings.source {
            SourceSettings::Embedded => (Kind::Embedded, std::time::Duration::from_secs(30), settings.cache_bytes),
            SourceSettings::Remote(r) => (Kind::Remote(Arc::new(Remote::new(r.clone())?)), r.timeout, 0),
        };
        Ok(RecordSource { kind, key: ItemKey::new(key), deadline, cache: Arc::new(RecordCache::new(cache_bytes)) })
    }

    pub fn is_remote(&self) -> bool {
        matches!(self.kind, Kind::Remote(_))
    }

    /// The remote source, when this is one (its token counter, for operations and tests).
    pub fn remote(&self) -> Option<&Remote> {
        match &self.kind {
            Kind::Remote(r) => Some(r),
            Kind::Embedded => None,
        }
    }

    pub fn item_key(&self) -> &ItemKey {
        &self.key
    }

    /// The embedded source's cache (how much it holds: tests and operations).
    pub fn cache(&self) -> &RecordCache {
        &self.cache
    }

    /// Runs `work` within the source's deadline: past it, the source is unavailable.
    async fn bounded<T>(&self, work: impl std::future::Future<Output = Result<T, RecordError>>) -> Result<T, RecordError> {
        match tokio::time::timeout(self.deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(Unavailable::TimedOut.into()),
        }
    }

    /// One patient's record: their resources of the types asked for, checked to be theirs, and
    /// the shared resources that name who and where. The embedded source's come from the cache
    /// when the store has not changed since they were read.
    pub async fn read(&self, db: &Db, read: Read<'_>) -> Result<PatientRecord, RecordError> {
        self.bounded(async {
            let resources = match &self.kind {
                Kind::Embedded => {
                    let version = embedded::version(db).await?;
                    match self.cache.get(read.fhir_patient, read.types, version, read.now_ms) {
                        Some(kept) => kept,
                        None => {
                            let texts = embedded::resources(db, read.fhir_patient, read.types).await?;
                            let mut resources = Resources::build(read.fhir_patient, texts, None, &self.key);
                            let unnamed = resources.unnamed_references(50);
                            if !unnamed.is_empty() {
                                resources.add_shared(embedded::shared(db, &unnamed).await?, &self.key);
                            }
                            let resources = Arc::new(resources);
                            self.cache.put(read.fhir_patient, read.types, version, resources.clone(), read.now_ms);
                            resources
                        }
                    }
                }
                Kind::Remote(r) => {
                    let (texts, incomplete) = r.resources(read.fhir_patient, read.types).await?;
                    let mut resources = Resources::build(read.fhir_patient, texts, Some(r.base()), &self.key);
                    resources.mark_incomplete(incomplete);
                    let unnamed = resources.unnamed_references(50);
                    if !unnamed.is_empty() {
                        resources.add_shared(r.shared(&unnamed).await?, &self.key);
                    }
                    Arc::new(resources)
                }
            };
            Ok(PatientRecord::new(resources, read.tz, read.now_ms))
        })
        .await
    }

    /// The FHIR Patients with the identifier `system|value`.
    pub async fn patients_with_identifier(&self, db: &Db, system: &str, value: &str) -> Result<Vec<String>, RecordError> {
        self.bounded(async {
            Ok(match &self.kind {
                Kind::Embedded => embedded::patients_with_identifier(db, system, value).await?,
                Kind::Remote(r) => r.patients_with_identifier(system, value).await?,
            })
        })
        .await
    }

    /// Whether the source holds `Patient/<id>`.
    pub async fn has_patient(&self, db: &Db, id: &str) -> Result<bool, RecordError> {
        self.bounded(async {
            Ok(match &self.kind {
                Kind::Embedded => embedded::has_patient(db, id).await?,
                Kind::Remote(r) => r.read(ResourceType::Patient, id).await?.is_some(),
            })
        })
        .await
    }

    /// A document's bytes at `url` (remote only: the embedded source holds documents inline).
    pub async fn document_at(&self, url: &str, content_type: &str) -> Result<Option<Vec<u8>>, RecordError> {
        match &self.kind {
            Kind::Embedded => Ok(None),
            Kind::Remote(r) => self.bounded(async { Ok(r.document(url, content_type).await?) }).await,
        }
    }
}
