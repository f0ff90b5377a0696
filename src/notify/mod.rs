//! Email notifications. A change that notifies someone writes its messages to
//! the outbox in its own transaction ([`enqueue`]), so a rolled-back change
//! sends nothing and a crash loses nothing. The worker sends them later.

pub mod outbox;
pub mod sender;
pub mod worker;

use askama::Template;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::config::Settings;
use crate::requests::{RequestKind, RequestStatus};
use sender::Outgoing;

/// Something that happened to a request that someone should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A new request: a receipt to the requester, and word to the IST queue.
    Submitted,
    /// A reviewer asked the requester a question.
    Question,
    /// A reviewer approved, rejected or completed the request.
    Decision,
    /// A reviewer replied; internal notes are never a notice.
    Reply { body: String },
    /// The requester answered IST's question.
    Answered { message: Option<String> },
    /// The requester withdrew the request.
    Withdrawn,
}

/// A user's choice of which notifications to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "notification_preference", rename_all = "snake_case")]
pub enum Preference {
    EveryUpdate,
    /// Questions and decisions only: the messages that need the requester
    /// to act or tell them the outcome.
    DecisionsOnly,
}

impl Preference {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "every_update" => Some(Preference::EveryUpdate),
            "decisions_only" => Some(Preference::DecisionsOnly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preference::EveryUpdate => "every_update",
            Preference::DecisionsOnly => "decisions_only",
        }
    }
}

#[derive(sqlx::FromRow)]
struct RequestFacts {
    reference: String,
    kind: RequestKind,
    status: RequestStatus,
    application_name: String,
    requester_name: String,
    /// The account's address: the person who can sign in and see the request.
    account_email: String,
    department: String,
    open_question: Option<String>,
    question_fields: Vec<String>,
    rejection_reason: Option<String>,
    advice: Option<String>,
    preference: Preference,
}

