//! The patient's Video visits (`/visits`) and one visit (`/visits/{id}`), where *Begin visit*
//! shows the limitations and asks for the acknowledgement. Plain HTML forms; the join link
//! is never on these pages: the acknowledgement's answer is a redirect to the leaving page
//! with the signed link.

use super::{PatientVisits, VisitNotice, VisitState, VisitSummary, JOIN_OPENS_MINUTES_BEFORE};
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice_code, notice_view, org_info, Loaded, NoticeCode, NoticeKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[server(endpoint = "visits/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_visits() -> Result<PatientVisits, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    Ok(super::server::patient_visits(&state.db, &state.settings, patient, cx.now).await?)
}

#[server(endpoint = "visits/one")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_visit(id: String) -> Result<VisitSummary, AppError> {
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (patient, state) = (&cx.patient, &cx.state);
    let id = super::VisitId::parse(&id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    super::server::patient_visit(&state.db, &state.settings, patient, &id, cx.now).await?.ok_or_else(|| request::refuse(AppError::NotFound))
}

/// *Begin visit*: `understood` is `yes` when the box was ticked. On success the answer is the
/// leaving page for the join link; otherwise back to the visit with a short error code.
#[server(endpoint = "visits/begin")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn begin_visit(visit: String, understood: Option<String>) -> Result<(), AppError> {
    use super::server::{acknowledge, VisitError};
    use crate::platform::request;
    let cx = crate::context::PatientCtx::get()?;
    let (session, patient, state) = (&cx.session, &cx.patient, &cx.state);
    let id = super::VisitId::parse(&visit).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let back = format!("/visits/{}", id.as_str());
    let understood = understood.as_deref() == Some("yes");
    match acknowledge(&state.db, &state.settings, &session.viewer.user_id, patient, &id, understood, cx.addr, cx.now).await {
        Ok(join) => match crate::external_links::server::leaving_href(&state.link_key, &join, &back) {
            Some(href) => crate::platform::request::redirect(&href),
            // Links are checked when scheduled; one that no longer passes is not handed out.
            None => return Err(AppError::Internal),
        },
        Err(VisitError::NotFound) => return Err(request::refuse(AppError::NotFound)),
        Err(e) => crate::layout::redirect_notice(&format!("{back}#begin"), e.into_notice()?),
    }
    Ok(())
}

#[component]
pub fn VisitsPage() -> impl IntoView {
    let visits = Resource::new(|| (), |_| load_visits());
    view! {
        <Title text="Video visits | Patient portal"/>
            <h1>"Video visits"</h1>
            <p>"Visits with your clinician by video, from your phone or computer. You can begin a visit from "
               {JOIN_OPENS_MINUTES_BEFORE}" minutes before it starts. Times are the clinic's local time."</p>
            <Loaded resource=visits view=move |v| view! { <VisitLists visits=v/> }/>
    }
}

#[component]
fn VisitLists(visits: PatientVisits) -> impl IntoView {
    let org = org_info();
    view! {
        <section aria-labelledby="upcoming">
            <h2 id="upcoming">"Upcoming"</h2>
            {if visits.upcoming.is_empty() {
                view! { <div class="empty"><p>"You have no video visits scheduled. To arrange one, call us at "{org.phone.clone()}"."</p></div> }.into_any()
            } else {
                view! {
                    <ul class="visits">
                        {visits.upcoming.into_iter().map(|v| {
                            let href = format!("/visits/{}", v.id.as_str());
                            let open = v.state == VisitState::Open;
                            view! {
                                <li class="visit">
                                    <h3>{v.starts.clone()}</h3>
                                    <dl class="details">
                                        <dt>"With"</dt><dd>{v.clinician.clone()}</dd>
                                        <dt>"Length"</dt><dd>{format!("{} minutes (until {})", v.minutes, v.ends)}</dd>
                                        <dt>"Status"</dt><dd>{if open { v.state.label().to_string() } else { format!("You can begin from {}", v.opens) }}</dd>
                                    </dl>
                                    <p><a class=if open { "button button--primary" } else { "button" } href=href>
                                        {if open { "Begin visit" } else { "Details" }}
                                        <span class="visually-hidden">{format!(" of {}", v.starts)}</span>
                                    </a></p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="past" class="section">
            <h2 id="past">"Past and cancelled"</h2>
            {if visits.past.is_empty() {
                view! { <p>"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="history">
                        {visits.past.into_iter().map(|v| view! {
                            <li>{format!("{} with {}: {}", v.starts, v.clinician, v.state.label())}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn VisitPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let visit = Resource::new(id, load_visit);
    // Only refusals come back to this page.
    let code = notice_code::<VisitNotice>();
    let error = move || code().filter(|n| n.kind() == NoticeKind::Error);
    view! {
        <Title text="Video visit | Patient portal"/>
            <p><a href="/visits">"← Video visits"</a></p>
            <Loaded resource=visit heading="Video visit" view=move |v| view! { <VisitDetail v error=error()/> }/>
    }
}

#[component]
fn VisitDetail(v: VisitSummary, error: Option<VisitNotice>) -> impl IntoView {
    let org = org_info();
    let state = v.state;
    view! {
        <h1>"Video visit"</h1>
        <dl class="details">
            <dt>"When"</dt><dd>{format!("{} – {}", v.starts, v.ends)}</dd>
            <dt>"With"</dt><dd>{v.clinician.clone()}</dd>
            <dt>"Status"</dt><dd>{state.label()}</dd>
        </dl>
        {error.map(notice_view)}
        {match state {
            VisitState::Open => view! {
                <section aria-labelledby="begin" class="section">
                    <h2 id="begin">"Before you begin"</h2>
                    <p>"A visit by video is not the same as a visit in person. Please read this first:"</p>
                    <ul class="limitations">
                        <li>"Your clinician cannot touch, listen to or examine you as in the office. An exam by video can "
                            <strong>"miss something a physical exam would find"</strong>
                            ". Your clinician may ask you to come in for an exam or tests."</li>
                        <li>"The video connection "<strong>"can fail"</strong>" or be poor. If it fails and does not come back, call us at "
                            <strong>{org.phone.clone()}</strong>"."</li>
                        <li>"The visit uses our video service, another site: join from a private place, on a device you trust."</li>
                        <li>"For a medical emergency, do not wait for the visit: call 911 or go to the nearest emergency room."</li>
                    </ul>
                    <PostForm<BeginVisit> class="form">
                        <input type="hidden" name="visit" value=v.id.to_string()/>
                        <div class="check">
                            <input type="checkbox" id="understood" name="understood" value="yes" required/>
                            <label for="understood">"I understand the limitations of a video visit, and that if the connection fails I should call "
                                {org.phone.clone()}"."</label>
                        </div>
                        <button type="submit" class="button button--primary">"Begin visit"</button>
                    </PostForm<BeginVisit>>
                    <p class="small">"Your answer is recorded with the time. Next, a page shows where the link leads before you leave the portal."</p>
                </section>
            }.into_any(),
            VisitState::Upcoming => view! {
                <p>{format!("You can begin this visit from {} ({} minutes before it starts). Come back to this page then.", v.opens, JOIN_OPENS_MINUTES_BEFORE)}</p>
            }.into_any(),
            VisitState::Ended => view! { <p>"This visit has ended."</p> }.into_any(),
            VisitState::Cancelled => view! {
                <p>"This visit was cancelled. To arrange another, call us at "{org.phone.clone()}"."</p>
            }.into_any(),
        }}
    }
}
