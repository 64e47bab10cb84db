//! Four eyes on the bank's configuration (issue 34 item 5). With four eyes
//! on (the default wherever identities come from the bank's provider), a
//! change of channels, dispatch rules, scripts, media, seat groups, seats,
//! accounts, the working-day calendar or callback retries is not made
//! directly: one admin proposes it (`proposeChange`, the one mutation that
//! makes it, as written), and it runs — as that mutation, with all its own
//! checks — only when a different admin approves it (`approveChange`). The
//! proposer may withdraw it until then; unapproved, it lapses after
//! [`PROPOSAL_LIFETIME_HOURS`]. Each step is an event of the proposal naming
//! its actor, and a `CONFIGURATION_CHANGE` entry of the operation log.

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use cqrs_es::Aggregate;
use domain::change_proposal::{
    ChangeCommand, ChangeProposal, ChangeProposalEvent, ChangeStatus, ProposedChange,
};
use domain::message::message;
use serde_json::Value;
use store::operation_log::{Operation, OperationKind};

use crate::access::{self, CONFIGURATION_CHANGES};
use crate::command;
use crate::context::state;
use crate::error::ApiError;
use crate::request::RequestContext;
use crate::schema::FacesignSchema;
use crate::state::AppState;

/// How long a proposal waits for its approval before it lapses.
pub const PROPOSAL_LIFETIME_HOURS: i64 = 72;

/// Marks the run of an approved change: the one request in which a
/// configuration mutation passes four eyes.
#[derive(Debug, Clone)]
pub struct ApprovedChange(pub String);

/// Whether `operation` must go through a proposal for this request.
pub fn needs_four_eyes(ctx_state: Option<&AppState>, approved: bool, operation: &str) -> bool {
    ctx_state.is_some_and(|s| s.config.four_eyes)
        && !approved
        && CONFIGURATION_CHANGES.contains(&operation)
}

/// A proposal as shown.
#[derive(SimpleObject)]
pub struct ChangeProposalView {
    /// Its id.
    pub id: ID,
    /// The configuration mutation it makes, e.g. `Mutation.createChannel`.
    pub operation: String,
    /// The mutation as proposed.
    pub document: String,
    /// Its variables (JSON).
    pub variables: async_graphql::Json<Value>,
    /// Where it stands; `EXPIRED` once it lapsed unapproved.
    pub status: ChangeStatus,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (RFC 3339).
    pub proposed_at: String,
    /// When it lapses unless approved (RFC 3339).
    pub expires_at: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Who withdrew it.
    pub withdrawn_by: Option<String>,
    /// Why the approved change did not take effect.
    pub failure: Option<String>,
}

