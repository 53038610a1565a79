//! The patient's pages of My Medical Record (SPEC R-REC-1, R-REC-4, R-REC-5, R-REC-6), over
//! HTTP as a browser without JavaScript sees them, on both databases: flags in words, one's own
//! record only (another patient's ids are simply not found), staff kept out, the page that
//! explains a record not connected, every view audited and shown in Account activity, the
//! Bundle holding only the patient's own resources, "New" shown once.

use crate::enrolment::{patient, staff};
use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use app::record::fhir::ResourceType;
use app::record::ItemId;

fn item(portal: &TestPortal, kind: ResourceType, id: &str) -> ItemId {
    portal.state.record.item_key().id(kind, id)
}

fn trend_of(portal: &TestPortal, key: &str) -> ItemId {
    portal.state.record.item_key().trend_id(&app::record::TestKey(key.into()))
}

async fn user_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap()
}

async fn count_audit(portal: &TestPortal, subject: &str, action: &str, detail: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE subject_id = $1 AND action = $2 AND detail = $3")
        .bind(subject)
        .bind(action)
        .bind(detail)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
}

/// The text a PDF shows (`(…) Tj` and `<hex> Tj`; WinAnsi read back as Latin-1).
pub fn pdf_text(pdf: &[u8]) -> String {
    let raw = String::from_utf8_lossy(pdf);
    let mut out = String::new();
    for line in raw.lines().filter(|l| l.ends_with(" Tj")) {
        let s = &line[..line.len() - 3];
        if let Some(hex) = s.strip_prefix('<').and_then(|h| h.strip_suffix('>')) {
            out.extend((0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).map(|b| b as char));
        } else if let Some(lit) = s.strip_prefix('(').and_then(|h| h.strip_suffix(')')) {
            out.push_str(lit);
        }
        out.push('\n');
    }
    out
}

/// The HTML of one result's card on Test Results.
fn card<'a>(body: &'a str, id: &ItemId) -> &'a str {
    let start = body.find(&format!("id=\"result-{id}\"")).unwrap_or_else(|| panic!("result {id} is on the page"));
    let rest = &body[start..];
    &rest[..rest.find("</article>").unwrap()]
}

