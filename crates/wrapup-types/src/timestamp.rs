//! Timestamps on the wire: RFC 3339, UTC, millisecond precision
//! (`2026-11-24T21:27:42.123Z`).

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats a timestamp the way the API writes it.
pub fn format(t: OffsetDateTime) -> String {
    let mut buf = [0; LEN];
    match write(t, &mut buf) {
        Some(text) => text.to_string(),
        None => generic(t),
    }
}

/// The length of a timestamp as the API writes it.
const LEN: usize = 24;

/// `time`'s formatter, for years outside 0..=9999 (which the fixed layout cannot hold).
fn generic(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .expect("a UTC timestamp always formats")
}

/// Writes `t` into `buf` in the fixed layout of [`FORMAT`], without allocating: every
/// response carries up to four timestamps, and `time`'s general-purpose formatter was a
/// tenth of the instructions of a GET (docs/benchmarks.md). `None` for a year outside
/// 0..=9999. A property test holds it to `time`'s output.
fn write(t: OffsetDateTime, buf: &mut [u8; LEN]) -> Option<&str> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut v = value;
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, u8::from(t.month()).into(), 2);
    put(8, t.day().into(), 2);
    put(11, t.hour().into(), 2);
    put(14, t.minute().into(), 2);
    put(17, t.second().into(), 2);
    put(20, t.millisecond().into(), 3);
    for (at, separator) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        buf[at] = separator;
    }
    std::str::from_utf8(buf).ok()
}

/// Milliseconds since the Unix epoch, the unit storage and clocks use.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The timestamp for a count of milliseconds since the Unix epoch.
pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; LEN];
    match write(*t, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&generic(*t)),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let s = String::deserialize(d)?;
    OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom)
}

/// The same, for optional timestamps. Responses leave an absent one out (with
/// `skip_serializing_if`, docs/api.md#conventions); `null`, which older servers sent, reads as
/// absent.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn millisecond_precision_utc() {
        let t = super::from_millis(1_795_987_662_123);
        assert_eq!(super::format(t), "2026-11-29T21:27:42.123Z");
        assert_eq!(super::to_millis(t), 1_795_987_662_123);
    }

    proptest::proptest! {
        /// The fixed-layout writer says exactly what `time`'s formatter says, over every
        /// millisecond from year 0 to 9999 (and `format` falls back to it beyond).
        #[test]
        fn the_fast_writer_agrees_with_time(ms in -62_167_219_200_000i64..253_402_300_800_000) {
            let t = super::from_millis(ms);
            proptest::prop_assert_eq!(super::format(t), super::generic(t));
        }
    }

    #[test]
    fn years_beyond_four_digits_fall_back() {
        let t = super::from_millis(253_402_300_800_000); // 10000-01-01
        assert_eq!(super::format(t), super::generic(t));
    }
}
