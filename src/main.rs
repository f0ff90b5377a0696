//! The `ist-intake` command line: serve, migrate, policy checks and user management.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use ist_intake::accounts::{self, NewUser, Role};
use ist_intake::config::{DatabaseArgs, ServeArgs, SmtpArgs};
use ist_intake::policy::{self, Policy};
use ist_intake::{AppState, db, router};

#[derive(Parser)]
#[command(name = "ist-intake", version, about = "Email-sending requests and the IST review queue")]
struct Cli {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default when no command is given).
    Serve(Box<ServeArgs>),
    /// Create the database if needed, apply migrations and exit.
    Migrate,
    /// Validate or draw a decision-tree policy file.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage local accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with the Microsoft Graph permission catalogue.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Check the email settings.
    #[command(subcommand)]
    Mail(MailCommand),
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send one message through the SMTP relay now and print the outcome.
    Test {
        /// Address to send the test message to.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Validate a newer catalogue CSV and report how it differs from the shipped one,
    /// before it replaces data/graph-permissions.csv.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file and print a summary; without FILE or POLICY_FILE, the compiled-in policy.
    Check {
        #[arg(env = "POLICY_FILE")]
        file: Option<PathBuf>,
    },
    /// Print the tree as a Mermaid flowchart; without FILE or POLICY_FILE, the compiled-in policy.
    Graph {
        #[arg(env = "POLICY_FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a local account; the password is read from standard input.
    Add {
        /// Sign-in email address; stored in lowercase.
        #[arg(long)]
        email: String,
        /// Full name, shown on pages and pre-filled on request forms (at most 200 characters).
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// Department, pre-filled on request forms (at most 200 characters).
        #[arg(long)]
        department: Option<String>,
    },
}

fn init_tracing() {
    // sqlx_postgres logs an unrecognised connection parameter with its value,
    // which would print a mistyped password parameter, so its option parser
    // logs errors only.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sqlx_postgres=warn,sqlx_postgres::options=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Loads a policy file, or the compiled-in policy when `file` is None.
fn load_policy(file: Option<&Path>) -> Result<Policy, String> {
    let Some(file) = file else {
        return Ok(Policy::default_policy());
    };
    let text =
        std::fs::read_to_string(file).map_err(|err| format!("cannot read policy file {}: {err}", file.display()))?;
    Policy::parse(&text).map_err(|err| format!("invalid policy file {}: {err}", file.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            let args = ServeArgs::parse_from_env();
            serve(&cli.database, &args).await
        }
        Some(Command::Serve(args)) => serve(&cli.database, &args).await,
        Some(Command::Migrate) => migrate(&cli.database).await,
        Some(Command::Policy(PolicyCommand::Check { file })) => check_policy(file.as_deref()),
        Some(Command::Policy(PolicyCommand::Graph { file })) => {
            load_policy(file.as_deref()).map(|policy| print!("{}", policy::to_mermaid(&policy)))
        }
        Some(Command::Catalogue(CatalogueCommand::Check { file })) => check_catalogue(&file),
        Some(Command::Mail(MailCommand::Test { to, smtp })) => send_test_mail(&to, &smtp).await,
        Some(Command::User(UserCommand::Add { email, name, role, department })) => {
            add_user(&cli.database, NewUser { email, display_name: name, department, role, password: String::new() })
                .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(database: &DatabaseArgs, args: &ServeArgs) -> Result<(), String> {
    let settings = args.settings()?;
    for name in args.unconfirmed_links() {
        tracing::warn!(
            setting = name,
            "{name} is at its default, an address IST has not confirmed; set it for production"
        );
    }
    let policy = load_policy(args.policy_file.as_deref())?;
    let pool = db::connect_and_migrate(&database.database_url).await.map_err(|err| err.to_string())?;
    spawn_session_cleanup(pool.clone());
    ist_intake::notify::spawn_worker(pool.clone(), &settings)?;
    match &settings.mail {
        Some(mail) => tracing::info!(
            host = %mail.smtp.host,
            port = mail.smtp.port,
            "notifications are on, through {}:{} with STARTTLS",
            mail.smtp.host,
            mail.smtp.port
        ),
        None => tracing::info!("notifications are off; set NOTIFICATIONS=on and the SMTP settings to send them"),
    }
    let state = AppState::new(pool, policy, settings);
    tracing::info!(version = %state.policy.version, "using decision-tree policy version {}", state.policy.version);

    let listener = tokio::net::TcpListener::bind(args.bind).await.map_err(|err| {
        format!("cannot listen on {}: {err}. Choose another address with --bind or BIND_ADDR", args.bind)
    })?;
    let address = listener.local_addr().map_err(|err| format!("cannot read the listening address: {err}"))?;
    // The handler is in place before the address is logged, because a
    // supervisor may send SIGTERM as soon as the service reports it is up.
    let signal = shutdown_signal()?;
    tracing::info!(address = %address, "serving on http://{address}");
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        signal.await;
        let _ = stopping.send(());
    });
    // A client that never finishes its request would hold a graceful
    // shutdown open forever, so the server gets a deadline once it stops.
    let deadline = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result.map_err(|err| format!("server error: {err}"))?,
        () = deadline => tracing::warn!("connections were still open {} s after the stop signal; closing them", SHUTDOWN_GRACE.as_secs()),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Deletes expired sessions and abandoned uploads every hour; every
/// instance may run it, because each deletion is one idempotent statement.
fn spawn_session_cleanup(pool: sqlx::PgPool) {
    use tower_sessions::ExpiredDeletion;

    let store = ist_intake::app::session_store(pool.clone());
    tokio::spawn(async move {
        if let Err(err) = store.continuously_delete_expired(std::time::Duration::from_secs(3600)).await {
            tracing::error!(error = %err, "deleting expired sessions failed: {err}");
        }
    });
    // Uploads wait for their form's submit; after a day the form is gone
    // with its session, so the files are deleted too.
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match ist_intake::attachments::store::delete_abandoned(&pool, ABANDONED_UPLOAD_HOURS).await {
                Ok(0) => {}
                Ok(count) => tracing::info!("deleted {count} uploads that were never submitted"),
                Err(err) => tracing::error!(error = %err, "deleting abandoned uploads failed: {err}"),
            }
        }
    });
}

/// Hours after which an upload that never reached a submit is deleted.
const ABANDONED_UPLOAD_HOURS: i32 = 24;

/// How long a stopping server waits for open connections to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits for Ctrl-C or SIGTERM, the signal service managers send to stop a
/// process. The SIGTERM handler is installed before this returns, so a
/// signal that arrives while the server starts is not missed.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|err| format!("cannot listen for SIGTERM: {err}"))?;
    Ok(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down");
    })
}

