//! `GET /metrics`: the Prometheus metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use wrapup_store::Store;

use crate::shutdown::Shutdown;
use crate::state::Observability;

/// Prometheus metrics
///
/// Requests by route and status, requests in flight, request latency, store commit latency and batch sizes,
/// event-stream subscribers and published events, the read cache's size, in the OpenMetrics text format
/// (which Prometheus scrapes natively). Needs no token: bind the server to a private
/// address or restrict `/metrics` at the proxy.
#[utoipa::path(get, path = "/metrics", operation_id = "getMetrics", tag = "operations",
    responses((status = 200, description = "The metrics.",
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8",
        body = String,
        example = "# HELP wrapup_sse_subscribers Clients connected to the event stream.\n# TYPE wrapup_sse_subscribers gauge\nwrapup_sse_subscribers 3\n# EOF\n")),
    security(()))]
pub async fn metrics(
    State(observability): State<Arc<Observability>>,
    State(shutdown): State<Arc<Shutdown>>,
    State(store): State<Arc<dyn Store>>,
) -> Response {
    let metrics = &observability.metrics;
    metrics
        .requests_in_flight
        .set(shutdown.in_flight_count() as i64);
    metrics
        .read_cache_entries
        .set(store.read_cache_entries().unwrap_or(0) as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
