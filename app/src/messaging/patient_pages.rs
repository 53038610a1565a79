//! The patient's Messages tab (SPEC R-MSG-1, R-MSG-2, R-MSG-3, R-MSG-7): conversations with
//! unread counts, a conversation with its due dates, and writing a message or a reply, with
//! attachments, the acknowledgement, and drafts kept until sent. Every form is a plain HTML form
//! (multipart for the ones that carry files), so all of it works without JavaScript.

use super::thread::{MessageList, ThreadReader};
use super::{Draft, NoticeMode, QuotaStatus, RecipientOption, ThreadSummary, ThreadView, Topic, ATTACHMENTS_MAX, BODY_MAX, SUBJECT_MAX};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{alert, notice_code, notice_codes, notice_view};
use crate::layout::{org_info, Loaded};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessagesOverview {
    pub threads: Vec<ThreadSummary>,
    pub unread: i64,
    pub reply_days: u32,
    pub notices: NoticeMode,
    pub has_draft: bool,
    pub can_write: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComposeData {
    pub recipients: Vec<RecipientOption>,
    pub draft: Draft,
    pub reply_days: u32,
    pub quota: QuotaStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadPageData {
    pub thread: ThreadView,
    pub draft: Draft,
    pub reply_days: u32,
    pub quota: QuotaStatus,
}

#[server(endpoint = "messages/overview")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_messages_overview() -> Result<MessagesOverview, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let now = cx.now;
    let threads = super::server::patient_threads(&state.db, &state.settings.messaging.time_zone, patient, now).await?;
    let unread = threads.iter().map(|t| t.unread).sum();
    Ok(MessagesOverview {
        unread,
        threads,
        reply_days: state.settings.messaging.reply_business_days,
        notices: super::server::notice_mode(&state.db, &session.viewer.user_id).await?,
        has_draft: super::server::draft(&state.db, &session.viewer.user_id, None).await?.is_some(),
        can_write: !super::server::recipients(&state.db, patient).await?.is_empty(),
    })
}

/// How many messages from the care team the patient has not read (for the home page).
#[server(endpoint = "messages/unread")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn unread_messages() -> Result<i64, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    Ok(super::server::unread_count(&state.db, patient).await?)
}

/// The patient's message limits as they stand now.
#[cfg(feature = "ssr")]
async fn quota_of(state: &crate::state::AppState, patient: &crate::patients::PatientId) -> Result<QuotaStatus, AppError> {
    let mut conn = state.db.pool.acquire().await.map_err(AppError::from)?;
    Ok(super::quota::status(&mut conn, &state.settings.messaging, patient, state.clock.now_ms()).await?)
}

#[server(endpoint = "messages/compose")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_compose_data() -> Result<ComposeData, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    Ok(ComposeData {
        recipients: super::server::recipients(&state.db, patient).await?,
        draft: super::server::draft(&state.db, &session.viewer.user_id, None).await?.unwrap_or_default(),
        reply_days: state.settings.messaging.reply_business_days,
        quota: quota_of(state, patient).await?,
    })
}

#[server(endpoint = "messages/thread")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_patient_thread(id: String) -> Result<ThreadPageData, AppError> {
    use super::server::{open_thread, Reader};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let thread_id = super::ThreadId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let reader = Reader::Patient { user: &session.viewer.user_id, patient };
    let thread = open_thread(&state.db, &state.settings.messaging.time_zone, reader, &thread_id, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))?;
    Ok(ThreadPageData {
        thread,
        draft: super::server::draft(&state.db, &session.viewer.user_id, Some(&thread_id)).await?.unwrap_or_default(),
        reply_days: state.settings.messaging.reply_business_days,
        quota: quota_of(state, patient).await?,
    })
}

/// What the compose and reply forms send: the fields, the files, and which button was pressed.
#[cfg(feature = "ssr")]
#[derive(Default)]
struct Posted {
    thread: Option<String>,
    recipient: String,
    topic: String,
    subject: String,
    body: String,
    acknowledged: bool,
    action: String,
    files: Vec<super::attachments::CheckedFile>,
    file_error: Option<super::attachments::AttachmentError>,
}

