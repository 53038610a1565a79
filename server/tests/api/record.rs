//! My Medical Record below the pages (SPEC R-REC-2, R-REC-6), on both databases: the embedded
//! source's import (all or nothing, refusals naming the resource, re-import replaces), whose
//! record a patient reads (their own, through the link to their FHIR Patient; no two portal
//! patients share one), the staff link, the audit of every view; and the remote source
//! against the real FHIR test server (sekmet-fhir): SMART Backend Services token obtained once
//! and shared, paging, matching by record number, a wrong key, garbage, an EHR that stops
//! answering — each the one typed error, in time — and nothing of another patient.

use crate::on_both_databases;
use crate::support::fhir_server::{demo_bundle, FhirServer};
use crate::support::{captured_logs, Backend, Client, TestPortal, DEMO_PASSWORD};
use app::patients::PatientId;
use app::record::embedded::{self, ImportError, ImportProblem};
use app::record::fhir::ResourceType;
use app::record::server::{self as record, Reader, Section};
use app::record::settings::{RecordSettings, RemoteSettings, SourceSettings, DEFAULT_SCOPE, DEMO_MRN_SYSTEM};
use app::record::smart::SigningKey;
use app::record::source::{RecordError, RecordSource, Unavailable};
use app::record::{Flag, RecordProblem};
use app::state::AppState;
use app::types::UserId;
use std::time::{Duration, Instant};

async fn scalar_i64(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap()
}

async fn patient_id(portal: &TestPortal, mrn: &str) -> PatientId {
    sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1").bind(mrn).fetch_one(&portal.state.db.pool).await.unwrap()
}

/// The demo patient `login` reading their own record.
pub(crate) async fn reader(portal: &TestPortal, login: &str) -> Reader {
    let (user, patient): (UserId, PatientId) =
        sqlx::query_as("SELECT id, patient_id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap();
    Reader { user, patient, client_addr: None }
}

fn item(state: &AppState, kind: ResourceType, id: &str) -> app::record::ItemId {
    state.record.item_key().id(kind, id)
}

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in: {}", r.body);
    c
}

// ---------------------------------------------------------------------------------------------
// The embedded source

pub(crate) fn observation(id: &str, subject: &str, value: f64) -> serde_json::Value {
    serde_json::json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
        "subject": {"reference": subject},
        "effectiveDateTime": "2026-06-01T08:00:00Z",
        "valueQuantity": {"value": value, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"},
        "referenceRange": [{"low": {"value": 70, "unit": "mg/dL"}, "high": {"value": 99, "unit": "mg/dL"}}]
    })
}

/// Dora (MRN100004) has a portal record and no medical record in the demo: these fixtures give
/// her one.
fn dora_patient() -> serde_json::Value {
    serde_json::json!({"resourceType": "Patient", "id": "dora", "identifier": [{"system": DEMO_MRN_SYSTEM, "value": "MRN100004"}],
        "name": [{"family": "Martinez", "given": ["Dora"]}]})
}

