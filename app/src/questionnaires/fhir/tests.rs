//! The FHIR subset: every supported item type imports, everything else is refused with the item
//! and the feature named, `enableWhen` logic, answers checked against the form, and round trips.

use super::*;
use crate::questionnaires::answers::{self, check, Mode, RawAnswers};
use serde_json::json;

fn q(items: Json) -> String {
    json!({ "resourceType": "Questionnaire", "title": "T", "status": "active", "item": items }).to_string()
}

fn refused(items: Json) -> ImportError {
    import(&q(items)).expect_err("refused")
}

/// A form with one of every supported item type and feature.
fn everything() -> Json {
    json!([
        { "linkId": "g", "type": "group", "text": "About you", "item": [
            { "linkId": "intro", "type": "display", "text": "Please answer." },
            { "linkId": "name", "type": "string", "text": "Name", "required": true, "maxLength": 40,
              "extension": [{ "url": EXT_MIN_LENGTH, "valueInteger": 2 }] },
            { "linkId": "notes", "type": "text", "text": "Notes" },
            { "linkId": "age", "type": "integer", "text": "Age",
              "extension": [{ "url": EXT_MIN_VALUE, "valueInteger": 0 }, { "url": EXT_MAX_VALUE, "valueInteger": 130 }] },
            { "linkId": "weight", "type": "decimal", "text": "Weight (kg)", "extension": [{ "url": EXT_MAX_VALUE, "valueDecimal": 400.5 }] },
            { "linkId": "smoker", "type": "boolean", "text": "Do you smoke?" },
            { "linkId": "since", "type": "date", "text": "Since when?", "enableWhen": [{ "question": "smoker", "operator": "=", "answerBoolean": true }],
              "extension": [{ "url": EXT_MIN_VALUE, "valueDate": "1900-01-01" }] }
        ]},
        { "linkId": "mood", "type": "choice", "text": "Mood", "code": [{ "system": "http://loinc.org", "code": "123-4", "display": "Mood" }],
          "answerOption": [{ "valueCoding": { "system": "s", "code": "good", "display": "Good" } }, { "valueCoding": { "code": "bad", "display": "Bad" } }] },
        { "linkId": "why", "type": "open-choice", "text": "Why?", "repeats": true, "maxLength": 50,
          "enableWhen": [{ "question": "mood", "operator": "=", "answerCoding": { "code": "bad" } }, { "question": "age", "operator": ">=", "answerInteger": 65 }],
          "enableBehavior": "any",
          "answerOption": [{ "valueString": "Work" }, { "valueString": "Health" }] }
    ])
}

#[test]
fn every_supported_item_type_imports() {
    let form = import(&q(everything())).unwrap();
    assert_eq!(form.title, "T");
    let types: Vec<ItemType> = form.all_items().iter().map(|i| i.item_type).collect();
    for t in ItemType::ALL {
        assert!(types.contains(&t), "{t:?} imported");
    }
    let name = form.item("name").unwrap();
    assert!(name.required);
    assert_eq!((name.min_length, name.max_length), (Some(2), Some(40)));
    let age = form.item("age").unwrap();
    assert_eq!((age.min_value.clone(), age.max_value.clone()), (Some(Value::Integer(0)), Some(Value::Integer(130))));
    assert_eq!(form.item("weight").unwrap().max_value, Some(Value::Decimal(400.5)));
    assert_eq!(form.item("since").unwrap().min_value, Some(Value::Date(CalendarDate::new(1900, 1, 1).unwrap())));
    let why = form.item("why").unwrap();
    assert!(why.repeats);
    assert_eq!(why.enable_behavior, Some(EnableBehavior::Any));
    assert_eq!(why.enable_when[0], EnableWhen { question: "mood".into(), operator: Operator::Equals, answer: Value::Option("bad".into()) });
    assert_eq!(form.item("mood").unwrap().options[0].value.label(), "Good");
    assert_eq!(form.item("g").unwrap().items.len(), 7);
}

#[test]
fn the_shipped_samples_import() {
    for (name, text) in crate::questionnaires::SAMPLES.iter().map(|s| (s.1, s.2)) {
        let form = import(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!form.items.is_empty());
    }
    let lesson = import(crate::questionnaires::SAMPLES[2].2).unwrap();
    assert!(lesson.has_check());
}

