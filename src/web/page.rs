//! Extractors that load the visitor's session, user and CSRF token, and
//! decide who may use a route: [`Page`] for anyone, [`SignedIn`] for any
//! signed-in user and [`ReviewerPage`] for reviewers and admins.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::{AppError, csrf};
use crate::accounts::{self, User};
use crate::app::AppState;

/// Layout data shown on every page.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub user_name: Option<String>,
    pub is_reviewer: bool,
    /// Empty on error pages rendered without a session; the sign-out form is then hidden.
    pub csrf_token: String,
    pub service_desk_url: String,
    pub relay_article_url: String,
    /// The header's sign-in link, which returns to the current page.
    pub sign_in_url: String,
}

impl Chrome {
    /// Chrome for pages rendered without a request context, such as error pages.
    pub fn bare() -> Chrome {
        Chrome::default()
    }
}

/// The request context of any page, signed in or not.
#[derive(Clone)]
pub struct Page {
    pub session: Session,
    pub user: Option<User>,
    pub csrf_token: String,
    pub state: AppState,
    /// Path and query of the request, for the sign-in link's return path.
    pub path_and_query: String,
}

impl Page {
    pub fn chrome(&self) -> Chrome {
        Chrome {
            user_name: self.user.as_ref().map(|user| user.display_name.clone()),
            is_reviewer: self.user.as_ref().is_some_and(User::is_reviewer),
            csrf_token: self.csrf_token.clone(),
            service_desk_url: self.state.settings.service_desk_url.to_string(),
            relay_article_url: self.state.settings.relay_article_url.to_string(),
            sign_in_url: sign_in_url(&self.path_and_query),
        }
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| AppError::Internal(anyhow::anyhow!("session unavailable: {message}")))?;
        let user = accounts::session::current_user(&session, &state.db).await?;
        let csrf_token = csrf::token(&session).await?;
        Ok(Page { session, user, csrf_token, state: state.clone(), path_and_query: return_path(parts) })
    }
}

/// Builds the header of a page from a session, for pages rendered outside
/// a handler, such as error pages.
pub async fn chrome_for(session: &Session, state: &AppState, path: &str) -> Result<Chrome, AppError> {
    let user = accounts::session::current_user(session, &state.db).await?;
    let csrf_token = csrf::token(session).await?;
    let page =
        Page { session: session.clone(), user, csrf_token, state: state.clone(), path_and_query: path.to_owned() };
    Ok(page.chrome())
}

/// Where to return after signing in. A POST cannot be repeated by a
/// redirect, so it returns to the page that shows the form instead.
fn return_path(parts: &Parts) -> String {
    let path = parts.uri.path();
    if parts.method == Method::GET {
        return parts.uri.path_and_query().map_or(path, |value| value.as_str()).to_owned();
    }
    if let Some(base) = path.strip_suffix("/submit") {
        return format!("{base}/check");
    }
    if path == "/review/assign" {
        return "/review".to_owned();
    }
    if path.starts_with("/review/outbox/") {
        return "/review/outbox".to_owned();
    }
    // A post to a request's action comes back to the request's page, because
    // the action's own path has no page to show.
    const ACTIONS: [&str; 4] = ["/documents", "/withdraw", "/answer", "/notes"];
    if let Some(base) = ACTIONS.iter().find_map(|action| path.strip_suffix(action))
        && (base.starts_with("/requests/") || base.starts_with("/review/"))
    {
        return base.to_owned();
    }
    if let Some(base) =
        path.strip_prefix("/review/").and_then(|rest| rest.rsplit_once('/')).map(|(reference, _)| reference)
    {
        return format!("/review/{base}");
    }
    path.to_owned()
}

/// The sign-in URL that comes back to `path` afterwards, except from the
/// sign-in page itself or the start page.
fn sign_in_url(path: &str) -> String {
    if path == "/" || path.starts_with("/sign-in") {
        return "/sign-in".to_owned();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/sign-in?next={encoded}")
}

/// Any signed-in user. Signed-out visitors are sent to sign in.
#[derive(Clone)]
pub struct SignedIn {
    pub page: Page,
    pub user: User,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let page = Page::from_request_parts(parts, state).await?;
        match page.user.clone() {
            Some(user) => Ok(SignedIn { page, user }),
            None => Err(AppError::SignInRequired { next: return_path(parts) }),
        }
    }
}

/// Reviewers and admins. Other signed-in users get 403.
#[derive(Clone)]
pub struct ReviewerPage {
    pub page: Page,
    pub user: User,
}

impl FromRequestParts<AppState> for ReviewerPage {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn { page, user } = SignedIn::from_request_parts(parts, state).await?;
        if user.is_reviewer() { Ok(ReviewerPage { page, user }) } else { Err(AppError::Forbidden) }
    }
}
