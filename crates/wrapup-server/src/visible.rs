//! What a caller may see, as a request names it (docs/api.md#order-of-checks, step 2): an
//! object in a division the caller is not granted gets the very same answer as one that
//! does not exist, so a token learns nothing of other divisions.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_domain::Principal;
use wrapup_store::{InteractionRecord, SharedInteraction, Store};

use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::path_id;

/// The interaction a path names (`raw`, as sent), if the caller may see it.
pub async fn interaction(
    store: &dyn Store,
    principal: &Principal,
    raw: &str,
) -> Result<InteractionRecord, ApiError> {
    Ok(interaction_shared(store, principal, raw)
        .await?
        .record
        .clone())
}

/// [`interaction`], shared: on SQLite a hot interaction comes from the store's cache, with
/// its JSON rendered once.
pub async fn interaction_shared(
    store: &dyn Store,
    principal: &Principal,
    raw: &str,
) -> Result<Arc<SharedInteraction>, ApiError> {
    let id = path_id(raw, Resource::Interaction)?;
    store
        .get_interaction_shared(id)
        .await?
        .filter(|found| principal.sees(found.record.interaction.division_id))
        .or_not_found(Resource::Interaction(raw))
}

/// Checks that a division named in a body or a query exists and is granted to the caller;
/// both failures get the same answer.
pub async fn granted_division(
    store: &dyn Store,
    principal: &Principal,
    id: Uuid,
) -> Result<(), ApiError> {
    if principal.sees(id) && store.get_division(id).await?.is_some() {
        return Ok(());
    }
    Err(ApiError::not_found(Resource::GrantedDivision(id)))
}
