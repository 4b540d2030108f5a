//! The router: every operation, registered once (one line each, with `routes!`, which also
//! puts its `#[utoipa::path]` documentation in the OpenAPI document), and the layers around
//! them (see `crate::middleware`). Adding an operation is its handler, documented beside
//! it, and one line here.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::layer::{AuthenticateLayer, TokenPaths};
use crate::auth::{clients, token};
use crate::middleware::observe::ObserveLayer;
use crate::rate_limit::layer::ChargeLayer;
use crate::routes::interactions::{self, bulk, wrap_up};
use crate::routes::{
    analytics, clock, codes, console, conversations, divisions, events, fallback, metrics,
    overview, queues, service, users,
};
use crate::state::AppState;
use crate::{chaos, inspector, notifications, webhooks};

/// The operations anyone may call, without a token.
fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token::issue_token))
        .routes(routes!(service::healthz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(service::api_index))
        .routes(routes!(service::openapi))
        .routes(routes!(notifications::socket::connect))
}

/// The operations that need a bearer token.
fn authenticated() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inspector::routes::list_requests))
        .routes(routes!(inspector::routes::stream))
        .routes(routes!(inspector::diagnosis::diagnose))
        .routes(routes!(chaos::routes::get_chaos, chaos::routes::set_chaos))
        .routes(routes!(clock::get_clock))
        .routes(routes!(clock::advance_clock))
        .routes(routes!(divisions::list, divisions::create))
        .routes(routes!(clients::create))
        .routes(routes!(codes::list, codes::create))
        .routes(routes!(codes::get, codes::update, codes::archive))
        .routes(routes!(interactions::list, interactions::create))
        .routes(routes!(events::stream))
        .routes(routes!(bulk::apply_wrapups))
        .routes(routes!(overview::counts))
        .routes(routes!(overview::wrapup_activity))
        .routes(routes!(interactions::get))
        .routes(routes!(interactions::set_state))
        .routes(routes!(wrap_up::get, wrap_up::put))
        .routes(routes!(wrap_up::validate))
        .routes(routes!(wrap_up::history))
        .routes(routes!(wrap_up::skip))
        .routes(routes!(queues::list, queues::create))
        .routes(routes!(queues::get, queues::update, queues::delete))
        .routes(routes!(queues::list_codes, queues::add_codes))
        .routes(routes!(queues::remove_code))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get))
        .routes(routes!(webhooks::routes::list, webhooks::routes::create))
        .routes(routes!(
            webhooks::routes::get,
            webhooks::routes::update,
            webhooks::routes::delete
        ))
        .routes(routes!(webhooks::routes::rotate_secret))
        .routes(routes!(webhooks::deliveries::list))
        .routes(routes!(webhooks::deliveries::resend))
        .routes(routes!(webhooks::deliveries::replay))
        .routes(routes!(webhooks::deliveries::test))
        .merge(conversations::routes())
        .routes(routes!(
            notifications::routes::list_channels,
            notifications::routes::create_channel
        ))
        .routes(routes!(notifications::routes::head_channel))
        .routes(routes!(
            notifications::routes::list_subscriptions,
            notifications::routes::add_subscriptions,
            notifications::routes::replace_subscriptions,
            notifications::routes::delete_subscriptions
        ))
        .routes(routes!(notifications::routes::available_topics))
        .routes(routes!(analytics::details_query))
        .routes(routes!(analytics::conversation_details))
        .routes(routes!(analytics::aggregates_query))
}

/// Every documented operation, without state or layers: what the OpenAPI document is made
/// of (`crate::openapi::document`).
pub fn api() -> OpenApiRouter<AppState> {
    public().merge(authenticated())
}

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    let (public, _) = public().split_for_parts();
    let (authenticated, operations) = authenticated().split_for_parts();
    // Each group's whole stack is one layer, outermost first: axum wraps each `layer` call
    // around every route separately, and a request then clones every wrapped level again
    // at each level below it; one composed layer is one level (docs/benchmarks.md).
    let observed = || ServiceBuilder::new().layer(ObserveLayer::new(&state));
    // The limit of axum's own body extractors (`Bytes`, `Json`, `Form`), which only the
    // operations without a token use (the token endpoint's form). The others read their
    // bodies through `crate::extract` with limits of their own, so they go without it: it
    // would cost each request a layer and an extension.
    let limited = || observed().layer(DefaultBodyLimit::max(wrapup_domain::MAX_BODY_BYTES));
    // Authenticated (401 otherwise), then counted against the client's rate limit (429),
    // before the handler runs; a method the path does not have is answered 405 without
    // looking at the token (`TokenPaths`).
    let authenticated = authenticated.layer(
        observed()
            .layer(AuthenticateLayer::new(&state, TokenPaths::of(&operations)))
            .option_layer(ChargeLayer::when_limited(&state)),
    );
    Router::new()
        .route("/", get(console::index))
        .route("/console/config.json", get(console::config))
        .route(
            "/console/notification-topics",
            post(console::notification_topics),
        )
        .route("/console/{version}/{*path}", get(console::asset))
        .fallback(fallback::unknown_path)
        .layer(limited())
        .merge(public.layer(limited()))
        .merge(authenticated)
        .with_state(state)
}
