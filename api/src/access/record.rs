//! What access control writes to the operation log (操作留痕): refused
//! operations and reads of unmasked personal data (store::operation_log).

use async_graphql::parser::types::Field;
use async_graphql::{Context, Value, Variables};

use store::operation_log::{Operation, OperationKind};

use crate::request::RequestContext;
use crate::state::AppState;

/// The variables of the request being executed, so that a refusal can name
/// the record an argument addressed through a variable.
pub struct RequestVariables(pub Variables);

/// Arguments that name the record an operation addresses, in order of preference.
const TARGET_ARGUMENTS: [&str; 12] = [
    "taskId",
    "id",
    "callId",
    "seatNo",
    "code",
    "login",
    "contractNo",
    "applicationNo",
    "orderNo",
    "aggregateId",
    "actorId",
    "seatNos",
];

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Enum(e) => Some(e.to_string()),
        Value::List(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        _ => None,
    }
}

/// `name=value` of the argument (or input field, one level down) that names
/// the record a field addresses; empty when none does.
pub fn target(field: &Field, variables: Option<&Variables>) -> String {
    let values: Vec<(String, Value)> = field
        .arguments
        .iter()
        .filter_map(|(name, value)| {
            value
                .node
                .clone()
                .into_const_with(|var| variables.and_then(|v| v.get(&var).cloned()).ok_or(()))
                .ok()
                .map(|v| (name.node.to_string(), v))
        })
        .collect();
    for key in TARGET_ARGUMENTS {
        for (name, value) in &values {
            if name == key {
                if let Some(text) = text(value) {
                    return format!("{name}={}", truncate(&text));
                }
            }
            if let Value::Object(fields) = value {
                if let Some(text) = fields.get(key).and_then(text) {
                    return format!("{name}.{key}={}", truncate(&text));
                }
            }
        }
    }
    String::new()
}

fn truncate(text: &str) -> String {
    text.chars().take(128).collect()
}

fn who(caller: Option<&RequestContext>) -> (String, String, String) {
    let actor = caller.and_then(|c| c.actor.as_ref());
    (
        actor.map_or_else(|| "anonymous".to_string(), |a| a.id.clone()),
        actor.map_or_else(|| "NONE".to_string(), |a| a.role.clone()),
        caller.map(|c| c.request_id.clone()).unwrap_or_default(),
    )
}

/// Records a refused operation of a GraphQL caller. A caller without a
/// verified token is only counted (the operation log's unverified tallies):
/// its arguments are its own text and would let a flood write into the log.
pub fn refusal(
    state: &AppState,
    caller: Option<&RequestContext>,
    operation: &str,
    target: String,
    code: &str,
    message: &str,
) {
    if caller.and_then(|c| c.actor.as_ref()).is_none() {
        let reason: String = message.chars().take(200).collect();
        unverified(state, operation, "", code, &reason, None);
        return;
    }
    refusal_by(state, who(caller), operation, target, code, message);
}

/// Counts a refusal of a caller nobody verified in the operation log's
/// tallies (`store::operation_log::UnverifiedRefusal`): the door, a
/// configured identity it claimed (else empty), our code and reason, and the
/// address it came from when known — never anything the caller wrote.
pub fn unverified(
    state: &AppState,
    operation: &str,
    claimed: &str,
    code: &str,
    reason: &str,
    address: Option<std::net::IpAddr>,
) {
    state.operation_log.record_unverified(
        store::operation_log::UnverifiedRefusal {
            operation: operation.to_string(),
            claimed: claimed.to_string(),
            code: code.to_string(),
            reason: reason.to_string(),
        },
        address,
        state.bus.services().clock.now(),
    );
}

/// Records a refused operation of `(actor id, role, request id)`.
pub fn refusal_by(
    state: &AppState,
    (actor_id, actor_role, request_id): (String, String, String),
    operation: &str,
    target: String,
    code: &str,
    message: &str,
) {
    state.operation_log.record(Operation {
        at: state.bus.services().clock.now(),
        kind: OperationKind::Refused,
        actor_id,
        actor_role,
        operation: operation.to_string(),
        target,
        code: Some(code.to_string()),
        detail: message.chars().take(500).collect(),
        request_id,
    });
}

/// Records that `fields` of `record` (e.g. `interview-task:…`) were shown
/// unmasked to the caller.
pub fn personal_data(ctx: &Context<'_>, record: String, fields: &[&str]) {
    if fields.is_empty() {
        return;
    }
    let state = ctx.data_unchecked::<AppState>();
    let (actor_id, actor_role, request_id) = who(ctx.data_opt::<RequestContext>());
    let operation = ctx
        .path_node
        .as_ref()
        .map(|node| {
            let mut root = node;
            while let Some(parent) = root.parent {
                root = parent;
            }
            root.field_name().to_string()
        })
        .unwrap_or_default();
    state.operation_log.record(Operation {
        at: state.bus.services().clock.now(),
        kind: OperationKind::PersonalDataRead,
        actor_id,
        actor_role,
        operation,
        target: record,
        code: None,
        detail: fields.join(","),
        request_id,
    });
}
