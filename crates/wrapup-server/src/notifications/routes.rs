//! `/api/v2/notifications`: channels, their subscriptions, and the available topics
//! (docs/genesys.md#notifications). A channel belongs to the OAuth client whose token
//! created it; another client's channel is answered as one that does not exist.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use uuid::Uuid;
use wrapup_domain::genesys::notifications::TOPIC_PERMISSION;
use wrapup_domain::Principal;
use wrapup_store::{ChannelChange, ChannelRecord, Store};
use wrapup_types::genesys::{
    AvailableTopic, ChannelTopic, ChannelTopicRequest, NotificationChannel, NotificationEntities,
    TopicState,
};
use wrapup_types::timestamp::from_millis;
use wrapup_types::ErrorCode::*;
use wrapup_types::{ErrorCode, ErrorDetail};

use super::{access, Notifications};
use crate::auth::{bearer, token_hash, Authenticated};
use crate::clock::Clock;
use crate::error::{ApiError, Resource};
use crate::extract::read_json_body;
use crate::openapi::errors::codes;

const PATH: &str = "/api/v2/notifications/channels";

fn query_error(field: &str, message: String, hint: &str) -> ApiError {
    ApiError::one(
        ErrorDetail::new(RequestQueryInvalid, message)
            .field(field)
            .hint(hint),
    )
}

/// The value of `name` in the query string, if given (other parameters are ignored, as
/// Genesys does).
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `connectUri` of a channel: this server as the request reached it.
fn connect_uri(headers: &HeaderMap, id: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let scheme = if tls { "wss" } else { "ws" };
    format!("{scheme}://{host}{PATH}/{id}/socket")
}

fn view(headers: &HeaderMap, c: &ChannelRecord) -> NotificationChannel {
    NotificationChannel {
        connect_uri: connect_uri(headers, &c.id),
        id: c.id.clone(),
        expires: from_millis(c.expires_ms),
    }
}

/// The caller's channel `id`, not expired.
async fn own_channel(
    store: &dyn Store,
    principal: &Principal,
    id: &str,
    now_ms: i64,
) -> Result<ChannelRecord, ApiError> {
    store
        .notifications()
        .get_channel(id)
        .await?
        .filter(|c| c.client_id == principal.client_id && c.expires_ms > now_ms)
        .ok_or_else(|| ApiError::not_found(Resource::NotificationChannel(id)))
}

/// Create a notification channel
///
/// A channel to subscribe topics to and to read them from, on the websocket at
/// `connectUri` (use it as given). It lives 24 hours; subscribing again extends it. An
/// OAuth client has at most 20: the next one removes the least recently used (unconnected
/// ones first). The body is ignored (the SDKs send none, or `null`).
#[utoipa::path(post, path = "/api/v2/notifications/channels", operation_id = "postNotificationsChannels", tag = "notifications",
    responses((status = 200, description = "The new channel.", body = NotificationChannel)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn create_channel(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(notifications): State<Arc<Notifications>>,
    Authenticated(principal): Authenticated,
    headers: HeaderMap,
) -> Result<Json<NotificationChannel>, ApiError> {
    let now = clock.now_ms();
    let config = &notifications.config;
    let channel = ChannelRecord {
        id: format!("streaming-0-{}", Uuid::new_v4()),
        client_id: principal.client_id,
        token_hash: hex(&token_hash(bearer(&headers)?)),
        scopes: principal.scopes.to_string(),
        created_ms: now,
        expires_ms: now + config.channel_life.as_millis() as i64,
        last_used_ms: now,
        socket: None,
        topics: Vec::new(),
        cursor: None,
        disconnected_ms: None,
    };
    let removed = store
        .notifications()
        .create_channel(&channel, config.max_channels)
        .await?;
    for id in removed {
        notifications.hub.kick_channel(&id);
    }
    Ok(Json(view(&headers, &channel)))
}

/// Whose channels a listing shows.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only: the handler reads the raw query
pub enum IncludeChannels {
    Token,
    Oauthclient,
}

/// List notification channels
///
/// The channels created with this token (`includechannels=token`, the default) or by its
/// OAuth client (`includechannels=oauthclient`), oldest first.
#[utoipa::path(get, path = "/api/v2/notifications/channels", operation_id = "getNotificationsChannels", tag = "notifications",
    params(("includechannels" = Option<IncludeChannels>, Query, description = "`token` (default) or `oauthclient`.")),
    responses((status = 200, description = "The channels.", body = NotificationEntities<NotificationChannel>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid]])))))]
