//! The closed shape of the NATS chart's values: every key of `config` the chart reads, with its
//! type, walked over the merged values. A key the chart does not read is reported with the
//! place the chart does read that setting; a key of the 0.x chart with its 1.x place.

use crate::chart::keys::{self, K, LEGACY, T, legacy_place};
use crate::diag::{Code, Diagnostic, Sources, Span, suggest};
use crate::load::{Entry, Node, V};

/// Walks a values map against its key table: wrong types (when `typed`) and unknown keys
/// (reported by `unknown`, which gets the entry, its dotted path, the parent's path and the
/// parent's keys).
/// Reports a key the table does not have: (entry, its path, the parent's path, the parent's keys).
type Unknown<'a> = dyn Fn(&Entry, &str, &str, &[K]) -> Diagnostic + 'a;

fn walk(node: &Node, t: &T, at: &str, typed: bool, unknown: &Unknown, out: &mut Vec<Diagnostic>) {
    match t {
        T::List(_) => {
            for (i, item) in node.items().iter().enumerate() {
                walk(
                    item,
                    &T::Map(keys::entries(t)),
                    &format!("{at}[{i}]"),
                    typed,
                    unknown,
                    out,
                );
            }
        }
        T::Map(entries) => {
            for e in node.entries() {
                let here = format!("{at}.{}", e.key);
                match entries.iter().find(|k| k.name == e.key) {
                    Some(k) => {
                        if let Some(p) = typed.then(|| keys::type_problem(&k.t, &e.value)).flatten()
                        {
                            out.push(
                                Finding::Type {
                                    here: &here,
                                    problem: p,
                                    found: e.value.type_name(),
                                    at: e.value.span,
                                }
                                .into(),
                            );
                            continue;
                        }
                        walk(&e.value, &k.t, &here, typed, unknown, out);
                    }
                    None => out.push(unknown(e, &here, at, entries)),
                }
            }
        }
        _ => {}
    }
}

/// The report on a `config` key the chart does not read, with where it does read that setting.
/// `config_at` is the path of the `config` map itself (`config`, or `nats.config` for the event
/// bus's subchart).
pub fn ignored_key(
    e: &Entry,
    here: &str,
    at: &str,
    siblings: &[K],
    config_at: Option<&str>,
) -> Diagnostic {
    let under_config = config_at
        .and_then(|c| here.strip_prefix(c))
        .and_then(|r| r.strip_prefix('.'))
        .map(|r| r.split('[').next().unwrap_or("").to_string());
    let elsewhere = config_at
        .map(|c| keys::places(&e.key, c))
        .unwrap_or_default();
    let instead = if let Some(h) = under_config.as_deref().and_then(keys::retired) {
        Instead::Retired(h)
    } else if let (Some(config), "merge" | "patch") = (config_at, e.key.as_str()) {
        // Blocks without a merge of their own: the raw option goes in the top-level one.
        let tls = siblings
            .iter()
            .any(|k| k.name == "tls" && keys::entries(&k.t).iter().any(|t| t.name == e.key));
        Instead::TopLevel { config, tls }
    } else if !elsewhere.is_empty() {
        Instead::ReadAt(elsewhere)
    } else if let Some(s) = suggest(&e.key, siblings.iter().map(|k| k.name)) {
        Instead::Suggest(s)
    } else if siblings.iter().any(|k| k.name == "merge") {
        Instead::Merge
    } else {
        Instead::Only(siblings.iter().map(|k| k.name).collect())
    };
    Finding::Ignored {
        key: &e.key,
        here,
        at,
        instead,
        key_at: e.key_span,
    }
    .into()
}

