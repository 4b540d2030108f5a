//! How connections are served (`connections`): a request refused before its body was read
//! still gets its answer, and the answer says the connection closes; a body read to its end
//! keeps the connection for the next request.

use reqwest::header::CONNECTION;
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_server::testkit::*;
use wrapup_types::TargetState;

/// A client with every scope, its bearer token, and a plain HTTP client (a connection pool
/// of its own).
async fn token_and_http(server: &TestServer) -> (Client, String, reqwest::Client) {
    let admin = server.admin().await;
    let token = admin.bearer().await.unwrap().expect("a token");
    (admin, token, reqwest::Client::new())
}

/// The wrap-up URL of a new active interaction.
async fn active_wrap_up_url(server: &TestServer, admin: &Client) -> String {
    let division = server.division(admin, "Sales").await;
    let active = server
        .interaction(admin, division, &[TargetState::Active])
        .await;
    format!("{}/api/v2/interactions/{active}/wrap-up", server.url)
}

/// A body far over the limit, refused on its declared length before a byte of it is read:
/// the client, still sending it, reads the `413` (not a reset), told the connection closes.
#[tokio::test]
async fn a_body_refused_before_it_is_read_still_gets_its_answer() {
    let server = TestServer::start().await;
    let (admin, token, http) = token_and_http(&server).await;
    let url = active_wrap_up_url(&server, &admin).await;
    for round in 0..5 {
        let response = http
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(vec![b' '; 4 << 20])
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: the refusal was lost: {e:?}"));
        assert_eq!(response.status(), 413, "round {round}");
        assert_eq!(response.headers()[CONNECTION], "close");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "request.body.too.large");
    }
}

/// A refusal that did not need the body (here the token's) closes the connection, saying
/// so; the next request, on a new connection, is answered.
#[tokio::test]
async fn a_refusal_that_left_the_body_unread_closes_the_connection() {
    let server = TestServer::start().await;
    let (_, token, http) = token_and_http(&server).await;
    let url = format!(
        "{}/api/v2/interactions/{}/wrap-up",
        server.url,
        Uuid::new_v4()
    );
    let response = http
        .put(&url)
        .bearer_auth("not-a-token")
        .header("content-type", "application/json")
        .body(r#"{"codeId": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response
            .headers()
            .get(CONNECTION)
            .map(|v| v.to_str().unwrap()),
        Some("close"),
        "{:?}",
        response.headers()
    );
    let next = http
        .get(format!("{}/api/v2/authorization/divisions", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
}

/// A body read to its end, even one refused, keeps the connection: no `Connection: close`.
#[tokio::test]
async fn a_body_read_to_its_end_keeps_the_connection() {
    let server = TestServer::start().await;
    let (admin, token, http) = token_and_http(&server).await;
    let url = active_wrap_up_url(&server, &admin).await;
    for body in [r#"{"codeId": 5}"#, "{ not json"] {
        let response = http
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        assert!(
            response.headers().get(CONNECTION).is_none(),
            "{body}: {:?}",
            response.headers()
        );
    }
}
