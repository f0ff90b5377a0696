//! Users, roles, password hashing and the signed-in session.

pub mod account;
pub mod password;
pub mod session;
pub mod sign_in;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, clap::ValueEnum)]
#[sqlx(type_name = "user_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Any member of the university; sees only their own requests.
    Requester,
    /// IST staff; works the whole queue.
    Reviewer,
    /// A reviewer; user and role management pages will be limited to admins.
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(transparent)]
pub struct UserId(pub i64);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub department: Option<String>,
    pub role: Role,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

impl User {
    pub fn is_reviewer(&self) -> bool {
        matches!(self.role, Role::Reviewer | Role::Admin)
    }
}

/// A new local account, checked before it is stored.
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub department: Option<String>,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    #[error("invalid email address {0:?}: expected a form like name@uwaterloo.ca")]
    InvalidEmail(String),
    #[error("the name is empty: pass --name with the person's full name")]
    EmptyName,
    #[error("the {field} is invalid: use at most {max} characters and no control characters")]
    InvalidText { field: &'static str, max: usize },
    #[error("the password is too short: use at least {min} characters, not counting spaces at either end")]
    ShortPassword { min: usize },
    #[error("a user with email {0} already exists")]
    DuplicateEmail(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_NAME_CHARS: usize = 200;

fn is_plain_text(value: &str, max: usize) -> bool {
    value.chars().count() <= max && !crate::intake::forms::has_control_characters(value)
}

/// Stores a new local account with an argon2id hash of its password.
pub async fn create_user(conn: &mut PgConnection, new_user: NewUser) -> Result<User, NewUserError> {
    let email = new_user.email.trim().to_lowercase();
    if !crate::requests::validation::is_email(&email) {
        return Err(NewUserError::InvalidEmail(new_user.email));
    }
    let display_name = new_user.display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(NewUserError::EmptyName);
    }
    // The same limits as the request forms' name and department fields, which are pre-filled from the account.
    if !is_plain_text(&display_name, MAX_NAME_CHARS) {
        return Err(NewUserError::InvalidText { field: "name", max: MAX_NAME_CHARS });
    }
    if new_user.department.as_deref().is_some_and(|department| !is_plain_text(department.trim(), MAX_NAME_CHARS)) {
        return Err(NewUserError::InvalidText { field: "department", max: MAX_NAME_CHARS });
    }
    if new_user.password.trim().chars().count() < MIN_PASSWORD_CHARS {
        return Err(NewUserError::ShortPassword { min: MIN_PASSWORD_CHARS });
    }
    let hash = password::hash(&new_user.password).map_err(|err| NewUserError::Hash(err.to_string()))?;
    let department = new_user.department.map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());

    let inserted = sqlx::query_as::<_, User>(
        "INSERT INTO users (email, display_name, department, role, password_hash)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, display_name, department, role",
    )
    .bind(&email)
    .bind(&display_name)
    .bind(&department)
    .bind(new_user.role)
    .bind(&hash)
    .fetch_one(conn)
    .await;

    match inserted {
        Ok(user) => Ok(user),
        Err(sqlx::Error::Database(db_err)) if db_err.constraint() == Some("users_email_key") => {
            Err(NewUserError::DuplicateEmail(email))
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn find_user(conn: &mut PgConnection, id: UserId) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, User>("SELECT id, email, display_name, department, role FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Looks up a local account by email and returns it with its password hash.
pub async fn find_for_sign_in(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(User, Option<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: Option<String>,
    }
    let row = sqlx::query_as::<_, Row>(
        "SELECT id, email, display_name, department, role, password_hash FROM users WHERE email = $1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.user, row.password_hash)))
}
