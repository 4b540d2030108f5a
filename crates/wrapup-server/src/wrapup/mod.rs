//! Applying a wrap-up, written once for every way in: `PUT /api/v2/interactions/{id}/wrap-up`,
//! `POST /api/v2/interactions/wrap-ups` (many at once), and the Genesys dialect's
//! `POST …/communications/{communicationId}/wrapup` and `PATCH …/participants/{participantId}`.
//!
//! A handler reads the body in its dialect (steps 3 and 4 of docs/api.md#order-of-checks:
//! `wrapup_domain::new_wrapup::check_fields`, or the Genesys `wrapup_input`), then hands it
//! to [`WrapUps`], which builds the store's command from the caller, gathers every problem
//! when the body has some (the state and code problems of steps 5 and 6 too, so one answer
//! lists them all), writes, and counts the answer in the wrap-up activity. Every dialect
//! counts: the console's figure is of every wrap-up, however it was sent.
//!
//! `check.rs` is the dry run: every problem a body would meet now, and the body that would
//! have been accepted (`POST …/wrap-up/validate` and the inspector's diagnosis).

pub mod check;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::StatusCode;
use uuid::Uuid;
use wrapup_domain::wrapup_fix::hint_code_named;
use wrapup_domain::{BodyProblems, NewWrapUp, Principal};
use wrapup_store::{
    ApplyWrapUp, CodeFilter, InteractionRecord, PageRequest, Store, StoreError, WrapUpApplied,
};
use wrapup_types::ErrorDetail;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::state::{AppState, Observability};

/// A wrap-up body as its dialect's checks left it (steps 3 and 4).
pub type Checked = Result<NewWrapUp, BodyProblems>;

/// Why a wrap-up was not applied.
#[derive(Debug)]
pub enum Refused {
    /// The interaction does not exist, or the caller may not see it: each dialect answers
    /// this in its own words.
    NotFound,
    /// Every problem the wrap-up met, in the order of checks.
    Problems(Vec<ErrorDetail>),
    /// The server could not decide (the store failed).
    Failed(ApiError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Refused {
        match e {
            StoreError::NotFound => Refused::NotFound,
            StoreError::Rejected(problems) => Refused::Problems(problems),
            e => Refused::Failed(e.into()),
        }
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused::Failed(e)
    }
}

/// The interaction a wrap-up names: by id alone (the write checks it exists and is visible,
/// in its transaction), or already found visible by the handler.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Id(Uuid),
    Found(&'a InteractionRecord),
}

impl Target<'_> {
    fn id(&self) -> Uuid {
        match self {
            Target::Id(id) => *id,
            Target::Found(rec) => rec.interaction.id,
        }
    }
}

/// The interaction as a wrap-up left it, applied or unchanged.
pub fn applied_record(applied: &WrapUpApplied) -> &InteractionRecord {
    match applied {
        WrapUpApplied::Applied(rec) | WrapUpApplied::Unchanged(rec) => rec,
    }
}

/// What applying wrap-ups needs of the server (a substate).
#[derive(Clone)]
pub struct WrapUps {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    observability: Arc<Observability>,
}

impl FromRef<AppState> for WrapUps {
    fn from_ref(state: &AppState) -> WrapUps {
        WrapUps {
            store: state.store.clone(),
            clock: state.clock.clone(),
            observability: state.observability.clone(),
        }
    }
}

impl WrapUps {
    /// Applies a wrap-up of `target` for `principal`, at `now_ms`, and counts the answer.
    pub async fn apply(
        &self,
        principal: &Principal,
        target: Target<'_>,
        body: Checked,
        now_ms: i64,
    ) -> Result<WrapUpApplied, Refused> {
        let answer = match self.command(principal, target, body, now_ms).await {
            Ok(cmd) => self.store.apply_wrapup(&cmd).await.map_err(Refused::from),
            Err(refused) => Err(refused),
        };
        self.count(principal, target.id(), answer.as_ref(), now_ms)
            .await;
        answer
    }

    /// The store's command for a wrap-up of `target` (the common case, a valid body, costs
    /// nothing: the write checks the interaction, its state and the code), or every problem
    /// of an invalid body, the state and code problems included, once the interaction is
    /// known to be visible (step 2 comes first).
    pub async fn command(
        &self,
        principal: &Principal,
        target: Target<'_>,
        body: Checked,
        now_ms: i64,
    ) -> Result<ApplyWrapUp, Refused> {
        let problems = match body {
            Ok(request) => {
                return Ok(ApplyWrapUp {
                    interaction_id: target.id(),
                    request,
                    client_id: principal.client_id,
                    divisions: principal.divisions.clone(),
                    now_ms,
                })
            }
            Err(problems) => problems,
        };
        let found;
        let rec = match target {
            Target::Found(rec) => rec,
            Target::Id(id) => {
                found = self.visible(principal, id).await?;
                &found
            }
        };
        Err(Refused::Problems(
            self.problems(principal, rec, problems, now_ms).await?,
        ))
    }

    /// Every problem of a body with `problems`, at `now_ms`: its own, then, unless it could
    /// not be read at all, those of the interaction's state and of the code it names.
    pub async fn problems(
        &self,
        principal: &Principal,
        rec: &InteractionRecord,
        body: BodyProblems,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>, ApiError> {
        let unreadable = body.unreadable();
        let BodyProblems {
            mut problems,
            code_id,
            code_name,
        } = body;
        if !unreadable {
            if let Some(name) = code_name {
                // A code's name where its id goes: the hint gives the id.
                let division = rec.interaction.division_id;
                let filter = CodeFilter {
                    division: Some(division),
                    name: Some(name.clone()),
                    include_archived: false,
                };
                let page = PageRequest {
                    after: None,
                    limit: 1,
                };
                let codes: Vec<_> = self
                    .store
                    .list_codes(&principal.divisions, &filter, page)
                    .await?
                    .into_iter()
                    .map(|r| r.code)
                    .collect();
                hint_code_named(&mut problems, &name, division, &codes);
            }
            problems.extend(
                self.store
                    .wrapup_problems(rec, code_id, &principal.divisions, now_ms)
                    .await?,
            );
        }
        Ok(problems)
    }

    /// The interaction `id`, if the caller may see it.
    async fn visible(&self, principal: &Principal, id: Uuid) -> Result<InteractionRecord, Refused> {
        self.store
            .get_interaction_shared(id)
            .await
            .map_err(|e| Refused::Failed(e.into()))?
            .filter(|found| principal.sees(found.record.interaction.division_id))
            .map(|found| found.record.clone())
            .ok_or(Refused::NotFound)
    }

    /// Counts an answer about a wrap-up of `interaction_id` in the wrap-up activity, under
    /// the interaction's division: only answers about an interaction the caller can see
    /// (not a not-found, nor a failure of the server's).
    pub async fn count(
        &self,
        principal: &Principal,
        interaction_id: Uuid,
        answer: Result<&WrapUpApplied, &Refused>,
        now_ms: i64,
    ) {
        let division = match answer {
            Ok(applied) => Some(applied_record(applied).interaction.division_id),
            Err(Refused::NotFound) => None,
            Err(Refused::Failed(e))
                if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() =>
            {
                None
            }
            Err(_) => self
                .store
                .get_interaction(interaction_id)
                .await
                .ok()
                .flatten()
                .map(|r| r.interaction.division_id)
                .filter(|d| principal.sees(*d)),
        };
        if let Some(division) = division {
            self.observability
                .activity
                .record(now_ms, division, answer.is_ok());
        }
    }
}
