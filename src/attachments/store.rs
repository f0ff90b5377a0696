//! Documents in PostgreSQL: pending uploads that wait for a submit, the
//! documents of a request, and the content for a download.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::detect::DocumentType;
use crate::accounts::UserId;

/// A document as listed on pages, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSummary {
    pub id: i64,
    pub file_name: String,
    pub document_type: DocumentType,
    pub size_bytes: i64,
    /// SHA-256 of the content, in lowercase hex.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl DocumentSummary {
    /// Size for people: bytes, KB or MB with one decimal.
    pub fn size_label(&self) -> String {
        crate::web::format::file_size(self.size_bytes)
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    file_name: String,
    document_type: String,
    size_bytes: i64,
    sha256: Vec<u8>,
    uploaded_at: DateTime<Utc>,
}

impl From<SummaryRow> for DocumentSummary {
    fn from(row: SummaryRow) -> Self {
        DocumentSummary {
            id: row.id,
            file_name: row.file_name,
            // The column is an enum of exactly the values `parse` accepts.
            document_type: DocumentType::parse(&row.document_type).unwrap_or(DocumentType::Text),
            size_bytes: row.size_bytes,
            sha256: hex::encode(row.sha256),
            uploaded_at: row.uploaded_at,
        }
    }
}

const SUMMARY_COLUMNS: &str = "id, file_name, document_type::text AS document_type, size_bytes, sha256, uploaded_at";

/// A file that passed type detection, ready to store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub file_name: String,
    pub document_type: DocumentType,
    pub content: Vec<u8>,
}

impl NewDocument {
    pub fn sha256(&self) -> Vec<u8> {
        Sha256::digest(&self.content).to_vec()
    }

    pub fn size(&self) -> i64 {
        i64::try_from(self.content.len()).unwrap_or(i64::MAX)
    }
}

/// Stores an upload that waits for its form's submit and returns it as listed.
pub async fn store_pending(
    conn: &mut PgConnection,
    owner: UserId,
    document: &NewDocument,
) -> Result<DocumentSummary, sqlx::Error> {
    let row: SummaryRow = sqlx::query_as(&format!(
        "INSERT INTO documents (uploaded_by, file_name, document_type, size_bytes, sha256, content)
         VALUES ($1, $2, $3::document_type, $4, $5, $6)
         RETURNING {SUMMARY_COLUMNS}"
    ))
    .bind(owner)
    .bind(&document.file_name)
    .bind(document.document_type.as_str())
    .bind(document.size())
    .bind(document.sha256())
    .bind(&document.content)
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

/// Loads the user's pending uploads among `ids`, in the order given.
pub async fn pending(conn: &mut PgConnection, owner: UserId, ids: &[i64]) -> Result<Vec<DocumentSummary>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM documents
         WHERE id = ANY($1) AND uploaded_by = $2 AND request_id IS NULL
         ORDER BY array_position($1, id)"
    ))
    .bind(ids)
    .bind(owner)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(DocumentSummary::from).collect())
}

/// Moves the user's pending uploads among `ids` to a new request. Returns
/// how many moved, so the caller can tell when one has gone.
pub async fn attach(conn: &mut PgConnection, owner: UserId, request_id: i64, ids: &[i64]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let result = sqlx::query(
        "UPDATE documents SET request_id = $3
         WHERE id = ANY($1) AND uploaded_by = $2 AND request_id IS NULL",
    )
    .bind(ids)
    .bind(owner)
    .bind(request_id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Lists the documents of one request, oldest first.
pub async fn list_for_request(conn: &mut PgConnection, request_id: i64) -> Result<Vec<DocumentSummary>, sqlx::Error> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM documents WHERE request_id = $1 ORDER BY uploaded_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(DocumentSummary::from).collect())
}

/// The result of adding a document to a submitted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Stored(i64),
    /// The request already has the same content, under this name.
    Duplicate(String),
}

/// Adds a document to an existing request with a history event, unless the
/// request already has the same content.
pub async fn add_to_request(
    conn: &mut PgConnection,
    request_id: i64,
    actor: UserId,
    document: &NewDocument,
) -> Result<Added, sqlx::Error> {
    let sha256 = document.sha256();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO documents (request_id, uploaded_by, file_name, document_type, size_bytes, sha256, content)
         VALUES ($1, $2, $3, $4::document_type, $5, $6, $7)
         ON CONFLICT (request_id, sha256) WHERE request_id IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(request_id)
    .bind(actor)
    .bind(&document.file_name)
    .bind(document.document_type.as_str())
    .bind(document.size())
    .bind(&sha256)
    .bind(&document.content)
    .fetch_optional(&mut *conn)
    .await?;

    let Some(id) = id else {
        let existing = sqlx::query_scalar("SELECT file_name FROM documents WHERE request_id = $1 AND sha256 = $2")
            .bind(request_id)
            .bind(&sha256)
            .fetch_one(&mut *conn)
            .await?;
        return Ok(Added::Duplicate(existing));
    };

    sqlx::query(
        "INSERT INTO request_events (request_id, kind, actor_id, body, document_id)
         VALUES ($1, 'document_added', $2, $3, $4)",
    )
    .bind(request_id)
    .bind(actor)
    .bind(&document.file_name)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE requests SET updated_at = now() WHERE id = $1").bind(request_id).execute(&mut *conn).await?;
    Ok(Added::Stored(id))
}

/// A document's name, type and content, for a download.
pub struct DocumentContent {
    pub file_name: String,
    pub document_type: DocumentType,
    pub content: Vec<u8>,
}

pub async fn content(
    conn: &mut PgConnection,
    request_id: i64,
    document_id: i64,
) -> Result<Option<DocumentContent>, sqlx::Error> {
    let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT file_name, document_type::text, content FROM documents WHERE request_id = $1 AND id = $2",
    )
    .bind(request_id)
    .bind(document_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(file_name, document_type, content)| DocumentContent {
        file_name,
        document_type: DocumentType::parse(&document_type).unwrap_or(DocumentType::Text),
        content,
    }))
}

/// Deletes uploads that never reached a submit, so abandoned forms do not
/// keep files forever. Returns how many went.
pub async fn delete_abandoned(pool: &sqlx::PgPool, older_than_hours: i32) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM documents WHERE request_id IS NULL AND uploaded_at < now() - make_interval(hours => $1)",
    )
    .bind(older_than_hours)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
