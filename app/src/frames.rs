//! The page frames: public pages, the patient's pages and the staff pages. Each has a skip
//! link, a labelled navigation, one `<main>`, and a footer with the help line and the links
//! every page must carry (terms, privacy notice). A page does not choose its frame: the route
//! table (`crate::app`) nests each page's route in its frame's, and the page renders into the
//! frame's `<Outlet/>`, setting only its `<Title>`. The frames compose features (the sign-out
//! button, the session timer, the maintenance notice), so they sit above them, beside the route
//! table, and not in `layout`, which every feature imports.

use crate::layout::{org_info, viewer};
use crate::session::SessionTimer;
use crate::sign_in::SignOutButton;
use crate::types::{AccountKind, StaffRole, Viewer};
use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

#[cfg(feature = "ssr")]
fn session_policy() -> (u64, u64) {
    crate::state::app_state().map(|s| (s.settings.sessions.idle_timeout.as_secs(), s.settings.sessions.idle_warning.as_secs())).unwrap_or((15 * 60, 60))
}
#[cfg(not(feature = "ssr"))]
fn session_policy() -> (u64, u64) {
    (15 * 60, 60)
}

#[component]
fn Footer() -> impl IntoView {
    let org = org_info();
    let tel = format!("tel:{}", org.phone.replace([' ', '(', ')', '-'], ""));
    view! {
        <footer class="site-footer">
            <p class="help-line">"Help with the portal: call "<a href=tel>{org.phone.clone()}</a>
                " (weekdays 8 am – 5 pm)."</p>
            <nav aria-label="About the portal">
                <ul class="footer-links">
                    <li><a href="/terms">"Terms and conditions"</a></li>
                    <li><a href="/privacy">"Notice of Privacy Practices"</a></li>
                    <li><a href="/help">"Help"</a></li>
                </ul>
            </nav>
            <p class="small">"© "{org.name}</p>
        </footer>
    }
}

#[component]
fn SkipLink() -> impl IntoView {
    view! { <a class="skip-link" href="#main">"Skip to main content"</a> }
}

#[component]
fn Brand(href: &'static str) -> impl IntoView {
    let org = org_info();
    view! {
        <a class="brand" href=href>
            <span class="brand__mark" aria-hidden="true">"+"</span>
            <span class="brand__name">{org.name}</span>
        </a>
    }
}

/// Frame of pages anyone may see: the public routes of the route table (`crate::app`) open
/// inside it; each page sets its own `<Title>`.
#[component]
pub fn PublicFrame() -> impl IntoView {
    public_frame(view! { <Outlet/> })
}

/// The public frame around any content: also for the not-found page, which no route matches.
pub fn public_frame(content: impl IntoView + 'static) -> impl IntoView {
    view! {
        <SkipLink/>
        <header class="site-header">
            <Brand href="/"/>
        </header>
        <crate::maintenance::MaintenanceNotice/>
        <main id="main" class="page" tabindex="-1">{content}</main>
        <Footer/>
    }
}

/// The reminder that the portal is not for emergencies (SPEC R-MSG-1), on every patient page.
#[component]
pub fn EmergencyNotice() -> impl IntoView {
    view! {
        <aside class="emergency" aria-label="Emergencies">
            <p><strong>"Not for emergencies."</strong>
            " If you have a medical emergency, call 911 or go to the nearest emergency room."</p>
        </aside>
    }
}

#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        (path == href || path.starts_with(&format!("{href}/"))).then_some("page")
    };
    view! { <li><a href=href aria-current=current>{label}</a></li> }
}

#[component]
fn SignedInHeader(home: &'static str, viewer: Option<Viewer>) -> impl IntoView {
    let name = viewer.map(|v| v.display_name).unwrap_or_default();
    view! {
        <header class="site-header">
            <Brand href=home/>
            <div class="who">
                <span class="who__name">{name}</span>
                <SignOutButton/>
            </div>
        </header>
    }
}

/// Frame of the patient's pages (the patient routes of the route table).
#[component]
pub fn PatientFrame() -> impl IntoView {
    let (idle, warn) = session_policy();
    view! {
        <SkipLink/>
        <SignedInHeader home="/home" viewer=viewer()/>
        <nav class="main-nav" aria-label="Main">
            <ul>
                <NavLink href="/home" label="Home"/>
                <NavLink href="/messages" label="Messages"/>
                <NavLink href="/record" label="My Medical Record"/>
                <NavLink href="/billing" label="Billing"/>
                <NavLink href="/visits" label="Video visits"/>
                <NavLink href="/account" label="Account"/>
            </ul>
        </nav>
        <EmergencyNotice/>
        <crate::maintenance::MaintenanceNotice/>
        <main id="main" class="page" tabindex="-1"><Outlet/></main>
        <Footer/>
        <SessionTimer idle_secs=idle warn_secs=warn sign_in_path="/sign-in"/>
    }
}

/// The staff navigation, in order. Each link shows only to the roles whose gate in the route
/// table lets them open the page (`crate::access`).
const STAFF_NAVIGATION: &[(&str, &str)] = &[
    ("/staff", "Overview"),
    ("/staff/security", "Security"),
    ("/staff/audit", "Audit trail"),
    ("/staff/messages", "Messages"),
    ("/staff/enrolment", "Enrolment requests"),
    ("/staff/patients", "Patients"),
    ("/staff/visits", "Video visits"),
    ("/staff/questionnaires", "Questionnaires"),
    ("/staff/billing", "Billing accounts"),
    ("/staff/billing/print-queue", "Print queue"),
    ("/staff/billing/import", "Import statements"),
    ("/staff/terms", "Terms"),
    ("/staff/care-teams", "Care teams"),
    ("/staff/pools", "Pools"),
    ("/staff/absences", "Out of office"),
    ("/staff/holidays", "Holidays"),
    ("/staff/maintenance", "Maintenance"),
    ("/staff/record/hidden-codes", "Results given in person"),
];

/// The staff areas a role works in: the navigation's links whose page the role may open.
pub fn staff_areas(role: StaffRole) -> impl Iterator<Item = (&'static str, &'static str)> {
    STAFF_NAVIGATION.iter().copied().filter(move |(href, _)| crate::access::page_gate(crate::app::PAGES, href).is_some_and(|gate| gate.admits_role(role)))
}

/// Frame of the staff pages (the staff routes of the route table); the navigation shows what
/// the viewer's role works with.
#[component]
pub fn StaffFrame() -> impl IntoView {
    let (idle, warn) = session_policy();
    let viewer = viewer();
    let role = match viewer.as_ref().map(|v| v.kind) {
        Some(AccountKind::Staff(role)) => Some(role),
        _ => None,
    };
    view! {
        <SkipLink/>
        <SignedInHeader home="/staff" viewer=viewer/>
        <nav class="main-nav main-nav--staff" aria-label="Staff">
            <ul>
                {role.map(|r| staff_areas(r).map(|(href, label)| view! { <NavLink href=href label=label/> }).collect_view())}
            </ul>
            {role.map(|r| view! { <p class="role-badge">{r.label()}</p> })}
        </nav>
        <main id="main" class="page" tabindex="-1"><Outlet/></main>
        <Footer/>
        <SessionTimer idle_secs=idle warn_secs=warn sign_in_path="/staff/sign-in"/>
    }
}
