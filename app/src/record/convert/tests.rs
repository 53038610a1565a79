//! Each resource read from the demo bundles and from small fixtures, and what the pages get
//! from them: flags, panels, trends, lists, and what is never shown.

use super::*;
use crate::record::DEMO_BUNDLES;

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("America/New_York").unwrap()
}

fn key() -> ItemKey {
    ItemKey::new([7; 32])
}

/// 3 December 2026, noon UTC: "today" of the demo record.
const NOW: i64 = 1_796_313_600_000;

fn texts_of(bundle: &str) -> Vec<String> {
    let b: fhir::Bundle = serde_json::from_str(bundle).unwrap();
    b.entry.iter().map(|e| e.resource.as_ref().unwrap().get().to_string()).collect()
}

/// The record of `patient` built from every demo bundle at once: another patient's resources
/// are in the input and must not come out.
fn demo(patient: &str) -> PatientRecord {
    let all: Vec<String> = DEMO_BUNDLES.iter().flat_map(|(_, b)| texts_of(b)).collect();
    PatientRecord::build(patient, all, None, &key(), &tz(), NOW)
}

fn item(kind: ResourceType, id: &str) -> ItemId {
    key().id(kind, id)
}

#[test]
fn every_resource_of_the_demo_bundles_reads_with_what_the_portal_needs() {
    for (patient, bundle) in DEMO_BUNDLES {
        let texts = texts_of(bundle);
        assert!(texts.len() > 150, "{patient}");
        for text in texts {
            let r = fhir::parse(&text).unwrap_or_else(|e| panic!("{patient}: {e}"));
            assert_eq!(r.missing(), None, "{patient}: {:?}/{:?}", r.kind(), r.id());
            if r.kind().is_clinical() {
                assert_eq!(r.patient_id(None), Some(patient), "{:?}", r.id());
            }
        }
    }
}

#[test]
fn a_record_holds_its_patient_only() {
    let alice = demo("alice");
    assert!(!alice.incomplete);
    for e in alice.entries() {
        assert!(!e.id.starts_with("robert") && !e.id.starts_with("carol"), "{} {}", e.kind.as_str(), e.id);
        if e.kind.is_clinical() {
            assert_eq!(e.resource.patient_id(None), Some("alice"));
        }
    }
    // Item ids are opaque: nothing of the EHR's id shows through.
    for e in alice.entries() {
        assert!(ItemId::parse(e.item.as_str()).is_some());
        assert!(!e.item.as_str().contains("alice"));
    }
    assert_eq!(alice.entries().filter(|e| e.kind == ResourceType::Patient).count(), 1);
}

