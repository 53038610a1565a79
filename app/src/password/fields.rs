//! The fields of every form that sets a password (activation, reset, change): the password with
//! its rules and strength meter, and the second copy. Posted as `password` and
//! `password_again`, which `new_password::check` compares.

use super::PasswordMeter;
use leptos::prelude::*;

/// The rules as people read them beside the field (R-ENR-4; the server checks the same ones).
pub const RULES: &str = "At least 8 characters; 15 or more is best. Any characters, spaces too. Do not use your name, birth date or user ID.";

#[component]
pub fn NewPasswordFields(
    /// The first field's label.
    #[prop(default = "New password")]
    label: &'static str,
    /// The second field's label.
    #[prop(default = "Type the new password again")]
    again_label: &'static str,
    /// The rules' words, when a form says more than `RULES`.
    #[prop(default = RULES)]
    rules: &'static str,
    /// The id of the form's user ID field, when the person chooses one on the same form (the
    /// meter then warns about a password that contains it).
    #[prop(optional)]
    user_id_input: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for="password">{label}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128"
                aria-describedby="password-rules password-strength-hint"/>
            <p class="hint" id="password-rules">{rules}</p>
            <PasswordMeter input_id="password".to_string() names=vec![] user_id_input=user_id_input.map(str::to_string) date_of_birth=None/>
        </div>
        <div class="field">
            <label for="password_again">{again_label}</label>
            <input id="password_again" name="password_again" type="password" autocomplete="new-password" required minlength="8" maxlength="128"/>
        </div>
    }
}
