//! The one place domain and infrastructure failures become GraphQL errors.

use async_graphql::ErrorExtensions;
use domain::error::{DomainError, ErrorCode};
use store::CommandError;
use tracing::error;

/// An error as the API shows it: a stable code and a message safe for clients.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Stable code for `extensions.code`.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// A VALIDATION error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Validation,
            message: message.into(),
        }
    }

    /// A NOT_FOUND error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::NotFound,
            message: message.into(),
        }
    }

    /// An INTERNAL error; the cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        error!(error = %cause, "internal error");
        Self {
            code: ErrorCode::Internal,
            message: "internal error; see the server log".to_string(),
        }
    }
}

impl<E: DomainError> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Store(cause) => ApiError::internal(cause),
            other => ApiError {
                code: other.code(),
                message: other.to_string(),
            },
        }
    }
}

/// The HTTP status of an error code, for the REST surfaces.
pub fn http_status(code: ErrorCode) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match code {
        ErrorCode::Validation => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::InvalidTransition => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer of a REST door (the partner gateway, SMS reports) to a refusal:
/// `{"code", "message"}` with the code's HTTP status.
pub fn rest_refusal(error: &ApiError) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        http_status(error.code),
        axum::Json(serde_json::json!({ "code": error.code.as_str(), "message": error.message })),
    )
        .into_response()
}

/// A JSON error body in the GraphQL shape (`errors[].extensions.code`), for
/// refusals made before a request reaches the schema.
pub fn refusal_body(code: ErrorCode, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] })
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        async_graphql::Error::new(error.message)
            .extend_with(|_, e| e.set("code", error.code.as_str()))
    }
}
