//! The webhook operations (docs/webhooks.md): endpoints, secrets, the delivery log,
//! resends, replays, tests.

use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;
use wrapup_types::{
    CreateWebhook, CreatedWebhook, DeliveryQueued, Page, ReplayQueued, ReplayWebhook,
    RotatedSecret, UpdateWebhook, Webhook, WebhookAttempt,
};

use crate::client::Client;
use crate::error::Result;

/// Filters of [`Client::webhook_deliveries`].
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQuery {
    /// Only the attempts at this event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn path(id: Uuid, rest: &str) -> String {
    format!("/api/v2/webhooks/{id}{rest}")
}

impl Client {
    /// `POST /api/v2/webhooks`: the new endpoint and its secret (shown this once).
    pub async fn create_webhook(&self, body: &CreateWebhook) -> Result<CreatedWebhook> {
        self.call(Method::POST, "/api/v2/webhooks", Some(body))
            .await
    }

    pub async fn list_webhooks(
        &self,
        page_size: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>> {
        let mut query = Vec::new();
        if let Some(size) = page_size {
            query.push(format!("pageSize={size}"));
        }
        if let Some(cursor) = cursor {
            query.push(format!("cursor={cursor}"));
        }
        let path = if query.is_empty() {
            "/api/v2/webhooks".to_string()
        } else {
            format!("/api/v2/webhooks?{}", query.join("&"))
        };
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn get_webhook(&self, id: Uuid) -> Result<Webhook> {
        self.call::<(), _>(Method::GET, &path(id, ""), None).await
    }

    /// `PATCH /api/v2/webhooks/{id}`: changes the fields set in `body`.
    pub async fn update_webhook(&self, id: Uuid, body: &UpdateWebhook) -> Result<Webhook> {
        self.call(Method::PATCH, &path(id, ""), Some(body)).await
    }

    pub async fn delete_webhook(&self, id: Uuid) -> Result<()> {
        self.call_raw::<()>(Method::DELETE, &path(id, ""), None)
            .await?;
        Ok(())
    }

    /// `POST /api/v2/webhooks/{id}/rotate-secret`: the previous secret keeps signing for
    /// `grace_seconds` (the server's default, a day, when `None`).
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        grace_seconds: Option<u64>,
    ) -> Result<RotatedSecret> {
        let rest = match grace_seconds {
            Some(s) => format!("/rotate-secret?graceSeconds={s}"),
            None => "/rotate-secret".to_string(),
        };
        self.call::<(), _>(Method::POST, &path(id, &rest), None)
            .await
    }

    /// `GET /api/v2/webhooks/{id}/deliveries`: attempts, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        query: &DeliveryQuery,
    ) -> Result<Page<WebhookAttempt>> {
        let qs = serde_urlencoded::to_string(query).expect("query parameters serialise");
        let rest = if qs.is_empty() {
            "/deliveries".to_string()
        } else {
            format!("/deliveries?{qs}")
        };
        self.call::<(), _>(Method::GET, &path(id, &rest), None)
            .await
    }

    /// `POST /api/v2/webhooks/{id}/events/{sequence}/resend`.
    pub async fn resend_webhook_event(&self, id: Uuid, sequence: i64) -> Result<DeliveryQueued> {
        let rest = format!("/events/{sequence}/resend");
        self.call::<(), _>(Method::POST, &path(id, &rest), None)
            .await
    }

    /// `POST /api/v2/webhooks/{id}/replay`.
    pub async fn replay_webhook(&self, id: Uuid, body: &ReplayWebhook) -> Result<ReplayQueued> {
        self.call(Method::POST, &path(id, "/replay"), Some(body))
            .await
    }

    /// `POST /api/v2/webhooks/{id}/test`.
    pub async fn test_webhook(&self, id: Uuid) -> Result<DeliveryQueued> {
        self.call::<(), _>(Method::POST, &path(id, "/test"), None)
            .await
    }
}
