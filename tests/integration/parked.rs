//! A poison event (issue 33 item 4): one the read models and flows cannot
//! apply is tried again, parked with its error, and every later event goes
//! on; `/readyz`, `/metrics`, `parkedEvents` and the operation log show it;
//! `facesign parked` lists, retries and skips it, each in the operation log.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{create_task, data, facesign_cli, on_both_backends, Backend, TestApp};

/// The identity number inside the poison payload: it must not reach the console.
const SECRET: &str = "110101199003071234";

/// Appends an `InterviewTaskCreated` no worker can decode, as a bad deploy or
/// a hand-made row would, on the database of `app`.
async fn append_poison(app: &TestApp, backend: Backend) {
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let (version,): (String,) = sqlx::query_as(
        "SELECT event_version FROM events WHERE event_type = 'InterviewTaskCreated' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let json = if matches!(backend, Backend::Postgres) {
        "JSONB"
    } else {
        "TEXT"
    };
    sqlx::query(&format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('interview-task', 'POISON-1', 1, 'InterviewTaskCreated', $1, CAST($2 AS {json}), CAST($3 AS {json}))"
    ))
    .bind(version)
    .bind(json!({ "InterviewTaskCreated": { "id_number": SECRET } }).to_string())
    .bind(json!({ "event_id": uuid::Uuid::now_v7().to_string(), "actor_id": "hand", "actor_role": "ADMIN",
        "correlation_id": "c", "causation_id": "c", "request_id": "c",
        "recorded_at": "2026-12-01T02:00:00.000000Z" }).to_string())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

async fn parked_events(app: &TestApp, all: bool) -> Vec<Value> {
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($all: Boolean!) { parkedEvents(all: $all) { worker position aggregateId eventType error attempts status resolvedBy note } }",
            json!({ "all": all }),
        )
        .await;
    data(&response)["parkedEvents"]
        .as_array()
        .expect("parkedEvents")
        .clone()
}

async fn operations(app: &TestApp, operation: &str) -> Vec<(String, String)> {
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let rows = sqlx::query_as(
        "SELECT actor_id, detail FROM operation_log WHERE operation = $1 AND kind = 'WORKER_REPAIR' ORDER BY entry_id",
    )
    .bind(operation)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

async fn a_poison_event_is_parked_and_the_workers_go_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_task(&app, "HT-PARK-1").await;
    append_poison(&app, backend).await;
    // Written after the poison event: its rows prove the workers went past it.
    create_task(&app, "HT-PARK-2").await;
    let mut parked = Vec::new();
    for _ in 0..200 {
        parked = parked_events(&app, false).await;
        if parked.iter().any(|p| p["worker"] == "task_board") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let board = parked
        .iter()
        .find(|p| p["worker"] == "task_board")
        .unwrap_or_else(|| panic!("task_board parked nothing: {parked:?}"));
    assert_eq!(board["aggregateId"], "POISON-1");
    assert_eq!(board["status"], "PARKED");
    assert_eq!(board["attempts"], 3);
    let error = board["error"].as_str().unwrap();
    assert!(error.contains("InterviewTaskCreated"), "{error}");
    assert!(!error.contains(SECRET), "the payload leaked: {error}");
    let position = board["position"].as_str().unwrap().to_string();
    // The scheduling flow decodes every task event too, and parks it alike.
    assert!(
        parked.iter().any(|p| p["worker"] == "scheduling_flow"),
        "{parked:?}"
    );

    // The task written after it is on the board: the worker went on.
    let later = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            r#"query { tasks(filter: { contractNo: "HT-PARK-2" }) { edges { node { contractNo } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data(&later)["tasks"]["edges"][0]["node"]["contractNo"],
        "HT-PARK-2",
        "{later}"
    );

    // Visible where operators look, without making the instance unready.
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert!(ready["parked"].as_i64().unwrap() >= 2, "{ready}");
    let board_status = ready["projections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "task_board")
        .unwrap();
    assert_eq!(board_status["parked"], 1, "{ready}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"facesign_parked_events{worker="task_board"} 1"#),
        "{metrics}"
    );
    // The parking itself is in the operation log, by the worker.
    let parkings = operations(&app, "parked.park").await;
    assert!(
        parkings.iter().any(|(actor, _)| actor == "task_board"),
        "{parkings:?}"
    );
    // A customer, a seat or a partner does not see parked events.
    let refused = app
        .graphql_as(("S01", "SEAT"), "{ parkedEvents { worker } }", json!({}))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    let url = app.db.url.clone();
    // The CLI lists it.
    let list = facesign_cli(&["parked", "list"], &url);
    assert!(list.status.success(), "{list:?}");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(&format!("task_board\t{position}\tPARKED")),
        "{listed}"
    );
    // A retry of what still cannot be applied fails, says why, and is recorded.
    let retry = facesign_cli(
        &["parked", "retry", "task_board", &position, "--by", "OP01"],
        &url,
    );
    assert_eq!(retry.status.code(), Some(1), "{retry:?}");
    assert!(
        String::from_utf8_lossy(&retry.stderr).contains("still cannot apply"),
        "{retry:?}"
    );
    assert_eq!(operations(&app, "parked.retry-failed").await.len(), 1);
    // Skipping needs a reason and an operator.
    let no_reason = facesign_cli(
        &[
            "parked",
            "skip",
            "task_board",
            &position,
            "--by",
            "OP01",
            "--reason",
            " ",
        ],
        &url,
    );
    assert_eq!(no_reason.status.code(), Some(1), "{no_reason:?}");
    let skip = facesign_cli(
        &[
            "parked",
            "skip",
            "task_board",
            &position,
            "--by",
            "OP01",
            "--reason",
            "hand-made row, not a real task",
        ],
        &url,
    );
    assert!(skip.status.success(), "{skip:?}");
    let skips = operations(&app, "parked.skip").await;
    assert_eq!(
        skips,
        vec![(
            "OP01".to_string(),
            "hand-made row, not a real task".to_string()
        )]
    );
    // Skipped once: a second skip finds nothing parked there and changes nothing.
    let again = facesign_cli(
        &[
            "parked",
            "skip",
            "task_board",
            &position,
            "--by",
            "OP01",
            "--reason",
            "again",
        ],
        &url,
    );
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no parked event of task_board"),
        "{again:?}"
    );
    assert_eq!(operations(&app, "parked.skip").await.len(), 1);
    let all = parked_events(&app, true).await;
    let skipped = all.iter().find(|p| p["worker"] == "task_board").unwrap();
    assert_eq!(skipped["status"], "SKIPPED");
    assert_eq!(skipped["resolvedBy"], "OP01");
    assert!(parked_events(&app, false)
        .await
        .iter()
        .all(|p| p["worker"] != "task_board"));
    // A rebuild re-derives the board from the start: the event fails again and
    // is parked again, visible, rather than left unapplied behind a SKIPPED.
    let rebuild = facesign_cli(&["replay", "--projection", "task_board"], &url);
    assert!(rebuild.status.success(), "{rebuild:?}");
    let again = parked_events(&app, false).await;
    let board = again.iter().find(|p| p["worker"] == "task_board");
    assert_eq!(
        board.map(|p| p["status"].clone()),
        Some(json!("PARKED")),
        "{again:?}"
    );
    app.stop().await;
}

