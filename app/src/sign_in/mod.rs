//! Sign-in and sign-out (SPEC R-SES-1 password sign-in, R-SES-2 sign-out, R-SES-4 throttling).
//! The form is a plain HTML form: it works without JavaScript, and `layout/navigation.js`
//! submits it without a full page load when JavaScript is on.
//!
//! A browser that refuses cookies cannot keep a session: it is told so ("Please enable cookies
//! to sign in") instead of being sent back to sign-in without a word. The sign-in page leaves a
//! cookie that says nothing (`COOKIE_CHECK`); a sign-in whose request did not bring it back
//! (cookies refused, or the form was not sent from the page) goes by `/sign-in/check`, which
//! sends on to the next page when the session cookie arrived and to the sign-in page with the
//! message when it did not. No JavaScript needed; both portals.

#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{alert, notice_code, notice_codes, notice_view};
use crate::types::Portal;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Longest user ID and password the server will look at; a longer password is refused before
/// it costs any hashing.
pub const MAX_LOGIN_LEN: usize = 200;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The cookie the sign-in pages leave to learn whether the browser keeps cookies ("1", nothing
/// personal; gone when the browser closes).
pub const COOKIE_CHECK: &str = "portal_cookies";

/// Where a sign-in goes when it does not know whether the browser kept its session cookie.
pub fn check_path(portal: Portal) -> &'static str {
    match portal {
        Portal::Patient => "/sign-in/check?portal=patient",
        Portal::Staff => "/sign-in/check?portal=staff",
    }
}

/// Whether the request brought back the cookie the sign-in page left: then the browser keeps
/// cookies, and the session cookie set now will arrive with the next request.
#[cfg(feature = "ssr")]
pub fn cookies_kept(settings: &crate::settings::PortalSettings) -> bool {
    crate::platform::request::cookie(&settings.cookie_name(COOKIE_CHECK)).is_some()
}

#[server(endpoint = "sign-in")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn sign_in(user_id: String, password: String, portal: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::session::server::{device_cookie, session_cookie};
    use crate::state::app_state;
    use server::{Attempt, Outcome};

    let state = app_state()?;
    let portal: Portal = portal.parse().map_err(|_| AppError::Request)?;
    let back = portal.sign_in_path();
    // During a maintenance window patients cannot sign in (staff can); their sign-in page is
    // then the maintenance page. Refused before the credentials are looked at.
    if portal == Portal::Patient && state.maintenance.in_progress(&state.db, state.clock.now_ms()).await.is_some() {
        crate::platform::request::redirect(back);
        return Ok(());
    }
    if user_id.trim().is_empty() || password.is_empty() {
        redirect_notice(back, SignInNotice::Missing);
        return Ok(());
    }
    if user_id.len() > MAX_LOGIN_LEN || password.len() > MAX_PASSWORD_LEN {
        redirect_notice(back, SignInNotice::Refused);
        return Ok(());
    }
    let attempt = Attempt {
        portal,
        login: &user_id,
        password,
        device_secret: request::cookie(state.settings.device_cookie_name()),
        client_addr: request::client_addr(),
        user_agent: request::header("user-agent"),
    };
    let response = expect_context::<leptos_axum::ResponseOptions>();
    match server::attempt(&state, attempt, state.clock.now_ms()).await? {
        Outcome::SignedIn { session_secret, new_device_secret, next } => {
            response.append_header(http::header::SET_COOKIE, session_cookie(&state.settings, Some(&session_secret)));
            if let Some(device) = new_device_secret {
                response.append_header(http::header::SET_COOKIE, device_cookie(&state.settings, &device));
            }
            if cookies_kept(&state.settings) {
                crate::platform::request::redirect(next.map(|step| step.path()).unwrap_or(portal.home_path()));
            } else {
                crate::platform::request::redirect(check_path(portal));
            }
        }
        Outcome::Refused => redirect_notice(back, SignInNotice::Refused),
        Outcome::AccessEnded => redirect_notice(back, SignInNotice::AccessEnded),
        Outcome::Throttled(wait) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            // `wait` after the code, as the address has always read (`?error=throttled&wait=…`).
            crate::platform::request::redirect(&crate::layout::notice_href_with(back, SignInNotice::Throttled, &[("wait", &minutes.to_string())]));
        }
    }
    Ok(())
}

#[server(endpoint = "sign-out")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::platform::request;
    use crate::session::server::{end, session_cookie, EndReason};
    use crate::state::app_state;

    let state = app_state()?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let mut to = Portal::Patient.sign_in_path();
    if let Some(session) = request::current_session() {
        if !session.viewer.kind.is_patient() {
            to = Portal::Staff.sign_in_path();
        }
        let mut tx = state.db.begin_write().await?;
        end(&mut tx, &session.id_hash, &session.viewer.user_id, EndReason::SignedOut, request::client_addr(), state.clock.now_ms()).await?;
        tx.commit().await?;
    }
    response.append_header(http::header::SET_COOKIE, session_cookie(&state.settings, None));
    // The browser drops what it cached or stored for the portal, so the next person at a shared
    // computer finds nothing (SPEC R-GEN-2). Cookies are left alone: the device cookie is what
    // keeps this browser clear of throttling aimed at others.
    response.insert_header(http::HeaderName::from_static("clear-site-data"), http::HeaderValue::from_static("\"cache\", \"storage\""));
    crate::platform::request::redirect(&format!("{to}?reason=signed-out"));
    Ok(())
}

/// The sign-out button, a form so that it works without the WASM.
#[component]
pub fn SignOutButton() -> impl IntoView {
    view! {
        <PostForm<SignOut> class="sign-out">
            <button type="submit" class="button button--quiet">"Sign out"</button>
        </PostForm<SignOut>>
    }
}

