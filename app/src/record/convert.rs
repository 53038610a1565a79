//! One patient's record as read from a source (`PatientRecord`), and how it becomes what the
//! pages show: FHIR resources in, domain types (`model.rs`) out. Server only.
//!
//! The rules of what a patient reads live here and in `model.rs`: entered-in-error items are
//! never shown; refuted allergies and problems neither; documents only once released (status
//! `current`, not `preliminary`); a result's flag is its interpretation and its range together
//! (`Flag::derive`).

use super::fhir::{self, CodeableConcept, Reference, Resource, ResourceType};
use super::model::*;
use crate::dates::CalendarDate;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

// The parts of the record, each an `impl PatientRecord` of its own.
mod health;
mod results;
mod visits;

const LOINC: &str = "http://loinc.org";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const SNOMED: &str = "http://snomed.info/sct";

/// Makes the opaque [`ItemId`]s: an HMAC of `Type/id` under a key derived from the portal's
/// secrets key, so the same item has the same id on every server and every look, and the id
/// cannot be turned back into the EHR's id.
#[derive(Clone)]
pub struct ItemKey([u8; 32]);

impl std::fmt::Debug for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ItemKey(…)")
    }
}

impl ItemKey {
    pub fn new(key: [u8; 32]) -> ItemKey {
        ItemKey(key)
    }

    pub fn id(&self, kind: ResourceType, id: &str) -> ItemId {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(kind.as_str().as_bytes());
        mac.update(b"/");
        mac.update(id.as_bytes());
        ItemId::from_bits(mac.finalize().into_bytes()[..16].try_into().expect("SHA-256 is longer than 128 bits"))
    }

    /// The opaque id of a trend (one test over time) for its page's address: a test's key is
    /// a code that names the test (`http://loinc.org|4548-4`), which an address must not
    /// carry. A FHIR id holds no newline, so no item's id can equal a trend's.
    pub fn trend_id(&self, key: &TestKey) -> ItemId {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"trend\n");
        mac.update(key.0.as_bytes());
        ItemId::from_bits(mac.finalize().into_bytes()[..16].try_into().expect("SHA-256 is longer than 128 bits"))
    }
}

/// One resource of the record: what it is, its id, its parsed form and the JSON text it came
/// as (the download gives that text back unchanged).
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: ResourceType,
    pub id: String,
    pub item: ItemId,
    pub resource: Resource,
    pub text: String,
}

/// What one read of a source gave, checked, parsed and indexed: a patient's own resources
/// (each checked to be about them), their Patient resource, and the shared ones (practitioners,
/// places, medications) that name who and where. Never changed once built, so requests may
/// share it (`super::cache`); what the release rules take out of one request's view is kept
/// beside it, in [`PatientRecord`].
#[derive(Clone, Debug, Default)]
pub struct Resources {
    patient: String,
    entries: Vec<Entry>,
    /// By type, then id: looked up by `&str`, without making a key.
    by_ref: HashMap<ResourceType, HashMap<String, usize>>,
    by_item: HashMap<ItemId, usize>,
    /// Something the source holds did not read (see [`PatientRecord::incomplete`]).
    incomplete: bool,
}

impl Resources {
    /// Reads resources' JSON texts. A clinical resource that is not about `patient` is dropped
    /// (a system token reads everyone's record: the portal checks what comes back); so is one
    /// that does not read. `base` is the remote source's base URL (absolute subject references
    /// under it count as ours).
    pub fn build(patient: &str, texts: Vec<String>, base: Option<&str>, key: &ItemKey) -> Resources {
        let mut out = Resources { patient: patient.to_string(), entries: Vec::with_capacity(texts.len()), ..Default::default() };
        for text in texts {
            match fhir::parse(&text) {
                Ok(resource) => out.add(resource, text, base, key),
                // A type we do not read (an OperationOutcome, a Provenance) is not part of
                // the record we show; one that does not read as its type is.
                Err(fhir::ParseError::Unsupported(_)) => {}
                Err(_) => {
                    out.incomplete = true;
                    tracing::warn!("a resource from the record source did not read as FHIR R4 and is not shown");
                }
            }
        }
        out
    }

