//! natscc: a compiler from NATS event-bus Helm values to checked NATS server configuration.
//!
//! The pipeline, one module per stage: [`load`] (YAML with spans, Helm merge, `--set`) ->
//! [`check`] (schema and rules) over [`model`] (typed values) -> [`emit`] (files).
//! [`diag`] is the one diagnostic type every stage reports with.

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
fn is_plain_chart(root: Option<&load::Node>, inputs: &load::Inputs, sources: &Sources) -> bool {
    let Some(root) = root else { return false };
    !chart::is_event_bus(root, sources) && !load::names_event_bus(inputs, sources)
}

/// Loads, checks and, when nothing is wrong, emits one cluster.
pub fn compile(inputs: &load::Inputs) -> Compiled {
    check::schema::warm_up();
    let mut sources = Sources::default();
    let (root, load_diags) = load::load(inputs, &mut sources);
    if is_plain_chart(root.as_ref(), inputs, &sources) {
        return chart::compile(inputs, true);
    }
    compile_tree(root, load_diags, sources, true)
}

/// Loads and checks only: what lint and the pre-commit hook need.
pub fn check_only(inputs: &load::Inputs) -> Compiled {
    check::schema::warm_up();
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
        let printable = model.as_ref().filter(|_| emit_files && !diags.has_errors());
        // The checks and the files read the finished model only: on a second core the files
        // are printed while the checks run, and dropped if a check fails.
        let (found, printed) = std::thread::scope(|scope| {
            let printer = printable.map(|m| scope.spawn(move || emit::emit(m, &m.bus)));
            let found = check::check(root, model.as_ref(), &sources);
            let printed =
                printer.map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (found, printed)
        });
        diags.extend(found);
        if let (Some(printed), false) = (printed, diags.has_errors()) {
            files = printed;
        }
    }
    Compiled {
        files,
        diags: diags.finish(),
        sources,
        model,
    }
}
