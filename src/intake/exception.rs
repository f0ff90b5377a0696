//! The request for review outside the standard process: how the
//! application is hosted, authenticates and sends, and which requirements
//! the tree found unmet.

use askama::Template;
use serde::Deserialize;
use uuid::Uuid;
use validator::Validate;

use super::app_registration::{DEPARTMENT, REQUESTER_EMAIL, REQUESTER_NAME};
use super::documents;
use super::forms::{
    FieldName, LinkRow, MAX_LINKS, add_link_row, check_email, check_links, check_text, drop_blank_rows_beyond, link_id,
    link_rows, trim,
};
use super::request_flow::{FormView, RequestForm};
use super::state::{AnswerRow, EXCEPTION_DRAFT_KEY};
use crate::accounts::User;
use crate::attachments::store::DocumentSummary;
use crate::attachments::upload;
use crate::config::Settings;
use crate::policy::{OutcomeKind, Path, Policy, PrefillField};
use crate::requests::{ExceptionDetails, NewRequest, RequesterDetails};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;

/// Most requirement lines one request may list.
const MAX_UNMET_LINES: usize = 20;

#[derive(Debug, Clone, Default, Deserialize, Validate)]
pub struct ExceptionForm {
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub application_name: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 4000))]
    pub application_details: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 500))]
    pub hosting_location: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 1000))]
    pub authentication_method: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 2000))]
    pub sending_pattern: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 500))]
    pub expected_volume: String,
    /// Optional here: the case may be exactly that no suitable address exists yet.
    #[serde(default)]
    #[validate(length(max = 254))]
    pub sending_address: String,
    #[serde(default)]
    pub vendor_link: Vec<String>,
    /// Ids of the documents uploaded with the form.
    #[serde(default)]
    pub document: Vec<String>,
    /// One requirement per line, pre-filled from the tree.
    #[serde(default)]
    #[validate(length(min = 1, max = 8000))]
    pub unmet_requirements: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub requester_name: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 254), email)]
    pub requester_email: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    pub department: String,
    #[serde(default)]
    pub action: String,
}

const APPLICATION_NAME: FieldName =
    FieldName { id: "application_name", noun: "the application name", title: "Application name", multiline: false };
const APPLICATION_DETAILS: FieldName = FieldName {
    id: "application_details",
    noun: "what the application does and why it sends email",
    title: "Application details",
    multiline: true,
};
const HOSTING_LOCATION: FieldName = FieldName {
    id: "hosting_location",
    noun: "where the application is hosted",
    title: "Hosting location",
    multiline: false,
};
const AUTHENTICATION_METHOD: FieldName = FieldName {
    id: "authentication_method",
    noun: "how the application authenticates to send email",
    title: "Authentication method",
    multiline: true,
};
const SENDING_PATTERN: FieldName = FieldName {
    id: "sending_pattern",
    noun: "when and to whom the application sends",
    title: "Sending pattern",
    multiline: true,
};
const EXPECTED_VOLUME: FieldName =
    FieldName { id: "expected_volume", noun: "the expected volume", title: "Expected volume", multiline: false };
const SENDING_ADDRESS: FieldName = FieldName {
    id: "sending_address",
    noun: "the sending email address",
    title: "Sending email address",
    multiline: false,
};
const UNMET_REQUIREMENTS: FieldName = FieldName {
    id: "unmet_requirements",
    noun: "the requirements your case does not meet",
    title: "Requirements not met",
    multiline: true,
};

fn requirement_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

#[derive(Template)]
#[template(path = "intake/exception_form.html")]
struct FormPage<'a> {
    chrome: Chrome,
    form: &'a ExceptionForm,
    links: Vec<LinkRow>,
    documents: &'a [DocumentSummary],
    document_hint: String,
    errors: FieldErrors,
    notice: Option<&'a str>,
    focus: Option<String>,
    documents_status: Option<String>,
}

