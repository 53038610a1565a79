//! The results part: each patient's embedded medical record, a FHIR Patient and lab results
//! (Observations under DiagnosticReports).

use super::panels::{Panel, PANELS};
use super::patients::Person;
use super::random::{Rng, SEED_RESULTS};
use super::rows::{t, Rows, INSERT_IDENTIFIERS, INSERT_LINKS, INSERT_RESOURCES, V};
use super::times::{lab_morning, DAY, HOUR, MINUTE, YEAR};
use super::{begin, BenchDataError, Clinic, Options, BATCH};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// Years back that lab results are spread over.
const RESULT_YEARS: i64 = 5;

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// A patient's embedded record: (resource type, id, JSON), and how many reports and results.
struct LabRecord {
    resources: Vec<(&'static str, String, String)>,
    reports: u64,
    results: u64,
}

/// A number as the laboratory reports it: an integer when it has no decimals.
fn reported(value: f64, decimals: i32) -> Json {
    if decimals <= 0 {
        json!(value.round() as i64)
    } else {
        let scale = 10f64.powi(decimals);
        json!((value * scale).round() / scale)
    }
}

/// Where a person's level of a test usually sits: mostly inside the range, for about one
/// person in eight above or below it (where the range has that end).
fn baseline(rng: &mut Rng, low: Option<f64>, high: Option<f64>) -> f64 {
    let abnormal = rng.chance(0.12);
    match (low, high) {
        (Some(l), Some(h)) => {
            let span = h - l;
            if abnormal {
                if rng.chance(0.5) {
                    h + span * rng.real(0.05, 0.5)
                } else {
                    (l - span * rng.real(0.05, 0.4)).max(l * 0.3)
                }
            } else {
                rng.real(l + span * 0.1, h - span * 0.1)
            }
        }
        (None, Some(h)) => {
            if abnormal {
                h * rng.real(1.05, 1.6)
            } else {
                h * rng.real(0.45, 0.95)
            }
        }
        (Some(l), None) => {
            if abnormal {
                l * rng.real(0.55, 0.95)
            } else {
                l * rng.real(1.05, 1.8)
            }
        }
        (None, None) => 1.0,
    }
}

fn lab_record(rng: &mut Rng, p: &Person, count: u32, mrn_system: &str, zone: &TimeZone, now: i64) -> LabRecord {
    let fhir_id = p.fhir_id();
    let subject = json!({ "reference": format!("Patient/{fhir_id}") });
    let mut resources = Vec::with_capacity(count as usize + count as usize / 3 + 1);
    let patient = json!({
        "resourceType": "Patient",
        "id": fhir_id,
        "meta": {
            "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
            "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST", "display": "test health data" }]
        },
        "identifier": [{
            "use": "usual",
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number" }], "text": "MRN" },
            "system": mrn_system,
            "value": format!("BENCH{:06}", p.n)
        }],
        "active": true,
        "name": [{ "use": "official", "family": p.family, "given": [p.given] }],
        "telecom": [{ "system": "email", "value": format!("{fhir_id}@example.org") }],
        "gender": if p.female { "female" } else { "male" },
        "birthDate": p.dob,
        "generalPractitioner": [{ "reference": "Practitioner/dr-morgan-lee", "display": "Dr. Morgan Lee" }],
        "managingOrganization": { "reference": "Organization/riverside-clinic", "display": "Riverside Community Clinic" }
    });
    resources.push(("Patient", fhir_id.clone(), patient.to_string()));

    // Which panels, to make exactly `count` results: any panel that still fits.
    let mut panels: Vec<&Panel> = Vec::new();
    let mut left = count as usize;
    while left > 0 {
        let fitting: Vec<&Panel> = PANELS.iter().filter(|panel| panel.tests.len() <= left).collect();
        let total: u32 = fitting.iter().map(|panel| panel.weight).sum();
        let mut pick = (rng.next() % u64::from(total)) as u32;
        let panel = fitting.iter().find(|panel| {
            if pick < panel.weight {
                return true;
            }
            pick -= panel.weight;
            false
        });
        let panel = panel.copied().unwrap_or(&PANELS[PANELS.len() - 1]);
        left -= panel.tests.len();
        panels.push(panel);
    }
    // When: collected on weekday mornings over the last five years (none today: the
    // laboratory has not resulted them yet), resulted hours later.
    let mut collected: Vec<i64> = panels
        .iter()
        .map(|_| {
            let day = now - rng.range(DAY, RESULT_YEARS * YEAR);
            let at = lab_morning(rng, zone, day);
            // A weekend moved to a Monday that has not come yet: the week before.
            if at > now - 8 * HOUR {
                at - 7 * DAY
            } else {
                at
            }
        })
        .collect();
    collected.sort_unstable();
    let mut levels: HashMap<&'static str, f64> = HashMap::new();
    let time = |ms: i64| Timestamp::from_millisecond(ms).map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default();
    let mut results = 0;
    for (k, (panel, at)) in panels.iter().zip(collected).enumerate() {
        let effective = time(at);
        let issued = time((at + rng.range(2 * HOUR, 8 * HOUR)).min(now - MINUTE));
        let report_id = format!("{fhir_id}-dr-{:02}", k + 1);
        let mut members = Vec::with_capacity(panel.tests.len());
        for test in panel.tests {
            let low = if p.female { test.low_female.or(test.low) } else { test.low };
            let level = *levels.entry(test.loinc).or_insert_with(|| baseline(rng, low, test.high));
            let value = reported(level * rng.real(0.94, 1.06), test.decimals);
            let v = value.as_f64().unwrap_or(level);
            let (flag, flag_text) = if test.high.is_some_and(|h| v > h) {
                ("H", "High")
            } else if low.is_some_and(|l| v < l) {
                ("L", "Low")
            } else {
                ("N", "Normal")
            };
            let quantity = |value: Json| json!({ "value": value, "unit": test.unit, "system": UCUM, "code": test.ucum });
            let mut range = serde_json::Map::new();
            if let Some(l) = low {
                range.insert("low".into(), quantity(reported(l, test.decimals)));
            }
            if let Some(h) = test.high {
                range.insert("high".into(), quantity(reported(h, test.decimals)));
            }
            let id = format!("{fhir_id}-obs-{:02}-{}", k + 1, test.loinc);
            let observation = json!({
                "resourceType": "Observation",
                "id": id,
                "meta": { "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"] },
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory" }] }],
                "code": { "coding": [{ "system": LOINC, "code": test.loinc, "display": test.display }], "text": test.text },
                "subject": subject,
                "effectiveDateTime": effective,
                "issued": issued,
                "valueQuantity": quantity(value),
                "interpretation": [{ "coding": [{ "system": INTERPRETATION, "code": flag, "display": flag_text }] }],
                "referenceRange": [range]
            });
            members.push(json!({ "reference": format!("Observation/{id}"), "display": test.text }));
            resources.push(("Observation", id, observation.to_string()));
            results += 1;
        }
        let report = json!({
            "resourceType": "DiagnosticReport",
            "id": report_id,
            "meta": { "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-lab"] },
            "status": "final",
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory" }] }],
            "code": { "coding": [{ "system": LOINC, "code": panel.loinc, "display": panel.display }], "text": panel.text },
            "subject": subject,
            "effectiveDateTime": effective,
            "issued": issued,
            "performer": [
                { "reference": "Practitioner/dr-morgan-lee", "display": "Dr. Morgan Lee" },
                { "reference": "Organization/riverside-clinic-lab", "display": "Riverside Community Clinic Laboratory" }
            ],
            "resultsInterpreter": [{ "reference": "Practitioner/dr-priya-shah", "display": "Dr. Priya Shah, MD" }],
            "result": members
        });
        resources.push(("DiagnosticReport", report_id, report.to_string()));
    }
    LabRecord { resources, reports: panels.len() as u64, results }
}

