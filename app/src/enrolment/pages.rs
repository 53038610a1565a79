//! The patient's side of enrolment: the request form, the activation code, and choosing a user
//! ID and password.

use super::{ActivationStart, UserIdAnswer};
use crate::account::user_id::{UserIdProblem, RULES as USER_ID_RULES};
use crate::error::AppError;
use crate::layout::alert;
use crate::layout::PostForm;
use crate::layout::{notice, notice_code, notice_codes, org_info, Loaded, NoticeCode};
use crate::password::new_password::NewPasswordProblem;
use crate::password::NewPasswordFields;
use crate::terms::{current_terms, TermsBox};
use leptos::prelude::*;
use leptos_meta::Title;

notice_codes! {
    /// Why a request for access was refused.
    pub enum EnrolNotice {
        Name = Error "name" => "Please give your first and last name.",
        Dob = Error "dob" => "Please give your date of birth as year, month and day (for example 1948-03-12).",
        Email = Error "email" => "Please give an e-mail address that you read, such as name@example.com.",
        Terms = Error "terms" => "To ask for access, tick the box to say you agree to the terms and conditions.",
        TermsChanged = Error "terms-changed" => "The terms were just updated. Please read this version and send the form again.",
        Throttled = Error "throttled" => "Too many requests have come from this connection. Please try again in an hour, or call us.",
    }
}

notice_codes! {
    /// Why the activation code was not taken. `{phone}` stands for the organisation's number,
    /// which the page puts in.
    pub enum ActivateNotice {
        Missing = Error "missing" => "Please enter your activation code and your date of birth.",
        NoMatch = Error "nomatch" => "That activation code and date of birth do not match our records, or the code no longer works. \
            Check both and try again; if it still does not work, call us at {phone} for a new code.",
        Expired = Error "expired" => "That activation code has expired. Please call us at {phone} for a new one.",
        Throttled = Error "throttled" => "Too many attempts have come from this connection. Please wait an hour and try again.",
        Timeout = Error "timeout" => "For your security, setting up your account has timed out. Please enter your code again.",
    }
}

notice_codes! {
    /// Why the account was not made, besides the user ID's problems ([`UserIdProblem`]) and the
    /// password's ([`NewPasswordProblem`]).
    pub enum CredentialsNotice {
        Email = Error "email" => "Please give an e-mail address that you read, such as name@example.com.",
        UserIdChecks = Error "userid-checks" => "You have tried many user IDs in a short time, so we cannot say now what is wrong with the form. \
            Check each part of it: with a free user ID and everything else right, your account is made. \
            Otherwise please wait an hour and try again, or call us.",
        Terms = Error "terms" => "To use the portal, tick the box to say you agree to the terms and conditions.",
        TermsChanged = Error "terms-changed" => "The terms were just updated. Please read this version and tick the box again.",
    }
}

#[server(endpoint = "enrolment/request")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
#[allow(clippy::too_many_arguments)]
pub async fn request_access(
    given_name: String,
    family_name: String,
    date_of_birth: String,
    email: String,
    phone: Option<String>,
    mrn: Option<String>,
    terms_id: String,
    agree: Option<String>,
) -> Result<(), AppError> {
    use super::server::{submit, RequestOutcome};
    use super::{plausible_email, EnrolmentForm};
    use crate::dates::CalendarDate;
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    let now = state.clock.now_ms();
    let back = |notice: EnrolNotice| crate::layout::redirect_notice("/enrol", notice);
    let form = EnrolmentForm {
        given_name: given_name.chars().take(100).collect(),
        family_name: family_name.chars().take(100).collect(),
        email: email.trim().chars().take(254).collect(),
        phone: phone.unwrap_or_default().chars().take(40).collect(),
        mrn: mrn.unwrap_or_default().chars().take(40).collect(),
    };
    if form.given_name.trim().is_empty() || form.family_name.trim().is_empty() {
        back(EnrolNotice::Name);
        return Ok(());
    }
    let Some(dob) = CalendarDate::parse(&date_of_birth).filter(|d| d.plausible_birth_date(now)) else {
        back(EnrolNotice::Dob);
        return Ok(());
    };
    if !plausible_email(&form.email) {
        back(EnrolNotice::Email);
        return Ok(());
    }
    if agree.as_deref() != Some("yes") {
        back(EnrolNotice::Terms);
        return Ok(());
    }
    let current = crate::terms::server::in_force(&state.db, now).await?;
    let Some(current) = current.filter(|t| t.id == terms_id) else {
        back(EnrolNotice::TermsChanged);
        return Ok(());
    };
    match submit(&state.db, &form, dob, &current.id, request::client_addr(), now).await? {
        RequestOutcome::Received => crate::platform::request::redirect("/enrol/sent"),
        RequestOutcome::Throttled => back(EnrolNotice::Throttled),
    }
    Ok(())
}

