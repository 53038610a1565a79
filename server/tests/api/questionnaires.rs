//! Questionnaires against the running server, on both databases (SPEC R-QST-1 … R-QST-4): who
//! reaches which assignment and staff function (patients only their own, by any id; staff per
//! role), the survey preference blocks survey assignments and their notices, drafts survive
//! signing out, answers cannot change after submission, imports are whole or nothing and make
//! versions that answers keep, the QuestionnaireResponse export, and the audit trail of every
//! view and submission. The demo clinic ships the three sample forms.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in: {}", r.body);
    c
}

async fn text(portal: &TestPortal, sql: &str, bind: &str) -> String {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<String, _>(0).unwrap()
}

async fn count(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn patient(portal: &TestPortal, mrn: &str) -> String {
    text(portal, "SELECT id FROM patients WHERE mrn = $1", mrn).await
}

async fn sample(portal: &TestPortal, name: &str) -> String {
    text(portal, "SELECT id FROM questionnaire_forms WHERE sample = $1", name).await
}

async fn outbox_to(portal: &TestPortal, email: &str) -> i64 {
    count(portal, "SELECT COUNT(*) FROM outbox WHERE recipient = $1", email).await
}

async fn audit_count(portal: &TestPortal, action: &str) -> i64 {
    count(portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", action).await
}

const ALICE: &str = "MRN100001";
const ROBERT: &str = "MRN100002";

/// Assigns a form as a member of staff (the plain HTML form); returns where it led.
async fn assign(staff: &Client, patient: &str, form: &str) -> String {
    let r = staff.post_form("/api/staff/questionnaires/assign", &[("patient", patient), ("form", form), ("due", ""), ("note", "Before your visit")]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    r.location().unwrap_or_default().to_string()
}

async fn latest_assignment(portal: &TestPortal, patient: &str) -> String {
    text(portal, "SELECT id FROM questionnaire_assignments WHERE patient_id = $1 ORDER BY assigned_at DESC, id LIMIT 1", patient).await
}

/// Posts the patient's form (multipart, as the browser does).
async fn save(c: &Client, assignment: &str, action: &str, fields: &[(&str, &str)]) -> crate::support::Reply {
    let mut all = vec![("assignment", assignment)];
    all.extend_from_slice(fields);
    all.push(("action", action));
    c.post_multipart("/api/questionnaires/save", &all, &[]).await
}

/// Everything questionnaires hold, as text, to show that a refused request changed nothing.
async fn state(portal: &TestPortal) -> Vec<String> {
    let pool = &portal.state.db.pool;
    let mut out = Vec::new();
    for r in sqlx::query("SELECT id, state, draft, answers, version_id FROM questionnaire_assignments ORDER BY id").fetch_all(pool).await.unwrap() {
        out.push(format!(
            "{} {} {:?} {:?} {}",
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<Option<String>, _>(2),
            r.get::<Option<String>, _>(3),
            r.get::<String, _>(4)
        ));
    }
    for sql in [
        "SELECT COUNT(*) FROM questionnaire_forms",
        "SELECT COUNT(*) FROM questionnaire_versions",
        "SELECT COUNT(*) FROM survey_preference_changes",
        "SELECT COUNT(*) FROM outbox",
    ] {
        out.push(format!("{sql} {}", sqlx::query(sql).fetch_one(pool).await.unwrap().get::<i64, _>(0)));
    }
    out
}

async fn patients_reach_only_their_own(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice_patient = patient(&portal, ALICE).await;
    let mood = sample(&portal, "mood-check").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert!(assign(&drlee, &alice_patient, &mood).await.ends_with("?assigned=1"));
    let alice_assignment = latest_assignment(&portal, &alice_patient).await;

    let alice = signed_in(&portal, "alice", "patient").await;
    assert_eq!(alice.call("/api/questionnaires/open-count").await.body, "1");
    let r = alice.call("/api/questionnaires/list").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mine: app::questionnaires::MyQuestionnaires = serde_json::from_str(&r.body).unwrap();
    assert_eq!(mine.assignments.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [alice_assignment.as_str()]);
    assert!(mine.surveys_on);
    let r = alice.call_form("/api/questionnaires/open", &[("id", &alice_assignment)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = alice.get(&format!("/record/questionnaires/{alice_assignment}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Mood check") && page.body.contains("little interest"), "the form is shown");

    let robert = signed_in(&portal, "robert", "patient").await;
    let r = robert.call("/api/questionnaires/list").await;
    let his: app::questionnaires::MyQuestionnaires = serde_json::from_str(&r.body).unwrap();
    assert!(his.assignments.is_empty(), "Robert sees none of Alice's");
    assert_eq!(robert.call("/api/questionnaires/open-count").await.body, "0");
    let before = state(&portal).await;
    let nobody = "0123456789abcdef0123456789abcdef";
    for id in [alice_assignment.as_str(), alice_patient.as_str(), mood.as_str(), nobody, "", "../x"] {
        let r = robert.call_form("/api/questionnaires/open", &[("id", id)]).await;
        assert_eq!(r.status, 404, "open {id}: {}", r.body);
        assert!(!r.body.contains("Mood"), "{}", r.body);
        for action in ["draft", "submit"] {
            let r = save(&robert, id, action, &[("q0", "0"), ("q1", "0")]).await;
            assert_eq!(r.status, 404, "{action} {id}: {}", r.body);
        }
        let r = robert.get(&format!("/record/questionnaires/{id}")).await;
        assert!(!r.body.contains("little interest"), "the page of {id} shows nothing of Alice's");
    }
    assert_eq!(state(&portal).await, before, "Robert changed nothing");

    // A patient reaches no staff function.
    for (path, form) in staff_functions(&alice_patient, &mood, &alice_assignment) {
        let r = robert.call_form(path, &form).await;
        assert_eq!(r.status, 403, "patient calling {path}: {}", r.body);
    }
    // Staff addresses send a patient back to their own side (303) before any handler runs.
    for path in [format!("/staff/questionnaires/fhir/response/{alice_assignment}.json"), format!("/staff/questionnaires/fhir/questionnaire/{mood}.json")] {
        let r = robert.get(&path).await;
        assert!(r.status == 303 || r.status == 403, "{path}: {}", r.status);
        assert!(!r.body.contains("QuestionnaireResponse") && !r.body.contains("Questionnaire\""), "{path}");
    }

    // Staff per role: billing and the auditor reach nothing; the administrator keeps the library
    // but neither assigns nor reads answers; the front desk assigns surveys only and reads no
    // answers; clinicians do everything.
    save(&alice, &alice_assignment, "submit", &[("q0", "1"), ("q1", "0")]).await;
    for login in ["billing", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        for (path, form) in staff_functions(&alice_patient, &mood, &alice_assignment) {
            assert_eq!(c.call_form(path, &form).await.status, 403, "{login} calling {path}");
        }
        assert_eq!(c.get(&format!("/staff/questionnaires/fhir/response/{alice_assignment}.json")).await.status, 403);
        assert_eq!(c.get(&format!("/staff/questionnaires/fhir/questionnaire/{mood}.json")).await.status, 403);
    }
    let admin = signed_in(&portal, "admin", "staff").await;
    assert_eq!(admin.call_form("/api/staff/questionnaires/library", &[("q", "")]).await.status, 200);
    assert_eq!(admin.get(&format!("/staff/questionnaires/fhir/questionnaire/{mood}.json")).await.status, 200);
    for path in ["/api/staff/questionnaires/patient", "/api/staff/questionnaires/response", "/api/staff/questionnaires/form"] {
        let id = if path.ends_with("patient") {
            &alice_patient
        } else if path.ends_with("form") {
            &mood
        } else {
            &alice_assignment
        };
        assert_eq!(admin.call_form(path, &[("id", id)]).await.status, 403, "admin {path}");
    }
    assert_eq!(admin.get(&format!("/staff/questionnaires/fhir/response/{alice_assignment}.json")).await.status, 403);
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    assert_eq!(frontdesk.call_form("/api/staff/questionnaires/response", &[("id", &alice_assignment)]).await.status, 403);
    assert_eq!(frontdesk.get(&format!("/staff/questionnaires/fhir/response/{alice_assignment}.json")).await.status, 403);
    let r = frontdesk.call_form("/api/staff/questionnaires/patient", &[("id", &alice_patient)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("Mood check"), "the front desk sees surveys only: {}", r.body);
    let before = state(&portal).await;
    assert!(assign(&frontdesk, &alice_patient, &mood).await.ends_with("refused=role#assign"));
    assert_eq!(state(&portal).await, before, "a refused assignment stores nothing and sends nothing");
    assert!(assign(&frontdesk, &alice_patient, &sample(&portal, "visit-experience").await).await.ends_with("?assigned=1"));
    let r = drlee.call_form("/api/staff/questionnaires/response", &[("id", &alice_assignment)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    portal.stop().await;
}

/// Every staff server function, with fields aimed at Alice's record.
fn staff_functions<'a>(patient: &'a str, form: &'a str, assignment: &'a str) -> Vec<(&'static str, Vec<(&'static str, &'a str)>)> {
    vec![
        ("/api/staff/questionnaires/library", vec![("q", "Alice")]),
        ("/api/staff/questionnaires/patient", vec![("id", patient)]),
        ("/api/staff/questionnaires/assign", vec![("patient", patient), ("form", form), ("due", ""), ("note", "")]),
        ("/api/staff/questionnaires/form", vec![("id", form)]),
        ("/api/staff/questionnaires/response", vec![("id", assignment)]),
        ("/api/staff/questionnaires/samples", vec![]),
        ("/api/staff/questionnaires/clear", vec![]),
    ]
}

async fn survey_opt_out_blocks_surveys_and_their_notices(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice_patient = patient(&portal, ALICE).await;
    let survey = sample(&portal, "visit-experience").await;
    let mood = sample(&portal, "mood-check").await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let r = alice.post_form("/api/questionnaires/surveys", &[("surveys", "off")]).await;
    assert_eq!(r.location(), Some("/record/questionnaires?surveys=off#surveys"));
    // The same again records nothing more.
    alice.post_form("/api/questionnaires/surveys", &[("surveys", "off")]).await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM survey_preference_changes WHERE patient_id = $1 AND surveys = 'off'", &alice_patient).await, 1);
    assert_eq!(audit_count(&portal, "questionnaire.survey-preference-changed").await, 1);

    let drlee = signed_in(&portal, "drlee", "staff").await;
    let page = drlee.get(&format!("/staff/questionnaires/patients/{alice_patient}")).await;
    assert!(page.body.contains("has chosen not to receive visit surveys"), "the staff screen says why");
    let mails = outbox_to(&portal, "alice.johnson@example.org").await;
    let before = state(&portal).await;
    assert!(assign(&drlee, &alice_patient, &survey).await.ends_with("refused=surveys#assign"));
    assert_eq!(state(&portal).await, before, "no survey assigned, no notice queued");
    // Clinical questionnaires and lessons are not affected; each queues one notice.
    assert!(assign(&drlee, &alice_patient, &mood).await.ends_with("?assigned=1"));
    assert!(assign(&drlee, &alice_patient, &sample(&portal, "portal-safety").await).await.ends_with("?assigned=1"));
    assert_eq!(outbox_to(&portal, "alice.johnson@example.org").await, mails + 2);
    let notice: String = sqlx::query("SELECT notice FROM outbox WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1")
        .bind("alice.johnson@example.org")
        .fetch_one(&portal.state.db.pool)
        .await
        .map(|r| r.get(0))
        .unwrap_or_default();
    assert_eq!(notice, "new-to-complete", "the notice says only that something new waits");
    // Surveys on again: the survey can be assigned.
    alice.post_form("/api/questionnaires/surveys", &[("surveys", "on")]).await;
    assert!(assign(&drlee, &alice_patient, &survey).await.ends_with("?assigned=1"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM survey_preference_changes WHERE patient_id = $1", &alice_patient).await, 2);
    portal.stop().await;
}

async fn drafts_survive_sign_out_and_answers_are_immutable(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice_patient = patient(&portal, ALICE).await;
    let survey = sample(&portal, "visit-experience").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assign(&drlee, &alice_patient, &survey).await;
    let id = latest_assignment(&portal, &alice_patient).await;

    // visit-experience: q0 rating (integer 0…10, required), q1 waited (boolean), q2 comment
    // (only when waited = true), q3 explained (open choice, repeats).
    let alice = signed_in(&portal, "alice", "patient").await;
    let r = save(&alice, &id, "draft", &[("q0", "11"), ("q1", "true"), ("q2", "The waiting room was full")]).await;
    assert_eq!(r.location(), Some(format!("/record/questionnaires/{id}?saved=1").as_str()));
    assert_eq!(text(&portal, "SELECT state FROM questionnaire_assignments WHERE id = $1", &id).await, "in_progress");
    let out = alice.post_form("/api/sign-out", &[]).await;
    assert!(out.status == 302 || out.status == 200, "{}", out.status);

    let alice = signed_in(&portal, "alice", "patient").await;
    let r = alice.call_form("/api/questionnaires/open", &[("id", &id)]).await;
    let view: app::questionnaires::FillView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(view.raw.get("rating"), Some(&vec!["11".to_string()]), "the draft came back after signing out");
    assert_eq!(view.raw.get("wait-comment"), Some(&vec!["The waiting room was full".to_string()]));
    assert!(view.enabled.contains("wait-comment"));
    assert_eq!(view.errors.iter().map(|e| (e.link_id.as_str(), e.message.as_str())).collect::<Vec<_>>(), [("rating", "Enter 10 or less.")]);
    // Submitting with the error: refused, kept as a draft, the page names the problem.
    let r = save(&alice, &id, "submit", &[("q0", "11"), ("q1", "true")]).await;
    assert_eq!(r.location(), Some(format!("/record/questionnaires/{id}?check=submit#errors").as_str()));
    let page = alice.get(&format!("/record/questionnaires/{id}?check=submit")).await;
    assert!(page.body.contains("There is a problem with 1 answer") && page.body.contains("Enter 10 or less."), "error summary shown");
    // Fixed: submitted; the hidden comment (waited = false) is dropped.
    let r =
        save(&alice, &id, "submit", &[("q0", "9"), ("q1", "false"), ("q2", "dropped"), ("q3", "How to take any new medicine"), ("q3.other", "Parking")]).await;
    assert_eq!(r.location(), Some(format!("/record/questionnaires?done={id}").as_str()));
    let answers = text(&portal, "SELECT answers FROM questionnaire_assignments WHERE id = $1", &id).await;
    assert!(!answers.contains("dropped") && answers.contains("Parking"), "{answers}");
    let before = state(&portal).await;
    for action in ["draft", "submit"] {
        let r = save(&alice, &id, action, &[("q0", "1"), ("q1", "true")]).await;
        assert_eq!(r.location(), Some(format!("/record/questionnaires/{id}?already=1").as_str()));
    }
    assert_eq!(state(&portal).await, before, "answers never change after submission");
    let r = alice.call_form("/api/questionnaires/open", &[("id", &id)]).await;
    let view: app::questionnaires::FillView = serde_json::from_str(&r.body).unwrap();
    assert!(view.read_only);

    // The clinician's export: a QuestionnaireResponse of the version answered.
    let (status, headers, body) = {
        let r = drlee.http.get(format!("{}/staff/questionnaires/fhir/response/{id}.json", drlee.base)).send().await.unwrap();
        (r.status().as_u16(), r.headers().clone(), r.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(headers.get("content-disposition").unwrap().to_str().unwrap().starts_with("attachment"));
    assert!(headers.get("cache-control").unwrap().to_str().unwrap().starts_with("no-store"));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["resourceType"], "QuestionnaireResponse");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["questionnaire"], "https://patient-portal.example.org/fhir/Questionnaire/visit-experience|1");
    assert_eq!(json["item"][0]["answer"][0]["valueInteger"], 9);
    assert_eq!(json["item"][1]["answer"][0]["valueBoolean"], false);
    assert_eq!(json["item"][2]["linkId"], "explained");
    portal.stop().await;
}

async fn imports_are_whole_and_versions_are_kept(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let before = state(&portal).await;
    let bad =
        r#"{"resourceType":"Questionnaire","title":"Bad","item":[{"linkId":"a","type":"string","text":"A"},{"linkId":"b","type":"attachment","text":"B"}]}"#;
    let r = admin.post_multipart("/api/staff/questionnaires/import", &[("kind", "questionnaire"), ("form", ""), ("json", bad)], &[]).await;
    assert_eq!(r.location(), Some("/staff/questionnaires?refused=1#import"));
    assert_eq!(state(&portal).await, before, "nothing imported");
    let page = admin.get("/staff/questionnaires?refused=1").await;
    assert!(page.body.contains("Item \"b\": type \"attachment\" is not supported."), "the message names the item and the feature");

    let alice_patient = patient(&portal, ALICE).await;
    let mood = sample(&portal, "mood-check").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assign(&drlee, &alice_patient, &mood).await;
    let first = latest_assignment(&portal, &alice_patient).await;
    // A new version, from a file.
    let v2 = app::questionnaires::SAMPLES[0].2.replace("Mood check (two questions)", "Mood check, revised");
    let r = admin
        .post_multipart("/api/staff/questionnaires/import", &[("kind", "questionnaire"), ("form", &mood), ("json", "")], &[("file", "q.json", v2.into_bytes())])
        .await;
    assert!(r.location().unwrap().starts_with("/staff/questionnaires?imported=2"), "{:?}", r.location());
    assign(&drlee, &alice_patient, &mood).await;
    let second = latest_assignment(&portal, &alice_patient).await;
    let version_of = |id: String| {
        let portal = &portal;
        async move {
            count(portal, "SELECT v.version FROM questionnaire_assignments a JOIN questionnaire_versions v ON v.id = a.version_id WHERE a.id = $1", &id).await
        }
    };
    assert_eq!((version_of(first.clone()).await, version_of(second.clone()).await), (1, 2));
    let alice = signed_in(&portal, "alice", "patient").await;
    let r = alice.call_form("/api/questionnaires/open", &[("id", &first)]).await;
    let view: app::questionnaires::FillView = serde_json::from_str(&r.body).unwrap();
    assert_eq!((view.form.title.as_str(), view.assignment.version), ("Mood check (two questions)", 1), "the first keeps its version");
    // Export of the library form: the latest version, which imports again to the same form.
    let r = admin.http.get(format!("{}/staff/questionnaires/fhir/questionnaire/{mood}.json", admin.base)).send().await.unwrap();
    let json = r.text().await.unwrap();
    let exported = app::questionnaires::fhir::import(&json).unwrap();
    assert_eq!(exported.title, "Mood check, revised");
    assert_eq!(
        exported,
        app::questionnaires::fhir::import(&app::questionnaires::SAMPLES[0].2.replace("Mood check (two questions)", "Mood check, revised")).unwrap()
    );
    let _ = ROBERT;
    portal.stop().await;
}

async fn every_view_and_submission_is_audited(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice_patient = patient(&portal, ALICE).await;
    let mood = sample(&portal, "mood-check").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assign(&drlee, &alice_patient, &mood).await;
    let id = latest_assignment(&portal, &alice_patient).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    alice.call_form("/api/questionnaires/open", &[("id", &id)]).await;
    save(&alice, &id, "draft", &[("q0", "2")]).await;
    save(&alice, &id, "submit", &[("q0", "2"), ("q1", "3")]).await;
    drlee.call_form("/api/staff/questionnaires/patient", &[("id", &alice_patient)]).await;
    drlee.call_form("/api/staff/questionnaires/form", &[("id", &mood)]).await;
    drlee.call_form("/api/staff/questionnaires/response", &[("id", &id)]).await;
    drlee.get(&format!("/staff/questionnaires/fhir/response/{id}.json")).await;
    let alice_user = text(&portal, "SELECT id FROM users WHERE login = $1", "alice").await;
    let drlee_user = text(&portal, "SELECT id FROM users WHERE login = $1", "drlee").await;
    for (action, actor, n) in [
        ("questionnaire.assigned", &drlee_user, 1),
        ("questionnaire.opened", &alice_user, 1),
        ("questionnaire.draft-saved", &alice_user, 1),
        ("questionnaire.submitted", &alice_user, 1),
        ("questionnaire.listed", &drlee_user, 2),
        ("questionnaire.response-viewed", &drlee_user, 1),
        ("questionnaire.response-exported", &drlee_user, 1),
    ] {
        let got = sqlx::query("SELECT actor_id, detail FROM audit_log WHERE action = $1").bind(action).fetch_all(&portal.state.db.pool).await.unwrap();
        assert_eq!(got.len(), n, "{action}");
        for r in got {
            assert_eq!(r.get::<Option<String>, _>("actor_id").as_deref(), Some(actor.as_str()), "{action}");
            let detail = r.get::<Option<String>, _>("detail").unwrap_or_default();
            assert!(!detail.contains("Mood") && !detail.contains("interest"), "no form content in the audit trail: {detail}");
        }
    }
    // The mail of the assignment says nothing of the form.
    let body: String = sqlx::query("SELECT COALESCE(payload, '') FROM outbox WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1")
        .bind("alice.johnson@example.org")
        .fetch_one(&portal.state.db.pool)
        .await
        .map(|r| r.get(0))
        .unwrap_or_default();
    assert!(!body.contains("Mood") && !body.contains("questionnaire"), "{body}");
    portal.stop().await;
}

/// A lesson records its check's result (or the acknowledgement of reading-only lessons).
async fn lessons_record_the_check_result(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice_patient = patient(&portal, ALICE).await;
    let robert_patient = patient(&portal, ROBERT).await;
    let lesson = sample(&portal, "portal-safety").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assign(&drlee, &alice_patient, &lesson).await;
    let alices = latest_assignment(&portal, &alice_patient).await;
    assign(&drlee, &robert_patient, &lesson).await;
    let roberts = latest_assignment(&portal, &robert_patient).await;
    // portal-safety: q0 group, q1…q4 display, q5 check-email, q6 check-shared (required).
    let alice = signed_in(&portal, "alice", "patient").await;
    let r = save(&alice, &alices, "submit", &[("q5", "Ignore it and sign in to the portal the usual way")]).await;
    assert!(r.location().unwrap().contains("check=submit"), "the second check question is required");
    save(&alice, &alices, "submit", &[("q5", "Ignore it and sign in to the portal the usual way"), ("q6", "Sign out and close the browser")]).await;
    let robert = signed_in(&portal, "robert", "patient").await;
    save(&robert, &roberts, "submit", &[("q5", "Reply with the password"), ("q6", "Sign out and close the browser")]).await;
    assert_eq!(text(&portal, "SELECT result FROM questionnaire_assignments WHERE id = $1", &alices).await, "2 of 2");
    assert_eq!(text(&portal, "SELECT result FROM questionnaire_assignments WHERE id = $1", &roberts).await, "1 of 2");
    let r = robert.call("/api/questionnaires/list").await;
    let his: app::questionnaires::MyQuestionnaires = serde_json::from_str(&r.body).unwrap();
    assert_eq!(his.assignments[0].result.as_deref(), Some("1 of 2 check answers right"));
    portal.stop().await;
}

/// Whether a page shows Alice's mood-check answers ("Nearly every day", "More than half the days").
fn answered(body: &str) -> bool {
    body.contains("Nearly every day") || body.contains("More than half the days")
}

/// Kim, outside Alice's care team without a reason in force, reads nothing of Alice's answers by
/// any door: the response (page and function: the form asks for a reason), the FHIR export, the
/// form's list of answers (Alice not named; both submitted responses counted as others'), the
/// lesson's check result on Alice's questionnaire page.
async fn answers_closed(kim: &Client, alices: &str, mood: &str, alice_patient: &str) {
    let r = kim.call_form("/api/staff/questionnaires/response", &[("id", alices)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let data: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(data["answers"].is_null() && data["access"] == "NeedsReason", "{}", r.body);
    assert!(!answered(&r.body));
    let page = kim.get(&format!("/staff/questionnaires/responses/{alices}")).await;
    assert!(page.body.contains("Why do you need these answers") && !answered(&page.body), "the page asks for a reason, and shows nothing of them");
    assert_eq!(kim.get(&format!("/staff/questionnaires/fhir/response/{alices}.json")).await.status, 404, "no export without a reason");
    let list = kim.call_form("/api/staff/questionnaires/form", &[("id", mood)]).await;
    assert!(!list.body.contains("MRN100001") && !list.body.contains("Alice"), "not named among the form's answers: {}", list.body);
    assert!(list.body.contains("\"others\":2"), "{}", list.body);
    let mine = kim.call_form("/api/staff/questionnaires/patient", &[("id", alice_patient)]).await;
    assert_eq!(mine.status, 200, "she may still assign forms");
    assert!(!mine.body.contains("2 of 2"), "a lesson's check result is an answer: {}", mine.body);
}

/// Questionnaire answers are health information, read by the minimum-necessary rule (issue 14,
/// point 14): clinicians of the patient's care team read them; a clinician outside it (Kim, once
/// she leaves the Nurse line) first types a reason, which is kept, audited under its own action,
/// listed on the security page and opens that patient's answers only, for an hour; no other
/// role reads them at all, with or without a reason.
async fn answers_need_the_care_team_or_a_recorded_reason(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice_patient = patient(&portal, ALICE).await;
    let robert_patient = patient(&portal, ROBERT).await;
    let mood = sample(&portal, "mood-check").await;
    let lesson = sample(&portal, "portal-safety").await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assign(&drlee, &alice_patient, &lesson).await;
    let alice_lesson = latest_assignment(&portal, &alice_patient).await;
    assign(&drlee, &alice_patient, &mood).await;
    let alices = latest_assignment(&portal, &alice_patient).await;
    assign(&drlee, &robert_patient, &mood).await;
    let roberts = latest_assignment(&portal, &robert_patient).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    save(&alice, &alices, "submit", &[("q0", "3"), ("q1", "2")]).await;
    save(&alice, &alice_lesson, "submit", &[("q5", "Ignore it and sign in to the portal the usual way"), ("q6", "Sign out and close the browser")]).await;
    let robert = signed_in(&portal, "robert", "patient").await;
    save(&robert, &roberts, "submit", &[("q0", "3"), ("q1", "3")]).await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM questionnaire_assignments WHERE state = 'submitted' AND form_id = $1", &mood).await, 2);
    let fhir = |id: &str| format!("/staff/questionnaires/fhir/response/{id}.json");

    // Dr. Lee, of her care team, reads them, by every door.
    let page = drlee.get(&format!("/staff/questionnaires/responses/{alices}")).await;
    assert!(answered(&page.body) && !page.body.contains("Why do you need these answers"), "{}", page.body);
    assert_eq!(drlee.get(&fhir(&alices)).await.status, 200);
    assert!(drlee.call_form("/api/staff/questionnaires/form", &[("id", &mood)]).await.body.contains("MRN100001"));

    // Kim leaves the Nurse line: a clinician outside Alice's care team.
    let admin = signed_in(&portal, "admin", "staff").await;
    let nurse_line = text(&portal, "SELECT id FROM care_pools WHERE name = $1", "Nurse line").await;
    let kim_id = text(&portal, "SELECT id FROM users WHERE login = $1", "nursekim").await;
    let r = admin.post_form("/api/staff/pools/member", &[("pool", &nurse_line), ("user", &kim_id), ("change", "remove")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=member-removed"));
    let kim = signed_in(&portal, "nursekim", "staff").await;
    answers_closed(&kim, &alices, &mood, &alice_patient).await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'questionnaire.response-viewed' AND actor_id = $1", &kim_id).await, 0);

    // A reason too short is refused, and records nothing.
    let r = kim.post_form("/api/staff/questionnaires/reason", &[("assignment", &alices), ("reason", "   need    it   ")]).await;
    assert_eq!(r.location(), Some(format!("/staff/questionnaires/responses/{alices}?reason=short#reason").as_str()));
    assert!(!r.location().unwrap().contains("need"), "the reason never travels in an address");
    assert!(kim
        .get(&format!("/staff/questionnaires/responses/{alices}?reason=short"))
        .await
        .body
        .contains("Please say why you need these answers, in at least 20 characters"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM break_glass_accesses WHERE user_id = $1", &kim_id).await, 0);
    answers_closed(&kim, &alices, &mood, &alice_patient).await;

    // Non-clinical roles have no access at all, reason or not.
    for login in ["billing", "frontdesk", "admin", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        assert_eq!(c.call_form("/api/staff/questionnaires/response", &[("id", &alices)]).await.status, 403, "{login}");
        let r = c.post_form("/api/staff/questionnaires/reason", &[("assignment", &alices), ("reason", "I really need to see these answers now")]).await;
        assert_eq!(r.status, 403, "{login} cannot break the glass");
        assert_eq!(c.get(&fhir(&alices)).await.status, 403, "{login}");
    }
    // A clinician of her care team needs no reason, and none is recorded.
    let r = drlee.post_form("/api/staff/questionnaires/reason", &[("assignment", &alices), ("reason", "Reviewing before her visit today")]).await;
    assert_eq!(r.location(), Some(format!("/staff/questionnaires/responses/{alices}").as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM break_glass_accesses WHERE patient_id = $1", &alice_patient).await, 0);

    // Kim gives her reason: recorded, audited, and Alice's answers open to her.
    let reason = "Seeing Alice in urgent care today after a fall";
    let before = app::platform::now_ms();
    let r = kim.post_form("/api/staff/questionnaires/reason", &[("assignment", &alices), ("reason", reason)]).await;
    assert_eq!(r.location(), Some(format!("/staff/questionnaires/responses/{alices}").as_str()));
    let row = sqlx::query("SELECT user_id, patient_id, reason, at, expires_at FROM break_glass_accesses").fetch_one(db).await.unwrap();
    assert_eq!(row.get::<String, _>("user_id"), kim_id);
    assert_eq!(row.get::<String, _>("patient_id"), alice_patient);
    assert_eq!(row.get::<String, _>("reason"), reason);
    let (at, expires) = (row.get::<i64, _>("at"), row.get::<i64, _>("expires_at"));
    assert!(at >= before && expires - at == 60 * 60_000, "an hour");
    let audit = sqlx::query("SELECT actor_id, subject_id, record_type, record_id, detail FROM audit_log WHERE action = 'record.break-the-glass'")
        .fetch_all(db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "its own audit action");
    assert_eq!(audit[0].get::<Option<String>, _>("actor_id").as_deref(), Some(kim_id.as_str()));
    assert_eq!(audit[0].get::<Option<String>, _>("subject_id"), Some(text(&portal, "SELECT id FROM users WHERE login = $1", "alice").await));
    assert_eq!(audit[0].get::<Option<String>, _>("record_id").as_deref(), Some(alice_patient.as_str()));
    assert!(!audit[0].get::<Option<String>, _>("detail").unwrap_or_default().contains("fall"), "free text stays out of the trail");
    let page = kim.get(&format!("/staff/questionnaires/responses/{alices}")).await;
    assert!(answered(&page.body) && page.body.contains("under the reason you gave"), "{}", page.body);
    assert_eq!(kim.get(&fhir(&alices)).await.status, 200);
    assert!(kim.call_form("/api/staff/questionnaires/form", &[("id", &mood)]).await.body.contains("MRN100001"));
    assert!(kim.call_form("/api/staff/questionnaires/patient", &[("id", &alice_patient)]).await.body.contains("2 of 2"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'questionnaire.response-viewed' AND actor_id = $1", &kim_id).await, 1);
    // Alice's only: Robert's answers stay closed to her.
    assert_eq!(kim.get(&fhir(&roberts)).await.status, 404);
    assert!(!kim.call_form("/api/staff/questionnaires/form", &[("id", &mood)]).await.body.contains("MRN100002"));

    // The security page lists it for administrators and auditors: who, which record, when, why.
    for login in ["admin", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        let page = c.get("/staff/security").await;
        assert!(page.body.contains("Records opened from outside the care team"), "{login}");
        assert!(page.body.contains("Kim Alvarez, RN (nursekim)") && page.body.contains("MRN100001") && page.body.contains(reason), "{login}: {}", page.body);
    }
    assert_eq!(drlee.call("/api/security/overview").await.status, 403);

    // An hour later the answers close again.
    sqlx::query("UPDATE break_glass_accesses SET expires_at = $1").bind(app::platform::now_ms() - 1).execute(db).await.unwrap();
    answers_closed(&kim, &alices, &mood, &alice_patient).await;
    portal.stop().await;
}

on_both_databases!(
    lessons_record_the_check_result,
    patients_reach_only_their_own,
    survey_opt_out_blocks_surveys_and_their_notices,
    drafts_survive_sign_out_and_answers_are_immutable,
    imports_are_whole_and_versions_are_kept,
    every_view_and_submission_is_audited,
    answers_need_the_care_team_or_a_recorded_reason,
);
