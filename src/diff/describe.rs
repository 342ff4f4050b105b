//! Words for changes: a changed config key as the bus sees it (an account, a subject crossing
//! between CPC and CSC, a leaf remote, a route, a limit), an identity of permissions.json, and
//! the fields of two JSON specs.

use super::plan::{Change, How};
use super::reload::KeyChange;
use crate::conf::Conf;
use serde_json::Value;
use std::collections::BTreeSet;

/// One sentence about a config change, with its topic.
pub struct Said {
    pub topic: &'static str,
    pub what: String,
}

fn said(topic: &'static str, what: String) -> Said {
    Said { topic, what }
}

/// A config value, short: strings quoted, variables as `$NAME`, lists and maps inline.
pub fn short(c: &Conf) -> String {
    match c {
        Conf::Str(s) => format!("\"{s}\""),
        Conf::Var(v) => format!("${v}"),
        Conf::Int(i) => i.to_string(),
        Conf::Float(f) => f.to_string(),
        Conf::Bool(b) => b.to_string(),
        Conf::Bare(b) => b.clone(),
        Conf::List(l) => format!("[{}]", l.iter().map(short).collect::<Vec<_>>().join(", ")),
        Conf::Map(m) => {
            let items: Vec<String> = m
                .items
                .iter()
                .map(|i| match i {
                    crate::conf::Item::Kv(k, v) => format!("{k}: {}", short(v)),
                    crate::conf::Item::Include(p) => format!("include {p}"),
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn opt(c: &Option<Conf>) -> String {
    c.as_ref().map_or("unset".into(), short)
}

fn text(c: Option<&Conf>) -> Option<String> {
    match c? {
        Conf::Str(s) | Conf::Bare(s) => Some(s.clone()),
        Conf::Var(v) => Some(format!("${v}")),
        other => Some(short(other)),
    }
}

fn map_get<'a>(c: &'a Conf, key: &str) -> Option<&'a Conf> {
    match c {
        Conf::Map(m) => m.get(key),
        _ => None,
    }
}

fn items(c: &Option<Conf>) -> Vec<Conf> {
    match c {
        Some(Conf::List(l)) => l.clone(),
        _ => vec![],
    }
}

/// The sentences for one changed key of a server's config.
pub fn key(k: &KeyChange) -> Vec<Said> {
    let parts: Vec<&str> = k.path.split('.').collect();
    match parts.as_slice() {
        ["accounts", acct] => vec![match (&k.old, &k.new) {
            (None, Some(_)) => said("account", format!("account {acct} added")),
            (Some(_), None) => said("account", format!("account {acct} removed")),
            _ => said(
                "account",
                format!("account {acct}: {} -> {}", opt(&k.old), opt(&k.new)),
            ),
        }],
        ["accounts", acct, "imports"] => list_diff(k, |c, added| import(acct, c, added)),
        ["accounts", acct, "exports"] => list_diff(k, |c, added| export(acct, c, added)),
        ["accounts", acct, "users"] => vec![said(
            "identity",
            format!(
                "users of account {acct}: {} -> {}",
                items(&k.old).len(),
                items(&k.new).len()
            ),
        )],
        ["accounts", acct, rest @ ..] => vec![said(
            "account",
            format!(
                "account {acct} {}: {} -> {}",
                rest.join("."),
                opt(&k.old),
                opt(&k.new)
            ),
        )],
        ["leafnodes", "remotes"] => remotes(k),
        ["cluster", "routes"] => vec![said(
            "route",
            format!(
                "cluster routes: {} -> {} servers",
                items(&k.old).len(),
                items(&k.new).len()
            ),
        )],
        _ => {
            let topic = if k.path.contains("max_") || k.path.contains("limit") {
                "limit"
            } else {
                "setting"
            };
            vec![said(
                topic,
                format!("{}: {} -> {}", k.path, opt(&k.old), opt(&k.new)),
            )]
        }
    }
}

fn remote_account(c: &Conf) -> String {
    text(map_get(c, "account")).unwrap_or_else(|| "$G".into())
}

fn remote_urls(c: &Conf) -> String {
    map_get(c, "urls")
        .or_else(|| map_get(c, "url"))
        .map_or("?".into(), short)
}

/// Leaf remotes by the account they bind: added, removed, or changed (URLs, credentials).
fn remotes(k: &KeyChange) -> Vec<Said> {
    let (old, new) = (items(&k.old), items(&k.new));
    let mut out = vec![];
    for n in &new {
        let acct = remote_account(n);
        match old.iter().find(|o| remote_account(o) == acct) {
            None => out.push(said(
                "leaf remote",
                format!("leaf remote of account {acct} to {} added", remote_urls(n)),
            )),
            Some(o) if o != n => {
                let what = if remote_urls(o) != remote_urls(n) {
                    format!("URLs {} -> {}", remote_urls(o), remote_urls(n))
                } else {
                    format!("{} -> {}", short(o), short(n))
                };
                out.push(said(
                    "leaf remote",
                    format!("leaf remote of account {acct}: {what}"),
                ));
            }
            Some(_) => {}
        }
    }
    for o in old
        .iter()
        .filter(|o| !new.iter().any(|n| remote_account(n) == remote_account(o)))
    {
        out.push(said(
            "leaf remote",
            format!(
                "leaf remote of account {} to {} removed",
                remote_account(o),
                remote_urls(o)
            ),
        ));
    }
    out
}

/// Items added to and removed from a list, each in words.
fn list_diff(k: &KeyChange, words: impl Fn(&Conf, bool) -> Said) -> Vec<Said> {
    let (old, new) = (items(&k.old), items(&k.new));
    let mut out = vec![];
    for c in new.iter().filter(|c| !old.contains(c)) {
        out.push(words(c, true));
    }
    for c in old.iter().filter(|c| !new.contains(c)) {
        out.push(words(c, false));
    }
    if out.is_empty() {
        out.push(said("setting", format!("{}: order changed", k.path)));
    }
    out
}

/// An import into `acct`: messages flow from the exporting account into `acct`; between the
/// CSC and CPC accounts that is a subject crossing the layers.
fn import(acct: &str, c: &Conf, added: bool) -> Said {
    let (kind, src) = ["stream", "service"]
        .iter()
        .find_map(|k| map_get(c, k).map(|s| (*k, s)))
        .unwrap_or(("import", c));
    let from = text(map_get(src, "account")).unwrap_or_else(|| "?".into());
    let subject = text(map_get(src, "subject")).unwrap_or_else(|| "?".into());
    let to = text(map_get(c, "to")).filter(|t| *t != subject);
    let pair = [from.as_str(), acct];
    if pair.contains(&"CSC") && pair.contains(&"CPC") && kind == "stream" {
        let starts = if added { "starts" } else { "stops" };
        let as_name = to
            .map(|t| format!(" ({acct} receives it as `{t}`)"))
            .unwrap_or_default();
        let what = format!("`{subject}` {starts} crossing {from} -> {acct}{as_name}");
        said("crossing", what)
    } else {
        let as_name = to.map(|t| format!(" as `{t}`")).unwrap_or_default();
        let verb = if added { "added" } else { "removed" };
        let what = format!("{kind} import into {acct} from {from}: `{subject}`{as_name} {verb}");
        said("import", what)
    }
}

fn export(acct: &str, c: &Conf, added: bool) -> Said {
    let (kind, subject) = ["stream", "service"]
        .iter()
        .find_map(|k| map_get(c, k).map(|s| (*k, text(Some(s)).unwrap_or_default())))
        .unwrap_or(("export", short(c)));
    let to = map_get(c, "accounts")
        .map(|a| format!(" to {}", short(a)))
        .unwrap_or_default();
    let verb = if added { "added" } else { "removed" };
    said(
        "export",
        format!("{kind} export of {acct}: `{subject}`{to} {verb}"),
    )
}

/// The identities of permissions.json that were added, removed or changed.
pub fn permissions(old: Option<&str>, new: Option<&str>) -> Vec<Change> {
    let parse = |t: Option<&str>| {
        t.and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let (o, n) = (parse(old), parse(new));
    if o == n {
        return vec![];
    }
    let why = "the auth callout re-reads permissions.json within 5 s of the kubelet's update: \
               new connections get it; a connected client keeps what it was granted until it \
               reconnects";
    let mut out = vec![];
    let kinds: BTreeSet<&String> = [&o, &n]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.keys())
        .collect();
    for kind in kinds {
        let (a, b) = (&o[kind.as_str()], &n[kind.as_str()]);
        let names: BTreeSet<&String> = [a, b]
            .iter()
            .filter_map(|v| v.as_object())
            .flat_map(|m| m.keys())
            .collect();
        for name in names {
            let what = match (a.get(name), b.get(name)) {
                (None, Some(_)) => format!("{kind} identity `{name}` added"),
                (Some(_), None) => format!("{kind} identity `{name}` removed"),
                (Some(x), Some(y)) if x != y => {
                    let f: Vec<String> = json_fields(x, y)
                        .into_iter()
                        .map(|(f, a, b)| format!("{f} {a} -> {b}"))
                        .collect();
                    format!("{kind} identity `{name}`: {}", f.join("; "))
                }
                _ => continue,
            };
            out.push(Change {
                part: "auth-callout".into(),
                topic: "permission",
                what,
                how: How::Live,
                why: why.into(),
            });
        }
    }
    out
}

/// The changed leaves of two JSON values: (dotted path, old, new), arrays compared whole.
pub fn json_fields(a: &Value, b: &Value) -> Vec<(String, String, String)> {
    let mut out = vec![];
    walk(a, b, "", &mut out);
    out
}

fn walk(a: &Value, b: &Value, at: &str, out: &mut Vec<(String, String, String)>) {
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for k in keys {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            let (u, v) = (
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            );
            walk(u, v, &path, out);
        }
    } else if let (Value::Array(x), Value::Array(y)) = (a, b)
        && x.len() == y.len()
    {
        for (i, (u, v)) in x.iter().zip(y).enumerate() {
            walk(u, v, &format!("{at}[{i}]"), out);
        }
    } else if a != b {
        let show = |v: &Value| match v {
            Value::Null => "unset".to_string(),
            v => v.to_string(),
        };
        out.push((at.to_string(), show(a), show(b)));
    }
}

/// The top-level keys whose values differ between two JSON texts.
pub fn json_keys_changed(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Value, Value) = (
        serde_json::from_str(a).unwrap_or(Value::Null),
        serde_json::from_str(b).unwrap_or(Value::Null),
    );
    json_fields(&a, &b).into_iter().map(|(f, _, _)| f).collect()
}
