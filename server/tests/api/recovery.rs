//! Forgot password and forgot user ID (SPEC R-ENR-6): e-mailed single-use, short-lived links
//! that reveal nothing about who has an account; and what those e-mails never contain (R-MSG-6).

use crate::enrolment::{
    assert_nothing_personal, body_of, complete, enrol, issue_code, mail_to, mails_to, outbox_drained, patient, patient_by_mrn, staff, token_in, user_id_of,
    verify, ALICE, DORA, FIONA, STRONG_PASSWORD,
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
        links = portal.smtp.received().into_iter().skip(before).filter(|m| m.text().contains(RESET_MAIL)).map(|m| token_in(&m)).collect();
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

/// Issue 14, point 2: the address a patient types at activation may be mistyped (a stranger's) or
/// not theirs. Until its owner opens the link sent to it, no recovery link (password reset, user
/// ID) goes to it: the answer is the same neutral page, and the link goes to the address on the
/// patient's record instead, if the record has one (the clinic's, the only one activation codes
/// are e-mailed to), else nowhere. The account page says it is unconfirmed and sends the link
/// again; once confirmed, recovery mail goes to it.
async fn activation_recovery_mail_waits_for_the_activation_address_to_be_confirmed(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    const CHOSEN: &str = "dora.new@mailbox.test";
    let desk = staff(&portal, "frontdesk").await;
    let record = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &record).await;
    let dora = portal.client();
    assert_eq!(verify(&dora, &code, DORA.dob).await.location(), Some("/activate/account"));
    assert_eq!(complete(&dora, "dora.m", STRONG_PASSWORD, CHOSEN, true).await.location(), Some("/home?welcome=1"));
    let welcome = mail_to(&portal, CHOSEN, "account is set up", 15).await;
    let first_link = token_in(&welcome);
    assert!(body_of(&welcome).contains("/confirm-email?token="), "{}", welcome.text());
    let confirmed: Option<i64> = sqlx::query_scalar("SELECT email_confirmed_at FROM users WHERE login = 'dora.m'").fetch_one(pool).await.unwrap();
    assert_eq!(confirmed, None);

    // Forgot password and forgot user ID, with the address the account has: the same answer as
    // ever, and nothing that opens the account goes to the unconfirmed address.
    let anon = portal.client();
    let reset = forgot_password(&anon, "dora.m", CHOSEN).await;
    let reminder = forgot_user_id(&anon, CHOSEN, DORA.dob).await;
    let unknown = forgot_password(&portal.client(), "nobody-at-all", "nobody@example.org").await;
    same_answer(&reset, &unknown, "an unconfirmed address");
    assert_eq!(reminder.location(), Some("/recovery/sent"));
    outbox_drained(&portal).await;
    let to_chosen: Vec<String> =
        sqlx::query_scalar("SELECT notice FROM outbox WHERE recipient = $1 ORDER BY created_at").bind(CHOSEN).fetch_all(pool).await.unwrap();
    assert_eq!(to_chosen, vec!["account-ready".to_string()], "no recovery link to an unconfirmed address");
    assert!(mails_to(&portal, CHOSEN).iter().all(|m| !m.text().contains(RESET_MAIL) && !m.text().contains(USER_ID_MAIL)));
    // They went to the address on Dora's record.
    mail_to(&portal, DORA.email, RESET_MAIL, 15).await;
    mail_to(&portal, DORA.email, USER_ID_MAIL, 15).await;

    // The account page says so, and sends the link again (the first one stops working).
    let overview: serde_json::Value = serde_json::from_str(&dora.call("/api/account/overview").await.body).unwrap();
    assert_eq!(overview["email"], CHOSEN);
    assert_eq!(overview["email_confirmed"], false);
    let page = dora.get("/account").await;
    assert!(page.body.contains("(not confirmed yet)") && page.body.contains("Send the confirmation link again"), "{}", page.body);
    let resent = dora.post_form("/api/account/resend-confirmation", &[]).await;
    assert_eq!(resent.location(), Some("/account?done=confirmation"));
    let second_link = token_in(&mail_to(&portal, CHOSEN, "may use this e-mail address", 15).await);
    assert_ne!(second_link, first_link);
    let old = portal.client().post_form("/api/recovery/confirm-email", &[("token", &first_link)]).await;
    assert_eq!(old.location(), Some("/confirm-email?error=link"), "the link sent again replaces the first");
    let done = portal.client().post_form("/api/recovery/confirm-email", &[("token", &second_link)]).await;
    assert_eq!(done.location(), Some("/confirm-email?done=1"));
    let overview: serde_json::Value = serde_json::from_str(&dora.call("/api/account/overview").await.body).unwrap();
    assert_eq!(overview["email_confirmed"], true);
    assert!(!dora.get("/account").await.body.contains("(not confirmed yet)"));
    assert_eq!(dora.post_form("/api/account/resend-confirmation", &[]).await.location(), Some("/account"), "nothing to send once confirmed");

    // Confirmed: recovery mail goes to it now.
    forgot_password(&portal.client(), "dora.m", CHOSEN).await;
    mail_to(&portal, CHOSEN, RESET_MAIL, 15).await;

    // A record without an address: until the account's address is confirmed, recovery links go
    // nowhere (and the answer is the same).
    let ewan_record = patient_by_mrn(&portal, "MRN100005").await;
    let code = issue_code(&desk, &ewan_record).await;
    let ewan = portal.client();
    assert_eq!(verify(&ewan, &code, "1979-01-25").await.location(), Some("/activate/account"));
    assert_eq!(complete(&ewan, "ewan.b", STRONG_PASSWORD, "ewan.b@mailbox.test", true).await.location(), Some("/home?welcome=1"));
    let asked = forgot_password(&portal.client(), "ewan.b", "ewan.b@mailbox.test").await;
    same_answer(&asked, &unknown, "an unconfirmed address, no address on the record");
    outbox_drained(&portal).await;
    let ewan_user = user_id_of(&portal, "ewan.b").await;
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_links WHERE user_id = $1 AND purpose = 'password-reset'")
        .bind(&ewan_user)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(links, 0);
    let detail: Option<String> = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'password.reset-requested' AND subject_id = $1")
        .bind(&ewan_user)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(detail.as_deref(), Some("not sent: the account's address is not confirmed and the record has none"));
    portal.stop().await;
}

