//! Import cycles and duplicate imports, found the way nats-server 2.15 finds them: it adds the
//! stream imports one by one (accounts in Go map order, so any order; imports of one account
//! in config order) and, before adding each, walks the imports already added from the exporter
//! on, refusing when the walk reaches an account already visited. natscc replays that walk for
//! every order of the accounts and refuses when any order fails, so every config it accepts
//! loads whatever order the server picks.

use super::{Graph, StreamImport};
use crate::diag::Span;
use crate::subject::{Pattern, PatternIndex};
use petgraph::graph::NodeIndex;
use std::collections::{HashMap, HashSet};

/// One hop of a cycle: a message on `subject` in `account`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub account: String,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub struct Cycle {
    /// In message order; the last hop is back in an account the path already passed.
    pub hops: Vec<Hop>,
    /// The values entries whose imports form the cycle.
    pub origins: Vec<Span>,
}

impl Cycle {
    pub fn path(&self) -> String {
        self.hops
            .iter()
            .map(|h| format!("{} {}", h.account, h.subject))
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

/// Accounts beyond this many with stream imports are replayed in a fixed set of orders
/// instead of all of them (8! orders would take seconds).
const MAX_PERMUTED_ACCOUNTS: usize = 6;

struct Parsed {
    from: Pattern,
    to: Pattern,
}

/// The server's state while imports are added: what each account has imported so far.
/// Patterns with their ids, and an index over them.
type Indexed<T> = (Vec<T>, PatternIndex);

struct Replay<'a> {
    imports: &'a [StreamImport],
    parsed: &'a [Option<Parsed>],
    graph: &'a Graph,
    /// Per exporter: export patterns (stream) with their export ids in `graph.exports`, indexed.
    exports: &'a HashMap<NodeIndex, Indexed<(Pattern, usize)>>,
    /// Per importer: local-subject index over all its imports, and which are added so far.
    by_importer: &'a HashMap<NodeIndex, (Vec<usize>, PatternIndex)>,
    /// Which imports the server has added so far, by import id.
    added: Vec<bool>,
    /// Per import, its order-independent first step.
    first: &'a [FirstStep],
}

impl<'a> Replay<'a> {
    fn has_export_matching(&self, acc: NodeIndex, subject: &Pattern) -> bool {
        let Some((pats, index)) = self.exports.get(&acc) else {
            return false;
        };
        index.visit_overlapping(subject, |k| pats[k].0.contains(subject))
    }

    /// The server's authorisation of an import: an export of `acc` covers `subject` and
    /// names `importer` among its accounts, or names none.
    fn authorised(&self, acc: NodeIndex, subject: &Pattern, importer: NodeIndex) -> bool {
        let Some((pats, index)) = self.exports.get(&acc) else {
            return false;
        };
        let importer = &self.graph.g[importer].name;
        index.visit_overlapping(subject, |k| {
            let (p, x) = &pats[k];
            p.contains(subject)
                && self.graph.exports[*x]
                    .accounts
                    .as_ref()
                    .is_none_or(|accs| accs.iter().any(|a| a == importer))
        })
    }

    /// The imports of `acc` that a walk carrying `to` would look at, in the server's order
    /// (import ids grow in config order within one importer), added yet or not; `None` when
    /// `acc` exports nothing covering `to`, where the server's walk stops.
    fn reachable(&self, acc: NodeIndex, to: &Pattern) -> Option<Vec<usize>> {
        if !self.has_export_matching(acc, to) {
            return None;
        }
        let mut candidates = vec![];
        if let Some((ids, index)) = self.by_importer.get(&acc) {
            index.visit_overlapping(to, |k| {
                candidates.push(ids[k]);
                false
            });
        }
        candidates.sort_unstable();
        candidates.dedup();
        Some(candidates)
    }

    /// The server's walk: Err carries the chain of imports that closed the cycle.
    fn walk(
        &self,
        acc: NodeIndex,
        to: &Pattern,
        visited: &mut Vec<NodeIndex>,
        chain: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match self.reachable(acc, to) {
            Some(candidates) => self.walk_through(acc, to, &candidates, visited, chain),
            None => Ok(()),
        }
    }

