//! Secure messaging against the running server, on both databases: who may read and write
//! what (by any id), routing to the cover of an absent provider, sent messages never change,
//! attachment checks, notices queued with the message and free of health information, read
//! state, due dates, drafts, and the administrators' setup pages.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::platform::now_ms;
use sqlx::Row;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn user_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn pool_id(portal: &TestPortal, name: &str) -> String {
    sqlx::query("SELECT id FROM care_pools WHERE name = $1").bind(name).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in");
    c
}

/// Sends a patient's message; returns the redirect's target.
async fn send(c: &Client, fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> String {
    let r = c.post_multipart("/api/messages/send", fields, files).await;
    assert_eq!(r.status, 302, "{}", r.body);
    r.location().unwrap_or_default().to_string()
}

/// The thread id in `/messages/<id>?sent=1`.
fn thread_of(location: &str) -> String {
    let id = location.trim_start_matches("/messages/").split('?').next().unwrap().to_string();
    assert_eq!(id.len(), 32, "a thread page: {location}");
    id
}

async fn alice_writes(portal: &TestPortal, alice: &Client, to: &str, subject: &str, files: &[(&str, &str, Vec<u8>)]) -> String {
    let to = format!("provider:{}", user_id(portal, to).await);
    let at = send(
        alice,
        &[("recipient", &to), ("topic", "general"), ("subject", subject), ("body", "My knee is swollen after my walk."), ("acknowledge", "yes"), ("action", "send")],
        files,
    )
    .await;
    thread_of(&at)
}

/// A server function called as the browser's script calls it (JSON answer): the status.
async fn call_status(c: &Client, path: &str, fields: &[(&str, &str)]) -> u16 {
    c.http
        .post(format!("{}{path}", c.base))
        .header("origin", &c.base)
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

/// A patient never reads or writes in another patient's conversation, by any id; staff see only
/// the conversations of their care teams; other roles none.
async fn access_matrix(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let attachment: String = sqlx::query("SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.thread_id = $1")
        .bind(&thread)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();

    // Alice herself.
    let page = alice.get(&format!("/messages/{thread}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("My knee is swollen"));
    assert_eq!(alice.get(&format!("/attachments/{attachment}")).await.status, 200);

    // Robert, by every door.
    let robert = signed_in(&portal, "robert", "patient").await;
    let page = robert.get(&format!("/messages/{thread}")).await;
    assert!(!page.body.contains("My knee is swollen") && !page.body.contains("Swollen knee"), "robert sees nothing of it");
    let api = robert.post_form("/api/messages/thread", &[("id", &thread)]).await;
    assert!(api.status == 404 || api.location().is_some_and(|l| l.contains("__err")), "{} {:?}", api.status, api.location());
    assert_eq!(robert.get(&format!("/attachments/{attachment}")).await.status, 404);
    let before = count(&portal, "SELECT COUNT(*) FROM messages").await;
    let reply = robert
        .post_multipart("/api/messages/send", &[("thread", &thread), ("body", "Not mine"), ("acknowledge", "yes"), ("action", "send")], &[])
        .await;
    assert_ne!(reply.location().unwrap_or_default(), format!("/messages/{thread}?sent=1"));
    let draft = robert.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "Not mine"), ("action", "save")], &[]).await;
    assert!(!draft.location().unwrap_or_default().contains("draft=saved"), "no draft in someone else's thread");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, before, "robert wrote nothing into alice's thread");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 0);

    // Staff: the provider and the pools on her care team; nobody else.
    for login in ["drlee", "nursekim", "billing"] {
        let s = signed_in(&portal, login, "staff").await;
        let page = s.get(&format!("/staff/messages/{thread}")).await;
        assert!(page.body.contains("My knee is swollen"), "{login} is on her care team");
        assert_eq!(s.get(&format!("/attachments/{attachment}")).await.status, 200, "{login}");
    }
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    assert!(!frontdesk.get(&format!("/staff/messages/{thread}")).await.body.contains("My knee is swollen"));
    assert_eq!(frontdesk.get(&format!("/attachments/{attachment}")).await.status, 404);
    let r = frontdesk.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "Hello")]).await;
    assert!(r.status == 404 || r.location().is_some_and(|l| l.contains("__err")), "{}", r.status);
    for login in ["admin", "auditor"] {
        let s = signed_in(&portal, login, "staff").await;
        assert_eq!(call_status(&s, "/api/staff/messages/inbox", &[("filter", "all")]).await, 403, "{login}");
        assert_eq!(s.get(&format!("/attachments/{attachment}")).await.status, 403, "{login}");
    }
    // Patients cannot use staff functions, nor staff the patients'.
    assert_eq!(call_status(&alice, "/api/staff/messages/inbox", &[("filter", "all")]).await, 403);
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert_eq!(drlee.call("/api/messages/overview").await.status, 403);
    // Nobody signed in.
    assert_eq!(portal.client().get(&format!("/attachments/{attachment}")).await.status, 401);
    portal.stop().await;
}

