//! A form version as HTML: the fields to fill (plain form controls, named `q{n}` after the
//! item's place in the form, so nothing the patient typed or any `linkId` goes into a name or a
//! URL), and the answers read back. The server decides which conditional items are shown; with
//! JavaScript, the `AnswerChecks` island (`checks.rs`) decides again at every edit, by the same
//! rules, finding each item by its `data-q`.

use super::answers::{other_key, show, ItemError, RawAnswers};
use super::form::*;
use super::FillView;
use leptos::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// The fields of a form to fill, with the values typed so far and the messages of a check.
#[component]
pub fn FormFields(view: FillView) -> impl IntoView {
    let all = view.form.all_items();
    let index_of: HashMap<&str, usize> = all.iter().enumerate().map(|(i, item)| (item.link_id.as_str(), i)).collect();
    let ctx = Ctx { index_of: index_of.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), raw: view.raw, errors: view.errors, enabled: view.enabled };
    let items = view.form.items.clone();
    items.iter().map(|item| render_item(item, &ctx)).collect_view()
}

struct Ctx {
    index_of: HashMap<String, usize>,
    raw: RawAnswers,
    errors: Vec<ItemError>,
    enabled: BTreeSet<String>,
}

impl Ctx {
    fn values(&self, key: &str) -> Vec<String> {
        self.raw.get(key).cloned().unwrap_or_default()
    }
    fn error(&self, link_id: &str) -> Option<String> {
        self.errors.iter().find(|e| e.link_id == link_id).map(|e| e.message.clone())
    }
}

fn render_item(item: &Item, ctx: &Ctx) -> AnyView {
    let i = ctx.index_of.get(&item.link_id).copied().unwrap_or(0);
    let name = format!("q{i}");
    let hidden = !ctx.enabled.contains(&item.link_id);
    let label = item.label();
    let required = item.required;
    let error = ctx.error(&item.link_id);
    let error_id = format!("{name}-error");
    let described = error.as_ref().map(|_| error_id.clone());
    let invalid = error.as_ref().map(|_| "true");
    // Live: the browser's checks write into it as the patient leaves a field.
    let error_view = view! { <p class="field-error" id=error_id.clone() aria-live="polite">{error.clone()}</p> };
    let req_mark = required.then(|| view! { <span class="required">" (required)"</span> });
    let min = item.min_value.as_ref().map(show);
    let max = item.max_value.as_ref().map(show);
    let body = match item.item_type {
        ItemType::Group => {
            let children = item.items.iter().map(|c| render_item(c, ctx)).collect_view();
            view! { <fieldset class="q-group"><legend>{label}</legend>{children}</fieldset> }.into_any()
        }
        ItemType::Display => view! { <p class="q-display">{label}</p> }.into_any(),
        ItemType::Boolean | ItemType::Choice | ItemType::OpenChoice => {
            let chosen = ctx.values(&item.link_id);
            let input_type = if item.repeats { "checkbox" } else { "radio" };
            let options: Vec<(String, String)> = if item.item_type == ItemType::Boolean {
                vec![("true".into(), "Yes".into()), ("false".into(), "No".into())]
            } else {
                item.options.iter().map(|o| (o.value.key().to_string(), o.value.label().to_string())).collect()
            };
            let boxes = options
                .into_iter()
                .enumerate()
                .map(|(n, (value, text))| {
                    let id = format!("{name}-{n}");
                    let checked = chosen.contains(&value);
                    view! {
                        <div class="check">
                            <input type=input_type id=id.clone() name=name.clone() value=value checked=checked/>
                            <label for=id>{text}</label>
                        </div>
                    }
                })
                .collect_view();
            let other = (item.item_type == ItemType::OpenChoice).then(|| {
                let other_name = format!("{name}.other");
                let other_value = ctx.values(&other_key(&item.link_id)).join(" ");
                view! {
                    <div class="field">
                        <label for=other_name.clone()>"Something else (optional)"</label>
                        <input type="text" id=other_name.clone() name=other_name value=other_value
                            maxlength=item.max_length.map(|n| n.to_string()) aria-describedby=described.clone()/>
                    </div>
                }
            });
            view! {
                <fieldset class="q-choice" id=name.clone() aria-describedby=described.clone() tabindex="-1">
                    <legend>{label}{req_mark}</legend>
                    {error_view}
                    {boxes}
                    {other}
                </fieldset>
            }
            .into_any()
        }
        ItemType::Text => {
            let value = ctx.values(&item.link_id).join("\n");
            view! {
                <div class="field">
                    <label for=name.clone()>{label}{req_mark}</label>
                    {error_view}
                    <textarea id=name.clone() name=name.clone() rows="4" required=required aria-invalid=invalid aria-describedby=described
                        minlength=item.min_length.map(|n| n.to_string()) maxlength=item.max_length.map(|n| n.to_string())>{value}</textarea>
                </div>
            }
            .into_any()
        }
        t => {
            let value = ctx.values(&item.link_id).into_iter().next().unwrap_or_default();
            let (input_type, step, mode) = match t {
                ItemType::Integer => ("number", Some("1"), Some("numeric")),
                ItemType::Decimal => ("number", Some("any"), Some("decimal")),
                ItemType::Date => ("date", None, None),
                _ => ("text", None, None),
            };
            view! {
                <div class="field">
                    <label for=name.clone()>{label}{req_mark}</label>
                    {error_view}
                    <input type=input_type id=name.clone() name=name.clone() value=value required=required step=step inputmode=mode
                        min=min max=max aria-invalid=invalid aria-describedby=described
                        minlength=item.min_length.map(|n| n.to_string()) maxlength=item.max_length.map(|n| n.to_string())/>
                </div>
            }
            .into_any()
        }
    };
    view! { <div class="q-item" data-q=name hidden=hidden>{body}</div> }.into_any()
}

