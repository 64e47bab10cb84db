//! The one path of a command from the API to its aggregate: the caller's
//! command context (actor, request, correlation and idempotency key), the
//! ownership guard on the aggregate as loaded, the bus, the error mapping and
//! one wait policy before the answer is read back.

use adapters::command_bus::Guard;
use adapters::{CommandContext, CommandReceipt};
use async_graphql::Context;
use cqrs_es::Aggregate;
use domain::error::DomainError;
use domain::reservation::Reservations;
use domain::services::DomainServices;

use crate::context::{request, state};
use crate::error::ApiError;
use crate::state::AppState;

/// A command the bus accepted.
pub(crate) struct Sent {
    /// What the bus wrote (event ids, log position; none for a no-op).
    pub receipt: CommandReceipt,
    /// Whether the read models showed it, and what it set going, in time.
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
    let context = request(ctx).command_context()?;
    send_as::<A>(state(ctx), id, command, &context, guard).await
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
    let receipt = state
        .bus
        .execute_guarded::<A>(id, command, context, guard)
        .await?;
    let projected = settle(state, &receipt).await;
    Ok(Sent { receipt, projected })
}

/// The wait policy of every mutation: a command that wrote events answers once
/// the flows it set going have run (a QC decision rolls a loan back, which
/// supersedes the task and creates its successor) and every awaited read
/// model reflects it all, bounded by the read-your-writes timeout; a no-op
/// (a retried step already taken) waits for nothing.
pub(crate) async fn settle(state: &AppState, receipt: &CommandReceipt) -> bool {
    match receipt.position {
        Some(_) => state.settle().await,
        None => true,
    }
}
