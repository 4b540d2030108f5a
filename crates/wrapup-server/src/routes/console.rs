//! The web console: its page at `/` and its embedded files at `/console/{version}/…`
//! (see `crate::console`), each with the console's security headers. The console's own
//! routes live after `#` (`/#/interactions/…`), so they never reach the server and cannot
//! collide with the API's paths.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::console::{self, CONTENT_SECURITY_POLICY};
use crate::error::ApiError;
use crate::routes::fallback::unknown_path_error;

/// The headers of every console response.
fn secured(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (header::CACHE_CONTROL, cache),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `GET /`: the console's page (never cached, so it always names the current files).
pub async fn index() -> Response {
    secured(
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            console::index_html(),
        )
            .into_response(),
        "no-cache",
    )
}

/// `GET /console/{version}/{*path}`: an embedded file, cached for a year (the version
/// changes with the files). Another version, or a file that does not exist, is a 404.
pub async fn asset(Path((version, path)): Path<(String, String)>) -> Response {
    match console::find(&path).filter(|_| version == console::version()) {
        Some(asset) => secured(
            ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response(),
            "public, max-age=31536000, immutable",
        ),
        None => secured(
            ApiError::one(unknown_path_error(&format!("/console/{version}/{path}")))
                .into_response(),
            "no-cache",
        ),
    }
}
