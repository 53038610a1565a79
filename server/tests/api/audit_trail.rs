use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use app::audit::{self, AuditEntry, ChainKey, ChainReport};
use sqlx::Row;

fn key(portal: &TestPortal) -> ChainKey {
    ChainKey::from_secrets(&portal.state.sealing)
}

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
        sqlx::query_as("SELECT action, client_addr FROM audit_log WHERE action LIKE 'sign-in%' ORDER BY seq").fetch_all(&portal.state.db.pool).await.unwrap();
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
    let entries = match audit::verify(&portal.state.db, &key(&portal)).await.unwrap() {
        ChainReport::Intact { entries, keyed_from: Some(1) } => entries,
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
        audit::verify(&portal.state.db, &key(&portal)).await.unwrap(),
        ChainReport::Broken { seq: 11, problem: "contents changed (its keyed link does not verify under this server's key)" }
    );
    portal.stop().await;
}

async fn concurrent_writers_keep_one_chain(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let before = match audit::verify(&portal.state.db, &key(&portal)).await.unwrap() {
        ChainReport::Intact { entries, .. } => entries,
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
    assert!(matches!(audit::verify(&portal.state.db, &key(&portal)).await.unwrap(), ChainReport::Intact { entries, .. } if entries == before + 12));
    portal.stop().await;
}

/// Every record page is audited as it is shown (R-REC-6). Views that arrive together share one
/// write transaction (group commit), which must not lose, merge or reorder-break any of them:
/// each view answered has its own entry, committed, in one intact chain.
async fn record_views_that_arrive_together_each_leave_their_entry(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    assert_eq!(c.sign_in("alice", DEMO_PASSWORD, "patient").await.status, 302);
    let views = |portal: &TestPortal| {
        let pool = portal.state.db.pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'record.viewed'").fetch_one(&pool).await.unwrap();
            n
        }
    };
    let before = views(&portal).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.get(if i % 2 == 0 { "/record/results" } else { "/home" }).await.status }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(views(&portal).await, before + 40, "one entry for every page shown");
    assert!(matches!(audit::verify(&portal.state.db, &key(&portal)).await.unwrap(), ChainReport::Intact { .. }));
    portal.stop().await;
}

/// A joined write that fails (here a statement the database refuses) fails its own request
/// only: the entries written beside it in the same moment are committed.
async fn a_failed_write_does_not_fail_the_writes_joined_with_it(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let db = portal.state.db.clone();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&db.pool).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if i == 5 {
                db.write_joined(|tx| Box::pin(async move { sqlx::query("INSERT INTO no_such_table VALUES (1)").execute(&mut **tx).await.map(|_| ()) })).await
            } else {
                audit::record_alone(&db, audit::AuditEvent { detail: Some("joined"), ..audit::AuditEvent::of(app::audit::AuditAction::RecordViewed) }, 0).await
            }
        }));
    }
    let results: Vec<bool> = futures_ok(tasks).await;
    assert_eq!(results.iter().filter(|ok| !**ok).count(), 1, "only the refused write failed: {results:?}");
    assert!(!results[5]);
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(after, before + 23);
    assert!(matches!(audit::verify(&db, &key(&portal)).await.unwrap(), ChainReport::Intact { .. }));
    portal.stop().await;
}

async fn futures_ok(tasks: Vec<tokio::task::JoinHandle<Result<(), sqlx::Error>>>) -> Vec<bool> {
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().is_ok());
    }
    results
}

/// What someone with the database owner's powers can do: turn off the append-only triggers.
async fn allow_rewrites(portal: &TestPortal) {
    let pool = &portal.state.db.pool;
    match portal.backend {
        Backend::Sqlite => {
            sqlx::query("DROP TRIGGER audit_log_no_update").execute(pool).await.unwrap();
            sqlx::query("DROP TRIGGER audit_log_no_delete").execute(pool).await.unwrap();
        }
        Backend::Postgres => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").execute(pool).await.unwrap();
        }
    }
}

async fn entries(portal: &TestPortal, from: i64) -> Vec<AuditEntry> {
    let rows = sqlx::query(
        "SELECT seq, at, action, actor_id, subject_id, record_type, record_id, client_addr, detail, prev_hash, hash \
         FROM audit_log WHERE seq >= $1 ORDER BY seq",
    )
    .bind(from)
    .fetch_all(&portal.state.db.pool)
    .await
    .unwrap();
    rows.iter()
        .map(|r| AuditEntry {
            seq: r.get("seq"),
            at: r.get("at"),
            action: r.get("action"),
            actor_id: r.get("actor_id"),
            subject_id: r.get("subject_id"),
            record_type: r.get("record_type"),
            record_id: r.get("record_id"),
            client_addr: r.get("client_addr"),
            detail: r.get("detail"),
            prev_hash: r.get("prev_hash"),
            hash: r.get("hash"),
        })
        .collect()
}

