//! Settings read once at start-up from the command line and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::Args;
use url::Url;

use crate::requests::validation::{is_domain, is_email};

/// Default database: the machine's local PostgreSQL with trust authentication.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ist_intake";

// NOTE: neither default link has been confirmed by IST. Start-up logs a
// warning while either is in use, and production should set both.
pub const DEFAULT_SERVICE_DESK_URL: &str = "https://uwaterloo.ca/ist-service-desk/";
pub const DEFAULT_RELAY_ARTICLE_URL: &str =
    "https://uwaterloo.atlassian.net/wiki/spaces/ISTKB/pages/smtp-relay-internal-applications";

/// The campus relay that internally hosted applications use.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub host: String,
    pub port: u16,
    pub encryption: String,
    pub authentication: String,
}

/// Everything the web application needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of the service; an https URL makes session cookies Secure.
    pub public_url: Url,
    pub relay: RelaySettings,
    pub service_desk_url: Url,
    pub relay_article_url: Url,
    /// Domains a sending address may use, lowercase; subdomains are accepted too.
    pub allowed_sender_domains: Vec<String>,
    pub time_zone: Tz,
    /// Business days a request may wait on IST before the queue flags it.
    pub review_target_business_days: u32,
    pub uploads: UploadLimits,
    /// Email notifications; None when they are switched off.
    pub mail: Option<MailSettings>,
}

/// Notification settings. The service sends through an SMTP relay on the
/// submission port, always with STARTTLS and authentication.
#[derive(Clone)]
pub struct MailSettings {
    pub smtp: SmtpSettings,
    /// The IST review queue's address, which receives each submission and each requester's reply to a question.
    pub queue_address: String,
    /// Tries before a message that keeps failing temporarily is marked failed.
    pub max_attempts: i32,
    /// The first retry waits this long; each later one waits twice as long.
    pub retry_base: std::time::Duration,
    /// How often an idle worker looks for due messages.
    pub poll_interval: std::time::Duration,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MailSettings")
            .field("smtp", &self.smtp)
            .field("queue_address", &self.queue_address)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// The SMTP relay and the account the service signs in with.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// The From address of every notification.
    pub from: String,
    /// Extra trusted root certificates (PEM), for a relay with a private CA.
    pub ca_pem: Option<Vec<u8>>,
    /// Limit on one SMTP conversation, after which a try counts as a temporary failure.
    pub timeout: std::time::Duration,
}

/// Prints everything but the password, so settings can be logged.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"***")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Limits on the vendor documents uploaded with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_files: usize,
    pub max_total_bytes: u64,
}

impl UploadLimits {
    /// Returns the largest request body an upload form accepts: room for a
    /// full set of files, for one over-size file to be read and rejected with
    /// a clear message, and for the form's text fields.
    pub fn max_body_bytes(&self) -> usize {
        let bytes = self.max_total_bytes.max(self.max_file_bytes) + self.max_file_bytes + 1024 * 1024;
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }
}

const MEBIBYTE: u64 = 1024 * 1024;