#[test]
fn unsupported_features_are_refused_naming_item_and_feature() {
    let cases: Vec<(Json, &str, &str)> = vec![
        (json!([{ "linkId": "a", "type": "dateTime", "text": "When" }]), "a", "type \"dateTime\" is not supported"),
        (json!([{ "linkId": "a", "type": "attachment", "text": "File" }]), "a", "type \"attachment\" is not supported"),
        (json!([{ "linkId": "a", "type": "quantity", "text": "Q" }]), "a", "type \"quantity\" is not supported"),
        (json!([{ "linkId": "a", "type": "choice", "text": "C", "answerValueSet": "http://x" }]), "a", "\"answerValueSet\" is not supported"),
        (json!([{ "linkId": "a", "type": "string", "text": "S", "initial": [{ "valueString": "x" }] }]), "a", "\"initial\" is not supported"),
        (json!([{ "linkId": "a", "type": "string", "text": "S", "readOnly": true }]), "a", "\"readOnly\" is not supported"),
        (
            json!([{ "linkId": "a", "type": "string", "text": "S", "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden", "valueBoolean": true }] }]),
            "a",
            "extension http://hl7.org/fhir/StructureDefinition/questionnaire-hidden is not supported",
        ),
        (json!([{ "linkId": "a", "type": "string", "text": "S", "repeats": true }]), "a", "repeats on a string item is not supported"),
        (json!([{ "linkId": "a", "type": "integer", "text": "I", "maxLength": 3 }]), "a", "minLength/maxLength on a integer item is not supported"),
        (json!([{ "linkId": "a", "type": "choice", "text": "C" }]), "a", "needs answerOption"),
        (json!([{ "linkId": "a", "type": "choice", "text": "C", "answerOption": [{ "valueInteger": 1 }] }]), "a", "answerOption.valueInteger is not supported"),
        (
            json!([{ "linkId": "a", "type": "boolean", "text": "B" }, { "linkId": "b", "type": "string", "text": "S",
            "enableWhen": [{ "question": "a", "operator": ">", "answerBoolean": true }] }]),
            "b",
            "enableWhen operator > on a boolean question is not supported",
        ),
        (
            json!([{ "linkId": "b", "type": "string", "text": "S", "enableWhen": [{ "question": "a", "operator": "=", "answerBoolean": true }] },
            { "linkId": "a", "type": "boolean", "text": "B" }]),
            "b",
            "not an earlier item",
        ),
        (
            json!([{ "linkId": "a", "type": "boolean", "text": "B" }, { "linkId": "b", "type": "string", "text": "S",
            "enableWhen": [{ "question": "a", "operator": "~", "answerBoolean": true }] }]),
            "b",
            "operator \"~\" is not supported",
        ),
        (
            json!([{ "linkId": "a", "type": "boolean", "text": "B" }, { "linkId": "b", "type": "string", "text": "S",
            "enableWhen": [{ "question": "a", "operator": "=", "answerInteger": 1 }] }]),
            "b",
            "does not fit the boolean question",
        ),
        (json!([{ "linkId": "a", "type": "boolean", "text": "B" }, { "linkId": "a", "type": "string", "text": "S" }]), "a", "the linkId is used twice"),
        (
            json!([{ "linkId": "g", "type": "group", "text": "G", "repeats": true, "item": [{ "linkId": "x", "type": "string", "text": "X" }] }]),
            "g",
            "repeats on a group item",
        ),
        (
            json!([{ "linkId": "s", "type": "string", "text": "S", "item": [{ "linkId": "x", "type": "string", "text": "X" }] }]),
            "s",
            "items nested under a string item",
        ),
        (json!([{ "linkId": "d", "type": "display", "text": "D", "required": true }]), "d", "required on a display item"),
        (json!([{ "linkId": "s", "type": "string", "text": "S", "definition": "http://x" }]), "s", "\"definition\" is not supported"),
        (json!([{ "linkId": "s", "type": "string", "text": "S", "modifierExtension": [] }]), "s", "\"modifierExtension\" is not supported"),
    ];
    for (items, link_id, feature) in cases {
        let e = refused(items.clone());
        assert_eq!(e.link_id, link_id, "{items}: {e}");
        assert!(e.feature.contains(feature), "{items}: got {e}, wanted {feature}");
    }
}