pub async fn list_channels(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authenticated(principal): Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<NotificationEntities<NotificationChannel>>, ApiError> {
    let by_token = match query_param(query.as_deref(), "includechannels").as_deref() {
        None | Some("token") => true,
        Some("oauthclient") => false,
        Some(other) => {
            return Err(query_error(
                "includechannels",
                format!("includechannels must be token or oauthclient; got \"{other}\"."),
                "Leave it out for the channels of this token.",
            ))
        }
    };
    let hash = hex(&token_hash(bearer(&headers)?));
    let now = clock.now_ms();
    let entities = store
        .notifications()
        .list_channels(principal.client_id)
        .await?
        .iter()
        .filter(|c| c.expires_ms > now && (!by_token || c.token_hash == hash))
        .map(|c| view(&headers, c))
        .collect();
    Ok(Json(NotificationEntities { entities }))
}

/// Check a notification channel
///
/// 200 when the channel exists, belongs to this token's OAuth client and has not expired;
/// 404 otherwise.
#[utoipa::path(head, path = "/api/v2/notifications/channels/{channelId}", operation_id = "headNotificationsChannel", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id.")),
    responses((status = 200, description = "The channel exists.")),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[NotificationChannelNotFound]])))))]
pub async fn head_channel(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    own_channel(store.as_ref(), &principal, &id, clock.now_ms()).await?;
    Ok(StatusCode::OK)
}

fn permitted(topics: &[String]) -> Vec<ChannelTopic> {
    topics
        .iter()
        .map(|id| ChannelTopic {
            id: id.clone(),
            state: TopicState::Permitted,
            rejection_reason: None,
            missing_permissions: Vec::new(),
        })
        .collect()
}

/// List a channel's subscriptions
///
/// The topics the channel receives.
#[utoipa::path(get, path = "/api/v2/notifications/channels/{channelId}/subscriptions", operation_id = "getNotificationsChannelSubscriptions", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id.")),
    responses((status = 200, description = "Its topics.", body = NotificationEntities<ChannelTopic>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[NotificationChannelNotFound]])))))]
pub async fn list_subscriptions(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<NotificationEntities<ChannelTopic>>, ApiError> {
    let channel = own_channel(store.as_ref(), &principal, &id, clock.now_ms()).await?;
    Ok(Json(NotificationEntities {
        entities: permitted(&channel.topics),
    }))
}

/// How a subscription request changes a channel's topics.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Replace,
}

/// Parses `ignoreErrors`.
fn ignore_errors(query: Option<&str>) -> Result<bool, ApiError> {
    match query_param(query, "ignoreErrors").as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(query_error(
            "ignoreErrors",
            format!("ignoreErrors must be true or false; got \"{other}\"."),
            "Pass ignoreErrors=true to subscribe the permitted topics and report the others.",
        )),
    }
}

/// The topics of a subscription body: a JSON array of `{"id": topic}`.
async fn topics_of_body(headers: &HeaderMap, body: Body) -> Result<Vec<String>, ApiError> {
    let bytes = read_json_body(headers, body).await?;
    let topics: Vec<ChannelTopicRequest> = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::one(
            ErrorDetail::new(
                RequestBodyMalformed,
                format!("The body must be a JSON array of topics, [{{\"id\": \"<topic>\"}}]: {e}."),
            )
            .hint("Send e.g. [{\"id\": \"v2.detail.events.conversation.<conversationId>.acw\"}]."),
        )
    })?;
    Ok(topics.into_iter().map(|t| t.id).collect())
}

/// A subscription request's context: who asks, for which channel.
pub(crate) struct Subscriber<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub notifications: &'a Notifications,
    pub principal: &'a Principal,
}

