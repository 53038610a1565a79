//! The second sign-in step against the running server, on both databases: setup with the
//! password again and a confirming code, the code after the password (each code once, recovery
//! codes once each), nothing opens before the step, five wrong codes end the session, staff roles
//! that require it, audit entries and notices. Who is held after a password, and how they pass:
//! a password alone never opens an account with a second step (chosen, or required by a staff
//! role: a passkey is then one), the user's own passkey passes it (nobody else's), a passkey
//! sign-in is one step. Limits that hold when guesses arrive all at once: codes, and the password
//! typed again.

use crate::on_both_databases;
use crate::passkeys::{on_localhost, user_id};
use crate::support::authenticator::SoftPasskey;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use app::platform::now_ms;
use app::second_step::totp::{self, Secret};
use sqlx::Row;
use std::sync::Arc;

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

/// The user's secret as the server reads it. The database holds it sealed: never the secret
/// itself, and only for that user.
async fn secret_of(portal: &TestPortal, table: &str, login: &str) -> Secret {
    use app::second_step::server::open;
    use app::types::UserId;
    let sql = format!("SELECT t.user_id, t.secret_hex FROM {table} t JOIN users u ON u.id = t.user_id WHERE u.login = $1");
    let row = sqlx::query(&sql).bind(login).fetch_one(&portal.state.db.pool).await.unwrap();
    let (user, stored): (UserId, String) = (row.get("user_id"), row.get("secret_hex"));
    assert!(stored.starts_with("v1:"), "sealed: {stored}");
    assert!(Secret::from_hex(&stored).is_none());
    let secret = open(&portal.state.sealing, &user, &stored).expect("opens with the server's key");
    assert!(!stored.contains(&secret.to_hex()) && !stored.contains(&secret.base32()), "the secret is not in the clear");
    assert!(open(&portal.state.sealing, &UserId::new_random(), &stored).is_none(), "not for another user");
    secret
}

/// The app's code `step_offset` steps from the portal's time. The portals of these tests run on
/// a fixed clock (`start`), so "the current code" is the same however long a test takes: on the
/// wall clock a 30-second boundary falling between two computations made a replay look fresh.
fn code(portal: &TestPortal, secret: &Secret, step_offset: i64) -> String {
    format!("{:06}", totp::code_at(secret, totp::step_of(portal.state.clock.now_ms()) + step_offset))
}

/// A portal whose clock stands still, ten seconds into a code's 30-second step.
async fn start(backend: Backend) -> TestPortal {
    start_with(backend, |_| {}).await
}

async fn start_with(backend: Backend, adjust: impl FnOnce(&mut server::config::Config)) -> TestPortal {
    let at = now_ms() / 30_000 * 30_000 + 10_000;
    TestPortal::start_with(backend, |c| {
        c.clock = app::platform::clock::Clock::fixed_at(at);
        adjust(c);
    })
    .await
}

/// Signs in with the password; returns the client and where it was sent.
async fn password(portal: &TestPortal, login: &str, kind: &str) -> (Client, String) {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login}: {}", r.body);
    let to = r.location().unwrap_or_default().to_string();
    (c, to)
}

