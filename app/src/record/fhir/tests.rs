use super::*;

#[test]
fn references_name_their_target() {
    let r = target_of;
    assert_eq!(r("Observation/abc-1"), Some(("Observation", "abc-1")));
    assert_eq!(r("https://ehr.example.org/fhir/Practitioner/p.1/_history/3"), Some(("Practitioner", "p.1")));
    assert_eq!(r("#med1"), None);
    assert_eq!(r("urn:uuid:0b2f"), None);
    assert_eq!(r("observation/x"), None, "a type name starts with a capital");
    assert_eq!(r("Observation/"), None);
}

#[test]
fn a_subject_names_our_patient_only_when_relative_or_under_our_base() {
    let base = Some("https://ehr.example.org/fhir");
    assert_eq!(patient_id_in("Patient/alice", None), Some("alice"));
    assert_eq!(patient_id_in("Patient/alice/_history/2", None), Some("alice"));
    assert_eq!(patient_id_in("https://ehr.example.org/fhir/Patient/alice", base), Some("alice"));
    assert_eq!(patient_id_in("https://other.example.org/fhir/Patient/alice", base), None, "another server's alice");
    assert_eq!(patient_id_in("https://ehr.example.org/fhir/Patient/alice", None), None);
    assert_eq!(patient_id_in("Group/alice", None), None);
    assert_eq!(patient_id_in("Patient/al ice", None), None);
}

#[test]
fn unknown_elements_are_ignored_and_wrong_shapes_refused() {
    let ok = r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"K"},"subject":{"reference":"Patient/p"},
            "somethingNew":{"deep":[1,2,3]},"valueQuantity":{"value":4.1,"unit":"mmol/L","extension":[{"url":"x"}]}}"#;
    let Resource::Observation(o) = parse(ok).unwrap() else { panic!() };
    assert_eq!(o.value_quantity.unwrap().value, Some(4.1));
    let bad = r#"{"resourceType":"Observation","id":"o1","valueQuantity":{"value":"4.1"}}"#;
    assert!(matches!(parse(bad), Err(ParseError::Invalid(_))));
    assert_eq!(parse(r#"{"resourceType":"Provenance","id":"x"}"#).unwrap_err(), ParseError::Unsupported("Provenance".into()));
    assert_eq!(parse(r#"{"id":"x"}"#).unwrap_err(), ParseError::NotAResource);
    assert_eq!(parse("[1]").unwrap_err(), ParseError::NotAResource);
}

#[test]
fn required_elements_are_named() {
    let missing = |s: &str| parse(s).unwrap().missing();
    assert_eq!(missing(r#"{"resourceType":"Observation","id":"o","code":{"text":"K"},"subject":{"reference":"Patient/p"}}"#), Some("status"));
    assert_eq!(missing(r#"{"resourceType":"Observation","status":"final","code":{"text":"K"},"subject":{"reference":"Patient/p"}}"#), Some("id"));
    assert_eq!(missing(r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"K"}}"#), Some("subject"));
    assert_eq!(
        missing(r#"{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"}}"#),
        Some("medication[x]")
    );
    assert_eq!(
        missing(r#"{"resourceType":"DocumentReference","id":"d","status":"current","subject":{"reference":"Patient/p"},"content":[]}"#),
        Some("content")
    );
    assert_eq!(missing(r#"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p"}}"#), None);
    assert_eq!(missing(r#"{"resourceType":"Practitioner","id":"dr"}"#), None);
}

#[test]
fn names_read_as_people_write_them() {
    let n: HumanName = serde_json::from_str(r#"{"family":"Lee","given":["Morgan","A"],"prefix":["Dr."],"suffix":["MD"]}"#).unwrap();
    assert_eq!(n.display().as_deref(), Some("Dr. Morgan A Lee, MD"));
    let n: HumanName = serde_json::from_str(r#"{"text":"Kim Alvarez, RN","family":"Alvarez"}"#).unwrap();
    assert_eq!(n.display().as_deref(), Some("Kim Alvarez, RN"));
    let c: CodeableConcept = serde_json::from_str(r#"{"coding":[{"code":"X"},{"display":"Shown"}]}"#).unwrap();
    assert_eq!(c.label(), Some("Shown"));
}

#[test]
fn a_search_bundle_gives_its_next_page_and_skips_outcomes() {
    let b: Bundle = serde_json::from_str(
        r#"{"resourceType":"Bundle","type":"searchset","total":45,
            "link":[{"relation":"self","url":"http://x/fhir/Observation?patient=a"},{"relation":"next","url":"http://x/fhir/Observation?patient=a&_offset=20"}],
            "entry":[{"resource":{"resourceType":"Observation","id":"o"},"search":{"mode":"match"}},
                     {"resource":{"resourceType":"OperationOutcome"},"search":{"mode":"outcome"}}]}"#,
    )
    .unwrap();
    assert_eq!(b.next(), Some("http://x/fhir/Observation?patient=a&_offset=20"));
    assert_eq!(b.entry.iter().filter(|e| e.is_result()).count(), 1);
    assert_eq!(b.entry[0].resource.as_ref().unwrap().get(), r#"{"resourceType":"Observation","id":"o"}"#);
}