    fn add(&mut self, resource: Resource, text: String, base: Option<&str>, key: &ItemKey) {
        let kind = resource.kind();
        let Some(id) = resource.id().filter(|id| fhir::is_resource_id(id)).map(str::to_string) else {
            self.incomplete = true;
            return;
        };
        let ours = match kind {
            ResourceType::Patient => id == self.patient,
            k if k.is_clinical() => resource.patient_id(base) == Some(self.patient.as_str()),
            _ => true,
        };
        if !ours {
            // Never shown, and not worth a warning per resource: a source that returns other
            // patients' resources is counted once.
            tracing::warn!(kind = kind.as_str(), "the record source returned a resource about another patient; dropped");
            return;
        }
        let of_kind = self.by_ref.entry(kind).or_default();
        if of_kind.contains_key(&id) {
            return;
        }
        let item = key.id(kind, &id);
        let at = self.entries.len();
        of_kind.insert(id.clone(), at);
        self.by_item.insert(item.clone(), at);
        self.entries.push(Entry { kind, id, item, resource, text });
    }

    /// Adds shared resources read afterwards (names of practitioners and places).
    pub fn add_shared(&mut self, texts: Vec<String>, key: &ItemKey) {
        for text in texts {
            if let Ok(resource) = fhir::parse(&text) {
                if !resource.kind().is_clinical() && resource.kind() != ResourceType::Patient {
                    self.add(resource, text, None, key);
                }
            }
        }
    }

    /// Some of what the source holds was not read (more pages than the portal follows).
    pub fn mark_incomplete(&mut self, incomplete: bool) {
        self.incomplete |= incomplete;
    }

    fn index(&self, kind: ResourceType, id: &str) -> Option<usize> {
        self.by_ref.get(&kind)?.get(id).copied()
    }

    /// What the record keeps in memory, roughly: its texts and their parsed form.
    pub fn weight(&self) -> usize {
        self.entries.iter().map(|e| 2 * e.text.len() + 256).sum()
    }

    /// Shared resources referenced without a display name and not in the record: what a source
    /// should read so that pages can name who and where (at most `limit`).
    pub fn unnamed_references(&self, limit: usize) -> Vec<(ResourceType, String)> {
        let mut wanted = Vec::new();
        let mut seen = HashSet::new();
        let mut want = |r: &Reference| {
            if r.display.as_deref().is_some_and(|d| !d.trim().is_empty()) {
                return;
            }
            if let Some((kind, id)) = r.target() {
                if let Some(kind) = ResourceType::parse(kind).filter(|k| !k.is_clinical() && *k != ResourceType::Patient) {
                    if self.index(kind, id).is_none() && seen.insert((kind, id.to_string())) {
                        wanted.push((kind, id.to_string()));
                    }
                }
            }
        };
        for e in &self.entries {
            match &e.resource {
                Resource::Observation(o) => o.performer.iter().for_each(&mut want),
                Resource::DiagnosticReport(d) => d.performer.iter().chain(&d.results_interpreter).for_each(&mut want),
                Resource::MedicationRequest(m) => m.requester.iter().chain(&m.medication_reference).for_each(&mut want),
                Resource::Immunization(i) => i.performer.iter().filter_map(|p| p.actor.as_ref()).chain(&i.location).for_each(&mut want),
                Resource::Encounter(v) => v
                    .participant
                    .iter()
                    .filter_map(|p| p.individual.as_ref())
                    .chain(v.location.iter().filter_map(|l| l.location.as_ref()))
                    .chain(&v.service_provider)
                    .for_each(&mut want),
                Resource::DocumentReference(d) => d.author.iter().for_each(&mut want),
                _ => {}
            }
        }
        wanted.truncate(limit);
        wanted
    }
}

