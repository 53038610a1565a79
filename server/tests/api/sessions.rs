use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use std::time::Duration;

async fn audit_actions(portal: &TestPortal) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log ORDER BY seq").fetch_all(&portal.state.db.pool).await.unwrap()
}

/// The session rules run on the portal's clock, which these tests fix and move by hand: how
/// long the machine takes to answer (a loaded CI runner) cannot move a request across a limit.
fn fixed_clock(c: &mut server::config::Config) -> app::platform::clock::Clock {
    let clock = app::platform::clock::Clock::fixed_at(app::platform::now_ms());
    c.clock = clock.clone();
    clock
}

async fn an_idle_session_ends_and_the_sign_in_page_says_why(backend: Backend) {
    let mut clock = None;
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.sessions.idle_timeout = Duration::from_millis(1500);
        c.portal.sessions.idle_warning = Duration::from_millis(500);
        clock = Some(fixed_clock(c));
    })
    .await;
    let clock = clock.unwrap();
    let c = portal.client();
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    clock.advance(1400);
    assert_eq!(c.get("/home").await.status, 200, "inside the idle limit");
    clock.advance(1501);
    let r = c.get("/home").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/sign-in?reason=timeout"));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"), "the dead cookie is removed");
    assert!(audit_actions(&portal).await.contains(&"session.timeout".to_string()));
    portal.stop().await;
}

async fn activity_keeps_a_session_alive_until_the_absolute_limit(backend: Backend) {
    let mut clock = None;
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.sessions.idle_timeout = Duration::from_secs(60);
        c.portal.sessions.absolute_timeout = Duration::from_millis(2500);
        clock = Some(fixed_clock(c));
    })
    .await;
    let clock = clock.unwrap();
    let c = portal.client();
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    for _ in 0..4 {
        clock.advance(600);
        assert_eq!(c.get("/home").await.status, 200, "active, inside the absolute limit");
    }
    clock.advance(101);
    assert_eq!(c.get("/home").await.location(), Some("/sign-in?reason=timeout"), "the absolute limit ends it however active");
    portal.stop().await;
}

async fn the_page_can_ask_how_long_is_left_and_stay_signed_in(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let anonymous = c.call("/api/session/status").await;
    assert_eq!(anonymous.status, 401);
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let status = c.call("/api/session/status").await;
    assert_eq!(status.status, 200, "{}", status.body);
    let left: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    let secs = left["remaining_secs"].as_u64().unwrap();
    assert!((890..=900).contains(&secs), "{secs}");
    let stay = c.call("/api/session/stay").await;
    assert_eq!(stay.status, 200);
    // The countdown reached zero in the page: the session ends as timed out.
    assert_eq!(c.call("/api/session/time-out").await.status, 200);
    assert_eq!(c.get("/home").await.location(), Some("/sign-in"));
    assert_eq!(c.get("/sign-in?reason=timeout").await.status, 200, "the sign-in page shows, not home");
    assert!(audit_actions(&portal).await.contains(&"session.timeout".to_string()));
    portal.stop().await;
}

async fn sign_out_ends_the_session_on_the_server(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let secret = c.jar_cookie("portal_session").unwrap();
    let out = c.post_form("/api/sign-out", &[]).await;
    assert_eq!(out.location(), Some("/sign-in?reason=signed-out"));
    assert_eq!(out.header("clear-site-data"), Some("\"cache\", \"storage\""));
    // The old cookie, replayed, opens nothing.
    let replay = crate::support::Client::new(&portal.base);
    let url = url::Url::parse(&portal.base).unwrap();
    replay.jar.add_cookie_str(&format!("portal_session={secret}"), &url);
    assert_eq!(replay.get("/home").await.location(), Some("/sign-in"));
    assert!(audit_actions(&portal).await.contains(&"sign-out".to_string()));
    portal.stop().await;
}

async fn sessions_left_open_are_ended_by_the_server_on_time(backend: Backend) {
    let mut clock = None;
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.sessions.idle_timeout = Duration::from_millis(1000);
        c.portal.sessions.idle_warning = Duration::from_millis(200);
        clock = Some(fixed_clock(c));
    })
    .await;
    let clock = clock.unwrap();
    let c = portal.client();
    c.sign_in("robert", DEMO_PASSWORD, "patient").await;
    let sweep = || app::session::server::end_expired(&portal.state.db, &portal.state.settings.sessions, clock.now_ms());
    clock.advance(999);
    assert_eq!(sweep().await.unwrap(), 0, "not before the idle limit");
    clock.advance(1);
    assert_eq!(sweep().await.unwrap(), 1);
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(open, 0);
    portal.stop().await;
}

on_both_databases!(
    an_idle_session_ends_and_the_sign_in_page_says_why,
    activity_keeps_a_session_alive_until_the_absolute_limit,
    the_page_can_ask_how_long_is_left_and_stay_signed_in,
    sign_out_ends_the_session_on_the_server,
    sessions_left_open_are_ended_by_the_server_on_time,
);