/// Checks `requested` for the caller and changes the channel's topics with the permitted
/// ones; what the subscription operations answer: the channel's topics, then those
/// rejected (only with `ignore`: otherwise a rejected topic refuses the whole request).
pub(crate) async fn subscribe(
    who: &Subscriber<'_>,
    channel: &ChannelRecord,
    requested: &[String],
    replace: bool,
    ignore: bool,
) -> Result<Vec<ChannelTopic>, ApiError> {
    let Subscriber {
        store,
        clock,
        notifications,
        principal,
    } = *who;
    let checked = access::check_all(store, principal, requested).await?;
    let (ok, rejected): (Vec<ChannelTopic>, Vec<ChannelTopic>) = checked
        .into_iter()
        .partition(|t| t.state == TopicState::Permitted);
    if !ignore {
        if let Some(first) = rejected.first() {
            let list: Vec<String> = rejected
                .iter()
                .map(|t| format!("{} ({})", t.id, t.rejection_reason.as_deref().unwrap_or("")))
                .collect();
            let mut detail = ErrorDetail::new(
                NotificationTopicRejected,
                format!(
                    "{} of the topics cannot be subscribed: {}",
                    rejected.len(),
                    list.join("; ")
                ),
            )
            .field(&first.id)
            .hint("Fix or remove them, or pass ignoreErrors=true to subscribe the others.");
            if !first.missing_permissions.is_empty() {
                detail = detail.hint(format!(
                    "Use a token with {} (wrapup scope {}), or pass ignoreErrors=true to subscribe the others.",
                    TOPIC_PERMISSION.0, TOPIC_PERMISSION.1
                ));
            }
            return Err(ApiError::one(detail));
        }
    }
    let mut topics = if replace {
        Vec::new()
    } else {
        channel.topics.clone()
    };
    for t in ok {
        if !topics.contains(&t.id) {
            topics.push(t.id);
        }
    }
    let max = notifications.config.max_topics;
    if topics.len() > max {
        return Err(ApiError::one(
            ErrorDetail::new(
                NotificationTopicsTooMany,
                format!("A channel has at most {max} topics; this would make it {}.", topics.len()),
            )
            .hint("Subscribe fewer topics, or spread them over several channels (20 per OAuth client)."),
        ));
    }
    let now = clock.now_ms();
    let change = ChannelChange::Topics {
        topics,
        expires_ms: now + notifications.config.channel_life.as_millis() as i64,
    };
    let changed = store
        .notifications()
        .change_channel(&channel.id, &change, now)
        .await
        .map_err(|e| match e {
            wrapup_store::StoreError::NotFound => {
                ApiError::not_found(Resource::NotificationChannel(&channel.id))
            }
            e => e.into(),
        })?;
    notifications.hub.set_topics(&changed.id, &changed.topics);
    let mut entities = permitted(&changed.topics);
    entities.extend(rejected);
    Ok(entities)
}

async fn change_subscriptions(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    notifications: Arc<Notifications>,
    principal: Principal,
    id: String,
    request: Request,
    change: Change,
) -> Result<Json<NotificationEntities<ChannelTopic>>, ApiError> {
    let (parts, body) = request.into_parts();
    let channel = own_channel(store.as_ref(), &principal, &id, clock.now_ms()).await?;
    let ignore = ignore_errors(parts.uri.query())?;
    let requested = topics_of_body(&parts.headers, body).await?;
    let who = Subscriber {
        store: store.as_ref(),
        clock: clock.as_ref(),
        notifications: &notifications,
        principal: &principal,
    };
    let entities = subscribe(
        &who,
        &channel,
        &requested,
        change == Change::Replace,
        ignore,
    )
    .await?;
    Ok(Json(NotificationEntities { entities }))
}

/// The errors of a subscription body (a JSON array, read whole: its problems are all
/// `request.body.malformed`).
const BODY_ERRORS: &[ErrorCode] = &[
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
];
const SUBSCRIBE_ERRORS: &[ErrorCode] = &[
    NotificationChannelNotFound,
    RequestQueryInvalid,
    NotificationTopicRejected,
    NotificationTopicsTooMany,
];

/// Add subscriptions to a channel
///
/// Adds the topics of the body (`[{"id": topic}]`) to the channel's and extends its life to
/// 24 hours from now. Each topic is checked (docs/genesys.md#notifications): one that is
/// not emulated, names a conversation, user or queue this token cannot see, or needs a
/// permission the token lacks is `Rejected`, and refuses the whole request (400
/// `notification.topic.rejected`) unless `ignoreErrors=true`, which subscribes the others
/// and lists the rejected ones with their reason. A channel has at most 1,000 topics.
#[utoipa::path(post, path = "/api/v2/notifications/channels/{channelId}/subscriptions", operation_id = "postNotificationsChannelSubscriptions", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id."),
        ("ignoreErrors" = Option<bool>, Query, description = "Subscribe the permitted topics and report the rejected ones instead of refusing the request.")),
    request_body = Vec<ChannelTopicRequest>,
    responses((status = 200, description = "The channel's topics, then those rejected.", body = NotificationEntities<ChannelTopic>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[BODY_ERRORS, SUBSCRIBE_ERRORS])))))]
pub async fn add_subscriptions(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(notifications): State<Arc<Notifications>>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<NotificationEntities<ChannelTopic>>, ApiError> {
    change_subscriptions(
        store,
        clock,
        notifications,
        principal,
        id,
        request,
        Change::Add,
    )
    .await
}

/// Replace a channel's subscriptions
///
/// As adding, but the channel's topics become those of the body.
#[utoipa::path(put, path = "/api/v2/notifications/channels/{channelId}/subscriptions", operation_id = "putNotificationsChannelSubscriptions", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id."),
        ("ignoreErrors" = Option<bool>, Query, description = "Subscribe the permitted topics and report the rejected ones instead of refusing the request.")),
    request_body = Vec<ChannelTopicRequest>,
    responses((status = 200, description = "The channel's topics, then those rejected.", body = NotificationEntities<ChannelTopic>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[BODY_ERRORS, SUBSCRIBE_ERRORS])))))]
