//! The embedded record source: FHIR resources kept in the portal's own database
//! (`record_resources`), for a portal that runs without an EHR to ask (the default, and the
//! demo). Loaded with `server record import FILE`: a Bundle of any type, one resource, or
//! NDJSON. An import is checked whole before anything is written and is all or nothing:
//! every refusal names the resource (`Observation/alice-obs-…`) and what is wrong with it.
//! Importing the same type and id again replaces the resource.

use super::fhir::{self, ResourceType};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::Db;
use base64::Engine as _;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What an import refused, by resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    /// `Observation/alice-obs-20261123-a1c`, or where in the file when the resource has no
    /// usable type and id (`entry 12`, `line 3`).
    pub resource: String,
    pub problem: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.resource, self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is neither JSON nor NDJSON (where it stopped reading).
    #[error("the file is not FHIR JSON or NDJSON: {0}")]
    NotJson(String),
    /// Nothing was imported; these resources are why.
    #[error("nothing was imported: {}", problems_text(.0))]
    Refused(Vec<ImportProblem>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn problems_text(problems: &[ImportProblem]) -> String {
    const SHOWN: usize = 50;
    let mut s = format!("{} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" });
    for p in problems.iter().take(SHOWN) {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if problems.len() > SHOWN {
        s.push_str(&format!("\n  … and {} more", problems.len() - SHOWN));
    }
    s
}

/// What an import stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Resources written (new or replaced), by type.
    pub imported: BTreeMap<&'static str, usize>,
    /// Resources of types the portal does not read, not stored, by type.
    pub skipped: BTreeMap<String, usize>,
}

impl ImportReport {
    pub fn total(&self) -> usize {
        self.imported.values().sum()
    }
}

/// One resource of the file, before checking: where it is, and its JSON text as in the file.
struct Item {
    place: String,
    text: String,
}

#[derive(serde::Deserialize)]
struct RawRequest {
    method: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry<'a> {
    full_url: Option<String>,
    #[serde(borrow)]
    resource: Option<&'a serde_json::value::RawValue>,
    request: Option<RawRequest>,
}

/// A file as one JSON document: a Bundle (its entries) or one resource. The resources stay
/// text: a file of well-formed resources is read once into our types, not twice.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument<'a> {
    resource_type: Option<String>,
    #[serde(borrow, default)]
    entry: Vec<RawEntry<'a>>,
}

/// A resource's type and id, read from its text.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    resource_type: Option<String>,
    id: Option<String>,
}

/// The resources of a file: a Bundle's entries, one resource, or NDJSON lines; and a Bundle's
/// fullUrls (`urn:uuid:…`, absolute URLs) with the `Type/id` each names.
fn read_file(text: &str, problems: &mut Vec<ImportProblem>) -> Result<(Vec<Item>, HashMap<String, String>), ImportError> {
    let mut items = Vec::new();
    let mut full_urls = HashMap::new();
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    match serde_json::from_str::<RawDocument>(trimmed) {
        Ok(doc) if doc.resource_type.as_deref() == Some("Bundle") => {
            for (n, entry) in doc.entry.into_iter().enumerate() {
                let place = format!("entry {}", n + 1);
                let method = entry.request.and_then(|r| r.method).unwrap_or_else(|| "PUT".into());
                if !matches!(method.as_str(), "PUT" | "POST") {
                    problems.push(ImportProblem { resource: place, problem: format!("a {method} entry; only resources are imported (PUT or POST)") });
                    continue;
                }
                let Some(resource) = entry.resource else {
                    problems.push(ImportProblem { resource: place, problem: "the entry holds no resource".into() });
                    continue;
                };
                if let (Some(url), Ok(Head { resource_type: Some(kind), id: Some(id) })) = (entry.full_url, serde_json::from_str::<Head>(resource.get())) {
                    full_urls.insert(url, format!("{kind}/{id}"));
                }
                items.push(Item { place, text: resource.get().to_string() });
            }
        }
        Ok(doc) if doc.resource_type.is_some() => items.push(Item { place: "the resource".into(), text: trimmed.to_string() }),
        Ok(_) => return Err(ImportError::NotJson("it holds no FHIR resource".into())),
        Err(whole_error) => {
            // NDJSON: one resource a line.
            let lines: Vec<(usize, &str)> = trimmed.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(ImportError::NotJson(format!("line {}, column {}", whole_error.line(), whole_error.column())));
            }
            for (n, line) in lines {
                let place = format!("line {}", n + 1);
                match serde_json::from_str::<&serde_json::value::RawValue>(line) {
                    Ok(_) => items.push(Item { place, text: line.trim().to_string() }),
                    Err(e) => problems.push(ImportProblem { resource: place, problem: format!("not JSON (column {})", e.column()) }),
                }
            }
        }
    }
    Ok((items, full_urls))
}