/// Step 1 of activation: the code and the birth date.
#[server(endpoint = "activation/verify")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn verify_code(code: String, date_of_birth: String) -> Result<(), AppError> {
    use super::server::{verify, VerifyOutcome};
    use super::ACTIVATION_COOKIE;
    use crate::dates::CalendarDate;
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    if code.trim().is_empty() || date_of_birth.trim().is_empty() {
        redirect_notice("/activate", ActivateNotice::Missing);
        return Ok(());
    }
    let dob = CalendarDate::parse(&date_of_birth);
    let code: String = code.chars().take(64).collect();
    match verify(&state, &code, dob, request::client_addr(), state.clock.now_ms()).await? {
        VerifyOutcome::Matched { claim_secret } => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            let cookie = crate::session::server::step_cookie(&state.settings, ACTIVATION_COOKIE, Some(&claim_secret), 30 * 60);
            response.append_header(http::header::SET_COOKIE, cookie);
            crate::platform::request::redirect("/activate/account");
        }
        VerifyOutcome::NoMatch => redirect_notice("/activate", ActivateNotice::NoMatch),
        VerifyOutcome::Expired => redirect_notice("/activate", ActivateNotice::Expired),
        VerifyOutcome::Throttled => redirect_notice("/activate", ActivateNotice::Throttled),
    }
    Ok(())
}

#[server(endpoint = "activation/start")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn get_activation_start() -> Result<Option<ActivationStart>, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    let Some(secret) = request::cookie(&state.settings.cookie_name(super::ACTIVATION_COOKIE)) else { return Ok(None) };
    Ok(super::server::start(&state.db, &secret, state.clock.now_ms()).await?)
}

/// Whether a user ID is free, for the page to say as the patient types. Only open during an
/// activation, and counted, so it cannot be used to list the portal's user IDs.
#[server(endpoint = "activation/user-id")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn check_user_id_available(user_id: String) -> Result<UserIdAnswer, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    let state = app_state()?;
    let secret = request::cookie(&state.settings.cookie_name(super::ACTIVATION_COOKIE)).ok_or_else(|| request::refuse(AppError::Forbidden))?;
    if !super::server::take_user_id_check(&state.db, &secret, state.clock.now_ms()).await? {
        return Err(request::refuse(AppError::Forbidden));
    }
    let user_id: String = user_id.chars().take(100).collect();
    Ok(match super::server::user_id_available(&state.db, &user_id).await? {
        Ok(_) => UserIdAnswer { available: true, message: "That user ID is available.".into() },
        Err(p) => UserIdAnswer { available: false, message: p.message().into() },
    })
}

