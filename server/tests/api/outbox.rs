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
    let (next, error): (i64, Option<String>) = sqlx::query_as("SELECT next_attempt_at, last_error FROM outbox").fetch_one(pool).await.unwrap();
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
    let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL OR sent_at IS NOT NULL").fetch_one(&db.pool).await.unwrap();
    assert_eq!(claimed, 30);
    portal.stop().await;
}

/// Issue 14, point 11: a notice the relay refuses for good is tried a bounded number of times,
/// then given up: never claimed again, its secret (here a reset link's token) wiped, and listed
/// on the security page for staff to act on.
async fn a_notice_refused_for_good_is_given_up_and_shown(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    portal.smtp.refuse_for_good(100);
    let mut tx = portal.state.db.begin_write().await.unwrap();
    let token = "RESET-TOKEN-THAT-MUST-NOT-OUTLIVE-THE-NOTICE";
    outbox::enqueue(&mut tx, "robert.smith@example.org", &Notice::PasswordReset { token: token.into() }, now_ms()).await.unwrap();
    tx.commit().await.unwrap();
    portal.state.outbox_wakeup.notify_one();
    let mut tries = Vec::new();
    for _ in 0..300 {
        let (attempts, failed_at, error, claimed_until): (i64, Option<i64>, Option<String>, Option<i64>) =
            sqlx::query_as("SELECT attempts, failed_at, last_error, claimed_until FROM outbox").fetch_one(pool).await.unwrap();
        if failed_at.is_some() {
            tries.push(attempts);
            break;
        }
        if error.is_some() && claimed_until.is_none() && tries.last() != Some(&attempts) {
            // Refused; time passes: bring the retry forward and wake the worker.
            tries.push(attempts);
            sqlx::query("UPDATE outbox SET next_attempt_at = 0").execute(pool).await.unwrap();
            portal.state.outbox_wakeup.notify_one();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(tries, [1, 2, outbox::MAX_ATTEMPTS_REFUSED_FOR_GOOD], "given up after the third refusal");
    let (payload, error): (Option<String>, Option<String>) = sqlx::query_as("SELECT payload, last_error FROM outbox").fetch_one(pool).await.unwrap();
    assert_eq!(payload, None, "the token is wiped");
    assert_eq!(error.as_deref(), Some("relay refused permanently"));
    assert!(portal.smtp.received().is_empty());
    // Never claimed again, however late.
    assert!(outbox::claim(&portal.state.db, "another-server", i64::MAX / 2, i64::MAX / 2 + 1, 10).await.unwrap().is_empty());

    let admin = portal.client();
    assert_eq!(admin.sign_in("admin", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
    let page = admin.get("/staff/security").await;
    assert_eq!(page.status, 200);
    let section = page.body.split("E-mail notices not delivered").nth(1).expect("the section is there");
    assert!(section.contains("robert.smith@example.org (Robert Smith, robert)"), "{section}");
    assert!(section.contains("password-reset") && section.contains("relay refused permanently"), "{section}");
    assert!(!page.body.contains(token));
    portal.stop().await;
}

/// Issue 14, point 11: a worker renews its claim just before each send, so a slow batch cannot
/// outlast it and let another server send the same notice; a claim that ran out is not renewed
/// (the notice may be another worker's by then) and that worker's marks change nothing.
async fn a_claim_is_renewed_before_each_send_and_lost_once_it_ran_out(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = &portal.state.db;
    // Due a day from now, so the portal's own worker leaves it to the workers of this test.
    let t = now_ms() + 86_400_000;
    let mut tx = db.begin_write().await.unwrap();
    outbox::enqueue_at(&mut tx, "patient@example.org", &Notice::NewInPortal, now_ms(), t).await.unwrap();
    tx.commit().await.unwrap();
    let lease = outbox::LEASE_MS;
    let first = outbox::claim(db, "a", t, t + lease, 20).await.unwrap();
    assert_eq!(first.len(), 1);
    let id = first[0].id.clone();
    // The batch's earlier sends took most of the lease; renewed just in time.
    assert!(outbox::renew(db, &id, "a", t + lease - 1_000, t + 2 * lease).await.unwrap());
    assert!(outbox::claim(db, "b", t + lease + 1_000, t + 3 * lease, 20).await.unwrap().is_empty(), "b cannot take it while a sends");
    // a stalls past its renewed lease; b claims it.
    let later = t + 2 * lease + 1_000;
    assert_eq!(outbox::claim(db, "b", later, later + lease, 20).await.unwrap().len(), 1);
    assert!(!outbox::renew(db, &id, "a", later + 10, later + lease).await.unwrap(), "a's claim is gone");
    outbox::mark_sent(db, &id, "a", later + 20).await.unwrap();
    let (by, sent): (String, Option<i64>) = sqlx::query_as("SELECT claimed_by, sent_at FROM outbox WHERE id = $1").bind(&id).fetch_one(&db.pool).await.unwrap();
    assert_eq!((by.as_str(), sent), ("b", None), "only b's marks count now");
    // A claim nobody took over cannot be renewed once it ran out either: it is free to claim.
    assert!(!outbox::renew(db, &id, "b", later + 2 * lease, later + 3 * lease).await.unwrap());
    portal.stop().await;
}

on_both_databases!(
    a_sign_in_from_a_new_device_is_mailed_without_health_information,
    a_refused_delivery_is_retried_until_it_goes,
    several_workers_never_send_a_notice_twice,
    a_notice_refused_for_good_is_given_up_and_shown,
    a_claim_is_renewed_before_each_send_and_lost_once_it_ran_out,
);
