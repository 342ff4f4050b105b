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
        self.index_inside(&mut prefix.to_vec(), node);
    }
    /// One path grows and shrinks as the walk goes: each place costs one key, not a copy of
    /// the path per step. A map entry is marked by its key's span, a list item by its own.
    fn index_inside(&mut self, path: &mut Vec<String>, node: &Node) {
        match &node.v {
            V::Map(es) => {
                for e in es.iter() {
                    path.push(e.key.clone());
                    self.map.insert(path.clone(), e.key_span);
                    self.index_inside(path, &e.value);
                    path.pop();
                }
            }
            V::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    path.push(i.to_string());
                    self.map.insert(path.clone(), it.span);
                    self.index_inside(path, it);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

pub fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}
