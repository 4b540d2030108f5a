//! The API as the batch uses it: a 429 pauses every request of the batch at once, 5xx and
//! network errors back off and retry, credentials refused stop the batch, and code names
//! are resolved once per division. What may be retried is the client's one rule
//! ([`RetryVerdict`]); every request the batch sends is idempotent (GETs, and bulk applies:
//! sending the same wrap-up again changes nothing). A bulk request the server refuses as a
//! whole for its size (a rate limit smaller than the chunk, a body over the limit) is split
//! in halves, and later chunks are made no larger.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;
use wrapup_client::{
    division_namer, find_named, unknown_code, Client, CodeQuery, CodeRef, Error, EventQuery,
    EventStream, RetryPolicy, RetryVerdict,
};
use wrapup_domain::names::name_key;
use wrapup_types::{BulkOutcome, BulkWrapUp, BulkWrapUpResult, ErrorCode, ErrorDetail, EventKind};

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

/// The most wrap-ups the server takes in one bulk request.
pub(crate) const MAX_CHUNK: usize = 1000;

/// Whether a bulk request was refused as a whole for its size (413, or a 400 saying the
/// array is larger than the rate limit lets one request be).
fn too_large(e: &Error) -> bool {
    match e {
        Error::Api { status: 413, .. } => true,
        Error::Api {
            status: 400, body, ..
        } => body.code == ErrorCode::RequestFieldInvalid,
        _ => false,
    }
}

