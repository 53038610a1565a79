//! The front desk's enrolment queue: pending requests, the patient records each may belong to,
//! approve (link or create the record, issue a code) or decline with a reason.

use super::{AddressMatch, RequestDetail, RequestSummary, DECLINE_REASONS};
use crate::account::format_utc;
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use crate::patients::{HandOver, PatientSummary, PortalAccess};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

notice_codes! {
    /// Why a decision on a request was not taken.
    pub enum RequestNotice {
        Choose = Error "choose" => "Choose the patient record to link, or create a new one.",
        Decided = Error "decided" => "This request was already decided by someone else.",
        HasAccount = Error "has-account" => "That patient already has a portal account. Decline the request, or restore their access on the patient's page.",
        Reason = Error "reason" => "Choose a reason for declining.",
    }
}

#[server(endpoint = "enrolment/queue")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn enrolment_queue() -> Result<(Vec<RequestSummary>, Vec<RequestSummary>), AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let state = &cx.state;
    Ok(super::server::queue(&state.db).await?)
}

#[server(endpoint = "enrolment/detail")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn enrolment_request(id: String) -> Result<RequestDetail, AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let state = &cx.state;
    super::server::detail(&state.db, &id).await?.ok_or_else(|| request::refuse(AppError::NotFound))
}

/// Approves a request. `link_to` is a record's id, or `new` to create one from the request.
/// `email_code=yes` asks for the code to be e-mailed to the address on the record (never to the
/// request's address when the record is an existing one: see `server::approve`).
#[server(endpoint = "enrolment/approve")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn approve_request(request_id: String, link_to: String, email_code: Option<String>) -> Result<(), AppError> {
    use super::server::{approve, DecisionError};
    use crate::patients::PatientId;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let back = |notice: RequestNotice| crate::layout::redirect_notice(&format!("/staff/enrolment/{request_id}"), notice);
    let link = match link_to.as_str() {
        "new" => None,
        id => match PatientId::parse(id) {
            Some(id) => Some(id),
            None => {
                back(RequestNotice::Choose);
                return Ok(());
            }
        },
    };
    let email = email_code.as_deref() == Some("yes");
    match approve(state, &request_id, link, email, &session.viewer.user_id, cx.addr, cx.now).await {
        Ok(issued) => crate::patients::show_code_once(state, &issued.patient, &issued.code, issued.emailed),
        Err(DecisionError::AlreadyDecided) => back(RequestNotice::Decided),
        Err(DecisionError::HasAccount) => back(RequestNotice::HasAccount),
        Err(DecisionError::NotFound) => back(RequestNotice::Choose),
        Err(DecisionError::Db(e)) => return Err(e.into()),
    }
    Ok(())
}

#[server(endpoint = "enrolment/decline")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn decline_request(request_id: String, reason: String, note: Option<String>) -> Result<(), AppError> {
    use super::server::{decline, DecisionError};
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let Some((_, label)) = DECLINE_REASONS.iter().find(|(code, _)| *code == reason) else {
        crate::layout::redirect_notice(&format!("/staff/enrolment/{request_id}"), RequestNotice::Reason);
        return Ok(());
    };
    let note = note.unwrap_or_default();
    let note = note.trim();
    let text = if note.is_empty() { label.to_string() } else { format!("{label}: {}", note.chars().take(500).collect::<String>()) };
    match decline(&state.db, &request_id, &text, &session.viewer.user_id, cx.addr, cx.now).await {
        Ok(()) => {
            state.outbox_wakeup.notify_one();
            crate::platform::request::redirect("/staff/enrolment?declined=1");
        }
        Err(DecisionError::Db(e)) => return Err(e.into()),
        Err(_) => crate::layout::redirect_notice(&format!("/staff/enrolment/{request_id}"), RequestNotice::Decided),
    }
    Ok(())
}

fn state_label(state: &str) -> &'static str {
    match state {
        "pending" => "Waiting",
        "approved" => "Approved",
        "declined" => "Declined",
        _ => "Unknown",
    }
}

