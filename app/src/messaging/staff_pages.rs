//! Staff messaging (SPEC R-MSG-3 … R-MSG-5, R-MSG-7): the inbox of the signed-in member of
//! staff and of the pools they work, soonest due first with overdue flagged; a conversation
//! with its routing history; reply, forward within the care team, mark handled; and a new
//! message to a patient of their care teams.

use super::thread::{MessageList, ThreadReader};
use super::{InboxFilter, InboxPage, PatientConversations, QuotaStatus, RecipientOption, ThreadView, BODY_MAX, SUBJECT_MAX};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{alert, notice, notice_codes, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffThreadData {
    pub thread: ThreadView,
    pub forward_to: Vec<RecipientOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientChoice {
    pub id: String,
    pub name: String,
    pub mrn: String,
}

#[server(endpoint = "staff/messages/inbox")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_staff_inbox(filter: String, page: Option<u32>) -> Result<InboxPage, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let filter = InboxFilter::parse(&filter);
    Ok(super::server::staff_inbox(&state.db, &state.settings.messaging.time_zone, &session.viewer.user_id, filter, page.unwrap_or(1), cx.now).await?)
}

#[server(endpoint = "staff/messages/thread")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_staff_thread(id: String) -> Result<StaffThreadData, AppError> {
    use super::server::{forward_options, open_thread, Reader};
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let thread_id = super::ThreadId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let user = &session.viewer.user_id;
    let thread = open_thread(&state.db, &state.settings.messaging.time_zone, Reader::Staff { user }, &thread_id, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))?;
    let forward_to = forward_options(&state.db, user, &thread_id).await?.unwrap_or_default();
    Ok(StaffThreadData { thread, forward_to })
}

/// The conversations with a patient that the member of staff may read (the minimum-necessary
/// rule of `server::staff_reads_thread_sql`); not found when the patient is not theirs.
#[server(endpoint = "staff/messages/patient-threads")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_patient_threads(id: String) -> Result<PatientConversations, AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let patient = crate::patients::PatientId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    super::server::staff_patient_threads(&state.db, &state.settings.messaging.time_zone, &session.viewer.user_id, &patient, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))
}

#[server(endpoint = "staff/messages/reply")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn staff_reply(thread: String, body: String) -> Result<(), AppError> {
    use super::server::StaffActionError;
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let thread_id = super::ThreadId::parse(&thread).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let body = body.replace("\r\n", "\n");
    match super::server::reply_from_staff(&state.db, &state.settings, &session.viewer.user_id, &thread_id, &body, cx.addr, cx.now).await {
        Ok(_) => {
            state.outbox_wakeup.notify_one();
            redirect_notice(&format!("/staff/messages/{}", thread_id.as_str()), StaffMessageNotice::Replied);
        }
        Err(StaffActionError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(StaffActionError::Db(e)) => return Err(e.into()),
        Err(e) => redirect_notice(&format!("/staff/messages/{}#reply", thread_id.as_str()), refused(&e)),
    }
    Ok(())
}

#[server(endpoint = "staff/messages/handled")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn mark_handled(message: String) -> Result<(), AppError> {
    use super::server::StaffActionError;
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = super::MessageId::parse(&message).ok_or_else(|| request::refuse(AppError::NotFound))?;
    match super::server::mark_handled(&state.db, &session.viewer.user_id, &id, cx.addr, cx.now).await {
        Ok(thread) => redirect_notice(&format!("/staff/messages/{}", thread.as_str()), StaffMessageNotice::Handled),
        Err(StaffActionError::Unchanged) => redirect_notice("/staff/messages", StaffMessageNotice::Unchanged),
        Err(StaffActionError::Db(e)) => return Err(e.into()),
        Err(_) => return Err(request::refuse(AppError::NotFound)),
    }
    Ok(())
}

