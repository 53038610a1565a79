//! The second sign-in step (SPEC R-SES-1): an authenticator app's code after the password.
//!
//! - `totp.rs`: the code (RFC 6238) and the recovery codes; `server.rs`: the database.
//! - Who is held after the password (`server::held_after_password`): everyone with the
//!   authenticator-app step on, and staff whose role requires a second step (then a passkey is
//!   one). A passkey sign-in from the sign-in page is both steps in one.
//! - The page `/sign-in/code`: what the held person has: the code (and a recovery code, once
//!   each), and their own passkey (a WebAuthn assertion with user verification that only this
//!   user's passkeys can answer; needs JavaScript). Each check takes its place first: five
//!   failures end the waiting session, ten an hour for the account stop all checks.
//! - The setup page: `/account/second-step` (patients), `/staff/second-step` (staff): password
//!   again, then a QR code (rendered here, no outside service) and the secret to type, confirmed
//!   with a code; then ten recovery codes, shown once. Turning it off needs the password again.
//!   Administrators choose there which staff roles must have it; staff of those roles without
//!   it are led to set it up at sign-in.

#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod totp;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{alert, notice_code, notice_codes, notice_view, org_info, Loaded};
use crate::types::StaffRole;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

notice_codes! {
    /// Why the setup page was shown again. `password` and `throttled` (with `wait=` beside it)
    /// come from `password::again`'s refusal.
    pub enum SecondStepNotice {
        Password = Error "password" => "That is not your password.",
        Code = Error "code" => "That code did not work. Enter the code the app shows now (it changes every 30 seconds).",
        Required = Error "required" => "Your role requires a second step: it cannot be turned off.",
        /// Shown with the minutes to wait (`password::throttled_message`).
        Throttled = Error "throttled" => "Your password was typed wrongly too many times. For your security, please wait and try again.",
    }
}

notice_codes! {
    /// Why the page of the step after the password was shown again.
    pub enum SignInCodeNotice {
        Wrong = Error "wrong" => "That code did not work. Check the app and try the current code, or a recovery code.",
    }
}

/// The cookie that carries new recovery codes to the one page that shows them (5 minutes).
pub const CODES_COOKIE: &str = "portal_recovery_codes";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetupView {
    /// The QR code as SVG markup, made here.
    pub qr_svg: String,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondStepView {
    pub enabled: bool,
    pub recovery_left: i64,
    pub setup: Option<SetupView>,
    /// Recovery codes just made: shown this once.
    pub new_codes: Option<Vec<String>>,
    /// The user's role requires a second step (staff).
    pub required: bool,
    /// Administrators: each staff role and whether it requires a second step.
    pub policy: Option<Vec<(StaffRole, bool)>>,
    pub staff: bool,
}

#[server(endpoint = "second-step/view")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_second_step() -> Result<SecondStepView, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    use crate::types::AccountKind;
    let session = request::require_for_second_step_setup()?;
    let state = app_state()?;
    let user = &session.viewer.user_id;
    let mut conn = state.db.pool.acquire().await?;
    let enabled = server::totp_enabled(&mut conn, user).await?;
    let roles = server::required_roles(&mut conn).await?;
    drop(conn);
    let setup = match (enabled, server::pending_setup(&state.db, &state.sealing, user).await?) {
        (false, Some(secret)) => {
            let account = crate::users::login(&state.db.pool, user).await?;
            let uri = totp::otpauth_uri(&state.settings.organisation.name, &account, &secret);
            let qr_svg = qrcode::QrCode::new(uri.as_bytes())
                .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).quiet_zone(true).build())
                .map_err(|_| AppError::Internal)?;
            Some(SetupView { qr_svg, secret: secret.base32_grouped() })
        }
        _ => None,
    };
    let new_codes = request::cookie(&state.settings.cookie_name(CODES_COOKIE)).map(|v| v.split('.').map(str::to_string).collect::<Vec<_>>());
    if new_codes.is_some() {
        let response = expect_context::<leptos_axum::ResponseOptions>();
        response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, CODES_COOKIE, None, 0));
    }
    let (required, policy, staff) = match session.viewer.kind {
        AccountKind::Staff(role) => {
            (roles.contains(&role), (role == StaffRole::Administrator).then(|| StaffRole::ALL.into_iter().map(|r| (r, roles.contains(&r))).collect()), true)
        }
        AccountKind::Patient => (false, None, false),
    };
    Ok(SecondStepView { enabled, recovery_left: server::recovery_codes_left(&state.db, user).await?, setup, new_codes, required, policy, staff })
}

