//! Every operation of the Genesys dialect, named as the SDKs name it (the OpenAPI
//! `operationId` is the JavaScript method; the Python one is its snake_case), and the routes
//! to them. The media operations come four times, once per media segment (`calls`,
//! `callbacks`, `emails`, `messages`), from one macro: the behaviour is in `read` and
//! `wrapup`, written once.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrapup_store::Store;
use wrapup_types::genesys::{
    AssignedWrapupCode, Conversation, Media, MediaConversation, MediaParticipantRequest,
    WrapupInput,
};
use wrapup_types::ErrorCode::{self, *};
use wrapup_types::WrapUpCodeView;

use super::read;
use super::wrapup::{self, Form};
use crate::auth::{CommunicationViewPermission, ParticipantWrapupPermission, Permitted};
use crate::error::ApiError;
use crate::openapi::errors::codes;
use crate::state::AppState;
use crate::wrapup::WrapUps;

type Viewer = Permitted<CommunicationViewPermission>;
type Wrapper = Permitted<ParticipantWrapupPermission>;

// The error codes of the operations, in groups, in the order of their checks.
/// A conversation and a participant named in a path.
const CONVERSATION_PARTICIPANT: &[ErrorCode] = &[InteractionNotFound, ParticipantNotFound];
/// A conversation named in a path under a media segment.
const MEDIA_CONVERSATION: &[ErrorCode] = &[InteractionNotFound, ConversationMediaMismatch];
/// … and a participant.
const MEDIA_PARTICIPANT: &[ErrorCode] = &[
    InteractionNotFound,
    ConversationMediaMismatch,
    ParticipantNotFound,
];
/// … and a communication.
const MEDIA_COMMUNICATION: &[ErrorCode] = &[
    InteractionNotFound,
    ConversationMediaMismatch,
    ParticipantNotFound,
    CommunicationNotFound,
];
/// A wrap-up read: its `provisional` query, and no wrap-up.
const WRAPUP_READ: &[ErrorCode] = &[RequestQueryInvalid, WrapupNotFound];
/// A `WrapupInput`, in the order of checks (docs/api.md#order-of-checks).
const POST_WRAPUP: &[ErrorCode] = &[
    ParticipantNotAgent,
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldUnknown,
    WrapupCodeMissing,
    WrapupCodeInvalid,
    RequestFieldInvalid,
    WrapupNotesInvalid,
    WrapupDurationInvalid,
    InteractionNotClosed,
    InteractionNotFinalized,
    WrapupCodeNotFound,
    WrapupCodeDivisionMismatch,
    WrapupCodeArchived,
    WrapupCodeNotInQueue,
];
/// A `MediaParticipantRequest`: its own fields, then its `WrapupInput`.
const PATCH_WRAPUP: &[ErrorCode] = &[
    ParticipantNotAgent,
    WrapupSkipNotAllowed,
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldUnsupported,
    RequestFieldUnknown,
    RequestFieldMissing,
    WrapupCodeMissing,
    WrapupCodeInvalid,
    RequestFieldInvalid,
    WrapupNotesInvalid,
    WrapupDurationInvalid,
    InteractionNotClosed,
    InteractionNotFinalized,
    WrapupCodeNotFound,
    WrapupCodeDivisionMismatch,
    WrapupCodeArchived,
    WrapupCodeNotInQueue,
];

/// Get a conversation
///
/// The interaction with this id as a Genesys `Conversation`: the customer and the agent,
/// each with one communication of the interaction's media (docs/genesys.md#states).
#[utoipa::path(get, path = "/api/v2/conversations/{conversationId}", operation_id = "getConversation", tag = "genesys",
    params(("conversationId" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The conversation.", body = Conversation)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[&[InteractionNotFound]])))))]
pub async fn get_conversation(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Viewer,
    Path(conversation_id): Path<String>,
) -> Result<Json<Conversation>, ApiError> {
    read::conversation(store.as_ref(), &principal, &conversation_id).await
}

/// Apply a wrap-up through the participant
///
/// A `MediaParticipantRequest` whose only field is `wrapup`, applied to the agent's
/// communication exactly as `POST …/communications/{communicationId}/wrapup`.
#[utoipa::path(patch, path = "/api/v2/conversations/{conversationId}/participants/{participantId}",
    operation_id = "patchConversationParticipant", tag = "genesys",
    params(("conversationId" = Uuid, Path, description = "The interaction's id."),
        ("participantId" = Uuid, Path, description = "The agent participant's id.")),
    request_body = MediaParticipantRequest,
    responses((status = 202, description = "The wrap-up is in place (applied now, or already identical).")),
    security(("oauth2" = ["interaction:write"])),
    extensions(("x-error-codes" = json!(codes(&[CONVERSATION_PARTICIPANT, PATCH_WRAPUP])))))]
