//! Passkeys (SPEC R-SES-1): the web's form of signing in with Touch ID, Face ID or the device's
//! passcode. A signed-in user adds one after their password again and after confirming the
//! warning that anyone whose fingerprint or face is enrolled on the device, or who knows its
//! passcode, can then open the account. The sign-in pages offer "Sign in with a passkey" (no user
//! ID: the device offers its passkeys for this site; user verification required). Users list and
//! remove their passkeys; staff remove all of a patient's.
//!
//! WebAuthn needs the browser's script (`passkeys.js`, a hashed static file loaded in every
//! page's head, since pages after the first arrive through `navigation.js`; a script rather
//! than an island: see the README's Passkeys section); the checks are webauthn-rs's (`server.rs`). The relying party is the host of the public URL:
//! passkeys need a host name (browsers refuse IP addresses; `localhost` works).

#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{alert, notice_code, notice_codes, notice_view, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasskeysView {
    pub available: bool,
    pub passkeys: Vec<PasskeyInfo>,
    /// A registration begun: its ceremony id and the options for the browser (JSON).
    pub adding: Option<(String, String)>,
    pub staff: bool,
}

/// What the sign-in script needs to ask the device for a passkey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInChallenge {
    pub ceremony: String,
    pub options: String,
}

#[component]
pub fn PasskeyScript() -> impl IntoView {
    use crate::layout::scripts::{ScriptTag, PASSKEYS};
    view! { <ScriptTag script=&PASSKEYS/> }
}

#[cfg(feature = "ssr")]
fn page_of(session: &crate::session::server::ActiveSession) -> &'static str {
    if session.viewer.kind.is_patient() {
        "/account/passkeys"
    } else {
        "/staff/passkeys"
    }
}

/// The signed-in user with nothing pending, or a member of staff setting up the second step
/// their role requires (a passkey meets it).
#[cfg(feature = "ssr")]
fn signed_in() -> Result<crate::session::server::ActiveSession, AppError> {
    crate::platform::request::require_for_second_step_setup()
}

#[server(endpoint = "passkeys/view")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_passkeys(adding: Option<String>) -> Result<PasskeysView, AppError> {
    use crate::state::app_state;
    let session = signed_in()?;
    let state = app_state()?;
    let user = &session.viewer.user_id;
    let adding = match adding.filter(|a| !a.is_empty()) {
        Some(ceremony) => server::registration_options(&state.db, user, &ceremony, state.clock.now_ms()).await?.map(|o| (ceremony, o)),
        None => None,
    };
    Ok(PasskeysView {
        available: server::relying_party(&state.settings).is_some(),
        passkeys: server::list(&state.db, user).await?,
        adding,
        staff: !session.viewer.kind.is_patient(),
    })
}

/// Password again and the warning confirmed: the browser is then asked to create the passkey.
#[server(endpoint = "passkeys/prepare")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn prepare_passkey(name: String, password: String, understood: Option<String>) -> Result<(), AppError> {
    use crate::state::app_state;
    let session = signed_in()?;
    let state = app_state()?;
    let page = page_of(&session);
    let user = &session.viewer.user_id;
    if understood.as_deref() != Some("yes") {
        redirect_notice(page, PasskeysNotice::Understood);
        return Ok(());
    }
    if let Some(refusal) = crate::password::again::check(&state, user, password, state.clock.now_ms()).await?.refusal_href(page, PasskeysNotice::Password) {
        crate::platform::request::redirect(&refusal);
        return Ok(());
    }
    let name = crate::billing::statement::clean_text(&name).chars().take(server::NAME_MAX).collect::<String>();
    let name = if name.is_empty() { "Passkey".to_string() } else { name };
    match server::start_registration(&state.db, &state.settings, user, &name, state.clock.now_ms()).await {
        Ok((ceremony, _)) => crate::platform::request::redirect(&format!("{page}?adding={ceremony}")),
        Err(server::PasskeyError::Db(e)) => return Err(e.into()),
        Err(_) => redirect_notice(page, PasskeysNotice::Unavailable),
    }
    Ok(())
}

/// What the browser's authenticator created (called by `passkeys.js`).
#[server(endpoint = "passkeys/finish-add")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn finish_adding_passkey(ceremony: String, credential: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = signed_in()?;
    let state = app_state()?;
    match server::finish_registration(&state.db, &state.settings, &session.viewer.user_id, &ceremony, &credential, request::client_addr(), state.clock.now_ms())
        .await
    {
        Ok(()) => {
            if session.pending == Some(crate::session::PendingStep::SecondStepSetup) {
                let mut tx = state.db.begin_write().await?;
                crate::session::server::set_pending(&mut tx, &session.id_hash, None).await?;
                tx.commit().await?;
            }
            state.outbox_wakeup.notify_one();
            Ok(())
        }
        Err(server::PasskeyError::Db(e)) => Err(e.into()),
        Err(e) => Err(crate::platform::request::refuse(AppError::Invalid(e.to_string()))),
    }
}

