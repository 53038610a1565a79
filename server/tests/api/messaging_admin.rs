//! The administrators' side of messaging against the running server, on both databases: pools
//! and their members, care teams, out-of-office periods (clinicians their own, administrators
//! anyone's), the holiday list. Who may do what, what the forms answer (short codes only), and
//! that every change leaves its audit entry.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

async fn user_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn pool_id(portal: &TestPortal, name: &str) -> String {
    sqlx::query("SELECT id FROM care_pools WHERE name = $1").bind(name).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn patient_id(portal: &TestPortal, mrn: &str) -> String {
    sqlx::query("SELECT id FROM patients WHERE mrn = $1").bind(mrn).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in");
    c
}

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

/// The audit entries of one action, oldest first: (actor, record type, record id, detail).
async fn audit_of(portal: &TestPortal, action: &str) -> Vec<(String, String, String, String)> {
    sqlx::query("SELECT actor_id, record_type, record_id, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get("actor_id").unwrap(), r.try_get("record_type").unwrap(), r.try_get("record_id").unwrap(), r.try_get("detail").unwrap()))
        .collect()
}

/// Posts a form and returns where it sends the browser.
async fn go(c: &Client, path: &str, fields: &[(&str, &str)]) -> String {
    let r = c.post_form(path, fields).await;
    assert_eq!(r.status, 302, "{path}: {}", r.body);
    r.location().unwrap_or_default().to_string()
}

/// A pool is created (names unique, at most 80 characters), members who work inboxes come and
/// go; each change is audited against the pool.
async fn pools_and_members(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let admin_id = user_id(&portal, "admin").await;
    assert_eq!(go(&admin, "/api/staff/pools/create", &[("name", "Front desk"), ("description", "Appointments and forms")]).await, "/staff/pools?done=pool");
    for bad in ["", "   ", "Nurse line", "FRONT DESK", &"x".repeat(81)] {
        assert_eq!(go(&admin, "/api/staff/pools/create", &[("name", bad), ("description", "")]).await, "/staff/pools?error=name", "{bad:?}");
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM care_pools").await, 3, "the two demo pools and the new one");
    let pool = pool_id(&portal, "Front desk").await;
    let frontdesk = user_id(&portal, "frontdesk").await;

    let member = |user: String, change: &'static str| {
        let pool = pool.clone();
        let admin = &admin;
        async move { go(admin, "/api/staff/pools/member", &[("pool", &pool), ("user", &user), ("change", change)]).await }
    };
    assert_eq!(member(frontdesk.clone(), "add").await, "/staff/pools?done=member-added");
    assert_eq!(member(frontdesk.clone(), "add").await, "/staff/pools?error=unchanged", "already a member");
    assert_eq!(member(user_id(&portal, "auditor").await, "add").await, "/staff/pools?error=unchanged", "auditors work no inbox");
    assert_eq!(member(admin_id.clone(), "add").await, "/staff/pools?error=unchanged", "nor administrators");
    let page = admin.get("/staff/pools?done=member-added").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The member is added."));
    assert!(page.body.contains("Appointments and forms"));
    assert!(page.body.contains("Remove Frances Okafor from Front desk"), "the remove button names whom and where");
    assert_eq!(member(frontdesk.clone(), "remove").await, "/staff/pools?done=member-removed");
    assert_eq!(member(frontdesk.clone(), "remove").await, "/staff/pools?error=unchanged");
    assert_eq!(count(&portal, &format!("SELECT COUNT(*) FROM pool_members WHERE pool_id = '{pool}'")).await, 0);
    let r = admin.post_form("/api/staff/pools/member", &[("pool", "1 OR 1=1"), ("user", &frontdesk), ("change", "add")]).await;
    assert_eq!(r.status, 404, "only our own ids");

    let entries = audit_of(&portal, "pool.changed").await;
    let expected: Vec<_> =
        ["pool created", "member added", "member removed"].into_iter().map(|d| (admin_id.clone(), "pool".to_string(), pool.clone(), d.to_string())).collect();
    assert_eq!(entries, expected);
    portal.stop().await;
}

/// Staff who are not administrators, and patients, get 403 from every setup function (reading
/// included) and change nothing; the holiday list may be read by those who answer messages.
async fn setup_is_refused_to_others(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = pool_id(&portal, "Nurse line").await;
    let alice = patient_id(&portal, "MRN100001").await;
    let drlee = user_id(&portal, "drlee").await;
    let absences_before = count(&portal, "SELECT COUNT(*) FROM absences").await;
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/api/staff/pools/list", vec![]),
        ("/api/staff/pools/create", vec![("name", "Mine"), ("description", "")]),
        ("/api/staff/pools/member", vec![("pool", &pool), ("user", &drlee), ("change", "add")]),
        ("/api/staff/care-teams/load", vec![("patient", &alice)]),
        ("/api/staff/care-teams/search", vec![("q", "Johnson")]),
        ("/api/staff/care-teams/change", vec![("patient", &alice), ("who", "pool:00000000000000000000000000000000"), ("change", "add")]),
        ("/api/staff/holidays/change", vec![("day", "2031-12-24"), ("name", "Eve"), ("change", "add")]),
    ];
    for (login, kind) in [("drlee", "staff"), ("frontdesk", "staff"), ("billing", "staff"), ("auditor", "staff"), ("alice", "patient")] {
        let c = signed_in(&portal, login, kind).await;
        for (path, fields) in &forms {
            assert_eq!(c.post_form(path, fields).await.status, 403, "{login} {path}");
        }
        let others_absence = [
            ("provider", drlee.as_str()),
            ("starts", "2031-01-06T08:00"),
            ("ends", "2031-01-10T17:00"),
            ("cover", "pool:00000000000000000000000000000000"),
            ("note", ""),
        ];
        if login != "drlee" {
            assert_eq!(c.call("/api/staff/absences/list").await.status, 403, "{login}");
            assert_eq!(c.post_form("/api/staff/absences/schedule", &others_absence).await.status, 403, "{login}");
        }
        // Staff pages answer 403; a patient is sent back to their own pages.
        let refused_page = if kind == "patient" { 303 } else { 403 };
        let holidays = c.call("/api/staff/holidays/list").await.status;
        let may_read = ["drlee", "frontdesk", "billing"].contains(&login);
        assert_eq!(holidays == 200, may_read, "{login} reads the holiday list: {holidays}");
        if may_read {
            let page = c.get("/staff/holidays").await;
            assert_eq!(page.status, 200);
            assert!(!page.body.contains("Add a holiday"), "{login} sees no form");
        } else {
            assert_eq!(c.get("/staff/holidays").await.status, refused_page, "{login}");
        }
        assert_eq!(c.get("/staff/pools").await.status, refused_page, "{login}");
        let search = c.post_form("/staff/care-teams", &[("q", "Johnson")]).await;
        assert_eq!(search.status, refused_page, "{login}");
        assert!(!search.body.contains("Alice Johnson"), "{login}");
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM care_pools").await, 2);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM holidays").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM absences").await, absences_before);
    assert_eq!(
        count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action IN ('pool.changed', 'care-team.changed', 'holidays.changed', 'absence.scheduled')").await,
        0
    );
    portal.stop().await;
}

/// An administrator finds a patient by name or record number and changes their care team:
/// clinicians and pools only; each change audited against the patient.
async fn care_teams(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let admin_id = user_id(&portal, "admin").await;
    let alice = patient_id(&portal, "MRN100001").await;
    let link = format!("/staff/care-teams?patient={alice}");
    for q in ["Johnson", "MRN100001"] {
        let page = admin.post_form("/staff/care-teams", &[("q", q)]).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&link), "{q} finds Alice");
    }
    let page = admin.get(&link).await;
    assert!(page.body.contains("Care team of Alice Johnson"));
    assert!(page.body.contains("Remove Dr. Morgan Lee from the care team"));
    assert!(page.body.contains("Remove Nurse line from the care team"));

    let nurse = user_id(&portal, "nursekim").await;
    let change = |who: String, change: &'static str| {
        let (admin, alice) = (&admin, alice.clone());
        async move { go(admin, "/api/staff/care-teams/change", &[("patient", &alice), ("who", &who), ("change", change)]).await }
    };
    assert_eq!(change(format!("provider:{nurse}"), "add").await, format!("{link}&done=added"));
    assert_eq!(change(format!("provider:{nurse}"), "add").await, format!("{link}&error=unchanged"), "already on it");
    assert_eq!(change(format!("provider:{}", user_id(&portal, "frontdesk").await), "add").await, format!("{link}&error=unchanged"), "only clinicians");
    assert_eq!(change("pool:00000000000000000000000000000000".into(), "add").await, format!("{link}&error=unchanged"), "no such pool");
    assert_eq!(change("nonsense".into(), "add").await, format!("{link}&error=unchanged"));
    let nurse_line = pool_id(&portal, "Nurse line").await;
    assert_eq!(change(format!("pool:{nurse_line}"), "remove").await, format!("{link}&done=removed"));
    assert_eq!(change(format!("pool:{nurse_line}"), "remove").await, format!("{link}&error=unchanged"));
    let page = admin.get(&format!("{link}&done=removed")).await;
    assert!(page.body.contains("Removed from the care team."));
    assert!(page.body.contains("Remove Kim Alvarez, RN from the care team"));
    assert!(!page.body.contains("Remove Nurse line from the care team"));
    assert_eq!(count(&portal, &format!("SELECT COUNT(*) FROM care_team WHERE patient_id = '{alice}' AND provider_id = '{nurse}'")).await, 1);
    assert_eq!(count(&portal, &format!("SELECT COUNT(*) FROM care_team WHERE patient_id = '{alice}' AND pool_id = '{nurse_line}'")).await, 0);
    let r = admin.post_form("/api/staff/care-teams/change", &[("patient", "MRN100001"), ("who", &format!("provider:{nurse}")), ("change", "add")]).await;
    assert_eq!(r.status, 404, "only our own ids");

    let entries = audit_of(&portal, "care-team.changed").await;
    let expected: Vec<_> =
        ["added to care team", "removed from care team"].into_iter().map(|d| (admin_id.clone(), "patient".to_string(), alice.clone(), d.to_string())).collect();
    assert_eq!(entries, expected);
    portal.stop().await;
}

