//! Rules on the account graph as the server builds it: import cycles and duplicate imports,
//! wherever they come from (cross-layer lists or the native imports of extra accounts).

use crate::diag::{Code, Diagnostic, Span};
use crate::graph::{self, cycles};
use crate::model::Model;

/// Where the findings of one account graph point when an import carries no origin of its own.
pub struct Context<'a> {
    /// The accounts the server defines.
    pub defined: Vec<String>,
    /// Where a finding with no better place points.
    pub fallback: Span,
    /// The place of an import by (importer, exporter, subject), when the edge has no origin.
    pub span_of: &'a dyn Fn(&str, &str, &str) -> Option<Span>,
    /// Duplicate imports another rule already reports (by the imports' origins).
    pub reported_elsewhere: &'a dyn Fn(Option<Span>) -> bool,
}

/// Every import must name an existing account that exports the subject to the importer.
/// Stream imports come with the replay's verdict (it indexes the stream exports anyway).
fn authorisation(
    ctx: &Context,
    g: &graph::Graph,
    replayed: &cycles::Replayed,
    out: &mut Vec<Diagnostic>,
) {
    let mut stream_verdict: Vec<Option<bool>> = vec![None; g.g.edge_count()];
    for (imp, ok) in replayed.imports.iter().zip(&replayed.authorised) {
        stream_verdict[imp.edge.index()] = *ok;
    }
    let defined: Vec<&str> = ctx.defined.iter().map(String::as_str).collect();
    // Exports per (account, kind), indexed, so each import is checked without a scan.
    type Indexed = (
        Vec<(crate::subject::Pattern, Option<Vec<String>>)>,
        crate::subject::PatternIndex,
    );
    let mut exports: std::collections::HashMap<_, Indexed> = std::collections::HashMap::new();
    for x in g
        .exports
        .iter()
        .filter(|x| x.kind == graph::ImportKind::Service)
    {
        if let Ok(p) = crate::subject::Pattern::parse(&x.subject) {
            let (list, index) = exports.entry((x.account, x.kind)).or_default();
            index.insert(&p, list.len());
            list.push((p, x.accounts.clone()));
        }
    }
    for e in g.g.edge_indices() {
        let graph::Link::Import { kind, subject, .. } = &g.g[e].link else {
            continue;
        };
        let (a, b) = g.g.edge_endpoints(e).unwrap();
        let (importer, exporter) = match kind {
            graph::ImportKind::Stream => (b, a),
            graph::ImportKind::Service => (a, b),
        };
        let (imp_name, exp_name) = (&g.g[importer].name, &g.g[exporter].name);
        let kind_word = if *kind == graph::ImportKind::Stream {
            "stream"
        } else {
            "service"
        };
        let span = g.g[e]
            .origin
            .or_else(|| (ctx.span_of)(imp_name, exp_name, subject));
        if !defined.contains(&exp_name.as_str()) {
            let mut d = Diagnostic::new(
                Code::ImportUnknownAccount,
                format!(
                    "account `{imp_name}` imports {kind_word} `{subject}` from `{exp_name}`, which \
                     does not exist"
                ),
            );
            d = d.at(span.unwrap_or(ctx.fallback), "unknown account");
            out.push(d.help(format!("the accounts are: {}", defined.join(", "))));
            continue;
        }
        let allowed = match stream_verdict[e.index()] {
            Some(verdict) => verdict,
            None => {
                let Ok(wanted) = crate::subject::Pattern::parse(subject) else {
                    continue;
                };
                exports
                    .get(&(exporter, *kind))
                    .is_some_and(|(list, index)| {
                        index.visit_overlapping(&wanted, |k| {
                            let (p, accs) = &list[k];
                            p.contains(&wanted)
                                && accs
                                    .as_ref()
                                    .is_none_or(|accs| accs.iter().any(|a| a == imp_name))
                        })
                    })
            }
        };
        if !allowed {
            let d = Diagnostic::new(
                Code::ImportNotExported,
                format!(
                    "account `{imp_name}` imports {kind_word} `{subject}` from `{exp_name}`, but \
                     `{exp_name}` exports no {kind_word} covering it to `{imp_name}`; nats-server \
                     refuses this (\"{kind_word} import not authorized\")"
                ),
            )
            .at(span.unwrap_or(ctx.fallback), "not exported");
            out.push(d.help(format!(
                "add `{{{kind_word}: \"{subject}\"}}` (or a wider pattern) to the exports of \
                 `{exp_name}`, or import a subject it exports"
            )));
        }
    }
}

