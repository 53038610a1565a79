//! Staff pages: find a patient, the patient's page (record, portal account, activation codes,
//! access), and the page that shows a new activation code once.

#[cfg(feature = "ssr")]
use super::PatientId;
use super::{PatientDetail, PatientSummary, PortalAccess};
use crate::account::format_utc;
use crate::error::AppError;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::PostForm;
use crate::layout::{org_info, Loaded, NoticeCode};
use crate::messaging::MessageLimits;
use crate::passkeys::RemovePatientPasskeys;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The cookie that carries a new code from the form to the page that shows it once: it stays
/// in the staff member's browser for a few minutes, never in the database or a URL.
#[cfg(feature = "ssr")]
pub const CODE_COOKIE: &str = "portal_new_code";

/// After a code is issued: hand it to the page that shows it once.
#[cfg(feature = "ssr")]
pub fn show_code_once(state: &crate::state::AppState, patient: &PatientId, code: &str, emailed: bool) {
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let value = format!("{}.{}", patient.as_str(), code);
    response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, CODE_COOKIE, Some(&value), 300));
    let emailed = if emailed { "?emailed=1" } else { "" };
    crate::platform::request::redirect(&format!("/staff/patients/{}/code{emailed}", patient.as_str()));
}

#[server(endpoint = "patients/search")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn search_patients(q: String) -> Result<Vec<PatientSummary>, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let state = &cx.state;
    Ok(super::server::search(&state.db, &q.chars().take(100).collect::<String>()).await?)
}

#[server(endpoint = "patients/detail")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn get_patient_detail(id: String) -> Result<PatientDetail, AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = PatientId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    super::server::detail(&state.db, &id, &session.viewer.user_id, cx.addr, cx.now).await?.ok_or_else(|| request::refuse(AppError::NotFound))
}

crate::layout::notice_codes! {
    /// How the last form on the staff page of a patient went (access, activation codes, the
    /// link to the EHR in `crate::record::staff`).
    pub enum PatientNotice {
        Revoked = Done "revoked" => "The activation code was revoked.",
        Terminated = Done "terminated" => "Portal access ended. Every session of the patient has been signed out.",
        Restored = Done "restored" => "Portal access restored. The patient can sign in again.",
        HasAccount = Error "has-account" => "This patient already has a portal account: no code is needed.",
        Reason = Error "reason" => "Please give a reason.",
        Unchanged = Error "unchanged" => "Nothing was changed: the page was out of date. Here is how things stand now.",
        RecordLinked = Done "record-linked" => "The patient's medical record is linked to the EHR patient.",
        RecordUnlinked = Done "record-unlinked" => "The link to the EHR patient was removed.",
        RecordId = Error "record-id" => "An EHR patient id is 1 to 64 letters, digits, dashes and dots.",
        RecordNotFound = Error "record-not-found" => "The EHR has no patient with that id. Nothing was changed.",
        RecordTaken = Error "record-taken" => "That EHR patient is already linked to another portal patient. Nothing was changed.",
        RecordUnavailable = Error "record-unavailable" => "The EHR did not answer. Nothing was changed; please try again later.",
    }
}

#[server(endpoint = "patients/issue-code")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn issue_code(patient_id: String, email_code: Option<String>) -> Result<(), AppError> {
    use crate::enrolment::server::DecisionError;
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let email = email_code.as_deref() == Some("yes");
    match crate::enrolment::server::issue_code(state, &id, email, &session.viewer.user_id, cx.addr, cx.now).await {
        Ok(issued) => show_code_once(state, &id, &issued.code, issued.emailed),
        Err(DecisionError::HasAccount) => crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), PatientNotice::HasAccount),
        Err(DecisionError::Db(e)) => return Err(e.into()),
        Err(_) => return Err(request::refuse(AppError::NotFound)),
    }
    Ok(())
}

#[server(endpoint = "patients/revoke-code")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn revoke_code(patient_id: String, code_id: String) -> Result<(), AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let done = crate::enrolment::server::revoke_code(&state.db, &id, &code_id, &session.viewer.user_id, cx.addr, cx.now).await?;
    crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), if done { PatientNotice::Revoked } else { PatientNotice::Unchanged });
    Ok(())
}