#[server(endpoint = "staff/messages/forward")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn forward_message(message: String, to: String, note: String) -> Result<(), AppError> {
    use super::server::StaffActionError;
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = super::MessageId::parse(&message).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let Some(to) = super::Recipient::parse(&to) else {
        redirect_notice("/staff/messages", StaffMessageNotice::Recipient);
        return Ok(());
    };
    match super::server::forward(&state.db, &state.settings, &session.viewer.user_id, &id, &to, &note, cx.addr, cx.now).await {
        // The forwarder may no longer see the thread (it left their care team's pools): the
        // inbox is where they continue.
        Ok(_) => redirect_notice("/staff/messages", StaffMessageNotice::Forwarded),
        Err(StaffActionError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(StaffActionError::Db(e)) => return Err(e.into()),
        Err(e) => redirect_notice("/staff/messages", refused(&e)),
    }
    Ok(())
}

#[server(endpoint = "staff/messages/patients")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn staff_patient_choices() -> Result<Vec<PatientChoice>, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    Ok(super::server::staff_patients(&state.db, &session.viewer.user_id)
        .await?
        .into_iter()
        .map(|(id, name, mrn)| PatientChoice { id: id.to_string(), name, mrn })
        .collect())
}

#[server(endpoint = "staff/messages/start")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn staff_start(patient: String, subject: String, body: String) -> Result<(), AppError> {
    use super::server::StaffActionError;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::WorkMessages)?;
    let (session, state) = (&cx.session, &cx.state);
    let Some(patient) = crate::patients::PatientId::parse(&patient) else {
        redirect_notice("/staff/messages/new", StaffMessageNotice::Patient);
        return Ok(());
    };
    let body = body.replace("\r\n", "\n");
    match super::server::start_from_staff(&state.db, &state.settings, &session.viewer.user_id, &patient, &subject, &body, cx.addr, cx.now).await {
        Ok(thread) => {
            state.outbox_wakeup.notify_one();
            redirect_notice(&format!("/staff/messages/{}", thread.as_str()), StaffMessageNotice::Sent);
        }
        Err(StaffActionError::NotFound) => redirect_notice("/staff/messages/new", StaffMessageNotice::Patient),
        Err(StaffActionError::Db(e)) => return Err(e.into()),
        Err(e) => redirect_notice("/staff/messages/new", refused(&e)),
    }
    Ok(())
}

fn status(text: &'static str) -> impl IntoView {
    view! { <p class="notice notice--status" role="status">{text}</p> }
}

/// What the page says about a refusal the person can correct. The server functions answer
/// `NotFound` (404) and `Db` (500) themselves first; were one to come here, the page says that
/// nothing was changed.
#[cfg(feature = "ssr")]
fn refused(e: &super::server::StaffActionError) -> StaffMessageNotice {
    use super::server::StaffActionError;
    match e {
        StaffActionError::Body => StaffMessageNotice::Body,
        StaffActionError::Subject => StaffMessageNotice::Subject,
        StaffActionError::Recipient => StaffMessageNotice::Recipient,
        StaffActionError::Unchanged | StaffActionError::NotFound | StaffActionError::Db(_) => StaffMessageNotice::Unchanged,
    }
}

notice_codes! {
    /// What the inbox, a conversation and the new-message page say after a form.
    pub enum StaffMessageNotice {
        Replied = Done "replied" => "Your reply has been sent. The patient is told by e-mail that a message is waiting.",
        Handled = Done "handled" => "The message is marked handled.",
        Forwarded = Done "forwarded" => "The message has been forwarded.",
        Sent = Done "sent" => "Your message has been sent. The patient is told by e-mail that a message is waiting.",
        Body = Error "body" => "Please write the message (at most 5,000 characters).",
        Subject = Error "subject" => "Please give the message a subject (at most 100 characters).",
        Recipient = Error "recipient" => "Please choose someone on the patient's care team (not where the message already is).",
        Unchanged = Error "unchanged" => "Nothing was changed: the message was already handled.",
        Patient = Error "patient" => "Please choose one of the patients of your care teams.",
    }
}

#[component]
pub fn StaffInboxPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || InboxFilter::parse(&query.read().get("show").unwrap_or_default());
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1);
    let items = Resource::new(move || (filter().as_str().to_string(), page()), |(filter, page)| load_staff_inbox(filter, Some(page)));
    let message = notice::<StaffMessageNotice>();
    view! {
        <Title text="Messages | Staff"/>
            <h1>"Messages"</h1>
            {message}
            <p><a href="/staff/messages/new" class="button">"New message to a patient"</a></p>
            <nav aria-label="Show" class="filters">
                <ul>
                    {move || InboxFilter::ALL.into_iter().map(|f| {
                        let current = (f == filter()).then_some("page");
                        view! { <li><a href=format!("/staff/messages?show={}", f.as_str()) aria-current=current>{f.label()}</a></li> }
                    }).collect_view()}
                </ul>
            </nav>
            <Loaded resource=items view={move |data: InboxPage| if data.items.is_empty() {
                    view! { <div class="empty"><p>"No messages are waiting here."</p></div> }.into_any()
                } else {
                    view! { <InboxTable data filter=filter()/> }.into_any()
                }}/>
    }
}

