//! The vendor-documents part of the request forms. Files uploaded with the
//! form wait as pending documents, listed by id in hidden inputs, so a form
//! shown again after an error does not request them again.

use sqlx::PgConnection;

use crate::accounts::UserId;
use crate::attachments::store::{self, DocumentSummary};
use crate::attachments::upload::{FILE_FIELD, FileOutcome, mib, over_limit};
use crate::config::UploadLimits;
use crate::web::form::FieldErrors;

/// The action of a document's Remove button is this prefix and its id.
pub const REMOVE_PREFIX: &str = "remove_document:";
/// The action of the Upload button, which keeps the form open.
pub const UPLOAD_ACTION: &str = "upload";

/// Parses the ids a form carries, skipping repeats and values that are not ids.
pub fn parse_ids(values: &[String]) -> Vec<i64> {
    let mut ids = Vec::new();
    for value in values {
        if let Ok(id) = value.trim().parse::<i64>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

pub fn id_values(documents: &[DocumentSummary]) -> Vec<String> {
    documents.iter().map(|document| document.id.to_string()).collect()
}

/// Describes what an upload or a removal changed in the document list, or
/// None when the list is the same.
pub fn change_status(before: &[DocumentSummary], after: &[DocumentSummary]) -> Option<String> {
    let names = |from: &[DocumentSummary], other: &[DocumentSummary]| -> Vec<String> {
        from.iter()
            .filter(|document| other.iter().all(|kept| kept.id != document.id))
            .map(|document| document.file_name.clone())
            .collect()
    };
    let added = names(after, before);
    let removed = names(before, after);
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("Uploaded {}.", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("Removed {}.", removed.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Builds the notice shown when uploads the form listed are no longer stored.
pub fn lost_notice(lost: usize) -> Option<String> {
    match lost {
        0 => None,
        1 => Some("One document you uploaded earlier is no longer available, because the form was left for more than a day or the document was sent with another request. Upload it again if you still need it.".to_owned()),
        _ => Some(format!("{lost} documents you uploaded earlier are no longer available, because the form was left for more than a day or the documents were sent with another request. Upload them again if you still need them.")),
    }
}

/// Loads the pending documents a form lists; also returns how many it
/// listed that are gone.
pub async fn load(
    conn: &mut PgConnection,
    owner: UserId,
    values: &[String],
) -> Result<(Vec<DocumentSummary>, usize), sqlx::Error> {
    let ids = parse_ids(values);
    let mut documents = store::pending(conn, owner, &ids).await?;
    let lost = ids.len() - documents.len();
    // A crafted post could list two uploads of one file; a request keeps one.
    let mut seen = std::collections::HashSet::new();
    documents.retain(|document| seen.insert(document.sha256.clone()));
    Ok((documents, lost))
}

/// Applies a Remove button and the files that came with the form. Each
/// refused file gets its own message on the file input.
pub async fn apply(
    conn: &mut PgConnection,
    owner: UserId,
    mut documents: Vec<DocumentSummary>,
    action: &str,
    files: Vec<FileOutcome>,
    limits: &UploadLimits,
    errors: &mut FieldErrors,
) -> Result<Vec<DocumentSummary>, sqlx::Error> {
    if let Some(id) = action.strip_prefix(REMOVE_PREFIX).and_then(|id| id.parse::<i64>().ok()) {
        documents.retain(|document| document.id != id);
    }
    for file in files {
        match file {
            FileOutcome::Rejected { file_name, reason } => {
                errors.add_another(FILE_FIELD, format!("{file_name} was not accepted because {reason}"));
            }
            FileOutcome::Accepted(document) => {
                let total: u64 = documents.iter().map(|document| document.size_bytes as u64).sum();
                let size = document.size() as u64;
                if let Some(message) = over_limit(&document.file_name, size, documents.len(), total, limits) {
                    // On the form a listed document can be removed to make room.
                    let advice = if documents.len() >= limits.max_files { ". Remove one first" } else { "" };
                    errors.add_another(FILE_FIELD, format!("{message}{advice}"));
                } else if let Some(same) =
                    documents.iter().find(|listed| listed.sha256 == hex::encode(document.sha256()))
                {
                    errors.add_another(
                        FILE_FIELD,
                        format!(
                            "{} was not added again because it is the same file as {}, which is already uploaded",
                            document.file_name, same.file_name
                        ),
                    );
                } else {
                    documents.push(store::store_pending(conn, owner, &document).await?);
                }
            }
        }
    }
    Ok(documents)
}

/// Adds an error when the listed documents are over a limit, which only a
/// crafted post can reach, because each upload is checked as it arrives.
pub fn check_limits(documents: &[DocumentSummary], limits: &UploadLimits, errors: &mut FieldErrors) {
    let total: i64 = documents.iter().map(|document| document.size_bytes).sum();
    if documents.len() > limits.max_files {
        errors.add_another(
            FILE_FIELD,
            format!(
                "Remove {} of the uploaded documents: a request can have at most {}",
                documents.len() - limits.max_files,
                limits.max_files
            ),
        );
    } else if total as u64 > limits.max_total_bytes {
        errors.add_another(
            FILE_FIELD,
            format!(
                "Remove some of the uploaded documents: together they are larger than {} MB",
                mib(limits.max_total_bytes)
            ),
        );
    }
}

/// Builds the hint under a request form's file input, with the limits in force.
pub fn form_hint(limits: &UploadLimits) -> String {
    format!("{} Files you upload are kept if the form shows an error.", hint(limits))
}

/// Builds the hint under the file input, with the limits in force.
pub fn hint(limits: &UploadLimits) -> String {
    format!(
        "PDF, Word (DOCX), Excel (XLSX), PowerPoint (PPTX), OpenDocument text (ODT), PNG, JPEG or plain text. Up to {} files, each up to {} MB and {} MB in all, and at most {} MB in one upload.",
        limits.max_files,
        mib(limits.max_file_bytes),
        mib(limits.max_total_bytes),
        mib(limits.max_body_bytes() as u64)
    )
}