async fn import_is_all_or_nothing_and_each_refusal_names_the_resource(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db;
    let before = scalar_i64(&portal, "SELECT COUNT(*) FROM record_resources WHERE resource_type <> $1", "").await;
    let mut missing_status = observation("dora-no-status", "Patient/dora", 100.0);
    missing_status.as_object_mut().unwrap().remove("status");
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:8d1c", "resource": dora_patient(), "request": {"method": "PUT", "url": "Patient/dora"}},
        {"resource": observation("dora-glucose", "urn:uuid:8d1c", 140.0), "request": {"method": "PUT", "url": "Observation/dora-glucose"}},
        {"resource": missing_status, "request": {"method": "PUT", "url": "Observation/dora-no-status"}},
        {"resource": observation("dora-stranger", "Patient/nobody", 90.0), "request": {"method": "PUT", "url": "Observation/dora-stranger"}},
        {"resource": {"resourceType": "Provenance", "id": "p1"}, "request": {"method": "PUT", "url": "Provenance/p1"}}
    ]});
    let Err(ImportError::Refused(problems)) = embedded::import(db, &bundle.to_string(), app::platform::now_ms()).await else {
        panic!("a file with bad resources is refused")
    };
    assert_eq!(
        problems,
        [
            ImportProblem { resource: "Observation/dora-no-status".into(), problem: "lacks status, which the portal needs".into() },
            ImportProblem {
                resource: "Observation/dora-stranger".into(),
                problem: "is about Patient/nobody, which is neither in this file nor imported before".into()
            },
        ]
    );
    let message = ImportError::Refused(problems).to_string();
    assert!(message.starts_with("nothing was imported: 2 problems") && message.contains("Observation/dora-stranger: is about"), "{message}");
    // All or nothing: not even the good resources of the file were written.
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM record_resources WHERE resource_type <> $1", "").await, before);
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM record_resources WHERE resource_id LIKE $1", "dora%").await, 0);
    assert!(matches!(record::read(&portal.state, &patient_id(&portal, "MRN100004").await, Section::TestResults).await, Err(RecordError::NotLinked)));

    // The same file without its bad resources imports; the transaction's urn:uuid reference is
    // stored as the Patient's id; the type the portal does not read is counted, not stored.
    let good = serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        bundle["entry"][0].clone(), bundle["entry"][1].clone(), bundle["entry"][4].clone()
    ]});
    let report = embedded::import(db, &good.to_string(), app::platform::now_ms()).await.unwrap();
    assert_eq!(report.imported.get("Patient"), Some(&1));
    assert_eq!(report.imported.get("Observation"), Some(&1));
    assert_eq!(report.skipped.get("Provenance"), Some(&1));
    let stored: String = sqlx::query_scalar("SELECT content FROM record_resources WHERE resource_type = 'Observation' AND resource_id = 'dora-glucose'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(stored.contains(r#""reference":"Patient/dora""#), "{stored}");
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.imported").await, 4, "three demo bundles and this file");

    // NDJSON: a line that is not JSON is named by its line; a Patient imported before counts.
    let ndjson = format!("{}\n{{not json\n", observation("dora-later", "Patient/dora", 95.0));
    let Err(ImportError::Refused(p)) = embedded::import(db, &ndjson, app::platform::now_ms()).await else { panic!() };
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].resource, "line 2");
    let ndjson = format!("{}\n{}\n", observation("dora-later", "Patient/dora", 95.0), observation("dora-later-2", "Patient/dora", 96.0));
    assert_eq!(embedded::import(db, &ndjson, app::platform::now_ms()).await.unwrap().total(), 2);
    assert!(matches!(embedded::import(db, "this is no FHIR", 0).await, Err(ImportError::NotJson(_))));
    portal.stop().await;
}

async fn importing_the_same_ids_again_replaces_them(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db;
    let file = |value: f64| format!("{}\n{}\n", dora_patient(), observation("dora-glucose", "Patient/dora", value));
    embedded::import(db, &file(140.0), app::platform::now_ms()).await.unwrap();
    embedded::import(db, &file(88.0), app::platform::now_ms()).await.unwrap();
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM record_resources WHERE resource_id = $1", "dora-glucose").await, 1);
    let dora = patient_id(&portal, "MRN100004").await;
    let r = record::read(&portal.state, &dora, Section::TestResults).await.unwrap().test_results();
    let all = r.all();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value.text(), "88 mg/dL", "the second import replaced the first");
    assert_eq!(all[0].flag, Flag::Normal);
    // Moving the Patient's record number: matching follows what was imported last.
    let renumbered = serde_json::json!({"resourceType": "Patient", "id": "dora", "identifier": [{"system": DEMO_MRN_SYSTEM, "value": "MRN999999"}]});
    embedded::import(db, &renumbered.to_string(), app::platform::now_ms()).await.unwrap();
    assert_eq!(embedded::patients_with_identifier(db, DEMO_MRN_SYSTEM, "MRN100004").await.unwrap(), Vec::<String>::new());
    portal.stop().await;
}