/// Patients write only to their own care team.
async fn recipients_come_from_the_care_team(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    for to in [format!("provider:{}", user_id(&portal, "frontdesk").await), format!("pool:{}", "0".repeat(32)), "provider:1 OR 1=1".to_string()] {
        let at = send(&alice, &[("recipient", &to), ("topic", "general"), ("subject", "Hi"), ("body", "Hello"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
        assert_eq!(at, "/messages/new?error=recipient", "{to}");
    }
    let at = send(&alice, &[("recipient", &format!("provider:{}", user_id(&portal, "drlee").await)), ("topic", "general"), ("subject", "Hi"), ("body", "Hello"), ("action", "send")], &[]).await;
    assert_eq!(at, "/messages/new?error=acknowledge", "the acknowledgement is required");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 0);
    // What she typed is kept as her draft.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 1);
    portal.stop().await;
}

/// A message to an absent provider goes to the cover, with the reason recorded and shown; the
/// messages already waiting move when the absence begins, once.
async fn routing_on_absence(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let (drlee, nursekim) = (user_id(&portal, "drlee").await, user_id(&portal, "nursekim").await);
    let nurse_line = pool_id(&portal, "Nurse line").await;
    let now = now_ms();
    let alice = signed_in(&portal, "alice", "patient").await;

    // Already waiting before the absence.
    let waiting = alice_writes(&portal, &alice, "drlee", "Waiting one", &[]).await;

    sqlx::query("INSERT INTO absences (id, provider_id, starts_at, ends_at, cover_pool_id, note, created_at) VALUES ($1, $2, $3, $4, $5, '', $3)")
        .bind(app::platform::tokens::new_id())
        .bind(&drlee)
        .bind(now - 60_000)
        .bind(now + 7 * 86_400_000)
        .bind(&nurse_line)
        .execute(db)
        .await
        .unwrap();
    let thread = alice_writes(&portal, &alice, "drlee", "Sent while he is away", &[]).await;
    let row = sqlx::query("SELECT to_provider_id, assigned_provider_id, assigned_pool_id FROM messages WHERE thread_id = $1").bind(&thread).fetch_one(db).await.unwrap();
    assert_eq!(row.try_get::<Option<String>, _>("to_provider_id").unwrap().as_deref(), Some(drlee.as_str()), "addressed as written");
    assert_eq!(row.try_get::<Option<String>, _>("assigned_provider_id").unwrap(), None);
    assert_eq!(row.try_get::<Option<String>, _>("assigned_pool_id").unwrap().as_deref(), Some(nurse_line.as_str()), "waits for the cover");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.routed'").await, 1);

    let nurse = signed_in(&portal, "nursekim", "staff").await;
    let page = nurse.get("/staff/messages?show=pools").await;
    assert!(page.body.contains("Sent while he is away") && page.body.contains("Routed"), "in the nurse line's inbox");
    let thread_page = nurse.get(&format!("/staff/messages/{thread}")).await;
    assert!(thread_page.body.contains("Dr. Morgan Lee is out of office until") && thread_page.body.contains("covered by Nurse line"), "the reason is shown");
    let doctor = signed_in(&portal, "drlee", "staff").await;
    assert!(!doctor.get("/staff/messages?show=mine").await.body.contains("Sent while he is away"));

    // The waiting message moves when the background pass sees the absence has begun; once.
    let moved = app::messaging::server::reroute_started_absences(&portal.state.db, &portal.state.settings, now_ms()).await.unwrap();
    let again = app::messaging::server::reroute_started_absences(&portal.state.db, &portal.state.settings, now_ms()).await.unwrap();
    // (The server's own background task may have got there first.)
    assert!(moved <= 1 && again == 0);
    let row = sqlx::query("SELECT assigned_pool_id FROM messages WHERE thread_id = $1").bind(&waiting).fetch_one(db).await.unwrap();
    assert_eq!(row.try_get::<Option<String>, _>("assigned_pool_id").unwrap().as_deref(), Some(nurse_line.as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes").await, 2);

    // A forward within the team, with a note.
    let message: String = sqlx::query("SELECT id FROM messages WHERE thread_id = $1").bind(&thread).fetch_one(db).await.unwrap().try_get("id").unwrap();
    let r = nurse.post_form("/api/staff/messages/forward", &[("message", &message), ("to", &format!("pool:{}", pool_id(&portal, "Billing questions").await)), ("note", "About the bill")]).await;
    assert_eq!(r.location(), Some("/staff/messages?done=forwarded"));
    let billing = signed_in(&portal, "billing", "staff").await;
    assert!(billing.get("/staff/messages").await.body.contains("Sent while he is away"));
    assert!(billing.get(&format!("/staff/messages/{thread}")).await.body.contains("Forwarded by Kim Alvarez, RN: About the bill"));
    let _ = nursekim;
    portal.stop().await;
}

/// No server function changes what a sent message says, or removes it.
async fn sent_messages_never_change(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Keep me", &[]).await;
    let snapshot = || async {
        let r = sqlx::query("SELECT id, body, sent_at, author_id, to_provider_id, due_at FROM messages WHERE thread_id = $1 ORDER BY sent_at")
            .bind(&thread)
            .fetch_all(db)
            .await
            .unwrap();
        r.iter()
            .map(|r| {
                (
                    r.try_get::<String, _>("id").unwrap(),
                    r.try_get::<String, _>("body").unwrap(),
                    r.try_get::<i64, _>("sent_at").unwrap(),
                    r.try_get::<String, _>("author_id").unwrap(),
                    r.try_get::<Option<String>, _>("to_provider_id").unwrap(),
                    r.try_get::<Option<i64>, _>("due_at").unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = snapshot().await;
    let message = before[0].0.clone();
    let drlee = signed_in(&portal, "drlee", "staff").await;
    for (who, path, fields) in [
        (&drlee, "/api/staff/messages/handled", vec![("message", message.as_str())]),
        (&drlee, "/api/staff/messages/forward", vec![("message", message.as_str()), ("to", "pool:x"), ("note", "changed")]),
        (&drlee, "/api/staff/messages/reply", vec![("thread", thread.as_str()), ("body", "A reply")]),
        (&alice, "/api/messages/notices", vec![("mode", "daily")]),
        (&alice, "/api/messages/thread", vec![("id", thread.as_str())]),
    ] {
        who.post_form(path, &fields).await;
    }
    alice.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "A follow-up"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    alice.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "draft"), ("action", "discard")], &[]).await;
    let after = snapshot().await;
    assert_eq!(after.len(), 3, "the reply and the follow-up were added");
    assert_eq!(after[0], before[0], "the first message is as it was sent");
    // And the code: no statement edits a message's words or removes one.
    for (name, source) in [
        ("server.rs", include_str!("../../../app/src/messaging/server.rs")),
        ("admin.rs", include_str!("../../../app/src/messaging/admin.rs")),
        ("patient_pages.rs", include_str!("../../../app/src/messaging/patient_pages.rs")),
        ("staff_pages.rs", include_str!("../../../app/src/messaging/staff_pages.rs")),
    ] {
        let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!flat.contains("DELETE FROM messages") && !flat.contains("DELETE FROM attachments"), "{name} deletes");
        for column in ["body", "sent_at", "author_id", "to_provider_id", "to_pool_id", "due_at", "thread_id"] {
            assert!(!flat.contains(&format!("SET {column} =")), "{name} updates {column}");
        }
    }
    portal.stop().await;
}

/// Attachments: the type comes from the content; size and count are limited; an empty file
/// input is ignored; a download is served as a download.
async fn attachment_checks(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let to = format!("provider:{}", user_id(&portal, "drlee").await);
    let fields: [(&str, &str); 6] = [("recipient", &to), ("topic", "general"), ("subject", "Files"), ("body", "See attached."), ("acknowledge", "yes"), ("action", "send")];

    let exe = b"MZ\x90\0\x03\0\0\0program".to_vec();
    assert_eq!(send(&alice, &fields, &[("attachments", "photo.jpg", exe)]).await, "/messages/new?error=file-type");
    let five: Vec<_> = (0..5).map(|i| ("attachments", if i == 0 { "a.png" } else { "b.png" }, PNG.to_vec())).collect();
    assert_eq!(send(&alice, &fields, &five).await, "/messages/new?error=too-many-files");
    let mut big = PNG.to_vec();
    big.resize(11 * 1024 * 1024, 0);
    assert_eq!(send(&alice, &fields, &[("attachments", "big.png", big)]).await, "/messages/new?error=file-too-large");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 0, "nothing sent");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 0);

    // A PDF, and an empty file input (a browser sends one when no file was chosen).
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let at = send(&alice, &fields, &[("attachments", "letter.pdf", pdf.clone()), ("attachments", "", Vec::new())]).await;
    thread_of(&at);
    let id: String = sqlx::query("SELECT id FROM attachments").fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap();
    let r = alice.http.get(format!("{}/attachments/{id}", alice.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h.get("content-type").unwrap(), "application/pdf");
    assert!(h.get("content-disposition").unwrap().to_str().unwrap().starts_with("attachment; filename=\"letter.pdf\""));
    assert!(h.get("cache-control").unwrap().to_str().unwrap().contains("no-store"));
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf, "the same bytes back");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.downloaded'").await, 1);

    // A body larger than any message may be is refused before it is read.
    // (The server answers 413 at once and closes the connection; the client may see the answer
    // or, still sending, only the closed connection. Either way nothing is stored.)
    let mut huge = PNG.to_vec();
    huge.resize(45 * 1024 * 1024, 0);
    let sent = alice
        .http
        .post(format!("{}/api/messages/send", alice.base))
        .header("origin", &alice.base)
        .header("accept", "text/html")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(huge)
        .send()
        .await;
    match sent {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 1);
    portal.stop().await;
}

/// A staff message queues one notice, in the same transaction, that says nothing of the
/// message; a patient who chose a daily notice gets one a day at most.
async fn notices_say_only_that_something_waits(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[]).await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    let before = count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-portal'").await;
    let r = drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "Please rest your knee and use ice.")]).await;
    assert_eq!(r.location(), Some(format!("/staff/messages/{thread}?done=replied").as_str()));
    // The notice exists as soon as the reply does.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-portal'").await, before + 1);
    let row = sqlx::query("SELECT recipient, payload FROM outbox WHERE notice = 'new-in-portal'").fetch_one(db).await.unwrap();
    assert_eq!(row.try_get::<String, _>("recipient").unwrap(), "alice.johnson@example.org");
    assert_eq!(row.try_get::<Option<String>, _>("payload").unwrap(), None);
    let mail = loop {
        let got = portal.smtp.wait_for(1, 15).await;
        if let Some(m) = got.into_iter().find(|m| m.text().contains("new message in the portal")) {
            break m;
        }
    };
    assert_eq!(mail.to, vec!["<alice.johnson@example.org>".to_string()], "one recipient");
    let text = mail.text();
    for secret in ["Swollen", "knee", "Knee", "use ice", "Morgan", "Lee", "Alice", "Johnson"] {
        assert!(!text.contains(secret), "the e-mail says {secret:?}: {text}");
    }
    // The reply handled her message.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE author_kind = 'patient' AND handled_at IS NULL").await, 0);

    // Daily: no immediate notice; one scheduled row however many messages.
    let r = alice.post_form("/api/messages/notices", &[("mode", "daily")]).await;
    assert_eq!(r.location(), Some("/messages?notices=saved#notices"));
    let immediate = count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-portal'").await;
    for body in ["First", "Second"] {
        drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", body)]).await;
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-portal'").await, immediate, "no immediate notice");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'daily-summary'").await, 1, "one daily notice");
    let at: i64 = sqlx::query("SELECT next_attempt_at FROM outbox WHERE notice = 'daily-summary'").fetch_one(db).await.unwrap().try_get("next_attempt_at").unwrap();
    let local = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap());
    assert_eq!((local.hour(), local.minute()), (7, 0), "at 07:00 clinic time");
    assert!(at > now_ms() && at <= now_ms() + 86_400_000);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'notices.preference-changed'").await, 1);
    portal.stop().await;
}

