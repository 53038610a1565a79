//! The portal's isomorphic crate: every page, the server functions they call, and (behind the
//! `ssr` feature) the server-side logic and data access of each feature.
//!
//! Rendering design: *islands*. Pages render on the server only; the WASM holds just the few
//! interactive islands (e.g. the session-timeout warning), so its size does not grow with the
//! number of pages. `layout/navigation.js` keeps navigation SPA-like after the first load.

#![recursion_limit = "256"]

pub mod access;
pub mod app;
pub mod dates;
pub mod error;
pub mod ids;
pub mod types;

pub mod account;
pub mod audit;
pub mod billing;
pub mod enrolment;
pub mod external_links;
pub mod frames;
pub mod home;
pub mod info;
pub mod layout;
pub mod maintenance;
pub mod messaging;
pub mod passkeys;
pub mod password;
pub mod patients;
pub mod questionnaires;
pub mod record;
pub mod recovery;
pub mod second_step;
pub mod security;
pub mod session;
pub mod sign_in;
pub mod telemedicine;
pub mod terms;

#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod platform;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod users;

pub use app::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