/// Step 2 of activation: user ID, password, e-mail, the terms.
#[server(endpoint = "activation/complete")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn complete_activation(
    user_id: String,
    password: String,
    password_again: String,
    email: String,
    agree: Option<String>,
    terms_id: Option<String>,
) -> Result<(), AppError> {
    use super::server::{complete, ActivationProblem, Choice};
    use super::ACTIVATION_COOKIE;
    use crate::layout::redirect_notice;
    use crate::password::policy::Problem;
    use crate::platform::request;
    use crate::session::server::device_cookie;
    use crate::session::server::{session_cookie, step_cookie};
    use crate::state::app_state;
    let state = app_state()?;
    const PAGE: &str = "/activate/account";
    let Some(secret) = request::cookie(&state.settings.cookie_name(ACTIVATION_COOKIE)) else {
        redirect_notice("/activate", ActivateNotice::Timeout);
        return Ok(());
    };
    if password.len() > crate::sign_in::MAX_PASSWORD_LEN || user_id.len() > 200 || email.len() > 254 {
        redirect_notice(PAGE, NewPasswordProblem::Rule(Problem::TooLong));
        return Ok(());
    }
    let choice =
        Choice { user_id: &user_id, password, password_again, email: &email, agree_terms: agree.as_deref() == Some("yes"), terms_id: terms_id.as_deref() };
    let user_agent = request::header("user-agent");
    let response = expect_context::<leptos_axum::ResponseOptions>();
    match complete(&state, &secret, choice, request::client_addr(), user_agent.as_deref(), state.clock.now_ms()).await? {
        Ok(done) => {
            response.append_header(http::header::SET_COOKIE, step_cookie(&state.settings, ACTIVATION_COOKIE, None, 0));
            response.append_header(http::header::SET_COOKIE, session_cookie(&state.settings, Some(&done.session_secret)));
            response.append_header(http::header::SET_COOKIE, device_cookie(&state.settings, &done.device_secret));
            crate::platform::request::redirect("/home?welcome=1");
        }
        Err(ActivationProblem::Expired) => {
            response.append_header(http::header::SET_COOKIE, step_cookie(&state.settings, ACTIVATION_COOKIE, None, 0));
            redirect_notice("/activate", ActivateNotice::Timeout);
        }
        Err(ActivationProblem::UserId(p)) => redirect_notice(PAGE, p),
        Err(ActivationProblem::TooManyUserIdChecks) => redirect_notice(PAGE, CredentialsNotice::UserIdChecks),
        Err(ActivationProblem::Password(p)) => redirect_notice(PAGE, p),
        Err(ActivationProblem::Email) => redirect_notice(PAGE, CredentialsNotice::Email),
        Err(ActivationProblem::Terms) => redirect_notice(PAGE, CredentialsNotice::Terms),
        Err(ActivationProblem::TermsChanged) => redirect_notice(PAGE, CredentialsNotice::TermsChanged),
    }
    Ok(())
}

#[component]
pub fn EnrolPage() -> impl IntoView {
    let terms = Resource::new(|| (), |_| current_terms());
    view! {
        <Title text="Ask for access | Patient portal"/>
            <div class="card card--form">
                <h1>"Ask for access to the patient portal"</h1>
                <p class="lead">"Fill in this form. Our front desk checks it against our records and sends you an "
                    "activation code, usually within 2 business days."</p>
                {notice::<EnrolNotice>()}
                <PostForm<RequestAccess> class="form">
                    <fieldset>
                        <legend>"About you"</legend>
                        <div class="field">
                            <label for="given_name">"First name"</label>
                            <input id="given_name" name="given_name" type="text" autocomplete="given-name" required maxlength="100"/>
                        </div>
                        <div class="field">
                            <label for="family_name">"Last name"</label>
                            <input id="family_name" name="family_name" type="text" autocomplete="family-name" required maxlength="100"/>
                        </div>
                        <div class="field">
                            <label for="date_of_birth">"Date of birth"</label>
                            <input id="date_of_birth" name="date_of_birth" type="date" autocomplete="bday" required
                                aria-describedby="dob-hint" min="1900-01-01"/>
                            <p class="hint" id="dob-hint">"For example 1948-03-12 (year, month, day)."</p>
                        </div>
                    </fieldset>
                    <fieldset>
                        <legend>"How to reach you"</legend>
                        <div class="field">
                            <label for="email">"Personal e-mail address"</label>
                            <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"
                                aria-describedby="email-hint"/>
                            <p class="hint" id="email-hint">"We send your activation code and portal notices here. "
                                "Notices never contain health information."</p>
                        </div>
                        <div class="field">
                            <label for="phone">"Phone number (optional)"</label>
                            <input id="phone" name="phone" type="tel" autocomplete="tel" maxlength="40"/>
                        </div>
                        <div class="field">
                            <label for="mrn">"Medical record number (optional)"</label>
                            <input id="mrn" name="mrn" type="text" maxlength="40" aria-describedby="mrn-hint"/>
                            <p class="hint" id="mrn-hint">"If you know it: it is on your visit summaries and statements."</p>
                        </div>
                    </fieldset>
                    <Loaded resource=terms loading="Loading the terms…" view={move |data| match data {
                            Some(t) => view! {
                                <TermsBox terms=t.clone()/>
                                <input type="hidden" name="terms_id" value=t.id.clone()/>
                                <div class="check">
                                    <input type="checkbox" id="agree" name="agree" value="yes" required/>
                                    <label for="agree">"I have read and agree to the terms and conditions"</label>
                                </div>
                            }.into_any(),
                            None => view! { <input type="hidden" name="terms_id" value=""/> }.into_any(),
                    }}/>
                    <button type="submit" class="button button--primary">"Send my request"</button>
                </PostForm<RequestAccess>>
                <p class="small">"Already have an activation code? "<a href="/activate">"Set up your account"</a>"."</p>
            </div>
    }
}

