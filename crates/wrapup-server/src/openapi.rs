//! The OpenAPI 3.1 document, generated from the handlers (utoipa) and completed with the
//! error codes each operation can return, from [`OPERATION_ERRORS`]: one table, which the
//! tests check against the server's behaviour and `docs/errors.md`.

use std::collections::BTreeMap;

use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, ServerBuilder};
use utoipa::{Modify, OpenApi};
use wrapup_types::{ApiIndex, EntryPoint, ErrorBody, ErrorCode, ErrorDetail, Scope};

use crate::routes;
use ErrorCode::*;

/// The error codes every authenticated operation can return (token and scope checks).
pub const AUTH: &[ErrorCode] = &[
    AuthenticationRequired,
    AuthenticationInvalid,
    AuthenticationExpired,
    AuthorizationMissingScope,
    RequestRateLimited,
];
const JSON_BODY: &[ErrorCode] = &[
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldUnknown,
    RequestFieldMissing,
    RequestFieldInvalid,
    RequestFieldNull,
];
/// The error codes any operation can return.
pub const ALWAYS: &[ErrorCode] = &[
    RequestMethodUnsupported,
    RequestTimeout,
    InternalError,
    ServiceUnavailable,
];

/// The error codes each operation can return, beyond [`AUTH`] and [`ALWAYS`] (which every
/// authenticated operation can).
pub const OPERATION_ERRORS: &[(&str, &[&[ErrorCode]])] = &[
    ("listDivisions", &[&[RequestQueryInvalid]]),
    ("createDivision", &[JSON_BODY, &[DivisionNameConflict]]),
    ("listWrapUpCodes", &[&[RequestQueryInvalid]]),
    (
        "createWrapUpCode",
        &[JSON_BODY, &[DivisionNotFound, WrapupCodeNameConflict]],
    ),
    ("getWrapUpCode", &[&[WrapupCodeNotFound]]),
    (
        "updateWrapUpCode",
        &[&[WrapupCodeNotFound], JSON_BODY, &[WrapupCodeNameConflict]],
    ),
    ("archiveWrapUpCode", &[&[WrapupCodeNotFound]]),
    ("createInteraction", &[JSON_BODY, &[DivisionNotFound]]),
    ("getInteraction", &[&[InteractionNotFound]]),
    ("listInteractions", &[&[RequestQueryInvalid]]),
    (
        "setInteractionState",
        &[
            &[InteractionNotFound],
            JSON_BODY,
            &[InteractionTransitionInvalid],
        ],
    ),
    (
        "putInteractionWrapUp",
        &[&[
            InteractionNotFound,
            RequestMediaUnsupported,
            RequestBodyTooLarge,
            RequestBodyMalformed,
            RequestFieldUnknown,
            WrapupCodeMissing,
            WrapupCodeInvalid,
            WrapupDurationMissing,
            WrapupDurationInvalid,
            WrapupNotesInvalid,
            RequestFieldNull,
            InteractionNotClosed,
            InteractionNotFinalized,
            WrapupCodeNotFound,
            WrapupCodeDivisionMismatch,
            WrapupCodeArchived,
        ]],
    ),
    (
        "applyInteractionWrapUps",
        &[&[
            RequestMediaUnsupported,
            RequestBodyTooLarge,
            RequestBodyMalformed,
            RequestFieldInvalid,
        ]],
    ),
    (
        "getInteractionWrapUp",
        &[&[InteractionNotFound, WrapupNotFound]],
    ),
    ("getInteractionWrapUpHistory", &[&[InteractionNotFound]]),
    ("createOAuthClient", &[JSON_BODY, &[DivisionNotFound]]),
    (
        "streamInteractionEvents",
        &[&[RequestQueryInvalid, DivisionNotFound]],
    ),
    ("listInspectedRequests", &[&[RequestQueryInvalid]]),
    ("streamInspectedRequests", &[]),
    ("diagnoseInspectedRequest", &[&[InspectorRequestNotFound]]),
    ("countInteractions", &[]),
    ("getWrapUpActivity", &[]),
    ("validateInteractionWrapUp", &[&[InteractionNotFound]]),
    ("getChaos", &[]),
    ("setChaos", &[JSON_BODY]),
    (
        "createWebhook",
        &[
            JSON_BODY,
            &[WebhookUrlInvalid, WebhookUrlRefused, DivisionNotFound],
        ],
    ),
    ("listWebhooks", &[&[RequestQueryInvalid]]),
    ("getWebhook", &[&[WebhookNotFound]]),
    (
        "updateWebhook",
        &[
            &[WebhookNotFound],
            JSON_BODY,
            &[WebhookUrlInvalid, WebhookUrlRefused, DivisionNotFound],
        ],
    ),
    ("deleteWebhook", &[&[WebhookNotFound]]),
    (
        "rotateWebhookSecret",
        &[&[RequestQueryInvalid, WebhookNotFound]],
    ),
    (
        "listWebhookDeliveries",
        &[&[RequestQueryInvalid, WebhookNotFound]],
    ),
    (
        "resendWebhookEvent",
        &[&[WebhookNotFound, WebhookEventNotFound]],
    ),
    ("replayWebhook", &[&[WebhookNotFound], JSON_BODY]),
    ("sendWebhookTest", &[&[WebhookNotFound]]),
    // The Genesys dialect (docs/genesys.md): the media-free operations, then each media's.
    ("getConversation", &[&[InteractionNotFound]]),
    (
        "patchConversationParticipant",
        &[CONVERSATION_PARTICIPANT, PATCH_WRAPUP],
    ),
    (
        "getConversationParticipantWrapup",
        &[CONVERSATION_PARTICIPANT, WRAPUP_READ],
    ),
    (
        "getConversationParticipantWrapupcodes",
        &[CONVERSATION_PARTICIPANT],
    ),
    ("getConversationsCall", &[MEDIA_CONVERSATION]),
    (
        "patchConversationsCallParticipant",
        &[MEDIA_PARTICIPANT, PATCH_WRAPUP],
    ),
    (
        "postConversationsCallParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, POST_WRAPUP],
    ),
    (
        "getConversationsCallParticipantWrapup",
        &[MEDIA_PARTICIPANT, WRAPUP_READ],
    ),
    (
        "getConversationsCallParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, WRAPUP_READ],
    ),
    (
        "getConversationsCallParticipantWrapupcodes",
        &[MEDIA_PARTICIPANT],
    ),
    ("getConversationsCallback", &[MEDIA_CONVERSATION]),
    (
        "patchConversationsCallbackParticipant",
        &[MEDIA_PARTICIPANT, PATCH_WRAPUP],
    ),
    (
        "postConversationsCallbackParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, POST_WRAPUP],
    ),
    (
        "getConversationsCallbackParticipantWrapup",
        &[MEDIA_PARTICIPANT, WRAPUP_READ],
    ),
    (
        "getConversationsCallbackParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, WRAPUP_READ],
    ),
    (
        "getConversationsCallbackParticipantWrapupcodes",
        &[MEDIA_PARTICIPANT],
    ),
    ("getConversationsEmail", &[MEDIA_CONVERSATION]),
    (
        "patchConversationsEmailParticipant",
        &[MEDIA_PARTICIPANT, PATCH_WRAPUP],
    ),
    (
        "postConversationsEmailParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, POST_WRAPUP],
    ),
    (
        "getConversationsEmailParticipantWrapup",
        &[MEDIA_PARTICIPANT, WRAPUP_READ],
    ),
    (
        "getConversationsEmailParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, WRAPUP_READ],
    ),
    (
        "getConversationsEmailParticipantWrapupcodes",
        &[MEDIA_PARTICIPANT],
    ),
    ("getConversationsMessage", &[MEDIA_CONVERSATION]),
    (
        "patchConversationsMessageParticipant",
        &[MEDIA_PARTICIPANT, PATCH_WRAPUP],
    ),
    (
        "postConversationsMessageParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, POST_WRAPUP],
    ),
    (
        "getConversationsMessageParticipantWrapup",
        &[MEDIA_PARTICIPANT, WRAPUP_READ],
    ),
    (
        "getConversationsMessageParticipantCommunicationWrapup",
        &[MEDIA_COMMUNICATION, WRAPUP_READ],
    ),
    (
        "getConversationsMessageParticipantWrapupcodes",
        &[MEDIA_PARTICIPANT],
    ),
];

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
];
/// A `MediaParticipantRequest`: its own fields, then its `WrapupInput`.
const PATCH_WRAPUP: &[ErrorCode] = &[
    ParticipantNotAgent,
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
];

