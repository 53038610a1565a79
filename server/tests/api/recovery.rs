//! Forgot password and forgot user ID (SPEC R-ENR-6): e-mailed single-use, short-lived links
//! that reveal nothing about who has an account; and what those e-mails never contain (R-MSG-6).

use crate::enrolment::{
    assert_nothing_personal, body_of, enrol, mail_to, patient, token_in, user_id_of, ALICE, FIONA, STRONG_PASSWORD,
};
use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use std::time::Duration;

const RESET_MAIL: &str = "reset the password";
const USER_ID_MAIL: &str = "asked for the user ID";
const CHANGED_MAIL: &str = "was just changed";
const NEW_PASSWORD: &str = "seven copper kettles whistle at dawn";

async fn forgot_password(c: &Client, login: &str, email: &str) -> Reply {
    c.post_form("/api/recovery/forgot-password", &[("user_id", login), ("email", email)]).await
}

async fn forgot_user_id(c: &Client, email: &str, dob: &str) -> Reply {
    c.post_form("/api/recovery/forgot-user-id", &[("email", email), ("date_of_birth", dob)]).await
}

async fn reset(c: &Client, token: &str, password: &str) -> Reply {
    c.post_form("/api/recovery/reset-password", &[("token", token), ("password", password), ("password_again", password)]).await
}

async fn outbox_count(portal: &TestPortal, notice: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE notice = $1").bind(notice).fetch_one(&portal.state.db.pool).await.unwrap()
}

fn same_answer(a: &Reply, b: &Reply, what: &str) {
    assert_eq!(a.status, b.status, "{what}");
    assert_eq!(a.location(), b.location(), "{what}");
    assert_eq!(a.body, b.body, "{what}");
    assert_eq!(a.header("set-cookie"), b.header("set-cookie"), "{what}");
}

async fn forgot_password_answers_the_same_whether_or_not_the_account_exists(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let real = forgot_password(&portal.client(), "Alice", " Alice.Johnson@example.org ").await;
    let unknown = forgot_password(&portal.client(), "nobody-at-all", "nobody@example.org").await;
    let wrong_address = forgot_password(&portal.client(), "alice", "someone.else@example.org").await;
    let staff_account = forgot_password(&portal.client(), "frontdesk", "frances.okafor@clinic.example.org").await;
    assert_eq!(real.status, 302);
    assert_eq!(real.location(), Some("/recovery/sent"));
    same_answer(&real, &unknown, "unknown user ID");
    same_answer(&real, &wrong_address, "wrong address");
    same_answer(&real, &staff_account, "a staff account");

    let mail = mail_to(&portal, ALICE.email, RESET_MAIL, 15).await;
    assert_eq!(mail.to, vec![format!("<{}>", ALICE.email)]);
    assert!(body_of(&mail).contains(&format!("{}/reset-password?token=", portal.base)));
    assert_eq!(outbox_count(&portal, "password-reset").await, 1, "a link went only to the real account");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(portal.smtp.received().len(), 1, "no other mail went anywhere");
    portal.stop().await;
}

async fn forgot_user_id_answers_the_same_and_the_link_shows_the_id_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let real = forgot_user_id(&portal.client(), "ALICE.JOHNSON@example.org", ALICE.dob).await;
    let wrong_birth_date = forgot_user_id(&portal.client(), ALICE.email, "1948-03-13").await;
    let unknown = forgot_user_id(&portal.client(), "nobody@example.org", ALICE.dob).await;
    let record_without_account = forgot_user_id(&portal.client(), "dora.martinez@example.org", "1952-06-18").await;
    assert_eq!(real.location(), Some("/recovery/sent"));
    same_answer(&real, &wrong_birth_date, "wrong birth date");
    same_answer(&real, &unknown, "unknown address");
    same_answer(&real, &record_without_account, "a record without an account");

    let mail = mail_to(&portal, ALICE.email, USER_ID_MAIL, 15).await;
    assert_eq!(outbox_count(&portal, "user-id-reminder").await, 1);
    assert!(!body_of(&mail).contains("alice"), "the user ID itself is never e-mailed: {}", mail.text());
    let token = token_in(&mail);

    let c = portal.client();
    assert_eq!(c.get(&format!("/user-id?token={token}")).await.status, 200);
    let shown = c.post_form("/api/recovery/show-user-id", &[("token", &token)]).await;
    assert_eq!(shown.location(), Some("/user-id/shown"));
    let page = c.get("/user-id/shown").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("alice"), "{}", page.body);
    let again = c.get("/user-id/shown").await;
    assert!(!again.body.contains(">alice<"), "shown once");
    // The link works once.
    let reused = portal.client().post_form("/api/recovery/show-user-id", &[("token", &token)]).await;
    assert_eq!(reused.location(), Some("/user-id?error=link"));
    assert!(crate::enrolment::audit_actions(&portal).await.iter().any(|a| a == "user-id.reminder-opened"));
    portal.stop().await;
}

