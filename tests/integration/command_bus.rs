//! Optimistic concurrency: conflicting appends are retried a bounded number of
//! times, then answered with CONFLICT; no event is ever lost or duplicated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use adapters::{CommandBus, CommandContext, CommandError, Database, GlobalLog, Metrics};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::error::{DomainError, ErrorCode};
use domain::log::Actor;
use domain::services::{DomainServices, SequentialIds};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Barrier;

use crate::graphql_tasks::on_both_backends;
use crate::support::{create_task, data, error_code, Backend, TestApp, TestDb, CANCEL_TASK};

/// Holds the first `parties` handlers at a barrier, so they all load the same
/// version before any of them appends: a guaranteed conflict.
struct Gate {
    waiting: AtomicUsize,
    barrier: Barrier,
}

#[derive(Clone)]
struct Increment(Arc<Gate>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CounterEvent {
    Incremented { to: u64 },
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> String {
        "Incremented".into()
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

#[derive(Debug)]
struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}
impl std::error::Error for Never {}
impl DomainError for Never {
    fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    value: u64,
}

impl Aggregate for Counter {
    const TYPE: &'static str = "test-counter";
    type Command = Increment;
    type Event = CounterEvent;
    type Error = Never;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: Increment,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), Never> {
        let gate = command.0;
        if gate
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            gate.barrier.wait().await;
        }
        sink.write(CounterEvent::Incremented { to: self.value + 1 }, self)
            .await;
        Ok(())
    }

    fn apply(&mut self, event: CounterEvent) {
        let CounterEvent::Incremented { to } = event;
        self.value = to;
    }
}

async fn bus(
    backend: Backend,
    max_attempts: u32,
) -> (TestDb, Database, Arc<CommandBus>, Arc<Metrics>) {
    let db = TestDb::new(backend).await;
    let database = Database::connect(&db.url, 8).await.unwrap();
    database.migrate().await.unwrap();
    let metrics = Arc::new(Metrics::default());
    let services = DomainServices::new(
        Arc::new(adapters::SystemClock),
        Arc::new(SequentialIds::default()),
    );
    let bus = Arc::new(CommandBus::new(
        &database,
        services,
        max_attempts,
        metrics.clone(),
    ));
    (db, database, bus, metrics)
}

async fn race(
    bus: &Arc<CommandBus>,
    parties: usize,
) -> Vec<Result<adapters::CommandReceipt, CommandError<Never>>> {
    let gate = Arc::new(Gate {
        waiting: AtomicUsize::new(parties),
        barrier: Barrier::new(parties),
    });
    let context = CommandContext::for_request(Actor::system("test"), "race".into());
    let handles: Vec<_> = (0..parties)
        .map(|_| {
            let bus = bus.clone();
            let command = Increment(gate.clone());
            let context = context.clone();
            tokio::spawn(
                async move { bus.execute::<Counter>("counter-1", command, &context).await },
            )
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

on_both_backends!(
    conflicts_are_retried_and_no_event_is_lost,
    conflict_beyond_the_retry_budget_answers_conflict,
    concurrent_cancels_of_one_task_append_exactly_one_event,
);

async fn conflicts_are_retried_and_no_event_is_lost(backend: Backend) {
    let (_db, database, bus, metrics) = bus(backend, 5).await;
    let results = race(&bus, 4).await;
    assert!(
        results.iter().all(Result::is_ok),
        "every command lands after retries"
    );
    assert!(results.iter().any(|r| r.as_ref().unwrap().attempts > 1));
    let log = GlobalLog::new(database.store().clone());
    let events = log.stream("test-counter", "counter-1").await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
    let (counter, version) = bus.load::<Counter>("counter-1").await.unwrap();
    assert_eq!((counter.value, version), (4, 4));
    assert!(
        metrics.counter(
            "facesign_command_conflicts_total",
            &adapters::metrics::labels(&[("aggregate_type", "test-counter")])
        ) >= 3
    );
    database.close().await;
}

async fn conflict_beyond_the_retry_budget_answers_conflict(backend: Backend) {
    let (_db, database, bus, _) = bus(backend, 1).await;
    let results = race(&bus, 2).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok, 1);
    assert_eq!(conflicts.len(), 1);
    assert!(matches!(
        conflicts[0],
        CommandError::Conflict { attempts: 1 }
    ));
    assert_eq!(conflicts[0].code(), ErrorCode::Conflict);
    let log = GlobalLog::new(database.store().clone());
    assert_eq!(
        log.stream("test-counter", "counter-1").await.unwrap().len(),
        1
    );
    database.close().await;
}

/// Many seats withdraw the same task at once: one wins, the rest are told the
/// task is no longer cancellable, and the log holds exactly one cancellation.
async fn concurrent_cancels_of_one_task_append_exactly_one_event(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    let id = create_task(&app, "HT-RACE-1").await;
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let app = app.clone();
            let id = id.clone();
            tokio::spawn(async move {
                app.graphql(
                    CANCEL_TASK,
                    json!({ "id": id, "reason": format!("撤销 {n}") }),
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for handle in handles {
        let response = handle.await.unwrap();
        if response.get("errors").is_none() {
            won += 1;
            assert_eq!(
                data(&response)["cancelInterviewTask"]["task"]["status"],
                "CANCELLED"
            );
        } else {
            assert_eq!(error_code(&response), "INVALID_TRANSITION", "{response}");
        }
    }
    assert_eq!(won, 1);
    assert_eq!(app.event_count().await, 2);
    let app = Arc::into_inner(app).expect("no other owner");
    app.stop().await;
}