impl Settings {
    pub fn cookies_secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

impl Default for Settings {
    fn default() -> Self {
        ServeArgs::default_settings()
    }
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL; the database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long = "bind", env = "BIND_ADDR", default_value = "127.0.0.1:8080", value_name = "BIND_ADDR")]
    pub bind: SocketAddr,

    /// Decision-tree policy file (TOML) to use instead of the compiled-in one.
    #[arg(long = "policy", env = "POLICY_FILE", value_name = "POLICY_FILE")]
    pub policy_file: Option<PathBuf>,

    /// Base URL users reach the service at; https makes cookies Secure.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080", value_name = "PUBLIC_URL")]
    pub public_url: Url,

    /// Relay host shown on the self-service instructions.
    #[arg(long, env = "RELAY_HOST", default_value = "smtp.uwaterloo.ca", value_name = "RELAY_HOST")]
    pub relay_host: String,

    /// Relay port shown on the self-service instructions (1 to 65535).
    #[arg(long, env = "RELAY_PORT", default_value_t = 587, value_name = "RELAY_PORT")]
    pub relay_port: u16,

    /// Relay encryption shown on the self-service instructions.
    #[arg(long, env = "RELAY_ENCRYPTION", default_value = "STARTTLS", value_name = "RELAY_ENCRYPTION")]
    pub relay_encryption: String,

    /// Relay authentication requirement shown on the self-service instructions.
    #[arg(long, env = "RELAY_AUTHENTICATION", default_value = "Required", value_name = "RELAY_AUTHENTICATION")]
    pub relay_authentication: String,

    /// Address where users open a ticket with the IST Service Desk.
    #[arg(long, env = "SERVICE_DESK_URL", default_value = DEFAULT_SERVICE_DESK_URL, value_name = "SERVICE_DESK_URL")]
    pub service_desk_url: Url,

    /// The published relay article that tickets should cite.
    #[arg(long, env = "RELAY_ARTICLE_URL", default_value = DEFAULT_RELAY_ARTICLE_URL, value_name = "RELAY_ARTICLE_URL")]
    pub relay_article_url: Url,

    /// Comma-separated domains a sending address may use.
    #[arg(
        long,
        env = "ALLOWED_SENDER_DOMAINS",
        default_value = "uwaterloo.ca",
        value_delimiter = ',',
        value_name = "ALLOWED_SENDER_DOMAINS"
    )]
    pub allowed_sender_domains: Vec<String>,

    /// IANA time zone for times shown on pages.
    #[arg(long, env = "TIME_ZONE", default_value = "America/Toronto", value_name = "TIME_ZONE")]
    pub time_zone: Tz,

    /// Business days a request may wait on IST before the queue flags it.
    #[arg(long, env = "REVIEW_TARGET_BUSINESS_DAYS", default_value_t = 3, value_name = "REVIEW_TARGET_BUSINESS_DAYS")]
    pub review_target_business_days: u32,

    /// Largest vendor document accepted, in MiB.
    #[arg(long, env = "MAX_UPLOAD_FILE_MIB", default_value_t = 20, value_name = "MAX_UPLOAD_FILE_MIB")]
    pub max_upload_file_mib: u64,

    /// Maximum number of vendor documents one request may carry.
    #[arg(long, env = "MAX_DOCUMENTS_PER_REQUEST", default_value_t = 10, value_name = "MAX_DOCUMENTS_PER_REQUEST")]
    pub max_documents_per_request: usize,

    /// Largest total size of one request's vendor documents, in MiB.
    #[arg(long, env = "MAX_UPLOAD_TOTAL_MIB", default_value_t = 50, value_name = "MAX_UPLOAD_TOTAL_MIB")]
    pub max_upload_total_mib: u64,

    /// Send email notifications (on or off). When off, nothing is queued.
    #[arg(long, env = "NOTIFICATIONS", default_value = "off", value_name = "NOTIFICATIONS", value_parser = ["on", "off"])]
    pub notifications: String,

    /// The IST review queue's address, which receives each submission and each requester's reply to a question.
    #[arg(long, env = "REVIEW_QUEUE_ADDRESS", value_name = "REVIEW_QUEUE_ADDRESS")]
    pub review_queue_address: Option<String>,

    /// Tries before a message that keeps failing temporarily is marked failed.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 8, value_name = "MAIL_MAX_ATTEMPTS")]
    pub mail_max_attempts: i32,

    /// Seconds before the first retry of a message; each later retry waits twice as long.
    #[arg(long, env = "MAIL_RETRY_SECONDS", default_value_t = 60, value_name = "MAIL_RETRY_SECONDS")]
    pub mail_retry_seconds: u64,

    #[command(flatten)]
    pub smtp: SmtpArgs,
}

/// The SMTP relay options, shared by `serve` and `mail test`.
#[derive(Debug, Clone, Args)]
pub struct SmtpArgs {
    /// SMTP relay host. The service always uses STARTTLS and never sends in clear.
    #[arg(long, env = "SMTP_HOST", value_name = "SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// SMTP relay port: the submission port.
    #[arg(long, env = "SMTP_PORT", default_value_t = 587, value_name = "SMTP_PORT")]
    pub smtp_port: u16,

    /// User name the service signs in to the relay with.
    #[arg(long, env = "SMTP_USERNAME", value_name = "SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// Password for the relay; prefer SMTP_PASSWORD_FILE, which keeps it out of the environment.
    #[arg(long, env = "SMTP_PASSWORD", value_name = "SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// File whose first line is the relay password.
    #[arg(long, env = "SMTP_PASSWORD_FILE", value_name = "SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,

    /// From address of every message the service sends.
    #[arg(long, env = "MAIL_FROM", value_name = "MAIL_FROM")]
    pub mail_from: Option<String>,

    /// PEM file of extra trusted root certificates, for a relay signed by a private CA.
    #[arg(long, env = "SMTP_CA_FILE", value_name = "SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
}

