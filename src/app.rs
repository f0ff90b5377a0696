//! The application state and the one route table.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sqlx::PgPool;
use tower_http::request_id::PropagateRequestIdLayer;
use tower_http::timeout::TimeoutLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::Settings;
use crate::intake::app_registration::AppRegistrationForm;
use crate::intake::exception::ExceptionForm;
use crate::intake::request_flow;
use crate::policy::Policy;
use crate::{accounts, attachments, intake, review, web};

/// State shared by every handler, cheap to clone. It contains no per-user
/// state, so several instances can serve one database.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub policy: Arc<Policy>,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn new(db: PgPool, policy: Policy, settings: Settings) -> Self {
        AppState { db, policy: Arc::new(policy), settings: Arc::new(settings) }
    }
}

/// Time allowed for a request, except an upload.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed for a post that may carry files: a full set at the default
/// limits (about 70 MiB) arrives in this time at 1 Mbit/s.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Idle sessions end after this long.
const SESSION_IDLE_LIMIT: time::Duration = time::Duration::hours(8);

/// Builds the session store on the `sessions` table that the migrations create.
pub fn session_store(db: PgPool) -> PostgresStore {
    PostgresStore::new(db)
        .with_schema_name("public")
        .and_then(|store| store.with_table_name("sessions"))
        .expect("`public.sessions` is a valid table name")
}

/// Builds the router that production serves and tests drive.
///
/// Who may use each route is enforced by the extractor its handler takes:
/// `Page` (anyone), `SignedIn` (any signed-in user) or `ReviewerPage`
/// (reviewers and admins). The comments below repeat it for readers.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(session_store(state.db.clone()))
        .with_name("ist_intake_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.cookies_secure())
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE_LIMIT));

    let routes = Router::new()
        // Anyone, signed in or not.
        .route("/", get(intake::start::start_page))
        .route("/tree", get(intake::tree::continue_tree))
        .route("/tree/restart", post(intake::tree::restart))
        .route("/tree/outcome", get(intake::outcome::outcome_page))
        .route("/tree/{question}", get(intake::tree::question_page).post(intake::tree::answer_question))
        .route("/tree/{question}/not-covered", post(intake::tree::not_covered))
        .route("/sign-in", get(accounts::sign_in::sign_in_page).post(accounts::sign_in::sign_in))
        .route("/sign-out", post(accounts::sign_in::sign_out))
        .route("/health", get(web::health))
        .route("/permissions", get(intake::permissions::search_page))
        .route("/permissions/search.json", get(intake::permissions::search_json))
        .route("/permissions/notes.json", get(intake::permissions::notes_json))
        // Any signed-in user; requesters see only their own requests.
        .route("/requests/new/app-registration", get(request_flow::form_page::<AppRegistrationForm>))
        .route("/requests/new/app-registration/check", get(request_flow::check_page::<AppRegistrationForm>))
        .route("/requests/new/app-registration/submit", post(request_flow::submit::<AppRegistrationForm>))
        .route("/requests/new/exception", get(request_flow::form_page::<ExceptionForm>))
        .route("/requests/new/exception/check", get(request_flow::check_page::<ExceptionForm>))
        .route("/requests/new/exception/submit", post(request_flow::submit::<ExceptionForm>))
        .route("/requests", get(intake::my_requests::list))
        .route("/account", get(accounts::account::account_page).post(accounts::account::save_preference))
        .route("/requests/{reference}", get(intake::answer::detail))
        .route("/requests/{reference}/answer", post(intake::answer::answer))
        .route("/requests/{reference}/withdraw", post(intake::answer::withdraw))
        .route("/requests/{reference}/submitted", get(intake::my_requests::confirmation))
        // The request's requester and reviewers; anyone else gets 404.
        .route("/requests/{reference}/documents/{document}", get(attachments::web::download))
        // Reviewers and admins.
        .route("/review", get(review::queue::queue_page))
        .route("/review/export.csv", get(review::queue::export_csv))
        .route("/review/assign", post(review::queue::bulk_assign))
        .route("/review/outbox", get(review::outbox::outbox_page))
        .route("/review/outbox/{id}/resend", post(review::outbox::resend))
        .route("/review/{reference}", get(review::detail::detail_page))
        .route("/review/{reference}/take", post(review::actions::take))
        .route("/review/{reference}/question", post(review::actions::ask_question))
        .route("/review/{reference}/approve", post(review::actions::approve))
        .route("/review/{reference}/reject", post(review::actions::reject))
        .route("/review/{reference}/complete", post(review::actions::complete))
        .route("/review/{reference}/notes", post(review::actions::add_note))
        .route("/review/{reference}/assign", post(review::actions::assign))
        .route("/static/{file}", get(web::static_file))
        .fallback(web::not_found)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));

    // Posts that may carry files get a larger body limit and more time, so
    // a large upload on a slow connection can finish.
    let uploads = Router::new()
        // Any signed-in user.
        .route("/requests/new/app-registration", post(request_flow::save_form::<AppRegistrationForm>))
        .route("/requests/new/exception", post(request_flow::save_form::<ExceptionForm>))
        // The request's requester only.
        .route("/requests/{reference}/documents", post(attachments::web::add))
        .layer(DefaultBodyLimit::max(state.settings.uploads.max_body_bytes()))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, UPLOAD_TIMEOUT));

    routes
        .merge(uploads)
        .layer(axum::middleware::from_fn(web::csrf::verify_post))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::error::error_pages))
        .layer(sessions)
        .layer(axum::middleware::from_fn(web::headers::security_headers))
        .layer(web::trace::layer())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn(web::trace::assign_request_id))
        .with_state(state)
}
