//! `Idempotency-Key` on GraphQL mutations: the same key from the same caller
//! returns the first outcome without running any command again, across
//! restarts and instances, for the retention period (docs/security.md).
//!
//! The key is claimed before the mutation runs; the answer is stored when it is
//! final. An answer that is not final — an `INTERNAL` error, a `TIMEOUT`, a
//! cancelled request, a crash — leaves the key unanswered, and a retry runs
//! the request again: commands its first attempt committed are handed back
//! from their receipts (`store::idempotency`), the rest run.

use std::sync::Arc;

use async_graphql::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::error::ErrorCode;
use domain::services::Clock;
use sha2::{Digest, Sha256};
use store::idempotency::{Claim, IdempotencyStore, IdempotentRequest};

use crate::error::refusal_body;
use crate::messages::{localize_response, Language};
use crate::request::RequestContext;
use crate::schema::FacesignSchema;
use crate::state::AppState;
use domain::message::{message, Message};

/// The request header that carries the key.
pub const HEADER: &str = "idempotency-key";

/// The response header set on an answer replayed from an earlier request.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// An `Idempotency-Key` that is not 1 to 255 visible ASCII characters.
#[derive(Debug)]
pub struct MalformedKey(Language);

impl IntoResponse for MalformedKey {
    fn into_response(self) -> Response {
        refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::Validation,
            &message!("Idempotency-Key must be 1 to 255 visible ASCII characters"),
            self.0,
        )
    }
}

/// The key sent, if any.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, MalformedKey> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_string()))
        }
        _ => Err(MalformedKey(Language::of(headers))),
    }
}

fn refuse(status: StatusCode, code: ErrorCode, message: &Message, language: Language) -> Response {
    (status, Json(refusal_body(code, message, language))).into_response()
}

/// What the key stands for: the operation, its name and its variables.
fn request_hash(request: &Request) -> String {
    let described = serde_json::json!({
        "query": request.query,
        "operationName": request.operation_name,
        "variables": request.variables,
    });
    Sha256::digest(described.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lets the key go when the request is dropped before it answered (its
/// deadline, a stopping server), so the client's retry need not wait for the lock.
struct ReleaseOnDrop {
    store: IdempotencyStore,
    request: Arc<IdempotentRequest>,
    clock: Arc<dyn Clock>,
    armed: bool,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, request, now) = (self.store.clone(), self.request.clone(), self.clock.now());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.release(&request, now).await {
                    tracing::warn!(error = %e, "cannot release an idempotency key; it lapses with its lock");
                }
            });
        }
    }
}

/// Whether an answer may be replayed as it is: it holds no failure of ours
/// (`INTERNAL`, `TIMEOUT`), after which a retry must be allowed to run.
fn is_final(response: &async_graphql::Response) -> bool {
    !response.errors.iter().any(|error| {
        matches!(
            error.extensions.as_ref().and_then(|e| e.get("code")),
            Some(async_graphql::Value::String(code)) if code == ErrorCode::Internal.as_str() || code == ErrorCode::Timeout.as_str()
        )
    })
}

/// Runs a mutation sent with `key` by the authenticated `context`, at most once.
pub async fn execute(
    state: &AppState,
    schema: &FacesignSchema,
    request: Request,
    mut context: RequestContext,
    key: String,
    language: Language,
) -> Response {
    let Some(actor) = context.actor.clone() else {
        // Unauthenticated: the schema answers UNAUTHENTICATED; nothing to key.
        return async_graphql_axum::GraphQLResponse::from(localize_response(
            schema.execute(request.data(context)).await,
            language,
        ))
        .into_response();
    };
    let keyed = Arc::new(IdempotentRequest::new(&actor.id, &actor.role, &key));
    let clock = state.bus.services().clock.clone();
    let now = clock.now();
    let held_until = now
        + chrono::Duration::from_std(state.config.request_deadline).unwrap_or_default()
        + chrono::Duration::seconds(1);
    let claim = state
        .idempotency
        .claim(&keyed, &request_hash(&request), now, held_until)
        .await;
    match claim {
        Err(e) => {
            let error = crate::ApiError::internal(e);
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                error.code,
                &error.message,
                language,
            )
        }
        Ok(Claim::Answered { status, body }) => {
            let mut response = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Mismatch) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Validation,
            &message!("this Idempotency-Key was used with a different request; use a new key for a new request"),
            language,
        ),
        Ok(Claim::InFlight) => {
            let mut response = refuse(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                &message!("a request with this Idempotency-Key is still running; retry once it has answered"),
                language,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Ok(Claim::Granted) => {
            let mut guard = ReleaseOnDrop {
                store: state.idempotency.clone(),
                request: keyed.clone(),
                clock: clock.clone(),
                armed: true,
            };
            context.idempotency = Some(keyed.clone());
            // Stored as answered: a retry is answered in the first attempt's language.
            let response = localize_response(schema.execute(request.data(context)).await, language);
            let stored = if is_final(&response) {
                match serde_json::to_string(&response) {
                    Ok(body) => state
                        .idempotency
                        .answer(&keyed, StatusCode::OK.as_u16(), &body, clock.now())
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            } else {
                state
                    .idempotency
                    .release(&keyed, clock.now())
                    .await
                    .map_err(|e| e.to_string())
            };
            if let Err(e) = stored {
                // The answer still goes out; the key lapses with its lock and a
                // retry replays the committed commands.
                tracing::warn!(error = %e, "cannot record the outcome of an idempotency key");
            }
            guard.armed = false;
            async_graphql_axum::GraphQLResponse::from(response).into_response()
        }
    }
}
