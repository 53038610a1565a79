//! Activation codes (SPEC R-ENR-3): high entropy, shown once, stored hashed, single use, bound to
//! the patient, limited in tries and time, revocable and re-issuable.

use crate::enrolment::{
    approval_form, approve, complete, find_code, issue_code, mail_to, mails_to, outbox_drained, patient_by_mrn, request_access, request_id, staff,
    terms_in_force, verify, Person, DORA, STRONG_PASSWORD,
};
use crate::on_both_databases;
use crate::support::{Backend, TestPortal};
use sqlx::Row;
use std::collections::HashSet;

const NOMATCH: &str = "/activate?error=nomatch";

async fn code_rows(portal: &TestPortal, patient: &str) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT id, state, tries_left FROM activation_codes WHERE patient_id = $1 ORDER BY issued_at, id")
        .bind(patient)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
}

async fn codes_are_random_distinct_and_stored_only_as_digests(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let mut codes = Vec::new();
    for _ in 0..200 {
        codes.push(issue_code(&desk, &dora).await);
    }
    let alphabet = app::enrolment::code::ALPHABET;
    for c in &codes {
        assert_eq!(c.len(), 17, "{c}");
        let groups: Vec<&str> = c.split('-').collect();
        assert_eq!(groups.len(), 3, "XXXXX-XXXXX-XXXXX: {c}");
        assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| alphabet.contains(&b))), "{c}");
    }
    assert_eq!(alphabet.len(), 32);
    assert!(app::enrolment::code::entropy_bits() >= 75.0);
    let distinct: HashSet<&String> = codes.iter().collect();
    assert_eq!(distinct.len(), 200, "200 codes, all different");
    // Every symbol of the alphabet turns up in 3000 random symbols (each is missed with
    // probability (31/32)^3000 ≈ 1e-41): the codes use all of it.
    let used: HashSet<u8> = codes.iter().flat_map(|c| c.bytes()).filter(|b| *b != b'-').collect();
    assert_eq!(used.len(), 32);

    // Each re-issue replaced the one before: one code works.
    let rows = code_rows(&portal, &dora).await;
    assert_eq!(rows.len(), 200);
    assert_eq!(rows.iter().filter(|r| r.1 == "active").count(), 1);
    assert_eq!(rows.iter().filter(|r| r.1 == "replaced").count(), 199);

    // What the database keeps: a SHA-256-sized digest, never the code.
    let all = sqlx::query(
        "SELECT id, patient_id, code_hash, enrolment_request_id, issued_by, state, claim_hash, \
         issued_at, expires_at, tries_left, ended_at, claim_expires_at FROM activation_codes",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let canonical: Vec<String> = codes.iter().map(|c| c.replace('-', "")).collect();
    let mut hashes = HashSet::new();
    for row in &all {
        let hash: String = row.get("code_hash");
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{hash}");
        hashes.insert(hash);
        let mut text = String::new();
        for col in ["id", "patient_id", "code_hash", "state"] {
            text.push_str(&row.get::<String, _>(col));
            text.push('|');
        }
        for col in ["enrolment_request_id", "issued_by", "claim_hash"] {
            text.push_str(&row.get::<Option<String>, _>(col).unwrap_or_default());
            text.push('|');
        }
        let upper = text.to_uppercase();
        for (shown, plain) in codes.iter().zip(&canonical) {
            assert!(!upper.contains(shown.as_str()) && !upper.contains(plain.as_str()), "a code is stored as text: {text}");
        }
    }
    assert_eq!(hashes.len(), 200);
    // Nor does it reach the audit trail, the outbox (codes handed over are not mailed) or the logs.
    let details: Vec<Option<String>> = sqlx::query_scalar("SELECT detail FROM audit_log").fetch_all(pool).await.unwrap();
    let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE notice = 'activation-code'").fetch_one(pool).await.unwrap();
    assert_eq!(outbox, 0);
    // The server's logs (the test's own HTTP client logs the cookies it stores: not those).
    let logs: String = crate::support::captured_logs().lines().filter(|l| !l.contains("cookie_store::")).collect::<Vec<_>>().join("\n");
    for (shown, plain) in codes.iter().zip(&canonical) {
        assert!(details.iter().flatten().all(|d| !d.contains(shown.as_str()) && !d.contains(plain.as_str())));
        if let Some(at) = logs.find(shown.as_str()).or_else(|| logs.find(plain.as_str())) {
            let start = logs[..at].rfind('\n').unwrap_or(0);
            let end = logs[at..].find('\n').map(|e| at + e).unwrap_or(logs.len());
            panic!("a code reached the logs: {}", &logs[start..end]);
        }
    }
    // The latest code works, an earlier one does not.
    let c = portal.client();
    assert_eq!(verify(&c, &codes[198], DORA.dob).await.location(), Some(NOMATCH), "a replaced code no longer works");
    assert_eq!(verify(&c, &codes[199], DORA.dob).await.location(), Some("/activate/account"));
    portal.stop().await;
}

