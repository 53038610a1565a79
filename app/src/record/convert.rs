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
#[derive(Debug)]
pub struct Entry {
    pub kind: ResourceType,
    pub id: String,
    pub item: ItemId,
    pub resource: Resource,
    pub text: String,
}

/// One patient's record as a source gave it: their own resources (each checked to be about
/// this patient), their Patient resource, and the shared ones (practitioners, places,
/// medications) that name who and where. Built per request; never stored.
#[derive(Debug)]
pub struct PatientRecord {
    /// The FHIR Patient id.
    pub patient: String,
    entries: Vec<Entry>,
    by_ref: HashMap<(ResourceType, String), usize>,
    by_item: HashMap<ItemId, usize>,
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
    /// Builds the record from resources' JSON texts. A clinical resource that is not about
    /// `patient` is dropped (a system token reads everyone's record: the portal checks what
    /// comes back); so is one that does not read. `base` is the remote source's base URL
    /// (absolute subject references under it count as ours).
    pub fn build(patient: &str, texts: Vec<String>, base: Option<&str>, key: &ItemKey, tz: &jiff::tz::TimeZone, now_ms: i64) -> PatientRecord {
        let mut record = PatientRecord {
            patient: patient.to_string(),
            entries: Vec::with_capacity(texts.len()),
            by_ref: HashMap::new(),
            by_item: HashMap::new(),
            incomplete: false,
            withheld: Default::default(),
            tz: tz.clone(),
            now_ms,
        };
        for text in texts {
            match fhir::parse(&text) {
                Ok(resource) => record.add(resource, text, base, key),
                // A type we do not read (an OperationOutcome, a Provenance) is not part of
                // the record we show; one that does not read as its type is.
                Err(fhir::ParseError::Unsupported(_)) => {}
                Err(_) => {
                    record.incomplete = true;
                    tracing::warn!("a resource from the record source did not read as FHIR R4 and is not shown");
                }
            }
        }
        record
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
        if self.by_ref.contains_key(&(kind, id.clone())) {
            return;
        }
        let item = key.id(kind, &id);
        let at = self.entries.len();
        self.by_ref.insert((kind, id.clone()), at);
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

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, item: &ItemId) -> Option<&Entry> {
        self.by_item.get(item).map(|&i| &self.entries[i])
    }

    fn get(&self, kind: ResourceType, id: &str) -> Option<&Entry> {
        self.by_ref.get(&(kind, id.to_string())).map(|&i| &self.entries[i])
    }

