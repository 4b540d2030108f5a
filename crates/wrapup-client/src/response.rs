//! What the server answered: the raw response, and how it becomes a value or an [`Error`].

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use wrapup_types::ErrorBody;

use crate::error::{Error, Result};

/// A raw response, for callers that inspect what the server sent.
#[derive(Debug)]
pub struct RawResponse {
    /// Where the request went (after redirects).
    pub url: String,
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

/// The body of a successful response, decoded.
pub(crate) fn decode<T: DeserializeOwned>(raw: &RawResponse) -> Result<T> {
    serde_json::from_slice(&raw.body).map_err(|e| Error::Unexpected {
        status: raw.status.as_u16(),
        message: format!("could not decode the response: {e}"),
    })
}

/// A response this client does not understand, with the start of its body, or, when it has
/// none, where it came from: a server that answers without a body is not a wrapup server
/// (every answer of its API has one), and "unexpected response (401): " would say nothing.
pub(crate) fn unexpected(raw: &RawResponse) -> Error {
    let text: String = String::from_utf8_lossy(&raw.body)
        .chars()
        .take(500)
        .collect();
    let message = if text.trim().is_empty() {
        let what = if raw.body.is_empty() {
            "an empty body"
        } else {
            "a blank body"
        };
        format!(
            "{what} from {}, which is not an answer of the wrapup API (each of its answers has a JSON body)",
            raw.url
        )
    } else {
        text
    };
    Error::Unexpected {
        status: raw.status.as_u16(),
        message,
    }
}

/// The `Retry-After` of a response: the error body's `retryAfterMs` when present (it is
/// exact), else the header (whole seconds).
pub(crate) fn retry_after(raw: &RawResponse, body: Option<&ErrorBody>) -> Option<Duration> {
    body.and_then(|b| b.details.iter().find_map(|d| d.retry_after_ms))
        .map(Duration::from_millis)
        .or_else(|| {
            raw.headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        })
}

/// A non-2xx response as an [`Error`]: the API's envelope when it sent one.
pub(crate) fn api_error(raw: &RawResponse) -> Error {
    let is_json = raw
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match raw.error_body().filter(|_| is_json) {
        Some(body) => Error::Api {
            status: raw.status.as_u16(),
            retry_after: retry_after(raw, Some(&body)),
            body,
        },
        None => unexpected(raw),
    }
}