#[test]
fn test_results_show_value_range_flag_status_dates_orderer_and_comments() {
    let r = demo("alice").test_results();
    // Newest panel first: the preliminary CBC of 23 November 2026 (or its visit's others).
    assert_eq!(r.panels.first().unwrap().collected.as_ref().unwrap().day, CalendarDate::new(2026, 11, 23).unwrap());
    let a1c = r.result(&item(ResourceType::Observation, "alice-obs-20261123-a1c")).unwrap();
    assert_eq!(a1c.name, "Hemoglobin A1c");
    assert_eq!(a1c.value.text(), "8.6 %");
    assert_eq!(a1c.range.as_ref().unwrap().text(), "4–5.6 %");
    assert_eq!(a1c.flag, Flag::High);
    assert_eq!(a1c.status, ResultStatus::Final);
    assert_eq!(a1c.collected.as_ref().unwrap().text, "Nov 23, 2026, 9:35 AM");
    assert_eq!(a1c.resulted.as_ref().unwrap().text, "Nov 23, 2026, 2:35 PM");
    assert_eq!(a1c.ordered_by.as_deref(), Some("Dr. Morgan Lee"));
    assert!(a1c.comments[0].starts_with("Higher than in May"));
    assert_eq!(a1c.panel, Some(item(ResourceType::DiagnosticReport, "alice-dr-20261123-a1c")));
    assert_eq!(a1c.visit, Some(item(ResourceType::Encounter, "alice-enc-20261123")));
    assert_eq!(a1c.kind, ResultKind::Laboratory);

    // The critical potassium, its note, and its report's conclusion.
    let k = r.result(&item(ResourceType::Observation, "alice-obs-20250512-k")).unwrap();
    assert_eq!(k.flag, Flag::CriticalHigh);
    assert_eq!(k.flag.words(), Some("Critically high"));
    assert!(k.comments[0].contains("hemolyzed"));
    let cmp = r.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20250512-cmp")).unwrap();
    assert_eq!(cmp.flag, Flag::CriticalHigh, "a panel shows its most serious result");
    assert!(cmp.conclusion.as_deref().unwrap().starts_with("Critical potassium"));
    assert_eq!(cmp.interpreted_by, ["Dr. Priya Shah, MD"]);
    assert_eq!(cmp.performed_by, ["Riverside Community Clinic Laboratory"]);
    assert_eq!(cmp.results.len(), 14, "members in the report's order");
    assert_eq!(cmp.results[1].name, "Potassium");
    let repeat = r.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20250514-k-repeat")).unwrap();
    assert_eq!(repeat.results[0].flag, Flag::Normal);
    assert_eq!(repeat.visit, None, "repeated without a visit");

    // Corrected and preliminary.
    let lipid = r.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20240513-lipid")).unwrap();
    assert_eq!(lipid.status, ResultStatus::Corrected);
    let ldl = lipid.results.iter().find(|x| x.name.starts_with("LDL")).unwrap();
    assert_eq!(ldl.status, ResultStatus::Corrected);
    assert_eq!((ldl.flag, ldl.range.as_ref().unwrap().text()), (Flag::High, "≤ 100 mg/dL".to_string()));
    let cbc = r.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20261123-cbc")).unwrap();
    assert_eq!(cbc.status, ResultStatus::Preliminary);
    assert_eq!(cbc.results.len(), 5);

    // One-sided ranges: HDL has a low only.
    let hdl = lipid.results.iter().find(|x| x.name.starts_with("HDL")).unwrap();
    assert!(hdl.range.as_ref().unwrap().high.is_none() && hdl.range.as_ref().unwrap().low.is_some());
    assert!(hdl.range.as_ref().unwrap().text().starts_with("≥ "));

    // Qualitative results: words, a text range, the interpretation's flag.
    let ua = r.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20250512-ua")).unwrap();
    let protein = ua.results.iter().find(|x| x.name == "Protein, urine").unwrap();
    assert_eq!(protein.value, ResultValue::Text("Negative".into()));
    assert_eq!(protein.range.as_ref().unwrap().text(), "Negative");
    assert_eq!(protein.flag, Flag::Normal);
    let color = ua.results.iter().find(|x| x.name == "Color, urine").unwrap();
    assert_eq!(color.value, ResultValue::Text("Yellow".into()));

    // Vital signs are not test results.
    assert!(r.all().iter().all(|x| x.kind != ResultKind::VitalSigns));
    assert!(r.single.is_empty(), "every demo lab result belongs to a report");
    assert_eq!(r.all().len(), 191);
}

#[test]
fn carols_low_values_are_flagged_low() {
    let r = demo("carol").test_results();
    let low: Vec<&str> =
        r.all().into_iter().filter(|x| x.flag == Flag::Low && x.collected.as_ref().unwrap().day.year == 2022).map(|x| x.name.as_str()).collect();
    // (The demo README names hematocrit too; in the bundle it stays within 35–45 %: Normal.)
    for name in ["Hemoglobin", "Ferritin"] {
        assert!(low.iter().any(|n| n.starts_with(name)), "{name} in {low:?}");
    }
}

