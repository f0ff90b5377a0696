//! One request with every field, the tree's answers, the history and, for
//! reviewers, the actions that move it to a decision.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use chrono_tz::Tz;

use super::plan::{self, PlanInput, PlanStep};
use crate::graph::risk::{self, RiskRule};
use crate::requests::actions::EditableField;
use crate::requests::repo::{self, FullRequest, HistoryEvent};
use crate::requests::status::{self, Action, Actor};
use crate::requests::{PermissionApi, RequestStatus};
use crate::web::form::FieldErrors;
use crate::web::format;
use crate::web::page::Chrome;
use crate::web::{AppError, ReviewerPage, render_with_status};

/// A history line ready for display.
pub struct HistoryRow {
    pub when: String,
    pub age: String,
    pub actor: String,
    pub description: String,
    pub body: Option<String>,
    /// Internal notes are marked on the reviewer's page and never reach requesters.
    pub internal: bool,
}

fn field_label(id: &str) -> String {
    EditableField::parse(id).map_or_else(|| id.to_owned(), |field| field.label().to_owned())
}

fn describe(event: &HistoryEvent) -> (String, Option<String>) {
    use RequestStatus::*;
    let body = event.body.clone();
    match event.kind.as_str() {
        "status_changed" => {
            let text = match (event.from_status, event.to_status) {
                (None, _) => "Submitted the request".to_owned(),
                (Some(Submitted), Some(InReview)) => "Took the request for review".to_owned(),
                (_, Some(NeedsInfo)) => "Asked the requester a question".to_owned(),
                (Some(NeedsInfo), Some(InReview)) => "Answered the question".to_owned(),
                (_, Some(Approved)) => "Approved the request".to_owned(),
                (_, Some(Rejected)) => "Rejected the request".to_owned(),
                (_, Some(Completed)) => "Completed the request".to_owned(),
                (_, Some(Withdrawn)) => "Withdrew the request".to_owned(),
                (Some(from), Some(to)) => format!("Changed the status from {} to {}", from.label(), to.label()),
                (Some(_), None) => "Changed the status".to_owned(),
            };
            (text, body)
        }
        "assigned" => {
            (format!("Assigned the request to {}", event.assignee_name.as_deref().unwrap_or("a reviewer")), None)
        }
        "unassigned" => ("Removed the assignee".to_owned(), None),
        "document_added" => ("Added a document".to_owned(), body),
        "note" => ("Internal note".to_owned(), body),
        "reply" => ("Replied to the requester".to_owned(), body),
        "field_changed" => {
            let label = field_label(event.field.as_deref().unwrap_or_default());
            let before = event.before_value.as_deref().unwrap_or("(empty)");
            let after = event.after_value.as_deref().unwrap_or("(empty)");
            (format!("Changed {label}"), Some(format!("Before: {before}\nAfter: {after}")))
        }
        other => (other.replace('_', " "), body),
    }
}

/// A stored request prepared for a page, with times in the configured zone.
pub struct RequestView {
    pub full: FullRequest,
    pub submitted: String,
    pub submitted_age: String,
    pub history: Vec<HistoryRow>,
    /// Labels of the fields the open question asks the requester to change.
    pub question_field_labels: Vec<String>,
    /// Each requested permission with the risk flags it raises.
    pub scope_rows: Vec<ScopeView>,
    /// Shows risk flags, which are written for reviewers.
    pub for_reviewer: bool,
}

/// A requested permission with its risk flags.
pub struct ScopeView {
    pub scope: crate::requests::Scope,
    pub flags: Vec<&'static RiskRule>,
}

impl RequestView {
    pub fn new(full: FullRequest, zone: Tz) -> RequestView {
        let now = Utc::now();
        let history = full
            .history
            .iter()
            .map(|event| {
                let (description, body) = describe(event);
                HistoryRow {
                    when: format::local_time(event.occurred_at, zone),
                    age: format::age(event.occurred_at, now),
                    actor: event.actor_name.clone(),
                    description,
                    body,
                    internal: event.kind == "note",
                }
            })
            .collect();
        let question_field_labels = full.request.question_fields.iter().map(|id| field_label(id)).collect();
        let scope_rows =
            full.scopes.iter().map(|scope| ScopeView { scope: scope.clone(), flags: risk::flags(scope) }).collect();
        RequestView {
            scope_rows,
            for_reviewer: false,
            submitted: format::local_time(full.request.created_at, zone),
            submitted_age: format::age(full.request.created_at, now),
            history,
            question_field_labels,
            full,
        }
    }

    pub fn is_app_registration(&self) -> bool {
        self.full.request.kind == crate::requests::RequestKind::AppRegistration
    }
}

/// Values and errors of the reviewer's action forms, kept when one is re-rendered.
#[derive(Default)]
pub struct ActionForms {
    pub errors: FieldErrors,
    /// A message at the top, such as a conflict with another reviewer.
    pub banner: Option<String>,
    pub question: String,
    pub question_fields: Vec<String>,
    pub reason: String,
    pub advice: String,
    pub note_body: String,
    pub note_reply: bool,
    /// The reply exactly as the requester will see it, after "Preview".
    pub preview: Option<String>,
    pub client_id: String,
    pub tenant: String,
    pub credential_type: String,
    pub expires_on: String,
    pub granted_api: Vec<String>,
    pub granted_api_name: Vec<String>,
    pub granted_name: Vec<String>,
    pub granted_type: Vec<String>,
}