async fn a_reset_link_works_once_and_ends_every_session(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    // Alice is signed in on two browsers.
    let laptop = patient(&portal, "alice", DEMO_PASSWORD).await;
    let phone = patient(&portal, "alice", DEMO_PASSWORD).await;

    let anon = portal.client();
    assert_eq!(forgot_password(&anon, "alice", ALICE.email).await.location(), Some("/recovery/sent"));
    let mail = mail_to(&portal, ALICE.email, RESET_MAIL, 15).await;
    let token = token_in(&mail);
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM account_links").fetch_all(pool).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].len() == 64 && stored[0] != token, "only a digest is kept");

    let form = anon.get(&format!("/reset-password?token={token}")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"password\""), "{}", form.body);
    // A weak password is refused and the link still works.
    let weak = reset(&anon, &token, "password").await;
    assert!(weak.location().unwrap().contains("error=pw-"), "{:?}", weak.location());
    let personal = reset(&anon, &token, "johnson forever and ever").await;
    assert!(personal.location().unwrap().contains("error=pw-name"), "{:?}", personal.location());
    // Still signed in elsewhere until the reset is done.
    assert_eq!(laptop.get("/home").await.status, 200);

    let done = reset(&anon, &token, NEW_PASSWORD).await;
    assert_eq!(done.location(), Some("/sign-in?reason=password-reset"));
    for browser in [&laptop, &phone] {
        let r = browser.get("/home").await;
        assert_eq!(r.status, 303);
        assert!(r.location().unwrap().starts_with("/sign-in"), "{:?}", r.location());
        assert_eq!(browser.call("/api/account/overview").await.status, 401);
    }
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL")
        .bind(user_id_of(&portal, "alice").await)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(open, 0);
    let changed = mail_to(&portal, ALICE.email, CHANGED_MAIL, 15).await;
    assert_eq!(changed.to, vec![format!("<{}>", ALICE.email)]);

    // The link is spent; the new password works and the old one does not.
    let reused = reset(&portal.client(), &token, "another fine passphrase here").await;
    assert!(reused.location().unwrap().contains("error=link"), "{:?}", reused.location());
    let page = portal.client().get(&format!("/reset-password?token={token}")).await;
    assert!(page.body.contains("expired or has already been used"), "{}", page.body);
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/sign-in?error=refused"));
    assert_eq!(laptop.sign_in("alice", NEW_PASSWORD, "patient").await.location(), Some("/home"));
    let actions = crate::enrolment::audit_actions(&portal).await;
    assert!(actions.iter().any(|a| a == "password.reset-requested") && actions.iter().any(|a| a == "password.reset"));

    // Nothing personal in anything Alice was sent (her user ID is part of her address, so it is
    // looked for in the bodies).
    let hers: Vec<_> = portal.smtp.received().into_iter().filter(|m| m.to.iter().any(|t| t.contains(ALICE.email))).collect();
    assert_nothing_personal(&hers, &["Alice", "Johnson", ALICE.dob, "March 12, 1948", "MRN100001"], ALICE.email);
    for m in &hers {
        assert!(!body_of(m).to_lowercase().contains("alice"), "{}", m.text());
    }
    portal.stop().await;
}

