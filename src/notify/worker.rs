//! The worker inside the service that sends due messages. Any number of
//! instances may run one against the same database.

use std::time::Duration;

use sqlx::PgPool;

use super::outbox;
use super::sender::{Outcome, Sender};
use crate::config::MailSettings;

/// Maximum wait between two tries of one message.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(6 * 3600);

/// Returns the wait before the next try, after `attempts` tries so far:
/// the base, then twice as long each time, up to six hours.
pub fn retry_delay(base: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
    base.saturating_mul(2u32.saturating_pow(doublings)).min(MAX_RETRY_DELAY)
}

/// Sends at most one due message. Returns whether there was one.
pub async fn send_one(pool: &PgPool, sender: &Sender, settings: &MailSettings) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(message) = outbox::claim(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let attempts = message.attempts + 1;
    match sender.send(&message.outgoing()).await {
        Outcome::Sent => {
            outbox::mark_sent(&mut tx, message.id).await?;
            tracing::info!(outbox_id = message.id, attempts, "sent notification {}", message.id);
        }
        Outcome::Permanent(error) => {
            outbox::mark_failed(&mut tx, message.id, &error).await?;
            tracing::warn!(outbox_id = message.id, attempts, error = %error, "notification {} failed: {error}", message.id);
        }
        Outcome::Temporary(error) if attempts >= settings.max_attempts => {
            outbox::mark_failed(&mut tx, message.id, &error).await?;
            tracing::warn!(
                outbox_id = message.id,
                attempts,
                error = %error,
                "notification {} failed after {attempts} tries: {error}",
                message.id
            );
        }
        Outcome::Temporary(error) => {
            let delay = retry_delay(settings.retry_base, attempts);
            outbox::retry_later(&mut tx, message.id, &error, delay).await?;
            tracing::info!(
                outbox_id = message.id,
                attempts,
                error = %error,
                "notification {} will be tried again in {} s: {error}",
                message.id,
                delay.as_secs()
            );
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Sends due messages until the task is stopped, resting between polls when
/// nothing is due. Database errors are logged and retried after a pause.
pub async fn run(pool: PgPool, sender: Sender, settings: MailSettings) {
    loop {
        match send_one(&pool, &sender, &settings).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::error!(error = %err, "the notification worker cannot reach the database: {err}"),
        }
        tokio::time::sleep(settings.poll_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_waits_the_base() {
        assert_eq!(retry_delay(Duration::from_secs(60), 1), Duration::from_secs(60));
    }

    #[test]
    fn each_retry_doubles_the_wait() {
        assert_eq!(retry_delay(Duration::from_secs(60), 4), Duration::from_secs(480));
    }

    #[test]
    fn retries_stop_growing_at_six_hours() {
        assert_eq!(retry_delay(Duration::from_secs(60), 40), MAX_RETRY_DELAY);
    }
}
