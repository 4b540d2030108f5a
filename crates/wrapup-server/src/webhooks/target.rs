//! Where webhooks may be sent. A webhook URL is chosen by an API caller, so without a
//! check it would let callers make the server reach whatever the server can reach (its
//! own admin ports, a cloud metadata service, the private network): server-side request
//! forgery. Private, loopback and link-local addresses are refused unless the operator
//! allows them ([`TargetPolicy`]). The check runs twice: when a URL is stored (for hosts
//! written as addresses, and `localhost`), and at every send, against the addresses the
//! name resolves to then; the connection goes to those checked addresses only
//! (`resolver.rs`), so a name that resolves to a public address when stored and to a
//! private one later (DNS rebinding) is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::Url;
use wrapup_types::{ErrorCode, ErrorDetail};

/// The longest webhook URL accepted.
pub const MAX_URL_CHARS: usize = 2048;

/// Which addresses webhooks may be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetPolicy {
    /// Public addresses only (the default).
    #[default]
    PublicOnly,
    /// Public addresses and loopback (`wrapup serve --demo`: a local app works at once).
    AllowLoopback,
    /// Public, private, loopback and link-local addresses (`--webhooks-allow-private`).
    AllowPrivate,
}

/// What kind of address an IP is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressKind {
    Public,
    Loopback,
    Private,
    LinkLocal,
    /// Unspecified, multicast, broadcast, reserved: never a webhook receiver.
    Unusable,
}

fn kind_v4(ip: Ipv4Addr) -> AddressKind {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        AddressKind::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 10/8, 172.16/12, 192.168/16, and the carrier-grade NAT range 100.64/10.
        AddressKind::Private
    } else if ip.is_link_local() {
        AddressKind::LinkLocal
    } else if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || a == 0 || a >= 240 {
        AddressKind::Unusable
    } else {
        AddressKind::Public
    }
}

fn kind(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(v4) => kind_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return kind_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                AddressKind::Loopback
            } else if first & 0xfe00 == 0xfc00 {
                AddressKind::Private
            } else if first & 0xffc0 == 0xfe80 {
                AddressKind::LinkLocal
            } else if v6.is_unspecified() || v6.is_multicast() || v6 == Ipv6Addr::UNSPECIFIED {
                AddressKind::Unusable
            } else {
                AddressKind::Public
            }
        }
    }
}

impl TargetPolicy {
    /// `Ok` when webhooks may go to `ip`; otherwise why not.
    pub fn check(self, ip: IpAddr) -> Result<(), String> {
        let (what, allowed) = match kind(ip) {
            AddressKind::Public => return Ok(()),
            AddressKind::Loopback => ("a loopback", self != TargetPolicy::PublicOnly),
            AddressKind::Private => ("a private", self == TargetPolicy::AllowPrivate),
            AddressKind::LinkLocal => ("a link-local", self == TargetPolicy::AllowPrivate),
            AddressKind::Unusable => ("an unspecified, multicast or reserved", false),
        };
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{ip} is {what} address, which this server does not send webhooks to"
            ))
        }
    }

    /// What an operator does to allow what [`TargetPolicy::check`] refused.
    pub fn hint(self) -> &'static str {
        "Use an address the internet can reach; for a receiver on this machine or a private \
         network, the operator starts the server with --webhooks-allow-private (--demo allows \
         loopback)."
    }
}