#[component]
fn InboxTable(data: InboxPage, filter: InboxFilter) -> impl IntoView {
    let InboxPage { items, waiting, overdue, page, pages } = data;
    let href = move |page: u32| format!("/staff/messages?show={}&page={page}", filter.as_str());
    let first = (page - 1) * super::INBOX_PAGE_SIZE + 1;
    let shown = (pages > 1).then(|| format!(" Showing {first} to {} (page {page} of {pages}).", first + items.len() as u32 - 1));
    view! {
        <p>{format!("{waiting} waiting, {overdue} overdue.")}{shown}</p>
        <table class="table">
            <caption>"Patients' messages waiting for a reply, soonest due first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Due"</th>
                    <th scope="col">"Patient"</th>
                    <th scope="col">"Subject"</th>
                    <th scope="col">"Waiting for"</th>
                    <th scope="col">"Sent"</th>
                </tr>
            </thead>
            <tbody>
                {items.into_iter().map(|i| view! {
                    <tr class=i.overdue.then_some("row--overdue")>
                        <td>{i.due_text.clone()}{i.overdue.then(|| view! { " "<strong class="badge badge--warn">"Overdue"</strong> })}</td>
                        <td>{i.patient_name.clone()}</td>
                        <td>
                            <a href=format!("/staff/messages/{}", i.thread_id.as_str())>{i.subject.clone()}</a>
                            {(!i.opened).then(|| view! { " "<span class="badge">"New"</span> })}
                            <br/><span class="small">{i.topic.clone()}</span>
                        </td>
                        <td>{i.assigned_to.clone()}{i.routed.then(|| view! { " "<span class="badge">"Routed"</span> })}</td>
                        <td>{i.sent_text.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Inbox pages">
                {(page > 1).then(|| view! { <a href=href(page - 1)>"← Due sooner"</a> })}
                {(page < pages).then(|| view! { <a href=href(page + 1)>"Due later →"</a> })}
            </nav>
        })}
    }
}

#[component]
pub fn StaffThreadPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(move || params.read().get("id").unwrap_or_default(), load_staff_thread);
    let message = notice::<StaffMessageNotice>();
    view! {
        <Title text="Conversation | Staff"/>
            <p><a href="/staff/messages">"← Messages"</a></p>
            {message}
            <Loaded resource=data heading="Conversation" view=move |d| view! { <StaffThread d/> }/>
    }
}