#[test]
fn trends_draw_one_test_over_time_with_its_band() {
    let alice = demo("alice");
    let a1c = alice.trend(&TestKey("http://loinc.org|4548-4".into())).unwrap();
    assert_eq!(a1c.series.len(), 1);
    let s = &a1c.series[0];
    assert_eq!(s.points.len(), 13);
    assert!(s.points.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    assert_eq!(s.points.last().unwrap().value, 8.6);
    assert_eq!(s.unit.as_deref(), Some("%"));
    assert_eq!(s.range.as_ref().unwrap().text(), "4–5.6 %");
    assert!(s.points.iter().all(|p| p.flag == Flag::High), "a diabetic's HbA1c is always above 5.6");

    let bp = alice.trend(&TestKey("http://loinc.org|85354-9".into())).unwrap();
    assert_eq!(bp.kind, ResultKind::VitalSigns);
    let names: Vec<&str> = bp.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Systolic blood pressure", "Diastolic blood pressure"]);
    assert!(bp.series.iter().all(|s| s.points.len() == 14 && s.unit.as_deref() == Some("mmHg")));

    let choices = alice.trend_choices();
    assert_eq!(choices.first().unwrap().kind, ResultKind::VitalSigns, "vital signs first");
    assert!(choices.iter().any(|c| c.name == "Body weight" && c.values == 14));
    assert!(!choices.iter().any(|c| c.name == "Color, urine"), "words are no trend");
    assert!(alice.trend(&TestKey("http://loinc.org|5778-6".into())).is_none(), "no numeric values: no trend");
    assert!(alice.trend(&TestKey("http://loinc.org|0000-0".into())).is_none());
    assert!(demo("robert")
        .trend(&TestKey("http://loinc.org|4548-4".into()))
        .is_some_and(|t| t.series[0].points.iter().all(|p| p.result != s.points[0].result)));
}

#[test]
fn medications_allergies_immunizations_and_health_issues() {
    let alice = demo("alice");
    let meds = alice.medications();
    assert_eq!(meds.current.len(), 5);
    assert_eq!(meds.past.len(), 1);
    assert!(meds.current.windows(2).all(|w| w[0].name.to_lowercase() <= w[1].name.to_lowercase()), "current by name");
    let old = &meds.past[0];
    assert_eq!((old.name.as_str(), old.status), ("Metformin 500 mg tablet", MedicationStatus::Stopped));
    assert_eq!(old.status_reason.as_deref(), Some("Dose increased to 1000 mg"));
    assert_eq!(old.instructions.as_deref(), Some("Take 1 tablet by mouth twice a day with meals."));
    assert_eq!(old.prescriber.as_deref(), Some("Dr. Morgan Lee"));
    assert_eq!(old.start.as_ref().unwrap().text, "May 10, 2016");
    assert_eq!(old.end.as_ref().unwrap().day, CalendarDate::new(2023, 11, 20).unwrap(), "a date stays that date in any time zone");
    assert_eq!(old.reasons, ["Type 2 diabetes"]);

    let allergies = alice.allergies();
    assert_eq!(allergies.items.len(), 2);
    let pen = &allergies.items[0];
    assert_eq!((pen.substance.as_str(), pen.kind, pen.criticality), ("Penicillin", AllergyKind::Allergy, Some(Criticality::High)));
    assert_eq!(pen.reactions[0].manifestations, ["Hives"]);
    assert_eq!(pen.reactions[0].severity, Some(Severity::Moderate));
    assert_eq!(pen.onset.as_ref().unwrap().text, "1975");
    assert_eq!(allergies.items[1].kind, AllergyKind::Intolerance);
    let carol = demo("carol").allergies();
    assert!(carol.items.is_empty() && carol.no_known.is_none(), "Carol: none on record");

    let shots = alice.immunizations();
    assert_eq!(shots.len(), 16);
    assert!(shots.windows(2).all(|w| w[0].date >= w[1].date), "newest first");
    let pcv = shots.iter().find(|i| i.vaccine == "Pneumonia vaccine (PCV13)").unwrap();
    assert_eq!(pcv.given_by, ["Kim Alvarez, RN"]);
    assert_eq!(pcv.location.as_deref(), Some("Family Medicine"));
    assert_eq!(pcv.site.as_deref(), Some("Right arm"));

    let issues = alice.health_issues();
    assert_eq!((issues.active.len(), issues.resolved.len()), (5, 1));
    assert_eq!(issues.resolved[0].name, "Acute bronchitis");
    let robert = demo("robert").health_issues();
    assert_eq!((robert.active.len(), robert.resolved.len()), (4, 2));
}

#[test]
fn visits_hold_their_diagnoses_vitals_results_and_documents() {
    let alice = demo("alice");
    let visits = alice.visits();
    assert_eq!(visits.len(), 14);
    let last = &visits[0];
    assert_eq!(last.start.as_ref().unwrap().day, CalendarDate::new(2026, 11, 23).unwrap());
    assert_eq!(last.place.as_deref(), Some("Family Medicine"));
    assert_eq!(last.clinicians, ["Dr. Morgan Lee"]);
    assert_eq!(last.setting.as_deref(), Some("Outpatient"));
    let visit = alice.visit(&last.id).unwrap();
    assert!(!visit.diagnoses.is_empty());
    assert!(visit.vitals.iter().any(|v| v.name == "Blood pressure" && v.parts.len() == 2));
    assert!(visit.results.panel(&item(ResourceType::DiagnosticReport, "alice-dr-20261123-cbc")).is_some());
    assert!(visit.results.all().iter().all(|r| r.visit.as_ref() == Some(&last.id)));
    assert_eq!(visit.documents.len(), 1);
    assert!(visit.documents[0].after_visit_summary);
    assert!(alice.visit(&item(ResourceType::Observation, "alice-obs-20261123-a1c")).is_none(), "a result's id is no visit");
    assert!(alice.visit(&item(ResourceType::Encounter, "robert-enc-20220214")).is_none(), "another patient's visit is not found");
}

#[test]
fn documents_are_listed_and_their_content_decodes() {
    let alice = demo("alice");
    let docs = alice.documents();
    assert_eq!(docs.len(), 16);
    let pdfs: Vec<&Document> = docs.iter().filter(|d| d.content_type == "application/pdf").collect();
    assert_eq!(pdfs.len(), 2);
    let xray = pdfs.iter().find(|d| d.kind == "Chest X-ray report").unwrap();
    assert_eq!(xray.title, "Chest X-ray, 2 views.pdf");
    let Some(ContentAt::Inline(content)) = alice.document_content(&xray.id) else { panic!("inline content") };
    assert!(content.bytes.starts_with(b"%PDF"));
    assert_eq!(content.file_name, "Chest-X-ray-2-views-pdf.pdf");
    let avs = docs.iter().find(|d| d.after_visit_summary).unwrap();
    let Some(ContentAt::Inline(text)) = alice.document_content(&avs.id) else { panic!() };
    assert!(String::from_utf8(text.bytes).unwrap().starts_with("AFTER VISIT SUMMARY"));
    assert!(alice.document_content(&item(ResourceType::DocumentReference, "carol-doc-20220307-anemia")).is_none());
}

#[test]
fn the_summary_shows_what_is_new_and_active() {
    let s = demo("alice").summary();
    assert_eq!(s.active_issues.len(), 5);
    assert_eq!(s.allergies.len(), 2);
    assert_eq!(s.current_medications.len(), 5);
    assert!(s.recent_results.iter().any(|r| r.name == "Hemoglobin A1c"));
    assert!(s.recent_results.iter().all(|r| r.resulted.as_ref().or(r.collected.as_ref()).unwrap().ms >= NOW - 30 * 86_400_000));
}

/// The summary converts only what may be recent; what it shows must be exactly the results of
/// the last 30 days, whatever "today" is (a window that catches panels, members and singles at
/// its edges, on every day of the demo record's span).
#[test]
fn the_summary_shows_exactly_the_results_of_the_last_30_days() {
    let all: Vec<String> = DEMO_BUNDLES.iter().flat_map(|(_, b)| texts_of(b)).collect();
    let resources = Arc::new(Resources::build("alice", all, None, &key()));
    let mut days_with_results = 0;
    for day in 0..(6 * 365) {
        let now = NOW - day * 86_400_000;
        let record = PatientRecord::new(resources.clone(), &tz(), now);
        let since = now - 30 * 86_400_000;
        let mut exact: Vec<ItemId> = record
            .test_results()
            .all()
            .into_iter()
            .filter(|r| r.resulted.as_ref().or(r.collected.as_ref()).is_some_and(|w| w.ms >= since))
            .map(|r| r.id.clone())
            .collect();
        let mut shown: Vec<ItemId> = record.summary().recent_results.into_iter().map(|r| r.id).collect();
        exact.sort();
        shown.sort();
        assert_eq!(shown, exact, "{day} days before the demo's today");
        days_with_results += usize::from(!shown.is_empty());
    }
    assert!(days_with_results > 100, "the window met results on {days_with_results} days");
}

#[test]
fn the_download_bundle_holds_the_patient_and_what_the_pages_let_through() {
    let alice = demo("alice");
    let hidden = item(ResourceType::Observation, "alice-obs-20261123-a1c");
    let bundle: serde_json::Value = serde_json::from_str(&alice.fhir_bundle(|id| id != &hidden)).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"alice") && ids.contains(&"alice-obs-20261123-hgb"));
    assert!(!ids.contains(&"alice-obs-20261123-a1c"), "a result the release rules hold back is not downloaded");
    assert!(ids.iter().all(|id| !id.starts_with("robert") && !id.starts_with("carol")));
    for e in entries {
        if let Some(subject) = e["resource"]["subject"]["reference"].as_str() {
            assert_eq!(subject, "Patient/alice");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small fixtures

fn record(patient: &str, resources: &[serde_json::Value], base: Option<&str>) -> PatientRecord {
    PatientRecord::build(patient, resources.iter().map(|r| r.to_string()).collect(), base, &key(), &tz(), NOW)
}

fn obs(id: &str, subject: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut o = serde_json::json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2093-3"}], "text": "Total cholesterol"},
        "subject": {"reference": subject},
        "effectiveDateTime": "2026-01-05T08:00:00Z",
    });
    o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    o
}

