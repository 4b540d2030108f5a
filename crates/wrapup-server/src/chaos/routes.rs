//! `/api/v2/admin/chaos`: the switch of the sandbox's fault injection.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wrapup_types::{ErrorCode, ErrorDetail};

use super::ChaosSpec;
use super::ChaosSwitch;
use crate::auth::{Admin, Authorized};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::errors::{codes, JSON_BODY};

/// The body of `GET` and `PUT /api/v2/admin/chaos`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChaosSetting {
    /// The faults, e.g. `503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms`,
    /// or `off`.
    #[schema(example = "503=10%,429=5%,reset=2%,after-commit-reset=2%")]
    pub spec: String,
}

/// Show the injected faults
///
/// The fault injection in force (see `PUT`).
#[utoipa::path(get, path = "/api/v2/admin/chaos", operation_id = "getChaos", tag = "operations",
    responses((status = 200, description = "The faults in force.", body = ChaosSetting)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn get_chaos(
    State(chaos): State<Arc<ChaosSwitch>>,
    _admin: Authorized<Admin>,
) -> Json<ChaosSetting> {
    Json(ChaosSetting {
        spec: chaos.get().to_string(),
    })
}

/// Set the injected faults
///
/// Sandbox fault injection, to prove a client survives a bad day: `503=N%` answers
/// `service.unavailable`, `429=N%` answers `request.rate.limited`, `reset=N%` drops the
/// connection without an answer (all three before the request is handled, so nothing
/// changes), `after-commit-reset=N%` handles the request (committing any change) and then
/// drops the connection, `delay=A..B` waits a random time first. `off` stops it. Applies to
/// `/api/v2/*`, except this endpoint and the OpenAPI document; never to `/oauth/token`.
#[utoipa::path(put, path = "/api/v2/admin/chaos", operation_id = "setChaos", tag = "operations",
    request_body = ChaosSetting,
    responses((status = 200, description = "The faults now in force.", body = ChaosSetting)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY])))))]
pub async fn set_chaos(
    State(chaos): State<Arc<ChaosSwitch>>,
    _admin: Authorized<Admin>,
    ApiJson(body): ApiJson<ChaosSetting>,
) -> Result<Json<ChaosSetting>, ApiError> {
    let spec: ChaosSpec = body.spec.parse().map_err(|e: String| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::RequestFieldInvalid, format!("spec is not valid: {e}."))
                .field("spec")
                .hint("Write e.g. \"503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms\", or \"off\"."),
        )
    })?;
    tracing::warn!(chaos = %spec, "fault injection changed");
    chaos.set(spec);
    Ok(Json(ChaosSetting {
        spec: spec.to_string(),
    }))
}
