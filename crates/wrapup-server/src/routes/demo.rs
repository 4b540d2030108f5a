//! `GET /api/v2/demo/clients`: the demo clients' credentials, for the console's one-click
//! sign-in. The route exists only on a server started with `wrapup serve --demo`, whose
//! demo credentials are fixed and public (they are printed at start and in the README).

use axum::Json;
use wrapup_types::DemoClient;

use crate::demo;

/// List the demo clients (`--demo` only)
///
/// The demo OAuth clients and their fixed, public secrets, so that the web console can
/// sign in with one click. Only a server started with `wrapup serve --demo` has this
/// operation; any other answers 404 `request.path.unknown`. No token is needed.
#[utoipa::path(get, path = "/api/v2/demo/clients", operation_id = "listDemoClients", tag = "operations",
    responses(
        (status = 200, description = "The demo clients.", body = Vec<DemoClient>),
        (status = 404, description = "The server was not started with `--demo`.", body = wrapup_types::ErrorBody),
    ),
    security(()))]
pub async fn list() -> Json<Vec<DemoClient>> {
    Json(demo::clients())
}