pub async fn patch_conversation_participant(
    State(wrapups): State<WrapUps>,
    Permitted(principal, ..): Wrapper,
    Path((conversation_id, participant_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let ids = (conversation_id.as_str(), participant_id.as_str(), None);
    wrapup::apply(
        &wrapups,
        &principal,
        None,
        ids,
        Form::Participant,
        &headers,
        body,
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Get a participant's wrap-up
///
/// `?provisional=true` reads only a provisional wrap-up, `false` only a final one.
#[utoipa::path(get, path = "/api/v2/conversations/{conversationId}/participants/{participantId}/wrapup",
    operation_id = "getConversationParticipantWrapup", tag = "genesys",
    params(("conversationId" = Uuid, Path, description = "The interaction's id."),
        ("participantId" = Uuid, Path, description = "The participant's id."),
        ("provisional" = Option<bool>, Query, description = "true: only a provisional wrap-up; false: only a final one.")),
    responses((status = 200, description = "The wrap-up.", body = AssignedWrapupCode)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[CONVERSATION_PARTICIPANT, WRAPUP_READ])))))]
pub async fn get_conversation_participant_wrapup(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Viewer,
    Path((conversation_id, participant_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<AssignedWrapupCode>, ApiError> {
    let ids = (conversation_id.as_str(), participant_id.as_str(), None);
    read::participant_wrapup(store.as_ref(), &principal, None, ids, query.as_deref()).await
}

/// List the codes a participant may use
///
/// The codes of the conversation's division that are not archived, by name: a JSON array.
#[utoipa::path(get, path = "/api/v2/conversations/{conversationId}/participants/{participantId}/wrapupcodes",
    operation_id = "getConversationParticipantWrapupcodes", tag = "genesys",
    params(("conversationId" = Uuid, Path, description = "The interaction's id."),
        ("participantId" = Uuid, Path, description = "The participant's id.")),
    responses((status = 200, description = "The codes.", body = Vec<WrapUpCodeView>)),
    security(("oauth2" = ["interaction:view", "wrapup-code:view"])),
    extensions(("x-error-codes" = json!(codes(&[CONVERSATION_PARTICIPANT])))))]
pub async fn get_conversation_participant_wrapupcodes(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Viewer,
    Path((conversation_id, participant_id)): Path<(String, String)>,
) -> Result<Json<Vec<WrapUpCodeView>>, ApiError> {
    read::participant_wrapupcodes(
        store.as_ref(),
        &principal,
        None,
        &conversation_id,
        &participant_id,
    )
    .await
}

/// The six operations of one media segment, documented and routed.
macro_rules! media_operations {
    (
        $module:ident, $media:expr, $name:tt,
        $get_path:tt, $get_id:tt,
        $patch_path:tt, $patch_id:tt,
        $post_path:tt, $post_id:tt,
        $participant_wrapup_path:tt, $participant_wrapup_id:tt,
        $communication_wrapup_path:tt, $communication_wrapup_id:tt,
        $codes_path:tt, $codes_id:tt
    ) => {
        #[doc = concat!("The operations under `/api/v2/conversations/", $name, "`.")]
        pub mod $module {
            use super::*;

            const MEDIA: Media = $media;

            /// Get a conversation's media view
            ///
            /// The participants carry the state of their communication; there is no
            /// communication list and no after-call work in this view.
            #[utoipa::path(get, path = $get_path, operation_id = $get_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id.")),
                responses((status = 200, description = "The conversation.", body = MediaConversation)),
                security(("oauth2" = ["interaction:view"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_CONVERSATION])))))]
            pub async fn get_media_conversation(
                State(store): State<Arc<dyn Store>>,
                Permitted(principal, ..): Viewer,
                Path(conversation_id): Path<String>,
            ) -> Result<Json<MediaConversation>, ApiError> {
                read::media_conversation(store.as_ref(), &principal, MEDIA, &conversation_id).await
            }

            /// Apply a wrap-up through the participant
            ///
            /// As `PATCH /api/v2/conversations/{conversationId}/participants/{participantId}`.
            #[utoipa::path(patch, path = $patch_path, operation_id = $patch_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id."),
                    ("participantId" = Uuid, Path, description = "The agent participant's id.")),
                request_body = MediaParticipantRequest,
                responses((status = 202, description = "The wrap-up is in place (applied now, or already identical).")),
                security(("oauth2" = ["interaction:write"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_PARTICIPANT, PATCH_WRAPUP])))))]
            pub async fn patch_participant(
                State(wrapups): State<WrapUps>,
                Permitted(principal, ..): Wrapper,
                Path((conversation_id, participant_id)): Path<(String, String)>,
                headers: HeaderMap,
                body: Body,
            ) -> Result<StatusCode, ApiError> {
                let ids = (conversation_id.as_str(), participant_id.as_str(), None);
                wrapup::apply(&wrapups, &principal, Some(MEDIA), ids, Form::Participant, &headers, body).await?;
                Ok(StatusCode::ACCEPTED)
            }

            /// Apply a wrap-up
            ///
            /// Sets (or replaces) the conversation's wrap-up, through the same checks,
            /// store operation, history and event as `PUT /api/v2/interactions/{id}/wrap-up`.
            /// Without `durationSeconds`, the duration is measured from the start of after-call
            /// work; sending the same input again changes nothing.
            #[utoipa::path(post, path = $post_path, operation_id = $post_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id."),
                    ("participantId" = Uuid, Path, description = "The agent participant's id."),
                    ("communicationId" = Uuid, Path, description = "The agent's communication's id.")),
                request_body = WrapupInput,
                responses((status = 204, description = "The wrap-up is in place (applied now, or already identical).")),
                security(("oauth2" = ["interaction:write"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_COMMUNICATION, POST_WRAPUP])))))]
            pub async fn post_communication_wrapup(
                State(wrapups): State<WrapUps>,
                Permitted(principal, ..): Wrapper,
                Path((conversation_id, participant_id, communication_id)): Path<(String, String, String)>,
                headers: HeaderMap,
                body: Body,
            ) -> Result<StatusCode, ApiError> {
                let ids = (conversation_id.as_str(), participant_id.as_str(), Some(communication_id.as_str()));
                wrapup::apply(&wrapups, &principal, Some(MEDIA), ids, Form::Communication, &headers, body).await?;
                Ok(StatusCode::NO_CONTENT)
            }

            /// Get a participant's wrap-up
            ///
            /// `?provisional=true` reads only a provisional wrap-up, `false` only a final one.
            #[utoipa::path(get, path = $participant_wrapup_path, operation_id = $participant_wrapup_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id."),
                    ("participantId" = Uuid, Path, description = "The participant's id."),
                    ("provisional" = Option<bool>, Query, description = "true: only a provisional wrap-up; false: only a final one.")),
                responses((status = 200, description = "The wrap-up.", body = AssignedWrapupCode)),
                security(("oauth2" = ["interaction:view"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_PARTICIPANT, WRAPUP_READ])))))]
            pub async fn get_participant_wrapup(
                State(store): State<Arc<dyn Store>>,
                Permitted(principal, ..): Viewer,
                Path((conversation_id, participant_id)): Path<(String, String)>,
                RawQuery(query): RawQuery,
            ) -> Result<Json<AssignedWrapupCode>, ApiError> {
                let ids = (conversation_id.as_str(), participant_id.as_str(), None);
                read::participant_wrapup(store.as_ref(), &principal, Some(MEDIA), ids, query.as_deref()).await
            }

            /// Get a communication's wrap-up
            ///
            /// `?provisional=true` reads only a provisional wrap-up, `false` only a final one.
            #[utoipa::path(get, path = $communication_wrapup_path, operation_id = $communication_wrapup_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id."),
                    ("participantId" = Uuid, Path, description = "The participant's id."),
                    ("communicationId" = Uuid, Path, description = "The participant's communication's id."),
                    ("provisional" = Option<bool>, Query, description = "true: only a provisional wrap-up; false: only a final one.")),
                responses((status = 200, description = "The wrap-up.", body = AssignedWrapupCode)),
                security(("oauth2" = ["interaction:view"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_COMMUNICATION, WRAPUP_READ])))))]
            pub async fn get_communication_wrapup(
                State(store): State<Arc<dyn Store>>,
                Permitted(principal, ..): Viewer,
                Path((conversation_id, participant_id, communication_id)): Path<(String, String, String)>,
                RawQuery(query): RawQuery,
            ) -> Result<Json<AssignedWrapupCode>, ApiError> {
                let ids = (conversation_id.as_str(), participant_id.as_str(), Some(communication_id.as_str()));
                read::participant_wrapup(store.as_ref(), &principal, Some(MEDIA), ids, query.as_deref()).await
            }

            /// List the codes a participant may use
            ///
            /// The codes of the conversation's division that are not archived, by name.
            #[utoipa::path(get, path = $codes_path, operation_id = $codes_id, tag = "genesys",
                params(("conversationId" = Uuid, Path, description = "The interaction's id."),
                    ("participantId" = Uuid, Path, description = "The participant's id.")),
                responses((status = 200, description = "The codes.", body = Vec<WrapUpCodeView>)),
                security(("oauth2" = ["interaction:view", "wrapup-code:view"])),
                extensions(("x-error-codes" = json!(codes(&[MEDIA_PARTICIPANT])))))]
            pub async fn get_participant_wrapupcodes(
                State(store): State<Arc<dyn Store>>,
                Permitted(principal, ..): Viewer,
                Path((conversation_id, participant_id)): Path<(String, String)>,
            ) -> Result<Json<Vec<WrapUpCodeView>>, ApiError> {
                read::participant_wrapupcodes(store.as_ref(), &principal, Some(MEDIA), &conversation_id, &participant_id).await
            }

            /// The operations of this media segment, one line each.
            pub fn routes() -> OpenApiRouter<AppState> {
                OpenApiRouter::new()
                    .routes(routes!(get_media_conversation))
                    .routes(routes!(patch_participant))
                    .routes(routes!(post_communication_wrapup, get_communication_wrapup))
                    .routes(routes!(get_participant_wrapup))
                    .routes(routes!(get_participant_wrapupcodes))
            }
        }
    };
}

