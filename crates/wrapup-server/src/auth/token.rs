//! `POST /oauth/token`: the OAuth 2.0 client credentials grant, answering in RFC 6749's
//! error format rather than the API's envelope.

use std::collections::HashMap;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use utoipa::ToSchema;
use uuid::Uuid;
use wrapup_store::{ClientRecord, Store, StoreError};
use wrapup_types::{OAuthErrorBody, ScopeSet, TokenResponse};

use super::limits::{Limited, LimitedBy};
use super::{new_token, Authentication, TOKEN_LIFETIME_SECS};
use crate::clock::Clock;
use crate::metrics::{LimitLabels, Metrics};
use crate::middleware::context::RequestContext;
use crate::state::AppState;

/// What a token request needs of the server.
#[derive(Clone)]
pub struct Issuer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    auth: Arc<Authentication>,
    metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Issuer {
    fn from_ref(state: &AppState) -> Issuer {
        Issuer {
            store: state.store.clone(),
            clock: state.clock.clone(),
            auth: state.auth.clone(),
            metrics: state.observability.metrics.clone(),
        }
    }
}

/// An RFC 6749 §5.2 error.
pub struct OAuthError {
    status: StatusCode,
    body: OAuthErrorBody,
    /// Seconds for `Retry-After` (429 and 503).
    retry_after_s: Option<u64>,
}