/// Record pages keep the parsed record between views (issue 16), and that must never show a
/// patient less than the store holds: an import through any server is read by every server's
/// next page, and the release rules are decided on each read, not kept.
async fn a_kept_record_is_read_again_after_an_import_on_any_server(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let a = &portal.state;
    // A second app server on the same database: its own record source, its own memory.
    let b = with_source(a, &RecordSettings::default());
    let file = |value: f64| format!("{}\n{}\n", dora_patient(), observation("dora-glucose", "Patient/dora", value));
    embedded::import(&a.db, &file(140.0), app::platform::now_ms()).await.unwrap();
    let dora = patient_id(&portal, "MRN100004").await;
    let glucose = |state: &AppState| {
        let (state, dora) = (state.clone(), dora.clone());
        async move { record::read(&state, &dora, Section::TestResults).await.unwrap().test_results().all()[0].value.text() }
    };
    assert_eq!(glucose(a).await, "140 mg/dL");
    assert_eq!(glucose(&b).await, "140 mg/dL");
    assert_eq!(a.record.cache().size().0, 1, "the read is kept");
    assert_eq!(glucose(a).await, "140 mg/dL");
    assert_eq!(a.record.cache().size().0, 1, "and used again");

    // The import goes through server B's database handle; A has never heard of it.
    embedded::import(&b.db, &file(88.0), app::platform::now_ms()).await.unwrap();
    assert_eq!(glucose(a).await, "88 mg/dL", "server A reads the store again");
    assert_eq!(glucose(&b).await, "88 mg/dL");

    // An administrator hides the test's code: the next read withholds it although the parsed
    // record is kept, and taking the code off shows it again.
    let admin: UserId = sqlx::query_scalar("SELECT id FROM users WHERE login = 'admin'").fetch_one(&a.db.pool).await.unwrap();
    let id = app::record::hidden_codes::add_code(&a.db, &admin, "http://loinc.org", "2345-7", "Glucose", None, app::platform::now_ms()).await.unwrap().unwrap();
    for state in [a, &b] {
        let r = record::read(state, &dora, Section::TestResults).await.unwrap();
        assert!(r.test_results().all().is_empty(), "a hidden code is withheld from a kept record");
        assert!(r.withheld.given_in_person);
    }
    app::record::hidden_codes::remove_code(&a.db, &admin, &id, None, app::platform::now_ms()).await.unwrap();
    assert_eq!(glucose(a).await, "88 mg/dL");

    // A server told to keep nothing reads the store every time.
    let none = with_source(a, &RecordSettings { cache_bytes: 0, ..RecordSettings::default() });
    assert_eq!(glucose(&none).await, "88 mg/dL");
    assert_eq!(none.record.cache().size().0, 0);
    portal.stop().await;
}

async fn a_patient_reads_their_own_record_and_nothing_of_anothers(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let state = &portal.state;
    let alice = reader(&portal, "alice").await;
    // Her first looks, all at once: one link, made by record number, audited once.
    let mut looks = Vec::new();
    for _ in 0..8 {
        let (state, patient) = (state.clone(), alice.patient.clone());
        looks.push(tokio::spawn(async move { record::read(&state, &patient, Section::Allergies).await.map(|r| r.allergies().items.len()) }));
    }
    for look in looks {
        assert_eq!(look.await.unwrap().unwrap(), 2);
    }
    let link = record::link_of(&state.db, &alice.patient).await.unwrap().unwrap();
    assert_eq!((link.fhir_patient_id.as_str(), link.how), ("alice", app::record::LinkHow::RecordNumber));
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.linked").await, 1);

    let r = record::open(state, &alice, Section::Everything).await.unwrap();
    for e in r.entries() {
        assert!(!e.id.starts_with("robert") && !e.id.starts_with("carol"), "{}/{}", e.kind.as_str(), e.id);
        if e.kind.is_clinical() {
            assert_eq!(e.resource.patient_id(None), Some("alice"));
        }
    }
    let results = r.test_results();
    assert_eq!(results.all().len(), 191);
    assert_eq!(results.result(&item(state, ResourceType::Observation, "alice-obs-20261123-a1c")).unwrap().flag, Flag::High);
    // Every view is audited: who, whose, which part; nothing of what was in it.
    let (action, actor, subject, record_id, detail): (String, String, String, String, String) =
        sqlx::query_as("SELECT action, actor_id, subject_id, record_id, detail FROM audit_log WHERE action = 'record.viewed' ORDER BY seq DESC LIMIT 1")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (action.as_str(), actor, subject, record_id, detail.as_str()),
        ("record.viewed", alice.user.to_string(), alice.user.to_string(), alice.patient.to_string(), "whole record")
    );

    // Another patient's items are not found through Alice's record, by any id.
    let carol_pdf = item(state, ResourceType::DocumentReference, "carol-doc-20220307-anemia");
    assert!(record::document(state, &alice, &carol_pdf).await.unwrap().is_none());
    assert!(r.visit(&item(state, ResourceType::Encounter, "robert-enc-20220214")).is_none());
    let pdf = r.documents().into_iter().find(|d| d.content_type == "application/pdf").unwrap();
    let content = record::document(state, &alice, &pdf.id).await.unwrap().unwrap();
    assert!(content.bytes.starts_with(b"%PDF"));
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.downloaded").await, 1);
    let bundle: serde_json::Value = serde_json::from_str(&record::download(state, &alice, |_, _| true).await.unwrap()).unwrap();
    assert!(bundle["entry"].as_array().unwrap().iter().all(|e| !e["resource"]["id"].as_str().unwrap().starts_with("robert")));

    // Robert reads his, with none of Alice's.
    let robert = reader(&portal, "robert").await;
    let his = record::open(state, &robert, Section::Everything).await.unwrap();
    assert!(his.entries().all(|e| !e.id.starts_with("alice")));
    assert_eq!(his.medications().current.len(), 3);
    // Dora's record number matches nothing: not linked, and the page can say so.
    let dora = patient_id(&portal, "MRN100004").await;
    let e = record::read(state, &dora, Section::TestResults).await.unwrap_err();
    assert_eq!(e.problem(), Some(RecordProblem::NotLinked));
    portal.stop().await;
}

