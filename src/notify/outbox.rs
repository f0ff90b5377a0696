//! The outbox table: writing a message in the caller's transaction,
//! claiming due messages so that no two workers send the same one, and the
//! failed list reviewers can resend from.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use super::sender::Outgoing;

/// Writes a message to send, in the caller's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    request_id: Option<i64>,
    kind: &str,
    outgoing: &Outgoing,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (request_id, kind, recipient, subject, text_body, html_body, message_id, thread_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(request_id)
    .bind(kind)
    .bind(&outgoing.recipient)
    .bind(&outgoing.subject)
    .bind(&outgoing.text_body)
    .bind(&outgoing.html_body)
    .bind(&outgoing.message_id)
    .bind(&outgoing.thread_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A claimed message, locked until its transaction ends.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub attempts: i32,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub message_id: String,
    pub thread_id: String,
}

impl Claimed {
    pub fn outgoing(&self) -> Outgoing {
        Outgoing {
            recipient: self.recipient.clone(),
            subject: self.subject.clone(),
            text_body: self.text_body.clone(),
            html_body: self.html_body.clone(),
            message_id: self.message_id.clone(),
            thread_id: self.thread_id.clone(),
        }
    }
}

/// Locks the oldest due message. SKIP LOCKED lets other workers take other
/// messages meanwhile, and the lock lasts while this one is sent.
pub async fn claim(tx: &mut Transaction<'_, Postgres>) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, attempts, recipient, subject, text_body, html_body, message_id, thread_id
         FROM outbox
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut **tx)
    .await
}

pub async fn mark_sent(tx: &mut Transaction<'_, Postgres>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn mark_failed(tx: &mut Transaction<'_, Postgres>, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Schedules another try. The wait counts from now on the clock, not from
/// the start of the transaction, which began before the relay was contacted.
pub async fn retry_later(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    error: &str,
    delay: std::time::Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = clock_timestamp() + make_interval(secs => $3)
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(delay.as_secs_f64())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A failed message as listed for reviewers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailedMessage {
    pub id: i64,
    pub reference: Option<String>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
}

/// Lists the most recent failed messages, newest first.
pub async fn failed(conn: &mut PgConnection, limit: i64) -> Result<Vec<FailedMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT outbox.id, requests.reference, outbox.kind, outbox.recipient, outbox.subject, outbox.attempts,
                outbox.last_error, outbox.created_at, outbox.next_attempt_at
         FROM outbox LEFT JOIN requests ON requests.id = outbox.request_id
         WHERE outbox.status = 'failed'
         ORDER BY outbox.created_at DESC, outbox.id DESC
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Lists messages that failed at least once and wait for another try.
pub async fn retrying(conn: &mut PgConnection, limit: i64) -> Result<Vec<FailedMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT outbox.id, requests.reference, outbox.kind, outbox.recipient, outbox.subject, outbox.attempts,
                outbox.last_error, outbox.created_at, outbox.next_attempt_at
         FROM outbox LEFT JOIN requests ON requests.id = outbox.request_id
         WHERE outbox.status = 'pending' AND outbox.attempts > 0
         ORDER BY outbox.next_attempt_at, outbox.id
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Counts the messages waiting to be sent.
pub async fn pending_count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'").fetch_one(conn).await
}

/// Puts a failed message back in the queue for an immediate try. Returns
/// false when it was not failed, as after a second click.
pub async fn resend(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
         WHERE id = $1 AND status = 'failed'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
