use crate::on_both_databases;
use crate::support::{captured_logs, Backend, TestPortal, DEMO_PASSWORD};

async fn patient_signs_in_and_sees_their_home(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let anonymous = c.get("/home").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.location(), Some("/sign-in"));

    let r = c.sign_in("Alice", DEMO_PASSWORD, "patient").await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.location(), Some("/home"));
    let cookie = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let session = cookie.iter().find(|c| c.starts_with("portal_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let secret = session.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert!(secret.len() >= 43, "at least 256 bits of secret");

    let home = c.get("/home").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Welcome, Alice"));
    assert!(home.body.contains("Not for emergencies"));
    // Signed in, the sign-in page leads home.
    assert_eq!(c.get("/sign-in").await.location(), Some("/home"));
    portal.stop().await;
}

async fn a_new_sign_in_gets_a_new_session_id(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let first = c.jar_cookie("portal_session");
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let second = c.jar_cookie("portal_session");
    assert!(first.is_some() && second.is_some());
    assert_ne!(first, second);
    portal.stop().await;
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let wrong = c.sign_in("alice", "not her password", "patient").await;
    let unknown = c.sign_in("nobody-here", "whatever password", "patient").await;
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.location(), Some("/sign-in?error=refused"));
    assert_eq!(unknown.location(), wrong.location());
    assert!(wrong.headers.get("set-cookie").is_none() || !wrong.header("set-cookie").unwrap().starts_with("portal_session=x"));
    assert_eq!(c.get("/home").await.status, 303);
    portal.stop().await;
}

async fn each_portal_admits_only_its_own_people(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let staff_on_patient_page = portal.client().sign_in("drlee", DEMO_PASSWORD, "patient").await;
    assert_eq!(staff_on_patient_page.location(), Some("/sign-in?error=refused"));
    let patient_on_staff_page = portal.client().sign_in("alice", DEMO_PASSWORD, "staff").await;
    assert_eq!(patient_on_staff_page.location(), Some("/staff/sign-in?error=refused"));

    let staff = portal.client();
    assert_eq!(staff.sign_in("drlee", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
    let page = staff.get("/staff").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Clinician"));
    assert_eq!(staff.get("/home").await.location(), Some("/sign-in"), "staff cannot open patient pages");

    let patient = portal.client();
    patient.sign_in("alice", DEMO_PASSWORD, "patient").await;
    assert_eq!(patient.get("/staff").await.location(), Some("/staff/sign-in"), "patients cannot open staff pages");
    portal.stop().await;
}

async fn repeated_failures_are_throttled_but_the_patients_own_browser_is_not(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    // The patient's own browser has signed in before and carries the device cookie.
    let own = portal.client();
    own.sign_in("alice", DEMO_PASSWORD, "patient").await;
    own.post_form("/api/sign-out", &[]).await;

    let attacker = portal.client();
    for _ in 0..5 {
        let r = attacker.sign_in("alice", "guess", "patient").await;
        assert_eq!(r.location(), Some("/sign-in?error=refused"));
    }
    let throttled = attacker.sign_in("alice", DEMO_PASSWORD, "patient").await;
    assert!(throttled.location().unwrap().starts_with("/sign-in?error=throttled"), "{:?}", throttled.location());
    assert_eq!(attacker.get("/home").await.status, 303, "even the right password waits");

    let mine = own.sign_in("alice", DEMO_PASSWORD, "patient").await;
    assert_eq!(mine.location(), Some("/home"), "the patient's own browser is not locked out");

    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_attempts")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 8, "every attempt is recorded");
    portal.stop().await;
}

async fn nothing_personal_reaches_the_logs(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    c.sign_in("carol", "Carol's wrong secret", "patient").await;
    c.sign_in("carol", DEMO_PASSWORD, "patient").await;
    c.get("/account/activity").await;
    c.get("/home").await;
    portal.smtp.wait_for(1, 10).await;
    let logs = captured_logs();
    assert!(logs.contains("request"), "the request log is captured");
    for secret in [DEMO_PASSWORD, "Carol's wrong secret", "Carol Nguyen", "carol.nguyen@example.org", "1985-11-02", "user_id=carol"] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
    portal.stop().await;
}

on_both_databases!(
    patient_signs_in_and_sees_their_home,
    a_new_sign_in_gets_a_new_session_id,
    wrong_password_and_unknown_user_get_the_same_answer,
    each_portal_admits_only_its_own_people,
    repeated_failures_are_throttled_but_the_patients_own_browser_is_not,
    nothing_personal_reaches_the_logs,
);
