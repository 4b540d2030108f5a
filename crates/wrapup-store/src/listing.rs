//! Listings, paged by listing position (`seq`): the query of one page, with its filters and
//! the caller's division grant, is written here once, against [`PageQuery`], which each
//! backend implements over its own query builder (placeholders, how a list of ids is bound
//! and how `false` is spelled differ).

use uuid::Uuid;
use wrapup_domain::names::name_key;
use wrapup_types::DivisionGrant;

use crate::records::{CodeFilter, InteractionFilter, PageRequest};
use crate::schema::{code_columns, division_columns, interaction_columns};

/// A query being built: SQL text and the values bound to its placeholders.
pub(crate) trait PageQuery: Sized {
    /// `false` in the backend's SQL, compared with a boolean column.
    const FALSE: &'static str;
    fn new() -> Self;
    fn push(&mut self, sql: &str);
    fn bind_int(&mut self, value: i64);
    fn bind_uuid(&mut self, value: Uuid);
    fn bind_text(&mut self, value: String);
    /// Appends ` AND {column}` is one of `ids` (not empty).
    fn push_one_of(&mut self, column: &str, ids: &[Uuid]);
}

/// The query counting the interactions of the granted divisions by division, state and
/// finalized (rows decoded by [`crate::schema::state_count`]). `None` when the grant lets
/// the caller see nothing.
pub(crate) fn count_query<Q: PageQuery>(grant: &DivisionGrant) -> Option<Q> {
    if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
        return None;
    }
    let mut q = Q::new();
    q.push("SELECT division_id, state, finalized, COUNT(*) FROM interactions WHERE seq > 0");
    if let DivisionGrant::Only(ids) = grant {
        q.push_one_of("division_id", ids);
    }
    q.push(" GROUP BY division_id, state, finalized");
    Some(q)
}

/// What is listed.
pub(crate) enum Listing<'a> {
    /// Rows decoded by [`crate::schema::division`].
    Divisions,
    /// Rows decoded by [`crate::schema::code`].
    Codes(&'a CodeFilter),
    /// Rows decoded by [`crate::schema::interaction`].
    Interactions(&'a InteractionFilter),
}

impl Listing<'_> {
    /// The query of one page: the rows after position `page.after` that pass the filters,
    /// in the granted divisions, in listing order (creation order, or its reverse for
    /// interactions listed newest first), at most `page.limit`. `None` when the grant lets
    /// the caller see nothing (the page is empty).
    pub(crate) fn page_query<Q: PageQuery>(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Option<Q> {
        if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
            return None;
        }
        let newest_first = matches!(self, Listing::Interactions(f) if f.newest_first);
        let mut q = Q::new();
        q.push(match self {
            Listing::Divisions => concat!("SELECT ", division_columns!(), " FROM divisions"),
            Listing::Codes(_) => concat!("SELECT ", code_columns!(), " FROM wrapup_codes"),
            Listing::Interactions(_) => {
                concat!("SELECT ", interaction_columns!(), " FROM interactions")
            }
        });
        if newest_first {
            q.push(" WHERE seq < ");
            q.bind_int(page.after.unwrap_or(i64::MAX));
        } else {
            q.push(" WHERE seq > ");
            q.bind_int(page.after.unwrap_or(0));
        }
        let grant_column = match self {
            Listing::Divisions => "id",
            Listing::Codes(filter) => {
                if let Some(d) = filter.division {
                    q.push(" AND division_id = ");
                    q.bind_uuid(d);
                }
                if let Some(name) = &filter.name {
                    q.push(" AND name_key = ");
                    q.bind_text(name_key(name));
                }
                if !filter.include_archived {
                    q.push(" AND archived = ");
                    q.push(Q::FALSE);
                }
                "division_id"
            }
            Listing::Interactions(filter) => {
                if let Some(s) = filter.state {
                    q.push(" AND state = ");
                    q.bind_text(s.as_str().to_string());
                }
                if let Some(d) = filter.division {
                    q.push(" AND division_id = ");
                    q.bind_uuid(d);
                }
                if let Some(c) = filter.channel {
                    q.push(" AND channel = ");
                    q.bind_text(c.as_str().to_string());
                }
                match filter.wrapped_up {
                    Some(true) => q.push(" AND wrapup_code_id IS NOT NULL"),
                    Some(false) => q.push(" AND wrapup_code_id IS NULL"),
                    None => {}
                }
                "division_id"
            }
        };
        if let DivisionGrant::Only(ids) = grant {
            q.push_one_of(grant_column, ids);
        }
        q.push(if newest_first {
            " ORDER BY seq DESC LIMIT "
        } else {
            " ORDER BY seq LIMIT "
        });
        q.bind_int(i64::from(page.limit));
        Some(q)
    }
}