impl OAuthError {
    fn new(error: &str, description: impl Into<String>) -> OAuthError {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            status,
            body: OAuthErrorBody {
                error: error.into(),
                error_description: description.into(),
            },
            retry_after_s: (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1),
        }
    }

    /// 429: a failed-authentication limit refuses the attempt before the secret is checked.
    fn limited(limited: Limited) -> OAuthError {
        let seconds = limited.retry_after_ms.div_ceil(1000).max(1);
        let whose = match limited.by {
            LimitedBy::ClientId => "this client id",
            LimitedBy::Address => "this address",
        };
        OAuthError {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: OAuthErrorBody {
                error: "temporarily_unavailable".into(),
                error_description: format!(
                    "Too many failed authentications for {whose} (the limit is {} failures); \
the secret was not checked. Retry in {seconds} s (Retry-After) with the right secret.",
                    limited.limit
                ),
            },
            retry_after_s: Some(seconds),
        }
    }

    /// 503: the server could not check or record credentials; nothing counts against the
    /// client.
    fn unavailable(description: impl Into<String>) -> OAuthError {
        OAuthError::new("temporarily_unavailable", description)
    }

    /// 503 for a store error, naming a write the database could not make.
    fn store(e: StoreError, doing: &str) -> OAuthError {
        match e {
            StoreError::NotWritten(why) => OAuthError::unavailable(format!(
                "The server could not write to its database ({why}), so it cannot {doing} right now; retry shortly."
            )),
            _ => OAuthError::unavailable(format!(
                "The server cannot {doing} right now; retry shortly."
            )),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            "no-store".parse().expect("static header"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"wrapup\"".parse().expect("static header"),
            );
        }
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The form of a token request (the handler reads the form itself, to answer each problem
/// in RFC 6749's terms).
#[derive(ToSchema)]
pub struct TokenForm {
    /// Always `client_credentials`.
    grant_type: GrantType,
    /// Space-separated scopes to narrow the token to (a subset of the client's); all of the
    /// client's when absent.
    #[schema(
        nullable = false,
        pattern = r"^[ ,]*((interaction:(view|write|manage)|wrapup-code:(view|manage)|webhook:manage|admin)[ ,]*)*$"
    )]
    scope: Option<String>,
    /// The client id, unless sent with HTTP Basic.
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// The client secret, unless sent with HTTP Basic.
    #[schema(nullable = false)]
    client_secret: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum GrantType {
    ClientCredentials,
}

/// Issue an access token (OAuth 2.0 client credentials grant)
///
/// Authenticate the client with HTTP Basic (`client_id:client_secret`) or with the
/// `client_id` and `client_secret` form fields. `scope` (space-separated) narrows the token
/// to a subset of the client's scopes. Failed authentications are limited per client id
/// and per source address (429 with `Retry-After`; a secret this server already accepted
/// is not limited), and secrets are checked on a bounded pool (503 when it is full).
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "issueToken",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=client_credentials`, optional `scope`, and `client_id` + `client_secret` unless sent with HTTP Basic.",
        example = "grant_type=client_credentials&scope=interaction%3Aview%20interaction%3Awrite"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`.", body = OAuthErrorBody,
            example = json!({"error": "invalid_scope", "error_description": "The client is not granted the scope admin."})),
        (status = 401, description = "`invalid_client`: unknown client or wrong secret.", body = OAuthErrorBody,
            example = json!({"error": "invalid_client", "error_description": "Unknown client or wrong secret."})),
        (status = 429, description = "`temporarily_unavailable`: too many failed authentications for this client id or from this address; the secret was not checked. Retry after `Retry-After` seconds.", body = OAuthErrorBody,
            headers(("Retry-After" = u64, description = "Seconds before an attempt is allowed again.")),
            example = json!({"error": "temporarily_unavailable", "error_description": "Too many failed authentications for this client id (the limit is 10/min failures); the secret was not checked. Retry in 6 s (Retry-After) with the right secret."})),
        (status = 503, description = "`temporarily_unavailable`: the server cannot check credentials now (the secret-hashing queue is full, or the database cannot be read or written). Retry after `Retry-After` seconds.", body = OAuthErrorBody,
            headers(("Retry-After" = u64, description = "Seconds before retrying.")),
            example = json!({"error": "temporarily_unavailable", "error_description": "The server is checking too many secrets right now; retry in a second."})),
    ),
    security(())
)]
pub async fn issue_token(
    State(state): State<Issuer>,
    extensions: Extensions,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&headers, &body)?;
    let (client_id, secret) = credentials(&headers, &form)?;
    let peer = extensions
        .get::<RequestContext>()
        .and_then(RequestContext::peer)
        .map(|peer| peer.ip());
    let client = authenticate(&state, &client_id, &secret, peer).await?;
    let scopes = match form
        .scope
        .as_deref()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => client.scopes,
        Some(requested) => {
            let requested = ScopeSet::parse(requested).map_err(|s| {
                OAuthError::new(
                    "invalid_scope",
                    format!("{s} is not a scope this server knows."),
                )
            })?;
            if !requested.is_subset(client.scopes) {
                let missing: Vec<&str> = requested
                    .iter()
                    .filter(|s| !client.scopes.contains(*s))
                    .map(|s| s.as_str())
                    .collect();
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!(
                        "The client is not granted the scope {}; it has \"{}\".",
                        missing.join(" "),
                        client.scopes
                    ),
                ));
            }
            requested
        }
    };
    let (token, record) = new_token(client.id, scopes, state.clock.now_ms());
    state
        .store
        .insert_token(&record)
        .await
        .map_err(|e| OAuthError::store(e, "issue tokens"))?;
    let mut response = Json(TokenResponse {
        access_token: token,
        token_type: "bearer".into(),
        expires_in: TOKEN_LIFETIME_SECS,
        scope: scopes.to_string(),
    })
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    Ok(response)
}

/// The form, each field once; `grant_type` must be `client_credentials`.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::new(
            "invalid_request",
            "The token request must be form-encoded (Content-Type: application/x-www-form-urlencoded).",
        ));
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if fields.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(OAuthError::new(
                "invalid_request",
                format!("The parameter {k} appears more than once."),
            ));
        }
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => Ok(TokenForm {
            grant_type: GrantType::ClientCredentials,
            scope: fields.remove("scope"),
            client_id: fields.remove("client_id"),
            client_secret: fields.remove("client_secret"),
        }),
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type {other} is not supported; use grant_type=client_credentials."),
        )),
        None => Err(OAuthError::new(
            "invalid_request",
            "grant_type is missing; send grant_type=client_credentials.",
        )),
    }
}

