//! The routing graph, read by stage 3 (the import rules) and by `graph` and `explain`.
//! Accounts are nodes; every stream and service import is an edge in the direction messages
//! travel. Built from the same config trees the emitters
//! print, so the graph can never disagree with the files.

pub mod cycles;
pub mod render;

use crate::conf::{Conf, ConfMap, Item};
use crate::diag::Span;
use crate::model::{ListKind, Model};
use crate::subject::{Pattern, Token};
use petgraph::graph::{DiGraph, NodeIndex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    Stream,
    Service,
}

/// An account on a server: `cluster` names the server in a fleet (empty for one cluster).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    pub cluster: String,
    pub name: String,
}

impl Account {
    pub fn label(&self) -> String {
        if self.cluster.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.cluster, self.name)
        }
    }
}

/// How messages cross from one account to another.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// `importer` imports `subject` from the exporter, delivered locally as `to`.
    Import {
        kind: ImportKind,
        subject: String,
        to: String,
    },
    /// A leaf connection binds the same-named account on both ends (fleet graphs).
    Leaf,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub link: Link,
    /// Where in the values this import comes from, when it comes from the values.
    pub origin: Option<Span>,
}

/// A stream import as the server sees it, for cycle and duplicate detection.
#[derive(Debug, Clone)]
pub struct StreamImport {
    /// The graph edge of this import.
    pub edge: petgraph::graph::EdgeIndex,
    pub importer: NodeIndex,
    pub exporter: NodeIndex,
    pub subject: String,
    pub to: String,
    pub origin: Option<Span>,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub g: DiGraph<Account, Edge>,
    /// Per account: subject mappings (`mappings {}`) as (source, destination).
    pub mappings: Vec<(NodeIndex, String, String)>,
    /// What each account exports, for the authorisation check.
    pub exports: Vec<Export>,
    /// The accounts the config defines (an import may name one that it does not).
    pub defined: Vec<NodeIndex>,
    /// cluster -> account -> node, so big configs find their accounts without a scan.
    by_name: rustc_hash::FxHashMap<String, rustc_hash::FxHashMap<String, NodeIndex>>,
}

/// One export: an account allows others to import `subject` (only `accounts`, when listed).
#[derive(Debug, Clone)]
pub struct Export {
    pub account: NodeIndex,
    pub kind: ImportKind,
    pub subject: String,
    pub accounts: Option<Vec<String>>,
}

impl Graph {
    pub fn node(&mut self, cluster: &str, name: &str) -> NodeIndex {
        if let Some(i) = self.find(cluster, name) {
            return i;
        }
        let i = self.g.add_node(Account {
            cluster: cluster.to_string(),
            name: name.to_string(),
        });
        self.by_name
            .entry(cluster.to_string())
            .or_default()
            .insert(name.to_string(), i);
        i
    }

    pub fn find(&self, cluster: &str, name: &str) -> Option<NodeIndex> {
        self.by_name.get(cluster)?.get(name).copied()
    }

    /// Every stream import in the order the server would add them.
    pub fn stream_imports(&self) -> Vec<StreamImport> {
        self.g
            .edge_indices()
            .filter_map(|e| {
                let (from, to_node) = self.g.edge_endpoints(e)?;
                match &self.g[e].link {
                    Link::Import {
                        kind: ImportKind::Stream,
                        subject,
                        to,
                    } => Some(StreamImport {
                        edge: e,
                        importer: to_node,
                        exporter: from,
                        subject: subject.clone(),
                        to: to.clone(),
                        origin: self.g[e].origin,
                    }),
                    _ => None,
                }
            })
            .collect()
    }

    /// Adds the accounts of one server's `accounts {}` block (includes already resolved).
    pub fn add_accounts(&mut self, cluster: &str, accounts: &ConfMap) {
        self.add_accounts_traced(cluster, accounts, &|_, _| None);
    }

