//! `?pageSize=` and the opaque `cursor` of every list.
//!
//! A cursor is `c` (a list in ascending order) or `d` (descending), and the listing position
//! after which the next page starts, as 16 hexadecimal digits: opaque to clients (pass `nextCursor` back unchanged), but of a shape
//! the OpenAPI document can state exactly ([`CURSOR_PATTERN`]), and any value of that shape
//! is a position to read from.

use wrapup_store::PageRequest;
use wrapup_types::{ErrorCode, ErrorDetail, Page, SortOrder};

use crate::error::ApiError;

/// Every cursor this server issues or accepts.
pub const CURSOR_PATTERN: &str = "^[cd][0-7][0-9a-f]{15}$";

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

/// The cursor's first letter: the order it is a position in.
fn prefix(order: SortOrder) -> char {
    match order {
        SortOrder::Asc => 'c',
        SortOrder::Desc => 'd',
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
    let other = match order {
        SortOrder::Asc => SortOrder::Desc,
        SortOrder::Desc => SortOrder::Asc,
    };
    if cursor.starts_with(prefix(other)) {
        let (this, that) = match order {
            SortOrder::Asc => ("asc", "desc"),
            SortOrder::Desc => ("desc", "asc"),
        };
        return Err(invalid(
            &format!("cursor was issued for sortOrder={that}, and this request lists with sortOrder={this}."),
            &format!("Keep sortOrder={that} (and the same filters) while following its cursors, or leave cursor out to start over."),
        ));
    }
    cursor
        .strip_prefix(prefix(order))
        .filter(|hex| hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| {
            invalid(
                "cursor is not a cursor this server issued.",
                "Pass the nextCursor of the previous page unchanged, or leave cursor out for the first page.",
            )
        })
}

fn encode(order: SortOrder, seq: i64) -> String {
    format!("{}{:016x}", prefix(order), seq.max(0))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_only_their_shape_is_accepted() {
        let pattern = regex::Regex::new(CURSOR_PATTERN).unwrap();
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for seq in [0, 1, 255, 1 << 40, i64::MAX] {
                let cursor = encode(order, seq);
                assert_eq!(cursor.len(), 17);
                assert!(pattern.is_match(&cursor), "{cursor}");
                assert_eq!(decode(order, &cursor).unwrap(), seq);
            }
        }
        // The shape CURSOR_PATTERN states: c (or d), then 16 lower-case hex digits below 8000….
        for bad in [
            "",
            "c",
            "c8000000000000000",
            "c000000000000000A",
            "C0000000000000001",
            "c00000000000000001",
            "+c0000000000000001",
        ] {
            assert!(decode(SortOrder::Asc, bad).is_err(), "{bad}");
            assert!(!pattern.is_match(bad), "{bad}");
        }
        assert_eq!(
            decode(SortOrder::Asc, "c7fffffffffffffff").unwrap(),
            i64::MAX
        );
        assert_eq!(
            decode(SortOrder::Desc, "d7fffffffffffffff").unwrap(),
            i64::MAX
        );
    }

    /// A cursor of one order is refused by a list of the other, with a message saying so.
    #[test]
    fn a_cursor_keeps_its_order() {
        let asc = encode(SortOrder::Asc, 5);
        let e = decode(SortOrder::Desc, &asc).unwrap_err();
        assert!(
            e.details[0].message.contains("sortOrder=asc"),
            "{:?}",
            e.details
        );
        assert!(decode(SortOrder::Asc, &encode(SortOrder::Desc, 5)).is_err());
    }
}
