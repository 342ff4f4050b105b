//! The one compile driver. The inputs are loaded once and the mode (event bus or plain chart)
//! decided once from what the user wrote (`load::Mode`); the mode then supplies its three
//! stages: render (what the chart deploys from the values), rules (the findings on the values
//! and the rendered configs) and emit (the files). The driver builds one [`Compiled`] and emits
//! only when no error stands.

pub mod args;
pub mod event_bus;
pub mod plain;

use crate::bus::Bus;
use crate::diag::{Diagnostic, Diags, Severity, Sources};
use crate::emit::Files;
use crate::load::{self, Mode, Node};
use crate::model::Model;
use crate::server_version::Stated;

/// The result of compiling one cluster: files only when there is no error.
pub struct Compiled {
    pub files: Files,
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
    /// The typed event-bus values (none in plain-chart mode).
    pub model: Option<Model>,
    /// What the event-bus chart renders from them, built beside the model.
    pub bus: Option<Bus>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    /// The event-bus model and its rendered bus, side by side.
    pub fn rendered(&self) -> Option<(&Model, &Bus)> {
        self.model.as_ref().zip(self.bus.as_ref())
    }
}

/// What one mode supplies to the driver.
pub trait Stages {
    /// What the mode renders from the values and carries from render to rules and emit.
    type Rendered;
    /// Renders what the chart deploys, with the findings rendering itself makes.
    fn render(&self, root: &Node, sources: &Sources) -> (Self::Rendered, Vec<Diagnostic>);
    /// Every rule on the values and on what was rendered.
    fn rules(&self, root: &Node, r: &Self::Rendered, sources: &Sources) -> Vec<Diagnostic>;
    /// The files, only asked for when no error stands.
    fn emit(&self, root: &Node, r: &Self::Rendered) -> Files;
    /// What a caller keeps of a compile: the model and the rendered bus, side by side.
    fn keep(r: Self::Rendered) -> (Option<Model>, Option<Bus>);
}

/// The driver: render, rules, and emit when asked and nothing is wrong.
pub fn run<S: Stages>(
    stages: &S,
    root: Option<Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
) -> Compiled {
    let mut diags = Diags::default();
    diags.extend(load_diags);
    let mut files = Files::new();
    let mut kept = (None, None);
    if let Some(root) = &root {
        let (rendered, d) = stages.render(root, &sources);
        diags.extend(d);
        diags.extend(stages.rules(root, &rendered, &sources));
        // Measured: printing the files (or parsing the schema) on a second thread made a
        // compile slower on the 2-core VM: waking the other core costs more than the work.
        if emit_files && !diags.has_errors() {
            files = stages.emit(root, &rendered);
        }
        kept = S::keep(rendered);
    }
    Compiled {
        files,
        diags: diags.finish(),
        sources,
        model: kept.0,
        bus: kept.1,
    }
}

/// The stages after loading, for the mode the values were loaded for.
pub fn run_mode(
    mode: Mode,
    root: Option<Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
    stated: Option<&Stated>,
) -> Compiled {
    match mode {
        Mode::EventBus => run(
            &event_bus::EventBus { stated },
            root,
            load_diags,
            sources,
            emit_files,
        ),
        Mode::PlainChart => run(
            &plain::Plain { stated },
            root,
            load_diags,
            sources,
            emit_files,
        ),
    }
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
    stated: Option<&Stated>,
    emit_files: bool,
) -> Compiled {
    let mut sources = Sources::default();
    let (root, load_diags, mode) = load::load_any(inputs, &mut sources);
    run_mode(mode, root, load_diags, sources, emit_files, stated)
}

/// The stages after loading event-bus values, for callers that load themselves (the fleet).
pub fn compile_tree(
    root: Option<Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
) -> Compiled {
    compile_tree_stated(root, load_diags, sources, emit_files, None)
}

/// [`compile_tree`] with a stated nats-server release.
pub fn compile_tree_stated(
    root: Option<Node>,
    load_diags: Vec<Diagnostic>,
    sources: Sources,
    emit_files: bool,
    stated: Option<&Stated>,
) -> Compiled {
    run_mode(
        Mode::EventBus,
        root,
        load_diags,
        sources,
        emit_files,
        stated,
    )
}

/// Every NATS release a values set deploys (plain-chart mode: one, named `nats`), with the
/// nats-server each runs; what `natscc up` and the tests start. Findings are dropped: compile
/// reports them.
pub fn deployed(
    inputs: &load::Inputs,
    flag: Option<&Stated>,
) -> Vec<(String, crate::server_version::Version)> {
    let mut sources = Sources::default();
    let (root, _, mode) = load::load_any(inputs, &mut sources);
    let Some(root) = root else { return vec![] };
    let mut out = vec![];
    match mode {
        Mode::PlainChart => vec![(
            "nats".into(),
            crate::server_version::from_values(&root, "", flag, &mut out).version,
        )],
        Mode::EventBus => {
            let mtls = crate::model::build(&root).is_some_and(|m| m.mtls);
            crate::server_version::for_bus(&root, mtls, flag, &mut out)
                .into_iter()
                .map(|(r, d)| (r.to_string(), d.version))
                .collect()
        }
    }
}