/// Walks a `config` map (at `config_at`) for keys the chart does not read; with `typed`, values
/// of the wrong type too. Shared by plain-chart mode and the event bus's NATS subcharts.
pub fn check_config(
    config: &Node,
    config_at: &str,
    typed: bool,
    extra_help: &dyn Fn(&Entry, &str) -> Option<String>,
    out: &mut Vec<Diagnostic>,
) {
    let unknown = |e: &Entry, here: &str, at: &str, siblings: &[K]| {
        let d = ignored_key(e, here, at, siblings, Some(config_at));
        match (extra_help(e, here), d.help.clone()) {
            (Some(extra), Some(h)) => d.help(format!("{h}; {extra}")),
            _ => d,
        }
    };
    walk(config, &keys::CONFIG, config_at, typed, &unknown, out);
    not_rendered(
        config,
        config_at,
        &["lameDuckGracePeriod", "lameDuckDuration"],
        out,
    );
}

/// Keys of the key table that later chart releases read but the 2.12.6 templates never
/// render, with where the same setting goes in 2.12.6.
const NOT_RENDERED: &[(&str, &str)] = &[
    ("lameDuckGracePeriod", "merge.lame_duck_grace_period"),
    ("lameDuckDuration", "merge.lame_duck_duration"),
    ("leafnodes.remotes", "leafnodes.merge.remotes"),
];

/// Reports each of `keys` (dotted, under the `config` map at `config_at`) the values set:
/// the chart 2.12.6 writes nothing for them.
fn not_rendered(config: &Node, config_at: &str, keys: &[&str], out: &mut Vec<Diagnostic>) {
    for (key, instead) in NOT_RENDERED.iter().filter(|(k, _)| keys.contains(k)) {
        let parts: Vec<&str> = key.split('.').collect();
        let (parent, last) = parts.split_at(parts.len() - 1);
        let Some(e) = config
            .path(parent)
            .and_then(|p| p.entries().iter().find(|e| e.key == last[0]))
        else {
            continue;
        };
        if e.value.is_null() {
            continue;
        }
        out.push(
            Finding::NotRendered {
                config_at,
                key,
                instead,
                at: e.key_span,
            }
            .into(),
        );
    }
}

/// Reports each 0.x key at its own line: leaves of a moved block, or the block itself when
/// the table moves it whole (no finer entry below it).
fn legacy(node: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    for e in node.entries() {
        let here = if at.is_empty() {
            e.key.clone()
        } else {
            format!("{at}.{}", e.key)
        };
        let finer = LEGACY
            .iter()
            .any(|(p, _)| p.starts_with(&format!("{here}.")));
        if finer && matches!(e.value.v, V::Map(_)) && !e.value.entries().is_empty() {
            legacy(&e.value, &here, out);
            continue;
        }
        out.push(
            Finding::Legacy {
                place: legacy_place(&here).unwrap_or("`config`"),
                here: &here,
                at: e.key_span,
            }
            .into(),
        );
    }
}

/// Strings that hold `<< ... >>` inside other text: the chart leaves them as they are.
fn embedded_refs(node: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    match &node.v {
        V::Str(t) => {
            let whole = t.trim().starts_with("<<") && t.trim().ends_with(">>");
            // The chart writes the route credentials inside the route URLs, never as a value.
            let in_url = at.starts_with("config.cluster.routeURLs.");
            if (in_url || !whole) && t.contains("<<") && t.contains(">>") {
                out.push(
                    Render::EmbeddedRef {
                        path: at,
                        in_url,
                        at: node.span,
                    }
                    .into(),
                );
            }
        }
        V::Map(es) => es
            .iter()
            .for_each(|e| embedded_refs(&e.value, &format!("{at}.{}", e.key), out)),
        V::Seq(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, n)| embedded_refs(n, &format!("{at}[{i}]"), out)),
        _ => {}
    }
}

/// natscc's own keys are closed too: a typo there silently drops a shortcut.
fn natscc_keys(node: &Node, out: &mut Vec<Diagnostic>) {
    let unknown = |e: &Entry, here: &str, at: &str, siblings: &[K]| {
        Render::NatsccKey {
            key: &e.key,
            here,
            at,
            names: siblings.iter().map(|k| k.name).collect(),
            key_at: e.key_span,
        }
        .into()
    };
    walk(node, &keys::NATSCC, "natscc", false, &unknown, out);
}

