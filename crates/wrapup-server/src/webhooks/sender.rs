//! Sending one delivery: a signed `POST`, with a time limit, no redirects followed, no proxy,
//! connections only to addresses the [`TargetPolicy`] allows, and at most the first KiB of
//! the answer read (for the delivery log).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use reqwest::Url;
use wrapup_domain::webhook_signature::{signature_header, SigningKey};

use super::resolver::GuardedResolver;
use super::schedule::parse_retry_after;
use super::target::{literal_address, TargetPolicy};

/// The most of an answer's body kept in the delivery log.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;
/// The largest body sent (an interaction is a few hundred bytes; this only bounds it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How an attempt went, for the log and the retry rule.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// The first KiB of the answer, as text.
    pub response_body: Option<String>,
    /// What went wrong (absent for a 2xx).
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub latency: Duration,
    /// For the metrics: `delivered`, `http_error`, `gone`, `timeout`, `connection`,
    /// `refused`.
    pub result: &'static str,
}

/// The HTTP client of webhook deliveries.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    policy: TargetPolicy,
    timeout: Duration,
}

impl Sender {
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(policy)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("the webhook HTTP client builds");
        Sender {
            http,
            policy,
            timeout,
        }
    }

    /// POSTs `body` to `url`, signed with `keys` (current first), as message `message_id`
    /// at `timestamp_s`.
    pub async fn send(
        &self,
        url: &str,
        message_id: &str,
        timestamp_s: i64,
        body: &str,
        keys: &[&SigningKey],
        now_ms: i64,
    ) -> Sent {
        let started = Instant::now();
        let failed = |result, error: String| Sent {
            status: None,
            response_body: None,
            error: Some(error),
            retry_after: None,
            latency: started.elapsed(),
            result,
        };
        let url = match Url::parse(url) {
            Ok(url) => url,
            Err(e) => return failed("refused", format!("the URL is not valid: {e}")),
        };
        if let Some(ip) = literal_address(&url) {
            if let Err(why) = self.policy.check(ip) {
                return failed("refused", format!("refused: {why}"));
            }
        }
        if body.len() > MAX_BODY_BYTES {
            return failed(
                "refused",
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            );
        }
        let signature = signature_header(keys, message_id, timestamp_s, body.as_bytes());
        let request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                USER_AGENT,
                concat!("wrapup-webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp_s.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string());
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return failed("timeout", format!("no answer within {:?}", self.timeout))
            }
            Err(e) => {
                let chain = error_chain(&e);
                let kind = if chain.contains("refused: ") && !chain.contains("Connection refused") {
                    "refused"
                } else {
                    "connection"
                };
                return failed(kind, chain);
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now_ms));
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                // A body that cannot be read to its end is still an answer.
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT_BYTES);
        let latency = started.elapsed();
        let response_body =
            (!excerpt.is_empty()).then(|| String::from_utf8_lossy(&excerpt).into_owned());
        let (result, error) = match status {
            200..=299 => ("delivered", None),
            410 => ("gone", Some("the endpoint answered 410 Gone".to_string())),
            300..=399 => (
                "http_error",
                Some(format!("the endpoint answered {status}; redirects are not followed (set the webhook's url to the final address)")),
            ),
            _ => ("http_error", Some(format!("the endpoint answered {status}"))),
        };
        Sent {
            status: Some(status),
            response_body,
            error,
            retry_after,
            latency,
            result,
        }
    }
}

/// An error and its causes, on one line (reqwest's own message says little: "error sending
/// request").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