/// Turns the step on for a signed-in user through the pages' forms; returns the secret and the
/// recovery codes shown.
async fn turn_on(portal: &TestPortal, c: &Client, login: &str, page: &str) -> (Secret, Vec<String>) {
    let r = c.post_form("/api/second-step/begin", &[("password", "not my password")]).await;
    assert_eq!(r.location(), Some(format!("{page}?error=password").as_str()));
    assert_eq!(count(portal, "SELECT COUNT(*) FROM totp_setups").await, 0);
    let r = c.post_form("/api/second-step/begin", &[("password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some(format!("{page}#setup").as_str()));
    let secret = secret_of(portal, "totp_setups", login).await;
    let shown = c.get(page).await;
    assert!(shown.body.contains("<svg"), "the QR code is on the page");
    assert!(shown.body.contains(&secret.base32_grouped()), "and the key to type");
    let r = c.post_form("/api/second-step/confirm", &[("code", "000000")]).await;
    assert_eq!(r.location(), Some(format!("{page}?error=code#setup").as_str()));
    let r = c.post_form("/api/second-step/confirm", &[("code", &code(portal, &secret, 0))]).await;
    assert_eq!(r.location(), Some(format!("{page}?on=1").as_str()));
    let page_with_codes = c.get(&format!("{page}?on=1")).await;
    let codes: Vec<String> = page_with_codes
        .body
        .split("<code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .filter(|s| s.len() == 11 && s.as_bytes()[5] == b'-')
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown: {}", page_with_codes.body);
    let again = c.get(page).await;
    assert!(!again.body.contains(&codes[0]), "shown only once");
    assert_eq!(secret_of(portal, "totp_credentials", login).await, secret);
    (secret, codes)
}

async fn setup_and_sign_in_with_codes(backend: Backend) {
    let portal = start(backend).await;
    let (carol, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/home");
    let (secret, codes) = turn_on(&portal, &carol, "carol", "/account/second-step").await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.enabled'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'sign-in-methods-changed'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL").await, 10);
    let stored: Vec<String> =
        sqlx::query("SELECT code_hash FROM recovery_codes").fetch_all(&portal.state.db.pool).await.unwrap().iter().map(|r| r.get("code_hash")).collect();
    assert!(codes.iter().all(|c| !stored.contains(c) && !stored.contains(&c.replace('-', ""))), "stored as digests only");

    // The password alone opens nothing.
    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/sign-in/code");
    assert_eq!(c.get("/home").await.location(), Some("/sign-in/code"));
    assert_eq!(c.call_form("/api/messages/overview", &[]).await.status, 403);
    assert_eq!(c.call_form("/api/billing/accounts", &[]).await.status, 403);
    let r = c
        .post_form(
            "/api/account/change-password",
            &[("current_password", DEMO_PASSWORD), ("password", "a brand new pass phrase"), ("password_again", "a brand new pass phrase")],
        )
        .await;
    assert!(
        r.status == 403 || r.location().is_some_and(|l| l.starts_with("/sign-in/code")),
        "no password change before the code: {} {:?}",
        r.status,
        r.location()
    );
    // The code used to turn the step on cannot be used again, nor an older one; once the clock
    // has moved on to the next step, that step's code is accepted.
    let r = c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 0))]).await;
    assert_eq!(r.location(), Some("/sign-in/code?error=wrong"), "replay refused");
    let r = c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, -1))]).await;
    assert_eq!(r.location(), Some("/sign-in/code?error=wrong"), "an older code refused");
    portal.state.clock.advance(30_000);
    let r = c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 0))]).await;
    assert_eq!(r.location(), Some("/home"), "the next step's code accepted");
    assert_eq!(c.get("/home").await.status, 200);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.passed'").await, 1);

    // A recovery code works once.
    let (c, _) = password(&portal, "carol", "patient").await;
    let r = c.post_form("/api/second-step/code", &[("code", &codes[3].to_lowercase())]).await;
    assert_eq!(r.location(), Some("/home?recovery=1"));
    let (c, _) = password(&portal, "carol", "patient").await;
    let r = c.post_form("/api/second-step/code", &[("code", &codes[3])]).await;
    assert_eq!(r.location(), Some("/sign-in/code?error=wrong"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL").await, 9);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.recovery-code-used'").await, 1);

    // Turning it off needs the password again.
    let r = c.post_form("/api/second-step/code", &[("code", &codes[4])]).await;
    assert_eq!(r.location(), Some("/home?recovery=1"));
    let r = c.post_form("/api/second-step/off", &[("password", "wrong")]).await;
    assert_eq!(r.location(), Some("/account/second-step?error=password"));
    let r = c.post_form("/api/second-step/off", &[("password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/account/second-step?off=1"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM totp_credentials").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM recovery_codes").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.disabled'").await, 1);
    let (_, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/home", "no code asked any more");
    portal.stop().await;
}

async fn wrong_codes_end_the_session(backend: Backend) {
    let portal = start(backend).await;
    let (robert, _) = password(&portal, "robert", "patient").await;
    let (secret, _) = turn_on(&portal, &robert, "robert", "/account/second-step").await;
    let (c, to) = password(&portal, "robert", "patient").await;
    assert_eq!(to, "/sign-in/code");
    let wrong = format!("{:06}", (totp::code_at(&secret, totp::step_of(portal.state.clock.now_ms())) + 1) % 1_000_000);
    for _ in 0..4 {
        assert_eq!(c.post_form("/api/second-step/code", &[("code", &wrong)]).await.location(), Some("/sign-in/code?error=wrong"));
    }
    let r = c.post_form("/api/second-step/code", &[("code", &wrong)]).await;
    assert_eq!(r.location(), Some("/sign-in?error=code"));
    // The session is gone: even the right code now opens nothing.
    let r = c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await;
    assert_ne!(r.location(), Some("/home"));
    assert_eq!(c.get("/home").await.location().map(|l| l.starts_with("/sign-in")), Some(true));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.failed'").await, 5);
    // New sessions do not buy new guesses: after ten wrong codes in an hour, even the right code
    // is not checked.
    let (c, _) = password(&portal, "robert", "patient").await;
    for _ in 0..4 {
        assert_eq!(c.post_form("/api/second-step/code", &[("code", &wrong)]).await.location(), Some("/sign-in/code?error=wrong"));
    }
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &wrong)]).await.location(), Some("/sign-in?error=code"));
    let (c, _) = password(&portal, "robert", "patient").await;
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await.location(), Some("/sign-in?error=code"));
    assert_ne!(c.get("/home").await.status, 200);
    portal.stop().await;
}

