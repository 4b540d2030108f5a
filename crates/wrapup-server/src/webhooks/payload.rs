//! What a delivery carries: its `webhook-id` and its body (docs/webhooks.md#payload).

use uuid::Uuid;
use wrapup_store::webhooks::NewDelivery;
use wrapup_store::EventRecord;
use wrapup_types::timestamp::from_millis;
use wrapup_types::{WebhookPayload, TEST_EVENT_TYPE};

/// The `webhook-id` of an event's deliveries to an endpoint: the same for every attempt,
/// resend and replay, so a receiver can tell a repeat from a new event. No `.` in it (the
/// signed content is `id.timestamp.body`).
pub fn message_id(webhook_id: Uuid, seq: i64) -> String {
    format!("msg_{}_{seq}", webhook_id.simple())
}

/// The delivery of a stored event to an endpoint: the event as the event stream carries
/// it (type, sequence, the interaction after the change), with when it occurred.
pub fn event_delivery(webhook_id: Uuid, event: &EventRecord) -> NewDelivery {
    let payload = WebhookPayload {
        event_type: event.kind.as_str().to_string(),
        sequence: Some(event.seq),
        timestamp: from_millis(event.created_ms),
        data: serde_json::to_value(&event.interaction).expect("an interaction serialises"),
    };
    NewDelivery {
        message_id: message_id(webhook_id, event.seq),
        event_seq: Some(event.seq),
        interaction_id: Some(event.interaction.id),
        event_type: payload.event_type.clone(),
        body: serde_json::to_string(&payload).expect("a payload serialises"),
    }
}

/// A test delivery (`POST /api/v2/webhooks/{id}/test`): type `webhook.test`, its own id.
pub fn test_delivery(webhook_id: Uuid, now_ms: i64) -> NewDelivery {
    let payload = WebhookPayload {
        event_type: TEST_EVENT_TYPE.to_string(),
        sequence: None,
        timestamp: from_millis(now_ms),
        data: serde_json::json!({
            "webhookId": webhook_id,
            "message": "A test delivery, sent on request: if your endpoint verified its signature, it is ready.",
        }),
    };
    NewDelivery {
        message_id: format!(
            "msg_{}_test_{}",
            webhook_id.simple(),
            Uuid::new_v4().simple()
        ),
        event_seq: None,
        interaction_id: None,
        event_type: TEST_EVENT_TYPE.to_string(),
        body: serde_json::to_string(&payload).expect("a payload serialises"),
    }
}
