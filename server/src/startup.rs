//! Builds the portal from its configuration and serves it. Tests call the same functions to
//! run the real server on a random port.

use crate::config::Config;
use crate::mail::{self, Mailer};
use crate::middleware::{body_limit, client_addr, csrf, headers, maintenance, search, session};
use app::platform::{db::Db, passwords::PasswordHasher};
use app::state::AppState;
use app::{shell, App};
use axum::handler::Handler;
use axum::{extract::State, middleware::from_fn_with_state, routing::get, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("mail: {0}")]
    Mail(#[from] lettre::transport::smtp::Error),
    #[error("listening: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    SecretsKey(String),
    #[error("medical record source: {0}")]
    Record(String),
}

/// Connects to the database, brings its schema up to date, and assembles the shared state.
pub async fn state(config: &Config, leptos_options: LeptosOptions) -> Result<AppState, StartError> {
    if let Some(file) = sqlite_file(&config.database_url) {
        create_private_dir(&config.data_dir)?;
        protect_sqlite_files(&file)?;
    }
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    db.migrate().await?;
    let sealing = secrets_key(&config.secrets_key_file, &db, config.clock.now_ms()).await?;
    // Before anything is recorded: from its anchor on, the audit chain is linked under a subkey
    // of the secrets key (set at the first start of a version with keyed links).
    let chain_key = app::audit::ChainKey::from_secrets(&sealing);
    app::audit::load_chain_key(&chain_key);
    app::audit::anchor_keyed_chain(&db, &chain_key).await?;
    let (seq, hash) = app::audit::head(&db).await?;
    tracing::info!(target: "portal::audit", seq, hash = %hash, "audit chain head at start");
    // A new installation starts with the sample terms, so that enrolment works at once; the
    // organisation publishes its own text as the next version.
    app::terms::server::ensure_published(&db, config.clock.now_ms()).await?;
    // Derived from the secrets key, so every server sharing the key file signs alike and the
    // database holds no key to forge a leaving link with.
    let link_key = app::external_links::server::LinkKey::from_secrets(&sealing);
    let sealed = app::second_step::server::seal_plain_secrets(&db, &sealing).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed authenticator-app secrets stored before sealing began");
    }
    // Digests of low-entropy secrets kept as plain SHA-256 before keying began become keyed ones.
    let codes = app::second_step::server::rekey_recovery_codes(&db, &sealing).await?;
    let attempts = app::sign_in::server::rekey_login_keys(&db, &sealing).await?;
    if codes + attempts > 0 {
        tracing::info!(recovery_codes = codes, sign_in_attempts = attempts, "keyed the digests stored before keying began");
    }
    let record = app::record::source::RecordSource::new(&config.portal.record, sealing.subkey(app::platform::sealing::Purpose::RecordItemIds))
        .map_err(StartError::Record)?;
    Ok(AppState {
        leptos_options,
        db,
        settings: Arc::new(config.portal.clone()),
        passwords: PasswordHasher::new(),
        outbox_wakeup: Arc::new(Notify::new()),
        link_key: Arc::new(link_key),
        sealing: Arc::new(sealing),
        maintenance: Default::default(),
        clock: config.clock.clone(),
        record,
    })
}

/// The file of a SQLite database URL (`sqlite://path` or `sqlite:path`, with or without
/// options); none for an in-memory database or another kind of database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Makes `dir` (and missing parents) readable by the portal's user only when it has to make it.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The database file and its companions readable and writable by the portal's user only
/// (0600): the file is made here, empty, when missing (SQLite then makes its `-wal` and `-shm`
/// files with the database file's permissions), and files an earlier version left open to others
/// are narrowed. They hold health information.
pub fn protect_sqlite_files(file: &std::path::Path) -> std::io::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm", "-journal"] {
        use std::os::unix::fs::PermissionsExt;
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            tracing::info!(file = %path.display(), "made the database file readable by the portal's user only");
        }
    }
    Ok(())
}

