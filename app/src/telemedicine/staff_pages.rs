//! `/staff/visits` (clinicians and front desk): the video visits not yet ended, each with
//! Cancel, and the form that schedules one. Plain HTML forms; a refused form comes back with a
//! short error code (nothing typed travels in the URL).

use super::{StaffVisits, VisitNotice, VisitState, DURATIONS};
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;

#[server(endpoint = "staff/visits")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_staff_visits() -> Result<StaffVisits, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ScheduleVisits)?;
    let (session, state) = (&cx.session, &cx.state);
    Ok(super::server::staff_visits(&state.db, &state.settings, &session.viewer.user_id, cx.addr, cx.now).await?)
}

#[server(endpoint = "staff/visits/schedule")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn schedule_visit(mrn: String, clinician: String, date: String, time: String, minutes: String, join_link: String) -> Result<(), AppError> {
    use super::server::{schedule, NewVisit};
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ScheduleVisits)?;
    let (session, state) = (&cx.session, &cx.state);
    let new = NewVisit { mrn: &mrn, clinician: &clinician, date: &date, time: &time, minutes: &minutes, join_link: &join_link };
    match schedule(&state.db, &state.settings, new, &session.viewer.user_id, cx.addr, cx.now).await {
        Ok(_) => {
            state.outbox_wakeup.notify_one();
            crate::layout::redirect_notice("/staff/visits", VisitNotice::Scheduled);
        }
        Err(e) => crate::layout::redirect_notice("/staff/visits#schedule", e.into_notice()?),
    }
    Ok(())
}

#[server(endpoint = "staff/visits/cancel")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn cancel_visit(visit: String) -> Result<(), AppError> {
    use super::server::{cancel, VisitError};
    use crate::platform::request;
    let cx = crate::context::StaffCtx::get(crate::access::Permission::ScheduleVisits)?;
    let (session, state) = (&cx.session, &cx.state);
    let id = super::VisitId::parse(&visit).ok_or_else(|| request::refuse(AppError::NotFound))?;
    match cancel(&state.db, &state.settings, &id, &session.viewer.user_id, cx.addr, cx.now).await {
        Ok(()) => {
            state.outbox_wakeup.notify_one();
            crate::layout::redirect_notice("/staff/visits", VisitNotice::Cancelled);
        }
        Err(VisitError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(e) => crate::layout::redirect_notice("/staff/visits", e.into_notice()?),
    }
    Ok(())
}

#[component]
pub fn StaffVisitsPage() -> impl IntoView {
    let visits = Resource::new(|| (), |_| load_staff_visits());
    view! {
        <Title text="Video visits | Staff"/>
            <h1>"Video visits"</h1>
            {notice::<VisitNotice>()}
            <Loaded resource=visits view=move |v| view! { <VisitTable v/> }/>
    }
}

#[component]
fn VisitTable(v: StaffVisits) -> impl IntoView {
    let zone = v.time_zone.clone();
    view! {
        <section aria-labelledby="upcoming">
            <h2 id="upcoming">"Not yet ended"</h2>
            {if v.visits.is_empty() {
                view! { <p>"No video visits are scheduled."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table">
                        <caption class="visually-hidden">"Video visits, soonest first"</caption>
                        <thead><tr>
                            <th scope="col">"When"</th><th scope="col">"Patient"</th><th scope="col">"Clinician"</th>
                            <th scope="col">"Video service"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {v.visits.into_iter().map(|s| {
                                let cancellable = matches!(s.visit.state, VisitState::Upcoming | VisitState::Open);
                                let label = format!("Cancel the visit of {} on {}", s.patient, s.visit.starts);
                                view! {
                                    <tr>
                                        <th scope="row">{format!("{} ({} min)", s.visit.starts, s.visit.minutes)}</th>
                                        <td>{format!("{} ({})", s.patient, s.mrn)}</td>
                                        <td>{s.visit.clinician.clone()}</td>
                                        <td>{s.host.clone()}</td>
                                        <td>{if s.visit.state == VisitState::Open { "Open to join" } else { s.visit.state.label() }}</td>
                                        <td>{cancellable.then(|| view! {
                                            <PostForm<CancelVisit>>
                                                <input type="hidden" name="visit" value=s.visit.id.to_string()/>
                                                <button type="submit" class="button button--quiet" aria-label=label>"Cancel"</button>
                                            </PostForm<CancelVisit>>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="schedule" class="section">
            <h2 id="schedule">"Schedule a video visit"</h2>
            <PostForm<ScheduleVisit> class="form">
                <div class="field">
                    <label for="mrn">"Patient's record number"</label>
                    <input id="mrn" name="mrn" type="text" required maxlength="20" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="clinician">"Clinician"</label>
                    <select id="clinician" name="clinician" required>
                        {v.clinicians.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="date">"Date"</label>
                    <input id="date" name="date" type="date" required/>
                </div>
                <div class="field">
                    <label for="time">"Start time"</label>
                    <input id="time" name="time" type="time" required aria-describedby="time-hint"/>
                    <p class="hint" id="time-hint">{format!("Clinic time ({zone}).")}</p>
                </div>
                <div class="field">
                    <label for="minutes">"Length"</label>
                    <select id="minutes" name="minutes">
                        {DURATIONS.iter().map(|m| view! { <option value=m.to_string() selected=*m == 30>{format!("{m} minutes")}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="join_link">"Join link of the video service"</label>
                    <input id="join_link" name="join_link" type="url" required maxlength="500" pattern="https://.*" aria-describedby="join-hint"/>
                    <p class="hint" id="join-hint">"The organisation's https:// link for the visit. It must not contain the patient's name "
                        "or anything about their health: patients open it through a page that shows the address."</p>
                </div>
                <button type="submit" class="button button--primary">"Schedule video visit"</button>
            </PostForm<ScheduleVisit>>
        </section>
    }
}
