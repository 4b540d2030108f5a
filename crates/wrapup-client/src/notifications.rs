//! The Genesys notification channels (docs/genesys.md#notifications): create a channel,
//! subscribe to topics through REST, list the topics, and follow the channel's websocket
//! with [`NotificationListener`], which reconnects on a drop so that nothing is lost.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;

mod listener;

pub use listener::{ListenError, ListenerItem, NotificationEvent, NotificationListener};

/// A notification channel: where to connect its websocket, and until when it lives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// Opaque (`streaming-0-…` on wrapup): use [`Channel::connect_uri`] as given.
    pub id: String,
    pub connect_uri: String,
    /// When the channel expires (ISO 8601); subscribing again extends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The server's answer for one topic of a subscription request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TopicSubscription {
    /// The topic, e.g. `v2.detail.events.conversation.{id}.acw`.
    pub id: String,
    /// `Permitted` or `Rejected`; absent in a plain listing of a channel's topics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
}

impl TopicSubscription {
    /// Whether the server will deliver this topic's events.
    pub fn permitted(&self) -> bool {
        self.state.as_deref() != Some("Rejected")
    }
}

#[derive(Deserialize)]
struct Entities<T> {
    #[serde(default = "Vec::new")]
    entities: Vec<T>,
}

#[derive(Serialize)]
struct TopicId<'a> {
    id: &'a str,
}

/// The topics of a conversation's detail events: after-call work started, wrap-up set,
/// the customer's and the agent's ends (one interaction of wrapup is one conversation).
pub fn conversation_topics(conversation_id: &str) -> Vec<String> {
    ["acw", "wrapup", "customer.end", "user.end"]
        .iter()
        .map(|what| format!("v2.detail.events.conversation.{conversation_id}.{what}"))
        .collect()
}

/// The topic of an agent's conversations.
pub fn user_topic(user_id: &str) -> String {
    format!("v2.users.{user_id}.conversations")
}

/// The topic of a queue's conversations.
pub fn queue_topic(queue_id: &str) -> String {
    format!("v2.routing.queues.{queue_id}.conversations")
}

impl Client {
    /// `POST /api/v2/notifications/channels`: a new channel (no subscriptions yet).
    pub async fn create_notification_channel(&self) -> Result<Channel> {
        self.call::<(), _>(Method::POST, "/api/v2/notifications/channels", None)
            .await
    }

    /// `GET /api/v2/notifications/channels?includechannels=…`: the channels of this token
    /// (`token`) or of the whole OAuth client (`oauthclient`).
    pub async fn notification_channels(&self, include: Option<&str>) -> Result<Vec<Channel>> {
        let path = match include {
            Some(include) => format!("/api/v2/notifications/channels?includechannels={include}"),
            None => "/api/v2/notifications/channels".to_string(),
        };
        let listing: Entities<Channel> = self.call::<(), _>(Method::GET, &path, None).await?;
        Ok(listing.entities)
    }

    /// Subscribes `channel` to `topics` through REST: `PUT` (replacing its topics) when
    /// `replace`, else `POST` (adding them). With `ignoreErrors=true`, so that a rejected
    /// topic is answered as such instead of failing the request: check each answer's
    /// [`TopicSubscription::permitted`].
    pub async fn subscribe_notification_topics(
        &self,
        channel_id: &str,
        topics: &[String],
        replace: bool,
    ) -> Result<Vec<TopicSubscription>> {
        let method = if replace { Method::PUT } else { Method::POST };
        let body: Vec<TopicId<'_>> = topics.iter().map(|id| TopicId { id }).collect();
        let path =
            format!("/api/v2/notifications/channels/{channel_id}/subscriptions?ignoreErrors=true");
        let listing: Entities<TopicSubscription> = self.call(method, &path, Some(&body)).await?;
        Ok(listing.entities)
    }

    /// `GET /api/v2/notifications/availabletopics`: the topics a channel can subscribe to,
    /// as the server describes them (`id`, `description`, `requiresPermissions`, …).
    pub async fn available_notification_topics(&self) -> Result<Vec<serde_json::Value>> {
        let listing: Entities<serde_json::Value> = self
            .call::<(), _>(Method::GET, "/api/v2/notifications/availabletopics", None)
            .await?;
        Ok(listing.entities)
    }
}
