//! Secure messaging against the running server, on both databases: who may read and write
//! what (by any id), routing to the cover of an absent provider, sent messages never change,
//! attachment checks, notices queued with the message and free of health information, read
//! state, due dates, drafts, and the administrators' setup pages.

use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use app::platform::now_ms;
use sqlx::Row;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

/// Every server function of staff messaging, with the fields it takes.
const STAFF_FUNCTIONS: &[(&str, &[&str])] = &[
    ("/api/staff/messages/inbox", &["filter"]),
    ("/api/staff/messages/thread", &["id"]),
    ("/api/staff/messages/patient-threads", &["id"]),
    ("/api/staff/messages/reply", &["thread", "body"]),
    ("/api/staff/messages/handled", &["message"]),
    ("/api/staff/messages/forward", &["message", "to", "note"]),
    ("/api/staff/messages/patients", &[]),
    ("/api/staff/messages/start", &["patient", "subject", "body"]),
];

/// Every server function of patient messaging but `messages/send` (multipart), with its fields.
const PATIENT_FUNCTIONS: &[(&str, &[&str])] = &[
    ("/api/messages/overview", &[]),
    ("/api/messages/unread", &[]),
    ("/api/messages/compose", &[]),
    ("/api/messages/thread", &["id"]),
    ("/api/messages/notices", &["mode"]),
];

/// The fields of `messages/send`.
const SEND_FIELDS: &[&str] = &["thread", "recipient", "topic", "subject", "body", "acknowledge", "action"];

async fn user_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap()
}

async fn patient_id(portal: &TestPortal, login: &str) -> String {
    sqlx::query("SELECT patient_id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap().try_get("patient_id").unwrap()
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
    assert!(location.starts_with("/messages/") && location.ends_with("?sent=1"), "sent: {location}");
    let id = location.trim_start_matches("/messages/").split('?').next().unwrap().to_string();
    assert_eq!(id.len(), 32, "a thread page: {location}");
    id
}

const KNEE: &str = "My knee is swollen after my walk.";

async fn alice_writes(portal: &TestPortal, alice: &Client, to: &str, subject: &str, files: &[(&str, &str, Vec<u8>)]) -> String {
    let to = format!("provider:{}", user_id(portal, to).await);
    let at =
        send(alice, &[("recipient", &to), ("topic", "general"), ("subject", subject), ("body", KNEE), ("acknowledge", "yes"), ("action", "send")], files).await;
    thread_of(&at)
}

/// A server function called as the browser's script calls it (JSON answer).
async fn call(c: &Client, path: &str, fields: &[(&str, &str)]) -> Reply {
    c.call_form(path, fields).await
}

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn first_message(portal: &TestPortal, thread: &str) -> String {
    sqlx::query("SELECT id FROM messages WHERE thread_id = $1 ORDER BY sent_at, id")
        .bind(thread)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

/// A refusal of a form post: 404 (or 403), or a redirect that is not a success.
fn refused(r: &Reply) -> bool {
    matches!(r.status, 403 | 404) || (r.status == 302 && r.location().is_some_and(|l| l.contains("error=") || l.contains("__err")))
}

/// A patient never reads or writes in another patient's conversation, by any id; staff see only
/// the conversations their work needs (the minimum-necessary tests below); other roles none;
/// patients and staff only their own side's functions.
async fn access_matrix(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let message = first_message(&portal, &thread).await;
    let attachment: String =
        sqlx::query("SELECT id FROM attachments WHERE message_id = $1").bind(&message).fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap();
    let alice_patient = patient_id(&portal, "alice").await;
    let messages_before = count(&portal, "SELECT COUNT(*) FROM messages").await;

    // Alice herself.
    let page = alice.get(&format!("/messages/{thread}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(KNEE));
    assert!(call(&alice, "/api/messages/thread", &[("id", &thread)]).await.body.contains(KNEE));
    assert_eq!(alice.get(&format!("/attachments/{attachment}")).await.status, 200);

    // Robert, by every door.
    let robert = signed_in(&portal, "robert", "patient").await;
    let page = robert.get(&format!("/messages/{thread}")).await;
    assert_eq!(page.status, 404, "robert's view of alice's thread page");
    assert!(!page.body.contains("swollen") && !page.body.contains("Swollen"), "robert sees nothing of it");
    let api = call(&robert, "/api/messages/thread", &[("id", &thread)]).await;
    assert_eq!(api.status, 404);
    assert!(!api.body.contains("swollen") && !api.body.contains("Swollen"));
    let form = robert.post_form("/api/messages/thread", &[("id", &thread)]).await;
    assert!(refused(&form) && !form.body.contains("swollen"), "{} {:?}", form.status, form.location());
    assert!(!call(&robert, "/api/messages/overview", &[]).await.body.contains(&thread));
    let download = robert.get(&format!("/attachments/{attachment}")).await;
    assert_eq!(download.status, 404);
    assert!(!download.body.contains("PNG"));
    let reply =
        robert.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "Not mine"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    assert!(refused(&reply), "robert's reply in her thread: {} {:?}", reply.status, reply.location());
    let with_file = robert
        .post_multipart(
            "/api/messages/send",
            &[("thread", &thread), ("body", "Not mine"), ("acknowledge", "yes"), ("action", "send")],
            &[("attachments", "x.png", PNG.to_vec())],
        )
        .await;
    assert!(refused(&with_file), "{} {:?}", with_file.status, with_file.location());
    let draft = robert.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "Not mine"), ("action", "save")], &[]).await;
    assert!(refused(&draft), "no draft in someone else's thread: {} {:?}", draft.status, draft.location());
    let discard = robert.post_multipart("/api/messages/send", &[("thread", &thread), ("action", "discard")], &[]).await;
    assert!(!discard.body.contains("swollen"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, messages_before, "robert wrote nothing into alice's thread");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE read_at IS NOT NULL OR staff_opened_at IS NOT NULL").await, 0);

    // Staff: the clinicians of her care team (Dr. Lee, and Kim through the clinical Nurse line);
    // billing staff do not read it (`billing_staff_cannot_read_a_clinical_conversation`).
    for login in ["drlee", "nursekim"] {
        let s = signed_in(&portal, login, "staff").await;
        let page = s.get(&format!("/staff/messages/{thread}")).await;
        assert_eq!(page.status, 200, "{login}");
        assert!(page.body.contains(KNEE), "{login} is on her care team");
        assert!(call(&s, "/api/staff/messages/thread", &[("id", &thread)]).await.body.contains(KNEE), "{login}");
        let r = s.get(&format!("/attachments/{attachment}")).await;
        assert_eq!(r.status, 200, "{login}");
    }
    // Front desk is on no care team and in no pool: nothing, by any id.
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    let page = frontdesk.get(&format!("/staff/messages/{thread}")).await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("swollen"));
    assert_eq!(call(&frontdesk, "/api/staff/messages/thread", &[("id", &thread)]).await.status, 404);
    assert_eq!(frontdesk.get(&format!("/attachments/{attachment}")).await.status, 404);
    assert!(!frontdesk.get("/staff/messages?show=all").await.body.contains("Swollen knee"));
    assert!(call(&frontdesk, "/api/staff/messages/inbox", &[("filter", "all")]).await.body.starts_with(r#"{"items":[],"waiting":0,"#));
    assert_eq!(call(&frontdesk, "/api/staff/messages/patients", &[]).await.body, "[]");
    assert_eq!(call(&frontdesk, "/api/staff/messages/reply", &[("thread", &thread), ("body", "Hello")]).await.status, 404);
    assert_eq!(call(&frontdesk, "/api/staff/messages/handled", &[("message", &message)]).await.status, 404);
    let r = frontdesk
        .post_form("/api/staff/messages/forward", &[("message", &message), ("to", &format!("pool:{}", pool_id(&portal, "Nurse line").await)), ("note", "")])
        .await;
    assert_eq!(r.status, 404);
    let r = frontdesk.post_form("/api/staff/messages/start", &[("patient", &alice_patient), ("subject", "Hi"), ("body", "Hello")]).await;
    assert_eq!(r.location(), Some("/staff/messages/new?error=patient"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, messages_before);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE handled_at IS NOT NULL").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes").await, 0);

    // Administrators and auditors do not work inboxes: 403 from every staff function and download.
    let fields_of = |names: &[&str]| names.iter().map(|n| (n.to_string(), if *n == "filter" { "all".to_string() } else { thread.clone() })).collect::<Vec<_>>();
    for login in ["admin", "auditor"] {
        let s = signed_in(&portal, login, "staff").await;
        for (path, names) in STAFF_FUNCTIONS {
            let f = fields_of(names);
            let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let r = call(&s, path, &f).await;
            assert_eq!(r.status, 403, "{login} {path}");
            assert!(!r.body.contains("swollen"));
        }
        assert_eq!(s.get(&format!("/attachments/{attachment}")).await.status, 403, "{login}");
        assert!(!s.get(&format!("/staff/messages/{thread}")).await.body.contains("swollen"), "{login}");
    }
    // Patients cannot use staff functions, nor staff the patients'.
    for (path, names) in STAFF_FUNCTIONS {
        let f = fields_of(names);
        let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(call(&alice, path, &f).await.status, 403, "alice {path}");
    }
    let drlee = signed_in(&portal, "drlee", "staff").await;
    for (path, names) in PATIENT_FUNCTIONS {
        let f: Vec<(&str, &str)> = names.iter().map(|n| (*n, if *n == "mode" { "daily" } else { thread.as_str() })).collect();
        assert_eq!(call(&drlee, path, &f).await.status, 403, "drlee {path}");
    }
    let r =
        drlee.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "As the patient"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, messages_before, "none of that wrote a message");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM users WHERE notices <> 'immediate'").await, 0);
    // Nobody signed in.
    let r = portal.client().get(&format!("/attachments/{attachment}")).await;
    assert_eq!((r.status, r.location()), (303, Some("/sign-in")), "a download, like a page, leads to sign-in");
    portal.stop().await;
}

/// Patients write only to their own care team; a refused message stores nothing but the draft.
async fn recipients_come_from_the_care_team(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let compose = call(&alice, "/api/messages/compose", &[]).await;
    assert!(compose.body.contains(&user_id(&portal, "drlee").await) && !compose.body.contains(&user_id(&portal, "frontdesk").await), "{}", compose.body);
    for to in [
        format!("provider:{}", user_id(&portal, "frontdesk").await),
        format!("provider:{}", user_id(&portal, "robert").await),
        format!("pool:{}", "0".repeat(32)),
        format!("pool:{}", user_id(&portal, "drlee").await),
        "provider:1 OR 1=1".to_string(),
        String::new(),
    ] {
        let at =
            send(&alice, &[("recipient", &to), ("topic", "general"), ("subject", "Hi"), ("body", "Hello"), ("acknowledge", "yes"), ("action", "send")], &[])
                .await;
        assert_eq!(at, "/messages/new?error=recipient", "{to}");
    }
    let at = send(
        &alice,
        &[
            ("recipient", &format!("provider:{}", user_id(&portal, "drlee").await)),
            ("topic", "general"),
            ("subject", "Hi"),
            ("body", "Hello"),
            ("action", "send"),
        ],
        &[],
    )
    .await;
    assert_eq!(at, "/messages/new?error=acknowledge", "the acknowledgement is required");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM threads").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.sent'").await, 0);
    // What she typed is kept as her draft.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 1);
    portal.stop().await;
}

