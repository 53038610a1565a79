//! My Medical Record → Questionnaires (SPEC R-QST-1 … R-QST-3): what waits, is in progress and
//! is done, with due dates; the preference "Send me visit surveys"; a form to fill (draft, come
//! back, submit; read-only once submitted) and lessons to read. Plain HTML forms throughout;
//! messages come back by short query codes, answers never go into a URL.

use super::checks::AnswerChecks;
use super::form::FormKind;
use super::render::{AnswerList, ErrorSummary, FormFields};
use super::{AssignmentState, AssignmentSummary, FillView, MyQuestionnaires};
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::{Loaded, PostForm};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[server(endpoint = "questionnaires/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_my_questionnaires() -> Result<MyQuestionnaires, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    Ok(super::server::my_questionnaires(&state.db, &state.settings, patient, cx.now).await?)
}

/// How many assignments wait for the patient or are in progress (for the home page).
#[server(endpoint = "questionnaires/open-count")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn open_questionnaires() -> Result<i64, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    Ok(super::server::open_count(&state.db, patient).await?)
}

/// One assignment to fill or read; `check` = `submit` shows the messages of a refused
/// submission (required items too).
#[server(endpoint = "questionnaires/open")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_my_form(id: String, check: Option<String>) -> Result<FillView, AppError> {
    use super::answers::Mode;
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let mode = if check.as_deref() == Some("submit") { Mode::Submit } else { Mode::Draft };
    super::server::open_for_patient(&state.db, &state.settings, &session.viewer.user_id, patient, &id, mode, cx.addr, cx.now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))
}

/// Reads a questionnaire form's text fields in order (a repeating choice posts its name once per
/// option chosen), at most `limit` bytes in all.
#[cfg(feature = "ssr")]
pub(super) async fn read_fields(data: MultipartData, limit: usize) -> Result<Vec<(String, String)>, AppError> {
    use crate::platform::multipart::{read, Limits, Refused};
    match read(data, Limits::text(limit, limit)).await {
        Ok(form) => Ok(form.fields),
        Err(Refused::TooMuch) => Err(crate::platform::request::refuse(AppError::Invalid("That is more than this form takes.".into()))),
        Err(refused) => Err(refused.into()),
    }
}

/// Saves the answers: `action` = `draft` (keep them and come back) or `submit`.
#[server(input = MultipartFormData, endpoint = "questionnaires/save")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn save_answers(data: MultipartData) -> Result<(), AppError> {
    use super::server::{save, QuestionnaireError, Saved};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let fields = read_fields(data, 300_000).await?;
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let id = get("assignment");
    let submit = get("action") == "submit";
    match save(&state.db, &session.viewer.user_id, patient, &id, &fields, submit, cx.addr, cx.now).await {
        // Not a typed notice: the code is the assignment's id (kept as it travels today), and the
        // list thanks the patient for any `done`.
        Ok(Saved::Submitted) => crate::platform::request::redirect(&format!("/record/questionnaires?done={id}")),
        Ok(Saved::Draft) => crate::platform::request::redirect(&format!("/record/questionnaires/{id}?saved=1")),
        Ok(Saved::Invalid) => crate::platform::request::redirect(&format!("/record/questionnaires/{id}?check=submit#errors")),
        Err(QuestionnaireError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(QuestionnaireError::Submitted) => crate::platform::request::redirect(&format!("/record/questionnaires/{id}?already=1")),
        Err(QuestionnaireError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

/// "Send me visit surveys": `surveys` is `on` or `off`.
#[server(endpoint = "questionnaires/surveys")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_survey_preference(surveys: String) -> Result<(), AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let on = match surveys.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            crate::platform::request::redirect("/record/questionnaires?surveys=choose#surveys");
            return Ok(());
        }
    };
    super::server::set_surveys(&state.db, &session.viewer.user_id, patient, on, cx.addr, cx.now).await?;
    crate::platform::request::redirect(&format!("/record/questionnaires?surveys={surveys}#surveys"));
    Ok(())
}

#[component]
pub fn QuestionnairesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_my_questionnaires());
    let query = use_query_map();
    let status = move || {
        let q = query.read();
        if q.get("done").is_some() {
            Some("Thank you: your answers were sent to your care team.")
        } else {
            match q.get("surveys").as_deref() {
                Some("on") => Some("You will receive visit surveys."),
                Some("off") => Some("You will not receive visit surveys. Questionnaires and lessons from your care team still come."),
                _ => None,
            }
        }
    };
    let choose = move || query.read().get("surveys").as_deref() == Some("choose");
    view! {
        <Title text="Questionnaires | Patient portal"/>
            <p><a href="/record">"← My Medical Record"</a></p>
            <h1>"Questionnaires"</h1>
            {move || status().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            {move || choose().then(|| alert("Please choose whether to receive visit surveys.".to_string()))}
            <Loaded resource=data view=|d| view! { <MyList d/> }/>
    }
}

