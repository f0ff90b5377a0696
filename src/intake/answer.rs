//! The requester's side of the workflow: answering a reviewer's question by
//! changing the fields asked about, and withdrawing a request.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::app_registration::AppRegistrationForm;
use super::exception::ExceptionForm;
use super::forms::has_control_characters;
use super::request_flow::RequestForm;
use crate::config::Settings;
use crate::notify::{self, Notice};
use crate::requests::actions::{self, ActionError, ActionInput, EditableField, FieldChange};
use crate::requests::repo::{self, FullRequest};
use crate::requests::status::{self, Action, Actor};
use crate::requests::{AppRegistrationDetails, RequestKind, RequesterDetails};
use crate::review::detail::RequestView;
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, SignedIn, render_with_status};

const MAX_MESSAGE_CHARS: usize = 8000;

/// One field the requester was asked to change, as rendered.
pub struct AnswerField {
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    /// Long text gets a textarea.
    pub multiline: bool,
}

#[derive(Template)]
#[template(path = "requests/detail.html")]
struct DetailPage {
    chrome: Chrome,
    view: RequestView,
    answer_fields: Vec<AnswerField>,
    message: String,
    errors: FieldErrors,
    banner: Option<String>,
    can_withdraw: bool,
    /// Documents can be added while the request waits on IST or on the requester.
    can_add_documents: bool,
    /// The request has as many documents as one request may.
    documents_full: bool,
    document_hint: String,
}

fn stored_value(full: &FullRequest, field: EditableField) -> Option<String> {
    let request = &full.request;
    match field {
        EditableField::ApplicationName => Some(request.application_name.clone()),
        EditableField::Vendor => request.vendor.clone(),
        EditableField::BusinessPurpose => request.business_purpose.clone(),
        EditableField::SendingAddress => request.sending_address.clone(),
        EditableField::ApplicationDetails => request.application_details.clone(),
        EditableField::HostingLocation => request.hosting_location.clone(),
        EditableField::AuthenticationMethod => request.authentication_method.clone(),
        EditableField::SendingPattern => request.sending_pattern.clone(),
        EditableField::ExpectedVolume => request.expected_volume.clone(),
    }
}

fn question_fields(full: &FullRequest) -> Vec<EditableField> {
    full.request.question_fields.iter().filter_map(|id| EditableField::parse(id)).collect()
}

fn is_multiline(field: EditableField) -> bool {
    matches!(
        field,
        EditableField::BusinessPurpose
            | EditableField::ApplicationDetails
            | EditableField::AuthenticationMethod
            | EditableField::SendingPattern
    )
}

pub async fn load_own(signed: &SignedIn, reference: &str) -> Result<FullRequest, AppError> {
    let mut conn = signed.page.state.db.acquire().await?;
    match repo::find_by_reference(&mut conn, reference, repo::Audience::Requester).await? {
        Some(found) if found.request.requester_id == signed.user.id => Ok(found),
        _ => Err(AppError::NotFound),
    }
}

/// Renders the requester's page for a request, with the answer form's values and errors.
pub fn render_own(
    signed: &SignedIn,
    full: FullRequest,
    submitted: Option<&HashMap<String, String>>,
    message: String,
    errors: FieldErrors,
    banner: Option<String>,
    status_code: StatusCode,
) -> Result<Response, AppError> {
    let answer_fields = question_fields(&full)
        .into_iter()
        .map(|field| AnswerField {
            id: field.id(),
            label: field.label(),
            value: submitted
                .and_then(|values| values.get(field.id()).cloned())
                .unwrap_or_else(|| stored_value(&full, field).unwrap_or_default()),
            multiline: is_multiline(field),
        })
        .collect();
    let can_withdraw =
        status::transition(full.request.kind, full.request.status, Action::Withdraw, Actor::Requester).is_ok();
    let document_count = full.documents.len();
    let documents_full = document_count >= signed.page.state.settings.uploads.max_files;
    let can_add_documents = crate::attachments::web::accepts_documents(full.request.status);
    let document_hint = format!(
        "{} Documents on this request so far: {document_count}. IST sees each file you add in the request's history.",
        super::documents::hint(&signed.page.state.settings.uploads)
    );
    let view = RequestView::new(full, signed.page.state.settings.time_zone);
    render_with_status(
        status_code,
        &DetailPage {
            chrome: signed.page.chrome(),
            view,
            answer_fields,
            message,
            errors,
            banner,
            can_withdraw,
            can_add_documents,
            documents_full,
            document_hint,
        },
    )
}

