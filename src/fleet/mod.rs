//! The fleet: one CSC and its CPCs, compiled and checked together from a fleet file.
//!
//! `load` reads the fleet file and each cluster's values (shared files once), every cluster
//! then runs the single-cluster pipeline (`crate::compile_tree`), `check` runs the rules no
//! single values file can decide, and `graph` joins the clusters' routing graphs at their leaf
//! connections. `up` runs the whole fleet locally on real servers.
//!
//! **All or nothing**: a fleet with an error in any cluster, or between clusters, emits no file.

pub mod callout;
pub mod check;
mod cleanup;
pub mod cli;
pub mod graph;
mod jetstream;
pub mod load;
pub(crate) mod nats;
pub mod overlay;
pub mod pki;
pub mod up;

use crate::diag::{Diagnostic, Diags, Severity, SourceId, Sources, Span};
use crate::emit::Files;
use crate::load::{Entry, Node};
use crate::model::{ClusterType, Model, Spanned};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Terminate,
    Passthrough,
}

/// One listener of a cluster's Gateway, as the fleet file states it.
#[derive(Debug, Clone)]
pub struct Listener {
    pub name: Spanned<String>,
    pub port: Spanned<u16>,
    pub protocol: Spanned<Protocol>,
    /// Meaningful for protocol TLS only.
    pub tls_mode: Spanned<TlsMode>,
    pub span: Span,
}

impl Listener {
    pub fn describe(&self) -> String {
        match (self.protocol.value, self.tls_mode.value) {
            (Protocol::Tcp, _) => format!("`{}` (TCP, port {})", self.name.value, self.port.value),
            (Protocol::Tls, TlsMode::Terminate) => format!(
                "`{}` (TLS Terminate, port {})",
                self.name.value, self.port.value
            ),
            (Protocol::Tls, TlsMode::Passthrough) => format!(
                "`{}` (TLS Passthrough, port {})",
                self.name.value, self.port.value
            ),
        }
    }
    /// The Gateway ends TLS here: clients speak TLS to it, the pod sees plain TCP.
    pub fn terminates_tls(&self) -> bool {
        self.protocol.value == Protocol::Tls && self.tls_mode.value == TlsMode::Terminate
    }
}

#[derive(Debug, Clone)]
pub struct GatewayFacts {
    pub name: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    pub listeners: Vec<Listener>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct MtlsFacts {
    pub sans: Vec<Spanned<String>>,
    pub broker_urls: Vec<Spanned<String>>,
    pub span: Span,
}

/// One cluster as the fleet file describes it.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub name: Spanned<String>,
    /// Paths already joined to the fleet file's folder.
    pub values: Vec<Spanned<PathBuf>>,
    /// `set`: dotted paths to values, applied after the files.
    pub set: Vec<Entry>,
    pub gateway: Option<GatewayFacts>,
    pub mtls: Option<MtlsFacts>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FleetSpec {
    pub path: PathBuf,
    pub source: SourceId,
    pub clusters: Vec<ClusterSpec>,
    /// The `clusters:` key, for findings about the fleet as a whole.
    pub clusters_span: Span,
}

/// One compiled cluster of the fleet.
#[derive(Debug)]
pub struct Cluster {
    pub spec: ClusterSpec,
    pub model: Option<Model>,
    pub files: Files,
}

impl Cluster {
    pub fn name(&self) -> &str {
        &self.spec.name.value
    }
}

/// The result of compiling a fleet: every cluster, every finding, files only when clean.
#[derive(Debug, Default)]
pub struct Fleet {
    pub spec: Option<FleetSpec>,
    pub clusters: Vec<Cluster>,
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
    /// Every cluster the file names was read, so "no CPC has this id" can be said.
    pub complete: bool,
}

impl Fleet {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }
    /// Clusters with a model of the given type.
    pub fn of_type(&self, t: ClusterType) -> impl Iterator<Item = (&Cluster, &Model)> {
        self.clusters.iter().filter_map(move |c| {
            c.model
                .as_ref()
                .filter(|m| m.cluster_type == t)
                .map(|m| (c, m))
        })
    }
    /// The one CSC, when there is exactly one.
    pub fn csc(&self) -> Option<(&Cluster, &Model)> {
        let mut it = self.of_type(ClusterType::Csc);
        let first = it.next()?;
        if it.next().is_some() {
            None
        } else {
            Some(first)
        }
    }
    /// Every output file of every cluster, as `<cluster>/<file>`.
    pub fn all_files(&self) -> Files {
        let mut out = Files::new();
        for c in &self.clusters {
            for (name, text) in &c.files {
                out.insert(format!("{}/{name}", c.name()), text.clone());
            }
        }
        out
    }
}

