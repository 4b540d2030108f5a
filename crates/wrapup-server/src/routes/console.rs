//! The web console: its page at `/`, its embedded files at `/console/{version}/…` (see
//! `crate::console`), its configuration at `/console/config.json` and the notification
//! topics of a feed event at `/console/notification-topics`, each with the console's
//! security headers. The console's own routes live after `#`
//! (`/#/interactions/…`), so they never reach the server and cannot collide with the API's
//! paths.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wrapup_domain::genesys::notifications::{event_body, topics_of};
use wrapup_types::{EventKind, Interaction};

use crate::clock::Clock;
use crate::config::Config;
use crate::console::{self, CONTENT_SECURITY_POLICY};
use crate::demo::{self, DemoClient};
use crate::error::ApiError;
use crate::extract::{parse_json, read_json_body};
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

/// An event of the stream as the console's live feed received it.
#[derive(Deserialize)]
struct FeedEvent {
    kind: EventKind,
    interaction: Interaction,
}

/// `POST /console/notification-topics`: the Genesys notification topics a channel would
/// receive for an event of the stream (`{"kind", "interaction"}`, as the console got it),
/// each with its body, mapped by the server's one mapping
/// (`wrapup_domain::genesys::notifications`): what the Overview's live feed shows with
/// "Notification topics" on. Not an API operation, like `config`: it reads nothing and
/// only maps the event it is sent, so it needs no token. `{"topics": [{"topicName",
/// "eventBody"}]}`; a body that is not such an event is refused as any API body is.
pub async fn notification_topics(
    State(clock): State<Arc<dyn Clock>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mapped = async {
        let bytes = read_json_body(&headers, body).await?;
        let event: FeedEvent = parse_json(&bytes)?;
        let at_ms = clock.now_ms();
        let topics: Vec<Value> = topics_of(event.kind, &event.interaction)
            .iter()
            .map(|topic| {
                json!({
                    "topicName": topic.name(),
                    "eventBody": event_body(topic, &event.interaction, at_ms),
                })
            })
            .collect();
        Ok::<_, ApiError>(Json(json!({ "topics": topics })).into_response())
    }
    .await;
    secured(
        mapped.unwrap_or_else(IntoResponse::into_response),
        "no-store",
    )
}
