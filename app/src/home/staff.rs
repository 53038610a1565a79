//! The staff side: an overview per role. The work queues of each role (enrolment, message pools,
//! statements, administration, audit) are added by their features.

use crate::layout::viewer;
use crate::types::{AccountKind, StaffRole};
use leptos::prelude::*;
use leptos_meta::Title;

fn role_summary(role: StaffRole) -> &'static str {
    match role {
        StaffRole::FrontDesk => "Enrolment requests, activation codes, patients' access and video visits.",
        StaffRole::Clinician => "Your message inbox, video visits and your patients' questionnaires.",
        StaffRole::Billing => "Statements, imports and the paper-statement print queue.",
        StaffRole::Administrator => "Terms versions, maintenance windows, care teams and the form library.",
        StaffRole::Auditor => "The audit trail of sign-ins and of every view or change of records.",
    }
}

#[component]
pub fn StaffHomePage() -> impl IntoView {
    let viewer = viewer();
    let name = viewer.as_ref().map(|v| v.display_name.clone()).unwrap_or_default();
    let role = match viewer.map(|v| v.kind) {
        Some(AccountKind::Staff(role)) => Some(role),
        _ => None,
    };
    view! {
        <Title text="Staff | Patient portal"/>
            <h1>"Hello, "{name}</h1>
            {role.map(|r| view! {
                <p class="lead">"You are signed in as "<strong>{r.label()}</strong>". "{role_summary(r)}</p>
            })}
            <div class="empty"><p>"There is nothing waiting for you."</p></div>
            <p><a href="/staff/passkeys">"Passkeys"</a>" · "<a href="/staff/second-step">"Sign-in code from an authenticator app"</a></p>
    }
}
