//! Limits on what a request may carry. Server functions read their bodies themselves, so the
//! limit is put on the body here: a form is small; only sending a message carries files (at
//! most 4 of 10 MB each, plus the text). A body over the limit is refused before any of it is
//! kept, and a body that grows past it while streaming ends the request with an error.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// Forms without files.
const FORM_LIMIT: usize = 256 * 1024;
/// A message with its attachments.
const MESSAGE_LIMIT: usize = app::messaging::ATTACHMENTS_MAX * app::messaging::ATTACHMENT_BYTES_MAX + 1024 * 1024;

pub const MESSAGE_PATH: &str = "/api/messages/send";

/// The server functions whose forms carry files (`multipart/form-data`). Their decoder assumes
/// the body is multipart and panics on anything else, so anything else is refused here first.
pub const MULTIPART_FUNCTIONS: &[&str] =
    &["/api/messages/send", "/api/staff/billing/post", "/api/staff/billing/import", "/api/staff/questionnaires/import", "/api/questionnaires/save"];

fn is_multipart_with_boundary(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") && ct.contains("boundary="))
}

pub fn limit_for(path: &str) -> usize {
    if path == MESSAGE_PATH {
        MESSAGE_LIMIT
    } else {
        FORM_LIMIT
    }
}

pub async fn limit_body(req: Request, next: Next) -> Response {
    if MULTIPART_FUNCTIONS.contains(&req.uri().path()) && !is_multipart_with_boundary(req.headers()) {
        return (StatusCode::BAD_REQUEST, "The form could not be read. Please reload the page and try again.").into_response();
    }
    let limit = limit_for(req.uri().path());
    let declared = req.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}
