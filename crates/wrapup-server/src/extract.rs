//! Request parsing that answers in the API's error envelope: bodies (media type, size,
//! JSON, fields), query strings, and ids in paths.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use wrapup_domain::wrapup_body::{parse_object, too_large};
use wrapup_domain::MAX_BODY_BYTES;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::error::{ApiError, Resource};

/// docs/api.md#order-of-checks, step 3: the body is JSON, at most 64 KiB, and readable.
pub async fn read_json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    read_json_body_up_to(headers, body, MAX_BODY_BYTES, too_large).await
}

/// [`read_json_body`] with another size limit (`POST /api/v2/interactions/wrap-ups` takes
/// up to [`wrapup_domain::bulk_wrapups::MAX_BULK_BODY_BYTES`]); `too_large` is the problem
/// for a body declared longer.
pub async fn read_json_body_up_to(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    too_large: fn(usize) -> ErrorDetail,
) -> Result<Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json"))
    {
        let got = if content_type.is_empty() {
            "no Content-Type".to_string()
        } else {
            format!("Content-Type {content_type}")
        };
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestMediaUnsupported,
                format!("The body must be JSON; the request has {got}."),
            )
            .hint("Send the header Content-Type: application/json."),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > limit) {
        return Err(ApiError::one(too_large(len)));
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if is_length_limit(&e) => Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestBodyTooLarge,
                format!("The body is larger than {limit} bytes, the most accepted."),
            )
            .hint("A request body here is a few small fields; check that the right payload is being sent."),
        )),
        Err(e) => Err(ApiError::one(ErrorDetail::new(
            ErrorCode::RequestBodyMalformed,
            format!("The body could not be read: {e}."),
        ))),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A JSON request body of type `T`, with problems reported in the envelope: media type
/// (415), size (413), malformed JSON (400 with line and column), unknown, missing and
/// invalid fields (400, naming the field).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let bytes = read_json_body(&parts.headers, body).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a body already read, naming the field that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = serde_json::Value::Object(
        parse_object(bytes)
            .map_err(ApiError::one)?
            .into_iter()
            .collect(),
    );
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let detail = if let Some(rest) = inner.strip_prefix("unknown field ") {
            let name = rest.split(',').next().unwrap_or(rest).trim_matches('`');
            let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or("");
            ErrorDetail::new(
                ErrorCode::RequestFieldUnknown,
                format!("{name} is not a field of this body."),
            )
            .field(name)
            .hint(format!("Remove it; the fields accepted are {expected}."))
        } else if let Some(rest) = inner.strip_prefix("missing field ") {
            let name = rest.trim_matches('`');
            ErrorDetail::new(
                ErrorCode::RequestFieldMissing,
                format!("{name} is required and was not sent."),
            )
            .field(name)
        } else {
            let (code, message) = if inner.starts_with("invalid type: null") {
                (
                    ErrorCode::RequestFieldNull,
                    format!("{path} is null: {inner}."),
                )
            } else {
                (
                    ErrorCode::RequestFieldInvalid,
                    format!("{path} is not valid: {inner}."),
                )
            };
            let detail = ErrorDetail::new(code, message);
            if path == "." {
                detail
            } else {
                detail.field(path)
            }
        };
        ApiError::one(detail)
    })
}

/// A query string of type `T`; unknown and invalid parameters are 400
/// `request.query.invalid`, naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let inner = e.inner().to_string();
                let detail = ErrorDetail::new(
                    ErrorCode::RequestQueryInvalid,
                    format!("The query string is not valid: {inner}."),
                )
                .hint("See the operation's parameters in GET /api/v2/openapi.json.");
                let path = e.path().to_string();
                ApiError::one(if path == "." {
                    detail
                } else {
                    detail.field(path)
                })
            })
    }
}

/// Parses an id from a path; an id that is not a UUID cannot name anything, so it is
/// answered like an unknown one: [`ApiError::not_found`] for `resource`, e.g.
/// `path_id(&raw, Resource::Interaction)`.
pub fn path_id<'a>(
    raw: &'a str,
    resource: impl FnOnce(&'a str) -> Resource<'a>,
) -> Result<Uuid, ApiError> {
    if raw.len() == 36 {
        if let Ok(id) = Uuid::parse_str(raw) {
            return Ok(id);
        }
    }
    Err(ApiError::not_found(resource(raw)))
}