/// Folds a proposal's events into its view.
fn view(
    id: &str,
    events: &[domain::log::StoredEvent],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<ChangeProposalView> {
    // The aggregate decides where the proposal stands; the events say who
    // did each step and when.
    let mut proposal = ChangeProposal::default();
    let mut proposed_at = None;
    let (mut approved_by, mut withdrawn_by, mut failure) = (None, None, None);
    for event in events {
        let Ok(decoded) = serde_json::from_value::<ChangeProposalEvent>(event.payload.clone())
        else {
            continue;
        };
        match &decoded {
            ChangeProposalEvent::ChangeProposed(_) => {
                proposed_at = Some(event.metadata.recorded_at)
            }
            ChangeProposalEvent::ChangeApproved { approved_by: by } => {
                approved_by = Some(by.clone())
            }
            ChangeProposalEvent::ChangeWithdrawn { withdrawn_by: by } => {
                withdrawn_by = Some(by.clone())
            }
            ChangeProposalEvent::ChangeFailed { detail } => failure = Some(detail.clone()),
            ChangeProposalEvent::ChangeApplied => {}
        }
        proposal.apply(decoded);
    }
    let change = proposal.change()?;
    Some(ChangeProposalView {
        id: ID(id.to_string()),
        operation: change.operation.clone(),
        document: change.document.clone(),
        variables: async_graphql::Json(change.variables.clone()),
        status: proposal.status_at(now),
        proposed_by: change.proposed_by.clone(),
        proposed_at: proposed_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
        expires_at: change.expires_at.to_rfc3339(),
        approved_by,
        withdrawn_by,
        failure,
    })
}

async fn load(state: &AppState, id: &str) -> Result<Option<ChangeProposalView>, ApiError> {
    let events = state
        .log
        .stream(domain::change_proposal::AGGREGATE_TYPE, id)
        .await
        .map_err(ApiError::internal)?;
    Ok(view(id, &events, state.bus.services().clock.now()))
}

/// The longest proposed document, and the most bytes of its variables.
const MAX_PROPOSAL_BYTES: usize = 16 * 1024;

/// The one configuration mutation `document` makes, or why it is not one.
/// The document is bounded as every request is (`query_limits::scan`)
/// before it is parsed: a hostile proposal costs no more than a request.
fn proposed_operation(
    document: &str,
    limits: &crate::query_limits::QueryLimits,
) -> Result<String, ApiError> {
    if document.len() > MAX_PROPOSAL_BYTES {
        let max = MAX_PROPOSAL_BYTES;
        return Err(ApiError::validation(message!(
            "a proposed change is at most {max} bytes"
        )));
    }
    crate::query_limits::scan(document, limits)
        .map_err(|refusal| ApiError::validation(domain::message::Localized::message(&refusal)))?;
    let not_one = || {
        ApiError::validation(message!(
            "a proposal is one mutation of the configuration, with one field"
        ))
    };
    let parsed = async_graphql::parser::parse_query(document)
        .map_err(|_| ApiError::validation(message!("the proposed change is not valid GraphQL")))?;
    let operation = match &parsed.operations {
        DocumentOperations::Single(operation) => &operation.node,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            &operations.values().next().ok_or_else(not_one)?.node
        }
        DocumentOperations::Multiple(_) => return Err(not_one()),
    };
    let fields = &operation.selection_set.node.items;
    let (OperationType::Mutation, [field]) = (operation.ty, fields.as_slice()) else {
        return Err(not_one());
    };
    let Selection::Field(field) = &field.node else {
        return Err(not_one());
    };
    let name = format!("Mutation.{}", field.node.name.node);
    if !CONFIGURATION_CHANGES.contains(&name.as_str()) {
        return Err(ApiError::validation(message!(
            "{name} is not a change of the configuration"
        )));
    }
    Ok(name)
}

/// 操作留痕 of a proposal's step.
fn record(state: &AppState, caller: &RequestContext, step: &str, id: &str, detail: String) {
    let Some(actor) = &caller.actor else {
        return;
    };
    state.operation_log.record(Operation {
        at: state.bus.services().clock.now(),
        kind: OperationKind::ConfigurationChange,
        actor_id: actor.id.clone(),
        actor_role: actor.role.clone(),
        operation: step.to_string(),
        target: format!("change-proposal:{id}"),
        code: None,
        detail: detail.chars().take(500).collect(),
        request_id: caller.request_id.clone(),
    });
}

/// Proposals of configuration changes.
#[derive(Default)]
pub struct ChangeProposalQuery;

#[Object]
impl ChangeProposalQuery {
    /// A proposal.
    async fn change_proposal(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<ChangeProposalView>> {
        Ok(load(state(ctx), &id).await?)
    }

    /// The newest proposals (at most 200), optionally only those of `status`.
    async fn change_proposals(
        &self,
        ctx: &Context<'_>,
        status: Option<ChangeStatus>,
    ) -> Result<Vec<ChangeProposalView>> {
        let state = state(ctx);
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT aggregate_id FROM events WHERE aggregate_type = $1 AND sequence = 1
              ORDER BY global_position DESC LIMIT 200",
        )
        .bind(domain::change_proposal::AGGREGATE_TYPE)
        .fetch_all(state.database.read_models())
        .await
        .map_err(ApiError::from)?;
        let mut views = Vec::new();
        for (id,) in ids {
            if let Some(view) = load(state, &id).await? {
                if status.is_none_or(|s| s == view.status) {
                    views.push(view);
                }
            }
        }
        Ok(views)
    }
}

/// Proposing, approving and withdrawing configuration changes.
#[derive(Default)]
pub struct ChangeProposalMutation;

