//! The patient's own account page: sessions (SPEC R-SES-3), password (R-ENR-4) and e-mail
//! address, each change confirmed or notified by e-mail (R-MSG-6).

use crate::enrolment::{assert_nothing_personal, audit_actions, body_of, mail_to, patient, token_in, user_id_of, ALICE};
use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};

const NEW_PASSWORD: &str = "seven copper kettles whistle at dawn";
const NEW_ADDRESS: &str = "a.j.new@mailbox.test";

async fn change_password(c: &Client, current: &str, new: &str, sign_out_others: bool) -> Reply {
    let mut form = vec![("current_password", current), ("password", new), ("password_again", new)];
    if sign_out_others {
        form.push(("sign_out_others", "yes"));
    }
    c.post_form("/api/account/change-password", &form).await
}

async fn a_patient_sees_their_sessions_and_ends_the_others(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let laptop = patient(&portal, "alice", DEMO_PASSWORD).await;
    let phone = patient(&portal, "alice", DEMO_PASSWORD).await;
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    let overview = laptop.call("/api/account/overview").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    let overview: serde_json::Value = serde_json::from_str(&overview.body).unwrap();
    let sessions = overview["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{overview}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(overview["login"], "alice");
    assert_eq!(overview["paperless"], true);

    let r = laptop.post_form("/api/account/end-other-sessions", &[]).await;
    assert_eq!(r.location(), Some("/account?done=sessions"));
    assert_eq!(laptop.get("/home").await.status, 200);
    assert_eq!(phone.get("/home").await.location(), Some("/sign-in"));
    assert_eq!(robert.get("/home").await.status, 200, "only her own sessions");
    let detail: Option<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'session.others-ended'").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(detail.as_deref(), Some("1 ended"));
    portal.stop().await;
}

async fn a_password_change_can_sign_out_the_other_sessions(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let laptop = patient(&portal, "alice", DEMO_PASSWORD).await;
    let phone = patient(&portal, "alice", DEMO_PASSWORD).await;
    assert_eq!(change_password(&laptop, "wrong", NEW_PASSWORD, true).await.location(), Some("/account/password?error=current"));
    let personal = change_password(&laptop, DEMO_PASSWORD, "alice2026!", true).await;
    assert!(personal.location().unwrap().starts_with("/account/password?error=pw-"), "{:?}", personal.location());
    assert_eq!(phone.get("/home").await.status, 200, "a refused change ends nothing");
    // Kept: the other session goes on.
    assert_eq!(change_password(&laptop, DEMO_PASSWORD, NEW_PASSWORD, false).await.location(), Some("/account?done=password&others=kept&n=1"));
    assert_eq!(phone.get("/home").await.status, 200);
    // Ended: it does not.
    let third = "an entirely different long passphrase";
    assert_eq!(change_password(&laptop, NEW_PASSWORD, third, true).await.location(), Some("/account?done=password&others=ended&n=1"));
    assert_eq!(phone.get("/home").await.location(), Some("/sign-in"));
    assert_eq!(laptop.get("/home").await.status, 200);
    let mail = mail_to(&portal, ALICE.email, "was just changed", 15).await;
    assert_eq!(mail.to.len(), 1);
    assert_eq!(portal.client().sign_in("alice", third, "patient").await.location(), Some("/home"));
    portal.stop().await;
}

async fn a_new_address_takes_effect_when_its_link_is_opened(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let wrong = alice.post_form("/api/account/change-email", &[("new_email", NEW_ADDRESS), ("current_password", "not it")]).await;
    assert_eq!(wrong.location(), Some("/account/email?error=current"));
    let bad = alice.post_form("/api/account/change-email", &[("new_email", "nope"), ("current_password", DEMO_PASSWORD)]).await;
    assert_eq!(bad.location(), Some("/account/email?error=email"));
    let r = alice.post_form("/api/account/change-email", &[("new_email", " A.J.New@Mailbox.test "), ("current_password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/account?done=email"));

    let confirm = mail_to(&portal, NEW_ADDRESS, "Please confirm", 15).await;
    let warned = mail_to(&portal, ALICE.email, "asked to send its notices to a", 15).await;
    assert_eq!(confirm.to.len(), 1);
    assert_eq!(warned.to.len(), 1);
    assert!(!body_of(&warned).contains(NEW_ADDRESS), "the old address is not told the new one");
    let current: String = sqlx::query_scalar("SELECT email FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert_eq!(current, ALICE.email, "nothing changes before the new address is confirmed");

    let token = token_in(&confirm);
    let page = portal.client().get(&format!("/confirm-email?token={token}")).await;
    assert_eq!(page.status, 200);
    let current: String = sqlx::query_scalar("SELECT email FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert_eq!(current, ALICE.email, "opening the page (as a mail scanner would) confirms nothing");
    let done = portal.client().post_form("/api/recovery/confirm-email", &[("token", &token)]).await;
    assert_eq!(done.location(), Some("/confirm-email?done=1"));
    let current: String = sqlx::query_scalar("SELECT email FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert_eq!(current, NEW_ADDRESS);
    mail_to(&portal, ALICE.email, "now sends its notices to a different", 15).await;
    let again = portal.client().post_form("/api/recovery/confirm-email", &[("token", &token)]).await;
    assert_eq!(again.location(), Some("/confirm-email?error=link"));
    assert!(audit_actions(&portal).await.iter().any(|a| a == "email.changed"));

    // Recovery now goes to the new address only.
    let anon = portal.client();
    anon.post_form("/api/recovery/forgot-password", &[("user_id", "alice"), ("email", ALICE.email)]).await;
    anon.post_form("/api/recovery/forgot-password", &[("user_id", "alice"), ("email", NEW_ADDRESS)]).await;
    mail_to(&portal, NEW_ADDRESS, "reset the password", 15).await;
    let to_old: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE notice = 'password-reset' AND recipient = $1").bind(ALICE.email).fetch_one(pool).await.unwrap();
    assert_eq!(to_old, 0);
    let user = user_id_of(&portal, "alice").await;
    let subject: Option<String> = sqlx::query_scalar("SELECT subject_id FROM audit_log WHERE action = 'email.change-requested'").fetch_one(pool).await.unwrap();
    assert_eq!(subject, Some(user));

    let mails = portal.smtp.received();
    for m in &mails {
        assert_eq!(m.to.len(), 1, "one recipient per e-mail");
    }
    assert_nothing_personal(&mails, &["Alice", "Johnson", ALICE.dob, "March 12, 1948", "MRN100001"], ALICE.email);
    assert_nothing_personal(&mails, &["Alice", "Johnson"], NEW_ADDRESS);
    portal.stop().await;
}

/// Issue 14, point 12: the "password changed" notice (and the page) says exactly what became of
/// the other sessions: kept, as the patient chose, or signed out, and how many.
async fn the_password_changed_notice_says_what_became_of_the_other_sessions(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let laptop = patient(&portal, "alice", DEMO_PASSWORD).await;
    let phone = patient(&portal, "alice", DEMO_PASSWORD).await;
    let tablet = patient(&portal, "alice", DEMO_PASSWORD).await;

    let kept = change_password(&laptop, DEMO_PASSWORD, NEW_PASSWORD, false).await;
    assert_eq!(kept.location(), Some("/account?done=password&others=kept&n=2"));
    let page = laptop.get(kept.location().unwrap()).await;
    assert!(page.body.contains("As you chose, your 2 other sessions stay signed in"), "{}", page.body);
    let mail = mail_to(&portal, ALICE.email, "were kept", 15).await;
    let body = body_of(&mail);
    assert!(body.contains("stay signed in") && !body.contains("signed out everywhere") && !body.contains("was signed out"), "{body}");
    assert_eq!(phone.get("/home").await.status, 200, "kept, as the mail says");

    let third = "an entirely different long passphrase";
    let ended = change_password(&laptop, NEW_PASSWORD, third, true).await;
    assert_eq!(ended.location(), Some("/account?done=password&others=ended&n=2"));
    let page = laptop.get(ended.location().unwrap()).await;
    assert!(page.body.contains("your 2 other sessions were signed out"), "{}", page.body);
    let mail = mail_to(&portal, ALICE.email, "every other session of your account was signed out", 15).await;
    assert!(!body_of(&mail).contains("kept"), "{}", mail.text());
    for other in [&phone, &tablet] {
        assert_eq!(other.get("/home").await.location(), Some("/sign-in"), "signed out, as the mail says");
    }
    let details: Vec<Option<String>> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'password.changed' ORDER BY seq").fetch_all(&portal.state.db.pool).await.unwrap();
    assert_eq!(details, vec![Some("2 other sessions kept".to_string()), Some("2 other sessions ended".to_string())]);
    portal.stop().await;
}

/// Issue 14, point 12: e-mail change requests are limited to 5 an hour per account, so that a
/// session (a forgotten one, a thief's) cannot flood an address with mail; requests sent at once
/// do not pass the limit. (On PostgreSQL the test holds the audit trail's head, which every
/// request writes last, until all of them wait.)
async fn email_change_requests_are_limited_per_account_and_hour_even_sent_at_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let alice = patient(&portal, "alice", DEMO_PASSWORD).await;
    let hold = crate::enrolment_races::RowHold::take(&portal, "UPDATE audit_head SET seq = seq WHERE id = 1 AND $1 = $1", "x").await;
    let mut asks = Vec::new();
    for i in 0..6 {
        let c = crate::enrolment_races::same_browser(&alice);
        asks.push(tokio::spawn(async move {
            let address = format!("a.j.{i}@mailbox.test");
            c.post_form("/api/account/change-email", &[("new_email", &address), ("current_password", DEMO_PASSWORD)]).await.location().map(str::to_owned)
        }));
    }
    // One of the six may already be refused by the password-again throttle and never reach
    // the held row.
    hold.release_when_each_waits_or_is_answered(&portal, &asks).await;
    let mut answers = Vec::new();
    for a in asks {
        answers.push(a.await.unwrap().unwrap_or_default());
    }
    assert_eq!(answers.iter().filter(|a| *a == "/account?done=email").count(), 5, "{answers:?}");
    // The sixth is refused: by this limit, or already by the password-again throttle, which
    // counts a check still running as a failure (six passwords at once are more than its free
    // five; issue 14, point 4).
    let refused = |a: &&String| *a == "/account/email?error=too-many" || a.starts_with("/account/email?error=throttled");
    assert_eq!(answers.iter().filter(refused).count(), 1, "{answers:?}");
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE notice = 'email-change-confirm'").fetch_one(pool).await.unwrap();
    assert_eq!(links, 5, "five confirmation links, however the requests arrived");
    // Still limited afterwards, and the page says why.
    let late = alice.post_form("/api/account/change-email", &[("new_email", "a.j.late@mailbox.test"), ("current_password", DEMO_PASSWORD)]).await;
    assert_eq!(late.location(), Some("/account/email?error=too-many"));
    let page = alice.get("/account/email?error=too-many").await;
    assert!(page.body.contains("You have asked for 5 e-mail confirmation links in the last hour"), "{}", page.body);
    // Another account has its own budget.
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    let r = robert.post_form("/api/account/change-email", &[("new_email", "r.s.new@mailbox.test"), ("current_password", DEMO_PASSWORD)]).await;
    assert_eq!(r.location(), Some("/account?done=email"));
    portal.stop().await;
}

on_both_databases!(
    a_patient_sees_their_sessions_and_ends_the_others,
    a_password_change_can_sign_out_the_other_sessions,
    a_new_address_takes_effect_when_its_link_is_opened,
    the_password_changed_notice_says_what_became_of_the_other_sessions,
    email_change_requests_are_limited_per_account_and_hour_even_sent_at_once,
);