/// Out-of-office periods: times in the clinic's zone, the cover another clinician or a pool,
/// the end after the start and still to come; a clinician cancels only their own; a period
/// that has begun moves the messages already waiting at once.
async fn absences(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let admin_id = user_id(&portal, "admin").await;
    let drlee = user_id(&portal, "drlee").await;
    let nurse = user_id(&portal, "nursekim").await;
    let nurse_line = pool_id(&portal, "Nurse line").await;
    let schedule = |provider: String, starts: &'static str, ends: &'static str, cover: String| {
        let admin = &admin;
        async move {
            go(admin, "/api/staff/absences/schedule", &[("provider", &provider), ("starts", starts), ("ends", ends), ("cover", &cover), ("note", "Conference")])
                .await
        }
    };
    let dates = "/staff/absences?error=dates";
    let cover_error = "/staff/absences?error=cover";
    assert_eq!(schedule(drlee.clone(), "2030-01-07T08:00", "2030-01-06T08:00", format!("provider:{nurse}")).await, dates, "end before start");
    assert_eq!(schedule(drlee.clone(), "2020-01-07T08:00", "2020-01-08T08:00", format!("provider:{nurse}")).await, dates, "already over");
    assert_eq!(schedule(drlee.clone(), "next week", "2030-01-08T08:00", format!("provider:{nurse}")).await, dates);
    assert_eq!(schedule(drlee.clone(), "2030-01-07T08:00", "2030-01-11T17:00", format!("provider:{drlee}")).await, cover_error, "not oneself");
    assert_eq!(schedule(drlee.clone(), "2030-01-07T08:00", "2030-01-11T17:00", format!("provider:{}", user_id(&portal, "billing").await)).await, cover_error);
    assert_eq!(schedule(drlee.clone(), "2030-01-07T08:00", "2030-01-11T17:00", "pool:00000000000000000000000000000000".into()).await, cover_error);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM absences").await, 0);

    assert_eq!(schedule(drlee.clone(), "2030-01-07T08:00", "2030-01-11T17:00", format!("provider:{nurse}")).await, "/staff/absences?done=scheduled");
    let row = sqlx::query("SELECT id, starts_at, ends_at, cover_provider_id, created_by FROM absences").fetch_one(&portal.state.db.pool).await.unwrap();
    let absence: String = row.try_get("id").unwrap();
    let zone = portal.state.settings.messaging.time_zone.clone();
    let at = |s: &str| s.parse::<jiff::civil::DateTime>().unwrap().to_zoned(zone.clone()).unwrap().timestamp().as_millisecond();
    assert_eq!(row.try_get::<i64, _>("starts_at").unwrap(), at("2030-01-07T08:00"), "in the clinic's time zone");
    assert_eq!(row.try_get::<i64, _>("ends_at").unwrap(), at("2030-01-11T17:00"));
    assert_eq!(row.try_get::<Option<String>, _>("cover_provider_id").unwrap().as_deref(), Some(nurse.as_str()));
    assert_eq!(row.try_get::<Option<String>, _>("created_by").unwrap().as_deref(), Some(admin_id.as_str()));
    let page = admin.get("/staff/absences?done=scheduled").await;
    assert!(page.body.contains("Mon Jan 7, 2030, 8:00 AM"), "shown in the clinic's time zone");
    assert!(page.body.contains("Cancel the period of Dr. Morgan Lee from Mon Jan 7, 2030, 8:00 AM"));

    // Another clinician cannot cancel it (nor see it); its own clinician and administrators can.
    let nursekim = signed_in(&portal, "nursekim", "staff").await;
    assert!(!nursekim.get("/staff/absences").await.body.contains("Cancel the period of Dr. Morgan Lee"));
    assert_eq!(go(&nursekim, "/api/staff/absences/cancel", &[("id", &absence)]).await, "/staff/absences?error=unchanged");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM absences WHERE cancelled_at IS NULL").await, 1);
    assert_eq!(go(&admin, "/api/staff/absences/cancel", &[("id", &absence)]).await, "/staff/absences?done=cancelled");
    assert_eq!(go(&admin, "/api/staff/absences/cancel", &[("id", &absence)]).await, "/staff/absences?error=unchanged", "once");
    assert!(!admin.get("/staff/absences").await.body.contains("Conference"), "a cancelled period is no longer listed");
    assert_eq!(admin.post_form("/api/staff/absences/cancel", &[("id", "x")]).await.status, 404);

    // A period that has already begun: Dr. Lee's waiting message goes to the cover at once.
    let alice = signed_in(&portal, "alice", "patient").await;
    let r = alice
        .post_multipart(
            "/api/messages/send",
            &[
                ("recipient", &format!("provider:{drlee}")),
                ("topic", "general"),
                ("subject", "Knee"),
                ("body", "My knee is swollen."),
                ("acknowledge", "yes"),
                ("action", "send"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.body);
    let waiting = format!("SELECT COUNT(*) FROM messages WHERE assigned_pool_id = '{nurse_line}' AND assigned_provider_id IS NULL AND author_kind = 'patient'");
    assert_eq!(count(&portal, &waiting).await, 0);
    assert_eq!(schedule(drlee.clone(), "2020-01-01T00:00", "2099-01-01T00:00", format!("pool:{nurse_line}")).await, "/staff/absences?done=scheduled");
    assert_eq!(count(&portal, &waiting).await, 1, "re-routed at once");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes WHERE kind = 'absence'").await, 1);
    let drlee_client = signed_in(&portal, "drlee", "staff").await;
    assert!(drlee_client.get("/staff/absences").await.body.contains("Now"), "his own period, under way");

    let scheduled = audit_of(&portal, "absence.scheduled").await;
    assert_eq!(scheduled.len(), 2);
    assert!(scheduled.iter().all(|(actor, kind, _, detail)| actor == &admin_id && kind == "absence" && detail == "scheduled"));
    assert_eq!(scheduled[0].2, absence);
    assert_eq!(audit_of(&portal, "absence.cancelled").await, vec![(admin_id.clone(), "absence".into(), absence.clone(), "cancelled".into())]);
    portal.stop().await;
}

/// Holidays: a real date and a name, one entry a day; upcoming ones and this year's are listed,
/// earlier years' are not; each change audited against the day.
async fn holidays(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let admin_id = user_id(&portal, "admin").await;
    let year = jiff::Timestamp::now().to_zoned(portal.state.settings.messaging.time_zone.clone()).year();
    let next = format!("{}-07-04", year + 1);
    let new_year = format!("{year}-01-01");
    let long_ago = format!("{}-07-04", year - 1);
    let change = |day: String, name: String, change: &'static str| {
        let admin = &admin;
        async move { go(admin, "/api/staff/holidays/change", &[("day", &day), ("name", &name), ("change", change)]).await }
    };
    assert_eq!(change(next.clone(), "Independence Day".into(), "add").await, "/staff/holidays?done=holiday-added");
    assert_eq!(change(new_year.clone(), "New Year’s Day".into(), "add").await, "/staff/holidays?done=holiday-added");
    assert_eq!(change(long_ago.clone(), "Long ago".into(), "add").await, "/staff/holidays?done=holiday-added");
    assert_eq!(change(next.clone(), "Again".into(), "add").await, "/staff/holidays?error=day", "one entry a day");
    assert_eq!(change(format!("{year}-02-30"), "Nope".into(), "add").await, "/staff/holidays?error=day");
    assert_eq!(change("tomorrow".into(), "Nope".into(), "add").await, "/staff/holidays?error=day");
    assert_eq!(change(format!("{year}-12-24"), "".into(), "add").await, "/staff/holidays?error=day", "a name is needed");
    assert_eq!(change(format!("{year}-12-24"), "x".repeat(81), "add").await, "/staff/holidays?error=day");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM holidays").await, 3);

    let page = admin.get("/staff/holidays?done=holiday-added").await;
    assert!(page.body.contains("The holiday is added."));
    assert!(page.body.contains("Due dates of messages are counted in business days"));
    assert!(page.body.contains("Independence Day") && page.body.contains(&format!("Remove Independence Day ({next})")));
    assert!(page.body.contains("New Year’s Day"), "this year's past holidays are listed");
    assert!(!page.body.contains("Long ago"), "earlier years' are not");
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let page = frontdesk.get("/staff/holidays").await;
    assert!(page.body.contains("Independence Day"));
    assert!(!page.body.contains("Remove Independence Day"), "reading only");

    assert_eq!(change(next.clone(), "".into(), "remove").await, "/staff/holidays?done=holiday-removed");
    assert_eq!(change(next.clone(), "".into(), "remove").await, "/staff/holidays?error=unchanged");
    assert!(!admin.get("/staff/holidays").await.body.contains("Independence Day"));

    let entries = audit_of(&portal, "holidays.changed").await;
    let expected: Vec<_> = [(&next, "added"), (&new_year, "added"), (&long_ago, "added"), (&next, "removed")]
        .into_iter()
        .map(|(day, d)| (admin_id.clone(), "holiday".to_string(), day.clone(), d.to_string()))
        .collect();
    assert_eq!(entries, expected);
    portal.stop().await;
}

on_both_databases!(pools_and_members, setup_is_refused_to_others, care_teams, absences, holidays);