async fn migrate(database: &DatabaseArgs) -> Result<(), String> {
    db::connect_and_migrate(&database.database_url).await.map_err(|err| err.to_string())?;
    println!("migrations applied");
    Ok(())
}

fn check_policy(file: Option<&Path>) -> Result<(), String> {
    let policy = load_policy(file)?;
    let paths = policy.all_paths();
    println!("policy version {} is valid", policy.version);
    println!("questions: {}", policy.questions().count());
    println!("outcomes: {}", policy.outcomes().count());
    println!("paths from the start question to an outcome: {}", paths.len());
    for outcome in policy.outcomes() {
        let reaching = paths.iter().filter(|(_, end)| *end == outcome.id).count();
        let noun = if reaching == 1 { "path" } else { "paths" };
        println!("  {} ({}): {reaching} {noun}", outcome.id, outcome.kind.as_str());
    }
    Ok(())
}

fn check_catalogue(file: &Path) -> Result<(), String> {
    use ist_intake::graph::Catalogue;

    let text =
        std::fs::read_to_string(file).map_err(|err| format!("cannot read catalogue {}: {err}", file.display()))?;
    let candidate = Catalogue::parse(&text).map_err(|err| format!("invalid catalogue {}: {err}", file.display()))?;
    let (delegated, application) = candidate.counts();
    println!(
        "catalogue {} is valid: {} rows ({delegated} delegated, {application} application)",
        file.display(),
        candidate.len()
    );
    let changes = Catalogue::shipped().compare(&candidate);
    for (title, list) in [("added", &changes.added), ("removed", &changes.removed), ("changed", &changes.changed)] {
        println!("{title}: {}", list.len());
        for (name, permission_type) in list {
            println!("  {name} ({})", permission_type.as_str());
        }
    }
    Ok(())
}

fn read_password() -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(|err| format!("cannot read the password: {err}"))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|err| format!("cannot read the password from standard input: {err}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(password)
}

async fn add_user(database: &DatabaseArgs, mut new_user: NewUser) -> Result<(), String> {
    new_user.password = read_password()?;
    let pool = db::connect_and_migrate(&database.database_url).await.map_err(|err| err.to_string())?;
    let mut conn = pool.acquire().await.map_err(|err| err.to_string())?;
    let user = accounts::create_user(&mut conn, new_user).await.map_err(|err| err.to_string())?;
    println!("added {} user {} ({})", user.role.as_str(), user.email, user.display_name);
    Ok(())
}

/// Sends one message through the relay, for `mail test`.
async fn send_test_mail(to: &str, smtp: &SmtpArgs) -> Result<(), String> {
    use ist_intake::notify::sender::{Outcome, Outgoing, Sender};

    let settings = smtp.settings()?;
    let sender = Sender::new(&settings)?;
    let domain = settings.from.rsplit('@').next().unwrap_or("localhost").to_owned();
    let message_id = format!("<test.{}@{domain}>", uuid::Uuid::new_v4());
    let outgoing = Outgoing {
        recipient: to.trim().to_owned(),
        subject: "Test message from ist-intake".to_owned(),
        text_body: "This is a test message from ist-intake. It arrived, so the email settings work.\n".to_owned(),
        html_body: "<p>This is a test message from ist-intake. It arrived, so the email settings work.</p>".to_owned(),
        thread_id: message_id.clone(),
        message_id,
    };
    match sender.send(&outgoing).await {
        Outcome::Sent => {
            println!(
                "Sent a test message to {} through {}:{} with STARTTLS.",
                outgoing.recipient, settings.host, settings.port
            );
            Ok(())
        }
        Outcome::Temporary(error) | Outcome::Permanent(error) => Err(format!("the test message was not sent: {error}")),
    }
}