async fn a_code_works_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let first = portal.client();
    assert_eq!(verify(&first, &code, DORA.dob).await.location(), Some("/activate/account"));
    let claim = first.jar_cookie("portal_activation").expect("the activation cookie");
    assert_eq!(complete(&first, "dora.m", STRONG_PASSWORD, DORA.email, true).await.location(), Some("/home?welcome=1"));
    assert_eq!(code_rows(&portal, &dora).await[0].1, "used");

    let second = portal.client();
    let again = verify(&second, &code, DORA.dob).await;
    assert_eq!(again.location(), Some(NOMATCH), "a used code is refused");
    assert!(second.jar_cookie("portal_activation").is_none());
    // Replaying the finished activation's cookie makes no second account.
    let replay = portal.client();
    let url = url::Url::parse(&portal.base).unwrap();
    let cookie = sqlx::query_scalar::<_, Option<String>>("SELECT claim_hash FROM activation_codes").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(cookie, None, "the claim is cleared when the account is made");
    replay.jar.add_cookie_str(&format!("portal_activation={claim}"), &url);
    assert_eq!(complete(&replay, "dora.two", STRONG_PASSWORD, DORA.email, true).await.location(), Some("/activate?error=timeout"));
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE patient_id = $1").bind(&dora).fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(accounts, 1);
    portal.stop().await;
}

/// Two browsers that both matched the code: only one account is made.
async fn two_open_activations_of_one_code_make_one_account(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let a = portal.client();
    let b = portal.client();
    assert_eq!(verify(&a, &code, DORA.dob).await.location(), Some("/activate/account"));
    assert_eq!(verify(&b, &code, DORA.dob).await.location(), Some("/activate/account"));
    let ra = complete(&a, "dora.a", STRONG_PASSWORD, DORA.email, true).await;
    let rb = complete(&b, "dora.b", STRONG_PASSWORD, DORA.email, true).await;
    let ok = [&ra, &rb].iter().filter(|r| r.location() == Some("/home?welcome=1")).count();
    assert_eq!(ok, 1, "{:?} {:?}", ra.location(), rb.location());
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE patient_id = $1").bind(&dora).fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(accounts, 1);
    portal.stop().await;
}

async fn an_expired_code_is_refused(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.accounts.activation_code_lifetime = std::time::Duration::from_secs(3 * 86_400)).await;
    let pool = &portal.state.db.pool;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let before = app::platform::now_ms();
    let code = issue_code(&desk, &dora).await;
    let (issued, expires): (i64, i64) = sqlx::query_as("SELECT issued_at, expires_at FROM activation_codes").fetch_one(pool).await.unwrap();
    assert!(issued >= before);
    assert_eq!(expires - issued, 3 * 86_400_000, "the configured lifetime");

    // A code matched in time, whose time then runs out before the account is made.
    let slow = portal.client();
    assert_eq!(verify(&slow, &code, DORA.dob).await.location(), Some("/activate/account"));
    sqlx::query("UPDATE activation_codes SET expires_at = $1").bind(app::platform::now_ms() - 1).execute(pool).await.unwrap();
    assert_eq!(complete(&slow, "dora.m", STRONG_PASSWORD, DORA.email, true).await.location(), Some("/activate?error=timeout"));
    let c = portal.client();
    assert_eq!(verify(&c, &code, DORA.dob).await.location(), Some("/activate?error=expired"));
    assert!(c.jar_cookie("portal_activation").is_none());
    assert_eq!(verify(&c, &code, "1952-06-19").await.location(), Some(NOMATCH), "only the right birth date learns it expired");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE patient_id = $1").bind(&dora).fetch_one(pool).await.unwrap();
    assert_eq!(users, 0);
    // The staff page says so.
    let detail = desk.call_form("/api/patients/detail", &[("id", &dora)]).await;
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    assert_eq!(detail["codes"][0]["state"], "expired");
    portal.stop().await;
}

