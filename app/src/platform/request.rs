//! What the server knows about the request being served: the client's address and the session
//! resolved by the session middleware (`server/src/middleware/session.rs`).

use crate::access::{Gate, Permission, Verdict, Visitor};
use crate::error::AppError;
use crate::types::PendingStep;
use crate::types::{AccountKind, StaffRole};
use http::request::Parts;
use leptos::prelude::use_context;
use std::net::IpAddr;

/// The client's address as the server sees it (set by the server from the socket, or from the
/// load balancer's header when the deployment says it is behind one).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// Set on the request when it came with a session cookie whose session had ended by time-out.
#[derive(Clone, Copy, Debug)]
pub struct SessionTimedOut;

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

pub fn client_addr() -> Option<IpAddr> {
    parts().and_then(|p| p.extensions.get::<ClientAddr>().map(|a| a.0))
}

pub fn header(name: &str) -> Option<String> {
    parts().and_then(|p| p.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned))
}

/// The value of the cookie `name` among `headers`.
pub fn cookie_in<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn cookie(name: &str) -> Option<String> {
    cookie_in(&parts()?.headers, name).map(str::to_owned)
}

pub fn current_session() -> Option<ActiveSession> {
    parts().and_then(|p| p.extensions.get::<ActiveSession>().cloned())
}

pub fn session_timed_out() -> bool {
    parts().map(|p| p.extensions.get::<SessionTimedOut>().is_some()).unwrap_or(false)
}

/// Refuses the request with `error`, and gives the response the matching status code.
pub fn refuse(error: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(match error {
            AppError::NotSignedIn => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden => http::StatusCode::FORBIDDEN,
            AppError::NotFound => http::StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::Request => http::StatusCode::BAD_REQUEST,
            AppError::Internal => http::StatusCode::INTERNAL_SERVER_ERROR,
        });
    }
    error
}

/// The session, when `gate` (from the one table, `crate::access`) lets it through; otherwise the
/// refusal, with its status code. Server functions check their gate here again, whatever the
/// session middleware already did, before they look at any record.
pub fn admit(gate: Gate) -> Result<ActiveSession, AppError> {
    let session = current_session();
    let visitor = session.as_ref().map(|s| Visitor { kind: s.viewer.kind, pending: s.pending });
    match gate.verdict(visitor) {
        Verdict::Open => session.ok_or_else(|| refuse(AppError::NotSignedIn)),
        Verdict::SignIn(_) => Err(refuse(AppError::NotSignedIn)),
        Verdict::OtherPortal(_) | Verdict::TakeStep(_) | Verdict::Forbidden => Err(refuse(AppError::Forbidden)),
    }
}

/// The signed-in patient with nothing pending.
pub fn require_patient() -> Result<ActiveSession, AppError> {
    admit(Gate::PATIENT)
}

/// The member of staff with nothing pending whose role may do `permission`.
pub fn require_permission(permission: Permission) -> Result<ActiveSession, AppError> {
    let session = admit(Gate::STAFF)?;
    match session.viewer.kind {
        AccountKind::Staff(role) if role.can(permission) => Ok(session),
        _ => Err(refuse(AppError::Forbidden)),
    }
}

/// The member of staff with nothing pending, and their role.
pub fn require_staff() -> Result<(ActiveSession, StaffRole), AppError> {
    let session = admit(Gate::STAFF)?;
    match session.viewer.kind {
        AccountKind::Staff(role) => Ok((session, role)),
        AccountKind::Patient => Err(refuse(AppError::Forbidden)),
    }
}

/// A session waiting for its second sign-in step: for the code page's server function only.
pub fn require_second_step_pending() -> Result<ActiveSession, AppError> {
    admit(Gate::waiting(PendingStep::SecondStep))
}

/// The signed-in user, staff or patient, with nothing pending but, for staff, the setup of a
/// second step their role requires: for the sign-in methods' pages.
pub fn require_for_second_step_setup() -> Result<ActiveSession, AppError> {
    admit(Gate::SIGNED_IN.during(&[PendingStep::SecondStepSetup]))
}

/// Any session, whatever step it waits for.
pub fn require_signed_in() -> Result<ActiveSession, AppError> {
    admit(Gate::ANY_SESSION)
}

/// Sends the browser on to `to`: a form post gets a 302, a server-function call the redirect
/// header. Every redirect of the portal goes through here because leptos_axum's panics on an
/// address that cannot be a header value, and some addresses are built from posted fields (an
/// id with CR/LF in it): such a request is answered 400 instead, and nothing is sent on.
pub fn redirect(to: &str) {
    if http::HeaderValue::from_str(to).is_ok() {
        leptos_axum::redirect(to);
    } else if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::BAD_REQUEST);
    }
}

/// A session that is in force for the request being served.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub id_hash: String,
    /// Identifies the session on pages (e.g. "end this session") without revealing its secret.
    pub public_id: String,
    pub viewer: crate::types::Viewer,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// What the user must do before anything else (see `PendingStep`).
    pub pending: Option<crate::types::PendingStep>,
    /// A patient's record (read with the session, so no request looks it up again); `None`
    /// for staff.
    pub patient: Option<crate::ids::PatientId>,
}
