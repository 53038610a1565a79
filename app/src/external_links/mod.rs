//! Links to other sites (SPEC R-GEN-6). Every link that leaves the portal is rendered by
//! [`ExternalLink`] (or [`external_link`]): it says "(opens another site)" in its text and
//! leads first to the leaving page, `/leaving?to=<address>&sig=<signature>&back=<page>`, which
//! names the destination's host, says the organisation is not responsible for what is there,
//! and offers Continue (a plain link to the address, sent without a Referer) and Back.
//!
//! The leaving page only links to addresses the portal signed (`server.rs`): a forged or
//! altered `to`, or any address that is not `http:`/`https:`, gets a 400 page and no link, so
//! the portal cannot be used to send someone elsewhere under its name (no open redirect).
//! Destinations travel in the URL: they are outside addresses the portal shows anyway (help
//! pages, the organisation's video-visit link), never health information.

#[cfg(feature = "ssr")]
pub mod server;

use crate::layout::{org_info, viewer};
use crate::types::AccountKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What every outside link says about itself, visibly and to screen readers.
pub const OPENS_ANOTHER_SITE: &str = "(opens another site)";

/// The signed leaving-page address of `destination`, with the current page as Back. Pages are
/// rendered on the server only (islands), so the browser build never needs it.
pub fn leaving_href(destination: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let state = crate::state::app_state().ok()?;
        let back = leptos_router::hooks::use_location().pathname.get_untracked();
        server::leaving_href(&state.link_key, destination, &back)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = destination;
        None
    }
}

/// A link to another site, through the leaving page. An address the portal would not link to
/// (not http(s), credentials in it) is shown as plain text instead of a link.
#[component]
pub fn ExternalLink(#[prop(into)] href: String, #[prop(into)] text: String) -> impl IntoView {
    match leaving_href(&href) {
        Some(leaving) => view! {
            <a class="external-link" href=leaving rel="external noopener">
                {text}
                " "<span class="external-link__note">{OPENS_ANOTHER_SITE}<span class="external-link__icon" aria-hidden="true">" ↗"</span></span>
            </a>
        }
        .into_any(),
        None => view! { <span>{text}</span> }.into_any(),
    }
}

/// [`ExternalLink`] as a function, for views built in code.
pub fn external_link(url: &str, text: &str) -> impl IntoView {
    view! { <ExternalLink href=url.to_string() text=text.to_string()/> }
}

/// `back` if it is a path on the portal itself (`/…`, not `//host` or `/\host`, which browsers
/// read as another site).
pub fn local_path(back: &str) -> Option<&str> {
    let ok =
        back.starts_with('/') && !back.starts_with("//") && !back.starts_with("/\\") && back.len() <= 300 && !back.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(back)
}

/// What the leaving page shows: the host and the whole address, or nothing (refused).
fn checked_destination(to: Option<&str>, sig: Option<&str>) -> Option<(String, String)> {
    #[cfg(feature = "ssr")]
    {
        let state = crate::state::app_state().ok()?;
        match server::check_leaving(&state.link_key, to, sig) {
            // `host_str` is the ASCII (punycode) form of an international name, so a look-alike
            // host cannot pass for a familiar one here.
            server::Leaving::Signed(url) => Some((url.host_str().unwrap_or_default().to_string(), url.to_string())),
            server::Leaving::Refused => None,
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (to, sig);
        None
    }
}

/// `/leaving`: the notice between the portal and another site.
#[component]
pub fn LeavingPage() -> impl IntoView {
    let query = use_query_map();
    let (to, sig, back) = query.with_untracked(|q| (q.get("to"), q.get("sig"), q.get("back")));
    let home = match viewer().map(|v| v.kind) {
        Some(AccountKind::Staff(_)) => "/staff",
        Some(_) => "/home",
        None => "/",
    };
    let back = back.as_deref().and_then(local_path).unwrap_or(home).to_string();
    let org = org_info();
    match checked_destination(to.as_deref(), sig.as_deref()) {
        Some((host, url)) => view! {
            <Title text="Leaving the portal | Patient portal"/>
                <article class="leaving">
                    <h1>"You are leaving the portal"</h1>
                    <p class="leaving__host">"The link leads to "<strong>{host.clone()}</strong></p>
                    <p>{host.clone()}" is another site, not the portal of "{org.name.clone()}". "
                       {org.name.clone()}" is not responsible for its content, its privacy practices or its security. "
                       "What you type there is governed by that site's own terms."</p>
                    <p class="small">"Full address: "<span class="leaving__url">{url.clone()}</span></p>
                    <p class="actions">
                        <a class="button button--primary" href=url rel="external noopener noreferrer">
                            "Continue to "{host}" "<span class="external-link__note">{OPENS_ANOTHER_SITE}</span>
                        </a>
                        " "
                        <a class="button" href=back>"Back"</a>
                    </p>
                </article>
        }
        .into_any(),
        None => {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::BAD_REQUEST);
            }
            view! {
                <Title text="Link refused | Patient portal"/>
                    <h1>"This link cannot be followed"</h1>
                    <p class="notice notice--alert" role="alert">"The address in this link was changed, or the link did not come from the portal, "
                       "so we will not send you on. If someone sent it to you, do not trust it."</p>
                    <p><a href=back>"Back"</a></p>
            }
            .into_any()
        }
    }
}
