//! `natscc::bus::templates` against the real chart: for every case in fixtures/chart-ref, the data
//! of
//! each chart-owned ConfigMap must equal, byte for byte, the same ConfigMap in the chart's own
//! render.
//!
//! The values tree is built as Helm builds it, from copies of the chart's values.yaml and the
//! auth-callout subchart's values.yaml in tests/data/chart-values/ (see `helm_values`).

use natscc::bus::templates::{BusConfigMap, config_maps};
use natscc::diag::{Source, Sources};
use natscc::load::yaml::{Entry, Node, V, parse, parse_stream};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CHART_VALUES: &str = include_str!("data/chart-values/nats-event-bus.values.yaml");
const AUTH_CALLOUT_VALUES: &str = include_str!("data/chart-values/auth-callout.values.yaml");
const SUBCHARTS: [&str; 5] = ["nats", "nats-mtls", "nack", "auth-callout", "surveyor"];

fn parse_text(name: &str, text: &str) -> Node {
    let mut sources = Sources::default();
    let id = sources.add(Source::new(name, text.to_string()));
    let (tree, diags) = parse(id, &sources);
    assert!(diags.is_empty(), "{name}: {diags:?}");
    tree.unwrap_or_else(|| Node::map(Default::default()))
}

/// Helm's merge of several `-f` files: maps key by key, anything else (null too) replaced.
fn merge_user(base: Node, over: Node) -> Node {
    match (base.v, over.v) {
        (V::Map(bes), V::Map(oes)) => {
            let mut bes = std::sync::Arc::unwrap_or_clone(bes);
            for oe in std::sync::Arc::unwrap_or_clone(oes) {
                match bes.iter().position(|b| b.key == oe.key) {
                    Some(i) => {
                        let be = bes.remove(i);
                        bes.insert(
                            i,
                            Entry {
                                value: merge_user(be.value, oe.value),
                                ..oe
                            },
                        );
                    }
                    None => bes.push(oe),
                }
            }
            Node::new(V::Map(bes.into()), over.span)
        }
        (_, v) => Node::new(v, over.span),
    }
}

fn drop_nulls(n: Node) -> Node {
    match n.v {
        V::Map(es) => Node::new(
            V::Map(
                std::sync::Arc::unwrap_or_clone(es)
                    .into_iter()
                    .filter(|e| !e.value.is_null())
                    .map(|e| Entry {
                        value: drop_nulls(e.value),
                        ..e
                    })
                    .collect::<Vec<_>>()
                    .into(),
            ),
            n.span,
        ),
        v => Node::new(v, n.span),
    }
}

/// How user values meet defaults, as measured with render.py (Helm 4.2.3 through the SDK):
#[derive(Clone, Copy)]
enum Mode {
    /// The parent chart's `global`: a user null over a non-null default leaves the default; a user
    /// null over a null default stays null; a default null the user never mentions reaches the
    /// templates only when the user's values name a subchart (`keep`).
    Global { keep: bool },
    /// A subchart's section at the parent's level (Helm merges, nulls kept).
    Merge,
    /// A subchart's own defaults under its section: a user null removes a defaulted key.
    Subchart,
}

fn defaults_copy(n: &Node, mode: Mode) -> Node {
    match mode {
        Mode::Global { keep: false } => drop_nulls(n.clone()),
        _ => n.clone(),
    }
}

/// `default` under `user`; `None` when the key goes away.
fn coalesce(user: Option<Node>, default: Option<&Node>, mode: Mode) -> Option<Node> {
    let Some(user) = user else {
        return match (default, mode) {
            (Some(d), Mode::Global { keep: false }) if d.is_null() => None,
            (Some(d), _) => Some(defaults_copy(d, mode)),
            (None, _) => None,
        };
    };
    let Some(default) = default else {
        return Some(user);
    };
    match (user.v, &default.v, mode) {
        (V::Null, V::Null, _) => Some(Node::new(V::Null, user.span)),
        (V::Null, _, Mode::Global { .. }) => Some(defaults_copy(default, mode)),
        (V::Null, _, Mode::Subchart) => None,
        (V::Null, _, Mode::Merge) => Some(Node::new(V::Null, user.span)),
        (V::Map(ues), V::Map(des), _) => {
            let mut out: Vec<Entry> = vec![];
            let mentioned: Vec<String> = ues.iter().map(|e| e.key.clone()).collect();
            for ue in std::sync::Arc::unwrap_or_clone(ues) {
                let d = des.iter().find(|d| d.key == ue.key).map(|d| &d.value);
                if let Some(value) = coalesce(Some(ue.value), d, mode) {
                    out.push(Entry { value, ..ue });
                }
            }
            for de in des.iter() {
                if !mentioned.contains(&de.key)
                    && let Some(value) = coalesce(None, Some(&de.value), mode)
                {
                    out.push(Entry {
                        value,
                        ..de.clone()
                    });
                }
            }
            Some(Node::new(V::Map(out.into()), user.span))
        }
        (v, _, _) => Some(Node::new(v, user.span)),
    }
}

