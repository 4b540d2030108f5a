//! Lists the web console's files for `src/console.rs`: every file under `console/`, less
//! what is there for developers only (documentation, licences, tool configuration,
//! `node_modules`, dot-files). It writes `$OUT_DIR/console_assets.rs`, an `assets![…]`
//! invocation with the paths sorted, which `console::ASSETS` includes; the files themselves
//! are embedded by `include_bytes!` there. Adding a console file needs no Rust edit.

use std::fmt::Write as _;
use std::path::Path;

/// Files of `console/` that are never served, whatever folder they are in.
const NOT_SERVED: &[&str] = &[
    "README.md",
    "LICENSE",
    "NOTICE",
    "package.json",
    "package-lock.json",
    "jsconfig.json",
    "tsconfig.json",
    "biome.json",
    "biome.jsonc",
];

fn main() {
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("console");
    // A directory here makes cargo rerun this script when anything under it changes.
    println!("cargo:rerun-if-changed=console");
    println!("cargo:rerun-if-changed=build.rs");

    let mut paths = Vec::new();
    walk(&root, "", &mut paths);
    paths.sort();

    let mut out = String::from("assets![\n");
    for path in &paths {
        writeln!(out, "    {path:?},").unwrap();
    }
    out.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("console_assets.rs");
    std::fs::write(dest, out).unwrap();
}

fn walk(dir: &Path, prefix: &str, paths: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name
            .to_str()
            .unwrap_or_else(|| panic!("a console file name is not UTF-8: {name:?}"));
        if name.starts_with('.') || name == "node_modules" || NOT_SERVED.contains(&name) {
            continue;
        }
        let relative = format!("{prefix}{name}");
        if entry.file_type().unwrap().is_dir() {
            walk(&entry.path(), &format!("{relative}/"), paths);
        } else {
            paths.push(relative);
        }
    }
}
