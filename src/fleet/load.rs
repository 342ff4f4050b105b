//! Reading a fleet file: its schema, the facts it states, and each cluster's values merged
//! as Helm merges them. A values file shared by several clusters is read and parsed once, so
//! a finding in it is reported once, and every span of the whole fleet indexes one `Sources`.

use super::{ClusterSpec, FleetSpec, GatewayFacts, Listener, MtlsFacts, Protocol, TlsMode};
use crate::check::schema::Finding;
use crate::diag::{Code, Diagnostic, Source, Sources, Span, suggest};
use crate::load::{Entry, Node, V, merge, yaml};
use crate::model::Spanned;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const SCHEMA_TEXT: &str = include_str!("../../schema/fleet.schema.json");

/// The fleet schema (built into the binary from `SCHEMA_TEXT`), applied by the same
/// interpreter as the values schema.
fn schema() -> &'static crate::check::schema_data::Json {
    &crate::check::schema_data::FLEET
}

/// Keys each map of the fleet file allows, for "did you mean".
fn known_keys(pointer: &str) -> &'static [&'static str] {
    let depth: Vec<&str> = pointer.split('/').skip(1).collect();
    match depth.as_slice() {
        [] => &["clusters"],
        ["clusters", _] => &["name", "values", "set", "gateway", "mtls"],
        ["clusters", _, "gateway"] => &["name", "namespace", "listeners"],
        ["clusters", _, "gateway", "listeners", _] => {
            &["name", "port", "protocol", "tlsMode", "hostname"]
        }
        ["clusters", _, "mtls"] => &["serverCertSans", "brokerUrls"],
        _ => &[],
    }
}

/// The fleet file against schema/fleet.schema.json, each error at its line.
fn schema_check(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    let mut typo_at: Vec<String> = vec![];
    let mut required: Vec<(String, Diagnostic)> = vec![];
    for err in crate::check::schema::validate(schema(), root) {
        let pointer = err.pointer.clone();
        let (node, entry) = root.at_pointer(&pointer);
        let span = entry
            .map(|e| e.value.span)
            .or(node.map(|n| n.span))
            .unwrap_or(root.span);
        let where_ = if pointer.is_empty() {
            "the fleet file".to_string()
        } else {
            pointer.trim_start_matches('/').replace('/', ".")
        };
        match &err.finding {
            Finding::Unknown(unexpected) => {
                typo_at.push(pointer.clone());
                for key in unexpected {
                    let key_span = node
                        .and_then(|n| n.entry(key))
                        .map(|e| e.key_span)
                        .unwrap_or(span);
                    out.push(
                        Spec::UnknownKey {
                            key,
                            place: &where_,
                            known: known_keys(&pointer),
                            at: key_span,
                        }
                        .into(),
                    );
                }
            }
            Finding::Required(prop) => {
                let at = entry.map(|e| e.key_span).unwrap_or(span);
                let missing = Spec::Required {
                    key: prop,
                    place: &where_,
                    at,
                };
                required.push((pointer.clone(), missing.into()));
            }
            other => out.push(
                Spec::Schema {
                    place: &where_,
                    problem: other.describe(),
                    at: span,
                }
                .into(),
            ),
        }
    }
    // A missing key beside an unknown one is the same typo, reported once as the unknown key.
    out.extend(
        required
            .into_iter()
            .filter(|(p, _)| !typo_at.contains(p))
            .map(|(_, d)| d),
    );
    out
}

fn text(n: Option<&Node>) -> Option<Spanned<String>> {
    crate::model::text(n)
}

fn texts(n: Option<&Node>) -> Vec<Spanned<String>> {
    n.map(|n| n.items().iter().filter_map(|i| text(Some(i))).collect())
        .unwrap_or_default()
}

fn gateway(n: &Node) -> GatewayFacts {
    let listeners = n
        .get("listeners")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|l| {
            let name = text(l.get("name"))?;
            let port_node = l.get("port")?;
            let port = Spanned::new(u16::try_from(port_node.as_i64()?).ok()?, port_node.span);
            let protocol_node = l.get("protocol")?;
            let protocol = match protocol_node.as_str()? {
                "TCP" => Protocol::Tcp,
                "TLS" => Protocol::Tls,
                _ => return None,
            };
            let mode_node = l.get("tlsMode");
            let tls_mode = match mode_node.and_then(Node::as_str) {
                Some("Passthrough") => TlsMode::Passthrough,
                _ => TlsMode::Terminate,
            };
            Some(Listener {
                name,
                port,
                protocol: Spanned::new(protocol, protocol_node.span),
                tls_mode: Spanned::new(
                    tls_mode,
                    mode_node.map(|m| m.span).unwrap_or(protocol_node.span),
                ),
                span: l.span,
            })
        })
        .collect();
    GatewayFacts {
        name: text(n.get("name")),
        namespace: text(n.get("namespace")),
        listeners,
        span: n.span,
    }
}

