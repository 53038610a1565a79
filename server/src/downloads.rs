//! Files people download: a message's attachments, statement PDFs, the print queue. They are not
//! pages, so they are served by plain handlers, with the same checks as the server functions:
//! who is asking, and whether the conversation or account is theirs. The bytes come from the
//! database (PDFs are made in memory) and go straight to the response, with `no-store` like
//! every personal response; nothing is written to the server's disk. `Content-Disposition: attachment` and the content
//! type found when the file was checked keep the browser from running anything in it.

use app::access::Permission;
use app::billing::pdf::render;
use app::billing::server::{self as billing, Reader as BillingReader};
use app::billing::StatementId;
use app::messaging::server::{attachment, patient_of, Reader};
use app::messaging::AttachmentId;
use app::patients::PatientId;
use app::platform::request::ClientAddr;
use app::session::server::ActiveSession;
use app::state::AppState;
use app::types::AccountKind;
use axum::extract::{Path, Query, State};
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
            Ok(Some(patient)) => attachment(&state.db, Reader::Patient { user, patient: &patient }, &id, addr, state.clock.now_ms()).await,
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        },
        AccountKind::Staff(role) if role.can(Permission::WorkMessages) => attachment(&state.db, Reader::Staff { user }, &id, addr, state.clock.now_ms()).await,
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
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Who may download statements: the guarantor patient, or billing staff.
fn statement_reader<'a>(session: &'a ActiveSession, patient: Option<&'a PatientId>) -> Option<BillingReader<'a>> {
    let user = &session.viewer.user_id;
    match (session.viewer.kind, patient) {
        (AccountKind::Patient, Some(patient)) => Some(BillingReader::Patient { user, patient }),
        (AccountKind::Staff(role), _) if role.can(Permission::WorkBilling) => Some(BillingReader::Staff { user }),
        _ => None,
    }
}

