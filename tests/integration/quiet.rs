//! Workers do work only when there is work (issue 20, item 3): a read model
//! passes over events it does not read without a transaction, the consumers
//! woken by one commit share one read of the store, and an idle server reads
//! nothing from the log.

use std::time::Duration;

use domain::interview_task::InterviewTask;
use domain::log::{Actor, LogPosition};
use facesign::Engine;
use projections::{Channels, TaskBoard};
use store::worker::load_checkpoint;
use store::CommandContext;
use tokio::sync::watch;

use crate::command_bus::create;
use crate::support::on_both_backends;
use crate::support::{create_task, settings, Backend, TestApp, TestDb};

on_both_backends!(
    a_read_model_passes_over_what_it_does_not_read,
    an_idle_server_reads_nothing_and_one_commit_is_read_once
);

async fn a_read_model_passes_over_what_it_does_not_read(backend: Backend) {
    let db = TestDb::new(backend).await;
    let engine = Engine::open(&settings(&db.url)).await.unwrap();
    let context = CommandContext::for_request(Actor::system("test"), "quiet".into());
    let receipt = engine
        .bus
        .execute::<InterviewTask>("T-QUIET-1", create("T-QUIET-1", "HT-QUIET-1"), &context)
        .await
        .unwrap();
    let last = receipt.position.expect("appended");
    let channels = engine.projection_runner(Channels);
    let board = engine.projection_runner(TaskBoard);
    assert_eq!(first_step(&channels).await, 1, "read the task's event");
    assert_eq!(first_step(&board).await, 1);
    let pool = engine.database.read_models();
    let stored = |name: &'static str| async move { load_checkpoint(pool, name).await.unwrap().0 };
    assert_eq!(
        stored("channels").await,
        LogPosition::START,
        "nothing for the channel list: no transaction, the checkpoint moved in memory"
    );
    assert_eq!(channels.checkpoint().await.unwrap().0, last);
    assert_eq!(stored("task_board").await, last, "written with its rows");
    assert_eq!(
        channels.step().await.unwrap(),
        0,
        "and it does not read it again"
    );

    // A stopping runner writes what it passed over.
    let (_stop, stopped) = watch::channel(true);
    channels
        .run(
            engine.bus.subscribe_commits(),
            Duration::from_millis(10),
            stopped,
        )
        .await;
    assert_eq!(stored("channels").await, last);
    engine.database.close().await;
}

/// The first step that reads something: on Postgres a committed event stays
/// hidden while any older transaction (of any test's database) is open.
async fn first_step<P: projections::Projection>(
    runner: &projections::ProjectionRunner<P, store::GlobalLog>,
) -> usize {
    for _ in 0..500 {
        match runner.step().await.unwrap() {
            0 => tokio::time::sleep(Duration::from_millis(10)).await,
            read => return read,
        }
    }
    panic!("the event never became visible");
}

/// `facesign_log_reads_total{source=…}` as served on /metrics.
async fn log_reads(app: &TestApp) -> (u64, u64) {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let read = |source: &str| {
        let prefix = format!("facesign_log_reads_total{{source=\"{source}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    (read("store"), read("memory"))
}

async fn an_idle_server_reads_nothing_and_one_commit_is_read_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_task(&app, "HT-QUIET-A").await;
    // Let the flows and read models settle after the first task.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (store, memory) = log_reads(&app).await;
    // Ten poll rounds of every worker (the tests poll every 100 ms).
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        log_reads(&app).await,
        (store, memory),
        "an idle server does not read the log"
    );

    create_task(&app, "HT-QUIET-B").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (store_after, memory_after) = log_reads(&app).await;
    let (from_store, from_memory) = (store_after - store, memory_after - memory);
    // Fourteen consumers read what one mutation set going; most take it from
    // the tail another one read.
    assert!(
        from_store >= 1 && from_store * 3 <= from_memory,
        "{from_store} reads of the store, {from_memory} from memory"
    );
    app.stop().await;
}
