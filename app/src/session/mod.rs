//! Sessions: the idle-timeout warning in the page, and the two server functions it calls.
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
/// at the timeout it leads to the sign-in page, which says why.
#[island]
pub fn SessionTimer(idle_secs: u64, warn_secs: u64, sign_in_path: String) -> impl IntoView {
    crate::layout::scripts::island_on_page();
    let remaining = RwSignal::new(None::<u64>);
    let stay_button = NodeRef::<leptos::html::Button>::new();
    let timer = Timer { warn_secs, remaining, epoch: StoredValue::new(0), sign_in_path: StoredValue::new(sign_in_path), stay_button };
    Effect::new(move |_| timer.arm(idle_secs));

    let stay = move |_| {
        timer.epoch.update_value(|e| *e += 1);
        remaining.set(None);
        leptos::task::spawn_local(async move {
            let left = stay_signed_in().await.map(|s| s.remaining_secs).unwrap_or(0);
            timer.arm(left);
        });
    };

    view! {
        <Show when=move || remaining.get().is_some()>
            <div class="session-warning" role="alertdialog" aria-modal="true"
                aria-labelledby="session-warning-title" aria-describedby="session-warning-text">
                <div class="session-warning__box">
                    <h2 id="session-warning-title">"Are you still there?"</h2>
                    <p id="session-warning-text">
                        "For your security you will be signed out in "
                        <strong>{move || remaining.get().unwrap_or(0)}" seconds"</strong>
                        " unless you choose to stay signed in."
                    </p>
                    <button type="button" class="button button--primary" node_ref=stay_button on:click=stay>
                        "Stay signed in"
                    </button>
                </div>
            </div>
        </Show>
    }
}

/// The countdown behind [`SessionTimer`]. Each arming belongs to an epoch; choosing to stay
/// starts a new epoch, so timers of the old one do nothing when they fire.
#[derive(Clone, Copy)]
struct Timer {
    warn_secs: u64,
    remaining: RwSignal<Option<u64>>,
    epoch: StoredValue<u64>,
    sign_in_path: StoredValue<String>,
    stay_button: NodeRef<leptos::html::Button>,
}

impl Timer {
    /// Sleeps until the warning is due, then asks the server how long is really left (another
    /// tab or a page load may have kept the session alive meanwhile).
    fn arm(self, secs_left: u64) {
        let epoch = self.epoch.get_value();
        let wait = secs_left.saturating_sub(self.warn_secs);
        set_timeout(
            move || {
                if self.epoch.get_value() != epoch {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let left = session_status().await.map(|s| s.remaining_secs).unwrap_or(0);
                    if self.epoch.get_value() != epoch {
                        return;
                    }
                    if left > self.warn_secs {
                        self.arm(left);
                        return;
                    }
                    self.remaining.set(Some(left));
                    // The dialog renders on the next frame; move focus to its button then, so a
                    // keyboard or screen-reader user lands on it.
                    let button = self.stay_button;
                    request_animation_frame(move || {
                        if let Some(button) = button.get_untracked() {
                            let _ = button.focus();
                        }
                    });
                    self.tick(left, epoch);
                });
            },
            std::time::Duration::from_secs(wait),
        );
    }

    fn tick(self, left: u64, epoch: u64) {
        if self.epoch.get_value() != epoch {
            return;
        }
        if left == 0 {
            let href = format!("{}?reason=timeout", self.sign_in_path.get_value());
            leptos::task::spawn_local(async move {
                let _ = time_out().await;
                let _ = window().location().set_href(&href);
            });
            return;
        }
        self.remaining.set(Some(left));
        set_timeout(move || self.tick(left - 1, epoch), std::time::Duration::from_secs(1));
    }
}
