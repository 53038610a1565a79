//! Administrators' pages for care teams, pools, out-of-office periods and holidays (being written).

use crate::layout::StaffLayout;
use leptos::prelude::*;

#[component]
pub fn CareTeamsPage() -> impl IntoView {
    view! { <StaffLayout title="Care teams | Staff"><h1>"Care teams"</h1></StaffLayout> }
}

#[component]
pub fn PoolsPage() -> impl IntoView {
    view! { <StaffLayout title="Pools | Staff"><h1>"Pools"</h1></StaffLayout> }
}

#[component]
pub fn AbsencesPage() -> impl IntoView {
    view! { <StaffLayout title="Out of office | Staff"><h1>"Out of office"</h1></StaffLayout> }
}

#[component]
pub fn HolidaysPage() -> impl IntoView {
    view! { <StaffLayout title="Holidays | Staff"><h1>"Holidays"</h1></StaffLayout> }
}