async fn wrong_birth_dates_use_up_the_code(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.accounts.activation_code_tries = 3).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    assert_eq!(code_rows(&portal, &dora).await[0].2, 3);
    let c = portal.client();
    for (i, wrong) in ["1952-06-19", "1953-06-18", "1952-18-06"].into_iter().enumerate() {
        let r = verify(&c, &code, wrong).await;
        assert_eq!(r.location(), Some(NOMATCH), "try {i}");
        assert!(c.jar_cookie("portal_activation").is_none());
    }
    let rows = code_rows(&portal, &dora).await;
    assert_eq!(rows[0].1, "exhausted");
    assert_eq!(rows[0].2, 0);

    // Even the right birth date now gets the answer an unknown code gets.
    let right = verify(&c, &code, DORA.dob).await;
    let unknown = verify(&portal.client(), "ABCDE-FGHJK-MNPQR", DORA.dob).await;
    let not_a_code = verify(&portal.client(), "hello", DORA.dob).await;
    assert_eq!(right.location(), Some(NOMATCH));
    for other in [&unknown, &not_a_code] {
        assert_eq!(right.status, other.status);
        assert_eq!(right.location(), other.location());
        assert_eq!(right.body, other.body);
    }
    assert!(c.jar_cookie("portal_activation").is_none());
    let failures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'activation.failed'").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(failures, 6, "every failed attempt is recorded");
    // A new code from the front desk works.
    let fresh = issue_code(&desk, &dora).await;
    assert_eq!(verify(&c, &fresh, DORA.dob).await.location(), Some("/activate/account"));
    portal.stop().await;
}

