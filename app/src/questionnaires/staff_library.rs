//! Staff side of questionnaires, the library: the forms with their latest versions, import of a
//! FHIR Questionnaire as a new form or as the next version of one (a refused import is kept
//! for another try), the shipped samples, and the patient search that leads to assigning.

use super::form::FormKind;
use super::staff_pages::PatientName;
use super::FormSummary;
#[cfg(feature = "ssr")]
use crate::access::Permission;
#[cfg(feature = "ssr")]
use crate::context::StaffCtx;
use crate::error::AppError;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::{Loaded, PostForm};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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
            <Loaded resource=data view=move |d| view! { <Library d q=q.clone()/> }/>
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
                <PostForm<ImportQuestionnaire> multipart=true class="form" clone:refused_message>
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
                </PostForm<ImportQuestionnaire>>
                {refused_message.map(|_| view! {
                    <PostForm<ClearImport>><button type="submit" class="button button--quiet">"Clear the form"</button></PostForm<ClearImport>>
                })}
                <PostForm<AddSamples>>
                    <button type="submit" class="button button--quiet">"Add the sample forms shipped with the portal"</button>
                </PostForm<AddSamples>>
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
