//! The one reader of `multipart/form-data` forms (messages with attachments, statements and
//! their CSV import, questionnaire answers and imports). Parts are read as they stream in and
//! reading stops as soon as a limit is passed, so no request holds more memory than its form
//! allows, whatever the sender claims about sizes. (The body-limit middleware caps the whole
//! request before this runs; these limits are the form's own.)

use crate::error::AppError;
use leptos::server_fn::codec::MultipartData;

/// What one form may carry.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most bytes of any one text field.
    pub field: usize,
    /// The most bytes of all text fields together.
    pub text: usize,
    /// The fields whose parts are files (kept as bytes, with the file's name).
    pub file_fields: &'static [&'static str],
    /// The most bytes of one file.
    pub file: usize,
}

impl Limits {
    /// A form of text fields only.
    pub const fn text(field: usize, text: usize) -> Limits {
        Limits { field, text, file_fields: &[], file: 0 }
    }
}

/// A file the form carried.
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A form as read: its text fields in order (names repeat for repeating inputs), its files, and
/// whether a file was over the limit — then the rest of the request was not read, since the
/// answer is the same whatever follows.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
    /// The name the browser gave a file over the limit.
    pub too_large: Option<String>,
}

impl Form {
    /// The first value of a text field, or "" when the form did not carry it.
    pub fn text(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

/// Why a form was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a form this portal sends (not multipart, a text field that is not UTF-8).
    Malformed,
    /// A text field, or all of them together, over the form's limits.
    TooMuch,
}

impl From<Refused> for AppError {
    fn from(_: Refused) -> AppError {
        crate::platform::request::refuse(AppError::Request)
    }
}

/// Reads `data` within `limits`.
pub async fn read(data: MultipartData, limits: Limits) -> Result<Form, Refused> {
    let mut data = data.into_inner().ok_or(Refused::Malformed)?;
    let mut form = Form::default();
    let mut text_bytes = 0usize;
    while let Some(mut field) = data.next_field().await.map_err(|_| Refused::Malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let is_file = limits.file_fields.contains(&name.as_str());
        let limit = if is_file { limits.file } else { limits.field.min(limits.text - text_bytes) };
        let mut value = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.chunk().await.map_err(|_| Refused::Malformed)? {
            if value.len() + chunk.len() > limit {
                over = true;
                break;
            }
            value.extend_from_slice(&chunk);
        }
        if !is_file {
            if over {
                return Err(Refused::TooMuch);
            }
            text_bytes += value.len();
            form.fields.push((name, String::from_utf8(value).map_err(|_| Refused::Malformed)?));
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        if over {
            form.too_large = Some(file_name);
            break;
        }
        // An empty file input sends a part with no name and no bytes: nothing was chosen.
        if file_name.is_empty() && value.is_empty() {
            continue;
        }
        form.uploads.push(Upload { file_name, bytes: value });
    }
    Ok(form)
}
