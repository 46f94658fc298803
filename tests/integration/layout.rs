//! The shape of the source tree (docs/DESIGN.md, "Module map"): the top-level modules of
//! `src/` in their import order, each importing only modules before it (so no cycle); no
//! source file over 1,000 lines (test files apart); no two files of one name (`mod.rs` and
//! `tests.rs` apart). Imports of test code (`tests.rs`, `tests/` directories and
//! `#[cfg(test)]` items) are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The import order: leaves first, then the stages, then the wiring. A module may import the
/// modules before it, never one after it. `api` and `constructed` come before `config`: the
/// configuration holds the client's credential types and compiles constructed expressions as
/// it is read. `hostvars` comes before `fetch`, which decodes pages into hostvars, and `output`
/// before `cache`, which stores the bytes `output` writes.
const ORDER: &[&str] = &[
    "service_codes",
    "error",
    "diag",
    "process",
    "footmark",
    "group_names",
    "json",
    "cli",
    "api",
    "constructed",
    "config",
    "credentials",
    "hostvars",
    "fetch",
    "inventory",
    "output",
    "cache",
    "check",
    "run",
];

const MAX_LINES: usize = 1000;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source files that are not test code, relative to `src/`, with their text up to any
/// `#[cfg(test)] mod tests {` block.
fn production_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(src()).unwrap().to_str().unwrap().to_string();
            let test = rel
                .split('/')
                .any(|part| part == "tests" || part == "tests.rs");
            if test {
                return None;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests {") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            Some((rel, code))
        })
        .collect()
}

/// The top-level module a file of `src/` belongs to (None: the crate root or the binary).
fn module_of(rel: &str) -> Option<&str> {
    let first = rel.split('/').next().unwrap();
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then_some(name)
}

/// The top-level modules `code` names as `crate::NAME`, lines of `#[cfg(test)]` items apart.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut skip_next = false;
    for line in code.lines() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if line.trim() == "#[cfg(test)]" {
            skip_next = true;
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_modules_before_it() {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut wrong = Vec::new();
    let mut modules = BTreeSet::new();
    for (rel, code) in production_files() {
        let Some(module) = module_of(&rel) else {
            continue;
        };
        modules.insert(module.to_string());
        let Some(mine) = rank(module) else {
            wrong.push(format!("{rel}: module {module} is not in ORDER"));
            continue;
        };
        for used in imports(&code) {
            if used == module {
                continue;
            }
            match rank(&used) {
                // Macros exported at the crate root (`crate::info!`).
                None if used == "info" => {}
                None => wrong.push(format!("{rel}: crate::{used} is not a module in ORDER")),
                Some(r) if r > mine => wrong.push(format!(
                    "{rel} ({module}) imports {used}, which comes after it"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let listed: BTreeSet<String> = ORDER.iter().map(|s| s.to_string()).collect();
    assert_eq!(modules, listed, "ORDER names exactly the modules of src/");
    // lib.rs declares them in that order.
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    assert_eq!(declared, ORDER, "lib.rs declares the modules in ORDER");
}

/// Whole files, inline test modules included: tests that outgrow a file go to `tests.rs`.
#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let long: Vec<String> = production_files()
        .into_iter()
        .map(|(rel, _)| {
            let lines = std::fs::read_to_string(src().join(&rel))
                .unwrap()
                .lines()
                .count();
            (rel, lines)
        })
        .filter(|&(_, lines)| lines > MAX_LINES)
        .map(|(rel, lines)| format!("{rel}: {lines} lines"))
        .collect();
    assert!(long.is_empty(), "{long:?}");
}

#[test]
fn no_two_files_share_a_name() {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for p in files {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name == "mod.rs" || name == "tests.rs" {
            continue;
        }
        let rel = p.strip_prefix(src()).unwrap().display().to_string();
        by_name.entry(name).or_default().push(rel);
    }
    let shared: Vec<_> = by_name.into_iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(shared.is_empty(), "{shared:?}");
}

/// The checks above can fail: an import of a later module is found.
#[test]
fn a_later_import_is_seen() {
    let code =
        "use crate::json::write_str;\nuse crate::run::Outcome;\n#[cfg(test)]\nuse crate::check;\n";
    let found = imports(code);
    assert_eq!(
        found,
        BTreeSet::from(["json".to_string(), "run".to_string()])
    );
    assert_eq!(module_of("fetch/fan_out.rs"), Some("fetch"));
    assert_eq!(module_of("error.rs"), Some("error"));
    assert_eq!(module_of("lib.rs"), None);
}
