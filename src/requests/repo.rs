//! SQL for requests. Functions take `&mut PgConnection` so the caller owns
//! the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::{NewRequest, PermissionType, RequestKind, RequestStatus, StoredAnswer};
use crate::accounts::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct RequestId(pub i64);

/// The result of a submit: the request's reference, and whether this call
/// created it or found one already made from the same submission key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub id: i64,
    pub reference: String,
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("submission key {0} belongs to another user's request")]
    ForeignSubmissionKey(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Data stored with a request besides its own fields.
pub struct SubmitContext<'a> {
    pub requester: UserId,
    pub answers: &'a [StoredAnswer],
    pub policy_version: &'a str,
    pub submission_key: Uuid,
    /// The year in the reference, in the university's time zone.
    pub year: i32,
}

/// Builds a reference such as IST-AR-2026-000123 from a request's kind,
/// year and number within that kind and year.
pub fn format_reference(kind: RequestKind, year: i32, number: i32) -> String {
    format!("IST-{}-{year:04}-{number:06}", kind.reference_code())
}

async fn find_by_submission_key(
    conn: &mut PgConnection,
    key: Uuid,
) -> Result<Option<(i64, String, UserId)>, sqlx::Error> {
    sqlx::query_as("SELECT id, reference, requester_id FROM requests WHERE submission_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Returns the reference of the request this user already created with this key.
pub async fn find_submitted(
    conn: &mut PgConnection,
    requester: UserId,
    key: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    let found = find_by_submission_key(conn, key).await?;
    Ok(found.filter(|(_, _, owner)| *owner == requester).map(|(_, reference, _)| reference))
}

/// Stores a new request with its scopes, links and first history event.
/// A second call with the same submission key creates nothing and returns
/// the first request's reference, even when both calls race. The caller
/// should then roll back, which gives back the reference number it took.
pub async fn insert_request(
    conn: &mut PgConnection,
    request: &NewRequest,
    context: SubmitContext<'_>,
) -> Result<Submission, SubmitError> {
    if let Some((id, reference, owner)) = find_by_submission_key(&mut *conn, context.submission_key).await? {
        return existing_submission(id, reference, owner, &context);
    }

    let kind = request.kind();
    // The counter row stays locked until the caller's transaction ends, so
    // concurrent submits of one kind take numbers one after another, and a
    // rolled-back submit leaves no gap.
    let number: i32 = sqlx::query_scalar(
        "INSERT INTO request_reference_counters (kind, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (kind, year) DO UPDATE SET last_number = request_reference_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(kind)
    .bind(context.year)
    .fetch_one(&mut *conn)
    .await?;
    let reference = format_reference(kind, context.year, number);

    let empty = Vec::new();
    let (requester, vendor_links, scopes) = match request {
        NewRequest::AppRegistration(details) => (&details.requester, &details.vendor_links, &details.scopes),
        NewRequest::Exception(details) => (&details.requester, &details.vendor_links, &empty),
    };
    let insert = sqlx::query_scalar::<_, RequestId>(
        "INSERT INTO requests (
             reference, kind, requester_id, requester_name, requester_email, department,
             application_name, vendor, business_purpose, sending_address, application_details,
             hosting_location, authentication_method, sending_pattern, expected_volume,
             unmet_requirements, tree_answers, policy_version, submission_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (submission_key) DO NOTHING
         RETURNING id",
    )
    .bind(&reference)
    .bind(kind)
    .bind(context.requester)
    .bind(&requester.name)
    .bind(&requester.email)
    .bind(&requester.department);
    let insert = match request {
        NewRequest::AppRegistration(details) => insert
            .bind(&details.application_name)
            .bind(Some(&details.vendor))
            .bind(Some(&details.business_purpose))
            .bind(Some(&details.sending_address))
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(Vec::<String>::new()),
        NewRequest::Exception(details) => insert
            .bind(&details.application_name)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(details.sending_address.as_ref())
            .bind(Some(&details.application_details))
            .bind(Some(&details.hosting_location))
            .bind(Some(&details.authentication_method))
            .bind(Some(&details.sending_pattern))
            .bind(Some(&details.expected_volume))
            .bind(&details.unmet_requirements),
    };
    let inserted = insert
        .bind(Json(context.answers))
        .bind(context.policy_version)
        .bind(context.submission_key)
        .fetch_optional(&mut *conn)
        .await?;

    let Some(id) = inserted else {
        // Another submit with the same key committed first.
        let (id, reference, owner) =
            find_by_submission_key(&mut *conn, context.submission_key).await?.ok_or(sqlx::Error::RowNotFound)?;
        return existing_submission(id, reference, owner, &context);
    };

    for (position, url) in vendor_links.iter().enumerate() {
        sqlx::query("INSERT INTO request_vendor_links (request_id, position, url) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(position as i32)
            .bind(url)
            .execute(&mut *conn)
            .await?;
    }
    for (position, scope) in scopes.iter().enumerate() {
        sqlx::query(
            "INSERT INTO request_scopes (request_id, position, api, api_name, name, permission_type, unlisted, justification)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(position as i32)
        .bind(scope.api)
        .bind(&scope.api_name)
        .bind(&scope.name)
        .bind(scope.permission_type)
        .bind(scope.unlisted)
        .bind(&scope.justification)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO request_events (request_id, kind, actor_id, from_status, to_status)
         VALUES ($1, 'status_changed', $2, NULL, 'submitted')",
    )
    .bind(id)
    .bind(context.requester)
    .execute(&mut *conn)
    .await?;

    Ok(Submission { id: id.0, reference, created: true })
}

fn existing_submission(
    id: i64,
    reference: String,
    owner: UserId,
    context: &SubmitContext<'_>,
) -> Result<Submission, SubmitError> {
    if owner == context.requester {
        Ok(Submission { id, reference, created: false })
    } else {
        Err(SubmitError::ForeignSubmissionKey(context.submission_key))
    }
}

/// A row of the queue or of a requester's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestSummary {
    pub reference: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub application_name: String,
    pub requester_name: String,
    pub requester_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SUMMARY_COLUMNS: &str =
    "reference, kind, status, application_name, requester_name, requester_email, created_at, updated_at";

pub async fn list_for_requester(
    conn: &mut PgConnection,
    requester: UserId,
) -> Result<Vec<RequestSummary>, sqlx::Error> {
    let sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM requests WHERE requester_id = $1 ORDER BY created_at DESC, id DESC");
    sqlx::query_as(&sql).bind(requester).fetch_all(conn).await
}

/// Every stored field of one request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestDetail {
    pub id: RequestId,
    pub reference: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub requester_id: UserId,
    pub requester_name: String,
    pub requester_email: String,
    pub department: String,
    pub application_name: String,
    pub vendor: Option<String>,
    pub business_purpose: Option<String>,
    pub sending_address: Option<String>,
    pub application_details: Option<String>,
    pub hosting_location: Option<String>,
    pub authentication_method: Option<String>,
    pub sending_pattern: Option<String>,
    pub expected_volume: Option<String>,
    pub unmet_requirements: Vec<String>,
    pub tree_answers: Json<Vec<StoredAnswer>>,
    pub policy_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub rejection_reason: Option<String>,
    pub advice: Option<String>,
    pub open_question: Option<String>,
    pub question_fields: Vec<String>,
    /// The signed-in account that submitted the request; the requester
    /// name and email above are what that person typed on the form.
    pub account_name: String,
    pub account_email: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredScope {
    pub api: super::PermissionApi,
    pub api_name: Option<String>,
    pub name: String,
    pub permission_type: PermissionType,
    pub unlisted: bool,
    pub justification: Option<String>,
}

impl From<StoredScope> for super::Scope {
    fn from(stored: StoredScope) -> Self {
        super::Scope {
            api: stored.api,
            api_name: stored.api_name,
            name: stored.name,
            permission_type: stored.permission_type,
            unlisted: stored.unlisted,
            justification: stored.justification,
        }
    }
}

/// One history event, with the names of the people involved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryEvent {
    /// The `request_event_kind` value, such as `status_changed` or `note`.
    pub kind: String,
    pub actor_name: String,
    pub from_status: Option<RequestStatus>,
    pub to_status: Option<RequestStatus>,
    pub body: Option<String>,
    pub field: Option<String>,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    pub assignee_name: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// Registration IST created for an approved app registration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CreatedRegistration {
    pub client_id: Uuid,
    pub tenant: String,
    pub credential_type: super::actions::CredentialType,
    pub credential_expires_on: chrono::NaiveDate,
}

/// Audience a request is loaded for. Requesters never receive internal notes,
/// so the query itself leaves them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Reviewer,
    Requester,
}

/// A request with its child rows and history.
#[derive(Debug, Clone)]
pub struct FullRequest {
    pub request: RequestDetail,
    pub vendor_links: Vec<String>,
    pub scopes: Vec<super::Scope>,
    pub documents: Vec<crate::attachments::store::DocumentSummary>,
    pub history: Vec<HistoryEvent>,
    pub registration: Option<CreatedRegistration>,
    pub granted: Vec<super::Scope>,
}

/// Checks that a string has the shape of a reference, such as IST-AR-2026-000123.
/// Anything else is not looked up, so a URL cannot pass arbitrary text to SQL.
pub fn is_reference(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let digits = |part: &str, min: usize| part.len() >= min && part.bytes().all(|byte| byte.is_ascii_digit());
    parts.len() == 4
        && parts[0] == "IST"
        && matches!(parts[1], "AR" | "EX")
        && parts[2].len() == 4
        && digits(parts[2], 4)
        && digits(parts[3], 6)
        && parts[3].len() <= 19
}

/// Returns the id and the requester of the request with this reference.
pub async fn find_owner(conn: &mut PgConnection, reference: &str) -> Result<Option<(i64, UserId)>, sqlx::Error> {
    if !is_reference(reference) {
        return Ok(None);
    }
    sqlx::query_as("SELECT id, requester_id FROM requests WHERE reference = $1")
        .bind(reference)
        .fetch_optional(conn)
        .await
}

/// Returns the id of the request with this reference.
pub async fn find_id(conn: &mut PgConnection, reference: &str) -> Result<Option<i64>, sqlx::Error> {
    if !is_reference(reference) {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT id FROM requests WHERE reference = $1").bind(reference).fetch_optional(conn).await
}

pub async fn find_by_reference(
    conn: &mut PgConnection,
    reference: &str,
    audience: Audience,
) -> Result<Option<FullRequest>, sqlx::Error> {
    if !is_reference(reference) {
        return Ok(None);
    }
    let request: Option<RequestDetail> = sqlx::query_as(
        "SELECT request.id, request.reference, request.kind, request.status, request.requester_id,
                request.requester_name, request.requester_email, request.department,
                request.application_name, request.vendor, request.business_purpose, request.sending_address,
                request.application_details, request.hosting_location, request.authentication_method,
                request.sending_pattern, request.expected_volume, request.unmet_requirements,
                request.tree_answers, request.policy_version, request.created_at, request.updated_at,
                request.version, request.assignee_id, assignee.display_name AS assignee_name,
                request.rejection_reason, request.advice, request.open_question, request.question_fields,
                account.display_name AS account_name, account.email AS account_email
         FROM requests AS request
         JOIN users AS account ON account.id = request.requester_id
         LEFT JOIN users AS assignee ON assignee.id = request.assignee_id
         WHERE request.reference = $1",
    )
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(request) = request else {
        return Ok(None);
    };

    let vendor_links =
        sqlx::query_scalar("SELECT url FROM request_vendor_links WHERE request_id = $1 ORDER BY position")
            .bind(request.id)
            .fetch_all(&mut *conn)
            .await?;
    let scopes = load_scopes(&mut *conn, request.id.0).await?;
    let documents = crate::attachments::store::list_for_request(&mut *conn, request.id.0).await?;
    let history = sqlx::query_as(
        "SELECT events.kind::text AS kind, actor.display_name AS actor_name, from_status, to_status, body,
                field, before_value, after_value, assignee.display_name AS assignee_name, occurred_at
         FROM request_events AS events
         JOIN users AS actor ON actor.id = events.actor_id
         LEFT JOIN users AS assignee ON assignee.id = events.assignee_id
         WHERE request_id = $1 AND ($2 OR events.kind <> 'note')
         ORDER BY occurred_at, events.id",
    )
    .bind(request.id)
    .bind(audience == Audience::Reviewer)
    .fetch_all(&mut *conn)
    .await?;
    let registration = sqlx::query_as(
        "SELECT client_id, tenant, credential_type, credential_expires_on
         FROM app_registrations_created WHERE request_id = $1",
    )
    .bind(request.id)
    .fetch_optional(&mut *conn)
    .await?;
    let granted: Vec<StoredScope> = sqlx::query_as(
        "SELECT api, api_name, name, permission_type, api = 'other' AS unlisted, NULL::text AS justification
         FROM granted_permissions WHERE request_id = $1 ORDER BY position",
    )
    .bind(request.id)
    .fetch_all(&mut *conn)
    .await?;
    let granted = granted.into_iter().map(super::Scope::from).collect();

    Ok(Some(FullRequest { request, vendor_links, scopes, documents, history, registration, granted }))
}

/// Loads the permission rows of one request, in the order they were entered.
pub async fn load_scopes(conn: &mut PgConnection, request_id: i64) -> Result<Vec<super::Scope>, sqlx::Error> {
    let rows: Vec<StoredScope> = sqlx::query_as(
        "SELECT api, api_name, name, permission_type, unlisted, justification
         FROM request_scopes WHERE request_id = $1 ORDER BY position",
    )
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(super::Scope::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_format_matches_is_reference() {
        let reference = format_reference(RequestKind::ExceptionReview, 2026, 42);
        assert_eq!(reference, "IST-EX-2026-000042");
        assert!(is_reference(&reference));
    }

    #[test]
    fn is_reference_rejects_other_text() {
        for value in [
            "",
            "IST-AR-2026-12",
            "IST-XX-2026-000001",
            "IST-AR-26-000001",
            "IST-AR-2026-00000a",
            "IST-AR-2026-000001\0",
        ] {
            assert!(!is_reference(value), "{value:?}");
        }
    }
}