media_operations!(
    calls, Media::Calls, "calls",
    "/api/v2/conversations/calls/{conversationId}", "getConversationsCall",
    "/api/v2/conversations/calls/{conversationId}/participants/{participantId}", "patchConversationsCallParticipant",
    "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "postConversationsCallParticipantCommunicationWrapup",
    "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapup", "getConversationsCallParticipantWrapup",
    "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "getConversationsCallParticipantCommunicationWrapup",
    "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapupcodes",
    "getConversationsCallParticipantWrapupcodes"
);
media_operations!(
    callbacks, Media::Callbacks, "callbacks",
    "/api/v2/conversations/callbacks/{conversationId}", "getConversationsCallback",
    "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}", "patchConversationsCallbackParticipant",
    "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "postConversationsCallbackParticipantCommunicationWrapup",
    "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}/wrapup",
    "getConversationsCallbackParticipantWrapup",
    "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "getConversationsCallbackParticipantCommunicationWrapup",
    "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}/wrapupcodes",
    "getConversationsCallbackParticipantWrapupcodes"
);
media_operations!(
    emails, Media::Emails, "emails",
    "/api/v2/conversations/emails/{conversationId}", "getConversationsEmail",
    "/api/v2/conversations/emails/{conversationId}/participants/{participantId}", "patchConversationsEmailParticipant",
    "/api/v2/conversations/emails/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "postConversationsEmailParticipantCommunicationWrapup",
    "/api/v2/conversations/emails/{conversationId}/participants/{participantId}/wrapup", "getConversationsEmailParticipantWrapup",
    "/api/v2/conversations/emails/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "getConversationsEmailParticipantCommunicationWrapup",
    "/api/v2/conversations/emails/{conversationId}/participants/{participantId}/wrapupcodes",
    "getConversationsEmailParticipantWrapupcodes"
);
media_operations!(
    messages, Media::Messages, "messages",
    "/api/v2/conversations/messages/{conversationId}", "getConversationsMessage",
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}", "patchConversationsMessageParticipant",
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "postConversationsMessageParticipantCommunicationWrapup",
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}/wrapup",
    "getConversationsMessageParticipantWrapup",
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}/communications/{communicationId}/wrapup",
    "getConversationsMessageParticipantCommunicationWrapup",
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}/wrapupcodes",
    "getConversationsMessageParticipantWrapupcodes"
);

/// Every operation of the Genesys dialect, one line each.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_conversation))
        .routes(routes!(patch_conversation_participant))
        .routes(routes!(get_conversation_participant_wrapup))
        .routes(routes!(get_conversation_participant_wrapupcodes))
        .merge(calls::routes())
        .merge(callbacks::routes())
        .merge(emails::routes())
        .merge(messages::routes())
}
