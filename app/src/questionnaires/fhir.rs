//! FHIR R4 `Questionnaire` import and export, and `QuestionnaireResponse` export (SPEC R-QST-4).
//!
//! The import takes the documented subset (README, "Questionnaires") and nothing else: every
//! key of the resource and of every item is either understood, or ignored metadata listed in
//! `IGNORED_TOP`, or the import is refused with an `ImportError` naming the item (`linkId`) and
//! the feature. Parsing builds a complete `Form` before anything is stored, so a refused import
//! stores nothing.

use super::form::*;
use crate::dates::CalendarDate;
use serde_json::{Map, Value as Json};

/// The largest Questionnaire accepted, in bytes of JSON.
pub const JSON_MAX: usize = 256 * 1024;
/// At most this many items (of any kind, at any depth).
pub const ITEMS_MAX: usize = 400;
/// Groups nest at most this deep.
pub const DEPTH_MAX: usize = 5;
/// Text of an item, title or option: at most this many characters.
pub const TEXT_MAX: usize = 10_000;

pub const EXT_MIN_LENGTH: &str = "http://hl7.org/fhir/StructureDefinition/minLength";
pub const EXT_MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
pub const EXT_MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// The portal's own extension on an `answerOption` of a lesson's check question: a right answer.
pub const EXT_CORRECT: &str = "https://patient-portal.example.org/fhir/StructureDefinition/lesson-correct-answer";

/// Resource metadata that is accepted and not kept (the portal versions forms itself).
const IGNORED_TOP: &[&str] = &[
    "id",
    "meta",
    "text",
    "identifier",
    "version",
    "name",
    "status",
    "experimental",
    "date",
    "publisher",
    "contact",
    "useContext",
    "jurisdiction",
    "purpose",
    "copyright",
    "subjectType",
    "language",
    "approvalDate",
    "lastReviewDate",
    "effectivePeriod",
];

/// Why an import was refused: the item (`linkId`, or `"(questionnaire)"` for the resource
/// itself) and what about it is not supported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub link_id: String,
    pub feature: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.link_id == TOP {
            write!(f, "The questionnaire: {}.", self.feature)
        } else {
            write!(f, "Item \"{}\": {}.", self.link_id, self.feature)
        }
    }
}

const TOP: &str = "(questionnaire)";

fn refuse<T>(link_id: &str, feature: impl Into<String>) -> Result<T, ImportError> {
    Err(ImportError { link_id: link_id.to_string(), feature: feature.into() })
}

/// Parses a Questionnaire (JSON text) into a form, or says what is not supported.
pub fn import(text: &str) -> Result<Form, ImportError> {
    if text.len() > JSON_MAX {
        return refuse(TOP, format!("the file is larger than {} KiB", JSON_MAX / 1024));
    }
    let json: Json = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => return refuse(TOP, format!("this is not valid JSON (line {}, column {})", e.line(), e.column())),
    };
    import_value(&json)
}

pub fn import_value(json: &Json) -> Result<Form, ImportError> {
    let Some(obj) = json.as_object() else { return refuse(TOP, "a Questionnaire is a JSON object") };
    if obj.get("resourceType").and_then(Json::as_str) != Some("Questionnaire") {
        return refuse(TOP, "resourceType must be \"Questionnaire\"");
    }
    let mut form = Form { title: String::new(), description: None, url: None, code: Vec::new(), items: Vec::new() };
    for (key, value) in obj {
        match key.as_str() {
            "resourceType" => {}
            "title" => form.title = text_of(TOP, key, value)?,
            "description" => form.description = Some(text_of(TOP, key, value)?),
            "url" => form.url = Some(text_of(TOP, key, value)?),
            "code" => form.code = codings(TOP, key, value)?,
            "item" => {}
            k if IGNORED_TOP.contains(&k) => {}
            "extension" | "modifierExtension" => return refuse(TOP, format!("{key} is not supported")),
            other => return refuse(TOP, format!("\"{other}\" is not supported")),
        }
    }
    if form.title.trim().is_empty() {
        return refuse(TOP, "a title is required");
    }
    let Some(items) = obj.get("item") else { return refuse(TOP, "it has no items") };
    let mut seen = Vec::new();
    form.items = items_of(TOP, items, 1, &mut seen)?;
    if form.items.is_empty() {
        return refuse(TOP, "it has no items");
    }
    if seen.len() > ITEMS_MAX {
        return refuse(TOP, format!("more than {ITEMS_MAX} items"));
    }
    check_enable_when(&form)?;
    Ok(form)
}

