use domain::message::message;
use std::sync::Arc;

use axum::http::HeaderMap;
use domain::log::{Actor, LogPosition};
use domain::role::Role;
use domain::services::IdGen;
use store::idempotency::IdempotentRequest;

use crate::auth::TokenVerifier;
use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling and under which ids; built once per request or WebSocket.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated caller, when a valid bearer token was sent.
    pub actor: Option<Actor>,
    /// Why a token that was sent was refused (for the UNAUTHENTICATED message).
    pub auth_error: Option<domain::message::Message>,
    /// `x-request-id`, or a fresh id.
    pub request_id: String,
    /// `x-correlation-id`, or the request id.
    pub correlation_id: String,
    /// When the token was issued (seconds since the epoch).
    pub issued_at: Option<u64>,
    /// When the token expires (seconds since the epoch).
    pub expires_at: Option<u64>,
    /// Whether the caller logged in with more than one factor (step-up).
    pub multi_factor: bool,
    /// The approved change proposal this request runs (four eyes), if any.
    pub approved_change: Option<String>,
    /// The console session (its row) the caller came through, if any.
    pub console_session: Option<String>,
    /// The request's `Idempotency-Key`, once claimed for a mutation.
    pub idempotency: Option<Arc<IdempotentRequest>>,
    /// How far the log is known to reflect this request's commands (and what
    /// they caused): the consistency token it answers with.
    pub reached: Arc<std::sync::Mutex<Option<LogPosition>>>,
}

/// The header a caller whose token grants several roles names the one it acts in.
pub const ROLE_HEADER: &str = "x-facesign-role";

fn header(headers: &HeaderMap, name: &str, max_len: usize) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= max_len)
        .map(str::to_string)
}

impl RequestContext {
    /// Reads the caller from `Authorization: Bearer <token>`, else from the
    /// console's session cookie with its CSRF token in `X-Facesign-Csrf`,
    /// and the ids from headers.
    pub async fn from_headers(headers: &HeaderMap, state: &AppState) -> Self {
        let csrf = header(headers, crate::sign_in::CSRF_HEADER, 128);
        let role = header(headers, ROLE_HEADER, 32);
        Self::from_credentials(headers, state, csrf.as_deref(), role.as_deref()).await
    }

    /// [`Self::from_headers`] with the CSRF token and the chosen role sent
    /// some other way (a socket's `connection_init`).
    pub async fn from_credentials(
        headers: &HeaderMap,
        state: &AppState,
        csrf: Option<&str>,
        role: Option<&str>,
    ) -> Self {
        let ids = state.bus.services().ids.clone();
        let request_id =
            header(headers, "x-request-id", 128).unwrap_or_else(|| ids.new_id().to_string());
        let correlation_id =
            header(headers, "x-correlation-id", 128).unwrap_or_else(|| request_id.clone());
        let token = header(headers, "authorization", 4096);
        if token.is_some() {
            return Self::for_token(
                token.as_deref(),
                role,
                &state.tokens,
                request_id,
                correlation_id,
            )
            .await;
        }
        let session = crate::sign_in::session_bearer(state, headers, csrf).await;
        match session {
            None => Self::for_token(None, None, &state.tokens, request_id, correlation_id).await,
            Some(Ok(bearer)) => {
                let mut context = Self::for_token(
                    Some(&bearer.access_token),
                    role,
                    &state.tokens,
                    request_id,
                    correlation_id,
                )
                .await;
                // A refreshed token is new, the sign-in is not: a 踢出 after
                // the sign-in ends the session.
                if context.actor.is_some() {
                    context.issued_at = Some(bearer.started_at);
                    // The session outlives its access tokens (they are
                    // refreshed behind it): a socket lasts as long as it.
                    context.expires_at = Some(bearer.expires_at);
                    context.console_session = Some(bearer.id_hash);
                }
                context
            }
            Some(Err(refusal)) => {
                let mut context =
                    Self::for_token(None, None, &state.tokens, request_id, correlation_id).await;
                context.auth_error = Some(refusal);
                context
            }
        }
    }

