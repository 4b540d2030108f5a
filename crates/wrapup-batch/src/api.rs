//! The API as the batch uses it: a 429 pauses every request of the batch at once, 5xx and
//! network errors back off and retry, credentials refused stop the batch, and code names
//! are resolved once per division. What may be retried is the client's one rule
//! ([`RetryVerdict`]); every request the batch sends is idempotent (GET or PUT).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;
use wrapup_client::{
    Client, CodeQuery, CodeRef, Error, EventQuery, EventStream, RetryPolicy, RetryVerdict,
};

use crate::counts::Tally;
use crate::error::BatchError;
use crate::options::Options;

/// A request's failure, after the retries it deserved.
pub(crate) enum RequestFailure {
    /// Refused for good: the row fails with this diagnosis.
    Refused(Error),
    /// The whole batch stops.
    Stop(BatchError),
}

/// The id of a code named in a division, or why there is none (cached per division and
/// lower-cased name).
type CodeLookup = Result<Uuid, String>;

/// The client with the batch's retry behaviour.
pub(crate) struct BatchApi {
    pub(crate) client: Client,
    tally: Arc<Tally>,
    /// Every request waits until then (set by a 429).
    pause_until: Mutex<Option<Instant>>,
    /// Backoff after 5xx and network errors.
    backoff: RetryPolicy,
    /// How many 429s a request may meet before the batch stops.
    max_rate_limited: u32,
    codes: Mutex<HashMap<(Uuid, String), CodeLookup>>,
}

impl BatchApi {
    /// `client` should not retry by itself: the batch does, pausing everything on 429.
    pub(crate) fn new(client: Client, options: &Options, tally: Arc<Tally>) -> BatchApi {
        BatchApi {
            client,
            tally,
            pause_until: Mutex::new(None),
            backoff: RetryPolicy {
                max_attempts: options.max_retries.saturating_add(1),
                base_delay: options.backoff,
                max_delay: options.max_backoff,
                ..RetryPolicy::default()
            },
            max_rate_limited: options.max_retries.saturating_mul(10),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// Waits while the batch is paused by a 429.
    async fn paused(&self) {
        loop {
            let until = *self.pause_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }

    fn pause(&self, for_: Duration) {
        let until = Instant::now() + for_;
        let mut pause = self.pause_until.lock().unwrap_or_else(|e| e.into_inner());
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    /// Runs `request` until it succeeds, is refused for good, or the retries run out.
    pub(crate) async fn retrying<T, F, Fut>(&self, request: F) -> Result<T, RequestFailure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut failures = 0;
        let mut rate_limited = 0;
        loop {
            self.paused().await;
            let error = match request().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if matches!(
                error,
                Error::Api { status: 401, .. } | Error::OAuth { .. } | Error::NoCredentials
            ) {
                return Err(RequestFailure::Stop(BatchError::Unauthorized(error)));
            }
            match RetryVerdict::of(&error, true) {
                RetryVerdict::RateLimited { retry_after } => {
                    rate_limited += 1;
                    if rate_limited > self.max_rate_limited {
                        return Err(RequestFailure::Stop(BatchError::Unreachable(error)));
                    }
                    self.pause(retry_after.unwrap_or(Duration::from_secs(1)));
                    self.tally.add(|c| c.retries += 1);
                }
                RetryVerdict::Transient { .. } => {
                    failures += 1;
                    // Exponential backoff with full jitter; None once the retries are spent.
                    let Some(delay) = self.backoff.delay(failures, None) else {
                        return Err(RequestFailure::Stop(BatchError::Unreachable(error)));
                    };
                    self.tally.add(|c| c.retries += 1);
                    tokio::time::sleep(delay).await;
                }
                RetryVerdict::Never => return Err(RequestFailure::Refused(error)),
            }
        }
    }

    /// The id of a code as the row names it: an id as is, a name looked up (once) among
    /// the active codes of `division`, the interaction's. `Ok(Err(message))`: no such code.
    pub(crate) async fn resolve_code(
        &self,
        division: Uuid,
        code: &CodeRef,
    ) -> Result<CodeLookup, BatchError> {
        let name = match code {
            CodeRef::Id(id) => return Ok(Ok(*id)),
            CodeRef::Name(name) => name.to_lowercase(),
        };
        let key = (division, name.clone());
        if let Some(hit) = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let query = CodeQuery {
            division_id: Some(division),
            name: Some(name.clone()),
            ..CodeQuery::default()
        };
        let found = match self.retrying(|| self.client.list_codes(&query)).await {
            Ok(page) => page
                .entities
                .first()
                .map(|c| c.id)
                .ok_or_else(|| format!("no active wrap-up code named \"{name}\" in division {division} (the interaction's)")),
            Err(RequestFailure::Refused(e)) => Err(e.to_string()),
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        self.codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        Ok(found)
    }

    /// Opens the batch's one event stream (resuming after `last_event_id`), or `None` when
    /// it is unavailable: waiting rows are then re-read on every tick instead.
    pub(crate) async fn open_stream(&self, last_event_id: Option<String>) -> Option<EventStream> {
        let query = EventQuery {
            last_event_id,
            ..EventQuery::default()
        };
        match self.client.events(&query).await {
            Ok(stream) => Some(stream),
            Err(e) => {
                tracing::warn!(error = %e, "the event stream is unavailable; waiting rows are re-read instead");
                None
            }
        }
    }
}
