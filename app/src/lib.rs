//! The portal's isomorphic crate: every page, the server functions they call, and (behind the
//! `ssr` feature) the server-side logic and data access of each feature.
//!
//! Rendering design: *islands*. Pages render on the server only; the WASM holds just the few
//! interactive islands (e.g. the session-timeout warning), so its size does not grow with the
//! number of pages. `layout/navigation.js` keeps navigation SPA-like after the first load.

#![recursion_limit = "256"]

pub mod access;
pub mod app;
pub mod error;
pub mod types;
pub mod dates;

pub mod layout;
pub mod session;
pub mod sign_in;
pub mod second_step;
pub mod passkeys;
pub mod account;
pub mod password;
pub mod terms;
pub mod enrolment;
pub mod recovery;
pub mod patients;
pub mod patient;
pub mod messaging;
pub mod billing;
pub mod questionnaires;
pub mod record;
pub mod staff;
pub mod security;
pub mod info;
pub mod external_links;
pub mod telemedicine;
pub mod audit;
pub mod maintenance;

#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod platform;

pub use app::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
