//! The query and the page of the listings wrapup shares with Genesys Cloud (wrap-up codes,
//! divisions): Genesys paging (`pageSize`, `pageNumber`, `total`, the page URIs), sorting
//! and filters, and wrapup's `cursor`/`nextCursor`, over one ordered result
//! (docs/api.md#listings). The filters arrive as both SDKs send them: a list parameter
//! comma-joined in one value (Python percent-encodes the comma, JavaScript does not) or
//! repeated; `+` is a space; an empty value (what JavaScript sends for `null`) is no filter.
//! Each parameter is read and documented once ([`Param`]); each listing says which it
//! takes with `listing_params!`. `cursor.rs` is the cursor and page size of every list.

pub mod cursor;

use serde_json::{json, Value};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Required, Schema};
use uuid::Uuid;
use wrapup_store::{Found, Search, SortKey};
use wrapup_types::{EntityListing, ErrorCode, ErrorDetail};

use self::cursor::{
    decode_offset, encode_offset, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OFFSET_CURSOR_PATTERN,
};
use crate::error::ApiError;

/// The largest `pageNumber`.
const MAX_PAGE_NUMBER: u64 = 1_000_000_000;

/// A parameter a listing may accept: its name, how it is read ([`ListingQuery::parse`])
/// and how it is documented ([`Param::parameter`]), written once for every listing. Which
/// parameters a listing takes is said once too, with `listing_params!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    PageSize,
    PageNumber,
    Cursor,
    SortBy,
    SortOrder,
    Name,
    Id,
    DivisionId,
    IncludeArchived,
}

impl Param {
    const ALL: [Param; 9] = [
        Param::PageSize,
        Param::PageNumber,
        Param::Cursor,
        Param::SortBy,
        Param::SortOrder,
        Param::Name,
        Param::Id,
        Param::DivisionId,
        Param::IncludeArchived,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Param::PageSize => "pageSize",
            Param::PageNumber => "pageNumber",
            Param::Cursor => "cursor",
            Param::SortBy => "sortBy",
            Param::SortOrder => "sortOrder",
            Param::Name => "name",
            Param::Id => "id",
            Param::DivisionId => "divisionId",
            Param::IncludeArchived => "includeArchived",
        }
    }

    /// The parameter in the OpenAPI document, for a listing of `things` (e.g. `codes`). An
    /// empty value is allowed wherever it is read as no value.
    pub fn parameter(self, things: &str) -> Parameter {
        let empty = json!({"type": "string", "maxLength": 0});
        let or_empty = |schema: Value| json!({"anyOf": [schema, empty]});
        let ids = json!({
            "type": "array",
            "items": {"anyOf": [{"type": "string", "format": "uuid"}, empty]}
        });
        let (description, schema) = match self {
            Param::PageSize => (
                format!("Entities per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."),
                or_empty(json!({
                    "type": "integer", "format": "int32", "maximum": MAX_PAGE_SIZE, "minimum": 1
                })),
            ),
            Param::PageNumber => (
                "The page, from 1 (default 1). Not with `cursor`.".into(),
                or_empty(json!({
                    "type": "integer", "format": "int64", "maximum": MAX_PAGE_NUMBER, "minimum": 1
                })),
            ),
            Param::Cursor => (
                "The `nextCursor` of the previous page. Not with `pageNumber`.".into(),
                json!({"type": "string", "pattern": OFFSET_CURSOR_PATTERN}),
            ),
            Param::SortBy => (
                "`name` (default) or `id`.".into(),
                or_empty(json!({"type": "string", "enum": ["name", "id"]})),
            ),
            Param::SortOrder => (
                "`ascending` (default) or `descending`, ignoring case.".into(),
                or_empty(json!({
                    "type": "string", "enum": ["ascending", "descending", "asc", "desc"]
                })),
            ),
            Param::Name => (
                format!("Only {things} with this name, ignoring case; `*` matches any run of characters."),
                json!({"type": "string"}),
            ),
            Param::Id => (
                format!("Only these {things}: ids, comma-separated or the parameter repeated."),
                ids,
            ),
            Param::DivisionId => (
                format!("Only {things} of these divisions: ids, comma-separated or the parameter repeated."),
                ids,
            ),
            Param::IncludeArchived => (
                format!("Include archived (deleted) {things} (default false)."),
                or_empty(json!({"type": "boolean"})),
            ),
        };
        ParameterBuilder::new()
            .name(self.name())
            .parameter_in(ParameterIn::Query)
            .description(Some(description))
            .required(Required::False)
            .schema(Some(
                serde_json::from_value::<RefOr<Schema>>(schema).expect("a parameter's schema"),
            ))
            .build()
    }
}