    /// Takes the entries of `items` out of the record, so that no page, count or download made
    /// from it has them (the release rules: `super::release::apply`). A report or panel that
    /// stays loses its references to the members taken out, in its parsed form and in the JSON
    /// the download gives back (a reference's id or display could name the test).
    pub fn withhold(&mut self, items: &HashSet<ItemId>) {
        if items.is_empty() {
            return;
        }
        let gone: HashSet<(ResourceType, String)> = self.entries.iter().filter(|e| items.contains(&e.item)).map(|e| (e.kind, e.id.clone())).collect();
        if gone.is_empty() {
            return;
        }
        let is_gone = |r: &Reference| r.target().and_then(|(k, id)| Some((ResourceType::parse(k)?, id.to_string()))).is_some_and(|t| gone.contains(&t));
        let is_gone_json = |v: &serde_json::Value| {
            v.get("reference")
                .and_then(|r| r.as_str())
                .and_then(fhir::target_of)
                .and_then(|(k, id)| Some((ResourceType::parse(k)?, id.to_string())))
                .is_some_and(|t| gone.contains(&t))
        };
        let entries = std::mem::take(&mut self.entries);
        self.by_ref.clear();
        self.by_item.clear();
        for mut e in entries {
            if items.contains(&e.item) {
                continue;
            }
            let field = match &mut e.resource {
                Resource::DiagnosticReport(d) if d.result.iter().any(is_gone) => {
                    d.result.retain(|r| !is_gone(r));
                    Some("result")
                }
                Resource::Observation(o) if o.has_member.iter().any(is_gone) => {
                    o.has_member.retain(|r| !is_gone(r));
                    Some("hasMember")
                }
                _ => None,
            };
            if let Some(field) = field {
                if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(&e.text) {
                    if let Some(list) = json.get_mut(field).and_then(|l| l.as_array_mut()) {
                        list.retain(|r| !is_gone_json(r));
                    }
                    if let Ok(text) = serde_json::to_string(&json) {
                        e.text = text;
                    }
                }
            }
            let at = self.entries.len();
            self.by_ref.insert((e.kind, e.id.clone()), at);
            self.by_item.insert(e.item.clone(), at);
            self.entries.push(e);
        }
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
                    if self.get(kind, id).is_none() && seen.insert((kind, id.to_string())) {
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
    // Test results

    fn observations(&self) -> impl Iterator<Item = (&Entry, &fhir::Observation)> {
        self.entries.iter().filter_map(|e| match &e.resource {
            Resource::Observation(o) => Some((e, o)),
            _ => None,
        })
    }

    fn result_of(&self, e: &Entry, o: &fhir::Observation, panel: Option<(&ItemId, Option<String>)>) -> Option<TestResult> {
        let status = ResultStatus::of_fhir(o.status.as_deref().unwrap_or_default())?;
        let (value, range, flag) = value_range_flag(
            o.value_quantity.as_ref(),
            o.value_string.as_deref(),
            o.value_codeable_concept.as_ref(),
            o.value_integer,
            o.value_boolean,
            o.data_absent_reason.as_ref(),
            &o.interpretation,
            &o.reference_range,
        );
        let parts: Vec<ResultPart> = o
            .component
            .iter()
            .map(|c| {
                let (value, range, flag) = value_range_flag(
                    c.value_quantity.as_ref(),
                    c.value_string.as_deref(),
                    c.value_codeable_concept.as_ref(),
                    c.value_integer,
                    c.value_boolean,
                    c.data_absent_reason.as_ref(),
                    &c.interpretation,
                    &c.reference_range,
                );
                let code = c.code.clone().unwrap_or_default();
                ResultPart { name: code.label().unwrap_or("Part").to_string(), key: test_key(&code), value, range, flag }
            })
            .collect();
        let flag = parts.iter().fold(flag, |f, p| f.worse(p.flag));
        let code = o.code.clone().unwrap_or_default();
        Some(TestResult {
            id: e.item.clone(),
            name: code.label().unwrap_or("Test").to_string(),
            key: test_key(&code),
            kind: kind_of(&o.category),
            value,
            parts,
            range,
            flag,
            status,
            collected: self
                .when(o.effective_date_time.as_deref().or(o.effective_instant.as_deref()).or(o.effective_period.as_ref().and_then(|p| p.start.as_deref()))),
            resulted: self.when(o.issued.as_deref()),
            ordered_by: panel.as_ref().and_then(|(_, by)| by.clone()),
            performed_by: self.names(&o.performer),
            comments: notes(&o.note),
            panel: panel.map(|(id, _)| id.clone()),
            visit: self.item_of(o.encounter.as_ref(), ResourceType::Encounter),
        })
    }

    /// The orderer and the other performers of a report. FHIR has no "ordered by" on a report
    /// (it is the requester of the order it is `basedOn`); EHRs and the demo list the ordering
    /// clinician as the report's Practitioner performer and the laboratory as its Organization
    /// performer, so: the first Practitioner (or PractitionerRole) performer who is not also
    /// the interpreter orders; everyone else performed.
    fn report_people(&self, d: &fhir::DiagnosticReport) -> (Option<String>, Vec<String>, Vec<String>) {
        let interpreters = self.names(&d.results_interpreter);
        let mut ordered_by = None;
        let mut performed = Vec::new();
        for p in &d.performer {
            let is_person = p.target().is_some_and(|(k, _)| k == "Practitioner" || k == "PractitionerRole");
            let Some(name) = self.name(p) else { continue };
            if is_person && ordered_by.is_none() && !interpreters.contains(&name) {
                ordered_by = Some(name);
            } else if !performed.contains(&name) {
                performed.push(name);
            }
        }
        (ordered_by, performed, interpreters)
    }

    /// Test results: lab and other results (not vital signs, social history or survey
    /// answers), panels with their members, newest first.
    pub fn test_results(&self) -> TestResults {
        self.results_where(|_| true)
    }

    fn results_where(&self, keep: impl Fn(&Entry) -> bool) -> TestResults {
        let mut panels = Vec::new();
        let mut in_panel: HashSet<usize> = HashSet::new();
        for e in self.entries.iter().filter(|e| keep(e)) {
            let (members, p) = match &e.resource {
                Resource::DiagnosticReport(d) => {
                    let Some(status) = ResultStatus::of_fhir(d.status.as_deref().unwrap_or_default()) else { continue };
                    let (ordered_by, performed_by, interpreted_by) = self.report_people(d);
                    let code = d.code.clone().unwrap_or_default();
                    let panel = Panel {
                        id: e.item.clone(),
                        name: code.label().unwrap_or("Test results").to_string(),
                        kind: report_kind(&d.category),
                        status,
                        collected: self.when(d.effective_date_time.as_deref().or(d.effective_period.as_ref().and_then(|p| p.start.as_deref()))),
                        resulted: self.when(d.issued.as_deref()),
                        ordered_by,
                        performed_by,
                        interpreted_by,
                        conclusion: d.conclusion.clone().filter(|c| !c.trim().is_empty()),
                        results: Vec::new(),
                        flag: Flag::None,
                        visit: self.item_of(d.encounter.as_ref(), ResourceType::Encounter),
                    };
                    (&d.result, panel)
                }
                // An Observation that groups others (`hasMember`) is a panel too.
                Resource::Observation(o) if !o.has_member.is_empty() && is_result_category(&o.category) => {
                    let Some(status) = ResultStatus::of_fhir(o.status.as_deref().unwrap_or_default()) else { continue };
                    let code = o.code.clone().unwrap_or_default();
                    let panel = Panel {
                        id: e.item.clone(),
                        name: code.label().unwrap_or("Test results").to_string(),
                        kind: kind_of(&o.category),
                        status,
                        collected: self.when(
                            o.effective_date_time
                                .as_deref()
                                .or(o.effective_instant.as_deref())
                                .or(o.effective_period.as_ref().and_then(|p| p.start.as_deref())),
                        ),
                        resulted: self.when(o.issued.as_deref()),
                        ordered_by: None,
                        performed_by: self.names(&o.performer),
                        interpreted_by: Vec::new(),
                        conclusion: None,
                        results: Vec::new(),
                        flag: Flag::None,
                        visit: self.item_of(o.encounter.as_ref(), ResourceType::Encounter),
                    };
                    in_panel.insert(self.by_item[&e.item]);
                    (&o.has_member, panel)
                }
                _ => continue,
            };
            let mut panel = p;
            for r in members {
                let Some(member) = self.resolve(r) else { continue };
                if let Resource::Observation(o) = &member.resource {
                    in_panel.insert(self.by_item[&member.item]);
                    if let Some(result) = self.result_of(member, o, Some((&panel.id, panel.ordered_by.clone()))) {
                        panel.flag = panel.flag.worse(result.flag);
                        panel.results.push(result);
                    }
                }
            }
            panels.push(panel);
        }
        let mut single: Vec<TestResult> = self
            .observations()
            .filter(|(e, o)| keep(e) && is_result_category(&o.category) && !in_panel.contains(&self.by_item[&e.item]))
            .filter_map(|(e, o)| self.result_of(e, o, None))
            .collect();
        panels.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
        single.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
        TestResults { panels, single }
    }

    /// Vital signs (blood pressure, weight, BMI, heart rate…), newest first.
    pub fn vitals(&self) -> Vec<TestResult> {
        let mut v: Vec<TestResult> = self.observations().filter(|(_, o)| is_vital(&o.category)).filter_map(|(e, o)| self.result_of(e, o, None)).collect();
        v.sort_by(|a, b| newest_first(a.collected.as_ref(), b.collected.as_ref()));
        v
    }

    /// Every result and vital sign, outside or inside panels (for trends).
    fn every_result(&self) -> Vec<TestResult> {
        let mut all: Vec<TestResult> = self.test_results().all().into_iter().cloned().collect();
        all.extend(self.vitals());
        all
    }

    /// The tests that have numeric values, for a list of trends: vital signs first, then by
    /// name.
    pub fn trend_choices(&self) -> Vec<TrendChoice> {
        let mut by_key: HashMap<TestKey, TrendChoice> = HashMap::new();
        for r in self.every_result() {
            let numeric = r.number().is_some() || r.parts.iter().any(|p| plain_number(&p.value).is_some());
            if !numeric {
                continue;
            }
            let when = r.collected.clone().or(r.resulted.clone());
            let c = by_key.entry(r.key.clone()).or_insert_with(|| TrendChoice {
                key: r.key.clone(),
                name: r.name.clone(),
                kind: r.kind.clone(),
                values: 0,
                latest: None,
            });
            c.values += 1;
            if when.is_some() && c.latest.as_ref() < when.as_ref() {
                c.latest = when;
                c.name = r.name.clone();
            }
        }
        let mut list: Vec<TrendChoice> = by_key.into_values().collect();
        list.sort_by(|a, b| (a.kind != ResultKind::VitalSigns, a.name.to_lowercase()).cmp(&(b.kind != ResultKind::VitalSigns, b.name.to_lowercase())));
        list
    }

    /// One test over time: a series for its values, or one per part (blood pressure: systolic
    /// and diastolic). Only values in the unit of the newest one are drawn (a change of unit
    /// would draw a false jump), and only plain numbers ("< 5" is not a point). None when the
    /// record has no such numeric test.
    pub fn trend(&self, key: &TestKey) -> Option<Trend> {
        let mut results: Vec<TestResult> = self.every_result().into_iter().filter(|r| &r.key == key).collect();
        results.retain(|r| r.collected.is_some() || r.resulted.is_some());
        results.sort_by(|a, b| newest_first(b.collected.as_ref().or(b.resulted.as_ref()), a.collected.as_ref().or(a.resulted.as_ref())));
        let newest = results.last()?.clone();
        // (series name, key of the part or none, unit) in the order they first appear
        let mut lines: Vec<(String, Option<TestKey>)> = Vec::new();
        if results.iter().any(|r| !r.parts.is_empty()) {
            for r in results.iter().rev() {
                for p in &r.parts {
                    if !lines.iter().any(|(_, k)| k.as_ref() == Some(&p.key)) {
                        lines.push((p.name.clone(), Some(p.key.clone())));
                    }
                }
            }
        } else {
            lines.push((newest.name.clone(), None));
        }
        let mut series = Vec::new();
        for (name, part) in lines {
            let values: Vec<(When, &ResultValue, Option<&ReferenceRange>, Flag, &ItemId)> = results
                .iter()
                .filter_map(|r| {
                    let at = r.collected.clone().or(r.resulted.clone())?;
                    match &part {
                        None => Some((at, &r.value, r.range.as_ref(), r.flag, &r.id)),
                        Some(k) => r.parts.iter().find(|p| &p.key == k).map(|p| (at, &p.value, p.range.as_ref(), p.flag, &r.id)),
                    }
                })
                .collect();
            let unit_of = |v: &ResultValue| v.amount().map(|a| a.unit_code.clone().or(a.unit.clone()));
            let Some(unit) = values.iter().rev().find_map(|(_, v, ..)| plain_number(v).and(unit_of(v))) else { continue };
            let shown_unit = values.iter().rev().find_map(|(_, v, ..)| v.amount().filter(|_| plain_number(v).is_some()).and_then(|a| a.unit.clone()));
            let points: Vec<TrendPoint> = values
                .iter()
                .filter(|(_, v, ..)| unit_of(v) == Some(unit.clone()))
                .filter_map(|(at, v, _, flag, id)| Some(TrendPoint { at: at.clone(), value: plain_number(v)?, flag: *flag, result: (*id).clone() }))
                .collect();
            let range =
                values.iter().rev().filter(|(_, v, ..)| unit_of(v) == Some(unit.clone())).find_map(|(_, _, r, ..)| r.filter(|r| r.is_numeric()).cloned());
            if !points.is_empty() {
                series.push(Series { name, unit: shown_unit, points, range });
            }
        }
        (!series.is_empty()).then(|| Trend { key: key.clone(), name: newest.name.clone(), kind: newest.kind.clone(), series })
    }

    // -----------------------------------------------------------------------------------------
    // Medications, allergies, immunizations, health issues

    fn medication(&self, e: &Entry, m: &fhir::MedicationRequest) -> Option<Medication> {
        let status = MedicationStatus::of_fhir(m.status.as_deref().unwrap_or_default())?;
        if matches!(m.intent.as_deref(), Some("proposal" | "option")) || status == MedicationStatus::Draft {
            return None;
        }
        let name = m
            .medication_codeable_concept
            .as_ref()
            .and_then(|c| c.label())
            .map(str::to_string)
            .or_else(|| m.medication_reference.as_ref().and_then(|r| self.medication_name(r, m)))
            .unwrap_or_else(|| "Medication".into());
        let bounds = m.dosage_instruction.iter().find_map(|d| d.timing.as_ref()?.repeat.as_ref()?.bounds_period.as_ref());
        let instructions: Vec<String> = m
            .dosage_instruction
            .iter()
            .flat_map(|d| [d.text.as_deref(), d.patient_instruction.as_deref()])
            .flatten()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        let mut reasons: Vec<String> = m.reason_code.iter().filter_map(|c| c.label()).map(str::to_string).collect();
        for n in self.names(&m.reason_reference) {
            if !reasons.contains(&n) {
                reasons.push(n);
            }
        }
        Some(Medication {
            id: e.item.clone(),
            name,
            status,
            instructions: (!instructions.is_empty()).then(|| instructions.join(" ")),
            prescriber: m.requester.as_ref().and_then(|r| self.name(r)),
            prescribed: self.when(m.authored_on.as_deref()),
            start: self.when(bounds.and_then(|b| b.start.as_deref())),
            end: self.when(bounds.and_then(|b| b.end.as_deref())),
            status_reason: m.status_reason.as_ref().and_then(|c| c.label()).map(str::to_string),
            reasons,
        })
    }

    fn medication_name(&self, r: &Reference, m: &fhir::MedicationRequest) -> Option<String> {
        if let Some(local) = r.reference.as_deref().and_then(|s| s.strip_prefix('#')) {
            return m.contained.iter().find_map(|raw| {
                let med: fhir::Medication = serde_json::from_str(raw.get()).ok()?;
                (fhir::type_of(raw.get()).ok()? == "Medication" && med.id.as_deref() == Some(local))
                    .then(|| med.code.as_ref()?.label().map(str::to_string))
                    .flatten()
            });
        }
        self.name(r)
    }

    /// Current medications (active or on hold) by name, and past ones most recently ended
    /// first.
    pub fn medications(&self) -> Medications {
        let mut all: Vec<Medication> = self
            .entries
            .iter()
            .filter_map(|e| match &e.resource {
                Resource::MedicationRequest(m) => self.medication(e, m),
                _ => None,
            })
            .collect();
        let past = all.iter().filter(|m| !m.status.is_current()).cloned().collect::<Vec<_>>();
        all.retain(|m| m.status.is_current());
        all.sort_by_key(|m| m.name.to_lowercase());
        let mut past = past;
        past.sort_by(|a, b| {
            newest_first(a.end.as_ref().or(a.start.as_ref()).or(a.prescribed.as_ref()), b.end.as_ref().or(b.start.as_ref()).or(b.prescribed.as_ref()))
        });
        Medications { current: all, past }
    }

    /// Allergies and intolerances: active first, high criticality first, then by name. A
    /// refuted or entered-in-error one is not listed; neither is a "no known allergy" statement,
    /// which sets `no_known` instead.
    pub fn allergies(&self) -> Allergies {
        let mut items = Vec::new();
        let mut no_known = None;
        for e in &self.entries {
            let Resource::AllergyIntolerance(a) = &e.resource else { continue };
            if a.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error")) {
                continue;
            }
            let code = a.code.clone().unwrap_or_default();
            // SNOMED CT's "no known allergy" family: a statement, not a substance.
            if ["716186003", "409137002", "428607008", "429625007"].iter().any(|c| code.has(SNOMED, c)) {
                no_known = code.label().map(str::to_string).or(Some("No known allergies".into()));
                continue;
            }
            let active = a.clinical_status.as_ref().is_none_or(|s| s.codes().any(|c| c == "active"));
            items.push(Allergy {
                id: e.item.clone(),
                substance: code.label().unwrap_or("Substance not named").to_string(),
                kind: match a.kind.as_deref() {
                    Some("allergy") => AllergyKind::Allergy,
                    Some("intolerance") => AllergyKind::Intolerance,
                    _ => AllergyKind::Unspecified,
                },
                categories: a.category.clone(),
                criticality: match a.criticality.as_deref() {
                    Some("low") => Some(Criticality::Low),
                    Some("high") => Some(Criticality::High),
                    Some("unable-to-assess") => Some(Criticality::Unable),
                    _ => None,
                },
                reactions: a
                    .reaction
                    .iter()
                    .map(|r| Reaction {
                        manifestations: r.manifestation.iter().filter_map(|m| m.label()).map(str::to_string).collect(),
                        severity: match r.severity.as_deref() {
                            Some("mild") => Some(Severity::Mild),
                            Some("moderate") => Some(Severity::Moderate),
                            Some("severe") => Some(Severity::Severe),
                            _ => None,
                        },
                        description: r.description.clone(),
                    })
                    .collect(),
                active,
                onset: self.when(a.onset_date_time.as_deref()),
                recorded: self.when(a.recorded_date.as_deref()),
                notes: notes(&a.note),
            });
        }
        items.sort_by_key(|a| (!a.active, a.criticality != Some(Criticality::High), a.substance.to_lowercase()));
        let no_known = no_known.filter(|_| !items.iter().any(|a| a.active));
        Allergies { items, no_known }
    }

    /// Immunizations, newest first (entered-in-error ones are not listed).
    pub fn immunizations(&self) -> Vec<Immunization> {
        let mut list: Vec<Immunization> = self
            .entries
            .iter()
            .filter_map(|e| {
                let Resource::Immunization(i) = &e.resource else { return None };
                let status = match i.status.as_deref() {
                    Some("completed") => ImmunizationStatus::Given,
                    Some("not-done") => ImmunizationStatus::NotGiven,
                    _ => return None,
                };
                let dose = i.protocol_applied.iter().find_map(|p| {
                    p.dose_number_positive_int.map(|n| format!("Dose {n}")).or_else(|| p.dose_number_string.as_ref().map(|s| format!("Dose {s}")))
                });
                Some(Immunization {
                    id: e.item.clone(),
                    vaccine: i.vaccine_code.as_ref().and_then(|c| c.label()).unwrap_or("Vaccine").to_string(),
                    status,
                    status_reason: i.status_reason.as_ref().and_then(|c| c.label()).map(str::to_string),
                    date: self.when(i.occurrence_date_time.as_deref()),
                    dose,
                    site: i.site.as_ref().and_then(|c| c.label()).map(str::to_string),
                    route: i.route.as_ref().and_then(|c| c.label()).map(str::to_string),
                    given_by: self.names(i.performer.iter().filter_map(|p| p.actor.as_ref())),
                    location: i.location.as_ref().and_then(|l| self.name(l)),
                    lot_number: i.lot_number.clone(),
                    notes: notes(&i.note),
                })
            })
            .collect();
        list.sort_by(|a, b| newest_first(a.date.as_ref(), b.date.as_ref()));
        list
    }

    /// Health issues, active and resolved, newest onset first: the problem list and health
    /// concerns, and a visit's diagnoses (acute bronchitis, resolved) unless the problem list
    /// has the same condition or a newer diagnosis of it is listed (an EHR may record "type 2
    /// diabetes" as a diagnosis at every visit). Refuted and entered-in-error ones are not
    /// listed.
    pub fn health_issues(&self) -> HealthIssues {
        let mut issues = HealthIssues::default();
        let is_diagnosis = |c: &fhir::Condition| !c.category.is_empty() && c.category.iter().all(|k| k.codes().any(|code| code == "encounter-diagnosis"));
        let shown = |c: &fhir::Condition| !c.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error"));
        let conditions: Vec<(&Entry, &fhir::Condition)> = self
            .entries
            .iter()
            .filter_map(|e| match &e.resource {
                Resource::Condition(c) if shown(c) => Some((e, c)),
                _ => None,
            })
            .collect();
        let key = |c: &fhir::Condition| test_key(&c.code.clone().unwrap_or_default());
        let on_problem_list: HashSet<TestKey> = conditions.iter().filter(|(_, c)| !is_diagnosis(c)).map(|(_, c)| key(c)).collect();
        // The newest diagnosis of each condition that is not on the problem list.
        let mut newest_diagnosis: HashMap<TestKey, (&Entry, Option<When>)> = HashMap::new();
        for (e, c) in conditions.iter().filter(|(_, c)| is_diagnosis(c)) {
            let k = key(c);
            if on_problem_list.contains(&k) {
                continue;
            }
            let onset = self.when(c.onset_date_time.as_deref().or(c.recorded_date.as_deref()));
            match newest_diagnosis.get(&k) {
                Some((_, seen)) if seen >= &onset => {}
                _ => {
                    newest_diagnosis.insert(k, (e, onset));
                }
            }
        }
        let kept: HashSet<&ItemId> = newest_diagnosis.values().map(|(e, _)| &e.item).collect();
        for (e, c) in conditions {
            if is_diagnosis(c) && !kept.contains(&e.item) {
                continue;
            }
            let abated = c.abatement_date_time.as_deref().or(c.abatement_period.as_ref().and_then(|p| p.end.as_deref().or(p.start.as_deref())));
            let status = match c.clinical_status.as_ref().and_then(|s| s.codes().next()) {
                Some(code) => IssueStatus::of_fhir(code),
                None if abated.is_some() || c.abatement_string.is_some() => IssueStatus::Resolved,
                None => IssueStatus::Unknown,
            };
            let issue = HealthIssue {
                id: e.item.clone(),
                name: c.code.as_ref().and_then(|c| c.label()).unwrap_or("Health issue").to_string(),
                status,
                onset: self.when(c.onset_date_time.as_deref().or(c.onset_period.as_ref().and_then(|p| p.start.as_deref()))),
                resolved: self.when(abated),
                recorded: self.when(c.recorded_date.as_deref()),
                notes: notes(&c.note),
            };
            if status.is_active() {
                issues.active.push(issue);
            } else {
                issues.resolved.push(issue);
            }
        }
        let by_onset = |a: &HealthIssue, b: &HealthIssue| newest_first(a.onset.as_ref().or(a.recorded.as_ref()), b.onset.as_ref().or(b.recorded.as_ref()));
        issues.active.sort_by(by_onset);
        issues.resolved.sort_by(|a, b| newest_first(a.resolved.as_ref(), b.resolved.as_ref()).then(by_onset(a, b)));
        issues
    }

    // -----------------------------------------------------------------------------------------
    // Visits and documents

    fn visit_summary(&self, e: &Entry, v: &fhir::Encounter) -> Option<VisitSummary> {
        let status = VisitStatus::of_fhir(v.status.as_deref().unwrap_or_default())?;
        let setting = v.class.as_ref().and_then(|c| {
            Some(
                match c.code.as_deref() {
                    Some("AMB") => "Outpatient",
                    Some("EMER") => "Emergency",
                    Some("IMP" | "ACUTE" | "NONAC") => "Hospital stay",
                    Some("OBSENC") => "Observation",
                    Some("VR") => "Virtual",
                    Some("HH") => "Home",
                    _ => return c.display.clone(),
                }
                .to_string(),
            )
        });
        let mut reasons: Vec<String> = v.reason_code.iter().filter_map(|c| c.label()).map(str::to_string).collect();
        for n in self.names(&v.reason_reference) {
            if !reasons.contains(&n) {
                reasons.push(n);
            }
        }
        Some(VisitSummary {
            id: e.item.clone(),
            start: self.when(v.period.as_ref().and_then(|p| p.start.as_deref())),
            end: self.when(v.period.as_ref().and_then(|p| p.end.as_deref())),
            kind: v.kind.iter().find_map(|k| k.label()).map(str::to_string).or_else(|| setting.clone()).unwrap_or_else(|| "Visit".into()),
            setting,
            status,
            place: v
                .location
                .iter()
                .filter_map(|l| l.location.as_ref())
                .find_map(|l| self.name(l))
                .or_else(|| v.service_provider.as_ref().and_then(|s| self.name(s))),
            clinicians: self.names(v.participant.iter().filter_map(|p| p.individual.as_ref())),
            reasons,
        })
    }

    /// Past visits (finished, in progress, or of unknown status; planned and cancelled ones
    /// are not visits had), newest first.
    pub fn visits(&self) -> Vec<VisitSummary> {
        let mut list: Vec<VisitSummary> = self
            .entries
            .iter()
            .filter_map(|e| match &e.resource {
                Resource::Encounter(v) => self.visit_summary(e, v),
                _ => None,
            })
            .filter(|v| !matches!(v.status, VisitStatus::Planned | VisitStatus::Cancelled))
            .collect();
        list.sort_by(|a, b| newest_first(a.start.as_ref(), b.start.as_ref()));
        list
    }

    /// One visit with its diagnoses, vital signs, results and released documents; none when
    /// `id` is no visit of this record.
    pub fn visit(&self, id: &ItemId) -> Option<Visit> {
        let e = self.entry(id)?;
        let Resource::Encounter(v) = &e.resource else { return None };
        let summary = self.visit_summary(e, v)?;
        let mut ranked: Vec<(u32, String)> = v.diagnosis.iter().filter_map(|d| Some((d.rank.unwrap_or(u32::MAX), self.name(d.condition.as_ref()?)?))).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let mut diagnoses: Vec<String> = Vec::new();
        for (_, name) in ranked {
            if !diagnoses.contains(&name) {
                diagnoses.push(name);
            }
        }
        for e2 in &self.entries {
            if let Resource::Condition(c) = &e2.resource {
                if self.item_of(c.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id) {
                    if let Some(name) = c.code.as_ref().and_then(|c| c.label()) {
                        if !diagnoses.iter().any(|d| d == name) {
                            diagnoses.push(name.to_string());
                        }
                    }
                }
            }
        }
        let vitals = self.vitals().into_iter().filter(|r| r.visit.as_ref() == Some(id)).collect();
        let results = self.results_where(|entry| match &entry.resource {
            Resource::Observation(o) => self.item_of(o.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id),
            Resource::DiagnosticReport(d) => self.item_of(d.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id),
            _ => false,
        });
        let documents = self.documents().into_iter().filter(|d| d.visit.as_ref() == Some(id)).collect();
        Some(Visit { summary, diagnoses, vitals, results, documents })
    }

    fn document(&self, e: &Entry, d: &fhir::DocumentReference) -> Option<Document> {
        // Released to the patient: the current version, not a draft.
        if d.status.as_deref() != Some("current") || matches!(d.doc_status.as_deref(), Some("preliminary" | "entered-in-error")) {
            return None;
        }
        let attachment = d.content.iter().filter_map(|c| c.attachment.as_ref()).find(|a| a.data.is_some() || a.url.is_some())?;
        let kind = d.kind.as_ref().and_then(|k| k.label()).or_else(|| d.category.iter().find_map(|c| c.label())).unwrap_or("Document").to_string();
        let after_visit_summary =
            d.kind.as_ref().is_some_and(|k| k.has(LOINC, "34133-9") || k.label().is_some_and(|l| l.to_lowercase().contains("after visit")));
        Some(Document {
            id: e.item.clone(),
            title: attachment
                .title
                .as_deref()
                .or(d.description.as_deref())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| kind.clone()),
            kind,
            date: self.when(d.date.as_deref().or(d.context.as_ref().and_then(|c| c.period.as_ref()?.start.as_deref()))),
            authors: self.names(&d.author),
            content_type: attachment.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            size: attachment.size.or_else(|| attachment.data.as_ref().map(|b| (b.trim_end_matches('=').len() * 3 / 4) as u64)),
            visit: d.context.as_ref().and_then(|c| c.encounter.iter().find_map(|r| self.item_of(Some(r), ResourceType::Encounter))),
            after_visit_summary,
        })
    }

