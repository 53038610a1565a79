//! The patient's home, with the Health Summary of their record (`record::HealthSummarySection`).
//! (Messages: `messaging`; My Medical Record: `record`; Billing: `billing`.)

use crate::layout::{viewer, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HomePage() -> impl IntoView {
    let first_name = viewer().map(|v| v.display_name.split_whitespace().next().unwrap_or_default().to_string()).unwrap_or_default();
    let query = use_query_map();
    let welcome = move || query.read().get("welcome").is_some();
    let password_changed = move || {
        let q = query.read();
        q.get("password").is_some().then(|| crate::account::password_changed_message(q.get("others").as_deref(), q.get("n").and_then(|n| n.parse().ok())))
    };
    let recovery = move || query.read().get("recovery").is_some();
    let unread = Resource::new(|| (), |_| crate::messaging::unread_messages());
    let to_complete = Resource::new(|| (), |_| crate::questionnaires::open_questionnaires());
    view! {
        <Title text="Home | Patient portal"/>
            <h1>"Welcome, "{first_name}</h1>
            {move || welcome().then(|| view! {
                <section class="notice notice--status welcome" role="status" aria-labelledby="welcome-title">
                    <h2 id="welcome-title">"Your account is ready"</h2>
                    <p>"You are enrolled in "<strong>"paperless billing"</strong>": your statements will be here in the portal "
                       "instead of arriving by post, and we e-mail you when a new one is ready. To go back to paper statements, "
                       "go to "<a href="/billing">"Billing"</a>" → View Account → Paperless Billing → Update."</p>
                </section>
            })}
            {move || password_changed().map(|text| view! {
                <p class="notice notice--status" role="status">{text}</p>
            })}
            {move || recovery().then(|| view! {
                <p class="notice notice--status" role="status">"You signed in with a recovery code; it will not work again. "
                   "If you lost your phone, set the authenticator app up again under "<a href="/account/second-step">"Account"</a>"."</p>
            })}
            <crate::record::HealthSummarySection/>
            <ul class="tiles">
                <li class="tile">
                    <h2><a href="/messages">"Messages"</a></h2>
                    <Loaded resource=unread quiet=true on_error=|| () view=|n| (n > 0).then(|| view! {
                        <p class="tile__count"><span class="badge">{if n == 1 { "1 unread message".to_string() } else { format!("{n} unread messages") }}</span></p>
                    })/>
                    <p>"Write to your care team about non-urgent questions and read their replies."</p>
                </li>
                <li class="tile">
                    <h2><a href="/record">"My Medical Record"</a></h2>
                    <Loaded resource=to_complete quiet=true on_error=|| () view=|n| (n > 0).then(|| view! {
                        <p class="tile__count"><span class="badge">{if n == 1 { "1 questionnaire or lesson to complete".to_string() } else { format!("{n} questionnaires or lessons to complete") }}</span></p>
                    })/>
                    <p>"Test results, medications, allergies, visits and documents; questionnaires and lessons from your care team."</p>
                </li>
                <li class="tile">
                    <h2><a href="/visits">"Video visits"</a></h2>
                    <p>"Your visits with your clinician by video, and where to begin them."</p>
                </li>
                <li class="tile">
                    <h2><a href="/billing">"Billing"</a></h2>
                    <p>"Your billing accounts, statements and paperless billing."</p>
                </li>
                <li class="tile">
                    <h2><a href="/account">"Account"</a></h2>
                    <p>"Your sign-in activity and account settings."</p>
                </li>
            </ul>
    }
}
