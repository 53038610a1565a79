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
pub static SESSION_TIMER: StaticScript = StaticScript::new("session-timer", include_str!("../session/timer.js"));

/// Every script the server serves this way.
pub static ALL: [&StaticScript; 3] = [&NAVIGATION, &PASSKEYS, &SESSION_TIMER];

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

/// Whether the page being rendered holds an island: only then does it load the WASM (Leptos's
/// island script, the JS glue and the WASM itself; for the sign-in page, which has none, most of
/// its first view).
#[derive(Clone, Default)]
pub struct IslandsOnPage(std::sync::Arc<std::sync::atomic::AtomicBool>);

/// Called first thing by every island (on the server, as it renders), so that the page loads
/// the WASM. An island inside a `Suspense` renders after the page's end has been decided, so
/// a page with one calls this itself, outside the `Suspense` (the enrolment and password reset
/// pages; `headers::the_wasm_loads_only_where_an_island_is` and the Playwright specs look).
pub fn island_on_page() {
    #[cfg(feature = "ssr")]
    if let Some(on_page) = use_context::<IslandsOnPage>() {
        on_page.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// In the head, where Leptos's `HydrationScripts` would be: what it does before the body
/// renders (islands mode: no hydration markers outside islands). The scripts themselves come at
/// the body's end ([`IslandScripts`]), once it is known whether the page has any island.
#[component]
pub fn IslandsMode() -> impl IntoView {
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
}

/// Leptos's island script, and with it the JS glue and the WASM, on a page with an island only.
/// `navigation.js` sees a page with another set of `/pkg/` files as another build and loads it
/// for real, so going from a page without islands to one with them loads the WASM then.
#[component]
pub fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    let on_page = use_context::<IslandsOnPage>();
    move || {
        on_page
            .as_ref()
            .is_some_and(|o| o.0.load(std::sync::atomic::Ordering::Relaxed))
            .then(|| view! { <HydrationScripts options=options.clone() islands=true/> })
    }
}
