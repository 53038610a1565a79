//! Maintenance windows (SPEC R-GEN-1) against the running server, on both databases:
//! administrators schedule and cancel them (audited, others refused); patients see a notice
//! ahead of a window on their pages and the public sign-in page, in the clinic's time zone, and
//! can dismiss it without JavaScript; during a window every patient-facing request gets the
//! maintenance page (503, Retry-After, nothing personal) and patients cannot sign in, while
//! staff sign in and work and health checks and site files are untouched.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

/// The clinic's zone in the tests (the default, `MessagingPolicy::default()`).
fn zone(portal: &TestPortal) -> jiff::tz::TimeZone {
    portal.state.settings.messaging.time_zone.clone()
}

/// A `datetime-local` value `minutes` from now in the clinic's zone, as the staff form sends it.
fn local_in(portal: &TestPortal, minutes: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(minutes);
    t.to_zoned(zone(portal)).strftime("%Y-%m-%dT%H:%M").to_string()
}

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in");
    c
}

async fn go(c: &Client, path: &str, fields: &[(&str, &str)]) -> String {
    let r = c.post_form(path, fields).await;
    assert_eq!(r.status, 302, "{path}: {}", r.body);
    r.location().unwrap_or_default().to_string()
}

/// Schedules a window through the staff form; returns its id.
async fn schedule(portal: &TestPortal, admin: &Client, from_min: i64, to_min: i64, message: &str) -> String {
    let (starts, ends) = (local_in(portal, from_min), local_in(portal, to_min));
    let to = go(admin, "/api/staff/maintenance/schedule", &[("starts", &starts), ("ends", &ends), ("message", message)]).await;
    assert_eq!(to, "/staff/maintenance?done=scheduled");
    sqlx::query("SELECT id FROM maintenance_windows WHERE message = $1").bind(message).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn audit_of(portal: &TestPortal, action: &str) -> Vec<(String, String)> {
    sqlx::query("SELECT actor_id, record_id FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get("actor_id").unwrap(), r.try_get("record_id").unwrap()))
        .collect()
}

async fn admin_id(portal: &TestPortal) -> String {
    sqlx::query("SELECT id FROM users WHERE login = 'admin'").fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

/// Only administrators schedule and cancel; bad times and messages are refused with short
/// codes and store nothing; each change is audited against the window.
async fn administrators_schedule_and_cancel_windows(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let page = admin.get("/staff/maintenance").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No maintenance windows are scheduled"), "{}", page.body);

    let (now, later) = (local_in(&portal, 60), local_in(&portal, 120));
    let (past, less_past) = (local_in(&portal, -120), local_in(&portal, -60));
    let long = "x".repeat(501);
    for (starts, ends, message, code) in [
        (&later, &now, "Upgrade", "times"),
        (&past, &less_past, "Upgrade", "times"),
        (&"tomorrow".to_string(), &later, "Upgrade", "times"),
        (&now, &later, "   ", "message"),
        (&now, &later, long.as_str(), "message"),
    ] {
        let to = go(&admin, "/api/staff/maintenance/schedule", &[("starts", starts), ("ends", ends), ("message", message)]).await;
        assert_eq!(to, format!("/staff/maintenance?error={code}"), "{starts} {ends} {message:?}");
    }
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM maintenance_windows").fetch_one(&portal.state.db.pool).await.unwrap().try_get("n").unwrap();
    assert_eq!(stored, 0);

    for (login, kind) in [("frontdesk", "staff"), ("drlee", "staff"), ("auditor", "staff"), ("alice", "patient")] {
        let c = signed_in(&portal, login, kind).await;
        let r = c.post_form("/api/staff/maintenance/schedule", &[("starts", &now), ("ends", &later), ("message", "Nope")]).await;
        assert_eq!(r.status, 403, "{login} schedules");
        assert_eq!(c.post_form("/api/staff/maintenance/cancel", &[("id", "0123")]).await.status, 403, "{login} cancels");
        assert_eq!(c.call("/api/staff/maintenance/list").await.status, 403, "{login} reads the list");
    }

    let id = schedule(&portal, &admin, 60, 120, "The portal gets a new database server.").await;
    let page = admin.get("/staff/maintenance").await;
    assert!(page.body.contains("The portal gets a new database server."), "{}", page.body);
    assert!(page.body.contains("To come"), "{}", page.body);
    // The times are the clinic's (America/New_York by default), as the form gave them.
    let starts_text = app::maintenance::server::local_text(
        jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", &now).unwrap().to_zoned(zone(&portal)).unwrap().timestamp().as_millisecond(),
        &zone(&portal),
    );
    assert!(page.body.contains(&starts_text), "{starts_text} in {}", page.body);

    assert_eq!(go(&admin, "/api/staff/maintenance/cancel", &[("id", &id)]).await, "/staff/maintenance?done=cancelled");
    assert_eq!(go(&admin, "/api/staff/maintenance/cancel", &[("id", &id)]).await, "/staff/maintenance?error=unchanged");
    assert!(admin.get("/staff/maintenance").await.body.contains("Cancelled"));
    let who = admin_id(&portal).await;
    assert_eq!(audit_of(&portal, "maintenance.scheduled").await, vec![(who.clone(), id.clone())]);
    assert_eq!(audit_of(&portal, "maintenance.cancelled").await, vec![(who, id)]);
    portal.stop().await;
}

/// From 72 hours before a window, the patient's pages and the public sign-in page carry the
/// notice with the times in the clinic's zone; a window further off is not announced yet.
/// Dismissing it (a plain form post) returns to the page and hides that window's notice in
/// this browser only; a later window is announced again.
async fn patients_are_told_ahead_and_can_dismiss_the_notice(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let far = schedule(&portal, &admin, 80 * 60, 81 * 60, "Far-off window.").await;
    let alice = signed_in(&portal, "alice", "patient").await;
    assert!(!alice.get("/home").await.body.contains("Planned maintenance"), "80 hours ahead is not announced yet");

    let id = schedule(&portal, &admin, 24 * 60, 26 * 60, "We are moving to new servers.").await;
    let window = sqlx::query("SELECT starts_at, ends_at FROM maintenance_windows WHERE id = $1").bind(&id).fetch_one(&portal.state.db.pool).await.unwrap();
    let starts = app::maintenance::server::local_text(window.try_get("starts_at").unwrap(), &zone(&portal));
    let ends = app::maintenance::server::local_text(window.try_get("ends_at").unwrap(), &zone(&portal));
    for (who, path) in [(&alice, "/home"), (&alice, "/messages"), (&alice, "/billing"), (&portal.client(), "/sign-in"), (&portal.client(), "/")] {
        let page = who.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("Planned maintenance"), "{path}: {}", page.body);
        assert!(page.body.contains(&starts) && page.body.contains(&ends), "{path} shows {starts} to {ends}: {}", page.body);
        assert!(page.body.contains("We are moving to new servers."), "{path}");
    }
    // Staff pages do not carry it (staff keep working through a window).
    assert!(!admin.get("/staff").await.body.contains("Planned maintenance"));

    let r = alice.post_form("/api/maintenance/dismiss", &[("window", &id), ("back", "/messages")]).await;
    assert_eq!(r.status, 302);
    assert_eq!(r.location(), Some("/messages"));
    assert_eq!(alice.jar_cookie(app::maintenance::DISMISSED_COOKIE).as_deref(), Some(id.as_str()));
    assert!(!alice.get("/home").await.body.contains("Planned maintenance"), "dismissed in this browser");
    assert!(portal.client().get("/sign-in").await.body.contains("Planned maintenance"), "other browsers still see it");

    // Only a page of this site is a place to go back to.
    for back in ["https://evil.example/", "//evil.example/", "/\\evil.example"] {
        let r = alice.post_form("/api/maintenance/dismiss", &[("window", &id), ("back", back)]).await;
        assert_eq!(r.location(), Some("/"), "{back}");
    }
    // Cancelling the near window brings the far one up to be announced, once it is within 72
    // hours; here it is not, so nothing shows.
    assert_eq!(go(&admin, "/api/staff/maintenance/cancel", &[("id", &id)]).await, "/staff/maintenance?done=cancelled");
    let fresh = portal.client();
    assert!(!fresh.get("/sign-in").await.body.contains("Planned maintenance"));
    // A new window is announced again to the browser that dismissed the earlier one.
    schedule(&portal, &admin, 48 * 60, 49 * 60, "Second window.").await;
    assert!(alice.get("/home").await.body.contains("Second window."));
    let _ = far;
    portal.stop().await;
}

/// During a window: patients' pages and server functions, the public pages and patient files
/// answer 503 with Retry-After (the seconds until the end) and the maintenance page, which has
/// no personal data; a patient cannot sign in (by password or passkey); staff sign in and use
/// their pages; health checks and site files are unaffected. Ending the window early restores
/// the portal at once on this server.
async fn during_a_window_patients_get_the_maintenance_page_and_staff_work(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let alice = signed_in(&portal, "alice", "patient").await;
    assert_eq!(alice.get("/home").await.status, 200);
    let id = schedule(&portal, &admin, -5, 60, "Planned upgrade of the portal.").await;

    let session_cookie = portal.state.settings.session_cookie_name().to_string();
    let anonymous = portal.client();
    for (who, path) in [
        (&alice, "/home"),
        (&alice, "/messages"),
        (&alice, "/billing"),
        (&alice, "/account"),
        (&alice, "/billing/statements/0123456789abcdef0123456789abcdef.pdf"),
        (&alice, "/attachments/0123456789abcdef0123456789abcdef"),
        (&anonymous, "/"),
        (&anonymous, "/sign-in"),
        (&anonymous, "/enrol"),
        (&anonymous, "/activate"),
        (&anonymous, "/forgot-password"),
        (&anonymous, "/terms"),
    ] {
        let r = who.get(path).await;
        assert_eq!(r.status, 503, "{path}");
        let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((55 * 60..=60 * 60).contains(&retry), "{path}: Retry-After {retry}");
        assert!(r.body.contains("down for maintenance") && r.body.contains("Planned upgrade of the portal."), "{path}: {}", r.body);
        assert!(r.header("cache-control").unwrap_or_default().contains("no-store"), "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'none'") && !csp.contains("script-src"), "{path}: no script may run: {csp}");
        for personal in ["Alice", "Johnson", "alice.johnson", "Alex Rivera"] {
            assert!(!r.body.contains(personal), "{path} shows {personal}");
        }
    }
    // Server functions the patient's pages call.
    for path in ["/api/account/overview", "/api/session/status", "/api/messages/send"] {
        assert_eq!(alice.call(path).await.status, 503, "{path}");
    }
    // A patient cannot sign in, by password (sent back to the sign-in page, which is the
    // maintenance page) or passkey; no session is opened.
    let bob = portal.client();
    let r = bob.sign_in("robert", DEMO_PASSWORD, "patient").await;
    assert_eq!(r.location(), Some("/sign-in"));
    assert!(bob.jar_cookie(&session_cookie).is_none());
    let r = bob.call_form("/api/passkeys/sign-in-finish", &[("ceremony", "x"), ("credential", "{}"), ("portal", "patient")]).await;
    assert!(r.status >= 400 && r.body.contains("maintenance"), "{} {}", r.status, r.body);
    // Nor through the staff door.
    let r = bob.sign_in("robert", DEMO_PASSWORD, "staff").await;
    assert_eq!(r.location(), Some("/staff/sign-in?error=refused"));
    assert!(bob.jar_cookie(&session_cookie).is_none());

    // Staff sign in and work; the admin ends the window.
    let staff = portal.client();
    assert_eq!(staff.get("/staff/sign-in").await.status, 200);
    let r = staff.sign_in("drlee", DEMO_PASSWORD, "staff").await;
    assert_eq!(r.status, 302);
    assert!(staff.jar_cookie(&session_cookie).is_some());
    assert_eq!(staff.get("/staff").await.status, 200);
    assert_eq!(staff.get("/staff/messages").await.status, 200);
    assert_eq!(admin.get("/staff/maintenance").await.status, 200);
    assert!(admin.get("/staff/maintenance").await.body.contains("In progress"));

    for path in ["/healthz", "/readyz", "/favicon.svg"] {
        assert_eq!(anonymous.get(path).await.status, 200, "{path}");
    }

    assert_eq!(go(&admin, "/api/staff/maintenance/cancel", &[("id", &id)]).await, "/staff/maintenance?done=cancelled");
    assert_eq!(alice.get("/home").await.status, 200, "the session survived the window");
    assert_eq!(anonymous.get("/sign-in").await.status, 200);
    assert_eq!(bob.sign_in("robert", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    portal.stop().await;
}

/// A window stored by another app server (straight into the shared database) is applied here
/// once this server's copy of the schedule is older than its few seconds, without a restart.
async fn a_window_from_another_server_applies_within_the_cache_time(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    assert_eq!(c.get("/sign-in").await.status, 200);
    let now = app::platform::now_ms();
    let admin = admin_id(&portal).await;
    sqlx::query("INSERT INTO maintenance_windows (id, starts_at, ends_at, message, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind("00000000000000000000000000000001")
        .bind(now - 1_000)
        .bind(now + 3_600_000)
        .bind("Elsewhere.")
        .bind(now)
        .bind(&admin)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    // Polls for up to a minute: the copy is at most CACHE_TTL (5 s) old; the bound only
    // catches a server that never looks again.
    let mut status = 0;
    for _ in 0..120 {
        status = c.get("/sign-in").await.status;
        if status == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(status, 503);
    portal.stop().await;
}

on_both_databases!(
    administrators_schedule_and_cancel_windows,
    patients_are_told_ahead_and_can_dismiss_the_notice,
    during_a_window_patients_get_the_maintenance_page_and_staff_work,
    a_window_from_another_server_applies_within_the_cache_time,
);