/// The code issued a moment ago, once: the cookie that carried it is cleared.
#[server(endpoint = "patients/new-code")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn take_new_code(patient_id: String) -> Result<Option<String>, AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let state = &cx.state;
    let value = request::cookie(&state.settings.cookie_name(CODE_COOKIE));
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, CODE_COOKIE, None, 0));
    Ok(value.and_then(|v| v.split_once('.').filter(|(p, _)| *p == patient_id).map(|(_, code)| code.to_string())))
}

#[server(endpoint = "access/terminate")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn terminate_access(patient_id: String, reason: String) -> Result<(), AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let reason = reason.trim();
    if reason.is_empty() {
        crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), PatientNotice::Reason);
        return Ok(());
    }
    let reason: String = reason.chars().take(500).collect();
    let done = super::server::terminate_access(&state.db, &id, &reason, &session.viewer.user_id, cx.addr, cx.now).await?;
    crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), if done { PatientNotice::Terminated } else { PatientNotice::Unchanged });
    Ok(())
}

#[server(endpoint = "access/restore")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn restore_access(patient_id: String, reason: String) -> Result<(), AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let reason: String = reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), PatientNotice::Reason);
        return Ok(());
    }
    let done = super::server::restore_access(&state.db, &id, &reason, &session.viewer.user_id, cx.addr, cx.now).await?;
    crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), if done { PatientNotice::Restored } else { PatientNotice::Unchanged });
    Ok(())
}

/// How to give a patient an activation code without e-mail. The code opens the patient's
/// account, so it goes only to someone whose identity was checked, or to the address on file.
#[component]
pub fn HandOver() -> impl IntoView {
    view! {
        <div class="hand-over">
            <p>"Hand the code over in one of these ways instead:"</p>
            <ul>
                <li>"in person, after checking the patient's photo ID;"</li>
                <li>"by post: print the letter shown with the code and send it to the postal address on the patient's record;"</li>
                <li>"by phone, after checking the caller's identity: call back the number on the record and ask for details only the patient would know."</li>
            </ul>
        </div>
    }
}

fn access_label(access: &PortalAccess) -> String {
    match access {
        PortalAccess::NotEnrolled => "Not enrolled".into(),
        PortalAccess::Active { login } => format!("Active (user ID {login})"),
        PortalAccess::Terminated { login, .. } => format!("Access ended (user ID {login})"),
    }
}