#[server(endpoint = "passkeys/remove")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = signed_in()?;
    let state = app_state()?;
    let page = page_of(&session);
    if !server::remove(&state.db, &session.viewer.user_id, &id, request::client_addr(), state.clock.now_ms()).await? {
        return Err(request::refuse(AppError::NotFound));
    }
    state.outbox_wakeup.notify_one();
    crate::platform::request::redirect(&format!("{page}?removed=1"));
    Ok(())
}

/// Staff (front desk, administrators): remove every passkey of a patient's account.
#[server(endpoint = "passkeys/remove-for-patient")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_patient_passkeys(patient: String) -> Result<(), AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_permission(crate::access::Permission::ManagePatientAccess)?;
    let state = app_state()?;
    let patient = crate::patients::PatientId::parse(&patient).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let mut tx = state.db.begin_write().await?;
    let Some(user) = crate::users::for_patient(&mut *tx, &patient).await? else {
        return Err(request::refuse(AppError::NotFound));
    };
    let removed = server::remove_all_in(&mut tx, &session.viewer.user_id, &user, request::client_addr(), state.clock.now_ms()).await?;
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    crate::platform::request::redirect(&format!("/staff/patients/{}?passkeys={removed}", patient.as_str()));
    Ok(())
}

/// The sign-in page's script asks for a challenge…
#[server(endpoint = "passkeys/sign-in-start")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn start_passkey_sign_in() -> Result<SignInChallenge, AppError> {
    use crate::state::app_state;
    let state = app_state()?;
    match server::start_sign_in(&state.db, &state.settings, crate::platform::request::client_addr(), state.clock.now_ms()).await {
        Ok((ceremony, options)) => Ok(SignInChallenge { ceremony, options: options.to_string() }),
        Err(server::PasskeyError::Db(e)) => Err(e.into()),
        Err(e) => Err(crate::platform::request::refuse(AppError::Invalid(e.to_string()))),
    }
}

/// …and sends what the device signed: the session opens, and the answer is where to go next.
#[server(endpoint = "passkeys/sign-in-finish")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn finish_passkey_sign_in(ceremony: String, credential: String, portal: String) -> Result<String, AppError> {
    use crate::platform::request;
    use crate::session::server::{device_cookie, session_cookie};
    use crate::state::app_state;
    use crate::types::Portal;
    let state = app_state()?;
    let portal: Portal = portal.parse().map_err(|_| AppError::Request)?;
    let now = state.clock.now_ms();
    // No patient sign-in during a maintenance window (staff still sign in).
    if portal == Portal::Patient && state.maintenance.in_progress(&state.db, now).await.is_some() {
        return Err(request::refuse(AppError::Invalid("The portal is down for maintenance. Please try again later.".into())));
    }
    let refused = || request::refuse(AppError::Invalid("That passkey did not work. Sign in with your user ID and password instead.".into()));
    let user = match server::finish_sign_in(&state.db, &state.settings, &ceremony, &credential, request::client_addr(), now).await {
        Ok(user) => user,
        Err(server::PasskeyError::Db(e)) => return Err(e.into()),
        Err(_) => return Err(refused()),
    };
    let device = request::cookie(state.settings.device_cookie_name());
    let user_agent = request::header("user-agent");
    let Some((session_secret, new_device, next)) =
        crate::sign_in::server::passkey_sign_in(&state, &user, portal, device, request::client_addr(), user_agent.as_deref(), now).await?
    else {
        return Err(refused());
    };
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, session_cookie(&state.settings, Some(&session_secret)));
    if let Some(device) = new_device {
        response.append_header(http::header::SET_COOKIE, device_cookie(&state.settings, &device));
    }
    if !crate::sign_in::cookies_kept(&state.settings) {
        return Ok(crate::sign_in::check_path(portal).to_string());
    }
    Ok(next.map(|s| s.path()).unwrap_or(portal.home_path()).to_string())
}

/// "Sign in with a passkey", under the password form; shown when the browser has WebAuthn.
#[component]
pub fn PasskeySignInButton(portal: &'static str) -> impl IntoView {
    view! {
        <div class="passkey-sign-in needs-js">
            <p class="or"><span>"or"</span></p>
            <button type="button" class="button button--wide" data-passkey-sign-in=portal>"Sign in with a passkey"</button>
            <p class="notice notice--alert" role="alert" data-passkey-error hidden></p>
        </div>
    }
}

#[component]
pub fn PatientPasskeysPage() -> impl IntoView {
    view! {
        <Title text="Passkeys | Patient portal"/>
            <p><a href="/account">"← Account"</a></p>
            <PasskeysContent/>
    }
}

#[component]
pub fn StaffPasskeysPage() -> impl IntoView {
    view! {
        <Title text="Passkeys | Staff portal"/>
            <PasskeysContent/>
    }
}

