//! The second step in the database: setting the authenticator app up (a secret shown, then
//! confirmed with a code), recovery codes, who is held for a second step after the password,
//! passing it (a code, a recovery code or the user's own passkey: each code once; five failures
//! end the waiting session, ten an hour stop all checks for the account), turning it off, and
//! which staff roles must have one. Every change is audited and e-mailed as a notice.

use super::totp::{self, Secret};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::outbox::{self, Notice};
use crate::platform::db::{Db, Tx};
use crate::platform::rate::{self, CheckKind, CheckLimit, Place};
use crate::platform::sealing::{self, SealingKey};
use crate::session::server::ActiveSession;
use crate::session::PendingStep;
use crate::state::AppState;
use crate::types::{StaffRole, UserId};
use std::net::IpAddr;

/// Failed checks (wrong codes, refused passkey answers) a session waiting for its second step
/// may make before it is ended.
pub const MAX_WRONG_CODES: i64 = 5;
/// Failed checks for one account in an hour, across sessions and servers: past this nothing is
/// even checked until the hour has moved on. (Whoever has the password can open session after
/// session; without this cap a million six-digit codes would be only a matter of time.)
pub const MAX_WRONG_CODES_PER_HOUR: u32 = 10;

const ACCOUNT_LIMIT: CheckLimit = CheckLimit::Cap { max: MAX_WRONG_CODES_PER_HOUR, window: std::time::Duration::from_secs(3600) };

/// Whether the user has the authenticator-app step on.
pub async fn totp_enabled(conn: &mut sqlx::AnyConnection, user: &UserId) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 AS on_ FROM totp_credentials WHERE user_id = $1").bind(user.as_str()).fetch_optional(conn).await?.is_some())
}

/// How many recovery codes are left.
pub async fn recovery_codes_left(db: &Db, user: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user.as_str()).fetch_one(&db.pool).await
}

/// What a user's secret is sealed for: the user, so that a sealed value moved to another
/// user's row does not open.
fn context(user: &UserId) -> String {
    format!("totp:{}", user.as_str())
}

/// Seals a user's secret for the database (`secret_hex` holds the sealed form).
pub fn seal(key: &SealingKey, user: &UserId, secret: &Secret) -> String {
    key.seal(&context(user), &secret.0)
}

/// A user's secret from the database: sealed, or plain hex if stored before sealing began (the
/// server seals those at start, `seal_plain_secrets`).
pub fn open(key: &SealingKey, user: &UserId, stored: &str) -> Option<Secret> {
    if sealing::is_sealed(stored) {
        key.open(&context(user), stored).filter(|b| !b.is_empty()).map(Secret)
    } else {
        Secret::from_hex(stored)
    }
}

/// Seals the secrets stored before sealing began; returns how many. Run at every start (a
/// no-op once done), so an upgraded installation keeps no secret in the clear.
pub async fn seal_plain_secrets(db: &Db, key: &SealingKey) -> Result<u64, sqlx::Error> {
    let mut sealed = 0;
    // Each table's read and write, written out so that the queries test checks them.
    let tables = [
        ("SELECT user_id, secret_hex FROM totp_credentials WHERE secret_hex NOT LIKE 'v1:%'", "UPDATE totp_credentials SET secret_hex = $1 WHERE user_id = $2"),
        ("SELECT user_id, secret_hex FROM totp_setups WHERE secret_hex NOT LIKE 'v1:%'", "UPDATE totp_setups SET secret_hex = $1 WHERE user_id = $2"),
    ];
    for (plain, update) in tables {
        let mut tx = db.begin_write().await?;
        let rows: Vec<(UserId, String)> = sqlx::query_as(plain).fetch_all(&mut *tx).await?;
        for (user, stored) in rows {
            let Some(secret) = Secret::from_hex(&stored) else { continue };
            sqlx::query(update).bind(seal(key, &user, &secret)).bind(user.as_str()).execute(&mut *tx).await?;
            sealed += 1;
        }
        tx.commit().await?;
    }
    Ok(sealed)
}

/// The secret being set up, if a setup was begun and not confirmed.
pub async fn pending_setup(db: &Db, key: &SealingKey, user: &UserId) -> Result<Option<Secret>, sqlx::Error> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT secret_hex FROM totp_setups WHERE user_id = $1").bind(user.as_str()).fetch_optional(&db.pool).await?;
    Ok(stored.and_then(|stored| open(key, user, &stored)))
}

