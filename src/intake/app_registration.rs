//! The Microsoft 365 application-registration request form: the
//! application, its vendor documentation and the permissions it needs.

use askama::Template;
use serde::Deserialize;
use uuid::Uuid;
use validator::Validate;

use super::forms::{
    FieldName, LinkRow, MAX_LINKS, add_link_row, check_email, check_links, check_text, control_character_message,
    drop_blank_rows_beyond, has_control_characters, link_rows, trim,
};
use super::request_flow::RequestForm;
use super::state::{APP_REGISTRATION_DRAFT_KEY, AnswerRow};
use crate::accounts::User;
use crate::config::Settings;
use crate::policy::{OutcomeKind, Path, Policy};
use crate::requests::validation::is_in_domains;
use crate::requests::{AppRegistrationDetails, NewRequest, PermissionType, RequesterDetails, Scope};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;

pub const MAX_SCOPE_NAME_CHARS: usize = 200;
/// Most permission rows one request may carry.
pub const MAX_SCOPES: usize = 50;

#[derive(Debug, Clone, Default, Deserialize, Validate)]
pub struct AppRegistrationForm {
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub application_name: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub vendor: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 4000))]
    pub business_purpose: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 254), email)]
    pub sending_address: String,
    #[serde(default)]
    pub vendor_link: Vec<String>,
    #[serde(default)]
    pub scope_name: Vec<String>,
    #[serde(default)]
    pub scope_type: Vec<String>,
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub requester_name: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 254), email)]
    pub requester_email: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub department: String,
    /// Name of the submit button pressed; empty for "Continue".
    #[serde(default)]
    pub action: String,
}

const APPLICATION_NAME: FieldName =
    FieldName { id: "application_name", noun: "the application name", title: "Application name", multiline: false };
const VENDOR: FieldName = FieldName { id: "vendor", noun: "the vendor's name", title: "Vendor", multiline: false };
const BUSINESS_PURPOSE: FieldName =
    FieldName { id: "business_purpose", noun: "the business purpose", title: "Business purpose", multiline: true };
const SENDING_ADDRESS: FieldName = FieldName {
    id: "sending_address",
    noun: "the sending email address",
    title: "Sending email address",
    multiline: false,
};
pub const REQUESTER_NAME: FieldName =
    FieldName { id: "requester_name", noun: "your name", title: "Your name", multiline: false };
pub const REQUESTER_EMAIL: FieldName =
    FieldName { id: "requester_email", noun: "your email address", title: "Your email address", multiline: false };
pub const DEPARTMENT: FieldName =
    FieldName { id: "department", noun: "your department", title: "Department", multiline: false };

/// One permission row as rendered.
pub struct ScopeRow {
    pub number: usize,
    pub name_id: String,
    pub type_id: String,
    pub name: String,
    pub permission_type: String,
}

fn scope_name_id(index: usize) -> String {
    format!("scope_name_{index}")
}

fn scope_type_id(index: usize) -> String {
    format!("scope_type_{index}")
}

