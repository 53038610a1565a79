//! The e-mail outbox (infrastructure for SPEC R-MSG-6). A notice is written to the `outbox`
//! table in the same transaction as its cause; the server's background worker delivers it.
//! Every notice says only that something is waiting in the portal: no health information, no
//! subject line of a message, no amount, one recipient per e-mail.

use crate::patients::PatientId;
use crate::platform::db::{Db, Tx};
use crate::platform::settings::{Organisation, PortalSettings};
use crate::platform::tokens;

/// What a change of password did to the account's other sessions, as its notice tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionsAfterChange {
    /// A reset through an e-mailed link: every session of the account ended.
    AllEnded,
    /// Changed on the Account page with "sign out my other sessions": every other session ended.
    OthersEnded,
    /// Changed on the Account page, the other sessions kept, as the patient chose.
    OthersKept,
}

/// The kinds of notice. Each renders from fixed text; none takes free text or record data. A
/// notice that carries a secret (a single-use link's token, an activation code) keeps it in the
/// outbox row's `payload` only until it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Someone signed in to the account from a browser that had not been used for it before.
    NewDeviceSignIn,
    /// The staff member chose to e-mail the patient their activation code.
    ActivationCode { code: String },
    /// The account is set up (sent after activation, to the address the patient chose), with the
    /// link that confirms that address: recovery mail goes to it only once it is confirmed.
    AccountReady { token: String },
    /// A link to choose a new password (forgot password).
    PasswordReset { token: String },
    /// A link to a page that shows the user ID (forgot user ID).
    UserIdReminder { token: String },
    /// The password was changed or reset; says what became of the account's other sessions.
    PasswordChanged { sessions: SessionsAfterChange },
    /// To a new address, or to the address chosen at activation when its first link was lost: a
    /// link that confirms it.
    EmailChangeConfirm { token: String },
    /// To the old address: a change of address was asked for.
    EmailChangeRequested,
    /// To the old address: the change took effect.
    EmailChanged,
    /// To the address given in an enrolment request that staff could not approve.
    EnrolmentDeclined,
    /// Something new waits in the portal (a message from the care team; later lessons,
    /// questionnaires, statements). Never says what.
    NewInPortal,
    /// The daily notice of patients who chose one: new things wait in the portal.
    DailySummary,
    /// A new billing statement is in the portal (paperless billing). Never the amount.
    /// ("Available" would trip the health-words check below: it contains "lab".)
    NewStatement,
    /// A way of signing in was added or removed (the authenticator-app step, a passkey).
    SignInMethodsChanged,
    /// Something to fill in or read waits in the portal (a questionnaire, survey or lesson).
    /// Never says which, nor what it is about.
    NewToComplete,
    /// A video visit was scheduled or cancelled. Says only that something new waits: that a
    /// person has visits, and with whom, is theirs to see after signing in.
    VisitsChanged,
    /// Something new is in the patient's medical record (a new result they may see). Never
    /// says what, when, or from whom; at most one a day (`record::notices`).
    NewInRecord,
}

