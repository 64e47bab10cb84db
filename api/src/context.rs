//! Typed access to what every resolver reads from the GraphQL context: the
//! application state and the caller's request. Resolver modules import these,
//! never each other.

use async_graphql::Context;

use crate::request::RequestContext;
use crate::state::AppState;

/// The application state.
pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The caller's request: identity, request and correlation ids, idempotency key.
pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}

/// The caller's role, for masking; None when unauthenticated.
pub(crate) fn viewer(ctx: &Context<'_>) -> Option<domain::role::Role> {
    ctx.data_opt::<RequestContext>()
        .and_then(RequestContext::role)
}
