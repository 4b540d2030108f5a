//! Every command and every flag of `wrapup`, exercised without a server: the whole clap tree
//! is walked, every leaf command is given a command line with a valid value for every
//! argument it declares (the global options too), and the parsed matches are read back
//! with the types the derive declared (`FromArgMatches`), which is where a flag whose
//! value parser returns another type than its field panics ("Mismatch between definition
//! and access"). A flag of a subcommand may not reuse the id or long name of a global
//! option: clap then lets the subcommand's value stand for the global one.

use std::panic::{catch_unwind, AssertUnwindSafe};

use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};

use crate::Cli;

/// Values tried, in order, for an argument without a fixed list of possible values: the
/// first its value parser accepts is given.
const CANDIDATES: &[&str] = &[
    "00000000-0000-4000-8000-0000000000e3",
    "2m",
    "1",
    "interaction.finalized,interaction.wrapup",
    "interaction.finalized",
    "30",
    "300/min",
    "127.0.0.1:0",
    "503=1%",
    "5s,5m",
    "active",
    "voice",
    "csv",
];

/// Whether clap's own help and version flags: not the commands' arguments.
fn is_builtin(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

/// A value `arg` accepts: its first possible value, else the first candidate its value
/// parser takes (tried on a command holding only a copy of the parser).
fn valid_value(arg: &Arg) -> Option<String> {
    if let Some(value) = arg.get_possible_values().first() {
        return Some(value.get_name().to_string());
    }
    CANDIDATES
        .iter()
        .find(|candidate| {
            clap::Command::new("probe")
                .arg(
                    Arg::new("value")
                        .long("value")
                        .action(ArgAction::Set)
                        .value_delimiter(arg.get_value_delimiter())
                        .value_parser(arg.get_value_parser().clone()),
                )
                .try_get_matches_from(["probe", "--value", candidate])
                .is_ok()
        })
        .map(|v| v.to_string())
}

/// The words that give `arg` a value (or set it, for a flag).
fn words_for(arg: &Arg, failures: &mut Vec<String>, path: &str) -> Vec<String> {
    let value = if arg.get_action().takes_values() {
        match valid_value(arg) {
            Some(value) => Some(value),
            None => {
                failures.push(format!(
                    "`{path}`: no value of the test's candidates is valid for {}; add one",
                    arg.get_id()
                ));
                return Vec::new();
            }
        }
    } else {
        None
    };
    let mut words = Vec::new();
    if !arg.is_positional() {
        match (arg.get_long(), arg.get_short()) {
            (Some(long), _) => words.push(format!("--{long}")),
            (None, Some(short)) => words.push(format!("-{short}")),
            (None, None) => unreachable!("an option has a name"),
        }
    }
    words.extend(value);
    words
}

/// The leaf commands under `cmd` (those without subcommands), with their paths.
fn leaves<'a>(
    cmd: &'a clap::Command,
    path: &[&'a str],
    out: &mut Vec<(Vec<&'a str>, &'a clap::Command)>,
) {
    if cmd.get_subcommands().next().is_none() {
        out.push((path.to_vec(), cmd));
    }
    for sub in cmd.get_subcommands() {
        let mut path = path.to_vec();
        path.push(sub.get_name());
        leaves(sub, &path, out);
    }
}

#[test]
fn every_command_takes_every_flag_it_declares_and_reads_it_back() {
    Cli::command().debug_assert();
    let root = Cli::command();
    let globals: Vec<&Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set() && !is_builtin(a))
        .collect();
    let mut failures = Vec::new();

    // Every global option, given once, before the command.
    let mut global_words = Vec::new();
    for arg in &globals {
        global_words.extend(words_for(arg, &mut failures, "wrapup"));
    }

    let mut commands = Vec::new();
    for sub in root.get_subcommands() {
        leaves(sub, &[sub.get_name()], &mut commands);
    }
    assert!(commands.len() >= 30, "{} commands", commands.len());
    let mut flags_given = 0;
    for (path, cmd) in &commands {
        let name = format!("wrapup {}", path.join(" "));
        let mut words: Vec<String> = vec!["wrapup".into()];
        words.extend(global_words.iter().cloned());
        words.extend(path.iter().map(|s| s.to_string()));
        let mut given: Vec<&Arg> = Vec::new();
        for arg in cmd.get_arguments().filter(|a| !is_builtin(a)) {
            for global in &globals {
                if arg.get_id() == global.get_id()
                    || (arg.get_long().is_some() && arg.get_long() == global.get_long())
                {
                    failures.push(format!(
                        "`{name}`: its {} shadows the global option --{} (rename it)",
                        arg.get_long()
                            .map_or(arg.get_id().to_string(), |l| format!("--{l}")),
                        global.get_long().unwrap_or_default()
                    ));
                }
            }
            // `[env: WRAPUP_DB=]` in the help, or the variable's value (a password in a
            // database URL): the name alone.
            if arg.get_env().is_some() && !arg.is_hide_env_values_set() {
                failures.push(format!(
                    "`{name}`: --{} shows its environment variable's value in --help",
                    arg.get_long().unwrap_or_default()
                ));
            }
            if !arg.is_positional() && arg.get_help().is_none() {
                failures.push(format!(
                    "`{name}`: --{} has no help text",
                    arg.get_long().unwrap_or_default()
                ));
            }
            // One side of each conflict (`--enable`/`--disable`, `--from`/`--since`), stated
            // on either side.
            let conflicts = cmd.get_arg_conflicts_with(arg);
            if given.iter().any(|g| {
                conflicts.iter().any(|c| c.get_id() == g.get_id())
                    || cmd
                        .get_arg_conflicts_with(g)
                        .iter()
                        .any(|c| c.get_id() == arg.get_id())
            }) {
                continue;
            }
            words.extend(words_for(arg, &mut failures, &name));
            given.push(arg);
            flags_given += 1;
        }
        let matches = match Cli::command().try_get_matches_from(&words) {
            Ok(matches) => matches,
            Err(e) => {
                failures.push(format!("`{}` does not parse: {e}", words.join(" ")));
                continue;
            }
        };
        let read = catch_unwind(AssertUnwindSafe(|| Cli::from_arg_matches(&matches)));
        match read {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failures.push(format!("`{}`: {e}", words.join(" "))),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!(
                    "`{}` panics reading its arguments: {why}",
                    words.join(" ")
                ));
            }
        }
    }
    assert!(flags_given > 80, "{flags_given} arguments given");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
