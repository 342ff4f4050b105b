//! Stage 1: read values files and `--set` overrides, merged as Helm merges them, on top of
//! the built-in defaults of the chart they are values of (the event-bus chart's, or the NATS
//! chart's in plain-chart mode: this module owns every built-in default). Every value keeps
//! the file, line and column it came from.

pub mod merge;
pub mod set;
pub mod stored;
pub mod yaml;

use crate::diag::{Code, Diagnostic, Source, SourceId, Sources};
pub use yaml::{Entry, Node, V};

/// The event-bus chart's own values.yaml, key for key, so a values file only states what differs.
pub const CHART_DEFAULTS: &str = include_str!("defaults/nats-event-bus.yaml");
pub const DEFAULTS_NAME: &str = "<chart defaults>";

/// The official NATS chart's values.yaml (release 2.12.6), key for key: the defaults of each
/// NATS subchart of the event bus, and of plain-chart mode.
pub const NATS_CHART_DEFAULTS: &str = include_str!("defaults/nats.yaml");
pub const NATS_CHART_DEFAULTS_NAME: &str = "<NATS chart defaults>";

/// The subcharts' values.yaml, each under its alias, as Helm coalesces them beneath the
/// parent's values (the parent wins; its `null` removes a subchart default).
pub const SUBCHART_DEFAULTS: &[(&str, &str, &str)] = &[
    ("nats", "<chart defaults: nats>", NATS_CHART_DEFAULTS),
    (
        "nats-mtls",
        "<chart defaults: nats-mtls>",
        NATS_CHART_DEFAULTS,
    ),
    (
        "nack",
        "<chart defaults: nack>",
        include_str!("defaults/nack.yaml"),
    ),
    (
        "auth-callout",
        "<chart defaults: auth-callout>",
        include_str!("defaults/auth-callout.yaml"),
    ),
    (
        "surveyor",
        "<chart defaults: surveyor>",
        include_str!("defaults/surveyor.yaml"),
    ),
];

/// Whether a source is one of natscc's built-in defaults rather than the user's.
pub fn is_builtin(name: &str) -> bool {
    name.starts_with("<chart defaults") || name == NATS_CHART_DEFAULTS_NAME
}

