//! Helm's merge rules: maps merge key by key, lists and scalars are replaced whole,
//! and an explicit `null` removes the key.

use super::yaml::{Entry, Node, V};
use std::sync::Arc;

/// Lays `over` on top of `base`.
pub fn merge(base: Node, over: Node) -> Node {
    match (base.v, over.v) {
        (V::Map(base_entries), V::Map(over_entries)) => {
            let mut base_entries = Arc::unwrap_or_clone(base_entries);
            for oe in Arc::unwrap_or_clone(over_entries) {
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
                        base_entries.insert(
                            i,
                            Entry {
                                key: oe.key,
                                key_span: oe.key_span,
                                value,
                            },
                        );
                    }
                    None => base_entries.push(Entry {
                        key: oe.key,
                        key_span: oe.key_span,
                        value: strip_nulls(oe.value),
                    }),
                }
            }
            // The map is located where it was last written, so findings about it point at the
            // user's file.
            Node {
                v: V::Map(base_entries.into()),
                span: over.span,
            }
        }
        (_, v) => strip_nulls(Node { v, span: over.span }),
    }
}

/// A null inside a newly added map means "no such key", as it does after Helm's coalescing.
fn strip_nulls(n: Node) -> Node {
    match n.v {
        // A map without a null below it is kept as it is, shared.
        V::Map(es) if holds_null(&es) => Node {
            v: V::Map(
                Arc::unwrap_or_clone(es)
                    .into_iter()
                    .filter(|e| !e.value.is_null())
                    .map(|e| Entry {
                        value: strip_nulls(e.value),
                        ..e
                    })
                    .collect::<Vec<_>>()
                    .into(),
            ),
            span: n.span,
        },
        other => Node {
            v: other,
            span: n.span,
        },
    }
}

fn holds_null(es: &[Entry]) -> bool {
    es.iter().any(|e| match &e.value.v {
        V::Null => true,
        V::Map(inner) => holds_null(inner),
        _ => false,
    })
}

/// Helm's merge of the user's own `-f` files and `--set`s among themselves: maps merge key
/// by key, anything else (a `null` too) replaces. The nulls are settled later, against the
/// chart's defaults, by [`coalesce`].
pub fn merge_user(base: Node, over: Node) -> Node {
    match (base.v, over.v) {
        (V::Map(base_entries), V::Map(over_entries)) => {
            let mut base_entries = Arc::unwrap_or_clone(base_entries);
            for oe in Arc::unwrap_or_clone(over_entries) {
                match base_entries.iter().position(|b| b.key == oe.key) {
                    Some(i) => {
                        let be = base_entries.remove(i);
                        let value = merge_user(be.value, oe.value);
                        base_entries.insert(
                            i,
                            Entry {
                                key: oe.key,
                                key_span: oe.key_span,
                                value,
                            },
                        );
                    }
                    None => base_entries.push(oe),
                }
            }
            Node {
                v: V::Map(base_entries.into()),
                span: over.span,
            }
        }
        (_, v) => Node { v, span: over.span },
    }
}

/// How the user's values meet a chart's defaults, as measured with Helm 4.2.3's own engine
/// on the event-bus chart (fixtures/chart-ref has a case for each rule).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// The parent chart's `global`: a user null over a non-null default leaves the default; a
    /// user null over a null default stays null; a default null the user never mentions
    /// reaches the templates only when the user's values name a subchart (`keep`).
    Global { keep: bool },
    /// A subchart's section at the parent's level: the parent's defaults under the user's,
    /// nulls kept for the subchart's own coalescing.
    Merge,
    /// Values over a chart's own defaults (a subchart's, or the chart being rendered): a
    /// null removes a defaulted key and stays where there is no default.
    Chart,
}

/// `default` under `user`, as Helm coalesces them in `mode`; `None` when the key goes away.
/// Keys keep the defaults' order, the user's new keys after them.
pub fn coalesce(user: Option<Node>, default: Option<&Node>, mode: Mode) -> Option<Node> {
    let Some(user) = user else {
        return match (default, mode) {
            (Some(d), Mode::Global { keep: false }) if d.is_null() => None,
            (Some(d), Mode::Global { keep: false }) => Some(strip_nulls(d.clone())),
            (Some(d), _) => Some(d.clone()),
            (None, _) => None,
        };
    };
    let Some(default) = default else {
        return Some(user);
    };
    match (user.v, &default.v, mode) {
        (V::Null, V::Null, _) => Some(Node::new(V::Null, user.span)),
        (V::Null, _, Mode::Global { keep }) => coalesce(None, Some(default), Mode::Global { keep }),
        (V::Null, _, Mode::Chart) => None,
        (V::Null, _, Mode::Merge) => Some(Node::new(V::Null, user.span)),
        (V::Map(user_entries), V::Map(default_entries), _) => {
            let mut user_entries = Arc::unwrap_or_clone(user_entries);
            let mut out: Vec<Entry> =
                Vec::with_capacity(default_entries.len() + user_entries.len());
            for de in default_entries.iter() {
                let theirs = user_entries
                    .iter()
                    .position(|e| e.key == de.key)
                    .map(|i| user_entries.remove(i));
                let (key_span, user_value) = match theirs {
                    Some(e) => (e.key_span, Some(e.value)),
                    None => (de.key_span, None),
                };
                if let Some(value) = coalesce(user_value, Some(&de.value), mode) {
                    out.push(Entry {
                        key: de.key.clone(),
                        key_span,
                        value,
                    });
                }
            }
            out.extend(user_entries);
            Some(Node {
                v: V::Map(out.into()),
                span: user.span,
            })
        }
        (v, _, _) => Some(Node { v, span: user.span }),
    }
}
