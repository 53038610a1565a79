//! SPA-style navigation after the first page load (`navigation.js`, inlined in every page's
//! head with the page's CSP nonce). Our own, rather than Leptos's islands router: that one
//! patches the page by walking the old and the new document in step, and a page whose
//! structure changed (a notice that appears, a form that gives way to another) came out as a
//! mix of both, e.g. a staff member seeing "End portal access" after access was ended.

use leptos::prelude::*;

#[component]
pub fn NavigationScript() -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    view! { <script nonce=nonce>{include_str!("navigation.js")}</script> }
}
