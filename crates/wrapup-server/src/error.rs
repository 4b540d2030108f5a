//! The one place API errors become responses.
//!
//! Handlers return [`ApiError`] (a status and every problem found); what a store's
//! `NotFound` or `Conflict` means for the resource a request names is written here once
//! ([`Resource`], [`UniqueName`]). An error's response carries
//! the problems as an extension; [`ErrorContext::render`], called by the outermost middleware (`middleware::observe`), turns them
//! into the error envelope with the request's `contextId`. Responses the router makes by
//! itself (unknown path, method not allowed) get their envelope there too, so every
//! non-2xx response under `/api/v2` has the same body.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wrapup_store::StoreError;
use wrapup_types::genesys::GenesysErrorBody;
use wrapup_types::{ErrorBody, ErrorCode, ErrorDetail};

/// An API error: the HTTP status and every problem found, first one first.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    /// An error whose status is that of the first problem's code.
    pub fn new(details: Vec<ErrorDetail>) -> ApiError {
        let status = details
            .first()
            .map(|d| StatusCode::from_u16(d.error_code.status()).unwrap_or(StatusCode::BAD_REQUEST))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError { status, details }
    }

    pub fn one(detail: ErrorDetail) -> ApiError {
        ApiError::new(vec![detail])
    }

    pub fn code(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::one(ErrorDetail::new(code, message))
    }

    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "{context}");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::InternalError,
                "The server failed unexpectedly while handling the request.",
            )
            .hint("Retry the request; if it keeps failing, report the contextId to the operator."),
        )
    }

    /// The database refused to store a write (`why`: the disk is full, …): nothing of the
    /// request was changed, and it can succeed once the operator has made room.
    pub fn not_written(why: &str) -> ApiError {
        tracing::error!(reason = %why, "the database could not write");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::ServiceUnavailable,
                format!("The server could not write to its database: {why}. Nothing was changed."),
            )
            .hint("Retry with backoff; the request will succeed once the operator has made room (the server log says what failed)."),
        )
    }

    /// A write committed but not made durable (a failed fsync): it may or may not be there
    /// after the restart the server now needs.
    pub fn not_durable(why: &str) -> ApiError {
        tracing::error!(reason = %why, "a write could not be made durable");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::ServiceUnavailable,
                format!(
                    "The server could not make the change durable: {why}. Whether it was stored is unknown until the server restarts."
                ),
            )
            .hint("Retry after the operator has restarted the server (the server log says what failed); read the object first, the change may be there."),
        )
    }

    pub fn unavailable(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "store unavailable");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::ServiceUnavailable,
                "The store is not answering; nothing was changed.",
            )
            .hint("Retry with backoff."),
        )
    }
}