/// The values root the chart's templates see: user files merged in order over the chart's
/// values.yaml, and `auth-callout` laid over the subchart's own values.yaml. Only `global` and
/// `auth-callout` matter to these templates.
fn helm_values(files: &[PathBuf]) -> Node {
    let mut user = Node::map(Default::default());
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        user = merge_user(user, parse_text(&f.display().to_string(), &text));
    }
    let keep = user
        .entries()
        .iter()
        .any(|e| SUBCHARTS.contains(&e.key.as_str()));
    let chart = parse_text("values.yaml", CHART_VALUES);
    let sub = parse_text("auth-callout/values.yaml", AUTH_CALLOUT_VALUES);
    let global = coalesce(
        user.get("global").cloned(),
        chart.get("global"),
        Mode::Global { keep },
    );
    let ac = coalesce(
        user.get("auth-callout").cloned(),
        chart.get("auth-callout"),
        Mode::Merge,
    );
    let ac = coalesce(ac, Some(&sub), Mode::Subchart);
    let mut es = vec![];
    for (k, v) in [("global", global), ("auth-callout", ac)] {
        if let Some(value) = v {
            es.push(Entry {
                key: k.into(),
                key_span: Default::default(),
                value,
            });
        }
    }
    Node::new(V::Map(es.into()), Default::default())
}

/// The raw `data:` block of each ConfigMap in the stream, as the chart's template wrote it
/// (up to the document's end, trailing blank lines left out).
fn rendered_data_texts(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    for doc in text.split("\n---\n") {
        if !doc.lines().any(|l| l == "kind: ConfigMap") {
            continue;
        }
        let Some(name) = doc
            .lines()
            .skip_while(|l| *l != "metadata:")
            .find_map(|l| l.strip_prefix("  name: "))
        else {
            continue;
        };
        if let Some(i) = doc.find("\ndata:\n") {
            out.insert(name.to_string(), doc[i + 1..].trim_end().to_string());
        }
    }
    out
}

/// Every ConfigMap of the render by name: its data.
fn rendered_config_maps(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sources = Sources::default();
    let id = sources.add(Source::new(path.display().to_string(), text));
    let (docs, diags) = parse_stream(id, &sources);
    let docs = docs.unwrap_or_else(|| panic!("{}: {diags:?}", path.display()));
    let mut out = BTreeMap::new();
    for d in docs {
        if d.get("kind").and_then(Node::as_str) != Some("ConfigMap") {
            continue;
        }
        let name = d
            .path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let mut data = BTreeMap::new();
        if let Some(m) = d.get("data") {
            for e in m.entries() {
                let v = match &e.value.v {
                    V::Str(s) => s.clone(),
                    V::Null => String::new(),
                    _ => e.value.scalar_text().unwrap_or_default(),
                };
                data.insert(e.key.clone(), v);
            }
        }
        out.insert(name, data);
    }
    out
}

/// The chart-owned ConfigMaps this module renders (whether or not a case renders each).
const OURS: [&str; 6] = [
    "nats-accounts-config",
    "nats-leafnodes-config",
    "nats-mtls-accounts-config",
    "nats-env-config",
    "auth-callout-permissions",
    "nats-event-bus-auth-callout-config",
];

fn show_diff(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    for i in 0..al.len().max(bl.len()) {
        if al.get(i) != bl.get(i) {
            return format!(
                "first difference at line {}: ours {:?}, chart {:?}",
                i + 1,
                al.get(i),
                bl.get(i)
            );
        }
    }
    "no line differs".into()
}

