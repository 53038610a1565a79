//! The staff security view (SPEC R-SES-4) and the audit-trail search (R-AUD-1): what they show,
//! and that only administrators and auditors see them.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::audit::{self, AuditAction, AuditEvent};
use app::dates::CalendarDate;
use app::security::{AuditResults, SecurityOverview};
use app::types::UserId;
use sqlx::Row;

async fn staff(portal: &TestPortal, login: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, "staff").await;
    assert_eq!(r.location(), Some("/staff"), "{login} signs in");
    c
}

/// A server-function call with form fields, as the WASM makes it: the status and the JSON.
async fn call(c: &Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.http.post(format!("{}{path}", c.base)).header("origin", &c.base).header("accept", "application/json").form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn search(c: &Client, form: &[(&str, &str)]) -> AuditResults {
    let (status, body) = call(c, "/api/audit/search", form).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The table row (`<tr>…</tr>`) of `html` that contains `needle`.
fn row<'a>(html: &'a str, needle: &str) -> &'a str {
    html.split("<tr").find(|r| r.contains(needle)).and_then(|r| r.split("</tr>").next()).unwrap_or_else(|| panic!("no row with {needle:?} in {html}"))
}

/// The part of `html` after the heading `heading`.
fn after<'a>(html: &'a str, heading: &str) -> &'a str {
    let at = html.find(heading).unwrap_or_else(|| panic!("no {heading:?} in {html}"));
    &html[at..]
}