/// Something a request names by id, for the answer "it does not exist". An object the
/// caller may not see gets the very same answer as one that does not exist.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// The interaction at `/api/v2/interactions/{id}`, as the path spells it.
    Interaction(&'a str),
    /// The code at `/api/v2/routing/wrapupcodes/{codeId}`, as the path spells it.
    WrapUpCode(&'a str),
    /// A division named in a body or a query, which must be granted to the caller.
    GrantedDivision(Uuid),
    /// A division an admin grants to a new OAuth client.
    DivisionToGrant(Uuid),
    /// The webhook endpoint at `/api/v2/webhooks/{webhookId}`, as the path spells it.
    Webhook(&'a str),
    /// An event to resend to a webhook endpoint: not in the log, or not one it receives.
    WebhookEvent(i64),
    /// The interaction at `/api/v2/conversations/…/{conversationId}`, as the path spells it.
    Conversation(&'a str),
    /// A participant of a conversation the caller sees, as the path spells it.
    Participant {
        conversation: Uuid,
        participant: &'a str,
    },
    /// A communication of a participant, as the path spells it; `expected` is the
    /// participant's one communication.
    Communication {
        participant: Uuid,
        communication: &'a str,
        expected: Uuid,
    },
    /// The queue at `/api/v2/routing/queues/{queueId}`, as the path spells it.
    Queue(&'a str),
    /// The agent at `/api/v2/users/{userId}`, as the path spells it.
    User(&'a str),
    /// A queue named in a body (`queueId`), which must be visible and of the interaction's
    /// division.
    QueueToUse(Uuid),
    /// An agent named in a body (`agentId`).
    AgentToUse(Uuid),
    /// The notification channel at `/api/v2/notifications/channels/{channelId}`, as the
    /// path spells it.
    NotificationChannel(&'a str),
}

/// A name that must be unique, for the answer "it is taken".
#[derive(Debug, Clone, Copy)]
pub enum UniqueName<'a> {
    /// A wrap-up code's name, unique in its division ignoring case.
    WrapUpCode(&'a str),
    /// A division's name, unique ignoring case.
    Division(&'a str),
    /// A queue's name, unique ignoring case.
    Queue(&'a str),
}

impl ApiError {
    /// The answer when `resource` does not exist (or is not visible): every not-found body
    /// is written here.
    pub fn not_found(resource: Resource<'_>) -> ApiError {
        match resource {
            Resource::Interaction(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::InteractionNotFound,
                    format!("No interaction with id {id} exists in the divisions this token can see."),
                )
                .hint("Check the id, and that the OAuth client is granted the interaction's division."),
            ),
            // 404 on its own path; the code's usual 400 is for a code named in a wrap-up body.
            Resource::WrapUpCode(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::WrapupCodeNotFound,
                    format!("No wrap-up code with id {id} exists in the divisions this token can see."),
                )
                .hint("List the codes with GET /api/v2/routing/wrapupcodes."),
            )
            .with_status(StatusCode::NOT_FOUND),
            Resource::GrantedDivision(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::DivisionNotFound,
                    format!("No division with id {id} exists among those this token is granted."),
                )
                .field("divisionId")
                .hint("List the granted divisions with GET /api/v2/authorization/divisions."),
            ),
            Resource::NotificationChannel(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::NotificationChannelNotFound,
                    format!("No notification channel with id {id} belongs to this token's OAuth client (channels expire 24 hours after their last subscription)."),
                )
                .hint("Create one with POST /api/v2/notifications/channels, or list yours with GET /api/v2/notifications/channels?includechannels=oauthclient."),
            ),
            Resource::Webhook(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::WebhookNotFound,
                    format!("No webhook endpoint with id {id} exists among those this token can manage."),
                )
                .hint("List the endpoints with GET /api/v2/webhooks (an endpoint is visible to tokens granted all of its divisions)."),
            ),
            Resource::WebhookEvent(seq) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::WebhookEventNotFound,
                    format!("Event {seq} is not one this endpoint receives, or is no longer in the event log."),
                )
                .hint("Events are kept 24 hours at least; GET /api/v2/webhooks/{webhookId}/deliveries lists the events sent to the endpoint, and the endpoint receives only its eventTypes and divisions."),
            ),
            Resource::DivisionToGrant(id) => ApiError::one(
                ErrorDetail::new(ErrorCode::DivisionNotFound, format!("No division with id {id} exists."))
                    .field("divisions")
                    .hint("List divisions with GET /api/v2/authorization/divisions, or grant \"all\"."),
            ),
            Resource::Conversation(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::InteractionNotFound,
                    format!("No conversation (interaction) with id {id} exists in the divisions this token can see."),
                )
                .hint("A conversation's id is its interaction's id: check it, and that the OAuth client is granted the interaction's division."),
            ),
            Resource::Participant { conversation, participant } => {
                let ids = wrapup_domain::genesys::ConversationIds::of(conversation);
                ApiError::one(
                    ErrorDetail::new(
                        ErrorCode::ParticipantNotFound,
                        format!(
                            "Conversation {conversation} has no participant {participant}; its participants are {} (customer) and {} (agent).",
                            ids.customer, ids.agent
                        ),
                    )
                    .hint(format!("Read the participants with GET /api/v2/conversations/{conversation}.")),
                )
            }
            Resource::Communication { participant, communication, expected } => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::CommunicationNotFound,
                    format!("Participant {participant} has no communication {communication}; its one communication is {expected}."),
                )
                .hint("A communication's id is in participants[].calls[].id (or callbacks, emails, messages) of GET /api/v2/conversations/{conversationId}."),
            ),
            Resource::Queue(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::QueueNotFound,
                    format!("No queue with id {id} exists in the divisions this token can see."),
                )
                .hint("List the queues with GET /api/v2/routing/queues."),
            ),
            Resource::User(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::UserNotFound,
                    format!("No agent (user) with id {id} exists in the divisions this token can see."),
                )
                .hint("List the agents with GET /api/v2/users."),
            ),
            // 400: the request names it in its body.
            Resource::QueueToUse(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::QueueNotFound,
                    format!("No queue with id {id} exists in the interaction's division among those this token can see."),
                )
                .field("queueId")
                .hint("A queue and its interactions are in one division: list the division's queues with GET /api/v2/routing/queues?divisionId=…"),
            )
            .with_status(StatusCode::BAD_REQUEST),
            Resource::AgentToUse(id) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::UserNotFound,
                    format!("No agent (user) with id {id} exists in the divisions this token can see."),
                )
                .field("agentId")
                .hint("List the agents with GET /api/v2/users, or create one with POST /api/v2/users."),
            )
            .with_status(StatusCode::BAD_REQUEST),
        }
    }

    /// The answer when `name` is taken: every conflict body is written here.
    pub fn name_taken(name: UniqueName<'_>) -> ApiError {
        match name {
            UniqueName::WrapUpCode(name) => ApiError::one(
                ErrorDetail::new(
                    ErrorCode::WrapupCodeNameConflict,
                    format!("A wrap-up code named \"{name}\" already exists in this division."),
                )
                .field("name")
                .hint("Names are unique within a division, ignoring case; use the existing code (GET /api/v2/routing/wrapupcodes?name=…) or choose another name."),
            ),
            UniqueName::Division(name) => ApiError::one(
                ErrorDetail::new(ErrorCode::DivisionNameConflict, format!("A division named \"{name}\" already exists."))
                    .field("name")
                    .hint("Division names are unique ignoring case; choose another name or use the existing division."),
            ),
            UniqueName::Queue(name) => ApiError::one(
                ErrorDetail::new(ErrorCode::QueueNameConflict, format!("A queue named \"{name}\" already exists."))
                    .field("name")
                    .hint("Queue names are unique ignoring case; use the existing queue (GET /api/v2/routing/queues?name=…) or choose another name."),
            ),
        }
    }
}

