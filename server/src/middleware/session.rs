//! Resolves the session cookie on every request, ends sessions that ran out of time, records
//! activity, and holds every page, server function and download to its gate in the one table
//! of who may reach what (`app::access`): nothing private runs for someone the table does not
//! let through. (Server functions check again, and check that the record is theirs.)

use app::access::{self, Verdict, Visitor};
use app::error::AppError;
use app::platform::request::{cookie_in, ClientAddr, SessionTimedOut};
use app::session::server::{self as sessions, Resolution};
use app::session::PASSIVE_PATHS;
use app::state::AppState;
use app::types::{AccountKind, Portal};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use http::{header, HeaderValue, StatusCode};

pub async fn resolve_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let now = state.clock.now_ms();
    let settings = &state.settings;
    let mut clear_cookie = false;
    let mut kind = None;
    let mut pending = None;
    if let Some(secret) = cookie_in(req.headers(), settings.session_cookie_name()).map(str::to_owned) {
        match sessions::resolve(&state.db, &secret, &settings.sessions, now).await {
            Ok(Resolution::Active(session)) => {
                if !PASSIVE_PATHS.contains(&req.uri().path()) {
                    if let Err(e) = sessions::touch_if_stale(&state.db, &session, now).await {
                        tracing::error!(error = %e, "could not record session activity");
                    }
                }
                kind = Some(session.viewer.kind);
                pending = session.pending;
                req.extensions_mut().insert(session);
            }
            Ok(Resolution::Expired { id_hash, user_id, reason }) => {
                let addr = req.extensions().get::<ClientAddr>().map(|a| a.0);
                let ended = async {
                    let mut tx = state.db.begin_write().await?;
                    sessions::end(&mut tx, &id_hash, &user_id, reason, addr, now).await?;
                    tx.commit().await
                };
                if let Err(e) = ended.await {
                    tracing::error!(error = %e, "could not end an expired session");
                }
                req.extensions_mut().insert(SessionTimedOut);
                clear_cookie = true;
            }
            Ok(Resolution::Invalid) => clear_cookie = true,
            Err(e) => {
                tracing::error!(error = %e, "could not resolve a session");
                return (http::StatusCode::SERVICE_UNAVAILABLE, "The portal is unavailable. Please try again shortly.").into_response();
            }
        }
    }

    let path = req.uri().path().to_string();
    let timed_out = req.extensions().get::<SessionTimedOut>().is_some();
    let visitor = kind.map(|kind| Visitor { kind, pending });
    let mut res = match access::gate_of(app::app::PAGES, &path) {
        Some(gate) => match gate.verdict(visitor) {
            Verdict::Open => match (&visitor, path.as_str()) {
                // Someone signed in who opens their own sign-in page goes to their home page
                // instead. (The other portal's sign-in page stays open to them.)
                (Some(Visitor { kind: AccountKind::Patient, .. }), "/" | "/sign-in") => Redirect::to(Portal::Patient.home_path()).into_response(),
                (Some(Visitor { kind: AccountKind::Staff(_), .. }), "/staff/sign-in") => Redirect::to(Portal::Staff.home_path()).into_response(),
                _ => next.run(req).await,
            },
            refused if path.starts_with("/api/") => refuse_function(&req, refused, timed_out),
            refused => refuse_page(refused, timed_out),
        },
        // A server function that has no gate is not served.
        None if path.starts_with("/api/") => StatusCode::NOT_FOUND.into_response(),
        // The site's files, and the page that says a page does not exist.
        None => next.run(req).await,
    };
    if clear_cookie {
        res.headers_mut().append(header::SET_COOKIE, sessions::session_cookie(settings, None));
    }
    res
}

fn sign_in_redirect(portal: Portal, timed_out: bool) -> Response {
    let reason = if timed_out { "?reason=timeout" } else { "" };
    Redirect::to(&format!("{}{reason}", portal.sign_in_path())).into_response()
}

/// A page the visitor may not open: sign in first, the step first, or a plain refusal.
fn refuse_page(verdict: Verdict, timed_out: bool) -> Response {
    match verdict {
        Verdict::SignIn(portal) | Verdict::OtherPortal(portal) => sign_in_redirect(portal, timed_out),
        Verdict::TakeStep(step) => Redirect::to(step.path()).into_response(),
        Verdict::Forbidden | Verdict::Open => forbidden_page(),
    }
}

/// A server function the visitor may not call. A plain form post (no JavaScript) is sent where
/// a page would be; a call from the page's script gets the error the function itself would
/// have answered, in the form the server-function client reads.
fn refuse_function(req: &Request, verdict: Verdict, timed_out: bool) -> Response {
    let form_post = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if form_post && matches!(verdict, Verdict::SignIn(_) | Verdict::TakeStep(_)) {
        return refuse_page(verdict, timed_out);
    }
    let (status, error) = match verdict {
        Verdict::SignIn(_) => (StatusCode::UNAUTHORIZED, AppError::NotSignedIn),
        _ => (StatusCode::FORBIDDEN, AppError::Forbidden),
    };
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(path) = HeaderValue::from_str(req.uri().path()) {
        h.insert("serverfnerror", path);
    }
    res
}

/// "You do not have access to this page", with nothing else of the portal's on it.
fn forbidden_page() -> Response {
    let html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
        <title>No access | Patient portal</title>\n</head>\n<body>\n<main>\n\
        <h1>You do not have access to this page.</h1>\n\
        <p>Your account does not let you open this page. <a href=\"/\">Go to the start page</a>.</p>\n\
        </main>\n</body>\n</html>\n";
    let mut res = (StatusCode::FORBIDDEN, html).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res
}
