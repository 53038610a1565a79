//! Video visits against the running server, on both databases (SPEC R-GEN-5): who may schedule,
//! cancel and see which visit; a patient reaches only their own visits by any id (404); Begin
//! visit hands out the join link only after the acknowledgement, recorded with its time,
//! address and wording and audited, and only through the signed leaving page; nothing opens
//! before the visit's window or after a cancellation; scheduling refuses what it should.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

const ALICE: &str = "MRN100001";
const JOIN: &str = "https://video.example.org/room/7f3a9c?pin=4412";

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in: {}", r.body);
    c
}

async fn count_with(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn text(portal: &TestPortal, sql: &str, bind: &str) -> String {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<String, _>(0).unwrap()
}

async fn user_id(portal: &TestPortal, login: &str) -> String {
    text(portal, "SELECT id FROM users WHERE login = $1", login).await
}

/// The clinic-time date and time `minutes` from now (the demo clinic is in America/New_York).
fn clinic_time_in(minutes: i64) -> (String, String) {
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let at = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_mins(minutes)).unwrap().to_zoned(zone);
    (at.strftime("%Y-%m-%d").to_string(), at.strftime("%H:%M").to_string())
}

/// Schedules a visit as `staff`, `minutes_ahead` from now; the reply's redirect.
async fn schedule(staff: &Client, mrn: &str, clinician: &str, minutes_ahead: i64, length: &str, link: &str) -> crate::support::Reply {
    let (date, time) = clinic_time_in(minutes_ahead);
    staff
        .post_form(
            "/api/staff/visits/schedule",
            &[("mrn", mrn), ("clinician", clinician), ("date", &date), ("time", &time), ("minutes", length), ("join_link", link)],
        )
        .await
}

/// The id of the latest visit scheduled.
async fn latest_visit(portal: &TestPortal) -> String {
    sqlx::query("SELECT id FROM video_visits ORDER BY scheduled_at DESC, starts_at DESC LIMIT 1")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

async fn audit_count(portal: &TestPortal, action: &str, record: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND record_id = $2")
        .bind(action)
        .bind(record)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://portal.test{location}")).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Staff (front desk, clinicians) schedule; the patient is told by the new-in-portal notice and
/// sees the visit; another patient reaches it by no function or page (404), signed out nothing
/// answers, and roles outside clinicians and front desk are refused every staff function.
async fn staff_schedule_and_a_patient_reaches_only_their_own(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let drlee = user_id(&portal, "drlee").await;
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;

    let r = schedule(&frontdesk, ALICE, &drlee, 2 * 24 * 60, "30", JOIN).await;
    assert_eq!(r.location(), Some("/staff/visits?done=scheduled"), "{}", r.body);
    let visit = latest_visit(&portal).await;
    assert_eq!(audit_count(&portal, "video-visit.scheduled", &visit).await, 1);
    let alice_email = text(&portal, "SELECT email FROM users WHERE login = $1", "alice").await;
    assert_eq!(
        count_with(&portal, "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND notice = 'visits-changed'", &alice_email).await,
        1,
        "Alice is told something new waits (the visits notice)"
    );
    // The notice is fixed text: no visit, no clinician, no link.
    let mail = crate::enrolment::mail_to(&portal, &alice_email, "Something new is waiting", 30).await.text();
    for secret in ["video", "Lee", "7f3a9c", "visit"] {
        assert!(!mail.to_lowercase().contains(&secret.to_lowercase()), "the e-mail says nothing of {secret}: {mail}");
    }

    // A clinician schedules too.
    let clinician = signed_in(&portal, "drlee", "staff").await;
    let r = clinician.call("/api/staff/visits").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Alice Johnson") && r.body.contains("video.example.org"), "{}", r.body);
    assert!(!r.body.contains("7f3a9c"), "the staff list shows the service's host, not the room: {}", r.body);
    let page = clinician.get("/staff/visits").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Schedule a video visit"));
    // The staff list names patients: each look is audited, by whom.
    let looks: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'video-visit.list-viewed' AND actor_id = $1")
        .bind(&drlee)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(looks, 2, "the function and the page");

    // Alice sees it, without the join link.
    let alice = signed_in(&portal, "alice", "patient").await;
    let page = alice.get("/visits").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Dr. Morgan Lee") && page.body.contains(&format!("/visits/{visit}")), "{}", page.body);
    assert!(!page.body.contains("video.example.org"), "no join link on the list");
    let page = alice.get(&format!("/visits/{visit}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You can begin this visit from"), "{}", page.body);
    assert!(!page.body.contains("video.example.org"));

    // Robert: 404 by page and by function; his list is empty.
    let robert = signed_in(&portal, "robert", "patient").await;
    assert_eq!(robert.get(&format!("/visits/{visit}")).await.status, 404);
    assert_eq!(robert.post_form("/api/visits/one", &[("id", &visit)]).await.status, 404);
    assert_eq!(robert.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "yes")]).await.status, 404);
    for bad in ["0", "../x", &"A".repeat(32), &"f".repeat(32)] {
        assert_eq!(robert.post_form("/api/visits/one", &[("id", bad)]).await.status, 404, "{bad}");
    }
    let list = robert.call("/api/visits/list").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&visit), "{}", list.body);
    // Patients reach no staff function.
    assert_eq!(robert.call("/api/staff/visits").await.status, 403);
    assert_eq!(robert.post_form("/api/staff/visits/cancel", &[("visit", &visit)]).await.status, 403);

    // Signed out.
    let anonymous = portal.client();
    assert_eq!(anonymous.call("/api/visits/list").await.status, 401);
    let r = anonymous.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "yes")]).await;
    assert_eq!((r.status, r.location()), (303, Some("/sign-in")), "a form sent without a session leads to sign-in");
    assert_eq!(anonymous.call("/api/staff/visits").await.status, 401);

    // Billing, administrators and auditors do not schedule, cancel or list.
    for login in ["billing", "admin", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        assert_eq!(c.call("/api/staff/visits").await.status, 403, "{login} lists");
        assert_eq!(schedule(&c, ALICE, &drlee, 3 * 24 * 60, "30", JOIN).await.status, 403, "{login} schedules");
        assert_eq!(c.post_form("/api/staff/visits/cancel", &[("visit", &visit)]).await.status, 403, "{login} cancels");
        assert_eq!(c.post_form("/api/visits/one", &[("id", &visit)]).await.status, 403, "{login} reads as a patient");
    }
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visits WHERE cancelled_at IS NULL AND id = $1", &visit).await, 1);
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visits WHERE id <> $1", &visit).await, 0, "nothing else stored");
    portal.stop().await;
}

