//! The account page and what it changes: password (any time, and when it has aged), e-mail
//! address (re-authenticated, confirmed by a link to the new address), other sessions.

use super::format_utc;
use crate::error::AppError;
use crate::layout::PostForm;
use crate::layout::{alert, notice, notice_code, notice_codes, Loaded};
use crate::password::new_password::NewPasswordProblem;
use crate::password::{NewPasswordFields, PasswordThrottled};
use crate::terms::Acceptance;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Said when an account has asked for `RateKind::EmailChange`'s number of e-mail links this hour.
const EMAIL_LINKS_LIMIT_TEXT: &str =
    "You have asked for 5 e-mail confirmation links in the last hour. For your security, please wait an hour before asking again.";

notice_codes! {
    /// How the last change made from the account page went. After a change of password the page
    /// says what became of the other sessions (`others=`, `n=`: [`password_changed_message`]).
    pub enum AccountNotice {
        Password = Done "password" => "Your password has been changed.",
        Email = Done "email" => "We have sent a link to your new address. Open it within 30 minutes to confirm the change; until then, notices keep going to your current address.",
        Confirmation = Done "confirmation" => "We have sent a new confirmation link to your address. Open it within 30 minutes.",
        Sessions = Done "sessions" => "Your other sessions have been signed out.",
        TooMany = Error "too-many" => EMAIL_LINKS_LIMIT_TEXT,
    }
}

notice_codes! {
    /// Why a change of password was refused, besides the new password's own problems
    /// ([`NewPasswordProblem`]) and too many wrong passwords ([`PasswordThrottled`]).
    pub enum ChangePasswordNotice {
        Current = Error "current" => "Your current password was not right. Please type it again.",
        Same = Error "same" => "Please choose a password different from your current one.",
    }
}

notice_codes! {
    /// Why a change of e-mail address was refused (besides [`PasswordThrottled`]).
    pub enum ChangeEmailNotice {
        Email = Error "email" => "Please give an e-mail address that you read, such as name@example.com.",
        Current = Error "current" => "Your password was not right. Please type it again.",
        TooMany = Error "too-many" => EMAIL_LINKS_LIMIT_TEXT,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub current: bool,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub from: Option<String>,
    pub device: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub login: String,
    pub email: Option<String>,
    /// Whether the owner confirmed the address (by the link sent to it): until then no recovery
    /// mail goes to it.
    pub email_confirmed: bool,
    pub password_changed_at: Option<i64>,
    pub paperless: bool,
    pub sessions: Vec<SessionView>,
    pub terms: Vec<Acceptance>,
}

/// "Firefox on Windows": enough to recognise a session, from the browser's own description.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub fn describe_device(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("");
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| name);
    let system =
        [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"), ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
            .into_iter()
            .find(|(marker, _)| ua.contains(marker))
            .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "Unknown browser".to_string(),
    }
}

#[server(endpoint = "account/overview")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn get_account_overview() -> Result<AccountOverview, AppError> {
    use crate::platform::request;
    use crate::state::app_state;
    #[derive(sqlx::FromRow)]
    struct OverviewRow {
        login: String,
        email: Option<String>,
        email_confirmed_at: Option<i64>,
        password_changed_at: Option<i64>,
        statement_delivery: Option<String>,
    }
    let session = request::require_patient()?;
    let state = app_state()?;
    let user = &session.viewer.user_id;
    let row: OverviewRow = sqlx::query_as(
        "SELECT u.login, u.email, u.email_confirmed_at, u.password_changed_at, p.statement_delivery FROM users u \
         LEFT JOIN patients p ON p.id = u.patient_id WHERE u.id = $1",
    )
    .bind(user.as_str())
    .fetch_one(&state.db.pool)
    .await?;
    let sessions = crate::session::server::open_sessions_of(&state.db, user, &state.settings.sessions, state.clock.now_ms())
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.public_id == session.public_id,
            started_at: s.created_at,
            last_seen_at: s.last_seen_at,
            from: s.client_addr,
            device: describe_device(s.user_agent.as_deref()),
        })
        .collect();
    Ok(AccountOverview {
        login: row.login,
        email: row.email,
        email_confirmed: row.email_confirmed_at.is_some(),
        password_changed_at: row.password_changed_at,
        paperless: row.statement_delivery.as_deref() == Some("paperless"),
        sessions,
        terms: crate::terms::server::acceptances_of(&state.db, user).await?,
    })
}

