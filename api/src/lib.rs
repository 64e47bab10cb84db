//! HTTP surface of facesign: the GraphQL API at `/graphql`, `/healthz`, `/readyz`
//! and `/metrics`. The schema lives here so the binary, the tests and
//! `facesign schema` all see the same one.

mod error;
mod health;
mod request;
pub mod schema;
mod seats;
mod state;
mod tasks;

use async_graphql_axum::GraphQLSubscription;
use axum::routing::get;
use axum::Router;

pub use error::ApiError;
pub use request::RequestContext;
pub use schema::{build_schema, FacesignSchema};
pub use state::{ApiConfig, AppState};

/// The stored text form of an instant (fixed width, so it sorts as it compares).
pub(crate) fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    Router::new()
        .route(
            "/graphql",
            get(schema::graphiql).post(schema::graphql_handler),
        )
        .route_service("/graphql/ws", GraphQLSubscription::new(schema.clone()))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state((state, schema))
}
