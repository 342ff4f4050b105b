//! Includes and the ConfigMap's extra files, as the NATS chart renders them and the pod reads
//! them.
//!
//! - `nats.formatConfig` turns every JSON line `"<anything>$include": "<path>"` into
//!   `include <path>;`, so a prefix (`00$include`, `zzz$include`) orders several includes at
//!   any level of the config. `chart::view::server_view` is the rendered tree as nats-server
//!   then reads it.
//! - `configMap.merge` and `configMap.patch` lay over the chart's ConfigMap document; its `data`
//!   keys are files in the pod's `/etc/nats-config`, beside `nats.conf` ([`config_map_data`]).
//! - [`resolve`] reads the included files back from that data as the server reads them
//!   (`natsconf`, nested includes too), inlines them where they are included, and judges what
//!   they hold with the same rules as the values (options, accounts, passwords).

use crate::chart::spans::Spans;
use crate::chart::view::{is_include_key, printed_path};
use crate::conf::{Conf, ConfMap, Item};
use crate::diag::block::{BlockLines, span_in};
use crate::diag::{Code, Diagnostic, Sources, Span};
use crate::load::{Entry as YEntry, Node, V};
use crate::natsconf::{self, Block, Entry, Found, Pos, Reader, Val};
use std::collections::BTreeMap;

/// Where the pod mounts the chart's ConfigMap (`files/stateful-set/nats-container.yaml`).
pub const MOUNT: &str = "/etc/nats-config";

/// Names natscc's plain-chart output folder uses for its own files.
const OWN_FILES: &[&str] = &[
    "manifests.yaml",
    "env.yaml",
    "secrets.yaml",
    ".natscc-manifest",
];

/// Every `$include` key whose value the chart does not print as a usable include: a number,
/// a map or a list stays a key the server does not know; an empty string or a `<< >>` value
/// becomes an include of a file that cannot exist.
pub fn check_values(chart: &ConfMap, spans: &Spans, fallback: Span) -> Vec<Diagnostic> {
    let mut out = vec![];
    let mut path = vec![];
    walk_values(chart, &mut path, spans, fallback, &mut out);
    out
}

