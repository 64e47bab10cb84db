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

/// Issue 20 item 5: every filter the board and the console offer is served by
/// an index. With sequential scans priced out, a filter without a usable
/// index still plans one, so this fails for any filter left unindexed.
#[tokio::test]
async fn every_task_board_filter_has_an_index() {
    use domain::interview_task::TaskStatus;
    use projections::task_board::TaskFilter;
    use sqlx::Connection;
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let text = |s: &str| Some(s.to_string());
    let filters = [
        (
            "status",
            TaskFilter {
                status: Some(TaskStatus::Pending),
                ..TaskFilter::default()
            },
            &["status = "][..],
        ),
        (
            "contract",
            TaskFilter {
                contract_no: text("HT-1"),
                ..TaskFilter::default()
            },
            &["contract_no = "],
        ),
        (
            "seat",
            TaskFilter {
                seat_no: text("S0001"),
                ..TaskFilter::default()
            },
            &["seat_no = "],
        ),
        (
            "product",
            TaskFilter {
                product_code: text("YXD"),
                ..TaskFilter::default()
            },
            &["product_code = "],
        ),
        (
            "channel",
            TaskFilter {
                channel_code: text("YYZX"),
                ..TaskFilter::default()
            },
            &["channel_code = "],
        ),
        (
            "appointment day",
            TaskFilter {
                from: text("2026-12-01T00:00:00+08:00"),
                to: text("2026-12-02T00:00:00+08:00"),
                ..TaskFilter::default()
            },
            &["appointment_start >= "],
        ),
        (
            "manager",
            TaskFilter {
                manager_id: text("M0001"),
                ..TaskFilter::default()
            },
            &["manager_id = "],
        ),
        (
            "a seat's reach",
            TaskFilter {
                seat_reach: text("S0001"),
                ..TaskFilter::default()
            },
            &["(seat_no = ", "interview_seat = "],
        ),
        ("nothing (newest first)", TaskFilter::default(), &[]),
    ];
    for (name, filter, looked_up) in filters {
        let plan = projections::TaskBoard::plan(&mut conn, &filter)
            .await
            .unwrap();
        assert!(
            !plan.contains("Seq Scan on task_board"),
            "the {name} filter scans the whole board:\n{plan}"
        );
        // Each filtered column is looked up in an index, not checked row by
        // row along another one.
        let lookups: Vec<&str> = plan.lines().filter(|l| l.contains("Index Cond")).collect();
        for column in looked_up {
            assert!(
                lookups.iter().any(|l| l.contains(column)),
                "the {name} filter does not look `{column}` up in an index:\n{plan}"
            );
        }
    }
    // A combined filter is served by one of its columns' indexes.
    let both = TaskFilter {
        product_code: text("YXD"),
        channel_code: text("YYZX"),
        ..TaskFilter::default()
    };
    let plan = projections::TaskBoard::plan(&mut conn, &both)
        .await
        .unwrap();
    assert!(plan.contains("Index Cond"), "{plan}");
    conn.close().await.unwrap();
    app.stop().await;
}