#[cfg(feature = "ssr")]
fn page_of(session: &crate::session::server::ActiveSession) -> &'static str {
    if session.viewer.kind.is_patient() {
        "/account/second-step"
    } else {
        "/staff/second-step"
    }
}

/// Password again, then a new secret to scan.
#[server(endpoint = "second-step/begin")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn begin_second_step(password: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_for_second_step_setup()?;
    let state = app_state()?;
    let page = page_of(&session);
    if let Some(refusal) =
        crate::password::again::check(&state, &session.viewer.user_id, password, state.clock.now_ms()).await?.refusal_href(page, SecondStepNotice::Password)
    {
        crate::platform::request::redirect(&refusal);
        return Ok(());
    }
    server::begin_setup(&state.db, &state.sealing, &session.viewer.user_id, state.clock.now_ms()).await?;
    crate::platform::request::redirect(&format!("{page}#setup"));
    Ok(())
}

/// The first code from the app turns the step on; the recovery codes are shown next, once.
#[server(endpoint = "second-step/confirm")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn confirm_second_step(code: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::session::PendingStep;
    use crate::state::app_state;
    let session = request::require_for_second_step_setup()?;
    let state = app_state()?;
    let page = page_of(&session);
    // The portal's clock: codes are a function of time, and tests set it.
    let now = state.clock.now_ms();
    let Some(codes) = server::confirm_setup(&state.db, &state.sealing, &session.viewer.user_id, &code, request::client_addr(), now).await? else {
        redirect_notice(&format!("{page}#setup"), SecondStepNotice::Code);
        return Ok(());
    };
    if session.pending == Some(PendingStep::SecondStepSetup) {
        let mut tx = state.db.begin_write().await?;
        crate::session::server::set_pending(&mut tx, &session.id_hash, None).await?;
        tx.commit().await?;
    }
    state.outbox_wakeup.notify_one();
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, crate::session::server::step_cookie(&state.settings, CODES_COOKIE, Some(&codes.join(".")), 300));
    crate::platform::request::redirect(&format!("{page}?on=1"));
    Ok(())
}

/// Turns the step off, with the password again; not for staff whose role requires it.
#[server(endpoint = "second-step/off")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn turn_off_second_step(password: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    use crate::types::AccountKind;
    let session = request::require_for_second_step_setup()?;
    let state = app_state()?;
    let page = page_of(&session);
    if let AccountKind::Staff(role) = session.viewer.kind {
        let mut conn = state.db.pool.acquire().await?;
        if server::required_roles(&mut conn).await?.contains(&role) {
            redirect_notice(page, SecondStepNotice::Required);
            return Ok(());
        }
    }
    if let Some(refusal) =
        crate::password::again::check(&state, &session.viewer.user_id, password, state.clock.now_ms()).await?.refusal_href(page, SecondStepNotice::Password)
    {
        crate::platform::request::redirect(&refusal);
        return Ok(());
    }
    server::turn_off(&state.db, &session.viewer.user_id, request::client_addr(), state.clock.now_ms()).await?;
    state.outbox_wakeup.notify_one();
    crate::platform::request::redirect(&format!("{page}?off=1"));
    Ok(())
}

