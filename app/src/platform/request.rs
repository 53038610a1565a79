//! What the server knows about the request being served: the client's address and the session
//! resolved by the session middleware (`server/src/middleware/session.rs`).

use crate::error::AppError;
use crate::session::server::ActiveSession;
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

/// The signed-in patient, or a refusal for anyone else, and for a patient who has a step to
/// take first (accept the terms, change an aged password).
pub fn require_patient() -> Result<ActiveSession, AppError> {
    let s = require_patient_with_pending()?;
    if s.pending.is_some() { Err(refuse(AppError::Forbidden)) } else { Ok(s) }
}

/// The signed-in patient even when a step is pending: for the server functions of those steps
/// (the terms, an aged password). Not while the second sign-in step (the authenticator-app
/// code) is still to come: until then the password alone has opened nothing.
pub fn require_patient_with_pending() -> Result<ActiveSession, AppError> {
    let s = require_signed_in()?;
    if s.pending == Some(crate::session::PendingStep::SecondStep) {
        return Err(refuse(AppError::Forbidden));
    }
    if s.viewer.kind.is_patient() { Ok(s) } else { Err(refuse(AppError::Forbidden)) }
}

/// A session waiting for its second sign-in step: for the code page's server function only.
pub fn require_second_step_pending() -> Result<ActiveSession, AppError> {
    let s = require_signed_in()?;
    if s.pending == Some(crate::session::PendingStep::SecondStep) { Ok(s) } else { Err(refuse(AppError::Forbidden)) }
}

/// The signed-in user, staff or patient, with nothing pending but, for staff, the setup of a
/// second step their role requires: for the second-step setup page.
pub fn require_for_second_step_setup() -> Result<ActiveSession, AppError> {
    let s = require_signed_in()?;
    match s.pending {
        None | Some(crate::session::PendingStep::SecondStepSetup) => Ok(s),
        Some(_) => Err(refuse(AppError::Forbidden)),
    }
}

/// The signed-in member of staff whose role is one of `roles` (any role when empty).
pub fn require_staff(roles: &[StaffRole]) -> Result<ActiveSession, AppError> {
    let s = require_signed_in()?;
    if s.pending.is_some() {
        return Err(refuse(AppError::Forbidden));
    }
    match s.viewer.kind {
        AccountKind::Staff(role) if roles.is_empty() || roles.contains(&role) => Ok(s),
        _ => Err(refuse(AppError::Forbidden)),
    }
}

/// Anyone signed in.
pub fn require_signed_in() -> Result<ActiveSession, AppError> {
    current_session().ok_or_else(|| refuse(AppError::NotSignedIn))
}
