//! HTTP-level bounds of every request: header and URI size, a deadline, body
//! size, and per-client rate limiting (`governor`, keyed by token subject, else by IP).

use std::net::SocketAddr;

use async_graphql::futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::refusal_body;
use crate::messages::Language;
use crate::state::AppState;
use domain::error::ErrorCode;
use domain::message::{message, Message};

/// Per-client rate limits (GCRA from `governor`, keyed by client).
pub struct RateLimiter {
    limiter: governor::DefaultKeyedRateLimiter<String>,
}

/// Clients remembered before idle ones are forgotten.
const REMEMBERED_CLIENTS: usize = 100_000;

impl RateLimiter {
    /// A limiter allowing `per_second` sustained and `burst` extra requests.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let nonzero = |n: u32| std::num::NonZeroU32::new(n.max(1)).expect("at least 1");
        let quota = governor::Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst));
        Self {
            limiter: governor::RateLimiter::keyed(quota),
        }
    }

    /// Takes one request from `client`'s allowance; false when it is spent.
    pub fn allow(&self, client: &str) -> bool {
        if self.limiter.len() > REMEMBERED_CLIENTS {
            // Forget clients whose allowance has refilled completely.
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&client.to_string()).is_ok()
    }
}

/// What every rate-limit refusal says, over HTTP and on a socket alike.
pub fn rate_limited_message() -> Message {
    message!("rate limit exceeded; slow down")
}

/// What a request cancelled at its deadline is told, over HTTP and on a socket alike.
pub fn deadline_message(after: Duration) -> Message {
    let ms = after.as_millis();
    message!("the request did not finish within its deadline of {ms} ms and was cancelled; retry it (with the same Idempotency-Key for a mutation)")
}

/// 429 with `RATE_LIMITED` and `Retry-After: 1`, the answer of every door's
/// rate limit, in `language`.
pub fn too_many_requests(language: Language) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(refusal_body(
            ErrorCode::RateLimited,
            &rate_limited_message(),
            language,
        )),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Middleware: 429 with `RATE_LIMITED` once a client's bucket is empty. The
/// client is the token's subject and role (shared with its sockets), else the address.
pub async fn rate_limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    // The caller is read once, here; the handler takes it from the request.
    let context = crate::request::RequestContext::from_headers(request.headers(), &state).await;
    let subject = context
        .actor
        .as_ref()
        .map(|actor| crate::sockets::client_key(&actor.role, &actor.id));
    let auth_error = context.auth_error.clone();
    let mut request = request;
    request.extensions_mut().insert(context);
    let anonymous = subject.is_none();
    let language = Language::of(request.headers());
    let client = subject.unwrap_or_else(|| format!("ip:{}", crate::doors::address_key(peer.ip())));
    let limit = state.config.body_limit_bytes;
    if !state.doors.graphql_rate.allow(&client) {
        return drained_too_many(request, limit, language).await;
    }
    if !anonymous || request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    // A caller without a valid token may ask nothing but `__typename`: its
    // body is kept only as far as such a request could go, the rest read and
    // thrown away unparsed (issue 31).
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let reason = auth_error.unwrap_or_else(|| message!("a bearer token is required"));
    if expects_continue(&request) && announced.is_none_or(|n| n > ANONYMOUS_BODY_BYTES) {
        let answer = crate::schema::unauthenticated(&state, &reason, language, peer.ip());
        return after_draining(request, limit, answer).await;
    }
    let (parts, body) = request.into_parts();
    let mut chunks = body.into_data_stream();
    let mut kept = Vec::new();
    let mut read = 0usize;
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            let message = message!("the request body could not be read");
            return Json(refusal_body(ErrorCode::Validation, &message, language)).into_response();
        };
        read += chunk.len();
        if read > limit {
            return body_too_large(limit, language);
        }
        if read <= ANONYMOUS_BODY_BYTES {
            kept.extend_from_slice(&chunk);
        }
    }
    if read <= ANONYMOUS_BODY_BYTES {
        return next
            .run(Request::from_parts(parts, axum::body::Body::from(kept)))
            .await;
    }
    crate::schema::unauthenticated(&state, &reason, language, peer.ip())
}

/// [`too_many_requests`], once the request's body is drained ([`after_draining`]).
pub async fn drained_too_many(request: Request, limit: usize, language: Language) -> Response {
    after_draining(request, limit, too_many_requests(language)).await
}

