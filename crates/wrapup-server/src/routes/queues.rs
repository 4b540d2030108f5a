//! `/api/v2/routing/queues`: queues, their after-call-work settings and their wrap-up codes,
//! in Genesys Cloud's shapes for both dialects (docs/api.md#queues-and-agents). A queue and
//! its codes are in one division; an interaction of a queue may use only the queue's codes,
//! and its agent's after-call work follows the queue's `acwSettings`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use uuid::Uuid;
use wrapup_domain::names::{check_description, check_name};
use wrapup_domain::routing::check_acw_settings;
use wrapup_domain::Principal;
use wrapup_store::{CodeSearch, Found, QueueRecord, QueueSearch, Search, Store};
use wrapup_types::genesys::DivisionRef;
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    AcwPrompt, AcwSettings, EntityListing, ErrorCode, ErrorDetail, Queue, QueueRequest,
    WrapUpCodeReference, WrapUpCodeView,
};

use crate::auth::{Authorized, CodeManage, CodeView};
use crate::clock::Clock;
use crate::error::{ApiError, OrNameTaken, OrNotFound, Resource, UniqueName};
use crate::extract::{path_id, read_json_body, ApiJson};
use crate::listing::{listing_params, ListingQuery};
use crate::openapi::errors::{Errors, JSON_BODY};
use crate::routes::codes;
use crate::routes::divisions::{requested_division, stays_in_division, DivisionNames};
use crate::visible;

const PATH: &str = "/api/v2/routing/queues";
listing_params!(
    QueuesQuery,
    "queues",
    [PageSize, PageNumber, Cursor, SortBy, SortOrder, Name, Id, DivisionId]
);
listing_params!(
    QueueCodesQuery,
    "the queue's codes",
    [PageSize, PageNumber, Cursor, Name]
);

/// A queue as the API shows it, its division named.
pub(crate) async fn view(names: &mut DivisionNames<'_>, q: QueueRecord) -> Result<Queue, ApiError> {
    let division = names.name(q.division_id).await?;
    Ok(Queue {
        self_uri: format!("{PATH}/{}", q.id),
        id: q.id,
        name: q.name,
        division: DivisionRef::new(q.division_id, division),
        description: q.description,
        acw_settings: AcwSettings {
            wrapup_prompt: q.prompt.setting(),
            timeout_ms: q.timeout_ms,
        },
        date_created: wrapup_types::timestamp::from_millis(q.created_ms),
        date_modified: wrapup_types::timestamp::from_millis(q.modified_ms),
    })
}

/// The queue a path names, if the caller may see it.
pub(crate) async fn visible_queue(
    store: &dyn Store,
    principal: &Principal,
    raw: &str,
) -> Result<QueueRecord, ApiError> {
    let id = path_id(raw, Resource::Queue)?;
    store
        .get_queue(id)
        .await?
        .filter(|q| principal.sees(q.division_id))
        .or_not_found(Resource::Queue(raw))
}

/// The checked name, description and settings of a queue request.
fn check_fields(body: &QueueRequest) -> Result<(String, AcwSettings), ApiError> {
    let mut problems = Vec::new();
    let name = check_name("name", &body.name)
        .map_err(|p| problems.push(p))
        .ok();
    if let Some(Err(p)) = body.description.as_deref().map(check_description) {
        problems.push(p);
    }
    let settings = body.acw_settings.unwrap_or(AcwSettings {
        wrapup_prompt: AcwPrompt::Mandatory,
        timeout_ms: None,
    });
    if let Err(p) = check_acw_settings(&settings) {
        problems.push(p);
    }
    match name {
        Some(name) if problems.is_empty() => Ok((name, settings)),
        _ => Err(ApiError::new(problems)),
    }
}

const LIST_ERRORS: Errors = &[&[RequestQueryInvalid]];

