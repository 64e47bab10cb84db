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

/// Keys whose value is a person's name.
const NAME_KEYS: [&str; 5] = [
    "name",
    "customer_name",
    "borrower_name",
    "customerName",
    "borrowerName",
];

/// Keys whose value is free text that may quote a person (an SMS, a chat
/// line, a remark, a recording's name, an entered value).
const TEXT_KEYS: [&str; 8] = [
    "text",
    "note",
    "information",
    "body",
    "recording_name",
    "recordingName",
    "value",
    "detail",
];

/// Keys whose value is a SHA-256 of a person's document or phone (an agenda's
/// key): a masked ID number hides only a birth date, which a hash would give
/// away to a few thousand guesses, so the hash is hidden whole.
const HASH_KEYS: [&str; 3] = ["customer_key", "agendas", "agenda_id"];

/// What a hidden hash is shown as.
const HIDDEN_HASH: &str = "***";

/// Masks personal data anywhere in an event payload or state document unless
/// revealed, by the rules of the fields: names, ID numbers, phones,
/// addresses, bank cards and accounts by their keys (snake or camel case),
/// free text by the names found in the same document and the shapes of
/// phones and ID numbers, and object keys that are ID numbers (a session's
/// checks are keyed by the person's document).
pub fn json(reveal: bool, value: &mut serde_json::Value) {
    if reveal {
        return;
    }
    let mut names = Vec::new();
    collect_names(value, &mut names);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    mask_json(value, &names);
}

fn collect_names(value: &serde_json::Value, names: &mut Vec<String>) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                for (key, field) in map {
                    match field.as_str() {
                        Some(text) if NAME_KEYS.contains(&key.as_str()) => {
                            names.push(text.to_string())
                        }
                        _ => stack.push(field),
                    }
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

/// Whether a text is shaped like an ID number (17 digits and a check character).
fn looks_like_id_number(text: &str) -> bool {
    text.len() == 18
        && text[..17].bytes().all(|b| b.is_ascii_digit())
        && text[17..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x')
}

fn mask_json(value: &mut serde_json::Value, names: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| looks_like_id_number(k)) {
                let entries = std::mem::take(map);
                for (key, field) in entries {
                    let key = if looks_like_id_number(&key) {
                        pii::mask_id_number(&key)
                    } else {
                        key
                    };
                    map.insert(key, field);
                }
            }
            for (key, field) in map.iter_mut() {
                let key = key.as_str();
                let Some(text) = field.as_str() else {
                    mask_json(field, names);
                    continue;
                };
                let masked = if NAME_KEYS.contains(&key) {
                    pii::mask_name(text)
                } else if matches!(key, "id_number" | "idNumber") {
                    pii::mask_id_number(text)
                } else if matches!(key, "phone" | "mobile") {
                    pii::mask_phone(text)
                } else if matches!(key, "address" | "property_address" | "propertyAddress") {
                    pii::mask_address(text)
                } else if matches!(
                    key,
                    "card_no" | "cardNo" | "repayment_account" | "repaymentAccount"
                ) {
                    pii::mask_card(text)
                } else if TEXT_KEYS.contains(&key) {
                    pii::mask_text(text, names)
                } else if HASH_KEYS.contains(&key) {
                    HIDDEN_HASH.to_string()
                } else {
                    continue;
                };
                *field = masked.into();
            }
            for key in HASH_KEYS {
                if let Some(serde_json::Value::Array(hashes)) = map.get_mut(key) {
                    hashes
                        .iter_mut()
                        .for_each(|hash| *hash = HIDDEN_HASH.into());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| mask_json(item, names)),
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

    /// Issue 31: masked data stays masked in every view. Keys the first rule
    /// missed — a work order's customer, a property's address, a recording's
    /// name, a chat line, a session's checks keyed by ID number — follow it.
    #[test]
    fn every_field_of_a_person_is_masked_wherever_it_sits() {
        let mut payload = j!({
            "WorkOrderCreated": { "details": { "customer_name": "邓小闲", "phone": "15618293093" } },
            "InterviewTaskCreated": { "property_location": { "province": "河南省", "address": "郑州市金水路1号" } },
            "session": {
                "recordings": [{ "recording_name": "20261201邓小闲S001-1" }],
                "chat": [{ "text": "我是邓小闲，电话15618293093" }],
                "identity": { "410102198503121017": { "passed": true } }
            },
            "card_no": "6222020200112233445",
            "customer_key": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "agendas": ["9f86d081884c7d65", "60303ae22b998861"]
        });
        json(false, &mut payload);
        assert_eq!(
            payload,
            j!({
                "WorkOrderCreated": { "details": { "customer_name": "邓*闲", "phone": "156****3093" } },
                "InterviewTaskCreated": { "property_location": { "province": "河南省", "address": "***" } },
                "session": {
                    "recordings": [{ "recording_name": "20261201邓*闲S001-1" }],
                    "chat": [{ "text": "我是邓*闲，电话156****3093" }],
                    "identity": { "410102********1017": { "passed": true } }
                },
                "card_no": "622202*********3445",
                "customer_key": "***",
                "agendas": ["***", "***"]
            })
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