/// A statement as a PDF (`/billing/statements/{id}.pdf`): made in memory from the database,
/// sent as an attachment, never stored. Another patient's statement, by any id, is not found.
pub async fn statement_pdf(
    State(state): State<AppState>,
    Path(file): Path<String>,
    session: Option<Extension<ActiveSession>>,
    addr: Option<Extension<ClientAddr>>,
) -> Response {
    let Some(Extension(session)) = session else { return StatusCode::UNAUTHORIZED.into_response() };
    if session.pending.is_some() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(id) = file.strip_suffix(".pdf").and_then(StatementId::parse) else { return StatusCode::NOT_FOUND.into_response() };
    let patient = match session.viewer.kind {
        AccountKind::Patient => match patient_of(&state.db, &session.viewer.user_id).await {
            Ok(p) => p,
            Err(e) => return internal(e),
        },
        AccountKind::Staff(_) => None,
    };
    let Some(reader) = statement_reader(&session, patient.as_ref()) else { return StatusCode::FORBIDDEN.into_response() };
    let addr = addr.map(|Extension(a)| a.0);
    match billing::statement_documents(&state.db, &state.settings, reader, std::slice::from_ref(&id), addr, state.clock.now_ms()).await {
        Ok(Some(documents)) => {
            let name = format!("statement-{}-{}.pdf", documents[0].account_number, documents[0].statement_date);
            pdf_response(render(&documents), &name)
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

#[derive(serde::Deserialize)]
pub struct QueueQuery {
    until: Option<i64>,
}

/// The print queue (up to place `until`, the last statement the page listed) as one PDF to print.
pub async fn print_queue_pdf(
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
    session: Option<Extension<ActiveSession>>,
    addr: Option<Extension<ClientAddr>>,
) -> Response {
    let Some(user) = billing_staff(&session) else { return StatusCode::FORBIDDEN.into_response() };
    let addr = addr.map(|Extension(a)| a.0);
    let items = match billing::print_queue(&state.db, &state.settings, q.until).await {
        Ok(items) => items,
        Err(e) => return internal(e),
    };
    let ids: Vec<StatementId> = items.into_iter().map(|i| i.statement.id).collect();
    if ids.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match billing::statement_documents(&state.db, &state.settings, BillingReader::Staff { user }, &ids, addr, state.clock.now_ms()).await {
        Ok(Some(documents)) => pdf_response(render(&documents), "print-queue.pdf"),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

/// The print queue as a CSV list for mailing.
pub async fn print_queue_csv(
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
    session: Option<Extension<ActiveSession>>,
    addr: Option<Extension<ClientAddr>>,
) -> Response {
    let Some(user) = billing_staff(&session) else { return StatusCode::FORBIDDEN.into_response() };
    let addr = addr.map(|Extension(a)| a.0);
    let items = match billing::print_queue(&state.db, &state.settings, q.until).await {
        Ok(items) => items,
        Err(e) => return internal(e),
    };
    if let Err(e) = billing::audit_export(&state.db, user, "csv", addr, state.clock.now_ms()).await {
        return internal(e);
    }
    let mut res = billing::print_queue_csv(&items).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"print-queue.csv\""));
    res
}

fn billing_staff(session: &Option<Extension<ActiveSession>>) -> Option<&app::types::UserId> {
    let Extension(session) = session.as_ref()?;
    match session.viewer.kind {
        AccountKind::Staff(role) if session.pending.is_none() && role.can(Permission::WorkBilling) => Some(&session.viewer.user_id),
        _ => None,
    }
}

fn pdf_response(bytes: Vec<u8>, file_name: &str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn internal(e: sqlx::Error) -> Response {
    let _ = app::error::AppError::from(e);
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The member of staff asking, if their role is one of `roles` and nothing is pending.
fn staff_in(session: &Option<Extension<ActiveSession>>, permission: Permission) -> Option<&app::types::UserId> {
    let Extension(session) = session.as_ref()?;
    match session.viewer.kind {
        AccountKind::Staff(role) if session.pending.is_none() && role.can(permission) => Some(&session.viewer.user_id),
        _ => None,
    }
}

fn json_response(json: &serde_json::Value, file_name: &str) -> Response {
    let mut res = serde_json::to_vec_pretty(json).unwrap_or_default().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A library form's latest version as a FHIR Questionnaire
/// (`/staff/questionnaires/fhir/questionnaire/{id}.json`), for those who keep the library.
pub async fn questionnaire_json(State(state): State<AppState>, Path(file): Path<String>, session: Option<Extension<ActiveSession>>) -> Response {
    if session.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if staff_in(&session, Permission::EditFormLibrary).is_none() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(id) = file.strip_suffix(".json") else { return StatusCode::NOT_FOUND.into_response() };
    match app::questionnaires::server::export_form(&state.db, id).await {
        Ok(Some((_, json))) => json_response(&json, &format!("questionnaire-{id}.json")),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

/// One submitted response as a FHIR QuestionnaireResponse
/// (`/staff/questionnaires/fhir/response/{id}.json`), for clinicians; audited.
pub async fn questionnaire_response_json(
    State(state): State<AppState>,
    Path(file): Path<String>,
    session: Option<Extension<ActiveSession>>,
    addr: Option<Extension<ClientAddr>>,
) -> Response {
    if session.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(user) = staff_in(&session, Permission::ReadAnswers) else { return StatusCode::FORBIDDEN.into_response() };
    let Some(id) = file.strip_suffix(".json") else { return StatusCode::NOT_FOUND.into_response() };
    let addr = addr.map(|Extension(a)| a.0);
    match app::questionnaires::server::response_json(&state.db, user, id, addr, state.clock.now_ms()).await {
        Ok(Some((name, json))) => json_response(&json, &name),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

// ---------------------------------------------------------------------------------------------
// My Medical Record (SPEC R-REC-1, R-REC-5, R-REC-6): the patient's own documents and Download
// My Record. Both are read from the EHR when asked, audited by the record's core
// (`app::record::server`), and go straight to the response.

fn record_reader(cx: &app::context::PatientCtx) -> app::record::server::Reader {
    app::record::server::Reader { user: cx.user().clone(), patient: cx.patient.clone(), client_addr: cx.addr }
}

/// The record cannot be read: the page's words, as a plain answer (the cause is in the log,
/// by kind), or an internal error for a database failure.
fn record_problem(e: app::record::source::RecordError) -> Response {
    match e.problem() {
        Some(problem) => {
            let mut res = (StatusCode::SERVICE_UNAVAILABLE, problem.message()).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            res
        }
        None => {
            let _ = app::error::AppError::from(e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// One of the patient's documents (`/record/documents/{id}`): any id that is not a released
/// document of their own record is not found. A document may be HTML: it is sent as an
/// attachment under a sandboxing policy, so nothing in it runs with the portal's origin.
pub async fn record_document(cx: app::context::PatientCtx, Path(id): Path<String>) -> Response {
    let Some(id) = app::record::ItemId::parse(&id) else { return StatusCode::NOT_FOUND.into_response() };
    match app::record::server::document(&cx.state, &record_reader(&cx), &id).await {
        Ok(Some(doc)) => {
            let ascii: String = doc.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) { c } else { '_' }).collect();
            let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", percent(&doc.file_name));
            let mut res = doc.bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&doc.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            res
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => record_problem(e),
    }
}

/// Download My Record (`/record/download/fhir.json`): everything the patient can see, as a
/// FHIR R4 Bundle. No result is held back from the patient today (R-REC-3), so every item the
/// pages show is kept.
pub async fn record_fhir(cx: app::context::PatientCtx) -> Response {
    match app::record::server::download(&cx.state, &record_reader(&cx), |_, _| true).await {
        Ok(bundle) => {
            let mut res = bundle.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"));
            h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"my-medical-record.json\""));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => record_problem(e),
    }
}

/// The printable Health Summary (`/record/download/summary.pdf`), made in memory from the
/// record as read now; audited as a download.
pub async fn record_summary_pdf(cx: app::context::PatientCtx) -> Response {
    use app::record::pdf;
    match app::record::server::open_for_download(&cx.state, &record_reader(&cx), "health summary (PDF)").await {
        Ok(record) => {
            let made = pdf::today(cx.now, &cx.state.settings.messaging.time_zone);
            let doc = pdf::summary_document(&record, &cx.state.settings.organisation.name, &cx.session.viewer.display_name, &made);
            let mut res = pdf_response(pdf::render(&doc), "health-summary.pdf");
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => record_problem(e),
    }
}
