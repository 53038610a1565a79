//! Terms and conditions as versioned documents (SPEC R-ENR-2). Administrators publish a version
//! (title, text, effective date); every patient accepts the version in force before anything
//! else, at enrolment or at their next sign-in after a new version takes effect. Each
//! acceptance is recorded with the time and the client's address.
//!
//! The text is plain: paragraphs separated by blank lines, and lines starting with `## ` as
//! headings. No markup from the text ever reaches the page as HTML.

#[cfg(feature = "ssr")]
pub mod server;

use crate::account::format_utc;
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The text shipped with the portal, published as version 1 when a database has none.
pub const SAMPLE_TITLE: &str = "Patient portal terms and conditions";
pub const SAMPLE_BODY: &str = include_str!("sample-terms.txt");

/// A published version of the terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TermsDocument {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub effective_at: i64,
    pub published_at: i64,
}

/// One version, as the administrators' list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TermsVersionSummary {
    pub version: i64,
    pub title: String,
    pub effective_at: i64,
    pub published_at: i64,
    pub published_by: Option<String>,
    pub acceptances: i64,
    pub in_force: bool,
}

/// An acceptance, as the patient's account page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: i64,
    pub title: String,
    pub accepted_at: i64,
    pub client_addr: Option<String>,
}

#[server(endpoint = "terms/current")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn current_terms() -> Result<Option<TermsDocument>, AppError> {
    let state = crate::state::app_state()?;
    Ok(server::in_force(&state.db, state.clock.now_ms()).await?)
}

notice_codes! {
    /// Why the acceptance of the terms was not recorded.
    pub enum AcceptNotice {
        Agree = Error "agree" => "To use the portal, tick the box to say you agree to the terms.",
        Changed = Error "changed" => "The terms were just updated. Please read this version.",
    }
}

notice_codes! {
    /// Why a version was not published (a published one is told by `?published=N`).
    pub enum PublishNotice {
        Title = Error "title" => "Give the version a title of up to 200 characters.",
        Body = Error "body" => "The text of the terms is missing or too long.",
        Date = Error "date" => "The effective date must be today or later (YYYY-MM-DD).",
    }
}

/// The patient accepts the version in force; then the next step (if any) or their home page.
#[server(endpoint = "terms/accept")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn accept_terms(terms_id: String, agree: Option<String>) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::admit(crate::access::Gate::PATIENT.during(&[crate::session::PendingStep::Terms]))?;
    let state = app_state()?;
    let now = state.clock.now_ms();
    if agree.as_deref() != Some("yes") {
        crate::layout::redirect_notice("/account/terms", AcceptNotice::Agree);
        return Ok(());
    }
    let Some(current) = server::in_force(&state.db, now).await? else {
        crate::platform::request::redirect("/home");
        return Ok(());
    };
    if current.id != terms_id {
        // A newer version took effect while the page was open: show it.
        crate::layout::redirect_notice("/account/terms", AcceptNotice::Changed);
        return Ok(());
    }
    let mut tx = state.db.begin_write().await?;
    server::accept(&mut tx, &session.viewer.user_id, &current, request::client_addr(), now).await?;
    let next = crate::account::steps::after_terms(&mut tx, &state.settings, &session, now).await?;
    tx.commit().await?;
    crate::platform::request::redirect(next.map(|s| s.path()).unwrap_or("/home"));
    Ok(())
}

#[server(endpoint = "terms/mine")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn my_acceptances() -> Result<Vec<Acceptance>, AppError> {
    let session = crate::platform::request::require_patient()?;
    let state = crate::state::app_state()?;
    Ok(server::acceptances_of(&state.db, &session.viewer.user_id).await?)
}

#[server(endpoint = "terms/versions")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn terms_versions() -> Result<Vec<TermsVersionSummary>, AppError> {
    let cx = crate::context::StaffCtx::get(crate::access::Permission::PublishTerms)?;
    let state = &cx.state;
    Ok(server::versions(&state.db, cx.now).await?)
}

/// An administrator publishes a new version. An empty effective date means "now".
#[server(endpoint = "terms/publish")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn publish_terms(title: String, body: String, effective_date: String) -> Result<(), AppError> {
    use crate::dates::CalendarDate;

    let cx = crate::context::StaffCtx::get(crate::access::Permission::PublishTerms)?;
    let (session, state) = (&cx.session, &cx.state);
    let now = cx.now;
    let title = title.trim();
    let body = body.replace("\r\n", "\n");
    if title.is_empty() || title.chars().count() > 200 {
        crate::layout::redirect_notice("/staff/terms", PublishNotice::Title);
        return Ok(());
    }
    if body.trim().chars().count() < 20 || body.len() > 200_000 {
        crate::layout::redirect_notice("/staff/terms", PublishNotice::Body);
        return Ok(());
    }
    let effective_at = match effective_date.trim() {
        "" => now,
        text => match CalendarDate::parse(text) {
            Some(date) if date >= CalendarDate::of_ms(now) => date.start_ms().max(now),
            _ => {
                crate::layout::redirect_notice("/staff/terms", PublishNotice::Date);
                return Ok(());
            }
        },
    };
    let mut tx = state.db.begin_write().await?;
    let version = server::publish(&mut tx, title, body.trim(), effective_at, Some(&session.viewer.user_id), cx.addr, now).await?;
    tx.commit().await?;
    crate::platform::request::redirect(&format!("/staff/terms?published={version}"));
    Ok(())
}

