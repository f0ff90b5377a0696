//! Searching the Microsoft Graph permission catalogue and the built-in
//! Exchange Online list: a page that works
//! without JavaScript, and two small JSON endpoints for the form's picker.

use askama::Template;
use axum::Json;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::graph::{self, Catalogue, Permission, SearchRank, risk};
use crate::requests::{PermissionApi, PermissionType, Scope};
use crate::web::page::Chrome;
use crate::web::{AppError, Page, render};

/// Maximum number of results on the search page.
const PAGE_RESULTS: usize = 50;
/// Maximum number of results the picker shows under a field.
const PICKER_RESULTS: usize = 8;
/// Maximum query length, in characters; longer queries are cut.
const MAX_QUERY_CHARS: usize = 100;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn clean_query(query: &str) -> String {
    let query: String = query.chars().filter(|ch| !ch.is_control()).take(MAX_QUERY_CHARS).collect();
    graph::without_resource(query.trim()).to_owned()
}

/// Searches Microsoft Graph and the built-in Exchange Online list together,
/// best matches first.
fn search_all(query: &str, limit: usize) -> Vec<(PermissionApi, &'static Permission)> {
    let mut found: Vec<(SearchRank, PermissionApi, &'static Permission)> = Vec::new();
    for (api, catalogue) in [
        (PermissionApi::MicrosoftGraph, Catalogue::shipped()),
        (PermissionApi::ExchangeOnline, Catalogue::exchange_online()),
    ] {
        for permission in catalogue.search(query, limit) {
            if let Some(rank) = SearchRank::of(permission, query) {
                found.push((rank, api, permission));
            }
        }
    }
    found.sort_by(|left, right| left.0.cmp(&right.0));
    found.into_iter().take(limit).map(|(_, api, permission)| (api, permission)).collect()
}

#[derive(Template)]
#[template(path = "intake/permissions.html")]
struct SearchPage {
    chrome: Chrome,
    query: String,
    results: Vec<(PermissionApi, &'static Permission)>,
    total: usize,
}

/// GET /permissions: anyone.
pub async fn search_page(page: Page, Query(query): Query<SearchQuery>) -> Result<Response, AppError> {
    let query = clean_query(&query.q);
    let results = search_all(&query, PAGE_RESULTS);
    let total = Catalogue::shipped().len() + Catalogue::exchange_online().len();
    render(&SearchPage { chrome: page.chrome(), total, query, results })
}

#[derive(Serialize)]
pub struct PickerResult {
    api: &'static str,
    api_label: &'static str,
    name: String,
    #[serde(rename = "type")]
    permission_type: &'static str,
    display_name: String,
}

/// GET /permissions/search.json: anyone; the picker's suggestions.
pub async fn search_json(Query(query): Query<SearchQuery>) -> Response {
    let query = clean_query(&query.q);
    let results: Vec<PickerResult> = search_all(&query, PICKER_RESULTS)
        .into_iter()
        .map(|(api, permission)| PickerResult {
            api: api.as_str(),
            api_label: api.label(),
            name: permission.name.clone(),
            permission_type: permission.permission_type.as_str(),
            display_name: permission.display_name.clone(),
        })
        .collect();
    Json(results).into_response()
}

#[derive(Deserialize)]
pub struct NotesQuery {
    #[serde(default)]
    api: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    permission_type: String,
}

#[derive(Serialize)]
pub struct NotesAnswer {
    notes: Vec<&'static str>,
}

/// GET /permissions/notes.json: anyone. Returns the notes shown to a
/// requester who picks a high-risk permission, as the form shows them after a round trip.
pub async fn notes_json(Query(query): Query<NotesQuery>) -> Response {
    let api = PermissionApi::parse(&query.api).unwrap_or_default();
    let notes = match PermissionType::parse(&query.permission_type) {
        Some(permission_type) if !query.name.trim().is_empty() => {
            let name = graph::without_resource(&clean_query(&query.name)).to_owned();
            let catalogue = match api {
                PermissionApi::ExchangeOnline => Some(Catalogue::exchange_online()),
                PermissionApi::MicrosoftGraph => Some(Catalogue::shipped()),
                PermissionApi::Other => None,
            };
            let listed = catalogue.and_then(|catalogue| {
                catalogue.find(&name).into_iter().find(|permission| permission.permission_type == permission_type)
            });
            let scope = Scope {
                api,
                api_name: None,
                name: listed.map_or(name.clone(), |permission| permission.name.clone()),
                permission_type,
                unlisted: listed.is_none(),
                justification: None,
            };
            risk::requester_notes(&scope)
        }
        _ => Vec::new(),
    };
    Json(NotesAnswer { notes }).into_response()
}
