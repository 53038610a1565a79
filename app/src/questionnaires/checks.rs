//! Checks as the patient answers: an island beside the form's fields that runs the server's own
//! check (`answers::check`, draft mode: types, ranges, lengths, choices; `enableWhen`) on what
//! the form holds at every edit, so that the browser and the server can never disagree on a
//! rule. It shows and hides the conditional items, and gives an item's message once the
//! patient leaves its field (not while they type: "Write at least 20 characters" after the
//! first letter helps no one), taking it away as soon as the answer is right.
//!
//! Without JavaScript it is an empty `<span>`: the server checks on *Save draft* and *Submit*
//! and renders the same messages and items.

use super::answers::{check, raw_from_fields, Checked, Mode};
use super::form::{Form, Item};
use leptos::prelude::*;

/// What the checks need of a form: its items' rules, not the words the page already shows
/// (the island's props travel in the page).
pub fn rules_of(form: &Form) -> Form {
    fn strip(items: &[Item]) -> Vec<Item> {
        items.iter().map(|i| Item { prefix: None, text: None, code: Vec::new(), items: strip(&i.items), ..i.clone() }).collect()
    }
    Form { title: String::new(), description: None, url: None, code: Vec::new(), items: strip(&form.items) }
}

#[island]
pub fn AnswerChecks(form: Form) -> impl IntoView {
    crate::layout::scripts::island_on_page();
    let marker = NodeRef::<leptos::html::Span>::new();
    let form = StoredValue::new(form);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(marker) = marker.get() else { return false };
        browser::follow(marker.into(), form);
        true
    });
    view! { <span node_ref=marker hidden=true></span> }
}

#[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
/// Which fields an edit touched: `q3` and `q3.other` are item 3.
fn item_index(field_name: &str) -> Option<usize> {
    let rest = field_name.strip_prefix('q')?;
    rest.strip_suffix(".other").unwrap_or(rest).parse().ok()
}

/// The message to show for item `index` after an edit of it: on leaving the field
/// (`committed`) the check's message; while typing, only a message already shown, and only
/// while the answer is still wrong.
#[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
fn message_after_edit(checked: &Checked, form: &Form, index: usize, committed: bool, shown: bool) -> Option<String> {
    let item = *form.all_items().get(index)?;
    let message = checked.error(&item.link_id)?;
    (committed || shown).then(|| message.to_string())
}

