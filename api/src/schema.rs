//! The GraphQL schema: queries read projections, mutations send commands and
//! wait (bounded) until the projection reflects them.

use std::sync::Arc;

use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::http::GraphiQLSource;
use async_graphql::{futures_util, Data, Executor, MergedObject, MergedSubscription, Schema};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use domain::error::ErrorCode;

use crate::access::AccessControl;
use crate::audit::AuditQuery;
use crate::bank_calendar::{BankCalendarMutation, BankCalendarQuery};
use crate::catalog::{CatalogMutation, CatalogQuery};
use crate::channels::{ChannelMutation, ChannelQuery};
use crate::dispatch::{DispatchMutation, DispatchQuery, DispatchSubscription};
use crate::doors::Doors;
use crate::error::ApiError;
use crate::loan_operations::{
    ContractDownloadMutation, ContractDownloadQuery, LoanOperationsQuery,
};
use crate::loan_servicing::{LoanServicingMutation, LoanServicingQuery};
use crate::loans::{LoanMutation, LoanQuery};
use crate::manual_cases::{ManualCaseMutation, ManualCaseQuery};
use crate::messages::{localize_response, Language};
use crate::parked::ParkedQuery;
use crate::partners::{PartnerMutation, PartnerQuery};
use crate::quality::{QualityMutation, QualityQuery};
use crate::query_limits::{QueryLimits, Refusal};
use crate::request::RequestContext;
use crate::seats::{SeatMutation, SeatQuery};
use crate::session::{SessionMutation, SessionQuery};
use crate::sockets::SocketSession;
use crate::state::AppState;
use crate::tasks::{TaskMutation, TaskQuery, TaskSubscription};
use crate::work_orders::{WorkOrderMutation, WorkOrderQuery};
use domain::message::{message, Localized, Message};

/// Every query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    TaskQuery,
    SeatQuery,
    QualityQuery,
    LoanQuery,
    LoanServicingQuery,
    ChannelQuery,
    DispatchQuery,
    CatalogQuery,
    WorkOrderQuery,
    PartnerQuery,
    AuditQuery,
    SessionQuery,
    BankCalendarQuery,
    ManualCaseQuery,
    LoanOperationsQuery,
    ContractDownloadQuery,
    ParkedQuery,
    crate::change_proposals::ChangeProposalQuery,
);

/// Every mutation: one per command.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    TaskMutation,
    SessionMutation,
    QualityMutation,
    LoanMutation,
    LoanServicingMutation,
    SeatMutation,
    ChannelMutation,
    DispatchMutation,
    CatalogMutation,
    WorkOrderMutation,
    PartnerMutation,
    BankCalendarMutation,
    ManualCaseMutation,
    ContractDownloadMutation,
    crate::change_proposals::ChangeProposalMutation,
);

/// Every subscription (WebSocket at `/graphql/ws`).
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(TaskSubscription, DispatchSubscription);

