//! The page kit every feature's pages use: the loading wrapper (`Loaded`), the post form
//! (`PostForm`), typed notices, the alert paragraph, the organisation's name and phone, the
//! signed-in viewer, the page-to-page navigation script and the island loader. It knows no
//! feature; the frames that put a page in its header, navigation and footer are composed above
//! the features (`crate::frames`).

mod kit;
mod navigation;
pub mod scripts;
pub mod search;

pub(crate) use kit::notice_codes;
#[cfg(feature = "ssr")]
pub use kit::redirect_notice;
pub use kit::{notice, notice_code, notice_href, notice_href_with, notice_view, FormBody, Loaded, NoticeCode, NoticeKind, PostForm, PostFormTo};

use crate::types::Viewer;
use leptos::prelude::*;
pub use navigation::NavigationScript;

/// The organisation's name and phone number, as the settings give them.
#[derive(Clone, Debug, Default)]
pub struct OrgInfo {
    pub name: String,
    pub phone: String,
}

/// A message that something went wrong, announced at once by screen readers.
pub fn alert(text: String) -> impl IntoView {
    view! { <p class="notice notice--alert" role="alert">{text}</p> }
}

/// Read during server rendering, from the request's context (`crate::state::provide`); pages
/// are never rendered in the browser (islands), so the browser build needs no copy of it.
pub fn org_info() -> OrgInfo {
    use_context::<OrgInfo>().unwrap_or_default()
}

/// The signed-in person, during server rendering.
pub fn viewer() -> Option<Viewer> {
    #[cfg(feature = "ssr")]
    {
        crate::platform::request::current_session().map(|s| s.viewer)
    }
    #[cfg(not(feature = "ssr"))]
    None
}