/// A message to an absent provider goes to the cover, with the reason recorded and shown to
/// staff; the absent provider's own inbox does not hold it.
async fn routing_on_absence(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let drlee = user_id(&portal, "drlee").await;
    let nurse_line = pool_id(&portal, "Nurse line").await;
    let now = now_ms();
    sqlx::query("INSERT INTO absences (id, provider_id, starts_at, ends_at, cover_pool_id, note, created_at) VALUES ($1, $2, $3, $4, $5, '', $3)")
        .bind(app::platform::tokens::new_id())
        .bind(&drlee)
        .bind(now - 3_600_000)
        .bind(now + 7 * 86_400_000)
        .bind(&nurse_line)
        .execute(db)
        .await
        .unwrap();
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Sent while he is away", &[]).await;
    let message = first_message(&portal, &thread).await;
    let row =
        sqlx::query("SELECT to_provider_id, assigned_provider_id, assigned_pool_id FROM messages WHERE id = $1").bind(&message).fetch_one(db).await.unwrap();
    assert_eq!(row.try_get::<Option<String>, _>("to_provider_id").unwrap().as_deref(), Some(drlee.as_str()), "addressed as written");
    assert_eq!(row.try_get::<Option<String>, _>("assigned_provider_id").unwrap(), None);
    assert_eq!(row.try_get::<Option<String>, _>("assigned_pool_id").unwrap().as_deref(), Some(nurse_line.as_str()), "waits for the cover");
    let route = sqlx::query("SELECT kind, from_provider_id, to_pool_id, reason, by_user_id FROM message_routes WHERE message_id = $1")
        .bind(&message)
        .fetch_all(db)
        .await
        .unwrap();
    assert_eq!(route.len(), 1, "one routing recorded");
    assert_eq!(route[0].try_get::<String, _>("kind").unwrap(), "absence");
    assert_eq!(route[0].try_get::<Option<String>, _>("from_provider_id").unwrap().as_deref(), Some(drlee.as_str()));
    assert_eq!(route[0].try_get::<Option<String>, _>("to_pool_id").unwrap().as_deref(), Some(nurse_line.as_str()));
    let reason: String = route[0].try_get("reason").unwrap();
    assert!(reason.contains("out of office") && reason.contains("Nurse line"), "{reason}");
    assert_eq!(route[0].try_get::<Option<String>, _>("by_user_id").unwrap(), None, "the portal routed it");
    let audit = sqlx::query("SELECT record_id FROM audit_log WHERE action = 'message.routed'").fetch_all(db).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].try_get::<Option<String>, _>("record_id").unwrap().as_deref(), Some(message.as_str()));

    // The nurse line sees it among its pools' messages, with the reason; Dr. Lee's own does not.
    let nurse = signed_in(&portal, "nursekim", "staff").await;
    let pools = call(&nurse, "/api/staff/messages/inbox", &[("filter", "pools")]).await;
    assert!(pools.body.contains(&message) && pools.body.contains("Sent while he is away"), "{}", pools.body);
    let page = nurse.get("/staff/messages?show=pools").await;
    assert!(page.body.contains("Sent while he is away") && page.body.contains("Routed"), "in the nurse line's inbox");
    let thread_page = nurse.get(&format!("/staff/messages/{thread}")).await;
    assert!(
        thread_page.body.contains("Dr. Morgan Lee is out of office until") && thread_page.body.contains("covered by Nurse line"),
        "the reason is shown: {}",
        thread_page.body
    );
    let doctor = signed_in(&portal, "drlee", "staff").await;
    let mine = call(&doctor, "/api/staff/messages/inbox", &[("filter", "mine")]).await;
    assert_eq!(mine.status, 200);
    assert!(!mine.body.contains(&message), "not in Dr. Lee's own inbox: {}", mine.body);
    assert!(!doctor.get("/staff/messages?show=mine").await.body.contains("Sent while he is away"));
    // The patient is not shown where it went.
    assert!(!alice.get(&format!("/messages/{thread}")).await.body.contains("out of office"));

    // A forward within the team, with a note.
    let r = nurse
        .post_form(
            "/api/staff/messages/forward",
            &[("message", &message), ("to", &format!("pool:{}", pool_id(&portal, "Billing questions").await)), ("note", "About the bill")],
        )
        .await;
    assert_eq!(r.location(), Some("/staff/messages?done=forwarded"));
    let billing = signed_in(&portal, "billing", "staff").await;
    assert!(billing.get("/staff/messages").await.body.contains("Sent while he is away"));
    assert!(billing.get(&format!("/staff/messages/{thread}")).await.body.contains("Forwarded by Kim Alvarez, RN: About the bill"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes").await, 2);
    portal.stop().await;
}

/// Messages already waiting for a provider move to the covering provider when the absence
/// begins, once: a second pass moves nothing, and nothing moves before it begins.
async fn waiting_messages_move_when_absence_begins(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let (drlee, nursekim) = (user_id(&portal, "drlee").await, user_id(&portal, "nursekim").await);
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Waiting one", &[]).await;
    let message = first_message(&portal, &thread).await;
    let assigned = || async {
        let r = sqlx::query("SELECT assigned_provider_id, assigned_pool_id FROM messages WHERE id = $1").bind(&message).fetch_one(db).await.unwrap();
        (r.try_get::<Option<String>, _>("assigned_provider_id").unwrap(), r.try_get::<Option<String>, _>("assigned_pool_id").unwrap())
    };
    assert_eq!(assigned().await, (Some(drlee.clone()), None), "no absence: for Dr. Lee");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes").await, 0);

    // Dr. Lee is away from `starts`, covered by Kim. (A minute ahead, so that the server's own
    // background pass, which uses the clock, cannot take this test's turn.)
    let starts = now_ms() + 60_000;
    sqlx::query("INSERT INTO absences (id, provider_id, starts_at, ends_at, cover_provider_id, note, created_at) VALUES ($1, $2, $3, $4, $5, '', $3)")
        .bind(app::platform::tokens::new_id())
        .bind(&drlee)
        .bind(starts)
        .bind(starts + 7 * 86_400_000)
        .bind(&nursekim)
        .execute(db)
        .await
        .unwrap();
    let reroute = |at: i64| app::messaging::server::reroute_started_absences(&portal.state.db, &portal.state.settings, at);
    assert_eq!(reroute(starts - 1).await.unwrap(), 0, "not yet begun");
    assert_eq!(assigned().await, (Some(drlee.clone()), None));
    assert_eq!(reroute(starts).await.unwrap(), 1, "begun: the waiting message moves");
    assert_eq!(assigned().await, (Some(nursekim.clone()), None), "now with the covering provider");
    assert_eq!(reroute(starts).await.unwrap(), 0, "once");
    assert_eq!(reroute(starts + 1000).await.unwrap(), 0, "once");
    let routes = sqlx::query("SELECT kind, from_provider_id, to_provider_id, reason FROM message_routes WHERE message_id = $1")
        .bind(&message)
        .fetch_all(db)
        .await
        .unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].try_get::<Option<String>, _>("from_provider_id").unwrap().as_deref(), Some(drlee.as_str()));
    assert_eq!(routes[0].try_get::<Option<String>, _>("to_provider_id").unwrap().as_deref(), Some(nursekim.as_str()));
    assert!(routes[0].try_get::<String, _>("reason").unwrap().contains("out of office"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.routed'").await, 1);
    let message_text = sqlx::query("SELECT body FROM messages WHERE id = $1").bind(&message).fetch_one(db).await.unwrap().try_get::<String, _>("body").unwrap();
    assert_eq!(message_text, KNEE, "moved, not changed");
    // Kim finds it in her own inbox.
    let nurse = signed_in(&portal, "nursekim", "staff").await;
    assert!(call(&nurse, "/api/staff/messages/inbox", &[("filter", "mine")]).await.body.contains(&message));
    portal.stop().await;
}

/// The SET lists of every `UPDATE messages` statement in a source file.
fn message_updates(source: &str) -> Vec<String> {
    let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.match_indices("UPDATE messages SET ")
        .map(|(i, m)| {
            let rest = &flat[i + m.len()..];
            rest[..rest.find(" WHERE").unwrap_or(rest.len())].to_string()
        })
        .collect()
}

/// No server function changes what a sent message says, or removes it, whatever ids it is
/// given; and no statement in the messaging code could.
async fn sent_messages_never_change(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Keep me", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let snapshot = || async {
        let r =
            sqlx::query("SELECT id, thread_id, body, sent_at, author_id, author_kind, to_provider_id, to_pool_id, due_at FROM messages ORDER BY sent_at, id")
                .fetch_all(db)
                .await
                .unwrap();
        r.iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
                    r.try_get::<String, _>("id").unwrap(),
                    r.try_get::<String, _>("thread_id").unwrap(),
                    r.try_get::<String, _>("body").unwrap(),
                    r.try_get::<i64, _>("sent_at").unwrap(),
                    r.try_get::<String, _>("author_id").unwrap(),
                    r.try_get::<String, _>("author_kind").unwrap(),
                    r.try_get::<Option<String>, _>("to_provider_id").unwrap(),
                    r.try_get::<Option<String>, _>("to_pool_id").unwrap(),
                    r.try_get::<Option<i64>, _>("due_at").unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let attachments = || async {
        sqlx::query("SELECT id, message_id, sha256 FROM attachments ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}",
                    r.try_get::<String, _>("id").unwrap(),
                    r.try_get::<String, _>("message_id").unwrap(),
                    r.try_get::<String, _>("sha256").unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    let before = snapshot().await;
    let files_before = attachments().await;
    assert_eq!(before.len(), 1);
    assert!(before[0].contains(KNEE));
    let message = first_message(&portal, &thread).await;
    let attachment: String = sqlx::query("SELECT id FROM attachments").fetch_one(db).await.unwrap().try_get("id").unwrap();
    let drlee = signed_in(&portal, "drlee", "staff").await;

    // Every function, with the message's (then the thread's, the attachment's) id in every field.
    for id in [&message, &thread, &attachment] {
        for (path, names) in STAFF_FUNCTIONS {
            let f: Vec<(&str, &str)> = names.iter().map(|n| (*n, id.as_str())).collect();
            drlee.post_form(path, &f).await;
            call(&drlee, path, &f).await;
        }
        for (path, names) in PATIENT_FUNCTIONS {
            let f: Vec<(&str, &str)> = names.iter().map(|n| (*n, id.as_str())).collect();
            alice.post_form(path, &f).await;
            call(&alice, path, &f).await;
        }
        let f: Vec<(&str, &str)> = SEND_FIELDS.iter().map(|n| (*n, id.as_str())).collect();
        alice.post_multipart("/api/messages/send", &f, &[]).await;
        for action in ["send", "save", "discard"] {
            alice.post_multipart("/api/messages/send", &[("thread", id), ("body", id), ("acknowledge", "yes"), ("action", action)], &[]).await;
        }
        alice.get(&format!("/messages/{id}")).await;
        drlee.get(&format!("/staff/messages/{id}")).await;
        alice.get(&format!("/attachments/{id}")).await;
        let now = snapshot().await;
        for m in &before {
            assert!(now.contains(m), "after every function with {id} in every field, the message is as sent: {m}\n{now:#?}");
        }
    }
    assert_eq!(attachments().await, files_before);

    // What the functions are for: a reply, a follow-up, marking handled, forwarding.
    let r = drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "A reply")]).await;
    assert_eq!(r.location(), Some(format!("/staff/messages/{thread}?done=replied").as_str()));
    let at = send(&alice, &[("thread", &thread), ("body", "A follow-up"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    assert_eq!(at, format!("/messages/{thread}?sent=1"));
    let follow_up: String = sqlx::query("SELECT id FROM messages WHERE body = 'A follow-up'").fetch_one(db).await.unwrap().try_get("id").unwrap();
    let nurse_line = pool_id(&portal, "Nurse line").await;
    let r = drlee.post_form("/api/staff/messages/forward", &[("message", &follow_up), ("to", &format!("pool:{nurse_line}")), ("note", "changed")]).await;
    assert_eq!(r.location(), Some("/staff/messages?done=forwarded"));
    let nurse = signed_in(&portal, "nursekim", "staff").await;
    let r = nurse.post_form("/api/staff/messages/handled", &[("message", &follow_up)]).await;
    assert_eq!(r.location(), Some(format!("/staff/messages/{thread}?done=handled").as_str()));
    alice.get(&format!("/messages/{thread}")).await;
    let after = snapshot().await;
    assert_eq!(after[0], before[0], "the first message is as it was sent");
    assert!(after.iter().any(|m| m.contains("|A reply|")) && after.iter().any(|m| m.contains("|A follow-up|")), "replies are added");
    assert_eq!(attachments().await, files_before);

    // And the code: no statement removes a message or changes what one says.
    let allowed = ["assigned_provider_id", "assigned_pool_id", "handled_at", "handled_by", "read_at", "staff_opened_at"];
    // (The check itself sees a change of the words hidden behind an allowed column.)
    assert_eq!(
        message_updates("sqlx::query(\"UPDATE messages SET read_at = $1,\n       body = $2 WHERE id = $3\")"),
        vec!["read_at = $1, body = $2".to_string()]
    );
    let mut updates = 0;
    for (name, source) in [
        ("mod.rs", include_str!("../../../app/src/messaging/mod.rs")),
        ("server/mod.rs", include_str!("../../../app/src/messaging/server/mod.rs")),
        ("server/access.rs", include_str!("../../../app/src/messaging/server/access.rs")),
        ("server/patient.rs", include_str!("../../../app/src/messaging/server/patient.rs")),
        ("server/routing.rs", include_str!("../../../app/src/messaging/server/routing.rs")),
        ("server/staff.rs", include_str!("../../../app/src/messaging/server/staff.rs")),
        ("server/threads.rs", include_str!("../../../app/src/messaging/server/threads.rs")),
        ("admin.rs", include_str!("../../../app/src/messaging/admin.rs")),
        ("attachments.rs", include_str!("../../../app/src/messaging/attachments.rs")),
        ("business_days.rs", include_str!("../../../app/src/messaging/business_days.rs")),
        ("patient_pages.rs", include_str!("../../../app/src/messaging/patient_pages.rs")),
        ("staff_pages.rs", include_str!("../../../app/src/messaging/staff_pages.rs")),
        ("admin_pages/mod.rs", include_str!("../../../app/src/messaging/admin_pages/mod.rs")),
        ("admin_pages/pools.rs", include_str!("../../../app/src/messaging/admin_pages/pools.rs")),
        ("admin_pages/care_teams.rs", include_str!("../../../app/src/messaging/admin_pages/care_teams.rs")),
        ("admin_pages/absences.rs", include_str!("../../../app/src/messaging/admin_pages/absences.rs")),
        ("admin_pages/holidays.rs", include_str!("../../../app/src/messaging/admin_pages/holidays.rs")),
    ] {
        let flat = source.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        for statement in ["DELETE FROM MESSAGES", "DELETE FROM ATTACHMENTS", "DELETE FROM THREADS", "UPDATE ATTACHMENTS", "UPDATE MESSAGES SET BODY"] {
            assert!(!flat.contains(statement), "{name} has {statement}");
        }
        for set in message_updates(source) {
            updates += 1;
            for assignment in set.split(',') {
                let column = assignment.split('=').next().unwrap().trim_matches(|c: char| c == '\\' || c.is_whitespace());
                assert!(allowed.contains(&column), "{name} updates messages.{column}: {set}");
            }
        }
    }
    assert!(updates >= 4, "the check saw the statements that mark routing, reading and handling ({updates})");
    portal.stop().await;
}

/// Attachments: the type comes from the content; size and count are limited; an empty file
/// input is ignored; a download is served as a download, byte for byte.
async fn attachment_checks(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let to = format!("provider:{}", user_id(&portal, "drlee").await);
    let fields: [(&str, &str); 6] =
        [("recipient", &to), ("topic", "general"), ("subject", "Files"), ("body", "See attached."), ("acknowledge", "yes"), ("action", "send")];

    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0This program cannot be run in DOS mode.".to_vec();
    assert_eq!(send(&alice, &fields, &[("attachments", "photo.jpg", exe)]).await, "/messages/new?error=file-type");
    let five: Vec<_> = (0..5).map(|i| ("attachments", if i == 0 { "a.png" } else { "b.png" }, PNG.to_vec())).collect();
    assert_eq!(send(&alice, &fields, &five).await, "/messages/new?error=too-many-files");
    let mut big = PNG.to_vec();
    big.resize(11 * 1024 * 1024, 0);
    assert_eq!(send(&alice, &fields, &[("attachments", "big.png", big)]).await, "/messages/new?error=file-too-large");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 0, "nothing sent");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM threads").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 0);
    // The text is kept as her draft.
    assert!(call(&alice, "/api/messages/compose", &[]).await.body.contains("See attached."));

    // Four files (a PNG, a PDF, two more PNGs) and an empty file input (a browser sends one when
    // no file was chosen): sent, the empty part ignored.
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let at = send(
        &alice,
        &fields,
        &[
            ("attachments", "knee.png", PNG.to_vec()),
            ("attachments", "", Vec::new()),
            ("attachments", "letter.pdf", pdf.clone()),
            ("attachments", "c.png", PNG.to_vec()),
            ("attachments", "d.png", PNG.to_vec()),
        ],
    )
    .await;
    thread_of(&at);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 4, "the empty input is no file");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 0, "sending removes the draft");
    for (name, content, content_type) in [("knee.png", PNG.to_vec(), "image/png"), ("letter.pdf", pdf, "application/pdf")] {
        let id: String = sqlx::query("SELECT id FROM attachments WHERE file_name = $1").bind(name).fetch_one(db).await.unwrap().try_get("id").unwrap();
        let r = alice.http.get(format!("{}/attachments/{id}", alice.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h.get("content-type").unwrap(), content_type);
        assert!(
            h.get("content-disposition").unwrap().to_str().unwrap().starts_with(&format!("attachment; filename=\"{name}\"")),
            "{:?}",
            h.get("content-disposition")
        );
        assert!(h.get("cache-control").unwrap().to_str().unwrap().contains("no-store"));
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(r.bytes().await.unwrap().to_vec(), content, "the same bytes back: {name}");
    }
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.downloaded'").await, 2);

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
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 4);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 1);
    portal.stop().await;
}

