//! The Microsoft 365 application-registration request form: the
//! application, its vendor documentation and the permissions it needs.

use askama::Template;
use serde::Deserialize;
use uuid::Uuid;
use validator::Validate;

use super::documents;
use super::forms::{
    FieldName, LinkRow, MAX_LINKS, add_link_row, check_email, check_links, check_text, control_character_message,
    drop_blank_rows_beyond, has_control_characters, link_id, link_rows, trim,
};
use super::request_flow::{FormView, RequestForm};
use super::state::{APP_REGISTRATION_DRAFT_KEY, AnswerRow};
use crate::accounts::User;
use crate::attachments::store::DocumentSummary;
use crate::config::Settings;
use crate::graph::{self, Catalogue, Resolution, risk};
use crate::policy::{OutcomeKind, Path, Policy};
use crate::requests::validation::is_in_domains;
use crate::requests::{AppRegistrationDetails, NewRequest, PermissionApi, PermissionType, RequesterDetails, Scope};
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
    pub scope_api: Vec<String>,
    #[serde(default)]
    pub scope_api_name: Vec<String>,
    #[serde(default)]
    pub scope_name: Vec<String>,
    #[serde(default)]
    pub scope_type: Vec<String>,
    #[serde(default)]
    pub scope_justification: Vec<String>,
    /// Names the requester confirmed as typed although no catalogue lists them.
    #[serde(default)]
    pub scope_confirmed: Vec<String>,
    /// Ids of the documents uploaded with the form.
    #[serde(default)]
    pub document: Vec<String>,
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

/// Maximum length of the API name for a permission of another API, in characters.
pub const MAX_API_NAME_CHARS: usize = 100;
/// Maximum length of a one-line justification, in characters.
pub const MAX_JUSTIFICATION_CHARS: usize = 500;

/// One permission row as rendered.
pub struct ScopeRow {
    pub number: usize,
    pub api_id: String,
    pub api_name_id: String,
    pub name_id: String,
    pub type_id: String,
    pub justification_id: String,
    pub confirm_id: String,
    pub api: String,
    pub api_name: String,
    pub name: String,
    pub permission_type: String,
    pub justification: String,
    /// The name was confirmed as typed.
    pub confirmed: bool,
    /// The name is unknown, so the row offers to keep it as typed.
    pub offer_confirm: bool,
    /// Notes for the requester on a high-risk permission.
    pub notes: Vec<&'static str>,
}

fn scope_name_id(index: usize) -> String {
    format!("scope_name_{index}")
}

fn scope_type_id(index: usize) -> String {
    format!("scope_type_{index}")
}

fn scope_api_id(index: usize) -> String {
    format!("scope_api_{index}")
}

/// Puts "a" or "an" before an API's name, as in "an Office 365 Exchange Online".
fn with_article(label: &str) -> String {
    let article = if label.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    format!("{article} {label}")
}

fn scope_api_name_id(index: usize) -> String {
    format!("scope_api_name_{index}")
}

fn scope_justification_id(index: usize) -> String {
    format!("scope_justification_{index}")
}

/// Builds the message for a name that no catalogue lists, with its suggestions.
fn unknown_name_message(number: usize, typed: &str, api: PermissionApi, suggestions: &[&str]) -> String {
    let list = match api {
        PermissionApi::ExchangeOnline => "the built-in list of Exchange Online permissions",
        _ => "Microsoft Graph's published permissions",
    };
    let advice = match suggestions {
        [] => "Check the spelling".to_owned(),
        [only] => format!("Did you mean {only}? Correct it"),
        [first @ .., last] => format!("Did you mean {} or {last}? Correct it", first.join(", ")),
    };
    format!(
        "Permission {number}, {typed}, is not in {list}. {advice}, or tick \"Keep this name as typed\" if the vendor's documentation spells it this way"
    )
}

