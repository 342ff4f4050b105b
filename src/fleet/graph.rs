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
use crate::graph::{Edge, Graph, Link};
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap};

/// The joined graph. `graph` holds one `Link::Leaf` edge per binding, spoke -> hub.
pub struct FleetGraph {
    pub graph: Graph,
    /// The CSC's cluster name.
    pub hub: String,
    /// Edges on an import cycle of some server (drawn in red).
    pub red: BTreeSet<EdgeIndex>,
}

/// Builds the joined graph; `None` without exactly one CSC.
pub fn build(fleet: &Fleet) -> Option<FleetGraph> {
    let (csc, cm) = fleet.csc()?;
    let mut g = Graph::default();
    let mut red = BTreeSet::new();
    let mut index: HashMap<(String, String), NodeIndex> = HashMap::new();
    // A streamed fleet's clusters left their rendered bus behind with their files.
    let unrendered = crate::bus::Bus::default();
    for c in &fleet.clusters {
        let Some(m) = &c.model else { continue };
        let bus = c.bus.as_ref().unwrap_or(&unrendered);
        let local = crate::graph::build(m, bus, c.name());
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
pub fn explain(fg: &FleetGraph, start: NodeIndex, subject: &str) -> Vec<Arrival> {
    crate::graph::render::explain(&fg.graph, start, subject)
}

/// The explain answer as text.
pub fn explain_text(fg: &FleetGraph, start: NodeIndex, subject: &str) -> String {
    crate::graph::render::arrivals_text(&fg.graph, start, subject, explain(fg, start, subject))
}
