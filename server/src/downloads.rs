//! Files people download: a message's attachments. They are not pages, so they are served by
//! plain handlers, with the same checks as the server functions: who is asking, and whether the
//! conversation is theirs. The bytes come from the database and go straight to the response;
//! nothing is written to the server's disk. `Content-Disposition: attachment` and the content
//! type found when the file was checked keep the browser from running anything in it.

use app::messaging::server::{attachment, patient_of, Reader};
use app::messaging::{AttachmentId, INBOX_ROLES};
use app::platform::request::ClientAddr;
use app::platform::{now_ms, state::AppState};
use app::session::server::ActiveSession;
use app::types::AccountKind;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

pub async fn message_attachment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Option<Extension<ActiveSession>>,
    addr: Option<Extension<ClientAddr>>,
) -> Response {
    let Some(Extension(session)) = session else { return StatusCode::UNAUTHORIZED.into_response() };
    if session.pending.is_some() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(id) = AttachmentId::parse(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let addr = addr.map(|Extension(a)| a.0);
    let user = &session.viewer.user_id;
    let found = match session.viewer.kind {
        AccountKind::Patient => match patient_of(&state.db, user).await {
            Ok(Some(patient)) => attachment(&state.db, Reader::Patient { user, patient: &patient }, &id, addr, now_ms()).await,
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        },
        AccountKind::Staff(role) if INBOX_ROLES.contains(&role) => attachment(&state.db, Reader::Staff { user }, &id, addr, now_ms()).await,
        AccountKind::Staff(_) => return StatusCode::FORBIDDEN.into_response(),
    };
    match found {
        Ok(Some((file_name, content_type, content))) => {
            let ascii: String = file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) { c } else { '_' }).collect();
            let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", percent(&file_name));
            let mut res = content.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            let _ = app::error::AppError::from(e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// RFC 5987 encoding of a file name for `filename*`.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