    /// The walk's loop over the imports of `acc` that `reachable` found.
    fn walk_through<'p>(
        &self,
        acc: NodeIndex,
        to: &'p Pattern,
        candidates: &[usize],
        visited: &mut Vec<NodeIndex>,
        chain: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>>
    where
        'a: 'p,
    {
        // As in the server, a narrower subject found on the way replaces `to` for the rest of the
        // loop.
        let mut to: &'p Pattern = to;
        for &i in candidates {
            if !self.added[i] {
                continue;
            }
            let Some(p) = &self.parsed[i] else { continue };
            if to.overlap(&p.to).is_none() {
                continue;
            }
            let imp = &self.imports[i];
            if visited.contains(&imp.exporter) {
                chain.push(i);
                return Err(chain.clone());
            }
            if !visited.contains(&acc) {
                visited.push(acc);
            }
            if to.contains(&p.to) {
                to = &p.to;
            }
            chain.push(i);
            self.walk(imp.exporter, to, visited, chain)?;
            chain.pop();
        }
        Ok(())
    }
}

/// What the first step of the server's walks for one import finds; it does not depend on the
/// order imports are added in, so it is worked out once for all orders.
#[derive(Default)]
struct FirstStep {
    /// The exporter exports the imported subject to the importer (else the server refuses
    /// the import before any walk).
    authorised: bool,
    /// `reachable` from the exporter for the delivered subject and for the imported one.
    from_to: Option<Vec<usize>>,
    from_subject: Option<Vec<usize>>,
}

/// What went wrong when the server added one import.
#[derive(Debug, Clone)]
pub enum Refusal {
    Cycle(Cycle),
    Duplicate { first: usize, second: usize },
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n > MAX_PERMUTED_ACCOUNTS {
        let base: Vec<usize> = (0..n).collect();
        let mut v = vec![base.clone(), base.iter().rev().copied().collect()];
        for r in 1..n {
            let mut rot = base.clone();
            rot.rotate_left(r);
            v.push(rot);
        }
        return v;
    }
    let mut out = vec![];
    let mut cur: Vec<usize> = (0..n).collect();
    fn go(k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k == cur.len() {
            out.push(cur.clone());
            return;
        }
        for i in k..cur.len() {
            cur.swap(k, i);
            go(k + 1, cur, out);
            cur.swap(k, i);
        }
    }
    go(0, &mut cur, &mut out);
    out
}

fn cycle_from_chain(g: &Graph, imports: &[StreamImport], chain: &[usize]) -> Cycle {
    let last = &imports[*chain.last().unwrap()];
    let mut hops = vec![Hop {
        account: g.g[last.exporter].name.clone(),
        subject: last.subject.clone(),
    }];
    for &c in chain.iter().rev() {
        let imp = &imports[c];
        hops.push(Hop {
            account: g.g[imp.importer].name.clone(),
            subject: imp.to.clone(),
        });
    }
    let mut origins: Vec<Span> = chain.iter().filter_map(|&c| imports[c].origin).collect();
    origins.dedup();
    Cycle { hops, origins }
}

/// Every refusal any order of adding the imports produces, each reported once.
pub fn replay(g: &Graph) -> (Vec<StreamImport>, Vec<Refusal>) {
    let r = replay_all(g);
    (r.imports, r.refusals)
}

/// What replaying the stream imports found.
pub struct Replayed {
    pub imports: Vec<StreamImport>,
    pub refusals: Vec<Refusal>,
    /// Per import: whether the exporter authorises it (the server refuses it otherwise);
    /// `None` when a subject does not parse.
    pub authorised: Vec<Option<bool>>,
}

/// `replay`, also telling which imports the exporters authorise.
pub fn replay_all(g: &Graph) -> Replayed {
    let imports = g.stream_imports();
    let parsed: Vec<Option<Parsed>> = imports
        .iter()
        .map(|i| {
            Some(Parsed {
                from: Pattern::parse(&i.subject).ok()?,
                to: Pattern::parse(&i.to).ok()?,
            })
        })
        .collect();
    let exports = stream_exports(g);
    let (by_importer, order_of_accounts) = importers(&imports, &parsed);
    let orders = permutations(order_of_accounts.len());
    let parallel = imports.len() >= PARALLEL_FROM;
    let threads = crate::parallel::cores();
    let first: Vec<FirstStep> = {
        let ctx = Replay {
            graph: g,
            imports: &imports,
            parsed: &parsed,
            exports: &exports,
            by_importer: &by_importer,
            added: vec![],
            first: &[],
        };
        let step = |i: usize| -> FirstStep {
            let (Some(p), imp) = (&parsed[i], &imports[i]) else {
                return FirstStep::default();
            };
            FirstStep {
                authorised: ctx.authorised(imp.exporter, &p.from, imp.importer),
                from_to: ctx.reachable(imp.exporter, &p.to),
                from_subject: ctx.reachable(imp.exporter, &p.from),
            }
        };
        if !parallel || threads < 2 {
            (0..imports.len()).map(step).collect()
        } else {
            let (n, chunk) = (imports.len(), imports.len().div_ceil(threads));
            let step = &step;
            std::thread::scope(|scope| {
                // Spawn every chunk first, then join them in order.
                let handles: Vec<_> = (0..n)
                    .step_by(chunk)
                    .map(|a| {
                        scope.spawn(move || (a..(a + chunk).min(n)).map(step).collect::<Vec<_>>())
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        h.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        }
    };
    let ctx = Replay {
        graph: g,
        imports: &imports,
        parsed: &parsed,
        exports: &exports,
        by_importer: &by_importer,
        added: vec![],
        first: &first,
    };
    let replay_all = |orders: &[Vec<usize>]| -> Vec<Vec<Found>> {
        orders
            .iter()
            .map(|o| ctx.add_in_order(o, &order_of_accounts))
            .collect()
    };
    // Orders are independent; on big configs they share the cores.
    let threads = threads.min(orders.len());
    let found: Vec<Vec<Found>> = if !parallel || threads < 2 {
        replay_all(&orders)
    } else {
        let chunk = orders.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = orders
                .chunks(chunk)
                .map(|c| scope.spawn(move || replay_all(c)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let refusals = merge(g, &imports, found);
    let authorised = first
        .iter()
        .zip(&parsed)
        .map(|(f, p)| p.as_ref().map(|_| f.authorised))
        .collect();
    Replayed {
        imports,
        refusals,
        authorised,
    }
}

/// Each account's stream exports (pattern, index into the graph's exports), indexed by pattern.
type Exports = HashMap<NodeIndex, Indexed<(Pattern, usize)>>;
/// Each importing account's imports (indices), indexed by their local subject.
type Importers = HashMap<NodeIndex, Indexed<usize>>;

/// The stream exports of each account, indexed by pattern.
fn stream_exports(g: &Graph) -> Exports {
    let mut exports: Exports = HashMap::new();
    for (k, x) in g
        .exports
        .iter()
        .enumerate()
        .filter(|(_, x)| x.kind == super::ImportKind::Stream)
    {
        if let Ok(p) = Pattern::parse(&x.subject) {
            let (pats, index) = exports.entry(x.account).or_default();
            index.insert(&p, pats.len());
            pats.push((p, k));
        }
    }
    exports
}

/// The imports of each importing account, indexed by their local subject, and the importing
/// accounts in the order they first import.
fn importers(imports: &[StreamImport], parsed: &[Option<Parsed>]) -> (Importers, Vec<NodeIndex>) {
    let mut by_importer: Importers = HashMap::new();
    let mut order_of_accounts: Vec<NodeIndex> = vec![];
    for (i, imp) in imports.iter().enumerate() {
        let (ids, index) = by_importer.entry(imp.importer).or_default();
        if let Some(p) = &parsed[i] {
            index.insert(&p.to, ids.len());
        }
        ids.push(i);
        if !order_of_accounts.contains(&imp.importer) {
            order_of_accounts.push(imp.importer);
        }
    }
    (by_importer, order_of_accounts)
}

/// The refusals every order met, each once.
fn merge(g: &Graph, imports: &[StreamImport], found: Vec<Vec<Found>>) -> Vec<Refusal> {
    let mut refusals: Vec<Refusal> = vec![];
    let mut seen_cycles: HashSet<Vec<usize>> = HashSet::new();
    let mut seen_dups: HashSet<(usize, usize)> = HashSet::new();
    for f in found.into_iter().flatten() {
        match f {
            Found::Cycle(chain) => {
                let mut key = chain.clone();
                key.sort_unstable();
                if seen_cycles.insert(key) {
                    refusals.push(Refusal::Cycle(cycle_from_chain(g, imports, &chain)));
                }
            }
            Found::Duplicate(first, second) => {
                if seen_dups.insert((first, second)) {
                    refusals.push(Refusal::Duplicate { first, second });
                }
            }
        }
    }
    refusals
}

/// Imports below this many are replayed on one thread (spawning costs more than it saves).
const PARALLEL_FROM: usize = 2_000;

/// A refusal as one order of adding meets it, before the orders' findings are merged.
enum Found {
    Cycle(Vec<usize>),
    Duplicate(usize, usize),
}

impl<'a> Replay<'a> {
    /// Adds every import as the server would with accounts in `order`.
    fn add_in_order(&self, order: &[usize], accounts: &[NodeIndex]) -> Vec<Found> {
        let mut r = Replay {
            added: vec![false; self.imports.len()],
            ..*self
        };
        let mut found = vec![];
        let (mut visited, mut chain) = (vec![], vec![]);
        // The server's duplicate test: same exporter and same subject, already added.
        let mut added_keys: rustc_hash::FxHashMap<(NodeIndex, NodeIndex, &str), usize> =
            Default::default();
        for &a in order {
            let acc = accounts[a];
            for &i in &self.by_importer[&acc].0 {
                let imp = &self.imports[i];
                let Some(p) = &self.parsed[i] else { continue };
                let step = &self.first[i];
                // Unauthorised imports are refused before this walk and never added.
                if !step.authorised {
                    continue;
                }
                let mut failed = false;
                // 2.15 walks from the delivered subject and from the imported one.
                for (start, reachable) in [(&p.to, &step.from_to), (&p.from, &step.from_subject)] {
                    let Some(candidates) = reachable else {
                        continue;
                    };
                    visited.clear();
                    visited.push(imp.importer);
                    chain.clear();
                    chain.push(i);
                    if let Err(cycle) =
                        r.walk_through(imp.exporter, start, candidates, &mut visited, &mut chain)
                    {
                        found.push(Found::Cycle(cycle));
                        failed = true;
                        break;
                    }
                }
                if failed {
                    continue;
                }
                if let Some(&first) =
                    added_keys.get(&(imp.importer, imp.exporter, imp.subject.as_str()))
                {
                    found.push(Found::Duplicate(first.min(i), first.max(i)));
                    continue;
                }
                r.added[i] = true;
                added_keys.insert((imp.importer, imp.exporter, imp.subject.as_str()), i);
            }
        }
        found
    }
}

/// The cycles any order of adding the imports runs into.
pub fn find(g: &Graph) -> Vec<Cycle> {
    replay(g)
        .1
        .into_iter()
        .filter_map(|r| match r {
            Refusal::Cycle(c) => Some(c),
            Refusal::Duplicate { .. } => None,
        })
        .collect()
}

/// Two stream imports of one importer from one exporter with the same subject.
pub fn duplicates(g: &Graph) -> Vec<(StreamImport, StreamImport)> {
    let (imports, refusals) = replay(g);
    refusals
        .into_iter()
        .filter_map(|r| match r {
            Refusal::Duplicate { first, second } => {
                Some((imports[first].clone(), imports[second].clone()))
            }
            Refusal::Cycle(_) => None,
        })
        .collect()
}
