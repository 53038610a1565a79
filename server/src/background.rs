//! Periodic work of every app server: ending sessions that ran out of time, forgetting rate
//! counters older than any limit's window, and re-routing the messages waiting for providers
//! whose out-of-office period has begun (once per period, whichever server gets there first).

use app::platform::{now_ms, state::AppState};
use std::time::Duration;
use tokio::sync::watch;

pub async fn run_session_sweeper(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        match app::session::server::end_expired(&state.db, &state.settings.sessions, now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "ended sessions that timed out"),
            Err(e) => tracing::error!(error = %e, "could not end timed-out sessions"),
        }
        if let Err(e) = app::platform::rate::forget_old(&state.db, now_ms()).await {
            tracing::error!(error = %e, "could not forget old rate counters");
        }
        match app::messaging::server::reroute_started_absences(&state.db, &state.settings, now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "re-routed messages of providers now out of office"),
            Err(e) => tracing::error!(error = %e, "could not re-route messages for out-of-office periods"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(20)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}
