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
    pub mail_from: String,
}

#[derive(Clone, Debug)]
pub struct Organisation {
    pub name: String,
    pub phone: String,
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
        SessionPolicy {
            idle_timeout: Duration::from_secs(15 * 60),
            idle_warning: Duration::from_secs(60),
            absolute_timeout: Duration::from_secs(12 * 3600),
        }
    }
}

pub use crate::sign_in::throttle::ThrottlePolicy;

impl PortalSettings {
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies { "__Host-portal_session" } else { "portal_session" }
    }
    pub fn device_cookie_name(&self) -> &'static str {
        if self.secure_cookies { "__Host-portal_device" } else { "portal_device" }
    }
    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}