async fn staff_can_revoke_and_reissue_a_code(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let first = issue_code(&desk, &dora).await;
    let second = issue_code(&desk, &dora).await;
    assert_ne!(first, second);
    let rows = code_rows(&portal, &dora).await;
    assert_eq!((rows[0].1.as_str(), rows[1].1.as_str()), ("replaced", "active"));
    let c = portal.client();
    assert_eq!(verify(&c, &first, DORA.dob).await.location(), Some(NOMATCH), "re-issuing replaces the old code");

    // A code revoked after it matched stops the activation.
    assert_eq!(verify(&c, &second, DORA.dob).await.location(), Some("/activate/account"));
    let r = desk.post_form("/api/patients/revoke-code", &[("patient_id", &dora), ("code_id", &rows[1].0)]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{dora}?done=revoked").as_str()));
    assert_eq!(code_rows(&portal, &dora).await[1].1, "revoked");
    assert_eq!(complete(&c, "dora.m", STRONG_PASSWORD, DORA.email, true).await.location(), Some("/activate?error=timeout"));
    assert_eq!(verify(&portal.client(), &second, DORA.dob).await.location(), Some(NOMATCH));
    let desk_id = crate::enrolment::user_id_of(&portal, "frontdesk").await;
    let revoked_by: Option<String> =
        sqlx::query_scalar("SELECT actor_id FROM audit_log WHERE action = 'activation-code.revoked'").fetch_one(pool).await.unwrap();
    assert_eq!(revoked_by, Some(desk_id));

    // Another record's code cannot be revoked through this patient's page.
    let third = issue_code(&desk, &dora).await;
    let third_id = code_rows(&portal, &dora).await[2].0.clone();
    let ewan = patient_by_mrn(&portal, "MRN100005").await;
    desk.post_form("/api/patients/revoke-code", &[("patient_id", &ewan), ("code_id", &third_id)]).await;
    assert_eq!(code_rows(&portal, &dora).await[2].1, "active");

    // The code is bound to its patient: Ewan's birth date does not open Dora's code.
    assert_eq!(verify(&portal.client(), &third, "1979-01-25").await.location(), Some(NOMATCH));
    // A re-issued code works to the end.
    let d = portal.client();
    assert_eq!(verify(&d, &third, DORA.dob).await.location(), Some("/activate/account"));
    assert_eq!(complete(&d, "dora.m", STRONG_PASSWORD, DORA.email, true).await.location(), Some("/home?welcome=1"));
    // The page that showed it does not show it again, and the patient page lists no code text.
    let page = desk.get(&format!("/staff/patients/{dora}")).await;
    assert_eq!(page.status, 200);
    for c in [&first, &second, &third] {
        assert!(!page.body.contains(c.as_str()));
    }
    assert!(find_code(&page.body).is_none());
    portal.stop().await;
}

/// Issue 14, point 2, on the patient page: a code issued or issued again goes by e-mail only to
/// the address on the record. A request linked to a record without an address does not give it
/// one (the next code issued would otherwise go to whoever asked).
async fn reissue_a_request_with_another_address_never_gets_the_code_by_email(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    let desk = staff(&portal, "frontdesk").await;
    const IMPOSTOR: &str = "not.ewan@mailbox.test";
    let impostor = Person { given: "Ewan", family: "Brooks", dob: "1979-01-25", email: IMPOSTOR };
    let ewan = patient_by_mrn(&portal, "MRN100005").await;
    assert_eq!(request_access(&portal.client(), &impostor, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, IMPOSTOR).await;

    // The record has no address: the page says so, and offers no e-mail for it.
    let page = desk.get(&format!("/staff/enrolment/{request}")).await;
    assert!(page.body.contains("This record has no e-mail address"), "{}", page.body);
    assert!(page.body.contains("Do not send the code to the address in the request"));
    let form = approval_form(&page.body, &ewan);
    assert!(!form.contains("email_code"), "no e-mail to offer: {form}");

    // A forged form asks for e-mail anyway: the code is issued and shown, e-mailed to nobody.
    let forged = approve(&desk, &request, &ewan, true).await;
    assert_eq!(forged.location(), Some(format!("/staff/patients/{ewan}/code").as_str()), "{}", forged.body);
    let shown = desk.get(forged.location().unwrap()).await;
    assert!(find_code(&shown.body).is_some());
    assert!(shown.body.contains("Hand the code over in one of these ways instead"), "{}", shown.body);
    let on_record: Option<String> = sqlx::query_scalar("SELECT email FROM patients WHERE id = $1").bind(&ewan).fetch_one(pool).await.unwrap();
    assert!(on_record.unwrap_or_default().is_empty(), "the request's address is not written into the record");

    // Issued again from the patient's page, with e-mail asked for: still to nobody.
    let patient_page = desk.get(&format!("/staff/patients/{ewan}")).await;
    assert!(patient_page.body.contains("Hand the code over in one of these ways instead"), "{}", patient_page.body);
    assert!(!patient_page.body.contains("name=\"email_code\""), "no address, no e-mail offered");
    let again = desk.post_form("/api/patients/issue-code", &[("patient_id", &ewan), ("email_code", "yes")]).await;
    assert_eq!(again.location(), Some(format!("/staff/patients/{ewan}/code").as_str()));

    // Dora, after a request with another address was linked to her record: the patient page
    // e-mails the code to her record's address, when ticked, and only there.
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let dora_impostor = Person { email: IMPOSTOR, ..DORA };
    assert_eq!(request_access(&portal.client(), &dora_impostor, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, IMPOSTOR).await;
    assert_eq!(approve(&desk, &request, &dora, false).await.location(), Some(format!("/staff/patients/{dora}/code").as_str()));
    let patient_page = desk.get(&format!("/staff/patients/{dora}")).await;
    assert!(patient_page.body.contains(&format!("to the address on the record, {}", DORA.email)), "{}", patient_page.body);
    assert!(!patient_page.body.contains(IMPOSTOR));
    let r = desk.post_form("/api/patients/issue-code", &[("patient_id", &dora), ("email_code", "yes")]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{dora}/code?emailed=1").as_str()));
    mail_to(&portal, DORA.email, "activation code", 15).await;

    outbox_drained(&portal).await;
    assert!(mails_to(&portal, IMPOSTOR).is_empty(), "nothing reached the requests' address");
    let recipients: Vec<String> = sqlx::query_scalar("SELECT recipient FROM outbox WHERE notice = 'activation-code'").fetch_all(pool).await.unwrap();
    assert_eq!(recipients, vec![DORA.email.to_string()]);
    portal.stop().await;
}

on_both_databases!(
    codes_are_random_distinct_and_stored_only_as_digests,
    a_code_works_once,
    two_open_activations_of_one_code_make_one_account,
    an_expired_code_is_refused,
    wrong_birth_dates_use_up_the_code,
    staff_can_revoke_and_reissue_a_code,
    reissue_a_request_with_another_address_never_gets_the_code_by_email,
);