    /// A context for a bearer token (`Bearer <jwt>` or the bare JWT), if
    /// any, acting in `chosen_role` when the token grants several.
    pub async fn for_token(
        token: Option<&str>,
        chosen_role: Option<&str>,
        tokens: &TokenVerifier,
        request_id: String,
        correlation_id: String,
    ) -> Self {
        let mut context = Self {
            actor: None,
            auth_error: None,
            request_id,
            correlation_id,
            issued_at: None,
            expires_at: None,
            multi_factor: false,
            approved_change: None,
            console_session: None,
            idempotency: None,
            reached: Arc::default(),
        };
        let Some(value) = token else {
            return context;
        };
        let jwt = value.strip_prefix("Bearer ").unwrap_or(value).trim();
        let verified = tokens
            .verify(jwt)
            .await
            .and_then(|verified| Ok((verified.role(chosen_role)?, verified)));
        match verified {
            Ok((role, verified)) => {
                context.actor = Some(Actor {
                    id: verified.sub,
                    role: role.as_str().to_string(),
                });
                context.issued_at = Some(verified.issued_at);
                context.expires_at = Some(verified.expires_at);
                context.multi_factor = verified.multi_factor;
            }
            Err(e) => context.auth_error = Some(domain::message::Localized::message(&e)),
        }
        context
    }

    /// 004 3.17: a token whose subject is a staff account counts only while the
    /// account is active, names its role, and was issued after its creation and
    /// its last 踢出. Subjects without an account (customers, partners, systems)
    /// are not affected. Fails closed when the account cannot be read.
    pub async fn check_account(
        mut self,
        accounts: &crate::accounts::AccountCache,
        pool: &sqlx::AnyPool,
    ) -> Self {
        let Some(actor) = &self.actor else {
            return self;
        };
        let refusal = match accounts.account(pool, &actor.id).await {
            Ok(None) => None,
            Ok(Some(account)) if account.status != "ACTIVE" => {
                Some(message!("the account is disabled or deleted"))
            }
            Ok(Some(account)) if account.role != actor.role => Some(message!(
                "the token's role does not match the account's role"
            )),
            Ok(Some(account)) => {
                let valid_from = chrono::DateTime::parse_from_rfc3339(&account.valid_from)
                    .map(|t| t.timestamp())
                    .unwrap_or(i64::MAX);
                let issued = self.issued_at.map_or(0, |t| i64::try_from(t).unwrap_or(0));
                (issued < valid_from).then(|| {
                    message!("the session was ended by an administrator (踢出); sign in again")
                })
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the caller's account");
                Some(message!("the account could not be checked; try again"))
            }
        };
        if refusal.is_some() {
            self.actor = None;
            self.auth_error = refusal;
        }
        self
    }

    /// The caller's role, when authenticated.
    pub fn role(&self) -> Option<Role> {
        self.actor.as_ref().and_then(|a| Role::parse(&a.role))
    }

    /// The command context for a command caused directly by this request.
    pub fn command_context(&self) -> Result<store::CommandContext, ApiError> {
        let actor = self.actor.clone().ok_or_else(|| {
            ApiError::new(
                domain::ErrorCode::Unauthenticated,
                message!("a bearer token is required"),
            )
        })?;
        Ok(store::CommandContext {
            actor,
            correlation_id: self.correlation_id.clone(),
            causation_id: self.request_id.clone(),
            request_id: self.request_id.clone(),
            idempotency: self.idempotency.clone(),
            on_behalf_of: None,
        })
    }

    /// Notes that this request's commands reached `position` of the log.
    pub fn reach(&self, position: LogPosition) {
        let mut reached = self.reached.lock().unwrap_or_else(|e| e.into_inner());
        *reached = (*reached).max(Some(position));
    }

    /// The furthest position this request's commands reached, if any wrote.
    pub fn reached(&self) -> Option<LogPosition> {
        *self.reached.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new aggregate id for this request: derived from the idempotency key
    /// when there is one (so a retry addresses what the first attempt
    /// created), otherwise fresh from `ids`.
    pub fn new_id(&self, ids: &dyn IdGen) -> uuid::Uuid {
        match &self.idempotency {
            Some(request) => request.next_id(),
            None => ids.new_id(),
        }
    }

    /// [`Self::new_id`] for a new aggregate of type `A`: when the id is fresh
    /// (no key it could be a retry of), the bus skips reading its events.
    pub fn new_aggregate_id<A: cqrs_es::Aggregate>(&self, bus: &store::CommandBus) -> String {
        let id = self.new_id(bus.services().ids.as_ref()).to_string();
        if self.idempotency.is_none() {
            bus.expect_new::<A>(&id);
        }
        id
    }
}