/// List queues
///
/// Queues of the divisions granted to the token, by name (or `sortBy=id`), with their
/// after-call-work settings. Page with `pageNumber` or with `cursor`.
#[utoipa::path(get, path = "/api/v2/routing/queues", operation_id = "getRoutingQueues", tag = "queues",
    params(QueuesQuery),
    responses((status = 200, description = "A page of queues.", body = EntityListing<Queue>)),
    security(("oauth2" = ["wrapup-code:view"])),
    extensions(("x-error-codes" = json!(LIST_ERRORS))))]
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeView>,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<Queue>>, ApiError> {
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), QueuesQuery::PARAMS)?;
    let search = QueueSearch {
        search: q.search(),
        divisions: q.division_ids.clone(),
    };
    let found = store.search_queues(&principal.divisions, &search).await?;
    let mut names = DivisionNames::new(store.as_ref());
    let mut queues = Vec::with_capacity(found.items.len());
    for rec in found.items {
        queues.push(view(&mut names, rec).await?);
    }
    Ok(Json(q.listing(
        PATH,
        Found {
            total: found.total,
            items: queues,
        },
    )))
}

const CREATE_ERRORS: Errors = &[JSON_BODY, &[DivisionNotFound, QueueNameConflict]];

/// Create a queue
///
/// Genesys `CreateQueueRequest`: `name`, the division (`division.id`, or `divisionId`),
/// `acwSettings` (default `MANDATORY`); other fields of the Genesys model are ignored. Add
/// its codes with `POST …/queues/{queueId}/wrapupcodes`.
#[utoipa::path(post, path = "/api/v2/routing/queues", operation_id = "postRoutingQueues", tag = "queues",
    request_body = QueueRequest,
    responses((status = 200, description = "The new queue.", body = Queue)),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(CREATE_ERRORS))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    ApiJson(body): ApiJson<QueueRequest>,
) -> Result<Json<Queue>, ApiError> {
    let (name, settings) = check_fields(&body)?;
    let division_id = requested_division(body.division_id, body.division.as_ref().map(|d| d.id))?
        .ok_or_else(|| {
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestFieldMissing,
                "division is required and was not sent.",
            )
            .field("division")
            .hint("Send the queue's division as division: {\"id\": …} (Genesys) or divisionId."),
        )
    })?;
    visible::granted_division(store.as_ref(), &principal, division_id).await?;
    let now = clock.now_ms();
    let rec = QueueRecord {
        seq: 0,
        id: Uuid::new_v4(),
        name: name.clone(),
        division_id,
        description: body.description,
        prompt: settings.wrapup_prompt.prompt(),
        timeout_ms: settings.timeout_ms,
        code_ids: Vec::new(),
        created_ms: now,
        modified_ms: now,
    };
    let rec = store
        .create_queue(&rec)
        .await
        .or_name_taken(UniqueName::Queue(&name))?;
    Ok(Json(
        view(&mut DivisionNames::new(store.as_ref()), rec).await?,
    ))
}

const GET_ERRORS: Errors = &[&[QueueNotFound]];

/// Get a queue
#[utoipa::path(get, path = "/api/v2/routing/queues/{queueId}", operation_id = "getRoutingQueue", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id.")),
    responses((status = 200, description = "The queue.", body = Queue)),
    security(("oauth2" = ["wrapup-code:view"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn get(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeView>,
    Path(id): Path<String>,
) -> Result<Json<Queue>, ApiError> {
    let rec = visible_queue(store.as_ref(), &principal, &id).await?;
    Ok(Json(
        view(&mut DivisionNames::new(store.as_ref()), rec).await?,
    ))
}

const UPDATE_ERRORS: Errors = &[&[QueueNotFound], JSON_BODY, &[QueueNameConflict]];

/// Update a queue
///
/// Its name, description and `acwSettings` (left out: `MANDATORY`). The division, if sent,
/// must be the queue's. A change of settings applies to interactions created after it.
#[utoipa::path(put, path = "/api/v2/routing/queues/{queueId}", operation_id = "putRoutingQueue", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id.")),
    request_body = QueueRequest,
    responses((status = 200, description = "The updated queue.", body = Queue)),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(UPDATE_ERRORS))))]
