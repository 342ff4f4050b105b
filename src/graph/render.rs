//! Pictures of the routing graph (Graphviz DOT, Mermaid) and the answer to
//! "where does a message published here go?".

use super::{Graph, ImportKind, Link, transform};
use crate::subject::{Pattern, PatternIndex};
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// An explain hop in words: an import names both subjects, the one it takes and the one it
/// delivers.
fn hop_label(link: &Link) -> String {
    match link {
        Link::Import {
            kind: ImportKind::Stream,
            subject,
            to,
        } => format!("stream {subject} → {to}"),
        Link::Import {
            kind: ImportKind::Service,
            subject,
            to,
        } => format!("service {to} → {subject}"),
        Link::Leaf => "leaf connection".into(),
    }
}

/// Per account: the subjects its outgoing stream imports take, indexed (what a spoke pulls
/// over its leaf connection).
fn interest(g: &Graph) -> HashMap<NodeIndex, (Vec<Pattern>, PatternIndex)> {
    let mut out: HashMap<NodeIndex, (Vec<Pattern>, PatternIndex)> = HashMap::new();
    for e in g.g.edge_references() {
        let Link::Import {
            kind: ImportKind::Stream,
            subject,
            ..
        } = &e.weight().link
        else {
            continue;
        };
        let Ok(from) = Pattern::parse(subject) else {
            continue;
        };
        let (list, index) = out.entry(e.source()).or_default();
        index.insert(&from, list.len());
        list.push(from);
    }
    out
}

/// One step of the search: where a message is, the leaf connection it came in on, whether it
/// came down from the hub, and whether the account's subject mappings still apply to it.
struct At {
    arrival: Arrival,
    came_in: Option<EdgeIndex>,
    down: bool,
    mappable: bool,
}

/// Where a message at `at` is after crossing `link` (edge `id`) out of its account (the
/// arrival's chain still to be written). nats-server applies the receiving account's mappings
/// to what a client publishes, to what comes in over a leaf connection and to a service
/// import's request in the exporting account, not to a stream import's delivery (measured on
/// 2.12.6 by tests/explain_mappings.rs).
fn follow(link: &Link, at: &At, id: EdgeIndex, next: NodeIndex) -> Option<At> {
    let subject = &at.arrival.subject;
    let (subject, came_in, down, mappable) = match link {
        Link::Import {
            kind: ImportKind::Stream,
            subject: from,
            to,
        } => (transform(subject, from, to)?, at.came_in, at.down, false),
        Link::Import {
            kind: ImportKind::Service,
            subject: from,
            to,
        } => (transform(subject, to, from)?, at.came_in, at.down, true),
        // Spoke to hub, unless the message came down from the hub: the hub's clients may want
        // anything.
        Link::Leaf if !at.down => (subject.clone(), Some(id), false, true),
        Link::Leaf => return None,
    };
    Some(At {
        arrival: Arrival {
            account: next,
            subject,
            chain: vec![],
        },
        came_in,
        down,
        mappable,
    })
}

/// The message at `at` as the first of its account's mappings that matches rewrites it, if
/// one does: the server then delivers the mapped subject only, and maps it no further.
fn mapped(g: &Graph, at: &At) -> Option<At> {
    let cur = &at.arrival;
    let (subject, src, dst) = g
        .mappings
        .iter()
        .filter(|(a, ..)| *a == cur.account)
        .find_map(|(_, src, dst)| Some((transform(&cur.subject, src, dst)?, src, dst)))?;
    let mut chain = cur.chain.clone();
    chain.push(format!(
        "{} mapping {src} → {dst}",
        g.g[cur.account].label()
    ));
    Some(At {
        arrival: Arrival {
            account: cur.account,
            subject,
            chain,
        },
        mappable: false,
        ..*at
    })
}

/// Every account and subject a message published on `subject` in `start` reaches, one
/// cluster's graph or the fleet's joined one. Across a leaf connection it moves as
/// nats-server moves it (`fleet::graph`): a spoke sends up what did not come down from the
/// hub; the hub sends down, never back over the connection it came in on, only what the
/// spoke imports (of a pattern, each overlap). A subject mapping replaces the subject where
/// the server applies it (`follow`).
pub fn explain(g: &Graph, start: NodeIndex, subject: &str) -> Vec<Arrival> {
    let has_leaves = g.g.edge_weights().any(|e| matches!(e.link, Link::Leaf));
    let imports = if has_leaves {
        interest(g)
    } else {
        HashMap::new()
    };
    let wanted = |n: NodeIndex, lit: &Pattern| -> BTreeSet<String> {
        imports
            .get(&n)
            .map(|(list, index)| {
                index
                    .overlapping(lit)
                    .into_iter()
                    .filter_map(|k| list[k].intersect(lit))
                    .map(|p| p.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<Arrival> = vec![];
    // What was searched from (an arrival the mappings may still rewrite is another state than
    // the same subject delivered), and what was reported.
    let mut seen: HashSet<(NodeIndex, String, bool)> = HashSet::new();
    let mut reached: HashSet<(NodeIndex, String)> = HashSet::new();
    let mut queue = vec![At {
        arrival: Arrival {
            account: start,
            subject: subject.to_string(),
            chain: vec![],
        },
        came_in: None,
        down: false,
        mappable: true,
    }];
    while let Some(at) = queue.pop() {
        let cur = &at.arrival;
        let key = (cur.account, cur.subject.clone(), at.mappable);
        if out.len() > 10_000 || !seen.insert(key) {
            continue;
        }
        let is_start = out.is_empty();
        if let Some(m) = at.mappable.then(|| mapped(g, &at)).flatten() {
            // Only the mapped subject is delivered; the start is still the answer's first
            // line (dropped below).
            if is_start {
                out.push(cur.clone());
            }
            queue.push(m);
            continue;
        }
        if reached.insert((cur.account, cur.subject.clone())) {
            out.push(cur.clone());
        }
        let Ok(lit) = Pattern::parse(&cur.subject) else {
            continue;
        };
        let step = |mut next: At, what: String| {
            let mut chain = cur.chain.clone();
            chain.push(format!(
                "{} → {}: {what}",
                g.g[cur.account].label(),
                g.g[next.arrival.account].label()
            ));
            next.arrival.chain = chain;
            next
        };
        for e in
            g.g.edges_directed(cur.account, petgraph::Direction::Outgoing)
        {
            if let Some(next) = follow(&e.weight().link, &at, e.id(), e.target()) {
                queue.push(step(next, hop_label(&e.weight().link)));
            }
        }
        // Hub to spoke, only where the spoke has interest.
        for e in
            g.g.edges_directed(cur.account, petgraph::Direction::Incoming)
        {
            if !matches!(e.weight().link, Link::Leaf) || at.came_in == Some(e.id()) {
                continue;
            }
            for part in wanted(e.source(), &lit) {
                let next = At {
                    arrival: Arrival {
                        account: e.source(),
                        subject: part,
                        chain: vec![],
                    },
                    came_in: Some(e.id()),
                    down: true,
                    mappable: true,
                };
                queue.push(step(next, "leaf connection".into()));
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
