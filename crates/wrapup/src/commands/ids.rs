//! Ids on the command line: a UUID, or a message that says what an id of that kind looks
//! like and which command lists them (rather than the UUID parser's "invalid length: found
//! 2").

use uuid::Uuid;

fn parse(s: &str, what: &str, example: &str, list: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        format!(
            "`{s}` is not {what} id: {what} id is a UUID, like {example}; list them with `{list}`"
        )
    })
}

/// An interaction's id.
pub fn interaction_id(s: &str) -> Result<Uuid, String> {
    parse(
        s,
        "an interaction",
        "00000000-0000-4000-8000-0000000000e3",
        "wrapup interactions list",
    )
}

/// A division's id.
pub fn division_id(s: &str) -> Result<Uuid, String> {
    parse(
        s,
        "a division",
        "00000000-0000-4000-8000-0000000000a1",
        "wrapup divisions list",
    )
}

/// A wrap-up code's id.
pub fn code_id(s: &str) -> Result<Uuid, String> {
    parse(
        s,
        "a wrap-up code",
        "00000000-0000-4000-8000-0000000000c1",
        "wrapup codes list",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bad_id_says_what_an_id_is_and_where_to_find_one() {
        let e = super::interaction_id("e3").unwrap_err();
        assert_eq!(
            e,
            "`e3` is not an interaction id: an interaction id is a UUID, like 00000000-0000-4000-8000-0000000000e3; list them with `wrapup interactions list`"
        );
        assert!(super::division_id("Sales")
            .unwrap_err()
            .contains("wrapup divisions list"));
        assert!(super::code_id(" 00000000-0000-4000-8000-0000000000c1 ").is_ok());
    }
}