impl AppRegistrationForm {
    fn scope_rows(&self) -> Vec<ScopeRow> {
        let count = [
            self.scope_api.len(),
            self.scope_api_name.len(),
            self.scope_name.len(),
            self.scope_type.len(),
            self.scope_justification.len(),
            1,
        ]
        .into_iter()
        .max()
        .unwrap_or(1);
        let value = |column: &[String], index: usize| column.get(index).cloned().unwrap_or_default();
        (0..count)
            .map(|index| {
                let name = value(&self.scope_name, index);
                let mut row = ScopeRow {
                    number: index + 1,
                    api_id: scope_api_id(index),
                    api_name_id: scope_api_name_id(index),
                    name_id: scope_name_id(index),
                    type_id: scope_type_id(index),
                    justification_id: scope_justification_id(index),
                    confirm_id: format!("scope_confirmed_{index}"),
                    api: value(&self.scope_api, index),
                    api_name: value(&self.scope_api_name, index),
                    confirmed: self.is_confirmed(&name),
                    name,
                    permission_type: value(&self.scope_type, index),
                    justification: value(&self.scope_justification, index),
                    offer_confirm: false,
                    notes: Vec::new(),
                };
                if row.api.is_empty() {
                    row.api = PermissionApi::MicrosoftGraph.as_str().to_owned();
                }
                row
            })
            .collect()
    }

    fn set_scope_rows(&mut self, rows: &[ScopeRow]) {
        self.scope_api = rows.iter().map(|row| row.api.clone()).collect();
        self.scope_api_name = rows.iter().map(|row| row.api_name.clone()).collect();
        self.scope_name = rows.iter().map(|row| row.name.clone()).collect();
        self.scope_type = rows.iter().map(|row| row.permission_type.clone()).collect();
        self.scope_justification = rows.iter().map(|row| row.justification.clone()).collect();
    }

    fn is_confirmed(&self, name: &str) -> bool {
        let name = name.trim();
        !name.is_empty() && self.scope_confirmed.iter().any(|confirmed| confirmed.trim() == name)
    }

