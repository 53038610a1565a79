//! Maintenance windows (SPEC R-GEN-1). Administrators schedule them on /staff/maintenance.
//! From 72 hours before a window, every patient page and the public pages show a notice with
//! its times in the clinic's time zone; the patient can dismiss it (remembered in a cookie that
//! holds only the window's id, so a new window is announced again). During a window the server
//! answers every patient-facing request with a maintenance page (HTTP 503, `Retry-After`), see
//! `server/src/middleware/maintenance.rs`; staff still sign in at /staff/sign-in and work.

#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

/// The cookie that remembers which window's notice this browser dismissed.
pub const DISMISSED_COOKIE: &str = "portal_maintenance_seen";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowState {
    Upcoming,
    InProgress,
    Past,
    Cancelled,
}

/// A window as pages show it: times already written out in the clinic's time zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: String,
    pub starts_text: String,
    pub ends_text: String,
    pub message: String,
    pub state: WindowState,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceData {
    pub time_zone: String,
    pub windows: Vec<MaintenanceWindow>,
}

#[cfg(feature = "ssr")]
fn admin() -> Result<(crate::session::server::ActiveSession, crate::state::AppState), AppError> {
    let session = crate::platform::request::require_permission(crate::access::Permission::ScheduleMaintenance)?;
    Ok((session, crate::state::app_state()?))
}

/// The windows in progress and to come, and those of the last 90 days (cancelled ones too).
#[server(endpoint = "staff/maintenance/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_maintenance() -> Result<MaintenanceData, AppError> {
    let (_, state) = admin()?;
    let now = state.clock.now_ms();
    let zone = &state.settings.messaging.time_zone;
    // Latest start first from the database; what is in progress or to come is listed first,
    // soonest first, then the rest, latest first.
    let (mut first, rest): (Vec<_>, Vec<_>) = server::recent_and_coming(&state.db, now - 90 * 86_400_000)
        .await?
        .iter()
        .map(|w| w.for_display(zone, now))
        .partition(|w| matches!(w.state, WindowState::InProgress | WindowState::Upcoming));
    first.reverse();
    first.extend(rest);
    Ok(MaintenanceData { time_zone: zone.iana_name().unwrap_or("UTC").to_string(), windows: first })
}

/// A `datetime-local` value ("2026-12-07T22:00") in the clinic's time zone, as milliseconds.
#[cfg(feature = "ssr")]
fn local_ms(value: &str, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let dt: jiff::civil::DateTime = value.trim().parse().ok()?;
    Some(dt.to_zoned(zone.clone()).ok()?.timestamp().as_millisecond())
}

#[server(endpoint = "staff/maintenance/schedule")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn schedule_maintenance(starts: String, ends: String, message: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let zone = &state.settings.messaging.time_zone;
    let (Some(starts_at), Some(ends_at)) = (local_ms(&starts, zone), local_ms(&ends, zone)) else {
        crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Times);
        return Ok(());
    };
    match server::schedule(&state.db, &session.viewer.user_id, starts_at, ends_at, &message, request::client_addr(), state.clock.now_ms()).await? {
        Ok(_) => {
            state.maintenance.forget();
            crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Scheduled);
        }
        Err(server::ScheduleError::Times) => crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Times),
        Err(server::ScheduleError::Message) => crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Message),
    }
    Ok(())
}

#[server(endpoint = "staff/maintenance/cancel")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn cancel_maintenance(id: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    if server::cancel(&state.db, &session.viewer.user_id, &id, request::client_addr(), state.clock.now_ms()).await? {
        state.maintenance.forget();
        crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Cancelled);
    } else {
        crate::layout::redirect_notice("/staff/maintenance", MaintenanceNotice::Unchanged);
    }
    Ok(())
}

/// Hides the notice of window `window` in this browser, then returns to the page at `back`.
#[server(endpoint = "maintenance/dismiss")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn dismiss_maintenance_notice(window: String, back: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    // Only an id of ours goes into the cookie; anything else is ignored.
    if window.len() == 32 && window.bytes().all(|b| b.is_ascii_hexdigit()) {
        let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{DISMISSED_COOKIE}={window}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax{secure}");
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            expect_context::<leptos_axum::ResponseOptions>().append_header(http::header::SET_COOKIE, value);
        }
    }
    // Back to a page of this site only: a path, never another origin ("//host", "/\host").
    let back = if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') { back } else { "/".into() };
    crate::platform::request::redirect(&back);
    Ok(())
}

/// The window patients should be told about now, unless this browser dismissed its notice.
/// Read from the server's copy of the schedule, which the maintenance middleware refreshed for
/// this request.
#[cfg(feature = "ssr")]
fn announced_window() -> Option<MaintenanceWindow> {
    let state = crate::state::app_state().ok()?;
    let now = state.clock.now_ms();
    let window = state.maintenance.announced_cached(now)?;
    if crate::platform::request::cookie(DISMISSED_COOKIE).as_deref() == Some(window.id.as_str()) {
        return None;
    }
    Some(window.for_display(&state.settings.messaging.time_zone, now))
}

