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
    division_namer, find_named, unknown_code, Client, CodeQuery, CodeRef, Error, EventQuery,
    EventStream, RetryPolicy, RetryVerdict,
};
use wrapup_domain::names::name_key;
use wrapup_types::{ErrorCode, ErrorDetail};

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
/// name, compared as `names::name_key` compares names).
pub(crate) type CodeLookup = Result<Uuid, ErrorDetail>;

/// A refusal of a lookup, as the row's failure.
fn refused(e: Error) -> ErrorDetail {
    match e {
        Error::Api { body, .. } => body
            .details
            .into_iter()
            .next()
            .unwrap_or_else(|| ErrorDetail::new(body.code, body.message)),
        other => ErrorDetail::new(ErrorCode::InternalError, other.to_string()),
    }
}

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

    /// The id of a code as the row names it: an id as is, a name looked up (once per
    /// division and name, ignoring case) among the active codes of `division`, the
    /// interaction's. `Ok(Err(detail))`: no such code, with why (the client's
    /// [`unknown_code`]: the server's error code and words, or the name probably meant).
    pub(crate) async fn resolve_code(
        &self,
        division: Uuid,
        code: &CodeRef,
    ) -> Result<CodeLookup, BatchError> {
        let name = match code {
            CodeRef::Id(id) => return Ok(Ok(*id)),
            CodeRef::Name(name) => name,
        };
        let key = (division, name_key(name));
        if let Some(hit) = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let found = match self.look_up(division, name).await {
            Ok(found) => found,
            Err(RequestFailure::Refused(e)) => Err(refused(e)),
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        self.codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        Ok(found)
    }

    /// The reads behind [`BatchApi::resolve_code`]: the division's codes, then, on a miss,
    /// the codes of that name elsewhere and the division names, for the explanation.
    async fn look_up(&self, division: Uuid, name: &str) -> Result<CodeLookup, RequestFailure> {
        let query = |division_id, name: Option<&str>| CodeQuery {
            division_id,
            name: name.map(str::to_string),
            include_archived: Some(true),
            page_size: Some(500),
            ..CodeQuery::default()
        };
        let named = query(Some(division), Some(name));
        let named = self.retrying(|| self.client.list_codes(&named)).await?;
        if let Some(found) = find_named(name, &named.entities) {
            return Ok(Ok(found.id));
        }
        let all = query(Some(division), None);
        let in_division = self.retrying(|| self.client.list_codes(&all)).await?;
        let anywhere = query(None, Some(name));
        let elsewhere = self.retrying(|| self.client.list_codes(&anywhere)).await?;
        let divisions = self.retrying(|| self.client.list_divisions()).await?;
        Ok(Err(unknown_code(
            name,
            division,
            &in_division.entities,
            &elsewhere.entities,
            division_namer(&divisions.entities),
        )))
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
