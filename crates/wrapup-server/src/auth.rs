//! OAuth 2.0 client credentials: client secrets (argon2), access tokens (random, stored as
//! SHA-256), the `POST /oauth/token` endpoint and the extractors that authenticate and
//! authorize API calls.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::RwLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wrapup_domain::Principal;
use wrapup_store::{ClientRecord, Store, TokenRecord};
use wrapup_types::{
    DivisionGrant, ErrorCode, ErrorDetail, OAuthErrorBody, Scope, ScopeSet, TokenResponse,
};

use crate::error::ApiError;
use crate::observe::RequestContext;
use crate::ratelimit::{Decision, Limiter};
use crate::AppState;

/// How long an access token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 86_400;
const TOKEN_PREFIX: &str = "wu_";
const CACHE_LIMIT: usize = 100_000;

/// A new random secret or token body: 32 bytes, base64url.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Hashes a client secret for storage (argon2id, PHC string).
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// A new OAuth client: its stored record and its secret, to be shown once.
pub fn new_client(
    id: Uuid,
    name: &str,
    scopes: ScopeSet,
    divisions: DivisionGrant,
    now_ms: i64,
    secret: Option<&str>,
) -> (ClientRecord, String) {
    let secret = secret.map_or_else(random_secret, str::to_string);
    let record = ClientRecord {
        id,
        name: name.to_string(),
        secret_hash: hash_secret(&secret),
        scopes,
        divisions,
        created_ms: now_ms,
    };
    (record, secret)
}

/// Who a token belongs to, cached after the first lookup.
#[derive(Debug, Clone)]
struct CachedToken {
    principal: Principal,
    expires_ms: i64,
}

/// Caches token lookups and successful secret checks, so neither the store nor argon2 is
/// on the path of every request. Tokens never change once issued.
#[derive(Default)]
pub struct AuthCache {
    tokens: RwLock<HashMap<[u8; 32], CachedToken>>,
    /// SHA-256 of (client id, secret) pairs argon2 already accepted.
    verified: RwLock<HashMap<[u8; 32], ()>>,
}

fn insert_bounded<V>(map: &RwLock<HashMap<[u8; 32], V>>, key: [u8; 32], value: V) {
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(key, value);
}

impl AuthCache {
    /// Authenticates a bearer token.
    pub async fn principal(
        &self,
        store: &dyn Store,
        token: &str,
        now_ms: i64,
    ) -> Result<Principal, ApiError> {
        let hash = sha256(token.as_bytes());
        let cached = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .cloned();
        let entry = match cached {
            Some(entry) => entry,
            None => {
                let invalid = || {
                    ApiError::one(
                        ErrorDetail::new(ErrorCode::AuthenticationInvalid, "The bearer token is not known to this server.")
                            .hint("Get a new token from POST /oauth/token (tokens from another server or database are not valid here)."),
                    )
                };
                let record = store.get_token(&hash).await?.ok_or_else(invalid)?;
                let client = store
                    .get_client(record.client_id)
                    .await?
                    .ok_or_else(invalid)?;
                let entry = CachedToken {
                    principal: Principal {
                        client_id: client.id,
                        scopes: record
                            .scopes
                            .iter()
                            .filter(|s| client.scopes.contains(*s))
                            .collect(),
                        divisions: client.divisions,
                    },
                    expires_ms: record.expires_ms,
                };
                insert_bounded(&self.tokens, hash, entry.clone());
                entry
            }
        };
        if entry.expires_ms <= now_ms {
            return Err(ApiError::one(
                ErrorDetail::new(
                    ErrorCode::AuthenticationExpired,
                    format!("The bearer token expired at {}.", wrapup_types::timestamp::format(wrapup_types::timestamp::from_millis(entry.expires_ms))),
                )
                .hint("Get a new token from POST /oauth/token; renew tokens shortly before expires_in runs out."),
            ));
        }
        Ok(entry.principal)
    }

    async fn check_secret(&self, client: &ClientRecord, secret: &str) -> bool {
        let key = sha256(&[client.id.as_bytes().as_slice(), secret.as_bytes()].concat());
        if self
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&key)
        {
            return true;
        }
        let (secret, phc) = (secret.to_string(), client.secret_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_secret(&secret, &phc))
            .await
            .unwrap_or(false);
        if ok {
            insert_bounded(&self.verified, key, ());
        }
        ok
    }
}

/// The bearer token of a request, or the 401 saying what is wrong with the header.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let required = |message: &str| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::AuthenticationRequired, message)
                .hint("Send Authorization: Bearer <access_token>, with a token from POST /oauth/token (grant_type=client_credentials)."),
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        required("This operation needs an Authorization header with a bearer token; none was sent.")
    })?;
    let value = value
        .to_str()
        .map_err(|_| required("The Authorization header is not readable text."))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        Some((scheme, _)) if !scheme.eq_ignore_ascii_case("bearer") => Err(required(&format!(
            "The Authorization header uses the {scheme} scheme; this operation needs Bearer."
        ))),
        _ => Err(required(
            "The Authorization header is malformed; expected \"Bearer <token>\".",
        )),
    }
}