    /// Rows as rendered, with the confirm box offered on unknown names and
    /// the notes for high-risk permissions.
    fn rendered_scope_rows(&self, errors: &FieldErrors) -> Vec<ScopeRow> {
        let mut rows = self.scope_rows();
        for row in &mut rows {
            let api = PermissionApi::parse(&row.api).unwrap_or_default();
            let name = row.name.trim();
            let Some(permission_type) = PermissionType::parse(row.permission_type.trim()) else {
                row.offer_confirm = row.confirmed;
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let (canonical, unknown) = match api {
                PermissionApi::Other => (name.to_owned(), false),
                _ => match catalogue_for(api).resolve(graph::without_resource(name), permission_type) {
                    Resolution::Found(permission) => (permission.name.clone(), false),
                    Resolution::WrongType { .. } => (name.to_owned(), false),
                    Resolution::Unknown { .. } => (name.to_owned(), true),
                },
            };
            row.offer_confirm = row.confirmed || (unknown && errors.get(&row.name_id).is_some());
            let scope =
                Scope { api, api_name: None, name: canonical, permission_type, unlisted: unknown, justification: None };
            row.notes = risk::requester_notes(&scope);
        }
        rows
    }

    /// Checks the rows that have a name, a type or a justification; fully
    /// blank rows are unused.
    fn check_scopes(&self, errors: &mut FieldErrors) -> Vec<Scope> {
        let mut scopes: Vec<(usize, Scope)> = Vec::new();
        for (index, row) in self.scope_rows().into_iter().enumerate() {
            let name = row.name.trim();
            let kind = row.permission_type.trim();
            let justification = row.justification.trim();
            let api_name = row.api_name.trim();
            if name.is_empty() && kind.is_empty() && justification.is_empty() {
                continue;
            }
            let number = row.number;
            if scopes.len() == MAX_SCOPES {
                errors.add(
                    scope_name_id(index),
                    format!("Enter at most {MAX_SCOPES} permissions. Remove permission {number} or one before it"),
                );
                break;
            }
            let api = PermissionApi::parse(row.api.trim()).unwrap_or_default();
            let name_id = scope_name_id(index);
            let mut name_ok = false;
            if name.is_empty() {
                errors.add(&name_id, format!("Enter the name of permission {number}, such as Mail.Send"));
            } else if name.chars().count() > MAX_SCOPE_NAME_CHARS {
                errors.add(&name_id, format!("Permission {number} must be {MAX_SCOPE_NAME_CHARS} characters or fewer"));
            } else if has_control_characters(name) {
                errors.add(&name_id, control_character_message(&format!("Permission {number}")));
            } else {
                name_ok = true;
            }
            let permission_type = PermissionType::parse(kind);
            if permission_type.is_none() {
                errors.add(
                    scope_type_id(index),
                    format!("Choose whether permission {number} is delegated or application"),
                );
            }
            let mut scope_api_name = None;
            if api == PermissionApi::Other {
                if api_name.is_empty() {
                    errors.add(
                        scope_api_name_id(index),
                        format!("Enter the name of the API that permission {number} belongs to, such as SharePoint"),
                    );
                } else if api_name.chars().count() > MAX_API_NAME_CHARS {
                    errors.add(
                        scope_api_name_id(index),
                        format!("The API name of permission {number} must be {MAX_API_NAME_CHARS} characters or fewer"),
                    );
                } else if has_control_characters(api_name) || api_name.contains(['\n', '\r', '\t']) {
                    errors.add(
                        scope_api_name_id(index),
                        control_character_message(&format!("The API name of permission {number}")),
                    );
                } else if let Some(built_in) = built_in_api(api_name) {
                    errors.add(
                        scope_api_name_id(index),
                        format!(
                            "{api_name} is one of the listed APIs, so choose {} as the API of permission {number} instead of typing its name",
                            built_in.label()
                        ),
                    );
                } else {
                    scope_api_name = Some(api_name.to_owned());
                }
            }
            let justification_id = scope_justification_id(index);
            if justification.chars().count() > MAX_JUSTIFICATION_CHARS {
                errors.add(
                    &justification_id,
                    format!("The reason for permission {number} must be {MAX_JUSTIFICATION_CHARS} characters or fewer"),
                );
            } else if has_control_characters(justification) || justification.contains(['\n', '\r', '\t']) {
                errors.add(
                    &justification_id,
                    format!(
                        "Give the reason for permission {number} on one line, without control characters or line breaks"
                    ),
                );
            } else if justification.is_empty() && permission_type == Some(PermissionType::Application) {
                errors.add(
                    &justification_id,
                    format!(
                        "Explain in one line why the application needs permission {number}{} with no one signed in",
                        if name.is_empty() { String::new() } else { format!(", {name},") }
                    ),
                );
            }

            let (Some(permission_type), true) = (permission_type, name_ok) else {
                continue;
            };
            let mut canonical = name.to_owned();
            let mut unlisted = api == PermissionApi::Other;
            let lookup = graph::without_resource(name);
            if api != PermissionApi::Other {
                if let Some(message) = malformed_name_message(number, lookup, api) {
                    errors.add(&name_id, message);
                    continue;
                }
                match catalogue_for(api).resolve(graph::without_resource(name), permission_type) {
                    Resolution::Found(permission) => canonical = permission.name.clone(),
                    Resolution::WrongType { name: listed, available } => {
                        errors.add(
                            scope_type_id(index),
                            format!(
                                "{listed} exists in {} only as {} {} permission. Choose {}, or check the vendor's documentation",
                                api.label(),
                                article(available),
                                available.as_str(),
                                available.label().to_lowercase()
                            ),
                        );
                        continue;
                    }
                    Resolution::Unknown { suggestions } => {
                        let other_api = match api {
                            PermissionApi::ExchangeOnline => PermissionApi::MicrosoftGraph,
                            _ => PermissionApi::ExchangeOnline,
                        };
                        if let Some(listed) = catalogue_for(other_api).find(graph::without_resource(name)).first() {
                            errors.add(
                                scope_api_id(index),
                                format!(
                                    "{} is {} permission, not {} one. Choose {} as the API of permission {number}",
                                    listed.name,
                                    with_article(other_api.label()),
                                    with_article(api.label()),
                                    other_api.label()
                                ),
                            );
                            continue;
                        }
                        if lookup.contains(|ch: char| ch.is_whitespace() || ch == ',') {
                            // No permission name has a space or a comma, so it cannot be kept as typed.
                            let advice = match suggestions.as_slice() {
                                [] => String::new(),
                                [only, ..] => format!(" Did you mean {only}?"),
                            };
                            errors.add(
                                &name_id,
                                format!(
                                    "Enter one permission in each row, without spaces or commas, such as Mail.Send. Add a row for each further permission.{advice}"
                                ),
                            );
                            continue;
                        } else if self.is_confirmed(name) {
                            unlisted = true;
                        } else {
                            errors.add(&name_id, unknown_name_message(number, name, api, &suggestions));
                            continue;
                        }
                    }
                }
            }
            let scope = Scope {
                api,
                api_name: scope_api_name,
                name: canonical,
                permission_type,
                unlisted,
                justification: (!justification.is_empty()).then(|| justification.to_owned()),
            };
            let same = |other: &Scope| {
                other.api == scope.api
                    && other.api_name.as_deref().map(str::to_lowercase)
                        == scope.api_name.as_deref().map(str::to_lowercase)
                    && other.name.eq_ignore_ascii_case(&scope.name)
                    && other.permission_type == scope.permission_type
            };
            if let Some((earlier, _)) = scopes.iter().find(|(_, other)| same(other)) {
                errors.add(
                    &name_id,
                    format!("Permission {number} repeats permission {}. Remove one of them", earlier + 1),
                );
                continue;
            }
            scopes.push((index, scope));
        }
        if scopes.is_empty() && errors.list.iter().all(|error| !error.field.starts_with("scope_")) {
            errors.add(scope_name_id(0), "Enter at least one permission or scope that the application needs");
        }
        scopes.into_iter().map(|(_, scope)| scope).collect()
    }
}

fn article(permission_type: PermissionType) -> &'static str {
    match permission_type {
        PermissionType::Application => "an",
        PermissionType::Delegated => "a",
    }
}

