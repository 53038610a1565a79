//! Passkeys against the running server, on both databases: adding one needs the password and
//! the confirmed warning; the options ask for a discoverable credential with user verification;
//! a ceremony works once and only for whoever began it; a forged answer signs no one in and is
//! audited; staff remove a patient's passkeys (and ending access does). (When a passkey is the
//! second step after a password: second_step.rs. The signatures and counters with a real
//! authenticator: end2end/tests/passkeys.spec.ts.)

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    assert_eq!(c.sign_in(login, DEMO_PASSWORD, kind).await.status, 302, "{login}");
    c
}

pub(crate) async fn on_localhost(backend: Backend) -> TestPortal {
    TestPortal::start_with(backend, |c| {
        let port = c.portal.public_url.port().unwrap_or(80);
        c.portal.public_url = url::Url::parse(&format!("http://localhost:{port}")).unwrap();
    })
    .await
}

pub(crate) async fn user_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap().get("id")
}

async fn fake_passkey(portal: &TestPortal, login: &str, n: usize) {
    let user = user_id(portal, login).await;
    for i in 0..n {
        sqlx::query("INSERT INTO passkeys (id, user_id, name, credential_id, passkey, created_at) VALUES ($1, $2, 'Phone', $3, '{}', 0)")
            .bind(app::platform::tokens::new_id())
            .bind(&user)
            .bind(format!("{login}-credential-{i}"))
            .execute(&portal.state.db.pool)
            .await
            .unwrap();
    }
}

async fn adding_needs_the_password_and_the_warning(backend: Backend) {
    let portal = on_localhost(backend).await;
    let carol = signed_in(&portal, "carol", "patient").await;
    let r = carol.post_form("/api/passkeys/prepare", &[("name", "Phone"), ("password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/account/passkeys?error=understood"));
    let r = carol.post_form("/api/passkeys/prepare", &[("name", "Phone"), ("password", "wrong"), ("understood", "yes")]).await;
    assert_eq!(r.location(), Some("/account/passkeys?error=password"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM webauthn_ceremonies").await, 0);
    let r = carol.post_form("/api/passkeys/prepare", &[("name", "Phone"), ("password", DEMO_PASSWORD), ("understood", "yes")]).await;
    let ceremony = r.location().unwrap().strip_prefix("/account/passkeys?adding=").expect("the page that creates it").to_string();

    // The options: a discoverable credential, user verification required, this portal's host.
    let view = carol.call_form("/api/passkeys/view", &[("adding", &ceremony)]).await;
    assert_eq!(view.status, 200);
    let view: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    let options: serde_json::Value = serde_json::from_str(view["adding"][1].as_str().unwrap()).unwrap();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");

    // Robert can neither see nor use nor spend Carol's ceremony.
    let robert = signed_in(&portal, "robert", "patient").await;
    let other = robert.call_form("/api/passkeys/view", &[("adding", &ceremony)]).await;
    let other: serde_json::Value = serde_json::from_str(&other.body).unwrap();
    assert!(other["adding"].is_null());
    assert_eq!(robert.call_form("/api/passkeys/finish-add", &[("ceremony", &ceremony), ("credential", "{}")]).await.status, 400);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM webauthn_ceremonies WHERE kind = 'register'").await, 1, "still Carol's");
    // A forged answer adds nothing, and the ceremony is spent.
    assert_eq!(carol.call_form("/api/passkeys/finish-add", &[("ceremony", &ceremony), ("credential", "{\"id\":\"x\"}")]).await.status, 400);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM webauthn_ceremonies").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM passkeys").await, 0);
    portal.stop().await;
}

async fn a_forged_sign_in_opens_nothing(backend: Backend) {
    let portal = on_localhost(backend).await;
    let anonymous = portal.client();
    let start = anonymous.call_form("/api/passkeys/sign-in-start", &[]).await;
    assert_eq!(start.status, 200, "{}", start.body);
    let start: serde_json::Value = serde_json::from_str(&start.body).unwrap();
    let ceremony = start["ceremony"].as_str().unwrap().to_string();
    let options: serde_json::Value = serde_json::from_str(start["options"].as_str().unwrap()).unwrap();
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options["publicKey"]["allowCredentials"].as_array().is_none_or(|a| a.is_empty()), "no user named");
    // A made-up assertion for one of Carol's credentials.
    fake_passkey(&portal, "carol", 1).await;
    let forged = serde_json::json!({
        "id": "carol-credential-0", "rawId": "carol-credential-0", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "e30", "signature": "AAAA", "userHandle": "AAAA"},
        "extensions": {}
    });
    let r = anonymous.call_form("/api/passkeys/sign-in-finish", &[("ceremony", &ceremony), ("credential", &forged.to_string()), ("portal", "patient")]).await;
    assert_eq!(r.status, 400);
    assert!(anonymous.jar_cookie("portal_session").is_none(), "no session");
    assert_eq!(anonymous.get("/home").await.location().map(|l| l.starts_with("/sign-in")), Some(true));
    // The ceremony was spent.
    let again =
        anonymous.call_form("/api/passkeys/sign-in-finish", &[("ceremony", &ceremony), ("credential", &forged.to_string()), ("portal", "patient")]).await;
    assert_eq!(again.status, 400);
    assert!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'passkey.sign-in-failed'").await >= 1);
    portal.stop().await;
}