/// Compiles (with `emit`) or only checks every cluster of the fleet file at `path`.
pub fn compile(path: &std::path::Path, emit: bool) -> Fleet {
    let mut fleet = Fleet::default();
    let mut diags = vec![];
    let Some(spec) = load::read_spec(path, &mut fleet.sources, &mut diags) else {
        fleet.diags = diags;
        return fleet;
    };
    // Load every cluster in fleet order, sharing parsed files.
    let mut cache = load::FileCache::default();
    let roots: Vec<Option<Node>> = spec
        .clusters
        .iter()
        .map(|c| load::cluster_values(c, &mut cache, &mut fleet.sources, &mut diags))
        .collect();
    drop(cache);
    let sources = fleet.sources.clone();
    let per_cluster = compile_all(roots, &sources, emit);
    let mut named_diags = vec![];
    for (c, (model, files, d)) in spec.clusters.iter().zip(per_cluster) {
        named_diags.push((c.name.value.clone(), d));
        fleet.clusters.push(Cluster {
            spec: c.clone(),
            model,
            files,
        });
    }
    diags.extend(merge_cluster_diags(named_diags));
    fleet.complete = !diags.iter().any(|d| {
        d.is_error() && matches!(d.code, crate::diag::Code::FleetFile | crate::diag::Code::Io)
    }) && fleet.clusters.iter().all(|c| c.model.is_some());
    fleet.spec = Some(spec);
    diags.extend(check::check(&fleet));
    let mut all = Diags::default();
    all.extend(diags);
    fleet.diags = all.finish();
    if fleet.has_errors() {
        for c in &mut fleet.clusters {
            c.files.clear();
        }
    }
    fleet
}

type ClusterResult = (Option<Model>, Files, Vec<Diagnostic>);

/// Runs the single-cluster pipeline for every cluster, on all cores.
fn compile_all(roots: Vec<Option<Node>>, sources: &Sources, emit: bool) -> Vec<ClusterResult> {
    let jobs: Vec<std::sync::Mutex<Option<Node>>> =
        roots.into_iter().map(std::sync::Mutex::new).collect();
    crate::parallel::map(jobs.len(), |i| {
        let root = jobs[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if root.is_none() {
            return (None, Files::new(), vec![]);
        }
        let c = crate::compile_tree(root, vec![], sources.clone(), emit);
        (c.model, c.files, c.diags)
    })
}

/// Names the cluster in each per-cluster finding; one finding made in a file several clusters
/// share (same code, same places) is reported once, naming every cluster it concerns.
fn merge_cluster_diags(per_cluster: Vec<(String, Vec<Diagnostic>)>) -> Vec<Diagnostic> {
    type Key = (crate::diag::Code, Vec<Span>);
    let mut order: Vec<Key> = vec![];
    let mut groups: HashMap<Key, (Diagnostic, Vec<String>)> = HashMap::new();
    for (cluster, diags) in per_cluster {
        for d in diags {
            let key = (d.code, d.labels.iter().map(|l| l.span).collect());
            match groups.get_mut(&key) {
                Some((_, names)) => {
                    if !names.contains(&cluster) {
                        names.push(cluster.clone());
                    }
                }
                None => {
                    order.push(key.clone());
                    groups.insert(key, (d, vec![cluster.clone()]));
                }
            }
        }
    }
    order
        .into_iter()
        .map(|k| {
            let (mut d, names) = groups.remove(&k).unwrap();
            let who = if names.len() <= 4 {
                names.join(", ")
            } else {
                format!(
                    "{}, {} and {} more clusters",
                    names[0],
                    names[1],
                    names.len() - 2
                )
            };
            d.message = format!("{who}: {}", d.message);
            d
        })
        .collect()
}