async fn staff_roles_can_require_it(backend: Backend) {
    let portal = start(backend).await;
    let (admin, _) = password(&portal, "admin", "staff").await;
    // Only administrators set the requirement.
    let (drlee, _) = password(&portal, "drlee", "staff").await;
    assert_eq!(drlee.call_form("/api/second-step/policy", &[("clinician", "yes")]).await.status, 403);
    let r = admin.post_form("/api/second-step/policy", &[("clinician", "yes")]).await;
    assert_eq!(r.location(), Some("/staff/second-step?policy=1#policy"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.policy-changed'").await, 1);

    // A clinician without the step is led to set it up, and nothing else opens meanwhile.
    let (c, to) = password(&portal, "nursekim", "staff").await;
    assert_eq!(to, "/staff/second-step");
    assert_eq!(c.get("/staff/messages").await.location(), Some("/staff/second-step"));
    assert_eq!(c.call_form("/api/staff/messages/inbox", &[("filter", "all")]).await.status, 403);
    let (secret, _) = turn_on(&portal, &c, "nursekim", "/staff/second-step").await;
    assert_eq!(c.get("/staff/messages").await.status, 200, "set up: the inbox opens");
    let r = c.post_form("/api/second-step/off", &[("password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/staff/second-step?error=required"), "cannot be turned off while required");
    // Next time: the code.
    let (c, to) = password(&portal, "nursekim", "staff").await;
    assert_eq!(to, "/sign-in/code");
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await.location(), Some("/staff"));
    // Other roles are not asked.
    let (_, to) = password(&portal, "billing", "staff").await;
    assert_eq!(to, "/staff");
    portal.stop().await;
}

/// The secrets need the key they were sealed with: a secret stored in the clear (before sealing
/// began) is sealed at the next start and still gives the same codes, and a server started on
/// the same database with another key refuses to start.
async fn secrets_are_sealed_under_the_server_s_key(backend: Backend) {
    let portal = start(backend).await;
    let (carol, _) = password(&portal, "carol", "patient").await;
    let (secret, _) = turn_on(&portal, &carol, "carol", "/account/second-step").await;
    assert_eq!(secret_of(&portal, "totp_credentials", "carol").await, secret);
    // As an installation from before sealing kept it.
    sqlx::query("UPDATE totp_credentials SET secret_hex = $1").bind(secret.to_hex()).execute(&portal.state.db.pool).await.unwrap();

    let options = || leptos::prelude::LeptosOptions::builder().output_name("portal").site_root("target/site").build();
    let restarted = server::startup::state(&portal.config, options()).await.expect("same key: starts");
    assert_eq!(secret_of(&portal, "totp_credentials", "carol").await, secret, "sealed at start, same secret");
    drop(restarted);

    let mut other = portal.config.clone();
    other.secrets_key_file = portal.config.data_dir.join("another.key");
    std::fs::write(&other.secrets_key_file, format!("{}\n", app::platform::sealing::SealingKey::generate().to_hex())).unwrap();
    let refused = server::startup::state(&other, options()).await.err().expect("another key: refused").to_string();
    assert!(refused.contains("different key"), "{refused}");
    assert_eq!(secret_of(&portal, "totp_credentials", "carol").await, secret, "nothing changed");

    // The code still works with the server's own key.
    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/sign-in/code");
    let r = c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(c.get("/home").await.status, 200);
    portal.stop().await;
}

on_both_databases!(
    setup_and_sign_in_with_codes,
    wrong_codes_end_the_session,
    staff_roles_can_require_it,
    secrets_are_sealed_under_the_server_s_key,
    a_password_alone_never_opens_a_staff_account_whose_role_requires_a_second_step,
    a_patient_with_the_code_on_may_pass_with_their_passkey,
    a_passkey_sign_in_is_one_step,
    a_patient_with_only_a_passkey_signs_in_with_the_password,
    parallel_wrong_codes_cannot_pass_the_cap,
    parallel_password_again_guesses_are_throttled,
);

/// A device for passkeys on the test portal (a host name: passkeys refuse IP addresses).
fn device_for(portal: &TestPortal) -> SoftPasskey {
    let port = portal.state.settings.public_url.port().unwrap();
    SoftPasskey::new("localhost", &format!("http://localhost:{port}"))
}

/// Adds a passkey for the signed-in client through the page's forms (password again, the
/// warning, the device); returns the device that holds it.
async fn add_passkey(portal: &TestPortal, c: &Client, page: &str) -> SoftPasskey {
    let r = c.post_form("/api/passkeys/prepare", &[("name", "Phone"), ("password", DEMO_PASSWORD), ("understood", "yes")]).await;
    let ceremony = r.location().and_then(|l| l.strip_prefix(&format!("{page}?adding="))).expect("the page that creates it").to_string();
    let view: serde_json::Value = serde_json::from_str(&c.call_form("/api/passkeys/view", &[("adding", &ceremony)]).await.body).unwrap();
    let options: serde_json::Value = serde_json::from_str(view["adding"][1].as_str().unwrap()).unwrap();
    let mut device = device_for(portal);
    let r = c.call_form("/api/passkeys/finish-add", &[("ceremony", &ceremony), ("credential", &device.register(&options).to_string())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    device
}

/// "Use your passkey" on the second-step page: the challenge the held session is given.
async fn step_challenge(c: &Client) -> (String, serde_json::Value) {
    let r = c.call_form("/api/second-step/passkey-start", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    (v["ceremony"].as_str().unwrap().to_string(), serde_json::from_str(v["options"].as_str().unwrap()).unwrap())
}

/// What the device signed, sent back by the held session.
async fn answer_step(c: &Client, ceremony: &str, answer: &serde_json::Value) -> Reply {
    c.call_form("/api/second-step/passkey", &[("ceremony", ceremony), ("credential", &answer.to_string())]).await
}

/// "Sign in with a passkey" on a sign-in page: no user ID, no password.
async fn passkey_sign_in(portal: &TestPortal, device: &mut SoftPasskey, kind: &str) -> (Client, Reply) {
    let c = portal.client();
    c.get(if kind == "staff" { "/staff/sign-in" } else { "/sign-in" }).await;
    let start: serde_json::Value = serde_json::from_str(&c.call_form("/api/passkeys/sign-in-start", &[]).await.body).unwrap();
    let options: serde_json::Value = serde_json::from_str(start["options"].as_str().unwrap()).unwrap();
    let answer = device.sign_in(&options).to_string();
    let r = c.call_form("/api/passkeys/sign-in-finish", &[("ceremony", start["ceremony"].as_str().unwrap()), ("credential", &answer), ("portal", kind)]).await;
    (c, r)
}

/// The staff pages and server functions a session held for its second step must not reach.
async fn assert_held(c: &Client) {
    for page in ["/staff", "/staff/messages", "/staff/patients", "/staff/passkeys", "/staff/second-step"] {
        assert_eq!(c.get(page).await.location(), Some("/sign-in/code"), "{page}");
    }
    assert_eq!(c.call_form("/api/staff/messages/inbox", &[("filter", "all")]).await.status, 403);
    assert_eq!(c.call_form("/api/passkeys/view", &[]).await.status, 403);
    assert_eq!(c.call_form("/api/second-step/view", &[]).await.status, 403);
    // Nor add a passkey or an authenticator app of their own, which would be a way round.
    assert_eq!(c.call_form("/api/passkeys/prepare", &[("name", "Mine"), ("password", DEMO_PASSWORD), ("understood", "yes")]).await.status, 403);
    assert_eq!(c.call_form("/api/second-step/begin", &[("password", DEMO_PASSWORD)]).await.status, 403);
}

/// Whoever phishes the password of a clinician whose role requires a second step, and who chose
/// a passkey as that step, gets nothing with the password alone: the session is held (every page
/// leads to the step, every server function refuses), another account's passkey does not pass
/// it (nor sign that account in), failed answers count like wrong codes, and only the
/// clinician's own passkey opens the staff area.
async fn a_password_alone_never_opens_a_staff_account_whose_role_requires_a_second_step(backend: Backend) {
    let portal = on_localhost(backend).await;
    let (admin, _) = password(&portal, "admin", "staff").await;
    admin.post_form("/api/second-step/policy", &[("clinician", "yes")]).await;
    // Dr. Lee sets up a passkey at the first sign-in after the requirement (the setup step).
    let (drlee, to) = password(&portal, "drlee", "staff").await;
    assert_eq!(to, "/staff/second-step");
    assert_eq!(drlee.get("/staff/passkeys").await.status, 200, "the setup may add a passkey");
    let mut device = add_passkey(&portal, &drlee, "/staff/passkeys").await;
    assert_eq!(drlee.get("/staff/messages").await.status, 200, "set up: the inbox opens");
    // Carol (another account) has a passkey of her own.
    let (carol, _) = password(&portal, "carol", "patient").await;
    let mut carols = add_passkey(&portal, &carol, "/account/passkeys").await;

    // The password alone: held.
    let (c, to) = password(&portal, "drlee", "staff").await;
    assert_eq!(to, "/sign-in/code");
    assert_held(&c).await;
    // The step's page offers the passkey (no code: Dr. Lee has no authenticator app), and says
    // what to do without JavaScript.
    let page = c.get("/sign-in/code").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Use your passkey"), "{}", page.body);
    assert!(!page.body.contains("name=\"code\""), "no code form without an app");
    assert!(page.body.contains("A passkey needs JavaScript"), "{}", page.body);

    // The challenge allows Dr. Lee's passkeys only, with user verification.
    let (ceremony, options) = step_challenge(&c).await;
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    let own_id = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&device.credential_id)
    };
    assert_eq!(allowed, vec![own_id.as_str()]);
    // Carol's passkey, rightly signed by her device: refused, and Carol is not signed in.
    let carol_sessions =
        || async { count(&portal, &format!("SELECT COUNT(*) FROM sessions WHERE user_id = '{}' AND ended_at IS NULL", user_id(&portal, "carol").await)).await };
    let before = carol_sessions().await;
    let r = answer_step(&c, &ceremony, &carols.sign_in(&options)).await;
    assert_eq!(r.status, 400, "another account's passkey: {}", r.body);
    assert_eq!(carol_sessions().await, before, "nor is Carol signed in");
    assert_held(&c).await;
    assert_eq!(c.call_form("/api/account/overview", &[]).await.status, 403, "the session is not Carol's");
    // Carol's passkey presented as Dr. Lee's (his user handle): refused.
    let (ceremony, options) = step_challenge(&c).await;
    carols.counter += 1;
    let forged = carols.answer(&options, carols.counter, &device.user_handle.clone());
    assert_eq!(answer_step(&c, &ceremony, &forged).await.status, 400);
    // Dr. Lee's own device, but for a ceremony already spent: refused.
    let spent = device.sign_in(&options);
    assert_eq!(answer_step(&c, &ceremony, &spent).await.status, 400);
    assert_held(&c).await;
    // A code typed at the page (Dr. Lee has no app): refused, and it counts.
    assert_eq!(c.post_form("/api/second-step/code", &[("code", "123456")]).await.location(), Some("/sign-in/code?error=wrong"));
    // The fifth failure ends the session: failed passkey answers count like wrong codes.
    let (ceremony, options) = step_challenge(&c).await;
    let r = answer_step(&c, &ceremony, &carols.sign_in(&options)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "\"/staff/sign-in?error=code\"");
    assert_eq!(c.get("/staff/messages").await.location().map(|l| l.starts_with("/staff/sign-in")), Some(true));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.failed'").await, 5);

    // Dr. Lee, with the password and his passkey: in.
    let (c, to) = password(&portal, "drlee", "staff").await;
    assert_eq!(to, "/sign-in/code");
    let (ceremony, options) = step_challenge(&c).await;
    let r = answer_step(&c, &ceremony, &device.sign_in(&options)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "\"/staff\"");
    assert_eq!(c.get("/staff/messages").await.status, 200);
    assert_eq!(c.call_form("/api/staff/messages/inbox", &[("filter", "all")]).await.status, 200);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.passed' AND detail = 'passkey'").await, 1);
    // The answer works once.
    let r = answer_step(&c, &ceremony, &device.sign_in(&options)).await;
    assert_eq!(r.status, 403, "nothing waits for a step any more");
    portal.stop().await;
}

/// A patient who turned the code on and added a passkey is held after the password, and may
/// pass with either.
async fn a_patient_with_the_code_on_may_pass_with_their_passkey(backend: Backend) {
    let portal = on_localhost(backend).await;
    let (carol, _) = password(&portal, "carol", "patient").await;
    let mut device = add_passkey(&portal, &carol, "/account/passkeys").await;
    let (secret, _) = turn_on(&portal, &carol, "carol", "/account/second-step").await;

    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/sign-in/code");
    assert_eq!(c.get("/home").await.location(), Some("/sign-in/code"));
    assert_eq!(c.call_form("/api/messages/overview", &[]).await.status, 403);
    let page = c.get("/sign-in/code").await;
    assert!(page.body.contains("name=\"code\""), "the code form");
    assert!(page.body.contains("Or use your passkey"), "and the passkey");
    assert!(page.body.contains("enter a code from your app instead"), "without JavaScript: the code");
    let (ceremony, options) = step_challenge(&c).await;
    let r = answer_step(&c, &ceremony, &device.sign_in(&options)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "\"/home\"");
    assert_eq!(c.get("/home").await.status, 200);

    // Or the code.
    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/sign-in/code");
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await.location(), Some("/home"));
    portal.stop().await;
}

/// A passkey with user verification is both steps at once: from the sign-in page it opens the
/// account, for staff whose role requires a second step and for patients with the code on.
async fn a_passkey_sign_in_is_one_step(backend: Backend) {
    let portal = on_localhost(backend).await;
    let (admin, _) = password(&portal, "admin", "staff").await;
    admin.post_form("/api/second-step/policy", &[("clinician", "yes")]).await;
    let (drlee, _) = password(&portal, "drlee", "staff").await;
    let mut staff_device = add_passkey(&portal, &drlee, "/staff/passkeys").await;
    let (c, r) = passkey_sign_in(&portal, &mut staff_device, "staff").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "\"/staff\"");
    assert_eq!(c.get("/staff/messages").await.status, 200);

    let (carol, _) = password(&portal, "carol", "patient").await;
    let mut device = add_passkey(&portal, &carol, "/account/passkeys").await;
    turn_on(&portal, &carol, "carol", "/account/second-step").await;
    let (c, r) = passkey_sign_in(&portal, &mut device, "patient").await;
    assert_eq!(r.body, "\"/home\"");
    assert_eq!(c.get("/home").await.status, 200);
    portal.stop().await;
}

/// A patient's passkey without the code is a convenient way to sign in, not a second step: the
/// password alone still signs that patient in (as it does staff whose role requires nothing).
async fn a_patient_with_only_a_passkey_signs_in_with_the_password(backend: Backend) {
    let portal = on_localhost(backend).await;
    let (carol, _) = password(&portal, "carol", "patient").await;
    add_passkey(&portal, &carol, "/account/passkeys").await;
    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/home");
    assert_eq!(c.get("/home").await.status, 200);
    let (billing, _) = password(&portal, "billing", "staff").await;
    add_passkey(&portal, &billing, "/staff/passkeys").await;
    assert_eq!(password(&portal, "billing", "staff").await.1, "/staff", "no role requirement: not held");
    portal.stop().await;
}

/// The same browser (cookies and all), for sending many requests at once.
fn same_browser(c: &Client) -> Client {
    Client { http: c.http.clone(), base: c.base.clone(), jar: c.jar.clone() }
}

/// Sends `n` copies of a form post from `c` at the same moment; the replies.
async fn all_at_once(c: &Client, n: usize, path: &'static str, form: &[(&'static str, &str)]) -> Vec<Reply> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let form: Vec<(&'static str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (c, start, form) = (same_browser(c), start.clone(), form.clone());
        sent.spawn(async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            start.wait().await;
            c.post_form(path, &form).await
        });
    }
    sent.join_all().await
}

