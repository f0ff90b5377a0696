//! Helpers shared by the two request forms: trimming, messages for
//! `validator` results, and the repeated vendor-link rows.

use std::borrow::Cow;

use validator::{ValidationError, ValidationErrors};

use crate::requests::validation::{is_email, is_http_url};
use crate::web::form::FieldErrors;

/// Field names used in error messages.
pub struct FieldName {
    pub id: &'static str,
    /// Used after "Enter", as in "Enter the application name".
    pub noun: &'static str,
    /// Used at the start of a sentence, as in "Application name must be …".
    pub title: &'static str,
    /// A textarea; single-line fields reject line breaks and tabs.
    pub multiline: bool,
}

pub const MAX_LINK_CHARS: usize = 2000;
/// Most vendor-documentation links one request may carry.
pub const MAX_LINKS: usize = 20;

/// Builds the message for a field's first `validator` error.
fn describe(name: &FieldName, error: &ValidationError, value: &str) -> String {
    match error.code.as_ref() {
        "email" => format!("Enter {} in the correct format, like name@uwaterloo.ca", name.noun),
        "length" if value.is_empty() => format!("Enter {}", name.noun),
        "length" => {
            let max = error.params.get("max").and_then(|max| max.as_u64()).unwrap_or_default();
            format!("{} must be {max} characters or fewer", name.title)
        }
        _ => format!("Check {}", name.noun),
    }
}

/// Checks whether the text contains a control character other than tab and
/// line breaks, or an invisible formatting character: a zero-width space,
/// word joiner or byte-order mark, or a bidirectional mark, override or
/// isolate. PostgreSQL cannot store NUL in text, and invisible characters can
/// make a value read differently on a reviewer's page than it was typed.
/// The zero-width joiner and non-joiner stay allowed, because some scripts
/// and emoji need them.
pub fn has_control_characters(value: &str) -> bool {
    value.chars().any(|ch| {
        (ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
            || matches!(
                ch,
                '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
                    | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            )
    })
}

/// The message for a value with a character [`has_control_characters`] rejects.
pub fn control_character_message(title: &str) -> String {
    format!(
        "{title} contains an invisible or control character, such as a null byte or a text-direction mark. Remove it and try again"
    )
}

/// Adds the first message for one text field: its `validator` error, or a
/// control character. Reports whether the field had a problem.
pub fn check_text(errors: &mut FieldErrors, report: &ValidationErrors, name: &FieldName, value: &str) -> bool {
    let field_errors = report.field_errors();
    if let Some(first) = field_errors.get(&Cow::Borrowed(name.id)).and_then(|list| list.first()) {
        errors.add(name.id, describe(name, first, value));
        return true;
    }
    if has_control_characters(value) {
        errors.add(name.id, control_character_message(name.title));
        return true;
    }
    if !name.multiline && value.contains(['\n', '\r', '\t']) {
        errors.add(name.id, format!("Enter {} on one line, without line breaks or tabs", name.noun));
        return true;
    }
    false
}

/// Applies the stricter email check on top of `validator`'s HTML5 pattern.
pub fn check_email(errors: &mut FieldErrors, name: &FieldName, value: &str) {
    if !value.is_empty() && !is_email(value) {
        errors.add(name.id, format!("Enter {} in the correct format, like name@uwaterloo.ca", name.noun));
    }
}

pub fn trim(value: &mut String) {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_owned();
    }
}

fn has_credentials(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|url| !url.username().is_empty() || url.password().is_some())
}

/// Removes blank entries when there are more than `max`, keeping every
/// value the user typed.
pub fn drop_blank_rows_beyond(values: &mut Vec<String>, max: usize) {
    if values.len() > max {
        values.retain(|value| !value.trim().is_empty());
    }
}

/// Adds a blank link row, or explains why no more fit.
pub fn add_link_row(links: &mut Vec<String>) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if links.len() >= MAX_LINKS {
        errors.add(link_id(links.len() - 1), format!("You can give at most {MAX_LINKS} links"));
    } else {
        links.push(String::new());
    }
    errors
}

/// One vendor-documentation link input as rendered.
pub struct LinkRow {
    pub id: String,
    pub number: usize,
    pub value: String,
}

pub fn link_id(index: usize) -> String {
    format!("vendor_link_{index}")
}

/// Builds the rendered link inputs: every submitted value, blanks included, and at least one.
pub fn link_rows(links: &[String]) -> Vec<LinkRow> {
    let mut values: Vec<String> = links.to_vec();
    if values.is_empty() {
        values.push(String::new());
    }
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| LinkRow { id: link_id(index), number: index + 1, value })
        .collect()
}

/// Checks the non-blank links and returns them; blank inputs are unused rows.
pub fn check_links(errors: &mut FieldErrors, links: &[String], required: bool) -> Vec<String> {
    let mut kept = Vec::new();
    for (index, link) in links.iter().enumerate() {
        let link = link.trim();
        if link.is_empty() {
            continue;
        }
        if kept.len() == MAX_LINKS {
            errors.add(
                link_id(index),
                format!("Enter at most {MAX_LINKS} links. Remove link {} or a link before it", index + 1),
            );
            break;
        }
        if link.chars().count() > MAX_LINK_CHARS {
            errors.add(link_id(index), format!("Link {} must be {MAX_LINK_CHARS} characters or fewer", index + 1));
        } else if has_control_characters(link) || !is_http_url(link) {
            errors.add(
                link_id(index),
                format!("Enter link {} as a full web address that starts with https:// or http://", index + 1),
            );
        } else if has_credentials(link) {
            errors.add(
                link_id(index),
                format!("Remove the user name and password from link {}; IST needs a link anyone at the university can open", index + 1),
            );
        }
        kept.push(link.to_owned());
    }
    if required && kept.is_empty() {
        errors.add(link_id(0), "Enter at least one link to the vendor's documentation");
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_links_skips_blank_rows() {
        let mut errors = FieldErrors::default();
        let links = vec![String::new(), " https://vendor.example/doc ".to_owned()];
        assert_eq!(check_links(&mut errors, &links, true), vec!["https://vendor.example/doc".to_owned()]);
        assert!(errors.is_empty());
    }

    #[test]
    fn check_links_names_bad_row() {
        let mut errors = FieldErrors::default();
        let links = vec!["https://ok.example".to_owned(), "javascript:alert(1)".to_owned()];
        check_links(&mut errors, &links, true);
        assert_eq!(
            errors.get("vendor_link_1"),
            Some("Enter link 2 as a full web address that starts with https:// or http://")
        );
    }

    #[test]
    fn check_links_requires_one() {
        let mut errors = FieldErrors::default();
        check_links(&mut errors, &[String::new()], true);
        assert_eq!(errors.get("vendor_link_0"), Some("Enter at least one link to the vendor's documentation"));
    }
}