fn text_of(link_id: &str, key: &str, value: &Json) -> Result<String, ImportError> {
    match value.as_str() {
        Some(s) if s.chars().count() <= TEXT_MAX => Ok(s.to_string()),
        Some(_) => refuse(link_id, format!("{key} is longer than {TEXT_MAX} characters")),
        None => refuse(link_id, format!("{key} must be a string")),
    }
}

fn coding(link_id: &str, key: &str, value: &Json) -> Result<Coding, ImportError> {
    let Some(obj) = value.as_object() else { return refuse(link_id, format!("{key} must be a Coding object")) };
    let mut c = Coding { system: None, code: String::new(), display: None };
    for (k, v) in obj {
        match k.as_str() {
            "system" => c.system = Some(text_of(link_id, "Coding.system", v)?),
            "code" => c.code = text_of(link_id, "Coding.code", v)?,
            "display" => c.display = Some(text_of(link_id, "Coding.display", v)?),
            "version" | "userSelected" | "id" => {}
            other => return refuse(link_id, format!("Coding.{other} is not supported")),
        }
    }
    if c.code.trim().is_empty() {
        return refuse(link_id, format!("{key} needs a code"));
    }
    Ok(c)
}

fn codings(link_id: &str, key: &str, value: &Json) -> Result<Vec<Coding>, ImportError> {
    let Some(list) = value.as_array() else { return refuse(link_id, format!("{key} must be a list")) };
    list.iter().map(|c| coding(link_id, key, c)).collect()
}

fn items_of(parent: &str, value: &Json, depth: usize, seen: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let Some(list) = value.as_array() else { return refuse(parent, "item must be a list") };
    if depth > DEPTH_MAX {
        return refuse(parent, format!("groups nested more than {DEPTH_MAX} deep"));
    }
    let mut items = Vec::with_capacity(list.len());
    for value in list {
        if seen.len() >= ITEMS_MAX {
            return refuse(TOP, format!("more than {ITEMS_MAX} items"));
        }
        items.push(item_of(parent, value, depth, seen)?);
    }
    Ok(items)
}

fn item_of(parent: &str, value: &Json, depth: usize, seen: &mut Vec<String>) -> Result<Item, ImportError> {
    let Some(obj) = value.as_object() else { return refuse(parent, "an item must be a JSON object") };
    let link_id = match obj.get("linkId") {
        Some(Json::String(s)) if !s.trim().is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control) => s.clone(),
        _ => return refuse(parent, "an item has no linkId (or one that is empty, too long or not text)"),
    };
    let id = link_id.as_str();
    if seen.iter().any(|s| s == id) {
        return refuse(id, "the linkId is used twice");
    }
    seen.push(link_id.clone());
    let item_type = match obj.get("type") {
        Some(Json::String(t)) => ItemType::parse(t).map(Ok).unwrap_or_else(|| refuse(id, format!("type \"{t}\" is not supported")))?,
        _ => return refuse(id, "type is missing"),
    };
    let mut item = Item::new(id, "", item_type);
    item.text = None;
    let mut children = None;
    for (key, value) in obj {
        match key.as_str() {
            "linkId" | "type" => {}
            "text" => item.text = Some(text_of(id, key, value)?),
            "prefix" => item.prefix = Some(text_of(id, key, value)?),
            "code" => item.code = codings(id, key, value)?,
            "required" => item.required = boolean(id, key, value)?,
            "repeats" => item.repeats = boolean(id, key, value)?,
            "maxLength" => item.max_length = Some(count(id, key, value)?),
            "answerOption" => item.options = options(id, value)?,
            "enableWhen" => item.enable_when = enable_when(id, value)?,
            "enableBehavior" => {
                item.enable_behavior = match value.as_str() {
                    Some("all") => Some(EnableBehavior::All),
                    Some("any") => Some(EnableBehavior::Any),
                    _ => return refuse(id, "enableBehavior must be \"all\" or \"any\""),
                }
            }
            "item" => children = Some(value),
            "extension" => extensions(&mut item, value)?,
            "id" => {}
            other => return refuse(id, format!("\"{other}\" is not supported")),
        }
    }
    if let Some(children) = children {
        if item_type != ItemType::Group {
            return refuse(id, format!("items nested under a {} item are not supported (only groups hold items)", item_type.as_str()));
        }
        item.items = items_of(id, children, depth + 1, seen)?;
    }
    check_item(&item)?;
    Ok(item)
}

