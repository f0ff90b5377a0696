//! The request domain: kinds, statuses, the validated contents of a new
//! request, and their persistence.

pub mod actions;
pub mod queue;
pub mod repo;
pub mod status;
pub mod validation;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "request_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    AppRegistration,
    ExceptionReview,
}

impl RequestKind {
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::AppRegistration => "App registration",
            RequestKind::ExceptionReview => "Exception review",
        }
    }

    /// Returns the code inside the human reference, as in IST-AR-2026-000123.
    pub fn reference_code(self) -> &'static str {
        match self {
            RequestKind::AppRegistration => "AR",
            RequestKind::ExceptionReview => "EX",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "request_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Submitted,
    InReview,
    NeedsInfo,
    Approved,
    Rejected,
    Completed,
    Withdrawn,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 7] = [
        RequestStatus::Submitted,
        RequestStatus::InReview,
        RequestStatus::NeedsInfo,
        RequestStatus::Approved,
        RequestStatus::Rejected,
        RequestStatus::Completed,
        RequestStatus::Withdrawn,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "Submitted",
            RequestStatus::InReview => "In review",
            RequestStatus::NeedsInfo => "Waiting for the requester",
            RequestStatus::Approved => "Approved",
            RequestStatus::Rejected => "Rejected",
            RequestStatus::Completed => "Completed",
            RequestStatus::Withdrawn => "Withdrawn",
        }
    }

    /// Returns the database value, used as a CSS class and in tests.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "submitted",
            RequestStatus::InReview => "in_review",
            RequestStatus::NeedsInfo => "needs_info",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Completed => "completed",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    /// Describes what happens next, in words for the requester.
    pub fn next_step(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "IST will pick up your request and review it.",
            RequestStatus::InReview => "An IST reviewer is looking at your request.",
            RequestStatus::NeedsInfo => "IST has asked you a question. Answer it so the review can go on.",
            RequestStatus::Approved => "IST approved your request and is setting it up.",
            RequestStatus::Rejected => "IST did not approve your request. The reason is on the request.",
            RequestStatus::Completed => "Done: IST has finished with this request.",
            RequestStatus::Withdrawn => "You withdrew this request.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "permission_type", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PermissionType {
    /// The application acts on behalf of a signed-in user.
    Delegated,
    /// The application acts as itself, with no user present.
    Application,
}

impl PermissionType {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "delegated" => Some(PermissionType::Delegated),
            "application" => Some(PermissionType::Application),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionType::Delegated => "delegated",
            PermissionType::Application => "application",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PermissionType::Delegated => "Delegated",
            PermissionType::Application => "Application",
        }
    }
}

/// The API a permission belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "permission_api", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PermissionApi {
    #[default]
    MicrosoftGraph,
    /// Office 365 Exchange Online, for the mailbox-protocol permissions
    /// that are not Graph permissions.
    ExchangeOnline,
    /// Another API, named by the requester; checked by hand.
    Other,
}

impl PermissionApi {
    pub const ALL: [PermissionApi; 3] =
        [PermissionApi::MicrosoftGraph, PermissionApi::ExchangeOnline, PermissionApi::Other];

    pub fn parse(value: &str) -> Option<Self> {
        PermissionApi::ALL.into_iter().find(|api| api.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionApi::MicrosoftGraph => "microsoft_graph",
            PermissionApi::ExchangeOnline => "exchange_online",
            PermissionApi::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PermissionApi::MicrosoftGraph => "Microsoft Graph",
            PermissionApi::ExchangeOnline => "Office 365 Exchange Online",
            PermissionApi::Other => "Another API",
        }
    }
}

/// A permission or scope the application needs, such as Mail.Send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default)]
    pub api: PermissionApi,
    /// The API's name as the requester typed it, for [`PermissionApi::Other`].
    #[serde(default)]
    pub api_name: Option<String>,
    pub name: String,
    pub permission_type: PermissionType,
    /// The name is not in the catalogue or list for its API, so a reviewer
    /// must check it by hand.
    #[serde(default)]
    pub unlisted: bool,
    /// The requester's reason for it; required for application permissions.
    #[serde(default)]
    pub justification: Option<String>,
}

impl Scope {
    /// Builds a Microsoft Graph permission with no justification, as IST
    /// records the permissions it granted.
    pub fn graph(name: &str, permission_type: PermissionType) -> Self {
        Scope {
            api: PermissionApi::MicrosoftGraph,
            api_name: None,
            name: name.to_owned(),
            permission_type,
            unlisted: false,
            justification: None,
        }
    }

    /// Returns the API as shown on pages; another API's name is marked as the requester's.
    pub fn api_label(&self) -> String {
        match (&self.api, &self.api_name) {
            (PermissionApi::Other, Some(name)) => format!("{name}, an API named by the requester"),
            (api, _) => api.label().to_owned(),
        }
    }
}

/// Contact details of the person submitting a request, as confirmed on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterDetails {
    pub name: String,
    pub email: String,
    pub department: String,
}

/// A validated Microsoft 365 application-registration request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRegistrationDetails {
    pub application_name: String,
    pub vendor: String,
    pub business_purpose: String,
    pub sending_address: String,
    pub vendor_links: Vec<String>,
    /// Ids of the uploaded documents, which wait unattached until the submit.
    #[serde(default)]
    pub documents: Vec<i64>,
    pub scopes: Vec<Scope>,
    pub requester: RequesterDetails,
}

/// A validated request for review outside the standard process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionDetails {
    pub application_name: String,
    pub application_details: String,
    pub hosting_location: String,
    pub authentication_method: String,
    pub sending_pattern: String,
    pub expected_volume: String,
    pub sending_address: Option<String>,
    pub vendor_links: Vec<String>,
    /// Ids of the uploaded documents, which wait unattached until the submit.
    #[serde(default)]
    pub documents: Vec<i64>,
    pub unmet_requirements: Vec<String>,
    pub requester: RequesterDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewRequest {
    AppRegistration(AppRegistrationDetails),
    Exception(ExceptionDetails),
}

impl NewRequest {
    pub fn kind(&self) -> RequestKind {
        match self {
            NewRequest::AppRegistration(_) => RequestKind::AppRegistration,
            NewRequest::Exception(_) => RequestKind::ExceptionReview,
        }
    }
}

/// One decision-tree answer as stored with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub question: String,
    pub question_text: String,
    pub answer: String,
    pub answer_text: String,
}
