//! What a patient must do at sign-in before anything else: accept a newly published version of
//! the terms (SPEC R-ENR-2), change a password past its age (R-ENR-5).

use crate::enrolment::{
    approve, audit_actions, complete, find_code, mail_to, request_access, request_id, staff, terms_in_force, user_id_of, verify, FIONA, STRONG_PASSWORD,
};
use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;
const NEW_PASSWORD: &str = "seven copper kettles whistle at dawn";

async fn publish(admin: &Client, title: &str, effective_date: &str) -> Reply {
    admin
        .post_form(
            "/api/terms/publish",
            &[
                ("title", title),
                ("body", "## What changed\n\nWe now describe how video visits work and what they cannot do.\n\nEverything else is as before."),
                ("effective_date", effective_date),
            ],
        )
        .await
}

async fn age_password(portal: &TestPortal, login: &str, days: i64) {
    sqlx::query("UPDATE users SET password_changed_at = $1 WHERE login = $2")
        .bind(app::platform::now_ms() - days * DAY_MS)
        .bind(login)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
}

async fn change_password(c: &Client, current: &str, new: &str) -> Reply {
    c.post_form("/api/account/change-password", &[("current_password", current), ("password", new), ("password_again", new)]).await
}

async fn a_new_version_of_the_terms_must_be_accepted_before_anything_else(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let old = terms_in_force(&portal).await;
    // Only administrators publish.
    let desk = staff(&portal, "frontdesk").await;
    assert_eq!(publish(&desk, "Not allowed", "").await.status, 403);
    let admin = staff(&portal, "admin").await;
    let r = publish(&admin, "Terms of use, second edition", "").await;
    assert_eq!(r.location(), Some("/staff/terms?published=2"), "{}", r.body);
    let new = terms_in_force(&portal).await;
    assert_ne!(new, old);
    // Staff are not asked.
    assert_eq!(admin.sign_in("admin", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));

    let alice = portal.client();
    let signed_in = alice.sign_in("alice", DEMO_PASSWORD, "patient").await;
    assert_eq!(signed_in.location(), Some("/account/terms"));
    for page in ["/home", "/messages", "/billing", "/account", "/account/activity", "/account/password"] {
        let r = alice.get(page).await;
        assert_eq!(r.status, 303, "{page}");
        assert_eq!(r.location(), Some("/account/terms"), "{page}");
    }
    for server_fn in ["/api/account/overview", "/api/account/activity", "/api/terms/mine", "/api/account/end-other-sessions"] {
        assert_eq!(alice.call(server_fn).await.status, 403, "{server_fn}");
    }
    let change = change_password(&alice, DEMO_PASSWORD, NEW_PASSWORD).await;
    assert_eq!((change.status, change.location()), (303, Some("/account/terms")), "no password change before the terms: the form leads to them");
    let page = alice.get("/account/terms").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Terms of use, second edition"), "{}", page.body);

    // Not ticking the box, or accepting the old version, is not accepting.
    let unticked = alice.post_form("/api/terms/accept", &[("terms_id", &new)]).await;
    assert_eq!(unticked.location(), Some("/account/terms?error=agree"));
    let stale = alice.post_form("/api/terms/accept", &[("terms_id", &old), ("agree", "yes")]).await;
    assert_eq!(stale.location(), Some("/account/terms?error=changed"));
    assert_eq!(alice.get("/home").await.location(), Some("/account/terms"));

    let before = app::platform::now_ms();
    let accepted = alice.post_form("/api/terms/accept", &[("terms_id", &new), ("agree", "yes")]).await;
    let after = app::platform::now_ms();
    assert_eq!(accepted.location(), Some("/home"));
    assert_eq!(alice.get("/home").await.status, 200);
    let overview = alice.call("/api/account/overview").await;
    assert_eq!(overview.status, 200, "{}", overview.body);

    let user = user_id_of(&portal, "alice").await;
    let (at, addr): (i64, Option<String>) =
        sqlx::query_as("SELECT accepted_at, client_addr FROM terms_acceptances WHERE user_id = $1 AND terms_version_id = $2")
            .bind(&user)
            .bind(&new)
            .fetch_one(pool)
            .await
            .unwrap();
    assert!((before..=after).contains(&at), "accepted at the time it was");
    assert_eq!(addr.as_deref(), Some("127.0.0.1"));
    let (actor, detail): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT actor_id, detail FROM audit_log WHERE action = 'terms.accepted' AND record_id = $1").bind(&new).fetch_one(pool).await.unwrap();
    assert_eq!(actor, Some(user));
    assert_eq!(detail.as_deref(), Some("2"));
    let published_by: Option<String> =
        sqlx::query_scalar("SELECT actor_id FROM audit_log WHERE action = 'terms.published' AND record_id = $1").bind(&new).fetch_one(pool).await.unwrap();
    assert_eq!(published_by, Some(user_id_of(&portal, "admin").await));

    // Once accepted, the next sign-in goes straight home.
    let again = portal.client();
    assert_eq!(again.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    // Others still have to accept.
    assert_eq!(portal.client().sign_in("robert", DEMO_PASSWORD, "patient").await.location(), Some("/account/terms"));
    portal.stop().await;
}

async fn terms_published_for_a_later_date_wait_for_that_date(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let admin = staff(&portal, "admin").await;
    let tomorrow = app::dates::CalendarDate::of_ms(app::platform::now_ms() + DAY_MS).to_string();
    let r = publish(&admin, "Terms from tomorrow", &tomorrow).await;
    assert_eq!(r.location(), Some("/staff/terms?published=2"));
    let yesterday = app::dates::CalendarDate::of_ms(app::platform::now_ms() - DAY_MS).to_string();
    assert_eq!(publish(&admin, "Backdated", &yesterday).await.location(), Some("/staff/terms?error=date"));
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"), "not in force yet");
    // The day comes.
    sqlx::query("UPDATE terms_versions SET effective_at = $1 WHERE version = 2").bind(app::platform::now_ms() - 1).execute(pool).await.unwrap();
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/account/terms"));
    portal.stop().await;
}

/// A person agreed to version 1 in their request; version 2 came into force before they
/// activated: they must agree to it when they choose their user ID.
async fn terms_changed_since_the_request_are_agreed_to_at_activation(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let v1 = terms_in_force(&portal).await;
    let person = portal.client();
    request_access(&person, &FIONA, &v1).await;
    let admin = staff(&portal, "admin").await;
    publish(&admin, "Terms of use, second edition", "").await;
    let v2 = terms_in_force(&portal).await;
    // A request made with the page of the old version is sent back to read the new one.
    let stale = request_access(&portal.client(), &crate::enrolment::DORA, &v1).await;
    assert_eq!(stale.location(), Some("/enrol?error=terms-changed"));

    let desk = staff(&portal, "frontdesk").await;
    approve(&desk, &request_id(&portal, FIONA.email).await, "new", true).await;
    let code = find_code(&mail_to(&portal, FIONA.email, "activation code", 15).await.text()).unwrap();
    assert_eq!(verify(&person, &code, FIONA.dob).await.location(), Some("/activate/account"));
    let page = person.get("/activate/account").await;
    assert!(page.body.contains("Terms of use, second edition"), "the new terms are shown: {}", page.body);
    let refused = complete(&person, "harbourfox", STRONG_PASSWORD, FIONA.email, false).await;
    assert_eq!(refused.location(), Some("/activate/account?error=terms"));
    let before = app::platform::now_ms();
    let done = complete(&person, "harbourfox", STRONG_PASSWORD, FIONA.email, true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"));
    let user = user_id_of(&portal, "harbourfox").await;
    let (version, at): (String, i64) =
        sqlx::query_as("SELECT terms_version_id, accepted_at FROM terms_acceptances WHERE user_id = $1").bind(&user).fetch_one(pool).await.unwrap();
    assert_eq!(version, v2);
    assert!(at >= before);
    assert_eq!(person.get("/home").await.status, 200);
    portal.stop().await;
}

/// The activation page showed version 1 with its "I agree" box; version 2 came into force
/// before the form was sent. Ticking the box for version 1 is not agreeing to version 2.
async fn terms_published_while_the_activation_page_is_open_are_not_taken_as_agreed(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let desk = staff(&portal, "frontdesk").await;
    let dora = crate::enrolment::patient_by_mrn(&portal, "MRN100004").await;
    let code = crate::enrolment::issue_code(&desk, &dora).await;
    let person = portal.client();
    assert_eq!(verify(&person, &code, crate::enrolment::DORA.dob).await.location(), Some("/activate/account"));
    let v1 = terms_in_force(&portal).await;
    let (v1_title,): (String,) = sqlx::query_as("SELECT title FROM terms_versions WHERE id = $1").bind(&v1).fetch_one(pool).await.unwrap();
    let page = person.get("/activate/account").await;
    assert!(page.body.contains(&v1_title) && page.body.contains("name=\"agree\""), "version 1 is shown to agree to: {}", page.body);

    let admin = staff(&portal, "admin").await;
    publish(&admin, "Terms of use, second edition", "").await;
    let v2 = terms_in_force(&portal).await;

    // The form as the page built it (with the version it showed, should the form carry it).
    let r = person
        .post_form(
            "/api/activation/complete",
            &[
                ("user_id", "dora.m"),
                ("password", STRONG_PASSWORD),
                ("password_again", STRONG_PASSWORD),
                ("email", crate::enrolment::DORA.email),
                ("terms_id", v1.as_str()),
                ("agree", "yes"),
            ],
        )
        .await;
    let accepted_v2: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM terms_acceptances WHERE terms_version_id = $1").bind(&v2).fetch_one(pool).await.unwrap();
    assert_eq!(accepted_v2, 0, "an acceptance of version 2 is recorded, but the patient was shown version 1 (went to {:?})", r.location());
    if r.location() == Some("/home?welcome=1") {
        assert_eq!(person.get("/home").await.location(), Some("/account/terms"), "version 2 must still be accepted");
    } else {
        let page = person.get("/activate/account").await;
        assert!(page.body.contains("Terms of use, second edition"), "version 2 is shown: {}", page.body);
    }
    portal.stop().await;
}

async fn an_aged_password_may_be_put_off_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    age_password(&portal, "alice", 179).await;
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"), "179 days is not too old");
    age_password(&portal, "alice", 181).await;

    let first = portal.client();
    assert_eq!(first.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/account/password"));
    assert_eq!(first.get("/home").await.location(), Some("/account/password"));
    assert_eq!(first.get("/account/password").await.status, 200);
    assert_eq!(first.call("/api/account/overview").await.status, 403);
    let later = first.post_form("/api/account/remind-later", &[]).await;
    assert_eq!(later.location(), Some("/home"));
    assert_eq!(first.get("/home").await.status, 200);
    let reminded: Option<i64> = sqlx::query_scalar("SELECT password_reminded_at FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert!(reminded.is_some());
    assert!(audit_actions(&portal).await.iter().any(|a| a == "password.reminder-deferred"));
    // "Remind me later" cannot be used when nothing is asked.
    assert_eq!(first.post_form("/api/account/remind-later", &[]).await.status, 403);

    // The next sign-in: the change is no longer optional.
    let second = portal.client();
    assert_eq!(second.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/account/password"));
    assert_eq!(second.post_form("/api/account/remind-later", &[]).await.status, 403);
    assert_eq!(second.get("/home").await.location(), Some("/account/password"));
    let same = change_password(&second, DEMO_PASSWORD, DEMO_PASSWORD).await;
    assert_eq!(same.location(), Some("/account/password?error=same"));
    let wrong = change_password(&second, "not my password", NEW_PASSWORD).await;
    assert_eq!(wrong.location(), Some("/account/password?error=current"));
    let done = change_password(&second, DEMO_PASSWORD, NEW_PASSWORD).await;
    // The other two sessions (the 179-day sign-in's and the first browser's) were kept: the
    // form's "sign out my other sessions" was not ticked.
    assert_eq!(done.location(), Some("/home?password=changed&others=kept&n=2"));
    assert_eq!(second.get("/home").await.status, 200);
    let (changed, reminded): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT password_changed_at, password_reminded_at FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert!(changed.unwrap() > app::platform::now_ms() - 60_000);
    assert_eq!(reminded, None);
    mail_to(&portal, "alice.johnson@example.org", "was just changed", 15).await;
    assert_eq!(portal.client().sign_in("alice", NEW_PASSWORD, "patient").await.location(), Some("/home"));
    portal.stop().await;
}

async fn the_organisation_sets_the_age_and_can_make_the_change_mandatory(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.accounts.password_max_age = Duration::from_secs(30 * 86_400);
        c.portal.accounts.password_change_mandatory = true;
    })
    .await;
    age_password(&portal, "robert", 29).await;
    assert_eq!(portal.client().sign_in("robert", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    age_password(&portal, "robert", 31).await;
    let c = portal.client();
    assert_eq!(c.sign_in("robert", DEMO_PASSWORD, "patient").await.location(), Some("/account/password"));
    assert_eq!(c.post_form("/api/account/remind-later", &[]).await.status, 403, "mandatory at once");
    assert_eq!(c.get("/home").await.location(), Some("/account/password"));
    // (The 29-day sign-in's session is still open, and kept.)
    assert_eq!(change_password(&c, DEMO_PASSWORD, NEW_PASSWORD).await.location(), Some("/home?password=changed&others=kept&n=1"));
    assert_eq!(c.get("/home").await.status, 200);
    // Staff are not asked.
    age_password(&portal, "frontdesk", 400).await;
    assert_eq!(portal.client().sign_in("frontdesk", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
    portal.stop().await;
}

/// With new terms and an aged password, the terms come first, then the password.
async fn terms_come_before_the_password(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = staff(&portal, "admin").await;
    publish(&admin, "Terms of use, second edition", "").await;
    let new = terms_in_force(&portal).await;
    age_password(&portal, "carol", 200).await;
    let c = portal.client();
    assert_eq!(c.sign_in("carol", DEMO_PASSWORD, "patient").await.location(), Some("/account/terms"));
    let accepted = c.post_form("/api/terms/accept", &[("terms_id", &new), ("agree", "yes")]).await;
    assert_eq!(accepted.location(), Some("/account/password"));
    assert_eq!(c.get("/home").await.location(), Some("/account/password"));
    assert_eq!(c.post_form("/api/account/remind-later", &[]).await.location(), Some("/home"));
    assert_eq!(c.get("/home").await.status, 200);
    portal.stop().await;
}

on_both_databases!(
    a_new_version_of_the_terms_must_be_accepted_before_anything_else,
    terms_published_for_a_later_date_wait_for_that_date,
    terms_changed_since_the_request_are_agreed_to_at_activation,
    terms_published_while_the_activation_page_is_open_are_not_taken_as_agreed,
    an_aged_password_may_be_put_off_once,
    the_organisation_sets_the_age_and_can_make_the_change_mandatory,
    terms_come_before_the_password,
);