/// Wrong codes sent all at once are not all checked: of 40 from one held session at most its 5
/// are, and of 60 from three more sessions at most the account's 10 an hour in all; after that,
/// even the right code is not checked until the hour has passed.
async fn parallel_wrong_codes_cannot_pass_the_cap(backend: Backend) {
    let portal = start(backend).await;
    let (robert, _) = password(&portal, "robert", "patient").await;
    let (secret, _) = turn_on(&portal, &robert, "robert", "/account/second-step").await;
    let wrong = format!("{:06}", (totp::code_at(&secret, totp::step_of(portal.state.clock.now_ms())) + 500_000) % 1_000_000);
    let checked = || count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.failed' AND detail = 'wrong code'");

    let (c, to) = password(&portal, "robert", "patient").await;
    assert_eq!(to, "/sign-in/code");
    let replies = all_at_once(&c, 40, "/api/second-step/code", &[("code", &wrong)]).await;
    assert_eq!(checked().await, 5, "one session: its five");
    assert_eq!(replies.iter().filter(|r| r.location() == Some("/sign-in/code?error=wrong")).count(), 4);
    assert!(!replies.iter().any(|r| r.location() == Some("/home")), "none passed");
    assert_eq!(c.get("/home").await.location().map(|l| l.starts_with("/sign-in")), Some(true), "the session ended");

    // Three more sessions (whoever has the password can open them), all at once.
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (c, to) = password(&portal, "robert", "patient").await;
        assert_eq!(to, "/sign-in/code");
        sessions.push(c);
    }
    let form = [("code", wrong.as_str())];
    let (a, b, d) = tokio::join!(
        all_at_once(&sessions[0], 20, "/api/second-step/code", &form),
        all_at_once(&sessions[1], 20, "/api/second-step/code", &form),
        all_at_once(&sessions[2], 20, "/api/second-step/code", &form),
    );
    assert!(!a.iter().chain(&b).chain(&d).any(|r| r.location() == Some("/home")), "none passed");
    assert_eq!(checked().await, 10, "the account's ten an hour, across sessions");
    // The right code now: not checked.
    let (c, _) = password(&portal, "robert", "patient").await;
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&portal, &secret, 1))]).await.location(), Some("/sign-in?error=code"));
    assert_ne!(c.get("/home").await.status, 200);
    assert_eq!(checked().await, 10);
    portal.stop().await;
}

