//! The steps a patient must take right after signing in, before anything else: accept the terms
//! in force (SPEC R-ENR-2), then change an aged password (R-ENR-5). The step is kept on the
//! session; the session middleware sends every page to it and server functions refuse other
//! work until it is done.

use crate::platform::db::Tx;
use crate::session::server::{set_pending, ActiveSession};
use crate::session::PendingStep;
use crate::settings::{AccountPolicy, PortalSettings};
use crate::terms;
use crate::types::UserId;

/// The rule of R-ENR-5: past the maximum age the password must be changed; the first time the
/// patient may put it off ("remind me later"), unless the organisation makes it mandatory.
pub fn password_rule(policy: &AccountPolicy, changed_at: Option<i64>, reminded_at: Option<i64>, now: i64) -> Option<PendingStep> {
    let age = now - changed_at.unwrap_or(0);
    if age < policy.password_max_age.as_millis() as i64 {
        None
    } else if policy.password_change_mandatory || reminded_at.is_some() {
        Some(PendingStep::PasswordRequired)
    } else {
        Some(PendingStep::PasswordReminder)
    }
}

async fn password_step(tx: &mut Tx, policy: &AccountPolicy, user: &UserId, now: i64) -> Result<Option<PendingStep>, sqlx::Error> {
    let (kind, changed_at, reminded_at): (String, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT kind, password_changed_at, password_reminded_at FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&mut **tx).await?;
    if kind != "patient" {
        return Ok(None);
    }
    Ok(password_rule(policy, changed_at, reminded_at, now))
}

/// The first step for a session that has just been opened with the password; stored on the
/// session. The second sign-in step comes before everything else, for everyone who has one to
/// pass (`second_step::server::held_after_password`): until it is passed nothing opens.
pub async fn after_sign_in(
    tx: &mut Tx,
    settings: &PortalSettings,
    user: &UserId,
    session_id_hash: &str,
    patient: bool,
    now: i64,
) -> Result<Option<PendingStep>, sqlx::Error> {
    if crate::second_step::server::held_after_password(tx, user).await? {
        set_pending(tx, session_id_hash, Some(PendingStep::SecondStep)).await?;
        return Ok(Some(PendingStep::SecondStep));
    }
    after_second_step(tx, settings, user, session_id_hash, patient, now).await
}

/// The step after the second sign-in step (or when there is none); stored on the session.
pub async fn after_second_step(
    tx: &mut Tx,
    settings: &PortalSettings,
    user: &UserId,
    session_id_hash: &str,
    patient: bool,
    now: i64,
) -> Result<Option<PendingStep>, sqlx::Error> {
    let step = if !patient {
        staff_setup_step(tx, user).await?
    } else if terms::server::pending_for(tx, user, now).await? {
        Some(PendingStep::Terms)
    } else {
        password_step(tx, &settings.accounts, user, now).await?
    };
    set_pending(tx, session_id_hash, step).await?;
    Ok(step)
}

/// A member of staff whose role requires a second step and who has none sets one up first: an
/// authenticator app or a passkey (with user verification), either of which is then asked for
/// after the password at every sign-in.
async fn staff_setup_step(tx: &mut Tx, user: &UserId) -> Result<Option<PendingStep>, sqlx::Error> {
    if !crate::second_step::server::role_requires_it(tx, user).await? {
        return Ok(None);
    }
    let has_one = crate::second_step::server::totp_enabled(tx, user).await? || crate::passkeys::server::count_of(tx, user).await? > 0;
    Ok((!has_one).then_some(PendingStep::SecondStepSetup))
}

/// The step after the terms were accepted; stored on the session.
pub async fn after_terms(tx: &mut Tx, settings: &PortalSettings, session: &ActiveSession, now: i64) -> Result<Option<PendingStep>, sqlx::Error> {
    let step = match session.pending {
        Some(PendingStep::Terms) => password_step(tx, &settings.accounts, &session.viewer.user_id, now).await?,
        other => other,
    };
    set_pending(tx, &session.id_hash, step).await?;
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn an_aged_password_is_reminded_once_then_required() {
        let policy = AccountPolicy::default();
        let now = 1_000 * DAY;
        assert_eq!(password_rule(&policy, Some(now - 179 * DAY), None, now), None);
        assert_eq!(password_rule(&policy, Some(now - 180 * DAY), None, now), Some(PendingStep::PasswordReminder));
        assert_eq!(password_rule(&policy, Some(now - 200 * DAY), Some(now - DAY), now), Some(PendingStep::PasswordRequired));
        let strict = AccountPolicy { password_change_mandatory: true, ..policy };
        assert_eq!(password_rule(&strict, Some(now - 181 * DAY), None, now), Some(PendingStep::PasswordRequired));
    }
}