/// The next 07:00 in New York after `at`.
fn next_seven_in_new_york(at: i64) -> i64 {
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let local = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned(zone.clone());
    let seven = jiff::civil::time(7, 0, 0, 0);
    let day = if local.time() < seven { local.date() } else { local.date().tomorrow().unwrap() };
    day.to_datetime(seven).to_zoned(zone).unwrap().timestamp().as_millisecond()
}

/// A staff message queues one notice, in the same transaction, that says nothing of the
/// message; a patient who chose a daily notice gets one a day at most.
async fn notices_say_only_that_something_waits(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[]).await;
    assert_eq!(
        count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice IN ('new-in-portal', 'daily-summary')").await,
        0,
        "a patient's own message notifies no one"
    );
    let drlee = signed_in(&portal, "drlee", "staff").await;
    let r = drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "Please rest your knee and use ice.")]).await;
    assert_eq!(r.location(), Some(format!("/staff/messages/{thread}?done=replied").as_str()));
    // The notice exists as soon as the reply does.
    let rows = sqlx::query("SELECT recipient, payload FROM outbox WHERE notice = 'new-in-portal'").fetch_all(db).await.unwrap();
    assert_eq!(rows.len(), 1, "one notice");
    assert_eq!(rows[0].try_get::<String, _>("recipient").unwrap(), "alice.johnson@example.org");
    assert_eq!(rows[0].try_get::<Option<String>, _>("payload").unwrap(), None, "nothing of the message in the outbox");
    let mail = {
        let mut found = None;
        for _ in 0..300 {
            if let Some(m) = portal.smtp.received().into_iter().find(|m| m.text().contains("new message in the portal")) {
                found = Some(m);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        found.expect("the notice is delivered within 30 s")
    };
    assert_eq!(mail.to, vec!["<alice.johnson@example.org>".to_string()], "one recipient");
    let text = mail.text();
    for secret in ["Swollen", "swollen", "knee", "Knee", "rest your", "use ice", "Morgan", "Lee", "Alice", "Johnson", "walk"] {
        assert!(!text.contains(secret), "the e-mail says {secret:?}: {text}");
    }
    assert!(text.contains("Sign in"), "it says where to look: {text}");
    // The reply handled her message.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE author_kind = 'patient' AND handled_at IS NULL").await, 0);

    // Daily: no immediate notice; one scheduled row however many messages.
    let r = alice.post_form("/api/messages/notices", &[("mode", "daily")]).await;
    assert_eq!(r.location(), Some("/messages?notices=saved#notices"));
    let t0 = now_ms();
    for body in ["First", "Second"] {
        let r = drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", body)]).await;
        assert_eq!(r.status, 302);
    }
    let t1 = now_ms();
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE author_kind = 'staff'").await, 3);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-in-portal'").await, 1, "no immediate notice");
    let daily = sqlx::query("SELECT recipient, next_attempt_at FROM outbox WHERE notice = 'daily-summary'").fetch_all(db).await.unwrap();
    assert_eq!(daily.len(), 1, "one daily notice");
    assert_eq!(daily[0].try_get::<String, _>("recipient").unwrap(), "alice.johnson@example.org");
    let at: i64 = daily[0].try_get("next_attempt_at").unwrap();
    assert!(at == next_seven_in_new_york(t0) || at == next_seven_in_new_york(t1), "the next 07:00 in New York: {at}");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'notices.preference-changed'").await, 1);
    portal.stop().await;
}

