//! `?pageSize=` and the opaque `cursor` of every list.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use wrapup_store::PageRequest;
use wrapup_types::{ErrorCode, ErrorDetail, Page, SortOrder};

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Checks `pageSize` and decodes `cursor`, of a list in creation order. The store is asked
/// for one entity more than the page holds, to learn whether another page follows.
pub fn page_request(
    page_size: Option<u32>,
    cursor: Option<&str>,
) -> Result<(PageRequest, u32), ApiError> {
    page_request_in(SortOrder::Asc, page_size, cursor)
}

/// [`page_request`] for a list in `order`: a cursor says which order it was issued for,
/// and one of the other order is refused rather than read backwards.
pub fn page_request_in(
    order: SortOrder,
    page_size: Option<u32>,
    cursor: Option<&str>,
) -> Result<(PageRequest, u32), ApiError> {
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestQueryInvalid,
                format!("pageSize must be from 1 to {MAX_PAGE_SIZE}; got {size}."),
            )
            .field("pageSize")
            .hint("Use pageSize up to 500 and follow nextCursor for more."),
        ));
    }
    let after = cursor.map(|c| decode(order, c)).transpose()?;
    Ok((
        PageRequest {
            after,
            limit: size + 1,
        },
        size,
    ))
}

/// The cursor's prefix: the position and the order it is a position in.
fn prefix(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "seq:",
        SortOrder::Desc => "seq-desc:",
    }
}

fn decode(order: SortOrder, cursor: &str) -> Result<i64, ApiError> {
    let invalid = |message: &str, hint: &str| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::RequestQueryInvalid, message)
                .field("cursor")
                .hint(hint),
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let other = match order {
        SortOrder::Asc => SortOrder::Desc,
        SortOrder::Desc => SortOrder::Asc,
    };
    if text.starts_with(prefix(other)) {
        let (this, that) = match order {
            SortOrder::Asc => ("asc", "desc"),
            SortOrder::Desc => ("desc", "asc"),
        };
        return Err(invalid(
            &format!("cursor was issued for sortOrder={that}, and this request lists with sortOrder={this}."),
            &format!("Keep sortOrder={that} (and the same filters) while following its cursors, or leave cursor out to start over."),
        ));
    }
    text.strip_prefix(prefix(order))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            invalid(
                "cursor is not a cursor this server issued.",
                "Pass the nextCursor of the previous page unchanged, or leave cursor out for the first page.",
            )
        })
}

fn encode(order: SortOrder, seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}{seq}", prefix(order)))
}

/// Builds the page from the store's rows (at most `size + 1` of them), of a list in
/// creation order.
pub fn page<R, T>(
    rows: Vec<R>,
    size: u32,
    seq: impl Fn(&R) -> i64,
    entity: impl Fn(R) -> T,
) -> Page<T> {
    page_in(SortOrder::Asc, rows, size, seq, entity)
}

/// [`page`] for a list in `order`.
pub fn page_in<R, T>(
    order: SortOrder,
    mut rows: Vec<R>,
    size: u32,
    seq: impl Fn(&R) -> i64,
    entity: impl Fn(R) -> T,
) -> Page<T> {
    let next_cursor = if rows.len() > size as usize {
        rows.truncate(size as usize);
        rows.last().map(|r| encode(order, seq(r)))
    } else {
        None
    };
    Page {
        entities: rows.into_iter().map(entity).collect(),
        next_cursor,
    }
}
