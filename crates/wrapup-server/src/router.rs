//! The router: every route, and the layers around them (see `crate::middleware`).

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::middleware::authenticate::AuthenticateLayer;
use crate::middleware::rate_limit::RateLimitLayer;
use crate::middleware::{observe, timeout};
use crate::routes::{
    admin, bulk_wrapups, clients, codes, console, conversations, diagnosis, divisions, events,
    fallback, inspector, interactions, metrics, oauth, ops, overview, webhook_deliveries, webhooks,
};
use crate::state::AppState;

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(console::index))
        .route("/console/config.json", get(console::config))
        .route("/console/{version}/{*path}", get(console::asset))
        .route("/oauth/token", post(oauth::issue_token))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/v2", get(ops::api_index))
        .route("/api/v2/openapi.json", get(ops::openapi))
        .merge(authenticated_routes(state.clone()))
        .fallback(fallback::unknown_path)
        // One layer made of the whole stack, outermost first: axum wraps each `layer` call
        // around every route separately, and a request then clones every wrapped level
        // again at each level below it; one composed layer is one level.
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    observe::observe,
                ))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::internal("handler panicked", "panic").into_response()
                }))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    timeout::timeout,
                ))
                .layer(DefaultBodyLimit::max(wrapup_domain::MAX_BODY_BYTES)),
        )
        .with_state(state)
}

/// The operations that need a bearer token: authenticated (401 otherwise), then counted
/// against the client's rate limit (429), before their handler runs.
fn authenticated_routes(state: AppState) -> Router<AppState> {
    let rate_limit = state
        .rate_limiter
        .limit()
        .is_some()
        .then(|| RateLimitLayer(state.clone()));
    Router::new()
        .route("/api/v2/inspector/requests", get(inspector::list_requests))
        .route("/api/v2/inspector/requests/stream", get(inspector::stream))
        .route(
            "/api/v2/inspector/requests/{requestId}/diagnosis",
            get(diagnosis::diagnose),
        )
        .route(
            "/api/v2/admin/chaos",
            get(admin::get_chaos).put(admin::set_chaos),
        )
        .route(
            "/api/v2/authorization/divisions",
            get(divisions::list).post(divisions::create),
        )
        .route("/api/v2/oauth/clients", post(clients::create))
        .route(
            "/api/v2/routing/wrapupcodes",
            get(codes::list).post(codes::create),
        )
        .route(
            "/api/v2/routing/wrapupcodes/{codeId}",
            get(codes::get).put(codes::update).delete(codes::archive),
        )
        .route(
            "/api/v2/interactions",
            get(interactions::list).post(interactions::create),
        )
        .route("/api/v2/interactions/events", get(events::stream))
        .route(
            "/api/v2/interactions/wrap-ups",
            post(bulk_wrapups::apply_many),
        )
        .route("/api/v2/interactions/counts", get(overview::counts))
        .route(
            "/api/v2/interactions/wrap-up-activity",
            get(overview::wrapup_activity),
        )
        .route("/api/v2/interactions/{id}", get(interactions::get))
        .route(
            "/api/v2/interactions/{id}/state",
            post(interactions::set_state),
        )
        .route(
            "/api/v2/interactions/{id}/wrap-up",
            get(interactions::get_wrapup).put(interactions::put_wrapup),
        )
        .route(
            "/api/v2/interactions/{id}/wrap-up/validate",
            post(interactions::validate),
        )
        .route(
            "/api/v2/interactions/{id}/wrap-up/history",
            get(interactions::wrapup_history),
        )
        .route(
            "/api/v2/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v2/webhooks/{webhookId}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/api/v2/webhooks/{webhookId}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/api/v2/webhooks/{webhookId}/deliveries",
            get(webhook_deliveries::list),
        )
        .route(
            "/api/v2/webhooks/{webhookId}/events/{sequence}/resend",
            post(webhook_deliveries::resend),
        )
        .route(
            "/api/v2/webhooks/{webhookId}/replay",
            post(webhook_deliveries::replay),
        )
        .route(
            "/api/v2/webhooks/{webhookId}/test",
            post(webhook_deliveries::test),
        )
        .merge(conversations::routes())
        .route_layer(
            ServiceBuilder::new()
                .layer(AuthenticateLayer(state))
                .option_layer(rate_limit),
        )
}
