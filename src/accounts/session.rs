//! The user a browser session belongs to, and signing in and out.

use sqlx::PgPool;
use tower_sessions::Session;

use super::{User, UserId, find_user};
use crate::web::{AppError, csrf};

const USER_KEY: &str = "user_id";

pub async fn current_user(session: &Session, db: &PgPool) -> Result<Option<User>, AppError> {
    let Some(id) = session.get::<UserId>(USER_KEY).await? else {
        return Ok(None);
    };
    let mut conn = db.acquire().await?;
    Ok(find_user(&mut conn, id).await?)
}

/// Marks the session as signed in. A new session id stops session fixation.
/// The tree answers and drafts of a signed-out visitor are kept; those of a
/// different user who was signed in on the same browser are cleared.
pub async fn sign_in(session: &Session, user: UserId) -> Result<(), AppError> {
    let previous = session.get::<UserId>(USER_KEY).await?;
    if previous.is_some_and(|previous| previous != user) {
        crate::intake::state::clear(session).await?;
    }
    session.cycle_id().await?;
    session.insert(USER_KEY, user).await?;
    csrf::rotate(session).await?;
    Ok(())
}

/// Ends the session entirely, answers and drafts included.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}
