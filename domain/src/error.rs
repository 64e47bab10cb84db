//! Stable error codes shared by every aggregate and mapped once to GraphQL and HTTP.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error category; clients branch on it, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The input is malformed or breaks a rule that does not depend on state.
    Validation,
    /// The addressed aggregate or record does not exist.
    NotFound,
    /// A concurrent change won; retrying with fresh state may succeed.
    Conflict,
    /// The command is not allowed in the aggregate's current state.
    InvalidTransition,
    /// No or invalid credentials.
    Unauthenticated,
    /// Authenticated, but the role may not do this.
    Forbidden,
    /// Too many requests from this client.
    RateLimited,
    /// The request ran past its deadline and was cancelled; safe to retry with
    /// the same idempotency key.
    Timeout,
    /// A fault on our side; details are in the server log, never in the response.
    Internal,
}

impl ErrorCode {
    /// The wire form used in GraphQL `extensions.code` and JSON error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every aggregate's error enum so the API can map it without knowing it.
pub trait DomainError: std::error::Error + crate::message::Localized {
    /// The stable category of this error.
    fn code(&self) -> ErrorCode;
}
