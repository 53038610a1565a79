//! Ending and restoring a patient's access (SPEC R-ENR-7), and who may use the front desk's
//! functions at all (R-ENR-8).

use crate::enrolment::{audit_actions, patient, patient_by_mrn, request_access, request_id, staff, terms_in_force, user_id_of, FIONA};
use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};

async fn terminate(desk: &Client, patient_id: &str, reason: &str) -> crate::support::Reply {
    desk.post_form("/api/access/terminate", &[("patient_id", patient_id), ("reason", reason)]).await
}

async fn restore(desk: &Client, patient_id: &str, reason: &str) -> crate::support::Reply {
    desk.post_form("/api/access/restore", &[("patient_id", patient_id), ("reason", reason)]).await
}

async fn ending_access_ends_every_session_and_refuses_sign_in(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let laptop = patient(&portal, "alice", DEMO_PASSWORD).await;
    let phone = patient(&portal, "alice", DEMO_PASSWORD).await;
    let robert = patient(&portal, "robert", DEMO_PASSWORD).await;
    let desk = staff(&portal, "frontdesk").await;
    let alice = patient_by_mrn(&portal, "MRN100001").await;
    let alice_user = user_id_of(&portal, "alice").await;
    let desk_user = user_id_of(&portal, "frontdesk").await;

    assert_eq!(terminate(&desk, &alice, "  ").await.location(), Some(format!("/staff/patients/{alice}?error=reason").as_str()));
    assert_eq!(laptop.get("/home").await.status, 200, "no reason, no change");

    let r = terminate(&desk, &alice, "Asked us to close the account").await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice}?done=terminated").as_str()));
    for browser in [&laptop, &phone] {
        let home = browser.get("/home").await;
        assert_eq!(home.status, 303);
        assert!(home.location().unwrap().starts_with("/sign-in"), "{:?}", home.location());
        assert_eq!(browser.call("/api/account/overview").await.status, 401);
        assert_eq!(browser.call("/api/session/status").await.status, 401);
    }
    assert_eq!(robert.get("/home").await.status, 200, "other patients are not affected");
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL").bind(&alice_user).fetch_one(pool).await.unwrap();
    assert_eq!(open, 0, "every session ended");

    // The right password is told, neutrally, that the account is not available; anyone else
    // gets the answer any wrong password gets.
    let right = portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await;
    assert!(right.location().unwrap().contains("error=access"), "{:?}", right.location());
    assert!(right
        .headers
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("portal_session=") || c.to_str().unwrap().contains("Max-Age=0")));
    let wrong = portal.client().sign_in("alice", "not her password", "patient").await;
    let unknown = portal.client().sign_in("nobody-here", "not her password", "patient").await;
    assert_eq!(wrong.location(), Some("/sign-in?error=refused"));
    assert_eq!((wrong.status, wrong.location(), &wrong.body), (unknown.status, unknown.location(), &unknown.body));
    let page = portal.client().get("/sign-in?error=access").await;
    assert!(page.body.contains("not available") && !page.body.contains("Asked us to close"), "a neutral message");
    // Nor does a forgotten-password link go out while access is ended.
    portal.client().post_form("/api/recovery/forgot-password", &[("user_id", "alice"), ("email", "alice.johnson@example.org")]).await;
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_links").fetch_one(pool).await.unwrap();
    assert_eq!(links, 0);

    // The staff page shows it, with the reason.
    let detail = desk.call_form("/api/patients/detail", &[("id", &alice)]).await;
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    assert_eq!(detail["patient"]["access"]["Terminated"]["reason"], "Asked us to close the account", "{detail}");

    // Restored, she signs in again.
    assert_eq!(restore(&desk, &alice, "").await.location(), Some(format!("/staff/patients/{alice}?error=reason").as_str()));
    let r = restore(&desk, &alice, "Called to reopen it").await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice}?done=restored").as_str()));
    let back = portal.client();
    assert_eq!(back.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    assert_eq!(back.get("/home").await.status, 200);
    assert_eq!(laptop.get("/home").await.status, 303, "ended sessions stay ended");

    // Both in the audit trail, by the member of staff, about Alice.
    for action in ["access.terminated", "access.restored"] {
        let (actor, subject, record): (Option<String>, Option<String>, Option<String>) =
            sqlx::query_as("SELECT actor_id, subject_id, record_id FROM audit_log WHERE action = $1").bind(action).fetch_one(pool).await.unwrap();
        assert_eq!(actor.as_ref(), Some(&desk_user), "{action}");
        assert_eq!(subject.as_ref(), Some(&alice_user), "{action}");
        assert_eq!(record.as_ref(), Some(&alice), "{action}");
    }
    let (by, at, reason): (Option<String>, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT access_changed_by, access_changed_at, access_reason FROM users WHERE id = $1").bind(&alice_user).fetch_one(pool).await.unwrap();
    assert_eq!(by, Some(desk_user));
    assert!(at.is_some());
    assert_eq!(reason.as_deref(), Some("Called to reopen it"));
    let sign_in_refusals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sign-in.failed' AND subject_id = $1")
        .bind(&alice_user)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sign_in_refusals, 2, "both refused attempts are recorded");
    portal.stop().await;
}