/// Unread until the patient opens the conversation; then read, audited, and shown to staff.
async fn read_state(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[]).await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert!(drlee.get("/staff/messages?show=unread").await.body.contains("Swollen knee"), "not yet opened by staff");
    drlee.get(&format!("/staff/messages/{thread}")).await;
    assert!(!drlee.get("/staff/messages?show=unread").await.body.contains("Swollen knee"), "opened");
    drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "Please rest it.")]).await;
    assert!(drlee.get(&format!("/staff/messages/{thread}")).await.body.contains("Not yet read by the patient"));

    let overview = alice.call("/api/messages/overview").await;
    assert!(overview.body.contains("\"unread\":1"), "{}", overview.body);
    assert!(alice.get("/home").await.body.contains("1 unread message"));
    alice.get(&format!("/messages/{thread}")).await;
    let overview = alice.call("/api/messages/overview").await;
    assert!(overview.body.contains("\"unread\":0"), "{}", overview.body);
    assert!(drlee.get(&format!("/staff/messages/{thread}")).await.body.contains("Read by the patient"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.read'").await, 1);
    assert!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.opened'").await >= 2);
    portal.stop().await;
}

/// The due date is the business-day rule's; past it the patient is asked to call and staff see
/// it overdue.
async fn due_dates_and_overdue(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[]).await;
    let row = sqlx::query("SELECT sent_at, due_at FROM messages WHERE thread_id = $1").bind(&thread).fetch_one(db).await.unwrap();
    let (sent, due): (i64, i64) = (row.try_get("sent_at").unwrap(), row.try_get::<Option<i64>, _>("due_at").unwrap().unwrap());
    let cal = app::messaging::business_days::BusinessCalendar::new(
        jiff::tz::TimeZone::get("America/New_York").unwrap(),
        jiff::civil::time(17, 0, 0, 0),
        [],
    );
    assert_eq!(due, cal.due_at_ms(sent, 3));
    assert!(!alice.get(&format!("/messages/{thread}")).await.body.contains("Please call the office"));

    sqlx::query("UPDATE messages SET due_at = $1 WHERE thread_id = $2").bind(now_ms() - 1000).bind(&thread).execute(db).await.unwrap();
    let page = alice.get(&format!("/messages/{thread}")).await;
    assert!(page.body.contains("We have not answered your message within 3 business days. We are sorry. Please call the office at (555) 010-0199."), "{}", page.body);
    let drlee = signed_in(&portal, "drlee", "staff").await;
    let overdue = drlee.get("/staff/messages?show=overdue").await;
    assert!(overdue.body.contains("Swollen knee") && overdue.body.contains("Overdue"));
    portal.stop().await;
}