/// Changes the password. Allowed while an aged-password step is pending (it is that step).
#[server(endpoint = "account/change-password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_password(current_password: String, password: String, password_again: String, sign_out_others: Option<String>) -> Result<(), AppError> {
    use crate::audit::{self, AuditAction, AuditEvent};
    use crate::layout::{notice_href, redirect_notice};
    use crate::outbox::{self, Notice, SessionsAfterChange};
    use crate::password::new_password;
    use crate::password::policy::Problem;
    use crate::platform::request;
    use crate::session::server::{end_all_of, set_pending, EndReason};
    use crate::session::PendingStep;
    use crate::state::app_state;
    let session = request::admit(crate::access::Gate::PATIENT.during(&[PendingStep::PasswordReminder, PendingStep::PasswordRequired]))?;
    let state = app_state()?;
    let now = state.clock.now_ms();
    let user = &session.viewer.user_id;
    const PAGE: &str = "/account/password";
    if [&current_password, &password, &password_again].iter().any(|p| p.len() > crate::sign_in::MAX_PASSWORD_LEN) {
        redirect_notice(PAGE, NewPasswordProblem::Rule(Problem::TooLong));
        return Ok(());
    }
    if let Some(refusal) = crate::password::again::check(&state, user, current_password.clone(), now).await?.refusal_href(PAGE, ChangePasswordNotice::Current) {
        crate::platform::request::redirect(&refusal);
        return Ok(());
    }
    if password == current_password {
        redirect_notice(PAGE, ChangePasswordNotice::Same);
        return Ok(());
    }
    let details = crate::recovery::server::personal_details(&state.db, user).await?;
    let names: Vec<&str> = details.names.iter().map(String::as_str).collect();
    if let Err(p) = new_password::check(&password, &password_again, &names, &details.login, details.date_of_birth.as_deref()) {
        redirect_notice(PAGE, p);
        return Ok(());
    }
    let new_hash = state.passwords.hash(password).await;
    let addr = request::client_addr();
    let mut tx = state.db.begin_write().await?;
    crate::recovery::server::set_password(&mut tx, user, &new_hash, now).await?;
    let was_pending = session.pending.is_some();
    if was_pending {
        set_pending(&mut tx, &session.id_hash, None).await?;
    }
    // What became of the other sessions is said exactly, on the page and in the notice: how
    // many were signed out, or that they stay signed in, as the patient chose.
    let (sessions, n) = if sign_out_others.as_deref() == Some("yes") {
        (SessionsAfterChange::OthersEnded, end_all_of(&mut tx, user, Some(&session.id_hash), EndReason::PasswordChanged, addr, now).await?)
    } else {
        (SessionsAfterChange::OthersKept, other_open_sessions(&mut tx, user, &session.id_hash, &state.settings.sessions, now).await?)
    };
    let (others, detail) = match sessions {
        SessionsAfterChange::OthersKept => ("kept", format!("{n} other sessions kept")),
        _ => ("ended", format!("{n} other sessions ended")),
    };
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(user), subject: Some(user), client_addr: addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::PasswordChanged) },
        now,
    )
    .await?;
    if let Some(email) = &details.email {
        outbox::enqueue(&mut tx, email, &Notice::PasswordChanged { sessions }, now).await?;
    }
    tx.commit().await?;
    state.outbox_wakeup.notify_one();
    let page = if was_pending { "/home?password=changed".to_string() } else { notice_href("/account", AccountNotice::Password) };
    crate::platform::request::redirect(&format!("{page}&others={others}&n={n}"));
    Ok(())
}

/// How many other sessions of the account are open (not ended, not run out of time).
#[cfg(feature = "ssr")]
async fn other_open_sessions(
    tx: &mut crate::platform::db::Tx,
    user: &crate::types::UserId,
    except: &str,
    policy: &crate::settings::SessionPolicy,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT created_at, last_seen_at FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND id_hash <> $2")
        .bind(user.as_str())
        .bind(except)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().filter(|&(created_at, last_seen_at)| crate::session::server::expiry(policy, created_at, last_seen_at, now).is_none()).count())
}

