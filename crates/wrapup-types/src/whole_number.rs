//! Whole numbers in request bodies. JSON has one number type, and JSON Schema counts `1200.0`
//! as an integer; so does wrapup: a whole number written with a fraction of zero is read as
//! that integer, anything else is refused (the domain's duration checks read numbers the same
//! way).

use serde::{Deserialize, Deserializer};

/// `deserialize_with` for an optional `i64` field that accepts `1200` and `1200.0`.
pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::option")]
        n: Option<i64>,
    }

    #[test]
    fn whole_numbers_in_either_spelling() {
        let read = |s: &str| serde_json::from_str::<T>(s).map(|t| t.n);
        assert_eq!(read(r#"{"n": 1200}"#).unwrap(), Some(1200));
        assert_eq!(read(r#"{"n": -84406.0}"#).unwrap(), Some(-84406));
        assert_eq!(read(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(read("{}").unwrap(), None);
        assert!(read(r#"{"n": 1.5}"#).is_err());
        assert!(read(r#"{"n": "1"}"#).is_err());
    }
}
