//! Postgres over TLS (issue 35 item 5): a scratch Postgres cluster the test
//! starts with SSL on and plain connections refused, its certificate signed
//! by a CA the test makes. With FACESIGN_DATABASE_SSL_MODE=verify-full and
//! that CA the engine migrates and serves; with another CA it refuses the
//! server's certificate, saying so; without TLS the server refuses it.
//! Needs Postgres's `initdb` and `postgres` (the machine's server package)
//! and `openssl`, and fails, never skips, without them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{run_ok, task_input, token, TempDir, CREATE_TASK};

/// Where the Postgres server's programs are (Debian keeps them per version).
fn postgres_bin(program: &str) -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin").join(program))
                .filter(|p| p.is_file())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    versions.into_iter().max().unwrap_or_else(|| {
        panic!("{program} not found under /usr/lib/postgresql: install postgresql")
    })
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `program` as the `postgres` user when this is root (Postgres refuses
/// to run as root), else as this user.
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A Postgres cluster in a directory of its own, TLS only, on a free port.
struct ScratchPostgres {
    child: Child,
    port: u16,
    data: PathBuf,
    _dir: TempDir,
}

impl ScratchPostgres {
    /// Starts it with the certificate and key `certs` holds
    /// (`server.pem`, `server.key`).
    fn start(certs: &Path) -> Self {
        let dir = TempDir::new();
        let data = dir.path().join("data");
        std::fs::copy(certs.join("server.pem"), dir.path().join("server.pem")).unwrap();
        std::fs::copy(certs.join("server.key"), dir.path().join("server.key")).unwrap();
        if running_as_root() {
            run_ok(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(dir.path());
                    c
                },
                "chown the scratch cluster's directory",
            );
        }
        run_ok(
            {
                let mut c = Command::new("chmod");
                c.arg("600").arg(dir.path().join("server.key"));
                c
            },
            "chmod the server key",
        );
        let mut initdb = as_postgres(&postgres_bin("initdb"));
        initdb
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(&data);
        run_ok(initdb, "initdb");
        // Plain connections are refused: whatever connects, connects over TLS.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostnossl all all 0.0.0.0/0 reject\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut postgres = as_postgres(&postgres_bin("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "ssl=on", "-c", "fsync=off"])
            .arg("-c")
            .arg(format!(
                "ssl_cert_file={}",
                dir.path().join("server.pem").display()
            ))
            .arg("-c")
            .arg(format!(
                "ssl_key_file={}",
                dir.path().join("server.key").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = postgres.spawn().expect("postgres starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the scratch Postgres did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            port,
            data,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        // SIGINT to the postmaster (the first line of postmaster.pid; the
        // child may be `runuser`, which does not pass it on): a fast shutdown.
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok());
        if let Some(pid) = pid {
            // SAFETY: a signal to the server this test started.
            unsafe { libc::kill(pid, libc::SIGINT) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `facesign <args>` against `url` with the TLS settings given.
fn facesign(args: &[&str], url: &str, mode: &str, ca: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(args)
        .env("FACESIGN_DATABASE_URL", url)
        .env("FACESIGN_DATABASE_SSL_MODE", mode)
        .env("FACESIGN_DATABASE_SSL_ROOT_CERT", ca)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run facesign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reaches_postgres_over_verified_tls_only() {
    let certs = TempDir::new();
    crate::support::tls::certificates(certs.path());
    let postgres = ScratchPostgres::start(certs.path());
    let bank_ca = certs.path().join("bank-ca.pem");
    let unknown_ca = certs.path().join("unknown-ca.pem");

    // Verified TLS: the migration job runs.
    let migrated = facesign(&["migrate"], &postgres.url(), "verify-full", &bank_ca);
    assert!(
        migrated.status.success(),
        "migrate over TLS: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    // A certificate from a CA the engine was not given is refused, clearly.
    let refused = facesign(&["migrate"], &postgres.url(), "verify-full", &unknown_ca);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(said.contains("certificate"), "{said}");

    // Without TLS the server turns the engine away.
    let plain = facesign(&["migrate"], &postgres.url(), "disable", &bank_ca);
    assert_eq!(plain.status.code(), Some(1));
    let said = String::from_utf8_lossy(&plain.stderr);
    assert!(
        said.contains("no encryption") || said.contains("pg_hba.conf"),
        "{said}"
    );

    // The server itself: its pools and its listener over TLS.
    let url =
        facesign::settings::with_postgres_tls(&postgres.url(), Some("verify-full"), Some(&bank_ca))
            .unwrap();
    let mut settings = crate::support::settings(&url);
    settings.bind = "127.0.0.1:0".into();
    let server = facesign::serve(&settings).await.expect("serves over TLS");
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(token("M0001", "ACCOUNT_MANAGER"))
        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input("HT-TLS-1") } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created["errors"].is_null(), "{created}");
    server.stop().await.unwrap();
}
