//! `?pageSize=` and the opaque `cursor` of every list.
//!
//! A cursor is `c` (a list in ascending order) or `d` (descending), and the listing position
//! after which the next page starts, as 16 hexadecimal digits: opaque to clients (pass `nextCursor` back unchanged), but of a shape
//! the OpenAPI document can state exactly ([`CURSOR_PATTERN`]), and any value of that shape
//! is a position to read from.

use wrapup_store::PageRequest;
use wrapup_types::{ErrorCode, ErrorDetail, Page, SortOrder};

use crate::error::ApiError;

/// The cursors of a list in one order (ascending): every list but the interactions'.
pub const CURSOR_PATTERN: &str = "^c[0-7][0-9a-f]{15}$";
/// The cursors of `GET /api/v2/interactions`, whose order the request chooses: `c`
/// ascending, `d` descending.
pub const ORDERED_CURSOR_PATTERN: &str = "^[cd][0-7][0-9a-f]{15}$";
/// The cursors of the listings paged by position as well as by number (divisions and
/// codes, `crate::listing`): `o` and the offset of the next page. Empty is absent there,
/// as the Genesys SDKs send it.
pub const OFFSET_CURSOR_PATTERN: &str = "^(o[0-7][0-9a-f]{15})?$";

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Checks `pageSize` and decodes `cursor`, of a list in creation order. The store is asked
/// for one entity more than the page holds, to learn whether another page follows.
pub fn page_request(
    page_size: Option<u32>,
    cursor: Option<&str>,
) -> Result<(PageRequest, u32), ApiError> {
    let size = checked_size(page_size)?;
    let after = cursor.map(|c| decode(SortOrder::Asc, c)).transpose()?;
    Ok((
        PageRequest {
            after,
            limit: size + 1,
        },
        size,
    ))
}

/// [`page_request`] for a list whose order the request may choose (`sortOrder`): a cursor
/// continues the list it was issued for, in that list's order, whatever `requested` says
/// (so following `nextCursor` never needs the other parameters repeated, and no cursor is
/// refused for its order). Returns the order to list in.
pub fn page_request_in(
    requested: Option<SortOrder>,
    page_size: Option<u32>,
    cursor: Option<&str>,
) -> Result<(PageRequest, u32, SortOrder), ApiError> {
    let order = match cursor.and_then(|c| c.chars().next()) {
        Some(letter) if letter == prefix(SortOrder::Desc) => SortOrder::Desc,
        Some(letter) if letter == prefix(SortOrder::Asc) => SortOrder::Asc,
        _ => requested.unwrap_or_default(),
    };
    let size = checked_size(page_size)?;
    let after = cursor.map(|c| decode(order, c)).transpose()?;
    Ok((
        PageRequest {
            after,
            limit: size + 1,
        },
        size,
        order,
    ))
}

fn checked_size(page_size: Option<u32>) -> Result<u32, ApiError> {
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
    Ok(size)
}

/// The cursor's first letter: the order it is a position in.
fn prefix(order: SortOrder) -> char {
    match order {
        SortOrder::Asc => 'c',
        SortOrder::Desc => 'd',
    }
}

fn decode(order: SortOrder, cursor: &str) -> Result<i64, ApiError> {
    unhex(prefix(order), cursor).ok_or_else(not_issued)
}

fn encode(order: SortOrder, seq: i64) -> String {
    hex(prefix(order), seq)
}

fn hex(letter: char, position: i64) -> String {
    format!("{letter}{:016x}", position.max(0))
}

/// The position a cursor of this letter holds, if it has the shape the patterns state.
fn unhex(letter: char, cursor: &str) -> Option<i64> {
    cursor
        .strip_prefix(letter)
        .filter(|hex| {
            hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
}

fn not_issued() -> ApiError {
    ApiError::one(
        ErrorDetail::new(ErrorCode::RequestQueryInvalid, "cursor is not a cursor this server issued.")
            .field("cursor")
            .hint("Pass the nextCursor of the previous page unchanged, or leave cursor out for the first page."),
    )
}

/// The cursor of a listing's next page, at `offset` ([`OFFSET_CURSOR_PATTERN`]).
pub fn encode_offset(offset: u64) -> String {
    hex('o', i64::try_from(offset).unwrap_or(i64::MAX))
}

/// The offset an [`encode_offset`] cursor holds.
pub fn decode_offset(cursor: &str) -> Result<u64, ApiError> {
    unhex('o', cursor).map(|n| n as u64).ok_or_else(not_issued)
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
        let pattern = regex::Regex::new(ORDERED_CURSOR_PATTERN).unwrap();
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

    /// A cursor continues its own list's order, whatever sortOrder says.
    #[test]
    fn a_cursor_keeps_its_order() {
        let desc = encode(SortOrder::Desc, 5);
        let (request, _, order) = page_request_in(Some(SortOrder::Asc), None, Some(&desc)).unwrap();
        assert_eq!((request.after, order), (Some(5), SortOrder::Desc));
        let (_, _, order) = page_request_in(Some(SortOrder::Desc), None, None).unwrap();
        assert_eq!(order, SortOrder::Desc);
        // A list that has one order only reads its own cursors.
        assert!(page_request(None, Some(&desc)).is_err());
    }
}
