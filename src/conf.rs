//! The NATS configuration format: a small tree and a printer that quotes every string,
//! so `$JS.API.>` stays a subject, `4e2` stays text and `true` in a string stays a string.

use crate::load::{Node, V};

#[derive(Debug, Clone, PartialEq)]
pub enum Conf {
    Str(String),
    /// `$NAME`: an environment or config variable, written bare.
    Var(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A size or other token the server parses from a bare word (`2Gi`).
    Bare(String),
    List(Vec<Conf>),
    Map(ConfMap),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfMap {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Kv(String, Conf),
    Include(String),
}

impl ConfMap {
    pub fn new() -> Self {
        ConfMap::default()
    }
    /// Sets a key, replacing an earlier value in place.
    pub fn set(&mut self, key: impl Into<String>, v: Conf) -> &mut Self {
        let key = key.into();
        match self
            .items
            .iter_mut()
            .find(|i| matches!(i, Item::Kv(k, _) if *k == key))
        {
            Some(Item::Kv(_, old)) => *old = v,
            _ => self.items.push(Item::Kv(key, v)),
        }
        self
    }
    pub fn with(mut self, key: impl Into<String>, v: Conf) -> Self {
        self.set(key, v);
        self
    }
    pub fn include(&mut self, path: impl Into<String>) {
        self.items.push(Item::Include(path.into()));
    }
    /// The key-value entries in order, includes left out.
    pub fn entries(&self) -> Vec<(&str, &Conf)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Kv(k, v) => Some((k.as_str(), v)),
                Item::Include(_) => None,
            })
            .collect()
    }
    pub fn get(&self, key: &str) -> Option<&Conf> {
        self.items.iter().find_map(|i| match i {
            Item::Kv(k, v) if k == key => Some(v),
            _ => None,
        })
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Conf> {
        self.items.iter_mut().find_map(|i| match i {
            Item::Kv(k, v) if k == key => Some(v),
            _ => None,
        })
    }
    pub fn remove(&mut self, key: &str) -> Option<Conf> {
        let i = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Kv(k, _) if k == key))?;
        match self.items.remove(i) {
            Item::Kv(_, v) => Some(v),
            Item::Include(_) => None,
        }
    }
    /// A nested block, created empty when missing.
    pub fn block(&mut self, key: &str) -> &mut ConfMap {
        if !matches!(self.get(key), Some(Conf::Map(_))) {
            self.set(key, Conf::Map(ConfMap::new()));
        }
        match self.get_mut(key) {
            Some(Conf::Map(m)) => m,
            _ => unreachable!(),
        }
    }
    /// Deep-merges free-form values (the chart's `merge` blocks): maps merge, the rest replaces.
    /// Keys stay as written, `$include`s too: the chart's printer turns them into `include`
    /// lines (`chart::view::server_view` is what the server then reads).
    pub fn merge_values(&mut self, values: &Node) {
        for e in values.entries() {
            match (&e.value.v, self.get_mut(&e.key)) {
                (V::Map(_), Some(Conf::Map(existing))) => existing.merge_values(&e.value),
                _ => {
                    self.set(e.key.clone(), from_values(&e.value));
                }
            }
        }
    }
}

pub fn s(v: impl Into<String>) -> Conf {
    Conf::Str(v.into())
}
pub fn var(name: &str) -> Conf {
    Conf::Var(name.to_string())
}

/// A values tree to config: strings in the chart's `<< ... >>` form become bare tokens.
pub fn from_values(n: &Node) -> Conf {
    match &n.v {
        V::Null => Conf::Str(String::new()),
        V::Bool(b) => Conf::Bool(*b),
        V::Int(i) => Conf::Int(*i),
        V::Float(f) => Conf::Float(*f),
        V::Str(st) => match st
            .trim()
            .strip_prefix("<<")
            .and_then(|r| r.strip_suffix(">>"))
        {
            Some(inner) => {
                let inner = inner.trim();
                match inner.strip_prefix('$') {
                    Some(name) => Conf::Var(name.to_string()),
                    None => Conf::Bare(inner.to_string()),
                }
            }
            None => Conf::Str(st.clone()),
        },
        V::Seq(items) => Conf::List(items.iter().map(from_values).collect()),
        V::Map(_) => {
            let mut m = ConfMap::new();
            m.merge_values(n);
            Conf::Map(m)
        }
    }
}

/// A size from the values: integers stay numbers, `2Gi`-style words stay bare.
pub fn size(n: Option<&Node>, default: &str) -> Conf {
    match n.map(|n| &n.v) {
        Some(V::Int(i)) => Conf::Int(*i),
        Some(V::Str(st)) if is_size_word(st) => Conf::Bare(st.clone()),
        Some(V::Str(st)) => Conf::Str(st.clone()),
        _ => Conf::Bare(default.to_string()),
    }
}

pub fn is_size_word(st: &str) -> bool {
    let digits = st.bytes().take_while(u8::is_ascii_digit).count();
    let suffix = st[digits..].to_ascii_lowercase();
    digits > 0
        && [
            "", "k", "kb", "ki", "kib", "m", "mb", "mi", "mib", "g", "gb", "gi", "gib", "t", "tb",
            "ti", "tib",
        ]
        .contains(&suffix.as_str())
}