/// What the page says after a change of password: exactly what became of the other sessions
/// (`others` is `ended` or `kept`, `n` how many).
pub fn password_changed_message(others: Option<&str>, n: Option<usize>) -> String {
    match (others, n) {
        (Some("ended"), Some(0)) => "Your password has been changed. No other session was open, so none had to be signed out.".into(),
        (Some("ended"), Some(1)) => "Your password has been changed, and your other session was signed out.".into(),
        (Some("ended"), Some(n)) => format!("Your password has been changed, and your {n} other sessions were signed out."),
        (Some("kept"), Some(0)) => "Your password has been changed. No other session was open.".into(),
        (Some("kept"), Some(1)) => {
            "Your password has been changed. As you chose, your other session stays signed in: you can sign it out on the Account page.".into()
        }
        (Some("kept"), Some(n)) => {
            format!("Your password has been changed. As you chose, your {n} other sessions stay signed in: you can sign them out on the Account page.")
        }
        _ => "Your password has been changed.".into(),
    }
}

/// Sends again the link that confirms the account's address (the one chosen at activation).
#[server(endpoint = "account/resend-confirmation")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn resend_confirmation() -> Result<(), AppError> {
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::recovery::server::LinkRequest;
    use crate::state::app_state;
    let session = request::require_patient()?;
    let state = app_state()?;
    let done = crate::recovery::server::resend_confirmation(&state, &session.viewer.user_id, request::client_addr(), state.clock.now_ms()).await?;
    match done {
        Some(LinkRequest::Sent) => redirect_notice("/account", AccountNotice::Confirmation),
        Some(LinkRequest::TooMany) => redirect_notice("/account", AccountNotice::TooMany),
        None => crate::platform::request::redirect("/account"),
    }
    Ok(())
}

/// "Remind me later", once per password, when the organisation allows it.
#[server(endpoint = "account/remind-later")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remind_me_later() -> Result<(), AppError> {
    use crate::audit::{self, AuditAction, AuditEvent};
    use crate::platform::request;
    use crate::session::server::set_pending;
    use crate::session::PendingStep;
    use crate::state::app_state;
    let session = request::admit(crate::access::Gate::waiting(PendingStep::PasswordReminder))?;
    if session.pending != Some(PendingStep::PasswordReminder) {
        return Err(request::refuse(AppError::Forbidden));
    }
    let state = app_state()?;
    let now = state.clock.now_ms();
    let user = &session.viewer.user_id;
    let mut tx = state.db.begin_write().await?;
    sqlx::query("UPDATE users SET password_reminded_at = $1 WHERE id = $2").bind(now).bind(user.as_str()).execute(&mut *tx).await?;
    set_pending(&mut tx, &session.id_hash, None).await?;
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(user), subject: Some(user), client_addr: request::client_addr(), ..AuditEvent::of(AuditAction::PasswordReminderDeferred) },
        now,
    )
    .await?;
    tx.commit().await?;
    crate::platform::request::redirect("/home");
    Ok(())
}

#[server(endpoint = "account/change-email")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_email(new_email: String, current_password: String) -> Result<(), AppError> {
    use crate::layout::redirect_notice;
    use crate::platform::request;
    use crate::state::app_state;
    const PAGE: &str = "/account/email";
    let session = request::require_patient()?;
    let state = app_state()?;
    let user = &session.viewer.user_id;
    let new_email = new_email.trim().to_lowercase();
    if !crate::enrolment::plausible_email(&new_email) {
        redirect_notice(PAGE, ChangeEmailNotice::Email);
        return Ok(());
    }
    if current_password.len() > crate::sign_in::MAX_PASSWORD_LEN {
        redirect_notice(PAGE, ChangeEmailNotice::Current);
        return Ok(());
    }
    let now = state.clock.now_ms();
    if let Some(refusal) = crate::password::again::check(&state, user, current_password, now).await?.refusal_href(PAGE, ChangeEmailNotice::Current) {
        crate::platform::request::redirect(&refusal);
        return Ok(());
    }
    match crate::recovery::server::request_email_change(&state, user, &new_email, request::client_addr(), now).await? {
        crate::recovery::server::LinkRequest::Sent => redirect_notice("/account", AccountNotice::Email),
        crate::recovery::server::LinkRequest::TooMany => redirect_notice(PAGE, ChangeEmailNotice::TooMany),
    }
    Ok(())
}

