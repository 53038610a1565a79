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
// Test Results

#[component]
pub fn TestResultsPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        let q = query.read();
        (q.get("kind"), q.get("from"), q.get("to"), q.get("page"))
    };
    let results = Resource::new(asked, |(kind, from, to, page)| load_results(kind, from, to, page));
    view! {
        <Title text="Test Results | Patient portal"/>
            <Back/>
            <h1>"Test Results"</h1>
            <p class="lead">"Newest first. Results show here as soon as the clinic has them, sometimes before your clinician has seen them, unless you chose otherwise ("<a href="/record#release">"when new results show"</a>")."</p>
            <RecordShown resource=results view={|v: ResultsView| view! { <ResultsBody v/> }}/>
    }
}

#[component]
fn ResultFilterForm(filter: ResultFilter) -> impl IntoView {
    let from = filter.from.map(|d| d.to_string()).unwrap_or_default();
    let to = filter.to.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/record/results" class="filters no-print" aria-label="Filter results">
            <div class="field">
                <label for="kind">"Kind"</label>
                <select id="kind" name="kind">
                    <option value="" selected=filter.kind.is_none()>"All results"</option>
                    {KindFilter::ALL.into_iter().map(|k| view! {
                        <option value=k.code() selected={filter.kind == Some(k)}>{k.words()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="from">"From"</label>
                <input type="date" id="from" name="from" value=from/>
            </div>
            <div class="field">
                <label for="to">"To"</label>
                <input type="date" id="to" name="to" value=to/>
            </div>
            <div class="form__actions">
                <button type="submit" class="button">"Show"</button>
                {(!filter.is_empty()).then(|| view! { <a href="/record/results">"Show all"</a> })}
            </div>
        </form>
        {filter.unreadable.then(|| view! {
            <p class="notice notice--alert" role="alert">"A date could not be read and was left out. Write dates as 2024-01-31."</p>
        })}
    }
}

/// A panel or a single result, for one list newest first.
enum Item {
    Panel(Panel),
    Single(TestResult),
}

impl Item {
    fn when(&self) -> Option<&When> {
        match self {
            Item::Panel(p) => p.collected.as_ref().or(p.resulted.as_ref()),
            Item::Single(r) => r.collected.as_ref().or(r.resulted.as_ref()),
        }
    }
}

#[component]
fn ResultsBody(v: ResultsView) -> impl IntoView {
    let filter = v.filter.clone();
    let mut items: Vec<Item> = v.results.panels.iter().cloned().map(Item::Panel).chain(v.results.single.iter().cloned().map(Item::Single)).collect();
    items.sort_by(|a, b| newest_first(a.when(), b.when()));
    let new_count = v.new.len();
    let empty = items.is_empty();
    let v = std::sync::Arc::new(v);
    view! {
        <ResultFilterForm filter=filter.clone()/>
        <Incomplete incomplete=v.incomplete/>
        {v.withheld.given_in_person.then(|| view! {
            <p class="notice notice--info" role="status">{super::release::GIVEN_IN_PERSON}</p>
        })}
        {v.withheld.waiting_words().map(|words| view! {
            <p class="notice notice--info" role="status">{words}" "<a href="/record#release">"Change when new results show"</a></p>
        })}
        <p class="no-print"><a href="/record/trends">"See your results over time (Trends)"</a></p>
        {(new_count > 0).then(|| view! {
            <p class="notice notice--status" role="status">{if new_count == 1 { "1 result is new since you last looked.".to_string() } else { format!("{new_count} results are new since you last looked.") }}</p>
        })}
        {if empty {
            view! { <div class="empty"><p>{if filter.is_empty() { "No test results on record." } else { "No results match. Choose other dates or kinds, or show all." }}</p></div> }.into_any()
        } else {
            view! {
                {(v.pages > 1).then(|| view! { <p class="muted">{format!("Page {} of {}", v.page, v.pages)}</p> })}
                <ul class="results">
                    {items.into_iter().map(|item| match item {
                        Item::Panel(p) => view! { <li><PanelCard p v=v.clone()/></li> }.into_any(),
                        Item::Single(r) => view! { <li><ResultCard r v=v.clone() heading=2/></li> }.into_any(),
                    }).collect_view()}
                </ul>
                {(v.pages > 1).then(|| view! {
                    <nav class="pager no-print" aria-label="Result pages">
                        {(v.page > 1).then(|| view! { <a href=filter.href(v.page - 1)>"← Newer results"</a> })}
                        {(v.page < v.pages).then(|| view! { <a href=filter.href(v.page + 1)>"Older results →"</a> })}
                    </nav>
                })}
            }.into_any()
        }}
    }
}

#[component]
fn NewMark(new: bool) -> impl IntoView {
    new.then(|| view! { " "<span class="badge badge--new">"New"</span> })
}

#[component]
fn PanelCard(p: Panel, v: std::sync::Arc<ResultsView>) -> impl IntoView {
    let new = v.is_new(&p.id) || p.results.iter().any(|r| v.is_new(&r.id));
    let heading_id = format!("panel-{}", p.id);
    let labelled_by = heading_id.clone();
    let abnormal = p.results.iter().filter(|r| r.flag.is_abnormal()).count();
    view! {
        <section class="result result--panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{p.name.clone()}<NewMark new/></h2>
            <dl class="details">
                <dt>"Collected"</dt><dd>{when_text(&p.collected)}</dd>
                <dt>"Resulted"</dt><dd>{when_text(&p.resulted)}</dd>
                <dt>"Status"</dt><dd>{p.status.words()}</dd>
                {p.ordered_by.clone().map(|o| view! { <dt>"Ordered by"</dt><dd>{o}</dd> })}
                {(!p.performed_by.is_empty()).then(|| view! { <dt>"Performed by"</dt><dd>{p.performed_by.join(", ")}</dd> })}
                {(!p.interpreted_by.is_empty()).then(|| view! { <dt>"Interpreted by"</dt><dd>{p.interpreted_by.join(", ")}</dd> })}
                {(abnormal > 0).then(|| view! { <dt>"Outside the range"</dt><dd>{if abnormal == 1 { "1 result".to_string() } else { format!("{abnormal} results") }}</dd> })}
            </dl>
            {p.conclusion.clone().map(|c| view! { <p class="result__comment"><strong>"Conclusion: "</strong>{c}</p> })}
            <ul class="results results--members">
                {p.results.into_iter().map(|r| view! { <li><ResultCard r v=v.clone() heading=3/></li> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ResultCard(r: TestResult, v: std::sync::Arc<ResultsView>, heading: u8) -> impl IntoView {
    let new = v.is_new(&r.id);
    let trend = v.trend_of(&r.key).cloned();
    let name = r.name.clone();
    let title = view! { {name.clone()}<NewMark new/> };
    let title = if heading == 2 { view! { <h2>{title}</h2> }.into_any() } else { view! { <h3>{title}</h3> }.into_any() };
    let in_panel = r.panel.is_some();
    view! {
        <article class="result" class:result--abnormal={r.flag.is_abnormal()} id={format!("result-{}", r.id)}>
            {title}
            {if r.parts.is_empty() {
                view! {
                    <p class="result__value">
                        <span class="value">{r.value.text()}</span>" "<FlagWords flag=r.flag/>
                    </p>
                }.into_any()
            } else {
                view! {
                    <ul class="result__parts">
                        {r.parts.iter().map(|p| view! {
                            <li>{p.name.clone()}": "<span class="value">{p.value.text()}</span>" "<FlagWords flag=p.flag/>
                                {p.range.as_ref().map(|rg| view! { <span class="muted">{format!(" (expected {})", rg.text())}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <dl class="details">
                {r.range.as_ref().map(|rg| view! { <dt>"Expected range"</dt><dd>{rg.text()}</dd> })}
                <dt>"Status"</dt><dd>{r.status.words()}</dd>
                {(!in_panel).then(|| view! {
                    <dt>"Collected"</dt><dd>{when_text(&r.collected)}</dd>
                    <dt>"Resulted"</dt><dd>{when_text(&r.resulted)}</dd>
                })}
                {(!in_panel).then(|| r.ordered_by.clone().map(|o| view! { <dt>"Ordered by"</dt><dd>{o}</dd> })).flatten()}
                {(!r.performed_by.is_empty() && !in_panel).then(|| view! { <dt>"Performed by"</dt><dd>{r.performed_by.join(", ")}</dd> })}
            </dl>
            {r.comments.iter().map(|c| view! { <p class="result__comment"><strong>"Comment: "</strong>{c.clone()}</p> }).collect_view()}
            {trend.map(|id| view! {
                <p class="no-print"><a href={format!("/record/trends/{id}")}>"Trend"<span class="visually-hidden">{format!(" of {name}")}</span></a></p>
            })}
        </article>
    }
}

// ---------------------------------------------------------------------------------------------
// Trends

#[component]
pub fn TrendsPage() -> impl IntoView {
    let trends = Resource::new(|| (), |_| load_trends());
    view! {
        <Title text="Trends | Patient portal"/>
            <Back/>
            <h1>"Trends"</h1>
            <p class="lead">"Choose a test to see its values over time, as a chart and as a table."</p>
            <RecordShown resource=trends view={|p: Part<Vec<TrendLink>>| view! {
                <Incomplete incomplete=p.incomplete/>
                {if p.data.is_empty() {
                    view! { <div class="empty"><p>"No results with numbers to draw yet."</p></div> }.into_any()
                } else {
                    view! {
                        <ul class="link-list">
                            {p.data.into_iter().map(|t| {
                                let count = if t.values == 1 { "1 value".to_string() } else { format!("{} values", t.values) };
                                let latest = t.latest.as_ref().map(|w| format!(", latest {}", w.day.long())).unwrap_or_default();
                                view! {
                                    <li><a href={format!("/record/trends/{}", t.id)}>{t.name.clone()}</a>
                                        " "<span class="muted">{format!("{} · {count}{latest}", t.kind.words())}</span></li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }}/>
    }
}

#[component]
pub fn TrendPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let trend = Resource::new(id, load_trend);
    view! {
        <Title text="Trend | Patient portal"/>
            <p class="no-print"><a href="/record/trends">"← Trends"</a></p>
            <RecordShown resource=trend view={|p: Part<Trend>| view! {
                <h1>{p.data.name.clone()}</h1>
                <Incomplete incomplete=p.incomplete/>
                <TrendChart trend=p.data/>
            }}/>
    }
}

/// The chart (an SVG drawn here) and, beside it, the same values as a table: the table is the
/// accessible version, and the chart says in words what it shows.
#[component]
fn TrendChart(trend: Trend) -> impl IntoView {
    let plot = chart::plot(&trend);
    let summary = chart::summary(&trend);
    let (left, top, right, bottom) = chart::area();
    let unit = trend.series.iter().find_map(|s| s.unit.clone()).unwrap_or_default();
    let title = format!("{} over time", trend.name);
    let many = trend.series.len() > 1;
    view! {
        <p class="lead">{summary.clone()}</p>
        <div class="trend">
            <figure class="trend__chart">
                <svg viewBox={format!("0 0 {} {}", chart::WIDTH, chart::HEIGHT)} width="100%" role="img"
                     aria-labelledby="chart-title" aria-describedby="chart-desc" class="chart" preserveAspectRatio="xMidYMid meet">
                    <title id="chart-title">{title.clone()}</title>
                    <desc id="chart-desc">{summary}</desc>
                    {plot.series.iter().filter_map(|s| s.band).take(1).map(|(y1, y2)| view! {
                        <rect x=left y=y1 width={right - left} height={(y2 - y1).max(1.0)} class="chart__band"/>
                        <text x={right - 4.0} y={y1 + 14.0} text-anchor="end" class="chart__band-label">"Expected range"</text>
                    }).collect_view()}
                    {plot.y_ticks.iter().map(|t| view! {
                        <line x1=left x2=right y1=t.at y2=t.at class="chart__grid"/>
                        <text x={left - 6.0} y={t.at + 4.0} text-anchor="end" class="chart__label">{t.label.clone()}</text>
                    }).collect_view()}
                    <line x1=left x2=left y1=top y2=bottom class="chart__axis"/>
                    <line x1=left x2=right y1=bottom y2=bottom class="chart__axis"/>
                    {plot.x_ticks.iter().enumerate().map(|(i, t)| {
                        let anchor = if plot.x_ticks.len() == 1 { "middle" } else if i == 0 { "start" } else { "end" };
                        view! { <text x=t.at y={bottom + 18.0} text-anchor=anchor class="chart__label">{t.label.clone()}</text> }
                    }).collect_view()}
                    <text x={(left + right) / 2.0} y={chart::HEIGHT - 8.0} text-anchor="middle" class="chart__axis-title">"Date"</text>
                    <text x=14 y={(top + bottom) / 2.0} text-anchor="middle" transform={format!("rotate(-90 14 {})", (top + bottom) / 2.0)} class="chart__axis-title">
                        {if unit.is_empty() { "Value".to_string() } else { unit.clone() }}
                    </text>
                    {plot.series.iter().enumerate().map(|(i, s)| {
                        let class = format!("chart__series chart__series--{}", i % 3);
                        view! {
                            <g class=class>
                                <polyline points=s.line.clone() class="chart__line" fill="none"/>
                                {s.points.iter().map(|p| if p.flag.is_abnormal() {
                                    // Outside the range: a diamond, not only another colour.
                                    let d = format!("M{} {} l6 6 l-6 6 l-6 -6 z", p.x, p.y - 6.0);
                                    view! { <path d=d class="chart__point chart__point--abnormal"/> }.into_any()
                                } else {
                                    view! { <circle cx=p.x cy=p.y r=4 class="chart__point"/> }.into_any()
                                }).collect_view()}
                            </g>
                        }
                    }).collect_view()}
                </svg>
                <figcaption>
                    {title}". Diamonds mark values outside the expected range."
                    {many.then(|| format!(" Lines: {}.", trend.series.iter().enumerate().map(|(i, s)| format!("{} ({})", s.name, ["solid", "dashed", "dotted"][i % 3])).collect::<Vec<_>>().join(", ")))}
                </figcaption>
            </figure>
            <div class="trend__table">
                {trend.series.iter().map(|s| {
                    let unit = s.unit.clone().map(|u| format!(" ({u})")).unwrap_or_default();
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <caption>{format!("{} values, newest first", s.name)}</caption>
                                <thead><tr>
                                    <th scope="col">"Date"</th>
                                    <th scope="col">{format!("Value{unit}")}</th>
                                    <th scope="col">"Flag"</th>
                                </tr></thead>
                                <tbody>
                                    {s.points.iter().rev().map(|p| view! {
                                        <tr>
                                            <th scope="row">{p.at.text.clone()}</th>
                                            <td>{number_text(p.value)}</td>
                                            <td><FlagWords flag=p.flag/></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {s.range.as_ref().map(|r| view! { <p>{format!("Expected range: {}", r.text())}</p> })}
                    }
                }).collect_view()}
            </div>
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Medications, allergies, immunizations, health issues

#[component]
pub fn MedicationsPage() -> impl IntoView {
    let meds = Resource::new(|| (), |_| load_medications());
    view! {
        <Title text="Medications | Patient portal"/>
            <Back/>
            <h1>"Medications"</h1>
            <RecordShown resource=meds view={|p: Part<Medications>| view! {
                <Incomplete incomplete=p.incomplete/>
                <section aria-labelledby="current">
                    <h2 id="current">"Current medications"</h2>
                    <MedicationList meds=p.data.current empty="No current medications on record."/>
                </section>
                <section aria-labelledby="past" class="section">
                    <h2 id="past">"Past medications"</h2>
                    <MedicationList meds=p.data.past empty="No past medications on record."/>
                </section>
            }}/>
    }
}

#[component]
fn MedicationList(meds: Vec<Medication>, empty: &'static str) -> impl IntoView {
    if meds.is_empty() {
        return view! { <div class="empty"><p>{empty}</p></div> }.into_any();
    }
    view! {
        <ul class="cards">
            {meds.into_iter().map(|m| view! {
                <li class="card">
                    <h3>{m.name}</h3>
                    <dl class="details">
                        <dt>"Status"</dt><dd>{m.status.words()}</dd>
                        {m.instructions.map(|i| view! { <dt>"Instructions"</dt><dd>{i}</dd> })}
                        {m.prescriber.map(|p| view! { <dt>"Prescribed by"</dt><dd>{p}</dd> })}
                        {m.prescribed.map(|w| view! { <dt>"Prescribed"</dt><dd>{w.text}</dd> })}
                        {m.start.map(|w| view! { <dt>"Started"</dt><dd>{w.text}</dd> })}
                        {m.end.map(|w| view! { <dt>"Ended"</dt><dd>{w.text}</dd> })}
                        {(!m.reasons.is_empty()).then(|| view! { <dt>"For"</dt><dd>{m.reasons.join(", ")}</dd> })}
                        {m.status_reason.map(|r| view! { <dt>"Why changed"</dt><dd>{r}</dd> })}
                    </dl>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn AllergiesPage() -> impl IntoView {
    let allergies = Resource::new(|| (), |_| load_allergies());
    view! {
        <Title text="Allergies | Patient portal"/>
            <Back/>
            <h1>"Allergies"</h1>
            <RecordShown resource=allergies view={|p: Part<Allergies>| view! {
                <Incomplete incomplete=p.incomplete/>
                {p.data.no_known.clone().map(|words| view! { <p class="notice notice--status">{words}</p> })}
                {if p.data.items.is_empty() {
                    (p.data.no_known.is_none()).then(|| view! {
                        <div class="empty"><p>"No allergies on record. If you have one, tell your care team."</p></div>
                    }).into_any()
                } else {
                    view! {
                        <ul class="cards">
                            {p.data.items.into_iter().map(|a| view! {
                                <li class="card">
                                    <h2>{a.substance}</h2>
                                    <dl class="details">
                                        <dt>"Kind"</dt><dd>{match a.kind { AllergyKind::Allergy => "Allergy", AllergyKind::Intolerance => "Intolerance", AllergyKind::Unspecified => "Allergy or intolerance" }}</dd>
                                        <dt>"Status"</dt><dd>{if a.active { "Active" } else { "No longer active" }}</dd>
                                        {(!a.categories.is_empty()).then(|| view! { <dt>"Type"</dt><dd>{a.categories.join(", ")}</dd> })}
                                        {a.criticality.map(|c| view! { <dt>"Risk"</dt><dd>{c.words()}</dd> })}
                                        {(!a.reactions.is_empty()).then(|| view! {
                                            <dt>"Reaction"</dt>
                                            <dd>{a.reactions.iter().map(|r| {
                                                let mut t = r.manifestations.join(", ");
                                                if let Some(s) = r.severity { t.push_str(&format!(" ({})", s.words().to_lowercase())); }
                                                if let Some(d) = &r.description { if !t.is_empty() { t.push_str(": "); } t.push_str(d); }
                                                t
                                            }).collect::<Vec<_>>().join("; ")}</dd>
                                        })}
                                        {a.onset.map(|w| view! { <dt>"Since"</dt><dd>{w.text}</dd> })}
                                        {a.recorded.map(|w| view! { <dt>"Recorded"</dt><dd>{w.text}</dd> })}
                                    </dl>
                                    {a.notes.into_iter().map(|n| view! { <p class="result__comment">{n}</p> }).collect_view()}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }}/>
    }
}

#[component]
pub fn ImmunizationsPage() -> impl IntoView {
    let shots = Resource::new(|| (), |_| load_immunizations());
    view! {
        <Title text="Immunizations | Patient portal"/>
            <Back/>
            <h1>"Immunizations"</h1>
            <RecordShown resource=shots view={|p: Part<Vec<Immunization>>| view! {
                <Incomplete incomplete=p.incomplete/>
                {if p.data.is_empty() {
                    view! { <div class="empty"><p>"No immunizations on record."</p></div> }.into_any()
                } else {
                    view! {
                        <ul class="cards">
                            {p.data.into_iter().map(|i| view! {
                                <li class="card">
                                    <h2>{i.vaccine}</h2>
                                    <dl class="details">
                                        <dt>"Date"</dt><dd>{when_text(&i.date)}</dd>
                                        <dt>"Status"</dt><dd>{match (i.status, i.status_reason) {
                                            (ImmunizationStatus::Given, _) => "Given".to_string(),
                                            (ImmunizationStatus::NotGiven, Some(why)) => format!("Not given: {why}"),
                                            (ImmunizationStatus::NotGiven, None) => "Not given".to_string(),
                                        }}</dd>
                                        {i.dose.map(|d| view! { <dt>"Dose"</dt><dd>{d}</dd> })}
                                        {i.site.map(|d| view! { <dt>"Site"</dt><dd>{d}</dd> })}
                                        {i.route.map(|d| view! { <dt>"Route"</dt><dd>{d}</dd> })}
                                        {(!i.given_by.is_empty()).then(|| view! { <dt>"Given by"</dt><dd>{i.given_by.join(", ")}</dd> })}
                                        {i.location.map(|d| view! { <dt>"Where"</dt><dd>{d}</dd> })}
                                        {i.lot_number.map(|d| view! { <dt>"Lot number"</dt><dd>{d}</dd> })}
                                    </dl>
                                    {i.notes.into_iter().map(|n| view! { <p class="result__comment">{n}</p> }).collect_view()}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }}/>
    }
}

#[component]
pub fn HealthIssuesPage() -> impl IntoView {
    let issues = Resource::new(|| (), |_| load_health_issues());
    view! {
        <Title text="Health Issues | Patient portal"/>
            <Back/>
            <h1>"Health Issues"</h1>
            <RecordShown resource=issues view={|p: Part<HealthIssues>| view! {
                <Incomplete incomplete=p.incomplete/>
                <section aria-labelledby="active">
                    <h2 id="active">"Active"</h2>
                    <IssueList issues=p.data.active empty="No active health issues on record."/>
                </section>
                <section aria-labelledby="resolved" class="section">
                    <h2 id="resolved">"Resolved or inactive"</h2>
                    <IssueList issues=p.data.resolved empty="None on record."/>
                </section>
            }}/>
    }
}

#[component]
fn IssueList(issues: Vec<HealthIssue>, empty: &'static str) -> impl IntoView {
    if issues.is_empty() {
        return view! { <div class="empty"><p>{empty}</p></div> }.into_any();
    }
    view! {
        <ul class="cards">
            {issues.into_iter().map(|i| view! {
                <li class="card">
                    <h3>{i.name}</h3>
                    <dl class="details">
                        <dt>"Status"</dt><dd>{i.status.words()}</dd>
                        {i.onset.map(|w| view! { <dt>"Since"</dt><dd>{w.text}</dd> })}
                        {i.resolved.map(|w| view! { <dt>"Resolved"</dt><dd>{w.text}</dd> })}
                        {i.recorded.map(|w| view! { <dt>"Recorded"</dt><dd>{w.text}</dd> })}
                    </dl>
                    {i.notes.into_iter().map(|n| view! { <p class="result__comment">{n}</p> }).collect_view()}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Visits and documents

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
