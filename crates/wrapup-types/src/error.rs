//! The error envelope every non-2xx `/api/v2` response carries, and the catalogue of
//! stable error codes. `docs/errors.md` documents every code listed in [`ErrorCode::ALL`];
//! a test keeps the two in step.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = ($code:literal, $status:literal), )*) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code the server can return.
            pub const ALL: &'static [ErrorCode] = &[ $(ErrorCode::$variant,)* ];

            /// The code as written on the wire, e.g. `wrapup.duration.invalid`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code is usually sent with. `wrapup.code.not.found` is
            /// the one exception: 400 when a wrap-up body references the code, 404 on
            /// `/api/v2/routing/wrapupcodes/{codeId}`.
            pub const fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// One line saying what the code means.
            pub const fn summary(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)* }
            }

            /// Parses a code written on the wire.
            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

impl ErrorCode {
    /// Whether a refusal with this code only means the interaction is not ready for a
    /// wrap-up yet (still open, or closed but not settled): nothing is wrong with the
    /// request, and the same request will be accepted once it is. The client's `apply` and
    /// the batch wait and send it again.
    pub fn means_not_ready(self) -> bool {
        matches!(
            self,
            ErrorCode::InteractionNotClosed | ErrorCode::InteractionNotFinalized
        )
    }
}

error_codes! {
    /// No `Authorization: Bearer` header, or a malformed one.
    AuthenticationRequired = ("authentication.required", 401),
    /// The bearer token is unknown.
    AuthenticationInvalid = ("authentication.invalid", 401),
    /// The bearer token has expired.
    AuthenticationExpired = ("authentication.expired", 401),
    /// The token lacks the scope the operation needs.
    AuthorizationMissingScope = ("authorization.missing.scope", 403),
    /// No interaction with this id is visible to the token.
    InteractionNotFound = ("interaction.not.found", 404),
    /// The request body is not `application/json`.
    RequestMediaUnsupported = ("request.media.unsupported", 415),
    /// The request body is larger than 64 KiB.
    RequestBodyTooLarge = ("request.body.too.large", 413),
    /// The request body is not one well-formed JSON object.
    RequestBodyMalformed = ("request.body.malformed", 400),
    /// The body has a field the operation does not accept.
    RequestFieldUnknown = ("request.field.unknown", 400),
    /// `codeId` is missing.
    WrapupCodeMissing = ("wrapup.code.missing", 400),
    /// `codeId` is not a UUID string.
    WrapupCodeInvalid = ("wrapup.code.invalid", 400),
    /// `durationMs` is missing.
    WrapupDurationMissing = ("wrapup.duration.missing", 400),
    /// `durationMs` is not a whole number of milliseconds from 1 to 86 400 000.
    WrapupDurationInvalid = ("wrapup.duration.invalid", 400),
    /// `notes` is not a string of at most 1024 characters.
    WrapupNotesInvalid = ("wrapup.notes.invalid", 400),
    /// A field was sent as `null`.
    RequestFieldNull = ("request.field.null", 400),
    /// The interaction is still queued or active.
    InteractionNotClosed = ("interaction.not.closed", 400),
    /// The interaction is closed but the platform has not settled it yet.
    InteractionNotFinalized = ("interaction.not.finalized", 400),
    /// No such wrap-up code is visible to the token.
    WrapupCodeNotFound = ("wrapup.code.not.found", 400),
    /// The wrap-up code belongs to another division than the interaction.
    WrapupCodeDivisionMismatch = ("wrapup.code.division.mismatch", 400),
    /// The wrap-up code is archived.
    WrapupCodeArchived = ("wrapup.code.archived", 400),
    /// A wrap-up code with this name already exists in the division.
    WrapupCodeNameConflict = ("wrapup.code.name.conflict", 409),
    /// The interaction has no wrap-up yet.
    WrapupNotFound = ("wrapup.not.found", 404),
    /// The lifecycle does not allow this state change.
    InteractionTransitionInvalid = ("interaction.transition.invalid", 409),
    /// A required field of a request body is missing.
    RequestFieldMissing = ("request.field.missing", 400),
    /// A field of a request body has a value the operation does not accept.
    RequestFieldInvalid = ("request.field.invalid", 400),
    /// A query parameter is not valid.
    RequestQueryInvalid = ("request.query.invalid", 400),
    /// The referenced division does not exist or is not granted to the token.
    DivisionNotFound = ("division.not.found", 400),
    /// A division with this name already exists.
    DivisionNameConflict = ("division.name.conflict", 409),
    /// The OAuth client sent more requests than its rate limit allows; retry after
    /// `Retry-After` seconds.
    RequestRateLimited = ("request.rate.limited", 429),
    /// The path exists but not with this method.
    RequestMethodUnsupported = ("request.method.unsupported", 405),
    /// No such path.
    RequestPathUnknown = ("request.path.unknown", 404),
    /// The request took longer than the server's time limit.
    RequestTimeout = ("request.timeout", 503),
    /// The server failed unexpectedly; the request may be retried.
    InternalError = ("internal.error", 500),
    /// The server cannot serve the request now (its database cannot write, or is not answering); retry later.
    ServiceUnavailable = ("service.unavailable", 503),
    /// No webhook endpoint with this id is visible to the token.
    WebhookNotFound = ("webhook.not.found", 404),
    /// The webhook URL is not an absolute `http` or `https` URL this server can send to.
    WebhookUrlInvalid = ("webhook.url.invalid", 400),
    /// The webhook URL names a private, loopback or link-local address, which this server
    /// does not send to.
    WebhookUrlRefused = ("webhook.url.refused", 400),
    /// The event is not in the event log, or is not one this webhook endpoint receives.
    WebhookEventNotFound = ("webhook.event.not.found", 404),
    /// The request inspector keeps no request with this id (it was never recorded, or
    /// newer requests have pushed it out).
    InspectorRequestNotFound = ("inspector.request.not.found", 404),
    /// The conversation has no participant with this id.
    ParticipantNotFound = ("participant.not.found", 404),
    /// The participant has no communication with this id.
    CommunicationNotFound = ("communication.not.found", 404),
    /// A wrap-up was sent for the customer participant; wrap-ups belong to the agent.
    ParticipantNotAgent = ("participant.not.agent", 400),
    /// The conversation is not of the media the path names.
    ConversationMediaMismatch = ("conversation.media.mismatch", 404),
    /// The body has a field of the Genesys model that wrapup does not emulate.
    RequestFieldUnsupported = ("request.field.unsupported", 400),
    /// The server runs on the real clock, which cannot be advanced (only one started with
    /// `--clock manual` can).
    ClockNotManual = ("clock.not.manual", 409),
    /// No queue with this id is visible to the token.
    QueueNotFound = ("queue.not.found", 404),
    /// A queue with this name already exists.
    QueueNameConflict = ("queue.name.conflict", 409),
    /// No agent (user) with this id is visible to the token.
    UserNotFound = ("user.not.found", 404),
    /// The wrap-up code is not one of the codes of the interaction's queue.
    WrapupCodeNotInQueue = ("wrapup.code.not.in.queue", 400),
    /// The queue's prompt does not let the agent skip the wrap-up, or a wrap-up is already
    /// in place.
    WrapupSkipNotAllowed = ("wrapup.skip.not.allowed", 400),
    // Notifications (docs/genesys.md#notifications).
    /// No notification channel with this id belongs to the token's OAuth client (or it
    /// expired).
    NotificationChannelNotFound = ("notification.channel.not.found", 404),
    /// A topic of the subscription is rejected (unknown, not visible, or a permission is
    /// missing) and `ignoreErrors` is not `true`.
    NotificationTopicRejected = ("notification.topic.rejected", 400),
    /// The channel would have more than 1,000 topics.
    NotificationTopicsTooMany = ("notification.topics.too.many", 400),
    /// A channel's socket URI was requested without a websocket upgrade.
    NotificationSocketUpgradeRequired = ("notification.socket.upgrade.required", 426),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code `{s}`")))
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "Stable machine-readable error code. See docs/errors.md for each code's meaning and fix.",
            ))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

