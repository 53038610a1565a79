//! The patient's pages of My Medical Record (SPEC R-REC-1, R-REC-4, R-REC-5): the record's
//! home, Test Results, Trends, Medications, Allergies, Immunizations, Health Issues, Visits,
//! Documents, and the Health Summary of the home page. Server-rendered, no script needed: the
//! filter is a GET form, the chart an SVG drawn on the server with its values in a table
//! beside it, flags in words. Documents and Download My Record are files served by the server
//! crate (`/record/documents/{id}`, `/record/download/fhir.json`, gates in `DOWNLOADS`).

use super::api::*;
use super::chart;
use super::model::*;
use crate::error::AppError;
use crate::layout::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

// The pages of each part of the record.
mod health;
mod results;
mod trends;
mod visits;

pub use health::{AllergiesPage, HealthIssuesPage, ImmunizationsPage, MedicationsPage};
pub use results::TestResultsPage;
pub use trends::{TrendPage, TrendsPage};
pub use visits::{DocumentsPage, RecordVisitPage, RecordVisitsPage};

/// Where Download My Record (the FHIR R4 Bundle) is served.
pub const FHIR_DOWNLOAD: &str = "/record/download/fhir.json";

/// Where the printable Health Summary (PDF) is served.
pub const PDF_SUMMARY: &str = "/record/download/summary.pdf";

/// The address of a document's file.
pub fn document_href(id: &ItemId) -> String {
    format!("/record/documents/{id}")
}

/// A record page's data once loaded: its view, or the record's problem in words.
#[component]
fn RecordShown<T, F, V>(resource: Resource<Result<Shown<T>, AppError>>, view: F) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Loaded resource view={move |shown: Shown<T>| match shown {
            Ok(data) => view(data).into_any(),
            Err(problem) => view! { <div class="notice notice--info" role="status"><p>{problem.message()}</p></div> }.into_any(),
        }}/>
    }
}

#[component]
fn Incomplete(incomplete: bool) -> impl IntoView {
    incomplete.then(|| {
        view! { <p class="notice notice--info" role="status">"Some of your record could not be read just now, so this list may be incomplete. Please look again later."</p> }
    })
}

#[component]
fn Back() -> impl IntoView {
    view! { <p class="no-print"><a href="/record">"← My Medical Record"</a></p> }
}

/// A flag in words (never colour alone); nothing for "no flag".
#[component]
fn FlagWords(flag: Flag) -> impl IntoView {
    let class = if flag.is_critical() {
        "flag flag--critical"
    } else if flag.is_abnormal() {
        "flag flag--abnormal"
    } else {
        "flag"
    };
    flag.words().map(|w| view! { <strong class=class>{w}</strong> })
}

fn when_text(w: &Option<When>) -> String {
    w.as_ref().map(|w| w.text.clone()).unwrap_or_else(|| "Not given".into())
}

// ---------------------------------------------------------------------------------------------
// The record's home

#[component]
pub fn RecordPage() -> impl IntoView {
    const SECTIONS: [(&str, &str, &str); 9] = [
        ("/record/results", "Test Results", "Lab and other results with their reference ranges, newest first."),
        ("/record/trends", "Trends", "Numbers such as blood pressure, weight or A1c over time, as a chart and a table."),
        ("/record/medications", "Medications", "What you take now and what you took before, with the instructions."),
        ("/record/allergies", "Allergies", "Allergies and intolerances on record, with the reactions."),
        ("/record/immunizations", "Immunizations", "Vaccines you were given."),
        ("/record/health-issues", "Health Issues", "Your active and resolved health problems."),
        ("/record/visits", "Visits", "Past visits: where, with whom, diagnoses, vital signs and after-visit notes."),
        ("/record/documents", "Documents", "After-visit summaries, letters and reports to open or download."),
        (
            "/record/questionnaires",
            "Questionnaires",
            "Questionnaires, visit surveys and education lessons from your care team, and whether to receive visit surveys.",
        ),
    ];
    view! {
        <Title text="My Medical Record | Patient portal"/>
            <h1>"My Medical Record"</h1>
            <p class="lead">"Your record as your clinic's electronic health record holds it, read when you look."</p>
            <ul class="tiles">
                {SECTIONS.into_iter().map(|(href, name, text)| view! {
                    <li class="tile">
                        <h2><a href=href>{name}</a></h2>
                        <p>{text}</p>
                    </li>
                }).collect_view()}
            </ul>
            <section class="section" aria-labelledby="download">
                <h2 id="download">"Download My Record"</h2>
                <p>"Everything you can see here, in one file in the standard FHIR format (JSON) that other health apps can read. "
                   "Keep it somewhere safe: it holds your health information."</p>
                <p><a class="button" href=FHIR_DOWNLOAD download="">"Download My Record (FHIR JSON)"</a></p>
                <p>"To print or keep on paper: your health issues, allergies, medications, immunizations and latest results in one document."</p>
                <p><a class="button" href=PDF_SUMMARY download="">"Download a printable Health Summary (PDF)"</a></p>
            </section>
            <super::release::ReleaseChoiceSection/>
    }
}

// ---------------------------------------------------------------------------------------------
// The home page's Health Summary

#[component]
pub fn HealthSummarySection() -> impl IntoView {
    let summary = Resource::new(|| (), |_| load_summary());
    view! {
        <section class="section health-summary" aria-labelledby="health-summary">
            <h2 id="health-summary">"Health Summary"</h2>
            <RecordShown resource=summary view={|v: SummaryView| {
                let s = v.summary;
                view! {
                    {(v.new_results > 0).then(|| view! {
                        <p class="notice notice--status" role="status">
                            {if v.new_results == 1 { "1 new test result. ".to_string() } else { format!("{} new test results. ", v.new_results) }}
                            <a href="/record/results">"See Test Results"</a>
                        </p>
                    })}
                    <div class="summary-grid">
                        <div>
                            <h3>"Health issues"</h3>
                            {if s.active_issues.is_empty() { view! { <p>"None active on record."</p> }.into_any() } else {
                                view! { <ul>{s.active_issues.into_iter().map(|i| view! { <li>{i.name}</li> }).collect_view()}</ul> }.into_any()
                            }}
                            <p><a href="/record/health-issues">"All health issues"</a></p>
                        </div>
                        <div>
                            <h3>"Allergies"</h3>
                            {if s.allergies.is_empty() { view! { <p>"None on record."</p> }.into_any() } else {
                                view! { <ul>{s.allergies.into_iter().map(|a| view! { <li>{a.substance}</li> }).collect_view()}</ul> }.into_any()
                            }}
                            <p><a href="/record/allergies">"All allergies"</a></p>
                        </div>
                        <div>
                            <h3>"Medications"</h3>
                            {if s.current_medications.is_empty() { view! { <p>"None current on record."</p> }.into_any() } else {
                                view! { <ul>{s.current_medications.into_iter().map(|m| view! { <li>{m.name}</li> }).collect_view()}</ul> }.into_any()
                            }}
                            <p><a href="/record/medications">"All medications"</a></p>
                        </div>
                        <div>
                            <h3>"Recent results"</h3>
                            {if s.recent_results.is_empty() { view! { <p>"None in the last 30 days."</p> }.into_any() } else {
                                view! { <ul>{s.recent_results.into_iter().take(5).map(|r| view! {
                                    <li>{r.name}": "{r.value.text()}" "<FlagWords flag=r.flag/></li>
                                }).collect_view()}</ul> }.into_any()
                            }}
                            <p><a href="/record/results">"All test results"</a></p>
                        </div>
                    </div>
                }
            }}/>
        </section>
    }
}
