//! Forgotten credentials (SPEC R-ENR-6) and the e-mail links that finish them: "forgot
//! password" (user ID + e-mail on file → a reset link), "forgot user ID" (e-mail + birth date →
//! a link to a page that shows it), and the confirmation of a new e-mail address. The answer to
//! each form is the same whether or not an account matched. Opening a link only shows a form;
//! the link is used when the form is sent, so mail scanners that open links do not spend them.

#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{notice, notice_code, notice_codes, notice_view, org_info, Loaded};
use crate::password::new_password::NewPasswordProblem;
use crate::password::NewPasswordFields;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Carries a revealed user ID from the form to the page that shows it, for a few minutes.
pub const USER_ID_COOKIE: &str = "portal_user_id";

notice_codes! {
    /// Why a "forgot password" or "forgot user ID" form was refused.
    pub enum ForgotNotice {
        Missing = Error "missing" => "Please fill in both boxes.",
        Throttled = Error "throttled" => "Too many requests have come from this connection. Please wait an hour and try again, or call us.",
    }
}

notice_codes! {
    /// A reset or user-ID link that no longer works (besides a new password's problems,
    /// [`NewPasswordProblem`]).
    pub enum LinkNotice {
        Used = Error "link" => "This link has expired or has already been used.",
    }
}

notice_codes! {
    /// How the confirmation of an e-mail address went.
    pub enum ConfirmEmailNotice {
        Confirmed = Done "1" => "Thank you: the portal now sends its notices to this address.",
        Link = Error "link" => "This link has expired or has already been used. Sign in and change your e-mail address again under Account.",
    }
}

#[server(endpoint = "recovery/forgot-password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn forgot_password(user_id: String, email: String) -> Result<(), AppError> {
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    if user_id.trim().is_empty() || email.trim().is_empty() {
        redirect_notice("/forgot-password", ForgotNotice::Missing);
        return Ok(());
    }
    let (user_id, email): (String, String) = (user_id.chars().take(200).collect(), email.chars().take(254).collect());
    match server::request_password_reset(&state, &user_id, &email, request::client_addr(), state.clock.now_ms()).await? {
        server::Requested::Sent => crate::platform::request::redirect("/recovery/sent"),
        server::Requested::Throttled => redirect_notice("/forgot-password", ForgotNotice::Throttled),
    }
    Ok(())
}

#[server(endpoint = "recovery/forgot-user-id")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn forgot_user_id(email: String, date_of_birth: String) -> Result<(), AppError> {
    use crate::dates::CalendarDate;
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    if email.trim().is_empty() || date_of_birth.trim().is_empty() {
        redirect_notice("/forgot-user-id", ForgotNotice::Missing);
        return Ok(());
    }
    let email: String = email.chars().take(254).collect();
    match server::request_user_id(&state, &email, CalendarDate::parse(&date_of_birth), request::client_addr(), state.clock.now_ms()).await? {
        server::Requested::Sent => crate::platform::request::redirect("/recovery/sent"),
        server::Requested::Throttled => redirect_notice("/forgot-user-id", ForgotNotice::Throttled),
    }
    Ok(())
}

/// Whether a reset link can still be used (for the page to show the form or say it expired).
#[server(endpoint = "recovery/link-valid")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn reset_link_valid(token: String) -> Result<bool, AppError> {
    use crate::state::app_state;
    let state = app_state()?;
    Ok(server::link_user(&state.db, &token, server::Purpose::PasswordReset, state.clock.now_ms()).await?.is_some())
}

#[server(endpoint = "recovery/reset-password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn reset_password(token: String, password: String, password_again: String) -> Result<(), AppError> {
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    if password.len() > crate::sign_in::MAX_PASSWORD_LEN || token.len() > 100 {
        return Err(request::refuse(AppError::Request));
    }
    let page = format!("/reset-password?token={}", urlencode(&token));
    match server::reset_password(&state, &token, password, password_again, request::client_addr(), state.clock.now_ms()).await? {
        Ok(()) => crate::platform::request::redirect("/sign-in?reason=password-reset"),
        Err(server::ResetProblem::Link) => redirect_notice(&page, LinkNotice::Used),
        Err(server::ResetProblem::Password(p)) => redirect_notice(&page, p),
    }
    Ok(())
}

#[server(endpoint = "recovery/show-user-id")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn show_user_id(token: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    match server::reveal_user_id(&state.db, &token, request::client_addr(), state.clock.now_ms()).await? {
        Some(login) => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            let value: String = login.bytes().map(|b| format!("{b:02x}")).collect();
            response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, USER_ID_COOKIE, Some(&value), 300));
            crate::platform::request::redirect("/user-id/shown");
        }
        None => crate::layout::redirect_notice("/user-id", LinkNotice::Used),
    }
    Ok(())
}

/// The user ID revealed a moment ago (once: the cookie is cleared).
#[server(endpoint = "recovery/revealed-user-id")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn revealed_user_id() -> Result<Option<String>, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    let value = request::cookie(&state.settings.cookie_name(USER_ID_COOKIE));
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, USER_ID_COOKIE, None, 0));
    Ok(value.and_then(|hex| {
        let bytes: Option<Vec<u8>> = (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
        bytes.and_then(|b| String::from_utf8(b).ok())
    }))
}

#[server(endpoint = "recovery/confirm-email")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    let outcome = if server::confirm_email(&state, &token, request::client_addr(), state.clock.now_ms()).await? {
        ConfirmEmailNotice::Confirmed
    } else {
        ConfirmEmailNotice::Link
    };
    crate::layout::redirect_notice("/confirm-email", outcome);
    Ok(())
}