async fn staff_remove_a_patient_s_passkeys(backend: Backend) {
    let portal = on_localhost(backend).await;
    fake_passkey(&portal, "carol", 2).await;
    let patient: String = sqlx::query("SELECT patient_id FROM users WHERE login = 'carol'").fetch_one(&portal.state.db.pool).await.unwrap().get("patient_id");
    let billing = signed_in(&portal, "billing", "staff").await;
    assert_eq!(billing.call_form("/api/passkeys/remove-for-patient", &[("patient", &patient)]).await.status, 403);
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let r = frontdesk.post_form("/api/passkeys/remove-for-patient", &[("patient", &patient)]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{patient}?passkeys=2").as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'passkey.removed'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'sign-in-methods-changed'").await, 1);
    // Ending access removes them too.
    fake_passkey(&portal, "carol", 1).await;
    let r = frontdesk.post_form("/api/access/terminate", &[("patient_id", &patient), ("reason", "asked by the patient")]).await;
    assert!(r.status == 302, "{}", r.body);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM passkeys").await, 0);
    // A patient removes only their own.
    fake_passkey(&portal, "robert", 1).await;
    let id: String = sqlx::query("SELECT id FROM passkeys").fetch_one(&portal.state.db.pool).await.unwrap().get("id");
    let alice = signed_in(&portal, "alice", "patient").await;
    assert_eq!(alice.call_form("/api/passkeys/remove", &[("id", &id)]).await.status, 404);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM passkeys").await, 1);
    portal.stop().await;
}

async fn passkeys_need_a_host_name(backend: Backend) {
    let portal = TestPortal::start(backend).await; // public URL http://127.0.0.1:…
    let carol = signed_in(&portal, "carol", "patient").await;
    let view = carol.call_form("/api/passkeys/view", &[]).await;
    let view: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    assert_eq!(view["available"], false);
    assert_eq!(portal.client().call_form("/api/passkeys/sign-in-start", &[]).await.status, 400);
    portal.stop().await;
}

/// Beginning a passkey sign-in needs no account and stores a ceremony: one address may begin
/// 120 an hour, and the next is refused without storing anything.
async fn passkey_sign_ins_begun_are_limited_per_address(backend: Backend) {
    let portal = on_localhost(backend).await;
    let anonymous = portal.client();
    for i in 0..120 {
        let r = anonymous.call_form("/api/passkeys/sign-in-start", &[]).await;
        assert_eq!(r.status, 200, "start {i}: {}", r.body);
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM webauthn_ceremonies").await, 120);
    let r = portal.client().call_form("/api/passkeys/sign-in-start", &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Too many passkey sign-ins"), "{}", r.body);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM webauthn_ceremonies").await, 120, "nothing stored");
    portal.stop().await;
}

on_both_databases!(
    passkey_sign_ins_begun_are_limited_per_address,
    adding_needs_the_password_and_the_warning,
    a_forged_sign_in_opens_nothing,
    staff_remove_a_patient_s_passkeys,
    passkeys_need_a_host_name,
    passkeys_sign_in_and_their_counters_are_checked,
);

