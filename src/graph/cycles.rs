//! Import cycles and duplicate imports, found the way nats-server finds them when it adds
//! stream imports at start: follow the imports that feed an exporter's subject back through
//! the accounts, and refuse when the chain returns to the importing account.

use super::{Graph, StreamImport};
use crate::diag::Span;
use crate::subject::{Pattern, PatternIndex};
use std::collections::HashMap;
use petgraph::graph::NodeIndex;

/// One hop of a cycle: a message on `subject` in `account`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub account: String,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub struct Cycle {
    /// In message order; the last hop is in the first hop's account.
    pub hops: Vec<Hop>,
    /// The values entries whose imports form the cycle.
    pub origins: Vec<Span>,
}

impl Cycle {
    pub fn path(&self) -> String {
        self.hops.iter().map(|h| format!("{} {}", h.account, h.subject)).collect::<Vec<_>>().join(" -> ")
    }
}

/// Imports grouped by importer, each group indexed by its local subjects, so the walk
/// looks only at imports whose subject can collide instead of scanning them all.
struct ByImporter<'a> {
    imports: &'a [StreamImport],
    of: HashMap<NodeIndex, (Vec<usize>, PatternIndex)>,
}

impl<'a> ByImporter<'a> {
    fn new(imports: &'a [StreamImport]) -> Self {
        let mut of: HashMap<NodeIndex, (Vec<usize>, PatternIndex)> = HashMap::new();
        for (i, imp) in imports.iter().enumerate() {
            let (ids, index) = of.entry(imp.importer).or_default();
            if let Ok(p) = Pattern::parse(&imp.to) {
                index.insert(&p, ids.len());
            }
            ids.push(i);
        }
        ByImporter { imports, of }
    }

    /// The imports of `account` whose local subject collides with `subject`.
    fn feeding(&self, account: NodeIndex, subject: &str) -> Vec<usize> {
        let Some((ids, index)) = self.of.get(&account) else { return vec![] };
        match Pattern::parse(subject) {
            Ok(p) => index.overlapping(&p).into_iter().map(|k| ids[k]).collect(),
            Err(_) => ids.iter().copied().filter(|&i| self.imports[i].to == subject).collect(),
        }
    }

    /// Looks for a chain of imports feeding `subject` in `account` that starts in `target`.
    fn search(&self, account: NodeIndex, subject: &str, target: NodeIndex, chain: &mut Vec<usize>, seen: &mut Vec<NodeIndex>) -> bool {
        if account == target {
            return true;
        }
        if seen.contains(&account) {
            return false;
        }
        seen.push(account);
        for i in self.feeding(account, subject) {
            let imp = &self.imports[i];
            chain.push(i);
            if self.search(imp.exporter, &imp.subject, target, chain, seen) {
                return true;
            }
            chain.pop();
        }
        seen.pop();
        false
    }
}

/// Every stream import that closes a cycle, each cycle reported once.
pub fn find(g: &Graph) -> Vec<Cycle> {
    let imports = g.stream_imports();
    let by = ByImporter::new(&imports);
    let mut found: Vec<(Vec<usize>, Cycle)> = vec![];
    for (i, imp) in imports.iter().enumerate() {
        let mut chain = vec![i];
        let mut seen = vec![];
        if !by.search(imp.exporter, &imp.subject, imp.importer, &mut chain, &mut seen) {
            continue;
        }
        let mut key = chain.clone();
        key.sort_unstable();
        if found.iter().any(|(k, _)| *k == key) {
            continue;
        }
        // chain[0] is imported by the start account; the last import's exporter is the start account.
        let last = &imports[*chain.last().unwrap()];
        let mut hops = vec![Hop { account: g.g[last.exporter].name.clone(), subject: last.subject.clone() }];
        for &c in chain.iter().rev() {
            let imp = &imports[c];
            hops.push(Hop { account: g.g[imp.importer].name.clone(), subject: imp.to.clone() });
        }
        let origins = chain.iter().filter_map(|&c| imports[c].origin).collect();
        found.push((key, Cycle { hops, origins }));
    }
    found.into_iter().map(|(_, c)| c).collect()
}

/// Two stream imports of one importer from one exporter with the same subject.
pub fn duplicates(g: &Graph) -> Vec<(StreamImport, StreamImport)> {
    let imports = g.stream_imports();
    let mut out = vec![];
    let mut seen: HashMap<(NodeIndex, NodeIndex, &str), usize> = HashMap::new();
    for (i, imp) in imports.iter().enumerate() {
        match seen.get(&(imp.importer, imp.exporter, imp.subject.as_str())) {
            Some(&first) => out.push((imports[first].clone(), imp.clone())),
            None => {
                seen.insert((imp.importer, imp.exporter, imp.subject.as_str()), i);
            }
        }
    }
    out
}
