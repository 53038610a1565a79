//! Periodic work of every app server: ending sessions that ran out of time, forgetting rate
//! counters older than any limit's window, auditing the count of throttled sign-ins once their
//! window has ended and forgetting sign-in attempts past their retention, writing the audit
//! chain's head to the log, and re-routing the messages waiting for providers whose
//! out-of-office period has begun (once per period, whichever server gets there first), and
//! queueing new-result notices (`app::record::notices`, every two minutes; one server's pass
//! moves a patient's mark, the other's then finds nothing).

use app::state::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// How often the audit chain's head goes to the log (when it moved): a record outside the
/// database of how far the chain reached, to compare against if entries are ever cut off its end.
const AUDIT_HEAD_LOG_EVERY: Duration = Duration::from_secs(15 * 60);

pub async fn run_session_sweeper(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut head_logged: Option<(i64, std::time::Instant)> = None;
    let mut notices_ran: Option<std::time::Instant> = None;
    loop {
        match app::sign_in::server::sweep(&state.db, &state.settings.throttle, state.clock.now_ms()).await {
            Ok((0, 0)) => {}
            Ok((windows, rows)) => tracing::info!(windows, rows, "audited throttled sign-in counts and forgot old sign-in attempts"),
            Err(e) => tracing::error!(error = %e, "could not sweep sign-in attempts"),
        }
        if head_logged.is_none_or(|(_, at)| at.elapsed() >= AUDIT_HEAD_LOG_EVERY) {
            match app::audit::head(&state.db).await {
                Ok((seq, hash)) => {
                    if head_logged.is_none_or(|(logged, _)| logged != seq) {
                        tracing::info!(target: "portal::audit", seq, hash = %hash, "audit chain head");
                    }
                    head_logged = Some((seq, std::time::Instant::now()));
                }
                Err(e) => tracing::error!(error = %e, "could not read the audit chain's head"),
            }
        }
        match app::session::server::end_expired(&state.db, &state.settings.sessions, state.clock.now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "ended sessions that timed out"),
            Err(e) => tracing::error!(error = %e, "could not end timed-out sessions"),
        }
        if let Err(e) = app::platform::rate::forget_old(&state.db, state.clock.now_ms()).await {
            tracing::error!(error = %e, "could not forget old rate counters");
        }
        match app::messaging::server::reroute_started_absences(&state.db, &state.settings, state.clock.now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "re-routed messages of providers now out of office"),
            Err(e) => tracing::error!(error = %e, "could not re-route messages for out-of-office periods"),
        }
        if notices_ran.is_none_or(|at| at.elapsed() >= app::record::notices::EVERY) {
            notices_ran = Some(std::time::Instant::now());
            match app::record::notices::run(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(notices = n, "queued new-result notices"),
                Err(e) => tracing::error!(error = %e, "could not look for new results to tell patients about"),
            }
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