/// Finds the built-in API an "another API" name really means, such as
/// "Microsoft Graph" or "Exchange Online", ignoring case and punctuation.
fn built_in_api(api_name: &str) -> Option<PermissionApi> {
    let folded: String = api_name.chars().filter(|ch| ch.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    match folded.as_str() {
        "microsoftgraph" | "graph" | "msgraph" | "graphapi" => Some(PermissionApi::MicrosoftGraph),
        "office365exchangeonline" | "exchangeonline" | "exchange" | "o365exchangeonline" => {
            Some(PermissionApi::ExchangeOnline)
        }
        _ => None,
    }
}

/// Explains why a name cannot be a Graph or Exchange Online permission at
/// all, before any catalogue lookup: a .default scope, or characters that
/// no such name has (every catalogue name is plain ASCII).
fn malformed_name_message(number: usize, name: &str, api: PermissionApi) -> Option<String> {
    if name.eq_ignore_ascii_case(".default") {
        return Some(format!(
            "Permission {number} is .default, which stands for every permission already granted to the application. List each permission the vendor's documentation names instead, one in each row"
        ));
    }
    if !name.is_ascii() {
        return Some(format!(
            "Permission {number} contains a character that no {} permission name has, such as a letter from another alphabet or an invisible character. Type the name again using plain letters",
            api.label()
        ));
    }
    None
}

/// Returns the catalogue a permission's name is checked against.
fn catalogue_for(api: PermissionApi) -> &'static Catalogue {
    match api {
        PermissionApi::ExchangeOnline => Catalogue::exchange_online(),
        _ => Catalogue::shipped(),
    }
}