/// Checks a webhook URL when it is stored: an absolute `http` or `https` URL of at most
/// [`MAX_URL_CHARS`] characters, without credentials, whose host, if written as an address
/// (or `localhost`), the policy allows. Names are checked again at every send.
pub fn check_url(policy: TargetPolicy, raw: &str) -> Result<Url, ErrorDetail> {
    let invalid = |why: String| {
        ErrorDetail::new(
            ErrorCode::WebhookUrlInvalid,
            format!("url is not a URL webhooks can be sent to: {why}."),
        )
        .field("url")
        .hint("Send an absolute http or https URL without credentials, e.g. \"https://crm.example.com/hooks/wrapup\".")
    };
    let chars = raw.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(invalid(format!(
            "it is {chars} characters long, more than {MAX_URL_CHARS}"
        )));
    }
    let url = Url::parse(raw.trim()).map_err(|e| invalid(format!("{e} (got \"{raw}\")")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "its scheme is {}; only http and https are sent to",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it carries credentials; deliveries are authenticated by their signature instead"
                .into(),
        ));
    }
    let address = match url.host() {
        None => return Err(invalid("it has no host".into())),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
    };
    if let Some(ip) = address {
        policy.check(ip).map_err(|why| {
            ErrorDetail::new(
                ErrorCode::WebhookUrlRefused,
                format!("url is refused: its host {why}."),
            )
            .field("url")
            .hint(policy.hint())
        })?;
    }
    Ok(url)
}

/// The address a URL names directly (an IP literal), which no resolver sees: checked
/// before the request is sent.
pub fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_by_policy() {
        let cases = [
            ("93.184.216.34", [true, true, true]),
            ("127.0.0.1", [false, true, true]),
            ("::1", [false, true, true]),
            ("10.1.2.3", [false, false, true]),
            ("172.20.0.1", [false, false, true]),
            ("192.168.1.1", [false, false, true]),
            ("100.64.0.1", [false, false, true]),
            ("169.254.169.254", [false, false, true]),
            ("fe80::1", [false, false, true]),
            ("fd00::1", [false, false, true]),
            ("::ffff:127.0.0.1", [false, true, true]),
            ("::ffff:10.0.0.1", [false, false, true]),
            ("0.0.0.0", [false, false, false]),
            ("224.0.0.1", [false, false, false]),
            ("2606:4700::1111", [true, true, true]),
        ];
        let policies = [
            TargetPolicy::PublicOnly,
            TargetPolicy::AllowLoopback,
            TargetPolicy::AllowPrivate,
        ];
        for (ip, expected) in cases {
            for (policy, allowed) in policies.iter().zip(expected) {
                let ip: IpAddr = ip.parse().unwrap();
                assert_eq!(policy.check(ip).is_ok(), allowed, "{ip} under {policy:?}");
            }
        }
    }

    #[test]
    fn urls_are_checked_when_stored() {
        fn ok(u: &str) -> bool {
            check_url(TargetPolicy::PublicOnly, u).is_ok()
        }
        fn code(p: TargetPolicy, u: &str) -> ErrorCode {
            check_url(p, u).unwrap_err().error_code
        }
        assert!(ok("https://crm.example.com/hooks?x=1"));
        assert!(ok("http://93.184.216.34:8080/"));
        for bad in [
            "ftp://example.com/",
            "/relative",
            "https://user:pw@example.com/",
            "https://",
        ] {
            assert_eq!(
                code(TargetPolicy::AllowPrivate, bad),
                ErrorCode::WebhookUrlInvalid,
                "{bad}"
            );
        }
        assert_eq!(
            code(
                TargetPolicy::AllowPrivate,
                &format!("https://example.com/{}", "a".repeat(2048))
            ),
            ErrorCode::WebhookUrlInvalid
        );
        for refused in [
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://[::1]/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest",
        ] {
            assert_eq!(
                code(TargetPolicy::PublicOnly, refused),
                ErrorCode::WebhookUrlRefused,
                "{refused}"
            );
        }
        assert!(check_url(TargetPolicy::AllowLoopback, "http://localhost:8000/hooks").is_ok());
        assert_eq!(
            code(TargetPolicy::AllowLoopback, "http://10.0.0.1/"),
            ErrorCode::WebhookUrlRefused
        );
        assert!(check_url(TargetPolicy::AllowPrivate, "http://10.0.0.1/").is_ok());
    }
}
