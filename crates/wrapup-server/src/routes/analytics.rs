//! The analytics queries of the Genesys dialect (docs/genesys.md#analytics): the
//! conversation details query, one conversation's details, and the aggregates query. The
//! store selects the interactions of the caller's divisions that started in the interval
//! (`Store::interactions_started`); what they look like, the filters, metrics and the
//! aggregation are the domain's (`wrapup_domain::analytics`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use uuid::Uuid;
use wrapup_domain::analytics::{self, filter, AggregateQuery, Aggregation, DetailsQuery};
use wrapup_domain::Principal;
use wrapup_store::{InteractionRecord, StartedScan, Store};
use wrapup_types::genesys::{
    AnalyticsConversation, AnalyticsConversationQueryResponse, ConversationAggregateQueryResponse,
    ConversationAggregationQuery, ConversationQuery,
};
use wrapup_types::ErrorCode::{self, *};
use wrapup_types::{DivisionGrant, ErrorDetail, Interaction};

use crate::auth::{ConversationAggregatePermission, ConversationDetailPermission, Permitted};
use crate::error::ApiError;
use crate::extract::{parse_json, read_json_body};
use crate::openapi::errors::{codes, JSON_BODY};
use crate::routes::conversations::Target;

/// The most conversations one filtered details query or one aggregates query reads.
pub const MAX_SCANNED: u32 = 200_000;

/// A query body's own check, beyond a JSON body's: what wrapup does not compute.
const QUERY_BODY: &[ErrorCode] = &[RequestFieldUnsupported];

/// Agents' names, each read once per request.
#[derive(Default)]
struct AgentNames(HashMap<Uuid, Option<String>>);

impl AgentNames {
    async fn of(
        &mut self,
        store: &dyn Store,
        principal: &Principal,
        i: &Interaction,
    ) -> Result<Option<String>, ApiError> {
        let Some(id) = i.routing.as_ref().and_then(|r| r.agent_id) else {
            return Ok(None);
        };
        if let Some(name) = self.0.get(&id) {
            return Ok(name.clone());
        }
        let name = crate::routes::users::visible_user(store, principal, id)
            .await?
            .map(|u| u.name);
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

fn too_many() -> ApiError {
    ApiError::one(
        ErrorDetail::new(
            RequestFieldInvalid,
            format!("More than {MAX_SCANNED} conversations started in the interval; one query reads at most {MAX_SCANNED}."),
        )
        .field("interval")
        .hint("Split the interval into shorter ones (a day, an hour) and query each."),
    )
}

/// The caller's divisions, narrowed to those the filters require (`divisionId` `matches`):
/// the store reads no other, and the filters still run on what it reads.
fn narrowed(principal: &Principal, required: Option<Vec<Uuid>>) -> DivisionGrant {
    match required {
        Some(ids) => DivisionGrant::Only(ids.into_iter().filter(|d| principal.sees(*d)).collect()),
        None => principal.divisions.clone(),
    }
}

/// Every interaction of the interval in `grant`, for a filter or an aggregate (at most
/// [`MAX_SCANNED`]).
async fn scan_all(
    store: &dyn Store,
    grant: &DivisionGrant,
    interval: analytics::Interval,
) -> Result<Vec<InteractionRecord>, ApiError> {
    let found = store
        .interactions_started(
            grant,
            &StartedScan {
                from_ms: interval.start_ms,
                to_ms: interval.end_ms,
                newest_first: false,
                offset: 0,
                limit: MAX_SCANNED + 1,
                count: false,
            },
        )
        .await?;
    if found.items.len() > MAX_SCANNED as usize {
        return Err(too_many());
    }
    Ok(found.items)
}

/// Query for conversation details
///
/// The conversations of the token's divisions that started in `interval` (start included,
/// end excluded), with their participants, sessions and segments (`alert`, `interact`,
/// `wrapup` with its `wrapUpCode`), filtered by `conversationFilters` and `segmentFilters`,
/// by start (`order` `asc` or `desc`), one page of `paging.pageSize` (at most 100), and
/// `totalHits`. A dimension, operator or field wrapup does not compute is refused, naming
/// it and what is supported (docs/genesys.md#analytics).
#[utoipa::path(post, path = "/api/v2/analytics/conversations/details/query",
    operation_id = "postAnalyticsConversationsDetailsQuery", tag = "genesys",
    request_body = ConversationQuery,
    responses((status = 200, description = "One page of the matching conversations.", body = AnalyticsConversationQueryResponse)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, QUERY_BODY])))))]
