//! Email notifications against a real SMTP server that requires STARTTLS
//! and AUTH: what arrives, retries, failures, restarts and two workers.

use std::collections::HashSet;
use std::time::Duration;

use ist_intake::accounts::Role;
use ist_intake::config::Settings;
use ist_intake::notify::sender::{Outgoing, Sender};
use ist_intake::notify::{outbox, worker};
use sqlx::PgPool;

use crate::smtp::{Behaviour, QUEUE_ADDRESS, SmtpServer, USER, header};
use crate::support::{Browser, TestApp, fill_app_registration, submission_key, valid_app_registration};

const REQUESTER: &str = "dana@uwaterloo.ca";

async fn app_with_mail(pool: PgPool, server: &SmtpServer) -> TestApp {
    let settings = Settings { mail: Some(server.mail_settings()), ..Settings::default() };
    TestApp::spawn_with(pool, settings).await
}

/// Submits a valid app-registration request and returns its reference.
async fn submit(app: &TestApp, browser: &mut Browser) -> String {
    let check = fill_app_registration(browser, &valid_app_registration()).await;
    browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    sqlx::query_scalar("SELECT reference FROM requests ORDER BY id DESC LIMIT 1").fetch_one(&app.pool).await.unwrap()
}

/// Sends until nothing is due, as a worker would.
async fn drain(app: &TestApp, server: &SmtpServer) {
    let settings = server.mail_settings();
    let sender = Sender::new(&settings.smtp).unwrap();
    while worker::send_one(&app.pool, &sender, &settings).await.unwrap() {}
}

async fn statuses(app: &TestApp) -> Vec<(String, String, i32)> {
    sqlx::query_as("SELECT kind, status::text, attempts FROM outbox ORDER BY id").fetch_all(&app.pool).await.unwrap()
}

fn to(messages: &[String], address: &str) -> Vec<String> {
    messages.iter().filter(|message| header(message, "X-Test-Rcpt").as_deref() == Some(address)).cloned().collect()
}

#[sqlx::test]
async fn message_arrives_after_starttls_and_auth(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    drain(&app, &server).await;

    let messages = server.messages();
    let receipt = to(&messages, REQUESTER);
    assert_eq!(receipt.len(), 1, "{messages:?}");
    let receipt = &receipt[0];
    assert_eq!(header(receipt, "X-Test-TLS").as_deref(), Some("yes"));
    assert_eq!(header(receipt, "X-Test-Auth").as_deref(), Some(USER));
    assert_eq!(
        header(receipt, "Subject").as_deref(),
        Some(format!("[{reference}] We received your request: Acme Room Booking").as_str())
    );
    // The receipt is the root of the requester's thread; later messages refer to it.
    let thread = format!("<request.{reference}@uwaterloo.ca>");
    assert_eq!(header(receipt, "Message-ID").as_deref(), Some(thread.as_str()));
    assert_eq!(header(receipt, "In-Reply-To"), None);
    assert!(
        header(receipt, "From").is_some_and(|from| from.starts_with("\"IST email-sending requests\"")),
        "{receipt}"
    );
    assert!(header(receipt, "Content-Type").is_some_and(|value| value.starts_with("multipart/alternative")));
    assert!(receipt.contains("Content-Type: text/plain"), "{receipt}");
    assert!(receipt.contains("Content-Type: text/html"), "{receipt}");
    assert!(receipt.contains(&format!("http://127.0.0.1:8080/requests/{reference}")), "{receipt}");

    let queue = to(&messages, QUEUE_ADDRESS);
    assert_eq!(queue.len(), 1, "{messages:?}");
    assert!(queue[0].contains(&format!("http://127.0.0.1:8080/review/{reference}")), "{}", queue[0]);
    let queue_thread = format!("<review.{reference}@uwaterloo.ca>");
    assert_eq!(header(&queue[0], "Message-ID").as_deref(), Some(queue_thread.as_str()));
}

