//! Listings, paged by listing position (`seq`), and searches, ordered by name or id and
//! paged by offset: the queries, with their filters and the caller's division grant, are
//! written here once, against [`PageQuery`], which each backend implements over its own
//! query builder (placeholders, how a list of ids is bound, how `false` is spelled and how
//! text is ordered differ).

use uuid::Uuid;
use wrapup_domain::names::name_key;
use wrapup_types::DivisionGrant;

use crate::records::{
    CodeFilter, CodeSearch, InteractionFilter, PageRequest, QueueSearch, Search, SortKey,
};
use crate::schema::{
    code_columns, division_columns, interaction_columns, queue_columns, user_columns,
};

/// A query being built: SQL text and the values bound to its placeholders.
pub(crate) trait PageQuery: Sized {
    /// `false` in the backend's SQL, compared with a boolean column.
    const FALSE: &'static str;
    /// What follows a text column in `ORDER BY` so that it orders by code point (the order
    /// of `name_key` must not depend on the database's locale).
    const BY_CODE_POINT: &'static str;
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
        if matches!(self, Listing::Codes(f) if f.name.as_deref().is_some_and(unnameable)) {
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

/// What is searched.
pub(crate) enum Searched<'a> {
    /// Rows decoded by [`crate::schema::division`].
    Divisions(&'a Search),
    /// Rows decoded by [`crate::schema::code`].
    Codes(&'a CodeSearch),
    /// Rows decoded by [`crate::schema::queue`].
    Queues(&'a QueueSearch),
    /// Rows decoded by [`crate::schema::user`].
    Users(&'a Search),
}

/// Whether a name filter can match no stored name at all: one with a NUL byte, which no name
/// holds (`check_name` refuses control characters) and PostgreSQL refuses even as a query
/// parameter. Such a filter matches nothing, without asking the database.
fn unnameable(name: &str) -> bool {
    name.contains('\0')
}

/// `name_key` LIKE pattern of a name pattern whose `*` matches any run of characters.
fn like_pattern(pattern: &str) -> String {
    let mut out = String::new();
    for c in name_key(pattern).chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Searched<'_> {
    fn search(&self) -> &Search {
        match self {
            Searched::Divisions(s) | Searched::Users(s) => s,
            Searched::Codes(c) => &c.search,
            Searched::Queues(c) => &c.search,
        }
    }

    /// `FROM … WHERE …` of the search: the filters and the grant.
    fn push_from<Q: PageQuery>(&self, q: &mut Q, grant: &DivisionGrant) {
        let search = self.search();
        let grant_column = match self {
            Searched::Divisions(_) => {
                q.push(" FROM divisions WHERE TRUE");
                "id"
            }
            Searched::Codes(c) => {
                q.push(" FROM wrapup_codes WHERE TRUE");
                if !c.divisions.is_empty() {
                    q.push_one_of("division_id", &c.divisions);
                }
                if !c.include_archived {
                    q.push(" AND archived = ");
                    q.push(Q::FALSE);
                }
                "division_id"
            }
            Searched::Queues(c) => {
                q.push(" FROM queues WHERE TRUE");
                if !c.divisions.is_empty() {
                    q.push_one_of("division_id", &c.divisions);
                }
                "division_id"
            }
            Searched::Users(_) => {
                q.push(" FROM users WHERE TRUE");
                "division_id"
            }
        };
        if !search.ids.is_empty() {
            q.push_one_of("id", &search.ids);
        }
        match &search.name {
            Some(pattern) if pattern.contains('*') => {
                q.push(" AND name_key LIKE ");
                q.bind_text(like_pattern(pattern));
                q.push(" ESCAPE '\\'");
            }
            Some(name) => {
                q.push(" AND name_key = ");
                q.bind_text(name_key(name));
            }
            None => {}
        }
        if let DivisionGrant::Only(ids) = grant {
            q.push_one_of(grant_column, ids);
        }
    }

    /// The two queries of a search: how many rows match (one row, one column), and the
    /// page of them. `None` when the grant lets the caller see nothing.
    pub(crate) fn queries<Q: PageQuery>(&self, grant: &DivisionGrant) -> Option<(Q, Q)> {
        if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
            return None;
        }
        if self.search().name.as_deref().is_some_and(unnameable) {
            return None;
        }
        let mut count = Q::new();
        count.push("SELECT COUNT(*)");
        self.push_from(&mut count, grant);
        let mut page = Q::new();
        page.push(match self {
            Searched::Divisions(_) => concat!("SELECT ", division_columns!()),
            Searched::Codes(_) => concat!("SELECT ", code_columns!()),
            Searched::Queues(_) => concat!("SELECT ", queue_columns!()),
            Searched::Users(_) => concat!("SELECT ", user_columns!()),
        });
        self.push_from(&mut page, grant);
        let search = self.search();
        let direction = if search.descending { " DESC" } else { "" };
        page.push(" ORDER BY ");
        if search.sort == SortKey::Name {
            page.push("name_key");
            page.push(Q::BY_CODE_POINT);
            page.push(direction);
            page.push(", ");
        }
        page.push("id");
        page.push(direction);
        page.push(" LIMIT ");
        page.bind_int(i64::from(search.limit));
        page.push(" OFFSET ");
        page.bind_int(i64::try_from(search.offset).unwrap_or(i64::MAX));
        Some((count, page))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_what_like_would_read() {
        assert_eq!(super::like_pattern("Sa*"), "sa%");
        assert_eq!(super::like_pattern("*100%_off*"), "%100\\%\\_off%");
        assert_eq!(super::like_pattern(" a\\b "), "a\\\\b");
    }
}