notice_codes! {
    /// Why the passkeys page was shown again. `password` and `throttled` (with `wait=` beside
    /// it) come from `password::again`'s refusal.
    pub enum PasskeysNotice {
        Password = Error "password" => "That is not your password.",
        Understood = Error "understood" => "Please confirm that you understand who can open your account with a passkey.",
        Unavailable = Error "unavailable" => "Passkeys are not available on this portal's address.",
        /// Shown with the minutes to wait (`password::throttled_message`).
        Throttled = Error "throttled" => "Your password was typed wrongly too many times. For your security, please wait and try again.",
    }
}

fn when(ms: i64) -> String {
    crate::dates::CalendarDate::of_ms(ms).long()
}

#[component]
fn PasskeysContent() -> impl IntoView {
    let query = use_query_map();
    let adding = move || query.read().get("adding");
    let data = Resource::new(adding, load_passkeys);
    let error = notice_code::<PasskeysNotice>();
    let message = move || {
        let q = query.read();
        match error() {
            Some(PasskeysNotice::Throttled) => Some(alert(crate::password::throttled_message(q.get("wait"))).into_any()),
            Some(code) => Some(notice_view(code)),
            None => {
                let text = if q.get("added").is_some() {
                    "Your passkey is added. Next time, choose \u{201c}Sign in with a passkey\u{201d}."
                } else if q.get("removed").is_some() {
                    "The passkey is removed."
                } else {
                    return None;
                };
                Some(view! { <p class="notice notice--status" role="status">{text}</p> }.into_any())
            }
        }
    };
    view! {
        <h1>"Passkeys"</h1>
        {message}
        <p>"A passkey lets you sign in with your device's fingerprint, face or screen lock instead of your user ID and password. "
           "It stays on your device; the portal keeps only a public key."</p>
        <Loaded resource=data view=move |v| view! { <PasskeysPanel v/> }/>
    }
}

#[component]
fn PasskeysPanel(v: PasskeysView) -> impl IntoView {
    let page = if v.staff { "/staff/passkeys" } else { "/account/passkeys" };
    view! {
        <section aria-labelledby="yours" class="section">
            <h2 id="yours">"Your passkeys"</h2>
            {if v.passkeys.is_empty() {
                view! { <p>"You have no passkeys."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <caption class="visually-hidden">"Your passkeys"</caption>
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Added"</th><th scope="col">"Last used"</th><th scope="col">"Remove"</th></tr></thead>
                        <tbody>
                            {v.passkeys.into_iter().map(|p| view! {
                                <tr>
                                    <th scope="row">{p.name.clone()}</th>
                                    <td>{when(p.created_at)}</td>
                                    <td>{p.last_used_at.map(when).unwrap_or_else(|| "Never".into())}</td>
                                    <td>
                                        <PostForm<RemovePasskey> class="inline-form">
                                            <input type="hidden" name="id" value=p.id.clone()/>
                                            <button type="submit" class="button button--quiet" aria-label=format!("Remove {}", p.name)>"Remove"</button>
                                        </PostForm<RemovePasskey>>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {if !v.available {
            view! { <p class="notice notice--info">"Passkeys are not available on this portal's address."</p> }.into_any()
        } else if let Some((ceremony, options)) = v.adding {
            view! {
                <section aria-labelledby="create" class="section">
                    <h2 id="create">"Create the passkey"</h2>
                    <p>"Your browser will now ask for your fingerprint, face or device passcode."</p>
                    <button type="button" class="button button--primary needs-js" data-passkey-add=ceremony data-options=options data-done=page>"Create the passkey"</button>
                    <p class="notice notice--alert" role="alert" data-passkey-error hidden></p>
                    <noscript><p>"Creating a passkey needs JavaScript, which is turned off in this browser."</p></noscript>
                </section>
            }.into_any()
        } else {
            view! {
                <section aria-labelledby="add" class="section">
                    <h2 id="add">"Add a passkey"</h2>
                    <PostForm<PreparePasskey> class="form">
                        <div class="notice notice--info" id="passkey-warning">
                            <p><strong>"Before you add a passkey: "</strong>"anyone whose fingerprint or face is enrolled on this device, "
                               "or who knows its passcode, will be able to open your account."</p>
                        </div>
                        <div class="check">
                            <input type="checkbox" id="understood" name="understood" value="yes" required aria-describedby="passkey-warning"/>
                            <label for="understood">"I understand: only I can unlock this device"</label>
                        </div>
                        <div class="field">
                            <label for="passkey-name">"A name for it (e.g. \u{201c}My phone\u{201d})"</label>
                            <input id="passkey-name" name="name" type="text" maxlength="60" required/>
                        </div>
                        <div class="field">
                            <label for="passkey-password">"Your password"</label>
                            <input id="passkey-password" name="password" type="password" autocomplete="current-password" required/>
                        </div>
                        <button type="submit" class="button button--primary">"Continue"</button>
                    </PostForm<PreparePasskey>>
                </section>
            }.into_any()
        }}
    }
}
