//! What the API sends is accepted back (docs/api.md#conventions): no response, and no event
//! on the stream, carries `null` (an absent value is left out), and a resource read with `GET`
//! is accepted, as read, by the operation that writes it.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use wrapup_client::Client;
use wrapup_server::testkit::*;
use wrapup_types::{CreateWrapUpCode, TargetState, WrapUpRequest};

/// Where a `null` is in `value`, as a JSON path, if anywhere.
fn null_at(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Null => Some(path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| null_at(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| null_at(v, &format!("{path}.{k}"))),
        _ => None,
    }
}

/// `GET path` as JSON, checked to be a success without a `null` anywhere.
async fn get(client: &Client, path: &str) -> Value {
    let raw = client.raw(Method::GET, path, &[], None).await.unwrap();
    assert!(
        raw.status.is_success(),
        "GET {path}: {} {}",
        raw.status,
        String::from_utf8_lossy(&raw.body)
    );
    let value: Value = serde_json::from_slice(&raw.body).unwrap();
    if let Some(at) = null_at(&value, "$") {
        panic!("GET {path} has null at {at}: {value}");
    }
    value
}

/// Sends `body` with `method` to `path`; returns the status and the body.
async fn send(client: &Client, method: Method, path: &str, body: &Value) -> (u16, String) {
    let raw = client
        .raw(
            method,
            path,
            &[("content-type", "application/json")],
            Some(serde_json::to_vec(body).unwrap()),
        )
        .await
        .unwrap();
    (
        raw.status.as_u16(),
        String::from_utf8_lossy(&raw.body).into_owned(),
    )
}

/// The fields of `resource` named in `fields` (those present), as a new object.
fn only(resource: &Value, fields: &[&str]) -> Value {
    let map = resource.as_object().unwrap();
    Value::Object(
        fields
            .iter()
            .filter_map(|f| map.get(*f).map(|v| (f.to_string(), v.clone())))
            .collect(),
    )
}

#[tokio::test]
async fn no_response_carries_null_and_every_resource_read_is_accepted_back() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let described = admin
        .create_code(&CreateWrapUpCode {
            name: "Callback".into(),
            division_id: sales,
            description: Some("Call the customer back.".into()),
        })
        .await
        .unwrap()
        .id;
    // An interaction in every state; two completed, with and without notes.
    let queued = server.interaction(&admin, sales, &[]).await;
    let abandoned = server
        .interaction(&admin, sales, &[TargetState::Closed])
        .await;
    let without_notes = server.finalized(&admin, sales).await;
    let with_notes = server.finalized(&admin, sales).await;
    for (id, notes) in [
        (without_notes, None),
        (with_notes, Some("Upgraded".to_string())),
    ] {
        admin
            .put_wrapup(
                id,
                &WrapUpRequest {
                    code_id: sale,
                    duration_ms: 120_000,
                    notes,
                },
            )
            .await
            .unwrap();
    }

    // Every read, and a page that has a next one.
    let page = get(&admin, "/api/v2/interactions?pageSize=2").await;
    assert!(page["nextCursor"].is_string());
    let last = get(&admin, "/api/v2/interactions?pageSize=500").await;
    assert!(last.get("nextCursor").is_none(), "{last}");
    for id in [queued, abandoned, without_notes, with_notes] {
        let interaction = get(&admin, &format!("/api/v2/interactions/{id}")).await;
        assert!(interaction.get("version").is_some());
        get(
            &admin,
            &format!("/api/v2/interactions/{id}/wrap-up/history"),
        )
        .await;
    }
    let queued_json = get(&admin, &format!("/api/v2/interactions/{queued}")).await;
    for absent in ["activeAt", "closedAt", "finalizedAt", "wrapUp"] {
        assert!(queued_json.get(absent).is_none(), "{absent}: {queued_json}");
    }
    get(&admin, "/api/v2/routing/wrapupcodes?includeArchived=true").await;
    get(&admin, "/api/v2/authorization/divisions").await;
    get(&admin, "/api/v2/inspector/requests").await;

    // A wrap-up read back is a valid wrap-up body: its writable fields, as read.
    for id in [without_notes, with_notes] {
        let path = format!("/api/v2/interactions/{id}/wrap-up");
        let read = get(&admin, &path).await;
        let before = get(&admin, &format!("/api/v2/interactions/{id}")).await;
        let body = only(&read, &["codeId", "durationMs", "notes"]);
        assert_eq!(
            send(&admin, Method::PUT, &path, &body).await.0,
            204,
            "{body}"
        );
        let after = get(&admin, &format!("/api/v2/interactions/{id}")).await;
        assert_eq!(before, after, "sending it back changed nothing");
    }
    // So is a code's name and description, read from GET or from a list.
    for id in [sale, described] {
        let path = format!("/api/v2/routing/wrapupcodes/{id}");
        let read = get(&admin, &path).await;
        let body = only(&read, &["name", "description"]);
        let (status, answer) = send(&admin, Method::PUT, &path, &body).await;
        assert_eq!(status, 200, "{answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(null_at(&answer, "$"), None);
        assert_eq!(answer["name"], read["name"]);
        assert_eq!(answer.get("description"), read.get("description"));
    }
    // And the fault-injection setting.
    let chaos = get(&admin, "/api/v2/admin/chaos").await;
    let (status, answer) = send(&admin, Method::PUT, "/api/v2/admin/chaos", &chaos).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&answer).unwrap()),
        (200, chaos)
    );

    // An error body has no null either.
    let raw = admin
        .raw(Method::GET, "/api/v2/interactions/nope", &[], None)
        .await
        .unwrap();
    let error: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(null_at(&error, "$"), None, "{error}");
    assert!(
        error["details"][0].get("fieldName").is_none(),
        "a detail without a field leaves fieldName out: {error}"
    );
}

/// The event stream's `data` is the interaction as `GET` returns it: no `null` either.
#[tokio::test]
async fn events_carry_no_null() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let token = admin.bearer().await.unwrap().unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v2/interactions/events", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The stream is subscribed once the head is here: this creation is on it.
    let id = server.interaction(&admin, sales, &[]).await;
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let data = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = body.next().await.unwrap().unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(line) = text.lines().find(|l| l.starts_with("data:")) {
                if text.contains("\n\n") {
                    return line["data:".len()..].trim().to_string();
                }
            }
        }
    })
    .await
    .expect("the creation event arrives");
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["id"], id.to_string());
    assert_eq!(null_at(&event, "$"), None, "{event}");
    assert!(event.get("wrapUp").is_none() && event.get("activeAt").is_none());
}
