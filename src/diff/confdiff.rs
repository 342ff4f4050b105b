//! The changed keys between two configs as the server reads them (includes inlined): maps are
//! walked key by key, every other value (lists included) compared whole, since nats-server
//! compares lists (routes, remotes, imports) as one option.

use super::reload::KeyChange;
use crate::conf::{Conf, ConfMap};

/// Every changed key of `new` against `old`, in path order.
pub fn key_changes(old: &ConfMap, new: &ConfMap) -> Vec<KeyChange> {
    let mut out = vec![];
    walk(old, new, "", &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// The server reads keys case-insensitively; the chart writes them lower-case.
fn get<'a>(m: &'a ConfMap, key: &str) -> Option<&'a Conf> {
    m.entries()
        .into_iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn walk(old: &ConfMap, new: &ConfMap, at: &str, out: &mut Vec<KeyChange>) {
    let mut keys: Vec<String> = old
        .entries()
        .into_iter()
        .chain(new.entries())
        .map(|(k, _)| k.to_string())
        .collect();
    keys.sort();
    keys.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    for k in keys {
        let path = join(at, &k);
        match (get(old, &k), get(new, &k)) {
            (Some(Conf::Map(a)), Some(Conf::Map(b))) => walk(a, b, &path, out),
            (a, b) if a == b => {}
            (a, b) => out.push(KeyChange {
                path,
                old: a.cloned(),
                new: b.cloned(),
            }),
        }
    }
}