pub async fn replace_subscriptions(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(notifications): State<Arc<Notifications>>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<NotificationEntities<ChannelTopic>>, ApiError> {
    change_subscriptions(
        store,
        clock,
        notifications,
        principal,
        id,
        request,
        Change::Replace,
    )
    .await
}

/// Remove a channel's subscriptions
///
/// The channel then receives no topic (it keeps its life).
#[utoipa::path(delete, path = "/api/v2/notifications/channels/{channelId}/subscriptions", operation_id = "deleteNotificationsChannelSubscriptions", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id.")),
    responses((status = 204, description = "Removed.")),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[NotificationChannelNotFound]])))))]
pub async fn delete_subscriptions(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(notifications): State<Arc<Notifications>>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let now = clock.now_ms();
    let channel = own_channel(store.as_ref(), &principal, &id, now).await?;
    let change = ChannelChange::Topics {
        topics: Vec::new(),
        expires_ms: channel.expires_ms,
    };
    store
        .notifications()
        .change_channel(&id, &change, now)
        .await
        .map_err(|e| match e {
            wrapup_store::StoreError::NotFound => {
                ApiError::not_found(Resource::NotificationChannel(&id))
            }
            e => e.into(),
        })?;
    notifications.hub.set_topics(&id, &[]);
    Ok(StatusCode::NO_CONTENT)
}

/// The topics wrapup delivers.
fn available(schema: bool) -> Vec<AvailableTopic> {
    let (permission, _) = TOPIC_PERMISSION;
    let detail = |suffix: &str, description: &str, model: &str| AvailableTopic {
        id: format!("v2.detail.events.conversation.{{id}}.{suffix}"),
        description: description.to_string(),
        requires_permissions: vec![permission.to_string()],
        requires_division_permissions: true,
        transports: vec!["Websocket".to_string()],
        topic_parameters: vec!["id".to_string()],
        visibility: "Public".to_string(),
        schema: schema.then(|| serde_json::json!({"type": "object", "title": model})),
    };
    let conversations = |id: &str, description: &str, model: &str| AvailableTopic {
        id: id.to_string(),
        description: description.to_string(),
        requires_permissions: vec![permission.to_string()],
        requires_division_permissions: true,
        transports: vec!["Websocket".to_string()],
        topic_parameters: vec!["id".to_string()],
        visibility: "Public".to_string(),
        schema: schema.then(|| serde_json::json!({"type": "object", "title": model})),
    };
    vec![
        detail(
            "acw",
            "After-call work started: the conversation closed.",
            "AcwDetailEventTopicAfterCallWorkEvent",
        ),
        detail(
            "wrapup",
            "A wrap-up was set (the system's ININ-WRAP-UP-TIMEOUT included).",
            "WrapupDetailEventTopicWrapupEvent",
        ),
        detail(
            "customer.end",
            "The customer's side of the conversation ended (the close).",
            "CustomerEndDetailEventTopicCustomerEndEvent",
        ),
        detail(
            "user.end",
            "The agent's side of the conversation ended (the close).",
            "UserEndDetailEventTopicUserEndEvent",
        ),
        conversations(
            "v2.users.{id}.conversations",
            "Every change to the conversations of an agent.",
            "ConversationEventTopicConversation",
        ),
        conversations(
            "v2.routing.queues.{id}.conversations",
            "Every change to the conversations of a queue.",
            "QueueConversationEventTopicConversation",
        ),
    ]
}

/// List the available topics
///
/// The topics wrapup delivers, with the permission each needs. `expand` (comma-joined, as
/// the SDKs send it) may include `schema` for each topic's schema (the title of the SDKs'
/// model of its body); `includePreview` is accepted (wrapup has no preview topics).
#[utoipa::path(get, path = "/api/v2/notifications/availabletopics", operation_id = "getNotificationsAvailabletopics", tag = "notifications",
    params(("expand" = Option<String>, Query, description = "Comma-joined: `description`, `requiresPermissions`, `schema`, `transports`, `topicParameters`, …"),
        ("includePreview" = Option<bool>, Query, description = "Accepted; wrapup has no preview topics.")),
    responses((status = 200, description = "The topics.", body = NotificationEntities<AvailableTopic>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid]])))))]
pub async fn available_topics(
    Authenticated(_): Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<NotificationEntities<AvailableTopic>>, ApiError> {
    let mut schema = false;
    for (key, value) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "expand" => schema |= value.split(',').any(|e| e.trim() == "schema"),
            "includePreview" if value != "true" && value != "false" => {
                return Err(query_error(
                    "includePreview",
                    format!("includePreview must be true or false; got \"{value}\"."),
                    "Leave it out: wrapup has no preview topics.",
                ))
            }
            _ => {}
        }
    }
    Ok(Json(NotificationEntities {
        entities: available(schema),
    }))
}