/// Reads and checks the fleet file. `None` when it cannot be read or parsed at all.
pub fn read_spec(
    path: &Path,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<FleetSpec> {
    let name = path.display().to_string();
    let body = match crate::input::read_text(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Spec::Unreadable {
                    name: &name,
                    error: &e,
                }
                .into(),
            );
            return None;
        }
    };
    let id = sources.add(Source::new(name, body));
    let (root, d) = yaml::parse(id, sources);
    diags.extend(d);
    let root = root?;
    if !matches!(root.v, V::Map(_)) {
        diags.push(Spec::NotAMap { at: root.span }.into());
        return None;
    }
    diags.extend(schema_check(&root));
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut clusters: Vec<ClusterSpec> = vec![];
    for c in root.get("clusters").map(Node::items).unwrap_or_default() {
        let Some(name) = text(c.get("name")) else {
            continue;
        };
        // A cluster without values is the schema's finding; compiling chart defaults alone says
        // nothing.
        if texts(c.get("values")).is_empty() {
            continue;
        }
        if let Some(first) = clusters.iter().find(|f| f.name.value == name.value) {
            diags.push(
                Spec::ClusterTwice {
                    name: &name.value,
                    at: name.span,
                    first_at: first.name.span,
                }
                .into(),
            );
            continue;
        }
        let values = texts(c.get("values"))
            .into_iter()
            .map(|v| Spanned::new(dir.join(&v.value), v.span))
            .collect();
        let set = c
            .get("set")
            .map(|s| s.entries().to_vec())
            .unwrap_or_default();
        clusters.push(ClusterSpec {
            name,
            values,
            set,
            gateway: c
                .get("gateway")
                .filter(|g| matches!(g.v, V::Map(_)))
                .map(gateway),
            mtls: c
                .get("mtls")
                .filter(|m| matches!(m.v, V::Map(_)))
                .map(|m| MtlsFacts {
                    sans: texts(m.get("serverCertSans")),
                    broker_urls: texts(m.get("brokerUrls")),
                    span: m.span,
                }),
            span: c.span,
        });
    }
    let clusters_span = root
        .entry("clusters")
        .map(|e| e.key_span)
        .unwrap_or(root.span);
    Some(FleetSpec {
        path: path.to_path_buf(),
        source: id,
        clusters,
        clusters_span,
    })
}

/// Parsed values files, each read once for the whole fleet, and the built-in defaults: what
/// every cluster's values are merged from, shared read-only by the clusters' compiles.
pub struct FileCache {
    files: HashMap<PathBuf, Option<Node>>,
    defaults: crate::load::BusDefaults,
}

impl FileCache {
    /// Reads every values file the fleet names, in fleet order, each once; read and parse
    /// errors are reported here, once per file.
    pub fn read(spec: &FleetSpec, sources: &mut Sources, diags: &mut Vec<Diagnostic>) -> Self {
        let mut cache = FileCache {
            files: HashMap::new(),
            defaults: crate::load::bus_defaults(sources),
        };
        for path in spec.clusters.iter().flat_map(|c| &c.values) {
            if !cache.files.contains_key(&path.value) {
                let tree = read_file(path, sources, diags);
                cache.files.insert(path.value.clone(), tree);
            }
        }
        cache
    }
}

fn read_file(
    path: &Spanned<PathBuf>,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<Node> {
    let name = path.value.display().to_string();
    match crate::input::read_text(&path.value) {
        Ok(text) => {
            let id = sources.add(Source::new(name, text));
            let (tree, d) = yaml::parse(id, sources);
            diags.extend(d);
            tree
        }
        Err(e) => {
            diags.push(
                Spec::ValuesUnreadable {
                    name: &name,
                    error: &e,
                    at: path.span,
                }
                .into(),
            );
            None
        }
    }
}

/// Splits a `set` key into map keys: `a.b.c`, with `\.` for a dot inside a key.
fn set_path(key: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().unwrap().push(n);
                }
            }
            '.' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// Sets one value at a path, keeping the spans of the maps on the way (so findings about
