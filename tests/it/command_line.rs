//! The `ist-intake` binary: policy checks, the graph and start-up failures.

use std::io::Write;
use std::process::{Command, Stdio};

use sqlx::PgPool;

/// Kills a spawned server when the test ends, even when an assert fails
/// first, so no server outlives its test holding the output pipes open.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.0.to_string()]).stderr(Stdio::null()).status();
    }
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ist-intake"))
}

fn write_policy(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn broken_default_policy() -> String {
    ist_intake::policy::DEFAULT_POLICY.replacen("next = \"send_as\"", "next = \"nowhere\"", 1)
}

#[test]
fn policy_check_accepts_default() {
    let output = binary().args(["policy", "check"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("policy version 2026-12-04.1 is valid"), "{stdout}");
    assert!(stdout.contains("self_service (self_service): 1 path\n"), "{stdout}");
}

#[test]
fn policy_check_names_broken_node() {
    let file = write_policy(&broken_default_policy());
    let output = binary().args(["policy", "check"]).arg(file.path()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("node `smtp_authentication`"), "{stderr}");
    assert!(stderr.contains("leads to `nowhere`"), "{stderr}");
}

#[test]
fn serve_refuses_broken_policy() {
    let file = write_policy(&broken_default_policy());
    let output = binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--policy"])
        .arg(file.path())
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/unused")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("node `smtp_authentication`"), "{stderr}");
}

#[test]
fn policy_graph_prints_mermaid() {
    let output = binary().args(["policy", "graph"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("flowchart TD\n"), "{stdout}");
    assert!(stdout.contains("node_hosting -- \"I'm not sure\" --> node_exception"), "{stdout}");
}

#[test]
fn unreachable_database_is_named_without_password() {
    let output = binary()
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://intake:hunter2@127.0.0.1:1/intake")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("postgres://intake:***@127.0.0.1:1/intake"), "{stderr}");
    assert!(stderr.contains("Check that PostgreSQL is running"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// Builds the URL of the test's own database, for running the binary against it.
async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(pool).await.unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for tests");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    url.to_string()
}

#[sqlx::test]
async fn user_add_reads_password_from_stdin(pool: PgPool) {
    let url = database_url(&pool).await;
    let mut child = binary()
        .args(["user", "add", "--email", "New.Reviewer@UWaterloo.ca", "--name", "New Reviewer", "--role", "reviewer"])
        .env("DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a sufficiently long password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let (email, role, hash): (String, String, String) =
        sqlx::query_as("SELECT email, role::text, password_hash FROM users").fetch_one(&pool).await.unwrap();
    assert_eq!(email, "new.reviewer@uwaterloo.ca");
    assert_eq!(role, "reviewer");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[sqlx::test]
async fn user_add_rejects_short_password(pool: PgPool) {
    let url = database_url(&pool).await;
    let mut child = binary()
        .args(["user", "add", "--email", "a@uwaterloo.ca", "--name", "A", "--role", "requester"])
        .env("DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("the password is too short: use at least 12 characters"), "{stderr}");
}

/// The log lines of a running server, read as they arrive.
type LogLines = std::iter::MapWhile<
    std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    fn(std::io::Result<String>) -> Option<String>,
>;

/// A running `ist-intake serve` on a fresh database, with its log lines.
struct Served {
    child: std::process::Child,
    lines: LogLines,
    /// Host and port, such as 127.0.0.1:41234.
    address: String,
    database: String,
    _guard: KillOnDrop,
}

/// Starts the binary on port 0 and reads its log until it names the address.
fn serve_on_fresh_database(prefix: &str) -> Served {
    use std::io::{BufRead, BufReader};

    let (database, url) = fresh_database_url(prefix);
    let mut child = binary()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child.id());
    let ok: fn(std::io::Result<String>) -> Option<String> = Result::ok;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(ok);
    let address = lines
        .by_ref()
        .find_map(|line| {
            line.split("serving on http://").nth(1).and_then(|rest| rest.split_whitespace().next()).map(str::to_owned)
        })
        .expect("a log line naming the address");
    Served { child, lines, address, database, _guard: guard }
}

/// Builds a URL for a database name no other test uses.
fn fresh_database_url(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for tests");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    (name, url.to_string())
}

async fn drop_database(pool: &PgPool, name: &str) {
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(pool).await.unwrap();
}

#[sqlx::test]
async fn migrate_creates_missing_database(pool: PgPool) {
    let (name, url) = fresh_database_url("ist_intake_cli_migrate");
    let output = binary().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    let created: Option<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&pool)
        .await
        .unwrap();
    drop_database(&pool, &name).await;

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "migrations applied\n");
    assert_eq!(created.as_deref(), Some(name.as_str()));
}

#[sqlx::test]
async fn serve_logs_address_and_each_request(pool: PgPool) {
    let mut served = serve_on_fresh_database("ist_intake_cli_serve");
    let response = reqwest::get(format!("http://{}/tree/hosting", served.address)).await.unwrap();
    let status = response.status();
    let request_line = served.lines.find(|line| line.contains("finished processing request"));

    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop_database(&pool, &served.database).await;

    assert_eq!(status, 200);
    let request_line = request_line.expect("a log line for the request");
    for part in ["method=GET", "path=/tree/hosting", "status=200", "latency="] {
        assert!(request_line.contains(part), "{part} missing from {request_line}");
    }
}

#[test]
fn policy_check_reads_policy_file_variable() {
    let file = write_policy(&broken_default_policy());
    let output = binary().args(["policy", "check"]).env("POLICY_FILE", file.path()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("node `smtp_authentication`"), "{stderr}");
}

#[test]
fn serve_rejects_empty_sender_domains() {
    let output = binary()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("ALLOWED_SENDER_DOMAINS", " , ")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/unused")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("ALLOWED_SENDER_DOMAINS lists no domain"), "{stderr}");
}

#[test]
fn database_password_is_hidden_in_help() {
    let output = binary()
        .args(["serve", "--help"])
        .env("DATABASE_URL", "postgres://intake:hunter2@127.0.0.1:1/intake")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("DATABASE_URL"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[sqlx::test]
async fn user_add_rejects_overlong_name(pool: PgPool) {
    let url = database_url(&pool).await;
    let name = "N".repeat(201);
    let mut child = binary()
        .args(["user", "add", "--email", "a@uwaterloo.ca", "--name", &name, "--role", "requester"])
        .env("DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a sufficiently long password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("the name is invalid: use at most 200 characters"), "{stderr}");
}

#[sqlx::test]
async fn serve_stops_cleanly_on_sigterm(pool: PgPool) {
    let mut served = serve_on_fresh_database("ist_intake_cli_sigterm");

    let killed = Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = served.lines.by_ref().collect();
    let status = served.child.wait().unwrap();
    drop_database(&pool, &served.database).await;

    assert!(killed.success());
    assert!(status.success(), "{status:?}");
    assert!(rest.iter().any(|line| line.contains("shutting down")), "{rest:?}");
    assert!(rest.iter().any(|line| line.contains("stopped")), "{rest:?}");
}

#[test]
fn silent_database_times_out() {
    // A listener that accepts connections and never answers, like a wrong port behind a firewall.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let held: Vec<std::net::TcpStream> = listener.incoming().take(1).filter_map(Result::ok).collect();
        std::thread::sleep(std::time::Duration::from_secs(20));
        drop(held);
    });
    let started = std::time::Instant::now();
    let output = binary()
        .arg("migrate")
        .env("DATABASE_URL", format!("postgres://intake:hunter2@127.0.0.1:{port}/intake"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("timed out after 15 s"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(19), "{:?}", started.elapsed());
    drop(holder);
}

#[sqlx::test]
async fn sigterm_does_not_wait_for_stalled_client(pool: PgPool) {
    let mut served = serve_on_fresh_database("ist_intake_cli_stalled");

    // A client that sends half a request and then waits.
    let mut stalled = std::net::TcpStream::connect(&served.address).unwrap();
    stalled.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));

    let started = std::time::Instant::now();
    Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = served.lines.by_ref().collect();
    let status = served.child.wait().unwrap();
    let elapsed = started.elapsed();
    drop(stalled);
    drop_database(&pool, &served.database).await;

    assert!(status.success(), "{status:?}");
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
    assert!(rest.iter().any(|line| line.contains("connections were still open")), "{rest:?}");
    assert!(rest.iter().any(|line| line.contains("stopped")), "{rest:?}");
}

#[test]
fn catalogue_check_reports_differences() {
    let shipped = include_str!("../../data/graph-permissions.csv");
    let mut lines: Vec<&str> = shipped.lines().collect();
    let removed = lines.remove(1);
    lines.push("Example.Read.All,application,00000000-0000-0000-0000-000000000001,true,Read examples,Reads examples.");
    let file = write_policy(&(lines.join("\n") + "\n"));
    let output = binary().args(["catalogue", "check"]).arg(file.path()).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("is valid: 1437 rows"), "{stdout}");
    assert!(stdout.contains("added: 1\n  Example.Read.All (application)"), "{stdout}");
    let removed_name = removed.split(',').next().unwrap();
    assert!(stdout.contains(&format!("removed: 1\n  {removed_name} (delegated)")), "{stdout}");
    assert!(stdout.contains("changed: 0"), "{stdout}");
}

#[test]
fn catalogue_check_names_bad_row() {
    let file =
        write_policy("name,type,id,admin_consent_required,display_name,description\nA.Read,owner,1,false,Read,Reads\n");
    let output = binary().args(["catalogue", "check"]).arg(file.path()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("row 2"), "{stderr}");
}
