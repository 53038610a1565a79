//! Answers to a form version: what the patient typed (`RawAnswers`, text as posted, kept in a
//! draft), checked against the version's items into typed `Answers` with a message per item;
//! `enableWhen` decides which items are shown, and answers to hidden items are dropped.

use super::form::*;
use crate::dates::CalendarDate;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Typed answers by `linkId` (several for a repeating choice; an open-choice's own text is a
/// `Value::String`).
pub type Answers = BTreeMap<String, Vec<Value>>;

/// The form as posted: values by `linkId`, as text. An open-choice's own text is under
/// `other_key(linkId)`.
pub type RawAnswers = BTreeMap<String, Vec<String>>;

pub fn other_key(link_id: &str) -> String {
    format!("{link_id}\u{1f}other")
}

/// The form's fields as posted (`q{n}` for the n-th item, `q{n}.other` for an open choice's own
/// text) as raw answers by `linkId`. The browser's checks read the form the same way.
pub fn raw_from_fields(form: &Form, fields: &[(String, String)]) -> RawAnswers {
    let items = form.all_items();
    let mut raw = RawAnswers::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix('q') else { continue };
        let (index, other) = match rest.strip_suffix(".other") {
            Some(i) => (i, true),
            None => (rest, false),
        };
        let Some(item) = index.parse::<usize>().ok().and_then(|i| items.get(i)) else { continue };
        if !item.item_type.is_question() {
            continue;
        }
        let key = if other { other_key(&item.link_id) } else { item.link_id.clone() };
        raw.entry(key).or_default().push(value.clone());
    }
    raw
}

/// A problem with one item's answer, for the patient.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemError {
    pub link_id: String,
    pub message: String,
}

/// The outcome of checking raw answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// Answers of the enabled items that parsed.
    pub answers: Answers,
    pub errors: Vec<ItemError>,
    /// `linkId`s of the items shown (their `enableWhen` holds, and their group's).
    pub enabled: BTreeSet<String>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
    pub fn error(&self, link_id: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.link_id == link_id).map(|e| e.message.as_str())
    }
}

/// Whether a draft is being saved (types and ranges checked, nothing required) or answers are
/// submitted (required items too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Draft,
    Submit,
}

