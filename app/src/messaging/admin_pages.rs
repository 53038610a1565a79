//! The setup of messaging: pools and care teams (administrators), out-of-office periods
//! (clinicians their own, administrators anyone's) and the holiday list (administrators; staff
//! who answer messages may read it). Plain HTML forms; every change is audited.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::search::{found, posted_search, SearchForm};
use crate::layout::{alert, notice, notice_codes, Loaded};
use crate::patients::PatientSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Clinical work (a nurse line), not billing or front-desk work.
    pub clinical: bool,
    pub members: Vec<Person>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Absence {
    pub id: String,
    pub provider: String,
    pub starts_text: String,
    pub ends_text: String,
    pub cover: String,
    pub note: String,
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holiday {
    /// YYYY-MM-DD
    pub day: String,
    /// "Friday"
    pub weekday: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolsData {
    pub pools: Vec<Pool>,
    pub staff: Vec<Person>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CareTeamData {
    pub patient: Option<PatientSummary>,
    pub team: Vec<(String, String)>,
    pub clinicians: Vec<Person>,
    pub pools: Vec<Person>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbsencesData {
    pub absences: Vec<Absence>,
    /// Whom the viewer may schedule for (administrators: every clinician; a clinician: themself).
    pub providers: Vec<Person>,
    pub clinicians: Vec<Person>,
    pub pools: Vec<Person>,
    pub time_zone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HolidaysData {
    /// From today on (in the clinic's time zone).
    pub upcoming: Vec<Holiday>,
    /// Earlier this year.
    pub earlier: Vec<Holiday>,
    pub can_edit: bool,
}

/// What every setup page says when a change found nothing to change (the page was out of date).
const UNCHANGED: &str = "Nothing was changed: the page was out of date. Here is how things stand now.";

notice_codes! {
    pub enum PoolsNotice {
        Created = Done "pool" => "The pool is created.",
        Clinical = Done "clinical" => "The pool now does clinical work.",
        NonClinical = Done "non-clinical" => "The pool now does non-clinical work.",
        MemberAdded = Done "member-added" => "The member is added.",
        MemberRemoved = Done "member-removed" => "The member is removed.",
        Name = Error "name" => "Please give the pool a name of at most 80 characters that no other pool has.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

notice_codes! {
    pub enum CareTeamNotice {
        Added = Done "added" => "Added to the care team.",
        Removed = Done "removed" => "Removed from the care team.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

notice_codes! {
    pub enum AbsencesNotice {
        Scheduled = Done "scheduled" => "The out-of-office period is scheduled. Messages to the provider go to the cover meanwhile.",
        Cancelled = Done "cancelled" => "The out-of-office period is cancelled.",
        Dates = Error "dates" => "Please give a start and an end (the end after the start, and still to come).",
        Cover = Error "cover" => "Please choose who covers: another clinician or a pool.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

notice_codes! {
    pub enum HolidaysNotice {
        Added = Done "holiday-added" => "The holiday is added.",
        Removed = Done "holiday-removed" => "The holiday is removed.",
        Day = Error "day" => "Please give a date (YYYY-MM-DD) and a name, for a day not already on the list.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

#[cfg(feature = "ssr")]
fn admin() -> Result<(crate::session::server::ActiveSession, crate::platform::state::AppState), AppError> {
    let session = crate::platform::request::require_permission(crate::access::Permission::SetUpMessaging)?;
    Ok((session, crate::platform::state::app_state()?))
}

// --- Pools -----------------------------------------------------------------------------------

#[server(endpoint = "staff/pools/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_pools() -> Result<PoolsData, AppError> {
    let (_, state) = admin()?;
    Ok(PoolsData {
        pools: super::admin::pools(&state.db).await?,
        staff: super::admin::staff_with_roles(&state.db, &["clinician", "front-desk", "billing"]).await?,
    })
}

/// `clinical` is the checkbox: "yes" when ticked, absent otherwise (non-clinical, the narrower).
#[server(endpoint = "staff/pools/create")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn create_pool(name: String, description: String, clinical: Option<String>) -> Result<(), AppError> {
    use crate::platform::{now_ms, request};
    let (session, state) = admin()?;
    let name = name.trim();
    let description: String = description.trim().chars().take(300).collect();
    let clinical = clinical.as_deref() == Some("yes");
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && super::admin::create_pool(&state.db, &session.viewer.user_id, name, &description, clinical, request::client_addr(), now_ms()).await?;
    redirect_notice("/staff/pools", if ok { PoolsNotice::Created } else { PoolsNotice::Name });
    Ok(())
}

/// Makes a pool clinical (`clinical` = "yes") or non-clinical ("no").
#[server(endpoint = "staff/pools/clinical")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_pool_clinical(pool: String, clinical: String) -> Result<(), AppError> {
    use crate::platform::{now_ms, request};
    let (session, state) = admin()?;
    let pool = super::PoolId::parse(&pool).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let clinical = match clinical.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(request::refuse(AppError::NotFound)),
    };
    let done = super::admin::set_pool_clinical(&state.db, &session.viewer.user_id, &pool, clinical, request::client_addr(), now_ms()).await?;
    let outcome = match (done, clinical) {
        (true, true) => PoolsNotice::Clinical,
        (true, false) => PoolsNotice::NonClinical,
        _ => PoolsNotice::Unchanged,
    };
    redirect_notice("/staff/pools", outcome);
    Ok(())
}

#[server(endpoint = "staff/pools/member")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_pool_member(pool: String, user: String, change: String) -> Result<(), AppError> {
    use crate::platform::{now_ms, request};
    let (session, state) = admin()?;
    let pool = super::PoolId::parse(&pool).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let add = change == "add";
    let done = super::admin::set_pool_member(&state.db, &session.viewer.user_id, &pool, &user, add, request::client_addr(), now_ms()).await?;
    let outcome = match (done, add) {
        (true, true) => PoolsNotice::MemberAdded,
        (true, false) => PoolsNotice::MemberRemoved,
        _ => PoolsNotice::Unchanged,
    };
    redirect_notice("/staff/pools", outcome);
    Ok(())
}

#[component]
pub fn PoolsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_pools());
    view! {
        <Title text="Pools | Staff"/>
            <h1>"Pools"</h1>
            {notice::<PoolsNotice>()}
            <p class="lead">"A pool is a shared inbox that several staff members work, such as a nurse line. Patients can write to the pools on their care team."</p>
            <p>"A "<strong>"clinical"</strong>" pool (a nurse line) does clinical work: the clinicians who work it read the clinical conversations of the patients whose care team it is on, and a conversation sent to it is clinical. "
                "Everyone else, in any pool, reads only the conversations sent or forwarded to them or their pools (minimum necessary)."</p>
            <Loaded resource=data view=move |d| view! { <PoolsView d/> }/>
    }
}

#[component]
fn PoolsView(d: PoolsData) -> impl IntoView {
    let staff = d.staff;
    view! {
        {d.pools.into_iter().map(|p| {
            let heading_id = format!("pool-{}", p.id);
            let select_id = format!("add-{}", p.id);
            let candidates: Vec<Person> = staff.iter().filter(|s| !p.members.iter().any(|m| m.id == s.id)).cloned().collect();
            let pool_id = p.id.clone();
            let pool_name = p.name.clone();
            view! {
                <section class="section" aria-labelledby=heading_id.clone()>
                    <h2 id=heading_id.clone()>{p.name.clone()}</h2>
                    <p>{p.description.clone()}</p>
                    <div>
                        <strong>{if p.clinical { "Clinical pool" } else { "Non-clinical pool" }}</strong>" "
                        <form method="post" action={<SetPoolClinical as leptos::server_fn::ServerFn>::PATH} class="inline-form">
                            <input type="hidden" name="pool" value=p.id.clone()/>
                            <input type="hidden" name="clinical" value=if p.clinical { "no" } else { "yes" }/>
                            <button type="submit" class="button button--quiet">
                                {if p.clinical { format!("Make {} non-clinical", p.name) } else { format!("Make {} clinical", p.name) }}
                            </button>
                        </form>
                    </div>
                    {if p.members.is_empty() {
                        view! { <p>"No members yet: messages to this pool wait for nobody."</p> }.into_any()
                    } else {
                        view! {
                            <ul>
                                {p.members.into_iter().map(|m| {
                                    let label = format!("Remove {} from {}", m.name, pool_name);
                                    view! {
                                        <li>
                                            {m.name.clone()}" "
                                            <form method="post" action={<SetPoolMember as leptos::server_fn::ServerFn>::PATH} class="inline-form">
                                                <input type="hidden" name="pool" value=pool_id.clone()/>
                                                <input type="hidden" name="user" value=m.id/>
                                                <input type="hidden" name="change" value="remove"/>
                                                <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                            </form>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    {(!candidates.is_empty()).then(|| view! {
                        <form method="post" action={<SetPoolMember as leptos::server_fn::ServerFn>::PATH} class="form form--inline">
                            <input type="hidden" name="pool" value=p.id.clone()/>
                            <input type="hidden" name="change" value="add"/>
                            <div class="field">
                                <label for=select_id.clone()>{format!("Add a member to {}", p.name)}</label>
                                <select id=select_id.clone() name="user" required>
                                    <option value="">"Choose a staff member"</option>
                                    {candidates.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                                </select>
                            </div>
                            <button type="submit" class="button">"Add member"</button>
                        </form>
                    })}
                </section>
            }
        }).collect_view()}
        <section class="section" aria-labelledby="new-pool">
            <h2 id="new-pool">"New pool"</h2>
            <form method="post" action={<CreatePool as leptos::server_fn::ServerFn>::PATH} class="form">
                <div class="field">
                    <label for="pool-name">"Name"</label>
                    <input type="text" id="pool-name" name="name" required maxlength="80"/>
                </div>
                <div class="field">
                    <label for="pool-description">"What it answers (patients see this)"</label>
                    <input type="text" id="pool-description" name="description" maxlength="300"/>
                </div>
                <div class="check">
                    <input type="checkbox" id="pool-clinical" name="clinical" value="yes"/>
                    <label for="pool-clinical">"Clinical pool (clinical work such as a nurse line; leave it for billing or front-desk work)"</label>
                </div>
                <button type="submit" class="button button--primary">"Create pool"</button>
            </form>
        </section>
    }
}

// --- Care teams ------------------------------------------------------------------------------

#[server(endpoint = "staff/care-teams/load")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_care_team(patient: String) -> Result<CareTeamData, AppError> {
    let (_, state) = admin()?;
    let clinicians = super::admin::staff_with_roles(&state.db, &["clinician"]).await?;
    let pools = super::admin::pools(&state.db).await?.into_iter().map(|p| Person { id: p.id, name: p.name }).collect();
    let Some(id) = crate::patients::PatientId::parse(&patient) else {
        return Ok(CareTeamData { patient: None, team: Vec::new(), clinicians, pools });
    };
    let patient = crate::patients::server::find(&state.db, &id).await?;
    let team = match &patient {
        Some(_) => super::admin::care_team(&state.db, &id).await?.into_iter().map(|(r, name)| (r.to_value(), name)).collect(),
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
    use crate::platform::{now_ms, request};
    let (session, state) = admin()?;
    let id = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let add = change == "add";
    let done = match super::Recipient::parse(&who) {
        Some(r) => super::admin::set_care_team(&state.db, &session.viewer.user_id, &id, &r, add, request::client_addr(), now_ms()).await?,
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
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match team.await {
                        Ok(d) => view! { <CareTeamView d/> }.into_any(),
                        Err(e) => alert(e.to_string()).into_any(),
                    }
                })}
            </Suspense>
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
                                    <form method="post" action={<ChangeCareTeam as leptos::server_fn::ServerFn>::PATH} class="inline-form">
                                        <input type="hidden" name="patient" value=pid.clone()/>
                                        <input type="hidden" name="who" value=value.clone()/>
                                        <input type="hidden" name="change" value="remove"/>
                                        <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!options.is_empty()).then(|| view! {
                <form method="post" action={<ChangeCareTeam as leptos::server_fn::ServerFn>::PATH} class="form form--inline">
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
                </form>
            })}
        </section>
    }
    .into_any()
}

// --- Out of office ---------------------------------------------------------------------------

#[cfg(feature = "ssr")]
fn absence_staff() -> Result<(crate::session::server::ActiveSession, crate::platform::state::AppState, bool), AppError> {
    use crate::types::{AccountKind, StaffRole};
    let session = crate::platform::request::require_permission(crate::access::Permission::SetOutOfOffice)?;
    let is_admin = matches!(session.viewer.kind, AccountKind::Staff(StaffRole::Administrator));
    Ok((session, crate::platform::state::app_state()?, is_admin))
}

#[server(endpoint = "staff/absences/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_absences() -> Result<AbsencesData, AppError> {
    use crate::platform::now_ms;
    let (session, state, is_admin) = absence_staff()?;
    let zone = &state.settings.messaging.time_zone;
    let clinicians = super::admin::staff_with_roles(&state.db, &["clinician"]).await?;
    let providers =
        if is_admin { clinicians.clone() } else { vec![Person { id: session.viewer.user_id.to_string(), name: session.viewer.display_name.clone() }] };
    let only = (!is_admin).then_some(&session.viewer.user_id);
    Ok(AbsencesData {
        absences: super::admin::absences(&state.db, zone, only, now_ms()).await?,
        providers,
        clinicians,
        pools: super::admin::pools(&state.db).await?.into_iter().map(|p| Person { id: p.id, name: p.name }).collect(),
        time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
    })
}

/// A `datetime-local` value ("2026-12-07T08:00") in the clinic's time zone, as milliseconds.
#[cfg(feature = "ssr")]
fn local_ms(value: &str, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let dt: jiff::civil::DateTime = value.trim().parse().ok()?;
    Some(dt.to_zoned(zone.clone()).ok()?.timestamp().as_millisecond())
}

#[server(endpoint = "staff/absences/schedule")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn schedule_absence(provider: String, starts: String, ends: String, cover: String, note: String) -> Result<(), AppError> {
    use super::admin::AbsenceError;
    use crate::platform::{now_ms, request};
    use crate::types::UserId;
    let (session, state, is_admin) = absence_staff()?;
    let provider = if is_admin { UserId::parse(&provider) } else { Some(session.viewer.user_id.clone()) };
    let zone = &state.settings.messaging.time_zone;
    let (Some(starts_at), Some(ends_at)) = (local_ms(&starts, zone), local_ms(&ends, zone)) else {
        redirect_notice("/staff/absences", AbsencesNotice::Dates);
        return Ok(());
    };
    let Some(cover) = super::Recipient::parse(&cover) else {
        redirect_notice("/staff/absences", AbsencesNotice::Cover);
        return Ok(());
    };
    let note: String = note.trim().chars().take(200).collect();
    let now = now_ms();
    match super::admin::schedule_absence(&state.db, &session.viewer.user_id, provider.as_ref(), starts_at, ends_at, &cover, &note, request::client_addr(), now)
        .await
    {
        Ok(_) => {
            // Messages already waiting for the provider go to the cover at once when the
            // period has begun (the background task would do it within a minute).
            if starts_at <= now {
                super::server::reroute_started_absences(&state.db, &state.settings, now).await?;
            }
            redirect_notice("/staff/absences", AbsencesNotice::Scheduled);
        }
        Err(AbsenceError::Dates) => redirect_notice("/staff/absences", AbsencesNotice::Dates),
        Err(AbsenceError::Cover) => redirect_notice("/staff/absences", AbsencesNotice::Cover),
        Err(AbsenceError::Db(e)) => return Err(e.into()),
    }
    Ok(())
}

#[server(endpoint = "staff/absences/cancel")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn cancel_absence(id: String) -> Result<(), AppError> {
    use crate::platform::{now_ms, request};
    let (session, state, is_admin) = absence_staff()?;
    let id = super::AbsenceId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let only = (!is_admin).then_some(&session.viewer.user_id);
    let done = super::admin::cancel_absence(&state.db, &session.viewer.user_id, &id, only, request::client_addr(), now_ms()).await?;
    redirect_notice("/staff/absences", if done { AbsencesNotice::Cancelled } else { AbsencesNotice::Unchanged });
    Ok(())
}

#[component]
pub fn AbsencesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_absences());
    view! {
        <Title text="Out of office | Staff"/>
            <h1>"Out of office"</h1>
            {notice::<AbsencesNotice>()}
            <p class="lead">"While a provider is out, messages patients send them go to the cover instead, and the messages already waiting for them move to the cover when the period begins. Staff see where each message went and why."</p>
            <Loaded resource=data view=move |d| view! { <AbsencesView d/> }/>
    }
}

#[component]
fn AbsencesView(d: AbsencesData) -> impl IntoView {
    let single = d.providers.len() == 1;
    view! {
        <section class="section" aria-labelledby="periods">
            <h2 id="periods">"Current and upcoming periods"</h2>
            {if d.absences.is_empty() {
                view! { <p>"None."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <caption>"Out-of-office periods, soonest first"</caption>
                        <thead><tr>
                            <th scope="col">"Provider"</th><th scope="col">"From"</th><th scope="col">"Until"</th>
                            <th scope="col">"Covered by"</th><th scope="col">"Note"</th><th scope="col"><span class="visually-hidden">"Action"</span></th>
                        </tr></thead>
                        <tbody>
                            {d.absences.into_iter().map(|a| {
                                let label = format!("Cancel the period of {} from {}", a.provider, a.starts_text);
                                view! {
                                    <tr>
                                        <td>{a.provider.clone()}{a.current.then(|| view! { " "<span class="badge">"Now"</span> })}</td>
                                        <td>{a.starts_text.clone()}</td>
                                        <td>{a.ends_text.clone()}</td>
                                        <td>{a.cover.clone()}</td>
                                        <td>{a.note.clone()}</td>
                                        <td>
                                            <form method="post" action={<CancelAbsence as leptos::server_fn::ServerFn>::PATH} class="inline-form">
                                                <input type="hidden" name="id" value=a.id/>
                                                <button type="submit" class="button button--quiet" aria-label=label>"Cancel"</button>
                                            </form>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="section" aria-labelledby="new-period">
            <h2 id="new-period">"Schedule a period"</h2>
            <form method="post" action={<ScheduleAbsence as leptos::server_fn::ServerFn>::PATH} class="form">
                {if single {
                    let p = d.providers[0].clone();
                    view! { <input type="hidden" name="provider" value=p.id/><p>{format!("For {}", p.name)}</p> }.into_any()
                } else {
                    view! {
                        <div class="field">
                            <label for="provider">"Provider"</label>
                            <select id="provider" name="provider" required>
                                <option value="">"Choose a clinician"</option>
                                {d.providers.iter().map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                    }.into_any()
                }}
                <div class="field">
                    <label for="starts">{format!("From (date and time, {})", d.time_zone)}</label>
                    <input type="datetime-local" id="starts" name="starts" required/>
                </div>
                <div class="field">
                    <label for="ends">{format!("Until (date and time, {})", d.time_zone)}</label>
                    <input type="datetime-local" id="ends" name="ends" required/>
                </div>
                <div class="field">
                    <label for="cover">"Covered by"</label>
                    <select id="cover" name="cover" required>
                        <option value="">"Choose a clinician or a pool"</option>
                        {d.clinicians.iter().filter(|c| !single || c.id != d.providers[0].id).map(|c| view! { <option value=format!("provider:{}", c.id)>{c.name.clone()}</option> }).collect_view()}
                        {d.pools.iter().map(|p| view! { <option value=format!("pool:{}", p.id)>{format!("{} (pool)", p.name)}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="note">"Note for staff (optional)"</label>
                    <input type="text" id="note" name="note" maxlength="200"/>
                </div>
                <button type="submit" class="button button--primary">"Schedule"</button>
            </form>
        </section>
    }
}

// --- Holidays --------------------------------------------------------------------------------

#[server(endpoint = "staff/holidays/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_holidays() -> Result<HolidaysData, AppError> {
    use crate::types::{AccountKind, StaffRole};
    let cx = crate::platform::context::StaffCtx::get(crate::access::Permission::SeeHolidays)?;
    let (session, state) = (&cx.session, &cx.state);
    let today = jiff::Timestamp::now().to_zoned(state.settings.messaging.time_zone.clone()).date();
    let today_text = today.strftime("%Y-%m-%d").to_string();
    let (upcoming, earlier) = super::admin::holidays(&state.db, &format!("{:04}-01-01", today.year())).await?.into_iter().partition(|h| h.day >= today_text);
    Ok(HolidaysData { upcoming, earlier, can_edit: matches!(session.viewer.kind, AccountKind::Staff(StaffRole::Administrator)) })
}

#[server(endpoint = "staff/holidays/change")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_holiday(day: String, name: String, change: String) -> Result<(), AppError> {
    use crate::platform::{now_ms, request};
    let (session, state) = admin()?;
    let Some(date) = crate::dates::CalendarDate::parse(&day) else {
        redirect_notice("/staff/holidays", HolidaysNotice::Day);
        return Ok(());
    };
    let day = date.to_string();
    let add = change == "add";
    let name = name.trim();
    if add && (name.is_empty() || name.chars().count() > 80) {
        redirect_notice("/staff/holidays", HolidaysNotice::Day);
        return Ok(());
    }
    let done = super::admin::set_holiday(&state.db, &session.viewer.user_id, &day, add.then_some(name), request::client_addr(), now_ms()).await?;
    let outcome = match (done, add) {
        (true, true) => HolidaysNotice::Added,
        (true, false) => HolidaysNotice::Removed,
        (false, true) => HolidaysNotice::Day,
        (false, false) => HolidaysNotice::Unchanged,
    };
    redirect_notice("/staff/holidays", outcome);
    Ok(())
}

#[component]
pub fn HolidaysPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_holidays());
    view! {
        <Title text="Holidays | Staff"/>
            <h1>"Holidays"</h1>
            {notice::<HolidaysNotice>()}
            <p class="lead">"Due dates of messages are counted in business days: Monday to Friday except these holidays. Adding a holiday changes the due dates of messages sent from then on, not of those already sent."</p>
            <Loaded resource=data view=move |d| view! { <HolidaysView d/> }/>
    }
}

#[component]
fn HolidaysView(d: HolidaysData) -> impl IntoView {
    let can_edit = d.can_edit;
    view! {
        {if d.upcoming.is_empty() {
            view! { <p>"No holidays to come are on the list."</p> }.into_any()
        } else {
            view! { <HolidayTable caption="Days the organisation is closed" holidays=d.upcoming can_edit/> }.into_any()
        }}
        {(!d.earlier.is_empty()).then(|| view! {
            <HolidayTable caption="Holidays earlier this year" holidays=d.earlier can_edit/>
        })}
        {can_edit.then(|| view! {
            <section class="section" aria-labelledby="new-holiday">
                <h2 id="new-holiday">"Add a holiday"</h2>
                <form method="post" action={<ChangeHoliday as leptos::server_fn::ServerFn>::PATH} class="form">
                    <input type="hidden" name="change" value="add"/>
                    <div class="field">
                        <label for="holiday-day">"Date"</label>
                        <input type="date" id="holiday-day" name="day" required/>
                    </div>
                    <div class="field">
                        <label for="holiday-name">"Name"</label>
                        <input type="text" id="holiday-name" name="name" required maxlength="80"/>
                    </div>
                    <button type="submit" class="button button--primary">"Add holiday"</button>
                </form>
            </section>
        })}
    }
}

#[component]
fn HolidayTable(caption: &'static str, holidays: Vec<Holiday>, can_edit: bool) -> impl IntoView {
    view! {
        <table class="table">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col">"Date"</th><th scope="col">"Day"</th><th scope="col">"Name"</th>
                {can_edit.then(|| view! { <th scope="col"><span class="visually-hidden">"Action"</span></th> })}
            </tr></thead>
            <tbody>
                {holidays.into_iter().map(|h| {
                    let label = format!("Remove {} ({})", h.name, h.day);
                    view! {
                        <tr>
                            <th scope="row">{h.day.clone()}</th>
                            <td>{h.weekday.clone()}</td>
                            <td>{h.name.clone()}</td>
                            {can_edit.then(|| view! {
                                <td>
                                    <form method="post" action={<ChangeHoliday as leptos::server_fn::ServerFn>::PATH} class="inline-form">
                                        <input type="hidden" name="day" value=h.day.clone()/>
                                        <input type="hidden" name="name" value=""/>
                                        <input type="hidden" name="change" value="remove"/>
                                        <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                    </form>
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