async fn an_expired_or_superseded_link_is_refused(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.accounts.link_lifetime = Duration::from_secs(600)).await;
    let pool = &portal.state.db.pool;
    let anon = portal.client();
    forgot_password(&anon, "alice", ALICE.email).await;
    let first = token_in(&mail_to(&portal, ALICE.email, RESET_MAIL, 15).await);
    let (created, expires): (i64, i64) = sqlx::query_as("SELECT created_at, expires_at FROM account_links").fetch_one(pool).await.unwrap();
    assert_eq!(expires - created, 600_000, "the configured lifetime");

    // Time passes: the link expires.
    sqlx::query("UPDATE account_links SET expires_at = $1").bind(app::platform::now_ms() - 1).execute(pool).await.unwrap();
    let page = anon.get(&format!("/reset-password?token={first}")).await;
    assert!(page.body.contains("expired or has already been used"), "{}", page.body);
    let late = reset(&anon, &first, NEW_PASSWORD).await;
    assert!(late.location().unwrap().contains("error=link"), "{:?}", late.location());
    assert_eq!(patient(&portal, "alice", DEMO_PASSWORD).await.get("/home").await.status, 200, "the password did not change");

    // Two fresh links: using one spends the other.
    let before = portal.smtp.received().len();
    forgot_password(&anon, "alice", ALICE.email).await;
    forgot_password(&anon, "alice", ALICE.email).await;
    let mut links = Vec::new();
    for _ in 0..300 {
        links = portal
            .smtp
            .received()
            .into_iter()
            .skip(before)
            .filter(|m| m.text().contains(RESET_MAIL))
            .map(|m| token_in(&m))
            .collect();
        if links.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(links.len(), 2);
    assert_ne!(links[0], links[1]);
    assert_eq!(reset(&anon, &links[1], NEW_PASSWORD).await.location(), Some("/sign-in?reason=password-reset"));
    let other = reset(&anon, &links[0], "yet another long passphrase").await;
    assert!(other.location().unwrap().contains("error=link"), "{:?}", other.location());
    assert_eq!(anon.sign_in("alice", NEW_PASSWORD, "patient").await.location(), Some("/home"));

    // A fourth request within the hour sends nothing more to her (the inbox cannot be flooded),
    // and the answer is the same.
    let r = forgot_password(&portal.client(), "alice", ALICE.email).await;
    assert_eq!(r.location(), Some("/recovery/sent"));
    assert_eq!(crate::enrolment::audit_actions(&portal).await.iter().filter(|a| *a == "password.reset-requested").count(), 3);
    portal.stop().await;
}

/// R-MSG-6: every mail of an account's life, for a newly enrolled patient: none names them.
async fn no_email_of_an_accounts_life_carries_personal_details(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (me, patient_id) = enrol(&portal, &FIONA, "harbourfox").await;
    me.post_form("/api/sign-out", &[]).await;
    // The browser that activated the account is a known one: no "new device" notice.
    assert_eq!(me.sign_in("harbourfox", STRONG_PASSWORD, "patient").await.location(), Some("/home"));
    let anon = portal.client();
    forgot_password(&anon, "harbourfox", FIONA.email).await;
    let token = token_in(&mail_to(&portal, FIONA.email, RESET_MAIL, 15).await);
    assert_eq!(reset(&anon, &token, NEW_PASSWORD).await.location(), Some("/sign-in?reason=password-reset"));
    forgot_user_id(&anon, FIONA.email, FIONA.dob).await;
    mail_to(&portal, FIONA.email, CHANGED_MAIL, 15).await;
    mail_to(&portal, FIONA.email, USER_ID_MAIL, 15).await;

    let mrn: String = sqlx::query_scalar("SELECT mrn FROM patients WHERE id = $1").bind(&patient_id).fetch_one(&portal.state.db.pool).await.unwrap();
    let mails: Vec<_> = portal.smtp.received().into_iter().filter(|m| m.to.iter().any(|t| t.contains(FIONA.email))).collect();
    assert_eq!(mails.len(), 5, "code, ready, reset link, password changed, user ID link");
    for m in &mails {
        assert_eq!(m.to.len(), 1, "one recipient per e-mail");
    }
    assert_nothing_personal(
        &mails,
        &["Fiona", "Quintero", FIONA.dob, "April 5, 1990", "05/04/1990", "04/05/1990", "harbourfox", &mrn, &patient_id],
        FIONA.email,
    );
    portal.stop().await;
}

on_both_databases!(
    forgot_password_answers_the_same_whether_or_not_the_account_exists,
    forgot_user_id_answers_the_same_and_the_link_shows_the_id_once,
    a_reset_link_works_once_and_ends_every_session,
    an_expired_or_superseded_link_is_refused,
    no_email_of_an_accounts_life_carries_personal_details,
);