/// The key that seals secrets in the database, from its file (made, readable by this user only,
/// when there is none). The database remembers the first key's fingerprint: a server started
/// with another key (a lost file, a second server given its own) stops here, rather than
/// failing every authenticator-app code.
async fn secrets_key(path: &std::path::Path, db: &Db, now: i64) -> Result<app::platform::sealing::SealingKey, StartError> {
    use app::platform::sealing::SealingKey;
    let shown = path.display();
    let key = match std::fs::read_to_string(path) {
        Ok(text) => {
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(path) {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(file = %shown, "the secrets key file can be read by other users than the portal's: make it 0600");
                }
            }
            SealingKey::from_hex(&text).ok_or_else(|| StartError::SecretsKey(format!("{shown}: the secrets key file must hold 64 hexadecimal digits")))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SealingKey::generate();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    std::io::Write::write_all(&mut file, format!("{}\n", key.to_hex()).as_bytes())?;
                    file.sync_all()?;
                    tracing::info!(file = %shown, "made a new secrets key");
                    key
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => SealingKey::from_hex(&std::fs::read_to_string(path)?)
                    .ok_or_else(|| StartError::SecretsKey(format!("{shown}: the secrets key file must hold 64 hexadecimal digits")))?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(StartError::SecretsKey(format!("{shown}: cannot read the secrets key file: {e}"))),
    };
    sqlx::query("INSERT INTO portal_keys (name, secret, created_at) VALUES ('secrets-key-fingerprint', $1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(key.fingerprint())
        .bind(now)
        .execute(&db.pool)
        .await?;
    let known: String = sqlx::query_scalar("SELECT secret FROM portal_keys WHERE name = 'secrets-key-fingerprint'").fetch_one(&db.pool).await?;
    if known != key.fingerprint() {
        return Err(StartError::SecretsKey(format!(
            "{shown} holds a different key from the one this database's secrets are sealed with \
             (PORTAL_SECRETS_KEY_FILE: every app server needs the same file; restore it from where you keep it)"
        )));
    }
    Ok(key)
}

/// Set when the server has been told to stop: `/readyz` then answers 503 so that the load
/// balancer sends new requests elsewhere while those in flight finish.
#[derive(Clone, Default)]
pub struct Draining(pub Arc<AtomicBool>);

async fn readyz(State(state): State<AppState>, draining: Option<Extension<Draining>>) -> (http::StatusCode, &'static str) {
    if draining.is_some_and(|Extension(d)| d.0.load(Ordering::SeqCst)) {
        return (http::StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    if state.db.ping().await {
        (http::StatusCode::OK, "ready")
    } else {
        (http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

/// A download's route, which must have its gate in the one table of who may reach what: the
/// session middleware would refuse every request to it otherwise, so a forgotten one shows
/// at the first start, not in production.
fn download(path: &'static str) -> &'static str {
    assert!(app::access::table::has_download_route(path), "the download {path} has no gate in app::access::table::DOWNLOADS");
    path
}

/// Every server function must have its gate in the table (the session middleware does not
/// serve one that has none): a function added without one stops the server at start.
fn check_function_gates() {
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let endpoint = path.strip_prefix("/api/").unwrap_or(path);
        assert!(app::access::table::function_gate(endpoint).is_some(), "the server function {path} has no gate in app::access::table::FUNCTIONS");
    }
}

/// The app's routes, generated once per process.
///
/// Generating them renders the app once with every resource held back, and leptos_server holds
/// them back with one flag for the whole process (`SuppressResourceLoad`): a resource first
/// polled by any page render in the process while the flag is up waits forever, so its page is
/// never answered. A server generates its list before it serves; but where several portals share
/// one process (the integration tests), one starting while another renders made that other's
/// page hang now and then (issue 16; leptos-rs/leptos#4773). Generated once, the flag is never up
/// while anything serves.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState, config: &Config) -> Router {
    check_function_gates();
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || app::state::provide(&state)
    };
    let leptos_options = state.leptos_options.clone();
    let origin_policy = csrf::OriginPolicy { public_origin: state.settings.public_origin().into(), accept_host_origin: !state.settings.production };
    let server_fn_context = context.clone();
    // The built site's files (`/pkg/…`, icons) are served here, and only misses reach Leptos
    // for its "page not found" page. leptos_axum's file handler alone would serve the files
    // too, but it attaches the `ResponseOptions` of whatever page render is current on the
    // same thread, so a concurrent page's Content-Security-Policy or cookie could leak onto a
    // static response.
    let not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(context.clone(), shell);
    let static_files =
        ServeDir::new(state.leptos_options.site_root.as_ref()).append_index_html_on_directories(false).fallback(not_found.with_state(state.clone()));
    let mut router = Router::new();
    // Staff search pages also answer their search form, posted to them (`middleware::search`).
    for path in app::layout::search::SEARCH_PAGES {
        let state = state.clone();
        router = router.route(path, axum::routing::post(move |req| search::posted(state.clone(), req)));
    }
    // Our own scripts, from the binary, under names that carry their hash (`/pkg/`: cached for good).
    for script in app::layout::scripts::ALL.iter().copied() {
        router = router.route(script.path(), get(move || async move { ([(http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], script.source) }));
    }
    router
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(download("/attachments/{id}"), get(crate::downloads::message_attachment))
        .route(download("/billing/statements/{file}"), get(crate::downloads::statement_pdf))
        .route(download("/record/documents/{id}"), get(crate::downloads::record_document))
        .route(download("/record/download/fhir.json"), get(crate::downloads::record_fhir))
        .route(download("/record/download/summary.pdf"), get(crate::downloads::record_summary_pdf))
        .route(download("/staff/billing/statements/{file}"), get(crate::downloads::statement_pdf))
        .route(download("/staff/billing/print-queue.pdf"), get(crate::downloads::print_queue_pdf))
        .route(download("/staff/billing/print-queue.csv"), get(crate::downloads::print_queue_csv))
        .route(download("/staff/questionnaires/fhir/questionnaire/{file}"), get(crate::downloads::questionnaire_json))
        .route(download("/staff/questionnaires/fhir/response/{file}"), get(crate::downloads::questionnaire_response_json))
        .route(
            "/api/{*fn_name}",
            get(move |req| leptos_axum::handle_server_fns_with_context(server_fn_context.clone(), req)).post({
                let context = context.clone();
                move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
            }),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(leptos_options.clone()))
        // Names the matched route for the metrics (every route above; not the files below).
        .route_layer(axum::middleware::from_fn(crate::metrics::label_route))
        .fallback_service(static_files)
        .layer(axum::middleware::from_fn(search::drop_search_terms))
        // Innermost of the three: a refused visitor is answered as the gate (and a
        // maintenance window) says, whatever the body.
        .layer(axum::middleware::from_fn(body_limit::limit_body))
        .layer(from_fn_with_state(state.clone(), maintenance::maintenance))
        .layer(from_fn_with_state(state.clone(), session::resolve_session))
        .layer(from_fn_with_state(origin_policy, csrf::check_origin))
        .layer(from_fn_with_state(client_addr::TrustProxy(config.trust_proxy), client_addr::client_addr))
        .layer(from_fn_with_state(headers::HeaderPolicy { hsts: state.settings.secure_cookies }, headers::security_headers))
        // Static files only: compressing pages that mix secrets with reflected input invites
        // BREACH-style attacks, and pages are small.
        .layer(CompressionLayer::new().compress_when(|_: http::StatusCode, _: http::Version, h: &http::HeaderMap, _: &http::Extensions| {
            h.get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/wasm") || ct.contains("javascript") || ct.starts_with("text/css"))
        }))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &http::Request<axum::body::Body>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A running portal: the address it listens on and the handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    /// Where the metrics are served, when they are.
    pub metrics_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    /// Set the moment stopping is asked for, so `/readyz` answers 503 from the next request on
    /// (not only once the server's task has woken up to the signal).
    draining: Draining,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops taking requests, lets those in flight finish, and stops the background work.
    pub async fn stop(self) {
        self.draining.0.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        self.stop_when_done().await;
    }

    /// Stops at once, dropping whatever is in flight (tests that left a server draining).
    pub fn abort(self) {
        for t in self.tasks {
            t.abort();
        }
    }

    /// Starts stopping (as SIGTERM does) without waiting.
    pub fn signal_stop(&self) {
        self.draining.0.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
    }

    /// Waits until the server has stopped (after the shutdown signal).
    pub async fn stop_when_done(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Serves on `listener` with the background workers beside it, until `stop` is called or
/// `shutdown` resolves.
pub async fn spawn(
    config: &Config,
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mailer = Mailer::new(&config.mail)?;
    let draining = Draining::default();
    let draining_for_running = draining.clone();
    let mut app = router(state.clone(), config).layer(Extension(draining.clone()));
    let mut tasks = Vec::new();
    let mut metrics_addr_bound = None;

    if let Some(metrics_addr) = config.metrics_addr {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        app = app.layer(from_fn_with_state(metrics.clone(), crate::metrics::track));
        let metrics_listener = TcpListener::bind(metrics_addr).await?;
        let bound = metrics_listener.local_addr()?;
        let metrics_app = crate::metrics::router(metrics, state.clone());
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let result = axum::serve(metrics_listener, metrics_app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "metrics listener stopped with an error");
            }
        }));
        tracing::info!("metrics at http://{bound}/metrics");
        metrics_addr_bound = Some(bound);
    }

    let stop_on_signal = stop_tx.clone();
    let draining_on_signal = draining.clone();
    tokio::spawn(async move {
        shutdown.await;
        draining_on_signal.0.store(true, Ordering::SeqCst);
        let _ = stop_on_signal.send(true);
    });
    // Stopping: at once `/readyz` answers 503; after `shutdown_delay` (0 by default) no new
    // connection is taken; requests in flight get `shutdown_grace` to finish, then whatever is
    // left is dropped, so that a stuck client cannot keep the server from going.
    let (grace, delay) = (config.shutdown_grace, config.shutdown_delay);
    let mut server_stop = stop_rx.clone();
    let mut grace_stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
                draining.0.store(true, Ordering::SeqCst);
                if !delay.is_zero() {
                    tracing::info!(delay_secs = delay.as_secs(), "stopping: not ready; serving on until the load balancer notices");
                    tokio::time::sleep(delay).await;
                }
                tracing::info!("stopping: no new connections; finishing requests in flight");
            })
            .into_future();
        let overdue = async move {
            let _ = grace_stop.wait_for(|s| *s).await;
            tokio::time::sleep(delay + grace).await;
        };
        tokio::select! {
            result = serve => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "server stopped with an error");
                }
            }
            _ = overdue => tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period were dropped"),
        }
    }));
    tasks.push(tokio::spawn(mail::run_worker(state.clone(), mailer, stop_rx.clone())));
    tasks.push(tokio::spawn(crate::background::run_session_sweeper(state, stop_rx)));
    Ok(Running { addr, metrics_addr: metrics_addr_bound, stop: stop_tx, draining: draining_for_running, tasks })
}