/// A saved draft outlives the session and goes when the message is sent.
async fn drafts_survive_sign_out(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let to = format!("provider:{}", user_id(&portal, "drlee").await);
    let at = send(&alice, &[("recipient", &to), ("topic", "medication"), ("subject", "Refill"), ("body", "Half-written"), ("action", "save")], &[]).await;
    assert_eq!(at, "/messages/new?draft=saved");
    alice.post_form("/api/sign-out", &[]).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let page = alice.get("/messages/new").await;
    assert!(page.body.contains("Half-written") && page.body.contains("value=\"Refill\""), "the draft is back");
    let at = send(&alice, &[("recipient", &to), ("topic", "medication"), ("subject", "Refill"), ("body", "Whole now"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    thread_of(&at);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 0);
    portal.stop().await;
}

/// The setup pages: administrators only (out of office: clinicians their own), every change
/// audited.
async fn setup_is_for_administrators(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let r = admin.post_form("/api/staff/pools/create", &[("name", "Front desk"), ("description", "Appointments and forms")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=pool"));
    let r = admin.post_form("/api/staff/pools/create", &[("name", "front desk"), ("description", "")]).await;
    assert_eq!(r.location(), Some("/staff/pools?error=name"), "names are unique");
    let pool = pool_id(&portal, "Front desk").await;
    let frontdesk = user_id(&portal, "frontdesk").await;
    let r = admin.post_form("/api/staff/pools/member", &[("pool", &pool), ("user", &frontdesk), ("change", "add")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=member-added"));
    let r = admin.post_form("/api/staff/holidays/change", &[("day", "2026-12-25"), ("name", "Christmas Day"), ("change", "add")]).await;
    assert_eq!(r.location(), Some("/staff/holidays?done=holiday-added"));
    assert!(admin.get("/staff/holidays").await.body.contains("Christmas Day"));
    let r = admin.post_form("/api/staff/holidays/change", &[("day", "2026-12-25"), ("name", ""), ("change", "remove")]).await;
    assert_eq!(r.location(), Some("/staff/holidays?done=holiday-removed"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action IN ('pool.changed', 'holidays.changed')").await, 4);

    // Clinicians: their own absences only; others: none of the setup.
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert_eq!(drlee.post_form("/api/staff/pools/create", &[("name", "Mine"), ("description", "")]).await.status, 403);
    assert_eq!(drlee.post_form("/api/staff/holidays/change", &[("day", "2026-12-24"), ("name", "Eve"), ("change", "add")]).await.status, 403);
    let nurse_line = pool_id(&portal, "Nurse line").await;
    let r = drlee
        .post_form(
            "/api/staff/absences/schedule",
            &[("provider", &user_id(&portal, "nursekim").await), ("starts", "2030-01-06T08:00"), ("ends", "2030-01-10T17:00"), ("cover", &format!("pool:{nurse_line}")), ("note", "")],
        )
        .await;
    assert_eq!(r.location(), Some("/staff/absences?done=scheduled"));
    let row = sqlx::query("SELECT id, provider_id FROM absences").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(row.try_get::<String, _>("provider_id").unwrap(), user_id(&portal, "drlee").await, "a clinician schedules only their own");
    let absence: String = row.try_get("id").unwrap();
    let nurse = signed_in(&portal, "nursekim", "staff").await;
    assert_eq!(nurse.post_form("/api/staff/absences/cancel", &[("id", &absence)]).await.location(), Some("/staff/absences?error=unchanged"));
    assert_eq!(drlee.post_form("/api/staff/absences/cancel", &[("id", &absence)]).await.location(), Some("/staff/absences?done=cancelled"));
    for login in ["frontdesk", "billing", "auditor"] {
        let s = signed_in(&portal, login, "staff").await;
        assert_eq!(s.post_form("/api/staff/absences/cancel", &[("id", &absence)]).await.status, 403, "{login}");
        assert_eq!(s.post_form("/api/staff/care-teams/change", &[("patient", &"0".repeat(32)), ("who", "pool:x"), ("change", "add")]).await.status, 403);
    }
    portal.stop().await;
}

on_both_databases!(
    access_matrix,
    recipients_come_from_the_care_team,
    routing_on_absence,
    sent_messages_never_change,
    attachment_checks,
    notices_say_only_that_something_waits,
    read_state,
    due_dates_and_overdue,
    drafts_survive_sign_out,
    setup_is_for_administrators,
);