#[derive(Template)]
#[template(path = "intake/app_registration_form.html")]
struct FormPage<'a> {
    chrome: Chrome,
    form: &'a AppRegistrationForm,
    links: Vec<LinkRow>,
    scopes: Vec<ScopeRow>,
    /// (value, label) of each API a permission can belong to.
    apis: Vec<(&'static str, &'static str)>,
    documents: &'a [DocumentSummary],
    document_hint: String,
    errors: FieldErrors,
    notice: Option<&'a str>,
    focus: Option<String>,
    documents_status: Option<String>,
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
    documents: &'a [DocumentSummary],
    /// Each permission with the notes a high-risk one carries.
    notes: Vec<(&'a Scope, Vec<&'static str>)>,
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
            scope_api: details.scopes.iter().map(|scope| scope.api.as_str().to_owned()).collect(),
            scope_api_name: details.scopes.iter().map(|scope| scope.api_name.clone().unwrap_or_default()).collect(),
            scope_name: details.scopes.iter().map(|scope| scope.name.clone()).collect(),
            scope_type: details.scopes.iter().map(|scope| scope.permission_type.as_str().to_owned()).collect(),
            scope_justification: details
                .scopes
                .iter()
                .map(|scope| scope.justification.clone().unwrap_or_default())
                .collect(),
            scope_confirmed: details
                .scopes
                .iter()
                .filter(|scope| scope.unlisted && scope.api != PermissionApi::Other)
                .map(|scope| scope.name.clone())
                .collect(),
            document: details.documents.iter().map(i64::to_string).collect(),
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
                // Keep the columns the same length before adding a row.
                let rows = self.scope_rows();
                self.set_scope_rows(&rows);
                if rows.len() >= MAX_SCOPES {
                    errors.add(scope_name_id(rows.len() - 1), format!("You can list at most {MAX_SCOPES} permissions"));
                } else {
                    for column in [
                        &mut self.scope_api,
                        &mut self.scope_api_name,
                        &mut self.scope_name,
                        &mut self.scope_type,
                        &mut self.scope_justification,
                    ] {
                        column.push(String::new());
                    }
                }
                Some(errors)
            }
            _ => None,
        }
    }

    fn compact_rows(&mut self) {
        drop_blank_rows_beyond(&mut self.vendor_link, MAX_LINKS);
        // Ids beyond any sensible count are not looked up.
        self.document.truncate(200);
        self.scope_confirmed.truncate(MAX_SCOPES);
        let rows = self.scope_rows();
        if rows.len() > MAX_SCOPES {
            let kept: Vec<ScopeRow> = rows
                .into_iter()
                .filter(|row| {
                    !row.name.trim().is_empty()
                        || !row.permission_type.trim().is_empty()
                        || !row.justification.trim().is_empty()
                })
                .collect();
            self.set_scope_rows(&kept);
        }
    }

    fn action(&self) -> &str {
        &self.action
    }

    fn added_row_focus(&self, action: &str) -> Option<String> {
        match action {
            "add_link" => Some(link_id(self.vendor_link.len().saturating_sub(1))),
            "add_scope" => Some(scope_api_id(self.scope_name.len().saturating_sub(1))),
            _ => None,
        }
    }

    fn field_order(&self) -> Vec<String> {
        let ids = |fields: &[&FieldName]| fields.iter().map(|field| field.id.to_owned()).collect::<Vec<_>>();
        let mut order = ids(&[&APPLICATION_NAME, &VENDOR, &BUSINESS_PURPOSE, &SENDING_ADDRESS]);
        order.extend((0..self.vendor_link.len().max(1)).map(link_id));
        order.push(crate::attachments::upload::FILE_FIELD.to_owned());
        for index in 0..self.scope_name.len().max(1) {
            order.extend([
                scope_api_id(index),
                scope_api_name_id(index),
                scope_name_id(index),
                scope_type_id(index),
                scope_justification_id(index),
            ]);
        }
        order.extend(ids(&[&REQUESTER_NAME, &REQUESTER_EMAIL, &DEPARTMENT]));
        order
    }

    fn document_ids(&self) -> &[String] {
        &self.document
    }

    fn set_document_ids(&mut self, ids: Vec<String>) {
        self.document = ids;
    }

    fn details_documents(details: &AppRegistrationDetails) -> &[i64] {
        &details.documents
    }

    fn validate(
        mut self,
        settings: &Settings,
        documents: &[DocumentSummary],
    ) -> Result<AppRegistrationDetails, (Self, FieldErrors)> {
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
        let vendor_links = check_links(&mut errors, &self.vendor_link, false);
        if vendor_links.is_empty() && documents.is_empty() && errors.get(&link_id(0)).is_none() {
            errors.add(
                link_id(0),
                "Give at least one link to the vendor's documentation, or upload a document from the vendor",
            );
        }
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
            documents: documents.iter().map(|document| document.id).collect(),
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

    fn render_form(&self, view: FormView<'_>) -> Result<String, askama::Error> {
        FormPage {
            chrome: view.chrome,
            form: self,
            links: link_rows(&self.vendor_link),
            scopes: self.rendered_scope_rows(&view.errors),
            apis: PermissionApi::ALL.iter().map(|api| (api.as_str(), api.label())).collect(),
            document_hint: documents::form_hint(&view.settings.uploads),
            documents: view.documents,
            errors: view.errors,
            notice: view.notice,
            focus: view.focus,
            documents_status: view.documents_status,
            sender_hint: format!(
                "The From address, a university mailbox such as bookings@{}.",
                view.settings.allowed_sender_domains.first().map_or("uwaterloo.ca", String::as_str)
            ),
        }
        .render()
    }

    fn render_check(
        chrome: Chrome,
        details: &AppRegistrationDetails,
        submission_key: Uuid,
        answers: Vec<AnswerRow>,
        documents: &[DocumentSummary],
    ) -> Result<String, askama::Error> {
        let notes = details.scopes.iter().map(|scope| (scope, risk::requester_notes(scope))).collect();
        CheckPage { chrome, details, submission_key, answers, documents, notes }.render()
    }
}
