//! The closed shape of the NATS chart's values: every key of `config` the chart reads, with its
//! type, walked over the merged values. A key the chart does not read is reported with the
//! place the chart does read that setting; a key of the 0.x chart with its 1.x place.

use crate::chart::keys::{self, K, LEGACY, T, legacy_place};
use crate::diag::{Code, Diagnostic, Sources, suggest};
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
                                Diagnostic::new(
                                    Code::ChartType,
                                    format!("`{here}` {p}, not a {}", e.value.type_name()),
                                )
                                .at(e.value.span, "wrong type")
                                .help(format!("`{here}` {p}")),
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
    let help = if let Some(h) = under_config.as_deref().and_then(keys::retired) {
        h.to_string()
    } else if let (Some(c), "merge" | "patch") = (config_at, e.key.as_str()) {
        // Blocks without a merge of their own: the raw option goes in the top-level one.
        let tls = siblings
            .iter()
            .any(|k| k.name == "tls" && keys::entries(&k.t).iter().any(|t| t.name == e.key));
        let also = if tls {
            format!(" (TLS options in `{at}.tls.{}`)", e.key)
        } else {
            String::new()
        };
        format!(
            "`{at}` has no `{}` of its own: put raw server options in `{c}.{}`{also}",
            e.key, e.key
        )
    } else if !elsewhere.is_empty() {
        format!("the chart reads `{}` at {}", e.key, elsewhere.join(", "))
    } else if let Some(s) = suggest(&e.key, siblings.iter().map(|k| k.name)) {
        format!("did you mean `{at}.{s}`? To set a raw NATS option, put it under `{at}.merge`")
    } else if siblings.iter().any(|k| k.name == "merge") {
        format!("to set a raw NATS option, put it under `{at}.merge`")
    } else {
        format!(
            "the chart reads only {} here",
            siblings
                .iter()
                .map(|k| format!("`{}`", k.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Diagnostic::new(
        Code::IgnoredChartKey,
        format!("the NATS chart does not read `{here}`; Helm drops it without a word"),
    )
    .at(e.key_span, "ignored by the chart")
    .help(help)
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
            Diagnostic::new(
                Code::IgnoredChartKey,
                format!(
                    "the NATS chart 2.12.6 renders nothing from `{config_at}.{key}`; Helm drops it \
                     without a word"
                ),
            )
            .at(e.key_span, "not rendered by this chart release")
            .help(format!(
                "later chart releases read `{key}`; for 2.12.6 set `{config_at}.{instead}`"
            )),
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
        let place = legacy_place(&here).unwrap_or("`config`");
        out.push(
            Diagnostic::new(
                Code::ChartLegacyKey,
                format!(
                    "`{here}` is a key of the 0.x NATS chart; the 1.x chart does not read it and \
                     the setting is lost"
                ),
            )
            .at(e.key_span, "0.x key")
            .help(format!("the 1.x chart reads this at {place}")),
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
                let (msg, help) = if in_url {
                    (
                        format!(
                            "`{at}` is a `<< ... >>` reference, but the chart writes route \
                             credentials inside the route URLs, where it is never unwrapped"
                        ),
                        "give the route credentials literally, or set the routes yourself in \
                         `config.cluster.merge.routes`",
                    )
                } else {
                    (
                        format!(
                            "`{at}` holds `<< ... >>` inside a longer string; the chart unwraps \
                             only a whole value, so nats.conf gets the text literally"
                        ),
                        "make the reference the whole value, or write the text without `<< >>`",
                    )
                };
                out.push(
                    Diagnostic::new(Code::ChartEmbeddedRef, msg)
                        .at(node.span, "not unwrapped")
                        .help(help),
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
        let names: Vec<&str> = siblings.iter().map(|k| k.name).collect();
        let help = match suggest(&e.key, names.iter().copied()) {
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
        .at(e.key_span, "unknown key")
        .help(help)
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
                    Diagnostic::new(
                        Code::ChartRemoteUrl,
                        format!(
                            "`config.leafnodes.remotes[{i}]` has neither `url` nor `urls`; the \
                             chart releases that render remotes fail the render on it (2.12.6 \
                             drops every remote)"
                        ),
                    )
                    .at(remote.span, "remote without a URL")
                    .help("add `url: nats-leaf://host:7422` (or a list under `urls`)"),
                );
            }
        }
    }
    if on("config.cluster.enabled") {
        let user = crate::chart::render::val(root, "config.cluster.routeURLs.user");
        let password = crate::chart::render::val(root, "config.cluster.routeURLs.password");
        if let (Some(one), None) | (None, Some(one)) = (user, password) {
            out.push(
                Diagnostic::new(
                    Code::IgnoredChartKey,
                    "only one of `config.cluster.routeURLs.user` and `password` is set; the chart \
                     writes route credentials only when both are, so neither reaches nats.conf",
                )
                .at(one.span, "half of the route credentials")
                .help(
                    "set both `user` and `password`, or give `config.cluster.merge.authorization` \
                     and the routes yourself",
                ),
            );
        }
    }
}

/// `$tplYaml` and `$tplYamlSpread` maps (the chart's `tplYaml`, run over all its values before
/// any template reads them) in the parts natscc renders: the chart evaluates their text as a
/// Go template with its own helpers, which natscc does not, so it refuses to guess.
fn templates(n: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    match &n.v {
        V::Map(es) => {
            for e in es {
                if e.key == "$tplYaml" || e.key == "$tplYamlSpread" {
                    out.push(
                        Diagnostic::new(
                            Code::ChartTemplate,
                            format!(
                                "`{at}` is a `{}` template: the chart evaluates it with Go \
                                 templates (`tpl`), which natscc does not",
                                e.key
                            ),
                        )
                        .at(e.key_span, "template")
                        .help(
                            "write the value itself; natscc compiles the config from plain values",
                        ),
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
                    Diagnostic::new(Code::ChartType, format!("`{}` {p}", e.key))
                        .at(e.value.span, "wrong type"),
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
            single.v = V::Map(vec![e.clone()]);
            legacy(&single, "", &mut out);
        } else {
            let help = match suggest(&e.key, keys::TOP.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the NATS chart's settings live under `config`; raw server options under \
                         `config.merge`"
                    .into(),
            };
            out.push(
                Diagnostic::new(
                    Code::IgnoredChartKey,
                    format!(
                        "the NATS chart does not read the top-level key `{}`; Helm drops it \
                         without a word",
                        e.key
                    ),
                )
                .at(e.key_span, "ignored by the chart")
                .help(help),
            );
        }
    }
    out
}
