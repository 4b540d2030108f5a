//! Whether a token may receive a topic (docs/genesys.md#notifications): the topic must be
//! one wrapup emulates, the token must hold the permission it needs, and the conversation,
//! agent or queue it names must exist in a division the token's client is granted. A
//! conversation, agent or queue the client cannot see is rejected with exactly the reason
//! of one that does not exist.

use wrapup_domain::genesys::notifications::{Topic, TOPIC_PERMISSION};
use wrapup_domain::Principal;
use wrapup_store::Store;
use wrapup_types::genesys::{ChannelTopic, TopicState};

use crate::error::ApiError;

fn rejected(id: &str, reason: String, missing: Vec<String>) -> ChannelTopic {
    ChannelTopic {
        id: id.to_string(),
        state: TopicState::Rejected,
        rejection_reason: Some(reason),
        missing_permissions: missing,
    }
}

/// Whether `principal` may receive the topic named `id`.
pub async fn check(
    store: &dyn Store,
    principal: &Principal,
    id: &str,
) -> Result<ChannelTopic, ApiError> {
    let Some(topic) = Topic::parse(id) else {
        return Ok(rejected(
            id,
            format!("{id} is not a topic wrapup delivers; GET /api/v2/notifications/availabletopics lists them (ids are lower-case UUIDs)."),
            Vec::new(),
        ));
    };
    let (permission, scope) = TOPIC_PERMISSION;
    if !principal.scopes.contains(scope) {
        return Ok(rejected(
            id,
            format!("The token lacks the permission {permission} (wrapup scope {scope}) this topic needs."),
            vec![permission.to_string()],
        ));
    }
    let visible = match topic {
        Topic::Detail { conversation, .. } => store
            .get_interaction(conversation)
            .await?
            .is_some_and(|r| principal.sees(r.interaction.division_id)),
        Topic::UserConversations(user) => store
            .get_user(user)
            .await?
            .is_some_and(|u| principal.sees(u.division_id)),
        Topic::QueueConversations(queue) => store
            .get_queue(queue)
            .await?
            .is_some_and(|q| principal.sees(q.division_id)),
    };
    if !visible {
        let what = match topic {
            Topic::Detail { conversation, .. } => format!("conversation {conversation}"),
            Topic::UserConversations(user) => format!("user {user}"),
            Topic::QueueConversations(queue) => format!("queue {queue}"),
        };
        return Ok(rejected(
            id,
            format!("No {what} exists in the divisions this token can see."),
            Vec::new(),
        ));
    }
    Ok(ChannelTopic {
        id: id.to_string(),
        state: TopicState::Permitted,
        rejection_reason: None,
        missing_permissions: Vec::new(),
    })
}

/// [`check`] for each topic, in order (each once).
pub async fn check_all(
    store: &dyn Store,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<ChannelTopic>, ApiError> {
    let mut out: Vec<ChannelTopic> = Vec::with_capacity(ids.len());
    for id in ids {
        if out.iter().any(|t| &t.id == id) {
            continue;
        }
        out.push(check(store, principal, id).await?);
    }
    Ok(out)
}
