//! Credentials: client secrets (argon2), access tokens (random, stored as SHA-256), the
//! cache that keeps both off the path of every request, and the bearer token of a request.

use std::collections::HashMap;
use std::sync::RwLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wrapup_domain::Principal;
use wrapup_store::{ClientRecord, Store, TokenRecord};
use wrapup_types::{DivisionGrant, ErrorCode, ErrorDetail, ScopeSet};

use super::hashing::{HashingPool, PoolBusy};
use crate::error::ApiError;
use crate::sharded::{self, Padded, SHARDS};

/// How long an access token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 86_400;
const TOKEN_PREFIX: &str = "wu_";
/// The most tokens (over all the threads' maps) and accepted secrets the caches keep.
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

/// What a token is stored and cached under: its SHA-256.
pub fn token_hash(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

/// A new access token for `client_id`, valid for [`TOKEN_LIFETIME_SECS`] from `now_ms`: the
/// token, to be sent once, and its stored record.
pub fn new_token(client_id: Uuid, scopes: ScopeSet, now_ms: i64) -> (String, TokenRecord) {
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let record = TokenRecord {
        hash: token_hash(&token),
        client_id,
        scopes,
        expires_ms: now_ms + TOKEN_LIFETIME_SECS as i64 * 1000,
    };
    (token, record)
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

impl CachedToken {
    fn principal_at(&self, now_ms: i64) -> Result<Principal, ApiError> {
        if self.expires_ms <= now_ms {
            return Err(ApiError::one(
                ErrorDetail::new(
                    ErrorCode::AuthenticationExpired,
                    format!("The bearer token expired at {}.", wrapup_types::timestamp::format(wrapup_types::timestamp::from_millis(self.expires_ms))),
                )
                .hint("Get a new token from POST /oauth/token; renew tokens shortly before expires_in runs out."),
            ));
        }
        Ok(self.principal.clone())
    }
}

/// Caches token lookups and successful secret checks, so neither the store nor argon2 is
/// on the path of every request. Tokens never change once issued.
#[derive(Default)]
pub struct CredentialCache {
    /// Who each token belongs to, a map per thread (`sharded`): every request reads one,
    /// and a lock shared by the HTTP workers would move from core to core each time. A
    /// worker looks a token up in the store once, the first time it sees it.
    tokens: [Padded<RwLock<Cached<CachedToken>>>; SHARDS],
    /// SHA-256 of (client id, secret) pairs argon2 already accepted.
    verified: RwLock<Cached<()>>,
}

/// A cache by SHA-256 hash.
type Cached<V> = HashMap<[u8; 32], V, Hashes>;

/// The keys are SHA-256 hashes already: foldhash (seeded per process) rather than SipHash.
type Hashes = foldhash::fast::RandomState;

/// Inserts, first emptying the map if it holds `limit` entries.
fn insert_bounded<V>(map: &RwLock<Cached<V>>, limit: usize, key: [u8; 32], value: V) {
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    if map.len() >= limit {
        map.clear();
    }
    map.insert(key, value);
}

impl CredentialCache {
    /// Authenticates the token with this hash from the cache alone, without waiting: `None`
    /// when it is not cached yet (then ask [`CredentialCache::stored_principal`]).
    pub fn cached_principal(
        &self,
        token_hash: &[u8; 32],
        now_ms: i64,
    ) -> Option<Result<Principal, ApiError>> {
        let tokens = self.tokens[sharded::this_thread()]
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner());
        tokens
            .get(token_hash)
            .map(|entry| entry.principal_at(now_ms))
    }

    /// Authenticates the token with this hash from the store, and caches who it belongs to.
    pub async fn stored_principal(
        &self,
        store: &dyn Store,
        token_hash: [u8; 32],
        now_ms: i64,
    ) -> Result<Principal, ApiError> {
        let invalid = || {
            ApiError::one(
                ErrorDetail::new(ErrorCode::AuthenticationInvalid, "The bearer token is not known to this server.")
                    .hint("Get a new token from POST /oauth/token (tokens from another server or database are not valid here)."),
            )
        };
        let record = store.get_token(&token_hash).await?.ok_or_else(invalid)?;
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
        let tokens = &self.tokens[sharded::this_thread()].0;
        insert_bounded(tokens, CACHE_LIMIT / SHARDS, token_hash, entry.clone());
        entry.principal_at(now_ms)
    }

    /// Whether `secret` was already verified as `client`'s secret on this server: then it
    /// is, without argon2 (the pair is cached as its SHA-256).
    pub fn already_verified(&self, client: &ClientRecord, secret: &str) -> bool {
        self.verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&verified_key(client.id, secret))
    }

    /// Whether `secret` is `client`'s secret: argon2, on the hashing pool (refused at once
    /// when its queue is full), once per pair.
    pub async fn check_secret(
        &self,
        hashing: &HashingPool,
        client: &ClientRecord,
        secret: &str,
    ) -> Result<bool, PoolBusy> {
        if self.already_verified(client, secret) {
            return Ok(true);
        }
        let key = verified_key(client.id, secret);
        let (secret, phc) = (secret.to_string(), client.secret_hash.clone());
        let ok = hashing.run(move || verify_secret(&secret, &phc)).await?;
        if ok {
            insert_bounded(&self.verified, CACHE_LIMIT, key, ());
        }
        Ok(ok)
    }
}

fn verified_key(client: Uuid, secret: &str) -> [u8; 32] {
    sha256(&[client.as_bytes().as_slice(), secret.as_bytes()].concat())
}