/// What the results part loaded.
pub(super) struct Counts {
    pub(super) reports: u64,
    pub(super) results: u64,
}

/// Loads the results part.
pub(super) async fn load(clinic: &Clinic<'_>, options: &Options, people: &[Person]) -> Result<Counts, BenchDataError> {
    let (state, now, zone) = (clinic.state, clinic.now, &clinic.zone);
    let mut rng = Rng(SEED_RESULTS);
    let (mut reports, mut results) = (0u64, 0u64);
    let mut resources = Rows::new(INSERT_RESOURCES, state.db.dialect);
    let mut identifiers = Rows::new(INSERT_IDENTIFIERS, state.db.dialect);
    let mut links = Rows::new(INSERT_LINKS, state.db.dialect);
    let mrn_system = state.settings.record.mrn_system.clone();
    if options.results_per_patient > 0 {
        for batch in people.chunks(BATCH) {
            let mut tx = begin(state).await?;
            for p in batch {
                let fhir_id = p.fhir_id();
                let record = lab_record(&mut rng, p, options.results_per_patient, &mrn_system, zone, now);
                reports += record.reports;
                results += record.results;
                for (kind, id, json) in record.resources {
                    let about = V::Text(fhir_id.clone());
                    resources.push([V::Fixed(kind), V::Text(id), about, V::Text(json), V::Int(now)]);
                }
                identifiers.push([t(&mrn_system), V::Text(format!("BENCH{:06}", p.n)), t(&fhir_id)]);
                links.push([t(&p.patient), V::Text(fhir_id), V::Fixed("record-number"), V::Int(now)]);
            }
            resources.flush(&mut tx).await?;
            identifiers.flush(&mut tx).await?;
            links.flush(&mut tx).await?;
            // Servers that run on this database read the store again (their kept records are
            // of an older version).
            app::record::embedded::bump_version(&mut tx).await?;
            tx.commit().await?;
        }
    }
    Ok(Counts { reports, results })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::platform::tokens::new_id;
    use app::record::convert::{ItemKey, PatientRecord};
    use app::record::fhir;

    fn person(n: u32, female: bool) -> Person {
        Person { n, patient: new_id(), user: new_id(), given: "Ana", family: "Silva", female, dob: "1960-04-02".into(), created: 0 }
    }

    const NOW: i64 = 1_796_000_000_000; // 2026-11-30

    #[test]
    fn results_read_as_the_portal_reads_them() {
        let zone = TimeZone::get("America/New_York").unwrap();
        let mut rng = Rng(SEED_RESULTS);
        let p = person(42, true);
        let record = lab_record(&mut rng, &p, 20, "urn:oid:2.16.840.1.113883.3.9999.1", &zone, NOW);
        assert_eq!(record.results, 20);
        assert_eq!(record.resources.len() as u64, 1 + record.reports + record.results);
        for (kind, id, text) in &record.resources {
            let resource = fhir::parse(text).unwrap_or_else(|e| panic!("{kind}/{id}: {e}"));
            assert_eq!(resource.missing(), None, "{kind}/{id}");
            assert!(fhir::is_resource_id(id), "{id}");
        }
        let texts = record.resources.iter().map(|(_, _, text)| text.clone()).collect();
        let read = PatientRecord::build("bench000042", texts, None, &ItemKey::new([7; 32]), &zone, NOW);
        let results = read.test_results();
        assert_eq!(results.panels.len() as u64, record.reports);
        assert_eq!(results.all().len(), 20);
        assert!(results.all().iter().all(|r| r.range.is_some()), "every result has its range");
        assert!(!read.trend_choices().is_empty());

        // Over many patients, some results are flagged, most not.
        let (mut flagged, mut all) = (0, 0);
        for n in 1..=200 {
            let record = lab_record(&mut rng, &person(n, n % 2 == 0), 20, "urn:x", &zone, NOW);
            for (_, _, text) in &record.resources {
                if text.contains("\"resourceType\":\"Observation\"") {
                    all += 1;
                    if !text.contains("\"code\":\"N\"") {
                        flagged += 1;
                    }
                }
            }
        }
        assert_eq!(all, 4_000);
        assert!((200..1_600).contains(&flagged), "{flagged} of {all} flagged");
    }
}