/// An authenticated caller, whatever its scopes.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?;
        let now_ms = state.clock.now_ms();
        let principal = state
            .auth
            .principal(state.store.as_ref(), token, now_ms)
            .await?;
        let rate = state.limiter.take(principal.client_id, now_ms);
        if let Some(context) = parts.extensions.get::<RequestContext>() {
            context.update(|o| {
                o.client_id = Some(principal.client_id);
                o.rate = rate;
            });
        }
        match rate {
            Some(decision) if !decision.allowed => {
                state.metrics.rate_limited.inc();
                Err(rate_limited(&state.limiter, decision))
            }
            _ => Ok(Authenticated(principal)),
        }
    }
}

fn rate_limited(limiter: &Limiter, decision: Decision) -> ApiError {
    let limit = limiter.limit().map(|l| l.to_string()).unwrap_or_default();
    let seconds = decision.retry_after_ms.div_ceil(1000).max(1);
    ApiError::one(
        ErrorDetail::new(
            ErrorCode::RequestRateLimited,
            format!(
                "This OAuth client exceeded its rate limit of {limit}; retry in {seconds} s (Retry-After)."
            ),
        )
        .hint("Wait for Retry-After seconds before the next request; RateLimit-Remaining shows the budget left. Spread batch work over time or ask the operator for a higher --rate-limit.")
        .retry_after_ms(decision.retry_after_ms),
    )
}

/// A scope, as a type, for [`Authorized`].
pub trait RequiredScope: Send + Sync {
    const SCOPE: Scope;
}

macro_rules! scopes {
    ($($name:ident => $scope:ident),* $(,)?) => {$(
        #[doc = concat!("Marker for the `", stringify!($scope), "` scope.")]
        pub struct $name;
        impl RequiredScope for $name {
            const SCOPE: Scope = Scope::$scope;
        }
    )*};
}

scopes! {
    InteractionView => InteractionView,
    InteractionWrite => InteractionWrite,
    InteractionManage => InteractionManage,
    CodeView => WrapupCodeView,
    CodeManage => WrapupCodeManage,
    Admin => Admin,
}

/// An authenticated caller whose token has scope `S`; checked before anything else of the
/// request is looked at.
pub struct Authorized<S: RequiredScope>(pub Principal, pub PhantomData<S>);

impl<S: RequiredScope> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        principal.require(S::SCOPE).map_err(ApiError::one)?;
        Ok(Authorized(principal, PhantomData))
    }
}

/// An RFC 6749 §5.2 error.
pub struct OAuthError {
    status: StatusCode,
    body: OAuthErrorBody,
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
        response
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Issue an access token (OAuth 2.0 client credentials grant)
///
/// Authenticate the client with HTTP Basic (`client_id:client_secret`) or with the
/// `client_id` and `client_secret` form fields. `scope` (space-separated) narrows the token
/// to a subset of the client's scopes.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "issueToken",
    tag = "oauth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=client_credentials`, optional `scope`, and `client_id` + `client_secret` unless sent with HTTP Basic.",
        example = "grant_type=client_credentials&scope=interaction%3Aview%20interaction%3Awrite"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`.", body = OAuthErrorBody,
            example = json!({"error": "invalid_scope", "error_description": "The client is not granted the scope admin."})),
        (status = 401, description = "`invalid_client`: unknown client or wrong secret.", body = OAuthErrorBody,
            example = json!({"error": "invalid_client", "error_description": "Unknown client or wrong secret."})),
    ),
    security(())
)]
pub async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, OAuthError> {
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
    for (k, v) in form_urlencoded::parse(&body) {
        if fields.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(OAuthError::new(
                "invalid_request",
                format!("The parameter {k} appears more than once."),
            ));
        }
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {other} is not supported; use grant_type=client_credentials."),
            ))
        }
        None => {
            return Err(OAuthError::new(
                "invalid_request",
                "grant_type is missing; send grant_type=client_credentials.",
            ))
        }
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_string())
        });
    let (client_id, secret) = match (basic, fields.get("client_id"), fields.get("client_secret")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(OAuthError::new(
                "invalid_request",
                "Authenticate the client one way only: HTTP Basic or the client_id and client_secret fields.",
            ))
        }
        (Some(b64), None, None) => {
            let decoded = STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::new("invalid_client", "The HTTP Basic credentials are not valid base64 text."))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::new("invalid_client", "The HTTP Basic credentials must be client_id:client_secret."))?;
            (percent_decode(id), percent_decode(secret))
        }
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, _, _) => {
            return Err(OAuthError::new(
                "invalid_client",
                "No client credentials were sent; use HTTP Basic (client_id:client_secret) or the client_id and client_secret fields.",
            ))
        }
    };
    let unknown = || OAuthError::new("invalid_client", "Unknown client or wrong secret.");
    let client_id = Uuid::parse_str(&client_id).map_err(|_| unknown())?;
    let client = state
        .store
        .get_client(client_id)
        .await
        .map_err(|_| {
            OAuthError::new(
                "temporarily_unavailable",
                "The server cannot check credentials right now; retry shortly.",
            )
        })?
        .ok_or_else(unknown)?;
    if !state.auth.check_secret(&client, &secret).await {
        return Err(unknown());
    }
    let scopes = match fields
        .get("scope")
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
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let record = TokenRecord {
        hash: sha256(token.as_bytes()),
        client_id,
        scopes,
        expires_ms: state.clock.now_ms() + TOKEN_LIFETIME_SECS as i64 * 1000,
    };
    state.store.insert_token(&record).await.map_err(|_| {
        OAuthError::new(
            "temporarily_unavailable",
            "The server cannot issue tokens right now; retry shortly.",
        )
    })?;
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
