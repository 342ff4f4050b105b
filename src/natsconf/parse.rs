//! One pass over the characters, state by state as nats-server's lexer goes, building the
//! tree directly. Where the server's lexer has a quirk that changes what a value is, the quirk
//! is kept on purpose and named in a comment: the point is to read a file as the server will.

use super::{Block, Entry, File, Found, Node, Options, ParseError, Pos, Reader, Val, join};

pub(super) struct Session<'a> {
    reader: Option<&'a dyn Reader>,
    opts: Options<'a>,
    pub files: Vec<File>,
    /// The chain of files being read, for include cycles.
    pub stack: Vec<String>,
    /// Open blocks, lists and includes around the value being read, across files.
    nest: usize,
}

/// Deepest nesting of blocks, lists and includes read. Far beyond any real config; it keeps
/// the recursive reader (and everything that walks its tree) within the stack on any input.
const MAX_NEST: usize = 100;

impl<'a> Session<'a> {
    pub fn new(reader: Option<&'a dyn Reader>, opts: Options<'a>) -> Self {
        Session {
            reader,
            opts,
            files: vec![],
            stack: vec![],
            nest: 0,
        }
    }

    pub fn parse_file(&mut self, file: usize) -> Result<Block, ParseError> {
        let text = self.files[file].text.clone();
        let mut p = Parser {
            s: self,
            t: &text,
            file: file as u32,
            i: 0,
            line: 1,
            line_start: 0,
            scopes: vec![vec![]],
            referable: referable(&text),
            depth: 0,
        };
        p.top()
    }
}

