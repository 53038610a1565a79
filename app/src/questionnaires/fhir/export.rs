//! Export: a form as a FHIR R4 `Questionnaire`, and submitted answers as a
//! `QuestionnaireResponse`.

use super::{EXT_CORRECT, EXT_MAX_VALUE, EXT_MIN_LENGTH, EXT_MIN_VALUE};
use crate::questionnaires::answers::Answers;
use crate::questionnaires::form::*;
use serde_json::{json, Map, Value as Json};

fn coding_json(c: &Coding) -> Json {
    let mut o = Map::new();
    if let Some(s) = &c.system {
        o.insert("system".into(), json!(s));
    }
    o.insert("code".into(), json!(c.code));
    if let Some(d) = &c.display {
        o.insert("display".into(), json!(d));
    }
    Json::Object(o)
}

fn value_json(prefix: &str, v: &Value, item: Option<&Item>) -> (String, Json) {
    match v {
        Value::Boolean(b) => (format!("{prefix}Boolean"), json!(b)),
        Value::Integer(i) => (format!("{prefix}Integer"), json!(i)),
        Value::Decimal(d) => (format!("{prefix}Decimal"), json!(d)),
        Value::Date(d) => (format!("{prefix}Date"), json!(d.to_string())),
        Value::String(s) => (format!("{prefix}String"), json!(s)),
        Value::Option(key) => match item.and_then(|i| i.option(key)).map(|o| &o.value) {
            Some(OptionValue::Coding(c)) => (format!("{prefix}Coding"), coding_json(c)),
            Some(OptionValue::String(s)) => (format!("{prefix}String"), json!(s)),
            None => (format!("{prefix}Coding"), json!({ "code": key })),
        },
    }
}

/// The form as a FHIR R4 Questionnaire (`status` and `version` from the stored version).
pub fn export(form: &Form, id: &str, version: i64, status: &str) -> Json {
    let mut q = Map::new();
    q.insert("resourceType".into(), json!("Questionnaire"));
    q.insert("id".into(), json!(id));
    if let Some(url) = &form.url {
        q.insert("url".into(), json!(url));
    }
    q.insert("version".into(), json!(version.to_string()));
    q.insert("title".into(), json!(form.title));
    q.insert("status".into(), json!(status));
    if let Some(d) = &form.description {
        q.insert("description".into(), json!(d));
    }
    if !form.code.is_empty() {
        q.insert("code".into(), Json::Array(form.code.iter().map(coding_json).collect()));
    }
    q.insert("item".into(), Json::Array(form.items.iter().map(|i| item_json(form, i)).collect()));
    Json::Object(q)
}

fn item_json(form: &Form, item: &Item) -> Json {
    let mut o = Map::new();
    o.insert("linkId".into(), json!(item.link_id));
    if let Some(p) = &item.prefix {
        o.insert("prefix".into(), json!(p));
    }
    if let Some(t) = &item.text {
        o.insert("text".into(), json!(t));
    }
    o.insert("type".into(), json!(item.item_type.as_str()));
    if !item.code.is_empty() {
        o.insert("code".into(), Json::Array(item.code.iter().map(coding_json).collect()));
    }
    let mut ext = Vec::new();
    if let Some(n) = item.min_length {
        ext.push(json!({ "url": EXT_MIN_LENGTH, "valueInteger": n }));
    }
    for (url, bound) in [(EXT_MIN_VALUE, &item.min_value), (EXT_MAX_VALUE, &item.max_value)] {
        if let Some(b) = bound {
            let (k, v) = value_json("value", b, None);
            ext.push(json!({ "url": url, k: v }));
        }
    }
    if !ext.is_empty() {
        o.insert("extension".into(), Json::Array(ext));
    }
    if !item.enable_when.is_empty() {
        let conditions = item
            .enable_when
            .iter()
            .map(|c| {
                let target = form.item(&c.question);
                let (k, v) = value_json("answer", &c.answer, target);
                json!({ "question": c.question, "operator": c.operator.as_str(), k: v })
            })
            .collect();
        o.insert("enableWhen".into(), Json::Array(conditions));
    }
    if let Some(b) = item.enable_behavior {
        o.insert("enableBehavior".into(), json!(if b == EnableBehavior::All { "all" } else { "any" }));
    }
    if item.required {
        o.insert("required".into(), json!(true));
    }
    if item.repeats {
        o.insert("repeats".into(), json!(true));
    }
    if let Some(n) = item.max_length {
        o.insert("maxLength".into(), json!(n));
    }
    if !item.options.is_empty() {
        let options = item
            .options
            .iter()
            .map(|opt| {
                let mut a = Map::new();
                match &opt.value {
                    OptionValue::Coding(c) => a.insert("valueCoding".into(), coding_json(c)),
                    OptionValue::String(s) => a.insert("valueString".into(), json!(s)),
                };
                if opt.correct {
                    a.insert("extension".into(), json!([{ "url": EXT_CORRECT, "valueBoolean": true }]));
                }
                Json::Object(a)
            })
            .collect();
        o.insert("answerOption".into(), Json::Array(options));
    }
    if !item.items.is_empty() {
        o.insert("item".into(), Json::Array(item.items.iter().map(|c| item_json(form, c)).collect()));
    }
    Json::Object(o)
}

/// What a QuestionnaireResponse says about its context.
pub struct ResponseContext<'a> {
    pub response_id: &'a str,
    /// The canonical reference of the form version: `url|version`.
    pub questionnaire: String,
    /// `completed` or `in-progress`.
    pub status: &'a str,
    /// When it was submitted (or last saved), RFC 3339.
    pub authored: String,
    pub patient_name: &'a str,
    pub mrn: &'a str,
}

/// One response as a FHIR R4 QuestionnaireResponse: the answered items in the form's structure
/// (groups holding their answered items; unanswered and disabled items left out).
pub fn response(form: &Form, answers: &Answers, ctx: &ResponseContext<'_>) -> Json {
    fn items(list: &[Item], answers: &Answers) -> Vec<Json> {
        let mut out = Vec::new();
        for item in list {
            let mut o = Map::new();
            o.insert("linkId".into(), json!(item.link_id));
            if let Some(t) = &item.text {
                o.insert("text".into(), json!(t));
            }
            if item.item_type == ItemType::Group {
                let children = items(&item.items, answers);
                if children.is_empty() {
                    continue;
                }
                o.insert("item".into(), Json::Array(children));
            } else {
                let Some(values) = answers.get(&item.link_id).filter(|v| !v.is_empty()) else { continue };
                let list = values
                    .iter()
                    .map(|v| {
                        let (k, j) = value_json("value", v, Some(item));
                        json!({ k: j })
                    })
                    .collect();
                o.insert("answer".into(), Json::Array(list));
            }
            out.push(Json::Object(o));
        }
        out
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": ctx.response_id,
        "questionnaire": ctx.questionnaire,
        "status": ctx.status,
        "subject": { "identifier": { "type": { "text": "Medical record number" }, "value": ctx.mrn }, "display": ctx.patient_name },
        "authored": ctx.authored,
        "item": items(&form.items, answers),
    })
}
