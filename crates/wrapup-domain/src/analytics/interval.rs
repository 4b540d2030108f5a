//! The time of an analytics query: its `interval` (`start/end`, `start/duration` or
//! `duration/end`, ISO-8601), its `granularity` (an ISO-8601 duration) and the buckets the
//! two make. Times are whole milliseconds since the epoch, UTC.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wrapup_types::timestamp;

/// The longest interval a query may cover: 366 days.
pub const MAX_INTERVAL_MS: i64 = 366 * DAY_MS;
/// The most buckets an aggregate query may ask for (its interval over its granularity).
pub const MAX_BUCKETS: i64 = 1000;
/// The shortest granularity: one minute.
pub const MIN_GRANULARITY_MS: i64 = 60_000;

const DAY_MS: i64 = 86_400_000;

/// A half-open interval `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Interval {
    /// `true` when `t_ms` is in the interval (start included, end excluded).
    pub fn contains(&self, t_ms: i64) -> bool {
        self.start_ms <= t_ms && t_ms < self.end_ms
    }

    /// The interval as Genesys writes it: `start/end`, both in UTC with milliseconds.
    pub fn render(&self) -> String {
        format!(
            "{}/{}",
            timestamp::format(timestamp::from_millis(self.start_ms)),
            timestamp::format(timestamp::from_millis(self.end_ms))
        )
    }
}

/// Parses an ISO-8601 duration of weeks, days, hours, minutes and (whole or fractional)
/// seconds: `PT15M`, `PT1H`, `P1D`, `P7D`, `P1W`, `P1DT12H`, `PT0.5S`. Years and months
/// (whose length depends on the calendar) are refused, as is a zero duration.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = |why: &str| {
        Err(format!(
            "\"{s}\" is not an ISO-8601 duration wrapup reads: {why}"
        ))
    };
    let Some(rest) = s.strip_prefix('P') else {
        return bad("it must start with P (e.g. PT1H, P1D)");
    };
    if rest.is_empty() || rest == "T" {
        return bad("it has no amount (e.g. PT15M)");
    }
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            unit => {
                if number.is_empty() {
                    return bad(&format!("{unit} has no number before it"));
                }
                let unit_ms: i64 = match (in_time, unit) {
                    (false, 'W') => 7 * DAY_MS,
                    (false, 'D') => DAY_MS,
                    (true, 'H') => 3_600_000,
                    (true, 'M') => 60_000,
                    (true, 'S') => 1000,
                    (false, 'Y' | 'M') => {
                        return bad("years and months are not supported (their length depends on the calendar); use days, e.g. P1D or P7D")
                    }
                    _ => return bad(&format!("{unit} is not a unit here (P…W, P…D, T…H, T…M, T…S)")),
                };
                let value: f64 = match number.parse() {
                    Ok(v) if number.chars().filter(|c| *c == '.').count() <= 1 => v,
                    _ => return bad(&format!("{number} is not a number")),
                };
                if number.contains('.') && unit != 'S' {
                    return bad("only seconds may have a fraction");
                }
                let ms = value * unit_ms as f64;
                if !ms.is_finite() || ms > (MAX_INTERVAL_MS * 10) as f64 {
                    return bad("it is too long");
                }
                total = total.saturating_add(ms.round() as i64);
                number.clear();
                any = true;
            }
        }
    }
    if !number.is_empty() {
        return bad(&format!("{number} has no unit after it"));
    }
    if !any {
        return bad("it has no amount (e.g. PT15M)");
    }
    if total <= 0 {
        return bad("it is zero");
    }
    Ok(total)
}

fn parse_instant(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some(timestamp::to_millis(t))
}

/// Parses an interval: `start/end` (ISO-8601 instants with an offset or `Z`),
/// `start/duration` or `duration/end`. The end must be after the start, and the interval
/// at most [`MAX_INTERVAL_MS`] long.
pub fn parse_interval(s: &str) -> Result<Interval, String> {
    let example = "e.g. 2026-12-01T00:00:00Z/2026-12-02T00:00:00Z or 2026-12-01T00:00:00Z/P1D";
    let Some((a, b)) = s.split_once('/') else {
        return Err(format!(
            "\"{s}\" is not an interval: it needs two parts separated by / ({example})."
        ));
    };
    let part = |p: &str| -> Result<Part, String> {
        if p.starts_with('P') {
            parse_duration(p).map(Part::Duration)
        } else {
            parse_instant(p).map(Part::Instant).ok_or_else(|| {
                format!("\"{p}\" is neither an ISO-8601 instant with its offset (2026-12-01T00:00:00Z) nor a duration (P1D)")
            })
        }
    };
    let (start_ms, end_ms) = match (part(a), part(b)) {
        (Err(e), _) | (_, Err(e)) => {
            return Err(format!("In the interval \"{s}\", {e} ({example})."))
        }
        (Ok(Part::Instant(start)), Ok(Part::Instant(end))) => (start, end),
        (Ok(Part::Instant(start)), Ok(Part::Duration(d))) => (start, start.saturating_add(d)),
        (Ok(Part::Duration(d)), Ok(Part::Instant(end))) => (end.saturating_sub(d), end),
        (Ok(Part::Duration(_)), Ok(Part::Duration(_))) => {
            return Err(format!(
                "The interval \"{s}\" has two durations; one part must be an instant ({example})."
            ))
        }
    };
    if end_ms <= start_ms {
        return Err(format!(
            "The interval \"{s}\" ends before or when it starts; the end must be later."
        ));
    }
    if end_ms - start_ms > MAX_INTERVAL_MS {
        return Err(format!(
            "The interval \"{s}\" is longer than 366 days, the most one query covers; split it."
        ));
    }
    Ok(Interval { start_ms, end_ms })
}

