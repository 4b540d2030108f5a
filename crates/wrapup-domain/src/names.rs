//! Names of divisions and wrap-up codes.

use wrapup_types::{ErrorCode, ErrorDetail};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// [`check_name`] as a regular expression (ECMA-262 and Python `re` alike), for the OpenAPI
/// document: surrounding whitespace (which is trimmed), then 1 to 100 characters that are
/// not control characters and neither start nor end with whitespace, then whitespace.
/// Whitespace is Unicode's `White_Space` (what `str::trim` removes); control characters are
/// `Cc` (U+0000–U+001F, U+007F–U+009F), refused anywhere but in the trimmed whitespace. A
/// test holds it to `check_name` on arbitrary strings.
pub const NAME_PATTERN: &str = concat!(
    r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"([^\u0000-\u001f\u007f-\u009f]{0,98}",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// A name is 1 to 100 characters once trimmed of surrounding whitespace. Returns the
/// trimmed name.
pub fn check_name(field: &str, name: &str) -> Result<String, ErrorDetail> {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters; got {chars}."),
        )
        .field(field));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("{field} must not contain control characters."),
        )
        .field(field));
    }
    Ok(trimmed.to_string())
}

/// A description is at most 1024 characters.
pub fn check_description(description: &str) -> Result<(), ErrorDetail> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("description must be at most {MAX_DESCRIPTION_CHARS} characters; got {chars}."),
        )
        .field("description"));
    }
    Ok(())
}

/// The key under which names are unique: names compare ignoring case.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The candidate a mistyped `name` most probably meant: the nearest by edit distance
/// (insertions, deletions, substitutions and swaps of two neighbours), ignoring case and
/// surrounding whitespace, if it is near enough to be a typo (one edit per three
/// characters, at least one). The one "did you mean" rule: body fields and code names both
/// use it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let key: Vec<char> = name_key(name).chars().collect();
    let limit = (key.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                edit_distance(&key, &name_key(c).chars().collect::<Vec<_>>()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: Levenshtein plus swaps of adjacent characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pattern() -> regex::Regex {
        regex::Regex::new(NAME_PATTERN).unwrap()
    }

    /// Characters that sit at the edges of the rule: whitespace that is and is not a
    /// control character, controls, and ordinary letters.
    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec![
                '\t',
                '\n',
                '\u{b}',
                '\u{c}',
                '\r',
                ' ',
                '\u{85}',
                '\u{a0}',
                '\u{1680}',
                '\u{2000}',
                '\u{200a}',
                '\u{2028}',
                '\u{2029}',
                '\u{202f}',
                '\u{205f}',
                '\u{3000}',
                '\u{0}',
                '\u{1f}',
                '\u{7f}',
                '\u{9f}',
                '\u{200b}',
                'a',
                'Z',
                'é',
                '\u{1F600}',
            ]),
            any::<char>(),
        ]
    }

    #[test]
    fn the_pattern_and_the_rule_agree_on_known_names() {
        for (name, ok) in [
            ("Sale", true),
            ("  Sale \t\n", true),
            ("\u{a0}Sale\u{3000}", true),
            ("Sa le", true),
            ("", false),
            ("   ", false),
            ("\t", false),
            ("Sa\tle", false),
            ("Sa\u{85}le", false),
            ("\u{0}", false),
            (&"x".repeat(100), true),
            (&"x".repeat(101), false),
            (&format!("  {}  ", "x".repeat(100)), true),
        ] {
            assert_eq!(check_name("name", name).is_ok(), ok, "{name:?}");
            assert_eq!(pattern().is_match(name), ok, "{name:?}");
        }
    }

    #[test]
    fn typos_find_the_name_meant() {
        let codes = ["Sale", "Callback", "Not interested"];
        assert_eq!(closest("Sael", codes), Some("Sale"));
        assert_eq!(closest("sale ", codes), Some("Sale"));
        assert_eq!(closest("Calback", codes), Some("Callback"));
        assert_eq!(closest("not intrested", codes), Some("Not interested"));
        assert_eq!(closest("Resolved", codes), None);
        assert_eq!(closest("S", codes), None);
        assert_eq!(closest("x", ["notes"]), None);
        assert_eq!(closest("anything", []), None);
    }

    proptest! {
        #[test]
        fn the_pattern_is_the_rule(chars in prop::collection::vec(tricky_char(), 0..110)) {
            let name: String = chars.into_iter().collect();
            prop_assert_eq!(pattern().is_match(&name), check_name("name", &name).is_ok(), "{:?}", name);
        }

        #[test]
        fn names_made_from_the_pattern_are_accepted(
            name in NAME_PATTERN.trim_start_matches('^').trim_end_matches('$')
        ) {
            prop_assert!(check_name("name", &name).is_ok(), "{:?}", name);
        }
    }
}