async fn link(c: &Client, patient: &PatientId, fhir: &str) -> crate::support::Reply {
    c.post_form("/api/staff/record/link", &[("patient_id", patient.as_str()), ("fhir_patient_id", fhir)]).await
}

async fn staff_link_a_patients_record_and_no_two_patients_share_one(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let state = &portal.state;
    let dora = patient_id(&portal, "MRN100004").await;
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let page = frontdesk.get(&format!("/staff/patients/{}", dora.as_str())).await;
    assert!(page.body.contains("Medical record (EHR)") && page.body.contains("Not linked yet"), "{}", page.body);

    // Roles that do not manage patients' access cannot link, nor can a patient.
    for (login, kind) in [("billing", "staff"), ("drlee", "staff"), ("auditor", "staff"), ("alice", "patient")] {
        let c = signed_in(&portal, login, kind).await;
        let r = c.call_form("/api/staff/record/link", &[("patient_id", dora.as_str()), ("fhir_patient_id", "carol")]).await;
        assert_eq!(r.status, 403, "{login}");
    }
    assert!(record::link_of(&state.db, &dora).await.unwrap().is_none());

    let outcome = |r: &crate::support::Reply| r.location().unwrap_or_default().split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    assert_eq!(outcome(&link(&frontdesk, &dora, "no such id!").await), "error=record-id");
    assert_eq!(outcome(&link(&frontdesk, &dora, "nobody").await), "error=record-not-found");
    // Alice looks first: her FHIR Patient is hers, and cannot be given to Dora.
    record::read(state, &reader(&portal, "alice").await.patient, Section::Allergies).await.unwrap();
    assert_eq!(outcome(&link(&frontdesk, &dora, "alice").await), "error=record-taken");
    // Carol has not looked yet: staff give Carol's FHIR Patient to Dora (a mistake)...
    assert_eq!(outcome(&link(&frontdesk, &dora, "carol").await), "done=record-linked");
    let page = frontdesk.get(&format!("/staff/patients/{}", dora.as_str())).await;
    assert!(page.body.contains("Patient <code>carol</code>") && page.body.contains("Linked by Frances Okafor"), "{}", page.body);
    // ...so Carol's own look finds her record number's Patient taken, and shows her nothing.
    let carol = reader(&portal, "carol").await;
    assert!(matches!(record::read(state, &carol.patient, Section::Allergies).await, Err(RecordError::NotLinked)));
    // The mistake is undone; Carol's next look links her.
    let r = frontdesk.post_form("/api/staff/record/unlink", &[("patient_id", dora.as_str())]).await;
    assert_eq!(outcome(&r), "done=record-unlinked");
    record::read(state, &carol.patient, Section::Allergies).await.unwrap();
    assert_eq!(record::link_of(&state.db, &carol.patient).await.unwrap().unwrap().fhir_patient_id, "carol");
    let linked_by_staff: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'record.linked' AND actor_id IS NOT NULL AND record_id = $1")
        .bind(dora.as_str())
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(linked_by_staff, 1);
    assert_eq!(scalar_i64(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "record.unlinked").await, 1);
    // An administrator manages access too; changing an existing link replaces it.
    let admin = signed_in(&portal, "admin", "staff").await;
    let robert = reader(&portal, "robert").await;
    assert_eq!(outcome(&link(&admin, &robert.patient, "robert").await), "done=record-linked");
    assert_eq!(record::link_of(&state.db, &robert.patient).await.unwrap().unwrap().how, app::record::LinkHow::Staff);
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The remote source, against the real FHIR test server

pub(crate) const CLIENT_ID: &str = "portal-test";

pub(crate) fn rsa_key() -> SigningKey {
    SigningKey::from_pem(&openssl::rsa::Rsa::generate(2048).unwrap().private_key_to_pem().unwrap()).unwrap()
}

fn ec_key() -> SigningKey {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::SECP384R1).unwrap();
    SigningKey::from_pem(&openssl::ec::EcKey::generate(&group).unwrap().private_key_to_pem().unwrap()).unwrap()
}

