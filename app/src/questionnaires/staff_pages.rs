//! Staff side of questionnaires (the library is in `staff_library`): a patient's forms and
//! assigning one (surveys refused while the patient has stopped them, with the reason on the
//! screen), and the answers per
//! patient and per form, each with its version and submission time, exported as a FHIR
//! QuestionnaireResponse from `/staff/questionnaires/fhir/response/{id}.json`.

use super::form::FormKind;
use super::render::AnswerList;
use super::{AnswerAccess, AssignmentState, AssignmentSummary, FillView, FormSummary, REASON_MAX_CHARS, REASON_MIN_CHARS};
#[cfg(feature = "ssr")]
use crate::access::Permission;
#[cfg(feature = "ssr")]
use crate::context::StaffCtx;
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::{Loaded, PostForm};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// A patient as the questionnaire pages name them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientName {
    pub id: String,
    pub name: String,
    pub mrn: String,
    pub date_of_birth: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientQuestionnaires {
    pub patient: PatientName,
    pub surveys_on: bool,
    pub assignments: Vec<AssignmentSummary>,
    /// The forms this person may assign.
    pub forms: Vec<FormSummary>,
    pub can_read_answers: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormResponses {
    pub id: String,
    pub title: String,
    /// The responses of the patients whose answers the reader may read.
    pub responses: Vec<ResponseItem>,
    /// How many other patients answered (not named: outside the reader's care teams).
    pub others: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseItem {
    pub id: String,
    pub patient: String,
    pub mrn: String,
    pub version: i64,
    pub submitted_at: String,
    pub result: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseData {
    pub assignment: AssignmentSummary,
    /// The answers; none until a clinician outside the care team gives a reason.
    pub answers: Option<FillView>,
    pub access: AnswerAccess,
    pub patient: PatientName,
}

#[cfg(feature = "ssr")]
fn patient_name(p: super::server::PatientLine) -> PatientName {
    PatientName { id: p.id, name: p.name, mrn: p.mrn, date_of_birth: p.date_of_birth }
}

#[server(endpoint = "staff/questionnaires/patient")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_patient_questionnaires(id: String) -> Result<PatientQuestionnaires, AppError> {
    use crate::patients::PatientId;
    use crate::platform::request;
    let cx = StaffCtx::get_any(&[Permission::AssignForms])?;
    let patient_id = PatientId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let patient = super::server::patient_line(&cx.state.db, &patient_id).await?.ok_or_else(|| request::refuse(AppError::NotFound))?;
    let kinds: Vec<FormKind> = FormKind::ALL.into_iter().filter(|k| super::may_assign(cx.role, *k)).collect();
    let now = cx.now;
    let mut assignments = super::server::assignments_of(&cx.state.db, &cx.state.settings, &patient_id, &kinds, now).await?;
    let reads =
        cx.role.can(Permission::ReadAnswers) && super::server::answer_access(&cx.state.db, &cx.state.settings, cx.user(), &patient_id, now).await?.reads();
    if !reads {
        // A lesson's check result is an answer: only those who read the answers see it.
        for a in &mut assignments {
            a.result = None;
        }
    }
    let forms = super::server::library(&cx.state.db, &cx.state.settings).await?.into_iter().filter(|f| kinds.contains(&f.kind)).collect();
    let mut conn = cx.state.db.pool.acquire().await.map_err(AppError::from)?;
    let surveys_on = super::server::surveys_on(&mut conn, &patient_id).await?;
    drop(conn);
    super::server::audit_listed(&cx.state.db, cx.user(), "patient", patient_id.as_str(), cx.addr, now).await?;
    Ok(PatientQuestionnaires { patient: patient_name(patient), surveys_on, assignments, forms, can_read_answers: cx.role.can(Permission::ReadAnswers) })
}

#[server(endpoint = "staff/questionnaires/assign")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn assign_questionnaire(patient: String, form: String, due: String, note: String) -> Result<(), AppError> {
    use super::server::{assign, QuestionnaireError};
    use crate::platform::request;
    let cx = StaffCtx::get_any(&[Permission::AssignForms])?;
    let back = format!("/staff/questionnaires/patients/{patient}");
    let due = match due.trim() {
        "" => None,
        d => match crate::dates::CalendarDate::parse(d) {
            Some(d) => Some(d),
            None => {
                crate::platform::request::redirect(&format!("{back}?refused=due#assign"));
                return Ok(());
            }
        },
    };
    let note = Some(note.trim()).filter(|n| !n.is_empty());
    let pid = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    match assign(&cx.state.db, &cx.state.settings, cx.user(), cx.role, &pid, &form, due, note, cx.addr, cx.now).await {
        Ok(_) => crate::platform::request::redirect(&format!("{back}?assigned=1")),
        Err(QuestionnaireError::SurveysOff) => crate::platform::request::redirect(&format!("{back}?refused=surveys#assign")),
        Err(QuestionnaireError::NotAllowed) => crate::platform::request::redirect(&format!("{back}?refused=role#assign")),
        Err(QuestionnaireError::DueDate) => crate::platform::request::redirect(&format!("{back}?refused=due#assign")),
        Err(QuestionnaireError::Note) => crate::platform::request::redirect(&format!("{back}?refused=note#assign")),
        Err(QuestionnaireError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(QuestionnaireError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

/// The submitted answers to one form, every version. Audited.
#[server(endpoint = "staff/questionnaires/form")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_form_responses(id: String) -> Result<FormResponses, AppError> {
    use crate::platform::request;
    let cx = StaffCtx::get_any(&[Permission::ReadAnswers])?;
    let now = cx.now;
    let (title, lines, others) =
        super::server::form_responses(&cx.state.db, &cx.state.settings, cx.user(), &id, now).await?.ok_or_else(|| request::refuse(AppError::NotFound))?;
    super::server::audit_listed(&cx.state.db, cx.user(), "questionnaire-form", &id, cx.addr, now).await?;
    Ok(FormResponses {
        id,
        title,
        others,
        responses: lines
            .into_iter()
            .map(|l| ResponseItem { id: l.id, patient: l.patient, mrn: l.mrn, version: l.version, submitted_at: l.submitted_at, result: l.result })
            .collect(),
    })
}

/// One assignment's answers, for a clinician of the patient's care team or one who gave a
/// reason (audited); any other clinician gets the assignment without its answers, and the page
/// asks for a reason.
#[server(endpoint = "staff/questionnaires/response")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_response(id: String) -> Result<ResponseData, AppError> {
    use crate::platform::request;
    let cx = StaffCtx::get_any(&[Permission::ReadAnswers])?;
    let user = cx.user();
    let now = cx.now;
    let patient = super::server::assignment_patient(&cx.state.db, &id).await?.ok_or_else(|| request::refuse(AppError::NotFound))?;
    let access = super::server::answer_access(&cx.state.db, &cx.state.settings, user, &patient, now).await?;
    let (assignment, answers, patient) = super::server::response_view(&cx.state.db, &cx.state.settings, user, &id, &access, cx.addr, now)
        .await?
        .ok_or_else(|| request::refuse(AppError::NotFound))?;
    Ok(ResponseData { assignment, answers, access, patient: patient_name(patient) })
}

/// A clinician outside the patient's care team gives the reason they need the answers of the
/// patient of `assignment` ("break the glass"): recorded, audited, shown on the security page;
/// the patient's answers then open for an hour. A reason too short is refused (the form comes
/// back empty with the rule: the reason never travels in an address).
#[server(endpoint = "staff/questionnaires/reason")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn give_reason(assignment: String, reason: String) -> Result<(), AppError> {
    use super::server::{break_the_glass, ReasonError};
    use crate::platform::request;
    let cx = StaffCtx::get_any(&[Permission::ReadAnswers])?;
    let back = format!("/staff/questionnaires/responses/{assignment}");
    match break_the_glass(&cx.state.db, cx.user(), &assignment, &reason, cx.addr, cx.now).await {
        Ok(_) | Err(ReasonError::NotNeeded) => crate::platform::request::redirect(&back),
        Err(ReasonError::TooShort) => crate::platform::request::redirect(&format!("{back}?reason=short#reason")),
        Err(ReasonError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(ReasonError::Db(e)) => return Err(e.into()),
    }
    Ok(())
}

#[component]
pub fn PatientQuestionnairesPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_patient_questionnaires);
    let query = use_query_map();
    let assigned = move || query.read().get("assigned").is_some();
    let refused = move || {
        query.read().get("refused").map(|r| match r.as_str() {
            "surveys" => "Not assigned: this patient has chosen not to receive visit surveys.",
            "role" => "Not assigned: your role cannot assign this kind of form.",
            "due" => "Not assigned: enter the due date like 2026-03-31, today or later.",
            "note" => "Not assigned: the note is limited to 500 characters.",
            _ => "Not assigned.",
        })
    };
    view! {
        <Title text="Patient questionnaires | Staff portal"/>
            <p><a href="/staff/questionnaires">"← Questionnaires"</a></p>
            {move || assigned().then(|| view! { <p class="notice notice--status" role="status">"Assigned. The patient has been told something new waits in the portal."</p> })}
            {move || refused().map(|t| alert(t.to_string()))}
            <Loaded resource=data heading="Patient questionnaires" view=|d| view! { <PatientDetail d/> }/>
    }
}

#[component]
fn PatientDetail(d: PatientQuestionnaires) -> impl IntoView {
    let surveys_note = if d.surveys_on {
        "This patient receives visit surveys."
    } else {
        "This patient has chosen not to receive visit surveys: no survey can be assigned to them. Clinical questionnaires and lessons are not affected."
    };
    let patient_id = d.patient.id.clone();
    let surveys_on = d.surveys_on;
    let can_read = d.can_read_answers;
    view! {
        <h1>{format!("Questionnaires: {}", d.patient.name)}</h1>
        <p>{format!("MRN {} · born {}", d.patient.mrn, d.patient.date_of_birth)}</p>
        <p class={if surveys_on { "" } else { "notice notice--info" }} id="survey-preference">{surveys_note}</p>
        <section class="section" aria-labelledby="assign">
            <h2 id="assign">"Assign a form"</h2>
            {if d.forms.is_empty() {
                view! { <p>"No form you can assign is in the library."</p> }.into_any()
            } else {
                view! {
                    <PostForm<AssignQuestionnaire> class="form">
                        <input type="hidden" name="patient" value=patient_id/>
                        <div class="field">
                            <label for="assign-form">"Form"</label>
                            <select id="assign-form" name="form" aria-describedby="survey-preference">
                                {d.forms.into_iter().map(|f| {
                                    let blocked = f.kind == FormKind::Survey && !surveys_on;
                                    let text = format!("{} ({}, version {}){}", f.title, f.kind.label(), f.version, if blocked { " — patient opted out of surveys" } else { "" });
                                    view! { <option value=f.id disabled=blocked>{text}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="assign-due">"Due date (optional)"</label>
                            <input id="assign-due" name="due" type="date"/>
                        </div>
                        <div class="field">
                            <label for="assign-note">"Note to the patient (optional)"</label>
                            <textarea id="assign-note" name="note" rows="2" maxlength="500"></textarea>
                            <p class="hint">"The e-mail to the patient only says something new waits in the portal; the note is shown in the portal."</p>
                        </div>
                        <p><button type="submit" class="button button--primary">"Assign"</button></p>
                    </PostForm<AssignQuestionnaire>>
                }.into_any()
            }}
        </section>
        <section class="section" aria-labelledby="assigned">
            <h2 id="assigned">"Assigned"</h2>
            {if d.assignments.is_empty() {
                view! { <p>"Nothing assigned yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table">
                        <caption class="visually-hidden">"Assigned forms, newest first"</caption>
                        <thead><tr>
                            <th scope="col">"Form"</th><th scope="col">"Version"</th><th scope="col">"Assigned"</th>
                            <th scope="col">"Due"</th><th scope="col">"State"</th><th scope="col">"Submitted"</th>
                        </tr></thead>
                        <tbody>
                            {d.assignments.into_iter().map(|a| {
                                let title = if can_read && a.state == AssignmentState::Submitted {
                                    let href = format!("/staff/questionnaires/responses/{}", a.id);
                                    view! { <a href=href>{a.title.clone()}</a> }.into_any()
                                } else {
                                    view! { {a.title.clone()} }.into_any()
                                };
                                view! {
                                    <tr>
                                        <th scope="row">{title}</th>
                                        <td>{a.version}</td>
                                        <td>{format!("{} by {}", a.assigned_at, a.assigned_by)}</td>
                                        <td>{a.due_date.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{a.state.label()}</td>
                                        <td>{a.submitted_at.clone().unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn FormResponsesPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_form_responses);
    view! {
        <Title text="Answers | Staff portal"/>
            <p><a href="/staff/questionnaires">"← Questionnaires"</a></p>
            <Loaded resource=data heading="Answers" view=|d| view! {
                <h1>{format!("Answers: {}", d.title)}</h1>
                {(d.others > 0).then(|| view! {
                    <p class="notice notice--info">{format!(
                        "{} more {} from patients outside your care teams. To read a patient's answers from outside the care team, open them from the patient's page and give your reason; it is recorded.",
                        d.others, if d.others == 1 { "response is" } else { "responses are" }
                    )}</p>
                })}
                {if d.responses.is_empty() {
                    view! { <p>"No answers submitted yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                        <table class="table">
                            <caption class="visually-hidden">"Submitted answers, newest first"</caption>
                            <thead><tr><th scope="col">"Patient"</th><th scope="col">"Version"</th><th scope="col">"Submitted"</th><th scope="col">"Result"</th></tr></thead>
                            <tbody>
                                {d.responses.into_iter().map(|r| {
                                    let href = format!("/staff/questionnaires/responses/{}", r.id);
                                    view! {
                                        <tr>
                                            <th scope="row"><a href=href>{format!("{} (MRN {})", r.patient, r.mrn)}</a></th>
                                            <td>{r.version}</td>
                                            <td>{r.submitted_at}</td>
                                            <td>{r.result.unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any()
                }}
            }/>
    }
}

#[component]
pub fn ResponsePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_response);
    let query = use_query_map();
    let short = move || query.read().get("reason").is_some();
    view! {
        <Title text="Answers | Staff portal"/>
            <p><a href="/staff/questionnaires">"← Questionnaires"</a></p>
            <Loaded resource=data heading="Answers" view=move |d| view! { <Response d short=short()/> }/>
    }
}

#[component]
fn Response(d: ResponseData, short: bool) -> impl IntoView {
    let a = d.assignment;
    let submitted = a.state == AssignmentState::Submitted;
    let export = format!("/staff/questionnaires/fhir/response/{}.json", a.id);
    let back = format!("/staff/questionnaires/patients/{}", d.patient.id);
    let under_reason = match &d.access {
        AnswerAccess::Reason { until } => Some(format!(
            "You are not on this patient's care team. You are reading these answers under the reason you gave, until {until}; every view is recorded."
        )),
        _ => None,
    };
    let body = match d.answers {
        Some(view) if submitted => view! {
            <p><a class="button" href=export download="">"Export as FHIR QuestionnaireResponse (JSON)"</a></p>
            <AnswerList view/>
        }
        .into_any(),
        Some(_) => view! { <p>"The answers are shown once the patient submits them."</p> }.into_any(),
        None => {
            let min = REASON_MIN_CHARS.to_string();
            let max = REASON_MAX_CHARS.to_string();
            view! {
                <section class="section" aria-labelledby="reason-heading" id="reason">
                    <h2 id="reason-heading">"Why do you need these answers?"</h2>
                    <p>"You are not on this patient's care team, so their answers are not shown. If your work needs them (for example, you are seeing the patient today), say why. "
                       "Your reason is recorded with your name and the time, shown to the security officers, and opens this patient's answers to you for an hour."</p>
                    {short.then(|| alert(format!("Please say why you need these answers, in at least {REASON_MIN_CHARS} characters.")))}
                    <PostForm<GiveReason> class="form">
                        <input type="hidden" name="assignment" value=a.id.clone()/>
                        <div class="field">
                            <label for="reason-text">"Reason"</label>
                            <textarea id="reason-text" name="reason" rows="3" required minlength=min maxlength=max aria-describedby="reason-hint"></textarea>
                            <p class="hint" id="reason-hint">{format!("At least {REASON_MIN_CHARS} characters.")}</p>
                        </div>
                        <p><button type="submit" class="button button--primary">"Record my reason and show the answers"</button></p>
                    </PostForm<GiveReason>>
                </section>
            }
            .into_any()
        }
    };
    view! {
        <h1>{a.title.clone()}</h1>
        {under_reason.map(|t| view! { <p class="notice notice--info">{t}</p> })}
        <dl class="details">
            <dt>"Patient"</dt><dd><a href=back>{format!("{} (MRN {})", d.patient.name, d.patient.mrn)}</a></dd>
            <dt>"Form version"</dt><dd>{a.version}</dd>
            <dt>"Assigned"</dt><dd>{format!("{} by {}", a.assigned_at, a.assigned_by)}</dd>
            <dt>"Submitted"</dt><dd>{a.submitted_at.clone().unwrap_or_else(|| format!("Not yet ({})", a.state.label()))}</dd>
            {a.result.clone().map(|r| view! { <dt>"Result"</dt><dd>{r}</dd> })}
        </dl>
        {body}
    }
}
