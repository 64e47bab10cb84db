//! Masking by need (004 3.4: 邓*闲): who sees names, ID numbers and phones in
//! clear, decided per role and per how the record is shown
//! (docs/security.md, "Masking by need").

use domain::pii;
use domain::role::Role;

/// How a record is being shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Showing {
    /// One row of a list (a board, a queue, the work-order list).
    Listed,
    /// One record on its own.
    Alone,
    /// The record a seat is serving right now: the task it holds, or the one
    /// whose call is ringing at or answered by it.
    Serving,
}

/// Whether personal data of a record shown this way is unmasked for `role`:
/// account managers (their own cases), QC reviewers and supervisors always;
/// a seat only on the task it is serving (it verifies that person's
/// identity), masked in its lists (004 shows 邓*闲 in the seat's work-order
/// list); everybody else masked.
pub fn reveals(role: Option<Role>, showing: Showing) -> bool {
    match role {
        Some(Role::AccountManager | Role::QcReviewer | Role::Supervisor) => true,
        Some(Role::Seat) => showing == Showing::Serving,
        _ => false,
    }
}

/// A name, masked unless revealed.
pub fn name(reveal: bool, value: &str) -> String {
    if reveal {
        value.to_string()
    } else {
        pii::mask_name(value)
    }
}

/// An ID number, masked unless revealed.
pub fn id_number(reveal: bool, value: &str) -> String {
    if reveal {
        value.to_string()
    } else {
        pii::mask_id_number(value)
    }
}

/// A phone, masked unless revealed.
pub fn phone(reveal: bool, value: &str) -> String {
    if reveal {
        value.to_string()
    } else {
        pii::mask_phone(value)
    }
}

/// Who acted, as shown beside an event: a customer acts under their ID
/// number, which is masked like any other.
pub fn actor_id(reveal: bool, role: &str, id: &str) -> String {
    if role == domain::role::Role::Customer.as_str() {
        id_number(reveal, id)
    } else {
        id.to_string()
    }
}

/// Masks personal data anywhere in an event payload or state document
/// (fields `name`, `id_number`, `phone`) unless revealed.
pub fn json(reveal: bool, value: &mut serde_json::Value) {
    if reveal {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                match (key.as_str(), field.as_str()) {
                    ("name", Some(text)) => *field = pii::mask_name(text).into(),
                    ("id_number", Some(text)) => *field = pii::mask_id_number(text).into(),
                    ("phone", Some(text)) => *field = pii::mask_phone(text).into(),
                    _ => json(reveal, field),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| json(reveal, item)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json as j;

    use super::*;

    /// 004_448cd5ace309d8b2.txt 3.4: names shown like 邓*闲 to those without need.
    #[test]
    fn payloads_are_masked_unless_revealed() {
        let mut payload = j!({ "InterviewTaskCreated": { "participants": [
            { "name": "邓小闲", "id_number": "410102198503121017", "phone": "15618293093" } ] } });
        let original = payload.clone();
        json(true, &mut payload);
        assert_eq!(payload, original);
        json(false, &mut payload);
        assert_eq!(
            payload["InterviewTaskCreated"]["participants"][0],
            j!({ "name": "邓*闲", "id_number": "410102********1017", "phone": "156****3093" })
        );
    }

    /// 004 3.4: a seat's lists are masked; it sees clear data only on the
    /// task it serves. Auditors and admins never do.
    #[test]
    fn seats_see_clear_data_only_on_the_task_they_serve() {
        assert!(!reveals(Some(Role::Seat), Showing::Listed));
        assert!(!reveals(Some(Role::Seat), Showing::Alone));
        assert!(reveals(Some(Role::Seat), Showing::Serving));
        for role in [Role::AccountManager, Role::QcReviewer, Role::Supervisor] {
            assert!(reveals(Some(role), Showing::Listed));
        }
        for role in [
            Role::Auditor,
            Role::Admin,
            Role::Customer,
            Role::CreditSystem,
        ] {
            assert!(!reveals(Some(role), Showing::Serving));
        }
        assert!(!reveals(None, Showing::Alone));
    }
}
