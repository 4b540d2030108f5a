//! A client for the wrapup API (`shared/API.md`): OAuth client credentials with a cached
//! token, and one typed method per operation. Errors carry the API's error body.

#![forbid(unsafe_code)]

mod events;

pub use events::{EventQuery, EventStream, StreamEvent};

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use uuid::Uuid;
use wrapup_types::{
    Channel, ClientCredentials, CreateClient, CreateDivision, CreateInteraction, CreateWrapUpCode,
    Division, ErrorBody, Interaction, InteractionState, OAuthErrorBody, Page, SetState,
    TargetState, TokenResponse, UpdateWrapUpCode, WrapUp, WrapUpCode, WrapUpRequest,
};

/// The longest an ordinary request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest the event stream may stay silent (the server sends a keep-alive at least
/// every 15 s).
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(45);

/// Renew a cached token this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// What can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused the request; the body says why.
    #[error("{} {}: {}", .status, .body.code, .body.message)]
    Api {
        status: u16,
        body: ErrorBody,
        retry_after: Option<Duration>,
    },
    /// The token endpoint refused the credentials or the request.
    #[error("token request failed ({status}): {}: {}", .body.error, .body.error_description)]
    OAuth { status: u16, body: OAuthErrorBody },
    /// The server could not be reached, or the connection failed.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered something this client does not understand.
    #[error("unexpected response ({status}): {message}")]
    Unexpected { status: u16, message: String },
    /// No credentials were configured for an operation that needs a token.
    #[error("no credentials: set a client id and secret, or a token")]
    NoCredentials,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The API error code, when the API refused the request.
    pub fn code(&self) -> Option<wrapup_types::ErrorCode> {
        match self {
            Error::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }
}

enum Auth {
    None,
    Token(String),
    Credentials {
        id: String,
        secret: String,
        scope: Option<String>,
    },
}

struct Cached {
    token: String,
    renew_at: Instant,
}

