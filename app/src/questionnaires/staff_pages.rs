//! Staff side of questionnaires: the library (import a FHIR Questionnaire as a new form or as
//! the next version of one, export), finding a patient and assigning a form (surveys refused
//! while the patient has stopped them, with the reason on the screen), and the answers per
//! patient and per form, each with its version and submission time, exported as a FHIR
//! QuestionnaireResponse from `/staff/questionnaires/fhir/response/{id}.json`.

use super::form::FormKind;
use super::render::AnswerList;
use super::{AnswerAccess, AssignmentState, AssignmentSummary, FillView, FormSummary, REASON_MAX_CHARS, REASON_MIN_CHARS};
#[cfg(feature = "ssr")]
use crate::access::Permission;
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::search::{found, posted_search, SearchForm};
#[cfg(feature = "ssr")]
use crate::platform::context::StaffCtx;
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
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
pub struct LibraryData {
    pub forms: Vec<FormSummary>,
    pub found: Vec<PatientName>,
    pub can_import: bool,
    pub can_assign: bool,
    pub can_read_answers: bool,
    /// A refused import: (kind, form id, JSON, message).
    pub refused: Option<(String, Option<String>, String, String)>,
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

#[server(endpoint = "staff/questionnaires/library")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_library(q: String) -> Result<LibraryData, AppError> {
    let cx = StaffCtx::get_any(&[Permission::EditFormLibrary, Permission::AssignForms])?;
    let can_import = cx.role.can(Permission::EditFormLibrary);
    let can_assign = cx.role.can(Permission::AssignForms);
    let forms = super::server::library(&cx.state.db, &cx.state.settings).await?;
    let found = if can_assign && !q.trim().is_empty() {
        crate::patients::server::search(&cx.state.db, &q)
            .await?
            .into_iter()
            .map(|p| PatientName { name: p.full_name(), mrn: p.mrn.clone(), date_of_birth: p.date_of_birth.clone(), id: p.id.to_string() })
            .collect()
    } else {
        Vec::new()
    };
    let refused = if can_import { super::server::import_draft(&cx.state.db, cx.user()).await? } else { None };
    Ok(LibraryData { forms, found, can_import, can_assign, can_read_answers: cx.role.can(Permission::ReadAnswers), refused })
}

/// Imports a Questionnaire (the JSON in the text box, or a file): a new form of `kind`, or the
/// next version of `form`. A refusal keeps the JSON and the reason for the page.
#[server(input = MultipartFormData, endpoint = "staff/questionnaires/import")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn import_questionnaire(data: MultipartData) -> Result<(), AppError> {
    use super::server::{discard_import_draft, import_version, save_import_draft, QuestionnaireError};

    let cx = StaffCtx::get_any(&[Permission::EditFormLibrary])?;
    let user = cx.user();
    let fields = super::patient_pages::read_fields(data, super::fhir::JSON_MAX * 2 + 10_000).await?;
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let file = get("file");
    let source = if file.trim().is_empty() { get("json") } else { file };
    let kind_text = get("kind");
    let form_id = Some(get("form")).filter(|f| !f.is_empty());
    let outcome = match FormKind::parse(&kind_text) {
        None => Err("Choose what kind of form this is.".to_string()),
        Some(_) if source.trim().is_empty() => Err("Paste the Questionnaire JSON or choose a file.".to_string()),
        Some(kind) => match import_version(&cx.state.db, user, kind, form_id.as_deref(), &source, cx.addr, cx.now).await {
            Ok(done) => Ok(done),
            Err(QuestionnaireError::Db(e)) => return Err(e.into()),
            Err(e) => Err(format!("Not imported: {e} Nothing was stored.")),
        },
    };
    match outcome {
        Ok((id, version)) => {
            discard_import_draft(&cx.state.db, user).await?;
            crate::platform::request::redirect(&format!("/staff/questionnaires?imported={version}#form-{id}"));
        }
        Err(message) => {
            save_import_draft(&cx.state.db, user, &kind_text, form_id.as_deref(), &source, &message, cx.now).await?;
            crate::platform::request::redirect("/staff/questionnaires?refused=1#import");
        }
    }
    Ok(())
}

#[server(endpoint = "staff/questionnaires/clear")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn clear_import() -> Result<(), AppError> {
    let cx = StaffCtx::get_any(&[Permission::EditFormLibrary])?;
    super::server::discard_import_draft(&cx.state.db, cx.user()).await?;
    crate::platform::request::redirect("/staff/questionnaires#import");
    Ok(())
}

