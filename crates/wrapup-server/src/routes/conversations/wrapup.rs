//! A wrap-up in the Genesys dialect: `POST …/communications/{communicationId}/wrapup` with a
//! `WrapupInput`, or `PATCH …/participants/{participantId}` with `{"wrapup": …}`. After the
//! body checks of the dialect (`wrapup_domain::genesys::wrapup_input`), it is the same
//! wrap-up as `PUT /api/v2/interactions/{id}/wrap-up`: the same store operation, state and
//! code checks, history entry and event. `PATCH …/participants/{participantId}` with
//! `{"wrapupSkipped": true}` alone skips the wrap-up, as `POST …/wrap-up/skip` does.

use axum::body::Body;
use axum::http::HeaderMap;
use wrapup_domain::genesys::wrapup_input::{
    is_skip_request, parse_participant_request, parse_wrapup_input,
};
use wrapup_domain::genesys::Role;
use wrapup_domain::Principal;
use wrapup_store::StoreError;
use wrapup_types::genesys::Media;
use wrapup_types::{ErrorCode, ErrorDetail};

use super::Target;
use crate::error::{ApiError, Resource};
use crate::extract::read_json_body;
use crate::wrapup::{self, Refused, WrapUps};

/// Which body a wrap-up came in.
#[derive(Clone, Copy)]
pub(super) enum Form {
    /// A `WrapupInput`, posted to the agent's communication.
    Communication,
    /// A `MediaParticipantRequest`, patched onto the agent participant.
    Participant,
}

/// wrapup's field names in the problems of the shared checks, as the Genesys body spells
/// them.
fn genesys_field(detail: &mut ErrorDetail) {
    let renamed = match detail.field_name.as_deref() {
        Some("codeId") => "code",
        Some("durationMs") => "durationSeconds",
        _ => return,
    };
    detail.field_name = Some(renamed.to_string());
}

fn refused(mut problems: Vec<ErrorDetail>) -> ApiError {
    problems.iter_mut().for_each(genesys_field);
    ApiError::new(problems)
}

/// Applies the wrap-up a body carries to the conversation's agent.
pub(super) async fn apply(
    wrapups: &WrapUps,
    principal: &Principal,
    media: Option<Media>,
    ids: (&str, &str, Option<&str>),
    form: Form,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ApiError> {
    let (conversation_id, participant_id, communication_id) = ids;
    let target = Target::find(wrapups.store.as_ref(), principal, conversation_id, media).await?;
    let role = target.participant(participant_id)?;
    if let Some(communication) = communication_id {
        target.communication(role, communication)?;
    }
    if role == Role::Customer {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::ParticipantNotAgent,
                format!(
                    "Participant {participant_id} is the customer; a wrap-up belongs to the agent participant {} (communication {}).",
                    target.ids.agent, target.ids.agent_communication
                ),
            )
            .hint(format!(
                "Find the participant whose purpose is \"agent\" in GET /api/v2/conversations/{}.",
                target.id()
            )),
        ));
    }
    let bytes = read_json_body(headers, body).await?;
    let now = wrapups.clock.now_ms();
    if matches!(form, Form::Participant) && is_skip_request(&bytes) {
        return match wrapups
            .store
            .skip_wrapup(target.id(), &principal.divisions, now)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => {
                Err(ApiError::not_found(Resource::Conversation(conversation_id)))
            }
            Err(e) => Err(e.into()),
        };
    }
    let checked = match form {
        Form::Communication => parse_wrapup_input(&bytes),
        Form::Participant => parse_participant_request(&bytes),
    }
    .map(|input| input.wrap_up);
    match wrapups
        .apply(principal, wrapup::Target::Found(&target.rec), checked, now)
        .await
    {
        Ok(_) => Ok(()),
        Err(Refused::NotFound) => Err(ApiError::not_found(Resource::Conversation(conversation_id))),
        Err(Refused::Problems(problems)) => Err(refused(problems)),
        Err(Refused::Failed(e)) => Err(e),
    }
}