/// them still point at the values files), and merging a map value as Helm merges.
fn set_at(node: &mut Node, path: &[String], value: &Node, key_span: Span) {
    if !matches!(node.v, V::Map(_)) {
        *node = Node::map(key_span);
    }
    let V::Map(entries) = &mut node.v else {
        unreachable!()
    };
    let entries = std::sync::Arc::make_mut(entries);
    let (first, rest) = path.split_first().expect("a set path has a key");
    let idx = entries.iter().position(|e| e.key == *first);
    if rest.is_empty() {
        match idx {
            Some(i) => {
                let old = std::mem::replace(&mut entries[i].value, Node::map(key_span));
                entries[i].value = merge::merge_user(old, value.clone());
            }
            None => entries.push(Entry {
                key: first.clone(),
                key_span,
                value: value.clone(),
            }),
        }
        return;
    }
    let i = match idx {
        Some(i) => i,
        None => {
            entries.push(Entry {
                key: first.clone(),
                key_span,
                value: Node::map(key_span),
            });
            entries.len() - 1
        }
    };
    set_at(&mut entries[i].value, rest, value, key_span);
}

/// One cluster's merged values (defaults, files in order, then `set`), and what went wrong
/// with its `set`; `None` when one of its files could not be read.
pub fn cluster_values(spec: &ClusterSpec, cache: &FileCache) -> (Option<Node>, Vec<Diagnostic>) {
    let mut diags = vec![];
    let mut root = Node::map(Span::default());
    let mut broken = false;
    for f in &spec.values {
        match cache.files.get(&f.value).and_then(Option::as_ref) {
            Some(tree) => root = merge::merge_user(root, tree.clone()),
            None => broken = true,
        }
    }
    for e in &spec.set {
        let path = set_path(&e.key);
        if path.iter().any(String::is_empty) {
            diags.push(
                Spec::SetKey {
                    key: &e.key,
                    at: e.key_span,
                }
                .into(),
            );
            continue;
        }
        set_at(&mut root, &path, &e.value, e.key_span);
    }
    let root = (!broken).then(|| cache.defaults.coalesce(root));
    (root, diags)
}

/// What reading the fleet file finds; `From<Spec> for Diagnostic` words it.
enum Spec<'a> {
    Unreadable {
        name: &'a str,
        error: &'a crate::input::Refused,
    },
    ValuesUnreadable {
        name: &'a str,
        error: &'a crate::input::Refused,
        at: Span,
    },
    NotAMap {
        at: Span,
    },
    /// A key the schema does not know at `place`, and the keys it knows there.
    UnknownKey {
        key: &'a str,
        place: &'a str,
        known: &'a [&'a str],
        at: Span,
    },
    Required {
        key: &'a str,
        place: &'a str,
        at: Span,
    },
    /// Any other schema finding, described by the schema's interpreter.
    Schema {
        place: &'a str,
        problem: String,
        at: Span,
    },
    ClusterTwice {
        name: &'a str,
        at: Span,
        first_at: Span,
    },
    SetKey {
        key: &'a str,
        at: Span,
    },
}

impl From<Spec<'_>> for Diagnostic {
    fn from(f: Spec<'_>) -> Diagnostic {
        match f {
            Spec::Unreadable { name, error } => Diagnostic::new(
                error.code(),
                format!("cannot read the fleet file {name}: {error}"),
            )
            .help("check the path given with --fleet"),
            Spec::ValuesUnreadable { name, error, at } => Diagnostic::new(
                error.code(),
                format!("cannot read values file {name}: {error}"),
            )
            .at(at, "named here")
            .help("paths in a fleet file are relative to the fleet file's folder"),
            Spec::NotAMap { at } => Diagnostic::new(
                Code::FleetFile,
                "a fleet file is a map with a `clusters` list",
            )
            .at(at, "not a map")
            .help("start the file with `clusters:`"),
            Spec::UnknownKey {
                key,
                place,
                known,
                at,
            } => {
                let d =
                    Diagnostic::new(Code::FleetFile, format!("`{key}` is not a key of {place}"))
                        .at(at, "unknown key");
                match suggest(key, known.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the keys of {place} are: {}", known.join(", "))),
                }
            }
            Spec::Required { key, place, at } => {
                Diagnostic::new(Code::FleetFile, format!("{place} needs the key `{key}`"))
                    .at(at, format!("`{key}` is missing"))
                    .help(format!("add `{key}:` (see schema/fleet.schema.json)"))
            }
            Spec::Schema { place, problem, at } => {
                Diagnostic::new(Code::FleetFile, format!("{place} {problem}"))
                    .at(at, "here")
                    .help("see schema/fleet.schema.json")
            }
            Spec::ClusterTwice { name, at, first_at } => Diagnostic::new(
                Code::FleetFile,
                format!("the fleet names the cluster `{name}` twice"),
            )
            .at(at, "named again here")
            .at(first_at, "first named here")
            .help("give every cluster its own name: it is also its output folder"),
            Spec::SetKey { key, at } => Diagnostic::new(
                Code::FleetFile,
                format!("the set key `{key}` is not a dotted path of map keys"),
            )
            .at(at, "empty key")
            .help("write e.g. `global.eventBus.clusterId: \"1\"`; give a list whole as the value"),
        }
    }
}
