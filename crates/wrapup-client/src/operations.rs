//! One typed method per API operation.

use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;
use wrapup_types::{
    BulkWrapUp, BulkWrapUpResponse, BulkWrapUpResult, Channel, ClientCredentials, CreateClient,
    CreateDivision, CreateInteraction, CreateUser, CreateWrapUpCode, Division, EntityListing,
    InspectedRequest, Interaction, InteractionState, Page, Queue, QueueRequest, SetState,
    SortOrder, TargetState, UpdateWrapUpCode, User, WrapUp as AppliedWrapUp, WrapUpCode,
    WrapUpCodeReference, WrapUpCodeView, WrapUpRequest,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::response::RawResponse;

/// Filters of [`Client::list_interactions`].
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<InteractionState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapped_up: Option<bool>,
    /// `Desc`: newest first (the server's default is oldest first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Filters of [`Client::list_codes`].
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    /// Exact name, ignoring case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn with_query<Q: Serialize>(path: &str, query: &Q) -> String {
    let qs = serde_urlencoded::to_string(query).expect("query parameters serialise");
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

impl Client {
    /// A GET that needs no token (so it works whatever the credentials).
    async fn public_get(&self, path: &str) -> Result<RawResponse> {
        let request = self.http.get(format!("{}{}", self.base, path)).build()?;
        self.execute(request, None).await
    }

    /// `GET /healthz`: `Ok` once the server and its store answer.
    pub async fn health(&self) -> Result<()> {
        let raw = self.public_get("/healthz").await?;
        let message = match raw.status.as_u16() {
            200..=299 => return Ok(()),
            404 => format!(
                "{}/healthz is not there: is {} the wrapup server's root URL (e.g. http://127.0.0.1:8080, without /api/v2)?",
                self.base, self.base
            ),
            _ => "the server reports it is unhealthy (its store is not answering)".into(),
        };
        Err(Error::Unexpected {
            status: raw.status.as_u16(),
            message,
        })
    }

    pub async fn openapi(&self) -> Result<serde_json::Value> {
        self.call::<(), _>(Method::GET, "/api/v2/openapi.json", None)
            .await
    }

    /// `GET /metrics`, as text.
    pub async fn metrics(&self) -> Result<String> {
        let raw = self.public_get("/metrics").await?;
        Ok(String::from_utf8_lossy(&raw.body).into_owned())
    }

    pub async fn list_divisions(&self) -> Result<Page<Division>> {
        self.call::<(), _>(
            Method::GET,
            "/api/v2/authorization/divisions?pageSize=500",
            None,
        )
        .await
    }

    pub async fn create_division(&self, name: &str) -> Result<Division> {
        self.call(
            Method::POST,
            "/api/v2/authorization/divisions",
            Some(&CreateDivision { name: name.into() }),
        )
        .await
    }

    /// The first 500 queues, by name.
    pub async fn list_queues(&self) -> Result<EntityListing<Queue>> {
        self.call::<(), _>(Method::GET, "/api/v2/routing/queues?pageSize=500", None)
            .await
    }

    pub async fn create_queue(&self, body: &QueueRequest) -> Result<Queue> {
        self.call(Method::POST, "/api/v2/routing/queues", Some(body))
            .await
    }

    /// Adds codes to a queue; answers the codes added.
    pub async fn add_queue_codes(
        &self,
        queue: Uuid,
        codes: &[Uuid],
    ) -> Result<Vec<WrapUpCodeView>> {
        let body: Vec<WrapUpCodeReference> = codes
            .iter()
            .map(|id| WrapUpCodeReference { id: *id })
            .collect();
        self.call(
            Method::POST,
            &format!("/api/v2/routing/queues/{queue}/wrapupcodes"),
            Some(&body),
        )
        .await
    }

    /// The first 500 codes of a queue, by name.
    pub async fn queue_codes(&self, queue: Uuid) -> Result<EntityListing<WrapUpCodeView>> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/routing/queues/{queue}/wrapupcodes?pageSize=500"),
            None,
        )
        .await
    }

    /// The first 500 agents, by name.
    pub async fn list_users(&self) -> Result<EntityListing<User>> {
        self.call::<(), _>(Method::GET, "/api/v2/users?pageSize=500", None)
            .await
    }

    pub async fn create_user(&self, body: &CreateUser) -> Result<User> {
        self.call(Method::POST, "/api/v2/users", Some(body)).await
    }

    pub async fn create_client(&self, body: &CreateClient) -> Result<ClientCredentials> {
        self.call(Method::POST, "/api/v2/oauth/clients", Some(body))
            .await
    }

    pub async fn list_codes(&self, query: &CodeQuery) -> Result<Page<WrapUpCode>> {
        let path = with_query("/api/v2/routing/wrapupcodes", query);
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn create_code(&self, body: &CreateWrapUpCode) -> Result<WrapUpCode> {
        self.call(Method::POST, "/api/v2/routing/wrapupcodes", Some(body))
            .await
    }

    pub async fn get_code(&self, id: Uuid) -> Result<WrapUpCode> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            None,
        )
        .await
    }

    pub async fn update_code(&self, id: Uuid, body: &UpdateWrapUpCode) -> Result<WrapUpCode> {
        self.call(
            Method::PUT,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            Some(body),
        )
        .await
    }

    /// `DELETE /api/v2/routing/wrapupcodes/{id}`: deletes (archives) the code; it is no
    /// longer readable by id, only listed with `include_archived`.
    pub async fn archive_code(&self, id: Uuid) -> Result<()> {
        self.call_raw::<()>(
            Method::DELETE,
            &format!("/api/v2/routing/wrapupcodes/{id}"),
            None,
        )
        .await?;
        Ok(())
    }

    /// The code with this id, deleted (archived) or not: a deleted code is not readable by
    /// id, so it is looked for in the listing with `include_archived` (of `division`, when
    /// known). The 404 of the read when it is not there either.
    pub async fn get_code_even_archived(
        &self,
        id: Uuid,
        division: Option<Uuid>,
    ) -> Result<WrapUpCode> {
        let missing = match self.get_code(id).await {
            Err(e) if e.code() == Some(wrapup_types::ErrorCode::WrapupCodeNotFound) => e,
            other => return other,
        };
        let mut query = CodeQuery {
            division_id: division,
            include_archived: Some(true),
            page_size: Some(500),
            ..Default::default()
        };
        loop {
            let page = self.list_codes(&query).await?;
            if let Some(code) = page.entities.into_iter().find(|c| c.id == id) {
                return Ok(code);
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return Err(missing),
            }
        }
    }

    pub async fn create_interaction(
        &self,
        division_id: Uuid,
        channel: Channel,
    ) -> Result<Interaction> {
        self.call(
            Method::POST,
            "/api/v2/interactions",
            Some(&CreateInteraction {
                division_id,
                channel,
                queue_id: None,
                agent_id: None,
            }),
        )
        .await
    }

    pub async fn get_interaction(&self, id: Uuid) -> Result<Interaction> {
        self.call::<(), _>(Method::GET, &format!("/api/v2/interactions/{id}"), None)
            .await
    }

    pub async fn list_interactions(&self, query: &InteractionQuery) -> Result<Page<Interaction>> {
        let path = with_query("/api/v2/interactions", query);
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn set_state(&self, id: Uuid, state: TargetState) -> Result<Interaction> {
        self.call(
            Method::POST,
            &format!("/api/v2/interactions/{id}/state"),
            Some(&SetState {
                state,
                agent_id: None,
            }),
        )
        .await
    }

    /// `PUT /api/v2/interactions/{id}/wrap-up` with any body (see [`Client::apply`] for
    /// the careful way).
    pub async fn put_wrapup(&self, id: Uuid, body: &WrapUpRequest) -> Result<()> {
        self.call_raw(
            Method::PUT,
            &format!("/api/v2/interactions/{id}/wrap-up"),
            Some(body),
        )
        .await?;
        Ok(())
    }

    pub async fn get_wrapup(&self, id: Uuid) -> Result<AppliedWrapUp> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/interactions/{id}/wrap-up"),
            None,
        )
        .await
    }

    /// `POST /api/v2/interactions/wrap-ups`: applies up to
    /// [`MAX_BULK_ITEMS`](wrapup_domain::bulk_wrapups::MAX_BULK_ITEMS) wrap-ups in one
    /// request and one transaction; one result per item, in order (`applied`, `unchanged`,
    /// or `refused` with the details the single PUT would give). Sending the same array
    /// again is safe: what is in place answers `unchanged`.
    pub async fn apply_wrapups(&self, items: &[BulkWrapUp]) -> Result<Vec<BulkWrapUpResult>> {
        let answer: BulkWrapUpResponse = self
            .call(Method::POST, "/api/v2/interactions/wrap-ups", Some(items))
            .await?;
        Ok(answer.results)
    }

    pub async fn wrapup_history(&self, id: Uuid) -> Result<Vec<AppliedWrapUp>> {
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/interactions/{id}/wrap-up/history"),
            None,
        )
        .await
    }

    /// `GET /api/v2/inspector/requests` (admin): recent requests, newest first.
    pub async fn inspected_requests(
        &self,
        limit: Option<u32>,
        status: Option<&str>,
        path: Option<&str>,
    ) -> Result<Vec<InspectedRequest>> {
        #[derive(Serialize)]
        struct Query<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            limit: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            path: Option<&'a str>,
        }
        let path = with_query(
            "/api/v2/inspector/requests",
            &Query {
                limit,
                status,
                path,
            },
        );
        let page: Page<InspectedRequest> = self.call::<(), _>(Method::GET, &path, None).await?;
        Ok(page.entities)
    }
}
