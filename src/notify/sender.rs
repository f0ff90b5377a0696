//! Sending one message through the SMTP relay with lettre: STARTTLS is
//! required before anything else is sent, and the service signs in.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpSettings;

/// How long one SMTP conversation may take before it counts as a temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A message ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub message_id: String,
    pub thread_id: String,
}

/// The result of one attempt to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// A 4xx reply, a lost connection or a timeout: worth trying again.
    Temporary(String),
    /// A 5xx reply or a message that cannot be built: trying again would not help.
    Permanent(String),
}

/// The relay connection, built once and shared by every send.
#[derive(Clone)]
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub fn new(settings: &SmtpSettings) -> Result<Sender, String> {
        let mut tls = TlsParameters::builder(settings.host.clone());
        if let Some(pem) = &settings.ca_pem {
            let certificate =
                Certificate::from_pem(pem).map_err(|err| format!("SMTP_CA_FILE is not a PEM certificate: {err}"))?;
            tls = tls.add_root_certificate(certificate);
        }
        let tls = tls.build_rustls().map_err(|err| format!("cannot set up TLS for {}: {err}", settings.host))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            // Required: lettre refuses to go on, and sends no credentials, when
            // the relay does not offer STARTTLS.
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(settings.username.clone(), settings.password.clone()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = settings.from.parse::<Mailbox>().map_err(|err| format!("MAIL_FROM is not an address: {err}"))?;
        Ok(Sender { transport, from })
    }

    pub async fn send(&self, outgoing: &Outgoing) -> Outcome {
        let message = match build(&self.from, outgoing) {
            Ok(message) => message,
            Err(err) => return Outcome::Permanent(err),
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            Err(err) if err.is_permanent() => Outcome::Permanent(err.to_string()),
            Err(err) => Outcome::Temporary(err.to_string()),
        }
    }
}

fn build(from: &Mailbox, outgoing: &Outgoing) -> Result<Message, String> {
    let to = outgoing.recipient.parse::<Mailbox>().map_err(|err| format!("invalid recipient: {err}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(outgoing.subject.clone())
        .message_id(Some(outgoing.message_id.clone()))
        .in_reply_to(outgoing.thread_id.clone())
        .references(outgoing.thread_id.clone())
        .multipart(MultiPart::alternative_plain_html(outgoing.text_body.clone(), outgoing.html_body.clone()))
        .map_err(|err| format!("the message cannot be built: {err}"))
}