#[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
fn checked_now(form: &Form, fields: &[(String, String)]) -> Checked {
    check(form, &raw_from_fields(form, fields), Mode::Draft)
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, Event, HtmlElement, HtmlFormElement, HtmlInputElement, HtmlTextAreaElement};

    /// Listens to the window (fields the navigation brings in later are the same form's) for as
    /// long as this island's marker is on the page: after a navigation to another page the
    /// old island's listeners find it gone and do nothing.
    pub(super) fn follow(marker: Element, form: StoredValue<Form>) {
        let Some(form_el) = marker.closest("form").ok().flatten().and_then(|f| f.dyn_into::<HtmlFormElement>().ok()) else {
            return;
        };
        form.with_value(|f| apply(f, &form_el, None));
        let on_edit = move |ev: Event| {
            if !marker.is_connected() {
                return;
            }
            let Some(field) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            if !form_el.contains(Some(&field)) {
                return;
            }
            let edited = field.get_attribute("name").and_then(|n| item_index(&n)).map(|i| (i, ev.type_() == "change"));
            form.with_value(|f| apply(f, &form_el, edited));
        };
        // Never removed: an island is not cleaned up when navigation.js takes it off the page
        // (the marker check above stops its listeners instead).
        let _ = window_event_listener_untyped("input", on_edit.clone());
        let _ = window_event_listener_untyped("change", on_edit);
    }

    /// The form's fields as the browser would post them. A number the browser cannot read
    /// (`1e`, `--2`) reaches the form as an empty value; it goes to the check as text that is
    /// no number, so the patient hears what the server would say.
    fn fields(form_el: &HtmlFormElement) -> Vec<(String, String)> {
        let controls = form_el.elements();
        let mut out = Vec::new();
        for i in 0..controls.length() {
            let Some(control) = controls.item(i) else { continue };
            if let Some(input) = control.dyn_ref::<HtmlInputElement>() {
                let kind = input.type_();
                if (kind == "radio" || kind == "checkbox") && !input.checked() {
                    continue;
                }
                let value = if input.value().is_empty() && input.validity().bad_input() { "?".to_string() } else { input.value() };
                out.push((input.name(), value));
            } else if let Some(area) = control.dyn_ref::<HtmlTextAreaElement>() {
                out.push((area.name(), area.value()));
            }
        }
        out
    }

    fn apply(form: &Form, form_el: &HtmlFormElement, edited: Option<(usize, bool)>) {
        let checked = checked_now(form, &fields(form_el));
        let items = form.all_items();
        if let Ok(wrappers) = form_el.query_selector_all(".q-item[data-q]") {
            for n in 0..wrappers.length() {
                let Some(wrapper) = wrappers.item(n).and_then(|w| w.dyn_into::<HtmlElement>().ok()) else { continue };
                let Some(item) = wrapper.get_attribute("data-q").and_then(|q| item_index(&q)).and_then(|i| items.get(i).copied()) else {
                    continue;
                };
                let shown = checked.enabled.contains(&item.link_id);
                if wrapper.hidden() == shown {
                    wrapper.set_hidden(!shown);
                }
            }
        }
        let Some((index, committed)) = edited else { return };
        let document = document();
        let Some(error) = document.get_element_by_id(&format!("q{index}-error")) else { return };
        let shown = error.text_content().is_some_and(|t| !t.is_empty());
        let message = message_after_edit(&checked, form, index, committed, shown);
        if error.text_content().unwrap_or_default() != message.clone().unwrap_or_default() {
            error.set_text_content(message.as_deref());
        }
        let Some(field) = document.get_element_by_id(&format!("q{index}")) else { return };
        // As the server renders it: the message tied to the field (the fieldset of a choice),
        // and a text field marked invalid.
        let marks_invalid = matches!(field.tag_name().as_str(), "INPUT" | "TEXTAREA");
        if message.is_some() {
            let _ = field.set_attribute("aria-describedby", &format!("q{index}-error"));
            if marks_invalid {
                let _ = field.set_attribute("aria-invalid", "true");
            }
        } else {
            let _ = field.remove_attribute("aria-describedby");
            let _ = field.remove_attribute("aria-invalid");
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;
    pub(super) fn follow(_marker: web_sys::Element, _form: StoredValue<Form>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaires::form::*;

    fn form() -> Form {
        let mut age = Item::new("age", "Age", ItemType::Integer);
        age.min_value = Some(Value::Integer(18));
        let mut why = Item::new("why", "Why", ItemType::String);
        why.min_length = Some(5);
        why.enable_when = vec![EnableWhen { question: "age".into(), operator: Operator::Greater, answer: Value::Integer(60) }];
        Form { title: "t".into(), description: None, url: None, code: Vec::new(), items: vec![age, why] }
    }

    fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_field_names_are_the_items_places() {
        assert_eq!(item_index("q3"), Some(3));
        assert_eq!(item_index("q3.other"), Some(3));
        assert_eq!(item_index("assignment"), None);
        assert_eq!(item_index("action"), None);
    }

    #[test]
    fn conditions_and_messages_are_the_server_s() {
        let f = form();
        let young = checked_now(&f, &fields(&[("q0", "12"), ("q1", "abc")]));
        assert!(!young.enabled.contains("why"), "shown only over 60");
        assert_eq!(message_after_edit(&young, &f, 0, true, false).as_deref(), Some("Enter 18 or more."));
        assert_eq!(message_after_edit(&young, &f, 1, true, false), None, "a hidden item's answer is not checked");
        let old = checked_now(&f, &fields(&[("q0", "70"), ("q1", "abc")]));
        assert!(old.enabled.contains("why"));
        assert_eq!(message_after_edit(&old, &f, 1, true, false).as_deref(), Some("Write at least 5 characters."));
        // While typing: no new message, but one already shown stays while still wrong.
        assert_eq!(message_after_edit(&old, &f, 1, false, false), None);
        assert_eq!(message_after_edit(&old, &f, 1, false, true).as_deref(), Some("Write at least 5 characters."));
        let unreadable = checked_now(&f, &fields(&[("q0", "?")]));
        assert_eq!(message_after_edit(&unreadable, &f, 0, true, false).as_deref(), Some("Enter a whole number, like 3."));
    }

    #[test]
    fn the_rules_alone_check_the_same() {
        let f = form();
        let rules = rules_of(&f);
        assert_eq!(rules.items[1].text, None);
        for given in [&[("q0", "12"), ("q1", "abc")][..], &[("q0", "70"), ("q1", "abc")], &[("q0", "x")], &[]] {
            assert_eq!(checked_now(&rules, &fields(given)), checked_now(&f, &fields(given)), "{given:?}");
        }
    }
}
