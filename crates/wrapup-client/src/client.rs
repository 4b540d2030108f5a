//! The [`Client`]: OAuth client credentials with a token cache renewed before expiry (and
//! once on `authentication.expired`), the transport (`raw` sends once; typed calls go
//! through `send`, which retries by [`RetryVerdict`]), and the [`HttpTrace`] hook behind
//! `wrapup -v`, which only ever sees a masked `Authorization`. The operations are in
//! `ops.rs`, `events.rs`, `apply.rs` and `doctor.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wrapup_types::{ErrorCode, TokenResponse};

use crate::error::{Error, Result};
use crate::response::{api_error, decode, retry_after, unexpected, RawResponse};
use crate::retry::{RetryPolicy, RetryVerdict};
use crate::transport::TransportFailure;

/// The longest an ordinary request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest the event stream may stay silent (the server sends a keep-alive at least
/// every 15 s).
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(45);
/// Renew a cached token this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

enum Auth {
    None,
    Token(String),
    Credentials {
        id: String,
        secret: String,
        scope: Option<String>,
    },
}

/// A token fetched with the client credentials, kept until shortly before it expires.
struct CachedToken {
    token: String,
    scope: String,
    renew_at: Instant,
}

/// Sees every HTTP exchange the client makes (for `wrapup -v`). `Authorization` is
/// already masked in the headers it is given.
pub trait HttpTrace: Send + Sync {
    fn request(&self, method: &Method, url: &str, headers: &HeaderMap, body: Option<&[u8]>);
    fn response(&self, status: StatusCode, headers: &HeaderMap, body: &[u8], elapsed: Duration);
    /// The client will retry after `delay` because of `reason`.
    fn retry(&self, attempt: u32, delay: Duration, reason: &str);
}

