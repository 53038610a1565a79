//! Resolves the session cookie on every request, ends sessions that ran out of time, records
//! activity, and keeps pages behind sign-in: patients' pages need a patient, staff pages need
//! staff. (Server functions check again, and check the record: see `app::platform::request`.)

use app::platform::request::{cookie_in, ClientAddr, SessionTimedOut};
use app::platform::{now_ms, state::AppState};
use app::session::server::{self as sessions, Resolution};
use app::session::PASSIVE_PATHS;
use app::types::{AccountKind, Portal};
use axum::{extract::{Request, State}, middleware::Next, response::{IntoResponse, Redirect, Response}};
use http::header;

/// Which portal a page path belongs to, if it is private.
fn private_area(path: &str) -> Option<Portal> {
    const PATIENT: &[&str] = &["/home", "/messages", "/record", "/billing", "/account"];
    if path == "/staff" || (path.starts_with("/staff/") && path != "/staff/sign-in") {
        return Some(Portal::Staff);
    }
    PATIENT
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
        .then_some(Portal::Patient)
}

pub async fn resolve_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let now = now_ms();
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
                return (http::StatusCode::SERVICE_UNAVAILABLE, "The portal is unavailable. Please try again shortly.")
                    .into_response();
            }
        }
    }

    let path = req.uri().path();
    let timed_out = req.extensions().get::<SessionTimedOut>().is_some();
    let mut res = match (private_area(path), kind) {
        // A step to take first (terms, an aged password): every private page leads to it.
        (Some(_), Some(_)) if pending.is_some_and(|step| !step.allows(path)) => {
            Redirect::to(pending.map(|s| s.path()).unwrap_or("/")).into_response()
        }
        (Some(Portal::Patient), Some(AccountKind::Patient)) | (Some(Portal::Staff), Some(AccountKind::Staff(_))) => {
            next.run(req).await
        }
        (Some(area), _) => {
            let reason = if timed_out { "?reason=timeout" } else { "" };
            Redirect::to(&format!("{}{reason}", area.sign_in_path())).into_response()
        }
        // Someone signed in who opens their own sign-in page goes to their home page instead.
        // (The other portal's sign-in page stays open to them: it is where they were sent.)
        (None, Some(AccountKind::Patient)) if path == "/" || path == "/sign-in" => {
            Redirect::to(Portal::Patient.home_path()).into_response()
        }
        (None, Some(AccountKind::Staff(_))) if path == "/staff/sign-in" => {
            Redirect::to(Portal::Staff.home_path()).into_response()
        }
        (None, _) => next.run(req).await,
    };
    if clear_cookie {
        res.headers_mut().append(header::SET_COOKIE, sessions::session_cookie(settings, None));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_pages_belong_to_their_portal() {
        assert_eq!(private_area("/home"), Some(Portal::Patient));
        assert_eq!(private_area("/account/activity"), Some(Portal::Patient));
        assert_eq!(private_area("/staff"), Some(Portal::Staff));
        assert_eq!(private_area("/staff/anything"), Some(Portal::Staff));
        assert_eq!(private_area("/staff/sign-in"), None);
        assert_eq!(private_area("/sign-in"), None);
        assert_eq!(private_area("/homework"), None);
        assert_eq!(private_area("/api/sign-in"), None);
    }
}
