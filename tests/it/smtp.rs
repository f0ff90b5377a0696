//! A real SMTP server for the notification tests: aiosmtpd from PyPI,
//! run on a loopback port with a throwaway certificate authority made here
//! with openssl, so the service must use STARTTLS and AUTH as in production.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use ist_intake::config::{MailSettings, SmtpSettings};

pub const USER: &str = "ist-intake";
pub const PASSWORD: &str = "relay-password";
pub const QUEUE_ADDRESS: &str = "ist-review@uwaterloo.ca";

/// Returns the Python that has aiosmtpd: SMTP_TEST_PYTHON when set, or a
/// virtual environment created once under target/ with aiosmtpd from PyPI.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(python) = std::env::var("SMTP_TEST_PYTHON") {
            return PathBuf::from(python);
        }
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("smtp-test-venv");
        let python = venv.join("bin").join("python");
        let ready = Command::new(&python).args(["-c", "import aiosmtpd"]).status().is_ok_and(|status| status.success());
        if !ready {
            let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3 runs");
            assert!(made.success(), "python3 -m venv {} failed", venv.display());
            let installed = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "aiosmtpd==1.4.6"])
                .status()
                .expect("pip runs");
            assert!(installed.success(), "installing aiosmtpd from PyPI failed");
        }
        python
    })
}

fn openssl(args: &[&str], folder: &Path) {
    let output = Command::new("openssl").args(args).current_dir(folder).output().expect("openssl runs");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Makes a certificate authority and a server certificate for 127.0.0.1;
/// returns the authority's PEM.
fn make_certificates(folder: &Path) -> Vec<u8> {
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"],
            &key[..],
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ist-intake test CA"],
        ]
        .concat(),
        folder,
    );
    openssl(
        &[&["req"], &key[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat(),
        folder,
    );
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        folder,
    );
    std::fs::read(folder.join("ca.pem")).unwrap()
}

/// How the server behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// Offer no STARTTLS at all.
    pub no_starttls: bool,
    /// Number of DATA commands, from the first, that get a 421 reply.
    pub refuse_data: u32,
    /// Give every RCPT a 550 reply.
    pub reject_recipients: bool,
}

pub struct SmtpServer {
    pub port: u16,
    folder: tempfile::TempDir,
    ca_pem: Vec<u8>,
    child: Child,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    pub fn start(behaviour: Behaviour) -> SmtpServer {
        let folder = tempfile::tempdir().unwrap();
        let ca_pem = make_certificates(folder.path());
        let mail = folder.path().join("mail");
        std::fs::create_dir(&mail).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("smtp").join("server.py");
        let mut command = Command::new(python());
        command.arg(script).args(["--port", &port.to_string(), "--folder"]).arg(&mail).args([
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--refuse-data",
            &behaviour.refuse_data.to_string(),
        ]);
        if !behaviour.no_starttls {
            command
                .arg("--cert")
                .arg(folder.path().join("server.pem"))
                .arg("--key")
                .arg(folder.path().join("server.key"));
        }
        if behaviour.reject_recipients {
            command.arg("--reject-recipients");
        }

        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("the SMTP server starts");
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
        assert_eq!(first_line.trim(), "ready", "the SMTP server did not start");
        SmtpServer { port, folder, ca_pem, child }
    }

    /// Relay settings that trust this server's certificate authority.
    pub fn smtp_settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            username: USER.to_owned(),
            password: PASSWORD.to_owned(),
            from: "ist-intake@uwaterloo.ca".to_owned(),
            ca_pem: Some(self.ca_pem.clone()),
            timeout: Duration::from_secs(10),
        }
    }

    /// Notification settings that retry at once, for tests.
    pub fn mail_settings(&self) -> MailSettings {
        MailSettings {
            smtp: self.smtp_settings(),
            queue_address: QUEUE_ADDRESS.to_owned(),
            max_attempts: 3,
            retry_base: Duration::ZERO,
            poll_interval: Duration::from_millis(50),
        }
    }

    /// Returns the CA certificate file, for the command line's SMTP_CA_FILE.
    pub fn ca_file(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }

    /// Returns every message received so far, as raw text with the server's notes first.
    pub fn messages(&self) -> Vec<String> {
        let mut messages: Vec<String> = std::fs::read_dir(self.folder.path().join("mail"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|extension| extension == "eml"))
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
            .collect();
        messages.sort();
        messages
    }
}

/// Returns the value of a header in a raw message, unfolded.
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        line.split_once(':').filter(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.trim().to_owned())
    })
}
