//! The global log never lets a consumer skip an event committed late.

use domain::log::{EventLogReader, LogPosition};
use sqlx::{Connection, PgConnection};
use store::database::StorePool;
use store::{Database, GlobalLog};

use crate::support::{Backend, TestDb};

const INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                      VALUES ('gap-test', $1, 1, 'Happened', '1.0', '{}', $2)";

fn metadata() -> serde_json::Value {
    serde_json::json!({
        "event_id": uuid::Uuid::now_v7().to_string(),
        "actor_id": "test", "actor_role": "SYSTEM",
        "correlation_id": "c", "causation_id": "c", "request_id": "c",
        "recorded_at": "2026-11-23T10:00:00.000000Z",
    })
}

async fn migrated(backend: Backend) -> (TestDb, Database) {
    let db = TestDb::new(backend).await;
    let database = Database::connect(&db.url, 4).await.unwrap();
    database.migrate().await.unwrap();
    (db, database)
}

async fn insert_event(database: &Database, aggregate_id: &str) {
    match database.store() {
        StorePool::Postgres(pool) => sqlx::query(INSERT)
            .bind(aggregate_id)
            .bind(metadata())
            .execute(pool)
            .await
            .map(drop),
        StorePool::Sqlite(pool) => sqlx::query(INSERT)
            .bind(aggregate_id)
            .bind(metadata())
            .execute(pool)
            .await
            .map(drop),
    }
    .expect("insert event");
}

/// Reads like a consumer, from `after`, until `count` events arrived. The snapshot
/// horizon is cluster-wide, so a short transaction of a concurrent test in another
/// database may hold the reader back for a moment; that is the design, not a failure.
async fn read_until(
    log: &GlobalLog,
    mut after: LogPosition,
    count: usize,
) -> Vec<domain::log::StoredEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while seen.len() < count && std::time::Instant::now() < deadline {
        let batch = log.read_after(after, 100).await.unwrap();
        if let Some(last) = batch.last() {
            after = last.position;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        seen.extend(batch);
    }
    seen
}

fn ids(events: &[domain::log::StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.aggregate_id.as_str()).collect()
}

/// A transaction takes position 1 and stays open; another takes position 2 and
/// commits. The reader must wait for 1 rather than deliver 2 and move past it.
#[tokio::test]
async fn postgres_reader_waits_for_a_slow_transaction_with_a_lower_position() {
    let (db, database) = migrated(Backend::Postgres).await;
    let log = GlobalLog::new(database.store().clone());
    let mut slow = PgConnection::connect(&db.url).await.unwrap();
    let mut fast = PgConnection::connect(&db.url).await.unwrap();

    sqlx::query("BEGIN").execute(&mut slow).await.unwrap();
    sqlx::query(INSERT)
        .bind("slow")
        .bind(metadata())
        .execute(&mut slow)
        .await
        .unwrap();
    sqlx::query(INSERT)
        .bind("fast")
        .bind(metadata())
        .execute(&mut fast)
        .await
        .unwrap();

    let (fast_pos,): (i64,) =
        sqlx::query_as("SELECT global_position FROM events WHERE aggregate_id = 'fast'")
            .fetch_one(&mut fast)
            .await
            .unwrap();
    assert_eq!(fast_pos, 2, "the open transaction holds position 1");

    let mut checkpoint = LogPosition::START;
    let seen = log.read_after(checkpoint, 100).await.unwrap();
    assert!(
        seen.is_empty(),
        "the committed later event must wait behind the open one, got {:?}",
        ids(&seen)
    );
    assert_eq!(log.head().await.unwrap(), LogPosition::START);

    sqlx::query("COMMIT").execute(&mut slow).await.unwrap();
    let seen = read_until(&log, checkpoint, 2).await;
    assert_eq!(ids(&seen), ["slow", "fast"]);
    assert_eq!(seen[0].position.global_position, 1);
    assert_eq!(seen[1].position.global_position, 2);
    checkpoint = seen[1].position;
    assert!(log.read_after(checkpoint, 100).await.unwrap().is_empty());
    database.close().await;
}

