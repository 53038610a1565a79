//! Pages anyone may read: the privacy notice, help, and "not found". (The terms are versioned
//! documents: see `crate::terms`.)

pub mod privacy;

use crate::layout::org_info;
use leptos::prelude::*;
use leptos_meta::Title;

/// The Notice of Privacy Practices, linked from every page's footer and from the terms.
#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! {
        <Title text="Notice of Privacy Practices | Patient portal"/>
            <article class="prose privacy-notice">
                <privacy::NoticeText text=privacy::notice_text()/>
            </article>
    }
}

#[component]
pub fn HelpPage() -> impl IntoView {
    let org = org_info();
    view! {
        <Title text="Help | Patient portal"/>
            <article class="prose">
                <h1>"Help"</h1>
                <p>"For help with signing in or using the portal, call "{org.phone.clone()}
                   " on weekdays between 8 am and 5 pm."</p>
                <p>"For a medical emergency, call 911 or go to the nearest emergency room."</p>
                <h2>"Video visits"</h2>
                <p>"Visits by video are listed under Video visits once the clinic schedules one. You can begin a visit from 15 "
                   "minutes before it starts; the portal first explains the limitations of a visit by video and asks you to "
                   "confirm that you understand them. If the connection fails during the visit, call "{org.phone.clone()}"."</p>
                <h2>"Links to other sites"</h2>
                <p>"A link that leads out of the portal says "<em>"(opens another site)"</em>". It first shows a page that names "
                   "the site it leads to, so you can decide whether to go on. "{org.name.clone()}" is not responsible for the "
                   "content of other sites."</p>
            </article>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    // No route matched, so no frame holds this page: it brings its own.
    view! {
        <Title text="Page not found | Patient portal"/>
        {crate::frames::public_frame(view! {
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. "<a href="/">"Go to the start page"</a>"."</p>
        })}
    }
}
