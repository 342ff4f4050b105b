//! Reading the NATS server configuration format: the inverse of `conf`'s printer.
//!
//! The reader follows nats-server's own lexer (2.15), quirks included, so that what it accepts
//! and how it types a value match what the server does: `include` (resolved relative to the
//! including file, through an injectable [`Reader`]), `$VAR` variables (defined earlier in an
//! enclosing block; otherwise kept as references, as environment variables are only known to
//! the pod), `key: value`, `key = value` and `key value`, blocks, arrays, single- and
//! double-quoted strings, bare words, numbers, sizes (`2Gi`, `64K`), durations (`10s`), dates,
//! booleans (`true`, `yes`, `on`, ...), `#` and `//` comments, and `,` or `;` as separators.
//!
//! The result is a tree whose every key and value keeps its file, line and column ([`Node`]);
//! [`Block::to_conf`] turns it into the printer's [`ConfMap`], so `parse(print(tree)) == tree`.

mod parse;
pub mod values;

use crate::conf::{Conf, ConfMap, Item};

/// Where something was written: a file of the [`Parsed`] set, 1-based line, 0-based character
/// column, byte offset and byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub offset: u32,
    pub len: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    /// `$NAME` that no earlier key defines: an environment reference.
    Var(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An unquoted word the server reads as text or as a size: `2Gi`, `10s`, `MEMORY`, an IP.
    Bare(String),
    List(Vec<Node>),
    Map(Block),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub v: Val,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Kv {
        key: String,
        key_pos: Pos,
        value: Node,
    },
    /// Kept only when no reader resolves includes (or the reader says the file is not ours to
    /// read).
    Include { path: String, pos: Pos },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub entries: Vec<Entry>,
}

impl Block {
    /// The value of a key; the last one wins, as in the server's maps.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().rev().find_map(|e| match e {
            Entry::Kv { key: k, value, .. } if k == key => Some(value),
            _ => None,
        })
    }
    pub fn entry(&self, key: &str) -> Option<(&Pos, &Node)> {
        self.entries.iter().rev().find_map(|e| match e {
            Entry::Kv {
                key: k,
                key_pos,
                value,
            } if k == key => Some((key_pos, value)),
            _ => None,
        })
    }
    pub fn to_conf(&self) -> ConfMap {
        ConfMap {
            items: self
                .entries
                .iter()
                .map(|e| match e {
                    Entry::Kv { key, value, .. } => Item::Kv(key.clone(), value.to_conf()),
                    Entry::Include { path, .. } => Item::Include(path.clone()),
                })
                .collect(),
        }
    }
}

impl Node {
    pub fn to_conf(&self) -> Conf {
        match &self.v {
            Val::Str(s) => Conf::Str(s.clone()),
            Val::Var(s) => Conf::Var(s.clone()),
            Val::Int(i) => Conf::Int(*i),
            Val::Float(f) => Conf::Float(*f),
            Val::Bool(b) => Conf::Bool(*b),
            Val::Bare(s) => Conf::Bare(s.clone()),
            Val::List(items) => Conf::List(items.iter().map(Node::to_conf).collect()),
            Val::Map(b) => Conf::Map(b.to_conf()),
        }
    }
    /// Text as the server reads it: quoted strings and bare words alike.
    pub fn as_text(&self) -> Option<&str> {
        match &self.v {
            Val::Str(s) | Val::Bare(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_block(&self) -> Option<&Block> {
        match &self.v {
            Val::Map(b) => Some(b),
            _ => None,
        }
    }
    pub fn items(&self) -> &[Node] {
        match &self.v {
            Val::List(l) => l,
            _ => &[],
        }
    }
}

/// A syntax error, an unreadable include or an include cycle, at a place in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}

/// What a reader answers for an include.
pub enum Found {
    /// The file's path as it should be named (and resolved further from), and its text.
    Text(String, String),
    /// The file exists but is not ours to read (a Secret volume, say): keep the `include`.
    Opaque,
}

/// Supplies included files. `path` is the include joined to the including file's folder the
/// way the server joins it (an absolute include path is joined too, as the server does).
pub trait Reader {
    fn read(&self, path: &str) -> Result<Found, String>;
}

/// Reads includes from the file system.
pub struct FsReader;

impl Reader for FsReader {
    fn read(&self, path: &str) -> Result<Found, String> {
        crate::input::read_text(std::path::Path::new(path))
            .map(|t| Found::Text(path.to_string(), t))
            .map_err(|e| e.to_string())
    }
}

/// One file of a parse: the root, then each included file in the order first read.
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// A whole configuration with its includes spliced in.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub root: Block,
    pub files: Vec<File>,
}

/// An environment variable's value by name.
pub type EnvLookup = dyn Fn(&str) -> Option<String>;

/// How to treat what the file itself does not define.
#[derive(Default, Clone, Copy)]
pub struct Options<'a> {
    /// Looks up an environment variable; `None` keeps every undefined `$VAR` as a reference.
    pub env: Option<&'a EnvLookup>,
}

/// Parses one text with `include` kept as an item (nothing is read).
pub fn parse(text: &str) -> Result<Block, ParseError> {
    let mut s = parse::Session::new(None, Options::default());
    s.files.push(File {
        path: String::new(),
        text: text.to_string(),
    });
    s.parse_file(0)
}

/// Parses `text` to the printer's tree.
pub fn parse_conf(text: &str) -> Result<ConfMap, ParseError> {
    // A fleet's servers, and a lint run's, mostly get the same files: each text is read once.
    static READ: crate::memo::Memo<String, Result<ConfMap, ParseError>> =
        crate::memo::Memo::new(16 << 20);
    READ.get(text, text.len(), |text| parse(text).map(|b| b.to_conf()))
}

/// The first error of a parse, with the files read up to it (to name the one it is in).
pub type Failed = (ParseError, Vec<File>);

/// Parses a file named `path` holding `text`, reading and splicing its includes through `reader`.
pub fn parse_with(
    path: &str,
    text: &str,
    reader: &dyn Reader,
    opts: Options,
) -> Result<Parsed, Failed> {
    let mut s = parse::Session::new(Some(reader), opts);
    s.files.push(File {
        path: path.to_string(),
        text: text.to_string(),
    });
    s.stack.push(path.to_string());
    match s.parse_file(0) {
        Ok(root) => Ok(Parsed {
            root,
            files: s.files,
        }),
        Err(e) => Err((e, s.files)),
    }
}

/// Joins an include path to the including file's folder as the server does (Go's
/// `filepath.Join(dir, include)`: a leading `/` in the include does not restart the path).
pub fn join(including: &str, include: &str) -> String {
    let dir = match including.rfind('/') {
        Some(0) => "/",
        Some(i) => &including[..i],
        None => ".",
    };
    clean(&format!("{dir}/{include}"))
}

/// Lexical path cleaning (`a/./b/../c` -> `a/c`), as Go's `filepath.Clean`.
pub fn clean(path: &str) -> String {
    let abs = path.starts_with('/');
    let mut parts: Vec<&str> = vec![];
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(l) if *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (abs, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests;
