//! The review queue: filters kept in the URL, text search, keyset pages,
//! counts per status, the review-target warning, assignment and CSV export.

use askama::Template;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::Utc;
use serde::Deserialize;

use super::target;
use crate::requests::queue::{self, AssigneeFilter, Cursor, QueueFilter, QueueRow, QueueSort, StatusFilter};
use crate::requests::repo::{self, RequestId};
use crate::requests::{RequestKind, RequestStatus, actions};
use crate::web::format;
use crate::web::page::Chrome;
use crate::web::{AppError, ReviewerPage, render};

pub const PAGE_SIZE: i64 = 50;

/// The queue's URL parameters. Unknown values fall back to the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub after: String,
}

impl QueueQuery {
    fn filter(&self, reviewer: &ReviewerPage) -> QueueFilter {
        let status = match self.status.as_str() {
            "all" => StatusFilter::All,
            value => RequestStatus::ALL
                .into_iter()
                .find(|status| status.as_str() == value)
                .map_or(StatusFilter::Open, StatusFilter::Only),
        };
        let kind = match self.kind.as_str() {
            "app_registration" => Some(RequestKind::AppRegistration),
            "exception_review" => Some(RequestKind::ExceptionReview),
            _ => None,
        };
        let assignee = match self.assignee.as_str() {
            "me" => AssigneeFilter::User(reviewer.user.id),
            "unassigned" => AssigneeFilter::Unassigned,
            _ => AssigneeFilter::Anyone,
        };
        let sort = match self.sort.as_str() {
            "oldest" => QueueSort::Oldest,
            "updated" => QueueSort::Updated,
            _ => QueueSort::Newest,
        };
        let text = Some(self.q.trim().to_owned()).filter(|text| !text.is_empty() && !text.contains('\0'));
        QueueFilter { status, kind, assignee, text, sort }
    }

    /// Builds the URL for these filters, optionally with a status or cursor replaced.
    fn url(&self, path: &str, status: Option<&str>, after: Option<&str>) -> String {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        let status = status.unwrap_or(&self.status);
        for (name, value) in [
            ("status", status),
            ("kind", self.kind.as_str()),
            ("assignee", self.assignee.as_str()),
            ("q", self.q.as_str()),
            ("sort", self.sort.as_str()),
            ("after", after.unwrap_or_default()),
        ] {
            if !value.is_empty() {
                serializer.append_pair(name, value);
            }
        }
        let query = serializer.finish();
        if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
    }
}

/// A queue row ready for display.
pub struct QueueLine {
    pub row: QueueRow,
    pub submitted: String,
    pub age: String,
    pub updated: String,
    pub overdue: bool,
    /// Risk flags of the request's permissions.
    pub flags: Vec<&'static crate::graph::risk::RiskRule>,
}

/// A status with its count and the link that filters by it.
pub struct StatusCount {
    pub label: &'static str,
    pub count: i64,
    pub url: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "review/queue.html")]
struct QueuePage {
    chrome: Chrome,
    query: QueueQuery,
    lines: Vec<QueueLine>,
    counts: Vec<StatusCount>,
    next_url: Option<String>,
    first_url: Option<String>,
    export_url: String,
    return_to: String,
    target_days: u32,
}

pub async fn queue_page(reviewer: ReviewerPage, Query(query): Query<QueueQuery>) -> Result<Response, AppError> {
    let filter = query.filter(&reviewer);
    let after = Cursor::decode(&query.after);
    let settings = &reviewer.page.state.settings;
    let mut conn = reviewer.page.state.db.acquire().await?;
    let (rows, next) = queue::page(&mut conn, &filter, after, PAGE_SIZE).await?;
    let counted = queue::status_counts(&mut conn, &filter).await?;

    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let mut scopes = queue::scopes_of(&mut conn, &ids).await?;

    let now = Utc::now();
    let zone = settings.time_zone;
    let lines = rows
        .into_iter()
        .map(|row| QueueLine {
            flags: crate::graph::risk::request_flags(&scopes.remove(&row.id).unwrap_or_default()),
            submitted: format::local_time(row.created_at, zone),
            age: format::age(row.created_at, now),
            updated: format::age(row.updated_at, now),
            overdue: target::is_overdue(
                row.status,
                row.review_clock_started_at,
                now,
                zone,
                settings.review_target_business_days,
            ),
            row,
        })
        .collect();
    let count_of =
        |status: RequestStatus| counted.iter().find(|(each, _)| *each == status).map_or(0, |(_, count)| *count);
    let mut counts = vec![StatusCount {
        label: "Open",
        count: queue::OPEN_STATUSES.into_iter().map(count_of).sum(),
        url: query.url("/review", Some("open"), None),
        current: filter.status == StatusFilter::Open,
    }];
    counts.extend(RequestStatus::ALL.into_iter().map(|status| StatusCount {
        label: status.label(),
        count: count_of(status),
        url: query.url("/review", Some(status.as_str()), None),
        current: filter.status == StatusFilter::Only(status),
    }));
    counts.push(StatusCount {
        label: "All",
        count: RequestStatus::ALL.into_iter().map(count_of).sum(),
        url: query.url("/review", Some("all"), None),
        current: filter.status == StatusFilter::All,
    });

    render(&QueuePage {
        chrome: reviewer.page.chrome(),
        next_url: next.map(|cursor| query.url("/review", None, Some(&cursor.encode()))),
        first_url: after.map(|_| query.url("/review", None, None)),
        export_url: query.url("/review/export.csv", None, None),
        return_to: query.url("/review", None, Some(&query.after)),
        target_days: settings.review_target_business_days,
        query,
        lines,
        counts,
    })
}