/// A stolen session cannot be used to guess the password through the forms that ask for it
/// again: of 40 wrong guesses sent at once at most the free five are checked, the right password
/// is then refused unchecked (whichever form it comes through) until the wait has passed, and
/// heard after it.
async fn parallel_password_again_guesses_are_throttled(backend: Backend) {
    use std::time::Duration;
    let portal = start_with(backend, |c| {
        c.portal.throttle.first_delay = Duration::from_secs(3);
        c.portal.throttle.max_delay = Duration::from_secs(6);
    })
    .await;
    let (carol, _) = password(&portal, "carol", "patient").await;
    let form = [("new_email", "thief@example.net"), ("current_password", "a guess")];
    let replies = all_at_once(&carol, 40, "/api/account/change-email", &form).await;
    let locations: Vec<_> = replies.iter().map(|r| r.location().unwrap_or_default().to_string()).collect();
    let checked = locations.iter().filter(|l| *l == "/account/email?error=current").count();
    assert_eq!(checked, portal.state.settings.throttle.free_failures as usize, "{locations:?}");
    assert!(locations.iter().all(|l| l == "/account/email?error=current" || l.starts_with("/account/email?error=throttled&wait=")), "{locations:?}");

    // The right password now, through any form that asks for it: refused unchecked.
    let right = carol.post_form("/api/account/change-email", &[("new_email", "carol.new@example.org"), ("current_password", DEMO_PASSWORD)]).await;
    assert!(right.location().unwrap().starts_with("/account/email?error=throttled"), "{:?}", right.location());
    let page = carol.get(right.location().unwrap()).await;
    assert!(page.body.contains("typed wrongly too many times"), "the page says why");
    let r = carol.post_form("/api/second-step/begin", &[("password", DEMO_PASSWORD)]).await;
    assert!(r.location().unwrap().starts_with("/account/second-step?error=throttled"), "{:?}", r.location());
    let r = carol.post_form("/api/passkeys/prepare", &[("name", "Phone"), ("password", DEMO_PASSWORD), ("understood", "yes")]).await;
    assert!(r.location().unwrap().starts_with("/account/passkeys?error=throttled"), "{:?}", r.location());
    let r = carol
        .post_form(
            "/api/account/change-password",
            &[("current_password", DEMO_PASSWORD), ("password", "a brand new pass phrase"), ("password_again", "a brand new pass phrase")],
        )
        .await;
    assert!(r.location().unwrap().starts_with("/account/password?error=throttled"), "{:?}", r.location());
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice LIKE 'email-change%'").await, 0, "nothing changed");
    // Each throttled answer checked nothing: five checks in all, all failed.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM guarded_checks WHERE kind = 'password-again'").await, 5);

    // After the wait (on the portal's clock, which stands still until moved), the right
    // password is heard.
    portal.state.clock.advance(3_500);
    let r = carol.post_form("/api/account/change-email", &[("new_email", "carol.new@example.org"), ("current_password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/account?done=email"));
    portal.stop().await;
}