    /// Like `add_accounts`; `origin(account, i)` says where the account's `i`-th import was
    /// written.
    pub fn add_accounts_traced(
        &mut self,
        cluster: &str,
        accounts: &ConfMap,
        origin: &dyn Fn(&str, usize) -> Option<Span>,
    ) {
        for item in &accounts.items {
            let Item::Kv(name, Conf::Map(body)) = item else {
                continue;
            };
            let importer = self.node(cluster, name);
            self.defined.push(importer);
            if let Some(Conf::List(imports)) = body.get("imports") {
                for (i, imp) in imports.iter().enumerate() {
                    let Conf::Map(imp) = imp else { continue };
                    for (kind, key) in [
                        (ImportKind::Stream, "stream"),
                        (ImportKind::Service, "service"),
                    ] {
                        let Some(Conf::Map(src)) = imp.get(key) else {
                            continue;
                        };
                        let (Some(acc), Some(subject)) =
                            (text(src.get("account")), text(src.get("subject")))
                        else {
                            continue;
                        };
                        let to = match (text(imp.get("to")), text(imp.get("prefix"))) {
                            (_, Some(p)) => format!("{p}.{subject}"),
                            (Some(t), None) => t.clone(),
                            _ => subject.clone(),
                        };
                        let exporter = self.node(cluster, acc);
                        // Streams flow exporter -> importer; service requests flow importer ->
                        // exporter.
                        let (a, b) = match kind {
                            ImportKind::Stream => (exporter, importer),
                            ImportKind::Service => (importer, exporter),
                        };
                        self.g.add_edge(
                            a,
                            b,
                            Edge {
                                link: Link::Import {
                                    kind,
                                    subject: subject.clone(),
                                    to,
                                },
                                origin: origin(name, i),
                            },
                        );
                    }
                }
            }
            if let Some(Conf::List(exports)) = body.get("exports") {
                for exp in exports {
                    let Conf::Map(exp) = exp else { continue };
                    for (kind, key) in [
                        (ImportKind::Stream, "stream"),
                        (ImportKind::Service, "service"),
                    ] {
                        if let Some(subject) = text(exp.get(key)) {
                            let accounts = match exp.get("accounts") {
                                Some(Conf::List(l)) => {
                                    Some(l.iter().filter_map(|a| text(Some(a)).cloned()).collect())
                                }
                                _ => None,
                            };
                            self.exports.push(Export {
                                account: importer,
                                kind,
                                subject: subject.clone(),
                                accounts,
                            });
                        }
                    }
                }
            }
            if let Some(Conf::Map(maps)) = body.get("mappings") {
                for item in &maps.items {
                    if let Item::Kv(src, dst) = item
                        && let Some(dst) = text(Some(dst))
                    {
                        self.mappings.push((importer, src.clone(), dst.clone()));
                    }
                }
            }
        }
    }
}

/// Text as the server reads it: a quoted string or an unquoted word (as in a hand-written or
/// chart-rendered config).
fn text(c: Option<&Conf>) -> Option<&String> {
    match c {
        Some(Conf::Str(s) | Conf::Bare(s)) => Some(s),
        _ => None,
    }
}

/// All accounts of the main server of one cluster, as the emitters write them.
pub fn server_accounts(bus: &crate::bus::Bus) -> ConfMap {
    bus.main_accounts()
}

/// The routing graph of one cluster's main server, with each import traced to its values entry.
pub fn build(m: &Model, bus: &crate::bus::Bus, cluster: &str) -> Graph {
    let mut g = Graph::default();
    let accounts = server_accounts(bus);
    g.add_accounts(cluster, &accounts);
    attach_origins(&mut g, m);
    // Freeing a tree of tens of thousands of small maps costs about as much as reading it;
    // a big one is freed on another thread, off the check's critical path.
    if g.g.edge_count() >= 2_000 {
        std::thread::spawn(move || drop(accounts));
    }
    g
}

