//! How the commands print what they got: JSON for scripts (`--json`), lines for people.

use wrapup_types::{Division, Interaction, InteractionState, WrapUpCode};

/// Prints `value` as one pretty JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a list: one line per entity, or the page as JSON.
pub fn print_list<T: serde::Serialize>(
    json: bool,
    entities: &[T],
    next: Option<String>,
    line: impl Fn(&T) -> String,
    what: &str,
) -> anyhow::Result<()> {
    if json {
        return print_json(&serde_json::json!({"entities": entities, "nextCursor": next}));
    }
    entities.iter().for_each(|e| println!("{}", line(e)));
    if entities.is_empty() {
        println!("(no {what})");
    }
    // On stderr: a pipe gets the entities only.
    if let Some(next) = next {
        eprintln!("more: --cursor {next} (or --all)");
    }
    Ok(())
}

/// A division as a line of output names it: `Sales (id)`, or the id when its name is
/// unknown (`name` is then the id itself).
fn division_label(name: &str, id: uuid::Uuid) -> String {
    if name == id.to_string() {
        name.to_string()
    } else {
        format!("{name} ({id})")
    }
}

/// An interaction on one line: id, state, channel, division (`division` is its name, or
/// its id when the name is unknown), wrap-up.
pub fn interaction_line(i: &Interaction, division: &str) -> String {
    let state = if i.state == InteractionState::Closed && !i.finalized {
        "closed (not finalized)".to_string()
    } else {
        i.state.to_string()
    };
    let wrapup = i
        .wrap_up
        .as_ref()
        .map(|w| format!("  wrap-up \"{}\"", w.code_name))
        .unwrap_or_default();
    format!(
        "{}  {:<22}  {:<7}  division {}{wrapup}",
        i.id,
        state,
        i.channel.as_str(),
        division_label(division, i.division_id)
    )
}

/// A wrap-up code on one line: id, name, division (`division` is its name, or its id when
/// the name is unknown), archived.
pub fn code_line(c: &WrapUpCode, division: &str) -> String {
    format!(
        "{}  {:<24}  division {}{}",
        c.id,
        c.name,
        division_label(division, c.division_id),
        if c.archived { "  (archived)" } else { "" }
    )
}

/// A division on one line: id and name.
pub fn division_line(d: &Division) -> String {
    format!("{}  {}", d.id, d.name)
}

/// Milliseconds as people read them.
pub fn human_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => {
            let s = ms / 1000;
            let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
            match (h, m, s) {
                (0, m, 0) => format!("{m}m"),
                (0, m, s) => format!("{m}m{s}s"),
                (h, 0, 0) => format!("{h}h"),
                (h, m, _) => format!("{h}h{m}m"),
            }
        }
    }
}

/// Quotes a string for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_durations() {
        for (ms, text) in [
            (5, "5 ms"),
            (1500, "1.5 s"),
            (120_000, "2m"),
            (125_000, "2m5s"),
            (5_400_000, "1h30m"),
            (3_600_000, "1h"),
        ] {
            assert_eq!(super::human_ms(ms), text);
        }
    }
}
