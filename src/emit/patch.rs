//! The chart's `patch` lists: JSON Patch (add, replace, remove) applied to the finished config.

use super::conf::{Conf, ConfMap, from_values};
use crate::load::Node;

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn apply_at(map: &mut ConfMap, toks: &[String], op: &str, value: Option<&Node>) {
    let Some((first, rest)) = toks.split_first() else { return };
    if rest.is_empty() {
        match op {
            "add" => {
                if let Some(v) = value {
                    map.set(first.clone(), from_values(v));
                }
            }
            "replace" => {
                if let (Some(v), true) = (value, map.get(first).is_some()) {
                    map.set(first.clone(), from_values(v));
                }
            }
            "remove" => {
                map.remove(first);
            }
            _ => {}
        }
        return;
    }
    if let Some(Conf::Map(inner)) = map.get_mut(first) {
        apply_at(inner, rest, op, value);
    }
}

/// Applies each operation in order; one whose path does not resolve changes nothing.
pub fn apply(root: &mut ConfMap, patch: &Node) {
    for op in patch.items() {
        let (Some(kind), Some(path)) = (op.get("op").and_then(Node::as_str), op.get("path").and_then(Node::as_str)) else {
            continue;
        };
        let toks: Vec<String> = path.split('/').skip(1).map(unescape).collect();
        apply_at(root, &toks, kind, op.get("value"));
    }
}
