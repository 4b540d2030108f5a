//! What the Genesys dialect's tests share: a server with two divisions and codes, requests
//! as the SDKs send them, and the checks every Genesys body must pass.

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;
use wrapup_client::{Client, RawResponse};
use wrapup_domain::genesys::ConversationIds;
use wrapup_server::testkit::*;
use wrapup_types::{Channel, DivisionGrant, TargetState};

/// The headers both SDKs send on every call, GETs included.
pub const SDK_HEADERS: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("accept", "application/json"),
];

pub struct World {
    pub s: TestServer,
    pub admin: Client,
    pub sales: Uuid,
    pub support: Uuid,
    /// Codes of Sales.
    pub sale: Uuid,
    pub callback: Uuid,
    /// A code of Support.
    pub resolved: Uuid,
}

impl World {
    pub async fn new() -> World {
        let s = TestServer::start().await;
        let admin = s.admin().await;
        let sales = s.division(&admin, "Sales").await;
        let support = s.division(&admin, "Support").await;
        let sale = s.code(&admin, sales, "Sale").await;
        let callback = s.code(&admin, sales, "Callback").await;
        let resolved = s.code(&admin, support, "Resolved").await;
        World {
            s,
            admin,
            sales,
            support,
            sale,
            callback,
            resolved,
        }
    }

    /// A client with these scopes (or Genesys permissions) and divisions.
    pub async fn client(&self, scopes: &str, divisions: DivisionGrant) -> Client {
        self.s.client(scopes, divisions).await
    }

    /// An interaction of `channel` in `division`, moved through `states`.
    pub async fn interaction(
        &self,
        division: Uuid,
        channel: Channel,
        states: &[TargetState],
    ) -> Uuid {
        let id = self
            .admin
            .create_interaction(division, channel)
            .await
            .unwrap()
            .id;
        for state in states {
            self.admin.set_state(id, *state).await.unwrap();
        }
        id
    }

    /// A closed interaction of `channel` in Sales, finalized (ready for a wrap-up).
    pub async fn finalized(&self, channel: Channel) -> Uuid {
        let id = self
            .interaction(
                self.sales,
                channel,
                &[TargetState::Active, TargetState::Closed],
            )
            .await;
        self.s.clock.advance(SETTLE_MS);
        self.s.finalize_now().await;
        id
    }
}

/// Sends a request as the SDKs do (JSON headers on every method); `body` is sent as is.
pub async fn call(client: &Client, method: Method, path: &str, body: Option<&str>) -> RawResponse {
    client
        .raw(
            method,
            path,
            SDK_HEADERS,
            body.map(|b| b.as_bytes().to_vec()),
        )
        .await
        .unwrap()
}

/// A successful JSON answer, checked to hold no `null` anywhere.
pub async fn get_ok(client: &Client, path: &str) -> Value {
    let raw = call(client, Method::GET, path, None).await;
    assert_eq!(
        raw.status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&raw.body)
    );
    let value: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_no_null(&value, path);
    value
}

pub fn assert_no_null(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("null in a Genesys body at {at}"),
        Value::Array(items) => items.iter().for_each(|v| assert_no_null(v, at)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| assert_no_null(v, &format!("{at}.{k}"))),
        _ => {}
    }
}

/// The error body of a refusal in the Genesys dialect, checked to be a valid Genesys
/// `ErrorBody` whose `status` is the HTTP status and whose `message` carries the hint.
pub fn genesys_error(raw: &RawResponse, status: u16, code: &str) -> Value {
    let body: Value = serde_json::from_slice(&raw.body)
        .unwrap_or_else(|_| panic!("a JSON body: {}", String::from_utf8_lossy(&raw.body)));
    assert_eq!(
        (raw.status.as_u16(), body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(body["status"], status, "status is the HTTP status: {body}");
    assert!(body["contextId"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(body["errors"].as_array().is_some_and(Vec::is_empty));
    let message = body["message"].as_str().unwrap();
    let diagnosis = body["messageParams"]["diagnosis"].as_str().unwrap();
    assert!(message.starts_with(diagnosis), "{body}");
    if let Some(hint) = body["messageParams"]["hint"].as_str() {
        assert_eq!(message, format!("{diagnosis} {hint}"));
        assert_eq!(body["messageWithParams"], "{diagnosis} {hint}");
    }
    for detail in body["details"].as_array().unwrap() {
        assert!(detail["errorCode"].is_string(), "{body}");
    }
    assert_no_null(&body, "error");
    body
}

pub fn ids(conversation: Uuid) -> ConversationIds {
    ConversationIds::of(conversation)
}

pub fn wrapup_path(segment: &str, conversation: Uuid) -> String {
    let ids = ids(conversation);
    format!(
        "/api/v2/conversations/{segment}/{conversation}/participants/{}/communications/{}/wrapup",
        ids.agent, ids.agent_communication
    )
}

pub fn field_names(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["fieldName"].as_str().map(str::to_string))
        .collect()
}

pub fn error_codes(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["errorCode"].as_str().unwrap().to_string())
        .collect()
}