impl AppRegistrationForm {
    fn scope_rows(&self) -> Vec<ScopeRow> {
        let count = self.scope_name.len().max(self.scope_type.len()).max(1);
        (0..count)
            .map(|index| ScopeRow {
                number: index + 1,
                name_id: scope_name_id(index),
                type_id: scope_type_id(index),
                name: self.scope_name.get(index).cloned().unwrap_or_default(),
                permission_type: self.scope_type.get(index).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Checks the rows that have a name or a type; fully blank rows are unused.
    fn check_scopes(&self, errors: &mut FieldErrors) -> Vec<Scope> {
        let mut scopes = Vec::new();
        for (index, row) in self.scope_rows().into_iter().enumerate() {
            let name = row.name.trim();
            let kind = row.permission_type.trim();
            if name.is_empty() && kind.is_empty() {
                continue;
            }
            if scopes.len() == MAX_SCOPES {
                errors.add(
                    scope_name_id(index),
                    format!(
                        "Enter at most {MAX_SCOPES} permissions. Remove permission {} or one before it",
                        row.number
                    ),
                );
                break;
            }
            if name.is_empty() {
                errors.add(
                    scope_name_id(index),
                    format!("Enter the name of permission {}, such as Mail.Send", row.number),
                );
            } else if name.chars().count() > MAX_SCOPE_NAME_CHARS {
                errors.add(
                    scope_name_id(index),
                    format!("Permission {} must be {MAX_SCOPE_NAME_CHARS} characters or fewer", row.number),
                );
            } else if has_control_characters(name) {
                errors.add(scope_name_id(index), control_character_message(&format!("Permission {}", row.number)));
            } else if name.chars().any(char::is_whitespace) {
                errors.add(
                    scope_name_id(index),
                    format!(
                        "Enter permission {} without spaces, as the vendor writes it, such as Mail.Send",
                        row.number
                    ),
                );
            }
            let permission_type = PermissionType::parse(kind);
            if permission_type.is_none() {
                errors.add(
                    scope_type_id(index),
                    format!("Choose whether permission {} is delegated or application", row.number),
                );
            }
            if let (false, Some(permission_type)) = (name.is_empty(), permission_type) {
                scopes.push(Scope { name: name.to_owned(), permission_type });
            }
        }
        if scopes.is_empty() && errors.list.iter().all(|error| !error.field.starts_with("scope_")) {
            errors.add(scope_name_id(0), "Enter at least one permission or scope that the application needs");
        }
        scopes
    }
}

#[derive(Template)]
#[template(path = "intake/app_registration_form.html")]
struct FormPage<'a> {
    chrome: Chrome,
    form: &'a AppRegistrationForm,
    links: Vec<LinkRow>,
    scopes: Vec<ScopeRow>,
    errors: FieldErrors,
    notice: Option<&'a str>,
    /// Hint for the sending address, with an example in an allowed domain.
    sender_hint: String,
}

#[derive(Template)]
#[template(path = "intake/app_registration_check.html")]
struct CheckPage<'a> {
    chrome: Chrome,
    details: &'a AppRegistrationDetails,
    submission_key: Uuid,
    answers: Vec<AnswerRow>,
}

impl RequestForm for AppRegistrationForm {
    type Details = AppRegistrationDetails;

    const DRAFT_KEY: &'static str = APP_REGISTRATION_DRAFT_KEY;
    const OUTCOME: OutcomeKind = OutcomeKind::AppRegistration;
    const CHECK_RETURN_KEY: &'static str = "app-registration-check";
    const URL: &'static str = "/requests/new/app-registration";