impl Notice {
    /// One of each kind, for tests and for checking templates.
    pub fn samples() -> Vec<Notice> {
        let token = "T0KEN".to_string();
        vec![
            Notice::NewDeviceSignIn,
            Notice::ActivationCode { code: "ABCDE-FGHJK-MNPQR".into() },
            Notice::AccountReady { token: token.clone() },
            Notice::PasswordReset { token: token.clone() },
            Notice::UserIdReminder { token: token.clone() },
            Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded },
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded },
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept },
            Notice::EmailChangeConfirm { token },
            Notice::EmailChangeRequested,
            Notice::EmailChanged,
            Notice::EnrolmentDeclined,
            Notice::NewInPortal,
            Notice::DailySummary,
            Notice::NewStatement,
            Notice::SignInMethodsChanged,
            Notice::NewToComplete,
            Notice::VisitsChanged,
            Notice::NewInRecord,
        ]
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Notice::NewDeviceSignIn => "new-device-sign-in",
            Notice::ActivationCode { .. } => "activation-code",
            Notice::AccountReady { .. } => "account-ready",
            Notice::PasswordReset { .. } => "password-reset",
            Notice::UserIdReminder { .. } => "user-id-reminder",
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded } => "password-changed",
            Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded } => "password-changed-all-ended",
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept } => "password-changed-others-kept",
            Notice::EmailChangeConfirm { .. } => "email-change-confirm",
            Notice::EmailChangeRequested => "email-change-requested",
            Notice::EmailChanged => "email-changed",
            Notice::EnrolmentDeclined => "enrolment-declined",
            Notice::NewInPortal => "new-in-portal",
            Notice::DailySummary => "daily-summary",
            Notice::NewStatement => "new-statement",
            Notice::SignInMethodsChanged => "sign-in-methods-changed",
            Notice::NewToComplete => "new-to-complete",
            Notice::VisitsChanged => "visits-changed",
            Notice::NewInRecord => "new-in-record",
        }
    }

    /// The secret the notice carries, if any.
    pub fn payload(&self) -> Option<&str> {
        match self {
            Notice::ActivationCode { code } => Some(code),
            Notice::AccountReady { token } | Notice::PasswordReset { token } | Notice::UserIdReminder { token } | Notice::EmailChangeConfirm { token } => {
                Some(token)
            }
            _ => None,
        }
    }

    /// The notice stored as `kind` with `payload` (none when the kind is unknown or the payload
    /// it needs is missing, e.g. already cleared).
    pub fn from_parts(kind: &str, payload: Option<String>) -> Option<Notice> {
        Some(match (kind, payload) {
            ("new-device-sign-in", _) => Notice::NewDeviceSignIn,
            ("activation-code", Some(code)) => Notice::ActivationCode { code },
            ("account-ready", Some(token)) => Notice::AccountReady { token },
            ("password-reset", Some(token)) => Notice::PasswordReset { token },
            ("user-id-reminder", Some(token)) => Notice::UserIdReminder { token },
            ("password-changed", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded },
            ("password-changed-all-ended", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded },
            ("password-changed-others-kept", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept },
            ("email-change-confirm", Some(token)) => Notice::EmailChangeConfirm { token },
            ("email-change-requested", _) => Notice::EmailChangeRequested,
            ("email-changed", _) => Notice::EmailChanged,
            ("enrolment-declined", _) => Notice::EnrolmentDeclined,
            ("new-in-portal", _) => Notice::NewInPortal,
            ("daily-summary", _) => Notice::DailySummary,
            ("new-statement", _) => Notice::NewStatement,
            ("sign-in-methods-changed", _) => Notice::SignInMethodsChanged,
            ("new-to-complete", _) => Notice::NewToComplete,
            ("visits-changed", _) => Notice::VisitsChanged,
            ("new-in-record", _) => Notice::NewInRecord,
            _ => return None,
        })
    }

    pub fn render(&self, org: &Organisation, portal_url: &url::Url) -> RenderedMail {
        let link = |path: &str, token: Option<&str>| {
            let mut url = portal_url.join(path).unwrap_or_else(|_| portal_url.clone());
            if let Some(token) = token {
                url.query_pairs_mut().append_pair("token", token);
            }
            url.to_string()
        };
        let sign_in = link("/sign-in", None);
        let footer = format!(
            "If you did not expect this e-mail, call us at {phone}.\n\n\
             This message was sent automatically; replies are not read.\n{org}\n",
            phone = org.phone,
            org = org.name,
        );
        let (subject, text) = match self {
            Notice::NewDeviceSignIn => (
                "new sign-in to your patient portal".to_string(),
                format!(
                    "Your {org} patient portal account was just signed in to from a browser or device \
                     that had not been used for it before.\n\n\
                     If this was you, there is nothing to do.\n\n\
                     If it was not you, sign in at {sign_in} and change your password, or call us at {phone}.",
                    org = org.name,
                    phone = org.phone,
                ),
            ),
            Notice::ActivationCode { code } => (
                "your patient portal activation code".to_string(),
                format!(
                    "Here is the activation code you asked us for:\n\n    {code}\n\n\
                     To set up your account, go to {activate} and enter this code and your date of birth. \
                     The code works once and expires; if it has expired, call us for a new one.",
                    activate = link("/activate", None),
                ),
            ),
            Notice::AccountReady { token } => (
                "your patient portal account is ready".to_string(),
                format!(
                    "Your patient portal account is set up. Sign in at {sign_in}.\n\n\
                     Please confirm that this e-mail address is yours by opening this link within 30 minutes:\n\n    {url}\n\n\
                     Until you do, we cannot send password-reset or user-ID links to this address. If the link \
                     has expired, sign in and send a new one from the Account page.\n\n\
                     You are enrolled in paperless billing: your statements will be in the portal \
                     instead of the post. You can change this in the portal under Billing.",
                    url = link("/confirm-email", Some(token)),
                ),
            ),
            Notice::PasswordReset { token } => (
                "choose a new password".to_string(),
                format!(
                    "Someone (we hope you) asked to reset the password of your patient portal account. \
                     To choose a new password, open this link within 30 minutes:\n\n    {url}\n\n\
                     The link works once. If you did not ask for this, you can ignore this e-mail: \
                     your password has not changed.",
                    url = link("/reset-password", Some(token)),
                ),
            ),
            Notice::UserIdReminder { token } => (
                "your patient portal user ID".to_string(),
                format!(
                    "Someone (we hope you) asked for the user ID of your patient portal account. \
                     To see it, open this link within 30 minutes:\n\n    {url}\n\n\
                     The link works once. If you did not ask for this, you can ignore this e-mail.",
                    url = link("/user-id", Some(token)),
                ),
            ),
            Notice::PasswordChanged { sessions } => (
                "your password was changed".to_string(),
                format!(
                    "{what}\n\n\
                     If you did this, there is nothing to do: sign in at {sign_in} with the new password. \
                     If you did not, call us at {phone} at once.",
                    what = match sessions {
                        SessionsAfterChange::AllEnded => {
                            "The password of your patient portal account was just changed with a reset link sent to \
                             this address, and your account was signed out everywhere: every browser and device \
                             must sign in again with the new password."
                        }
                        SessionsAfterChange::OthersEnded => {
                            "The password of your patient portal account was just changed, and every other \
                             session of your account was signed out: other browsers and devices must sign in \
                             again with the new password."
                        }
                        SessionsAfterChange::OthersKept => {
                            "The password of your patient portal account was just changed. The other sessions of \
                             your account were kept, as chosen when the password was changed: browsers and \
                             devices already signed in stay signed in until they sign out or time out. You can \
                             sign them out on the Account page."
                        }
                    },
                    phone = org.phone,
                ),
            ),
            Notice::EmailChangeConfirm { token } => (
                "confirm your e-mail address".to_string(),
                format!(
                    "Please confirm that the portal may use this e-mail address by opening this \
                     link within 30 minutes:\n\n    {url}\n\n\
                     Until you do, the portal sends no password-reset or user-ID link to this address, \
                     and a change of address you asked for waits (notices keep going to your previous address).",
                    url = link("/confirm-email", Some(token)),
                ),
            ),
            Notice::EmailChangeRequested => (
                "a change of e-mail address was asked for".to_string(),
                format!(
                    "Someone signed in to your patient portal account asked to send its notices to a \
                     different e-mail address. Nothing changes until the new address is confirmed.\n\n\
                     If this was not you, sign in at {sign_in} and change your password, or call us at {phone}.",
                    phone = org.phone,
                ),
            ),
            Notice::EmailChanged => (
                "your e-mail address was changed".to_string(),
                format!(
                    "Your patient portal account now sends its notices to a different e-mail address; this \
                     address will get no more of them. You can check your account at {sign_in}.\n\n\
                     If this was not you, call us at {phone} at once.",
                    phone = org.phone,
                ),
            ),
            Notice::EnrolmentDeclined => (
                "about your request for portal access".to_string(),
                format!(
                    "We could not complete your request for access to our patient portal ({portal}). \
                     Please call us at {phone} and we will help you set it up.",
                    portal = link("/", None),
                    phone = org.phone,
                ),
            ),
            Notice::NewInPortal => {
                ("you have a new message in the portal".to_string(), format!("You have a new message in the portal. Sign in to read it:\n\n    {sign_in}"))
            }
            Notice::DailySummary => (
                "something new in your patient portal".to_string(),
                format!(
                    "Since yesterday, something new has arrived for you in the portal. Sign in to see it:\n\n    {sign_in}\n\n\
                     You get at most one of these e-mails a day. To be told of each new message at once, \
                     change this on the Messages page of the portal."
                ),
            ),
            Notice::NewStatement => (
                "a new statement is ready".to_string(),
                format!(
                    "A new billing statement is ready in your patient portal. Sign in to see it under Billing:\n\n    {sign_in}\n\n\
                     You receive your statements in the portal because you chose paperless billing. To get paper \
                     statements by post instead, go to Billing → View Account → Paperless Billing → Update."
                ),
            ),
            Notice::SignInMethodsChanged => (
                "how you sign in was changed".to_string(),
                format!(
                    "The ways of signing in to your patient portal account were just changed: the authenticator-app \
                     step or a passkey was added or removed. You can see them on the Account page after signing in at \
                     {sign_in}.\n\nIf you did not do this, call us at {phone} at once.",
                    phone = org.phone,
                ),
            ),
            Notice::NewToComplete => (
                "something new is waiting in your patient portal".to_string(),
                format!("Something new from your care team is waiting for you in the portal. Sign in to see it:\n\n    {sign_in}"),
            ),
            Notice::VisitsChanged => (
                "something new in your patient portal".to_string(),
                format!("Something new is waiting for you in your patient portal. Sign in to see it:\n\n    {sign_in}"),
            ),
            Notice::NewInRecord => (
                "something new in your medical record".to_string(),
                format!(
                    "Something new is in your medical record. Sign in to the patient portal to see it:\n\n    {sign_in}\n\n\
                     You get at most one of these e-mails a day. You can choose when new items show in your record \
                     under My Medical Record after signing in."
                ),
            ),
        };
        RenderedMail { subject: format!("{}: {subject}", org.name), body: format!("Hello,\n\n{text}\n\n{footer}") }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

/// A notice claimed for delivery.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub notice: Option<Notice>,
    pub attempts: i64,
}

