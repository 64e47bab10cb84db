//! The Kafka relay against a real Kafka-protocol broker (tansu) and against
//! rdkafka's MockCluster (DESIGN.md, Kafka; the Kafka issue).

use std::time::Duration;

use workers::kafka::{topic_for, KafkaSettings};

use crate::support::kafka::assert_topics_hold_the_log;
use crate::support::scheduling::{seat, task_with};
use crate::support::{data, settings, Backend, Broker, TestApp, TestDb};

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
            &crate::support::scheduling::resident_id(20 + n),
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
            &crate::support::scheduling::resident_id(20 + n),
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
            &crate::support::scheduling::resident_id(20 + n),
        )
        .await;
    }
    // A booking: the scheduler books the seat and the agenda for the manager.
    let booked = app
        .graphql(
            &crate::support::scheduling::book_mutation(),
            crate::support::scheduling::slot_vars(
                &first,
                "S1",
                crate::support::scheduling::tomorrow_at(10, 0),
            ),
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
    task_with(
        &app,
        "HT-MOCK-0",
        &crate::support::scheduling::resident_id(40),
    )
    .await;
    cluster.broker_down(1).unwrap();
    for n in 1..6 {
        task_with(
            &app,
            &format!("HT-MOCK-{n}"),
            &crate::support::scheduling::resident_id(40 + n),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.broker_up(1).unwrap();
    assert_topics_hold_the_log(&app.any_pool().await, &brokers, 3).await;
    app.stop().await;
}
