//! Every event the suite records or publishes is checked against its
//! published contract (docs/contracts/, issue 23 item 5): each message read
//! back from a `facesign.*` topic (envelope and payload), and every event left
//! in a test database when it is dropped (payload).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;
use sqlx::Connection;

/// The compiled contracts.
pub struct ContractCheck {
    envelope: jsonschema::Validator,
    events: HashMap<(String, String), jsonschema::Validator>,
}

/// The contracts, compiled once per test binary.
pub fn contracts() -> &'static ContractCheck {
    static CHECK: OnceLock<ContractCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        let envelope = jsonschema::validator_for(&workers::kafka::contract::envelope_schema())
            .expect("the envelope schema compiles");
        let events = domain::contracts::event_contracts()
            .into_iter()
            .map(|contract| {
                let validator = jsonschema::validator_for(&contract.schema)
                    .unwrap_or_else(|e| panic!("{} compiles: {e}", contract.event_type));
                (
                    (contract.aggregate_type.to_string(), contract.event_type),
                    validator,
                )
            })
            .collect();
        ContractCheck { envelope, events }
    })
}

impl ContractCheck {
    /// Why a published message value breaks its contract, if it does.
    pub fn message_violations(&self, value: &Value) -> Option<String> {
        let mut found: Vec<String> = self
            .envelope
            .iter_errors(value)
            .map(|e| format!("envelope {}: {e}", e.instance_path()))
            .collect();
        let aggregate_type = value["aggregateType"].as_str().unwrap_or_default();
        let event_type = value["eventType"].as_str().unwrap_or_default();
        found.extend(self.payload_violations(aggregate_type, event_type, &value["payload"]));
        (!found.is_empty()).then(|| format!("{aggregate_type}/{event_type}: {}", found.join("; ")))
    }

    /// How a stored payload breaks its event type's contract.
    pub fn payload_violations(
        &self,
        aggregate_type: &str,
        event_type: &str,
        payload: &Value,
    ) -> Vec<String> {
        match self
            .events
            .get(&(aggregate_type.to_string(), event_type.to_string()))
        {
            Some(validator) => validator
                .iter_errors(payload)
                .map(|e| format!("payload {}: {e}", e.instance_path()))
                .collect(),
            None => vec![format!("no contract for {aggregate_type}/{event_type}")],
        }
    }
}

/// Aggregates the suite defines to test the store itself; they are never
/// published and have no contract.
const TEST_ONLY_AGGREGATES: [&str; 2] = ["test-counter", "gap-test"];

/// Aggregate ids of the events the suite writes by hand to break their
/// contract on purpose (poison events, tests/integration/parked.rs).
const POISON_PREFIX: &str = "POISON-";

/// How many events the database at `url` holds, and each that breaks its
/// contract, described; nothing when it holds no event store (a test that
/// never migrated).
pub fn check_log(url: &str) -> (usize, Vec<String>) {
    let url = url.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            sqlx::any::install_default_drivers();
            let Ok(mut conn) = sqlx::AnyConnection::connect(&url).await else {
                return (0, Vec::new());
            };
            let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
                "SELECT aggregate_type, aggregate_id, event_type, event_version, CAST(payload AS TEXT) \
                 FROM events ORDER BY global_position",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
            let check = contracts();
            let violations = rows
                .iter()
                .filter(|(aggregate_type, aggregate_id, ..)| {
                    !TEST_ONLY_AGGREGATES.contains(&aggregate_type.as_str())
                        && !aggregate_id.starts_with(POISON_PREFIX)
                })
                .flat_map(|(aggregate_type, _, event_type, version, payload)| {
                    // Older versions are published as readers see them: lifted.
                    let mut payload: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
                    domain::upcast::upcast(aggregate_type, event_type, version, &mut payload);
                    check
                        .payload_violations(aggregate_type, event_type, &payload)
                        .into_iter()
                        .map(move |v| format!("{aggregate_type}/{event_type}: {v}"))
                })
                .collect();
            (rows.len(), violations)
        })
    })
    .join()
    .unwrap_or_default()
}
