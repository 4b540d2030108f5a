//! What the benchmark harnesses share: a wrapup server in the harness's process, on a
//! temporary SQLite database, with the wall clock, and an all-scopes client for it; the
//! processes they run as users do (`process`); latency summaries.

pub mod process;

use std::sync::Arc;

use uuid::Uuid;
use wrapup_server::new_client;
use wrapup_server::{App, Clock, Config, SystemClock};
use wrapup_store::{SqliteStore, Store};
use wrapup_types::{DivisionGrant, ScopeSet};

/// A running in-process server.
pub struct Server {
    pub app: Arc<App>,
    pub store: Arc<dyn Store>,
    pub base: String,
    /// An OAuth client with every scope.
    pub client_id: Uuid,
    pub secret: String,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with `config` (the inspector off) on 127.0.0.1:0.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await?);
        let app = Arc::new(App::start(
            store.clone(),
            Arc::new(SystemClock),
            Config {
                inspector_capacity: 0,
                ..config
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = app.clone();
        tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
        let (record, secret) = new_client(
            Uuid::new_v4(),
            "bench",
            ScopeSet::all(),
            DivisionGrant::All,
            SystemClock.now_ms(),
            None,
        );
        store.create_client(&record).await?;
        Ok(Server {
            app,
            store,
            base,
            client_id: record.id,
            secret,
            dir,
        })
    }

    /// A client of this server with the all-scopes credentials and no retries.
    pub fn client(&self) -> wrapup_client::Client {
        wrapup_client::Client::new(&self.base)
            .with_credentials(&self.client_id.to_string(), &self.secret)
            .with_retry(wrapup_client::RetryPolicy::none())
    }
}

/// Creates a division "Bench" and a code "Sale" in it; returns their ids.
pub async fn division_with_code(client: &wrapup_client::Client) -> anyhow::Result<(Uuid, Uuid)> {
    let division = client.create_division("Bench").await?.id;
    let code = client
        .create_code(&wrapup_types::CreateWrapUpCode {
            name: "Sale".into(),
            division_id: division,
            description: None,
        })
        .await?
        .id;
    Ok((division, code))
}

/// Latencies in milliseconds: their percentiles, maximum and count.
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub n: usize,
}

/// The summary of latencies in milliseconds (all NaN when there are none).
pub fn summary(mut ms: Vec<f64>) -> Summary {
    ms.sort_by(f64::total_cmp);
    if ms.is_empty() {
        return Summary {
            p50: f64::NAN,
            p90: f64::NAN,
            p99: f64::NAN,
            max: f64::NAN,
            n: 0,
        };
    }
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    Summary {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: *ms.last().unwrap(),
        n: ms.len(),
    }
}

/// Prints a summary as one aligned row of a benchmark's report.
pub fn row(name: &str, s: &Summary) {
    println!(
        "  {name:<44} n={:<5} p50 {:>7.3}  p90 {:>7.3}  p99 {:>7.3}  max {:>7.3} ms",
        s.n, s.p50, s.p90, s.p99, s.max
    );
}