/// Parses a size the way the server does, to bytes.
pub fn size_bytes(c: &Conf) -> Option<i64> {
    match c {
        Conf::Int(i) => Some(*i),
        Conf::Bare(st) | Conf::Str(st) => {
            let digits = st.bytes().take_while(u8::is_ascii_digit).count();
            let n: i64 = st[..digits].parse().ok()?;
            let mult: i64 = match st[digits..].to_ascii_lowercase().as_str() {
                "" => 1,
                "k" => 1000,
                "kb" | "ki" | "kib" => 1024,
                "m" => 1_000_000,
                "mb" | "mi" | "mib" => 1 << 20,
                "g" => 1_000_000_000,
                "gb" | "gi" | "gib" => 1 << 30,
                "t" => 1_000_000_000_000,
                "tb" | "ti" | "tib" => 1 << 40,
                _ => return None,
            };
            n.checked_mul(mult)
        }
        _ => None,
    }
}

fn key_text(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "include" | "true" | "false" | "yes" | "no" | "on" | "off"
        );
    if bare { k.to_string() } else { verbatim(k) }
}

/// Quotes a key or an include path: the server takes those verbatim, without escapes, up to
/// the next quote of the same kind. (Text holding both kinds of quote cannot be written.)
fn verbatim(k: &str) -> String {
    if !k.contains('"') {
        format!("\"{k}\"")
    } else if !k.contains('\'') {
        format!("'{k}'")
    } else {
        quote(k)
    }
}

pub fn quote(st: &str) -> String {
    let mut out = String::with_capacity(st.len() + 2);
    out.push('"');
    for c in st.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // The server knows only \\xXX for other bytes (no \\u).
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes the one-line form of a value (`{ stream: "a.>" }`) into `out`; stops and returns false
/// as soon as it is longer than `limit`, so a long list is never written out whole just to learn
/// that it does not fit on one line.
fn inline_into(v: &Conf, out: &mut String, limit: usize) -> bool {
    match v {
        Conf::List(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !inline_into(item, out, limit) {
                    return false;
                }
            }
            // The server reads `2]` as the text "2]" and leaves the list open: end on a space.
            if matches!(items.last(), Some(Conf::Int(i)) if *i >= 0) {
                out.push(' ');
            }
            out.push(']');
        }
        Conf::Map(m) if !m.items.is_empty() => {
            out.push_str("{ ");
            for (i, item) in m.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    Item::Kv(k, v) => {
                        out.push_str(&key_text(k));
                        out.push_str(": ");
                        if !inline_into(v, out, limit) {
                            return false;
                        }
                    }
                    Item::Include(p) => {
                        out.push_str("include ");
                        out.push_str(&verbatim(p));
                    }
                }
                if out.len() > limit {
                    return false;
                }
            }
            out.push_str(" }");
        }
        other => value_text(other, 0, out),
    }
    out.len() <= limit
}

const INLINE_WIDTH: usize = 88;

fn value_text(v: &Conf, indent: usize, out: &mut String) {
    let non_empty = matches!(v, Conf::List(l) if !l.is_empty())
        || matches!(v, Conf::Map(m) if !m.items.is_empty());
    if non_empty {
        let has_include =
            matches!(v, Conf::Map(m) if m.items.iter().any(|i| matches!(i, Item::Include(_))));
        let mut one_line = String::new();
        if !has_include
            && inline_into(v, &mut one_line, INLINE_WIDTH.saturating_sub(indent * 2))
            && !one_line.contains('\n')
        {
            out.push_str(&one_line);
            return;
        }
    }
    match v {
        Conf::Str(st) => out.push_str(&quote(st)),
        Conf::Var(n) => {
            out.push('$');
            out.push_str(n);
        }
        Conf::Int(i) => out.push_str(&i.to_string()),
        Conf::Float(f) => out.push_str(&crate::load::yaml::format_float(*f)),
        Conf::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Conf::Bare(b) => out.push_str(b),
        Conf::List(items) if items.is_empty() => out.push_str("[]"),
        Conf::List(items) => {
            out.push_str("[\n");
            for i in items {
                pad(indent + 1, out);
                value_text(i, indent + 1, out);
                out.push('\n');
            }
            pad(indent, out);
            out.push(']');
        }
        Conf::Map(m) if m.items.is_empty() => out.push_str("{}"),
        Conf::Map(m) => {
            out.push_str("{\n");
            map_body(m, indent + 1, out);
            pad(indent, out);
            out.push('}');
        }
    }
}

fn pad(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn map_body(m: &ConfMap, indent: usize, out: &mut String) {
    for item in &m.items {
        pad(indent, out);
        match item {
            Item::Include(p) => out.push_str(&format!("include {}", verbatim(p))),
            Item::Kv(k, Conf::Map(inner)) if indent <= 1 && !inner.items.is_empty() => {
                // Top-level blocks and account blocks always open on their own lines.
                out.push_str(&key_text(k));
                out.push_str(" {\n");
                map_body(inner, indent + 1, out);
                pad(indent, out);
                out.push('}');
            }
            Item::Kv(k, v @ Conf::Map(_)) => {
                out.push_str(&key_text(k));
                out.push(' ');
                value_text(v, indent, out);
            }
            Item::Kv(k, v) => {
                out.push_str(&key_text(k));
                out.push_str(": ");
                value_text(v, indent, out);
            }
        }
        out.push('\n');
    }
}

/// Prints a whole file: a header comment and the top-level items.
pub fn print(header: &str, m: &ConfMap) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    map_body(m, 0, &mut out);
    out
}
