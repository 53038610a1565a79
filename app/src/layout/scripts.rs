//! Our hand-written browser scripts as static files under a name that carries a hash of their
//! bytes (`/pkg/navigation-<hash>.js`), so that they can be cached for good (`/pkg/` is
//! `immutable`, `server/src/middleware/headers.rs`) and any change reaches every browser at
//! once. Inlined, they were sent again, uncompressed (pages are never compressed), with every
//! page. The bytes are compiled into the binary, so a deployment has nothing to copy and the
//! file named in a page is always the one this server serves; the hash is computed once, at
//! the first page or when the router is built.

use leptos::prelude::*;

pub struct StaticScript {
    name: &'static str,
    pub source: &'static str,
    #[cfg(feature = "ssr")]
    path: std::sync::OnceLock<String>,
}

impl StaticScript {
    const fn new(name: &'static str, source: &'static str) -> Self {
        StaticScript {
            name,
            source,
            #[cfg(feature = "ssr")]
            path: std::sync::OnceLock::new(),
        }
    }

    /// Where the server serves it: `/pkg/{name}-{first 16 hex digits of its SHA-256}.js`.
    #[cfg(feature = "ssr")]
    pub fn path(&self) -> &str {
        self.path.get_or_init(|| {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(self.source.as_bytes());
            format!("/pkg/{}-{}.js", self.name, &hex::encode(digest)[..16])
        })
    }
}

pub static NAVIGATION: StaticScript = StaticScript::new("navigation", include_str!("navigation.js"));
pub static PASSKEYS: StaticScript = StaticScript::new("passkeys", include_str!("../passkeys/passkeys.js"));

/// Every script the server serves this way.
pub static ALL: [&StaticScript; 2] = [&NAVIGATION, &PASSKEYS];

/// `<script src=… nonce=… defer>`: the nonce lets it past the page's Content-Security-Policy;
/// `defer` keeps it off the page's first paint (both only add listeners to the document).
#[component]
pub fn ScriptTag(script: &'static StaticScript) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    let src = script.path().to_string();
    #[cfg(not(feature = "ssr"))]
    let src = script.name.to_string();
    view! { <script src=src nonce=nonce defer=true></script> }
}

/// Marks the page as one whose scripts run (`html.js`: what needs JavaScript shows, the words
/// for a browser without it hide) before its first paint. Inline, and the only inline script of
/// ours: a file would hold up the first paint or let the wrong words flash.
#[component]
pub fn ScriptsOn() -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    view! { <script nonce=nonce>"document.documentElement.classList.add('js')"</script> }
}