/// Queues the notice that something new waits in the portal for a patient (a message, a
/// statement, …): `notice` at once, or the next daily notice when the patient chose that (one
/// per day however many things are new). Nothing when the patient has no active account with an
/// e-mail address; the answer says whether the patient will be told.
pub async fn notify_patient(tx: &mut Tx, settings: &PortalSettings, patient: &PatientId, notice: &Notice, now: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(Option<String>, String)> = sqlx::query_as("SELECT u.email, u.notices FROM users u WHERE u.patient_id = $1 AND u.access = 'active'")
        .bind(patient.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let Some((email, notices)) = row else { return Ok(false) };
    let Some(email) = email.filter(|e| !e.is_empty()) else { return Ok(false) };
    use crate::messaging::NoticeMode;
    match NoticeMode::parse(&notices).unwrap_or(NoticeMode::Immediate) {
        NoticeMode::Immediate => enqueue(tx, &email, notice, now).await.map(|_| true),
        NoticeMode::Daily => {
            let waiting: Option<String> =
                sqlx::query_scalar("SELECT id FROM outbox WHERE recipient = $1 AND notice = $2 AND sent_at IS NULL AND failed_at IS NULL")
                    .bind(&email)
                    .bind(Notice::DailySummary.kind())
                    .fetch_optional(&mut **tx)
                    .await?;
            if waiting.is_some() {
                return Ok(true);
            }
            let at = next_daily_notice(settings, now);
            enqueue_at(tx, &email, &Notice::DailySummary, now, at).await.map(|_| true)
        }
    }
}

/// The next daily notice time after `now`, in the clinic's time zone.
pub fn next_daily_notice(settings: &PortalSettings, now: i64) -> i64 {
    let zone = settings.messaging.time_zone.clone();
    let local = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
    let mut day = local.date();
    if local.time() >= settings.messaging.daily_notice_at {
        day = day.tomorrow().unwrap_or(day);
    }
    day.to_datetime(settings.messaging.daily_notice_at).to_zoned(zone).map(|z| z.timestamp().as_millisecond()).unwrap_or(now)
}

pub async fn enqueue(tx: &mut Tx, recipient: &str, notice: &Notice, now: i64) -> Result<(), sqlx::Error> {
    enqueue_at(tx, recipient, notice, now, now).await
}

/// Queues a notice to be sent no earlier than `send_at` (e.g. the daily notice).
pub async fn enqueue_at(tx: &mut Tx, recipient: &str, notice: &Notice, now: i64, send_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (id, recipient, notice, payload, created_at, next_attempt_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, 0)")
        .bind(tokens::new_id())
        .bind(recipient)
        .bind(notice.kind())
        .bind(notice.payload())
        .bind(now)
        .bind(send_at.max(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Claims up to `limit` due notices for `worker` until `lease_until`. Safe with several workers
/// on several app servers: a row is claimed only while unclaimed (or its lease has run out), and
/// the condition is checked again on the row itself, so two workers never hold the same row.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    recipient: String,
    notice: String,
    payload: Option<String>,
    attempts: i64,
}

pub async fn claim(db: &Db, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ClaimedRow>(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
                      AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_attempt_at LIMIT $4) \
           AND sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
         RETURNING id, recipient, notice, payload, attempts",
    )
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| Claimed { notice: Notice::from_parts(&r.notice, r.payload), id: r.id, recipient: r.recipient, attempts: r.attempts }).collect())
}

