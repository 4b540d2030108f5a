//! Durations as people write them on a command line or in a file: one rule for every
//! option and input that takes one (`wrapup apply --duration`, batch files, the webhook
//! retry schedule and timeouts, `wrapup simulate`).

use std::time::Duration;

/// The smallest bare number [`parse_duration`] takes (as milliseconds): `90` alone is too
/// easily meant as seconds.
pub const BARE_MS_FROM: u64 = 1000;

/// Parses a duration as people write it: `1500ms`, `120s`, `2m`, `1h30m`,
/// `1h 30m 15s`, or a bare number of milliseconds from 1000 up (`120000`; `0` too). A bare
/// number below 1000 is refused with a hint, since `--duration 90` is easily meant as 90
/// seconds. The result is not range-checked (`wrapup_client::ValidWrapUp::new` checks a
/// wrap-up's).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    let bad = || {
        format!("`{s}` is not a duration; write milliseconds (120000) or units, e.g. 120s, 2m, 1h30m, 1500ms")
    };
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = text.parse().map_err(|_| bad())?;
        if ms > 0 && ms < BARE_MS_FROM {
            return Err(format!(
                "`{s}` is not a duration without a unit: write {ms}s, {ms}m or {ms}ms (a bare number means milliseconds, and is taken only from {BARE_MS_FROM} up, so that {ms} is not mistaken for seconds)"
            ));
        }
        return Ok(Duration::from_millis(ms));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" | "sec" => Duration::from_secs(1),
            "m" | "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = unit
            .checked_mul(u32::try_from(n).map_err(|_| bad())?)
            .and_then(|d| total.checked_add(d))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_people_write_them() {
        for (text, ms) in [
            ("120000", 120_000),
            ("120s", 120_000),
            ("2m", 120_000),
            ("1h30m", 5_400_000),
            ("1h 30m 15s", 5_415_000),
            ("1500ms", 1_500),
            ("2min", 120_000),
            ("0", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        // A small bare number has no obvious unit: refused, with the units to choose from.
        for ambiguous in ["90", "1", "999"] {
            let err = parse_duration(ambiguous).unwrap_err();
            assert!(
                err.contains(&format!(
                    "write {ambiguous}s, {ambiguous}m or {ambiguous}ms"
                )),
                "{err}"
            );
        }
        assert_eq!(parse_duration("1000"), Ok(Duration::from_millis(1000)));
        for bad in [
            "",
            "2 minutes",
            "m",
            "1.5m",
            "-1s",
            "2d",
            "12x",
            "99999999999999999999",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("not a duration"), "{bad}: {err}");
        }
    }
}
