//! What the end-to-end tests check on the Kafka topics.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use workers::kafka::topic_for;

use super::read_topics;

/// (aggregate type, aggregate id) → sequences, and every event id, from the store.
pub(crate) async fn stored_events(
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
        // 001: an event that sets a task's status carries it and the credit
        // system's (待面谈 / 已面谈（待提交面签）/ 已面谈（面谈拒绝）) beside it.
        assert_eq!(
            headers.get("task-status").map(String::as_str),
            value["taskStatus"].as_str(),
            "{value}"
        );
        assert_eq!(
            headers.get("credit-status").map(String::as_str),
            value["creditStatus"].as_str(),
            "{value}"
        );
        if value["eventType"] == "InterviewTaskCreated" {
            assert_eq!(
                (value["taskStatus"].as_str(), value["creditStatus"].as_str()),
                (Some("PENDING"), Some("PENDING_INTERVIEW"))
            );
        }
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

/// Writes `value` with `key` to `topic` (as another system would).
pub(crate) async fn produce_to(brokers: &str, topic: &str, key: &str, value: &str) {
    let producer: rdkafka::producer::FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    producer
        .send(
            rdkafka::producer::FutureRecord::to(topic)
                .key(key)
                .payload(value),
            std::time::Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}
