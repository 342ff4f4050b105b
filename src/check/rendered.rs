//! The rendered configs themselves, read back as nats-server reads them: a file the chart
//! renders from the values but the server cannot parse (a key Go prints bare, an empty value)
//! crash-loops the pod, whatever the values looked like.

use crate::diag::{Code, Diagnostic};
use crate::load::Node;
use crate::model::Model;

pub fn check(root: &Node, m: &Model, bus: &crate::bus::Bus) -> Vec<Diagnostic> {
    let mut out = vec![];
    for i in bus.instances() {
        for (path, e, line) in &i.read_back.unreadable {
            // The accounts files come from the extra accounts; anything else from the bus values.
            let from = if path.contains("accounts") {
                root.path(&["global", "eventBus", "extraAccounts"])
            } else {
                None
            };
            let span = from.map_or(m.event_bus_span, |n| n.span);
            out.push(
                Unreadable {
                    path,
                    line_no: e.pos.line,
                    error: &e.message,
                    line,
                    at: span,
                }
                .into(),
            );
        }
    }
    out
}

/// A rendered file nats-server cannot read: where, why, the line, and the values behind it.
struct Unreadable<'a> {
    path: &'a str,
    line_no: u32,
    error: &'a str,
    line: &'a str,
    at: crate::diag::Span,
}

impl From<Unreadable<'_>> for Diagnostic {
    fn from(f: Unreadable<'_>) -> Diagnostic {
        Diagnostic::new(
            Code::NatsConfSyntax,
            format!(
                "the chart renders {} so that nats-server cannot read it (line {}: {}; the line \
                 reads `{}`)",
                f.path,
                f.line_no,
                f.error,
                shorten(f.line)
            ),
        )
        .at(f.at, "rendered from here")
        .help(
            "the chart prints account fields with Go's %v: give every field a plain value (no \
             null), and keys of letters, digits, `_` and `-`",
        )
    }
}

fn shorten(line: &str) -> String {
    if line.chars().count() > 80 {
        line.chars().take(77).collect::<String>() + "..."
    } else {
        line.to_string()
    }
}
