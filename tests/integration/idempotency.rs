//! `Idempotency-Key` on mutations (the issue "no retried command runs twice"):
//! the same key from the same caller gets the first answer and never a second
//! command, concurrently, after a lost answer, and across restarts (faults.rs).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Connection;

use crate::support::on_both_backends;
use crate::support::{settings, task_input, token, Backend, TestApp, TestDb, CREATE_TASK};

on_both_backends!(
    the_same_key_gets_the_first_answer_and_runs_nothing_again,
    concurrent_requests_with_one_key_run_once,
);

/// Sends `createInterviewTask` for `contract_no` as `sub` with `key`.
async fn create_keyed(
    app: &TestApp,
    sub: &str,
    key: &str,
    contract_no: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token(sub, "ACCOUNT_MANAGER"))
        .header("idempotency-key", key)
        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input(contract_no) } }))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn tasks_created(app: &TestApp) -> i64 {
    let pool = app.any_pool().await;
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = 'InterviewTaskCreated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    n
}

async fn the_same_key_gets_the_first_answer_and_runs_nothing_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, headers, first) = create_keyed(&app, "M0001", "key-1", "HT-IDEM-1").await;
    assert_eq!(status, 200);
    assert!(headers.get("idempotent-replayed").is_none());
    let task_id = first["data"]["createInterviewTask"]["taskId"].clone();
    assert!(task_id.is_string(), "{first}");
    let events = app.event_count().await;

    let (status, headers, again) = create_keyed(&app, "M0001", "key-1", "HT-IDEM-1").await;
    assert_eq!(status, 200);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, first, "the first answer, as it was");
    assert_eq!(app.event_count().await, events, "nothing ran again");

    // The same key for another request is refused and changes nothing.
    let (status, _, other) = create_keyed(&app, "M0001", "key-1", "HT-IDEM-2").await;
    assert_eq!(status, 422);
    assert_eq!(other["errors"][0]["extensions"]["code"], "VALIDATION");
    assert_eq!(app.event_count().await, events);

    // Keys belong to their caller: another manager's key-1 is a new request.
    let (status, _, theirs) = create_keyed(&app, "M0002", "key-1", "HT-IDEM-2").await;
    assert_eq!(status, 200);
    assert_ne!(theirs["data"]["createInterviewTask"]["taskId"], task_id);

    // A refusal is a final answer too: replayed, not run again.
    let (_, _, refused) = create_keyed(&app, "M0001", "key-2", "HT-IDEM-1").await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "CONFLICT");
    let (_, headers, refused_again) = create_keyed(&app, "M0001", "key-2", "HT-IDEM-1").await;
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(refused_again, refused);

    // A malformed key is refused before anything runs; a key on a query is ignored.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token("M0001", "ACCOUNT_MANAGER"))
        .header("idempotency-key", "has spaces")
        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input("HT-IDEM-3") } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let query = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token("M0001", "ACCOUNT_MANAGER"))
        .header("idempotency-key", "key-1")
        .json(&json!({ "query": "{ tasks(first: 5) { edges { cursor } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    assert!(query.headers().get("idempotent-replayed").is_none());
    assert_eq!(tasks_created(&app).await, 2);
    app.stop().await;
}

/// Eight copies of one keyed request at once: one runs; the others get its
/// answer or are told it is still running (409) — never a second task.
async fn concurrent_requests_with_one_key_run_once(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { create_keyed(&app, "M0001", "burst", "HT-BURST").await })
        })
        .collect();
    let mut task_ids = std::collections::HashSet::new();
    for handle in handles {
        let (status, headers, body) = handle.await.unwrap();
        match status {
            200 => {
                task_ids.insert(body["data"]["createInterviewTask"]["taskId"].to_string());
            }
            409 => {
                assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
                assert_eq!(headers["retry-after"], "1");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(task_ids.len(), 1, "{task_ids:?}");
    assert_eq!(tasks_created(&app).await, 1);
    Arc::into_inner(app).unwrap().stop().await;
}

/// The answer is lost after the command committed (the request is cancelled at
/// its deadline while it waits for a stalled read model): the retry with the
/// key is answered with the task the first attempt created, and creates none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_lost_answer_returns_what_the_first_attempt_committed() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_on(db, |url| {
        let mut settings = settings(url);
        settings.request_deadline = Duration::from_millis(1500);
        settings
    })
    .await;
    // Stall the task board: the command commits, its read model cannot follow.
    let mut stall = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut stall).await.unwrap();
    sqlx::query("LOCK TABLE task_board IN ACCESS EXCLUSIVE MODE")
        .execute(&mut stall)
        .await
        .unwrap();
    let (status, _, lost) = create_keyed(&app, "M0001", "lost-1", "HT-LOST").await;
    assert_eq!(status, 503, "{lost}");
    assert_eq!(lost["errors"][0]["extensions"]["code"], "TIMEOUT");
    assert_eq!(tasks_created(&app).await, 1, "the first attempt committed");
    sqlx::query("ROLLBACK").execute(&mut stall).await.unwrap();

    let (status, headers, retried) = create_keyed(&app, "M0001", "lost-1", "HT-LOST").await;
    assert_eq!(status, 200, "{retried}");
    assert!(
        headers.get("idempotent-replayed").is_none(),
        "not answered before"
    );
    let created = &retried["data"]["createInterviewTask"];
    assert_eq!(created["task"]["contractNo"], "HT-LOST", "{retried}");
    assert_eq!(tasks_created(&app).await, 1, "and nothing ran twice");
    let pool = app.any_pool().await;
    let (stored,): (String,) =
        sqlx::query_as("SELECT aggregate_id FROM events WHERE event_type = 'InterviewTaskCreated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(created["taskId"], stored.as_str());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "facesign_commands_total{aggregate_type=\"interview-task\",outcome=\"replayed\"} 1"
        ),
        "the create was handed back from its receipt: {metrics}"
    );
    // From now on the key answers with what the retry answered.
    let (_, headers, replayed) = create_keyed(&app, "M0001", "lost-1", "HT-LOST").await;
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(replayed, retried);
    app.stop().await;
}
