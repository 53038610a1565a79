//! New-result notices from the remote record source (SPEC R-REC-4; issue 15), on both
//! databases, against the real FHIR test server: the portal reads the EHR's feed of changed
//! results (every patient at once, ids and times only), keeps what concerns patients linked to
//! a portal account, and tells them as it tells of a result loaded into the embedded record:
//! one PHI-free notice a day, the same change read twice is news once, and an EHR that does not
//! answer delays the notice without losing it.

use crate::on_both_databases;
use crate::record::{observation, reader, remote, rsa_key, CLIENT_ID};
use crate::support::fhir_server::{demo_bundle, FhirServer};
use crate::support::{captured_logs, Backend, TestPortal};
use app::platform::clock::Clock;
use app::record::notices;
use app::record::server::{self as record, Section};
use app::record::smart::{self, SigningKey};
use std::time::Duration;

const DAY: i64 = 86_400_000;

/// Writes `resource` into the EHR as another system would (a token with write scope).
async fn ehr_put(ehr: &FhirServer, key: &SigningKey, resource: &serde_json::Value) {
    let http = reqwest::Client::new();
    let assertion = smart::client_assertion(key, "rsa-1", CLIENT_ID, &ehr.token_url, jiff::Timestamp::now().as_second()).unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "system/*.*"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion.as_str()),
    ];
    let token: serde_json::Value = serde_json::from_slice(&http.post(&ehr.token_url).form(&form).send().await.unwrap().bytes().await.unwrap()).unwrap();
    let token = token["access_token"].as_str().unwrap();
    let url = format!("{}/{}/{}", ehr.base, resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
    let r = http.put(&url).bearer_auth(token).header("content-type", "application/fhir+json").body(resource.to_string()).send().await.unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

async fn scalar(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap()
}

async fn notices_to(portal: &TestPortal, login: &str) -> i64 {
    scalar(portal, "SELECT COUNT(*) FROM outbox o JOIN users u ON u.email = o.recipient WHERE o.notice = 'new-in-record' AND u.login = $1", login).await
}

async fn a_new_result_in_the_ehr_is_told_once_a_day_from_its_feed(backend: Backend) {
    let key = rsa_key();
    let jwks = serde_json::json!({"keys": [key.public_jwk("rsa-1")]});
    let Some(ehr) = FhirServer::start(&jwks, CLIENT_ID, &[demo_bundle("alice"), demo_bundle("robert")], &[]) else { return };
    // After the EHR loaded its record: what it holds now is not new. The portal's clock is the
    // real one's time, fixed, since the EHR stamps changes with the real time.
    let start = jiff::Timestamp::now().as_millisecond() + 1_000;
    let settings = remote(&ehr.base, Some(&ehr.token_url), key.clone(), "rsa-1", Duration::from_secs(3));
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.record = settings.clone();
        c.clock = Clock::fixed_at(start);
    })
    .await;
    let state = &portal.state;
    // Alice opens her record (linked by record number); Robert never has, so he is not linked.
    record::open(state, &reader(&portal, "alice").await, Section::Summary).await.unwrap();
    notices::run(state).await.unwrap(); // the feed starts now; Alice is met: from now on
    assert_eq!(scalar(&portal, "SELECT COUNT(*) FROM record_feed WHERE resource_type <> $1", "").await, 2, "one mark per result type");
    assert_eq!(notices_to(&portal, "alice").await, 0, "nothing the EHR held before is new");

    // The lab sends a result for each of them.
    tokio::time::sleep(Duration::from_millis(1_100)).await; // past the feed's start, in real time
    state.clock.advance(60_000);
    ehr_put(&ehr, &key, &observation("alice-feed-1", "Patient/alice", 250.0)).await;
    ehr_put(&ehr, &key, &observation("robert-feed-1", "Patient/robert", 90.0)).await;
    // Two servers' passes at once: one notice.
    let (a, b) = tokio::join!(notices::run(state), notices::run(state));
    a.unwrap();
    b.unwrap();
    assert_eq!(notices_to(&portal, "alice").await, 1, "Alice is told");
    assert_eq!(scalar(&portal, "SELECT COUNT(*) FROM record_changes WHERE fhir_patient_id = $1", "robert").await, 0, "nothing kept of a patient not linked");
    assert_eq!(notices_to(&portal, "robert").await, 0);
    let payload: Option<String> = sqlx::query_scalar("SELECT payload FROM outbox WHERE notice = 'new-in-record'").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(payload, None, "the notice carries nothing but its kind");

    // The same change read again (the feed starts at its mark, inclusive) is not news; a
    // second result the same day waits for tomorrow.
    state.clock.advance(60_000);
    notices::run(state).await.unwrap();
    let noted: i64 = scalar(&portal, "SELECT MAX(changed_at) FROM record_changes WHERE fhir_patient_id = $1", "alice").await;
    assert_eq!(noted, start + 60_000, "the change is noted once, when it was first read");
    ehr_put(&ehr, &key, &observation("alice-feed-2", "Patient/alice", 260.0)).await;
    notices::run(state).await.unwrap();
    assert_eq!(notices_to(&portal, "alice").await, 1, "at most one a day");

    // The EHR stops answering: the pass ends without a notice and without moving the mark…
    let mark: String = sqlx::query_scalar("SELECT through FROM record_feed WHERE resource_type = 'Observation'").fetch_one(&state.db.pool).await.unwrap();
    state.clock.advance(DAY);
    ehr.pause();
    let started = std::time::Instant::now();
    notices::run(state).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "bounded by the source's time-out: {:?}", started.elapsed());
    ehr.resume();
    let after: String = sqlx::query_scalar("SELECT through FROM record_feed WHERE resource_type = 'Observation'").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(after, mark);
    // …and the next pass tells what was still unseen.
    ehr_put(&ehr, &key, &observation("alice-feed-3", "Patient/alice", 270.0)).await;
    state.clock.advance(60_000);
    notices::run(state).await.unwrap();
    assert_eq!(notices_to(&portal, "alice").await, 2, "the next day's notice");

    let logs = captured_logs();
    for secret in ["alice-feed", "robert-feed", "Glucose"] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
    drop(ehr);
    portal.stop().await;
}

on_both_databases!(a_new_result_in_the_ehr_is_told_once_a_day_from_its_feed);