/// The other interleaving: the transaction that got its id first takes the
/// higher position and commits first. A reader that moves past it must still
/// deliver the lower position committed afterwards.
#[tokio::test]
async fn postgres_reader_delivers_a_lower_position_committed_after_its_checkpoint() {
    let (db, database) = migrated(Backend::Postgres).await;
    let log = GlobalLog::new(database.store().clone());
    let mut early = PgConnection::connect(&db.url).await.unwrap();
    let mut late = PgConnection::connect(&db.url).await.unwrap();

    sqlx::query("BEGIN").execute(&mut early).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut early)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut late).await.unwrap();
    sqlx::query(INSERT)
        .bind("late-low")
        .bind(metadata())
        .execute(&mut late)
        .await
        .unwrap();
    sqlx::query(INSERT)
        .bind("early-high")
        .bind(metadata())
        .execute(&mut early)
        .await
        .unwrap();
    sqlx::query("COMMIT").execute(&mut early).await.unwrap();

    let first = read_until(&log, LogPosition::START, 1).await;
    assert_eq!(ids(&first), ["early-high"]);
    let checkpoint = first[0].position;

    sqlx::query("COMMIT").execute(&mut late).await.unwrap();
    let second = read_until(&log, checkpoint, 1).await;
    assert_eq!(ids(&second), ["late-low"], "nothing is skipped");
    assert!(second[0].position.global_position < checkpoint.global_position);
    assert!(second[0].position > checkpoint);
    database.close().await;
}

#[tokio::test]
async fn sqlite_reads_in_insertion_order_with_contiguous_positions() {
    let (_db, database) = migrated(Backend::Sqlite).await;
    for n in 0..25 {
        insert_event(&database, &format!("agg-{n:02}")).await;
    }
    let log = GlobalLog::new(database.store().clone());
    let mut all = Vec::new();
    let mut checkpoint = LogPosition::START;
    loop {
        let batch = log.read_after(checkpoint, 7).await.unwrap();
        let Some(last) = batch.last() else { break };
        checkpoint = last.position;
        all.extend(batch);
    }
    let positions: Vec<i64> = all.iter().map(|e| e.position.global_position).collect();
    assert_eq!(positions, (1..=25).collect::<Vec<_>>());
    assert_eq!(all[24].aggregate_id, "agg-24");
    assert_eq!(log.head().await.unwrap(), LogPosition::new(0, 25));
    database.close().await;
}

async fn events_cannot_be_changed(backend: Backend) {
    let (_db, database) = migrated(backend).await;
    insert_event(&database, "kept").await;
    let pool = database.read_models().clone();
    let update = sqlx::query("UPDATE events SET event_type = 'Forged'")
        .execute(&pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events").execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    database.close().await;
}

#[tokio::test]
async fn postgres_events_cannot_be_changed() {
    events_cannot_be_changed(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_events_cannot_be_changed() {
    events_cannot_be_changed(Backend::Sqlite).await;
}

/// Transaction ids order numerically, not as text: an event written by xid 10
/// comes after one written by xid 9 (as text "10" < "9"). A reader that ordered
/// by the text form read events out of order once xids gained a digit, moved its
/// checkpoint backwards and applied events twice (seen under load).
#[tokio::test]
async fn postgres_orders_transaction_ids_as_numbers() {
    let (_db, database) = migrated(Backend::Postgres).await;
    let StorePool::Postgres(pool) = database.store() else {
        unreachable!()
    };
    for (tx, id) in [(10_i64, "ten"), (9, "nine"), (100, "hundred")] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tx_id)
             VALUES ('gap-test', $1, 1, 'Happened', '1.0', '{}', $2, $3::text::xid8)",
        )
        .bind(id)
        .bind(metadata())
        .bind(tx.to_string())
        .execute(pool)
        .await
        .unwrap();
    }
    let log = GlobalLog::new(database.store().clone());
    let events = read_until(&log, LogPosition::START, 3).await;
    assert_eq!(ids(&events), ["nine", "ten", "hundred"]);
    let head = log.head().await.unwrap();
    assert_eq!(head.tx_id, 100, "the head is the numerically newest");
    assert_eq!(log.latest_committed().await.unwrap().tx_id, 100);
    let after_nine = log.read_after(events[0].position, 10).await.unwrap();
    assert_eq!(ids(&after_nine), ["ten", "hundred"]);
}