impl SmtpArgs {
    /// Builds the relay settings, naming the first missing or invalid option.
    pub fn settings(&self) -> Result<SmtpSettings, String> {
        let required = |value: &Option<String>, name: &str, example: &str| match value.as_deref().map(str::trim) {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            _ => Err(format!("{name} is not set: give it, such as {example}")),
        };

        let host = required(&self.smtp_host, "SMTP_HOST", "smtp.uwaterloo.ca")?;
        let single_label = !host.is_empty()
            && !host.starts_with('-')
            && host.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
        if !is_domain(&host) && !single_label && host.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("SMTP_HOST is {host:?}: use the relay's host name, such as smtp.uwaterloo.ca"));
        }
        if self.smtp_port == 0 {
            return Err("SMTP_PORT is 0: use the relay's submission port, such as 587".to_owned());
        }

        let username = required(&self.smtp_username, "SMTP_USERNAME", "a campus account name")?;
        let password = match (&self.smtp_password, &self.smtp_password_file) {
            (_, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|err| format!("SMTP_PASSWORD_FILE {} cannot be read: {err}", path.display()))?;
                let first = text.lines().next().unwrap_or_default().to_owned();
                if first.is_empty() {
                    return Err(format!(
                        "SMTP_PASSWORD_FILE {} has no password on its first line: write the password there",
                        path.display()
                    ));
                }
                first
            }
            (Some(password), None) => password.clone(),
            (None, None) => String::new(),
        };
        if password.trim().is_empty() {
            return Err("Neither SMTP_PASSWORD_FILE nor SMTP_PASSWORD gives a password: set one".to_owned());
        }

        let from = required(&self.mail_from, "MAIL_FROM", "ist-intake@uwaterloo.ca")?;
        if !is_email(&from) {
            return Err(format!("MAIL_FROM is {from:?}: use an email address, such as ist-intake@uwaterloo.ca"));
        }

        let ca_pem = match &self.smtp_ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|err| format!("SMTP_CA_FILE {} cannot be read: {err}", path.display()))?;
                if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                    return Err(format!(
                        "SMTP_CA_FILE {} holds no PEM certificate: give the relay's CA certificate in PEM form",
                        path.display()
                    ));
                }
                Some(pem)
            }
            None => None,
        };
        Ok(SmtpSettings {
            host,
            port: self.smtp_port,
            username,
            password,
            from,
            ca_pem,
            timeout: std::time::Duration::from_secs(30),
        })
    }
}

