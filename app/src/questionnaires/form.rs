//! A form as the portal holds it: the supported subset of a FHIR R4 `Questionnaire`, parsed once
//! on import (`fhir::import`) and rendered, validated and exported from this model. Pure data,
//! shared by the server and the pages.

use crate::dates::CalendarDate;
use serde::{Deserialize, Serialize};

/// What a form is for. Stored with the form, not in its FHIR JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FormKind {
    /// A clinical questionnaire (e.g. a screening form).
    Questionnaire,
    /// A visit-experience survey: subject to the patient's survey preference (R-QST-3).
    Survey,
    /// An education lesson: reading with an acknowledgement or a few check questions.
    Lesson,
}

impl FormKind {
    pub const ALL: [FormKind; 3] = [FormKind::Questionnaire, FormKind::Survey, FormKind::Lesson];

    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Questionnaire => "questionnaire",
            FormKind::Survey => "survey",
            FormKind::Lesson => "lesson",
        }
    }

    pub fn parse(s: &str) -> Option<FormKind> {
        FormKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            FormKind::Questionnaire => "Clinical questionnaire",
            FormKind::Survey => "Visit survey",
            FormKind::Lesson => "Education lesson",
        }
    }
}

/// The item types of the subset (FHIR `Questionnaire.item.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemType {
    Group,
    Display,
    String,
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    Choice,
    OpenChoice,
}

impl ItemType {
    pub const ALL: [ItemType; 10] = [
        ItemType::Group,
        ItemType::Display,
        ItemType::String,
        ItemType::Text,
        ItemType::Integer,
        ItemType::Decimal,
        ItemType::Boolean,
        ItemType::Date,
        ItemType::Choice,
        ItemType::OpenChoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Group => "group",
            ItemType::Display => "display",
            ItemType::String => "string",
            ItemType::Text => "text",
            ItemType::Integer => "integer",
            ItemType::Decimal => "decimal",
            ItemType::Boolean => "boolean",
            ItemType::Date => "date",
            ItemType::Choice => "choice",
            ItemType::OpenChoice => "open-choice",
        }
    }

    pub fn parse(s: &str) -> Option<ItemType> {
        ItemType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Items that take an answer (not groups or display text).
    pub fn is_question(self) -> bool {
        !matches!(self, ItemType::Group | ItemType::Display)
    }

    pub fn is_choice(self) -> bool {
        matches!(self, ItemType::Choice | ItemType::OpenChoice)
    }

    /// Free text: what min/max length applies to.
    pub fn is_textual(self) -> bool {
        matches!(self, ItemType::String | ItemType::Text | ItemType::OpenChoice)
    }

    /// Ordered values: what min/max value and the comparison operators apply to.
    pub fn is_ordered(self) -> bool {
        matches!(self, ItemType::Integer | ItemType::Decimal | ItemType::Date)
    }
}

/// A coded value (FHIR `Coding`): what an answer option is, and a form's `code`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Coding {
    pub system: Option<String>,
    pub code: String,
    pub display: Option<String>,
}

/// An answer option: a coding or a plain string (`valueCoding` / `valueString`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerOption {
    pub value: OptionValue,
    /// Lessons: this option is a right answer of a check question (portal extension).
    pub correct: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OptionValue {
    Coding(Coding),
    String(String),
}

impl OptionValue {
    /// What the form posts for it and what an answer stores: the code, or the string.
    pub fn key(&self) -> &str {
        match self {
            OptionValue::Coding(c) => &c.code,
            OptionValue::String(s) => s,
        }
    }

    /// What people read.
    pub fn label(&self) -> &str {
        match self {
            OptionValue::Coding(c) => c.display.as_deref().unwrap_or(&c.code),
            OptionValue::String(s) => s,
        }
    }
}

/// A typed value: an answer, a bound (min/max value), or what an `enableWhen` compares with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    Date(CalendarDate),
    String(String),
    /// A chosen option, by its key (code or string).
    Option(String),
}

/// `enableWhen.operator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    Exists,
    Equals,
    NotEquals,
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
}

impl Operator {
    pub const ALL: [Operator; 7] =
        [Operator::Exists, Operator::Equals, Operator::NotEquals, Operator::Greater, Operator::Less, Operator::GreaterOrEqual, Operator::LessOrEqual];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Exists => "exists",
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
            Operator::Greater => ">",
            Operator::Less => "<",
            Operator::GreaterOrEqual => ">=",
            Operator::LessOrEqual => "<=",
        }
    }

    pub fn parse(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, Operator::Greater | Operator::Less | Operator::GreaterOrEqual | Operator::LessOrEqual)
    }
}

/// One condition of an item's `enableWhen`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnableWhen {
    /// The `linkId` of an earlier question.
    pub question: String,
    pub operator: Operator,
    /// For `exists`: `Value::Boolean`; otherwise a value of the question's type.
    pub answer: Value,
}

/// `enableBehavior`: every condition must hold, or any one (FHIR requires it with two or more).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnableBehavior {
    All,
    Any,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub link_id: String,
    pub prefix: Option<String>,
    pub text: Option<String>,
    pub item_type: ItemType,
    pub code: Vec<Coding>,
    pub required: bool,
    /// Choice items only: more than one option may be chosen.
    pub repeats: bool,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_value: Option<Value>,
    pub max_value: Option<Value>,
    pub options: Vec<AnswerOption>,
    pub enable_when: Vec<EnableWhen>,
    pub enable_behavior: Option<EnableBehavior>,
    /// Groups only.
    pub items: Vec<Item>,
}

impl Item {
    /// A blank item of a type, for building forms in code and tests.
    pub fn new(link_id: &str, text: &str, item_type: ItemType) -> Item {
        Item {
            link_id: link_id.into(),
            prefix: None,
            text: Some(text.into()),
            item_type,
            code: Vec::new(),
            required: false,
            repeats: false,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            options: Vec::new(),
            enable_when: Vec::new(),
            enable_behavior: None,
            items: Vec::new(),
        }
    }

    /// The label people read: prefix and text.
    pub fn label(&self) -> String {
        match (&self.prefix, &self.text) {
            (Some(p), Some(t)) => format!("{p} {t}"),
            (None, Some(t)) => t.clone(),
            (Some(p), None) => p.clone(),
            (None, None) => self.link_id.clone(),
        }
    }

    pub fn option(&self, key: &str) -> Option<&AnswerOption> {
        self.options.iter().find(|o| o.value.key() == key)
    }
}

/// A form version's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub title: String,
    pub description: Option<String>,
    /// The Questionnaire's canonical `url`, when it had one.
    pub url: Option<String>,
    pub code: Vec<Coding>,
    pub items: Vec<Item>,
}

impl Form {
    /// Every item, depth first in document order.
    pub fn all_items(&self) -> Vec<&Item> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for i in items {
                out.push(i);
                walk(&i.items, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }

    pub fn item(&self, link_id: &str) -> Option<&Item> {
        self.all_items().into_iter().find(|i| i.link_id == link_id)
    }

    /// Whether any answer option is marked as a lesson's right answer.
    pub fn has_check(&self) -> bool {
        self.all_items().iter().any(|i| i.options.iter().any(|o| o.correct))
    }
}