/// A parked event a fixed worker can apply: a retry applies it (its row is
/// back on the board) and marks it retried.
async fn a_parked_event_is_retried_once_the_worker_can_apply_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = create_task(&app, "HT-PARK-3").await;
    // The board as if it had parked the task's creation: no row, a parked event.
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    sqlx::query("DELETE FROM task_board WHERE task_id = $1")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    let (tx_id, position): (i64, i64) = sqlx::query_as(&format!(
        "SELECT {}, global_position FROM events WHERE aggregate_id = $1 AND sequence = 1",
        if matches!(backend, Backend::Postgres) {
            "CAST(CAST(tx_id AS TEXT) AS BIGINT)"
        } else {
            "0"
        }
    ))
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO parked_events (worker, tx_id, global_position, event_id, aggregate_type, aggregate_id,
                                    sequence, event_type, error, attempts, status, parked_at)
         VALUES ('task_board', $1, $2, 'e', 'interview-task', $3, 1, 'InterviewTaskCreated', 'was broken', 3, 'PARKED', 'now')",
    )
    .bind(tx_id)
    .bind(position)
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let position = format!("{tx_id}:{position}");
    let retry = facesign_cli(
        &[
            "parked",
            "retry",
            "task_board",
            &position,
            "--by",
            "OP02",
            "--note",
            "fixed in 1.4.2",
        ],
        &app.db.url,
    );
    assert!(retry.status.success(), "{retry:?}");
    let all = parked_events(&app, true).await;
    assert_eq!(all[0]["status"], "RETRIED", "{all:?}");
    let task = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { task(id: $id) { contractNo } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&task)["task"]["contractNo"], "HT-PARK-3", "{task}");
    assert_eq!(all[0]["note"], "fixed in 1.4.2");
    assert_eq!(
        operations(&app, "parked.retry").await,
        vec![("OP02".to_string(), "fixed in 1.4.2".to_string())]
    );
    // Retried once: a second retry finds nothing parked, applies nothing and
    // records no failed retry.
    let twice = facesign_cli(
        &["parked", "retry", "task_board", &position, "--by", "OP03"],
        &app.db.url,
    );
    assert_eq!(twice.status.code(), Some(1), "{twice:?}");
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("no parked event of task_board"),
        "{twice:?}"
    );
    assert!(operations(&app, "parked.retry-failed").await.is_empty());
    // A worker that does not exist, or a position nothing is parked at, is refused.
    let unknown = facesign_cli(
        &[
            "parked",
            "retry",
            "no_such_worker",
            &position,
            "--by",
            "OP02",
        ],
        &app.db.url,
    );
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    let bad = facesign_cli(
        &["parked", "retry", "task_board", "nonsense", "--by", "OP02"],
        &app.db.url,
    );
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    app.stop().await;
}

on_both_backends!(
    a_poison_event_is_parked_and_the_workers_go_on,
    a_parked_event_is_retried_once_the_worker_can_apply_it
);
