//! Release of results (SPEC R-REC-3, R-REC-4; issue 15), on both databases: results whose code
//! an administrator listed as given in person are nowhere in the portal (pages, counts,
//! downloads, notices) and Test Results says only that some are given in person; a patient's own
//! choice to see results later holds them back, says how many wait, and touches nobody else;
//! a new result sends one PHI-free notice a day.

use crate::enrolment::{patient, staff};
use crate::on_both_databases;
use crate::record_pages::pdf_text;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::platform::now_ms;
use app::record::embedded;
use serde_json::json;

const LOINC: &str = "http://loinc.org";
const DAY: i64 = 86_400_000;

/// A lab report with one numeric member for `patient`, issued at `issued` (FHIR dateTime).
fn report(patient: &str, id: &str, code: (&str, &str), member: (&str, &str, f64, &str), issued: &str, interpreted: bool) -> String {
    let (obs_code, obs_name, value, unit) = member;
    let mut dr = json!({
        "resourceType": "DiagnosticReport", "id": format!("{id}-dr"), "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": {"coding": [{"system": LOINC, "code": code.0}], "text": code.1},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": issued, "issued": issued,
        "performer": [{"display": "Dr. Quinn Halvorsen"}],
        "result": [{"reference": format!("Observation/{id}-obs")}]
    });
    if interpreted {
        dr["resultsInterpreter"] = json!([{"display": "Dr. Quinn Halvorsen"}]);
    }
    let obs = json!({
        "resourceType": "Observation", "id": format!("{id}-obs"), "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": obs_code}], "text": obs_name},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": issued, "issued": issued,
        "valueQuantity": {"value": value, "unit": unit}
    });
    json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": dr}, {"resource": obs}]}).to_string()
}

/// The same file with every resource from the visit `encounter`.
fn at_visit(file: String, encounter: &str) -> String {
    let mut b: serde_json::Value = serde_json::from_str(&file).unwrap();
    for e in b["entry"].as_array_mut().unwrap() {
        e["resource"]["encounter"] = json!({"reference": format!("Encounter/{encounter}")});
    }
    b.to_string()
}

/// A FHIR dateTime `ms` milliseconds since the epoch.
fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn count(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap()
}

