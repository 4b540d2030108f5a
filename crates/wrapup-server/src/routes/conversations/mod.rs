//! The Genesys Cloud dialect (docs/genesys.md): every interaction is also a conversation
//! with the same id, read in Genesys's shapes (`read`) and wrapped up with a `WrapupInput`
//! through the very same store operation as `PUT /api/v2/interactions/{id}/wrap-up`
//! (`wrapup`). `operations` names each operation as the SDKs do and routes it.
//!
//! The answers follow wrapup's order of checks (docs/api.md#order-of-checks): the
//! permission, then the conversation (one in a division the token cannot see is answered
//! exactly like a random id), its media, participant and communication, then the body,
//! the state and the code.

mod operations;
mod read;
mod wrapup;

pub use operations::*;

use uuid::Uuid;
use wrapup_domain::genesys::{ConversationIds, Role};
use wrapup_domain::Principal;
use wrapup_store::InteractionRecord;
use wrapup_types::genesys::Media;
use wrapup_types::{ErrorCode, ErrorDetail};

use wrapup_store::Store;

use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::path_id;

/// A conversation the caller may see, as a path names it.
pub(crate) struct Target {
    pub rec: InteractionRecord,
    pub ids: ConversationIds,
}

impl Target {
    /// The conversation `raw` names, if the caller may see it; `media` is the media segment
    /// of the path, when it has one, and must be the conversation's.
    pub async fn find(
        store: &dyn Store,
        principal: &Principal,
        raw: &str,
        media: Option<Media>,
    ) -> Result<Target, ApiError> {
        let id = path_id(raw, Resource::Conversation)?;
        let rec = store
            .get_interaction(id)
            .await?
            .filter(|r| principal.sees(r.interaction.division_id))
            .or_not_found(Resource::Conversation(raw))?;
        let own = Media::of(rec.interaction.channel);
        if let Some(asked) = media.filter(|m| *m != own) {
            return Err(ApiError::one(
                ErrorDetail::new(
                    ErrorCode::ConversationMediaMismatch,
                    format!(
                        "Conversation {id} is a {} interaction: its communications are under /api/v2/conversations/{}/{id}, not {}.",
                        rec.interaction.channel.as_str(),
                        own.segment(),
                        asked.segment()
                    ),
                )
                .hint(format!(
                    "Use the {} operations of the SDK (e.g. get_conversations_{}), or the media-free ones (get_conversation).",
                    own.segment(),
                    own.sdk_name().to_lowercase()
                )),
            ));
        }
        Ok(Target {
            ids: ConversationIds::of(id),
            rec,
        })
    }

    pub fn id(&self) -> Uuid {
        self.rec.interaction.id
    }

    /// The role of the participant `raw` names.
    pub fn participant(&self, raw: &str) -> Result<Role, ApiError> {
        let not_found = || {
            ApiError::not_found(Resource::Participant {
                conversation: self.id(),
                participant: raw,
            })
        };
        let id = Uuid::parse_str(raw).map_err(|_| not_found())?;
        self.ids.role_of(id).ok_or_else(not_found)
    }

    /// Checks that `raw` names the one communication of the participant in `role`.
    pub fn communication(&self, role: Role, raw: &str) -> Result<(), ApiError> {
        let expected = self.ids.communication(role);
        match Uuid::parse_str(raw) {
            Ok(id) if id == expected => Ok(()),
            _ => Err(ApiError::not_found(Resource::Communication {
                participant: self.ids.participant(role),
                communication: raw,
                expected,
            })),
        }
    }

    /// The name of the conversation's agent, if it has one the caller may see.
    pub async fn agent_name(
        &self,
        store: &dyn Store,
        principal: &Principal,
    ) -> Result<Option<String>, ApiError> {
        let Some(id) = self
            .rec
            .interaction
            .routing
            .as_ref()
            .and_then(|r| r.agent_id)
        else {
            return Ok(None);
        };
        Ok(crate::routes::users::visible_user(store, principal, id)
            .await?
            .map(|u| u.name))
    }

    /// The name of the conversation's division (for `divisions[]`).
    pub async fn division_name(&self, store: &dyn Store) -> Result<String, ApiError> {
        Ok(store
            .get_division(self.rec.interaction.division_id)
            .await?
            .map_or_else(String::new, |d| d.name))
    }
}