/// Filters of `list_interactions`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<InteractionState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapped_up: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Filters of `list_codes`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A raw response, for callers that inspect what the server sent.
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as the API's error envelope.
    pub fn error_body(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A wrapup API client.
pub struct Client {
    http: reqwest::Client,
    /// For the event stream: no overall timeout, a read timeout instead.
    stream_http: reqwest::Client,
    base: String,
    auth: Auth,
    cached: Mutex<Option<Cached>>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), without
    /// credentials.
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
        }
    }

    /// Authenticate with OAuth client credentials; tokens are fetched, cached and renewed
    /// before they expire.
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

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /oauth/token` with the configured credentials.
    pub async fn fetch_token(&self) -> Result<TokenResponse> {
        let Auth::Credentials { id, secret, scope } = &self.auth else {
            return Err(Error::NoCredentials);
        };
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
                status: status.as_u16(),
                message: e.to_string(),
            });
        }
        match serde_json::from_slice(&bytes) {
            Ok(body) => Err(Error::OAuth {
                status: status.as_u16(),
                body,
            }),
            Err(_) => Err(Error::Unexpected {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        }
    }

    /// The bearer token to send: the configured one, or a cached one renewed as needed.
    pub async fn bearer(&self) -> Result<Option<String>> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Token(t) => Ok(Some(t.clone())),
            Auth::Credentials { .. } => {
                let mut cached = self.cached.lock().await;
                if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.renew_at) {
                    return Ok(Some(c.token.clone()));
                }
                let fetched = self.fetch_token().await?;
                let lifetime = Duration::from_secs(fetched.expires_in).saturating_sub(RENEW_BEFORE);
                *cached = Some(Cached {
                    token: fetched.access_token.clone(),
                    renew_at: Instant::now() + lifetime,
                });
                Ok(Some(fetched.access_token))
            }
        }
    }

    /// Sends a request as is and returns the response as is (after authentication).
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
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await?;
        Ok(RawResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await?.to_vec(),
        })
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let raw = self.call_raw(method, path, body).await?;
        decode(&raw)
    }

    async fn call_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<RawResponse> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        let headers: &[(&str, &str)] = if bytes.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        let raw = self.raw(method, path, headers, bytes).await?;
        if raw.status.is_success() {
            Ok(raw)
        } else {
            Err(api_error(&raw))
        }
    }

    pub async fn health(&self) -> Result<()> {
        let raw = self.raw(Method::GET, "/healthz", &[], None).await?;
        if raw.status.is_success() {
            Ok(())
        } else {
            Err(Error::Unexpected {
                status: raw.status.as_u16(),
                message: "the server reports it is unhealthy".into(),
            })
        }
    }

    pub async fn openapi(&self) -> Result<serde_json::Value> {
        self.call::<(), _>(Method::GET, "/api/v2/openapi.json", None)
            .await
    }

    pub async fn list_divisions(&self) -> Result<Page<Division>> {
        self.call::<(), _>(Method::GET, "/api/v2/authorization/divisions", None)
            .await
    }

    pub async fn create_division(&self, name: &str) -> Result<Division> {
        self.call(
            Method::POST,
            "/api/v2/authorization/divisions",
            Some(&CreateDivision { name: name.into() }),
        )
        .await
    }

    pub async fn create_client(&self, body: &CreateClient) -> Result<ClientCredentials> {
        self.call(Method::POST, "/api/v2/oauth/clients", Some(body))
            .await
    }

    pub async fn list_codes(&self, query: &CodeQuery) -> Result<Page<WrapUpCode>> {
        let path = format!("/api/v2/routing/wrapupcodes?{}", query_string(query));
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn create_code(&self, body: &CreateWrapUpCode) -> Result<WrapUpCode> {
        self.call(Method::POST, "/api/v2/routing/wrapupcodes", Some(body))
            .await
    }

    pub async fn get_code(&self, id: Uuid) -> Result<WrapUpCode> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            None,
        )
        .await
    }

    pub async fn update_code(&self, id: Uuid, body: &UpdateWrapUpCode) -> Result<WrapUpCode> {
        self.call(
            Method::PUT,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            Some(body),
        )
        .await
    }

    pub async fn archive_code(&self, id: Uuid) -> Result<WrapUpCode> {
        self.call::<(), _>(
            Method::DELETE,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            None,
        )
        .await
    }

    pub async fn create_interaction(
        &self,
        division_id: Uuid,
        channel: Channel,
    ) -> Result<Interaction> {
        self.call(
            Method::POST,
            "/api/v2/interactions",
            Some(&CreateInteraction {
                division_id,
                channel,
            }),
        )
        .await
    }

    pub async fn get_interaction(&self, id: Uuid) -> Result<Interaction> {
        self.call::<(), _>(Method::GET, &format!("/api/v2/interactions/{id}"), None)
            .await
    }

    pub async fn list_interactions(&self, query: &InteractionQuery) -> Result<Page<Interaction>> {
        let path = format!("/api/v2/interactions?{}", query_string(query));
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn set_state(&self, id: Uuid, state: TargetState) -> Result<Interaction> {
        self.call(
            Method::POST,
            &format!("/api/v2/interactions/{id}/state"),
            Some(&SetState { state }),
        )
        .await
    }

    /// `PUT /api/v2/interactions/{id}/wrap-up`.
    pub async fn put_wrapup(&self, id: Uuid, body: &WrapUpRequest) -> Result<()> {
        self.call_raw(
            Method::PUT,
            &format!("/api/v2/interactions/{id}/wrap-up"),
            Some(body),
        )
        .await?;
        Ok(())
    }

    pub async fn get_wrapup(&self, id: Uuid) -> Result<WrapUp> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/interactions/{id}/wrap-up"),
            None,
        )
        .await
    }

    pub async fn wrapup_history(&self, id: Uuid) -> Result<Vec<WrapUp>> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/interactions/{id}/wrap-up/history"),
            None,
        )
        .await
    }
}

fn query_string<Q: Serialize>(query: &Q) -> String {
    let value = serde_json::to_value(query).unwrap_or_default();
    let mut out = form_urlencoded_pairs(&value);
    if out.ends_with('&') {
        out.pop();
    }
    out
}

fn form_urlencoded_pairs(value: &serde_json::Value) -> String {
    let mut out = String::new();
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("{}={}&", encode(k), encode(&v)));
        }
    }
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode<T: DeserializeOwned>(raw: &RawResponse) -> Result<T> {
    serde_json::from_slice(&raw.body).map_err(|e| Error::Unexpected {
        status: raw.status.as_u16(),
        message: format!("could not decode the response: {e}"),
    })
}

pub(crate) fn api_error(raw: &RawResponse) -> Error {
    let retry_after = raw
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let is_json = raw
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match raw.error_body().filter(|_| is_json) {
        Some(body) => Error::Api {
            status: raw.status.as_u16(),
            body,
            retry_after,
        },
        None => Error::Unexpected {
            status: raw.status.as_u16(),
            message: String::from_utf8_lossy(&raw.body)
                .chars()
                .take(500)
                .collect(),
        },
    }
}