/// The facesign schema type.
pub type FacesignSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with its limits; the state is reachable from every resolver.
/// (Requests reach it only through [`QueryLimits::admit`], which bounds them first.)
pub fn build_schema(state: AppState) -> FacesignSchema {
    let introspection = state.config.introspection;
    let limits = state.config.query_limits;
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(state)
    .extension(AccessControl)
    .extension(crate::query_limits::ValidationErrorCap)
    // "Did you mean" compares each unknown name with every field of its type:
    // CPU an anonymous caller could spend at will, for no legitimate client's benefit.
    .disable_suggestions()
    .limit_depth(limits.max_depth)
    .limit_complexity(2_000)
    .limit_recursive_depth(limits.max_depth)
    .limit_directives(limits.max_directives);
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

/// POST /graphql: the caller read once by the rate limit in front, the
/// document scanned against the caps, then parsed and checked, then executed.
pub async fn graphql_handler(
    State((state, schema)): State<(AppState, FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    read: Option<axum::Extension<RequestContext>>,
    request: GraphQLRequest,
) -> Response {
    let mut request = request.into_inner();
    let language = Language::of(&headers);
    let limits = &state.config.query_limits;
    if let Err(refusal) = limits.scan_request(&request) {
        return refused(&refusal, language).into_response();
    }
    let key = match crate::idempotency::key_of(&headers) {
        Ok(key) => key,
        Err(malformed) => return malformed.into_response(),
    };
    let after = match crate::consistency::sent(&headers) {
        Ok(after) => after,
        Err(error) => return bad_request(&error.text(language), None).into_response(),
    };
    // Every operation but `__typename` needs a role. A caller without a valid
    // token is answered after the linear scan above: its document is parsed
    // only when it is short enough to be that one question, so what an
    // anonymous request can cost ends there (issue 31).
    // Read by the rate limit in front of this handler; built here only when
    // the handler runs without it.
    let context = match read {
        Some(axum::Extension(context)) => context,
        None => RequestContext::from_headers(&headers, &state).await,
    }
    .check_account(&state.accounts, state.database.read_models())
    .await;
    if context.actor.is_none() && request.query.len() > ANONYMOUS_DOCUMENT_BYTES {
        return unauthenticated(&state, &refusal_reason(&context), language, peer.ip());
    }
    let admitted = match limits.admit_scanned(&mut request) {
        Ok(admitted) => admitted,
        Err(refusal) => return refused(&refusal, language).into_response(),
    };
    if context.actor.is_none() && !admitted.open_to_anyone {
        return unauthenticated(&state, &refusal_reason(&context), language, peer.ip());
    }
    // Read your own writes made through any instance: wait, bounded, until
    // the read models reflect what the token names.
    let caught_up = match after {
        Some(position) => state.read_models_reach(position).await,
        None => true,
    };
    let reached = context.reached.clone();
    let variables = crate::access::record::RequestVariables(request.variables.clone());
    // The schema itself, for an approved change to run its mutation.
    let request = request
        .data(variables)
        .data(crate::loaders::for_request(&state))
        .data(schema.clone());
    let mut response = match key {
        // Queries are safe to repeat: a key on one is ignored.
        Some(key) if admitted.is_mutation => {
            crate::idempotency::execute(&state, &schema, request, context, key, language).await
        }
        _ => {
            let mut response =
                localize_response(schema.execute(request.data(context)).await, language);
            if let Some(position) = *reached.lock().unwrap_or_else(|e| e.into_inner()) {
                response.extensions.insert(
                    "consistencyToken".into(),
                    async_graphql::Value::from(crate::consistency::token(position)),
                );
            }
            if !caught_up {
                response
                    .extensions
                    .insert("projected".into(), async_graphql::Value::from(false));
            }
            GraphQLResponse::from(response).into_response()
        }
    };
    if let Some(position) = *reached.lock().unwrap_or_else(|e| e.into_inner()) {
        response.headers_mut().insert(
            crate::consistency::HEADER,
            crate::consistency::header_value(position),
        );
    }
    response
}

/// Why a request without an accepted token is refused.
fn refusal_reason(context: &RequestContext) -> Message {
    context
        .auth_error
        .clone()
        .unwrap_or_else(|| message!("a bearer token is required"))
}

/// The longest document a caller without a token has parsed: enough for
/// `{ __typename }` and any spelling of it, far short of a costly document.
const ANONYMOUS_DOCUMENT_BYTES: usize = 256;

/// UNAUTHENTICATED in the GraphQL shape (HTTP 200, as a resolver's refusal
/// would be), saying why a token that was sent was refused; counted in the
/// operation log's unverified tallies.
pub(crate) fn unauthenticated(
    state: &AppState,
    message: &Message,
    language: Language,
    address: std::net::IpAddr,
) -> Response {
    let code = ErrorCode::Unauthenticated;
    let english = message.to_string();
    crate::access::record::unverified(state, "graphql", "", code.as_str(), &english, Some(address));
    let mut body = crate::error::refusal_body(code, message, language);
    body["data"] = serde_json::Value::Null;
    Json(body).into_response()
}

/// 400 with `VALIDATION`, naming the limit a request broke.
fn refused(refusal: &Refusal, language: Language) -> (StatusCode, Json<serde_json::Value>) {
    bad_request(
        &crate::messages::render(&refusal.message(), language),
        refusal.limit().map(|limit| limit.name()),
    )
}

/// 400 with `VALIDATION` and `message`, naming `limit` when one was broken.
fn bad_request(message: &str, limit: Option<&str>) -> (StatusCode, Json<serde_json::Value>) {
    let mut extensions = serde_json::json!({ "code": ErrorCode::Validation.as_str() });
    if let Some(limit) = limit {
        extensions["limit"] = limit.into();
    }
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({
            "data": null,
            "errors": [{ "message": message, "extensions": extensions }]
        })),
    )
}