/// The text of a version as headings and paragraphs.
#[component]
pub fn TermsText(body: String) -> impl IntoView {
    let blocks: Vec<_> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| match b.strip_prefix("## ") {
            Some(heading) => view! { <h2>{heading.to_string()}</h2> }.into_any(),
            None => view! { <p>{b.to_string()}</p> }.into_any(),
        })
        .collect();
    blocks.collect_view()
}

/// The terms in force, for anyone (linked from every page's footer).
#[component]
pub fn TermsPage() -> impl IntoView {
    let terms = Resource::new(|| (), |_| current_terms());
    view! {
        <Title text="Terms and conditions | Patient portal"/>
            <Loaded resource=terms view={move |data| match data {
                    Some(t) => view! {
                        <article class="prose">
                            <h1>"Terms and conditions"</h1>
                            <h2>{t.title.clone()}</h2>
                            <p class="small">"Version "{t.version}", in force since "{format_utc(t.effective_at)}"."</p>
                            <TermsText body=t.body.clone()/>
                            <p>"Read how we protect your information in our "<a href="/privacy">"Notice of Privacy Practices"</a>"."</p>
                        </article>
                    }.into_any(),
                    None => view! { <h1>"Terms and conditions"</h1><p>"No terms have been published yet."</p> }.into_any(),
            }}/>
    }
}

/// The terms in a scrollable box, as the enrolment and acceptance forms show them.
#[component]
pub fn TermsBox(terms: TermsDocument) -> impl IntoView {
    view! {
        <section class="terms-box" tabindex="0" aria-labelledby="terms-title">
            <h2 id="terms-title">{terms.title.clone()}" (version "{terms.version}")"</h2>
            <TermsText body=terms.body.clone()/>
            <p>"Read how we protect your information in our "<a href="/privacy">"Notice of Privacy Practices"</a>"."</p>
        </section>
    }
}

/// Shown after sign-in when the patient has not accepted the version in force: nothing else
/// opens until they do.
#[component]
pub fn AcceptTermsPage() -> impl IntoView {
    let terms = Resource::new(|| (), |_| current_terms());
    view! {
        <Title text="Terms and conditions | Patient portal"/>
            <h1>"Please read and accept the terms"</h1>
            <p class="lead">"Our terms and conditions have changed since you last accepted them. "
                "Please read them; you can use the portal once you accept."</p>
            {notice::<AcceptNotice>()}
            <Loaded resource=terms view={move |data| match data {
                    Some(t) => view! {
                        <TermsBox terms=t.clone()/>
                        <PostForm<AcceptTerms> class="form">
                            <input type="hidden" name="terms_id" value=t.id.clone()/>
                            <div class="check">
                                <input type="checkbox" id="agree" name="agree" value="yes" required/>
                                <label for="agree">"I have read and agree to the terms and conditions"</label>
                            </div>
                            <button type="submit" class="button button--primary">"Accept and continue"</button>
                        </PostForm<AcceptTerms>>
                        <p class="small">"If you do not agree, you can sign out; call the office if you have questions."</p>
                    }.into_any(),
                    None => view! { <p><a href="/home">"Continue to your home page"</a></p> }.into_any(),
            }}/>
    }
}

/// Administrators: the versions published so far, and the form to publish a new one.
#[component]
pub fn StaffTermsPage() -> impl IntoView {
    let versions = Resource::new(|| (), |_| terms_versions());
    let query = use_query_map();
    let published = move || query.read().get("published");
    let problem = notice::<PublishNotice>();
    let message = move || {
        match published() {
        Some(v) => Some(
            view! { <p class="notice notice--status" role="status">{format!("Version {v} is published. Patients accept it at their next sign-in once it is in force.")}</p> }
                .into_any(),
        ),
        None => problem(),
    }
    };
    view! {
        <Title text="Terms versions | Staff"/>
            <h1>"Terms and conditions"</h1>
            {message}
            <Loaded resource=versions view={move |list| {
                    view! {
                        <table class="table">
                            <caption>"Published versions, newest first"</caption>
                            <thead><tr>
                                <th scope="col">"Version"</th><th scope="col">"Title"</th><th scope="col">"In force from"</th>
                                <th scope="col">"Published"</th><th scope="col">"By"</th><th scope="col">"Accepted by"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|v| view! {
                                    <tr>
                                        <td>{v.version}{v.in_force.then_some(" (in force)")}</td>
                                        <td>{v.title}</td>
                                        <td>{format_utc(v.effective_at)}</td>
                                        <td>{format_utc(v.published_at)}</td>
                                        <td>{v.published_by.unwrap_or_else(|| "shipped with the portal".into())}</td>
                                        <td>{v.acceptances}" patients"</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
            }}/>
            <h2>"Publish a new version"</h2>
            <p>"Write paragraphs separated by a blank line; start a line with ## for a heading. "
               "Once it is in force, every patient must accept it at their next sign-in."</p>
            <PostForm<PublishTerms> class="form">
                <div class="field">
                    <label for="terms-title-input">"Title"</label>
                    <input id="terms-title-input" name="title" type="text" required maxlength="200"/>
                </div>
                <div class="field">
                    <label for="terms-body">"Text"</label>
                    <textarea id="terms-body" name="body" rows="16" required></textarea>
                </div>
                <div class="field">
                    <label for="terms-effective">"In force from (leave empty for now)"</label>
                    <input id="terms-effective" name="effective_date" type="date"/>
                </div>
                <button type="submit" class="button button--primary">"Publish"</button>
            </PostForm<PublishTerms>>
    }
}
