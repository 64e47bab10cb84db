//! Per-client rate limiting (token bucket keyed by token subject, else by IP).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// Token buckets per client.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` sustained and `burst` extra requests.
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; false when its bucket is empty.
    pub fn allow(&self, client: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget clients idle long enough to have refilled completely.
            let full = self.burst / self.per_second;
            buckets.retain(|_, (_, last)| now.duration_since(*last).as_secs_f64() < full);
        }
        let (tokens, last) = buckets
            .entry(client.to_string())
            .or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Middleware: 429 with `RATE_LIMITED` once a client's bucket is empty.
pub async fn rate_limit(
    State((state, limiter)): State<(AppState, Arc<RateLimiter>)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let subject = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
        .and_then(|token| state.keys.verify(token).ok())
        .map(|(sub, role)| format!("sub:{role}:{sub}"));
    let client = subject.unwrap_or_else(|| format!("ip:{}", peer.ip()));
    if limiter.allow(&client) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "errors": [{ "message": "rate limit exceeded; slow down", "extensions": { "code": "RATE_LIMITED" } }] })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Middleware: 413 for a body over `limit` bytes, whatever its framing (the
/// GraphQL extractor streams bodies and would not see axum's default limit).
pub async fn body_limit(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Err(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({ "errors": [{ "message": format!("request body over {limit} bytes"), "extensions": { "code": "VALIDATION" } }] })),
        )
            .into_response(),
    }
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
