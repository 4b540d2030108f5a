//! The test harness (feature `testkit`): an in-process server on 127.0.0.1:0 over a
//! throw-away database, a clock the test controls, and real clients. The server's, the
//! client's and the CLI's tests all use it. The database is SQLite, or PostgreSQL when
//! `WRAPUP_TEST_BACKEND=postgres` (with `WRAPUP_TEST_POSTGRES_URL`): the same tests then
//! run on the other backend. `receiver` is a scriptable webhook receiver.

pub mod receiver;

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::auth::new_client;
use crate::clock::{Clock, ManualClock};
use crate::config::Config;
use crate::connections::Workers;
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

/// How a `TestServer` starts (`TestServer::builder()`); every setting has a default.
#[must_use = "a builder does nothing until `.start().await`"]
pub struct TestServerBuilder {
    config: Config,
    db: Option<Arc<TestDb>>,
    clock: Option<Arc<ManualClock>>,
    event_buffer: usize,
}

impl TestServerBuilder {
    /// The server's configuration, as given (default: `settle_ms` = `SETTLE_MS`, the rest
    /// `Config::default()`).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Serve this database, e.g. one a previous server used (default: a new one, SQLite or
    /// as `WRAPUP_TEST_BACKEND` says).
    pub fn database(mut self, db: Arc<TestDb>) -> Self {
        self.db = Some(db);
        self
    }

    /// Use this clock (default: a new `ManualClock` at `START_MS`).
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Keep only `events` events in memory for subscribers (default: the store's
    /// `EVENT_BUFFER`).
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events;
        self
    }

    /// Opens the store and serves the API on `127.0.0.1:0`.
    pub async fn start(self) -> TestServer {
        let db = match self.db {
            Some(db) => db,
            None => Arc::new(TestDb::from_env().await),
        };
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(ManualClock::new(START_MS)));
        let store = db.open(self.event_buffer).await;
        let app = App::start(store.clone(), clock.clone() as Arc<dyn Clock>, self.config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Served as `wrapup serve` serves: on worker threads of their own (two, whatever
        // the machine, so that requests of one test run on more than one).
        let mut workers =
            Workers::start(NonZeroUsize::new(2).unwrap(), || app.router()).expect("worker threads");
        let server = tokio::spawn(async move {
            workers.serve(listener, std::future::pending()).await;
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
}

impl TestServer {
    /// A server with the defaults: a new throw-away database, the manual clock at
    /// `START_MS`, `settle_ms` = `SETTLE_MS` and otherwise the default `Config`.
    /// `TestServer::builder()` changes any of these.
    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    /// A server to configure, then `.start().await`:
    ///
    /// ```text
    /// let server = TestServer::builder()
    ///     .config(Config { demo: true, ..Config::default() })
    ///     .database(db)          // e.g. again, after a restart
    ///     .clock(clock)
    ///     .event_buffer(4)       // events the store keeps in memory for subscribers
    ///     .start()
    ///     .await;
    /// ```
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            config: Config {
                settle_ms: SETTLE_MS,
                ..Config::default()
            },
            db: None,
            clock: None,
            event_buffer: wrapup_store::EVENT_BUFFER,
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

    /// A division named `division` with one wrap-up code named `code` in it, made through
    /// the API: (the division's id, the code's id).
    pub async fn division_with_code(
        &self,
        admin: &Client,
        division: &str,
        code: &str,
    ) -> (Uuid, Uuid) {
        let division = self.division(admin, division).await;
        let code = self.code(admin, division, code).await;
        (division, code)
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

/// What a check polled by `eventually` answers: `true` or `Some(value)` once what it waits
/// for has happened, `false` or `None` until then.
pub trait Ready {
    type Value;
    fn ready(self) -> Option<Self::Value>;
}

impl Ready for bool {
    type Value = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Value = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// The longest pause between two checks of `eventually` (the first ones come sooner: 1 ms,
/// then twice as long each time, up to this).
pub const POLL_AT_MOST_EVERY: Duration = Duration::from_millis(20);

/// Runs `check` until it is ready (`true`, or `Some(value)`: the value is returned), for at
/// most `timeout`, pausing 1 ms, 2 ms, 4 ms, … up to `POLL_AT_MOST_EVERY` between checks;
/// then panics saying what it waited for (`what` is formatted only then: see [`describe`]).
/// For what neither the manual clock nor the store's event feed can tell a test
/// deterministically (another process, a socket, a metric that follows a connection).
///
/// ```text
/// let attempts = eventually("3 attempts in the log", Duration::from_secs(10), || async {
///     let page = admin.webhook_deliveries(id, &query).await.unwrap();
///     (page.entities.len() >= 3).then_some(page.entities)
/// })
/// .await;
/// ```
pub async fn eventually<R, F>(
    what: impl std::fmt::Display,
    timeout: Duration,
    mut check: impl FnMut() -> F,
) -> R::Value
where
    R: Ready,
    F: Future<Output = R>,
{
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(value) = check().await.ready() {
            return value;
        }
        if started.elapsed() >= timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_AT_MOST_EVERY);
    }
}

/// A description made only when shown: `eventually`'s `what` with what things looked like
/// at the timeout (`describe(|| format!("the batch to finish; its output:\n{}", output()))`).
pub fn describe<F: Fn() -> String>(describe: F) -> impl std::fmt::Display {
    struct Described<F>(F);
    impl<F: Fn() -> String> std::fmt::Display for Described<F> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&(self.0)())
        }
    }
    Described(describe)
}

/// The variable that replays a test's random choices: `WRAPUP_TEST_SEED=<n>`.
pub const SEED_VAR: &str = "WRAPUP_TEST_SEED";

/// A random number generator for a test's random choices (e.g. when to kill a process),
/// seeded from `WRAPUP_TEST_SEED` if set, else at random; the seed is printed on stderr
/// (shown with a failing test's output), so a failure can be replayed with
/// `WRAPUP_TEST_SEED=<seed> cargo test … <test>`.
pub fn seeded_rng(test: &str) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed = match std::env::var(SEED_VAR) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{SEED_VAR}={text:?} is not a number (u64)")),
        Err(_) => rand::random::<u64>(),
    };
    eprintln!("{test}: random choices seeded with {SEED_VAR}={seed}");
    rand::rngs::StdRng::seed_from_u64(seed)
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
