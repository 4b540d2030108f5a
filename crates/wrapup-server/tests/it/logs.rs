//! The request log. The tests of this binary share one process, and tracing caches each
//! callsite's interest process-wide: a thread-scoped subscriber set while other tests
//! register the same callsites can miss events. So the capture is one global subscriber,
//! installed once, that takes every callsite (`Interest::sometimes`) and keeps the events of
//! every thread while a test captures: the server logs on its worker threads, not the
//! test's. Other tests' lines may be captured too; the assertions look for this test's.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;
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

/// Where log lines go while a test captures.
static CAPTURE: Mutex<Option<Captured>> = Mutex::new(None);

/// Writes to the capture (nothing when there is none).
struct Capturing;

impl Write for Capturing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match CAPTURE.lock().unwrap().as_mut() {
            Some(captured) => captured.write(buf),
            None => Ok(buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures, as JSON lines at every level, what is logged until the guard is dropped.
fn capture(into: &Captured) -> impl Drop {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let capturing = dynamic_filter_fn(|_, _| CAPTURE.lock().unwrap().is_some());
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(|| Capturing)
            .with_filter(capturing);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in this test binary");
        // Callsites registered by other threads while it was being installed are asked again.
        tracing::callsite::rebuild_interest_cache();
    });
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            CAPTURE.lock().unwrap().take();
        }
    }
    *CAPTURE.lock().unwrap() = Some(into.clone());
    Release
}

#[tokio::test]
async fn one_log_line_per_request_and_never_a_secret() {
    let captured = Captured::default();
    let _guard = capture(&captured);

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
