//! Optimistic concurrency: conflicting appends are retried a bounded number of
//! times, then answered with CONFLICT; no event is ever lost or duplicated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::error::{DomainError, ErrorCode};
use domain::interview_task::{
    CancelInterviewTask, CreateInterviewTask, IdType, InterviewTask, InterviewTaskCommand,
    ParticipantInput, ParticipantRole, TaskKind,
};
use domain::log::Actor;
use domain::services::{DomainServices, SequentialIds};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::idempotency::IdempotentRequest;
use store::{CommandBus, CommandContext, CommandError, Database, GlobalLog, Metrics};
use tokio::sync::Barrier;

use crate::support::on_both_backends;
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
impl domain::message::Localized for Never {
    fn message(&self) -> domain::message::Message {
        domain::message::Message::verbatim("never")
    }
}
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

impl domain::reservation::Reservations for Counter {}

async fn bus(
    backend: Backend,
    max_attempts: u32,
) -> (TestDb, Database, Arc<CommandBus>, Arc<Metrics>) {
    let db = TestDb::new(backend).await;
    let database = Database::connect(&db.url, 8).await.unwrap();
    database.migrate().await.unwrap();
    let metrics = Arc::new(Metrics::default());
    let services = DomainServices::new(
        Arc::new(store::SystemClock),
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

/// Another bus on the same database: a second instance. Commands on one
/// aggregate queue inside a bus, so only buses of different instances race.
fn instance(database: &Database, max_attempts: u32, metrics: &Arc<Metrics>) -> Arc<CommandBus> {
    Arc::new(CommandBus::new(
        database,
        DomainServices::new(
            Arc::new(store::SystemClock),
            Arc::new(SequentialIds::default()),
        ),
        max_attempts,
        metrics.clone(),
    ))
}

/// `parties` instances send one command each to the same aggregate, all
/// loading the same version before any appends.
async fn race(
    database: &Database,
    max_attempts: u32,
    metrics: &Arc<Metrics>,
    parties: usize,
) -> Vec<Result<store::CommandReceipt, CommandError<Never>>> {
    let gate = Arc::new(Gate {
        waiting: AtomicUsize::new(parties),
        barrier: Barrier::new(parties),
    });
    let context = CommandContext::for_request(Actor::system("test"), "race".into());
    let handles: Vec<_> = (0..parties)
        .map(|_| {
            let bus = instance(database, max_attempts, metrics);
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
    commands_on_one_aggregate_in_one_instance_queue_without_conflicts,
    conflicts_are_retried_and_no_event_is_lost,
    conflict_beyond_the_retry_budget_answers_conflict,
    concurrent_cancels_of_one_task_append_exactly_one_event,
    one_open_task_per_contract_holds_under_concurrent_creates,
    a_committed_step_of_a_keyed_request_is_handed_back_not_run_again,
    a_stale_cached_aggregate_is_decided_again_on_the_stores_state,
    an_id_expected_new_that_exists_is_decided_on_the_stores_state,
);

/// Group commit (issue 20 item 2): 64 creates on distinct tasks at once share
/// transactions, and every acknowledged one is stored, exactly once; the
/// eight of them that claim one contract still leave exactly one holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_share_commits_and_each_stands_alone() {
    let (_db, database, bus, metrics) = bus(Backend::Postgres, 5).await;
    let context = CommandContext::for_request(Actor::system("test"), "group".into());
    let handles: Vec<_> = (0..64)
        .map(|n| {
            let (bus, context) = (bus.clone(), context.clone());
            // Tasks 0–7 claim one contract: one may hold it.
            let contract = if n < 8 {
                "HT-GROUP-SHARED".to_string()
            } else {
                format!("HT-GROUP-{n}")
            };
            tokio::spawn(async move {
                let id = format!("task-group-{n}");
                bus.execute::<InterviewTask>(&id, create(&id, &contract), &context)
                    .await
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for (n, handle) in handles.into_iter().enumerate() {
        match handle.await.unwrap() {
            Ok(receipt) => acknowledged.push((n, receipt.sequence)),
            Err(e) => {
                assert!(n < 8, "task {n} was refused: {e}");
                assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!((acknowledged.len(), refused), (57, 7));
    let log = GlobalLog::new(database.store().clone());
    for (n, sequence) in &acknowledged {
        let stored = log
            .stream(
                domain::interview_task::AGGREGATE_TYPE,
                &format!("task-group-{n}"),
            )
            .await
            .unwrap();
        assert_eq!((stored.len(), *sequence), (1, 1), "task {n}");
    }
    let appends = metrics.counter(
        "facesign_group_commit_appends_total",
        &store::metrics::labels(&[]),
    );
    let commits = metrics.counter("facesign_group_commits_total", &store::metrics::labels(&[]));
    assert!(
        appends >= 64,
        "every append went through the committer: {appends}"
    );
    assert!(
        commits < appends,
        "{appends} appends in {commits} transactions"
    );
    database.close().await;
}

/// `expect_new` lets a create skip reading events of an id just minted; an id
/// that exists after all conflicts on append and is decided again on a load:
/// the second create of one task is refused, and the first stands alone.
async fn an_id_expected_new_that_exists_is_decided_on_the_stores_state(backend: Backend) {
    let (_db, database, bus, metrics) = bus(backend, 5).await;
    let context = CommandContext::for_request(Actor::system("test"), "fresh".into());
    bus.expect_new::<InterviewTask>("task-fresh");
    let first = bus
        .execute::<InterviewTask>("task-fresh", create("task-fresh", "HT-FRESH-1"), &context)
        .await
        .unwrap();
    assert_eq!((first.sequence, first.attempts), (1, 1));

    // Another instance's bus knows nothing of it and is told it is new.
    let other = instance(&database, 5, &metrics);
    other.expect_new::<InterviewTask>("task-fresh");
    let refused = other
        .execute::<InterviewTask>("task-fresh", create("task-fresh", "HT-FRESH-2"), &context)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    let log = GlobalLog::new(database.store().clone());
    let stored = log
        .stream(domain::interview_task::AGGREGATE_TYPE, "task-fresh")
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "one creation, never two");
    database.close().await;
}

/// The bus caches aggregates; another instance moving one on is caught by the
/// append's sequence check, and the command is decided again on the store's
/// state: a cancel the other instance made first is refused, never doubled.
async fn a_stale_cached_aggregate_is_decided_again_on_the_stores_state(backend: Backend) {
    let (_db, database, here, metrics) = bus(backend, 3).await;
    let there = instance(&database, 3, &metrics);
    let context = CommandContext::for_request(Actor::system("test"), "stale".into());
    let id = "0190a8b4-0000-7000-8000-00000000c0de";
    here.execute::<InterviewTask>(id, create(id, "HT-STALE-1"), &context)
        .await
        .unwrap();
    let cancel = |reason: &str| {
        InterviewTaskCommand::Cancel(CancelInterviewTask {
            reason: reason.into(),
        })
    };
    there
        .execute::<InterviewTask>(id, cancel("other instance"), &context)
        .await
        .unwrap();
    // `here` still holds the task as PENDING.
    let refused = here
        .execute::<InterviewTask>(id, cancel("this instance"), &context)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidTransition, "{refused}");
    let log = GlobalLog::new(database.store().clone());
    let types: Vec<String> = log
        .stream(domain::interview_task::AGGREGATE_TYPE, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["InterviewTaskCreated", "InterviewTaskCancelled"]);
    // Counters: an increment on a stale cache lands after a reload.
    let gate = Arc::new(Gate {
        waiting: AtomicUsize::new(0),
        barrier: Barrier::new(1),
    });
    here.execute::<Counter>("counter-2", Increment(gate.clone()), &context)
        .await
        .unwrap();
    there
        .execute::<Counter>("counter-2", Increment(gate.clone()), &context)
        .await
        .unwrap();
    let third = here
        .execute::<Counter>("counter-2", Increment(gate), &context)
        .await
        .unwrap();
    assert_eq!(third.attempts, 2, "the cached version conflicted once");
    let (counter, version) = here.load::<Counter>("counter-2").await.unwrap();
    assert_eq!((counter.value, version), (3, 3));
    database.close().await;
}

pub(crate) fn create(task_id: &str, contract_no: &str) -> InterviewTaskCommand {
    InterviewTaskCommand::Create(CreateInterviewTask {
        task_id: task_id.to_string(),
        contract_no: contract_no.to_string(),
        kind: TaskKind::YongxuVideoInterview,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M0001".into(),
        participants: vec![ParticipantInput {
            name: "邓小闲".into(),
            id_type: IdType::IdCard,
            id_number: "410102198503121017".into(),
            phone: "15618293093".into(),
            roles: vec![ParticipantRole::Borrower],
            marital_status: None,
            relation_to_borrower: None,
        }],
        lineage: None,
        property_location: None,
        loan_info: None,
    })
}

/// 001 (以借款合同为单位): eight tasks for one contract created at once — one
/// is stored, seven are refused naming it; once it is cancelled (已撤销) the
/// contract takes a new task.
async fn one_open_task_per_contract_holds_under_concurrent_creates(backend: Backend) {
    let (_db, database, bus, _) = bus(backend, 5).await;
    let context = CommandContext::for_request(Actor::system("test"), "race".into());
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let (bus, context) = (bus.clone(), context.clone());
            tokio::spawn(async move {
                let id = format!("task-{n}");
                bus.execute::<InterviewTask>(&id, create(&id, "HT-ONE"), &context)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let holder = winners[0].aggregate_id.clone();
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), ErrorCode::Conflict);
        assert_eq!(
            refused.to_string(),
            format!("HT-ONE already has an open interview task: {holder}")
        );
    }
    let log = GlobalLog::new(database.store().clone());
    for n in 0..8 {
        let stored = log
            .stream("interview-task", &format!("task-{n}"))
            .await
            .unwrap();
        assert_eq!(stored.len(), usize::from(format!("task-{n}") == holder));
    }
    // Another contract is not affected; a cancelled task gives its contract back.
    bus.execute::<InterviewTask>("other", create("other", "HT-TWO"), &context)
        .await
        .unwrap();
    let again = bus
        .execute::<InterviewTask>("again", create("again", "HT-ONE"), &context)
        .await;
    assert!(matches!(again, Err(CommandError::Taken { .. })));
    bus.execute::<InterviewTask>(
        &holder,
        InterviewTaskCommand::Cancel(CancelInterviewTask {
            reason: "客户撤销".into(),
        }),
        &context,
    )
    .await
    .unwrap();
    bus.execute::<InterviewTask>("again", create("again", "HT-ONE"), &context)
        .await
        .expect("the contract is free again");
    database.close().await;
}

/// A keyed request whose first attempt committed: the retry (a new request
/// object with the same caller and key) is handed the receipt and appends
/// nothing; a retry that sends another command at that step is refused.
async fn a_committed_step_of_a_keyed_request_is_handed_back_not_run_again(backend: Backend) {
    let (_db, database, bus, metrics) = bus(backend, 5).await;
    let attempt = |key: &str| {
        let mut context = CommandContext::for_request(Actor::system("partner"), "r1".into());
        context.idempotency = Some(Arc::new(IdempotentRequest::new(
            "CREDIT",
            "CREDIT_SYSTEM",
            key,
        )));
        context
    };
    let first = bus
        .execute::<InterviewTask>("t-key", create("t-key", "HT-KEY"), &attempt("k1"))
        .await
        .unwrap();
    assert_eq!(first.attempts, 1);
    let retry = bus
        .execute::<InterviewTask>("t-key", create("t-key", "HT-KEY"), &attempt("k1"))
        .await
        .unwrap();
    assert_eq!(retry.attempts, 0, "handed back, not run");
    assert_eq!(
        (retry.event_ids.clone(), retry.position, retry.sequence),
        (first.event_ids.clone(), first.position, first.sequence)
    );
    let log = GlobalLog::new(database.store().clone());
    assert_eq!(
        log.stream("interview-task", "t-key").await.unwrap().len(),
        1
    );
    assert_eq!(
        metrics.counter(
            "facesign_commands_total",
            &store::metrics::labels(&[
                ("aggregate_type", "interview-task"),
                ("outcome", "replayed")
            ])
        ),
        1
    );
    let diverged = bus
        .execute::<InterviewTask>("t-other", create("t-other", "HT-KEY-2"), &attempt("k1"))
        .await;
    assert!(
        matches!(diverged, Err(CommandError::Diverged)),
        "{diverged:?}"
    );
    // Without the key the same command is simply refused by the contract's holder.
    let unkeyed = bus
        .execute::<InterviewTask>(
            "t-key-2",
            create("t-key-2", "HT-KEY"),
            &CommandContext::for_request(Actor::system("partner"), "r2".into()),
        )
        .await;
    assert!(matches!(unkeyed, Err(CommandError::Taken { .. })));
    database.close().await;
}

async fn commands_on_one_aggregate_in_one_instance_queue_without_conflicts(backend: Backend) {
    // One attempt each: a collision would answer CONFLICT.
    let (_db, database, bus, metrics) = bus(backend, 1).await;
    let gate = Arc::new(Gate {
        waiting: AtomicUsize::new(0),
        barrier: Barrier::new(1),
    });
    let context = CommandContext::for_request(Actor::system("test"), "queue".into());
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (bus, command, context) = (bus.clone(), Increment(gate.clone()), context.clone());
            tokio::spawn(
                async move { bus.execute::<Counter>("counter-1", command, &context).await },
            )
        })
        .collect();
    for handle in handles {
        let receipt = handle.await.unwrap().expect("queued, never refused");
        assert_eq!(receipt.attempts, 1);
    }
    let (counter, version) = bus.load::<Counter>("counter-1").await.unwrap();
    assert_eq!((counter.value, version), (16, 16));
    assert_eq!(
        metrics.counter(
            "facesign_command_conflicts_total",
            &store::metrics::labels(&[("aggregate_type", "test-counter")])
        ),
        0
    );
    database.close().await;
}

async fn conflicts_are_retried_and_no_event_is_lost(backend: Backend) {
    let (_db, database, bus, metrics) = bus(backend, 5).await;
    let results = race(&database, 5, &metrics, 4).await;
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
            &store::metrics::labels(&[("aggregate_type", "test-counter")])
        ) >= 3
    );
    database.close().await;
}

async fn conflict_beyond_the_retry_budget_answers_conflict(backend: Backend) {
    let (_db, database, _bus, metrics) = bus(backend, 1).await;
    let results = race(&database, 1, &metrics, 2).await;
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