/// Holds every write transaction where it is about to finish: on PostgreSQL the audit trail's
/// head (each write transaction records its audit entry last), on SQLite the write lock itself.
struct WritesHeld(Option<sqlx::Transaction<'static, sqlx::Any>>, Backend);

impl WritesHeld {
    async fn take(portal: &TestPortal) -> WritesHeld {
        let mut tx = portal.state.db.begin_write().await.unwrap();
        if portal.backend == Backend::Postgres {
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *tx).await.unwrap();
        }
        WritesHeld(Some(tx), portal.backend)
    }

    /// Waits until `n` requests wait for a lock (PostgreSQL), or long enough for them to have
    /// reached it (SQLite, whose waiters cannot be seen: a hash takes well under a second).
    async fn wait_for(&self, portal: &TestPortal, n: i64) {
        if self.1 == Backend::Sqlite {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            return;
        }
        let mut waiting = 0;
        for _ in 0..400 {
            waiting = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&portal.state.db.pool)
                .await
                .unwrap();
            if waiting >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(waiting, n, "the requests did not all reach the lock");
    }

    async fn release(mut self) {
        self.0.take().unwrap().commit().await.unwrap();
    }
}

/// Issue 14, point 12: a sign-in with the old password that races a password reset cannot keep
/// its session. Both are held where they are about to finish: the sign-in has checked the old
/// password (and, without the rule, written its session), the reset has changed the hash and
/// ended the sessions it could see. Let go, the sign-in must be refused or have its session
/// ended with the reset. (SQLite runs one write at a time: there both wait for the write lock,
/// and SQLite lets the one that came last, the reset, in first. Without the rule the test fails
/// on both databases.)
async fn a_sign_in_racing_a_password_reset_cannot_keep_its_session(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let anon = portal.client();
    assert_eq!(forgot_password(&anon, "alice", ALICE.email).await.location(), Some("/recovery/sent"));
    let token = token_in(&mail_to(&portal, ALICE.email, RESET_MAIL, 15).await);

    let held = WritesHeld::take(&portal).await;
    let browser = portal.client();
    let signing_in = {
        let c = crate::enrolment_races::same_browser(&browser);
        tokio::spawn(async move { c.sign_in("alice", DEMO_PASSWORD, "patient").await.location().map(str::to_owned) })
    };
    held.wait_for(&portal, 1).await;
    let resetting = {
        let c = crate::enrolment_races::same_browser(&anon);
        tokio::spawn(async move { reset(&c, &token, NEW_PASSWORD).await.location().map(str::to_owned) })
    };
    held.wait_for(&portal, 2).await;
    held.release().await;
    assert_eq!(resetting.await.unwrap().as_deref(), Some("/sign-in?reason=password-reset"));
    let signed_in = signing_in.await.unwrap();

    // Whatever the sign-in was told, its browser holds no session that works.
    let home = browser.get("/home").await;
    assert_eq!(home.status, 303, "the racing sign-in kept a session ({signed_in:?})");
    assert!(home.location().unwrap_or_default().starts_with("/sign-in"), "{:?}", home.location());
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL")
        .bind(user_id_of(&portal, "alice").await)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(open, 0, "no session of the old password is open ({signed_in:?})");
    assert_eq!(portal.client().sign_in("alice", NEW_PASSWORD, "patient").await.location(), Some("/home"));
    portal.stop().await;
}

on_both_databases!(
    forgot_password_answers_the_same_whether_or_not_the_account_exists,
    forgot_user_id_answers_the_same_and_the_link_shows_the_id_once,
    a_reset_link_works_once_and_ends_every_session,
    an_expired_or_superseded_link_is_refused,
    no_email_of_an_accounts_life_carries_personal_details,
    activation_recovery_mail_waits_for_the_activation_address_to_be_confirmed,
    a_sign_in_racing_a_password_reset_cannot_keep_its_session,
);