fn boolean(link_id: &str, key: &str, value: &Json) -> Result<bool, ImportError> {
    value.as_bool().map(Ok).unwrap_or_else(|| refuse(link_id, format!("{key} must be true or false")))
}

fn count(link_id: &str, key: &str, value: &Json) -> Result<u32, ImportError> {
    match value.as_u64() {
        Some(n) if (1..=100_000).contains(&n) => Ok(n as u32),
        _ => refuse(link_id, format!("{key} must be a whole number from 1 to 100000")),
    }
}

fn options(link_id: &str, value: &Json) -> Result<Vec<AnswerOption>, ImportError> {
    let Some(list) = value.as_array() else { return refuse(link_id, "answerOption must be a list") };
    let mut out: Vec<AnswerOption> = Vec::with_capacity(list.len());
    for o in list {
        let Some(obj) = o.as_object() else { return refuse(link_id, "an answerOption must be a JSON object") };
        let mut option = None;
        let mut correct = false;
        for (k, v) in obj {
            match k.as_str() {
                "valueCoding" => option = Some(OptionValue::Coding(coding(link_id, "answerOption.valueCoding", v)?)),
                "valueString" => {
                    let s = text_of(link_id, "answerOption.valueString", v)?;
                    if s.trim().is_empty() {
                        return refuse(link_id, "an answerOption's valueString is empty");
                    }
                    option = Some(OptionValue::String(s))
                }
                "extension" => {
                    for e in ext_list(link_id, v)? {
                        match e {
                            (EXT_CORRECT, Json::Bool(b)) => correct = *b,
                            (url, _) => return refuse(link_id, format!("answerOption extension {url} is not supported")),
                        }
                    }
                }
                "id" => {}
                "initialSelected" => return refuse(link_id, "answerOption.initialSelected is not supported"),
                other if other.starts_with("value") => {
                    return refuse(link_id, format!("answerOption.{other} is not supported (only valueCoding and valueString)"))
                }
                other => return refuse(link_id, format!("answerOption.{other} is not supported")),
            }
        }
        let Some(value) = option else { return refuse(link_id, "an answerOption has no valueCoding or valueString") };
        if out.iter().any(|o| o.value.key() == value.key()) {
            return refuse(link_id, format!("the answer option \"{}\" is listed twice", value.key()));
        }
        out.push(AnswerOption { value, correct });
    }
    Ok(out)
}

/// An extension list as (url, value) pairs; only `valueX`-style extensions with one value.
fn ext_list<'a>(link_id: &str, value: &'a Json) -> Result<Vec<(&'a str, &'a Json)>, ImportError> {
    let Some(list) = value.as_array() else { return refuse(link_id, "extension must be a list") };
    let mut out = Vec::new();
    for e in list {
        let obj = e.as_object();
        let url = obj.and_then(|o| o.get("url")).and_then(Json::as_str);
        let values: Vec<(&String, &Json)> = obj.map(|o| o.iter().filter(|(k, _)| k.starts_with("value")).collect()).unwrap_or_default();
        match (url, values.as_slice()) {
            (Some(url), [(_, v)]) if obj.is_some_and(|o| o.keys().all(|k| k == "url" || k.starts_with("value"))) => out.push((url, *v)),
            (Some(url), _) => return refuse(link_id, format!("extension {url} is not supported")),
            (None, _) => return refuse(link_id, "an extension has no url"),
        }
    }
    Ok(out)
}