async fn email_of(portal: &TestPortal, login: &str) -> String {
    sqlx::query_scalar("SELECT email FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap()
}

async fn notices_to(portal: &TestPortal, email: &str) -> i64 {
    count(portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-record' AND recipient = $1", email).await
}

async fn hide(admin: &Client, code: &str, label: &str) {
    let r = admin.post_form("/api/staff/record/hidden-codes/add", &[("system", LOINC), ("code", code), ("label", label)]).await;
    assert_eq!(r.location(), Some("/staff/record/hidden-codes?done=added"), "{}", r.body);
}

/// R-REC-3: a result whose code is on the administrators' list (a panel, with its member) is
/// in no page, count or download, and Test Results says that some results are given in person.
/// Only administrators reach the list.
async fn a_hidden_code_is_shown_nowhere_and_the_page_says_some_results_are_given_in_person(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db;
    let recent = iso(now_ms() - 2 * DAY);
    let file = report("alice", "alice-hiv", ("75622-1", "HIV screen panel"), ("20447-9", "HIV-1 viral load", 40.0, "copies/mL"), &recent, true);
    embedded::import(db, &at_visit(file, "alice-enc-20261123"), now_ms()).await.unwrap();
    let visit = format!("/record/visits/{}", portal.state.record.item_key().id(app::record::fhir::ResourceType::Encounter, "alice-enc-20261123"));
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let names = ["HIV screen panel", "HIV-1 viral load"];
    // Before the code is listed, the result shows (so its absence below means something).
    let r = alice.get("/record/results").await;
    assert!(names.iter().all(|n| r.body.contains(n)), "shown before it is hidden");
    assert!(!r.body.contains(app::record::release::GIVEN_IN_PERSON));
    assert!(alice.get("/record/trends").await.body.contains("HIV-1 viral load"));
    assert!(alice.get(&visit).await.body.contains("HIV-1 viral load"), "among the visit's results");

    // Front desk and clinicians cannot reach the list or its functions.
    for login in ["frontdesk", "drlee"] {
        let c = staff(&portal, login).await;
        assert_eq!(c.get("/staff/record/hidden-codes").await.status, 403, "{login}");
        assert_eq!(c.call_form("/api/staff/record/hidden-codes", &[]).await.status, 403, "{login}");
        let r = c.call_form("/api/staff/record/hidden-codes/add", &[("system", LOINC), ("code", "75622-1"), ("label", "x")]).await;
        assert_eq!(r.status, 403, "{login}");
        assert_eq!(c.call_form("/api/staff/record/hidden-codes/remove", &[("id", "x")]).await.status, 403, "{login}");
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM record_hidden_codes WHERE code = $1", "75622-1").await, 0);

    // An administrator lists the panel's code (its member's code is not listed).
    let admin = staff(&portal, "admin").await;
    let page = admin.get("/staff/record/hidden-codes").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<label for=\"code-code\">") && page.body.contains("<label for=\"code-system\">"), "labelled fields");
    hide(&admin, "75622-1", "HIV screen").await;
    let bad = admin.post_form("/api/staff/record/hidden-codes/add", &[("system", "not a uri"), ("code", "1"), ("label", "x")]).await;
    assert_eq!(bad.location(), Some("/staff/record/hidden-codes?error=invalid"));
    let again = admin.post_form("/api/staff/record/hidden-codes/add", &[("system", LOINC), ("code", "75622-1"), ("label", "x")]).await;
    assert_eq!(again.location(), Some("/staff/record/hidden-codes?error=exists"));
    assert!(admin.get("/staff/record/hidden-codes").await.body.contains("75622-1"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.hidden-code.added").await, 1);

    // Nowhere for Alice: Test Results (with the sentence), Trends, home, Bundle, PDF.
    let r = alice.get("/record/results").await;
    assert_eq!(r.status, 200);
    assert!(names.iter().all(|n| !r.body.contains(n)), "not on Test Results");
    assert!(r.body.contains(app::record::release::GIVEN_IN_PERSON), "the page says some results are given in person");
    assert!(!alice.get("/record/trends").await.body.contains("HIV"), "not among the trends");
    let v = alice.get(&visit).await;
    assert_eq!(v.status, 200);
    assert!(v.body.contains("Vital signs") && !v.body.contains("HIV"), "not among the visit's results");
    let home = alice.get("/home").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Health Summary") && !home.body.contains("HIV"), "not in the Health Summary");
    let bundle = alice.get("/record/download/fhir.json").await;
    let parsed: serde_json::Value = serde_json::from_str(&bundle.body).unwrap();
    let ids: Vec<&str> = parsed["entry"].as_array().unwrap().iter().filter_map(|e| e["resource"]["id"].as_str()).collect();
    assert!(ids.contains(&"alice-obs-20261123-a1c"), "the rest of the record is there");
    assert!(!ids.iter().any(|id| id.starts_with("alice-hiv")), "neither the report nor its member: {ids:?}");
    assert!(!bundle.body.contains("alice-hiv") && !bundle.body.contains("HIV"));
    let pdf = alice.http.get(format!("{}/record/download/summary.pdf", alice.base)).send().await.unwrap().bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert!(!pdf_text(&pdf).contains("HIV") && !String::from_utf8_lossy(&pdf).contains("HIV"), "not in the PDF");

    // Robert has no such result: no sentence for him.
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    assert!(!robert.get("/record/results").await.body.contains(app::record::release::GIVEN_IN_PERSON));

    // Removed from the list, the result shows again.
    let id: String = sqlx::query_scalar("SELECT id FROM record_hidden_codes WHERE code = '75622-1'").fetch_one(&db.pool).await.unwrap();
    let r = admin.post_form("/api/staff/record/hidden-codes/remove", &[("id", &id)]).await;
    assert_eq!(r.location(), Some("/staff/record/hidden-codes?done=removed"));
    assert!(alice.get("/record/results").await.body.contains("HIV-1 viral load"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.hidden-code.removed").await, 1);
    portal.stop().await;
}

/// R-REC-3: results show at once unless the patient chose otherwise. After "after review" an
/// unreviewed result waits and the page says how many wait; "3 days" holds a new result until
/// three days after it was issued; Robert, who chose nothing, sees his at once. Audited.
async fn a_patients_release_choice_holds_back_only_their_own_results(backend: Backend) {
    let start = now_ms() + 5 * 60_000;
    let portal = TestPortal::start_with(backend, |c| c.clock = app::platform::clock::Clock::fixed_at(start)).await;
    let db = &portal.state.db;
    let issued = iso(start - 3_600_000);
    let tsh = |patient: &str, interpreted: bool| {
        report(patient, &format!("{patient}-tsh"), ("3016-3", "Thyroid panel"), ("3016-3", "Thyroid stimulating hormone", 2.1, "mIU/L"), &issued, interpreted)
    };
    embedded::import(db, &tsh("alice", false), start).await.unwrap();
    embedded::import(db, &tsh("robert", false), start).await.unwrap();

    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let home = alice.get("/record").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("value=\"now\"") && home.body.contains("checked"), "the default is as soon as available");
    assert!(alice.get("/record/results").await.body.contains("Thyroid stimulating hormone"));
    let r = alice.post_form("/api/record/release/choose", &[("choice", "reviewed")]).await;
    assert_eq!(r.location(), Some("/record?done=release#release"));
    let r = alice.post_form("/api/record/release/choose", &[("choice", "days-5")]).await;
    assert_eq!(r.location(), Some("/record?error=release#release"), "only the choices offered");
    let me: String = sqlx::query_scalar("SELECT id FROM users WHERE login = 'alice'").fetch_one(&db.pool).await.unwrap();
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'record.release.chosen' AND subject_id = $1 AND detail = 'reviewed'")
        .bind(&me)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the change is audited");

    // Her unreviewed result waits; so does her one preliminary report of the demo.
    let r = alice.get("/record/results").await;
    assert!(!r.body.contains("Thyroid stimulating hormone"), "an unreviewed result waits");
    assert!(r.body.contains("2 results are waiting because you chose to see new results only after your clinician has reviewed them."), "{}", r.body);
    assert!(r.body.contains("href=\"/record#release\""), "a link to change the choice");
    assert!(r.body.contains("Hemoglobin A1c"), "reviewed results show");
    assert!(!alice.get("/record/download/fhir.json").await.body.contains("alice-tsh"), "nor in the download");
    // Robert chose nothing: his shows.
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    let r = robert.get("/record/results").await;
    assert!(r.body.contains("Thyroid stimulating hormone") && !r.body.contains("waiting because you chose"));

    // Once reviewed (the report names its interpreter), it shows.
    embedded::import(db, &tsh("alice", true), start).await.unwrap();
    let r = alice.get("/record/results").await;
    assert!(r.body.contains("Thyroid stimulating hormone") && r.body.contains("1 result is waiting"), "reviewed: shown");

    // Three days after it is ready.
    let r = alice.post_form("/api/record/release/choose", &[("choice", "days-3")]).await;
    assert_eq!(r.location(), Some("/record?done=release#release"));
    assert!(alice.get("/record").await.body.contains("value=\"days-3\" checked"), "the page shows her choice");
    let r = alice.get("/record/results").await;
    assert!(!r.body.contains("Thyroid stimulating hormone"));
    assert!(r.body.contains("1 result is waiting because you chose to see new results 3 days after they are ready."), "{}", r.body);
    portal.state.clock.advance(3 * DAY);
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let r = alice.get("/record/results").await;
    assert!(r.body.contains("Thyroid stimulating hormone") && !r.body.contains("waiting because"), "shown once the days have passed");
    portal.stop().await;
}

/// R-REC-4: a new result Alice may see sends her one notice with nothing of the result in it;
/// a second result the same day sends none; a result given in person sends none.
async fn a_new_result_sends_one_phi_free_notice_a_day_and_none_when_given_in_person(backend: Backend) {
    // The clock stands a little after the demo was loaded, so the demo is not "new".
    let start = now_ms() + 5 * 60_000;
    let portal = TestPortal::start_with(backend, |c| c.clock = app::platform::clock::Clock::fixed_at(start)).await;
    let db = &portal.state.db;
    let notices = app::record::notices::run;
    notices(&portal.state).await.unwrap(); // first meeting: from now on
    let (alice, robert) = (email_of(&portal, "alice").await, email_of(&portal, "robert").await);
    assert_eq!(notices_to(&portal, &alice).await, 0, "nothing loaded before is new");

    portal.state.clock.advance(60_000);
    let issued = iso(start - 3_600_000);
    let file = report("alice", "alice-new", ("24362-6", "Renal function panel"), ("2160-0", "Creatinine in serum", 1.37, "mg/dL"), &issued, true);
    embedded::import(db, &file, portal.state.clock.now_ms()).await.unwrap();
    // Two servers' passes at once: one notice.
    let (a, b) = tokio::join!(notices(&portal.state), notices(&portal.state));
    a.unwrap();
    b.unwrap();
    assert_eq!(notices_to(&portal, &alice).await, 1, "one notice to her address");
    let payload: Option<String> =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE notice = 'new-in-record' AND recipient = $1").bind(&alice).fetch_one(&db.pool).await.unwrap();
    assert_eq!(payload, None, "the row carries nothing but its kind");
    // The e-mail that goes out (the mail worker runs on this portal's clock, so the notice is
    // due for it at once).
    let text = crate::enrolment::mail_to(&portal, &alice, "Something new is in your medical record", 15).await.text();
    assert!(text.contains("Sign in"), "{text}");
    let date = &issued[..10];
    for phi in ["Renal function panel", "Creatinine", "1.37", "mg/dL", "2160-0", "24362-6", date, "Halvorsen", "Quinn"] {
        assert!(!text.to_lowercase().contains(&phi.to_lowercase()), "the notice says nothing of the result ({phi}): {text}");
    }

    // A second result the same day: no second notice.
    portal.state.clock.advance(60_000);
    let file = report("alice", "alice-newer", ("24331-1", "Lipid panel"), ("2093-3", "Cholesterol", 180.0, "mg/dL"), &issued, true);
    embedded::import(db, &file, portal.state.clock.now_ms()).await.unwrap();
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &alice).await, 1, "at most one a day");

    // A result given in person sends none.
    let admin = staff(&portal, "admin").await;
    hide(&admin, "75622-1", "HIV screen").await;
    portal.state.clock.advance(60_000);
    let file = report("robert", "robert-hiv", ("75622-1", "HIV screen panel"), ("20447-9", "HIV-1 viral load", 40.0, "copies/mL"), &issued, true);
    embedded::import(db, &file, portal.state.clock.now_ms()).await.unwrap();
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &robert).await, 0, "nothing the patient cannot see is told");

    // Carol chose one e-mail a day for everything new: the result is told in that one.
    sqlx::query("UPDATE users SET notices = 'daily' WHERE login = 'carol'").execute(&db.pool).await.unwrap();
    let carol = email_of(&portal, "carol").await;
    let file = report("carol", "carol-new", ("24362-6", "Renal function panel"), ("2160-0", "Creatinine in serum", 0.9, "mg/dL"), &issued, true);
    embedded::import(db, &file, portal.state.clock.now_ms()).await.unwrap();
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &carol).await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'daily-summary' AND recipient = $1", &carol).await, 1, "in her daily e-mail");

    // The next day, what arrived after the first notice and is still unseen is told.
    portal.state.clock.advance(DAY);
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &alice).await, 2, "the next day's notice");
    assert_eq!(notices_to(&portal, &robert).await, 0);

    // Robert chose to see results 3 days after they are ready: a new one is told when it is
    // released, not when it arrives.
    let robert_client = patient(&portal, "robert", DEMO_PASSWORD).await;
    let r = robert_client.post_form("/api/record/release/choose", &[("choice", "days-3")]).await;
    assert_eq!(r.location(), Some("/record?done=release#release"));
    portal.state.clock.advance(60_000);
    let now = portal.state.clock.now_ms();
    let file =
        report("robert", "robert-later", ("24362-6", "Renal function panel"), ("2160-0", "Creatinine in serum", 1.1, "mg/dL"), &iso(now - 3_600_000), true);
    embedded::import(db, &file, now).await.unwrap();
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &robert).await, 0, "held by his choice: nothing to tell yet");
    portal.state.clock.advance(3 * DAY);
    notices(&portal.state).await.unwrap();
    assert_eq!(notices_to(&portal, &robert).await, 1, "told once released");
    portal.stop().await;
}

on_both_databases!(
    a_hidden_code_is_shown_nowhere_and_the_page_says_some_results_are_given_in_person,
    a_patients_release_choice_holds_back_only_their_own_results,
    a_new_result_sends_one_phi_free_notice_a_day_and_none_when_given_in_person
);