/// The bearer token of a request, or the 401 saying what is wrong with the header (or
/// with what it holds instead of a token: see `not_a_token`).
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let required = |message: &str| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::AuthenticationRequired, message)
                .hint("Send Authorization: Bearer <access_token>, with a token from POST /oauth/token (grant_type=client_credentials)."),
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        required("This operation needs an Authorization header with a bearer token; none was sent.")
    })?;
    // The header every request of a working client sends, `Bearer wu_…` with nothing
    // around the token, taken as it is; anything else goes through the reading below,
    // which gives the same token for this form (a test checks it).
    if let Some(token) = value.as_bytes().strip_prefix(b"Bearer ") {
        // `fold` rather than `all`: without the early exit, the check is vectorised.
        let graphic = token.iter().fold(true, |all, b| all & b.is_ascii_graphic());
        if token.starts_with(TOKEN_PREFIX.as_bytes()) && graphic {
            if let Ok(token) = std::str::from_utf8(token) {
                return Ok(token);
            }
        }
    }
    let value = value
        .to_str()
        .map_err(|_| required("The Authorization header is not readable text."))?
        .trim();
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            let token = token.trim();
            if token.starts_with(TOKEN_PREFIX) {
                Ok(token)
            } else {
                Err(not_a_token(token))
            }
        }
        Some((scheme, _)) if !scheme.eq_ignore_ascii_case("bearer") => Err(required(&format!(
            "The Authorization header uses the {scheme} scheme; this operation needs Bearer."
        ))),
        _ if value.eq_ignore_ascii_case("bearer") => Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::AuthenticationRequired,
                "The Authorization header is \"Bearer\" with nothing after it: the token sent is empty.",
            )
            .hint("The variable meant to hold the token is empty or unset (e.g. $TOKEN in \"Authorization: Bearer $TOKEN\"): set it to the access_token of POST /oauth/token's answer, and check that the token request succeeded."),
        )),
        _ => Err(required(
            "The Authorization header is malformed; expected \"Bearer <token>\".",
        )),
    }
}

/// The 401 for a bearer token that cannot be one this server issued (its tokens start with
/// `wu_`), saying what it is when that can be told: the JSON of an error answer of `POST
/// /oauth/token` (what a script's `sed` or `jq` leaves when the token request failed, e.g.
/// with a mistyped secret), `null` (what `jq -r .access_token` prints for such an answer),
/// or a token of another kind. The value itself is not echoed (it may be another system's
/// secret), only the OAuth error code it holds.
fn not_a_token(token: &str) -> ApiError {
    let (message, hint) = if token.starts_with('{') {
        let oauth_error = serde_json::from_str::<serde_json::Value>(token)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .filter(|e| e.len() <= 40 && e.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        match oauth_error {
            Some(code) => {
                let why = match code.as_str() {
                    "invalid_client" => "invalid_client: the client id or secret is wrong".to_string(),
                    "invalid_scope" => "invalid_scope: a scope the client was not granted".to_string(),
                    other => format!("{other}: its error_description says why"),
                };
                (
                    format!("The bearer token is the JSON of an error answer of POST /oauth/token (\"error\": \"{code}\"), not a token: this server's tokens start with wu_."),
                    format!("The token request failed, so there was no token to send: fix what it answered ({why}), then send the access_token of its 200 answer. A script should stop when the token request fails (e.g. curl --fail) instead of sending its answer on."),
                )
            }
            None => (
                "The bearer token is JSON, not a token: this server's tokens start with wu_.".to_string(),
                "Send the access_token field of POST /oauth/token's answer, not the whole answer (e.g. jq -r .access_token).".to_string(),
            ),
        }
    } else if matches!(token, "null" | "undefined") {
        (
            format!("The bearer token is \"{token}\", not a token: this server's tokens start with wu_."),
            "The variable meant to hold the token has none, as when jq -r .access_token reads an error answer of POST /oauth/token: check that the token request succeeded (its answer says why not), then send its access_token.".to_string(),
        )
    } else {
        (
            "The bearer token is not a token of this server: its tokens start with wu_.".to_string(),
            "Get a token from this server's POST /oauth/token (grant_type=client_credentials) and send its access_token; tokens of other systems (e.g. Genesys Cloud) are not valid here.".to_string(),
        )
    };
    ApiError::one(ErrorDetail::new(ErrorCode::AuthenticationInvalid, message).hint(hint))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::bearer;

    fn read(value: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static(value));
        bearer(&headers).ok().map(str::to_string)
    }

    #[test]
    fn the_usual_header_and_its_variants_give_the_same_token() {
        let token = Some("wu_abc-DEF_123".to_string());
        for value in [
            "Bearer wu_abc-DEF_123",
            "bearer wu_abc-DEF_123",
            "BEARER wu_abc-DEF_123",
            "Bearer  wu_abc-DEF_123",
            " Bearer wu_abc-DEF_123 ",
            "Bearer wu_abc-DEF_123\t",
        ] {
            assert_eq!(read(value), token, "{value:?}");
        }
    }

    #[test]
    fn what_is_not_a_bearer_token_is_refused() {
        for value in [
            "Bearer",
            "Bearer ",
            "Basic wu_abc",
            "Bearer abc",
            "Bearerwu_abc",
            "wu_abc",
        ] {
            assert_eq!(read(value), None, "{value:?}");
        }
    }
}