#[test]
fn resources_about_another_patient_or_another_server_are_dropped() {
    let base = "https://ehr.example.org/fhir";
    let r = record(
        "p1",
        &[
            obs("mine", "Patient/p1", serde_json::json!({})),
            obs("absolute", "https://ehr.example.org/fhir/Patient/p1", serde_json::json!({})),
            obs("theirs", "Patient/p2", serde_json::json!({})),
            obs("elsewhere", "https://other.example.org/fhir/Patient/p1", serde_json::json!({})),
            serde_json::json!({"resourceType": "Observation", "id": "nobody", "status": "final", "code": {"text": "X"}}),
            serde_json::json!({"resourceType": "Patient", "id": "p2"}),
        ],
        Some(base),
    );
    let ids: Vec<&str> = r.entries().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["mine", "absolute"]);
}

#[test]
fn what_is_entered_in_error_refuted_or_unreleased_is_never_shown() {
    let r = record(
        "p1",
        &[
            obs("gone", "Patient/p1", serde_json::json!({"status": "entered-in-error", "valueQuantity": {"value": 999}})),
            obs("kept", "Patient/p1", serde_json::json!({"valueQuantity": {"value": 180, "unit": "mg/dL"}})),
            serde_json::json!({"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"}, "code": {"text": "Latex"},
                "verificationStatus": {"coding": [{"code": "refuted"}]}}),
            serde_json::json!({"resourceType": "AllergyIntolerance", "id": "nka", "patient": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "716186003"}], "text": "No known allergies"}}),
            serde_json::json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}, "code": {"text": "Asthma"},
                "verificationStatus": {"coding": [{"code": "entered-in-error"}]}}),
            serde_json::json!({"resourceType": "DocumentReference", "id": "draft", "status": "current", "docStatus": "preliminary",
                "subject": {"reference": "Patient/p1"}, "content": [{"attachment": {"contentType": "text/plain", "data": "aGk="}}]}),
            serde_json::json!({"resourceType": "DocumentReference", "id": "old", "status": "superseded",
                "subject": {"reference": "Patient/p1"}, "content": [{"attachment": {"contentType": "text/plain", "data": "aGk="}}]}),
            serde_json::json!({"resourceType": "DocumentReference", "id": "note", "status": "current", "docStatus": "final",
                "subject": {"reference": "Patient/p1"}, "content": [{"attachment": {"contentType": "text/plain", "data": "aGk=", "title": "Note"}}]}),
        ],
        None,
    );
    let results = r.test_results();
    assert_eq!(results.all().len(), 1);
    assert_eq!(results.all()[0].value.text(), "180 mg/dL");
    let allergies = r.allergies();
    assert!(allergies.items.is_empty());
    assert_eq!(allergies.no_known.as_deref(), Some("No known allergies"));
    assert!(r.health_issues().active.is_empty());
    let docs = r.documents();
    assert_eq!(docs.iter().map(|d| d.title.as_str()).collect::<Vec<_>>(), ["Note"]);
    assert!(r.document_content(&item(ResourceType::DocumentReference, "draft")).is_none(), "an unreleased document cannot be opened by its id");
    let bundle = r.fhir_bundle(|_| true);
    assert!(!bundle.contains("\"gone\"") && !bundle.contains("\"draft\"") && !bundle.contains("refuted"), "nor downloaded");
}