/// The refusal as a GraphQL response (for WebSocket operations).
fn refused_response(refusal: &Refusal) -> async_graphql::Response {
    let mut response = error_response(ErrorCode::Validation, refusal.message());
    if let (Some(limit), Some(error)) = (refusal.limit(), response.errors.first_mut()) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("limit", limit.name());
    }
    response
}

/// The schema behind the WebSocket endpoint: every operation a client sends on
/// the socket is bounded by the same limits before the schema sees it.
#[derive(Clone)]
pub struct BoundedSchema {
    schema: FacesignSchema,
    limits: QueryLimits,
    language: Language,
    doors: Arc<Doors>,
    deadline: std::time::Duration,
}

impl BoundedSchema {
    /// `schema` behind `limits` and the doors' rate limit, answering errors in
    /// `language` unless the socket's `connection_init` names another; a
    /// query or mutation runs at most `deadline`.
    pub fn new(
        schema: FacesignSchema,
        limits: QueryLimits,
        language: Language,
        doors: Arc<Doors>,
        deadline: std::time::Duration,
    ) -> Self {
        Self {
            schema,
            limits,
            language,
            doors,
            deadline,
        }
    }
}

impl Executor for BoundedSchema {
    async fn execute(&self, mut request: async_graphql::Request) -> async_graphql::Response {
        let response = match self.limits.admit(&mut request) {
            Ok(_) => {
                let variables = crate::access::record::RequestVariables(request.variables.clone());
                let request = request.data(variables).data(self.schema.clone());
                self.schema.execute(request).await
            }
            Err(refusal) => refused_response(&refusal),
        };
        localize_response(response, self.language)
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        // The socket's language: its connection_init's, else the upgrade request's.
        let language = session_data
            .as_ref()
            .and_then(|data| data.get(&std::any::TypeId::of::<Language>()))
            .and_then(|value| value.downcast_ref::<Language>().copied())
            .unwrap_or(self.language);
        // Every operation on a socket counts against the caller's rate limit
        // and takes one of the socket's places until its stream ends.
        let session = session_data
            .as_ref()
            .and_then(|data| data.get(&std::any::TypeId::of::<SocketSession>()))
            .and_then(|value| value.downcast_ref::<SocketSession>());
        let running = match session.map(|session| session.admit(&self.doors)) {
            Some(Ok(running)) => running,
            Some(Err(error)) => {
                return single(error_response(error.code, error.message), language);
            }
            None => {
                return single(
                    error_response(
                        ErrorCode::Unauthenticated,
                        message!("a bearer token is required"),
                    ),
                    language,
                );
            }
        };
        let responses = match self.limits.admit(&mut request) {
            Ok(admitted) => {
                let variables = crate::access::record::RequestVariables(request.variables.clone());
                let responses = self.schema.execute_stream_with_session_data(
                    request.data(variables).data(self.schema.clone()),
                    session_data.unwrap_or_default(),
                );
                if admitted.is_subscription {
                    responses
                } else {
                    within_deadline(responses, self.deadline)
                }
            }
            Err(refusal) => {
                futures_util::stream::once(std::future::ready(refused_response(&refusal))).boxed()
            }
        };
        responses
            .map(move |response| {
                // Held as long as the operation's stream lives.
                let _place = &running;
                localize_response(response, language)
            })
            .boxed()
    }
}

/// A query or mutation sent over a socket answers within the request
/// deadline, as over HTTP, or is cancelled and answered `TIMEOUT`.
fn within_deadline(
    responses: BoxStream<'static, async_graphql::Response>,
    deadline: std::time::Duration,
) -> BoxStream<'static, async_graphql::Response> {
    futures_util::stream::once(async move {
        match tokio::time::timeout(deadline, responses.into_future()).await {
            Ok((Some(response), _)) => response,
            Ok((None, _)) => async_graphql::Response::default(),
            Err(_) => error_response(
                ErrorCode::Timeout,
                crate::limits::deadline_message(deadline),
            ),
        }
    })
    .boxed()
}

/// One answer, then the end of the operation.
fn single(
    response: async_graphql::Response,
    language: Language,
) -> BoxStream<'static, async_graphql::Response> {
    futures_util::stream::once(std::future::ready(localize_response(response, language))).boxed()
}

/// A GraphQL answer of one error with `code`.
fn error_response(code: ErrorCode, message: Message) -> async_graphql::Response {
    let error = async_graphql::Error::from(ApiError::new(code, message));
    async_graphql::Response::from_errors(vec![
        error.into_server_error(async_graphql::Pos::default())
    ])
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
