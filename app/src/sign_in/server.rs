//! A sign-in attempt from start to end: throttling, password check, session, audit, and the
//! notice of a sign-in from a new device. Every attempt is recorded.

use crate::audit::{self, AuditAction, AuditEvent};
use crate::outbox::{self, Notice};
use crate::platform::db::{Db, Tx};
use crate::platform::rate;
use crate::platform::sealing::{Purpose, SealingKey, KEYED_DIGEST_PATTERN};
use crate::platform::throttle::{RecentFailures, ThrottlePolicy};
use crate::platform::tokens;
use crate::session::server as sessions;
use crate::session::server::kind_from_row;
use crate::session::PendingStep;
use crate::state::AppState;
use crate::types::{Portal, UserId};
use std::net::IpAddr;
use std::time::Duration;

pub struct Attempt<'a> {
    pub portal: Portal,
    pub login: &'a str,
    pub password: String,
    /// The device cookie the browser sent, if any.
    pub device_secret: Option<String>,
    pub client_addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    SignedIn {
        session_secret: String,
        /// A new device cookie to set: this browser had not signed in to the account before.
        new_device_secret: Option<String>,
        /// What the user must do before anything else, if anything.
        next: Option<PendingStep>,
    },
    /// The password was right but the clinic has ended this account's access. Said only to
    /// someone who knows the password, so it reveals nothing to anyone else.
    AccessEnded,
    /// Wrong user ID, wrong password, or an account that may not sign in here: the person is
    /// told the same thing in every case.
    Refused,
    Throttled(Duration),
}

const UNKNOWN_DEVICE: &str = "unknown";

/// User IDs are matched without regard to case or surrounding space.
pub fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// What the database keeps of a typed user ID: a keyed digest under the secrets key, so that a
/// copy of the database does not give away the user IDs tried (people sometimes type their
/// password into that field) by trying likely ones.
pub fn login_key(key: &SealingKey, login: &str) -> String {
    key.keyed_digest(Purpose::SignInUserId, "", login)
}

/// Whose failures an attempt counts against: the typed user ID on this device, and the client
/// address (an IPv6 /64 as one).
struct Counted<'a> {
    login_key: &'a str,
    device_key: &'a str,
    client_addr: Option<IpAddr>,
    address_key: Option<String>,
    user_id: Option<&'a UserId>,
}

impl Counted<'_> {
    fn account_subject(&self) -> String {
        format!("{}/{}", self.login_key, self.device_key)
    }
}

/// What a throttled attempt was throttled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Too many failures for this user ID on this device (or on unknown devices).
    Account,
    /// Too many failures from this client address, across user IDs.
    Address,
}

/// The account a sign-in names, as the attempt needs it.
#[derive(sqlx::FromRow)]
struct AccountRow {
    id: UserId,
    password_hash: Option<String>,
    kind: String,
    staff_role: Option<String>,
    access: String,
    email: Option<String>,
}

