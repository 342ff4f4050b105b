//! The layers of `src/` point only down. ARCHITECTURE.md's layer table is read here, every
//! `crate::` and `super::` path in `src/` is read from the code (comments and string literals
//! skipped), and the test fails on an import from a module to one in its own layer or a higher
//! one: such an import points up, or could close a loop. A module missing from the table, or a
//! table row naming no module, fails too, so the table and the code cannot drift apart.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The layer table of ARCHITECTURE.md: each top-level module with its layer number.
fn layer_table() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut table = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(Ok(layer)) = cells.get(1).map(|c| c.parse::<usize>()) else {
            continue;
        };
        for module in cells[2].split(',') {
            let module = module.trim().trim_matches('`').to_string();
            assert!(
                table.insert(module.clone(), layer).is_none(),
                "`{module}` stands twice in ARCHITECTURE.md's layer table"
            );
        }
    }
    assert!(
        !table.is_empty(),
        "ARCHITECTURE.md's layer table has no rows"
    );
    table
}

/// The crate's top-level modules, as `src/lib.rs` declares them.
fn top_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// `text` with comments, string literals and character literals blanked (newlines kept, so
/// line numbers hold): what is left is code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br"))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // A raw string: r"..", r#".."#, br#".."#.
            let start = i + if rest[0] == b'b' { 2 } else { 1 };
            let hashes = b[start..].iter().take_while(|&&c| c == b'#').count();
            if b.get(start + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = start + hashes + 1;
            let end = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{1F600}', '"'); otherwise a lifetime.
            let end = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = std::str::from_utf8(&rest[1..rest.len().min(6)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(5)]).ok())
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(4)]).ok())
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(3)]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(1 + ch) == Some(&b'\'')).then_some(ch + 2)
            };
            match end {
                Some(n) => {
                    blank(&mut out, i, i + n);
                    i += n;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: only ASCII bytes are replaced")
}

/// The identifiers a path names after its prefix: `diag` for `diag::Span`, and `diag`, `load`
/// for `{diag::Span, load::{Node, V}}`.
fn first_segments(after: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let after = after.trim_start();
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after)];
    };
    let mut out = vec![];
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(ident(group[start..i].trim_start()));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(ident(group[start..i].trim_start()));
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// One path from a file of `src/` into another part of the crate.
struct Import {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// The module path of a file: `["load", "stored"]` for src/load/stored.rs, `["load"]` for
/// src/load/mod.rs.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Every path from one file to the crate's root level: `crate::x`, and `super::` chains that
/// climb out of the file's top-level module.
fn imports_of(rel: &Path, text: &str, modules: &BTreeSet<String>) -> Vec<Import> {
    let code = code_only(text);
    let path = module_path(rel);
    let from = path[0].clone();
    let mut out = vec![];
    for (n, line) in code.lines().enumerate() {
        let mut targets = vec![];
        for (i, _) in line.match_indices("crate::") {
            let word_start =
                i == 0 || !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            if word_start {
                targets.extend(first_segments(&line[i + "crate::".len()..]));
            }
        }
        for (i, _) in line.match_indices("super::") {
            if i > 0 && line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut rest = &line[i..];
            let mut ups = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                ups += 1;
                rest = r;
            }
            // A chain that reaches the crate's root names a top-level module next (`super::`
            // in an inline `mod tests` of a top-level file names the file's own items).
            if ups >= path.len() {
                targets.extend(
                    first_segments(rest)
                        .into_iter()
                        .filter(|t| modules.contains(t)),
                );
            }
        }
        for to in targets {
            if to.is_empty() || to == "self" || to == from {
                continue;
            }
            let to = if modules.contains(&to) {
                to
            } else {
                format!("<the crate root's `{to}`>")
            };
            out.push(Import {
                file: format!("src/{}", rel.display()),
                line: n + 1,
                from: from.clone(),
                to,
            });
        }
    }
    out
}

#[test]
fn layers_point_only_down() {
    let table = layer_table();
    let modules = top_modules();
    let mut problems = vec![];
    for m in &modules {
        if !table.contains_key(m) {
            problems.push(format!(
                "module `{m}` is in no layer of ARCHITECTURE.md's table: add it to one"
            ));
        }
    }
    for m in table.keys() {
        if !modules.contains(m) {
            problems.push(format!(
                "ARCHITECTURE.md's layer table names `{m}`, which src/lib.rs does not declare"
            ));
        }
    }
    let files = common::rust_sources();
    let mut edges: BTreeMap<(String, String), usize> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(root().join("src")).unwrap().to_path_buf();
        // The crate root only declares the modules and re-exports the driver's entry points;
        // the binary is a crate of its own.
        if rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for imp in imports_of(&rel, &text, &modules) {
            *edges.entry((imp.from.clone(), imp.to.clone())).or_default() += 1;
            let (Some(&from), Some(&to)) = (table.get(&imp.from), table.get(&imp.to)) else {
                if !modules.contains(&imp.to) {
                    problems.push(format!(
                        "{}:{}: {} reaches {} : name the module that defines it",
                        imp.file, imp.line, imp.from, imp.to
                    ));
                }
                continue;
            };
            if to >= from {
                let how = if to == from {
                    "its own layer (an import between modules of one layer can close a loop)"
                } else {
                    "a higher layer"
                };
                problems.push(format!(
                    "{}:{}: `{}` (layer {from}) imports `{}` (layer {to}), {how}: move the item \
                     it needs down, or this code up",
                    imp.file, imp.line, imp.from, imp.to
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the layers of ARCHITECTURE.md do not hold:\n{}",
        problems.join("\n")
    );
    // What the layers allow and the code uses, for a reader of the test's output.
    for ((from, to), n) in &edges {
        println!("{from} -> {to} ({n})");
    }
}

#[test]
fn the_reader_sees_code_only() {
    let text = "use crate::a::B; // crate::c\nlet s = \"crate::d\"; let r = r#\"crate::e\"#;\n\
                let c = '\"'; fn f<'a>(x: &'a crate::g::H) {}\n/* crate::i */ crate::{j::K, l}";
    let mods: BTreeSet<String> = ["a", "c", "d", "e", "g", "i", "j", "l", "x"]
        .map(String::from)
        .into();
    let found: Vec<String> = imports_of(Path::new("x.rs"), text, &mods)
        .into_iter()
        .map(|i| i.to)
        .collect();
    assert_eq!(found, ["a", "g", "j", "l"]);
    let climbs: Vec<String> = imports_of(
        Path::new("x/y.rs"),
        "use super::z; use super::super::a::B;",
        &mods,
    )
    .into_iter()
    .map(|i| i.to)
    .collect();
    assert_eq!(climbs, ["a"]);
}
