//! A request that gets no answer says why: nothing listening, TLS against a plain-HTTP
//! server, a base URL that cannot be requested; and what to try next.

use wrapup_client::{Client, Error, TransportFailure};
use wrapup_server::testkit::*;

fn failure(e: &Error) -> TransportFailure {
    e.transport_failure()
        .unwrap_or_else(|| panic!("a transport error, got {e:?}"))
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    // A port that was just free: nothing listens there now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let e = Client::new(&url).health().await.unwrap_err();
    assert_eq!(failure(&e), TransportFailure::Refused);
    let text = e.to_string();
    assert!(text.contains("connection refused"), "{text}");
    let hint = TransportFailure::Refused.hint(&url);
    assert!(
        hint.contains("wrapup serve") && hint.contains("port"),
        "{hint}"
    );
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_failure() {
    let server = TestServer::start().await;
    let https = server.url.replace("http://", "https://");
    let e = Client::new(&https).health().await.unwrap_err();
    assert_eq!(failure(&e), TransportFailure::Tls, "{e}");
    assert!(e.to_string().contains("TLS"), "{e}");
    let hint = TransportFailure::Tls.hint(&https);
    assert!(hint.contains(&server.url), "{hint}");
}

#[tokio::test]
async fn a_url_without_scheme_cannot_be_requested() {
    let e = Client::new("127.0.0.1:8080").health().await.unwrap_err();
    assert_eq!(failure(&e), TransportFailure::BadUrl, "{e}");
    assert_eq!(
        wrapup_client::check_base_url("127.0.0.1:8080").unwrap_err(),
        "the URL needs a scheme: http://127.0.0.1:8080 (not 127.0.0.1:8080)"
    );
}

#[tokio::test]
async fn a_base_url_with_the_api_path_is_explained_by_the_server_too() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let wrong = Client::new(&format!("{}/api/v2", server.url))
        .with_token(&admin.bearer().await.unwrap().unwrap())
        .with_retry(wrapup_client::RetryPolicy::none());
    let e = wrong
        .list_interactions(&Default::default())
        .await
        .unwrap_err();
    let Error::Api { body, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        body.details[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("base URL probably ends with /api/v2"),
        "{body:?}"
    );
    let health = wrong.health().await.unwrap_err();
    assert!(health.to_string().contains("root URL"), "{health}");
}
