//! Out-of-office periods: clinicians schedule their own, administrators anyone's; messages to
//! a provider who is out go to the cover.

use super::UNCHANGED;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use crate::messaging::admin::{Absence, Person};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbsencesData {
    pub absences: Vec<Absence>,
    /// Whom the viewer may schedule for (administrators: every clinician; a clinician: themself).
    pub providers: Vec<Person>,
    pub clinicians: Vec<Person>,
    pub pools: Vec<Person>,
    pub time_zone: String,
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

#[cfg(feature = "ssr")]
fn absence_staff() -> Result<(crate::session::server::ActiveSession, crate::state::AppState, bool), AppError> {
    use crate::types::{AccountKind, StaffRole};
    let session = crate::platform::request::require_permission(crate::access::Permission::SetOutOfOffice)?;
    let is_admin = matches!(session.viewer.kind, AccountKind::Staff(StaffRole::Administrator));
    Ok((session, crate::state::app_state()?, is_admin))
}

#[server(endpoint = "staff/absences/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_absences() -> Result<AbsencesData, AppError> {
    let (session, state, is_admin) = absence_staff()?;
    let zone = &state.settings.messaging.time_zone;
    let clinicians = crate::messaging::admin::staff_with_roles(&state.db, &["clinician"]).await?;
    let providers =
        if is_admin { clinicians.clone() } else { vec![Person { id: session.viewer.user_id.to_string(), name: session.viewer.display_name.clone() }] };
    let only = (!is_admin).then_some(&session.viewer.user_id);
    Ok(AbsencesData {
        absences: crate::messaging::admin::absences(&state.db, zone, only, state.clock.now_ms()).await?,
        providers,
        clinicians,
        pools: crate::messaging::admin::pools(&state.db).await?.into_iter().map(|p| Person { id: p.id, name: p.name }).collect(),
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
    use crate::messaging::admin::AbsenceError;
    use crate::platform::request;
    use crate::types::UserId;
    let (session, state, is_admin) = absence_staff()?;
    let provider = if is_admin { UserId::parse(&provider) } else { Some(session.viewer.user_id.clone()) };
    let zone = &state.settings.messaging.time_zone;
    let (Some(starts_at), Some(ends_at)) = (local_ms(&starts, zone), local_ms(&ends, zone)) else {
        redirect_notice("/staff/absences", AbsencesNotice::Dates);
        return Ok(());
    };
    let Some(cover) = crate::messaging::Recipient::parse(&cover) else {
        redirect_notice("/staff/absences", AbsencesNotice::Cover);
        return Ok(());
    };
    let note: String = note.trim().chars().take(200).collect();
    let now = state.clock.now_ms();
    match crate::messaging::admin::schedule_absence(
        &state.db,
        &session.viewer.user_id,
        provider.as_ref(),
        starts_at,
        ends_at,
        &cover,
        &note,
        request::client_addr(),
        now,
    )
    .await
    {
        Ok(_) => {
            // Messages already waiting for the provider go to the cover at once when the
            // period has begun (the background task would do it within a minute).
            if starts_at <= now {
                crate::messaging::server::reroute_started_absences(&state.db, &state.settings, now).await?;
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
    use crate::platform::request;
    let (session, state, is_admin) = absence_staff()?;
    let id = crate::messaging::AbsenceId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let only = (!is_admin).then_some(&session.viewer.user_id);
    let done = crate::messaging::admin::cancel_absence(&state.db, &session.viewer.user_id, &id, only, request::client_addr(), state.clock.now_ms()).await?;
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
                                            <PostForm<CancelAbsence> class="inline-form">
                                                <input type="hidden" name="id" value=a.id/>
                                                <button type="submit" class="button button--quiet" aria-label=label>"Cancel"</button>
                                            </PostForm<CancelAbsence>>
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
            <PostForm<ScheduleAbsence> class="form">
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
            </PostForm<ScheduleAbsence>>
        </section>
    }
}
