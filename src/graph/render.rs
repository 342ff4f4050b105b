//! Pictures of the routing graph (Graphviz DOT, Mermaid) and the answer to
//! "where does a message published here go?".

use super::{Graph, ImportKind, Link, transform};
use crate::subject::Pattern;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::BTreeSet;

fn edge_label(link: &Link) -> String {
    match link {
        Link::Import {
            kind: ImportKind::Stream,
            subject,
            to,
        } if subject == to => format!("stream {subject}"),
        Link::Import {
            kind: ImportKind::Stream,
            subject,
            to,
        } => format!("stream {subject} → {to}"),
        Link::Import {
            kind: ImportKind::Service,
            subject,
            to,
        } if subject == to => format!("service {subject}"),
        Link::Import {
            kind: ImportKind::Service,
            subject,
            to,
        } => format!("service {to} → {subject}"),
        Link::Leaf => "leaf".into(),
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Edges that lie on a reported cycle, drawn in red.
pub fn cycle_edges(g: &Graph, cycles: &[super::cycles::Cycle]) -> BTreeSet<EdgeIndex> {
    let mut out = BTreeSet::new();
    for c in cycles {
        for w in c.hops.windows(2) {
            for e in g.g.edge_references() {
                let (a, b) = (&g.g[e.source()], &g.g[e.target()]);
                if let Link::Import {
                    kind: ImportKind::Stream,
                    to,
                    ..
                } = &e.weight().link
                    && a.name == w[0].account
                    && b.name == w[1].account
                    && *to == w[1].subject
                {
                    out.insert(e.id());
                }
            }
        }
    }
    out
}

fn clusters(g: &Graph) -> Vec<String> {
    let set: BTreeSet<String> = g.g.node_weights().map(|a| a.cluster.clone()).collect();
    set.into_iter().collect()
}

pub fn dot(g: &Graph, red: &BTreeSet<EdgeIndex>) -> String {
    let mut out = String::from(
        "digraph natscc {\n  rankdir=LR;\n  node [shape=box, style=rounded, \
         fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    let id = |n: NodeIndex| format!("n{}", n.index());
    for (ci, cluster) in clusters(g).iter().enumerate() {
        let indent = if cluster.is_empty() { "  " } else { "    " };
        if !cluster.is_empty() {
            out.push_str(&format!(
                "  subgraph cluster_{ci} {{\n    label=\"{}\";\n",
                dot_escape(cluster)
            ));
        }
        for n in g.g.node_indices().filter(|n| g.g[*n].cluster == *cluster) {
            out.push_str(&format!(
                "{indent}{} [label=\"{}\"];\n",
                id(n),
                dot_escape(&g.g[n].name)
            ));
        }
        if !cluster.is_empty() {
            out.push_str("  }\n");
        }
    }
    for e in g.g.edge_references() {
        let mut attrs = format!("label=\"{}\"", dot_escape(&edge_label(&e.weight().link)));
        if red.contains(&e.id()) {
            attrs.push_str(", color=red, fontcolor=red, penwidth=2");
        } else if matches!(
            e.weight().link,
            Link::Import {
                kind: ImportKind::Service,
                ..
            }
        ) {
            attrs.push_str(", style=dashed");
        } else if matches!(e.weight().link, Link::Leaf) {
            attrs.push_str(", dir=both, style=bold");
        }
        out.push_str(&format!(
            "  {} -> {} [{attrs}];\n",
            id(e.source()),
            id(e.target())
        ));
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "#quot;"))
}

pub fn mermaid(g: &Graph, red: &BTreeSet<EdgeIndex>) -> String {
    let mut out = String::from("flowchart LR\n");
    for cluster in clusters(g) {
        if !cluster.is_empty() {
            out.push_str(&format!(
                "  subgraph {}[{}]\n",
                cluster.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                mermaid_text(&cluster)
            ));
        }
        for n in g.g.node_indices().filter(|n| g.g[*n].cluster == cluster) {
            out.push_str(&format!(
                "  n{}[{}]\n",
                n.index(),
                mermaid_text(&g.g[n].name)
            ));
        }
        if !cluster.is_empty() {
            out.push_str("  end\n");
        }
    }
    let mut red_links = vec![];
    for (i, e) in g.g.edge_references().enumerate() {
        let arrow = if matches!(
            e.weight().link,
            Link::Import {
                kind: ImportKind::Service,
                ..
            }
        ) {
            "-.->"
        } else {
            "-->"
        };
        out.push_str(&format!(
            "  n{} {arrow}|{}| n{}\n",
            e.source().index(),
            mermaid_text(&edge_label(&e.weight().link)),
            e.target().index()
        ));
        if red.contains(&e.id()) {
            red_links.push(i.to_string());
        }
    }
    if !red_links.is_empty() {
        out.push_str(&format!(
            "  linkStyle {} stroke:red,stroke-width:3px,color:red\n",
            red_links.join(",")
        ));
    }
    out
}

/// One place a message arrives: the account, the subject there, and how it got there.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub account: NodeIndex,
    pub subject: String,
    pub chain: Vec<String>,
}

fn apply_mappings(g: &Graph, account: NodeIndex, subject: &str) -> Option<(String, String)> {
    g.mappings
        .iter()
        .filter(|(a, ..)| *a == account)
        .find_map(|(_, src, dst)| {
            let mapped = transform(subject, src, dst)?;
            Some((mapped.clone(), format!("mapping {src} → {dst}")))
        })
}

/// Every account and subject a message published on `subject` in `start` reaches.
pub fn explain(g: &Graph, start: NodeIndex, subject: &str) -> Vec<Arrival> {
    let mut out: Vec<Arrival> = vec![];
    let mut queue = vec![Arrival {
        account: start,
        subject: subject.to_string(),
        chain: vec![],
    }];
    while let Some(cur) = queue.pop() {
        if out
            .iter()
            .any(|a| a.account == cur.account && a.subject == cur.subject)
            || out.len() > 10_000
        {
            continue;
        }
        out.push(cur.clone());
        if Pattern::parse(&cur.subject).is_err() {
            continue;
        }
        if let Some((mapped, how)) = apply_mappings(g, cur.account, &cur.subject) {
            let mut chain = cur.chain.clone();
            chain.push(format!("{} {how}", g.g[cur.account].label()));
            queue.push(Arrival {
                account: cur.account,
                subject: mapped,
                chain,
            });
        }
        for e in g.g.edges(cur.account) {
            let next = e.target();
            let hop = |to_subject: String, what: String| {
                let mut chain = cur.chain.clone();
                chain.push(format!(
                    "{} → {}: {what}",
                    g.g[cur.account].label(),
                    g.g[next].label()
                ));
                Arrival {
                    account: next,
                    subject: to_subject,
                    chain,
                }
            };
            match &e.weight().link {
                Link::Import {
                    kind: ImportKind::Stream,
                    subject: from,
                    to,
                } => {
                    if let Some(t) = transform(&cur.subject, from, to) {
                        queue.push(hop(t, edge_label(&e.weight().link)));
                    }
                }
                Link::Import {
                    kind: ImportKind::Service,
                    subject: from,
                    to,
                } => {
                    if let Some(t) = transform(&cur.subject, to, from) {
                        queue.push(hop(t, edge_label(&e.weight().link)));
                    }
                }
                Link::Leaf => queue.push(hop(cur.subject.clone(), "leaf connection".into())),
            }
        }
    }
    out.remove(0);
    out.sort_by(|a, b| {
        (g.g[a.account].label(), &a.subject).cmp(&(g.g[b.account].label(), &b.subject))
    });
    out
}

/// The explain answer as text: one block per arrival, with its chain of hops.
pub fn explain_text(g: &Graph, start: NodeIndex, subject: &str) -> String {
    arrivals_text(g, start, subject, explain(g, start, subject))
}

/// Arrivals as text (shared by the one-cluster and the fleet explain).
pub fn arrivals_text(g: &Graph, start: NodeIndex, subject: &str, arrivals: Vec<Arrival>) -> String {
    let mut out = format!("{} {subject}\n", g.g[start].label());
    if arrivals.is_empty() {
        out.push_str("  reaches no other account or subject\n");
    }
    for a in arrivals {
        out.push_str(&format!(
            "  reaches {} as {}\n",
            g.g[a.account].label(),
            a.subject
        ));
        for step in &a.chain {
            out.push_str(&format!("    via {step}\n"));
        }
    }
    out
}
