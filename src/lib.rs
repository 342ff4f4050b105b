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
pub mod diff;
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
pub mod server_version;
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
    compile_stated(inputs, None, true)
}

/// Loads and checks only: what lint and the pre-commit hook need.
pub fn check_only(inputs: &load::Inputs) -> Compiled {
    compile_stated(inputs, None, false)
}

/// [`compile`] (or, without `emit_files`, [`check_only`]) with the nats-server release the
/// operator states (`--server-version`), used where an image names none.
pub fn compile_stated(
    inputs: &load::Inputs,
    stated: Option<&server_version::Stated>,
    emit_files: bool,
) -> Compiled {
    let mut sources = Sources::default();
    let (root, load_diags) = load::load(inputs, &mut sources);
    if is_plain_chart(root.as_ref(), inputs, &sources) {
        return chart::compile(inputs, emit_files, stated);
    }
    compile_tree_stated(root, load_diags, sources, emit_files, stated)
}

/// The stages after loading, for callers that load themselves (lint, the fleet).
pub fn compile_tree(
    root: Option<load::Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
) -> Compiled {
    compile_tree_stated(root, load_diags, sources, emit_files, None)
}

/// [`compile_tree`] with a stated nats-server release.
pub fn compile_tree_stated(
    root: Option<load::Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
    stated: Option<&server_version::Stated>,
) -> Compiled {
    let mut diags = Diags::default();
    diags.extend(load_diags);
    let mut model = None;
    let mut files = emit::Files::new();
    if let Some(root) = &root {
        model = model::build(root);
        if let Some(m) = &mut model {
            m.server_version = stated.cloned();
        }
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