#[test]
fn the_resource_itself_is_checked() {
    assert_eq!(import("[]").unwrap_err().link_id, "(questionnaire)");
    assert!(import("{").unwrap_err().feature.contains("not valid JSON"));
    let patient = json!({ "resourceType": "Patient" }).to_string();
    assert!(import(&patient).unwrap_err().feature.contains("resourceType"));
    let untitled = json!({ "resourceType": "Questionnaire", "item": [{ "linkId": "a", "type": "string", "text": "A" }] }).to_string();
    assert!(import(&untitled).unwrap_err().feature.contains("title"));
    let contained =
        json!({ "resourceType": "Questionnaire", "title": "T", "contained": [], "item": [{ "linkId": "a", "type": "string", "text": "A" }] }).to_string();
    let e = import(&contained).unwrap_err();
    assert_eq!((e.link_id.as_str(), e.feature.as_str()), ("(questionnaire)", "\"contained\" is not supported"));
    assert_eq!(e.to_string(), "The questionnaire: \"contained\" is not supported.");
    let e = refused(json!([{ "linkId": "a", "type": "time", "text": "A" }]));
    assert_eq!(e.to_string(), "Item \"a\": type \"time\" is not supported.");
    // Metadata is accepted and not kept.
    let meta = json!({ "resourceType": "Questionnaire", "title": "T", "id": "x", "status": "draft", "publisher": "P",
        "item": [{ "linkId": "a", "type": "string", "text": "A" }] })
    .to_string();
    assert!(import(&meta).is_ok());
    // Too many items, too deep.
    let many: Vec<Json> = (0..ITEMS_MAX + 1).map(|i| json!({ "linkId": format!("i{i}"), "type": "string", "text": "x" })).collect();
    assert!(refused(Json::Array(many)).feature.contains("more than"));
    let mut deep = json!({ "linkId": "leaf", "type": "string", "text": "x" });
    for d in 0..DEPTH_MAX + 1 {
        deep = json!({ "linkId": format!("g{d}"), "type": "group", "text": "g", "item": [deep] });
    }
    assert!(refused(json!([deep])).feature.contains("nested more than"));
}

fn raw(pairs: &[(&str, &str)]) -> RawAnswers {
    let mut r = RawAnswers::new();
    for (k, v) in pairs {
        r.entry(k.to_string()).or_default().push(v.to_string());
    }
    r
}

