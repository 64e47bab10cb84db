use std::sync::Arc;
use std::time::Duration;

use projections::ConsumerKind;
use store::{CommandBus, Database, GlobalLog, Metrics};

use crate::auth::TokenVerifier;

/// Tunables of the API layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a mutation waits for the read model to reflect its events.
    pub read_your_writes_timeout: Duration,
    /// Largest page a list query returns.
    pub max_page_size: i64,
    /// Whether the schema answers introspection (turn off in production).
    pub introspection: bool,
    /// Whether configuration changes need a second admin's approval
    /// (FACESIGN_FOUR_EYES; on by default with an identity provider).
    pub four_eyes: bool,
    /// Requests per second each client (token subject, else IP) may sustain.
    pub rate_limit_per_second: u32,
    /// Requests a client may burst above the sustained rate.
    pub rate_limit_burst: u32,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Caps of every GraphQL document, checked before anything else.
    pub query_limits: crate::query_limits::QueryLimits,
    /// How long any request may run before it is cancelled and answered `TIMEOUT`.
    pub request_deadline: Duration,
    /// Caps and timeouts of GraphQL WebSockets.
    pub sockets: crate::sockets::SocketLimits,
    /// Partner-API requests per second from one address, before verification.
    pub partner_rate_per_address: u32,
    /// Partner-API requests per second of one verified partner.
    pub partner_rate_per_partner: u32,
    /// The last day (Beijing time) the old partner signature is accepted.
    pub partner_legacy_signature_until: Option<chrono::NaiveDate>,
    /// SMS delivery reports per second from one address, before authentication.
    pub sms_report_rate_per_address: u32,
    /// The public key (SPKI PEM) log checkpoints are signed with, served at
    /// `/log/public-key` (FACESIGN_LOG_SIGNING_KEY; docs/evidence.md).
    pub log_public_key: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            read_your_writes_timeout: Duration::from_secs(5),
            max_page_size: 100,
            introspection: true,
            four_eyes: false,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            body_limit_bytes: 1024 * 1024,
            query_limits: crate::query_limits::QueryLimits::default(),
            request_deadline: Duration::from_secs(10),
            sockets: crate::sockets::SocketLimits::default(),
            partner_rate_per_address: 20,
            partner_rate_per_partner: 50,
            partner_legacy_signature_until: None,
            sms_report_rate_per_address: 200,
            log_public_key: None,
        }
    }
}

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Database pools.
    pub database: Database,
    /// Command bus of the write side.
    pub bus: Arc<CommandBus>,
    /// Reader of the global log.
    pub log: GlobalLog,
    /// Every consumer of the log this instance runs or follows, and its progress.
    pub consumers: projections::Consumers,
    /// Partner platforms: secrets of the signed partner API.
    pub partner_directory: workers::partners::PartnerDirectory,
    /// Accepted clock difference of signed partner requests.
    pub partner_timestamp_window: chrono::Duration,
    /// Which workers this instance leads.
    pub leadership: store::cluster::Leadership,
    /// Process metrics.
    pub metrics: Arc<Metrics>,
    /// API tunables.
    pub config: ApiConfig,
    /// Bearer-token keys.
    pub tokens: TokenVerifier,
    /// Becomes true when a stopping server cancels the requests still in flight.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Idempotency keys of mutations and their first answers.
    pub idempotency: store::idempotency::IdempotencyStore,
    /// The operation log (操作留痕): refusals and reads of personal data.
    pub operation_log: store::operation_log::OperationLog,
    /// Staff accounts of recent callers, emptied by every account change.
    pub accounts: crate::accounts::AccountCache,
    /// The SMS gateway's bearer token, which its delivery reports present;
    /// None when no gateway is configured.
    pub sms_gateway_token: Option<workers::secrets::RotatingSecret>,
    /// The console's sign-in through the identity provider; None: the
    /// console signs in with a pasted token (`--demo`, development).
    pub sign_in: Option<Arc<crate::sign_in::ConsoleSignIn>>,
    /// Rate limits and socket counts shared by every door.
    pub doors: Arc<crate::doors::Doors>,
    /// Changes read once and fanned out to subscriptions.
    pub feeds: Arc<crate::change_feeds::ChangeFeeds>,
    /// Becomes true when the server begins to stop: open sockets close.
    pub draining: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    /// Waits, bounded by the read-your-writes timeout, for what one request
    /// caused and nothing else: every flow handles the log up to the request's
    /// own `position`, then up to the last event its commands caused (the
    /// flows carry the request's correlation id), until no flow adds one; then
    /// every awaited read model reflects that last event. Returns how far it
    /// got and whether all of it is reflected (false when the time ran out).
    pub async fn settle_after(
        &self,
        position: domain::log::LogPosition,
        correlation_id: &str,
    ) -> (domain::log::LogPosition, bool) {
        let deadline = tokio::time::Instant::now() + self.config.read_your_writes_timeout;
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        let mut target = position;
        let flows_here = self
            .consumers
            .awaited(ConsumerKind::Flow)
            .all(|flow| self.leadership.leads(flow.name()));
        loop {
            for flow in self.consumers.awaited(ConsumerKind::Flow) {
                if !flow.wait_for(target, left()).await {
                    return (target, false);
                }
            }
            // When every flow runs here, their commands went through this
            // instance's bus, which remembers where each correlation got to.
            let latest = if flows_here {
                Ok(self.bus.latest_of_correlation(correlation_id))
            } else {
                self.log.latest_of_correlation(correlation_id).await
            };
            match latest {
                Ok(Some(latest)) if latest > target => target = latest,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot follow the request's correlation");
                    return (target, false);
                }
            }
        }
        (target, self.read_models_reach_by(target, deadline).await)
    }

    /// Waits, bounded by the read-your-writes timeout, until every awaited
    /// read model reflects `position` (a consistency token a query brought).
    pub async fn read_models_reach(&self, position: domain::log::LogPosition) -> bool {
        let deadline = tokio::time::Instant::now() + self.config.read_your_writes_timeout;
        self.read_models_reach_by(position, deadline).await
    }

    /// Waits until `deadline` for every awaited read model to reflect
    /// `position`, so any query after a mutation sees it.
    async fn read_models_reach_by(
        &self,
        position: domain::log::LogPosition,
        deadline: tokio::time::Instant,
    ) -> bool {
        for read_model in self.consumers.awaited(ConsumerKind::ReadModel) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !read_model.wait_for(position, left).await {
                return false;
            }
        }
        true
    }

    /// Notices of rows the read model `name` changed, for subscriptions.
    pub(crate) fn row_changes(
        &self,
        name: &str,
    ) -> Result<tokio::sync::broadcast::Receiver<store::worker::RowsChanged>, crate::ApiError> {
        self.consumers
            .handle(name)
            .map(|handle| handle.subscribe_changes())
            .ok_or_else(|| crate::ApiError::internal(format!("no read model `{name}` runs here")))
    }
}