/// Reads the form as it streams in (`platform::multipart`): a text field over 20 KB refuses the
/// request, a file over 10 MB stops the reading and is told to the sender.
#[cfg(feature = "ssr")]
async fn read_form(data: MultipartData) -> Result<Posted, AppError> {
    use super::attachments::{check, clean_file_name, AttachmentError};
    use crate::platform::multipart::{read, Limits};
    const LIMITS: Limits = Limits { field: 20_000, text: 60_000, file_fields: &["attachments"], file: super::ATTACHMENT_BYTES_MAX };
    let form = read(data, LIMITS).await?;
    let mut posted = Posted::default();
    for (name, value) in form.fields {
        match name.as_str() {
            "thread" => posted.thread = Some(value).filter(|v| !v.is_empty()),
            "recipient" => posted.recipient = value,
            "topic" => posted.topic = value,
            "subject" => posted.subject = value,
            // Browsers send line breaks as CR LF; keep them as people typed them.
            "body" => posted.body = value.replace("\r\n", "\n"),
            "acknowledge" => posted.acknowledged = value == "yes",
            "action" => posted.action = value,
            _ => {}
        }
    }
    // The first file that fails its check is the one the sender is told about.
    for upload in form.uploads {
        match check(posted.files.len(), &upload.file_name, upload.bytes) {
            Ok(f) => posted.files.push(f),
            Err(e) => {
                posted.file_error = Some(e);
                return Ok(posted);
            }
        }
    }
    posted.file_error = form.too_large.map(|name| AttachmentError::TooLarge(clean_file_name(&name)));
    Ok(posted)
}

/// Sends a message or a reply, or saves or discards its draft (the button pressed says which).
/// When sending fails a check, what was typed is kept as the draft and the page says why.
#[server(input = MultipartFormData, endpoint = "messages/send")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn send_message(data: MultipartData) -> Result<(), AppError> {
    use super::server::{self as msg, NewPatientMessage, SendError};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let posted = read_form(data).await?;
    let user = &session.viewer.user_id;
    let now = cx.now;
    let thread = match posted.thread.as_deref() {
        Some(t) => Some(super::ThreadId::parse(t).ok_or_else(|| request::refuse(AppError::NotFound))?),
        None => None,
    };
    let page = match &thread {
        Some(t) => format!("/messages/{}", t.as_str()),
        None => "/messages/new".to_string(),
    };
    let anchor = if thread.is_some() { "#reply" } else { "" };
    let draft = Draft {
        recipient: posted.recipient.clone(),
        topic: posted.topic.clone(),
        subject: posted.subject.clone(),
        body: posted.body.clone(),
        updated_at: None,
    };
    match posted.action.as_str() {
        "save" => {
            if !msg::save_draft(&state.db, user, patient, thread.as_ref(), &draft, now).await? {
                return Err(request::refuse(AppError::NotFound));
            }
            let note = if posted.files.is_empty() && posted.file_error.is_none() { "saved" } else { "saved-without-files" };
            crate::platform::request::redirect(&format!("{page}?draft={note}{anchor}"));
            return Ok(());
        }
        "discard" => {
            msg::discard_draft(&state.db, user, thread.as_ref()).await?;
            crate::platform::request::redirect(&format!("{}?draft=discarded", if thread.is_some() { page.as_str() } else { "/messages" }));
            return Ok(());
        }
        _ => {}
    }
    let back = format!("{page}{anchor}");
    if let Some(e) = posted.file_error {
        msg::save_draft(&state.db, user, patient, thread.as_ref(), &draft, now).await?;
        redirect_notice(&back, notice_for(&SendError::Attachment(e)));
        return Ok(());
    }
    let sent = msg::send_from_patient(
        &state.db,
        &state.settings,
        user,
        patient,
        NewPatientMessage {
            thread: thread.clone(),
            recipient: posted.recipient,
            topic: posted.topic,
            subject: posted.subject,
            body: posted.body,
            acknowledged: posted.acknowledged,
            files: posted.files,
        },
        cx.addr,
        now,
    )
    .await;
    match sent {
        Ok(thread) => crate::platform::request::redirect(&format!("/messages/{}?sent=1", thread.as_str())),
        Err(SendError::Db(e)) => return Err(e.into()),
        Err(SendError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(e) => {
            msg::save_draft(&state.db, user, patient, thread.as_ref(), &draft, now).await?;
            redirect_notice(&back, notice_for(&e));
        }
    }
    Ok(())
}

