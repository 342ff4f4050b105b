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
        let at = span.unwrap_or(ctx.fallback);
        let import = Import {
            importer: imp_name,
            exporter: exp_name,
            kind: kind_word,
            subject,
            at,
        };
        if !defined.contains(&exp_name.as_str()) {
            out.push(Finding::UnknownAccount(import, &defined).into());
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
            out.push(Finding::NotExported(import).into());
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
        out.push(Finding::Cycle(&c, ctx.fallback).into());
    }
    for (first, second) in &found_dups {
        if (ctx.reported_elsewhere)(first.origin) || (ctx.reported_elsewhere)(second.origin) {
            continue;
        }
        out.push(
            Finding::Duplicate {
                importer: &g.g[second.importer].name,
                exporter: &g.g[second.exporter].name,
                first,
                second,
                fallback: ctx.fallback,
            }
            .into(),
        );
    }
    out
}

/// One import as the rules name it.
struct Import<'a> {
    importer: &'a str,
    exporter: &'a str,
    /// `stream` or `service`.
    kind: &'a str,
    subject: &'a str,
    at: Span,
}

/// What the account-graph rules find; `From<Finding> for Diagnostic` words it.
enum Finding<'a> {
    /// The import names an account the server does not define (the ones it does, listed).
    UnknownAccount(Import<'a>, &'a [&'a str]),
    NotExported(Import<'a>),
    /// A cycle of stream imports; where to point when its imports have no place of their own.
    Cycle(&'a cycles::Cycle, Span),
    Duplicate {
        importer: &'a str,
        exporter: &'a str,
        first: &'a graph::StreamImport,
        second: &'a graph::StreamImport,
        fallback: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::UnknownAccount(i, defined) => Diagnostic::new(
                Code::ImportUnknownAccount,
                format!(
                    "account `{}` imports {} `{}` from `{}`, which does not exist",
                    i.importer, i.kind, i.subject, i.exporter
                ),
            )
            .at(i.at, "unknown account")
            .help(format!("the accounts are: {}", defined.join(", "))),
            Finding::NotExported(i) => {
                let Import {
                    importer,
                    exporter,
                    kind,
                    subject,
                    at,
                } = i;
                Diagnostic::new(
                    Code::ImportNotExported,
                    format!(
                        "account `{importer}` imports {kind} `{subject}` from `{exporter}`, but \
                         `{exporter}` exports no {kind} covering it to `{importer}`; nats-server \
                         refuses this (\"{kind} import not authorized\")"
                    ),
                )
                .at(at, "not exported")
                .help(format!(
                    "add `{{{kind}: \"{subject}\"}}` (or a wider pattern) to the exports of \
                     `{exporter}`, or import a subject it exports"
                ))
            }
            Finding::Cycle(c, fallback) => {
                let mut d = Diagnostic::new(
                    Code::ImportCycle,
                    format!(
                        "stream imports form a cycle: {}; nats-server refuses to start (\"import \
                         forms a cycle\")",
                        c.path()
                    ),
                );
                for (i, span) in c.origins.iter().enumerate() {
                    let what = if i == 0 {
                        "this import closes the cycle"
                    } else {
                        "part of the cycle"
                    };
                    d = d.at(*span, what);
                }
                if c.origins.is_empty() {
                    d = d.at(fallback, "in the accounts of this server");
                }
                d.help(
                    "remove one of the imports on the path, or narrow its subject so the chain no \
                     longer returns to where it started",
                )
            }
            Finding::Duplicate {
                importer,
                exporter,
                first,
                second,
                fallback,
            } => {
                let mut d = Diagnostic::new(
                    Code::DuplicateImport,
                    format!(
                        "account `{importer}` imports stream `{}` from `{exporter}` twice; \
                         nats-server refuses that (\"stream import already exists\")",
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
                    d = d.at(fallback, "in the accounts of this server");
                }
                d.help("remove one of the two imports")
            }
        }
    }
}