fn extensions(item: &mut Item, value: &Json) -> Result<(), ImportError> {
    let id = item.link_id.clone();
    let Some(list) = value.as_array() else { return refuse(&id, "extension must be a list") };
    for e in list {
        let obj = e.as_object();
        let url = obj.and_then(|o| o.get("url")).and_then(Json::as_str).unwrap_or("(no url)");
        match url {
            EXT_MIN_LENGTH => {
                let v = obj
                    .and_then(|o| o.get("valueInteger"))
                    .ok_or_else(|| ImportError { link_id: id.clone(), feature: "minLength needs valueInteger".into() })?;
                item.min_length = Some(count(&id, "minLength", v)?);
            }
            EXT_MIN_VALUE | EXT_MAX_VALUE => {
                let name = if url == EXT_MIN_VALUE { "minValue" } else { "maxValue" };
                let bound = bound_value(&id, name, obj.unwrap_or(&Map::new()))?;
                if url == EXT_MIN_VALUE {
                    item.min_value = Some(bound);
                } else {
                    item.max_value = Some(bound);
                }
            }
            other => return refuse(&id, format!("extension {other} is not supported")),
        }
        if obj.is_some_and(|o| o.keys().filter(|k| k.starts_with("value")).count() != 1 || o.keys().any(|k| k != "url" && !k.starts_with("value"))) {
            return refuse(&id, format!("extension {url} must have exactly one value"));
        }
    }
    Ok(())
}

fn bound_value(link_id: &str, name: &str, obj: &Map<String, Json>) -> Result<Value, ImportError> {
    if let Some(v) = obj.get("valueInteger") {
        return v.as_i64().map(Value::Integer).map(Ok).unwrap_or_else(|| refuse(link_id, format!("{name}.valueInteger must be a whole number")));
    }
    if let Some(v) = obj.get("valueDecimal") {
        return v
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Value::Decimal)
            .map(Ok)
            .unwrap_or_else(|| refuse(link_id, format!("{name}.valueDecimal must be a number")));
    }
    if let Some(v) = obj.get("valueDate") {
        return v
            .as_str()
            .and_then(strict_date)
            .map(Value::Date)
            .map(Ok)
            .unwrap_or_else(|| refuse(link_id, format!("{name}.valueDate must be a date YYYY-MM-DD")));
    }
    refuse(link_id, format!("{name} needs valueInteger, valueDecimal or valueDate"))
}

/// A FHIR `date` in full (partial dates like `2024-05` are not supported).
pub fn strict_date(s: &str) -> Option<CalendarDate> {
    (s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-').then(|| CalendarDate::parse(s)).flatten()
}

fn enable_when(link_id: &str, value: &Json) -> Result<Vec<EnableWhen>, ImportError> {
    let Some(list) = value.as_array() else { return refuse(link_id, "enableWhen must be a list") };
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        let Some(obj) = c.as_object() else { return refuse(link_id, "an enableWhen must be a JSON object") };
        let question = match obj.get("question").and_then(Json::as_str) {
            Some(q) => q.to_string(),
            None => return refuse(link_id, "an enableWhen has no question"),
        };
        let operator = match obj.get("operator").and_then(Json::as_str) {
            Some(o) => Operator::parse(o).map(Ok).unwrap_or_else(|| refuse(link_id, format!("enableWhen operator \"{o}\" is not supported")))?,
            None => return refuse(link_id, "an enableWhen has no operator"),
        };
        let mut answer = None;
        for (k, v) in obj {
            let parsed = match k.as_str() {
                "question" | "operator" | "id" => continue,
                "answerBoolean" => v.as_bool().map(Value::Boolean),
                "answerInteger" => v.as_i64().map(Value::Integer),
                "answerDecimal" => v.as_f64().filter(|f| f.is_finite()).map(Value::Decimal),
                "answerDate" => v.as_str().and_then(strict_date).map(Value::Date),
                "answerString" => v.as_str().map(|s| Value::String(s.to_string())),
                "answerCoding" => Some(Value::Option(coding(link_id, "enableWhen.answerCoding", v)?.code)),
                other => return refuse(link_id, format!("enableWhen.{other} is not supported")),
            };
            if answer.is_some() {
                return refuse(link_id, "an enableWhen has more than one answer");
            }
            answer = Some(parsed.map(Ok).unwrap_or_else(|| refuse(link_id, format!("enableWhen.{k} has a value of the wrong kind")))?);
        }
        let Some(answer) = answer else { return refuse(link_id, "an enableWhen has no answer") };
        out.push(EnableWhen { question, operator, answer });
    }
    Ok(out)
}