/// The error summary at the top of a form: a link to each item with a problem.
#[component]
pub fn ErrorSummary(view: FillView) -> impl IntoView {
    if view.errors.is_empty() {
        return None;
    }
    let all = view.form.all_items();
    let count = view.errors.len();
    let links = view
        .errors
        .iter()
        .map(|e| {
            let i = all.iter().position(|it| it.link_id == e.link_id).unwrap_or(0);
            let label = all.get(i).map(|it| it.label()).unwrap_or_default();
            let href = format!("#q{i}");
            view! { <li><a href=href>{format!("{label}: {}", e.message)}</a></li> }
        })
        .collect_view();
    let heading = if count == 1 { "There is a problem with 1 answer".to_string() } else { format!("There are problems with {count} answers") };
    Some(view! {
        <div class="notice notice--alert error-summary" role="alert" id="errors" tabindex="-1">
            <h2>{heading}</h2>
            <ul>{links}</ul>
        </div>
    })
}

/// The answers read back (submitted, or staff's view): each shown question with its answer,
/// and the display text (a lesson's reading) where it stood.
#[component]
pub fn AnswerList(view: FillView) -> impl IntoView {
    let ctx = (view.raw, view.enabled);
    fn items(list: &[Item], ctx: &(RawAnswers, BTreeSet<String>)) -> AnyView {
        list.iter()
            .filter(|i| ctx.1.contains(&i.link_id))
            .map(|item| match item.item_type {
                ItemType::Group => view! { <section class="q-group"><h3>{item.label()}</h3>{items(&item.items, ctx)}</section> }.into_any(),
                // The reading of a lesson (and a form's explanations) stays readable afterwards.
                ItemType::Display => view! { <p class="q-display">{item.label()}</p> }.into_any(),
                _ => {
                    let mut shown: Vec<String> = ctx
                        .0
                        .get(&item.link_id)
                        .map(|v| {
                            v.iter()
                                .map(|raw| match item.item_type {
                                    ItemType::Boolean if raw == "true" => "Yes".to_string(),
                                    ItemType::Boolean => "No".to_string(),
                                    _ => item.option(raw).map(|o| o.value.label().to_string()).unwrap_or_else(|| raw.clone()),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    shown.extend(ctx.0.get(&other_key(&item.link_id)).cloned().unwrap_or_default());
                    let text = if shown.is_empty() { "Not answered".to_string() } else { shown.join("; ") };
                    view! { <dl class="answer"><dt>{item.label()}</dt><dd>{text}</dd></dl> }.into_any()
                }
            })
            .collect_view()
            .into_any()
    }
    view! { <div class="answers">{items(&view.form.items, &ctx)}</div> }
}
