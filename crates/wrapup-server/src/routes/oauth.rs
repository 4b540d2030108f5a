//! `POST /oauth/token`: the OAuth 2.0 client credentials grant, answering in RFC 6749's
//! error format rather than the API's envelope.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use uuid::Uuid;
use wrapup_types::{OAuthErrorBody, ScopeSet, TokenResponse};

use crate::auth::{new_token, TOKEN_LIFETIME_SECS};
use crate::state::AppState;

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
    if !state.credentials.check_secret(&client, &secret).await {
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
    let (token, record) = new_token(client_id, scopes, state.clock.now_ms());
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