/// One patient's record as one request sees it: the [`Resources`] a source gave (shared with
/// other requests when they came from the cache) less what the release rules withhold from
/// this request, with the clinic's time zone and the time of the request.
#[derive(Debug)]
pub struct PatientRecord {
    /// The FHIR Patient id.
    pub patient: String,
    resources: Arc<Resources>,
    /// Entries withheld from this view (their index in `resources`).
    hidden: HashSet<usize>,
    /// Entries this view shows changed: a report or panel that lost members to the release
    /// rules (by index in `resources`).
    changed: HashMap<usize, Entry>,
    /// Some of what the source holds is not here: a resource that did not read as FHIR, or
    /// more pages than the portal follows. Pages say that the list may be incomplete.
    pub incomplete: bool,
    /// What the release rules took out (`super::release::apply`): whether any result is given
    /// in person, how many wait for the patient's own release choice.
    pub withheld: super::release::Withheld,
    tz: jiff::tz::TimeZone,
    now_ms: i64,
}

impl PatientRecord {
    /// The record of `resources` as of `now_ms`, nothing withheld yet.
    pub fn new(resources: Arc<Resources>, tz: &jiff::tz::TimeZone, now_ms: i64) -> PatientRecord {
        PatientRecord {
            patient: resources.patient.clone(),
            incomplete: resources.incomplete,
            resources,
            hidden: HashSet::new(),
            changed: HashMap::new(),
            withheld: Default::default(),
            tz: tz.clone(),
            now_ms,
        }
    }

    /// Builds the record from resources' JSON texts ([`Resources::build`]).
    pub fn build(patient: &str, texts: Vec<String>, base: Option<&str>, key: &ItemKey, tz: &jiff::tz::TimeZone, now_ms: i64) -> PatientRecord {
        PatientRecord::new(Arc::new(Resources::build(patient, texts, base, key)), tz, now_ms)
    }

    /// See [`Resources::unnamed_references`].
    pub fn unnamed_references(&self, limit: usize) -> Vec<(ResourceType, String)> {
        self.resources.unnamed_references(limit)
    }

    /// Adds shared resources read afterwards (names of practitioners and places).
    pub fn add_shared(&mut self, texts: Vec<String>, key: &ItemKey) {
        Arc::make_mut(&mut self.resources).add_shared(texts, key);
    }

