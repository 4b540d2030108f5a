//! The shapes wrapup and Genesys Cloud share at the same paths: wrap-up codes and divisions
//! as both read them (wrapup's fields and Genesys's side by side, one superset), the
//! paged listing both page through (Genesys `pageSize` + `pageNumber` with `total` and
//! the page URIs, and wrapup's `nextCursor`), and the code request both send.
//! docs/genesys.md explains the superset; docs/api.md documents every field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::genesys::DivisionRef;
use crate::{Division, WrapUpCode};

/// A wrap-up code as every response shows it: wrapup's fields and, beside them, the
/// Genesys `WrapupCode` fields (`division`, `selfUri`; `createdBy`, `dateCreated` and
/// `dateModified` are shared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WrapUpCodeView {
    #[serde(flatten)]
    pub code: WrapUpCode,
    /// The code's division, with its name.
    pub division: DivisionRef,
    /// `/api/v2/routing/wrapupcodes/{id}`.
    pub self_uri: String,
}

impl WrapUpCodeView {
    /// The view of `code`, whose division is named `division_name`.
    pub fn new(code: WrapUpCode, division_name: impl Into<String>) -> WrapUpCodeView {
        WrapUpCodeView {
            division: DivisionRef::new(code.division_id, division_name),
            self_uri: format!("/api/v2/routing/wrapupcodes/{}", code.id),
            code,
        }
    }
}

/// A division as `GET /api/v2/authorization/divisions` lists it: wrapup's fields and the
/// Genesys `AuthzDivision` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DivisionView {
    #[serde(flatten)]
    pub division: Division,
    /// Always `""`: wrapup divisions have no description (the JavaScript SDK's typing
    /// requires the field).
    pub description: String,
    /// Always `false`: wrapup has no home division.
    pub home_division: bool,
    /// `/api/v2/authorization/divisions/{id}`.
    pub self_uri: String,
}

impl From<Division> for DivisionView {
    fn from(division: Division) -> DivisionView {
        DivisionView {
            self_uri: format!("/api/v2/authorization/divisions/{}", division.id),
            division,
            description: String::new(),
            home_division: false,
        }
    }
}

/// One page of a listing, paged either way: by `pageNumber` (Genesys: `total`,
/// `pageCount` and the page URIs say where the others are) or by cursor (wrapup: pass
/// `nextCursor` as `cursor`). URIs are relative; `nextUri`, `previousUri` and
/// `nextCursor` are left out when there is no such page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityListing<T> {
    pub entities: Vec<T>,
    pub page_size: u32,
    /// The page, from 1.
    pub page_number: u64,
    /// Every entity that matches, on every page.
    pub total: u64,
    /// `ceil(total / pageSize)`; 0 when nothing matches.
    pub page_count: u64,
    pub first_uri: String,
    pub self_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_uri: Option<String>,
    pub last_uri: String,
    /// Pass it as `cursor` to get the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A reference to a division in a request body (Genesys `WritableStarrableDivision`):
/// only `id` is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DivisionIdRef {
    pub id: Uuid,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// The body of `POST` and `PUT /api/v2/routing/wrapupcodes[/{codeId}]`, in either dialect:
/// wrapup's `{"name", "divisionId", "description"}` or Genesys's `WrapupCodeRequest`
/// `{"name", "division": {"id"}, "description"}`. The read-only fields a client that reads
/// a code, edits it and sends it back includes (`id`, `dateCreated`, `selfUri`, …) are
/// accepted and ignored; `id`, when sent, must be the code's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Upsell", "division": {"id": "00000000-0000-4000-8000-0000000000a1"}, "description": "The customer bought more."}))]
pub struct WrapUpCodeRequest {
    /// 1 to 100 characters, unique within the division ignoring case.
    pub name: String,
    /// The division (wrapup's spelling). Required on create, unless `division` is sent;
    /// on update it must be the code's division, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    /// The division (Genesys's spelling); send one of `divisionId` and `division`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionIdRef>,
    /// At most 1024 characters. On update, leaving it out removes the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Read-only: must be the code's id if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
    /// Read-only: ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

impl WrapUpCodeRequest {
    /// A request with only these fields (wrapup's spelling).
    pub fn new(name: impl Into<String>, division_id: Option<Uuid>) -> WrapUpCodeRequest {
        WrapUpCodeRequest {
            name: name.into(),
            division_id,
            division: None,
            description: None,
            id: None,
            archived: None,
            date_created: None,
            date_modified: None,
            created_by: None,
            modified_by: None,
            self_uri: None,
        }
    }
}