/// Unread until the patient opens the conversation; then read, audited, and shown to staff.
async fn read_state(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let thread = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[]).await;
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert!(drlee.get("/staff/messages?show=unread").await.body.contains("Swollen knee"), "not yet opened by staff");
    drlee.get(&format!("/staff/messages/{thread}")).await;
    assert!(!drlee.get("/staff/messages?show=unread").await.body.contains("Swollen knee"), "opened");
    drlee.post_form("/api/staff/messages/reply", &[("thread", &thread), ("body", "Please rest it.")]).await;
    assert!(drlee.get(&format!("/staff/messages/{thread}")).await.body.contains("Not yet read by the patient"));
    let read_at = || async {
        sqlx::query("SELECT read_at FROM messages WHERE author_kind = 'staff'").fetch_one(db).await.unwrap().try_get::<Option<i64>, _>("read_at").unwrap()
    };

    let overview = call(&alice, "/api/messages/overview", &[]).await;
    assert!(overview.body.contains("\"unread\":1"), "{}", overview.body);
    assert_eq!(call(&alice, "/api/messages/unread", &[]).await.body, "1");
    assert!(alice.get("/home").await.body.contains("1 unread message"));
    // Looking at the list is not reading.
    alice.get("/messages").await;
    assert_eq!(read_at().await, None);

    let before = now_ms();
    assert!(alice.get(&format!("/messages/{thread}")).await.body.contains("Please rest it."));
    let overview = call(&alice, "/api/messages/overview", &[]).await;
    assert!(overview.body.contains("\"unread\":0") && !overview.body.contains("\"unread\":1"), "{}", overview.body);
    assert_eq!(call(&alice, "/api/messages/unread", &[]).await.body, "0");
    let at = read_at().await.expect("read_at set");
    assert!(at >= before && at <= now_ms());
    let staff_view = drlee.get(&format!("/staff/messages/{thread}")).await;
    assert!(staff_view.body.contains("Read by the patient") && !staff_view.body.contains("Not yet read by the patient"));
    // Opening it again changes nothing.
    alice.get(&format!("/messages/{thread}")).await;
    assert_eq!(read_at().await, Some(at));
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
    let holidays: Vec<jiff::civil::Date> =
        sqlx::query("SELECT day FROM holidays").fetch_all(db).await.unwrap().iter().map(|r| r.try_get::<String, _>("day").unwrap().parse().unwrap()).collect();
    let cal =
        app::messaging::business_days::BusinessCalendar::new(jiff::tz::TimeZone::get("America/New_York").unwrap(), jiff::civil::time(17, 0, 0, 0), holidays);
    assert_eq!(due, cal.due_at_ms(sent, 3));
    let local = jiff::Timestamp::from_millisecond(due).unwrap().to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap());
    assert_eq!((local.hour(), local.minute()), (17, 0), "at the close of a business day");
    assert!(!matches!(local.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday));
    assert!(due - sent >= 3 * 86_400_000 - 3_600_000, "at least three days later");
    let page = alice.get(&format!("/messages/{thread}")).await;
    assert!(!page.body.contains("Please call the office"), "not yet due");
    let drlee = signed_in(&portal, "drlee", "staff").await;
    assert!(call(&drlee, "/api/staff/messages/inbox", &[("filter", "overdue")]).await.body.starts_with(r#"{"items":[],"waiting":0,"#));

    sqlx::query("UPDATE messages SET due_at = $1 WHERE thread_id = $2").bind(now_ms() - 1000).bind(&thread).execute(db).await.unwrap();
    let page = alice.get(&format!("/messages/{thread}")).await;
    assert!(
        page.body.contains("We have not answered your message within 3 business days. We are sorry. Please call the office at (555) 010-0199."),
        "{}",
        page.body
    );
    let overview = call(&alice, "/api/messages/overview", &[]).await;
    assert!(overview.body.contains("\"overdue\":true"), "{}", overview.body);
    let overdue = drlee.get("/staff/messages?show=overdue").await;
    assert!(overdue.body.contains("Swollen knee") && overdue.body.contains("Overdue"));
    assert!(call(&drlee, "/api/staff/messages/inbox", &[("filter", "overdue")]).await.body.contains(&thread));
    portal.stop().await;
}

/// A saved draft outlives the session and goes when the message is sent.
async fn drafts_survive_sign_out(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let to = format!("provider:{}", user_id(&portal, "drlee").await);
    let at = send(&alice, &[("recipient", &to), ("topic", "medication"), ("subject", "Refill"), ("body", "Half-written"), ("action", "save")], &[]).await;
    assert_eq!(at, "/messages/new?draft=saved");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 0, "a draft is not sent");
    let r = alice.post_form("/api/sign-out", &[]).await;
    assert_eq!(r.status, 302);
    assert_eq!(call(&alice, "/api/messages/compose", &[]).await.status, 401, "signed out");
    let alice = signed_in(&portal, "alice", "patient").await;
    let compose = call(&alice, "/api/messages/compose", &[]).await;
    assert_eq!(compose.status, 200);
    let data: serde_json::Value = serde_json::from_str(&compose.body).unwrap();
    assert_eq!(data["draft"]["body"], "Half-written", "{}", compose.body);
    assert_eq!(data["draft"]["subject"], "Refill");
    assert_eq!(data["draft"]["topic"], "medication");
    assert_eq!(data["draft"]["recipient"], to.as_str());
    let page = alice.get("/messages/new").await;
    assert!(page.body.contains("Half-written") && page.body.contains("value=\"Refill\""), "the draft is back on the page");
    // Another patient does not get it.
    let robert = signed_in(&portal, "robert", "patient").await;
    assert!(!call(&robert, "/api/messages/compose", &[]).await.body.contains("Half-written"));

    let at = send(
        &alice,
        &[("recipient", &to), ("topic", "medication"), ("subject", "Refill"), ("body", "Whole now"), ("acknowledge", "yes"), ("action", "send")],
        &[],
    )
    .await;
    thread_of(&at);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 0);
    let data: serde_json::Value = serde_json::from_str(&call(&alice, "/api/messages/compose", &[]).await.body).unwrap();
    assert_eq!(data["draft"]["body"], "", "the draft is gone");
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
            &[
                ("provider", &user_id(&portal, "nursekim").await),
                ("starts", "2030-01-06T08:00"),
                ("ends", "2030-01-10T17:00"),
                ("cover", &format!("pool:{nurse_line}")),
                ("note", ""),
            ],
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

