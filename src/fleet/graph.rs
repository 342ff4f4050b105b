//! The fleet's routing graph: every cluster's account graph (`crate::graph`, built from the
//! emitted configs) joined where a leaf connection binds a CPC account to the CSC account of the
//! same name.
//!
//! How messages cross a leaf connection, as nats-server 2.15 does it (tests/fleet_up.rs shows it
//! on real servers): a spoke (the CPC, which dials) never sends a message it received from the hub
//! back up to the hub, not even after imports have moved it into another account; the hub
//! forwards a message from one spoke to the other spokes, but never back over the connection it
//! came in on. The leaf connections of a fleet form a tree (CPCs dial the CSC, each nats-mtls
//! dials its main server), so a message goes up, then down, and no loop can cross a leaf
//! connection: every import cycle lies inside one server, where the per-cluster checks find it.
//! The fleet reports those with the cluster's name, and `graph --fleet` draws them in red.

use super::Fleet;
use crate::graph::render::Arrival;
use crate::graph::{Edge, Graph, ImportKind, Link};
use crate::subject::{Pattern, PatternIndex};
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The joined graph. `graph` holds one `Link::Leaf` edge per binding, spoke -> hub.
pub struct FleetGraph {
    pub graph: Graph,
    /// The CSC's cluster name.
    pub hub: String,
    /// Edges on an import cycle of some server (drawn in red).
    pub red: BTreeSet<EdgeIndex>,
}

/// Per account: the subjects its outgoing stream imports take, indexed.
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

/// Builds the joined graph; `None` without exactly one CSC.
pub fn build(fleet: &Fleet) -> Option<FleetGraph> {
    let (csc, cm) = fleet.csc()?;
    let mut g = Graph::default();
    let mut red = BTreeSet::new();
    let mut index: HashMap<(String, String), NodeIndex> = HashMap::new();
    for c in &fleet.clusters {
        let Some(m) = &c.model else { continue };
        let local = crate::graph::build(m, c.name());
        let local_red =
            crate::graph::render::cycle_edges(&local, &crate::graph::cycles::find(&local));
        let nodes: Vec<NodeIndex> = local
            .g
            .node_indices()
            .map(|n| {
                let a = local.g[n].clone();
                let i = g.node(&a.cluster, &a.name);
                index.insert((a.cluster, a.name), i);
                i
            })
            .collect();
        for e in local.g.edge_references() {
            let id = g.g.add_edge(
                nodes[e.source().index()],
                nodes[e.target().index()],
                e.weight().clone(),
            );
            if local_red.contains(&e.id()) {
                red.insert(id);
            }
        }
        g.mappings.extend(
            local
                .mappings
                .into_iter()
                .map(|(n, a, b)| (nodes[n.index()], a, b)),
        );
        g.exports.extend(local.exports.into_iter().map(|mut x| {
            x.account = nodes[x.account.index()];
            x
        }));
    }
    // Leaf connections: each CPC's CSC account and each extra account that the CSC also has.
    let hub = csc.name().to_string();
    for (c, m) in fleet.of_type(crate::model::ClusterType::Cpc) {
        let mut bound = vec!["CSC".to_string()];
        bound.extend(
            m.extra_accounts
                .iter()
                .map(|a| a.name.value.clone())
                .filter(|n| cm.extra_accounts.iter().any(|b| b.name.value == *n)),
        );
        for name in bound {
            if let (Some(&s), Some(&h)) = (
                index.get(&(c.name().to_string(), name.clone())),
                index.get(&(hub.clone(), name)),
            ) {
                g.g.add_edge(
                    s,
                    h,
                    Edge {
                        link: Link::Leaf,
                        origin: None,
                    },
                );
            }
        }
    }
    Some(FleetGraph { graph: g, hub, red })
}

/// Where a message published on `subject` in `start` goes across the fleet.
// Over the 120-line limit; split when one explain search with graph/render.rs replaces it
// (issue 18, item 4).
#[allow(clippy::too_many_lines)]
pub fn explain(fg: &FleetGraph, start: NodeIndex, subject: &str) -> Vec<Arrival> {
    let g = &fg.graph;
    let imports = interest(g);
    let Ok(_) = Pattern::parse(subject) else {
        return vec![];
    };
    // An account on a CPC pulls a subject over its leaf only if something there imports it,
    // and only the part it imports (all of a literal subject; of a pattern, each overlap).
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
    let mut seen: HashSet<(NodeIndex, String)> = HashSet::new();
    // (arrival, the leaf connection it came in on, whether it came down from the hub)
    let mut queue = vec![(
        Arrival {
            account: start,
            subject: subject.to_string(),
            chain: vec![],
        },
        None::<EdgeIndex>,
        false,
    )];
    while let Some((cur, came_in, down)) = queue.pop() {
        if !seen.insert((cur.account, cur.subject.clone())) || out.len() > 10_000 {
            continue;
        }
        out.push(cur.clone());
        let Ok(lit) = Pattern::parse(&cur.subject) else {
            continue;
        };
        let hop = |next: NodeIndex, to_subject: String, what: String| {
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
        if let Some((_, src, dst)) = g.mappings.iter().find(|(a, src, dst)| {
            *a == cur.account && crate::graph::transform(&cur.subject, src, dst).is_some()
        }) {
            let mapped = crate::graph::transform(&cur.subject, src, dst).unwrap();
            let mut chain = cur.chain.clone();
            chain.push(format!(
                "{} mapping {src} → {dst}",
                g.g[cur.account].label()
            ));
            queue.push((
                Arrival {
                    account: cur.account,
                    subject: mapped,
                    chain,
                },
                came_in,
                down,
            ));
            continue;
        }
        for e in
            g.g.edges_directed(cur.account, petgraph::Direction::Outgoing)
        {
            match &e.weight().link {
                Link::Import {
                    kind: ImportKind::Stream,
                    subject: from,
                    to,
                } => {
                    if let Some(t) = crate::graph::transform(&cur.subject, from, to) {
                        queue.push((
                            hop(e.target(), t, format!("stream {from} → {to}")),
                            came_in,
                            down,
                        ));
                    }
                }
                Link::Import {
                    kind: ImportKind::Service,
                    subject: from,
                    to,
                } => {
                    if let Some(t) = crate::graph::transform(&cur.subject, to, from) {
                        queue.push((
                            hop(e.target(), t, format!("service {to} → {from}")),
                            came_in,
                            down,
                        ));
                    }
                }
                // Spoke to hub, unless the message came down from the hub: the hub's clients may
                // want anything.
                Link::Leaf if !down => queue.push((
                    hop(e.target(), cur.subject.clone(), "leaf connection".into()),
                    Some(e.id()),
                    false,
                )),
                Link::Leaf => {}
            }
        }
        // Hub to spoke, only where the spoke has interest.
        for e in
            g.g.edges_directed(cur.account, petgraph::Direction::Incoming)
        {
            if !matches!(e.weight().link, Link::Leaf) || came_in == Some(e.id()) {
                continue;
            }
            for part in wanted(e.source(), &lit) {
                queue.push((
                    hop(e.source(), part, "leaf connection".into()),
                    Some(e.id()),
                    true,
                ));
            }
        }
    }
    out.remove(0);
    out.sort_by(|a, b| {
        (g.g[a.account].label(), &a.subject).cmp(&(g.g[b.account].label(), &b.subject))
    });
    out
}

/// The explain answer as text.
pub fn explain_text(fg: &FleetGraph, start: NodeIndex, subject: &str) -> String {
    crate::graph::render::arrivals_text(&fg.graph, start, subject, explain(fg, start, subject))
}
