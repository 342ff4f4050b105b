//! A config tree read back as the values rules read a values tree (`load::Node`): so the rules
//! of the values judge an included file (plain-chart mode) or a rendered config (the
//! post-renderer) without a second set of rules. Bare words and variables take the chart's
//! `<< X >>` form (the server types them by their word); includes are already inlined.

use super::{Block, Entry, Node, Pos, Val};
use crate::diag::Span;
use crate::load::{self, V};

/// How a caller places and reads what it converts.
pub struct Placing<'a> {
    /// Where a position of the parsed files is, in the caller's sources.
    pub span: &'a dyn Fn(Pos) -> Span,
    /// The place of an empty block.
    pub empty: Span,
    /// What a bare word becomes when it is not `<< word >>` (the post-renderer reads a Go
    /// exponent, `1e+06`, as `null`, as its rule on exponents reports it).
    pub bare: &'a dyn Fn(&str) -> Option<V>,
}

/// A block as a values map, its span that of its first key.
pub fn block(b: &Block, p: &Placing) -> load::Node {
    let entries: Vec<load::Entry> = b
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Kv {
                key,
                key_pos,
                value,
            } => Some(load::Entry {
                key: key.clone(),
                key_span: (p.span)(*key_pos),
                value: node(value, p),
            }),
            Entry::Include { .. } => None,
        })
        .collect();
    let span = entries.first().map_or(p.empty, |e| e.key_span);
    load::Node {
        v: V::Map(entries.into()),
        span,
    }
}

/// One value as a values node.
pub fn node(n: &Node, p: &Placing) -> load::Node {
    let span = (p.span)(n.pos);
    let v = match &n.v {
        Val::Str(t) => V::Str(t.clone()),
        Val::Var(t) => V::Str(format!("<< ${t} >>")),
        Val::Bare(t) => (p.bare)(t).unwrap_or_else(|| V::Str(format!("<< {t} >>"))),
        Val::Int(i) => V::Int(*i),
        Val::Float(f) => V::Float(*f),
        Val::Bool(b) => V::Bool(*b),
        Val::List(items) => V::Seq(items.iter().map(|i| node(i, p)).collect::<Vec<_>>().into()),
        Val::Map(b) => {
            let mut m = block(b, p);
            m.span = span;
            return m;
        }
    };
    load::Node { v, span }
}