#[component]
pub fn EnrolmentQueuePage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| enrolment_queue());
    let query = use_query_map();
    let declined = move || query.read().get("declined").is_some();
    view! {
        <Title text="Enrolment requests | Staff"/>
            <h1>"Enrolment requests"</h1>
            {move || declined().then(|| view! { <p class="notice notice--status" role="status">"The request was declined. The person has been e-mailed to call the office."</p> })}
            <Loaded resource=queue view={move |data| {
                    let (pending, decided) = data;
                    view! {
                        <h2>"Waiting ("{pending.len()}")"</h2>
                        {if pending.is_empty() {
                            view! { <div class="empty"><p>"No requests are waiting."</p></div> }.into_any()
                        } else {
                            view! {
                                <table class="table">
                                    <caption class="visually-hidden">"Requests waiting, oldest first"</caption>
                                    <thead><tr><th scope="col">"Received"</th><th scope="col">"Name"</th>
                                        <th scope="col">"Date of birth"</th><th scope="col">"E-mail"</th><th scope="col">"Record number given"</th></tr></thead>
                                    <tbody>
                                        {pending.into_iter().map(|r| view! {
                                            <tr>
                                                <td>{format_utc(r.submitted_at)}</td>
                                                <td><a href=format!("/staff/enrolment/{}", r.id)>{format!("{} {}", r.given_name, r.family_name)}</a></td>
                                                <td>{r.date_of_birth}</td>
                                                <td>{r.email}</td>
                                                <td>{r.mrn.unwrap_or_else(|| "—".into())}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        <h2>"Recently decided"</h2>
                        {if decided.is_empty() {
                            view! { <p>"None yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="table">
                                    <caption class="visually-hidden">"Requests decided recently"</caption>
                                    <thead><tr><th scope="col">"Decided"</th><th scope="col">"Name"</th><th scope="col">"Decision"</th><th scope="col">"By"</th></tr></thead>
                                    <tbody>
                                        {decided.into_iter().map(|r| view! {
                                            <tr>
                                                <td>{r.decided_at.map(format_utc).unwrap_or_default()}</td>
                                                <td><a href=format!("/staff/enrolment/{}", r.id)>{format!("{} {}", r.given_name, r.family_name)}</a></td>
                                                <td>{state_label(&r.state)}{r.decline_reason.map(|reason| format!(": {reason}"))}</td>
                                                <td>{r.decided_by.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any()
            }}/>
    }
}

#[component]
pub fn EnrolmentRequestPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(move || params.read().get("id").unwrap_or_default(), enrolment_request);
    view! {
        <Title text="Enrolment request | Staff"/>
            <p><a href="/staff/enrolment">"← All requests"</a></p>
            {notice::<RequestNotice>()}
            <Loaded resource=detail view=move |d| view! { <RequestView detail=d/> }/>
    }
}

#[component]
fn RequestView(detail: RequestDetail) -> impl IntoView {
    let r = detail.request;
    let pending = r.state == "pending";
    let name = format!("{} {}", r.given_name, r.family_name);
    let has_candidates = !detail.candidates.is_empty();
    view! {
        <h1>"Enrolment request: "{name.clone()}</h1>
        <dl class="details">
            <dt>"Received"</dt><dd>{format_utc(r.submitted_at)}</dd>
            <dt>"Name"</dt><dd>{name}</dd>
            <dt>"Date of birth"</dt><dd>{r.date_of_birth.clone()}</dd>
            <dt>"E-mail"</dt><dd>{r.email.clone()}</dd>
            <dt>"Phone"</dt><dd>{r.phone.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Record number given"</dt><dd>{r.mrn.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Status"</dt><dd>{state_label(&r.state)}{r.decline_reason.clone().map(|x| format!(": {x}"))}</dd>
        </dl>
        {pending.then(|| view! {
            <h2>"Verify identity and approve"</h2>
            <p>"Check the details against the records below (and, if in doubt, call the person). "
               "Approving issues an activation code, shown to you once."</p>
            {if has_candidates {
                view! { <p>"Records that may be this person:"</p> }.into_any()
            } else {
                view! { <p>"No existing record matches these details."</p> }.into_any()
            }}
            {detail.candidates.iter().map(|c| view! {
                <CandidateRecord request_id=r.id.clone() request_email=r.email.clone() candidate=c.clone()/>
            }).collect_view()}
            <section class="section" aria-labelledby="new-record-title">
                <h3 id="new-record-title">"Create a new patient record from this request"</h3>
                {has_candidates.then(|| view! { <p>"Only if none of the records above is this person."</p> })}
                <PostForm<ApproveRequest> class="form" clone:r>
                    <input type="hidden" name="request_id" value=r.id.clone()/>
                    <input type="hidden" name="link_to" value="new"/>
                    // A record made from the request has the request's address: the code may go there.
                    <div class="check">
                        <input type="checkbox" id="email_code-new" name="email_code" value="yes" checked=true/>
                        <label for="email_code-new">"Also e-mail the activation code to "{r.email.clone()}</label>
                    </div>
                    <button type="submit" class="button button--primary">"Create a new record and issue code"</button>
                </PostForm<ApproveRequest>>
            </section>
            <h2>"Decline"</h2>
            <PostForm<DeclineRequest> class="form" clone:r>
                <input type="hidden" name="request_id" value=r.id.clone()/>
                <div class="field">
                    <label for="reason">"Reason"</label>
                    <select id="reason" name="reason" required>
                        <option value="">"Choose a reason"</option>
                        {DECLINE_REASONS.iter().map(|(code, label)| view! { <option value=*code>{*label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="note">"Note for the record (optional)"</label>
                    <input id="note" name="note" type="text" maxlength="500"/>
                </div>
                <button type="submit" class="button button--quiet">"Decline request"</button>
            </PostForm<DeclineRequest>>
        })}
        {r.patient_id.clone().map(|p| view! { <p><a href=format!("/staff/patients/{}", p.as_str())>"Open the patient's page"</a></p> })}
    }
}

/// One record the request may belong to, with its own "link and issue code" form. The code may
/// be e-mailed only to the record's address: when the request gives another one (or the record
/// has none), the desk is told so, the e-mail is off (or not offered), and the page says how to
/// hand the code over instead.
#[component]
fn CandidateRecord(request_id: String, request_email: String, candidate: PatientSummary) -> impl IntoView {
    let c = candidate;
    let enrolled = c.access != PortalAccess::NotEnrolled;
    let record_email = c.email.clone().map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    let matched = AddressMatch::of(&request_email, record_email.as_deref());
    let title_id = format!("record-{}", c.id.as_str());
    let check_id = format!("email_code-{}", c.id.as_str());
    let warning = match matched {
        AddressMatch::Same => None,
        AddressMatch::Differs => Some(format!(
            "The addresses differ: the request gives {request_email}, the record has {}. Do not send the code to the \
             address in the request: whoever sent it may not be the patient, and the code opens the patient's account.",
            record_email.clone().unwrap_or_default()
        )),
        AddressMatch::RecordHasNone => Some(format!(
            "This record has no e-mail address, so the code cannot be e-mailed. Do not send the code to the address in \
             the request ({request_email}): whoever sent it may not be the patient, and the code opens the patient's account."
        )),
    };
    view! {
        <section class="section candidate" aria-labelledby=title_id.clone()>
            <h3 id=title_id.clone()>{format!("{} — record {} — born {}", c.full_name(), c.mrn, c.date_of_birth)}</h3>
            <dl class="details">
                <dt>"E-mail on record"</dt><dd>{record_email.clone().unwrap_or_else(|| "none".into())}</dd>
                <dt>"Portal"</dt><dd>{if enrolled { "Already has a portal account" } else { "Not enrolled" }}</dd>
            </dl>
            {if enrolled {
                view! { <p>"No code can be issued for this record."</p> }.into_any()
            } else {
                view! {
                    {warning.map(|text| view! {
                        <div class="notice notice--alert address-warning">
                            <p><strong>{text}</strong></p>
                            <HandOver/>
                        </div>
                    })}
                    <PostForm<ApproveRequest> class="form">
                        <input type="hidden" name="request_id" value=request_id/>
                        <input type="hidden" name="link_to" value=c.id.to_string()/>
                        {record_email.clone().map(|address| view! {
                            <div class="check">
                                <input type="checkbox" id=check_id.clone() name="email_code" value="yes" checked={matched == AddressMatch::Same}/>
                                <label for=check_id.clone()>"Also e-mail the activation code to the address on this record, "{address}</label>
                            </div>
                        })}
                        <button type="submit" class="button button--primary">{format!("Link to record {} and issue code", c.mrn)}</button>
                    </PostForm<ApproveRequest>>
                }.into_any()
            }}
        </section>
    }
}
