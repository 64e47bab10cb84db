//! Fault tests (the benchmarks and faults issue): a server killed with SIGKILL
//! during a load, again and again, loses no acknowledged command, runs no
//! retried one twice and projects each exactly once; a dropped database connection fails requests clearly and
//! recovers without a restart (hostile requests: hostile.rs).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{
    free_port, start_server_process, task_input, token, Backend, TempDir, TestApp, TestDb,
    CREATE_TASK,
};

/// What became of one keyed create.
enum Sent {
    /// Answered with the task id.
    Answered(String),
    /// The key is still held by an attempt the killed server was running (409):
    /// retry once its lock lapses.
    Held,
    /// No answer: the server went away.
    Lost,
}

/// Sends `createInterviewTask` for `contract_no` keyed by the contract no.
async fn create_keyed(
    client: &reqwest::Client,
    port: u16,
    bearer: &str,
    contract_no: &str,
) -> Sent {
    let sent = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(bearer)
        .header("idempotency-key", contract_no)
        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input(contract_no) } }))
        .send()
        .await;
    let Ok(response) = sent else {
        return Sent::Lost;
    };
    let status = response.status().as_u16();
    let Ok(body) = response.json::<Value>().await else {
        return Sent::Lost;
    };
    if let Some(id) = body["data"]["createInterviewTask"]["taskId"].as_str() {
        return Sent::Answered(id.to_string());
    }
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default();
    match (status, code) {
        (409, "CONFLICT") => Sent::Held,
        (_, "INTERNAL" | "TIMEOUT") => Sent::Lost,
        _ => panic!("only a failure of the server, never a refusal, for {contract_no}: {body}"),
    }
}