#[sqlx::test]
async fn server_without_starttls_receives_nothing(pool: PgPool) {
    let server = SmtpServer::start(Behaviour { no_starttls: true, ..Behaviour::default() });
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;
    let settings = server.mail_settings();
    let sender = Sender::new(&settings.smtp).unwrap();
    worker::send_one(&app.pool, &sender, &settings).await.unwrap();

    assert_eq!(server.messages(), Vec::<String>::new());
    let first: (String, i32, Option<String>) =
        sqlx::query_as("SELECT status::text, attempts, last_error FROM outbox ORDER BY attempts DESC, id LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((first.0.as_str(), first.1), ("pending", 1));
    assert!(first.2.is_some_and(|error| !error.is_empty()));
}

#[sqlx::test]
async fn temporary_refusal_then_success_delivers_once(pool: PgPool) {
    let server = SmtpServer::start(Behaviour { refuse_data: 1, ..Behaviour::default() });
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;
    drain(&app, &server).await;

    let messages = server.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let ids: HashSet<String> = messages.iter().filter_map(|message| header(message, "Message-ID")).collect();
    assert_eq!(ids.len(), 2);
    let rows = statuses(&app).await;
    assert!(rows.iter().all(|(_, status, _)| status == "sent"), "{rows:?}");
    assert_eq!(rows.iter().map(|(_, _, attempts)| attempts).sum::<i32>(), 3, "{rows:?}");
}

#[sqlx::test]
async fn permanent_refusal_is_listed_for_resend(pool: PgPool) {
    let server = SmtpServer::start(Behaviour { reject_recipients: true, ..Behaviour::default() });
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    drain(&app, &server).await;

    assert_eq!(server.messages(), Vec::<String>::new());
    let rows = statuses(&app).await;
    assert!(rows.iter().all(|(_, status, _)| status == "failed"), "{rows:?}");
    assert!(rows.iter().all(|(_, _, attempts)| *attempts == 1), "{rows:?}");

    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let page = reviewer.get("/review/outbox").await;
    assert_eq!(page.h1(), "Notifications that could not be sent");
    let subjects = page.texts("table tbody td:nth-child(3)");
    assert!(subjects.contains(&format!("[{reference}] We received your request: Acme Room Booking")), "{subjects:?}");
    assert!(page.text("table tbody td:nth-child(5)").contains("550"), "{}", page.text("table tbody td:nth-child(5)"));

    let id: i64 = sqlx::query_scalar("SELECT min(id) FROM outbox").fetch_one(&app.pool).await.unwrap();
    reviewer.post(&format!("/review/outbox/{id}/resend"), &[]).await;
    let resent: (String, i32) = sqlx::query_as("SELECT status::text, attempts FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(resent, ("pending".to_owned(), 0));
}

#[sqlx::test]
async fn worker_started_after_commit_still_delivers(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;
    // The service stopped after the commit: nothing is sent yet.
    assert_eq!(server.messages().len(), 0);
    assert_eq!(statuses(&app).await.iter().filter(|(_, status, _)| status == "pending").count(), 2);

    // A restarted service's worker finds the messages and sends them.
    let settings = server.mail_settings();
    let worker = tokio::spawn(worker::run(app.pool.clone(), Sender::new(&settings.smtp).unwrap(), settings));
    let delivered = wait_for(|| server.messages().len() == 2).await;
    worker.abort();
    assert!(delivered, "{:?}", server.messages());
}

async fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

#[sqlx::test]
async fn two_workers_deliver_each_message_once(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut conn = app.pool.acquire().await.unwrap();
    for number in 0..20 {
        let outgoing = Outgoing {
            recipient: format!("person{number}@uwaterloo.ca"),
            subject: format!("Message {number}"),
            text_body: "Text".to_owned(),
            html_body: "<p>Text</p>".to_owned(),
            message_id: format!("<message-{number}@uwaterloo.ca>"),
            thread_id: "<thread@uwaterloo.ca>".to_owned(),
        };
        outbox::insert(&mut conn, None, "test", &outgoing).await.unwrap();
    }
    drop(conn);

    let settings = server.mail_settings();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let settings = settings.clone();
            tokio::spawn(worker::run(app.pool.clone(), Sender::new(&settings.smtp).unwrap(), settings))
        })
        .collect();
    let delivered = wait_for(|| server.messages().len() >= 20).await;
    // Give a duplicate, if any, time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for worker in workers {
        worker.abort();
    }
    assert!(delivered);
    let messages = server.messages();
    assert_eq!(messages.len(), 20);
    let ids: HashSet<String> = messages.iter().filter_map(|message| header(message, "Message-ID")).collect();
    assert_eq!(ids.len(), 20);
}

