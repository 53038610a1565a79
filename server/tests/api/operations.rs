//! What the hospital's IT team relies on, against the running server: `/readyz` (not ready while
//! stopping or without its database), graceful shutdown (a request in flight is answered, the
//! wait is bounded, the outbox worker gives back what it claimed), the metrics listener, and
//! `server backup`.

use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};
use sqlx::Row;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads from `stream` until `until` appears in what was read (or the connection ends).
async fn read_until(stream: &mut TcpStream, until: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(120), stream.read(&mut buf)).await.expect("the server answers").unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&got).contains(until) {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Opens a sign-in request with `Expect: 100-continue` and waits for the server's "100
/// Continue", which it sends only once the sign-in function starts reading the body: from then
/// on the request is certainly in flight inside the server. Returns the stream and the body
/// still to send.
async fn request_in_flight(portal: &TestPortal) -> (TcpStream, String) {
    let addr = portal.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = format!("user_id=alice&password=not-{DEMO_PASSWORD}&portal=patient");
    let head = format!(
        "POST /api/sign-in HTTP/1.1\r\nHost: {addr}\r\nOrigin: {base}\r\nReferer: {base}/sign-in\r\nAccept: text/html\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\nExpect: 100-continue\r\n\r\n",
        base = portal.base,
        len = body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_until(&mut stream, "\r\n\r\n").await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    (stream, body)
}

/// Ready while serving; not ready (503) as soon as it is told to stop, while it goes on serving
/// for the configured delay so that the load balancer notices first; not ready when the
/// database cannot be reached.
async fn readyz_is_not_ready_while_stopping_or_without_a_database(backend: Backend) {
    let mut portal = TestPortal::start_with(backend, |c| c.shutdown_delay = Duration::from_secs(600)).await;
    let c = portal.client();
    let r = c.get("/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ready"));
    portal.signal_stop();
    let r = c.get("/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (503, "shutting down"));
    assert_eq!(c.get("/healthz").await.status, 200, "alive, just not taking new work");
    assert_eq!(c.get("/sign-in").await.status, 200, "requests still answered during the delay");
    portal.abort_server();
    portal.stop().await;

    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    assert_eq!(c.get("/readyz").await.status, 200);
    portal.state.db.pool.close().await;
    let r = c.get("/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (503, "database unreachable"));
    assert_eq!(c.get("/healthz").await.status, 200);
    portal.stop().await;
}

/// A request in flight when the stop signal comes is answered in full (and what it did is
/// recorded); the server then stops.
async fn a_request_in_flight_at_shutdown_is_answered(backend: Backend) {
    let mut portal = TestPortal::start(backend).await;
    let (mut stream, body) = request_in_flight(&portal).await;
    portal.signal_stop();
    stream.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until(&mut stream, "\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
    assert!(answer.contains("/sign-in?error=refused"), "{answer}");
    tokio::time::timeout(Duration::from_secs(120), portal.stop_server()).await.expect("the server stops");
    let failed: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sign-in.failed'")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(failed, 1, "the attempt in flight was recorded");
    portal.stop().await;
}

/// A client that never finishes its request cannot hold the server: after the grace period
/// the server stops anyway (the binary then exits, which drops the connection) and takes no
/// new connections.
async fn shutdown_waits_at_most_the_grace_period(backend: Backend) {
    let mut portal = TestPortal::start_with(backend, |c| c.shutdown_grace = Duration::from_secs(1)).await;
    let (_stream, _never_sent) = request_in_flight(&portal).await;
    portal.signal_stop();
    // Generous bound: it only tells "stopped after its grace" from "waits for the client".
    tokio::time::timeout(Duration::from_secs(60), portal.stop_server()).await.expect("the server stops after its grace period");
    let addr = portal.base.trim_start_matches("http://").to_string();
    assert!(TcpStream::connect(addr).await.is_err(), "no new connections once stopped");
    portal.stop().await;
}

/// A notice the outbox worker claimed but had not delivered when the server was told to stop
/// (here: a relay that accepts the connection and never answers) is given back at once, neither
/// sent nor marked failed, so another server's worker sends it without waiting for the lease.
async fn a_stopping_server_gives_back_the_notices_it_claimed(backend: Backend) {
    let silent_relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_port = silent_relay.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent_relay.accept().await {
            open.push(socket);
        }
    });
    let mut portal = TestPortal::start_with(backend, |c| {
        c.mail = server::config::MailConfig::Smtp(server::config::SmtpConfig {
            host: "127.0.0.1".into(),
            port: relay_port,
            tls: server::config::SmtpTls::None,
            username: None,
            password: None,
        })
    })
    .await;
    let db = portal.state.db.clone();
    let now = app::platform::now_ms();
    sqlx::query("INSERT INTO outbox (id, recipient, notice, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5)")
        .bind("0000000000000000000000000000abcd")
        .bind("alice.johnson@example.org")
        .bind("new-in-portal")
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await
        .unwrap();
    portal.state.outbox_wakeup.notify_one();
    let row = || async {
        sqlx::query("SELECT claimed_by, claimed_until, sent_at, next_attempt_at, last_error FROM outbox WHERE id = '0000000000000000000000000000abcd'")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    let mut claimed = false;
    for _ in 0..240 {
        if row().await.try_get::<Option<i64>, _>("claimed_until").unwrap().is_some() {
            claimed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(claimed, "the worker claimed the notice");
    tokio::time::timeout(Duration::from_secs(60), portal.stop_server()).await.expect("the worker does not wait for the relay");
    let r = row().await;
    assert_eq!(r.try_get::<Option<i64>, _>("claimed_until").unwrap(), None, "released");
    assert_eq!(r.try_get::<Option<i64>, _>("sent_at").unwrap(), None);
    assert_eq!(r.try_get::<Option<String>, _>("last_error").unwrap(), None, "not counted as a failure");
    assert_eq!(r.try_get::<i64, _>("next_attempt_at").unwrap(), now, "due at once for the next worker");
    held.abort();
    portal.stop().await;
}

fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

/// The metrics listener is off unless configured; when on it serves Prometheus text with
/// requests by route pattern (never a path with its ids), latency histograms, refused
/// sign-ins and the outbox's backlog, on its own address (not on the portal's).
async fn metrics_are_served_on_their_own_address(backend: Backend) {
    let plain = TestPortal::start(backend).await;
    assert!(plain.metrics_addr().is_none());
    plain.stop().await;

    let portal = TestPortal::start_with(backend, |c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let metrics_url = format!("http://{}/metrics", portal.metrics_addr().expect("metrics listener"));
    let scrape = || async { reqwest::get(&metrics_url).await.unwrap().text().await.unwrap() };
    let before = scrape().await;
    let failed_before = metric(&before, "portal_sign_in_refusals_total{reason=\"failed\"}").unwrap();

    let staff = portal.client();
    assert_eq!(staff.sign_in("frontdesk", DEMO_PASSWORD, "staff").await.status, 302);
    let patient: String =
        sqlx::query("SELECT id FROM patients WHERE mrn IS NOT NULL ORDER BY id LIMIT 1").fetch_one(&portal.state.db.pool).await.unwrap().try_get("id").unwrap();
    assert_eq!(staff.get(&format!("/staff/patients/{patient}")).await.status, 200);
    assert_eq!(portal.client().sign_in("alice", "wrong password", "patient").await.location(), Some("/sign-in?error=refused"));
    assert_eq!(portal.client().get("/metrics").await.status, 404, "not on the public address");
    let now = app::platform::now_ms();
    sqlx::query("INSERT INTO outbox (id, recipient, notice, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5)")
        .bind("0000000000000000000000000000dcba")
        .bind("alice.johnson@example.org")
        .bind("new-in-portal")
        .bind(now - 90_000)
        .bind(now + 3_600_000)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();

    let text = scrape().await;
    assert!(text.contains("# TYPE portal_http_requests_total counter"), "{text}");
    assert_eq!(metric(&text, "portal_http_requests_total{route=\"/staff/patients/{id}\",method=\"GET\",status=\"200\"}"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "portal_http_requests_total{route=\"/api/sign-in\",method=\"POST\",status=\"302\"}"), Some(2.0), "{text}");
    assert_eq!(metric(&text, "portal_http_request_duration_seconds_count{route=\"/staff/patients/{id}\",method=\"GET\"}"), Some(1.0), "{text}");
    assert!(text.contains("portal_http_request_duration_seconds_bucket{route=\"/staff/patients/{id}\",method=\"GET\",le=\"+Inf\"} 1"), "{text}");
    assert!(!text.contains(&patient), "no id in any label");
    assert!(!text.contains("alice"), "nothing personal");
    assert!(metric(&text, "portal_sign_in_refusals_total{reason=\"failed\"}").unwrap() >= failed_before + 1.0);
    assert!(metric(&text, "portal_outbox_pending").unwrap() >= 1.0, "{text}");
    assert!(metric(&text, "portal_outbox_oldest_pending_seconds").unwrap() >= 90.0, "{text}");
    assert_eq!(metric(&text, "portal_database_up"), Some(1.0));
    portal.stop().await;
}

/// `server backup --to FILE` copies the running portal's SQLite database into a file that
/// opens as a portal database with everything in it; it never overwrites a file. On
/// PostgreSQL it refuses and points to pg_dump.
async fn backup_copies_the_running_database(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    assert_eq!(c.sign_in("alice", DEMO_PASSWORD, "patient").await.status, 302);
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("portal-backup.db");
    if backend == Backend::Postgres {
        let e = server::backup::sqlite_snapshot(&portal.state.db, &copy).await.unwrap_err();
        assert!(e.to_string().contains("pg_dump"), "{e}");
        assert!(!copy.exists());
        portal.stop().await;
        return;
    }
    let file: String =
        sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(&portal.state.db.pool).await.unwrap().try_get("file").unwrap();
    let run = |to: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["backup", "--to"])
            .arg(to)
            .current_dir(out.path())
            .env("PORTAL_DATABASE_URL", format!("sqlite://{file}"))
            .env("PORTAL_DATA_DIR", out.path())
            // The server's own settings, as an operator runs it: the same secrets key.
            .env("PORTAL_SECRETS_KEY_FILE", &portal.config.secrets_key_file)
            .output()
            .unwrap()
    };
    let done = run(&copy);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("backed up"));

    let count = |pool: &sqlx::AnyPool, table: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&pool).await.unwrap().try_get::<i64, _>("n").unwrap() }
    };
    let restored = app::platform::db::Db::connect(&format!("sqlite://{}", copy.display()), 1).await.unwrap();
    for table in ["users", "patients", "sessions", "maintenance_windows"] {
        assert_eq!(count(&restored.pool, table).await, count(&portal.state.db.pool, table).await, "{table}");
    }
    assert!(count(&restored.pool, "audit_log").await >= 1, "alice's sign-in is in the copy");
    // The portal went on serving meanwhile.
    assert_eq!(c.get("/home").await.status, 200);
    restored.migrate().await.expect("the copy is a portal database, up to date");
    restored.pool.close().await;

    let again = run(&copy);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"), "{}", String::from_utf8_lossy(&again.stderr));
    portal.stop().await;
}