/// The event-bus chart's defaults as Helm holds them apart: the chart's own values.yaml and
/// each subchart's values.yaml, coalesced with the user's values only at the end.
#[derive(Clone)]
pub struct BusDefaults {
    pub chart: Node,
    pub subcharts: Vec<(&'static str, Node)>,
    /// Each subchart's section where the user sets nothing under it, coalesced once: every
    /// cluster and linted file without a `nats:` shares the same tree.
    untouched: Vec<(&'static str, Option<Node>)>,
}

/// Parses the built-in defaults of the event-bus chart and its subcharts.
pub fn bus_defaults(sources: &mut Sources) -> BusDefaults {
    let chart = stored::builtin(DEFAULTS_NAME, CHART_DEFAULTS, sources);
    let subcharts = SUBCHART_DEFAULTS
        .iter()
        .map(|(alias, name, text)| (*alias, stored::builtin(name, text, sources)))
        .collect();
    BusDefaults::new(chart, subcharts)
}

impl BusDefaults {
    fn new(chart: Node, subcharts: Vec<(&'static str, Node)>) -> BusDefaults {
        let untouched = subcharts
            .iter()
            .map(|(alias, sub)| {
                let parent = chart.get(alias);
                (*alias, coalesce_subchart(None, parent, sub))
            })
            .collect();
        BusDefaults {
            chart,
            subcharts,
            untouched,
        }
    }

    /// The values the chart's templates see: the user's merged values coalesced with the
    /// chart's defaults (`global` by Helm's global rules) and each subchart section with the
    /// parent's defaults, then with the subchart's own.
    pub fn coalesce(&self, user: Node) -> Node {
        use merge::{Mode, coalesce};
        let keep = user
            .entries()
            .iter()
            .any(|e| self.subcharts.iter().any(|(a, _)| *a == e.key));
        let span = user.span;
        let V::Map(user_entries) = user.v else {
            return user;
        };
        let mut user_entries = std::sync::Arc::unwrap_or_clone(user_entries);
        let mut out = vec![];
        for de in self.chart.entries() {
            let theirs = user_entries
                .iter()
                .position(|e| e.key == de.key)
                .map(|i| user_entries.remove(i));
            let key_span = theirs.as_ref().map_or(de.key_span, |e| e.key_span);
            let user_value = theirs.map(|e| e.value);
            let value = match self.subcharts.iter().find(|(a, _)| *a == de.key) {
                Some((alias, _)) if user_value.is_none() => self
                    .untouched
                    .iter()
                    .find(|(a, _)| a == alias)
                    .and_then(|(_, n)| n.clone()),
                Some((_, sub)) => coalesce_subchart(user_value, Some(&de.value), sub),
                None if de.key == "global" => {
                    coalesce(user_value, Some(&de.value), Mode::Global { keep })
                }
                None => coalesce(user_value, Some(&de.value), Mode::Chart),
            };
            if let Some(value) = value {
                out.push(Entry {
                    key: de.key.clone(),
                    key_span,
                    value,
                });
            }
        }
        out.extend(user_entries);
        Node::new(V::Map(out.into()), span)
    }
}

/// A subchart's section: the parent's defaults under the user's, then the subchart's own.
fn coalesce_subchart(user: Option<Node>, parent: Option<&Node>, sub: &Node) -> Option<Node> {
    use merge::{Mode, coalesce};
    coalesce(coalesce(user, parent, Mode::Merge), Some(sub), Mode::Chart)
}

/// Why a values file named with -f (or matched by lint) was not read, and what to do.
pub fn read_error(name: &str, e: &crate::input::Refused) -> Diagnostic {
    use crate::input::Refused;
    let d = Diagnostic::new(
        e.code(),
        match e {
            Refused::NotUtf8 => format!(
                "values file {name} is not UTF-8 text (a binary, encrypted or differently encoded \
                 file?)"
            ),
            Refused::NotAFile("a folder") => format!("values file {name} is a folder"),
            Refused::Io(e) => format!("cannot read values file {name}: {e}"),
            other => format!("values file {name} was not read: {other}"),
        },
    );
    d.help(match e {
        Refused::NotUtf8 => {
            "values files are UTF-8 YAML, as Helm reads them: name the values file here, or save \
             it as UTF-8"
        }
        Refused::NotAFile("a folder") => "name a values file here (`natscc lint` takes folders)",
        Refused::NotAFile(_) => {
            "name a regular values file (natscc reads no input that may never end); write \
             generated values to a file first"
        }
        Refused::TooLarge => {
            "a values file is a few KB: name the values file itself, not a generated or binary one"
        }
        Refused::Io(_) => "check the path given with -f",
    })
}

/// What to load: files in order (later wins), then `--set` and `--set-string` overrides.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: Vec<std::path::PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
}

/// One file already in memory (used by lint and the post-renderer, which read files themselves).
pub fn add_file(sources: &mut Sources, name: &str, text: String) -> SourceId {
    sources.add(Source::new(name, text))
}

/// Which chart a values set is for, decided once from what the user wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The event-bus chart (values that name `global.eventBus`).
    EventBus,
    /// The official NATS chart's own values (`config.*`, `merge`, `patch`).
    PlainChart,
}

impl Mode {
    /// The mode of the user's merged values: event-bus values when a file or a `--set` key
    /// named `global.eventBus` (`named`; so a `--set global=[1]` or a `null` over event-bus
    /// values is an error of the event bus, not a quiet switch to the other mode), when the
    /// merged values do, or when nothing usable was read.
    pub fn of(user: Option<&Node>, named: bool) -> Mode {
        match user {
            Some(u) if !named && !names_event_bus(u) => Mode::PlainChart,
            _ => Mode::EventBus,
        }
    }
}

/// The user's files and `--set`s merged among themselves (nulls kept for the coalescing), the
/// findings of reading them, and the chart they are for.
pub struct Loaded {
    pub user: Option<Node>,
    pub diags: Vec<Diagnostic>,
    pub mode: Mode,
}

/// Every built-in default as a source, added before the user's files whichever chart the
/// values turn out to be for (findings sort by source, so the defaults' come first); a tree
/// is read only for the mode that coalesces with it.
pub struct DefaultSources {
    bus_chart: SourceId,
    subcharts: Vec<(&'static str, SourceId, &'static str)>,
    nats_chart: SourceId,
}

/// Adds every built-in default's text to `sources`.
pub fn default_sources(sources: &mut Sources) -> DefaultSources {
    let bus_chart = sources.add(Source::new(DEFAULTS_NAME, CHART_DEFAULTS));
    let subcharts = SUBCHART_DEFAULTS
        .iter()
        .map(|(alias, name, text)| (*alias, sources.add(Source::new(*name, *text)), *text))
        .collect();
    let nats_chart = sources.add(Source::new(NATS_CHART_DEFAULTS_NAME, NATS_CHART_DEFAULTS));
    DefaultSources {
        bus_chart,
        subcharts,
        nats_chart,
    }
}

impl DefaultSources {
    /// The event-bus chart's defaults and its subcharts'.
    pub fn bus(&self, sources: &Sources) -> BusDefaults {
        BusDefaults::new(
            stored::tree(self.bus_chart, CHART_DEFAULTS, sources),
            self.subcharts
                .iter()
                .map(|(alias, id, text)| (*alias, stored::tree(*id, text, sources)))
                .collect(),
        )
    }