#[sqlx::test]
async fn switched_off_notifications_queue_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
}

#[sqlx::test]
async fn decisions_only_skips_receipts_and_replies(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let saved = browser.post("/account", &[("notifications", "decisions_only")]).await;
    assert!(saved.text("[role=status]").contains("saved"), "{}", saved.body_text());
    let reference = submit(&app, &mut browser).await;

    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let base = format!("/review/{reference}");
    reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "We are looking at it."), ("visibility", "reply"), ("action", "save")],
        )
        .await;
    reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "Internal only."), ("visibility", "internal"), ("action", "save")],
        )
        .await;
    let page = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let version = page.attr("input[name=version]", "value").unwrap();
    reviewer
        .post(
            &format!("{base}/question"),
            &[("version", &version), ("question_text", "Which mailbox sends?"), ("fields", "sending_address")],
        )
        .await;

    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM outbox ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(kinds, vec!["new_submission".to_owned(), "question".to_owned()]);
    drain(&app, &server).await;
    let question = to(&server.messages(), REQUESTER);
    assert_eq!(question.len(), 1);
    assert!(question[0].contains("Which mailbox sends?"), "{}", question[0]);
    assert!(question[0].contains("IST asks you to check these fields: Sending email address."), "{}", question[0]);
    assert!(!question[0].contains("Internal only."), "{}", question[0]);
}

#[sqlx::test]
async fn every_update_gets_replies_but_never_internal_notes(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let base = format!("/review/{reference}");
    reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "Secret triage note."), ("visibility", "internal"), ("action", "save")],
        )
        .await;
    reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "Thanks, we are on it."), ("visibility", "reply"), ("action", "save")],
        )
        .await;
    drain(&app, &server).await;

    let messages = server.messages();
    assert!(messages.iter().all(|message| !message.contains("Secret triage note.")));
    let requester = to(&messages, REQUESTER);
    assert_eq!(requester.len(), 2, "{requester:?}");
    let reply: Vec<&String> = requester.iter().filter(|message| message.contains("Thanks, we are on it.")).collect();
    assert_eq!(reply.len(), 1);
    let thread = format!("<request.{reference}@uwaterloo.ca>");
    assert_eq!(header(reply[0], "In-Reply-To").as_deref(), Some(thread.as_str()));
    assert_eq!(header(reply[0], "References").as_deref(), Some(thread.as_str()));
}

#[sqlx::test]
async fn mail_test_command_sends_one_message(_pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let password = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(password.path(), format!("{}\n", crate::smtp::PASSWORD)).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ist-intake"))
        .args(["mail", "test", "--to", "check@uwaterloo.ca"])
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", server.port.to_string())
        .env("SMTP_USERNAME", USER)
        .env("SMTP_PASSWORD_FILE", password.path())
        .env("MAIL_FROM", "ist-intake@uwaterloo.ca")
        .env("SMTP_CA_FILE", server.ca_file())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("Sent a test message to check@uwaterloo.ca"), "{stdout}");
    assert!(!stdout.contains(crate::smtp::PASSWORD));
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(header(&messages[0], "X-Test-TLS").as_deref(), Some("yes"));
}

