use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use app::audit::{self, ChainReport};

async fn sign_ins_are_audited_and_shown_to_the_patient(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    c.sign_in("alice", "wrong password", "patient").await;
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let page = c.get("/account/activity").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Signed in"), "{}", page.body);
    assert!(page.body.contains("Sign-in failed"));
    assert!(page.body.contains("127.0.0.1"));
    // Another patient's activity is not there.
    let other = portal.client();
    other.sign_in("robert", DEMO_PASSWORD, "patient").await;
    let theirs = other.get("/account/activity").await;
    assert!(!theirs.body.contains("Sign-in failed"), "robert sees only his own activity");
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, client_addr FROM audit_log WHERE action LIKE 'sign-in%' ORDER BY seq")
            .fetch_all(&portal.state.db.pool)
            .await
            .unwrap();
    let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["sign-in.failed", "sign-in.succeeded", "sign-in.succeeded"]);
    assert!(rows.iter().all(|(_, addr)| addr.as_deref() == Some("127.0.0.1")));
    portal.stop().await;
}

async fn the_chain_verifies_and_tampering_is_found(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    for _ in 0..3 {
        c.sign_in("carol", DEMO_PASSWORD, "patient").await;
    }
    let pool = &portal.state.db.pool;
    let entries = match audit::verify(&portal.state.db).await.unwrap() {
        ChainReport::Intact { entries } => entries,
        broken => panic!("{broken:?}"),
    };
    assert!(entries >= 12, "9 accounts created + 3 sign-ins: {entries}");

    // The application's own database account cannot change history.
    let update = sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 10").execute(pool).await;
    assert!(update.is_err(), "updates are refused");
    let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 10").execute(pool).await;
    assert!(delete.is_err(), "deletes are refused");

    // Someone with the database owner's powers edits an entry: the chain shows where.
    match backend {
        Backend::Sqlite => {
            sqlx::query("DROP TRIGGER audit_log_no_update").execute(pool).await.unwrap();
        }
        Backend::Postgres => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").execute(pool).await.unwrap();
        }
    }
    sqlx::query("UPDATE audit_log SET client_addr = '10.9.9.9' WHERE seq = 11").execute(pool).await.unwrap();
    assert_eq!(
        audit::verify(&portal.state.db).await.unwrap(),
        ChainReport::Broken { seq: 11, problem: "contents changed" }
    );
    portal.stop().await;
}

async fn concurrent_writers_keep_one_chain(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let before = match audit::verify(&portal.state.db).await.unwrap() {
        ChainReport::Intact { entries } => entries,
        broken => panic!("{broken:?}"),
    };
    let mut tasks = Vec::new();
    for i in 0..12 {
        let base = portal.base.clone();
        tasks.push(tokio::spawn(async move {
            let c = crate::support::Client::new(&base);
            let who = ["alice", "robert", "carol"][i % 3];
            c.sign_in(who, DEMO_PASSWORD, "patient").await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 302);
    }
    assert!(matches!(audit::verify(&portal.state.db).await.unwrap(), ChainReport::Intact { entries } if entries == before + 12));
    portal.stop().await;
}

on_both_databases!(
    sign_ins_are_audited_and_shown_to_the_patient,
    the_chain_verifies_and_tampering_is_found,
    concurrent_writers_keep_one_chain,
);