// --- Minimum necessary (issue 14, point 3) ---------------------------------------------------
//
// HIPAA's minimum-necessary rule: clinicians of a patient's care team read the patient's
// clinical conversations; billing and front-desk staff (and clinicians outside the care team)
// read only what was addressed, routed or forwarded to them or their pools. Each door a member
// of staff could use is tried: the conversation page and its server function, an attachment, the
// list of the patient's conversations, the inbox, and the actions on a message.

/// The attachment of the first message of a thread.
async fn first_attachment(portal: &TestPortal, thread: &str) -> String {
    sqlx::query("SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.thread_id = $1")
        .bind(thread)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

/// Alice writes to a pool of her care team; returns the thread.
async fn alice_writes_to_pool(portal: &TestPortal, alice: &Client, pool: &str, subject: &str, body: &str) -> String {
    let to = format!("pool:{}", pool_id(portal, pool).await);
    let at = send(
        alice,
        &[("recipient", &to), ("topic", "general"), ("subject", subject), ("body", body), ("acknowledge", "yes"), ("action", "send")],
        &[("attachments", "scan.png", PNG.to_vec())],
    )
    .await;
    thread_of(&at)
}

/// Whether `staff` reads the thread by each door: (page, server function, attachment, listed
/// among the patient's conversations, in the "everything open" inbox). Every door must agree.
async fn reads(staff: &Client, login: &str, thread: &str, attachment: &str, patient: &str, body: &str, subject: &str) -> bool {
    let page = staff.get(&format!("/staff/messages/{thread}")).await;
    let api = call(staff, "/api/staff/messages/thread", &[("id", thread)]).await;
    let file = staff.get(&format!("/attachments/{attachment}")).await;
    let list = call(staff, "/api/staff/messages/patient-threads", &[("id", patient)]).await;
    let list_page = staff.get(&format!("/staff/messages/patients/{patient}")).await;
    let by_page = page.status == 200 && page.body.contains(body);
    let by_api = api.status == 200 && api.body.contains(body);
    let by_file = file.status == 200;
    let listed = list.body.contains(thread);
    let listed_page = list_page.body.contains(subject);
    // A refusal gives nothing away.
    if !by_page {
        assert_eq!(page.status, 404, "{login}: page of {thread}");
        assert!(!page.body.contains(body) && !page.body.contains(subject), "{login}: nothing of it on the refusal");
    }
    if !by_api {
        assert_eq!(api.status, 404, "{login}: server function for {thread}");
        assert!(!api.body.contains(body));
    }
    if !by_file {
        assert_eq!(file.status, 404, "{login}: attachment of {thread}");
    }
    assert!(!list.body.contains(body), "{login}: a list never carries a message's text");
    let doors = [by_page, by_api, by_file, listed, listed_page];
    assert!(doors.iter().all(|d| *d == doors[0]), "{login} on {subject}: every door agrees (page, function, attachment, list, list page): {doors:?}");
    doors[0]
}

/// Whether the thread's open message is in `staff`'s "everything open" inbox (page and function).
async fn in_inbox(staff: &Client, thread: &str, subject: &str) -> bool {
    let api = call(staff, "/api/staff/messages/inbox", &[("filter", "all")]).await;
    let page = staff.get("/staff/messages?show=all").await;
    assert_eq!(api.body.contains(thread), page.body.contains(subject), "the inbox page and its function agree");
    api.body.contains(thread)
}

/// Billing staff (the Billing questions pool is on Alice's care team) do not read Alice's
/// message to Dr. Lee about her knee by any door, nor act on it; they do read her billing
/// question, which was addressed to their pool.
async fn billing_staff_cannot_read_a_clinical_conversation(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let alice_patient = patient_id(&portal, "alice").await;
    let knee = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let knee_file = first_attachment(&portal, &knee).await;
    let knee_message = first_message(&portal, &knee).await;
    let bill = alice_writes_to_pool(&portal, &alice, "Billing questions", "Statement question", "Why was I charged twice?").await;
    let bill_file = first_attachment(&portal, &bill).await;

    let billing = signed_in(&portal, "billing", "staff").await;
    assert!(!reads(&billing, "billing", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "billing does not read her knee");
    assert!(!in_inbox(&billing, &knee, "Swollen knee").await);
    assert!(reads(&billing, "billing", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await, "billing reads what was sent to it");
    assert!(in_inbox(&billing, &bill, "Statement question").await);
    // Nor act on it: reply, mark handled, forward (and no forward options leak the team).
    let messages_before = count(&portal, "SELECT COUNT(*) FROM messages").await;
    assert_eq!(call(&billing, "/api/staff/messages/reply", &[("thread", &knee), ("body", "Hello")]).await.status, 404);
    assert_eq!(call(&billing, "/api/staff/messages/handled", &[("message", &knee_message)]).await.status, 404);
    let to_billing = format!("pool:{}", pool_id(&portal, "Billing questions").await);
    let to_nurses = format!("pool:{}", pool_id(&portal, "Nurse line").await);
    assert_eq!(billing.post_form("/api/staff/messages/forward", &[("message", &knee_message), ("to", &to_billing), ("note", "")]).await.status, 404);
    assert_eq!(billing.post_form("/api/staff/messages/forward", &[("message", &knee_message), ("to", &to_nurses), ("note", "")]).await.status, 404);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, messages_before);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages WHERE handled_at IS NOT NULL").await, 0);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_routes").await, 0);
    // The refused looks left no "opened" mark and no audit entry of a view by billing.
    let billing_id = user_id(&portal, "billing").await;
    let opened: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'message.opened' AND actor_id = $1 AND record_id = $2")
        .bind(&billing_id)
        .bind(&knee)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(opened, 0);
    assert_eq!(count(&portal, &format!("SELECT COUNT(*) FROM messages WHERE thread_id = '{knee}' AND staff_opened_at IS NOT NULL")).await, 0);

    // The front desk (in no pool) reads neither; nor does it see her among its patients.
    let frontdesk = signed_in(&portal, "frontdesk", "staff").await;
    assert_eq!(call(&frontdesk, "/api/staff/messages/patient-threads", &[("id", &alice_patient)]).await.status, 404);
    for (thread, file, body) in [(&knee, &knee_file, KNEE), (&bill, &bill_file, "charged twice")] {
        let page = frontdesk.get(&format!("/staff/messages/{thread}")).await;
        assert_eq!(page.status, 404);
        assert!(!page.body.contains(body));
        assert_eq!(frontdesk.get(&format!("/attachments/{file}")).await.status, 404);
    }
    portal.stop().await;
}

