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
                Diagnostic::new(
                    Code::NatsConfSyntax,
                    format!(
                        "the chart renders {path} so that nats-server cannot read it (line {}: {}; \
                         the line reads `{}`)",
                        e.pos.line,
                        e.message,
                        shorten(line)
                    ),
                )
                .at(span, "rendered from here")
                .help(
                    "the chart prints account fields with Go's %v: give every field a plain value \
                     (no null), and keys of letters, digits, `_` and `-`",
                ),
            );
        }
    }
    out
}

fn shorten(line: &str) -> String {
    if line.chars().count() > 80 {
        line.chars().take(77).collect::<String>() + "..."
    } else {
        line.to_string()
    }
}
