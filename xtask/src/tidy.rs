//! The shape of every workspace crate's source (`crates/*/src`), checked: no file over 700
//! lines, and no module that imports (directly or through others) a module that imports it. A
//! module's imports are the `crate::…` and `super::…` paths in its file (`use` or inline),
//! outside comments, strings and its `#[cfg(test)] mod tests`; a `mod` declaration is not an
//! import. `cargo test --workspace` runs both checks (the tests at the end), and so does
//! `cargo run -p xtask -- tidy`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 700;

/// The workspace's `crates/` folder (this crate is `xtask/`, beside it).
fn crates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates")
}

/// The server's `src`, whose imports the parser is checked to see.
fn src() -> PathBuf {
    crates().join("wrapup-server/src")
}

/// The `src` folder of every crate under `crates/`.
fn every_src() -> Vec<PathBuf> {
    let crates = crates();
    let mut out: Vec<PathBuf> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(out.len() >= 7, "crates found: {out:?}");
    out
}

/// Every `.rs` file under `dir`, with its module path (`""` for the crate root).
fn modules(root: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(root, &path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap().with_extension("");
        let mut segments: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if segments.last().is_some_and(|s| s == "mod") {
            segments.pop();
        }
        if segments == ["lib"] || segments == ["main"] {
            segments.clear();
        }
        out.insert(segments.join("::"), path);
    }
}

/// The source without comments, string and char literals, and the unit tests.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |e| e + 2);
        } else if rest.starts_with("r#\"") {
            i += rest.find("\"#").map_or(rest.len(), |e| e + 2);
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if let Some(escaped) = rest.strip_prefix("'\\") {
            i += escaped.find('\'').map_or(rest.len(), |e| e + 3);
        } else if rest.len() >= 3 && bytes[i] == b'\'' && rest[1..].chars().nth(1) == Some('\'') {
            i += 1 + rest[1..].chars().next().unwrap().len_utf8() + 1;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths written at the start of `text`: `a::b::c`, or `a::{b, c::{d, e}}` expanded.
fn paths_at(text: &str) -> (Vec<String>, usize) {
    let mut i = 0;
    let mut prefix: Vec<&str> = Vec::new();
    loop {
        let skipped = text[i..].len() - text[i..].trim_start().len();
        i += skipped;
        if text[i..].starts_with('{') {
            i += 1;
            let mut out = Vec::new();
            loop {
                let skipped = text[i..].len() - text[i..].trim_start().len();
                i += skipped;
                if text[i..].starts_with('}') {
                    i += 1;
                    break;
                }
                if text[i..].starts_with(',') {
                    i += 1;
                    continue;
                }
                let (inner, used) = paths_at(&text[i..]);
                i += used;
                for p in inner {
                    let joined = match p.as_str() {
                        "self" => prefix.join("::"),
                        _ if prefix.is_empty() => p,
                        _ => format!("{}::{p}", prefix.join("::")),
                    };
                    out.push(joined);
                }
            }
            return (out, i);
        }
        let len = text[i..]
            .find(|c: char| !is_ident(c))
            .unwrap_or(text.len() - i);
        if len == 0 {
            return (vec![prefix.join("::")], i);
        }
        prefix.push(&text[i..i + len]);
        i += len;
        if text[i..].starts_with("::") {
            i += 2;
        } else {
            // `as alias` and whatever follows the path is not part of it.
            return (vec![prefix.join("::")], i);
        }
    }
}

/// The modules `module` imports.
fn imports(module: &str, code: &str, all: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
    let parent = &parent[..parent.len().saturating_sub(1)];
    let mut out = BTreeSet::new();
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if code[..at].ends_with(|c: char| is_ident(c) || c == ':') {
            continue; // `$crate::`, `wrapup_types::super…`: not this crate's path
        }
        let (paths, _) = paths_at(&code[at..]);
        for path in paths {
            let mut segments: Vec<&str> = path.split("::").collect();
            let mut base: Vec<&str> = Vec::new();
            if segments[0] == "crate" {
                segments.remove(0);
            } else {
                base = parent.to_vec();
                segments.remove(0);
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    base.pop();
                }
            }
            base.extend(segments);
            // The longest prefix that names a module is the module imported.
            let target = (0..=base.len())
                .rev()
                .map(|n| base[..n].join("::"))
                .find(|candidate| all.contains_key(candidate))
                .unwrap_or_default();
            if target != module {
                out.insert(target);
            }
        }
    }
    out
}

fn name(module: &str) -> &str {
    if module.is_empty() {
        "(crate root)"
    } else {
        module
    }
}

/// Panics naming every file under `crates/*/src` over `MAX_LINES` lines.
pub fn check_file_lengths() {
    let mut all = BTreeMap::new();
    for src in every_src() {
        let mut modules_of_crate = BTreeMap::new();
        modules(&src, &src, &mut modules_of_crate);
        all.extend(modules_of_crate.into_values().map(|p| (p.clone(), p)));
    }
    let long: Vec<String> = all
        .values()
        .map(|path| (path, std::fs::read_to_string(path).unwrap().lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(path, lines)| format!("{}: {lines} lines", path.display()))
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

/// Panics naming the first import cycle found in a crate under `crates/`.
pub fn check_import_cycles() {
    for src in every_src() {
        check_no_cycle(&src);
    }
}

fn check_no_cycle(src: &Path) {
    let server = src == self::src();
    let mut all = BTreeMap::new();
    modules(src, src, &mut all);
    assert!(all.contains_key(""), "no crate root in {}", src.display());
    let graph: BTreeMap<String, BTreeSet<String>> = all
        .iter()
        .map(|(module, path)| {
            let code = code_of(&std::fs::read_to_string(path).unwrap());
            (module.clone(), imports(module, &code, &all))
        })
        .collect();
    // The parser must see the imports it is checking.
    if server {
        assert!(
            graph["routes::interactions"].contains("error"),
            "{graph:#?}"
        );
        assert!(graph["router"].contains("auth::layer"), "{graph:#?}");
    }

    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'g>(
        module: &'g str,
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Result<(), String> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let cycle: Vec<&str> = path[at..]
                .iter()
                .chain([&module])
                .map(|m| name(m))
                .collect();
            return Err(cycle.join(" -> "));
        }
        if !done.insert(module) {
            return Ok(());
        }
        path.push(module);
        for next in &graph[module] {
            visit(next, graph, path, done)?;
        }
        path.pop();
        Ok(())
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Err(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            let edges: Vec<String> = graph
                .iter()
                .map(|(m, to)| format!("{} -> {to:?}", name(m)))
                .collect();
            panic!(
                "import cycle in {}: {cycle}\n{}",
                src.display(),
                edges.join("\n")
            );
        }
    }
}

#[test]
fn no_source_file_is_over_700_lines() {
    check_file_lengths();
}

#[test]
fn no_module_imports_one_that_imports_it() {
    check_import_cycles();
}
