//! Rules on the account graph as the server builds it: import cycles and duplicate imports,
//! wherever they come from (cross-layer lists or the native imports of extra accounts).

use crate::diag::{Code, Diagnostic, Span};
use crate::graph::{self, cycles};
use crate::model::Model;

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let g = graph::build(m, "");
    for c in cycles::find(&g) {
        let mut d = Diagnostic::new(Code::ImportCycle, format!("stream imports form a cycle: {}; nats-server refuses to start (\"import forms a cycle\")", c.path()));
        for (i, span) in c.origins.iter().enumerate() {
            d = d.at(*span, if i == 0 { "this import closes the cycle" } else { "part of the cycle" });
        }
        if c.origins.is_empty() {
            d = d.at(m.event_bus_span, "in the accounts generated for this cluster");
        }
        out.push(d.help("remove one of the imports on the path, or narrow its subject so the chain no longer returns to where it started"));
    }
    for (first, second) in cycles::duplicates(&g) {
        // Duplicates inside one cross-layer list are reported by the cross-layer rule.
        let from_lists = |s: Option<Span>| s.is_some_and(|s| crate::check::cross_layer::is_list_entry(m, s));
        if from_lists(first.origin) || from_lists(second.origin) {
            continue;
        }
        let importer = &g.g[second.importer].name;
        let exporter = &g.g[second.exporter].name;
        let mut d = Diagnostic::new(
            Code::DuplicateImport,
            format!("account `{importer}` imports stream `{}` from `{exporter}` twice; nats-server refuses that (\"stream import already exists\")", second.subject),
        );
        if let Some(s) = second.origin {
            d = d.at(s, "imported again here");
        }
        if let Some(s) = first.origin {
            d = d.at(s, "first imported here");
        }
        if d.labels.is_empty() {
            d = d.at(m.event_bus_span, "in the generated accounts");
        }
        out.push(d.help("remove one of the two imports"));
    }
    out
}
