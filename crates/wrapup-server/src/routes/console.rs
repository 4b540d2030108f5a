//! The web console: its page at `/`, its embedded files at `/console/{version}/…` (see
//! `crate::console`) and its configuration at `/console/config.json`, each with the
//! console's security headers. The console's own routes live after `#`
//! (`/#/interactions/…`), so they never reach the server and cannot collide with the API's
//! paths.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::config::Config;
use crate::console::{self, CONTENT_SECURITY_POLICY};
use crate::demo::{self, DemoClient};
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
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
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

/// What the console's pages need to know of the server before anyone signs in.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConsoleConfig {
    /// Started with `wrapup serve --demo`.
    demo: bool,
    /// With `--demo`, the demo clients and their fixed, public secrets (printed when the
    /// server starts, and in the README), for the one-click sign-in; empty otherwise.
    demo_clients: Vec<DemoClient>,
}

/// `GET /console/config.json`: not an API operation, but part of the console (no token, not
/// recorded by the inspector, never faulted). Lists credentials only on a `--demo` server,
/// whose credentials are public anyway.
pub async fn config(State(settings): State<Arc<Config>>) -> Response {
    let config = ConsoleConfig {
        demo: settings.demo,
        demo_clients: if settings.demo {
            demo::clients()
        } else {
            Vec::new()
        },
    };
    secured(Json(config).into_response(), "no-cache")
}
