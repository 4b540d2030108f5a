//! `wrapup seed`: bulk-insert closed, finalized interactions for load tests.

use clap::Args;
use uuid::Uuid;
use wrapup_server::{Clock, SystemClock};
use wrapup_types::DivisionGrant;

use crate::commands::db::DbArg;
use crate::exit;
use crate::help::examples;

/// The examples of `wrapup seed --help`.
pub const HELP: &str = examples!(
    "wrapup seed --db sqlite:///tmp/load.db --interactions 10000000",
    "wrapup seed --db sqlite:///tmp/load.db --interactions 1000 --first 10000000 --json",
    "wrapup seed --db sqlite:///tmp/load.db --interactions 10000000 --spread-days 365",
);

/// The notes of `wrapup seed --help`.
pub const AFTER_HELP: &str =
    "Interaction i gets the id 00000000-0000-5eed-0000-{i in 12 hex digits}, so a load generator can\n\
address any of them; they have no events (they are the starting state, not changes).";

#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    db: DbArg,
    /// How many closed, finalized interactions to insert.
    #[arg(long)]
    interactions: u64,
    /// The division to put them in (created if no division has this name).
    #[arg(long, default_value = "Load test")]
    division: String,
    /// A wrap-up code to create in that division (if it has none of this name).
    #[arg(long, default_value = "Sale")]
    code: String,
    /// The first index: interaction i gets the id 00000000-0000-5eed-0000-{i as 12 hex digits}.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Spread their creation (and close) times evenly over this many days before now, in
    /// transactions of about an hour's worth each, instead of all at now (for queries by
    /// time, such as the analytics queries).
    #[arg(long)]
    spread_days: Option<u32>,
}

/// The id `wrapup seed` gives interaction `i`: `00000000-0000-5eed-0000-` then `i` in 12 hex
/// digits, so a load generator can address any of them without a list.
pub fn seed_id(i: u64) -> Uuid {
    Uuid::from_u128((0x5eed_u128 << 64) | u128::from(i))
}

/// How many interactions `seed` inserts per transaction.
const SEED_ROWS_PER_TRANSACTION: u64 = 100_000;

/// The bulk path for load tests: closed, finalized interactions straight into the database,
/// in large transactions, without events.
pub async fn run(args: SeedArgs, json: bool) -> anyhow::Result<u8> {
    let store = args.db.open().await?;
    let now = SystemClock.now_ms();
    let divisions = store
        .list_divisions(
            &DivisionGrant::All,
            wrapup_store::PageRequest {
                after: None,
                limit: 500,
            },
        )
        .await?;
    let division = match divisions.into_iter().find(|(_, d)| d.name == args.division) {
        Some((_, d)) => d.id,
        None => {
            store
                .create_division(Uuid::new_v4(), &args.division, now)
                .await?
                .id
        }
    };
    let codes = store
        .list_codes(
            &DivisionGrant::All,
            &wrapup_store::CodeFilter {
                division: Some(division),
                name: Some(args.code.clone()),
                include_archived: false,
            },
            wrapup_store::PageRequest {
                after: None,
                limit: 1,
            },
        )
        .await?;
    let code = match codes.first() {
        Some(c) => c.code.id,
        None => {
            let t = wrapup_types::timestamp::from_millis(now);
            store
                .create_code(&wrapup_types::WrapUpCode {
                    id: Uuid::new_v4(),
                    name: args.code.clone(),
                    division_id: division,
                    description: Some("Created by wrapup seed".into()),
                    archived: false,
                    date_created: t,
                    date_modified: t,
                    // Made on the database directly, by no OAuth client.
                    created_by: None,
                })
                .await?
                .code
                .id
        }
    };
    let started = std::time::Instant::now();
    let first = args.first;
    let mut inserted = 0;
    let span_ms = i64::from(args.spread_days.unwrap_or(0)) * 86_400_000;
    let per_transaction = match args.spread_days {
        Some(days) if days > 0 => args
            .interactions
            .div_ceil(u64::from(days) * 24)
            .clamp(1, SEED_ROWS_PER_TRANSACTION),
        _ => SEED_ROWS_PER_TRANSACTION,
    };
    while inserted < args.interactions {
        let end = (inserted + per_transaction).min(args.interactions);
        let ids = (inserted..end).map(|i| seed_id(first + i)).collect();
        // Spread: the transaction's rows at their share of the span, oldest first.
        let offset =
            (i128::from(span_ms) * i128::from(inserted) / i128::from(args.interactions)) as i64;
        let at = now - span_ms + offset;
        inserted += store.seed_finalized(division, ids, at).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"divisionId": division, "codeId": code, "inserted": inserted,
                "firstId": seed_id(first), "seconds": seconds})
        );
    } else {
        println!(
            "Inserted {inserted} finalized interactions into division \"{}\" ({division}) in {seconds:.1} s ({:.0}/s).",
            args.division,
            inserted as f64 / seconds.max(0.001)
        );
        println!(
            "  ids: {} … {}",
            seed_id(first),
            seed_id(first + inserted.saturating_sub(1))
        );
        println!("  code \"{}\": {code}", args.code);
    }
    Ok(exit::OK)
}
