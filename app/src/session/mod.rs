//! Sessions: the idle-timeout warning in the page (`timer.js`), and the server functions it calls.
//! Sessions themselves are kept in the database (`server.rs`) so that any app server can serve
//! any request; the server's session middleware resolves the cookie on every request.

#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How long the session has left before it ends for inactivity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionTimeLeft {
    pub remaining_secs: u64,
}

pub use crate::types::PendingStep;

/// Paths that must not count as activity: the page asking how long is left, or saying that
/// time ran out, is not the person doing anything.
pub const PASSIVE_PATHS: &[&str] = &["/api/session/status", "/api/session/time-out"];

#[server(endpoint = "session/status")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn session_status() -> Result<SessionTimeLeft, AppError> {
    let session = crate::platform::request::require_signed_in()?;
    let state = crate::state::app_state()?;
    Ok(server::status(&session, &state.settings.sessions, state.clock.now_ms()))
}

#[server(endpoint = "session/stay")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn stay_signed_in() -> Result<SessionTimeLeft, AppError> {
    let session = crate::platform::request::require_signed_in()?;
    let state = crate::state::app_state()?;
    let now = state.clock.now_ms();
    server::touch(&state.db, &session.id_hash, now).await?;
    let mut touched = session.clone();
    touched.last_seen_at = now;
    Ok(server::status(&touched, &state.settings.sessions, now))
}

/// Called by the page when its countdown reaches zero: ends the session as timed out, so that
/// the sign-in page the browser goes to next finds it ended (and says why).
#[server(endpoint = "session/time-out")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn time_out() -> Result<(), AppError> {
    use crate::platform::request;
    use server::EndReason;
    let Some(session) = request::current_session() else { return Ok(()) };
    let state = crate::state::app_state()?;
    let mut tx = state.db.begin_write().await?;
    server::end(&mut tx, &session.id_hash, &session.viewer.user_id, EndReason::IdleTimeout, request::client_addr(), state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Warns one minute (configurable) before the idle timeout, with a button to stay signed in;
/// at the timeout it leads to the sign-in page, which says why. The dialog is rendered hidden
/// and `timer.js` (a hashed static file) runs it: an island here put the WASM on every
/// signed-in page.
#[component]
pub fn SessionTimer(idle_secs: u64, warn_secs: u64, sign_in_path: &'static str) -> impl IntoView {
    use crate::layout::scripts::{ScriptTag, SESSION_TIMER};
    view! {
        <div id="session-timer" class="session-warning" hidden=true role="alertdialog" aria-modal="true"
            aria-labelledby="session-warning-title" aria-describedby="session-warning-text"
            data-idle=idle_secs.to_string() data-warn=warn_secs.to_string() data-sign-in=sign_in_path>
            <div class="session-warning__box">
                <h2 id="session-warning-title">"Are you still there?"</h2>
                <p id="session-warning-text">
                    "For your security you will be signed out in "
                    <strong><span data-seconds="">{warn_secs}</span>" seconds"</strong>
                    " unless you choose to stay signed in."
                </p>
                <button type="button" class="button button--primary">"Stay signed in"</button>
            </div>
        </div>
        <ScriptTag script=&SESSION_TIMER/>
    }
}
