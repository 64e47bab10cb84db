//! Migrations as their own step (issue 35 items 1 and 2, docs/operations.md
//! Deploying): with `FACESIGN_MIGRATE_ON_START=false` an instance does not
//! migrate; it waits, within `FACESIGN_DATABASE_WAIT_SECS`, for the migration
//! job (`facesign migrate`) and then serves, or stops saying what to run.
//! A database a newer release migrated still serves this build (the old
//! instances of a rolling upgrade); a database that is not there stops the
//! wait at once.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::support::{
    facesign_cli, free_port, start_server_process, Backend, TempDir, TestDb, TEST_JWT_SECRET,
};

async fn migrations_applied(url: &str) -> Option<i64> {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if !exists {
        return None;
    }
    Some(
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
    )
}

async fn answers(port: u16, path: &str) -> bool {
    reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_waits_for_the_migration_job_then_serves() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = TempDir::new();
    let log = dir.path().join("serve.log");
    let port = free_port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("FACESIGN_DATABASE_URL", &db.url)
        .env("FACESIGN_JWT_SECRET", TEST_JWT_SECRET)
        .env("FACESIGN_MIGRATE_ON_START", "false")
        .env("FACESIGN_DATABASE_WAIT_SECS", "120")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("facesign starts");

    // It says what it waits for, serves nothing yet, and migrates nothing.
    let mut waiting = false;
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("run `facesign migrate` (the migration job)") {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        waiting,
        "the instance does not say it waits: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(!answers(port, "/healthz").await);
    assert_eq!(migrations_applied(&db.url).await, None);
    assert!(server.try_wait().unwrap().is_none(), "the instance gave up");

    // The job runs; the instance then serves on the migrated database.
    let job = facesign_cli(&["migrate"], &db.url);
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    let mut ready = false;
    for _ in 0..300 {
        if answers(port, "/readyz").await {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        ready,
        "the instance is not ready after the migration job: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_wait_an_unmigrated_database_stops_the_start_and_a_newer_one_serves() {
    let db = TestDb::new(Backend::Postgres).await;
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("FACESIGN_DATABASE_URL", &db.url)
        .env("FACESIGN_JWT_SECRET", TEST_JWT_SECRET)
        .env("FACESIGN_MIGRATE_ON_START", "false")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("lacks") && said.contains("run `facesign migrate` (the migration job)"),
        "{said}"
    );
    assert_eq!(migrations_applied(&db.url).await, None);

    // A newer release's migration job has run: this build's `migrate` and
    // `serve` accept the migration they do not know.
    let job = facesign_cli(&["migrate"], &db.url);
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    let ours = migrations_applied(&db.url).await.expect("migrated");
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (29991231000000, 'from a newer release', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let job = facesign_cli(&["migrate"], &db.url);
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    assert_eq!(migrations_applied(&db.url).await, Some(ours + 1));

    let dir = TempDir::new();
    let log = dir.path().join("serve.log");
    let mut server = start_server_process(
        &db.url,
        free_port(),
        &log,
        &[("FACESIGN_MIGRATE_ON_START", "false")],
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("migrations newer than this build ([29991231000000])"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_not_there_stops_the_wait_at_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let missing = format!("{}_not_created", db.url);
    let started = std::time::Instant::now();
    let job = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .arg("migrate")
        .env("FACESIGN_DATABASE_URL", &missing)
        .env("FACESIGN_DATABASE_WAIT_SECS", "120")
        .output()
        .unwrap();
    assert_eq!(job.status.code(), Some(1));
    let said = String::from_utf8_lossy(&job.stderr);
    assert!(said.contains("does not exist"), "{said}");
    assert!(!said.contains("waiting"), "{said}");
    // Well inside the 120 s it would have waited for a database starting up.
    assert!(started.elapsed() < Duration::from_secs(60));
}