/// The first link to the audit page whose text is `label`.
fn link_before(html: &str, label: &str) -> String {
    let end = html.find(&format!(">{label}</a>")).unwrap_or_else(|| panic!("no link {label:?}"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    html[start..end].trim_end_matches('"').replace("&amp;", "&")
}

async fn user_id(portal: &TestPortal, login: &str) -> UserId {
    let row = sqlx::query("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap();
    row.try_get("id").unwrap()
}

async fn count(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>("n").unwrap()
}

async fn failed_sign_ins_show_on_the_security_view(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let admin = staff(&portal, "admin").await;
    let quiet = admin.get("/staff/security").await;
    assert_eq!(quiet.status, 200, "{}", quiet.body);
    for empty in [
        "No failed sign-ins in the last 24 hours.",
        "No failed sign-ins from any address in the last 24 hours.",
        "No account is throttled now.",
        "No account&#x27;s access has been ended.",
    ] {
        assert!(quiet.body.contains(empty) || quiet.body.contains(&empty.replace("&#x27;", "'")), "{empty}: {}", quiet.body);
    }

    // Someone guesses alice's password until throttled, and tries two user IDs that do not exist.
    let attacker = portal.client();
    for _ in 0..5 {
        assert_eq!(attacker.sign_in("alice", "guess", "patient").await.location(), Some("/sign-in?error=refused"));
    }
    let throttled = attacker.sign_in("alice", "guess", "patient").await;
    assert!(throttled.location().unwrap().starts_with("/sign-in?error=throttled"));
    attacker.sign_in("nobody-1", "guess", "patient").await;
    attacker.sign_in("nobody-2", "guess", "patient").await;
    // The clinic ended robert's access.
    let admin_id = user_id(&portal, "admin").await;
    sqlx::query("UPDATE users SET access = 'terminated', access_reason = $1, access_changed_at = $2, access_changed_by = $3 WHERE login = 'robert'")
        .bind("Moved to another clinic")
        .bind(app::platform::now_ms())
        .bind(admin_id.as_str())
        .execute(&portal.state.db.pool)
        .await
        .unwrap();

    let auditor = staff(&portal, "auditor").await;
    let page = auditor.get("/staff/security").await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("<caption>"), "tables have captions");
    assert!(body.contains("scope=\"col\"") && body.contains("scope=\"row\""));
    let alice = row(after(body, "Failed sign-ins by account"), "Alice Johnson (alice)");
    assert!(alice.contains("<td>5</td>"), "{alice}");
    let unknown = row(after(body, "Failed sign-ins by account"), "Unknown user IDs");
    assert!(unknown.contains("2 different IDs typed") && unknown.contains("<td>2</td>"), "{unknown}");
    let address = row(after(body, "Failed sign-ins by address"), "127.0.0.1");
    assert!(address.contains("<td>7</td>") && address.contains("<td>3</td>"), "7 failures, 3 user IDs: {address}");
    let throttled = row(after(body, "Throttled now"), "Alice Johnson (alice)");
    assert!(throttled.contains("<td>1</td>"), "{throttled}");
    let ended = row(after(body, "Access ended"), "Robert Smith (robert)");
    assert!(ended.contains("Moved to another clinic") && ended.contains("Alex Rivera (admin)") && ended.contains("UTC"), "{ended}");

    // The same through the server function.
    let (status, json) = call(&auditor, "/api/security/overview", &[]).await;
    assert_eq!(status, 200, "{json}");
    let o: SecurityOverview = serde_json::from_str(&json).unwrap();
    let by_login = |login: &str| o.failures_by_account.iter().find(|f| f.account.as_ref().is_some_and(|a| a.login == login));
    assert_eq!(by_login("alice").map(|f| f.failures), Some(5));
    let unknown = o.failures_by_account.iter().find(|f| f.account.is_none()).expect("unknown user IDs");
    assert_eq!((unknown.failures, unknown.user_ids), (2, 2));
    assert_eq!(o.failures_by_address.len(), 1);
    assert_eq!((o.failures_by_address[0].failures, o.failures_by_address[0].user_ids), (7, 3));
    assert_eq!(o.throttled.len(), 1);
    assert_eq!(o.throttled[0].account.as_ref().map(|a| a.login.as_str()), Some("alice"));
    assert_eq!(o.terminated.len(), 1);
    assert_eq!(o.terminated[0].reason.as_deref(), Some("Moved to another clinic"));
    assert_eq!(o.terminated[0].by.as_ref().map(|b| b.login.as_str()), Some("admin"));

    // Each look is itself in the audit trail.
    let auditor_id = user_id(&portal, "auditor").await;
    let looks = count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'security.viewed' AND actor_id = $1", auditor_id.as_str()).await;
    assert_eq!(looks, 2);
    portal.stop().await;
}

async fn only_administrators_and_auditors_may_look(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    portal.client().sign_in("alice", "guess", "patient").await;

    let anonymous = portal.client();
    assert_eq!(anonymous.get("/staff/security").await.location(), Some("/staff/sign-in"));
    assert_eq!(anonymous.get("/staff/audit").await.location(), Some("/staff/sign-in"));
    assert_eq!(call(&anonymous, "/api/security/overview", &[]).await.0, 401);
    assert_eq!(call(&anonymous, "/api/audit/search", &[]).await.0, 401);

    let patient = portal.client();
    assert!(patient.sign_in("alice", DEMO_PASSWORD, "patient").await.location().is_some());
    for path in ["/staff/security", "/staff/audit?user=alice"] {
        let r = patient.get(path).await;
        assert_eq!(r.status, 303, "patients are sent away from {path}");
        assert!(!r.body.contains("Alice Johnson (alice)"));
    }
    assert_eq!(call(&patient, "/api/security/overview", &[]).await.0, 403);
    assert_eq!(call(&patient, "/api/audit/search", &[("user", "alice")]).await.0, 403);

    let frontdesk = staff(&portal, "frontdesk").await;
    let home = frontdesk.get("/staff").await;
    assert!(!home.body.contains("href=\"/staff/security\"") && !home.body.contains("href=\"/staff/audit\""));
    for path in ["/staff/security", "/staff/audit?user=alice"] {
        let r = frontdesk.get(path).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.body.contains("You do not have access to this page."), "{}", r.body);
        assert!(!r.body.contains("Alice Johnson (alice)") && !r.body.contains("<code>sign-in.failed</code>"));
        assert!(!r.body.contains("Search the audit trail"), "no search form is offered");
    }
    let (status, body) = call(&frontdesk, "/api/security/overview", &[]).await;
    assert_eq!(status, 403);
    assert!(!body.contains("alice"));
    assert_eq!(call(&frontdesk, "/api/audit/search", &[("user", "alice")]).await.0, 403);

    for login in ["admin", "auditor"] {
        let c = staff(&portal, login).await;
        let home = c.get("/staff").await;
        assert!(home.body.contains("href=\"/staff/security\"") && home.body.contains("href=\"/staff/audit\""), "{login}'s menu");
        assert_eq!(c.get("/staff/security").await.status, 200);
        assert_eq!(c.get("/staff/audit").await.status, 200);
    }
    let refused_looks = count(
        &portal,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('security.viewed', $1) AND actor_id NOT IN \
        (SELECT id FROM users WHERE login IN ('admin', 'auditor'))",
        "audit.viewed",
    )
    .await;
    assert_eq!(refused_looks, 0, "nothing was shown to anyone else");
    portal.stop().await;
}

async fn the_audit_search_finds_entries_by_user_and_action(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = portal.client();
    alice.sign_in("alice", "wrong password", "patient").await;
    alice.sign_in("alice", DEMO_PASSWORD, "patient").await;
    portal.client().sign_in("robert", DEMO_PASSWORD, "patient").await;
    let auditor = staff(&portal, "auditor").await;

    // The page: a GET form, filled in from the URL.
    let page = auditor.get("/staff/audit?user=Alice").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("method=\"get\"") && page.body.contains("action=\"/staff/audit\""));
    assert!(page.body.contains("<label for=\"audit-user\">") && page.body.contains("<label for=\"audit-action\">"));
    assert!(page.body.contains("value=\"Alice\""), "the form keeps the search");
    let failed = row(&page.body, "<code>sign-in.failed</code>");
    assert!(failed.contains("Sign-in failed (wrong password)") && failed.contains("<td>alice</td>") && failed.contains("127.0.0.1"), "{failed}");
    assert!(failed.contains("wrong password"));
    assert!(row(&page.body, "<code>sign-in.succeeded</code>").contains("<td>alice</td>"));
    assert!(!page.body.contains("<td>robert</td>"), "only alice's entries");
    assert!(page.body.contains("Verify the chain"));

    // By user ID: entries where alice acted or was acted on.
    let r = search(&auditor, &[("user", "alice")]).await;
    assert!(!r.unknown_user && r.older.is_none() && r.chain.is_none());
    assert!(r.entries.iter().all(|e| e.actor.as_deref() == Some("alice") || e.subject.as_deref() == Some("alice")), "{:?}", r.entries);
    // (Leaving out the searches themselves: the page view above was one.)
    let actions: Vec<&str> = r.entries.iter().map(|e| e.action.as_str()).filter(|a| *a != "audit.viewed").collect();
    assert!(actions.starts_with(&["sign-in.succeeded", "sign-in.failed"]), "newest first: {actions:?}");
    assert!(r.entries.windows(2).all(|w| w[0].seq > w[1].seq));

    // By action, for everyone and for one account.
    let r = search(&auditor, &[("action", "sign-in.succeeded")]).await;
    let subjects: Vec<&str> = r.entries.iter().filter_map(|e| e.subject.as_deref()).collect();
    assert_eq!(subjects, ["auditor", "robert", "alice"]);
    let r = search(&auditor, &[("user", "alice"), ("action", "sign-in.failed")]).await;
    assert_eq!(r.entries.len(), 1);
    assert_eq!(r.entries[0].detail.as_deref(), Some("wrong password"));
    let page = auditor.get("/staff/audit?action=sign-in.failed").await;
    assert!(page.body.contains("<option value=\"sign-in.failed\" selected"), "the action stays chosen");
    // A code this version does not know is searched, not refused.
    assert!(search(&auditor, &[("action", "some.future-action")]).await.entries.is_empty());

    // By date (UTC, both ends included).
    let today = CalendarDate::of_ms(app::platform::now_ms());
    let yesterday = CalendarDate::of_ms(app::platform::now_ms() - 86_400_000);
    let r = search(&auditor, &[("user", "alice"), ("from", &yesterday.to_string()), ("to", &today.to_string())]).await;
    assert!(r.entries.len() >= 2);
    let r = search(&auditor, &[("user", "alice"), ("to", "2000-01-01")]).await;
    assert!(r.entries.is_empty());
    let page = auditor.get("/staff/audit?user=alice&to=2000-01-01").await;
    assert!(page.body.contains("No entries match this search."));
    let bad = auditor.get("/staff/audit?from=2026-13-45").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Write dates as year, month and day"), "{}", bad.body);

    // A user ID that names no account.
    let page = auditor.get("/staff/audit?user=nobody-here").await;
    assert!(page.body.contains("No account has the user ID"), "{}", page.body);

    // Each search is audited, naming whose trail was searched.
    let alice_id = user_id(&portal, "alice").await;
    let looks = count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'audit.viewed' AND subject_id = $1", alice_id.as_str()).await;
    assert!(looks >= 5, "{looks}");
    portal.stop().await;
}