#[server(endpoint = "staff/questionnaires/samples")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn add_samples() -> Result<(), AppError> {
    use super::server::QuestionnaireError;
    let cx = StaffCtx::get_any(&[Permission::EditFormLibrary])?;
    match super::server::load_samples(&cx.state.db, Some(cx.user()), cx.now).await {
        Ok(n) => crate::platform::request::redirect(&format!("/staff/questionnaires?samples={n}")),
        Err(QuestionnaireError::Db(e)) => return Err(e.into()),
        Err(e) => return Err(AppError::Invalid(e.to_string())),
    }
    Ok(())
}

/// A patient's questionnaires as staff see them (the front desk: surveys only), with the forms
/// they may assign. Audited.
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
    super::server::audit_listed(&cx.state.db, cx.user(), "patient", &patient_id.as_str(), cx.addr, now).await?;
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

fn kind_options(selected: Option<&str>) -> impl IntoView {
    FormKind::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected={selected == Some(k.as_str())}>{k.label()}</option> }).collect_view()
}

#[component]
pub fn LibraryPage() -> impl IntoView {
    let query = use_query_map();
    // The patient search is posted to the page (`layout::search`): nothing of it in the address.
    let q = posted_search();
    let term = q.clone();
    let data = Resource::new(move || term.clone(), load_library);
    let status = move || {
        let query = query.read();
        if let Some(v) = query.get("imported") {
            Some(format!("Imported and published as version {v}."))
        } else {
            query.get("samples").map(|n| format!("{n} sample forms added."))
        }
    };
    view! {
        <Title text="Questionnaires | Staff portal"/>
            <h1>"Questionnaires"</h1>
            {move || status().map(|t| view! { <p class="notice notice--status" role="status">{t}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let q = q.clone();
                    Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <Library d q/> }.into_any(),
                        Err(e) => alert(e.to_string()).into_any(),
                    }
                })}}
            </Suspense>
    }
}