/// Orders two values of the same kind (integers and decimals compare with each other).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Integer(x), Value::Decimal(y)) => (*x as f64).partial_cmp(y),
        (Value::Decimal(x), Value::Integer(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Decimal(x), Value::Decimal(y)) => x.partial_cmp(y),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) | (Value::Option(x), Value::Option(y)) => Some(x.cmp(y)),
        // An open-choice condition written as a string matches an option with that string.
        (Value::Option(x), Value::String(y)) | (Value::String(x), Value::Option(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether one `enableWhen` condition holds for the question's current answers (answers of a
/// hidden question count as none).
pub fn condition_holds(c: &EnableWhen, answers: &Answers) -> bool {
    let given = answers.get(&c.question).map(Vec::as_slice).unwrap_or_default();
    match c.operator {
        Operator::Exists => matches!(c.answer, Value::Boolean(b) if b != given.is_empty()),
        // "!=" holds when no answer equals the value (also when unanswered), as FHIR defines it.
        Operator::NotEquals => !given.iter().any(|g| compare(g, &c.answer) == Some(Ordering::Equal)),
        op => given.iter().any(|g| match compare(g, &c.answer) {
            Some(ord) => match op {
                Operator::Equals => ord == Ordering::Equal,
                Operator::Greater => ord == Ordering::Greater,
                Operator::Less => ord == Ordering::Less,
                Operator::GreaterOrEqual => ord != Ordering::Less,
                Operator::LessOrEqual => ord != Ordering::Greater,
                Operator::Exists | Operator::NotEquals => unreachable!(),
            },
            None => false,
        }),
    }
}

pub fn item_enabled(item: &Item, answers: &Answers) -> bool {
    if item.enable_when.is_empty() {
        return true;
    }
    match item.enable_behavior.unwrap_or(EnableBehavior::All) {
        EnableBehavior::All => item.enable_when.iter().all(|c| condition_holds(c, answers)),
        EnableBehavior::Any => item.enable_when.iter().any(|c| condition_holds(c, answers)),
    }
}

/// Checks raw answers against a form version. Items are read in document order, so a condition
/// (which names an earlier question, `fhir::import` makes sure) sees the answers before it, with
/// those of hidden items already dropped.
pub fn check(form: &Form, raw: &RawAnswers, mode: Mode) -> Checked {
    let mut out = Checked { answers: Answers::new(), errors: Vec::new(), enabled: BTreeSet::new() };
    walk(&form.items, true, raw, mode, &mut out);
    out
}

fn walk(items: &[Item], parent_enabled: bool, raw: &RawAnswers, mode: Mode, out: &mut Checked) {
    for item in items {
        let enabled = parent_enabled && item_enabled(item, &out.answers);
        if enabled {
            out.enabled.insert(item.link_id.clone());
        }
        if item.item_type == ItemType::Group {
            walk(&item.items, enabled, raw, mode, out);
            continue;
        }
        if !enabled || !item.item_type.is_question() {
            continue;
        }
        match parse_item(item, raw) {
            Ok(values) if values.is_empty() => {
                if item.required && mode == Mode::Submit {
                    out.errors.push(ItemError { link_id: item.link_id.clone(), message: required_message(item) });
                }
            }
            Ok(values) => {
                out.answers.insert(item.link_id.clone(), values);
            }
            Err(message) => out.errors.push(ItemError { link_id: item.link_id.clone(), message }),
        }
    }
}

fn required_message(item: &Item) -> String {
    match item.item_type {
        ItemType::Choice | ItemType::OpenChoice | ItemType::Boolean => "Choose an answer: this question is required.".into(),
        _ => "Answer this question: it is required.".into(),
    }
}

fn texts<'a>(raw: &'a RawAnswers, key: &str) -> Vec<&'a str> {
    raw.get(key).map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

/// One item's values, or what is wrong with them.
fn parse_item(item: &Item, raw: &RawAnswers) -> Result<Vec<Value>, String> {
    let given = texts(raw, &item.link_id);
    match item.item_type {
        ItemType::Choice | ItemType::OpenChoice => {
            let mut values = Vec::new();
            for g in &given {
                if item.option(g).is_none() {
                    return Err("Choose one of the answers listed.".into());
                }
                if !values.contains(&Value::Option(g.to_string())) {
                    values.push(Value::Option(g.to_string()));
                }
            }
            if item.item_type == ItemType::OpenChoice {
                for other in texts(raw, &other_key(&item.link_id)) {
                    let other = one_line(other);
                    check_length(item, &other)?;
                    values.push(Value::String(other));
                }
            }
            if !item.repeats && values.len() > 1 {
                return Err("Choose only one answer.".into());
            }
            Ok(values)
        }
        _ => {
            let Some(text) = given.first() else { return Ok(Vec::new()) };
            if given.len() > 1 {
                return Err("Give only one answer.".into());
            }
            let value = parse_value(item, text)?;
            Ok(vec![value])
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_length(item: &Item, text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if let Some(min) = item.min_length {
        if n < min as usize {
            return Err(format!("Write at least {min} characters."));
        }
    }
    let max = item.max_length.unwrap_or(if item.item_type == ItemType::Text { 10_000 } else { 1_000 });
    if n > max as usize {
        return Err(format!("Write at most {max} characters (this is {n})."));
    }
    Ok(())
}

fn parse_value(item: &Item, text: &str) -> Result<Value, String> {
    let value = match item.item_type {
        ItemType::String => {
            let s = one_line(text);
            check_length(item, &s)?;
            Value::String(s)
        }
        ItemType::Text => {
            let s = text.replace("\r\n", "\n");
            check_length(item, s.trim())?;
            Value::String(s.trim().to_string())
        }
        ItemType::Integer => Value::Integer(text.parse::<i64>().map_err(|_| "Enter a whole number, like 3.".to_string())?),
        ItemType::Decimal => {
            let d = text.parse::<f64>().ok().filter(|d| d.is_finite() && !text.contains(['e', 'E', 'i', 'n', 'N', 'I']));
            Value::Decimal(d.ok_or("Enter a number, like 72.5.")?)
        }
        ItemType::Boolean => match text {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => return Err("Choose yes or no.".into()),
        },
        ItemType::Date => Value::Date(CalendarDate::parse(text).ok_or("Enter a date, like 2026-03-31.")?),
        ItemType::Group | ItemType::Display | ItemType::Choice | ItemType::OpenChoice => unreachable!("not a single-value question"),
    };
    if let Some(min) = &item.min_value {
        if compare(&value, min) == Some(Ordering::Less) {
            return Err(format!("Enter {} or more.", show(min)));
        }
    }
    if let Some(max) = &item.max_value {
        if compare(&value, max) == Some(Ordering::Greater) {
            return Err(format!("Enter {} or less.", show(max)));
        }
    }
    Ok(value)
}

/// A value as people read it (and as an HTML attribute takes it).
pub fn show(v: &Value) -> String {
    match v {
        Value::Boolean(true) => "Yes".into(),
        Value::Boolean(false) => "No".into(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Date(d) => d.to_string(),
        Value::String(s) | Value::Option(s) => s.clone(),
    }
}

/// Typed answers back as raw text (to show a stored response in the form).
pub fn to_raw(answers: &Answers, form: &Form) -> RawAnswers {
    let mut raw = RawAnswers::new();
    for (link_id, values) in answers {
        let open = form.item(link_id).is_some_and(|i| i.item_type == ItemType::OpenChoice);
        for v in values {
            let (key, text) = match v {
                Value::String(s) if open => (other_key(link_id), s.clone()),
                Value::Boolean(b) => (link_id.clone(), b.to_string()),
                other => (link_id.clone(), show(other)),
            };
            raw.entry(key).or_default().push(text);
        }
    }
    raw
}

/// A lesson's check: (right answers, questions) over the items with options marked right. A
/// question is right when exactly the right options were chosen.
pub fn score(form: &Form, answers: &Answers) -> Option<(usize, usize)> {
    let checked: Vec<&Item> = form.all_items().into_iter().filter(|i| i.options.iter().any(|o| o.correct)).collect();
    if checked.is_empty() {
        return None;
    }
    let right = checked
        .iter()
        .filter(|i| {
            let chosen: BTreeSet<&str> = answers
                .get(&i.link_id)
                .map(|v| v.iter().filter_map(|x| if let Value::Option(k) = x { Some(k.as_str()) } else { None }).collect())
                .unwrap_or_default();
            let correct: BTreeSet<&str> = i.options.iter().filter(|o| o.correct).map(|o| o.value.key()).collect();
            chosen == correct
        })
        .count();
    Some((right, checked.len()))
}