/// A wrapup API client.
pub struct Client {
    pub(crate) http: reqwest::Client,
    /// For the event stream: no overall timeout, a read timeout instead.
    pub(crate) stream_http: reqwest::Client,
    pub(crate) base: String,
    auth: Auth,
    /// The token in use. Reading it never waits: the lock is a plain one, held for a copy.
    cached: Mutex<Option<CachedToken>>,
    /// Held while a token is fetched, so that requests needing one at the same time make
    /// one token request (see [`Client::bearer`]).
    fetching: tokio::sync::Mutex<()>,
    retry: RetryPolicy,
    trace: Option<Arc<dyn HttpTrace>>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), without
    /// credentials, with the default [`RetryPolicy`].
    pub fn new(base_url: &str) -> Client {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("wrapup-client/", env!("CARGO_PKG_VERSION")))
        };
        let http = builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("a reqwest client with static settings builds");
        let stream_http = builder()
            .read_timeout(STREAM_READ_TIMEOUT)
            .build()
            .expect("a reqwest client with static settings builds");
        Client {
            http,
            stream_http,
            base: base_url.trim_end_matches('/').to_string(),
            auth: Auth::None,
            cached: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            retry: RetryPolicy::default(),
            trace: None,
        }
    }

    /// Authenticate with OAuth client credentials; tokens are fetched, cached and renewed
    /// before they expire (and once more if the server says one expired).
    pub fn with_credentials(mut self, client_id: &str, client_secret: &str) -> Client {
        self.auth = Auth::Credentials {
            id: client_id.into(),
            secret: client_secret.into(),
            scope: None,
        };
        self
    }

    /// Narrow the tokens fetched with client credentials to these space-separated scopes.
    pub fn with_scope(mut self, scope: &str) -> Client {
        if let Auth::Credentials { scope: s, .. } = &mut self.auth {
            *s = Some(scope.into());
        }
        self
    }

    /// Authenticate with a ready token.
    pub fn with_token(mut self, token: &str) -> Client {
        self.auth = Auth::Token(token.into());
        self
    }

    /// Retry with this policy ([`RetryPolicy::none`] to send every request once).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Report every HTTP exchange to `trace`.
    pub fn with_trace(mut self, trace: Arc<dyn HttpTrace>) -> Client {
        self.trace = Some(trace);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// `POST /oauth/token` with the configured credentials (retried like any request).
    pub async fn fetch_token(&self) -> Result<TokenResponse> {
        let Auth::Credentials { id, secret, scope } = &self.auth else {
            return Err(Error::NoCredentials);
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.fetch_token_once(id, secret, scope.as_deref()).await;
            let reason = match &outcome {
                Err(Error::Transport(e)) => TransportFailure::of(e).as_str(),
                Err(Error::OAuth { status, .. }) if *status >= 500 => "token endpoint unavailable",
                Err(Error::Unexpected { status, .. }) if *status >= 500 => "server error",
                _ => return outcome,
            };
            match self.retry.delay(attempt, None) {
                Some(delay) => self.pause(attempt, delay, reason).await,
                None => return outcome,
            }
        }
    }

    async fn fetch_token_once(
        &self,
        id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let request = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(id, Some(secret))
            .form(&form)
            .build()?;
        let raw = self.execute(request, None).await?;
        if raw.status.is_success() {
            return decode(&raw);
        }
        match serde_json::from_slice(&raw.body) {
            Ok(body) => Err(Error::OAuth {
                status: raw.status.as_u16(),
                body,
            }),
            Err(_) => Err(unexpected(&raw)),
        }
    }

    /// The bearer token to send: the configured one, or a cached one renewed as needed.
    pub async fn bearer(&self) -> Result<Option<String>> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Token(t) => Ok(Some(t.clone())),
            Auth::Credentials { .. } => {
                if let Some(token) = self.cached_token() {
                    return Ok(Some(token));
                }
                // Only a request that needs a new token waits here; the first to get the
                // lock fetches it, the others then find it cached.
                let _fetching = self.fetching.lock().await;
                if let Some(token) = self.cached_token() {
                    return Ok(Some(token));
                }
                let fetched = self.fetch_token().await?;
                let lifetime = Duration::from_secs(fetched.expires_in).saturating_sub(RENEW_BEFORE);
                *self.token_slot() = Some(CachedToken {
                    token: fetched.access_token.clone(),
                    scope: fetched.scope,
                    renew_at: Instant::now() + lifetime,
                });
                Ok(Some(fetched.access_token))
            }
        }
    }

    /// The scopes of the cached token (fetching one if needed); `None` for a ready token,
    /// whose scopes the client cannot know.
    pub async fn token_scopes(&self) -> Result<Option<String>> {
        match self.auth {
            Auth::None => return Err(Error::NoCredentials),
            Auth::Token(_) => return Ok(None),
            Auth::Credentials { .. } => {}
        }
        self.bearer().await?;
        Ok(self.token_slot().as_ref().map(|c| c.scope.clone()))
    }

    /// The cached token, if it is not due for renewal. A plain lock held for a copy, never
    /// across an await: a request holding an async lock could be a future its caller has
    /// stopped polling for a while (one of a `buffered` stream whose loop body awaits
    /// another request), and every request of the client would then wait for it forever.
    fn cached_token(&self) -> Option<String> {
        self.token_slot()
            .as_ref()
            .filter(|c| Instant::now() < c.renew_at)
            .map(|c| c.token.clone())
    }

    fn token_slot(&self) -> std::sync::MutexGuard<'_, Option<CachedToken>> {
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget_token(&self) {
        *self.token_slot() = None;
    }

    /// Sends a request once, as is, and returns the response as is (after
    /// authentication): no retries, any status.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse> {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = self.bearer().await? {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        self.execute(request.build()?, body.as_deref()).await
    }

    /// Sends one request, telling the trace about it.
    pub(crate) async fn execute(
        &self,
        request: reqwest::Request,
        body: Option<&[u8]>,
    ) -> Result<RawResponse> {
        if let Some(trace) = &self.trace {
            let mut headers = request.headers().clone();
            if let Some(auth) = headers.get_mut(AUTHORIZATION) {
                let scheme = auth
                    .to_str()
                    .ok()
                    .and_then(|v| v.split_once(' '))
                    .map_or("", |(s, _)| s)
                    .to_string();
                *auth = HeaderValue::from_str(&format!("{scheme} ****"))
                    .unwrap_or(HeaderValue::from_static("****"));
            }
            trace.request(request.method(), request.url().as_str(), &headers, body);
        }
        let started = Instant::now();
        let response = self.http.execute(request).await?;
        let raw = RawResponse {
            url: response.url().to_string(),
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await?.to_vec(),
        };
        if let Some(trace) = &self.trace {
            trace.response(raw.status, &raw.headers, &raw.body, started.elapsed());
        }
        Ok(raw)
    }

    async fn pause(&self, attempt: u32, delay: Duration, reason: &str) {
        if let Some(trace) = &self.trace {
            trace.retry(attempt, delay, reason);
        }
        tokio::time::sleep(delay).await;
    }

    /// Sends a request with retries (see [`RetryPolicy`]) and a token renewal when the
    /// server reports the token expired; a non-2xx final answer becomes an error.
    async fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<RawResponse> {
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS
        );
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        // The token first: its endpoint has retries of its own, which the loop below must
        // not multiply (each attempt would retry the token fetch again).
        self.bearer().await?;
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let (error, header_retry_after) =
                match self.raw(method.clone(), path, headers, body.clone()).await {
                    Ok(raw) if raw.status.is_success() => return Ok(raw),
                    Ok(raw) => {
                        let error = api_error(&raw);
                        if raw.status == StatusCode::UNAUTHORIZED
                            && !renewed
                            && matches!(self.auth, Auth::Credentials { .. })
                            && error.code() == Some(ErrorCode::AuthenticationExpired)
                        {
                            // The cached token expired early (e.g. the server's clock is
                            // ahead): fetch a new one and send again, once.
                            renewed = true;
                            attempt -= 1;
                            self.forget_token();
                            continue;
                        }
                        (error, retry_after(&raw, None))
                    }
                    Err(e) => (e, None),
                };
            let (reason, after) = match RetryVerdict::of(&error, idempotent) {
                RetryVerdict::RateLimited { retry_after } => ("rate limited (429)", retry_after),
                RetryVerdict::Transient {
                    reason,
                    retry_after,
                } => (
                    error
                        .transport_failure()
                        .map_or(reason, TransportFailure::as_str),
                    retry_after,
                ),
                RetryVerdict::Never => return Err(error),
            };
            // An error without a JSON body still has the response's `Retry-After` header.
            match self.retry.delay(attempt, after.or(header_retry_after)) {
                Some(delay) => self.pause(attempt, delay, reason).await,
                None => return Err(error),
            }
        }
    }

    pub(crate) async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let raw = self.call_raw(method, path, body).await?;
        decode(&raw)
    }

    pub(crate) async fn call_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<RawResponse> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        self.send(method, path, bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    /// A request that has a valid token does not wait for anyone, not even for a token
    /// fetch in progress in a future its caller is not polling (here: a lock nobody
    /// releases). See `tests/it/concurrency.rs` for the deadlock this prevents.
    #[tokio::test]
    async fn a_cached_token_is_read_without_waiting_for_a_fetch() {
        let client = Client::new("http://127.0.0.1:9").with_credentials("id", "secret");
        *client.token_slot() = Some(CachedToken {
            token: "cached".into(),
            scope: "interaction:view".into(),
            renew_at: Instant::now() + Duration::from_secs(600),
        });
        let _fetch_in_progress = client.fetching.lock().await;
        let token = client.bearer().now_or_never().expect("ready at once");
        assert_eq!(token.unwrap().as_deref(), Some("cached"));
    }
}