    /// Documents released to the patient, newest first.
    pub fn documents(&self) -> Vec<Document> {
        let mut list: Vec<Document> = self
            .entries
            .iter()
            .filter_map(|e| match &e.resource {
                Resource::DocumentReference(d) => self.document(e, d),
                _ => None,
            })
            .collect();
        list.sort_by(|a, b| newest_first(a.date.as_ref(), b.date.as_ref()));
        list
    }

    /// Where a document's content is: inline (decoded here), or at a URL the source must
    /// fetch. None when `id` is no released document of this record (or its data is not base64).
    pub fn document_content(&self, id: &ItemId) -> Option<ContentAt> {
        let e = self.entry(id)?;
        let Resource::DocumentReference(d) = &e.resource else { return None };
        let doc = self.document(e, d)?;
        let attachment = d.content.iter().filter_map(|c| c.attachment.as_ref()).find(|a| a.data.is_some() || a.url.is_some())?;
        let file_name = file_name(&doc.title, &doc.content_type);
        match (&attachment.data, &attachment.url) {
            (Some(data), _) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()).ok()?;
                Some(ContentAt::Inline(DocumentContent { content_type: doc.content_type, file_name, bytes }))
            }
            (None, Some(url)) => Some(ContentAt::Url { url: url.clone(), content_type: doc.content_type, file_name }),
            (None, None) => None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Summary and download

    /// The home page's Health Summary: active problems, active allergies, current medications
    /// and the results released in the last 30 days (newest first).
    pub fn summary(&self) -> HealthSummary {
        let since = self.now_ms - 30 * 86_400_000;
        let recent_results =
            self.test_results().all().into_iter().filter(|r| r.resulted.as_ref().or(r.collected.as_ref()).is_some_and(|w| w.ms >= since)).cloned().collect();
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
        let mut out = String::with_capacity(self.entries.iter().map(|e| e.text.len() + 16).sum::<usize>() + 200);
        let stamp = jiff::Timestamp::from_millisecond(self.now_ms).map(|t| t.to_string()).unwrap_or_default();
        out.push_str(&format!(r#"{{"resourceType":"Bundle","type":"collection","timestamp":"{stamp}","entry":["#));
        let mut first = true;
        for e in &self.entries {
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