pub async fn attempt(state: &AppState, a: Attempt<'_>, now: i64) -> Result<Outcome, sqlx::Error> {
    let db = &state.db;
    let login = normalise_login(a.login);
    let login_key = login_key(&state.sealing, &login);

    let user: Option<AccountRow> =
        sqlx::query_as("SELECT id, password_hash, kind, staff_role, access, email FROM users WHERE login = $1").bind(&login).fetch_optional(&db.pool).await?;
    let user_id = user.as_ref().map(|r| r.id.clone());

    let device_key = match (&a.device_secret, &user_id) {
        (Some(secret), Some(uid)) => {
            let digest = tokens::digest(secret);
            let known = sqlx::query("SELECT 1 AS known FROM known_devices WHERE token_hash = $1 AND user_id = $2")
                .bind(&digest)
                .bind(uid.as_str())
                .fetch_optional(&db.pool)
                .await?
                .is_some();
            if known {
                digest
            } else {
                UNKNOWN_DEVICE.to_string()
            }
        }
        _ => UNKNOWN_DEVICE.to_string(),
    };

    let counted = Counted {
        login_key: &login_key,
        device_key: &device_key,
        client_addr: a.client_addr,
        address_key: a.client_addr.map(rate::address_key),
        user_id: user_id.as_ref(),
    };
    // The attempt takes its place (counted as a failure) before the password is checked, so
    // that guesses sent all at once are not all checked: at most the free failures are.
    let place = match take_place(state, &counted, now).await? {
        Ok(place) => place,
        Err(wait) => return Ok(Outcome::Throttled(wait)),
    };

    let (hash, admitted, active, patient, email) = match user {
        Some(row) => {
            let admitted = kind_from_row(&row.kind, row.staff_role.as_deref()).is_some_and(|k| a.portal.admits(k));
            (row.password_hash, admitted, row.access == "active", row.kind == "patient", row.email)
        }
        None => (None, false, false, false, None),
    };
    // The password is checked even when the account cannot sign in here, so that the answer
    // takes as long whatever the reason.
    let password_ok = state.passwords.verify(a.password, hash.clone()).await;

    if let (Some(uid), true, true, false) = (&user_id, password_ok, admitted, active) {
        record_failure(state, Some(uid), a.client_addr, "access ended", now).await?;
        return Ok(Outcome::AccessEnded);
    }
    let (Some(user_id), true, true) = (user_id.clone(), password_ok, admitted) else {
        let detail = match (&user_id, password_ok) {
            (None, _) => "unknown user id",
            (Some(_), false) => "wrong password",
            (Some(_), true) => "account may not sign in here",
        };
        record_failure(state, user_id.as_ref(), a.client_addr, detail, now).await?;
        return Ok(Outcome::Refused);
    };

    let opened = open_session(
        state,
        Opening {
            user: &user_id,
            patient,
            email: email.as_deref(),
            login_key: &login_key,
            device_key: &device_key,
            client_addr: a.client_addr,
            user_agent: a.user_agent.as_deref(),
            by_passkey: false,
            place: Some(place),
            verified_hash: hash.as_deref(),
        },
        now,
    )
    .await?;
    let Some(opened) = opened else {
        // The password was changed (a reset, most likely) while it was being checked: what was
        // right a moment ago no longer opens the account. (The attempt's place stays a failure.)
        record_failure(state, Some(&user_id), a.client_addr, "password changed during sign-in", now).await?;
        return Ok(Outcome::Refused);
    };
    Ok(Outcome::SignedIn { session_secret: opened.0, new_device_secret: opened.1, next: opened.2 })
}

/// The row of an attempt whose password is being checked: recorded as failed until a success
/// settles it.
#[derive(Debug)]
#[must_use = "the attempt counts as a failure until a success settles it"]
struct Place(i64);

/// Takes the attempt's place, or says how long to wait. One write transaction: the address's and
/// then the account's (user ID and device) rows of `rate_subjects` are locked (PostgreSQL;
/// SQLite's write transaction holds the whole database), the failures are counted, and the
/// attempt is inserted as failed. Concurrent attempts for the same account or address thus count
/// one after the other, on one server or several. Always the address first, then the account, so
/// two attempts never wait for each other's locks in opposite orders; and an address that is
/// throttled is refused before anything is written for the user ID it tried (a flood across
/// many user IDs touches no row per ID).
async fn take_place(state: &AppState, c: &Counted<'_>, now: i64) -> Result<Result<Place, Duration>, sqlx::Error> {
    let policy = &state.settings.throttle;
    let mut tx = state.db.begin_write().await?;
    let throttled = 'decided: {
        if let Some(address) = &c.address_key {
            rate::lock_subject(&mut tx, "sign-in:address", address, now).await?;
            let recent = address_failures(&mut tx, policy, address, now).await?;
            if let Some(wait) = policy.wait(&recent, now) {
                break 'decided Some((wait, Scope::Address));
            }
        }
        rate::lock_subject(&mut tx, "sign-in:account", &c.account_subject(), now).await?;
        let recent = account_failures(&mut tx, policy, c, now).await?;
        policy.wait(&recent, now).map(|wait| (wait, Scope::Account))
    };
    if let Some((wait, scope)) = throttled {
        count_refusal(&mut tx, policy, c, scope, now).await?;
        tx.commit().await?;
        REFUSED_THROTTLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(Err(wait));
    }
    let id = insert_attempt(&mut tx, c, "failed", now).await?;
    tx.commit().await?;
    Ok(Ok(Place(id)))
}