/// Prefixes a cell that a spreadsheet would read as a formula, so it stays text.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}

pub async fn export_csv(reviewer: ReviewerPage, Query(query): Query<QueueQuery>) -> Result<Response, AppError> {
    let filter = query.filter(&reviewer);
    let zone = reviewer.page.state.settings.time_zone;
    let mut conn = reviewer.page.state.db.acquire().await?;
    let rows = queue::all_rows(&mut conn, &filter).await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let mut scopes = queue::scopes_of(&mut conn, &ids).await?;

    // A byte-order mark makes spreadsheet programs read the file as UTF-8.
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let header = [
        "Reference",
        "Kind",
        "Status",
        "Application",
        "Vendor",
        "Sending address",
        "Requester",
        "Requester email",
        "Department",
        "Assigned to",
        "Submitted",
        "Last update",
        "Permissions to check",
    ];
    writer.write_record(header).map_err(|err| AppError::Internal(err.into()))?;
    for row in rows {
        let record = [
            row.reference.clone(),
            row.kind.label().to_owned(),
            row.status.label().to_owned(),
            row.application_name.clone(),
            row.vendor.clone().unwrap_or_default(),
            row.sending_address.clone().unwrap_or_default(),
            row.requester_name.clone(),
            row.requester_email.clone(),
            row.department.clone(),
            row.assignee_name.clone().unwrap_or_default(),
            format::local_time(row.created_at, zone),
            format::local_time(row.updated_at, zone),
            crate::graph::risk::request_flags(&scopes.remove(&row.id).unwrap_or_default())
                .iter()
                .map(|rule| rule.title)
                .collect::<Vec<_>>()
                .join("; "),
        ];
        writer
            .write_record(record.iter().map(|cell| neutralise(cell)))
            .map_err(|err| AppError::Internal(err.into()))?;
    }
    let body =
        writer.into_inner().map_err(|err| AppError::Internal(anyhow::anyhow!("finishing the CSV failed: {err}")))?;
    let file_name = format!("ist-intake-queue-{}.csv", Utc::now().with_timezone(&zone).format("%Y-%m-%d"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    selected: Vec<String>,
    /// `assign_me` or `unassign` for the selected rows.
    #[serde(default)]
    action: String,
    /// A single row's "Assign to me" button.
    #[serde(default)]
    assign_one: String,
    #[serde(default)]
    return_to: String,
}

/// Assigns the selected requests (or one row's) to the reviewer, or unassigns them.
pub async fn bulk_assign(reviewer: ReviewerPage, Form(form): Form<AssignForm>) -> Result<Response, AppError> {
    let (references, assignee) = if form.assign_one.is_empty() {
        let assignee = if form.action == "unassign" { None } else { Some(reviewer.user.id) };
        (form.selected.clone(), assignee)
    } else {
        (vec![form.assign_one.clone()], Some(reviewer.user.id))
    };
    let mut tx = reviewer.page.state.db.begin().await?;
    let mut ids = Vec::new();
    for reference in &references {
        if let Some(id) = repo::find_id(&mut tx, reference).await? {
            ids.push(RequestId(id));
        }
    }
    let changed = actions::assign(&mut tx, &ids, assignee, reviewer.user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = reviewer.user.id.0, changed, "assignment changed on {changed} requests");

    let back = if form.return_to.starts_with("/review") && !form.return_to.starts_with("//") {
        form.return_to
    } else {
        "/review".to_owned()
    };
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn neutralise_prefixes_formula_starts() {
        for cell in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        assert_eq!(neutralise("Acme"), "Acme");
    }
}
