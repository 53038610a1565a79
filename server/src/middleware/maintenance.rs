//! During a maintenance window (SPEC R-GEN-1) every patient-facing request, page or server
//! function, gets the maintenance page: HTTP 503 with `Retry-After` (the seconds until the
//! window ends), and nothing personal on it. Staff still sign in at /staff/sign-in and use
//! their pages; health checks and static files are unaffected.
//!
//! Runs inside the session middleware, so that it knows who is asking. Every request that is
//! not a static file refreshes this server's copy of the schedule (at most one query every
//! few seconds, see `app::maintenance::server::CACHE_TTL`), which the notice on the pages reads.

use app::maintenance::server::{local_text, Window};
use app::session::server::ActiveSession;
use app::state::AppState;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderValue, StatusCode};

/// Server functions that signing in as staff needs before there is a session. (The patient's
/// use of them is refused inside: `sign_in` and `finish_passkey_sign_in` check the window.)
const STAFF_SIGN_IN: &[&str] = &["/api/sign-in", "/api/passkeys/sign-in-start", "/api/passkeys/sign-in-finish"];

/// Requests a maintenance window never touches: the load balancer's checks and the site's
/// files (the built `/pkg/` files and the icons at the root). Files under a path, such as a
/// statement PDF or an attachment, are patients' records and are not among them.
pub fn always_open(path: &str) -> bool {
    path == "/healthz" || path == "/readyz" || path.starts_with("/pkg/") || (path.rfind('/') == Some(0) && path.contains('.'))
}

pub async fn maintenance(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if always_open(path) {
        return next.run(req).await;
    }
    let now = state.clock.now_ms();
    let Some(window) = state.maintenance.in_progress(&state.db, now).await else {
        return next.run(req).await;
    };
    let session = req.extensions().get::<ActiveSession>();
    let staff = session.is_some_and(|s| !s.viewer.kind.is_patient());
    let open = staff || path == "/staff/sign-in" || path == "/api/sign-out" || (session.is_none() && STAFF_SIGN_IN.contains(&path));
    if open {
        return next.run(req).await;
    }
    maintenance_page(&state, &window, now)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page patients see during a window: the window's message, when it ends, and whom to call.
pub fn maintenance_page(state: &AppState, window: &Window, now: i64) -> Response {
    let org = &state.settings.organisation;
    let ends = local_text(window.ends_at, &state.settings.messaging.time_zone);
    let tel: String = org.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    // The portal's stylesheet (a static file, served during the window) and nothing else: no
    // script, so the page works whatever state the rest of the site is in.
    let stylesheet = app::app::stylesheet_href(&state.leptos_options);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Down for maintenance | {org_name}</title>\n\
         <link rel=\"stylesheet\" href=\"{stylesheet}\">\n</head>\n<body>\n\
         <header class=\"site-header\"><p class=\"brand\"><span class=\"brand__mark\" aria-hidden=\"true\">+</span> \
         <span class=\"brand__name\">{org_name}</span></p></header>\n\
         <main id=\"main\" class=\"page\">\n<h1>The patient portal is down for maintenance</h1>\n\
         <p class=\"lead\">{message}</p>\n\
         <p>We expect it to be back by <strong>{ends}</strong>. Please try again then.</p>\n\
         <p><strong>Not for emergencies.</strong> If you have a medical emergency, call 911 or go to the nearest emergency room.</p>\n\
         <p>For anything that cannot wait, call us at <a href=\"tel:{tel}\">{phone}</a>.</p>\n\
         </main>\n</body>\n</html>\n",
        stylesheet = escape(&stylesheet),
        org_name = escape(&org.name),
        message = escape(&window.message),
        ends = escape(&ends),
        phone = escape(&org.phone),
    );
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::RETRY_AFTER, HeaderValue::from(window.seconds_left(now)));
    // Its own policy (the default one allows no stylesheet): this origin's styles, nothing else.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_checks_and_site_files_are_always_open() {
        assert!(always_open("/healthz"));
        assert!(always_open("/readyz"));
        assert!(always_open("/pkg/portal.0123.wasm"));
        assert!(always_open("/favicon.svg"));
        assert!(always_open("/manifest.webmanifest"));
        assert!(!always_open("/"));
        assert!(!always_open("/sign-in"));
        assert!(!always_open("/home"));
        assert!(!always_open("/api/sign-in"));
        assert!(!always_open("/billing/statements/abc.pdf"));
        assert!(!always_open("/attachments/abc"));
    }
}