/// The client id and secret, from HTTP Basic or the form (one way only).
fn credentials(headers: &HeaderMap, form: &TokenForm) -> Result<(String, String), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_string())
        });
    let TokenForm {
        grant_type: GrantType::ClientCredentials,
        client_id,
        client_secret,
        ..
    } = form;
    match (basic, client_id, client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(OAuthError::new(
            "invalid_request",
            "Authenticate the client one way only: HTTP Basic or the client_id and client_secret fields.",
        )),
        (Some(b64), None, None) => {
            let decoded = STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::new("invalid_client", "The HTTP Basic credentials are not valid base64 text."))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::new("invalid_client", "The HTTP Basic credentials must be client_id:client_secret."))?;
            Ok((percent_decode(id), percent_decode(secret)))
        }
        (None, Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
        (None, _, _) => Err(OAuthError::new(
            "invalid_client",
            "No client credentials were sent; use HTTP Basic (client_id:client_secret) or the client_id and client_secret fields.",
        )),
    }
}

/// Holds a refusal made without checking the secret (over a limit, the hashing queue full)
/// for `refusal_delay` on the server's clock: retrying at once, as a flood does, then gets
/// one answer a second per connection instead of thousands, which would take the CPUs from
/// everyone else (docs/operations.md#failed-authentication).
/// Returns the milliseconds paused.
async fn refusal_pause(state: &Issuer) -> u64 {
    let delay = state.auth.refusal_delay.as_millis() as u64;
    if delay > 0 {
        state
            .clock
            .sleep_until(state.clock.now_ms() + delay as i64)
            .await;
    }
    delay
}

/// The client these credentials authenticate. A secret this server already verified is
/// accepted at once; any other attempt must pass the failed-authentication limits (429)
/// and is checked on the hashing pool (503 when its queue is full). A failure counts
/// against the client id and the source address.
async fn authenticate(
    state: &Issuer,
    client_id: &str,
    secret: &str,
    peer: Option<std::net::IpAddr>,
) -> Result<ClientRecord, OAuthError> {
    let unknown = || {
        state.metrics.token_failures.inc();
        OAuthError::new("invalid_client", "Unknown client or wrong secret.")
    };
    let id = Uuid::parse_str(client_id).ok();
    let client = match id {
        Some(id) => state
            .store
            .get_client(id)
            .await
            .map_err(|e| OAuthError::store(e, "check credentials"))?,
        None => None,
    };
    if let Some(client) = client.as_ref() {
        if state.auth.credentials.already_verified(client, secret) {
            return Ok(client.clone());
        }
    }
    let attempt = match state.auth.limits.attempt(id, peer, state.clock.now_ms()) {
        Ok(attempt) => attempt,
        Err(mut limited) => {
            state
                .metrics
                .token_limited
                .get_or_create(&LimitLabels {
                    limit: limited.by.as_str().to_string(),
                })
                .inc();
            let paused = refusal_pause(state).await;
            // Retry-After counts from the answer, which the pause delayed.
            limited.retry_after_ms = limited.retry_after_ms.saturating_sub(paused);
            return Err(OAuthError::limited(limited));
        }
    };
    let Some(client) = client else {
        return Err(unknown());
    };
    match state
        .auth
        .credentials
        .check_secret(&state.auth.hashing, &client, secret)
        .await
    {
        Ok(true) => {
            attempt.not_a_failure();
            Ok(client)
        }
        Ok(false) => Err(unknown()),
        Err(_busy) => {
            attempt.not_a_failure();
            refusal_pause(state).await;
            Err(OAuthError::unavailable(
                "The server is checking too many secrets right now; retry in a second.",
            ))
        }
    }
}
