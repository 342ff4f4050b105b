//! Stage 1: read values files and `--set` overrides, merged as Helm merges them, on top of
//! the event-bus chart's defaults. Every value keeps the file, line and column it came from.

pub mod merge;
pub mod set;
pub mod yaml;

use crate::diag::{Code, Diagnostic, Source, Sources};
pub use yaml::{Entry, Node, V};

/// The event-bus chart's own values.yaml, key for key, so a values file only states what differs.
pub const CHART_DEFAULTS: &str = include_str!("defaults/nats-event-bus.yaml");
pub const DEFAULTS_NAME: &str = "<chart defaults>";

/// The subcharts' values.yaml, each under its alias, as Helm coalesces them beneath the
/// parent's values (the parent wins; its `null` removes a subchart default).
pub const SUBCHART_DEFAULTS: &[(&str, &str, &str)] = &[
    ("nats", "<chart defaults: nats>", include_str!("defaults/nats.yaml")),
    ("nats-mtls", "<chart defaults: nats-mtls>", include_str!("defaults/nats.yaml")),
    ("nack", "<chart defaults: nack>", include_str!("defaults/nack.yaml")),
    ("auth-callout", "<chart defaults: auth-callout>", include_str!("defaults/auth-callout.yaml")),
    ("surveyor", "<chart defaults: surveyor>", include_str!("defaults/surveyor.yaml")),
];

/// Whether a source is one of natscc's built-in defaults rather than the user's.
pub fn is_builtin(name: &str) -> bool {
    name.starts_with("<chart defaults") || name == crate::chart::DEFAULTS_NAME
}

/// The event-bus chart's values as Helm sees them before the user's: its values.yaml with
/// every subchart's values.yaml beneath its alias.
pub fn bus_defaults(sources: &mut Sources) -> Node {
    let id = sources.add(Source::new(DEFAULTS_NAME, CHART_DEFAULTS));
    let mut root = yaml::parse(id, sources).0.expect("built-in defaults parse");
    for (alias, name, text) in SUBCHART_DEFAULTS {
        let id = sources.add(Source::new(*name, *text));
        let sub = yaml::parse(id, sources).0.expect("built-in subchart defaults parse");
        let V::Map(entries) = &mut root.v else { unreachable!("the defaults are a map") };
        match entries.iter().position(|e| e.key == *alias) {
            Some(i) => {
                let parent = std::mem::replace(&mut entries[i].value, Node::map(sub.span));
                entries[i].value = merge::merge(sub, parent);
            }
            None => entries.push(Entry { key: alias.to_string(), key_span: sub.span, value: sub }),
        }
    }
    root
}

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
    let root = bus_defaults(sources);
    load_onto(inputs, sources, root)
}

/// Like [`load`], on top of other built-in defaults (the plain NATS chart's, for one).
pub fn load_over(inputs: &Inputs, sources: &mut Sources, defaults_name: &str, defaults_text: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let defaults_id = sources.add(Source::new(defaults_name, defaults_text));
    let (defaults, d) = yaml::parse(defaults_id, sources);
    assert!(d.is_empty(), "built-in defaults must parse");
    load_onto(inputs, sources, defaults.expect("built-in defaults parse"))
}

/// The user's files and `--set`s merged over a tree of defaults.
pub fn load_onto(inputs: &Inputs, sources: &mut Sources, mut root: Node) -> (Option<Node>, Vec<Diagnostic>) {
    let mut diags = vec![];
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
