//! Failed authentication, bounded: token requests that fail to authenticate are limited
//! per client id and per source address, so guessing secrets (or a client stuck with a
//! wrong one) cannot keep the secret hashing busy. See docs/operations.md#failed-authentication.
//!
//! An attempt takes one token from both buckets before the secret is checked, and gives
//! them back when the check succeeds: only failures count, and the checks running at once
//! for one key are bounded by its bucket. A secret that was already verified on this server
//! does not reach the limits at all (`routes::oauth`), so a client whose id is under attack
//! keeps getting tokens.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use uuid::Uuid;

use crate::rate_limit::{Buckets, RateLimit};

/// One failed-authentication limit: `N/period`, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit(pub Option<RateLimit>);

impl FromStr for FailureLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<FailureLimit, String> {
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(FailureLimit(None));
        }
        s.parse().map(|l| FailureLimit(Some(l)))
    }
}

impl fmt::Display for FailureLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(limit) => limit.fmt(f),
            None => f.write_str("off"),
        }
    }
}

/// The default limit per client id: 10 failures, then one every 6 s.
pub const DEFAULT_PER_CLIENT: RateLimit = RateLimit {
    requests: 10,
    period_ms: 60_000,
};
/// The default limit per source address: 60 failures, then one a second (an address can be
/// a NAT or a proxy in front of several clients).
pub const DEFAULT_PER_ADDRESS: RateLimit = RateLimit {
    requests: 60,
    period_ms: 60_000,
};

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    ClientId,
    Address,
}

impl LimitedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedBy::ClientId => "client",
            LimitedBy::Address => "address",
        }
    }
}

/// An attempt refused: by which limit, and when one is allowed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub by: LimitedBy,
    pub limit: RateLimit,
    pub retry_after_ms: u64,
}

/// The key of a source address: an IPv4 address, or an IPv6 address's /64 (one host
/// usually holds a whole /64, and could otherwise rotate through it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKey {
    V4(u32),
    V6Prefix(u64),
}

impl From<IpAddr> for AddressKey {
    fn from(ip: IpAddr) -> AddressKey {
        match ip {
            IpAddr::V4(v4) => AddressKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey::V4(u32::from(v4)),
                None => AddressKey::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// The failed-authentication limits of the token endpoint.
#[derive(Debug)]
pub struct FailedAuthLimits {
    per_client: Option<Buckets<Uuid>>,
    per_address: Option<Buckets<AddressKey>>,
}

/// An attempt let through: the tokens it took, given back by [`Attempt::not_a_failure`];
/// dropped otherwise, which leaves them taken (the attempt failed).
#[must_use]
pub struct Attempt<'a> {
    limits: &'a FailedAuthLimits,
    client: Option<Uuid>,
    address: Option<AddressKey>,
}

impl Attempt<'_> {
    /// The attempt authenticated (or was not judged): it does not count as a failure.
    pub fn not_a_failure(self) {
        if let (Some(buckets), Some(client)) = (&self.limits.per_client, self.client) {
            buckets.give_back(client);
        }
        if let (Some(buckets), Some(address)) = (&self.limits.per_address, self.address) {
            buckets.give_back(address);
        }
    }
}

impl FailedAuthLimits {
    pub fn new(per_client: FailureLimit, per_address: FailureLimit) -> FailedAuthLimits {
        FailedAuthLimits {
            per_client: per_client.0.map(Buckets::new),
            per_address: per_address.0.map(Buckets::new),
        }
    }

    /// Lets an authentication attempt for `client` (when the id is a UUID) from `address`
    /// (when known) go on, holding a token of each limit, or says which limit refuses it.
    pub fn attempt(
        &self,
        client: Option<Uuid>,
        address: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<Attempt<'_>, Limited> {
        let address = address.map(AddressKey::from);
        let mut attempt = Attempt {
            limits: self,
            client: None,
            address: None,
        };
        if let (Some(buckets), Some(address)) = (&self.per_address, address) {
            let decision = buckets.take(address, now_ms);
            if !decision.allowed {
                return Err(Limited {
                    by: LimitedBy::Address,
                    limit: buckets.limit(),
                    retry_after_ms: decision.retry_after_ms,
                });
            }
            attempt.address = Some(address);
        }
        if let (Some(buckets), Some(client)) = (&self.per_client, client) {
            let decision = buckets.take(client, now_ms);
            if !decision.allowed {
                // The address's token was not used for a check: give it back.
                attempt.not_a_failure();
                return Err(Limited {
                    by: LimitedBy::ClientId,
                    limit: buckets.limit(),
                    retry_after_ms: decision.retry_after_ms,
                });
            }
            attempt.client = Some(client);
        }
        Ok(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(client: &str, address: &str) -> FailedAuthLimits {
        FailedAuthLimits::new(client.parse().unwrap(), address.parse().unwrap())
    }

    #[test]
    fn failures_count_and_successes_do_not() {
        let limits = limits("3/min", "off");
        let client = Uuid::new_v4();
        for _ in 0..10 {
            limits
                .attempt(Some(client), None, 0)
                .unwrap()
                .not_a_failure();
        }
        for _ in 0..3 {
            drop(limits.attempt(Some(client), None, 0).unwrap());
        }
        let refused = limits.attempt(Some(client), None, 0).err().unwrap();
        assert_eq!(refused.by, LimitedBy::ClientId);
        assert_eq!(refused.retry_after_ms, 20_000);
        // Another client is not affected; the refused one recovers at the rate.
        assert!(limits.attempt(Some(Uuid::new_v4()), None, 0).is_ok());
        assert!(limits.attempt(Some(client), None, 19_999).is_err());
        assert!(limits.attempt(Some(client), None, 20_000).is_ok());
    }

    #[test]
    fn addresses_are_limited_apart_and_ipv6_by_its_64() {
        let limits = limits("off", "2/min");
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let other: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        drop(limits.attempt(None, Some(a), 0).unwrap());
        drop(limits.attempt(None, Some(same_64), 0).unwrap());
        let refused = limits.attempt(None, Some(a), 0).err().unwrap();
        assert_eq!(refused.by, LimitedBy::Address);
        assert!(limits.attempt(None, Some(other), 0).is_ok());
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        drop(limits.attempt(None, Some(v4), 0).unwrap());
        drop(limits.attempt(None, Some(mapped), 0).unwrap());
        assert!(limits.attempt(None, Some(v4), 0).is_err());
    }

    #[test]
    fn a_refusal_by_the_client_limit_costs_the_address_nothing() {
        let limits = limits("1/min", "2/min");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let client = Uuid::new_v4();
        drop(limits.attempt(Some(client), Some(ip), 0).unwrap());
        for _ in 0..5 {
            let refused = limits.attempt(Some(client), Some(ip), 0).err().unwrap();
            assert_eq!(refused.by, LimitedBy::ClientId);
        }
        // The address spent one token (the first failure), not six.
        assert!(limits.attempt(None, Some(ip), 0).is_ok());
    }

    #[test]
    fn limits_parse_and_print() {
        assert_eq!("off".parse::<FailureLimit>().unwrap(), FailureLimit(None));
        let l: FailureLimit = "10/min".parse().unwrap();
        assert_eq!(l.to_string(), "10/min");
        assert!("ten".parse::<FailureLimit>().is_err());
    }
}
