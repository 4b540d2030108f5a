//! Examples in `--help`, verbatim. clap wraps every help text it is given (about, notes,
//! `after_help`) at the terminal's width, which splits a long example into two lines that
//! no longer paste (`export A=… B=…` cut before `B=` sets B without exporting it). The
//! literal text of a help *template* is the one thing it writes as is, so each command's
//! template is clap's default with its examples written into it, one line each.

/// A help template: clap's default layout, then `Examples:` and each example on a line of
/// its own (never wrapped), then the command's `after_help` notes (wrapped as prose).
///
/// A `{` in an example must be closed by a `}` before the next `{` (clap reads `{…}` as a
/// placeholder and writes back the ones it does not know); the tests render every
/// command's help and check that each example comes out whole (quoted JSON still JSON).
macro_rules! examples {
    ($($line:expr),+ $(,)?) => {
        concat!(
            "{before-help}{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}\n\nExamples:",
            $("\n  ", $line,)+
            "{after-help}"
        )
    };
}
pub(crate) use examples;

/// The examples of a rendered `--help`: the lines under `Examples:`, up to a blank line.
#[cfg(test)]
pub fn examples_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim_start().to_string())
        .collect()
}

/// The words of the first `wrapup …` command in an example line (also inside `$(…)`), as a
/// shell would pass them: quotes removed, stopping at a pipe, a redirection, a comment or
/// the `)` of a substitution, with `$ID`-style variables and `$(…)` replaced by a UUID
/// (every variable of the examples holds one).
#[cfg(test)]
pub fn command_words(example: &str) -> Option<Vec<String>> {
    // `wrapup` as a command: at the start, or after a space, a pipe or `$(`.
    let start = example
        .match_indices("wrapup ")
        .map(|(i, _)| i)
        .find(|&i| {
            example[..i]
                .chars()
                .last()
                .is_none_or(|c| c.is_whitespace() || c == '|' || c == '(')
        })?;
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = example[start..].chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            // A pipe, a redirection, a comment, or the end of a `$(…)`.
            (None, '|' | '>' | '<' | '#' | ')') => break,
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, '$') => {
                // A variable or a command substitution: one UUID stands for it.
                if chars.peek() == Some(&'(') {
                    for c in chars.by_ref() {
                        if c == ')' {
                            break;
                        }
                    }
                } else {
                    while chars
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                    {
                        chars.next();
                    }
                }
                word.push_str("00000000-0000-4000-8000-0000000000e3");
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    Some(words)
}
