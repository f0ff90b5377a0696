//! Reviewer and requester actions on a stored request, with their SQL.
//! Status changes go through [`status::transition`] and an optimistic
//! version check, inside the caller's transaction.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::repo::RequestId;
use super::status::{self, Action, Actor, TransitionError};
use super::{RequestKind, RequestStatus, Scope};
use crate::accounts::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "credential_type", rename_all = "snake_case")]
pub enum CredentialType {
    Secret,
    Certificate,
}

impl CredentialType {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "secret" => Some(CredentialType::Secret),
            "certificate" => Some(CredentialType::Certificate),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CredentialType::Secret => "Client secret",
            CredentialType::Certificate => "Certificate",
        }
    }
}

/// Registration IST created in Entra ID when it approved an app registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    pub client_id: Uuid,
    pub tenant: String,
    pub credential_type: CredentialType,
    pub credential_expires_on: NaiveDate,
    pub granted: Vec<Scope>,
}

/// A request field the requester changed while answering a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: EditableField,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Fields a reviewer may ask the requester to change. Each maps to one
/// column, so the SQL that updates it is fixed text.
// NOTE: vendor links and permission rows cannot be asked about yet; a
// reviewer asks in the question text and the requester replies in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditableField {
    ApplicationName,
    Vendor,
    BusinessPurpose,
    SendingAddress,
    ApplicationDetails,
    HostingLocation,
    AuthenticationMethod,
    SendingPattern,
    ExpectedVolume,
}

impl EditableField {
    pub const ALL: [EditableField; 9] = [
        EditableField::ApplicationName,
        EditableField::Vendor,
        EditableField::BusinessPurpose,
        EditableField::SendingAddress,
        EditableField::ApplicationDetails,
        EditableField::HostingLocation,
        EditableField::AuthenticationMethod,
        EditableField::SendingPattern,
        EditableField::ExpectedVolume,
    ];

    /// Returns the form field id, which is also the column name.
    pub fn id(self) -> &'static str {
        match self {
            EditableField::ApplicationName => "application_name",
            EditableField::Vendor => "vendor",
            EditableField::BusinessPurpose => "business_purpose",
            EditableField::SendingAddress => "sending_address",
            EditableField::ApplicationDetails => "application_details",
            EditableField::HostingLocation => "hosting_location",
            EditableField::AuthenticationMethod => "authentication_method",
            EditableField::SendingPattern => "sending_pattern",
            EditableField::ExpectedVolume => "expected_volume",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EditableField::ApplicationName => "Application name",
            EditableField::Vendor => "Vendor",
            EditableField::BusinessPurpose => "Business purpose",
            EditableField::SendingAddress => "Sending email address",
            EditableField::ApplicationDetails => "Application details",
            EditableField::HostingLocation => "Hosting location",
            EditableField::AuthenticationMethod => "Authentication method",
            EditableField::SendingPattern => "Sending pattern",
            EditableField::ExpectedVolume => "Expected volume",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.id() == id)
    }

    /// Lists the fields a request of this kind has.
    pub fn for_kind(kind: RequestKind) -> Vec<EditableField> {
        use EditableField::*;
        match kind {
            RequestKind::AppRegistration => vec![ApplicationName, Vendor, BusinessPurpose, SendingAddress],
            RequestKind::ExceptionReview => vec![
                ApplicationName,
                ApplicationDetails,
                HostingLocation,
                AuthenticationMethod,
                SendingPattern,
                ExpectedVolume,
                SendingAddress,
            ],
        }
    }

    fn update_sql(self) -> &'static str {
        match self {
            EditableField::ApplicationName => "UPDATE requests SET application_name = $2 WHERE id = $1",
            EditableField::Vendor => "UPDATE requests SET vendor = $2 WHERE id = $1",
            EditableField::BusinessPurpose => "UPDATE requests SET business_purpose = $2 WHERE id = $1",
            EditableField::SendingAddress => "UPDATE requests SET sending_address = $2 WHERE id = $1",
            EditableField::ApplicationDetails => "UPDATE requests SET application_details = $2 WHERE id = $1",
            EditableField::HostingLocation => "UPDATE requests SET hosting_location = $2 WHERE id = $1",
            EditableField::AuthenticationMethod => "UPDATE requests SET authentication_method = $2 WHERE id = $1",
            EditableField::SendingPattern => "UPDATE requests SET sending_pattern = $2 WHERE id = $1",
            EditableField::ExpectedVolume => "UPDATE requests SET expected_volume = $2 WHERE id = $1",
        }
    }
}

