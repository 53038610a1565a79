//! The authenticator-app second step against the running server, on both databases: setup with
//! the password again and a confirming code, the code after the password (each code once,
//! recovery codes once each), nothing opens before the code, five wrong codes end the session,
//! staff roles that require it, audit entries and notices.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::platform::now_ms;
use app::second_step::totp::{self, Secret};
use sqlx::Row;

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
    let (user, stored): (String, String) = (row.get("user_id"), row.get("secret_hex"));
    assert!(stored.starts_with("v1:"), "sealed: {stored}");
    assert!(Secret::from_hex(&stored).is_none());
    let secret = open(&portal.state.sealing, &UserId(user.clone()), &stored).expect("opens with the server's key");
    assert!(!stored.contains(&secret.to_hex()) && !stored.contains(&secret.base32()), "the secret is not in the clear");
    assert!(open(&portal.state.sealing, &UserId(format!("{user}-other")), &stored).is_none(), "not for another user");
    secret
}

fn code(secret: &Secret, step_offset: i64) -> String {
    format!("{:06}", totp::code_at(secret, totp::step_of(now_ms()) + step_offset))
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
    let r = c.post_form("/api/second-step/confirm", &[("code", &code(&secret, 0))]).await;
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
    let portal = TestPortal::start(backend).await;
    let (carol, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/home");
    let (secret, codes) = turn_on(&portal, &carol, "carol", "/account/second-step").await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'second-step.enabled'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'sign-in-methods-changed'").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL").await, 10);
    let stored: Vec<String> = sqlx::query("SELECT code_hash FROM recovery_codes").fetch_all(&portal.state.db.pool).await.unwrap().iter().map(|r| r.get("code_hash")).collect();
    assert!(codes.iter().all(|c| !stored.contains(c) && !stored.contains(&c.replace('-', ""))), "stored as digests only");

    // The password alone opens nothing.
    let (c, to) = password(&portal, "carol", "patient").await;
    assert_eq!(to, "/sign-in/code");
    assert_eq!(c.get("/home").await.location(), Some("/sign-in/code"));
    assert_eq!(c.call_form("/api/messages/overview", &[]).await.status, 403);
    assert_eq!(c.call_form("/api/billing/accounts", &[]).await.status, 403);
    let r = c.post_form("/api/account/change-password", &[("current_password", DEMO_PASSWORD), ("password", "a brand new pass phrase"), ("password_again", "a brand new pass phrase")]).await;
    assert!(r.status == 403 || r.location().is_some_and(|l| l.starts_with("/sign-in/code")), "no password change before the code: {} {:?}", r.status, r.location());
    // The code used to turn the step on cannot be used again; the next one can.
    let r = c.post_form("/api/second-step/code", &[("code", &code(&secret, 0))]).await;
    assert_eq!(r.location(), Some("/sign-in/code?error=wrong"), "replay refused");
    let r = c.post_form("/api/second-step/code", &[("code", &code(&secret, 1))]).await;
    assert_eq!(r.location(), Some("/home"));
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
    let portal = TestPortal::start(backend).await;
    let (robert, _) = password(&portal, "robert", "patient").await;
    let (secret, _) = turn_on(&portal, &robert, "robert", "/account/second-step").await;
    let (c, to) = password(&portal, "robert", "patient").await;
    assert_eq!(to, "/sign-in/code");
    let wrong = format!("{:06}", (totp::code_at(&secret, totp::step_of(now_ms())) + 1) % 1_000_000);
    for _ in 0..4 {
        assert_eq!(c.post_form("/api/second-step/code", &[("code", &wrong)]).await.location(), Some("/sign-in/code?error=wrong"));
    }
    let r = c.post_form("/api/second-step/code", &[("code", &wrong)]).await;
    assert_eq!(r.location(), Some("/sign-in?error=code"));
    // The session is gone: even the right code now opens nothing.
    let r = c.post_form("/api/second-step/code", &[("code", &code(&secret, 1))]).await;
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
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&secret, 1))]).await.location(), Some("/sign-in?error=code"));
    assert_ne!(c.get("/home").await.status, 200);
    portal.stop().await;
}

async fn staff_roles_can_require_it(backend: Backend) {
    let portal = TestPortal::start(backend).await;
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
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &code(&secret, 1))]).await.location(), Some("/staff"));
    // Other roles are not asked.
    let (_, to) = password(&portal, "billing", "staff").await;
    assert_eq!(to, "/staff");
    portal.stop().await;
}

/// The secrets need the key they were sealed with: a secret stored in the clear (before sealing
/// began) is sealed at the next start and still gives the same codes, and a server started on
/// the same database with another key refuses to start.
async fn secrets_are_sealed_under_the_server_s_key(backend: Backend) {
    let portal = TestPortal::start(backend).await;
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
    let r = c.post_form("/api/second-step/code", &[("code", &code(&secret, 1))]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(c.get("/home").await.status, 200);
    portal.stop().await;
}

on_both_databases!(setup_and_sign_in_with_codes, wrong_codes_end_the_session, staff_roles_can_require_it, secrets_are_sealed_under_the_server_s_key,);
