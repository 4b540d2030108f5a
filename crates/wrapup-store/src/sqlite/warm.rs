//! Filling the read cache when the server starts (`wrapup serve --warm-read-cache`), so that
//! the first GET of each interaction is answered from memory too: the most recent
//! interactions first (the table is in creation order), read in chunks on a read-only
//! connection, rendered, and kept until the cache is full or the table has no more.
//!
//! It runs beside the server's traffic, writes included, and keeps the read cache exact the
//! way every read does (`read_cache.rs`): a chunk is read after loading the commit count, and
//! its rows are kept only while no batch has committed since. When one has, the rest of the
//! chunk is read again, and chunks get smaller while writes keep racing them (16 rows, a few
//! tens of microseconds, at the smallest). A full part of the cache is left as it is, not
//! started over.

use std::sync::Arc;

use super::queries;
use super::read_cache::{Inserted, ReadCache};
use super::readers::Readers;
use crate::error::{Result, StoreError};
use crate::records::SharedInteraction;

/// The most rows read at once (a few milliseconds of a reader).
const LARGEST_CHUNK: usize = 512;
/// The fewest, while commits keep racing the reads.
const SMALLEST_CHUNK: usize = 16;

/// Fills `cache` with the most recent interactions; returns how many it kept. Stops early,
/// answering [`StoreError::Closed`], once `closed` says the store is closing.
pub(super) async fn warm(
    readers: &Arc<Readers>,
    cache: &ReadCache,
    closed: impl Fn() -> bool,
) -> Result<usize> {
    let mut below = i64::MAX;
    let mut chunk = LARGEST_CHUNK;
    let mut kept = 0;
    loop {
        if closed() {
            return Err(StoreError::Closed);
        }
        if cache.len() >= cache.capacity() {
            return Ok(kept);
        }
        let read_began = cache.read_begins();
        let found = readers.read(move |conn| read(conn, below, chunk)).await?;
        if found.is_empty() {
            return Ok(kept);
        }
        let mut raced = false;
        for entry in found {
            let seq = entry.record.seq;
            match cache.insert_warm(entry, read_began) {
                Inserted::Kept => kept += 1,
                Inserted::Full => {}
                Inserted::Raced => {
                    raced = true;
                    break;
                }
            }
            below = seq;
        }
        chunk = if raced {
            (chunk / 2).max(SMALLEST_CHUNK)
        } else {
            (chunk * 2).min(LARGEST_CHUNK)
        };
    }
}

/// Up to `limit` interactions created before the one numbered `below`, latest first, each
/// rendered (here, on the blocking thread pool, rather than by the GET that finds it).
fn read(
    conn: &mut rusqlite::Connection,
    below: i64,
    limit: usize,
) -> Result<Vec<Arc<SharedInteraction>>> {
    let found = queries::interactions_before(conn, below, limit)?;
    Ok(found
        .into_iter()
        .map(|record| {
            let shared = SharedInteraction::shared(record);
            shared.json();
            shared
        })
        .collect())
}
