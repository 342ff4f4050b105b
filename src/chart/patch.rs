//! The chart's `patch` lists: JSON Patch (add, replace, remove) applied to the finished config,
//! through maps and list items (`/users/0/...`, `-` to append).

use crate::conf::{Conf, ConfMap, from_values};
use crate::load::Node;

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn apply_at(map: &mut ConfMap, toks: &[String], op: &str, value: Option<&Node>) {
    let Some((first, rest)) = toks.split_first() else {
        return;
    };
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
    if let Some(inner) = map.get_mut(first) {
        apply_in(inner, rest, op, value);
    }
}

/// One step down a map or a list (JSON Patch addresses list items by index, `-` past the end).
fn apply_in(c: &mut Conf, toks: &[String], op: &str, value: Option<&Node>) {
    match c {
        Conf::Map(m) => apply_at(m, toks, op, value),
        Conf::List(items) => {
            let Some((first, rest)) = toks.split_first() else {
                return;
            };
            let index = if first == "-" {
                Some(items.len())
            } else {
                first.parse::<usize>().ok().filter(|i| *i <= items.len())
            };
            let Some(i) = index else { return };
            if !rest.is_empty() {
                if let Some(item) = items.get_mut(i) {
                    apply_in(item, rest, op, value);
                }
                return;
            }
            match (op, value) {
                ("add", Some(v)) => items.insert(i, from_values(v)),
                ("replace", Some(v)) if i < items.len() => items[i] = from_values(v),
                ("remove", _) if i < items.len() => {
                    items.remove(i);
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// Applies each operation in order; one whose path does not resolve changes nothing.
pub fn apply(root: &mut ConfMap, patch: &Node) {
    for op in patch.items() {
        let (Some(kind), Some(path)) = (
            op.get("op").and_then(Node::as_str),
            op.get("path").and_then(Node::as_str),
        ) else {
            continue;
        };
        let toks: Vec<String> = path.split('/').skip(1).map(unescape).collect();
        apply_at(root, &toks, kind, op.get("value"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Sources;

    fn node(text: &str) -> Node {
        let mut sources = Sources::default();
        let id = crate::load::add_file(&mut sources, "t.yaml", text.to_string());
        crate::load::yaml::parse(id, &sources).0.unwrap()
    }

    #[test]
    fn list_items_by_index_and_past_the_end() {
        let mut conf = ConfMap::new();
        conf.merge_values(&node(
            "users:\n  - { user: a, permissions: { publish: { deny: ['>'] } } }\n  - { user: b }\n",
        ));
        let patch = node(
            "p:\n- { op: replace, path: /users/0/permissions/publish, value: { allow: [x] } }\n- { \
             op: add, path: /users/-, value: { user: c } }\n- { op: remove, path: /users/1 }\n- { \
             op: add, path: /users/9/user, value: z }\n",
        );
        apply(&mut conf, patch.get("p").unwrap());
        let text = crate::conf::print("t", &conf);
        assert!(
            text.contains("allow: [\"x\"]") && !text.contains("deny"),
            "{text}"
        );
        assert!(
            text.contains("\"a\"")
                && !text.contains("\"b\"")
                && text.contains("\"c\"")
                && !text.contains("\"z\""),
            "{text}"
        );
    }
}