#[component]
fn Library(d: LibraryData, q: String) -> impl IntoView {
    let searched = !q.trim().is_empty();
    let forms = d.forms.clone();
    let can_read = d.can_read_answers;
    let can_import = d.can_import;
    let assign = d.can_assign.then(|| {
        view! {
            <section class="section" aria-labelledby="assign-heading">
                <h2 id="assign-heading">"Assign to a patient"</h2>
                <SearchForm action="/staff/questionnaires" label="MRN, birth date or name" button="Find patient" value=q/>
                {searched.then(|| found(d.found.len(), "patient", "patients"))}
                <ul>
                    {d.found.into_iter().map(|p| {
                        let href = format!("/staff/questionnaires/patients/{}", p.id);
                        view! { <li><a href=href>{format!("{} · MRN {} · born {}", p.name, p.mrn, p.date_of_birth)}</a></li> }
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    let (refused_kind, refused_form, refused_json, refused_message) = match d.refused {
        Some((k, f, j, m)) => (Some(k), f, j, Some(m)),
        None => (None, None, String::new(), None),
    };
    let import = can_import.then(|| {
        let form_choices = forms.clone();
        view! {
            <section class="section" aria-labelledby="import">
                <h2 id="import">"Import a form (FHIR R4 Questionnaire)"</h2>
                <p class="hint">"Groups, display text, string, text, integer, decimal, boolean, date, choice and open-choice items with answer options, "
                   "required, repeats (choices), min/max length and value, and enableWhen. Anything else is refused with the item and the feature named; "
                   "nothing is stored unless the whole form imports. Importing into an existing form publishes its next version; answers keep the version they were given on."</p>
                {refused_message.clone().map(|m| view! {
                    <div class="notice notice--alert" role="alert" id="import-error"><p>{m}</p></div>
                })}
                <form method="post" enctype="multipart/form-data" action={<ImportQuestionnaire as leptos::server_fn::ServerFn>::PATH} class="form">
                    <div class="field">
                        <label for="import-kind">"Kind"</label>
                        <select id="import-kind" name="kind">{kind_options(refused_kind.as_deref())}</select>
                        <p class="hint">"For a new version, the form keeps its kind."</p>
                    </div>
                    <div class="field">
                        <label for="import-form">"Import as"</label>
                        <select id="import-form" name="form">
                            <option value="">"A new form"</option>
                            {form_choices.into_iter().map(|f| {
                                let selected = refused_form.as_deref() == Some(f.id.as_str());
                                view! { <option value=f.id.clone() selected=selected>{format!("Version {} of {}", f.version + 1, f.title)}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="import-json">"Questionnaire JSON"</label>
                        <textarea id="import-json" name="json" rows="10" spellcheck="false"
                            aria-describedby=refused_message.as_ref().map(|_| "import-error")>{refused_json}</textarea>
                    </div>
                    <div class="field">
                        <label for="import-file">"Or a file (.json)"</label>
                        <input id="import-file" name="file" type="file" accept=".json,application/json,application/fhir+json"/>
                    </div>
                    <p><button type="submit" class="button button--primary">"Import and publish"</button></p>
                </form>
                {refused_message.map(|_| view! {
                    <form method="post" action={<ClearImport as leptos::server_fn::ServerFn>::PATH}><button type="submit" class="button button--quiet">"Clear the form"</button></form>
                })}
                <form method="post" action={<AddSamples as leptos::server_fn::ServerFn>::PATH}>
                    <button type="submit" class="button button--quiet">"Add the sample forms shipped with the portal"</button>
                </form>
            </section>
        }
    });
    view! {
        {assign}
        <section class="section" aria-labelledby="library">
            <h2 id="library">"Library"</h2>
            {if forms.is_empty() {
                view! { <p>"No forms yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table">
                        <caption class="visually-hidden">"Forms, by title"</caption>
                        <thead><tr>
                            <th scope="col">"Title"</th><th scope="col">"Kind"</th><th scope="col">"Version"</th>
                            <th scope="col">"Published"</th><th scope="col">"Answers"</th>{can_import.then(|| view! { <th scope="col">"FHIR"</th> })}
                        </tr></thead>
                        <tbody>
                            {forms.into_iter().map(|f| {
                                let answers = if can_read {
                                    let href = format!("/staff/questionnaires/forms/{}", f.id);
                                    view! { <a href=href>{format!("{} submitted", f.submitted)}<span class="visually-hidden">{format!(" for {}", f.title)}</span></a> }.into_any()
                                } else {
                                    view! { {format!("{} submitted", f.submitted)} }.into_any()
                                };
                                let export = can_import.then(|| {
                                    let href = format!("/staff/questionnaires/fhir/questionnaire/{}.json", f.id);
                                    let label = format!("Export {} as FHIR JSON", f.title);
                                    view! { <td><a href=href download="" aria-label=label>"Export"</a></td> }
                                });
                                view! {
                                    <tr id=format!("form-{}", f.id)>
                                        <th scope="row">{f.title.clone()}</th>
                                        <td>{f.kind.label()}</td>
                                        <td>{f.version}</td>
                                        <td>{f.published_at.clone()}</td>
                                        <td>{answers}</td>
                                        {export}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
        {import}
    }
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
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <PatientDetail d/> }.into_any(),
                        Err(e) => view! { <h1>"Patient questionnaires"</h1>{alert(e.to_string())} }.into_any(),
                    }
                })}
            </Suspense>
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
                    <form method="post" action={<AssignQuestionnaire as leptos::server_fn::ServerFn>::PATH} class="form">
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
                    </form>
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
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! {
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
                        }.into_any(),
                        Err(e) => view! { <h1>"Answers"</h1>{alert(e.to_string())} }.into_any(),
                    }
                })}
            </Suspense>
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
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <Response d short=short()/> }.into_any(),
                        Err(e) => view! { <h1>"Answers"</h1>{alert(e.to_string())} }.into_any(),
                    }
                })}
            </Suspense>
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
                    <form method="post" action={<GiveReason as leptos::server_fn::ServerFn>::PATH} class="form">
                        <input type="hidden" name="assignment" value=a.id.clone()/>
                        <div class="field">
                            <label for="reason-text">"Reason"</label>
                            <textarea id="reason-text" name="reason" rows="3" required minlength=min maxlength=max aria-describedby="reason-hint"></textarea>
                            <p class="hint" id="reason-hint">{format!("At least {REASON_MIN_CHARS} characters.")}</p>
                        </div>
                        <p><button type="submit" class="button button--primary">"Record my reason and show the answers"</button></p>
                    </form>
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
