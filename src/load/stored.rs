//! The built-in defaults as parsed trees, stored beside their YAML in a compact binary form.
//!
//! Parsing the chart's 25 KB of default values was half of a small compile; decoding the
//! stored tree costs a few percent of that. Each `.tree` file starts with a hash of the YAML
//! it was made from: a tree that no longer matches its YAML is ignored and the YAML parsed
//! (slower, never wrong), and the `stored_trees_are_current` test fails until
//! `NATSCC_BLESS=1` writes the trees again.

use super::yaml::{Entry, Node, V};
use crate::diag::{SourceId, Sources, Span};

/// Every built-in YAML source with its stored tree, by path under `src/`.
pub const STORED: &[(&str, &str, &[u8], u64)] = &[
    (
        "load/defaults/nats-event-bus.yaml",
        include_str!("defaults/nats-event-bus.yaml"),
        include_bytes!("defaults/nats-event-bus.yaml.tree"),
        text_hash(include_str!("defaults/nats-event-bus.yaml")),
    ),
    (
        "load/defaults/nats.yaml",
        include_str!("defaults/nats.yaml"),
        include_bytes!("defaults/nats.yaml.tree"),
        text_hash(include_str!("defaults/nats.yaml")),
    ),
    (
        "load/defaults/nack.yaml",
        include_str!("defaults/nack.yaml"),
        include_bytes!("defaults/nack.yaml.tree"),
        text_hash(include_str!("defaults/nack.yaml")),
    ),
    (
        "load/defaults/auth-callout.yaml",
        include_str!("defaults/auth-callout.yaml"),
        include_bytes!("defaults/auth-callout.yaml.tree"),
        text_hash(include_str!("defaults/auth-callout.yaml")),
    ),
    (
        "load/defaults/surveyor.yaml",
        include_str!("defaults/surveyor.yaml"),
        include_bytes!("defaults/surveyor.yaml.tree"),
        text_hash(include_str!("defaults/surveyor.yaml")),
    ),
];

/// The tree of a built-in YAML text, added to `sources` under `name`: the stored tree when it
/// matches the text, else the text parsed. Built-in defaults always parse.
pub fn builtin(name: &str, text: &'static str, sources: &mut Sources) -> Node {
    let id = sources.add(crate::diag::Source::new(name, text));
    tree(id, text, sources)
}

/// The tree of a built-in YAML text already added to `sources` as `id`.
pub fn tree(id: SourceId, text: &str, sources: &Sources) -> Node {
    let stored = STORED
        .iter()
        .find(|(_, t, _, _)| *t == text)
        .and_then(|(_, _, tree, hash)| decode(tree, *hash, id));
    stored.unwrap_or_else(|| {
        super::yaml::parse(id, sources)
            .0
            .expect("built-in defaults parse")
    })
}

