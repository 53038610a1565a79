//! The password strength meter: an island that follows what is typed into a password field and
//! says in words how strong it looks and which rule it breaks (SPEC R-ENR-4). It is only a hint:
//! the server checks every rule, common-password list included, when the form is sent.
//!
//! Without JavaScript the island is just its hint line, rendered on the server.
//!
//! Use it beside the field it follows:
//! ```ignore
//! <input type="password" id="new-password" name="password" autocomplete="new-password"
//!     aria-describedby="new-password-strength-hint"/>
//! <PasswordMeter input_id="new-password".to_string() names=vec![…] user_id_input=None
//!     date_of_birth=Some("1952-03-14".to_string())/>
//! ```
//! The hint paragraph's id is `{input_id}-strength-hint`, for the field's `aria-describedby`.

use super::policy::{check_without_list, strength, PersonalInfo, Strength};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Shown under the field at all times, with or without JavaScript.
pub const HINT: &str = "Longer is stronger: 15 or more characters is best.";

/// Follows the password typed into `<input id=input_id>` (and, when `user_id_input` is given, the
/// user ID typed into that field) and shows a bar with, in an `aria-live="polite"` region, the
/// strength in words and the first rule the password breaks. `names` and `date_of_birth`
/// ("YYYY-MM-DD") are what the password must not contain.
#[island]
pub fn PasswordMeter(input_id: String, names: Vec<String>, user_id_input: Option<String>, date_of_birth: Option<String>) -> impl IntoView {
    crate::layout::scripts::island_on_page();
    // Empty until the script runs, so the server render (and a page without JavaScript) shows
    // only the hint, and hydration finds the same.
    let password = RwSignal::new(String::new());
    let user_id = RwSignal::new(String::new());
    let hint_id = format!("{input_id}-strength-hint");

    // In the browser only (effects never run on the server): what the fields already hold when
    // the script starts (a browser may restore or autofill them), then every edit, however it is
    // made (typing, pasting, a password manager). Listening on the window also catches fields
    // rendered after the island.
    Effect::new(move |_| {
        if let Some(value) = input_value(&input_id) {
            password.set(value);
        }
        if let Some(value) = user_id_input.as_deref().and_then(input_value) {
            user_id.set(value);
        }
        let on_edit = {
            let (input_id, user_id_input) = (input_id.clone(), user_id_input.clone());
            move |ev: web_sys::Event| {
                let Some(field) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                    return;
                };
                let id = field.id();
                if id == input_id {
                    password.set(field.value());
                } else if user_id_input.as_deref() == Some(id.as_str()) {
                    user_id.set(field.value());
                }
            }
        };
        let on_input = window_event_listener_untyped("input", on_edit.clone());
        let on_change = window_event_listener_untyped("change", on_edit);
        on_cleanup(move || {
            on_input.remove();
            on_change.remove();
        });
    });

    // Recomputed on every edit, but the page changes (and a screen reader speaks) only when the
    // strength or the first problem does.
    let assessment = Memo::new(move |_| {
        password.with(|password| {
            if password.is_empty() {
                return None;
            }
            user_id.with(|user_id| {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let info = PersonalInfo { names: &names, user_id, date_of_birth: date_of_birth.as_deref() };
                Some((strength(password, &info), check_without_list(password, &info).first().copied()))
            })
        })
    });

    view! {
        <div class="password-meter">
            <div class="password-meter__status" aria-live="polite">
                {move || {
                    assessment.get().map(|(level, problem)| {
                        view! {
                            <div class=format!("password-meter__bar password-meter__bar--{}", level_class(level))
                                aria-hidden="true">
                                <span class="password-meter__fill"></span>
                            </div>
                            <p class="password-meter__text">
                                <strong class="password-meter__label">"Strength: " {level.label()} "."</strong>
                                {problem.map(|p| format!(" {}", p.message()))}
                            </p>
                        }
                    })
                }}
            </div>
            <p class="password-meter__hint" id=hint_id>{HINT}</p>
        </div>
    }
}

/// The current value of the `<input>` with this id, if there is one and it is not empty.
fn input_value(id: &str) -> Option<String> {
    let field = document().get_element_by_id(id)?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    Some(field.value()).filter(|v| !v.is_empty())
}

fn level_class(level: Strength) -> &'static str {
    match level {
        Strength::TooWeak => "too-weak",
        Strength::Weak => "weak",
        Strength::Fair => "fair",
        Strength::Strong => "strong",
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_server_renders_only_the_hint() {
        let html = Owner::new().with(|| {
            view! {
                <PasswordMeter input_id="new-password".to_string() names=vec!["Alice Johnson".to_string()]
                    user_id_input=Some("user-id".to_string()) date_of_birth=Some("1952-03-14".to_string())/>
            }
            .to_html()
        });
        assert!(html.contains(HINT), "{html}");
        assert!(html.contains(r#"id="new-password-strength-hint""#), "{html}");
        assert!(html.contains(r#"aria-live="polite""#), "{html}");
        assert!(!html.contains("Strength:"), "{html}");
        assert!(!html.contains("password-meter__bar"), "{html}");
    }
}
