//! Issue 14, point 7: secrets at rest. What a copy of the database (or of a backup) gives away:
//! low-entropy secrets are kept as keyed digests under the secrets key, which lives in a file
//! apart from the database; the database, its companion files, the backups and the key file are
//! readable by the portal's user only.

use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use app::platform::sealing::Purpose;
use app::platform::tokens;
use app::second_step::{server as second_step, totp};
use app::types::UserId;
use sqlx::Row;

fn options() -> leptos::prelude::LeptosOptions {
    leptos::prelude::LeptosOptions::builder().output_name("portal").site_root("target/site").build()
}

async fn strings(portal: &TestPortal, sql: &str) -> Vec<String> {
    sqlx::query(sql).fetch_all(&portal.state.db.pool).await.unwrap().iter().map(|r| r.get::<String, _>(0)).collect()
}

/// Recovery codes (about 50 bits each) and the typed user ID of a sign-in attempt were kept as
/// plain SHA-256: from a copy of the database, trying every code or every likely user ID finds
/// them. They are now HMACs under subkeys of the secrets key. Rows kept the old way are
/// converted at the next start (the keyed digest is defined over the plain one), so recovery
/// codes issued before keep working, and the throttle keeps its count.
async fn recovery_codes_and_typed_user_ids_are_kept_as_keyed_digests(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let key = &portal.state.sealing;
    let db = &portal.state.db;
    portal.client().sign_in("alice", "not her password", "patient").await;
    portal.client().sign_in("someone's password typed as the user id", "x", "patient").await;
    let login_keys = strings(&portal, "SELECT login_key FROM sign_in_attempts ORDER BY id").await;
    assert_eq!(login_keys[0], key.keyed_digest(Purpose::SignInUserId, "", "alice"));
    assert!(login_keys.iter().all(|k| k.starts_with("k1:")), "{login_keys:?}");
    assert!(!login_keys.contains(&tokens::digest("alice")));
    assert!(!login_keys.contains(&tokens::digest("someone's password typed as the user id")));

    // Carol turns the authenticator-app step on and is given ten recovery codes.
    let carol: UserId = sqlx::query("SELECT id FROM users WHERE login = 'carol'").fetch_one(&db.pool).await.unwrap().get("id");
    let now = app::platform::now_ms();
    let secret = second_step::begin_setup(db, key, &carol, now).await.unwrap();
    let code = format!("{:06}", totp::code_at(&secret, totp::step_of(now)));
    let codes = second_step::confirm_setup(db, key, &carol, &code, None, now).await.unwrap().expect("the code confirms the setup");
    let normal: Vec<String> = codes.iter().map(|c| totp::normalise_recovery_code(c).unwrap()).collect();
    let stored = strings(&portal, "SELECT code_hash FROM recovery_codes").await;
    assert_eq!(stored.len(), 10);
    for n in &normal {
        assert!(stored.contains(&second_step::recovery_code_digest(key, &carol, n)));
        assert!(!stored.contains(&tokens::digest(n)), "not the plain digest a copy could be searched for");
    }

    // As a version from before keying kept them: one recovery code and alice's attempt.
    sqlx::query("UPDATE recovery_codes SET code_hash = $1 WHERE code_hash = $2")
        .bind(tokens::digest(&normal[0]))
        .bind(second_step::recovery_code_digest(key, &carol, &normal[0]))
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE sign_in_attempts SET login_key = $1 WHERE login_key = $2")
        .bind(tokens::digest("alice"))
        .bind(&login_keys[0])
        .execute(&db.pool)
        .await
        .unwrap();
    let restarted = server::startup::state(&portal.config, options()).await.expect("restart");
    drop(restarted);
    assert!(strings(&portal, "SELECT code_hash FROM recovery_codes").await.iter().all(|h| h.starts_with("k1:")), "converted at start");
    assert!(strings(&portal, "SELECT login_key FROM sign_in_attempts").await.iter().all(|k| k.starts_with("k1:")));
    assert_eq!(strings(&portal, "SELECT login_key FROM sign_in_attempts ORDER BY id").await[0], login_keys[0], "the same key as before: the count goes on");

    // The converted recovery code still opens carol's second step, once.
    let c = portal.client();
    assert_eq!(c.sign_in("carol", DEMO_PASSWORD, "patient").await.location(), Some("/sign-in/code"));
    assert_eq!(c.post_form("/api/second-step/code", &[("code", &codes[0])]).await.location(), Some("/home?recovery=1"));
    let again = portal.client();
    again.sign_in("carol", DEMO_PASSWORD, "patient").await;
    assert_eq!(again.post_form("/api/second-step/code", &[("code", &codes[0])]).await.location(), Some("/sign-in/code?error=wrong"));
    portal.stop().await;
}

/// The database file and SQLite's `-wal` and `-shm` beside it, a backup made with `server
/// backup`, and the secrets key file are made readable and writable by the portal's user only
/// (0600); a database file an earlier version left open to others is narrowed at the next start.
async fn database_backup_and_key_files_are_readable_by_the_portal_user_only(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let portal = TestPortal::start(backend).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777;
    assert_eq!(mode(&portal.config.secrets_key_file), 0o600, "the key file");
    if backend == Backend::Postgres {
        // PostgreSQL's files are the database server's; backups are pg_dump's (README).
        portal.stop().await;
        return;
    }
    assert_eq!(portal.client().sign_in("alice", DEMO_PASSWORD, "patient").await.status, 302);
    let file = server::startup::sqlite_file(&portal.config.database_url).unwrap();
    let with = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(&with(suffix)), 0o600, "portal.db{suffix}");
    }
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("backup.db");
    server::backup::sqlite_snapshot(&portal.state.db, &copy).await.unwrap();
    assert_eq!(mode(&copy), 0o600, "the backup");
    assert!(std::fs::metadata(&copy).unwrap().len() > 0);

    for suffix in ["", "-wal"] {
        std::fs::set_permissions(with(suffix), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    drop(server::startup::state(&portal.config, options()).await.expect("restart"));
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(&with(suffix)), 0o600, "portal.db{suffix} after a start");
    }
    portal.stop().await;
}

on_both_databases!(recovery_codes_and_typed_user_ids_are_kept_as_keyed_digests, database_backup_and_key_files_are_readable_by_the_portal_user_only,);
