//! Reviewer actions posted from the request page. Each handler checks its
//! form, then hands the action to `requests::actions`. A form with mistakes,
//! a stale page or a rejected transition re-renders the page with the values
//! the reviewer typed.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::detail::{ActionForms, load, render_detail};
use crate::intake::forms::has_control_characters;
use crate::notify::{self, Notice};
use crate::requests::actions::{self, ActionError, ActionInput, CredentialType, EditableField, RegistrationRecord};
use crate::requests::status::Actor;
use crate::requests::{PermissionApi, PermissionType, RequestKind, Scope};
use crate::web::form::FieldErrors;
use crate::web::{AppError, ReviewerPage};

const MAX_TEXT_CHARS: usize = 8000;

fn detail_url(reference: &str) -> String {
    format!("/review/{reference}")
}

/// Checks a required free-text field and returns it trimmed.
fn required_text(errors: &mut FieldErrors, id: &str, value: &str, missing: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.add(id, missing);
    } else if value.chars().count() > MAX_TEXT_CHARS {
        errors.add(id, format!("Shorten this to {MAX_TEXT_CHARS} characters or fewer"));
    } else if has_control_characters(value) {
        errors.add(id, "Remove the control characters, such as null bytes, from this text");
    }
    value.to_owned()
}

/// Applies an action and responds with a redirect to the request, or with the
/// page re-rendered when the request changed or the action is not allowed.
async fn run(
    reviewer: &ReviewerPage,
    reference: &str,
    version: i32,
    input: ActionInput,
    forms: ActionForms,
) -> Result<Response, AppError> {
    let full = load(reviewer, reference).await?;
    let notice = match &input {
        ActionInput::AskQuestion { .. } => Some(Notice::Question),
        ActionInput::Approve { .. } | ActionInput::Reject { .. } | ActionInput::Complete { .. } => {
            Some(Notice::Decision)
        }
        _ => None,
    };
    let mut tx = reviewer.page.state.db.begin().await?;
    let result = actions::apply(&mut tx, full.request.id, version, reviewer.user.id, Actor::Reviewer, input).await;
    match result {
        Ok(status) => {
            if let Some(notice) = notice {
                notify::enqueue(&mut tx, &reviewer.page.state.settings, full.request.id.0, &notice).await?;
            }
            tx.commit().await?;
            tracing::info!(
                reference,
                user_id = reviewer.user.id.0,
                status = status.as_str(),
                "request {reference} is now {}",
                status.as_str()
            );
            Ok(Redirect::to(&detail_url(reference)).into_response())
        }
        Err(ActionError::Conflict { .. }) => {
            drop(tx);
            let current = load(reviewer, reference).await?;
            let banner = format!(
                "This request changed since you opened it, so nothing was saved. It is now {}. Check its current state below, then try again.",
                current.request.status.label().to_lowercase()
            );
            render_detail(reviewer, current, ActionForms { banner: Some(banner), ..forms }, StatusCode::CONFLICT)
        }
        Err(ActionError::Transition(error)) => {
            drop(tx);
            render_detail(reviewer, full, ActionForms { banner: Some(error.message), ..forms }, StatusCode::CONFLICT)
        }
        Err(ActionError::NotFound) => Err(AppError::NotFound),
        Err(ActionError::Database(err)) => Err(err.into()),
    }
}

async fn rerender(reviewer: &ReviewerPage, reference: &str, forms: ActionForms) -> Result<Response, AppError> {
    let full = load(reviewer, reference).await?;
    render_detail(reviewer, full, forms, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    version: i32,
}

pub async fn take(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<VersionForm>,
) -> Result<Response, AppError> {
    run(&reviewer, &reference, form.version, ActionInput::Take, ActionForms::default()).await
}

#[derive(Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    version: i32,
    #[serde(default, rename = "question_text")]
    question: String,
    #[serde(default)]
    fields: Vec<String>,
}

pub async fn ask_question(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    let allowed = EditableField::for_kind(full.request.kind);
    let mut errors = FieldErrors::default();
    let question = required_text(&mut errors, "question_text", &form.question, "Enter the question for the requester");
    let fields: Vec<EditableField> =
        form.fields.iter().filter_map(|id| EditableField::parse(id)).filter(|field| allowed.contains(field)).collect();
    if fields.is_empty() || fields.len() != form.fields.len() {
        let first = allowed.first().map_or("application_name", |field| field.id());
        errors.add(format!("question_field_{first}"), "Choose at least one field the requester should change");
    }
    let forms = ActionForms {
        question: form.question.clone(),
        question_fields: form.fields.clone(),
        errors,
        ..Default::default()
    };
    if !forms.errors.is_empty() {
        return rerender(&reviewer, &reference, forms).await;
    }
    run(&reviewer, &reference, form.version, ActionInput::AskQuestion { question, fields }, forms).await
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    version: i32,
    #[serde(default, rename = "reject_reason")]
    reason: String,
}

