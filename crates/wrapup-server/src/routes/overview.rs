//! Figures over many interactions, for dashboards (the console's overview):
//! `GET /api/v2/interactions/counts` and `GET /api/v2/interactions/wrap-up-activity`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use wrapup_store::{PageRequest, Store};
use wrapup_types::{DivisionCounts, InteractionCounts, InteractionState, WrapUpActivity};

use crate::auth::{Authorized, InteractionView};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::openapi::errors::codes;
use crate::state::Observability;

/// Divisions read per page while naming them.
const DIVISION_PAGE: u32 = 500;

/// Count interactions by state, per division
///
/// For each division the token is granted (sorted by name, with zeros for a division
/// without interactions): how many interactions are queued, active, closed and settling,
/// finalized and waiting for a wrap-up, and completed. One query over the interactions of
/// those divisions; the console reads it again when events say the figures changed.
#[utoipa::path(get, path = "/api/v2/interactions/counts", operation_id = "countInteractions", tag = "interactions",
    responses((status = 200, description = "The counts, per granted division.", body = InteractionCounts)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn counts(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
) -> Result<Json<InteractionCounts>, ApiError> {
    let mut divisions: Vec<DivisionCounts> = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_divisions(
                &principal.divisions,
                PageRequest {
                    after,
                    limit: DIVISION_PAGE,
                },
            )
            .await?;
        let full = page.len() == DIVISION_PAGE as usize;
        after = page.last().map(|(seq, _)| *seq);
        divisions.extend(page.into_iter().map(|(_, d)| DivisionCounts {
            division_id: d.id,
            division_name: d.name,
            ..DivisionCounts::default()
        }));
        if !full {
            break;
        }
    }
    for count in store.count_interactions(&principal.divisions).await? {
        let Some(entry) = divisions
            .iter_mut()
            .find(|d| d.division_id == count.division_id)
        else {
            continue;
        };
        let slot = match (count.state, count.finalized) {
            (InteractionState::Queued, _) => &mut entry.queued,
            (InteractionState::Active, _) => &mut entry.active,
            (InteractionState::Closed, false) => &mut entry.closed,
            (InteractionState::Closed, true) => &mut entry.finalized,
            (InteractionState::Completed, _) => &mut entry.completed,
        };
        *slot += count.count;
        entry.total += count.count;
    }
    divisions.sort_by(|a, b| {
        a.division_name
            .to_lowercase()
            .cmp(&b.division_name.to_lowercase())
    });
    Ok(Json(InteractionCounts { divisions }))
}

/// Wrap-ups accepted and refused lately
///
/// Answers to `PUT /api/v2/interactions/{id}/wrap-up` over the last 15 minutes, minute by
/// minute, counting only interactions of the token's divisions: `accepted` (204) and
/// `refused` (a 4xx about an interaction that exists). Kept in memory by each server
/// process since it started (with several nodes, each counts what it answered).
#[utoipa::path(get, path = "/api/v2/interactions/wrap-up-activity", operation_id = "getWrapUpActivity", tag = "interactions",
    responses((status = 200, description = "The last 15 minutes, oldest minute first.", body = WrapUpActivity)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn wrapup_activity(
    State(observability): State<Arc<Observability>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<InteractionView>,
) -> Json<WrapUpActivity> {
    Json(
        observability
            .activity
            .window(clock.now_ms(), &principal.divisions),
    )
}
