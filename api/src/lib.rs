//! HTTP surface of facesign: the GraphQL API at `/graphql`, the browser console
//! at `/console`, `/healthz`, `/readyz` and `/metrics`. The schema lives here so
//! the binary, the tests and `facesign schema` all see the same one.

// The merged query root nests one future per part: past the default limit.
#![recursion_limit = "256"]

pub mod access;
pub mod accounts;
mod audit;
pub mod auth;
mod bank_calendar;
mod catalog;
mod change_feeds;
pub mod change_proposals;
mod channels;
mod command;
mod consistency;
mod console;
mod context;
mod dispatch;
pub mod doors;
mod error;
mod health;
pub mod idempotency;
pub mod identity;
mod interview_task;
mod limits;
mod loaders;
mod loan_operations;
mod loan_servicing;
mod loans;
mod log_page;
mod manual_cases;
pub mod messages;
mod parked;
mod partner_api;
mod partners;
mod quality;
pub mod query_limits;
mod request;
pub mod schema;
mod seats;
mod session;
mod session_record;
pub mod sign_in;
mod sms_reports;
pub mod sockets;
mod state;
mod tasks;
mod text_input;
mod work_orders;

use std::net::SocketAddr;

use async_graphql::http::WebSocketProtocols;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::TraceLayer;

const ALL_WEBSOCKET_PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

/// The read and write buffers a socket starts with.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Room for variables in a socket's message beyond the document cap (a
/// buffer grown for one message never pins more than the two per socket).
const SOCKET_VARIABLES_BYTES: usize = 64 * 1024;

pub use error::ApiError;
pub use limits::ANONYMOUS_BODY_BYTES;
pub use request::RequestContext;
pub use schema::{build_schema, FacesignSchema};
pub use state::{ApiConfig, AppState};

/// An optional text argument, trimmed; None when absent or blank.
pub(crate) fn given_text(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The stored text form of an instant (fixed width, so it sorts as it compares).
pub(crate) use domain::log::rfc3339;

/// Today in Asia/Shanghai by the engine's clock: the day of every ledger figure.
pub(crate) fn shanghai_today(state: &AppState) -> chrono::NaiveDate {
    domain::schedule::shanghai_date(state.bus.services().clock.now())
}

/// The whole HTTP application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: rate limiting keys
/// anonymous clients by their address.
pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    // The socket's operations count against the same limit, one by one (crate::sockets).
    let graphql = Router::new()
        .route(
            "/graphql",
            get(schema::graphiql).post(schema::graphql_handler),
        )
        .route("/graphql/ws", get(subscriptions))
        // The console's sign-in: anonymous until the provider answers, so
        // held to the per-address rate like any caller without a token.
        .merge(sign_in::routes())
        .layer(middleware::from_fn_with_state(
            state.config.body_limit_bytes,
            limits::body_limit,
        ))
        // Outside the body limit: a request over its rate is refused before
        // its body is read.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ));
    let partner = Router::new()
        .route(
            "/partner/v1/{operation}",
            axum::routing::post(partner_api::partner_request),
        )
        .layer(middleware::from_fn_with_state(
            state.config.body_limit_bytes,
            limits::body_limit,
        ))
        // Outside the body limit: rate and operation before the body is read.
        .layer(middleware::from_fn_with_state(
            (state.clone(), schema.clone()),
            partner_api::door,
        ));
    let deadline = limits::Deadline {
        after: state.config.request_deadline,
        metrics: state.metrics.clone(),
        stopping: state.stopping.clone(),
    };
    Router::new()
        .merge(graphql)
        .merge(partner)
        .merge(console::routes())
        .route(
            "/sms/reports",
            axum::routing::post(sms_reports::delivery_report)
                .layer(middleware::from_fn_with_state(
                    state.config.body_limit_bytes,
                    limits::body_limit,
                ))
                .layer(middleware::from_fn_with_state(
                    (state.clone(), schema.clone()),
                    sms_reports::door,
                )),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/log/public-key", get(health::log_public_key))
        .layer(middleware::from_fn_with_state(deadline, limits::deadline))
        // Inside compression: it rewrites plain JSON error bodies.
        .layer(middleware::from_fn(messages::content_language))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
            axum::http::header::COOKIE,
            axum::http::HeaderName::from_static("x-sign"),
            axum::http::HeaderName::from_static(sign_in::CSRF_HEADER),
        ]))
        .layer(SetSensitiveResponseHeadersLayer::new([
            axum::http::header::SET_COOKIE,
        ]))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Outermost: oversized headers are refused before anything reads them.
        .layer(middleware::from_fn(limits::header_limits))
        .with_state((state, schema))
}

/// One span per request, named by method and path (never the query string,
/// which may carry a GraphQL document) and the request id every log line of
/// the request carries; marked-sensitive headers are not recorded.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    // A caller's W3C trace continues here; the trace id goes into the logs.
    let traceparent = request
        .headers()
        .get(store::trace::TRACEPARENT)
        .and_then(|v| v.to_str().ok());
    store::trace::continue_trace(&span, traceparent);
    if let Some(trace_id) = store::trace::trace_id(&span) {
        span.record("trace_id", trace_id);
    }
    span
}

/// GraphQL over WebSocket (`crate::sockets`). The bearer token comes in the
/// `connection_init` payload (`{"authorization": "Bearer …"}`), or in the upgrade
/// request's header; the language of error messages likewise (`acceptLanguage`,
/// or `Accept-Language`). Over the per-address, total or not-yet-authenticated
/// socket cap the upgrade is refused (429).
async fn subscriptions(
    State((state, schema)): State<(AppState, FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    // Refuses (400) an upgrade that offers no GraphQL protocol.
    _offered: async_graphql_axum::GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(opened) = state
        .doors
        .sockets
        .open(doors::address_key(peer.ip()), &state.config.sockets)
    else {
        state.metrics.increment(
            "facesign_websockets_refused_total",
            "WebSocket upgrades refused: over the per-address, total or not-yet-authenticated cap.",
            store::metrics::labels(&[]),
            1,
        );
        return limits::too_many_requests(messages::Language::of(&headers));
    };
    let schema = schema::BoundedSchema::new(
        schema,
        state.config.query_limits,
        messages::Language::of(&headers),
        state.doors.clone(),
        state.config.request_deadline,
    );
    // Any operation the document cap admits fits, with room for its variables.
    let message_cap = (state.config.query_limits.max_document_bytes + SOCKET_VARIABLES_BYTES)
        .min(state.config.body_limit_bytes);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(message_cap)
        .max_frame_size(message_cap)
        // tungstenite's 128 KiB buffers per socket would make an idle socket
        // cost more than its subscriptions; they grow as a message needs.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            // The protocol the upgrade agreed on, not the client's first offer.
            let protocol = socket
                .protocol()
                .and_then(|p| p.to_str().ok())
                .and_then(|p| p.parse::<WebSocketProtocols>().ok())
                .unwrap_or(WebSocketProtocols::GraphQLWS);
            sockets::serve(socket, protocol, schema, state, headers, opened)
        })
}