fn check_case(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && p.file_name().is_some_and(|n| n != "rendered.yaml")
        })
        .collect();
    files.sort();
    let values = helm_values(&files);
    let ours: BTreeMap<String, BusConfigMap> = config_maps(&values)
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let theirs = rendered_config_maps(&dir.join("rendered.yaml"));
    let their_texts = rendered_data_texts(&dir.join("rendered.yaml"));
    let case = dir.file_name().unwrap().to_string_lossy();
    let mut failures = vec![];
    let compared = OURS
        .iter()
        .filter(|n| ours.contains_key(**n) && theirs.contains_key(**n))
        .count();
    if compared < 5 {
        failures.push(format!(
            "{case}: only {compared} ConfigMaps found on both sides"
        ));
    }
    for name in OURS {
        match (ours.get(name), theirs.get(name)) {
            (None, None) => {}
            (Some(_), None) => {
                failures.push(format!("{case}: {name} rendered here, not by the chart"))
            }
            (None, Some(_)) => {
                failures.push(format!("{case}: {name} rendered by the chart, not here"))
            }
            (Some(o), Some(t)) => {
                if o.data.keys().ne(t.keys()) {
                    failures.push(format!(
                        "{case}: {name}: keys {:?} vs chart {:?}",
                        o.data.keys().collect::<Vec<_>>(),
                        t.keys().collect::<Vec<_>>()
                    ));
                }
                match their_texts.get(name) {
                    Some(tt) if o.data_text.trim_end() == tt => {}
                    Some(tt) => failures.push(format!(
                        "{case}: {name}: the data block's text differs: {}",
                        show_diff(o.data_text.trim_end(), tt)
                    )),
                    None => {
                        failures.push(format!("{case}: {name}: no data block found in the render"))
                    }
                }
                for (k, v) in &o.data {
                    if let Some(tv) = t.get(k)
                        && v != tv
                    {
                        failures.push(format!(
                            "{case}: {name}/{k} differs: {}\n--- ours\n{v}\n--- chart\n{tv}",
                            show_diff(v, tv)
                        ));
                    }
                }
            }
        }
    }
    failures
}

#[test]
fn chart_owned_config_maps_match_the_chart_byte_for_byte() {
    // BUS_TEMPLATES_CASES=DIR runs the same comparison over other case folders (values files +
    // rendered.yaml).
    let extra = std::env::var_os("BUS_TEMPLATES_CASES");
    let root = extra
        .clone()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart-ref"));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("rendered.yaml").is_file())
        .collect();
    cases.sort();
    assert!(
        extra.is_some() || cases.len() >= 22,
        "expected the 12 reference cases and at least 10 more, found {}",
        cases.len()
    );
    let failures: Vec<String> = cases.iter().flat_map(|c| check_case(c)).collect();
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The same comparison on the tree natscc's own loader builds (`load::load`: the user's files
/// coalesced with the built-in defaults as Helm coalesces them): the templates must see what
/// they see under Helm.
#[test]
fn natscc_loader_gives_the_templates_helms_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart-ref");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("rendered.yaml").is_file())
        .collect();
    cases.sort();
    let mut report = vec![];
    for dir in &cases {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "yaml")
                    && p.file_name().is_some_and(|n| n != "rendered.yaml")
            })
            .collect();
        files.sort();
        let inputs = natscc::load::Inputs {
            files,
            ..Default::default()
        };
        let mut sources = Sources::default();
        let (tree, diags) = natscc::load::load(&inputs, &mut sources);
        let tree = tree.unwrap_or_else(|| panic!("{}: {diags:?}", dir.display()));
        let theirs = rendered_config_maps(&dir.join("rendered.yaml"));
        for c in config_maps(&tree) {
            if theirs.get(&c.name) != Some(&c.data) {
                report.push(format!(
                    "{}: {}",
                    dir.file_name().unwrap().to_string_lossy(),
                    c.name
                ));
            }
        }
    }
    assert!(
        report.is_empty(),
        "{} ConfigMap(s) differ with natscc's loader:\n{}",
        report.len(),
        report.join("\n")
    );
}
