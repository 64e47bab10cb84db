use axum::http::HeaderMap;
use domain::log::Actor;
use domain::services::IdGen;

/// Who is calling and under which ids; built once per HTTP request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The caller.
    pub actor: Actor,
    /// `x-request-id`, or a fresh id.
    pub request_id: String,
    /// `x-correlation-id`, or the request id.
    pub correlation_id: String,
}

fn header(headers: &HeaderMap, name: &str, max_len: usize) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= max_len)
        .map(str::to_string)
}

impl RequestContext {
    /// Reads the caller from the headers.
    ///
    /// Until bearer-token auth lands (docs/security.md), the actor is whatever
    /// `x-actor-id` / `x-actor-role` claim, and `anonymous` / `ANONYMOUS` when absent;
    /// it is recorded on every event either way.
    pub fn from_headers(headers: &HeaderMap, ids: &dyn IdGen) -> Self {
        let request_id =
            header(headers, "x-request-id", 128).unwrap_or_else(|| ids.new_id().to_string());
        let correlation_id =
            header(headers, "x-correlation-id", 128).unwrap_or_else(|| request_id.clone());
        Self {
            actor: Actor {
                id: header(headers, "x-actor-id", 64).unwrap_or_else(|| "anonymous".to_string()),
                role: header(headers, "x-actor-role", 32)
                    .map(|r| r.to_uppercase())
                    .unwrap_or_else(|| "ANONYMOUS".to_string()),
            },
            request_id,
            correlation_id,
        }
    }

    /// The command context for a command caused directly by this request.
    pub fn command_context(&self) -> adapters::CommandContext {
        adapters::CommandContext {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.request_id.clone(),
            request_id: self.request_id.clone(),
        }
    }
}