    /// The NATS chart's defaults, for plain-chart mode.
    pub fn nats_chart(&self, sources: &Sources) -> Node {
        stored::tree(self.nats_chart, NATS_CHART_DEFAULTS, sources)
    }

    /// The user's values coalesced with the defaults of the chart `mode` names: the values the
    /// chart's templates see.
    pub fn coalesce(&self, mode: Mode, user: Option<Node>, sources: &Sources) -> Option<Node> {
        let user = user?;
        match mode {
            Mode::EventBus => Some(self.bus(sources).coalesce(user)),
            Mode::PlainChart => coalesce_plain(user, &self.nats_chart(sources)),
        }
    }
}

/// Plain NATS chart values coalesced with that chart's defaults, as Helm coalesces a chart's
/// own values.
pub fn coalesce_plain(user: Node, defaults: &Node) -> Option<Node> {
    merge::coalesce(Some(user), Some(defaults), merge::Mode::Chart)
}

/// Loads and merges one values set for the chart its values name: the merged tree (defaults
/// included; `None` only when nothing usable could be read), every finding and the mode.
pub fn load_any(inputs: &Inputs, sources: &mut Sources) -> (Option<Node>, Vec<Diagnostic>, Mode) {
    let defaults = default_sources(sources);
    let loaded = load_user(inputs, sources);
    let root = defaults.coalesce(loaded.mode, loaded.user, sources);
    (root, loaded.diags, loaded.mode)
}

/// Loads and merges event-bus values; returns the merged tree (defaults included) and every
/// finding. The tree is `None` only when nothing usable could be read.
pub fn load(inputs: &Inputs, sources: &mut Sources) -> (Option<Node>, Vec<Diagnostic>) {
    let defaults = bus_defaults(sources);
    let loaded = load_user(inputs, sources);
    (loaded.user.map(|u| defaults.coalesce(u)), loaded.diags)
}

/// Loads and merges plain NATS chart values over that chart's defaults.
pub fn load_plain(inputs: &Inputs, sources: &mut Sources) -> (Option<Node>, Vec<Diagnostic>) {
    let defaults = stored::builtin(NATS_CHART_DEFAULTS_NAME, NATS_CHART_DEFAULTS, sources);
    let loaded = load_user(inputs, sources);
    (
        loaded.user.and_then(|u| coalesce_plain(u, &defaults)),
        loaded.diags,
    )
}

/// Whether one values file names `global.eventBus`, whatever later values or `--set`s do to it.
pub fn names_event_bus(tree: &Node) -> bool {
    tree.path(&["global", "eventBus"]).is_some()
}

/// The user's files and `--set`s merged among themselves, nulls kept for the coalescing, and
/// their mode ([`Mode::of`]).
pub fn load_user(inputs: &Inputs, sources: &mut Sources) -> Loaded {
    let mut root = Node::map(Default::default());
    let mut diags = vec![];
    let mut broken = false;
    let mut event_bus = inputs
        .set
        .iter()
        .chain(&inputs.set_string)
        .any(|s| s.trim_start().starts_with("global.eventBus"));
    for path in &inputs.files {
        let name = path.display().to_string();
        match crate::input::read_text(path) {
            Ok(text) => {
                let id = sources.add(Source::new(name, text));
                let (tree, d) = yaml::parse(id, sources);
                diags.extend(d);
                match tree {
                    Some(t) => {
                        event_bus |= names_event_bus(&t);
                        root = merge::merge_user(root, t);
                    }
                    None => broken = true,
                }
            }
            Err(e) => {
                broken = true;
                diags.push(read_error(&name, &e));
            }
        }
    }
    for (args, string_only, label) in [
        (&inputs.set, false, "--set"),
        (&inputs.set_string, true, "--set-string"),
    ] {
        if args.is_empty() {
            continue;
        }
        // The command line is bounded by the system; the limit is stated all the same.
        if args.iter().map(|a| a.len() as u64 + 1).sum::<u64>() > crate::input::MAX_BYTES {
            broken = true;
            diags.push(
                Diagnostic::new(
                    Code::InputTooLarge,
                    format!(
                        "the {label} values are larger than {}, the most natscc reads",
                        crate::input::MAX_TEXT
                    ),
                )
                .help("put large values in a values file and name it with -f"),
            );
            continue;
        }
        let id = sources.add(Source::new(label, args.join("\n")));
        diags.extend(set::apply(&mut root, id, sources, string_only));
    }
    let user = (!broken).then_some(root);
    let mode = Mode::of(user.as_ref(), event_bus);
    Loaded { user, diags, mode }
}
