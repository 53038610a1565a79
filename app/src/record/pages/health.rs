//! Medications, Allergies, Immunizations and Health Issues: the lists of the record.

use super::*;

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