/// The text after each `$` up to where a bare word ends (`word`'s stops, and the escapes and
/// quotes after which a word is text, not a variable): every name a variable of `text` can
/// have is one of these.
fn referable(text: &str) -> std::collections::HashSet<&str> {
    text.match_indices('$')
        .map(|(i, _)| {
            let rest = &text[i + 1..];
            let end = rest
                .find(|c: char| {
                    is_nl(c) || is_ws(c) || matches!(c, ';' | ',' | ']' | '}' | '\\' | '\'' | '\0')
                })
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    Map,
}

#[derive(Clone, Copy)]
struct Mark {
    i: usize,
    line: u32,
    line_start: usize,
}

struct Parser<'s, 'a, 't> {
    s: &'s mut Session<'a>,
    t: &'t str,
    file: u32,
    i: usize,
    line: u32,
    line_start: usize,
    /// Keys defined so far in each enclosing block, innermost last: what `$NAME` can see.
    /// Only the keys some `$NAME` of this file could name are kept: a copy of every value at
    /// every enclosing level made reading a big config cost its size times its depth.
    scopes: Vec<Vec<(String, Node)>>,
    /// Every name a `$NAME` of this file could read (a superset: see [`referable`]).
    referable: std::collections::HashSet<&'t str>,
    /// Open `{` at the top level (the JSON style the NATS chart renders wraps the file in one).
    depth: usize,
}

type R<T> = Result<T, ParseError>;

fn is_nl(c: char) -> bool {
    c == '\n' || c == '\r'
}
fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t'
}
fn is_suffix(c: char) -> bool {
    matches!(c.to_ascii_lowercase(), 'k' | 'm' | 'g' | 't' | 'p' | 'e')
}
/// Where an integer may end; anything else turns the word into text.
fn is_int_end(c: char) -> bool {
    is_nl(c) || is_ws(c) || matches!(c, '}' | ';' | ',')
}
fn is_bool(w: &str) -> Option<bool> {
    match w.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
fn show(c: Option<char>) -> String {
    match c {
        None => "the end of the file".into(),
        Some('\n') | Some('\r') => "a new line".into(),
        Some(c) => format!("`{c}`"),
    }
}

impl Parser<'_, '_, '_> {
    /// The next character; a NUL reads as the end of the file, as in the server's lexer.
    fn peek(&self) -> Option<char> {
        // Configs are nearly all ASCII: a byte is a char unless it starts a longer one.
        match self.t.as_bytes().get(self.i) {
            None | Some(0) => None,
            Some(&b) if b < 0x80 => Some(b as char),
            Some(_) => self.t[self.i..].chars().next(),
        }
    }
    fn peek2(&self) -> Option<char> {
        self.t[self.i..].chars().nth(1).filter(|c| *c != '\0')
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.line_start = self.i;
        }
        Some(c)
    }
    fn mark(&self) -> Mark {
        Mark {
            i: self.i,
            line: self.line,
            line_start: self.line_start,
        }
    }
    fn pos(&self, m: Mark) -> Pos {
        let col = self.t[m.line_start..m.i].chars().count();
        Pos {
            file: self.file,
            line: m.line,
            col: col as u32,
            offset: m.i as u32,
            len: (self.i - m.i) as u32,
        }
    }
    /// The next character, as a one-character place for an error.
    fn here(&self) -> Pos {
        let mut p = self.pos(self.mark());
        p.len = self.peek().map_or(0, |c| c.len_utf8() as u32);
        p
    }
    fn fail<T>(&self, pos: Pos, message: impl Into<String>) -> R<T> {
        Err(ParseError {
            pos,
            message: message.into(),
        })
    }
    fn is_comment_start(&self) -> bool {
        match self.peek() {
            Some('#') => true,
            Some('/') => self.peek2() == Some('/'),
            _ => false,
        }
    }
    fn comment(&mut self) {
        while self.peek().is_some_and(|c| !is_nl(c)) {
            self.bump();
        }
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.bump();
        }
    }

    fn top(&mut self) -> R<Block> {
        let mut b = Block::default();
        loop {
            match self.peek() {
                None => break,
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                _ if self.is_comment_start() => self.comment(),
                Some('/') => {
                    return self.fail(self.here(), "a lone `/`: comments start with `//` or `#`");
                }
                Some('{') => {
                    self.bump();
                    self.depth += 1;
                }
                Some('}') if self.depth > 0 => {
                    self.bump();
                    self.depth -= 1;
                }
                Some('}') => return self.fail(self.here(), "this `}` closes no block"),
                Some(_) => {
                    self.entry(&mut b, Ctx::Top)?;
                    self.after_top_value()?;
                }
            }
        }
        Ok(b)
    }

    fn after_top_value(&mut self) -> R<()> {
        loop {
            match self.peek() {
                Some(c) if is_ws(c) => {
                    self.bump();
                }
                _ if self.is_comment_start() => self.comment(),
                None => return Ok(()),
                Some(c) if is_nl(c) || c == ';' || c == ',' => {
                    self.bump();
                    return Ok(());
                }
                Some('}') => {
                    self.bump();
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(());
                }
                other => {
                    return self.fail(
                        self.here(),
                        format!(
                            "expected a new line, `;` or `,` after this value, found {}",
                            show(other)
                        ),
                    );
                }
            }
        }
    }

    /// After a value in a block: true when the block's `}` was consumed.
    fn after_map_value(&mut self) -> R<bool> {
        loop {
            match self.peek() {
                Some(c) if is_ws(c) => {
                    self.bump();
                }
                _ if self.is_comment_start() => self.comment(),
                Some(c) if is_nl(c) || c == ';' || c == ',' => {
                    self.bump();
                    return Ok(false);
                }
                Some('}') => {
                    self.bump();
                    return Ok(true);
                }
                other => {
                    return self.fail(
                        self.here(),
                        format!(
                            "expected `,`, `;`, a new line or `}}` after this value, found {}",
                            show(other)
                        ),
                    );
                }
            }
        }
    }

    /// One `key value` or `include path` into `b`.
    fn entry(&mut self, b: &mut Block, ctx: Ctx) -> R<()> {
        let m = self.mark();
        let (key, include) = match self.peek() {
            Some(q @ ('"' | '\'')) => {
                // Quoted keys take no escapes: the text runs to the next quote.
                self.bump();
                let start = self.i;
                loop {
                    match self.bump() {
                        None => return self.fail(self.pos(m), "this quoted key is never closed"),
                        Some(c) if c == q => break,
                        Some(_) => {}
                    }
                }
                (self.t[start..self.i - 1].to_string(), false)
            }
            Some(c @ ('=' | ':')) => {
                return self.fail(self.here(), format!("a key is missing before `{c}`"));
            }
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !(c.is_whitespace() || c == '=' || c == ':'))
                {
                    self.bump();
                }
                if ctx == Ctx::Map && self.peek().is_none() {
                    return self.fail(
                        self.pos(m),
                        "the file ends inside a block: a `}` is missing",
                    );
                }
                let key = &self.t[start..self.i];
                let include = key.eq_ignore_ascii_case("include")
                    && self.peek().is_some_and(char::is_whitespace);
                (key.to_string(), include)
            }
        };
        let key_pos = self.pos(m);
        if include {
            return self.include(b);
        }
        // Between key and separator, new lines are allowed; after a separator only in a block.
        self.skip_space();
        if matches!(self.peek(), Some('=' | ':')) {
            self.bump();
        }
        match ctx {
            Ctx::Map => {
                self.skip_space();
                match self.peek() {
                    Some(',') => {
                        return self
                            .fail(self.here(), format!("`{key}` has no value before this `,`"));
                    }
                    Some('}') => {
                        return self.fail(
                            self.here(),
                            format!("`{key}` has no value before this `}}`"),
                        );
                    }
                    None => {
                        return self.fail(
                            self.pos(m),
                            "the file ends inside a block: a `}` is missing",
                        );
                    }
                    _ => {}
                }
            }
            _ => {
                self.skip_ws();
                if self.peek().is_none() {
                    return self.fail(key_pos, format!("`{key}` has no value"));
                }
            }
        }
        let value = self.value()?;
        self.keep_in_scope(&key, &value);
        b.entries.push(Entry::Kv {
            key,
            key_pos,
            value,
        });
        Ok(())
    }

    /// The path of an include: quoted, or bare up to the end of the line, a `;` or a `}`.
    fn include_path(&mut self, m: Mark) -> R<String> {
        Ok(match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.bump();
                let start = self.i;
                loop {
                    match self.bump() {
                        None => return self.fail(self.pos(m), "this include path is never closed"),
                        Some(c) if c == q => break,
                        Some(_) => {}
                    }
                }
                self.t[start..self.i - 1].to_string()
            }
            Some('[') => return self.fail(self.here(), "an include takes a file path, not a list"),
            Some('{') => {
                return self.fail(self.here(), "an include takes a file path, not a block");
            }
            Some('(') => {
                return self.fail(self.here(), "an include takes a file path, not a `(` block");
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                return self.fail(self.here(), "an include takes a file path, not a number");
            }
            Some('\\') => {
                return self.fail(self.here(), "an include path cannot start with an escape");
            }
            Some(c) if is_nl(c) => {
                return self.fail(self.here(), "an include needs its path on the same line");
            }
            None => return self.fail(self.here(), "an include needs a path"),
            Some(_) => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !(is_nl(c) || is_ws(c) || c == ';' || c == '}' || c == '\''))
                {
                    self.bump();
                }
                let path = self.t[start..self.i].to_string();
                if self.peek() == Some('\'') {
                    self.bump();
                }
                path
            }
        })
    }

    fn include(&mut self, b: &mut Block) -> R<()> {
        self.skip_ws();
        let m = self.mark();
        let path = self.include_path(m)?;
        let pos = self.pos(m);
        // An optional quoted digest may follow the path (nats-server 2.12+); it is not ours to
        // check.
        self.skip_ws();
        if let Some(q @ ('"' | '\'')) = self.peek() {
            let dm = self.mark();
            self.bump();
            loop {
                match self.bump() {
                    None => return self.fail(self.pos(dm), "this include digest is never closed"),
                    Some(c) if c == q => break,
                    Some(_) => {}
                }
            }
        }
        let Some(reader) = self.s.reader else {
            b.entries.push(Entry::Include { path, pos });
            return Ok(());
        };
        let full = join(&self.s.files[self.file as usize].path, &path);
        let (name, text) = match reader.read(&full) {
            Ok(Found::Text(name, text)) => (name, text),
            Ok(Found::Opaque) => {
                b.entries.push(Entry::Include { path, pos });
                return Ok(());
            }
            Err(e) => {
                return self.fail(
                    pos,
                    format!("cannot read the included file `{path}` (at {full}): {e}"),
                );
            }
        };
        if let Some(at) = self.s.stack.iter().position(|p| *p == name) {
            let mut chain = self.s.stack[at..].to_vec();
            chain.push(name);
            return self.fail(pos, format!("includes form a loop: {}", chain.join(" -> ")));
        }
        let idx = match self
            .s
            .files
            .iter()
            .position(|f| f.path == name && f.text == text)
        {
            Some(i) => i,
            None => {
                self.s.files.push(File {
                    path: name.clone(),
                    text,
                });
                self.s.files.len() - 1
            }
        };
        if self.s.nest >= MAX_NEST {
            return self.fail(
                pos,
                format!(
                    "includes and blocks are nested more than {MAX_NEST} levels deep here; no \
                     server config needs that"
                ),
            );
        }
        self.s.stack.push(name);
        self.s.nest += 1;
        let inner = self.s.parse_file(idx);
        self.s.nest -= 1;
        self.s.stack.pop();
        // The included keys land in this block, where later `$NAME`s can see them.
        for e in inner?.entries {
            if let Entry::Kv { key, value, .. } = &e {
                self.keep_in_scope(key, value);
            }
            b.entries.push(e);
        }
        Ok(())
    }

    fn value(&mut self) -> R<Node> {
        let m = self.mark();
        match self.peek() {
            None => self.fail(self.here(), "expected a value, found the end of the file"),
            Some(c) if is_nl(c) => self.fail(
                self.here(),
                "expected a value on this line, found a new line",
            ),
            Some(c @ ('[' | '{')) => {
                if self.s.nest >= MAX_NEST {
                    return self.fail(
                        self.here(),
                        format!(
                            "blocks and lists are nested more than {MAX_NEST} levels deep here; no \
                             server config needs that"
                        ),
                    );
                }
                self.bump();
                self.s.nest += 1;
                let v = if c == '[' { self.array(m) } else { self.map(m) };
                self.s.nest -= 1;
                v
            }
            Some('\'') => {
                self.bump();
                let start = self.i;
                loop {
                    match self.bump() {
                        None => return self.fail(self.pos(m), "this string is never closed"),
                        Some('\'') => break,
                        Some(_) => {}
                    }
                }
                Ok(Node {
                    v: Val::Str(self.t[start..self.i - 1].to_string()),
                    pos: self.pos(m),
                })
            }
            Some('"') => {
                self.bump();
                // Without an escape or a new line inside, the string is its bytes as written.
                let rest = &self.t.as_bytes()[self.i..];
                let end = rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\\' | b'\n' | 0));
                if let Some(end) = end.filter(|&e| rest[e] == b'"') {
                    let text = self.t[self.i..self.i + end].to_string();
                    self.i += end + 1;
                    return Ok(Node {
                        v: Val::Str(text),
                        pos: self.pos(m),
                    });
                }
                let mut buf = vec![];
                loop {
                    match self.bump() {
                        None => return self.fail(self.pos(m), "this string is never closed"),
                        Some('"') => break,
                        Some('\\') => self.escape(&mut buf)?,
                        Some(c) => buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
                Ok(Node {
                    v: Val::Str(String::from_utf8_lossy(&buf).into_owned()),
                    pos: self.pos(m),
                })
            }
            Some('-') => self.negative(m),
            Some('(') => self.paren_block(m),
            Some(c) if c.is_ascii_digit() => self.number(m),
            Some('.') => self.fail(self.here(), "a number must start with a digit, not `.`"),
            Some(_) => self.word(m, self.i),
        }
    }

    fn escape(&mut self, buf: &mut Vec<u8>) -> R<()> {
        let at = self.here();
        match self.bump() {
            Some('t') => buf.push(b'\t'),
            Some('n') => buf.push(b'\n'),
            Some('r') => buf.push(b'\r'),
            Some('"') => buf.push(b'"'),
            Some('\\') => buf.push(b'\\'),
            Some('x') => {
                let a = self.bump();
                let b = self.bump();
                let hex: String = [a, b].iter().flatten().collect();
                match (a, b) {
                    (Some(a), Some(b)) if !is_nl(a) && !is_nl(b) && hex.len() == 2 => {
                        match u8::from_str_radix(&hex, 16) {
                            Ok(v) => buf.push(v),
                            Err(_) => {
                                return self.fail(
                                    at,
                                    format!(
                                        "expected two hexadecimal digits after `\\x`, found `{hex}`"
                                    ),
                                );
                            }
                        }
                    }
                    _ => return self.fail(at, "expected two hexadecimal digits after `\\x`"),
                }
            }
            other => {
                return self.fail(
                    at,
                    format!(
                        "`\\{}` is not an escape the server knows: use \\xXX, \\t, \\n, \\r, \\\" \
                         or \\\\",
                        other.map(String::from).unwrap_or_default()
                    ),
                );
            }
        }
        Ok(())
    }

    fn array(&mut self, m: Mark) -> R<Node> {
        let mut items = vec![];
        loop {
            match self.peek() {
                None => return self.fail(self.pos(m), "this `[` is never closed"),
                Some(c) if c.is_whitespace() => {
                    self.bump();
                    continue;
                }
                _ if self.is_comment_start() => {
                    self.comment();
                    continue;
                }
                Some(',') => {
                    return self.fail(self.here(), "a list value is missing before this `,`");
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                _ => {}
            }
            items.push(self.value()?);
            let mut end = false;
            loop {
                match self.peek() {
                    Some(c) if is_ws(c) => {
                        self.bump();
                    }
                    _ if self.is_comment_start() => self.comment(),
                    Some(c) if c == ',' || is_nl(c) => {
                        self.bump();
                        break;
                    }
                    Some(']') => {
                        self.bump();
                        end = true;
                        break;
                    }
                    other => {
                        return self.fail(
                            self.here(),
                            format!(
                                "expected `,`, a new line or `]` after a list value, found {}",
                                show(other)
                            ),
                        );
                    }
                }
            }
            if end {
                break;
            }
        }
        Ok(Node {
            v: Val::List(items),
            pos: self.pos(m),
        })
    }

    fn map(&mut self, m: Mark) -> R<Node> {
        self.scopes.push(vec![]);
        let mut b = Block::default();
        loop {
            match self.peek() {
                None => return self.fail(self.pos(m), "this `{` is never closed"),
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ if self.is_comment_start() => self.comment(),
                Some(c @ (']' | ',' | ';')) => {
                    return self.fail(self.here(), format!("expected a key or `}}`, found `{c}`"));
                }
                Some(_) => {
                    self.entry(&mut b, Ctx::Map)?;
                    if self.after_map_value()? {
                        break;
                    }
                }
            }
        }
        self.scopes.pop();
        Ok(Node {
            v: Val::Map(b),
            pos: self.pos(m),
        })
    }

    /// `( ... )` with the `)` alone on its line: raw text.
    fn paren_block(&mut self, m: Mark) -> R<Node> {
        self.bump();
        let start = self.i;
        loop {
            match self.bump() {
                None => {
                    return self.fail(
                        self.pos(m),
                        "this `(` block is never closed: end it with `)` alone on a line",
                    );
                }
                Some(')')
                    if self.t[..self.i - 1].ends_with('\n')
                        && matches!(self.peek(), None | Some('\n')) =>
                {
                    let end = (self.i - 2).max(start);
                    return Ok(Node {
                        v: Val::Str(self.t[start..end].to_string()),
                        pos: self.pos(m),
                    });
                }
                Some(_) => {}
            }
        }
    }

    fn int(&self, m: Mark, start: usize) -> R<i64> {
        let text = &self.t[start..self.i];
        let digits = text.len()
            - text
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-')
                .len();
        text[..digits].parse::<i64>().or_else(|_| {
            self.fail(
                self.pos(m),
                format!("`{text}` is outside the range of a 64-bit integer"),
            )
        })
    }

    fn number(&mut self, m: Mark) -> R<Node> {
        let start = self.i;
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    self.bump();
                }
                Some('-') if self.i - start == 4 => return self.date(m, start),
                Some('-') => {
                    return self.fail(
                        self.here(),
                        "a date must be written in full, as 2006-01-02T15:04:05Z",
                    );
                }
                Some('.') => {
                    self.bump();
                    return self.float(m, start);
                }
                Some(c) if is_suffix(c) => {
                    self.bump();
                    return self.sized(m, start);
                }
                None => break,
                Some(c) if is_int_end(c) => break,
                Some(_) => {
                    // Not a number after all: the server reads the whole word as text, and it has
                    // already taken this character, even a `]` (so `[1]` is an unclosed list
                    // there).
                    self.bump();
                    return self.word(m, start);
                }
            }
        }
        Ok(Node {
            v: Val::Int(self.int(m, start)?),
            pos: self.pos(m),
        })
    }

    fn negative(&mut self, m: Mark) -> R<Node> {
        let start = self.i;
        self.bump();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {}
            Some('.') => {
                return self.fail(self.here(), "a number must start with a digit, not `.`");
            }
            other => {
                return self.fail(
                    self.here(),
                    format!("expected a digit after `-`, found {}", show(other)),
                );
            }
        }
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    self.bump();
                }
                Some('.') => {
                    self.bump();
                    return self.float(m, start);
                }
                Some(c) if is_suffix(c) => {
                    self.bump();
                    return self.sized(m, start);
                }
                _ => break,
            }
        }
        Ok(Node {
            v: Val::Int(self.int(m, start)?),
            pos: self.pos(m),
        })
    }

    /// A number with a size suffix (`64K`, `1MB`, `2Gi`): kept as written.
    fn sized(&mut self, m: Mark, start: usize) -> R<Node> {
        while matches!(self.peek(), Some('b' | 'B' | 'i' | 'I')) {
            self.bump();
        }
        match self.peek() {
            None => {}
            Some(c) if is_int_end(c) || c.is_ascii_digit() => {}
            // `10min`, `1k]`: text, read on from here.
            Some(_) => return self.word(m, start),
        }
        self.int(m, start)?;
        Ok(Node {
            v: Val::Bare(self.t[start..self.i].to_string()),
            pos: self.pos(m),
        })
    }

    fn float(&mut self, m: Mark, start: usize) -> R<Node> {
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return self.fail(
                self.here(),
                format!(
                    "a digit must follow the `.` of a number, found {}",
                    show(self.peek())
                ),
            );
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        if self.peek() == Some('.') {
            // A second dot: an IP address (with an optional port), kept as text.
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '-'))
            {
                self.bump();
            }
            return Ok(Node {
                v: Val::Bare(self.t[start..self.i].to_string()),
                pos: self.pos(m),
            });
        }
        let text = &self.t[start..self.i];
        match text.parse::<f64>() {
            Ok(f) => Ok(Node {
                v: Val::Float(f),
                pos: self.pos(m),
            }),
            Err(_) => self.fail(self.pos(m), format!("`{text}` is not a number")),
        }
    }

    fn date(&mut self, m: Mark, start: usize) -> R<Node> {
        self.bump();
        for want in "00-00T00:00:00Z".chars() {
            let c = self.peek();
            let ok = if want == '0' {
                c.is_some_and(|c| c.is_ascii_digit())
            } else {
                c == Some(want)
            };
            if !ok {
                return self.fail(
                    self.here(),
                    format!(
                        "a date must be written in full, as 2006-01-02T15:04:05Z; found {}",
                        show(c)
                    ),
                );
            }
            self.bump();
        }
        Ok(Node {
            v: Val::Bare(self.t[start..self.i].to_string()),
            pos: self.pos(m),
        })
    }

    /// An unquoted word from `start` (which may already hold digits): a string, a boolean or
    /// a variable, ended by a new line, whitespace, `,`, `;`, `]` or `}`.
    fn word(&mut self, m: Mark, start: usize) -> R<Node> {
        // Most words hold no escape and no quote: they are the text up to where they end.
        let bytes = self.t.as_bytes();
        let stop = bytes[self.i..]
            .iter()
            .position(|&b| {
                matches!(
                    b,
                    b'\n' | b'\r' | b' ' | b'\t' | b';' | b',' | b']' | b'}' | b'\\' | b'\'' | 0
                )
            })
            .map_or(bytes.len(), |p| self.i + p);
        let (text, escaped, quote_ended) = if matches!(bytes.get(stop), Some(b'\\' | b'\'')) {
            self.word_with_escapes(start)?
        } else {
            self.i = stop;
            (self.t[start..stop].to_string(), false, false)
        };
        let pos = self.pos(m);
        if escaped || quote_ended {
            return Ok(Node {
                v: Val::Str(text),
                pos,
            });
        }
        if text.is_empty() {
            return self.fail(
                self.here(),
                format!("expected a value, found {}", show(self.peek())),
            );
        }
        if let Some(b) = is_bool(&text) {
            return Ok(Node {
                v: Val::Bool(b),
                pos,
            });
        }
        if let Some(name) = text.strip_prefix('$') {
            return self.variable(name, pos);
        }
        Ok(Node {
            v: Val::Bare(text),
            pos,
        })
    }

    /// `$NAME`: the value of an earlier key in this or an enclosing block, else the environment
    /// when one is given, else a reference left for the pod's environment.
    /// A word with `\\` escapes or ended by a quote, read character by character: its text,
    /// whether it held an escape, and whether a quote ended it.
    fn word_with_escapes(&mut self, start: usize) -> R<(String, bool, bool)> {
        let mut buf: Vec<u8> = self.t.as_bytes()[start..self.i].to_vec();
        let mut escaped = false;
        let mut quote_ended = false;
        loop {
            match self.peek() {
                None => break,
                Some(c) if is_nl(c) || is_ws(c) || matches!(c, ';' | ',' | ']' | '}') => break,
                Some('\\') => {
                    self.bump();
                    escaped = true;
                    self.escape(&mut buf)?;
                }
                Some('\'') => {
                    // The server ends a bare word at a `'`, drops it, and reads the word as text.
                    self.bump();
                    quote_ended = true;
                    break;
                }
                Some(c) => {
                    self.bump();
                    buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
        }
        Ok((
            String::from_utf8_lossy(&buf).into_owned(),
            escaped,
            quote_ended,
        ))
    }

    fn keep_in_scope(&mut self, key: &str, value: &Node) {
        if self.referable.contains(key) {
            let scope = self.scopes.last_mut().expect("a scope");
            scope.push((key.to_string(), value.clone()));
        }
    }
    fn variable(&self, name: &str, pos: Pos) -> R<Node> {
        // The server reads an unquoted bcrypt hash (`$2a$...`) as text, not as a variable.
        if name.starts_with("2a$") {
            return Ok(Node {
                v: Val::Str(format!("${name}")),
                pos,
            });
        }
        for scope in self.scopes.iter().rev() {
            if let Some((_, n)) = scope.iter().rev().find(|(k, _)| k == name) {
                return Ok(Node {
                    v: n.v.clone(),
                    pos,
                });
            }
        }
        if let Some(env) = self.s.opts.env
            && let Some(value) = env(name)
        {
            return match super::parse(&format!("pk={value}")) {
                Ok(b) => match b.get("pk") {
                    Some(n) => Ok(Node {
                        v: n.v.clone(),
                        pos,
                    }),
                    None => self.fail(
                        pos,
                        format!("the environment variable `{name}` holds no value"),
                    ),
                },
                Err(e) => self.fail(
                    pos,
                    format!(
                        "the environment variable `{name}` holds `{value}`, which does not read as \
                         a value: {}",
                        e.message
                    ),
                ),
            };
        }
        Ok(Node {
            v: Val::Var(name.to_string()),
            pos,
        })
    }
}