/// Begin visit: the limitations are shown (exam may miss things, connection can fail, the
/// phone to call), the join link is nowhere on the page; without the tick nothing is recorded
/// and no link given; with it, the acknowledgement is stored with the time, address and
/// wording, audited, and the answer is the signed leaving page for the join link.
async fn the_join_link_comes_only_after_the_acknowledgement(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let drlee = user_id(&portal, "drlee").await;
    let alice_user = user_id(&portal, "alice").await;
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    assert_eq!(schedule(&frontdesk, ALICE, &drlee, 6, "30", JOIN).await.status, 302);
    let visit = latest_visit(&portal).await;

    let alice = signed_in(&portal, "alice", "patient").await;
    let page = alice.get(&format!("/visits/{visit}")).await;
    assert_eq!(page.status, 200);
    for needed in ["miss something a physical exam would find", "can fail", "(555) 010-0199", "name=\"understood\"", "Begin visit"] {
        assert!(page.body.contains(needed), "the page says {needed}: {}", page.body);
    }
    assert!(!page.body.contains("video.example.org") && !page.body.contains("7f3a9c"), "no join link before the acknowledgement");
    let list = alice.call("/api/visits/list").await;
    assert!(!list.body.contains("video.example.org"), "nor in any answer: {}", list.body);

    // Without the tick.
    let r = alice.post_form("/api/visits/begin", &[("visit", &visit)]).await;
    assert_eq!(r.location(), Some(format!("/visits/{visit}?error=acknowledge#begin").as_str()));
    let r2 = alice.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "no")]).await;
    assert_eq!(r2.location(), r.location());
    assert!(!r.body.contains("video.example.org") && !r2.body.contains("video.example.org"));
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visit_acknowledgements WHERE visit_id = $1", &visit).await, 0);
    assert_eq!(audit_count(&portal, "video-visit.limitations-acknowledged", &visit).await, 0);
    let page = alice.get(&format!("/visits/{visit}?error=acknowledge")).await;
    assert!(page.body.contains("tick the box"), "{}", page.body);

    // With it.
    let before = app::platform::now_ms();
    let r = alice.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "yes")]).await;
    let after = app::platform::now_ms();
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.location().unwrap().to_string();
    assert!(location.starts_with("/leaving?"), "{location}");
    assert_eq!(query_param(&location, "to").as_deref(), Some(JOIN));
    assert_eq!(query_param(&location, "back").as_deref(), Some(format!("/visits/{visit}").as_str()));
    assert!(query_param(&location, "sig").is_some_and(|s| s.len() >= 40));
    let row = sqlx::query("SELECT user_id, acknowledged_at, client_addr, wording FROM video_visit_acknowledgements WHERE visit_id = $1")
        .bind(&visit)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("user_id"), alice_user);
    let at: i64 = row.get("acknowledged_at");
    assert!((before..=after).contains(&at), "recorded at the time: {before} <= {at} <= {after}");
    assert_eq!(row.get::<Option<String>, _>("client_addr").as_deref(), Some("127.0.0.1"));
    assert_eq!(row.get::<String, _>("wording"), app::telemedicine::LIMITATIONS_VERSION);
    let audited =
        sqlx::query("SELECT actor_id, subject_id, detail, at FROM audit_log WHERE action = 'video-visit.limitations-acknowledged' AND record_id = $1")
            .bind(&visit)
            .fetch_one(&portal.state.db.pool)
            .await
            .unwrap();
    assert_eq!(audited.get::<Option<String>, _>("actor_id").as_deref(), Some(alice_user.as_str()));
    assert_eq!(audited.get::<Option<String>, _>("detail").as_deref(), Some(app::telemedicine::LIMITATIONS_VERSION));
    assert_eq!(audited.get::<i64, _>("at"), at);

    // The leaving page names the host, and Continue is the join link itself, without Referer.
    let leaving = alice.get(&location).await;
    assert_eq!(leaving.status, 200);
    assert!(leaving.body.contains("<strong>video.example.org</strong>"), "{}", leaving.body);
    assert!(leaving.body.contains("not responsible"));
    let continue_href = format!("href=\"{}\" rel=\"external noopener noreferrer\"", JOIN.replace('&', "&amp;"));
    assert!(leaving.body.contains(&continue_href), "{}", leaving.body);
    assert!(leaving.body.contains(&format!("href=\"/visits/{visit}\"")), "Back returns to the visit");

    // Robert cannot acknowledge Alice's visit, and nothing is recorded for him.
    let robert = signed_in(&portal, "robert", "patient").await;
    assert_eq!(robert.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "yes")]).await.status, 404);
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visit_acknowledgements WHERE visit_id = $1", &visit).await, 1);

    // Each Begin is recorded (a patient who lost the connection acknowledges again).
    assert_eq!(alice.post_form("/api/visits/begin", &[("visit", &visit), ("understood", "yes")]).await.status, 302);
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visit_acknowledgements WHERE visit_id = $1", &visit).await, 2);
    assert_eq!(audit_count(&portal, "video-visit.limitations-acknowledged", &visit).await, 2);
    portal.stop().await;
}