#[server(endpoint = "account/end-other-sessions")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn end_other_sessions() -> Result<(), AppError> {
    use crate::audit::{self, AuditAction, AuditEvent};
    use crate::platform::request;
    use crate::session::server::{end_all_of, EndReason};
    use crate::state::app_state;
    let session = request::require_patient()?;
    let state = app_state()?;
    let now = state.clock.now_ms();
    let user = &session.viewer.user_id;
    let addr = request::client_addr();
    let mut tx = state.db.begin_write().await?;
    let n = end_all_of(&mut tx, user, Some(&session.id_hash), EndReason::EndedByUser, addr, now).await?;
    let detail = format!("{n} ended");
    audit::record(
        &mut tx,
        AuditEvent { actor: Some(user), subject: Some(user), client_addr: addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::OtherSessionsEnded) },
        now,
    )
    .await?;
    tx.commit().await?;
    crate::layout::redirect_notice("/account", AccountNotice::Sessions);
    Ok(())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_account_overview());
    let query = use_query_map();
    let code = notice_code::<AccountNotice>();
    let outcome = move || {
        code().map(|c| match c {
            AccountNotice::Password => {
                let q = query.read();
                let text = password_changed_message(q.get("others").as_deref(), q.get("n").and_then(|n| n.parse().ok()));
                view! { <p class="notice notice--status" role="status">{text}</p> }.into_any()
            }
            c => crate::layout::notice_view(c),
        })
    };
    view! {
        <Title text="Account | Patient portal"/>
            <h1>"Account"</h1>
            {outcome}
            <Loaded resource=overview view=move |o| view! { <AccountView overview=o/> }/>
    }
}

