//! The one place domain and infrastructure failures become GraphQL errors.

use async_graphql::ErrorExtensions;
use domain::error::{DomainError, ErrorCode};
use domain::message::{message, Localized, Message};
use store::CommandError;
use tracing::error;

use crate::messages::{render, Language};

/// An error as the API shows it: a stable code and a message safe for
/// clients, as data the edge renders in the caller's language.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Stable code for `extensions.code`.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: Message,
    /// What would lift the refusal, for a client to act on
    /// (`extensions.reason`: [`STEP_UP_REQUIRED`], [`FOUR_EYES`]).
    pub reason: Option<&'static str>,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: Message) -> Self {
        Self {
            code,
            message,
            reason: None,
        }
    }

    /// A VALIDATION error.
    pub fn validation(message: Message) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    /// A NOT_FOUND error.
    pub fn not_found(message: Message) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A refusal for a domain error, with its own code.
    pub fn of<E: DomainError>(error: &E) -> Self {
        Self::new(error.code(), error.message())
    }

    /// An INTERNAL error; the cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            message!("internal error; see the server log"),
        )
    }

    /// FORBIDDEN until the caller logs in with a second factor (issue 34
    /// item 4): `extensions.reason` is `STEP_UP_REQUIRED`, which tells the
    /// console to send the caller through the identity provider again.
    pub fn step_up(operation: &str) -> Self {
        let message =
            message!("{operation} needs a multi-factor login; sign in again with a second factor");
        Self {
            reason: Some(STEP_UP_REQUIRED),
            ..Self::new(ErrorCode::Forbidden, message)
        }
    }

    /// FORBIDDEN for a configuration change made directly under four eyes:
    /// `extensions.reason` is `FOUR_EYES` (propose it instead).
    pub fn four_eyes(operation: &str) -> Self {
        let message = message!("{operation} changes the configuration: propose it (proposeChange) for a second admin to approve (four eyes)");
        Self {
            reason: Some(FOUR_EYES),
            ..Self::new(ErrorCode::Forbidden, message)
        }
    }

    /// The message in `language`.
    pub fn text(&self, language: Language) -> String {
        render(&self.message, language)
    }
}

impl<E: DomainError> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Store(cause) => ApiError::internal(cause),
            other => ApiError::new(other.code(), other.message()),
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
/// `{"code", "message"}` with the code's HTTP status. Machines read these:
/// the message is English, as their specification writes it.
pub fn rest_refusal(error: &ApiError) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        http_status(error.code),
        axum::Json(
            serde_json::json!({ "code": error.code.as_str(), "message": error.text(Language::English) }),
        ),
    )
        .into_response()
}

/// A JSON error body in the GraphQL shape (`errors[].extensions.code`), for
/// refusals made before a request reaches the schema, in `language`.
pub fn refusal_body(code: ErrorCode, message: &Message, language: Language) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": render(message, language), "extensions": { "code": code.as_str() } }] })
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

/// `extensions.reason` of a refusal that a multi-factor login would lift.
pub const STEP_UP_REQUIRED: &str = "STEP_UP_REQUIRED";

/// `extensions.reason` of a change that must be proposed instead.
pub const FOUR_EYES: &str = "FOUR_EYES";

impl From<ApiError> for async_graphql::Error {
    /// The message rides along as the error's source, so the response is
    /// rendered in the caller's language when it is answered
    /// (`messages::localize_response`).
    fn from(error: ApiError) -> Self {
        let code = error.code;
        let reason = error.reason;
        async_graphql::Error::new_with_source(error.message).extend_with(|_, e| {
            e.set("code", code.as_str());
            if let Some(reason) = reason {
                e.set("reason", reason);
            }
        })
    }
}