/// An action with the data it records.
#[derive(Debug, Clone)]
pub enum ActionInput {
    Take,
    AskQuestion {
        question: String,
        fields: Vec<EditableField>,
    },
    Answer {
        message: String,
        changes: Vec<FieldChange>,
    },
    /// `registration` is required for app registrations and ignored otherwise.
    Approve {
        registration: Option<RegistrationRecord>,
    },
    Reject {
        reason: String,
    },
    /// `advice` is required for exception reviews.
    Complete {
        advice: Option<String>,
    },
    Withdraw,
}

impl ActionInput {
    pub fn action(&self) -> Action {
        match self {
            ActionInput::Take => Action::Take,
            ActionInput::AskQuestion { .. } => Action::AskQuestion,
            ActionInput::Answer { .. } => Action::Answer,
            ActionInput::Approve { .. } => Action::Approve,
            ActionInput::Reject { .. } => Action::Reject,
            ActionInput::Complete { .. } => Action::Complete,
            ActionInput::Withdraw => Action::Withdraw,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("request not found")]
    NotFound,
    /// The request changed since the actor's page was rendered.
    #[error("the request changed since it was opened (now version {current_version})")]
    Conflict { current_version: i32 },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Current {
    kind: RequestKind,
    status: RequestStatus,
    version: i32,
}

/// Applies a status-changing action. The row is locked, the version
/// compared, the transition checked, and the change and its history event
/// written; on any error nothing is written.
pub async fn apply(
    conn: &mut PgConnection,
    request: RequestId,
    expected_version: i32,
    actor_id: UserId,
    actor: Actor,
    input: ActionInput,
) -> Result<RequestStatus, ActionError> {
    let current: Current = sqlx::query_as("SELECT kind, status, version FROM requests WHERE id = $1 FOR UPDATE")
        .bind(request)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(ActionError::NotFound)?;
    if current.version != expected_version {
        return Err(ActionError::Conflict { current_version: current.version });
    }
    let to = status::transition(current.kind, current.status, input.action(), actor)?;

    // Only a request waiting for its requester has an open question, and the
    // table's CHECK constraints see each statement whole, so the status and
    // the columns that go with it change in one UPDATE.
    let (question, question_fields): (Option<&str>, Vec<&str>) = match &input {
        ActionInput::AskQuestion { question, fields } => {
            (Some(question.as_str()), fields.iter().map(|field| field.id()).collect())
        }
        _ => (None, Vec::new()),
    };
    let rejection_reason = match &input {
        ActionInput::Reject { reason } => Some(reason.as_str()),
        _ => None,
    };
    let advice = match &input {
        ActionInput::Complete { advice } => advice.as_deref(),
        _ => None,
    };
    sqlx::query(
        "UPDATE requests
         SET status = $2, version = version + 1, updated_at = now(), review_clock_started_at = now(),
             open_question = $3, question_fields = $4,
             rejection_reason = coalesce($5, rejection_reason),
             advice = coalesce($6, advice),
             assignee_id = CASE WHEN $7 THEN coalesce(assignee_id, $8) ELSE assignee_id END
         WHERE id = $1",
    )
    .bind(request)
    .bind(to)
    .bind(question)
    .bind(&question_fields)
    .bind(rejection_reason)
    .bind(advice)
    // Taking a request assigns it to the reviewer unless someone already has it.
    .bind(matches!(input, ActionInput::Take))
    .bind(actor_id)
    .execute(&mut *conn)
    .await?;

    let body = match &input {
        ActionInput::Take | ActionInput::Withdraw => None,
        ActionInput::AskQuestion { question, .. } => Some(question.clone()),
        ActionInput::Answer { message, changes } => {
            for change in changes {
                sqlx::query(change.field.update_sql()).bind(request).bind(&change.after).execute(&mut *conn).await?;
                sqlx::query(
                    "INSERT INTO request_events (request_id, kind, actor_id, field, before_value, after_value)
                     VALUES ($1, 'field_changed', $2, $3, $4, $5)",
                )
                .bind(request)
                .bind(actor_id)
                .bind(change.field.id())
                .bind(&change.before)
                .bind(&change.after)
                .execute(&mut *conn)
                .await?;
            }
            Some(message.clone()).filter(|message| !message.is_empty())
        }
        ActionInput::Approve { registration } => {
            if let Some(record) = registration.as_ref().filter(|_| current.kind == RequestKind::AppRegistration) {
                insert_registration(conn, request, actor_id, record).await?;
            }
            None
        }
        ActionInput::Reject { reason } => Some(reason.clone()),
        ActionInput::Complete { advice } => advice.clone(),
    };

    sqlx::query(
        "INSERT INTO request_events (request_id, kind, actor_id, from_status, to_status, body)
         VALUES ($1, 'status_changed', $2, $3, $4, $5)",
    )
    .bind(request)
    .bind(actor_id)
    .bind(current.status)
    .bind(to)
    .bind(body)
    .execute(&mut *conn)
    .await?;
    Ok(to)
}

async fn insert_registration(
    conn: &mut PgConnection,
    request: RequestId,
    actor_id: UserId,
    record: &RegistrationRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO app_registrations_created (request_id, client_id, tenant, credential_type, credential_expires_on, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(request)
    .bind(record.client_id)
    .bind(&record.tenant)
    .bind(record.credential_type)
    .bind(record.credential_expires_on)
    .bind(actor_id)
    .execute(&mut *conn)
    .await?;
    for (position, scope) in record.granted.iter().enumerate() {
        sqlx::query(
            "INSERT INTO granted_permissions (request_id, position, api, api_name, name, permission_type)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(request)
        .bind(position as i32)
        .bind(scope.api)
        .bind(&scope.api_name)
        .bind(&scope.name)
        .bind(scope.permission_type)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Adds a note: internal (reviewers only) or a reply the requester sees.
pub async fn add_note(
    conn: &mut PgConnection,
    request: RequestId,
    actor_id: UserId,
    body: &str,
    internal: bool,
) -> Result<(), sqlx::Error> {
    let kind = if internal { "note" } else { "reply" };
    sqlx::query(
        "INSERT INTO request_events (request_id, kind, actor_id, body) VALUES ($1, $2::request_event_kind, $3, $4)",
    )
    .bind(request)
    .bind(kind)
    .bind(actor_id)
    .bind(body)
    .execute(&mut *conn)
    .await?;
    // A reply is a reviewer action and restarts the review clock; an internal note is not.
    sqlx::query(
        "UPDATE requests SET updated_at = now(),
             review_clock_started_at = CASE WHEN $2 THEN review_clock_started_at ELSE now() END
         WHERE id = $1",
    )
    .bind(request)
    .bind(internal)
    .execute(conn)
    .await?;
    Ok(())
}

/// Assigns requests to a reviewer, or unassigns them with `None`, and
/// records an event for each request whose assignee changed. A request
/// assigned to someone else is left as it is, so nobody takes over another
/// reviewer's request without unassigning it first. Assignment does not
/// restart the review clock, because it moves no request forward.
pub async fn assign(
    conn: &mut PgConnection,
    requests: &[RequestId],
    assignee: Option<UserId>,
    actor_id: UserId,
) -> Result<usize, sqlx::Error> {
    let ids: Vec<i64> = requests.iter().map(|id| id.0).collect();
    let changed: Vec<RequestId> = sqlx::query_scalar(
        "UPDATE requests SET assignee_id = $2, updated_at = now()
         WHERE id = ANY($1) AND assignee_id IS DISTINCT FROM $2 AND ($2 IS NULL OR assignee_id IS NULL)
         RETURNING id",
    )
    .bind(&ids)
    .bind(assignee)
    .fetch_all(&mut *conn)
    .await?;
    let kind = if assignee.is_some() { "assigned" } else { "unassigned" };
    for id in &changed {
        sqlx::query(
            "INSERT INTO request_events (request_id, kind, actor_id, assignee_id) VALUES ($1, $2::request_event_kind, $3, $4)",
        )
        .bind(id)
        .bind(kind)
        .bind(actor_id)
        .bind(assignee)
        .execute(&mut *conn)
        .await?;
    }
    Ok(changed.len())
}