/// One problem found in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    pub error_code: ErrorCode,
    /// The body field or parameter concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field_name: Option<String>,
    /// What was wrong, what was received, what is accepted.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub hint: Option<String>,
    /// With `interaction.not.finalized`: how long until the interaction is settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub retry_after_ms: Option<u64>,
}

/// The body of every non-2xx response under `/api/v2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "status": 400,
    "code": "wrapup.duration.invalid",
    "message": "durationMs must be a whole number of milliseconds from 1 to 86400000; got 0.",
    "contextId": "5f0c6a1e-0d1c-4d52-9a43-2f0c1c7d9b11",
    "details": [{
        "errorCode": "wrapup.duration.invalid",
        "fieldName": "durationMs",
        "message": "durationMs must be a whole number of milliseconds from 1 to 86400000; got 0.",
        "hint": "Send the time the agent spent in wrap-up, e.g. 120000 for two minutes."
    }],
    "errors": []
}))]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub status: u16,
    /// The code of the first problem.
    pub code: ErrorCode,
    /// The message of the first problem.
    pub message: String,
    /// The request id (`X-Request-Id`), for support and the request inspector.
    pub context_id: String,
    /// Every problem found, in the order the checks run.
    pub details: Vec<ErrorDetail>,
    /// Always empty; kept for compatibility with Genesys Cloud's envelope.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<serde_json::Value>,
}

/// An OAuth 2.0 error response (RFC 6749 §5.2), sent by `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_client` (401), `invalid_request`, `unsupported_grant_type` or `invalid_scope` (400).
    pub error: String,
    pub error_description: String,
}

impl ErrorDetail {
    /// A problem with no field, hint or retry delay.
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> ErrorDetail {
        ErrorDetail {
            error_code,
            field_name: None,
            message: message.into(),
            hint: None,
            retry_after_ms: None,
        }
    }

    /// Names the body field or parameter concerned.
    pub fn field(mut self, name: impl Into<String>) -> ErrorDetail {
        self.field_name = Some(name.into());
        self
    }

    /// Says what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> ErrorDetail {
        self.hint = Some(hint.into());
        self
    }

    pub fn retry_after_ms(mut self, ms: u64) -> ErrorDetail {
        self.retry_after_ms = Some(ms);
        self
    }
}
