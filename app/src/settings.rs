//! The portal's typed settings as features use them. They are read from the environment and
//! validated by the server binary (`server/src/config.rs`), which documents each one.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct PortalSettings {
    /// The address patients type, e.g. `https://portal.example-clinic.org`. Links in e-mails and
    /// the CSRF origin check use it.
    pub public_url: url::Url,
    /// Cookies carry `Secure` (and the `__Host-` prefix); HSTS is sent.
    pub secure_cookies: bool,
    pub production: bool,
    pub organisation: Organisation,
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    pub accounts: AccountPolicy,
    pub messaging: MessagingPolicy,
    pub mail_from: String,
    /// Where the medical record comes from (`crate::record`).
    pub record: crate::record::settings::RecordSettings,
}

/// The clinic's working calendar and reply promise (SPEC R-MSG-3, R-MSG-6).
#[derive(Clone, Debug)]
pub struct MessagingPolicy {
    /// The clinic's time zone: business days, the close of business and the daily notice time
    /// are in it (default America/New_York).
    pub time_zone: jiff::tz::TimeZone,
    /// Business days within which a patient's message is answered (default 3).
    pub reply_business_days: u32,
    /// Messages that arrive at or after this local time count from the next business day
    /// (default 17:00).
    pub business_day_closes: jiff::civil::Time,
    /// When patients who chose a daily notice get it (default 07:00 local).
    pub daily_notice_at: jiff::civil::Time,
    /// Messages a patient may send in a day (clinic time, from midnight; default 20).
    pub messages_per_day: u32,
    /// Attachment bytes a patient may send in a calendar month (clinic time; default 50 MB).
    pub attachment_bytes_per_month: u64,
}

impl Default for MessagingPolicy {
    fn default() -> Self {
        MessagingPolicy {
            time_zone: jiff::tz::TimeZone::get("America/New_York").expect("bundled time zone database"),
            reply_business_days: 3,
            business_day_closes: jiff::civil::time(17, 0, 0, 0),
            daily_notice_at: jiff::civil::time(7, 0, 0, 0),
            messages_per_day: 20,
            attachment_bytes_per_month: 50 * 1024 * 1024,
        }
    }
}

/// The rules of an account's life (SPEC R-ENR-3, R-ENR-5, R-ENR-6).
#[derive(Clone, Copy, Debug)]
pub struct AccountPolicy {
    /// Past this age a password must be changed at sign-in (default 180 days).
    pub password_max_age: Duration,
    /// Whether an aged password must be changed at once (no "remind me later").
    pub password_change_mandatory: bool,
    /// How long an activation code is good for (default 30 days).
    pub activation_code_lifetime: Duration,
    /// Wrong birth dates entered with a code before the code stops working.
    pub activation_code_tries: u32,
    /// How long an e-mailed link (password reset, user ID, new address) works (default 30 minutes).
    pub link_lifetime: Duration,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            password_max_age: Duration::from_secs(180 * 86_400),
            password_change_mandatory: false,
            activation_code_lifetime: Duration::from_secs(30 * 86_400),
            activation_code_tries: 5,
            link_lifetime: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Organisation {
    pub name: String,
    pub phone: String,
    /// The mailing address (where paper statements come from and payments go), one line each.
    pub address: Vec<String>,
    /// The organisation's Notice of Privacy Practices (`PORTAL_PRIVACY_NOTICE_FILE`, read at
    /// start); none: the sample notice (`crate::info::privacy`).
    pub privacy_notice: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Inactivity after which a session ends (SPEC R-SES-2: default 15 minutes).
    pub idle_timeout: Duration,
    /// How long before the idle timeout the page warns (default one minute).
    pub idle_warning: Duration,
    /// Limit on a session's whole life, however active (default 12 hours).
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle_timeout: Duration::from_secs(15 * 60), idle_warning: Duration::from_secs(60), absolute_timeout: Duration::from_secs(12 * 3600) }
    }
}

pub use crate::platform::throttle::ThrottlePolicy;

impl PortalSettings {
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-portal_session"
        } else {
            "portal_session"
        }
    }
    pub fn device_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-portal_device"
        } else {
            "portal_device"
        }
    }
    /// The name of a short-lived cookie of a multi-step form (activation, a code shown once).
    pub fn cookie_name(&self, base: &str) -> String {
        if self.secure_cookies {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }
    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}