pub async fn mark_sent(db: &Db, id: &str, worker: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL, payload = NULL WHERE id = $2 AND claimed_by = $3")
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How long a claim holds a notice. A worker renews it (`renew`) just before it sends each
/// notice of its batch, and a send is given up after `SEND_TIME_LIMIT`, so the lease always
/// outlives the send it covers: another app server cannot claim the notice and send it again
/// while this one is still talking to the relay, however slow the batch before it was.
pub const LEASE_MS: i64 = 2 * 60_000;
/// The longest a worker waits for the relay to take one message.
pub const SEND_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Tries after which a notice is given up, whatever the failure: with the back-off below, about
/// five hours of a relay refusing it.
pub const MAX_ATTEMPTS: i64 = 10;
/// Tries after which a notice the relay refused for good (a 5xx answer, an address that is not
/// one) is given up: the same answer again is not worth an hour's wait.
pub const MAX_ATTEMPTS_REFUSED_FOR_GOOD: i64 = 3;

/// Why a notice was not delivered: a short description of the failure's kind (never the
/// message), and whether the same try could succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relay was busy or unreachable, the send took too long: worth trying again.
    ForNow(&'static str),
    /// The relay refused the message for good, or it cannot be built (an address that is not
    /// one, a notice whose secret is gone).
    ForGood(&'static str),
}

impl Failure {
    pub fn describe(&self) -> &'static str {
        match self {
            Failure::ForNow(what) | Failure::ForGood(what) => what,
        }
    }

    /// Whether a notice that has now been tried `attempts` times is given up.
    pub fn gives_up_after(&self, attempts: i64) -> bool {
        match self {
            Failure::ForNow(_) => attempts >= MAX_ATTEMPTS,
            Failure::ForGood(_) => attempts >= MAX_ATTEMPTS_REFUSED_FOR_GOOD,
        }
    }
}

/// What became of a notice that was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Put back for a later try.
    Retried,
    /// Given up: its secret (a link's token, a code) wiped, shown on the security page.
    GaveUp,
}

