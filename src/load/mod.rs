//! Stage 1: read values files and `--set` overrides, merged as Helm merges them, on top of
//! the event-bus chart's defaults. Every value keeps the file, line and column it came from.

pub mod merge;
pub mod set;
pub mod yaml;

use crate::diag::{Code, Diagnostic, Source, Sources};
pub use yaml::{Entry, Node, V};

/// The chart defaults, so a values file only states what differs.
pub const CHART_DEFAULTS: &str = include_str!("defaults.yaml");
pub const DEFAULTS_NAME: &str = "<chart defaults>";

/// What to load: files in order (later wins), then `--set` and `--set-string` overrides.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: Vec<std::path::PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
}

/// One file already in memory (used by lint and the post-renderer, which read files themselves).
pub fn add_file(sources: &mut Sources, name: &str, text: String) -> crate::diag::SourceId {
    sources.add(Source::new(name, text))
}

/// Loads and merges; returns the merged tree (defaults included) and every finding.
/// The tree is `None` only when nothing usable could be read.
pub fn load(inputs: &Inputs, sources: &mut Sources) -> (Option<Node>, Vec<Diagnostic>) {
    load_over(inputs, sources, DEFAULTS_NAME, CHART_DEFAULTS)
}

/// Like [`load`], on top of other built-in defaults (the plain NATS chart's, for one).
pub fn load_over(inputs: &Inputs, sources: &mut Sources, defaults_name: &str, defaults_text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let mut diags = vec![];
    let defaults_id = sources.add(Source::new(defaults_name, defaults_text));
    let (defaults, d) = yaml::parse(defaults_id, sources);
    assert!(d.is_empty(), "built-in defaults must parse");
    let mut root = defaults.expect("built-in defaults parse");
    let mut broken = false;
    for path in &inputs.files {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let id = sources.add(Source::new(name, text));
                let (tree, d) = yaml::parse(id, sources);
                diags.extend(d);
                match tree {
                    Some(t) => root = merge::merge(root, t),
                    None => broken = true,
                }
            }
            Err(e) => {
                broken = true;
                let d = if e.kind() == std::io::ErrorKind::InvalidData {
                    Diagnostic::new(Code::Io, format!("values file {name} is not UTF-8 text (a binary, encrypted or differently encoded file?)"))
                        .help("values files are UTF-8 YAML, as Helm reads them: name the values file here, or save it as UTF-8")
                } else if path.is_dir() {
                    Diagnostic::new(Code::Io, format!("values file {name} is a folder")).help("name a values file here (`natscc lint` takes folders)")
                } else {
                    Diagnostic::new(Code::Io, format!("cannot read values file {name}: {e}")).help("check the path given with -f")
                };
                diags.push(d);
            }
        }
    }
    for (args, string_only, label) in [(&inputs.set, false, "--set"), (&inputs.set_string, true, "--set-string")] {
        if args.is_empty() {
            continue;
        }
        let id = sources.add(Source::new(label, args.join("\n")));
        diags.extend(set::apply(&mut root, id, sources, string_only));
    }
    (if broken { None } else { Some(root) }, diags)
}