/// The search is posted to the page (`layout::search`): no name, birth date or record number in
/// the address.
#[component]
pub fn PatientsPage() -> impl IntoView {
    let q = posted_search();
    let searched = !q.trim().is_empty();
    let term = q.clone();
    let results = Resource::new(
        move || term.clone(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                search_patients(q).await
            }
        },
    );
    view! {
        <Title text="Patients | Staff"/>
            <h1>"Patients"</h1>
            <SearchForm action="/staff/patients" label="Name, record number or date of birth (YYYY-MM-DD)" button="Search" value=q/>
            <Loaded resource=results loading="Searching…" view={move |data| match data {
                    _ if !searched => view! { <p>"Search for a patient above."</p> }.into_any(),
                    list if list.is_empty() => found(0, "patient", "patients").into_any(),
                    list => view! {
                        {found(list.len(), "patient", "patients")}
                        <table class="table">
                            <caption class="visually-hidden">"Matching patients"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Record number"</th>
                                <th scope="col">"Date of birth"</th><th scope="col">"Portal"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| view! {
                                    <tr>
                                        <td><a href=format!("/staff/patients/{}", p.id.as_str())>{p.full_name()}</a></td>
                                        <td>{p.mrn.clone()}</td>
                                        <td>{p.date_of_birth.clone()}</td>
                                        <td>{access_label(&p.access)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
            }}/>
    }
}

#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(move || params.read().get("id").unwrap_or_default(), get_patient_detail);
    let query = use_query_map();
    let message = move || {
        let q = query.read();
        if let Some(n) = q.get("passkeys") {
            let text = match n.as_str() {
                "0" => "The patient had no passkeys.".to_string(),
                "1" => "1 passkey removed. The patient signs in with their user ID and password.".to_string(),
                n => format!("{n} passkeys removed. The patient signs in with their user ID and password."),
            };
            return Some(view! { <p class="notice notice--status" role="status">{text}</p> }.into_any());
        }
        PatientNotice::from_query(&q).map(crate::layout::notice_view)
    };
    view! {
        <Title text="Patient | Staff"/>
            <p><a href="/staff/patients">"← Find a patient"</a></p>
            {message}
            <Loaded resource=detail view=move |d| view! { <PatientView detail=d/> }/>
    }
}

#[component]
fn PatientView(detail: PatientDetail) -> impl IntoView {
    let p = detail.patient;
    let id = p.id.to_string();
    let record_email = p.email.clone().map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    let record_link = detail.record_link.clone();
    view! {
        <h1>{p.full_name()}</h1>
        <dl class="details">
            <dt>"Record number"</dt><dd>{p.mrn.clone()}</dd>
            <dt>"Date of birth"</dt><dd>{p.date_of_birth.clone()}</dd>
            <dt>"E-mail on record"</dt><dd>{p.email.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Phone"</dt><dd>{p.phone.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Statements"</dt><dd>{if p.paperless { "Paperless" } else { "Paper, by post" }}</dd>
            <dt>"Portal"</dt><dd>{access_label(&p.access)}</dd>
        </dl>
        <crate::record::RecordLinkSection patient_id=id.clone() link=record_link/>
        {match p.access.clone() {
            PortalAccess::NotEnrolled => view! {
                <h2>"Activation codes"</h2>
                {if detail.codes.is_empty() {
                    view! { <p>"No code has been issued."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <caption class="visually-hidden">"Activation codes issued, newest first"</caption>
                            <thead><tr><th scope="col">"Issued"</th><th scope="col">"By"</th><th scope="col">"Expires"</th>
                                <th scope="col">"Tries left"</th><th scope="col">"State"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                            <tbody>
                                {detail.codes.iter().map(|c| {
                                    let active = c.state == "active";
                                    view! {
                                        <tr>
                                            <td>{format_utc(c.issued_at)}</td>
                                            <td>{c.issued_by.clone().unwrap_or_default()}</td>
                                            <td>{format_utc(c.expires_at)}</td>
                                            <td>{c.tries_left}</td>
                                            <td>{c.state.clone()}</td>
                                            <td>{active.then(|| view! {
                                                <PostForm<RevokeCode> clone:id>
                                                    <input type="hidden" name="patient_id" value=id.clone()/>
                                                    <input type="hidden" name="code_id" value=c.id.clone()/>
                                                    <button type="submit" class="button button--quiet">"Revoke"</button>
                                                </PostForm<RevokeCode>>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
                <p>"A code is e-mailed only to the address on the patient's record, never to an address someone "
                   "gives by phone or in a request."</p>
                <HandOver/>
                <PostForm<IssueCode> class="form" clone:id>
                    <input type="hidden" name="patient_id" value=id.clone()/>
                    {record_email.clone().map(|address| view! {
                        <div class="check">
                            <input type="checkbox" id="email_code" name="email_code" value="yes"/>
                            <label for="email_code">"Also e-mail the code to the address on the record, "{address}</label>
                        </div>
                    })}
                    <button type="submit" class="button button--primary">
                        {if detail.codes.iter().any(|c| c.state == "active") { "Issue a new code (replaces the current one)" } else { "Issue an activation code" }}
                    </button>
                </PostForm<IssueCode>>
            }.into_any(),
            PortalAccess::Active { .. } => view! {
                <MessageLimits patient=id.clone()/>
                <h2>"End portal access"</h2>
                <p>"The patient is signed out everywhere at once and cannot sign in until access is restored. "
                   "Their records are not affected."</p>
                <PostForm<TerminateAccess> class="form" clone:id>
                    <input type="hidden" name="patient_id" value=id.clone()/>
                    <div class="field">
                        <label for="terminate-reason">"Reason (kept in the record of this change)"</label>
                        <input id="terminate-reason" name="reason" type="text" required maxlength="500"/>
                    </div>
                    <button type="submit" class="button button--danger">"End portal access"</button>
                </PostForm<TerminateAccess>>
                <h2>"Passkeys"</h2>
                <p>"If the patient lost a device or asks for it, remove every passkey of their account: they then sign in with "
                   "their user ID and password. (Ending access removes them too.)"</p>
                <PostForm<RemovePatientPasskeys> class="form" clone:id>
                    <input type="hidden" name="patient" value=id.clone()/>
                    <button type="submit" class="button">"Remove all of the patient's passkeys"</button>
                </PostForm<RemovePatientPasskeys>>
            }.into_any(),
            PortalAccess::Terminated { reason, at, .. } => view! {
                <h2>"Restore portal access"</h2>
                <p>"Access was ended "{at.map(format_utc).unwrap_or_default()}
                   {reason.map(|r| format!(" (reason: {r})"))}"."</p>
                <PostForm<RestoreAccess> class="form" clone:id>
                    <input type="hidden" name="patient_id" value=id.clone()/>
                    <div class="field">
                        <label for="restore-reason">"Reason"</label>
                        <input id="restore-reason" name="reason" type="text" required maxlength="500"/>
                    </div>
                    <button type="submit" class="button button--primary">"Restore portal access"</button>
                </PostForm<RestoreAccess>>
            }.into_any(),
        }}
    }
}

/// Shows a new activation code once, with a letter the staff member can print for the patient.
#[component]
pub fn IssuedCodePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let patient_id = move || params.read().get("id").unwrap_or_default();
    let code = Resource::new(patient_id, take_new_code);
    let detail = Resource::new(patient_id, get_patient_detail);
    let emailed = move || query.read().get("emailed").is_some();
    let org = org_info();
    view! {
        <Title text="Activation code | Staff"/>
            <Loaded resource=(code, detail) view=move |(code, d): (Option<String>, PatientDetail)| match code {
                Some(code) => view! {
                    <div class="no-print">
                        <h1>"Activation code for "{d.patient.full_name()}</h1>
                        <p class="notice notice--status" role="status">
                            "This code is shown only once. Give it to the patient now, or print the letter below."
                            {emailed().then_some(" It has also been e-mailed to the address on the patient's record.")}
                        </p>
                        {(!emailed()).then(|| view! { <HandOver/> })}
                        <p class="activation-code" aria-label="Activation code">{code.clone()}</p>
                        <p><a href=format!("/staff/patients/{}", d.patient.id.as_str())>"Done: back to the patient's page"</a></p>
                        <p class="small">"To print the letter, use your browser's Print command (Ctrl+P or ⌘P): only the letter is printed."</p>
                    </div>
                    <article class="letter" aria-label="Letter to print">
                        <p>{org.name.clone()}</p>
                        <p>{d.patient.full_name()}</p>
                        <h2>"Your patient portal activation code"</h2>
                        <p class="activation-code">{code}</p>
                        <p>"To set up your account, go to the patient portal, choose “Set up your account”, and enter "
                           "this code with your date of birth. Then choose a user ID and a password."</p>
                        <p>"The code works once and expires on "{d.codes.first().map(|c| format_utc(c.expires_at)).unwrap_or_default()}
                           ". If it has expired, call us at "{org.phone.clone()}" for a new one."</p>
                        <p>"Keep this letter private: together with your date of birth the code opens your account."</p>
                    </article>
                }.into_any(),
                None => view! {
                    <h1>"Activation code"</h1>
                    <p>"This code has already been shown. If the patient did not get it, issue a new one on "
                       <a href=format!("/staff/patients/{}", d.patient.id.as_str())>"the patient's page"</a>"."</p>
                }.into_any(),
            }/>
    }
}
