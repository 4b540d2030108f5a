//! `POST /api/v2/oauth/clients`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;
use wrapup_domain::names::check_name;
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    ClientCredentials, CreateClient, DivisionGrant, ErrorCode, ErrorDetail, ScopeSet,
};

use wrapup_store::Store;

use super::{new_client, Admin, Authentication, Authorized};
use crate::clock::Clock;
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::ApiJson;
use crate::openapi::errors::{codes, JSON_BODY};

/// Create an OAuth client
///
/// The secret is in this response only; it is stored as a hash and cannot be shown again.
#[utoipa::path(post, path = "/api/v2/oauth/clients", operation_id = "createOAuthClient", tag = "oauth",
    request_body = CreateClient,
    responses((status = 201, description = "The new client and its secret.", body = ClientCredentials)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, &[DivisionNotFound]])))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(auth): State<Arc<Authentication>>,
    _: Authorized<Admin>,
    ApiJson(body): ApiJson<CreateClient>,
) -> Result<(StatusCode, Json<ClientCredentials>), ApiError> {
    let name = check_name("name", &body.name).map_err(ApiError::one)?;
    let scopes = ScopeSet::parse(&body.scopes.join(" ")).map_err(|s| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::RequestFieldInvalid, format!("{s} is not a scope this server knows."))
                .field("scopes")
                .hint("Scopes are interaction:view, interaction:write, interaction:manage, wrapup-code:view, wrapup-code:manage and admin."),
        )
    })?;
    if let DivisionGrant::Only(ids) = &body.divisions {
        for id in ids {
            store
                .get_division(*id)
                .await?
                .or_not_found(Resource::DivisionToGrant(*id))?;
        }
    }
    let (id, divisions, now) = (Uuid::new_v4(), body.divisions.clone(), clock.now_ms());
    let (record, secret) = auth
        .hashing
        .run(move || new_client(id, &name, scopes, divisions, now, None))
        .await
        .map_err(|_busy| {
            ApiError::one(
                ErrorDetail::new(
                    ErrorCode::ServiceUnavailable,
                    "The server is hashing too many secrets right now; nothing was created.",
                )
                .hint("Retry in a second.")
                .retry_after_ms(1000),
            )
        })?;
    store.create_client(&record).await?;
    Ok((
        StatusCode::CREATED,
        Json(ClientCredentials {
            client_id: record.id,
            client_secret: secret,
            name: record.name,
            scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
            divisions: record.divisions,
        }),
    ))
}
