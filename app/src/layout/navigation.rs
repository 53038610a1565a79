//! SPA-style navigation after the first page load (`navigation.js`, a hashed static file:
//! `scripts.rs`). Our own, rather than Leptos's islands router: that one patches the page by
//! walking the old and the new document in step, and a page whose structure changed (a notice
//! that appears, a form that gives way to another) came out as a mix of both, e.g. a staff
//! member seeing "End portal access" after access was ended.
//!
//! It leans on one Leptos internal: `window.__hydrateIsland(element, name)`, which Leptos's
//! island script (`HydrationScripts islands=true`) defines, to hydrate the islands of a page
//! that arrives this way. `end2end/tests/navigation.spec.ts` fails if it goes missing.

use super::scripts::{ScriptTag, NAVIGATION};
use leptos::prelude::*;

#[component]
pub fn NavigationScript() -> impl IntoView {
    view! { <ScriptTag script=&NAVIGATION/> }
}
