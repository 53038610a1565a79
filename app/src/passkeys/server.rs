//! Passkeys in the database, with webauthn-rs doing every WebAuthn check (client data,
//! challenge, origin, signature, user verification, the signature counter). A ceremony's state
//! is kept in the database for five minutes and used once, so any app server can finish what
//! another began.

use super::PasskeyInfo;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::{Db, Tx};
use crate::platform::tokens;
use crate::second_step::server::notify_methods_changed;
use crate::settings::PortalSettings;
use crate::types::UserId;
use std::net::IpAddr;
use webauthn_rs::prelude::*;

const CEREMONY_MS: i64 = 5 * 60 * 1000;
pub const NAME_MAX: usize = 60;

/// The relying party: the portal's public host name and origin. `None` when the public URL is an
/// IP address: browsers refuse passkeys there (`localhost` works for development and tests).
pub fn relying_party(settings: &PortalSettings) -> Option<Webauthn> {
    let url = &settings.public_url;
    let host = url.domain()?;
    WebauthnBuilder::new(host, url).ok()?.rp_name(&settings.organisation.name).build().ok()
}

/// A user's WebAuthn handle: the 128 random bits of their id.
fn user_handle(user: &UserId) -> Option<Uuid> {
    Uuid::try_parse(user.as_str()).ok()
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn list(db: &Db, user: &UserId) -> Result<Vec<PasskeyInfo>, sqlx::Error> {
    sqlx::query_as::<_, PasskeyInfo>("SELECT id, name, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at")
        .bind(user.as_str())
        .fetch_all(&db.pool)
        .await
}

pub async fn count_of(conn: &mut sqlx::AnyConnection, user: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1").bind(user.as_str()).fetch_one(conn).await
}

/// Why a passkey could not be added or used.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("Passkeys are not available on this portal's address.")]
    Unavailable,
    #[error("The passkey request expired or was already used. Please try again.")]
    Expired,
    #[error("The passkey did not work.")]
    Refused,
    #[error("Too many passkey sign-ins were begun from your network. Sign in with your user ID and password, or try again later.")]
    TooMany,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Begins adding a passkey (the caller checked the password and the confirmation of the
/// warning): the options for the browser, as JSON, with the ceremony's id.
pub async fn start_registration(db: &Db, settings: &PortalSettings, user: &UserId, name: &str, now: i64) -> Result<(String, serde_json::Value), PasskeyError> {
    let rp = relying_party(settings).ok_or(PasskeyError::Unavailable)?;
    let handle = user_handle(user).ok_or(PasskeyError::Unavailable)?;
    let (login, display): (String, String) =
        sqlx::query_as("SELECT login, display_name FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&db.pool).await?;
    let existing: Vec<CredentialID> = own_passkeys(db, user).await?.iter().map(|p| p.cred_id().clone()).collect();
    let (options, state) = rp.start_passkey_registration(handle, &login, &display, Some(existing)).map_err(|_| PasskeyError::Refused)?;
    let mut options = serde_json::to_value(options).map_err(|_| PasskeyError::Refused)?;
    // Sign-in without a user ID needs a discoverable credential (kept on the device).
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection").and_then(|v| v.as_object_mut()) {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    let id = tokens::new_id();
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO webauthn_ceremonies (id, user_id, kind, name, options, state, expires_at) VALUES ($1, $2, 'register', $3, $4, $5, $6)")
        .bind(&id)
        .bind(user.as_str())
        .bind(name)
        .bind(options.to_string())
        .bind(serde_json::to_string(&state).map_err(|_| PasskeyError::Refused)?)
        .bind(now + CEREMONY_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, options))
}

/// The options of a registration this user began and has not finished (for the page that
/// asks the browser to create the passkey).
pub async fn registration_options(db: &Db, user: &UserId, ceremony: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
    let options: Option<Option<String>> =
        sqlx::query_scalar("SELECT options FROM webauthn_ceremonies WHERE id = $1 AND user_id = $2 AND kind = 'register' AND expires_at >= $3")
            .bind(ceremony)
            .bind(user.as_str())
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
    Ok(options.flatten())
}

/// Takes a ceremony once: found (of this kind, and of this user when one is given), it is
/// deleted whatever happens next. Someone else's ceremony is neither used nor spent.
async fn take_ceremony(tx: &mut Tx, id: &str, kind: &str, user: Option<&UserId>, now: i64) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct CeremonyRow {
        user_id: Option<String>,
        name: Option<String>,
        state: String,
        expires_at: i64,
    }
    let row: Option<CeremonyRow> = sqlx::query_as("SELECT user_id, name, state, expires_at FROM webauthn_ceremonies WHERE id = $1 AND kind = $2")
        .bind(id)
        .bind(kind)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    if let Some(user) = user {
        if row.user_id.as_deref() != Some(user.as_str()) {
            return Ok(None);
        }
    }
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1").bind(id).execute(&mut **tx).await?;
    if row.expires_at < now {
        return Ok(None);
    }
    Ok(Some((row.state, row.name)))
}

/// Finishes adding a passkey with what the browser's authenticator answered.
pub async fn finish_registration(
    db: &Db,
    settings: &PortalSettings,
    user: &UserId,
    ceremony: &str,
    credential_json: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<(), PasskeyError> {
    let rp = relying_party(settings).ok_or(PasskeyError::Unavailable)?;
    let mut tx = db.begin_write().await?;
    let (state, name) = take_ceremony(&mut tx, ceremony, "register", Some(user), now).await?.ok_or(PasskeyError::Expired)?;
    tx.commit().await?;
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(|_| PasskeyError::Expired)?;
    let credential: RegisterPublicKeyCredential = serde_json::from_str(credential_json).map_err(|_| PasskeyError::Refused)?;
    let passkey = rp.finish_passkey_registration(&credential, &state).map_err(|_| PasskeyError::Refused)?;
    let mut tx = db.begin_write().await?;
    let id = tokens::new_id();
    sqlx::query("INSERT INTO passkeys (id, user_id, name, credential_id, passkey, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(user.as_str())
        .bind(name.unwrap_or_else(|| "Passkey".into()))
        .bind(base64url(passkey.cred_id().as_ref()))
        .bind(serde_json::to_string(&passkey).map_err(|_| PasskeyError::Refused)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            record_type: Some("passkey"),
            record_id: Some(&id),
            client_addr,
            ..AuditEvent::of(AuditAction::PasskeyAdded)
        },
        now,
    )
    .await?;
    notify_methods_changed(&mut tx, user, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Begins a sign-in with a passkey: options for the browser (no user named: the authenticator
/// offers the passkeys it holds for this site), with the ceremony's id.
pub async fn start_sign_in(db: &Db, settings: &PortalSettings, client_addr: Option<IpAddr>, now: i64) -> Result<(String, serde_json::Value), PasskeyError> {
    let rp = relying_party(settings).ok_or(PasskeyError::Unavailable)?;
    let (options, state) = rp.start_discoverable_authentication().map_err(|_| PasskeyError::Refused)?;
    let options = serde_json::to_value(options).map_err(|_| PasskeyError::Refused)?;
    let id = tokens::new_id();
    let mut tx = db.begin_write().await?;
    // An IPv6 /64 counts as one address, as in every per-address limit.
    let address = crate::platform::rate::address_subject(client_addr);
    if !crate::platform::rate::take(&mut tx, crate::platform::rate::RateKind::PasskeySignIn, &address, now).await? {
        tx.commit().await?;
        return Err(PasskeyError::TooMany);
    }
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO webauthn_ceremonies (id, user_id, kind, state, expires_at) VALUES ($1, NULL, 'sign-in', $2, $3)")
        .bind(&id)
        .bind(serde_json::to_string(&state).map_err(|_| PasskeyError::Refused)?)
        .bind(now + CEREMONY_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, options))
}

/// A stored passkey found by its credential id.
#[derive(sqlx::FromRow)]
struct StoredPasskeyRow {
    id: String,
    user_id: UserId,
    /// webauthn-rs's `Passkey`, as JSON.
    passkey: String,
}

/// Finishes a passkey sign-in: the user the passkey belongs to, if the assertion checks out
/// against that user's stored passkey (signature, user verification, a counter that moved on).
pub async fn finish_sign_in(
    db: &Db,
    settings: &PortalSettings,
    ceremony: &str,
    credential_json: &str,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<UserId, PasskeyError> {
    let rp = relying_party(settings).ok_or(PasskeyError::Unavailable)?;
    let mut tx = db.begin_write().await?;
    let (state, _) = take_ceremony(&mut tx, ceremony, "sign-in", None, now).await?.ok_or(PasskeyError::Expired)?;
    tx.commit().await?;
    let state: DiscoverableAuthentication = serde_json::from_str(&state).map_err(|_| PasskeyError::Expired)?;
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(credential_json) else {
        return Err(refused(db, None, "malformed answer", client_addr, now).await?);
    };
    let Ok((handle, cred_id)) = rp.identify_discoverable_authentication(&credential) else {
        return Err(refused(db, None, "no user handle", client_addr, now).await?);
    };
    let row: Option<StoredPasskeyRow> =
        sqlx::query_as("SELECT id, user_id, passkey FROM passkeys WHERE credential_id = $1").bind(base64url(cred_id)).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Err(refused(db, None, "unknown passkey", client_addr, now).await?) };
    let user = row.user_id;
    // The passkey must be the one of the user the authenticator names.
    if user_handle(&user) != Some(handle) {
        return Err(refused(db, Some(&user), "passkey of another user", client_addr, now).await?);
    }
    let mut passkey: Passkey = serde_json::from_str(&row.passkey).map_err(|_| PasskeyError::Refused)?;
    let result = match rp.finish_discoverable_authentication(&credential, state, &[DiscoverableKey::from(&passkey)]) {
        Ok(r) => r,
        Err(_) => return Err(refused(db, Some(&user), "assertion refused", client_addr, now).await?),
    };
    passkey.update_credential(&result);
    sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(&passkey).map_err(|_| PasskeyError::Refused)?)
        .bind(now)
        .bind(&row.id)
        .execute(&db.pool)
        .await?;
    Ok(user)
}

/// This user's passkeys as webauthn-rs reads them.
async fn own_passkeys(db: &Db, user: &UserId) -> Result<Vec<Passkey>, sqlx::Error> {
    let stored: Vec<String> = sqlx::query_scalar("SELECT passkey FROM passkeys WHERE user_id = $1").bind(user.as_str()).fetch_all(&db.pool).await?;
    Ok(stored.iter().filter_map(|j| serde_json::from_str::<Passkey>(j).ok()).collect())
}

/// Begins the second step with a passkey, for a session held after the password: options that
/// allow only this user's passkeys, user verification required, with the ceremony's id. One
/// account may begin 30 an hour (each stores a ceremony); one begun does not cancel another, so
/// someone else holding the password cannot spoil the person's own ceremony.
pub async fn start_second_step(db: &Db, settings: &PortalSettings, user: &UserId, now: i64) -> Result<(String, serde_json::Value), PasskeyError> {
    let rp = relying_party(settings).ok_or(PasskeyError::Unavailable)?;
    let passkeys = own_passkeys(db, user).await?;
    if passkeys.is_empty() {
        return Err(PasskeyError::Refused);
    }
    let (options, state) = rp.start_passkey_authentication(&passkeys).map_err(|_| PasskeyError::Refused)?;
    let options = serde_json::to_value(options).map_err(|_| PasskeyError::Refused)?;
    let id = tokens::new_id();
    let mut tx = db.begin_write().await?;
    if !crate::platform::rate::take(&mut tx, crate::platform::rate::RateKind::PasskeyStep, user.as_str(), now).await? {
        tx.commit().await?;
        return Err(PasskeyError::TooMany);
    }
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO webauthn_ceremonies (id, user_id, kind, state, expires_at) VALUES ($1, $2, 'second-step', $3, $4)")
        .bind(&id)
        .bind(user.as_str())
        .bind(serde_json::to_string(&state).map_err(|_| PasskeyError::Refused)?)
        .bind(now + CEREMONY_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, options))
}

/// Finishes the second step with a passkey: `Ok(())` when the answer is a valid assertion, with
/// user verification, by one of `user`'s own passkeys, for a ceremony `user` began; otherwise
/// why not (for the audit trail). The caller took the check's place first and settles it.
pub async fn finish_second_step(
    db: &Db,
    settings: &PortalSettings,
    user: &UserId,
    ceremony: &str,
    credential_json: &str,
    now: i64,
) -> Result<Result<(), &'static str>, sqlx::Error> {
    let Some(rp) = relying_party(settings) else { return Ok(Err("passkeys unavailable")) };
    let mut tx = db.begin_write().await?;
    let taken = take_ceremony(&mut tx, ceremony, "second-step", Some(user), now).await?;
    tx.commit().await?;
    let Some(state) = taken.and_then(|(state, _)| serde_json::from_str::<PasskeyAuthentication>(&state).ok()) else {
        return Ok(Err("passkey request expired"));
    };
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(credential_json) else { return Ok(Err("malformed passkey answer")) };
    // Only the user's own passkey: another account's neither passes this step nor signs its
    // owner in.
    let row: Option<(String, String)> = sqlx::query_as("SELECT id, passkey FROM passkeys WHERE credential_id = $1 AND user_id = $2")
        .bind(base64url(credential.get_credential_id()))
        .bind(user.as_str())
        .fetch_optional(&db.pool)
        .await?;
    let Some((id, stored)) = row else { return Ok(Err("not the user's passkey")) };
    if let Some(handle) = credential.get_user_unique_id() {
        if Uuid::from_slice(handle).ok() != user_handle(user) {
            return Ok(Err("passkey of another user"));
        }
    }
    let Ok(mut passkey) = serde_json::from_str::<Passkey>(&stored) else { return Ok(Err("passkey unreadable")) };
    let result = match rp.finish_passkey_authentication(&credential, &state) {
        Ok(result) if result.user_verified() => result,
        _ => return Ok(Err("passkey answer refused")),
    };
    passkey.update_credential(&result);
    let Ok(updated) = serde_json::to_string(&passkey) else { return Ok(Err("passkey unreadable")) };
    sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3").bind(updated).bind(now).bind(&id).execute(&db.pool).await?;
    Ok(Ok(()))
}

/// Records a refused passkey sign-in; the answer to give.
async fn refused(db: &Db, user: Option<&UserId>, detail: &str, client_addr: Option<IpAddr>, now: i64) -> Result<PasskeyError, sqlx::Error> {
    audit::record_alone(db, AuditEvent { subject: user, client_addr, detail: Some(detail), ..AuditEvent::of(AuditAction::PasskeySignInFailed) }, now).await?;
    Ok(PasskeyError::Refused)
}

/// Removes one of the user's own passkeys.
pub async fn remove(db: &Db, user: &UserId, id: &str, client_addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let removed = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2").bind(id).bind(user.as_str()).execute(&mut *tx).await?.rows_affected() == 1;
    if removed {
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(user),
                subject: Some(user),
                record_type: Some("passkey"),
                record_id: Some(id),
                client_addr,
                ..AuditEvent::of(AuditAction::PasskeyRemoved)
            },
            now,
        )
        .await?;
        notify_methods_changed(&mut tx, user, now).await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// Staff remove every passkey of a patient's account (the patient asked, or access ended), in
/// the caller's transaction; returns how many.
pub async fn remove_all_in(tx: &mut Tx, staff: &UserId, user: &UserId, client_addr: Option<IpAddr>, now: i64) -> Result<u64, sqlx::Error> {
    let removed = sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user.as_str()).execute(&mut **tx).await?.rows_affected();
    if removed > 0 {
        let detail = format!("{removed} passkeys, by staff");
        audit::record(
            tx,
            AuditEvent { actor: Some(staff), subject: Some(user), client_addr, detail: Some(&detail), ..AuditEvent::of(AuditAction::PasskeyRemoved) },
            now,
        )
        .await?;
        notify_methods_changed(tx, user, now).await?;
    }
    Ok(removed)
}