#[component]
fn MyList(d: MyQuestionnaires) -> impl IntoView {
    let group = |state: AssignmentState| d.assignments.iter().filter(|a| a.state == state).cloned().collect::<Vec<_>>();
    let sections = [
        ("waiting", "Waiting for you", group(AssignmentState::Waiting), "Nothing new waits for you."),
        ("in-progress", "In progress", group(AssignmentState::InProgress), "Nothing in progress."),
        ("done", "Done", group(AssignmentState::Submitted), "Nothing done yet."),
    ];
    let on = d.surveys_on;
    view! {
        {sections.into_iter().map(|(id, heading, list, empty)| view! {
            <section class="section" aria-labelledby=id>
                <h2 id=id>{heading}</h2>
                {if list.is_empty() {
                    view! { <p>{empty}</p> }.into_any()
                } else {
                    view! { <ul class="accounts">{list.into_iter().map(|a| view! { <AssignmentItem a/> }).collect_view()}</ul> }.into_any()
                }}
            </section>
        }).collect_view()}
        <section class="section" aria-labelledby="surveys">
            <h2 id="surveys">"Visit surveys"</h2>
            <p>"After a visit we may ask a few questions about how it went. Questionnaires from your care team and education lessons are not surveys: they come whatever you choose here."</p>
            <PostForm<SetSurveyPreference> class="form">
                <fieldset>
                    <legend>"Send me visit surveys"</legend>
                    <div class="check">
                        <input type="radio" id="surveys-on" name="surveys" value="on" checked=on/>
                        <label for="surveys-on">"Yes, send me visit surveys"</label>
                    </div>
                    <div class="check">
                        <input type="radio" id="surveys-off" name="surveys" value="off" checked=!on/>
                        <label for="surveys-off">"No, do not send me visit surveys"</label>
                    </div>
                </fieldset>
                <p><button type="submit" class="button">"Save survey preference"</button></p>
            </PostForm<SetSurveyPreference>>
        </section>
    }
}

#[component]
fn AssignmentItem(a: AssignmentSummary) -> impl IntoView {
    let href = format!("/record/questionnaires/{}", a.id);
    let action = match (a.state, a.kind) {
        (AssignmentState::Submitted, _) => "View",
        (AssignmentState::InProgress, _) => "Continue",
        (AssignmentState::Waiting, FormKind::Lesson) => "Read",
        (AssignmentState::Waiting, _) => "Start",
    };
    let due = a.due_date.clone().map(|d| if a.overdue { format!("{d} (past due)") } else { d });
    view! {
        <li class="account">
            <h3>{a.title.clone()}</h3>
            <dl class="details">
                <dt>"Kind"</dt><dd>{a.kind.label()}</dd>
                {due.map(|d| view! { <dt>"Due"</dt><dd>{d}</dd> })}
                <dt>"From"</dt><dd>{format!("{}, {}", a.assigned_by, a.assigned_at)}</dd>
                {a.note.clone().map(|n| view! { <dt>"Note"</dt><dd>{n}</dd> })}
                {a.saved_at.clone().filter(|_| a.state == AssignmentState::InProgress).map(|s| view! { <dt>"Saved"</dt><dd>{s}</dd> })}
                {a.submitted_at.clone().map(|s| view! { <dt>"Sent"</dt><dd>{s}</dd> })}
                {a.result.clone().map(|r| view! { <dt>"Result"</dt><dd>{r}</dd> })}
            </dl>
            <p><a class="button" href=href>{action}<span class="visually-hidden">{format!(": {}", a.title)}</span></a></p>
        </li>
    }
}

#[component]
pub fn FillPage() -> impl IntoView {
    // The answer checks are an island inside the form's Suspense, which renders after the page's
    // end: the page says so itself, so that it loads the WASM (`layout::scripts`).
    crate::layout::scripts::island_on_page();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let check = move || query.read().get("check");
    let form = Resource::new(move || (id(), check()), |(id, check)| load_my_form(id, check));
    let saved = move || query.read().get("saved").is_some();
    let already = move || query.read().get("already").is_some();
    view! {
        <Title text="Questionnaire | Patient portal"/>
            <p><a href="/record/questionnaires">"← Questionnaires"</a></p>
            {move || already().then(|| alert("These answers were already sent and cannot be changed.".to_string()))}
            <Loaded resource=form heading="Questionnaire" view=move |v| view! { <Fill v saved=saved()/> }/>
    }
}

#[component]
fn Fill(v: FillView, saved: bool) -> impl IntoView {
    let a = v.assignment.clone();
    let lesson = a.kind == FormKind::Lesson;
    let description = v.form.description.clone();
    let due = a.due_date.clone().map(|d| if a.overdue { format!("Due {d} (past due)") } else { format!("Due {d}") });
    let head = view! {
        <h1>{a.title.clone()}</h1>
        <p class="hint">{format!("{} · version {}", a.kind.label(), a.version)}{due.map(|d| format!(" · {d}"))}</p>
        {description.map(|d| view! { <p>{d}</p> })}
        {a.note.clone().map(|n| view! { <p>"Note from "{a.assigned_by.clone()}": "{n}</p> })}
    };
    if v.read_only {
        let sent = a.submitted_at.clone().unwrap_or_default();
        return view! {
            {head}
            <p class="notice notice--status">{format!("Sent {sent}. Your answers can no longer be changed.")}</p>
            {a.result.clone().map(|r| view! { <p><strong>"Result: "</strong>{r}</p> })}
            <AnswerList view=v/>
        }
        .into_any();
    }
    let saved_note = (saved && v.errors.is_empty()).then(|| {
        view! { <p class="notice notice--status" role="status">{format!("Draft saved {}. You can come back to it at any time.", a.saved_at.clone().unwrap_or_default())}</p> }
    });
    let submit_label = if lesson { "Complete lesson" } else { "Submit answers" };
    let checked_form = super::checks::rules_of(&v.form);
    view! {
        {head}
        {saved_note}
        <ErrorSummary view=v.clone()/>
        <p class="hint">"Questions marked (required) must be answered before you submit. Some questions appear only after an answer above."</p>
        <PostForm<SaveAnswers> multipart=true class="form questionnaire" novalidate=true>
            <input type="hidden" name="assignment" value=a.id.clone()/>
            <AnswerChecks form=checked_form/>
            <FormFields view=v/>
            <div class="form__actions">
                <button type="submit" name="action" value="submit" class="button button--primary">{submit_label}</button>
                <button type="submit" name="action" value="draft" class="button">"Save draft"</button>
            </div>
        </PostForm<SaveAnswers>>
    }
    .into_any()
}