    fn prefill(user: &User, _policy: &Policy, _path: &Path<'_>) -> Self {
        AppRegistrationForm {
            requester_name: user.display_name.clone(),
            requester_email: user.email.clone(),
            department: user.department.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    fn from_details(details: &AppRegistrationDetails) -> Self {
        AppRegistrationForm {
            application_name: details.application_name.clone(),
            vendor: details.vendor.clone(),
            business_purpose: details.business_purpose.clone(),
            sending_address: details.sending_address.clone(),
            vendor_link: details.vendor_links.clone(),
            scope_name: details.scopes.iter().map(|scope| scope.name.clone()).collect(),
            scope_type: details.scopes.iter().map(|scope| scope.permission_type.as_str().to_owned()).collect(),
            requester_name: details.requester.name.clone(),
            requester_email: details.requester.email.clone(),
            department: details.requester.department.clone(),
            action: String::new(),
        }
    }

    fn add_row(&mut self, action: &str) -> Option<FieldErrors> {
        match action {
            "add_link" => Some(add_link_row(&mut self.vendor_link)),
            "add_scope" => {
                let mut errors = FieldErrors::default();
                // Keep the two columns the same length before adding a row.
                let rows = self.scope_rows();
                self.scope_name = rows.iter().map(|row| row.name.clone()).collect();
                self.scope_type = rows.iter().map(|row| row.permission_type.clone()).collect();
                if rows.len() >= MAX_SCOPES {
                    errors.add(scope_name_id(rows.len() - 1), format!("You can list at most {MAX_SCOPES} permissions"));
                } else {
                    self.scope_name.push(String::new());
                    self.scope_type.push(String::new());
                }
                Some(errors)
            }
            _ => None,
        }
    }

    fn compact_rows(&mut self) {
        drop_blank_rows_beyond(&mut self.vendor_link, MAX_LINKS);
        let rows = self.scope_rows();
        if rows.len() > MAX_SCOPES {
            let kept: Vec<ScopeRow> = rows
                .into_iter()
                .filter(|row| !row.name.trim().is_empty() || !row.permission_type.trim().is_empty())
                .collect();
            self.scope_name = kept.iter().map(|row| row.name.clone()).collect();
            self.scope_type = kept.iter().map(|row| row.permission_type.clone()).collect();
        }
    }

    fn action(&self) -> &str {
        &self.action
    }

    fn validate(mut self, settings: &Settings) -> Result<AppRegistrationDetails, (Self, FieldErrors)> {
        for value in [
            &mut self.application_name,
            &mut self.vendor,
            &mut self.business_purpose,
            &mut self.sending_address,
            &mut self.requester_name,
            &mut self.requester_email,
            &mut self.department,
        ] {
            trim(value);
        }
        let report = Validate::validate(&self).err().unwrap_or_default();
        let mut errors = FieldErrors::default();

        check_text(&mut errors, &report, &APPLICATION_NAME, &self.application_name);
        check_text(&mut errors, &report, &VENDOR, &self.vendor);
        check_text(&mut errors, &report, &BUSINESS_PURPOSE, &self.business_purpose);
        if !check_text(&mut errors, &report, &SENDING_ADDRESS, &self.sending_address) {
            check_email(&mut errors, &SENDING_ADDRESS, &self.sending_address);
            if errors.get(SENDING_ADDRESS.id).is_none()
                && !is_in_domains(&self.sending_address, &settings.allowed_sender_domains)
            {
                errors.add(
                    SENDING_ADDRESS.id,
                    format!(
                        "Enter a sending email address at {}, because only university mailboxes can be registered",
                        settings.allowed_sender_domains.join(" or ")
                    ),
                );
            }
        }
        let vendor_links = check_links(&mut errors, &self.vendor_link, true);
        let scopes = self.check_scopes(&mut errors);
        check_text(&mut errors, &report, &REQUESTER_NAME, &self.requester_name);
        if !check_text(&mut errors, &report, &REQUESTER_EMAIL, &self.requester_email) {
            check_email(&mut errors, &REQUESTER_EMAIL, &self.requester_email);
        }
        check_text(&mut errors, &report, &DEPARTMENT, &self.department);

        if !errors.is_empty() {
            return Err((self, errors));
        }
        Ok(AppRegistrationDetails {
            application_name: self.application_name,
            vendor: self.vendor,
            business_purpose: self.business_purpose,
            sending_address: self.sending_address,
            vendor_links,
            scopes,
            requester: RequesterDetails {
                name: self.requester_name,
                email: self.requester_email,
                department: self.department,
            },
        })
    }

    fn into_request(details: AppRegistrationDetails) -> NewRequest {
        NewRequest::AppRegistration(details)
    }

    fn render_form(
        &self,
        chrome: Chrome,
        settings: &Settings,
        errors: FieldErrors,
        notice: Option<&str>,
    ) -> Result<String, askama::Error> {
        FormPage {
            chrome,
            form: self,
            links: link_rows(&self.vendor_link),
            scopes: self.scope_rows(),
            errors,
            notice,
            sender_hint: format!(
                "The From address, a university mailbox such as bookings@{}.",
                settings.allowed_sender_domains.first().map_or("uwaterloo.ca", String::as_str)
            ),
        }
        .render()
    }

    fn render_check(
        chrome: Chrome,
        details: &AppRegistrationDetails,
        submission_key: Uuid,
        answers: Vec<AnswerRow>,
    ) -> Result<String, askama::Error> {
        CheckPage { chrome, details, submission_key, answers }.render()
    }
}