/// Counts a throttled attempt: one row per account (or address) and throttle window, however
/// many arrive; the first of each row is audited at once, the count when the window has ended
/// (`sweep`). A flood of throttled attempts thus writes a bounded number of rows.
/// The caller holds the subject's lock.
async fn count_refusal(tx: &mut Tx, policy: &ThrottlePolicy, c: &Counted<'_>, scope: Scope, now: i64) -> Result<(), sqlx::Error> {
    let window_ms = (policy.window.as_millis() as i64).max(1);
    let window_start = now - now.rem_euclid(window_ms);
    let (scope_name, subject, user, login_key) = match scope {
        Scope::Account => ("account", c.account_subject(), c.user_id, Some(c.login_key)),
        Scope::Address => ("address", c.address_key.clone().unwrap_or_default(), None, None),
    };
    let addr = c.client_addr.map(|a| a.to_string());
    let counted = sqlx::query(
        "UPDATE sign_in_refusals SET refusals = refusals + 1, last_at = $1, client_addr = $2 \
         WHERE window_start = $3 AND scope = $4 AND subject = $5",
    )
    .bind(now)
    .bind(&addr)
    .bind(window_start)
    .bind(scope_name)
    .bind(&subject)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if counted > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO sign_in_refusals (window_start, scope, subject, login_key, user_id, client_addr, refusals, first_at, last_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
    )
    .bind(window_start)
    .bind(scope_name)
    .bind(&subject)
    .bind(login_key)
    .bind(user.map(|u| u.as_str()))
    .bind(&addr)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let detail = match scope {
        Scope::Account => "too many failures for this account; further refusals this hour are counted",
        Scope::Address => "too many failures from this address; further refusals this hour are counted",
    };
    audit::record(tx, AuditEvent { subject: user, client_addr: c.client_addr, detail: Some(detail), ..AuditEvent::of(AuditAction::SignInThrottled) }, now).await
}

/// Who is being signed in, once the password (or a passkey) has been checked.
struct Opening<'a> {
    user: &'a UserId,
    patient: bool,
    email: Option<&'a str>,
    login_key: &'a str,
    device_key: &'a str,
    client_addr: Option<IpAddr>,
    user_agent: Option<&'a str>,
    /// A passkey with user verification is both steps in one: no code is asked.
    by_passkey: bool,
    /// The password attempt's place, settled here as a success (none for a passkey).
    place: Option<Place>,
    /// The password hash the password was checked against (none for a passkey).
    verified_hash: Option<&'a str>,
}