#[derive(Template)]
#[template(path = "intake/exception_check.html")]
struct CheckPage<'a> {
    chrome: Chrome,
    details: &'a ExceptionDetails,
    submission_key: Uuid,
    answers: Vec<AnswerRow>,
    documents: &'a [DocumentSummary],
}

impl RequestForm for ExceptionForm {
    type Details = ExceptionDetails;

    const DRAFT_KEY: &'static str = EXCEPTION_DRAFT_KEY;
    const OUTCOME: OutcomeKind = OutcomeKind::Exception;
    const CHECK_RETURN_KEY: &'static str = "exception-check";
    const URL: &'static str = "/requests/new/exception";

    fn prefill(user: &User, policy: &Policy, path: &Path<'_>) -> Self {
        let mut form = ExceptionForm {
            requester_name: user.display_name.clone(),
            requester_email: user.email.clone(),
            department: user.department.clone().unwrap_or_default(),
            ..Default::default()
        };
        form.refresh_from_path(policy, path);
        form
    }

    fn refresh_from_path(&mut self, policy: &Policy, path: &Path<'_>) {
        let hosting = path.steps.iter().find(|step| step.question.fills == Some(PrefillField::HostingLocation));
        if let Some(step) = hosting {
            self.hosting_location = step.answer.label.clone();
        }
        let own_lines = requirement_lines(&self.unmet_requirements)
            .into_iter()
            .filter(|line| !policy.is_generated_requirement(line));
        let lines: Vec<String> = path.unmet_requirements().into_iter().chain(own_lines).collect();
        self.unmet_requirements = lines.join("\n");
    }

    fn from_details(details: &ExceptionDetails) -> Self {
        ExceptionForm {
            application_name: details.application_name.clone(),
            application_details: details.application_details.clone(),
            hosting_location: details.hosting_location.clone(),
            authentication_method: details.authentication_method.clone(),
            sending_pattern: details.sending_pattern.clone(),
            expected_volume: details.expected_volume.clone(),
            sending_address: details.sending_address.clone().unwrap_or_default(),
            vendor_link: details.vendor_links.clone(),
            document: details.documents.iter().map(i64::to_string).collect(),
            unmet_requirements: details.unmet_requirements.join("\n"),
            requester_name: details.requester.name.clone(),
            requester_email: details.requester.email.clone(),
            department: details.requester.department.clone(),
            action: String::new(),
        }
    }

    fn add_row(&mut self, action: &str) -> Option<FieldErrors> {
        (action == "add_link").then(|| add_link_row(&mut self.vendor_link))
    }

    fn compact_rows(&mut self) {
        drop_blank_rows_beyond(&mut self.vendor_link, MAX_LINKS);
        // Ids beyond any sensible count are not looked up.
        self.document.truncate(200);
    }

    fn action(&self) -> &str {
        &self.action
    }

    fn added_row_focus(&self, action: &str) -> Option<String> {
        (action == "add_link").then(|| link_id(self.vendor_link.len().saturating_sub(1)))
    }

    fn field_order(&self) -> Vec<String> {
        let ids = |fields: &[&FieldName]| fields.iter().map(|field| field.id.to_owned()).collect::<Vec<_>>();
        let mut order = ids(&[
            &APPLICATION_NAME,
            &APPLICATION_DETAILS,
            &HOSTING_LOCATION,
            &AUTHENTICATION_METHOD,
            &SENDING_PATTERN,
            &EXPECTED_VOLUME,
            &SENDING_ADDRESS,
        ]);
        order.extend((0..self.vendor_link.len().max(1)).map(link_id));
        order.push(upload::FILE_FIELD.to_owned());
        order.extend(ids(&[&UNMET_REQUIREMENTS, &REQUESTER_NAME, &REQUESTER_EMAIL, &DEPARTMENT]));
        order
    }

    fn document_ids(&self) -> &[String] {
        &self.document
    }