fn walk_values(
    m: &ConfMap,
    path: &mut Vec<String>,
    spans: &Spans,
    fallback: Span,
    out: &mut Vec<Diagnostic>,
) {
    for item in &m.items {
        let Item::Kv(k, v) = item else { continue };
        path.push(k.clone());
        let at = || spans.at(path).unwrap_or(fallback);
        let problem = match v {
            _ if !is_include_key(k) => None,
            Conf::Str(p) if p.is_empty() => Some(
                "an empty path: the chart writes `include ;` and nats-server stops (\"error \
                    parsing include file ''\")"
                    .to_string(),
            ),
            Conf::Str(_) => None,
            Conf::Bare(b) => Some(format!(
                "a `<< {b} >>` value: the chart unwraps `<< >>` only outside include lines, so \
                    it writes `include << {b} >>;`, a file nats-server cannot find"
            )),
            Conf::Var(n) => Some(format!(
                "a `<< ${n} >>` value: the chart writes `include << ${n} >>;`, a file \
                    nats-server cannot find (an include takes no variable)"
            )),
            _ => Some(format!(
                "no string: the chart prints it as the key `\"{k}\"` and nats-server refuses it \
                    (\"unknown field\")"
            )),
        };
        if let Some(p) = problem {
            out.push(
                Diagnostic::new(Code::IncludeValue, format!("the include `{k}` has {p}"))
                    .at(at(), "include")
                    .help(
                        "give the name of a file of the ConfigMap (`configMap.merge.data`), \
                         relative to /etc/nats-config, e.g. `00$include: auth.conf`",
                    ),
            );
        }
        match v {
            Conf::Map(inner) => walk_values(inner, path, spans, fallback, out),
            Conf::List(items) => {
                for (i, it) in items.iter().enumerate() {
                    if let Conf::Map(inner) = it {
                        path.push(i.to_string());
                        walk_values(inner, path, spans, fallback, out);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// One file of the ConfigMap besides `nats.conf`: its text and the values node it came from.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub text: String,
    pub node: Node,
}

/// The ConfigMap's data keys other than `nats.conf`, by key, after `configMap.merge` and
/// `configMap.patch` (`nats.loadMergePatch` over `files/config-map.yaml`).
pub fn config_map_data(root: &Node) -> (BTreeMap<String, DataFile>, Vec<Diagnostic>) {
    let mut files: BTreeMap<String, Node> = BTreeMap::new();
    let mut out = vec![];
    let cm = root.get("configMap").filter(|n| !n.is_null());
    if let Some(data) = cm.and_then(|c| c.get("merge")).and_then(|m| m.get("data")) {
        match &data.v {
            V::Map(es) => {
                for e in es.iter() {
                    files.insert(e.key.clone(), e.value.clone());
                }
            }
            V::Null => {}
            _ => out.push(
                Diagnostic::new(
                    Code::ConfigMapData,
                    "`configMap.merge.data` is no map: it replaces the ConfigMap's data, \
                        nats.conf included, and Kubernetes refuses it",
                )
                .at(data.span, "not a map")
                .help("give `data` a map of file names to texts"),
            ),
        }
    }
    for op in cm
        .and_then(|c| c.get("patch"))
        .map(Node::items)
        .unwrap_or_default()
    {
        patch_op(op, &mut files, &mut out);
    }
    let mut kept = BTreeMap::new();
    for (key, node) in files {
        if let Some(d) = data_problem(&key, &node) {
            out.push(d);
            continue;
        }
        let text = node.as_str().unwrap_or_default().to_string();
        kept.insert(key, DataFile { text, node });
    }
    (kept, out)
}

/// A JSON Patch operation of `configMap.patch` on the ConfigMap's `data`; operations on other
/// parts of the document (metadata) change nothing natscc writes.
fn patch_op(op: &Node, files: &mut BTreeMap<String, Node>, out: &mut Vec<Diagnostic>) {
    let Some(path) = op.get("path").and_then(Node::as_str) else {
        return;
    };
    let Some(rest) = path.strip_prefix("/data/") else {
        if path == "/data" {
            out.push(
                Diagnostic::new(
                    Code::ConfigMapData,
                    "`configMap.patch` replaces the ConfigMap's \
                     whole `data`, the chart's nats.conf with it",
                )
                .at(op.span, "whole data")
                .help(
                    "patch single files (`path: /data/auth.conf`), or add them with \
                        `configMap.merge.data`",
                ),
            );
        }
        return;
    };
    let key = rest.replace("~1", "/").replace("~0", "~");
    let kind = op.get("op").and_then(Node::as_str).unwrap_or_default();
    match (kind, op.get("value")) {
        ("add", Some(v)) => {
            files.insert(key, v.clone());
        }
        ("replace", Some(v)) if files.contains_key(&key) || key == "nats.conf" => {
            files.insert(key, v.clone());
        }
        ("remove", _) => {
            files.remove(&key);
        }
        _ => out.push(
            Diagnostic::new(
                Code::ConfigMapData,
                format!(
                    "natscc does not follow \
                     `configMap.patch` `{kind}` on `{path}`"
                ),
            )
            .at(op.span, "patch of the ConfigMap's data")
            .help(
                "add, replace or remove files with `add`, `replace` and `remove`, or write \
                    them in `configMap.merge.data`",
            ),
        ),
    }
}

/// What is wrong with one data entry, if anything: Kubernetes' rules for ConfigMap keys and
/// values, and the names natscc's output keeps for itself.
fn data_problem(key: &str, node: &Node) -> Option<Diagnostic> {
    let valid = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let (message, help) = if key == "nats.conf" {
        (
            "the ConfigMap's `nats.conf` is replaced: the pod would not run the config the chart \
                renders from `config`, the one natscc checks"
                .to_string(),
            "write the settings under `config` (`config.merge`, or a file of your own that \
                `config.merge` includes: `00$include: extra.conf`)"
                .to_string(),
        )
    } else if !valid {
        (
            format!(
                "`{key}` is no valid ConfigMap key; Kubernetes refuses the ConfigMap (keys \
                 are letters, digits, `-`, `_` and `.`)"
            ),
            "name the file with letters, digits, `-`, `_` and `.`: the pod sees it as \
                /etc/nats-config/<key>"
                .to_string(),
        )
    } else if OWN_FILES.contains(&key) {
        (
            format!(
                "`{key}` is a name natscc's output folder keeps for its own listing, so the file \
                    cannot be written beside nats.conf"
            ),
            "give the file another name (and change the include that names it)".to_string(),
        )
    } else if node.as_str().is_none() {
        (
            format!(
                "the ConfigMap file `{key}` is no string; Kubernetes refuses a ConfigMap whose \
                    data is not text"
            ),
            "write the file's text, e.g. with a literal block (`auth.conf: |`)".to_string(),
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::new(Code::ConfigMapData, message)
            .at(node.span, "ConfigMap data")
            .help(help),
    )
}

/// The ConfigMap's files as the pod sees them, for the config reader.
struct DataReader<'a> {
    files: &'a BTreeMap<String, DataFile>,
}

impl Reader for DataReader<'_> {
    fn read(&self, path: &str) -> Result<Found, String> {
        let key = path
            .strip_prefix(MOUNT)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|k| !k.contains('/'));
        match key.and_then(|k| self.files.get(k)) {
            Some(f) => Ok(Found::Text(path.to_string(), f.text.clone())),
            None if key.is_some() || path.starts_with(&format!("{MOUNT}/")) => Err(format!(
                "the ConfigMap mounted at {MOUNT} has no file `{}`",
                path.strip_prefix(&format!("{MOUNT}/")).unwrap_or(path)
            )),
            // Outside the ConfigMap's folder: another volume of the pod, which natscc does not see.
            None => Ok(Found::Opaque),
        }
    }
}

/// The server's config with every include it can read inlined, the spans of what the
/// included files put there, and what the files hold judged.
pub struct Resolved {
    pub conf: ConfMap,
    pub spans: Spans,
    pub diags: Vec<Diagnostic>,
}

struct Ctx<'a> {
    files: &'a BTreeMap<String, DataFile>,
    sources: &'a Sources,
    spans: Spans,
    diags: Vec<Diagnostic>,
    /// The values trees of the included files, each at the path of its include.
    included: Vec<(Vec<String>, String, Node)>,
}

impl Ctx<'_> {
    /// The data file behind a file of a parse, and how its lines sit in the values.
    fn file_of(
        &self,
        parsed: &[natsconf::File],
        pos: Pos,
    ) -> Option<(&DataFile, Option<BlockLines>)> {
        let path = &parsed.get(pos.file as usize)?.path;
        let key = path.strip_prefix(MOUNT)?.strip_prefix('/')?;
        let f = self.files.get(key)?;
        Some((f, BlockLines::find(&f.text, f.node.span, self.sources)))
    }

    fn span_of(&self, parsed: &[natsconf::File], pos: Pos, fallback: Span) -> Span {
        match self.file_of(parsed, pos) {
            Some((f, lines)) => span_in(
                lines,
                f.node.span,
                (pos.line, pos.col, pos.len),
                self.sources,
            ),
            None => fallback,
        }
    }
}

/// Inlines every include of the chart's tree (each `...$include` key the chart prints as an
/// include line) from the ConfigMap's files, and judges the files' contents.
pub fn resolve(
    chart: &ConfMap,
    spans: &Spans,
    files: &BTreeMap<String, DataFile>,
    sources: &Sources,
    fallback: Span,
    deployed: &crate::server_version::Deployed,
) -> Resolved {
    let mut cx = Ctx {
        files,
        sources,
        spans: spans.clone(),
        diags: vec![],
        included: vec![],
    };
    let mut conf = chart.clone();
    let root = format!("{MOUNT}/nats.conf");
    inline(&mut conf, &mut vec![], &root, &mut cx, fallback);
    for (at, key, tree) in std::mem::take(&mut cx.included) {
        judge(&at, &key, &tree, deployed, &mut cx.diags);
    }
    Resolved {
        conf,
        spans: cx.spans,
        diags: cx.diags,
    }
}

fn inline(m: &mut ConfMap, path: &mut Vec<String>, at: &str, cx: &mut Ctx, fallback: Span) {
    let mut items = vec![];
    for item in std::mem::take(&mut m.items) {
        match item {
            Item::Kv(k, Conf::Str(p)) if is_include_key(&k) => {
                path.push(k.clone());
                let site = cx.spans.at(path).unwrap_or(fallback);
                path.pop();
                let p = printed_path(&p);
                match read(&p, at, cx, site) {
                    Some((block, parsed)) => {
                        record(&block, path, &parsed, cx, site);
                        let key = parsed[0]
                            .path
                            .strip_prefix(&format!("{MOUNT}/"))
                            .unwrap_or(&parsed[0].path)
                            .to_string();
                        let tree = as_values(&block, &parsed, cx, site);
                        cx.included.push((path.clone(), key, tree));
                        items.extend(block.to_conf().items);
                    }
                    None => items.push(Item::Include(p)),
                }
            }
            Item::Kv(k, mut v) => {
                path.push(k.clone());
                inline_conf(&mut v, path, at, cx, fallback);
                path.pop();
                items.push(Item::Kv(k, v));
            }
            include @ Item::Include(_) => items.push(include),
        }
    }
    m.items = items;
    last_wins(m);
}

fn inline_conf(c: &mut Conf, path: &mut Vec<String>, at: &str, cx: &mut Ctx, fallback: Span) {
    match c {
        Conf::Map(m) => inline(m, path, at, cx, fallback),
        Conf::List(l) => {
            for (i, x) in l.iter_mut().enumerate() {
                path.push(i.to_string());
                inline_conf(x, path, at, cx, fallback);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Reads one included file, nested includes spliced in; `None` (with a finding) when the
/// server could not, or when it is not natscc's to read.
fn read(include: &str, at: &str, cx: &mut Ctx, site: Span) -> Option<(Block, Vec<natsconf::File>)> {
    let full = natsconf::join(at, include);
    let reader = DataReader { files: cx.files };
    let text = match reader.read(&full) {
        Ok(Found::Text(_, t)) => t,
        Ok(Found::Opaque) => {
            cx.diags.push(
                Diagnostic::new(
                    Code::IncludeUnchecked,
                    format!(
                        "`include {include}` reads \
                         {full}, outside the ConfigMap's folder {MOUNT}: natscc does not see that \
                         file and leaves it unchecked"
                    ),
                )
                .at(site, "include")
                .help(
                    "put the file in the ConfigMap (`configMap.merge.data`) and include it \
                        by its name, so natscc checks it and writes it beside nats.conf",
                ),
            );
            return None;
        }
        Err(e) => {
            cx.diags.push(
                Diagnostic::new(
                    Code::IncludeMissing,
                    format!(
                        "`include {include}` reads {full}, \
                         which the pod does not have: {e}; nats-server refuses to start (\"error \
                         parsing include file\")"
                    ),
                )
                .at(site, "include")
                .help(format!(
                    "add the file to `configMap.merge.data` (the pod's {MOUNT} \
                        holds the ConfigMap's keys and nothing else), or fix the include's name"
                )),
            );
            return None;
        }
    };
    match natsconf::parse_with(&full, &text, &reader, natsconf::Options::default()) {
        Ok(p) => Some((p.root, p.files)),
        Err((e, files)) => {
            let span = cx.span_of(&files, e.pos, site);
            let file = files
                .get(e.pos.file as usize)
                .map_or(full.clone(), |f| f.path.clone());
            cx.diags.push(
                Diagnostic::new(
                    Code::NatsConfSyntax,
                    format!(
                        "nats-server cannot read {file}, included from the config: {}",
                        e.message
                    ),
                )
                .at(span, "here")
                .help("write the file in the NATS config format (`key: value`, blocks in `{ }`)"),
            );
            None
        }
    }
}

/// Records the span of every key an included file puts into the config.
fn record(b: &Block, path: &mut Vec<String>, parsed: &[natsconf::File], cx: &mut Ctx, site: Span) {
    for e in &b.entries {
        if let Entry::Kv {
            key,
            key_pos,
            value,
        } = e
        {
            path.push(key.clone());
            let span = cx.span_of(parsed, *key_pos, site);
            cx.spans.set(path, span);
            record_node(value, path, parsed, cx, site);
            path.pop();
        }
    }
}

fn record_node(
    n: &natsconf::Node,
    path: &mut Vec<String>,
    parsed: &[natsconf::File],
    cx: &mut Ctx,
    site: Span,
) {
    match &n.v {
        Val::Map(b) => record(b, path, parsed, cx, site),
        Val::List(items) => {
            for (i, it) in items.iter().enumerate() {
                path.push(i.to_string());
                let span = cx.span_of(parsed, it.pos, site);
                cx.spans.set(path, span);
                record_node(it, path, parsed, cx, site);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A later key replaces an earlier one, as in the server's maps: an included file's key and
/// the chart's own one of the same name keep only the one written last.
fn last_wins(m: &mut ConfMap) {
    let mut seen = std::collections::BTreeSet::new();
    let mut kept = vec![];
    for item in std::mem::take(&mut m.items).into_iter().rev() {
        match &item {
            Item::Kv(k, _) if !seen.insert(k.to_ascii_lowercase()) => {}
            _ => kept.push(item),
        }
    }
    kept.reverse();
    m.items = kept;
}

/// An included file as a values tree (the form the values rules judge): bare words and
/// variables in the chart's `<< X >>` form, every place the file's own.
fn as_values(b: &Block, parsed: &[natsconf::File], cx: &Ctx, site: Span) -> Node {
    let span = |pos: Pos| cx.span_of(parsed, pos, site);
    natsconf::values::block(
        b,
        &natsconf::values::Placing {
            span: &span,
            empty: site,
            bare: &|_| None,
        },
    )
}

/// The rules of the values, on one included file placed where its include is: options and
/// their kinds as the deployed server reads them, account users and service imports, and
/// passwords or tokens in clear (seeds are found in the values' text already).
fn judge(
    at: &[String],
    key: &str,
    tree: &Node,
    deployed: &crate::server_version::Deployed,
    out: &mut Vec<Diagnostic>,
) {
    let mut placed = tree.clone();
    for k in at.iter().rev() {
        placed = Node {
            span: tree.span,
            v: V::Map(
                vec![YEntry {
                    key: k.clone(),
                    key_span: tree.span,
                    value: placed,
                }]
                .into(),
            ),
        };
    }
    crate::check::server_conf::rendered(&placed, key, deployed, out);
    if let Some(accounts) = placed.get("accounts") {
        let accounts: Vec<crate::check::server_values::Account> = accounts
            .entries()
            .iter()
            .map(|a| crate::check::server_values::Account {
                name: &a.key,
                fields: a.value.entries(),
            })
            .collect();
        crate::check::server_values::user_keys(&accounts, out);
        crate::check::server_values::service_imports(&accounts, out);
    }
    out.extend(crate::check::secrets::passwords(&placed));
}
