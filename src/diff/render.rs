//! The plan in words: human text, JSON, or Markdown for a pull-request comment. The only
//! module of `diff` that knows output formats.

use super::plan::{ClusterPlan, How, exit_code};
use serde_json::json;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

pub fn render(format: PlanFormat, plans: &[ClusterPlan]) -> String {
    match format {
        PlanFormat::Human => human(plans),
        PlanFormat::Json => {
            let doc = json!({ "clusters": plans, "exit_code": exit_code(plans) });
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        PlanFormat::Markdown => markdown(plans),
    }
}

/// The parts of a plan in order of first appearance.
fn parts(p: &ClusterPlan) -> Vec<&str> {
    let mut out: Vec<&str> = vec![];
    for c in &p.changes {
        if !out.contains(&c.part.as_str()) {
            out.push(&c.part);
        }
    }
    out
}

fn human(plans: &[ClusterPlan]) -> String {
    let mut s = String::new();
    for p in plans.iter().filter(|p| !p.changes.is_empty()) {
        let _ = writeln!(s, "{}", p.cluster);
        for part in parts(p) {
            let _ = writeln!(s, "  {part}");
            let mut said: Vec<&str> = vec![];
            for c in p.changes.iter().filter(|c| c.part == part) {
                let _ = writeln!(s, "    {:<22} {}", format!("[{}]", c.how.label()), c.what);
                if !c.why.is_empty() && !said.contains(&c.why.as_str()) {
                    said.push(&c.why);
                    let _ = writeln!(s, "{}", wrap(&c.why, "        ", 96));
                }
            }
        }
        for r in &p.restarts {
            let _ = writeln!(
                s,
                "  stale until restarted: {} ({})\n    {}",
                r.pods.join(", "),
                r.reason,
                r.command
            );
        }
    }
    for p in plans {
        let _ = writeln!(s, "{}", p.summary);
    }
    s
}

/// `text` broken into lines of at most `width` columns, each starting with `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut lines = vec![];
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

fn cell(t: &str) -> String {
    t.replace('|', "\\|").replace('\n', " ")
}

fn markdown(plans: &[ClusterPlan]) -> String {
    let mut s = String::from("### natscc diff\n\n");
    for p in plans {
        let _ = writeln!(s, "- **{}**", p.summary);
    }
    for p in plans.iter().filter(|p| !p.changes.is_empty()) {
        let _ = writeln!(s, "\n#### {}\n", p.cluster);
        let _ = writeln!(s, "| part | change | how | why |\n|---|---|---|---|");
        for c in &p.changes {
            let how = match c.how {
                How::Live => "live".to_string(),
                h => format!("**{}**", h.label()),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {how} | {} |",
                cell(&c.part),
                cell(&c.what),
                cell(&c.why)
            );
        }
        for r in &p.restarts {
            let _ = writeln!(
                s,
                "\nStale until restarted: {} ({}): `{}`",
                r.pods.join(", "),
                cell(&r.reason),
                r.command
            );
        }
    }
    s
}
