use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use app::outbox::{self, Notice};
use app::platform::now_ms;

async fn a_sign_in_from_a_new_device_is_mailed_without_health_information(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let mail = portal.smtp.wait_for(1, 15).await;
    assert_eq!(mail.len(), 1, "one notice");
    let m = &mail[0];
    assert_eq!(m.to, vec!["<alice.johnson@example.org>".to_string()], "one recipient");
    let text = m.text();
    assert!(text.contains("Subject: Test Clinic: new sign-in to your patient portal"), "{text}");
    assert!(text.contains(&format!("{}/sign-in", portal.base)), "{text}");
    assert!(!text.contains("Alice Johnson") && !text.contains("1948"), "no personal details");
    let message_id = m.data.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).unwrap();
    // The worker records the delivery right after the relay accepted it: the mail can be seen
    // here a moment before the row says so.
    let mut sent: (String, Option<i64>) = (String::new(), None);
    for _ in 0..100 {
        sent = sqlx::query_as("SELECT id, sent_at FROM outbox").fetch_one(&portal.state.db.pool).await.unwrap();
        if sent.1.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(message_id.contains(&sent.0), "the Message-ID names the outbox row");
    assert!(sent.1.is_some(), "the delivery is recorded");

    // The same browser again: a known device, no new notice.
    c.post_form("/api/sign-out", &[]).await;
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(portal.smtp.received().len(), 1);
    portal.stop().await;
}

async fn a_refused_delivery_is_retried_until_it_goes(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    portal.smtp.refuse_next(1);
    portal.client().sign_in("robert", DEMO_PASSWORD, "patient").await;
    // Wait for the first, refused, attempt.
    let pool = &portal.state.db.pool;
    let mut attempts = 0i64;
    for _ in 0..100 {
        let row: (i64, Option<String>) = sqlx::query_as("SELECT attempts, last_error FROM outbox").fetch_one(pool).await.unwrap();
        attempts = row.0;
        if row.1.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(attempts, 1);
    let (next, error): (i64, Option<String>) =
        sqlx::query_as("SELECT next_attempt_at, last_error FROM outbox").fetch_one(pool).await.unwrap();
    assert!(next > now_ms() + 30_000, "backs off before the next try");
    assert_eq!(error.as_deref(), Some("relay refused for now"));
    assert!(portal.smtp.received().is_empty());
    // Time passes: bring the retry forward and wake the worker.
    sqlx::query("UPDATE outbox SET next_attempt_at = 0").execute(pool).await.unwrap();
    portal.state.outbox_wakeup.notify_one();
    let mail = portal.smtp.wait_for(1, 15).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["<robert.smith@example.org>".to_string()]);
    portal.stop().await;
}

async fn several_workers_never_send_a_notice_twice(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db;
    let now = now_ms();
    let mut tx = db.begin_write().await.unwrap();
    for i in 0..30 {
        outbox::enqueue(&mut tx, &format!("patient{i}@example.org"), &Notice::NewDeviceSignIn, now).await.unwrap();
    }
    tx.commit().await.unwrap();
    // Claim concurrently, as workers on several app servers would.
    let mut claims = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        claims.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = outbox::claim(&db, &format!("worker-{w}"), now_ms(), now_ms() + 60_000, 3).await.unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for c in claims {
        all.extend(c.await.unwrap());
    }
    let before = all.len();
    all.sort();
    all.dedup();
    assert_eq!(before, all.len(), "no notice claimed twice");
    // The portal's own worker may have claimed some too; together they hold every notice.
    let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL OR sent_at IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(claimed, 30);
    portal.stop().await;
}

on_both_databases!(
    a_sign_in_from_a_new_device_is_mailed_without_health_information,
    a_refused_delivery_is_retried_until_it_goes,
    several_workers_never_send_a_notice_twice,
);