impl ServeArgs {
    /// Builds the settings, rejecting values that would make the service unusable.
    pub fn settings(&self) -> Result<Settings, String> {
        let settings = self.settings_unchecked();
        if settings.allowed_sender_domains.is_empty() {
            return Err("ALLOWED_SENDER_DOMAINS lists no domain: give at least one, such as uwaterloo.ca".to_owned());
        }
        if let Some(bad) = settings.allowed_sender_domains.iter().find(|domain| !is_domain(domain)) {
            return Err(format!(
                "ALLOWED_SENDER_DOMAINS contains {bad:?}, which is not a domain: use names such as uwaterloo.ca, separated by commas"
            ));
        }
        for (name, url) in [
            ("PUBLIC_URL", &settings.public_url),
            ("SERVICE_DESK_URL", &settings.service_desk_url),
            ("RELAY_ARTICLE_URL", &settings.relay_article_url),
        ] {
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!(
                    "{name} is {:?}: use an http or https address, such as https://uwaterloo.ca/",
                    url.as_str()
                ));
            }
        }
        if !is_domain(&settings.relay.host) {
            return Err(format!(
                "RELAY_HOST is {:?}: use the relay's host name, such as smtp.uwaterloo.ca",
                settings.relay.host
            ));
        }
        if settings.relay.port == 0 {
            return Err("RELAY_PORT is 0: use the relay's port, such as 587".to_owned());
        }
        for (name, value) in
            [("RELAY_ENCRYPTION", &settings.relay.encryption), ("RELAY_AUTHENTICATION", &settings.relay.authentication)]
        {
            if value.trim().is_empty() {
                return Err(format!(
                    "{name} is empty: describe it as users should configure it, such as STARTTLS or Required"
                ));
            }
        }
        if settings.review_target_business_days == 0 {
            return Err("REVIEW_TARGET_BUSINESS_DAYS is 0: use a whole number of business days, such as 3".to_owned());
        }
        for (name, value) in
            [("MAX_UPLOAD_FILE_MIB", self.max_upload_file_mib), ("MAX_UPLOAD_TOTAL_MIB", self.max_upload_total_mib)]
        {
            if !(1..=1024).contains(&value) {
                return Err(format!("{name} is {value}: use a whole number of MiB from 1 to 1024, such as 20"));
            }
        }
        if self.notifications == "on" {
            // Checked here so a wrong setting stops start-up with its name.
            self.mail_settings()?;
        }
        if !(1..=100).contains(&self.max_documents_per_request) {
            return Err(format!(
                "MAX_DOCUMENTS_PER_REQUEST is {}: use a whole number from 1 to 100, such as 10",
                self.max_documents_per_request
            ));
        }
        Ok(settings)
    }

    /// Builds the notification settings when NOTIFICATIONS is on.
    pub fn mail_settings(&self) -> Result<Option<MailSettings>, String> {
        if self.notifications != "on" {
            return Ok(None);
        }
        let smtp = self.smtp.settings()?;
        let queue_address = match self.review_queue_address.as_deref().map(str::trim) {
            Some(address) if is_email(address) => address.to_owned(),
            Some(address) => {
                return Err(format!(
                    "REVIEW_QUEUE_ADDRESS is {address:?}: use an email address, such as ist-review@uwaterloo.ca"
                ));
            }
            None => return Err("REVIEW_QUEUE_ADDRESS is not set: give the IST review queue's address".to_owned()),
        };
        if !(1..=21_600).contains(&self.mail_retry_seconds) {
            return Err(format!(
                "MAIL_RETRY_SECONDS is {}: use a whole number of seconds from 1 to 21600 (six hours), such as 60",
                self.mail_retry_seconds
            ));
        }
        if !(1..=50).contains(&self.mail_max_attempts) {
            return Err(format!("MAIL_MAX_ATTEMPTS is {}: use a whole number from 1 to 50", self.mail_max_attempts));
        }
        Ok(Some(MailSettings {
            smtp,
            queue_address,
            max_attempts: self.mail_max_attempts,
            retry_base: std::time::Duration::from_secs(self.mail_retry_seconds),
            poll_interval: std::time::Duration::from_secs(2),
        }))
    }

    /// Names the link settings still at their unconfirmed defaults.
    pub fn unconfirmed_links(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.service_desk_url.as_str() == DEFAULT_SERVICE_DESK_URL {
            names.push("SERVICE_DESK_URL");
        }
        if self.relay_article_url.as_str() == DEFAULT_RELAY_ARTICLE_URL {
            names.push("RELAY_ARTICLE_URL");
        }
        names
    }

    fn settings_unchecked(&self) -> Settings {
        Settings {
            public_url: self.public_url.clone(),
            relay: RelaySettings {
                host: self.relay_host.clone(),
                port: self.relay_port,
                encryption: self.relay_encryption.clone(),
                authentication: self.relay_authentication.clone(),
            },
            service_desk_url: self.service_desk_url.clone(),
            relay_article_url: self.relay_article_url.clone(),
            allowed_sender_domains: self
                .allowed_sender_domains
                .iter()
                .map(|domain| domain.trim().trim_start_matches('@').to_lowercase())
                .filter(|domain| !domain.is_empty())
                .collect(),
            time_zone: self.time_zone,
            review_target_business_days: self.review_target_business_days,
            mail: self.mail_settings().ok().flatten(),
            uploads: UploadLimits {
                max_file_bytes: self.max_upload_file_mib * MEBIBYTE,
                max_files: self.max_documents_per_request,
                max_total_bytes: self.max_upload_total_mib * MEBIBYTE,
            },
        }
    }

    /// Reads the serve options from the environment alone, for a bare
    /// `ist-intake` with no subcommand.
    pub fn parse_from_env() -> ServeArgs {
        use clap::{FromArgMatches, Parser};

        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let matches = <Only as clap::CommandFactory>::command().get_matches_from(["ist-intake"]);
        Only::from_arg_matches(&matches).unwrap_or_else(|err| err.exit()).serve
    }

    /// Builds the settings with every default, as a fresh start with no flags gives.
    fn default_settings() -> Settings {
        use clap::{FromArgMatches, Parser};

        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            serve: ServeArgs,
        }
        // Parse an empty command line, ignoring the environment, so tests see the documented defaults.
        let command = <Defaults as clap::CommandFactory>::command();
        let command = command.mut_args(|arg| arg.env(None::<&str>));
        let matches = command.get_matches_from(["ist-intake"]);
        Defaults::from_arg_matches(&matches).expect("defaults parse").serve.settings().expect("defaults are valid")
    }
}