pub async fn detail(signed: SignedIn, Path(reference): Path<String>) -> Result<Response, AppError> {
    if signed.user.is_reviewer() {
        // A reviewer following a requester's link is sent to the reviewer's
        // page, unless the request is their own.
        let mut conn = signed.page.state.db.acquire().await?;
        if let Some((_, requester)) = repo::find_owner(&mut conn, &reference).await?
            && requester != signed.user.id
        {
            return Ok(Redirect::to(&format!("/review/{reference}")).into_response());
        }
    }
    let full = load_own(&signed, &reference).await?;
    render_own(&signed, full, None, String::new(), FieldErrors::default(), None, StatusCode::OK)
}

/// Checks the changed fields with the original form's rules, by running the
/// whole form with the stored values and keeping the errors on changed fields.
fn check_changes(
    full: &FullRequest,
    settings: &Settings,
    submitted: &HashMap<String, String>,
) -> Result<Vec<FieldChange>, FieldErrors> {
    let fields = question_fields(full);
    let value_of = |field: EditableField| {
        submitted.get(field.id()).cloned().unwrap_or_else(|| stored_value(full, field).unwrap_or_default())
    };
    let errors = match full.request.kind {
        RequestKind::AppRegistration => {
            let mut form = app_registration_form(full);
            for field in &fields {
                set_app_registration_field(&mut form, *field, value_of(*field));
            }
            RequestForm::validate(form, settings, &full.documents).err().map(|(_, errors)| errors)
        }
        RequestKind::ExceptionReview => {
            let mut form = exception_form(full);
            for field in &fields {
                set_exception_field(&mut form, *field, value_of(*field));
            }
            RequestForm::validate(form, settings, &full.documents).err().map(|(_, errors)| errors)
        }
    };
    let mut relevant = FieldErrors::default();
    for error in errors.map(|errors| errors.list).unwrap_or_default() {
        if fields.iter().any(|field| field.id() == error.field) {
            relevant.add(error.field, error.message);
        }
    }
    if !relevant.is_empty() {
        return Err(relevant);
    }

    let changes = fields
        .into_iter()
        .filter_map(|field| {
            let before = stored_value(full, field);
            let trimmed = value_of(field).trim().to_owned();
            let after = Some(trimmed).filter(|value| !value.is_empty());
            (before != after).then_some(FieldChange { field, before, after })
        })
        .collect();
    Ok(changes)
}

fn app_registration_form(full: &FullRequest) -> AppRegistrationForm {
    let request = &full.request;
    AppRegistrationForm::from_details(&AppRegistrationDetails {
        application_name: request.application_name.clone(),
        vendor: request.vendor.clone().unwrap_or_default(),
        business_purpose: request.business_purpose.clone().unwrap_or_default(),
        sending_address: request.sending_address.clone().unwrap_or_default(),
        vendor_links: full.vendor_links.clone(),
        documents: Vec::new(),
        scopes: full.scopes.clone(),
        requester: RequesterDetails {
            name: request.requester_name.clone(),
            email: request.requester_email.clone(),
            department: request.department.clone(),
        },
    })
}

fn set_app_registration_field(form: &mut AppRegistrationForm, field: EditableField, value: String) {
    match field {
        EditableField::ApplicationName => form.application_name = value,
        EditableField::Vendor => form.vendor = value,
        EditableField::BusinessPurpose => form.business_purpose = value,
        EditableField::SendingAddress => form.sending_address = value,
        _ => {}
    }
}

fn exception_form(full: &FullRequest) -> ExceptionForm {
    let request = &full.request;
    ExceptionForm {
        application_name: request.application_name.clone(),
        application_details: request.application_details.clone().unwrap_or_default(),
        hosting_location: request.hosting_location.clone().unwrap_or_default(),
        authentication_method: request.authentication_method.clone().unwrap_or_default(),
        sending_pattern: request.sending_pattern.clone().unwrap_or_default(),
        expected_volume: request.expected_volume.clone().unwrap_or_default(),
        sending_address: request.sending_address.clone().unwrap_or_default(),
        vendor_link: full.vendor_links.clone(),
        document: Vec::new(),
        unmet_requirements: request.unmet_requirements.join("\n"),
        requester_name: request.requester_name.clone(),
        requester_email: request.requester_email.clone(),
        department: request.department.clone(),
        action: String::new(),
    }
}

