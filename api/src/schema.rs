//! The GraphQL schema: queries read projections, mutations send commands and
//! wait (bounded) until the projection reflects them.

use async_graphql::http::GraphiQLSource;
use async_graphql::{Context, MergedObject, MergedSubscription, Schema};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};

use crate::access::AccessControl;
use crate::audit::AuditQuery;
use crate::catalog::{CatalogMutation, CatalogQuery};
use crate::channels::{ChannelMutation, ChannelQuery};
use crate::dispatch::{DispatchMutation, DispatchQuery, DispatchSubscription};
use crate::loans::{LoanMutation, LoanQuery};
use crate::partners::{PartnerMutation, PartnerQuery};
use crate::quality::{QualityMutation, QualityQuery};
use crate::request::RequestContext;
use crate::seats::{SeatMutation, SeatQuery};
use crate::session::SessionMutation;
use crate::state::AppState;
use crate::tasks::{TaskMutation, TaskQuery, TaskSubscription};
use crate::work_orders::{WorkOrderMutation, WorkOrderQuery};

/// Every query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    TaskQuery,
    SeatQuery,
    QualityQuery,
    LoanQuery,
    ChannelQuery,
    DispatchQuery,
    CatalogQuery,
    WorkOrderQuery,
    PartnerQuery,
    AuditQuery,
);

/// Every mutation: one per command.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    TaskMutation,
    SessionMutation,
    QualityMutation,
    LoanMutation,
    SeatMutation,
    ChannelMutation,
    DispatchMutation,
    CatalogMutation,
    WorkOrderMutation,
    PartnerMutation,
);

/// Every subscription (WebSocket at `/graphql/ws`).
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(TaskSubscription, DispatchSubscription);

/// The facesign schema type.
pub type FacesignSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with its limits; the state is reachable from every resolver.
pub fn build_schema(state: AppState) -> FacesignSchema {
    let introspection = state.config.introspection;
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(state)
    .extension(AccessControl)
    .limit_depth(12)
    .limit_complexity(2_000)
    .limit_recursive_depth(32);
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema in SDL, as written to `docs/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

/// POST /graphql.
pub async fn graphql_handler(
    State((state, schema)): State<(AppState, FacesignSchema)>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let context =
        RequestContext::from_headers(&headers, &state.keys, state.bus.services().ids.as_ref())
            .check_account(state.database.read_models())
            .await;
    schema
        .execute(request.into_inner().data(context))
        .await
        .into()
}

/// GET /graphql: the GraphiQL IDE.
pub async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}