    fn set_document_ids(&mut self, ids: Vec<String>) {
        self.document = ids;
    }

    fn details_documents(details: &ExceptionDetails) -> &[i64] {
        &details.documents
    }

    fn validate(
        mut self,
        _settings: &Settings,
        documents: &[DocumentSummary],
    ) -> Result<ExceptionDetails, (Self, FieldErrors)> {
        for value in [
            &mut self.application_name,
            &mut self.application_details,
            &mut self.hosting_location,
            &mut self.authentication_method,
            &mut self.sending_pattern,
            &mut self.expected_volume,
            &mut self.sending_address,
            &mut self.unmet_requirements,
            &mut self.requester_name,
            &mut self.requester_email,
            &mut self.department,
        ] {
            trim(value);
        }
        let report = Validate::validate(&self).err().unwrap_or_default();
        let mut errors = FieldErrors::default();

        check_text(&mut errors, &report, &APPLICATION_NAME, &self.application_name);
        check_text(&mut errors, &report, &APPLICATION_DETAILS, &self.application_details);
        check_text(&mut errors, &report, &HOSTING_LOCATION, &self.hosting_location);
        check_text(&mut errors, &report, &AUTHENTICATION_METHOD, &self.authentication_method);
        check_text(&mut errors, &report, &SENDING_PATTERN, &self.sending_pattern);
        check_text(&mut errors, &report, &EXPECTED_VOLUME, &self.expected_volume);
        if !check_text(&mut errors, &report, &SENDING_ADDRESS, &self.sending_address) {
            check_email(&mut errors, &SENDING_ADDRESS, &self.sending_address);
        }
        let vendor_links = check_links(&mut errors, &self.vendor_link, false);
        let unmet = requirement_lines(&self.unmet_requirements);
        if !check_text(&mut errors, &report, &UNMET_REQUIREMENTS, &self.unmet_requirements)
            && unmet.len() > MAX_UNMET_LINES
        {
            errors.add(UNMET_REQUIREMENTS.id, format!("List at most {MAX_UNMET_LINES} requirements, one per line"));
        }
        check_text(&mut errors, &report, &REQUESTER_NAME, &self.requester_name);
        if !check_text(&mut errors, &report, &REQUESTER_EMAIL, &self.requester_email) {
            check_email(&mut errors, &REQUESTER_EMAIL, &self.requester_email);
        }
        check_text(&mut errors, &report, &DEPARTMENT, &self.department);

        if !errors.is_empty() {
            return Err((self, errors));
        }
        Ok(ExceptionDetails {
            application_name: self.application_name,
            application_details: self.application_details,
            hosting_location: self.hosting_location,
            authentication_method: self.authentication_method,
            sending_pattern: self.sending_pattern,
            expected_volume: self.expected_volume,
            sending_address: Some(self.sending_address).filter(|address| !address.is_empty()),
            vendor_links,
            documents: documents.iter().map(|document| document.id).collect(),
            unmet_requirements: unmet,
            requester: RequesterDetails {
                name: self.requester_name,
                email: self.requester_email,
                department: self.department,
            },
        })
    }

    fn into_request(details: ExceptionDetails) -> NewRequest {
        NewRequest::Exception(details)
    }

    fn render_form(&self, view: FormView<'_>) -> Result<String, askama::Error> {
        FormPage {
            chrome: view.chrome,
            form: self,
            links: link_rows(&self.vendor_link),
            document_hint: documents::form_hint(&view.settings.uploads),
            documents: view.documents,
            errors: view.errors,
            notice: view.notice,
            focus: view.focus,
            documents_status: view.documents_status,
        }
        .render()
    }

    fn render_check(
        chrome: Chrome,
        details: &ExceptionDetails,
        submission_key: Uuid,
        answers: Vec<AnswerRow>,
        documents: &[DocumentSummary],
    ) -> Result<String, askama::Error> {
        CheckPage { chrome, details, submission_key, answers, documents }.render()
    }
}