#[component]
fn StaffThread(d: StaffThreadData) -> impl IntoView {
    let t = d.thread;
    let thread_id = t.id.to_string();
    let open = t.open_message.clone();
    let body_max = BODY_MAX.to_string();
    view! {
        <h1>{t.subject.clone()}</h1>
        <p class="thread__meta">{format!("{} · {} · MRN {}", t.patient_name, t.topic, t.patient_mrn.clone().unwrap_or_default())}</p>
        {t.overdue.then(|| view! { <p class="notice notice--alert" role="alert">"Overdue: the patient has been waiting longer than promised."</p> })}
        {t.patient_id.clone().map(|p| view! {
            <p><a href=format!("/staff/messages/patients/{p}")>{format!("Conversations with {} that you may read", t.patient_name)}</a></p>
        })}
        <MessageList messages=t.messages reader=ThreadReader::Staff/>
        <section id="reply" aria-labelledby="reply-heading" class="section">
            <h2 id="reply-heading">"Reply to the patient"</h2>
            <PostForm<StaffReply> class="form">
                <input type="hidden" name="thread" value=thread_id.clone()/>
                <div class="field">
                    <label for="reply-body">"Reply"</label>
                    <textarea id="reply-body" name="body" rows="8" required maxlength=body_max aria-describedby="reply-help"></textarea>
                    <p id="reply-help" class="hint">"The patient is e-mailed only that a message is waiting. Sending a reply marks the patient's messages here handled."</p>
                </div>
                <button type="submit" class="button button--primary">"Send reply"</button>
            </PostForm<StaffReply>>
        </section>
        {open.map(|message| {
            let message_for_forward = message.to_string();
            view! {
                <section aria-labelledby="handle-heading" class="section">
                    <h2 id="handle-heading">"Without a reply"</h2>
                    <PostForm<MarkHandled> class="form form--inline">
                        <input type="hidden" name="message" value=message.to_string()/>
                        <button type="submit" class="button">"Mark handled"</button>
                    </PostForm<MarkHandled>>
                    {(!d.forward_to.is_empty()).then(|| view! {
                        <PostForm<ForwardMessage> class="form">
                            <input type="hidden" name="message" value=message_for_forward/>
                            <div class="field">
                                <label for="forward-to">"Forward to"</label>
                                <select id="forward-to" name="to" required>
                                    <option value="">"Choose someone on the care team"</option>
                                    {d.forward_to.iter().map(|r| view! { <option value=r.recipient.to_value()>{r.name.clone()}</option> }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="forward-note">"Note for them (optional)"</label>
                                <input type="text" id="forward-note" name="note" maxlength="300" aria-describedby="forward-help"/>
                                <p id="forward-help" class="hint">"They will read the whole conversation. The forward is recorded."</p>
                            </div>
                            <button type="submit" class="button">"Forward"</button>
                        </PostForm<ForwardMessage>>
                    })}
                </section>
            }
        })}
    }
}

#[component]
pub fn StaffPatientThreadsPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(move || params.read().get("id").unwrap_or_default(), load_patient_threads);
    view! {
        <Title text="Conversations with a patient | Staff"/>
            <p><a href="/staff/messages">"← Messages"</a></p>
            <Loaded resource=data heading="Conversations with a patient" view=move |d| view! { <PatientThreads d/> }/>
    }
}

#[component]
fn PatientThreads(d: PatientConversations) -> impl IntoView {
    view! {
        <h1>{format!("Conversations with {}", d.name)}</h1>
        <p class="thread__meta">{format!("MRN {}", d.mrn)}</p>
        <p class="hint">"Only the conversations your work needs: those sent to you or your pools, and, for clinicians of the patient's care team, the clinical ones."</p>
        <p><a href=format!("/staff/messages/new?patient={}", d.patient) class="button">"New message to this patient"</a></p>
        {if d.threads.is_empty() {
            view! { <div class="empty"><p>"No conversation with this patient is yours to read."</p></div> }.into_any()
        } else {
            view! {
                <table class="table">
                    <caption>"Conversations, latest first"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Subject"</th>
                            <th scope="col">"With"</th>
                            <th scope="col">"Latest"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {d.threads.into_iter().map(|t| view! {
                            <tr>
                                <td>
                                    <a href=format!("/staff/messages/{}", t.id.as_str())>{t.subject.clone()}</a>
                                    {t.waiting.then(|| view! { " "<span class="badge">"Waiting"</span> })}
                                    <br/><span class="small">{t.topic.clone()}</span>
                                </td>
                                <td>{t.with.clone()}</td>
                                <td>{t.last_text.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
pub fn StaffComposePage() -> impl IntoView {
    let patients = Resource::new(|| (), |_| staff_patient_choices());
    let query = use_query_map();
    let message = notice::<StaffMessageNotice>();
    let preselected = move || query.read().get("patient").unwrap_or_default();
    let body_max = BODY_MAX.to_string();
    let subject_max = SUBJECT_MAX.to_string();
    view! {
        <Title text="New message | Staff"/>
            <p><a href="/staff/messages">"← Messages"</a></p>
            <h1>"New message to a patient"</h1>
            {message}
            <Loaded resource=patients view=move |list| {
                let body_max = body_max.clone();
                let subject_max = subject_max.clone();
                let pre = preselected();
                match list {
                    list if list.is_empty() => view! { <p>"You are not on any patient's care team yet."</p> }.into_any(),
                    list => view! {
                        <PostForm<StaffStart> class="form">
                            <div class="field">
                                <label for="patient">"Patient"</label>
                                <select id="patient" name="patient" required>
                                    <option value="">"Choose a patient of your care teams"</option>
                                    {list.into_iter().map(|p| {
                                        let selected = p.id == pre;
                                        view! { <option value=p.id selected=selected>{format!("{} (MRN {})", p.name, p.mrn)}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="subject">"Subject"</label>
                                <input type="text" id="subject" name="subject" required maxlength=subject_max/>
                            </div>
                            <div class="field">
                                <label for="body">"Message"</label>
                                <textarea id="body" name="body" rows="10" required maxlength=body_max></textarea>
                            </div>
                            <button type="submit" class="button button--primary">"Send message"</button>
                        </PostForm<StaffStart>>
                    }.into_any(),
                }
            }/>
    }
}

/// A patient's message limits as they stand, for those who manage patients' access (the front
/// desk, administrators).
#[server(endpoint = "staff/messages/limits")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_message_limits(patient: String) -> Result<QuotaStatus, AppError> {
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let state = &cx.state;
    let patient = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let mut conn = state.db.pool.acquire().await.map_err(AppError::from)?;
    if sqlx::query("SELECT id FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut *conn).await.map_err(AppError::from)?.is_none() {
        return Err(request::refuse(AppError::NotFound));
    }
    Ok(super::quota::status(&mut conn, &state.settings.messaging, &patient, cx.now).await?)
}

/// Lifts a patient's message limits for a day, with a reason (recorded and audited).
#[server(endpoint = "staff/messages/lift-limits")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn lift_message_limits(patient: String, reason: String) -> Result<(), AppError> {
    use super::quota::{lift, LiftError};
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ManagePatientAccess)?;
    let (session, state) = (&cx.session, &cx.state);
    let patient = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let back = format!("/staff/patients/{}", patient.as_str());
    match lift(&state.db, &session.viewer.user_id, &patient, &reason, cx.addr, cx.now).await {
        Ok(()) => crate::platform::request::redirect(&format!("{back}?limits=lifted#message-limits")),
        Err(LiftError::Reason) => crate::platform::request::redirect(&format!("{back}?limits=reason#message-limits")),
        Err(LiftError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(LiftError::Db(e)) => return Err(e.into()),
    }
    Ok(())
}

/// The patient's message limits on their page (front desk, administrators): what is used, and
/// lifting them for a day.
#[component]
pub fn MessageLimits(patient: String) -> impl IntoView {
    let id = patient.clone();
    let data = Resource::new(move || id.clone(), load_message_limits);
    let query = use_query_map();
    let outcome = move || match query.read().get("limits").as_deref() {
        Some("lifted") => Some(status("The message limits are lifted for a day. The patient can write again.").into_any()),
        Some("reason") => Some(alert("Please give a reason (at most 300 characters).".to_string()).into_any()),
        _ => None,
    };
    view! {
        <section class="section" aria-labelledby="message-limits" id="limits">
            <h2 id="message-limits">"Message limits"</h2>
            {outcome}
            <Loaded resource=data view=move |q| {
                let patient = patient.clone();
                view! {
                    <p>{format!(
                        "Messages today: {} of {}. Attachments this month: {} of {}.",
                        q.messages_today, q.messages_per_day, super::file_size(q.bytes_this_month), super::file_size(q.bytes_per_month)
                    )}</p>
                    {match q.lifted.clone() {
                        Some((until, by, reason)) => view! { <p>{format!("Lifted by {by} until {until}: {reason}")}</p> }.into_any(),
                        None => view! {
                            <PostForm<LiftMessageLimits> class="form">
                                <input type="hidden" name="patient" value=patient.clone()/>
                                <div class="field">
                                    <label for="lift-reason">"Reason for lifting the limits for a day"</label>
                                    <input id="lift-reason" name="reason" type="text" required maxlength="300" aria-describedby="lift-hint"/>
                                    <p class="hint" id="lift-hint">"For 24 hours only what the patient sends from now counts. The lift is recorded."</p>
                                </div>
                                <button type="submit" class="button">"Lift the message limits for a day"</button>
                            </PostForm<LiftMessageLimits>>
                        }.into_any(),
                    }}
                }
            }/>
        </section>
    }
}