/// `answer`, once the request's body (at most `limit` bytes of it) has been
/// read and thrown away: a client still sending its body when the answer
/// comes would otherwise see the connection cut instead of the answer (as a
/// web server lingers before closing). Reading costs no parsing.
pub async fn after_draining(request: Request, limit: usize, answer: Response) -> Response {
    if expects_continue(&request) {
        // The client waits for a go-ahead before sending its body: none is
        // given, and the connection is closed after the answer.
        let mut answer = answer;
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return answer;
    }
    let mut chunks = request.into_body().into_data_stream();
    let mut read = 0usize;
    while let Some(Ok(chunk)) = chunks.next().await {
        read += chunk.len();
        if read > limit {
            break;
        }
    }
    answer
}

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(request: &Request) -> bool {
    request
        .headers()
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// 413 for a body over `limit` bytes.
fn body_too_large(limit: usize, language: Language) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(refusal_body(
            ErrorCode::Validation,
            &message!("request body over {limit} bytes"),
            language,
        )),
    )
        .into_response()
}

/// The most of its body a caller without a valid token has read: enough for
/// `{ __typename }` in any spelling, far short of a costly request.
pub const ANONYMOUS_BODY_BYTES: usize = 4 * 1024;

/// Middleware: 413 for a body over `limit` bytes, whatever its framing (the
/// GraphQL extractor streams bodies and would not see axum's default limit).
pub async fn body_limit(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let language = Language::of(request.headers());
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => body_too_large(limit, language),
    }
}

/// The longest request target (path and query) accepted, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Middleware: 414 for a request target over [`MAX_URI_BYTES`], 431 for
/// headers over [`MAX_HEADER_BYTES`], before anything reads them.
pub async fn header_limits(request: Request, next: Next) -> Response {
    if request.uri().to_string().len() > MAX_URI_BYTES {
        let limit = MAX_URI_BYTES;
        let message = message!("the request target is longer than {limit} bytes");
        return (
            StatusCode::URI_TOO_LONG,
            Json(refusal_body(
                ErrorCode::Validation,
                &message,
                Language::of(request.headers()),
            )),
        )
            .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        let limit = MAX_HEADER_BYTES;
        let message = message!("the request headers are larger than {limit} bytes");
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Json(refusal_body(
                ErrorCode::Validation,
                &message,
                Language::of(request.headers()),
            )),
        )
            .into_response();
    }
    next.run(request).await
}

/// What the deadline middleware needs: the deadline, metrics, and the signal
/// a stopping server sends when its grace is over.
#[derive(Clone)]
pub struct Deadline {
    /// How long a request may run.
    pub after: Duration,
    /// Where cancellations are counted.
    pub metrics: Arc<store::Metrics>,
    /// Becomes true when a stopping server cancels what is still in flight.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// Middleware: a request still running after its deadline (reading its body
/// included), or when a stopping server's grace is over, is cancelled — its
/// future dropped, so a command that had not committed never will — and
/// answered 503 with `TIMEOUT`.
pub async fn deadline(State(deadline): State<Deadline>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let language = Language::of(request.headers());
    let path = request.uri().path().to_string();
    // The route pattern (`/partner/v1/{operation}`), never the raw path: a
    // hostile client must not mint a time series per URL.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let timed = |response: Response| {
        deadline.metrics.observe(
            "facesign_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and status.",
            store::metrics::labels(&[("route", &route), ("status", response.status().as_str())]),
            started.elapsed().as_secs_f64(),
        );
        response
    };
    let mut stopping = deadline.stopping.clone();
    let cause = tokio::select! {
        response = next.run(request) => return timed(response),
        _ = tokio::time::sleep(deadline.after) => "deadline",
        _ = stopping.wait_for(|stop| *stop) => "shutdown",
    };
    tracing::warn!(%path, deadline_ms = deadline.after.as_millis() as u64, cause, "request cancelled");
    deadline.metrics.increment(
        "facesign_requests_cancelled_total",
        "Requests cancelled at their deadline (FACESIGN_REQUEST_DEADLINE_MS) or by a stopping server.",
        store::metrics::labels(&[("cause", cause)]),
        1,
    );
    let message = if cause == "deadline" {
        deadline_message(deadline.after)
    } else {
        message!("the server is stopping and cancelled the request; retry it (with the same Idempotency-Key for a mutation)")
    };
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(refusal_body(ErrorCode::Timeout, &message, language)),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    timed(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_clients_are_separate() {
        let limiter = RateLimiter::new(1, 3);
        assert!((0..3).all(|_| limiter.allow("a")));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }
}
