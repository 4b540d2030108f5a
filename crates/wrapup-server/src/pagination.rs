//! `?pageSize=` and the opaque `cursor` of every list.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use wrapup_store::PageRequest;
use wrapup_types::{ErrorCode, ErrorDetail, Page};

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Checks `pageSize` and decodes `cursor`. The store is asked for one entity more than the
/// page holds, to learn whether another page follows.
pub fn page_request(
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
    let after = cursor.map(decode).transpose()?;
    Ok((
        PageRequest {
            after,
            limit: size + 1,
        },
        size,
    ))
}

fn decode(cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("seq:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::one(
                ErrorDetail::new(ErrorCode::RequestQueryInvalid, "cursor is not a cursor this server issued.")
                    .field("cursor")
                    .hint("Pass the nextCursor of the previous page unchanged, or leave cursor out for the first page."),
            )
        })
}

fn encode(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

/// Builds the page from the store's rows (at most `size + 1` of them).
pub fn page<R, T>(
    mut rows: Vec<R>,
    size: u32,
    seq: impl Fn(&R) -> i64,
    entity: impl Fn(R) -> T,
) -> Page<T> {
    let next_cursor = if rows.len() > size as usize {
        rows.truncate(size as usize);
        rows.last().map(|r| encode(seq(r)))
    } else {
        None
    };
    Page {
        entities: rows.into_iter().map(entity).collect(),
        next_cursor,
    }
}
