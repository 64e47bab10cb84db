//! The one path of a command from the API to its aggregate: the caller's
//! command context (actor, request, correlation and idempotency key), the
//! ownership guard on the aggregate as loaded, the bus, the error mapping and
//! one wait policy before the answer is read back.

use async_graphql::Context;
use cqrs_es::Aggregate;
use domain::error::DomainError;
use domain::log::LogPosition;
use domain::reservation::Reservations;
use domain::services::DomainServices;
use store::command_bus::Guard;
use store::{CommandContext, CommandReceipt};

use crate::context::{request, state};
use crate::error::ApiError;
use crate::state::AppState;

/// A command the bus accepted.
pub(crate) struct Sent {
    /// What the bus wrote (event ids, log position; none for a no-op).
    pub receipt: CommandReceipt,
    /// Whether the read models showed it, and what it set going, in time.
    pub projected: bool,
    /// The last event of the request the wait followed (none for a no-op).
    pub reached: Option<LogPosition>,
}

/// How far a command's effects were followed, and whether all is reflected.
pub(crate) struct Settled {
    /// The last event of the request the wait followed (none for a no-op).
    pub reached: Option<LogPosition>,
    /// Whether every awaited read model reflects it.
    pub projected: bool,
}

/// Sends `command` to aggregate `id` as the caller of `ctx`, refused unless
/// `guard` accepts the aggregate as loaded, and waits as [`settle`] says.
pub(crate) async fn send<A>(
    ctx: &Context<'_>,
    id: &str,
    command: A::Command,
    guard: Guard<'_, A>,
) -> Result<Sent, ApiError>
where
    A: Aggregate<Services = DomainServices> + Reservations,
    A::Command: Clone,
    A::Error: DomainError,
{
    let caller = request(ctx);
    let sent = send_as::<A>(state(ctx), id, command, &caller.command_context()?, guard).await?;
    if let Some(reached) = sent.reached {
        caller.reach(reached);
    }
    Ok(sent)
}

/// [`send`] for an aggregate that has no ownership rule beyond the role's.
pub(crate) async fn send_unguarded<A>(
    ctx: &Context<'_>,
    id: &str,
    command: A::Command,
) -> Result<Sent, ApiError>
where
    A: Aggregate<Services = DomainServices> + Reservations,
    A::Command: Clone,
    A::Error: DomainError,
{
    send::<A>(ctx, id, command, &|_| Ok(())).await
}

/// [`send`] under a context built by the caller (the partner gateway, which
/// has no GraphQL context).
pub(crate) async fn send_as<A>(
    state: &AppState,
    id: &str,
    command: A::Command,
    context: &CommandContext,
    guard: Guard<'_, A>,
) -> Result<Sent, ApiError>
where
    A: Aggregate<Services = DomainServices> + Reservations,
    A::Command: Clone,
    A::Error: DomainError,
{
    let receipt = match state
        .bus
        .execute_guarded::<A>(id, command, context, guard)
        .await
    {
        Ok(receipt) => receipt,
        Err(store::CommandError::Taken { what, key, holder }) => {
            return Err(taken(state, context, what, &key, &holder).await)
        }
        Err(other) => return Err(other.into()),
    };
    let settled = settle(state, &receipt, &context.correlation_id).await;
    Ok(Sent {
        receipt,
        projected: settled.projected,
        reached: settled.reached,
    })
}

/// CONFLICT for a business key another aggregate holds (001: one open
/// interview task per contract). The holder's id is named only to a caller
/// who may read it: an account manager learns another manager's task id from
/// nothing (issue 31), only that the contract is taken.
async fn taken(
    state: &AppState,
    context: &CommandContext,
    what: &'static str,
    key: &str,
    holder: &str,
) -> ApiError {
    let readable = match domain::role::Role::parse(&context.actor.role) {
        Some(role) => match projections::TaskBoard::get(state.database.read_models(), holder).await
        {
            Ok(Some(row)) => {
                let caller = crate::access::ownership::Caller {
                    role,
                    id: &context.actor.id,
                };
                let facts = crate::access::ownership::TaskFacts::of_row(&row, Vec::new());
                crate::access::ownership::task(
                    caller,
                    &facts,
                    crate::access::ownership::Intent::Read,
                )
                .is_ok()
            }
            _ => false,
        },
        None => false,
    };
    let error = store::CommandError::<std::convert::Infallible>::Taken {
        what,
        key: key.to_string(),
        holder: holder.to_string(),
    };
    let message = if readable {
        domain::message::Localized::message(&error)
    } else {
        domain::message::message!("{key} already has {what}")
    };
    ApiError::new(domain::ErrorCode::Conflict, message)
}

/// The wait policy of every mutation: a command that wrote events answers once
/// what it caused has run — the flows that react to its events and to the
/// commands they sent in turn (a QC decision rolls a loan back, which
/// supersedes the task and creates its successor) — and every awaited read
/// model reflects it, bounded by the read-your-writes timeout. It waits for
/// nothing else: not for other requests' work, not for the log's head. A no-op
/// (a retried step already taken) waits for nothing.
pub(crate) async fn settle(
    state: &AppState,
    receipt: &CommandReceipt,
    correlation_id: &str,
) -> Settled {
    match receipt.position {
        Some(position) => {
            let (reached, projected) = state.settle_after(position, correlation_id).await;
            Settled {
                reached: Some(reached),
                projected,
            }
        }
        None => Settled {
            reached: None,
            projected: true,
        },
    }
}
