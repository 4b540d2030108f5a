//! `/api/v2/admin/clock`: the server's time, and moving it on a server started with
//! `wrapup serve --clock manual` (a test clock: settle times, token expiry, rate limits
//! and webhook retries then pass when the test says, not in real time; docs/testing.md).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wrapup_store::Store;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::auth::{Admin, Authorized};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::errors::{codes, JSON_BODY};

/// The most one advance may move the clock: a year.
pub const MAX_ADVANCE_MS: u64 = 366 * 24 * 3600 * 1000;

/// The server's time: the answer of `GET /api/v2/admin/clock` and of an advance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockReading {
    /// The server's time now.
    #[schema(example = "2026-11-24T21:27:42.123Z")]
    pub now: String,
    /// The same, in milliseconds since the Unix epoch.
    #[schema(example = 1_795_000_000_000_i64)]
    pub now_ms: i64,
    /// `true` on a server started with `--clock manual` (its time moves only when advanced),
    /// `false` on the real clock.
    pub manual: bool,
}

/// The body of `POST /api/v2/admin/clock/advance`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    /// Milliseconds to move the clock forward, from 0 to 31,622,400,000 (a year).
    #[schema(example = 1500, maximum = 31622400000.0)]
    #[serde(deserialize_with = "whole_ms")]
    pub ms: u64,
}

/// A whole number of milliseconds, written `1500` or `1500.0` (JSON Schema counts both as
/// an integer, and so does wrapup: `wrapup_types::whole_number`).
fn whole_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        })
        .ok_or_else(|| {
            serde::de::Error::custom(format!("{n} is not a whole number of milliseconds from 0"))
        })
}

fn reading(clock: &dyn Clock) -> ClockReading {
    let now_ms = clock.now_ms();
    ClockReading {
        now: wrapup_types::timestamp::format(wrapup_types::timestamp::from_millis(now_ms)),
        now_ms,
        manual: clock.manual().is_some(),
    }
}

/// Show the server's time
///
/// The time the server goes by (settle times, token expiry, rate limits, webhook retries),
/// and whether it is a test clock that `POST /api/v2/admin/clock/advance` moves.
#[utoipa::path(get, path = "/api/v2/admin/clock", operation_id = "getClock", tag = "operations",
    responses((status = 200, description = "The server's time.", body = ClockReading)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn get_clock(
    State(clock): State<Arc<dyn Clock>>,
    _admin: Authorized<Admin>,
) -> Json<ClockReading> {
    Json(reading(clock.as_ref()))
}

/// Move the test clock forward
///
/// Only on a server started with `wrapup serve --clock manual`: moves its clock forward by
/// `ms`, so that what waits on time happens at once instead of in real time. Before it
/// answers, every interaction whose settle time has passed is finalized; token expiry and
/// rate limits follow the new time from the next request, and webhook deliveries whose retry
/// is now due are sent in the background. The clock never goes back. A server on the real
/// clock answers `clock.not.manual`.
#[utoipa::path(post, path = "/api/v2/admin/clock/advance", operation_id = "advanceClock", tag = "operations",
    request_body = AdvanceClock,
    responses((status = 200, description = "The server's time after the advance.", body = ClockReading)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, &[ErrorCode::ClockNotManual]])))))]
pub async fn advance_clock(
    State(clock): State<Arc<dyn Clock>>,
    State(store): State<Arc<dyn Store>>,
    _admin: Authorized<Admin>,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> Result<Json<ClockReading>, ApiError> {
    if body.ms > MAX_ADVANCE_MS {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                format!(
                    "ms is {}; one advance moves the clock at most a year ({MAX_ADVANCE_MS} ms).",
                    body.ms
                ),
            )
            .field("ms")
            .hint("Advance in several steps, or by less."),
        ));
    }
    let Some(manual) = clock.manual() else {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::ClockNotManual,
                "This server runs on the real clock, which cannot be advanced.",
            )
            .hint("Start the server with `wrapup serve --clock manual` (or WRAPUP_CLOCK=manual; the test fixtures do) to move its time from a test."),
        ));
    };
    manual.advance(body.ms as i64);
    let now = manual.now_ms();
    // What fell due is finalized before the answer, so the test's next read sees it (the
    // finalization timer would too, a moment later).
    while !store.finalize_due(now).await?.is_empty() {}
    tracing::info!(advanced_ms = body.ms, now_ms = now, "test clock advanced");
    Ok(Json(reading(clock.as_ref())))
}