/// Points each generated import back at the values entry that caused it.
fn attach_origins(g: &mut Graph, m: &Model) {
    let id = m.id();
    let spans = |kind: ListKind| -> std::collections::HashMap<&str, Span> {
        m.cross
            .list(kind)
            .iter()
            .rev()
            .map(|x| (x.value.as_str(), x.span))
            .collect()
    };
    let (e_spans, p_spans, x_spans) = (
        spans(ListKind::CscExports),
        spans(ListKind::CscPrefixedExports),
        spans(ListKind::CpcExports),
    );
    let prefix = format!("cpc.{id}.");
    let edges: Vec<_> = g.g.edge_indices().collect();
    for e in edges {
        let (a, b) = g.g.edge_endpoints(e).unwrap();
        let Link::Import {
            kind: ImportKind::Stream,
            subject,
            to,
        } = &g.g[e].link
        else {
            continue;
        };
        let origin = match (g.g[a].name.as_str(), g.g[b].name.as_str()) {
            ("CPC", "CSC") if m.is_cpc() => x_spans.get(subject.as_str()).copied(),
            ("CSC", "CPC") if m.is_cpc() && subject == to => e_spans.get(subject.as_str()).copied(),
            ("CSC", "CPC") if m.is_cpc() => p_spans
                .get(to.as_str())
                .copied()
                .filter(|_| subject.strip_prefix(&prefix) == Some(to.as_str())),
            (from, to_acc) => extra_origin(m, to_acc, from, subject, to),
        };
        g.g[e].origin = origin;
    }
}

fn extra_origin(
    m: &Model,
    importer: &str,
    exporter: &str,
    subject: &str,
    to: &str,
) -> Option<Span> {
    let acc = m.extra_accounts.iter().find(|a| a.name.value == importer)?;
    let imports = acc.fields.iter().find(|f| f.key == "imports")?;
    imports.value.items().iter().find_map(|imp| {
        let src = imp.get("stream").or(imp.get("service"))?;
        let local = imp.get("to").and_then(|n| n.as_str()).unwrap_or(subject);
        let same = src.get("account").and_then(|n| n.as_str()) == Some(exporter)
            && src.get("subject").and_then(|n| n.as_str()) == Some(subject)
            && local == to;
        same.then_some(imp.span)
    })
}

/// Maps the part of `subject` that `from` matches onto `to` as nats-server's transforms do:
/// the n-th `*` of `to` takes what the n-th `*` of `from` matched, a `>` what the `>` did (so
/// the chart's `$MQTT.sess.*.>` → `$MQTT.sess.CSC.>` drops the `*`'s token, as measured on
/// 2.12.6 by tests/explain_mappings.rs); `None` when they share no subject.
pub fn transform(subject: &str, from: &str, to: &str) -> Option<String> {
    let (Ok(f), Ok(t), Ok(s)) = (
        Pattern::parse(from),
        Pattern::parse(to),
        Pattern::parse(subject),
    ) else {
        return None;
    };
    // A pattern subject (an identity's permission) is carried as the subjects it shares
    // with `from`; a literal one only when `from` matches it.
    let s = f.intersect(&s)?;
    let mut stars: Vec<String> = vec![];
    let mut tail: Option<String> = None;
    for (i, tok) in f.0.iter().enumerate() {
        match tok {
            Token::Star => stars.push(s.0[i].to_string()),
            Token::Tail => tail = Some(Pattern(s.0[i..].to_vec()).to_string()),
            Token::Lit(_) => {}
        }
    }
    let mut stars = stars.into_iter();
    let out: Vec<String> =
        t.0.iter()
            .map(|tok| match tok {
                Token::Lit(l) => l.clone(),
                Token::Star => stars.next().unwrap_or_else(|| "*".into()),
                Token::Tail => tail.clone().unwrap_or_else(|| ">".into()),
            })
            .collect();
    Some(out.join("."))
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Lit(l) => f.write_str(l),
            Token::Star => f.write_str("*"),
            Token::Tail => f.write_str(">"),
        }
    }
}