/// Operations that need a token but no particular scope.
const NO_SCOPE: &[&str] = &["listDivisions"];
/// Operations on `/api/v2/routing/wrapupcodes/{codeId}`, where an unknown code is a 404.
const CODE_PATH: &[&str] = &["getWrapUpCode", "updateWrapUpCode", "archiveWrapUpCode"];

/// Every error code an operation can return, in a stable order, with the status of each.
pub fn operation_errors(operation_id: &str) -> Option<Vec<(ErrorCode, u16)>> {
    let (_, groups) = OPERATION_ERRORS
        .iter()
        .find(|(id, _)| *id == operation_id)?;
    let mut codes: Vec<ErrorCode> = AUTH
        .iter()
        .filter(|c| !(NO_SCOPE.contains(&operation_id) && **c == AuthorizationMissingScope))
        .chain(groups.iter().flat_map(|g| g.iter()))
        .chain(ALWAYS)
        .copied()
        .collect();
    codes.dedup();
    Some(
        codes
            .into_iter()
            .map(|c| {
                let status = if c == WrapupCodeNotFound && CODE_PATH.contains(&operation_id) {
                    404
                } else {
                    c.status()
                };
                (c, status)
            })
            .collect(),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wrapup",
        description = "A strict, self-explaining interactions platform: interactions with a lifecycle, wrap-up codes in \
divisions, OAuth2 client credentials with scopes, and `PUT /api/v2/interactions/{id}/wrap-up`.\n\n\
Every non-2xx response under `/api/v2` has the `ErrorBody` envelope. Its `code` is stable; every code is listed in \
docs/errors.md and, per operation, in the operation's responses and its `x-error-codes` extension. An unknown path \
answers 404 `request.path.unknown`.",
        license(name = "Apache-2.0")
    ),
    paths(
        routes::oauth::issue_token,
        routes::divisions::list,
        routes::divisions::create,
        routes::codes::list,
        routes::codes::create,
        routes::codes::get,
        routes::codes::update,
        routes::codes::archive,
        routes::interactions::create,
        routes::interactions::list,
        routes::interactions::get,
        routes::interactions::set_state,
        routes::interactions::put_wrapup,
        routes::bulk_wrapups::apply_many,
        routes::interactions::get_wrapup,
        routes::interactions::wrapup_history,
        routes::interactions::validate,
        routes::overview::counts,
        routes::overview::wrapup_activity,
        routes::events::stream,
        routes::clients::create,
        routes::ops::healthz,
        routes::metrics::metrics,
        routes::ops::openapi,
        routes::ops::api_index,
        routes::inspector::list_requests,
        routes::inspector::stream,
        routes::diagnosis::diagnose,
        routes::admin::get_chaos,
        routes::admin::set_chaos,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get,
        routes::webhooks::update,
        routes::webhooks::delete,
        routes::webhooks::rotate_secret,
        routes::webhook_deliveries::list,
        routes::webhook_deliveries::resend,
        routes::webhook_deliveries::replay,
        routes::webhook_deliveries::test,
        routes::conversations::get_conversation,
        routes::conversations::patch_conversation_participant,
        routes::conversations::get_conversation_participant_wrapup,
        routes::conversations::get_conversation_participant_wrapupcodes,
        routes::conversations::calls::get_media_conversation,
        routes::conversations::calls::patch_participant,
        routes::conversations::calls::post_communication_wrapup,
        routes::conversations::calls::get_participant_wrapup,
        routes::conversations::calls::get_communication_wrapup,
        routes::conversations::calls::get_participant_wrapupcodes,
        routes::conversations::callbacks::get_media_conversation,
        routes::conversations::callbacks::patch_participant,
        routes::conversations::callbacks::post_communication_wrapup,
        routes::conversations::callbacks::get_participant_wrapup,
        routes::conversations::callbacks::get_communication_wrapup,
        routes::conversations::callbacks::get_participant_wrapupcodes,
        routes::conversations::emails::get_media_conversation,
        routes::conversations::emails::patch_participant,
        routes::conversations::emails::post_communication_wrapup,
        routes::conversations::emails::get_participant_wrapup,
        routes::conversations::emails::get_communication_wrapup,
        routes::conversations::emails::get_participant_wrapupcodes,
        routes::conversations::messages::get_media_conversation,
        routes::conversations::messages::patch_participant,
        routes::conversations::messages::post_communication_wrapup,
        routes::conversations::messages::get_participant_wrapup,
        routes::conversations::messages::get_communication_wrapup,
        routes::conversations::messages::get_participant_wrapupcodes,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ErrorCode,
        wrapup_types::EventReset,
        wrapup_types::InspectedRequest,
        wrapup_types::SortOrder,
        wrapup_types::WebhookPayload,
        wrapup_types::genesys::GenesysErrorBody
    )),
    modifiers(&ErrorsAndSecurity),
    tags(
        (name = "interactions", description = "Interactions, their lifecycle and their wrap-ups."),
        (name = "wrapup-codes", description = "Wrap-up codes (dispositions), each in one division."),
        (name = "divisions", description = "Divisions partition interactions and codes; OAuth clients are granted divisions."),
        (name = "oauth", description = "OAuth 2.0 client credentials."),
        (name = "operations", description = "Health, metrics, the request inspector, fault injection and this document."),
        (name = "webhooks", description = "Webhook endpoints: events POSTed to your URL, signed per Standard Webhooks, retried, with a delivery log and replays (docs/webhooks.md). Every delivery's body is a WebhookPayload."),
        (name = "genesys", description = "Genesys Cloud's conversation and wrap-up operations, as its official SDKs call them \
(docs/genesys.md). Errors here put the hint in `message` and add `messageWithParams` and `messageParams`."),
    )
)]
pub struct ApiDoc;

