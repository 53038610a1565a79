//! Trends: one test's values over time, as a chart drawn on the server with its table beside it.

use super::*;

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
