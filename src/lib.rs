//! natscc: a compiler from NATS event-bus Helm values to checked NATS server configuration.
//!
//! The pipeline, one module per stage: [`load`] (YAML with spans, Helm merge, `--set`) ->
//! [`check`] (schema and rules) over [`model`] (typed values) -> [`emit`] (files).
//! [`diag`] is the one diagnostic type every stage reports with.

pub mod access;
pub mod bus;
pub mod callout;
pub mod chart;
pub mod check;
pub mod cli;
pub mod conf;
pub mod diag;
pub mod emit;
pub mod fleet;
pub mod graph;
pub mod input;
pub mod keys;
pub mod lint;
pub mod load;
pub mod model;
pub mod natsconf;
pub mod parallel;
pub mod postrender;
pub mod subject;

use diag::{Diagnostic, Diags, Severity, Sources};

/// The result of compiling one cluster: files only when there is no error.
pub struct Compiled {
    pub files: emit::Files,
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
    pub model: Option<model::Model>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Plain-chart mode is for values that never name `global.eventBus`: what the user wrote
/// decides, so a `--set global=[1]` or a `null` over event-bus values is an error of the event
/// bus, not a quiet switch to the other mode.
pub(crate) fn is_plain_chart(
    root: Option<&load::Node>,
    inputs: &load::Inputs,
    sources: &Sources,
) -> bool {
    let Some(root) = root else { return false };
    !chart::is_event_bus(root, sources) && !load::names_event_bus(inputs, sources)
}

/// Loads, checks and, when nothing is wrong, emits one cluster.
pub fn compile(inputs: &load::Inputs) -> Compiled {
    let mut sources = Sources::default();
    let (root, load_diags) = load::load(inputs, &mut sources);
    if is_plain_chart(root.as_ref(), inputs, &sources) {
        return chart::compile(inputs, true);
    }
    compile_tree(root, load_diags, sources, true)
}

/// Loads and checks only: what lint and the pre-commit hook need.
pub fn check_only(inputs: &load::Inputs) -> Compiled {
    let mut sources = Sources::default();
    let (root, load_diags) = load::load(inputs, &mut sources);
    if is_plain_chart(root.as_ref(), inputs, &sources) {
        return chart::compile(inputs, false);
    }
    compile_tree(root, load_diags, sources, false)
}

/// The stages after loading, for callers that load themselves (lint, the fleet).
pub fn compile_tree(
    root: Option<load::Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
) -> Compiled {
    let mut diags = Diags::default();
    diags.extend(load_diags);
    let mut model = None;
    let mut files = emit::Files::new();
    if let Some(root) = &root {
        model = model::build(root);
        diags.extend(check::check(root, model.as_ref(), &sources));
        // Measured: printing the files (or parsing the schema) on a second thread made a
        // compile slower on the 2-core VM: waking the other core costs more than the work.
        if let (Some(m), false, true) = (&model, diags.has_errors(), emit_files) {
            files = emit::emit(m, &m.bus);
        }
    }
    Compiled {
        files,
        diags: diags.finish(),
        sources,
        model,
    }
}