/// Immediate or daily e-mail notices of new things in the portal.
#[server(endpoint = "messages/notices")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_notices(mode: String) -> Result<(), AppError> {
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, state) = (&cx.session, &cx.state);
    let mode = NoticeMode::parse(&mode).ok_or_else(|| request::refuse(AppError::Invalid("Please choose how to be told.".into())))?;
    super::server::set_notice_mode(&state.db, &session.viewer.user_id, mode, cx.addr, cx.now).await?;
    crate::platform::request::redirect("/messages?notices=saved#notices");
    Ok(())
}

/// What the care team promises, on every messaging page (SPEC R-MSG-1).
#[component]
fn ReplyPromise(days: u32) -> impl IntoView {
    let org = org_info();
    view! {
        <p class="promise">"Replies usually come within "<strong>{days}" business days"</strong>
           ". If you have not heard back by then, call the office at "<a href=format!("tel:{}", org.phone.replace(|c: char| !c.is_ascii_digit() && c != '+', ""))>{org.phone.clone()}</a>"."</p>
    }
}

#[component]
pub fn MessagesPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_messages_overview());
    let query = use_query_map();
    let note = move || {
        let q = query.read();
        if q.get("draft").as_deref() == Some("discarded") {
            Some("Your draft was discarded.")
        } else if q.get("notices").is_some() {
            Some("Your choice of e-mail notices is saved.")
        } else {
            None
        }
    };
    view! {
        <Title text="Messages | Patient portal"/>
            <h1>"Messages"</h1>
            {move || note().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            <Loaded resource=overview view=move |o| view! { <Overview o/> }/>
    }
}