#[component]
fn AccountView(overview: AccountOverview) -> impl IntoView {
    let others = overview.sessions.iter().filter(|s| !s.current).count();
    view! {
        <section aria-labelledby="sign-in-heading" class="section">
            <h2 id="sign-in-heading">"Sign-in details"</h2>
            <dl class="details">
                <dt>"User ID"</dt><dd>{overview.login.clone()}</dd>
                <dt>"E-mail for notices"</dt>
                <dd>
                    {overview.email.clone().unwrap_or_else(|| "—".into())}
                    {(overview.email.is_some() && !overview.email_confirmed).then_some(" (not confirmed yet)")}
                    " "<a href="/account/email">"Change e-mail address"</a>
                </dd>
                <dt>"Password"</dt><dd>{overview.password_changed_at.map(|t| format!("Last changed {}", format_utc(t)))}" "<a href="/account/password">"Change password"</a></dd>
                <dt>"Statements"</dt><dd>{if overview.paperless { "Paperless: in the portal" } else { "Paper, by post" }}</dd>
            </dl>
            {(overview.email.is_some() && !overview.email_confirmed).then(|| view! {
                <div class="notice notice--info">
                    <p>"Your e-mail address is not confirmed yet. Until you open the link we sent to it, we cannot send "
                       "password-reset or user-ID links to it (they go to the address on your clinic record, if it has one)."</p>
                    <PostForm<ResendConfirmation> class="form">
                        <button type="submit" class="button">"Send the confirmation link again"</button>
                    </PostForm<ResendConfirmation>>
                </div>
            })}
        </section>
        <section aria-labelledby="sessions-heading" class="section">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <table class="table">
                <caption class="visually-hidden">"Your open sessions"</caption>
                <thead><tr><th scope="col">"Browser"</th><th scope="col">"Signed in"</th><th scope="col">"Last active"</th><th scope="col">"From address"</th></tr></thead>
                <tbody>
                    {overview.sessions.iter().map(|s| view! {
                        <tr>
                            <td>{s.device.clone()}{s.current.then_some(" (this one)")}</td>
                            <td>{format_utc(s.started_at)}</td>
                            <td>{format_utc(s.last_seen_at)}</td>
                            <td>{s.from.clone().unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(others > 0).then(|| view! {
                <PostForm<EndOtherSessions> class="form">
                    <button type="submit" class="button button--quiet">"Sign out all other sessions"</button>
                </PostForm<EndOtherSessions>>
            })}
            <p>"Recent sign-ins and changes to your account: "<a href="/account/activity">"Account activity"</a></p>
        </section>
        <section aria-labelledby="sign-in-heading" class="section">
            <h2 id="sign-in-heading">"Signing in"</h2>
            <p>"Sign in with your device's fingerprint, face or screen lock: "<a href="/account/passkeys">"Passkeys"</a></p>
            <p>"Add a second step to signing in: a code from an authenticator app on your phone. "
               <a href="/account/second-step">"Sign-in code from an authenticator app"</a></p>
        </section>
        <section aria-labelledby="terms-heading" class="section">
            <h2 id="terms-heading">"Terms you have accepted"</h2>
            {if overview.terms.is_empty() {
                view! { <p>"None recorded."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <caption class="visually-hidden">"Terms and conditions accepted"</caption>
                        <thead><tr><th scope="col">"Version"</th><th scope="col">"Accepted"</th><th scope="col">"From address"</th></tr></thead>
                        <tbody>
                            {overview.terms.iter().map(|t| view! {
                                <tr>
                                    <td>{format!("{} (version {})", t.title, t.version)}</td>
                                    <td>{format_utc(t.accepted_at)}</td>
                                    <td>{t.client_addr.clone().unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <p><a href="/terms">"Read the terms in force"</a></p>
        </section>
    }
}

/// Also the step of an aged password (SPEC R-ENR-5): then it says why, and offers "remind me
/// later" when allowed.
#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    use crate::session::PendingStep;
    let throttled = throttled_alert();
    let pending = pending_step();
    view! {
        <Title text="Change password | Patient portal"/>
            <h1>"Change your password"</h1>
            {match pending {
                Some(PendingStep::PasswordReminder) => view! {
                    <p class="notice notice--info">"Your password has not been changed for a long time. For your security, please choose a new one now. "
                        "You can also do it next time."</p>
                }.into_any(),
                Some(PendingStep::PasswordRequired) => view! {
                    <p class="notice notice--info">"Your password has not been changed for a long time. For your security, "
                        "please choose a new one before you continue."</p>
                }.into_any(),
                _ => ().into_any(),
            }}
            {notice::<ChangePasswordNotice>()}
            {notice::<NewPasswordProblem>()}
            {throttled}
            <PostForm<ChangePassword> class="form card--form">
                <div class="field">
                    <label for="current_password">"Current password"</label>
                    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
                </div>
                <NewPasswordFields/>
                <div class="check">
                    <input type="checkbox" id="sign_out_others" name="sign_out_others" value="yes" checked=true/>
                    <label for="sign_out_others">"Sign out my other sessions (recommended)"</label>
                </div>
                <button type="submit" class="button button--primary">"Change password"</button>
            </PostForm<ChangePassword>>
            {(pending == Some(PendingStep::PasswordReminder)).then(|| view! {
                <PostForm<RemindMeLater> class="form">
                    <button type="submit" class="button button--quiet">"Remind me later"</button>
                </PostForm<RemindMeLater>>
            })}
    }
}

/// The step the viewer's session must take first, during server rendering.
fn pending_step() -> Option<crate::session::PendingStep> {
    #[cfg(feature = "ssr")]
    {
        crate::platform::request::current_session().and_then(|s| s.pending)
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// The alert for [`PasswordThrottled`], which says how many minutes to wait (`wait=`).
fn throttled_alert() -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    let query = use_query_map();
    let throttled = notice_code::<PasswordThrottled>();
    move || throttled().map(|_| alert(crate::password::throttled_message(query.read().get("wait"))).into_any())
}

#[component]
pub fn ChangeEmailPage() -> impl IntoView {
    let throttled = throttled_alert();
    view! {
        <Title text="Change e-mail address | Patient portal"/>
            <h1>"Change your e-mail address"</h1>
            <p class="lead">"We will send a link to the new address; the change happens when you open it. "
                "We also tell your current address."</p>
            {notice::<ChangeEmailNotice>()}
            {throttled}
            <PostForm<ChangeEmail> class="form card--form">
                <div class="field">
                    <label for="new_email">"New e-mail address"</label>
                    <input id="new_email" name="new_email" type="email" autocomplete="email" required maxlength="254"/>
                </div>
                <div class="field">
                    <label for="current_password">"Your password (to confirm it is you)"</label>
                    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
                </div>
                <button type="submit" class="button button--primary">"Send confirmation link"</button>
            </PostForm<ChangeEmail>>
    }
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn sessions_are_described_by_browser_and_system() {
        let chrome_windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(describe_device(Some(chrome_windows)), "Chrome on Windows");
        let safari_iphone =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(Some(safari_iphone)), "Safari on iPhone");
        assert_eq!(describe_device(None), "Unknown browser");
    }
}
