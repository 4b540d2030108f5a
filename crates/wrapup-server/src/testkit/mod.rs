//! The test harness (feature `testkit`): an in-process server on 127.0.0.1:0 over a
//! throw-away database, a clock the test controls, and real clients. The server's, the
//! client's and the CLI's tests all use it. The database is SQLite, or PostgreSQL when
//! `WRAPUP_TEST_BACKEND=postgres` (with `WRAPUP_TEST_POSTGRES_URL`): the same tests then
//! run on the other backend. `receiver` is a scriptable webhook receiver.

pub mod receiver;

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::auth::new_client;
use crate::clock::{Clock, ManualClock};
use crate::config::Config;
use reqwest::Method;
use uuid::Uuid;
use wrapup_client::{Client, RawResponse};
use wrapup_store::testing::TestDb;
use wrapup_store::Store;
use wrapup_types::{
    Channel, CreateWrapUpCode, DivisionGrant, ErrorBody, EventKind, ScopeSet, TargetState,
};

pub const SETTLE_MS: i64 = 1_500;
pub const START_MS: i64 = 1_795_000_000_000;

pub struct TestServer {
    pub url: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub app: App,
    pub db: Arc<TestDb>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Config {
            settle_ms: SETTLE_MS,
            ..Config::default()
        })
        .await
    }

    pub async fn start_with(config: Config) -> TestServer {
        let db = Arc::new(TestDb::from_env().await);
        let clock = Arc::new(ManualClock::new(START_MS));
        Self::start_on(db, clock, config).await
    }

    /// Starts a server on the database `db` (e.g. again, after a restart).
    pub async fn start_on(db: Arc<TestDb>, clock: Arc<ManualClock>, config: Config) -> TestServer {
        Self::start_full(db, clock, config, wrapup_store::EVENT_BUFFER).await
    }

    /// A server whose store keeps only `event_buffer` events in memory for subscribers.
    pub async fn start_with_event_buffer(config: Config, event_buffer: usize) -> TestServer {
        let db = Arc::new(TestDb::from_env().await);
        let clock = Arc::new(ManualClock::new(START_MS));
        Self::start_full(db, clock, config, event_buffer).await
    }

    async fn start_full(
        db: Arc<TestDb>,
        clock: Arc<ManualClock>,
        config: Config,
        event_buffer: usize,
    ) -> TestServer {
        let store = db.open(event_buffer).await;
        let app = App::start(store.clone(), clock.clone() as Arc<dyn Clock>, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app.router();
        let server = tokio::spawn(async move {
            axum_serve(listener, router).await;
        });
        TestServer {
            url: format!("http://{addr}"),
            store,
            clock,
            app,
            db,
            server,
        }
    }

    /// A client with the given scopes and divisions, created straight in the store.
    pub async fn client(&self, scopes: &str, divisions: DivisionGrant) -> Client {
        let (id, secret) = self.credentials(scopes, divisions).await;
        // Tests see every answer as sent: no retries.
        Client::new(&self.url)
            .with_credentials(&id.to_string(), &secret)
            .with_retry(wrapup_client::RetryPolicy::none())
    }

    pub async fn credentials(&self, scopes: &str, divisions: DivisionGrant) -> (Uuid, String) {
        let scopes = ScopeSet::parse(scopes).unwrap();
        let (record, secret) = new_client(
            Uuid::new_v4(),
            "test",
            scopes,
            divisions,
            self.clock.now_ms(),
            None,
        );
        self.store.create_client(&record).await.unwrap();
        (record.id, secret)
    }

    /// A client with every scope and every division.
    pub async fn admin(&self) -> Client {
        self.client(
            "interaction:view interaction:write interaction:manage wrapup-code:view wrapup-code:manage admin",
            DivisionGrant::All,
        )
        .await
    }

    pub async fn division(&self, admin: &Client, name: &str) -> Uuid {
        admin.create_division(name).await.unwrap().id
    }

    pub async fn code(&self, admin: &Client, division: Uuid, name: &str) -> Uuid {
        admin
            .create_code(&CreateWrapUpCode {
                name: name.into(),
                division_id: division,
                description: None,
            })
            .await
            .unwrap()
            .id
    }

    /// A new interaction moved through `states`.
    pub async fn interaction(
        &self,
        admin: &Client,
        division: Uuid,
        states: &[TargetState],
    ) -> Uuid {
        let id = admin
            .create_interaction(division, Channel::Voice)
            .await
            .unwrap()
            .id;
        for s in states {
            admin.set_state(id, *s).await.unwrap();
        }
        id
    }

    /// Runs the finalization pass the timer would run now (deterministic).
    pub async fn finalize_now(&self) {
        self.store.finalize_due(self.clock.now_ms()).await.unwrap();
    }

    /// A closed and finalized interaction.
    pub async fn finalized(&self, admin: &Client, division: Uuid) -> Uuid {
        let id = self
            .interaction(admin, division, &[TargetState::Active, TargetState::Closed])
            .await;
        self.clock.advance(SETTLE_MS);
        self.finalize_now().await;
        id
    }

    /// The requests the inspector keeps, newest first.
    pub fn inspected(&self) -> Vec<wrapup_types::InspectedRequest> {
        self.app
            .state
            .observability
            .inspector
            .recent(1000, &Default::default())
    }

    /// Waits (bounded) for the event of `kind` about `id` on the store's stream.
    pub async fn wait_for_event(
        rx: &mut tokio::sync::broadcast::Receiver<Arc<wrapup_store::EventRecord>>,
        id: Uuid,
        kind: EventKind,
    ) {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let e = rx.recv().await.unwrap();
                if e.interaction.id == id && e.kind == kind {
                    return;
                }
            }
        })
        .await
        .expect("the event arrives");
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).await.unwrap();
}

/// A PUT of a raw wrap-up body.
pub async fn put_raw(client: &Client, id: &str, content_type: &str, body: &[u8]) -> RawResponse {
    client
        .raw(
            Method::PUT,
            &format!("/api/v2/interactions/{id}/wrap-up"),
            &[("content-type", content_type)],
            Some(body.to_vec()),
        )
        .await
        .unwrap()
}

pub fn error_of(raw: &RawResponse) -> ErrorBody {
    raw.error_body().unwrap_or_else(|| {
        panic!(
            "an error body, got {} {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        )
    })
}

pub fn codes_of(raw: &RawResponse) -> Vec<String> {
    error_of(raw)
        .details
        .iter()
        .map(|d| d.error_code.as_str().to_string())
        .collect()
}
