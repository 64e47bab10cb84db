//! The machine-readable contract of the Kafka topics: an AsyncAPI 3 document
//! of every topic the engine produces and consumes (key, headers, payload per
//! event type), the JSON Schema of the message envelope, one JSON Schema per
//! event type (from `domain::contracts`) and one per inbound message. Written
//! into `docs/contracts/` by `facesign contracts`; a test fails when the
//! files there are stale (issue 23 item 5).

use domain::contracts::{event_contracts, EventContract, DIALECT, SCHEMA_BASE};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use super::consumer::{dead_letter_topic, CoreRepayment, CreditDecision, DisbursementResult};
use super::{topic_for, CORE_DISBURSEMENTS, CORE_REPAYMENTS, CREDIT_DECISIONS};

/// Every contract file, as (path under `docs/contracts/`, content), in a
/// stable order; the content is what `facesign contracts` writes.
pub fn contract_files() -> Vec<(String, String)> {
    let events = event_contracts();
    let mut files = vec![
        ("asyncapi.json".to_string(), pretty(&asyncapi(&events))),
        (ENVELOPE.to_string(), pretty(&envelope_schema())),
    ];
    files.extend(
        events
            .iter()
            .map(|contract| (contract.path(), pretty(&contract.schema))),
    );
    files.extend(
        inbound_messages()
            .into_iter()
            .map(|message| (message.path(), pretty(&message.schema))),
    );
    files
}

/// The envelope's schema file.
pub const ENVELOPE: &str = "envelope.schema.json";

/// The headers every published event carries (docs/kafka.md).
pub const EVENT_HEADERS: [(&str, &str); 9] = [
    (
        "event-id",
        "The event's UUID v7; consumers drop repeats by it (delivery is at least once).",
    ),
    (
        "event-type",
        "The stored event type, e.g. AppointmentConfirmed.",
    ),
    ("event-version", "The event's schema version, e.g. 1.0."),
    (
        "correlation-id",
        "Groups every event of one business flow, across aggregates.",
    ),
    (
        "traceparent",
        "W3C trace context of the request that recorded the event, when it was traced.",
    ),
    (
        "task-status",
        "Interview-task events that set the task's status: the engine's status, e.g. PENDING_QC.",
    ),
    (
        "credit-status",
        "With task-status: the credit system's status (001), absent for a withdrawn task.",
    ),
    (
        "on-behalf-of-id",
        "For an event a process manager wrote for a person: that person's id.",
    ),
    (
        "on-behalf-of-role",
        "With on-behalf-of-id: that person's role.",
    ),
];

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value prints");
    text.push('\n');
    text
}

