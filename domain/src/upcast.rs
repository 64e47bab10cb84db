//! Event versioning: stored payloads are never rewritten; readers lift old
//! versions to the current one here, before decoding. Every consumer (command
//! bus, projections, auditors, the Kafka relay) reads through this.

use serde_json::Value;

/// Lifts `payload` of `event_type` at `version` to the current version, and
/// returns the version it now has.
pub fn upcast(
    aggregate_type: &str,
    event_type: &str,
    version: &str,
    payload: &mut Value,
) -> String {
    let mut version = version.to_string();
    // InterviewTaskCancelled 1.0 → 1.1: the cancellation lists the bookings it
    // frees, so the scheduling process manager can release them. A 1.0
    // cancellation was written before bookings existed: it frees nothing.
    if aggregate_type == crate::interview_task::AGGREGATE_TYPE
        && event_type == "InterviewTaskCancelled"
        && version == "1.0"
    {
        if let Some(body) = payload
            .get_mut("InterviewTaskCancelled")
            .and_then(Value::as_object_mut)
        {
            body.entry("releases")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
        version = "1.1".to_string();
    }
    version
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::interview_task::InterviewTaskEvent;

    #[test]
    fn an_old_cancellation_reads_as_the_current_version() {
        let mut payload = json!({ "InterviewTaskCancelled": {
            "reason": "客户主动放弃", "cancelled_at": "2026-11-01T02:00:00Z" } });
        let version = upcast(
            "interview-task",
            "InterviewTaskCancelled",
            "1.0",
            &mut payload,
        );
        assert_eq!(version, "1.1");
        let event: InterviewTaskEvent = serde_json::from_value(payload).unwrap();
        let InterviewTaskEvent::InterviewTaskCancelled(cancelled) = event else {
            panic!("wrong variant");
        };
        assert!(cancelled.releases.is_empty());
    }

    #[test]
    fn current_versions_pass_through() {
        let mut payload = json!({ "x": 1 });
        assert_eq!(upcast("seat", "SeatEnabled", "1.0", &mut payload), "1.0");
        assert_eq!(payload, json!({ "x": 1 }));
    }
}