/// The notice of a coming maintenance window, on patient and public pages.
#[component]
pub fn MaintenanceNotice() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let window = announced_window();
    #[cfg(not(feature = "ssr"))]
    let window: Option<MaintenanceWindow> = None;
    let back = use_location().pathname.get_untracked();
    window.map(|w| {
        view! {
            <aside class="maintenance-notice" aria-label="Planned maintenance">
                <p><strong>"Planned maintenance: "</strong>"the portal will be unavailable from "
                    <strong>{w.starts_text}</strong>" to "<strong>{w.ends_text}</strong>"."</p>
                <p>{w.message}</p>
                <PostForm<DismissMaintenanceNotice> class="inline-form">
                    <input type="hidden" name="window" value=w.id/>
                    <input type="hidden" name="back" value=back/>
                    <button type="submit" class="button button--quiet">"Dismiss this notice"</button>
                </PostForm<DismissMaintenanceNotice>>
            </aside>
        }
    })
}

notice_codes! {
    /// How the last form on the staff maintenance page went.
    pub enum MaintenanceNotice {
        Scheduled = Done "scheduled" => "The maintenance window is scheduled. Patients are told about it from 72 hours before it starts.",
        Cancelled = Done "cancelled" => "The maintenance window is cancelled.",
        Times = Error "times" => "Please give a start and an end, the end after the start and still to come.",
        Message = Error "message" => "Please write a message for patients of at most 500 characters.",
        Unchanged = Error "unchanged" => "Nothing was changed: the window had already ended or was cancelled. Here is how things stand now.",
    }
}

#[component]
pub fn StaffMaintenancePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_maintenance());
    view! {
        <Title text="Maintenance | Staff"/>
            <h1>"Maintenance windows"</h1>
            {notice::<MaintenanceNotice>()}
            <p class="lead">"While a window is in progress, patients see a maintenance page instead of the portal and cannot sign in; staff can still sign in here and work. Patients are told about a window from 72 hours before it starts."</p>
            <Loaded resource=data view=move |d| view! { <MaintenanceView d/> }/>
    }
}

#[component]
fn MaintenanceView(d: MaintenanceData) -> impl IntoView {
    let tz = d.time_zone.clone();
    view! {
        {if d.windows.is_empty() {
            view! { <p>"No maintenance windows are scheduled, and none took place in the last 90 days."</p> }.into_any()
        } else {
            view! { <WindowTable windows=d.windows/> }.into_any()
        }}
        <section class="section" aria-labelledby="new-window">
            <h2 id="new-window">"Schedule a window"</h2>
            <PostForm<ScheduleMaintenance> class="form">
                <p class="hint" id="window-zone">"Times are in the clinic's time zone ("{tz}")."</p>
                <div class="field">
                    <label for="window-starts">"Starts"</label>
                    <input type="datetime-local" id="window-starts" name="starts" required aria-describedby="window-zone"/>
                </div>
                <div class="field">
                    <label for="window-ends">"Ends"</label>
                    <input type="datetime-local" id="window-ends" name="ends" required aria-describedby="window-zone"/>
                </div>
                <div class="field">
                    <label for="window-message">"Message for patients"</label>
                    <p class="hint" id="window-message-hint">"Shown on the notice and the maintenance page. No names or personal details."</p>
                    <textarea id="window-message" name="message" required maxlength="500" rows="3" aria-describedby="window-message-hint"></textarea>
                </div>
                <button type="submit" class="button button--primary">"Schedule"</button>
            </PostForm<ScheduleMaintenance>>
        </section>
    }
}

#[component]
fn WindowTable(windows: Vec<MaintenanceWindow>) -> impl IntoView {
    view! {
        <table class="table">
            <caption>"Maintenance windows"</caption>
            <thead><tr>
                <th scope="col">"Starts"</th><th scope="col">"Ends"</th><th scope="col">"Status"</th>
                <th scope="col">"Message"</th><th scope="col"><span class="visually-hidden">"Action"</span></th>
            </tr></thead>
            <tbody>
                {windows.into_iter().map(|w| {
                    let status = match w.state {
                        WindowState::InProgress => "In progress",
                        WindowState::Upcoming => "To come",
                        WindowState::Past => "Over",
                        WindowState::Cancelled => "Cancelled",
                    };
                    let can_cancel = matches!(w.state, WindowState::InProgress | WindowState::Upcoming);
                    let button = if w.state == WindowState::InProgress { "End now" } else { "Cancel" };
                    let label = format!("{button}: the window from {}", w.starts_text);
                    view! {
                        <tr>
                            <th scope="row">{w.starts_text.clone()}</th>
                            <td>{w.ends_text.clone()}</td>
                            <td>{status}</td>
                            <td>{w.message.clone()}</td>
                            <td>{can_cancel.then(|| view! {
                                <PostForm<CancelMaintenance> class="inline-form">
                                    <input type="hidden" name="id" value=w.id.clone()/>
                                    <button type="submit" class="button button--quiet" aria-label=label>{button}</button>
                                </PostForm<CancelMaintenance>>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
