//! The document routes: download, for the request's requester and for
//! reviewers, and "add documents" on the requester's page.

use axum::extract::{Multipart, Path};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::store::{self, DocumentContent};
use super::upload::{self, FILE_FIELD, FileOutcome};
use crate::intake::answer::{load_own, render_own};
use crate::requests::RequestStatus;
use crate::requests::repo;
use crate::web::form::FieldErrors;
use crate::web::{AppError, SignedIn, csrf};

/// No uploaded file may run script, load anything or be framed: it is
/// only ever saved, never shown in the service's origin.
const DOWNLOAD_POLICY: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

/// Checks whether the requester may add documents: only while the request
/// is submitted or waiting for the requester.
pub fn accepts_documents(status: RequestStatus) -> bool {
    matches!(status, RequestStatus::Submitted | RequestStatus::NeedsInfo)
}

fn download_response(document: DocumentContent) -> Result<Response, AppError> {
    let name = super::detect::download_file_name(&document.file_name, document.document_type);
    let disposition = HeaderValue::from_str(&super::detect::content_disposition(&name))
        .map_err(|err| AppError::Internal(anyhow::anyhow!("invalid Content-Disposition: {err}")))?;
    let mut response = document.content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(document.document_type.mime_type()));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOWNLOAD_POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

/// GET /requests/{reference}/documents/{id}: the request's requester and
/// reviewers; anyone else gets the same 404 as for a document that does not exist.
pub async fn download(
    signed: SignedIn,
    Path((reference, document_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let Ok(document_id) = document_id.parse::<i64>() else {
        return Err(AppError::NotFound);
    };
    let mut conn = signed.page.state.db.acquire().await?;
    let Some((request_id, requester_id)) = repo::find_owner(&mut conn, &reference).await? else {
        return Err(AppError::NotFound);
    };
    if requester_id != signed.user.id && !signed.user.is_reviewer() {
        return Err(AppError::NotFound);
    }
    let document = store::content(&mut conn, request_id, document_id).await?.ok_or(AppError::NotFound)?;
    tracing::info!(
        user_id = signed.user.id.0,
        document_id,
        reference = %reference,
        "document {document_id} of {reference} downloaded"
    );
    download_response(document)
}

/// POST /requests/{reference}/documents: the request's requester only.
pub async fn add(signed: SignedIn, Path(reference): Path<String>, multipart: Multipart) -> Result<Response, AppError> {
    let full = load_own(&signed, &reference).await?;
    let limits = signed.page.state.settings.uploads;
    let read = upload::read(multipart, &limits).await?;
    csrf::check(&signed.page.session, read.field(csrf::FORM_FIELD)).await?;

    if !accepts_documents(full.request.status) {
        // The form is not on the page in this status, so the reason goes in a banner.
        let banner = format!(
            "Nothing was uploaded: documents can only be added while the request is submitted or waiting for your answer, and it is now {}.",
            full.request.status.label().to_lowercase()
        );
        return render_own(
            &signed,
            full,
            None,
            String::new(),
            FieldErrors::default(),
            Some(banner),
            StatusCode::CONFLICT,
        );
    }
    let mut errors = FieldErrors::default();
    if read.files.is_empty() {
        errors.add(FILE_FIELD, "Choose at least one file to upload");
    }
    let mut count = full.documents.len();
    let mut total: u64 = full.documents.iter().map(|document| document.size_bytes as u64).sum();
    if errors.is_empty() {
        let mut tx = signed.page.state.db.begin().await?;
        for file in read.files {
            let document = match file {
                FileOutcome::Rejected { file_name, reason } => {
                    errors.add_another(FILE_FIELD, format!("{file_name} was not accepted because {reason}"));
                    continue;
                }
                FileOutcome::Accepted(document) => document,
            };
            let size = document.content.len() as u64;
            if let Some(message) = upload::over_limit(&document.file_name, size, count, total, &limits) {
                errors.add_another(FILE_FIELD, message);
            } else {
                match store::add_to_request(&mut tx, full.request.id.0, signed.user.id, &document).await? {
                    store::Added::Stored(_) => {
                        count += 1;
                        total += size;
                    }
                    store::Added::Duplicate(existing) => errors.add_another(
                        FILE_FIELD,
                        format!(
                            "{} was not added because the request already has the same file, as {existing}",
                            document.file_name
                        ),
                    ),
                }
            }
        }
        // Files that were accepted are kept even when others were refused,
        // and the page lists both.
        tx.commit().await?;
    }
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/requests/{reference}#documents")).into_response());
    }
    let full = load_own(&signed, &reference).await?;
    render_own(&signed, full, None, String::new(), errors, None, StatusCode::UNPROCESSABLE_ENTITY)
}