    /// The entries this view shows, in the source's order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.resources.entries.iter().enumerate().filter_map(|(i, e)| self.shown_at(i, e))
    }

    fn shown_at<'a>(&'a self, i: usize, e: &'a Entry) -> Option<&'a Entry> {
        if self.hidden.contains(&i) {
            return None;
        }
        Some(self.changed.get(&i).unwrap_or(e))
    }

    fn at(&self, i: usize) -> Option<&Entry> {
        self.shown_at(i, self.resources.entries.get(i)?)
    }

    /// Where an entry is in the record: the same for every view of it (a set of entries is a
    /// set of these).
    fn index_of(&self, item: &ItemId) -> Option<usize> {
        self.resources.by_item.get(item).copied()
    }

    pub fn entry(&self, item: &ItemId) -> Option<&Entry> {
        self.at(self.index_of(item)?)
    }

    fn get(&self, kind: ResourceType, id: &str) -> Option<&Entry> {
        self.at(self.resources.index(kind, id)?)
    }

    /// Takes the entries of `items` out of this view of the record, so that no page, count or
    /// download made from it has them (the release rules: `super::release::apply`). A report or
    /// panel that stays loses its references to the members taken out, in its parsed form and
    /// in the JSON the download gives back (a reference's id or display could name the test).
    /// What the source gave (shared with other requests) is not changed.
    pub fn withhold(&mut self, items: &HashSet<ItemId>) {
        if items.is_empty() {
            return;
        }
        let taken: Vec<usize> = items.iter().filter_map(|item| self.index_of(item)).filter(|&i| self.at(i).is_some()).collect();
        if taken.is_empty() {
            return;
        }
        let gone: HashSet<(ResourceType, String)> = taken.iter().map(|&i| &self.resources.entries[i]).map(|e| (e.kind, e.id.clone())).collect();
        self.hidden.extend(taken);
        let is_gone = |r: &Reference| r.target().and_then(|(k, id)| Some((ResourceType::parse(k)?, id.to_string()))).is_some_and(|t| gone.contains(&t));
        let is_gone_json = |v: &serde_json::Value| {
            v.get("reference")
                .and_then(|r| r.as_str())
                .and_then(fhir::target_of)
                .and_then(|(k, id)| Some((ResourceType::parse(k)?, id.to_string())))
                .is_some_and(|t| gone.contains(&t))
        };
        let mut changes = Vec::new();
        for (i, e) in self.resources.entries.iter().enumerate() {
            let Some(e) = self.shown_at(i, e) else { continue };
            let loses = match &e.resource {
                Resource::DiagnosticReport(d) => d.result.iter().any(is_gone),
                Resource::Observation(o) => o.has_member.iter().any(is_gone),
                _ => false,
            };
            if !loses {
                continue;
            }
            let mut e = e.clone();
            let field = match &mut e.resource {
                Resource::DiagnosticReport(d) => {
                    d.result.retain(|r| !is_gone(r));
                    "result"
                }
                Resource::Observation(o) => {
                    o.has_member.retain(|r| !is_gone(r));
                    "hasMember"
                }
                _ => unreachable!("only reports and panels lose members"),
            };
            if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(&e.text) {
                if let Some(list) = json.get_mut(field).and_then(|l| l.as_array_mut()) {
                    list.retain(|r| !is_gone_json(r));
                }
                if let Ok(text) = serde_json::to_string(&json) {
                    e.text = text;
                }
            }
            changes.push((i, e));
        }
        self.changed.extend(changes);
    }

    pub(crate) fn resolve(&self, r: &Reference) -> Option<&Entry> {
        let (kind, id) = r.target()?;
        self.get(ResourceType::parse(kind)?, id)
    }

    /// The item id of what `r` points to, when the record holds it.
    fn item_of(&self, r: Option<&Reference>, kind: ResourceType) -> Option<ItemId> {
        let e = self.resolve(r?)?;
        (e.kind == kind).then(|| e.item.clone())
    }

    /// The name to show for a reference: its display, else the referenced resource's name.
    fn name(&self, r: &Reference) -> Option<String> {
        if let Some(d) = r.display.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            return Some(d.to_string());
        }
        let e = self.resolve(r)?;
        match &e.resource {
            Resource::Condition(c) => c.code.as_ref().and_then(CodeableConcept::label).map(str::to_string),
            other => other.display_name(),
        }
    }

    fn names<'a>(&self, refs: impl IntoIterator<Item = &'a Reference>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in refs.into_iter().filter_map(|r| self.name(r)) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// A FHIR date, dateTime or instant as the pages show it, in the clinic's time zone.
    pub fn when(&self, text: Option<&str>) -> Option<When> {
        when(text?, &self.tz)
    }

    // -----------------------------------------------------------------------------------------
    // Summary and download

    /// The home page's Health Summary: active problems, active allergies, current medications
    /// and the results released in the last 30 days (newest first).
    pub fn summary(&self) -> HealthSummary {
        let since = self.now_ms - 30 * 86_400_000;
        // Only what may be recent is converted (a record holds years of results; the home page
        // is the most viewed page): a result, report or panel dated within the window with two
        // days to spare for time zones, or with a member that is. The exact rule is below.
        let day_before = jiff::Timestamp::from_millisecond(since - 2 * 86_400_000).map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
        let recent_date = |dates: &[Option<&str>]| dates.iter().flatten().any(|d| d.get(..10).unwrap_or(d) >= day_before.as_str());
        let recent_observation = |o: &fhir::Observation| {
            recent_date(&[
                o.issued.as_deref(),
                o.effective_date_time.as_deref(),
                o.effective_instant.as_deref(),
                o.effective_period.as_ref().and_then(|p| p.start.as_deref()),
            ])
        };
        let recent_member = |r: &Reference| matches!(self.resolve(r).map(|m| &m.resource), Some(Resource::Observation(m)) if recent_observation(m));
        let maybe_recent = |e: &Entry| match &e.resource {
            Resource::Observation(o) => recent_observation(o) || o.has_member.iter().any(recent_member),
            Resource::DiagnosticReport(d) => {
                recent_date(&[d.issued.as_deref(), d.effective_date_time.as_deref(), d.effective_period.as_ref().and_then(|p| p.start.as_deref())])
                    || d.result.iter().any(recent_member)
            }
            _ => false,
        };
        let recent_results = self
            .results_where(maybe_recent)
            .all()
            .into_iter()
            .filter(|r| r.resulted.as_ref().or(r.collected.as_ref()).is_some_and(|w| w.ms >= since))
            .cloned()
            .collect();
        HealthSummary {
            active_issues: self.health_issues().active,
            allergies: self.allergies().items.into_iter().filter(|a| a.active).collect(),
            current_medications: self.medications().current,
            recent_results,
        }
    }

    /// The record as a FHIR R4 `collection` Bundle (JSON text) for "Download My Record": the
    /// patient's Patient resource, each clinical resource whose item `keep` accepts (the pages
    /// pass what the patient may see: the release rules decide), and the shared resources
    /// they name. Resources are the source's own JSON, unchanged.
    pub fn fhir_bundle(&self, keep: impl Fn(&ItemId) -> bool) -> String {
        let mut out = String::with_capacity(self.entries().map(|e| e.text.len() + 16).sum::<usize>() + 200);
        let stamp = jiff::Timestamp::from_millisecond(self.now_ms).map(|t| t.to_string()).unwrap_or_default();
        out.push_str(&format!(r#"{{"resourceType":"Bundle","type":"collection","timestamp":"{stamp}","entry":["#));
        let mut first = true;
        for e in self.entries() {
            let shown = match e.kind {
                ResourceType::Patient => true,
                k if k.is_clinical() => keep(&e.item) && self.shown(e),
                _ => true,
            };
            if !shown {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(r#"{"resource":"#);
            out.push_str(&e.text);
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    /// Whether an entry is something the pages show at all (not entered in error, refuted, or
    /// an unreleased document).
    fn shown(&self, e: &Entry) -> bool {
        match &e.resource {
            Resource::Observation(o) => ResultStatus::of_fhir(o.status.as_deref().unwrap_or_default()).is_some(),
            Resource::DiagnosticReport(d) => ResultStatus::of_fhir(d.status.as_deref().unwrap_or_default()).is_some(),
            Resource::MedicationRequest(m) => self.medication(e, m).is_some(),
            Resource::AllergyIntolerance(a) => !a.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error")),
            Resource::Immunization(i) => matches!(i.status.as_deref(), Some("completed" | "not-done")),
            Resource::Condition(c) => !c.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error")),
            Resource::Encounter(v) => VisitStatus::of_fhir(v.status.as_deref().unwrap_or_default()).is_some(),
            Resource::DocumentReference(d) => self.document(e, d).is_some(),
            _ => true,
        }
    }
}

/// Where a document's bytes are.
#[derive(Debug)]
pub enum ContentAt {
    Inline(DocumentContent),
    /// To fetch from the source (only from the source's own server).
    Url {
        url: String,
        content_type: String,
        file_name: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn notes(n: &[fhir::Annotation]) -> Vec<String> {
    n.iter().filter_map(|a| a.text.as_deref()).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

fn plain_number(v: &ResultValue) -> Option<f64> {
    v.amount().filter(|a| a.comparator.is_none() && a.value.is_finite()).map(|a| a.value)
}

/// The key that groups one test's results: `system|code` of the first coding that has both,
/// else `text|<label>`.
pub fn test_key(code: &CodeableConcept) -> TestKey {
    match code.coding.iter().find(|c| c.system.is_some() && c.code.is_some()) {
        Some(c) => TestKey(format!("{}|{}", c.system.as_deref().unwrap_or_default(), c.code.as_deref().unwrap_or_default())),
        None => TestKey(format!("text|{}", code.label().unwrap_or_default())),
    }
}

fn amount(q: &fhir::Quantity) -> Option<Amount> {
    Some(Amount {
        value: q.value?,
        comparator: q.comparator.as_deref().and_then(Comparator::parse),
        unit: q.unit.clone().or(q.code.clone()),
        unit_code: q.code.clone().filter(|_| q.system.as_deref() == Some("http://unitsofmeasure.org")),
    })
}

/// The range the page shows: the first "normal" range (one without a type, or of type
/// `normal`), and only one that says something.
fn range_of(ranges: &[fhir::ReferenceRange]) -> Option<ReferenceRange> {
    ranges
        .iter()
        .find(|r| r.kind.as_ref().is_none_or(|k| k.codes().any(|c| c == "normal")))
        .map(|r| ReferenceRange {
            low: r.low.as_ref().and_then(amount),
            high: r.high.as_ref().and_then(amount),
            text: r.text.clone().filter(|t| !t.trim().is_empty()),
        })
        .filter(|r| r.low.is_some() || r.high.is_some() || r.text.is_some())
}

#[allow(clippy::too_many_arguments)]
fn value_range_flag(
    quantity: Option<&fhir::Quantity>,
    string: Option<&str>,
    concept: Option<&CodeableConcept>,
    integer: Option<i64>,
    boolean: Option<bool>,
    absent: Option<&CodeableConcept>,
    interpretation: &[CodeableConcept],
    ranges: &[fhir::ReferenceRange],
) -> (ResultValue, Option<ReferenceRange>, Flag) {
    let value = if let Some(a) = quantity.and_then(amount) {
        ResultValue::Amount(a)
    } else if let Some(s) = string.map(str::trim).filter(|s| !s.is_empty()) {
        ResultValue::Text(s.to_string())
    } else if let Some(label) = concept.and_then(|c| c.label()) {
        ResultValue::Text(label.to_string())
    } else if let Some(i) = integer {
        ResultValue::Amount(Amount { value: i as f64, comparator: None, unit: None, unit_code: None })
    } else if let Some(b) = boolean {
        ResultValue::Text(if b { "Yes" } else { "No" }.into())
    } else {
        ResultValue::Missing(absent.and_then(|c| c.label()).map(str::to_string))
    };
    let range = range_of(ranges);
    let codes: Vec<&str> = interpretation.iter().flat_map(|c| c.codes()).collect();
    let flag = Flag::derive(&codes, &value, range.as_ref());
    (value, range, flag)
}

fn category_codes(categories: &[CodeableConcept]) -> impl Iterator<Item = &str> {
    categories.iter().flat_map(|c| c.codes())
}

fn is_vital(categories: &[CodeableConcept]) -> bool {
    category_codes(categories).any(|c| c == "vital-signs")
}

/// Whether an Observation is a test result for the Test Results page: not a vital sign, a
/// social-history entry, a survey answer or an activity measure.
pub(crate) fn is_result_category(categories: &[CodeableConcept]) -> bool {
    !category_codes(categories).any(|c| matches!(c, "vital-signs" | "social-history" | "survey" | "activity" | "sdoh"))
}

fn kind_of(categories: &[CodeableConcept]) -> ResultKind {
    for c in categories {
        for coding in &c.coding {
            let system_ok = coding.system.as_deref().is_none_or(|s| s == OBSERVATION_CATEGORY);
            match coding.code.as_deref() {
                Some("laboratory") if system_ok => return ResultKind::Laboratory,
                Some("vital-signs") if system_ok => return ResultKind::VitalSigns,
                Some("imaging") if system_ok => return ResultKind::Imaging,
                _ => {}
            }
        }
    }
    categories.iter().find_map(|c| c.label()).map(|l| ResultKind::Other(l.to_string())).unwrap_or(ResultKind::Other("Other".into()))
}

/// A report's kind from its v2-0074 diagnostic service section (`LAB`, `RAD`…) or an
/// Observation category.
fn report_kind(categories: &[CodeableConcept]) -> ResultKind {
    let codes: Vec<&str> = category_codes(categories).collect();
    if codes.iter().any(|c| matches!(*c, "LAB" | "HM" | "CH" | "MB" | "SP" | "CP" | "laboratory")) {
        ResultKind::Laboratory
    } else if codes.iter().any(|c| matches!(*c, "RAD" | "CT" | "RX" | "NMR" | "US" | "imaging" | "LP29684-5")) {
        ResultKind::Imaging
    } else {
        kind_of(categories)
    }
}

/// A download's file name: the title in plain letters, digits and dashes, and an extension for
/// the content type.
fn file_name(title: &str, content_type: &str) -> String {
    let mut stem: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    stem.truncate(80);
    if stem.is_empty() {
        stem = "document".into();
    }
    let ext = match content_type.split(';').next().unwrap_or_default().trim() {
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/html" => "html",
        "application/xml" | "text/xml" => "xml",
        "application/json" | "application/fhir+json" => "json",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/tiff" => "tif",
        _ => "bin",
    };
    format!("{stem}.{ext}")
}

/// A FHIR `date`, `dateTime` or `instant` (`2026`, `2026-11`, `2026-11-23`,
/// `2026-11-23T09:35:00-05:00`) as a [`When`] in the clinic's time zone. A time without an
/// offset (not valid FHIR, but sent) is read as the clinic's local time.
pub fn when(text: &str, tz: &jiff::tz::TimeZone) -> Option<When> {
    const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    let t = text.trim();
    if !t.contains('T') {
        let mut parts = t.split('-');
        let year: i32 = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
        let mut next = || -> Option<u32> {
            match parts.next() {
                None => Some(0),
                Some(n) if n.len() == 2 => n.parse().ok().filter(|n| *n > 0),
                Some(_) => None,
            }
        };
        let (month, day) = (next()?, next()?);
        if parts.next().is_some() || (month == 0 && day != 0) {
            return None;
        }
        return match (month, day) {
            (0, 0) => {
                let d = CalendarDate::new(year, 1, 1)?;
                Some(When { ms: d.start_ms(), day: d, precision: Precision::Year, text: year.to_string() })
            }
            (m, 0) => {
                let d = CalendarDate::new(year, m, 1)?;
                Some(When { ms: d.start_ms(), day: d, precision: Precision::Month, text: format!("{} {year}", MONTHS[(m - 1) as usize]) })
            }
            (m, d) => {
                let d = CalendarDate::new(year, m, d)?;
                Some(When {
                    ms: d.start_ms(),
                    day: d,
                    precision: Precision::Day,
                    text: format!("{} {}, {}", &MONTHS[(d.month - 1) as usize][..3], d.day, d.year),
                })
            }
        };
    }
    let zoned = match t.parse::<jiff::Timestamp>() {
        Ok(ts) => ts.to_zoned(tz.clone()),
        Err(_) => t.parse::<jiff::civil::DateTime>().ok()?.to_zoned(tz.clone()).ok()?,
    };
    let day = CalendarDate::new(zoned.year() as i32, zoned.month() as u32, zoned.day() as u32)?;
    Some(When { ms: zoned.timestamp().as_millisecond(), day, precision: Precision::Time, text: zoned.strftime("%b %-d, %Y, %-I:%M %p").to_string() })
}

#[cfg(test)]
mod tests;
