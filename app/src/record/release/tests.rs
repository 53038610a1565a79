use super::*;
use crate::record::convert::{ItemKey, PatientRecord};
use crate::record::fhir::ResourceType;
use serde_json::json;
use std::collections::HashSet;

const NOW: i64 = 1_780_000_000_000; // 2026-05-28
const DAY: i64 = 86_400_000;

fn key() -> ItemKey {
    ItemKey::new([7; 32])
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

fn obs(id: &str, code: &str, category: &str, issued: Option<i64>) -> String {
    let mut o = json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": format!("Test {code}")},
        "subject": {"reference": "Patient/p"}, "valueQuantity": {"value": 1.0, "unit": "x"}
    });
    if let Some(at) = issued {
        o["issued"] = json!(iso(at));
    }
    o.to_string()
}

fn report(id: &str, code: &str, members: &[&str], issued: i64, interpreter: bool, status: &str) -> String {
    let mut d = json!({
        "resourceType": "DiagnosticReport", "id": id, "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": format!("Panel {code}")},
        "subject": {"reference": "Patient/p"}, "issued": iso(issued),
        "result": members.iter().map(|m| json!({"reference": format!("Observation/{m}"), "display": format!("member {m}")})).collect::<Vec<_>>()
    });
    if interpreter {
        d["resultsInterpreter"] = json!([{"display": "Dr. A"}]);
    }
    d.to_string()
}

fn record(texts: Vec<String>) -> PatientRecord {
    PatientRecord::build("p", texts, None, &key(), &jiff::tz::TimeZone::UTC, NOW)
}

fn rules(hidden: &[&str], choice: ReleaseChoice) -> Rules {
    Rules { hidden: hidden.iter().map(|c| ("http://loinc.org".to_string(), c.to_string())).collect(), choice }
}

fn ids(record: &PatientRecord) -> HashSet<String> {
    record.entries().map(|e| e.id.clone()).collect()
}

#[test]
fn a_hidden_panel_code_takes_the_panel_and_its_members_and_a_hidden_member_only_itself() {
    let texts = || {
        vec![
            report("panel", "P1", &["m1", "m2"], NOW - DAY, true, "final"),
            obs("m1", "M1", "laboratory", Some(NOW - DAY)),
            obs("m2", "M2", "laboratory", Some(NOW - DAY)),
            obs("other", "O1", "laboratory", Some(NOW - DAY)),
        ]
    };
    let mut r = record(texts());
    apply(&mut r, &rules(&["P1"], ReleaseChoice::AsSoonAsAvailable), NOW);
    assert_eq!(ids(&r), HashSet::from(["other".to_string()]));
    assert!(r.withheld.given_in_person && r.withheld.waiting == 0);

    let mut r = record(texts());
    apply(&mut r, &rules(&["M2"], ReleaseChoice::AsSoonAsAvailable), NOW);
    assert_eq!(ids(&r), HashSet::from(["panel".to_string(), "m1".to_string(), "other".to_string()]));
    let panel = r.entries().find(|e| e.id == "panel").unwrap();
    assert!(!panel.text.contains("m2"), "the report no longer names the hidden member: {}", panel.text);
    assert_eq!(r.test_results().panels[0].results.len(), 1);
    let bundle = r.fhir_bundle(|_| true);
    assert!(!bundle.contains("m2") && !bundle.contains("Test M2"));

    let mut r = record(texts());
    apply(&mut r, &rules(&[], ReleaseChoice::AsSoonAsAvailable), NOW);
    assert_eq!(ids(&r).len(), 4, "no list, no change");
    assert!(!r.withheld.given_in_person);
}

#[test]
fn after_review_holds_what_no_final_report_with_an_interpreter_covers_and_never_vital_signs() {
    let texts = vec![
        report("reviewed", "R1", &["a"], NOW - DAY, true, "final"),
        obs("a", "A", "laboratory", Some(NOW - DAY)),
        report("unreviewed", "R2", &["b"], NOW - DAY, false, "final"),
        obs("b", "B", "laboratory", Some(NOW - DAY)),
        report("preliminary", "R3", &[], NOW - DAY, true, "preliminary"),
        obs("alone", "C", "laboratory", Some(NOW - DAY)),
        obs("pulse", "8867-4", "vital-signs", Some(NOW - DAY)),
    ];
    let mut r = record(texts);
    apply(&mut r, &rules(&[], ReleaseChoice::AfterReview), NOW);
    assert_eq!(ids(&r), HashSet::from(["reviewed".to_string(), "a".to_string(), "pulse".to_string()]));
    assert_eq!(r.withheld.waiting, 3, "two reports and one result outside any report");
    assert!(!r.withheld.given_in_person);
    assert!(r.withheld.waiting_words().unwrap().starts_with("3 results are waiting because you chose"));
}

#[test]
fn a_delay_counts_from_when_the_result_was_issued_and_an_undated_result_shows() {
    let texts = || {
        vec![
            report("old", "R1", &["a"], NOW - 4 * DAY, true, "final"),
            obs("a", "A", "laboratory", Some(NOW - 4 * DAY)),
            report("new", "R2", &["b"], NOW - 2 * DAY, true, "final"),
            obs("b", "B", "laboratory", Some(NOW - 2 * DAY)),
            obs("undated", "C", "laboratory", None),
        ]
    };
    let mut r = record(texts());
    apply(&mut r, &rules(&[], ReleaseChoice::AfterDays(3)), NOW);
    assert_eq!(ids(&r), HashSet::from(["old".to_string(), "a".to_string(), "undated".to_string()]));
    assert_eq!(r.withheld.waiting, 1);
    let mut r = record(texts());
    apply(&mut r, &rules(&[], ReleaseChoice::AfterDays(3)), NOW + DAY);
    assert_eq!(ids(&r).len(), 5, "three days after it was issued, it shows");
    // A hidden result is not counted as waiting (no hint of it).
    let mut r = record(texts());
    apply(&mut r, &rules(&["R2"], ReleaseChoice::AfterDays(3)), NOW);
    assert_eq!((r.withheld.waiting, r.withheld.given_in_person), (0, true));
    let _ = ResourceType::Observation;
}

#[test]
fn an_entered_in_error_result_neither_waits_nor_says_given_in_person() {
    let texts = vec![report("gone", "R1", &[], NOW - DAY, false, "entered-in-error"), report("gone2", "P1", &[], NOW - DAY, true, "entered-in-error")];
    let mut r = record(texts);
    apply(&mut r, &rules(&["P1"], ReleaseChoice::AfterReview), NOW);
    assert_eq!((r.withheld.waiting, r.withheld.given_in_person), (0, false));
}

#[test]
fn only_the_choices_offered_are_read_back() {
    for c in ReleaseChoice::all() {
        assert_eq!(ReleaseChoice::parse(&c.code()), Some(c));
    }
    assert_eq!(ReleaseChoice::parse("days-5"), None);
    assert_eq!(ReleaseChoice::parse("later"), None);
    assert_eq!(ReleaseChoice::default(), ReleaseChoice::AsSoonAsAvailable);
}
