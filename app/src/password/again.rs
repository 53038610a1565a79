//! The password typed again by someone already signed in, before a change that needs it: a new
//! password, a new e-mail address, a passkey, the authenticator-app step turned on or off.
//!
//! Whoever holds a stolen session must not be able to use these forms to guess the password, so
//! the checks are throttled like sign-in, per account: a few free failures, then each further
//! check waits twice as long as the one before (the sign-in throttle's policy and numbers), and
//! a right password starts the count again. Each check takes its place before argon2 runs
//! (`platform::rate::take_place`), so guesses sent all at once are not all checked.

use super::PasswordThrottled;
use crate::layout::{notice_href, notice_href_with, NoticeCode};
use crate::platform::rate::{self, CheckKind, CheckLimit};
use crate::state::AppState;
use crate::types::UserId;
use std::time::Duration;

#[derive(Debug, PartialEq, Eq)]
pub enum PasswordAgain {
    Matches,
    Wrong,
    /// Too many wrong passwords lately: not checked; the person may try again after the wait.
    Throttled(Duration),
}

impl PasswordAgain {
    /// Where the form's post goes when the password was refused: `path` (a `#fragment` stays last)
    /// with the page's `wrong` notice, or with [`PasswordThrottled`] and the minutes to wait
    /// (`?error=throttled&wait=<minutes>`); `None` when it matched.
    pub fn refusal_href<N: NoticeCode>(&self, path: &str, wrong: N) -> Option<String> {
        match self {
            PasswordAgain::Matches => None,
            PasswordAgain::Wrong => Some(notice_href(path, wrong)),
            PasswordAgain::Throttled(wait) => Some(notice_href_with(path, PasswordThrottled::Throttled, &[("wait", &minutes(*wait).to_string())])),
        }
    }
}

/// The minutes a refused person is told to wait: at least one.
fn minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

/// Checks that `password` is the user's.
pub async fn check(state: &AppState, user: &UserId, password: String, now: i64) -> Result<PasswordAgain, sqlx::Error> {
    if password.len() > crate::sign_in::MAX_PASSWORD_LEN {
        // Refused before it costs any hashing, as at sign-in; no password is that long.
        return Ok(PasswordAgain::Wrong);
    }
    let mut tx = state.db.begin_write().await?;
    let place = match rate::take_place(&mut tx, CheckKind::PasswordAgain, user.as_str(), CheckLimit::Throttle(state.settings.throttle), now).await? {
        Ok(place) => place,
        Err(wait) => return Ok(PasswordAgain::Throttled(wait)),
    };
    tx.commit().await?;
    let hash = crate::users::password_hash(&state.db.pool, user).await?;
    let matches = state.passwords.verify(password, hash).await;
    let mut tx = state.db.begin_write().await?;
    rate::settle(&mut tx, place, matches).await?;
    tx.commit().await?;
    Ok(if matches { PasswordAgain::Matches } else { PasswordAgain::Wrong })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_fragment_last_and_the_wait_in_the_query() {
        let throttled = PasswordAgain::Throttled(Duration::from_secs(61));
        assert_eq!(
            throttled.refusal_href("/account/second-step#setup", PasswordThrottled::Throttled).as_deref(),
            Some("/account/second-step?error=throttled&wait=2#setup")
        );
        assert_eq!(throttled.refusal_href("/account/email", PasswordThrottled::Throttled).as_deref(), Some("/account/email?error=throttled&wait=2"));
        assert_eq!(PasswordAgain::Wrong.refusal_href("/p#f", PasswordThrottled::Throttled).as_deref(), Some("/p?error=throttled#f"));
        assert_eq!(PasswordAgain::Matches.refusal_href("/p", PasswordThrottled::Throttled), None);
    }
}