#[cfg(feature = "ssr")]
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    view! {
        <Title text="Forgot password | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Forgot your password?"</h1>
                <p class="lead">"Enter your user ID and the e-mail address you gave us. We will e-mail you a link to choose a new password."</p>
                {notice::<ForgotNotice>()}
                <PostForm<ForgotPassword> class="form">
                    <div class="field">
                        <label for="user_id">"User ID"</label>
                        <input id="user_id" name="user_id" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="200"/>
                    </div>
                    <div class="field">
                        <label for="email">"E-mail address"</label>
                        <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"/>
                    </div>
                    <button type="submit" class="button button--primary button--wide">"E-mail me a link"</button>
                </PostForm<ForgotPassword>>
                <p class="small"><a href="/forgot-user-id">"Forgot your user ID too?"</a></p>
            </div>
    }
}

#[component]
pub fn ForgotUserIdPage() -> impl IntoView {
    view! {
        <Title text="Forgot user ID | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Forgot your user ID?"</h1>
                <p class="lead">"Enter the e-mail address you gave us and your date of birth. We will e-mail you a link to see your user ID."</p>
                {notice::<ForgotNotice>()}
                <PostForm<ForgotUserId> class="form">
                    <div class="field">
                        <label for="email">"E-mail address"</label>
                        <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"/>
                    </div>
                    <div class="field">
                        <label for="date_of_birth">"Date of birth"</label>
                        <input id="date_of_birth" name="date_of_birth" type="date" autocomplete="bday" required aria-describedby="dob-hint" min="1900-01-01"/>
                        <p class="hint" id="dob-hint">"For example 1948-03-12 (year, month, day)."</p>
                    </div>
                    <button type="submit" class="button button--primary button--wide">"E-mail me a link"</button>
                </PostForm<ForgotUserId>>
            </div>
    }
}

#[component]
pub fn RecoverySentPage() -> impl IntoView {
    let org = org_info();
    view! {
        <Title text="Check your e-mail | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Check your e-mail"</h1>
                <p>"If the details match an account, we have sent an e-mail with a link. The link works once, for 30 minutes."</p>
                <p>"No e-mail after a few minutes? Check your junk mail folder, or call us at "{org.phone}"."</p>
                <p><a href="/sign-in">"Back to sign-in"</a></p>
            </div>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    // Its islands wait for data (in the Suspense below), so they would tell too late.
    crate::layout::scripts::island_on_page();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let valid = Resource::new(token, reset_link_valid);
    // A used link (`LinkNotice`) needs no notice here: the page finds the link no longer valid.
    let problem = notice_code::<NewPasswordProblem>();
    view! {
        <Title text="Choose a new password | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Choose a new password"</h1>
                <Loaded resource=valid view={move |data| match data {
                        true => view! {
                            {problem().map(notice_view)}
                            <PostForm<ResetPassword> class="form">
                                <input type="hidden" name="token" value=token()/>
                                <NewPasswordFields/>
                                <button type="submit" class="button button--primary button--wide">"Save my new password"</button>
                            </PostForm<ResetPassword>>
                            <p class="small">"Saving signs your account out everywhere else."</p>
                        }.into_any(),
                        false => view! {
                            {notice_view(LinkNotice::Used)}
                            <p><a href="/forgot-password">"Ask for a new link"</a></p>
                        }.into_any(),
                }}/>
            </div>
    }
}

#[component]
pub fn UserIdLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let failed = notice_code::<LinkNotice>();
    view! {
        <Title text="Your user ID | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Your user ID"</h1>
                {move || if let Some(used) = failed() {
                    view! {
                        {notice_view(used)}
                        <p><a href="/forgot-user-id">"Ask for a new link"</a></p>
                    }.into_any()
                } else {
                    view! {
                        <PostForm<ShowUserId> class="form">
                            <input type="hidden" name="token" value=token()/>
                            <button type="submit" class="button button--primary button--wide">"Show my user ID"</button>
                        </PostForm<ShowUserId>>
                        <p class="small">"The link works once."</p>
                    }.into_any()
                }}
            </div>
    }
}

#[component]
pub fn UserIdShownPage() -> impl IntoView {
    let login = Resource::new(|| (), |_| revealed_user_id());
    view! {
        <Title text="Your user ID | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Your user ID"</h1>
                <Loaded resource=login view={move |data| match data {
                        Some(login) => view! {
                            <p>"Your user ID is:"</p>
                            <p class="user-id-shown"><strong>{login}</strong></p>
                            <p><a class="button button--primary" href="/sign-in">"Sign in"</a></p>
                            <p class="small"><a href="/forgot-password">"Forgot your password too?"</a></p>
                        }.into_any(),
                        None => view! {
                            <p>"This page has already been shown. "<a href="/forgot-user-id">"Ask for a new link"</a>" if you need it again."</p>
                        }.into_any(),
                }}/>
            </div>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let outcome = notice_code::<ConfirmEmailNotice>();
    view! {
        <Title text="Confirm your e-mail address | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Confirm your e-mail address"</h1>
                {move || match outcome() {
                    Some(confirmed @ ConfirmEmailNotice::Confirmed) => view! {
                        {notice_view(confirmed)}
                        <p><a href="/sign-in">"Sign in"</a></p>
                    }.into_any(),
                    Some(link) => notice_view(link),
                    None => view! {
                        <PostForm<ConfirmEmail> class="form">
                            <input type="hidden" name="token" value=token()/>
                            <button type="submit" class="button button--primary button--wide">"Confirm this address"</button>
                        </PostForm<ConfirmEmail>>
                    }.into_any(),
                }}
            </div>
    }
}
