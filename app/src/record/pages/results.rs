//! Test Results: the filter form, the panels and results, what is new since the last look.

use super::*;

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

/// A panel or a single result, for one list newest first (short-lived, built per page: the
/// size difference of its variants costs nothing worth an allocation per item).
#[allow(clippy::large_enum_variant)]
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
            <p class="notice notice--info" role="status">{crate::record::release::GIVEN_IN_PERSON}</p>
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
pub(super) fn PanelCard(p: Panel, v: std::sync::Arc<ResultsView>) -> impl IntoView {
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
pub(super) fn ResultCard(r: TestResult, v: std::sync::Arc<ResultsView>, heading: u8) -> impl IntoView {
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
