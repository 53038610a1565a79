//! Visits (with their results) and Documents.

use super::results::{PanelCard, ResultCard};
use super::*;

fn visit_title(v: &VisitSummary) -> String {
    match &v.start {
        Some(w) => format!("{} on {}", v.kind, w.day.long()),
        None => v.kind.clone(),
    }
}

#[component]
pub fn RecordVisitsPage() -> impl IntoView {
    let visits = Resource::new(|| (), |_| load_visits());
    view! {
        <Title text="Visits | Patient portal"/>
            <Back/>
            <h1>"Visits"</h1>
            <p class="lead">"Your past visits, newest first. Video visits to come are under "<a href="/visits">"Video visits"</a>"."</p>
            <RecordShown resource=visits view={|p: Part<Vec<VisitSummary>>| view! {
                <Incomplete incomplete=p.incomplete/>
                {if p.data.is_empty() {
                    view! { <div class="empty"><p>"No visits on record."</p></div> }.into_any()
                } else {
                    view! {
                        <ul class="cards">
                            {p.data.into_iter().map(|v| {
                                let href = format!("/record/visits/{}", v.id);
                                let title = visit_title(&v);
                                view! {
                                    <li class="card">
                                        <h2><a href=href>{title}</a></h2>
                                        <dl class="details">
                                            {v.place.map(|p| view! { <dt>"Where"</dt><dd>{p}</dd> })}
                                            {(!v.clinicians.is_empty()).then(|| view! { <dt>"With"</dt><dd>{v.clinicians.join(", ")}</dd> })}
                                            {(!v.reasons.is_empty()).then(|| view! { <dt>"Reason"</dt><dd>{v.reasons.join(", ")}</dd> })}
                                        </dl>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }}/>
    }
}

#[component]
pub fn RecordVisitPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let visit = Resource::new(id, load_visit);
    view! {
        <Title text="Visit summary | Patient portal"/>
            <p class="no-print"><a href="/record/visits">"← Visits"</a></p>
            <RecordShown resource=visit view={|p: Part<Visit>| view! { <VisitDetail v=p.data incomplete=p.incomplete/> }}/>
    }
}

#[component]
fn VisitDetail(v: Visit, incomplete: bool) -> impl IntoView {
    let s = v.summary;
    let results = ResultsView {
        results: v.results,
        new: Vec::new(),
        trends: Vec::new(),
        filter: ResultFilter::default(),
        page: 1,
        pages: 1,
        incomplete,
        withheld: Default::default(),
    };
    let has_results = !results.results.panels.is_empty() || !results.results.single.is_empty();
    let results = std::sync::Arc::new(results);
    view! {
        <h1>{visit_title(&s)}</h1>
        <Incomplete incomplete/>
        <dl class="details">
            {s.start.as_ref().map(|w| view! { <dt>"When"</dt><dd>{w.text.clone()}</dd> })}
            {s.place.map(|p| view! { <dt>"Where"</dt><dd>{p}</dd> })}
            {(!s.clinicians.is_empty()).then(|| view! { <dt>"With"</dt><dd>{s.clinicians.join(", ")}</dd> })}
            {(!s.reasons.is_empty()).then(|| view! { <dt>"Reason for the visit"</dt><dd>{s.reasons.join(", ")}</dd> })}
        </dl>
        <section aria-labelledby="diagnoses" class="section">
            <h2 id="diagnoses">"Diagnoses"</h2>
            {if v.diagnoses.is_empty() {
                view! { <p>"None recorded for this visit."</p> }.into_any()
            } else {
                view! { <ul>{v.diagnoses.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section aria-labelledby="vitals" class="section">
            <h2 id="vitals">"Vital signs"</h2>
            {if v.vitals.is_empty() {
                view! { <p>"None recorded for this visit."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <caption class="visually-hidden">"Vital signs taken at this visit"</caption>
                            <thead><tr><th scope="col">"Measurement"</th><th scope="col">"Value"</th><th scope="col">"Flag"</th></tr></thead>
                            <tbody>
                                {v.vitals.into_iter().map(|r| {
                                    let value = if r.parts.is_empty() { r.value.text() } else { r.parts.iter().map(|p| p.value.text()).collect::<Vec<_>>().join(" / ") };
                                    view! { <tr><th scope="row">{r.name}</th><td>{value}</td><td><FlagWords flag=r.flag/></td></tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        {has_results.then(|| view! {
            <section aria-labelledby="visit-results" class="section">
                <h2 id="visit-results">"Test results"</h2>
                <ul class="results">
                    {results.results.panels.iter().cloned().map(|p| view! { <li><PanelCard p v=results.clone()/></li> }).collect_view()}
                    {results.results.single.iter().cloned().map(|r| view! { <li><ResultCard r v=results.clone() heading=3/></li> }).collect_view()}
                </ul>
            </section>
        })}
        <section aria-labelledby="notes" class="section">
            <h2 id="notes">"After-visit summary and notes"</h2>
            <DocumentList docs=v.documents empty="No after-visit summary or notes released for this visit."/>
        </section>
    }
}

#[component]
pub fn DocumentsPage() -> impl IntoView {
    let docs = Resource::new(|| (), |_| load_documents());
    view! {
        <Title text="Documents | Patient portal"/>
            <Back/>
            <h1>"Documents"</h1>
            <p class="lead">"Documents open as a download. They hold your health information: keep them somewhere safe."</p>
            <RecordShown resource=docs view={|p: Part<Vec<Document>>| view! {
                <Incomplete incomplete=p.incomplete/>
                <DocumentList docs=p.data empty="No documents on record."/>
            }}/>
    }
}

fn size_text(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn type_text(content_type: &str) -> &'static str {
    match content_type.split(';').next().unwrap_or_default().trim() {
        "application/pdf" => "PDF",
        "text/plain" => "Text",
        "text/html" => "Web page",
        t if t.starts_with("image/") => "Image",
        _ => "File",
    }
}

#[component]
fn DocumentList(docs: Vec<Document>, empty: &'static str) -> impl IntoView {
    if docs.is_empty() {
        return view! { <div class="empty"><p>{empty}</p></div> }.into_any();
    }
    view! {
        <ul class="cards">
            {docs.into_iter().map(|d| {
                let what = match d.size {
                    Some(n) => format!("{}, {}", type_text(&d.content_type), size_text(n)),
                    None => type_text(&d.content_type).to_string(),
                };
                view! {
                    <li class="card">
                        <h3>{d.title.clone()}</h3>
                        <dl class="details">
                            <dt>"Kind"</dt><dd>{d.kind}</dd>
                            <dt>"Date"</dt><dd>{when_text(&d.date)}</dd>
                            {(!d.authors.is_empty()).then(|| view! { <dt>"By"</dt><dd>{d.authors.join(", ")}</dd> })}
                            {d.visit.map(|v| view! { <dt>"Visit"</dt><dd><a href={format!("/record/visits/{v}")}>"Visit summary"</a></dd> })}
                        </dl>
                        <p><a class="button" href=document_href(&d.id) download="">"Download"<span class="visually-hidden">{format!(" {}", d.title)}</span>{format!(" ({what})")}</a></p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