/// Ending access for a record that has no account changes nothing, and says so.
async fn ending_access_without_an_account_changes_nothing(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let r = terminate(&desk, &dora, "No account to end").await;
    assert_ne!(
        r.location(),
        Some(format!("/staff/patients/{dora}?done=terminated").as_str()),
        "the front desk is not told that access was ended when there was none to end"
    );
    assert!(!audit_actions(&portal).await.iter().any(|a| a == "access.terminated"));
    portal.stop().await;
}

/// A reset link mailed before access was ended must not change the account's password
/// afterwards: whoever holds the link would know the password when access is restored.
async fn a_reset_link_sent_before_access_ended_no_longer_works(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let anon = portal.client();
    anon.post_form("/api/recovery/forgot-password", &[("user_id", "alice"), ("email", "alice.johnson@example.org")]).await;
    let token = crate::enrolment::token_in(&crate::enrolment::mail_to(&portal, "alice.johnson@example.org", "reset the password", 15).await);
    let desk = staff(&portal, "frontdesk").await;
    let alice = patient_by_mrn(&portal, "MRN100001").await;
    terminate(&desk, &alice, "Suspected misuse").await;
    let hash_before: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    let r = anon
        .post_form(
            "/api/recovery/reset-password",
            &[("token", &token), ("password", "attacker chosen passphrase"), ("password_again", "attacker chosen passphrase")],
        )
        .await;
    let hash_after: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert_eq!(hash_after, hash_before, "the password of an account whose access was ended was changed by a link (went to {:?})", r.location());
    assert!(r.location().unwrap_or_default().contains("error=link"), "{:?}", r.location());
    restore(&desk, &alice, "Cleared").await;
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    portal.stop().await;
}

/// Every front-desk function, as `(endpoint, fields)`.
fn front_desk_functions(request: &str, record: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        ("/api/enrolment/queue", vec![]),
        ("/api/enrolment/detail", vec![("id", request.to_string())]),
        ("/api/enrolment/approve", vec![("request_id", request.to_string()), ("link_to", "new".into()), ("email_code", "yes".into())]),
        ("/api/enrolment/decline", vec![("request_id", request.to_string()), ("reason", "identity".into()), ("note", "".into())]),
        ("/api/patients/search", vec![("q", "Johnson".into())]),
        ("/api/patients/detail", vec![("id", record.to_string())]),
        ("/api/patients/issue-code", vec![("patient_id", record.to_string()), ("email_code", "yes".into())]),
        ("/api/patients/revoke-code", vec![("patient_id", record.to_string()), ("code_id", "0".repeat(32))]),
        ("/api/patients/new-code", vec![("patient_id", record.to_string())]),
        ("/api/access/terminate", vec![("patient_id", record.to_string()), ("reason", "because".into())]),
        ("/api/access/restore", vec![("patient_id", record.to_string()), ("reason", "because".into())]),
        ("/api/terms/publish", vec![("title", "Mine".into()), ("body", "A body that is long enough to publish.".into()), ("effective_date", "".into())]),
        ("/api/terms/versions", vec![]),
    ]
}