#[test]
fn enable_when_shows_and_hides_items() {
    let form = import(&q(everything())).unwrap();
    // `since` only when smoker = true; `why` when mood = bad OR age >= 65.
    let c = check(&form, &raw(&[("smoker", "false"), ("since", "2001-01-01"), ("mood", "good"), ("age", "40"), ("why", "Work")]), Mode::Draft);
    assert!(!c.enabled.contains("since") && !c.enabled.contains("why"));
    assert!(!c.answers.contains_key("since") && !c.answers.contains_key("why"), "hidden items' answers are dropped");
    let c = check(&form, &raw(&[("smoker", "true"), ("since", "2001-01-01"), ("mood", "good"), ("age", "70"), ("why", "Work")]), Mode::Draft);
    assert!(c.enabled.contains("since") && c.enabled.contains("why"));
    assert_eq!(c.answers["why"], vec![Value::Option("Work".into())]);
    let c = check(&form, &raw(&[("mood", "bad"), ("age", "20")]), Mode::Draft);
    assert!(c.enabled.contains("why"));
    // A hidden question counts as unanswered for the conditions after it.
    let chain = q(json!([
        { "linkId": "a", "type": "boolean", "text": "A" },
        { "linkId": "b", "type": "integer", "text": "B", "enableWhen": [{ "question": "a", "operator": "=", "answerBoolean": true }] },
        { "linkId": "c", "type": "string", "text": "C", "enableWhen": [{ "question": "b", "operator": "exists", "answerBoolean": true }, { "question": "b", "operator": "!=", "answerInteger": 3 }], "enableBehavior": "all" },
        { "linkId": "d", "type": "string", "text": "D", "enableWhen": [{ "question": "b", "operator": "<", "answerInteger": 3 }] },
        { "linkId": "e", "type": "string", "text": "E", "enableWhen": [{ "question": "b", "operator": "<=", "answerInteger": 3 }] },
        { "linkId": "f", "type": "string", "text": "F", "enableWhen": [{ "question": "b", "operator": "exists", "answerBoolean": false }] }
    ]));
    let form = import(&chain).unwrap();
    let shown = |pairs: &[(&str, &str)]| check(&form, &raw(pairs), Mode::Draft).enabled.into_iter().collect::<Vec<_>>().join(",");
    assert_eq!(shown(&[("a", "false"), ("b", "1")]), "a,f");
    assert_eq!(shown(&[("a", "true"), ("b", "1")]), "a,b,c,d,e");
    assert_eq!(shown(&[("a", "true"), ("b", "3")]), "a,b,e");
    assert_eq!(shown(&[("a", "true"), ("b", "5")]), "a,b,c");
    assert_eq!(shown(&[("a", "true")]), "a,b,f");
    // A hidden group hides everything in it.
    let grouped = q(json!([
        { "linkId": "a", "type": "boolean", "text": "A" },
        { "linkId": "g", "type": "group", "text": "G", "enableWhen": [{ "question": "a", "operator": "=", "answerBoolean": true }],
          "item": [{ "linkId": "x", "type": "string", "text": "X", "required": true }] }
    ]));
    let form = import(&grouped).unwrap();
    let c = check(&form, &raw(&[("a", "false"), ("x", "kept?")]), Mode::Submit);
    assert!(c.is_valid() && !c.answers.contains_key("x"));
    let c = check(&form, &raw(&[("a", "true")]), Mode::Submit);
    assert_eq!(c.error("x"), Some("Answer this question: it is required."));
}

#[test]
fn answers_are_checked_against_the_form() {
    let form = import(&q(everything())).unwrap();
    let errors = |pairs: &[(&str, &str)], mode| check(&form, &raw(pairs), mode).errors.into_iter().map(|e| (e.link_id, e.message)).collect::<Vec<_>>();
    // Required only on submit.
    assert!(errors(&[], Mode::Draft).is_empty());
    assert_eq!(errors(&[], Mode::Submit), vec![("name".to_string(), "Answer this question: it is required.".to_string())]);
    let bad = errors(&[("name", "A"), ("age", "abc"), ("weight", "500"), ("smoker", "maybe"), ("mood", "meh")], Mode::Draft);
    assert_eq!(
        bad,
        vec![
            ("name".into(), "Write at least 2 characters.".into()),
            ("age".into(), "Enter a whole number, like 3.".into()),
            ("weight".into(), "Enter 400.5 or less.".into()),
            ("smoker".into(), "Choose yes or no.".into()),
            ("mood".into(), "Choose one of the answers listed.".into()),
        ]
    );
    assert_eq!(errors(&[("name", "Al"), ("age", "131")], Mode::Draft), vec![("age".to_string(), "Enter 130 or less.".to_string())]);
    assert_eq!(errors(&[("name", "Al"), ("age", "-1")], Mode::Draft), vec![("age".to_string(), "Enter 0 or more.".to_string())]);
    assert_eq!(errors(&[("name", &"x".repeat(41))], Mode::Draft)[0].1, "Write at most 40 characters (this is 41).");
    assert_eq!(errors(&[("name", "Al"), ("smoker", "true"), ("since", "1899-12-31")], Mode::Draft)[0].1, "Enter 1900-01-01 or more.");
    assert_eq!(errors(&[("name", "Al"), ("smoker", "true"), ("since", "yesterday")], Mode::Draft)[0].1, "Enter a date, like 2026-03-31.");
    assert_eq!(errors(&[("name", "Al"), ("mood", "good"), ("mood", "bad")], Mode::Draft)[0].1, "Choose only one answer.");
    // Open choice: several options and the patient's own text.
    let c = check(
        &form,
        &raw(&[("name", "Al"), ("mood", "bad"), ("why", "Work"), ("why", "Health"), (&answers::other_key("why"), "  the   commute ")]),
        Mode::Submit,
    );
    assert!(c.is_valid(), "{:?}", c.errors);
    assert_eq!(c.answers["why"], vec![Value::Option("Work".into()), Value::Option("Health".into()), Value::String("the commute".into())]);
    let c = check(&form, &raw(&[("name", "Al"), ("mood", "bad"), (&answers::other_key("why"), &"y".repeat(51))]), Mode::Draft);
    assert_eq!(c.error("why"), Some("Write at most 50 characters (this is 51)."));
    // Typed answers back to what the form shows.
    let c = check(
        &form,
        &raw(&[
            ("name", "Al"),
            ("age", "7"),
            ("weight", "70.5"),
            ("smoker", "true"),
            ("since", "2001-02-03"),
            ("mood", "bad"),
            (&answers::other_key("why"), "x"),
        ]),
        Mode::Submit,
    );
    let again = check(&form, &answers::to_raw(&c.answers, &form), Mode::Submit);
    assert_eq!(again.answers, c.answers);
}

