//! The rule that slows password guessing (SPEC R-SES-4) without letting an attacker lock a
//! real patient out.
//!
//! Failures are counted per *account and device*: a browser that has signed in to the account
//! before carries a device cookie, and failures from it are counted apart from failures from
//! anywhere else. An attacker guessing from unknown devices only slows down unknown devices;
//! the patient's own phone is unaffected. After a few free failures, each further attempt
//! waits twice as long as the one before, up to a cap, never forever. Separately, one client
//! address that fails too often across accounts is paused for a while.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed (per account and device) before attempts are spaced out.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; doubles with each further one.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// How far back failures count.
    pub window: Duration,
    /// Failures from one address (across all accounts) within the window before that address
    /// must wait for the window to pass.
    pub per_address_failures: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(15 * 60),
            window: Duration::from_secs(60 * 60),
            per_address_failures: 50,
        }
    }
}

/// Recent history that the decision rests on.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecentFailures {
    /// Failures for this account from this device (or from unknown devices) since its last
    /// success, within the window.
    pub account_device: u32,
    /// When the latest of those was, in ms.
    pub last_account_device_at: Option<i64>,
    /// Failures from this client address within the window.
    pub address: u32,
    /// When the oldest of those within the window was, in ms.
    pub oldest_address_at: Option<i64>,
}

impl ThrottlePolicy {
    /// How long the caller must still wait before an attempt is heard; `None` when it may try now.
    pub fn wait(&self, recent: &RecentFailures, now: i64) -> Option<Duration> {
        let mut wait_ms: i64 = 0;
        if recent.account_device >= self.free_failures {
            let extra = recent.account_device - self.free_failures;
            let delay = self.first_delay.saturating_mul(2u32.saturating_pow(extra.min(20))).min(self.max_delay);
            if let Some(last) = recent.last_account_device_at {
                wait_ms = wait_ms.max(last + delay.as_millis() as i64 - now);
            }
        }
        if recent.address >= self.per_address_failures {
            if let Some(oldest) = recent.oldest_address_at {
                wait_ms = wait_ms.max(oldest + self.window.as_millis() as i64 - now);
            }
        }
        (wait_ms > 0).then(|| Duration::from_millis(wait_ms as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1000;

    fn account(failures: u32, last_at: i64) -> RecentFailures {
        RecentFailures { account_device: failures, last_account_device_at: Some(last_at), ..Default::default() }
    }

    #[test]
    fn the_first_five_failures_cost_nothing() {
        let p = ThrottlePolicy::default();
        for n in 0..5 {
            assert_eq!(p.wait(&account(n, 0), 0), None);
        }
    }

    #[test]
    fn later_failures_wait_twice_as_long_each_time_up_to_the_cap() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.wait(&account(5, 0), 0), Some(Duration::from_secs(30)));
        assert_eq!(p.wait(&account(6, 0), 0), Some(Duration::from_secs(60)));
        assert_eq!(p.wait(&account(7, 0), 10 * SEC), Some(Duration::from_secs(110)));
        assert_eq!(p.wait(&account(40, 0), 0), Some(Duration::from_secs(900)));
        // Never a lock-out: once the wait has passed, one more attempt is heard.
        assert_eq!(p.wait(&account(40, 0), 900 * SEC), None);
    }

    #[test]
    fn a_noisy_address_waits_for_its_window_to_pass() {
        let p = ThrottlePolicy::default();
        let recent = RecentFailures { address: 50, oldest_address_at: Some(0), ..Default::default() };
        assert_eq!(p.wait(&recent, 60 * 60 * SEC - SEC), Some(Duration::from_secs(1)));
        assert_eq!(p.wait(&recent, 60 * 60 * SEC), None);
        let quiet = RecentFailures { address: 49, oldest_address_at: Some(0), ..Default::default() };
        assert_eq!(p.wait(&quiet, 0), None);
    }
}