/// Rewrites entries `from`.. consistently as a plain SHA-256 chain, as someone who can write to
/// the database but has no key file can: `change` edits the first, every hash after it is
/// recomputed, and the head follows. Returns the entries as rewritten.
async fn rewrite_unkeyed(portal: &TestPortal, from: i64, change: impl FnOnce(&mut AuditEntry)) -> Vec<AuditEntry> {
    let pool = &portal.state.db.pool;
    let mut all = entries(portal, from).await;
    change(&mut all[0]);
    let mut prev = all[0].prev_hash.clone();
    for e in &mut all {
        e.prev_hash = prev;
        e.hash = e.compute_hash();
        prev = e.hash.clone();
        sqlx::query("UPDATE audit_log SET client_addr = $1, detail = $2, prev_hash = $3, hash = $4 WHERE seq = $5")
            .bind(&e.client_addr)
            .bind(&e.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(e.seq)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev).execute(pool).await.unwrap();
    all
}

/// A plain walk of the chain from entry `from`, as the portal checked it before keying: every
/// link recomputed with SHA-256, up to the head. Says whether it holds.
async fn plain_walk_holds(portal: &TestPortal, from: i64) -> bool {
    let all = entries(portal, from).await;
    let mut prev = all[0].prev_hash.clone();
    for e in all {
        if e.prev_hash != prev || e.compute_hash() != e.hash {
            return false;
        }
        prev = e.hash;
    }
    let head: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE id = 1").fetch_one(&portal.state.db.pool).await.unwrap();
    head == prev
}

/// Issue 14, point 8: with an unkeyed chain, someone able to write to the database could change
/// an entry and recompute every hash after it, and the chain would still verify. The links are
/// now HMACs under a subkey of the secrets key, kept in a file apart from the database: such a
/// rewrite is found, and so are a whole chain rewritten with its keyed start moved past the end,
/// and checking under another key; a chain whose start was erased is reported as not keyed,
/// on the security page too.
async fn rewriting_entries_and_recomputing_unkeyed_hashes_is_detected(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    for who in ["alice", "robert", "carol"] {
        assert_eq!(portal.client().sign_in(who, DEMO_PASSWORD, "patient").await.status, 302);
    }
    portal.client().sign_in("alice", "not her password", "patient").await;
    let pool = &portal.state.db.pool;
    let total = match audit::verify(&portal.state.db, &key(&portal)).await.unwrap() {
        ChainReport::Intact { entries, keyed_from: Some(1) } => entries,
        other => panic!("a new database is keyed from its first entry: {other:?}"),
    };
    allow_rewrites(&portal).await;
    // The failed sign-in's address, rewritten to point elsewhere; every later hash recomputed.
    let target: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log WHERE action = 'sign-in.failed'").fetch_one(pool).await.unwrap();
    rewrite_unkeyed(&portal, target, |e| e.client_addr = Some("10.9.9.9".into())).await;
    assert!(plain_walk_holds(&portal, target).await, "as an unkeyed chain, the rewrite is consistent");
    assert_eq!(
        audit::verify(&portal.state.db, &key(&portal)).await.unwrap(),
        ChainReport::Broken { seq: target, problem: "contents changed (its keyed link does not verify under this server's key)" }
    );
    // Another server's key (another key file) does not verify this chain.
    let other = ChainKey::from_secrets(&app::platform::sealing::SealingKey::generate());
    assert_eq!(
        audit::verify(&portal.state.db, &other).await.unwrap(),
        ChainReport::Broken { seq: 1, problem: "is keyed under another key than this server's" }
    );

    // The whole chain rewritten as a plain one, and the start of the keyed chain moved past its
    // end so that every entry would be checked by its plain hash: the start is bound under the
    // key, so moving it is found.
    rewrite_unkeyed(&portal, 1, |_| {}).await;
    assert!(plain_walk_holds(&portal, 1).await);
    sqlx::query("UPDATE audit_head SET keyed_from = $1 WHERE id = 1").bind(total + 1).execute(pool).await.unwrap();
    match audit::verify(&portal.state.db, &key(&portal)).await.unwrap() {
        ChainReport::Broken { seq, problem } => {
            assert_eq!(seq, total + 1);
            assert!(problem.starts_with("starts the keyed chain"), "{problem}");
        }
        intact => panic!("{intact:?}"),
    }
    // The start erased altogether: the links hold, and the chain is reported as not keyed.
    sqlx::query("UPDATE audit_head SET keyed_from = NULL, keyed_from_mac = NULL WHERE id = 1").execute(pool).await.unwrap();
    assert_eq!(audit::verify(&portal.state.db, &key(&portal)).await.unwrap(), ChainReport::Intact { entries: total, keyed_from: None });
    let auditor = portal.client();
    assert_eq!(auditor.sign_in("auditor", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
    let page = auditor.get("/staff/audit?verify=1").await;
    assert!(
        page.body.contains("the chain is not keyed under this server&#x27;s key") || page.body.contains("the chain is not keyed under this server's key"),
        "{}",
        page.body
    );
    portal.stop().await;
}

/// Issue 14, point 8, existing trails: entries written before keying began keep their plain
/// links and are checked as before; the keyed chain starts at a recorded entry (set once, at the
/// first start of a version with keyed links), whose anchor seals the hash of the entry before
/// it, so the older entries cannot be rewritten unnoticed either.
async fn entries_from_before_keying_are_verified_as_before_and_sealed_by_the_anchor(backend: Backend) {
    let mut portal = TestPortal::start(backend).await;
    portal.stop_server().await;
    let db = &portal.state.db;
    let pool = &db.pool;
    allow_rewrites(&portal).await;
    // A trail as a version before keying left it: empty here, then three plain entries.
    sqlx::query("DELETE FROM audit_log").execute(pool).await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = 0, hash = $1, key_id = NULL, keyed_from = NULL, keyed_from_mac = NULL WHERE id = 1")
        .bind(audit::GENESIS_HASH)
        .execute(pool)
        .await
        .unwrap();
    let now = app::platform::now_ms();
    for _ in 0..3 {
        audit::record_alone(db, audit::AuditEvent::of(app::audit::AuditAction::SecurityViewed), now).await.unwrap();
    }
    assert!(plain_walk_holds(&portal, 1).await);
    // The first start of the keyed version anchors the chain after them, once.
    assert_eq!(audit::anchor_keyed_chain(db, &key(&portal)).await.unwrap(), Some(4));
    assert_eq!(audit::anchor_keyed_chain(db, &key(&portal)).await.unwrap(), None, "set once");
    assert_eq!(audit::verify(db, &key(&portal)).await.unwrap(), ChainReport::Intact { entries: 3, keyed_from: Some(4) });
    for _ in 0..2 {
        audit::record_alone(db, audit::AuditEvent::of(app::audit::AuditAction::SecurityViewed), now).await.unwrap();
    }
    assert_eq!(audit::verify(db, &key(&portal)).await.unwrap(), ChainReport::Intact { entries: 5, keyed_from: Some(4) });
    let all = entries(&portal, 1).await;
    assert!(all[..3].iter().all(|e| e.compute_hash() == e.hash), "older entries keep their plain links");
    assert!(all[3..].iter().all(|e| e.compute_keyed_hash(&key(&portal)) == e.hash && e.compute_hash() != e.hash), "newer ones are keyed");

    // An older entry rewritten, with the plain hashes after it recomputed up to the anchor.
    let rewritten = rewrite_unkeyed(&portal, 2, |e| e.detail = Some("nothing to see".into())).await;
    // (The rewrite carried on into the keyed entries; put them back, linked to the new hash.)
    for e in &all[3..] {
        let prev = if e.seq == 4 { rewritten[1].hash.clone() } else { e.prev_hash.clone() };
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3").bind(prev).bind(&e.hash).bind(e.seq).execute(pool).await.unwrap();
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&all[4].hash).execute(pool).await.unwrap();
    assert!(matches!(audit::verify(db, &key(&portal)).await.unwrap(), ChainReport::Broken { seq: 4, .. }), "the anchor seals the entries before it");
    portal.stop().await;
}

on_both_databases!(
    sign_ins_are_audited_and_shown_to_the_patient,
    the_chain_verifies_and_tampering_is_found,
    concurrent_writers_keep_one_chain,
    record_views_that_arrive_together_each_leave_their_entry,
    a_failed_write_does_not_fail_the_writes_joined_with_it,
    rewriting_entries_and_recomputing_unkeyed_hashes_is_detected,
    entries_from_before_keying_are_verified_as_before_and_sealed_by_the_anchor,
);