pub async fn reject(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<RejectForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let reason =
        required_text(&mut errors, "reject_reason", &form.reason, "Enter the reason for rejecting the request");
    let forms = ActionForms { reason: form.reason.clone(), errors, ..Default::default() };
    if !forms.errors.is_empty() {
        return rerender(&reviewer, &reference, forms).await;
    }
    run(&reviewer, &reference, form.version, ActionInput::Reject { reason }, forms).await
}

#[derive(Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    version: i32,
    #[serde(default, rename = "complete_advice")]
    advice: String,
}

pub async fn complete(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<CompleteForm>,
) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    let mut errors = FieldErrors::default();
    let advice = if full.request.kind == RequestKind::ExceptionReview || !form.advice.trim().is_empty() {
        Some(required_text(&mut errors, "complete_advice", &form.advice, "Enter the advice you gave the requester"))
    } else {
        None
    };
    let forms = ActionForms { advice: form.advice.clone(), errors, ..Default::default() };
    if !forms.errors.is_empty() {
        return rerender(&reviewer, &reference, forms).await;
    }
    run(&reviewer, &reference, form.version, ActionInput::Complete { advice }, forms).await
}

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    version: i32,
    #[serde(default, rename = "approve_client_id")]
    client_id: String,
    #[serde(default, rename = "approve_tenant")]
    tenant: String,
    #[serde(default)]
    credential_type: String,
    #[serde(default, rename = "approve_expires_on")]
    expires_on: String,
    #[serde(default)]
    granted_api: Vec<String>,
    #[serde(default)]
    granted_api_name: Vec<String>,
    #[serde(default)]
    granted_name: Vec<String>,
    #[serde(default)]
    granted_type: Vec<String>,
}

/// Most granted-permission rows one approval may record.
const MAX_GRANTED: usize = 50;

fn check_registration(form: &ApproveForm, today: NaiveDate, errors: &mut FieldErrors) -> Option<RegistrationRecord> {
    let client_id = Uuid::parse_str(form.client_id.trim()).ok();
    if client_id.is_none() {
        errors.add(
            "approve_client_id",
            "Enter the application (client) ID as a GUID, like 11111111-2222-3333-4444-555555555555",
        );
    }
    let tenant =
        required_text(errors, "approve_tenant", &form.tenant, "Enter the tenant ID or domain, such as uwaterloo.ca");
    let credential_type = CredentialType::parse(form.credential_type.trim());
    if credential_type.is_none() {
        errors.add("approve_credential_type", "Choose whether the credential is a client secret or a certificate");
    }
    let expires_on = match NaiveDate::parse_from_str(form.expires_on.trim(), "%Y-%m-%d") {
        Ok(date) if date > today => Some(date),
        Ok(_) => {
            errors.add("approve_expires_on", "Enter an expiry date after today");
            None
        }
        Err(_) => {
            errors.add("approve_expires_on", "Enter the credential's expiry date as YYYY-MM-DD, such as 2027-06-30");
            None
        }
    };
    let mut granted = Vec::new();
    let rows = form.granted_name.len().max(form.granted_type.len());
    for index in 0..rows {
        let name = form.granted_name.get(index).map_or("", |name| name.trim());
        let kind = form.granted_type.get(index).map_or("", |kind| kind.trim());
        let api = form.granted_api.get(index).and_then(|api| PermissionApi::parse(api.trim())).unwrap_or_default();
        let api_name = form.granted_api_name.get(index).map_or("", |api_name| api_name.trim());
        if name.is_empty() && kind.is_empty() {
            continue;
        }
        let permission_type = PermissionType::parse(kind);
        if name.is_empty()
            || name.chars().any(char::is_whitespace)
            || has_control_characters(name)
            || name.chars().count() > 200
        {
            errors.add(
                format!("granted_name_{index}"),
                format!("Enter granted permission {} as it appears in Entra ID, such as Mail.Send", index + 1),
            );
        } else if permission_type.is_none() {
            errors.add(
                format!("granted_type_{index}"),
                format!("Choose whether granted permission {} is delegated or application", index + 1),
            );
        }
        let named_api = api == PermissionApi::Other && !api_name.is_empty();
        if api == PermissionApi::Other
            && (api_name.is_empty() || has_control_characters(api_name) || api_name.chars().count() > 100)
        {
            errors.add(
                format!("granted_api_name_{index}"),
                format!(
                    "Enter the name of the API that granted permission {} belongs to, such as SharePoint",
                    index + 1
                ),
            );
        }
        if let (false, Some(permission_type)) = (name.is_empty(), permission_type) {
            let scope = Scope {
                api,
                api_name: named_api.then(|| api_name.to_owned()),
                unlisted: api == PermissionApi::Other,
                ..Scope::graph(name, permission_type)
            };
            if granted.contains(&scope) {
                errors.add(
                    format!("granted_name_{index}"),
                    format!("Granted permission {} is listed twice; remove one", index + 1),
                );
            } else if granted.len() == MAX_GRANTED {
                errors.add(format!("granted_name_{index}"), format!("List at most {MAX_GRANTED} granted permissions"));
                break;
            } else {
                granted.push(scope);
            }
        }
    }
    if granted.is_empty() && !errors.list.iter().any(|error| error.field.starts_with("granted_")) {
        errors.add("granted_name_0", "Enter at least one permission that IST granted");
    }
    Some(RegistrationRecord {
        client_id: client_id?,
        tenant,
        credential_type: credential_type?,
        credential_expires_on: expires_on?,
        granted,
    })
}