/// A listing's query parameters, declared once: `listing_params!(CodesQuery, "codes",
/// [PageSize, …])` makes `CodesQuery`, whose `PARAMS` the handler parses with
/// ([`ListingQuery::parse`]) and which documents them (`params(CodesQuery)` in its
/// `#[utoipa::path]`).
macro_rules! listing_params {
    ($name:ident, $things:literal, [$($param:ident),* $(,)?]) => {
        #[doc = concat!("The query parameters of the listing of ", $things, ".")]
        pub struct $name;

        impl $name {
            pub const PARAMS: &'static [$crate::listing::Param] =
                &[$($crate::listing::Param::$param),*];
        }

        impl utoipa::IntoParams for $name {
            fn into_params(
                _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
            ) -> Vec<utoipa::openapi::path::Parameter> {
                Self::PARAMS.iter().map(|p| p.parameter($things)).collect()
            }
        }
    };
}
pub(crate) use listing_params;

/// A listing's query, checked.
#[derive(Debug, Clone)]
pub struct ListingQuery {
    pub page_size: u32,
    /// How many matches come before this page.
    pub offset: u64,
    pub sort: SortKey,
    pub descending: bool,
    pub name: Option<String>,
    pub ids: Vec<Uuid>,
    pub division_ids: Vec<Uuid>,
    pub include_archived: bool,
}

fn invalid(param: &str, message: String, hint: &str) -> ApiError {
    ApiError::one(
        ErrorDetail::new(ErrorCode::RequestQueryInvalid, message)
            .field(param)
            .hint(hint),
    )
}

fn number(
    param: Param,
    value: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            let name = param.name();
            invalid(
                name,
                format!(
                    "{name} must be a whole number from {} to {}; got \"{value}\".",
                    range.start(),
                    range.end()
                ),
                "Use pageSize up to 500 and pageNumber from 1, or follow nextCursor for more.",
            )
        })
}

fn uuids(param: Param, value: &str, into: &mut Vec<Uuid>) -> Result<(), ApiError> {
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = Uuid::parse_str(item).ok().filter(|_| item.len() == 36).ok_or_else(|| {
            let name = param.name();
            invalid(
                name,
                format!("{name} must be a list of ids (UUIDs), comma-separated or repeated; \"{item}\" is not one."),
                "Send e.g. ?id=<uuid>,<uuid> or ?id=<uuid>&id=<uuid>.",
            )
        })?;
        into.push(id);
    }
    Ok(())
}

