//! Sending one message through the SMTP relay with lettre: STARTTLS is
//! required before anything else is sent, and the service signs in.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpSettings;

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
    /// Limit on one whole SMTP conversation; lettre's own timeout covers
    /// only opening the connection.
    timeout: Duration,
}

impl Sender {
    pub fn new(settings: &SmtpSettings) -> Result<Sender, String> {
        let mut tls = TlsParameters::builder(settings.host.clone());
        if let Some(pem) = &settings.ca_pem {
            let certificate =
                Certificate::from_pem(pem).map_err(|err| format!("SMTP_CA_FILE is not a PEM certificate: {err}"))?;
            tls = tls.add_root_certificate(certificate);
        }
        let tls = tls.build_rustls().map_err(|err| match settings.ca_pem {
            Some(_) => format!("SMTP_CA_FILE cannot be used as a trusted certificate: {err}"),
            None => format!("cannot set up TLS for {}: {err}", settings.host),
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            // Required: lettre refuses to go on, and sends no credentials, when
            // the relay does not offer STARTTLS.
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(settings.username.clone(), settings.password.clone()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .timeout(Some(settings.timeout))
            .build();
        let address = settings.from.parse().map_err(|err| format!("MAIL_FROM is not an address: {err}"))?;
        let from = Mailbox::new(Some(SENDER_NAME.to_owned()), address);
        Ok(Sender { transport, from, timeout: settings.timeout })
    }

    pub async fn send(&self, outgoing: &Outgoing) -> Outcome {
        let message = match build(&self.from, outgoing) {
            Ok(message) => message,
            Err(err) => return Outcome::Permanent(err),
        };
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Outcome::Temporary(format!(
                "the relay did not finish the conversation within {} s",
                self.timeout.as_secs()
            )),
            Ok(Ok(_)) => Outcome::Sent,
            Ok(Err(err)) if err.is_permanent() => Outcome::Permanent(describe(&err)),
            Ok(Err(err)) => Outcome::Temporary(describe(&err)),
        }
    }
}

/// The display name on the From line of every notification.
const SENDER_NAME: &str = "IST email-sending requests";

/// Describes a relay error with what to check, because lettre's own text
/// names the kind of error but not its likely cause.
fn describe(err: &lettre::transport::smtp::Error) -> String {
    let code = err.status().map(|code| code.to_string());
    let detail = err.to_string();
    let lowercase = detail.to_lowercase();
    if lowercase.contains("starttls") {
        format!("the relay does not offer STARTTLS, so nothing was sent; check SMTP_HOST and SMTP_PORT ({detail})")
    } else if err.is_tls() || lowercase.contains("certificate") {
        format!("the relay's TLS certificate is not trusted; check SMTP_HOST and SMTP_CA_FILE ({detail})")
    } else if code.as_deref() == Some("535") {
        format!("the relay refused the sign-in; check SMTP_USERNAME and the password ({detail})")
    } else {
        detail
    }
}

fn build(from: &Mailbox, outgoing: &Outgoing) -> Result<Message, String> {
    let to = outgoing
        .recipient
        .parse::<Mailbox>()
        .map_err(|err| format!("{} is not a valid recipient address: {err}", outgoing.recipient))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(outgoing.subject.clone())
        .message_id(Some(outgoing.message_id.clone()));
    // The first message of a thread is its root and refers to nothing.
    if outgoing.message_id != outgoing.thread_id {
        builder = builder.in_reply_to(outgoing.thread_id.clone()).references(outgoing.thread_id.clone());
    }
    builder
        .multipart(MultiPart::alternative_plain_html(outgoing.text_body.clone(), outgoing.html_body.clone()))
        .map_err(|err| format!("the message cannot be built: {err}"))
}
