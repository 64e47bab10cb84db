//! A real SMTP server for the tests that e-mail (合同下载): aiosmtpd, from PyPI
//! (`scripts/test` installs it), storing every message in a maildir. Fails,
//! never skips, without it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running SMTP server and the maildir it writes to.
pub struct MailServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

impl MailServer {
    /// Starts aiosmtpd on a free port.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("facesign-mail-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let maildir = dir.join("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start aiosmtpd ({e}); install it with `python3 -m pip install aiosmtpd` (scripts/test does)")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}: is it installed (`python3 -c 'import aiosmtpd'`)?"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, port, dir }
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<String> {
        let new = self.dir.join("maildir").join("new");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&new)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The base64 body of the first attachment of `content_type` in a raw message.
pub fn attachment(message: &str, content_type: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let part = &message[message.find(&format!("Content-Type: {content_type}"))?..];
    let body_start = part
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| part.find("\n\n").map(|i| i + 2))?;
    let body = &part[body_start..];
    let body_end = body.find("\n--").unwrap_or(body.len());
    let encoded: String = body[..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
}
