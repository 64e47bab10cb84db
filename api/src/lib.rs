//! HTTP surface of facesign: the GraphQL API at `/graphql`, `/healthz`, `/readyz`
//! and `/metrics`. The schema lives here so the binary, the tests and
//! `facesign schema` all see the same one.

mod error;
mod health;
mod request;
pub mod schema;
mod state;

use axum::routing::get;
use axum::Router;

pub use error::ApiError;
pub use request::RequestContext;
pub use schema::{build_schema, FacesignSchema};
pub use state::{ApiConfig, AppState};

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    Router::new()
        .route(
            "/graphql",
            get(schema::graphiql).post(schema::graphql_handler),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state((state, schema))
}
