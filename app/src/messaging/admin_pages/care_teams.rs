//! Care teams (administrators): whom a patient can write to, clinicians and pools.

#[cfg(feature = "ssr")]
use super::admin;
use super::UNCHANGED;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use crate::messaging::admin::Person;
use crate::patients::PatientSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CareTeamData {
    pub patient: Option<PatientSummary>,
    pub team: Vec<(String, String)>,
    pub clinicians: Vec<Person>,
    pub pools: Vec<Person>,
}

notice_codes! {
    pub enum CareTeamNotice {
        Added = Done "added" => "Added to the care team.",
        Removed = Done "removed" => "Removed from the care team.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

#[server(endpoint = "staff/care-teams/load")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_care_team(patient: String) -> Result<CareTeamData, AppError> {
    let (_, state) = admin()?;
    let clinicians = crate::messaging::admin::staff_with_roles(&state.db, &["clinician"]).await?;
    let pools = crate::messaging::admin::pools(&state.db).await?.into_iter().map(|p| Person { id: p.id, name: p.name }).collect();
    let Some(id) = crate::patients::PatientId::parse(&patient) else {
        return Ok(CareTeamData { patient: None, team: Vec::new(), clinicians, pools });
    };
    let patient = crate::patients::server::find(&state.db, &id).await?;
    let team = match &patient {
        Some(_) => crate::messaging::admin::care_team(&state.db, &id).await?.into_iter().map(|(r, name)| (r.to_value(), name)).collect(),
        None => Vec::new(),
    };
    Ok(CareTeamData { patient, team, clinicians, pools })
}

#[server(endpoint = "staff/care-teams/search")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn search_care_patients(q: String) -> Result<Vec<PatientSummary>, AppError> {
    let (_, state) = admin()?;
    Ok(crate::patients::server::search(&state.db, &q.chars().take(100).collect::<String>()).await?)
}

#[server(endpoint = "staff/care-teams/change")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_care_team(patient: String, who: String, change: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let id = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let add = change == "add";
    let done = match crate::messaging::Recipient::parse(&who) {
        Some(r) => {
            crate::messaging::admin::set_care_team(&state.db, &session.viewer.user_id, &id, &r, add, request::client_addr(), state.clock.now_ms()).await?
        }
        None => false,
    };
    let outcome = match (done, add) {
        (true, true) => CareTeamNotice::Added,
        (true, false) => CareTeamNotice::Removed,
        _ => CareTeamNotice::Unchanged,
    };
    redirect_notice(&format!("/staff/care-teams?patient={}", id.as_str()), outcome);
    Ok(())
}

#[component]
pub fn CareTeamsPage() -> impl IntoView {
    let query = use_query_map();
    // The search is posted to the page (`layout::search`); the chosen patient travels as the
    // record's opaque id only.
    let q = posted_search();
    let searched = !q.trim().is_empty();
    let term = q.clone();
    let patient = move || query.read().get("patient").unwrap_or_default();
    let results = Resource::new(
        move || term.clone(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                search_care_patients(q).await
            }
        },
    );
    let team = Resource::new(patient, load_care_team);
    view! {
        <Title text="Care teams | Staff"/>
            <h1>"Care teams"</h1>
            {notice::<CareTeamNotice>()}
            <p class="lead">"A patient's care team is who they can write to: clinicians and pools. Clinicians of the care team (its clinicians, and clinicians who work a clinical pool on it) read the patient's clinical conversations; everyone else reads only what was sent or forwarded to them or their pools."</p>
            <SearchForm action="/staff/care-teams" label="Find a patient by name or record number" button="Search" value=q/>
            <Loaded resource=results view={move |data| match data {
                    _ if !searched => ().into_any(),
                    list if list.is_empty() => found(0, "patient", "patients").into_any(),
                    list => view! {
                        {found(list.len(), "patient", "patients")}
                        <ul aria-label="Matching patients">
                            {list.into_iter().map(|p| view! {
                                <li><a href=format!("/staff/care-teams?patient={}", p.id.as_str())>{p.full_name()}</a>{format!(" (MRN {}, born {})", p.mrn, p.date_of_birth)}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
            }}/>
            <Loaded resource=team quiet=true view=|d| view! { <CareTeamView d/> }/>
    }
}

#[component]
fn CareTeamView(d: CareTeamData) -> impl IntoView {
    let Some(p) = d.patient else { return ().into_any() };
    let pid = p.id.to_string();
    let name = p.full_name();
    let on_team = |value: &str| d.team.iter().any(|(v, _)| v == value);
    let options: Vec<(String, String)> = d
        .clinicians
        .iter()
        .map(|c| (format!("provider:{}", c.id), c.name.clone()))
        .chain(d.pools.iter().map(|pl| (format!("pool:{}", pl.id), format!("{} (pool)", pl.name))))
        .filter(|(v, _)| !on_team(v))
        .collect();
    view! {
        <section class="section" aria-labelledby="team-heading">
            <h2 id="team-heading">{format!("Care team of {name}")}</h2>
            {if d.team.is_empty() {
                view! { <p>"Nobody yet: the patient cannot write to anyone."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {d.team.iter().map(|(value, member)| {
                            let label = format!("Remove {member} from the care team");
                            view! {
                                <li>
                                    {member.clone()}" "
                                    <PostForm<ChangeCareTeam> class="inline-form" clone:pid>
                                        <input type="hidden" name="patient" value=pid.clone()/>
                                        <input type="hidden" name="who" value=value.clone()/>
                                        <input type="hidden" name="change" value="remove"/>
                                        <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                    </PostForm<ChangeCareTeam>>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!options.is_empty()).then(|| view! {
                <PostForm<ChangeCareTeam> class="form form--inline">
                    <input type="hidden" name="patient" value=pid.clone()/>
                    <input type="hidden" name="change" value="add"/>
                    <div class="field">
                        <label for="team-add">"Add to the care team"</label>
                        <select id="team-add" name="who" required>
                            <option value="">"Choose a clinician or a pool"</option>
                            {options.into_iter().map(|(v, n)| view! { <option value=v>{n}</option> }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="button">"Add"</button>
                </PostForm<ChangeCareTeam>>
            })}
        </section>
    }
    .into_any()
}