/// Dr. Lee (the care team's provider) and Kim (a clinician who works the clinical Nurse line on
/// the care team) read Alice's clinical conversations, whoever they were addressed to, by every
/// door; neither reads her billing question. When the Nurse line is made non-clinical, Kim reads
/// only what was sent to the pool; the change is audited.
async fn clinicians_of_the_care_team_read_clinical_conversations(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let alice_patient = patient_id(&portal, "alice").await;
    let knee = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let knee_file = first_attachment(&portal, &knee).await;
    let rash = alice_writes_to_pool(&portal, &alice, "Nurse line", "A rash", "A red rash on my arm.").await;
    let rash_file = first_attachment(&portal, &rash).await;
    let bill = alice_writes_to_pool(&portal, &alice, "Billing questions", "Statement question", "Why was I charged twice?").await;
    let bill_file = first_attachment(&portal, &bill).await;

    let drlee = signed_in(&portal, "drlee", "staff").await;
    let nurse = signed_in(&portal, "nursekim", "staff").await;
    for (login, s) in [("drlee", &drlee), ("nursekim", &nurse)] {
        assert!(reads(s, login, &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "{login} reads the message to Dr. Lee");
        assert!(reads(s, login, &rash, &rash_file, &alice_patient, "red rash", "A rash").await, "{login} reads the message to the Nurse line");
        assert!(!reads(s, login, &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await, "{login} does not read the billing question");
    }
    // The inbox stays each one's own work: Dr. Lee's message is not in Kim's inbox.
    assert!(in_inbox(&drlee, &knee, "Swollen knee").await && !in_inbox(&nurse, &knee, "Swollen knee").await);
    assert!(in_inbox(&nurse, &rash, "A rash").await);

    // Whether a pool is clinical is the administrators' to say, on the pools page.
    let admin = signed_in(&portal, "admin", "staff").await;
    let page = admin.get("/staff/pools").await;
    assert!(page.body.contains("Make Nurse line non-clinical") && page.body.contains("Make Billing questions clinical"), "each pool says which it is");
    let nurse_line = pool_id(&portal, "Nurse line").await;
    for login in ["drlee", "nursekim", "billing", "frontdesk", "auditor"] {
        let s = signed_in(&portal, login, "staff").await;
        assert_eq!(s.post_form("/api/staff/pools/clinical", &[("pool", &nurse_line), ("clinical", "no")]).await.status, 403, "{login}");
    }
    let r = admin.post_form("/api/staff/pools/clinical", &[("pool", &nurse_line), ("clinical", "no")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=non-clinical"));
    assert!(!reads(&nurse, "nursekim", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "a non-clinical pool gives no clinical reading");
    assert!(reads(&nurse, "nursekim", &rash, &rash_file, &alice_patient, "red rash", "A rash").await, "what was sent to her pool she still reads");
    assert!(reads(&drlee, "drlee", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "the provider still reads his");
    let r = admin.post_form("/api/staff/pools/clinical", &[("pool", &nurse_line), ("clinical", "yes")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=clinical"));
    assert!(reads(&nurse, "nursekim", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await);
    let audit: Vec<String> = sqlx::query("SELECT detail FROM audit_log WHERE action = 'pool.changed' AND record_id = $1 ORDER BY seq")
        .bind(&nurse_line)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<Option<String>, _>("detail").unwrap().unwrap_or_default())
        .collect();
    assert_eq!(audit, vec!["made non-clinical".to_string(), "made clinical".to_string()]);
    // A new pool is non-clinical unless ticked.
    assert_eq!(admin.post_form("/api/staff/pools/create", &[("name", "Front desk"), ("description", "")]).await.location(), Some("/staff/pools?done=pool"));
    assert_eq!(
        admin.post_form("/api/staff/pools/create", &[("name", "Wound care"), ("description", ""), ("clinical", "yes")]).await.location(),
        Some("/staff/pools?done=pool")
    );
    let kinds: Vec<(String, String)> = sqlx::query("SELECT name, clinical FROM care_pools ORDER BY name")
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get("name").unwrap(), r.try_get("clinical").unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("Billing questions", "no"), ("Front desk", "no"), ("Nurse line", "yes"), ("Wound care", "yes")].map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    portal.stop().await;
}

/// Kim leaves the Nurse line: she is then a clinician outside Alice's care team. She reads none
/// of Alice's conversations, until one is routed to her (she covers Dr. Lee's absence): that one,
/// and only that one, by every door.
async fn a_clinician_not_on_the_care_team_reads_only_what_is_addressed_to_them(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let alice_patient = patient_id(&portal, "alice").await;
    let knee = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let knee_file = first_attachment(&portal, &knee).await;
    let admin = signed_in(&portal, "admin", "staff").await;
    let (nurse_line, kim) = (pool_id(&portal, "Nurse line").await, user_id(&portal, "nursekim").await);
    let r = admin.post_form("/api/staff/pools/member", &[("pool", &nurse_line), ("user", &kim), ("change", "remove")]).await;
    assert_eq!(r.location(), Some("/staff/pools?done=member-removed"));

    let nurse = signed_in(&portal, "nursekim", "staff").await;
    assert!(!reads(&nurse, "nursekim", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await);
    assert_eq!(call(&nurse, "/api/staff/messages/patient-threads", &[("id", &alice_patient)]).await.status, 404, "not her patient at all");

    // Dr. Lee is away, covered by Kim: Alice's next message to him goes to Kim.
    let now = now_ms();
    sqlx::query("INSERT INTO absences (id, provider_id, starts_at, ends_at, cover_provider_id, note, created_at) VALUES ($1, $2, $3, $4, $5, '', $3)")
        .bind(app::platform::tokens::new_id())
        .bind(user_id(&portal, "drlee").await)
        .bind(now - 3_600_000)
        .bind(now + 7 * 86_400_000)
        .bind(&kim)
        .execute(db)
        .await
        .unwrap();
    let to = format!("provider:{}", user_id(&portal, "drlee").await);
    let at = send(
        &alice,
        &[("recipient", &to), ("topic", "medication"), ("subject", "Refill"), ("body", "I need more of my pills."), ("acknowledge", "yes"), ("action", "send")],
        &[("attachments", "label.png", PNG.to_vec())],
    )
    .await;
    let refill = thread_of(&at);
    let refill_file = first_attachment(&portal, &refill).await;
    assert!(reads(&nurse, "nursekim", &refill, &refill_file, &alice_patient, "more of my pills", "Refill").await, "routed to her: she reads it");
    assert!(in_inbox(&nurse, &refill, "Refill").await);
    assert!(!reads(&nurse, "nursekim", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "and still not the other");
    let r = nurse.post_form("/api/staff/messages/reply", &[("thread", &refill), ("body", "Sent to your pharmacy.")]).await;
    assert_eq!(r.location(), Some(format!("/staff/messages/{refill}?done=replied").as_str()));
    assert_eq!(nurse.post_form("/api/staff/messages/reply", &[("thread", &knee), ("body", "Hello")]).await.status, 404);
    portal.stop().await;
}

/// A forward is how a conversation reaches someone else, and it is recorded: Dr. Lee forwards
/// Alice's knee message to Billing questions (billing now reads it, by every door); billing
/// forwards her billing question to the Nurse line (Kim reads it, and, sent to a clinical pool, it
/// is now clinical: Dr. Lee reads it too).
async fn a_conversation_forwarded_to_a_pool_becomes_readable_by_it(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let alice_patient = patient_id(&portal, "alice").await;
    let knee = alice_writes(&portal, &alice, "drlee", "Swollen knee", &[("attachments", "knee.png", PNG.to_vec())]).await;
    let knee_file = first_attachment(&portal, &knee).await;
    let bill = alice_writes_to_pool(&portal, &alice, "Billing questions", "Statement question", "Why was I charged twice?").await;
    let bill_file = first_attachment(&portal, &bill).await;
    let (drlee, nurse, billing) =
        (signed_in(&portal, "drlee", "staff").await, signed_in(&portal, "nursekim", "staff").await, signed_in(&portal, "billing", "staff").await);
    assert!(!reads(&billing, "billing", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await);
    assert!(!reads(&nurse, "nursekim", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await);
    assert!(!reads(&drlee, "drlee", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await);

    // The forward options are the care team; the form says what a forward shares.
    let page = drlee.get(&format!("/staff/messages/{knee}")).await;
    assert!(page.body.contains("Billing questions") && page.body.contains("They will read the whole conversation"));
    let knee_message = first_message(&portal, &knee).await;
    let to_billing = format!("pool:{}", pool_id(&portal, "Billing questions").await);
    let r = drlee.post_form("/api/staff/messages/forward", &[("message", &knee_message), ("to", &to_billing), ("note", "Was the brace billed?")]).await;
    assert_eq!(r.location(), Some("/staff/messages?done=forwarded"));
    assert!(reads(&billing, "billing", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await, "forwarded to billing: billing reads it");
    assert!(in_inbox(&billing, &knee, "Swollen knee").await);
    assert!(
        billing.get(&format!("/staff/messages/{knee}")).await.body.contains("Forwarded by Dr. Morgan Lee: Was the brace billed?"),
        "with who forwarded it and why"
    );
    assert!(
        reads(&drlee, "drlee", &knee, &knee_file, &alice_patient, KNEE, "Swollen knee").await,
        "still clinical: the care team's clinicians keep reading it"
    );

    let bill_message = first_message(&portal, &bill).await;
    let to_nurses = format!("pool:{}", pool_id(&portal, "Nurse line").await);
    let r = billing.post_form("/api/staff/messages/forward", &[("message", &bill_message), ("to", &to_nurses), ("note", "She mentions a new symptom")]).await;
    assert_eq!(r.location(), Some("/staff/messages?done=forwarded"));
    assert!(
        reads(&nurse, "nursekim", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await,
        "forwarded to the Nurse line: Kim reads it"
    );
    assert!(
        reads(&drlee, "drlee", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await,
        "sent to a clinical pool, it is clinical now"
    );
    assert!(reads(&billing, "billing", &bill, &bill_file, &alice_patient, "charged twice", "Statement question").await, "billing keeps what was sent to it");

    // Recorded: who forwarded what to whom, and the audit trail.
    let routes =
        sqlx::query("SELECT r.kind, r.by_user_id, r.to_pool_id, m.thread_id FROM message_routes r JOIN messages m ON m.id = r.message_id ORDER BY r.at, r.id")
            .fetch_all(db)
            .await
            .unwrap();
    let seen: Vec<(String, Option<String>, Option<String>, String)> = routes
        .iter()
        .map(|r| (r.try_get("kind").unwrap(), r.try_get("by_user_id").unwrap(), r.try_get("to_pool_id").unwrap(), r.try_get("thread_id").unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("forward".to_string(), Some(user_id(&portal, "drlee").await), Some(pool_id(&portal, "Billing questions").await), knee.clone()),
            ("forward".to_string(), Some(user_id(&portal, "billing").await), Some(pool_id(&portal, "Nurse line").await), bill.clone()),
        ]
    );
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'message.forwarded'").await, 2);
    portal.stop().await;
}

// --- Message limits (issue 14, point 5) --------------------------------------------------------

/// The same browser (session cookie) as `c`, for requests sent at once.
fn same_browser(c: &Client) -> Client {
    Client { http: c.http.clone(), base: c.base.clone(), jar: c.jar.clone() }
}

/// A PNG of about `size` bytes.
fn png_of(size: usize) -> Vec<u8> {
    let mut v = PNG.to_vec();
    v.resize(size, 0);
    v
}

/// Sends `n` new messages to Dr. Lee at once from Alice's browser, each with `files`; returns
/// where each send led.
async fn send_at_once(portal: &TestPortal, alice: &Client, n: usize, files: Vec<(&'static str, &'static str, Vec<u8>)>) -> Vec<String> {
    let to = format!("provider:{}", user_id(portal, "drlee").await);
    let mut sends = Vec::new();
    for i in 0..n {
        let (c, to, files) = (same_browser(alice), to.clone(), files.clone());
        sends.push(tokio::spawn(async move {
            let subject = format!("Note {i}");
            let fields = [
                ("recipient", to.as_str()),
                ("topic", "general"),
                ("subject", subject.as_str()),
                ("body", "Another thing."),
                ("acknowledge", "yes"),
                ("action", "send"),
            ];
            let r = c.post_multipart("/api/messages/send", &fields, &files).await;
            assert_eq!(r.status, 302, "{}", r.body);
            r.location().unwrap_or_default().to_string()
        }));
    }
    let mut out = Vec::new();
    for s in sends {
        out.push(s.await.unwrap());
    }
    out
}

/// The clinic's next midnight and next first of the month as the pages write them.
fn resets(portal: &TestPortal) -> (String, String) {
    let zone = &portal.state.settings.messaging.time_zone;
    let (_, day, _, month) = app::messaging::quota::windows(zone, now_ms());
    (app::messaging::server::local_text(zone, day), app::messaging::server::local_text(zone, month))
}

/// A patient sends at most the day's messages (3 here), however many arrive at once; the rest
/// are refused with the limit, when it resets and the office's phone number, and what was typed
/// is kept. Replies count too.
async fn a_patients_messages_per_day_hold_when_sent_at_once(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.messaging.messages_per_day = 3).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let outcomes = send_at_once(&portal, &alice, 10, Vec::new()).await;
    let sent: Vec<&String> = outcomes.iter().filter(|l| l.ends_with("?sent=1")).collect();
    assert_eq!(sent.len(), 3, "exactly the day's three, sent at once: {outcomes:?}");
    assert!(outcomes.iter().filter(|l| !l.ends_with("?sent=1")).all(|l| l == "/messages/new?error=limit-day"), "{outcomes:?}");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 3);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM threads").await, 3);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_drafts").await, 1, "what she typed is kept");

    let (tomorrow, _) = resets(&portal);
    let page = alice.get("/messages/new?error=limit-day").await;
    let phone = &portal.state.settings.organisation.phone;
    for words in [
        "You have sent 3 messages today",
        &format!("You can send messages again from {tomorrow}"),
        &format!("please call the office at {phone}"),
        "Your message has not been sent",
    ] {
        assert!(page.body.contains(words), "the page says {words:?}: {}", page.body);
    }
    // A reply is a message too; the compose page says so before she writes.
    let thread = thread_of(sent[0]);
    let r = alice.post_multipart("/api/messages/send", &[("thread", &thread), ("body", "And one more"), ("acknowledge", "yes"), ("action", "send")], &[]).await;
    assert_eq!(r.location(), Some(format!("/messages/{thread}?error=limit-day#reply").as_str()));
    assert!(alice.get(&format!("/messages/{thread}?error=limit-day")).await.body.contains("You have sent 3 messages today"));
    assert!(alice.get("/messages/new").await.body.contains("You have sent 3 messages today"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 3);
    // Another patient has her own allowance.
    let robert = signed_in(&portal, "robert", "patient").await;
    assert!(send_at_once(&portal, &robert, 1, Vec::new()).await[0].ends_with("?sent=1"));
    portal.stop().await;
}

/// Attachments are limited per month (1 MB here): of six 400 KB files sent at once, two pass;
/// a message without files still goes; the refusal says what is left and when it resets.
async fn a_patients_attachment_bytes_per_month_hold_when_sent_at_once(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.messaging.attachment_bytes_per_month = 1024 * 1024).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let outcomes = send_at_once(&portal, &alice, 6, vec![("attachments", "photo.png", png_of(400 * 1024))]).await;
    assert_eq!(outcomes.iter().filter(|l| l.ends_with("?sent=1")).count(), 2, "800 KB of 1 MB, however they arrive: {outcomes:?}");
    assert!(outcomes.iter().filter(|l| !l.ends_with("?sent=1")).all(|l| l == "/messages/new?error=limit-month"), "{outcomes:?}");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM attachments").await, 2);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 2, "a refused message stores nothing");
    let (_, next_month) = resets(&portal);
    let page = alice.get("/messages/new?error=limit-month").await;
    for words in ["past 1.0 MB of attachments this month", "(224 KB left)", &format!("files again from {next_month}"), "please call the office"] {
        assert!(page.body.contains(words), "the page says {words:?}: {}", page.body);
    }
    assert!(send_at_once(&portal, &alice, 1, Vec::new()).await[0].ends_with("?sent=1"), "without files she can still write");
    portal.stop().await;
}

/// The front desk and administrators (no one else) lift a patient's limits for a day, with a
/// reason: recorded and audited; she gets a fresh allowance (not an unlimited one), and when the
/// day is over the month's count stands again.
async fn staff_lift_a_patients_limits_for_a_day(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.messaging.messages_per_day = 2).await;
    let db = &portal.state.db.pool;
    let alice = signed_in(&portal, "alice", "patient").await;
    let alice_patient = patient_id(&portal, "alice").await;
    let outcomes = send_at_once(&portal, &alice, 3, Vec::new()).await;
    assert_eq!(outcomes.iter().filter(|l| l.ends_with("?sent=1")).count(), 2);

    for login in ["drlee", "nursekim", "billing", "auditor"] {
        let s = signed_in(&portal, login, "staff").await;
        let r = s.post_form("/api/staff/messages/lift-limits", &[("patient", &alice_patient), ("reason", "She asked")]).await;
        assert_eq!(r.status, 403, "{login}");
        assert_eq!(call(&s, "/api/staff/messages/limits", &[("patient", &alice_patient)]).await.status, 403, "{login}");
    }
    assert_eq!(alice.post_form("/api/staff/messages/lift-limits", &[("patient", &alice_patient), ("reason", "Me")]).await.status, 403);
    let desk = signed_in(&portal, "frontdesk", "staff").await;
    let page = desk.get(&format!("/staff/patients/{alice_patient}")).await;
    assert!(page.body.contains("Messages today: 2 of 2"), "{}", page.body);
    let r = desk.post_form("/api/staff/messages/lift-limits", &[("patient", &alice_patient), ("reason", "   ")]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice_patient}?limits=reason#message-limits").as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM message_quota_lifts").await, 0);

    let reason = "Sending photos of her wound as Dr. Lee asked";
    let r = desk.post_form("/api/staff/messages/lift-limits", &[("patient", &alice_patient), ("reason", reason)]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice_patient}?limits=lifted#message-limits").as_str()));
    let lift = sqlx::query("SELECT lifted_by, reason, lifted_at, ends_at FROM message_quota_lifts").fetch_one(db).await.unwrap();
    assert_eq!(lift.try_get::<String, _>("lifted_by").unwrap(), user_id(&portal, "frontdesk").await);
    assert_eq!(lift.try_get::<String, _>("reason").unwrap(), reason);
    assert_eq!(lift.try_get::<i64, _>("ends_at").unwrap() - lift.try_get::<i64, _>("lifted_at").unwrap(), 86_400_000, "a day");
    let audit = sqlx::query("SELECT actor_id, subject_id, record_id, detail FROM audit_log WHERE action = 'message.quota-lifted'").fetch_all(db).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].try_get::<Option<String>, _>("actor_id").unwrap(), Some(user_id(&portal, "frontdesk").await));
    assert_eq!(audit[0].try_get::<Option<String>, _>("subject_id").unwrap(), Some(user_id(&portal, "alice").await));
    assert_eq!(audit[0].try_get::<Option<String>, _>("record_id").unwrap(), Some(alice_patient.clone()));
    assert!(!audit[0].try_get::<Option<String>, _>("detail").unwrap().unwrap_or_default().contains("wound"), "the reason stays out of the trail");
    let page = desk.get(&format!("/staff/patients/{alice_patient}?limits=lifted")).await;
    assert!(
        page.body.contains("Lifted by Frances Okafor until") && page.body.contains(reason) && page.body.contains("Messages today: 0 of 2"),
        "{}",
        page.body
    );

    // A fresh allowance, not an unlimited one, even at once.
    let outcomes = send_at_once(&portal, &alice, 5, Vec::new()).await;
    assert_eq!(outcomes.iter().filter(|l| l.ends_with("?sent=1")).count(), 2, "{outcomes:?}");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM messages").await, 4);
    // When the lift ends, the day counts from midnight again: four sent, limit two.
    sqlx::query("UPDATE message_quota_lifts SET ends_at = $1").bind(now_ms() - 1).execute(db).await.unwrap();
    assert_eq!(send_at_once(&portal, &alice, 1, Vec::new()).await, vec!["/messages/new?error=limit-day".to_string()]);
    // Administrators may lift too.
    let admin = signed_in(&portal, "admin", "staff").await;
    let r = admin.post_form("/api/staff/messages/lift-limits", &[("patient", &alice_patient), ("reason", "Care coordination today")]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice_patient}?limits=lifted#message-limits").as_str()));
    assert!(send_at_once(&portal, &alice, 1, Vec::new()).await[0].ends_with("?sent=1"));
    portal.stop().await;
}

on_both_databases!(
    access_matrix,
    recipients_come_from_the_care_team,
    routing_on_absence,
    waiting_messages_move_when_absence_begins,
    sent_messages_never_change,
    attachment_checks,
    notices_say_only_that_something_waits,
    read_state,
    due_dates_and_overdue,
    drafts_survive_sign_out,
    setup_is_for_administrators,
    billing_staff_cannot_read_a_clinical_conversation,
    clinicians_of_the_care_team_read_clinical_conversations,
    a_clinician_not_on_the_care_team_reads_only_what_is_addressed_to_them,
    a_conversation_forwarded_to_a_pool_becomes_readable_by_it,
    a_patients_messages_per_day_hold_when_sent_at_once,
    a_patients_attachment_bytes_per_month_hold_when_sent_at_once,
    staff_lift_a_patients_limits_for_a_day,
);