/// Completes the generated document: the server, the OAuth2 security scheme, and each
/// operation's error responses.
struct ErrorsAndSecurity;

impl Modify for ErrorsAndSecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.servers = Some(vec![ServerBuilder::new()
            .url("http://127.0.0.1:8080")
            .description(Some("wrapup serve (default address)"))
            .build()]);
        let scopes = Scopes::from_iter(
            Scope::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.description().to_string())),
        );
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    scopes,
                ))],
                "OAuth 2.0 client credentials; send the token as Authorization: Bearer <token>.",
            )),
        );
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_errors(op);
            }
        }
    }
}

fn add_errors(op: &mut Operation) {
    let Some(errors) = op.operation_id.as_deref().and_then(operation_errors) else {
        return;
    };
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for (code, status) in &errors {
        by_status.entry(*status).or_default().push(*code);
    }
    for (status, codes) in by_status {
        let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let examples = codes.iter().map(|c| {
            let body = ErrorBody {
                status,
                code: *c,
                message: c.summary().to_string(),
                context_id: "5f0c6a1e-0d1c-4d52-9a43-2f0c1c7d9b11".into(),
                details: vec![ErrorDetail::new(*c, c.summary())],
                errors: vec![],
            };
            let value = serde_json::to_value(body).expect("error bodies serialise");
            (
                c.as_str().to_string(),
                ExampleBuilder::new()
                    .summary(c.summary())
                    .value(Some(value))
                    .build(),
            )
        });
        let mut response = ResponseBuilder::new()
            .description(format!("Error: {}. See docs/errors.md.", names.join(", ")))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                    .examples_from_iter(examples)
                    .build(),
            );
        if codes.contains(&RequestRateLimited) || codes.contains(&InteractionNotFinalized) {
            response = response.header(
                "Retry-After",
                Header::builder()
                    .schema(Object::with_type(Type::Integer))
                    .description(Some("Seconds (rounded up) before the request may succeed."))
                    .build(),
            );
        }
        if codes.contains(&RequestRateLimited) {
            for (name, what) in RATE_HEADERS {
                response = response.header(
                    name,
                    Header::builder()
                        .schema(Object::with_type(Type::Integer))
                        .description(Some(what))
                        .build(),
                );
            }
        }
        let response = response.build();
        op.responses
            .responses
            .insert(status.to_string(), RefOr::T(response));
    }
    let list: Vec<&str> = errors.iter().map(|(c, _)| c.as_str()).collect();
    let ext = ExtensionsBuilder::new()
        .add("x-error-codes", serde_json::json!(list))
        .build();
    match &mut op.extensions {
        Some(existing) => existing.merge(ext),
        None => op.extensions = Some(ext),
    }
}

/// The headers of every response to an authenticated request when a rate limit is set.
const RATE_HEADERS: [(&str, &str); 3] = [
    ("RateLimit-Limit", "The client's bucket size (requests)."),
    ("RateLimit-Remaining", "Requests left in the bucket now."),
    ("RateLimit-Reset", "Seconds until the bucket is full again."),
];

/// The document as served: derived from the handlers, with the rules of
/// `openapi_rules` written in.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    crate::openapi_rules::apply(&mut doc);
    doc
}

/// What `GET /api/v2` answers: every operation of `doc`, with its summary.
pub fn index(doc: &serde_json::Value) -> ApiIndex {
    let mut operations = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    operations.push(EntryPoint {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        summary: op["summary"].as_str().unwrap_or_default().to_string(),
                    });
                }
            }
        }
    }
    ApiIndex {
        service: "wrapup".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        openapi: "/api/v2/openapi.json".into(),
        documentation: "docs/api.md in the wrapup repository (every operation, the field rules, the order of checks); docs/errors.md (every error code)".into(),
        operations,
    }
}
