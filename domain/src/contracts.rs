//! The published contract of every event: one JSON Schema (draft-07) per
//! event type, derived from the Rust types with `schemars`, so the contract
//! cannot drift from what the engine writes. The schema describes the event's
//! `payload` as stored in the log and carried in the Kafka message value
//! (`{"<EventType>": {…}}`; a session event is `{"Session": {"<EventType>": {…}}}`).
//! `facesign contracts` writes them, with the AsyncAPI document of the
//! topics, into `docs/contracts/` (issue 23 item 5).

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// Where the published schemas say they live; `$id`s are built from it.
pub const SCHEMA_BASE: &str = "https://facesign.bank/contracts/";

/// The JSON Schema dialect every contract is written in: draft-07, the
/// dialect AsyncAPI 3 reads without a `schemaFormat`.
pub const DIALECT: &str = "http://json-schema.org/draft-07/schema#";

/// Where a contract keeps the definitions it refers to.
const DEFINITIONS: &str = "definitions";

/// One event type's contract.
#[derive(Debug, Clone)]
pub struct EventContract {
    /// The aggregate type whose topic carries it, e.g. `interview-task`.
    pub aggregate_type: &'static str,
    /// The stored event type, e.g. `AppointmentConfirmed`.
    pub event_type: String,
    /// The self-contained schema of its payload (its own `definitions`).
    pub schema: Value,
}

impl EventContract {
    /// Its file under `docs/contracts/`, e.g. `events/interview-task/AppointmentConfirmed.schema.json`.
    pub fn path(&self) -> String {
        format!(
            "events/{}/{}.schema.json",
            self.aggregate_type, self.event_type
        )
    }

    /// The one-line meaning, from the event's doc comment.
    pub fn description(&self) -> &str {
        self.schema["description"].as_str().unwrap_or_default()
    }
}

macro_rules! contracts_of_every_aggregate {
    ($($name:path => $aggregate:ty, $event:ty, [$($nested:literal),*];)*) => {
        /// Every event type of every aggregate, in the order of
        /// [`for_each_aggregate!`](crate::for_each_aggregate).
        pub fn event_contracts() -> Vec<EventContract> {
            [$(of::<$event>($name, &[$($nested),*])),*].concat()
        }
    };
}

crate::for_each_aggregate!(contracts_of_every_aggregate);

/// The contract of `event_type` on `aggregate_type`'s topic, if it has one.
pub fn contract_of(aggregate_type: &str, event_type: &str) -> Option<EventContract> {
    event_contracts()
        .into_iter()
        .find(|c| c.aggregate_type == aggregate_type && c.event_type == event_type)
}

/// The contracts of one aggregate's event enum `E`; `nested` names variants
/// that wrap a further event enum (the task's `Session`), whose variants are
/// event types of their own.
fn of<E: JsonSchema>(aggregate_type: &'static str, nested: &[&str]) -> Vec<EventContract> {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    // What the engine writes: a consumer may rely on every listed field being there.
    settings.contract = schemars::generate::Contract::Serialize;
    let root = settings
        .into_generator()
        .into_root_schema_for::<E>()
        .to_value();
    let defs = root[DEFINITIONS].as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (name, variant) in variants(&root) {
        if nested.contains(&name.as_str()) {
            let inner = resolve(&variant["properties"][&name], &defs);
            for (inner_name, inner_variant) in variants(&inner) {
                let description = inner_variant.get("description").cloned();
                let mut wrapped = tagged(&name, inner_variant);
                if let Some(description) = description {
                    wrapped["description"] = description;
                }
                out.push(contract(aggregate_type, inner_name, wrapped, &defs));
            }
        } else {
            out.push(contract(aggregate_type, name, variant, &defs));
        }
    }
    out
}

/// The variants of an externally tagged enum's schema, by name: an object
/// with the one property named after the variant, or a string for a unit variant.
fn variants(schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in schema["oneOf"].as_array().into_iter().flatten() {
        if let Some(name) = entry["required"][0].as_str() {
            out.push((name.to_string(), entry.clone()));
        } else if let Some(name) = entry["const"].as_str() {
            out.push((name.to_string(), entry.clone()));
        } else {
            for name in entry["enum"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                out.push((
                    name.to_string(),
                    json!({ "type": "string", "const": name, "description": entry["description"] }),
                ));
            }
        }
    }
    out
}

