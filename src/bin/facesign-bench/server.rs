//! The server under test as a process of its own: the load generator shares
//! nothing with it, its memory is its own (read from `/proc/<pid>/status`),
//! and the database counts the transactions it made.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use sqlx::{Connection, PgConnection};

/// The secret the bench's server signs tokens with.
pub const SECRET: &str = "facesign-bench-secret-0123456789abcdef";

/// A running `facesign serve`.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: std::path::PathBuf,
}

/// What a stopped server used.
pub struct Used {
    /// Its peak resident memory (VmHWM), MB.
    pub peak_rss_mb: Option<f64>,
}

fn facesign_binary() -> anyhow::Result<std::path::PathBuf> {
    let path = std::env::current_exe()?.with_file_name("facesign");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build both binaries (cargo build --release)",
        path.display()
    );
    Ok(path)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl ServerProcess {
    /// Starts the server on `database_url` (no rate limit, a pool of 20) and
    /// returns once `/readyz` answers.
    pub async fn start(database_url: &str) -> anyhow::Result<Self> {
        Self::start_with(
            database_url,
            &[
                ("FACESIGN_RATE_LIMIT_PER_SECOND", "1000000"),
                ("FACESIGN_RATE_LIMIT_BURST", "1000000"),
            ],
        )
        .await
    }

    /// The same with further settings (`env`), e.g. the default rate limits.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("facesign-bench-server-{port}.log"));
        let child = Command::new(facesign_binary()?)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("FACESIGN_DATABASE_URL", database_url)
            .env("FACESIGN_JWT_SECRET", SECRET)
            .env("FACESIGN_DB_MAX_CONNECTIONS", "20")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("cannot start facesign serve")?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        server.stop().await?;
        anyhow::bail!("the server did not become ready: {log}")
    }

    /// CPU time the process has used so far (user and system), seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which may hold spaces) start past ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Some(ticks / per_second.max(1.0))
    }

    /// Peak resident memory so far (VmHWM), MB.
    fn memory(&self) -> Option<f64> {
        peak_rss_mb(&self.child.id().to_string())
    }

    /// Stops the server (SIGTERM, then its graceful shutdown) and says what it used.
    pub async fn stop(mut self) -> anyhow::Result<Used> {
        let peak_rss_mb = self.memory();
        // SIGTERM starts the graceful shutdown (std only sends SIGKILL).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..300 {
            if self.child.try_wait()?.is_some() {
                let _ = std::fs::remove_file(&self.log);
                return Ok(Used { peak_rss_mb });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(Used { peak_rss_mb })
    }
}

/// The peak resident memory (VmHWM) of `process` (a pid, or `self`), MB.
pub fn peak_rss_mb(process: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Transactions committed and rolled back in database `name`, once no
/// session on it is left (a backend reports its counts when it ends).
pub async fn transactions(admin_url: &str, name: &str) -> anyhow::Result<i64> {
    let mut admin = PgConnection::connect(admin_url).await?;
    for _ in 0..100 {
        let (sessions,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1")
                .bind(name)
                .fetch_one(&mut admin)
                .await?;
        if sessions == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Counts reach the shared statistics shortly after a backend ends.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (count,): (i64,) = sqlx::query_as(
        "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(&mut admin)
    .await?;
    admin.close().await?;
    Ok(count)
}