#[test]
fn an_observation_with_members_is_a_panel_and_parts_carry_their_own_flags() {
    let r = record(
        "p1",
        &[
            obs(
                "panel",
                "Patient/p1",
                serde_json::json!({"code": {"text": "Lipids"}, "hasMember": [{"reference": "Observation/m1"}, {"reference": "Observation/m2"}]}),
            ),
            obs(
                "m1",
                "Patient/p1",
                serde_json::json!({"valueQuantity": {"value": 250, "unit": "mg/dL"}, "referenceRange": [{"high": {"value": 200, "unit": "mg/dL"}}]}),
            ),
            obs(
                "m2",
                "Patient/p1",
                serde_json::json!({"code": {"text": "HDL"}, "valueQuantity": {"value": 55, "unit": "mg/dL"}, "referenceRange": [{"low": {"value": 40, "unit": "mg/dL"}}]}),
            ),
            obs(
                "bp",
                "Patient/p1",
                serde_json::json!({
                "category": [{"coding": [{"code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
                "component": [
                    {"code": {"text": "Systolic"}, "valueQuantity": {"value": 182, "unit": "mmHg"}, "interpretation": [{"coding": [{"code": "HH"}]}]},
                    {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 80, "unit": "mmHg"}}
                ]}),
            ),
        ],
        None,
    );
    let results = r.test_results();
    assert_eq!(results.panels.len(), 1);
    assert!(results.single.is_empty(), "members and the grouper are not listed again alone");
    let p = &results.panels[0];
    assert_eq!((p.name.as_str(), p.results.len(), p.flag), ("Lipids", 2, Flag::High));
    assert_eq!(p.results[0].panel.as_ref(), Some(&p.id));
    let bp = &r.vitals()[0];
    assert_eq!(bp.parts.iter().map(|x| x.flag).collect::<Vec<_>>(), [Flag::CriticalHigh, Flag::None]);
    assert_eq!(bp.flag, Flag::CriticalHigh, "the result's flag is its most serious part's");
    assert_eq!(bp.value, ResultValue::Missing(None));
}

#[test]
fn a_trend_draws_only_values_in_one_unit_and_plain_numbers() {
    let glucose = |id: &str, at: &str, v: serde_json::Value| {
        obs(
            id,
            "Patient/p1",
            serde_json::json!({"code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
            "effectiveDateTime": at, "valueQuantity": v}),
        )
    };
    let r = record(
        "p1",
        &[
            glucose("g1", "2024-01-01", serde_json::json!({"value": 5.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"})),
            glucose("g2", "2025-01-01", serde_json::json!({"value": 110, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"})),
            glucose("g3", "2026-01-01", serde_json::json!({"value": 120, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"})),
            glucose(
                "g4",
                "2026-02-01",
                serde_json::json!({"value": 40, "comparator": "<", "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}),
            ),
        ],
        None,
    );
    let t = r.trend(&TestKey("http://loinc.org|2345-7".into())).unwrap();
    let values: Vec<f64> = t.series[0].points.iter().map(|p| p.value).collect();
    assert_eq!(values, [110.0, 120.0], "mmol/L would draw a false drop; '< 40' is no point");
    assert_eq!(t.series[0].unit.as_deref(), Some("mg/dL"));
    // One value is a trend of one point (the page says so); the chart copes.
    let one = record("p1", &[glucose("g1", "2024-01-01", serde_json::json!({"value": 5.9, "unit": "mmol/L"}))], None);
    assert_eq!(one.trend(&TestKey("http://loinc.org|2345-7".into())).unwrap().series[0].points.len(), 1);
}

#[test]
fn a_medication_named_by_a_contained_or_shared_medication_reads_its_name() {
    let r = record(
        "p1",
        &[
            serde_json::json!({"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
                "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "#med"},
                "contained": [{"resourceType": "Medication", "id": "med", "code": {"text": "Amoxicillin 500 mg capsule"}}]}),
            serde_json::json!({"resourceType": "MedicationRequest", "id": "m2", "status": "active", "intent": "order",
                "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/shared"},
                "requester": {"reference": "Practitioner/dr"}}),
            serde_json::json!({"resourceType": "MedicationRequest", "id": "m3", "status": "active", "intent": "proposal",
                "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "A suggestion"}}),
        ],
        None,
    );
    let mut r = r;
    let wanted = r.unnamed_references(10);
    assert_eq!(wanted, [(ResourceType::Practitioner, "dr".to_string()), (ResourceType::Medication, "shared".to_string())]);
    r.add_shared(
        vec![
            serde_json::json!({"resourceType": "Medication", "id": "shared", "code": {"text": "Lisinopril 10 mg tablet"}}).to_string(),
            serde_json::json!({"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Okoye", "given": ["Ada"], "prefix": ["Dr."]}]}).to_string(),
        ],
        &key(),
    );
    let meds = r.medications();
    let names: Vec<&str> = meds.current.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Amoxicillin 500 mg capsule", "Lisinopril 10 mg tablet"], "a proposal is not a prescription");
    assert_eq!(meds.current[1].prescriber.as_deref(), Some("Dr. Ada Okoye"));
}

#[test]
fn dates_keep_their_precision_and_times_read_in_the_clinics_zone() {
    let tz = tz();
    assert_eq!(when("1975", &tz).unwrap().text, "1975");
    assert_eq!(when("2026-11", &tz).unwrap().text, "November 2026");
    let d = when("2016-05-10", &tz).unwrap();
    assert_eq!((d.text.as_str(), d.day, d.precision), ("May 10, 2016", CalendarDate::new(2016, 5, 10).unwrap(), Precision::Day));
    // 02:30 UTC on the 24th is still the 23rd in New York.
    let t = when("2026-11-24T02:30:00Z", &tz).unwrap();
    assert_eq!((t.text.as_str(), t.day), ("Nov 23, 2026, 9:30 PM", CalendarDate::new(2026, 11, 23).unwrap()));
    assert_eq!(when("2026-11-23T09:35:00", &tz).unwrap().text, "Nov 23, 2026, 9:35 AM", "no offset: the clinic's local time");
    for bad in ["", "yesterday", "2026-13", "2026-02-30", "26-01-01", "2026-1-5"] {
        assert!(when(bad, &tz).is_none(), "{bad:?}");
    }
}

#[test]
fn a_resource_that_does_not_read_marks_the_record_incomplete() {
    let r = record(
        "p1",
        &[obs("ok", "Patient/p1", serde_json::json!({})), serde_json::json!({"resourceType": "Observation", "id": "bad", "valueQuantity": {"value": "high"}})],
        None,
    );
    assert!(r.incomplete);
    assert_eq!(r.test_results().all().len(), 1);
    let fine = record("p1", &[serde_json::json!({"resourceType": "OperationOutcome"})], None);
    assert!(!fine.incomplete, "a type the portal does not read is not a gap in the record");
}