#[component]
pub fn EnrolSentPage() -> impl IntoView {
    let org = org_info();
    view! {
        <Title text="Request received | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Thank you: we have your request"</h1>
                <p>"Our front desk will check your details against our records. If we can confirm who you are, "
                   "we will e-mail you an activation code, usually within 2 business days."</p>
                <p>"When you have the code, come back and choose "<a href="/activate">"Set up your account"</a>"."</p>
                <p>"If you do not hear from us, please call "{org.phone}"."</p>
            </div>
    }
}

#[component]
pub fn ActivatePage() -> impl IntoView {
    let org = org_info();
    let phone = org.phone.clone();
    let code = notice_code::<ActivateNotice>();
    let error = move || code().map(|c| c.message().replace("{phone}", &phone));
    view! {
        <Title text="Set up your account | Patient portal"/>
            <div class="card card--narrow">
                <h1>"Set up your account"</h1>
                <p class="lead">"Enter the activation code we gave you, and your date of birth."</p>
                {move || error().map(alert)}
                <PostForm<VerifyCode> class="form">
                    <div class="field">
                        <label for="code">"Activation code"</label>
                        <input id="code" name="code" type="text" required autocomplete="one-time-code"
                            autocapitalize="characters" spellcheck="false" maxlength="64" aria-describedby="code-hint"/>
                        <p class="hint" id="code-hint">"15 letters and numbers, like 7KQ2M-X9DHT-4RW8B. Dashes and capitals do not matter."</p>
                    </div>
                    <div class="field">
                        <label for="date_of_birth">"Date of birth"</label>
                        <input id="date_of_birth" name="date_of_birth" type="date" autocomplete="bday" required
                            aria-describedby="dob-hint" min="1900-01-01"/>
                        <p class="hint" id="dob-hint">"For example 1948-03-12 (year, month, day)."</p>
                    </div>
                    <button type="submit" class="button button--primary button--wide">"Continue"</button>
                </PostForm<VerifyCode>>
                <p class="small">"No code yet? "<a href="/enrol">"Ask for access"</a>" or call "{org.phone.clone()}"."</p>
            </div>
    }
}

#[component]
pub fn ChooseCredentialsPage() -> impl IntoView {
    // Its islands wait for data (in the Suspense below), so they would tell too late.
    crate::layout::scripts::island_on_page();
    let start = Resource::new(|| (), |_| get_activation_start());
    let (user_id, password, other) = (notice_code::<UserIdProblem>(), notice_code::<NewPasswordProblem>(), notice_code::<CredentialsNotice>());
    let error = move || {
        user_id()
            .map(|p| format!("User ID: {}", p.message()))
            .or_else(|| password().map(|p| format!("Password: {}", p.message())))
            .or_else(|| other().map(|c| c.message().to_string()))
    };
    view! {
        <Title text="Choose your user ID and password | Patient portal"/>
            <div class="card card--form">
                <Loaded resource=start view={move |data| match data {
                        Some(s) => view! {
                            <h1>"Welcome, "{s.given_name.clone()}</h1>
                            <p class="lead">"Your code is right. Now choose how you will sign in."</p>
                            {error().map(alert)}
                            <CredentialsForm start=s/>
                        }.into_any(),
                        None => view! {
                            <h1>"Set up your account"</h1>
                            <p class="notice notice--alert" role="alert">"For your security, this step has timed out or was already completed. "
                                "Please enter your activation code again."</p>
                            <p><a class="button button--primary" href="/activate">"Enter my code"</a></p>
                        }.into_any(),
                }}/>
            </div>
    }
}

