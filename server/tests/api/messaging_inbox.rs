//! A staff inbox of many (SPEC R-MSG-4; issue 16): a pool's inbox can hold thousands of
//! waiting messages. It is shown a page at a time, soonest due first, with the counts of the
//! whole inbox, and every waiting message can be reached: none is dropped past a limit, none
//! shows twice, and a page past the last (a link kept while messages were handled) lands on
//! the first. Both databases; the page's HTML and its function agree.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::ids::new_id;
use app::messaging::{InboxPage, INBOX_PAGE_SIZE};
use std::collections::HashSet;

const MINUTE: i64 = 60_000;

async fn signed_in(portal: &TestPortal, login: &str) -> Client {
    let c = portal.client();
    assert_eq!(c.sign_in(login, DEMO_PASSWORD, "staff").await.status, 302, "{login} signs in");
    c
}

async fn inbox(c: &Client, filter: &str, page: u32) -> InboxPage {
    let r = c.call_form("/api/staff/messages/inbox", &[("filter", filter), ("page", &page.to_string())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// `n` open messages from Alice to the nurse line, each in its own conversation, due one
/// minute apart from `first_due`.
async fn write_to_the_nurse_line(portal: &TestPortal, n: i64, first_due: i64, now: i64) {
    let db = &portal.state.db.pool;
    let alice: String = sqlx::query_scalar("SELECT patient_id FROM users WHERE login = 'alice'").fetch_one(db).await.unwrap();
    let author: String = sqlx::query_scalar("SELECT id FROM users WHERE login = 'alice'").fetch_one(db).await.unwrap();
    let pool: String = sqlx::query_scalar("SELECT id FROM care_pools WHERE name = 'Nurse line'").fetch_one(db).await.unwrap();
    for i in 0..n {
        let thread = new_id();
        sqlx::query("INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, 'general', $3, $4, $4)")
            .bind(&thread)
            .bind(&alice)
            .bind(format!("Question number {i:03}"))
            .bind(now - 60 * MINUTE)
            .execute(db)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, to_pool_id, assigned_pool_id, due_at) \
             VALUES ($1, $2, $3, 'patient', 'A question.', $4, $5, $5, $6)",
        )
        .bind(new_id())
        .bind(&thread)
        .bind(&author)
        .bind(now - 60 * MINUTE)
        .bind(&pool)
        .bind(first_due + i * MINUTE)
        .execute(db)
        .await
        .unwrap();
    }
}

async fn a_pools_inbox_of_many_is_read_page_by_page_and_drops_nothing(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let nurse = signed_in(&portal, "nursekim").await;
    let before = inbox(&nurse, "pools", 1).await;
    let now = app::platform::now_ms();
    // Forty of them already overdue, the rest due later: more than two pages in all.
    let added = 2 * INBOX_PAGE_SIZE as i64 + 20;
    write_to_the_nurse_line(&portal, added, now - 40 * MINUTE, now).await;

    let first = inbox(&nurse, "pools", 1).await;
    let waiting = before.waiting + added;
    assert_eq!(first.waiting, waiting, "the count is the whole inbox's, not the page's");
    assert!(first.overdue >= before.overdue + 39, "{} overdue", first.overdue);
    assert_eq!(first.items.len(), INBOX_PAGE_SIZE as usize);
    assert_eq!((first.page, first.pages), (1, (waiting as u32).div_ceil(INBOX_PAGE_SIZE)));

    // Every page, in order: each message once, soonest due first across the pages.
    let mut seen = HashSet::new();
    let mut due = Vec::new();
    for page in 1..=first.pages {
        let p = inbox(&nurse, "pools", page).await;
        assert_eq!(p.page, page);
        for item in p.items {
            assert!(seen.insert(item.message_id.clone()), "a message on two pages");
            due.push(item.due_at);
        }
    }
    assert_eq!(seen.len() as i64, waiting, "every waiting message is on a page");
    assert!(due.windows(2).all(|w| w[0] <= w[1]), "soonest due first");

    // A page past the last lands on the first.
    let past = inbox(&nurse, "pools", first.pages + 5).await;
    assert_eq!(past.page, 1);
    assert_eq!(past.items, first.items);

    // The page itself, without JavaScript: the counts, where this page is, and links both ways.
    let html = nurse.get("/staff/messages?show=pools&page=2").await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains(&format!("{waiting} waiting, {} overdue.", first.overdue)), "{}", html.body);
    let (from, to) = (INBOX_PAGE_SIZE + 1, 2 * INBOX_PAGE_SIZE);
    assert!(html.body.contains(&format!("Showing {from} to {to} (page 2 of {})", first.pages)), "{}", html.body);
    assert!(html.body.contains(r#"aria-label="Inbox pages""#));
    assert!(html.body.contains("/staff/messages?show=pools&amp;page=1") && html.body.contains("/staff/messages?show=pools&amp;page=3"), "{}", html.body);

    // Dr. Lee is not in the nurse line: none of it reaches his inbox, on any page.
    let drlee = signed_in(&portal, "drlee").await;
    let his = inbox(&drlee, "all", 1).await;
    assert!(his.items.iter().all(|i| !i.subject.starts_with("Question number")));
    assert_eq!(his.waiting, before_of(&portal, "drlee").await);
    portal.stop().await;
}

/// How many patient messages wait for `login` directly or through their pools, counted in SQL.
async fn before_of(portal: &TestPortal, login: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages m WHERE m.author_kind = 'patient' AND m.handled_at IS NULL AND \
         (m.assigned_provider_id = (SELECT id FROM users WHERE login = $1) \
          OR m.assigned_pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = (SELECT id FROM users WHERE login = $1)))",
    )
    .bind(login)
    .fetch_one(&portal.state.db.pool)
    .await
    .unwrap()
}

on_both_databases!(a_pools_inbox_of_many_is_read_page_by_page_and_drops_nothing);