/// Begins a setup: a new secret to show (replacing any earlier unconfirmed one).
pub async fn begin_setup(db: &Db, key: &SealingKey, user: &UserId, now: i64) -> Result<Secret, sqlx::Error> {
    let secret = Secret::generate();
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM totp_setups WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO totp_setups (user_id, secret_hex, created_at) VALUES ($1, $2, $3)")
        .bind(user.as_str())
        .bind(seal(key, user, &secret))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Tells the user by e-mail that their sign-in methods changed (the second step turned on or
/// off, recovery codes renewed, a passkey added or removed), in the change's transaction.
pub async fn notify_methods_changed(tx: &mut Tx, user: &UserId, now: i64) -> Result<(), sqlx::Error> {
    let email = crate::users::email(&mut **tx, user).await?;
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        outbox::enqueue(tx, &email, &Notice::SignInMethodsChanged, now).await?;
    }
    Ok(())
}

/// What the database keeps of a recovery code (normalised): a keyed digest under the secrets
/// key, bound to the user. A code has about 50 bits; its plain SHA-256 in a copy of the database
/// could be found by trying them all, the keyed one cannot without the key file.
pub fn recovery_code_digest(key: &SealingKey, user: &UserId, normal: &str) -> String {
    key.keyed_digest(sealing::Purpose::RecoveryCode, user.as_str(), normal)
}

/// Converts the recovery codes stored as plain SHA-256 (before keying began) to keyed digests;
/// the codes keep working. Run at every start (a no-op once done); returns how many.
pub async fn rekey_recovery_codes(db: &Db, key: &SealingKey) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let rows: Vec<(UserId, String)> = sqlx::query_as("SELECT user_id, code_hash FROM recovery_codes WHERE code_hash NOT LIKE $1")
        .bind(sealing::KEYED_DIGEST_PATTERN)
        .fetch_all(&mut *tx)
        .await?;
    for (user, old) in &rows {
        sqlx::query("UPDATE recovery_codes SET code_hash = $1 WHERE user_id = $2 AND code_hash = $3")
            .bind(key.rekey_digest(sealing::Purpose::RecoveryCode, user.as_str(), old))
            .bind(user.as_str())
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

async fn new_recovery_codes(tx: &mut Tx, key: &SealingKey, user: &UserId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user.as_str()).execute(&mut **tx).await?;
    let codes = totp::new_recovery_codes();
    for code in &codes {
        let normal = totp::normalise_recovery_code(code).expect("our own codes are well formed");
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user.as_str())
            .bind(recovery_code_digest(key, user, &normal))
            .execute(&mut **tx)
            .await?;
    }
    Ok(codes)
}

/// Confirms the setup with a code from the app: the step is on, and the ten recovery codes are
/// returned (to be shown once; only their digests are kept). `None` when the code is wrong or
/// no setup was begun.
pub async fn confirm_setup(
    db: &Db,
    key: &SealingKey,
    user: &UserId,
    typed: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT secret_hex FROM totp_setups WHERE user_id = $1").bind(user.as_str()).fetch_optional(&mut *tx).await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let Some(secret) = open(key, user, &stored) else { return Ok(None) };
    let Some(step) = totp::verify(&secret, typed, now, 0) else { return Ok(None) };
    sqlx::query("DELETE FROM totp_setups WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO totp_credentials (user_id, secret_hex, enabled_at, last_step) VALUES ($1, $2, $3, $4)")
        .bind(user.as_str())
        .bind(seal(key, user, &secret))
        .bind(now)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    let codes = new_recovery_codes(&mut tx, key, user).await?;
    audit::record(&mut tx, AuditEvent { actor: Some(user), subject: Some(user), client_addr, ..AuditEvent::of(AuditAction::SecondStepEnabled) }, now).await?;
    notify_methods_changed(&mut tx, user, now).await?;
    tx.commit().await?;
    Ok(Some(codes))
}

/// Turns the step off (the caller checked the password again).
pub async fn turn_off(db: &Db, user: &UserId, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let removed = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?.rows_affected() > 0;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM totp_setups WHERE user_id = $1").bind(user.as_str()).execute(&mut *tx).await?;
    if removed {
        audit::record(&mut tx, AuditEvent { actor: Some(user), subject: Some(user), client_addr, ..AuditEvent::of(AuditAction::SecondStepDisabled) }, now)
            .await?;
        notify_methods_changed(&mut tx, user, now).await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// What a check of the second step did.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Accepted; the session's next step (if any) is set.
    Passed {
        next: Option<PendingStep>,
        recovery_code: bool,
    },
    Wrong,
    /// Too many failures (this session's five, or the account's ten an hour): the session is
    /// ended.
    Ended,
}

/// How the second step was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passed {
    Code,
    RecoveryCode,
    Passkey,
}

/// A check's place, taken before the check: one of the account's ten an hour and one of the
/// session's five.
pub struct StepPlace {
    place: Place,
    /// The session's failures, counting this check.
    session_failures: i64,
}