#[test]
fn lesson_checks_score_right_answers() {
    let lesson = import(crate::questionnaires::SAMPLES[2].2).unwrap();
    let c = check(&lesson, &raw(&[("check-email", "Ignore it and sign in to the portal the usual way"), ("check-shared", "Just close the tab")]), Mode::Submit);
    assert_eq!(answers::score(&lesson, &c.answers), Some((1, 2)));
    let c = check(
        &lesson,
        &raw(&[("check-email", "Ignore it and sign in to the portal the usual way"), ("check-shared", "Sign out and close the browser")]),
        Mode::Submit,
    );
    assert_eq!(answers::score(&lesson, &c.answers), Some((2, 2)));
    assert_eq!(answers::score(&import(&q(everything())).unwrap(), &c.answers), None);
}

#[test]
fn questionnaire_round_trips_in_meaning() {
    let form = import(&q(everything())).unwrap();
    let exported = export(&form, "f1", 3, "active");
    assert_eq!(exported["version"], "3");
    assert_eq!(exported["resourceType"], "Questionnaire");
    let again = import(&exported.to_string()).unwrap();
    assert_eq!(again, form);
    for (_, _, text) in crate::questionnaires::SAMPLES {
        let form = import(text).unwrap();
        assert_eq!(import(&export(&form, "x", 1, "active").to_string()).unwrap(), form);
    }
    // Stored as the model's own JSON and read back (what the database keeps).
    let stored = serde_json::to_string(&form).unwrap();
    assert_eq!(serde_json::from_str::<Form>(&stored).unwrap(), form);
}