/// A whole request's refusal as the details of each of its items.
fn refusal_details(e: &Error) -> Vec<ErrorDetail> {
    match e {
        Error::Api { body, .. } if !body.details.is_empty() => body.details.clone(),
        Error::Api { body, .. } => vec![ErrorDetail::new(body.code, body.message.clone())],
        other => vec![ErrorDetail::new(
            ErrorCode::InternalError,
            other.to_string(),
        )],
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
    /// By name (`name_key`): the one current code of that name among the divisions the
    /// client sees, or `None` when there are none or several ([`BatchApi::guess_code`]).
    guesses: Mutex<HashMap<String, Option<Uuid>>>,
    /// The most rows a chunk may hold: `--chunk-size`, lowered when the server refuses a
    /// bulk request as too large.
    chunk_limit: AtomicUsize,
}

/// The answer for one item of a bulk apply: the server's result, and whether an earlier
/// attempt of the request carrying it failed in a way that may have taken effect (so an
/// `unchanged` may be this batch's own attempt, whose answer was lost).
pub(crate) struct ItemAnswer {
    pub(crate) result: BulkWrapUpResult,
    pub(crate) resent: bool,
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
            guesses: Mutex::new(HashMap::new()),
            chunk_limit: AtomicUsize::new(options.chunk_size.clamp(1, MAX_CHUNK)),
        }
    }

    /// The most rows the next chunk may hold.
    pub(crate) fn chunk_limit(&self) -> usize {
        self.chunk_limit.load(Ordering::Relaxed)
    }

    /// Applies `items` in bulk requests (one, unless the server refuses it as too large:
    /// then in halves), with the batch's retries. One answer per item, in order; an error
    /// only when the whole batch must stop.
    pub(crate) async fn apply(&self, items: &[BulkWrapUp]) -> Result<Vec<ItemAnswer>, BatchError> {
        let mut answers = Vec::with_capacity(items.len());
        // Parts still to send, last first (a stack, so the answers stay in input order).
        let mut parts = vec![items];
        while let Some(part) = parts.pop() {
            let (sent, ambiguous) = self
                .retrying_counted(|| self.client.apply_wrapups(part))
                .await;
            match sent {
                Ok(results) if results.len() == part.len() => {
                    let resent = ambiguous > 0;
                    answers.extend(
                        results
                            .into_iter()
                            .map(|result| ItemAnswer { result, resent }),
                    );
                }
                Ok(results) => {
                    return Err(BatchError::Unreachable(Error::Unexpected {
                        status: 200,
                        message: format!(
                            "the server answered {} results for {} wrap-ups",
                            results.len(),
                            part.len()
                        ),
                    }))
                }
                Err(RequestFailure::Refused(e)) if part.len() > 1 && too_large(&e) => {
                    let half = part.len() / 2;
                    self.chunk_limit.fetch_min(half, Ordering::Relaxed);
                    tracing::info!(rows = half, error = %e, "the server refused a chunk as too large; sending smaller ones");
                    let (first, second) = part.split_at(half);
                    parts.push(second);
                    parts.push(first);
                }
                Err(RequestFailure::Refused(e)) => {
                    // Refused as a whole: every item of it fails with the diagnosis.
                    let details = refusal_details(&e);
                    let status = match &e {
                        Error::Api { status, .. } => *status,
                        _ => 0,
                    };
                    answers.extend(part.iter().map(|item| ItemAnswer {
                        result: BulkWrapUpResult {
                            interaction_id: Some(item.interaction_id.to_string()),
                            outcome: BulkOutcome::Refused,
                            status,
                            details: details.clone(),
                        },
                        resent: false,
                    }));
                }
                Err(RequestFailure::Stop(e)) => return Err(e),
            }
        }
        Ok(answers)
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
        self.retrying_counted(request).await.0
    }

    /// [`BatchApi::retrying`], also saying how many attempts failed in a way that may have
    /// taken effect all the same (5xx, network errors; not a 429, which applies nothing).
    async fn retrying_counted<T, F, Fut>(&self, request: F) -> (Result<T, RequestFailure>, u32)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut failures = 0;
        let mut rate_limited = 0;
        loop {
            self.paused().await;
            let error = match request().await {
                Ok(v) => return (Ok(v), failures),
                Err(e) => e,
            };
            tracing::debug!(error = %error, failures, rate_limited, "a request failed");
            if matches!(
                error,
                Error::Api { status: 401, .. } | Error::OAuth { .. } | Error::NoCredentials
            ) {
                return (
                    Err(RequestFailure::Stop(BatchError::Unauthorized(error))),
                    failures,
                );
            }
            match RetryVerdict::of(&error, true) {
                RetryVerdict::RateLimited { retry_after } => {
                    rate_limited += 1;
                    if rate_limited > self.max_rate_limited {
                        return (
                            Err(RequestFailure::Stop(BatchError::Unreachable(error))),
                            failures,
                        );
                    }
                    self.pause(retry_after.unwrap_or(Duration::from_secs(1)));
                    self.tally.add(|c| c.retries += 1);
                }
                RetryVerdict::Transient { .. } => {
                    failures += 1;
                    // Exponential backoff with full jitter; None once the retries are spent.
                    let Some(delay) = self.backoff.delay(failures, None) else {
                        return (
                            Err(RequestFailure::Stop(BatchError::Unreachable(error))),
                            failures,
                        );
                    };
                    self.tally.add(|c| c.retries += 1);
                    tokio::time::sleep(delay).await;
                }
                RetryVerdict::Never => return (Err(RequestFailure::Refused(error)), failures),
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

    /// The id a row naming its code is sent with before its interaction is read: the one
    /// current code of that name (ignoring case) among every division the client sees, or
    /// `None` when there are none or several (then the row's interaction is read, to know
    /// which division's code the name means). Looked up once per name.
    ///
    /// A guess is only a guess: the server applies a code only to interactions of the
    /// code's own division (and only a current code), so a guessed row the server applies
    /// is exactly the row the read would have resolved to the same code; a refused one is
    /// read and resolved as if nothing had been guessed.
    pub(crate) async fn guess_code(&self, name: &str) -> Result<Option<Uuid>, BatchError> {
        let key = name_key(name);
        if let Some(hit) = self
            .guesses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(*hit);
        }
        let query = CodeQuery {
            name: Some(name.to_string()),
            include_archived: Some(false),
            page_size: Some(500),
            ..CodeQuery::default()
        };
        let guess = match self.retrying(|| self.client.list_codes(&query)).await {
            Ok(page) => {
                let mut current = page
                    .entities
                    .iter()
                    .filter(|c| !c.archived && name_key(&c.name) == key);
                match (current.next(), current.next(), &page.next_cursor) {
                    (Some(only), None, None) => Some(only.id),
                    _ => None,
                }
            }
            // Refused (a token without `wrapup-code:view`…): no guess; each row's read and
            // lookup say what is wrong, as they did before guesses.
            Err(RequestFailure::Refused(_)) => None,
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        self.guesses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, guess);
        Ok(guess)
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
    /// it is unavailable: waiting rows are then re-read on every tick instead. Only the
    /// events that can make an interaction ready are asked for (not the wrap-ups, one per
    /// row the batch applies).
    pub(crate) async fn open_stream(&self, last_event_id: Option<String>) -> Option<EventStream> {
        let query = EventQuery {
            kinds: vec![EventKind::State, EventKind::Finalized],
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
