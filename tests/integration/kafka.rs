//! The Kafka relay against a real Kafka-protocol broker (tansu) and against
//! rdkafka's MockCluster (DESIGN.md, Kafka; the Kafka issue).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use facesign::kafka::{topic_for, KafkaSettings};
use serde_json::Value;

use crate::scheduling::{seat, task_with};
use crate::support::{data, read_topics, settings, Backend, Broker, TestApp, TestDb};

async fn app_publishing_to(backend: Backend, brokers: &str, create_topics: bool) -> TestApp {
    let brokers = brokers.to_string();
    TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        let mut kafka = KafkaSettings::for_brokers(brokers);
        kafka.message_timeout = Duration::from_secs(3);
        kafka.relay_batch_size = 50;
        kafka.create_topics = create_topics;
        settings.kafka = Some(kafka);
        settings
    })
    .await
}

/// (aggregate type, aggregate id) → sequences, and every event id, from the store.
async fn stored_events(
    pool: &sqlx::AnyPool,
) -> (BTreeMap<(String, String), Vec<i64>>, HashSet<String>) {
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, CAST(metadata AS TEXT) FROM events ORDER BY sequence",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut by_aggregate: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    let mut ids = HashSet::new();
    for (kind, id, sequence, metadata) in rows {
        by_aggregate.entry((kind, id)).or_default().push(sequence);
        let metadata: Value = serde_json::from_str(&metadata).unwrap();
        ids.insert(metadata["event_id"].as_str().unwrap().to_string());
    }
    (by_aggregate, ids)
}

/// Reads the topics until every stored event is there, then checks: each event
/// on its aggregate type's topic, keyed by aggregate id, with the four headers;
/// the first occurrence of each event in per-aggregate order.
pub(crate) async fn assert_topics_hold_the_log(
    pool: &sqlx::AnyPool,
    brokers: &str,
    partitions: i32,
) -> usize {
    let (stored, ids) = stored_events(pool).await;
    let topics: Vec<String> = stored
        .keys()
        .map(|(kind, _)| topic_for(kind))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let brokers = brokers.to_string();
    let expected = ids.len();
    let messages =
        tokio::task::spawn_blocking(move || read_topics(&brokers, &topics, partitions, expected))
            .await
            .unwrap();
    let mut seen = HashSet::new();
    let mut order: HashMap<(String, String), Vec<i64>> = HashMap::new();
    let mut on_behalf = 0;
    for (topic, key, headers, value) in &messages {
        for header in ["event-id", "event-type", "event-version", "correlation-id"] {
            assert!(headers.contains_key(header), "{header} missing on {value}");
        }
        // Events a process manager wrote carry the person it acted for.
        assert_eq!(
            headers.get("on-behalf-of-id").map(String::as_str),
            value["onBehalfOf"]["id"].as_str(),
            "{value}"
        );
        on_behalf += usize::from(headers.contains_key("on-behalf-of-id"));
        assert_eq!(*topic, topic_for(value["aggregateType"].as_str().unwrap()));
        assert_eq!(key, value["aggregateId"].as_str().unwrap());
        if seen.insert(headers["event-id"].clone()) {
            order
                .entry((
                    value["aggregateType"].as_str().unwrap().to_string(),
                    key.clone(),
                ))
                .or_default()
                .push(value["sequence"].as_i64().unwrap());
        }
    }
    assert_eq!(seen, ids, "every event of the log is on its topic");
    for (aggregate, sequences) in &order {
        assert_eq!(
            Some(sequences),
            stored.get(aggregate),
            "{aggregate:?} in order"
        );
    }
    on_behalf
}

/// The Kafka issue: broker stopped during the relay, then back → every event on
/// the topic, in per-aggregate order. tansu keeps its data in memory, so the
/// broker is frozen (SIGSTOP) and resumed (SIGCONT) rather than restarted; the
/// producer sees it go silent, its sends time out, and the relay sends again
/// from its checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_delivers_every_event_in_order_across_a_broker_stop() {
    let broker = Broker::start().await;
    let app = app_publishing_to(Backend::Postgres, &broker.address, true).await;
    seat(&app, "S1").await;
    let mut first = String::new();
    for n in 0..5 {
        let id = task_with(
            &app,
            &format!("HT-KAFKA-{n}"),
            &crate::scheduling::resident_id(20 + n),
        )
        .await;
        if n == 0 {
            first = id;
        }
    }
    broker.stop();
    for n in 5..15 {
        task_with(
            &app,
            &format!("HT-KAFKA-{n}"),
            &crate::scheduling::resident_id(20 + n),
        )
        .await;
    }
    // Longer than the producer's message timeout: the relay fails and retries.
    tokio::time::sleep(Duration::from_secs(5)).await;
    broker.resume();
    for n in 15..20 {
        task_with(
            &app,
            &format!("HT-KAFKA-{n}"),
            &crate::scheduling::resident_id(20 + n),
        )
        .await;
    }
    // A booking: the scheduler books the seat and the agenda for the manager.
    let booked = app
        .graphql(
            &crate::scheduling::book_mutation(),
            crate::scheduling::slot_vars(&first, "S1", crate::scheduling::tomorrow_at(10, 0)),
        )
        .await;
    assert_eq!(
        data(&booked)["bookAppointment"]["task"]["bookingStatus"],
        "CONFIRMED"
    );
    let on_behalf = assert_topics_hold_the_log(&app.any_pool().await, &broker.address, 3).await;
    assert!(
        on_behalf > 0,
        "the scheduler's events name the manager it booked for"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("facesign_relay_events_published_total"),
        "{metrics}"
    );
    app.stop().await;
}

/// The same against rdkafka's MockCluster, whose broker can go down and come
/// back with its data: nothing is lost and nothing reordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_survives_a_mock_broker_going_down_and_up() {
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    let brokers = cluster.bootstrap_servers();
    // The mock broker does not answer topic creation: topics made beforehand,
    // as operators do where applications may not create them.
    for kind in ["seat", "interview-task"] {
        cluster.create_topic(&topic_for(kind), 3, 1).unwrap();
    }
    let app = app_publishing_to(Backend::Sqlite, &brokers, false).await;
    seat(&app, "S1").await;
    task_with(&app, "HT-MOCK-0", &crate::scheduling::resident_id(40)).await;
    cluster.broker_down(1).unwrap();
    for n in 1..6 {
        task_with(
            &app,
            &format!("HT-MOCK-{n}"),
            &crate::scheduling::resident_id(40 + n),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.broker_up(1).unwrap();
    assert_topics_hold_the_log(&app.any_pool().await, &brokers, 3).await;
    app.stop().await;
}