/// `schema`, or the definition it refers to.
fn resolve(schema: &Value, defs: &Map<String, Value>) -> Value {
    match schema["$ref"].as_str() {
        Some(reference) => defs
            .get(reference.trim_start_matches("#/definitions/"))
            .cloned()
            .unwrap_or(Value::Null),
        None => schema.clone(),
    }
}

/// `{"<tag>": inner}`, as serde writes an externally tagged variant.
fn tagged(tag: &str, inner: Value) -> Value {
    json!({
        "type": "object",
        "properties": { tag: inner },
        "required": [tag],
        "additionalProperties": false,
    })
}

/// A self-contained schema: the variant with the definitions it reaches.
fn contract(
    aggregate_type: &'static str,
    event_type: String,
    variant: Value,
    defs: &Map<String, Value>,
) -> EventContract {
    let mut reached = BTreeSet::new();
    let mut pending = vec![variant.clone()];
    while let Some(schema) = pending.pop() {
        let mut references = Vec::new();
        references_in(&schema, &mut references);
        for name in references {
            if reached.insert(name.clone()) {
                if let Some(def) = defs.get(&name) {
                    pending.push(def.clone());
                }
            }
        }
    }
    let mut schema = Map::new();
    schema.insert("$schema".into(), json!(DIALECT));
    schema.insert(
        "$id".into(),
        json!(format!(
            "{SCHEMA_BASE}events/{aggregate_type}/{event_type}.schema.json"
        )),
    );
    schema.insert("title".into(), json!(event_type));
    if let Value::Object(fields) = variant {
        schema.extend(fields);
    }
    if !reached.is_empty() {
        let used: Map<String, Value> = reached
            .into_iter()
            .filter_map(|name| defs.get(&name).map(|def| (name, def.clone())))
            .collect();
        schema.insert(DEFINITIONS.into(), Value::Object(used));
    }
    EventContract {
        aggregate_type,
        event_type,
        schema: Value::Object(schema),
    }
}

/// The definitions `schema` refers to, by name.
fn references_in(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(fields) => {
            for (key, value) in fields {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(reference)) => {
                        if let Some(name) = reference.strip_prefix("#/definitions/") {
                            out.push(name.to_string());
                        }
                    }
                    _ => references_in(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references_in(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_labelled_event_type_has_exactly_one_contract() {
        let contracts = event_contracts();
        let keyed: BTreeSet<(&str, &str)> = contracts
            .iter()
            .map(|c| (c.aggregate_type, c.event_type.as_str()))
            .collect();
        assert_eq!(
            keyed.len(),
            contracts.len(),
            "an event type is listed twice"
        );
        let named: BTreeSet<&str> = contracts.iter().map(|c| c.event_type.as_str()).collect();
        let labelled: BTreeSet<&str> = crate::event_labels::EVENT_LABELS
            .iter()
            .map(|(event_type, _, _)| *event_type)
            .collect();
        assert_eq!(named, labelled);
    }

    #[test]
    fn a_session_event_is_described_inside_its_session_wrapper() {
        let contract = contract_of("interview-task", "VideoTagged").expect("contract");
        assert_eq!(contract.schema["required"], json!(["Session"]));
        let inner = &contract.schema["properties"]["Session"];
        assert_eq!(inner["required"], json!(["VideoTagged"]));
        assert!(!contract.description().is_empty());
    }

    #[test]
    fn a_recorded_event_validates_and_a_malformed_one_does_not() {
        let contract = contract_of("interview-task", "InterviewStarted").expect("contract");
        let validator = jsonschema::validator_for(&contract.schema).expect("a valid schema");
        let event = crate::interview_task::InterviewTaskEvent::InterviewStarted {
            seat_no: "S001".into(),
            started_at: chrono::Utc::now(),
        };
        let written = serde_json::to_value(&event).expect("serializes");
        assert!(validator.is_valid(&written), "{written}");
        assert!(!validator.is_valid(&json!({ "InterviewStarted": { "seat_no": 7 } })));
        assert!(!validator.is_valid(&json!({ "InterviewConcluded": {} })));
    }

    #[test]
    fn every_reference_in_a_contract_is_defined_in_it() {
        for contract in event_contracts() {
            let mut references = Vec::new();
            references_in(&contract.schema, &mut references);
            for name in references {
                assert!(
                    contract.schema[DEFINITIONS].get(&name).is_some(),
                    "{} refers to {name} without defining it",
                    contract.event_type
                );
            }
        }
    }
}