/// The schema of the message value around every event (relay::message_value).
pub fn envelope_schema() -> Value {
    let text = |description: &str| json!({ "type": "string", "description": description });
    json!({
        "$schema": DIALECT,
        "$id": format!("{SCHEMA_BASE}{ENVELOPE}"),
        "title": "EventEnvelope",
        "description": "The value of every message on a facesign.<aggregate-type>.v1 topic: one event of the global log with its envelope. `payload` is described per event type in events/<aggregate-type>/<EventType>.schema.json.",
        "type": "object",
        "required": [
            "eventId", "aggregateType", "aggregateId", "sequence", "eventType", "eventVersion",
            "position", "recordedAt", "actorId", "actorRole", "onBehalfOf", "correlationId",
            "causationId", "requestId", "payload"
        ],
        "additionalProperties": false,
        "properties": {
            "eventId": { "type": "string", "format": "uuid", "description": "UUID v7, unique across the log." },
            "aggregateType": text("e.g. interview-task; also the topic's middle part."),
            "aggregateId": text("The aggregate instance; also the message key."),
            "sequence": { "type": "integer", "minimum": 1, "description": "1-based, per aggregate instance." },
            "eventType": text("e.g. AppointmentConfirmed; the payload's schema is named after it."),
            "eventVersion": text("e.g. 1.0."),
            "position": { "type": "string", "pattern": "^[0-9]+:[0-9]+$", "description": "Where the event stands in the global log (commit:position)." },
            "recordedAt": { "type": "string", "format": "date-time", "description": "When it was recorded (UTC)." },
            "actorId": text("Who caused it (a customer's ID number is masked)."),
            "actorRole": text("The role they acted in, e.g. SEAT, SYSTEM."),
            "onBehalfOf": {
                "description": "The person a process manager acted for, or null.",
                "oneOf": [
                    { "type": "null" },
                    {
                        "type": "object",
                        "required": ["id", "role"],
                        "additionalProperties": false,
                        "properties": { "id": { "type": "string" }, "role": { "type": "string" } }
                    }
                ]
            },
            "correlationId": text("Groups every event of one business flow."),
            "causationId": text("The message (request, event or timer) that caused the command."),
            "requestId": text("The inbound request that carried the command."),
            "payload": { "type": "object", "description": "The event: {\"<EventType>\": {…}} (a session event: {\"Session\": {\"<EventType>\": {…}}})." },
            "taskStatus": text("Interview-task events that set the status: the task's status after it."),
            "creditStatus": {
                "type": ["string", "null"],
                "enum": ["PENDING_INTERVIEW", "AWAITING_SIGNING", "INTERVIEW_REJECTED", null],
                "description": "With taskStatus: the credit system's status (001)."
            }
        }
    })
}

/// A message another system writes to the engine.
struct InboundMessage {
    topic: &'static str,
    name: &'static str,
    key: &'static str,
    schema: Value,
}

impl InboundMessage {
    fn new<T: JsonSchema>(topic: &'static str, key: &'static str) -> Self {
        let name = std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .expect("a type name");
        let mut schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value();
        schema["$id"] = json!(format!("{SCHEMA_BASE}inbound/{name}.schema.json"));
        Self {
            topic,
            name,
            key,
            schema,
        }
    }

    fn path(&self) -> String {
        format!("inbound/{}.schema.json", self.name)
    }
}

fn inbound_messages() -> Vec<InboundMessage> {
    vec![
        InboundMessage::new::<CreditDecision>(CREDIT_DECISIONS, "the partner's order no"),
        InboundMessage::new::<DisbursementResult>(CORE_DISBURSEMENTS, "the application no"),
        InboundMessage::new::<CoreRepayment>(CORE_REPAYMENTS, "the application no"),
    ]
}

/// The Kafka binding of a message keyed by `key`.
fn keyed(key: &str) -> Value {
    json!({ "kafka": { "key": { "type": "string", "description": key }, "bindingVersion": "0.5.0" } })
}