/// The values entry of an extra account's native import, by importer, exporter and subject.
fn import_span(m: &Model, importer: &str, exporter: &str, subject: &str) -> Option<Span> {
    let acc = m.extra_accounts.iter().find(|a| a.name.value == importer)?;
    let imports = acc.fields.iter().find(|f| f.key == "imports")?;
    imports.value.items().iter().find_map(|imp| {
        let src = imp.get("stream").or(imp.get("service"))?;
        let same = src.get("account").and_then(|n| n.as_str()) == Some(exporter)
            && src.get("subject").and_then(|n| n.as_str()) == Some(subject);
        same.then_some(imp.span)
    })
}

pub fn check(m: &Model, bus: &crate::bus::Bus) -> Vec<Diagnostic> {
    let g = graph::build(m, bus, "");
    let defined = g.defined.iter().map(|&i| g.g[i].name.clone()).collect();
    let span_of = |imp: &str, exp: &str, subject: &str| import_span(m, imp, exp, subject);
    // Duplicates inside one cross-layer list are reported by the cross-layer rule.
    let reported_elsewhere =
        |s: Option<Span>| s.is_some_and(|s| crate::check::cross_layer::is_list_entry(m, s));
    let ctx = Context {
        defined,
        fallback: m.event_bus_span,
        span_of: &span_of,
        reported_elsewhere: &reported_elsewhere,
    };
    check_graph(&g, &ctx)
}

/// The rules on any account graph: authorisation, cycles, duplicate imports.
pub fn check_graph(g: &graph::Graph, ctx: &Context) -> Vec<Diagnostic> {
    let mut out = vec![];
    let replayed = cycles::replay_all(g);
    authorisation(ctx, g, &replayed, &mut out);
    let cycles::Replayed {
        imports, refusals, ..
    } = replayed;
    let mut found_cycles = vec![];
    let mut found_dups = vec![];
    for r in refusals {
        match r {
            cycles::Refusal::Cycle(c) => found_cycles.push(c),
            cycles::Refusal::Duplicate { first, second } => {
                found_dups.push((imports[first].clone(), imports[second].clone()))
            }
        }
    }
    for c in found_cycles {
        let mut d = Diagnostic::new(
            Code::ImportCycle,
            format!(
                "stream imports form a cycle: {}; nats-server refuses to start (\"import forms a \
                 cycle\")",
                c.path()
            ),
        );
        for (i, span) in c.origins.iter().enumerate() {
            d = d.at(
                *span,
                if i == 0 {
                    "this import closes the cycle"
                } else {
                    "part of the cycle"
                },
            );
        }
        if c.origins.is_empty() {
            d = d.at(ctx.fallback, "in the accounts of this server");
        }
        out.push(d.help(
            "remove one of the imports on the path, or narrow its subject so the chain no longer \
             returns to where it started",
        ));
    }
    for (first, second) in found_dups {
        if (ctx.reported_elsewhere)(first.origin) || (ctx.reported_elsewhere)(second.origin) {
            continue;
        }
        let importer = &g.g[second.importer].name;
        let exporter = &g.g[second.exporter].name;
        let mut d = Diagnostic::new(
            Code::DuplicateImport,
            format!(
                "account `{importer}` imports stream `{}` from `{exporter}` twice; nats-server \
                 refuses that (\"stream import already exists\")",
                second.subject
            ),
        );
        if let Some(s) = second.origin {
            d = d.at(s, "imported again here");
        }
        if let Some(s) = first.origin {
            d = d.at(s, "first imported here");
        }
        if d.labels.is_empty() {
            d = d.at(ctx.fallback, "in the accounts of this server");
        }
        out.push(d.help("remove one of the two imports"));
    }
    out
}