/// R-REC-1: a value outside its range is marked in words beside it (never colour alone), with
/// its range, status and dates; the panel it belongs to is there with its members.
async fn alice_sees_her_high_result_marked_in_words(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let r = alice.get("/record/results").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a1c = card(&r.body, &item(&portal, ResourceType::Observation, "alice-obs-20261123-a1c"));
    assert!(a1c.contains("Hemoglobin A1c") && a1c.contains("8.6 %"), "{a1c}");
    assert!(a1c.contains(">High</strong>"), "High in words beside the value: {a1c}");
    assert!(a1c.contains("Expected range") && a1c.contains("Final"), "{a1c}");
    let sodium = card(&r.body, &item(&portal, ResourceType::Observation, "alice-obs-20261123-na"));
    assert!(sodium.contains(">Normal</strong>") && !sodium.contains(">High<"), "{sodium}");
    // Panels with their members, and who ordered them.
    assert!(r.body.contains("Basic metabolic panel") && r.body.contains("Ordered by"));
    // Newest first: the November 2026 A1c before the May 2026 one.
    let newer = r.body.find(&format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20261123-a1c"))).unwrap();
    let older = r.body.find(&format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20260511-a1c"))).unwrap();
    assert!(newer < older, "newest first");

    // Years of results come a page at a time, newest first: the oldest is on a later page.
    let oldest = format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20210208-a1c"));
    assert!(!r.body.contains(&oldest) && r.body.contains("Older results"));
    let mut page = 2;
    loop {
        let p = alice.get(&format!("/record/results?page={page}")).await;
        assert_eq!(p.status, 200);
        if p.body.contains(&oldest) {
            break;
        }
        assert!(p.body.contains("Older results") && page < 30, "the oldest result is on some page");
        page += 1;
    }

    // The filter: non-personal words only, and it filters.
    let r = alice.get("/record/results?kind=lab&from=2026-11-01&to=2026-11-30").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20261123-a1c"))));
    assert!(!r.body.contains(&format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20260511-a1c"))), "May is outside November");
    let r = alice.get("/record/results?kind=imaging&from=2026-11-01&to=2026-11-30").await;
    assert!(!r.body.contains(&format!("result-{}", item(&portal, ResourceType::Observation, "alice-obs-20261123-a1c"))), "a lab is not imaging");
    let r = alice.get("/record/results?from=not-a-date").await;
    assert!(r.body.contains("could not be read"), "an unreadable date is said, not ignored silently");

    // The trend of a test: a chart drawn on the server, and the same values in a table.
    let link = format!("/record/trends/{}", trend_of(&portal, "http://loinc.org|4548-4"));
    let r = alice.get("/record/results").await;
    assert!(r.body.contains(&link), "each numeric result links to its trend");
    let t = alice.get(&link).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.body.contains("<svg") && t.body.contains("role=\"img\"") && t.body.contains("<title"), "an SVG chart with a title");
    assert!(t.body.contains("<table") && t.body.contains("8.6") && t.body.contains("7.4"), "its values as a table");
    assert!(!t.body.contains("4548-4"), "the test's code is not on the page or in its address");
    portal.stop().await;
}

/// R-REC-1 and R-GEN: one's own record only. Another patient's result, visit or document id
/// is not found, on pages, server functions and downloads alike; one's own is found.
async fn another_patients_ids_are_not_found(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let carol_visit = item(&portal, ResourceType::Encounter, "carol-enc-20210412");
    let carol_doc = item(&portal, ResourceType::DocumentReference, "carol-doc-20210412-avs");
    let unknown_trend = trend_of(&portal, "text|no such test");
    for path in [format!("/record/visits/{carol_visit}"), format!("/record/documents/{carol_doc}"), format!("/record/trends/{unknown_trend}")] {
        let r = alice.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("Carol"), "{path}");
    }
    let r = alice.call_form("/api/record/visit", &[("id", carol_visit.as_str())]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    for bad in ["not-an-id", "../../etc/passwd", "alice-enc-20261123"] {
        assert_eq!(alice.get(&format!("/record/visits/{bad}")).await.status, 404, "{bad}");
    }

    // Her own visit and document are found.
    let own_visit = item(&portal, ResourceType::Encounter, "alice-enc-20261123");
    let r = alice.get(&format!("/record/visits/{own_visit}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Diagnoses") && r.body.contains("Vital signs") && r.body.contains("After-visit summary"), "{}", r.body);
    let own_doc = item(&portal, ResourceType::DocumentReference, "alice-doc-20261123-avs");
    let d = alice.get(&format!("/record/documents/{own_doc}")).await;
    assert_eq!(d.status, 200);
    assert!(d.header("content-disposition").unwrap_or_default().starts_with("attachment"), "a document downloads, it does not open in the portal's origin");
    assert!(d.header("content-security-policy").unwrap_or_default().contains("sandbox"));
    assert!(d.header("cache-control").unwrap_or_default().contains("no-store"));
    portal.stop().await;
}

/// RecordProblem::NotLinked: a patient whose record the portal cannot find is told why, not
/// shown an empty record.
async fn a_patient_without_a_linked_record_sees_the_explanation(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    // Robert's record is no longer findable by his record number, and not linked.
    let db = &portal.state.db.pool;
    sqlx::query("DELETE FROM record_links").execute(db).await.unwrap();
    sqlx::query("DELETE FROM record_patient_identifiers WHERE fhir_patient_id = 'robert'").execute(db).await.unwrap();
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    for path in ["/record/results", "/record/medications", "/record/visits", "/home"] {
        let r = robert.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains(app::record::RecordProblem::NotLinked.message()), "{path}: {}", r.body);
    }
    assert_eq!(robert.get("/record/download/fhir.json").await.status, 503);
    portal.stop().await;
}

/// Staff roles see none of the patient's record pages (minimum necessary: staff read the EHR
/// itself): pages send them to the patient sign-in, functions and downloads answer 403.
async fn staff_roles_reach_none_of_the_record_pages(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let some = item(&portal, ResourceType::Encounter, "alice-enc-20261123");
    for login in ["frontdesk", "drlee", "billing", "admin", "auditor"] {
        let c = if login == "auditor" {
            // The auditor's role requires a second step they have not set up: a waiting
            // session, refused all the same.
            let c = portal.client();
            c.sign_in(login, DEMO_PASSWORD, "staff").await;
            c
        } else {
            staff(&portal, login).await
        };
        for path in [
            "/record/results",
            "/record/trends",
            "/record/medications",
            "/record/allergies",
            "/record/visits",
            &format!("/record/visits/{some}"),
            "/record/documents",
        ] {
            let r = c.get(path).await;
            assert!(matches!(r.status, 303 | 403), "{login} at {path}: {}", r.status);
            assert!(!r.body.contains("Hemoglobin") && !r.body.contains("Metformin"), "{login} at {path}");
        }
        for f in ["record/results", "record/medications", "record/summary", "record/documents"] {
            assert_eq!(c.call_form(&format!("/api/{f}"), &[]).await.status, 403, "{login} calls {f}");
        }
        let d = c.get("/record/download/fhir.json").await;
        assert!(matches!(d.status, 303 | 403), "{login} downloads: {}", d.status);
    }
    portal.stop().await;
}

/// R-REC-6: every view of the record is audited with its section, and the patient sees it in
/// Account activity.
async fn each_view_is_audited_and_shown_in_account_activity(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let me = user_id(&portal, "alice").await;
    let visit = item(&portal, ResourceType::Encounter, "alice-enc-20261123");
    let pages = [
        ("/record/results".to_string(), "test results"),
        ("/record/trends".to_string(), "trends"),
        ("/record/medications".to_string(), "medications"),
        ("/record/allergies".to_string(), "allergies"),
        ("/record/immunizations".to_string(), "immunizations"),
        ("/record/health-issues".to_string(), "health issues"),
        ("/record/visits".to_string(), "visits"),
        (format!("/record/visits/{visit}"), "visit"),
        ("/record/documents".to_string(), "documents"),
        ("/home".to_string(), "health summary"),
    ];
    for (path, section) in &pages {
        let before = count_audit(&portal, &me, "record.viewed", section).await;
        let r = alice.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(count_audit(&portal, &me, "record.viewed", section).await, before + 1, "{path} is audited as {section}");
    }
    let r = alice.get("/record/medications").await;
    assert!(r.body.contains("Metformin") && r.body.contains("Current medications") && r.body.contains("Past medications"));
    let r = alice.get("/record/allergies").await;
    assert!(r.body.contains("Penicillin") && r.body.contains("Reaction"));
    let r = alice.get("/account/activity").await;
    assert!(r.body.contains("Medical record viewed in the portal: test results"), "{}", r.body);
    portal.stop().await;
}

/// R-REC-5: Download My Record is a FHIR R4 Bundle that parses and holds only the patient's
/// own resources (and the practitioners and places they name); the download is audited.
async fn the_downloaded_bundle_parses_and_holds_only_alices_resources(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let me = user_id(&portal, "alice").await;
    let r = alice.get("/record/download/fhir.json").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-disposition").unwrap_or_default().starts_with("attachment"));
    assert!(r.header("cache-control").unwrap_or_default().contains("no-store"));
    let bundle: serde_json::Value = serde_json::from_str(&r.body).expect("the Bundle is JSON");
    assert_eq!((bundle["resourceType"].as_str(), bundle["type"].as_str()), (Some("Bundle"), Some("collection")));
    let entries = bundle["entry"].as_array().unwrap();
    assert!(entries.len() > 50, "her several years of record: {}", entries.len());
    let mut clinical = 0;
    for e in entries {
        let res = &e["resource"];
        let kind = res["resourceType"].as_str().unwrap();
        let id = res["id"].as_str().unwrap();
        assert!(!id.starts_with("robert") && !id.starts_with("carol"), "{kind}/{id} is not hers");
        if kind == "Patient" {
            assert_eq!(id, "alice");
        }
        let subject = res["subject"]["reference"].as_str().or(res["patient"]["reference"].as_str());
        if let Some(s) = subject {
            assert_eq!(s, "Patient/alice", "{kind}/{id}");
            clinical += 1;
        }
    }
    assert!(clinical > 50);
    assert_eq!(count_audit(&portal, &me, "record.downloaded", "whole record (FHIR)").await, 1);

    // The printable summary: a PDF of her own record, nothing personal in its metadata.
    let r = alice.http.get(format!("{}/record/download/summary.pdf", alice.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = pdf_text(&pdf);
    assert!(text.contains("Alice Johnson") && text.contains("Metformin 1000 mg tablet") && text.contains("Penicillin"));
    assert!(text.contains("Hemoglobin A1c: 8.6 % (high)"), "the latest A1c with its flag in words");
    assert!(!text.contains("Robert") && !text.contains("Carol"));
    assert_eq!(count_audit(&portal, &me, "record.downloaded", "health summary (PDF)").await, 1);
    portal.stop().await;
}

/// "New" marks a result the patient has not seen, once: the look that shows it remembers it
/// (ids and a time only), and the next look has no mark. The home page counts it without
/// using it up.
async fn new_disappears_after_the_first_look(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let home = alice.get("/home").await;
    assert!(home.body.contains("Health Summary") && home.body.contains("new test result"), "{}", home.body);
    assert!(alice.get("/home").await.body.contains("new test result"), "the summary does not use up New");
    let first = alice.get("/record/results").await;
    let a1c = item(&portal, ResourceType::Observation, "alice-obs-20261123-a1c");
    assert!(card(&first.body, &a1c).contains(">New<"), "first look: New");
    assert!(first.body.contains("new since you last looked"));
    let again = alice.get("/record/results").await;
    assert!(!card(&again.body, &a1c).contains(">New<"), "second look: no longer New");
    assert!(!again.body.contains("badge--new"));
    assert!(!alice.get("/home").await.body.contains("new test result"));
    // What is stored: opaque ids and times, nothing of the result.
    let stored: Vec<String> = sqlx::query_scalar("SELECT item_id FROM record_seen").fetch_all(&portal.state.db.pool).await.unwrap();
    assert!(stored.contains(&a1c.to_string()));
    assert!(stored.iter().all(|s| ItemId::parse(s).is_some()));
    // Two looks at once both succeed (the first time seen is kept).
    let (a, b) = tokio::join!(alice.get("/record/results"), alice.get("/record/results"));
    assert_eq!((a.status, b.status), (200, 200));
    portal.stop().await;
}

on_both_databases!(
    alice_sees_her_high_result_marked_in_words,
    another_patients_ids_are_not_found,
    a_patient_without_a_linked_record_sees_the_explanation,
    staff_roles_reach_none_of_the_record_pages,
    each_view_is_audited_and_shown_in_account_activity,
    the_downloaded_bundle_parses_and_holds_only_alices_resources,
    new_disappears_after_the_first_look
);
