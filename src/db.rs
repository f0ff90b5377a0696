//! Connecting to PostgreSQL, creating the database and applying migrations.

use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

use crate::config::redact_url;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A start-up failure with one message for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

/// How long start-up waits for PostgreSQL before it gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Creates the database when it is missing, connects, and applies migrations.
/// A server that accepts connections but never answers fails after
/// [`CONNECT_TIMEOUT`] instead of hanging.
pub async fn connect_and_migrate(database_url: &str) -> Result<PgPool, StartupError> {
    let shown_url = redact_url(database_url);
    let unreachable = |err: sqlx::Error| {
        StartupError(format!(
            "connecting to PostgreSQL at {shown_url} failed: {err}. Check that PostgreSQL is running and \
             accepts connections there, and that DATABASE_URL names the right host, port, user and password."
        ))
    };

    let exists = tokio::time::timeout(CONNECT_TIMEOUT, Postgres::database_exists(database_url))
        .await
        .map_err(|_| {
            StartupError(format!(
                "connecting to PostgreSQL at {shown_url} timed out after {} s. Check that DATABASE_URL points at \
                 a PostgreSQL server and that nothing in between holds the connection.",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(unreachable)?;
    if !exists {
        Postgres::create_database(database_url).await.map_err(|err| {
            StartupError(format!(
                "creating the database at {shown_url} failed: {err}. Create it by hand, or connect as a \
                 role that has the CREATEDB privilege."
            ))
        })?;
        tracing::info!(database = %shown_url, "created database {shown_url}");
    }

    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect(database_url)
        .await
        .map_err(unreachable)?;

    MIGRATOR
        .run(&pool)
        .await
        .map_err(|err| StartupError(format!("applying migrations to {shown_url} failed: {err}")))?;
    Ok(pool)
}
