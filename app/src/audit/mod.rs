//! The audit trail (SPEC R-AUD-1): an append-only, hash-chained record of sign-ins, sign-outs,
//! time-outs and every view or change of personal records.

#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
pub use server::*;

use serde::{Deserialize, Serialize};

/// What happened. The string forms are stored and never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    SignOut,
    SessionTimeout,
    SessionEnded,
    AccountCreated,
}

impl AuditAction {
    pub const ALL: [AuditAction; 7] = [
        AuditAction::SignInSucceeded,
        AuditAction::SignInFailed,
        AuditAction::SignInThrottled,
        AuditAction::SignOut,
        AuditAction::SessionTimeout,
        AuditAction::SessionEnded,
        AuditAction::AccountCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "sign-in.succeeded",
            AuditAction::SignInFailed => "sign-in.failed",
            AuditAction::SignInThrottled => "sign-in.throttled",
            AuditAction::SignOut => "sign-out",
            AuditAction::SessionTimeout => "session.timeout",
            AuditAction::SessionEnded => "session.ended",
            AuditAction::AccountCreated => "account.created",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// How a patient reads it on their activity page.
    pub fn describe(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "Signed in",
            AuditAction::SignInFailed => "Sign-in failed (wrong password)",
            AuditAction::SignInThrottled => "Sign-in refused (too many attempts)",
            AuditAction::SignOut => "Signed out",
            AuditAction::SessionTimeout => "Signed out after inactivity",
            AuditAction::SessionEnded => "Session ended",
            AuditAction::AccountCreated => "Account created",
        }
    }
}