async fn only_the_front_desk_and_administrators_manage_access(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    request_access(&portal.client(), &FIONA, &terms).await;
    let request = request_id(&portal, FIONA.email).await;
    let alice = patient_by_mrn(&portal, "MRN100001").await;
    let functions = front_desk_functions(&request, &alice);

    let anonymous = portal.client();
    let mut callers = vec![("anonymous", anonymous, 401)];
    callers.push(("a patient", patient(&portal, "carol", DEMO_PASSWORD).await, 403));
    for login in ["drlee", "billing", "auditor"] {
        callers.push((login, staff(&portal, login).await, 403));
    }
    for (who, c, expected) in &callers {
        for (path, fields) in &functions {
            let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let as_wasm = c.call_form(path, &form).await;
            assert_eq!(as_wasm.status, *expected, "{who} calls {path}: {}", as_wasm.body);
            // A plain form post without a session goes to the sign-in page, as a page would.
            let as_form = c.post_form(path, &form).await;
            if *who == "anonymous" {
                assert_eq!((as_form.status, as_form.location()), (303, Some("/staff/sign-in")), "{who} posts {path}");
            } else {
                assert_eq!(as_form.status, *expected, "{who} posts {path}");
            }
        }
        // The staff pages: a patient or a stranger is sent to the staff sign-in; other staff get
        // no data.
        let page = c.get(&format!("/staff/enrolment/{request}")).await;
        if *who == "anonymous" || *who == "a patient" {
            assert_eq!(page.status, 303, "{who}");
            assert_eq!(page.location(), Some("/staff/sign-in"), "{who}");
        } else {
            assert!(!page.body.contains(FIONA.email), "{who} sees the request");
        }
        let page = c.get(&format!("/staff/patients/{alice}")).await;
        assert!(!page.body.contains("1948-03-12") && !page.body.contains("alice.johnson@example.org"), "{who} sees Alice's record");
    }
    // The front desk may use its functions, but not publish terms.
    let desk = staff(&portal, "frontdesk").await;
    assert_eq!(desk.call_form("/api/enrolment/queue", &[]).await.status, 200);
    assert_eq!(desk.call_form("/api/patients/search", &[("q", "Johnson")]).await.status, 200);
    assert_eq!(desk.call_form("/api/terms/versions", &[]).await.status, 403);
    let admin = staff(&portal, "admin").await;
    assert_eq!(admin.call_form("/api/enrolment/queue", &[]).await.status, 200);

    // Nothing was changed by the refused calls.
    let state: String = sqlx::query_scalar("SELECT state FROM enrolment_requests WHERE id = $1").bind(&request).fetch_one(pool).await.unwrap();
    assert_eq!(state, "pending");
    let access: String = sqlx::query_scalar("SELECT access FROM users WHERE login = 'alice'").fetch_one(pool).await.unwrap();
    assert_eq!(access, "active");
    let counts: (i64, i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM activation_codes), (SELECT COUNT(*) FROM terms_versions), (SELECT COUNT(*) FROM patients)")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(counts, (0, 1, 5));
    portal.stop().await;
}

/// A patient's own pages never show another patient's account or record.
async fn a_patient_cannot_reach_the_staff_code_page(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = crate::enrolment::issue_code(&desk, &dora).await;
    // Even holding the cookie that carries the code, a patient does not get the page.
    let carol = patient(&portal, "carol", DEMO_PASSWORD).await;
    let url = url::Url::parse(&portal.base).unwrap();
    carol.jar.add_cookie_str(&format!("portal_new_code={dora}.{code}"), &url);
    let page = carol.get(&format!("/staff/patients/{dora}/code")).await;
    assert_eq!(page.status, 303);
    assert!(!page.body.contains(&code));
    let call = carol.call_form("/api/patients/new-code", &[("patient_id", &dora)]).await;
    assert_eq!(call.status, 403);
    portal.stop().await;
}

on_both_databases!(
    ending_access_ends_every_session_and_refuses_sign_in,
    ending_access_without_an_account_changes_nothing,
    a_reset_link_sent_before_access_ended_no_longer_works,
    only_the_front_desk_and_administrators_manage_access,
    a_patient_cannot_reach_the_staff_code_page,
);