/// Opens the session: the attempt recorded, the first step to take, the device remembered (a
/// notice when it is new), the audit entry. Returns the session secret, a new device cookie if
/// any, and the step; none when the password was changed since it was checked.
async fn open_session(state: &AppState, o: Opening<'_>, now: i64) -> Result<Option<(String, Option<String>, Option<PendingStep>)>, sqlx::Error> {
    let user_id = o.user;
    let mut tx = state.db.begin_write().await?;
    if let Some(verified) = o.verified_hash {
        // A sign-in racing a password reset must not keep its session. The password was checked
        // before this transaction (hashing takes a moment); a reset changes the hash and ends the
        // account's sessions in one transaction. Holding the account's row from here to the
        // commit puts this sign-in wholly before the reset (whose end of every session then
        // includes this one) or wholly after it (and then the hash read below is the new one).
        // On SQLite the write transaction already runs alone.
        crate::platform::db::lock_row(&mut tx, "users", user_id.as_str()).await?;
        let current = crate::users::password_hash(&mut *tx, user_id).await?;
        if current.as_deref() != Some(verified) {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    match o.place {
        Some(Place(id)) => {
            sqlx::query("UPDATE sign_in_attempts SET outcome = 'succeeded' WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        None => {
            let counted = Counted {
                login_key: o.login_key,
                device_key: o.device_key,
                client_addr: o.client_addr,
                address_key: o.client_addr.map(rate::address_key),
                user_id: Some(user_id),
            };
            insert_attempt(&mut tx, &counted, "succeeded", now).await?;
        }
    }
    let (session_secret, _) = sessions::create(&mut tx, user_id, o.client_addr, o.user_agent, now).await?;
    let id_hash = tokens::digest(&session_secret);
    let next = if o.by_passkey {
        crate::account::steps::after_second_step(&mut tx, &state.settings, user_id, &id_hash, o.patient, now).await?
    } else {
        crate::account::steps::after_sign_in(&mut tx, &state.settings, user_id, &id_hash, o.patient, now).await?
    };
    let new_device_secret = if o.device_key == UNKNOWN_DEVICE {
        let secret = tokens::new_secret();
        sqlx::query("INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)")
            .bind(tokens::digest(&secret))
            .bind(user_id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if let Some(email) = o.email {
            outbox::enqueue(&mut tx, email, &Notice::NewDeviceSignIn, now).await?;
        }
        Some(secret)
    } else {
        sqlx::query("UPDATE known_devices SET last_used_at = $1 WHERE token_hash = $2").bind(now).bind(o.device_key).execute(&mut *tx).await?;
        None
    };
    let detail = match (o.by_passkey, new_device_secret.is_some()) {
        (true, true) => "passkey, new device",
        (true, false) => "passkey, known device",
        (false, true) => "new device",
        (false, false) => "known device",
    };
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(user_id),
            subject: Some(user_id),
            client_addr: o.client_addr,
            detail: Some(detail),
            ..AuditEvent::of(AuditAction::SignInSucceeded)
        },
        now,
    )
    .await?;
    tx.commit().await?;
    if new_device_secret.is_some() && o.email.is_some() {
        state.outbox_wakeup.notify_one();
    }
    Ok(Some((session_secret, new_device_secret, next)))
}

/// Signs in the user a passkey identified (checked by the caller), if the account may sign in
/// on this portal and its access is active. `None` otherwise: the person is told only that the
/// passkey did not work.
pub async fn passkey_sign_in(
    state: &AppState,
    user: &UserId,
    portal: Portal,
    device_secret: Option<String>,
    client_addr: Option<IpAddr>,
    user_agent: Option<&str>,
    now: i64,
) -> Result<Option<(String, Option<String>, Option<PendingStep>)>, sqlx::Error> {
    let Some(account) = crate::users::by_id(&state.db.pool, user).await? else {
        return Ok(None);
    };
    let admitted = kind_from_row(&account.kind, account.staff_role.as_deref()).is_some_and(|k| portal.admits(k));
    if !admitted || account.access != "active" {
        return Ok(None);
    }
    let login_key = login_key(&state.sealing, &normalise_login(&account.login));
    let device_key = match device_secret {
        Some(secret) => {
            let digest = tokens::digest(&secret);
            let known = sqlx::query("SELECT 1 AS known FROM known_devices WHERE token_hash = $1 AND user_id = $2")
                .bind(&digest)
                .bind(user.as_str())
                .fetch_optional(&state.db.pool)
                .await?
                .is_some();
            if known {
                digest
            } else {
                UNKNOWN_DEVICE.to_string()
            }
        }
        None => UNKNOWN_DEVICE.to_string(),
    };
    let opening = Opening {
        user,
        patient: account.kind == "patient",
        email: account.email.as_deref(),
        login_key: &login_key,
        device_key: &device_key,
        client_addr,
        user_agent,
        by_passkey: true,
        place: None,
        verified_hash: None,
    };
    open_session(state, opening, now).await
}

/// Failures of this user ID on this device since its last success, within the window, read in
/// the transaction that holds the account's lock. Attempts whose password is still being checked
/// count as failures.
async fn account_failures(tx: &mut Tx, policy: &ThrottlePolicy, c: &Counted<'_>, now: i64) -> Result<RecentFailures, sqlx::Error> {
    let window_start = now - policy.window.as_millis() as i64;
    let last_success: Option<i64> =
        sqlx::query_scalar("SELECT MAX(at) AS at FROM sign_in_attempts WHERE login_key = $1 AND device_key = $2 AND outcome = 'succeeded'")
            .bind(c.login_key)
            .bind(c.device_key)
            .fetch_one(&mut **tx)
            .await?;
    let since = window_start.max(last_success.unwrap_or(i64::MIN));
    let (n, last_at): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*) AS n, MAX(at) AS last_at FROM sign_in_attempts \
         WHERE login_key = $1 AND device_key = $2 AND outcome = 'failed' AND at > $3",
    )
    .bind(c.login_key)
    .bind(c.device_key)
    .bind(since)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RecentFailures { account_device: n as u32, last_account_device_at: last_at, ..RecentFailures::default() })
}

/// Failures from this address (across user IDs) within the window, read in the transaction that
/// holds the address's lock.
async fn address_failures(tx: &mut Tx, policy: &ThrottlePolicy, address: &str, now: i64) -> Result<RecentFailures, sqlx::Error> {
    let window_start = now - policy.window.as_millis() as i64;
    let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM sign_in_attempts \
         WHERE address_key = $1 AND outcome = 'failed' AND at > $2",
    )
    .bind(address)
    .bind(window_start)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RecentFailures { address: n as u32, oldest_address_at: oldest, ..RecentFailures::default() })
}

/// Sign-ins refused since this server started (wrong credentials and the like, and throttled
/// ones), for the metrics endpoint. Counted per server; the metrics system adds them up.
pub static REFUSED_FAILED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static REFUSED_THROTTLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Audits a refused attempt whose password was checked (its row already says failed).
async fn record_failure(state: &AppState, user_id: Option<&UserId>, client_addr: Option<IpAddr>, detail: &str, now: i64) -> Result<(), sqlx::Error> {
    REFUSED_FAILED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    audit::record_alone(&state.db, AuditEvent { subject: user_id, client_addr, detail: Some(detail), ..AuditEvent::of(AuditAction::SignInFailed) }, now).await
}

