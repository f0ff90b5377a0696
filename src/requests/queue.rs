//! The review queue's query: filters, text search, sorting, keyset
//! pagination and counts per status.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{RequestKind, RequestStatus};
use crate::accounts::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Every status that still needs IST or the requester to act.
    Open,
    All,
    Only(RequestStatus),
}

pub const OPEN_STATUSES: [RequestStatus; 4] =
    [RequestStatus::Submitted, RequestStatus::InReview, RequestStatus::NeedsInfo, RequestStatus::Approved];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Anyone,
    User(UserId),
    Unassigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueSort {
    Newest,
    Oldest,
    /// Most recently updated first.
    Updated,
}

/// A position in the queue: the sort time and id of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub time: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    /// Encodes the cursor for a URL, as microseconds since the epoch and the id.
    pub fn encode(self) -> String {
        format!("{}_{}", self.time.timestamp_micros(), self.id)
    }

    pub fn decode(value: &str) -> Option<Cursor> {
        let (micros, id) = value.split_once('_')?;
        Some(Cursor { time: DateTime::from_timestamp_micros(micros.parse().ok()?)?, id: id.parse().ok()? })
    }
}

#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub status: StatusFilter,
    pub kind: Option<RequestKind>,
    pub assignee: AssigneeFilter,
    /// Text to find in the reference, application, vendor, requester or sending address.
    pub text: Option<String>,
    pub sort: QueueSort,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub reference: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub application_name: String,
    pub vendor: Option<String>,
    pub sending_address: Option<String>,
    pub requester_name: String,
    pub requester_email: String,
    pub department: String,
    pub assignee_name: Option<String>,
    /// The email of the account that submitted the request.
    pub account_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub review_clock_started_at: DateTime<Utc>,
}

impl QueueRow {
    fn sort_time(&self, sort: QueueSort) -> DateTime<Utc> {
        match sort {
            QueueSort::Newest | QueueSort::Oldest => self.created_at,
            QueueSort::Updated => self.updated_at,
        }
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    escaped
}

/// Adds the WHERE conditions shared by the page and the counts.
fn push_filters(query: &mut QueryBuilder<'_, Postgres>, filter: &QueueFilter, with_status: bool) {
    query.push(" WHERE TRUE");
    if with_status {
        match filter.status {
            StatusFilter::All => {}
            StatusFilter::Open => {
                query.push(" AND request.status = ANY(").push_bind(OPEN_STATUSES.to_vec()).push(")");
            }
            StatusFilter::Only(status) => {
                query.push(" AND request.status = ").push_bind(status);
            }
        }
    }
    if let Some(kind) = filter.kind {
        query.push(" AND request.kind = ").push_bind(kind);
    }
    match filter.assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::User(user) => {
            query.push(" AND request.assignee_id = ").push_bind(user);
        }
        AssigneeFilter::Unassigned => {
            query.push(" AND request.assignee_id IS NULL");
        }
    }
    if let Some(text) = filter.text.as_deref().filter(|text| !text.is_empty()) {
        query.push(" AND request.search_text LIKE ").push_bind(like_pattern(text));
    }
}

const ROW_COLUMNS: &str = "SELECT request.id, request.reference, request.kind, request.status,
        request.application_name, request.vendor, request.sending_address, request.requester_name,
        request.requester_email, request.department, assignee.display_name AS assignee_name,
        account.email AS account_email, request.created_at, request.updated_at, request.review_clock_started_at
     FROM requests AS request
     JOIN users AS account ON account.id = request.requester_id
     LEFT JOIN users AS assignee ON assignee.id = request.assignee_id";

/// Returns the sort column, the keyset comparison that moves past a cursor, and the order.
fn sort_columns(sort: QueueSort) -> (&'static str, &'static str, &'static str) {
    match sort {
        QueueSort::Newest => ("request.created_at", "<", "DESC"),
        QueueSort::Oldest => ("request.created_at", ">", "ASC"),
        QueueSort::Updated => ("request.updated_at", "<", "DESC"),
    }
}