pub async fn details_query(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Permitted<ConversationDetailPermission>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AnalyticsConversationQueryResponse>, ApiError> {
    let bytes = read_json_body(&headers, body).await?;
    let raw: ConversationQuery = parse_json(&bytes)?;
    let query = DetailsQuery::check(&raw).map_err(ApiError::new)?;
    let store = store.as_ref();
    let mut names = AgentNames::default();
    let mut conversations = Vec::new();
    if query.filters.is_empty() {
        // Paged in the database.
        let found = store
            .interactions_started(
                &principal.divisions,
                &StartedScan {
                    from_ms: query.interval.start_ms,
                    to_ms: query.interval.end_ms,
                    newest_first: query.newest_first,
                    offset: query.offset(),
                    limit: query.page_size,
                    count: true,
                },
            )
            .await?;
        for rec in &found.items {
            let name = names.of(store, &principal, &rec.interaction).await?;
            conversations.push(analytics::conversation(&rec.interaction, name.as_deref()));
        }
        return Ok(Json(AnalyticsConversationQueryResponse {
            conversations,
            total_hits: found.total,
        }));
    }
    let grant = narrowed(&principal, query.divisions());
    let mut all = scan_all(store, &grant, query.interval).await?;
    if query.newest_first {
        all.reverse();
    }
    let mut total = 0u64;
    let (from, to) = (query.offset(), query.offset() + u64::from(query.page_size));
    for rec in &all {
        let name = names.of(store, &principal, &rec.interaction).await?;
        let c = analytics::conversation(&rec.interaction, name.as_deref());
        if filter::all_match(&query.filters, &c) {
            if (from..to).contains(&total) {
                conversations.push(c);
            }
            total += 1;
        }
    }
    Ok(Json(AnalyticsConversationQueryResponse {
        conversations,
        total_hits: total,
    }))
}

/// Get a conversation's details
///
/// The interaction with this id as the details query shows it.
#[utoipa::path(get, path = "/api/v2/analytics/conversations/{conversationId}/details",
    operation_id = "getAnalyticsConversationDetails", tag = "genesys",
    params(("conversationId" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The conversation's details.", body = AnalyticsConversation)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[&[InteractionNotFound]])))))]
pub async fn conversation_details(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Permitted<ConversationDetailPermission>,
    Path(conversation_id): Path<String>,
) -> Result<Json<AnalyticsConversation>, ApiError> {
    let target = Target::find(store.as_ref(), &principal, &conversation_id, None).await?;
    let name = target.agent_name(store.as_ref(), &principal).await?;
    Ok(Json(analytics::conversation(
        &target.rec.interaction,
        name.as_deref(),
    )))
}

/// Query for conversation aggregates
///
/// `metrics` (`tAcw`, `tHandle`, `tTalk`, `nConnected`, `nOffered`) of the conversations of
/// the token's divisions that started in `interval`, passing `filter`, by `groupBy`
/// (`wrapUpCode`, `queueId`, `userId`, `mediaType`, `divisionId`, …) and by bucket of
/// `granularity` (days and weeks are calendar days of `timeZone`). A metric, dimension or field wrapup does not compute is refused,
/// naming it and what is supported (docs/genesys.md#analytics).
#[utoipa::path(post, path = "/api/v2/analytics/conversations/aggregates/query",
    operation_id = "postAnalyticsConversationsAggregatesQuery", tag = "genesys",
    request_body = ConversationAggregationQuery,
    responses((status = 200, description = "The metrics by group and bucket.", body = ConversationAggregateQueryResponse)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, QUERY_BODY])))))]
pub async fn aggregates_query(
    State(store): State<Arc<dyn Store>>,
    Permitted(principal, ..): Permitted<ConversationAggregatePermission>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ConversationAggregateQueryResponse>, ApiError> {
    let bytes = read_json_body(&headers, body).await?;
    let raw: ConversationAggregationQuery = parse_json(&bytes)?;
    let query = AggregateQuery::check(&raw).map_err(ApiError::new)?;
    let store = store.as_ref();
    let grant = narrowed(&principal, query.divisions());
    let all = scan_all(store, &grant, query.buckets.interval).await?;
    let mut names = AgentNames::default();
    let mut aggregation = Aggregation::new(&query);
    for rec in &all {
        // Names matter only to a filter (none filters on them today): read them only then.
        let name = match &query.filter {
            Some(_) => names.of(store, &principal, &rec.interaction).await?,
            None => None,
        };
        aggregation.add(&rec.interaction, name.as_deref());
    }
    Ok(Json(aggregation.finish()))
}
