//! Rebuilding a projection from position 0 reproduces the live rows exactly.

use facesign::Engine;
use projections::task_board::TaskBoard;
use serde_json::json;

use crate::support::on_both_backends;
use crate::support::{create_task, data, settings, Backend, TestApp, CANCEL_TASK};

on_both_backends!(rebuilt_task_board_equals_live);

async fn rebuilt_task_board_equals_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(create_task(&app, &format!("HT-REPLAY-{n}")).await);
    }
    for id in ids.iter().step_by(3) {
        let response = app
            .graphql(CANCEL_TASK, json!({ "id": id, "reason": "回退重建" }))
            .await;
        data(&response);
    }
    let pool = app.any_pool().await;
    let live = TaskBoard::all_rows(&pool).await.unwrap();
    assert_eq!(live.len(), 8);
    assert_eq!(live.iter().filter(|r| r.status == "CANCELLED").count(), 3);

    let db = app.stop().await;

    // The same code path as `facesign replay --projection task_board`.
    let engine = Engine::open(&settings(&db.url)).await.unwrap();
    let applied = engine.replay("task_board").await.unwrap();
    assert_eq!(applied, 11, "8 creations and 3 cancellations re-applied");
    let rebuilt = TaskBoard::all_rows(&pool).await.unwrap();
    assert_eq!(rebuilt, live);

    let unknown = engine.replay("no_such_projection").await.unwrap_err();
    assert!(unknown.to_string().contains("task_board"));
    pool.close().await;
    engine.database.close().await;
}