/// Values the chart reads but renders in a way that surprises: a remote it refuses, route
/// credentials it drops.
fn rendering(root: &Node, out: &mut Vec<Diagnostic>) {
    let on = |dotted: &str| {
        crate::chart::render::val(root, dotted)
            .and_then(Node::as_bool)
            .unwrap_or(false)
    };
    if on("config.leafnodes.enabled") {
        for (i, remote) in crate::chart::render::val(root, "config.leafnodes.remotes")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let has = |k: &str| {
                remote.get(k).is_some_and(|v| match &v.v {
                    V::Seq(items) => !items.is_empty(),
                    _ => v.scalar_text().is_some_and(|t| !t.is_empty()),
                })
            };
            if !has("url") && !has("urls") {
                out.push(
                    Render::RemoteUrl {
                        index: i,
                        at: remote.span,
                    }
                    .into(),
                );
            }
        }
    }
    if on("config.cluster.enabled") {
        let user = crate::chart::render::val(root, "config.cluster.routeURLs.user");
        let password = crate::chart::render::val(root, "config.cluster.routeURLs.password");
        if let (Some(one), None) | (None, Some(one)) = (user, password) {
            out.push(Render::HalfCredentials { at: one.span }.into());
        }
    }
}

/// `$tplYaml` and `$tplYamlSpread` maps (the chart's `tplYaml`, run over all its values before
/// any template reads them) in the parts natscc renders: the chart evaluates their text as a
/// Go template with its own helpers, which natscc does not, so it refuses to guess.
fn templates(n: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    match &n.v {
        V::Map(es) => {
            for e in es.iter() {
                if e.key == "$tplYaml" || e.key == "$tplYamlSpread" {
                    out.push(
                        Render::Template {
                            path: at,
                            key: &e.key,
                            at: e.key_span,
                        }
                        .into(),
                    );
                } else {
                    templates(&e.value, &format!("{at}.{}", e.key), out);
                }
            }
        }
        V::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                templates(it, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

pub fn check(
    root: &Node,
    _sources: &Sources,
    deployed: &crate::server_version::Deployed,
) -> Vec<Diagnostic> {
    // Seeds anywhere in the values: the chart copies `config.merge` and the rest into nats.conf.
    let mut out = crate::check::secrets::seeds(root);
    out.extend(crate::check::secrets::passwords(root));
    rendering(root, &mut out);
    for key in [
        "config",
        "configMap",
        "tlsCA",
        "nameOverride",
        "fullnameOverride",
    ] {
        if let Some(n) = root.get(key) {
            templates(n, key, &mut out);
        }
    }
    if let Some(n) = root.get("natscc") {
        natscc_keys(n, &mut out);
    }
    if let Some(c) = root.get("config") {
        // Raw server options: keys and kinds as nats-server reads them.
        crate::check::server_conf::config(c, "config", deployed, &mut out);
        embedded_refs(c, "config", &mut out);
        // The event bus reports its subcharts' remotes itself (it writes leaf remotes of its own).
        not_rendered(c, "config", &["leafnodes.remotes"], &mut out);
    }
    for e in root.entries() {
        let shape = match e.key.as_str() {
            "config" => Some(&keys::CONFIG),
            "tlsCA" => Some(&keys::TLS_CA),
            _ => None,
        };
        if let Some(shape) = shape {
            match keys::type_problem(shape, &e.value) {
                Some(p) => out.push(
                    Finding::TopType {
                        key: &e.key,
                        problem: p,
                        at: e.value.span,
                    }
                    .into(),
                ),
                None if e.key == "config" => {
                    check_config(&e.value, "config", true, &|_, _| None, &mut out)
                }
                None => {
                    let unknown = |e: &Entry, here: &str, at: &str, siblings: &[K]| {
                        ignored_key(e, here, at, siblings, None)
                    };
                    walk(&e.value, shape, &e.key, true, &unknown, &mut out);
                }
            }
        } else if keys::TOP.contains(&e.key.as_str()) {
            continue;
        } else if legacy_place(&e.key).is_some() {
            let mut single = Node::map(e.value.span);
            single.v = V::Map(vec![e.clone()].into());
            legacy(&single, "", &mut out);
        } else {
            out.push(
                Finding::TopLevel {
                    key: &e.key,
                    at: e.key_span,
                }
                .into(),
            );
        }
    }
    out
}

/// Where the chart reads a setting given at a key it ignores: what `ignored_key` found.
enum Instead<'a> {
    /// A retired key, with the words the key table keeps for it.
    Retired(&'a str),
    /// `merge` or `patch` in a block without one of its own: the top-level one under
    /// `config` (`tls`: the block's TLS has one).
    TopLevel { config: &'a str, tls: bool },
    /// The places the chart reads that key.
    ReadAt(Vec<String>),
    /// A sibling key of a name like it.
    Suggest(&'a str),
    /// The block's own `merge`.
    Merge,
    /// The keys the chart reads here.
    Only(Vec<&'a str>),
}

/// What the rules on the NATS chart's values find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    Type {
        here: &'a str,
        problem: String,
        found: &'a str,
        at: Span,
    },
    TopType {
        key: &'a str,
        problem: String,
        at: Span,
    },
    /// A key the chart does not read at `here` (in the block at `at`).
    Ignored {
        key: &'a str,
        here: &'a str,
        at: &'a str,
        instead: Instead<'a>,
        key_at: Span,
    },
    TopLevel {
        key: &'a str,
        at: Span,
    },
    NotRendered {
        config_at: &'a str,
        key: &'a str,
        instead: &'a str,
        at: Span,
    },
    Legacy {
        here: &'a str,
        place: &'a str,
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::Type {
                here,
                problem,
                found,
                at,
            } => Diagnostic::new(
                Code::ChartType,
                format!("`{here}` {problem}, not a {found}"),
            )
            .at(at, "wrong type")
            .help(format!("`{here}` {problem}")),
            Finding::TopType { key, problem, at } => {
                Diagnostic::new(Code::ChartType, format!("`{key}` {problem}")).at(at, "wrong type")
            }
            Finding::Ignored {
                key,
                here,
                at,
                instead,
                key_at,
            } => Diagnostic::new(
                Code::IgnoredChartKey,
                format!("the NATS chart does not read `{here}`; Helm drops it without a word"),
            )
            .at(key_at, "ignored by the chart")
            .help(instead_help(key, at, instead)),
            Finding::TopLevel { key, at } => Diagnostic::new(
                Code::IgnoredChartKey,
                format!(
                    "the NATS chart does not read the top-level key `{key}`; Helm drops it \
                     without a word"
                ),
            )
            .at(at, "ignored by the chart")
            .help(match suggest(key, keys::TOP.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the NATS chart's settings live under `config`; raw server options under \
                         `config.merge`"
                    .into(),
            }),
            Finding::NotRendered {
                config_at,
                key,
                instead,
                at,
            } => Diagnostic::new(
                Code::IgnoredChartKey,
                format!(
                    "the NATS chart 2.12.6 renders nothing from `{config_at}.{key}`; Helm drops it \
                     without a word"
                ),
            )
            .at(at, "not rendered by this chart release")
            .help(format!(
                "later chart releases read `{key}`; for 2.12.6 set `{config_at}.{instead}`"
            )),
            Finding::Legacy { here, place, at } => Diagnostic::new(
                Code::ChartLegacyKey,
                format!(
                    "`{here}` is a key of the 0.x NATS chart; the 1.x chart does not read it and \
                     the setting is lost"
                ),
            )
            .at(at, "0.x key")
            .help(format!("the 1.x chart reads this at {place}")),
        }
    }
}

/// The words for where the chart reads an ignored key's setting.
fn instead_help(key: &str, at: &str, instead: Instead) -> String {
    match instead {
        Instead::Retired(h) => h.to_string(),
        Instead::TopLevel { config, tls } => {
            let also = if tls {
                format!(" (TLS options in `{at}.tls.{key}`)")
            } else {
                String::new()
            };
            format!(
                "`{at}` has no `{key}` of its own: put raw server options in `{config}.{key}`{also}"
            )
        }
        Instead::ReadAt(places) => format!("the chart reads `{key}` at {}", places.join(", ")),
        Instead::Suggest(s) => {
            format!("did you mean `{at}.{s}`? To set a raw NATS option, put it under `{at}.merge`")
        }
        Instead::Merge => format!("to set a raw NATS option, put it under `{at}.merge`"),
        Instead::Only(names) => format!(
            "the chart reads only {} here",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What the rules on values the chart renders in a surprising way find, and on natscc's own
/// keys.
enum Render<'a> {
    /// `<< ... >>` inside a longer string, or (`in_url`) in the route credentials.
    EmbeddedRef {
        path: &'a str,
        in_url: bool,
        at: Span,
    },
    NatsccKey {
        key: &'a str,
        here: &'a str,
        at: &'a str,
        names: Vec<&'a str>,
        key_at: Span,
    },
    RemoteUrl {
        index: usize,
        at: Span,
    },
    HalfCredentials {
        at: Span,
    },
    Template {
        path: &'a str,
        key: &'a str,
        at: Span,
    },
}

impl From<Render<'_>> for Diagnostic {
    fn from(f: Render<'_>) -> Diagnostic {
        match f {
            Render::EmbeddedRef {
                path,
                in_url: true,
                at,
            } => Diagnostic::new(
                Code::ChartEmbeddedRef,
                format!(
                    "`{path}` is a `<< ... >>` reference, but the chart writes route credentials \
                     inside the route URLs, where it is never unwrapped"
                ),
            )
            .at(at, "not unwrapped")
            .help(
                "give the route credentials literally, or set the routes yourself in \
                 `config.cluster.merge.routes`",
            ),
            Render::EmbeddedRef { path, at, .. } => Diagnostic::new(
                Code::ChartEmbeddedRef,
                format!(
                    "`{path}` holds `<< ... >>` inside a longer string; the chart unwraps only a \
                     whole value, so nats.conf gets the text literally"
                ),
            )
            .at(at, "not unwrapped")
            .help("make the reference the whole value, or write the text without `<< >>`"),
            Render::NatsccKey {
                key,
                here,
                at,
                names,
                key_at,
            } => {
                let help = match suggest(key, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "natscc reads {} in `{at}`",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                Diagnostic::new(
                    Code::NatsccKey,
                    format!("`{here}` is not a key natscc reads"),
                )
                .at(key_at, "unknown key")
                .help(help)
            }
            Render::RemoteUrl { index, at } => Diagnostic::new(
                Code::ChartRemoteUrl,
                format!(
                    "`config.leafnodes.remotes[{index}]` has neither `url` nor `urls`; the chart \
                     releases that render remotes fail the render on it (2.12.6 drops every \
                     remote)"
                ),
            )
            .at(at, "remote without a URL")
            .help("add `url: nats-leaf://host:7422` (or a list under `urls`)"),
            Render::HalfCredentials { at } => Diagnostic::new(
                Code::IgnoredChartKey,
                "only one of `config.cluster.routeURLs.user` and `password` is set; the chart \
                 writes route credentials only when both are, so neither reaches nats.conf",
            )
            .at(at, "half of the route credentials")
            .help(
                "set both `user` and `password`, or give `config.cluster.merge.authorization` and \
                 the routes yourself",
            ),
            Render::Template { path, key, at } => Diagnostic::new(
                Code::ChartTemplate,
                format!(
                    "`{path}` is a `{key}` template: the chart evaluates it with Go templates \
                     (`tpl`), which natscc does not"
                ),
            )
            .at(at, "template")
            .help("write the value itself; natscc compiles the config from plain values"),
        }
    }
}