impl ListingQuery {
    /// Parses a raw query string; `accepted` are the parameters this listing takes.
    pub fn parse(query: &str, accepted: &[Param]) -> Result<ListingQuery, ApiError> {
        let mut q = ListingQuery {
            page_size: DEFAULT_PAGE_SIZE,
            offset: 0,
            sort: SortKey::Name,
            descending: false,
            name: None,
            ids: Vec::new(),
            division_ids: Vec::new(),
            include_archived: false,
        };
        let (mut page_number, mut cursor) = (None, None);
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            // An empty value is no value: the JavaScript SDK sends `name=` for `null`.
            if value.is_empty() && Param::ALL.iter().any(|p| p.name() == key) {
                continue;
            }
            let param = Param::ALL
                .into_iter()
                .find(|p| p.name() == key && accepted.contains(p))
                .ok_or_else(|| {
                    let names: Vec<&str> = accepted.iter().map(|p| p.name()).collect();
                    invalid(
                        &key,
                        format!(
                            "{key} is not a parameter of this listing; it accepts {}.",
                            names.join(", ")
                        ),
                        "See the operation's parameters in GET /api/v2/openapi.json.",
                    )
                })?;
            match param {
                Param::PageSize => {
                    q.page_size = number(param, &value, 1..=u64::from(MAX_PAGE_SIZE))? as u32
                }
                Param::PageNumber => {
                    page_number = Some(number(param, &value, 1..=MAX_PAGE_NUMBER)?)
                }
                Param::Cursor => cursor = Some(decode_offset(&value)?),
                Param::SortBy => {
                    q.sort = match value.to_ascii_lowercase().as_str() {
                        "name" => SortKey::Name,
                        "id" => SortKey::Id,
                        _ => {
                            return Err(invalid(
                                "sortBy",
                                format!("sortBy must be name or id; got \"{value}\"."),
                                "Leave sortBy out to sort by name.",
                            ))
                        }
                    }
                }
                Param::SortOrder => {
                    q.descending = match value.to_ascii_lowercase().as_str() {
                        "ascending" | "asc" => false,
                        "descending" | "desc" => true,
                        _ => {
                            return Err(invalid(
                                "sortOrder",
                                format!(
                                    "sortOrder must be ascending or descending; got \"{value}\"."
                                ),
                                "Leave sortOrder out for ascending.",
                            ))
                        }
                    }
                }
                Param::Name => q.name = Some(value.into_owned()),
                Param::Id => uuids(param, &value, &mut q.ids)?,
                Param::DivisionId => uuids(param, &value, &mut q.division_ids)?,
                Param::IncludeArchived => {
                    q.include_archived = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(invalid(
                                "includeArchived",
                                format!("includeArchived must be true or false; got \"{value}\"."),
                                "Send includeArchived=true to list archived codes too.",
                            ))
                        }
                    }
                }
            }
        }
        // A cursor is the position a previous page handed out: it wins over a pageNumber
        // sent with it (an SDK that always sends pageNumber can still follow nextCursor).
        q.offset = match (page_number, cursor) {
            (_, Some(offset)) => offset,
            (Some(n), None) => (n - 1).saturating_mul(u64::from(q.page_size)),
            (None, None) => 0,
        };
        Ok(q)
    }

    /// The store's search for this query.
    pub fn search(&self) -> Search {
        Search {
            ids: self.ids.clone(),
            name: self.name.clone(),
            sort: self.sort,
            descending: self.descending,
            offset: self.offset,
            limit: self.page_size,
        }
    }

    /// The page number of this query's first match (a cursor need not fall on a page
    /// boundary of this page size; its page is the one the first match is on).
    fn page_number(&self) -> u64 {
        self.offset / u64::from(self.page_size) + 1
    }

    /// The URI of page `n` of this query at `path`, with its filters, normalised.
    fn uri(&self, path: &str, n: u64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("pageSize", &self.page_size.to_string())
            .append_pair("pageNumber", &n.to_string())
            .append_pair(
                "sortBy",
                if self.sort == SortKey::Id {
                    "id"
                } else {
                    "name"
                },
            )
            .append_pair(
                "sortOrder",
                if self.descending {
                    "descending"
                } else {
                    "ascending"
                },
            );
        if let Some(name) = &self.name {
            query.append_pair("name", name);
        }
        let list = |ids: &[Uuid]| {
            ids.iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        if !self.ids.is_empty() {
            query.append_pair("id", &list(&self.ids));
        }
        if !self.division_ids.is_empty() {
            query.append_pair("divisionId", &list(&self.division_ids));
        }
        if self.include_archived {
            query.append_pair("includeArchived", "true");
        }
        format!("{path}?{}", query.finish())
    }

    /// The page of `found` at `path`.
    pub fn listing<T>(&self, path: &str, found: Found<T>) -> EntityListing<T> {
        let size = u64::from(self.page_size);
        let page_number = self.page_number();
        let page_count = found.total.div_ceil(size);
        let has_next = self.offset.saturating_add(size) < found.total;
        EntityListing {
            entities: found.items,
            page_size: self.page_size,
            page_number,
            total: found.total,
            page_count,
            first_uri: self.uri(path, 1),
            self_uri: self.uri(path, page_number),
            next_uri: has_next.then(|| self.uri(path, page_number + 1)),
            previous_uri: (page_number > 1).then(|| self.uri(path, page_number - 1)),
            last_uri: self.uri(path, page_count.max(1)),
            next_cursor: has_next.then(|| encode_offset(self.offset + size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Walking the pages by number, or by cursor, visits every match once, in order, and
        /// the page fields say where the other pages are.
        #[test]
        fn every_walk_visits_each_match_once(total in 0u64..400, size in 1u32..60) {
            let items: Vec<u64> = (0..total).collect();
            let page_of = |q: &ListingQuery| {
                let start = q.offset.min(total) as usize;
                let end = (q.offset + u64::from(q.page_size)).min(total) as usize;
                q.listing("/p", Found { total, items: items[start..end].to_vec() })
            };
            let mut by_number = Vec::new();
            let first = page_of(&ListingQuery::parse(&format!("pageSize={size}"), ALL).unwrap());
            prop_assert_eq!(first.page_count, total.div_ceil(u64::from(size)));
            for n in 1..=first.page_count.max(1) {
                let page = page_of(&ListingQuery::parse(&format!("pageSize={size}&pageNumber={n}"), ALL).unwrap());
                prop_assert_eq!(page.next_uri.is_some(), n < page.page_count);
                prop_assert_eq!(page.previous_uri.is_some(), n > 1);
                by_number.extend(page.entities);
            }
            prop_assert_eq!(&by_number, &items);
            let mut by_cursor = Vec::new();
            let mut query = format!("pageSize={size}");
            loop {
                let page = page_of(&ListingQuery::parse(&query, ALL).unwrap());
                by_cursor.extend(page.entities);
                match page.next_cursor {
                    Some(c) => query = format!("pageSize={size}&cursor={c}"),
                    None => break,
                }
            }
            prop_assert_eq!(by_cursor, items);
        }
    }

    const ALL: &[Param] = &Param::ALL;

    #[test]
    fn both_sdks_spellings_of_a_list_are_read() {
        let (a, b) = (
            "00000000-0000-4000-8000-0000000000a1",
            "00000000-0000-4000-8000-0000000000a2",
        );
        for query in [
            format!("divisionId={a}%2C{b}"),
            format!("divisionId={a},{b}"),
            format!("divisionId={a}&divisionId={b}"),
        ] {
            let q = ListingQuery::parse(&query, ALL).unwrap();
            assert_eq!(q.division_ids.len(), 2, "{query}");
        }
        let q = ListingQuery::parse("name=Sa%2A+le&pageSize=2&pageNumber=3", ALL).unwrap();
        assert_eq!((q.name.as_deref(), q.offset), (Some("Sa* le"), 4));
        let q = ListingQuery::parse("name=&cursor=&pageSize=&pageNumber=2", ALL).unwrap();
        assert_eq!((q.name, q.offset), (None, 25), "empty values are no values");
    }

    #[test]
    fn refusals_name_the_parameter() {
        for (query, param) in [
            ("pageSize=0", "pageSize"),
            ("pageNumber=0", "pageNumber"),
            ("sortBy=colour", "sortBy"),
            ("sortOrder=up", "sortOrder"),
            ("id=7", "id"),
            ("cursor=nope", "cursor"),
            ("colour=red", "colour"),
        ] {
            let e = ListingQuery::parse(query, ALL).unwrap_err();
            assert_eq!(e.details[0].field_name.as_deref(), Some(param), "{query}");
        }
        let e = ListingQuery::parse("includeArchived=maybe", ALL).unwrap_err();
        assert_eq!(e.details[0].field_name.as_deref(), Some("includeArchived"));
        let e = ListingQuery::parse("includeArchived=true", &[Param::PageSize]).unwrap_err();
        assert!(e.details[0].message.contains("it accepts pageSize"));
    }

    #[test]
    fn a_cursor_wins_over_a_page_number() {
        let cursor = encode_offset(25);
        let q =
            ListingQuery::parse(&format!("cursor={cursor}&pageNumber=2&pageSize=10"), ALL).unwrap();
        assert_eq!(q.search().offset, 25);
    }

    #[test]
    fn the_page_uris_and_the_cursor() {
        let q = ListingQuery::parse("pageSize=2&pageNumber=2&name=S*", ALL).unwrap();
        let page = q.listing(
            "/p",
            Found {
                total: 5,
                items: vec![1, 2],
            },
        );
        assert_eq!((page.page_number, page.page_count), (2, 3));
        assert_eq!(
            page.self_uri,
            "/p?pageSize=2&pageNumber=2&sortBy=name&sortOrder=ascending&name=S*"
        );
        assert!(page.previous_uri.unwrap().contains("pageNumber=1"));
        assert!(page.last_uri.contains("pageNumber=3"));
        let next = ListingQuery::parse(
            &format!("pageSize=2&cursor={}", page.next_cursor.unwrap()),
            ALL,
        )
        .unwrap();
        assert_eq!(next.offset, 4);
        let last = next.listing(
            "/p",
            Found {
                total: 5,
                items: vec![5],
            },
        );
        assert_eq!(
            (last.page_number, last.next_uri, last.next_cursor),
            (3, None, None)
        );
        let empty = ListingQuery::parse("", ALL).unwrap().listing::<u8>(
            "/p",
            Found {
                total: 0,
                items: vec![],
            },
        );
        assert_eq!((empty.page_count, empty.previous_uri.is_none()), (0, true));
        assert!(empty.last_uri.contains("pageNumber=1"));
    }
}
