//! The one door from `diff` into the compiler: values in, each cluster's model (with the
//! bus the chart renders from it) and its merged values tree out, or the compile's findings.
//! Nothing else in `diff` calls the pipeline, so a new driver is re-pointed here alone.

use crate::bus::Bus;
use crate::diag::{Diagnostic, Sources};
use crate::load::{Inputs, Node};
use crate::model::Model;
use crate::server_version::Stated;

/// One cluster's compile, as diff reads it.
pub struct Cluster {
    /// The fleet's name for it, else the model's (`csc`, `cpc-1`).
    pub name: String,
    pub model: Model,
    /// What the event-bus chart renders from it.
    pub bus: Bus,
    /// The merged values (the chart's defaults included): what the pod template reads.
    pub values: Node,
    /// The fleet file's `mtls` facts for it (server SANs), which `up` issues certificates
    /// with; `None` for values compiled alone.
    pub mtls: Option<crate::fleet::MtlsFacts>,
}

/// A compile of one values set or one fleet: clusters when no finding is an error.
pub struct Compiled {
    pub clusters: Vec<Cluster>,
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Compiles one cluster's values as `natscc compile` does (checks only, nothing emitted).
pub fn compile_values(inputs: &Inputs, stated: Option<&Stated>) -> Compiled {
    let mut sources = Sources::default();
    let (root, load_diags, mode) = crate::load::load_any(inputs, &mut sources);
    let values = root.clone();
    let c = crate::driver::run_mode(mode, root, load_diags, sources, false, stated);
    if mode == crate::load::Mode::PlainChart {
        let mut diags = c.diags;
        diags.push(Diagnostic::new(
            crate::diag::Code::DiffPlainChart,
            "natscc diff reads event-bus values (with `global.eventBus`); these are the plain \
             NATS chart's",
        ));
        return Compiled {
            clusters: vec![],
            diags,
            sources: c.sources,
        };
    }
    let has_errors = c.has_errors();
    let clusters = match (c.model, c.bus, values, has_errors) {
        (Some(model), Some(bus), Some(values), false) => vec![Cluster {
            name: model.cluster_name(),
            model,
            bus,
            values,
            mtls: None,
        }],
        _ => vec![],
    };
    Compiled {
        clusters,
        diags: c.diags,
        sources: c.sources,
    }
}

/// Compiles every cluster of a fleet file as `natscc compile --fleet` checks it.
pub fn compile_fleet(path: &std::path::Path) -> Compiled {
    let f = crate::fleet::compile(path, false);
    let mut out = Compiled {
        clusters: vec![],
        diags: f.diags,
        sources: f.sources,
    };
    if out.has_errors() {
        return out;
    }
    let Some(spec) = f.spec else { return out };
    let mut scratch = vec![];
    let cache = crate::fleet::load::FileCache::read(&spec, &mut out.sources, &mut scratch);
    for (cluster, cspec) in f.clusters.into_iter().zip(&spec.clusters) {
        let (Some(model), Some(bus), (Some(values), _)) = (
            cluster.model,
            cluster.bus,
            crate::fleet::load::cluster_values(cspec, &cache),
        ) else {
            continue;
        };
        out.clusters.push(Cluster {
            name: cluster.spec.name.value.clone(),
            model,
            bus,
            values,
            mtls: cluster.spec.mtls.clone(),
        });
    }
    out
}
