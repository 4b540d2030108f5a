//! The reads of the Genesys dialect: the conversation, its media view, a participant's
//! wrap-up and the codes a participant may use.

use axum::Json;
use wrapup_domain::genesys::{self, Role};
use wrapup_domain::Principal;
use wrapup_store::{CodeSearch, Search, Store};
use wrapup_types::genesys::{AssignedWrapupCode, Conversation, Media, MediaConversation};
use wrapup_types::{ErrorCode, ErrorDetail, WrapUpCodeView};

use super::Target;
use crate::auth::{RequiredPermission, WrapupCodeViewPermission};
use crate::error::ApiError;
use crate::listing::cursor::MAX_PAGE_SIZE;
use crate::routes::{codes, queues};

pub(super) async fn conversation(
    store: &dyn Store,
    principal: &Principal,
    conversation_id: &str,
) -> Result<Json<Conversation>, ApiError> {
    let target = Target::find(store, principal, conversation_id, None).await?;
    let division = target.division_name(store).await?;
    let agent = target.agent_name(store, principal).await?;
    Ok(Json(genesys::conversation(
        &target.rec.interaction,
        &division,
        agent.as_deref(),
    )))
}

pub(super) async fn media_conversation(
    store: &dyn Store,
    principal: &Principal,
    media: Media,
    conversation_id: &str,
) -> Result<Json<MediaConversation>, ApiError> {
    let target = Target::find(store, principal, conversation_id, Some(media)).await?;
    let division = target.division_name(store).await?;
    let agent = target.agent_name(store, principal).await?;
    Ok(Json(genesys::media_conversation(
        &target.rec.interaction,
        &division,
        agent.as_deref(),
    )))
}

/// Which wrap-up a read asks for: `?provisional=true` only a provisional one,
/// `?provisional=false` only a final one, neither whichever is in place.
fn provisional_query(query: Option<&str>) -> Result<Option<bool>, ApiError> {
    let mut wanted = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let problem = match (key.as_ref(), value.as_ref()) {
            ("provisional", "true") => {
                wanted = Some(true);
                continue;
            }
            ("provisional", "false") => {
                wanted = Some(false);
                continue;
            }
            ("provisional", other) => {
                format!("provisional must be true or false; got \"{other}\".")
            }
            (other, _) => {
                format!("{other} is not a parameter of this operation; it accepts provisional.")
            }
        };
        return Err(ApiError::one(
            ErrorDetail::new(ErrorCode::RequestQueryInvalid, problem)
                .field(key.into_owned())
                .hint("Leave the query out to read the wrap-up in place."),
        ));
    }
    Ok(wanted)
}

/// A participant's (or its communication's) wrap-up. The customer never has one.
pub(super) async fn participant_wrapup(
    store: &dyn Store,
    principal: &Principal,
    media: Option<Media>,
    ids: (&str, &str, Option<&str>),
    query: Option<&str>,
) -> Result<Json<AssignedWrapupCode>, ApiError> {
    let (conversation_id, participant_id, communication_id) = ids;
    let target = Target::find(store, principal, conversation_id, media).await?;
    let role = target.participant(participant_id)?;
    if let Some(communication) = communication_id {
        target.communication(role, communication)?;
    }
    let provisional = provisional_query(query)?;
    let interaction = &target.rec.interaction;
    let found = match role {
        Role::Agent => interaction
            .wrap_up
            .as_ref()
            .filter(|w| provisional.is_none_or(|p| w.provisional == p)),
        Role::Customer => None,
    };
    let Some(wrap_up) = found else {
        let what = match (role, provisional) {
            (Role::Customer, _) => format!(
                "Participant {participant_id} is the customer, which never has a wrap-up; the agent is {}.",
                target.ids.agent
            ),
            (Role::Agent, Some(true)) => format!("Participant {participant_id} has no provisional wrap-up."),
            (Role::Agent, Some(false)) if interaction.wrap_up.is_some() => {
                format!("Participant {participant_id} has only a provisional wrap-up so far.")
            }
            (Role::Agent, _) => format!(
                "Participant {participant_id} of conversation {} has no wrap-up yet; the interaction is {}.",
                target.id(),
                interaction.state
            ),
        };
        return Err(ApiError::one(
            ErrorDetail::new(ErrorCode::WrapupNotFound, what)
                .hint("Apply one with POST …/communications/{communicationId}/wrapup once the interaction is closed and finalized."),
        ));
    };
    Ok(Json(genesys::assigned_wrapup(wrap_up)))
}

/// The codes a participant may use: its queue's, or without a queue (or once the queue is
/// deleted) its conversation's division's; not archived, by name.
pub(super) async fn participant_wrapupcodes(
    store: &dyn Store,
    principal: &Principal,
    media: Option<Media>,
    conversation_id: &str,
    participant_id: &str,
) -> Result<Json<Vec<WrapUpCodeView>>, ApiError> {
    let target = Target::find(store, principal, conversation_id, media).await?;
    target.participant(participant_id)?;
    principal
        .require_permission(
            WrapupCodeViewPermission::PERMISSION,
            WrapupCodeViewPermission::SCOPE,
        )
        .map_err(ApiError::one)?;
    let queue_id = target
        .rec
        .interaction
        .routing
        .as_ref()
        .and_then(|r| r.queue_id);
    if let Some(queue) = match queue_id {
        Some(id) => store.get_queue(id).await?,
        None => None,
    } {
        let mut codes = Vec::new();
        loop {
            let page = Search {
                limit: MAX_PAGE_SIZE,
                offset: codes.len() as u64,
                ..Search::default()
            };
            let found = queues::queue_codes(store, principal, &queue, page).await?;
            let last = found.items.len() < MAX_PAGE_SIZE as usize;
            codes.extend(found.items);
            if last || codes.len() as u64 >= found.total {
                return Ok(Json(codes));
            }
        }
    }
    let mut search = CodeSearch {
        search: Search {
            limit: MAX_PAGE_SIZE,
            ..Search::default()
        },
        divisions: vec![target.rec.interaction.division_id],
        include_archived: false,
    };
    let mut codes = Vec::new();
    loop {
        let found = store.search_codes(&principal.divisions, &search).await?;
        let last = found.items.len() < search.search.limit as usize;
        codes.extend(found.items.into_iter().map(|r| r.code));
        if last || codes.len() as u64 >= found.total {
            break;
        }
        search.search.offset = codes.len() as u64;
    }
    Ok(Json(codes::views(store, codes).await?))
}