/// Rewrites every `reference` that names a fullUrl of the file to the `Type/id` it stands for
/// (transaction Bundles link their entries by `urn:uuid:`); returns the `urn:` references
/// that name nothing in the file.
fn rewrite_references(json: &mut Json, full_urls: &HashMap<String, String>, unresolved: &mut Vec<String>) {
    match json {
        Json::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Json::String(s) if key == "reference" => {
                        if let Some(local) = full_urls.get(s.as_str()) {
                            *s = local.clone();
                        } else if s.starts_with("urn:") {
                            unresolved.push(s.clone());
                        }
                    }
                    other => rewrite_references(other, full_urls, unresolved),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|v| rewrite_references(v, full_urls, unresolved)),
        _ => {}
    }
}

/// A resource that passed its checks, ready to store.
struct Checked {
    kind: ResourceType,
    id: String,
    patient: Option<String>,
    text: String,
    /// A Patient's identifiers (system, value).
    identifiers: Vec<(String, String)>,
}

/// Imports `text` (a FHIR Bundle of any type, one resource, or NDJSON) into the embedded
/// source, all or nothing. Each resource must read as FHIR R4 into the portal's types, have
/// the elements the portal needs, and (clinical resources) be about a Patient of the file or
/// one imported before, named by a `Patient/<id>` reference. Resources of types the portal
/// does not read are skipped and counted. The import is audited (how many, never what).
pub async fn import(db: &Db, text: &str, now: i64) -> Result<ImportReport, ImportError> {
    let mut problems = Vec::new();
    let (items, full_urls) = read_file(text, &mut problems)?;
    let mut report = ImportReport::default();
    let mut checked: Vec<Checked> = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for Item { place, text } in items {
        let Ok(head) = serde_json::from_str::<Head>(&text) else {
            problems.push(ImportProblem { resource: place, problem: "not a FHIR resource (not a JSON object)".into() });
            continue;
        };
        let name = match (&head.resource_type, &head.id) {
            (Some(k), Some(i)) => format!("{k}/{i}"),
            (Some(k), None) => format!("{k} ({place})"),
            _ => place.clone(),
        };
        let refuse = |problems: &mut Vec<ImportProblem>, problem: String| problems.push(ImportProblem { resource: name.clone(), problem });
        let Some(kind_name) = head.resource_type else {
            refuse(&mut problems, "not a FHIR resource (no resourceType)".into());
            continue;
        };
        let Some(kind) = ResourceType::parse(&kind_name) else {
            *report.skipped.entry(kind_name).or_default() += 1;
            continue;
        };
        let Some(id) = head.id.filter(|i| fhir::is_resource_id(i)) else {
            refuse(&mut problems, "has no id, or one that is not a FHIR id (1–64 of A–Z a–z 0–9 - .); the portal keeps resources by id".into());
            continue;
        };
        if !seen.insert((kind, id.clone())) {
            refuse(&mut problems, "appears twice in the file".into());
            continue;
        }
        // A Bundle that links its entries by fullUrl: references to them become `Type/id`.
        let text = if full_urls.is_empty() {
            text
        } else {
            let Ok(mut json) = serde_json::from_str::<Json>(&text) else {
                refuse(&mut problems, "not JSON".into());
                continue;
            };
            let mut unresolved = Vec::new();
            rewrite_references(&mut json, &full_urls, &mut unresolved);
            if let Some(u) = unresolved.first() {
                refuse(&mut problems, format!("refers to {u}, which is not in this file"));
                continue;
            }
            json.to_string()
        };
        let resource = match fhir::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                refuse(&mut problems, e.to_string());
                continue;
            }
        };
        if let Some(element) = resource.missing() {
            refuse(&mut problems, format!("lacks {element}, which the portal needs"));
            continue;
        }
        if let fhir::Resource::DocumentReference(d) = &resource {
            let bad = d
                .content
                .iter()
                .filter_map(|c| c.attachment.as_ref()?.data.as_ref())
                .any(|data| base64::engine::general_purpose::STANDARD.decode(data.as_bytes()).is_err());
            if bad {
                refuse(&mut problems, "content.attachment.data is not base64".into());
                continue;
            }
        }
        let patient = if kind == ResourceType::Patient {
            Some(id.clone())
        } else if kind.is_clinical() {
            match resource.patient_id(None) {
                Some(p) => Some(p.to_string()),
                None => {
                    let element = match kind {
                        ResourceType::AllergyIntolerance | ResourceType::Immunization => "patient",
                        _ => "subject",
                    };
                    refuse(&mut problems, format!("its {element} is not a reference to a Patient (Patient/<id>)"));
                    continue;
                }
            }
        } else {
            None
        };
        let identifiers = match &resource {
            fhir::Resource::Patient(p) => p.identifier.iter().filter_map(|i| Some((i.system.clone()?, i.value.clone()?))).collect(),
            _ => Vec::new(),
        };
        checked.push(Checked { kind, id, patient, text, identifiers });
    }

    // Every clinical resource is about a Patient of this file or of an earlier import.
    let in_file: HashSet<&str> = checked.iter().filter(|c| c.kind == ResourceType::Patient).map(|c| c.id.as_str()).collect();
    let mut known: HashMap<String, bool> = HashMap::new();
    for c in checked.iter().filter(|c| c.kind.is_clinical()) {
        let p = c.patient.as_deref().unwrap_or_default();
        if in_file.contains(p) {
            continue;
        }
        let exists = match known.get(p) {
            Some(e) => *e,
            None => {
                let e = has_patient(db, p).await?;
                known.insert(p.to_string(), e);
                e
            }
        };
        if !exists {
            problems.push(ImportProblem {
                resource: format!("{}/{}", c.kind.as_str(), c.id),
                problem: format!("is about Patient/{p}, which is neither in this file nor imported before"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Refused(problems));
    }

    let mut tx = db.begin_write().await?;
    // Several rows a statement: one round trip per 100 resources, not per resource.
    for chunk in checked.chunks(100) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("(${}, ${}, ${}, ${}, ${})", i * 5 + 1, i * 5 + 2, i * 5 + 3, i * 5 + 4, i * 5 + 5)).collect();
        let sql = format!(
            "INSERT INTO record_resources (resource_type, resource_id, fhir_patient_id, content, loaded_at) VALUES {} \
             ON CONFLICT (resource_type, resource_id) DO UPDATE SET fhir_patient_id = excluded.fhir_patient_id, \
             content = excluded.content, loaded_at = excluded.loaded_at",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(c.kind.as_str()).bind(c.id.as_str()).bind(c.patient.as_deref()).bind(c.text.as_str()).bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    for c in checked.iter().filter(|c| c.kind == ResourceType::Patient) {
        sqlx::query("DELETE FROM record_patient_identifiers WHERE fhir_patient_id = $1").bind(&c.id).execute(&mut *tx).await?;
        for (system, value) in &c.identifiers {
            sqlx::query("INSERT INTO record_patient_identifiers (system, value, fhir_patient_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(system)
                .bind(value)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    for c in &checked {
        *report.imported.entry(c.kind.as_str()).or_default() += 1;
    }
    bump_version(&mut tx).await?;
    let detail = format!("{} resources", report.total());
    audit::record(&mut tx, AuditEvent { record_type: Some("medical-record"), detail: Some(&detail), ..AuditEvent::of(AuditAction::RecordImported) }, now)
        .await?;
    tx.commit().await?;
    Ok(report)
}

/// The version of the embedded store: raised by every change to it, in the change's own
/// transaction, so that records kept between page views (`super::cache`) are read again after
/// it, on every app server.
pub async fn version(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM record_store WHERE id = 1").fetch_one(&db.pool).await
}

/// Raises the store's version (in the transaction that changes the store).
pub async fn bump_version(tx: &mut crate::platform::db::Tx) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE record_store SET version = version + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

/// Whether the embedded source holds `Patient/<id>`.
pub async fn has_patient(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 AS found FROM record_resources WHERE resource_type = 'Patient' AND resource_id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .is_some())
}

/// The embedded Patients with the identifier `system|value`.
pub async fn patients_with_identifier(db: &Db, system: &str, value: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT fhir_patient_id FROM record_patient_identifiers WHERE system = $1 AND value = $2 ORDER BY fhir_patient_id")
        .bind(system)
        .bind(value)
        .fetch_all(&db.pool)
        .await
}

/// The JSON of one patient's resources of these types (their Patient resource included).
///
/// Read as one row, the resources joined into a JSON array by the database (`string_agg`, in
/// SQLite and PostgreSQL alike): a record has hundreds of resources, and the SQLite driver hands
/// each row over from its own thread, one wake-up per row, which cost a Test Results page more
/// than reading them (issue 16's profile).
pub async fn resources(db: &Db, patient: &str, types: &[ResourceType]) -> Result<Vec<String>, sqlx::Error> {
    let mut types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    if !types.contains(&"Patient") {
        types.push("Patient");
    }
    let placeholders: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!("SELECT string_agg(content, ',') FROM record_resources WHERE fhir_patient_id = $1 AND resource_type IN ({})", placeholders.join(", "));
    let mut q = sqlx::query_scalar::<_, Option<String>>(&sql).bind(patient);
    for t in types {
        q = q.bind(t);
    }
    let Some(joined) = q.fetch_one(&db.pool).await? else { return Ok(Vec::new()) };
    // Each resource was checked as JSON when it was imported, so the array parses; if it did
    // not, that is a fault in the stored record, reported as a database error (no content).
    let array = format!("[{joined}]");
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(&array).map_err(|_| sqlx::Error::Decode("a stored record resource is not JSON".into()))?;
    Ok(items.into_iter().map(|r| r.get().to_string()).collect())
}

/// The JSON of shared resources (practitioners, organizations, locations, medications) by
/// type and id; those the source does not hold are left out.
pub async fn shared(db: &Db, wanted: &[(ResourceType, String)]) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in wanted.chunks(50) {
        let conditions: Vec<String> =
            (0..chunk.len()).map(|i| format!("(resource_type = ${} AND resource_id = ${} AND fhir_patient_id IS NULL)", i * 2 + 1, i * 2 + 2)).collect();
        let sql = format!("SELECT content FROM record_resources WHERE {}", conditions.join(" OR "));
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for (kind, id) in chunk {
            q = q.bind(kind.as_str()).bind(id.as_str());
        }
        out.extend(q.fetch_all(&db.pool).await?);
    }
    Ok(out)
}