async fn older_entries_come_a_page_at_a_time_and_the_chain_is_checked_on_request(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let alice = user_id(&portal, "alice").await;
    let mut tx = portal.state.db.begin_write().await.unwrap();
    let now = app::platform::now_ms();
    for i in 0..150 {
        audit::record(&mut tx, AuditEvent { subject: Some(&alice), detail: Some("test entry"), ..AuditEvent::of(AuditAction::SignInFailed) }, now + i)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let total = count(&portal, "SELECT COUNT(*) AS n FROM audit_log WHERE actor_id = $1 OR subject_id = $1", alice.as_str()).await;
    assert!(total > 150);

    let auditor = staff(&portal, "auditor").await;
    let first = search(&auditor, &[("user", "alice")]).await;
    assert_eq!(first.entries.len(), 100);
    let before = first.older.expect("there are older entries");
    assert_eq!(before, first.entries.last().unwrap().seq);
    let second = search(&auditor, &[("user", "alice"), ("before", &before.to_string())]).await;
    assert!(second.older.is_none());
    assert_eq!(first.entries.len() + second.entries.len(), total as usize, "every entry once, none twice");
    assert!(second.entries.iter().all(|e| e.seq < before));

    // The same in the page, following its links.
    let page = auditor.get("/staff/audit?user=alice").await;
    let older = link_before(&page.body, "Older entries");
    assert!(older.starts_with("/staff/audit?user=alice&before="), "{older}");
    let page = auditor.get(&older).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Newest entries") && !page.body.contains("Older entries"));
    assert_eq!(link_before(&page.body, "Newest entries"), "/staff/audit?user=alice");

    // The chain is walked only when asked.
    assert!(page.body.contains("Verify the chain") && !page.body.contains("The chain verifies"));
    let checked = auditor.get("/staff/audit?verify=1").await;
    assert!(checked.body.contains("The chain verifies: all"), "{}", checked.body);
    assert!(checked.body.contains("linked under this server&#x27;s key") || checked.body.contains("linked under this server's key"), "{}", checked.body);
    let r = search(&auditor, &[("verify", "1")]).await;
    assert!(matches!(r.chain, Some(app::security::ChainStatus::Intact { entries, keyed_from: Some(1) }) if entries > total));

    // Someone with the database owner's powers edits an entry: the check says where.
    let pool = &portal.state.db.pool;
    match backend {
        Backend::Sqlite => sqlx::query("DROP TRIGGER audit_log_no_update").execute(pool).await.unwrap(),
        Backend::Postgres => sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").execute(pool).await.unwrap(),
    };
    sqlx::query("UPDATE audit_log SET detail = 'edited' WHERE seq = 11").execute(pool).await.unwrap();
    let broken = auditor.get("/staff/audit?verify=1&user=alice").await;
    assert!(broken.body.contains("The chain does not verify: entry 11 contents changed"), "{}", broken.body);
    portal.stop().await;
}

on_both_databases!(
    failed_sign_ins_show_on_the_security_view,
    only_administrators_and_auditors_may_look,
    the_audit_search_finds_entries_by_user_and_action,
    older_entries_come_a_page_at_a_time_and_the_chain_is_checked_on_request,
);