pub async fn update(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<QueueRequest>,
) -> Result<Json<Queue>, ApiError> {
    let existing = visible_queue(store.as_ref(), &principal, &id).await?;
    let (name, settings) = check_fields(&body)?;
    stays_in_division(
        "Queue",
        existing.id,
        existing.division_id,
        requested_division(body.division_id, body.division.as_ref().map(|d| d.id))?,
        "Leave the division out, or create a queue in the other division.",
    )?;
    let rec = store
        .update_queue(
            existing.id,
            &name,
            body.description.as_deref(),
            settings.wrapup_prompt.prompt(),
            settings.timeout_ms,
            clock.now_ms(),
        )
        .await
        .or_name_taken(UniqueName::Queue(&name))?;
    Ok(Json(
        view(&mut DivisionNames::new(store.as_ref()), rec).await?,
    ))
}

/// Delete a queue
///
/// Its interactions keep its id and its settings; a wrap-up of them may then use any code
/// of their division.
#[utoipa::path(delete, path = "/api/v2/routing/queues/{queueId}", operation_id = "deleteRoutingQueue", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id.")),
    responses((status = 204, description = "Deleted.")),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn delete(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_queue(store.as_ref(), &principal, &id).await?;
    store
        .delete_queue(existing.id)
        .await
        .or_not_found(Resource::Queue(&id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The queue's codes that can be applied, matching `q`: one page, and how many in all.
pub(crate) async fn queue_codes(
    store: &dyn Store,
    principal: &Principal,
    queue: &QueueRecord,
    search: Search,
) -> Result<Found<WrapUpCodeView>, ApiError> {
    if queue.code_ids.is_empty() {
        return Ok(Found {
            total: 0,
            items: Vec::new(),
        });
    }
    let search = CodeSearch {
        search: Search {
            ids: queue.code_ids.clone(),
            ..search
        },
        divisions: vec![queue.division_id],
        include_archived: false,
    };
    let found = store.search_codes(&principal.divisions, &search).await?;
    let items = codes::views(store, found.items.into_iter().map(|r| r.code).collect()).await?;
    Ok(Found {
        total: found.total,
        items,
    })
}

const CODES_ERRORS: Errors = &[&[QueueNotFound, RequestQueryInvalid]];

/// List a queue's wrap-up codes
///
/// The codes an agent of the queue may use, by name (archived ones left out).
#[utoipa::path(get, path = "/api/v2/routing/queues/{queueId}/wrapupcodes", operation_id = "getRoutingQueueWrapupcodes", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id."), QueueCodesQuery),
    responses((status = 200, description = "A page of the queue's codes.", body = EntityListing<WrapUpCodeView>)),
    security(("oauth2" = ["wrapup-code:view"])),
    extensions(("x-error-codes" = json!(CODES_ERRORS))))]
pub async fn list_codes(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeView>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<WrapUpCodeView>>, ApiError> {
    let queue = visible_queue(store.as_ref(), &principal, &id).await?;
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), QueueCodesQuery::PARAMS)?;
    let found = queue_codes(store.as_ref(), &principal, &queue, q.search()).await?;
    Ok(Json(q.listing(
        &format!("{PATH}/{}/wrapupcodes", queue.id),
        found,
    )))
}

const ADD_CODES_ERRORS: Errors = &[&[
    QueueNotFound,
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    WrapupCodeNotFound,
    WrapupCodeArchived,
    WrapupCodeDivisionMismatch,
]];

/// Add wrap-up codes to a queue
///
/// A JSON array of `{"id": …}` (Genesys `WrapUpCodeReference`), codes of the queue's
/// division; codes it has already are kept. Answers the codes added.
#[utoipa::path(post, path = "/api/v2/routing/queues/{queueId}/wrapupcodes", operation_id = "postRoutingQueueWrapupcodes", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id.")),
    request_body = Vec<WrapUpCodeReference>,
    responses((status = 200, description = "The codes added.", body = Vec<WrapUpCodeView>)),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(ADD_CODES_ERRORS))))]
