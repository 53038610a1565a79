//! The state every request can reach: handed to axum handlers as router state and to server
//! functions as Leptos context.

use crate::error::AppError;
use crate::platform::{db::Db, passwords::PasswordHasher};
use crate::settings::PortalSettings;
use axum::extract::FromRef;
use leptos::prelude::{use_context, LeptosOptions};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<PortalSettings>,
    pub passwords: PasswordHasher,
    /// Wakes the outbox worker when a notice is queued.
    pub outbox_wakeup: Arc<Notify>,
    /// Signs links to other sites (`crate::external_links`); the same key on every app server.
    pub link_key: Arc<crate::external_links::server::LinkKey>,
    /// Seals the authenticator-app secrets at rest (`platform::sealing`); from a file outside
    /// the database, the same on every app server.
    pub sealing: Arc<crate::platform::sealing::SealingKey>,
    /// This server's short-lived copy of the maintenance windows not yet ended.
    pub maintenance: Arc<crate::maintenance::server::Schedule>,
    /// The time, for every rule that depends on it (the system's; tests set their own).
    pub clock: crate::platform::clock::Clock,
    /// Where the medical record is read from (the portal's database or the EHR's FHIR API).
    pub record: crate::record::source::RecordSource,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, from inside a server function or a server-rendered component.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

/// Puts the state into the context of a page render or server function, with what the page kit
/// reads from it (the organisation's name and phone) so that `layout` needs no feature's types.
pub fn provide(state: &AppState) {
    leptos::prelude::provide_context(state.clone());
    let org = &state.settings.organisation;
    leptos::prelude::provide_context(crate::layout::OrgInfo { name: org.name.clone(), phone: org.phone.clone() });
}