/// Retries `contract_no` until it is answered (a held key lapses within the
/// request deadline and a second).
async fn answered(client: &reqwest::Client, port: u16, bearer: &str, contract_no: &str) -> String {
    for _ in 0..60 {
        if let Sent::Answered(id) = create_keyed(client, port, bearer, contract_no).await {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the retry of {contract_no} was never answered");
}

/// kill -9 during a load of four concurrent clients, four times over, on both
/// backends: every command whose answer was lost is retried with its key after
/// the restart and answered with the task it created (if it committed) or
/// creates it now; every contract ends with exactly one task, every
/// acknowledged task is the stored one, and the projections equal a rebuild.
async fn kill_nine_during_load(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = TempDir::new();
    let port = free_port();
    let client = reqwest::Client::new();
    let bearer = token("M0001", "ACCOUNT_MANAGER");
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let mut lost: Vec<String> = Vec::new();
    let mut lost_after_commit = std::collections::BTreeSet::new();
    let mut pool = None;
    for round in 0..5 {
        let log = dir.path().join(format!("{round}.log"));
        let mut server = start_server_process(&db.url, port, &log, &[]).await;
        // Opened once the first server created and migrated the database.
        if pool.is_none() {
            pool = Some(any_pool(&db.url).await);
        }
        let pool = pool.as_ref().expect("opened");
        if round == 4 {
            // The last start only retries what is still unanswered, then stops cleanly.
            for contract in std::mem::take(&mut lost) {
                if created(pool, backend, &contract).await == 1 {
                    lost_after_commit.insert(contract.clone());
                }
                let id = answered(&client, port, &bearer, &contract).await;
                acknowledged.insert(contract, id);
            }
            Command::new("kill")
                .args(["-TERM", &server.id().to_string()])
                .status()
                .unwrap();
            server.wait().unwrap();
            break;
        }
        let retries = std::mem::take(&mut lost);
        for contract in &retries {
            if created(pool, backend, contract).await == 1 {
                lost_after_commit.insert(contract.clone());
            }
        }
        let clients: Vec<_> = (0..4)
            .map(|client_no| {
                let (client, bearer) = (client.clone(), bearer.clone());
                let mine: Vec<String> = retries
                    .iter()
                    .skip(client_no)
                    .step_by(4)
                    .cloned()
                    .chain((0..750).map(|n| format!("HT-KILL-{round}-{client_no}-{n}")))
                    .collect();
                tokio::spawn(async move {
                    let (mut answered, mut unanswered) = (Vec::new(), Vec::new());
                    for contract in mine {
                        match create_keyed(&client, port, &bearer, &contract).await {
                            Sent::Answered(id) => answered.push((contract, id)),
                            Sent::Held => unanswered.push(contract),
                            Sent::Lost => {
                                // In flight when the server died: it may have
                                // committed. The ones not sent yet are dropped.
                                unanswered.push(contract);
                                break;
                            }
                        }
                    }
                    (answered, unanswered)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500 + 500 * round)).await;
        server.kill().unwrap(); // SIGKILL mid-load
        server.wait().unwrap();
        for handle in clients {
            let (answered, unanswered) = handle.await.unwrap();
            acknowledged.extend(answered);
            lost.extend(unanswered);
        }
    }
    assert!(lost.is_empty());
    let pool = pool.expect("opened");
    assert!(
        acknowledged.len() >= 40,
        "the load ran: {}",
        acknowledged.len()
    );
    eprintln!(
        "{} tasks acknowledged; {} answers were lost after their command committed and retried with the key",
        acknowledged.len(),
        lost_after_commit.len()
    );
    // Most requests in flight at a kill have committed and wait for their read
    // models (four clients, four kills): the case the keys exist for happened.
    assert!(
        !lost_after_commit.is_empty(),
        "no answer was lost after a commit"
    );
    let duplicates: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT {contract} AS contract_no, COUNT(*) FROM events
          WHERE event_type = 'InterviewTaskCreated' GROUP BY {contract} HAVING COUNT(*) > 1",
        contract = contract_expression(backend)
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        duplicates.is_empty(),
        "contracts stored twice: {duplicates:?}"
    );
    for (contract, id) in &acknowledged {
        let (stored,): (String,) = sqlx::query_as(&format!(
            "SELECT aggregate_id FROM events WHERE event_type = 'InterviewTaskCreated' AND {} = $1",
            contract_expression(backend)
        ))
        .bind(contract)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{contract} is stored: {e}"));
        assert_eq!(
            &stored, id,
            "the acknowledged task of {contract} is the stored one"
        );
    }
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = 'InterviewTaskCreated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        events as usize,
        acknowledged.len(),
        "every stored task was acknowledged"
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM task_board")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, events, "every stored task projected exactly once");
    pool.close().await;
    crate::support::assert_projections_equal_a_rebuild(&db.url);
}

/// The contract no inside an `InterviewTaskCreated` payload, in SQL.
fn contract_expression(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "payload -> 'InterviewTaskCreated' ->> 'contract_no'",
        Backend::Sqlite => "json_extract(payload, '$.InterviewTaskCreated.contract_no')",
    }
}

async fn any_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(url).await.unwrap()
}

/// How many tasks are stored for `contract_no`.
async fn created(pool: &sqlx::AnyPool, backend: Backend, contract_no: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM events WHERE event_type = 'InterviewTaskCreated' AND {} = $1",
        contract_expression(backend)
    ))
    .bind(contract_no)
    .fetch_one(pool)
    .await
    .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_load_loses_nothing_on_postgres() {
    kill_nine_during_load(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_load_loses_nothing_on_sqlite() {
    kill_nine_during_load(Backend::Sqlite).await;
}

/// The database drops every connection of the server: requests fail with a
/// clear error (no panic, no hang) and succeed again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_database_connection_recovers_without_a_restart() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let database = app.db.url.rsplit('/').next().unwrap().to_string();
    crate::support::create_task(&app, "HT-DROP-0").await;
    let admin = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&database)
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    // The pools reconnect: within a few attempts a command succeeds again.
    let mut recovered = false;
    for n in 0..50 {
        let response = app
            .graphql(
                CREATE_TASK,
                json!({ "input": task_input(&format!("HT-DROP-{}", n + 1)) }),
            )
            .await;
        if response.get("errors").is_none() {
            recovered = true;
            break;
        }
        let code = response["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default();
        assert!(
            matches!(code, "INTERNAL" | "CONFLICT"),
            "a clear error code: {response}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "requests succeed again without a restart");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    app.stop().await;
}