#[test]
fn questionnaire_response_holds_the_answers_in_the_forms_structure() {
    let form = import(&q(everything())).unwrap();
    let c = check(
        &form,
        &raw(&[("name", "Al"), ("age", "70"), ("smoker", "false"), ("mood", "good"), ("why", "Work"), (&answers::other_key("why"), "x")]),
        Mode::Submit,
    );
    let ctx = ResponseContext {
        response_id: "r1",
        questionnaire: "urn:x|2".into(),
        status: "completed",
        authored: "2090-01-02T03:04:05Z".into(),
        patient_name: "A B",
        mrn: "MRN1",
    };
    let r = response(&form, &c.answers, &ctx);
    assert_eq!(r["resourceType"], "QuestionnaireResponse");
    assert_eq!(r["questionnaire"], "urn:x|2");
    assert_eq!(r["status"], "completed");
    let group = &r["item"][0];
    assert_eq!(group["linkId"], "g");
    let linked: Vec<&str> = group["item"].as_array().unwrap().iter().map(|i| i["linkId"].as_str().unwrap()).collect();
    assert_eq!(linked, ["name", "age", "smoker"]);
    assert_eq!(group["item"][0]["answer"][0]["valueString"], "Al");
    assert_eq!(group["item"][1]["answer"][0]["valueInteger"], 70);
    assert_eq!(group["item"][2]["answer"][0]["valueBoolean"], false);
    assert_eq!(r["item"][1]["answer"][0]["valueCoding"], json!({ "system": "s", "code": "good", "display": "Good" }));
    assert_eq!(r["item"][2]["answer"], json!([{ "valueString": "Work" }, { "valueString": "x" }]));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            prop::sample::select(vec![
                "Questionnaire",
                "group",
                "display",
                "string",
                "text",
                "integer",
                "decimal",
                "boolean",
                "date",
                "choice",
                "open-choice",
                "dateTime",
                "a",
                "b",
                "=",
                "!=",
                ">",
                "exists",
                "all",
                "any",
                "2020-01-01",
                "",
                EXT_MIN_LENGTH,
                EXT_MAX_VALUE,
                EXT_CORRECT,
            ])
            .prop_map(|s| json!(s)),
            ".{0,8}".prop_map(Json::String),
        ];
        let keys = prop::sample::select(vec![
            "resourceType",
            "title",
            "item",
            "linkId",
            "type",
            "text",
            "required",
            "repeats",
            "maxLength",
            "answerOption",
            "valueCoding",
            "valueString",
            "code",
            "display",
            "system",
            "enableWhen",
            "question",
            "operator",
            "answerBoolean",
            "answerInteger",
            "answerCoding",
            "enableBehavior",
            "extension",
            "url",
            "valueInteger",
            "valueDate",
            "prefix",
            "initial",
        ]);
        leaf.prop_recursive(5, 80, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..7).prop_map(|m| Json::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    /// A mutation of a valid form: one item's key replaced by an arbitrary value.
    fn mutated() -> impl Strategy<Value = Json> {
        (
            0usize..9,
            prop::sample::select(vec!["type", "linkId", "enableWhen", "answerOption", "required", "extension", "item", "maxLength", "text"]),
            arb_json(),
        )
            .prop_map(|(at, key, value)| {
                let mut items = everything();
                let list = items.as_array_mut().unwrap();
                let target = if at < list.len() { &mut list[at] } else { &mut list[0]["item"][at % 7] };
                target[key] = value;
                json!({ "resourceType": "Questionnaire", "title": "T", "item": items })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

        /// Arbitrary JSON never panics; what imports is a whole form that exports and imports
        /// again to the same form.
        #[test]
        fn arbitrary_json_never_panics(value in arb_json()) {
            if let Ok(form) = import_value(&value) {
                prop_assert!(!form.items.is_empty());
                prop_assert_eq!(import(&export(&form, "x", 1, "active").to_string()).unwrap(), form);
            }
        }

        #[test]
        fn mutated_forms_import_whole_or_not_at_all(value in mutated()) {
            match import_value(&value) {
                Ok(form) => {
                    let again = import(&export(&form, "x", 1, "active").to_string());
                    prop_assert_eq!(again.as_ref(), Ok(&form));
                    // Every item of the form made it into the model.
                    let count_json = |v: &Json| -> usize {
                        fn n(v: &Json) -> usize { v.as_array().map(|l| l.iter().map(|i| 1 + n(&i["item"])).sum()).unwrap_or(0) }
                        n(&v["item"])
                    };
                    prop_assert_eq!(form.all_items().len(), count_json(&value));
                }
                Err(e) => prop_assert!(!e.feature.is_empty() && !e.link_id.is_empty()),
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = import(&text);
        }

        /// Checking arbitrary answers never panics, and never keeps an answer to a hidden item.
        #[test]
        fn answers_never_panic(pairs in prop::collection::vec((prop::sample::select(vec!["name", "age", "weight", "smoker", "since", "mood", "why", "g", "intro"]), ".{0,12}"), 0..12)) {
            let form = import(&q(everything())).unwrap();
            let mut r = RawAnswers::new();
            for (k, v) in pairs { r.entry(k.to_string()).or_default().push(v); }
            for mode in [Mode::Draft, Mode::Submit] {
                let c = check(&form, &r, mode);
                for k in c.answers.keys() { prop_assert!(c.enabled.contains(k)); }
            }
        }
    }
}