/// A real ceremony from start to end with the software passkey: add, sign in with it alone,
/// the counter (a clone that went back is refused), the user handle (Carol's passkey presented
/// as Robert's is refused), removal.
async fn passkeys_sign_in_and_their_counters_are_checked(backend: Backend) {
    use crate::support::authenticator::SoftPasskey;
    let portal = on_localhost(backend).await;
    let port = portal.state.settings.public_url.port().unwrap();
    let mut device = SoftPasskey::new("localhost", &format!("http://localhost:{port}"));
    let carol = signed_in(&portal, "carol", "patient").await;
    let r = carol.post_form("/api/passkeys/prepare", &[("name", "Soft key"), ("password", DEMO_PASSWORD), ("understood", "yes")]).await;
    let ceremony = r.location().unwrap().strip_prefix("/account/passkeys?adding=").unwrap().to_string();
    let view: serde_json::Value = serde_json::from_str(&carol.call_form("/api/passkeys/view", &[("adding", &ceremony)]).await.body).unwrap();
    let options: serde_json::Value = serde_json::from_str(view["adding"][1].as_str().unwrap()).unwrap();
    let created = device.register(&options);
    let r = carol.call_form("/api/passkeys/finish-add", &[("ceremony", &ceremony), ("credential", &created.to_string())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM passkeys").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'passkey.added'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'sign-in-methods-changed'").await, 1);

    let sign_in = |answer: serde_json::Value, ceremony: String| {
        let c = portal.client();
        async move {
            c.get("/sign-in").await;
            let r = c.call_form("/api/passkeys/sign-in-finish", &[("ceremony", &ceremony), ("credential", &answer.to_string()), ("portal", "patient")]).await;
            (c, r)
        }
    };
    let challenge = || async {
        let r = portal.client().call_form("/api/passkeys/sign-in-start", &[]).await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        (v["ceremony"].as_str().unwrap().to_string(), serde_json::from_str::<serde_json::Value>(v["options"].as_str().unwrap()).unwrap())
    };

    // Signed in with the passkey alone.
    let (id, options) = challenge().await;
    let (c, r) = sign_in(device.sign_in(&options), id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "\"/home\"");
    assert_eq!(c.get("/home").await.status, 200);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'sign-in.succeeded' AND detail LIKE 'passkey%'").await, 1);
    // The portal's own pages are the patient's, not anyone else's.
    assert!(c.get("/account").await.body.contains("Carol"));

    // A clone that answers with the same counter: refused.
    let (id, options) = challenge().await;
    let (c, r) = sign_in(device.answer(&options, device.counter, &device.user_handle.clone()), id).await;
    assert_eq!(r.status, 400, "replayed counter");
    assert_ne!(c.get("/home").await.status, 200);
    // The same answer for a ceremony already used: refused.
    let (id, options) = challenge().await;
    let answer = device.sign_in(&options);
    let (_, r) = sign_in(answer.clone(), id.clone()).await;
    assert_eq!(r.status, 200);
    let (_, r) = sign_in(answer, id).await;
    assert_eq!(r.status, 400, "a ceremony works once");
    // Carol's passkey presented as Robert's: refused, whatever the signature.
    let robert = uuid_bytes(&user_id(&portal, "robert").await);
    let (id, options) = challenge().await;
    device.counter += 1;
    let (c, r) = sign_in(device.answer(&options, device.counter, &robert), id).await;
    assert_eq!(r.status, 400, "another user's handle");
    assert_ne!(c.get("/home").await.status, 200);
    assert!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'passkey.sign-in-failed'").await >= 2);

    // Removed: refused.
    let id: String = sqlx::query("SELECT id FROM passkeys").fetch_one(&portal.state.db.pool).await.unwrap().get("id");
    assert_eq!(carol.post_form("/api/passkeys/remove", &[("id", &id)]).await.location(), Some("/account/passkeys?removed=1"));
    let (ceremony, options) = challenge().await;
    let (_, r) = sign_in(device.sign_in(&options), ceremony).await;
    assert_eq!(r.status, 400);
    portal.stop().await;
}

fn uuid_bytes(hex_id: &str) -> Vec<u8> {
    (0..hex_id.len()).step_by(2).map(|i| u8::from_str_radix(&hex_id[i..i + 2], 16).unwrap()).collect()
}
