//! The fleet: one CSC and its CPCs, compiled and checked together from a fleet file.
//!
//! `load` reads the fleet file and each cluster's values (shared files once), every cluster
//! then runs the single-cluster pipeline (`crate::driver::compile_tree`), `check` runs the rules no
//! single values file can decide, and `graph` joins the clusters' routing graphs at their leaf
//! connections. `up` runs the whole fleet locally on real servers.
//!
//! **All or nothing**: a fleet with an error in any cluster, or between clusters, emits no file.

pub mod callout;
pub mod check;
mod cleanup;
pub mod cli;
pub mod graph;
pub mod jetstream;
pub mod load;
pub(crate) mod nats;
pub mod overlay;
pub mod pki;
pub mod up;

use crate::bus::Bus;
use crate::diag::{Diagnostic, Diags, Severity, SourceId, Sources, Span};
use crate::emit::{Files, Stage};
use crate::load::Entry;
use crate::model::{ClusterType, Model, Spanned};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// What the chart renders from its values, beside the model (dropped once written).
    pub bus: Option<Bus>,
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
}

/// Compiles (with `emit`, keeping every cluster's files) or only checks every cluster of the
/// fleet file at `path`.
pub fn compile(path: &std::path::Path, emit: bool) -> Fleet {
    let out = if emit { Output::Keep } else { Output::Check };
    run(path, out).0
}

/// Compiles the fleet and writes each cluster's files into `stage` as soon as that cluster
/// is compiled clean, then drops them with the cluster's rendered bus, so the fleet's text is
/// never all in memory. Nothing more is written once anything is wrong. The caller commits
/// the stage only when the fleet (its findings judged) has no error: all or nothing still.
/// Returns the fleet (no files, models without their bus) and the first write error.
pub fn compile_into(path: &std::path::Path, stage: &Stage) -> (Fleet, std::io::Result<()>) {
    run(path, Output::Stream(stage))
}

/// What becomes of each cluster's files as its compile ends.
#[derive(Clone, Copy)]
enum Output<'a> {
    Check,
    Keep,
    Stream(&'a Stage),
}

fn run(path: &std::path::Path, out: Output) -> (Fleet, std::io::Result<()>) {
    let mut fleet = Fleet::default();
    let mut diags = vec![];
    let Some(spec) = load::read_spec(path, &mut fleet.sources, &mut diags) else {
        fleet.diags = diags;
        return (fleet, Ok(()));
    };
    // Every values file once, in fleet order; each cluster then merges its own values from
    // them on the thread that compiles it, so no more than a core's worth of trees is alive.
    let cache = load::FileCache::read(&spec, &mut fleet.sources, &mut diags);
    let writer = Writer {
        out,
        failed: AtomicBool::new(diags.iter().any(Diagnostic::is_error)),
        error: Mutex::new(None),
    };
    let sources = fleet.sources.clone();
    let per_cluster = crate::parallel::map(spec.clusters.len(), |i| {
        compile_one(&spec.clusters[i], &cache, &sources, &writer)
    });
    drop(cache);
    let mut named_diags = vec![];
    for (c, (model, bus, files, d, load_diags)) in spec.clusters.iter().zip(per_cluster) {
        diags.extend(load_diags);
        named_diags.push((c.name.value.clone(), d));
        fleet.clusters.push(Cluster {
            spec: c.clone(),
            model,
            bus,
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
    let written = match writer.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    };
    (fleet, written)
}

/// Where the clusters' compiles put their files, shared by the threads.
struct Writer<'a> {
    out: Output<'a>,
    /// Set by the first error (in the fleet file, a cluster or a write): from then on nothing
    /// is written, as the fleet will be refused whole.
    failed: AtomicBool,
    error: Mutex<Option<std::io::Error>>,
}

impl Writer<'_> {
    /// Streams a clean cluster's files into the stage; the files left to keep in the fleet.
    fn take(&self, name: &str, files: Files, clean: bool) -> Files {
        let Output::Stream(stage) = self.out else {
            return files;
        };
        // The schema's name pattern makes every cluster name one folder; a name that is not
        // (already an error) is never a path.
        let one_folder = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
        if !clean || !one_folder {
            self.failed.store(true, Ordering::Relaxed);
        } else if !self.failed.load(Ordering::Relaxed)
            && let Err(e) = stage.add(name, &files)
        {
            self.failed.store(true, Ordering::Relaxed);
            let mut first = self.error.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert(e);
        }
        Files::new()
    }
}

type ClusterResult = (
    Option<Model>,
    Option<Bus>,
    Files,
    Vec<Diagnostic>,
    Vec<Diagnostic>,
);

/// One cluster: its values merged, the single-cluster pipeline, its files handed on. Returns
/// its model and rendered bus, the files kept, its findings, and its values' own (`set`) findings.
fn compile_one(
    spec: &ClusterSpec,
    cache: &load::FileCache,
    sources: &Sources,
    writer: &Writer,
) -> ClusterResult {
    let (root, load_diags) = load::cluster_values(spec, cache);
    if root.is_none() {
        return (None, None, Files::new(), vec![], load_diags);
    }
    let emit = !matches!(writer.out, Output::Check);
    let c = crate::driver::compile_tree(root, vec![], sources.clone(), emit);
    let clean = !c.has_errors();
    let files = writer.take(&spec.name.value, c.files, clean);
    let (mut model, mut bus) = (c.model, c.bus);
    // Written files leave with what rendered them; a CPC keeps what the fleet's rules read.
    if let Output::Stream(_) = writer.out {
        bus = None;
        if let Some(m) = model.as_mut().filter(|m| m.is_cpc()) {
            m.keep_fleet_view();
        }
    }
    (model, bus, files, c.diags, load_diags)
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
                // A cluster's findings come together: one look at the last name suffices.
                Some((_, names)) => {
                    if names.last() != Some(&cluster) {
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
