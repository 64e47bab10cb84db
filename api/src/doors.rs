//! What every door shares across requests: the rate limits of GraphQL (HTTP
//! and WebSocket alike), of the partner gateway and of SMS delivery reports,
//! and the count of open sockets. One per process, in the application state.

use std::net::IpAddr;
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

/// Whether a request from `peer` is within `limiter`'s allowance for its
/// address (keyed by [`address_key`]).
pub fn within_address_rate(limiter: &crate::limits::RateLimiter, peer: IpAddr) -> bool {
    limiter.allow(&format!("ip:{}", address_key(peer)))
}

/// The address every per-address cap and rate counts a client under: an IPv4
/// address as it is (an IPv4-mapped IPv6 one as IPv4); an IPv6 address by
/// its /64, the block one host is usually given, so a host cannot dodge a
/// cap by cycling through its addresses.
pub fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_ipv4_as_it_is() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(address_key(v4), v4);
        assert_eq!(address_key(mapped), v4);
    }
}
