//! Records of the global event log: the envelope every consumer (projections,
//! the Kafka relay, auditors) reads, and the position that orders them.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A point in the global log.
///
/// On Postgres the order is `(tx_id, global_position)`: events are read in the
/// order their transactions became visible, which is what makes the log gap-safe.
/// On SQLite there is a single writer, so `tx_id` is always 0 and the insertion
/// order (`global_position`) alone is the commit order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPosition {
    /// Postgres transaction id (`xid8`) of the writing transaction; 0 on SQLite.
    pub tx_id: i64,
    /// The event's `global_position` (bigserial / rowid).
    pub global_position: i64,
}

impl LogPosition {
    /// The position before the first event.
    pub const START: LogPosition = LogPosition {
        tx_id: 0,
        global_position: 0,
    };

    /// Builds a position from its two parts.
    pub fn new(tx_id: i64, global_position: i64) -> Self {
        Self {
            tx_id,
            global_position,
        }
    }
}

impl std::fmt::Display for LogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.tx_id, self.global_position)
    }
}

impl std::str::FromStr for LogPosition {
    type Err = crate::message::Message;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use crate::message::message;
        let (tx, pos) = s
            .split_once(':')
            .ok_or_else(|| message!("log position `{s}` is not of the form TX:POSITION"))?;
        let tx_id = tx
            .parse()
            .map_err(|_| message!("log position `{s}` has a bad transaction id"))?;
        let global_position = pos
            .parse()
            .map_err(|_| message!("log position `{s}` has a bad position"))?;
        Ok(Self::new(tx_id, global_position))
    }
}

/// Who caused a command: the authenticated actor and the role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actor {
    /// Stable id of the person or system (staff no, customer id, partner code).
    pub id: String,
    /// The role the actor acted in (SEAT, SUPERVISOR, SYSTEM, ...).
    pub role: String,
}

impl Actor {
    /// The role of the engine itself.
    pub const SYSTEM_ROLE: &'static str = "SYSTEM";

    /// An actor for work the engine does itself (timers, process managers, demo seeding).
    pub fn system(id: &str) -> Self {
        Self {
            id: id.to_string(),
            role: Self::SYSTEM_ROLE.to_string(),
        }
    }
}

/// Metadata stored with every event (the envelope's `metadata` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventMetadata {
    /// UUID v7 of this event, unique across the whole log.
    pub event_id: Uuid,
    /// Id of the actor whose command produced the event.
    pub actor_id: String,
    /// Role the actor acted in.
    pub actor_role: String,
    /// Groups every event of one business flow, across aggregates.
    pub correlation_id: String,
    /// The message (request, event or timer) that directly caused this command.
    pub causation_id: String,
    /// The inbound request that carried the command.
    pub request_id: String,
    /// When the event was recorded, from the injected clock.
    pub recorded_at: DateTime<Utc>,
    /// The person whose command started the flow, when the actor is the
    /// engine acting for them (a process manager): who an auditor must see.
    pub on_behalf_of: Option<Actor>,
    /// The W3C `traceparent` of the span that recorded the event, when it was
    /// traced: the relay passes it on as a Kafka header (issue 23 item 4).
    pub traceparent: Option<String>,
}

impl EventMetadata {
    const KEYS: [&'static str; 7] = [
        "event_id",
        "actor_id",
        "actor_role",
        "correlation_id",
        "causation_id",
        "request_id",
        "recorded_at",
    ];

    /// The flat string map form cqrs-es stores in the `metadata` column.
    pub fn to_map(&self) -> HashMap<String, String> {
        let values = [
            self.event_id.to_string(),
            self.actor_id.clone(),
            self.actor_role.clone(),
            self.correlation_id.clone(),
            self.causation_id.clone(),
            self.request_id.clone(),
            self.recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ];
        let mut map: HashMap<String, String> = Self::KEYS
            .iter()
            .map(|k| k.to_string())
            .zip(values)
            .collect();
        if let Some(person) = &self.on_behalf_of {
            map.insert("on_behalf_of_id".into(), person.id.clone());
            map.insert("on_behalf_of_role".into(), person.role.clone());
        }
        if let Some(traceparent) = &self.traceparent {
            map.insert("traceparent".into(), traceparent.clone());
        }
        map
    }

    /// The person this event's flow was started by: the on-behalf-of person,
    /// else the actor when a person (not the engine) wrote it.
    pub fn originator(&self) -> Option<Actor> {
        self.on_behalf_of.clone().or_else(|| {
            (self.actor_role != Actor::SYSTEM_ROLE).then(|| Actor {
                id: self.actor_id.clone(),
                role: self.actor_role.clone(),
            })
        })
    }

    /// Reads the metadata back from its stored JSON form.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let get = |key: &str| {
            value
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| format!("event metadata lacks `{key}`"))
        };
        Ok(Self {
            event_id: get("event_id")?
                .parse()
                .map_err(|e| format!("event metadata has a bad event_id: {e}"))?,
            actor_id: get("actor_id")?,
            actor_role: get("actor_role")?,
            correlation_id: get("correlation_id")?,
            causation_id: get("causation_id")?,
            request_id: get("request_id")?,
            recorded_at: DateTime::parse_from_rfc3339(&get("recorded_at")?)
                .map_err(|e| format!("event metadata has a bad recorded_at: {e}"))?
                .with_timezone(&Utc),
            // Absent from events written before on-behalf-of was recorded.
            on_behalf_of: get("on_behalf_of_id")
                .ok()
                .zip(get("on_behalf_of_role").ok())
                .map(|(id, role)| Actor { id, role }),
            // Absent from events recorded without a trace.
            traceparent: get("traceparent").ok(),
        })
    }
}

/// One event as it stands in the global log: the envelope of DESIGN.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Where the event stands in the global log.
    pub position: LogPosition,
    /// Aggregate type, e.g. `interview-task`.
    pub aggregate_type: String,
    /// Aggregate instance id.
    pub aggregate_id: String,
    /// 1-based sequence within the aggregate instance.
    pub sequence: i64,
    /// Event type name, e.g. `InterviewTaskCreated`.
    pub event_type: String,
    /// Schema version of the payload.
    pub event_version: String,
    /// The event body, already upcast to the current version.
    pub payload: serde_json::Value,
    /// Actor, correlation and timing of the event.
    pub metadata: EventMetadata,
}

/// Reads the global log in order from a position. Every consumer uses this one API.
pub trait EventLogReader: Send + Sync {
    /// Error of the underlying store.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Up to `limit` events strictly after `after`, in log order, never skipping one
    /// that a still-running transaction may yet commit below them.
    fn read_after(
        &self,
        after: LogPosition,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, Self::Error>> + Send;

    /// The position of the newest visible event (for lag reporting).
    fn head(&self) -> impl Future<Output = Result<LogPosition, Self::Error>> + Send;
}

/// The RFC 3339 form (microseconds, UTC, fixed width, so it sorts as it
/// compares) every read model and bookkeeping table stores times in.
pub fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