/// Administrators: which staff roles must have a second step.
#[server(endpoint = "second-step/policy")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_second_step_policy(
    front_desk: Option<String>,
    clinician: Option<String>,
    billing: Option<String>,
    administrator: Option<String>,
    auditor: Option<String>,
) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_permission(crate::access::Permission::SetSecondStepPolicy)?;
    let state = app_state()?;
    let chosen = [
        (StaffRole::FrontDesk, front_desk),
        (StaffRole::Clinician, clinician),
        (StaffRole::Billing, billing),
        (StaffRole::Administrator, administrator),
        (StaffRole::Auditor, auditor),
    ];
    let roles: Vec<StaffRole> = chosen.into_iter().filter(|(_, v)| v.as_deref() == Some("yes")).map(|(r, _)| r).collect();
    server::set_required_roles(&state.db, &session.viewer.user_id, &roles, request::client_addr(), state.clock.now_ms()).await?;
    crate::platform::request::redirect("/staff/second-step?policy=1#policy");
    Ok(())
}

/// What a session held for its second step may pass it with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldStep {
    /// A code from the authenticator app.
    pub code: bool,
    /// Recovery codes are left (only with the code).
    pub recovery_codes: bool,
    /// The user's own passkey (the portal's address allows passkeys).
    pub passkey: bool,
}

#[server(endpoint = "second-step/held")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_held_step() -> Result<HeldStep, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_second_step_pending()?;
    let state = app_state()?;
    Ok(server::held_step_options(&state.db, &state.settings, &session.viewer.user_id).await?)
}

#[cfg(feature = "ssr")]
fn portal_of(session: &crate::session::server::ActiveSession) -> crate::types::Portal {
    if session.viewer.kind.is_patient() {
        crate::types::Portal::Patient
    } else {
        crate::types::Portal::Staff
    }
}

/// Where a check that ended the session sends the browser: the sign-in page, which says why;
/// the session cookie goes.
#[cfg(feature = "ssr")]
fn ended(state: &crate::state::AppState, session: &crate::session::server::ActiveSession) -> String {
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, crate::session::server::session_cookie(&state.settings, None));
    crate::layout::notice_href(portal_of(session).sign_in_path(), crate::sign_in::SignInNotice::Code)
}

/// The code typed after the password.
#[server(endpoint = "second-step/code")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn enter_sign_in_code(code: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    use server::CodeCheck;
    let session = request::require_second_step_pending()?;
    let state = app_state()?;
    let portal = portal_of(&session);
    match server::check_sign_in_code(&state, &session, &code, request::client_addr(), state.clock.now_ms()).await? {
        CodeCheck::Passed { next, recovery_code } => {
            state.outbox_wakeup.notify_one();
            let to = next.map(|s| s.path().to_string()).unwrap_or_else(|| {
                if recovery_code {
                    format!("{}?recovery=1", portal.home_path())
                } else {
                    portal.home_path().to_string()
                }
            });
            crate::platform::request::redirect(&to);
        }
        CodeCheck::Wrong => redirect_notice("/sign-in/code", SignInCodeNotice::Wrong),
        CodeCheck::Ended => crate::platform::request::redirect(&ended(&state, &session)),
    }
    Ok(())
}

/// "Use your passkey": the page's script asks for a challenge that only the held user's own
/// passkeys can answer…
#[server(endpoint = "second-step/passkey-start")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn start_passkey_step() -> Result<crate::passkeys::SignInChallenge, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_second_step_pending()?;
    let state = app_state()?;
    match crate::passkeys::server::start_second_step(&state.db, &state.settings, &session.viewer.user_id, state.clock.now_ms()).await {
        Ok((ceremony, options)) => Ok(crate::passkeys::SignInChallenge { ceremony, options: options.to_string() }),
        Err(crate::passkeys::server::PasskeyError::Db(e)) => Err(e.into()),
        Err(e) => Err(request::refuse(AppError::Invalid(e.to_string()))),
    }
}

/// …and sends what the device signed, counted like a code. The answer is where to go next.
#[server(endpoint = "second-step/passkey")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn pass_step_with_passkey(ceremony: String, credential: String) -> Result<String, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    use server::CodeCheck;
    let session = request::require_second_step_pending()?;
    let state = app_state()?;
    match server::check_sign_in_passkey(&state, &session, &ceremony, &credential, request::client_addr(), state.clock.now_ms()).await? {
        CodeCheck::Passed { next, .. } => Ok(next.map(|s| s.path()).unwrap_or(portal_of(&session).home_path()).to_string()),
        CodeCheck::Wrong => Err(request::refuse(AppError::Invalid("That passkey did not work. Please try again.".into()))),
        CodeCheck::Ended => Ok(ended(&state, &session)),
    }
}