/// Builds the page query, after `prefix` (empty, or EXPLAIN for the benchmark).
fn page_query<'a>(prefix: &str, filter: &QueueFilter, after: Option<Cursor>, size: i64) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::new(format!("{prefix}{ROW_COLUMNS}"));
    push_filters(&mut query, filter, true);
    let (column, comparison, order) = sort_columns(filter.sort);
    if let Some(cursor) = after {
        query
            .push(format!(" AND ({column}, request.id) {comparison} ("))
            .push_bind(cursor.time)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    query.push(format!(" ORDER BY {column} {order}, request.id {order} LIMIT ")).push_bind(size + 1);
    query
}

/// Fetches one page of the queue and the cursor of the next page, if there is one.
pub async fn page(
    conn: &mut PgConnection,
    filter: &QueueFilter,
    after: Option<Cursor>,
    size: i64,
) -> Result<(Vec<QueueRow>, Option<Cursor>), sqlx::Error> {
    let mut query = page_query("", filter, after, size);
    let mut rows: Vec<QueueRow> = query.build_query_as().fetch_all(&mut *conn).await?;
    let next = if rows.len() as i64 > size {
        rows.truncate(size as usize);
        rows.last().map(|row| Cursor { time: row.sort_time(filter.sort), id: row.id })
    } else {
        None
    };
    Ok((rows, next))
}

/// Runs EXPLAIN ANALYZE on the exact page query the queue sends and returns
/// the plan's lines, for the benchmark in `examples/queue_benchmark.rs`.
pub async fn explain_page(
    conn: &mut PgConnection,
    filter: &QueueFilter,
    size: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut query = page_query("EXPLAIN (ANALYZE, BUFFERS) ", filter, None, size);
    query.build_query_scalar().fetch_all(conn).await
}

/// Fetches every row that matches, for export.
pub async fn all_rows(conn: &mut PgConnection, filter: &QueueFilter) -> Result<Vec<QueueRow>, sqlx::Error> {
    let mut query = QueryBuilder::new(ROW_COLUMNS);
    push_filters(&mut query, filter, true);
    let (column, _, order) = sort_columns(filter.sort);
    query.push(format!(" ORDER BY {column} {order}, request.id {order}"));
    query.build_query_as().fetch_all(conn).await
}

fn counts_query<'a>(prefix: &str, filter: &QueueFilter) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::new(format!("{prefix}SELECT request.status, count(*) FROM requests AS request"));
    push_filters(&mut query, filter, false);
    query.push(" GROUP BY request.status");
    query
}

/// Counts the requests in each status, under every filter but the status.
pub async fn status_counts(
    conn: &mut PgConnection,
    filter: &QueueFilter,
) -> Result<Vec<(RequestStatus, i64)>, sqlx::Error> {
    counts_query("", filter).build_query_as().fetch_all(conn).await
}

/// Runs EXPLAIN ANALYZE on the counts query the queue page sends, for the benchmark.
pub async fn explain_counts(conn: &mut PgConnection, filter: &QueueFilter) -> Result<Vec<String>, sqlx::Error> {
    counts_query("EXPLAIN (ANALYZE, BUFFERS) ", filter).build_query_scalar().fetch_all(conn).await
}

/// Loads the permission rows of the given requests, by request id, for the
/// queue's risk flags.
pub async fn scopes_of(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<super::Scope>>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        request_id: i64,
        #[sqlx(flatten)]
        scope: super::repo::StoredScope,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT request_id, api, api_name, name, permission_type, unlisted, justification
         FROM request_scopes WHERE request_id = ANY($1) ORDER BY request_id, position",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut by_request: std::collections::HashMap<i64, Vec<super::Scope>> = std::collections::HashMap::new();
    for row in rows {
        by_request.entry(row.request_id).or_default().push(row.scope.into());
    }
    Ok(by_request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor { time: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(), id: 42 };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn cursor_rejects_garbage() {
        for value in ["", "abc", "1_", "_1", "1_x"] {
            assert_eq!(Cursor::decode(value), None, "{value}");
        }
    }
}
