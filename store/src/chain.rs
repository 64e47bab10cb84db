//! Tamper evidence of the log (issue 36 item 1, docs/security.md): every
//! event's hash chains to the previous event of its aggregate, over a
//! canonical encoding of what was written, so an altered, inserted, removed
//! or reordered event breaks every hash after it.
//!
//! The encoding is independent of the backend: payload and metadata are
//! hashed as serde_json writes their values (objects with sorted keys, no
//! whitespace), which is what both Postgres's jsonb and SQLite's text give
//! back once parsed.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::database::StoreError;

/// The hash "before" an aggregate's first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// Separates this encoding from any other use of SHA-256 over the same bytes.
const DOMAIN: &[u8] = b"facesign-event-chain-v1\n";

/// What of an event its hash covers: everything written but the position,
/// which the database assigns and which checkpoints cover instead.
pub struct ChainedEvent<'a> {
    /// The aggregate's type.
    pub aggregate_type: &'a str,
    /// The aggregate's id.
    pub aggregate_id: &'a str,
    /// The event's sequence within its aggregate (1, 2, …).
    pub sequence: i64,
    /// The event's type.
    pub event_type: &'a str,
    /// The event's schema version, as written.
    pub event_version: &'a str,
    /// The payload, as written.
    pub payload: &'a Value,
    /// The metadata (actor, correlation, time, …), as written.
    pub metadata: &'a Value,
}

impl ChainedEvent<'_> {
    /// This event's hash, chained to `previous` (the aggregate's previous
    /// event's, or [`GENESIS`] for its first).
    pub fn hash(&self, previous: &[u8; 32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        hasher.update(previous);
        // Every field is length-prefixed: no two events encode alike.
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        field(self.aggregate_type.as_bytes());
        field(self.aggregate_id.as_bytes());
        field(&self.sequence.to_be_bytes());
        field(self.event_type.as_bytes());
        field(self.event_version.as_bytes());
        field(self.payload.to_string().as_bytes());
        field(self.metadata.to_string().as_bytes());
        hasher.finalize().into()
    }
}

/// One stored event, as raw as the chain needs it.
pub struct RawEvent {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Its sequence.
    pub sequence: i64,
    /// Its type.
    pub event_type: String,
    /// Its version, as written.
    pub event_version: String,
    /// The payload, as written (not upcast).
    pub payload: Value,
    /// The metadata, as written.
    pub metadata: Value,
    /// The hash stored with it (none before hashing began).
    pub stored_hash: Option<[u8; 32]>,
}

impl RawEvent {
    /// Its hash in the chain after `previous`: the stored one, or for an
    /// event stored before hashing began, computed from its content.
    pub fn next_in_chain(&self, previous: &[u8; 32]) -> [u8; 32] {
        self.stored_hash
            .unwrap_or_else(|| self.chained().hash(previous))
    }

    /// The part of it the hash covers.
    pub fn chained(&self) -> ChainedEvent<'_> {
        ChainedEvent {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
        }
    }
}

/// An event row as the chain reads it: aggregate type and id, sequence,
/// event type and version, payload and metadata as text, stored hash.
pub(crate) type RawRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
);

/// Parses a [`RawRow`].
pub(crate) fn raw_event(row: RawRow) -> Result<RawEvent, StoreError> {
    let (
        aggregate_type,
        aggregate_id,
        sequence,
        event_type,
        event_version,
        payload,
        metadata,
        hash,
    ) = row;
    let corrupt = |reason: String| StoreError::Corrupt {
        aggregate_type: aggregate_type.clone(),
        aggregate_id: aggregate_id.clone(),
        sequence,
        reason,
    };
    let payload = serde_json::from_str(&payload).map_err(|e| corrupt(format!("payload: {e}")))?;
    let metadata =
        serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?;
    let stored_hash = match hash {
        None => None,
        Some(bytes) => Some(
            bytes
                .try_into()
                .map_err(|_| corrupt("the stored hash is not 32 bytes".to_string()))?,
        ),
    };
    Ok(RawEvent {
        aggregate_type: aggregate_type.clone(),
        aggregate_id: aggregate_id.clone(),
        sequence,
        event_type,
        event_version,
        payload,
        metadata,
        stored_hash,
    })
}

/// Lower-case hex of a hash, for messages and checkpoints.
pub fn hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event<'a>(payload: &'a Value, metadata: &'a Value, sequence: i64) -> ChainedEvent<'a> {
        ChainedEvent {
            aggregate_type: "interview-task",
            aggregate_id: "T1",
            sequence,
            event_type: "InterviewTaskCreated",
            event_version: "1.0",
            payload,
            metadata,
        }
    }

    #[test]
    fn a_hash_changes_with_any_field_and_with_its_predecessor() {
        let payload = json!({"contract_no": "HT-1", "latitude": 31.2304});
        let metadata = json!({"actor_id": "M0001"});
        let first = event(&payload, &metadata, 1).hash(&GENESIS);
        assert_eq!(first, event(&payload, &metadata, 1).hash(&GENESIS));
        assert_ne!(first, event(&payload, &metadata, 2).hash(&GENESIS));
        assert_ne!(first, event(&payload, &metadata, 1).hash(&first));
        let edited = json!({"contract_no": "HT-2", "latitude": 31.2304});
        assert_ne!(first, event(&edited, &metadata, 1).hash(&GENESIS));
        let other_actor = json!({"actor_id": "M0002"});
        assert_ne!(first, event(&payload, &other_actor, 1).hash(&GENESIS));
    }

    #[test]
    fn key_order_and_spacing_of_the_stored_text_do_not_matter() {
        let written: Value = serde_json::from_str(r#"{"b": 1, "a": [1.5e-7, "x"]}"#).unwrap();
        let read_back: Value = serde_json::from_str(r#"{"a":[0.00000015,"x"],"b":1}"#).unwrap();
        let metadata = json!({});
        assert_eq!(
            event(&written, &metadata, 1).hash(&GENESIS),
            event(&read_back, &metadata, 1).hash(&GENESIS)
        );
    }
}