/// Holds this worker's claim on a notice until `until`, just before sending it. False when the
/// claim is no longer this worker's (its lease ran out and another worker may have it, or it was
/// sent or given up meanwhile): the notice is then left alone.
pub async fn renew(db: &Db, id: &str, worker: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 AND claimed_until >= $4 \
         AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(until)
    .bind(id)
    .bind(worker)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed try of a notice tried `attempts` times: put back for a later try with
/// back-off, or, past the tries its failure allows, given up for good with its secret wiped.
pub async fn mark_failed(db: &Db, id: &str, worker: &str, attempts: i64, failure: Failure, now: i64) -> Result<AfterFailure, sqlx::Error> {
    if failure.gives_up_after(attempts) {
        sqlx::query("UPDATE outbox SET claimed_until = NULL, failed_at = $1, payload = NULL, last_error = $2 WHERE id = $3 AND claimed_by = $4")
            .bind(now)
            .bind(failure.describe())
            .bind(id)
            .bind(worker)
            .execute(&db.pool)
            .await?;
        return Ok(AfterFailure::GaveUp);
    }
    sqlx::query("UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4")
        .bind(now + retry_delay_ms(attempts))
        .bind(failure.describe())
        .bind(id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(AfterFailure::Retried)
}

/// Notices given up since `since`, latest first.
#[derive(sqlx::FromRow)]
struct GivenUpRow {
    notice: String,
    recipient: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    failed_at: i64,
    login: Option<String>,
    display_name: Option<String>,
}

pub async fn given_up(db: &Db, since: i64, limit: i64) -> Result<Vec<crate::security::NoticeGivenUp>, sqlx::Error> {
    let rows = sqlx::query_as::<_, GivenUpRow>(
        "SELECT o.notice, o.recipient, o.attempts, o.last_error, o.created_at, o.failed_at, \
                (SELECT u.login FROM users u WHERE u.email = o.recipient ORDER BY u.login LIMIT 1) AS login, \
                (SELECT u.display_name FROM users u WHERE u.email = o.recipient ORDER BY u.login LIMIT 1) AS display_name \
         FROM outbox o WHERE o.failed_at IS NOT NULL AND o.failed_at > $1 ORDER BY o.failed_at DESC, o.id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| crate::security::NoticeGivenUp {
            kind: r.notice,
            recipient: r.recipient,
            account: r.login.zip(r.display_name),
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            failed_at: r.failed_at,
        })
        .collect())
}