pub async fn approve(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    let mut errors = FieldErrors::default();
    let registration = if full.request.kind == RequestKind::AppRegistration {
        let today = Utc::now().with_timezone(&reviewer.page.state.settings.time_zone).date_naive();
        check_registration(&form, today, &mut errors)
    } else {
        None
    };
    let forms = ActionForms {
        client_id: form.client_id.clone(),
        tenant: form.tenant.clone(),
        credential_type: form.credential_type.clone(),
        expires_on: form.expires_on.clone(),
        granted_api: form.granted_api.clone(),
        granted_api_name: form.granted_api_name.clone(),
        granted_name: form.granted_name.clone(),
        granted_type: form.granted_type.clone(),
        errors,
        ..Default::default()
    };
    if !forms.errors.is_empty() {
        return rerender(&reviewer, &reference, forms).await;
    }
    run(&reviewer, &reference, form.version, ActionInput::Approve { registration }, forms).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default, rename = "note_body")]
    body: String,
    /// `reply` for a message the requester sees; anything else is internal.
    #[serde(default)]
    visibility: String,
    /// `preview` shows the reply as the requester will see it without sending it.
    #[serde(default)]
    action: String,
}

pub async fn add_note(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    let reply = form.visibility == "reply";
    let mut errors = FieldErrors::default();
    let missing = if reply { "Enter the reply to the requester" } else { "Enter the internal note" };
    let body = required_text(&mut errors, "note_body", &form.body, missing);
    let mut forms = ActionForms { note_body: form.body.clone(), note_reply: reply, errors, ..Default::default() };
    if !forms.errors.is_empty() {
        return render_detail(&reviewer, full, forms, StatusCode::UNPROCESSABLE_ENTITY);
    }
    if form.action == "preview" {
        if reply {
            forms.preview = Some(body);
        } else {
            forms.banner = Some(
                "Internal notes are never shown to the requester, so there is nothing to preview. Choose \"The requester too\" to preview a reply.".to_owned(),
            );
        }
        return render_detail(&reviewer, full, forms, StatusCode::OK);
    }
    let mut tx = reviewer.page.state.db.begin().await?;
    actions::add_note(&mut tx, full.request.id, reviewer.user.id, &body, !reply).await?;
    if reply {
        let notice = Notice::Reply { body };
        notify::enqueue(&mut tx, &reviewer.page.state.settings, full.request.id.0, &notice).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&detail_url(&reference)).into_response())
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// `me` assigns the request to the signed-in reviewer; `none` unassigns it.
    #[serde(default)]
    assignee: String,
}

pub async fn assign(
    reviewer: ReviewerPage,
    Path(reference): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    let assignee = match form.assignee.as_str() {
        "me" => Some(reviewer.user.id),
        "none" => None,
        _ => return Err(AppError::NotFound),
    };
    let mut tx = reviewer.page.state.db.begin().await?;
    let changed = actions::assign(&mut tx, &[full.request.id], assignee, reviewer.user.id).await?;
    tx.commit().await?;
    let taken_by_other = assignee.is_some() && changed == 0 && full.request.assignee_id != assignee;
    if taken_by_other {
        let current = load(&reviewer, &reference).await?;
        let holder = current.request.assignee_name.clone().unwrap_or_else(|| "another reviewer".to_owned());
        let banner = format!(
            "This request is assigned to {holder}, so it was not reassigned. Unassign it first to take it over."
        );
        return render_detail(
            &reviewer,
            current,
            ActionForms { banner: Some(banner), ..Default::default() },
            StatusCode::CONFLICT,
        );
    }
    Ok(Redirect::to(&detail_url(&reference)).into_response())
}