#[component]
fn CredentialsForm(start: ActivationStart) -> impl IntoView {
    let needs_terms = start.terms.is_some();
    view! {
        <PostForm<CompleteActivation> class="form">
            <fieldset>
                <legend>"Your user ID"</legend>
                <div class="field">
                    <label for="user_id">"User ID"</label>
                    <input id="user_id" name="user_id" type="text" autocomplete="username" autocapitalize="none"
                        spellcheck="false" required minlength="4" maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._@\\-]{3,63}"
                        aria-describedby="user-id-rules user-id-answer"/>
                    <p class="hint" id="user-id-rules">{USER_ID_RULES}</p>
                    <UserIdCheck input_id="user_id".to_string()/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Your password"</legend>
                <NewPasswordFields label="Password" again_label="Type the password again" user_id_input="user_id"
                    rules="At least 8 characters; 15 or more is best. Any characters, spaces too: a few unrelated words make a strong \
                           password. Do not use your name, birth date or user ID, or a password that is easy to guess."/>
            </fieldset>
            <fieldset>
                <legend>"Your e-mail address"</legend>
                <div class="field">
                    <label for="email">"E-mail address for portal notices"</label>
                    <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"
                        value=start.email.clone() aria-describedby="email-confirm-hint"/>
                    <p class="hint" id="email-confirm-hint">"Please check that this is right, and correct it if not. "
                        "We tell you here when something new is waiting; the e-mails never contain health information. "
                        "We will e-mail you a link to confirm the address: until you open it, we cannot send "
                        "password-reset or user-ID links to it."</p>
                </div>
            </fieldset>
            {start.terms.clone().map(|t| view! {
                <input type="hidden" name="terms_id" value=t.id.clone()/>
                <TermsBox terms=t/>
                <div class="check">
                    <input type="checkbox" id="agree" name="agree" value="yes" required=needs_terms/>
                    <label for="agree">"I have read and agree to the terms and conditions"</label>
                </div>
            })}
            <section class="notice notice--info" aria-labelledby="paperless-title">
                <h2 id="paperless-title">"Paperless billing"</h2>
                <p>"When you create your account you are enrolled in paperless billing: your statements will be in "
                   "the portal instead of arriving by post. You can go back to paper statements at any time under "
                   <strong>"Billing → View Account → Paperless Billing"</strong>"."</p>
            </section>
            <button type="submit" class="button button--primary">"Create my account"</button>
        </PostForm<CompleteActivation>>
    }
}

/// Says, as the patient types a user ID, whether it follows the rules and is free. Without
/// JavaScript the rules are on the page and the server checks on submit.
#[island]
pub fn UserIdCheck(input_id: String) -> impl IntoView {
    crate::layout::scripts::island_on_page();
    let answer = RwSignal::new(None::<(bool, String)>);
    #[cfg(feature = "hydrate")]
    {
        use crate::account::user_id::check_user_id;
        use leptos::task::spawn_local;
        use std::cell::Cell;
        use std::rc::Rc;
        use wasm_bindgen::{closure::Closure, JsCast};
        let generation = Rc::new(Cell::new(0u32));
        let id = input_id.clone();
        Effect::new(move |_| {
            let Some(input) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&id))
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let generation = generation.clone();
            let reader = input.clone();
            let on_input = Closure::<dyn Fn()>::new(move || {
                let value = reader.value();
                let this = generation.get() + 1;
                generation.set(this);
                if value.trim().is_empty() {
                    answer.set(None);
                    return;
                }
                if let Err(p) = check_user_id(&value) {
                    answer.set(Some((false, p.message().to_string())));
                    return;
                }
                let generation = generation.clone();
                spawn_local(async move {
                    // Wait for a pause in typing before asking the server.
                    gloo_timers::future::TimeoutFuture::new(400).await;
                    if generation.get() != this {
                        return;
                    }
                    if let Ok(a) = check_user_id_available(value).await {
                        if generation.get() == this {
                            answer.set(Some((a.available, a.message)));
                        }
                    }
                });
            });
            let _ = input.add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref());
            on_input.forget();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = input_id;
    view! {
        <p id="user-id-answer" class="hint user-id-answer" aria-live="polite">
            {move || answer.get().map(|(ok, text)| view! {
                <span class=if ok { "answer answer--ok" } else { "answer answer--problem" }>
                    {if ok { "✓ " } else { "✗ " }}{text}
                </span>
            })}
        </p>
    }
}