/// The rules of one item, after its keys are read.
fn check_item(item: &Item) -> Result<(), ImportError> {
    let id = item.link_id.as_str();
    let t = item.item_type;
    let tn = t.as_str();
    if t == ItemType::Group && item.items.is_empty() {
        return refuse(id, "a group needs at least one item");
    }
    if t == ItemType::Display && item.text.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return refuse(id, "display items need text");
    }
    if t.is_question() && item.text.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return refuse(id, "questions need text");
    }
    if !t.is_question() && item.required {
        return refuse(id, format!("required on a {tn} item is not supported"));
    }
    if item.repeats && !t.is_choice() {
        return refuse(id, format!("repeats on a {tn} item is not supported (only on choice and open-choice)"));
    }
    if (item.min_length.is_some() || item.max_length.is_some()) && !t.is_textual() {
        return refuse(id, format!("minLength/maxLength on a {tn} item is not supported"));
    }
    if let (Some(min), Some(max)) = (item.min_length, item.max_length) {
        if min > max {
            return refuse(id, "minLength is greater than maxLength");
        }
    }
    for bound in [&item.min_value, &item.max_value].into_iter().flatten() {
        let fits = matches!(
            (t, bound),
            (ItemType::Integer, Value::Integer(_)) | (ItemType::Decimal, Value::Decimal(_) | Value::Integer(_)) | (ItemType::Date, Value::Date(_))
        );
        if !fits {
            return refuse(id, format!("minValue/maxValue of that kind on a {tn} item is not supported"));
        }
    }
    if let (Some(min), Some(max)) = (&item.min_value, &item.max_value) {
        if super::answers::compare(min, max) == Some(std::cmp::Ordering::Greater) {
            return refuse(id, "minValue is greater than maxValue");
        }
    }
    if t.is_choice() && item.options.is_empty() {
        return refuse(id, format!("a {tn} item needs answerOption (answerValueSet is not supported)"));
    }
    if !t.is_choice() && !item.options.is_empty() {
        return refuse(id, format!("answerOption on a {tn} item is not supported"));
    }
    if item.enable_when.len() > 1 && item.enable_behavior.is_none() {
        return refuse(id, "enableBehavior is required with more than one enableWhen");
    }
    if item.enable_when.is_empty() && item.enable_behavior.is_some() {
        return refuse(id, "enableBehavior without enableWhen");
    }
    Ok(())
}

/// `enableWhen` conditions name an earlier question (so no condition can depend on itself), and
/// compare with a value of that question's type.
fn check_enable_when(form: &Form) -> Result<(), ImportError> {
    let all = form.all_items();
    for (position, item) in all.iter().enumerate() {
        for c in &item.enable_when {
            let id = item.link_id.as_str();
            let Some(target) = all[..position].iter().find(|i| i.link_id == c.question) else {
                return refuse(id, format!("enableWhen names \"{}\", which is not an earlier item", c.question));
            };
            if !target.item_type.is_question() {
                return refuse(id, format!("enableWhen names \"{}\", a {} item, not a question", c.question, target.item_type.as_str()));
            }
            if is_ancestor(item, &c.question) {
                return refuse(id, "enableWhen names an item inside this group");
            }
            let tt = target.item_type;
            let fits = match (&c.operator, &c.answer) {
                (Operator::Exists, Value::Boolean(_)) => true,
                (Operator::Exists, _) => false,
                (op, _) if op.is_comparison() && !tt.is_ordered() => {
                    return refuse(id, format!("enableWhen operator {} on a {} question is not supported", op.as_str(), tt.as_str()))
                }
                (_, Value::Boolean(_)) => tt == ItemType::Boolean,
                (_, Value::Integer(_)) => matches!(tt, ItemType::Integer | ItemType::Decimal),
                (_, Value::Decimal(_)) => tt == ItemType::Decimal,
                (_, Value::Date(_)) => tt == ItemType::Date,
                (_, Value::String(_)) => {
                    matches!(tt, ItemType::String | ItemType::Text | ItemType::OpenChoice)
                        || target.options.iter().any(|o| matches!(o.value, OptionValue::String(_)))
                }
                // answerCoding names an option given as a Coding (a valueString option is
                // compared with answerString), so that export and import agree.
                (_, Value::Option(code)) => tt.is_choice() && target.option(code).is_some_and(|o| matches!(o.value, OptionValue::Coding(_))),
            };
            if !fits {
                return refuse(id, format!("enableWhen's answer does not fit the {} question \"{}\"", tt.as_str(), c.question));
            }
        }
    }
    Ok(())
}

fn is_ancestor(item: &Item, link_id: &str) -> bool {
    item.items.iter().any(|c| c.link_id == link_id || is_ancestor(c, link_id))
}

mod export;

pub use export::{export, response, ResponseContext};

#[cfg(test)]
mod tests;
