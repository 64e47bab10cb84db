//! What operators rely on: health, readiness, metrics (and the dashboard and
//! list of them), GraphiQL, the CLI and the published schema.

use serde_json::Value;

use crate::support::{create_task, settings, Backend, TestApp, TestDb};

#[tokio::test]
async fn health_readiness_and_metrics_report_the_projection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    create_task(&app, "HT-OPS-1").await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["projections"][0]["name"], "task_board");
    assert_eq!(body["projections"][0]["lagEvents"], 0);
    assert_eq!(body["projections"][0]["checkpoint"], body["head"]);

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            "facesign_commands_total{aggregate_type=\"interview-task\",outcome=\"ok\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("facesign_worker_lag_events{worker=\"task_board\"} 0"));
    assert!(text.contains("# TYPE facesign_commands_total counter"));
    // Issue 23 item 2: latency distributions, not only counts.
    for series in [
        "facesign_http_request_duration_seconds_bucket{route=\"/graphql\",status=\"200\",le=\"+Inf\"}",
        "facesign_graphql_operation_duration_seconds_bucket{operation=\"Mutation.createInterviewTask\",outcome=\"OK\",le=\"+Inf\"} 1",
        "facesign_command_duration_seconds_bucket{aggregate_type=\"interview-task\",outcome=\"ok\",le=\"+Inf\"} 1",
        "facesign_projection_lag_seconds_bucket{projection=\"task_board\",le=\"+Inf\"}",
        "# TYPE facesign_command_duration_seconds histogram",
        // Issue 35 item 3: what the alerts on pools and incidents read.
        "facesign_callback_incidents 0",
        "facesign_db_pool_max_connections{pool=\"read_models\"}",
        "facesign_db_pool_connections{pool=\"store\",state=\"in_use\"}",
        "facesign_db_pool_connections{pool=\"read_models\",state=\"idle\"}",
    ] {
        assert!(text.contains(series), "{series} in {text}");
    }

    let graphiql = app.get("/graphql").await;
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.text().await.unwrap().contains("graphiql"));
    app.stop().await;
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let name = app.db.url.rsplit('/').next().unwrap().to_string();
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(&app.db.url.replace(&name, "postgres"))
            .await
            .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_ne!(body["store"], "ok");
    app.stop().await;
}

fn facesign(args: &[&str], database_url: &str) -> std::process::Output {
    crate::support::facesign_cli(args, database_url)
}

#[tokio::test]
async fn cli_migrates_seeds_and_replays() {
    let db = TestDb::new(Backend::Sqlite).await;
    let migrate = facesign(&["migrate"], &db.url);
    assert!(migrate.status.success(), "{migrate:?}");
    let seed = facesign(&["seed-demo"], &db.url);
    assert!(seed.status.success(), "{seed:?}");
    assert!(String::from_utf8_lossy(&seed.stderr).contains("5 demo tasks created"));
    let again = facesign(&["seed-demo"], &db.url);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 demo tasks created"));
    let replay = facesign(&["replay", "--projection", "task_board"], &db.url);
    assert!(replay.status.success(), "{replay:?}");
    assert!(
        String::from_utf8_lossy(&replay.stderr).contains("18 events applied"),
        "every event of the demo log passes through"
    );
    let unknown = facesign(&["replay", "--projection", "nope"], &db.url);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown projection `nope`"));
    let bad_url = facesign(&["migrate"], "mysql://localhost/x");
    assert_eq!(bad_url.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("unsupported database URL"));
}

#[test]
fn published_schema_is_current() {
    let published =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.graphql"))
            .expect("docs/schema.graphql exists; run `facesign schema`");
    assert!(
        published == api::schema::sdl(),
        "docs/schema.graphql is stale; run `cargo run -- schema --out docs/schema.graphql`"
    );
}

/// The cluster issue, item 4: SQLite stays single-instance — a second server on
/// the same file refuses to start with a clear message; once the first stops,
/// a server starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let second = facesign::serve(&settings(&app.db.url)).await;
    let error = format!("{:#}", second.err().expect("the second server is refused"));
    assert!(
        error.contains("another facesign server is running"),
        "{error}"
    );
    let db = app.stop().await;
    let again = facesign::serve(&settings(&db.url))
        .await
        .expect("starts once the first stopped");
    again.stop().await.unwrap();
}

/// Every metric the Grafana dashboard and the alert rules query is one the
/// engine records and docs/operations.md lists (issue 23 item 2, issue 35
/// item 3).
#[test]
fn the_dashboard_queries_only_documented_metrics() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dashboard = std::fs::read_to_string(format!("{root}/docs/grafana-dashboard.json")).unwrap();
    let alerts = std::fs::read_to_string(format!("{root}/docs/prometheus-alerts.yml")).unwrap();
    let listed = std::fs::read_to_string(format!("{root}/docs/operations.md")).unwrap();
    let parsed: Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| !p.is_empty()));
    let queried = format!("{dashboard}\n{alerts}");
    let mut names: Vec<&str> = queried
        .match_indices("facesign_")
        .map(|(at, _)| {
            let rest = &queried[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
        })
        .filter(|name| *name != "facesign_")
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        assert!(
            listed.contains(&format!("`{name}`")),
            "{name} is not listed in docs/operations.md"
        );
    }
}

/// Issue 23 item 3: every answer carries `x-request-id` — the caller's, or a
/// fresh one — which the request's log lines and the command metadata carry
/// too; a client that accepts gzip gets compressed answers.
#[tokio::test]
async fn requests_carry_an_id_and_answers_are_compressed_on_request() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let given = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "req-ops-1")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "req-ops-1");
    let fresh = app.get("/healthz").await;
    let id = fresh.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let compressed = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(crate::support::token("A001", "ADMIN"))
        .header("accept-encoding", "gzip")
        .json(&serde_json::json!({ "query": "{ __schema { types { name } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.status(), 200);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    app.stop().await;
}

/// Issue 23 item 4 (its logging part): with `FACESIGN_LOG_FORMAT=json` every
/// log line is one JSON object, and a request's lines carry its request id.
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let dir = tempfile_dir("json-logs");
    let log = dir.join("serve.log");
    let port = crate::support::free_port();
    let mut server = crate::support::start_server_process(
        &format!("sqlite://{}", dir.join("logs.db").display()),
        port,
        &log,
        &[
            ("FACESIGN_LOG_FORMAT", "json"),
            ("RUST_LOG", "info,tower_http=debug"),
        ],
    )
    .await;
    let answered = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .header("x-request-id", "req-json-1")
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "req-json-1"),
        "a line of the request names its id: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("facesign-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
