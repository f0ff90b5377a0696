//! Reading a multipart form: its text fields, and each file checked
//! against the size limit and detected by content.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;

use super::detect::{self, DocumentType};
use super::store::NewDocument;
use crate::config::UploadLimits;
use crate::web::AppError;

/// Maximum total size of one form's text fields, in bytes.
const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The multipart field that carries files on every upload form.
pub const FILE_FIELD: &str = "document_file";

/// A file from the form, accepted or not.
#[derive(Debug, Clone)]
pub enum FileOutcome {
    Accepted(NewDocument),
    Rejected { file_name: String, reason: String },
}

/// A multipart form as read.
#[derive(Debug, Default)]
pub struct ReadForm {
    /// The text fields, in the order they arrived.
    pub fields: Vec<(String, String)>,
    pub files: Vec<FileOutcome>,
}

impl ReadForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
    }

    /// Encodes the text fields as an urlencoded body, for the same deserializer
    /// that reads ordinary forms.
    pub fn urlencoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.fields).finish()
    }
}

fn read_error(err: MultipartError) -> AppError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::UploadTooLarge
    } else {
        AppError::BadUpload(err.body_text())
    }
}

/// Undoes the escapes that browsers apply to a multipart file name: HTML
/// form submission writes `"`, CR and LF as `%22`, `%0D` and `%0A`.
fn unescape_file_name(raw: &str) -> String {
    let mut name = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(position) = rest.find('%') {
        name.push_str(&rest[..position]);
        let escape = rest.get(position..position + 3).unwrap_or_default();
        let decoded = match escape.to_ascii_uppercase().as_str() {
            "%22" => Some('"'),
            "%0D" => Some('\r'),
            "%0A" => Some('\n'),
            _ => None,
        };
        match decoded {
            Some(character) => {
                name.push(character);
                rest = &rest[position + 3..];
            }
            None => {
                name.push('%');
                rest = &rest[position + 1..];
            }
        }
    }
    name.push_str(rest);
    name
}

/// Explains why a file cannot be added to documents that already number
/// `count` and total `total` bytes, or returns None when it fits.
pub fn over_limit(file_name: &str, size: u64, count: usize, total: u64, limits: &UploadLimits) -> Option<String> {
    if count >= limits.max_files {
        Some(format!("{file_name} was not added because a request can have at most {} documents", limits.max_files))
    } else if total + size > limits.max_total_bytes {
        Some(format!(
            "{file_name} was not added because one request's documents can be at most {} MB together",
            mib(limits.max_total_bytes)
        ))
    } else {
        None
    }
}

/// Converts a limit in bytes to whole MiB, for messages.
pub fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// Reads every part. A file over the per-file limit is read to its end but
/// not kept, so the response can still explain what happened.
pub async fn read(mut multipart: Multipart, limits: &UploadLimits) -> Result<ReadForm, AppError> {
    let mut form = ReadForm::default();
    let mut text_bytes = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let Some(raw_file_name) = field.file_name().map(unescape_file_name) else {
            let value = field.text().await.map_err(read_error)?;
            text_bytes += name.len() + value.len();
            if text_bytes > MAX_TEXT_BYTES {
                return Err(AppError::FormTooLarge);
            }
            form.fields.push((name, value));
            continue;
        };
        if name != FILE_FIELD {
            return Err(AppError::BadUpload(format!("a file arrived in the unexpected field {name:?}")));
        }
        let mut content = Vec::new();
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(read_error)? {
            size += chunk.len() as u64;
            if size <= limits.max_file_bytes {
                content.extend_from_slice(&chunk);
            }
        }
        // A file input left empty arrives as a part with no name and no bytes.
        if raw_file_name.is_empty() && size == 0 {
            continue;
        }
        let shown_name = detect::sanitize_file_name(&raw_file_name, DocumentType::Text);
        if size > limits.max_file_bytes {
            form.files.push(FileOutcome::Rejected {
                file_name: shown_name,
                reason: format!("it is larger than {} MB", mib(limits.max_file_bytes)),
            });
            continue;
        }
        match detect::detect(&content) {
            Ok(document_type) => form.files.push(FileOutcome::Accepted(NewDocument {
                file_name: detect::sanitize_file_name(&raw_file_name, document_type),
                document_type,
                content,
            })),
            Err(rejection) => {
                form.files.push(FileOutcome::Rejected { file_name: shown_name, reason: rejection.reason().to_owned() })
            }
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_escapes_are_undone() {
        assert_eq!(unescape_file_name("a%22b%0D%0Ac.txt"), "a\"b\r\nc.txt");
    }

    #[test]
    fn other_percent_signs_stay() {
        assert_eq!(unescape_file_name("100%25 done %2.pdf%"), "100%25 done %2.pdf%");
    }
}