#[Object]
impl ChangeProposalMutation {
    /// 提议: proposes the configuration mutation `document` (with
    /// `variables`); it takes effect only when a different admin approves it.
    async fn propose_change(
        &self,
        ctx: &Context<'_>,
        document: String,
        variables: Option<async_graphql::Json<Value>>,
    ) -> Result<ChangeProposalView> {
        let state = state(ctx);
        let caller = ctx.data::<RequestContext>()?;
        let actor = caller.command_context()?.actor;
        let operation = proposed_operation(&document, &state.config.query_limits)?;
        let variables = variables
            .map(|v| v.0)
            .unwrap_or(Value::Object(Default::default()));
        if !variables.is_object() || variables.to_string().len() > MAX_PROPOSAL_BYTES {
            let max = MAX_PROPOSAL_BYTES;
            return Err(ApiError::validation(message!(
                "the variables of a proposed change are one object of at most {max} bytes"
            ))
            .into());
        }
        // The proposer may make the change themselves, but for the second pair of eyes.
        let role = domain::role::Role::parse(&actor.role);
        if !role.is_some_and(|role| {
            access::allowed_roles(&operation).is_some_and(|r| r.contains(&role))
        }) {
            let role = actor.role.clone();
            return Err(ApiError::new(
                domain::ErrorCode::Forbidden,
                message!("role {role} may not run {operation}"),
            )
            .into());
        }
        let id = state.bus.services().ids.new_id().to_string();
        let now = state.bus.services().clock.now();
        let change = ProposedChange {
            operation: operation.clone(),
            document,
            variables,
            proposed_by: actor.id.clone(),
            expires_at: now + chrono::Duration::hours(PROPOSAL_LIFETIME_HOURS),
        };
        command::send_unguarded::<ChangeProposal>(ctx, &id, ChangeCommand::Propose(change)).await?;
        record(state, caller, "proposeChange", &id, operation);
        Ok(load(state, &id)
            .await?
            .ok_or_else(|| ApiError::internal("a proposal just stored is missing"))?)
    }

    /// 复核通过: approves proposal `id` and runs its change as its mutation,
    /// as the approver; the outcome is recorded on the proposal.
    async fn approve_change(&self, ctx: &Context<'_>, id: ID) -> Result<ChangeProposalView> {
        let state = state(ctx);
        let caller = ctx.data::<RequestContext>()?;
        let approver = caller.command_context()?.actor;
        let proposal = load(state, &id)
            .await?
            .ok_or_else(|| ApiError::not_found(message!("change proposal not found")))?;
        command::send_unguarded::<ChangeProposal>(
            ctx,
            &id,
            ChangeCommand::Approve {
                approved_by: approver.id.clone(),
            },
        )
        .await?;
        record(
            state,
            caller,
            "approveChange",
            &id,
            proposal.operation.clone(),
        );
        let schema = ctx.data::<FacesignSchema>()?;
        let variables = async_graphql::Variables::from_json(proposal.variables.0.clone());
        let mut context = caller.clone();
        context.approved_change = Some(id.to_string());
        let request = async_graphql::Request::new(proposal.document.clone())
            .variables(variables.clone())
            .data(context)
            .data(crate::access::record::RequestVariables(variables))
            .data(crate::loaders::for_request(state));
        let response = schema.execute(request).await;
        let (applied, detail) = match response.errors.first() {
            None => (true, String::new()),
            Some(error) => {
                let code = error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code"))
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                (
                    false,
                    format!("{}: {}", code.trim_matches('"'), error.message),
                )
            }
        };
        command::send_unguarded::<ChangeProposal>(
            ctx,
            &id,
            ChangeCommand::RecordOutcome {
                applied,
                detail: detail.clone(),
            },
        )
        .await?;
        record(
            state,
            caller,
            if applied {
                "changeApplied"
            } else {
                "changeFailed"
            },
            &id,
            detail,
        );
        Ok(load(state, &id)
            .await?
            .ok_or_else(|| ApiError::internal("an approved proposal is missing"))?)
    }

    /// 撤回: the proposer withdraws proposal `id`.
    async fn withdraw_change(&self, ctx: &Context<'_>, id: ID) -> Result<ChangeProposalView> {
        let state = state(ctx);
        let caller = ctx.data::<RequestContext>()?;
        let actor = caller.command_context()?.actor;
        command::send_unguarded::<ChangeProposal>(
            ctx,
            &id,
            ChangeCommand::Withdraw {
                withdrawn_by: actor.id.clone(),
            },
        )
        .await?;
        record(state, caller, "withdrawChange", &id, String::new());
        Ok(load(state, &id)
            .await?
            .ok_or_else(|| ApiError::not_found(message!("change proposal not found")))?)
    }
}
