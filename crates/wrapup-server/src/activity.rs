//! Wrap-ups accepted and refused lately, minute by minute and by division, for
//! `GET /api/v2/interactions/wrap-up-activity` (the console's overview).
//!
//! Kept in memory by each server process, like the inspector: a refusal leaves nothing in
//! the database to count later, and a figure that survives restarts is what `/metrics` is
//! for. Only answers about an interaction the caller could see are counted, under that
//! interaction's division, so a token is shown the activity of its own divisions only.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use uuid::Uuid;
use wrapup_types::timestamp::from_millis;
use wrapup_types::{ActivityMinute, DivisionGrant, WrapUpActivity};

/// How many minutes are kept and reported, ending with the current one.
pub const WINDOW_MINUTES: u32 = 15;
const MINUTE_MS: i64 = 60_000;

/// One minute's counts, by division: (accepted, refused).
struct Minute {
    start_ms: i64,
    by_division: HashMap<Uuid, (u64, u64)>,
}

/// The per-minute counts of the last [`WINDOW_MINUTES`] minutes.
#[derive(Default)]
pub struct WrapUpActivityLog {
    minutes: Mutex<VecDeque<Minute>>,
}

fn minute_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(MINUTE_MS)
}

impl WrapUpActivityLog {
    /// Counts one answer to `PUT …/wrap-up` about an interaction of `division`.
    pub fn record(&self, now_ms: i64, division: Uuid, accepted: bool) {
        let start_ms = minute_of(now_ms);
        let mut minutes = self.minutes.lock().unwrap_or_else(|e| e.into_inner());
        if minutes.back().is_none_or(|m| m.start_ms != start_ms) {
            minutes.push_back(Minute {
                start_ms,
                by_division: HashMap::new(),
            });
        }
        let oldest = start_ms - MINUTE_MS * (i64::from(WINDOW_MINUTES) - 1);
        while minutes.front().is_some_and(|m| m.start_ms < oldest) {
            minutes.pop_front();
        }
        let counts = minutes
            .back_mut()
            .expect("the current minute was just added")
            .by_division
            .entry(division)
            .or_default();
        if accepted {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }

    /// The window ending with the minute of `now_ms`, counting the divisions `grant` allows.
    pub fn window(&self, now_ms: i64, grant: &DivisionGrant) -> WrapUpActivity {
        let current = minute_of(now_ms);
        let minutes = self.minutes.lock().unwrap_or_else(|e| e.into_inner());
        let listed: Vec<ActivityMinute> = (0..i64::from(WINDOW_MINUTES))
            .rev()
            .map(|back| {
                let start_ms = current - back * MINUTE_MS;
                let (accepted, refused) = minutes
                    .iter()
                    .find(|m| m.start_ms == start_ms)
                    .map(|m| {
                        m.by_division
                            .iter()
                            .filter(|(d, _)| grant.allows(**d))
                            .fold((0, 0), |(a, r), (_, (da, dr))| (a + da, r + dr))
                    })
                    .unwrap_or_default();
                ActivityMinute {
                    start: from_millis(start_ms),
                    accepted,
                    refused,
                }
            })
            .collect();
        WrapUpActivity {
            window_minutes: WINDOW_MINUTES,
            accepted: listed.iter().map(|m| m.accepted).sum(),
            refused: listed.iter().map(|m| m.refused).sum(),
            minutes: listed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fall_in_their_minute_and_out_of_the_window() {
        let log = WrapUpActivityLog::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let t0 = 1_795_000_020_000;
        log.record(t0, a, true);
        log.record(t0 + 1, a, false);
        log.record(t0 + 2, b, true);
        log.record(t0 + MINUTE_MS, a, true);
        let w = log.window(t0 + MINUTE_MS, &DivisionGrant::All);
        assert_eq!((w.accepted, w.refused), (3, 1));
        assert_eq!(w.minutes.len(), WINDOW_MINUTES as usize);
        let last = &w.minutes[WINDOW_MINUTES as usize - 1];
        assert_eq!((last.accepted, last.refused), (1, 0));
        let only_b = log.window(t0 + MINUTE_MS, &DivisionGrant::Only(vec![b]));
        assert_eq!((only_b.accepted, only_b.refused), (1, 0));
        let later = t0 + MINUTE_MS * i64::from(WINDOW_MINUTES);
        let w = log.window(later, &DivisionGrant::All);
        assert_eq!(
            (w.accepted, w.refused),
            (1, 0),
            "the first minute left the window"
        );
        log.record(later + MINUTE_MS, b, false);
        assert_eq!(log.minutes.lock().unwrap().len(), 1);
    }
}