/// FNV-1a over the YAML text: a staleness check, not a security measure. Computed when natscc
/// is built (the table above is a constant), so checking costs nothing at run time.
pub const fn text_hash(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

pub fn encode(node: &Node, text: &str) -> Vec<u8> {
    let mut out = text_hash(text).to_le_bytes().to_vec();
    put_node(&mut out, node);
    out
}

/// The stored tree, when it was made from the text of hash `text_hash`; spans point into
/// source `src`.
pub fn decode(bytes: &[u8], text_hash: u64, src: SourceId) -> Option<Node> {
    let (hash, rest) = bytes.split_first_chunk::<8>()?;
    if u64::from_le_bytes(*hash) != text_hash {
        return None;
    }
    let mut r = Reader { bytes: rest, src };
    let node = r.node(0)?;
    r.bytes.is_empty().then_some(node)
}

fn put_uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_span(out: &mut Vec<u8>, s: &Span) {
    for n in [s.line, s.col, s.offset, s.len] {
        put_uint(out, u64::from(n));
    }
}

fn put_node(out: &mut Vec<u8>, node: &Node) {
    match &node.v {
        V::Null => out.push(0),
        V::Bool(false) => out.push(1),
        V::Bool(true) => out.push(2),
        V::Int(i) => {
            out.push(3);
            put_uint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        V::Float(f) => {
            out.push(4);
            out.extend_from_slice(&f.to_le_bytes());
        }
        V::Str(s) => {
            out.push(5);
            put_str(out, s);
        }
        V::Seq(items) => {
            out.push(6);
            put_uint(out, items.len() as u64);
            items.iter().for_each(|n| put_node(out, n));
        }
        V::Map(entries) => {
            out.push(7);
            put_uint(out, entries.len() as u64);
            for e in entries.iter() {
                put_str(out, &e.key);
                put_span(out, &e.key_span);
                put_node(out, &e.value);
            }
        }
    }
    put_span(out, &node.span);
}

struct Reader<'a> {
    bytes: &'a [u8],
    src: SourceId,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(*b)
    }
    fn uint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }
    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.uint()?).ok()
    }
    fn str(&mut self) -> Option<String> {
        let len = usize::try_from(self.uint()?).ok()?;
        let (s, rest) = self.bytes.split_at_checked(len)?;
        self.bytes = rest;
        String::from_utf8(s.to_vec()).ok()
    }
    fn span(&mut self) -> Option<Span> {
        Some(Span {
            src: self.src,
            line: self.u32()?,
            col: self.u32()?,
            offset: self.u32()?,
            len: self.u32()?,
        })
    }
    // Stored trees are natscc's own, but a bound keeps a damaged one from recursing away.
    fn node(&mut self, depth: usize) -> Option<Node> {
        if depth > 256 {
            return None;
        }
        let v = match self.byte()? {
            0 => V::Null,
            1 => V::Bool(false),
            2 => V::Bool(true),
            3 => {
                let z = self.uint()?;
                V::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            4 => {
                let (f, rest) = self.bytes.split_first_chunk::<8>()?;
                self.bytes = rest;
                V::Float(f64::from_le_bytes(*f))
            }
            5 => V::Str(self.str()?),
            6 => {
                let n = usize::try_from(self.uint()?).ok()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.node(depth + 1)?);
                }
                V::Seq(items.into())
            }
            7 => {
                let n = usize::try_from(self.uint()?).ok()?;
                let mut entries = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    let key = self.str()?;
                    let key_span = self.span()?;
                    let value = self.node(depth + 1)?;
                    entries.push(Entry {
                        key,
                        key_span,
                        value,
                    });
                }
                V::Map(entries.into())
            }
            _ => return None,
        };
        Some(Node::new(v, self.span()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stored tree is what the YAML parser makes of its text today; `NATSCC_BLESS=1`
    /// writes them again after a change to the defaults or to the parser.
    #[test]
    fn stored_trees_are_current() {
        let bless = std::env::var("NATSCC_BLESS").is_ok_and(|v| v == "1");
        let mut stale = vec![];
        for (path, text, stored, hash) in STORED {
            assert_eq!(*hash, text_hash(text));
            let mut sources = Sources::default();
            let id = sources.add(crate::diag::Source::new(*path, *text));
            let (tree, diags) = super::super::yaml::parse(id, &sources);
            assert!(diags.is_empty(), "{path} parses without findings");
            let tree = tree.expect("built-in defaults parse");
            let fresh = encode(&tree, text);
            assert_eq!(decode(&fresh, *hash, id).as_ref(), Some(&tree), "{path}");
            if fresh != *stored {
                let file = format!("{}/src/{path}.tree", env!("CARGO_MANIFEST_DIR"));
                if bless {
                    std::fs::write(&file, &fresh).unwrap();
                } else {
                    stale.push(file);
                }
            }
        }
        assert!(
            stale.is_empty(),
            "stored trees out of date (run with NATSCC_BLESS=1 and rebuild): {stale:?}"
        );
    }

    #[test]
    fn a_tree_of_other_text_or_damaged_is_not_used() {
        let (_, _, stored, hash) = STORED[2];
        assert!(decode(stored, text_hash("other: text\n"), SourceId(0)).is_none());
        assert!(decode(&stored[..stored.len() - 3], hash, SourceId(0)).is_none());
    }
}