/// Begin opens 15 minutes before the start: a visit later than that, or cancelled, gives no
/// link however the box is ticked; a cancellation is audited, tells the patient, moves the
/// visit to Past and cannot be done twice.
async fn nothing_opens_before_the_window_or_after_a_cancellation(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let drlee = user_id(&portal, "drlee").await;
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let alice = signed_in(&portal, "alice", "patient").await;

    assert_eq!(schedule(&frontdesk, ALICE, &drlee, 60, "30", JOIN).await.status, 302);
    let later = latest_visit(&portal).await;
    let r = alice.post_form("/api/visits/begin", &[("visit", &later), ("understood", "yes")]).await;
    assert_eq!(r.location(), Some(format!("/visits/{later}?error=not-open#begin").as_str()));
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visit_acknowledgements WHERE visit_id = $1", &later).await, 0);
    let page = alice.get(&format!("/visits/{later}")).await;
    assert!(!page.body.contains("name=\"understood\""), "no acknowledgement form before the window");

    assert_eq!(schedule(&frontdesk, ALICE, &drlee, 5, "15", JOIN).await.status, 302);
    let soon = latest_visit(&portal).await;
    let clinician = signed_in(&portal, "drlee", "staff").await;
    let alice_email = text(&portal, "SELECT email FROM users WHERE login = $1", "alice").await;
    let notices = count_with(&portal, "SELECT COUNT(*) FROM outbox WHERE recipient = $1", &alice_email).await;
    let r = clinician.post_form("/api/staff/visits/cancel", &[("visit", &soon)]).await;
    assert_eq!(r.location(), Some("/staff/visits?done=cancelled"), "{}", r.body);
    assert_eq!(audit_count(&portal, "video-visit.cancelled", &soon).await, 1);
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM outbox WHERE recipient = $1", &alice_email).await, notices + 1);
    let r = clinician.post_form("/api/staff/visits/cancel", &[("visit", &soon)]).await;
    assert_eq!(r.location(), Some("/staff/visits?error=cancelled"));
    assert_eq!(audit_count(&portal, "video-visit.cancelled", &soon).await, 1, "once");
    assert_eq!(clinician.post_form("/api/staff/visits/cancel", &[("visit", &"e".repeat(32))]).await.status, 404);

    let r = alice.post_form("/api/visits/begin", &[("visit", &soon), ("understood", "yes")]).await;
    assert_eq!(r.location(), Some(format!("/visits/{soon}?error=cancelled#begin").as_str()));
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM video_visit_acknowledgements WHERE visit_id = $1", &soon).await, 0);
    let visits: app::telemedicine::PatientVisits = serde_json::from_str(&alice.call("/api/visits/list").await.body).unwrap();
    assert_eq!(visits.upcoming.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), [later.as_str()]);
    assert_eq!(visits.past.iter().map(|v| (v.id.as_str(), v.state)).collect::<Vec<_>>(), [(soon.as_str(), app::telemedicine::VisitState::Cancelled)]);
    let page = alice.get("/visits").await;
    assert!(page.body.contains("Past and cancelled") && page.body.contains("Cancelled"), "{}", page.body);
    portal.stop().await;
}