/// Releases this worker's claims (at shutdown), so another worker can send them at once.
pub async fn release(db: &Db, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET claimed_until = NULL WHERE claimed_by = $1 AND sent_at IS NULL").bind(worker).execute(&db.pool).await?;
    Ok(())
}

/// The wait before the next try after `attempts` failed ones: 1, 2, 4 … minutes, at most an
/// hour (until the notice is given up: `MAX_ATTEMPTS`).
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let minutes = 1i64 << attempts.clamp(1, 7).saturating_sub(1);
    minutes.min(60) * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words and figures that would mean a notice carries health or billing information.
    const FORBIDDEN: &[&str] = &[
        "diagnos",
        "result",
        "medication",
        "prescription",
        "condition",
        "symptom",
        "appointment with",
        "balance",
        "amount",
        "$",
        "subject:",
        "dr.",
        "test",
        "lab",
    ];

    #[test]
    fn every_notice_is_free_of_health_information() {
        let org = Organisation { name: "Riverside Clinic".into(), phone: "555-0100".into(), address: vec!["1 Main St".into()], privacy_notice: None };
        let url = url::Url::parse("https://portal.example.org").unwrap();
        for notice in Notice::samples() {
            let mail = notice.render(&org, &url);
            let text = format!("{}\n{}", mail.subject, mail.body).to_lowercase();
            for word in FORBIDDEN {
                assert!(!text.contains(word), "{notice:?} contains {word:?}");
            }
            assert!(text.contains("https://portal.example.org/"), "{notice:?} links to the portal");
            assert!(text.contains("555-0100"), "{notice:?} gives the phone number");
            let back = Notice::from_parts(notice.kind(), notice.payload().map(str::to_owned));
            assert_eq!(back.as_ref(), Some(&notice));
        }
    }

    /// Issue 14, point 12: the notice says exactly what became of the other sessions, so that
    /// someone whose sessions were kept is not told they were signed out (and the reverse).
    #[test]
    fn the_password_changed_notice_says_what_became_of_the_other_sessions() {
        let org = Organisation { name: "Riverside Clinic".into(), phone: "555-0100".into(), address: vec![], privacy_notice: None };
        let url = url::Url::parse("https://portal.example.org").unwrap();
        let body = |sessions| Notice::PasswordChanged { sessions }.render(&org, &url).body;
        let kept = body(SessionsAfterChange::OthersKept);
        assert!(kept.contains("were kept") && kept.contains("stay signed in"), "{kept}");
        assert!(!kept.contains("signed out everywhere") && !kept.contains("was signed out"), "{kept}");
        let ended = body(SessionsAfterChange::OthersEnded);
        assert!(ended.contains("every other session of your account was signed out"), "{ended}");
        assert!(!ended.contains("kept"), "{ended}");
        let reset = body(SessionsAfterChange::AllEnded);
        assert!(reset.contains("signed out everywhere"), "{reset}");
        assert!(!reset.contains("kept"), "{reset}");
    }

    /// Issue 14, point 11: a claim outlives the send it covers, and a notice is given up after
    /// a bounded number of tries (fewer when refused for good).
    #[test]
    fn a_lease_outlives_a_send_and_tries_are_bounded() {
        assert!(LEASE_MS > SEND_TIME_LIMIT.as_millis() as i64 + 30_000, "room for the database writes around a send");
        let for_now = Failure::ForNow("relay refused for now");
        let for_good = Failure::ForGood("relay refused permanently");
        assert!(!for_now.gives_up_after(MAX_ATTEMPTS - 1) && for_now.gives_up_after(MAX_ATTEMPTS));
        assert!(!for_good.gives_up_after(2) && for_good.gives_up_after(3));
        let waited: i64 = (1..MAX_ATTEMPTS).map(retry_delay_ms).sum();
        assert!(waited > 3 * 3_600_000 && waited < 8 * 3_600_000, "a relay down for a few hours does not lose notices: {waited}");
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_ms(1), 60_000);
        assert_eq!(retry_delay_ms(2), 120_000);
        assert_eq!(retry_delay_ms(4), 480_000);
        assert_eq!(retry_delay_ms(100), 3_600_000);
    }
}