#[sqlx::test]
async fn mail_test_command_refuses_a_server_without_starttls(_pool: PgPool) {
    let server = SmtpServer::start(Behaviour { no_starttls: true, ..Behaviour::default() });
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ist-intake"))
        .args(["mail", "test", "--to", "check@uwaterloo.ca"])
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", server.port.to_string())
        .env("SMTP_USERNAME", USER)
        .env("SMTP_PASSWORD", crate::smtp::PASSWORD)
        .env("MAIL_FROM", "ist-intake@uwaterloo.ca")
        .env("SMTP_CA_FILE", server.ca_file())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.starts_with("error: the test message was not sent: the relay does not offer STARTTLS"), "{stderr}");
    assert!(!stderr.contains(crate::smtp::PASSWORD), "{stderr}");
    assert_eq!(server.messages().len(), 0);
}

#[sqlx::test]
async fn rejection_tells_the_requester_why(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let base = format!("/review/{reference}");
    let page = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let version = page.attr("input[name=version]", "value").unwrap();
    reviewer
        .post(&format!("{base}/reject"), &[("version", &version), ("reject_reason", "The vendor cannot use OAuth.")])
        .await;
    drain(&app, &server).await;

    let decision: Vec<String> = to(&server.messages(), REQUESTER)
        .into_iter()
        .filter(|message| header(message, "Subject").is_some_and(|subject| subject.contains("was not approved")))
        .collect();
    assert_eq!(decision.len(), 1);
    assert!(decision[0].contains("The vendor cannot use OAuth."), "{}", decision[0]);
}

#[sqlx::test]
async fn silent_server_counts_as_a_temporary_failure(pool: PgPool) {
    // A server that accepts the connection and never writes a byte.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = SmtpServer::start(Behaviour::default());
    let mut settings = silent.mail_settings();
    settings.smtp.port = port;
    settings.smtp.timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(pool, Settings { mail: Some(settings.clone()), ..Settings::default() }).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;

    let sender = Sender::new(&settings.smtp).unwrap();
    let started = std::time::Instant::now();
    assert!(worker::send_one(&app.pool, &sender, &settings).await.unwrap());
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE attempts = 1").fetch_one(&app.pool).await.unwrap();
    assert!(error.is_some_and(|error| error.contains("did not finish the conversation within 1 s")));
    drop(listener);
}

#[sqlx::test]
async fn withdrawal_tells_the_queue(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    browser.post(&format!("/requests/{reference}/withdraw"), &[("version", "1")]).await;
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM outbox ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(kinds.last().map(String::as_str), Some("withdrawn"));
}

#[sqlx::test]
async fn queue_address_as_a_requester_still_submits(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(QUEUE_ADDRESS, Role::Requester).await;
    let reference = submit(&app, &mut browser).await;
    assert!(reference.starts_with("IST-AR-"), "{reference}");
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 2);
}

#[sqlx::test]
async fn first_email_of_a_decisions_only_requester_is_the_root(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    browser.post("/account", &[("notifications", "decisions_only")]).await;
    let reference = submit(&app, &mut browser).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let base = format!("/review/{reference}");
    let page = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let version = page.attr("input[name=version]", "value").unwrap();
    reviewer
        .post(
            &format!("{base}/question"),
            &[("version", &version), ("question_text", "Which mailbox?"), ("fields", "vendor")],
        )
        .await;
    drain(&app, &server).await;

    let question = to(&server.messages(), REQUESTER);
    assert_eq!(question.len(), 1);
    let root = format!("<request.{reference}@uwaterloo.ca>");
    assert_eq!(header(&question[0], "Message-ID").as_deref(), Some(root.as_str()));
    assert_eq!(header(&question[0], "In-Reply-To"), None);
}

#[sqlx::test]
async fn resending_a_message_that_is_not_failed_says_so(pool: PgPool) {
    let server = SmtpServer::start(Behaviour::default());
    let app = app_with_mail(pool, &server).await;
    let mut browser = app.signed_in(REQUESTER, Role::Requester).await;
    submit(&app, &mut browser).await;
    let id: i64 = sqlx::query_scalar("SELECT min(id) FROM outbox").fetch_one(&app.pool).await.unwrap();
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let page = reviewer.post(&format!("/review/outbox/{id}/resend"), &[]).await;
    assert!(page.text("[role=status]").starts_with("Nothing changed"), "{}", page.body_text());
}
