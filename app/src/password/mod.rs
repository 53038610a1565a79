//! Passwords: the rules every new password meets (SPEC R-ENR-4), the strength meter, and the
//! password typed again before a change (throttled).
#[cfg(feature = "ssr")]
pub mod again;
pub mod fields;
pub mod meter;
pub mod new_password;
pub mod policy;
pub use fields::NewPasswordFields;
pub use meter::PasswordMeter;

crate::layout::notice_codes! {
    /// The password typed again was refused for too many wrong ones (`again::PasswordAgain`):
    /// `?error=throttled&wait=<minutes>`. Pages show it with [`throttled_message`], which says
    /// how many minutes to wait.
    pub enum PasswordThrottled {
        Throttled = Error "throttled" => "Your password was typed wrongly too many times. For your security, please wait and try again.",
    }
}

/// What a page says when the password typed again was refused for too many wrong ones; `wait`
/// is the minutes from the query (`again::PasswordAgain::refusal_href`).
pub fn throttled_message(wait: Option<String>) -> String {
    let minutes = wait.and_then(|w| w.parse::<u64>().ok()).unwrap_or(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Your password was typed wrongly too many times. For your security, please wait {minutes} {unit} and try again.")
}
