//! Where each key of a rendered config came from: the span of the value that put it there, by
//! key path. The renderer records them and the rules on the finished config read them, so a
//! finding about nats.conf points at the user's line.

use crate::diag::Span;
use crate::load::{Node, V};
use std::collections::BTreeMap;

/// Spans of the finished config, by key path (list items by index).
#[derive(Debug, Default, Clone)]
pub struct Spans {
    map: BTreeMap<Vec<String>, Span>,
}

impl Spans {
    pub fn set(&mut self, path: &[String], span: Span) {
        self.map.insert(path.to_vec(), span);
    }
    /// The span of a path, or of its nearest ancestor that has one.
    pub fn at(&self, path: &[String]) -> Option<Span> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.map.get(&path[..n]).copied())
    }
    /// Whether this exact path was written by a value.
    pub fn exact(&self, path: &[String]) -> Option<Span> {
        self.map.get(path).copied()
    }
    /// Records a values node and everything inside it under `prefix`.
    pub fn index(&mut self, prefix: &[String], node: &Node) {
        self.set(prefix, node.span);
        match &node.v {
            V::Map(es) => {
                for e in es {
                    let mut p = prefix.to_vec();
                    p.push(e.key.clone());
                    self.index(&p, &e.value);
                    self.map.insert(p, e.key_span);
                }
            }
            V::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    let mut p = prefix.to_vec();
                    p.push(i.to_string());
                    self.index(&p, it);
                }
            }
            _ => {}
        }
    }
}

pub fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}
