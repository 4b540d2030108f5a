//! The analytics queries' read (docs/genesys.md#analytics): the interactions of the
//! granted divisions that started in an interval, by start, one page of them, and how many
//! there are, through the `interactions_created` index. The filters, metrics and
//! aggregation are the domain's (`wrapup_domain::analytics`).

use wrapup_types::DivisionGrant;

use crate::listing::PageQuery;
use crate::schema::interaction_columns;

/// Which interactions: those created in `[from_ms, to_ms)`, by creation time and then
/// listing position (newest first when asked), `offset` skipped, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartedScan {
    pub from_ms: i64,
    pub to_ms: i64,
    pub newest_first: bool,
    pub offset: u64,
    pub limit: u32,
    /// Whether to count every interaction of the interval too (`Found::total`; 0 otherwise).
    pub count: bool,
}

fn restrict<Q: PageQuery>(q: &mut Q, grant: &DivisionGrant, scan: &StartedScan) {
    q.push(" WHERE created_at >= ");
    q.bind_int(scan.from_ms);
    q.push(" AND created_at < ");
    q.bind_int(scan.to_ms);
    if let DivisionGrant::Only(ids) = grant {
        q.push_one_of("division_id", ids);
    }
}

/// The count (when asked) and the page queries of a scan; `None` when the grant lets the
/// caller see nothing.
pub(crate) fn started_queries<Q: PageQuery>(
    grant: &DivisionGrant,
    scan: &StartedScan,
) -> Option<(Option<Q>, Q)> {
    if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
        return None;
    }
    let count = scan.count.then(|| {
        let mut q = Q::new();
        q.push("SELECT COUNT(*) FROM interactions");
        restrict(&mut q, grant, scan);
        q
    });
    let mut page = Q::new();
    page.push(concat!(
        "SELECT ",
        interaction_columns!(),
        " FROM interactions"
    ));
    restrict(&mut page, grant, scan);
    page.push(if scan.newest_first {
        " ORDER BY created_at DESC, seq DESC LIMIT "
    } else {
        " ORDER BY created_at, seq LIMIT "
    });
    page.bind_int(i64::from(scan.limit));
    page.push(" OFFSET ");
    page.bind_int(scan.offset.min(i64::MAX as u64) as i64);
    Some((count, page))
}