/// Takes the place of one check by a session waiting for its second step, before anything is
/// checked: the account's count (locked per user, across servers) and the session's count move
/// on together, atomically, so that checks sent all at once are never more than the limits
/// allow. `None` when no place is left: the session is then ended (and that is audited once).
pub async fn take_step_place(state: &AppState, session: &ActiveSession, client_addr: Option<IpAddr>, now: i64) -> Result<Option<StepPlace>, sqlx::Error> {
    let user = &session.viewer.user_id;
    let mut tx = state.db.begin_write().await?;
    let why = match rate::take_place(&mut tx, CheckKind::SecondStep, user.as_str(), ACCOUNT_LIMIT, now).await? {
        Ok(place) => {
            // The session's place: only while it is open, waiting for this step, and under its
            // five. The UPDATE takes the session's row lock (PostgreSQL), so the condition is
            // read and the count moved on as one.
            let failures: Option<i64> = sqlx::query_scalar(
                "UPDATE sessions SET step_failures = step_failures + 1 \
                 WHERE id_hash = $1 AND ended_at IS NULL AND pending_step = $2 AND step_failures < $3 RETURNING step_failures",
            )
            .bind(&session.id_hash)
            .bind(PendingStep::SecondStep.as_str())
            .bind(MAX_WRONG_CODES)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(session_failures) = failures {
                tx.commit().await?;
                return Ok(Some(StepPlace { place, session_failures }));
            }
            "session limit"
        }
        Err(_) => "hourly limit",
    };
    // Nothing was checked; the places taken above are given back.
    tx.rollback().await?;
    let mut tx = state.db.begin_write().await?;
    if crate::session::server::end(&mut tx, &session.id_hash, user, crate::session::server::EndReason::SignedOut, client_addr, now).await? {
        audit::record(
            &mut tx,
            AuditEvent { actor: Some(user), subject: Some(user), client_addr, detail: Some(why), ..AuditEvent::of(AuditAction::SecondStepFailed) },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(None)
}

/// Settles a check made in its place, in the caller's transaction (which holds what the check
/// changed, e.g. a recovery code spent), and commits: passed, the session goes on to its next
/// step (unless it ended meanwhile); failed, it counts, and the session's fifth failure ends it.
#[allow(clippy::too_many_arguments)]
pub async fn settle_step(
    mut tx: Tx,
    state: &AppState,
    session: &ActiveSession,
    place: StepPlace,
    passed: Option<Passed>,
    failure: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<CodeCheck, sqlx::Error> {
    let user = &session.viewer.user_id;
    let event = |action| AuditEvent { actor: Some(user), subject: Some(user), client_addr, ..AuditEvent::of(action) };
    rate::settle(&mut tx, place.place, passed.is_some()).await?;
    // (The session's row is written before the audit chain's, as everywhere else.)
    let Some(how) = passed else {
        let last = place.session_failures >= MAX_WRONG_CODES;
        if last {
            crate::session::server::end(&mut tx, &session.id_hash, user, crate::session::server::EndReason::SignedOut, client_addr, now).await?;
        }
        audit::record(&mut tx, AuditEvent { detail: Some(failure), ..event(AuditAction::SecondStepFailed) }, now).await?;
        tx.commit().await?;
        return Ok(if last { CodeCheck::Ended } else { CodeCheck::Wrong });
    };
    // Passed: the session's count starts again, unless another check ended the session meanwhile.
    let open = sqlx::query("UPDATE sessions SET step_failures = 0 WHERE id_hash = $1 AND ended_at IS NULL AND pending_step = $2")
        .bind(&session.id_hash)
        .bind(PendingStep::SecondStep.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !open {
        // Nothing is opened; the place stays pending, which counts as a failure.
        tx.rollback().await?;
        return Ok(CodeCheck::Ended);
    }
    let patient = session.viewer.kind.is_patient();
    let next = crate::account::steps::after_second_step(&mut tx, &state.settings, user, &session.id_hash, patient, now).await?;
    let (action, detail) = match how {
        Passed::Code => (AuditAction::SecondStepPassed, None),
        Passed::RecoveryCode => (AuditAction::RecoveryCodeUsed, None),
        Passed::Passkey => (AuditAction::SecondStepPassed, Some("passkey")),
    };
    audit::record(&mut tx, AuditEvent { detail, ..event(action) }, now).await?;
    if how == Passed::RecoveryCode {
        notify_methods_changed(&mut tx, user, now).await?;
    }
    tx.commit().await?;
    Ok(CodeCheck::Passed { next, recovery_code: how == Passed::RecoveryCode })
}

/// The code (or a recovery code) typed by a session waiting for its second step.
pub async fn check_sign_in_code(
    state: &AppState,
    session: &ActiveSession,
    typed: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<CodeCheck, sqlx::Error> {
    let user = &session.viewer.user_id;
    let Some(place) = take_step_place(state, session, client_addr, now).await? else { return Ok(CodeCheck::Ended) };
    let mut tx = state.db.begin_write().await?;
    // One check at a time per user: a code raced from two browsers is accepted once.
    let credential: Option<(String, i64)> =
        sqlx::query_as("UPDATE totp_credentials SET last_step = last_step WHERE user_id = $1 RETURNING secret_hex, last_step")
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let mut passed = None;
    if let Some((stored, last)) = credential {
        let secret = open(&state.sealing, user, &stored);
        if let Some(step) = secret.and_then(|s| totp::verify(&s, typed, now, last)) {
            sqlx::query("UPDATE totp_credentials SET last_step = $1 WHERE user_id = $2").bind(step).bind(user.as_str()).execute(&mut *tx).await?;
            passed = Some(Passed::Code);
        }
    }
    if passed.is_none() {
        if let Some(normal) = totp::normalise_recovery_code(typed) {
            let used = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(now)
                .bind(user.as_str())
                .bind(recovery_code_digest(&state.sealing, user, &normal))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if used == 1 {
                passed = Some(Passed::RecoveryCode);
            }
        }
    }
    settle_step(tx, state, session, place, passed, "wrong code", client_addr, now).await
}

/// The user's own passkey, answering the second step (a ceremony begun by
/// `passkeys::server::start_second_step`): checked in the same places as a code.
pub async fn check_sign_in_passkey(
    state: &AppState,
    session: &ActiveSession,
    ceremony: &str,
    credential_json: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<CodeCheck, sqlx::Error> {
    let Some(place) = take_step_place(state, session, client_addr, now).await? else { return Ok(CodeCheck::Ended) };
    let outcome = crate::passkeys::server::finish_second_step(&state.db, &state.settings, &session.viewer.user_id, ceremony, credential_json, now).await?;
    let tx = state.db.begin_write().await?;
    match outcome {
        Ok(()) => settle_step(tx, state, session, place, Some(Passed::Passkey), "", client_addr, now).await,
        Err(why) => settle_step(tx, state, session, place, None, why, client_addr, now).await,
    }
}

/// Whether the user's role (staff) requires a second step.
pub async fn role_requires_it(conn: &mut sqlx::AnyConnection, user: &UserId) -> Result<bool, sqlx::Error> {
    let role: Option<String> = sqlx::query_scalar("SELECT staff_role FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&mut *conn).await?;
    let Some(role) = role.as_deref().and_then(StaffRole::parse) else { return Ok(false) };
    Ok(required_roles(conn).await?.contains(&role))
}

/// Whether a sign-in with the password is held for a second step: when the user turned the
/// authenticator-app step on, or is staff whose role requires a second step and has a passkey
/// (a passkey with user verification is a second step; a role that requires one is never
/// satisfied by the password alone). A patient's passkey without the code is a convenient way
/// to sign in, not a second step after the password.
pub async fn held_after_password(conn: &mut sqlx::AnyConnection, user: &UserId) -> Result<bool, sqlx::Error> {
    if totp_enabled(&mut *conn, user).await? {
        return Ok(true);
    }
    Ok(role_requires_it(&mut *conn, user).await? && crate::passkeys::server::count_of(&mut *conn, user).await? > 0)
}

/// What a session waiting for its second step may pass it with.
pub async fn held_step_options(db: &Db, settings: &crate::settings::PortalSettings, user: &UserId) -> Result<super::HeldStep, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let code = totp_enabled(&mut conn, user).await?;
    let passkeys = crate::passkeys::server::count_of(&mut conn, user).await? > 0;
    drop(conn);
    Ok(super::HeldStep {
        code,
        recovery_codes: code && recovery_codes_left(db, user).await? > 0,
        passkey: passkeys && crate::passkeys::server::relying_party(settings).is_some(),
    })
}

/// The staff roles that must have a second step.
pub async fn required_roles(conn: &mut sqlx::AnyConnection) -> Result<Vec<StaffRole>, sqlx::Error> {
    let roles: Vec<String> = sqlx::query_scalar("SELECT role FROM second_step_policy").fetch_all(conn).await?;
    Ok(roles.iter().filter_map(|r| StaffRole::parse(r)).collect())
}

/// Sets which staff roles must have a second step.
pub async fn set_required_roles(db: &Db, admin: &UserId, roles: &[StaffRole], client_addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM second_step_policy").execute(&mut *tx).await?;
    for role in roles {
        sqlx::query("INSERT INTO second_step_policy (role, required_at, set_by) VALUES ($1, $2, $3)")
            .bind(role.as_str())
            .bind(now)
            .bind(admin.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let detail = if roles.is_empty() { "none".to_string() } else { roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",") };
    audit::record(&mut tx, AuditEvent { actor: Some(admin), client_addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::SecondStepPolicyChanged) }, now)
        .await?;
    tx.commit().await
}