/// The parts of one message, shared by the plain-text and HTML templates.
struct Content {
    heading: String,
    paragraphs: Vec<String>,
    /// Text quoted from the request, such as IST's question.
    quote_label: Option<&'static str>,
    quote: Option<String>,
    link_text: &'static str,
    link_url: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextMessage<'a> {
    content: &'a Content,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlMessage<'a> {
    content: &'a Content,
}

/// Writes the messages a notice causes, in the caller's transaction.
/// Does nothing when notifications are switched off.
pub async fn enqueue(
    conn: &mut PgConnection,
    settings: &Settings,
    request_id: i64,
    notice: &Notice,
) -> Result<(), sqlx::Error> {
    let Some(mail) = &settings.mail else {
        return Ok(());
    };
    let facts: RequestFacts = sqlx::query_as(
        "SELECT requests.reference, requests.kind, requests.status, requests.application_name,
                requests.requester_name, users.email AS account_email, requests.department,
                requests.open_question, requests.question_fields, requests.rejection_reason, requests.advice,
                users.notification_preference AS preference
         FROM requests JOIN users ON users.id = requests.requester_id
         WHERE requests.id = $1",
    )
    .bind(request_id)
    .fetch_one(&mut *conn)
    .await?;

    let domain = mail.smtp.from.rsplit('@').next().unwrap_or("localhost").to_owned();
    // The requester's messages and the IST queue's form two threads, each
    // rooted at the first message of its side.
    let thread_id = format!("<request.{}@{domain}>", facts.reference);
    let queue_thread_id = format!("<review.{}@{domain}>", facts.reference);
    let base = settings.public_url.as_str().trim_end_matches('/').to_owned();
    let requester_link = format!("{base}/requests/{}", facts.reference);
    let reviewer_link = format!("{base}/review/{}", facts.reference);

    let mut messages: Vec<(&str, String, String, Content)> = Vec::new();
    let to_requester = |kind: &'static str| -> bool { kind_reaches(kind, facts.preference) };
    match notice {
        Notice::Submitted => {
            if to_requester("submitted") {
                messages.push((
                    "submitted",
                    facts.account_email.clone(),
                    format!("[{}] We received your request: {}", facts.reference, facts.application_name),
                    Content {
                        heading: "We received your request".to_owned(),
                        paragraphs: vec![
                            format!(
                                "IST received your {} request for {}. Its reference is {}.",
                                facts.kind.label().to_lowercase(),
                                facts.application_name,
                                facts.reference
                            ),
                            RequestStatus::Submitted.next_step().to_owned(),
                        ],
                        quote_label: None,
                        quote: None,
                        link_text: "View your request",
                        link_url: requester_link.clone(),
                    },
                ));
            }
            messages.push((
                "new_submission",
                mail.queue_address.clone(),
                format!(
                    "[{}] New {} request: {}",
                    facts.reference,
                    facts.kind.label().to_lowercase(),
                    facts.application_name
                ),
                Content {
                    heading: "A new request is waiting for review".to_owned(),
                    paragraphs: vec![format!(
                        "{} ({}) submitted a request for {}. Kind: {}.",
                        facts.requester_name,
                        facts.department,
                        facts.application_name,
                        facts.kind.label()
                    )],
                    quote_label: None,
                    quote: None,
                    link_text: "Review the request",
                    link_url: reviewer_link.clone(),
                },
            ));
        }
        Notice::Question => {
            messages.push((
                "question",
                facts.account_email.clone(),
                format!("[{}] IST has a question about your request", facts.reference),
                Content {
                    heading: "IST has a question about your request".to_owned(),
                    paragraphs: question_paragraphs(&facts),
                    quote_label: Some("IST's question"),
                    quote: facts.open_question.clone(),
                    link_text: "Answer the question",
                    link_url: requester_link.clone(),
                },
            ));
        }
        Notice::Decision => {
            let (subject, heading, quote_label, quote) = match facts.status {
                RequestStatus::Approved => ("was approved", "Your request was approved", None, None),
                RequestStatus::Rejected => (
                    "was not approved",
                    "Your request was not approved",
                    Some("IST's reason"),
                    facts.rejection_reason.clone(),
                ),
                _ => ("is complete", "Your request is complete", Some("IST's advice"), facts.advice.clone()),
            };
            messages.push((
                "decision",
                facts.account_email.clone(),
                format!("[{}] Your request {subject}: {}", facts.reference, facts.application_name),
                Content {
                    heading: heading.to_owned(),
                    paragraphs: vec![
                        format!("This is about your request for {} ({}).", facts.application_name, facts.reference),
                        facts.status.next_step().to_owned(),
                    ],
                    quote_label,
                    quote,
                    link_text: "View your request",
                    link_url: requester_link.clone(),
                },
            ));
        }
        Notice::Reply { body } => {
            if to_requester("reply") {
                messages.push((
                    "reply",
                    facts.account_email.clone(),
                    format!("[{}] IST replied about your request", facts.reference),
                    Content {
                        heading: "IST replied about your request".to_owned(),
                        paragraphs: vec![format!("This is about your request for {}.", facts.application_name)],
                        quote_label: Some("IST's reply"),
                        quote: Some(body.clone()),
                        link_text: "View your request",
                        link_url: requester_link.clone(),
                    },
                ));
            }
        }
        Notice::Withdrawn => {
            messages.push((
                "withdrawn",
                mail.queue_address.clone(),
                format!("[{}] The requester withdrew the request", facts.reference),
                Content {
                    heading: "The requester withdrew the request".to_owned(),
                    paragraphs: vec![format!(
                        "{} withdrew the request for {}. IST need not work on it any more.",
                        facts.requester_name, facts.application_name
                    )],
                    quote_label: None,
                    quote: None,
                    link_text: "See the request",
                    link_url: reviewer_link.clone(),
                },
            ));
        }
        Notice::Answered { message } => {
            messages.push((
                "answered",
                mail.queue_address.clone(),
                format!("[{}] The requester answered IST's question", facts.reference),
                Content {
                    heading: "The requester answered IST's question".to_owned(),
                    paragraphs: vec![format!(
                        "{} answered the question about {}. The request is back in review.",
                        facts.requester_name, facts.application_name
                    )],
                    quote_label: message.as_ref().map(|_| "Their message"),
                    quote: message.clone(),
                    link_text: "Review the request",
                    link_url: reviewer_link.clone(),
                },
            ));
        }
    }

    for (kind, recipient, subject, content) in messages {
        let to_queue = matches!(kind, "new_submission" | "answered" | "withdrawn");
        let thread = if to_queue { &queue_thread_id } else { &thread_id };
        // The first message of each side is its thread's root, whichever
        // kind it is: a requester who wants decisions only gets no receipt.
        let has_root: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)")
            .bind(thread)
            .fetch_one(&mut *conn)
            .await?;
        let message_id = if has_root { format!("<{}@{domain}>", Uuid::new_v4()) } else { thread.clone() };
        let outgoing = Outgoing {
            recipient,
            subject,
            text_body: TextMessage { content: &content }
                .render()
                .map_err(|err| sqlx::Error::Protocol(err.to_string()))?,
            html_body: HtmlMessage { content: &content }
                .render()
                .map_err(|err| sqlx::Error::Protocol(err.to_string()))?,
            message_id,
            thread_id: thread.clone(),
        };
        outbox::insert(&mut *conn, Some(request_id), kind, &outgoing).await?;
    }
    Ok(())
}

/// Builds the question email's paragraphs: what IST needs, and the fields
/// the requester should change.
fn question_paragraphs(facts: &RequestFacts) -> Vec<String> {
    let mut paragraphs =
        vec![format!("IST is reviewing your request for {} and needs more information.", facts.application_name)];
    let labels: Vec<&str> = facts
        .question_fields
        .iter()
        .filter_map(|id| crate::requests::actions::EditableField::parse(id))
        .map(|field| field.label())
        .collect();
    if !labels.is_empty() {
        paragraphs.push(format!("IST asks you to check these fields: {}.", labels.join(", ")));
    }
    paragraphs.push("Answer IST's question, quoted below, on the request's page so the review can go on.".to_owned());
    paragraphs
}

/// Checks whether a requester with this preference receives this kind of message.
pub fn kind_reaches(kind: &str, preference: Preference) -> bool {
    match preference {
        Preference::EveryUpdate => true,
        Preference::DecisionsOnly => matches!(kind, "question" | "decision"),
    }
}

/// Starts the worker when notifications are on.
pub fn spawn_worker(pool: sqlx::PgPool, settings: &Settings) -> Result<(), String> {
    if let Some(mail) = settings.mail.clone() {
        let sender = sender::Sender::new(&mail.smtp)?;
        tokio::spawn(worker::run(pool, sender, mail));
    }
    Ok(())
}