/// The AsyncAPI 3 document of every topic.
fn asyncapi(events: &[EventContract]) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut aggregate_types: Vec<&str> = events.iter().map(|c| c.aggregate_type).collect();
    aggregate_types.dedup();
    for aggregate_type in aggregate_types {
        let mut channel_messages = Map::new();
        for contract in events.iter().filter(|c| c.aggregate_type == aggregate_type) {
            let id = format!("{aggregate_type}.{}", contract.event_type);
            let (chinese, english) =
                domain::event_labels::event_label(&contract.event_type).unwrap_or_default();
            messages.insert(
                id.clone(),
                json!({
                    "name": contract.event_type,
                    "title": format!("{chinese} / {english}"),
                    "summary": contract.description(),
                    "contentType": "application/json",
                    "headers": { "$ref": "#/components/schemas/EventHeaders" },
                    "payload": {
                        "allOf": [
                            { "$ref": format!("./{ENVELOPE}") },
                            {
                                "type": "object",
                                "properties": {
                                    "aggregateType": { "const": aggregate_type },
                                    "eventType": { "const": contract.event_type },
                                    "payload": { "$ref": format!("./{}", contract.path()) }
                                }
                            }
                        ]
                    },
                    "bindings": keyed("the aggregate id: one aggregate's events stay in one partition, in order"),
                }),
            );
            channel_messages.insert(
                contract.event_type.clone(),
                json!({ "$ref": format!("#/components/messages/{id}") }),
            );
        }
        let refs: Vec<Value> = channel_messages
            .keys()
            .map(|name| json!({ "$ref": format!("#/channels/{aggregate_type}/messages/{name}") }))
            .collect();
        channels.insert(
            aggregate_type.to_string(),
            json!({
                "address": topic_for(aggregate_type),
                "title": format!("{aggregate_type} events"),
                "description": format!("Every event of every {aggregate_type} aggregate, in the order of each aggregate, at least once (drop repeats by the event-id header)."),
                "messages": channel_messages,
            }),
        );
        operations.insert(
            format!("publish.{aggregate_type}"),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{aggregate_type}") },
                "summary": "The relay publishes the global log after the commit.",
                "messages": refs,
            }),
        );
    }
    for message in inbound_messages() {
        let id = message.name;
        messages.insert(
            id.to_string(),
            json!({
                "name": id,
                "title": message.schema["title"],
                "summary": message.schema["description"],
                "contentType": "application/json",
                "payload": { "$ref": format!("./{}", message.path()) },
                "bindings": keyed(message.key),
            }),
        );
        messages.insert(
            format!("{id}.deadLettered"),
            json!({
                "name": format!("{id}.deadLettered"),
                "summary": format!("A {id} the engine could not read or that its aggregate refused, as received."),
                "headers": { "$ref": "#/components/schemas/DeadLetterHeaders" },
                "payload": { "description": "The original value, unchanged." },
                "bindings": keyed("the original key"),
            }),
        );
        let channel = message.topic.replace('.', "-");
        let dead = format!("{channel}-dlq");
        channels.insert(
            channel.clone(),
            json!({
                "address": message.topic,
                "messages": { id: { "$ref": format!("#/components/messages/{id}") } },
            }),
        );
        channels.insert(
            dead.clone(),
            json!({
                "address": dead_letter_topic(message.topic),
                "messages": { id: { "$ref": format!("#/components/messages/{id}.deadLettered") } },
            }),
        );
        operations.insert(
            format!("consume.{channel}"),
            json!({
                "action": "receive",
                "channel": { "$ref": format!("#/channels/{channel}") },
                "summary": "One command per message; a repeated messageId changes nothing.",
                "messages": [{ "$ref": format!("#/channels/{channel}/messages/{id}") }],
            }),
        );
        operations.insert(
            format!("deadLetter.{channel}"),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{dead}") },
                "summary": "A message that cannot be read or is refused goes here with the reason; its offset is then committed.",
                "messages": [{ "$ref": format!("#/channels/{dead}/messages/{id}") }],
            }),
        );
    }
    let header_properties: Map<String, Value> = EVENT_HEADERS
        .iter()
        .map(|(name, description)| {
            (
                name.to_string(),
                json!({ "type": "string", "description": description }),
            )
        })
        .collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "facesign events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The topics facesign produces (one per aggregate type, the global log after the commit) and consumes (the credit and core systems' answers). Generated by `facesign contracts`; see docs/kafka.md.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "EventHeaders": {
                    "type": "object",
                    "required": ["event-id", "event-type", "event-version", "correlation-id"],
                    "properties": header_properties,
                },
                "DeadLetterHeaders": {
                    "type": "object",
                    "required": ["dlq-reason", "original-topic", "original-partition", "original-offset"],
                    "properties": {
                        "dlq-reason": { "type": "string", "description": "Why the message was not applied." },
                        "original-topic": { "type": "string" },
                        "original-partition": { "type": "string" },
                        "original-offset": { "type": "string" },
                    },
                },
            },
        },
    })
}