fn set_exception_field(form: &mut ExceptionForm, field: EditableField, value: String) {
    match field {
        EditableField::ApplicationName => form.application_name = value,
        EditableField::ApplicationDetails => form.application_details = value,
        EditableField::HostingLocation => form.hosting_location = value,
        EditableField::AuthenticationMethod => form.authentication_method = value,
        EditableField::SendingPattern => form.sending_pattern = value,
        EditableField::ExpectedVolume => form.expected_volume = value,
        EditableField::SendingAddress => form.sending_address = value,
        _ => {}
    }
}

/// The answer form: `version`, `message` and one entry per field asked about.
/// The fields are read from a map, because which ones are present depends on
/// the question.
#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

impl AnswerForm {
    fn version(&self) -> i32 {
        self.fields.get("version").and_then(|value| value.parse().ok()).unwrap_or_default()
    }

    fn message(&self) -> String {
        self.fields.get("message").cloned().unwrap_or_default()
    }
}

/// Maps an action's refusal to a page: a stale page or a closed request
/// re-renders with a message; anything else is an error.
async fn refused(
    signed: &SignedIn,
    reference: &str,
    error: ActionError,
    submitted: Option<&HashMap<String, String>>,
    message: String,
) -> Result<Response, AppError> {
    let banner = match error {
        ActionError::Conflict { .. } => {
            "This request changed since you opened it, so nothing was saved. Check its current state below.".to_owned()
        }
        ActionError::Transition(error) => error.message,
        ActionError::NotFound => return Err(AppError::NotFound),
        ActionError::Database(err) => return Err(err.into()),
    };
    let current = load_own(signed, reference).await?;
    render_own(signed, current, submitted, message, FieldErrors::default(), Some(banner), StatusCode::CONFLICT)
}

pub async fn answer(
    signed: SignedIn,
    Path(reference): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let full = load_own(&signed, &reference).await?;
    let mut errors = FieldErrors::default();
    let message = form.message().trim().to_owned();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        errors.add("answer_message", format!("Shorten your message to {MAX_MESSAGE_CHARS} characters or fewer"));
    } else if has_control_characters(&message) {
        errors.add("answer_message", "Remove the control characters, such as null bytes, from your message");
    }
    let changes = match check_changes(&full, &signed.page.state.settings, &form.fields) {
        Ok(changes) => Some(changes),
        Err(field_errors) => {
            for error in field_errors.list {
                errors.add(error.field, error.message);
            }
            None
        }
    };
    let Some(changes) = changes.filter(|_| errors.is_empty()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_own(&signed, full, Some(&form.fields), form.message(), errors, None, status);
    };

    let mut tx = signed.page.state.db.begin().await?;
    let notice = Notice::Answered { message: Some(message.clone()).filter(|message| !message.is_empty()) };
    let input = ActionInput::Answer { message, changes };
    match actions::apply(&mut tx, full.request.id, form.version(), signed.user.id, Actor::Requester, input).await {
        Ok(_) => {
            notify::enqueue(&mut tx, &signed.page.state.settings, full.request.id.0, &notice).await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/requests/{reference}")).into_response())
        }
        Err(error) => refused(&signed, &reference, error, Some(&form.fields), form.message()).await,
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    version: i32,
}

pub async fn withdraw(
    signed: SignedIn,
    Path(reference): Path<String>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, AppError> {
    let full = load_own(&signed, &reference).await?;
    let mut tx = signed.page.state.db.begin().await?;
    match actions::apply(
        &mut tx,
        full.request.id,
        form.version,
        signed.user.id,
        Actor::Requester,
        ActionInput::Withdraw,
    )
    .await
    {
        Ok(_) => {
            notify::enqueue(&mut tx, &signed.page.state.settings, full.request.id.0, &Notice::Withdrawn).await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/requests/{reference}")).into_response())
        }
        Err(error) => refused(&signed, &reference, error, None, String::new()).await,
    }
}