pub(crate) fn remote(base: &str, token_url: Option<&str>, key: SigningKey, key_id: &str, timeout: Duration) -> RecordSettings {
    RecordSettings {
        source: SourceSettings::Remote(RemoteSettings {
            base_url: url::Url::parse(base).unwrap(),
            token_url: token_url.map(|t| url::Url::parse(t).unwrap()),
            client_id: CLIENT_ID.into(),
            key,
            key_id: key_id.into(),
            scope: DEFAULT_SCOPE.into(),
            timeout,
            // Small pages: Alice's 253 Observations come in six.
            page_size: 50,
            max_pages: 50,
        }),
        mrn_system: DEMO_MRN_SYSTEM.into(),
        ..RecordSettings::default()
    }
}

/// The portal's state reading from another source (same database, same item ids).
fn with_source(state: &AppState, settings: &RecordSettings) -> AppState {
    let mut other = state.clone();
    other.record = RecordSource::new(settings, state.sealing.subkey(app::platform::sealing::Purpose::RecordItemIds)).unwrap();
    other
}

fn tokens(state: &AppState) -> u64 {
    state.record.remote().unwrap().tokens_fetched()
}

async fn the_remote_source_reads_the_ehr_with_one_shared_token_and_pages(backend: Backend) {
    let (rsa, ec) = (rsa_key(), ec_key());
    let jwks = serde_json::json!({"keys": [rsa.public_jwk("rsa-1"), ec.public_jwk("ec-1")]});
    let loads = [demo_bundle("alice"), demo_bundle("robert"), demo_bundle("carol")];
    let Some(ehr) = FhirServer::start(&jwks, CLIENT_ID, &loads, &[]) else { return };
    // No token URL: found at the base's .well-known/smart-configuration.
    let settings = remote(&ehr.base, None, rsa.clone(), "rsa-1", Duration::from_secs(60));
    let portal = TestPortal::start_with(backend, |c| c.portal.record = settings.clone()).await;
    let state = &portal.state;
    let alice = reader(&portal, "alice").await;
    assert_eq!(tokens(state), 0);

    // A burst of first looks: one token for all of them, one link by record number.
    let mut looks = Vec::new();
    for _ in 0..12 {
        let (state, alice) = (state.clone(), alice.clone());
        looks.push(tokio::spawn(async move { record::open(&state, &alice, Section::Summary).await.map(|r| r.summary().current_medications.len()) }));
    }
    for look in looks {
        assert_eq!(look.await.unwrap().unwrap(), 5);
    }
    assert_eq!(tokens(state), 1, "concurrent requests share one token");
    let link = record::link_of(&state.db, &alice.patient).await.unwrap().unwrap();
    assert_eq!((link.fhir_patient_id.as_str(), link.how), ("alice", app::record::LinkHow::RecordNumber));

    // Everything, across pages: all 191 results and 62 vital signs, nothing of anyone else.
    let started = Instant::now();
    let r = record::open(state, &alice, Section::Everything).await.unwrap();
    eprintln!("the whole record from the FHIR test server: {:?}", started.elapsed());
    assert!(!r.incomplete);
    assert_eq!(r.test_results().all().len(), 191);
    assert_eq!(r.vitals().len(), 62);
    for e in r.entries() {
        assert!(!e.id.starts_with("robert") && !e.id.starts_with("carol"), "{}/{}", e.kind.as_str(), e.id);
        if e.kind.is_clinical() {
            assert_eq!(e.resource.patient_id(Some(&ehr.base)), Some("alice"));
        }
    }
    let a1c = r.test_results().result(&item(state, ResourceType::Observation, "alice-obs-20261123-a1c")).cloned().unwrap();
    assert_eq!((a1c.value.text(), a1c.flag), ("8.6 %".to_string(), Flag::High));
    let pdf = r.documents().into_iter().find(|d| d.content_type == "application/pdf").unwrap();
    assert!(record::document(state, &alice, &pdf.id).await.unwrap().unwrap().bytes.starts_with(b"%PDF"));
    // Robert is matched and read too; still the one token.
    let robert = reader(&portal, "robert").await;
    let his = record::open(state, &robert, Section::Everything).await.unwrap();
    assert!(his.entries().all(|e| !e.id.starts_with("alice")));
    assert_eq!(tokens(state), 1, "the token is reused until shortly before it expires");

    // ES384 with the registered P-384 key works the same.
    let es = with_source(state, &remote(&ehr.base, Some(&ehr.token_url), ec, "ec-1", Duration::from_secs(60)));
    assert_eq!(record::read(&es, &alice.patient, Section::Allergies).await.unwrap().allergies().items.len(), 2);

    // A key the EHR does not know: the typed error, which the page turns into words.
    let stranger = with_source(state, &remote(&ehr.base, Some(&ehr.token_url), rsa_key(), "rsa-1", Duration::from_secs(60)));
    let e = record::read(&stranger, &alice.patient, Section::Allergies).await.unwrap_err();
    assert!(matches!(e, RecordError::Unavailable(Unavailable::TokenRefused(401))), "{e:?}");
    assert_eq!(e.problem().map(|p| p.message()), Some("Your record cannot be shown right now. Please try again later."));
    let e = record::read(&stranger, &reader(&portal, "carol").await.patient, Section::Allergies).await.unwrap_err();
    assert!(matches!(e, RecordError::Unavailable(_)), "matching by record number needs the EHR too: {e:?}");

    // Nothing of the record reached the server's logs.
    let logs = captured_logs();
    for secret in ["Hemoglobin A1c", "alice-obs", "Penicillin", "Metformin", "Type 2 diabetes"] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
    drop(ehr);
    portal.stop().await;
}