pub async fn add_codes(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Vec<WrapUpCodeView>>, ApiError> {
    let queue = visible_queue(store.as_ref(), &principal, &id).await?;
    let bytes = read_json_body(&headers, body).await?;
    let body: Vec<WrapUpCodeReference> = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::one(
            ErrorDetail::new(
                RequestBodyMalformed,
                format!("The body must be a JSON array of WrapUpCodeReference objects: {e}."),
            )
            .hint("Send the codes as [{\"id\": \"<code id>\"}, …]."),
        )
    })?;
    let mut problems = Vec::new();
    let mut added = Vec::new();
    for (n, reference) in body.iter().enumerate() {
        let field = format!("[{n}].id");
        let code = store
            .get_code(reference.id)
            .await?
            .map(|c| c.code)
            .filter(|c| principal.sees(c.division_id));
        let problem = match code {
            None => ErrorDetail::new(
                WrapupCodeNotFound,
                format!("No wrap-up code with id {} exists in the divisions this token can see.", reference.id),
            )
            .hint("List the division's codes with GET /api/v2/routing/wrapupcodes?divisionId=…"),
            Some(c) if c.archived => ErrorDetail::new(
                WrapupCodeArchived,
                format!("Wrap-up code {} ({}) is archived and can no longer be used.", c.id, c.name),
            )
            .hint("Add a code that is not archived."),
            Some(c) if c.division_id != queue.division_id => ErrorDetail::new(
                WrapupCodeDivisionMismatch,
                format!(
                    "Wrap-up code {} ({}) is in division {}, but queue \"{}\" is in division {}: a queue and its codes are in one division.",
                    c.id, c.name, c.division_id, queue.name, queue.division_id
                ),
            )
            .hint("Add codes of the queue's division, or create the code in it."),
            Some(c) => {
                added.push(c);
                continue;
            }
        };
        problems.push(problem.field(field));
    }
    if !problems.is_empty() {
        return Err(ApiError::new(problems).with_status(StatusCode::BAD_REQUEST));
    }
    store
        .change_queue_codes(
            queue.id,
            added.iter().map(|c| c.id).collect(),
            Vec::new(),
            clock.now_ms(),
        )
        .await
        .or_not_found(Resource::Queue(&id))?;
    Ok(Json(codes::views(store.as_ref(), added).await?))
}

const REMOVE_CODE_ERRORS: Errors = &[&[QueueNotFound, WrapupCodeNotFound]];

/// Remove a wrap-up code from a queue
///
/// The code itself is kept; the queue's agents can no longer use it.
#[utoipa::path(delete, path = "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}", operation_id = "deleteRoutingQueueWrapupcode", tag = "queues",
    params(("queueId" = Uuid, Path, description = "The queue's id."),
        ("codeId" = Uuid, Path, description = "The code's id.")),
    responses((status = 204, description = "Removed.")),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(REMOVE_CODE_ERRORS))))]
pub async fn remove_code(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path((id, code_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let queue = visible_queue(store.as_ref(), &principal, &id).await?;
    let code = path_id(&code_id, Resource::WrapUpCode)?;
    if !queue.code_ids.contains(&code) {
        return Err(ApiError::one(
            ErrorDetail::new(
                WrapupCodeNotFound,
                format!(
                    "Queue \"{}\" ({}) has no wrap-up code {code_id}.",
                    queue.name, queue.id
                ),
            )
            .hint(format!(
                "List the queue's codes with GET {PATH}/{}/wrapupcodes.",
                queue.id
            )),
        )
        .with_status(StatusCode::NOT_FOUND));
    }
    store
        .change_queue_codes(queue.id, Vec::new(), vec![code], clock.now_ms())
        .await
        .or_not_found(Resource::Queue(&id))?;
    Ok(StatusCode::NO_CONTENT)
}