#[component]
fn Overview(o: MessagesOverview) -> impl IntoView {
    let unread_text = match o.unread {
        0 => "No unread messages.".to_string(),
        1 => "1 unread message.".to_string(),
        n => format!("{n} unread messages."),
    };
    let daily = o.notices == NoticeMode::Daily;
    view! {
        <ReplyPromise days=o.reply_days/>
        <p class="actions">
            {if o.can_write {
                view! { <a class="button button--primary" href="/messages/new">{if o.has_draft { "Continue your draft" } else { "Write a message" }}</a> }.into_any()
            } else {
                view! { <span>"You have no care team in the portal yet. Please call the office."</span> }.into_any()
            }}
        </p>
        <section aria-labelledby="conversations">
            <h2 id="conversations">"Conversations"</h2>
            <p>{unread_text}</p>
            {if o.threads.is_empty() {
                view! { <div class="empty"><p>"You have no messages. Messages between you and your care team will appear here."</p></div> }.into_any()
            } else {
                view! {
                    <ul class="threads">
                        {o.threads.into_iter().map(|t| {
                            let href = format!("/messages/{}", t.id.as_str());
                            let unread = t.unread;
                            let thread_class = if unread > 0 { "thread thread--unread" } else { "thread" };
                            view! {
                                <li class=thread_class>
                                    <a href=href class="thread__subject">{t.subject.clone()}</a>
                                    {(unread > 0).then(|| view! { <span class="badge">{if unread == 1 { "1 unread".to_string() } else { format!("{unread} unread") }}</span> })}
                                    {t.overdue.then(|| view! { <span class="badge badge--warn">"No reply yet: please call"</span> })}
                                    <p class="thread__meta">{format!("With {} · {} · {}", t.with, t.topic, t.last_text)}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="notices" class="section">
            <h2 id="notices">"E-mail notices"</h2>
            <p>"We e-mail you when something new is waiting in the portal. The e-mail never says what it is: you read it here."</p>
            <PostForm<SetNotices> class="form">
                <fieldset>
                    <legend>"Tell me"</legend>
                    <div class="check">
                        <input type="radio" id="notices-immediate" name="mode" value="immediate" checked=!daily/>
                        <label for="notices-immediate">"Each time something new arrives"</label>
                    </div>
                    <div class="check">
                        <input type="radio" id="notices-daily" name="mode" value="daily" checked=daily/>
                        <label for="notices-daily">"Once a day, in the morning, if anything is new"</label>
                    </div>
                </fieldset>
                <button type="submit" class="button">"Save e-mail choice"</button>
            </PostForm<SetNotices>>
        </section>
    }
}

/// Said after every refusal to send: nothing is lost but the files.
macro_rules! kept {
    ($text:literal) => {
        concat!($text, " Your message has not been sent; what you wrote is kept below. Please choose any files again.")
    };
}

notice_codes! {
    /// Why a message was not sent, on the page it was written on.
    pub enum SendNotice {
        Recipient = Error "recipient" => kept!("Please choose whom to write to."),
        Topic = Error "topic" => kept!("Please choose what your message is about."),
        Subject = Error "subject" => kept!("Please give your message a subject (at most 100 characters)."),
        Body = Error "body" => kept!("Please write your message (at most 5,000 characters)."),
        Acknowledge = Error "acknowledge" => kept!("Please confirm that the message is about you and that it becomes part of your medical record."),
        TooManyFiles = Error "too-many-files" => kept!("You can attach at most 4 files to a message."),
        FileTooLarge = Error "file-too-large" => kept!("One of the files is larger than 10 MB. Please attach a smaller file."),
        FileType = Error "file-type" => kept!("One of the files is not a picture or a PDF document. Please attach photos (JPEG, PNG, HEIC) or PDF files only."),
        FileEmpty = Error "file-empty" => kept!("One of the files is empty."),
        NotFound = Error "not-found" => kept!("The message could not be sent. Please try again."),
        Internal = Error "internal" => kept!("The message could not be sent. Please try again."),
        // The limits are shown with the form, in `limit_notice`: they say when the limit resets,
        // which the page's data knows.
        DailyLimit = Error "limit-day" => kept!("You have sent as many messages as the portal takes in a day."),
        MonthlyBytes = Error "limit-month" => kept!("This message's files would take you past this month's attachments."),
    }
}

impl SendNotice {
    /// Shown with the form rather than above it (`limit_notice`).
    fn is_limit(self) -> bool {
        matches!(self, SendNotice::DailyLimit | SendNotice::MonthlyBytes)
    }
}

/// The notice for a refused message (the server function answers `NotFound` and `Db` itself).
#[cfg(feature = "ssr")]
fn notice_for(e: &super::server::SendError) -> SendNotice {
    use super::attachments::AttachmentError;
    use super::server::SendError;
    match e {
        SendError::NoRecipient => SendNotice::Recipient,
        SendError::NoTopic => SendNotice::Topic,
        SendError::Subject => SendNotice::Subject,
        SendError::Body => SendNotice::Body,
        SendError::NotAcknowledged => SendNotice::Acknowledge,
        SendError::Attachment(AttachmentError::TooMany) => SendNotice::TooManyFiles,
        SendError::Attachment(AttachmentError::TooLarge(_)) => SendNotice::FileTooLarge,
        SendError::Attachment(AttachmentError::WrongType(_)) => SendNotice::FileType,
        SendError::Attachment(AttachmentError::Empty(_)) => SendNotice::FileEmpty,
        SendError::NotFound => SendNotice::NotFound,
        SendError::DailyLimit => SendNotice::DailyLimit,
        SendError::MonthlyBytes => SendNotice::MonthlyBytes,
        SendError::Db(_) => SendNotice::Internal,
    }
}

/// The refusal to show above the form; the limits' refusals are shown with the form.
fn refusal() -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    let code = notice_code::<SendNotice>();
    move || code().filter(|n| !n.is_limit()).map(notice_view)
}

/// Where the patient stands against the message limits: the refusal that brought them back
/// (`limit-day`, `limit-month`), or, before they write, that the day's messages are used up.
fn limit_notice(quota: &QuotaStatus, code: Option<SendNotice>) -> Option<AnyView> {
    let phone = org_info().phone;
    let kept = " Your message has not been sent; what you wrote is kept below. Please choose any files again.";
    match code {
        Some(SendNotice::DailyLimit) => Some(alert(format!("{}{kept}", quota.day_text(&phone))).into_any()),
        Some(SendNotice::MonthlyBytes) => Some(alert(format!("{}{kept}", quota.month_text(&phone))).into_any()),
        _ if quota.day_reached() => Some(view! { <p class="notice notice--info">{quota.day_text(&phone)}</p> }.into_any()),
        _ => None,
    }
}

fn draft_text(code: Option<String>) -> Option<&'static str> {
    match code.as_deref() {
        Some("saved") => Some("Your draft is saved. It stays here until you send it."),
        Some("saved-without-files") => Some("Your draft is saved, without the files: files are added when you send the message."),
        _ => None,
    }
}

#[component]
pub fn ComposePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_compose_data());
    let query = use_query_map();
    let refused = notice_code::<SendNotice>();
    let saved = move || draft_text(query.read().get("draft"));
    view! {
        <Title text="Write a message | Patient portal"/>
            <p><a href="/messages">"← Messages"</a></p>
            <h1>"Write a message"</h1>
            {refusal()}
            {move || saved().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            <Loaded resource=data view=move |d| view! { {limit_notice(&d.quota, refused())} <ComposeForm d/> }/>
    }
}

/// The acknowledgement every message needs (SPEC R-MSG-2), and what a message is not for.
#[component]
fn Acknowledgement() -> impl IntoView {
    view! {
        <div class="field">
            <div class="check">
                <input type="checkbox" id="acknowledge" name="acknowledge" value="yes" required aria-describedby="acknowledge-help"/>
                <label for="acknowledge">"This message is about my own health, not someone else's, and I understand it becomes a permanent part of my medical record."</label>
            </div>
            <p id="acknowledge-help" class="hint">"Messages cannot be changed or deleted once sent; they can only be answered."</p>
        </div>
    }
}

#[component]
fn Attachments() -> impl IntoView {
    view! {
        <div class="field">
            <label for="attachments">"Attach photos or documents (optional)"</label>
            <input type="file" id="attachments" name="attachments" multiple
                accept="image/jpeg,image/png,image/gif,image/webp,image/heic,.heic,application/pdf" aria-describedby="attachments-help"/>
            <p id="attachments-help" class="hint">{format!("Up to {ATTACHMENTS_MAX} files: photos (JPEG, PNG, HEIC) or PDF documents, each at most 10 MB.")}</p>
        </div>
    }
}

#[component]
fn ComposeForm(d: ComposeData) -> impl IntoView {
    let draft = d.draft;
    let body_max = BODY_MAX.to_string();
    let subject_max = SUBJECT_MAX.to_string();
    view! {
        <ReplyPromise days=d.reply_days/>
        <PostForm<SendMessage> multipart=true class="form compose">
            <div class="field">
                <label for="recipient">"To"</label>
                <select id="recipient" name="recipient" required>
                    <option value="" selected=draft.recipient.is_empty()>"Choose someone on your care team"</option>
                    {d.recipients.into_iter().map(|r| {
                        let value = r.recipient.to_value();
                        let selected = value == draft.recipient;
                        view! { <option value=value selected=selected>{r.name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="topic">"What is it about?"</label>
                <select id="topic" name="topic" required>
                    <option value="" selected=draft.topic.is_empty()>"Choose a topic"</option>
                    {Topic::ALL.into_iter().map(|t| {
                        let selected = t.as_str() == draft.topic;
                        view! { <option value=t.as_str() selected=selected>{t.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="subject">"Subject"</label>
                <input type="text" id="subject" name="subject" required maxlength=subject_max value=draft.subject aria-describedby="subject-help"/>
                <p id="subject-help" class="hint">{format!("At most {SUBJECT_MAX} characters.")}</p>
            </div>
            <div class="field">
                <label for="body">"Message"</label>
                <textarea id="body" name="body" rows="10" required maxlength=body_max aria-describedby="body-help">{draft.body}</textarea>
                <p id="body-help" class="hint">{format!("At most {} characters. Please do not use messages for urgent matters.", "5,000")}</p>
            </div>
            <Attachments/>
            <Acknowledgement/>
            <div class="form__actions">
                <button type="submit" name="action" value="send" class="button button--primary">"Send message"</button>
                <button type="submit" name="action" value="save" class="button" formnovalidate>"Save draft"</button>
                {draft.updated_at.is_some().then(|| view! {
                    <button type="submit" name="action" value="discard" class="button button--quiet" formnovalidate>"Discard draft"</button>
                })}
            </div>
        </PostForm<SendMessage>>
    }
}

#[component]
pub fn PatientThreadPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(move || params.read().get("id").unwrap_or_default(), load_patient_thread);
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    let refused = notice_code::<SendNotice>();
    let saved = move || draft_text(query.read().get("draft"));
    view! {
        <Title text="Conversation | Patient portal"/>
            <p><a href="/messages">"← Messages"</a></p>
            {move || sent().then(|| view! { <p class="notice notice--status" role="status">"Your message has been sent."</p> })}
            {refusal()}
            {move || saved().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            <Loaded resource=data heading="Conversation" view={move |data| {
                    let d = data;
                    {
                        let limit = limit_notice(&d.quota, refused());
                        view! { <PatientThread d limit/> }.into_any()
                    }
            }}/>
    }
}

#[component]
fn PatientThread(d: ThreadPageData, limit: Option<AnyView>) -> impl IntoView {
    let t = d.thread;
    let org = org_info();
    let thread_id = t.id.to_string();
    let body_max = BODY_MAX.to_string();
    view! {
        <h1>{t.subject.clone()}</h1>
        <p class="thread__meta">{t.topic.clone()}</p>
        {t.overdue.then(|| view! {
            <p class="notice notice--alert" role="alert">
                {format!("We have not answered your message within {} business days. We are sorry. Please call the office at {}.", d.reply_days, org.phone)}
            </p>
        })}
        <MessageList messages=t.messages reader=ThreadReader::Patient/>
        <section id="reply" aria-labelledby="reply-heading" class="section">
            <h2 id="reply-heading">"Reply"</h2>
            {limit}
            <ReplyPromise days=d.reply_days/>
            <PostForm<SendMessage> multipart=true class="form compose">
                <input type="hidden" name="thread" value=thread_id/>
                <div class="field">
                    <label for="body">"Your reply"</label>
                    <textarea id="body" name="body" rows="8" required maxlength=body_max aria-describedby="body-help">{d.draft.body.clone()}</textarea>
                    <p id="body-help" class="hint">"At most 5,000 characters. Please do not use messages for urgent matters."</p>
                </div>
                <Attachments/>
                <Acknowledgement/>
                <div class="form__actions">
                    <button type="submit" name="action" value="send" class="button button--primary">"Send reply"</button>
                    <button type="submit" name="action" value="save" class="button" formnovalidate>"Save draft"</button>
                    {d.draft.updated_at.is_some().then(|| view! {
                        <button type="submit" name="action" value="discard" class="button button--quiet" formnovalidate>"Discard draft"</button>
                    })}
                </div>
            </PostForm<SendMessage>>
        </section>
    }
}
