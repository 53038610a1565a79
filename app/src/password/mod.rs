//! Passwords: the rules every new password meets (SPEC R-ENR-4) and the strength meter.
pub mod policy;
pub mod meter;
pub mod new_password;
pub use meter::PasswordMeter;