/// The second step after the password: what the person has, and only that.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let held = Resource::new(|| (), |_| load_held_step());
    let wrong = notice_code::<SignInCodeNotice>();
    view! {
        <Title text="Second sign-in step | Patient portal"/>
            <div class="card card--narrow">
                <Loaded resource=held view=move |held| view! { <HeldStepForms held wrong=wrong()/> } on_error=|| view! {
                    <h1>"Sign in again"</h1>
                    <p>"This sign-in is no longer waiting for a code. "<a href="/sign-in">"Sign in again"</a>"."</p>
                }/>
            </div>
    }
}

#[component]
fn HeldStepForms(held: HeldStep, wrong: Option<SignInCodeNotice>) -> impl IntoView {
    let phone = org_info().phone;
    let title = if held.code { "Enter your sign-in code" } else { "Confirm it is you" };
    let no_script = if held.code {
        "Using a passkey needs JavaScript, which is turned off in this browser: enter a code from your app instead."
    } else {
        "A passkey needs JavaScript, which is turned off in this browser. Turn JavaScript on to continue."
    };
    view! {
        <h1>{title}</h1>
        {wrong.filter(|_| held.code).map(notice_view)}
        {held.code.then(|| view! {
            <p>"Open your authenticator app and enter the 6-digit code it shows for this portal."
               {held.recovery_codes.then_some(" If you do not have your phone, enter one of your recovery codes instead.")}</p>
            <PostForm<EnterSignInCode> class="form">
                <div class="field">
                    <label for="code">"Code"</label>
                    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required
                        maxlength="16" aria-describedby="code-hint"/>
                    <p class="hint" id="code-hint">{if held.recovery_codes { "6 digits, or a recovery code like ABCDE-12345." } else { "6 digits." }}</p>
                </div>
                <button type="submit" class="button button--primary">"Continue"</button>
            </PostForm<EnterSignInCode>>
        })}
        {held.passkey.then(|| view! {
            <section class="section" aria-labelledby="passkey-step">
                <h2 id="passkey-step">{if held.code { "Or use your passkey" } else { "Use your passkey" }}</h2>
                <p>"Your device will ask for your fingerprint, face or screen lock."</p>
                <div class="needs-js">
                    <button type="button" class="button button--primary" data-passkey-step="">"Use your passkey"</button>
                    <p class="notice notice--alert" role="alert" data-passkey-error hidden></p>
                </div>
                <p class="notice notice--info without-js">{no_script}</p>
            </section>
        })}
        {(!held.code && !held.passkey).then(|| view! {
            <p class="notice notice--info">"Your second step is a passkey, which cannot be used at this portal's address."</p>
        })}
        <p>{if held.code { "Lost your phone and your recovery codes? Call us at " } else { "Lost your device? Call us at " }}{phone}"."</p>
    }
}

#[component]
pub fn PatientSecondStepPage() -> impl IntoView {
    view! {
        <Title text="Sign-in code | Patient portal"/>
            <p><a href="/account">"← Account"</a></p>
            <SecondStepContent/>
    }
}

#[component]
pub fn StaffSecondStepPage() -> impl IntoView {
    view! {
        <Title text="Sign-in code | Staff portal"/>
            <SecondStepContent/>
    }
}

#[component]
fn SecondStepContent() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_second_step());
    let query = use_query_map();
    let error = notice_code::<SecondStepNotice>();
    let message = move || {
        let q = query.read();
        match error() {
            Some(SecondStepNotice::Throttled) => Some(alert(crate::password::throttled_message(q.get("wait"))).into_any()),
            Some(code) => Some(notice_view(code)),
            None => {
                let text = if q.get("off").is_some() {
                    "The authenticator-app step is off."
                } else if q.get("policy").is_some() {
                    "The requirement for staff is saved."
                } else {
                    return None;
                };
                Some(view! { <p class="notice notice--status" role="status">{text}</p> }.into_any())
            }
        }
    };
    view! {
        <h1>"Sign-in code from an authenticator app"</h1>
        {message}
        <Loaded resource=data view=move |v| view! { <SecondStepPanel v/> }/>
    }
}

