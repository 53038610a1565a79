//! Staff searches by name, birth date or record number (issue 14, point 13). The search form is
//! posted to its own page, which answers with the results: what was typed never goes in an
//! address, so it is in no server or proxy log, no browser history and no bookmark. The form
//! keeps what was typed, and a status line announces how many matched (the navigation script
//! moves attention to it; without JavaScript the page is read from the top).
//!
//! The server (`server/src/middleware/search.rs`) answers a POST to each page of
//! [`SEARCH_PAGES`] by rendering it with the posted term in context ([`PostedSearch`]), and sends
//! an old address that still carries `?q=` to the page without it.

use super::PostFormTo;
use leptos::prelude::*;

/// The pages whose search is posted to them, and the search field.
pub const SEARCH_PAGES: &[&str] = &["/staff/patients", "/staff/billing", "/staff/questionnaires", "/staff/care-teams"];
pub const SEARCH_FIELD: &str = "q";
/// The longest search term read (names, record numbers and dates are far shorter).
pub const SEARCH_MAX: usize = 100;

/// The search term posted to the page being rendered.
#[derive(Clone, Debug, Default)]
pub struct PostedSearch(pub String);

/// What the person searched for on this page: the posted term, or nothing on a plain visit.
pub fn posted_search() -> String {
    use_context::<PostedSearch>().map(|p| p.0).unwrap_or_default()
}

/// The search form of a page: posted to the page itself, keeping what was typed.
#[component]
pub fn SearchForm(action: &'static str, label: &'static str, button: &'static str, value: String) -> impl IntoView {
    view! {
        <PostFormTo action=action class="form form--inline" role="search">
            <div class="field">
                <label for="q">{label}</label>
                <input id="q" name=SEARCH_FIELD type="search" value=value maxlength=SEARCH_MAX.to_string() autocomplete="off"/>
            </div>
            <button type="submit" class="button button--primary">{button}</button>
        </PostFormTo>
    }
}

/// The line that says how many matched, announced to screen readers.
pub fn found(n: usize, one: &str, many: &str) -> impl IntoView {
    let text = match n {
        0 => format!("No {one} matches."),
        1 => format!("1 {one} matches."),
        n => format!("{n} {many} match."),
    };
    view! { <p class="notice notice--status" role="status">{text}</p> }
}