/// Scheduling refuses a link that is not https (or not a link), one with the patient's name,
/// an unknown record number, a time past or too far, someone who is not a clinician, and an
/// odd length; each says why by code and stores nothing.
async fn scheduling_refuses_what_it_should(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let drlee = user_id(&portal, "drlee").await;
    let billing = user_id(&portal, "billing").await;
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let day = 24 * 60;
    let cases: Vec<(&str, &str, i64, &str, &str, &str)> = vec![
        (ALICE, &drlee, day, "30", "http://video.example.org/room/1", "link"),
        (ALICE, &drlee, day, "30", "javascript:alert(1)", "link"),
        (ALICE, &drlee, day, "30", "data:text/html,<p>hi</p>", "link"),
        (ALICE, &drlee, day, "30", "https://user:pw@video.example.org/room", "link"),
        (ALICE, &drlee, day, "30", "not a link", "link"),
        (ALICE, &drlee, day, "30", "https://video.example.org/room/alice-johnson", "link-name"),
        (ALICE, &drlee, day, "30", "https://video.example.org/r?who=Johnson", "link-name"),
        ("MRN999999", &drlee, day, "30", JOIN, "patient"),
        (ALICE, &drlee, -60, "30", JOIN, "when"),
        (ALICE, &drlee, 400 * day, "30", JOIN, "when"),
        (ALICE, &billing, day, "30", JOIN, "clinician"),
        (ALICE, "nobody", day, "30", JOIN, "clinician"),
        (ALICE, &drlee, day, "7", JOIN, "length"),
    ];
    for (mrn, clinician, ahead, length, link, code) in cases {
        let r = schedule(&frontdesk, mrn, clinician, ahead, length, link).await;
        assert_eq!(r.location(), Some(format!("/staff/visits?error={code}#schedule").as_str()), "{link} {mrn} {ahead} {length}: {}", r.body);
        let page = frontdesk.get(r.location().unwrap()).await;
        assert!(page.body.contains("role=\"alert\""), "the page says why ({code})");
    }
    let stored: i64 = sqlx::query("SELECT COUNT(*) FROM video_visits").fetch_one(&portal.state.db.pool).await.unwrap().get(0);
    assert_eq!(stored, 0);
    let audited: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'video-visit.scheduled'").fetch_one(&portal.state.db.pool).await.unwrap().get(0);
    assert_eq!(audited, 0);
    portal.stop().await;
}

on_both_databases!(
    staff_schedule_and_a_patient_reaches_only_their_own,
    the_join_link_comes_only_after_the_acknowledgement,
    nothing_opens_before_the_window_or_after_a_cancellation,
    scheduling_refuses_what_it_should,
);