impl ActionForms {
    /// Checks whether the action form whose field ids start with `prefix` has an error.
    pub fn has_errors(&self, prefix: &str) -> bool {
        self.errors.list.iter().any(|error| error.field.starts_with(prefix))
    }
}

/// One granted-permission row on the approval form.
pub struct GrantedRow {
    pub number: usize,
    pub api_id: String,
    pub api_name_id: String,
    pub name_id: String,
    pub type_id: String,
    pub api: String,
    pub api_name: String,
    pub name: String,
    pub permission_type: String,
}

#[derive(Template)]
#[template(path = "review/detail.html")]
struct DetailPage {
    chrome: Chrome,
    view: RequestView,
    /// The signed-in reviewer, to hide "Assign to me" on their own requests.
    user_id: crate::accounts::UserId,
    forms: ActionForms,
    can: AllowedActions,
    editable_fields: Vec<(&'static str, &'static str)>,
    granted_rows: Vec<GrantedRow>,
    /// (value, label) of each API a granted permission can belong to.
    apis: Vec<(&'static str, &'static str)>,
    /// The least-privilege steps, on a request for application mail permissions.
    plan: Option<Vec<PlanStep>>,
    request_flags: Vec<&'static RiskRule>,
}

/// Action forms the page shows, decided by the status machine.
pub struct AllowedActions {
    pub take: bool,
    pub ask: bool,
    pub approve: bool,
    pub reject: bool,
    pub complete: bool,
}

impl AllowedActions {
    fn for_request(full: &FullRequest) -> AllowedActions {
        let allowed =
            |action| status::transition(full.request.kind, full.request.status, action, Actor::Reviewer).is_ok();
        AllowedActions {
            take: allowed(Action::Take),
            ask: allowed(Action::AskQuestion),
            approve: allowed(Action::Approve),
            reject: allowed(Action::Reject),
            complete: allowed(Action::Complete),
        }
    }
}

fn granted_rows(forms: &ActionForms, full: &FullRequest) -> Vec<GrantedRow> {
    // Until the reviewer edits them, the granted permissions start as the requested ones.
    let edited = !(forms.granted_name.is_empty() && forms.granted_type.is_empty());
    let column = |values: &[String], index: usize| values.get(index).cloned().unwrap_or_default();
    let requested = |index: usize| full.scopes.get(index);
    let count = if edited { forms.granted_name.len().max(forms.granted_type.len()) } else { full.scopes.len() };
    // Rows beyond what an approval may record are blank only if a crafted post sent them.
    (0..(count + 1).min(51))
        .map(|index| {
            let (api, api_name, name, permission_type) = if edited {
                (
                    column(&forms.granted_api, index),
                    column(&forms.granted_api_name, index),
                    column(&forms.granted_name, index),
                    column(&forms.granted_type, index),
                )
            } else {
                requested(index).map_or_else(Default::default, |scope| {
                    (
                        scope.api.as_str().to_owned(),
                        scope.api_name.clone().unwrap_or_default(),
                        scope.name.clone(),
                        scope.permission_type.as_str().to_owned(),
                    )
                })
            };
            GrantedRow {
                number: index + 1,
                api_id: format!("granted_api_{index}"),
                api_name_id: format!("granted_api_name_{index}"),
                name_id: format!("granted_name_{index}"),
                type_id: format!("granted_type_{index}"),
                api: if api.is_empty() { PermissionApi::MicrosoftGraph.as_str().to_owned() } else { api },
                api_name,
                name,
                permission_type,
            }
        })
        .collect()
}

/// Renders the reviewer's page for a request, with any form values and errors.
pub fn render_detail(
    reviewer: &ReviewerPage,
    full: FullRequest,
    forms: ActionForms,
    status: StatusCode,
) -> Result<Response, AppError> {
    let can = AllowedActions::for_request(&full);
    let editable_fields =
        EditableField::for_kind(full.request.kind).into_iter().map(|field| (field.id(), field.label())).collect();
    let granted_rows = granted_rows(&forms, &full);
    let plan = plan::least_privilege_plan(&PlanInput {
        reference: &full.request.reference,
        application_name: &full.request.application_name,
        sending_address: full.request.sending_address.as_deref().unwrap_or_default(),
        client_id: full.registration.as_ref().map(|registration| registration.client_id),
        scopes: &full.scopes,
    })
    .filter(|_| full.request.kind == crate::requests::RequestKind::AppRegistration);
    let request_flags = risk::request_flags(&full.scopes);
    let mut view = RequestView::new(full, reviewer.page.state.settings.time_zone);
    view.for_reviewer = true;
    render_with_status(
        status,
        &DetailPage {
            chrome: reviewer.page.chrome(),
            view,
            user_id: reviewer.user.id,
            forms,
            can,
            editable_fields,
            granted_rows,
            apis: PermissionApi::ALL.iter().map(|api| (api.as_str(), api.label())).collect(),
            plan,
            request_flags,
        },
    )
}

pub async fn load(reviewer: &ReviewerPage, reference: &str) -> Result<FullRequest, AppError> {
    let mut conn = reviewer.page.state.db.acquire().await?;
    repo::find_by_reference(&mut conn, reference, repo::Audience::Reviewer).await?.ok_or(AppError::NotFound)
}

pub async fn detail_page(reviewer: ReviewerPage, Path(reference): Path<String>) -> Result<Response, AppError> {
    let full = load(&reviewer, &reference).await?;
    render_detail(&reviewer, full, ActionForms::default(), StatusCode::OK)
}
