//! Every rule is a documented unit: each code's row in src/diag/codes.rs has its documentation,
//! is shown to fire by a bad input (whose `# expect:` line names it; tests/bad_inputs.rs and
//! tests/fleet.rs hold the inputs to it) or by a named test, and is produced somewhere in src/.
//! docs/rules.md is generated from the rows (`NATSCC_BLESS=1` rewrites it), and
//! `natscc rules --explain CODE` prints a row.

mod common;

use common::natscc;
use natscc::diag::{Code, Shown};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The text of `fn name(` up to the first line that closes it at the left margin.
fn function<'a>(file: &'a str, name: &str) -> Option<&'a str> {
    let start = file.find(&format!("fn {name}("))?;
    let rest = &file[start..];
    let end = rest.find("\n}\n").map(|e| e + 3).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Whether a test function names the code, itself or through a `const` of the file.
fn names_code(file: &str, body: &str, code: &str) -> bool {
    if body.contains(code) {
        return true;
    }
    file.lines()
        .filter(|l| l.contains(&format!("\"{code}\"")))
        .filter_map(|l| l.trim().strip_prefix("const "))
        .filter_map(|l| l.split(':').next())
        .any(|name| body.contains(name.trim()))
}

/// What is wrong with one code's row, if anything.
fn row_problems(code: Code, sources: &[(PathBuf, String)]) -> Vec<String> {
    let rule = code.rule();
    let mut problems = vec![];
    for (part, text) in [
        ("summary", rule.summary),
        ("why", rule.why),
        ("fix", rule.fix),
    ] {
        if text.trim().len() < 10 || !text.trim_end().ends_with(['.', ')']) {
            problems.push(format!("its {part} is not a sentence: {text:?}"));
        }
    }
    if rule.why == rule.summary || rule.fix == rule.why {
        problems.push("its why repeats the summary or the fix".into());
    }
    let expect = format!("# expect: {} ", code.name());
    match rule.shown {
        Shown::Fixture { path, text } => {
            let on_disk = std::fs::read_to_string(root().join(path)).unwrap_or_default();
            if on_disk != text {
                problems.push(format!("{path} is not the fixture it embeds"));
            }
            if !text.lines().any(|l| l.starts_with(&expect)) {
                problems.push(format!("{path} has no `{}` line", expect.trim_end()));
            }
        }
        Shown::Test {
            file,
            function: name,
            example,
        } => {
            let text = std::fs::read_to_string(root().join(file)).unwrap_or_default();
            match function(&text, name) {
                None => problems.push(format!("{file} has no fn {name}")),
                Some(body) => {
                    let before = &text[..text.find(body).unwrap_or(0)];
                    let attribute = before
                        .lines()
                        .rev()
                        .find(|l| !l.trim_start().starts_with("///"));
                    if !attribute.is_some_and(|l| l.contains("test]")) {
                        problems.push(format!("{file}: fn {name} is not a test"));
                    }
                    if !names_code(&text, body, code.name()) {
                        problems.push(format!("{file}: fn {name} does not name the code"));
                    }
                }
            }
            if example.trim().is_empty() {
                problems.push("its example is empty".into());
            }
        }
    }
    let constant = format!("Code::{}", code.variant());
    let produced = sources.iter().any(|(p, text)| {
        !p.ends_with("diag/codes.rs")
            && text.match_indices(&constant).any(|(i, _)| {
                !text[i + constant.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
    });
    if !produced {
        problems.push(format!("no file of src/ uses {constant}"));
    }
    problems
}

#[test]
fn every_code_is_documented_shown_and_produced() {
    let files = common::rust_sources();
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    let problems: Vec<String> = Code::ALL
        .iter()
        .flat_map(|c| {
            row_problems(*c, &sources)
                .into_iter()
                .map(move |p| format!("{}: {p}", c.name()))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) in src/diag/codes.rs:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn docs_rules_md_is_generated_from_the_rows() {
    let path = root().join("docs/rules.md");
    let want = natscc::diag::explain::markdown();
    if std::env::var("NATSCC_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is not what src/diag/codes.rs generates; run \
         `NATSCC_BLESS=1 bash scripts/test.sh --test rules` and review the diff"
    );
    for c in Code::ALL {
        assert!(
            have.contains(&format!("### `{}`", c.name())),
            "{}",
            c.name()
        );
    }
}

#[test]
fn rules_explain_prints_a_code_and_refuses_an_unknown_one() {
    let out = natscc()
        .args(["rules", "--explain", "graph::cycle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim_end(),
        natscc::diag::explain::section(Code::ImportCycle).trim_end()
    );
    assert!(text.contains("**Why:**") && text.contains("import-cycle-extra-accounts.yaml"));

    let out = natscc()
        .args(["rules", "--explain", "graph::cycles"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("did you mean `natscc::graph::cycle`?"),
        "{err}"
    );
}
