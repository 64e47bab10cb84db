//! Fault tests (the benchmarks and faults issue): a server killed with SIGKILL
//! during a load, again and again, loses no acknowledged command and projects
//! each exactly once; a dropped database connection fails requests clearly and
//! recovers without a restart; hostile GraphQL never panics or answers 5xx.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{
    task_input, token, Backend, TempDir, TestApp, TestDb, CREATE_TASK, TEST_JWT_SECRET,
};

async fn start_server(db: &TestDb, port: u16, log: &std::path::Path) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("FACESIGN_DATABASE_URL", &db.url)
        .env("FACESIGN_JWT_SECRET", TEST_JWT_SECRET)
        .env("FACESIGN_RATE_LIMIT_PER_SECOND", "100000")
        .env("FACESIGN_RATE_LIMIT_BURST", "100000")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// kill -9 during a load, three times over, on both backends' store: every
/// acknowledged command's event is stored exactly once, and after a clean
/// restart the projections equal a rebuild.
async fn kill_nine_during_load(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = TempDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = reqwest::Client::new();
    let bearer = token("M0001", "ACCOUNT_MANAGER");
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..3 {
        let mut server = start_server(&db, port, &dir.path().join(format!("{round}.log"))).await;
        let load = {
            let client = client.clone();
            let bearer = bearer.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..2000 {
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/graphql"))
                        .bearer_auth(&bearer)
                        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input(&format!("HT-KILL-{round}-{n}")) } }))
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    let Ok(body) = response.json::<Value>().await else {
                        break;
                    };
                    if let Some(id) = body["data"]["createInterviewTask"]["taskId"].as_str() {
                        ids.push(id.to_string());
                    }
                }
                ids
            })
        };
        tokio::time::sleep(Duration::from_millis(400 + 200 * round)).await;
        server.kill().unwrap(); // SIGKILL mid-load
        server.wait().unwrap();
        let round_ids = load.await.unwrap();
        assert!(
            round_ids.len() < 2000,
            "the server died mid-load in round {round}"
        );
        acknowledged.extend(round_ids);
    }
    assert!(
        !acknowledged.is_empty(),
        "the load was acknowledged at least in part"
    );
    // A clean start catches up; then stop it and compare with a rebuild.
    let mut server = start_server(&db, port, &dir.path().join("final.log")).await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    server.wait().unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    for id in &acknowledged {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM events WHERE aggregate_id = $1 AND event_type = 'InterviewTaskCreated'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "acknowledged task {id} stored exactly once");
    }
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = 'InterviewTaskCreated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM task_board")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, events, "every stored task projected exactly once");
    pool.close().await;
    crate::support::assert_projections_equal_a_rebuild(&db.url);
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

/// Malformed and hostile GraphQL: never a panic, never a 5xx; every refusal
/// carries a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_graphql_is_refused_without_a_5xx() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let nested = format!("query {{ {} }}", "__schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }");
    let aliases = format!(
        "{{ {} }}",
        (0..3000)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cases: Vec<Value> = vec![
        json!({ "query": "{" }),
        json!({ "query": "" }),
        json!({ "query": null }),
        json!({ "query": 42 }),
        json!({ "query": "mutation { createInterviewTask }" }),
        json!({ "query": "{ task(id: \"'; DROP TABLE events; --\") { id } }" }),
        json!({ "query": "{ tasks(first: -1) { edges { node { id } } } }" }),
        json!({ "query": "{ tasks(first: 999999999) { edges { node { id } } } }" }),
        json!({ "query": "{ tasks(after: \"%%%not-base64\") { edges { node { id } } } }" }),
        json!({ "query": "query($x: Int!) { tasks(first: $x) { edges { cursor } } }", "variables": { "x": "nope" } }),
        json!({ "query": "{ tasks { edges { node { id } } } ".repeat(200) }),
        json!({ "query": nested }),
        json!({ "query": aliases }),
        json!({ "query": "{ aggregateAt(aggregateType: \"interview-task\", aggregateId: \"\\u0000\") { state } }" }),
    ];
    // Random strings over GraphQL's alphabet as queries.
    let mut seed: u64 = 0x5eed;
    for _ in 0..300 {
        let text: String = (0..64)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b"{}()[]:$!@#\"\\ \nabcdefghijklmnopqrstuvwxyzTASKquery mutation subscription fragment on ...0123456789"[(seed % 96) as usize] as char
            })
            .collect();
        cases.push(json!({ "query": text }));
    }
    for (i, case) in cases.iter().enumerate() {
        for who in [Some(token("S1", "SEAT")), None] {
            let mut request = app.client.post(format!("{}/graphql", app.base)).json(case);
            if let Some(t) = &who {
                request = request.bearer_auth(t);
            }
            let response = request
                .send()
                .await
                .expect("an answer, not a dropped connection");
            let status = response.status().as_u16();
            assert!(status < 500, "case {i} answered {status}");
            if let Ok(body) = response.json::<Value>().await {
                if let Some(errors) = body.get("errors").and_then(Value::as_array) {
                    assert!(!errors.is_empty(), "case {i}");
                }
            }
        }
    }
    let body = app
        .client
        .post(format!("{}/graphql", app.base))
        .body("not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(body.status().as_u16() < 500);
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
    app.stop().await;
}
