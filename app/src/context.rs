//! The typed request context: who is asking, resolved once per request.
//!
//! A server function starts with `let cx = PatientCtx::get()?;` or
//! `let cx = StaffCtx::get(Permission::WorkBilling)?;` and from then on has the person, their
//! patient record or role, the client's address, the time of the request and the shared state.
//! Downloads (plain axum handlers) take the same types as extractors. Both check the gate of
//! `crate::access` (the one table) the same way the session middleware does.

use crate::access::{Gate, Permission};
use crate::error::AppError;
use crate::ids::PatientId;
use crate::platform::request::ActiveSession;
use crate::platform::request::{self, ClientAddr};
use crate::state::AppState;
use crate::types::{AccountKind, StaffRole, UserId};
use std::net::IpAddr;

/// A signed-in patient with nothing pending, and their patient record.
#[derive(Clone)]
pub struct PatientCtx {
    pub session: ActiveSession,
    pub patient: PatientId,
    pub addr: Option<IpAddr>,
    /// The time of the request, in ms since the epoch, from the portal's clock.
    pub now: i64,
    pub state: AppState,
}

/// A member of staff with nothing pending, whose role may do what was asked.
#[derive(Clone)]
pub struct StaffCtx {
    pub session: ActiveSession,
    pub role: StaffRole,
    pub addr: Option<IpAddr>,
    pub now: i64,
    pub state: AppState,
}

impl PatientCtx {
    /// Inside a server function or a server-rendered component.
    pub fn get() -> Result<PatientCtx, AppError> {
        let session = request::admit(Gate::PATIENT)?;
        let state = crate::state::app_state()?;
        PatientCtx::of(session, request::client_addr(), state)
    }

    fn of(session: ActiveSession, addr: Option<IpAddr>, state: AppState) -> Result<PatientCtx, AppError> {
        // An account of kind "patient" always has its record (the database says so); a session
        // without one is refused rather than trusted.
        let patient = session.patient.clone().ok_or_else(|| request::refuse(AppError::Forbidden))?;
        let now = state.clock.now_ms();
        Ok(PatientCtx { session, patient, addr, now, state })
    }

    pub fn user(&self) -> &UserId {
        &self.session.viewer.user_id
    }
}

impl StaffCtx {
    /// Inside a server function or a server-rendered component: the member of staff whose role
    /// may do `permission`.
    pub fn get(permission: Permission) -> Result<StaffCtx, AppError> {
        let session = request::require_permission(permission)?;
        let state = crate::state::app_state()?;
        StaffCtx::of(session, request::client_addr(), state)
    }

    /// The member of staff whose role may do any of `permissions` (a page that serves two
    /// kinds of work, such as the form library and assigning forms).
    pub fn get_any(permissions: &[Permission]) -> Result<StaffCtx, AppError> {
        let (session, role) = request::require_staff()?;
        if !permissions.iter().any(|p| role.can(*p)) {
            return Err(request::refuse(AppError::Forbidden));
        }
        let state = crate::state::app_state()?;
        StaffCtx::of(session, request::client_addr(), state)
    }

    fn of(session: ActiveSession, addr: Option<IpAddr>, state: AppState) -> Result<StaffCtx, AppError> {
        let AccountKind::Staff(role) = session.viewer.kind else { return Err(request::refuse(AppError::Forbidden)) };
        let now = state.clock.now_ms();
        Ok(StaffCtx { session, role, addr, now, state })
    }

    pub fn user(&self) -> &UserId {
        &self.session.viewer.user_id
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }
}

/// Why a download's context could not be had: the answer the handler gives.
#[derive(Debug)]
pub struct Refused(pub http::StatusCode);

impl axum::response::IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

fn session_of(parts: &http::request::Parts) -> Option<ActiveSession> {
    parts.extensions.get::<ActiveSession>().cloned()
}

fn addr_of(parts: &http::request::Parts) -> Option<IpAddr> {
    parts.extensions.get::<ClientAddr>().map(|a| a.0)
}

impl axum::extract::FromRequestParts<AppState> for PatientCtx {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts).ok_or(Refused(http::StatusCode::UNAUTHORIZED))?;
        if session.pending.is_some() || !session.viewer.kind.is_patient() {
            return Err(Refused(http::StatusCode::FORBIDDEN));
        }
        PatientCtx::of(session, addr_of(parts), state.clone()).map_err(|_| Refused(http::StatusCode::FORBIDDEN))
    }
}

/// A download's context for staff: the permission is checked by the handler (`cx.can`), since an
/// extractor cannot be told which one.
impl axum::extract::FromRequestParts<AppState> for StaffCtx {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts).ok_or(Refused(http::StatusCode::UNAUTHORIZED))?;
        if session.pending.is_some() {
            return Err(Refused(http::StatusCode::FORBIDDEN));
        }
        StaffCtx::of(session, addr_of(parts), state.clone()).map_err(|_| Refused(http::StatusCode::FORBIDDEN))
    }
}
