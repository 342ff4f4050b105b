//! Helm's merge rules: maps merge key by key, lists and scalars are replaced whole,
//! and an explicit `null` removes the key.

use super::yaml::{Entry, Node, V};

/// Lays `over` on top of `base`.
pub fn merge(base: Node, over: Node) -> Node {
    match (base.v, over.v) {
        (V::Map(mut base_entries), V::Map(over_entries)) => {
            for oe in over_entries {
                let idx = base_entries.iter().position(|b| b.key == oe.key);
                if oe.value.is_null() {
                    if let Some(i) = idx {
                        base_entries.remove(i);
                    }
                    continue;
                }
                match idx {
                    Some(i) => {
                        let be = base_entries.remove(i);
                        let value = merge(be.value, oe.value);
                        base_entries.insert(i, Entry { key: oe.key, key_span: oe.key_span, value });
                    }
                    None => base_entries.push(Entry { key: oe.key, key_span: oe.key_span, value: strip_nulls(oe.value) }),
                }
            }
            // The map is located where it was last written, so findings about it point at the user's file.
            Node { v: V::Map(base_entries), span: over.span }
        }
        (_, v) => strip_nulls(Node { v, span: over.span }),
    }
}

/// A null inside a newly added map means "no such key", as it does after Helm's coalescing.
fn strip_nulls(n: Node) -> Node {
    match n.v {
        V::Map(es) => {
            Node { v: V::Map(es.into_iter().filter(|e| !e.value.is_null()).map(|e| Entry { value: strip_nulls(e.value), ..e }).collect()), span: n.span }
        }
        other => Node { v: other, span: n.span },
    }
}
