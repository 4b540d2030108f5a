//! Commands people guess. clap suggests the commands spelled most like an unknown one
//! (`wrapup list` → `clients`, `lint`), which misleads when the word is a command of a
//! group (`interactions list`) or a synonym of one (`wrap-up` for `apply`). For those, the
//! error suggests what was most likely meant instead; other unknown words keep clap's
//! suggestions.

use clap::builder::StyledStr;
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Words that are not commands of `wrapup` but that people type for one, and the tip.
const CONFUSIONS: &[(&[&str], &str)] = &[
    (
        &[
            "wrap-up",
            "wrapup",
            "apply-wrapup",
            "apply-wrap-up",
            "wrap",
            "wrapups",
            "wrap-ups",
        ],
        "a wrap-up is applied with 'wrapup apply', e.g. wrapup apply ID --code Sale --duration 2m",
    ),
    (
        &["server", "start", "run"],
        "the server runs with 'wrapup serve' ('wrapup serve --demo' seeds a demo organisation)",
    ),
    (
        &["check", "validate"],
        "'wrapup doctor' checks everything a wrap-up needs; 'wrapup lint' checks a body offline",
    ),
];

/// The tip for `word` in the place of a command of `root`, if there is a better one than
/// clap's: a known confusion, or the commands of the groups that have one of that name.
fn tip(root: &clap::Command, word: &str) -> Option<String> {
    if let Some((_, tip)) = CONFUSIONS.iter().find(|(words, _)| words.contains(&word)) {
        return Some((*tip).to_string());
    }
    let meant: Vec<String> = root
        .get_subcommands()
        .flat_map(|group| {
            group
                .get_subcommands()
                .filter(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word))
                .map(move |c| {
                    format!(
                        "'{} {} {}'",
                        root.get_name(),
                        group.get_name(),
                        c.get_name()
                    )
                })
        })
        .collect();
    match meant.len() {
        0 => None,
        1 => Some(format!("did you mean {}?", meant[0])),
        _ => Some(format!("did you mean one of {}?", meant.join(", "))),
    }
}

/// `error` with a better suggestion when it is about an unknown command of `root` itself
/// (not of one of its groups) that people are known to guess.
pub fn improve(error: clap::Error, root: &clap::Command) -> clap::Error {
    if error.kind() != ErrorKind::InvalidSubcommand {
        return error;
    }
    let (Some(ContextValue::String(word)), Some(ContextValue::StyledStr(usage))) = (
        error.get(ContextKind::InvalidSubcommand),
        error.get(ContextKind::Usage),
    ) else {
        return error;
    };
    // The usage line says which command the word was given to: `wrapup [OPTIONS] <COMMAND>`
    // for the top level, `wrapup codes [OPTIONS] <COMMAND>` for a group.
    let top_level = usage
        .to_string()
        .contains(&format!("{} [OPTIONS] <COMMAND>", root.get_name()));
    let Some(tip) = tip(root, word).filter(|_| top_level) else {
        return error;
    };
    let mut better = clap::Error::new(ErrorKind::InvalidSubcommand).with_cmd(root);
    better.insert(
        ContextKind::InvalidSubcommand,
        ContextValue::String(word.clone()),
    );
    better.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![StyledStr::from(tip)]),
    );
    better.insert(ContextKind::Usage, ContextValue::StyledStr(usage.clone()));
    better
}