enum Part {
    Instant(i64),
    Duration(i64),
}

/// The buckets of an aggregate query: `granularity` steps from the interval's start in the
/// query's time zone (the last one cut at the interval's end), or the whole interval without
/// a granularity. Days and weeks are calendar days of that zone (23 or 25 hours across a
/// daylight-saving change), hours and shorter are exact durations, as in Genesys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub interval: Interval,
    /// Where each bucket ends, in order; the last is the interval's end.
    ends: Vec<i64>,
}

impl Buckets {
    /// Checks the granularity against the interval: at least [`MIN_GRANULARITY_MS`] and at
    /// most [`MAX_BUCKETS`] buckets. Without one, the interval is one bucket, however short.
    pub fn new(
        interval: Interval,
        granularity: Option<&str>,
        zone: &jiff::tz::TimeZone,
    ) -> Result<Buckets, String> {
        let Some(granularity) = granularity else {
            return Ok(Buckets {
                interval,
                ends: vec![interval.end_ms],
            });
        };
        if parse_duration(granularity)? < MIN_GRANULARITY_MS {
            return Err(
                "The granularity is shorter than one minute (PT1M), the finest wrapup computes."
                    .into(),
            );
        }
        let span: jiff::Span = granularity
            .parse()
            .map_err(|e| format!("\"{granularity}\" is not an ISO-8601 duration: {e}"))?;
        let start = jiff::Timestamp::from_millisecond(interval.start_ms)
            .map_err(|e| e.to_string())?
            .to_zoned(zone.clone());
        let too_many = || {
            let count = (interval.end_ms - interval.start_ms)
                / parse_duration(granularity)
                    .unwrap_or(MIN_GRANULARITY_MS)
                    .max(1);
            format!(
                "The granularity makes {count} or more buckets of the interval; at most {MAX_BUCKETS} are computed: choose a coarser granularity or a shorter interval."
            )
        };
        let mut ends = Vec::new();
        for k in 1..=MAX_BUCKETS {
            let end = span
                .checked_mul(k)
                .and_then(|s| start.checked_add(s))
                .map_err(|_| too_many())?
                .timestamp()
                .as_millisecond()
                .min(interval.end_ms);
            ends.push(end);
            if end >= interval.end_ms {
                return Ok(Buckets { interval, ends });
            }
        }
        Err(too_many())
    }

    /// How many buckets there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// `false`: a query has at least one bucket.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The index of the bucket holding `t_ms`, if the interval does.
    pub fn index(&self, t_ms: i64) -> Option<i64> {
        self.interval
            .contains(t_ms)
            .then(|| self.ends.partition_point(|&end| end <= t_ms) as i64)
    }