on_both_databases!(
    readyz_is_not_ready_while_stopping_or_without_a_database,
    a_request_in_flight_at_shutdown_is_answered,
    shutdown_waits_at_most_the_grace_period,
    a_stopping_server_gives_back_the_notices_it_claimed,
    metrics_are_served_on_their_own_address,
    backup_copies_the_running_database,
    the_demo_is_loaded_only_into_the_demo_s_own_database,
    the_demo_clinic_in_use_gives_every_section_something,
);

/// Issue 15, the demo clinic: someone trying the portal as Alice finds a questionnaire and a
/// lesson to do and her conversation with Dr. Lee; Dr. Lee's and the nurse line's inboxes hold
/// open conversations, Robert's overdue. Added once.
async fn the_demo_clinic_in_use_gives_every_section_something(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    assert!(server::demo::activity(&portal.state, app::platform::now_ms()).await.unwrap());
    assert!(!server::demo::activity(&portal.state, app::platform::now_ms()).await.unwrap(), "made once");
    let staff = |login: &'static str| {
        let c = portal.client();
        async move {
            assert_eq!(c.sign_in(login, DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
            c
        }
    };
    let alice = portal.client();
    assert_eq!(alice.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    let page = alice.get("/record/questionnaires").await;
    assert!(page.body.contains("Mood check") || page.body.contains("mood"), "her questionnaire waits:\n{}", page.body);
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM questionnaire_assignments WHERE submitted_at IS NULL").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(open, 2, "a questionnaire and a lesson");
    assert!(alice.get("/messages").await.body.contains("Knee pain after walking"));

    let drlee = staff("drlee").await;
    let inbox = drlee.get("/staff/messages").await.body;
    assert!(inbox.contains("Knee pain after walking") && inbox.contains("Refill of my inhaler"), "{inbox}");
    let nurse = staff("nursekim").await;
    let inbox = nurse.get("/staff/messages").await.body;
    assert!(inbox.contains("Blood pressure readings at home"), "{inbox}");
    let overdue: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE handled_at IS NULL AND due_at < $1")
        .bind(app::platform::now_ms())
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(overdue, 1, "Robert's message is overdue, the others are not");
    portal.stop().await;
}

/// Issue 14, point 15: the demo clinic's accounts (staff among them) share a password printed in
/// the README. `server demo` loads them only into the database it was first loaded into empty,
/// never beside patients of a real clinic, and never in production mode.
async fn the_demo_is_loaded_only_into_the_demo_s_own_database(backend: Backend) {
    use server::demo::{self, DemoError};
    let portal = TestPortal::start(backend).await;
    let pool = portal.state.db.pool.clone();
    let accounts = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(&pool).await.unwrap() };
    // The demo's database: loading again is allowed and changes nothing.
    let before = accounts().await;
    assert_eq!(demo::load(&portal.state).await.unwrap(), 0);
    assert_eq!(accounts().await, before);

    // Production mode: refused before anything is written.
    sqlx::query("DELETE FROM users WHERE login = 'auditor'").execute(&pool).await.unwrap();
    let mut production = portal.state.clone();
    let mut settings = (*production.settings).clone();
    settings.production = true;
    production.settings = std::sync::Arc::new(settings);
    let e = demo::load(&production).await.unwrap_err();
    assert!(matches!(e, DemoError::Production), "{e}");
    assert!(e.to_string().contains("production"), "{e}");
    assert_eq!(accounts().await, before - 1, "no demo account was made");

    // A database with patients that was never the demo's (as a clinic's is).
    sqlx::query("DELETE FROM demo_clinic").execute(&pool).await.unwrap();
    let e = demo::load(&portal.state).await.unwrap_err();
    assert!(matches!(e, DemoError::NotTheDemoDatabase { patients } if patients >= 5), "{e}");
    assert!(e.to_string().contains("not the demo clinic's"), "{e}");
    assert_eq!(accounts().await, before - 1, "no demo account was made");
    let auditor: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE login = 'auditor'").fetch_optional(&pool).await.unwrap();
    assert!(auditor.is_none(), "the demo's auditor, with the published password, was not made");
    portal.stop().await;
}
