//! What every door shares across requests: the rate limits of GraphQL (HTTP
//! and WebSocket alike), of the partner gateway and of SMS delivery reports,
//! and the count of open sockets. One per process, in the application state.

use std::sync::Arc;

use crate::limits::RateLimiter;
use crate::sockets::SocketRegistry;
use crate::state::ApiConfig;

/// The shared limits of every door.
pub struct Doors {
    /// GraphQL requests and socket operations per caller (token subject and role, else address).
    pub graphql_rate: RateLimiter,
    /// Partner-API requests per address, counted before the signature is checked.
    pub partner_by_address: RateLimiter,
    /// Partner-API requests per verified partner.
    pub partner_by_partner: RateLimiter,
    /// SMS delivery reports per address, counted before the gateway's token is checked.
    pub sms_reports_by_address: RateLimiter,
    /// Open WebSockets per address and per account.
    pub sockets: Arc<SocketRegistry>,
}

impl Doors {
    /// The limits `config` sets; every burst is twice the sustained rate
    /// except GraphQL's, which has its own setting.
    pub fn new(config: &ApiConfig) -> Self {
        let twice = |rate: u32| RateLimiter::new(rate, rate.saturating_mul(2));
        Self {
            graphql_rate: RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst),
            partner_by_address: twice(config.partner_rate_per_address),
            partner_by_partner: twice(config.partner_rate_per_partner),
            sms_reports_by_address: twice(config.sms_report_rate_per_address),
            sockets: Arc::default(),
        }
    }
}