/// Inserts an attempt's row and returns its id.
async fn insert_attempt(tx: &mut Tx, c: &Counted<'_>, outcome: &str, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO sign_in_attempts (at, login_key, device_key, client_addr, address_key, user_id, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(now)
    .bind(c.login_key)
    .bind(c.device_key)
    .bind(c.client_addr.map(|a| a.to_string()))
    .bind(&c.address_key)
    .bind(c.user_id.map(|u| u.as_str()))
    .bind(outcome)
    .fetch_one(&mut **tx)
    .await
}

/// How long sign-in attempt rows (and counted refusals) are kept: far longer than the throttle
/// looks back (an hour) and the security view shows (a day), short enough that the table does
/// not grow without end. The audit trail keeps every sign-in's success or failure for as long
/// as the law asks; these rows only serve the throttle and the security view.
pub const ATTEMPT_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;

/// Audits the count of each throttle window that has ended, once (whichever server gets there
/// first), and forgets attempt rows and counts older than [`ATTEMPT_RETENTION_MS`]. Run by the
/// background sweeper. Returns how many windows were summarised and rows deleted.
#[tracing::instrument(skip_all)]
pub async fn sweep(db: &Db, policy: &ThrottlePolicy, now: i64) -> Result<(u64, u64), sqlx::Error> {
    /// A throttle window's count of refusals for one subject.
    #[derive(sqlx::FromRow)]
    struct WindowRow {
        window_start: i64,
        scope: String,
        subject: String,
        user_id: Option<UserId>,
        client_addr: Option<String>,
        refusals: i64,
    }
    let window_ms = (policy.window.as_millis() as i64).max(1);
    let mut summarised = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let rows: Vec<WindowRow> = sqlx::query_as(
            "SELECT window_start, scope, subject, user_id, client_addr, refusals FROM sign_in_refusals \
             WHERE summarised = 0 AND window_start <= $1 ORDER BY window_start LIMIT 100",
        )
        .bind(now - window_ms)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let WindowRow { window_start, scope, subject, user_id: user, client_addr, refusals } = row;
            let marked = sqlx::query("UPDATE sign_in_refusals SET summarised = 1 WHERE window_start = $1 AND scope = $2 AND subject = $3 AND summarised = 0")
                .bind(window_start)
                .bind(&scope)
                .bind(&subject)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // The first refusal of the window was audited when it happened.
            if marked == 0 || refusals < 2 {
                continue;
            }
            let client_addr = client_addr.and_then(|a| a.parse::<IpAddr>().ok());
            let detail = format!("{refusals} refusals counted in this throttle window ({scope})");
            let window = window_start.to_string();
            audit::record(
                &mut tx,
                AuditEvent {
                    subject: user.as_ref(),
                    client_addr,
                    record_type: Some("sign-in-window"),
                    record_id: Some(&window),
                    detail: Some(&detail),
                    ..AuditEvent::of(AuditAction::SignInThrottled)
                },
                now,
            )
            .await?;
            summarised += 1;
        }
        tx.commit().await?;
    }
    let oldest = now - ATTEMPT_RETENTION_MS;
    let mut deleted = sqlx::query("DELETE FROM sign_in_attempts WHERE at < $1").bind(oldest).execute(&db.pool).await?.rows_affected();
    deleted += sqlx::query("DELETE FROM sign_in_refusals WHERE last_at < $1 AND summarised = 1").bind(oldest).execute(&db.pool).await?.rows_affected();
    Ok((summarised, deleted))
}

/// Replaces the plain SHA-256 user-ID digests kept before keying began with keyed ones, so a
/// copy of the database no longer gives the typed user IDs away. Run at every start (a no-op
/// once done); the keyed digest is defined over the plain one, so nothing is lost.
pub async fn rekey_login_keys(db: &Db, key: &SealingKey) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let plain: Vec<String> = sqlx::query_scalar("SELECT DISTINCT login_key FROM sign_in_attempts WHERE login_key NOT LIKE $1")
        .bind(KEYED_DIGEST_PATTERN)
        .fetch_all(&mut *tx)
        .await?;
    let mut rekeyed = 0;
    for old in plain {
        rekeyed += sqlx::query("UPDATE sign_in_attempts SET login_key = $1 WHERE login_key = $2")
            .bind(key.rekey_digest(Purpose::SignInUserId, "", &old))
            .bind(&old)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(rekeyed)
}
