//! The request log. Alone in its test binary: tracing caches per-callsite interest
//! process-wide, so a thread-scoped subscriber is only reliable without other tests racing
//! to register the same callsites.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use wrapup_server::testkit::*;
use wrapup_types::DivisionGrant;

/// Collects everything the server logs while the test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_log_line_per_request_and_never_a_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    let (id, secret) = server
        .credentials("interaction:view admin", DivisionGrant::All)
        .await;
    let client = wrapup_client::Client::new(&server.url).with_credentials(&id.to_string(), &secret);
    let token = client.bearer().await.unwrap().unwrap();
    client
        .raw(
            Method::GET,
            "/api/v2/authorization/divisions",
            &[("x-request-id", "log-test-1")],
            None,
        )
        .await
        .unwrap();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!log.contains(&secret), "the client secret is never logged");
    assert!(!log.contains(&token), "the token is never logged");
    let line: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["request_id"] == "log-test-1")
        .expect("a request line");
    let fields = &line["fields"];
    assert_eq!(fields["message"], "request");
    assert_eq!(fields["route"], "/api/v2/authorization/divisions");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["client_id"], id.to_string());
    assert!(fields["latency_ms"].is_f64());
    // Rounded to whole microseconds: at most three decimals.
    let latency = fields["latency_ms"].to_string();
    let decimals = latency.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(decimals <= 3, "latency_ms={latency}");
}
