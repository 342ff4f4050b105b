//! A rule's documentation as Markdown, from its row in `codes.rs`: `natscc rules --explain CODE`
//! prints one section, docs/rules.md is all of them (tests/rules.rs keeps the file current).

use super::codes::Shown;
use super::{Code, Severity};
use std::fmt::Write;

/// Prose is wrapped at this width, in the terminal and in docs/rules.md.
const WIDTH: usize = 100;

/// The family of a code: `accounts` for `natscc::accounts::name`.
pub fn family(code: Code) -> &'static str {
    code.name().split("::").nth(1).unwrap_or("")
}

/// One code's section: its name, severity, summary, why, what to write instead, and example.
pub fn section(code: Code) -> String {
    let rule = code.rule();
    let severity = match code.default_severity() {
        Severity::Error => "An error",
        Severity::Warning => "A warning",
    };
    let mut out = format!("### `{}`\n\n", code.name());
    paragraph(
        &mut out,
        &format!("{severity} by default. {}", rule.summary),
    );
    paragraph(&mut out, &format!("**Why:** {}", rule.why));
    paragraph(&mut out, &format!("**Instead:** {}", rule.fix));
    match rule.shown {
        Shown::Fixture { path, text } => {
            let _ = writeln!(
                out,
                "**Example** (`{path}`; its `# expect:` lines name each code and line):\n"
            );
            fenced(&mut out, "yaml", text);
        }
        Shown::Test {
            file,
            function,
            example,
        } => {
            paragraph(
                &mut out,
                &format!("**Example** (shown by `{function}` in `{file}`):"),
            );
            fenced(&mut out, "text", example);
        }
    }
    out
}

/// docs/rules.md: every code's section, by family, in the order of the table.
pub fn markdown() -> String {
    let mut out = String::from(
        "# natscc rules\n\n\
         <!-- Generated from src/diag/codes.rs by tests/rules.rs; do not edit.\n     \
         `NATSCC_BLESS=1 bash scripts/test.sh --test rules` rewrites it. -->\n\n",
    );
    paragraph(
        &mut out,
        "Every diagnostic code natscc reports, with its default severity, why a finding breaks \
         the bus, what to write instead, and an example. `natscc rules` lists the codes; `natscc \
         rules --explain CODE` prints one of these sections. A warning can be allowed or made an \
         error per code (`--allow`, `--deny`, `.natscc.yaml`); an error cannot be lowered.",
    );
    let mut families: Vec<&str> = vec![];
    for c in Code::ALL {
        if !families.contains(&family(*c)) {
            families.push(family(*c));
        }
    }
    for f in families {
        let _ = writeln!(out, "## {f}\n");
        for c in Code::ALL.iter().filter(|c| family(**c) == f) {
            out.push_str(&section(*c));
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Appends `text` wrapped at `WIDTH` (never inside a word), then a blank line.
fn paragraph(out: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push_str("\n\n");
}

fn fenced(out: &mut String, lang: &str, text: &str) {
    let _ = writeln!(out, "```{lang}\n{}\n```\n", text.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_wrap_between_words() {
        let mut out = String::new();
        let long = "word ".repeat(40);
        paragraph(&mut out, &long);
        assert!(out.lines().all(|l| l.len() <= WIDTH), "{out}");
        assert_eq!(out.split_whitespace().count(), 40);
    }

    #[test]
    fn a_section_names_its_code_and_example() {
        let s = section(Code::AccountName);
        assert!(s.starts_with("### `natscc::accounts::name`\n\nAn error by default."));
        assert!(s.contains("fixtures/bad/account-name-dash.yaml"));
        assert!(s.contains("line-3: {}"));
    }
}