/// A store error on its own says nothing of what was looked for, so `NotFound` and
/// `Conflict` reaching this conversion are a handler that did not say it (a bug, 500):
/// handlers name the resource with [`OrNotFound`] and [`OrNameTaken`].
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Rejected(details) => ApiError::new(details),
            StoreError::NotWritten(why) => ApiError::not_written(&why),
            StoreError::NotDurable(why) => ApiError::not_durable(&why),
            StoreError::Database(_) | StoreError::Closed => ApiError::unavailable(e),
            StoreError::NotFound | StoreError::Conflict(_) => {
                ApiError::internal("a store error without the resource it concerns", e)
            }
        }
    }
}

/// `.or_not_found(resource)`: a missing object (`None`, or the store's `NotFound`) becomes
/// [`ApiError::not_found`] for `resource`; any other store error converts as usual.
pub trait OrNotFound<T> {
    fn or_not_found(self, resource: Resource<'_>) -> Result<T, ApiError>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, resource: Resource<'_>) -> Result<T, ApiError> {
        self.ok_or_else(|| ApiError::not_found(resource))
    }
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, resource: Resource<'_>) -> Result<T, ApiError> {
        self.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(resource),
            e => e.into(),
        })
    }
}

/// `.or_name_taken(name)`: the store's `Conflict` becomes [`ApiError::name_taken`] for
/// `name`; any other store error converts as usual.
pub trait OrNameTaken<T> {
    fn or_name_taken(self, name: UniqueName<'_>) -> Result<T, ApiError>;
}

impl<T> OrNameTaken<T> for Result<T, StoreError> {
    fn or_name_taken(self, name: UniqueName<'_>) -> Result<T, ApiError> {
        self.map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::name_taken(name),
            e => e.into(),
        })
    }
}

/// The problems of a response whose body is still to be rendered.
#[derive(Clone)]
struct PendingError(Vec<ErrorDetail>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(ms) = self.details.iter().find_map(|d| d.retry_after_ms) {
            let seconds = ms.div_ceil(1000).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(PendingError(self.details));
        response
    }
}

/// What the error renderer needs to know of a request, taken before it is handled.
pub struct ErrorContext {
    api: bool,
    genesys: bool,
    method: Method,
}

impl ErrorContext {
    pub fn of(request: &Request) -> ErrorContext {
        let path = request.uri().path();
        ErrorContext {
            api: path.starts_with("/api/"),
            genesys: GENESYS_PATHS.iter().any(|p| path.starts_with(p)),
            method: request.method().clone(),
        }
    }

    /// Renders the error envelope of an error response (see the module docs); other
    /// responses pass unchanged. Called by `middleware::observe` on every response;
    /// `context_id` is the request's id (see `middleware::request_id`).
    pub fn render(self, mut response: Response, context_id: &str) -> Response {
        let ErrorContext {
            api,
            genesys,
            method,
        } = self;
        let status = response.status();
        let details = match response.extensions_mut().remove::<PendingError>() {
            Some(PendingError(details)) => details,
            None if api && status == StatusCode::METHOD_NOT_ALLOWED => {
                vec![ErrorDetail::new(
                ErrorCode::RequestMethodUnsupported,
                format!("This path does not support the {method} method; the Allow header lists those it supports."),
            )
            .hint("Check the method in the API reference (GET /api/v2/openapi.json).")]
            }
            None if api
                && (status.is_client_error() || status.is_server_error())
                && body_is_empty(&response) =>
            {
                vec![ErrorDetail::new(
                    ErrorCode::InternalError,
                    format!("The request failed with status {status}."),
                )]
            }
            None => return response,
        };
        let first = details
            .first()
            .cloned()
            .unwrap_or_else(|| ErrorDetail::new(ErrorCode::InternalError, ""));
        let body = ErrorBody {
            status: status.as_u16(),
            code: first.error_code,
            message: first.message,
            context_id: context_id.to_string(),
            details,
            errors: Vec::new(),
        };
        let json = if genesys {
            serde_json::to_vec(&GenesysErrorBody::new(body, first.hint))
        } else {
            serde_json::to_vec(&body)
        }
        .unwrap_or_default();
        let (mut parts, _) = response.into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, Body::from(json))
    }
}

/// The paths of the Genesys dialect's own operations, whose errors are a
/// [`GenesysErrorBody`] (docs/genesys.md#errors).
const GENESYS_PATHS: [&str; 3] = [
    "/api/v2/conversations",
    "/api/v2/notifications",
    "/api/v2/analytics/",
];

fn body_is_empty(response: &Response) -> bool {
    use http_body::Body as _;
    response.body().size_hint().exact() == Some(0)
}