#[component]
fn SecondStepPanel(v: SecondStepView) -> impl IntoView {
    let home = if v.staff { "/staff" } else { "/home" };
    view! {
        {v.new_codes.map(|codes| view! {
            <section class="notice notice--status" role="status" aria-labelledby="codes-title">
                <h2 id="codes-title">"The authenticator-app step is on. Your recovery codes:"</h2>
                <p>"Keep these somewhere safe, away from your phone. Each works once, instead of a code from the app, if you lose your phone. "
                   <strong>"They are shown only now."</strong></p>
                <ul class="recovery-codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
                <p><a class="button" href=home>"Continue"</a></p>
            </section>
        })}
        {(v.required && !v.enabled).then(|| view! {
            <p class="notice notice--info">"Your role requires a second sign-in step. Set it up to continue, or "
               <a href="/staff/passkeys">"add a passkey"</a>" instead."</p>
        })}
        <p>"With this step on, signing in takes your password and a 6-digit code from an authenticator app on your phone "
           "(for example Google Authenticator, Microsoft Authenticator or 1Password). Someone who learns your password still cannot sign in."</p>
        {if v.enabled {
            view! {
                <p><strong>"The step is on."</strong>{format!(" Recovery codes left: {}.", v.recovery_left)}</p>
                {(!v.required).then(|| view! {
                    <PostForm<TurnOffSecondStep> class="form">
                        <div class="field">
                            <label for="off-password">"Your password"</label>
                            <input id="off-password" name="password" type="password" autocomplete="current-password" required/>
                        </div>
                        <button type="submit" class="button button--danger">"Turn the step off"</button>
                    </PostForm<TurnOffSecondStep>>
                })}
            }.into_any()
        } else if let Some(setup) = v.setup {
            view! {
                <section id="setup" aria-labelledby="setup-title" class="section">
                    <h2 id="setup-title">"Scan this code with your authenticator app"</h2>
                    <div class="qr" role="img" aria-label="QR code to scan with your authenticator app" inner_html=setup.qr_svg></div>
                    <p>"Cannot scan it? Add an account in the app by hand with this key: "<code class="secret">{setup.secret}</code></p>
                    <PostForm<ConfirmSecondStep> class="form">
                        <div class="field">
                            <label for="confirm-code">"The 6-digit code the app shows"</label>
                            <input id="confirm-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="7"/>
                        </div>
                        <button type="submit" class="button button--primary">"Turn the step on"</button>
                    </PostForm<ConfirmSecondStep>>
                </section>
            }.into_any()
        } else {
            view! {
                <PostForm<BeginSecondStep> class="form">
                    <div class="field">
                        <label for="begin-password">"Your password"</label>
                        <input id="begin-password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    <button type="submit" class="button button--primary">"Set up the step"</button>
                </PostForm<BeginSecondStep>>
            }.into_any()
        }}
        {v.policy.map(|roles| view! {
            <section id="policy" aria-labelledby="policy-title" class="section">
                <h2 id="policy-title">"Required for staff"</h2>
                <p>"Staff of the roles ticked here must have a second step: without one they are led to set it up when they sign in."</p>
                <PostForm<SetSecondStepPolicy> class="form">
                    <fieldset>
                        <legend>"Roles that must have a second step"</legend>
                        {roles.into_iter().map(|(role, on)| {
                            let name = role.as_str().replace('-', "_");
                            let id = format!("policy-{}", role.as_str());
                            view! {
                                <div class="check">
                                    <input type="checkbox" id=id.clone() name=name value="yes" checked=on/>
                                    <label for=id>{role.label()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button">"Save the requirement"</button>
                </PostForm<SetSecondStepPolicy>>
            </section>
        })}
    }
}