/// A server on loopback that answers every request with 200 and something that is not FHIR.
async fn garbage_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let body = "<html>Sorry, the EHR is upgrading</html>";
                let _ = socket
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                            .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

async fn an_ehr_that_answers_garbage_or_stops_answering_gives_the_typed_error_in_time(backend: Backend) {
    let key = rsa_key();
    let jwks = serde_json::json!({"keys": [key.public_jwk("rsa-1")]});
    // Tokens that live 8 seconds, to see one renewed.
    let Some(ehr) = FhirServer::start(&jwks, CLIENT_ID, &[demo_bundle("alice")], &["--token-lifetime", "8"]) else { return };
    let timeout = Duration::from_secs(3);
    let settings = remote(&ehr.base, Some(&ehr.token_url), key.clone(), "rsa-1", timeout);
    let portal = TestPortal::start_with(backend, |c| c.portal.record = settings.clone()).await;
    let state = &portal.state;
    let alice = reader(&portal, "alice").await;

    record::read(state, &alice.patient, Section::Allergies).await.unwrap();
    record::read(state, &alice.patient, Section::Immunizations).await.unwrap();
    assert_eq!(tokens(state), 1);
    // Past four fifths of its life the token is renewed before it is used, not after a 401.
    tokio::time::sleep(Duration::from_millis(7_000)).await;
    assert_eq!(record::read(state, &alice.patient, Section::Allergies).await.unwrap().allergies().items.len(), 2);
    assert_eq!(tokens(state), 2);

    // The EHR stops answering (connections accepted, nothing said): the typed error within
    // the time-out, with a token in hand and without one.
    ehr.pause();
    let fresh = with_source(state, &settings);
    for (what, s) in [("with a token", state), ("fetching a token", &fresh)] {
        let started = Instant::now();
        let e = record::read(s, &alice.patient, Section::Allergies).await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(e, RecordError::Unavailable(Unavailable::TimedOut)), "{what}: {e:?}");
        assert!(took >= timeout - Duration::from_millis(100) && took < timeout + Duration::from_secs(2), "{what}: {took:?}");
    }
    ehr.resume();
    assert_eq!(record::read(state, &alice.patient, Section::Allergies).await.unwrap().allergies().items.len(), 2, "back when the EHR is");

    // Garbage where the token or the discovery document should be: the same typed error.
    let junk = garbage_server().await;
    let bad_token = with_source(state, &remote(&ehr.base, Some(&format!("{junk}/token")), key.clone(), "rsa-1", timeout));
    assert!(matches!(record::read(&bad_token, &alice.patient, Section::Allergies).await, Err(RecordError::Unavailable(Unavailable::Garbage))));
    let bad_base = with_source(state, &remote(&format!("{junk}/fhir"), None, key.clone(), "rsa-1", timeout));
    assert!(matches!(record::read(&bad_base, &alice.patient, Section::Allergies).await, Err(RecordError::Unavailable(Unavailable::Garbage))));
    // Nothing listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let nowhere = with_source(state, &remote(&format!("http://{closed}/fhir"), None, key, "rsa-1", timeout));
    assert!(matches!(record::read(&nowhere, &alice.patient, Section::Allergies).await, Err(RecordError::Unavailable(Unavailable::Unreachable))));
    drop(ehr);
    portal.stop().await;
}