/// Replaces any password in a connection URL, in the user-info part or in
/// a `password` query parameter, so the URL is safe for logs and messages.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return "(a DATABASE_URL that is not a valid URL)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(name, _)| name.eq_ignore_ascii_case("password")) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if name.eq_ignore_ascii_case("password") { "***".to_owned() } else { value.into_owned() };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_password() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.example:5432/intake"),
            "postgres://app:***@db.example:5432/intake"
        );
    }

    #[test]
    fn redact_url_hides_query_password() {
        assert_eq!(
            redact_url("postgres://db.example/intake?user=app&password=hunter2"),
            "postgres://db.example/intake?user=app&password=***"
        );
    }

    #[test]
    fn empty_sender_domains_are_rejected() {
        let mut args = ServeArgs::parse_from_env();
        args.allowed_sender_domains = vec![" ".to_owned(), String::new()];
        assert_eq!(
            args.settings().unwrap_err(),
            "ALLOWED_SENDER_DOMAINS lists no domain: give at least one, such as uwaterloo.ca"
        );
    }

    #[test]
    fn script_link_is_rejected() {
        let mut args = ServeArgs::parse_from_env();
        args.service_desk_url = "javascript:alert(1)".parse().unwrap();
        let error = args.settings().unwrap_err();
        assert!(error.starts_with("SERVICE_DESK_URL is \"javascript:alert(1)\""), "{error}");
    }

    #[test]
    fn empty_relay_host_is_rejected() {
        let mut args = ServeArgs::parse_from_env();
        args.relay_host = String::new();
        assert!(args.settings().unwrap_err().starts_with("RELAY_HOST is \"\""));
    }

    #[test]
    fn defaults_match_relay_article() {
        let settings = Settings::default();
        assert_eq!(settings.relay.host, "smtp.uwaterloo.ca");
        assert_eq!(settings.relay.port, 587);
        assert_eq!(settings.relay.encryption, "STARTTLS");
        assert_eq!(settings.allowed_sender_domains, vec!["uwaterloo.ca".to_owned()]);
    }

    #[test]
    fn smtp_debug_hides_the_password() {
        let settings = SmtpSettings {
            host: "smtp.uwaterloo.ca".to_owned(),
            port: 587,
            username: "ist-intake".to_owned(),
            password: "hunter2".to_owned(),
            from: "ist-intake@uwaterloo.ca".to_owned(),
            ca_pem: None,
            timeout: std::time::Duration::from_secs(30),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn notifications_on_need_the_relay_host() {
        let mut args = ServeArgs::parse_from_env();
        args.notifications = "on".to_owned();
        args.smtp.smtp_host = None;
        assert_eq!(args.settings().unwrap_err(), "SMTP_HOST is not set: give it, such as smtp.uwaterloo.ca");
    }

    #[test]
    fn ca_file_without_a_certificate_is_refused() {
        let file = tempfile_with("garbage\n");
        let mut args = ServeArgs::parse_from_env();
        args.smtp = SmtpArgs {
            smtp_host: Some("smtp.uwaterloo.ca".to_owned()),
            smtp_port: 587,
            smtp_username: Some("ist-intake".to_owned()),
            smtp_password: Some("secret".to_owned()),
            smtp_password_file: None,
            mail_from: Some("ist-intake@uwaterloo.ca".to_owned()),
            smtp_ca_file: Some(file.clone()),
        };
        let error = args.smtp.settings().unwrap_err();
        std::fs::remove_file(&file).unwrap();
        assert!(error.starts_with("SMTP_CA_FILE"), "{error}");
        assert!(error.contains("holds no PEM certificate"), "{error}");
    }

    #[test]
    fn zero_retry_seconds_are_refused() {
        let mut args = ServeArgs::parse_from_env();
        args.notifications = "on".to_owned();
        args.review_queue_address = Some("ist-review@uwaterloo.ca".to_owned());
        args.mail_retry_seconds = 0;
        args.smtp.smtp_host = Some("smtp.uwaterloo.ca".to_owned());
        args.smtp.smtp_username = Some("ist-intake".to_owned());
        args.smtp.smtp_password = Some("secret".to_owned());
        args.smtp.mail_from = Some("ist-intake@uwaterloo.ca".to_owned());
        assert!(args.settings().unwrap_err().starts_with("MAIL_RETRY_SECONDS is 0"));
    }

    fn tempfile_with(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("ist-intake-test-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        path
    }
}