    /// Bucket `index` as an interval.
    pub fn bucket(&self, index: i64) -> Interval {
        let i = index as usize;
        Interval {
            start_ms: if i == 0 {
                self.interval.start_ms
            } else {
                self.ends[i - 1]
            },
            end_ms: self.ends[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT15M"), Ok(900_000));
        assert_eq!(parse_duration("PT1H"), Ok(3_600_000));
        assert_eq!(parse_duration("P1D"), Ok(DAY_MS));
        assert_eq!(parse_duration("P1W"), Ok(7 * DAY_MS));
        assert_eq!(parse_duration("P1DT12H"), Ok(DAY_MS + 12 * 3_600_000));
        assert_eq!(parse_duration("PT0.5S"), Ok(500));
        for bad in [
            "", "P", "PT", "1D", "P1M", "P1Y", "PT1D", "P1H", "PT1.5H", "P0D", "PTM", "PT1",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals() {
        let day = parse_interval("2026-12-01T00:00:00Z/2026-12-02T00:00:00Z").unwrap();
        assert_eq!(day.end_ms - day.start_ms, DAY_MS);
        assert_eq!(parse_interval("2026-12-01T00:00:00Z/P1D"), Ok(day));
        assert_eq!(parse_interval("P1D/2026-12-02T00:00:00Z"), Ok(day));
        assert_eq!(
            parse_interval("2026-12-01T01:00:00+01:00/2026-12-02T00:00:00.000Z"),
            Ok(day)
        );
        assert_eq!(
            day.render(),
            "2026-12-01T00:00:00.000Z/2026-12-02T00:00:00.000Z"
        );
        for bad in [
            "2026-12-01T00:00:00Z",
            "2026-12-02T00:00:00Z/2026-12-01T00:00:00Z",
            "P1D/P1D",
            "2026-12-01/2026-12-02",
            "2026-12-01T00:00:00Z/P400D",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    fn utc() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::UTC
    }

    /// A day is a calendar day of the query's zone: Paris moved to summer time on
    /// 2026-03-29, a day of 23 hours; hours stay exact.
    #[test]
    fn days_follow_the_zone() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let three = parse_interval("2026-03-27T23:00:00Z/2026-03-30T22:00:00Z").unwrap();
        let days = Buckets::new(three, Some("P1D"), &paris).unwrap();
        assert_eq!(days.len(), 3);
        let lengths: Vec<i64> = (0..3)
            .map(|i| {
                let b = days.bucket(i);
                (b.end_ms - b.start_ms) / 3_600_000
            })
            .collect();
        assert_eq!(lengths, [24, 23, 24]);
        assert_eq!(
            days.bucket(2).render(),
            "2026-03-29T22:00:00.000Z/2026-03-30T22:00:00.000Z"
        );
        let hours = Buckets::new(three, Some("PT1H"), &paris).unwrap();
        assert_eq!(hours.len(), 71);
        assert_eq!(Buckets::new(three, Some("P1D"), &utc()).unwrap().len(), 3);
    }

    #[test]
    fn buckets() {
        let day = parse_interval("2026-12-01T00:00:00Z/P1D").unwrap();
        let hours = Buckets::new(day, Some("PT1H"), &utc()).unwrap();
        assert_eq!(hours.index(day.start_ms), Some(0));
        assert_eq!(hours.index(day.end_ms - 1), Some(23));
        assert_eq!(hours.index(day.end_ms), None);
        assert_eq!(hours.bucket(23).end_ms, day.end_ms);
        assert!(Buckets::new(day, Some("PT1S"), &utc()).is_err());
        let year = parse_interval("2026-01-01T00:00:00Z/P366D").unwrap();
        assert!(Buckets::new(year, Some("PT1H"), &utc()).is_err());
        assert_eq!(
            Buckets::new(day, None, &utc())
                .unwrap()
                .index(day.start_ms + 5),
            Some(0)
        );
    }

    proptest! {
        /// start/end, start/duration and duration/end name the same interval, and the
        /// rendering parses back to it.
        #[test]
        fn the_three_forms_agree(start in 0i64..4_000_000_000_000, minutes in 1i64..500_000) {
            let length = minutes * 60_000;
            let s = timestamp::format(timestamp::from_millis(start));
            let e = timestamp::format(timestamp::from_millis(start + length));
            let d = format!("PT{minutes}M");
            let a = parse_interval(&format!("{s}/{e}")).unwrap();
            prop_assert_eq!(a, Interval { start_ms: start, end_ms: start + length });
            prop_assert_eq!(parse_interval(&format!("{s}/{d}")).unwrap(), a);
            prop_assert_eq!(parse_interval(&format!("{d}/{e}")).unwrap(), a);
            prop_assert_eq!(parse_interval(&a.render()).unwrap(), a);
        }

        /// Nothing panics, whatever the text.
        #[test]
        fn any_text_is_parsed_or_refused(s in ".{0,40}") {
            let _ = parse_interval(&s);
            let _ = parse_duration(&s);
        }

        /// Every instant of the interval is in exactly one bucket, inside it.
        #[test]
        fn every_instant_has_its_bucket(
            start in 1_700_000_000_000i64..1_800_000_000_000,
            len in 60_000i64..60 * DAY_MS,
            minutes in 1i64..3 * 1440,
            days in 0i64..3,
            zone in prop::sample::select(vec!["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
            at in 0f64..1.0,
        ) {
            let interval = Interval { start_ms: start, end_ms: start + len };
            let granularity = format!("P{days}DT{minutes}M");
            let zone = jiff::tz::TimeZone::get(zone).unwrap();
            if let Ok(b) = Buckets::new(interval, Some(&granularity), &zone) {
                let t = interval.start_ms + ((len as f64) * at) as i64;
                let i = b.index(t).unwrap();
                prop_assert!(b.bucket(i).contains(t));
                prop_assert_eq!(b.bucket(b.len() as i64 - 1).end_ms, interval.end_ms);
                for k in 1..b.len() as i64 {
                    prop_assert_eq!(b.bucket(k - 1).end_ms, b.bucket(k).start_ms);
                }
            }
        }
    }
}