notice_codes! {
    /// Why the sign-in page was shown again (also sent by the second step, `Code`).
    pub enum SignInNotice {
        Refused = Error "refused" => "That user ID and password do not match our records. Check them and try again.",
        /// Shown with the office's phone number (`sign_in_notice`).
        AccessEnded = Error "access" => "Your portal account is not available. Please call us for help.",
        Missing = Error "missing" => "Please enter your user ID and your password.",
        Code = Error "code" => "Too many wrong codes. For your security, please sign in again with your password.",
        Cookies = Error "cookies" => "Please enable cookies to sign in. The portal keeps you signed in with a cookie, which holds nothing about you; \
             without it, every page would ask you to sign in again. Allow cookies for this site in your browser's settings, then sign in.",
        /// Shown with the minutes to wait, from `wait=` beside it (`sign_in_notice`).
        Throttled = Error "throttled" => "There have been too many unsuccessful attempts. For your security, please wait and try again.",
    }
}

/// What the sign-in page says above the form: why a sign-in did not go through, or else why
/// the person is here (`reason=`, set by sign-out, the session's time-out and a password reset).
fn sign_in_notice(error: Option<SignInNotice>, reason: Option<String>, wait: Option<String>) -> Option<AnyView> {
    let text = match error {
        Some(SignInNotice::AccessEnded) => format!("Your portal account is not available. Please call us at {} for help.", crate::layout::org_info().phone),
        Some(SignInNotice::Throttled) => {
            let minutes = wait.and_then(|w| w.parse::<u64>().ok()).unwrap_or(1);
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            format!("There have been too many unsuccessful attempts. For your security, please wait {minutes} {unit} and try again.")
        }
        Some(code) => return Some(notice_view(code)),
        None => {
            let status = match reason.as_deref()? {
                "timeout" => "For your security, you were signed out because there was no activity for a while. Please sign in again.",
                "signed-out" => "You have signed out.",
                "password-reset" => "Your password has been changed. Sign in with your new password.",
                _ => return None,
            };
            return Some(view! { <p class="notice notice--status" role="status">{status}</p> }.into_any());
        }
    };
    Some(alert(text).into_any())
}

/// Leaves the cookie that tells a sign-in whether this browser keeps cookies.
#[cfg(feature = "ssr")]
fn leave_cookie_check() {
    use leptos_axum::ResponseOptions;
    let (Some(response), Ok(state)) = (use_context::<ResponseOptions>(), crate::state::app_state()) else { return };
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{}=1; Path=/; HttpOnly; SameSite=Lax{secure}", state.settings.cookie_name(COOKIE_CHECK));
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// `/sign-in/check`, after a sign-in that did not know whether the browser keeps cookies: with
/// the session cookie it sends on to the session's next page; without, back to the sign-in page
/// with "Please enable cookies to sign in". Takes no address from the request (only which
/// portal's sign-in page to go back to), so it cannot be made to send anyone elsewhere.
#[component]
pub fn SignInCheckPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let portal = use_query_map().read_untracked().get("portal").and_then(|p| p.parse::<Portal>().ok()).unwrap_or(Portal::Patient);
        let to = match crate::platform::request::current_session() {
            Some(session) => {
                let home = if session.viewer.kind.is_patient() { Portal::Patient.home_path() } else { Portal::Staff.home_path() };
                session.pending.map(|step| step.path()).unwrap_or(home).to_string()
            }
            None => crate::layout::notice_href(portal.sign_in_path(), SignInNotice::Cookies),
        };
        crate::platform::request::redirect(&to);
    }
    view! {
        <Title text="Signing in | Patient portal"/>
            <h1>"Signing in"</h1>
            <p><a href="/sign-in">"Continue"</a></p>
    }
}

#[component]
pub fn SignInPage(portal: Portal) -> impl IntoView {
    #[cfg(feature = "ssr")]
    leave_cookie_check();
    let query = use_query_map();
    let error = notice_code::<SignInNotice>();
    let notice = move || {
        let q = query.read();
        sign_in_notice(error(), q.get("reason"), q.get("wait"))
    };
    let (title, intro) = match portal {
        Portal::Patient => ("Sign in to your patient portal", "Use the user ID and password you chose when you enrolled."),
        Portal::Staff => ("Staff sign-in", "For clinic staff only. Patients sign in on the patient sign-in page."),
    };
    let portal_value = match portal {
        Portal::Patient => "patient",
        Portal::Staff => "staff",
    };
    view! {
        <Title text=title/>
            <div class="card card--narrow">
                <h1>{title}</h1>
                <p class="lead">{intro}</p>
                {notice}
                <PostForm<SignIn> class="form" reload=true>
                    <input type="hidden" name="portal" value=portal_value/>
                    <div class="field">
                        <label for="user_id">"User ID"</label>
                        <input id="user_id" name="user_id" type="text" autocomplete="username"
                            autocapitalize="none" spellcheck="false" required maxlength="200"/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    <button type="submit" class="button button--primary button--wide">"Sign in"</button>
                </PostForm<SignIn>>
                <crate::passkeys::PasskeySignInButton portal=portal_value/>
                {match portal {
                    Portal::Patient => view! {
                        <p class="links">
                            <a href="/forgot-user-id">"Forgot user ID?"</a>
                            <a href="/forgot-password">"Forgot password?"</a>
                        </p>
                        <div class="signup">
                            <h2>"New to the portal?"</h2>
                            <p>"If you have an activation code, "<a href="/activate">"set up your account"</a>". "
                               "If not, "<a href="/enrol">"ask for access"</a>" and we will send you one."</p>
                        </div>
                    }.into_any(),
                    Portal::Staff => view! { <p class="small"><a href="/sign-in">"Patient sign-in"</a></p> }.into_any(),
                }}
            </div>
    }
}