/// The pages read the EHR as they read the portal's copy: Alice's Test Results come from the
/// FHIR server with the high A1c marked in words; when the EHR stops answering, the page says
/// so in words within the time-out, with nothing of the record on it; and it is back when the
/// EHR is.
async fn the_record_pages_read_the_ehr_and_say_when_it_does_not_answer(backend: Backend) {
    let key = rsa_key();
    let jwks = serde_json::json!({"keys": [key.public_jwk("rsa-1")]});
    let Some(ehr) = FhirServer::start(&jwks, CLIENT_ID, &[demo_bundle("alice")], &[]) else { return };
    let timeout = Duration::from_secs(3);
    let settings = remote(&ehr.base, Some(&ehr.token_url), key, "rsa-1", timeout);
    let portal = TestPortal::start_with(backend, |c| c.portal.record = settings.clone()).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let a1c = format!("id=\"result-{}\"", item(&portal.state, ResourceType::Observation, "alice-obs-20261123-a1c"));

    let r = alice.get("/record/results").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let card = &r.body[r.body.find(&a1c).expect("the A1c from the EHR is on the page")..];
    let card = &card[..card.find("</article>").unwrap()];
    assert!(card.contains("8.6 %") && card.contains(">High</strong>"), "{card}");
    let r = alice.get("/record/allergies").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("cannot be shown"), "{}", r.body);

    ehr.pause();
    let started = Instant::now();
    let r = alice.get("/record/results").await;
    let took = started.elapsed();
    assert!(r.body.contains("Your record cannot be shown right now. Please try again later."), "{}", r.body);
    assert!(!r.body.contains(&a1c) && !r.body.contains("Hemoglobin"), "nothing of the record");
    assert!(took < timeout + Duration::from_secs(3), "the page answers within the time-out: {took:?}");
    ehr.resume();
    let r = alice.get("/record/results").await;
    assert!(r.body.contains(&a1c), "back when the EHR is");
    drop(ehr);
    portal.stop().await;
}

on_both_databases!(
    the_record_pages_read_the_ehr_and_say_when_it_does_not_answer,
    import_is_all_or_nothing_and_each_refusal_names_the_resource,
    importing_the_same_ids_again_replaces_them,
    a_kept_record_is_read_again_after_an_import_on_any_server,
    a_patient_reads_their_own_record_and_nothing_of_anothers,
    staff_link_a_patients_record_and_no_two_patients_share_one,
    the_remote_source_reads_the_ehr_with_one_shared_token_and_pages,
    an_ehr_that_answers_garbage_or_stops_answering_gives_the_typed_error_in_time,
);
